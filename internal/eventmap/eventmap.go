// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

// Package eventmap decodes Tetragon events (protojson lines or gRPC messages)
// and maps them to OpenTelemetry log records following internal/attrkey.
package eventmap

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/cilium/tetragon/api/v1/tetragon"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/attrkey"
)

// ScopeName is the instrumentation scope of every record this package produces.
const ScopeName = "github.com/otelcol-runtime-security/otelcol-runtime-security/receiver/tetragonreceiver"

// BodyMode selects what goes into a LogRecord body.
type BodyMode string

const (
	// BodyMap is the whole event as a structured map following protojson naming.
	BodyMap BodyMode = "map"
	// BodyJSON is the original JSON line (or a protojson marshal of the event).
	BodyJSON BodyMode = "json"
	// BodyNone leaves the body empty.
	BodyNone BodyMode = "none"
)

// Options configure a Batch.
type Options struct {
	Body        BodyMode // default map
	ClusterName string   // used for k8s.cluster.name when the event carries none
}

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

var jsonDecoder = protojson.UnmarshalOptions{DiscardUnknown: true}

// DecodeJSON decodes one line of Tetragon's JSON export / `tetra getevents -o
// json` output into ev (reset first). Unknown fields are tolerated, but an
// event with no known event type returns *UnknownEventTypeError. Malformed JSON
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
	if EventType(ev) == "" {
		return &UnknownEventTypeError{Keys: topLevelKeys(line)}
	}
	return nil
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

// Event type names: the protojson names of the GetEventsResponse oneof.
const (
	TypeProcessExec       = "process_exec"
	TypeProcessExit       = "process_exit"
	TypeProcessKprobe     = "process_kprobe"
	TypeProcessTracepoint = "process_tracepoint"
	TypeProcessLsm        = "process_lsm"
	TypeProcessUprobe     = "process_uprobe"
	TypeProcessUsdt       = "process_usdt"
	TypeProcessLoader     = "process_loader"
	TypeProcessThrottle   = "process_throttle"
	TypeRateLimitInfo     = "rate_limit_info"
)

// Types is every event type the mapping knows, in the GetEventsResponse oneof's order: the one list
// the receiver's counters, the mapping's EventNames and the rules' event validation are built from.
var Types = []string{
	TypeProcessExec, TypeProcessExit, TypeProcessKprobe, TypeProcessTracepoint, TypeProcessLsm,
	TypeProcessUprobe, TypeProcessUsdt, TypeProcessLoader, TypeProcessThrottle, TypeRateLimitInfo,
}

// EventName is the LogRecord EventName of an event type: "tetragon.process_exec", …
func EventName(eventType string) string { return attrkey.EventNamePrefix + eventType }

// EventType returns the oneof name ("process_exec", …, "rate_limit_info") or
// "" when the event holds none of them (Tetragon's internal "test" event
// counts as none).
func EventType(ev *tetragon.GetEventsResponse) string {
	switch e := ev.GetEvent().(type) {
	case *tetragon.GetEventsResponse_ProcessExec:
		if e.ProcessExec != nil {
			return TypeProcessExec
		}
	case *tetragon.GetEventsResponse_ProcessExit:
		if e.ProcessExit != nil {
			return TypeProcessExit
		}
	case *tetragon.GetEventsResponse_ProcessKprobe:
		if e.ProcessKprobe != nil {
			return TypeProcessKprobe
		}
	case *tetragon.GetEventsResponse_ProcessTracepoint:
		if e.ProcessTracepoint != nil {
			return TypeProcessTracepoint
		}
	case *tetragon.GetEventsResponse_ProcessLsm:
		if e.ProcessLsm != nil {
			return TypeProcessLsm
		}
	case *tetragon.GetEventsResponse_ProcessUprobe:
		if e.ProcessUprobe != nil {
			return TypeProcessUprobe
		}
	case *tetragon.GetEventsResponse_ProcessUsdt:
		if e.ProcessUsdt != nil {
			return TypeProcessUsdt
		}
	case *tetragon.GetEventsResponse_ProcessLoader:
		if e.ProcessLoader != nil {
			return TypeProcessLoader
		}
	case *tetragon.GetEventsResponse_ProcessThrottle:
		if e.ProcessThrottle != nil {
			return TypeProcessThrottle
		}
	case *tetragon.GetEventsResponse_RateLimitInfo:
		if e.RateLimitInfo != nil {
			return TypeRateLimitInfo
		}
	}
	return ""
}
