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

func TestWarnIsRateLimitedPerReasonAndCounts(t *testing.T) {
	core, logs := observer.New(zapcore.DebugLevel)
	l := New(zap.New(core), 10*time.Second)
	clock := time.Unix(1000, 0)
	l.now = func() time.Time { return clock }

	calls := 0
	fields := func() []zap.Field { calls++; return []zap.Field{zap.String("line", "x")} }

	l.Warn("malformed", "bad line", fields)
	for range 4 {
		clock = clock.Add(time.Second)
		l.Warn("malformed", "bad line", fields)
	}
	l.Warn("oversized", "big line", nil)
	require.Equal(t, 2, logs.Len(), "one line per reason inside the interval")
	assert.Equal(t, 1, calls, "fields are built only for written lines")

	clock = clock.Add(10 * time.Second)
	l.Warn("malformed", "bad line", fields)
	all := logs.All()
	require.Len(t, all, 3)
	assert.Equal(t, int64(1), all[0].ContextMap()["occurrences"])
	assert.Equal(t, "oversized", all[1].ContextMap()["reason"])
	// 4 suppressed occurrences plus the one that triggered the line.
	assert.Equal(t, int64(5), all[2].ContextMap()["occurrences"])
	assert.Equal(t, "x", all[2].ContextMap()["line"])
}
