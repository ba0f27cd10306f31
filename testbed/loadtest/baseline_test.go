// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

//go:build baseline

package loadtest

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/testenv"
)

// TestBaselineComparison needs bin/otelcol-baseline (testbed/baseline/build.sh, a long build),
// so it has its own build tag and CI does not run it:
//
//	go test -tags baseline ./testbed/loadtest/
//
// Both collectors read the same attack export file; both must deliver every event and count it
// in their remote-write metric, and the baseline's OTTL rules must fire across the catalogue.
func TestBaselineComparison(t *testing.T) {
	root := testenv.RepoRoot(t)
	const events = 3000
	c, err := CompareBaseline(context.Background(), Options{
		Scenario:     "attack",
		CollectorBin: testenv.Binary(t, "OTELCOL_BIN", "otelcol-runtime-security"),
		SimBin:       testenv.Binary(t, "TETRAGON_SIM_BIN", "tetragon-sim"),
		EventsDir:    testenv.EventsDir(t),
		CacheDir:     t.TempDir(),
		Log:          testWriter{t},
	}, BaselineOptions{
		BaselineBin:    testenv.Binary(t, "OTELCOL_BASELINE_BIN", "otelcol-baseline"),
		BaselineConfig: filepath.Join(root, "testbed", "baseline", "config.yaml"),
		Events:         events,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("ours %+v\nbaseline %+v\nratio %.2f", c.Ours, c.Baseline, c.Ratio)
	for _, f := range []FileRun{c.Ours, c.Baseline} {
		if f.Delivered != events {
			t.Errorf("%s delivered %d of %d", f.Target, f.Delivered, events)
		}
		if f.EventsTotalMetric != events {
			t.Errorf("%s: runtime_security_events_total = %v, want %d", f.Target, f.EventsTotalMetric, events)
		}
		if f.CPUSeconds <= 0 || f.EventsPerCPUSecond <= 0 || f.PeakRSSBytes == 0 {
			t.Errorf("%s: CPU or RSS not measured: %+v", f.Target, f)
		}
		if f.Detected == 0 {
			t.Errorf("%s tagged nothing in an attack scenario", f.Target)
		}
		for _, n := range f.Notes {
			t.Errorf("%s: %s", f.Target, n)
		}
	}
	for _, rule := range []string{"terminal_shell_in_container", "sensitive_file_read", "package_manager_in_container",
		"reverse_shell", "crypto_miner", "service_account_token_read", "kernel_module_load", "ptrace_attach", "namespace_escape"} {
		if c.Baseline.Rules[rule] == 0 {
			t.Errorf("baseline rule %s never fired (rules: %v)", rule, c.Baseline.Rules)
		}
	}
	if c.Ratio <= 0 {
		t.Errorf("ratio %v", c.Ratio)
	}
}
