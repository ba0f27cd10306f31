// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package tenantroutingconnector

import (
	"errors"
	"fmt"
	"maps"
	"regexp"
	"regexp/syntax"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/bmatcuk/doublestar/v4"
)

// namespaceRules is the tenants section compiled: exact names, then globs.
type namespaceRules struct {
	exact map[string]string // namespace → tenant
	globs []globRule
}

type globRule struct {
	pattern, tenant string
	re              *regexp.Regexp // what matches at run time
	prog            *syntax.Prog   // the same, for Validate's overlap proofs
}

// nsAlphabet is every character a Kubernetes namespace name (an RFC 1123 label) may hold.
const nsAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789-"

// maxNamespaceLen is the longest namespace name Kubernetes accepts.
const maxNamespaceLen = 63

const namespaceRulesHelp = "a Kubernetes namespace name is at most 63 lowercase letters, digits and '-', starting and ending with a letter or digit"

const patternHelp = "patterns are doublestar globs on one name: * (any run of characters), ? (one character), [a-z0-9] or [!a-z] (one character of a class; '-' only first or last), {a,b} (alternatives)"

// namespacePattern is an RFC 1123 label (its length is checked apart, against maxNamespaceLen).
const namespacePattern = `^[a-z0-9](?:[-a-z0-9]*[a-z0-9])?$`

var (
	namespaceName = regexp.MustCompile(namespacePattern)
	namespaceProg = mustCompileRegexp(namespacePattern)
)

