// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package detectionmetricsconnector

import (
	"context"
	"sync"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/connector"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/connector/detectionmetricsconnector/internal/metadata"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/attrkey"
)

// Emitted metric names and units. The units are curly-brace annotations, so
// the Prometheus translators add no unit suffix: the names come out as
// runtime_security_events_total and runtime_security_detections_total.
const (
	eventsMetricName     = "runtime_security.events"
	eventsMetricUnit     = "{event}"
	eventsMetricDesc     = "Tetragon events seen, by event type, namespace, workload and node."
	detectionsMetricName = "runtime_security.detections"
	detectionsMetricUnit = "{detection}"
	detectionsMetricDesc = "Detection rule matches, one per matched rule of a record, by rule, severity, category, namespace, workload and node."

	scopeName = "github.com/otelcol-runtime-security/otelcol-runtime-security/connector/detectionmetricsconnector"
)

// Data point attribute keys; in Prometheus they are the label names.
const (
	labelEventType = "event_type"
	labelNamespace = "namespace"
	labelWorkload  = "workload"
	labelNode      = "node"
	labelRule      = "rule"
	labelSeverity  = "severity"
	labelCategory  = "category"
	// labelOverflow follows the OpenTelemetry SDK's cardinality-limit
	// convention; Prometheus shows it as otel_metric_overflow="true".
	labelOverflow = "otel.metric.overflow"
)

type detectionMetrics struct {
	cfg       *Config
	next      consumer.Metrics
	logger    *zap.Logger
	resource  pcommon.Resource
	telemetry *metadata.TelemetryBuilder

	eventsAttrs     metric.MeasurementOption
	detectionsAttrs metric.MeasurementOption

	// mu guards the tables; ConsumeLogs holds it for one record at a time.
	mu         sync.Mutex
	events     *table[eventKey]
	detections *table[detectionKey]
	// seriesCounts mirror len(table.series) for the telemetry callback.
	eventSeries, detectionSeries int64

	// flushMu serialises flushes (ticker and shutdown) and guards the
	// reusable snapshot buffers.
	flushMu        sync.Mutex
	eventPoints    []point[eventKey]
	detectionPts   []point[detectionKey]
	now            func() time.Time
	stopFlush      chan struct{}
	flushDone      chan struct{}
	shutdownCalled bool
}

var _ connector.Logs = (*detectionMetrics)(nil)

func newConnector(set connector.Settings, cfg *Config, next consumer.Metrics) (*detectionMetrics, error) {
	tb, err := metadata.NewTelemetryBuilder(set.TelemetrySettings)
	if err != nil {
		return nil, err
	}
	c := &detectionMetrics{
		cfg:             cfg,
		next:            next,
		logger:          set.Logger,
		resource:        set.Resource,
		telemetry:       tb,
		eventsAttrs:     metric.WithAttributeSet(attribute.NewSet(attribute.String("metric", eventsMetricName))),
		detectionsAttrs: metric.WithAttributeSet(attribute.NewSet(attribute.String("metric", detectionsMetricName))),
		events:          newTable[eventKey](cfg.MaxSeries.Events),
		detections:      newTable[detectionKey](cfg.MaxSeries.Detections),
		now:             time.Now,
	}
	err = tb.RegisterDetectionMetricsSeriesCallback(func(_ context.Context, o metric.Int64Observer) error {
		c.mu.Lock()
		ev, det := int64(len(c.events.series)), int64(len(c.detections.series))
		c.mu.Unlock()
		o.Observe(ev, c.eventsAttrs.(metric.ObserveOption))
		o.Observe(det, c.detectionsAttrs.(metric.ObserveOption))
		return nil
	})
	if err != nil {
		tb.Shutdown()
		return nil, err
	}
	return c, nil
}

func (c *detectionMetrics) Capabilities() consumer.Capabilities {
	return consumer.Capabilities{MutatesData: false}
}

