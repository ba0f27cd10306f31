// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package tetragonsim

import (
	"bytes"
	"fmt"
	"sort"
	"time"

	"github.com/cilium/tetragon/api/v1/tetragon"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// stampTemplate rewrites every timestamp of an encoded event without re-marshalling it.
//
// Built once per event: each google.protobuf.Timestamp in the event (the event time, process
// start times, container start times, …) is replaced by a unique sentinel whose wire encoding has
// a fixed length of 12 bytes, the event is marshalled, and the encoding is cut at the sentinels.
// Rendering joins the pieces with the new timestamps, written as fixed-length (5-byte) varints so
// no enclosing length prefix changes. Overlong varints are valid protobuf: every conforming
// parser (Go's included) accepts them. The JSON export line gets the same treatment with the
// sentinels' RFC 3339 strings.
type stampTemplate struct {
	wire     [][]byte    // len(orig)+1 pieces
	wireSlot []int       // slot written after wire[i]
	json     [][]byte    // nil when no JSON is needed
	jsonSlot []int       // slot written after json[i]
	orig     []time.Time // original value of each slot
	timeSlot int         // slot of GetEventsResponse.time
	hasTime  bool        // the original event had a time
}

const (
	sentinelBase  = int64(1) << 34 // 5-byte varint, year 2514
	sentinelNanos = 999_999_999    // 5-byte varint
	stampWireLen  = 12             // tag, 5-byte seconds, tag, 5-byte nanos
)

var timestampName = (&timestamppb.Timestamp{}).ProtoReflect().Descriptor().FullName()

// newStampTemplate builds the template of ev. It returns an error when a sentinel cannot be
// located exactly once (it would take a byte-for-byte coincidence in the event data).
func newStampTemplate(ev *tetragon.GetEventsResponse, withJSON bool) (*stampTemplate, error) {
	ev = proto.Clone(ev).(*tetragon.GetEventsResponse)
	st := &stampTemplate{hasTime: ev.Time != nil}
	if ev.Time == nil {
		ev.Time = &timestamppb.Timestamp{}
	}
	var walk func(m protoreflect.Message)
	walk = func(m protoreflect.Message) {
		if m.Descriptor().FullName() == timestampName {
			ts := m.Interface().(*timestamppb.Timestamp)
			if ts == ev.Time {
				st.timeSlot = len(st.orig)
			}
			st.orig = append(st.orig, ts.AsTime())
			ts.Seconds = sentinelBase + int64(len(st.orig)-1)
			ts.Nanos = sentinelNanos
			return
		}
		m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
			switch {
			case fd.IsMap():
				if fd.MapValue().Message() != nil {
					v.Map().Range(func(_ protoreflect.MapKey, mv protoreflect.Value) bool {
						walk(mv.Message())
						return true
					})
				}
			case fd.Message() == nil:
			case fd.IsList():
				l := v.List()
				for i := 0; i < l.Len(); i++ {
					walk(l.Get(i).Message())
				}
			default:
				walk(v.Message())
			}
			return true
		})
	}
	// Shared sub-messages (the generator reuses container start times) are cloned above, so
	// each occurrence is its own slot.
	walk(ev.ProtoReflect())

	wire, err := proto.Marshal(ev)
	if err != nil {
		return nil, err
	}
	if st.wire, st.wireSlot, err = cutAtSentinels(wire, len(st.orig), sentinelWire); err != nil {
		return nil, fmt.Errorf("wire: %w", err)
	}
	if withJSON {
		js, err := jsonMarshal.Marshal(ev)
		if err != nil {
			return nil, err
		}
		if st.json, st.jsonSlot, err = cutAtSentinels(js, len(st.orig), sentinelJSON); err != nil {
			return nil, fmt.Errorf("json: %w", err)
		}
	}
	return st, nil
}

func sentinelWire(slot int) []byte {
	b := protowire.AppendTag(nil, 1, protowire.VarintType)
	b = protowire.AppendVarint(b, uint64(sentinelBase+int64(slot)))
	b = protowire.AppendTag(b, 2, protowire.VarintType)
	return protowire.AppendVarint(b, sentinelNanos)
}

