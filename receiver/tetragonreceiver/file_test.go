// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package tetragonreceiver

import (
	"bytes"
	"context"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/cilium/tetragon/api/v1/tetragon"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/otel/attribute"
	"go.uber.org/zap/zaptest/observer"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/attrkey"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/eventmap"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/ratelog"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/tetragonjson"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/receiver/tetragonreceiver/internal/tetragonfilter"
)

func fileConfig(path string) *Config {
	cfg := createDefaultConfig().(*Config)
	fc := defaultFileConfig()
	fc.Path = path
	fc.StartAt = startAtBeginning
	fc.PollInterval = 10 * time.Millisecond
	cfg.File = configoptional.Some(fc)
	cfg.Batch = BatchConfig{MaxSize: 64, Timeout: 20 * time.Millisecond, MaxBytes: defaultBatchMaxBytes}
	return cfg
}

func withStorage(cfg *Config, id component.ID) *Config {
	cfg.File.Get().Storage = &id
	return cfg
}

// exportWriter imitates Tetragon's lumberjack writer: appends lines to path,
// and rotates by renaming the file to <stem>-<timestamp>.log in the same
// directory and creating a new one.
type exportWriter struct {
	t       *testing.T
	path    string
	f       *os.File
	rotated int
}

func newExportWriter(t *testing.T, path string) *exportWriter {
	t.Helper()
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	require.NoError(t, err)
	w := &exportWriter{t: t, path: path, f: f}
	t.Cleanup(func() { w.f.Close() })
	return w
}

func (w *exportWriter) write(b []byte) {
	_, err := w.f.Write(b)
	require.NoError(w.t, err)
}

func (w *exportWriter) lines(idList []string) {
	var buf bytes.Buffer
	for _, id := range idList {
		buf.Write(execLine(w.t, id))
	}
	w.write(buf.Bytes())
}

func (w *exportWriter) rotate() {
	require.NoError(w.t, w.f.Close())
	w.rotated++
	ts := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(w.rotated) * time.Second).Format("2006-01-02T15-04-05.000")
	stem := strings.TrimSuffix(filepath.Base(w.path), ".log")
	require.NoError(w.t, os.Rename(w.path, filepath.Join(filepath.Dir(w.path), stem+"-"+ts+".log")))
	f, err := os.OpenFile(w.path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	require.NoError(w.t, err)
	w.f = f
}

func assertExactlyOnce(t *testing.T, want, got []string) {
	t.Helper()
	seen := map[string]int{}
	var dups []string
	for _, id := range got {
		seen[id]++
		if seen[id] == 2 {
			dups = append(dups, id)
		}
	}
	assert.Empty(t, dups, "exec_ids delivered more than once")
	var missing []string
	for _, id := range want {
		if seen[id] == 0 {
			missing = append(missing, id)
		}
	}
	assert.Empty(t, missing, "exec_ids never delivered")
	assert.Len(t, got, len(want))
}

func nonEmptyLines(t *testing.T, path string) int {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	n := 0
	for _, l := range bytes.Split(data, []byte("\n")) {
		if len(bytes.TrimSpace(l)) > 0 {
			n++
		}
	}
	return n
}

