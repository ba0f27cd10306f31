// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package deploytest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.opentelemetry.io/collector/confmap"
	corev1 "k8s.io/api/core/v1"
)

const (
	tlsSecret        = "otelcol-runtime-security-tls"
	gatewayTLSSecret = "otelcol-runtime-security-gateway-tls"
)

// mutualTLSEnv turns on client certificates with components/tls, as docs/deploy.md shows it:
// the collector presents its Secret's certificate, the gateway requires one.
var mutualTLSEnv = map[string]string{
	"TLS_CLIENT_CERT_FILE":   "/etc/otelcol-runtime-security/tls/tls.crt",
	"TLS_CLIENT_KEY_FILE":    "/etc/otelcol-runtime-security/tls/tls.key",
	"GATEWAY_CLIENT_CA_FILE": "/etc/otelcol-runtime-security/gateway-tls/ca.crt",
}

// plaintext lists what in conf (env expanded) would send or serve without TLS: http:// URLs,
// `insecure: true` clients, OTLP receivers without a certificate; and TLS that verifies nothing
// (insecure_skip_verify).
func plaintext(conf *confmap.Conf, env map[string]string) []string {
	var out []string
	for _, kv := range flatten(conf.ToStringMap(), "") {
		key, val := kv[0], ExpandEnv(kv[1], env)
		switch {
		case strings.Contains(strings.ToLower(val), "http://"):
			out = append(out, key+" = "+val)
		case (strings.HasSuffix(key, "::tls::insecure") || strings.HasSuffix(key, "::tls::insecure_skip_verify")) && val == "true":
			out = append(out, key+" = true")
		}
	}
	for _, proto := range []string{"grpc", "http"} {
		prefix := "receivers::otlp::protocols::" + proto
		if conf.IsSet(prefix) && (Str(conf, prefix+"::tls::cert_file") == "" || Str(conf, prefix+"::tls::key_file") == "") {
			out = append(out, prefix+" serves without a TLS certificate")
		}
	}
	return out
}

// TestTLSComponent: with components/tls nothing in the collector pods' configuration is plaintext,
// every exporter verifies its server against a CA mounted from the TLS Secret, and the gateway
// serves its certificate from the gateway's Secret. Without the component the same check finds
// the plaintext endpoints (so it is not vacuous).
func TestTLSComponent(t *testing.T) {
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			objs := render(t, v)
			for what, tmpl := range collectorPods(t, objs) {
				t.Run(what, func(t *testing.T) {
					ps := &tmpl.Spec
					c := &ps.Containers[0]
					conf := collectorConfig(t, objs, ps)
					env := podEnv(t, objs, c)
					plain := plaintext(conf, env)
					if !v.tls {
						if len(plain) == 0 {
							t.Error("found no plaintext endpoint without the TLS component: the check is blind")
						}
						return
					}
					for _, p := range plain {
						t.Errorf("plaintext with components/tls: %s", p)
					}
					checkTLSFiles(t, conf, env, ps, c, what == "gateway")
				})
			}
		})
	}
}

// checkTLSFiles: the CA, client and server certificates the configuration names are files of
// the right Secret's directory mount, and client certificates come as a pair.
func checkTLSFiles(t *testing.T, conf *confmap.Conf, env map[string]string, ps *corev1.PodSpec, c *corev1.Container, gateway bool) {
	t.Helper()
	endpoints := clientEndpoints(t, conf, env)
	if len(endpoints) == 0 {
		t.Fatal("no exporter")
	}
	for id, ep := range endpoints {
		typ, _, _ := strings.Cut(id, "/")
		if typ != "otlp_grpc" && typ != "otlp" && !strings.HasPrefix(ep, "https://") {
			t.Errorf("exporter %s sends to %s, want https://", id, ep)
		}
		tls := "exporters::" + id + "::tls::"
		ca := ExpandEnv(Str(conf, tls+"ca_file"), env)
		if ca == "" {
			t.Errorf("exporter %s has no tls.ca_file: it would trust the image's public CAs instead of yours", id)
		} else if s := secretOf(ps, c, ca); s != tlsSecret {
			t.Errorf("exporter %s tls.ca_file %s is not in the Secret %s's mount (found %q)", id, ca, tlsSecret, s)
		}
		cert, key := ExpandEnv(Str(conf, tls+"cert_file"), env), ExpandEnv(Str(conf, tls+"key_file"), env)
		if (cert == "") != (key == "") {
			t.Errorf("exporter %s: tls.cert_file %q and key_file %q: both or neither", id, cert, key)
		}
	}
	if gateway {
		for _, k := range []string{"cert_file", "key_file"} {
			p := ExpandEnv(Str(conf, "receivers::otlp::protocols::grpc::tls::"+k), env)
			if s := secretOf(ps, c, p); s != gatewayTLSSecret {
				t.Errorf("gateway OTLP receiver tls.%s %q is not in the Secret %s's mount (found %q)", k, p, gatewayTLSSecret, s)
			}
		}
	}
	for _, vol := range ps.Volumes {
		if vol.Secret != nil && vol.Secret.Optional != nil && *vol.Secret.Optional {
			t.Errorf("Secret volume %s is optional: without the certificates the pod must not start", vol.Name)
		}
	}
}

