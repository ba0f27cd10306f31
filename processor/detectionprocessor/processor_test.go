// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package detectionprocessor

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/processor/processorhelper"
	"go.opentelemetry.io/collector/processor/processortest"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/metric/metricdata/metricdatatest"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/attrkey"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/testenv"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/processor/detectionprocessor/internal/metadata"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/processor/detectionprocessor/internal/metadatatest"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/processor/detectionprocessor/internal/rules"
)

// rec is one hand-built record: resource attributes, log attributes, EventName.
type rec struct {
	event    string
	resource map[string]any
	attrs    map[string]any
	sev      plog.SeverityNumber
}

func logsOf(t testing.TB, recs ...rec) plog.Logs {
	ld := plog.NewLogs()
	for _, r := range recs {
		rl := ld.ResourceLogs().AppendEmpty()
		require.NoError(t, rl.Resource().Attributes().FromRaw(r.resource))
		lr := rl.ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
		lr.SetEventName(r.event)
		sev := r.sev
		if sev == 0 {
			sev = plog.SeverityNumberInfo
		}
		lr.SetSeverityNumber(sev)
		lr.SetSeverityText(sev.String())
		require.NoError(t, lr.Attributes().FromRaw(r.attrs))
	}
	return ld
}

func execRec(ns, pod, exe, parent string) rec {
	return rec{
		event:    "tetragon.process_exec",
		resource: map[string]any{"k8s.namespace.name": ns, "k8s.pod.name": pod, "container.id": "c-" + pod},
		attrs: map[string]any{
			"process.executable.path":        "/bin/" + exe,
			"process.executable.name":        exe,
			"process.parent.executable.name": parent,
		},
	}
}

func openRec(pod, path string) rec {
	return rec{
		event:    "tetragon.process_kprobe",
		resource: map[string]any{"k8s.namespace.name": "default", "k8s.pod.name": pod},
		attrs: map[string]any{
			"tetragon.hook": "security_file_permission",
			"file.path":     path,
			"tetragon.args": []any{map[string]any{"file_arg": map[string]any{"path": path}}, map[string]any{"int_arg": int64(4)}},
		},
	}
}

func testConfig() *Config {
	cfg := createDefaultConfig().(*Config)
	cfg.BuiltinRules = false
	cfg.RulesFiles = []string{"testdata/rules.yaml"}
	cfg.ReloadInterval = 0
	return cfg
}

func newTestProcessor(t *testing.T, cfg *Config) (*detectionProcessor, *componenttest.Telemetry) {
	t.Helper()
	tel := componenttest.NewTelemetry()
	t.Cleanup(func() { require.NoError(t, tel.Shutdown(context.Background())) })
	p, err := newDetectionProcessor(metadatatest.NewSettings(tel), cfg)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, p.shutdown(context.Background())) })
	return p, tel
}

func firstRecord(ld plog.Logs) plog.LogRecord {
	return ld.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0)
}

func strSlice(t *testing.T, attrs pcommon.Map, key string) []any {
	t.Helper()
	v, ok := attrs.Get(key)
	require.True(t, ok, key)
	require.Equal(t, pcommon.ValueTypeSlice, v.Type(), key)
	return v.Slice().AsRaw()
}