func TestFileRealCorpus(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(eventsDir(t), "real", "*.jsonl"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	sort.Strings(files)
	var all bytes.Buffer
	for _, f := range files {
		data, err := os.ReadFile(f)
		require.NoError(t, err)
		all.Write(data)
		if len(data) > 0 && data[len(data)-1] != '\n' {
			all.WriteByte('\n')
		}
	}
	path := filepath.Join(t.TempDir(), "tetragon.log")
	require.NoError(t, os.WriteFile(path, all.Bytes(), 0o600))

	h := newHarness(t)
	sink := &collector{}
	r := h.start(t, fileConfig(path), sink, nil)
	waitFor(t, "56 records", func() bool { return sink.count() >= 56 })
	require.NoError(t, r.Shutdown(context.Background()))

	assert.Equal(t, 56, sink.count())
	assert.Equal(t, map[string]int{
		"tetragon.process_exec":     25,
		"tetragon.process_exit":     11,
		"tetragon.process_kprobe":   18,
		"tetragon.process_throttle": 2,
	}, sink.eventNames())
	for typ, n := range map[string]int64{"process_exec": 25, "process_exit": 11, "process_kprobe": 18, "process_throttle": 2} {
		assert.Equal(t, n, h.counter(t, "otelcol_receiver_tetragon_events", attribute.String("event_type", typ)), typ)
	}
	assert.Zero(t, h.counter(t, "otelcol_receiver_tetragon_decode_errors"))
	assert.Equal(t, int64(56), h.counter(t, "otelcol_receiver_accepted_log_records"))
}

func TestFileLegacyAndMalformedLinesAreCountedAndSkipped(t *testing.T) {
	legacy := filepath.Join(eventsDir(t), "legacy")
	book := filepath.Join(legacy, "book-security-observability-with-ebpf.jsonl")
	malformed := filepath.Join(legacy, "malformed-docs-historical.jsonl")
	unknownN, malformedN := nonEmptyLines(t, book), nonEmptyLines(t, malformed)
	require.Equal(t, 11, unknownN)

	path := filepath.Join(t.TempDir(), "tetragon.log")
	w := newExportWriter(t, path)
	for _, f := range []string{book, malformed} {
		data, err := os.ReadFile(f)
		require.NoError(t, err)
		w.write(data)
	}
	w.write([]byte("{not json at all\n\n   \n"))
	w.lines([]string{"after-bad-input"})

	h := newHarness(t)
	sink := &collector{}
	r := h.start(t, fileConfig(path), sink, nil)
	waitFor(t, "the valid line after the bad ones", func() bool { return sink.count() == 1 })
	require.NoError(t, r.Shutdown(context.Background()))

	assert.Equal(t, []string{"after-bad-input"}, sink.execIDs())
	assert.Equal(t, int64(unknownN), h.counter(t, "otelcol_receiver_tetragon_decode_errors", attribute.String("reason", "unknown_event_type")))
	assert.Equal(t, int64(malformedN+1), h.counter(t, "otelcol_receiver_tetragon_decode_errors", attribute.String("reason", "malformed")))
	// Logging is rate limited: one line per reason at once, and the bad lines held back
	// meanwhile are reported by one more line per reason (here at shutdown), so that every
	// bad line is counted in the log and more than the first is shown.
	skipped := h.logs.FilterMessage("Skipping Tetragon input that cannot be processed").All()
	require.Len(t, skipped, 4)
	byReason := map[string][]observer.LoggedEntry{}
	for _, e := range skipped {
		reason := e.ContextMap()["reason"].(string)
		byReason[reason] = append(byReason[reason], e)
		assert.Contains(t, e.ContextMap(), "offset")
		sample, ok := e.ContextMap()["line_sample"].(string)
		require.True(t, ok, "a sample of the line")
		assert.LessOrEqual(t, len(sample), ratelog.LineSampleBytes+len("…"))
	}
	occurrences := func(reason string) (n int64) {
		for _, e := range byReason[reason] {
			n += e.ContextMap()["occurrences"].(int64)
		}
		return n
	}
	require.Len(t, byReason["unknown_event_type"], 2)
	require.Len(t, byReason["malformed"], 2)
	assert.Equal(t, int64(unknownN), occurrences("unknown_event_type"))
	assert.Equal(t, int64(malformedN+1), occurrences("malformed"))
	assert.Equal(t, int64(1), byReason["malformed"][0].ContextMap()["occurrences"])
	assert.Contains(t, byReason["unknown_event_type"][0].ContextMap()["line_sample"], `{"process_close":{"process"`, "the first legacy line")
}

func TestFileOversizedLinesAreSkipped(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tetragon.log")
	w := newExportWriter(t, path)
	huge := execEvent("huge")
	huge.GetProcessExec().Process.Arguments = strings.Repeat("A", 10_000)
	hugeLine := mustLine(t, huge)
	w.lines([]string{"before"})
	w.write(hugeLine)
	w.lines([]string{"after"})

	cfg := fileConfig(path)
	cfg.File.Get().MaxLineBytes = 4096
	h := newHarness(t)
	sink := &collector{}
	r := h.start(t, cfg, sink, nil)
	waitFor(t, "the two normal lines", func() bool { return sink.count() == 2 })
	assert.Equal(t, []string{"before", "after"}, sink.execIDs())
	assert.Equal(t, int64(1), h.counter(t, "otelcol_receiver_tetragon_oversized_lines"))

	// An oversized line that arrives in pieces while the receiver polls.
	w.write(hugeLine[:3000])
	time.Sleep(50 * time.Millisecond)
	w.write(hugeLine[3000:7000])
	time.Sleep(50 * time.Millisecond)
	w.write(hugeLine[7000:])
	w.lines([]string{"after-pieces"})
	waitFor(t, "the line after the second huge one", func() bool { return sink.count() == 3 })
	require.NoError(t, r.Shutdown(context.Background()))
	assert.Equal(t, []string{"before", "after", "after-pieces"}, sink.execIDs())
	assert.Equal(t, int64(2), h.counter(t, "otelcol_receiver_tetragon_oversized_lines"))
	assert.Equal(t, int64(2), h.counter(t, "otelcol_receiver_tetragon_decode_errors", attribute.String("reason", "oversized")), "skipped inputs, as in gRPC mode")
	// Rate limited: the second one is held back and reported at shutdown.
	lines := h.logs.FilterMessage("Skipping a Tetragon export line longer than file.max_line_bytes").All()
	require.Len(t, lines, 2)
	assert.Equal(t, int64(1), lines[0].ContextMap()["occurrences"])
	assert.Equal(t, int64(1), lines[1].ContextMap()["occurrences"])
}

func mustLine(t *testing.T, ev *tetragon.GetEventsResponse) []byte {
	t.Helper()
	b, err := protojson.MarshalOptions{UseProtoNames: true}.Marshal(ev)
	require.NoError(t, err)
	return append(b, '\n')
}

func TestFileFollowsRotationWithoutLossOrDuplicates(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "tetragon.log")
	w := newExportWriter(t, path)

	h := newHarness(t)
	sink := &collector{}
	r := h.start(t, fileConfig(path), sink, nil)

	rng := rand.New(rand.NewPCG(1, 2))
	var want []string
	next := 0
	for round := range 30 {
		n := rng.IntN(40)
		batch := ids("rot", next, next+n)
		next += n
		want = append(want, batch...)
		if round%7 == 3 && n > 0 {
			// A line written in two parts: the reader must wait for its end.
			first := execLine(t, batch[0])
			w.write(first[:len(first)/2])
			time.Sleep(15 * time.Millisecond)
			w.write(first[len(first)/2:])
			w.lines(batch[1:])
		} else {
			w.lines(batch)
		}
		switch {
		case round%5 == 0:
			// several rotations between two polls
		case round%2 == 0:
			time.Sleep(time.Duration(rng.IntN(25)) * time.Millisecond)
		}
		w.rotate()
	}
	tail := ids("rot", next, next+17)
	want = append(want, tail...)
	w.lines(tail)

	if !assert.Eventually(t, func() bool { return sink.count() >= len(want) }, 20*time.Second, 5*time.Millisecond) {
		describeFailure(t, h, dir, want, sink)
	}
	require.NoError(t, r.Shutdown(context.Background()))
	assertExactlyOnce(t, want, sink.execIDs())
	assert.Equal(t, int64(30), h.counter(t, "otelcol_receiver_tetragon_file_rotations"))
}

