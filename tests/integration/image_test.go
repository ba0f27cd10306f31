// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

//go:build integration

package integration

import (
	"debug/elf"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/testenv"
)

// TestImageBuildsOfflineAndRunsAsNonRoot: `make image` with FROM_BINARY=1 builds the scratch image
// with buildah from a locally built static binary (no registry needed); the image runs as uid
// 10001, carries CA certificates, and its default config validates with the binary inside it.
func TestImageBuildsOfflineAndRunsAsNonRoot(t *testing.T) {
	buildah, err := exec.LookPath("buildah")
	if err != nil {
		t.Fatal("buildah not installed: run scripts/install-test-deps.sh")
	}
	root := testenv.RepoRoot(t)
	name, tag := "localhost/otelcol-runtime-security-test", fmt.Sprintf("t%d", time.Now().UnixNano())
	ref := name + ":" + tag
	cmd := exec.Command(filepath.Join(root, "scripts", "build-image.sh"))
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "FROM_BINARY=1", "BUILDER=buildah", "IMAGE="+name, "VERSION="+tag)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build-image.sh: %v\n%s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command(buildah, "rmi", "-f", ref).Run() })

	out, err := exec.Command(buildah, "inspect", "--format", "{{.OCIv1.Config.User}}|{{.OCIv1.Config.Entrypoint}}", ref).Output()
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(string(out)); got != "10001:10001|[/otelcol-runtime-security]" {
		t.Errorf("image user|entrypoint = %q", got)
	}

	ctr, err := exec.Command(buildah, "from", ref).Output()
	if err != nil {
		t.Fatal(err)
	}
	id := strings.TrimSpace(string(ctr))
	t.Cleanup(func() { _ = exec.Command(buildah, "rm", id).Run() })
	mnt, err := exec.Command(buildah, "mount", id).Output()
	if err != nil {
		t.Fatal(err)
	}
	dir := strings.TrimSpace(string(mnt))
	t.Cleanup(func() { _ = exec.Command(buildah, "umount", id).Run() })

	bin := filepath.Join(dir, "otelcol-runtime-security")
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Errorf("the binary in the image is dynamically linked: it cannot run on scratch")
		}
	}
	f.Close()
	if st, err := os.Stat(filepath.Join(dir, "etc", "ssl", "certs", "ca-certificates.crt")); err != nil || st.Size() == 0 {
		t.Errorf("no CA certificates in the image: %v", err)
	}
	v := exec.Command(bin, "validate", "--config="+filepath.Join(dir, "etc", "otelcol-runtime-security", "config.yaml"))
	if out, err := v.CombinedOutput(); err != nil {
		t.Errorf("the image's default config does not validate: %v\n%s", err, out)
	}
}
