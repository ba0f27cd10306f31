// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package tetragonreceiver // import "github.com/otelcol-runtime-security/otelcol-runtime-security/receiver/tetragonreceiver"

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cilium/tetragon/api/v1/tetragon"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/extension/xextension/storage"
	"go.opentelemetry.io/collector/receiver"
	"go.opentelemetry.io/collector/receiver/receiverhelper"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"
	"google.golang.org/grpc/credentials"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/eventmap"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/ratelog"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/tetragonjson"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/receiver/tetragonreceiver/internal/batcher"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/receiver/tetragonreceiver/internal/filetail"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/receiver/tetragonreceiver/internal/grpcsource"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/receiver/tetragonreceiver/internal/metadata"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/receiver/tetragonreceiver/internal/tetragonfilter"
)

type tetragonReceiver struct {
	cfg       *Config
	set       receiver.Settings
	next      consumer.Logs
	telemetry *metadata.TelemetryBuilder
	obsrecv   *receiverhelper.ObsReport
	rateLog   *ratelog.Logger
	// connected backs the connected gauge: the gRPC stream is established, or
	// an export file is open.
	connected *atomic.Bool

	cancel context.CancelFunc
	wg     sync.WaitGroup
	// finish runs after the reading goroutines stopped: final flush, final
	// checkpoint, releasing storage.
	finish func(ctx context.Context) error
}

func newReceiver(set receiver.Settings, cfg *Config, next consumer.Logs) (*tetragonReceiver, error) {
	tb, err := metadata.NewTelemetryBuilder(set.TelemetrySettings)
	if err != nil {
		return nil, err
	}
	transport := "grpc"
	if cfg.fileMode() {
		transport = "file"
	}
	obsrecv, err := receiverhelper.NewObsReport(receiverhelper.ObsReportSettings{
		ReceiverID:             set.ID,
		Transport:              transport,
		ReceiverCreateSettings: set,
	})
	if err != nil {
		return nil, err
	}
	connected := &atomic.Bool{}
	err = tb.RegisterReceiverTetragonConnectedCallback(func(_ context.Context, o metric.Int64Observer) error {
		var v int64
		if connected.Load() {
			v = 1
		}
		o.Observe(v)
		return nil
	})
	if err != nil {
		tb.Shutdown()
		return nil, err
	}
	return &tetragonReceiver{
		cfg:       cfg,
		set:       set,
		next:      next,
		telemetry: tb,
		obsrecv:   obsrecv,
		rateLog:   ratelog.New(set.Logger, ratelog.DefaultInterval),
		connected: connected,
	}, nil
}

func (r *tetragonReceiver) newBatcher(transport string) *batcher.Batcher {
	return batcher.New(batcher.Settings{
		MaxSize:   r.cfg.Batch.MaxSize,
		MaxBytes:  r.cfg.Batch.MaxBytes,
		Timeout:   r.cfg.Batch.Timeout,
		Mapping:   eventmap.Options{Body: r.cfg.Body, ClusterName: r.cfg.ClusterName},
		Transport: transport,
		Next:      r.next,
		ObsReport: r.obsrecv,
		Telemetry: r.telemetry,
		Logger:    r.set.Logger,
		RateLog:   r.rateLog,
	})
}

// Start begins reading in the background; it fails only on configuration
// that cannot work (unreadable TLS files, missing storage extension).
func (r *tetragonReceiver) Start(ctx context.Context, host component.Host) error {
	if len(r.cfg.legacyKeys) > 0 {
		r.set.Logger.Warn("Deprecated configuration: the receiver's gRPC settings now go under `grpc`; the top-level form is read for one more release",
			zap.Strings("keys", r.cfg.legacyKeys), zap.String("write_instead", r.cfg.legacyHint()))
	}
	runCtx, cancel := context.WithCancel(context.Background())
	var err error
	if r.cfg.fileMode() {
		err = r.startFile(ctx, runCtx, host)
	} else {
		err = r.startGRPC(ctx, runCtx)
	}
	if err != nil {
		cancel()
		return err
	}
	r.cancel = cancel
	return nil
}

func (r *tetragonReceiver) startGRPC(ctx, runCtx context.Context) error {
	req, err := r.eventsRequest()
	if err != nil {
		return err
	}
	g := r.cfg.grpcConfig()
	var creds credentials.TransportCredentials
	if g.TLS.HasValue() && !g.TLS.Get().Insecure {
		tlsCfg, err := g.TLS.Get().LoadTLSConfig(ctx)
		if err != nil {
			return fmt.Errorf("tls: %w", err)
		}
		creds = credentials.NewTLS(tlsCfg)
	}
	b := r.newBatcher("grpc")
	src := grpcsource.New(grpcsource.Settings{
		Endpoint:        g.Endpoint,
		InfoFile:        g.InfoFile,
		Credentials:     creds,
		Request:         req,
		InitialInterval: g.Reconnect.InitialInterval,
		MaxInterval:     g.Reconnect.MaxInterval,
		MaxEventBytes:   g.MaxEventBytes,
		MaxRecvMsgBytes: grpcRecvLimit(g.MaxEventBytes),
		ReadCoalesce:    g.ReadCoalesce,
		Skipped: func(reason string, err error, n int) {
			b.CountRejected(reason, err, func() []zap.Field { return []zap.Field{zap.Int("message_bytes", n)} })
		},
		Connected: r.connected,
		Logger:    r.set.Logger,
		Telemetry: r.telemetry,
	})
	// The channel decouples Recv from delivery; when it is full, Recv stops
	// and gRPC flow control pushes back on Tetragon.
	events := make(chan grpcsource.Event, r.cfg.Batch.MaxSize)
	r.wg.Add(2)
	go func() {
		defer r.wg.Done()
		src.Run(runCtx, events)
	}()
	go func() {
		defer r.wg.Done()
		r.batchLoop(runCtx, b, events)
	}()
	r.finish = func(ctx context.Context) error {
		// Events already received from Tetragon are delivered, not dropped.
		for drained := false; !drained; {
			select {
			case ev := <-events:
				_ = b.Add(ev.Event, nil, ev.Bytes, time.Now())
			default:
				drained = true
			}
		}
		return b.Flush(ctx)
	}
	return nil
}

