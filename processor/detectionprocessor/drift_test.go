// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package detectionprocessor

import (
	"context"
	"fmt"
	"path"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/processor/processorhelper"
	"go.opentelemetry.io/collector/processor/processortest"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/metric/metricdata/metricdatatest"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/attrkey"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/processor/detectionprocessor/internal/metadata"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/processor/detectionprocessor/internal/metadatatest"
)

const driftCtr = "3f2b1c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f809"

// createRec is a sys_enter_openat tracepoint record (O_WRONLY|O_CREAT|O_TRUNC) in container ctr,
// shaped like the tetragon receiver's.
func createRec(ctr, path string) rec {
	return rec{
		event:    "tetragon.process_tracepoint",
		resource: map[string]any{"k8s.namespace.name": "shop", "k8s.pod.name": "web-1", "container.id": ctr},
		attrs: map[string]any{
			"process.executable.path": "/bin/sh", "process.executable.name": "sh", "process.working_directory": "/",
			"tetragon.hook": "syscalls/sys_enter_openat", "tetragon.syscall.name": "openat", "file.path": path,
			"tetragon.args": []any{
				map[string]any{"int_arg": int64(-100)}, map[string]any{"string_arg": path},
				map[string]any{"int_arg": int64(577)}, map[string]any{"uint_arg": int64(0o666)},
			},
		},
	}
}

// runRec is a process_exec of path in container ctr.
func runRec(ctr, exe string) rec {
	return rec{
		event:    "tetragon.process_exec",
		resource: map[string]any{"k8s.namespace.name": "shop", "k8s.pod.name": "web-1", "container.id": ctr},
		attrs: map[string]any{
			"process.executable.path": exe, "process.executable.name": path.Base(exe), "process.working_directory": "/",
			"process.parent.executable.path": "/bin/sh", "process.parent.executable.name": "sh",
			"tetragon.process.arguments": "", "tetragon.exec_id": "ZXhlYzox",
		},
	}
}

func builtinProcessor(t *testing.T, mutate func(*Config)) (*detectionProcessor, *componenttest.Telemetry) {
	cfg := createDefaultConfig().(*Config)
	cfg.ReloadInterval = 0
	if mutate != nil {
		mutate(cfg)
	}
	return newTestProcessor(t, cfg)
}

func records(ld plog.Logs) []plog.LogRecord {
	var out []plog.LogRecord
	forEachRecord(ld, func(lr plog.LogRecord) { out = append(out, lr) })
	return out
}

func TestContainerDriftThroughFactory(t *testing.T) {
	sink := new(consumertest.LogsSink)
	cfg := createDefaultConfig().(*Config)
	cfg.ReloadInterval = 0
	proc, err := NewFactory().CreateLogs(context.Background(), processortest.NewNopSettings(metadata.Type), cfg, sink)
	require.NoError(t, err)
	require.NoError(t, proc.Start(context.Background(), componenttest.NewNopHost()))
	defer func() { require.NoError(t, proc.Shutdown(context.Background())) }()

	// One batch: the write, then the execution (in one ResourceLogs per record, as logsOf builds them).
	require.NoError(t, proc.ConsumeLogs(context.Background(), logsOf(t, createRec(driftCtr, "/usr/bin/newfile"), runRec(driftCtr, "/usr/bin/newfile"))))
	// Another batch: the same file run again, and a file nobody wrote.
	require.NoError(t, proc.ConsumeLogs(context.Background(), logsOf(t, runRec(driftCtr, "/usr/bin/newfile"), runRec(driftCtr, "/usr/bin/envtool"))))
	require.Len(t, sink.AllLogs(), 2)

	first := records(sink.AllLogs()[0])
	require.Len(t, first, 2)
	_, marked := first[0].Attributes().Get(attrkey.RuntimeSecurityDrift)
	assert.False(t, marked, "the write itself carries no mark")
	for i, lr := range []plog.LogRecord{first[1], records(sink.AllLogs()[1])[0]} {
		attrs := lr.Attributes()
		v, ok := attrs.Get(attrkey.RuntimeSecurityDrift)
		require.True(t, ok, "exec %d not marked", i)
		assert.Equal(t, "openat", v.Str())
		if i == 0 {
			assert.Contains(t, strSlice(t, attrs, attrkey.MatchedRules), "container_drift")
		} else {
			// The rule's suppress window (per container and path) holds the repeat back.
			_, tagged := attrs.Get(attrkey.RuleName)
			assert.False(t, tagged)
		}
	}
	other := records(sink.AllLogs()[1])[1].Attributes()
	_, marked = other.Get(attrkey.RuntimeSecurityDrift)
	assert.False(t, marked)
}

func TestContainerDriftTagging(t *testing.T) {
	p, _ := builtinProcessor(t, nil)
	ld, err := p.processLogs(context.Background(), logsOf(t, createRec(driftCtr, "/usr/bin/newfile"), runRec(driftCtr, "/usr/bin/newfile")))
	require.NoError(t, err)
	lr := records(ld)[1]
	assert.Equal(t, "container_drift", get(lr.Attributes(), attrkey.RuleName))
	assert.Equal(t, "critical", get(lr.Attributes(), attrkey.Severity))
	assert.Equal(t, "defense_evasion", get(lr.Attributes(), attrkey.RuleCategory))
	assert.Equal(t, plog.SeverityNumberFatal, lr.SeverityNumber())

	// Another container running a file of that name is not drift.
	ld, err = p.processLogs(context.Background(), logsOf(t, runRec("9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b", "/usr/bin/newfile")))
	require.NoError(t, err)
	_, ok := records(ld)[0].Attributes().Get(attrkey.RuntimeSecurityDrift)
	assert.False(t, ok)
}

