package eventmap

import (
	"reflect"
	"time"

	"github.com/cilium/tetragon/api/v1/tetragon"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/attrkey"
)

// Batch accumulates mapped records, one ResourceLogs per resource key
// (node, cluster, namespace, pod, container). A Batch is not safe for
// concurrent use.
type Batch struct {
	opts      Options
	logs      plog.Logs
	resources map[resourceKey]plog.LogRecordSlice
	n         int
}

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
// marshalled with protojson). observed is the receive time. Events with no
// known type return *UnknownEventTypeError and add nothing. Add does not keep
// ev or raw: the caller may reuse both once Add returns.
func (b *Batch) Add(ev *tetragon.GetEventsResponse, raw []byte, observed time.Time) error {
	typ := EventType(ev)
	if typ == "" {
		return &UnknownEventTypeError{Keys: populatedKeys(ev)}
	}
	var body string
	if b.opts.Body == BodyJSON {
		var err error
		if body, err = jsonBody(ev, raw); err != nil {
			return err
		}
	}

	proc := mainProcess(ev)
	lr := b.records(ev, proc).AppendEmpty()
	lr.SetEventName(eventNames[typ])
	if t := ev.GetTime(); t != nil {
		lr.SetTimestamp(pcommon.NewTimestampFromTime(timeOf(t.GetSeconds(), t.GetNanos())))
	}
	lr.SetObservedTimestamp(pcommon.NewTimestampFromTime(observed))
	lr.SetSeverityNumber(plog.SeverityNumberInfo)
	lr.SetSeverityText("INFO")

	attrs := lr.Attributes()
	attrs.EnsureCapacity(40)
	putProcess(attrs, proc)
	putEventAttributes(attrs, ev)

	switch b.opts.Body {
	case BodyMap:
		if plan, ok := eventPlan(); ok {
			putStruct(lr.Body().SetEmptyMap(), reflect.ValueOf(ev).Elem(), plan)
		} else {
			putMessage(lr.Body().SetEmptyMap(), ev.ProtoReflect())
		}
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
	return marshalEventJSON(ev)
}

var eventNames = map[string]string{}

func init() {
	for _, t := range []string{TypeProcessExec, TypeProcessExit, TypeProcessKprobe, TypeProcessTracepoint,
		TypeProcessLsm, TypeProcessUprobe, TypeProcessUsdt, TypeProcessLoader, TypeProcessThrottle, TypeRateLimitInfo} {
		eventNames[t] = attrkey.EventNamePrefix + t
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
	if recs, ok := b.resources[key]; ok {
		return recs
	}
	rl := b.logs.ResourceLogs().AppendEmpty()
	putResource(rl.Resource().Attributes(), key.node, key.cluster, proc)
	sl := rl.ScopeLogs().AppendEmpty()
	sl.Scope().SetName(ScopeName)
	recs := sl.LogRecords()
	b.resources[key] = recs
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

func populatedKeys(ev *tetragon.GetEventsResponse) []string {
	var keys []string
	ev.ProtoReflect().Range(func(fd protoreflect.FieldDescriptor, _ protoreflect.Value) bool {
		if !envelopeKeys[string(fd.Name())] {
			keys = append(keys, string(fd.Name()))
		}
		return true
	})
	return keys
}