// secretOf returns the Secret whose volume container c mounts (whole, read-only, no subPath)
// at the directory of path, or "".
func secretOf(ps *corev1.PodSpec, c *corev1.Container, path string) string {
	for _, m := range c.VolumeMounts {
		if filepath.Dir(path) != m.MountPath || !m.ReadOnly || m.SubPath != "" {
			continue
		}
		for _, vol := range ps.Volumes {
			if vol.Name == m.Name && vol.Secret != nil && len(vol.Secret.Items) == 0 {
				return vol.Secret.SecretName
			}
		}
	}
	return ""
}

// TestPlaintextCheckRejects: the check finds each kind of plaintext it looks for.
func TestPlaintextCheckRejects(t *testing.T) {
	objs := render(t, variantNamed(t, "gateway+tls"))
	pods := collectorPods(t, objs)
	for what, tmpl := range pods {
		conf := collectorConfig(t, objs, &tmpl.Spec)
		env := podEnv(t, objs, &tmpl.Spec.Containers[0])
		if p := plaintext(conf, env); len(p) > 0 {
			t.Fatalf("%s: %v", what, p)
		}
		var mutations map[string]map[string]any
		if what == "gateway" {
			mutations = map[string]map[string]any{
				"http URL":      {"exporters": map[string]any{"alertmanager": map[string]any{"endpoint": "http://am:9093"}}},
				"skip verify":   {"exporters": map[string]any{"otlp_http/logs": map[string]any{"tls": map[string]any{"insecure_skip_verify": true}}}},
				"no server TLS": {"receivers": map[string]any{"otlp": map[string]any{"protocols": map[string]any{"grpc": map[string]any{"tls": nil}}}}},
			}
		} else {
			mutations = map[string]map[string]any{
				"insecure hop": {"exporters": map[string]any{"otlp_grpc/gateway": map[string]any{"tls": map[string]any{"insecure": true}}}},
			}
		}
		for name, m := range mutations {
			bad := confmap.NewFromStringMap(conf.ToStringMap())
			if err := bad.Merge(confmap.NewFromStringMap(m)); err != nil {
				t.Fatal(err)
			}
			if len(plaintext(bad, env)) == 0 {
				t.Errorf("%s %s: not found", what, name)
			}
		}
	}
}

// TestTLSComponentKeepsYourEndpoints: the component turns the scheme of the endpoints you set
// in your overlay into https and keeps their hosts, ports and paths; https ones stay as they are.
func TestTLSComponentKeepsYourEndpoints(t *testing.T) {
	root := repoRoot(t)
	dir := t.TempDir()
	rel := func(p string) string {
		r, err := filepath.Rel(dir, filepath.Join(root, p))
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	k := "resources:\n  - " + rel("deploy/kubernetes") + "\ncomponents:\n  - " + rel("deploy/kubernetes/components/tls") + `
configMapGenerator:
  - name: otelcol-runtime-security-env
    behavior: merge
    literals:
      - LOGS_OTLP_ENDPOINT=http://loki-gateway.loki:80/otlp/v1/logs
      - ALERTMANAGER_ENDPOINT=https://alertmanager.example.com:8443
`
	if err := os.WriteFile(filepath.Join(dir, "kustomization.yaml"), []byte(k), 0o644); err != nil {
		t.Fatal(err)
	}
	objs, err := Build(dir)
	if err != nil {
		t.Fatal(err)
	}
	cm, err := ConfigMap(objs, "otelcol-runtime-security-env")
	if err != nil {
		t.Fatal(err)
	}
	for key, want := range map[string]string{
		"LOGS_OTLP_ENDPOINT":          "https://loki-gateway.loki:80/otlp/v1/logs",
		"DETECTIONS_OTLP_ENDPOINT":    "https://loki.monitoring:3100/otlp/v1/logs",
		"PROMETHEUS_REMOTE_WRITE_URL": "https://prometheus-operated.monitoring:9090/api/v1/write",
		"ALERTMANAGER_ENDPOINT":       "https://alertmanager.example.com:8443",
	} {
		if got := cm.Data[key]; got != want {
			t.Errorf("%s = %q, want %q", key, got, want)
		}
	}
}
