// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package eventmap

import (
	"bytes"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/cilium/tetragon/api/v1/tetragon"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/jsonl"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/tetragonjson"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/testbed/tetragonsim"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/testenv"
)

// sharedDir is the shared Tetragon corpus (testenv.EventsDir: required, a missing folder fails the
// test instead of skipping it).
func sharedDir(tb testing.TB) string { return testenv.EventsDir(tb) }

type corpusLine struct {
	file string
	num  int // 1-based
	data []byte
}

// readCorpus returns every non-empty line of the files matching pattern
// (relative to the shared folder), gunzipping *.gz. It fails when nothing matches.
func readCorpus(tb testing.TB, pattern string) []corpusLine {
	tb.Helper()
	files, err := filepath.Glob(filepath.Join(sharedDir(tb), pattern))
	if err != nil {
		tb.Fatal(err)
	}
	if len(files) == 0 {
		tb.Fatalf("no corpus files match %s", pattern)
	}
	sort.Strings(files)
	var out []corpusLine
	for _, f := range files {
		err := jsonl.Each(f, func(num int, line []byte) error {
			out = append(out, corpusLine{file: filepath.Base(f), num: num, data: bytes.Clone(line)})
			return nil
		})
		if err != nil {
			tb.Fatal(err)
		}
	}
	return out
}

// corpusEvents decodes the real and captured corpora (legacy event types left out).
func corpusEvents(t testing.TB) []*tetragon.GetEventsResponse {
	var evs []*tetragon.GetEventsResponse
	for _, pattern := range []string{"real/*.jsonl", "captured/*.jsonl.gz"} {
		for _, l := range readCorpus(t, pattern) {
			ev := new(tetragon.GetEventsResponse)
			if err := tetragonjson.DecodeJSON(l.data, ev); err != nil {
				continue // legacy event types in the book file
			}
			evs = append(evs, ev)
		}
	}
	if len(evs) < 1800 {
		t.Fatalf("only %d corpus events", len(evs))
	}
	return evs
}

// simulatorEvents are perScenario events of every tetragonsim scenario.
func simulatorEvents(t testing.TB, perScenario int) []*tetragon.GetEventsResponse {
	t.Helper()
	var evs []*tetragon.GetEventsResponse
	for _, sc := range tetragonsim.Scenarios() {
		g, err := tetragonsim.NewGenerator(tetragonsim.GeneratorConfig{Scenario: sc, Seed: 7,
			Clock: func() time.Time { return observedAt }})
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < perScenario; i++ {
			evs = append(evs, g.Next())
		}
	}
	return evs
}
