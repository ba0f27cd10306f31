// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package rules

import (
	"strconv"
	"strings"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/attrkey"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/processor/detectionprocessor/internal/rulefuncs"
)

// A prefilter is a necessary condition of a rule's OTTL condition, derived
// from the condition's text when the rule is compiled and evaluated in Go
// before OTTL runs: when the prefilter is false, the condition is false, so
// OTTL (which boxes every attribute it reads and walks an expression tree) is
// skipped. Most records fail every rule of their type this way, e.g. an exec
// of `ls` fails `InList(attributes["process.executable.name"], @shell_binaries)
// and …` with one cached attribute read and one map lookup.
//
// Derivation: the condition is split on its top-level `or` and `and`
// (OTTL's precedence: and binds tighter) and parenthesised groups; the atoms
// recognised are
//
//	InList | HasAnyPrefix | HasAnySuffix | ContainsAny | GlobMatchAny (PATH, ["lit", …])
//	GlobMatch(PATH, "lit")
//	PATH == "lit"    PATH == 123    PATH != "lit"    PATH != 123
//	PATH != nil      PATH == nil    event_name == "lit"
//
// with PATH = attributes["k"] or resource.attributes["k"]. Every other atom,
// and everything under `not`, counts as "may be true", so the prefilter can
// only be weaker than the condition, never stronger. The string functions use
// rulefuncs.StringMatcher, the very predicate the OTTL functions run; all the
// recognised atoms are nil-safe in OTTL (no evaluation error is hidden).
// Strings with backslashes are not interpreted (the atom counts as "may be
// true") so that no escaping rule needs to be reproduced.

type predKind uint8

const (
	predAnd predKind = iota
	predOr
	predMatch     // rulefuncs string function on a field
	predEq        // field == "lit"
	predEqInt     // field == 123
	predNe        // field != "lit"
	predNeInt     // field != 123
	predPresent   // field != nil
	predAbsent    // field == nil
	predEventName // event_name == "lit"
)

type pred struct {
	kind  predKind
	field int // index into the Ruleset's prefilter fields
	lit   string
	num   int64
	match func(string) bool
	in    []string // the values of an InList atom, for merging
	subs  []*pred
	desc  string // the atom as written, for Prefilter()
}

// maxPrefilterFields bounds the attribute cache of one evaluation; atoms on
// further fields count as "may be true".
const maxPrefilterFields = 32

// recordView caches the attribute reads of the prefilters for one record.
type recordView struct {
	res, attrs pcommon.Map
	lr         plog.LogRecord
	fields     []FieldRef
	read       uint32 // bit i: vals[i] was looked up
	vals       [maxPrefilterFields]pcommon.Value
	present    uint32
}

func (v *recordView) get(i int) (pcommon.Value, bool) {
	bit := uint32(1) << uint(i)
	if v.read&bit == 0 {
		v.read |= bit
		val, ok := v.fields[i].Get(v.res, v.attrs)
		if ok {
			v.vals[i] = val
			v.present |= bit
		}
	}
	return v.vals[i], v.present&bit != 0
}

func (p *pred) eval(v *recordView) bool {
	switch p.kind {
	case predAnd:
		for _, s := range p.subs {
			if !s.eval(v) {
				return false
			}
		}
		return true
	case predOr:
		for _, s := range p.subs {
			if s.eval(v) {
				return true
			}
		}
		return false
	case predEventName:
		return v.lr.EventName() == p.lit
	}
	val, ok := v.get(p.field)
	switch p.kind {
	case predMatch:
		return ok && rulefuncs.MatchValue(val, p.match)
	case predEq:
		// OTTL: nil and strings other than lit are not equal to lit; other
		// types may compare by other rules, so they may be true.
		return ok && (val.Type() != pcommon.ValueTypeStr || val.Str() == p.lit) && val.Type() != pcommon.ValueTypeEmpty
	case predEqInt:
		// As for predEq: only nil and other ints are known to differ.
		return ok && (val.Type() != pcommon.ValueTypeInt || val.Int() == p.num) && val.Type() != pcommon.ValueTypeEmpty
	case predNe:
		// Known false only for the string lit itself: nil and every other value differ from it,
		// or may compare by other rules.
		return !ok || val.Type() != pcommon.ValueTypeStr || val.Str() != p.lit
	case predNeInt:
		// Known false only for the int num itself (a double may compare equal numerically).
		return !ok || val.Type() != pcommon.ValueTypeInt || val.Int() != p.num
	case predPresent:
		// An absent or empty value reads as nil in OTTL.
		return ok && val.Type() != pcommon.ValueTypeEmpty
	case predAbsent:
		if !ok {
			return true
		}
		switch val.Type() {
		case pcommon.ValueTypeStr, pcommon.ValueTypeInt, pcommon.ValueTypeBool, pcommon.ValueTypeDouble:
			return false // a scalar never equals nil
		}
		return true
	}
	return true
}

