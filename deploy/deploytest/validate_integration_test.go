// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

//go:build integration

package deploytest

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
	corev1 "k8s.io/api/core/v1"
)

// otelcolBin is the distribution binary: $OTELCOL_BIN, else bin/otelcol-runtime-security.
// A missing binary fails the test: `make integration` builds it first.
func otelcolBin(t *testing.T) string {
	t.Helper()
	bin := os.Getenv("OTELCOL_BIN")
	if bin == "" {
		bin = filepath.Join(repoRoot(t), "bin", "otelcol-runtime-security")
	}
	if !filepath.IsAbs(bin) {
		bin = filepath.Join(repoRoot(t), bin)
	}
	if st, err := os.Stat(bin); err != nil || st.IsDir() {
		t.Fatalf("collector binary %s not found (set OTELCOL_BIN or run `make build`): %v", bin, err)
	}
	return bin
}

// podLayout maps every directory the pod mounts to a temporary directory.
func podLayout(t *testing.T) PodLayout {
	tmp := t.TempDir()
	return PodLayout{Mounts: map[string]string{
		"/etc/otelcol-runtime-security": filepath.Join(tmp, "etc"),
		storageDir:                      filepath.Join(tmp, "storage"),
		tetragonRunDir:                  filepath.Join(tmp, "run-tetragon"),
		tetragonExport:                  filepath.Join(tmp, "run-cilium-tetragon"),
	}}
}

// validate runs `otelcol-runtime-security validate` on the config files with env.
func validate(t *testing.T, bin string, configs []string, env map[string]string) (string, error) {
	t.Helper()
	args := []string{"validate"}
	for _, c := range configs {
		args = append(args, "--config="+c)
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}
	keys := make([]string, 0, len(env))
	for k := range env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		cmd.Env = append(cmd.Env, k+"="+env[k])
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

// writeVariant writes the collector configuration and the mounted rules of a rendered variant
// into layout and returns the local config paths and the pod environment.
func writeVariant(t *testing.T, v variant, layout PodLayout) ([]string, map[string]string) {
	t.Helper()
	objs := render(t, v)
	ds, err := DaemonSet(objs)
	if err != nil {
		t.Fatal(err)
	}
	return writePod(t, objs, &ds.Spec.Template.Spec, layout)
}

// writeGateway is writeVariant for the gateway Deployment of the gateway variant.
func writeGateway(t *testing.T, v variant, layout PodLayout) ([]string, map[string]string) {
	t.Helper()
	objs := render(t, v)
	gw, err := Deployment(objs, "otelcol-runtime-security-gateway")
	if err != nil {
		t.Fatal(err)
	}
	return writePod(t, objs, &gw.Spec.Template.Spec, layout)
}

func writePod(t *testing.T, objs []Object, ps *corev1.PodSpec, layout PodLayout) ([]string, map[string]string) {
	t.Helper()
	c := &ps.Containers[0]
	files, err := CollectorConfigFiles(objs, ps, c.Name)
	if err != nil {
		t.Fatal(err)
	}
	conf, err := MergeConfig(files)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range Strings(conf, "processors::detection::rules_files") {
		data, err := MountedFile(objs, ps, c, r)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, ConfigFile{Path: r, Data: data})
	}
	local, err := layout.WriteFiles(files)
	if err != nil {
		t.Fatal(err)
	}
	var configs []string
	for i, f := range files {
		if !strings.HasPrefix(f.Path, rulesDir) {
			configs = append(configs, local[i])
		}
	}
	return configs, podEnv(t, objs, c)
}

func TestCollectorValidatesRenderedConfig(t *testing.T) {
	bin := otelcolBin(t)
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			configs, env := writeVariant(t, v, podLayout(t))
			if out, err := validate(t, bin, configs, env); err != nil {
				t.Fatalf("validate %v: %v\n%s", configs, err, out)
			}
			if v.gateway {
				configs, env := writeGateway(t, v, podLayout(t))
				if out, err := validate(t, bin, configs, env); err != nil {
					t.Fatalf("validate gateway %v: %v\n%s", configs, err, out)
				}
			}
		})
	}
}

