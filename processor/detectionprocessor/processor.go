// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package detectionprocessor

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/ottl/contexts/ottllog"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/collector/processor/processorhelper"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/attrkey"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/ratelog"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/processor/detectionprocessor/internal/drift"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/processor/detectionprocessor/internal/incident"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/processor/detectionprocessor/internal/metadata"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/processor/detectionprocessor/internal/rulefuncs"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/processor/detectionprocessor/internal/rules"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/processor/detectionprocessor/internal/suppress"
)

// state is one compiled ruleset with what the hot path needs precomputed.
type state struct {
	rs *rules.Ruleset
	// ruleAttrs[r.Order] is the metric attribute option {rule=r.Name}.
	ruleAttrs []metric.MeasurementOption
}

func newState(rs *rules.Ruleset) *state {
	tagged := rs.Tagged() // rules, then chains: what a match can name
	st := &state{rs: rs, ruleAttrs: make([]metric.MeasurementOption, len(tagged))}
	for _, r := range tagged {
		st.ruleAttrs[r.Order] = metric.WithAttributeSet(attribute.NewSet(attribute.String("rule", r.Name)))
	}
	return st
}

type detectionProcessor struct {
	cfg      *Config
	logger   *zap.Logger
	tb       *metadata.TelemetryBuilder
	state    atomic.Pointer[state]
	suppress *suppress.Cache
	now      func() time.Time
	errLog   *ratelog.Logger // rule evaluation errors: one line per rule per interval
	instance metric.MeasurementOption
	reloader *reloader
	// drift marks executions of files created or made executable in the same container; nil when
	// drift.enabled is false and in a select-only instance.
	drift *drift.Tracker
	// incidents joins detections into incidents and runs the chain rules; nil when
	// incidents.enabled is false and in a select-only instance.
	incidents *incident.Tracker

	bufPool sync.Pool // *[]match / *[]*rules.Rule scratch per batch
}

type scratch struct {
	rules      []*rules.Rule
	severities []rules.Severity // per rules[i], escalation applied
	matches    []match
	key        []byte
}

func newDetectionProcessor(set processor.Settings, cfg *Config) (*detectionProcessor, error) {
	tb, err := metadata.NewTelemetryBuilder(set.TelemetrySettings)
	if err != nil {
		return nil, err
	}
	if cfg.legacySelect() {
		set.Logger.Warn("builtin_rules: false with drop_unmatched: true and no rules_files is read as mode: select; this form is deprecated, write mode: select")
	}
	if cfg.selects() {
		// Nothing to load: a select instance evaluates no rule.
		c := *cfg
		c.Mode, c.BuiltinRules, c.RulesFiles, c.DisabledRules = ModeSelect, false, nil, nil
		cfg = &c
	}
	p := &detectionProcessor{
		cfg:      cfg,
		logger:   set.Logger,
		tb:       tb,
		suppress: suppress.New(cfg.MaxSuppressionKeys),
		now:      time.Now,
		errLog:   ratelog.New(set.Logger, ratelog.DefaultInterval),
		// rules_loaded is told apart per instance: a collector runs a detect and a select one.
		instance: metric.WithAttributeSet(attribute.NewSet(attribute.String("processor", set.ID.String()))),
	}
	p.bufPool.New = func() any { return &scratch{} }
	if cfg.Drift.Enabled && !p.selectsOnly() {
		p.drift = drift.New(cfg.Drift.MaxEntries, cfg.Drift.TTL, func() int64 { return p.now().UnixNano() })
	}
	if cfg.Incidents.Enabled && !p.selectsOnly() {
		p.incidents = incident.New(cfg.Incidents.MaxIncidents, cfg.Incidents.Window, func() int64 { return p.now().UnixNano() })
	}
	p.reloader = newReloader(cfg, set.Logger, p.activate, p.reloadFailed)
	rs, err := p.reloader.loadInitial()
	if err != nil {
		return nil, err
	}
	p.activate(rs, false)
	return p, nil
}

func (p *detectionProcessor) start(_ context.Context, _ component.Host) error {
	return p.reloader.start()
}

