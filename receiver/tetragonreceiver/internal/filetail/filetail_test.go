// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package filetail

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/extension/xextension/storage"
	"go.uber.org/zap"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/receiver/tetragonreceiver/internal/metadata"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/receiver/tetragonreceiver/internal/ratelog"
)

// lineSink keeps every line as delivered; it never holds records back.
type lineSink struct{ lines []string }

func (s *lineSink) Line(line []byte, _ string, _ int64) { s.lines = append(s.lines, string(line)) }
func (s *lineSink) Due(time.Time) bool                  { return false }
func (s *lineSink) Pending() bool                       { return false }
func (s *lineSink) Deadline() time.Time                 { return time.Time{} }
func (s *lineSink) Flush(context.Context) error         { return nil }

func newTailer(t *testing.T, path string, sink Sink) *Tailer {
	t.Helper()
	tb, err := metadata.NewTelemetryBuilder(componenttest.NewNopTelemetrySettings())
	require.NoError(t, err)
	tl := New(Settings{
		Path: path, FromBeginning: true, MaxLineBytes: 1 << 20, PollInterval: time.Millisecond,
		Logger: zap.NewNop(), RateLog: ratelog.New(zap.NewNop(), time.Second), Telemetry: tb,
	}, sink)
	require.NoError(t, tl.Open(context.Background()))
	t.Cleanup(func() { _ = tl.Finish(context.Background()) })
	return tl
}

func appendLines(t *testing.T, path string, lines ...string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	require.NoError(t, err)
	for _, l := range lines {
		_, err = f.WriteString(l + "\n")
		require.NoError(t, err)
	}
	require.NoError(t, f.Close())
}

func rotate(t *testing.T, path string, n int) {
	t.Helper()
	require.NoError(t, os.Rename(path, filepath.Join(filepath.Dir(path), fmt.Sprintf("tetragon-2025-01-01T00-00-%02d.000.log", n))))
}

// steps runs the tailer's loop body n times.
func steps(t *testing.T, tl *Tailer, n int) {
	t.Helper()
	for range n {
		_, err := tl.step(context.Background())
		require.NoError(t, err)
	}
}

// Lines appended after the reader hit EOF but before the rename must still be
// read from the old file.
func TestDrainsOldFileAfterRotation(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tetragon.log")
	appendLines(t, path, "a1", "a2")
	sink := &lineSink{}
	tl := newTailer(t, path, sink)
	fired := false
	tl.hook = func(point string) {
		if point == "read" && !fired {
			fired = true
			appendLines(t, path, "a3")
			rotate(t, path, 1)
			appendLines(t, path, "b1")
		}
	}
	steps(t, tl, 4)
	assert.Equal(t, []string{"a1", "a2", "a3", "b1"}, sink.lines)
}

// The active file can be missing for a moment during a rotation; a file
// rotated while the reader was looking for the next one must not be skipped.
func TestRotatedWhileOpeningNext(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tetragon.log")
	appendLines(t, path, "a1")
	sink := &lineSink{}
	tl := newTailer(t, path, sink)
	steps(t, tl, 1)
	rotate(t, path, 1)
	appendLines(t, path, "b1")
	listed := 0
	tl.hook = func(point string) {
		if point != "listed" {
			return
		}
		listed++
		if listed == 1 {
			// b is renamed after the reader listed the directory; the new
			// file does not exist yet.
			rotate(t, path, 2)
		}
		if listed == 2 {
			appendLines(t, path, "c1")
		}
	}
	steps(t, tl, 6)
	assert.Equal(t, []string{"a1", "b1", "c1"}, sink.lines)
}

func TestPartialLineWaitsForItsEnd(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tetragon.log")
	sink := &lineSink{}
	appendLines(t, path, "x1")
	tl := newTailer(t, path, sink)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0o600)
	require.NoError(t, err)
	defer f.Close()
	_, err = f.WriteString(`{"half":`)
	require.NoError(t, err)
	steps(t, tl, 2)
	assert.Equal(t, []string{"x1"}, sink.lines)
	_, err = f.WriteString("1}\n")
	require.NoError(t, err)
	steps(t, tl, 1)
	assert.Equal(t, []string{"x1", `{"half":1}`}, sink.lines)
}

func TestTruncatedFileIsReadFromStart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tetragon.log")
	appendLines(t, path, "old1", "old2")
	sink := &lineSink{}
	tl := newTailer(t, path, sink)
	steps(t, tl, 1)
	require.NoError(t, os.Truncate(path, 0))
	appendLines(t, path, "new")
	steps(t, tl, 3)
	assert.Equal(t, []string{"old1", "old2", "new"}, sink.lines)
}

