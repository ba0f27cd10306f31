// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package tetragonsim

import (
	"fmt"
	"slices"
	"strings"

	"github.com/cilium/tetragon/api/v1/tetragon"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/fieldmask"
)

// FieldFilters applies the field_filters of a GetEvents request: field masks over the message
// inside the event oneof (paths like "process.binary" or "parent"), applied in request order as
// Tetragon does, so an exclusion always wins over an inclusion.
type FieldFilters []fieldFilter

type fieldFilter struct {
	eventSet []tetragon.EventType
	invert   bool
	include  bool
	mask     fieldmask.Mask
}

// CompileFieldFilters validates the request's field filters. Paths are checked against every
// event type of the filter's event set, so a typo is an error rather than an empty event.
func CompileFieldFilters(req *tetragon.GetEventsRequest) (FieldFilters, error) {
	var out FieldFilters
	for i, ff := range req.GetFieldFilters() {
		if ff == nil {
			continue
		}
		f := fieldFilter{
			eventSet: slices.Clone(ff.GetEventSet()),
			invert:   ff.GetInvertEventSet().GetValue(),
			include:  ff.GetAction() == tetragon.FieldFilterAction_INCLUDE,
		}
		for _, p := range ff.GetFields().GetPaths() {
			if p == "" {
				return nil, fmt.Errorf("field_filters[%d]: empty field path", i)
			}
		}
		f.mask = fieldmask.FromPaths(ff.GetFields().GetPaths())
		if err := f.validate(); err != nil {
			return nil, fmt.Errorf("field_filters[%d]: %w", i, err)
		}
		out = append(out, f)
	}
	return out, nil
}

// validate checks that every path names a field of at least one event type it can apply to.
func (f fieldFilter) validate() error {
	oneofFields := eventOneof.Fields()
	for _, path := range f.mask.Paths() {
		found := false
		for i := 0; i < oneofFields.Len(); i++ {
			fd := oneofFields.Get(i)
			if !f.appliesTo(tetragon.EventType(fd.Number())) || fd.Message() == nil {
				continue
			}
			if pathExists(fd.Message(), strings.Split(path, ".")) {
				found = true
				break
			}
		}
		if !found {
			return fmt.Errorf("field path %q exists in none of the selected event types", path)
		}
	}
	return nil
}

func pathExists(md protoreflect.MessageDescriptor, parts []string) bool {
	fd := md.Fields().ByName(protoreflect.Name(parts[0]))
	if fd == nil {
		return false
	}
	if len(parts) == 1 {
		return true
	}
	if fd.Message() == nil || fd.IsMap() {
		return false
	}
	return pathExists(fd.Message(), parts[1:])
}

func (f fieldFilter) appliesTo(t tetragon.EventType) bool {
	if len(f.eventSet) == 0 {
		return true
	}
	return slices.Contains(f.eventSet, t) != f.invert
}

// Apply filters the fields of ev in place.
func (ffs FieldFilters) Apply(ev *tetragon.GetEventsResponse) {
	t, _ := EventTypeOf(ev)
	inner := eventMessage(ev)
	if inner == nil {
		return
	}
	for _, f := range ffs {
		if !f.appliesTo(t) {
			continue
		}
		if f.include {
			f.mask.Filter(inner)
		} else {
			f.mask.Prune(inner)
		}
	}
}
