// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package workloadprofileprocessor

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/filewatch"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/workloadprofile"
)

// reloadDebounce groups the burst of events an editor save or a ConfigMap
// symlink swap produces into one reload.
const reloadDebounce = 150 * time.Millisecond

// reloader watches profiles_files, as the detection processor's reloader
// watches rules_files: notifications on the globs' directories (a ConfigMap
// update re-points a "..data" symlink there) plus a periodic content check.
// A changed set of files is parsed as a whole (workloadprofile.LoadFiles)
// and activated only when every file is valid.
type reloader struct {
	cfg      *Config
	logger   *zap.Logger
	activate func(ps []*workloadprofile.Profile, reload bool) error
	failed   func(reason string, err error)

	mu          sync.Mutex // serialises checks
	fingerprint [sha256.Size]byte
	haveFP      bool

	watcher *filewatch.Watcher // nil when stopped

	noNotify bool // tests: rely on the periodic check only
}

func newReloader(cfg *Config, logger *zap.Logger, activate func([]*workloadprofile.Profile, bool) error, failed func(string, error)) *reloader {
	return &reloader{cfg: cfg, logger: logger, activate: activate, failed: failed}
}

// paths expands the globs as LoadFiles does: sorted, each file once; a plain
// path that does not exist is an error, a glob matching nothing is not.
func (r *reloader) paths() ([]string, error) {
	var out []string
	for _, g := range r.cfg.ProfilesFiles {
		m, err := filepath.Glob(g)
		if err != nil {
			return nil, fmt.Errorf("profiles_files %q: %w", g, err)
		}
		if len(m) == 0 && !strings.ContainsAny(g, `*?[\`) {
			return nil, fmt.Errorf("profiles_files %q: %w", g, fs.ErrNotExist)
		}
		out = append(out, m...)
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// read returns the fingerprint of the matched files' names and contents.
func (r *reloader) read() ([sha256.Size]byte, error) {
	var fp [sha256.Size]byte
	paths, err := r.paths()
	if err != nil {
		return fp, err
	}
	h := sha256.New()
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			return fp, err
		}
		fmt.Fprintf(h, "%s\x00%d\x00", p, len(data))
		h.Write(data)
	}
	copy(fp[:], h.Sum(nil))
	return fp, nil
}

// load parses the files and activates them. A file changing between read
// and load only makes the next check load it again.
func (r *reloader) load(reload bool) (string, error) {
	ps, err := workloadprofile.LoadFiles(r.cfg.ProfilesFiles)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			return "read", err
		}
		return "parse", err
	}
	if err := r.activate(ps, reload); err != nil {
		return "parse", err
	}
	return "", nil
}

func (r *reloader) loadInitial() error {
	if len(r.cfg.ProfilesFiles) == 0 {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	fp, err := r.read()
	if err != nil {
		return fmt.Errorf("profiles_files: %w", err)
	}
	if _, err := r.load(false); err != nil {
		return fmt.Errorf("profiles_files: %w", err)
	}
	r.fingerprint, r.haveFP = fp, true
	return nil
}

// check reloads when the files' names or content changed since the last
// attempt, and reports whether new file profiles were activated.
func (r *reloader) check() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	fp, err := r.read()
	if err != nil {
		// Not remembered: a file briefly missing during an update is retried.
		r.failed("read", err)
		return false
	}
	if r.haveFP && fp == r.fingerprint {
		return false
	}
	// Remembered even when it fails: one bad file is reported once, not on
	// every tick.
	r.fingerprint, r.haveFP = fp, true
	if reason, err := r.load(true); err != nil {
		r.failed(reason, err)
		return false
	}
	return true
}

func (r *reloader) start() error {
	if len(r.cfg.ProfilesFiles) == 0 {
		return nil
	}
	// A glob in the directory part cannot be watched: the periodic check
	// covers those globs.
	var watched []string
	for _, g := range r.cfg.ProfilesFiles {
		if !strings.ContainsAny(filepath.Dir(g), `*?[\`) {
			watched = append(watched, g)
		}
	}
	r.watcher = filewatch.Start(r.logger, "profiles", watched, r.cfg.ReloadInterval, reloadDebounce, r.noNotify, func() { r.check() })
	return nil
}

func (r *reloader) stop() {
	r.watcher.Stop()
	r.watcher = nil
}