func (c *detectionMetrics) Start(context.Context, component.Host) error {
	c.stopFlush = make(chan struct{})
	c.flushDone = make(chan struct{})
	go c.flushLoop(c.stopFlush, c.flushDone)
	return nil
}

func (c *detectionMetrics) flushLoop(stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	t := time.NewTicker(c.cfg.FlushInterval)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			if err := c.flush(context.Background()); err != nil {
				// The next flush sends the full cumulative state again, so
				// nothing is lost; Prometheus only misses this sample.
				c.logger.Warn("Exporting detection metrics failed; the next flush resends the cumulative state", zap.Error(err))
			}
		}
	}
}

// Shutdown stops the flush loop and sends the state one last time.
func (c *detectionMetrics) Shutdown(ctx context.Context) error {
	defer c.telemetry.Shutdown()
	if c.stopFlush == nil {
		return nil // never started
	}
	c.flushMu.Lock()
	already := c.shutdownCalled
	c.shutdownCalled = true
	c.flushMu.Unlock()
	if already {
		return nil
	}
	close(c.stopFlush)
	select {
	case <-c.flushDone:
	case <-ctx.Done():
		return ctx.Err()
	}
	return c.flush(ctx)
}

func (c *detectionMetrics) ConsumeLogs(_ context.Context, ld plog.Logs) error {
	rls := ld.ResourceLogs()
	for i := 0; i < rls.Len(); i++ {
		rl := rls.At(i)
		res := readResourceLabels(rl.Resource())
		sls := rl.ScopeLogs()
		for j := 0; j < sls.Len(); j++ {
			lrs := sls.At(j).LogRecords()
			for k := 0; k < lrs.Len(); k++ {
				c.count(res, lrs.At(k))
			}
		}
	}
	return nil
}

func (c *detectionMetrics) timestampNow() pcommon.Timestamp {
	return pcommon.NewTimestampFromTime(c.now())
}

// count adds one event and one detection per matched rule of lr.
func (c *detectionMetrics) count(res resourceLabels, lr plog.LogRecord) {
	ek := eventKey{eventType: eventType(lr), namespace: res.namespace, workload: res.workload, node: res.node}

	attrs := lr.Attributes()
	rules, hasRules := sliceAttr(attrs, attrkey.MatchedRules)
	var single string
	if !hasRules {
		// Tolerate a scalar runtime_security.rules, and records tagged only
		// with security_rule.name.
		if single = attrkey.Str(attrs, attrkey.MatchedRules); single == "" {
			single = attrkey.Str(attrs, attrkey.RuleName)
		}
	}

	c.mu.Lock()
	defer c.mu.Unlock()
	c.events.add(ek, c.timestampNow)
	if !hasRules && single == "" {
		return
	}

	recordSeverity := attrkey.Str(attrs, attrkey.Severity)
	recordCategory := attrkey.Str(attrs, attrkey.RuleCategory)
	dk := detectionKey{namespace: res.namespace, workload: res.workload, node: res.node}
	if !hasRules {
		dk.rule = single
		dk.severity = attrkey.NormalizeSeverity(recordSeverity)
		dk.category = orUnknown(recordCategory)
		c.detections.add(dk, c.timestampNow)
		return
	}
	severities, hasSeverities := sliceAttr(attrs, attrkey.RuleSeverities)
	categories, hasCategories := sliceAttr(attrs, attrkey.RuleCategories)
	for i := 0; i < rules.Len(); i++ {
		rv := rules.At(i)
		if rv.Type() != pcommon.ValueTypeStr || rv.Str() == "" {
			continue
		}
		dk.rule = rv.Str()
		sev := sliceStr(severities, hasSeverities, i)
		if sev == "" {
			sev = recordSeverity
		}
		dk.severity = attrkey.NormalizeSeverity(sev)
		cat := sliceStr(categories, hasCategories, i)
		if cat == "" {
			cat = recordCategory
		}
		dk.category = orUnknown(cat)
		c.detections.add(dk, c.timestampNow)
	}
}