func TestTaggingThroughFactory(t *testing.T) {
	sink := new(consumertest.LogsSink)
	proc, err := NewFactory().CreateLogs(context.Background(), processortest.NewNopSettings(metadata.Type), testConfig(), sink)
	require.NoError(t, err)
	require.NoError(t, proc.Start(context.Background(), componenttest.NewNopHost()))
	defer func() { require.NoError(t, proc.Shutdown(context.Background())) }()
	assert.True(t, proc.Capabilities().MutatesData)

	require.NoError(t, proc.ConsumeLogs(context.Background(), logsOf(t, execRec("default", "web-1", "bash", "nginx"))))
	require.Len(t, sink.AllLogs(), 1)
	lr := firstRecord(sink.AllLogs()[0])

	const top = "Shell spawned by web server"
	want := map[string]any{
		"process.executable.path":        "/bin/bash",
		"process.executable.name":        "bash",
		"process.parent.executable.name": "nginx",
		attrkey.RuleName:                 top,
		attrkey.RuleCategory:             "execution",
		attrkey.RuleDescription:          "A web server started a shell.",
		attrkey.RuleRulesetName:          "rules.yaml",
		attrkey.RuleReference:            "https://attack.mitre.org/techniques/T1190/",
		attrkey.RuleUUID:                 rules.RuleUUID(top),
		attrkey.Severity:                 "critical",
		attrkey.MatchedRules:             []any{top, "Shell in container"},
		attrkey.RuleSeverities:           []any{"critical", "warning"},
		attrkey.RuleCategories:           []any{"execution", "execution"},
		attrkey.ThreatTechniqueID:        []any{"T1190", "T1059.004"},
	}
	got := lr.Attributes().AsRaw()
	// The record opened an incident of its container with both rules (incident_test.go has the rest).
	assert.NotEmpty(t, got[attrkey.IncidentID])
	assert.Equal(t, []any{"Shell in container", top}, got[attrkey.IncidentRules])
	assert.Equal(t, int64(2), got[attrkey.IncidentDetections])
	assert.Equal(t, "critical", got[attrkey.IncidentSeverity])
	for k := range got {
		if strings.HasPrefix(k, "runtime_security.incident.") {
			delete(got, k)
		}
	}
	assert.Equal(t, want, got)
	assert.Equal(t, plog.SeverityNumberFatal, lr.SeverityNumber())
	assert.Equal(t, "FATAL", lr.SeverityText())
	// The UUID is a stable function of the name: uuid5(uuid5(NAMESPACE_URL,
	// "https://github.com/otelcol-runtime-security/otelcol-runtime-security/detection-rules"), name),
	// cross-checked with Python's uuid module.
	assert.Equal(t, "7e8d8ecb-e6b9-544d-964d-187d5b5b6849", rules.RuleUUID("Terminal shell in container"))
}

func TestSeverityMapping(t *testing.T) {
	p, _ := newTestProcessor(t, testConfig())
	tests := []struct {
		name     string
		in       rec
		before   plog.SeverityNumber
		wantNum  plog.SeverityNumber
		wantText string
		rule     string
	}{
		{"warning raises info", execRec("default", "p", "sh", "containerd-shim"), plog.SeverityNumberInfo, plog.SeverityNumberWarn, "WARN", "Shell in container"},
		{"critical raises info", execRec("default", "p", "sh", "httpd"), plog.SeverityNumberInfo, plog.SeverityNumberFatal, "FATAL", "Shell spawned by web server"},
		{"info keeps info", execRec("audited", "p", "ls", "x"), plog.SeverityNumberInfo, plog.SeverityNumberInfo, "Info", "Any exec in test namespace"},
		{"info raises trace", execRec("audited", "p", "ls", "x"), plog.SeverityNumberTrace, plog.SeverityNumberInfo, "INFO", "Any exec in test namespace"},
		{"never lowers", execRec("default", "p", "sh", "containerd-shim"), plog.SeverityNumberError, plog.SeverityNumberError, "Error", "Shell in container"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.in.sev = tt.before
			ld, err := p.processLogs(context.Background(), logsOf(t, tt.in))
			require.NoError(t, err)
			lr := firstRecord(ld)
			assert.Equal(t, tt.wantNum, lr.SeverityNumber())
			assert.Equal(t, tt.wantText, lr.SeverityText())
			name, _ := lr.Attributes().Get(attrkey.RuleName)
			assert.Equal(t, tt.rule, name.Str())
		})
	}
}

