// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package tenantroutingconnector

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/connector"
	"go.opentelemetry.io/collector/connector/connectortest"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pipeline"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/metric/metricdata/metricdatatest"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/connector/tenantroutingconnector/internal/metadata"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/connector/tenantroutingconnector/internal/metadatatest"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/attrkey"
)

// noNS stands for a resource without k8s.namespace.name (a process of the node).
const noNS = "<none>"

// makeLogs returns one resource per namespace, each with two records whose bodies name the
// resource's position and namespace.
func makeLogs(namespaces ...string) plog.Logs {
	ld := plog.NewLogs()
	for i, ns := range namespaces {
		rl := ld.ResourceLogs().AppendEmpty()
		if ns != noNS {
			rl.Resource().Attributes().PutStr(attrkey.K8sNamespaceName, ns)
		}
		rl.Resource().Attributes().PutStr(attrkey.K8sPodName, fmt.Sprintf("pod-%d", i))
		sl := rl.ScopeLogs().AppendEmpty()
		for j := range 2 {
			sl.LogRecords().AppendEmpty().Body().SetStr(fmt.Sprintf("%d:%s:%d", i, ns, j))
		}
	}
	return ld
}

// received lists "namespace/pod" per resource of everything a sink got, and the tenant
// attribute of each resource ("-" when absent).
func received(sink *consumertest.LogsSink, attr string) (resources, tenants []string) {
	for _, ld := range sink.AllLogs() {
		for i := range ld.ResourceLogs().Len() {
			res := ld.ResourceLogs().At(i).Resource().Attributes()
			ns, ok := res.Get(attrkey.K8sNamespaceName)
			name := noNS
			if ok {
				name = ns.Str()
			}
			pod, _ := res.Get(attrkey.K8sPodName)
			resources = append(resources, name+"/"+pod.Str())
			tenant := "-"
			if v, ok := res.Get(attr); ok {
				tenant = v.Str()
			}
			tenants = append(tenants, tenant)
		}
	}
	return resources, tenants
}

func testConfig() *Config {
	cfg := createDefaultConfig()
	cfg.Tenants = map[string][]string{
		"team-a": {"shop", "shop-*"},
		"team-b": {"billing", "pay-{eu,us}"},
	}
	cfg.DefaultTenant = "platform"
	cfg.Pipelines = map[string][]pipeline.ID{
		"team-a":   {logsID("team-a")},
		"team-b":   {logsID("team-b")},
		"platform": {logsID("platform")},
	}
	return cfg
}

type fixture struct {
	conn  connector.Logs
	r     *tenantRouter
	sinks map[string]*consumertest.LogsSink
	tel   *componenttest.Telemetry
}

// newFixture builds the connector through its factory, with a router over one sink per pipeline
// of cfg (or the consumers given in override).
func newFixture(t *testing.T, cfg *Config, override map[string]consumer.Logs) *fixture {
	t.Helper()
	require.NoError(t, cfg.Validate())
	f := &fixture{sinks: map[string]*consumertest.LogsSink{}, tel: componenttest.NewTelemetry()}
	t.Cleanup(func() { require.NoError(t, f.tel.Shutdown(context.Background())) })
	consumers := map[pipeline.ID]consumer.Logs{}
	for _, ids := range cfg.Pipelines {
		for _, id := range ids {
			if c, ok := override[id.String()]; ok {
				consumers[id] = c
				continue
			}
			sink := new(consumertest.LogsSink)
			f.sinks[id.String()] = sink
			consumers[id] = sink
		}
	}
	conn, err := NewFactory().CreateLogsToLogs(context.Background(), metadatatest.NewSettings(f.tel), cfg, connector.NewLogsRouter(consumers))
	require.NoError(t, err)
	require.NoError(t, conn.Start(context.Background(), componenttest.NewNopHost()))
	t.Cleanup(func() { require.NoError(t, conn.Shutdown(context.Background())) })
	f.conn = conn
	f.r = conn.(*tenantRouter)
	f.r.retryInitial, f.r.retryMax = time.Millisecond, 5*time.Millisecond
	return f
}

