// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package detectionprocessor

import (
	"errors"
	"fmt"
	"time"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/processor/detectionprocessor/internal/rules"
)

// Modes of an instance.
const (
	// ModeDetect evaluates the rules and tags the records they match (the default).
	ModeDetect = "detect"
	// ModeSelect evaluates nothing and keeps only the records an upstream instance tagged: the
	// detections-only pipeline. It copies what it keeps and never modifies its input.
	ModeSelect = "select"
)

// Config is the configuration of the detection processor.
type Config struct {
	// Mode is detect (the default) or select.
	Mode string `mapstructure:"mode"`
	// BuiltinRules enables the embedded rule catalogue (default true).
	BuiltinRules bool `mapstructure:"builtin_rules"`
	// RulesFiles are YAML rules files applied after the catalogue, in order.
	// They are watched and reloaded on change.
	RulesFiles []string `mapstructure:"rules_files"`
	// DisabledRules names rules (built-in or from files) to turn off.
	DisabledRules []string `mapstructure:"disabled_rules"`
	// DropUnmatched drops records that carry no detection: none of this instance's rules matched
	// and no upstream detection processor tagged them.
	DropUnmatched bool `mapstructure:"drop_unmatched"`
	// ReloadInterval is how often rules_files are checked for changes (stat
	// and content hash) in addition to filesystem notifications; 0 turns
	// the periodic check off.
	ReloadInterval time.Duration `mapstructure:"reload_interval"`
	// MaxSuppressionKeys caps the number of (rule, key) entries the
	// suppression windows remember; the least recently used is evicted.
	MaxSuppressionKeys int `mapstructure:"max_suppression_keys"`
	// Drift configures the container drift tracker (the container_drift rule).
	Drift DriftConfig `mapstructure:"drift"`
	// Incidents configures the joining of detections into incidents and the chain rules.
	Incidents IncidentsConfig `mapstructure:"incidents"`

	_ struct{} // forces keyed literals
}

// IncidentsConfig configures incidents: detections of one container (or host process tree) that
// follow each other within Window, and the chain rules that progress through them.
type IncidentsConfig struct {
	// Enabled tracks incidents and runs the chain rules (default true). Without it no record
	// carries runtime_security.incident.* and no chain fires.
	Enabled bool `mapstructure:"enabled"`
	// Window is the longest gap, in event time, between two detections of one incident.
	Window time.Duration `mapstructure:"window"`
	// MaxIncidents caps the incidents held; the least recently active is evicted first.
	MaxIncidents int `mapstructure:"max_incidents"`

	_ struct{} // forces keyed literals
}

// DriftConfig configures the tracker that marks the execution of a file created or made executable
// in the same container (runtime_security.drift).
type DriftConfig struct {
	// Enabled runs the tracker (default true). It never runs in an instance that evaluates no rule
	// (drop_unmatched with no rules: the detections-only pipeline).
	Enabled bool `mapstructure:"enabled"`
	// MaxEntries caps the remembered (container, file) entries; the least recently written or
	// executed is evicted first.
	MaxEntries int `mapstructure:"max_entries"`
	// TTL is how long, in event time, a file is remembered after it was last written or executed.
	TTL time.Duration `mapstructure:"ttl"`

	_ struct{} // forces keyed literals
}

const minReloadInterval = time.Second

// Validate checks every field and compiles the rules, so that `otelcol
// validate` reports a bad rules file with its precise location.
func (c *Config) Validate() error {
	var errs []error
	if c.ReloadInterval < 0 {
		errs = append(errs, fmt.Errorf("reload_interval must be >= 0 (0 disables the periodic check), got %v", c.ReloadInterval))
	} else if c.ReloadInterval > 0 && c.ReloadInterval < minReloadInterval {
		errs = append(errs, fmt.Errorf("reload_interval must be at least %v (or 0 to disable), got %v", minReloadInterval, c.ReloadInterval))
	}
	if c.MaxSuppressionKeys <= 0 {
		errs = append(errs, fmt.Errorf("max_suppression_keys must be > 0, got %d", c.MaxSuppressionKeys))
	}
	if c.Drift.Enabled {
		if c.Drift.MaxEntries <= 0 {
			errs = append(errs, fmt.Errorf("drift.max_entries must be > 0 (e.g. 10000; or drift.enabled: false), got %d", c.Drift.MaxEntries))
		}
		if c.Drift.TTL <= 0 {
			errs = append(errs, fmt.Errorf("drift.ttl must be > 0 (e.g. 1h: how long a written file is remembered; or drift.enabled: false), got %v", c.Drift.TTL))
		}
	}
	if c.Incidents.Enabled {
		if c.Incidents.Window <= 0 {
			errs = append(errs, fmt.Errorf("incidents.window must be > 0 (e.g. 15m: the longest gap between two detections of one incident; or incidents.enabled: false), got %v", c.Incidents.Window))
		}
		if c.Incidents.MaxIncidents <= 0 {
			errs = append(errs, fmt.Errorf("incidents.max_incidents must be > 0 (e.g. 10000; or incidents.enabled: false), got %d", c.Incidents.MaxIncidents))
		}
	}
	seen := map[string]bool{}
	for i, f := range c.RulesFiles {
		switch {
		case f == "":
			errs = append(errs, fmt.Errorf("rules_files[%d] is empty", i))
		case seen[f]:
			errs = append(errs, fmt.Errorf("rules_files[%d]: %q is listed twice", i, f))
		}
		seen[f] = true
	}
	for i, n := range c.DisabledRules {
		if n == "" {
			errs = append(errs, fmt.Errorf("disabled_rules[%d] is empty", i))
		}
	}
	switch c.Mode {
	case ModeDetect:
		if !c.BuiltinRules && len(c.RulesFiles) == 0 && !c.DropUnmatched {
			errs = append(errs, errors.New("no rules: set builtin_rules: true or list rules_files (or mode: select to keep only records an upstream detection processor tagged)"))
		}
	case ModeSelect:
		if len(c.RulesFiles) > 0 || len(c.DisabledRules) > 0 {
			errs = append(errs, errors.New("mode: select evaluates no rule: remove rules_files and disabled_rules (or use mode: detect)"))
		}
	default:
		errs = append(errs, fmt.Errorf("mode: %q is not detect (evaluate the rules, the default) or select (keep only records an upstream detection processor tagged)", c.Mode))
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	if c.selects() {
		return nil
	}
	if _, err := c.loadRules(); err != nil {
		return fmt.Errorf("rules: %w", err)
	}
	return nil
}

// selects reports whether the instance evaluates no rule and only keeps tagged records: mode
// select, or the combination that meant it before modes existed (legacySelect).
func (c *Config) selects() bool { return c.Mode == ModeSelect || c.legacySelect() }

// legacySelect is `builtin_rules: false` + `drop_unmatched: true` with no rules_files: read as mode
// select, with a deprecation warning, for one release.
func (c *Config) legacySelect() bool {
	return c.Mode == ModeDetect && c.DropUnmatched && !c.BuiltinRules && len(c.RulesFiles) == 0
}

func (c *Config) loadRules() (*rules.Ruleset, error) {
	return rules.Load(rules.Options{Builtin: c.BuiltinRules, Files: c.RulesFiles, Disabled: c.DisabledRules})
}
