// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package deploytest

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// instruction is one Dockerfile instruction with its continuation lines joined.
type instruction struct {
	cmd, args string
}

func parseDockerfile(t testing.TB, data string) []instruction {
	t.Helper()
	var out []instruction
	var cur string
	for _, line := range strings.Split(data, "\n") {
		trimmed := strings.TrimSpace(line)
		if cur == "" && (trimmed == "" || strings.HasPrefix(trimmed, "#")) {
			continue
		}
		if strings.HasSuffix(trimmed, "\\") {
			cur += strings.TrimSuffix(trimmed, "\\") + " "
			continue
		}
		cur += trimmed
		cmd, args, _ := strings.Cut(cur, " ")
		out = append(out, instruction{strings.ToUpper(cmd), strings.TrimSpace(args)})
		cur = ""
	}
	return out
}

func TestDockerfile(t *testing.T) {
	root := repoRoot(t)
	data, err := os.ReadFile(filepath.Join(root, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	ins := parseDockerfile(t, string(data))
	var stages [][]instruction
	for _, in := range ins {
		if in.cmd == "FROM" {
			stages = append(stages, nil)
		}
		if len(stages) > 0 {
			stages[len(stages)-1] = append(stages[len(stages)-1], in)
		}
	}
	if len(stages) != 2 {
		t.Fatalf("%d stages, want 2 (build, final)", len(stages))
	}
	build, final := stages[0], stages[1]
	if from := build[0].args; !strings.Contains(from, "golang:${GO_VERSION}") || !strings.Contains(from, "--platform=$BUILDPLATFORM") || !strings.HasSuffix(from, "AS build") {
		t.Errorf("build stage FROM %q: want golang:${GO_VERSION} on $BUILDPLATFORM AS build", from)
	}
	if !strings.Contains(string(data), "ARG GO_VERSION=1.26\n") {
		t.Error("GO_VERSION must default to 1.26 (go.mod's toolchain)")
	}
	var buildCmd string
	for _, in := range build {
		if in.cmd == "RUN" && strings.Contains(in.args, "go build") {
			buildCmd = in.args
		}
	}
	for _, want := range []string{"cd distribution", "CGO_ENABLED=0", "GOOS=${TARGETOS}", "GOARCH=${TARGETARCH}", "-trimpath", "-o /out/otelcol-runtime-security"} {
		if !strings.Contains(buildCmd, want) {
			t.Errorf("go build step %q lacks %q", buildCmd, want)
		}
	}
	if final[0].args != "scratch" && !strings.Contains(final[0].args, "distroless") {
		t.Errorf("final stage FROM %q, want scratch or distroless", final[0].args)
	}
	got := map[string]string{}
	var copies []string
	for _, in := range final {
		if in.cmd == "COPY" {
			copies = append(copies, in.args)
		} else {
			got[in.cmd] = in.args
		}
	}
	if got["USER"] != "10001:10001" {
		t.Errorf("USER %q, want 10001:10001", got["USER"])
	}
	if got["ENTRYPOINT"] != `["/otelcol-runtime-security"]` {
		t.Errorf("ENTRYPOINT %q: the Helm chart runs /<command.name>, so the binary must be /otelcol-runtime-security", got["ENTRYPOINT"])
	}
	if got["CMD"] != `["--config=/etc/otelcol-runtime-security/config.yaml"]` {
		t.Errorf("CMD %q", got["CMD"])
	}
	joined := strings.Join(copies, "\n")
	for _, want := range []string{"/etc/ssl/certs/ca-certificates.crt", " /otelcol-runtime-security", " /etc/otelcol-runtime-security/config.yaml"} {
		if !strings.Contains(joined, want) {
			t.Errorf("final stage copies nothing to %s", strings.TrimSpace(want))
		}
	}
	if _, err := os.Stat(filepath.Join(root, "distribution", "config.yaml")); err != nil {
		t.Errorf("the image's default config: %v", err)
	}
	ignore, err := os.ReadFile(filepath.Join(root, ".dockerignore"))
	if err != nil {
		t.Fatal(err)
	}
	for _, needed := range []string{"distribution", "receiver", "processor", "connector", "internal", "go.mod", "go.sum"} {
		for _, line := range strings.Split(string(ignore), "\n") {
			if strings.TrimSpace(line) == needed {
				t.Errorf(".dockerignore excludes %s, which the build needs", needed)
			}
		}
	}
}

// runBuildImage runs scripts/build-image.sh with PATH holding only sed and the given fake
// builders, each of which appends its arguments to calls.log.
func runBuildImage(t *testing.T, fakes []string, env ...string) (out string, calls []string, err error) {
	t.Helper()
	root := repoRoot(t)
	bin := t.TempDir()
	sed, lerr := exec.LookPath("sed")
	if lerr != nil {
		t.Fatal(lerr)
	}
	if err := os.Symlink(sed, filepath.Join(bin, "sed")); err != nil {
		t.Fatal(err)
	}
	log := filepath.Join(t.TempDir(), "calls.log")
	for _, f := range fakes {
		script := "#!" + bashPath(t) + "\necho \"" + f + " $*\" >> " + log + "\n"
		if err := os.WriteFile(filepath.Join(bin, f), []byte(script), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(bashPath(t), filepath.Join(root, "scripts/build-image.sh"))
	cmd.Env = append([]string{"PATH=" + bin, "HOME=" + t.TempDir()}, env...)
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	err = cmd.Run()
	if data, rerr := os.ReadFile(log); rerr == nil {
		calls = strings.Split(strings.TrimSpace(string(data)), "\n")
	}
	return buf.String(), calls, err
}

func bashPath(t testing.TB) string {
	t.Helper()
	p, err := exec.LookPath("bash")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestBuildImageScript(t *testing.T) {
	t.Run("no builder", func(t *testing.T) {
		out, calls, err := runBuildImage(t, nil)
		if err == nil {
			t.Fatal("succeeded without buildah or podman")
		}
		if !strings.Contains(out, "neither buildah nor podman") || len(calls) != 0 {
			t.Errorf("output %q, calls %v", out, calls)
		}
	})
	t.Run("buildah native", func(t *testing.T) {
		_, calls, err := runBuildImage(t, []string{"buildah", "podman"}, "IMAGE=example.com/ors", "VERSION=1.2.3")
		if err != nil {
			t.Fatal(err)
		}
		want := []string{"buildah build -t example.com/ors:1.2.3 -f Dockerfile ."}
		if strings.Join(calls, "\n") != strings.Join(want, "\n") {
			t.Errorf("calls %q, want %q", calls, want)
		}
	})
	t.Run("podman multi-arch push", func(t *testing.T) {
		_, calls, err := runBuildImage(t, []string{"podman"}, "IMAGE=example.com/ors", "VERSION=1.2.3",
			"PLATFORMS=linux/amd64,linux/arm64", "PUSH=1")
		if err != nil {
			t.Fatal(err)
		}
		want := []string{
			"podman manifest rm example.com/ors:1.2.3",
			"podman build --platform linux/amd64,linux/arm64 --manifest example.com/ors:1.2.3 -f Dockerfile .",
			"podman manifest push --all example.com/ors:1.2.3 docker://example.com/ors:1.2.3",
		}
		if strings.Join(calls, "\n") != strings.Join(want, "\n") {
			t.Errorf("calls %q, want %q", calls, want)
		}
	})
	t.Run("version from builder-config", func(t *testing.T) {
		out, _, err := runBuildImage(t, []string{"buildah"})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(out, "ghcr.io/otelcol-runtime-security/otelcol-runtime-security:") || strings.Contains(out, ":dev") {
			t.Errorf("default image/tag not taken from builder-config.yaml: %q", out)
		}
	})
}
