// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package deploytest

import (
	"fmt"
	"net"
	"slices"
	"sort"
	"strings"
	"testing"

	"go.opentelemetry.io/collector/confmap"
	corev1 "k8s.io/api/core/v1"
)

// allInterfacesAllowed lists the listeners that may bind every interface, and why.
var allInterfacesAllowed = map[string]string{
	// The gateway's OTLP port is its Service's port; its NetworkPolicy admits only the agents
	// (TestNetworkPolicies) and components/tls makes it serve TLS.
	"receivers::otlp::protocols::grpc::endpoint": "the gateway's Service port",
}

// collectorPods returns the pod templates running the collector in objs: the DaemonSet, and the
// gateway Deployment when there is one.
func collectorPods(t testing.TB, objs []Object) map[string]*corev1.PodTemplateSpec {
	t.Helper()
	ds, err := DaemonSet(objs)
	if err != nil {
		t.Fatal(err)
	}
	pods := map[string]*corev1.PodTemplateSpec{"DaemonSet": &ds.Spec.Template}
	if gw, err := Deployment(objs, gatewayName); err == nil {
		pods["gateway"] = &gw.Spec.Template
	}
	return pods
}

// TestInternalEndpointsListenOnThePodIP: health_check and the self-metrics (and the detection
// metrics of components/metrics-scrape) listen on the pod IP, set from the downward API;
// pprof and zpages on loopback; nothing else on all interfaces.
func TestInternalEndpointsListenOnThePodIP(t *testing.T) {
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			objs := render(t, v)
			for what, tmpl := range collectorPods(t, objs) {
				t.Run(what, func(t *testing.T) {
					c := &tmpl.Spec.Containers[0]
					checkPodIPEnv(t, c)
					checkListeners(t, collectorConfig(t, objs, &tmpl.Spec), podEnv(t, objs, c))
				})
			}
		})
	}
}

// checkPodIPEnv: POD_IP comes from status.podIP, before every env entry that refers to it (the
// kubelet expands $(VAR) from earlier entries only).
func checkPodIPEnv(t *testing.T, c *corev1.Container) {
	t.Helper()
	at := slices.IndexFunc(c.Env, func(e corev1.EnvVar) bool { return e.Name == "POD_IP" })
	if at < 0 {
		t.Fatal("no POD_IP in the container's env")
	}
	if e := c.Env[at]; e.ValueFrom == nil || e.ValueFrom.FieldRef == nil || e.ValueFrom.FieldRef.FieldPath != "status.podIP" {
		t.Errorf("POD_IP must come from the downward API (fieldRef status.podIP), got %+v", e)
	}
	for i, e := range c.Env {
		if strings.Contains(e.Value, "$(POD_IP)") && i < at {
			t.Errorf("env %s refers to $(POD_IP) before POD_IP is defined: the kubelet leaves it unexpanded", e.Name)
		}
	}
}

// checkListeners checks the listen addresses of conf with env expanded.
func checkListeners(t reporter, conf *confmap.Conf, env map[string]string) {
	t.Helper()
	host := func(key, endpoint string) string {
		h, _, err := net.SplitHostPort(endpoint)
		if err != nil {
			t.Errorf("%s = %q: %v", key, endpoint, err)
		}
		return h
	}
	if h := host("health_check", ExpandEnv(Str(conf, "extensions::health_check::endpoint"), env)); h != podIP {
		t.Errorf("health_check listens on %q, want the pod IP (HEALTH_CHECK_ENDPOINT=[$(POD_IP)]:13133)", h)
	}
	readers, _ := conf.Get("service::telemetry::metrics::readers").([]any)
	for i, r := range readers {
		if h := ExpandEnv(fmt.Sprint(dig(r, "pull", "exporter", "prometheus", "host")), env); h != podIP {
			t.Errorf("self-metrics reader %d listens on %q, want the pod IP (SELF_METRICS_HOST=$(POD_IP))", i, h)
		}
	}
	if conf.IsSet("exporters::prometheus::endpoint") {
		if h := host("prometheus exporter", ExpandEnv(Str(conf, "exporters::prometheus::endpoint"), env)); h != podIP {
			t.Errorf("the detection metrics (prometheus exporter) listen on %q, want the pod IP", h)
		}
	}
	for _, ext := range []string{"pprof", "zpages"} {
		if ep := Str(conf, "extensions::"+ext+"::endpoint"); ep != "" {
			if h := host(ext, ExpandEnv(ep, env)); h != "127.0.0.1" && h != "localhost" && h != "::1" {
				t.Errorf("%s listens on %q: debugging endpoints stay on loopback", ext, h)
			}
		}
	}
	// Anything else that would bind every interface.
	for _, kv := range flatten(conf.ToStringMap(), "") {
		val := ExpandEnv(kv[1], env)
		if _, ok := allInterfacesAllowed[kv[0]]; ok {
			continue
		}
		if strings.HasPrefix(val, "0.0.0.0") || strings.HasPrefix(val, "[::]") || strings.HasPrefix(val, ":::") ||
			(strings.HasSuffix(kv[0], "::host") && (val == "0.0.0.0" || val == "::")) {
			t.Errorf("%s = %q listens on all interfaces: bind it to the pod IP ($(POD_IP)) or loopback", kv[0], val)
		}
	}
}

// flatten lists the string leaves of a configuration map as ("a::b::c", value), sorted.
func flatten(m map[string]any, prefix string) [][2]string {
	var out [][2]string
	var walk func(v any, key string)
	walk = func(v any, key string) {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				walk(e, strings.TrimPrefix(key+"::"+k, "::"))
			}
		case []any:
			for i, e := range x {
				walk(e, fmt.Sprintf("%s::%d", key, i))
			}
		case string:
			out = append(out, [2]string{key, x})
		case nil:
		default:
			out = append(out, [2]string{key, fmt.Sprint(x)})
		}
	}
	walk(m, prefix)
	sort.Slice(out, func(i, j int) bool { return out[i][0] < out[j][0] })
	return out
}

// TestListenerCheckRejects shows that checkListeners notices a pod that does not set the
// variables (the configuration's defaults bind 0.0.0.0) and a debugging endpoint on all
// interfaces.
func TestListenerCheckRejects(t *testing.T) {
	objs := render(t, variants[0])
	ds, err := DaemonSet(objs)
	if err != nil {
		t.Fatal(err)
	}
	conf := collectorConfig(t, objs, &ds.Spec.Template.Spec)
	env := podEnv(t, objs, &ds.Spec.Template.Spec.Containers[0])
	var r recorder
	checkListeners(&r, conf, env)
	if len(r.msgs) > 0 {
		t.Fatalf("the shipped configuration was rejected: %v", r.msgs)
	}
	for _, unset := range []string{"HEALTH_CHECK_ENDPOINT", "SELF_METRICS_HOST"} {
		e := map[string]string{}
		for k, v := range env {
			if k != unset {
				e[k] = v
			}
		}
		var r recorder
		checkListeners(&r, conf, e)
		if len(r.msgs) == 0 {
			t.Errorf("without %s (default 0.0.0.0) the check passed", unset)
		}
	}
	bad := confmap.NewFromStringMap(conf.ToStringMap())
	if err := bad.Merge(confmap.NewFromStringMap(map[string]any{"extensions": map[string]any{"zpages": map[string]any{"endpoint": "0.0.0.0:55679"}}})); err != nil {
		t.Fatal(err)
	}
	r = recorder{}
	checkListeners(&r, bad, env)
	if len(r.msgs) == 0 {
		t.Error("zpages on 0.0.0.0 passed")
	}
}
