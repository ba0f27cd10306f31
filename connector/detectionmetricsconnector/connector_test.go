// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package detectionmetricsconnector

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/otlptranslator"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/connector/connectortest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/metric/metricdata/metricdatatest"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/connector/detectionmetricsconnector/internal/metadata"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/connector/detectionmetricsconnector/internal/metadatatest"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/attrkey"
)

// --- test input builders ---------------------------------------------------

type res struct {
	namespace, workload, node, containerID, pod string
}

type rec struct {
	event      string   // EventName
	rules      []string // runtime_security.rules
	severity   string   // runtime_security.severity (top rule)
	category   string   // security_rule.category (top rule)
	severities []string // runtime_security.rule_severities
	categories []string // runtime_security.rule_categories
	ruleName   string   // security_rule.name only
}

func putIf(m pcommon.Map, k, v string) {
	if v != "" {
		m.PutStr(k, v)
	}
}

func putSlice(m pcommon.Map, k string, vs []string) {
	if vs == nil {
		return
	}
	s := m.PutEmptySlice(k)
	for _, v := range vs {
		s.AppendEmpty().SetStr(v)
	}
}

// addResource appends a ResourceLogs with records.
func addResource(ld plog.Logs, r res, recs ...rec) {
	rl := ld.ResourceLogs().AppendEmpty()
	a := rl.Resource().Attributes()
	putIf(a, attrkey.K8sNamespaceName, r.namespace)
	putIf(a, attrkey.K8sWorkloadName, r.workload)
	putIf(a, attrkey.K8sNodeName, r.node)
	putIf(a, attrkey.ContainerID, r.containerID)
	putIf(a, attrkey.K8sPodName, r.pod)
	lrs := rl.ScopeLogs().AppendEmpty().LogRecords()
	for _, x := range recs {
		lr := lrs.AppendEmpty()
		lr.SetEventName(x.event)
		la := lr.Attributes()
		la.PutStr(attrkey.ProcessExecutablePath, "/bin/sh") // must not become a label
		la.PutInt(attrkey.ProcessPID, 4242)
		putSlice(la, attrkey.MatchedRules, x.rules)
		putIf(la, attrkey.Severity, x.severity)
		putIf(la, attrkey.RuleCategory, x.category)
		putSlice(la, attrkey.RuleSeverities, x.severities)
		putSlice(la, attrkey.RuleCategories, x.categories)
		putIf(la, attrkey.RuleName, x.ruleName)
	}
}

// --- output flattening -----------------------------------------------------

type gotPoint struct {
	metric string
	labels string // sorted k=v list
	value  int64
	start  pcommon.Timestamp
	ts     pcommon.Timestamp
}

func labelString(m pcommon.Map) string {
	var parts []string
	m.Range(func(k string, v pcommon.Value) bool {
		parts = append(parts, k+"="+v.AsString())
		return true
	})
	sort.Strings(parts)
	return strings.Join(parts, ",")
}

// flatten checks the metric shape and returns every data point, sorted.
func flatten(t *testing.T, md pmetric.Metrics) []gotPoint {
	t.Helper()
	var out []gotPoint
	for i := 0; i < md.ResourceMetrics().Len(); i++ {
		rm := md.ResourceMetrics().At(i)
		for j := 0; j < rm.ScopeMetrics().Len(); j++ {
			sm := rm.ScopeMetrics().At(j)
			for k := 0; k < sm.Metrics().Len(); k++ {
				m := sm.Metrics().At(k)
				require.Equal(t, pmetric.MetricTypeSum, m.Type(), m.Name())
				require.True(t, m.Sum().IsMonotonic(), m.Name())
				require.Equal(t, pmetric.AggregationTemporalityCumulative, m.Sum().AggregationTemporality(), m.Name())
				for d := 0; d < m.Sum().DataPoints().Len(); d++ {
					dp := m.Sum().DataPoints().At(d)
					require.Equal(t, pmetric.NumberDataPointValueTypeInt, dp.ValueType())
					out = append(out, gotPoint{m.Name(), labelString(dp.Attributes()), dp.IntValue(), dp.StartTimestamp(), dp.Timestamp()})
				}
			}
		}
	}
	sort.Slice(out, func(a, b int) bool {
		if out[a].metric != out[b].metric {
			return out[a].metric < out[b].metric
		}
		return out[a].labels < out[b].labels
	})
	return out
}

