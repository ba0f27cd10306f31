// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package rules

import (
	"context"
	"errors"
	"strings"

	"github.com/bmatcuk/doublestar/v4"
	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/ottl"
	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/ottl/contexts/ottllog"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/attrkey"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/processor/detectionprocessor/internal/rulefuncs"
)

// Rule is a compiled rule. Its exported fields are read-only after Compile.
type Rule struct {
	Name        string
	Description string
	Category    string
	Severity    Severity
	Mitre       []string
	Reference   string // MITRE URL of the first technique, "" when none
	UUID        string // RuleUUID(Name)
	Ruleset     string // "builtin" or the defining file's basename
	File        string // defining file (builtin/<file> for the catalogue)
	Line        int
	Events      []string
	Hooks       []string
	Syscalls    []string // @lists expanded, like Hooks
	Condition   string   // as written
	Expanded    string   // with @lists substituted: what OTTL parsed
	Enabled     bool
	Suppress    *Suppress
	Escalation  *Escalation // nil when the rule has one severity
	Order       int         // position in the catalogue

	cond       *ottl.Condition[rulefuncs.TC]
	prefilter  *pred      // necessary condition of cond, nil when none is known
	pfFields   []FieldRef // the fields prefilter indexes (the Ruleset's)
	hookSet    map[string]struct{}
	syscallSet map[string]struct{}
	scope      scope
	exceptions []exception
	techniques pcommon.Slice
}

// Escalation is a higher severity a match takes when Condition also holds.
type Escalation struct {
	Severity  Severity
	Condition string // as written
	cond      *ottl.Condition[rulefuncs.TC]
}

// SeverityFor is the severity of this rule's match on the record in tc: the
// escalated one when the escalation condition holds (an evaluation error keeps
// the rule's own severity and is returned).
func (r *Rule) SeverityFor(ctx context.Context, tc rulefuncs.TC) (Severity, error) {
	if r.Escalation == nil {
		return r.Severity, nil
	}
	ok, err := r.Escalation.cond.Eval(ctx, tc)
	if err != nil || !ok {
		return r.Severity, err
	}
	return r.Escalation.Severity, nil
}

// Techniques returns Mitre as a pcommon.Slice built once at load. Callers must
// not modify it; CopyTo it into a record.
func (r *Rule) Techniques() pcommon.Slice { return r.techniques }

// Ruleset is an immutable compiled set of rules, safe for concurrent use.
type Ruleset struct {
	rules   []*Rule
	byName  map[string]*Rule
	byEvent map[string][]*Rule // enabled rules per EventName, catalogue order
	// byExeName narrows byEvent by the executable's name (nameindex.go), per EventName.
	byExeName map[string]*nameIndex
	lists     map[string][]string
	// chains in definition order (chain.go); their Rule.Order follows the rules'.
	chains        []*Chain
	chainByName   map[string]*Chain
	enabledChains []*Chain
}

// Rules returns every rule, enabled or not, in catalogue order.
func (rs *Ruleset) Rules() []*Rule { return rs.rules }

// Rule returns the rule of that name, or nil.
func (rs *Ruleset) Rule(name string) *Rule { return rs.byName[name] }

// Names returns all rule names in catalogue order.
func (rs *Ruleset) Names() []string {
	out := make([]string, len(rs.rules))
	for i, r := range rs.rules {
		out[i] = r.Name
	}
	return out
}

// Lists returns the named lists after merging all sources.
func (rs *Ruleset) Lists() map[string][]string { return rs.lists }

// EnabledCount returns the number of enabled rules.
func (rs *Ruleset) EnabledCount() int {
	n := 0
	for _, r := range rs.rules {
		if r.Enabled {
			n++
		}
	}
	return n
}

// HasRulesFor reports whether any enabled rule applies to eventName.
func (rs *Ruleset) HasRulesFor(eventName string) bool { return len(rs.byEvent[eventName]) > 0 }

