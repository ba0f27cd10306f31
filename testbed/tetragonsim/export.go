// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package tetragonsim

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// Export file defaults, as tetragon-sim's flags.
const (
	DefaultExportMaxBytes = 10 << 20
	DefaultExportBackups  = 5
	// BackupTimeFormat is lumberjack's, which Tetragon's export uses.
	BackupTimeFormat = "2006-01-02T15-04-05.000"
)

// ExportWriter writes one JSON line per event to a file and rotates it by size the way
// Tetragon's export (lumberjack) does: the full file is renamed to
// <dir>/<name>-<UTC time in BackupTimeFormat><ext> (tetragon.log → tetragon-2006-01-02T15-04-05.000.log)
// and a new file is created under the original name, so a reader following the file by name sees
// a rename and a new file. Lines are never split across files.
type ExportWriter struct {
	path     string
	maxBytes int64
	backups  int
	now      func() time.Time

	f         *os.File
	w         *bufio.Writer
	size      int64
	lines     uint64
	rotations int
}

// NewExportWriter opens path for appending (a file already there keeps its content). maxBytes
// <= 0 means DefaultExportMaxBytes; backups < 0 means DefaultExportBackups and 0 keeps every
// rotated file.
func NewExportWriter(path string, maxBytes int64, backups int) (*ExportWriter, error) {
	if maxBytes <= 0 {
		maxBytes = DefaultExportMaxBytes
	}
	if backups < 0 {
		backups = DefaultExportBackups
	}
	w := &ExportWriter{path: path, maxBytes: maxBytes, backups: backups, now: time.Now}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("export directory: %w", err)
	}
	if err := w.open(); err != nil {
		return nil, err
	}
	return w, nil
}

func (w *ExportWriter) open() error {
	f, err := os.OpenFile(w.path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o640)
	if err != nil {
		return fmt.Errorf("export file: %w", err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return err
	}
	w.f, w.size = f, fi.Size()
	if w.w == nil {
		w.w = bufio.NewWriterSize(f, 256<<10)
	} else {
		w.w.Reset(f)
	}
	return nil
}

// WriteLine appends line and a newline, rotating first when the line would make the file
// larger than the limit (a line larger than the limit gets a file of its own).
func (w *ExportWriter) WriteLine(line []byte) error {
	n := int64(len(line)) + 1
	if w.size > 0 && w.size+n > w.maxBytes {
		if err := w.rotate(); err != nil {
			return err
		}
	}
	if _, err := w.w.Write(line); err != nil {
		return err
	}
	if err := w.w.WriteByte('\n'); err != nil {
		return err
	}
	w.size += n
	w.lines++
	return nil
}

// Flush writes buffered lines to the file.
func (w *ExportWriter) Flush() error { return w.w.Flush() }

// Close flushes and closes the current file.
func (w *ExportWriter) Close() error {
	if w.f == nil {
		return nil
	}
	err := w.w.Flush()
	if cerr := w.f.Close(); err == nil {
		err = cerr
	}
	w.f = nil
	return err
}

// Lines is the number of lines written; Rotations the number of rotations done.
func (w *ExportWriter) Lines() uint64  { return w.lines }
func (w *ExportWriter) Rotations() int { return w.rotations }

func (w *ExportWriter) backupPrefixExt() (dir, prefix, ext string) {
	dir = filepath.Dir(w.path)
	name := filepath.Base(w.path)
	ext = filepath.Ext(name)
	return dir, strings.TrimSuffix(name, ext) + "-", ext
}

func (w *ExportWriter) rotate() error {
	if err := w.Close(); err != nil {
		return err
	}
	dir, prefix, ext := w.backupPrefixExt()
	// Rotated names must sort after every existing one: two rotations within a millisecond move
	// the later name on by 1ms, so no rotated file is overwritten and pruning stays oldest-first.
	t := w.now().UTC()
	existing, err := w.Backups()
	if err != nil {
		return err
	}
	if n := len(existing); n > 0 {
		last := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(existing[n-1]), prefix), ext)
		if lt, err := time.Parse(BackupTimeFormat, last); err == nil && !t.After(lt) {
			t = lt.Add(time.Millisecond)
		}
	}
	var backup string
	for {
		backup = filepath.Join(dir, prefix+t.Format(BackupTimeFormat)+ext)
		if _, err := os.Lstat(backup); os.IsNotExist(err) {
			break
		}
		t = t.Add(time.Millisecond)
	}
	if err := os.Rename(w.path, backup); err != nil {
		return fmt.Errorf("rotate export file: %w", err)
	}
	w.rotations++
	if err := w.open(); err != nil {
		return err
	}
	return w.prune()
}

// Backups lists the rotated files, oldest first.
func (w *ExportWriter) Backups() ([]string, error) {
	dir, prefix, ext := w.backupPrefixExt()
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		name := e.Name()
		if !strings.HasPrefix(name, prefix) || !strings.HasSuffix(name, ext) {
			continue
		}
		ts := strings.TrimSuffix(strings.TrimPrefix(name, prefix), ext)
		if _, err := time.Parse(BackupTimeFormat, ts); err != nil {
			continue
		}
		out = append(out, filepath.Join(dir, name))
	}
	sort.Strings(out) // the time format sorts chronologically
	return out, nil
}

func (w *ExportWriter) prune() error {
	if w.backups == 0 {
		return nil
	}
	backups, err := w.Backups()
	if err != nil {
		return err
	}
	for len(backups) > w.backups {
		if err := os.Remove(backups[0]); err != nil {
			return fmt.Errorf("remove old export file: %w", err)
		}
		backups = backups[1:]
	}
	return nil
}
