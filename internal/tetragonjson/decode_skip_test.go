// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package tetragonjson

import (
	"bytes"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/cilium/tetragon/api/v1/tetragon"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/synthevents"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/testenv"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/testbed/tetragonsim"
)

func exclude(paths ...string) *tetragon.FieldFilter {
	return &tetragon.FieldFilter{Fields: &fieldmaskpb.FieldMask{Paths: paths}, Action: tetragon.FieldFilterAction_EXCLUDE}
}

func include(paths ...string) *tetragon.FieldFilter {
	return &tetragon.FieldFilter{Fields: &fieldmaskpb.FieldMask{Paths: paths}, Action: tetragon.FieldFilterAction_INCLUDE}
}

func onlyFor(f *tetragon.FieldFilter, invert bool, types ...tetragon.EventType) *tetragon.FieldFilter {
	f.EventSet = types
	if invert {
		f.InvertEventSet = wrapperspb.Bool(true)
	}
	return f
}

// filterSets are the field_filters compared: the shipped list and others
// covering INCLUDE, inverted event sets, filters in sequence, oneof members,
// scalars and whole sub-messages.
func filterSets() map[string][]*tetragon.FieldFilter {
	return map[string][]*tetragon.FieldFilter{
		"shipped": []*tetragon.FieldFilter{synthevents.ShippedFieldFilter()},
		"include": {include("process.binary", "process.pod", "process.arguments", "parent.binary", "ancestors.binary",
			"args", "policy_name", "function_name", "subsys", "event", "status", "cgroup", "type", "path")},
		"inverted": {onlyFor(exclude("process", "parent"), true, tetragon.EventType_PROCESS_EXEC)},
		"sequence": {
			onlyFor(exclude("process.pod.container", "ancestors.binary", "process.cap.permitted"), false, tetragon.EventType_PROCESS_EXEC),
			onlyFor(include("process", "parent", "ancestors"), false, tetragon.EventType_PROCESS_EXEC, tetragon.EventType_PROCESS_EXIT),
		},
		"oneof members": {onlyFor(exclude("args.file_arg", "args.string_arg", "args.int_arg", "args.sock_arg", "return.int_arg"), false,
			tetragon.EventType_PROCESS_KPROBE, tetragon.EventType_PROCESS_TRACEPOINT)},
		"scalars": {exclude("cgroup", "number_of_dropped_process_events", "process.exec_id", "process.start_time", "process.pid")},
	}
}

// oracleDecode is the reference: a full decode, then Tetragon's field
// filtering as the load-test simulator models it.
func oracleDecode(t testing.TB, line []byte, filters []*tetragon.FieldFilter) (*tetragon.GetEventsResponse, error) {
	t.Helper()
	ffs, err := tetragonsim.CompileFieldFilters(&tetragon.GetEventsRequest{FieldFilters: filters})
	if err != nil {
		t.Fatal(err)
	}
	ev := new(tetragon.GetEventsResponse)
	if err := DecodeJSON(line, ev); err != nil {
		return nil, err
	}
	ffs.Apply(ev)
	return ev, nil
}

func skipCorpus(t testing.TB) [][]byte {
	var lines [][]byte
	for _, pattern := range []string{"real/*.jsonl", "captured/*.jsonl.gz", "legacy/*.jsonl"} {
		for _, l := range testenv.ReadCorpus(t, pattern) {
			lines = append(lines, l.Data)
		}
	}
	for _, ev := range synthevents.Events() {
		b, err := protojson.MarshalOptions{UseProtoNames: true}.Marshal(ev)
		if err != nil {
			t.Fatal(err)
		}
		lines = append(lines, b)
	}
	return lines
}

