// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package gzipmiddlewareextension

import (
	"context"

	"github.com/klauspost/compress/gzip"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/extension"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/extension/gzipmiddlewareextension/internal/metadata"
)

// NewFactory returns the gzip_middleware extension factory.
func NewFactory() extension.Factory {
	return extension.NewFactory(metadata.Type, createDefaultConfig, create, metadata.ExtensionStability)
}

func createDefaultConfig() component.Config {
	return &Config{Level: gzip.BestSpeed}
}

func create(_ context.Context, _ extension.Settings, cfg component.Config) (extension.Extension, error) {
	return newMiddleware(cfg.(*Config)), nil
}
