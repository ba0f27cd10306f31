// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package workloadprofileprocessor

import (
	"context"
	"errors"
	"sync"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/attrkey"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/workloadprofile"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/processor/workloadprofileprocessor/internal/metadata"
)

// statsMaxAge lets the async gauges of one metric collection share one walk
// of the profiles (Set.Stats) instead of one walk per instrument.
const statsMaxAge = time.Second

type profileProcessor struct {
	cfg      *Config
	logger   *zap.Logger
	id       component.ID
	tb       *metadata.TelemetryBuilder
	profiles *workloadprofile.Set
	reloader *reloader
	store    *stateStore // nil until start, and without storage
	now      func() time.Time

	statsMu     sync.Mutex
	stats       workloadprofile.Stats
	statsAt     time.Time
	statsMaxAge time.Duration

	stopCh chan struct{}
	done   chan struct{}
}

func newProcessor(set processor.Settings, cfg *Config) (*profileProcessor, error) {
	tb, err := metadata.NewTelemetryBuilder(set.TelemetrySettings)
	if err != nil {
		return nil, err
	}
	p := &profileProcessor{
		cfg:         cfg,
		logger:      set.Logger,
		id:          set.ID,
		tb:          tb,
		profiles:    workloadprofile.NewSet(cfg.profileConfig()),
		now:         time.Now,
		statsMaxAge: statsMaxAge,
	}
	if err := p.registerGauges(); err != nil {
		tb.Shutdown()
		return nil, err
	}
	p.reloader = newReloader(cfg, set.Logger, p.activateFiles, p.reloadFailed)
	if err := p.reloader.loadInitial(); err != nil {
		tb.Shutdown()
		return nil, err
	}
	return p, nil
}

func (p *profileProcessor) start(ctx context.Context, host component.Host) error {
	if p.cfg.Storage != nil {
		st, err := openStore(ctx, host, p)
		if err != nil {
			return err
		}
		p.store = st
		st.load(ctx)
	}
	if err := p.reloader.start(); err != nil {
		return err
	}
	p.startMaintenance()
	return nil
}

func (p *profileProcessor) shutdown(ctx context.Context) error {
	p.stopMaintenance()
	p.reloader.stop()
	if p.store != nil {
		p.store.save(ctx)
		p.store.close(ctx)
		p.store = nil
	}
	p.tb.Shutdown()
	return nil
}

// startMaintenance runs the periodic save (storage with save_interval) and
// prune (prune_after) off the hot path.
func (p *profileProcessor) startMaintenance() {
	save := p.store != nil && p.cfg.SaveInterval > 0
	if !save && p.cfg.PruneAfter <= 0 {
		return
	}
	every := p.cfg.SaveInterval
	if !save {
		every = time.Minute
	}
	p.stopCh, p.done = make(chan struct{}), make(chan struct{})
	go func() {
		defer close(p.done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-p.stopCh:
				return
			case <-t.C:
				p.prune()
				if save {
					p.store.save(context.Background())
				}
			}
		}
	}()
}

func (p *profileProcessor) stopMaintenance() {
	if p.stopCh == nil {
		return
	}
	close(p.stopCh)
	<-p.done
	p.stopCh = nil
}

// prune forgets learned profiles idle (event time) for prune_after.
func (p *profileProcessor) prune() {
	if p.cfg.PruneAfter <= 0 {
		return
	}
	if n := p.profiles.Prune(p.now().Add(-p.cfg.PruneAfter)); n > 0 {
		p.logger.Info("Forgot idle workload profiles", zap.Int("profiles", n), zap.Duration("prune_after", p.cfg.PruneAfter))
	}
}

func (p *profileProcessor) activateFiles(ps []*workloadprofile.Profile, reload bool) error {
	if err := p.profiles.SetFiles(ps); err != nil {
		return err
	}
	p.invalidateStats()
	if reload {
		p.tb.ProcessorWorkloadProfileReloads.Add(context.Background(), 1)
		p.logger.Info("Workload profile files reloaded", zap.Int("profiles", len(ps)))
	}
	return nil
}

func (p *profileProcessor) reloadFailed(reason string, err error) {
	p.tb.ProcessorWorkloadProfileReloadFailures.Add(context.Background(), 1,
		metric.WithAttributeSet(attribute.NewSet(attribute.String("reason", reason))))
	p.logger.Error("Workload profile files reload rejected; the previous file profiles stay active",
		zap.String("reason", reason), zap.Error(err))
}

func (p *profileProcessor) processLogs(_ context.Context, ld plog.Logs) (plog.Logs, error) {
	rls := ld.ResourceLogs()
	for i := 0; i < rls.Len(); i++ {
		rl := rls.At(i)
		res := rl.Resource().Attributes()
		if _, ok := workloadprofile.KeyOf(res); !ok {
			continue // a host process or a node-only record: untouched
		}
		sls := rl.ScopeLogs()
		for j := 0; j < sls.Len(); j++ {
			lrs := sls.At(j).LogRecords()
			for k := 0; k < lrs.Len(); k++ {
				p.mark(res, lrs.At(k))
			}
		}
	}
	return ld, nil
}

