// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

//go:build e2e

// Package e2e proves the whole pipeline against real servers on loopback: tetragon-sim plays an
// attack scenario into the built distribution running the shipped distribution/config.yaml;
// detections and events land in VictoriaLogs (standing in for Loki's OTLP endpoint), metrics in
// Prometheus through remote write, alerts from the shipped rules reach Alertmanager and its
// webhook; the log store is stopped mid-run and nothing is lost.
package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/testbackends"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/testenv"
)

func TestEndToEnd(t *testing.T) {
	root := testenv.RepoRoot(t)
	collectorBin := testenv.Binary(t, "OTELCOL_BIN", "otelcol-runtime-security")
	simBin := testenv.Binary(t, "TETRAGON_SIM_BIN", "tetragon-sim")

	hook := testbackends.StartWebhook(t)

	allLogs := testbackends.StartVictoriaLogs(t, "victorialogs-all")
	detLogs := testbackends.StartVictoriaLogs(t, "victorialogs-detections")
	am := testbackends.StartAlertmanager(t, filepath.Join(root, "deploy", "alertmanager", "alertmanager.yaml"), hook.URL()+"/alerts")
	selfMetricsPort := testenv.FreePort(t)
	prom := testbackends.StartPrometheus(t, prometheusConfig(filepath.Join(root, "deploy", "prometheus", "alert-rules.yaml"), am.Port(), selfMetricsPort))

	dir := t.TempDir()
	sock := filepath.Join(dir, "tetragon.sock")
	const rate, count = 200, 6000 // 30 s of traffic
	sim := testenv.Start(t, "tetragon-sim", simBin, "--listen", "unix://"+sock, "--generate", "--scenario", "attack",
		"--restamp", "--rate", fmt.Sprint(rate), "--count", fmt.Sprint(count), "--seed", "7", "--stats")
	testenv.Eventually(t, 20*time.Second, "simulator socket", func() bool { _, err := os.Stat(sock); return err == nil })

	storage := filepath.Join(dir, "storage")
	if err := os.MkdirAll(storage, 0o700); err != nil {
		t.Fatal(err)
	}
	env := []string{
		"TETRAGON_ENDPOINT=unix://" + sock,
		"LOGS_OTLP_ENDPOINT=" + allLogs.OTLPEndpoint(),
		"DETECTIONS_OTLP_ENDPOINT=" + detLogs.OTLPEndpoint(),
		"PROMETHEUS_REMOTE_WRITE_URL=" + prom.RemoteWriteURL(),
		"ALERTMANAGER_ENDPOINT=" + am.URL(""),
		"STORAGE_DIR=" + storage,
		"K8S_NODE_NAME=e2e-node",
		"SELF_METRICS_HOST=127.0.0.1",
		fmt.Sprintf("SELF_METRICS_PORT=%d", selfMetricsPort),
		fmt.Sprintf("HEALTH_CHECK_ENDPOINT=127.0.0.1:%d", testenv.FreePort(t)),
	}
	col := testenv.StartEnv(t, "collector", env, collectorBin, "--config="+filepath.Join(root, "distribution", "config.yaml"))
	start := time.Now()
	poller := startAMPoller(am)
	defer poller.Stop()

	// Log-store latency: while the run goes on, how far behind "now" is the newest stored event.
	var storeLag []time.Duration
	// Outage: stop the all-events store once records flow, keep sending, bring it back.
	testenv.Eventually(t, 60*time.Second, "first records in the log store", func() bool {
		if col.Exited() {
			t.Fatalf("collector exited: %v", col.ExitErr())
		}
		n, _ := allLogs.Count("*")
		return n > 0
	})
	for i := 0; i < 10; i++ {
		if lag, ok := newestLag(allLogs); ok {
			storeLag = append(storeLag, lag)
		}
		time.Sleep(500 * time.Millisecond)
	}
	t.Logf("stopping the log store %s after start", time.Since(start).Round(time.Second))
	allLogs.Stop()
	time.Sleep(8 * time.Second)
	t.Logf("restarting the log store")
	allLogs.Start()

	if err := sim.Wait(5 * time.Minute); err != nil {
		t.Fatalf("tetragon-sim: %v", err)
	}
	st := testbackends.ReadSimStats(t, sim)
	if st.Sent != count {
		t.Fatalf("simulator sent %d events, want %d", st.Sent, count)
	}
	t.Logf("simulator sent %d events: %v", st.Sent, st.ByType)

	// 1. Nothing lost across the outage: every event is in the all-events store exactly once.
	testenv.Eventually(t, 3*time.Minute, fmt.Sprintf("%d records in the log store", st.Sent), func() bool {
		n, err := allLogs.Count("*")
		return err == nil && n >= st.Sent
	})
	time.Sleep(3 * time.Second)
	if n, _ := allLogs.Count("*"); n != st.Sent {
		t.Errorf("log store holds %d records after the outage, simulator sent %d", n, st.Sent)
	}

	// 2. Detections in the log stores, queryable by rule and namespace, with pod and process context.
	rows, err := allLogs.Query(`security_rule.name:reverse_shell`)
	if err != nil || len(rows) == 0 {
		t.Fatalf("no reverse_shell detection in the log store: %v", err)
	}
	r := rows[0]
	for _, k := range []string{"k8s.namespace.name", "k8s.pod.name", "process.executable.path", "process.command_line", "runtime_security.severity", "threat.technique.id"} {
		if r[k] == "" {
			t.Errorf("stored detection lacks %s: %v", k, r)
		}
	}
	ns := r["k8s.namespace.name"]
	if n, _ := allLogs.Count(fmt.Sprintf(`security_rule.name:reverse_shell AND k8s.namespace.name:%q`, ns)); n == 0 {
		t.Errorf("detections not queryable by rule and namespace %q", ns)
	}
	detected, _ := allLogs.Count(`security_rule.name:*`)
	onlyDet, _ := detLogs.Count("*")
	undetected, _ := detLogs.Count(`-security_rule.name:*`)
	if detected == 0 || onlyDet != detected || undetected != 0 {
		t.Errorf("detections-only store has %d records (%d untagged), all-events store has %d tagged", onlyDet, undetected, detected)
	}

	// 3. Metrics in Prometheus with the right labels and values.
	testenv.Eventually(t, 90*time.Second, "runtime_security_events_total equals what the simulator sent", func() bool {
		s, err := prom.Query(`sum(runtime_security_events_total)`)
		return err == nil && len(s) == 1 && int(s[0].Float()) == st.Sent
	})
	byType, _ := prom.Query(`sum by (event_type) (runtime_security_events_total)`)
	for _, s := range byType {
		if want := st.ByType[s.Metric["event_type"]]; int(s.Float()) != want {
			t.Errorf("runtime_security_events_total{event_type=%q} = %v, simulator sent %d", s.Metric["event_type"], s.Float(), want)
		}
	}
	dets, err := prom.Query(`runtime_security_detections_total{rule="reverse_shell"}`)
	if err != nil || len(dets) == 0 {
		t.Fatalf("no runtime_security_detections_total{rule=\"reverse_shell\"}: %v", err)
	}
	for _, l := range []string{"rule", "severity", "category", "namespace", "workload", "node"} {
		if dets[0].Metric[l] == "" {
			t.Errorf("runtime_security_detections_total lacks label %s: %v", l, dets[0].Metric)
		}
	}
	if dets[0].Metric["severity"] != "critical" || dets[0].Metric["node"] != "e2e-node" && dets[0].Metric["node"] == "" {
		t.Errorf("unexpected labels %v", dets[0].Metric)
	}
	var promDetections float64
	if s, _ := prom.Query(`sum(runtime_security_detections_total)`); len(s) == 1 {
		promDetections = s[0].Float()
	}
	t.Logf("Prometheus: %d events, %.0f detections; log store: %d tagged records", st.Sent, promDetections, detected)

	// 4. Incidents: one per attacked pod, alerted through the alertmanager exporter in seconds; the
	// counts of Prometheus and the log store agree.
	checkIncidents(t, detLogs, poller)
	reconcileCounts(t, detLogs, prom)

	// 5. The counter-based critical alert of the shipped Prometheus rules reaches Alertmanager too,
	// with the documented labels; while an incident alert fires for the same namespace and workload,
	// it is inhibited (one page per incident), otherwise it reaches the webhook.
	var alert testbackends.Alert
	var arrived time.Time
	testenv.Eventually(t, 3*time.Minute, "RuntimeSecurityCriticalDetection in Alertmanager", func() bool {
		amAlerts, err := am.Alerts()
		if err != nil {
			return false
		}
		for _, a := range amAlerts {
			if a.Labels["alertname"] == "RuntimeSecurityCriticalDetection" {
				alert = a
				if len(a.Status.InhibitedBy) > 0 {
					return true
				}
				for _, w := range hook.Alerts() {
					if w.Labels["alertname"] == a.Labels["alertname"] && w.Labels["rule"] == a.Labels["rule"] && w.Status == "firing" {
						arrived = w.Arrived
						return true
					}
				}
			}
		}
		return false
	})
	for _, l := range []string{"severity", "rule", "category", "namespace", "workload", "node"} {
		if alert.Labels[l] == "" {
			t.Errorf("alert lacks label %s: %v", l, alert.Labels)
		}
	}
	for _, a := range []string{"summary", "description", "runbook_url"} {
		if alert.Annotations[a] == "" {
			t.Errorf("alert lacks annotation %s: %v", a, alert.Annotations)
		}
	}
	if alert.Labels["severity"] != "critical" {
		t.Errorf("critical alert has severity %q", alert.Labels["severity"])
	}
	t.Logf("Prometheus path: RuntimeSecurityCriticalDetection{rule=%q} state %s, inhibited by %d alert(s)", alert.Labels["rule"], alert.Status.State, len(alert.Status.InhibitedBy))
	// The incident alerts reach the webhook after the route's group_wait.
	var incidentAtHook testbackends.WebhookAlert
	testenv.Eventually(t, time.Minute, "RuntimeSecurityIncident at the webhook", func() bool {
		for _, a := range hook.Alerts() {
			if a.Labels["alertname"] == "RuntimeSecurityIncident" && a.Status == "firing" {
				incidentAtHook = a
				return true
			}
		}
		return false
	})
	t.Logf("webhook: incident %s (%s) arrived %s after its startsAt", incidentAtHook.Labels["incident"], incidentAtHook.Labels["severity"], incidentAtHook.Arrived.Sub(incidentAtHook.StartsAt).Round(time.Millisecond))

	// Latency from the event's timestamp to the alert and to the stored record.
	first, err := allLogs.Query(fmt.Sprintf(`security_rule.name:%q AND k8s.namespace.name:%q | sort by (_time) | limit 1`, alert.Labels["rule"], alert.Labels["namespace"]))
	if err == nil && len(first) == 1 {
		if ts, err := time.Parse(time.RFC3339Nano, first[0]["_time"]); err == nil {
			if !arrived.IsZero() {
				t.Logf("LATENCY event→Prometheus-rule alert at webhook (%s): %s", alert.Labels["rule"], arrived.Sub(ts).Round(time.Millisecond))
			}
			t.Logf("LATENCY event→Prometheus-rule alert in Alertmanager (startsAt): %s", alert.StartsAt.Sub(ts).Round(time.Millisecond))
		}
	}
	if len(storeLag) > 0 {
		sort.Slice(storeLag, func(i, j int) bool { return storeLag[i] < storeLag[j] })
		t.Logf("LATENCY event→record in the log store: p50 %s, max %s (%d samples, includes the 500ms poll)",
			storeLag[len(storeLag)/2].Round(time.Millisecond), storeLag[len(storeLag)-1].Round(time.Millisecond), len(storeLag))
	}

	// 6. Every PromQL query of the dashboards and rule files parses and returns data.
	checkShippedQueries(t, root, prom)

	// 7. Noise: 1,000 repeats of one detection are one alert, and every record is stored.
	checkNoiseBurst(t, simBin, sock, allLogs, am)
}

// newestLag is how far behind now the newest stored record is.
func newestLag(v *testbackends.VictoriaLogs) (time.Duration, bool) {
	rows, err := v.Query(`* | stats max(_time) as newest`)
	if err != nil || len(rows) == 0 {
		return 0, false
	}
	ts, err := time.Parse(time.RFC3339Nano, rows[0]["newest"])
	if err != nil {
		return 0, false
	}
	return time.Since(ts), true
}

// prometheusConfig scrapes the collector's own metrics, loads the shipped alert rules and alerts
// to the Alertmanager.
func prometheusConfig(rulesFile string, alertmanagerPort, collectorMetricsPort int) string {
	return fmt.Sprintf(`
global:
  scrape_interval: 2s
  evaluation_interval: 2s
rule_files: [%q]
alerting:
  alertmanagers:
    - static_configs:
        - targets: ["127.0.0.1:%d"]
scrape_configs:
  - job_name: otelcol-runtime-security
    static_configs:
      - targets: ["127.0.0.1:%d"]
`, rulesFile, alertmanagerPort, collectorMetricsPort)
}