func TestRoutesMixedBatch(t *testing.T) {
	for _, attr := range []string{DefaultAttribute, ""} {
		t.Run("attribute="+attr, func(t *testing.T) {
			cfg := testConfig()
			cfg.Attribute = attr
			f := newFixture(t, cfg, nil)
			assert.Equal(t, attr != "", f.conn.Capabilities().MutatesData)

			ld := makeLogs(noNS, "shop", "other", "billing", "shop-eu", "pay-us", "", "shop", "shopping", "pay-de")
			before := plog.NewLogs()
			ld.CopyTo(before)
			require.NoError(t, f.conn.ConsumeLogs(context.Background(), ld))

			want := map[string][]string{
				"logs/team-a":   {"shop/pod-1", "shop-eu/pod-4", "shop/pod-7"},
				"logs/team-b":   {"billing/pod-3", "pay-us/pod-5"},
				"logs/platform": {noNS + "/pod-0", "other/pod-2", "/pod-6", "shopping/pod-8", "pay-de/pod-9"},
			}
			for id, wantRes := range want {
				sink := f.sinks[id]
				require.Len(t, sink.AllLogs(), 1, "%s: one delivery", id)
				res, tenants := received(sink, DefaultAttribute)
				assert.Equal(t, wantRes, res, id)
				assert.Equal(t, 2*len(wantRes), sink.LogRecordCount(), id)
				for _, tn := range tenants {
					if attr == "" {
						assert.Equal(t, "-", tn, "%s: no attribute written", id)
					} else {
						assert.Equal(t, id[len("logs/"):], tn, id)
					}
				}
			}
			if attr == "" {
				// Not declared as mutating: the input is left as it was.
				assert.NoError(t, plogEqual(before, ld))
			}

			metadatatest.AssertEqualTenantRoutingRecordsRouted(t, f.tel, []metricdata.DataPoint[int64]{
				{Value: 6, Attributes: attribute.NewSet(attribute.String("tenant", "team-a"))},
				{Value: 4, Attributes: attribute.NewSet(attribute.String("tenant", "team-b"))},
				{Value: 10, Attributes: attribute.NewSet(attribute.String("tenant", "platform"))},
			}, metricdatatest.IgnoreTimestamp())
		})
	}
}

func plogEqual(a, b plog.Logs) error {
	ma, err := (&plog.JSONMarshaler{}).MarshalLogs(a)
	if err != nil {
		return err
	}
	mb, err := (&plog.JSONMarshaler{}).MarshalLogs(b)
	if err != nil {
		return err
	}
	if string(ma) != string(mb) {
		return fmt.Errorf("differ:\n%s\n%s", ma, mb)
	}
	return nil
}

// TestPassThroughWithoutCopy: a batch of one tenant reaches its pipeline as the same plog.Logs.
func TestPassThroughWithoutCopy(t *testing.T) {
	for _, attr := range []string{DefaultAttribute, ""} {
		t.Run("attribute="+attr, func(t *testing.T) {
			cfg := testConfig()
			cfg.Attribute = attr
			f := newFixture(t, cfg, nil)
			ld := makeLogs("shop", "shop-eu", "shop")
			require.NoError(t, f.conn.ConsumeLogs(context.Background(), ld))
			got := f.sinks["logs/team-a"].AllLogs()
			require.Len(t, got, 1)
			// Same underlying data: a change to the input shows in what the pipeline received.
			ld.ResourceLogs().At(0).Resource().Attributes().PutStr("marker", "same")
			v, ok := got[0].ResourceLogs().At(0).Resource().Attributes().Get("marker")
			require.True(t, ok, "the pipeline got a copy")
			assert.Equal(t, "same", v.Str())
			_, tenants := received(f.sinks["logs/team-a"], DefaultAttribute)
			if attr == "" {
				assert.Equal(t, []string{"-", "-", "-"}, tenants)
			} else {
				assert.Equal(t, []string{"team-a", "team-a", "team-a"}, tenants)
			}
			assert.Empty(t, f.sinks["logs/team-b"].AllLogs())
			assert.Empty(t, f.sinks["logs/platform"].AllLogs())

			// Host processes only: the default tenant, as is.
			host := makeLogs(noNS, noNS)
			require.NoError(t, f.conn.ConsumeLogs(context.Background(), host))
			require.Len(t, f.sinks["logs/platform"].AllLogs(), 1)
			host.ResourceLogs().At(1).Resource().Attributes().PutStr("marker", "same")
			_, ok = f.sinks["logs/platform"].AllLogs()[0].ResourceLogs().At(1).Resource().Attributes().Get("marker")
			assert.True(t, ok)
		})
	}
}

func TestPassThroughAllocations(t *testing.T) {
	f := newFixture(t, testConfig(), nil)
	ld := makeLogs("shop", "shop-eu", "shop", "shop-us")
	require.Equal(t, "team-a", f.r.names[1]) // tenants sorted: platform, team-a, team-b
	f.r.consumers[1] = consumertest.NewNop()
	// Warm the glob cache.
	require.NoError(t, f.conn.ConsumeLogs(context.Background(), ld))
	allocs := testing.AllocsPerRun(100, func() {
		_ = f.conn.ConsumeLogs(context.Background(), ld)
	})
	// The one-part slice; nothing per resource or record.
	assert.LessOrEqual(t, allocs, 2.0)
}