// values maps "metric{labels}" to the value, for compact exact comparisons.
func values(points []gotPoint) map[string]int64 {
	m := make(map[string]int64, len(points))
	for _, p := range points {
		m[p.metric+"{"+p.labels+"}"] = p.value
	}
	return m
}

// --- harness -----------------------------------------------------------------

type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time { return c.t }

func (c *fakeClock) advance(d time.Duration) { c.t = c.t.Add(d) }

func newTestConnector(t testing.TB, cfg *Config, tel *componenttest.Telemetry) (*detectionMetrics, *consumertest.MetricsSink, *fakeClock) {
	t.Helper()
	set := connectortest.NewNopSettings(metadata.Type)
	if tel != nil {
		set = metadatatest.NewSettings(tel)
	}
	set.Resource.Attributes().PutStr("service.name", "otelcol-runtime-security")
	set.Resource.Attributes().PutStr("service.instance.id", "instance-1")
	sink := new(consumertest.MetricsSink)
	c, err := newConnector(set, cfg, sink)
	require.NoError(t, err)
	clock := &fakeClock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	c.now = clock.now
	t.Cleanup(func() { c.telemetry.Shutdown() })
	return c, sink, clock
}

func ts(t time.Time) pcommon.Timestamp { return pcommon.NewTimestampFromTime(t) }

// --- tests -------------------------------------------------------------------

func TestCountsAndLabels(t *testing.T) {
	c, sink, _ := newTestConnector(t, createDefaultConfig(), nil)
	ld := plog.NewLogs()
	web := res{namespace: "shop", workload: "web", node: "node-a", pod: "web-7d9f-abcde", containerID: "c1"}
	addResource(ld, web,
		rec{event: "tetragon.process_exec"},
		rec{event: "tetragon.process_exec"},
		rec{event: "tetragon.process_exec", rules: []string{"terminal_shell_in_container"}, severity: "warning", category: "execution"},
		rec{event: "tetragon.process_kprobe", rules: []string{"reverse_shell", "network_recon_tool"}, severity: "critical", category: "execution"},
	)
	// A second pod of the same workload: same series, pod is not a label.
	addResource(ld, res{namespace: "shop", workload: "web", node: "node-a", pod: "web-7d9f-zzzzz", containerID: "c2"},
		rec{event: "tetragon.process_exec", rules: []string{"terminal_shell_in_container"}, severity: "warning", category: "execution"},
	)
	addResource(ld, res{namespace: "db", workload: "postgres", node: "node-b"},
		rec{event: "tetragon.process_exit"},
	)
	require.NoError(t, c.ConsumeLogs(context.Background(), ld))
	require.NoError(t, c.flush(context.Background()))

	require.Len(t, sink.AllMetrics(), 1)
	md := sink.AllMetrics()[0]
	assert.Equal(t, map[string]int64{
		"runtime_security.events{event_type=process_exec,namespace=shop,node=node-a,workload=web}":                                                  4,
		"runtime_security.events{event_type=process_kprobe,namespace=shop,node=node-a,workload=web}":                                                1,
		"runtime_security.events{event_type=process_exit,namespace=db,node=node-b,workload=postgres}":                                               1,
		"runtime_security.detections{category=execution,namespace=shop,node=node-a,rule=terminal_shell_in_container,severity=warning,workload=web}": 2,
		"runtime_security.detections{category=execution,namespace=shop,node=node-a,rule=reverse_shell,severity=critical,workload=web}":              1,
		// Without per-rule severities every matched rule gets the record's.
		"runtime_security.detections{category=execution,namespace=shop,node=node-a,rule=network_recon_tool,severity=critical,workload=web}": 1,
	}, values(flatten(t, md)))

	// Metric metadata and the service-level resource.
	rm := md.ResourceMetrics().At(0)
	assert.Equal(t, map[string]any{"service.name": "otelcol-runtime-security", "service.instance.id": "instance-1"}, rm.Resource().Attributes().AsRaw())
	ms := rm.ScopeMetrics().At(0).Metrics()
	require.Equal(t, 2, ms.Len())
	assert.Equal(t, "runtime_security.events", ms.At(0).Name())
	assert.Equal(t, "{event}", ms.At(0).Unit())
	assert.Equal(t, "runtime_security.detections", ms.At(1).Name())
	assert.Equal(t, "{detection}", ms.At(1).Unit())
}

