// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package deploytest

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"go.opentelemetry.io/collector/confmap"
	"go.yaml.in/yaml/v3"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/testbed/loadtest"
)

// helmMerge merges user values over chart defaults the way Helm does for a chart's own values:
// maps merge key by key, a user null deletes the key, anything else replaces.
func helmMerge(defaults, user map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range defaults {
		out[k] = v
	}
	for k, v := range user {
		if v == nil {
			delete(out, k)
			continue
		}
		um, uIsMap := v.(map[string]any)
		dm, dIsMap := out[k].(map[string]any)
		if uIsMap && dIsMap {
			out[k] = helmMerge(dm, um)
		} else {
			out[k] = v
		}
	}
	return out
}

func TestHelmMergeSemantics(t *testing.T) {
	got := helmMerge(
		map[string]any{"a": map[string]any{"x": 1, "y": 2}, "b": []any{1, 2}, "c": 3},
		map[string]any{"a": map[string]any{"x": nil, "z": 4}, "b": []any{9}, "c": nil},
	)
	want := map[string]any{"a": map[string]any{"y": 2, "z": 4}, "b": []any{9}}
	if !equalYAML(t, got, want) {
		t.Errorf("helmMerge = %v, want %v", got, want)
	}
}

func equalYAML(t testing.TB, a, b any) bool {
	t.Helper()
	ya, err := yaml.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	yb, err := yaml.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	return string(ya) == string(yb)
}

// helmValues returns deploy/helm/values.yaml and the collector config the chart would render
// from it: our `config` merged over the chart's default `config`.
func helmValues(t testing.TB) (map[string]any, *confmap.Conf) {
	t.Helper()
	values := readYAMLMap(t, filepath.Join(repoRoot(t), "deploy/helm/values.yaml"))
	defaults := readYAMLMap(t, filepath.Join("testdata", "otel-collector-chart-default-config.yaml"))
	ours, ok := values["config"].(map[string]any)
	if !ok {
		t.Fatal("deploy/helm/values.yaml has no config map")
	}
	merged := helmMerge(defaults["config"].(map[string]any), ours)
	return values, confmap.NewFromStringMap(merged)
}

// chartTopLevelKeys are the opentelemetry-collector chart's top-level values (chart 0.1xx):
// a misspelt key is silently ignored by Helm.
var chartTopLevelKeys = []string{
	"nameOverride", "fullnameOverride", "mode", "namespaceOverride", "presets", "configMap", "config",
	"alternateConfig", "image", "imagePullSecrets", "command", "serviceAccount", "clusterRole",
	"podSecurityContext", "securityContext", "nodeSelector", "tolerations", "affinity",
	"topologySpreadConstraints", "priorityClassName", "extraEnvs", "extraEnvsFrom", "extraVolumes",
	"extraVolumeMounts", "extraManifests", "ports", "useGOMEMLIMIT", "resources", "podAnnotations",
	"podLabels", "additionalLabels", "hostNetwork", "hostAliases", "dnsPolicy", "dnsConfig",
	"replicaCount", "revisionHistoryLimit", "annotations", "extraContainers", "initContainers",
	"lifecycleHooks", "livenessProbe", "readinessProbe", "startupProbe", "service", "ingress",
	"podMonitor", "serviceMonitor", "podDisruptionBudget", "autoscaling", "rollout", "prometheusRule",
	"statefulset", "networkPolicy", "shareProcessNamespace",
}

