// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

//go:build integration

package integration

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/testenv"
)

// TestShippedConfigsValidate: every configuration under distribution/ passes
// `otelcol-runtime-security validate`.
func TestShippedConfigsValidate(t *testing.T) {
	root := testenv.RepoRoot(t)
	bin := testenv.Binary(t, "OTELCOL_BIN", "otelcol-runtime-security")
	configs, _ := filepath.Glob(filepath.Join(root, "distribution", "*.yaml"))
	more, _ := filepath.Glob(filepath.Join(root, "distribution", "*", "*.yaml"))
	configs = append(configs, more...)
	if len(configs) < 4 {
		t.Fatalf("expected the default, demo and gateway configs, found %v", configs)
	}
	for _, c := range configs {
		cmd := exec.Command(bin, "validate", "--config="+c)
		cmd.Env = append(cmd.Environ(), "TETRAGON_ENDPOINT=unix:///var/run/tetragon/tetragon.sock")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("%s does not validate: %v\n%s", c, err, out)
		}
	}
}

// TestBadRulesFileIsRejectedClearly: a rules file with a broken condition fails validation with
// the file, the rule and the field in the message.
func TestBadRulesFileIsRejectedClearly(t *testing.T) {
	dir := t.TempDir()
	rules := testenv.WriteFile(t, dir, "rules.yaml", `
rules:
  - name: my_broken_rule
    description: broken on purpose
    category: execution
    severity: warning
    event: tetragon.process_exec
    condition: attributes["process.executable.name"] == == "bash"
`)
	cfg := testenv.WriteFile(t, dir, "config.yaml", testenv.Expand(`
receivers:
  tetragon:
    grpc:
      endpoint: unix:///var/run/tetragon/tetragon.sock
processors:
  detection:
    rules_files: [{{RULES}}]
exporters:
  debug:
service:
  pipelines:
    logs:
      receivers: [tetragon]
      processors: [detection]
      exporters: [debug]
`, map[string]string{"RULES": rules}))
	out, err := exec.Command(testenv.Binary(t, "OTELCOL_BIN", "otelcol-runtime-security"), "validate", "--config="+cfg).CombinedOutput()
	if err == nil {
		t.Fatalf("a broken rules file validated:\n%s", out)
	}
	for _, want := range []string{"rules.yaml", "my_broken_rule", "condition"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("validation error does not name %q:\n%s", want, out)
		}
	}
}
