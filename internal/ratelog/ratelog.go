// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

// Package ratelog logs repeated problems at most once per interval per
// reason, so that a flood of bad input cannot flood the collector's own log,
// yet every occurrence is accounted for in a line: the first occurrence is
// logged at once; the ones within the interval after it are held back and
// reported together, with a sample, by one line when the interval ends.
package ratelog // import "github.com/otelcol-runtime-security/otelcol-runtime-security/internal/ratelog"

import (
	"sync"
	"time"
	"unicode/utf8"

	"go.uber.org/zap"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/redact"
)

// DefaultInterval is the quiet period per reason.
const DefaultInterval = 10 * time.Second

// Logger writes warnings through zap, one line per reason per interval.
type Logger struct {
	logger   *zap.Logger
	interval time.Duration
	now      func() time.Time
	// afterFunc runs f after d (time.AfterFunc); tests replace it to fire by hand.
	afterFunc func(d time.Duration, f func()) (stop func() bool)

	mu      sync.Mutex
	reasons map[string]*reasonState
	closed  bool
}

type reasonState struct {
	lastLogged time.Time
	// held counts the occurrences since the last line, none of them shown.
	held int64
	// msg and sample are the message and fields of the first held occurrence,
	// kept for the line that reports them.
	msg    string
	sample []zap.Field
	// stop cancels the pending report of the held occurrences.
	stop func() bool
}

// New returns a Logger that writes at most one line per reason per interval.
func New(logger *zap.Logger, interval time.Duration) *Logger {
	if interval <= 0 {
		interval = DefaultInterval
	}
	return &Logger{
		logger: logger, interval: interval, now: time.Now,
		afterFunc: func(d time.Duration, f func()) func() bool { return time.AfterFunc(d, f).Stop },
		reasons:   map[string]*reasonState{},
	}
}

// Warn records one occurrence of reason. When the reason has not been logged
// during the last interval, msg is written at warn level at once. Otherwise the
// occurrence is held back: one line at the end of the interval reports all
// occurrences held since, with the fields of the first of them as a sample.
// Every line carries "reason" and "occurrences" (how many times the reason
// happened since the previous line for it, the one shown included).
//
// fields is called at most once per line written, at once (never after Warn
// returns), so it may read buffers the caller reuses; occurrences that are only
// counted cost nothing but the count.
func (l *Logger) Warn(reason, msg string, fields func() []zap.Field) {
	l.mu.Lock()
	defer l.mu.Unlock()
	st, ok := l.reasons[reason]
	if !ok {
		st = &reasonState{}
		l.reasons[reason] = st
	}
	now := l.now()
	if st.lastLogged.IsZero() || now.Sub(st.lastLogged) >= l.interval {
		// Held occurrences whose report has not run yet are folded into this line.
		n := st.held + 1
		st.release()
		l.write(reason, msg, n, call(fields))
		st.lastLogged = now
		return
	}
	st.held++
	if st.held > 1 {
		return
	}
	st.msg, st.sample = msg, call(fields)
	if !l.closed {
		st.stop = l.afterFunc(st.lastLogged.Add(l.interval).Sub(now), func() { l.report(reason) })
	}
}

// Close writes the lines of the occurrences held back now instead of at the
// end of their interval, and schedules no more reports.
func (l *Logger) Close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.closed = true
	for reason, st := range l.reasons {
		if st.held > 0 {
			l.write(reason, st.msg, st.held, st.sample)
			st.release()
		}
	}
}

// report writes the line of reason's held occurrences.
func (l *Logger) report(reason string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	st := l.reasons[reason]
	if st == nil || st.held == 0 {
		return
	}
	l.write(reason, st.msg, st.held, st.sample)
	st.release()
	st.lastLogged = l.now()
}

func (st *reasonState) release() {
	if st.stop != nil {
		st.stop()
	}
	st.held, st.msg, st.sample, st.stop = 0, "", nil, nil
}

func (l *Logger) write(reason, msg string, occurrences int64, fields []zap.Field) {
	all := make([]zap.Field, 0, 2+len(fields))
	all = append(all, zap.String("reason", reason), zap.Int64("occurrences", occurrences))
	l.logger.Warn(msg, append(all, fields...)...)
}

func call(fields func() []zap.Field) []zap.Field {
	if fields == nil {
		return nil
	}
	return fields()
}

// LineSampleBytes is how much of a bad export line is logged: enough to tell
// what the line is (an event type and the start of its process, or garbage),
// while in real exec events the command line's arguments, which may hold
// secrets, begin further on (byte 119 at the earliest in the shared corpus).
// A fragment of a line can start anywhere, though.
const LineSampleBytes = 96

// Sample is a zap field holding the first n bytes of b as a string (cut at a
// character boundary, "…" marking the cut), secrets masked (internal/redact),
// for showing a bad input without logging all of it or what it must not.
func Sample(key string, b []byte, n int) zap.Field {
	cut := ""
	if len(b) > n {
		for n > 0 && !utf8.RuneStart(b[n]) {
			n--
		}
		b, cut = b[:n], "…"
	}
	s, _ := redact.String(string(b))
	return zap.String(key, s+cut)
}
