// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package tetragonwire

import (
	"errors"
	"fmt"
	"testing"

	"github.com/cilium/tetragon/api/v1/tetragon"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/synthevents"
)

var discardUnknown = proto.UnmarshalOptions{DiscardUnknown: true}

// checkSame decodes b with proto.Unmarshal (DiscardUnknown) and with both of ours, and fails
// unless all three agree: same success, equal messages.
func checkSame(t testing.TB, where string, b []byte) {
	t.Helper()
	want := &tetragon.GetEventsResponse{}
	wantErr := discardUnknown.Unmarshal(b, want)

	got := &tetragon.GetEventsResponse{}
	err := Unmarshal(b, got)
	compare(t, where+" (copying)", wantErr, err, want, got)

	owned := append([]byte(nil), b...)
	got = &tetragon.GetEventsResponse{}
	err = UnmarshalAliasing(owned, got)
	compare(t, where+" (aliasing)", wantErr, err, want, got)
}

func compare(t testing.TB, where string, wantErr, err error, want, got *tetragon.GetEventsResponse) {
	t.Helper()
	switch {
	case wantErr != nil && err == nil:
		t.Fatalf("%s: proto.Unmarshal fails (%v) but ours succeeds", where, wantErr)
	case wantErr == nil && err != nil:
		t.Fatalf("%s: proto.Unmarshal succeeds but ours fails: %v", where, err)
	case wantErr == nil && !proto.Equal(want, got):
		t.Fatalf("%s: decoded messages differ\nproto: %v\nours:  %v", where, want, got)
	}
}

func TestCorpusMatchesProtoUnmarshal(t *testing.T) {
	sets := []struct {
		name string
		evs  []*tetragon.GetEventsResponse
		min  int
	}{
		{"real", realEvents(t), 56},
		{"captured", capturedEvents(t), 1800},
		{"sim", simEvents(t, 300), 1800},
	}
	sets = append(sets, struct {
		name string
		evs  []*tetragon.GetEventsResponse
		min  int
	}{"captured-filtered", synthevents.ApplyShippedFieldFilter(t, sets[1].evs), 1800})
	for _, s := range sets {
		t.Run(s.name, func(t *testing.T) {
			if len(s.evs) < s.min {
				t.Fatalf("only %d events, want at least %d", len(s.evs), s.min)
			}
			types := map[string]int{}
			for i, ce := range wireOf(t, s.name, s.evs) {
				got := &tetragon.GetEventsResponse{}
				if err := Unmarshal(ce.wire, got); err != nil {
					t.Fatalf("event %d: %v", i, err)
				}
				// The corpus message itself, not only proto's re-decoding of it.
				if !proto.Equal(s.evs[i], got) {
					t.Fatalf("event %d differs from the original\nwant: %v\ngot:  %v", i, s.evs[i], got)
				}
				checkSame(t, fmt.Sprintf("%s event %d", s.name, i), ce.wire)
				types[fmt.Sprintf("%T", got.Event)]++
			}
			t.Logf("%d events: %v", len(s.evs), types)
		})
	}
}

// Every prefix of an event either decodes exactly like proto.Unmarshal or fails like it.
func TestTruncatedInput(t *testing.T) {
	evs := realEvents(t)
	failures := 0
	for _, i := range []int{0, len(evs) / 2, len(evs) - 1} {
		b, err := proto.Marshal(evs[i])
		if err != nil {
			t.Fatal(err)
		}
		for n := 0; n < len(b); n++ {
			checkSame(t, fmt.Sprintf("event %d cut at %d/%d", i, n, len(b)), b[:n])
			if Unmarshal(b[:n], &tetragon.GetEventsResponse{}) != nil {
				failures++
			}
		}
	}
	if failures == 0 {
		t.Fatal("no truncation was rejected")
	}
	// A nested message cut short is an error, not a partial event.
	b, _ := proto.Marshal(evs[0])
	if err := Unmarshal(b[:len(b)-1], &tetragon.GetEventsResponse{}); err == nil {
		t.Fatal("event missing its last byte decoded without error")
	}
}