// TestCollectorValidateRejectsBadConfig shows that `validate` checks our components'
// settings, so that the test above is not vacuous.
func TestCollectorValidateRejectsBadConfig(t *testing.T) {
	bin := otelcolBin(t)
	layout := podLayout(t)
	configs, env := writeVariant(t, variants[0], layout)
	for name, mutate := range map[string]func(string) string{
		"unknown detection field": func(s string) string {
			return strings.Replace(s, "    builtin_rules: true\n", "    builtin_rules: true\n    no_such_field: 1\n", 1)
		},
		"bad tetragon endpoint": func(s string) string {
			return strings.Replace(s, "endpoint: ${env:TETRAGON_ENDPOINT", "endpoint: ftp://tetragon # ", 1)
		},
	} {
		data, err := os.ReadFile(configs[0])
		if err != nil {
			t.Fatal(err)
		}
		bad := mutate(string(data))
		if bad == string(data) {
			t.Fatalf("%s: mutation changed nothing", name)
		}
		p := filepath.Join(t.TempDir(), "bad.yaml")
		if err := os.WriteFile(p, []byte(bad), 0o644); err != nil {
			t.Fatal(err)
		}
		if out, err := validate(t, bin, []string{p}, env); err == nil {
			t.Errorf("%s: validate accepted it\n%s", name, out)
		}
	}
	// A rules file that does not compile is rejected too.
	rules := layout.Local(rulesDir + "/custom-rules.yaml")
	if err := os.WriteFile(rules, []byte("rules:\n  - name: x\n    event: tetragon.process_exec\n    severity: warning\n    condition: NoSuchFunction(1)\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := validate(t, bin, configs, env); err == nil {
		t.Errorf("a broken rules file passed validate\n%s", out)
	}
}

// TestCollectorValidatesHelmConfig validates the configuration the opentelemetry-collector
// chart renders from deploy/helm/values.yaml.
func TestCollectorValidatesHelmConfig(t *testing.T) {
	bin := otelcolBin(t)
	values, conf := helmValues(t)
	layout := podLayout(t)
	data, err := yaml.Marshal(conf.ToStringMap())
	if err != nil {
		t.Fatal(err)
	}
	files := []ConfigFile{{Path: "/etc/otelcol-runtime-security/relay.yaml", Data: data}}
	for _, m := range values["extraManifests"].([]any) {
		s := strings.ReplaceAll(m.(string), "{{ .Release.Namespace }}", "runtime-security")
		var cm corev1.ConfigMap
		decodeInto(t, mustYAML(t, s), &cm)
		for k, v := range cm.Data {
			files = append(files, ConfigFile{Path: rulesDir + "/" + k, Data: []byte(v)})
		}
	}
	local, err := layout.WriteFiles(files)
	if err != nil {
		t.Fatal(err)
	}
	if out, err := validate(t, bin, local[:1], helmEnv(t, values)); err != nil {
		t.Fatalf("validate: %v\n%s", err, out)
	}
}

func mustYAML(t *testing.T, s string) any {
	t.Helper()
	var v any
	if err := yaml.Unmarshal([]byte(s), &v); err != nil {
		t.Fatal(err)
	}
	return v
}

// TestReadmeTenantExampleValidates merges the per-tenant routing example of deploy/README.md
// over the default configuration, as a second --config, and validates it: the documented
// approach works with the components we ship.
func TestReadmeTenantExampleValidates(t *testing.T) {
	bin := otelcolBin(t)
	var fragment, rules string
	for _, b := range readmeYAMLBlocks(t) {
		switch {
		case strings.Contains(b, "logs/team-a:"):
			fragment = b
		case strings.HasPrefix(strings.TrimSpace(b), "overrides:"):
			rules = b
		}
	}
	if fragment == "" || rules == "" {
		t.Fatal("deploy/README.md lacks the tenant configuration or the rules example")
	}
	layout := podLayout(t)
	configs, env := writeVariant(t, variants[0], layout)
	extra, err := layout.WriteFiles([]ConfigFile{
		{Path: "/etc/otelcol-runtime-security/config/team-a.yaml", Data: []byte(fragment)},
		{Path: rulesDir + "/team-a.yaml", Data: []byte(rules)},
	})
	if err != nil {
		t.Fatal(err)
	}
	if out, err := validate(t, bin, append(configs, extra[0]), env); err != nil {
		t.Fatalf("validate: %v\n%s", err, out)
	}
}