func (p *detectionProcessor) shutdown(context.Context) error {
	p.reloader.stop()
	p.errLog.Close()
	p.tb.Shutdown()
	return nil
}

// activate swaps in a new ruleset. reload is false for the initial load.
func (p *detectionProcessor) activate(rs *rules.Ruleset, reload bool) {
	p.state.Store(newState(rs))
	p.tb.ProcessorDetectionRulesLoaded.Record(context.Background(), int64(rs.EnabledCount()), p.instance)
	if reload {
		p.tb.ProcessorDetectionReloads.Add(context.Background(), 1)
		p.logger.Info("Detection rules reloaded", zap.Int("rules_enabled", rs.EnabledCount()), zap.Int("rules_total", len(rs.Rules())))
	}
}

// reloadFailed counts and logs a rejected reload against the file of its first problem.
func (p *detectionProcessor) reloadFailed(reason, file string, err error) {
	p.tb.ProcessorDetectionReloadFailures.Add(context.Background(), 1,
		metric.WithAttributeSet(attribute.NewSet(attribute.String("reason", reason), attribute.String("file", file))))
	p.logger.Error("Detection rules reload rejected; the previous rules stay active", zap.String("reason", reason), zap.String("file", file), zap.Error(err))
}

// selectsOnly reports whether this instance evaluates no rule of its own and only keeps the records
// an upstream instance tagged (the detections-only pipeline). It never needs to modify its input.
// newDetectionProcessor has already read the legacy form as mode select.
func (p *detectionProcessor) selectsOnly() bool { return p.cfg.Mode == ModeSelect }

func (p *detectionProcessor) processLogs(ctx context.Context, ld plog.Logs) (plog.Logs, error) {
	if p.selectsOnly() {
		return p.selectDetections(ctx, ld)
	}
	st := p.state.Load()
	start := time.Now()
	sc := p.bufPool.Get().(*scratch)
	defer p.bufPool.Put(sc)
	drop := p.cfg.DropUnmatched
	var dropped int64
	rls := ld.ResourceLogs()
	rls.RemoveIf(func(rl plog.ResourceLogs) bool {
		rl.ScopeLogs().RemoveIf(func(sl plog.ScopeLogs) bool {
			sl.LogRecords().RemoveIf(func(lr plog.LogRecord) bool {
				if p.processRecord(ctx, st, sc, rl, sl, lr) || !drop || carriesDetection(lr) {
					return false
				}
				dropped++
				return true
			})
			return drop && sl.LogRecords().Len() == 0
		})
		return drop && rl.ScopeLogs().Len() == 0
	})
	p.tb.ProcessorDetectionEvaluationTime.Record(ctx, time.Since(start).Seconds())
	if dropped > 0 {
		p.tb.ProcessorDetectionRecordsDropped.Add(ctx, dropped)
	}
	if p.incidents != nil {
		p.tb.ProcessorDetectionIncidentsActive.Record(ctx, int64(p.incidents.Len()))
	}
	if drop && rls.Len() == 0 {
		return ld, processorhelper.ErrSkipProcessingData
	}
	return ld, nil
}

