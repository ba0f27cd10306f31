// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package deploytest

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
)

const namespace = "runtime-security"

// variant is one way of installing the DaemonSet.
type variant struct {
	name string
	// dir is relative to the repository root; for composites it is the overlay the test
	// kustomization builds on.
	dir string
	// components, relative to the repository root, are added by a test kustomization.
	components []string
	fileMode   bool // tetragon/file receiver instead of gRPC
	runAsRoot  bool // components/export-file-root
	scrape     bool // components/metrics-scrape
	gateway    bool // overlays/gateway: forwarding agents and a detection gateway Deployment
	tls        bool // components/tls
}

var variants = []variant{
	{name: "default", dir: "deploy/kubernetes"},
	{name: "base", dir: "deploy/kubernetes/base"},
	{name: "grpc", dir: "deploy/kubernetes/overlays/grpc"},
	{name: "export-file", dir: "deploy/kubernetes/overlays/export-file", fileMode: true},
	{
		name: "export-file+root", dir: "deploy/kubernetes/overlays/export-file", fileMode: true, runAsRoot: true,
		components: []string{"deploy/kubernetes/components/export-file-root"},
	},
	{
		name: "grpc+metrics-scrape", dir: "deploy/kubernetes/overlays/grpc", scrape: true,
		components: []string{"deploy/kubernetes/components/metrics-scrape"},
	},
	{
		name: "export-file+metrics-scrape", dir: "deploy/kubernetes/overlays/export-file", fileMode: true, scrape: true,
		components: []string{"deploy/kubernetes/components/metrics-scrape"},
	},
	{name: "gateway", dir: "deploy/kubernetes/overlays/gateway", gateway: true},
	{
		name: "grpc+tls", dir: "deploy/kubernetes/overlays/grpc", tls: true,
		components: []string{"deploy/kubernetes/components/tls"},
	},
	{
		name: "export-file+metrics-scrape+tls", dir: "deploy/kubernetes/overlays/export-file", fileMode: true, scrape: true, tls: true,
		components: []string{"deploy/kubernetes/components/metrics-scrape", "deploy/kubernetes/components/tls"},
	},
	{
		name: "gateway+tls", dir: "deploy/kubernetes/overlays/gateway", gateway: true, tls: true,
		components: []string{"deploy/kubernetes/components/tls"},
	},
}

// variantNamed returns the variant called name.
func variantNamed(t testing.TB, name string) variant {
	t.Helper()
	for _, v := range variants {
		if v.name == name {
			return v
		}
	}
	t.Fatalf("no variant %q", name)
	return variant{}
}

func repoRoot(t testing.TB) string {
	t.Helper()
	root, err := RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// render builds v; a variant with components is built through a kustomization written to a
// temporary directory that refers to the repository by relative paths (kustomize refuses
// absolute ones).
func render(t testing.TB, v variant) []Object {
	t.Helper()
	root := repoRoot(t)
	dir := filepath.Join(root, v.dir)
	if len(v.components) > 0 {
		tmp := t.TempDir()
		rel := func(p string) string {
			r, err := filepath.Rel(tmp, filepath.Join(root, p))
			if err != nil {
				t.Fatal(err)
			}
			return r
		}
		k := "resources:\n  - " + rel(v.dir) + "\ncomponents:\n"
		for _, c := range v.components {
			k += "  - " + rel(c) + "\n"
		}
		if err := os.WriteFile(filepath.Join(tmp, "kustomization.yaml"), []byte(k), 0o644); err != nil {
			t.Fatal(err)
		}
		dir = tmp
	}
	objs, err := Build(dir)
	if err != nil {
		t.Fatal(err)
	}
	return objs
}

func TestKustomizeRendersStrictObjects(t *testing.T) {
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			objs := render(t, v)
			want := map[string]int{
				"Namespace": 1, "ServiceAccount": 1, "DaemonSet": 1, "Service": 1,
				"ServiceMonitor": 1, "PrometheusRule": 1, "Deployment": 0, "NetworkPolicy": 1,
				// Secrets are the user's (components/tls): none is rendered.
				"Secret": 0,
			}
			if v.gateway {
				want["Service"], want["Deployment"], want["PodDisruptionBudget"], want["NetworkPolicy"] = 2, 1, 1, 2
			}
			for kind, n := range want {
				if got := len(Find(objs, kind)); got != n {
					t.Errorf("%d %s objects, want %d", got, kind, n)
				}
			}
			for _, o := range objs {
				switch o.Kind {
				case "Namespace":
					if o.Name != namespace {
						t.Errorf("Namespace %q, want %q", o.Name, namespace)
					}
				default:
					if o.Namespace != namespace {
						t.Errorf("%s %s is in namespace %q, want %q", o.Kind, o.Name, o.Namespace, namespace)
					}
				}
			}
			cms := []string{"otelcol-runtime-security-config", "otelcol-runtime-security-env", "otelcol-runtime-security-rules"}
			if v.tls {
				cms = append(cms, "otelcol-runtime-security-tls-config")
			}
			for _, name := range cms {
				if _, err := ConfigMap(objs, name); err != nil {
					t.Error(err)
				}
			}
			for _, o := range objs {
				// The TLS component's replacement source is local configuration.
				if strings.Contains(string(o.YAML), "config.kubernetes.io/local-config") {
					t.Errorf("%s %s is local configuration and must not be rendered", o.Kind, o.Name)
				}
			}
			ns := Find(objs, "Namespace")
			if len(ns) == 1 {
				// hostPath volumes are outside the baseline Pod Security level.
				if got := ns[0].Typed.(*corev1.Namespace).Labels["pod-security.kubernetes.io/enforce"]; got != "privileged" {
					t.Errorf("namespace pod-security enforce label %q, want privileged (hostPath volumes)", got)
				}
			}
		})
	}
}