func TestPerRuleSeverityAndCategory(t *testing.T) {
	c, sink, _ := newTestConnector(t, createDefaultConfig(), nil)
	ld := plog.NewLogs()
	addResource(ld, res{namespace: "ns", workload: "w", node: "n"},
		// The processor's per-rule slices win over the record-level top values.
		rec{event: "tetragon.process_exec", rules: []string{"reverse_shell", "network_recon_tool", "terminal_shell_in_container"},
			severity: "critical", category: "execution",
			severities: []string{"critical", "warning", "info"}, categories: []string{"execution", "discovery", "execution"}},
		// Slices shorter than the rule list, or with an empty entry, fall back per rule.
		rec{event: "tetragon.process_exec", rules: []string{"crypto_miner", "ptrace_attach"},
			severity: "Critical", category: "impact", severities: []string{""}, categories: []string{"impact"}},
		// Unknown severity values become warning; missing category _unknown.
		rec{event: "tetragon.process_exec", rules: []string{"custom_rule"}, severity: "high"},
		// A record tagged only with security_rule.name still counts.
		rec{event: "tetragon.process_exec", ruleName: "legacy_rule", severity: "info", category: "discovery"},
		// Empty rule names are ignored.
		rec{event: "tetragon.process_exec", rules: []string{""}, severity: "critical"},
	)
	require.NoError(t, c.ConsumeLogs(context.Background(), ld))
	require.NoError(t, c.flush(context.Background()))
	got := values(flatten(t, sink.AllMetrics()[0]))
	want := map[string]int64{
		"runtime_security.events{event_type=process_exec,namespace=ns,node=n,workload=w}":                                               5,
		"runtime_security.detections{category=execution,namespace=ns,node=n,rule=reverse_shell,severity=critical,workload=w}":           1,
		"runtime_security.detections{category=discovery,namespace=ns,node=n,rule=network_recon_tool,severity=warning,workload=w}":       1,
		"runtime_security.detections{category=execution,namespace=ns,node=n,rule=terminal_shell_in_container,severity=info,workload=w}": 1,
		"runtime_security.detections{category=impact,namespace=ns,node=n,rule=crypto_miner,severity=critical,workload=w}":               1,
		"runtime_security.detections{category=impact,namespace=ns,node=n,rule=ptrace_attach,severity=critical,workload=w}":              1,
		"runtime_security.detections{category=_unknown,namespace=ns,node=n,rule=custom_rule,severity=warning,workload=w}":               1,
		"runtime_security.detections{category=discovery,namespace=ns,node=n,rule=legacy_rule,severity=info,workload=w}":                 1,
	}
	assert.Equal(t, want, got)
}

func TestPlaceholders(t *testing.T) {
	c, sink, _ := newTestConnector(t, createDefaultConfig(), nil)
	ld := plog.NewLogs()
	addResource(ld, res{node: "node-a"}, rec{event: "tetragon.process_exec"})                               // host process
	addResource(ld, res{node: "node-a", containerID: "abc"}, rec{event: "tetragon.process_exec"})           // docker container
	addResource(ld, res{namespace: "ns", node: "node-a", pod: "bare"}, rec{event: "tetragon.process_exec"}) // pod without workload
	addResource(ld, res{namespace: "ns", workload: "w"}, rec{event: ""})                                    // no node, no event name
	addResource(ld, res{namespace: "ns", workload: "w", node: "n"}, rec{event: "custom.event"})             // foreign prefix kept
	require.NoError(t, c.ConsumeLogs(context.Background(), ld))
	require.NoError(t, c.flush(context.Background()))
	assert.Equal(t, map[string]int64{
		"runtime_security.events{event_type=process_exec,namespace=_host,node=node-a,workload=_host}":           1,
		"runtime_security.events{event_type=process_exec,namespace=_container,node=node-a,workload=_container}": 1,
		"runtime_security.events{event_type=process_exec,namespace=ns,node=node-a,workload=_unknown}":           1,
		"runtime_security.events{event_type=_unknown,namespace=ns,node=_unknown,workload=w}":                    1,
		"runtime_security.events{event_type=custom.event,namespace=ns,node=n,workload=w}":                       1,
	}, values(flatten(t, sink.AllMetrics()[0])))
}

