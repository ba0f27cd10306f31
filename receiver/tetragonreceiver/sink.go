// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package tetragonreceiver // import "github.com/otelcol-runtime-security/otelcol-runtime-security/receiver/tetragonreceiver"

import (
	"bytes"
	"context"
	"errors"
	"time"

	"github.com/cilium/tetragon/api/v1/tetragon"
	"go.uber.org/zap"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/ratelog"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/tetragonjson"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/receiver/tetragonreceiver/internal/batcher"
)

// lineSink decodes export-file lines into a batcher.
type lineSink struct {
	b *batcher.Batcher
	// ev is reused for every line: the mapper copies what it needs.
	ev *tetragon.GetEventsResponse
	// dec applies field_filters while decoding; nil decodes everything. When it leaves fields
	// out, the body is the filtered event, as Tetragon would have sent it over gRPC, not the
	// original line.
	dec *tetragonjson.Decoder
}

func (s *lineSink) Line(line []byte, file string, offset int64) {
	if len(bytes.TrimSpace(line)) == 0 {
		return
	}
	if err := s.dec.Decode(line, s.ev); err != nil {
		reason := "malformed"
		var unknown *tetragonjson.UnknownEventTypeError
		if errors.As(err, &unknown) {
			reason = "unknown_event_type"
		}
		s.b.CountRejected(reason, err, func() []zap.Field {
			return []zap.Field{zap.String("file", file), zap.Int64("offset", offset), zap.Int("line_bytes", len(line)),
				ratelog.Sample("line_sample", line, ratelog.LineSampleBytes)}
		})
		return
	}
	raw := line
	if s.dec.LeavesOut() {
		raw = nil
	}
	_ = s.b.Add(s.ev, raw, len(line), time.Now())
}

func (s *lineSink) Due(now time.Time) bool          { return s.b.Due(now) }
func (s *lineSink) Pending() bool                   { return s.b.Len() > 0 }
func (s *lineSink) Deadline() time.Time             { return s.b.Deadline() }
func (s *lineSink) Flush(ctx context.Context) error { return s.b.Flush(ctx) }
