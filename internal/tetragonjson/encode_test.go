// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package tetragonjson

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/cilium/tetragon/api/v1/tetragon"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/synthevents"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/testenv"
)

// The body=json encoder must write what protojson (proto names) writes: the
// same bytes once protojson's randomised spacing is compacted away, and the
// same errors.

var protoNames = protojson.MarshalOptions{UseProtoNames: true}

// checkEncodeLikeProtojson reports whether the event was refused (by both).
func checkEncodeLikeProtojson(t testing.TB, ev *tetragon.GetEventsResponse) (refused bool) {
	t.Helper()
	want, wantErr := protoNames.Marshal(ev)
	got, gotErr := MarshalString(ev)
	if (wantErr == nil) != (gotErr == nil) {
		t.Fatalf("event %v\nprotojson err: %v\nencoder err:   %v", ev, wantErr, gotErr)
	}
	if wantErr != nil {
		return true
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, want); err != nil {
		t.Fatal(err)
	}
	if got != compact.String() {
		t.Fatalf("encoder output differs from protojson\nencoder:   %s\nprotojson: %s", got, compact.String())
	}
	var back tetragon.GetEventsResponse
	if err := protojson.Unmarshal([]byte(got), &back); err != nil {
		t.Fatalf("encoder output does not decode: %v\n%s", err, got)
	}
	if !proto.Equal(ev, &back) {
		t.Fatalf("encoder output does not round trip\nin:   %v\nback: %v", ev, &back)
	}
	return false
}

func TestEncodeMatchesProtojsonOnCorpus(t *testing.T) {
	evs := append(synthevents.Corpus(t, DecodeJSON), synthevents.Events()...)
	for _, ev := range evs {
		checkEncodeLikeProtojson(t, ev)
	}
	t.Logf("%d events compared", len(evs))
}

// TestEncodeMatchesProtojsonOnOddValues sets strings that need escaping, values
// at the edges of their types, unknown enum numbers, nil list elements and
// oneof members, and values protojson refuses.
func TestEncodeMatchesProtojsonOnOddValues(t *testing.T) {
	oddStrings := []string{"", "a\"b\\c/d", "\b\f\n\r\t\x00\x01\x1f\x7f", "é中😀\ufffd", "\u2028\u2029<>&",
		"\xff", "a\xc3", "\xed\xa0\x80", strings.Repeat("x", 5000)}
	for _, s := range oddStrings {
		p := synthevents.Process()
		p.Binary, p.Arguments = s, s
		p.Pod.PodLabels = map[string]string{s: s, "b": "2", "a": "1", "A": "0"}
		checkEncodeLikeProtojson(t, synthevents.Envelope(&tetragon.GetEventsResponse{
			Event: &tetragon.GetEventsResponse_ProcessExec{ProcessExec: &tetragon.ProcessExec{Process: p}}}))
	}
	procs := []*tetragon.Process{
		{Pid: wrapperspb.UInt32(0), Uid: wrapperspb.UInt32(math.MaxUint32), InInitTree: wrapperspb.Bool(false)},
		{Cap: &tetragon.Capabilities{Permitted: []tetragon.CapabilitiesType{0, 40, 63, 64, 1 << 30, -1}}},
		{Refcnt: math.MaxUint32, StartTime: &timestamppb.Timestamp{}},
		{StartTime: &timestamppb.Timestamp{Seconds: -62135596800}},
		{StartTime: &timestamppb.Timestamp{Seconds: 253402300799, Nanos: 999999999}},
		{StartTime: &timestamppb.Timestamp{Seconds: 1, Nanos: 1000}},
		{StartTime: &timestamppb.Timestamp{Seconds: 1, Nanos: 1000000}},
		{StartTime: &timestamppb.Timestamp{Seconds: 253402300800}},
		{StartTime: &timestamppb.Timestamp{Seconds: -62135596801}},
		{StartTime: &timestamppb.Timestamp{Nanos: 1000000000}},
		{StartTime: &timestamppb.Timestamp{Nanos: -1}},
		{EnvironmentVariables: []*tetragon.EnvVar{nil, {Key: "K"}, {}}},
		{Pod: &tetragon.Pod{}, Ns: &tetragon.Namespaces{}},
	}
	for _, p := range procs {
		checkEncodeLikeProtojson(t, &tetragon.GetEventsResponse{
			Event: &tetragon.GetEventsResponse_ProcessExec{ProcessExec: &tetragon.ProcessExec{Process: p}}})
	}
	for _, ev := range []*tetragon.GetEventsResponse{
		{Event: &tetragon.GetEventsResponse_ProcessExec{}},
		{Event: &tetragon.GetEventsResponse_ProcessKprobe{ProcessKprobe: &tetragon.ProcessKprobe{
			Action: 999, Args: []*tetragon.KprobeArgument{nil, {}, {Arg: &tetragon.KprobeArgument_IntArg{}},
				{Arg: &tetragon.KprobeArgument_SizeArg{SizeArg: math.MaxUint64}},
				{Arg: &tetragon.KprobeArgument_LongArg{LongArg: math.MinInt64}},
				{Arg: &tetragon.KprobeArgument_BytesArg{BytesArg: []byte{}}},
				{Arg: &tetragon.KprobeArgument_BytesArg{BytesArg: []byte{0xfb, 0xff}}},
				{Arg: &tetragon.KprobeArgument_StringArg{StringArg: "\xff"}},
				{Arg: &tetragon.KprobeArgument_FileArg{}}}}}},
		{NodeLabels: map[string]string{"\xff": "v"}, Event: &tetragon.GetEventsResponse_ProcessExec{}},
		{NodeLabels: map[string]string{}, ClusterName: "c", Event: &tetragon.GetEventsResponse_RateLimitInfo{
			RateLimitInfo: &tetragon.RateLimitInfo{NumberOfDroppedProcessEvents: math.MaxUint64}}},
		{},
	} {
		checkEncodeLikeProtojson(t, ev)
	}
}

