// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package tetragonjson

import (
	"reflect"
	"testing"

	"github.com/cilium/tetragon/api/v1/tetragon"
	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/synthevents"
)

// TestStructWalkMatchesReflection holds the plan-driven body walk (used on the
// hot path) equal to the protoreflect walk (the fallback) on every event.
func TestStructWalkMatchesReflection(t *testing.T) {
	plan, ok := eventPlan()
	if !ok {
		t.Fatal(planErr)
	}
	events := synthevents.Events()
	for _, pattern := range []string{"real/*.jsonl", "captured/*.jsonl.gz"} {
		for _, l := range readCorpus(t, pattern) {
			ev := new(tetragon.GetEventsResponse)
			if err := DecodeJSON(l.data, ev); err != nil {
				t.Fatal(err)
			}
			events = append(events, ev)
		}
	}
	for i, ev := range events {
		viaPlan, viaReflect := pcommon.NewMap(), pcommon.NewMap()
		putStruct(viaPlan, reflect.ValueOf(ev).Elem(), plan)
		putMessage(viaReflect, ev.ProtoReflect())
		if !viaPlan.Equal(viaReflect) {
			t.Fatalf("event %d: walks differ\nplan:    %v\nreflect: %v", i, viaPlan.AsRaw(), viaReflect.AsRaw())
		}
	}
}
