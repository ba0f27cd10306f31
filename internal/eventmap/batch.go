// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package eventmap

import (
	"time"

	"github.com/cilium/tetragon/api/v1/tetragon"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/tetragonjson"
)

// Batch accumulates mapped records, one ResourceLogs per resource key
// (node, cluster, namespace, pod, container). A Batch is not safe for
// concurrent use.
type Batch struct {
	opts      Options
	logs      plog.Logs
	resources map[resourceKey]plog.LogRecordSlice
	n         int
	scratch   []byte // derive's buffer, reused across events

	// The resource of the previous event: consecutive events mostly share it.
	lastKey  resourceKey
	lastRecs plog.LogRecordSlice
	haveLast bool
}

// maxScratch bounds the derive buffer a Batch keeps between events.
const maxScratch = 64 << 10

// resourceKey identifies a ResourceLogs. For processes outside a pod the
// container part is the process's docker (runc cgroup) id.
type resourceKey struct {
	node, cluster, namespace, pod, container string
}

// NewBatch returns an empty batch.
func NewBatch(opts Options) *Batch {
	if opts.Body == "" {
		opts.Body = BodyMap
	}
	b := &Batch{opts: opts}
	b.reset()
	return b
}

func (b *Batch) reset() {
	b.logs = plog.NewLogs()
	b.resources = make(map[resourceKey]plog.LogRecordSlice, len(b.resources))
	b.n = 0
	b.lastKey, b.lastRecs, b.haveLast = resourceKey{}, plog.LogRecordSlice{}, false
}

// Len returns the number of records added since the last Flush.
func (b *Batch) Len() int { return b.n }

// Flush hands over the accumulated logs and starts a new batch.
func (b *Batch) Flush() plog.Logs {
	out := b.logs
	b.reset()
	return out
}

// Add maps one event into the batch as one LogRecord. raw is the original JSON
// line when there is one (body=json reuses it; may be nil, then the event is
// marshalled by tetragonjson). observed is the receive time. Events with no
// known type return *tetragonjson.UnknownEventTypeError and add nothing. Add does not keep
// ev or raw: the caller may reuse both once Add returns.
func (b *Batch) Add(ev *tetragon.GetEventsResponse, raw []byte, observed time.Time) error {
	typ := EventType(ev)
	if typ == "" {
		return tetragonjson.UnknownEvent(ev)
	}
	var body string
	if b.opts.Body == BodyJSON {
		var err error
		if body, err = jsonBody(ev, raw); err != nil {
			return err
		}
	}

	proc := mainProcess(ev)
	d := b.derive(ev, proc)
	lr := b.records(ev, proc).AppendEmpty()
	lr.SetEventName(eventNames[typ])
	if t := ev.GetTime(); t != nil {
		lr.SetTimestamp(pcommon.NewTimestampFromTime(time.Unix(t.GetSeconds(), int64(t.GetNanos()))))
	}
	lr.SetObservedTimestamp(pcommon.NewTimestampFromTime(observed))
	lr.SetSeverityNumber(plog.SeverityNumberInfo)
	lr.SetSeverityText("INFO")

	attrs := lr.Attributes()
	attrs.EnsureCapacity(attrCapacity(ev, proc))
	putProcess(attrs, proc, &d)
	putEventAttributes(attrs, ev, &d)

	switch b.opts.Body {
	case BodyMap:
		tetragonjson.PutBody(lr.Body().SetEmptyMap(), ev)
	case BodyJSON:
		lr.Body().SetStr(body)
	}
	b.n++
	return nil
}

// jsonBody is the original line, else the event marshalled as protojson.
func jsonBody(ev *tetragon.GetEventsResponse, raw []byte) (string, error) {
	if raw != nil {
		return string(raw), nil
	}
	return tetragonjson.MarshalString(ev)
}

var eventNames = map[string]string{}

func init() {
	for _, t := range Types {
		eventNames[t] = EventName(t)
	}
}

// records returns the record slice of the event's resource, creating the
// ResourceLogs and its attributes on first sight of the key.
func (b *Batch) records(ev *tetragon.GetEventsResponse, proc *tetragon.Process) plog.LogRecordSlice {
	cluster := ev.GetClusterName()
	if cluster == "" {
		cluster = b.opts.ClusterName
	}
	key := resourceKey{node: ev.GetNodeName(), cluster: cluster}
	if pod := proc.GetPod(); pod != nil {
		key.namespace = pod.GetNamespace()
		key.pod = pod.GetName()
		key.container = pod.GetContainer().GetName()
	} else {
		key.container = proc.GetDocker()
	}
	if b.haveLast && key == b.lastKey {
		return b.lastRecs
	}
	if recs, ok := b.resources[key]; ok {
		b.lastKey, b.lastRecs, b.haveLast = key, recs, true
		return recs
	}
	rl := b.logs.ResourceLogs().AppendEmpty()
	putResource(rl.Resource().Attributes(), key.node, key.cluster, proc)
	sl := rl.ScopeLogs().AppendEmpty()
	sl.Scope().SetName(ScopeName)
	recs := sl.LogRecords()
	b.resources[key] = recs
	b.lastKey, b.lastRecs, b.haveLast = key, recs, true
	return recs
}

