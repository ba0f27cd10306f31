// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package eventmap

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/cilium/tetragon/api/v1/tetragon"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/synthevents"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/testenv"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/tetragonjson"
)

// FuzzLineToRecord is the receiver's export-file path for one line: the decoder with the
// shipped field filters (distribution/config.yaml), then the mapping into a batch with the
// shipped JSON body and with the map body. On any input it must not panic; a line either fails
// to decode, or is an unknown event type, or becomes exactly one record named after its event
// type, whose JSON body is valid JSON.
func FuzzLineToRecord(f *testing.F) {
	for _, l := range testenv.ReadCorpus(f, "real/*.jsonl") {
		if len(l.Data) < 8000 {
			f.Add(l.Data)
		}
	}
	for _, s := range []string{
		`{"process_exec":{"process":{"binary":"/bin/sh","arguments":"-c id","pod":{"namespace":"ns","name":"p","container":{"id":"containerd://abc"}}},"parent":{"binary":"/usr/bin/runc"}},"time":"2026-01-01T00:00:00Z"}`,
		`{"process_kprobe":{"process":{"binary":"/bin/cat"},"function_name":"security_file_permission","args":[{"file_arg":{"path":"/etc/shadow"}},{"int_arg":4}]}}`,
		`{"process_tracepoint":{"process":{"binary":"/bin/x"},"subsys":"raw_syscalls","event":"sys_enter","args":[{"long_arg":"1000"},{"size_arg":"1"}]}}`,
		`{"process_exit":{"process":{"binary":"/bin/x"},"signal":"SIGKILL"},"node_name":"n"}`,
		`{"process_connect":{}}`, `{"node_name":"n"}`, `{}`, `[`,
	} {
		f.Add([]byte(s))
	}
	dec, err := tetragonjson.NewDecoder([]*tetragon.FieldFilter{synthevents.ShippedFieldFilter()})
	if err != nil {
		f.Fatal(err)
	}
	observed := time.Unix(1_700_000_000, 0)
	f.Fuzz(func(t *testing.T, line []byte) {
		ev := new(tetragon.GetEventsResponse)
		if err := dec.Decode(line, ev); err != nil {
			return
		}
		for _, body := range []BodyMode{BodyJSON, BodyMap} {
			b := NewBatch(Options{Body: body})
			raw := line
			if dec.LeavesOut() {
				raw = nil // the receiver: the body is the filtered event, not the line
			}
			err := b.Add(ev, raw, observed)
			var unknown *tetragonjson.UnknownEventTypeError
			switch {
			case errors.As(err, &unknown):
				if EventType(ev) != "" {
					t.Fatalf("%s: unknown event type for a %q event: %q", body, EventType(ev), line)
				}
				continue
			case err != nil:
				continue // a mapping error: counted by the receiver as reason=mapping
			}
			if b.Len() != 1 {
				t.Fatalf("%s: %d records from one line %q", body, b.Len(), line)
			}
			logs := b.Flush()
			if logs.LogRecordCount() != 1 {
				t.Fatalf("%s: flushed %d records from one line %q", body, logs.LogRecordCount(), line)
			}
			lr := logs.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0)
			if want := "tetragon." + EventType(ev); lr.EventName() != want {
				t.Fatalf("%s: EventName %q, want %q, line %q", body, lr.EventName(), want, line)
			}
			if body == BodyJSON && !json.Valid([]byte(lr.Body().Str())) {
				t.Fatalf("JSON body is not JSON: %q (line %q)", lr.Body().Str(), line)
			}
		}
	})
}