func TestHelmValues(t *testing.T) {
	values, conf := helmValues(t)
	for k := range values {
		if !slices.Contains(chartTopLevelKeys, k) {
			t.Errorf("%s is not a value of the opentelemetry-collector chart", k)
		}
	}
	if values["mode"] != "daemonset" {
		t.Errorf("mode %v, want daemonset", values["mode"])
	}
	presets, _ := values["presets"].(map[string]any)
	for _, p := range []string{"logsCollection", "hostMetrics", "kubernetesAttributes", "kubeletMetrics", "kubernetesEvents", "clusterMetrics"} {
		if dig(presets, p, "enabled") != false {
			t.Errorf("presets.%s.enabled must be false", p)
		}
	}
	if dig(values, "command", "name") != "otelcol-runtime-security" {
		t.Errorf("command.name %v: the chart runs /<command.name>, our image has /otelcol-runtime-security", dig(values, "command", "name"))
	}
	ports, _ := values["ports"].(map[string]any)
	for _, p := range []string{"otlp", "otlp-http", "jaeger-compact", "jaeger-thrift", "jaeger-grpc", "zipkin"} {
		if dig(ports, p, "enabled") != false {
			t.Errorf("ports.%s must be disabled: its receiver is removed (and it would take a hostPort)", p)
		}
	}
	if dig(ports, "metrics", "enabled") != true || dig(values, "serviceMonitor", "enabled") != true {
		t.Error("the metrics port and the ServiceMonitor must be enabled")
	}

	// The merged collector configuration: none of the chart's receivers, exporters or pipelines.
	if got := Keys(conf, "receivers"); !slices.Equal(got, []string{"tetragon"}) {
		t.Errorf("receivers %v, want only tetragon (the chart's jaeger/zipkin/prometheus/otlp must be null)", got)
	}
	if slices.Contains(Keys(conf, "exporters"), "debug") {
		t.Error("the chart's debug exporter is still there")
	}
	if conf.IsSet("service::telemetry::metrics::address") {
		t.Error("service.telemetry.metrics.address is set: the chart turns it into a second reader on :8888")
	}
	base := baseCollectorConfig(t)
	if got, want := Keys(conf, "service::pipelines"), Keys(base, "service::pipelines"); !slices.Equal(got, want) {
		t.Errorf("pipelines %v, want the kustomize config's %v", got, want)
	}
	for _, p := range Keys(base, "service::pipelines") {
		for _, part := range []string{"receivers", "processors", "exporters"} {
			key := "service::pipelines::" + p + "::" + part
			if !slices.Equal(Strings(conf, key), Strings(base, key)) {
				t.Errorf("%s = %v, kustomize config has %v", key, Strings(conf, key), Strings(base, key))
			}
		}
	}
	// Health and self-metrics on the pod IP, at the ports the chart's probes and Service use.
	env := helmEnv(t, values)
	health := ExpandEnv(Str(conf, "extensions::health_check::endpoint"), env)
	if host, port, err := net.SplitHostPort(health); err != nil || host != podIP || port != "13133" ||
		dig(values, "livenessProbe", "httpGet", "port") != 13133 || dig(values, "readinessProbe", "httpGet", "port") != 13133 {
		t.Errorf("health_check listens on %q: want the pod IP (%s in this test) and port 13133, where the chart's probes go", health, podIP)
	}
	for _, probe := range []string{"livenessProbe", "readinessProbe"} {
		if h := dig(values, probe, "httpGet", "host"); h != nil {
			t.Errorf("%s host %v: leave it unset, the kubelet then probes the pod IP", probe, h)
		}
	}
	readers, _ := conf.Get("service::telemetry::metrics::readers").([]any)
	if len(readers) != 1 {
		t.Fatalf("%d telemetry metric readers, want 1", len(readers))
	}
	prom, _ := dig(readers[0], "pull", "exporter", "prometheus").(map[string]any)
	if host, port := ExpandEnv(fmt.Sprint(prom["host"]), env), ExpandEnv(fmt.Sprint(prom["port"]), env); host != podIP || port != fmt.Sprint(dig(ports, "metrics", "containerPort")) {
		t.Errorf("self-metrics on %s:%s: want the pod IP (%s here) and the metrics port %v", host, port, podIP, dig(ports, "metrics", "containerPort"))
	}
	checkHelmNetworkPolicy(t, values, env)

	// Mounts: read-only socket directory, writable storage, rules as a directory.
	var mounts []corev1.VolumeMount
	decodeInto(t, values["extraVolumeMounts"], &mounts)
	var volumes []corev1.Volume
	decodeInto(t, values["extraVolumes"], &volumes)
	byPath := map[string]corev1.VolumeMount{}
	for _, m := range mounts {
		if m.SubPath != "" {
			t.Errorf("%s uses subPath", m.MountPath)
		}
		byPath[m.MountPath] = m
	}
	if m, ok := byPath[tetragonRunDir]; !ok || !m.ReadOnly {
		t.Errorf("%s must be mounted read-only", tetragonRunDir)
	}
	if m, ok := byPath[storageDir]; !ok || m.ReadOnly {
		t.Errorf("%s must be mounted read-write", storageDir)
	}
	rules, ok := byPath[rulesDir]
	if !ok {
		t.Fatalf("no mount at %s", rulesDir)
	}
	var rulesCM string
	for _, v := range volumes {
		if v.Name == rules.Name && v.ConfigMap != nil {
			rulesCM = v.ConfigMap.Name
		}
	}
	manifests, _ := values["extraManifests"].([]any)
	var found bool
	for _, m := range manifests {
		s, _ := m.(string)
		if strings.Contains(s, "kind: ConfigMap") && strings.Contains(s, "name: "+rulesCM+"\n") {
			found = true
		}
	}
	if rulesCM == "" || !found {
		t.Errorf("the rules volume's ConfigMap %q is not created by extraManifests", rulesCM)
	}

	var envs []corev1.EnvVar
	decodeInto(t, values["extraEnvs"], &envs)
	procs := slices.IndexFunc(envs, func(e corev1.EnvVar) bool { return e.Name == "GOMAXPROCS" })
	if procs < 0 || envs[procs].Value != strconv.Itoa(loadtest.ShippedGOMAXPROCS) {
		t.Errorf("extraEnvs must set GOMAXPROCS to %d, as the kustomize DaemonSet and the testbed do", loadtest.ShippedGOMAXPROCS)
	}

	var psc corev1.PodSecurityContext
	decodeInto(t, values["podSecurityContext"], &psc)
	var sc corev1.SecurityContext
	decodeInto(t, values["securityContext"], &sc)
	if uid, nonRoot := effectiveUser(&psc, &sc); uid == 0 || !nonRoot || !slices.Contains(psc.SupplementalGroups, 0) {
		t.Errorf("want a non-root uid with supplemental group 0, got uid %d nonRoot %v groups %v", uid, nonRoot, psc.SupplementalGroups)
	}
	if sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem || sc.Capabilities == nil || !slices.Contains(sc.Capabilities.Drop, "ALL") {
		t.Error("securityContext must have a read-only root filesystem and drop ALL capabilities")
	}
	var inits []corev1.Container
	decodeInto(t, values["initContainers"], &inits)
	uid, _ := effectiveUser(&psc, &sc)
	checkStorageInit(t, &corev1.PodSpec{SecurityContext: &psc, InitContainers: inits, Containers: []corev1.Container{{SecurityContext: &sc}}}, uid)
}

