// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package tetragonwire

import (
	"testing"
	"time"

	"github.com/cilium/tetragon/api/v1/tetragon"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/testenv"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/testbed/tetragonsim"
)

// corpusEvent is one event of the test corpus in wire form.
type corpusEvent struct {
	where string
	wire  []byte
}

// globEvents decodes every line of the corpus files matching pattern with protojson (unknown
// fields discarded).
func globEvents(t testing.TB, pattern string) []*tetragon.GetEventsResponse {
	t.Helper()
	var out []*tetragon.GetEventsResponse
	for _, l := range testenv.ReadCorpus(t, pattern) {
		ev := &tetragon.GetEventsResponse{}
		if err := (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(l.Data, ev); err != nil {
			t.Fatalf("%s:%d: %v", l.File, l.Num, err)
		}
		out = append(out, ev)
	}
	return out
}

// realEvents are the 56 events of real/*.jsonl.
func realEvents(t testing.TB) []*tetragon.GetEventsResponse { return globEvents(t, "real/*.jsonl") }

// capturedEvents are the events of captured/*.jsonl.gz (a real Tetragon daemon).
func capturedEvents(t testing.TB) []*tetragon.GetEventsResponse {
	return globEvents(t, "captured/*.jsonl.gz")
}

// simEvents are n events of every simulator scenario, with a fixed seed and clock.
func simEvents(t testing.TB, n int) []*tetragon.GetEventsResponse {
	t.Helper()
	var out []*tetragon.GetEventsResponse
	for _, sc := range tetragonsim.Scenarios() {
		now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
		g, err := tetragonsim.NewGenerator(tetragonsim.GeneratorConfig{
			Scenario: sc, Seed: 42,
			Clock: func() time.Time { now = now.Add(1234567 * time.Nanosecond); return now },
		})
		if err != nil {
			t.Fatal(err)
		}
		for range n {
			out = append(out, g.Next())
		}
	}
	return out
}

func wireOf(t testing.TB, where string, evs []*tetragon.GetEventsResponse) []corpusEvent {
	t.Helper()
	out := make([]corpusEvent, len(evs))
	for i, ev := range evs {
		b, err := proto.Marshal(ev)
		if err != nil {
			t.Fatal(err)
		}
		out[i] = corpusEvent{where: where, wire: b}
	}
	return out
}
