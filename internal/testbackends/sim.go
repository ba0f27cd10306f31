// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package testbackends

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/testenv"
)

// SimStats is the JSON line tetragon-sim --stats prints on exit.
type SimStats struct {
	Sent    int            `json:"sent"`
	ByType  map[string]int `json:"by_type"`
	Skipped int            `json:"skipped"`
	// Clients are the gRPC clients that connected, in turn, and what each was delivered.
	Clients []struct {
		Delivered int    `json:"delivered"`
		Error     string `json:"error"`
	} `json:"clients"`
	ExportLines int  `json:"export_lines"` // lines written to the export file
	Drained     bool `json:"drained"`
}

// ReadSimStats reads the stats line from the log of the simulator p, which has exited.
func ReadSimStats(t testing.TB, p *testenv.Process) SimStats {
	t.Helper()
	var st SimStats
	lines := strings.Split(p.Log(), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if strings.HasPrefix(strings.TrimSpace(lines[i]), `{"sent"`) {
			if err := json.Unmarshal([]byte(lines[i]), &st); err != nil {
				t.Fatalf("sim stats %q: %v", lines[i], err)
			}
			return st
		}
	}
	t.Fatalf("tetragon-sim printed no stats line:\n%s", p.Tail(2000))
	return st
}