// batchSink delivers in batches of size; Flush fails while down is set.
type batchSink struct {
	size      int
	pending   []string
	delivered []string
	down      bool
}

func (s *batchSink) Line(line []byte, _ string, _ int64) { s.pending = append(s.pending, string(line)) }
func (s *batchSink) Due(time.Time) bool                  { return len(s.pending) >= s.size }
func (s *batchSink) Pending() bool                       { return len(s.pending) > 0 }
func (s *batchSink) Deadline() time.Time                 { return time.Time{} }
func (s *batchSink) Flush(context.Context) error {
	if s.down {
		return context.Canceled
	}
	s.delivered = append(s.delivered, s.pending...)
	s.pending = nil
	return nil
}

type mapClient struct{ data map[string][]byte }

func (c *mapClient) Get(_ context.Context, k string) ([]byte, error)    { return c.data[k], nil }
func (c *mapClient) Set(_ context.Context, k string, v []byte) error    { c.data[k] = v; return nil }
func (c *mapClient) Delete(_ context.Context, k string) error           { delete(c.data, k); return nil }
func (c *mapClient) Batch(context.Context, ...*storage.Operation) error { return nil }
func (c *mapClient) Close(context.Context) error                        { return nil }

func savedOffset(t *testing.T, c *mapClient) int64 {
	t.Helper()
	var cp checkpoint
	require.NoError(t, json.Unmarshal(c.data[CheckpointKey], &cp))
	return cp.Offset
}

// The checkpoint follows every delivered batch even when a partial batch is
// always waiting (a file that never stops growing), and never covers lines
// that were not delivered.
func TestCheckpointFollowsDeliveredBatches(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tetragon.log")
	appendLines(t, path, "l1", "l2", "l3", "l4", "l5") // 3 bytes each
	sink := &batchSink{size: 2}
	client := &mapClient{data: map[string][]byte{}}
	tb, err := metadata.NewTelemetryBuilder(componenttest.NewNopTelemetrySettings())
	require.NoError(t, err)
	tl := New(Settings{
		Path: path, FromBeginning: true, MaxLineBytes: 4096, PollInterval: time.Millisecond, Storage: client,
		Logger: zap.NewNop(), RateLog: ratelog.New(zap.NewNop(), time.Second), Telemetry: tb,
	}, sink)
	require.NoError(t, tl.Open(context.Background()))
	steps(t, tl, 1)
	assert.Equal(t, []string{"l1", "l2", "l3", "l4"}, sink.delivered)
	assert.True(t, sink.Pending(), "l5 waits for its batch")
	assert.Equal(t, int64(12), savedOffset(t, client), "checkpoint after l4, not after l5")

	sink.down = true
	appendLines(t, path, "l6", "l7")
	_, err = tl.step(context.Background())
	require.Error(t, err)
	assert.Equal(t, int64(12), savedOffset(t, client), "undelivered lines are not checkpointed")
}

type countSink struct{ n, bytes int }

func (s *countSink) Line(line []byte, _ string, _ int64) { s.n++; s.bytes += len(line) }
func (s *countSink) Due(time.Time) bool                  { return false }
func (s *countSink) Pending() bool                       { return false }
func (s *countSink) Deadline() time.Time                 { return time.Time{} }
func (s *countSink) Flush(context.Context) error         { return nil }

// BenchmarkReadLines measures the tailer alone: 2 KiB lines read from the
// file and handed to the sink (see the ns/line metric).
func BenchmarkReadLines(b *testing.B) {
	path := filepath.Join(b.TempDir(), "tetragon.log")
	line := strings.Repeat("x", 2047) + "\n"
	const perFile = 20000
	require.NoError(b, os.WriteFile(path, []byte(strings.Repeat(line, perFile)), 0o600))
	tb, err := metadata.NewTelemetryBuilder(componenttest.NewNopTelemetrySettings())
	require.NoError(b, err)
	b.SetBytes(int64(len(line)))
	b.ReportAllocs()
	b.ResetTimer()
	for done := 0; done < b.N; {
		sink := &countSink{}
		tl := New(Settings{
			Path: path, FromBeginning: true, MaxLineBytes: 16 << 20, PollInterval: time.Millisecond,
			Logger: zap.NewNop(), RateLog: ratelog.New(zap.NewNop(), time.Second), Telemetry: tb,
		}, sink)
		require.NoError(b, tl.Open(context.Background()))
		require.NoError(b, tl.readToEOF(context.Background()))
		require.NoError(b, tl.Finish(context.Background()))
		require.Equal(b, perFile, sink.n)
		done += perFile
	}
	// b.N is rounded up to whole files: report per line read.
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64((b.N+perFile-1)/perFile*perFile), "ns/line")
}
