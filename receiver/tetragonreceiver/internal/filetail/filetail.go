// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

// Package filetail follows Tetragon's JSON export file line by line across
// lumberjack rotations (the file is renamed to <name>-<timestamp><ext> in the
// same directory and a new one is created) without losing or repeating a
// line, and checkpoints its position in a storage extension so that a restart
// resumes where delivery stopped.
//
// One goroutine does everything: it reads, hands complete lines to a Sink,
// asks the Sink to flush when it is due, and only then moves the checkpoint,
// so the checkpoint never passes a line that was not delivered.
package filetail // import "github.com/otelcol-runtime-security/otelcol-runtime-security/receiver/tetragonreceiver/internal/filetail"

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/collector/extension/xextension/storage"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/ratelog"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/receiver/tetragonreceiver/internal/metadata"
)

const (
	fingerprintSize = 256
	initialBufSize  = 256 << 10
)

// Sink consumes lines and delivers them in batches.
type Sink interface {
	// Line handles one complete line without its newline. It must not keep
	// line after returning. file and offset locate it for error messages.
	Line(line []byte, file string, offset int64)
	// Due reports whether the records handed over should be flushed now.
	Due(now time.Time) bool
	// Pending reports whether records are waiting for a flush.
	Pending() bool
	// Deadline is when waiting records must be flushed (zero if none).
	Deadline() time.Time
	// Flush delivers the waiting records. nil means they are no longer
	// waiting, so the checkpoint may move past them.
	Flush(ctx context.Context) error
}

// Settings configure a Tailer.
type Settings struct {
	Path string
	// FromBeginning selects where to start when there is no checkpoint and the
	// file already exists; a file that appears later is always read whole.
	FromBeginning bool
	MaxLineBytes  int
	PollInterval  time.Duration
	// Storage keeps the checkpoint; nil disables checkpointing.
	Storage storage.Client
	// Open, when set, is kept true while an export file is open, for the
	// connected gauge. It is updated at the end of every step, not inside one.
	Open *atomic.Bool

	Logger    *zap.Logger
	RateLog   *ratelog.Logger
	Telemetry *metadata.TelemetryBuilder
}

// Tailer follows one export file. Run and Finish must not be called
// concurrently.
type Tailer struct {
	set  Settings
	sink Sink
	dir  string
	// stem and ext split the file name: rotated files are stem-*ext.
	stem, ext string

	cur *openFile
	// last is the file finished most recently. While no next file is open,
	// the checkpoint records its end and the next file is looked for after it.
	last *openFile
	// firstAfter bounds the first file read when there is neither a current
	// nor a finished file: only rotated files whose names sort after it
	// (all of them when empty), then the active file.
	firstAfter string
	// names caches the rotated file names, oldest first, from the last
	// directory listing. Following a backlog of rotated files walks it
	// instead of listing (and stat-ing) the directory once per file.
	names []string
	// A listing can miss a name renamed into the directory while it is
	// being read, yet hold a newer one. Names up to complete (the newest
	// name of the listings before the last one) were in the directory
	// before the last listing started, so it holds them all: only those
	// are trusted to have no gap. newest is the newest name listed so far.
	complete, newest string
	buf              []byte
	// buf[start:end] holds read bytes not yet consumed; offset is the file
	// offset of buf[start].
	start, end int
	offset     int64
	skipping   bool

	lastSaved *checkpoint

	// hook, when set by tests, runs at named points where a concurrent
	// writer could act: "read" (after reading to EOF, before checking for
	// rotation) and "listed" (after listing rotated files, before opening the
	// active one).
	hook func(point string)
	// readDir lists the directory; tests replace it to reproduce listings
	// that raced with a rename.
	readDir func(dir string) ([]os.DirEntry, error)
}

func (t *Tailer) at(point string) {
	if t.hook != nil {
		t.hook(point)
	}
}

// New returns a Tailer; nothing is opened until Run.
func New(set Settings, sink Sink) *Tailer {
	base := filepath.Base(set.Path)
	ext := filepath.Ext(base)
	return &Tailer{
		set:  set,
		sink: sink,
		dir:  filepath.Dir(set.Path),
		stem: strings.TrimSuffix(base, ext),
		ext:  ext,
		buf:  make([]byte, min(initialBufSize, set.MaxLineBytes+1)),

		readDir: os.ReadDir,
	}
}

