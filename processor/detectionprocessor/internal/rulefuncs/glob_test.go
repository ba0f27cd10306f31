// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package rulefuncs_test

import (
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"

	"github.com/bmatcuk/doublestar/v4"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/processor/detectionprocessor/internal/rulefuncs"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/processor/detectionprocessor/internal/rules/rulestest"
)

// TestGlobMatcherAgreesWithDoublestar holds the glob matcher of GlobMatch /
// GlobMatchAny (brace expansion, literal-run prechecks) to doublestar.Match,
// pattern by pattern, for every pattern of the built-in catalogue and a set
// of edge patterns, on paths derived from the patterns (wildcards filled in,
// separators dropped or added) and on look-alikes.
func TestGlobMatcherAgreesWithDoublestar(t *testing.T) {
	rs, err := rulestest.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	patterns := []string{
		"/**/x", "**/x", "a/**", "a/**/b", "**", "*", "/*", "?", "a?c", "{/,}etc/shadow", "{a,{b,c}}/d", "{,x}",
		"/etc/{a,b}*/**/{c,d}.conf", "/**/.ssh/id_*", "**/.kube/config", "/proc/*/fd/*", "/tmp/go-build*/**",
		"/**/.*/**/*", "[ab]/c", "\\*x", "a{b", "/var/log/**", "**/*.ko", "x**y", "/a/**/**/b",
	}
	globCall := regexp.MustCompile(`GlobMatch\([^,]+, "([^"\\]*)"\)`)
	for _, r := range rs.Rules() {
		for _, m := range globCall.FindAllStringSubmatch(r.Expanded, -1) {
			patterns = append(patterns, m[1])
		}
	}
	for _, l := range rs.Lists() {
		patterns = append(patterns, l...)
	}
	rng := rand.New(rand.NewPCG(5, 6))
	paths := []string{"", "/", "x", "/x", "a", "a/", "a/b", "/etc/shadow", "etc/shadow", "/etc/shadow-", "/root/.ssh/id_rsa",
		"/.ssh/id_rsa", ".kube/config", "/home/u/.kube/config", "/proc/1/fd/3", "/tmp/go-build1/b001/exe/main",
		"/usr/share/zoneinfo/UTC", "/var/log/syslog", "/var/log", "/lib/modules/6.1/kernel/x.ko", "xy", "x/y", "x//y"}
	checked, matched := 0, 0
	for _, p := range patterns {
		if !doublestar.ValidatePattern(p) {
			continue
		}
		match, err := rulefuncs.StringMatcher("GlobMatchAny", []string{p})
		if err != nil {
			t.Fatal(err)
		}
		single, err := rulefuncs.StringMatcher("GlobMatch", []string{p})
		if err != nil {
			t.Fatal(err)
		}
		candidates := append([]string(nil), paths...)
		for i := 0; i < 40; i++ {
			s := fill(p, rng)
			candidates = append(candidates, s, strings.TrimPrefix(s, "/"), "/"+s, s+"/", "/host"+s, strings.ReplaceAll(s, "/", "//"))
		}
		for _, s := range candidates {
			want, err := doublestar.Match(p, s)
			if err != nil {
				t.Fatal(err)
			}
			if got := match(s); got != want {
				t.Errorf("GlobMatchAny %q on %q: %v, doublestar %v", p, s, got, want)
			}
			if got := single(s); got != want {
				t.Errorf("GlobMatch %q on %q: %v, doublestar %v", p, s, got, want)
			}
			checked++
			if want {
				matched++
			}
		}
	}
	if matched < checked/10 {
		t.Errorf("only %d of %d checks matched: the generated paths do not exercise matches", matched, checked)
	}
	t.Logf("%d patterns, %d checks, %d matches", len(patterns), checked, matched)
}

// fill turns a pattern into a path it may match: one random alternative per
// brace group and random text for wildcards.
func fill(p string, rng *rand.Rand) string {
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		switch c := p[i]; {
		case strings.HasPrefix(p[i:], "**"):
			b.WriteString([]string{"", "d", "d/e", "d/.x/e"}[rng.IntN(4)])
			i++
		case c == '*':
			b.WriteString([]string{"", "f", "f.ko", ".h"}[rng.IntN(4)])
		case c == '?':
			b.WriteByte('q')
		case c == '{':
			end := strings.IndexByte(p[i:], '}')
			if end < 0 {
				b.WriteByte(c)
				continue
			}
			alts := strings.Split(p[i+1:i+end], ",")
			b.WriteString(alts[rng.IntN(len(alts))])
			i += end
		case c == '[':
			end := strings.IndexByte(p[i:], ']')
			if end < 2 {
				b.WriteByte(c)
				continue
			}
			b.WriteByte(p[i+1])
			i += end
		case c == '\\' && i+1 < len(p):
			i++
			b.WriteByte(p[i])
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}