func TestCumulativeStartTimesStableAcrossFlushes(t *testing.T) {
	c, sink, clock := newTestConnector(t, createDefaultConfig(), nil)
	ctx := context.Background()
	t0 := clock.t

	one := func(ns string, rules ...string) plog.Logs {
		ld := plog.NewLogs()
		addResource(ld, res{namespace: ns, workload: "w", node: "n"}, rec{event: "tetragon.process_exec", rules: rules, severity: "critical", category: "execution"})
		return ld
	}
	require.NoError(t, c.ConsumeLogs(ctx, one("a", "reverse_shell")))
	clock.advance(15 * time.Second)
	t1 := clock.t
	require.NoError(t, c.flush(ctx))

	clock.advance(5 * time.Second)
	t2 := clock.t
	require.NoError(t, c.ConsumeLogs(ctx, one("a", "reverse_shell")))
	require.NoError(t, c.ConsumeLogs(ctx, one("b")))
	clock.advance(10 * time.Second)
	t3 := clock.t
	require.NoError(t, c.flush(ctx))
	// A flush without new records resends the same cumulative state.
	clock.advance(15 * time.Second)
	t4 := clock.t
	require.NoError(t, c.flush(ctx))

	all := sink.AllMetrics()
	require.Len(t, all, 3)
	assert.Equal(t, []gotPoint{
		{"runtime_security.detections", "category=execution,namespace=a,node=n,rule=reverse_shell,severity=critical,workload=w", 1, ts(t0), ts(t1)},
		{"runtime_security.events", "event_type=process_exec,namespace=a,node=n,workload=w", 1, ts(t0), ts(t1)},
	}, flatten(t, all[0]))
	want2 := []gotPoint{
		{"runtime_security.detections", "category=execution,namespace=a,node=n,rule=reverse_shell,severity=critical,workload=w", 2, ts(t0), ts(t3)},
		{"runtime_security.events", "event_type=process_exec,namespace=a,node=n,workload=w", 2, ts(t0), ts(t3)},
		{"runtime_security.events", "event_type=process_exec,namespace=b,node=n,workload=w", 1, ts(t2), ts(t3)},
	}
	assert.Equal(t, want2, flatten(t, all[1]))
	for i := range want2 {
		want2[i].ts = ts(t4)
	}
	assert.Equal(t, want2, flatten(t, all[2]))
}

func TestNothingEmittedBeforeFirstRecord(t *testing.T) {
	c, sink, _ := newTestConnector(t, createDefaultConfig(), nil)
	require.NoError(t, c.flush(context.Background()))
	assert.Empty(t, sink.AllMetrics())
}

func TestSeriesCapFoldsIntoOverflow(t *testing.T) {
	tel := componenttest.NewTelemetry()
	t.Cleanup(func() { require.NoError(t, tel.Shutdown(context.Background())) })
	cfg := createDefaultConfig()
	cfg.MaxSeries = MaxSeriesConfig{Events: 2, Detections: 2}
	c, sink, _ := newTestConnector(t, cfg, tel)

	ld := plog.NewLogs()
	for i := range 4 {
		addResource(ld, res{namespace: fmt.Sprintf("ns%d", i), workload: "w", node: "n"},
			rec{event: "tetragon.process_exec", rules: []string{"reverse_shell", "network_recon_tool"}, severities: []string{"critical", "warning"}, category: "execution"},
			rec{event: "tetragon.process_exec"},
		)
	}
	// Known series keep counting after the cap is reached.
	addResource(ld, res{namespace: "ns0", workload: "w", node: "n"}, rec{event: "tetragon.process_exec"})
	require.NoError(t, c.ConsumeLogs(context.Background(), ld))
	require.NoError(t, c.flush(context.Background()))

	assert.Equal(t, map[string]int64{
		"runtime_security.events{event_type=process_exec,namespace=ns0,node=n,workload=w}":                                              3,
		"runtime_security.events{event_type=process_exec,namespace=ns1,node=n,workload=w}":                                              2,
		"runtime_security.events{event_type=_overflow,namespace=_overflow,node=_overflow,otel.metric.overflow=true,workload=_overflow}": 4,
		"runtime_security.detections{category=execution,namespace=ns0,node=n,rule=reverse_shell,severity=critical,workload=w}":          1,
		"runtime_security.detections{category=execution,namespace=ns0,node=n,rule=network_recon_tool,severity=warning,workload=w}":      1,
		// The overflow series keeps severity so folded critical detections still page.
		"runtime_security.detections{category=_overflow,namespace=_overflow,node=_overflow,otel.metric.overflow=true,rule=_overflow,severity=critical,workload=_overflow}": 3,
		"runtime_security.detections{category=_overflow,namespace=_overflow,node=_overflow,otel.metric.overflow=true,rule=_overflow,severity=warning,workload=_overflow}":  3,
	}, values(flatten(t, sink.AllMetrics()[0])))

	metadatatest.AssertEqualDetectionMetricsOverflowIncrements(t, tel, []metricdata.DataPoint[int64]{
		{Attributes: attribute.NewSet(attribute.String("metric", "runtime_security.events")), Value: 4},
		{Attributes: attribute.NewSet(attribute.String("metric", "runtime_security.detections")), Value: 6},
	}, metricdatatest.IgnoreTimestamp())
	metadatatest.AssertEqualDetectionMetricsSeries(t, tel, []metricdata.DataPoint[int64]{
		{Attributes: attribute.NewSet(attribute.String("metric", "runtime_security.events")), Value: 3},
		{Attributes: attribute.NewSet(attribute.String("metric", "runtime_security.detections")), Value: 4},
	}, metricdatatest.IgnoreTimestamp())

	// The telemetry counter is cumulative too: a second flush adds only the
	// increments folded since the first.
	ld = plog.NewLogs()
	addResource(ld, res{namespace: "ns9", workload: "w", node: "n"}, rec{event: "tetragon.process_exec"})
	require.NoError(t, c.ConsumeLogs(context.Background(), ld))
	require.NoError(t, c.flush(context.Background()))
	metadatatest.AssertEqualDetectionMetricsOverflowIncrements(t, tel, []metricdata.DataPoint[int64]{
		{Attributes: attribute.NewSet(attribute.String("metric", "runtime_security.events")), Value: 5},
		{Attributes: attribute.NewSet(attribute.String("metric", "runtime_security.detections")), Value: 6},
	}, metricdatatest.IgnoreTimestamp())
}

