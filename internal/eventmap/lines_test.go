// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package eventmap

import (
	"testing"
	"time"

	"github.com/cilium/tetragon/api/v1/tetragon"
)

func TestAddLineCountsEachOutcome(t *testing.T) {
	b := NewBatch(Options{Body: BodyNone})
	var ev tetragon.GetEventsResponse
	var st LineStats
	for _, l := range []string{
		`{"process_exec":{"process":{"binary":"/bin/sh","pid":1}},"node_name":"n","time":"2026-12-07T12:00:00Z"}`,
		`{"process_connect":{"process":{"binary":"/bin/nc"}},"node_name":"n"}`, // not in the open-source API
		`{"process_exec":`, // cut short
	} {
		b.AddLine([]byte(l), &ev, time.Now(), &st)
	}
	if want := (LineStats{Lines: 3, Events: 1, Unknown: 1, Malformed: 1}); st != want {
		t.Errorf("stats %+v, want %+v", st, want)
	}
	if b.Len() != 1 {
		t.Errorf("batch holds %d records, want 1", b.Len())
	}
	if got := st.Plus(st); got != (LineStats{6, 2, 2, 2}) {
		t.Errorf("Plus = %+v", got)
	}
}
