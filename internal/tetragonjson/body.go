// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package tetragonjson

import (
	"encoding/base64"
	"encoding/json"
	"math"
	"reflect"

	"github.com/cilium/tetragon/api/v1/tetragon"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// PutBody writes ev into m in protojson's shape with proto names: populated
// fields only, enums as names, wrappers as bare values, timestamps as RFC 3339
// strings, bytes as base64. 64-bit integers stay ints (uint64 keeps its bits).
// Every field Tetragon sends, including ones added in later API versions,
// lands in m without code changes. It walks the generated structs following
// the decoder's plans, the one writer of Tetragon messages into pdata (hook
// arguments in attributes use it too, through PutMessage and SetOneof). A test
// holds its output equal to protojson's on every event of the corpus.
func PutBody(m pcommon.Map, ev *tetragon.GetEventsResponse) {
	if plan, ok := eventPlan(); ok {
		putStruct(m, reflect.ValueOf(ev).Elem(), plan)
		return
	}
	putProtoJSON(m, ev)
}

// PutMessage writes msg, any message type an event contains (such as a
// tetragon.KprobeArgument), into m exactly as PutBody writes it inside an
// event.
func PutMessage(m pcommon.Map, msg proto.Message) {
	if p := planOf(msg); p != nil {
		putStruct(m, reflect.ValueOf(msg).Elem(), p)
		return
	}
	putProtoJSON(m, msg)
}

// SetOneof writes the value of msg's first set oneof member into dst, bare
// (a KprobeArgument's int_arg as an int, its sock_arg as a map), and reports
// whether one was set.
func SetOneof(dst pcommon.Value, msg proto.Message) bool {
	p := planOf(msg)
	if p == nil {
		return false
	}
	sv := reflect.ValueOf(msg).Elem()
	for _, idx := range p.oneofs {
		if fp, v, ok := oneofMember(sv, idx, p); ok {
			setStructValue(dst, v, fp)
			return true
		}
	}
	return false
}

// planOf returns the plan of msg's type, nil when the plans do not cover the
// schema or msg is nil.
func planOf(msg proto.Message) *msgPlan {
	if _, ok := eventPlan(); !ok {
		return nil
	}
	v := reflect.ValueOf(msg)
	if v.Kind() != reflect.Pointer || v.IsNil() {
		return nil
	}
	return plansByType[v.Type().Elem()]
}

// putProtoJSON is the fallback for an API version whose schema the plans do
// not cover (TestDecodePlanCoversEvents fails first): protojson's own output, with
// 64-bit integers left as the strings protojson writes.
func putProtoJSON(m pcommon.Map, msg proto.Message) {
	b, err := bodyJSON.Marshal(msg)
	var raw map[string]any
	if err == nil {
		err = json.Unmarshal(b, &raw)
	}
	if err != nil {
		m.PutStr("error", err.Error())
		return
	}
	_ = m.FromRaw(raw)
}

var bodyJSON = protojson.MarshalOptions{UseProtoNames: true}

// putStruct walks a generated struct following the decoder's plans: no
// protoreflect boxing and no descriptor lookups per field.

func putStruct(m pcommon.Map, sv reflect.Value, p *msgPlan) {
	n := 0
	for _, fp := range p.order {
		if fp.oneof < 0 && populated(sv.Field(fp.goIdx)) {
			n++
		}
	}
	m.EnsureCapacity(n + len(p.oneofs))
	for _, fp := range p.order {
		if fp.oneof >= 0 {
			continue
		}
		f := sv.Field(fp.goIdx)
		if !populated(f) {
			continue
		}
		switch {
		case fp.list:
			s := m.PutEmptySlice(fp.name)
			n := f.Len()
			s.EnsureCapacity(n)
			for i := 0; i < n; i++ {
				setStructValue(s.AppendEmpty(), f.Index(i), fp)
			}
		case fp.isMap:
			src := f.Interface().(map[string]string)
			dst := m.PutEmptyMap(fp.name)
			dst.EnsureCapacity(len(src))
			for k, v := range src {
				dst.PutStr(k, v)
			}
		default:
			setStructValue(m.PutEmpty(fp.name), f, fp)
		}
	}
	for _, idx := range p.oneofs {
		if fp, v, ok := oneofMember(sv, idx, p); ok {
			setStructValue(m.PutEmpty(fp.name), v, fp)
		}
	}
}

// oneofMember returns the set member of the oneof at struct field idx: its
// plan and its value.
func oneofMember(sv reflect.Value, idx int, p *msgPlan) (*fieldPlan, reflect.Value, bool) {
	w := sv.Field(idx)
	if w.IsNil() {
		return nil, reflect.Value{}, false
	}
	ptr := w.Elem()
	fp := p.members[ptr.Type()]
	if fp == nil || ptr.IsNil() {
		return nil, reflect.Value{}, false
	}
	return fp, ptr.Elem().Field(0), true
}

// populated reports whether protojson would emit a proto3 field.
func populated(f reflect.Value) bool {
	switch f.Kind() {
	case reflect.String:
		return f.Len() > 0
	case reflect.Bool:
		return f.Bool()
	case reflect.Int32, reflect.Int64:
		return f.Int() != 0
	case reflect.Uint32, reflect.Uint64:
		return f.Uint() != 0
	case reflect.Float32, reflect.Float64:
		return f.Float() != 0 || math.Signbit(f.Float())
	case reflect.Slice, reflect.Map:
		return f.Len() > 0
	case reflect.Pointer, reflect.Interface:
		return !f.IsNil()
	}
	return false
}

// setStructValue writes one value (a field or a list element) of plan fp.
func setStructValue(dst pcommon.Value, f reflect.Value, fp *fieldPlan) {
	if fp.msg != nil {
		if f.IsNil() {
			dst.SetEmptyMap()
			return
		}
		sv := f.Elem()
		switch fp.msg.wkt {
		case wktTimestamp:
			dst.SetStr(FormatTimestamp(sv.Field(fp.msg.secs).Int(), int32(sv.Field(fp.msg.nanos).Int())))
		case wktWrapper:
			setStructValue(dst, sv.Field(fp.msg.value.goIdx), fp.msg.value)
		default:
			putStruct(dst.SetEmptyMap(), sv, fp.msg)
		}
		return
	}
	switch fp.kind {
	case protoreflect.StringKind:
		dst.SetStr(f.String())
	case protoreflect.BoolKind:
		dst.SetBool(f.Bool())
	case protoreflect.BytesKind:
		dst.SetStr(base64.StdEncoding.EncodeToString(f.Bytes()))
	case protoreflect.EnumKind:
		if name, ok := fp.names.Name(protoreflect.EnumNumber(f.Int())); ok {
			dst.SetStr(name)
		} else {
			dst.SetInt(f.Int())
		}
	case protoreflect.FloatKind, protoreflect.DoubleKind:
		dst.SetDouble(f.Float())
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind, protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		dst.SetInt(int64(f.Uint()))
	default:
		dst.SetInt(f.Int())
	}
}