// TestStrictDecodingRejectsUnknownFields proves the decoder used above is strict.
func TestStrictDecodingRejectsUnknownFields(t *testing.T) {
	dec := StrictDecoder()
	for name, y := range map[string]string{
		"unknown field": "apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: x}\nspec:\n  template:\n    spec:\n      hostNetwrok: false\n",
		"duplicate":     "apiVersion: v1\nkind: Service\nmetadata: {name: x}\nspec:\n  clusterIP: None\n  clusterIP: None\n",
		"unknown kind":  "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: x}\n",
		"monitoring":    "apiVersion: monitoring.coreos.com/v1\nkind: ServiceMonitor\nmetadata: {name: x}\nspec:\n  endpoint: []\n",
	} {
		if _, err := DecodeStrict(dec, []byte(y)); err == nil {
			t.Errorf("%s: decoded without error", name)
		}
	}
}

func TestServiceMonitorScrapesTheDaemonSet(t *testing.T) {
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			objs := render(t, v)
			ds, err := DaemonSet(objs)
			if err != nil {
				t.Fatal(err)
			}
			var svc *corev1.Service
			for _, o := range Find(objs, "Service") {
				if o.Name == "otelcol-runtime-security-metrics" {
					svc = o.Typed.(*corev1.Service)
				}
			}
			if svc == nil {
				t.Fatal("no Service otelcol-runtime-security-metrics")
			}
			sm := Find(objs, "ServiceMonitor")[0].Typed.(*monitoringv1.ServiceMonitor)

			if !labels.SelectorFromSet(svc.Spec.Selector).Matches(labels.Set(ds.Spec.Template.Labels)) || len(svc.Spec.Selector) == 0 {
				t.Errorf("Service selector %v does not select the DaemonSet pods %v", svc.Spec.Selector, ds.Spec.Template.Labels)
			}
			smSel := labels.SelectorFromSet(sm.Spec.Selector.MatchLabels)
			for _, o := range Find(objs, "Service") {
				if len(sm.Spec.Selector.MatchLabels) == 0 || !smSel.Matches(labels.Set(o.Typed.(*corev1.Service).Labels)) {
					t.Errorf("ServiceMonitor selector %v does not select Service %s", sm.Spec.Selector.MatchLabels, o.Name)
				}
			}
			c, err := Container(&ds.Spec.Template.Spec, "otelcol")
			if err != nil {
				t.Fatal(err)
			}
			containerPorts := map[string]int32{}
			for _, p := range c.Ports {
				containerPorts[p.Name] = p.ContainerPort
			}
			servicePorts := map[string]corev1.ServicePort{}
			for _, p := range svc.Spec.Ports {
				servicePorts[p.Name] = p
				if _, ok := containerPorts[p.TargetPort.StrVal]; !ok {
					t.Errorf("Service port %s targets %q, not a named port of the container", p.Name, p.TargetPort.String())
				}
			}
			wantEndpoints := []string{"metrics"}
			if v.scrape {
				wantEndpoints = append(wantEndpoints, "detections")
			}
			if len(sm.Spec.Endpoints) != len(wantEndpoints) {
				t.Fatalf("%d ServiceMonitor endpoints, want %v", len(sm.Spec.Endpoints), wantEndpoints)
			}
			for i, ep := range sm.Spec.Endpoints {
				if ep.Port != wantEndpoints[i] {
					t.Errorf("endpoint %d port %q, want %s", i, ep.Port, wantEndpoints[i])
					continue
				}
				if _, ok := servicePorts[ep.Port]; !ok {
					t.Errorf("endpoint port %s is not a Service port", ep.Port)
				}
			}
		})
	}
}

