// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

// Package tetragonwire decodes tetragon.GetEventsResponse from protobuf wire bytes with
// generated, type-specific code (protowire plus direct struct assignments) instead of
// protobuf-go's table-driven decoder. The result equals proto.Unmarshal with DiscardUnknown:
// unknown fields, and known fields with an unexpected wire type, are skipped, not kept.
package tetragonwire // import "github.com/otelcol-runtime-security/otelcol-runtime-security/internal/tetragonwire"

//go:generate go run ./internal/gen -out unmarshal_gen.go

import (
	"fmt"
	"unicode/utf8"
	"unsafe"

	"github.com/cilium/tetragon/api/v1/tetragon"
	"google.golang.org/protobuf/encoding/protowire"
)

// Unmarshal resets m and decodes b into it. Strings and bytes are copied: b may be reused as
// soon as Unmarshal returns.
func Unmarshal(b []byte, m *tetragon.GetEventsResponse) error {
	m.Reset()
	d := decoder{alias: false}
	return d.unmarshalGetEventsResponse(b, m)
}

// UnmarshalAliasing is Unmarshal without copying: every string and []byte in m points into b.
// The caller hands b over: it must never be modified or reused afterwards, for as long as m or
// any string taken from it is alive, and b stays in memory until all of them are unreachable.
func UnmarshalAliasing(b []byte, m *tetragon.GetEventsResponse) error {
	m.Reset()
	d := decoder{alias: true}
	return d.unmarshalGetEventsResponse(b, m)
}

// InvalidUTF8Error reports a proto3 string field holding invalid UTF-8, which proto.Unmarshal
// rejects too.
type InvalidUTF8Error struct {
	Field string
}

func (e *InvalidUTF8Error) Error() string {
	return fmt.Sprintf("tetragonwire: string field %s contains invalid UTF-8", e.Field)
}

// consumeTag parses a field tag, rejecting field numbers outside [1, 2^29-1] as protobuf-go
// does. The one-byte case (field numbers up to 15) is inlined at every call site.
func consumeTag(b []byte) (protowire.Number, protowire.Type, int) {
	if len(b) > 0 && b[0] < 0x80 && b[0] >= 8 {
		return protowire.Number(b[0] >> 3), protowire.Type(b[0] & 7), 1
	}
	return consumeTagSlow(b)
}

func consumeTagSlow(b []byte) (protowire.Number, protowire.Type, int) {
	v, n := protowire.ConsumeVarint(b)
	if n < 0 {
		return 0, 0, n
	}
	if num := v >> 3; num < uint64(protowire.MinValidNumber) || num > uint64(protowire.MaxValidNumber) {
		return 0, 0, errCodeFieldNumber
	}
	return protowire.Number(v >> 3), protowire.Type(v & 7), n
}

// consumeVarint is protowire.ConsumeVarint with the one-byte case inlined.
func consumeVarint(b []byte) (uint64, int) {
	if len(b) > 0 && b[0] < 0x80 {
		return uint64(b[0]), 1
	}
	return protowire.ConsumeVarint(b)
}

// consumeBytes is protowire.ConsumeBytes with the case of a one-byte length inlined.
func consumeBytes(b []byte) ([]byte, int) {
	if len(b) > 0 && b[0] < 0x80 && int(b[0]) < len(b) {
		n := int(b[0]) + 1
		return b[1:n], n
	}
	return protowire.ConsumeBytes(b)
}

// errCodeFieldNumber is protowire's (unexported) error code for an invalid field number, so
// that protowire.ParseError describes it properly.
var errCodeFieldNumber = func() int {
	_, _, n := protowire.ConsumeTag([]byte{0})
	return n
}()

func toStringUTF8(v []byte, alias bool, field string) (string, error) {
	if !utf8.Valid(v) {
		return "", &InvalidUTF8Error{Field: field}
	}
	return toString(v, alias), nil
}

func toString(v []byte, alias bool) string {
	if len(v) == 0 {
		return ""
	}
	if alias {
		return unsafe.String(&v[0], len(v))
	}
	return string(v)
}

func toBytes(v []byte, alias bool) []byte {
	if alias {
		return v[:len(v):len(v)]
	}
	return append([]byte{}, v...)
}

// slab hands out zeroed T from chunks of 1, 2, 4, then maxSlabChunk, so an event's n nested
// messages of one type cost about n/8 allocations instead of n (a captured exec event has ~40
// UInt32Value and ~10 Process). The price: a chunk stays in memory while any message in it is
// reachable, so keeping one nested message of an event keeps up to 7 siblings of its type
// alive, and up to 7 unused slots per type and event are allocated (+~15% bytes). Larger
// chunks were measured: fewer allocations, more wasted bytes, no CPU gain.
type slab[T any] struct {
	free []T
	next int
}

const maxSlabChunk = 8

func (s *slab[T]) new() *T {
	if len(s.free) == 0 {
		s.next = min(max(2*s.next, 1), maxSlabChunk)
		s.free = make([]T, s.next)
	}
	p := &s.free[0]
	s.free = s.free[1:]
	return p
}

// countVarints counts the varints in a packed run, to size the slice once.
func countVarints(p []byte) int {
	c := 0
	for _, x := range p {
		if x < 0x80 {
			c++
		}
	}
	return c
}

// skipAll validates and skips the fields of a message without known fields.
func skipAll(b []byte) error {
	for len(b) > 0 {
		num, typ, n := consumeTag(b)
		if n < 0 {
			return protowire.ParseError(n)
		}
		b = b[n:]
		n = protowire.ConsumeFieldValue(num, typ, b)
		if n < 0 {
			return protowire.ParseError(n)
		}
		b = b[n:]
	}
	return nil
}
