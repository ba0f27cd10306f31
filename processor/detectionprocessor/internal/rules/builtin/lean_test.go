// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package builtin_test

import (
	"bytes"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/cilium/tetragon/api/v1/tetragon"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/testbed/tetragonsim"
)

// TestLeanFieldFiltersKeepDetections backs the receiver README's advice to
// ask Tetragon for less: with the field filters of the receiver's
// `tetragon/lean` example (no capability lists or namespaces, no parent or
// ancestor credentials, no ancestor arguments), every rule case, corpus event
// and simulated attack matches exactly the rules it matches unfiltered, and
// the captured events shrink by more than half.
func TestLeanFieldFiltersKeepDetections(t *testing.T) {
	filters := leanFieldFilters(t)
	var lines [][]byte
	for _, c := range allCases() {
		lines = append(lines, c.ev)
	}
	captured := corpusLines(t, "captured/*.jsonl.gz")
	lines = append(lines, corpusLines(t, "real/*.jsonl")...)
	lines = append(lines, captured...)
	clock := time.Date(2026, 11, 26, 17, 0, 0, 0, time.UTC)
	g, err := tetragonsim.NewGenerator(tetragonsim.GeneratorConfig{Scenario: "attack", Seed: 3,
		Clock: func() time.Time { clock = clock.Add(time.Millisecond); return clock }})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2000; i++ {
		b, err := protojson.Marshal(g.Next())
		if err != nil {
			t.Fatal(err)
		}
		lines = append(lines, b)
	}

	var full, lean []ruleCase
	for _, l := range lines {
		var ev tetragon.GetEventsResponse
		if protojson.Unmarshal(l, &ev) != nil || ev.GetEvent() == nil || ev.GetTest() != nil {
			continue // legacy event types
		}
		ev.NodeName = "node-1" // evaluate tells the records apart by node name
		full = append(full, ruleCase{name: "full", ev: compactJSON(t, &ev)})
		filters.Apply(&ev)
		lean = append(lean, ruleCase{name: "lean", ev: compactJSON(t, &ev)})
	}
	rs := builtin(t)
	want, got := evaluate(t, rs, full), evaluate(t, rs, lean)
	hits := 0
	for i := range want {
		slices.Sort(want[i])
		slices.Sort(got[i])
		if !slices.Equal(want[i], got[i]) {
			t.Errorf("event %d: %v unfiltered, %v with the lean field filters\n%s", i, want[i], got[i], full[i].ev)
		}
		hits += len(want[i])
	}
	if hits < 100 {
		t.Errorf("only %d detections compared", hits)
	}

	var before, after int
	for _, l := range captured {
		var ev tetragon.GetEventsResponse
		if err := protojson.Unmarshal(l, &ev); err != nil {
			t.Fatal(err)
		}
		before += len(compactJSON(t, &ev))
		filters.Apply(&ev)
		after += len(compactJSON(t, &ev))
	}
	if after*2 > before {
		t.Errorf("lean filters keep %d of %d bytes of the captured events", after, before)
	}
	t.Logf("%d events, %d detections identical; captured events: %d -> %d bytes (%.0f%%)",
		len(want), hits, before, after, 100*float64(after)/float64(before))
}

// leanFieldFilters reads the field filters of tetragon/lean from the
// receiver's example configurations.
func leanFieldFilters(t *testing.T) tetragonsim.FieldFilters {
	t.Helper()
	filters, err := tetragonsim.CompileFieldFilters(&tetragon.GetEventsRequest{FieldFilters: exampleFieldFilters(t, "tetragon/lean")})
	if err != nil {
		t.Fatal(err)
	}
	return filters
}

func compactJSON(t *testing.T, ev *tetragon.GetEventsResponse) []byte {
	t.Helper()
	b, err := protojson.MarshalOptions{UseProtoNames: true}.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := json.Compact(&out, b); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}
