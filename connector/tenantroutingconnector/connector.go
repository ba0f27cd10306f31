// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package tenantroutingconnector

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cenkalti/backoff/v5"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/connector"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pipeline"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/connector/tenantroutingconnector/internal/metadata"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/attrkey"
)

// Backoff between deliveries of a tenant's part that its pipelines refused with a retryable
// error: the tetragon receiver's own retry schedule.
const (
	retryInitial = 100 * time.Millisecond
	retryMax     = 5 * time.Second
)

// maxGlobCache bounds the namespaces whose glob lookup is remembered; past it, lookups are
// computed each time (a cluster has far fewer namespaces).
const maxGlobCache = 10000

type tenantRouter struct {
	logger    *zap.Logger
	telemetry *metadata.TelemetryBuilder
	attribute string

	// Tenants by index: the configured tenants and default_tenant, sorted.
	names     []string
	attrs     []metric.MeasurementOption
	consumers []consumer.Logs
	def       int

	exact     map[string]int
	globs     []globIndex
	globCache sync.Map // namespace → int, for namespaces that reached the globs
	cacheLen  atomic.Int64

	retryInitial, retryMax time.Duration
	done                   chan struct{}
	shutdownOnce           sync.Once
}

type globIndex struct {
	re     *regexp.Regexp
	tenant int
}

var _ connector.Logs = (*tenantRouter)(nil)

