// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

// Package alertmanagerexporter posts the detections and incidents of the detection processor's
// log records to Alertmanager's API v2, one alert per incident that follows the incident as it
// grows (latest state in its annotations, the previous label set resolved when its severity rises
// or a chain completes).
package alertmanagerexporter

import (
	"context"
	"errors"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/confighttp"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/config/configretry"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/exporter/exporterhelper"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/exporter/alertmanagerexporter/internal/metadata"
)

// NewFactory returns the factory of the alertmanager exporter.
func NewFactory() exporter.Factory {
	return exporter.NewFactory(
		metadata.Type,
		createDefaultConfig,
		exporter.WithLogs(createLogs, metadata.LogsStability),
	)
}

// defaultQueueConfig is an in-memory queue that sends each batch as it comes: no batching, whose
// flush timeout would delay every page. One consumer keeps an incident's states in order, so that
// an older state never re-fires a label set a newer one resolved; Alertmanager answers in
// milliseconds, so one is enough.
func defaultQueueConfig() configoptional.Optional[exporterhelper.QueueBatchConfig] {
	q := exporterhelper.NewDefaultQueueConfig()
	q.NumConsumers = 1
	// Default: off unless the config has a batch section, which then starts from the defaults.
	q.Batch = configoptional.Default(exporterhelper.NewDefaultBatchConfig())
	return configoptional.Some(q)
}

// defaultRetryConfig is exporterhelper's, starting after 1s instead of 5s: a page held back by a
// blip of Alertmanager should not wait longer than the blip.
func defaultRetryConfig() configretry.BackOffConfig {
	r := configretry.NewDefaultBackOffConfig()
	r.InitialInterval = time.Second
	return r
}

func createDefaultConfig() component.Config {
	client := confighttp.NewDefaultClientConfig()
	client.Timeout = defaultHTTPTimeout
	return &Config{
		ClientConfig:        client,
		QueueConfig:         defaultQueueConfig(),
		RetryConfig:         defaultRetryConfig(),
		MinSeverity:         severityWarning,
		ResolveTimeout:      defaultResolveTimeout,
		RunbookURLTemplate:  defaultRunbookURLTemplate,
		EvidenceURLTemplate: defaultEvidenceURLTemplate,
		MaxAlertsPerRequest: defaultMaxAlertsPerRequest,
		MaxTrackedIncidents: defaultMaxTrackedIncidents,
	}
}

func createLogs(ctx context.Context, set exporter.Settings, cfg component.Config) (exporter.Logs, error) {
	c := cfg.(*Config)
	e, err := newExporter(c, set)
	if err != nil {
		return nil, err
	}
	logs, err := exporterhelper.NewLogs(ctx, set, cfg, e.pushLogs,
		exporterhelper.WithCapabilities(consumer.Capabilities{MutatesData: false}),
		// The HTTP client's timeout bounds each POST; no second timeout around the whole push.
		exporterhelper.WithTimeout(exporterhelper.TimeoutConfig{Timeout: 0}),
		exporterhelper.WithRetry(c.RetryConfig),
		exporterhelper.WithQueue(c.QueueConfig),
		exporterhelper.WithStart(e.start),
		exporterhelper.WithShutdown(e.shutdown),
	)
	if err != nil {
		return nil, err
	}
	return dropWhenFull{Logs: logs, dropped: func(ctx context.Context, n int) {
		e.telemetry.ExporterAlertmanagerRecordsDropped.Add(ctx, int64(n))
	}}, nil
}

// dropWhenFull turns a full sending queue into a counted drop instead of an error. The exporter
// shares its batches with the log and metrics branches of the pipeline: an error would make the
// receiver retry the whole batch through every branch, duplicating what they already took.
type dropWhenFull struct {
	exporter.Logs
	dropped func(context.Context, int)
}

func (d dropWhenFull) ConsumeLogs(ctx context.Context, ld plog.Logs) error {
	err := d.Logs.ConsumeLogs(ctx, ld)
	if errors.Is(err, exporterhelper.ErrQueueIsFull) {
		d.dropped(ctx, ld.LogRecordCount())
		return nil
	}
	return err
}