func TestHighestSeverityThenCatalogueOrder(t *testing.T) {
	rs, err := rules.Compile([]rules.Source{{Ruleset: "t", Path: "t", Data: []byte(`
rules:
  - {name: A-info, description: d, category: a, severity: info, event: tetragon.process_exec, condition: "true", mitre: [T1000]}
  - {name: B-warn, description: d, category: b, severity: warning, event: tetragon.process_exec, condition: "true", mitre: [T1001, T1000]}
  - {name: C-warn, description: d, category: c, severity: warning, event: tetragon.process_exec, condition: "true"}
`)}}, nil, nil)
	require.NoError(t, err)
	ms := []match{{rule: rs.Rule("A-info")}, {rule: rs.Rule("B-warn")}, {rule: rs.Rule("C-warn")}}
	orderMatches(ms)
	lr := plog.NewLogRecord()
	tag(lr, ms)
	name, _ := lr.Attributes().Get(attrkey.RuleName)
	assert.Equal(t, "B-warn", name.Str())
	assert.Equal(t, []any{"B-warn", "C-warn", "A-info"}, strSlice(t, lr.Attributes(), attrkey.MatchedRules))
	assert.Equal(t, []any{"T1001", "T1000"}, strSlice(t, lr.Attributes(), attrkey.ThreatTechniqueID))
	assert.Equal(t, plog.SeverityNumberWarn, lr.SeverityNumber())

	// A rule without techniques: no reference, no technique attribute.
	lr = plog.NewLogRecord()
	lr.Attributes().PutStr(attrkey.RuleReference, "stale")
	tag(lr, []match{{rule: rs.Rule("C-warn")}})
	_, hasRef := lr.Attributes().Get(attrkey.RuleReference)
	_, hasTech := lr.Attributes().Get(attrkey.ThreatTechniqueID)
	assert.False(t, hasRef)
	assert.False(t, hasTech)
}

func TestUnmatchedRecordsPassUntouched(t *testing.T) {
	p, tel := newTestProcessor(t, testConfig())
	in := logsOf(t,
		execRec("default", "p", "ls", "bash"), // no rule matches
		rec{event: "tetragon.process_exit", resource: map[string]any{}, attrs: map[string]any{"process.executable.name": "bash"}}, // no rule for the type
		openRec("p", "/etc/hostname"),
	)
	want := plog.NewLogs()
	in.CopyTo(want)
	got, err := p.processLogs(context.Background(), in)
	require.NoError(t, err)
	m := plog.JSONMarshaler{}
	wb, _ := m.MarshalLogs(want)
	gb, _ := m.MarshalLogs(got)
	assert.JSONEq(t, string(wb), string(gb))
	metadatatest.AssertEqualProcessorDetectionRulesLoaded(t, tel, []metricdata.DataPoint[int64]{
		{Value: 4, Attributes: attribute.NewSet(attribute.String("processor", "detection"))}}, metricdatatest.IgnoreTimestamp())
}

func TestDropUnmatched(t *testing.T) {
	cfg := testConfig()
	cfg.DropUnmatched = true
	sink := new(consumertest.LogsSink)
	tel := componenttest.NewTelemetry()
	defer func() { require.NoError(t, tel.Shutdown(context.Background())) }()
	proc, err := NewFactory().CreateLogs(context.Background(), metadatatest.NewSettings(tel), cfg, sink)
	require.NoError(t, err)
	require.NoError(t, proc.Start(context.Background(), componenttest.NewNopHost()))
	defer func() { require.NoError(t, proc.Shutdown(context.Background())) }()

	require.NoError(t, proc.ConsumeLogs(context.Background(), logsOf(t,
		execRec("default", "a", "ls", "x"),
		execRec("default", "b", "bash", "x"),
		openRec("c", "/etc/hostname"),
	)))
	require.Len(t, sink.AllLogs(), 1)
	got := sink.AllLogs()[0]
	require.Equal(t, 1, got.LogRecordCount())
	require.Equal(t, 1, got.ResourceLogs().Len(), "empty resources are removed")
	pod, _ := got.ResourceLogs().At(0).Resource().Attributes().Get("k8s.pod.name")
	assert.Equal(t, "b", pod.Str())

	// A batch with nothing left is not sent on at all.
	require.NoError(t, proc.ConsumeLogs(context.Background(), logsOf(t, execRec("default", "a", "ls", "x"))))
	assert.Len(t, sink.AllLogs(), 1)
	metadatatest.AssertEqualProcessorDetectionRecordsDropped(t, tel, []metricdata.DataPoint[int64]{{Value: 3}}, metricdatatest.IgnoreTimestamp())
}