func TestDecoderEqualsFullDecodeThenFilter(t *testing.T) {
	lines := skipCorpus(t)
	for name, filters := range filterSets() {
		t.Run(name, func(t *testing.T) {
			dec, err := NewDecoder(filters)
			if err != nil {
				t.Fatal(err)
			}
			if dec.plan == nil {
				t.Fatal("no plan variant derived")
			}
			var shrunk, typeOnly int
			for i, line := range lines {
				want, wantErr := oracleDecode(t, line, filters)
				got := new(tetragon.GetEventsResponse)
				gotErr := dec.Decode(line, got)
				if wantErr != nil && gotErr == nil && jsonSyntaxOK(line) {
					// A value of the wrong type inside a skipped field (the
					// legacy line's environment_variables string) is only
					// scanned, like an unknown field.
					typeOnly++
					continue
				}
				if (wantErr == nil) != (gotErr == nil) {
					t.Fatalf("line %d: full decode err %v, filtered decode err %v", i, wantErr, gotErr)
				}
				if wantErr != nil {
					continue
				}
				if !proto.Equal(want, got) {
					t.Fatalf("line %d differs\nwant %v\ngot  %v", i, want, got)
				}
				full := new(tetragon.GetEventsResponse)
				_ = DecodeJSON(line, full)
				if !proto.Equal(full, got) {
					shrunk++
				}
			}
			// The comparison must not be vacuous: filters removed something.
			if shrunk < len(lines)/10 {
				t.Fatalf("filters changed only %d of %d events", shrunk, len(lines))
			}
			if typeOnly > 1 {
				t.Fatalf("%d lines rejected by a full decode were accepted", typeOnly)
			}
			t.Logf("%d lines, %d changed by the filters, %d accepted only thanks to a skipped wrong-typed value", len(lines), shrunk, typeOnly)
		})
	}
}

func TestDecoderWithoutFiltersIsDecodeJSON(t *testing.T) {
	for _, filters := range [][]*tetragon.FieldFilter{nil, {onlyFor(exclude("process.cap"), false, tetragon.EventType_PROCESS_THROTTLE)}} {
		dec, err := NewDecoder(filters)
		if err != nil {
			t.Fatal(err)
		}
		if dec.plan != nil {
			t.Fatalf("%v: a filter that changes nothing must not derive a plan", filters)
		}
	}
}

// capValue returns the byte range of the first "cap":{…} value of
// process in line.
func capValue(t *testing.T, line []byte) (int, int) {
	t.Helper()
	i := bytes.Index(line, []byte(`"cap":{`))
	if i < 0 {
		t.Fatal("no cap field")
	}
	start := i + len(`"cap":`)
	depth := 0
	for j := start; j < len(line); j++ {
		switch line[j] {
		case '{':
			depth++
		case '}':
			depth--
			if depth == 0 {
				return start, j + 1
			}
		}
	}
	t.Fatal("unterminated cap")
	return 0, 0
}

