// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

//go:build chaos

// Package chaos breaks what the collector depends on while it runs, and counts what survives:
// the built distribution (bin/otelcol-runtime-security) runs the shipped distribution/config.yaml,
// its endpoints and storage set by environment variables as in tests/e2e, against tetragon-sim
// (gRPC over a unix socket, or its export file), real VictoriaLogs stores for every event and for
// the detections, and Prometheus where counts matter. Each scenario kills, stops or corrupts one
// thing and asserts loss 0 (or the documented gap), duplicates 0 (or the documented at-least-once
// bound), the errors counted, and peak memory below the DaemonSet's limit.
//
// Every scenario sends events from a file generated once per run (tetragon-sim --generate
// --scenario attack), so what was sent is known in order before anything runs. A stored event
// is recognised by its dedupe key, event name | exec id | event time in nanoseconds (see
// eventKey): the three fields every stored record carries (EventName, tetragon.exec_id, the
// record's Timestamp, which is the event's time). The simulator stamps each generated event
// with a clock reading no earlier than the one before, so within one process (one exec id) two
// events of one type differ in time; the fixture checks that the keys of each file are unique.
//
// Run with `make chaos` (after `make build`); scripts/chaos.sh prints the summary table that
// testbed/RESULTS.md ("Chaos tests") records.
package chaos

import (
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
	"testing"
)

// row is one line of the summary table printed after the run.
type row struct {
	Scenario   string
	Mode       string
	Sent       int
	Stored     int // distinct sent events found in the all-events store
	Lost       int // sent events not stored, beyond the documented gap
	Gap        int // documented loss (gRPC: what Tetragon sent while no client was connected); -1: not known
	Duplicates int
	PeakRSSMiB float64
	Errors     string
	Note       string // a scenario that did not run: why
}

var (
	summaryMu sync.Mutex
	summary   []row
)

func record(r row) {
	summaryMu.Lock()
	defer summaryMu.Unlock()
	summary = append(summary, r)
}

func TestMain(m *testing.M) {
	code := m.Run()
	cleanupFixtures()
	table := summaryTable()
	fmt.Print(table)
	if p := os.Getenv("CHAOS_SUMMARY"); p != "" && table != "" {
		if err := os.WriteFile(p, []byte(table), 0o644); err != nil {
			fmt.Fprintf(os.Stderr, "write %s: %v\n", p, err)
		}
	}
	os.Exit(code)
}

// scenarioOrder is the order of the summary table (by scenario name prefix).
var scenarioOrder = []string{"log-store outage", "collector SIGKILL", "Tetragon restart", "queue full", "bad rules", "bad lines", "bad frames", "huge events", "memory limit"}

func summaryTable() string {
	summaryMu.Lock()
	defer summaryMu.Unlock()
	if len(summary) == 0 {
		return ""
	}
	rows := append([]row(nil), summary...)
	rank := func(r row) int {
		for i, p := range scenarioOrder {
			if strings.HasPrefix(r.Scenario, p) {
				return i
			}
		}
		return len(scenarioOrder)
	}
	sort.SliceStable(rows, func(i, j int) bool { return rank(rows[i]) < rank(rows[j]) })
	var b strings.Builder
	b.WriteString("\nCHAOS SUMMARY\n\n")
	b.WriteString("| scenario | mode | sent | stored | lost | documented gap | duplicates | peak RSS | errors counted |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|---|\n")
	for _, r := range rows {
		if r.Note != "" {
			fmt.Fprintf(&b, "| %s | – | – | – | – | – | – | – | %s |\n", r.Scenario, r.Note)
			continue
		}
		gap := fmt.Sprint(r.Gap)
		if r.Gap < 0 {
			gap = "unknown (sender killed)"
		}
		fmt.Fprintf(&b, "| %s | %s | %d | %d | %d | %s | %d | %.0f MiB | %s |\n",
			r.Scenario, r.Mode, r.Sent, r.Stored, r.Lost, gap, r.Duplicates, r.PeakRSSMiB, r.Errors)
	}
	return b.String()
}
