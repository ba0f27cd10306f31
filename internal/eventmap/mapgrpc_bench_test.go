// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package eventmap

import (
	"testing"
	"time"

	"github.com/cilium/tetragon/api/v1/tetragon"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/testbed/tetragonsim"
)

// Mapping events that arrive without their JSON line (gRPC; body=json encodes them):
// the corpora as they are, and the captured events with the distribution's
// field filters applied (what the receiver gets from Tetragon by default).
//
//	go test -run '^$' -bench MapGRPC -benchmem ./internal/eventmap/

var encodeBenchCorpora = []struct {
	name, pattern string
	filtered      bool
}{
	{"real", "real/*.jsonl", false},
	{"captured", "captured/main-export.jsonl.gz", false},
	{"captured-filtered", "captured/main-export.jsonl.gz", true},
}

func encodeBenchEvents(b *testing.B, pattern string, filtered bool) []*tetragon.GetEventsResponse {
	lines, _ := benchLines(b, pattern)
	evs := benchEvents(b, lines)
	if filtered {
		evs = applyShippedFieldFilters(b, evs)
	}
	return evs
}

// BenchmarkMapGRPC is BenchmarkMap for events with no original line, as they
// come over gRPC: body=json marshals every event.
func BenchmarkMapGRPC(b *testing.B) {
	for _, c := range encodeBenchCorpora {
		for _, body := range []BodyMode{BodyJSON, BodyMap} {
			b.Run(c.name+"/body="+string(body), func(b *testing.B) {
				benchMapEvents(b, encodeBenchEvents(b, c.pattern, c.filtered), body)
			})
		}
	}
}

// benchMapEvents adds the events to a batch with the body mode, one event per op, flushing every
// flushEvery.
func benchMapEvents(b *testing.B, evs []*tetragon.GetEventsResponse, body BodyMode) {
	batch := NewBatch(Options{Body: body})
	now := time.Now()
	b.ReportAllocs()
	defer startCPU(b)()
	for i := 0; i < b.N; i++ {
		if err := batch.Add(evs[i%len(evs)], nil, now); err != nil {
			b.Fatal(err)
		}
		if batch.Len() == flushEvery {
			batch.Flush()
		}
	}
}

// shippedFieldFilter is the field filter of the distribution's config
// (distribution/config.yaml, deploy/): Tetragon clears these fields before
// sending, so the receiver mostly encodes events without them.
var shippedFieldFilter = &tetragon.FieldFilter{
	EventSet: []tetragon.EventType{tetragon.EventType_PROCESS_EXEC, tetragon.EventType_PROCESS_EXIT,
		tetragon.EventType_PROCESS_KPROBE, tetragon.EventType_PROCESS_TRACEPOINT, tetragon.EventType_PROCESS_LSM,
		tetragon.EventType_PROCESS_UPROBE, tetragon.EventType_PROCESS_USDT, tetragon.EventType_PROCESS_LOADER},
	Fields: &fieldmaskpb.FieldMask{Paths: []string{"process.cap", "process.ns", "parent.cap", "parent.ns",
		"parent.process_credentials", "ancestors.cap", "ancestors.ns", "ancestors.process_credentials",
		"ancestors.arguments"}},
	Action: tetragon.FieldFilterAction_EXCLUDE,
}

// applyShippedFieldFilters returns filtered copies of evs, filtered by the
// simulator's implementation of Tetragon's field filters.
func applyShippedFieldFilters(t testing.TB, evs []*tetragon.GetEventsResponse) []*tetragon.GetEventsResponse {
	t.Helper()
	ffs, err := tetragonsim.CompileFieldFilters(&tetragon.GetEventsRequest{
		FieldFilters: []*tetragon.FieldFilter{shippedFieldFilter}})
	if err != nil {
		t.Fatal(err)
	}
	out := make([]*tetragon.GetEventsResponse, len(evs))
	for i, ev := range evs {
		out[i] = proto.Clone(ev).(*tetragon.GetEventsResponse)
		ffs.Apply(out[i])
	}
	return out
}
