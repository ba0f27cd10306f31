// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package filetail

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"

	"go.uber.org/zap"
)

// The read position is checkpointed in storage (path, file identity, offset and the first bytes
// of the file), so that a restart resumes where the last delivered line ended.

// CheckpointKey is the storage key of the read position.
const CheckpointKey = "tetragon_export_checkpoint"

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
