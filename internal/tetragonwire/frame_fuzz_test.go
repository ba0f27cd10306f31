// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package tetragonwire

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/eventmap"
)

// FuzzFrameToRecord is the receiver's gRPC path for one message: the codec as the receiver
// uses it (decoding into a Frame, with a max_event_bytes limit), then the mapping with the
// shipped JSON body. On any message the codec returns no error (an error would end the
// stream) and sets exactly one of Event and Err, Err being an *OversizedError for a message
// over the limit; the mapping of a decoded event does not panic and yields one record named
// after the event type, with a JSON body.
func FuzzFrameToRecord(f *testing.F) {
	for _, ce := range wireOf(f, "real", realEvents(f)) {
		f.Add(ce.wire)
	}
	for _, ce := range wireOf(f, "sim", simEvents(f, 3)) {
		f.Add(ce.wire)
	}
	f.Add(appendUnknown(nil))
	f.Add(protowire.AppendBytes(protowire.AppendTag(nil, 1000, protowire.BytesType), []byte("\xff")))
	const maxEventBytes = 16 << 10
	codec := Codec{MaxEventBytes: maxEventBytes}
	observed := time.Unix(1_700_000_000, 0)
	f.Fuzz(func(t *testing.T, b []byte) {
		var fr Frame
		if err := codec.Unmarshal(mem.BufferSlice{mem.SliceBuffer(b)}, &fr); err != nil {
			t.Fatalf("codec returned %v: the stream would end", err)
		}
		if (fr.Event == nil) == (fr.Err == nil) || fr.Bytes != len(b) {
			t.Fatalf("frame event %v, err %v, bytes %d of %d", fr.Event != nil, fr.Err, fr.Bytes, len(b))
		}
		var over *OversizedError
		if isOver := errors.As(fr.Err, &over); isOver != (len(b) > maxEventBytes) {
			t.Fatalf("%d-byte message: oversized %v (err %v)", len(b), isOver, fr.Err)
		}
		if fr.Event == nil {
			return
		}
		batch := eventmap.NewBatch(eventmap.Options{Body: eventmap.BodyJSON})
		if err := batch.Add(fr.Event, nil, observed); err != nil {
			return // unknown event type or mapping error: counted, skipped
		}
		logs := batch.Flush()
		if logs.LogRecordCount() != 1 {
			t.Fatalf("%d records from one message", logs.LogRecordCount())
		}
		lr := logs.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0)
		if want := "tetragon." + eventmap.EventType(fr.Event); lr.EventName() != want {
			t.Fatalf("EventName %q, want %q", lr.EventName(), want)
		}
		if !json.Valid([]byte(lr.Body().Str())) {
			t.Fatalf("JSON body is not JSON: %q", lr.Body().Str())
		}
	})
}
