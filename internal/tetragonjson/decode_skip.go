// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package tetragonjson

import (
	"encoding/binary"
	"fmt"
	"math/bits"
	"reflect"
	"slices"

	"github.com/cilium/tetragon/api/v1/tetragon"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/fieldmask"
)

// Field filters at decode time.
//
// Over gRPC, Tetragon applies GetEventsRequest.field_filters before it sends
// an event. Its JSON export file is written whole, so a Decoder built from
// the same filters leaves those fields out while decoding instead: it
// derives, per event type, plan variants in which a filtered-out field is
// marked skip. A skipped value is scanned for JSON syntax (strings, escapes,
// UTF-8, nesting, literals and numbers, as for unknown fields) and nothing is
// built for it. The result equals a full decode followed by Tetragon's
// filtering (github.com/mennanov/fmutils NestedMask Filter/Prune over the
// message inside the event oneof, filters applied in order); the one
// difference is that a skipped value of the wrong type (a string where a
// number belongs) is not an error, as it would not be for an unknown field.

// Decoder decodes Tetragon JSON lines like DecodeJSON, leaving out the
// fields that its field filters remove. It is safe for concurrent use.
type Decoder struct {
	plan *msgPlan // nil: no filter applies, decode like DecodeJSON
}

// NewDecoder returns a Decoder applying filters (Tetragon FieldFilter
// messages: event_set, invert_event_set, fields paths in proto names relative
// to the event such as "process.cap", action INCLUDE or EXCLUDE). A path that
// names no field of an event type is ignored for that type, as Tetragon
// does; a path reaching inside a map, a scalar or a google.protobuf
// well-known type (process.uid.value) is an error.
func NewDecoder(filters []*tetragon.FieldFilter) (*Decoder, error) {
	if len(filters) == 0 {
		return &Decoder{}, nil
	}
	root, ok := eventPlan()
	if !ok {
		return nil, fmt.Errorf("field filters need the fast JSON decoder: %w", planErr)
	}
	md := (&tetragon.GetEventsResponse{}).ProtoReflect().Descriptor()
	masks := make([]fieldmask.Mask, len(filters))
	for i, f := range filters {
		masks[i] = fieldmask.FromPaths(f.GetFields().GetPaths())
	}
	out := root.clone()
	changed := false
	for i, fp := range root.order {
		if fp.oneof < 0 || fp.msg == nil {
			continue
		}
		typ := tetragon.EventType(md.Fields().Get(fp.index).Number())
		p := fp.msg
		for j, f := range filters {
			if !filterApplies(f, typ) {
				continue
			}
			var err error
			if p, err = p.filtered(masks[j], f.GetAction() == tetragon.FieldFilterAction_INCLUDE, fp.name); err != nil {
				return nil, fmt.Errorf("field filter %d: %w", j, err)
			}
		}
		if p != fp.msg {
			nfp := *fp
			nfp.msg = p
			out.order[i] = &nfp
			changed = true
		}
	}
	if !changed {
		return &Decoder{}, nil
	}
	out.relink(root)
	return &Decoder{plan: out}, nil
}

// LeavesOut reports whether the decoder drops any field, i.e. whether what it
// decodes differs from the line.
func (dec *Decoder) LeavesOut() bool { return dec != nil && dec.plan != nil }

// Decode decodes one line into ev (reset first), with DecodeJSON's errors.
func (dec *Decoder) Decode(line []byte, ev *tetragon.GetEventsResponse) error {
	if dec == nil || dec.plan == nil {
		return DecodeJSON(line, ev)
	}
	ev.Reset()
	if err := decodeFast(line, ev, dec.plan); err != nil {
		return fmt.Errorf("decode tetragon event: %w", err)
	}
	if !HasEvent(ev) {
		return &UnknownEventTypeError{Keys: topLevelKeys(line)}
	}
	return nil
}

// filterApplies mirrors Tetragon's event_set test: an empty set applies to
// every event; invert_event_set applies to the events not in the set.
func filterApplies(f *tetragon.FieldFilter, typ tetragon.EventType) bool {
	if len(f.GetEventSet()) == 0 {
		return true
	}
	return slices.Contains(f.GetEventSet(), typ) != f.GetInvertEventSet().GetValue()
}

// clone copies p's field tables so that entries can be replaced.
func (p *msgPlan) clone() *msgPlan {
	c := *p
	c.order = slices.Clone(p.order)
	return &c
}

// relink points c's name and oneof-member tables (copied from orig) at c's
// order entries.
func (c *msgPlan) relink(orig *msgPlan) {
	c.fields = make(map[string]*fieldPlan, len(orig.fields))
	for name, fp := range orig.fields {
		c.fields[name] = c.order[fp.index]
	}
	if orig.members != nil {
		c.members = make(map[reflect.Type]*fieldPlan, len(orig.members))
		for t, fp := range orig.members {
			c.members[t] = c.order[fp.index]
		}
	}
}

