// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package tenantroutingconnector

import (
	"math/rand/v2"
	"regexp"
	"regexp/syntax"
	"strings"
	"testing"

	"github.com/bmatcuk/doublestar/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// randomGlob builds a pattern of the accepted syntax over a small alphabet, so that random
// names hit its literals often.
func randomGlob(r *rand.Rand, depth int) string {
	var b strings.Builder
	for n := 1 + r.IntN(4); n > 0; n-- {
		switch k := r.IntN(10); {
		case k < 4:
			b.WriteByte("ab-1"[r.IntN(4)])
		case k == 4:
			b.WriteString([]string{"*", "**"}[r.IntN(2)])
		case k == 5:
			b.WriteByte('?')
		case k == 6:
			b.WriteString([]string{"[ab]", "[!a]", "[^b1]", "[a-c]", "[-a]", "[a-]", "[0-9]", "[!a-b-]"}[r.IntN(8)])
		case k == 7 && depth < 2:
			alts := make([]string, 1+r.IntN(3))
			for i := range alts {
				if r.IntN(4) > 0 {
					alts[i] = randomGlob(r, depth+1)
				}
			}
			b.WriteString("{" + strings.Join(alts, ",") + "}")
		default:
			b.WriteByte("ab"[r.IntN(2)])
		}
	}
	return b.String()
}

func randomName(r *rand.Rand) string {
	b := make([]byte, r.IntN(7))
	for i := range b {
		b[i] = "ab-1cz"[r.IntN(6)]
	}
	return string(b)
}

var starTouchesAlternative = regexp.MustCompile(`\*[{},]|[{},]\*`)

// TestGlobRegexpMatchesDoublestar holds the translation to doublestar.Match, which the connector
// uses at run time: Validate's overlap proofs are only as good as this equivalence.
func TestGlobRegexpMatchesDoublestar(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	patterns := 0
	for range 3000 {
		p := randomGlob(r, 0)
		expr, err := globRegexp(p)
		if err != nil {
			continue
		}
		if starTouchesAlternative.MatchString(p) {
			// doublestar.Match expands alternatives into the pattern, and a run of stars that
			// meets the end of a name right before an alternative, or that grows to three or
			// more stars once expanded, then matches less than '*' should: "a*{,b}" and
			// "a{b*}**" do not match "a" and "ab". The connector's regular expression does;
			// Validate reasons on it, and it is what runs.
			continue
		}
		patterns++
		re := regexp.MustCompile(expr)
		for range 60 {
			s := randomName(r)
			want, err := doublestar.Match(p, s)
			require.NoError(t, err, p)
			if got := re.MatchString(s); got != want {
				t.Fatalf("pattern %q (regexp %s) on %q: %v, doublestar.Match: %v", p, expr, s, got, want)
			}
		}
	}
	assert.Greater(t, patterns, 2000)
}

// TestIntersect checks the product walk against brute force over short names: what it returns
// every pattern matches, and it finds a common name whenever brute force does, no longer.
func TestIntersect(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	var names []string
	var gen func(prefix string, n int)
	gen = func(prefix string, n int) {
		if prefix != "" {
			names = append(names, prefix)
		}
		if n == 0 {
			return
		}
		for _, c := range "ab-1z" {
			gen(prefix+string(c), n-1)
		}
	}
	gen("", 4)
	found := 0
	for range 400 {
		pa, pb := randomGlob(r, 0), randomGlob(r, 0)
		ea, errA := globRegexp(pa)
		eb, errB := globRegexp(pb)
		if errA != nil || errB != nil {
			continue
		}
		ra, rb := regexp.MustCompile(ea), regexp.MustCompile(eb)
		w, ok := intersect(maxNamespaceLen, namespaceProg, mustCompileRegexp(ea), mustCompileRegexp(eb))
		if ok {
			found++
			assert.True(t, ra.MatchString(w) && rb.MatchString(w) && namespaceName.MatchString(w), "%q ∩ %q: witness %q", pa, pb, w)
		}
		for _, s := range names {
			if namespaceName.MatchString(s) && ra.MatchString(s) && rb.MatchString(s) {
				require.True(t, ok, "%q ∩ %q: brute force found %q, intersect nothing", pa, pb, s)
				assert.LessOrEqual(t, len(w), len(s), "%q ∩ %q: witness %q longer than %q", pa, pb, w, s)
				break
			}
		}
	}
	assert.Greater(t, found, 50)
}

func TestIntersectExamples(t *testing.T) {
	tests := []struct {
		a, b string
		want string // "" for none
	}{
		{"shop-*", "*-billing", "shop-billing"},
		{"shop-*", "shop-*", "shop-a"},
		{"shop-*", "shopping", ""},
		{"team-?", "team-[!a-z]", "team-0"},
		{"{a,b}-*", "b*", "b-a"},
		{"*", "x", "x"},
		{"prod-*", "*-dev", "prod-dev"},
		{"prod-*-eu", "prod-us-*", "prod-us-eu"},
		{"a*", "b*", ""},
	}
	for _, tt := range tests {
		w, ok := intersect(maxNamespaceLen, namespaceProg, mustCompileGlob(t, tt.a), mustCompileGlob(t, tt.b))
		if tt.want == "" {
			assert.False(t, ok, "%q ∩ %q: got %q", tt.a, tt.b, w)
			continue
		}
		assert.Equal(t, tt.want, w, "%q ∩ %q", tt.a, tt.b)
	}
}

func mustCompileGlob(t *testing.T, p string) *syntax.Prog {
	t.Helper()
	_, prog, err := compileGlob(p)
	require.NoError(t, err, p)
	return prog
}

func TestGlobRejected(t *testing.T) {
	for p, want := range map[string]string{
		"shop-[":     "does not close",
		"shop/*":     "a namespace name has no '/'",
		`shop-\*`:    "escapes",
		"shop-[]":    "does not close",
		"shop-[a-]b": "",
		"x[b-a]":     "range",
		"x[a-c-e]":   "'-' in class",
		"x[.]":       "classes hold letters, digits and '-'",
		"{a,b":       "does not close",
	} {
		_, _, err := compileGlob(p)
		if want == "" {
			assert.NoError(t, err, p)
			continue
		}
		if assert.Error(t, err, p) {
			assert.Contains(t, err.Error(), want, p)
		}
	}
}