func TestContainerDriftDisabled(t *testing.T) {
	p, _ := builtinProcessor(t, func(c *Config) { c.Drift.Enabled = false })
	assert.Nil(t, p.drift)
	ld, err := p.processLogs(context.Background(), logsOf(t, createRec(driftCtr, "/usr/bin/newfile"), runRec(driftCtr, "/usr/bin/newfile")))
	require.NoError(t, err)
	_, ok := records(ld)[1].Attributes().Get(attrkey.RuntimeSecurityDrift)
	assert.False(t, ok)
}

// The detections-only instance (drop_unmatched, no rules) evaluates nothing and tracks nothing: it
// must not remember the first instance's writes, nor modify its input.
func TestContainerDriftNotInSelectOnlyInstance(t *testing.T) {
	p, _ := builtinProcessor(t, func(c *Config) { c.BuiltinRules, c.DropUnmatched = false, true })
	require.True(t, p.selectsOnly())
	assert.Nil(t, p.drift)
	in := logsOf(t, createRec(driftCtr, "/usr/bin/newfile"), runRec(driftCtr, "/usr/bin/newfile"))
	before := plog.NewLogs()
	in.CopyTo(before)
	_, err := p.processLogs(context.Background(), in)
	assert.ErrorIs(t, err, processorhelper.ErrSkipProcessingData)
	assert.Equal(t, before, in)
}

func TestContainerDriftEvictionsAreCounted(t *testing.T) {
	p, tel := builtinProcessor(t, func(c *Config) { c.Drift.MaxEntries = 2 })
	now := time.Unix(1_800_000_000, 0)
	p.now = func() time.Time { return now }
	_, err := p.processLogs(context.Background(), logsOf(t,
		createRec(driftCtr, "/a/tool1"), createRec(driftCtr, "/a/tool2"), createRec(driftCtr, "/a/tool3")))
	require.NoError(t, err)
	metadatatest.AssertEqualProcessorDetectionDriftEntriesEvicted(t, tel, []metricdata.DataPoint[int64]{{Value: 1}}, metricdatatest.IgnoreTimestamp())
	assert.Equal(t, 2, p.drift.Len())

	// The records' own time is the tracker's clock: a write stamped 2h after the others expires them
	// (no eviction), and an execution of an expired file is not marked.
	late := createRec(driftCtr, "/a/tool4")
	ld := logsOf(t, late)
	records(ld)[0].SetTimestamp(pcommon.NewTimestampFromTime(now.Add(2 * time.Hour)))
	_, err = p.processLogs(context.Background(), ld)
	require.NoError(t, err)
	metadatatest.AssertEqualProcessorDetectionDriftEntriesEvicted(t, tel, []metricdata.DataPoint[int64]{{Value: 1}}, metricdatatest.IgnoreTimestamp())
	ld, err = p.processLogs(context.Background(), logsOf(t, runRec(driftCtr, "/a/tool3")))
	require.NoError(t, err)
	_, ok := records(ld)[0].Attributes().Get(attrkey.RuntimeSecurityDrift)
	assert.False(t, ok, "expired entry marked")
}

// BenchmarkContainerDrift measures the per-record cost with the built-in catalogue while the drift
// tracker holds 10,000 files (BenchmarkProcessRecord runs with an empty tracker): records the
// tracker ignores (exit, a read permission check), execs of files nobody wrote, a rewrite of a
// tracked file, an exec of a tracked file (marked, then suppressed), and the same records with
// drift.enabled: false.
func BenchmarkContainerDrift(b *testing.B) {
	for _, enabled := range []bool{true, false} {
		cfg := createDefaultConfig().(*Config)
		cfg.ReloadInterval = 0
		cfg.Drift.Enabled = enabled
		p, err := newDetectionProcessor(processortest.NewNopSettings(metadata.Type), cfg)
		if err != nil {
			b.Fatal(err)
		}
		if enabled {
			for i := range 10000 {
				if _, err := p.processLogs(context.Background(), logsOf(b, createRec(driftCtr, "/usr/local/bin/tool-"+strconv.Itoa(i)))); err != nil {
					b.Fatal(err)
				}
			}
			if p.drift.Len() != 10000 {
				b.Fatalf("%d entries tracked", p.drift.Len())
			}
		}
		for _, c := range []struct {
			name string
			r    rec
		}{
			{"exit", rec{event: "tetragon.process_exit", resource: map[string]any{"container.id": driftCtr}, attrs: map[string]any{"process.pid": int64(1)}}},
			{"kprobe_benign_file", benchKprobe("/usr/share/zoneinfo/UTC")},
			{"exec_benign", benchExec("ls", "bash")},
			{"exec_untracked", runRec(driftCtr, "/usr/bin/env")},
			{"create_tracked", createRec(driftCtr, "/usr/local/bin/tool-5000")},
			{"exec_tracked", runRec(driftCtr, "/usr/local/bin/tool-5000")},
		} {
			b.Run(fmt.Sprintf("drift=%v/%s", enabled, c.name), func(b *testing.B) {
				ld := logsOf(b, c.r)
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					if _, err := p.processLogs(context.Background(), ld); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
