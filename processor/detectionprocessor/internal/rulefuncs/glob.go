// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package rulefuncs

import (
	"fmt"
	"strings"

	"github.com/bmatcuk/doublestar/v4"
)

// globSet matches a string against doublestar patterns, cheaply: brace
// alternatives are expanded when the set is built, so that "{/,}etc/shadow"
// becomes two literal strings looked up in a map, and a remaining glob is
// only handed to doublestar when the string contains the glob's literal runs
// ("/**/.ssh/id_*" needs "/.ssh/id_"), which every match must contain. Most
// paths a rule sees match nothing, and are rejected by these checks alone. A
// differential test holds globSet to doublestar.Match on every pattern of
// the catalogue.
type globSet struct {
	exact map[string]struct{}
	globs []glob
}

type glob struct {
	pattern string
	needs   []string // literal runs every match contains
}

// maxBraceExpansion bounds the alternatives one pattern expands into; a
// pattern with more stays a single doublestar glob.
const maxBraceExpansion = 64

// NewGlobSet validates patterns and returns their set: the one glob matcher of the rules (GlobMatch
// and GlobMatchAny, rule scopes). An invalid pattern is an error naming it.
func NewGlobSet(patterns []string) (*GlobSet, error) {
	for _, p := range patterns {
		if !doublestar.ValidatePattern(p) {
			return nil, fmt.Errorf("invalid glob pattern %q", p)
		}
	}
	return (*GlobSet)(newGlobSet(patterns)), nil
}

// GlobSet is a validated globSet.
type GlobSet globSet

// Match reports whether s matches one of the set's patterns.
func (g *GlobSet) Match(s string) bool { return (*globSet)(g).match(s) }

func newGlobSet(patterns []string) *globSet {
	g := &globSet{exact: map[string]struct{}{}}
	for _, p := range patterns {
		alts, ok := expandBraces(p, maxBraceExpansion)
		if !ok {
			alts = []string{p}
		}
		for _, a := range alts {
			if !strings.ContainsAny(a, `*?[{\`) {
				g.exact[a] = struct{}{}
				continue
			}
			g.globs = append(g.globs, glob{pattern: a, needs: literalRuns(a)})
		}
	}
	return g
}

func (g *globSet) match(s string) bool {
	if _, ok := g.exact[s]; ok {
		return true
	}
next:
	for i := range g.globs {
		gl := &g.globs[i]
		for _, n := range gl.needs {
			if !strings.Contains(s, n) {
				continue next
			}
		}
		if doublestar.MatchUnvalidated(gl.pattern, s) {
			return true
		}
	}
	return false
}

// expandBraces returns the brace-free alternatives of a pattern that uses
// braces but no escapes or character classes (whose interplay with braces is
// left to doublestar); ok is false when it does not expand the pattern.
func expandBraces(p string, limit int) ([]string, bool) {
	if !strings.Contains(p, "{") {
		return []string{p}, true
	}
	if strings.ContainsAny(p, `\[`) {
		return nil, false
	}
	open := strings.IndexByte(p, '{')
	depth, end := 0, -1
	var commas []int
	for i := open; i < len(p) && end < 0; i++ {
		switch p[i] {
		case '{':
			depth++
		case '}':
			depth--
			if depth == 0 {
				end = i
			}
		case ',':
			if depth == 1 {
				commas = append(commas, i)
			}
		}
	}
	if end < 0 {
		return nil, false
	}
	var out []string
	start := open + 1
	for _, c := range append(commas, end) {
		rest, ok := expandBraces(p[:open]+p[start:c]+p[end+1:], limit-len(out))
		if !ok || len(out)+len(rest) > limit {
			return nil, false
		}
		out = append(out, rest...)
		start = c + 1
	}
	return out, true
}

// literalRuns returns the runs of literal characters of a brace-free glob
// made of literals, '*', '**' and '?', longest first; nil for globs with
// classes, braces or escapes. A '/' next to '**' is left out of the runs:
// '**' also matches zero directories ("/**/x" matches "/x", "**/x" matches
// "x", "a/**" matches "a").
func literalRuns(p string) []string {
	if strings.ContainsAny(p, `[{\`) {
		return nil
	}
	var runs []string
	var cur strings.Builder
	flush := func() {
		if cur.Len() > 1 {
			runs = append(runs, cur.String())
		}
		cur.Reset()
	}
	for i := 0; i < len(p); i++ {
		switch {
		case strings.HasPrefix(p[i:], "**"):
			r := strings.TrimSuffix(cur.String(), "/")
			cur.Reset()
			cur.WriteString(r)
			flush()
			i++
			if i+1 < len(p) && p[i+1] == '/' {
				i++
			}
		case p[i] == '*' || p[i] == '?':
			flush()
		default:
			cur.WriteByte(p[i])
		}
	}
	flush()
	// Longest first: the most selective test runs first.
	for i := 1; i < len(runs); i++ {
		for j := i; j > 0 && len(runs[j]) > len(runs[j-1]); j-- {
			runs[j], runs[j-1] = runs[j-1], runs[j]
		}
	}
	return runs
}
