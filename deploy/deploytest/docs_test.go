// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package deploytest

import (
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	sigsyaml "sigs.k8s.io/yaml"
)

// TestDocsGitOpsOverlayRenders builds the GitOps overlay example of docs/deploy.md, with its
// remote base swapped for the local one, and checks that each of its customisations lands.
func TestDocsGitOpsOverlayRenders(t *testing.T) {
	example := docsYAMLBlock(t, "# clusters/prod/runtime-security/kustomization.yaml\n")
	dir := localKustomization(t, example)
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
	// The example's NetworkPolicy patches follow its endpoints, exactly.
	np := policyFor(t, objs, ds.Spec.Template.Labels)
	if np == nil {
		t.Fatal("no NetworkPolicy")
	}
	var endpoints []string
	for _, ep := range clientEndpoints(t, collectorConfig(t, objs, &ds.Spec.Template.Spec), env) {
		endpoints = append(endpoints, ep)
	}
	checkEgress(t, np.Spec.Egress, endpoints, nil, namespace)
}

// docsYAMLBlock returns the ```yaml block of docs/deploy.md that starts with prefix.
func docsYAMLBlock(t testing.TB, prefix string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot(t), "docs/deploy.md"))
	if err != nil {
		t.Fatal(err)
	}
	var found []string
	for _, part := range strings.Split(string(data), "```yaml\n")[1:] {
		block, _, _ := strings.Cut(part, "```")
		if strings.HasPrefix(block, prefix) {
			found = append(found, block)
		}
	}
	if len(found) != 1 {
		t.Fatalf("docs/deploy.md has %d yaml blocks starting with %q, want 1", len(found), prefix)
	}
	return found[0]
}

// localKustomization writes a kustomization of docs/deploy.md to a temporary directory with its
// remote bases and components (https://github.com/…//deploy/…?ref=…) replaced by this
// repository's, and returns the directory.
func localKustomization(t testing.TB, example string) string {
	t.Helper()
	root := repoRoot(t)
	dir := t.TempDir()
	var lines []string
	for _, l := range strings.Split(example, "\n") {
		switch {
		case strings.HasPrefix(l, "  - https://"):
			_, p, ok := strings.Cut(l, "//deploy/")
			p, _, _ = strings.Cut(p, "?")
			if !ok {
				t.Fatalf("remote reference %q is not in …//deploy/…", l)
			}
			local, err := filepath.Rel(dir, filepath.Join(root, "deploy", p))
			if err != nil {
				t.Fatal(err)
			}
			lines = append(lines, "  - "+local)
		case strings.HasPrefix(l, "  # or the export-file overlay"):
		default:
			lines = append(lines, l)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "kustomization.yaml"), []byte(strings.Join(lines, "\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestDocsNetworkPolicyPatchApplies applies the "Adapting it" patch of docs/deploy.md to the
// default install: the metrics port then admits the new namespace only.
func TestDocsNetworkPolicyPatchApplies(t *testing.T) {
	patch := docsYAMLBlock(t, "patches:\n  # Prometheus runs in `observability`.")
	dir := localKustomization(t, "resources:\n  - https://github.com/x/y//deploy/kubernetes?ref=main\n"+patch)
	objs, err := Build(dir)
	if err != nil {
		t.Fatal(err)
	}
	ds, err := DaemonSet(objs)
	if err != nil {
		t.Fatal(err)
	}
	np := policyFor(t, objs, ds.Spec.Template.Labels)
	if np == nil {
		t.Fatal("no NetworkPolicy")
	}
	if got := np.Spec.Ingress[0].From[0].NamespaceSelector.MatchLabels[namespaceNameLabel]; got != "observability" || len(np.Spec.Ingress[0].From) != 1 {
		t.Errorf("ingress from %+v after the patch, want the observability namespace only", np.Spec.Ingress[0].From)
	}
}

// TestDocsTLSOverlayRenders builds the TLS example of docs/deploy.md: nothing is plaintext in
// either tier, and its mutual-TLS settings are the ones the end-to-end test runs with.
func TestDocsTLSOverlayRenders(t *testing.T) {
	dir := localKustomization(t, docsYAMLBlock(t, "# clusters/prod/runtime-security/kustomization.yaml, with TLS\n"))
	objs, err := Build(dir)
	if err != nil {
		t.Fatal(err)
	}
	pods := collectorPods(t, objs)
	if len(pods) != 2 {
		t.Fatalf("the TLS example should show the gateway tier (agents and gateway), got %d collector pods", len(pods))
	}
	for what, tmpl := range pods {
		c := &tmpl.Spec.Containers[0]
		env := podEnv(t, objs, c)
		for k, want := range mutualTLSEnv {
			if env[k] != want {
				t.Errorf("%s: %s = %q, want %q", what, k, env[k], want)
			}
		}
		if p := plaintext(collectorConfig(t, objs, &tmpl.Spec), env); len(p) > 0 {
			t.Errorf("%s: plaintext: %v", what, p)
		}
	}
}

// TestDocsCertManagerExample: the cert-manager Certificates of docs/deploy.md write the Secrets
// components/tls mounts, and the gateway's names the host the agents dial.
func TestDocsCertManagerExample(t *testing.T) {
	type certificate struct {
		Kind     string `json:"kind"`
		Metadata struct {
			Name      string `json:"name"`
			Namespace string `json:"namespace"`
		} `json:"metadata"`
		Spec struct {
			SecretName string   `json:"secretName"`
			CommonName string   `json:"commonName"`
			DNSNames   []string `json:"dnsNames"`
			Usages     []string `json:"usages"`
			IssuerRef  struct {
				Kind string `json:"kind"`
				Name string `json:"name"`
			} `json:"issuerRef"`
		} `json:"spec"`
	}
	block := docsYAMLBlock(t, "apiVersion: cert-manager.io/v1\nkind: Certificate\n")
	certs := map[string]certificate{}
	for _, doc := range strings.Split(block, "\n---\n") {
		var c certificate
		if err := sigsyaml.UnmarshalStrict([]byte(strings.Replace(doc, "apiVersion: cert-manager.io/v1\n", "", 1)), &c); err != nil {
			t.Fatalf("%v\n%s", err, doc)
		}
		if c.Kind != "Certificate" || c.Metadata.Namespace != namespace || c.Spec.IssuerRef.Name == "" {
			t.Errorf("%s: want a Certificate in %s with an issuerRef", c.Metadata.Name, namespace)
		}
		certs[c.Spec.SecretName] = c
	}
	client, ok := certs[tlsSecret]
	if !ok || !slices.Contains(client.Spec.Usages, "client auth") {
		t.Errorf("no client-auth Certificate writing the Secret %s", tlsSecret)
	}
	server, ok := certs[gatewayTLSSecret]
	if !ok || !slices.Contains(server.Spec.Usages, "server auth") {
		t.Fatalf("no server-auth Certificate writing the Secret %s", gatewayTLSSecret)
	}
	objs := render(t, variantNamed(t, "gateway+tls"))
	ds, err := DaemonSet(objs)
	if err != nil {
		t.Fatal(err)
	}
	host, _, err := net.SplitHostPort(podEnv(t, objs, &ds.Spec.Template.Spec.Containers[0])["GATEWAY_ENDPOINT"])
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(server.Spec.DNSNames, host) {
		t.Errorf("the gateway Certificate names %v; the agents dial %s", server.Spec.DNSNames, host)
	}
}