func (p *pred) String() string {
	switch p.kind {
	case predAnd, predOr:
		parts := make([]string, len(p.subs))
		for i, s := range p.subs {
			parts[i] = s.String()
			if s.kind == predAnd || s.kind == predOr {
				parts[i] = "(" + parts[i] + ")"
			}
		}
		sep := " and "
		if p.kind == predOr {
			sep = " or "
		}
		return strings.Join(parts, sep)
	}
	return p.desc
}

// prefilterBuilder derives prefilters and assigns field indexes.
type prefilterBuilder struct {
	fields []FieldRef
	index  map[FieldRef]int
}

func (b *prefilterBuilder) field(f FieldRef) (int, bool) {
	if i, ok := b.index[f]; ok {
		return i, true
	}
	if len(b.fields) >= maxPrefilterFields {
		return 0, false
	}
	if b.index == nil {
		b.index = map[FieldRef]int{}
	}
	b.index[f] = len(b.fields)
	b.fields = append(b.fields, f)
	return len(b.fields) - 1, true
}

// derive returns the prefilter of an expanded condition, nil when nothing
// useful is known (the condition may be true on any record).
func (b *prefilterBuilder) derive(cond string) *pred {
	toks, ok := tokenize(cond)
	if !ok {
		return nil
	}
	return b.or(toks)
}

func (b *prefilterBuilder) or(toks []token) *pred {
	parts := split(toks, "or")
	if len(parts) == 1 {
		return b.and(parts[0])
	}
	out := &pred{kind: predOr}
	for _, part := range parts {
		p := b.and(part)
		if p == nil {
			return nil // one branch may be true on anything
		}
		if p.kind == predOr {
			out.subs = append(out.subs, p.subs...)
		} else {
			out.subs = append(out.subs, p)
		}
	}
	return mergeInLists(out)
}

// mergeInLists turns InList atoms of one field under an or into one set
// lookup (the union: a value in either set is in the union, element-wise for
// lists too).
func mergeInLists(or *pred) *pred {
	var out []*pred
	byField := map[int]*pred{}
	for _, s := range or.subs {
		if s.in == nil {
			out = append(out, s)
			continue
		}
		m, ok := byField[s.field]
		if !ok {
			m = &pred{kind: predMatch, field: s.field, in: append([]string(nil), s.in...), desc: s.desc}
			byField[s.field] = m
			out = append(out, m)
			continue
		}
		m.in = append(m.in, s.in...)
		m.desc += " or " + s.desc
	}
	for _, m := range byField {
		m.match, _ = rulefuncs.StringMatcher("InList", m.in)
	}
	if len(out) == 1 {
		return out[0]
	}
	or.subs = out
	return or
}

func (b *prefilterBuilder) and(toks []token) *pred {
	parts := split(toks, "and")
	out := &pred{kind: predAnd}
	for _, part := range parts {
		p := b.factor(part)
		if p == nil {
			continue // may be true: adds nothing
		}
		if p.kind == predAnd {
			out.subs = append(out.subs, p.subs...)
		} else {
			out.subs = append(out.subs, p)
		}
	}
	switch len(out.subs) {
	case 0:
		return nil
	case 1:
		return out.subs[0]
	}
	return out
}

func (b *prefilterBuilder) factor(toks []token) *pred {
	if len(toks) == 0 || toks[0].is("not") {
		return nil
	}
	if toks[0].is("(") && closing(toks, 0) == len(toks)-1 {
		return b.or(toks[1 : len(toks)-1])
	}
	return b.atom(toks)
}

var matcherFuncs = map[string]bool{
	"InList": true, "HasAnyPrefix": true, "HasAnySuffix": true, "ContainsAny": true, "GlobMatchAny": true, "GlobMatch": true,
}

