package eventmap

import (
	"encoding/base64"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// The body walks the message with protoreflect so that every field Tetragon
// sends, including ones added in later API versions, lands in the body without
// code changes here. It follows protojson with proto names: populated fields
// only, enums as names, wrappers as bare values, timestamps as RFC 3339
// strings, bytes as base64. 64-bit integers stay ints (uint64 keeps its bits).

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
			dst.SetStr(formatTimestamp(msg.Get(f.ByNumber(1)).Int(), int32(msg.Get(f.ByNumber(2)).Int())))
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