// mainProcess is the process the event is about; nil for throttle and
// rate-limit events.
func mainProcess(ev *tetragon.GetEventsResponse) *tetragon.Process {
	switch e := ev.GetEvent().(type) {
	case *tetragon.GetEventsResponse_ProcessExec:
		return e.ProcessExec.GetProcess()
	case *tetragon.GetEventsResponse_ProcessExit:
		return e.ProcessExit.GetProcess()
	case *tetragon.GetEventsResponse_ProcessKprobe:
		return e.ProcessKprobe.GetProcess()
	case *tetragon.GetEventsResponse_ProcessTracepoint:
		return e.ProcessTracepoint.GetProcess()
	case *tetragon.GetEventsResponse_ProcessLsm:
		return e.ProcessLsm.GetProcess()
	case *tetragon.GetEventsResponse_ProcessUprobe:
		return e.ProcessUprobe.GetProcess()
	case *tetragon.GetEventsResponse_ProcessUsdt:
		return e.ProcessUsdt.GetProcess()
	case *tetragon.GetEventsResponse_ProcessLoader:
		return e.ProcessLoader.GetProcess()
	}
	return nil
}

// derivedStrings are the attribute values that are not a field of the event
// as is. derive builds them in one buffer and converts it to a string once, so
// an event costs one allocation for all of them instead of one each; the
// values are substrings of that immutable string.
type derivedStrings struct {
	commandLine, parentCommandLine, creationTime, exitTime, hook string
}

func (b *Batch) derive(ev *tetragon.GetEventsResponse, proc *tetragon.Process) derivedStrings {
	const (
		iCmd = iota
		iParentCmd
		iCreation
		iExit
		iHook
		nDerived
	)
	var d derivedStrings
	var start, end [nDerived]int
	buf := b.scratch[:0]

	if bin, args := proc.GetBinary(), proc.GetArguments(); args == "" {
		d.commandLine = bin
	} else if bin != "" {
		n := len(buf)
		buf = append(append(append(buf, bin...), ' '), args...)
		start[iCmd], end[iCmd] = n, len(buf)
	}
	if st := proc.GetStartTime(); st != nil {
		n := len(buf)
		buf = tetragonjson.AppendTimestamp(buf, st.GetSeconds(), st.GetNanos())
		start[iCreation], end[iCreation] = n, len(buf)
	}
	parent := parentProcess(ev)
	if bin, args := parent.GetBinary(), parent.GetArguments(); args == "" {
		d.parentCommandLine = bin
	} else if bin != "" {
		n := len(buf)
		buf = append(append(append(buf, bin...), ' '), args...)
		start[iParentCmd], end[iParentCmd] = n, len(buf)
	}
	switch e := ev.GetEvent().(type) {
	case *tetragon.GetEventsResponse_ProcessExit:
		if t := e.ProcessExit.GetTime(); t != nil {
			n := len(buf)
			buf = tetragonjson.AppendTimestamp(buf, t.GetSeconds(), t.GetNanos())
			start[iExit], end[iExit] = n, len(buf)
		}
	case *tetragon.GetEventsResponse_ProcessTracepoint:
		n := len(buf)
		buf = append(append(append(buf, e.ProcessTracepoint.GetSubsys()...), '/'), e.ProcessTracepoint.GetEvent()...)
		start[iHook], end[iHook] = n, len(buf)
	case *tetragon.GetEventsResponse_ProcessUsdt:
		if p, name := e.ProcessUsdt.GetProvider(), e.ProcessUsdt.GetName(); p != "" || name != "" {
			n := len(buf)
			buf = append(append(append(buf, p...), '/'), name...)
			start[iHook], end[iHook] = n, len(buf)
		}
	}
	if cap(buf) <= maxScratch {
		b.scratch = buf
	}
	if len(buf) == 0 {
		return d
	}
	s := string(buf)
	sub := func(i int, dflt string) string {
		if end[i] > start[i] {
			return s[start[i]:end[i]]
		}
		return dflt
	}
	d.commandLine = sub(iCmd, d.commandLine)
	d.parentCommandLine = sub(iParentCmd, d.parentCommandLine)
	d.creationTime = sub(iCreation, "")
	d.exitTime = sub(iExit, "")
	d.hook = sub(iHook, "")
	return d
}

