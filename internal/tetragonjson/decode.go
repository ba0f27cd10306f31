// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package tetragonjson

import (
	"encoding/base64"
	"errors"
	"math"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/cilium/tetragon/api/v1/tetragon"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// This file is a protojson-compatible JSON decoder for GetEventsResponse.
//
// protojson tokenises through an allocation-heavy generic decoder, finds
// fields through descriptor name tables and sets them through protoreflect,
// whose list appends allocate per element (Tetragon events carry dozens of
// 40-entry capability lists); on the ~22 KB captured events it runs at about
// 30 MB/s. This decoder makes one pass over the bytes and writes the
// generated Go structs through reflect, following per-message plans built
// once from the descriptors. It accepts and rejects what
// protojson.UnmarshalOptions{DiscardUnknown: true} does (proto or JSON field
// names, 64-bit ints as numbers or strings, enum names or numbers, null
// fields left unset, duplicate fields and a second oneof member rejected,
// strict JSON syntax and UTF-8) and yields an equal message; a differential
// test and a fuzz target hold it to that. A schema feature the plan does not
// cover (a well-known type or map type Tetragon does not use) makes
// DecodeJSON fall back to protojson.
//
// Number parsing (parseNumber, parseNumberParts, normalizeToIntString)
// follows google.golang.org/protobuf/internal/encoding/json, BSD-3-Clause,
// Copyright 2018 The Go Authors.

const maxDepth = 10000 // protojson's default recursion limit

type wktKind uint8

const (
	wktNone wktKind = iota
	wktTimestamp
	wktWrapper
)

type msgPlan struct {
	typ     reflect.Type          // the generated struct
	fields  map[string]*fieldPlan // by proto name and JSON name
	order   []*fieldPlan          // declaration order, oneof members included
	oneofs  []int                 // struct indexes of the oneof interface fields
	members map[reflect.Type]*fieldPlan
	wkt     wktKind
	value   *fieldPlan // wrappers: the value field
	secs    int        // timestamps: struct field indexes
	nanos   int
}

type fieldPlan struct {
	name  string
	index int // into the descriptor's fields, for duplicate detection
	kind  protoreflect.Kind
	list  bool
	isMap bool
	goIdx int          // struct field; for oneof members the oneof interface field
	elem  reflect.Type // list element type
	msg   *msgPlan     // message kind (element kind for lists)
	enum  map[string]protoreflect.EnumNumber
	names EnumNames // for the body
	// skipHint: the proto name also names another field's JSON name, so a
	// name match alone does not identify this field (lookup goes by map).
	skipHint bool
	// oneof members: the oneof's index and the generated wrapper struct,
	// whose only field holds the value.
	oneof   int
	wrapper reflect.Type
	// skip: a field filter leaves this field out; its value is scanned
	// (JSON syntax only) and nothing is built (decode_skip.go).
	skip bool
}

var (
	planOnce    sync.Once
	rootPlan    *msgPlan
	plansByType map[reflect.Type]*msgPlan // every message type an event contains
	planErr     error
)

func eventPlan() (*msgPlan, bool) {
	planOnce.Do(func() {
		b := planBuilder{plans: map[reflect.Type]*msgPlan{}}
		rootPlan = b.build(&tetragon.GetEventsResponse{})
		plansByType, planErr = b.plans, b.err
	})
	return rootPlan, planErr == nil
}

type planBuilder struct {
	plans map[reflect.Type]*msgPlan
	err   error
}

func (b *planBuilder) unsupported(what string) {
	if b.err == nil {
		b.err = errors.New("fast JSON decoder: " + what)
	}
}

// EnumNames finds an enum value's name without hashing for dense enums: the
// names protojson writes (the first name of an alias).
type EnumNames struct {
	dense  []string // by number, "" when unnamed
	sparse map[protoreflect.EnumNumber]string
}

func newEnumNames(ed protoreflect.EnumDescriptor) EnumNames {
	vals := ed.Values()
	var n EnumNames
	n.sparse = map[protoreflect.EnumNumber]string{}
	for i := 0; i < vals.Len(); i++ {
		v := vals.Get(i)
		if _, dup := n.sparse[v.Number()]; !dup {
			n.sparse[v.Number()] = string(v.Name()) // the first name of an alias wins, as in protojson
		}
	}
	for num := range n.sparse {
		if num < 0 || num >= 256 {
			return n
		}
	}
	n.dense = make([]string, 256)
	for num, name := range n.sparse {
		n.dense[num] = name
	}
	return n
}

// Name is the name of enum value num, false when this API version has none.
func (n *EnumNames) Name(num protoreflect.EnumNumber) (string, bool) {
	if n.dense != nil {
		if num >= 0 && int(num) < len(n.dense) && n.dense[num] != "" {
			return n.dense[num], true
		}
		return "", false
	}
	s, ok := n.sparse[num]
	return s, ok
}

// enumNameTables caches the name table of each enum type (capability lists
// have 40 entries per process: a descriptor lookup per entry showed).
var enumNameTables sync.Map // protoreflect.FullName -> *EnumNames

// EnumNamesOf returns the (cached) name table of an enum type.
func EnumNamesOf(ed protoreflect.EnumDescriptor) *EnumNames {
	if t, ok := enumNameTables.Load(ed.FullName()); ok {
		return t.(*EnumNames)
	}
	t := newEnumNames(ed)
	enumNameTables.Store(ed.FullName(), &t)
	return &t
}

func enumTable(ed protoreflect.EnumDescriptor) map[string]protoreflect.EnumNumber {
	vals := ed.Values()
	t := make(map[string]protoreflect.EnumNumber, vals.Len())
	for i := 0; i < vals.Len(); i++ {
		t[string(vals.Get(i).Name())] = vals.Get(i).Number()
	}
	return t
}

// structFields maps field numbers to struct field indexes, and oneof names to
// the index of their interface field, from the generated struct tags.
func structFields(t reflect.Type) (byNumber map[int]int, oneofs map[string]int) {
	byNumber, oneofs = map[int]int{}, map[string]int{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if o := f.Tag.Get("protobuf_oneof"); o != "" {
			oneofs[o] = i
			continue
		}
		parts := strings.Split(f.Tag.Get("protobuf"), ",")
		if len(parts) > 1 {
			if n, err := strconv.Atoi(parts[1]); err == nil {
				byNumber[n] = i
			}
		}
	}
	return byNumber, oneofs
}

func (b *planBuilder) build(msg proto.Message) *msgPlan {
	t := reflect.TypeOf(msg).Elem()
	if p, ok := b.plans[t]; ok {
		return p
	}
	p := &msgPlan{typ: t}
	b.plans[t] = p
	m := msg.ProtoReflect()
	md := m.Descriptor()
	byNumber, oneofs := structFields(t)
	if md.ParentFile().Package() == "google.protobuf" {
		switch md.Name() {
		case "Timestamp":
			p.wkt = wktTimestamp
			p.secs, p.nanos = byNumber[1], byNumber[2]
			return p
		case "BoolValue", "Int32Value", "Int64Value", "UInt32Value", "UInt64Value",
			"FloatValue", "DoubleValue", "StringValue", "BytesValue":
			p.wkt = wktWrapper
			fd := md.Fields().ByNumber(1)
			p.value = &fieldPlan{name: "value", kind: fd.Kind(), goIdx: byNumber[1], oneof: -1}
			return p
		default:
			b.unsupported(string(md.FullName()))
			return p
		}
	}
	fields := md.Fields()
	if fields.Len() > 64 || md.Oneofs().Len() > 64 {
		b.unsupported(string(md.FullName()) + " has more than 64 fields")
	}
	p.fields = make(map[string]*fieldPlan, 2*fields.Len())
	plans := make([]*fieldPlan, fields.Len())
	for i := 0; i < fields.Len(); i++ {
		fd := fields.Get(i)
		fp := &fieldPlan{name: string(fd.Name()), index: i, kind: fd.Kind(), list: fd.IsList(), isMap: fd.IsMap(), oneof: -1}
		plans[i] = fp
		if fd.IsExtension() || fd.Kind() == protoreflect.GroupKind {
			b.unsupported(string(fd.FullName()))
			continue
		}
		if fd.HasPresence() && fd.Message() == nil && fd.ContainingOneof() != nil && fd.ContainingOneof().IsSynthetic() {
			b.unsupported("proto3 optional " + string(fd.FullName()))
			continue
		}
		if od := fd.ContainingOneof(); od != nil {
			fp.oneof = od.Index()
			fp.goIdx = oneofs[string(od.Name())]
			// Setting the member through protoreflect reveals its wrapper type.
			probe := m.New()
			if fd.Message() != nil {
				probe.Set(fd, probe.NewField(fd))
			} else {
				probe.Set(fd, fd.Default())
			}
			fp.wrapper = reflect.ValueOf(probe.Interface()).Elem().Field(fp.goIdx).Elem().Type()
			if p.members == nil {
				p.members = map[reflect.Type]*fieldPlan{}
			}
			p.members[fp.wrapper] = fp
			if fp.msg = nil; fd.Message() != nil {
				fp.msg = b.build(reflect.New(fp.wrapper.Elem().Field(0).Type.Elem()).Interface().(proto.Message))
			}
		} else {
			idx, ok := byNumber[int(fd.Number())]
			if !ok {
				b.unsupported("no struct field for " + string(fd.FullName()))
				continue
			}
			fp.goIdx = idx
			ft := t.Field(idx).Type
			switch {
			case fd.IsMap():
				if ft != reflect.TypeOf(map[string]string(nil)) {
					b.unsupported("map type of " + string(fd.FullName()))
				}
			case fd.IsList():
				fp.elem = ft.Elem()
				if fd.Enum() != nil && ft.Elem().Kind() != reflect.Int32 {
					b.unsupported("enum list of kind " + ft.Elem().Kind().String())
				}
				if fd.Message() != nil {
					fp.msg = b.build(reflect.New(ft.Elem().Elem()).Interface().(proto.Message))
				}
			case fd.Message() != nil:
				fp.msg = b.build(reflect.New(ft.Elem()).Interface().(proto.Message))
			}
		}
		if fd.Enum() != nil {
			if fd.Enum().FullName() == "google.protobuf.NullValue" {
				b.unsupported(string(fd.FullName()))
			}
			fp.enum = enumTable(fd.Enum())
			fp.names = newEnumNames(fd.Enum())
		}
	}
	p.order = plans
	for i := 0; i < md.Oneofs().Len(); i++ {
		p.oneofs = append(p.oneofs, oneofs[string(md.Oneofs().Get(i).Name())])
	}
	for _, fp := range plans {
		p.fields[fp.name] = fp // protojson's TextName for plain fields
	}
	// protojson tries the JSON name first, so it wins a clash with a proto name.
	for i, fp := range plans {
		p.fields[fields.Get(i).JSONName()] = fp
	}
	for _, fp := range plans {
		fp.skipHint = p.fields[fp.name] != fp
	}
	return p
}

// decodeError reports malformed input with the byte offset it was found at.
type decodeError struct {
	off int
	msg string
}

func (e *decodeError) Error() string {
	return "offset " + strconv.Itoa(e.off) + ": " + e.msg
}

type decoder struct {
	buf     []byte
	pos     int
	depth   int
	scratch []byte
	// Stacks collecting list elements until the list's length is known.
	ints    []int64
	strs    []string
	byteses [][]byte
	msgs    []reflect.Value
}

var decoderPool = sync.Pool{New: func() any { return new(decoder) }}

func (d *decoder) fail(msg string) error {
	return &decodeError{off: d.pos, msg: msg}
}

func (d *decoder) unexpected() error {
	if d.pos >= len(d.buf) {
		return d.fail("unexpected end of input")
	}
	return d.fail("unexpected character " + strconv.QuoteRune(rune(d.buf[d.pos])))
}

// decodeFast decodes line into ev, which must be reset.
func decodeFast(line []byte, ev *tetragon.GetEventsResponse, p *msgPlan) error {
	d := decoderPool.Get().(*decoder)
	d.buf, d.pos, d.depth = line, 0, 0
	d.ws()
	err := d.message(reflect.ValueOf(ev).Elem(), p)
	if err == nil {
		d.ws()
		if d.pos != len(d.buf) {
			err = d.unexpected()
		}
	}
	d.buf = nil
	clear(d.strs[:cap(d.strs)])
	clear(d.byteses[:cap(d.byteses)])
	clear(d.msgs[:cap(d.msgs)])
	d.ints, d.strs, d.byteses, d.msgs = d.ints[:0], d.strs[:0], d.byteses[:0], d.msgs[:0]
	if cap(d.scratch) > 64<<10 {
		d.scratch = nil
	}
	decoderPool.Put(d)
	return err
}

func (d *decoder) ws() {
	for d.pos < len(d.buf) {
		switch d.buf[d.pos] {
		case ' ', '\n', '\r', '\t':
			d.pos++
		default:
			return
		}
	}
}

// next skips whitespace and returns the next byte (0 at the end).
func (d *decoder) next() byte {
	d.ws()
	if d.pos < len(d.buf) {
		return d.buf[d.pos]
	}
	return 0
}

// message decodes a JSON value into sv, an addressable generated struct.
func (d *decoder) message(sv reflect.Value, p *msgPlan) error {
	d.depth++
	defer func() { d.depth-- }()
	if d.depth > maxDepth {
		return d.fail("exceeded max recursion depth")
	}
	switch p.wkt {
	case wktTimestamp:
		return d.timestamp(sv, p)
	case wktWrapper:
		ok, err := d.scalar(sv.Field(p.value.goIdx), p.value)
		if err == nil && !ok {
			err = d.fail("invalid wrapper value")
		}
		return err
	}
	if d.next() != '{' {
		return d.unexpected()
	}
	d.pos++
	if d.next() == '}' {
		d.pos++
		return nil
	}
	var seen, seenOneof uint64
	hint := 0 // Tetragon writes fields in declaration order: try the next one first
	for {
		if d.next() != '"' {
			return d.unexpected()
		}
		keyPos := d.pos
		name, err := d.stringBytes()
		if err != nil {
			return err
		}
		var fp *fieldPlan
		for hint < len(p.order) && p.order[hint].skipHint {
			hint++
		}
		if hint < len(p.order) && p.order[hint].name == string(name) {
			fp = p.order[hint]
		} else {
			fp = p.fields[string(name)]
		}
		if fp != nil {
			hint = fp.index + 1
		}
		if d.next() != ':' {
			return d.unexpected()
		}
		d.pos++
		if fp == nil {
			if err := d.skip(d.depth); err != nil {
				return err
			}
		} else {
			bit := uint64(1) << uint(fp.index)
			if seen&bit != 0 {
				d.pos = keyPos
				return d.fail("duplicate field " + strconv.Quote(fp.name))
			}
			seen |= bit
			if d.next() == 'n' && d.literal("null") {
				// A null field is left unset.
			} else if fp.skip {
				if err := d.skipField(fp, &seenOneof, keyPos); err != nil {
					return err
				}
			} else if err := d.field(sv, fp, &seenOneof, keyPos); err != nil {
				return err
			}
		}
		switch d.next() {
		case ',':
			d.pos++
		case '}':
			d.pos++
			return nil
		default:
			return d.unexpected()
		}
	}
}

var errUnsupported = errors.New("not covered by the fast decoder")

func (d *decoder) field(sv reflect.Value, fp *fieldPlan, seenOneof *uint64, keyPos int) error {
	dst := sv.Field(fp.goIdx)
	switch {
	case fp.list:
		return d.list(dst, fp)
	case fp.isMap:
		return d.stringMap(dst.Addr().Interface().(*map[string]string))
	}
	if fp.oneof >= 0 {
		bit := uint64(1) << uint(fp.oneof)
		if *seenOneof&bit != 0 {
			d.pos = keyPos
			return d.fail("oneof field " + fp.name + " set twice")
		}
		*seenOneof |= bit
		w := reflect.New(fp.wrapper.Elem())
		if fp.msg != nil {
			ptr := reflect.New(fp.msg.typ)
			if err := d.message(ptr.Elem(), fp.msg); err != nil {
				return err
			}
			w.Elem().Field(0).Set(ptr)
		} else {
			ok, err := d.scalar(w.Elem().Field(0), fp)
			if err != nil || !ok {
				return err
			}
		}
		dst.Set(w)
		return nil
	}
	if fp.msg != nil {
		ptr := reflect.New(fp.msg.typ)
		if err := d.message(ptr.Elem(), fp.msg); err != nil {
			return err
		}
		dst.Set(ptr)
		return nil
	}
	_, err := d.scalar(dst, fp)
	return err
}

// list decodes a JSON array into the slice dst. Elements are collected on
// the decoder's stacks first, so the slice is allocated once at its length.
func (d *decoder) list(dst reflect.Value, fp *fieldPlan) error {
	if d.next() != '[' {
		return d.unexpected()
	}
	d.pos++
	if d.next() == ']' {
		d.pos++
		return nil
	}
	i0, s0, b0, m0 := len(d.ints), len(d.strs), len(d.byteses), len(d.msgs)
	for {
		if err := d.element(fp, i0); err != nil {
			return err
		}
		switch d.next() {
		case ',':
			d.pos++
			continue
		case ']':
			d.pos++
		default:
			return d.unexpected()
		}
		break
	}
	var n int
	switch {
	case fp.msg != nil:
		n = len(d.msgs) - m0
	case fp.kind == protoreflect.StringKind:
		n = len(d.strs) - s0
	case fp.kind == protoreflect.BytesKind:
		n = len(d.byteses) - b0
	default:
		n = len(d.ints) - i0
	}
	if n == 0 {
		return nil // only unknown enum names: nothing kept, as in protojson
	}
	s := reflect.MakeSlice(dst.Type(), n, n)
	for i := 0; i < n; i++ {
		e := s.Index(i)
		switch {
		case fp.msg != nil:
			e.Set(d.msgs[m0+i])
		case fp.kind == protoreflect.StringKind:
			e.SetString(d.strs[s0+i])
		case fp.kind == protoreflect.BytesKind:
			e.SetBytes(d.byteses[b0+i])
		default:
			setBits(e, fp.kind, d.ints[i0+i])
		}
	}
	dst.Set(s)
	clear(d.strs[s0:])
	clear(d.byteses[b0:])
	clear(d.msgs[m0:])
	d.ints, d.strs, d.byteses, d.msgs = d.ints[:i0], d.strs[:s0], d.byteses[:b0], d.msgs[:m0]
	return nil
}

func (d *decoder) element(fp *fieldPlan, i0 int) error {
	if fp.kind == protoreflect.EnumKind && len(d.ints) > i0 && d.next() == '"' {
		// Lists of enums (capabilities) usually run in number order: try the
		// successor of the previous element before the name table.
		if name, ok := fp.names.Name(protoreflect.EnumNumber(d.ints[len(d.ints)-1] + 1)); ok {
			if end := d.pos + 1 + len(name); end < len(d.buf) && d.buf[end] == '"' && string(d.buf[d.pos+1:end]) == name {
				d.pos = end + 1
				d.ints = append(d.ints, d.ints[len(d.ints)-1]+1)
				return nil
			}
		}
	}
	if fp.msg != nil {
		ptr := reflect.New(fp.msg.typ)
		if err := d.message(ptr.Elem(), fp.msg); err != nil {
			return err
		}
		d.msgs = append(d.msgs, ptr)
		return nil
	}
	v, ok, err := d.scalarBits(fp)
	if err != nil || !ok {
		return err
	}
	switch fp.kind {
	case protoreflect.StringKind:
		d.strs = append(d.strs, v.s)
	case protoreflect.BytesKind:
		d.byteses = append(d.byteses, v.b)
	default:
		d.ints = append(d.ints, v.n)
	}
	return nil
}

func (d *decoder) stringMap(dst *map[string]string) error {
	if d.next() != '{' {
		return d.unexpected()
	}
	d.pos++
	if *dst == nil {
		*dst = map[string]string{}
	}
	if d.next() == '}' {
		d.pos++
		return nil
	}
	m := *dst
	for {
		if d.next() != '"' {
			return d.unexpected()
		}
		keyPos := d.pos
		key, err := d.stringValue()
		if err != nil {
			return err
		}
		if _, dup := m[key]; dup {
			d.pos = keyPos
			return d.fail("duplicate map key " + strconv.Quote(key))
		}
		if d.next() != ':' {
			return d.unexpected()
		}
		d.pos++
		if d.next() != '"' {
			return d.fail("invalid value for string map entry")
		}
		val, err := d.stringValue()
		if err != nil {
			return err
		}
		m[key] = val
		switch d.next() {
		case ',':
			d.pos++
		case '}':
			d.pos++
			return nil
		default:
			return d.unexpected()
		}
	}
}

// scalarValue is a decoded scalar: n holds ints, enums, bools (0/1), uints
// and floats (their bits).
type scalarValue struct {
	n int64
	s string
	b []byte
}

// scalar decodes a scalar into dst. ok is false for an unknown enum name,
// which protojson with DiscardUnknown leaves unset.
func (d *decoder) scalar(dst reflect.Value, fp *fieldPlan) (bool, error) {
	v, ok, err := d.scalarBits(fp)
	if err != nil || !ok {
		return ok, err
	}
	switch fp.kind {
	case protoreflect.StringKind:
		dst.SetString(v.s)
	case protoreflect.BytesKind:
		dst.SetBytes(v.b)
	default:
		setBits(dst, fp.kind, v.n)
	}
	return true, nil
}

func setBits(dst reflect.Value, kind protoreflect.Kind, n int64) {
	switch kind {
	case protoreflect.BoolKind:
		dst.SetBool(n != 0)
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind, protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		dst.SetUint(uint64(n))
	case protoreflect.FloatKind, protoreflect.DoubleKind:
		dst.SetFloat(math.Float64frombits(uint64(n)))
	default:
		dst.SetInt(n)
	}
}

func (d *decoder) scalarBits(fp *fieldPlan) (scalarValue, bool, error) {
	kind := fp.kind
	c := d.next()
	start := d.pos
	bad := func() (scalarValue, bool, error) {
		d.pos = start
		return scalarValue{}, false, d.fail("invalid value for " + kind.String() + " field " + fp.name)
	}
	switch kind {
	case protoreflect.StringKind:
		if c != '"' {
			return bad()
		}
		s, err := d.stringValue()
		return scalarValue{s: s}, err == nil, err
	case protoreflect.BoolKind:
		if d.literal("true") {
			return scalarValue{n: 1}, true, nil
		}
		if d.literal("false") {
			return scalarValue{}, true, nil
		}
		return bad()
	case protoreflect.EnumKind:
		if c == '"' {
			name, err := d.stringBytes()
			if err != nil {
				return scalarValue{}, false, err
			}
			if n, ok := fp.enum[string(name)]; ok {
				return scalarValue{n: int64(n)}, true, nil
			}
			return scalarValue{}, false, nil
		}
		raw, ok := d.number()
		if !ok {
			return bad()
		}
		n, ok := parseInt(raw, 32)
		if !ok {
			return bad()
		}
		return scalarValue{n: n}, true, nil
	case protoreflect.BytesKind:
		if c != '"' {
			return bad()
		}
		s, err := d.stringBytes()
		if err != nil {
			return scalarValue{}, false, err
		}
		b, ok := decodeBase64(s)
		if !ok {
			return bad()
		}
		return scalarValue{b: b}, true, nil
	}

	// Numbers, possibly quoted.
	var raw []byte
	if c == '"' {
		s, err := d.stringBytes()
		if err != nil {
			return scalarValue{}, false, err
		}
		if kind == protoreflect.FloatKind || kind == protoreflect.DoubleKind {
			switch string(s) {
			case "NaN":
				return floatBits(kind, math.NaN()), true, nil
			case "Infinity":
				return floatBits(kind, math.Inf(1)), true, nil
			case "-Infinity":
				return floatBits(kind, math.Inf(-1)), true, nil
			}
		}
		if n, ok := parseNumber(s); !ok || n != len(s) {
			return bad()
		}
		raw = s
	} else {
		var ok bool
		if raw, ok = d.number(); !ok {
			return bad()
		}
	}
	switch kind {
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		if n, ok := parseInt(raw, 32); ok {
			return scalarValue{n: n}, true, nil
		}
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		if n, ok := parseInt(raw, 64); ok {
			return scalarValue{n: n}, true, nil
		}
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		if n, ok := parseUint(raw, 32); ok {
			return scalarValue{n: int64(n)}, true, nil
		}
	case protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		if n, ok := parseUint(raw, 64); ok {
			return scalarValue{n: int64(n)}, true, nil
		}
	case protoreflect.FloatKind, protoreflect.DoubleKind:
		bits := 64
		if kind == protoreflect.FloatKind {
			bits = 32
		}
		if f, err := strconv.ParseFloat(string(raw), bits); err == nil {
			return floatBits(kind, f), true, nil
		}
	}
	return bad()
}

func floatBits(kind protoreflect.Kind, f float64) scalarValue {
	if kind == protoreflect.FloatKind {
		f = float64(float32(f))
	}
	return scalarValue{n: int64(math.Float64bits(f))}
}

func decodeBase64(s []byte) ([]byte, bool) {
	enc := base64.StdEncoding
	for _, c := range s {
		if c == '-' || c == '_' {
			enc = base64.URLEncoding
			break
		}
	}
	if len(s)%4 != 0 {
		enc = enc.WithPadding(base64.NoPadding)
	}
	out := make([]byte, enc.DecodedLen(len(s)))
	n, err := enc.Decode(out, s)
	if err != nil {
		return nil, false
	}
	return out[:n], true
}

// literal consumes word if it is next and ends at a delimiter.
func (d *decoder) literal(word string) bool {
	end := d.pos + len(word)
	if end > len(d.buf) || string(d.buf[d.pos:end]) != word {
		return false
	}
	if end < len(d.buf) && isNotDelim(d.buf[end]) {
		return false
	}
	d.pos = end
	return true
}

// number consumes a JSON number and returns its bytes.
func (d *decoder) number() ([]byte, bool) {
	n, ok := parseNumber(d.buf[d.pos:])
	if !ok {
		return nil, false
	}
	raw := d.buf[d.pos : d.pos+n]
	d.pos += n
	return raw, true
}

// stringBytes consumes a JSON string (the cursor is on its quote) and returns
// its unescaped bytes. They alias the input or a scratch buffer: valid only
// until the next call.
func (d *decoder) stringBytes() ([]byte, error) {
	i := d.pos + 1
	buf := d.buf
	for i < len(buf) {
		c := buf[i]
		switch {
		case c == '"':
			s := buf[d.pos+1 : i]
			d.pos = i + 1
			return s, nil
		case c == '\\':
			return d.stringSlow(i)
		case c < 0x20:
			d.pos = i
			return nil, d.fail("invalid control character in string")
		case c < utf8.RuneSelf:
			i++
		default:
			r, n := utf8.DecodeRune(buf[i:])
			if r == utf8.RuneError && n == 1 {
				d.pos = i
				return nil, d.fail("invalid UTF-8 in string")
			}
			i += n
		}
	}
	d.pos = len(buf)
	return nil, d.fail("unexpected end of input in string")
}

func (d *decoder) stringValue() (string, error) {
	b, err := d.stringBytes()
	return string(b), err
}

// unescaped maps the byte after a backslash to the byte a two-byte escape
// stands for; 0 for the others (\u and invalid ones).
var unescaped = [256]byte{'"': '"', '\\': '\\', '/': '/', 'b': '\b', 'f': '\f', 'n': '\n', 'r': '\r', 't': '\t'}

// stringSlow unescapes a string from its first backslash at i.
func (d *decoder) stringSlow(i int) ([]byte, error) {
	buf := d.buf
	out := append(d.scratch[:0], buf[d.pos+1:i]...)
	for i < len(buf) {
		c := buf[i]
		switch {
		case c == '"':
			d.pos = i + 1
			d.scratch = out
			return out, nil
		case c == '\\':
			if i+1 >= len(buf) {
				d.pos = len(buf)
				return nil, d.fail("unexpected end of input in string")
			}
			switch e := buf[i+1]; {
			case unescaped[e] != 0:
				out = append(out, unescaped[e])
				i += 2
			case e == 'u':
				r, ok := hex4(buf, i+2)
				if !ok {
					d.pos = i
					return nil, d.escapeError(i)
				}
				i += 6
				if utf16.IsSurrogate(r) {
					r2, ok := hex4(buf, i+2)
					if i+1 >= len(buf) || buf[i] != '\\' || buf[i+1] != 'u' || !ok {
						d.pos = i
						return nil, d.escapeError(i)
					}
					r = utf16.DecodeRune(r, r2)
					if r == utf8.RuneError {
						d.pos = i
						return nil, d.fail("invalid escape code in string")
					}
					i += 6
				}
				out = utf8.AppendRune(out, r)
			default:
				d.pos = i
				return nil, d.fail("invalid escape code in string")
			}
		case c < 0x20:
			d.pos = i
			return nil, d.fail("invalid control character in string")
		case c < utf8.RuneSelf:
			out = append(out, c)
			i++
		default:
			r, n := utf8.DecodeRune(buf[i:])
			if r == utf8.RuneError && n == 1 {
				d.pos = i
				return nil, d.fail("invalid UTF-8 in string")
			}
			out = append(out, buf[i:i+n]...)
			i += n
		}
	}
	d.pos = len(buf)
	return nil, d.fail("unexpected end of input in string")
}

func (d *decoder) escapeError(i int) error {
	if i+6 > len(d.buf) {
		d.pos = len(d.buf)
		return d.fail("unexpected end of input in string")
	}
	return d.fail("invalid escape code in string")
}

func hex4(b []byte, i int) (rune, bool) {
	if i+4 > len(b) {
		return 0, false
	}
	var r rune
	for _, c := range b[i : i+4] {
		switch {
		case '0' <= c && c <= '9':
			r = r<<4 | rune(c-'0')
		case 'a' <= c && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case 'A' <= c && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return r, true
}

// skip consumes and validates one JSON value of an unknown field.
func (d *decoder) skip(depth int) error {
	switch c := d.next(); c {
	case '{', '[':
		if depth++; depth > maxDepth {
			return d.fail("exceeded max recursion depth")
		}
		d.pos++
		closer := byte('}')
		if c == '[' {
			closer = ']'
		}
		if d.next() == closer {
			d.pos++
			return nil
		}
		for {
			if c == '{' {
				if d.next() != '"' {
					return d.unexpected()
				}
				if _, err := d.stringBytes(); err != nil {
					return err
				}
				if d.next() != ':' {
					return d.unexpected()
				}
				d.pos++
			}
			if err := d.skip(depth); err != nil {
				return err
			}
			switch d.next() {
			case ',':
				d.pos++
			case closer:
				d.pos++
				return nil
			default:
				return d.unexpected()
			}
		}
	case '"':
		_, err := d.stringBytes()
		return err
	case 't':
		if d.literal("true") {
			return nil
		}
	case 'f':
		if d.literal("false") {
			return nil
		}
	case 'n':
		if d.literal("null") {
			return nil
		}
	default:
		if _, ok := d.number(); ok {
			return nil
		}
	}
	return d.unexpected()
}

// timestamp parses an RFC 3339 string the way protojson does: time.Parse
// with RFC3339Nano, at most nine fraction digits, years 0001 to 9999. The
// canonical UTC form Tetragon writes is parsed without time.Parse.
func (d *decoder) timestamp(sv reflect.Value, p *msgPlan) error {
	if d.next() != '"' {
		return d.unexpected()
	}
	start := d.pos
	s, err := d.stringBytes()
	if err != nil {
		return err
	}
	secs, nanos, ok := parseCanonicalTime(s)
	if !ok {
		str := string(s)
		t, err := time.Parse(time.RFC3339Nano, str)
		if err != nil {
			d.pos = start
			return d.fail("invalid google.protobuf.Timestamp value")
		}
		i := strings.LastIndexByte(str, '.')
		j := strings.LastIndexAny(str, "Z-+")
		if i >= 0 && j >= i && j-i > len(".999999999") {
			d.pos = start
			return d.fail("invalid google.protobuf.Timestamp value")
		}
		secs, nanos = t.Unix(), int32(t.Nanosecond())
	}
	if secs < -62135596800 || secs > 253402300799 {
		d.pos = start
		return d.fail("google.protobuf.Timestamp value out of range")
	}
	sv.Field(p.secs).SetInt(secs)
	sv.Field(p.nanos).SetInt(int64(nanos))
	return nil
}

// parseCanonicalTime parses "YYYY-MM-DDTHH:MM:SS[.f{1,9}]Z" with every field
// in range; anything else reports false and goes through time.Parse.
func parseCanonicalTime(s []byte) (int64, int32, bool) {
	if len(s) < 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' || s[len(s)-1] != 'Z' {
		return 0, 0, false
	}
	num := func(b []byte) (int, bool) {
		n := 0
		for _, c := range b {
			if c < '0' || c > '9' {
				return 0, false
			}
			n = n*10 + int(c-'0')
		}
		return n, true
	}
	year, ok1 := num(s[0:4])
	month, ok2 := num(s[5:7])
	day, ok3 := num(s[8:10])
	hour, ok4 := num(s[11:13])
	minute, ok5 := num(s[14:16])
	sec, ok6 := num(s[17:19])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) || year < 1 || month < 1 || month > 12 || day < 1 ||
		day > daysIn(month, year) || hour > 23 || minute > 59 || sec > 59 {
		return 0, 0, false
	}
	var nanos int
	frac := s[19 : len(s)-1]
	if len(frac) > 0 {
		if frac[0] != '.' || len(frac) < 2 || len(frac) > 10 {
			return 0, 0, false
		}
		n, ok := num(frac[1:])
		if !ok {
			return 0, 0, false
		}
		for i := len(frac) - 1; i < 9; i++ {
			n *= 10
		}
		nanos = n
	}
	t := time.Date(year, time.Month(month), day, hour, minute, sec, 0, time.UTC)
	return t.Unix(), int32(nanos), true
}

func daysIn(month, year int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// parseInt and parseUint accept what protojson accepts for integer fields:
// any JSON number with an integral value ("1", "-0", "1.0", "1e3") in range.
func parseInt(raw []byte, bits int) (int64, bool) {
	if n, ok := simpleInt(raw); ok {
		if bits == 32 && (n < math.MinInt32 || n > math.MaxInt32) {
			return 0, false
		}
		return n, true
	}
	s, ok := intString(raw)
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(s, 10, bits)
	return n, err == nil
}

func parseUint(raw []byte, bits int) (uint64, bool) {
	if n, ok := simpleInt(raw); ok {
		if n < 0 || (bits == 32 && n > math.MaxUint32) {
			return 0, false
		}
		return uint64(n), true
	}
	s, ok := intString(raw)
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseUint(s, 10, bits)
	return n, err == nil
}

// simpleInt handles the common case: an optional minus and up to 18 digits.
func simpleInt(raw []byte) (int64, bool) {
	b := raw
	neg := len(b) > 0 && b[0] == '-'
	if neg {
		b = b[1:]
	}
	if len(b) == 0 || len(b) > 18 {
		return 0, false
	}
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	if neg {
		n = -n
	}
	return n, true
}

func intString(raw []byte) (string, bool) {
	parts, ok := parseNumberParts(raw)
	if !ok {
		return "", false
	}
	return normalizeToIntString(parts)
}

// parseNumber returns the length of the valid JSON number at the start of
// input, which must be followed by a delimiter or the end.
func parseNumber(input []byte) (int, bool) {
	var n int
	s := input
	if len(s) == 0 {
		return 0, false
	}
	if s[0] == '-' {
		s = s[1:]
		n++
		if len(s) == 0 {
			return 0, false
		}
	}
	switch {
	case s[0] == '0':
		s = s[1:]
		n++
	case '1' <= s[0] && s[0] <= '9':
		s = s[1:]
		n++
		for len(s) > 0 && '0' <= s[0] && s[0] <= '9' {
			s = s[1:]
			n++
		}
	default:
		return 0, false
	}
	if len(s) >= 2 && s[0] == '.' && '0' <= s[1] && s[1] <= '9' {
		s = s[2:]
		n += 2
		for len(s) > 0 && '0' <= s[0] && s[0] <= '9' {
			s = s[1:]
			n++
		}
	}
	if len(s) >= 2 && (s[0] == 'e' || s[0] == 'E') {
		s = s[1:]
		n++
		if s[0] == '+' || s[0] == '-' {
			s = s[1:]
			n++
			if len(s) == 0 {
				return 0, false
			}
		}
		for len(s) > 0 && '0' <= s[0] && s[0] <= '9' {
			s = s[1:]
			n++
		}
	}
	if n < len(input) && isNotDelim(input[n]) {
		return 0, false
	}
	return n, true
}

func isNotDelim(c byte) bool {
	return c == '-' || c == '+' || c == '.' || c == '_' ||
		('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') || ('0' <= c && c <= '9')
}

type numberParts struct {
	neg  bool
	intp []byte
	frac []byte
	exp  []byte
}

func parseNumberParts(input []byte) (numberParts, bool) {
	var neg bool
	var intp, frac, exp []byte
	s := input
	if len(s) == 0 {
		return numberParts{}, false
	}
	if s[0] == '-' {
		neg = true
		s = s[1:]
		if len(s) == 0 {
			return numberParts{}, false
		}
	}
	switch {
	case s[0] == '0':
		s = s[1:]
	case '1' <= s[0] && s[0] <= '9':
		intp = s
		n := 1
		s = s[1:]
		for len(s) > 0 && '0' <= s[0] && s[0] <= '9' {
			s = s[1:]
			n++
		}
		intp = intp[:n]
	default:
		return numberParts{}, false
	}
	if len(s) >= 2 && s[0] == '.' && '0' <= s[1] && s[1] <= '9' {
		frac = s[1:]
		n := 1
		s = s[2:]
		for len(s) > 0 && '0' <= s[0] && s[0] <= '9' {
			s = s[1:]
			n++
		}
		frac = frac[:n]
	}
	if len(s) >= 2 && (s[0] == 'e' || s[0] == 'E') {
		s = s[1:]
		exp = s
		n := 0
		if s[0] == '+' || s[0] == '-' {
			s = s[1:]
			n++
			if len(s) == 0 {
				return numberParts{}, false
			}
		}
		for len(s) > 0 && '0' <= s[0] && s[0] <= '9' {
			s = s[1:]
			n++
		}
		exp = exp[:n]
	}
	for len(frac) > 0 && frac[len(frac)-1] == '0' {
		frac = frac[:len(frac)-1]
	}
	return numberParts{neg: neg, intp: intp, frac: frac, exp: exp}, true
}

func normalizeToIntString(n numberParts) (string, bool) {
	intpSize := len(n.intp)
	fracSize := len(n.frac)
	if intpSize == 0 && fracSize == 0 {
		return "0", true
	}
	var exp int
	if len(n.exp) > 0 {
		i, err := strconv.ParseInt(string(n.exp), 10, 32)
		if err != nil {
			return "", false
		}
		exp = int(i)
	}
	var num []byte
	if exp >= 0 {
		if fracSize > exp {
			return "", false
		}
		const maxDigits = 20
		if intpSize+exp > maxDigits {
			return "", false
		}
		num = n.intp[:len(n.intp):len(n.intp)]
		num = append(num, n.frac...)
		for i := 0; i < exp-fracSize; i++ {
			num = append(num, '0')
		}
	} else {
		if fracSize > 0 {
			return "", false
		}
		index := intpSize + exp
		if index < 0 {
			return "", false
		}
		num = n.intp
		for i := index; i < intpSize; i++ {
			if num[i] != '0' {
				return "", false
			}
		}
		num = num[:index]
	}
	if n.neg {
		return "-" + string(num), true
	}
	return string(num), true
}