func (b *prefilterBuilder) atom(toks []token) *pred {
	desc := joinTokens(toks)
	// InList(CommandName(), ["lit", …]) / CommandName() == "lit": the
	// executable's name is one of them or a multi-call binary (busybox).
	if name, ok := commandNameValues(toks); ok {
		i, ok := b.field(FieldRef{Key: attrkey.ProcessExecutableName})
		if !ok {
			return nil
		}
		values := append(name, rulefuncs.MultiCallBinaries()...)
		match, err := rulefuncs.StringMatcher("InList", values)
		if err != nil {
			return nil
		}
		return &pred{kind: predMatch, field: i, match: match, in: values, desc: desc}
	}
	// FUNC ( PATH , LIST|STRING )
	if len(toks) >= 8 && toks[0].kind == tokIdent && matcherFuncs[toks[0].text] && toks[1].is("(") && toks[len(toks)-1].is(")") {
		name := toks[0].text
		ref, n, ok := attrPath(toks[2:])
		if !ok || !toks[2+n].is(",") {
			return nil
		}
		rest := toks[3+n : len(toks)-1]
		var values []string
		if name == "GlobMatch" {
			if len(rest) != 1 || rest[0].kind != tokString {
				return nil
			}
			values = []string{rest[0].text}
		} else if values, ok = stringList(rest); !ok || len(values) == 0 {
			return nil
		}
		match, err := rulefuncs.StringMatcher(name, values)
		if err != nil {
			return nil
		}
		i, ok := b.field(ref)
		if !ok {
			return nil
		}
		p := &pred{kind: predMatch, field: i, match: match, desc: desc}
		if name == "InList" {
			p.in = values
		}
		return p
	}
	// event_name == "lit"
	if len(toks) == 3 && toks[0].kind == tokIdent && toks[0].text == "event_name" && toks[1].is("==") && toks[2].kind == tokString {
		return &pred{kind: predEventName, lit: toks[2].text, desc: desc}
	}
	// PATH ==|!= "lit"|nil
	ref, n, ok := attrPath(toks)
	if !ok || len(toks) != n+2 {
		return nil
	}
	op, lit := toks[n], toks[n+1]
	i, ok := b.field(ref)
	if !ok {
		return nil
	}
	num, isInt := int64(0), false
	if lit.kind == tokIdent && isDecimal(lit.text) {
		var err error
		num, err = strconv.ParseInt(lit.text, 10, 64)
		isInt = err == nil
	}
	switch {
	case op.is("==") && lit.kind == tokString:
		return &pred{kind: predEq, field: i, lit: lit.text, desc: desc}
	case op.is("==") && isInt:
		return &pred{kind: predEqInt, field: i, num: num, desc: desc}
	case op.is("!=") && lit.kind == tokString:
		return &pred{kind: predNe, field: i, lit: lit.text, desc: desc}
	case op.is("!=") && isInt:
		return &pred{kind: predNeInt, field: i, num: num, desc: desc}
	case op.is("!=") && lit.is("nil"):
		return &pred{kind: predPresent, field: i, desc: desc}
	case op.is("==") && lit.is("nil"):
		return &pred{kind: predAbsent, field: i, desc: desc}
	}
	return nil
}

// commandNameValues returns the values of `InList(CommandName(), [...])` or
// `CommandName() == "lit"`.
func commandNameValues(toks []token) ([]string, bool) {
	isCall := func(t []token) bool {
		return len(t) >= 3 && t[0].kind == tokIdent && t[0].text == "CommandName" && t[1].is("(") && t[2].is(")")
	}
	if len(toks) == 5 && isCall(toks) && toks[3].is("==") && toks[4].kind == tokString {
		return []string{toks[4].text}, true
	}
	if len(toks) >= 8 && toks[0].kind == tokIdent && toks[0].text == "InList" && toks[1].is("(") &&
		isCall(toks[2:]) && toks[5].is(",") && toks[len(toks)-1].is(")") {
		values, ok := stringList(toks[6 : len(toks)-1])
		return values, ok && len(values) > 0
	}
	return nil, false
}

