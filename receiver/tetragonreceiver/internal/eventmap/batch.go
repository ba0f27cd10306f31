package eventmap

import (
	"time"

	"github.com/cilium/tetragon/api/v1/tetragon"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// Batch accumulates mapped records, one ResourceLogs per resource key.
type Batch struct {
	opts      Options
	logs      plog.Logs
	resources map[resourceKey]plog.LogRecordSlice
	n         int
}

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
	b.resources = make(map[resourceKey]plog.LogRecordSlice)
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
// line when there is one (body=json reuses it; may be nil). observed is the
// receive time. Events with no known type return *UnknownEventTypeError and add
// nothing.
func (b *Batch) Add(ev *tetragon.GetEventsResponse, raw []byte, observed time.Time) error {
	typ := EventType(ev)
	if typ == "" {
		return &UnknownEventTypeError{Keys: populatedKeys(ev)}
	}
	// TODO(rough first version): full mapping follows.
	key := resourceKey{node: ev.GetNodeName(), cluster: ev.GetClusterName()}
	recs, ok := b.resources[key]
	if !ok {
		rl := b.logs.ResourceLogs().AppendEmpty()
		sl := rl.ScopeLogs().AppendEmpty()
		sl.Scope().SetName(ScopeName)
		recs = sl.LogRecords()
		b.resources[key] = recs
	}
	lr := recs.AppendEmpty()
	lr.SetEventName("tetragon." + typ)
	lr.SetTimestamp(pcommon.NewTimestampFromTime(ev.GetTime().AsTime()))
	lr.SetObservedTimestamp(pcommon.NewTimestampFromTime(observed))
	lr.SetSeverityNumber(plog.SeverityNumberInfo)
	lr.SetSeverityText("INFO")
	if b.opts.Body == BodyJSON {
		if raw == nil {
			raw, _ = protojson.MarshalOptions{UseProtoNames: true}.Marshal(ev)
		}
		lr.Body().SetStr(string(raw))
	}
	b.n++
	return nil
}

func populatedKeys(ev *tetragon.GetEventsResponse) []string {
	var keys []string
	m := ev.ProtoReflect()
	m.Range(func(fd protoreflect.FieldDescriptor, _ protoreflect.Value) bool {
		keys = append(keys, string(fd.Name()))
		return true
	})
	return keys
}