// helmEnv is the collector container's environment as the chart renders it: the chart's own
// MY_POD_IP, then extraEnvs in order, with $(VAR) expanded and status.podIP as podIP.
func helmEnv(t testing.TB, values map[string]any) map[string]string {
	t.Helper()
	var extra []corev1.EnvVar
	decodeInto(t, values["extraEnvs"], &extra)
	env := map[string]string{"MY_POD_IP": podIP}
	for _, e := range extra {
		switch {
		case e.ValueFrom != nil && e.ValueFrom.FieldRef != nil && e.ValueFrom.FieldRef.FieldPath == "status.podIP":
			env[e.Name] = podIP
		case e.ValueFrom != nil:
			env[e.Name] = "downward-api-" + strings.ToLower(e.Name)
		default:
			env[e.Name] = ExpandKubernetesVars(e.Value, env)
		}
	}
	return env
}

// checkHelmNetworkPolicy: the chart's NetworkPolicy is on, admits the metrics port (the only
// enabled port) from the monitoring namespace only, and lets the pods reach exactly the
// backends of extraEnvs and DNS.
func checkHelmNetworkPolicy(t *testing.T, values map[string]any, env map[string]string) {
	t.Helper()
	np, _ := values["networkPolicy"].(map[string]any)
	if np["enabled"] != true {
		t.Fatal("networkPolicy.enabled must be true: default deny for the collector pods")
	}
	var from []networkingv1.NetworkPolicyPeer
	decodeInto(t, np["allowIngressFrom"], &from)
	if len(from) == 0 {
		t.Error("networkPolicy.allowIngressFrom is empty: the chart then admits the metrics port from anywhere")
	}
	for _, f := range from {
		if f.IPBlock != nil || f.NamespaceSelector == nil || f.NamespaceSelector.MatchLabels[namespaceNameLabel] != "monitoring" {
			t.Errorf("allowIngressFrom %+v: want the monitoring namespace (Prometheus) only", f)
		}
	}
	if np["extraIngressRules"] != nil {
		t.Error("networkPolicy.extraIngressRules opens more than the metrics port")
	}
	var egress []networkingv1.NetworkPolicyEgressRule
	decodeInto(t, np["egressRules"], &egress)
	var endpoints []string
	for _, k := range []string{"LOGS_OTLP_ENDPOINT", "DETECTIONS_OTLP_ENDPOINT", "PROMETHEUS_REMOTE_WRITE_URL", "ALERTMANAGER_ENDPOINT"} {
		endpoints = append(endpoints, env[k])
	}
	checkEgress(t, egress, endpoints, nil, "")
}

// decodeInto decodes a values fragment strictly into a Kubernetes type.
func decodeInto(t testing.TB, v any, out any) {
	t.Helper()
	y, err := yaml.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if err := sigsyaml.UnmarshalStrict(y, out); err != nil {
		t.Fatalf("%T: %v", out, err)
	}
}

// baseCollectorConfig is the kustomize base's collector configuration.
func baseCollectorConfig(t testing.TB) *confmap.Conf {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot(t), "deploy/kubernetes/base/collector-config.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	conf, err := MergeConfig([]ConfigFile{{Path: "collector-config.yaml", Data: data}})
	if err != nil {
		t.Fatal(err)
	}
	return conf
}

// TestHelmRulesManifestLoads loads the rules file the Helm values create.
func TestHelmRulesManifestLoads(t *testing.T) {
	values, _ := helmValues(t)
	manifests, _ := values["extraManifests"].([]any)
	for _, m := range manifests {
		s, _ := m.(string)
		if !strings.Contains(s, "kind: ConfigMap") {
			continue
		}
		// Only template expression in it: the namespace.
		s = strings.ReplaceAll(s, "{{ .Release.Namespace }}", "runtime-security")
		var cm corev1.ConfigMap
		if err := sigsyaml.UnmarshalStrict([]byte(s), &cm); err != nil {
			t.Fatal(err)
		}
		dir := t.TempDir()
		for k, data := range cm.Data {
			p := filepath.Join(dir, k)
			if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := validateRules(p); err != nil {
				t.Errorf("%s: %v", k, err)
			}
		}
		return
	}
	t.Fatal("no ConfigMap in extraManifests")
}