// selectDetections returns a new batch holding copies of the records that carry a detection, with
// their resources and scopes; ld is left untouched (the instance declares MutatesData: false).
func (p *detectionProcessor) selectDetections(ctx context.Context, ld plog.Logs) (plog.Logs, error) {
	start := time.Now()
	out := plog.NewLogs()
	var dropped int64
	rls := ld.ResourceLogs()
	for i := 0; i < rls.Len(); i++ {
		rl := rls.At(i)
		var outRL plog.ResourceLogs
		haveRL := false
		sls := rl.ScopeLogs()
		for j := 0; j < sls.Len(); j++ {
			sl := sls.At(j)
			var outSL plog.ScopeLogs
			haveSL := false
			lrs := sl.LogRecords()
			for k := 0; k < lrs.Len(); k++ {
				lr := lrs.At(k)
				if !carriesDetection(lr) {
					dropped++
					continue
				}
				if !haveRL {
					outRL = out.ResourceLogs().AppendEmpty()
					rl.Resource().CopyTo(outRL.Resource())
					outRL.SetSchemaUrl(rl.SchemaUrl())
					haveRL = true
				}
				if !haveSL {
					outSL = outRL.ScopeLogs().AppendEmpty()
					sl.Scope().CopyTo(outSL.Scope())
					outSL.SetSchemaUrl(sl.SchemaUrl())
					haveSL = true
				}
				lr.CopyTo(outSL.LogRecords().AppendEmpty())
			}
		}
	}
	p.tb.ProcessorDetectionEvaluationTime.Record(ctx, time.Since(start).Seconds())
	if dropped > 0 {
		p.tb.ProcessorDetectionRecordsDropped.Add(ctx, dropped)
	}
	if out.ResourceLogs().Len() == 0 {
		return out, processorhelper.ErrSkipProcessingData
	}
	return out, nil
}

// processRecord evaluates and tags one record; it reports whether the record
// carries a (non-suppressed) detection.
func (p *detectionProcessor) processRecord(ctx context.Context, st *state, sc *scratch, rl plog.ResourceLogs, sl plog.ScopeLogs, lr plog.LogRecord) bool {
	if p.drift != nil {
		// Before the rules, so that they see runtime_security.drift on the exec it marks.
		if p.drift.Track(lr.EventName(), rl.Resource().Attributes(), lr.Attributes(), eventTime(lr)).Evicted {
			p.tb.ProcessorDetectionDriftEntriesEvicted.Add(ctx, 1)
		}
	}
	hasRules := st.rs.HasRulesFor(lr.EventName())
	// A chain waiting for a condition step makes every record a candidate, detection or not.
	chainsWait := p.incidents != nil && p.incidents.PendingConditions()
	if !hasRules && !chainsWait {
		return false
	}
	tc := ottllog.NewTransformContext(rl, sl, lr)
	defer tc.Close()
	onError := func(r *rules.Rule, err error) {
		p.tb.ProcessorDetectionEvaluationErrors.Add(ctx, 1, st.ruleAttrs[r.Order])
		p.logEvalError(r, err)
	}
	sc.rules, sc.severities = sc.rules[:0], sc.severities[:0]
	if hasRules {
		sc.rules = st.rs.Evaluate(ctx, tc, sc.rules, onError)
		for _, r := range sc.rules {
			sev, err := r.SeverityFor(ctx, tc)
			if err != nil {
				onError(r, err)
			}
			sc.severities = append(sc.severities, sev)
		}
	}
	if len(sc.rules) == 0 && !chainsWait {
		return false
	}
	ms := p.unsuppressed(ctx, st, sc, rl, lr)
	var inc incident.Result
	if p.incidents != nil {
		inc = p.observeIncident(ctx, st, tc, rl, lr, sc)
		for _, c := range inc.Fired {
			ms = append(ms, match{rule: c.Rule, severity: c.Rule.Severity})
		}
	}
	sc.matches = ms
	if len(ms) > 0 {
		orderMatches(ms)
		tag(lr, ms)
		for _, m := range ms {
			p.tb.ProcessorDetectionMatches.Add(ctx, 1, st.ruleAttrs[m.rule.Order])
		}
	}
	if inc.In {
		// Suppressed repeats and condition steps carry the incident too: evidence on its timeline.
		tagIncident(lr, inc)
	}
	return len(ms) > 0
}

// unsuppressed returns the matches of sc.rules that their suppress windows let through.
func (p *detectionProcessor) unsuppressed(ctx context.Context, st *state, sc *scratch, rl plog.ResourceLogs, lr plog.LogRecord) []match {
	ms := sc.matches[:0]
	var now time.Time
	for i, r := range sc.rules {
		m := match{rule: r, severity: sc.severities[i]}
		if r.Suppress != nil {
			if now.IsZero() {
				now = p.now()
			}
			sc.key = suppressionKey(sc.key[:0], r, rl.Resource().Attributes(), lr.Attributes())
			d := p.suppress.Observe(string(sc.key), r.Suppress.Window, now)
			if d.Evicted {
				p.tb.ProcessorDetectionSuppressionKeysEvicted.Add(ctx, 1)
			}
			if !d.Emit {
				p.tb.ProcessorDetectionSuppressed.Add(ctx, 1, st.ruleAttrs[r.Order])
				continue
			}
			m.suppressed = d.SuppressedSince
		}
		ms = append(ms, m)
	}
	return ms
}

