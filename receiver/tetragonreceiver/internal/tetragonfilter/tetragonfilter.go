// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

// Package tetragonfilter turns the receiver's YAML allow_list, deny_list and
// field_filters (written with Tetragon's own field names) into the Tetragon
// API messages sent with GetEvents, so that filtering happens inside Tetragon.
// Errors name the list, the index and the field.
package tetragonfilter // import "github.com/otelcol-runtime-security/otelcol-runtime-security/receiver/tetragonreceiver/internal/tetragonfilter"

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"unicode"

	"github.com/cilium/tetragon/api/v1/tetragon"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
)

// Filters converts one allow_list or deny_list. listName ("allow_list",
// "deny_list") prefixes every error.
func Filters(listName string, raw []map[string]any) ([]*tetragon.Filter, error) {
	if len(raw) == 0 {
		return nil, nil
	}
	out := make([]*tetragon.Filter, 0, len(raw))
	var errs []error
	for i, m := range raw {
		where := fmt.Sprintf("%s[%d]", listName, i)
		f := &tetragon.Filter{}
		if err := decodeMessage(where, m, f, nil); err != nil {
			errs = append(errs, err)
			continue
		}
		if len(m) == 0 {
			errs = append(errs, fmt.Errorf("%s: an empty filter matches every event; remove it, or give at least one field such as event_set or namespace", where))
			continue
		}
		errs = append(errs, checkRegexes(where, f)...)
		out = append(out, f)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return out, nil
}

// FieldFilters converts field_filters. "fields" may be a list of paths or one
// comma-separated string; paths are relative to the event (process.binary,
// process.pod.namespace, args, …) and may be snake_case or lowerCamelCase.
func FieldFilters(raw []map[string]any) ([]*tetragon.FieldFilter, error) {
	if len(raw) == 0 {
		return nil, nil
	}
	out := make([]*tetragon.FieldFilter, 0, len(raw))
	var errs []error
	for i, m := range raw {
		where := fmt.Sprintf("field_filters[%d]", i)
		ff := &tetragon.FieldFilter{}
		var paths []string
		special := map[string]func(any) error{
			"fields": func(v any) error {
				var err error
				paths, err = fieldPaths(v)
				return err
			},
		}
		if err := decodeMessage(where, m, ff, special); err != nil {
			errs = append(errs, err)
			continue
		}
		if len(paths) == 0 {
			errs = append(errs, fmt.Errorf("%s.fields: required: list the event fields to %s, e.g. [process.binary, process.pod.namespace]", where, strings.ToLower(ff.GetAction().String())))
			continue
		}
		var bad []error
		for j, p := range paths {
			if err := checkPath(p, ff.GetEventSet(), ff.GetInvertEventSet().GetValue()); err != nil {
				bad = append(bad, fmt.Errorf("%s.fields[%d] %q: %w", where, j, p, err))
			}
		}
		if len(bad) > 0 {
			errs = append(errs, bad...)
			continue
		}
		ff.Fields = &fieldmaskpb.FieldMask{Paths: paths}
		out = append(out, ff)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return out, nil
}

// decodeMessage fills msg from m, decoding field by field so that an error
// names the offending field. Keys in special are handled by their function
// instead of protojson.
func decodeMessage(where string, m map[string]any, msg proto.Message, special map[string]func(any) error) error {
	md := msg.ProtoReflect().Descriptor()
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var errs []error
	for _, k := range keys {
		fd := md.Fields().ByName(protoreflect.Name(k))
		if fd == nil {
			fd = md.Fields().ByJSONName(k)
		}
		if fd == nil {
			errs = append(errs, fmt.Errorf("%s: unknown field %q; valid fields: %s", where, k, strings.Join(fieldNames(md), ", ")))
			continue
		}
		name := string(fd.Name())
		if fn, ok := special[name]; ok {
			if err := fn(m[k]); err != nil {
				errs = append(errs, fmt.Errorf("%s.%s: %w", where, name, err))
			}
			continue
		}
		if err := decodeField(fd, m[k], msg); err != nil {
			errs = append(errs, fmt.Errorf("%s.%s: %w", where, name, err))
		}
	}
	return errors.Join(errs...)
}

var protoErrPrefix = regexp.MustCompile(`^proto:\s*(\(line \d+:\d+\):\s*)?`)

func decodeField(fd protoreflect.FieldDescriptor, v any, msg proto.Message) error {
	if fd.Enum() != nil {
		if err := checkEnumValues(fd.Enum(), v); err != nil {
			return err
		}
	}
	data, err := json.Marshal(map[string]any{string(fd.Name()): v})
	if err != nil {
		return fmt.Errorf("cannot be encoded: %w", err)
	}
	part := msg.ProtoReflect().New().Interface()
	if err := protojson.Unmarshal(data, part); err != nil {
		return errors.New(protoErrPrefix.ReplaceAllString(err.Error(), ""))
	}
	proto.Merge(msg, part)
	return nil
}

// checkEnumValues gives a friendlier error than protojson for enum names,
// listing the valid ones.
func checkEnumValues(ed protoreflect.EnumDescriptor, v any) error {
	values := []any{v}
	if list, ok := v.([]any); ok {
		values = list
	}
	for _, e := range values {
		s, ok := e.(string)
		if !ok {
			continue // numbers are checked by protojson
		}
		if ed.Values().ByName(protoreflect.Name(s)) == nil {
			return fmt.Errorf("unknown value %q; valid values: %s", s, strings.Join(enumNames(ed), ", "))
		}
	}
	return nil
}

func fieldNames(md protoreflect.MessageDescriptor) []string {
	names := make([]string, 0, md.Fields().Len())
	for i := range md.Fields().Len() {
		names = append(names, string(md.Fields().Get(i).Name()))
	}
	return names
}

func enumNames(ed protoreflect.EnumDescriptor) []string {
	names := make([]string, 0, ed.Values().Len())
	for i := range ed.Values().Len() {
		names = append(names, string(ed.Values().Get(i).Name()))
	}
	return names
}

// checkRegexes compiles every *_regex field the way Tetragon does (Go
// regexp, RE2) so that a typo fails at config load, not silently in Tetragon.
func checkRegexes(where string, f *tetragon.Filter) []error {
	var errs []error
	m := f.ProtoReflect()
	fields := m.Descriptor().Fields()
	for i := range fields.Len() {
		fd := fields.Get(i)
		if !strings.HasSuffix(string(fd.Name()), "_regex") || !fd.IsList() || fd.Kind() != protoreflect.StringKind {
			continue
		}
		list := m.Get(fd).List()
		for j := range list.Len() {
			expr := list.Get(j).String()
			if _, err := regexp.Compile(expr); err != nil {
				errs = append(errs, fmt.Errorf("%s.%s[%d]: invalid RE2 regular expression %q: %w", where, fd.Name(), j, expr, err))
			}
		}
	}
	return errs
}

func fieldPaths(v any) ([]string, error) {
	var raw []string
	switch t := v.(type) {
	case string:
		raw = strings.Split(t, ",")
	case []any:
		for i, e := range t {
			s, ok := e.(string)
			if !ok {
				return nil, fmt.Errorf("element %d is %T, want a field path string such as process.binary", i, e)
			}
			raw = append(raw, s)
		}
	case []string:
		raw = t
	case nil:
		return nil, nil
	default:
		return nil, fmt.Errorf("is %T, want a list of field paths or a comma-separated string", v)
	}
	paths := make([]string, 0, len(raw))
	for _, p := range raw {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		segs := strings.Split(p, ".")
		for i, s := range segs {
			segs[i] = snakeCase(s)
		}
		paths = append(paths, strings.Join(segs, "."))
	}
	return paths, nil
}

func snakeCase(s string) string {
	var b strings.Builder
	for i, r := range s {
		if unicode.IsUpper(r) {
			if i > 0 {
				b.WriteByte('_')
			}
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}

// checkPath resolves a path in the event messages selected by eventSet (all
// events when empty; all but those when invert): it must exist in at least one of them.
func checkPath(path string, eventSet []tetragon.EventType, invert bool) error {
	events := eventMessages(eventSet, invert)
	for _, md := range events {
		if resolves(md, strings.Split(path, ".")) {
			return nil
		}
	}
	names := make([]string, 0, len(events))
	for _, md := range events {
		names = append(names, string(md.Name()))
	}
	return fmt.Errorf("no such field in %s (paths are relative to the event, e.g. process.binary)", strings.Join(names, ", "))
}

func resolves(md protoreflect.MessageDescriptor, segs []string) bool {
	fd := md.Fields().ByName(protoreflect.Name(segs[0]))
	if fd == nil {
		return false
	}
	if len(segs) == 1 {
		return true
	}
	if fd.Message() == nil || fd.IsMap() {
		return false
	}
	return resolves(fd.Message(), segs[1:])
}

// eventMessages returns the message types of the GetEventsResponse oneof
// selected by eventSet (or, with invert, not selected by it; Tetragon's
// invert_event_set); the enum names are the upper-cased oneof field names.
func eventMessages(eventSet []tetragon.EventType, invert bool) []protoreflect.MessageDescriptor {
	oneof := (&tetragon.GetEventsResponse{}).ProtoReflect().Descriptor().Oneofs().ByName("event")
	var out []protoreflect.MessageDescriptor
	for i := range oneof.Fields().Len() {
		fd := oneof.Fields().Get(i)
		if fd.Message() == nil || fd.Name() == "test" { // Tetragon-internal
			continue
		}
		if len(eventSet) > 0 && invert == slices.ContainsFunc(eventSet, func(t tetragon.EventType) bool {
			return strings.EqualFold(t.String(), string(fd.Name()))
		}) {
			continue
		}
		out = append(out, fd.Message())
	}
	return out
}