func TestFileRestartResumesFromCheckpoint(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "tetragon.log")
	storageID := component.MustNewIDWithName("file_storage", "tetragon")
	st := newMemStorage()
	host := hostWithStorage(storageID, st)
	w := newExportWriter(t, path)

	// Run 1 reads 30 lines.
	w.lines(ids("a", 0, 30))
	h1 := newHarness(t)
	sink1 := &collector{}
	r1 := h1.start(t, withStorage(fileConfig(path), storageID), sink1, host)
	waitFor(t, "run 1", func() bool { return sink1.count() >= 30 })
	require.NoError(t, r1.Shutdown(context.Background()))
	assertExactlyOnce(t, ids("a", 0, 30), sink1.execIDs())

	// While the collector is down Tetragon writes more, rotates twice (the
	// checkpointed file is now tetragon-<ts>.log with 20 unread lines).
	w.lines(ids("b", 0, 20))
	w.rotate()
	w.lines(ids("c", 0, 25))
	w.rotate()
	w.lines(ids("d", 0, 5))

	h2 := newHarness(t)
	sink2 := &collector{}
	r2 := h2.start(t, withStorage(fileConfig(path), storageID), sink2, host)
	want2 := append(append(ids("b", 0, 20), ids("c", 0, 25)...), ids("d", 0, 5)...)
	waitFor(t, "run 2", func() bool { return sink2.count() >= len(want2) })
	require.NoError(t, r2.Shutdown(context.Background()))
	assertExactlyOnce(t, want2, sink2.execIDs())
	assert.Equal(t, 1, h2.logged("Resuming Tetragon export file from checkpoint"))

	// Run 3 with nothing new but three lines written after it started:
	// exactly those three arrive.
	h3 := newHarness(t)
	sink3 := &collector{}
	r3 := h3.start(t, withStorage(fileConfig(path), storageID), sink3, host)
	w.lines(ids("e", 0, 3))
	waitFor(t, "run 3", func() bool { return sink3.count() >= 3 })
	require.NoError(t, r3.Shutdown(context.Background()))
	assertExactlyOnce(t, ids("e", 0, 3), sink3.execIDs())
}

