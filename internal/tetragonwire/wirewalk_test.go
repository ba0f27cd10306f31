// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package tetragonwire

import (
	"errors"
	"testing"

	"github.com/cilium/tetragon/api/v1/tetragon"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// wireWalker reads every field of an encoded GetEventsResponse once, descending into nested
// messages, and keeps nothing: no allocation, no copy. It is the least work any decoder of these
// events has to do, one that would write straight into pdata included, so the gap between it and
// the decoders in BenchmarkUnmarshal bounds what decoding straight into pdata could save (the
// pdata values themselves are the mapping's cost either way). Test-only: a yardstick, not a
// decoder.
type wireWalker struct {
	// children[n] is the walker of field n when it holds a message (map entries included).
	children map[protowire.Number]*wireWalker
	small    [64]*wireWalker // children for field numbers < 64, without the map lookup
}

func newWireWalker(md protoreflect.MessageDescriptor) *wireWalker {
	return buildWalker(md, map[protoreflect.FullName]*wireWalker{})
}

func buildWalker(md protoreflect.MessageDescriptor, seen map[protoreflect.FullName]*wireWalker) *wireWalker {
	if w, ok := seen[md.FullName()]; ok {
		return w
	}
	w := &wireWalker{children: map[protowire.Number]*wireWalker{}}
	seen[md.FullName()] = w
	fields := md.Fields()
	for i := range fields.Len() {
		f := fields.Get(i)
		if f.Kind() != protoreflect.MessageKind && f.Kind() != protoreflect.GroupKind {
			continue
		}
		child := buildWalker(f.Message(), seen)
		if f.Number() < protowire.Number(len(w.small)) {
			w.small[f.Number()] = child
		} else {
			w.children[f.Number()] = child
		}
	}
	return w
}

func (w *wireWalker) child(n protowire.Number) *wireWalker {
	if n < protowire.Number(len(w.small)) {
		return w.small[n]
	}
	return w.children[n]
}

var errWalk = errors.New("malformed wire data")

// walk reads b and returns the number of messages it went through, b's own included.
func (w *wireWalker) walk(b []byte) (int, error) {
	msgs := 1
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return 0, errWalk
		}
		b = b[n:]
		if typ == protowire.BytesType {
			v, n := protowire.ConsumeBytes(b)
			if n < 0 {
				return 0, errWalk
			}
			b = b[n:]
			if c := w.child(num); c != nil {
				m, err := c.walk(v)
				if err != nil {
					return 0, err
				}
				msgs += m
			}
			continue
		}
		n = protowire.ConsumeFieldValue(num, typ, b)
		if n < 0 {
			return 0, errWalk
		}
		b = b[n:]
	}
	return msgs, nil
}

// countMessages counts the messages populated in m, m included, as the wire holds them.
func countMessages(m protoreflect.Message) int {
	n := 1
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch {
		case fd.IsMap():
			n += v.Map().Len() // each entry is a message on the wire
			if fd.MapValue().Message() != nil {
				v.Map().Range(func(_ protoreflect.MapKey, mv protoreflect.Value) bool {
					n += countMessages(mv.Message())
					return true
				})
			}
		case fd.IsList() && fd.Message() != nil:
			for i := range v.List().Len() {
				n += countMessages(v.List().Get(i).Message())
			}
		case fd.Message() != nil:
			n += countMessages(v.Message())
		}
		return true
	})
	return n
}

// TestWireWalkerVisitsEveryMessage checks the yardstick goes where a decoder goes: through
// every nested message of every corpus event.
func TestWireWalkerVisitsEveryMessage(t *testing.T) {
	w := newWireWalker((&tetragon.GetEventsResponse{}).ProtoReflect().Descriptor())
	evs := append(realEvents(t), capturedEvents(t)...)
	for i, ev := range evs {
		wire, err := proto.Marshal(ev)
		if err != nil {
			t.Fatal(err)
		}
		got, err := w.walk(wire)
		if err != nil {
			t.Fatalf("event %d: %v", i, err)
		}
		if want := countMessages(ev.ProtoReflect()); got != want {
			t.Fatalf("event %d: walked %d messages, the decoded event has %d", i, got, want)
		}
	}
	if _, err := w.walk([]byte{0x0a, 0x05, 0x01}); err == nil {
		t.Error("a truncated field walked without error")
	}
}
