// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package tetragonwire

import (
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/cilium/tetragon/api/v1/tetragon"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/testenv"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/testbed/tetragonsim"
)

// corpusEvent is one event of the test corpus in wire form.
type corpusEvent struct {
	where string
	wire  []byte
}

// readJSONL decodes every non-empty line of path (gzip when it ends in .gz) as a GetEventsResponse.
func readJSONL(t testing.TB, path string) []*tetragon.GetEventsResponse {
	t.Helper()
	var out []*tetragon.GetEventsResponse
	for i, line := range testenv.ReadLines(t, path) {
		ev := &tetragon.GetEventsResponse{}
		if err := (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(line, ev); err != nil {
			t.Fatalf("%s: non-empty line %d: %v", path, i+1, err)
		}
		out = append(out, ev)
	}
	return out
}

func globEvents(t testing.TB, pattern string) []*tetragon.GetEventsResponse {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(testenv.EventsDir(t), pattern))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatalf("no files match %s in the shared Tetragon corpus", pattern)
	}
	sort.Strings(files)
	var out []*tetragon.GetEventsResponse
	for _, f := range files {
		out = append(out, readJSONL(t, f)...)
	}
	return out
}

// realEvents are the 56 events of real/*.jsonl.
func realEvents(t testing.TB) []*tetragon.GetEventsResponse { return globEvents(t, "real/*.jsonl") }

// capturedEvents are the events of captured/*.jsonl.gz (a real Tetragon daemon, ~22 KB each).
func capturedEvents(t testing.TB) []*tetragon.GetEventsResponse {
	return globEvents(t, "captured/*.jsonl.gz")
}

// shippedFieldFilters are the field_filters of distribution/config.yaml.
func shippedFieldFilters(t testing.TB) tetragonsim.FieldFilters {
	t.Helper()
	req := &tetragon.GetEventsRequest{FieldFilters: []*tetragon.FieldFilter{{
		EventSet: []tetragon.EventType{
			tetragon.EventType_PROCESS_EXEC, tetragon.EventType_PROCESS_EXIT, tetragon.EventType_PROCESS_KPROBE,
			tetragon.EventType_PROCESS_TRACEPOINT, tetragon.EventType_PROCESS_LSM, tetragon.EventType_PROCESS_UPROBE,
			tetragon.EventType_PROCESS_USDT, tetragon.EventType_PROCESS_LOADER,
		},
		Fields: &fieldmaskpb.FieldMask{Paths: []string{
			"process.cap", "process.ns", "parent.cap", "parent.ns", "parent.process_credentials",
			"ancestors.cap", "ancestors.ns", "ancestors.process_credentials", "ancestors.arguments",
		}},
		Action: tetragon.FieldFilterAction_EXCLUDE,
	}}}
	ffs, err := tetragonsim.CompileFieldFilters(req)
	if err != nil {
		t.Fatal(err)
	}
	return ffs
}

// filtered returns copies of evs with the shipped field filters applied.
func filtered(t testing.TB, evs []*tetragon.GetEventsResponse) []*tetragon.GetEventsResponse {
	ffs := shippedFieldFilters(t)
	out := make([]*tetragon.GetEventsResponse, len(evs))
	for i, ev := range evs {
		c := proto.Clone(ev).(*tetragon.GetEventsResponse)
		ffs.Apply(c)
		out[i] = c
	}
	return out
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
