// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package tetragonjson

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/cilium/tetragon/api/v1/tetragon"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/synthevents"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/testenv"
)

// The fast decoder must accept exactly what protojson (DiscardUnknown)
// accepts and produce an equal message.

func checkLikeProtojson(t testing.TB, in []byte) {
	t.Helper()
	var want tetragon.GetEventsResponse
	wantErr := protojson.UnmarshalOptions{DiscardUnknown: true}.Unmarshal(in, &want)
	plan, ok := eventPlan()
	if !ok {
		t.Fatalf("fast decoder plan unsupported: %v", planErr)
	}
	var got tetragon.GetEventsResponse
	gotErr := decodeFast(in, &got, plan)
	if errors.Is(gotErr, errUnsupported) {
		t.Fatalf("fast decoder fell back on %q", in)
	}
	switch {
	case (wantErr == nil) != (gotErr == nil):
		t.Fatalf("input %q\nprotojson err: %v\nfast err:      %v", in, wantErr, gotErr)
	case wantErr == nil && !proto.Equal(&want, &got):
		t.Fatalf("input %q\nprotojson: %v\nfast:      %v", in, &want, &got)
	}
}

func TestDecodePlanCoversEvents(t *testing.T) {
	if _, ok := eventPlan(); !ok {
		t.Fatalf("the fast decoder does not cover GetEventsResponse: %v", planErr)
	}
}

func TestDecodeMatchesProtojsonOnCorpus(t *testing.T) {
	var lines [][]byte
	for _, pattern := range []string{"real/*.jsonl", "captured/*.jsonl.gz", "legacy/*.jsonl"} {
		for _, l := range testenv.ReadCorpus(t, pattern) {
			lines = append(lines, l.Data)
		}
	}
	// The synthetic events in every protojson rendering: proto and JSON
	// names, zero values emitted, indented.
	for _, ev := range synthevents.Events() {
		for _, opts := range []protojson.MarshalOptions{
			{UseProtoNames: true}, {}, {EmitUnpopulated: true}, {Multiline: true, Indent: "  ", UseEnumNumbers: true},
		} {
			b, err := opts.Marshal(ev)
			if err != nil {
				t.Fatal(err)
			}
			lines = append(lines, b)
		}
	}
	for _, l := range lines {
		checkLikeProtojson(t, l)
	}
}

// TestDecodeMatchesProtojsonOnMutations breaks real lines in many small ways
// (deleted, inserted, swapped bytes) and requires the same verdict.
func TestDecodeMatchesProtojsonOnMutations(t *testing.T) {
	lines := testenv.ReadCorpus(t, "real/*.jsonl")
	rng := rand.New(rand.NewPCG(1, 2))
	const alphabet = "{}[],:\"\\ 0123456789-+.eEtrufalsn_xuZT\x00\xff"
	n := 0
	for _, l := range lines {
		for k := 0; k < 150; k++ {
			b := mutateLine(rng, l.Data, alphabet)
			checkLikeProtojson(t, b)
			n++
		}
	}
	t.Logf("%d mutated lines compared", n)
}

