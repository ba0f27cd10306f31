// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package filetail

import (
	"bytes"
	"context"
	"errors"
	"io"
	"time"

	"go.uber.org/zap"
)

// Line reading: the buffer, complete lines handed to the sink, and lines over max_line_bytes
// skipped and counted.

// readToEOF hands every complete line available to the sink, flushing
// whenever the sink is due.
func (t *Tailer) readToEOF(ctx context.Context) error {
	now := time.Now()
	for {
		if err := t.consumeLines(ctx, now); err != nil {
			return err
		}
		t.dropOverlong(ctx)
		if t.start > 0 {
			t.end = copy(t.buf, t.buf[t.start:t.end])
			t.start = 0
		}
		if t.end == len(t.buf) {
			grown := make([]byte, min(2*len(t.buf), t.set.MaxLineBytes+1))
			copy(grown, t.buf[:t.end])
			t.buf = grown
		}
		n, err := t.cur.f.ReadAt(t.buf[t.end:], t.offset+int64(t.end))
		t.end += n
		if n > 0 {
			now = time.Now()
		}
		if err != nil {
			if !errors.Is(err, io.EOF) {
				t.set.RateLog.Warn("read_failed", "Cannot read Tetragon export file", func() []zap.Field {
					return []zap.Field{zap.String("file", t.cur.name), zap.Error(err)}
				})
			}
			if err := t.consumeLines(ctx, now); err != nil {
				return err
			}
			t.dropOverlong(ctx)
			return nil
		}
	}
}

func (t *Tailer) consumeLines(ctx context.Context, now time.Time) error {
	for t.start < t.end {
		i := bytes.IndexByte(t.buf[t.start:t.end], '\n')
		if i < 0 {
			return nil
		}
		line := t.buf[t.start : t.start+i]
		lineOffset := t.offset
		t.start += i + 1
		t.offset += int64(i + 1)
		if t.skipping {
			t.skipping = false
			continue
		}
		if !t.emit(ctx, line, lineOffset) {
			continue
		}
		if t.sink.Due(now) {
			if err := t.flush(ctx); err != nil {
				return err
			}
		}
	}
	return nil
}

// emit hands one line to the sink unless it is too long; it reports whether
// the sink got it.
func (t *Tailer) emit(ctx context.Context, line []byte, offset int64) bool {
	if len(line) > t.set.MaxLineBytes {
		t.countOversized(ctx, int64(len(line)), offset)
		return false
	}
	t.sink.Line(line, t.cur.name, offset)
	return true
}

// dropOverlong discards buffered bytes of a line that is already known to be
// too long, so the buffer never grows past MaxLineBytes+1.
func (t *Tailer) dropOverlong(ctx context.Context) {
	pending := t.end - t.start
	if pending == 0 {
		return
	}
	if !t.skipping && pending > t.set.MaxLineBytes {
		t.countOversized(ctx, int64(pending), t.offset)
		t.skipping = true
	}
	if t.skipping {
		t.offset += int64(pending)
		t.start = t.end
	}
}

func (t *Tailer) countOversized(ctx context.Context, seen, offset int64) {
	t.set.Telemetry.ReceiverTetragonOversizedLines.Add(ctx, 1)
	// Also a skipped input, as an oversized gRPC event is.
	t.set.Telemetry.ReceiverTetragonDecodeErrors.Add(ctx, 1, oversizedReason)
	file := t.cur.name
	t.set.RateLog.Warn("oversized_line", "Skipping a Tetragon export line longer than file.max_line_bytes", func() []zap.Field {
		return []zap.Field{zap.String("file", file), zap.Int64("offset", offset), zap.Int64("bytes_seen", seen), zap.Int("max_line_bytes", t.set.MaxLineBytes)}
	})
}