// Open positions the tailer: at the checkpoint when there is one, else at
// the start or the end of the file as configured. The position is taken now,
// so "end" means the end at the time of Open.
func (t *Tailer) Open(ctx context.Context) error {
	if !supported {
		return errors.New("file mode needs inode numbers to follow rotation and is supported on Linux/Unix only")
	}
	t.restore(ctx)
	t.reportOpen()
	return nil
}

func (t *Tailer) reportOpen() {
	if t.set.Open != nil {
		t.set.Open.Store(t.cur != nil)
	}
}

// Run follows the file from where Open positioned it until ctx is done. It
// returns ctx's error.
func (t *Tailer) Run(ctx context.Context) error {
	for {
		switched, err := t.step(ctx)
		if err != nil {
			return err
		}
		if !t.sink.Pending() {
			t.commit(ctx)
		}
		if switched {
			continue
		}
		wait := t.set.PollInterval
		if d := t.sink.Deadline(); !d.IsZero() {
			wait = min(wait, max(time.Until(d), 0))
		}
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return ctx.Err()
		case <-timer.C:
		}
	}
}

// Finish flushes what was read, saves the checkpoint and closes the file.
func (t *Tailer) Finish(ctx context.Context) error {
	err := t.sink.Flush(ctx)
	if err == nil {
		t.commit(ctx)
	}
	if t.cur != nil {
		t.cur.f.Close()
		t.cur = nil
	}
	t.reportOpen()
	return err
}

// step reads what is available, flushes when due and follows a rotation.
// switched reports that another file was opened and should be read at once.
func (t *Tailer) step(ctx context.Context) (switched bool, err error) {
	defer t.reportOpen()
	if t.cur == nil {
		// Whatever appears is new: read it whole. After a finished file, look
		// for rotated files written since first: the active file can be
		// missing for a moment during a rotation.
		if t.last != nil {
			t.openNext(t.last)
		} else {
			t.openAfter(t.firstAfter)
		}
		if t.cur == nil {
			return false, t.flushIfDue(ctx)
		}
	}
	if err := t.readToEOF(ctx); err != nil {
		return false, err
	}
	if err := t.flushIfDue(ctx); err != nil {
		return false, err
	}
	if t.cur.rotated {
		t.finishFile(ctx)
		return true, nil
	}
	t.at("read")
	fi, statErr := os.Stat(t.set.Path)
	if statErr != nil {
		// Renamed away and the new file is not there yet: keep the old one.
		return false, nil
	}
	id, _ := idOf(fi)
	if id != t.cur.id {
		// Rotated. Lines may have been appended between our EOF and the
		// rename: read the old file to its end again before moving on.
		if err := t.readToEOF(ctx); err != nil {
			return false, err
		}
		t.finishFile(ctx)
		return true, nil
	}
	if fi.Size() < t.offset+int64(t.end-t.start) {
		t.set.Logger.Info("Tetragon export file was truncated; reading it again from the start", zap.String("path", t.set.Path))
		t.set.Telemetry.ReceiverTetragonFileRotations.Add(ctx, 1)
		t.resetReader(0)
		t.cur.fp = nil
		return true, nil
	}
	return false, nil
}

func (t *Tailer) flushIfDue(ctx context.Context) error {
	if t.sink.Due(time.Now()) {
		return t.flush(ctx)
	}
	return nil
}

// flush delivers the sink's records and, once they are accepted, moves the
// checkpoint to the end of the last line read: every line before it is then
// delivered or was skipped. Committing here, not only when idle, keeps the
// checkpoint fresh while the file grows without pause.
func (t *Tailer) flush(ctx context.Context) error {
	if err := t.sink.Flush(ctx); err != nil {
		return err
	}
	t.commit(ctx)
	return nil
}

var oversizedReason = metric.WithAttributeSet(attribute.NewSet(attribute.String("reason", "oversized")))

// String describes the position, for logs and tests.
func (t *Tailer) String() string {
	if t.cur == nil {
		return fmt.Sprintf("waiting for %s", t.set.Path)
	}
	return fmt.Sprintf("%s@%d", t.cur.name, t.offset)
}
