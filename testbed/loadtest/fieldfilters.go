// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package loadtest

import (
	"fmt"
	"strings"

	"github.com/cilium/tetragon/api/v1/tetragon"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/testbed/tetragonsim"
)

// fieldFilterRequest turns the tetragon receiver's field_filters (as written in its
// configuration: event_set, fields, action, invert_event_set) into a GetEvents request.
func fieldFilterRequest(raw []map[string]any) (*tetragon.GetEventsRequest, error) {
	req := &tetragon.GetEventsRequest{}
	for i, m := range raw {
		ff := &tetragon.FieldFilter{Fields: &fieldmaskpb.FieldMask{}}
		for k, v := range m {
			switch k {
			case "event_set":
				list, _ := v.([]any)
				for _, e := range list {
					n, ok := tetragon.EventType_value[fmt.Sprint(e)]
					if !ok {
						return nil, fmt.Errorf("field_filters[%d].event_set: unknown event type %v", i, e)
					}
					ff.EventSet = append(ff.EventSet, tetragon.EventType(n))
				}
			case "fields":
				switch f := v.(type) {
				case string:
					ff.Fields.Paths = strings.Split(f, ",")
				case []any:
					for _, p := range f {
						ff.Fields.Paths = append(ff.Fields.Paths, fmt.Sprint(p))
					}
				}
			case "action":
				n, ok := tetragon.FieldFilterAction_value[fmt.Sprint(v)]
				if !ok {
					return nil, fmt.Errorf("field_filters[%d].action: %v", i, v)
				}
				ff.Action = tetragon.FieldFilterAction(n)
			case "invert_event_set":
				b, _ := v.(bool)
				ff.InvertEventSet = wrapperspb.Bool(b)
			default:
				return nil, fmt.Errorf("field_filters[%d]: unknown key %q", i, k)
			}
		}
		req.FieldFilters = append(req.FieldFilters, ff)
	}
	return req, nil
}

// applyFieldFilters returns the wire bytes the collector receives when it asks for these field
// filters: what the decode floor must be measured on.
func applyFieldFilters(wires [][]byte, raw []map[string]any) ([][]byte, error) {
	if len(raw) == 0 {
		return wires, nil
	}
	req, err := fieldFilterRequest(raw)
	if err != nil {
		return nil, err
	}
	ffs, err := tetragonsim.CompileFieldFilters(req)
	if err != nil {
		return nil, err
	}
	out := make([][]byte, 0, len(wires))
	for _, w := range wires {
		ev := &tetragon.GetEventsResponse{}
		if err := proto.Unmarshal(w, ev); err != nil {
			return nil, err
		}
		ffs.Apply(ev)
		b, err := proto.Marshal(ev)
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, nil
}
