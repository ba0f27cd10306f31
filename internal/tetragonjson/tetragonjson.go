// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

// Package tetragonjson is the JSON codec of Tetragon's GetEventsResponse: a
// decoder for the lines of Tetragon's JSON export (`tetra getevents -o json`),
// with a variant that leaves out the fields of Tetragon field filters, and an
// encoder that writes what protojson (proto names) writes. Both accept,
// reject and produce what google.golang.org/protobuf/encoding/protojson does,
// several times faster; differential tests and fuzz targets hold them to it.
// The same walk also writes an event into a pcommon.Map in protojson's shape
// (the receiver's body=map), and the package formats timestamps as protojson
// does. See README.md.
package tetragonjson

import (
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strings"

	"github.com/cilium/tetragon/api/v1/tetragon"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// UnknownEventTypeError reports a line or message that holds no event type known
// to the Tetragon API (e.g. the legacy process_connect). Keys lists the top-level
// keys seen other than the common envelope fields (node_name, time, …); when
// there are no such keys it lists all of them.
type UnknownEventTypeError struct{ Keys []string }

func (e *UnknownEventTypeError) Error() string {
	if len(e.Keys) == 0 {
		return "tetragon event has no event type"
	}
	return "unknown tetragon event type (keys: " + strings.Join(e.Keys, ", ") + ")"
}

// UnknownEvent is the UnknownEventTypeError of a message (one that arrived
// without a JSON line, over gRPC): its Keys are the populated fields.
func UnknownEvent(ev *tetragon.GetEventsResponse) *UnknownEventTypeError {
	var keys []string
	ev.ProtoReflect().Range(func(fd protoreflect.FieldDescriptor, _ protoreflect.Value) bool {
		if !envelopeKeys[string(fd.Name())] {
			keys = append(keys, string(fd.Name()))
		}
		return true
	})
	return &UnknownEventTypeError{Keys: keys}
}

var jsonDecoder = protojson.UnmarshalOptions{DiscardUnknown: true}

// DecodeJSON decodes one line of Tetragon's JSON export / `tetra getevents -o
// json` output into ev (reset first). Unknown fields are tolerated, but an
// event with no event type returns *UnknownEventTypeError. Malformed JSON
// returns an error wrapping the cause.
func DecodeJSON(line []byte, ev *tetragon.GetEventsResponse) error {
	ev.Reset()
	plan, ok := eventPlan()
	err := errUnsupported
	if ok {
		err = decodeFast(line, ev, plan)
	}
	if err == errUnsupported {
		ev.Reset()
		err = jsonDecoder.Unmarshal(line, ev)
	}
	if err != nil {
		return fmt.Errorf("decode tetragon event: %w", err)
	}
	if !HasEvent(ev) {
		return &UnknownEventTypeError{Keys: topLevelKeys(line)}
	}
	return nil
}

// HasEvent reports whether ev holds an event: a member of the event oneof
// other than Tetragon's internal "test" event, and not null. This is the
// codec's notion of "known event type", kept generic so the codec does not
// repeat the list of types; eventmap's test TestTypesAreTheEventOneof holds
// eventmap.Types equal to the oneof's members other than "test", so the two
// agree.
func HasEvent(ev *tetragon.GetEventsResponse) bool {
	switch e := ev.GetEvent().(type) {
	case nil, *tetragon.GetEventsResponse_Test:
		return false
	default:
		// The oneof wrapper struct's only field holds the event message.
		f := reflect.ValueOf(e).Elem().Field(0)
		return f.Kind() != reflect.Pointer || !f.IsNil()
	}
}

// envelopeKeys are the GetEventsResponse fields that are not the event oneof.
var envelopeKeys = map[string]bool{
	"node_name": true, "nodeName": true, "time": true, "aggregation_info": true,
	"aggregationInfo": true, "cluster_name": true, "clusterName": true,
	"node_labels": true, "nodeLabels": true,
}

// topLevelKeys runs only on the error path, so encoding/json is fine here.
func topLevelKeys(line []byte) []string {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(line, &m); err != nil {
		return nil
	}
	var all, other []string
	for k := range m {
		all = append(all, k)
		if !envelopeKeys[k] {
			other = append(other, k)
		}
	}
	if len(other) == 0 {
		other = all
	}
	sort.Strings(other)
	return other
}