// mark observes one record in its workload's profile and writes the marks
// the unexpected_* rules read. Novelties are marked only by enforcing and
// file profiles: a learning profile adds them instead.
func (p *profileProcessor) mark(res pcommon.Map, lr plog.LogRecord) {
	r := p.profiles.Observe(workloadprofile.RecordOf(res, lr))
	if !r.Profiled {
		return
	}
	attrs := lr.Attributes()
	attrs.PutStr(attrkey.ProfileState, string(r.State))
	attrs.PutStr(attrkey.ProfileWorkload, r.Workload)
	if r.State == workloadprofile.StateLearning || len(r.Novel) == 0 {
		// A mark from an upstream instance would contradict this one's.
		attrs.Remove(attrkey.ProfileNovel)
		return
	}
	s := attrs.PutEmptySlice(attrkey.ProfileNovel)
	s.EnsureCapacity(len(r.Novel))
	for _, k := range r.Novel {
		s.AppendEmpty().SetStr(k)
	}
}

var (
	listNames = [...]string{"executables", "parent_child", "files", "syscalls", "ports", "peers"}
)

func attrOpt(key, value string) metric.ObserveOption {
	return metric.WithAttributeSet(attribute.NewSet(attribute.String(key, value)))
}

// currentStats returns Set.Stats, computed at most once per statsMaxAge.
func (p *profileProcessor) currentStats() workloadprofile.Stats {
	p.statsMu.Lock()
	defer p.statsMu.Unlock()
	if now := time.Now(); p.statsAt.IsZero() || now.Sub(p.statsAt) >= p.statsMaxAge {
		p.stats, p.statsAt = p.profiles.Stats(), now
	}
	return p.stats
}

func (p *profileProcessor) invalidateStats() {
	p.statsMu.Lock()
	p.statsAt = time.Time{}
	p.statsMu.Unlock()
}

// registerGauges registers the async instruments, all read from Set.Stats
// at collection time: nothing is counted per record.
func (p *profileProcessor) registerGauges() error {
	novelAttrs := make([]metric.ObserveOption, len(workloadprofile.Kinds))
	for i, k := range workloadprofile.Kinds {
		novelAttrs[i] = attrOpt("kind", k)
	}
	var listAttrs [len(listNames)]metric.ObserveOption
	for i, n := range listNames {
		listAttrs[i] = attrOpt("list", n)
	}
	stateObs := [3]metric.ObserveOption{
		attrOpt("state", attrkey.ProfileStateLearning),
		attrOpt("state", attrkey.ProfileStateEnforcing),
		attrOpt("state", attrkey.ProfileStateFile),
	}
	return errors.Join(
		p.tb.RegisterProcessorWorkloadProfileWorkloadsCallback(func(_ context.Context, o metric.Int64Observer) error {
			st := p.currentStats()
			o.Observe(int64(st.Learning), stateObs[0])
			o.Observe(int64(st.Enforcing), stateObs[1])
			o.Observe(int64(st.File), stateObs[2])
			return nil
		}),
		p.tb.RegisterProcessorWorkloadProfileItemsCallback(func(_ context.Context, o metric.Int64Observer) error {
			o.Observe(int64(p.currentStats().Items.Total()))
			return nil
		}),
		p.tb.RegisterProcessorWorkloadProfileLargestItemsCallback(func(_ context.Context, o metric.Int64Observer) error {
			o.Observe(int64(p.currentStats().MaxItems))
			return nil
		}),
		p.tb.RegisterProcessorWorkloadProfileOverflowItemsCallback(func(_ context.Context, o metric.Int64Observer) error {
			ov := p.currentStats().Overflow
			for i, v := range [...]int{ov.Executables, ov.ParentChild, ov.Files, ov.Syscalls, ov.Ports, ov.Peers} {
				o.Observe(int64(v), listAttrs[i])
			}
			return nil
		}),
		p.tb.RegisterProcessorWorkloadProfileNoveltiesCallback(func(_ context.Context, o metric.Int64Observer) error {
			st := p.currentStats()
			for i := range st.Novel {
				o.Observe(int64(st.Novel[i]), novelAttrs[i])
			}
			return nil
		}),
		p.tb.RegisterProcessorWorkloadProfileImageRestartsCallback(func(_ context.Context, o metric.Int64Observer) error {
			o.Observe(int64(p.currentStats().Restarts))
			return nil
		}),
		p.tb.RegisterProcessorWorkloadProfileUnprofiledRecordsCallback(func(_ context.Context, o metric.Int64Observer) error {
			o.Observe(int64(p.currentStats().UnprofiledRecords))
			return nil
		}),
	)
}
