// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package tetragonjson

import (
	"encoding/base64"
	"math"
	"reflect"

	"github.com/cilium/tetragon/api/v1/tetragon"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// PutBody writes ev into m in protojson's shape with proto names: populated
// fields only, enums as names, wrappers as bare values, timestamps as RFC 3339
// strings, bytes as base64. 64-bit integers stay ints (uint64 keeps its bits).
// Every field Tetragon sends, including ones added in later API versions,
// lands in m without code changes. It walks the generated structs following
// the decoder's plans; should the plans not cover the schema (a well-known or
// map type this API version does not use) it walks the message with
// protoreflect instead. A test holds the two walks equal.
func PutBody(m pcommon.Map, ev *tetragon.GetEventsResponse) {
	if plan, ok := eventPlan(); ok {
		putStruct(m, reflect.ValueOf(ev).Elem(), plan)
		return
	}
	putMessage(m, ev.ProtoReflect())
}

// putMessage is the protoreflect walk.

func putMessage(m pcommon.Map, msg protoreflect.Message) {
	n := 0
	msg.Range(func(protoreflect.FieldDescriptor, protoreflect.Value) bool {
		n++
		return true
	})
	m.EnsureCapacity(n)
	msg.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		putField(m, fd, v)
		return true
	})
}

func putField(m pcommon.Map, fd protoreflect.FieldDescriptor, v protoreflect.Value) {
	name := string(fd.Name())
	switch {
	case fd.IsList():
		l := v.List()
		s := m.PutEmptySlice(name)
		s.EnsureCapacity(l.Len())
		for i := 0; i < l.Len(); i++ {
			setValue(s.AppendEmpty(), fd, l.Get(i))
		}
	case fd.IsMap():
		mv := v.Map()
		dst := m.PutEmptyMap(name)
		dst.EnsureCapacity(mv.Len())
		vd := fd.MapValue()
		mv.Range(func(k protoreflect.MapKey, val protoreflect.Value) bool {
			setValue(dst.PutEmpty(k.String()), vd, val)
			return true
		})
	default:
		setValue(m.PutEmpty(name), fd, v)
	}
}

func setValue(dst pcommon.Value, fd protoreflect.FieldDescriptor, v protoreflect.Value) {
	switch fd.Kind() {
	case protoreflect.BoolKind:
		dst.SetBool(v.Bool())
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind,
		protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		dst.SetInt(v.Int())
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind,
		protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		dst.SetInt(int64(v.Uint()))
	case protoreflect.FloatKind, protoreflect.DoubleKind:
		dst.SetDouble(v.Float())
	case protoreflect.StringKind:
		dst.SetStr(v.String())
	case protoreflect.BytesKind:
		dst.SetStr(base64.StdEncoding.EncodeToString(v.Bytes()))
	case protoreflect.EnumKind:
		if ev := fd.Enum().Values().ByNumber(v.Enum()); ev != nil {
			dst.SetStr(string(ev.Name()))
		} else {
			dst.SetInt(int64(v.Enum()))
		}
	case protoreflect.MessageKind, protoreflect.GroupKind:
		setMessageValue(dst, v.Message())
	}
}

func setMessageValue(dst pcommon.Value, msg protoreflect.Message) {
	md := msg.Descriptor()
	if md.ParentFile().Package() == "google.protobuf" {
		switch md.Name() {
		case "Timestamp":
			f := md.Fields()
			dst.SetStr(FormatTimestamp(msg.Get(f.ByNumber(1)).Int(), int32(msg.Get(f.ByNumber(2)).Int())))
			return
		case "BoolValue", "Int32Value", "Int64Value", "UInt32Value", "UInt64Value",
			"FloatValue", "DoubleValue", "StringValue", "BytesValue":
			fd := md.Fields().ByNumber(1)
			setValue(dst, fd, msg.Get(fd))
			return
		}
	}
	putMessage(dst.SetEmptyMap(), msg)
}

// putStruct is the same walk over the generated structs, following the
// decoder's plans: no protoreflect boxing and no descriptor lookups per field.
// Used whenever the plan covers the schema (always, for this API version).

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
		w := sv.Field(idx)
		if w.IsNil() {
			continue
		}
		ptr := w.Elem()
		fp := p.members[ptr.Type()]
		if fp == nil || ptr.IsNil() {
			continue
		}
		setStructValue(m.PutEmpty(fp.name), ptr.Elem().Field(0), fp)
	}
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
