// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package tenantroutingconnector

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap/confmaptest"
	"go.opentelemetry.io/collector/pipeline"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/connector/tenantroutingconnector/internal/metadata"
)

func logsID(name string) pipeline.ID {
	if name == "" {
		return pipeline.NewID(pipeline.SignalLogs)
	}
	return pipeline.NewIDWithName(pipeline.SignalLogs, name)
}

func TestLoadConfig(t *testing.T) {
	cm, err := confmaptest.LoadConf(filepath.Join("testdata", "config.yaml"))
	require.NoError(t, err)

	tests := []struct {
		id      component.ID
		want    *Config
		wantErr []string
	}{
		{
			id: component.NewID(metadata.Type),
			want: &Config{
				Tenants:       map[string][]string{"team-a": {"shop", "shop-*"}, "team-b": {"billing"}},
				DefaultTenant: "platform",
				Pipelines: map[string][]pipeline.ID{
					"team-a":   {logsID("team-a")},
					"team-b":   {logsID("team-b")},
					"platform": {logsID("platform")},
				},
				Attribute: DefaultAttribute,
			},
		},
		{
			id: component.NewIDWithName(metadata.Type, "no_attribute"),
			want: &Config{
				DefaultTenant: "platform",
				Pipelines:     map[string][]pipeline.ID{"platform": {logsID("platform"), logsID("audit")}},
				Attribute:     "",
			},
		},
		{
			id: component.NewIDWithName(metadata.Type, "custom_attribute"),
			want: &Config{
				Tenants:       map[string][]string{"payments": {"{billing,payments}", "pay-[0-9]*"}},
				DefaultTenant: "platform",
				Pipelines:     map[string][]pipeline.ID{"payments": {logsID("payments")}, "platform": {logsID("")}},
				Attribute:     "tenant.id",
			},
		},
		{
			id: component.NewIDWithName(metadata.Type, "bad"),
			wantErr: []string{
				"default_tenant is required",
				`tenants: tenant "team c" contains ' '; Loki tenant IDs (X-Scope-OrgID) may contain only letters, digits and ! - _ . * ' ( )`,
				"tenants::team-a[2] is empty",
				`tenants::team-b: "Shop" is not a namespace name; a Kubernetes namespace name is at most 63 lowercase letters`,
				"tenants::team-d lists no namespace",
				`namespace "billing" is listed under tenants::team-a and tenants::team-b; a namespace belongs to one tenant`,
				`pattern "shop-*" of tenants::team-a and pattern "*-billing" of tenants::team-b both match namespace "shop-billing"`,
				`pipelines::team-a: "metrics/team-a" is a metrics pipeline; the connector routes logs, so it must be a logs pipeline`,
				"pipelines::team-b is missing",
				`pipelines::team c is missing`,
				`pipelines::ghost: "ghost" is neither a key of tenants nor default_tenant`,
				"attribute must not be k8s.namespace.name",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.id.String(), func(t *testing.T) {
			cfg := NewFactory().CreateDefaultConfig()
			sub, err := cm.Sub(tt.id.String())
			require.NoError(t, err)
			require.NoError(t, sub.Unmarshal(cfg))
			err = cfg.(*Config).Validate()
			if tt.wantErr == nil {
				require.NoError(t, err)
				assert.Equal(t, tt.want, cfg)
				return
			}
			require.Error(t, err)
			for _, msg := range tt.wantErr {
				assert.Contains(t, err.Error(), msg)
			}
			assert.NotContains(t, err.Error(), "also matches pattern", "billing matches no pattern of another tenant")
		})
	}
}
