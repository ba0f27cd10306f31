// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package ratelog

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
)

// fakeTimers replaces the Logger's clock and timers: timers fire when the test
// says so.
type fakeTimers struct {
	clock   time.Time
	pending []*fakeTimer
}

type fakeTimer struct {
	at      time.Time
	f       func()
	stopped bool
}

func newTestLogger(t *testing.T) (*Logger, *fakeTimers, *observer.ObservedLogs) {
	t.Helper()
	core, logs := observer.New(zapcore.DebugLevel)
	l := New(zap.New(core), 10*time.Second)
	ft := &fakeTimers{clock: time.Unix(1000, 0)}
	l.now = func() time.Time { return ft.clock }
	l.afterFunc = func(d time.Duration, f func()) func() bool {
		tm := &fakeTimer{at: ft.clock.Add(d), f: f}
		ft.pending = append(ft.pending, tm)
		return func() bool { was := !tm.stopped; tm.stopped = true; return was }
	}
	return l, ft, logs
}

// advance moves the clock and fires the timers that are due, as time.AfterFunc would.
func (ft *fakeTimers) advance(d time.Duration) {
	ft.clock = ft.clock.Add(d)
	var keep []*fakeTimer
	for _, tm := range ft.pending {
		switch {
		case tm.stopped:
		case !tm.at.After(ft.clock):
			tm.stopped = true
			tm.f()
		default:
			keep = append(keep, tm)
		}
	}
	ft.pending = keep
}

func (ft *fakeTimers) active() int {
	n := 0
	for _, tm := range ft.pending {
		if !tm.stopped {
			n++
		}
	}
	return n
}

func TestWarnIsRateLimitedPerReasonAndCounts(t *testing.T) {
	l, ft, logs := newTestLogger(t)
	calls := 0
	fields := func() []zap.Field { calls++; return []zap.Field{zap.Int("n", calls)} }

	l.Warn("malformed", "bad line", fields)
	for range 4 {
		ft.clock = ft.clock.Add(time.Second) // no timer fires
		l.Warn("malformed", "bad line", fields)
	}
	l.Warn("oversized", "big line", nil)
	require.Equal(t, 2, logs.Len(), "one line per reason inside the interval")
	assert.Equal(t, 2, calls, "fields are built for the line written and for the first held occurrence only")

	// The next occurrence after the interval, before the held ones were reported, carries
	// them too.
	ft.clock = ft.clock.Add(10 * time.Second)
	l.Warn("malformed", "bad line", fields)
	all := logs.All()
	require.Len(t, all, 3)
	assert.Equal(t, int64(1), all[0].ContextMap()["occurrences"])
	assert.Equal(t, "oversized", all[1].ContextMap()["reason"])
	// 4 held occurrences plus the one that triggered the line.
	assert.Equal(t, int64(5), all[2].ContextMap()["occurrences"])
	assert.Equal(t, int64(3), all[2].ContextMap()["n"], "the fields of the occurrence shown")
	assert.Equal(t, 0, ft.active(), "the pending report was cancelled")
}

// Occurrences held back are reported when their interval ends, even when no
// further occurrence comes: the count and a sample are never lost.
func TestHeldOccurrencesAreReportedAtTheEndOfTheInterval(t *testing.T) {
	l, ft, logs := newTestLogger(t)
	line := 0
	warn := func() {
		line++
		n := line
		l.Warn("malformed", "bad line", func() []zap.Field { return []zap.Field{zap.Int("line", n)} })
	}

	warn() // line 1, shown at once
	ft.advance(3 * time.Second)
	for range 6 {
		warn() // lines 2-7, held
	}
	require.Equal(t, 1, logs.Len())
	ft.advance(6 * time.Second)
	require.Equal(t, 1, logs.Len(), "not before the interval ends")
	ft.advance(time.Second)
	all := logs.All()
	require.Len(t, all, 2)
	assert.Equal(t, "bad line", all[1].Message)
	assert.Equal(t, zapcore.WarnLevel, all[1].Level)
	assert.Equal(t, "malformed", all[1].ContextMap()["reason"])
	assert.Equal(t, int64(6), all[1].ContextMap()["occurrences"])
	assert.Equal(t, int64(2), all[1].ContextMap()["line"], "the first held occurrence is the sample")

	// The report starts a new interval: a burst right after it is held again, then
	// reported, and a quiet reason writes nothing more.
	ft.advance(time.Second)
	warn() // line 8
	warn() // line 9
	require.Equal(t, 2, logs.Len())
	ft.advance(9 * time.Second)
	all = logs.All()
	require.Len(t, all, 3)
	assert.Equal(t, int64(2), all[2].ContextMap()["occurrences"])
	assert.Equal(t, int64(8), all[2].ContextMap()["line"])
	ft.advance(time.Minute)
	assert.Equal(t, 3, logs.Len())
	assert.Equal(t, 0, ft.active())
}

func TestCloseReportsHeldOccurrences(t *testing.T) {
	l, ft, logs := newTestLogger(t)
	l.Warn("malformed", "bad line", nil)
	l.Warn("malformed", "bad line", nil)
	l.Warn("malformed", "bad line", nil)
	l.Warn("oversized", "big line", nil)
	require.Equal(t, 2, logs.Len())
	l.Close()
	all := logs.All()
	require.Len(t, all, 3)
	assert.Equal(t, "malformed", all[2].ContextMap()["reason"])
	assert.Equal(t, int64(2), all[2].ContextMap()["occurrences"])
	assert.Equal(t, 0, ft.active())
	ft.advance(time.Minute)
	assert.Equal(t, 3, logs.Len(), "nothing reported twice")
}

func TestSample(t *testing.T) {
	enc := func(f zap.Field) any {
		m := zapcore.NewMapObjectEncoder()
		f.AddTo(m)
		return m.Fields["s"]
	}
	assert.Equal(t, "short", enc(Sample("s", []byte("short"), 8)))
	assert.Equal(t, "exactly8", enc(Sample("s", []byte("exactly8"), 8)))
	assert.Equal(t, "{\"proces…", enc(Sample("s", []byte(`{"process_exec":{}}`), 8)))
	// Not inside a character: "é" is 2 bytes at 6-7.
	assert.Equal(t, "abcdef…", enc(Sample("s", []byte("abcdeféghij"), 7)))
	// Secrets in the sample are masked like in stored records.
	assert.Equal(t, `{"arguments":"--password=***"`, enc(Sample("s", []byte(`{"arguments":"--password=hunter2"`), 96)))
}
