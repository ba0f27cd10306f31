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
	"google.golang.org/protobuf/proto"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/testbed/tetragonsim"
)

// TestLeanFieldFiltersKeepDetections backs the receiver README's advice to
// ask Tetragon for less. With the field filters of the receiver's
// `tetragon/lean` example (no capability lists or namespaces, no parent or
// ancestor credentials, no ancestor arguments) and of `tetragon/leaner` (of the
// ancestors only their binaries), every rule case, corpus event and simulated
// attack matches exactly the rules it matches unfiltered. The captured events
// shrink by more than half, and leaner keeps less than lean.
func TestLeanFieldFiltersKeepDetections(t *testing.T) {
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
	var events []*tetragon.GetEventsResponse
	var full []ruleCase
	for _, l := range lines {
		ev := &tetragon.GetEventsResponse{}
		if protojson.Unmarshal(l, ev) != nil || ev.GetEvent() == nil || ev.GetTest() != nil {
			continue // legacy event types
		}
		ev.NodeName = "node-1" // evaluate tells the records apart by node name
		events = append(events, ev)
		full = append(full, ruleCase{name: "full", ev: compactJSON(t, ev)})
	}
	rs := builtin(t)
	want := evaluate(t, rs, full)
	capturedBytes := map[string]int{}
	for _, instance := range []string{"tetragon/lean", "tetragon/leaner"} {
		t.Run(instance, func(t *testing.T) {
			filters := exampleFilters(t, instance)
			filtered := make([]ruleCase, len(events))
			for i, ev := range events {
				ev = proto.Clone(ev).(*tetragon.GetEventsResponse)
				filters.Apply(ev)
				filtered[i] = ruleCase{name: instance, ev: compactJSON(t, ev)}
			}
			got := evaluate(t, rs, filtered)
			hits := 0
			for i := range want {
				slices.Sort(want[i])
				slices.Sort(got[i])
				if !slices.Equal(want[i], got[i]) {
					t.Errorf("event %d: %v unfiltered, %v with the field filters of %s\n%s", i, want[i], got[i], instance, full[i].ev)
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
				t.Errorf("%s keeps %d of %d bytes of the captured events", instance, after, before)
			}
			capturedBytes[instance] = after
			t.Logf("%d events, %d detections identical; captured events: %d -> %d bytes (%.0f%%)",
				len(want), hits, before, after, 100*float64(after)/float64(before))
		})
	}
	if capturedBytes["tetragon/leaner"] >= capturedBytes["tetragon/lean"] {
		t.Errorf("leaner keeps %d bytes of the captured events, lean %d: want fewer", capturedBytes["tetragon/leaner"], capturedBytes["tetragon/lean"])
	}
}

// exampleFilters compiles the field filters of one of the receiver's example
// configurations.
func exampleFilters(t *testing.T, instance string) tetragonsim.FieldFilters {
	t.Helper()
	filters, err := tetragonsim.CompileFieldFilters(&tetragon.GetEventsRequest{FieldFilters: exampleFieldFilters(t, instance)})
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
