package k8se2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"sigs.k8s.io/yaml"
)

const (
	ns        = "runtime-security"
	collector = "otelcol-runtime-security"
	// markerRule is the rule the test adds through the rules ConfigMap: it matches every
	// process_exec of a container, which the simulator produces several times a second.
	markerRule = "k8s_e2e_rules_reloaded"
)

// install is the test's kustomization over testdata/node: the backends' addresses in the env
// ConfigMap and, once edited, the rules file.
type install struct {
	dir      string
	literals []string
}

func (in *install) write(t *testing.T, env *testEnv, rules string) {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - %s\n",
		rel(t, in.dir, filepath.Join(env.repo, "tests/k8s/testdata/node")))
	b.WriteString("configMapGenerator:\n  - name: otelcol-runtime-security-env\n    namespace: runtime-security\n    behavior: merge\n    literals:\n")
	for _, l := range in.literals {
		fmt.Fprintf(&b, "      - %s\n", l)
	}
	if rules != "" {
		if err := os.WriteFile(filepath.Join(in.dir, "custom-rules.yaml"), []byte(rules), 0o644); err != nil {
			t.Fatal(err)
		}
		b.WriteString("  - name: otelcol-runtime-security-rules\n    namespace: runtime-security\n    behavior: replace\n" +
			"    files: [custom-rules.yaml=custom-rules.yaml]\n    options: {disableNameSuffixHash: true}\n")
	}
	if err := os.WriteFile(filepath.Join(in.dir, "kustomization.yaml"), []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

func testNode(t *testing.T, env *testEnv, cp *controlPlane) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	kubectl := func(args ...string) string {
		t.Helper()
		out, err := cp.kubectl(ctx, args...)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	cp.startControllers(t)
	hostIP := cp.hostIP
	events := startVictoriaLogs(t, env, "victoria-logs-events", hostIP)
	detections := startVictoriaLogs(t, env, "victoria-logs-detections", hostIP)
	prom := startPrometheus(t, env, hostIP)
	alerts := startAlertSink(t, env, hostIP)

	// Host paths the two DaemonSets create: removed afterwards unless they were here before.
	for _, p := range []string{"/var/run/tetragon", "/var/lib/otelcol-runtime-security"} {
		if _, err := os.Stat(p); os.IsNotExist(err) {
			env.cleanup.add(func() { _ = os.RemoveAll(p) })
		}
	}

	// The install, pointed at the backends, applied before the node exists so that the first pods
	// are the final ones.
	in := &install{dir: filepath.Join(env.work, "install"), literals: []string{
		"LOGS_OTLP_ENDPOINT=" + events.OTLPEndpoint(),
		"DETECTIONS_OTLP_ENDPOINT=" + detections.OTLPEndpoint(),
		"PROMETHEUS_REMOTE_WRITE_URL=" + prom.RemoteWriteURL(),
		"ALERTMANAGER_ENDPOINT=" + alerts.base,
		"CLUSTER_NAME=rts-k8s-e2e",
	}}
	if err := os.MkdirAll(in.dir, 0o755); err != nil {
		t.Fatal(err)
	}
	in.write(t, env, "")
	t.Logf("kubectl apply --server-side -k (deploy/kubernetes + tetragon-sim, endpoints on %s):\n%s", hostIP,
		kubectl("apply", "--server-side", "-k", in.dir))

	n := startNode(t, env, cp)
	nodeReady := time.Now()
	for _, ds := range [][2]string{{"kube-system", "tetragon-sim"}, {ns, collector}} {
		if out, err := cp.kubectl(ctx, "rollout", "status", "daemonset/"+ds[1], "-n", ds[0], "--timeout=4m"); err != nil {
			t.Fatalf("%s/%s: %v\n%s\nkubelet:\n%s\ncontainerd:\n%s", ds[0], ds[1], err, out, n.kubelet.tail(30), n.containerd.tail(20))
		}
	}
	t.Logf("k8s-e2e: tetragon-sim and the collector DaemonSet Ready %s after the node", time.Since(nodeReady).Round(time.Second))

	pod := collectorPod(t, ctx, cp)
	t.Logf("collector pod %s on %s, IP %s", pod.name, nodeName, pod.ip)
	checkSecurityContext(t, ctx, n, pod)
	checkStorage(t)

	// Records reach the log stores, metrics reach Prometheus.
	start := time.Now()
	if err := waitFor(2*time.Minute, time.Second, func() error {
		e, err := events.count("*")
		if err != nil {
			return err
		}
		d, err := detections.count(`security_rule.name:*`)
		if err != nil {
			return err
		}
		if e == 0 || d == 0 {
			return fmt.Errorf("%d events, %d detections stored", e, d)
		}
		return nil
	}); err != nil {
		t.Fatalf("records: %v\ncollector:\n%s", err, podLogs(ctx, cp, pod))
	}
	e, _ := events.count("*")
	d, _ := detections.count("*")
	t.Logf("k8s-e2e: records in VictoriaLogs %s after the pod was Ready: %d events, %d detections", time.Since(start).Round(time.Second), e, d)
	if undetected, _ := detections.count(`-security_rule.name:*`); undetected != 0 {
		t.Errorf("%d records without a rule in the detections store", undetected)
	}
	if err := waitFor(2*time.Minute, 2*time.Second, func() error {
		v, ok, err := prom.value(`sum(runtime_security_events_total)`)
		if err == nil && (!ok || v == 0) {
			err = fmt.Errorf("runtime_security_events_total not in Prometheus yet")
		}
		return err
	}); err != nil {
		t.Fatalf("metrics: %v\ncollector:\n%s", err, podLogs(ctx, cp, pod))
	}
	v, _, _ := prom.value(`sum(runtime_security_events_total)`)
	dv, _, _ := prom.value(`sum(runtime_security_detections_total)`)
	t.Logf("k8s-e2e: Prometheus (remote write): runtime_security_events_total %.0f, runtime_security_detections_total %.0f", v, dv)

	metrics := func() string {
		b, err := httpGet(fmt.Sprintf("http://%s:8888/metrics", pod.ip), nil)
		if err != nil {
			t.Fatalf("collector self-metrics: %v", err)
		}
		return string(b)
	}
	m := metrics()
	if _, ok := metricValue(m, "otelcol_processor_detection_matches", map[string]string{"rule": markerRule}); ok {
		t.Fatalf("%s matches before the rules ConfigMap has it", markerRule)
	}
	rulesBefore, _ := metricValue(m, "otelcol_processor_detection_rules_loaded", map[string]string{"processor": "detection"})

	// Edit the rules ConfigMap (the rules file of the kustomization, applied again): the collector
	// picks it up without a restart.
	shipped, err := os.ReadFile(filepath.Join(env.repo, "deploy/kubernetes/base/rules/custom-rules.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	good := withRule(t, shipped, map[string]any{
		"name": markerRule, "description": "Added by the k8s-e2e test through the rules ConfigMap.",
		"category": "test", "severity": "info", "event": "tetragon.process_exec",
		"condition": `resource.attributes["container.id"] != nil`,
	})
	in.write(t, env, good)
	kubectl("apply", "--server-side", "-k", in.dir)
	applied := time.Now()
	var reloaded time.Duration
	if err := waitFor(4*time.Minute, time.Second, func() error {
		m := metrics()
		if reloaded == 0 {
			if r, _ := metricValue(m, "otelcol_processor_detection_reloads", nil); r > 0 {
				reloaded = time.Since(applied)
			}
		}
		if v, _ := metricValue(m, "otelcol_processor_detection_matches", map[string]string{"rule": markerRule}); v == 0 {
			return fmt.Errorf("no %s match yet", markerRule)
		}
		return nil
	}); err != nil {
		t.Fatalf("rules ConfigMap edit: %v\ncollector:\n%s", err, podLogs(ctx, cp, pod))
	}
	t.Logf("k8s-e2e: rules ConfigMap edit -> rules reloaded in the pod after %s, first %s detection after %s (kubelet syncFrequency 1m, default)",
		reloaded.Round(100*time.Millisecond), markerRule, time.Since(applied).Round(100*time.Millisecond))
	if err := waitFor(time.Minute, time.Second, func() error {
		n, err := detections.count(`runtime_security.rules:` + markerRule)
		if err == nil && n == 0 {
			err = fmt.Errorf("no %s record in the detections store", markerRule)
		}
		return err
	}); err != nil {
		t.Error(err)
	}
	m = metrics()
	rulesAfter, _ := metricValue(m, "otelcol_processor_detection_rules_loaded", map[string]string{"processor": "detection"})
	if rulesAfter != rulesBefore+1 {
		t.Errorf("rules loaded %.0f before the edit, %.0f after; want one more", rulesBefore, rulesAfter)
	}

	// A bad rules ConfigMap: the reload is refused and counted, the previous rules keep matching.
	bad := withRule(t, []byte(good), map[string]any{
		"name": "k8s_e2e_broken", "description": "Does not compile.", "category": "test", "severity": "info",
		"event": "tetragon.process_exec", "condition": `attributes["process.executable.name"] ==`,
	})
	in.write(t, env, bad)
	kubectl("apply", "--server-side", "-k", in.dir)
	applied = time.Now()
	var failedAt time.Time
	var markerAtFailure float64
	if err := waitFor(4*time.Minute, time.Second, func() error {
		m := metrics()
		if f, _ := metricValue(m, "otelcol_processor_detection_reload_failures", nil); f == 0 {
			return fmt.Errorf("otelcol_processor_detection_reload_failures not raised")
		}
		failedAt = time.Now()
		markerAtFailure, _ = metricValue(m, "otelcol_processor_detection_matches", map[string]string{"rule": markerRule})
		return nil
	}); err != nil {
		t.Fatalf("bad rules ConfigMap: %v\ncollector:\n%s", err, podLogs(ctx, cp, pod))
	}
	t.Logf("k8s-e2e: bad rules ConfigMap -> otelcol_processor_detection_reload_failures raised after %s", failedAt.Sub(applied).Round(100*time.Millisecond))
	if err := waitFor(time.Minute, time.Second, func() error {
		m := metrics()
		v, _ := metricValue(m, "otelcol_processor_detection_matches", map[string]string{"rule": markerRule})
		if v <= markerAtFailure {
			return fmt.Errorf("%s matches stopped at %.0f after the bad reload", markerRule, v)
		}
		if r, _ := metricValue(m, "otelcol_processor_detection_rules_loaded", map[string]string{"processor": "detection"}); r != rulesAfter {
			return fmt.Errorf("rules loaded %.0f after the bad reload, want %.0f (the previous set)", r, rulesAfter)
		}
		return nil
	}); err != nil {
		t.Error(err)
	}
	logs, err := cp.kubectl(ctx, "logs", "-n", ns, pod.name, "-c", "otelcol")
	if err != nil {
		t.Errorf("kubectl logs: %v", err)
	}
	if lines := grepLines(logs, "reload rejected"); !strings.Contains(lines, "k8s_e2e_broken") {
		t.Errorf("the collector's log has no rejected reload naming k8s_e2e_broken:\n%s", lines)
	} else {
		t.Logf("collector log of the refused reload:\n%s", lines)
	}
	// Detections in Prometheus too (detection_metrics flushes every 15 s).
	if err := waitFor(time.Minute, 2*time.Second, func() error {
		v, ok, err := prom.value(fmt.Sprintf(`sum(runtime_security_detections_total{rule=%q})`, markerRule))
		if err == nil && (!ok || v == 0) {
			err = fmt.Errorf("runtime_security_detections_total{rule=%q} not in Prometheus", markerRule)
		}
		return err
	}); err != nil {
		t.Error(err)
	}

	// The same pod all along: no restart, no rollout.
	after := collectorPod(t, ctx, cp)
	if after.uid != pod.uid || after.restarts != 0 {
		t.Errorf("collector pod %s (uid %s, %d restarts) is not the pod that started (uid %s)", after.name, after.uid, after.restarts, pod.uid)
	}
	t.Logf("alert posts received from the collector's alertmanager exporter: %d", alerts.posts.Load())
}

type podInfo struct {
	name, uid, ip, containerID string
	restarts                   int
}

func collectorPod(t *testing.T, ctx context.Context, cp *controlPlane) podInfo {
	t.Helper()
	out, err := cp.kubectl(ctx, "get", "pods", "-n", ns, "-l", "app.kubernetes.io/name="+collector+",app.kubernetes.io/component=agent", "-o", "json")
	if err != nil {
		t.Fatal(err)
	}
	var list struct {
		Items []struct {
			Metadata struct{ Name, UID string } `json:"metadata"`
			Status   struct {
				PodIP             string `json:"podIP"`
				ContainerStatuses []struct {
					Name         string `json:"name"`
					ContainerID  string `json:"containerID"`
					RestartCount int    `json:"restartCount"`
				} `json:"containerStatuses"`
			} `json:"status"`
		} `json:"items"`
	}
	if err := yaml.Unmarshal([]byte(out), &list); err != nil {
		t.Fatal(err)
	}
	if len(list.Items) != 1 {
		t.Fatalf("%d collector pods, want 1", len(list.Items))
	}
	it := list.Items[0]
	p := podInfo{name: it.Metadata.Name, uid: it.Metadata.UID, ip: it.Status.PodIP}
	for _, c := range it.Status.ContainerStatuses {
		if c.Name == "otelcol" {
			p.containerID = strings.TrimPrefix(c.ContainerID, "containerd://")
			p.restarts = c.RestartCount
		}
	}
	return p
}

// checkSecurityContext reads the running collector's credentials from /proc: the shipped security
// context, as the kernel applied it.
func checkSecurityContext(t *testing.T, ctx context.Context, n *node, pod podInfo) {
	t.Helper()
	out, err := n.ctr(ctx, "-n", "k8s.io", "tasks", "ls")
	if err != nil {
		t.Fatal(err)
	}
	pid := ""
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == pod.containerID {
			pid = f[1]
		}
	}
	if pid == "" {
		t.Fatalf("no task for container %s in\n%s", pod.containerID, out)
	}
	status, err := os.ReadFile("/proc/" + pid + "/status")
	if err != nil {
		t.Fatal(err)
	}
	fields := map[string]string{}
	for _, line := range strings.Split(string(status), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok {
			fields[k] = strings.Join(strings.Fields(v), " ")
		}
	}
	want := map[string]string{
		"Uid": "10001 10001 10001 10001", "Gid": "10001 10001 10001 10001",
		"CapInh": "0000000000000000", "CapPrm": "0000000000000000", "CapEff": "0000000000000000",
		"CapBnd": "0000000000000000", "CapAmb": "0000000000000000",
		"NoNewPrivs": "1", "Seccomp": "2",
	}
	for k, v := range want {
		if fields[k] != v {
			t.Errorf("collector process %s: %s = %q, want %q", pid, k, fields[k], v)
		}
	}
	if groups := " " + fields["Groups"] + " "; !strings.Contains(groups, " 0 ") {
		t.Errorf("collector process %s: Groups %q lack 0 (supplementalGroups, for Tetragon's socket)", pid, fields["Groups"])
	}
	mounts, err := os.ReadFile("/proc/" + pid + "/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	rootRO := false
	for _, line := range strings.Split(string(mounts), "\n") {
		if f := strings.Fields(line); len(f) > 5 && f[4] == "/" {
			rootRO = strings.HasPrefix(f[5], "ro")
		}
	}
	if !rootRO {
		t.Errorf("collector process %s: root filesystem is not read-only", pid)
	}
	t.Logf("k8s-e2e: collector process (pid %s on the host): Uid %s, Gid %s, Groups %s, CapEff %s, NoNewPrivs %s, Seccomp %s, read-only root %v",
		pid, fields["Uid"], fields["Gid"], fields["Groups"], fields["CapEff"], fields["NoNewPrivs"], fields["Seccomp"], rootRO)
}

// checkStorage: the init container handed the hostPath storage directory to the collector's uid.
func checkStorage(t *testing.T) {
	t.Helper()
	var st syscall.Stat_t
	if err := syscall.Stat("/var/lib/otelcol-runtime-security", &st); err != nil {
		t.Fatal(err)
	}
	if st.Uid != 10001 || st.Gid != 10001 || st.Mode&0o777 != 0o700 {
		t.Errorf("/var/lib/otelcol-runtime-security is %d:%d %o, want 10001:10001 700", st.Uid, st.Gid, st.Mode&0o777)
	}
	if _, err := os.Stat("/var/lib/otelcol-runtime-security/file_storage"); err != nil {
		t.Errorf("the collector's file_storage is not on the hostPath: %v", err)
	}
}

func podLogs(ctx context.Context, cp *controlPlane, pod podInfo) string {
	out, err := cp.kubectl(ctx, "logs", "-n", ns, pod.name, "-c", "otelcol", "--tail=40")
	if err != nil {
		return err.Error()
	}
	return out
}

func grepLines(text, sub string) string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// withRule returns the rules file with rule appended to its rules.
func withRule(t *testing.T, file []byte, rule map[string]any) string {
	t.Helper()
	var doc map[string]any
	if err := yaml.Unmarshal(file, &doc); err != nil {
		t.Fatal(err)
	}
	rules, _ := doc["rules"].([]any)
	doc["rules"] = append(rules, rule)
	b, err := yaml.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
