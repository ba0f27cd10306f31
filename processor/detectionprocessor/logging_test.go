// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package detectionprocessor

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/processor/processortest"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/testenv"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/processor/detectionprocessor/internal/metadata"
)

func TestEvaluationErrorsAreLoggedRateLimited(t *testing.T) {
	core, logs := observer.New(zapcore.InfoLevel)
	set := processortest.NewNopSettings(metadata.Type)
	set.Logger = zap.New(core)
	dir := t.TempDir()
	f := testenv.WriteFile(t, dir, "r.yaml", `
rules:
  - {name: Errs, description: d, category: c, severity: info, event: tetragon.process_exec, condition: 'HasPrefix(attributes["nope"], "x")'}
`)
	cfg := testConfig()
	cfg.RulesFiles = []string{f}
	p, err := newDetectionProcessor(set, cfg)
	require.NoError(t, err)
	defer func() { require.NoError(t, p.shutdown(context.Background())) }()
	for i := 0; i < 5; i++ {
		_, err := p.processLogs(context.Background(), logsOf(t, execRec("d", "p", "ls", "x")))
		require.NoError(t, err)
	}
	entries := logs.FilterMessageSnippet("failed to evaluate").All()
	require.Len(t, entries, 1, "five errors within the interval give one log line")
	fields := entries[0].ContextMap()
	assert.Equal(t, "Errs", fields["rule"])
	assert.Equal(t, f, fields["file"])
	assert.Contains(t, fields["error"], "expected string but got nil")

	// The four held back are reported in one line, at the end of the interval or at shutdown.
	p.errLog.Close()
	entries = logs.FilterMessageSnippet("failed to evaluate").All()
	require.Len(t, entries, 2)
	assert.Equal(t, int64(4), entries[1].ContextMap()["occurrences"])
	assert.Equal(t, "Errs", entries[1].ContextMap()["rule"])
}

func TestReloadFailureIsLoggedWithLocation(t *testing.T) {
	core, logs := observer.New(zapcore.InfoLevel)
	set := processortest.NewNopSettings(metadata.Type)
	set.Logger = zap.New(core)
	dir := t.TempDir()
	f := testenv.WriteFile(t, dir, "rules.yaml", ruleYAML("V1", "vi"))
	cfg := testConfig()
	cfg.RulesFiles = []string{f}
	p, err := newDetectionProcessor(set, cfg)
	require.NoError(t, err)
	defer func() { require.NoError(t, p.shutdown(context.Background())) }()

	testenv.WriteFile(t, dir, "rules.yaml", brokenYAML)
	require.False(t, p.reloader.check())
	entries := logs.FilterMessageSnippet("reload rejected").All()
	require.Len(t, entries, 1)
	assert.Equal(t, zapcore.ErrorLevel, entries[0].Level)
	assert.Contains(t, entries[0].ContextMap()["error"], f+`:3: rule "Broken": condition: OTTL: condition has invalid syntax`)

	testenv.WriteFile(t, dir, "rules.yaml", ruleYAML("V2", "vi"))
	require.True(t, p.reloader.check())
	assert.Len(t, logs.FilterMessageSnippet("Detection rules reloaded").All(), 1)
}
