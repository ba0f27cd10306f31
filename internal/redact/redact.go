// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

// Package redact masks secrets in command lines and event bodies: passwords, tokens, keys,
// connection strings and authorization headers, keeping what names them (`--password=***`,
// `mysql -p***`, `AWS_SECRET_ACCESS_KEY=***`, `Authorization: Bearer ***`, `https://user:***@host`)
// so that a reader still sees what the process was given. It is the one pattern set of the
// project: the secret_redaction processor, ruletest, bin/profiles and the receiver's bad-line
// samples all use it.
//
// Patterns are RE2 (Go's regexp: linear time on any input). A value ends at whitespace, a quote,
// a backslash or a delimiter, so that masking the JSON text of an event body never eats into the
// JSON around the value. A cheap keyword scan runs first: strings without any keyword are returned
// as they are, without running a regexp or allocating.
package redact

import (
	"regexp"
	"slices"
	"strings"
)

// Mask replaces every secret.
const Mask = "***"

// valueChar is what a secret value may contain: anything but whitespace, a quote, a backslash (JSON
// escapes) or a shell/URL delimiter; value is one or more of them.
const (
	valueChar = `[^\s"'\\&;|,<>]`
	value     = valueChar + `+`
)

// pattern is one kind of secret: the regexp's group named "secret" is masked, the rest of the match
// is kept.
type pattern struct {
	name string
	re   *regexp.Regexp
	// keywords: at least one of them (ASCII, lower case) must occur in a string, case-insensitively,
	// for the pattern to run on it.
	keywords []string
	mask     uint64 // the bits of keywords in keywordsIn's set
}

// secretKey is a name that says its value is a secret: password, passwd, pwd, passphrase, secret,
// token, api key, access key, private key, credential(s), auth token, session id, cookie.
const secretKey = `[A-Za-z0-9_.\-]*(?i:pass(?:word|wd|phrase)?|pwd|secret|token|api[_\-]?key|access[_\-]?key|private[_\-]?key|credentials?|auth(?:orization)?[_\-]?(?:key|token)|session[_\-]?id|cookie)[A-Za-z0-9_.\-]*`

var keyKeywords = []string{"pass", "pwd", "secret", "token", "key", "cred", "auth", "session", "cookie"}

// patterns, applied in order.
var patterns = []pattern{
	{
		// --password=x, -password:x, PGPASSWORD=x, AWS_SECRET_ACCESS_KEY=x, api_key: x, token=x.
		name:     "key_value",
		re:       regexp.MustCompile(`(?:^|[\s"'&;,?{(])-{0,2}` + secretKey + `\s*[=:]\s*(?P<secret>` + value + `)`),
		keywords: keyKeywords,
	},
	{
		// --password="two words", PASSWORD='x' (and \"x\" inside JSON text): up to the closing quote.
		name:     "key_quoted_value",
		re:       regexp.MustCompile(`(?:^|[\s"'&;,?{(])-{0,2}` + secretKey + `\s*[=:]\s*\\?["'](?P<secret>[^"'\\]+)`),
		keywords: keyKeywords,
	},
	{
		// --password x, -token x (an option whose next argument is the secret).
		name:     "option_argument",
		re:       regexp.MustCompile(`(?:^|\s)--?(?i:pass(?:word|wd|phrase)?|pwd|secret|token|api[_\-]?key|access[_\-]?key|secret[_\-]?key|client[_\-]?secret|private[_\-]?key|auth[_\-]?token)\s+(?P<secret>[^\s"'\\\-]` + valueChar + `*)`),
		keywords: keyKeywords,
	},
	{
		// mysql -pSECRET, mysqldump --user=x -pSECRET (the password glued to -p).
		name:     "mysql_password",
		re:       regexp.MustCompile(`(?i:mysql|mysqldump|mysqladmin|mysqlimport|mariadb|mariadb-dump)\b[^|;&]*?\s-p(?P<secret>` + value + `)`),
		keywords: []string{"mysql", "mariadb"},
	},
	{
		// Authorization: Bearer x, Authorization: Basic x, X-Api-Key: x, Private-Token: x, Cookie: x.
		name:     "http_header",
		re:       regexp.MustCompile(`(?i:authorization|proxy-authorization|x-api-key|x-auth-token|private-token|x-vault-token|cookie)\s*:\s*(?:(?i:bearer|basic|token|digest|negotiate)\s+)?(?P<secret>` + value + `)`),
		keywords: []string{"auth", "api-key", "token", "cookie"},
	},
	{
		// A bearer token anywhere else.
		name:     "bearer",
		re:       regexp.MustCompile(`(?i:bearer)\s+(?P<secret>[A-Za-z0-9\-._~+/]{8,}=*)`),
		keywords: []string{"bearer"},
	},
	{
		// scheme://user:password@host: the password.
		name:     "url_userinfo",
		re:       regexp.MustCompile(`[A-Za-z][A-Za-z0-9+.\-]*://[^\s/:@"'\\]*:(?P<secret>[^\s/@"'\\]+)@`),
		keywords: []string{"://"},
	},
	{
		// Tokens recognisable by their shape: AWS access key ids, GitHub, GitLab and Slack tokens,
		// JWTs.
		name:     "token_shape",
		re:       regexp.MustCompile(`\b(?P<secret>(?:AKIA|ASIA)[0-9A-Z]{16}|gh[pousr]_[A-Za-z0-9]{30,}|glpat-[A-Za-z0-9_\-]{20,}|xox[baprs]-[A-Za-z0-9\-]{10,}|eyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,})`),
		keywords: []string{"akia", "asia", "gh", "glpat-", "xox", "eyj"},
	},
}