// filtered returns the variant of p that mask leaves: with include, only
// the masked fields are kept (fmutils Filter), otherwise the masked fields
// are left out (fmutils Prune). where names p in errors.
func (p *msgPlan) filtered(mask fieldmask.Mask, include bool, where string) (*msgPlan, error) {
	if len(mask) == 0 {
		return p, nil
	}
	if p.wkt != wktNone {
		return nil, fmt.Errorf("%s: cannot select fields inside %s; filter %s as a whole", where, p.typ.Name(), where)
	}
	c := p.clone()
	changed := false
	for i, fp := range p.order {
		if fp.skip {
			continue
		}
		sub, named := mask[fp.name]
		path := where + "." + fp.name
		var nfp fieldPlan
		switch {
		case !named && !include, named && len(sub) == 0 && include:
			continue
		case !named, len(sub) == 0:
			nfp = *fp
			nfp.skip = true
		case fp.isMap || fp.msg == nil:
			return nil, fmt.Errorf("%s: not a message, so it has no fields to select", path)
		default:
			m, err := fp.msg.filtered(sub, include, path)
			if err != nil {
				return nil, err
			}
			if m == fp.msg {
				continue
			}
			nfp = *fp
			nfp.msg = m
		}
		c.order[i] = &nfp
		changed = true
	}
	if !changed {
		return p, nil
	}
	c.relink(p)
	return c, nil
}

// skipField scans past the value of a field that a filter leaves out. A
// oneof member still counts as set, so that a second member is rejected as
// in a full decode.
func (d *decoder) skipField(fp *fieldPlan, seenOneof *uint64, keyPos int) error {
	if fp.oneof >= 0 {
		bit := uint64(1) << uint(fp.oneof)
		if *seenOneof&bit != 0 {
			d.pos = keyPos
			return d.fail("oneof field " + fp.name + " set twice")
		}
		*seenOneof |= bit
	}
	return d.skipValue()
}

// skipValue consumes one JSON value as skip does, without recursion and with
// a word-at-a-time scan of plain ASCII strings; strings with escapes or
// non-ASCII bytes, numbers and literals go through the decoder's own
// validating readers.
func (d *decoder) skipValue() error {
	var open [64]byte // the containers entered: '}' or ']' to close each
	n := 0
	buf := d.buf
	i := d.pos
	for {
		// A value starts at i.
		i = skipSpace(buf, i)
		if i >= len(buf) {
			d.pos = i
			return d.unexpected()
		}
		switch c := buf[i]; c {
		case '{', '[':
			if n == len(open) {
				d.pos = i
				if err := d.skip(d.depth + n); err != nil {
					return err
				}
				i = d.pos
				break
			}
			if d.depth+n+1 > maxDepth {
				d.pos = i
				return d.fail("exceeded max recursion depth")
			}
			closer := byte(']')
			if c == '{' {
				closer = '}'
			}
			i = skipSpace(buf, i+1)
			if i < len(buf) && buf[i] == closer {
				i++
				break
			}
			open[n] = closer
			n++
			if c == '{' {
				var err error
				if i, err = d.skipKey(i); err != nil {
					return err
				}
			}
			continue
		case '"':
			var err error
			if i, err = d.skipString(i); err != nil {
				return err
			}
		default:
			d.pos = i
			switch {
			case c == 't' && d.literal("true"), c == 'f' && d.literal("false"), c == 'n' && d.literal("null"):
			default:
				if _, ok := d.number(); !ok {
					return d.unexpected()
				}
			}
			i = d.pos
		}
		// A value ended at i: close containers until one continues.
		for {
			if n == 0 {
				d.pos = i
				return nil
			}
			i = skipSpace(buf, i)
			if i < len(buf) && buf[i] == open[n-1] {
				i++
				n--
				continue
			}
			if i < len(buf) && buf[i] == ',' {
				i++
				if open[n-1] == '}' {
					var err error
					if i, err = d.skipKey(i); err != nil {
						return err
					}
				}
				break
			}
			d.pos = i
			return d.unexpected()
		}
	}
}

func skipSpace(buf []byte, i int) int {
	for i < len(buf) {
		switch buf[i] {
		case ' ', '\n', '\r', '\t':
			i++
		default:
			return i
		}
	}
	return i
}

// skipKey consumes an object key and its colon, from i.
func (d *decoder) skipKey(i int) (int, error) {
	i = skipSpace(d.buf, i)
	if i >= len(d.buf) || d.buf[i] != '"' {
		d.pos = i
		return i, d.unexpected()
	}
	i, err := d.skipString(i)
	if err != nil {
		return i, err
	}
	i = skipSpace(d.buf, i)
	if i >= len(d.buf) || d.buf[i] != ':' {
		d.pos = i
		return i, d.unexpected()
	}
	return i + 1, nil
}

const (
	ones  = 0x0101010101010101
	highs = 0x8080808080808080
)

// specialBytes sets the high bit of each of the eight little-endian bytes of w
// that ends a plain run of a JSON string: a quote, a backslash, a control
// character or a non-ASCII byte. The lowest byte it flags is exact; borrows may
// flag bytes above it. The decoder's skip scan and the encoder share it.
func specialBytes(w uint64) uint64 {
	q := w ^ ('"' * ones)
	b := w ^ ('\\' * ones)
	return (((q - ones) &^ q) | ((b - ones) &^ b) | (w - 0x20*ones) | w) & highs
}

// skipString consumes the string whose quote is at i and returns the index
// after it. Eight bytes at a time, it looks for the bytes that end the plain
// case (specialBytes).
func (d *decoder) skipString(i int) (int, error) {
	buf := d.buf
	j := i + 1
	for ; j+8 <= len(buf); j += 8 {
		if special := specialBytes(binary.LittleEndian.Uint64(buf[j:])); special != 0 {
			j += bits.TrailingZeros64(special) / 8
			break
		}
	}
	for ; j < len(buf); j++ {
		switch c := buf[j]; {
		case c == '"':
			return j + 1, nil
		case c == '\\' || c < 0x20 || c >= 0x80:
			d.pos = i
			_, err := d.stringBytes()
			return d.pos, err
		}
	}
	d.pos = i
	_, err := d.stringBytes()
	return d.pos, err
}