// isGlob reports whether a tenants entry is a pattern rather than a namespace name.
func isGlob(s string) bool { return strings.ContainsAny(s, `*?[{\`) }

// compileNamespaces validates the tenants section and compiles it. A namespace may map to one
// tenant only: two tenants listing the same name, a name of one tenant matched by a pattern of
// another, and two tenants' patterns that some namespace name would match both (found by
// intersecting the patterns as automata, so the error names such a namespace) are rejected.
func compileNamespaces(tenants map[string][]string) (*namespaceRules, error) {
	rules := &namespaceRules{exact: map[string]string{}}
	var errs []error
	for _, t := range slices.Sorted(maps.Keys(tenants)) {
		if len(tenants[t]) == 0 {
			errs = append(errs, fmt.Errorf("tenants::%s lists no namespace; list its namespaces (names or globs) or remove the tenant (default_tenant takes every namespace no tenant lists)", t))
		}
		for i, ns := range tenants[t] {
			switch {
			case ns == "":
				errs = append(errs, fmt.Errorf("tenants::%s[%d] is empty; %s", t, i, namespaceRulesHelp))
			case isGlob(ns):
				re, prog, err := compileGlob(ns)
				if err != nil {
					errs = append(errs, fmt.Errorf("tenants::%s: %q is not a valid namespace pattern (%v); %s", t, ns, err, patternHelp))
					continue
				}
				if _, ok := intersect(maxNamespaceLen, namespaceProg, prog); !ok {
					errs = append(errs, fmt.Errorf("tenants::%s: pattern %q matches no namespace name; %s", t, ns, namespaceRulesHelp))
					continue
				}
				rules.globs = append(rules.globs, globRule{pattern: ns, tenant: t, re: re, prog: prog})
			case !namespaceName.MatchString(ns) || len(ns) > maxNamespaceLen:
				errs = append(errs, fmt.Errorf("tenants::%s: %q is not a namespace name; %s (or a glob: %s)", t, ns, namespaceRulesHelp, patternHelp))
			default:
				if other, ok := rules.exact[ns]; ok && other != t {
					errs = append(errs, fmt.Errorf("namespace %q is listed under tenants::%s and tenants::%s; a namespace belongs to one tenant", ns, other, t))
					continue
				}
				rules.exact[ns] = t
			}
		}
	}
	// Names against other tenants' patterns.
	for _, ns := range slices.Sorted(maps.Keys(rules.exact)) {
		t := rules.exact[ns]
		for _, g := range rules.globs {
			if g.tenant != t && g.re.MatchString(ns) {
				errs = append(errs, fmt.Errorf("namespace %q of tenants::%s also matches pattern %q of tenants::%s; a namespace belongs to one tenant", ns, t, g.pattern, g.tenant))
			}
		}
	}
	// Patterns against other tenants' patterns.
	for i, a := range rules.globs {
		for _, b := range rules.globs[i+1:] {
			if a.tenant == b.tenant {
				continue
			}
			w, ok := intersect(maxNamespaceLen, namespaceProg, a.prog, b.prog)
			if ok && w == "" {
				errs = append(errs, fmt.Errorf("pattern %q of tenants::%s and pattern %q of tenants::%s are too complex to prove that no namespace matches both; simplify them", a.pattern, a.tenant, b.pattern, b.tenant))
				continue
			}
			if ok {
				errs = append(errs, fmt.Errorf("pattern %q of tenants::%s and pattern %q of tenants::%s both match namespace %q (for one); a namespace belongs to one tenant: narrow one of them", a.pattern, a.tenant, b.pattern, b.tenant, w))
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return rules, nil
}

// compileGlob translates a doublestar pattern on one name into an anchored regular expression,
// as a matcher and as the program Validate intersects. It accepts only the subset of doublestar's
// syntax described by patternHelp, where the translation means what doublestar.Match does
// (TestGlobRegexpMatchesDoublestar). The connector matches with the regular expression, not with
// doublestar, so that what Validate proves about overlaps holds at run time whatever doublestar's
// corner cases.
func compileGlob(p string) (*regexp.Regexp, *syntax.Prog, error) {
	expr, err := globRegexp(p)
	if err != nil {
		return nil, nil, err
	}
	prog, err := compileRegexp(expr)
	if err != nil {
		return nil, nil, err
	}
	re, err := regexp.Compile(expr)
	if err != nil {
		return nil, nil, err
	}
	return re, prog, nil
}

// globRegexp is the anchored regular expression of compileGlob.
func globRegexp(p string) (string, error) {
	if !doublestar.ValidatePattern(p) {
		return "", errors.New("an empty class [], a [ or { that does not close, or a trailing \\")
	}
	var b strings.Builder
	b.WriteString(`^(?:`)
	depth := 0
	for i := 0; i < len(p); {
		r, size := utf8.DecodeRuneInString(p[i:])
		switch r {
		case '/':
			return "", errors.New("a namespace name has no '/'")
		case '\\':
			return "", errors.New(`escapes (\) are not supported: a namespace name has no character that needs one`)
		case '*':
			if strings.HasPrefix(p[i:], "***") {
				// doublestar gives a run of three or more its own meaning at the end of a pattern.
				return "", errors.New("a run of more than two '*'; one '*' matches any run of characters")
			}
			for i < len(p) && p[i] == '*' {
				i++
			}
			b.WriteString(`.*`)
			continue
		case '?':
			b.WriteString(`.`)
		case '[':
			n, class, err := globClass(p[i:])
			if err != nil {
				return "", err
			}
			b.WriteString(class)
			i += n
			continue
		case '{':
			depth++
			b.WriteString(`(?:`)
		case ',':
			if depth > 0 {
				b.WriteString(`|`)
			} else {
				b.WriteString(`,`)
			}
		case '}':
			if depth > 0 {
				depth--
				b.WriteString(`)`)
			} else {
				b.WriteString(`\}`)
			}
		default:
			b.WriteString(regexp.QuoteMeta(string(r)))
		}
		i += size
	}
	if depth != 0 {
		return "", errors.New("unclosed {")
	}
	b.WriteString(`)$`)
	return b.String(), nil
}

// globClass translates the character class at the start of p ("[...]") and returns its length.
func globClass(p string) (int, string, error) {
	end := strings.IndexByte(p, ']')
	if end < 0 {
		return 0, "", errors.New("unclosed [")
	}
	body := p[1:end]
	var b strings.Builder
	b.WriteByte('[')
	if strings.HasPrefix(body, "!") || strings.HasPrefix(body, "^") {
		b.WriteByte('^')
		body = body[1:]
	}
	if body == "" {
		return 0, "", errors.New("empty class []")
	}
	for i := 0; i < len(body); i++ {
		c := body[i]
		switch {
		case c == '-':
			if i != 0 && i != len(body)-1 {
				return 0, "", fmt.Errorf("'-' in class %q is neither a range between two letters or digits nor first or last", p[:end+1])
			}
			b.WriteString(`\-`)
		case isClassChar(c):
			if i+2 < len(body) && body[i+1] == '-' {
				hi := body[i+2]
				if !isClassChar(hi) || hi < c {
					return 0, "", fmt.Errorf("range %q in class %q is not lo-hi with lo ≤ hi among letters and digits", body[i:i+3], p[:end+1])
				}
				b.WriteByte(c)
				b.WriteByte('-')
				b.WriteByte(hi)
				i += 2
				continue
			}
			b.WriteByte(c)
		default:
			return 0, "", fmt.Errorf("class %q holds %q; classes hold letters, digits and '-'", p[:end+1], c)
		}
	}
	b.WriteByte(']')
	return end + 1, b.String(), nil
}

func isClassChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

func compileRegexp(expr string) (*syntax.Prog, error) {
	re, err := syntax.Parse(expr, syntax.Perl|syntax.DotNL)
	if err != nil {
		return nil, err
	}
	return syntax.Compile(re.Simplify())
}

func mustCompileRegexp(expr string) *syntax.Prog {
	p, err := compileRegexp(expr)
	if err != nil {
		panic(err)
	}
	return p
}

// maxIntersectStates bounds the product automaton intersect walks; past it, the answer is
// "cannot tell" (ok with an empty witness). Patterns people write stay far below.
const maxIntersectStates = 200000

// intersect looks for the shortest string over nsAlphabet, 1 to maxLen characters long, that
// every program matches in full, by a breadth-first walk of the programs' product automaton (each
// program's state being the set of its threads, as in a Thompson simulation). It returns the
// first such string in nsAlphabet order; ok with an empty string when the walk grew past
// maxIntersectStates without an answer.
func intersect(maxLen int, progs ...*syntax.Prog) (string, bool) {
	type node struct {
		threads [][]uint32
		word    string
	}
	start := make([][]uint32, len(progs))
	for i, p := range progs {
		start[i] = []uint32{uint32(p.Start)}
	}
	queue := []node{{threads: start}}
	seen := map[string]bool{stateKey(start): true}
	for len(queue) > 0 {
		n := queue[0]
		queue = queue[1:]
		flags := syntax.EmptyOp(0)
		if n.word == "" {
			flags = syntax.EmptyBeginText | syntax.EmptyBeginLine
		}
		if n.word != "" {
			accept := true
			for i, p := range progs {
				if !closureMatches(p, n.threads[i], flags|syntax.EmptyEndText|syntax.EmptyEndLine) {
					accept = false
					break
				}
			}
			if accept {
				return n.word, true
			}
		}
		if len(n.word) >= maxLen {
			continue
		}
		closures := make([][]uint32, len(progs))
		for i, p := range progs {
			closures[i] = closure(p, n.threads[i], flags)
		}
	next:
		for _, r := range nsAlphabet {
			threads := make([][]uint32, len(progs))
			for i, p := range progs {
				threads[i] = step(p, closures[i], r)
				if len(threads[i]) == 0 {
					continue next
				}
			}
			k := stateKey(threads)
			if seen[k] {
				continue
			}
			if len(seen) >= maxIntersectStates {
				return "", true
			}
			seen[k] = true
			queue = append(queue, node{threads: threads, word: n.word + string(r)})
		}
	}
	return "", false
}

// closure follows the empty transitions allowed by flags from pcs and returns the rune-consuming
// and match instructions reached.
func closure(p *syntax.Prog, pcs []uint32, flags syntax.EmptyOp) []uint32 {
	seen := make(map[uint32]bool)
	var out []uint32
	var visit func(pc uint32)
	visit = func(pc uint32) {
		if seen[pc] {
			return
		}
		seen[pc] = true
		in := &p.Inst[pc]
		switch in.Op {
		case syntax.InstAlt, syntax.InstAltMatch:
			visit(in.Out)
			visit(in.Arg)
		case syntax.InstNop, syntax.InstCapture:
			visit(in.Out)
		case syntax.InstEmptyWidth:
			if syntax.EmptyOp(in.Arg)&^flags == 0 {
				visit(in.Out)
			}
		case syntax.InstRune, syntax.InstRune1, syntax.InstRuneAny, syntax.InstRuneAnyNotNL, syntax.InstMatch:
			out = append(out, pc)
		}
	}
	for _, pc := range pcs {
		visit(pc)
	}
	return out
}

func closureMatches(p *syntax.Prog, pcs []uint32, flags syntax.EmptyOp) bool {
	for _, pc := range closure(p, pcs, flags) {
		if p.Inst[pc].Op == syntax.InstMatch {
			return true
		}
	}
	return false
}

// step returns the threads after consuming r from the closed set pcs, sorted and unique.
func step(p *syntax.Prog, pcs []uint32, r rune) []uint32 {
	var out []uint32
	for _, pc := range pcs {
		in := &p.Inst[pc]
		ok := false
		switch in.Op {
		case syntax.InstRune, syntax.InstRune1:
			ok = in.MatchRune(r)
		case syntax.InstRuneAny:
			ok = true
		case syntax.InstRuneAnyNotNL:
			ok = r != '\n'
		}
		if ok {
			out = append(out, in.Out)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func stateKey(threads [][]uint32) string {
	var b []byte
	for _, t := range threads {
		for _, pc := range t {
			b = strconv.AppendUint(b, uint64(pc), 10)
			b = append(b, ',')
		}
		b = append(b, '|')
	}
	return string(b)
}
