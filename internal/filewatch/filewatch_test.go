// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package filewatch

import (
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/testenv"
)

func TestWriteInWatchedDirectoryChecks(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "rules.yaml")
	require.NoError(t, os.WriteFile(f, []byte("a"), 0o600))
	core, logs := observer.New(zap.WarnLevel)
	var n atomic.Int64
	// No ticker: only the notification can trigger the check.
	w := Start(zap.New(core), "test", []string{f}, 0, 10*time.Millisecond, false, func() { n.Add(1) })
	t.Cleanup(w.Stop)
	require.Zero(t, logs.Len(), "watch set up without warnings: %v", logs.All())
	require.NoError(t, os.WriteFile(f, []byte("b"), 0o600))
	testenv.Eventually(t, 10*time.Second, "a check after the write", func() bool { return n.Load() > 0 })
}

func TestTickerChecksWithoutNotifications(t *testing.T) {
	var n atomic.Int64
	w := Start(zap.NewNop(), "test", []string{filepath.Join(t.TempDir(), "x")}, 5*time.Millisecond, time.Hour, true, func() { n.Add(1) })
	t.Cleanup(w.Stop)
	testenv.Eventually(t, 10*time.Second, "checks from the ticker", func() bool { return n.Load() >= 2 })
}

func TestStopWaitsAndEndsChecks(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "rules.yaml")
	var n, late atomic.Int64
	var stopped atomic.Bool
	w := Start(zap.NewNop(), "test", []string{f}, time.Millisecond, time.Millisecond, false, func() {
		if stopped.Load() {
			late.Add(1)
		}
		n.Add(1)
	})
	testenv.Eventually(t, 10*time.Second, "a first check", func() bool { return n.Load() > 0 })
	w.Stop()
	stopped.Store(true)
	w.Stop() // a second Stop returns too
	// Neither the ticker nor a notification may start a check now.
	require.NoError(t, os.WriteFile(f, []byte("a"), 0o600))
	time.Sleep(50 * time.Millisecond)
	assert.Zero(t, late.Load())

	var nilW *Watcher
	nilW.Stop()
}

func TestMissingDirectoryKeepsTicker(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "missing", "rules.yaml")
	core, logs := observer.New(zap.WarnLevel)
	var n atomic.Int64
	w := Start(zap.New(core), "test", []string{missing}, 5*time.Millisecond, time.Hour, false, func() { n.Add(1) })
	t.Cleanup(w.Stop)
	assert.Equal(t, 1, logs.FilterMessage("Cannot watch test directory; relying on the periodic check").Len())
	testenv.Eventually(t, 10*time.Second, "checks from the ticker", func() bool { return n.Load() >= 2 })
}
