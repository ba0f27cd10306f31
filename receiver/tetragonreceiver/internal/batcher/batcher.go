// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

// Package batcher collects mapped Tetragon events into plog batches and hands
// them to the next consumer, retrying retryable consumer errors with backoff
// so that nothing the receiver accepted is dropped while the pipeline is
// briefly unable to take it (the caller stops reading meanwhile: backpressure).
package batcher // import "github.com/otelcol-runtime-security/otelcol-runtime-security/receiver/tetragonreceiver/internal/batcher"

import (
	"context"
	"errors"
	"time"

	"github.com/cenkalti/backoff/v5"
	"github.com/cilium/tetragon/api/v1/tetragon"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/receiver/receiverhelper"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/eventmap"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/ratelog"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/tetragonjson"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/receiver/tetragonreceiver/internal/metadata"
)

// Settings configure a Batcher.
type Settings struct {
	MaxSize int
	// MaxBytes bounds a batch by the input bytes of its events (export line or gRPC message
	// lengths): a batch is full once they reach it, and an event larger than MaxBytes goes in a
	// batch of its own. Records cost several times their input bytes all the way to the log
	// store, which refuses a request over its limit whole. 0: no limit.
	MaxBytes int
	Timeout  time.Duration
	Mapping  eventmap.Options
	// Transport names the input in the receiver's standard obsreport metrics
	// ("grpc" or "file").
	Transport string

	Next      consumer.Logs
	ObsReport *receiverhelper.ObsReport
	Telemetry *metadata.TelemetryBuilder
	Logger    *zap.Logger
	RateLog   *ratelog.Logger

	// RetryInitial and RetryMax bound the backoff between delivery attempts
	// after a retryable consumer error. Zero means 100ms and 5s.
	RetryInitial, RetryMax time.Duration
}

// Batcher is used by one goroutine at a time.
type Batcher struct {
	set   Settings
	batch *eventmap.Batch

	firstAdded time.Time
	// bytes is the input bytes of the records in batch.
	bytes int
	// counts holds events per type added since the last flush; they are
	// reported to the meter per batch rather than per event.
	counts map[string]int64

	// pending is a batch taken from the mapper that has not been delivered yet
	// (delivery was interrupted by cancellation); it is retried first.
	pending  plog.Logs
	pendingN int
}

// New returns an empty Batcher.
func New(set Settings) *Batcher {
	if set.RetryInitial <= 0 {
		set.RetryInitial = 100 * time.Millisecond
	}
	if set.RetryMax <= 0 {
		set.RetryMax = 5 * time.Second
	}
	return &Batcher{
		set:    set,
		batch:  eventmap.NewBatch(set.Mapping),
		counts: make(map[string]int64, 16),
	}
}

// Add maps ev into the current batch. raw is the original JSON line, if any;
// it is not retained. size is the event's input bytes (line or message length),
// counted against MaxBytes. A mapping failure is counted, logged (rate limited)
// and returned; the event is skipped.
//
// An event larger than MaxBytes sets the records before it apart as a batch of
// their own and is then a full batch alone; Flush delivers both, in order. (Not
// while an undelivered batch is already set apart, after a cancelled Flush: ev
// then joins the current batch.)
func (b *Batcher) Add(ev *tetragon.GetEventsResponse, raw []byte, size int, observed time.Time) error {
	if b.set.MaxBytes > 0 && size > b.set.MaxBytes && b.batch.Len() > 0 && b.pendingN == 0 {
		b.take()
	}
	if err := b.batch.Add(ev, raw, observed); err != nil {
		var unknown *tetragonjson.UnknownEventTypeError
		reason := "mapping"
		if errors.As(err, &unknown) {
			reason = "unknown_event_type"
		}
		var fields func() []zap.Field
		if raw != nil {
			fields = func() []zap.Field {
				return []zap.Field{ratelog.Sample("line_sample", raw, ratelog.LineSampleBytes)}
			}
		}
		b.CountRejected(reason, err, fields)
		return err
	}
	if b.firstAdded.IsZero() {
		b.firstAdded = observed
	}
	b.bytes += size
	b.counts[eventmap.EventType(ev)]++
	return nil
}

// CountRejected counts and logs (rate limited) an input that was skipped for
// reason (one of the reason values in metadata.yaml). Unlike the other
// methods it may be called from any goroutine: it only touches the telemetry
// and the rate-limited log.
func (b *Batcher) CountRejected(reason string, err error, fields func() []zap.Field) {
	b.set.Telemetry.ReceiverTetragonDecodeErrors.Add(context.Background(), 1, reasonAttr(reason))
	b.set.RateLog.Warn(reason, "Skipping Tetragon input that cannot be processed", func() []zap.Field {
		out := []zap.Field{zap.String("error", truncate(err.Error(), 512))}
		if fields != nil {
			out = append(out, fields()...)
		}
		return out
	})
}