func TestFileCheckpointOfDeletedFileFallsBackToCurrentFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "tetragon.log")
	storageID := component.MustNewID("file_storage")
	st := newMemStorage()
	host := hostWithStorage(storageID, st)
	w := newExportWriter(t, path)
	w.lines(ids("old", 0, 10))
	h1 := newHarness(t)
	sink1 := &collector{}
	r1 := h1.start(t, withStorage(fileConfig(path), storageID), sink1, host)
	waitFor(t, "run 1", func() bool { return sink1.count() >= 10 })
	require.NoError(t, r1.Shutdown(context.Background()))

	// The rotated file is removed (lumberjack MaxBackups, or compressed).
	w.rotate()
	rotated, err := filepath.Glob(filepath.Join(dir, "tetragon-*.log"))
	require.NoError(t, err)
	require.Len(t, rotated, 1)
	require.NoError(t, os.Remove(rotated[0]))
	w.lines(ids("new", 0, 4))

	h2 := newHarness(t)
	sink2 := &collector{}
	r2 := h2.start(t, withStorage(fileConfig(path), storageID), sink2, host)
	waitFor(t, "run 2", func() bool { return sink2.count() >= 4 })
	require.NoError(t, r2.Shutdown(context.Background()))
	assertExactlyOnce(t, ids("new", 0, 4), sink2.execIDs())
	assert.Equal(t, 1, h2.logged("Checkpointed Tetragon export file no longer exists; reading the current file from its start. Lines written to rotated files that were removed meanwhile are lost."))
}

func TestFileStartAtEnd(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tetragon.log")
	w := newExportWriter(t, path)
	w.lines(ids("old", 0, 12))
	// A line still being written when the receiver starts is not read half.
	partial := execLine(t, "old-partial")
	w.write(partial[:20])

	cfg := fileConfig(path)
	cfg.File.Get().StartAt = startAtEnd
	h := newHarness(t)
	sink := &collector{}
	r := h.start(t, cfg, sink, nil)
	w.write(partial[20:])
	w.lines(ids("new", 0, 8))
	waitFor(t, "8 new records", func() bool { return sink.count() >= 8 })
	require.NoError(t, r.Shutdown(context.Background()))
	assertExactlyOnce(t, ids("new", 0, 8), sink.execIDs())
	assert.Zero(t, h.counter(t, "otelcol_receiver_tetragon_decode_errors"))
}