// TestEncodeMatchesProtojsonOnMutations changes random string and integer
// fields of corpus events.
func TestEncodeMatchesProtojsonOnMutations(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	strs := []string{"", "\x00", "\"", "\\", "\xff", "é", "\U0001F600", "a\nb"}
	evs := synthevents.Corpus(t, DecodeJSON)
	refused := 0
	const n = 600
	for i := 0; i < n; i++ {
		ev := proto.Clone(evs[rng.IntN(len(evs))]).(*tetragon.GetEventsResponse)
		mutate(reflect.ValueOf(ev).Elem(), rng, strs, 0)
		if checkEncodeLikeProtojson(t, ev) {
			refused++
		}
	}
	// Both verdicts must have been exercised.
	if refused == 0 || refused == n {
		t.Errorf("%d of %d mutated events refused", refused, n)
	}
	t.Logf("%d of %d mutated events refused by both", refused, n)
}

// mutate changes about one settable scalar in eight below v.
func mutate(v reflect.Value, rng *rand.Rand, strs []string, depth int) {
	if depth > 12 {
		return
	}
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			mutate(v.Elem(), rng, strs, depth+1)
		}
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).IsExported() {
				mutate(v.Field(i), rng, strs, depth+1)
			}
		}
	case reflect.Slice:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			if rng.IntN(8) == 0 {
				v.SetBytes([]byte{byte(rng.Uint32()), 0xff})
			}
			return
		}
		for i := 0; i < v.Len(); i++ {
			mutate(v.Index(i), rng, strs, depth+1)
		}
	case reflect.String:
		if rng.IntN(8) == 0 {
			v.SetString(v.String() + strs[rng.IntN(len(strs))])
		}
	case reflect.Int32, reflect.Int64:
		if rng.IntN(8) == 0 && v.CanSet() {
			v.SetInt(int64(rng.Uint64()) >> rng.IntN(64))
		}
	case reflect.Uint32, reflect.Uint64:
		if rng.IntN(8) == 0 && v.CanSet() {
			v.SetUint(rng.Uint64() >> rng.IntN(64))
		}
	case reflect.Bool:
		if rng.IntN(8) == 0 {
			v.SetBool(!v.Bool())
		}
	}
}

func FuzzEncodeJSON(f *testing.F) {
	for _, l := range testenv.ReadCorpus(f, "real/*.jsonl") {
		if len(l.Data) < 4000 {
			f.Add(l.Data)
		}
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		var ev tetragon.GetEventsResponse
		if protojson.Unmarshal(in, &ev) != nil {
			return
		}
		_ = checkEncodeLikeProtojson(t, &ev)
	})
}