// TestPrometheusNames runs the emitted names through the translator the
// prometheus_remote_write exporter uses (with its default suffixes on), so the
// names the alert rules and dashboards query are checked, not assumed.
func TestPrometheusNames(t *testing.T) {
	cfg := createDefaultConfig()
	cfg.MaxSeries = MaxSeriesConfig{Events: 1, Detections: 1} // so that the overflow label shows up too
	c, sink, _ := newTestConnector(t, cfg, nil)
	ld := plog.NewLogs()
	addResource(ld, res{namespace: "a", workload: "w", node: "n"}, rec{event: "tetragon.process_exec", rules: []string{"r"}, severity: "critical"})
	addResource(ld, res{namespace: "b", workload: "w", node: "n"}, rec{event: "tetragon.process_exec", rules: []string{"r"}, severity: "critical"})
	require.NoError(t, c.ConsumeLogs(context.Background(), ld))
	require.NoError(t, c.flush(context.Background()))

	for _, utf8 := range []bool{false, true} {
		namer := otlptranslator.MetricNamer{WithMetricSuffixes: true, UTF8Allowed: utf8}
		labeler := otlptranslator.LabelNamer{PreserveMultipleUnderscores: true, UTF8Allowed: false}
		names := map[string][]string{}
		ms := sink.AllMetrics()[0].ResourceMetrics().At(0).ScopeMetrics().At(0).Metrics()
		for i := 0; i < ms.Len(); i++ {
			m := ms.At(i)
			name, err := namer.Build(otlptranslator.Metric{Name: m.Name(), Unit: m.Unit(), Type: otlptranslator.MetricTypeMonotonicCounter})
			require.NoError(t, err)
			labels := map[string]bool{}
			dps := m.Sum().DataPoints()
			for d := 0; d < dps.Len(); d++ {
				dps.At(d).Attributes().Range(func(k string, _ pcommon.Value) bool {
					l, err := labeler.Build(k)
					require.NoError(t, err)
					labels[l] = true
					return true
				})
			}
			var ls []string
			for l := range labels {
				ls = append(ls, l)
			}
			sort.Strings(ls)
			names[name] = ls
		}
		if utf8 {
			// With UTF-8 names allowed the dots stay: runtime_security.events_total.
			assert.Contains(t, names, "runtime_security.events_total")
			continue
		}
		assert.Equal(t, map[string][]string{
			"runtime_security_events_total":     {"event_type", "namespace", "node", "otel_metric_overflow", "workload"},
			"runtime_security_detections_total": {"category", "namespace", "node", "otel_metric_overflow", "rule", "severity", "workload"},
		}, names)
	}
}