// A second instance with no rules and drop_unmatched keeps exactly what an upstream instance
// tagged: the detections-only pipeline of distribution/config.yaml.
func TestDropUnmatchedKeepsUpstreamDetections(t *testing.T) {
	upstream, _ := newTestProcessor(t, testConfig())
	ld, err := upstream.processLogs(context.Background(), logsOf(t,
		execRec("default", "a", "ls", "x"),
		execRec("default", "b", "bash", "x"),
	))
	require.NoError(t, err)
	require.Equal(t, 2, ld.LogRecordCount())

	cfg := testConfig()
	cfg.BuiltinRules = false
	cfg.RulesFiles = nil
	cfg.DropUnmatched = true
	require.NoError(t, cfg.Validate())
	only, _ := newTestProcessor(t, cfg)
	require.True(t, only.selectsOnly())
	before := plog.NewLogs()
	ld.CopyTo(before)
	out, err := only.processLogs(context.Background(), ld)
	require.NoError(t, err)
	require.Equal(t, 1, out.LogRecordCount())
	pod, _ := out.ResourceLogs().At(0).Resource().Attributes().Get("k8s.pod.name")
	assert.Equal(t, "b", pod.Str())
	rule, ok := out.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0).Attributes().Get(attrkey.RuleName)
	require.True(t, ok)
	assert.NotEmpty(t, rule.Str())
	// It copies instead of deleting in place: the input is untouched, so the fan-out before it
	// need not clone (the instance declares it does not mutate).
	assert.Equal(t, before, ld)

	// Nothing tagged: the batch is skipped, not sent on empty.
	_, err = only.processLogs(context.Background(), logsOf(t, execRec("default", "a", "ls", "x")))
	require.ErrorIs(t, err, processorhelper.ErrSkipProcessingData)
}

func TestSelectOnlyInstanceDoesNotMutate(t *testing.T) {
	f := NewFactory()
	cfg := f.CreateDefaultConfig().(*Config)
	cfg.BuiltinRules = false
	cfg.DropUnmatched = true
	p, err := f.CreateLogs(context.Background(), processortest.NewNopSettings(f.Type()), cfg, consumertest.NewNop())
	require.NoError(t, err)
	assert.False(t, p.Capabilities().MutatesData, "a rule-less drop_unmatched instance copies; it must not force a clone upstream")

	cfg = f.CreateDefaultConfig().(*Config)
	cfg.DropUnmatched = true
	p, err = f.CreateLogs(context.Background(), processortest.NewNopSettings(f.Type()), cfg, consumertest.NewNop())
	require.NoError(t, err)
	assert.True(t, p.Capabilities().MutatesData, "an instance with rules tags records in place")
}