func (r *tetragonReceiver) eventsRequest() (*tetragon.GetEventsRequest, error) {
	g := r.cfg.grpcConfig()
	allow, err := tetragonfilter.Filters("grpc.allow_list", g.AllowList)
	if err != nil {
		return nil, err
	}
	deny, err := tetragonfilter.Filters("grpc.deny_list", g.DenyList)
	if err != nil {
		return nil, err
	}
	fields, err := tetragonfilter.FieldFilters(r.cfg.FieldFilters)
	if err != nil {
		return nil, err
	}
	return &tetragon.GetEventsRequest{AllowList: allow, DenyList: deny, FieldFilters: fields}, nil
}

func (r *tetragonReceiver) batchLoop(ctx context.Context, b *batcher.Batcher, events <-chan grpcsource.Event) {
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for {
		select {
		case <-ctx.Done():
			timer.Stop()
			return
		case ev := <-events:
			wasEmpty := b.Len() == 0
			now := time.Now()
			if b.Add(ev.Event, nil, ev.Bytes, now) != nil {
				continue
			}
			// Full, or max_bytes sealed the previous records into their own batch.
			if b.Due(now) {
				if b.Flush(ctx) != nil {
					return
				}
				timer.Stop()
			} else if wasEmpty {
				timer.Reset(time.Until(b.Deadline()))
			}
		case <-timer.C:
			if b.Flush(ctx) != nil {
				return
			}
		}
	}
}

func (r *tetragonReceiver) startFile(ctx, runCtx context.Context, host component.Host) error {
	fc := r.cfg.File.Get()
	var client storage.Client
	if fc.Storage != nil {
		ext, ok := host.GetExtensions()[*fc.Storage]
		if !ok {
			return fmt.Errorf("file.storage: extension %q not found; configure it under extensions and list it in service.extensions", fc.Storage)
		}
		se, ok := ext.(storage.Extension)
		if !ok {
			return fmt.Errorf("file.storage: extension %q is not a storage extension", fc.Storage)
		}
		c, err := se.GetClient(ctx, component.KindReceiver, r.set.ID, "")
		if err != nil {
			return fmt.Errorf("file.storage: get a client from %q: %w", fc.Storage, err)
		}
		client = c
	}
	dec, err := r.fileDecoder()
	if err != nil {
		return err
	}
	sink := &lineSink{b: r.newBatcher("file"), ev: &tetragon.GetEventsResponse{}, dec: dec}
	tailer := filetail.New(filetail.Settings{
		Path:          fc.Path,
		FromBeginning: fc.StartAt == startAtBeginning,
		MaxLineBytes:  fc.MaxLineBytes,
		PollInterval:  fc.PollInterval,
		Storage:       client,
		Open:          r.connected,
		Logger:        r.set.Logger,
		RateLog:       r.rateLog,
		Telemetry:     r.telemetry,
	}, sink)
	if err := tailer.Open(ctx); err != nil {
		if client != nil {
			_ = client.Close(ctx)
		}
		return err
	}
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		if err := tailer.Run(runCtx); err != nil && !errors.Is(err, context.Canceled) {
			r.set.Logger.Error("Stopped reading the Tetragon export file", zap.String("path", fc.Path), zap.Error(err))
		}
	}()
	r.finish = func(ctx context.Context) error {
		err := tailer.Finish(ctx)
		if client != nil {
			err = errors.Join(err, client.Close(ctx))
		}
		return err
	}
	return nil
}

// fileDecoder decodes export lines leaving out what field_filters exclude:
// Tetragon wrote the file whole, so the receiver skips those fields instead.
func (r *tetragonReceiver) fileDecoder() (*tetragonjson.Decoder, error) {
	filters, err := tetragonfilter.FieldFilters(r.cfg.FieldFilters)
	if err != nil {
		return nil, err
	}
	dec, err := tetragonjson.NewDecoder(filters)
	if err != nil {
		return nil, fmt.Errorf("field_filters: %w", err)
	}
	return dec, nil
}

// Shutdown stops reading, delivers what was already read (within ctx's
// deadline) and, in file mode, saves the final checkpoint.
func (r *tetragonReceiver) Shutdown(ctx context.Context) error {
	// Problems held back by the rate-limited log are reported now, not lost.
	defer r.rateLog.Close()
	if r.cancel == nil {
		r.telemetry.Shutdown()
		return nil
	}
	r.cancel()
	r.wg.Wait()
	var err error
	if r.finish != nil {
		if ferr := r.finish(ctx); ferr != nil {
			err = fmt.Errorf("deliver the last Tetragon records: %w", ferr)
		}
	}
	r.telemetry.Shutdown()
	return err
}