// Len is the number of records waiting, delivered or not.
func (b *Batcher) Len() int { return b.batch.Len() + b.pendingN }

// Full reports whether the batch reached its maximum size in records or in bytes.
func (b *Batcher) Full() bool {
	return b.batch.Len() >= b.set.MaxSize || (b.set.MaxBytes > 0 && b.bytes >= b.set.MaxBytes)
}

// Deadline is when the current batch must be flushed; zero when it is empty.
func (b *Batcher) Deadline() time.Time {
	if b.batch.Len() == 0 {
		return time.Time{}
	}
	return b.firstAdded.Add(b.set.Timeout)
}

// Due reports whether the batch is full or its timeout has passed.
func (b *Batcher) Due(now time.Time) bool {
	return b.Full() || (b.batch.Len() > 0 && !now.Before(b.Deadline())) || b.pendingN > 0
}

// Flush delivers every waiting record. It returns nil once all of them were
// accepted by the next consumer, or rejected with a permanent error (counted
// as dropped: retrying cannot help). Retryable errors are retried with
// exponential backoff until ctx is done; then ctx's error is returned and the
// records stay waiting for the next Flush.
func (b *Batcher) Flush(ctx context.Context) error {
	for {
		if b.pendingN == 0 {
			if b.batch.Len() == 0 {
				return nil
			}
			b.take()
		}
		if err := b.deliver(ctx); err != nil {
			return err
		}
		b.pending, b.pendingN = plog.Logs{}, 0
	}
}

// take moves the current batch to pending, to be delivered next.
func (b *Batcher) take() {
	b.pendingN = b.batch.Len()
	b.pending = b.batch.Flush()
	b.firstAdded = time.Time{}
	b.bytes = 0
	for typ, n := range b.counts {
		b.set.Telemetry.ReceiverTetragonEvents.Add(context.Background(), n, eventTypeAttr(typ))
		delete(b.counts, typ)
	}
}

func (b *Batcher) deliver(ctx context.Context) error {
	bo := backoff.NewExponentialBackOff()
	bo.InitialInterval = b.set.RetryInitial
	bo.MaxInterval = b.set.RetryMax
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		opCtx := b.set.ObsReport.StartLogsOp(ctx)
		err := b.set.Next.ConsumeLogs(opCtx, b.pending)
		b.set.ObsReport.EndLogsOp(opCtx, b.set.Transport, b.pendingN, err)
		if err == nil {
			return nil
		}
		if consumererror.IsPermanent(err) {
			b.set.Telemetry.ReceiverTetragonDroppedRecords.Add(ctx, int64(b.pendingN))
			b.set.RateLog.Warn("consumer_permanent_error", "Next consumer rejected Tetragon records permanently; dropping them", func() []zap.Field {
				return []zap.Field{zap.Int("records", b.pendingN), zap.Error(err)}
			})
			return nil
		}
		b.set.Telemetry.ReceiverTetragonDeliveryRetries.Add(ctx, 1)
		wait := bo.NextBackOff()
		b.set.RateLog.Warn("consumer_retryable_error", "Next consumer refused Tetragon records; retrying (input is paused meanwhile)", func() []zap.Field {
			return []zap.Field{zap.Int("records", b.pendingN), zap.Duration("retry_in", wait), zap.Error(err)}
		})
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

var (
	eventTypeAttrs = map[string]metric.MeasurementOption{}
	reasonAttrs    = map[string]metric.MeasurementOption{}
)

func init() {
	for _, t := range eventmap.Types {
		eventTypeAttrs[t] = metric.WithAttributeSet(attribute.NewSet(attribute.String("event_type", t)))
	}
	for _, r := range []string{"malformed", "unknown_event_type", "mapping", "oversized"} {
		reasonAttrs[r] = metric.WithAttributeSet(attribute.NewSet(attribute.String("reason", r)))
	}
}

func eventTypeAttr(t string) metric.MeasurementOption {
	if o, ok := eventTypeAttrs[t]; ok {
		return o
	}
	return metric.WithAttributes(attribute.String("event_type", t))
}

func reasonAttr(r string) metric.MeasurementOption {
	if o, ok := reasonAttrs[r]; ok {
		return o
	}
	return metric.WithAttributes(attribute.String("reason", r))
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