func TestInvalidUTF8(t *testing.T) {
	// node_name (1000) at top level.
	top := protowire.AppendTag(nil, 1000, protowire.BytesType)
	top = protowire.AppendBytes(top, []byte("node-\xff"))
	// process_exec.process.binary, two levels down.
	proc := protowire.AppendTag(nil, 5, protowire.BytesType) // Process.binary
	proc = protowire.AppendBytes(proc, []byte("/bin/\xc0sh"))
	exec := protowire.AppendTag(nil, 1, protowire.BytesType) // ProcessExec.process
	exec = protowire.AppendBytes(exec, proc)
	nested := protowire.AppendTag(nil, 1, protowire.BytesType) // GetEventsResponse.process_exec
	nested = protowire.AppendBytes(nested, exec)
	// A map value (node_labels).
	entry := protowire.AppendTag(nil, 1, protowire.BytesType)
	entry = protowire.AppendString(entry, "k")
	entry = protowire.AppendTag(entry, 2, protowire.BytesType)
	entry = protowire.AppendBytes(entry, []byte{0xed, 0xa0, 0x80}) // a surrogate
	mapv := protowire.AppendTag(nil, 1004, protowire.BytesType)
	mapv = protowire.AppendBytes(mapv, entry)

	for name, b := range map[string][]byte{"top": top, "nested": nested, "map": mapv} {
		if err := discardUnknown.Unmarshal(b, &tetragon.GetEventsResponse{}); err == nil {
			t.Fatalf("%s: proto.Unmarshal accepted invalid UTF-8; the test input is wrong", name)
		}
		for mode, f := range map[string]func([]byte, *tetragon.GetEventsResponse) error{"copying": Unmarshal, "aliasing": UnmarshalAliasing} {
			err := f(b, &tetragon.GetEventsResponse{})
			var ue *InvalidUTF8Error
			if !errors.As(err, &ue) {
				t.Fatalf("%s/%s: want *InvalidUTF8Error, got %v", name, mode, err)
			}
		}
	}
	// Invalid UTF-8 inside an unknown field is not looked at.
	unknown := protowire.AppendTag(nil, 4242, protowire.BytesType)
	unknown = protowire.AppendBytes(unknown, []byte{0xff})
	checkSame(t, "unknown bytes field", unknown)
	if err := Unmarshal(unknown, &tetragon.GetEventsResponse{}); err != nil {
		t.Fatal(err)
	}
}

// appendUnknown appends one unknown field of every wire type, a group included.
func appendUnknown(b []byte) []byte {
	b = protowire.AppendTag(b, 4000, protowire.VarintType)
	b = protowire.AppendVarint(b, 1<<40)
	b = protowire.AppendTag(b, 4001, protowire.Fixed32Type)
	b = protowire.AppendFixed32(b, 7)
	b = protowire.AppendTag(b, 4002, protowire.Fixed64Type)
	b = protowire.AppendFixed64(b, 7)
	b = protowire.AppendTag(b, 4003, protowire.BytesType)
	b = protowire.AppendString(b, "skip me")
	b = protowire.AppendTag(b, 4004, protowire.StartGroupType)
	b = protowire.AppendTag(b, 1, protowire.VarintType)
	b = protowire.AppendVarint(b, 1)
	b = protowire.AppendTag(b, 4004, protowire.EndGroupType)
	return b
}

func TestUnknownFieldsSkipped(t *testing.T) {
	pid := uint32(4711)
	proc := protowire.AppendTag(nil, 5, protowire.BytesType)
	proc = protowire.AppendString(proc, "/bin/sh")
	proc = appendUnknown(proc)
	proc = protowire.AppendTag(proc, 2, protowire.BytesType) // Process.pid (UInt32Value)
	proc = protowire.AppendBytes(proc, appendUnknown(protowire.AppendVarint(protowire.AppendTag(nil, 1, protowire.VarintType), uint64(pid))))
	exec := protowire.AppendTag(nil, 1, protowire.BytesType)
	exec = protowire.AppendBytes(exec, proc)
	b := appendUnknown(nil)
	b = protowire.AppendTag(b, 1, protowire.BytesType)
	b = protowire.AppendBytes(b, exec)
	b = appendUnknown(b)

	checkSame(t, "unknown fields", b)
	got := &tetragon.GetEventsResponse{}
	if err := Unmarshal(b, got); err != nil {
		t.Fatal(err)
	}
	p := got.GetProcessExec().GetProcess()
	if p.GetBinary() != "/bin/sh" || p.GetPid().GetValue() != pid {
		t.Fatalf("known fields lost around unknown ones: %v", got)
	}
	if len(got.ProtoReflect().GetUnknown()) != 0 || len(p.ProtoReflect().GetUnknown()) != 0 {
		t.Fatal("unknown fields were kept; the decoder documents that it drops them")
	}
}