func TestGrafanaDashboardConfigMaps(t *testing.T) {
	objs := render(t, variants[0])
	var dashboards int
	for _, o := range Find(objs, "ConfigMap") {
		cm := o.Typed.(*corev1.ConfigMap)
		if cm.Labels["grafana_dashboard"] != "1" {
			continue
		}
		dashboards++
		if len(cm.Data) != 1 {
			t.Errorf("ConfigMap %s holds %d dashboards, want 1 (one per ConfigMap keeps each under the size limits)", cm.Name, len(cm.Data))
		}
		for k, v := range cm.Data {
			var d map[string]any
			if err := json.Unmarshal([]byte(v), &d); err != nil {
				t.Errorf("%s/%s is not JSON: %v", cm.Name, k, err)
				continue
			}
			if _, ok := d["panels"]; !ok {
				t.Errorf("%s/%s has no panels: not a Grafana dashboard", cm.Name, k)
			}
		}
		// `kubectl apply` (client side) stores the object in an annotation limited to 256 KiB.
		if len(o.YAML) > 200<<10 {
			t.Errorf("ConfigMap %s is %d bytes: too close to the 256 KiB last-applied annotation limit", cm.Name, len(o.YAML))
		}
	}
	if dashboards == 0 {
		t.Error("no ConfigMap labelled grafana_dashboard=1")
	}
}

// TestMonitoringCopiesInSync fails when base/monitoring differs from deploy/prometheus and
// deploy/grafana/dashboards (kustomize cannot read those folders directly).
func TestMonitoringCopiesInSync(t *testing.T) {
	root := repoRoot(t)
	const fix = "run deploy/kubernetes/sync-monitoring.sh"
	pairs := map[string]string{
		filepath.Join(root, "deploy/prometheus/prometheusrule.yaml"): filepath.Join(root, "deploy/kubernetes/base/monitoring/prometheusrule.yaml"),
	}
	sources, err := filepath.Glob(filepath.Join(root, "deploy/grafana/dashboards/*.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(sources) == 0 {
		t.Fatalf("no dashboards in deploy/grafana/dashboards (make dashboards)")
	}
	for _, s := range sources {
		pairs[s] = filepath.Join(root, "deploy/kubernetes/base/monitoring/dashboards", filepath.Base(s))
	}
	copies, err := filepath.Glob(filepath.Join(root, "deploy/kubernetes/base/monitoring/dashboards/*.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(copies) != len(sources) {
		t.Errorf("%d dashboard copies for %d sources: %s", len(copies), len(sources), fix)
	}
	for src, dst := range pairs {
		a, err := os.ReadFile(src)
		if err != nil {
			t.Errorf("%v (make alerts / make dashboards)", err)
			continue
		}
		b, err := os.ReadFile(dst)
		if err != nil || string(a) != string(b) {
			t.Errorf("%s is not a copy of %s: %s", rel(root, dst), rel(root, src), fix)
		}
	}
	k, err := os.ReadFile(filepath.Join(root, "deploy/kubernetes/base/monitoring/kustomization.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range sources {
		if !strings.Contains(string(k), "dashboards/"+filepath.Base(s)+"\n") {
			t.Errorf("base/monitoring/kustomization.yaml does not list %s: %s", filepath.Base(s), fix)
		}
	}
}

func rel(root, p string) string {
	r, err := filepath.Rel(root, p)
	if err != nil {
		return p
	}
	return r
}