// secretGroup is the index of each pattern's "secret" group.
var secretGroup = func() []int {
	out := make([]int, len(patterns))
	for i, p := range patterns {
		out[i] = p.re.SubexpIndex("secret")
		if out[i] < 0 {
			panic("redact: pattern " + p.name + " has no secret group")
		}
	}
	return out
}()

// String returns s with every secret masked, and whether anything was. A string without any
// pattern's keyword is returned as it is, without allocating.
func String(s string) (string, bool) {
	present := keywordsIn(s)
	if present == 0 {
		return s, false
	}
	changed := false
	for i := range patterns {
		p := &patterns[i]
		if present&p.mask == 0 {
			continue
		}
		idx := p.re.FindAllStringSubmatchIndex(s, -1)
		if len(idx) == 0 {
			continue
		}
		g := secretGroup[i]
		var b strings.Builder
		b.Grow(len(s))
		last := 0
		for _, m := range idx {
			start, end := m[2*g], m[2*g+1]
			if start < 0 || start < last {
				continue
			}
			b.WriteString(s[last:start])
			b.WriteString(Mask)
			last = end
		}
		b.WriteString(s[last:])
		if r := b.String(); r != s {
			s, changed = r, true
		}
	}
	return s, changed
}

// keywords is every pattern's keywords, once; byFirst indexes them by first byte; each pattern's
// mask has the bits of its keywords.
var keywords, byFirst = func() ([]string, [256][]int) {
	var all []string
	var first [256][]int
	for i := range patterns {
		for _, k := range patterns[i].keywords {
			j := slices.Index(all, k)
			if j < 0 {
				j = len(all)
				all = append(all, k)
				first[k[0]] = append(first[k[0]], j)
			}
			patterns[i].mask |= 1 << j
		}
	}
	if len(all) > 64 {
		panic("redact: more than 64 keywords")
	}
	return all, first
}()

// keywordsIn returns the set of keywords s contains, ignoring ASCII case: one pass over s.
func keywordsIn(s string) uint64 {
	var set uint64
	for i := 0; i < len(s); i++ {
		for _, j := range byFirst[lower(s[i])] {
			if set&(1<<j) == 0 && hasPrefixFold(s[i:], keywords[j]) {
				set |= 1 << j
			}
		}
	}
	return set
}

func hasPrefixFold(s, lowerPrefix string) bool {
	if len(s) < len(lowerPrefix) {
		return false
	}
	for i := 0; i < len(lowerPrefix); i++ {
		if lower(s[i]) != lowerPrefix[i] {
			return false
		}
	}
	return true
}

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}
