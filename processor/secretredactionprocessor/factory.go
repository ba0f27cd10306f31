// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

// Package secretredactionprocessor masks secrets (internal/redact) in the command lines, arguments
// and bodies of Tetragon log records before they leave the collector. It runs after the detection
// processor, so that rules still see the values as the process was given them.
package secretredactionprocessor

import (
	"context"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/collector/processor/processorhelper"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/attrkey"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/processor/secretredactionprocessor/internal/metadata"
)

// NewFactory returns the factory of the secret_redaction processor.
func NewFactory() processor.Factory {
	return processor.NewFactory(metadata.Type, createDefaultConfig, processor.WithLogs(createLogs, metadata.LogsStability))
}

// DefaultAttributes are where Tetragon records carry what a process was given: its command line and
// arguments, its parent's, and the hook arguments.
var DefaultAttributes = []string{
	attrkey.ProcessCommandLine,
	attrkey.ProcessParentCommandLine,
	attrkey.TetragonArguments,
	attrkey.TetragonParentArgs,
	attrkey.TetragonArgs,
}

func createDefaultConfig() component.Config {
	return &Config{Attributes: append([]string(nil), DefaultAttributes...), Body: true}
}

func createLogs(ctx context.Context, set processor.Settings, cfg component.Config, next consumer.Logs) (processor.Logs, error) {
	p, err := newProcessor(set, cfg.(*Config))
	if err != nil {
		return nil, err
	}
	return processorhelper.NewLogs(ctx, set, cfg, next, p.processLogs,
		processorhelper.WithCapabilities(consumer.Capabilities{MutatesData: true}),
		processorhelper.WithShutdown(func(context.Context) error { p.tb.Shutdown(); return nil }))
}