func TestFileThatAppearsLaterIsReadWhole(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tetragon.log")
	cfg := fileConfig(path)
	cfg.File.Get().StartAt = startAtEnd
	h := newHarness(t)
	sink := &collector{}
	r := h.start(t, cfg, sink, nil)
	assert.Equal(t, 1, h.logged("Tetragon export file does not exist yet; waiting for it"))
	h.assertConnected(t, 0)
	w := newExportWriter(t, path)
	w.lines(ids("late", 0, 6))
	waitFor(t, "6 records", func() bool { return sink.count() >= 6 })
	// The gauge is updated after the step that delivered them.
	waitFor(t, "the connected gauge", func() bool { return h.connected(t) == 1 })
	h.assertConnected(t, 1)
	require.NoError(t, r.Shutdown(context.Background()))
	assertExactlyOnce(t, ids("late", 0, 6), sink.execIDs())
}

func TestFileConsumerErrorsRetryWithoutLossOrDuplicates(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tetragon.log")
	w := newExportWriter(t, path)
	w.lines(ids("r", 0, 200))
	h := newHarness(t)
	sink := &collector{fail: func(call int) error {
		if call <= 4 {
			return errors.New("exporter queue is full")
		}
		return nil
	}}
	r := h.start(t, fileConfig(path), sink, nil)
	waitFor(t, "200 records", func() bool { return sink.count() >= 200 })
	require.NoError(t, r.Shutdown(context.Background()))
	assertExactlyOnce(t, ids("r", 0, 200), sink.execIDs())
	assert.Equal(t, int64(4), h.counter(t, "otelcol_receiver_tetragon_delivery_retries"))
	assert.Equal(t, int64(4), h.counter(t, "otelcol_receiver_refused_log_records")/64, "refused attempts are visible in the standard metrics")
}

func TestFileUndeliveredLinesAreNotCheckpointed(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tetragon.log")
	storageID := component.MustNewID("file_storage")
	st := newMemStorage()
	host := hostWithStorage(storageID, st)
	w := newExportWriter(t, path)
	w.lines(ids("u", 0, 10))

	// Run 1: the pipeline refuses everything until shutdown.
	h1 := newHarness(t)
	down := &collector{fail: func(int) error { return errors.New("backend down") }}
	r1 := h1.start(t, withStorage(fileConfig(path), storageID), down, host)
	waitFor(t, "retries", func() bool { return h1.counter(t, "otelcol_receiver_tetragon_delivery_retries") >= 2 })
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	assert.Error(t, r1.Shutdown(ctx), "shutdown reports the records it could not deliver")
	assert.Zero(t, down.count())

	// Run 2: the same lines are read again and delivered.
	h2 := newHarness(t)
	sink := &collector{}
	r2 := h2.start(t, withStorage(fileConfig(path), storageID), sink, host)
	waitFor(t, "10 records", func() bool { return sink.count() >= 10 })
	require.NoError(t, r2.Shutdown(context.Background()))
	assertExactlyOnce(t, ids("u", 0, 10), sink.execIDs())
}

func TestFilePermanentConsumerErrorDropsAndMovesOn(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tetragon.log")
	w := newExportWriter(t, path)
	w.lines(ids("p", 0, 5))
	h := newHarness(t)
	sink := &collector{fail: func(call int) error {
		if call == 1 {
			return consumererror.NewPermanent(errors.New("invalid data"))
		}
		return nil
	}}
	r := h.start(t, fileConfig(path), sink, nil)
	waitFor(t, "the drop", func() bool { return h.counter(t, "otelcol_receiver_tetragon_dropped_records") == 5 })
	w.lines(ids("q", 0, 3))
	waitFor(t, "later records", func() bool { return sink.count() >= 3 })
	require.NoError(t, r.Shutdown(context.Background()))
	assertExactlyOnce(t, ids("q", 0, 3), sink.execIDs())
	assert.Zero(t, h.counter(t, "otelcol_receiver_tetragon_delivery_retries"))
}

