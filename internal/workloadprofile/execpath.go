// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package workloadprofile

import (
	"regexp"
	"strings"
)

// Executables are generalised so that a patch release of a runtime (a new
// JDK, a new Python minor) is not an "unexpected process". The rule is small
// on purpose, applied to each '/'-separated segment that has a digit:
//
//  1. a segment that is a dotted version as a whole becomes "*":
//     /opt/app/1.2.3/bin/app → /opt/app/*/bin/app;
//  2. split at '-', every token but the first that is a version
//     (v?N or v?N.N…) becomes "*": java-17-openjdk-amd64 → java-*-openjdk-amd64,
//     app-1.2.3 → app-*, gcc-12 → gcc-*; the first token is kept, so that
//     x86_64-linux-gnu and /dev/fd/3 stay as they are;
//  3. in each token, a letter-and-number followed by dotted numbers keeps the
//     number and loses the rest: python3.11 → python3.*, php-fpm8.2 → php-fpm8.*.
//
// '*' in a profile is this rule's output, compared as a literal string: it is
// not a glob in hand-written profiles either.
var (
	wholeVersion = regexp.MustCompile(`^v?[0-9]+(\.[0-9]+)+$`)
	tokenVersion = regexp.MustCompile(`^v?[0-9]+(\.[0-9]+)*$`)
	minorVersion = regexp.MustCompile(`([A-Za-z][0-9]+)(\.[0-9]+)+`)
)

// GeneraliseExec returns the executable path with version-like segments
// generalised (see the rule above); a path without digits is returned as is.
func GeneraliseExec(p string) string {
	if !hasDigit(p) {
		return p
	}
	segs := strings.Split(p, "/")
	for i, s := range segs {
		if !hasDigit(s) {
			continue
		}
		if wholeVersion.MatchString(s) {
			segs[i] = "*"
			continue
		}
		toks := strings.Split(s, "-")
		for j, t := range toks {
			if j > 0 && tokenVersion.MatchString(t) {
				toks[j] = "*"
				continue
			}
			toks[j] = minorVersion.ReplaceAllString(t, "${1}.*")
		}
		segs[i] = strings.Join(toks, "-")
	}
	return strings.Join(segs, "/")
}

func hasDigit(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= '0' && s[i] <= '9' {
			return true
		}
	}
	return false
}

// maxExecCache bounds the generalisation cache of one Set; when full it is
// emptied, not grown.
const maxExecCache = 4096

// execCache remembers generalised paths by raw path, so that a known
// executable with digits in its path costs a map lookup, not a regexp run
// and an allocation, on every record. Used under the owner's lock.
type execCache map[string]string

func (c execCache) get(raw string) string {
	if !hasDigit(raw) {
		return raw
	}
	if g, ok := c[raw]; ok {
		return g
	}
	g := GeneraliseExec(raw)
	if len(c) >= maxExecCache {
		clear(c)
	}
	// Both may alias the record's attribute value: keep copies.
	g = strings.Clone(g)
	c[strings.Clone(raw)] = g
	return g
}