// A known field with an unexpected wire type is an unknown field to protobuf-go.
func TestWrongWireTypeIsSkipped(t *testing.T) {
	b := protowire.AppendTag(nil, 1000, protowire.VarintType) // node_name is a string
	b = protowire.AppendVarint(b, 5)
	b = protowire.AppendTag(b, 1, protowire.Fixed32Type) // process_exec is a message
	b = protowire.AppendFixed32(b, 5)
	b = protowire.AppendTag(b, 1000, protowire.BytesType)
	b = protowire.AppendString(b, "node-a")
	checkSame(t, "wrong wire types", b)
	got := &tetragon.GetEventsResponse{}
	if err := Unmarshal(b, got); err != nil || got.NodeName != "node-a" || got.Event != nil {
		t.Fatalf("got %v, %v", got, err)
	}
}

func TestInvalidTags(t *testing.T) {
	for name, b := range map[string][]byte{
		"field number 0":         {0x00, 0x01},
		"field number too large": protowire.AppendVarint(protowire.AppendVarint(nil, uint64(protowire.MaxValidNumber+1)<<3), 1),
		"wire type 6":            {0x0e, 0x01},
		"stray end group":        protowire.AppendTag(nil, 7, protowire.EndGroupType),
		"unterminated group":     protowire.AppendTag(nil, 7, protowire.StartGroupType),
		"overlong varint":        {0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f},
		"length beyond input":    {0xc2, 0x3e, 0x05, 'a'}, // node_name, length 5, 1 byte
	} {
		if err := Unmarshal(b, &tetragon.GetEventsResponse{}); err == nil {
			t.Errorf("%s: no error", name)
		}
		checkSame(t, name, b)
	}
}

// Repeated scalars are accepted packed and unpacked, mixed, as protobuf-go does.
func TestUnpackedRepeated(t *testing.T) {
	perm := []tetragon.CapabilitiesType{tetragon.CapabilitiesType_CAP_CHOWN, tetragon.CapabilitiesType_CAP_SYS_ADMIN, tetragon.CapabilitiesType_CAP_NET_RAW}
	var caps []byte // Capabilities.permitted (1): two unpacked, then a packed run
	for _, c := range perm[:2] {
		caps = protowire.AppendTag(caps, 1, protowire.VarintType)
		caps = protowire.AppendVarint(caps, uint64(c))
	}
	caps = protowire.AppendTag(caps, 1, protowire.BytesType)
	caps = protowire.AppendBytes(caps, protowire.AppendVarint(protowire.AppendVarint(nil, uint64(perm[2])), 1<<35)) // includes an out-of-range enum
	proc := protowire.AppendTag(nil, 14, protowire.BytesType)                                                       // Process.cap
	proc = protowire.AppendBytes(proc, caps)
	exec := protowire.AppendTag(nil, 1, protowire.BytesType)
	exec = protowire.AppendBytes(exec, proc)
	b := protowire.AppendTag(nil, 1, protowire.BytesType)
	b = protowire.AppendBytes(b, exec)

	checkSame(t, "unpacked repeated", b)
	got := &tetragon.GetEventsResponse{}
	if err := Unmarshal(b, got); err != nil {
		t.Fatal(err)
	}
	p := got.GetProcessExec().GetProcess().GetCap().GetPermitted()
	if len(p) != 4 || p[0] != perm[0] || p[1] != perm[1] || p[2] != perm[2] {
		t.Fatalf("permitted = %v", p)
	}
}

