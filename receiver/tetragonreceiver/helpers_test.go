// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package tetragonreceiver

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/cilium/tetragon/api/v1/tetragon"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/receiver"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/metric/metricdata/metricdatatest"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/timestamppb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/attrkey"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/storagetest"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/testenv"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/receiver/tetragonreceiver/internal/metadatatest"
)

// eventsDir is the shared Tetragon corpus (testenv.EventsDir: tests that need it fail when it is
// missing, since the real corpus is what they prove).
func eventsDir(t testing.TB) string { return testenv.EventsDir(t) }

// harness is one receiver under test with its telemetry and logs.
type harness struct {
	tel  *componenttest.Telemetry
	logs *observer.ObservedLogs
	set  receiver.Settings
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	tel := componenttest.NewTelemetry()
	t.Cleanup(func() { require.NoError(t, tel.Shutdown(context.Background())) })
	core, logs := observer.New(zapcore.DebugLevel)
	set := metadatatest.NewSettings(tel)
	set.Logger = zap.New(core)
	return &harness{tel: tel, logs: logs, set: set}
}

func (h *harness) start(t *testing.T, cfg *Config, next consumer.Logs, host component.Host) *tetragonReceiver {
	t.Helper()
	require.NoError(t, cfg.Validate())
	r, err := newReceiver(h.set, cfg, next)
	require.NoError(t, err)
	if host == nil {
		host = componenttest.NewNopHost()
	}
	require.NoError(t, r.Start(context.Background(), host))
	return r
}

// counter sums a receiver counter's data points whose attributes include
// attrs (all points when attrs is empty).
func (h *harness) counter(t *testing.T, name string, attrs ...attribute.KeyValue) int64 {
	t.Helper()
	m, err := h.tel.GetMetric(name)
	if err != nil {
		return 0 // not recorded yet
	}
	var total int64
	for _, dp := range m.Data.(metricdata.Sum[int64]).DataPoints {
		match := true
		for _, a := range attrs {
			if v, ok := dp.Attributes.Value(a.Key); !ok || v != a.Value {
				match = false
			}
		}
		if match {
			total += dp.Value
		}
	}
	return total
}

// connected is the connected gauge's value (-1 when it is not reported).
func (h *harness) connected(t *testing.T) int64 {
	t.Helper()
	m, err := h.tel.GetMetric("otelcol_receiver_tetragon_connected")
	if err != nil {
		return -1
	}
	dps := m.Data.(metricdata.Gauge[int64]).DataPoints
	require.Len(t, dps, 1)
	return dps[0].Value
}

// assertConnected checks the connected gauge through the generated assertion.
func (h *harness) assertConnected(t *testing.T, want int64) {
	t.Helper()
	metadatatest.AssertEqualReceiverTetragonConnected(t, h.tel, []metricdata.DataPoint[int64]{{Value: want}}, metricdatatest.IgnoreTimestamp())
}

func (h *harness) logged(msg string) int {
	return h.logs.FilterMessage(msg).Len()
}

// collector records every delivered record; fail makes ConsumeLogs return
// that error instead (the records are then not kept).
type collector struct {
	mu      sync.Mutex
	records []plog.LogRecord
	batches int
	calls   int
	fail    func(call int) error
	// sizes are the records of each accepted batch.
	sizes []int
}

func (c *collector) Capabilities() consumer.Capabilities { return consumer.Capabilities{} }

func (c *collector) ConsumeLogs(_ context.Context, ld plog.Logs) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls++
	if c.fail != nil {
		if err := c.fail(c.calls); err != nil {
			return err
		}
	}
	c.batches++
	c.sizes = append(c.sizes, ld.LogRecordCount())
	for i := range ld.ResourceLogs().Len() {
		sls := ld.ResourceLogs().At(i).ScopeLogs()
		for j := range sls.Len() {
			lrs := sls.At(j).LogRecords()
			for k := range lrs.Len() {
				lr := plog.NewLogRecord()
				lrs.At(k).CopyTo(lr)
				c.records = append(c.records, lr)
			}
		}
	}
	return nil
}

func (c *collector) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.records)
}

// execIDs returns tetragon.exec_id of every record, in delivery order.
func (c *collector) execIDs() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]string, 0, len(c.records))
	for _, lr := range c.records {
		if v, ok := lr.Attributes().Get(attrkey.TetragonExecID); ok {
			out = append(out, v.Str())
		}
	}
	return out
}

func (c *collector) eventNames() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := map[string]int{}
	for _, lr := range c.records {
		out[lr.EventName()]++
	}
	return out
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	require.Eventually(t, cond, 20*time.Second, 5*time.Millisecond, "timed out waiting for %s", what)
}

// execEvent is a synthetic process_exec with a unique exec_id.
func execEvent(id string) *tetragon.GetEventsResponse {
	return &tetragon.GetEventsResponse{
		Event: &tetragon.GetEventsResponse_ProcessExec{ProcessExec: &tetragon.ProcessExec{
			Process: &tetragon.Process{
				ExecId:    id,
				Pid:       wrapperspb.UInt32(4242),
				Binary:    "/usr/bin/curl",
				Arguments: "https://example.com",
				StartTime: timestamppb.New(time.Unix(1700000000, 0)),
			},
		}},
		NodeName: "node-a",
		Time:     timestamppb.New(time.Unix(1700000000, 1)),
	}
}

// execLine is execEvent as one line of the JSON export (with newline).
func execLine(t *testing.T, id string) []byte {
	t.Helper()
	b, err := protojson.MarshalOptions{UseProtoNames: true}.Marshal(execEvent(id))
	require.NoError(t, err)
	return append(b, '\n')
}

// The storage tests use an in-memory storage extension that outlives receiver restarts, like a
// file_storage directory would; testHost is also the host without one.
type testHost = storagetest.Host

func newMemStorage() *storagetest.Extension { return storagetest.New() }

func hostWithStorage(id component.ID, st *storagetest.Extension) component.Host {
	return storagetest.HostWith(id, st)
}

func ids(prefix string, from, to int) []string {
	out := make([]string, 0, to-from)
	for i := from; i < to; i++ {
		out = append(out, fmt.Sprintf("%s-%05d", prefix, i))
	}
	return out
}

// grpcOf is cfg's grpc section, set from its defaults if it was not.
func grpcOf(cfg *Config) *GRPCConfig { return cfg.GRPC.GetOrInsertDefault() }

// checkMaxBytesBatches runs cfg on its source of the ten ~30 KB events
// withArguments(ids("big", 0, 10)[i], 30_000) with batch.max_bytes at 64 KiB: the
// third event reaches it. The batch timeout is long, so only bytes cut the batches
// (the last one is delivered at shutdown).
func checkMaxBytesBatches(t *testing.T, cfg *Config) {
	t.Helper()
	cfg.Batch = BatchConfig{MaxSize: 64, Timeout: time.Minute, MaxBytes: 64 << 10}
	require.NoError(t, cfg.Validate())
	h := newHarness(t)
	sink := &collector{}
	r := h.start(t, cfg, sink, nil)
	waitFor(t, "the first three batches", func() bool { return sink.count() == 9 })
	require.NoError(t, r.Shutdown(context.Background()))
	assert.Equal(t, ids("big", 0, 10), sink.execIDs())
	assert.Equal(t, []int{3, 3, 3, 1}, sink.batchSizes())
}

func (c *collector) batchSizes() []int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.sizes)
}
