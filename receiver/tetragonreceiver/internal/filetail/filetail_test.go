// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package filetail

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
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
