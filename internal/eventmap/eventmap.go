// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

// Package eventmap maps Tetragon events (decoded from JSON lines by
// internal/tetragonjson, or gRPC messages) to OpenTelemetry log records
// following internal/attrkey.
package eventmap

import (
	"github.com/cilium/tetragon/api/v1/tetragon"

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
