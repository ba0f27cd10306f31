// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package batcher

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/cilium/tetragon/api/v1/tetragon"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/receiver/receiverhelper"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.uber.org/zap"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/ratelog"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/receiver/tetragonreceiver/internal/metadata"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/receiver/tetragonreceiver/internal/metadatatest"
)

type scriptedConsumer struct {
	mu       sync.Mutex
	errs     []error // returned by successive calls; nil once exhausted
	calls    int
	accepted int
	sizes    []int // records per accepted call
}

func (c *scriptedConsumer) Capabilities() consumer.Capabilities { return consumer.Capabilities{} }

func (c *scriptedConsumer) ConsumeLogs(_ context.Context, ld plog.Logs) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls++
	if len(c.errs) > 0 {
		err := c.errs[0]
		c.errs = c.errs[1:]
		if err != nil {
			return err
		}
	}
	c.accepted += ld.LogRecordCount()
	c.sizes = append(c.sizes, ld.LogRecordCount())
	return nil
}

func newBatcher(t *testing.T, next consumer.Logs) (*Batcher, *componenttest.Telemetry) {
	return newBatcherBytes(t, next, 0)
}

func newBatcherBytes(t *testing.T, next consumer.Logs, maxBytes int) (*Batcher, *componenttest.Telemetry) {
	t.Helper()
	tel := componenttest.NewTelemetry()
	t.Cleanup(func() { require.NoError(t, tel.Shutdown(context.Background())) })
	set := metadatatest.NewSettings(tel)
	tb, err := metadata.NewTelemetryBuilder(set.TelemetrySettings)
	require.NoError(t, err)
	obs, err := receiverhelper.NewObsReport(receiverhelper.ObsReportSettings{ReceiverID: set.ID, Transport: "test", ReceiverCreateSettings: set})
	require.NoError(t, err)
	return New(Settings{
		MaxSize: 3, MaxBytes: maxBytes, Timeout: time.Second, Transport: "test",
		Next: next, ObsReport: obs, Telemetry: tb, Logger: zap.NewNop(), RateLog: ratelog.New(zap.NewNop(), time.Second),
		RetryInitial: time.Millisecond, RetryMax: 2 * time.Millisecond,
	}), tel
}

func exec(id string) *tetragon.GetEventsResponse {
	return &tetragon.GetEventsResponse{Event: &tetragon.GetEventsResponse_ProcessExec{ProcessExec: &tetragon.ProcessExec{Process: &tetragon.Process{ExecId: id}}}}
}

func sum(t *testing.T, tel *componenttest.Telemetry, name string) int64 {
	t.Helper()
	m, err := tel.GetMetric(name)
	if err != nil {
		return 0
	}
	var total int64
	for _, dp := range m.Data.(metricdata.Sum[int64]).DataPoints {
		total += dp.Value
	}
	return total
}

func TestBatchSizeAndDeadline(t *testing.T) {
	c := &scriptedConsumer{}
	b, tel := newBatcher(t, c)
	now := time.Unix(100, 0)
	assert.True(t, b.Deadline().IsZero())
	require.NoError(t, b.Add(exec("1"), nil, 100, now))
	assert.Equal(t, now.Add(time.Second), b.Deadline())
	assert.False(t, b.Due(now.Add(999*time.Millisecond)))
	assert.True(t, b.Due(now.Add(time.Second)))
	require.NoError(t, b.Add(exec("2"), nil, 100, now))
	require.NoError(t, b.Add(exec("3"), nil, 100, now))
	assert.True(t, b.Full())
	require.NoError(t, b.Flush(context.Background()))
	assert.Equal(t, 3, c.accepted)
	assert.Equal(t, 1, c.calls)
	assert.Equal(t, 0, b.Len())
	assert.Equal(t, int64(3), sum(t, tel, "otelcol_receiver_tetragon_events"))
}

func TestUnknownEventIsCountedNotAdded(t *testing.T) {
	b, tel := newBatcher(t, &scriptedConsumer{})
	err := b.Add(&tetragon.GetEventsResponse{NodeName: "n"}, nil, 100, time.Now())
	require.Error(t, err)
	assert.Equal(t, 0, b.Len())
	assert.Equal(t, int64(1), sum(t, tel, "otelcol_receiver_tetragon_decode_errors"))
}

