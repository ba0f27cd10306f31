// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package detectionprocessor

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/confmaptest"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/processor/detectionprocessor/internal/metadata"
)

var defaultIncidents = IncidentsConfig{Enabled: true, Window: 15 * time.Minute, MaxIncidents: 10000}

func TestLoadConfig(t *testing.T) {
	cm, err := confmaptest.LoadConf(filepath.Join("testdata", "config.yaml"))
	require.NoError(t, err)
	tests := []struct {
		id       component.ID
		expected *Config
	}{
		{component.NewID(metadata.Type), &Config{Mode: ModeDetect, BuiltinRules: true, ReloadInterval: 30 * time.Second, MaxSuppressionKeys: 10000,
			Drift: DriftConfig{Enabled: true, MaxEntries: 10000, TTL: time.Hour}, Incidents: defaultIncidents}},
		{component.NewIDWithName(metadata.Type, "custom"), &Config{
			Mode:               ModeDetect,
			BuiltinRules:       false,
			RulesFiles:         []string{"testdata/rules.yaml"},
			DisabledRules:      []string{"Any exec in test namespace"},
			DropUnmatched:      true,
			ReloadInterval:     10 * time.Second,
			MaxSuppressionKeys: 500,
			Drift:              DriftConfig{Enabled: true, MaxEntries: 2000, TTL: 30 * time.Minute},
			Incidents:          IncidentsConfig{Enabled: true, Window: 5 * time.Minute, MaxIncidents: 300},
		}},
		{component.NewIDWithName(metadata.Type, "nodrift"), &Config{Mode: ModeDetect, BuiltinRules: true, ReloadInterval: 30 * time.Second, MaxSuppressionKeys: 10000,
			Drift: DriftConfig{Enabled: false, MaxEntries: 10000, TTL: time.Hour}, Incidents: IncidentsConfig{Enabled: false, Window: 15 * time.Minute, MaxIncidents: 10000}}},
	}
	for _, tt := range tests {
		t.Run(tt.id.String(), func(t *testing.T) {
			cfg := NewFactory().CreateDefaultConfig()
			sub, err := cm.Sub(tt.id.String())
			require.NoError(t, err)
			require.NoError(t, sub.Unmarshal(cfg))
			require.NoError(t, confmap.Validate(cfg))
			assert.Equal(t, tt.expected, cfg)
		})
	}
}

func TestValidate(t *testing.T) {
	base := func() *Config {
		return &Config{Mode: ModeDetect, BuiltinRules: false, RulesFiles: []string{"testdata/rules.yaml"}, ReloadInterval: time.Minute, MaxSuppressionKeys: 10,
			Drift: DriftConfig{Enabled: true, MaxEntries: 10, TTL: time.Minute}, Incidents: defaultIncidents}
	}
	tests := []struct {
		name   string
		mutate func(*Config)
		want   string
	}{
		{"negative reload", func(c *Config) { c.ReloadInterval = -time.Second }, "reload_interval must be >= 0"},
		{"tiny reload", func(c *Config) { c.ReloadInterval = time.Millisecond }, "reload_interval must be at least 1s"},
		{"suppression keys", func(c *Config) { c.MaxSuppressionKeys = 0 }, "max_suppression_keys must be > 0, got 0"},
		{"drift entries", func(c *Config) { c.Drift.MaxEntries = 0 }, "drift.max_entries must be > 0 (e.g. 10000; or drift.enabled: false), got 0"},
		{"drift ttl", func(c *Config) { c.Drift.TTL = -time.Second }, "drift.ttl must be > 0 (e.g. 1h: how long a written file is remembered; or drift.enabled: false), got -1s"},
		{"incident window", func(c *Config) { c.Incidents.Window = 0 }, "incidents.window must be > 0 (e.g. 15m: the longest gap between two detections of one incident; or incidents.enabled: false), got 0s"},
		{"incident cap", func(c *Config) { c.Incidents.MaxIncidents = -1 }, "incidents.max_incidents must be > 0 (e.g. 10000; or incidents.enabled: false), got -1"},
		{"empty file", func(c *Config) { c.RulesFiles = append(c.RulesFiles, "") }, "rules_files[1] is empty"},
		{"duplicate file", func(c *Config) { c.RulesFiles = append(c.RulesFiles, c.RulesFiles[0]) }, `rules_files[1]: "testdata/rules.yaml" is listed twice`},
		{"empty disabled", func(c *Config) { c.DisabledRules = []string{""} }, "disabled_rules[0] is empty"},
		{"no rules", func(c *Config) { c.RulesFiles = nil }, "no rules: set builtin_rules: true or list rules_files (or mode: select"},
		{"bad mode", func(c *Config) { c.Mode = "filter" }, `mode: "filter" is not detect (evaluate the rules, the default) or select`},
		{"select with rules", func(c *Config) { c.Mode = ModeSelect }, "mode: select evaluates no rule: remove rules_files and disabled_rules"},
		{"unknown disabled", func(c *Config) { c.DisabledRules = []string{"Shel in container"} },
			`rules: disabled_rules: rule "Shel in container": no such rule or chain; known rules: Shell in container, Shell spawned by web server, Any exec in test namespace, Sensitive file read`},
		{"missing file", func(c *Config) { c.RulesFiles = []string{"testdata/nope.yaml"} }, "rules: testdata/nope.yaml: open testdata/nope.yaml: no such file or directory"},
		{"bad file", func(c *Config) { c.RulesFiles = []string{"testdata/invalid_rules.yaml"} },
			`rules: testdata/invalid_rules.yaml:4: rule "Broken": condition: OTTL: condition has invalid syntax`},
	}
	require.NoError(t, base().Validate())
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := base()
			tt.mutate(c)
			err := c.Validate()
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
	// A disabled tracker's limits are not checked.
	c0 := base()
	c0.Drift = DriftConfig{Enabled: false}
	require.NoError(t, c0.Validate())
	// Several field errors are reported together.
	c := base()
	c.ReloadInterval, c.MaxSuppressionKeys = -1, -1
	err := c.Validate()
	require.Error(t, err)
	assert.Equal(t, 2, strings.Count(err.Error(), "must be"))
}