// TestDecoderRejectsMalformedSkippedValues breaks JSON syntax inside a
// skipped process.cap value: the line must still be rejected.
func TestDecoderRejectsMalformedSkippedValues(t *testing.T) {
	dec, err := NewDecoder([]*tetragon.FieldFilter{synthevents.ShippedFieldFilter()})
	if err != nil {
		t.Fatal(err)
	}
	var base []byte
	for _, l := range testenv.ReadCorpus(t, "captured/main-export.jsonl.gz") {
		if bytes.HasPrefix(l.Data, []byte(`{"process_exec":{"process":{`)) && bytes.Contains(l.Data, []byte(`"cap":{"permitted":["CAP_CHOWN"`)) {
			base = l.Data
			break
		}
	}
	if base == nil {
		t.Fatal("no process_exec with capabilities in the captured corpus")
	}
	start, end := capValue(t, base)
	if err := dec.Decode(base, new(tetragon.GetEventsResponse)); err != nil {
		t.Fatalf("unbroken line rejected: %v", err)
	}
	cap := string(base[start:end])
	breaks := map[string]string{
		"missing quote":      strings.Replace(cap, `"CAP_CHOWN"`, `"CAP_CHOWN`, 1),
		"bad escape":         strings.Replace(cap, `CAP_CHOWN`, `CAP\qCHOWN`, 1),
		"short unicode":      strings.Replace(cap, `CAP_CHOWN`, `CAP\u12`, 1),
		"lone surrogate":     strings.Replace(cap, `CAP_CHOWN`, `\ud800`, 1),
		"control character":  strings.Replace(cap, `CAP_CHOWN`, "CAP\x01", 1),
		"invalid UTF-8":      strings.Replace(cap, `CAP_CHOWN`, "CAP\xff", 1),
		"trailing comma":     strings.Replace(cap, `"CAP_CHOWN",`, `"CAP_CHOWN",,`, 1),
		"unclosed array":     strings.Replace(cap, `]`, ``, 1),
		"bad literal":        strings.Replace(cap, `"CAP_CHOWN"`, `tru`, 1),
		"bad number":         strings.Replace(cap, `"CAP_CHOWN"`, `01`, 1),
		"missing colon":      strings.Replace(cap, `"permitted":`, `"permitted"`, 1),
		"unquoted key":       strings.Replace(cap, `"permitted":`, `permitted:`, 1),
		"single quotes":      strings.Replace(cap, `"CAP_CHOWN"`, `'CAP_CHOWN'`, 1),
		"unbalanced":         cap[:len(cap)-1],
		"too deep":           strings.Replace(cap, `"CAP_CHOWN"`, strings.Repeat("[", 10001)+strings.Repeat("]", 10001), 1),
		"array for object":   "[" + cap[1:len(cap)-1] + "]",
		"nothing":            ``,
		"whitespace only":    ` `,
		"object key not str": strings.Replace(cap, `{"permitted"`, `{1`, 1),
	}
	for name, broken := range breaks {
		if broken == cap {
			t.Fatalf("%s: the break did not apply", name)
		}
		line := append(append(append([]byte{}, base[:start]...), broken...), base[end:]...)
		if err := dec.Decode(line, new(tetragon.GetEventsResponse)); err == nil {
			t.Errorf("%s: accepted a line with a malformed skipped value", name)
		}
		if err := DecodeJSON(line, new(tetragon.GetEventsResponse)); err == nil && name != "array for object" {
			t.Errorf("%s: DecodeJSON accepted it: the break is not malformed", name)
		}
	}
	// Valid JSON of the wrong type inside a skipped field is only scanned, as
	// for an unknown field.
	typed := append(append(append([]byte{}, base[:start]...), `{"permitted":[1.5,"x",{"a":null}]}`...), base[end:]...)
	if err := dec.Decode(typed, new(tetragon.GetEventsResponse)); err != nil {
		t.Errorf("wrong-typed skipped value rejected: %v", err)
	}
}

// jsonSyntaxOK reports whether b is a JSON object as protojson reads
// unknown fields: syntax only (and, like the fast decoder, "1e" before a
// delimiter taken as a number).
func jsonSyntaxOK(b []byte) bool {
	return protojson.UnmarshalOptions{DiscardUnknown: true}.Unmarshal(b, new(emptypb.Empty)) == nil
}

// TestDecoderOnMutations compares verdicts on randomly broken real lines:
// whatever a full decode accepts is accepted and equal after filtering, and
// whatever is not valid JSON is rejected.
func TestDecoderOnMutations(t *testing.T) {
	filters := []*tetragon.FieldFilter{synthevents.ShippedFieldFilter()}
	dec, err := NewDecoder(filters)
	if err != nil {
		t.Fatal(err)
	}
	lines := testenv.ReadCorpus(t, "real/*.jsonl")
	lines = append(lines, testenv.ReadCorpus(t, "captured/main-export.jsonl.gz")[:40]...)
	rng := rand.New(rand.NewPCG(3, 4))
	const alphabet = "{}[],:\"\\ 0123456789-+.eEtrufalsn_xuZT\x00\xff"
	var n, rejected int
	for _, l := range lines {
		for k := 0; k < 100; k++ {
			b := mutateLine(rng, l.Data, alphabet)
			n++
			got := new(tetragon.GetEventsResponse)
			gotErr := dec.Decode(b, got)
			want, wantErr := oracleDecode(t, b, filters)
			switch {
			case wantErr == nil && gotErr != nil:
				t.Fatalf("full decode accepts, filtered rejects (%v): %q", gotErr, b)
			case wantErr == nil && !proto.Equal(want, got):
				t.Fatalf("differs on %q", b)
			case gotErr == nil && !jsonSyntaxOK(b):
				t.Fatalf("accepted invalid JSON %q", b)
			}
			if gotErr != nil {
				rejected++
			}
		}
	}
	t.Logf("%d mutated lines, %d rejected", n, rejected)
}

