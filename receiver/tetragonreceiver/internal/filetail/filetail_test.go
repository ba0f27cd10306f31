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
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/extension/xextension/storage"
	"go.uber.org/zap"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/ratelog"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/receiver/tetragonreceiver/internal/metadata"
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

// Settings.Open follows whether a file is open: not before the file exists, then
// across a rotation, and no longer after Finish.
func TestOpenReportsWhetherAFileIsOpen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tetragon.log")
	tb, err := metadata.NewTelemetryBuilder(componenttest.NewNopTelemetrySettings())
	require.NoError(t, err)
	open := &atomic.Bool{}
	open.Store(true) // Open must set it either way
	sink := &lineSink{}
	tl := New(Settings{
		Path: path, FromBeginning: true, MaxLineBytes: 1 << 20, PollInterval: time.Millisecond, Open: open,
		Logger: zap.NewNop(), RateLog: ratelog.New(zap.NewNop(), time.Second), Telemetry: tb,
	}, sink)
	require.NoError(t, tl.Open(context.Background()))
	assert.False(t, open.Load(), "no file yet")
	steps(t, tl, 1)
	assert.False(t, open.Load())

	appendLines(t, path, "a1")
	steps(t, tl, 1)
	assert.True(t, open.Load())
	rotate(t, path, 1)
	appendLines(t, path, "b1")
	steps(t, tl, 3)
	assert.Equal(t, []string{"a1", "b1"}, sink.lines)
	assert.True(t, open.Load(), "the next file is open")

	require.NoError(t, tl.Finish(context.Background()))
	assert.False(t, open.Load())
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

// rotateMs renames the export file the way lumberjack does, i milliseconds
// into a fixed day, so names sort in rotation order.
func rotateMs(t testing.TB, path string, i int) string {
	t.Helper()
	name := "tetragon-" + time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i)*time.Millisecond).Format("2006-01-02T15-04-05.000") + ".log"
	rotated := filepath.Join(filepath.Dir(path), name)
	require.NoError(t, os.Rename(path, rotated))
	return rotated
}

func newCheckpointedTailer(t *testing.T, path string, fromBeginning bool, client *mapClient, sink Sink) *Tailer {
	t.Helper()
	tb, err := metadata.NewTelemetryBuilder(componenttest.NewNopTelemetrySettings())
	require.NoError(t, err)
	tl := New(Settings{
		Path: path, FromBeginning: fromBeginning, MaxLineBytes: 4096, PollInterval: time.Millisecond, Storage: client,
		Logger: zap.NewNop(), RateLog: ratelog.New(zap.NewNop(), time.Second), Telemetry: tb,
	}, sink)
	require.NoError(t, tl.Open(context.Background()))
	return tl
}

// stepUntil runs the tailer's loop body until the sink holds want lines (at
// most 10000 steps), then the final flush and checkpoint of a shutdown.
func stepUntil(t *testing.T, tl *Tailer, sink *lineSink, want int) {
	t.Helper()
	for i := 0; i < 10000 && len(sink.lines) < want; i++ {
		_, err := tl.step(context.Background())
		require.NoError(t, err)
	}
	require.NoError(t, tl.Finish(context.Background()))
}

// writeRotations appends perFile lines named prefix<n> to the export file and
// rotates it, files times, numbering rotations from firstRotation; it
// returns the lines written.
func writeRotations(t *testing.T, path, prefix string, files, perFile, firstRotation int) []string {
	t.Helper()
	var lines []string
	for f := range files {
		for range perFile {
			l := fmt.Sprintf("%s%d", prefix, len(lines))
			lines = append(lines, l)
			appendLines(t, path, l)
		}
		rotateMs(t, path, firstRotation+f)
	}
	return lines
}

// With start_at beginning and no checkpoint, the beginning is the oldest
// rotated file: Tetragon may have rotated its export several times before the
// collector first starts, and those lines were never read.
func TestStartAtBeginningReadsFilesRotatedBeforeStart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tetragon.log")
	want := writeRotations(t, path, "old", 3, 2, 0)
	appendLines(t, path, "active")
	want = append(want, "active")
	sink := &lineSink{}
	tl := newCheckpointedTailer(t, path, true, &mapClient{data: map[string][]byte{}}, sink)
	stepUntil(t, tl, sink, len(want))
	assert.Equal(t, want, sink.lines)
}

