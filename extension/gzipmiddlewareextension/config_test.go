// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package gzipmiddlewareextension

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/confmaptest"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/extension/gzipmiddlewareextension/internal/metadata"
)

func TestConfig(t *testing.T) {
	cm, err := confmaptest.LoadConf(filepath.Join("testdata", "config.yaml"))
	require.NoError(t, err)
	for _, tc := range []struct {
		id      component.ID
		level   int
		wantErr string
	}{
		{id: component.NewID(metadata.Type), level: 1},
		{id: component.NewIDWithName(metadata.Type, "level6"), level: 6},
		{id: component.NewIDWithName(metadata.Type, "zero"), wantErr: "level: 0 is not a gzip level: use 1 (fastest, the default) to 9 (smallest output)"},
		{id: component.NewIDWithName(metadata.Type, "too_high"), wantErr: "level: 10 is not a gzip level"},
	} {
		t.Run(tc.id.String(), func(t *testing.T) {
			cfg := NewFactory().CreateDefaultConfig()
			sub, err := cm.Sub(tc.id.String())
			require.NoError(t, err)
			require.NoError(t, sub.Unmarshal(cfg))
			err = confmap.Validate(cfg)
			if tc.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.level, cfg.(*Config).Level)
		})
	}
}