func TestRetryableErrorsAreRetried(t *testing.T) {
	c := &scriptedConsumer{errs: []error{errors.New("busy"), errors.New("busy")}}
	b, tel := newBatcher(t, c)
	require.NoError(t, b.Add(exec("1"), nil, 100, time.Now()))
	require.NoError(t, b.Flush(context.Background()))
	assert.Equal(t, 3, c.calls)
	assert.Equal(t, 1, c.accepted)
	assert.Equal(t, int64(2), sum(t, tel, "otelcol_receiver_tetragon_delivery_retries"))
}

func TestPermanentErrorDrops(t *testing.T) {
	c := &scriptedConsumer{errs: []error{consumererror.NewPermanent(errors.New("bad"))}}
	b, tel := newBatcher(t, c)
	require.NoError(t, b.Add(exec("1"), nil, 100, time.Now()))
	require.NoError(t, b.Add(exec("2"), nil, 100, time.Now()))
	require.NoError(t, b.Flush(context.Background()))
	assert.Equal(t, 1, c.calls)
	assert.Equal(t, 0, b.Len())
	assert.Equal(t, int64(2), sum(t, tel, "otelcol_receiver_tetragon_dropped_records"))
}

// A delivery interrupted by cancellation keeps its records; the next Flush
// delivers them and whatever was added since.
func TestCancelledDeliveryKeepsRecords(t *testing.T) {
	errs := make([]error, 1000)
	for i := range errs {
		errs[i] = errors.New("down")
	}
	c := &scriptedConsumer{errs: errs}
	b, _ := newBatcher(t, c)
	require.NoError(t, b.Add(exec("1"), nil, 100, time.Now()))
	require.NoError(t, b.Add(exec("2"), nil, 100, time.Now()))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	require.ErrorIs(t, b.Flush(ctx), context.DeadlineExceeded)
	assert.Equal(t, 2, b.Len())
	require.NoError(t, b.Add(exec("3"), nil, 100, time.Now()))
	assert.True(t, b.Due(time.Now()), "waiting records are due at once")

	c.mu.Lock()
	c.errs = nil
	c.mu.Unlock()
	require.NoError(t, b.Flush(context.Background()))
	assert.Equal(t, 3, c.accepted)
	assert.Equal(t, 0, b.Len())
}

// Input bytes bound a batch: it is full once they reach max_bytes, and an event larger than
// max_bytes goes alone.
func TestMaxBytes(t *testing.T) {
	t.Run("full at max_bytes", func(t *testing.T) {
		c := &scriptedConsumer{}
		b, _ := newBatcherBytes(t, c, 1000)
		now := time.Now()
		require.NoError(t, b.Add(exec("1"), nil, 400, now))
		assert.False(t, b.Full())
		assert.False(t, b.Due(now))
		require.NoError(t, b.Add(exec("2"), nil, 600, now))
		assert.True(t, b.Full(), "1000 bytes reached with 2 of 3 records")
		require.NoError(t, b.Flush(context.Background()))
		assert.Equal(t, []int{2}, c.sizes)
	})
	t.Run("one event past max_bytes, not more", func(t *testing.T) {
		c := &scriptedConsumer{}
		b, _ := newBatcherBytes(t, c, 1000)
		now := time.Now()
		require.NoError(t, b.Add(exec("1"), nil, 600, now))
		require.NoError(t, b.Add(exec("2"), nil, 600, now))
		assert.True(t, b.Full())
		require.NoError(t, b.Flush(context.Background()))
		assert.Equal(t, []int{2}, c.sizes)
	})
	t.Run("an event over max_bytes goes alone", func(t *testing.T) {
		c := &scriptedConsumer{}
		b, tel := newBatcherBytes(t, c, 1000)
		now := time.Now()
		require.NoError(t, b.Add(exec("1"), nil, 100, now))
		require.NoError(t, b.Add(exec("2"), nil, 5000, now))
		assert.True(t, b.Full())
		assert.Equal(t, 2, b.Len(), "both waiting, in two batches")
		require.NoError(t, b.Flush(context.Background()))
		require.NoError(t, b.Add(exec("3"), nil, 100, now))
		require.NoError(t, b.Flush(context.Background()))
		assert.Equal(t, []int{1, 1, 1}, c.sizes)
		assert.Equal(t, int64(3), sum(t, tel, "otelcol_receiver_tetragon_events"))
	})
	t.Run("no limit", func(t *testing.T) {
		b, _ := newBatcherBytes(t, &scriptedConsumer{}, 0)
		require.NoError(t, b.Add(exec("1"), nil, 1<<30, time.Now()))
		assert.False(t, b.Full())
	})
}