// observeIncident hands the record and every rule it matched (suppressed repeats included: they
// are steps and counts of the incident) to the incident tracker.
func (p *detectionProcessor) observeIncident(ctx context.Context, st *state, tc rulefuncs.TC, rl plog.ResourceLogs, lr plog.LogRecord, sc *scratch) incident.Result {
	attrs := lr.Attributes()
	ppid, hasPPID := attrs.Get(attrkey.ProcessParentPID)
	o := incident.Observation{
		Container:    attrkey.ContainerKey(attrkey.Str(rl.Resource().Attributes(), attrkey.ContainerID)),
		ExecID:       attrkey.Str(attrs, attrkey.TetragonExecID),
		ParentExecID: attrkey.Str(attrs, attrkey.TetragonParentExecID),
		// Everything descends from init and kthreadd: following them would join unrelated trees.
		FollowParent: hasPPID && ppid.Type() == pcommon.ValueTypeInt && ppid.Int() > 2,
		Time:         eventTime(lr),
		Matched:      sc.rules,
		Severities:   sc.severities,
	}
	res := p.incidents.Observe(o, st.rs.EnabledChains(), func(c *rules.Chain, step *rules.ChainStep) bool {
		ok, err := step.Eval(ctx, tc)
		if err != nil {
			p.tb.ProcessorDetectionEvaluationErrors.Add(ctx, 1, st.ruleAttrs[c.Rule.Order])
			p.logEvalError(c.Rule, err)
		}
		return ok
	})
	if res.Opened {
		p.tb.ProcessorDetectionIncidentsOpened.Add(ctx, 1)
	}
	if res.Evicted {
		p.tb.ProcessorDetectionIncidentsEvicted.Add(ctx, 1)
	}
	return res
}

// eventTime is the record's time in unix nanoseconds for the drift tracker: Tetragon's event time,
// else when the receiver observed it, else 0 (the tracker then reads p.now, if it needs a time).
func eventTime(lr plog.LogRecord) int64 {
	if ts := lr.Timestamp(); ts != 0 {
		return int64(ts)
	}
	return int64(lr.ObservedTimestamp())
}

// carriesDetection reports whether an upstream detection processor already tagged the record, so
// that a second instance with drop_unmatched and no rules of its own keeps exactly the detections.
func carriesDetection(lr plog.LogRecord) bool {
	_, ok := lr.Attributes().Get(attrkey.RuleName)
	return ok
}

// suppressionKey is the rule name and the key attributes' values, NUL-separated.
func suppressionKey(dst []byte, r *rules.Rule, res, attrs pcommon.Map) []byte {
	dst = append(dst, r.Name...)
	for _, f := range r.Suppress.Key {
		dst = append(dst, 0)
		if v, ok := f.Get(res, attrs); ok {
			if v.Type() == pcommon.ValueTypeStr {
				dst = append(dst, v.Str()...)
			} else {
				dst = append(dst, v.AsString()...)
			}
		}
	}
	return dst
}

// logEvalError logs a rule (or chain step) that failed to evaluate, at most once per rule per
// interval with the count of the occurrences in between (internal/ratelog).
func (p *detectionProcessor) logEvalError(r *rules.Rule, err error) {
	p.errLog.Warn(r.Name, "Detection rule condition failed to evaluate; the rule is treated as not matching", func() []zap.Field {
		return []zap.Field{zap.String("rule", r.Name), zap.String("file", r.File), zap.Error(err), zap.String("condition", strings.TrimSpace(r.Condition))}
	})
}