// parentProcess is the parent of the event's process, nil when the event type
// has none.
func parentProcess(ev *tetragon.GetEventsResponse) *tetragon.Process {
	switch e := ev.GetEvent().(type) {
	case *tetragon.GetEventsResponse_ProcessExec:
		return e.ProcessExec.GetParent()
	case *tetragon.GetEventsResponse_ProcessExit:
		return e.ProcessExit.GetParent()
	case *tetragon.GetEventsResponse_ProcessKprobe:
		return e.ProcessKprobe.GetParent()
	case *tetragon.GetEventsResponse_ProcessTracepoint:
		return e.ProcessTracepoint.GetParent()
	case *tetragon.GetEventsResponse_ProcessLsm:
		return e.ProcessLsm.GetParent()
	case *tetragon.GetEventsResponse_ProcessUprobe:
		return e.ProcessUprobe.GetParent()
	case *tetragon.GetEventsResponse_ProcessUsdt:
		return e.ProcessUsdt.GetParent()
	case *tetragon.GetEventsResponse_ProcessLoader:
		return e.ProcessLoader.GetParent()
	}
	return nil
}

// attrCapacity is an upper bound, close to exact, of the number of attributes
// putProcess and putEventAttributes write: the record's attribute slice is
// allocated once at this size instead of at a fixed 40 or by growing.
func attrCapacity(ev *tetragon.GetEventsResponse, proc *tetragon.Process) int {
	n := processAttrCount(proc)
	if p := parentProcess(ev); p != nil {
		n += 5 // pid, path, name, command line, args
	}
	const (
		policy = 3 // policy name, action, tags
		args   = 6 // tetragon.args, file.path + permission, peer address + port + transport
	)
	switch e := ev.GetEvent().(type) {
	case *tetragon.GetEventsResponse_ProcessExec:
		n += ancestorCount(e.ProcessExec.GetAncestors())
	case *tetragon.GetEventsResponse_ProcessExit:
		n += ancestorCount(e.ProcessExit.GetAncestors()) + 3
	case *tetragon.GetEventsResponse_ProcessKprobe:
		n += ancestorCount(e.ProcessKprobe.GetAncestors()) + 2 + policy + args + 1 + 1 // return, syscall name
	case *tetragon.GetEventsResponse_ProcessTracepoint:
		n += ancestorCount(e.ProcessTracepoint.GetAncestors()) + 3 + policy + args + 2 // syscall name and id
	case *tetragon.GetEventsResponse_ProcessLsm:
		n += ancestorCount(e.ProcessLsm.GetAncestors()) + 2 + policy + args
	case *tetragon.GetEventsResponse_ProcessUprobe:
		n += ancestorCount(e.ProcessUprobe.GetAncestors()) + 2 + policy + args
	case *tetragon.GetEventsResponse_ProcessUsdt:
		n += ancestorCount(e.ProcessUsdt.GetAncestors()) + 1 + policy + args
	case *tetragon.GetEventsResponse_ProcessLoader:
		n += ancestorCount(e.ProcessLoader.GetAncestors()) + 2
	case *tetragon.GetEventsResponse_ProcessThrottle:
		n += 2
	case *tetragon.GetEventsResponse_RateLimitInfo:
		n++
	}
	return n
}

func ancestorCount(a []*tetragon.Process) int {
	if len(a) == 0 {
		return 0
	}
	return 1
}

// processAttrCount bounds what putProcess writes for p.
func processAttrCount(p *tetragon.Process) int {
	if p == nil {
		return 0
	}
	n := 2 // pid, user id
	if p.GetBinary() != "" {
		n += 3
	}
	for _, s := range [...]string{p.GetArguments(), p.GetCwd(), p.GetExecId(), p.GetParentExecId(), p.GetFlags()} {
		if s != "" {
			n++
		}
	}
	if creds := p.GetProcessCredentials(); creds != nil {
		n += 2 // real and saved user id
	}
	if p.GetStartTime() != nil {
		n++
	}
	if p.GetInInitTree() != nil {
		n++
	}
	if p.GetPod() != nil {
		n += 2
	}
	if p.GetAuid() != nil {
		n++
	}
	if p.GetCap() != nil || p.GetProcessCredentials().GetCaps() != nil {
		n += 2
	}
	if p.GetBinaryProperties() != nil {
		n += 4
	}
	return n
}
