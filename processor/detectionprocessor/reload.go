// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package detectionprocessor

import (
	"crypto/sha256"
	"fmt"
	"runtime/debug"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/filewatch"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/processor/detectionprocessor/internal/rules"
)

// reloadDebounce groups the burst of events an editor save or a ConfigMap
// symlink swap produces into one reload.
const reloadDebounce = 150 * time.Millisecond

// reloader watches rules_files and recompiles them when their content changes.
// It watches the parent directories (not the files) so that Kubernetes
// ConfigMap updates, which atomically re-point a "..data" symlink, are seen;
// a periodic content check covers filesystems without notifications.
type reloader struct {
	cfg      *Config
	logger   *zap.Logger
	activate func(*rules.Ruleset, bool)
	failed   func(reason, file string, err error)

	mu          sync.Mutex // serialises checks
	fingerprint [sha256.Size]byte
	haveFP      bool

	watcher *filewatch.Watcher // nil when stopped

	noNotify bool // tests: rely on the periodic check only
}

func newReloader(cfg *Config, logger *zap.Logger, activate func(*rules.Ruleset, bool), failed func(string, string, error)) *reloader {
	return &reloader{cfg: cfg, logger: logger, activate: activate, failed: failed}
}

// read returns the sources to compile (the catalogue, then the files) and the
// fingerprint of the files' contents.
func (r *reloader) read() ([]rules.Source, [sha256.Size]byte, error) {
	var fp [sha256.Size]byte
	srcs, err := rules.ReadSources(r.cfg.BuiltinRules, r.cfg.RulesFiles)
	if err != nil {
		return nil, fp, err
	}
	h := sha256.New()
	for _, src := range srcs {
		if src.Ruleset != rules.BuiltinRuleset {
			fmt.Fprintf(h, "%s\x00%d\x00", src.Path, len(src.Data))
			h.Write(src.Data)
		}
	}
	copy(fp[:], h.Sum(nil))
	return srcs, fp, nil
}

func (r *reloader) loadInitial() (*rules.Ruleset, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	srcs, fp, err := r.read()
	if err != nil {
		return nil, err
	}
	rs, err := compile(srcs, r.cfg.DisabledRules, r.logger)
	if err != nil {
		return nil, err
	}
	r.fingerprint, r.haveFP = fp, true
	return rs, nil
}

// check recompiles when the files' content changed since the last attempt.
// It reports whether a new ruleset was activated.
func (r *reloader) check() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	srcs, fp, err := r.read()
	if err != nil {
		// Not remembered: a file that is briefly missing during an update is
		// retried on the next event or tick.
		r.failed("read", rules.FirstFile(err), err)
		return false
	}
	if r.haveFP && fp == r.fingerprint {
		return false
	}
	// Remember the attempt even when it fails so that one bad file is
	// reported once, not on every tick.
	r.fingerprint, r.haveFP = fp, true
	rs, err := compile(srcs, r.cfg.DisabledRules, r.logger)
	if err != nil {
		r.failed("compile", rules.FirstFile(err), err)
		return false
	}
	r.activate(rs, true)
	return true
}

func (r *reloader) start() error {
	if len(r.cfg.RulesFiles) == 0 {
		return nil
	}
	r.watcher = filewatch.Start(r.logger, "rules", r.cfg.RulesFiles, r.cfg.ReloadInterval, reloadDebounce, r.noNotify, func() { r.check() })
	return nil
}

func (r *reloader) stop() {
	r.watcher.Stop()
	r.watcher = nil
}

// compile compiles the rules and hands the parser's garbage back to the OS.
// Parsing the catalogue's OTTL conditions allocates tens of MiB that are
// garbage as soon as it returns; left to the runtime, the heap it grew to
// stays resident for minutes, on every node, at start-up and after each
// reload. Compiles are rare (start-up, a changed rules file), so the forced
// GC costs nothing that matters.
func compile(srcs []rules.Source, disabled []string, logger *zap.Logger) (*rules.Ruleset, error) {
	rs, err := rules.Compile(srcs, disabled, logger)
	debug.FreeOSMemory()
	return rs, err
}
