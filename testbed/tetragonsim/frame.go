// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

// Package tetragonsim is a stand-in for Cilium Tetragon: a FineGuidanceSensors gRPC server, a
// replayer of recorded Tetragon JSON, a generator of synthetic Kubernetes runtime traffic and a
// Tetragon-style JSON export file writer. testbed/cmd/tetragon-sim is its command line; tests and
// the load harness embed it through Run or the individual pieces.
package tetragonsim

import (
	"fmt"

	"github.com/cilium/tetragon/api/v1/tetragon"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// Frame is one event ready to send: its protobuf wire encoding (a GetEventsResponse), the keys
// the request filters look at, and, when an export file is written, its JSON line.
// A Frame is immutable once built and is shared by every client it is broadcast to.
type Frame struct {
	Wire []byte
	Meta *Meta
	// JSON is the protojson line (snake_case names, no trailing newline); nil unless needed.
	JSON []byte
	// stamp rewrites the timestamps without re-marshalling; nil unless restamping.
	stamp *stampTemplate
}

// Meta holds the values of an event that GetEvents filters match on, extracted once.
type Meta struct {
	Type             tetragon.EventType
	TypeName         string // oneof field name: "process_exec", …
	HasProcess       bool
	HasPod           bool
	Binary           string
	Arguments        string
	PID              uint32
	Namespace        string
	PodName          string
	ContainerName    string
	Docker           string
	InInitTree       bool
	ParentBinary     string
	ParentArguments  string
	AncestorBinaries []string
	PolicyName       string
	HealthCheck      bool // process or parent may be a Kubernetes exec probe
}

var (
	eventOneof    = (&tetragon.GetEventsResponse{}).ProtoReflect().Descriptor().Oneofs().ByName("event")
	jsonMarshal   = protojson.MarshalOptions{UseProtoNames: true}
	jsonUnmarshal = protojson.UnmarshalOptions{DiscardUnknown: true}
)

// EventTypeOf returns the type of the event and its oneof field name ("process_exec", …), or
// UNDEF and "" when the event carries no known type.
func EventTypeOf(ev *tetragon.GetEventsResponse) (tetragon.EventType, string) {
	fd := ev.ProtoReflect().WhichOneof(eventOneof)
	if fd == nil {
		return tetragon.EventType_UNDEF, ""
	}
	return tetragon.EventType(fd.Number()), string(fd.Name())
}

// NewFrame encodes ev. withJSON also renders the export-file line.
func NewFrame(ev *tetragon.GetEventsResponse, withJSON bool) (*Frame, error) {
	meta := MetaOf(ev)
	if meta.Type == tetragon.EventType_UNDEF {
		return nil, fmt.Errorf("event has no known event type")
	}
	wire, err := proto.Marshal(ev)
	if err != nil {
		return nil, fmt.Errorf("marshal event: %w", err)
	}
	f := &Frame{Wire: wire, Meta: meta}
	if withJSON {
		if f.JSON, err = jsonMarshal.Marshal(ev); err != nil {
			return nil, fmt.Errorf("marshal event to JSON: %w", err)
		}
	}
	return f, nil
}

// Decode returns the event the frame carries.
func (f *Frame) Decode() (*tetragon.GetEventsResponse, error) {
	ev := &tetragon.GetEventsResponse{}
	if err := proto.Unmarshal(f.Wire, ev); err != nil {
		return nil, err
	}
	return ev, nil
}

// eventParts returns the process, parent, ancestors and policy name of any event type that has them.
func eventParts(ev *tetragon.GetEventsResponse) (proc, parent *tetragon.Process, ancestors []*tetragon.Process, policy string) {
	switch e := ev.Event.(type) {
	case *tetragon.GetEventsResponse_ProcessExec:
		return e.ProcessExec.GetProcess(), e.ProcessExec.GetParent(), e.ProcessExec.GetAncestors(), ""
	case *tetragon.GetEventsResponse_ProcessExit:
		return e.ProcessExit.GetProcess(), e.ProcessExit.GetParent(), e.ProcessExit.GetAncestors(), ""
	case *tetragon.GetEventsResponse_ProcessKprobe:
		k := e.ProcessKprobe
		return k.GetProcess(), k.GetParent(), k.GetAncestors(), k.GetPolicyName()
	case *tetragon.GetEventsResponse_ProcessTracepoint:
		t := e.ProcessTracepoint
		return t.GetProcess(), t.GetParent(), t.GetAncestors(), t.GetPolicyName()
	case *tetragon.GetEventsResponse_ProcessUprobe:
		u := e.ProcessUprobe
		return u.GetProcess(), u.GetParent(), u.GetAncestors(), u.GetPolicyName()
	case *tetragon.GetEventsResponse_ProcessLsm:
		l := e.ProcessLsm
		return l.GetProcess(), l.GetParent(), l.GetAncestors(), l.GetPolicyName()
	case *tetragon.GetEventsResponse_ProcessUsdt:
		u := e.ProcessUsdt
		return u.GetProcess(), u.GetParent(), u.GetAncestors(), u.GetPolicyName()
	case *tetragon.GetEventsResponse_ProcessLoader:
		return e.ProcessLoader.GetProcess(), nil, nil, ""
	}
	return nil, nil, nil, ""
}

// MetaOf extracts the filter keys of ev.
func MetaOf(ev *tetragon.GetEventsResponse) *Meta {
	m := &Meta{}
	m.Type, m.TypeName = EventTypeOf(ev)
	proc, parent, ancestors, policy := eventParts(ev)
	m.PolicyName = policy
	if proc != nil {
		m.HasProcess = true
		m.Binary = proc.GetBinary()
		m.Arguments = proc.GetArguments()
		m.PID = proc.GetPid().GetValue()
		m.Docker = proc.GetDocker()
		m.InInitTree = proc.GetInInitTree().GetValue()
		if pod := proc.GetPod(); pod != nil {
			m.HasPod = true
			m.Namespace = pod.GetNamespace()
			m.PodName = pod.GetName()
			m.ContainerName = pod.GetContainer().GetName()
		}
	}
	m.ParentBinary = parent.GetBinary()
	m.ParentArguments = parent.GetArguments()
	for _, a := range ancestors {
		m.AncestorBinaries = append(m.AncestorBinaries, a.GetBinary())
	}
	m.HealthCheck = proc.GetPod().GetContainer().GetMaybeExecProbe() ||
		parent.GetPod().GetContainer().GetMaybeExecProbe()
	return m
}

// eventMessage returns the message inside the event oneof (ProcessExec, …), or nil.
func eventMessage(ev *tetragon.GetEventsResponse) protoreflect.Message {
	r := ev.ProtoReflect()
	fd := r.WhichOneof(eventOneof)
	if fd == nil {
		return nil
	}
	return r.Mutable(fd).Message()
}