func newTenantRouter(set connector.Settings, cfg *Config, next consumer.Logs) (*tenantRouter, error) {
	router, ok := next.(connector.LogsRouterAndConsumer)
	if !ok {
		return nil, errors.New("tenant_routing must be the exporter of a logs pipeline and the receiver of the tenants' logs pipelines (the collector passes it a router over them)")
	}
	rules, err := compileNamespaces(cfg.Tenants)
	if err != nil {
		return nil, err
	}
	tb, err := metadata.NewTelemetryBuilder(set.TelemetrySettings)
	if err != nil {
		return nil, err
	}
	r := &tenantRouter{
		logger:       set.Logger,
		telemetry:    tb,
		attribute:    cfg.Attribute,
		exact:        make(map[string]int, len(rules.exact)),
		retryInitial: retryInitial,
		retryMax:     retryMax,
		done:         make(chan struct{}),
	}
	names := slices.Sorted(maps.Keys(cfg.Pipelines))
	index := make(map[string]int, len(names))
	used := map[pipeline.ID]bool{}
	var errs []error
	for i, name := range names {
		index[name] = i
		c, err := router.Consumer(cfg.Pipelines[name]...)
		if err != nil {
			errs = append(errs, fmt.Errorf("pipelines::%s: %w (each must be a logs pipeline with %s among its receivers)", name, err, set.ID))
			continue
		}
		for _, id := range cfg.Pipelines[name] {
			used[id] = true
		}
		r.names = append(r.names, name)
		r.attrs = append(r.attrs, metric.WithAttributeSet(attribute.NewSet(attribute.String("tenant", name))))
		r.consumers = append(r.consumers, c)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	def, ok := index[cfg.DefaultTenant]
	if !ok {
		return nil, fmt.Errorf("default_tenant %q has no pipelines", cfg.DefaultTenant)
	}
	r.def = def
	tenantIndex := func(t string) (int, error) {
		i, ok := index[t]
		if !ok {
			return 0, fmt.Errorf("tenant %q has no pipelines", t)
		}
		return i, nil
	}
	for ns, t := range rules.exact {
		if r.exact[ns], err = tenantIndex(t); err != nil {
			return nil, err
		}
	}
	for _, g := range rules.globs {
		i, err := tenantIndex(g.tenant)
		if err != nil {
			return nil, err
		}
		r.globs = append(r.globs, globIndex{re: g.re, tenant: i})
	}
	for _, id := range router.PipelineIDs() {
		if !used[id] {
			set.Logger.Warn("pipeline receives from tenant_routing but no tenant is routed to it; it gets no records", zap.String("pipeline", id.String()))
		}
	}
	return r, nil
}

// Capabilities: with an attribute to write, the connector changes the resources it passes on,
// and it then moves the resources of a mixed batch into the tenants' parts instead of copying
// them. Without, it passes on what it gets unchanged (and copies the resources of a mixed batch).
func (r *tenantRouter) Capabilities() consumer.Capabilities {
	return consumer.Capabilities{MutatesData: r.attribute != ""}
}

func (r *tenantRouter) Start(context.Context, component.Host) error { return nil }

func (r *tenantRouter) Shutdown(context.Context) error {
	r.shutdownOnce.Do(func() { close(r.done) })
	r.telemetry.Shutdown()
	return nil
}

// tenantOf returns the index of the tenant of a resource's records. A namespace that is not a
// string reads as missing (attrkey.Str), as it does for the detection_metrics series.
func (r *tenantRouter) tenantOf(res pcommon.Resource) int {
	ns := attrkey.Str(res.Attributes(), attrkey.K8sNamespaceName)
	if ns == "" {
		return r.def
	}
	if t, ok := r.exact[ns]; ok {
		return t
	}
	if len(r.globs) == 0 {
		return r.def
	}
	if t, ok := r.globCache.Load(ns); ok {
		return t.(int)
	}
	t := r.def
	for _, g := range r.globs {
		if g.re.MatchString(ns) {
			t = g.tenant
			break
		}
	}
	if r.cacheLen.Load() < maxGlobCache {
		// The key may point into the batch: keep a copy of its own.
		if _, loaded := r.globCache.LoadOrStore(strings.Clone(ns), t); !loaded {
			r.cacheLen.Add(1)
		}
	}
	return t
}

// part is one tenant's share of a batch.
type part struct {
	tenant  int
	logs    plog.Logs
	records int
}

// ConsumeLogs routes every resource of ld, with its records, to its tenant's pipelines. A batch
// whose resources all belong to one tenant is passed on as it is; a mixed batch is split into one
// plog.Logs per tenant, each delivered once (see deliver for errors).
func (r *tenantRouter) ConsumeLogs(ctx context.Context, ld plog.Logs) error {
	rls := ld.ResourceLogs()
	n := rls.Len()
	if n == 0 {
		return nil
	}
	first := r.tenantOf(rls.At(0).Resource())
	var tenants []int // per resource; nil while every resource so far is first's
	for i := 1; i < n; i++ {
		t := r.tenantOf(rls.At(i).Resource())
		if tenants == nil && t != first {
			tenants = make([]int, n)
			for j := range i {
				tenants[j] = first
			}
		}
		if tenants != nil {
			tenants[i] = t
		}
	}
	if tenants == nil {
		if r.attribute != "" {
			for i := range n {
				rls.At(i).Resource().Attributes().PutStr(r.attribute, r.names[first])
			}
		}
		return r.deliver(ctx, []part{{tenant: first, logs: ld, records: ld.LogRecordCount()}})
	}

	// Mixed: one part per tenant, in order of first appearance, resources in their order.
	slot := make([]int, len(r.names)) // tenant → 1 + index in parts
	var parts []part
	for i := range n {
		t := tenants[i]
		if slot[t] == 0 {
			parts = append(parts, part{tenant: t, logs: plog.NewLogs()})
			slot[t] = len(parts)
		}
		p := &parts[slot[t]-1]
		src := rls.At(i)
		dst := p.logs.ResourceLogs().AppendEmpty()
		p.records += recordCount(src)
		if r.attribute != "" {
			// Declared as mutating: ld is ours to take apart.
			src.MoveTo(dst)
			dst.Resource().Attributes().PutStr(r.attribute, r.names[t])
		} else {
			src.CopyTo(dst)
		}
	}
	return r.deliver(ctx, parts)
}

func recordCount(rl plog.ResourceLogs) int {
	n := 0
	sls := rl.ScopeLogs()
	for i := range sls.Len() {
		n += sls.At(i).LogRecords().Len()
	}
	return n
}

// deliver hands every part to its tenant's pipelines once, so that one tenant's failure never
// makes another tenant's pipelines see its records twice. A part refused with a retryable error
// is delivered again, alone, with backoff, until it is accepted, refused permanently, or ctx (or
// the connector) is done; the pipeline is held meanwhile, as a blocking exporter queue would hold
// it. A part that is not accepted in the end is dropped and counted, and the connector returns a
// permanent error naming its tenants: never a retryable one, which would make the receiver send
// the whole batch again through every branch and every other tenant.
func (r *tenantRouter) deliver(ctx context.Context, parts []part) error {
	errs := make([]error, len(parts))
	for i, p := range parts {
		errs[i] = r.consumers[p.tenant].ConsumeLogs(ctx, p.logs)
	}
	var failed []error
	for i, p := range parts {
		err := errs[i]
		if err != nil && !consumererror.IsPermanent(err) {
			err = r.retry(ctx, p, err)
		}
		if err != nil {
			r.telemetry.TenantRoutingRecordsDropped.Add(ctx, int64(p.records), r.attrs[p.tenant])
			failed = append(failed, fmt.Errorf("tenant %q (%d records dropped): %w", r.names[p.tenant], p.records, err))
			continue
		}
		r.telemetry.TenantRoutingRecordsRouted.Add(ctx, int64(p.records), r.attrs[p.tenant])
	}
	if len(failed) == 0 {
		return nil
	}
	return consumererror.NewPermanent(errors.Join(failed...))
}

func (r *tenantRouter) retry(ctx context.Context, p part, err error) error {
	bo := backoff.NewExponentialBackOff()
	bo.InitialInterval = r.retryInitial
	bo.MaxInterval = r.retryMax
	name := r.names[p.tenant]
	r.logger.Warn("tenant's pipelines refused records; delivering them again to this tenant only (the pipeline waits meanwhile)",
		zap.String("tenant", name), zap.Int("records", p.records), zap.Error(err))
	for {
		t := time.NewTimer(bo.NextBackOff())
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("%w (still refused when the delivery was cancelled: %v)", err, ctx.Err())
		case <-r.done:
			t.Stop()
			return fmt.Errorf("%w (still refused at shutdown)", err)
		case <-t.C:
		}
		r.telemetry.TenantRoutingDeliveryRetries.Add(ctx, 1, r.attrs[p.tenant])
		err = r.consumers[p.tenant].ConsumeLogs(ctx, p.logs)
		if err == nil {
			r.logger.Info("tenant's pipelines accepted the records after retrying", zap.String("tenant", name), zap.Int("records", p.records))
			return nil
		}
		if consumererror.IsPermanent(err) {
			return err
		}
		r.logger.Debug("tenant's pipelines still refuse records", zap.String("tenant", name), zap.Error(err))
	}
}
