// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

// Package ratelog logs repeated problems at most once per interval per
// reason, with the number of occurrences folded into the next line, so that a
// flood of bad input cannot flood the collector's own log.
package ratelog // import "github.com/otelcol-runtime-security/otelcol-runtime-security/receiver/tetragonreceiver/internal/ratelog"

import (
	"sync"
	"time"

	"go.uber.org/zap"
)

// DefaultInterval is the quiet period per reason.
const DefaultInterval = 10 * time.Second

// Logger writes warnings through zap, one line per reason per interval.
type Logger struct {
	logger   *zap.Logger
	interval time.Duration
	now      func() time.Time

	mu      sync.Mutex
	reasons map[string]*reasonState
}

type reasonState struct {
	lastLogged time.Time
	// occurrences since the last line written for this reason, including the
	// one that triggers the next line.
	occurrences int64
}

// New returns a Logger that writes at most one line per reason per interval.
func New(logger *zap.Logger, interval time.Duration) *Logger {
	if interval <= 0 {
		interval = DefaultInterval
	}
	return &Logger{logger: logger, interval: interval, now: time.Now, reasons: map[string]*reasonState{}}
}

// Warn records one occurrence of reason and writes msg at warn level when the
// reason has not been logged during the last interval. The line carries
// "reason" and "occurrences" (how many times it happened since the previous
// line for that reason). fields is evaluated lazily only when a line is
// written, so the caller pays nothing for suppressed occurrences.
func (l *Logger) Warn(reason, msg string, fields func() []zap.Field) {
	if n, ok := l.due(reason); ok {
		all := []zap.Field{zap.String("reason", reason), zap.Int64("occurrences", n)}
		if fields != nil {
			all = append(all, fields()...)
		}
		l.logger.Warn(msg, all...)
	}
}

func (l *Logger) due(reason string) (int64, bool) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	st, ok := l.reasons[reason]
	if !ok {
		st = &reasonState{}
		l.reasons[reason] = st
	}
	st.occurrences++
	if !st.lastLogged.IsZero() && now.Sub(st.lastLogged) < l.interval {
		return 0, false
	}
	n := st.occurrences
	st.occurrences = 0
	st.lastLogged = now
	return n, true
}
