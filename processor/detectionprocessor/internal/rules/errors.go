// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package rules

import (
	"fmt"
	"strings"
)

// Error is a problem in a rules file, located as precisely as known.
type Error struct {
	File  string // file path, or builtin/<file> for the embedded catalogue
	Line  int    // 0 when unknown
	Rule  string // rule (or override) name, when the problem is inside one
	Field string // e.g. "condition", "exceptions[1].comps", "severity"
	Err   error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	if e.Rule != "" {
		fmt.Fprintf(&b, ": rule %q", e.Rule)
	}
	if e.Field != "" {
		b.WriteString(": ")
		b.WriteString(e.Field)
	}
	b.WriteString(": ")
	b.WriteString(e.Err.Error())
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// errorList collects load errors; at most maxErrors are kept.
type errorList struct {
	errs    []error
	dropped int
}

const maxErrors = 20

func (l *errorList) add(file string, line int, rule, field string, err error) {
	if len(l.errs) >= maxErrors {
		l.dropped++
		return
	}
	l.errs = append(l.errs, &Error{File: file, Line: line, Rule: rule, Field: field, Err: err})
}

// count is the number of problems added so far, kept or dropped.
func (l *errorList) count() int { return len(l.errs) + l.dropped }

func (l *errorList) err() error {
	if len(l.errs) == 0 {
		return nil
	}
	if len(l.errs) == 1 && l.dropped == 0 {
		return l.errs[0]
	}
	return &Errors{List: l.errs, Dropped: l.dropped}
}

// Errors reports several problems at once, one per line.
type Errors struct {
	List    []error
	Dropped int
}

func (e *Errors) Error() string {
	parts := make([]string, 0, len(e.List)+1)
	for _, err := range e.List {
		parts = append(parts, err.Error())
	}
	if e.Dropped > 0 {
		parts = append(parts, fmt.Sprintf("… and %d more errors", e.Dropped))
	}
	return fmt.Sprintf("%d rule errors:\n  %s", len(e.List)+e.Dropped, strings.Join(parts, "\n  "))
}

func (e *Errors) Unwrap() []error { return e.List }