// With start_at end, files rotated before the start are old even when the
// active file is missing at start; files rotated later are read whole.
func TestStartAtEndSkipsFilesRotatedBeforeStart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tetragon.log")
	writeRotations(t, path, "old", 3, 2, 0)
	sink := &lineSink{}
	tl := newCheckpointedTailer(t, path, false, &mapClient{data: map[string][]byte{}}, sink)
	steps(t, tl, 2)
	want := writeRotations(t, path, "new", 2, 2, 100)
	appendLines(t, path, "active")
	want = append(want, "active")
	stepUntil(t, tl, sink, len(want))
	assert.Equal(t, want, sink.lines)
}

// The collector stops in the middle of the active file; while it is down the
// file is rotated dozens of times into tiny files. On restart the
// checkpointed file is found under its rotated name, read from the
// checkpoint, and every file rotated since follows in order: each line once.
func TestResumeAfterManyRotationsWhileStopped(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tetragon.log")
	client := &mapClient{data: map[string][]byte{}}
	appendLines(t, path, "first0", "first1")
	sink1 := &lineSink{}
	tl := newCheckpointedTailer(t, path, true, client, sink1)
	stepUntil(t, tl, sink1, 2)
	require.Equal(t, []string{"first0", "first1"}, sink1.lines)

	// Down: the rest of the active file, then 60 rotations of one- and
	// two-line files, two of them within the same millisecond-spaced names.
	want := []string{"rest0"}
	appendLines(t, path, "rest0")
	rotateMs(t, path, 0)
	want = append(want, writeRotations(t, path, "a", 30, 1, 1)...)
	want = append(want, writeRotations(t, path, "b", 30, 2, 31)...)
	appendLines(t, path, "active")
	want = append(want, "active")

	sink2 := &lineSink{}
	tl2 := newCheckpointedTailer(t, path, true, client, sink2)
	stepUntil(t, tl2, sink2, len(want))
	assert.Equal(t, want, sink2.lines)
}

// A checkpointed rotated file removed while the collector is down (Tetragon's
// --export-file-max-backups): the rotated files written after it are still
// read, oldest first, before the active file.
func TestCheckpointedFileRemovedWhileStopped(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tetragon.log")
	client := &mapClient{data: map[string][]byte{}}
	appendLines(t, path, "a0", "a1")
	first := rotateMs(t, path, 0)
	sink1 := &lineSink{}
	tl := newCheckpointedTailer(t, path, true, client, sink1)
	// Stopped after finishing the rotated file, before a new one appeared.
	stepUntil(t, tl, sink1, 2)
	require.Equal(t, []string{"a0", "a1"}, sink1.lines)
	var cp checkpoint
	require.NoError(t, json.Unmarshal(client.data[CheckpointKey], &cp))
	require.Equal(t, first, cp.File)

	want := writeRotations(t, path, "b", 3, 1, 1)
	appendLines(t, path, "active")
	want = append(want, "active")
	require.NoError(t, os.Remove(first))

	sink2 := &lineSink{}
	tl2 := newCheckpointedTailer(t, path, true, client, sink2)
	stepUntil(t, tl2, sink2, len(want))
	assert.Equal(t, want, sink2.lines)
}

// A checkpoint written while the file was active records the rotated name
// once the file is found under it, so that a later restart knows which
// rotated files are newer.
func TestCheckpointFollowsRename(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tetragon.log")
	client := &mapClient{data: map[string][]byte{}}
	appendLines(t, path, "a0")
	sink1 := &lineSink{}
	tl := newCheckpointedTailer(t, path, true, client, sink1)
	stepUntil(t, tl, sink1, 1)
	appendLines(t, path, "a1")
	rotated := rotateMs(t, path, 0)

	sink2 := &lineSink{}
	tl2 := newCheckpointedTailer(t, path, true, client, sink2)
	require.NoError(t, tl2.Finish(context.Background()))
	var cp checkpoint
	require.NoError(t, json.Unmarshal(client.data[CheckpointKey], &cp))
	assert.Equal(t, rotated, cp.File)
	assert.Equal(t, int64(3), cp.Offset)
}