func TestEmptyBatch(t *testing.T) {
	f := newFixture(t, testConfig(), nil)
	require.NoError(t, f.conn.ConsumeLogs(context.Background(), plog.NewLogs()))
	for id, s := range f.sinks {
		assert.Empty(t, s.AllLogs(), id)
	}
}

// funcConsumer is a tenant pipeline that can refuse.
type funcConsumer struct {
	calls atomic.Int64
	fn    func(call int64, ld plog.Logs) error
	sink  consumertest.LogsSink
}

func (c *funcConsumer) Capabilities() consumer.Capabilities { return consumer.Capabilities{} }

func (c *funcConsumer) ConsumeLogs(ctx context.Context, ld plog.Logs) error {
	if err := c.fn(c.calls.Add(1), ld); err != nil {
		return err
	}
	return c.sink.ConsumeLogs(ctx, ld)
}

func TestPermanentErrorIsolated(t *testing.T) {
	failing := &funcConsumer{fn: func(int64, plog.Logs) error {
		return consumererror.NewPermanent(errors.New("bad request"))
	}}
	f := newFixture(t, testConfig(), map[string]consumer.Logs{"logs/team-b": failing})
	err := f.conn.ConsumeLogs(context.Background(), makeLogs("shop", "billing", noNS, "pay-eu"))
	require.Error(t, err)
	assert.True(t, consumererror.IsPermanent(err), "permanent: the receiver must not send the batch again")
	assert.Contains(t, err.Error(), `tenant "team-b" (4 records dropped): Permanent error: bad request`)
	assert.NotContains(t, err.Error(), "team-a")
	assert.EqualValues(t, 1, failing.calls.Load(), "a permanent error is not retried")
	assert.Len(t, f.sinks["logs/team-a"].AllLogs(), 1)
	assert.Len(t, f.sinks["logs/platform"].AllLogs(), 1)

	metadatatest.AssertEqualTenantRoutingRecordsDropped(t, f.tel, []metricdata.DataPoint[int64]{
		{Value: 4, Attributes: attribute.NewSet(attribute.String("tenant", "team-b"))},
	}, metricdatatest.IgnoreTimestamp())
	metadatatest.AssertEqualTenantRoutingRecordsRouted(t, f.tel, []metricdata.DataPoint[int64]{
		{Value: 2, Attributes: attribute.NewSet(attribute.String("tenant", "team-a"))},
		{Value: 2, Attributes: attribute.NewSet(attribute.String("tenant", "platform"))},
	}, metricdatatest.IgnoreTimestamp())
}

// TestRetryableErrorRetriesOnlyThatTenant: a refused part is delivered again alone; the other
// tenants see the batch once, and the caller gets no error to retry.
func TestRetryableErrorRetriesOnlyThatTenant(t *testing.T) {
	failing := &funcConsumer{fn: func(call int64, ld plog.Logs) error {
		if call <= 3 {
			return errors.New("queue is full")
		}
		return nil
	}}
	f := newFixture(t, testConfig(), map[string]consumer.Logs{"logs/team-b": failing})
	require.NoError(t, f.conn.ConsumeLogs(context.Background(), makeLogs("shop", "billing", noNS)))
	assert.EqualValues(t, 4, failing.calls.Load())
	assert.Len(t, failing.sink.AllLogs(), 1)
	assert.Equal(t, 2, failing.sink.LogRecordCount())
	assert.Len(t, f.sinks["logs/team-a"].AllLogs(), 1)
	assert.Len(t, f.sinks["logs/platform"].AllLogs(), 1)

	metadatatest.AssertEqualTenantRoutingDeliveryRetries(t, f.tel, []metricdata.DataPoint[int64]{
		{Value: 3, Attributes: attribute.NewSet(attribute.String("tenant", "team-b"))},
	}, metricdatatest.IgnoreTimestamp())
	metadatatest.AssertEqualTenantRoutingRecordsRouted(t, f.tel, []metricdata.DataPoint[int64]{
		{Value: 2, Attributes: attribute.NewSet(attribute.String("tenant", "team-a"))},
		{Value: 2, Attributes: attribute.NewSet(attribute.String("tenant", "team-b"))},
		{Value: 2, Attributes: attribute.NewSet(attribute.String("tenant", "platform"))},
	}, metricdatatest.IgnoreTimestamp())
}

// TestRetryableErrorUntilCancelled: a part still refused when the caller gives up is dropped and
// reported as a permanent error, never as one the caller would retry through every tenant.
func TestRetryableErrorUntilCancelled(t *testing.T) {
	failing := &funcConsumer{fn: func(int64, plog.Logs) error { return errors.New("refused") }}
	f := newFixture(t, testConfig(), map[string]consumer.Logs{"logs/platform": failing})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	err := f.conn.ConsumeLogs(ctx, makeLogs("shop", noNS))
	require.Error(t, err)
	assert.True(t, consumererror.IsPermanent(err))
	assert.Contains(t, err.Error(), `tenant "platform" (2 records dropped): refused (still refused when the delivery was cancelled`)
	assert.Greater(t, failing.calls.Load(), int64(2))
	assert.Len(t, f.sinks["logs/team-a"].AllLogs(), 1)
}