func sentinelJSON(slot int) []byte {
	return []byte(`"` + formatRFC3339(time.Unix(sentinelBase+int64(slot), sentinelNanos)) + `"`)
}

// cutAtSentinels splits b around the n sentinels, which must each occur exactly once; slots[i]
// is the sentinel found after pieces[i].
func cutAtSentinels(b []byte, n int, sentinel func(int) []byte) (pieces [][]byte, slots []int, err error) {
	type hit struct{ pos, slot, len int }
	hits := make([]hit, 0, n)
	for i := 0; i < n; i++ {
		s := sentinel(i)
		if c := bytes.Count(b, s); c != 1 {
			return nil, nil, fmt.Errorf("timestamp sentinel %d found %d times", i, c)
		}
		hits = append(hits, hit{bytes.Index(b, s), i, len(s)})
	}
	sort.Slice(hits, func(i, j int) bool { return hits[i].pos < hits[j].pos })
	pieces = make([][]byte, 0, n+1)
	slots = make([]int, 0, n)
	prev := 0
	for _, h := range hits {
		pieces = append(pieces, b[prev:h.pos])
		slots = append(slots, h.slot)
		prev = h.pos + h.len
	}
	return append(pieces, b[prev:]), slots, nil
}

// render returns a frame whose event time is at and whose other timestamps are moved by the
// same amount as the event time.
func (st *stampTemplate) render(meta *Meta, at time.Time) *Frame {
	var shift time.Duration
	if st.hasTime {
		shift = at.Sub(st.orig[st.timeSlot])
	}
	stamp := func(i int) time.Time {
		if i == st.timeSlot {
			return at
		}
		return st.orig[i].Add(shift)
	}
	f := &Frame{Meta: meta}
	size := len(st.orig) * stampWireLen
	for _, p := range st.wire {
		size += len(p)
	}
	w := make([]byte, 0, size)
	for i, p := range st.wire {
		w = append(w, p...)
		if i < len(st.wireSlot) {
			w = appendFixedTimestamp(w, stamp(st.wireSlot[i]))
		}
	}
	f.Wire = w
	if st.json != nil {
		size := len(st.orig) * 40
		for _, p := range st.json {
			size += len(p)
		}
		j := make([]byte, 0, size)
		for i, p := range st.json {
			j = append(j, p...)
			if i < len(st.jsonSlot) {
				j = append(j, '"')
				j = appendRFC3339(j, stamp(st.jsonSlot[i]))
				j = append(j, '"')
			}
		}
		f.JSON = j
	}
	return f
}

// appendFixedTimestamp writes a Timestamp message body with both fields as 5-byte varints.
func appendFixedTimestamp(b []byte, t time.Time) []byte {
	b = append(b, 0x08)
	b = appendVarint5(b, uint64(t.Unix()))
	b = append(b, 0x10)
	return appendVarint5(b, uint64(t.Nanosecond()))
}

func appendVarint5(b []byte, v uint64) []byte {
	return append(b,
		byte(v)|0x80, byte(v>>7)|0x80, byte(v>>14)|0x80, byte(v>>21)|0x80, byte(v>>28)&0x7f)
}

// formatRFC3339 formats like protojson: UTC, "Z", 0, 3, 6 or 9 fractional digits.
func formatRFC3339(t time.Time) string { return string(appendRFC3339(nil, t)) }

func appendRFC3339(b []byte, t time.Time) []byte {
	t = t.UTC()
	b = t.AppendFormat(b, "2006-01-02T15:04:05")
	ns := t.Nanosecond()
	switch {
	case ns == 0:
	case ns%1_000_000 == 0:
		b = fmt.Appendf(b, ".%03d", ns/1_000_000)
	case ns%1_000 == 0:
		b = fmt.Appendf(b, ".%06d", ns/1_000)
	default:
		b = fmt.Appendf(b, ".%09d", ns)
	}
	return append(b, 'Z')
}
