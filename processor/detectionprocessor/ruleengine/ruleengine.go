// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

// Package ruleengine exposes the detection processor's rule engine (load,
// compile, evaluate) to tools outside the processor, such as cmd/ruletest.
// The engine lives in the processor's internal/rules; this package only
// re-exports it, so both always behave the same.
package ruleengine

import (
	"github.com/otelcol-runtime-security/otelcol-runtime-security/processor/detectionprocessor/internal/rules"
)

type (
	// Ruleset is a compiled, immutable set of rules.
	Ruleset = rules.Ruleset
	// Rule is one compiled rule.
	Rule = rules.Rule
	// Options select the built-in catalogue, rules files and disabled rules.
	Options = rules.Options
	// Source is one rules YAML document.
	Source = rules.Source
	// Severity is critical, warning or info.
	Severity = rules.Severity
	// Error locates a problem in a rules file.
	Error = rules.Error
	// Errors reports several problems.
	Errors = rules.Errors
)

// Severities.
const (
	SeverityInfo     = rules.SeverityInfo
	SeverityWarning  = rules.SeverityWarning
	SeverityCritical = rules.SeverityCritical
)

// Load reads the built-in catalogue (when opts.Builtin) and opts.Files and
// compiles them.
func Load(opts Options) (*Ruleset, error) { return rules.Load(opts) }

// Compile compiles sources in order.
func Compile(srcs []Source, disabled []string) (*Ruleset, error) {
	return rules.Compile(srcs, disabled, nil)
}
