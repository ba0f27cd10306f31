// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package workloadprofileprocessor

import (
	"errors"
	"fmt"
	"net/netip"
	"path/filepath"
	"time"

	"go.opentelemetry.io/collector/component"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/workloadprofile"
)

// Config is the configuration of the workload_profile processor.
type Config struct {
	// Learning is when a learned profile stops learning and starts enforcing.
	Learning LearningConfig `mapstructure:"learning"`
	// Limits caps the learned profiles: how many workloads, and the items of
	// each list of one profile.
	Limits LimitsConfig `mapstructure:"limits"`
	// ClusterCIDRs are the cluster's pod and service ranges: peers in them
	// are the peer class "cluster" rather than "private".
	ClusterCIDRs []string `mapstructure:"cluster_cidrs"`
	// ProfilesFiles are globs of reviewed profile files (bin/profiles learn
	// writes them). A file profile is authoritative for its workload. They
	// are watched and reloaded on change.
	ProfilesFiles []string `mapstructure:"profiles_files"`
	// ReloadInterval is how often profiles_files are checked for changes in
	// addition to filesystem notifications; 0 turns the periodic check off.
	ReloadInterval time.Duration `mapstructure:"reload_interval"`
	// Storage is the id of a storage extension (e.g. file_storage) that keeps
	// the learned profiles across restarts; nil keeps them in memory only.
	Storage *component.ID `mapstructure:"storage"`
	// SaveInterval is how often the learned profiles are saved to Storage
	// when they changed; they are also saved at shutdown. 0 saves at
	// shutdown only.
	SaveInterval time.Duration `mapstructure:"save_interval"`
	// PruneAfter forgets a learned profile whose workload sent no record for
	// this long (a deleted workload), freeing its place under
	// limits.max_workloads. 0 keeps every profile.
	PruneAfter time.Duration `mapstructure:"prune_after"`

	_ struct{} // forces keyed literals
}

// LearningConfig is the lifecycle of learned profiles, on each workload's
// own event time.
type LearningConfig struct {
	// Period of a workload's event time after its first record (or after an
	// image change) ends learning; 0: only quiet windows end it.
	Period time.Duration `mapstructure:"period"`
	// Window and QuietWindows: learning also ends after QuietWindows
	// consecutive windows, each with records of the workload, that added
	// nothing to its profile; QuietWindows 0 turns this off.
	Window       time.Duration `mapstructure:"window"`
	QuietWindows int           `mapstructure:"quiet_windows"`
	// ImageGrace is how long after an image change records of the replaced
	// image are ignored (a rolling update runs both).
	ImageGrace time.Duration `mapstructure:"image_grace"`

	_ struct{}
}

// LimitsConfig caps learned profiles. File profiles are taken as written.
type LimitsConfig struct {
	MaxWorkloads int `mapstructure:"max_workloads"`
	Executables  int `mapstructure:"executables"`
	ParentChild  int `mapstructure:"parent_child"`
	Files        int `mapstructure:"files"`
	Syscalls     int `mapstructure:"syscalls"`
	Ports        int `mapstructure:"ports"`
	Peers        int `mapstructure:"peers"`

	_ struct{}
}

const (
	minReloadInterval = time.Second
	minSaveInterval   = time.Second
)

func defaultConfig() *Config {
	d := workloadprofile.DefaultConfig()
	return &Config{
		Learning: LearningConfig{Period: d.LearningPeriod, Window: d.Window, QuietWindows: d.QuietWindows, ImageGrace: d.ImageGrace},
		Limits: LimitsConfig{
			MaxWorkloads: d.MaxWorkloads,
			Executables:  d.Limits.Executables,
			ParentChild:  d.Limits.ParentChild,
			Files:        d.Limits.Files,
			Syscalls:     d.Limits.Syscalls,
			Ports:        d.Limits.Ports,
			Peers:        d.Limits.Peers,
		},
		ReloadInterval: 30 * time.Second,
		SaveInterval:   time.Minute,
	}
}

