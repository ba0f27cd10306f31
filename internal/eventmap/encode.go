package eventmap

import (
	"encoding/base64"
	"errors"
	"math"
	"math/bits"
	"reflect"
	"slices"
	"strconv"
	"sync"
	"unicode/utf8"
	"unsafe"

	"github.com/cilium/tetragon/api/v1/tetragon"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// This file is the JSON encoder of body=json for events that have no
// original line (gRPC). It writes what protojson.MarshalOptions{
// UseProtoNames: true} writes, compactly as `tetra getevents -o json` does:
// populated fields in declaration order, 64-bit integers as strings, enums
// as names (numbers when unknown), wrappers as bare values, timestamps in
// RFC 3339 with 0/3/6/9 fraction digits, bytes in base64, map keys sorted.
// It fails where protojson fails (invalid UTF-8, timestamps out of range).
// protojson itself runs at ~40 MB/s and allocates per field; this walks the
// generated structs through the decoder's plans into one reused buffer. A
// differential test holds the two equal, value for value, on every corpus and
// synthetic event.

var errInvalidUTF8 = errors.New("string field contains invalid UTF-8")

const (
	lsb = 0x0101010101010101
	msb = 0x8080808080808080
)

type encoder struct {
	buf  []byte
	keys []string // map keys being sorted
}

var encoderPool = sync.Pool{New: func() any { return new(encoder) }}

// marshalEventJSON returns ev as protojson (proto names). ok is false when
// the plans do not cover the schema; the caller then uses protojson.
func marshalEventJSON(ev *tetragon.GetEventsResponse) (out string, ok bool, err error) {
	plan, ok := eventPlan()
	if !ok {
		return "", false, nil
	}
	e := encoderPool.Get().(*encoder)
	e.buf = e.buf[:0]
	err = e.message(reflect.ValueOf(ev).Elem(), plan)
	if err == nil {
		out = string(e.buf)
	}
	if cap(e.buf) > 1<<20 {
		e.buf = nil // do not pin one huge event's buffer
	}
	clear(e.keys[:cap(e.keys)])
	e.keys = e.keys[:0]
	encoderPool.Put(e)
	return out, true, err
}

func (e *encoder) message(sv reflect.Value, p *msgPlan) error {
	switch p.wkt {
	case wktTimestamp:
		return e.timestamp(sv.Field(p.secs).Int(), sv.Field(p.nanos).Int())
	case wktWrapper:
		return e.scalar(sv.Field(p.value.goIdx), p.value)
	}
	e.buf = append(e.buf, '{')
	first := true
	for _, fp := range p.order {
		var f reflect.Value
		if fp.oneof >= 0 {
			w := sv.Field(fp.goIdx)
			if w.IsNil() {
				continue
			}
			ptr := w.Elem()
			if ptr.Type() != fp.wrapper || ptr.IsNil() {
				continue
			}
			f = ptr.Elem().Field(0)
		} else {
			f = sv.Field(fp.goIdx)
			if !populated(f) {
				continue
			}
		}
		if !first {
			e.buf = append(e.buf, ',')
		}
		first = false
		e.buf = append(e.buf, '"')
		e.buf = append(e.buf, fp.name...)
		e.buf = append(e.buf, '"', ':')
		var err error
		switch {
		case fp.list:
			err = e.list(f, fp)
		case fp.isMap:
			err = e.stringMap(f.Interface().(map[string]string))
		default:
			err = e.scalar(f, fp)
		}
		if err != nil {
			return err
		}
	}
	e.buf = append(e.buf, '}')
	return nil
}

func (e *encoder) list(f reflect.Value, fp *fieldPlan) error {
	if fp.kind == protoreflect.EnumKind {
		e.enumList(enumSlice(f), fp)
		return nil
	}
	e.buf = append(e.buf, '[')
	for i, n := 0, f.Len(); i < n; i++ {
		if i > 0 {
			e.buf = append(e.buf, ',')
		}
		if err := e.scalar(f.Index(i), fp); err != nil {
			return err
		}
	}
	e.buf = append(e.buf, ']')
	return nil
}

// enumList writes a list of enum values (capability lists: 40 per process).
func (e *encoder) enumList(vals []int32, fp *fieldPlan) {
	e.buf = append(e.buf, '[')
	for i, v := range vals {
		if i > 0 {
			e.buf = append(e.buf, ',')
		}
		if name, ok := fp.names.name(protoreflect.EnumNumber(v)); ok {
			e.buf = append(e.buf, '"')
			e.buf = append(e.buf, name...)
			e.buf = append(e.buf, '"')
		} else {
			e.buf = strconv.AppendInt(e.buf, int64(v), 10)
		}
	}
	e.buf = append(e.buf, ']')
}

// enumSlice views a slice of a generated enum type (int32-based, checked
// when the plan is built) as []int32, sparing a reflect call per element.
func enumSlice(f reflect.Value) []int32 {
	if f.Len() == 0 {
		return nil
	}
	return unsafe.Slice((*int32)(f.UnsafePointer()), f.Len())
}

func (e *encoder) stringMap(m map[string]string) error {
	keys := e.keys[len(e.keys):]
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	e.buf = append(e.buf, '{')
	for i, k := range keys {
		if i > 0 {
			e.buf = append(e.buf, ',')
		}
		if err := e.str(k); err != nil {
			return err
		}
		e.buf = append(e.buf, ':')
		if err := e.str(m[k]); err != nil {
			return err
		}
	}
	e.buf = append(e.buf, '}')
	clear(keys)
	return nil
}

// scalar writes one value (a field or a list element) of plan fp.
func (e *encoder) scalar(f reflect.Value, fp *fieldPlan) error {
	if fp.msg != nil {
		if f.IsNil() {
			e.buf = append(e.buf, '{', '}')
			return nil
		}
		return e.message(f.Elem(), fp.msg)
	}
	switch fp.kind {
	case protoreflect.StringKind:
		return e.str(f.String())
	case protoreflect.BoolKind:
		e.buf = strconv.AppendBool(e.buf, f.Bool())
	case protoreflect.BytesKind:
		e.buf = append(e.buf, '"')
		e.buf = base64.StdEncoding.AppendEncode(e.buf, f.Bytes())
		e.buf = append(e.buf, '"')
	case protoreflect.EnumKind:
		if name, ok := fp.names.name(protoreflect.EnumNumber(f.Int())); ok {
			e.buf = append(e.buf, '"')
			e.buf = append(e.buf, name...)
			e.buf = append(e.buf, '"')
		} else {
			e.buf = strconv.AppendInt(e.buf, f.Int(), 10)
		}
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		e.buf = strconv.AppendInt(e.buf, f.Int(), 10)
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		e.buf = strconv.AppendUint(e.buf, f.Uint(), 10)
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		e.buf = append(e.buf, '"')
		e.buf = strconv.AppendInt(e.buf, f.Int(), 10)
		e.buf = append(e.buf, '"')
	case protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		e.buf = append(e.buf, '"')
		e.buf = strconv.AppendUint(e.buf, f.Uint(), 10)
		e.buf = append(e.buf, '"')
	case protoreflect.FloatKind:
		e.float(f.Float(), 32)
	case protoreflect.DoubleKind:
		e.float(f.Float(), 64)
	}
	return nil
}

// str writes a JSON string the way protojson does: only '"', '\\' and
// control characters are escaped; invalid UTF-8 is an error.
func (e *encoder) str(s string) error {
	e.buf = append(e.buf, '"')
	start := 0
	i := 0
	// Eight bytes at a time while all are printable ASCII other than '"' and
	// '\\' (Tetragon's strings nearly always are).
	for ; i+8 <= len(s); i += 8 {
		x := uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16 | uint64(s[i+3])<<24 |
			uint64(s[i+4])<<32 | uint64(s[i+5])<<40 | uint64(s[i+6])<<48 | uint64(s[i+7])<<56
		if ((x-lsb*0x20)|((x^(lsb*'"'))-lsb)|((x^(lsb*'\\'))-lsb)|x)&msb != 0 {
			break
		}
	}
	for i < len(s) {
		c := s[i]
		if c >= utf8.RuneSelf {
			r, n := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && n == 1 {
				return errInvalidUTF8
			}
			i += n
			continue
		}
		if c >= ' ' && c != '"' && c != '\\' {
			i++
			continue
		}
		e.buf = append(e.buf, s[start:i]...)
		e.buf = append(e.buf, '\\')
		switch c {
		case '"', '\\':
			e.buf = append(e.buf, c)
		case '\b':
			e.buf = append(e.buf, 'b')
		case '\f':
			e.buf = append(e.buf, 'f')
		case '\n':
			e.buf = append(e.buf, 'n')
		case '\r':
			e.buf = append(e.buf, 'r')
		case '\t':
			e.buf = append(e.buf, 't')
		default:
			e.buf = append(e.buf, 'u')
			e.buf = append(e.buf, "0000"[1+(bits.Len32(uint32(c))-1)/4:]...)
			e.buf = strconv.AppendUint(e.buf, uint64(c), 16)
		}
		i++
		start = i
	}
	e.buf = append(e.buf, s[start:]...)
	e.buf = append(e.buf, '"')
	return nil
}

// float follows protojson (encoding/json's number format, NaN and the
// infinities as strings).
func (e *encoder) float(n float64, bitSize int) {
	switch {
	case math.IsNaN(n):
		e.buf = append(e.buf, `"NaN"`...)
		return
	case math.IsInf(n, +1):
		e.buf = append(e.buf, `"Infinity"`...)
		return
	case math.IsInf(n, -1):
		e.buf = append(e.buf, `"-Infinity"`...)
		return
	}
	format := byte('f')
	if abs := math.Abs(n); abs != 0 {
		if bitSize == 64 && (abs < 1e-6 || abs >= 1e21) ||
			bitSize == 32 && (float32(abs) < 1e-6 || float32(abs) >= 1e21) {
			format = 'e'
		}
	}
	e.buf = strconv.AppendFloat(e.buf, n, format, -1, bitSize)
	if format == 'e' {
		n := len(e.buf)
		if n >= 4 && e.buf[n-4] == 'e' && e.buf[n-3] == '-' && e.buf[n-2] == '0' {
			e.buf[n-2] = e.buf[n-1]
			e.buf = e.buf[:n-1]
		}
	}
}

// The range protojson accepts for google.protobuf.Timestamp.
const (
	minTimestampSeconds = -62135596800 // 0001-01-01T00:00:00Z
	maxTimestampSeconds = 253402300799 // 9999-12-31T23:59:59Z
)

func (e *encoder) timestamp(secs, nanos int64) error {
	if secs < minTimestampSeconds || secs > maxTimestampSeconds {
		return errors.New("google.protobuf.Timestamp: seconds out of range " + strconv.FormatInt(secs, 10))
	}
	if nanos < 0 || nanos > 999999999 {
		return errors.New("google.protobuf.Timestamp: nanos out of range " + strconv.FormatInt(nanos, 10))
	}
	e.buf = append(e.buf, '"')
	e.buf = appendTimestamp(e.buf, secs, int32(nanos))
	e.buf = append(e.buf, '"')
	return nil
}
