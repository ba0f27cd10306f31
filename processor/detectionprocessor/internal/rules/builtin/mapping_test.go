// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package builtin_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/cilium/tetragon/api/v1/tetragon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/eventmap"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/testenv"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/tetragonjson"
)

// The catalogue tests map Tetragon JSON lines with the tetragon receiver's own
// decoder and mapping (internal/tetragonjson, internal/eventmap): the records the rules see are exactly
// what a deployed collector produces.

// record is one mapped log record with its resource, ready for evaluation.
type record struct {
	rl plog.ResourceLogs
	sl plog.ScopeLogs
	lr plog.LogRecord
}

// mapLines maps lines (one Tetragon event each) and returns every record,
// failing the test when they do not make want records (lines the receiver would
// skip, unknown types or malformed JSON, make none).
func mapLines(t testing.TB, lines [][]byte, want int) []record {
	t.Helper()
	batch := eventmap.NewBatch(eventmap.Options{})
	var ev tetragon.GetEventsResponse
	now := time.Now()
	for _, l := range lines {
		if err := tetragonjson.DecodeJSON(l, &ev); err != nil {
			continue
		}
		_ = batch.Add(&ev, l, now)
	}
	if got := batch.Len(); got != want {
		t.Fatalf("mapping produced %d records from %d lines, want %d", got, len(lines), want)
	}
	ld := batch.Flush()
	var out []record
	for i := 0; i < ld.ResourceLogs().Len(); i++ {
		rl := ld.ResourceLogs().At(i)
		for j := 0; j < rl.ScopeLogs().Len(); j++ {
			sl := rl.ScopeLogs().At(j)
			for k := 0; k < sl.LogRecords().Len(); k++ {
				out = append(out, record{rl: rl, sl: sl, lr: sl.LogRecords().At(k)})
			}
		}
	}
	return out
}

// corpusLines returns the non-empty lines of every file of the shared corpus
// matching pattern (e.g. "captured/*.jsonl.gz"); no file is a failure.
func corpusLines(t testing.TB, pattern string) [][]byte {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(testenv.EventsDir(t), pattern))
	if err != nil || len(files) == 0 {
		t.Fatalf("no corpus files for %s: %v", pattern, err)
	}
	var lines [][]byte
	for _, f := range files {
		lines = append(lines, testenv.ReadLines(t, f)...)
	}
	return lines
}