func TestDecodeMatchesProtojsonOnEdgeCases(t *testing.T) {
	exec := func(process string) string {
		return `{"process_exec":{"process":` + process + `}}`
	}
	cases := []string{
		// numbers
		exec(`{"pid":1}`), exec(`{"pid":"1"}`), exec(`{"pid":" 1"}`), exec(`{"pid":"1 "}`), exec(`{"pid":1.0}`),
		exec(`{"pid":1e2}`), exec(`{"pid":1E+2}`), exec(`{"pid":1.5}`), exec(`{"pid":-1}`), exec(`{"pid":-0}`),
		exec(`{"pid":4294967295}`), exec(`{"pid":4294967296}`), exec(`{"pid":01}`), exec(`{"pid":1x}`),
		exec(`{"pid":"0x10"}`), exec(`{"pid":""}`), exec(`{"pid":"-"}`), exec(`{"pid":1e400}`), exec(`{"pid":100e-2}`),
		exec(`{"pid":"\u0031"}`), exec(`{"pid":true}`), exec(`{"pid":{}}`), exec(`{"pid":[]}`), exec(`{"pid":null}`),
		exec(`{"refcnt":1}`), exec(`{"refcnt":-1}`), exec(`{"refcnt":"7"}`),
		`{"rate_limit_info":{"number_of_dropped_process_events":"18446744073709551615"}}`,
		`{"rate_limit_info":{"number_of_dropped_process_events":18446744073709551616}}`,
		`{"rate_limit_info":{"number_of_dropped_process_events":123456789012345678901}}`,
		`{"rate_limit_info":{"numberOfDroppedProcessEvents":5}}`,
		`{"process_kprobe":{"args":[{"int_arg":-2147483648},{"int_arg":2147483648}]}}`,
		`{"process_kprobe":{"args":[{"long_arg":"-9223372036854775808"},{"size_arg":"1e3"}]}}`,
		`{"process_kprobe":{"args":[{"long_arg":-9223372036854775809}]}}`,
		// enums
		`{"process_kprobe":{"action":"KPROBE_ACTION_POST"}}`, `{"process_kprobe":{"action":1}}`,
		`{"process_kprobe":{"action":"NOPE"}}`, `{"process_kprobe":{"action":999}}`, `{"process_kprobe":{"action":"1"}}`,
		`{"process_kprobe":{"action":1.0}}`, `{"process_kprobe":{"action":true}}`,
		exec(`{"cap":{"permitted":["CAP_CHOWN","NOPE",21]}}`), exec(`{"cap":{"permitted":["NOPE"]}}`),
		exec(`{"cap":{"permitted":[null]}}`), exec(`{"cap":{"permitted":null}}`), exec(`{"cap":{"permitted":"CAP_CHOWN"}}`),
		// strings and escapes
		exec(`{"binary":"a\"b\\c\/d\b\f\n\r\t"}`), exec(`{"binary":"\u00e9\u4e2d\ud83d\ude00"}`),
		exec(`{"binary":"\ud83d"}`), exec(`{"binary":"\ud83dx"}`), exec(`{"binary":"\ude00\ud83d"}`),
		exec(`{"binary":"\ud83d\u0041"}`), exec(`{"binary":"\u12"}`), exec(`{"binary":"\u12G4"}`), exec(`{"binary":"\x"}`),
		exec("{\"binary\":\"a\x01b\"}"), exec("{\"binary\":\"\xff\"}"), exec("{\"binary\":\"\xc3\xa9\"}"),
		exec(`{"binary":"x`), exec(`{"binary":"\`), exec(`{"binary":1}`), exec(`{"binary":null}`),
		`{"process_throttle":{"cgroup":"abc\u0000\u0000"}}`,
		// booleans and literals
		exec(`{"in_init_tree":true}`), exec(`{"in_init_tree":false}`), exec(`{"in_init_tree":"true"}`),
		exec(`{"in_init_tree":truex}`), exec(`{"in_init_tree":nul}`), exec(`{"in_init_tree":null}`),
		// structure
		``, ` `, `{}`, `[]`, `null`, `{"process_exec":{}}`, `{"process_exec":{}} `, `{"process_exec":{}} x`,
		`{"process_exec":{}}{}`, `{"process_exec":{},}`, `{,"process_exec":{}}`, `{"process_exec" {}}`,
		`{"process_exec":{}` + "\n", "\t{\r\n\"process_exec\" : { } }\n", `{'process_exec':{}}`, `{process_exec:{}}`,
		exec(`{"pid":1,"pid":2}`), exec(`{"pid":1,"pid":null}`), exec(`{"start_time":"2024-01-01T00:00:00Z","startTime":null}`),
		`{"process_exec":{},"process_exit":{}}`, `{"process_exec":null,"process_exit":{}}`, `{"process_exec":{},"processExec":{}}`,
		`{"process_kprobe":{"args":[{"int_arg":1,"string_arg":"x"}]}}`, `{"process_kprobe":{"args":[{"int_arg":1,"label":"l"}]}}`,
		`{"process_kprobe":{"args":[null]}}`, `{"process_kprobe":{"args":[{},]}}`, `{"process_kprobe":{"args":[,]}}`,
		`{"process_kprobe":{"args":[]}}`, `{"process_kprobe":{"args":{}}}`, `{"process_kprobe":{"return":null}}`,
		// unknown fields, skipped but validated
		`{"process_exec":{},"x":{"a":[1,2,{"b":null}],"c":"\u00e9"}}`, `{"process_exec":{},"x":[1,]}`,
		`{"process_exec":{},"x":{"a" 1}}`, `{"process_exec":{},"x":tru}`, `{"process_exec":{},"x":"\ud800"}`,
		`{"process_exec":{},"x":` + strings.Repeat("[", 500) + strings.Repeat("]", 500) + `}`,
		`{"process_exec":{},"x":` + strings.Repeat("[", 10001) + strings.Repeat("]", 10001) + `}`,
		`{"process_exec":{},"x":1e}`, `{"process_exec":{},"x":-}`, `{"process_exec":{},"x":.5}`,
		`{"process_connect":{"a":1}}`, `{"test":{"arg0":"1"}}`,
		// maps
		exec(`{"pod":{"pod_labels":{"a":"1","b":"2"}}}`), exec(`{"pod":{"pod_labels":{"a":"1","a":"2"}}}`),
		exec(`{"pod":{"pod_labels":{"a":null}}}`), exec(`{"pod":{"pod_labels":{"a":1}}}`), exec(`{"pod":{"pod_labels":{}}}`),
		exec(`{"pod":{"pod_labels":null}}`), exec(`{"pod":{"pod_labels":[]}}`), `{"node_labels":{"k\u00e9":"v"},"process_exec":{}}`,
		// bytes
		`{"process_loader":{"buildid":"3q2+7w=="}}`, `{"process_loader":{"buildid":"3q2-7w"}}`, `{"process_loader":{"buildid":"3q2+7w"}}`,
		`{"process_loader":{"buildid":"3q2_7w=="}}`, `{"process_loader":{"buildid":"!!"}}`, `{"process_loader":{"buildid":""}}`,
		`{"process_loader":{"buildid":"3q2+\n7w=="}}`, `{"process_loader":{"buildid":1}}`,
		`{"process_kprobe":{"args":[{"bytes_arg":"AAEC/w=="},{"truncated_bytes_arg":{"bytes_arg":"YWJj","orig_size":"3"}}]}}`,
		// timestamps
		`{"process_exec":{},"time":"2024-01-01T00:00:00Z"}`, `{"process_exec":{},"time":"2024-01-01T00:00:00.1Z"}`,
		`{"process_exec":{},"time":"2024-01-01T00:00:00.123456789Z"}`, `{"process_exec":{},"time":"2024-01-01T00:00:00.1234567891Z"}`,
		`{"process_exec":{},"time":"2024-01-01T00:00:00+02:00"}`, `{"process_exec":{},"time":"2024-01-01T00:00:00.5-07:30"}`,
		`{"process_exec":{},"time":"2024-01-01t00:00:00z"}`, `{"process_exec":{},"time":"2024-01-01 00:00:00Z"}`,
		`{"process_exec":{},"time":"2024-02-30T00:00:00Z"}`, `{"process_exec":{},"time":"2024-02-29T23:59:59Z"}`,
		`{"process_exec":{},"time":"2023-02-29T00:00:00Z"}`, `{"process_exec":{},"time":"2024-01-01T24:00:00Z"}`,
		`{"process_exec":{},"time":"2024-01-01T23:59:60Z"}`, `{"process_exec":{},"time":"0000-01-01T00:00:00Z"}`,
		`{"process_exec":{},"time":"0001-01-01T00:00:00Z"}`, `{"process_exec":{},"time":"9999-12-31T23:59:59.999999999Z"}`,
		`{"process_exec":{},"time":"2024-01-01T00:00:00.Z"}`, `{"process_exec":{},"time":"2024-01-01T00:00:00,5Z"}`,
		`{"process_exec":{},"time":"2024-01-01T00:00:00"}`, `{"process_exec":{},"time":1}`, `{"process_exec":{},"time":{}}`,
		`{"process_exec":{},"time":"2024-1-01T00:00:00Z"}`, `{"process_exec":{},"time":"+024-01-01T00:00:00Z"}`,
		`{"process_exec":{},"time":"2024-01-01T00:00:00.12a4Z"}`, `{"process_exec":{},"time":null}`,
		// wrappers
		exec(`{"in_init_tree":{}}`), exec(`{"pid":{"value":1}}`), exec(`{"auid":4294967295}`),
	}
	for _, c := range cases {
		checkLikeProtojson(t, []byte(c))
	}
}

func FuzzDecodeJSON(f *testing.F) {
	for _, l := range testenv.ReadCorpus(f, "real/*.jsonl") {
		if len(l.Data) < 4000 {
			f.Add(l.Data)
		}
	}
	for _, s := range []string{`{"process_exec":{"process":{"pid":"1","cap":{"permitted":["CAP_CHOWN",3]}}}}`,
		`{"process_throttle":{"cgroup":"a\u0000"},"time":"2024-01-01T00:00:00.5+01:00"}`,
		`{"process_loader":{"buildid":"3q2-7w"},"node_labels":{"a":"b"}}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		checkLikeProtojson(t, in)
	})
}

// mutateLine returns a copy of line with one to three bytes deleted, inserted or replaced by bytes of
// alphabet: broken JSON close to real events, for the decoders' differential tests.
func mutateLine(rng *rand.Rand, line []byte, alphabet string) []byte {
	b := bytes.Clone(line)
	for m := 0; m <= rng.IntN(3); m++ {
		i := rng.IntN(len(b))
		switch rng.IntN(3) {
		case 0:
			b = append(b[:i], b[i+1:]...)
		case 1:
			b = append(b[:i], append([]byte{alphabet[rng.IntN(len(alphabet))]}, b[i:]...)...)
		default:
			b[i] = alphabet[rng.IntN(len(alphabet))]
		}
	}
	return b
}
