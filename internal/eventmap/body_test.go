// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package eventmap

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"testing"

	"github.com/cilium/tetragon/api/v1/tetragon"
	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/attrkey"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/testenv"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/tetragonjson"
)

// TestBodyMatchesJSON checks that body=map holds everything the line said:
// the same keys at every level and the same values once number types are
// normalised (protojson writes 64-bit integers as strings; the body keeps
// them as ints).
func TestBodyMatchesJSON(t *testing.T) {
	for _, pattern := range []string{"real/*.jsonl", "captured/*.jsonl.gz"} {
		lines := testenv.ReadCorpus(t, pattern)
		for _, l := range lines {
			var want any
			if err := jsonUnmarshalNumber(l.Data, &want); err != nil {
				t.Fatalf("%s:%d: %v", l.File, l.Num, err)
			}
			r := mapLine(t, l.Data, Options{})
			if r.rec.Body().Type() != pcommon.ValueTypeMap {
				t.Fatalf("%s:%d: body type %s", l.File, l.Num, r.rec.Body().Type())
			}
			if diff := compareJSON("", want, r.rec.Body().AsRaw()); diff != "" {
				t.Errorf("%s:%d: %s", l.File, l.Num, diff)
			}
		}
	}
}

func jsonUnmarshalNumber(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	return dec.Decode(v)
}

// compareJSON returns the first difference between a value decoded by
// encoding/json (UseNumber) and a body value, or "".
func compareJSON(path string, want, got any) string {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return fmt.Sprintf("%s: got %T, want object", path, got)
		}
		// Tetragon writes some empty repeated fields ("ancestors":[]); protobuf
		// cannot tell an empty list from an absent one, and neither says anything.
		w = withoutEmptyLists(w)
		if wk, gk := sortedKeys(w), sortedKeys(g); fmt.Sprint(wk) != fmt.Sprint(gk) {
			return fmt.Sprintf("%s: keys %v, want %v", path, gk, wk)
		}
		for k := range w {
			if d := compareJSON(path+"."+k, w[k], g[k]); d != "" {
				return d
			}
		}
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return fmt.Sprintf("%s: got %v, want %d-element list", path, got, len(w))
		}
		for i := range w {
			if d := compareJSON(path+"["+strconv.Itoa(i)+"]", w[i], g[i]); d != "" {
				return d
			}
		}
	case json.Number:
		gi, ok := got.(int64)
		if !ok {
			return fmt.Sprintf("%s: got %T %v, want number %s", path, got, got, w)
		}
		if n, ok := asInt64(w.String()); !ok || n != gi {
			return fmt.Sprintf("%s: got %d, want %s", path, gi, w)
		}
	case string:
		switch g := got.(type) {
		case string:
			if g != w {
				return fmt.Sprintf("%s: got %q, want %q", path, g, w)
			}
		case int64: // a 64-bit integer protojson quoted
			if n, ok := asInt64(w); !ok || n != g {
				return fmt.Sprintf("%s: got %d, want %q", path, g, w)
			}
		default:
			return fmt.Sprintf("%s: got %T, want string %q", path, got, w)
		}
	case bool:
		if g, ok := got.(bool); !ok || g != w {
			return fmt.Sprintf("%s: got %v, want %v", path, got, w)
		}
	default:
		return fmt.Sprintf("%s: unexpected JSON %T", path, want)
	}
	return ""
}

// asInt64 parses a decimal integer; uint64 values above MaxInt64 map to the
// int64 with the same bits, as the body stores them.
func asInt64(s string) (int64, bool) {
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return n, true
	}
	if u, err := strconv.ParseUint(s, 10, 64); err == nil && u > math.MaxInt64 {
		return int64(u), true
	}
	return 0, false
}