// Concatenated messages merge: scalars take the last value, messages merge, repeated fields
// append, a different oneof member replaces the previous one.
func TestRepeatedFieldsMerge(t *testing.T) {
	evs := append(realEvents(t), simEvents(t, 20)...)
	merged := 0
	for i := 0; i+1 < len(evs); i++ {
		a, _ := proto.Marshal(evs[i])
		b, _ := proto.Marshal(evs[i+1])
		cat := append(append([]byte(nil), a...), b...)
		checkSame(t, fmt.Sprintf("events %d+%d", i, i+1), cat)
		if fmt.Sprintf("%T", evs[i].Event) == fmt.Sprintf("%T", evs[i+1].Event) {
			merged++
		}
	}
	if merged == 0 {
		t.Fatal("no pair of same-type events merged")
	}

	// Explicit: the same message field twice merges into one Process.
	p1, _ := proto.Marshal(&tetragon.ProcessExec{Process: &tetragon.Process{Binary: "/bin/a", Pid: wrapperspb.UInt32(1)}})
	p2, _ := proto.Marshal(&tetragon.ProcessExec{Process: &tetragon.Process{Arguments: "-c x"}, Ancestors: []*tetragon.Process{{Binary: "/x"}}})
	var b []byte
	for _, p := range [][]byte{p1, p2, p2} {
		b = protowire.AppendTag(b, 1, protowire.BytesType)
		b = protowire.AppendBytes(b, p)
	}
	checkSame(t, "process_exec twice", b)
	got := &tetragon.GetEventsResponse{}
	if err := Unmarshal(b, got); err != nil {
		t.Fatal(err)
	}
	pe := got.GetProcessExec()
	if pe.GetProcess().GetBinary() != "/bin/a" || pe.GetProcess().GetArguments() != "-c x" || pe.GetProcess().GetPid().GetValue() != 1 || len(pe.GetAncestors()) != 2 {
		t.Fatalf("not merged: %v", pe)
	}
}

func TestMapEntries(t *testing.T) {
	entry := func(fields ...[]byte) []byte {
		var e []byte
		for _, f := range fields {
			e = append(e, f...)
		}
		b := protowire.AppendTag(nil, 1004, protowire.BytesType)
		return protowire.AppendBytes(b, e)
	}
	str := func(num protowire.Number, s string) []byte {
		return protowire.AppendString(protowire.AppendTag(nil, num, protowire.BytesType), s)
	}
	var b []byte
	b = append(b, entry(str(1, "a"), str(2, "1"))...)
	b = append(b, entry(str(2, "no key"))...)                             // key ""
	b = append(b, entry(str(1, "b"))...)                                  // value ""
	b = append(b, entry(str(1, "a"), str(2, "2"))...)                     // overwrites a
	b = append(b, entry(str(2, "x"), str(1, "c"), appendUnknown(nil))...) // reversed, unknown inside
	b = append(b, entry(protowire.AppendVarint(protowire.AppendTag(nil, 1, protowire.VarintType), 3), str(1, "d"), str(2, "4"))...)
	checkSame(t, "map entries", b)
	got := &tetragon.GetEventsResponse{}
	if err := Unmarshal(b, got); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"a": "2", "": "no key", "b": "", "c": "x", "d": "4"}
	if fmt.Sprint(got.NodeLabels) != fmt.Sprint(want) {
		t.Fatalf("node_labels = %v, want %v", got.NodeLabels, want)
	}
}

func TestUnmarshalResets(t *testing.T) {
	evs := realEvents(t)
	m := &tetragon.GetEventsResponse{}
	for _, ev := range evs {
		b, _ := proto.Marshal(ev)
		if err := Unmarshal(b, m); err != nil {
			t.Fatal(err)
		}
		if !proto.Equal(ev, m) {
			t.Fatalf("reused message keeps state of the previous event:\nwant %v\ngot  %v", ev, m)
		}
	}
}

// Aliased strings point into the buffer, copied ones do not.
func TestAliasingSharesBuffer(t *testing.T) {
	b, _ := proto.Marshal(&tetragon.GetEventsResponse{NodeName: "node-a"})
	copied, aliased := &tetragon.GetEventsResponse{}, &tetragon.GetEventsResponse{}
	if err := Unmarshal(b, copied); err != nil {
		t.Fatal(err)
	}
	if err := UnmarshalAliasing(b, aliased); err != nil {
		t.Fatal(err)
	}
	copy(b[len(b)-6:], "NODE-B")
	if copied.NodeName != "node-a" || aliased.NodeName != "NODE-B" {
		t.Fatalf("copied %q aliased %q", copied.NodeName, aliased.NodeName)
	}
}