func TestFileMissingStorageExtensionFailsStart(t *testing.T) {
	cfg := withStorage(fileConfig(filepath.Join(t.TempDir(), "t.log")), component.MustNewID("file_storage"))
	h := newHarness(t)
	r, err := newReceiver(h.set, cfg, &collector{})
	require.NoError(t, err)
	err = r.Start(context.Background(), &testHost{})
	require.ErrorContains(t, err, `file.storage: extension "file_storage" not found`)
	require.NoError(t, r.Shutdown(context.Background()))
}

// describeFailure logs what is missing, the tailer's moves and the files, to
// make a failure of the rotation test diagnosable.
func describeFailure(t *testing.T, h *harness, dir string, want []string, sink *collector) {
	t.Helper()
	got := map[string]bool{}
	for _, id := range sink.execIDs() {
		got[id] = true
	}
	var missing []string
	for _, id := range want {
		if !got[id] {
			missing = append(missing, id)
		}
	}
	t.Logf("delivered %d of %d; missing %v", sink.count(), len(want), missing)
	for _, e := range h.logs.All() {
		t.Logf("log: %s %v", e.Message, e.ContextMap())
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if fi, err := e.Info(); err == nil {
			t.Logf("file: %s %d bytes", e.Name(), fi.Size())
		}
	}
}