func withoutEmptyLists(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		if l, ok := v.([]any); ok && len(l) == 0 {
			continue
		}
		out[k] = v
	}
	return out
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// TestArgsMatchBody: tetragon.args[i] must equal body.<type>.args[i] exactly,
// types included, for every hook event (the syscall id aside, which moves to
// tetragon.syscall.*).
func TestArgsMatchBody(t *testing.T) {
	var events []*tetragon.GetEventsResponse
	for _, pattern := range []string{"real/*.jsonl", "captured/*.jsonl.gz"} {
		for _, l := range testenv.ReadCorpus(t, pattern) {
			ev := new(tetragon.GetEventsResponse)
			if err := tetragonjson.DecodeJSON(l.Data, ev); err != nil {
				t.Fatal(err)
			}
			events = append(events, ev)
		}
	}
	events = append(events, syntheticEvents()...)
	hooks := 0
	for _, ev := range events {
		typ := EventType(ev)
		r := mapEvent(t, ev, nil, Options{})
		body := r.rec.Body().Map()
		inner, _ := body.Get(typ)
		bodyArgs, hasArgs := inner.Map().Get("args")
		attrArgs, hasAttr := r.attrs.Get(attrkey.TetragonArgs)
		if hasArgs && isRawSysEnter(ev) {
			// The syscall_id is taken out of tetragon.args (it is in tetragon.syscall.*).
			bodyArgs = withoutSyscallID(bodyArgs)
			hasArgs = bodyArgs.Slice().Len() > 0
		}
		if hasArgs != hasAttr {
			t.Errorf("%s: args in body %v, in attributes %v", typ, hasArgs, hasAttr)
			continue
		}
		if hasArgs {
			hooks++
			if !bodyArgs.Equal(attrArgs) {
				t.Errorf("%s: tetragon.args\n%v\nbody args\n%v", typ, attrArgs.AsRaw(), bodyArgs.AsRaw())
			}
		}
		if ret, ok := inner.Map().Get("return"); ok {
			var want pcommon.Value
			ret.Map().Range(func(k string, v pcommon.Value) bool {
				if k != "label" {
					want = v
				}
				return true
			})
			got, ok := r.attrs.Get(attrkey.TetragonReturn)
			if !ok || !got.Equal(want) {
				t.Errorf("%s: tetragon.return %v, body return %v", typ, got.AsRaw(), ret.AsRaw())
			}
		}
	}
	if hooks < 100 {
		t.Errorf("only %d hook events compared", hooks)
	}
}

func TestCompareJSONDetectsDifferences(t *testing.T) {
	var want any
	if err := jsonUnmarshalNumber([]byte(`{"a":{"b":"7","c":[1,"x"]},"d":[]}`), &want); err != nil {
		t.Fatal(err)
	}
	good := map[string]any{"a": map[string]any{"b": int64(7), "c": []any{int64(1), "x"}}}
	if d := compareJSON("", want, good); d != "" {
		t.Errorf("equal values reported: %s", d)
	}
	for _, bad := range []map[string]any{
		{"a": map[string]any{"b": int64(8), "c": []any{int64(1), "x"}}},
		{"a": map[string]any{"c": []any{int64(1), "x"}}},
		{"a": map[string]any{"b": int64(7), "c": []any{int64(1)}}},
		{"a": map[string]any{"b": int64(7), "c": []any{"1", "x"}}},
		{"a": map[string]any{"b": int64(7), "c": []any{int64(1), "x"}}, "e": true},
	} {
		if compareJSON("", want, bad) == "" {
			t.Errorf("difference not found: %v", bad)
		}
	}
}

func isRawSysEnter(ev *tetragon.GetEventsResponse) bool {
	tp := ev.GetProcessTracepoint()
	return tp.GetSubsys() == "raw_syscalls" && tp.GetEvent() == "sys_enter"
}

// withoutSyscallID is a copy of a body args slice without its first
// syscall_id element.
func withoutSyscallID(args pcommon.Value) pcommon.Value {
	out := pcommon.NewValueSlice()
	dropped := false
	for i := 0; i < args.Slice().Len(); i++ {
		a := args.Slice().At(i)
		if _, ok := a.Map().Get("syscall_id"); ok && !dropped {
			dropped = true
			continue
		}
		a.CopyTo(out.Slice().AppendEmpty())
	}
	return out
}
