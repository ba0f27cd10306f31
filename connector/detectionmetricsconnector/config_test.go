// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package detectionmetricsconnector

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap/confmaptest"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/connector/detectionmetricsconnector/internal/metadata"
)

func TestLoadConfig(t *testing.T) {
	cm, err := confmaptest.LoadConf(filepath.Join("testdata", "config.yaml"))
	require.NoError(t, err)

	tests := []struct {
		id      component.ID
		want    *Config
		wantErr []string
	}{
		{
			id:   component.NewID(metadata.Type),
			want: createDefaultConfig(),
		},
		{
			id: component.NewIDWithName(metadata.Type, "custom"),
			want: &Config{
				FlushInterval: 30 * time.Second,
				MaxSeries:     MaxSeriesConfig{Events: 500, Detections: 2000},
			},
		},
		{
			id: component.NewIDWithName(metadata.Type, "bad"),
			wantErr: []string{
				"flush_interval must be between 1s and 10m0s, got 100ms",
				"max_series::events must be between 1 and 1000000, got 0",
				"max_series::detections must be between 1 and 1000000, got 5000000",
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
		})
	}
}

func TestDefaultConfig(t *testing.T) {
	cfg := createDefaultConfig()
	assert.Equal(t, 15*time.Second, cfg.FlushInterval)
	assert.Equal(t, 10000, cfg.MaxSeries.Events)
	assert.Equal(t, 10000, cfg.MaxSeries.Detections)
	assert.NoError(t, cfg.Validate())
}

func TestValidateMessages(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"zero flush", Config{FlushInterval: 0, MaxSeries: MaxSeriesConfig{Events: 1, Detections: 1}},
			"flush_interval must be between 1s and 10m0s, got 0s (Prometheus marks a series stale after 5m without samples; 15s is the default)"},
		{"flush too long", Config{FlushInterval: time.Hour, MaxSeries: MaxSeriesConfig{Events: 1, Detections: 1}},
			"flush_interval must be between 1s and 10m0s, got 1h0m0s (Prometheus marks a series stale after 5m without samples; 15s is the default)"},
		{"negative events cap", Config{FlushInterval: time.Second, MaxSeries: MaxSeriesConfig{Events: -1, Detections: 1}},
			"max_series::events must be between 1 and 1000000, got -1 (it bounds memory and Prometheus cardinality; the default is 10000)"},
		{"huge detections cap", Config{FlushInterval: time.Second, MaxSeries: MaxSeriesConfig{Events: 1, Detections: 1_000_001}},
			"max_series::detections must be between 1 and 1000000, got 1000001 (it bounds memory and Prometheus cardinality; the default is 10000)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			require.Error(t, err)
			assert.Equal(t, tt.want, err.Error())
		})
	}
}