// Validate checks every field, and reads profiles_files, so that `otelcol
// validate` reports a bad profile file with its path and field.
func (c *Config) Validate() error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	l := c.Learning
	if l.Period < 0 {
		add("learning.period must be >= 0 (e.g. 24h of the workload's event time; 0 ends learning by learning.quiet_windows only), got %v", l.Period)
	}
	if l.Window < 0 {
		add("learning.window must be >= 0 (e.g. 1h), got %v", l.Window)
	}
	if l.QuietWindows < 0 {
		add("learning.quiet_windows must be >= 0 (e.g. 3; 0 ends learning by learning.period only), got %d", l.QuietWindows)
	}
	if l.QuietWindows > 0 && l.Window <= 0 {
		add("learning.window must be > 0 when learning.quiet_windows is set (e.g. window: 1h, quiet_windows: 3), got %v", l.Window)
	}
	if l.Period == 0 && l.QuietWindows == 0 {
		add("learning never ends: set learning.period (e.g. 24h) or learning.quiet_windows (e.g. 3 with window: 1h)")
	}
	if l.ImageGrace < 0 {
		add("learning.image_grace must be >= 0 (e.g. 15m: how long records of a replaced image are ignored during a rolling update), got %v", l.ImageGrace)
	}
	for _, lim := range []struct {
		name string
		v    int
		eg   string
	}{
		{"max_workloads", c.Limits.MaxWorkloads, "2000"},
		{"executables", c.Limits.Executables, "256"},
		{"parent_child", c.Limits.ParentChild, "512"},
		{"files", c.Limits.Files, fmt.Sprint(len(workloadprofile.FileClasses))},
		{"syscalls", c.Limits.Syscalls, "256"},
		{"ports", c.Limits.Ports, "128"},
		{"peers", c.Limits.Peers, fmt.Sprint(len(workloadprofile.PeerClasses))},
	} {
		if lim.v < 1 {
			add("limits.%s must be >= 1 (e.g. %s), got %d", lim.name, lim.eg, lim.v)
		}
	}
	for i, s := range c.ClusterCIDRs {
		if _, err := netip.ParsePrefix(s); err != nil {
			add("cluster_cidrs[%d]: %q is not a CIDR prefix (e.g. 10.244.0.0/16 or fd00:10:244::/56)", i, s)
		}
	}
	seen := map[string]bool{}
	for i, g := range c.ProfilesFiles {
		switch {
		case g == "":
			add("profiles_files[%d] is empty (a path or glob, e.g. /etc/otelcol/profiles/*.yaml)", i)
		case seen[g]:
			add("profiles_files[%d]: %q is listed twice", i, g)
		default:
			if _, err := filepath.Match(g, ""); err != nil {
				add("profiles_files[%d]: %q is not a valid glob (filepath.Match syntax: *, ?, [a-z]; no **): %v", i, g, err)
			}
		}
		seen[g] = true
	}
	if c.ReloadInterval < 0 {
		add("reload_interval must be >= 0 (0 disables the periodic check), got %v", c.ReloadInterval)
	} else if c.ReloadInterval > 0 && c.ReloadInterval < minReloadInterval {
		add("reload_interval must be at least %v (or 0 to disable), got %v", minReloadInterval, c.ReloadInterval)
	}
	if c.SaveInterval < 0 {
		add("save_interval must be >= 0 (0 saves at shutdown only), got %v", c.SaveInterval)
	} else if c.SaveInterval > 0 && c.SaveInterval < minSaveInterval {
		add("save_interval must be at least %v (or 0 to save at shutdown only), got %v", minSaveInterval, c.SaveInterval)
	}
	if c.PruneAfter < 0 {
		add("prune_after must be >= 0 (e.g. 168h; 0 keeps every learned profile), got %v", c.PruneAfter)
	} else if c.PruneAfter > 0 && c.PruneAfter < l.Period {
		add("prune_after must be 0 or at least learning.period (%v): a workload idle for less would lose a profile still learning, got %v", l.Period, c.PruneAfter)
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	if err := c.profileConfig().Validate(); err != nil {
		return err
	}
	if _, err := workloadprofile.LoadFiles(c.ProfilesFiles); err != nil {
		return fmt.Errorf("profiles_files: %w", err)
	}
	return nil
}

// profileConfig is the one conversion to the model's configuration. The
// config must have passed Validate (bad CIDRs are skipped).
func (c *Config) profileConfig() workloadprofile.Config {
	cfg := workloadprofile.Config{
		LearningPeriod: c.Learning.Period,
		Window:         c.Learning.Window,
		QuietWindows:   c.Learning.QuietWindows,
		ImageGrace:     c.Learning.ImageGrace,
		Limits: workloadprofile.Counts{
			Executables: c.Limits.Executables,
			ParentChild: c.Limits.ParentChild,
			Files:       c.Limits.Files,
			Syscalls:    c.Limits.Syscalls,
			Ports:       c.Limits.Ports,
			Peers:       c.Limits.Peers,
		},
		MaxWorkloads: c.Limits.MaxWorkloads,
	}
	for _, s := range c.ClusterCIDRs {
		if p, err := netip.ParsePrefix(s); err == nil {
			cfg.ClusterCIDRs = append(cfg.ClusterCIDRs, p.Masked())
		}
	}
	return cfg
}