// TestFileFieldFiltersSkipFields runs the captured export through file mode
// with and without the lean field filters (testdata tetragon/export_lean):
// the filtered records lose exactly the attributes of the skipped fields
// (the capability lists), keep every other attribute, and body=json is the
// original line without filters and the filtered event (as protojson) with
// them. A line broken inside a skipped value is still counted as malformed.
func TestFileFieldFiltersSkipFields(t *testing.T) {
	lines := capturedLines(t, "main-export.jsonl.gz")
	base := lines[0]
	for _, l := range lines {
		if bytes.Contains(l, []byte(`"process_exec":{"process":{`)) && bytes.Contains(l, []byte(`"cap":{"permitted":["CAP_CHOWN"`)) {
			base = l
			break
		}
	}
	broken := bytes.Replace(base, []byte(`"cap":{"permitted":["CAP_CHOWN"`), []byte(`"cap":{"permitted":["CAP_CHOWN`), 1)
	require.NotEqual(t, base, broken)
	var file bytes.Buffer
	for _, l := range lines {
		file.Write(l)
		file.WriteByte('\n')
	}
	file.Write(broken)
	file.WriteByte('\n')
	path := filepath.Join(t.TempDir(), "tetragon.log")
	require.NoError(t, os.WriteFile(path, file.Bytes(), 0o600))

	run := func(filters []map[string]any, body eventmap.BodyMode) (*harness, []plog.LogRecord) {
		cfg := fileConfig(path)
		cfg.Body = body
		cfg.FieldFilters = filters
		require.NoError(t, cfg.Validate())
		h := newHarness(t)
		sink := &collector{}
		r := h.start(t, cfg, sink, nil)
		waitFor(t, "every captured line", func() bool { return sink.count() >= len(lines) })
		require.NoError(t, r.Shutdown(context.Background()))
		require.Equal(t, len(lines), sink.count())
		return h, sink.records
	}
	lean := loadConfig(t, "tetragon/export_lean").FieldFilters
	require.NotEmpty(t, lean)
	_, full := run(nil, eventmap.BodyJSON)
	h, filtered := run(lean, eventmap.BodyJSON)
	assert.Equal(t, int64(1), h.counter(t, "otelcol_receiver_tetragon_decode_errors", attribute.String("reason", "malformed")),
		"a line broken inside a skipped value is malformed")

	// Records are grouped by resource, so they are matched by their event time and exec id. The
	// unfiltered body is the original line; the filtered one is the same event without the
	// skipped fields, re-encoded.
	isLine := make(map[string]bool, len(lines))
	for _, l := range lines {
		isLine[string(l)] = true
	}
	key := func(body string) string {
		var ev tetragon.GetEventsResponse
		require.NoError(t, tetragonjson.DecodeJSON([]byte(body), &ev))
		return ev.GetTime().AsTime().Format(time.RFC3339Nano) + "/" + eventmap.EventType(&ev)
	}
	leanFilters, err := tetragonfilter.FieldFilters(lean)
	require.NoError(t, err)
	leanDec, err := tetragonjson.NewDecoder(leanFilters)
	require.NoError(t, err)
	fullAttrs := make(map[string]map[string]any, len(full))
	fullBody := make(map[string]string, len(full))
	for _, lr := range full {
		require.True(t, isLine[lr.Body().Str()], "without field_filters body=json is an original line")
		k := key(lr.Body().Str())
		require.NotContains(t, fullBody, k, "events must be told apart by time and type")
		fullAttrs[k] = lr.Attributes().AsRaw()
		fullBody[k] = lr.Body().Str()
	}
	withCaps, shorter := 0, 0
	for i, lr := range filtered {
		body := lr.Body().Str()
		require.False(t, isLine[body] && strings.Contains(body, `"cap":`), "record %d: with field_filters the body must not be the whole line", i)
		k := key(body)
		want, ok := fullAttrs[k]
		require.True(t, ok, "record %d: no unfiltered twin", i)
		// The body is the original line decoded with the filters, re-encoded.
		var fromLine, fromBody tetragon.GetEventsResponse
		require.NoError(t, leanDec.Decode([]byte(fullBody[k]), &fromLine))
		require.NoError(t, tetragonjson.DecodeJSON([]byte(body), &fromBody))
		require.True(t, proto.Equal(&fromLine, &fromBody), "record %d: body is not the filtered event", i)
		if len(body) < len(fullBody[k]) {
			shorter++
		}
		got := lr.Attributes().AsRaw()
		if _, ok := want[attrkey.TetragonCapsPermitted]; ok {
			withCaps++
		}
		for _, k := range []string{attrkey.TetragonCapsEffective, attrkey.TetragonCapsPermitted} {
			require.NotContains(t, got, k, "record %d", i)
			delete(want, k)
		}
		if !assert.Equal(t, want, got, "record %d: every attribute but the capabilities is unchanged", i) {
			break
		}
	}
	assert.Greater(t, shorter, len(full)/2, "filtered bodies are shorter")
	assert.Greater(t, withCaps, len(full)/2, "the unfiltered records carry capabilities")

	// body=map leaves the skipped fields out of the structured body too.
	_, maps := run(lean, eventmap.BodyMap)
	procs := 0
	for _, lr := range maps {
		exec, ok := lr.Body().Map().AsRaw()["process_exec"].(map[string]any)
		if !ok {
			continue
		}
		proc := exec["process"].(map[string]any)
		procs++
		assert.NotContains(t, proc, "cap")
		assert.NotContains(t, proc, "ns")
		assert.Contains(t, proc, "binary")
		if parent, ok := exec["parent"].(map[string]any); ok {
			assert.NotContains(t, parent, "process_credentials")
			assert.Contains(t, parent, "binary")
		}
	}
	assert.Greater(t, procs, 100)
}

// batch.max_bytes bounds a batch by the length of its lines (checkMaxBytesBatches).
func TestFileBatchMaxBytes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tetragon.log")
	w := newExportWriter(t, path)
	var buf bytes.Buffer
	for _, id := range ids("big", 0, 10) {
		buf.Write(mustLine(t, withArguments(id, 30_000)))
	}
	w.write(buf.Bytes())
	checkMaxBytesBatches(t, fileConfig(path))
}
