// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package eventmap

import (
	"testing"
	"time"

	"github.com/cilium/tetragon/api/v1/tetragon"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/attrkey"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/synthevents"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/tetragonjson"
)

// attrCapacity must bound the attribute count: below it the record's
// attribute slice grows (and reallocates) while being filled.
func TestAttrCapacityBoundsAttributes(t *testing.T) {
	evs := synthevents.Corpus(t, tetragonjson.DecodeJSON)
	evs = append(evs, synthevents.ApplyShippedFieldFilter(t, evs)...)
	evs = append(evs, synthevents.Simulated(t, 20)...)
	evs = append(evs, syntheticEvents()...)
	checked := 0
	for i, ev := range evs {
		if EventType(ev) == "" {
			continue
		}
		b := NewBatch(Options{Body: BodyNone})
		if err := b.Add(ev, nil, time.Unix(1, 0)); err != nil {
			t.Fatalf("event %d: %v", i, err)
		}
		attrs := b.Flush().ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0).Attributes()
		if want := attrCapacity(ev, mainProcess(ev)); attrs.Len() > want {
			t.Errorf("event %d (%s): %d attributes, attrCapacity %d", i, EventType(ev), attrs.Len(), want)
		}
		checked++
	}
	if checked < 100 {
		t.Fatalf("only %d events checked", checked)
	}
}

// derive is reused per Batch: a long value must not leak into the next event.
func TestDeriveReusesScratchSafely(t *testing.T) {
	long := &tetragon.GetEventsResponse{Event: &tetragon.GetEventsResponse_ProcessExec{ProcessExec: &tetragon.ProcessExec{
		Process: &tetragon.Process{Binary: "/bin/long", Arguments: string(make([]byte, 1000))}}}}
	short := &tetragon.GetEventsResponse{Event: &tetragon.GetEventsResponse_ProcessExec{ProcessExec: &tetragon.ProcessExec{
		Process: &tetragon.Process{Binary: "/bin/sh", Arguments: "-c true"}}}}
	b := NewBatch(Options{Body: BodyNone})
	for _, ev := range []*tetragon.GetEventsResponse{long, short} {
		if err := b.Add(ev, nil, time.Unix(1, 0)); err != nil {
			t.Fatal(err)
		}
	}
	recs := b.Flush().ResourceLogs().At(0).ScopeLogs().At(0).LogRecords()
	if recs.Len() != 2 {
		t.Fatalf("%d records", recs.Len())
	}
	first, _ := recs.At(0).Attributes().Get(attrkey.ProcessCommandLine)
	second, _ := recs.At(1).Attributes().Get(attrkey.ProcessCommandLine)
	if got := first.Str(); len(got) != len("/bin/long ")+1000 || got[:10] != "/bin/long " {
		t.Errorf("first command line changed: %q…", got[:min(len(got), 20)])
	}
	if got := second.Str(); got != "/bin/sh -c true" {
		t.Errorf("second command line = %q", got)
	}
}
