// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

// Package fieldmask is the field mask of Tetragon's field_filters, as one tree for everything that
// applies them: the receiver's decoder skips what a mask leaves out (internal/tetragonjson), the
// simulator filters the events it serves (testbed/tetragonsim). One implementation, so that both
// agree with Tetragon on overlapping paths.
package fieldmask

import (
	"strings"

	"google.golang.org/protobuf/reflect/protoreflect"
)

// Mask is a field mask as a tree of proto field names; a name with no children selects the whole
// field.
type Mask map[string]Mask

// FromPaths builds the tree as fmutils.NestedMaskFromPaths (what Tetragon uses) does, so that
// overlapping paths resolve as in Tetragon: a later "a" replaces an earlier "a.b", and a later
// "a.b" turns an earlier "a" into {"b"}. Empty path segments are skipped.
func FromPaths(paths []string) Mask {
	m := Mask{}
	for _, p := range paths {
		node := m
		for {
			field, rest, nested := strings.Cut(p, ".")
			if field == "" {
				break
			}
			if !nested {
				node[field] = nil
				break
			}
			child := node[field]
			if child == nil {
				child = Mask{}
				node[field] = child
			}
			node, p = child, rest
		}
	}
	return m
}

// Paths lists the mask's leaves as dotted paths.
func (m Mask) Paths() []string {
	var out []string
	var walk func(Mask, string)
	walk = func(n Mask, prefix string) {
		for k, child := range n {
			p := k
			if prefix != "" {
				p = prefix + "." + k
			}
			if len(child) == 0 {
				out = append(out, p)
				continue
			}
			walk(child, p)
		}
	}
	walk(m, "")
	return out
}

// Filter clears every field of msg that the mask does not select (Tetragon's INCLUDE action).
func (m Mask) Filter(msg protoreflect.Message) {
	if len(m) == 0 {
		return
	}
	msg.Range(func(fd protoreflect.FieldDescriptor, _ protoreflect.Value) bool {
		sub, ok := m[string(fd.Name())]
		switch {
		case !ok:
			msg.Clear(fd)
		case len(sub) > 0 && fd.Message() != nil && !fd.IsMap():
			eachMessage(msg, fd, sub.Filter)
		}
		return true
	})
}

// Prune clears the fields of msg the mask selects (Tetragon's EXCLUDE action).
func (m Mask) Prune(msg protoreflect.Message) {
	msg.Range(func(fd protoreflect.FieldDescriptor, _ protoreflect.Value) bool {
		sub, ok := m[string(fd.Name())]
		switch {
		case !ok:
		case len(sub) == 0:
			msg.Clear(fd)
		case fd.Message() != nil && !fd.IsMap():
			eachMessage(msg, fd, sub.Prune)
		}
		return true
	})
}

// eachMessage calls f on the message in field fd of msg, or on each message of a list.
func eachMessage(msg protoreflect.Message, fd protoreflect.FieldDescriptor, f func(protoreflect.Message)) {
	if fd.IsList() {
		l := msg.Mutable(fd).List()
		for i := 0; i < l.Len(); i++ {
			f(l.Get(i).Message())
		}
		return
	}
	f(msg.Mutable(fd).Message())
}