// Evaluate appends to dst the enabled rules that match the record of tc, in
// catalogue order, and returns dst. For each candidate rule (indexed by
// EventName) it checks, cheapest first: hooks and syscalls (a rule with
// both admits a record either admits), scope, the OTTL condition, then
// exceptions. A condition that fails to evaluate makes its rule not
// match and is reported through onError (which may be nil).
func (rs *Ruleset) Evaluate(ctx context.Context, tc rulefuncs.TC, dst []*Rule, onError func(*Rule, error)) []*Rule {
	lr := tc.GetLogRecord()
	ev := lr.EventName()
	candidates := rs.byEvent[ev]
	if len(candidates) == 0 {
		return dst
	}
	res := tc.GetResource().Attributes()
	attrs := lr.Attributes()
	if ix := rs.byExeName[ev]; ix != nil {
		candidates = ix.candidates(attrkey.Str(attrs, attrkey.ProcessExecutableName))
	}
	var hook, syscall string
	var hookRead, syscallRead bool
	var view recordView // the prefilters' attribute cache, set up on first use
	for _, r := range candidates {
		if r.hookSet != nil || r.syscallSet != nil {
			admitted := false
			if r.hookSet != nil {
				if !hookRead {
					hook, hookRead = attrkey.Str(attrs, attrkey.TetragonHook), true
				}
				_, admitted = r.hookSet[hook]
			}
			if !admitted && r.syscallSet != nil {
				if !syscallRead {
					syscall, syscallRead = attrkey.Str(attrs, attrkey.TetragonSyscallName), true
				}
				_, admitted = r.syscallSet[syscall]
			}
			if !admitted {
				continue
			}
		}
		if !r.scope.admits(res) {
			continue
		}
		if r.prefilter != nil {
			if view.fields == nil {
				view.res, view.attrs, view.lr, view.fields = res, attrs, lr, r.pfFields
			}
			if !r.prefilter.eval(&view) {
				continue
			}
		}
		ok, err := r.cond.Eval(ctx, tc)
		if err != nil {
			if onError != nil {
				onError(r, err)
			}
			continue
		}
		if !ok || r.excepted(res, attrs) {
			continue
		}
		dst = append(dst, r)
	}
	return dst
}

// Prefilter describes the necessary condition derived from the rule's
// condition and checked before OTTL runs (see prefilter.go); "" when none.
func (r *Rule) Prefilter() string {
	if r.prefilter == nil {
		return ""
	}
	return r.prefilter.String()
}

// PrefilterAdmits reports whether the rule's prefilter lets the record of tc
// through to the OTTL condition (true when the rule has none).
func (r *Rule) PrefilterAdmits(tc rulefuncs.TC) bool {
	if r.prefilter == nil {
		return true
	}
	lr := tc.GetLogRecord()
	return r.prefilter.eval(&recordView{res: tc.GetResource().Attributes(), attrs: lr.Attributes(), lr: lr, fields: r.pfFields})
}

// ConditionMatches evaluates the rule's OTTL condition alone (no prefilter,
// hooks, scope or exceptions).
func (r *Rule) ConditionMatches(ctx context.Context, tc rulefuncs.TC) (bool, error) {
	return r.cond.Eval(ctx, tc)
}

// EvaluateRecord is Evaluate for a record given by its parts.
func (rs *Ruleset) EvaluateRecord(ctx context.Context, rl plog.ResourceLogs, sl plog.ScopeLogs, lr plog.LogRecord, dst []*Rule, onError func(*Rule, error)) []*Rule {
	if !rs.HasRulesFor(lr.EventName()) {
		return dst
	}
	tc := ottllog.NewTransformContext(rl, sl, lr)
	defer tc.Close()
	return rs.Evaluate(ctx, tc, dst, onError)
}

func (r *Rule) excepted(res, attrs pcommon.Map) bool {
	for i := range r.exceptions {
		if r.exceptions[i].matches(res, attrs) {
			return true
		}
	}
	return false
}

// FieldRef names an attribute: a log record attribute key, or a resource
// attribute written resource.<key>.
type FieldRef struct {
	Resource bool
	Key      string
}

// ParseFieldRef parses an attribute key or resource.<key>.
func ParseFieldRef(s string) (FieldRef, error) {
	if s == "" {
		return FieldRef{}, errors.New("empty attribute key")
	}
	if k, ok := strings.CutPrefix(s, "resource."); ok {
		if k == "" {
			return FieldRef{}, errors.New(`"resource." needs a resource attribute key after it`)
		}
		return FieldRef{Resource: true, Key: k}, nil
	}
	return FieldRef{Key: s}, nil
}

func (f FieldRef) String() string {
	if f.Resource {
		return "resource." + f.Key
	}
	return f.Key
}

