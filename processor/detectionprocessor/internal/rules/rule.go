// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package rules

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/bmatcuk/doublestar/v4"
	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/ottl"
	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/processor/detectionprocessor/internal/rulefuncs"
)

// compileRule compiles one merged rule spec; it returns nil when the spec has errors (added to errs).
func compileRule(e *entry, lists map[string][]string, parser *ottl.Parser[rulefuncs.TC], errs *errorList) *Rule {
	s := &e.spec
	n0 := errs.count()
	bad := func(field string, err error) { errs.add(e.file, s.line, s.Name, field, err) }
	r := &Rule{
		Name:        s.Name,
		Description: strings.TrimSpace(s.Description),
		Category:    s.Category,
		Ruleset:     e.ruleset,
		File:        e.file,
		Line:        s.line,
		Events:      s.Event,
		Condition:   strings.TrimSpace(s.Condition),
		Enabled:     s.Enabled == nil || *s.Enabled,
		UUID:        RuleUUID(s.Name),
	}
	if r.Category == "" {
		bad("category", errors.New("required"))
	}
	compileIdentity(r, s.Severity, s.Mitre, bad)
	compileSelectors(r, s, lists, bad)
	compileSuppress(r, s.Suppress, bad)
	compileExceptions(r, e, errs)
	r.cond, r.Expanded = compileCondition("condition", r.Condition, lists, parser, bad)
	if s.Escalate != nil {
		r.Escalation = compileEscalation(s.Escalate, r.Severity, lists, parser, bad)
	}
	if errs.count() != n0 {
		return nil
	}
	return r
}

// compileIdentity checks what a rule or chain is named and counted by: its description, severity
// and MITRE techniques (with the reference URL and the technique slice built once).
func compileIdentity(r *Rule, severity string, mitre []string, bad func(string, error)) {
	if r.Description == "" {
		bad("description", errors.New("required"))
	}
	if severity == "" {
		bad("severity", errors.New("required (critical, warning or info)"))
	} else if sev, err := ParseSeverity(severity); err != nil {
		bad("severity", err)
	} else {
		r.Severity = sev
	}
	r.Mitre = mitre
	for i, t := range mitre {
		if !techniqueRE.MatchString(t) {
			bad(fmt.Sprintf("mitre[%d]", i), fmt.Errorf("%q is not an ATT&CK technique ID like T1059 or T1059.004", t))
		}
	}
	if len(mitre) > 0 {
		r.Reference = TechniqueURL(mitre[0])
	}
	r.techniques = pcommon.NewSlice()
	r.techniques.EnsureCapacity(len(mitre))
	for _, t := range mitre {
		r.techniques.AppendEmpty().SetStr(t)
	}
}

// compileSelectors checks what a rule applies to before its condition runs: event names, hooks,
// syscalls and scope.
func compileSelectors(r *Rule, s *RuleSpec, lists map[string][]string, bad func(string, error)) {
	if len(s.Event) == 0 {
		bad("event", fmt.Errorf("required: one or more of %s", strings.Join(KnownEvents, ", ")))
	}
	for i, ev := range s.Event {
		if !slices.Contains(KnownEvents, ev) {
			bad(fmt.Sprintf("event[%d]", i), fmt.Errorf("unknown event %q; known: %s", ev, strings.Join(KnownEvents, ", ")))
		}
	}
	if len(s.Hooks) > 0 {
		r.Hooks, r.hookSet = expandNameList("hooks", "hook name", s.Hooks, lists, nil, bad)
	}
	if len(s.Syscalls) > 0 {
		r.Syscalls, r.syscallSet = expandNameList("syscalls", "syscall name", s.Syscalls, lists, checkSyscallName, bad)
	}
	if s.Scope != nil {
		sc, field, err := compileScope(s.Scope)
		if err != nil {
			bad("scope."+field, err)
		}
		r.scope = sc
	}
}

func compileSuppress(r *Rule, s *SuppressSpec, bad func(string, error)) {
	if s == nil {
		return
	}
	if s.Window <= 0 {
		bad("suppress.window", fmt.Errorf("must be a positive duration like 30s or 5m, got %v", s.Window))
	}
	keys := make([]FieldRef, 0, len(s.Key))
	for i, k := range s.Key {
		f, err := ParseFieldRef(k)
		if err != nil {
			bad(fmt.Sprintf("suppress.key[%d]", i), err)
		}
		keys = append(keys, f)
	}
	r.Suppress = &Suppress{Window: s.Window, Key: keys}
}

// compileExceptions compiles the rule's exceptions; an error points at the file and line the
// exception (or its appended values) came from.
func compileExceptions(r *Rule, e *entry, errs *errorList) {
	s := &e.spec
	names := map[string]bool{}
	for i, ex := range s.Exceptions {
		field := fmt.Sprintf("exceptions[%d]", i)
		if ex.Name != "" {
			field = fmt.Sprintf("exceptions[%s]", ex.Name)
		}
		if names[ex.Name] {
			errs.add(e.file, s.line, s.Name, field+".name", errors.New("duplicate exception name"))
			continue
		}
		names[ex.Name] = true
		c, sub, err := compileException(ex)
		if err != nil {
			file, line := e.file, s.line
			if ex.file != "" {
				file = ex.file
			}
			if ex.line > 0 {
				line = ex.line
			}
			errs.add(file, line, s.Name, field+sub, err)
			continue
		}
		r.exceptions = append(r.exceptions, c)
	}
}

