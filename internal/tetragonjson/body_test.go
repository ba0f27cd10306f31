// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package tetragonjson

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"testing"

	"github.com/cilium/tetragon/api/v1/tetragon"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/synthevents"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/testenv"
)

// TestBodyMatchesProtojson holds PutBody to protojson's own output (proto
// names) on every synthetic and corpus event: the same keys, the same values,
// 64-bit integers compared by value (protojson writes them as strings).
func TestBodyMatchesProtojson(t *testing.T) {
	if _, ok := eventPlan(); !ok {
		t.Fatal(planErr)
	}
	events := synthevents.Events()
	for _, pattern := range []string{"real/*.jsonl", "captured/*.jsonl.gz", "syscalls/*.jsonl.gz"} {
		for _, l := range testenv.ReadCorpus(t, pattern) {
			ev := new(tetragon.GetEventsResponse)
			if err := DecodeJSON(l.Data, ev); err != nil {
				t.Fatal(err)
			}
			events = append(events, ev)
		}
	}
	for i, ev := range events {
		body := pcommon.NewMap()
		PutBody(body, ev)
		if err := sameAsProtojson(body.AsRaw(), protojsonRaw(t, ev), ""); err != nil {
			t.Fatalf("event %d (%T): %v", i, ev.GetEvent(), err)
		}
	}
}

// TestPutMessageAndSetOneof checks the writers hook arguments use: a whole
// argument as in the body, and the bare value of its oneof.
func TestPutMessageAndSetOneof(t *testing.T) {
	for _, a := range []*tetragon.KprobeArgument{
		{Arg: &tetragon.KprobeArgument_IntArg{IntArg: -3}, Label: "fd"},
		{Arg: &tetragon.KprobeArgument_SizeArg{SizeArg: math.MaxUint64}},
		{Arg: &tetragon.KprobeArgument_SockArg{SockArg: &tetragon.KprobeSock{Daddr: "10.0.0.1", Dport: 443, Protocol: "IPPROTO_TCP"}}},
		{Arg: &tetragon.KprobeArgument_UserNsArg{UserNsArg: &tetragon.UserNamespace{Level: wrapperspb.Int32(0), Ns: &tetragon.Namespace{Inum: 1, IsHost: true}}}},
		{Arg: &tetragon.KprobeArgument_BpfCmdArg{BpfCmdArg: tetragon.BpfCmd_BPF_PROG_LOAD}},
		{Arg: &tetragon.KprobeArgument_BytesArg{BytesArg: []byte{0, 1, 2}}},
	} {
		m := pcommon.NewMap()
		PutMessage(m, a)
		if err := sameAsProtojson(m.AsRaw(), protojsonRaw(t, a), ""); err != nil {
			t.Errorf("PutMessage(%v): %v", a, err)
		}
		v := pcommon.NewValueEmpty()
		if !SetOneof(v, a) {
			t.Fatalf("SetOneof(%v) found no member", a)
		}
		for k, want := range m.AsRaw() {
			if k == "label" {
				continue
			}
			if !reflect.DeepEqual(v.AsRaw(), want) {
				t.Errorf("SetOneof(%v) = %v, want %v", a, v.AsRaw(), want)
			}
		}
	}
	if SetOneof(pcommon.NewValueEmpty(), &tetragon.KprobeArgument{Label: "none"}) {
		t.Error("SetOneof reported a member on an argument without one")
	}
}

func protojsonRaw(t *testing.T, msg proto.Message) map[string]any {
	t.Helper()
	b, err := protojson.MarshalOptions{UseProtoNames: true}.Marshal(msg)
	if err != nil {
		t.Fatal(err)
	}
	var raw map[string]any
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatal(err)
	}
	return raw
}

// sameAsProtojson compares a pdata value (AsRaw) with protojson's decoded
// JSON. Integers: protojson writes 32-bit ones as numbers and 64-bit ones as
// strings; pdata holds int64, uint64 keeping its bits.
func sameAsProtojson(got, want any, path string) error {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok || len(g) != len(w) {
			return fmt.Errorf("%s: got %v, protojson %v", path, got, want)
		}
		for k, wv := range w {
			gv, ok := g[k]
			if !ok {
				return fmt.Errorf("%s.%s missing", path, k)
			}
			if err := sameAsProtojson(gv, wv, path+"."+k); err != nil {
				return err
			}
		}
		return nil
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return fmt.Errorf("%s: got %v, protojson %v", path, got, want)
		}
		for i := range w {
			if err := sameAsProtojson(g[i], w[i], fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
		return nil
	}
	if g, ok := got.(int64); ok {
		switch w := want.(type) {
		case float64:
			if float64(g) == w {
				return nil
			}
		case string:
			if n, err := strconv.ParseInt(w, 10, 64); err == nil && n == g {
				return nil
			}
			if n, err := strconv.ParseUint(w, 10, 64); err == nil && int64(n) == g {
				return nil
			}
		}
		return fmt.Errorf("%s: got %d, protojson %v", path, g, want)
	}
	if !reflect.DeepEqual(got, want) {
		return fmt.Errorf("%s: got %#v, protojson %#v", path, got, want)
	}
	return nil
}
