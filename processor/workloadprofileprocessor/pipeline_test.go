// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package workloadprofileprocessor

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/collector/processor/processortest"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/attrkey"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/processor/detectionprocessor"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/processor/workloadprofileprocessor/internal/metadata"
)

// firing is one record's event, executable and the rules it carries.
type firing struct {
	event, exe string
	rules      []string
}

func firings(lds []plog.Logs) []firing {
	var out []firing
	for _, ld := range lds {
		rls := ld.ResourceLogs()
		for i := 0; i < rls.Len(); i++ {
			sls := rls.At(i).ScopeLogs()
			for j := 0; j < sls.Len(); j++ {
				lrs := sls.At(j).LogRecords()
				for k := 0; k < lrs.Len(); k++ {
					lr := lrs.At(k)
					f := firing{event: lr.EventName()}
					if v, ok := lr.Attributes().Get(attrkey.ProcessExecutablePath); ok {
						f.exe = v.Str()
					}
					if v, ok := lr.Attributes().Get(attrkey.MatchedRules); ok {
						for _, r := range v.Slice().AsRaw() {
							f.rules = append(f.rules, r.(string))
						}
					}
					out = append(out, f)
				}
			}
		}
	}
	return out
}

// profileRules counts the unexpected_* rules over fs.
func profileRules(fs []firing) map[string]int {
	n := map[string]int{}
	for _, f := range fs {
		for _, r := range f.rules {
			if strings.HasPrefix(r, "unexpected_") {
				n[r]++
			}
		}
	}
	return n
}

// TestPipelineWithDetection: workload_profile → detection (built-in
// catalogue), both built by their factories as the collector builds them.
// Learning the benign container and then replaying the attack run in it
// fires unexpected_process on the attacker's exec; the benign behaviour
// fires no unexpected_* rule, neither while learning nor once enforcing.
func TestPipelineWithDetection(t *testing.T) {
	ctx := context.Background()
	sink := new(consumertest.LogsSink)
	detType := component.MustNewType("detection")
	det, err := detectionprocessor.NewFactory().CreateLogs(ctx, processortest.NewNopSettings(detType),
		detectionprocessor.NewFactory().CreateDefaultConfig(), sink)
	require.NoError(t, err)
	cfg := testConfig()
	wp, err := NewFactory().CreateLogs(ctx, processortest.NewNopSettings(metadata.Type), cfg, det)
	require.NoError(t, err)
	for _, c := range []component.Component{det, wp} {
		require.NoError(t, c.Start(ctx, componenttest.NewNopHost()))
	}
	defer func() {
		for _, c := range []component.Component{wp, det} {
			require.NoError(t, c.Shutdown(ctx))
		}
	}()
	consume := func(p processor.Logs, ld plog.Logs) []firing {
		sink.Reset()
		require.NoError(t, p.ConsumeLogs(ctx, ld))
		return firings(sink.AllLogs())
	}

	benign, attack := benignRecs(t), attackRecs(t)
	assert.Empty(t, profileRules(consume(wp, logsOf(benign, 0))), "while learning")
	assert.Empty(t, profileRules(consume(wp, logsOf(benign, cfg.Learning.Period+1))), "the learned behaviour, enforcing")

	fs := consume(wp, logsOf(attack, 0))
	got := profileRules(fs)
	t.Logf("attack replay through workload_profile → detection: %v", got)
	// The attacker's tool: the first of its execs (per parent) fires, the
	// repeats are held back by the rule's 1h suppression window.
	sysx, fired := 0, 0
	for _, f := range fs {
		if f.event == "tetragon.process_exec" && f.exe == "/usr/local/bin/sysx" {
			sysx++
			if slices.Contains(f.rules, "unexpected_process") {
				fired++
			}
		}
	}
	t.Logf("sysx: %d execs, unexpected_process on %d", sysx, fired)
	require.Positive(t, sysx, "no sysx exec in the attack run")
	assert.Positive(t, fired)
	assert.Positive(t, got["unexpected_process"])
	assert.Positive(t, got["unexpected_syscall"])
	assert.Positive(t, got["unexpected_file_access"])
}
