// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package rules

import (
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/google/uuid"
	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/ottl/contexts/ottllog"
	"go.opentelemetry.io/collector/component"
	"go.uber.org/zap"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/eventmap"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/processor/detectionprocessor/internal/rulefuncs"
)

// KnownEvents are the EventNames the tetragon receiver writes (eventmap.Types).
var KnownEvents = func() []string {
	out := make([]string, len(eventmap.Types))
	for i, t := range eventmap.Types {
		out[i] = eventmap.EventName(t)
	}
	return out
}()

var (
	techniqueRE = regexp.MustCompile(`^T[0-9]{4}(\.[0-9]{3})?$`)
	listNameRE  = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	// uuidNamespace makes security_rule.uuid a stable function of the rule name.
	uuidNamespace = uuid.NewSHA1(uuid.NameSpaceURL, []byte("https://github.com/otelcol-runtime-security/otelcol-runtime-security/detection-rules"))
)

// RuleUUID is the UUIDv5 of a rule name in the project's fixed namespace.
func RuleUUID(name string) string { return uuid.NewSHA1(uuidNamespace, []byte(name)).String() }

// TechniqueURL is the MITRE ATT&CK page of a technique ID (T1059.004 →
// https://attack.mitre.org/techniques/T1059/004/).
func TechniqueURL(id string) string {
	return "https://attack.mitre.org/techniques/" + strings.ReplaceAll(id, ".", "/") + "/"
}

// entry is a rule spec being assembled, with where it came from.
type entry = sourced[RuleSpec]

// sourced is a spec being assembled, with where it came from.
type sourced[S any] struct {
	spec    S
	file    string
	ruleset string
}

// mergeByName merges the specs of every document in source order: a later document's spec replaces
// an earlier one of the same name in place (keeping its position, so catalogue order is stable); a
// missing name, or a name repeated within one document, is an error. nameOf gives a spec's name and
// line; what ("rule", "chain") and nameField name it in errors.
func mergeByName[S any](srcs []Source, docs []*Document, specsOf func(*Document) []S, nameOf func(*S) (string, int), what, nameField string, errs *errorList) ([]*sourced[S], map[string]*sourced[S]) {
	var entries []*sourced[S]
	byName := map[string]*sourced[S]{}
	for i, doc := range docs {
		seen := map[string]int{}
		for _, spec := range specsOf(doc) {
			name, line := nameOf(&spec)
			if name == "" {
				errs.add(srcs[i].Path, line, "", nameField, fmt.Errorf("a %s needs a name", what))
				continue
			}
			if prev, dup := seen[name]; dup {
				errs.add(srcs[i].Path, line, name, "name", fmt.Errorf("duplicate %s name (first defined at line %d)", what, prev))
				continue
			}
			seen[name] = line
			e := &sourced[S]{spec: spec, file: srcs[i].Path, ruleset: srcs[i].Ruleset}
			if old, ok := byName[name]; ok {
				*old = *e
				continue
			}
			byName[name] = e
			entries = append(entries, e)
		}
	}
	return entries, byName
}

// Compile parses, merges and compiles sources in order: later sources replace
// rules of the same name and may override earlier ones; disabled names are
// applied last. All problems found are reported together.
func Compile(srcs []Source, disabled []string, logger *zap.Logger) (*Ruleset, error) {
	if logger == nil {
		logger = zap.NewNop()
	}
	var errs errorList
	docs := make([]*Document, len(srcs))
	for i, src := range srcs {
		doc, err := parseDocument(src)
		if err != nil {
			addYAMLError(&errs, src.Path, err)
			continue
		}
		if !doc.declares && src.Ruleset != BuiltinRuleset {
			// An empty file (a truncated ConfigMap, a bad template) would otherwise be a good reload
			// that silently removes every rule the site defined.
			errs.add(src.Path, 0, "", "", errors.New("defines nothing (no rules, overrides, chains or lists); if it is meant to be empty, say so with `rules: []`"))
			continue
		}
		docs[i] = doc
	}
	if err := errs.err(); err != nil {
		return nil, err
	}

	lists := map[string][]string{}
	for i, doc := range docs {
		names := make([]string, 0, len(doc.Lists))
		for name := range doc.Lists {
			names = append(names, name)
		}
		sort.Strings(names)
		for _, name := range names {
			if !listNameRE.MatchString(name) {
				errs.add(srcs[i].Path, 0, "", "lists", fmt.Errorf("invalid list name %q (letters, digits and _ only)", name))
				continue
			}
			lists[name] = doc.Lists[name]
		}
	}

	for i, doc := range docs {
		for j := range doc.Rules {
			for k := range doc.Rules[j].Exceptions {
				doc.Rules[j].Exceptions[k].file = srcs[i].Path
			}
		}
	}
	entries, byName := mergeByName(srcs, docs, func(d *Document) []RuleSpec { return d.Rules },
		func(s *RuleSpec) (string, int) { return s.Name, s.line }, "rule", "name", &errs)
	for i, doc := range docs {
		for _, ov := range doc.Overrides {
			applyOverride(srcs[i].Path, ov, byName, &errs)
		}
	}

	parser, err := ottllog.NewParser(rulefuncs.Functions(), component.TelemetrySettings{Logger: logger})
	if err != nil {
		return nil, fmt.Errorf("create OTTL parser: %w", err)
	}
	rs := &Ruleset{byName: map[string]*Rule{}, byEvent: map[string][]*Rule{}, lists: lists}
	var pf prefilterBuilder
	for _, e := range entries {
		r := compileRule(e, lists, &parser, &errs)
		if r == nil {
			continue
		}
		r.prefilter = pf.derive(r.Expanded)
		r.Order = len(rs.rules)
		rs.rules = append(rs.rules, r)
		rs.byName[r.Name] = r
	}
	compileChains(srcs, docs, rs, lists, &parser, &errs)
	for _, name := range disabled {
		if c, ok := rs.chainByName[name]; ok {
			c.Enabled, c.Rule.Enabled = false, false
			continue
		}
		r, ok := rs.byName[name]
		if !ok {
			if _, defined := byName[name]; defined {
				continue // the rule has errors, reported above
			}
			errs.add("disabled_rules", 0, name, "", fmt.Errorf("no such rule or chain; known rules: %s", strings.Join(rs.Names(), ", ")))
			continue
		}
		r.Enabled = false
	}
	if err := errs.err(); err != nil {
		return nil, err
	}
	for _, c := range rs.chains {
		if c.Enabled {
			rs.enabledChains = append(rs.enabledChains, c)
		}
	}
	for _, r := range rs.rules {
		r.pfFields = pf.fields
		if !r.Enabled {
			continue
		}
		for _, ev := range r.Events {
			rs.byEvent[ev] = append(rs.byEvent[ev], r)
		}
	}
	rs.byExeName = map[string]*nameIndex{}
	for ev, rules := range rs.byEvent {
		if ix := buildNameIndex(rules, pf.fields); ix != nil {
			rs.byExeName[ev] = ix
		}
	}
	return rs, nil
}
