// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package filetail

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"go.uber.org/zap"
)

// Rotation: Tetragon's exporter renames a full file to stem-<time>ext and starts a new one. The
// tailer finishes a file at EOF once it is rotated and continues with the next rotated name, then
// the active file.

type fileID struct {
	Dev uint64 `json:"dev"`
	Ino uint64 `json:"ino"`
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

// isRotatedName reports whether path names one of the export file's rotated
// files.
func (t *Tailer) isRotatedName(path string) bool {
	name := filepath.Base(path)
	return filepath.Dir(path) == t.dir && name != t.stem+t.ext &&
		strings.HasPrefix(name, t.stem+"-") && strings.HasSuffix(name, t.ext)
}