func TestSuppressionWindowAndCount(t *testing.T) {
	cfg := testConfig()
	cfg.DropUnmatched = true
	p, tel := newTestProcessor(t, cfg)
	now := time.Unix(1_700_000_000, 0)
	p.now = func() time.Time { return now }
	run := func(r rec) (tagged bool, suppressed int64) {
		ld, err := p.processLogs(context.Background(), logsOf(t, r))
		if err != nil {
			return false, 0
		}
		attrs := firstRecord(ld).Attributes()
		_, tagged = attrs.Get(attrkey.RuleName)
		if v, ok := attrs.Get(attrkey.SuppressedCount); ok {
			suppressed = v.Int()
		}
		return tagged, suppressed
	}
	tagged, n := run(openRec("db-0", "/etc/shadow"))
	require.True(t, tagged)
	require.Zero(t, n)
	for i := 0; i < 3; i++ {
		now = now.Add(10 * time.Second)
		tagged, _ = run(openRec("db-0", "/etc/shadow"))
		require.False(t, tagged, "repeat %d within the window must be suppressed (and dropped)", i)
	}
	// Other key values are independent.
	tagged, _ = run(openRec("db-1", "/etc/shadow"))
	require.True(t, tagged)
	tagged, _ = run(openRec("db-0", "/etc/sudoers.d/x"))
	require.True(t, tagged)
	// After the window the next detection is emitted with the count.
	now = now.Add(31 * time.Second)
	tagged, n = run(openRec("db-0", "/etc/shadow"))
	require.True(t, tagged)
	assert.Equal(t, int64(3), n)

	rule := attribute.NewSet(attribute.String("rule", "Sensitive file read"))
	metadatatest.AssertEqualProcessorDetectionSuppressed(t, tel, []metricdata.DataPoint[int64]{{Value: 3, Attributes: rule}}, metricdatatest.IgnoreTimestamp())
	metadatatest.AssertEqualProcessorDetectionMatches(t, tel, []metricdata.DataPoint[int64]{{Value: 4, Attributes: rule}}, metricdatatest.IgnoreTimestamp())
	metadatatest.AssertEqualProcessorDetectionRecordsDropped(t, tel, []metricdata.DataPoint[int64]{{Value: 3}}, metricdatatest.IgnoreTimestamp())
}

func TestSuppressedRuleLeavesOtherMatches(t *testing.T) {
	// A record suppressed for one rule still carries the others' detections.
	dir := t.TempDir()
	f := testenv.WriteFile(t, dir, "r.yaml", `
rules:
  - {name: Loud, description: d, category: c, severity: critical, event: tetragon.process_exec, condition: "true", suppress: {window: 1h, key: []}}
  - {name: Quiet, description: d, category: c, severity: info, event: tetragon.process_exec, condition: "true"}
`)
	cfg := testConfig()
	cfg.RulesFiles = []string{f}
	p, _ := newTestProcessor(t, cfg)
	ld, err := p.processLogs(context.Background(), logsOf(t, execRec("d", "p", "ls", "x"), execRec("d", "q", "ls", "x")))
	require.NoError(t, err)
	first := ld.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0).Attributes()
	second := ld.ResourceLogs().At(1).ScopeLogs().At(0).LogRecords().At(0).Attributes()
	assert.Equal(t, []any{"Loud", "Quiet"}, strSlice(t, first, attrkey.MatchedRules))
	assert.Equal(t, []any{"Quiet"}, strSlice(t, second, attrkey.MatchedRules))
	name, _ := second.Get(attrkey.RuleName)
	assert.Equal(t, "Quiet", name.Str())
}

func TestEvaluationErrorsAreCountedAndDoNotMatch(t *testing.T) {
	dir := t.TempDir()
	f := testenv.WriteFile(t, dir, "r.yaml", `
rules:
  - {name: Errs, description: d, category: c, severity: critical, event: tetragon.process_exec, condition: 'HasPrefix(attributes["nope"], "x")'}
  - {name: Fine, description: d, category: c, severity: info, event: tetragon.process_exec, condition: 'attributes["process.executable.name"] == "ls"'}
`)
	cfg := testConfig()
	cfg.RulesFiles = []string{f}
	p, tel := newTestProcessor(t, cfg)
	ld, err := p.processLogs(context.Background(), logsOf(t, execRec("d", "p", "ls", "x"), execRec("d", "p", "cat", "x")))
	require.NoError(t, err)
	assert.Equal(t, 2, ld.LogRecordCount())
	name, _ := firstRecord(ld).Attributes().Get(attrkey.RuleName)
	assert.Equal(t, "Fine", name.Str())
	metadatatest.AssertEqualProcessorDetectionEvaluationErrors(t, tel, []metricdata.DataPoint[int64]{
		{Value: 2, Attributes: attribute.NewSet(attribute.String("rule", "Errs"))},
	}, metricdatatest.IgnoreTimestamp())
	got, err := tel.GetMetric("otelcol_processor_detection_evaluation_time")
	require.NoError(t, err)
	h := got.Data.(metricdata.Histogram[float64])
	require.Len(t, h.DataPoints, 1)
	assert.Equal(t, uint64(1), h.DataPoints[0].Count)
}

