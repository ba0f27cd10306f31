// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package detectionprocessor

import (
	"bufio"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/ottl/contexts/ottllog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/processor/processortest"
	"go.opentelemetry.io/collector/receiver/receivertest"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/attrkey"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/processor/detectionprocessor/internal/metadata"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/processor/detectionprocessor/internal/rules"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/receiver/tetragonreceiver"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/testenv"
)

// realEventsDir is the real/ corpus (testenv.EventsDir: required, its absence fails the test).
func realEventsDir(t *testing.T) string { return filepath.Join(testenv.EventsDir(t), "real") }

// TestPipelineOnRealEvents runs the real corpus through tetragon receiver →
// detection processor (built-in catalogue + test rules) and checks every
// tagged record for internal consistency against the rule that named it.
func TestPipelineOnRealEvents(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(realEventsDir(t), "*.jsonl"))
	require.NoError(t, err)
	exportFile := filepath.Join(t.TempDir(), "tetragon.log")
	out, err := os.Create(exportFile)
	require.NoError(t, err)
	lines := 0
	for _, f := range files {
		in, err := os.Open(f)
		require.NoError(t, err)
		sc := bufio.NewScanner(in)
		sc.Buffer(nil, 16<<20)
		for sc.Scan() {
			_, err := out.Write(append(sc.Bytes(), '\n'))
			require.NoError(t, err)
			lines++
		}
		require.NoError(t, sc.Err())
		in.Close()
	}
	require.NoError(t, out.Close())
	require.Equal(t, 56, lines)

	cfg := createDefaultConfig().(*Config)
	cfg.RulesFiles = []string{"testdata/rules.yaml"}
	cfg.ReloadInterval = 0
	rs, err := cfg.loadRules()
	require.NoError(t, err)
	sink := new(consumertest.LogsSink)
	proc, err := NewFactory().CreateLogs(context.Background(), processortest.NewNopSettings(metadata.Type), cfg, sink)
	require.NoError(t, err)

	rf := tetragonreceiver.NewFactory()
	rcfg := rf.CreateDefaultConfig().(*tetragonreceiver.Config)
	rcfg.File = configoptional.Some(tetragonreceiver.FileConfig{Path: exportFile, StartAt: "beginning", MaxLineBytes: 16 << 20, PollInterval: 10 * time.Millisecond})
	rcfg.Batch.Timeout = 10 * time.Millisecond
	require.NoError(t, rcfg.Validate())
	rcv, err := rf.CreateLogs(context.Background(), receivertest.NewNopSettings(rf.Type()), rcfg, proc)
	require.NoError(t, err)
	require.NoError(t, proc.Start(context.Background(), componenttest.NewNopHost()))
	require.NoError(t, rcv.Start(context.Background(), componenttest.NewNopHost()))
	require.Eventually(t, func() bool { return sink.LogRecordCount() == lines }, 60*time.Second, 10*time.Millisecond)
	require.NoError(t, rcv.Shutdown(context.Background()))
	require.NoError(t, proc.Shutdown(context.Background()))

	tagged := 0
	for _, ld := range sink.AllLogs() {
		forEachRecordIn(ld, func(rl plog.ResourceLogs, sl plog.ScopeLogs, lr plog.LogRecord) {
			// A match's severity is its rule's, or the rule's escalation when that holds.
			severityOf := func(r *rules.Rule) rules.Severity {
				tc := ottllog.NewTransformContext(rl, sl, lr)
				defer tc.Close()
				s, err := r.SeverityFor(context.Background(), tc)
				require.NoError(t, err)
				return s
			}
			v, ok := lr.Attributes().Get(attrkey.RuleName)
			if !ok {
				return
			}
			tagged++
			r := ruleOrChain(rs, v.Str())
			require.NotNil(t, r, "tagged with unknown rule %q", v.Str())
			a := lr.Attributes()
			assert.Equal(t, r.Category, get(a, attrkey.RuleCategory))
			assert.Equal(t, r.Description, get(a, attrkey.RuleDescription))
			assert.Equal(t, r.Ruleset, get(a, attrkey.RuleRulesetName))
			assert.Equal(t, r.UUID, get(a, attrkey.RuleUUID))
			assert.Equal(t, severityOf(r).String(), get(a, attrkey.Severity))
			assert.Equal(t, r.Reference, get(a, attrkey.RuleReference))
			names, _ := a.Get(attrkey.MatchedRules)
			sevs, _ := a.Get(attrkey.RuleSeverities)
			require.Equal(t, pcommon.ValueTypeSlice, names.Type())
			require.Equal(t, names.Slice().Len(), sevs.Slice().Len())
			assert.Equal(t, r.Name, names.Slice().At(0).Str(), "top rule first")
			for i := 0; i < names.Slice().Len(); i++ {
				m := ruleOrChain(rs, names.Slice().At(i).Str())
				require.NotNil(t, m)
				assert.LessOrEqual(t, severityOf(m), severityOf(r), "no matched rule outranks the top rule")
				assert.Equal(t, severityOf(m).String(), sevs.Slice().At(i).Str())
			}
			want, _ := severityNumber(severityOf(r))
			assert.GreaterOrEqual(t, lr.SeverityNumber(), want)
		})
	}
	// The test rules alone fire on the corpus's shells in containers.
	assert.Positive(t, tagged)
}

// ruleOrChain is the rule of that name, or the chain's rule, or nil.
func ruleOrChain(rs *rules.Ruleset, name string) *rules.Rule {
	if r := rs.Rule(name); r != nil {
		return r
	}
	if c := rs.Chain(name); c != nil {
		return c.Rule
	}
	return nil
}

func forEachRecordIn(ld plog.Logs, fn func(plog.ResourceLogs, plog.ScopeLogs, plog.LogRecord)) {
	for i := 0; i < ld.ResourceLogs().Len(); i++ {
		rl := ld.ResourceLogs().At(i)
		for j := 0; j < rl.ScopeLogs().Len(); j++ {
			sl := rl.ScopeLogs().At(j)
			for k := 0; k < sl.LogRecords().Len(); k++ {
				fn(rl, sl, sl.LogRecords().At(k))
			}
		}
	}
}

func forEachRecord(ld plog.Logs, fn func(plog.LogRecord)) {
	for i := 0; i < ld.ResourceLogs().Len(); i++ {
		sls := ld.ResourceLogs().At(i).ScopeLogs()
		for j := 0; j < sls.Len(); j++ {
			lrs := sls.At(j).LogRecords()
			for k := 0; k < lrs.Len(); k++ {
				fn(lrs.At(k))
			}
		}
	}
}

func get(m pcommon.Map, k string) string {
	if v, ok := m.Get(k); ok {
		return v.Str()
	}
	return ""
}