func TestEncodeMatchesProtojsonOnSimulator(t *testing.T) {
	evs := synthevents.Simulated(t, 250)
	for _, ev := range evs {
		if checkEncodeLikeProtojson(t, ev) {
			t.Fatalf("simulator event refused: %v", ev)
		}
	}
	t.Logf("%d events compared", len(evs))
}

// TestEncodeMatchesProtojsonFiltered compares events with the shipped field
// filters applied: processes without cap, ns, credentials or arguments.
func TestEncodeMatchesProtojsonFiltered(t *testing.T) {
	evs := append(synthevents.Corpus(t, DecodeJSON), synthevents.Events()...)
	evs = append(evs, synthevents.Simulated(t, 200)...)
	filtered := synthevents.ApplyShippedFieldFilter(t, evs)
	shrunk := 0
	for i, ev := range filtered {
		checkEncodeLikeProtojson(t, ev)
		if proto.Size(ev) < proto.Size(evs[i]) {
			shrunk++
		}
	}
	// The filter must have cut most events (all but throttle, rate-limit and
	// process-less ones), or this compares the unfiltered events again.
	if shrunk < len(evs)/2 {
		t.Fatalf("the field filter changed only %d of %d events", shrunk, len(evs))
	}
	t.Logf("%d filtered events compared, %d of them smaller", len(filtered), shrunk)
}

// TestEncodeMatchesProtojsonOnNilOneofs: a typed nil oneof wrapper is no
// member; a nil message inside a wrapper is an empty message.
func TestEncodeMatchesProtojsonOnNilOneofs(t *testing.T) {
	for _, ev := range []*tetragon.GetEventsResponse{
		{Event: (*tetragon.GetEventsResponse_ProcessExec)(nil), NodeName: "n"},
		{Event: &tetragon.GetEventsResponse_ProcessKprobe{}},
		{Event: &tetragon.GetEventsResponse_ProcessKprobe{ProcessKprobe: &tetragon.ProcessKprobe{
			Args: []*tetragon.KprobeArgument{{Arg: (*tetragon.KprobeArgument_FileArg)(nil)},
				{Arg: &tetragon.KprobeArgument_SockArg{}}, {Arg: &tetragon.KprobeArgument_StringArg{}}}}}},
	} {
		checkEncodeLikeProtojson(t, ev)
	}
}

// TestEncodeGeneratedIsCurrent fails when encode_gen.go is not what
// internal/jsongen writes for the API version in go.mod (run go generate).
func TestEncodeGeneratedIsCurrent(t *testing.T) {
	out := filepath.Join(t.TempDir(), "encode_gen.go")
	cmd := exec.Command("go", "run", "./internal/jsongen", "-o", out)
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("jsongen: %v\n%s", err, msg)
	}
	want, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("encode_gen.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("encode_gen.go is stale: run go generate ./internal/tetragonjson/")
	}
}

// TestAppendTimestampMatchesTime holds the civil-date formatter to
// time.AppendFormat across protojson's range, its edges and beyond it.
func TestAppendTimestampMatchesTime(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	secs := []int64{0, -1, 1, 86399, 86400, -86400, -86401, minTimestampSeconds, maxTimestampSeconds,
		minTimestampSeconds - 1, maxTimestampSeconds + 1, 951782400, 951868800, 4107542400, 1697490000,
		math.MaxInt64 / 4, math.MinInt64 / 4}
	for i := 0; i < 20000; i++ {
		secs = append(secs, minTimestampSeconds+rng.Int64N(maxTimestampSeconds-minTimestampSeconds+1))
	}
	nanos := []int32{0, 1, 999999999, 1000, 1000000, 123456789, 120000000, 123400, -1, 1000000000}
	for _, s := range secs {
		for _, n := range append(nanos, rng.Int32N(1e9), rng.Int32N(1e3)*1e6, rng.Int32N(1e6)*1e3) {
			got := string(AppendTimestamp(nil, s, n))
			want := string(appendTimestampSlow(nil, s, n))
			if got != want {
				t.Fatalf("AppendTimestamp(%d, %d) = %q, time formats %q", s, n, got, want)
			}
		}
	}
}
