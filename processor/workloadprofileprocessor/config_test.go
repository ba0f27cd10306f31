// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package workloadprofileprocessor

import (
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/confmaptest"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/workloadprofile"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/processor/workloadprofileprocessor/internal/metadata"
)

func TestLoadConfig(t *testing.T) {
	cm, err := confmaptest.LoadConf(filepath.Join("testdata", "config.yaml"))
	require.NoError(t, err)
	storageID := component.MustNewID("file_storage")
	custom := defaultConfig()
	custom.Learning = LearningConfig{Period: 12 * time.Hour, Window: 30 * time.Minute, QuietWindows: 4, ImageGrace: 5 * time.Minute}
	custom.Limits = LimitsConfig{MaxWorkloads: 500, Executables: 64, ParentChild: 128, Files: 5, Syscalls: 100, Ports: 32, Peers: 2}
	custom.ClusterCIDRs = []string{"10.244.0.0/16", "10.96.0.0/12"}
	custom.ProfilesFiles = []string{"testdata/payments-api.yaml"}
	custom.ReloadInterval = 10 * time.Second
	custom.Storage = &storageID
	custom.SaveInterval = 5 * time.Minute
	custom.PruneAfter = 168 * time.Hour
	filesOnly := defaultConfig()
	filesOnly.Learning.QuietWindows = 0
	filesOnly.ProfilesFiles = []string{"testdata/*-api.yaml"}
	filesOnly.ReloadInterval = 0

	tests := []struct {
		id       component.ID
		expected *Config
	}{
		{component.NewID(metadata.Type), defaultConfig()},
		{component.NewIDWithName(metadata.Type, "custom"), custom},
		{component.NewIDWithName(metadata.Type, "files_only"), filesOnly},
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

func TestDefaultConfigIsTheModelDefault(t *testing.T) {
	assert.Equal(t, workloadprofile.DefaultConfig(), defaultConfig().profileConfig())
	cfg := defaultConfig()
	assert.Equal(t, 30*time.Second, cfg.ReloadInterval)
	assert.Equal(t, time.Minute, cfg.SaveInterval)
	assert.Nil(t, cfg.Storage)
	assert.Empty(t, cfg.ProfilesFiles)
}

func TestProfileConfigConversion(t *testing.T) {
	cfg := defaultConfig()
	cfg.Learning = LearningConfig{Period: time.Hour, Window: time.Minute, QuietWindows: 2, ImageGrace: time.Second}
	cfg.Limits = LimitsConfig{MaxWorkloads: 7, Executables: 1, ParentChild: 2, Files: 3, Syscalls: 4, Ports: 5, Peers: 6}
	cfg.ClusterCIDRs = []string{"10.244.1.7/16", "fd00::/8"}
	assert.Equal(t, workloadprofile.Config{
		LearningPeriod: time.Hour, Window: time.Minute, QuietWindows: 2, ImageGrace: time.Second,
		Limits:       workloadprofile.Counts{Executables: 1, ParentChild: 2, Files: 3, Syscalls: 4, Ports: 5, Peers: 6},
		MaxWorkloads: 7,
		ClusterCIDRs: []netip.Prefix{netip.MustParsePrefix("10.244.0.0/16"), netip.MustParsePrefix("fd00::/8")},
	}, cfg.profileConfig())
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*Config)
		want   string
	}{
		{"negative period", func(c *Config) { c.Learning.Period = -time.Hour }, "learning.period must be >= 0 (e.g. 24h of the workload's event time; 0 ends learning by learning.quiet_windows only), got -1h0m0s"},
		{"negative window", func(c *Config) { c.Learning.Window = -time.Minute }, "learning.window must be >= 0 (e.g. 1h), got -1m0s"},
		{"negative quiet windows", func(c *Config) { c.Learning.QuietWindows = -1 }, "learning.quiet_windows must be >= 0 (e.g. 3; 0 ends learning by learning.period only), got -1"},
		{"quiet windows without window", func(c *Config) { c.Learning.Window = 0 }, "learning.window must be > 0 when learning.quiet_windows is set (e.g. window: 1h, quiet_windows: 3), got 0s"},
		{"learning never ends", func(c *Config) { c.Learning.Period, c.Learning.QuietWindows = 0, 0 }, "learning never ends: set learning.period (e.g. 24h) or learning.quiet_windows (e.g. 3 with window: 1h)"},
		{"negative image grace", func(c *Config) { c.Learning.ImageGrace = -time.Second }, "learning.image_grace must be >= 0 (e.g. 15m: how long records of a replaced image are ignored during a rolling update), got -1s"},
		{"max workloads", func(c *Config) { c.Limits.MaxWorkloads = 0 }, "limits.max_workloads must be >= 1 (e.g. 2000), got 0"},
		{"executables", func(c *Config) { c.Limits.Executables = 0 }, "limits.executables must be >= 1 (e.g. 256), got 0"},
		{"parent child", func(c *Config) { c.Limits.ParentChild = -3 }, "limits.parent_child must be >= 1 (e.g. 512), got -3"},
		{"files", func(c *Config) { c.Limits.Files = 0 }, "limits.files must be >= 1 (e.g. 9), got 0"},
		{"syscalls", func(c *Config) { c.Limits.Syscalls = 0 }, "limits.syscalls must be >= 1 (e.g. 256), got 0"},
		{"ports", func(c *Config) { c.Limits.Ports = 0 }, "limits.ports must be >= 1 (e.g. 128), got 0"},
		{"peers", func(c *Config) { c.Limits.Peers = 0 }, "limits.peers must be >= 1 (e.g. 4), got 0"},
		{"cidr", func(c *Config) { c.ClusterCIDRs = []string{"10.0.0.0/8", "10.244.0.0"} }, `cluster_cidrs[1]: "10.244.0.0" is not a CIDR prefix (e.g. 10.244.0.0/16 or fd00:10:244::/56)`},
		{"empty profiles file", func(c *Config) { c.ProfilesFiles = []string{""} }, "profiles_files[0] is empty (a path or glob, e.g. /etc/otelcol/profiles/*.yaml)"},
		{"duplicate profiles file", func(c *Config) { c.ProfilesFiles = []string{"a/*.yaml", "a/*.yaml"} }, `profiles_files[1]: "a/*.yaml" is listed twice`},
		{"bad glob", func(c *Config) { c.ProfilesFiles = []string{"a/[.yaml"} }, `profiles_files[0]: "a/[.yaml" is not a valid glob (filepath.Match syntax: *, ?, [a-z]; no **): syntax error in pattern`},
		{"negative reload", func(c *Config) { c.ReloadInterval = -time.Second }, "reload_interval must be >= 0 (0 disables the periodic check), got -1s"},
		{"tiny reload", func(c *Config) { c.ReloadInterval = time.Millisecond }, "reload_interval must be at least 1s (or 0 to disable), got 1ms"},
		{"negative save", func(c *Config) { c.SaveInterval = -time.Second }, "save_interval must be >= 0 (0 saves at shutdown only), got -1s"},
		{"tiny save", func(c *Config) { c.SaveInterval = time.Millisecond }, "save_interval must be at least 1s (or 0 to save at shutdown only), got 1ms"},
		{"negative prune", func(c *Config) { c.PruneAfter = -time.Hour }, "prune_after must be >= 0 (e.g. 168h; 0 keeps every learned profile), got -1h0m0s"},
		{"prune before learning ends", func(c *Config) { c.PruneAfter = time.Hour }, "prune_after must be 0 or at least learning.period (24h0m0s): a workload idle for less would lose a profile still learning, got 1h0m0s"},
		{"missing profiles file", func(c *Config) { c.ProfilesFiles = []string{"testdata/nope.yaml"} }, `profiles_files: profiles_files "testdata/nope.yaml": no such file`},
		{"invalid profiles file", func(c *Config) { c.ProfilesFiles = []string{"testdata/invalid-profile.yaml"} }, "profiles_files: testdata/invalid-profile.yaml"},
	}
	require.NoError(t, defaultConfig().Validate())
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := defaultConfig()
			tt.mutate(c)
			err := c.Validate()
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
	// Valid variations.
	for name, mutate := range map[string]func(*Config){
		"quiet windows only":      func(c *Config) { c.Learning.Period = 0 },
		"period only":             func(c *Config) { c.Learning.QuietWindows, c.Learning.Window = 0, 0 },
		"no periodic reload":      func(c *Config) { c.ReloadInterval = 0 },
		"save at shutdown only":   func(c *Config) { c.SaveInterval = 0 },
		"glob matching nothing":   func(c *Config) { c.ProfilesFiles = []string{"testdata/none-*.yaml"} },
		"a profiles file":         func(c *Config) { c.ProfilesFiles = []string{"testdata/payments-api.yaml"} },
		"ipv6 cluster range":      func(c *Config) { c.ClusterCIDRs = []string{"fd00:10:244::/56"} },
		"prune after learning":    func(c *Config) { c.PruneAfter = 48 * time.Hour },
		"limits above the values": func(c *Config) { c.Limits.Files, c.Limits.Peers = 100, 100 },
	} {
		c := defaultConfig()
		mutate(c)
		assert.NoError(t, c.Validate(), name)
	}
	// Several field errors are reported together.
	c := defaultConfig()
	c.Limits.Ports, c.ReloadInterval = 0, -1
	err := c.Validate()
	require.Error(t, err)
	assert.Equal(t, 2, strings.Count(err.Error(), "must be"))
}
