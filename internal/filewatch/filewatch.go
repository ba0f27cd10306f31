// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

// Package filewatch runs the watch loop shared by the processors that
// hot-reload files (detection's rules_files, workload_profile's
// profiles_files): it only decides when to look again; what a look reads,
// fingerprints and activates stays with the caller's check.
package filewatch

import (
	"errors"
	"path/filepath"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"
	"go.uber.org/zap"
)

// Watcher is a running watch loop; Stop ends it.
type Watcher struct {
	stop chan struct{}
	done chan struct{}
	once sync.Once
}

// Start calls check, from one goroutine, after each debounced burst of
// notifications in the directories of paths, after each watch error and every
// interval (none when interval is 0). The directories, not the files, are
// watched so that a Kubernetes ConfigMap update, which atomically re-points a
// "..data" symlink beside the files, is seen. Notifications are best effort:
// a watcher or directory that cannot be watched is a warning and the periodic
// check covers it, as it covers filesystems without notifications. noNotify
// (tests) relies on the periodic check only. what ("rules", "profiles") names
// the files in the log.
func Start(logger *zap.Logger, what string, paths []string, interval, debounce time.Duration, noNotify bool, check func()) *Watcher {
	var fw *fsnotify.Watcher
	if !noNotify {
		var err error
		if fw, err = fsnotify.NewWatcher(); err != nil {
			logger.Warn("Cannot watch "+what+" files; relying on the periodic check", zap.Error(err))
			fw = nil
		}
	}
	if fw != nil {
		dirs := map[string]bool{}
		for _, p := range paths {
			d := filepath.Dir(p)
			if dirs[d] {
				continue
			}
			dirs[d] = true
			if err := fw.Add(d); err != nil {
				logger.Warn("Cannot watch "+what+" directory; relying on the periodic check", zap.String("dir", d), zap.Error(err))
			}
		}
	}
	w := &Watcher{stop: make(chan struct{}), done: make(chan struct{})}
	go w.loop(logger, what, fw, interval, debounce, check)
	return w
}

func (w *Watcher) loop(logger *zap.Logger, what string, fw *fsnotify.Watcher, interval, debounce time.Duration, check func()) {
	defer close(w.done)
	var events <-chan fsnotify.Event
	var errs <-chan error
	if fw != nil {
		defer fw.Close()
		events, errs = fw.Events, fw.Errors
	}
	var tick <-chan time.Time
	if interval > 0 {
		t := time.NewTicker(interval)
		defer t.Stop()
		tick = t.C
	}
	// An editor save or a ConfigMap swap is a burst of events: one check
	// after the burst settles, not one per event.
	var timer *time.Timer
	var fire <-chan time.Time
	for {
		select {
		case <-w.stop:
			if timer != nil {
				timer.Stop()
			}
			return
		case _, ok := <-events:
			if !ok {
				events = nil
				continue
			}
			if timer == nil {
				timer = time.NewTimer(debounce)
			} else {
				timer.Reset(debounce)
			}
			fire = timer.C
		case err, ok := <-errs:
			if !ok {
				errs = nil
				continue
			}
			// An overflow only means events were lost, which the check
			// right after makes up for; anything else is worth a warning.
			if !errors.Is(err, fsnotify.ErrEventOverflow) {
				logger.Warn("Watch error on "+what+" directory", zap.Error(err))
			}
			check()
		case <-fire:
			fire = nil
			check()
		case <-tick:
			check()
		}
	}
}

// Stop ends the loop and waits for a check in progress to return; no check
// starts after it returns. Safe on a nil Watcher and more than once.
func (w *Watcher) Stop() {
	if w == nil {
		return
	}
	w.once.Do(func() { close(w.stop) })
	<-w.done
}