// attrPath parses attributes["k"] or resource.attributes["k"] at the start of
// toks, returning the reference and the number of tokens it spans.
func attrPath(toks []token) (FieldRef, int, bool) {
	if len(toks) < 4 || toks[0].kind != tokIdent || !toks[1].is("[") || toks[2].kind != tokString || !toks[3].is("]") {
		return FieldRef{}, 0, false
	}
	if len(toks) > 4 && toks[4].is("[") {
		return FieldRef{}, 0, false // an index into the value
	}
	switch toks[0].text {
	case "attributes":
		return FieldRef{Key: toks[2].text}, 4, true
	case "resource.attributes":
		return FieldRef{Resource: true, Key: toks[2].text}, 4, true
	}
	return FieldRef{}, 0, false
}

func isDecimal(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

func stringList(toks []token) ([]string, bool) {
	if len(toks) < 2 || !toks[0].is("[") || !toks[len(toks)-1].is("]") {
		return nil, false
	}
	var out []string
	inner := toks[1 : len(toks)-1]
	for i, t := range inner {
		if i%2 == 1 {
			if !t.is(",") {
				return nil, false
			}
			continue
		}
		if t.kind != tokString {
			return nil, false
		}
		out = append(out, t.text)
	}
	if len(inner) > 0 && len(inner)%2 == 0 {
		return nil, false // trailing comma
	}
	return out, true
}

// Tokens of OTTL's condition syntax, as much as the derivation needs.

type tokKind uint8

const (
	tokPunct  tokKind = iota // ( ) [ ] { } , and operators
	tokIdent                 // names, paths (with dots), keywords, numbers
	tokString                // a string literal without backslashes, unquoted
	tokOpaque                // a string literal with escapes: never interpreted
)

type token struct {
	kind tokKind
	text string
}

func (t token) is(s string) bool { return t.kind != tokString && t.kind != tokOpaque && t.text == s }

func tokenize(s string) ([]token, bool) {
	var out []token
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '"':
			j := i + 1
			escaped := false
			for ; j < len(s) && s[j] != '"'; j++ {
				if s[j] == '\\' {
					escaped = true
					j++
				}
			}
			if j >= len(s) {
				return nil, false
			}
			if escaped {
				out = append(out, token{kind: tokOpaque, text: s[i : j+1]})
			} else {
				out = append(out, token{kind: tokString, text: s[i+1 : j]})
			}
			i = j + 1
		case isIdentByte(c, false) || c == '.':
			j := i
			for j < len(s) && (isIdentByte(s[j], false) || s[j] == '.') {
				j++
			}
			out = append(out, token{kind: tokIdent, text: s[i:j]})
			i = j
		case strings.IndexByte("()[]{},:+-*/", c) >= 0:
			out = append(out, token{kind: tokPunct, text: s[i : i+1]})
			i++
		case c == '=' || c == '!' || c == '<' || c == '>':
			j := i + 1
			if j < len(s) && s[j] == '=' {
				j++
			}
			out = append(out, token{kind: tokPunct, text: s[i:j]})
			i = j
		default:
			return nil, false
		}
	}
	return out, true
}

// split cuts toks at the keyword sep outside brackets.
func split(toks []token, sep string) [][]token {
	var parts [][]token
	depth, start := 0, 0
	for i, t := range toks {
		switch {
		case t.is("(") || t.is("[") || t.is("{"):
			depth++
		case t.is(")") || t.is("]") || t.is("}"):
			depth--
		case depth == 0 && t.kind == tokIdent && t.text == sep:
			parts = append(parts, toks[start:i])
			start = i + 1
		}
	}
	return append(parts, toks[start:])
}

// closing returns the index of the bracket closing toks[open], or -1.
func closing(toks []token, open int) int {
	depth := 0
	for i := open; i < len(toks); i++ {
		switch {
		case toks[i].is("(") || toks[i].is("[") || toks[i].is("{"):
			depth++
		case toks[i].is(")") || toks[i].is("]") || toks[i].is("}"):
			depth--
			if depth == 0 {
				return i
			}
		}
	}
	return -1
}

func joinTokens(toks []token) string {
	var b strings.Builder
	for i, t := range toks {
		if i > 0 && !t.is(",") && !t.is("]") && !t.is(")") && !t.is("[") && !t.is("(") && !toks[i-1].is("[") && !toks[i-1].is("(") {
			b.WriteByte(' ')
		}
		if t.kind == tokString {
			b.WriteString(`"` + t.text + `"`)
		} else {
			b.WriteString(t.text)
		}
	}
	return b.String()
}
