// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

// Package rulestest builds log records by hand and runs rules over them, for
// tests of the rule engine and of the catalogue.
package rulestest

import (
	"context"
	"fmt"

	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/processor/detectionprocessor/internal/rules"
)

// Event describes one record as the tetragon receiver would write it.
type Event struct {
	// Name is the EventName, e.g. "tetragon.process_exec".
	Name string
	// Resource holds resource attributes (k8s.namespace.name, container.id, …).
	Resource map[string]any
	// Attributes holds log record attributes. Values follow pcommon's FromRaw:
	// string, int, int64, bool, float64, []any (slices), map[string]any.
	Attributes map[string]any
}

// Logs returns a plog.Logs holding the one record.
func (e Event) Logs() plog.Logs {
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	if err := rl.Resource().Attributes().FromRaw(e.Resource); err != nil {
		panic(fmt.Sprintf("rulestest: resource attributes: %v", err))
	}
	lr := rl.ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
	lr.SetEventName(e.Name)
	lr.SetSeverityNumber(plog.SeverityNumberInfo)
	lr.SetSeverityText("INFO")
	if err := lr.Attributes().FromRaw(e.Attributes); err != nil {
		panic(fmt.Sprintf("rulestest: attributes: %v", err))
	}
	return ld
}

// Matches returns the names of the rules of rs that match e, in catalogue
// order, and the first evaluation error (nil when none).
func Matches(rs *rules.Ruleset, e Event) ([]string, error) {
	ld := e.Logs()
	rl := ld.ResourceLogs().At(0)
	sl := rl.ScopeLogs().At(0)
	var firstErr error
	got := rs.EvaluateRecord(context.Background(), rl, sl, sl.LogRecords().At(0), nil, func(r *rules.Rule, err error) {
		if firstErr == nil {
			firstErr = fmt.Errorf("rule %q: %w", r.Name, err)
		}
	})
	names := make([]string, len(got))
	for i, r := range got {
		names[i] = r.Name
	}
	return names, firstErr
}

// Compile compiles one YAML document (named name in errors) with no built-in
// rules.
func Compile(name, yamlText string) (*rules.Ruleset, error) {
	return rules.Compile([]rules.Source{{Ruleset: name, Path: name, Data: []byte(yamlText)}}, nil, nil)
}

// Builtin compiles the embedded catalogue alone.
func Builtin() (*rules.Ruleset, error) {
	return rules.Load(rules.Options{Builtin: true})
}