// Get returns the attribute value from the resource or record attributes.
func (f FieldRef) Get(res, attrs pcommon.Map) (pcommon.Value, bool) {
	if f.Resource {
		return res.Get(f.Key)
	}
	return attrs.Get(f.Key)
}

type comparator uint8

const (
	cmpEq comparator = iota
	cmpNe
	cmpIn
	cmpStartsWith
	cmpEndsWith
	cmpContains
	cmpGlob
)

var comparatorNames = map[string]comparator{
	"=": cmpEq, "!=": cmpNe, "in": cmpIn, "startswith": cmpStartsWith,
	"endswith": cmpEndsWith, "contains": cmpContains, "glob": cmpGlob,
}

func (c comparator) String() string {
	for n, v := range comparatorNames {
		if v == c {
			return n
		}
	}
	return "?"
}

type operand struct {
	s   string
	set map[string]struct{} // for in
}

func (c comparator) str(s string, o *operand) bool {
	switch c {
	case cmpEq:
		return s == o.s
	case cmpNe:
		return s != o.s
	case cmpIn:
		_, ok := o.set[s]
		return ok
	case cmpStartsWith:
		return strings.HasPrefix(s, o.s)
	case cmpEndsWith:
		return strings.HasSuffix(s, o.s)
	case cmpContains:
		return strings.Contains(s, o.s)
	case cmpGlob:
		return doublestar.MatchUnvalidated(o.s, s)
	}
	return false
}

// value compares an attribute: a missing attribute only satisfies !=; a list
// attribute satisfies a comparator when any element does (for != when no
// element equals the operand); other scalars compare in their string form.
func (c comparator) value(v pcommon.Value, present bool, o *operand) bool {
	if !present {
		return c == cmpNe
	}
	switch v.Type() {
	case pcommon.ValueTypeStr:
		return c.str(v.Str(), o)
	case pcommon.ValueTypeSlice:
		sl := v.Slice()
		if c == cmpNe {
			for i := 0; i < sl.Len(); i++ {
				if sl.At(i).AsString() == o.s {
					return false
				}
			}
			return true
		}
		for i := 0; i < sl.Len(); i++ {
			if e := sl.At(i); c.str(e.AsString(), o) {
				return true
			}
		}
		return false
	case pcommon.ValueTypeEmpty:
		return c == cmpNe
	}
	return c.str(v.AsString(), o)
}

type exception struct {
	name   string
	fields []FieldRef
	comps  []comparator
	tuples [][]operand
}

func (e *exception) matches(res, attrs pcommon.Map) bool {
	if len(e.tuples) == 0 {
		return false
	}
	var vals [maxExceptionFields]pcommon.Value
	var present [maxExceptionFields]bool
	for i, f := range e.fields {
		vals[i], present[i] = f.Get(res, attrs)
	}
	for _, t := range e.tuples {
		all := true
		for i := range e.fields {
			if !e.comps[i].value(vals[i], present[i], &t[i]) {
				all = false
				break
			}
		}
		if all {
			return true
		}
	}
	return false
}

// newGlobSet is the set of a scope's globs (rulefuncs.GlobSet); nil when there are none.
func newGlobSet(patterns []string) (*rulefuncs.GlobSet, error) {
	if len(patterns) == 0 {
		return nil, nil
	}
	return rulefuncs.NewGlobSet(patterns)
}

type scope struct {
	nsInclude, nsExclude, wlInclude, wlExclude *rulefuncs.GlobSet
}

func (s *scope) admits(res pcommon.Map) bool {
	if s.nsInclude == nil && s.nsExclude == nil && s.wlInclude == nil && s.wlExclude == nil {
		return true
	}
	return admitted(res, attrkey.K8sNamespaceName, s.nsInclude, s.nsExclude) &&
		admitted(res, attrkey.K8sWorkloadName, s.wlInclude, s.wlExclude)
}

func admitted(res pcommon.Map, key string, include, exclude *rulefuncs.GlobSet) bool {
	if include == nil && exclude == nil {
		return true
	}
	v, ok := res.Get(key)
	name := ""
	if ok && v.Type() == pcommon.ValueTypeStr {
		name = v.Str()
	}
	if include != nil && (name == "" || !include.Match(name)) {
		return false
	}
	return exclude == nil || name == "" || !exclude.Match(name)
}
