// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

//go:build integration

package loadtest

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/testenv"
)

// TestSmokeCaptured is the short load run CI does: the real capture at 500 events/s for 5 s
// through the built distribution. No timing is asserted; the run must lose nothing, keep up,
// and measure every number the report shows.
func TestSmokeCaptured(t *testing.T) {
	out := t.TempDir()
	shipped, err := ShippedDefaults(filepath.Join(testenv.RepoRoot(t), "distribution", "config.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	res, err := Run(context.Background(), Options{
		Pipeline: shipped,
		Scenario: "captured", Rate: 500, Duration: 5 * time.Second,
		CollectorBin: testenv.Binary(t, "OTELCOL_BIN", "otelcol-runtime-security"),
		SimBin:       testenv.Binary(t, "TETRAGON_SIM_BIN", "tetragon-sim"),
		EventsDir:    testenv.EventsDir(t),
		CacheDir:     t.TempDir(),
		OutDir:       out,
		Profile:      2 * time.Second,
		FloorBudget:  300 * time.Millisecond,
		VerifySink:   true,
		GOMAXPROCS:   ShippedGOMAXPROCS,
		Log:          testWriter{t},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v", res)
	if res.Sent != 2500 {
		t.Errorf("sent %d events, want 2500 (rate × duration)", res.Sent)
	}
	if res.Lost != 0 || res.Delivered != res.Sent {
		t.Errorf("sent %d, delivered %d: lost %d", res.Sent, res.Delivered, res.Lost)
	}
	if !res.Sustained || !res.Passed() {
		t.Errorf("run did not pass: sent %.0f/s of 500", res.SentPerSec)
	}
	if res.Accepted != res.Sent || int64(res.Telemetry.Sent) != res.Sent {
		t.Errorf("collector telemetry: accepted %d, exporter sent %v, want %d", res.Accepted, res.Telemetry.Sent, res.Sent)
	}
	if res.RemoteWrite.EventsTotal != float64(res.Sent) {
		t.Errorf("runtime_security_events_total via remote write = %v, want %d", res.RemoteWrite.EventsTotal, res.Sent)
	}
	for name, v := range map[string]float64{
		"sent/s":                 res.SentPerSec,
		"accepted/s":             res.AcceptedPerSec,
		"delivered/s":            res.DeliveredPerSec,
		"window CPU seconds":     res.Window.CPU,
		"window events":          float64(res.Window.Events),
		"CPU per event":          res.CPUNsPerEvent,
		"CPU per event (run)":    res.CPUNsPerEventRun,
		"CPU cores":              res.CPUCores,
		"decode floor":           res.Floor.CPUNsPerEvent,
		"ratio to floor":         res.RatioToFloor,
		"peak RSS":               float64(res.PeakRSSBytes),
		"latency samples":        float64(res.Latency.Count),
		"latency p50":            res.Latency.P50ms,
		"latency p99":            res.Latency.P99ms,
		"remote-write samples":   float64(res.RemoteWrite.Samples),
		"all-records latency n":  float64(res.LatencyAll.Count),
		"floor wire bytes/event": res.Floor.WireBytes,
	} {
		if !(v > 0) {
			t.Errorf("%s not measured: %v", name, v)
		}
	}
	if res.LatencyAll.Count != int(res.Delivered) {
		t.Errorf("%d latency samples for %d records (every captured event has a time)", res.LatencyAll.Count, res.Delivered)
	}
	if res.ProfilePath == "" {
		t.Errorf("no CPU profile: %v", res.Notes)
	} else if top, err := ProfileTop(res.ProfilePath, 5); err != nil || len(top) == 0 {
		t.Errorf("profile unreadable: %v", err)
	} else if shares, err := ProfileBreakdown(res.ProfilePath); err != nil || len(shares) == 0 {
		t.Errorf("profile breakdown: %v %v", shares, err)
	}
	for _, n := range res.Notes {
		t.Errorf("note: %s", n)
	}
	entries, _ := os.ReadDir(out)
	var jsons int
	for _, e := range entries {
		if len(e.Name()) > 5 && e.Name()[len(e.Name())-5:] == ".json" {
			jsons++
		}
	}
	if jsons != 1 {
		t.Errorf("%d JSON results written, want 1", jsons)
	}
}
