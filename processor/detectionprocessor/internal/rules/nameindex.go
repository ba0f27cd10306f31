// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package rules

import (
	"slices"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/attrkey"
)

// nameIndex narrows the candidate rules of one event type by the record's
// executable name before any prefilter runs. Most exec rules' prefilters
// imply that process.executable.name is one of a few values (InList on it,
// == on it, or an or of those): such a rule can only match records with one
// of those names. Indexing them by name replaces a prefilter evaluation per
// rule with one map lookup per record; rules with no such set are always
// candidates.
type nameIndex struct {
	always []*Rule            // rules without a name set, catalogue order
	byName map[string][]*Rule // always plus the rules naming the key, catalogue order
}

// candidates returns the rules that may match a record with this name.
func (ix *nameIndex) candidates(name string) []*Rule {
	if l, ok := ix.byName[name]; ok {
		return l
	}
	return ix.always
}

// buildNameIndex returns the index of rules (one event type's, catalogue
// order), or nil when too few rules have a name set for it to pay.
func buildNameIndex(rules []*Rule, fields []FieldRef) *nameIndex {
	field := slices.Index(fields, FieldRef{Key: attrkey.ProcessExecutableName})
	if field < 0 {
		return nil
	}
	ix := &nameIndex{byName: map[string][]*Rule{}}
	keyed := 0
	for _, r := range rules {
		names, ok := nameSet(r.prefilter, field)
		if !ok || r.hookSet != nil || r.syscallSet != nil {
			ix.always = append(ix.always, r)
			continue
		}
		keyed++
		for _, n := range names {
			ix.byName[n] = append(ix.byName[n], r)
		}
	}
	if keyed < 2 {
		return nil
	}
	for n, l := range ix.byName {
		merged := append(slices.Clone(ix.always), l...)
		slices.SortFunc(merged, func(a, b *Rule) int { return a.Order - b.Order })
		ix.byName[n] = slices.Compact(merged)
	}
	return ix
}

// nameSet returns a set of names that the prefilter p implies the field
// holds one of, when it implies one.
func nameSet(p *pred, field int) ([]string, bool) {
	if p == nil {
		return nil, false
	}
	switch p.kind {
	case predMatch:
		if p.field == field && p.in != nil {
			return p.in, true
		}
	case predEq:
		if p.field == field {
			return []string{p.lit}, true
		}
	case predAnd:
		// Any conjunct's set is a necessary condition: take the smallest.
		var best []string
		found := false
		for _, s := range p.subs {
			if names, ok := nameSet(s, field); ok && (!found || len(names) < len(best)) {
				best, found = names, true
			}
		}
		return best, found
	case predOr:
		var all []string
		for _, s := range p.subs {
			names, ok := nameSet(s, field)
			if !ok {
				return nil, false
			}
			all = append(all, names...)
		}
		return all, len(p.subs) > 0
	}
	return nil, false
}