// compileCondition expands @lists in an OTTL condition and parses it; field names it in errors.
// It returns the parsed condition (nil on error) and the expanded text.
func compileCondition(field, cond string, lists map[string][]string, parser *ottl.Parser[rulefuncs.TC], bad func(string, error)) (*ottl.Condition[rulefuncs.TC], string) {
	if cond == "" {
		bad(field, errors.New("required: an OTTL boolean expression"))
		return nil, ""
	}
	expanded, err := ExpandLists(cond, lists)
	if err != nil {
		bad(field, err)
		return nil, ""
	}
	c, err := parser.ParseCondition(expanded)
	if err != nil {
		bad(field, fmt.Errorf("OTTL: %w", err))
		return nil, expanded
	}
	return c, expanded
}

func compileEscalation(s *EscalateSpec, base Severity, lists map[string][]string, parser *ottl.Parser[rulefuncs.TC], bad func(string, error)) *Escalation {
	e := &Escalation{Condition: strings.TrimSpace(s.Condition)}
	sev, err := ParseSeverity(s.Severity)
	switch {
	case s.Severity == "":
		bad("escalate.severity", errors.New("required (critical, warning or info)"))
	case err != nil:
		bad("escalate.severity", err)
	case base != 0 && sev <= base:
		bad("escalate.severity", fmt.Errorf("%s does not raise the rule's severity %s", sev, base))
	}
	e.Severity = sev
	e.cond, _ = compileCondition("escalate.condition", e.Condition, lists, parser, bad)
	return e
}

func compileScope(s *ScopeSpec) (scope, string, error) {
	var sc scope
	var err error
	if s.Namespaces != nil {
		if sc.nsInclude, err = newGlobSet(s.Namespaces.Include); err != nil {
			return sc, "namespaces.include", err
		}
		if sc.nsExclude, err = newGlobSet(s.Namespaces.Exclude); err != nil {
			return sc, "namespaces.exclude", err
		}
	}
	if s.Workloads != nil {
		if sc.wlInclude, err = newGlobSet(s.Workloads.Include); err != nil {
			return sc, "workloads.include", err
		}
		if sc.wlExclude, err = newGlobSet(s.Workloads.Exclude); err != nil {
			return sc, "workloads.exclude", err
		}
	}
	return sc, "", nil
}

const maxExceptionFields = 8

func compileException(ex ExceptionSpec) (exception, string, error) {
	c := exception{name: ex.Name}
	if ex.Name == "" {
		return c, ".name", errors.New("required")
	}
	if len(ex.Fields) == 0 {
		return c, ".fields", errors.New("required: attribute keys, resource.<key> for resource attributes")
	}
	if len(ex.Fields) > maxExceptionFields {
		return c, ".fields", fmt.Errorf("at most %d fields", maxExceptionFields)
	}
	for i, f := range ex.Fields {
		ref, err := ParseFieldRef(f)
		if err != nil {
			return c, fmt.Sprintf(".fields[%d]", i), err
		}
		c.fields = append(c.fields, ref)
	}
	switch {
	case len(ex.Comps) == 0:
		c.comps = make([]comparator, len(ex.Fields))
	case len(ex.Comps) != len(ex.Fields):
		return c, ".comps", fmt.Errorf("has %d comparators for %d fields; give one per field or none (all =)", len(ex.Comps), len(ex.Fields))
	default:
		for i, s := range ex.Comps {
			cmp, ok := comparatorNames[s]
			if !ok {
				return c, fmt.Sprintf(".comps[%d]", i), fmt.Errorf("unknown comparator %q (want =, !=, in, startswith, endswith, contains, glob)", s)
			}
			c.comps = append(c.comps, cmp)
		}
	}
	for ti, t := range ex.Values {
		if len(t) != len(c.fields) {
			return c, fmt.Sprintf(".values[%d]", ti), fmt.Errorf("tuple has %d items, want %d (fields: %s)", len(t), len(c.fields), strings.Join(ex.Fields, ", "))
		}
		row := make([]operand, len(t))
		for i, it := range t {
			cmp := c.comps[i]
			if it.List && cmp != cmpIn {
				return c, fmt.Sprintf(".values[%d][%d]", ti, i), fmt.Errorf("a list value needs the in comparator, field %s uses %s", ex.Fields[i], cmp)
			}
			switch cmp {
			case cmpIn:
				row[i].set = make(map[string]struct{}, len(it.Values))
				for _, v := range it.Values {
					row[i].set[v] = struct{}{}
				}
			case cmpGlob:
				if !doublestar.ValidatePattern(it.Values[0]) {
					return c, fmt.Sprintf(".values[%d][%d]", ti, i), fmt.Errorf("invalid glob pattern %q", it.Values[0])
				}
				row[i].s = it.Values[0]
			default:
				row[i].s = it.Values[0]
			}
		}
		c.tuples = append(c.tuples, row)
	}
	return c, "", nil
}

// Suppress is a compiled suppress block.
type Suppress struct {
	Window time.Duration
	Key    []FieldRef
}