// flush sends the full cumulative state of both metrics.
func (c *detectionMetrics) flush(ctx context.Context) error {
	c.flushMu.Lock()
	defer c.flushMu.Unlock()

	c.mu.Lock()
	c.eventPoints = c.events.snapshot(c.eventPoints[:0])
	c.detectionPts = c.detections.snapshot(c.detectionPts[:0])
	foldedEvents, foldedDetections := c.events.takeFolded(), c.detections.takeFolded()
	c.mu.Unlock()

	if foldedEvents > 0 {
		c.telemetry.DetectionMetricsOverflowIncrements.Add(ctx, foldedEvents, c.eventsAttrs.(metric.AddOption))
	}
	if foldedDetections > 0 {
		c.telemetry.DetectionMetricsOverflowIncrements.Add(ctx, foldedDetections, c.detectionsAttrs.(metric.AddOption))
	}
	if len(c.eventPoints) == 0 && len(c.detectionPts) == 0 {
		return nil
	}
	return c.next.ConsumeMetrics(ctx, c.buildMetrics(c.timestampNow()))
}

func (c *detectionMetrics) buildMetrics(now pcommon.Timestamp) pmetric.Metrics {
	md := pmetric.NewMetrics()
	rm := md.ResourceMetrics().AppendEmpty()
	c.resource.CopyTo(rm.Resource())
	sm := rm.ScopeMetrics().AppendEmpty()
	sm.Scope().SetName(scopeName)

	if len(c.eventPoints) > 0 {
		dps := newCumulativeSum(sm.Metrics().AppendEmpty(), eventsMetricName, eventsMetricUnit, eventsMetricDesc, len(c.eventPoints))
		for _, p := range c.eventPoints {
			dp := newDataPoint(dps, p.start, now, p.value)
			a := dp.Attributes()
			a.EnsureCapacity(5)
			a.PutStr(labelEventType, p.key.eventType)
			a.PutStr(labelNamespace, p.key.namespace)
			a.PutStr(labelWorkload, p.key.workload)
			a.PutStr(labelNode, p.key.node)
			if p.key.overflowed {
				a.PutStr(labelOverflow, "true")
			}
		}
	}
	if len(c.detectionPts) > 0 {
		dps := newCumulativeSum(sm.Metrics().AppendEmpty(), detectionsMetricName, detectionsMetricUnit, detectionsMetricDesc, len(c.detectionPts))
		for _, p := range c.detectionPts {
			dp := newDataPoint(dps, p.start, now, p.value)
			a := dp.Attributes()
			a.EnsureCapacity(7)
			a.PutStr(labelRule, p.key.rule)
			a.PutStr(labelSeverity, p.key.severity)
			a.PutStr(labelCategory, p.key.category)
			a.PutStr(labelNamespace, p.key.namespace)
			a.PutStr(labelWorkload, p.key.workload)
			a.PutStr(labelNode, p.key.node)
			if p.key.overflowed {
				a.PutStr(labelOverflow, "true")
			}
		}
	}
	return md
}

func newCumulativeSum(m pmetric.Metric, name, unit, desc string, n int) pmetric.NumberDataPointSlice {
	m.SetName(name)
	m.SetUnit(unit)
	m.SetDescription(desc)
	sum := m.SetEmptySum()
	sum.SetIsMonotonic(true)
	sum.SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
	dps := sum.DataPoints()
	dps.EnsureCapacity(n)
	return dps
}

func newDataPoint(dps pmetric.NumberDataPointSlice, start, now pcommon.Timestamp, value uint64) pmetric.NumberDataPoint {
	dp := dps.AppendEmpty()
	dp.SetStartTimestamp(start)
	dp.SetTimestamp(now)
	dp.SetIntValue(int64(value))
	return dp
}
