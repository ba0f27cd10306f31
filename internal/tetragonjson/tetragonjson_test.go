// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package tetragonjson

import (
	"errors"
	"testing"

	"github.com/cilium/tetragon/api/v1/tetragon"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/synthevents"
)

func TestUnknownEventTypeErrorMessage(t *testing.T) {
	err := error(&UnknownEventTypeError{Keys: []string{"process_connect"}})
	var ue *UnknownEventTypeError
	if !errors.As(err, &ue) || err.Error() != "unknown tetragon event type (keys: process_connect)" {
		t.Errorf("%v", err)
	}
	if (&UnknownEventTypeError{}).Error() == "" {
		t.Error("empty message")
	}
}

// TestHasEvent: no oneof member, Tetragon's internal test event and a typed
// nil member are no event; every member of the synthetic events is one.
func TestHasEvent(t *testing.T) {
	for _, ev := range []*tetragon.GetEventsResponse{
		{},
		{Event: &tetragon.GetEventsResponse_Test{Test: &tetragon.Test{}}},
		{Event: &tetragon.GetEventsResponse_ProcessExec{}},
		{Event: &tetragon.GetEventsResponse_RateLimitInfo{}},
	} {
		if HasEvent(ev) {
			t.Errorf("HasEvent(%v) = true", ev)
		}
	}
	for _, ev := range synthevents.Events() {
		if !HasEvent(ev) {
			t.Errorf("HasEvent(%v) = false", ev)
		}
	}
}
