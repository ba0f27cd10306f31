// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package tenantroutingconnector

import (
	"context"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/connector"
	"go.opentelemetry.io/collector/consumer"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/connector/tenantroutingconnector/internal/metadata"
)

// NewFactory returns the factory of the tenant_routing connector.
func NewFactory() connector.Factory {
	return connector.NewFactory(
		metadata.Type,
		func() component.Config { return createDefaultConfig() },
		connector.WithLogsToLogs(createLogsToLogs, metadata.LogsToLogsStability),
	)
}

func createLogsToLogs(_ context.Context, set connector.Settings, cfg component.Config, next consumer.Logs) (connector.Logs, error) {
	return newTenantRouter(set, cfg.(*Config), next)
}