// A directory listing taken while files are renamed into the directory can
// miss a name renamed in during it and still hold a newer one: the next file
// must not be taken from such a listing without a second look.
func TestListingThatMissedARenameSkipsNothing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tetragon.log")
	appendLines(t, path, "a0")
	sink := &lineSink{}
	tl := newCheckpointedTailer(t, path, true, &mapClient{data: map[string][]byte{}}, sink)
	steps(t, tl, 1)
	require.Equal(t, []string{"a0"}, sink.lines)

	rotateMs(t, path, 0)
	appendLines(t, path, "b0")
	missed := filepath.Base(rotateMs(t, path, 1))
	appendLines(t, path, "c0")
	rotateMs(t, path, 2)
	appendLines(t, path, "active")
	dropped := false
	tl.readDir = func(dir string) ([]os.DirEntry, error) {
		entries, err := os.ReadDir(dir)
		if dropped {
			return entries, err
		}
		for i, e := range entries {
			if e.Name() == missed {
				dropped = true
				return append(entries[:i:i], entries[i+1:]...), err
			}
		}
		return entries, err
	}
	stepUntil(t, tl, sink, 4)
	require.True(t, dropped, "the listing race was reproduced")
	assert.Equal(t, []string{"a0", "b0", "c0", "active"}, sink.lines)
}

// Rotations keep happening while the reader works through a backlog of
// rotated files: the cached directory listing must never hide a file.
func TestFollowsRotationsWhileCatchingUp(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tetragon.log")
	want := writeRotations(t, path, "backlog", 20, 1, 0)
	sink := &lineSink{}
	tl := newCheckpointedTailer(t, path, true, &mapClient{data: map[string][]byte{}}, sink)
	for i := range 300 {
		l := fmt.Sprintf("live%d", i)
		appendLines(t, path, l)
		want = append(want, l)
		if i%3 == 0 {
			rotateMs(t, path, 1000+i)
		}
		_, err := tl.step(context.Background())
		require.NoError(t, err)
	}
	stepUntil(t, tl, sink, len(want))
	assert.Equal(t, want, sink.lines)
}

// BenchmarkFollowRotatedBacklog measures moving through a backlog of 2000
// small rotated files (a collector restarted after fast rotations): the cost
// of one file switch must not grow with the number of files in the directory
// (see the ns/file metric).
func BenchmarkFollowRotatedBacklog(b *testing.B) {
	const files = 2000
	line := strings.Repeat("x", 1023)
	for b.Loop() {
		b.StopTimer()
		path := filepath.Join(b.TempDir(), "tetragon.log")
		content := []byte(strings.Repeat(line+"\n", 4))
		var first string
		for i := range files {
			require.NoError(b, os.WriteFile(path, content, 0o600))
			if r := rotateMs(b, path, i); i == 0 {
				first = r
			}
		}
		// Restarted with the checkpoint at the start of the oldest file.
		fi, err := os.Stat(first)
		require.NoError(b, err)
		id, _ := idOf(fi)
		cp, err := json.Marshal(checkpoint{Path: path, File: first, fileID: id, Fingerprint: content[:fingerprintSize]})
		require.NoError(b, err)
		tb, err := metadata.NewTelemetryBuilder(componenttest.NewNopTelemetrySettings())
		require.NoError(b, err)
		sink := &countSink{}
		tl := New(Settings{
			Path: path, FromBeginning: true, MaxLineBytes: 1 << 20, PollInterval: time.Millisecond,
			Storage: &mapClient{data: map[string][]byte{CheckpointKey: cp}},
			Logger:  zap.NewNop(), RateLog: ratelog.New(zap.NewNop(), time.Second), Telemetry: tb,
		}, sink)
		require.NoError(b, tl.Open(context.Background()))
		b.StartTimer()
		for sink.n < 4*files {
			if _, err := tl.step(context.Background()); err != nil {
				b.Fatal(err)
			}
		}
		b.StopTimer()
		require.NoError(b, tl.Finish(context.Background()))
		b.StartTimer()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*files), "ns/file")
}