func TestShutdownEndsRetries(t *testing.T) {
	started := make(chan struct{})
	var once sync.Once
	failing := &funcConsumer{fn: func(int64, plog.Logs) error {
		once.Do(func() { close(started) })
		return errors.New("refused")
	}}
	f := newFixture(t, testConfig(), map[string]consumer.Logs{"logs/platform": failing})
	done := make(chan error, 1)
	go func() { done <- f.conn.ConsumeLogs(context.Background(), makeLogs(noNS)) }()
	<-started
	require.NoError(t, f.conn.Shutdown(context.Background()))
	select {
	case err := <-done:
		require.Error(t, err)
		assert.Contains(t, err.Error(), "still refused at shutdown")
	case <-time.After(5 * time.Second):
		t.Fatal("ConsumeLogs still retrying after Shutdown")
	}
}

// TestSeveralPipelinesPerTenant: a tenant's part reaches each of its pipelines; a pipeline shared
// by two tenants gets both parts.
func TestSeveralPipelinesPerTenant(t *testing.T) {
	cfg := testConfig()
	cfg.Pipelines["team-a"] = []pipeline.ID{logsID("team-a"), logsID("audit")}
	cfg.Pipelines["team-b"] = []pipeline.ID{logsID("team-b"), logsID("audit")}
	f := newFixture(t, cfg, nil)
	require.NoError(t, f.conn.ConsumeLogs(context.Background(), makeLogs("shop", "billing", noNS)))
	assert.Equal(t, 2, f.sinks["logs/team-a"].LogRecordCount())
	assert.Equal(t, 2, f.sinks["logs/team-b"].LogRecordCount())
	assert.Equal(t, 4, f.sinks["logs/audit"].LogRecordCount())
	assert.Equal(t, 2, f.sinks["logs/platform"].LogRecordCount())
}

func TestConcurrentConsumers(t *testing.T) {
	f := newFixture(t, testConfig(), nil)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 50 {
				ld := makeLogs(fmt.Sprintf("shop-%d", (g*50+i)%40), "billing", noNS)
				assert.NoError(t, f.conn.ConsumeLogs(context.Background(), ld))
			}
		}()
	}
	wg.Wait()
	assert.Equal(t, 800, f.sinks["logs/team-a"].LogRecordCount())
	assert.Equal(t, 800, f.sinks["logs/team-b"].LogRecordCount())
	assert.Equal(t, 800, f.sinks["logs/platform"].LogRecordCount())
	assert.EqualValues(t, 40, f.r.cacheLen.Load())
}

func TestCreateErrors(t *testing.T) {
	set := connectortest.NewNopSettings(metadata.Type)
	cfg := testConfig()

	_, err := NewFactory().CreateLogsToLogs(context.Background(), set, cfg, consumertest.NewNop())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "tenant_routing must be the exporter of a logs pipeline")

	// A configured pipeline that does not receive from the connector.
	router := connector.NewLogsRouter(map[pipeline.ID]consumer.Logs{
		logsID("team-a"):   consumertest.NewNop(),
		logsID("platform"): consumertest.NewNop(),
	})
	_, err = NewFactory().CreateLogsToLogs(context.Background(), set, cfg, router)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `pipelines::team-b: missing consumer: "logs/team-b"`)

	// Not validated (the factory is called directly): a tenant without pipelines is refused,
	// never routed to another tenant's.
	delete(cfg.Pipelines, "team-b")
	_, err = NewFactory().CreateLogsToLogs(context.Background(), set, cfg, router)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `tenant "team-b" has no pipelines`)
}

// TestNonStringNamespaceIsDefault: a k8s.namespace.name that is not a string reads as missing
// (attrkey.Str), so its records go to default_tenant rather than to a tenant named by its text.
func TestNonStringNamespaceIsDefault(t *testing.T) {
	cfg := testConfig()
	cfg.Tenants["team-a"] = append(cfg.Tenants["team-a"], "123")
	f := newFixture(t, cfg, nil)
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	rl.Resource().Attributes().PutInt(attrkey.K8sNamespaceName, 123)
	rl.ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
	require.NoError(t, f.conn.ConsumeLogs(context.Background(), ld))
	assert.Equal(t, 1, f.sinks["logs/platform"].LogRecordCount())
	assert.Zero(t, f.sinks["logs/team-a"].LogRecordCount())
}
