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
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
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

// CheckpointKey is the storage key of the read position.
const CheckpointKey = "tetragon_export_checkpoint"

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

type fileID struct {
	Dev uint64 `json:"dev"`
	Ino uint64 `json:"ino"`
}

type checkpoint struct {
	Path string `json:"path"`
	File string `json:"file"` // name the file had when the checkpoint was written
	fileID
	Offset int64 `json:"offset"`
	// Skipping is true when Offset is inside an oversized line.
	Skipping bool `json:"skipping,omitempty"`
	// Fingerprint is the file's first bytes: an inode number can be reused by
	// a new file once the old one is deleted.
	Fingerprint []byte `json:"fingerprint"`
}

type openFile struct {
	f  *os.File
	id fileID
	// name is the path the file was opened under; once a finished active
	// file is found under its rotated name, that name.
	name string
	// rotated is true when name is a rotated name: nothing is appended to the
	// file any more, so EOF means it is finished, and the next file is the
	// rotated file whose name sorts after it.
	rotated bool
	fp      []byte
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

// finishFile ends the current (fully read) file and opens the next one.
func (t *Tailer) finishFile(ctx context.Context) {
	if t.end > t.start && !t.skipping {
		// A writer that died mid-line leaves no newline; the fragment is all
		// there will ever be.
		t.emit(ctx, t.buf[t.start:t.end], t.offset)
	}
	prev := t.cur
	if len(prev.fp) < fingerprintSize {
		prev.fp = t.fingerprint(fingerprintSize)
	}
	prev.f.Close()
	prev.f = nil
	t.cur, t.last = nil, prev
	t.set.Telemetry.ReceiverTetragonFileRotations.Add(ctx, 1)
	t.openNext(prev)
	next := "(waiting for " + t.set.Path + ")"
	if t.cur != nil {
		next = t.cur.name
	}
	t.set.Logger.Debug("Finished Tetragon export file; following the next one", zap.String("finished", prev.name), zap.String("next", next))
}

// rotatedNames lists the names of the export file's rotated files, oldest
// first (lumberjack's timestamps sort lexically), and caches the listing.
// Nothing is stat-ed: a directory holding thousands of rotated files is
// listed, not examined file by file.
func (t *Tailer) rotatedNames() []string {
	// Rotated names sort in creation order: each name up to the newest
	// one listed before was created before that listing ended.
	t.complete = t.newest
	entries, err := t.readDir(t.dir)
	if err != nil {
		t.names = nil
		return nil
	}
	base := t.stem + t.ext
	names := make([]string, 0, len(t.names))
	for _, e := range entries {
		name := e.Name()
		if name == base || !strings.HasPrefix(name, t.stem+"-") || !strings.HasSuffix(name, t.ext) || e.IsDir() {
			continue
		}
		names = append(names, name)
	}
	sort.Strings(names)
	t.names = names
	if n := len(names); n > 0 && names[n-1] > t.newest {
		t.newest = names[n-1]
	}
	return names
}

// rotatedAfter returns the path of the oldest rotated file whose name sorts
// after name (every rotated file counts when name is ""). The cached listing
// answers while it holds such a file with no gap before it; otherwise, or
// when fresh is set, the directory is listed again, so "none" is always the
// answer of a listing taken now.
func (t *Tailer) rotatedAfter(name string, fresh bool) (string, bool) {
	if fresh {
		t.rotatedNames()
	}
	for range 3 {
		next, ok := nameAfter(t.names, name)
		if !ok && fresh {
			return "", false
		}
		if ok && next <= t.complete {
			return filepath.Join(t.dir, next), true
		}
		// Not listed yet, or listed while rotations went on, so a name
		// before it may be missing: the next listing holds every name up
		// to it.
		t.rotatedNames()
		fresh = true
	}
	// Rotations without pause: the newest listing is the best answer.
	if next, ok := nameAfter(t.names, name); ok {
		return filepath.Join(t.dir, next), true
	}
	return "", false
}

func nameAfter(names []string, name string) (string, bool) {
	i := sort.SearchStrings(names, name)
	if i < len(names) && names[i] == name {
		i++
	}
	if i < len(names) {
		return names[i], true
	}
	return "", false
}

// findRotatedName looks for the rotated name of prev, a finished active
// file, and records it. It was renamed after every rotated file listed
// earlier, so the newest names are tried first: usually only the first
// one is stat-ed.
func (t *Tailer) findRotatedName(prev *openFile) bool {
	names := t.rotatedNames()
	for i := len(names) - 1; i >= 0; i-- {
		path := filepath.Join(t.dir, names[i])
		fi, err := os.Stat(path)
		if err != nil {
			continue
		}
		if id, ok := idOf(fi); ok && id == prev.id {
			prev.name, prev.rotated = path, true
			return true
		}
	}
	return false
}

// openNext opens the file written after prev: the next rotated file when
// several rotations happened since prev was opened, else the active file.
func (t *Tailer) openNext(prev *openFile) {
	if !prev.rotated && !t.findRotatedName(prev) {
		// Renamed and already removed: nothing tells which rotated files
		// are newer, so only the active file is certainly new.
		t.openActive(0)
		return
	}
	t.openAfter(filepath.Base(prev.name))
}

// openAfter opens the oldest rotated file whose name sorts after name ("":
// the oldest of all), or the active file when there is none.
func (t *Tailer) openAfter(name string) {
	for range 5 {
		if next, ok := t.rotatedAfter(name, false); ok {
			if t.openFile(next, true, 0) {
				return
			}
			// Removed since the listing: list again.
			t.names = nil
			continue
		}
		t.at("listed")
		if !t.openActive(0) {
			// Missing: probably renamed a moment ago, so list again.
			continue
		}
		// The active file may itself have been rotated between the listing
		// and the open; if a file older than it appeared, read that first.
		if next, ok := t.rotatedAfter(name, true); ok && !t.isCurrent(next) {
			t.cur.f.Close()
			t.cur = nil
			continue
		}
		return
	}
}

// isCurrent reports whether path is the file being read.
func (t *Tailer) isCurrent(path string) bool {
	fi, err := os.Stat(path)
	if err != nil {
		return false
	}
	id, ok := idOf(fi)
	return ok && id == t.cur.id
}

func (t *Tailer) openActive(offset int64) bool {
	return t.openFile(t.set.Path, false, offset)
}

func (t *Tailer) openFile(path string, rotated bool, offset int64) bool {
	f, err := os.Open(path)
	if err != nil {
		if !errors.Is(err, os.ErrNotExist) {
			t.set.RateLog.Warn("open_failed", "Cannot open Tetragon export file", func() []zap.Field {
				return []zap.Field{zap.String("path", path), zap.Error(err)}
			})
		}
		return false
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return false
	}
	id, _ := idOf(fi)
	// last stays: it is what a failed open must go on from, and commit
	// prefers cur.
	t.cur = &openFile{f: f, id: id, name: path, rotated: rotated}
	t.resetReader(offset)
	return true
}

func (t *Tailer) resetReader(offset int64) {
	t.start, t.end, t.offset, t.skipping = 0, 0, offset, false
}

// restore positions the tailer from the checkpoint, or per FromBeginning.
func (t *Tailer) restore(ctx context.Context) {
	if cp := t.loadCheckpoint(ctx); cp != nil {
		t.lastSaved = cp
		if t.resume(cp) {
			t.set.Logger.Info("Resuming Tetragon export file from checkpoint",
				zap.String("file", t.cur.name), zap.Int64("offset", cp.Offset))
			return
		}
		// The checkpointed file is gone (deleted, or compressed by the
		// rotation).
		if t.isRotatedName(cp.File) {
			// Rotated files named after it were written after it: go on as
			// if it had just been finished.
			t.set.Logger.Warn("Checkpointed Tetragon export file no longer exists; reading the rotated files written after it, then the current file. Lines it held past the checkpoint are lost.",
				zap.String("checkpointed_file", cp.File), zap.Int64("checkpointed_offset", cp.Offset), zap.String("path", t.set.Path))
			t.last = &openFile{id: cp.fileID, name: cp.File, rotated: true, fp: cp.Fingerprint}
			t.offset, t.skipping = cp.Offset, cp.Skipping
			t.openNext(t.last)
			return
		}
		// It was the active file and its rotated name is unknown: only the
		// active file and the files rotated from now on are certainly newer.
		t.set.Logger.Warn("Checkpointed Tetragon export file no longer exists; reading the current file from its start. Lines written to rotated files that were removed meanwhile are lost.",
			zap.String("checkpointed_file", cp.File), zap.Int64("checkpointed_offset", cp.Offset), zap.String("path", t.set.Path))
		if names := t.rotatedNames(); len(names) > 0 {
			t.firstAfter = names[len(names)-1]
		}
		t.openActive(0)
		return
	}
	if t.set.FromBeginning {
		// The beginning is the oldest rotated file still there: lines
		// rotated away before the first start are as unread as the active
		// file's.
		t.openAfter("")
		if t.cur == nil {
			t.set.Logger.Info("Tetragon export file does not exist yet; waiting for it", zap.String("path", t.set.Path))
		}
		return
	}
	// From the end: files rotated until now are old, whatever appears later
	// is new.
	if names := t.rotatedNames(); len(names) > 0 {
		t.firstAfter = names[len(names)-1]
	}
	if !t.openActive(0) {
		t.set.Logger.Info("Tetragon export file does not exist yet; waiting for it", zap.String("path", t.set.Path))
		return
	}
	fi, err := t.cur.f.Stat()
	if err != nil || fi.Size() == 0 {
		return
	}
	t.offset = fi.Size()
	// Start at a line boundary: if the last line is still being written,
	// drop its head.
	last := make([]byte, 1)
	if _, err := t.cur.f.ReadAt(last, fi.Size()-1); err == nil && last[0] != '\n' {
		t.skipping = true
	}
}

// resume opens the checkpointed file if it still exists, unchanged, under the
// active name or a rotated one.
func (t *Tailer) resume(cp *checkpoint) bool {
	try := func(path string) bool {
		fi, err := os.Stat(path)
		if err != nil {
			return false
		}
		if id, ok := idOf(fi); !ok || id != cp.fileID || fi.Size() < cp.Offset {
			return false
		}
		if !t.openFile(path, path != t.set.Path, cp.Offset) {
			return false
		}
		fp := t.fingerprint(len(cp.Fingerprint))
		if !bytes.Equal(fp, cp.Fingerprint) {
			t.cur.f.Close()
			t.cur = nil
			return false
		}
		t.cur.fp = fp
		t.skipping = cp.Skipping
		return true
	}
	if try(t.set.Path) || (t.isRotatedName(cp.File) && try(cp.File)) {
		return true
	}
	// Renamed since: the listing starts after the rename, so it holds the
	// new name.
	for _, name := range t.rotatedNames() {
		if try(filepath.Join(t.dir, name)) {
			return true
		}
	}
	return false
}

// isRotatedName reports whether path names one of the export file's rotated
// files.
func (t *Tailer) isRotatedName(path string) bool {
	name := filepath.Base(path)
	return filepath.Dir(path) == t.dir && name != t.stem+t.ext &&
		strings.HasPrefix(name, t.stem+"-") && strings.HasSuffix(name, t.ext)
}

// fingerprint reads up to n first bytes of the current file.
func (t *Tailer) fingerprint(n int) []byte {
	fp := make([]byte, n)
	m, err := t.cur.f.ReadAt(fp, 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil
	}
	return fp[:m]
}

func (t *Tailer) loadCheckpoint(ctx context.Context) *checkpoint {
	if t.set.Storage == nil {
		return nil
	}
	data, err := t.set.Storage.Get(ctx, CheckpointKey)
	if err != nil {
		t.set.Logger.Warn("Cannot read the Tetragon export file checkpoint; starting without it", zap.Error(err))
		return nil
	}
	if data == nil {
		return nil
	}
	var cp checkpoint
	if err := json.Unmarshal(data, &cp); err != nil {
		t.set.Logger.Warn("Ignoring an unreadable Tetragon export file checkpoint", zap.Error(err))
		return nil
	}
	if cp.Path != t.set.Path {
		t.set.Logger.Info("Ignoring the checkpoint of another export file path", zap.String("checkpoint_path", cp.Path), zap.String("path", t.set.Path))
		return nil
	}
	return &cp
}

// commit saves the position of the last consumed line. Call it only when the
// sink has nothing waiting.
func (t *Tailer) commit(ctx context.Context) {
	if t.set.Storage == nil {
		return
	}
	of := t.cur
	if of == nil {
		if of = t.last; of == nil {
			return
		}
	} else if len(of.fp) < fingerprintSize && int64(len(of.fp)) < t.offset {
		of.fp = t.fingerprint(int(min(int64(fingerprintSize), t.offset)))
	}
	cp := checkpoint{Path: t.set.Path, File: of.name, fileID: of.id, Offset: t.offset, Skipping: t.skipping, Fingerprint: of.fp}
	if last := t.lastSaved; last != nil && last.File == cp.File && last.fileID == cp.fileID && last.Offset == cp.Offset && last.Skipping == cp.Skipping && bytes.Equal(last.Fingerprint, cp.Fingerprint) {
		return
	}
	data, err := json.Marshal(&cp)
	if err != nil {
		return
	}
	if err := t.set.Storage.Set(ctx, CheckpointKey, data); err != nil {
		t.set.RateLog.Warn("checkpoint_failed", "Cannot save the Tetragon export file checkpoint; a restart may repeat lines", func() []zap.Field {
			return []zap.Field{zap.Error(err)}
		})
		return
	}
	t.lastSaved = &cp
}

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

var oversizedReason = metric.WithAttributeSet(attribute.NewSet(attribute.String("reason", "oversized")))

// String describes the position, for logs and tests.
func (t *Tailer) String() string {
	if t.cur == nil {
		return fmt.Sprintf("waiting for %s", t.set.Path)
	}
	return fmt.Sprintf("%s@%d", t.cur.name, t.offset)
}