// An escalated match carries the escalated severity everywhere: the record's severity, the
// per-rule severity list and the choice of the top rule.
func TestEscalatedSeverity(t *testing.T) {
	cfg := testConfig()
	cfg.RulesFiles = []string{"testdata/escalate.yaml"}
	p, _ := newTestProcessor(t, cfg)
	ld, err := p.processLogs(context.Background(), logsOf(t,
		execRec("shop", "web", "insmod", "sh"),
		execRec("kube-system", "kp", "insmod", "sh"),
	))
	require.NoError(t, err)
	want := map[string]string{"web": "critical", "kp": "warning"}
	wantNumber := map[string]plog.SeverityNumber{"web": plog.SeverityNumberFatal, "kp": plog.SeverityNumberWarn}
	rls := ld.ResourceLogs()
	require.Equal(t, 2, rls.Len())
	for i := 0; i < rls.Len(); i++ {
		pod, _ := rls.At(i).Resource().Attributes().Get("k8s.pod.name")
		lr := rls.At(i).ScopeLogs().At(0).LogRecords().At(0)
		sev, _ := lr.Attributes().Get(attrkey.Severity)
		assert.Equal(t, want[pod.Str()], sev.Str(), pod.Str())
		assert.Equal(t, wantNumber[pod.Str()], lr.SeverityNumber(), pod.Str())
		name, _ := lr.Attributes().Get(attrkey.RuleName)
		assert.Equal(t, "insmod_run", name.Str())
		sevs, _ := lr.Attributes().Get(attrkey.RuleSeverities)
		assert.Equal(t, []any{want[pod.Str()], "info"}, sevs.Slice().AsRaw(), pod.Str())
	}
}

func TestEscalationMustRaiseSeverity(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "r.yaml")
	require.NoError(t, os.WriteFile(f, []byte(`
rules:
  - name: r
    description: d
    category: c
    severity: critical
    event: tetragon.process_exec
    condition: "true"
    escalate: {severity: warning, condition: "true"}
`), 0o600))
	cfg := testConfig()
	cfg.RulesFiles = []string{f}
	err := cfg.Validate()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "escalate.severity")
	assert.Contains(t, err.Error(), "does not raise")
}

// mode: select is the explicit form of the detections-only instance: it loads no rule even with
// builtin_rules at its default, reports 0 rules under its own instance, and copies what it keeps;
// the older implicit combination still works, with a deprecation warning.
func TestModeSelect(t *testing.T) {
	f := NewFactory()
	cfg := f.CreateDefaultConfig().(*Config)
	cfg.Mode = ModeSelect
	require.NoError(t, cfg.Validate())
	tel := componenttest.NewTelemetry()
	defer func() { require.NoError(t, tel.Shutdown(context.Background())) }()
	set := metadatatest.NewSettings(tel)
	set.ID = component.NewIDWithName(metadata.Type, "detections_only")
	p, err := f.CreateLogs(context.Background(), set, cfg, consumertest.NewNop())
	require.NoError(t, err)
	assert.False(t, p.Capabilities().MutatesData)
	metadatatest.AssertEqualProcessorDetectionRulesLoaded(t, tel, []metricdata.DataPoint[int64]{
		{Value: 0, Attributes: attribute.NewSet(attribute.String("processor", "detection/detections_only"))}}, metricdatatest.IgnoreTimestamp())

	core, logs := observer.New(zapcore.WarnLevel)
	legacy := f.CreateDefaultConfig().(*Config)
	legacy.BuiltinRules, legacy.DropUnmatched = false, true
	lset := processortest.NewNopSettings(metadata.Type)
	lset.Logger = zap.New(core)
	lp, err := newDetectionProcessor(lset, legacy)
	require.NoError(t, err)
	assert.True(t, lp.selectsOnly())
	assert.Equal(t, 1, logs.FilterMessageSnippet("write mode: select").Len())
}