func TestNewDecoderErrors(t *testing.T) {
	for _, c := range []struct {
		filters []*tetragon.FieldFilter
		want    string
	}{
		{[]*tetragon.FieldFilter{exclude("process.pid.value")}, "process.pid: cannot select fields inside UInt32Value"},
		{[]*tetragon.FieldFilter{include("process.start_time.seconds")}, "cannot select fields inside Timestamp"},
		{[]*tetragon.FieldFilter{exclude("process.binary.x")}, "process.binary: not a message"},
		{[]*tetragon.FieldFilter{exclude("process.pod.pod_labels.app")}, "process.pod.pod_labels: not a message"},
		{[]*tetragon.FieldFilter{exclude("process.cap"), exclude("process.pid.value")}, "field filter 1:"},
	} {
		_, err := NewDecoder(c.filters)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: got error %v, want one containing %q", c.filters, err, c.want)
		}
	}
}

// checkSkipValueLikeSkip requires the iterative scanner to give the
// recursive one's verdict and end position on in.
func checkSkipValueLikeSkip(t testing.TB, in []byte) {
	t.Helper()
	a, b := &decoder{buf: in}, &decoder{buf: in}
	errA, errB := a.skip(0), b.skipValue()
	if (errA == nil) != (errB == nil) || (errA == nil && a.pos != b.pos) {
		t.Fatalf("input %q\nskip:      %v at %d\nskipValue: %v at %d", in, errA, a.pos, errB, b.pos)
	}
}

func TestSkipValueMatchesSkip(t *testing.T) {
	lines := testenv.ReadCorpus(t, "real/*.jsonl")
	rng := rand.New(rand.NewPCG(5, 6))
	const alphabet = "{}[],:\"\\ 0123456789-+.eEtrufalsn_xuZT\x00\x1f\x7f\xff\xc3"
	for _, l := range lines {
		checkSkipValueLikeSkip(t, l.Data)
		for k := 0; k < 200; k++ {
			b := mutateLine(rng, l.Data, alphabet)
			checkSkipValueLikeSkip(t, b)
		}
	}
	for _, s := range []string{``, ` `, `"`, `"abcdefghijklmnopq`, `"abcdefgh\"ijklmnop"`, `"abcdefghij` + "\x01" + `"`,
		`"abcdefghijklmnop` + "\xe2\x82" + `"`, `"abcdefgh` + "\xe2\x82\xac" + `ijklmnop"`, `[1,2,[3,{"a":[]}],{}]`, `{"a" :1 , "b":[ ] }`,
		`[1 2]`, `{"a":1,}`, `{"a"}`, `{1:2}`, `[`, `]`, `{`, `nul`, `nullx`, `-`, `1e`, `1e}`, `[1e]`, `01`, `tru`, `[true,false,null]`,
		strings.Repeat("[", 70) + strings.Repeat("]", 70), strings.Repeat(`{"a":`, 70) + "1" + strings.Repeat("}", 70),
		strings.Repeat("[", 10001) + strings.Repeat("]", 10001), strings.Repeat("[", 10000) + strings.Repeat("]", 10000)} {
		checkSkipValueLikeSkip(t, []byte(s))
	}
}

func FuzzSkipValue(f *testing.F) {
	for _, l := range testenv.ReadCorpus(f, "real/*.jsonl") {
		if len(l.Data) < 4000 {
			f.Add(l.Data)
		}
	}
	f.Add([]byte(`["abcdefgh\u00e9ijklmnop",{"k":[1,-2.5e3,true,null]}]`))
	f.Fuzz(func(t *testing.T, in []byte) {
		checkSkipValueLikeSkip(t, in)
	})
}

func FuzzDecoderShippedSkipList(f *testing.F) {
	for _, l := range testenv.ReadCorpus(f, "real/*.jsonl") {
		if len(l.Data) < 4000 {
			f.Add(l.Data)
		}
	}
	filters := []*tetragon.FieldFilter{synthevents.ShippedFieldFilter()}
	dec, err := NewDecoder(filters)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		got := new(tetragon.GetEventsResponse)
		gotErr := dec.Decode(in, got)
		want, wantErr := oracleDecode(t, in, filters)
		switch {
		case wantErr == nil && gotErr != nil:
			t.Fatalf("full decode accepts, filtered rejects (%v): %q", gotErr, in)
		case wantErr == nil && !proto.Equal(want, got):
			t.Fatalf("differs on %q", in)
		case gotErr == nil && !jsonSyntaxOK(in):
			t.Fatalf("accepted invalid JSON %q", in)
		}
	})
}
