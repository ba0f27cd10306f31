// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package deploytest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
)

// TestDocsGitOpsOverlayRenders builds the GitOps overlay example of docs/deploy.md, with its
// remote base swapped for the local one, and checks that each of its customisations lands.
func TestDocsGitOpsOverlayRenders(t *testing.T) {
	root := repoRoot(t)
	data, err := os.ReadFile(filepath.Join(root, "docs/deploy.md"))
	if err != nil {
		t.Fatal(err)
	}
	var example string
	for _, part := range strings.Split(string(data), "```yaml\n")[1:] {
		block, _, _ := strings.Cut(part, "```")
		if strings.HasPrefix(block, "# clusters/prod/runtime-security/kustomization.yaml") {
			example = block
		}
	}
	if example == "" {
		t.Fatal("docs/deploy.md has no GitOps overlay example")
	}
	dir := t.TempDir()
	base, err := filepath.Rel(dir, filepath.Join(root, "deploy/kubernetes"))
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, l := range strings.Split(example, "\n") {
		switch {
		case strings.HasPrefix(l, "  - https://"):
			lines = append(lines, "  - "+base)
		case strings.HasPrefix(l, "  # or the export-file overlay"):
		default:
			lines = append(lines, l)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "kustomization.yaml"), []byte(strings.Join(lines, "\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	rules := "rules: []\noverrides:\n  - name: terminal_shell_in_container\n    severity: critical\n"
	if err := os.WriteFile(filepath.Join(dir, "custom-rules.yaml"), []byte(rules), 0o644); err != nil {
		t.Fatal(err)
	}
	objs, err := Build(dir)
	if err != nil {
		t.Fatal(err)
	}
	ds, err := DaemonSet(objs)
	if err != nil {
		t.Fatal(err)
	}
	if img := ds.Spec.Template.Spec.Containers[0].Image; img != "registry.example.com/security/otelcol-runtime-security:0.1.0" {
		t.Errorf("image %q: the images: entry did not apply", img)
	}
	env := podEnv(t, objs, &ds.Spec.Template.Spec.Containers[0])
	if env["CLUSTER_NAME"] != "prod-eu1" || !strings.Contains(env["PROMETHEUS_REMOTE_WRITE_URL"], "mimir") {
		t.Errorf("env ConfigMap merge did not apply: %v", env)
	}
	if env["TETRAGON_ENDPOINT"] == "" {
		t.Error("merge dropped the base's TETRAGON_ENDPOINT")
	}
	cm, err := ConfigMap(objs, "otelcol-runtime-security-rules")
	if err != nil {
		t.Fatal(err)
	}
	if cm.Name != "otelcol-runtime-security-rules" || cm.Data["custom-rules.yaml"] != rules {
		t.Errorf("rules ConfigMap %s not replaced by the overlay's file without hash suffix", cm.Name)
	}
	sm := Find(objs, "ServiceMonitor")[0].Typed.(*monitoringv1.ServiceMonitor)
	pr := Find(objs, "PrometheusRule")[0].Typed.(*monitoringv1.PrometheusRule)
	if sm.Labels["release"] != "kube-prometheus-stack" || pr.Labels["release"] != "kube-prometheus-stack" {
		t.Error("release label patches did not apply")
	}
}
