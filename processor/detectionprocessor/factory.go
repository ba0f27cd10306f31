// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

// Package detectionprocessor evaluates detection rules (OTTL conditions with
// Falco-style exceptions) over the log records of the tetragon receiver and
// tags matching records with rule, severity and MITRE ATT&CK attributes.
package detectionprocessor

import (
	"context"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/collector/processor/processorhelper"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/processor/detectionprocessor/internal/metadata"
)

// NewFactory returns the factory of the detection processor.
func NewFactory() processor.Factory {
	return processor.NewFactory(
		metadata.Type,
		createDefaultConfig,
		processor.WithLogs(createLogs, metadata.LogsStability),
	)
}

func createDefaultConfig() component.Config {
	return &Config{
		Mode:               ModeDetect,
		BuiltinRules:       true,
		ReloadInterval:     30 * time.Second,
		MaxSuppressionKeys: 10000,
		Drift:              DriftConfig{Enabled: true, MaxEntries: 10000, TTL: time.Hour},
		Incidents:          IncidentsConfig{Enabled: true, Window: 15 * time.Minute, MaxIncidents: 10000},
	}
}

func createLogs(ctx context.Context, set processor.Settings, cfg component.Config, next consumer.Logs) (processor.Logs, error) {
	p, err := newDetectionProcessor(set, cfg.(*Config))
	if err != nil {
		return nil, err
	}
	return processorhelper.NewLogs(ctx, set, cfg, next, p.processLogs,
		// A rule-less drop_unmatched instance copies the few tagged records into a new batch
		// instead of deleting the rest in place, so the pipeline fanning out to it need not
		// deep-copy every batch for it.
		processorhelper.WithCapabilities(consumer.Capabilities{MutatesData: !p.selectsOnly()}),
		processorhelper.WithStart(p.start),
		processorhelper.WithShutdown(p.shutdown),
	)
}
