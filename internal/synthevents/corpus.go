// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package synthevents

import (
	"testing"
	"time"

	"github.com/cilium/tetragon/api/v1/tetragon"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/testenv"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/testbed/tetragonsim"
)

// DecodeFunc decodes one export line. Callers pass tetragonjson.DecodeJSON: this package cannot
// import it, since tetragonjson's own tests import this package.
type DecodeFunc func(line []byte, ev *tetragon.GetEventsResponse) error

// Decode decodes every line; a line decode refuses fails the test.
func Decode(tb testing.TB, lines [][]byte, decode DecodeFunc) []*tetragon.GetEventsResponse {
	tb.Helper()
	evs := make([]*tetragon.GetEventsResponse, len(lines))
	for i, l := range lines {
		evs[i] = new(tetragon.GetEventsResponse)
		if err := decode(l, evs[i]); err != nil {
			tb.Fatal(err)
		}
	}
	return evs
}

// Corpus decodes the real and captured corpora, leaving out the lines decode refuses (the legacy
// event types of the book file in real/).
func Corpus(tb testing.TB, decode DecodeFunc) []*tetragon.GetEventsResponse {
	tb.Helper()
	var evs []*tetragon.GetEventsResponse
	for _, pattern := range []string{"real/*.jsonl", "captured/*.jsonl.gz"} {
		for _, l := range testenv.ReadCorpus(tb, pattern) {
			ev := new(tetragon.GetEventsResponse)
			if err := decode(l.Data, ev); err != nil {
				continue
			}
			evs = append(evs, ev)
		}
	}
	// A decoder that refuses most lines would otherwise leave the callers checking little.
	if len(evs) < 1800 {
		tb.Fatalf("only %d corpus events", len(evs))
	}
	return evs
}

// simTime is the simulator's clock: fixed, so that the events are the same on every run.
var simTime = time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)

// Simulated returns perScenario events of every tetragonsim scenario, from a fixed seed.
func Simulated(tb testing.TB, perScenario int) []*tetragon.GetEventsResponse {
	tb.Helper()
	var evs []*tetragon.GetEventsResponse
	for _, sc := range tetragonsim.Scenarios() {
		g, err := tetragonsim.NewGenerator(tetragonsim.GeneratorConfig{Scenario: sc, Seed: 7,
			Clock: func() time.Time { return simTime }})
		if err != nil {
			tb.Fatal(err)
		}
		for i := 0; i < perScenario; i++ {
			evs = append(evs, g.Next())
		}
	}
	return evs
}

// ShippedFieldFilter returns the field filter of the distribution's config
// (distribution/config.yaml, deploy/): Tetragon clears these fields before sending, so the
// receiver mostly sees events without them.
func ShippedFieldFilter() *tetragon.FieldFilter {
	return &tetragon.FieldFilter{
		EventSet: []tetragon.EventType{tetragon.EventType_PROCESS_EXEC, tetragon.EventType_PROCESS_EXIT,
			tetragon.EventType_PROCESS_KPROBE, tetragon.EventType_PROCESS_TRACEPOINT, tetragon.EventType_PROCESS_LSM,
			tetragon.EventType_PROCESS_UPROBE, tetragon.EventType_PROCESS_USDT, tetragon.EventType_PROCESS_LOADER},
		Fields: &fieldmaskpb.FieldMask{Paths: []string{"process.cap", "process.ns", "parent.cap", "parent.ns",
			"parent.process_credentials", "ancestors.cap", "ancestors.ns", "ancestors.process_credentials",
			"ancestors.arguments"}},
		Action: tetragon.FieldFilterAction_EXCLUDE,
	}
}

// ApplyShippedFieldFilter returns copies of evs filtered by the simulator's implementation of
// Tetragon's field filters; evs are left as they are.
func ApplyShippedFieldFilter(tb testing.TB, evs []*tetragon.GetEventsResponse) []*tetragon.GetEventsResponse {
	tb.Helper()
	ffs, err := tetragonsim.CompileFieldFilters(&tetragon.GetEventsRequest{
		FieldFilters: []*tetragon.FieldFilter{ShippedFieldFilter()}})
	if err != nil {
		tb.Fatal(err)
	}
	out := make([]*tetragon.GetEventsResponse, len(evs))
	for i, ev := range evs {
		out[i] = proto.Clone(ev).(*tetragon.GetEventsResponse)
		ffs.Apply(out[i])
	}
	return out
}

// BenchCorpus is a corpus the benchmarks of several packages share, so that their results line up.
// Filtered applies the shipped field filter to the decoded events: what the receiver gets from
// Tetragon by default.
type BenchCorpus struct {
	Name, Pattern string
	Filtered      bool
}

// LineCorpora are the corpora as export lines, for the decoder benchmarks (tetragonjson) and the
// mapping of decoded lines (eventmap).
var LineCorpora = []BenchCorpus{
	{"real", "real/*.jsonl", false},
	{"captured", "captured/main-export.jsonl.gz", false},
}

// GRPCCorpora are the corpora as their events arrive over gRPC, without their JSON line, for the
// encoder (tetragonjson) and gRPC mapping (eventmap) benchmarks: the line corpora, and the captured
// events filtered.
var GRPCCorpora = []BenchCorpus{
	{"real", "real/*.jsonl", false},
	{"captured", "captured/main-export.jsonl.gz", false},
	{"captured-filtered", "captured/main-export.jsonl.gz", true},
}

// Events decodes the corpus's lines, filtered when c.Filtered.
func (c BenchCorpus) Events(tb testing.TB, decode DecodeFunc) []*tetragon.GetEventsResponse {
	tb.Helper()
	lines, _ := testenv.CorpusData(tb, c.Pattern)
	evs := Decode(tb, lines, decode)
	if c.Filtered {
		evs = ApplyShippedFieldFilter(tb, evs)
	}
	return evs
}
