// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package dashq

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"text/template"
	"unicode"
)

// CheckLogQL checks the LogQL subset the dashboards use and reports whether
// expr is a log query ("logs") or a metric query ("metric").
//
// Loki is AGPL-licensed, so its parser is not imported: this checker covers
// stream selectors (matcher syntax, RE2 regexes, at least one matcher that
// cannot match the empty string, as Loki demands), line filters, the parser
// and formatting stages (line_format templates parse as Go text/template, as
// in Loki), label filters, range and vector aggregations with by/without,
// range durations and binary operators. Variables must be expanded first.
func CheckLogQL(expr string) (kind string, err error) {
	kind, _, err = parseLogQL(expr)
	return kind, err
}

// LogQLStreamLabels returns the label names expr's stream selectors match
// on, sorted, once each: the labels that must be Loki index labels.
func LogQLStreamLabels(expr string) ([]string, error) {
	_, p, err := parseLogQL(expr)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var out []string
	for _, l := range p.streamLabels {
		if !seen[l] {
			seen[l] = true
			out = append(out, l)
		}
	}
	sort.Strings(out)
	return out, nil
}

func parseLogQL(expr string) (string, *logqlParser, error) {
	toks, err := lexLogQL(expr)
	if err != nil {
		return "", nil, err
	}
	p := &logqlParser{toks: toks}
	k, err := p.expr(0)
	if err != nil {
		return "", nil, err
	}
	if t := p.peek(); t.kind != tEOF {
		return "", nil, p.errorf(t, "unexpected %s after the end of the query", desc(t))
	}
	return k, p, nil
}

type tokKind int

const (
	tEOF tokKind = iota
	tIdent
	tString
	tNumber // number, duration or byte size: classified where it is used
	tOp
)

type token struct {
	kind tokKind
	text string // for tString: the unquoted value
	pos  int
}

// ops are matched longest first.
var logqlOps = []string{"|=", "|~", "|>", "!=", "!~", "!>", "=~", "==", ">=", "<=", "|", "=", ">", "<", "(", ")", "{", "}", "[", "]", ",", "+", "-", "*", "/", "%", "^"}

func lexLogQL(s string) ([]token, error) {
	var toks []token
	i := 0
	for i < len(s) {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '"':
			j := i + 1
			for ; j < len(s) && s[j] != '"'; j++ {
				if s[j] == '\\' {
					j++
				}
			}
			if j >= len(s) {
				return nil, fmt.Errorf("logql: unterminated string starting at offset %d", i)
			}
			v, err := strconv.Unquote(s[i : j+1])
			if err != nil {
				return nil, fmt.Errorf("logql: bad string at offset %d: %v", i, err)
			}
			toks = append(toks, token{tString, v, i})
			i = j + 1
		case c == '`':
			j := strings.IndexByte(s[i+1:], '`')
			if j < 0 {
				return nil, fmt.Errorf("logql: unterminated raw string starting at offset %d", i)
			}
			toks = append(toks, token{tString, s[i+1 : i+1+j], i})
			i += j + 2
		case c == '$':
			return nil, fmt.Errorf("logql: unexpanded variable at offset %d (run ExpandForTest first)", i)
		case c == '_' || unicode.IsLetter(rune(c)):
			j := i
			for j < len(s) && (s[j] == '_' || unicode.IsLetter(rune(s[j])) || unicode.IsDigit(rune(s[j]))) {
				j++
			}
			toks = append(toks, token{tIdent, s[i:j], i})
			i = j
		case unicode.IsDigit(rune(c)):
			j := i
			for j < len(s) && (s[j] == '.' || unicode.IsLetter(rune(s[j])) || unicode.IsDigit(rune(s[j]))) {
				j++
			}
			toks = append(toks, token{tNumber, s[i:j], i})
			i = j
		default:
			matched := false
			for _, op := range logqlOps {
				if strings.HasPrefix(s[i:], op) {
					toks = append(toks, token{tOp, op, i})
					i += len(op)
					matched = true
					break
				}
			}
			if !matched {
				return nil, fmt.Errorf("logql: unexpected character %q at offset %d", c, i)
			}
		}
	}
	return append(toks, token{tEOF, "", len(s)}), nil
}

type logqlParser struct {
	toks         []token
	i            int
	streamLabels []string
}

func (p *logqlParser) peek() token { return p.toks[p.i] }
func (p *logqlParser) next() token {
	t := p.toks[p.i]
	if t.kind != tEOF {
		p.i++
	}
	return t
}

func (p *logqlParser) errorf(t token, format string, a ...any) error {
	return fmt.Errorf("logql: offset %d: %s", t.pos, fmt.Sprintf(format, a...))
}

func (p *logqlParser) isOp(text string) bool {
	t := p.peek()
	return t.kind == tOp && t.text == text
}

func (p *logqlParser) expectOp(text string) error {
	if t := p.next(); t.kind != tOp || t.text != text {
		return p.errorf(t, "expected %q, found %s", text, desc(t))
	}
	return nil
}

func (p *logqlParser) ident() (string, error) {
	t := p.next()
	if t.kind != tIdent {
		return "", p.errorf(t, "expected a name, found %s", desc(t))
	}
	return t.text, nil
}

func (p *logqlParser) str() (string, error) {
	t := p.next()
	if t.kind != tString {
		return "", p.errorf(t, "expected a string, found %s", desc(t))
	}
	return t.text, nil
}

var binaryPrecedence = map[string]int{
	"or": 1, "and": 2, "unless": 2,
	"==": 3, "!=": 3, ">": 3, "<": 3, ">=": 3, "<=": 3,
	"+": 4, "-": 4, "*": 5, "/": 5, "%": 5, "^": 6,
}

func (p *logqlParser) binaryOp() (string, bool) {
	t := p.peek()
	if t.kind != tOp && t.kind != tIdent {
		return "", false
	}
	_, ok := binaryPrecedence[t.text]
	return t.text, ok
}

// expr parses a (possibly binary) expression by precedence climbing.
func (p *logqlParser) expr(minPrec int) (string, error) {
	kind, err := p.unary()
	if err != nil {
		return "", err
	}
	for {
		op, ok := p.binaryOp()
		if !ok || binaryPrecedence[op] <= minPrec {
			return kind, nil
		}
		opTok := p.next()
		if p.peek().kind == tIdent && p.peek().text == "bool" {
			p.next()
		}
		rk, err := p.expr(binaryPrecedence[op])
		if err != nil {
			return "", err
		}
		if kind == "logs" || rk == "logs" {
			return "", p.errorf(opTok, "operator %q needs metric queries on both sides, not a log query", op)
		}
		kind = "metric"
	}
}

var (
	vectorAggs = map[string]bool{"sum": true, "avg": true, "min": true, "max": true, "count": true,
		"stddev": true, "stdvar": true, "topk": true, "bottomk": true, "sort": true, "sort_desc": true}
	rangeAggs = map[string]bool{"count_over_time": true, "rate": true, "bytes_over_time": true,
		"bytes_rate": true, "absent_over_time": true, "sum_over_time": true, "avg_over_time": true,
		"max_over_time": true, "min_over_time": true, "first_over_time": true, "last_over_time": true,
		"stdvar_over_time": true, "stddev_over_time": true, "quantile_over_time": true, "rate_counter": true}
	rangeAggsWithUnwrap = map[string]bool{"sum_over_time": true, "avg_over_time": true, "max_over_time": true,
		"min_over_time": true, "first_over_time": true, "last_over_time": true, "stdvar_over_time": true,
		"stddev_over_time": true, "quantile_over_time": true, "rate_counter": true}
)

func (p *logqlParser) unary() (string, error) {
	t := p.peek()
	switch {
	case t.kind == tOp && t.text == "{":
		return "logs", p.logQuery(false)
	case t.kind == tOp && t.text == "(":
		p.next()
		k, err := p.expr(0)
		if err != nil {
			return "", err
		}
		return k, p.expectOp(")")
	case t.kind == tOp && t.text == "-":
		p.next()
		return p.unary()
	case t.kind == tNumber:
		p.next()
		if _, err := strconv.ParseFloat(t.text, 64); err != nil {
			return "", p.errorf(t, "%q is not a number", t.text)
		}
		return "metric", nil
	case t.kind == tIdent && vectorAggs[t.text]:
		return "metric", p.vectorAgg()
	case t.kind == tIdent && rangeAggs[t.text]:
		return "metric", p.rangeAgg()
	case t.kind == tIdent && t.text == "vector":
		p.next()
		if err := p.expectOp("("); err != nil {
			return "", err
		}
		if n := p.next(); n.kind != tNumber {
			return "", p.errorf(n, "vector() takes a number")
		}
		return "metric", p.expectOp(")")
	}
	return "", p.errorf(t, "unexpected %s: expected a stream selector, an aggregation or a number", desc(t))
}

func (p *logqlParser) grouping() error {
	if t := p.peek(); t.kind == tIdent && (t.text == "by" || t.text == "without") {
		p.next()
		if err := p.expectOp("("); err != nil {
			return err
		}
		for !p.isOp(")") {
			if _, err := p.ident(); err != nil {
				return err
			}
			if !p.isOp(")") {
				if err := p.expectOp(","); err != nil {
					return err
				}
			}
		}
		p.next()
	}
	return nil
}

func (p *logqlParser) vectorAgg() error {
	name := p.next().text
	if err := p.grouping(); err != nil {
		return err
	}
	if err := p.expectOp("("); err != nil {
		return err
	}
	if name == "topk" || name == "bottomk" {
		if n := p.next(); n.kind != tNumber {
			return p.errorf(n, "%s needs a number as first argument", name)
		}
		if err := p.expectOp(","); err != nil {
			return err
		}
	}
	at := p.peek()
	k, err := p.expr(0)
	if err != nil {
		return err
	}
	if k != "metric" {
		return p.errorf(at, "%s() aggregates a metric query, not a log query (wrap it in count_over_time or rate)", name)
	}
	if err := p.expectOp(")"); err != nil {
		return err
	}
	return p.grouping()
}

func (p *logqlParser) rangeAgg() error {
	name := p.next().text
	if err := p.expectOp("("); err != nil {
		return err
	}
	if name == "quantile_over_time" {
		if n := p.next(); n.kind != tNumber {
			return p.errorf(n, "quantile_over_time needs the quantile first")
		}
		if err := p.expectOp(","); err != nil {
			return err
		}
	}
	paren := p.isOp("(")
	if paren {
		p.next()
	}
	if err := p.logQuery(rangeAggsWithUnwrap[name]); err != nil {
		return err
	}
	if paren {
		if err := p.expectOp(")"); err != nil {
			return err
		}
	}
	if err := p.expectOp("["); err != nil {
		return err
	}
	d := p.next()
	if d.kind != tNumber || !isDuration(d.text) {
		return p.errorf(d, "range %q is not a duration", d.text)
	}
	if err := p.expectOp("]"); err != nil {
		return err
	}
	if t := p.peek(); t.kind == tIdent && t.text == "offset" {
		p.next()
		if d := p.next(); d.kind != tNumber || !isDuration(d.text) {
			return p.errorf(d, "offset %q is not a duration", d.text)
		}
	}
	if err := p.expectOp(")"); err != nil {
		return err
	}
	return p.grouping()
}

var durationRE = regexp.MustCompile(`^([0-9]+(ms|s|m|h|d|w|y))+$`)

func isDuration(s string) bool { return durationRE.MatchString(s) }

// logQuery parses a stream selector and its pipeline.
func (p *logqlParser) logQuery(unwrapAllowed bool) error {
	if err := p.selector(); err != nil {
		return err
	}
	for {
		t := p.peek()
		if t.kind != tOp {
			return nil
		}
		switch t.text {
		case "|=", "!=", "|~", "!~", "|>", "!>":
			if err := p.lineFilter(); err != nil {
				return err
			}
		case "|":
			p.next()
			if err := p.stage(unwrapAllowed); err != nil {
				return err
			}
		default:
			return nil
		}
	}
}

func (p *logqlParser) selector() error {
	open := p.peek()
	if err := p.expectOp("{"); err != nil {
		return err
	}
	nonEmpty := false
	for !p.isOp("}") {
		name, err := p.ident()
		if err != nil {
			return err
		}
		p.streamLabels = append(p.streamLabels, name)
		op := p.next()
		if op.kind != tOp || (op.text != "=" && op.text != "!=" && op.text != "=~" && op.text != "!~") {
			return p.errorf(op, "matcher %s: expected =, !=, =~ or !~, found %s", name, desc(op))
		}
		vt := p.peek()
		val, err := p.str()
		if err != nil {
			return err
		}
		switch op.text {
		case "=":
			nonEmpty = nonEmpty || val != ""
		case "=~", "!~":
			re, err := regexp.Compile("^(?:" + val + ")$")
			if err != nil {
				return p.errorf(vt, "matcher %s: bad regex %q: %v", name, val, err)
			}
			if op.text == "=~" && !re.MatchString("") {
				nonEmpty = true
			}
		}
		if !p.isOp("}") {
			if err := p.expectOp(","); err != nil {
				return err
			}
		}
	}
	p.next()
	if !nonEmpty {
		return p.errorf(open, "stream selector needs at least one matcher that does not match the empty string")
	}
	return nil
}

func (p *logqlParser) lineFilter() error {
	op := p.next().text
	for {
		vt := p.peek()
		if vt.kind == tIdent && vt.text == "ip" && (op == "|=" || op == "!=") {
			p.next()
			if err := p.expectOp("("); err != nil {
				return err
			}
			if _, err := p.str(); err != nil {
				return err
			}
			if err := p.expectOp(")"); err != nil {
				return err
			}
		} else {
			val, err := p.str()
			if err != nil {
				return err
			}
			if op == "|~" || op == "!~" {
				if _, err := regexp.Compile(val); err != nil {
					return p.errorf(vt, "line filter: bad regex %q: %v", val, err)
				}
			}
		}
		if t := p.peek(); t.kind == tIdent && t.text == "or" {
			p.next()
			continue
		}
		return nil
	}
}

func (p *logqlParser) stage(unwrapAllowed bool) error {
	t := p.peek()
	if t.kind != tIdent {
		return p.errorf(t, "expected a pipeline stage after |, found %s", desc(t))
	}
	switch t.text {
	case "json", "logfmt":
		p.next()
		// Optional extraction list: name="expression", …
		for p.peek().kind == tIdent && p.toks[p.i+1].kind == tOp && p.toks[p.i+1].text == "=" {
			p.next()
			p.next()
			if _, err := p.str(); err != nil {
				return err
			}
			if !p.isOp(",") {
				break
			}
			p.next()
		}
		return nil
	case "unpack", "decolorize":
		p.next()
		return nil
	case "regexp":
		p.next()
		vt := p.peek()
		v, err := p.str()
		if err != nil {
			return err
		}
		re, err := regexp.Compile(v)
		if err != nil {
			return p.errorf(vt, "regexp stage: bad regex %q: %v", v, err)
		}
		if len(re.SubexpNames()) < 2 {
			return p.errorf(vt, "regexp stage %q extracts nothing: it needs a named group", v)
		}
		return nil
	case "pattern":
		p.next()
		_, err := p.str()
		return err
	case "line_format":
		p.next()
		vt := p.peek()
		v, err := p.str()
		if err != nil {
			return err
		}
		return p.checkTemplate(vt, v)
	case "label_format":
		p.next()
		for {
			if _, err := p.ident(); err != nil {
				return err
			}
			if err := p.expectOp("="); err != nil {
				return err
			}
			vt := p.next()
			switch vt.kind {
			case tString:
				if err := p.checkTemplate(vt, vt.text); err != nil {
					return err
				}
			case tIdent:
			default:
				return p.errorf(vt, "label_format: expected a template or a label name, found %s", desc(vt))
			}
			if !p.isOp(",") {
				return nil
			}
			p.next()
		}
	case "drop", "keep":
		p.next()
		for {
			if _, err := p.ident(); err != nil {
				return err
			}
			if t := p.peek(); t.kind == tOp && (t.text == "=" || t.text == "!=" || t.text == "=~" || t.text == "!~") {
				p.next()
				if _, err := p.str(); err != nil {
					return err
				}
			}
			if !p.isOp(",") {
				return nil
			}
			p.next()
		}
	case "unwrap":
		if !unwrapAllowed {
			return p.errorf(t, "unwrap is only valid inside an *_over_time aggregation that uses the unwrapped value")
		}
		p.next()
		if _, err := p.ident(); err != nil {
			return err
		}
		if p.isOp("(") { // duration(label), bytes(label)
			p.next()
			if _, err := p.ident(); err != nil {
				return err
			}
			return p.expectOp(")")
		}
		return nil
	}
	return p.labelFilter()
}

func (p *logqlParser) labelFilter() error {
	for {
		if p.isOp("(") {
			p.next()
			if err := p.labelFilter(); err != nil {
				return err
			}
			if err := p.expectOp(")"); err != nil {
				return err
			}
		} else {
			name, err := p.ident()
			if err != nil {
				return err
			}
			op := p.next()
			switch op.text {
			case "=", "!=", "=~", "!~":
				vt := p.peek()
				v, err := p.str()
				if err != nil {
					return err
				}
				if op.text == "=~" || op.text == "!~" {
					if _, err := regexp.Compile(v); err != nil {
						return p.errorf(vt, "label filter %s: bad regex %q: %v", name, v, err)
					}
				}
			case "==", ">", ">=", "<", "<=":
				if v := p.next(); v.kind != tNumber && v.kind != tString {
					return p.errorf(v, "label filter %s %s: expected a number, duration or byte size, found %s", name, op.text, desc(v))
				}
			default:
				return p.errorf(op, "label filter %s: expected a comparison operator, found %s", name, desc(op))
			}
		}
		t := p.peek()
		if (t.kind == tIdent && (t.text == "and" || t.text == "or")) || (t.kind == tOp && t.text == ",") {
			p.next()
			continue
		}
		return nil
	}
}

// templateFuncs stands in for Loki's template functions so that templates
// using them parse; only their names matter here.
var templateFuncs = func() template.FuncMap {
	fm := template.FuncMap{}
	for _, n := range []string{"__line__", "__timestamp__", "ToLower", "ToUpper", "Replace", "Trim",
		"TrimLeft", "TrimRight", "TrimPrefix", "TrimSuffix", "TrimSpace", "lower", "upper", "title",
		"trunc", "substr", "contains", "hasPrefix", "hasSuffix", "indent", "nindent", "repeat",
		"replace", "trim", "trimAll", "default", "count", "regexReplaceAll", "regexReplaceAllLiteral",
		"urlencode", "urldecode", "b64enc", "b64dec", "bytes", "duration", "duration_seconds",
		"unixEpoch", "unixEpochMillis", "unixEpochNanos", "unixToTime", "toDate", "toDateInZone",
		"date", "now", "alignLeft", "alignRight", "fromJson", "add", "sub", "mul", "div", "mod",
		"addf", "subf", "mulf", "divf", "max", "min", "maxf", "minf", "ceil", "floor", "round",
		"int", "float64"} {
		fm[n] = func(...any) any { return nil }
	}
	return fm
}()

func (p *logqlParser) checkTemplate(at token, tmpl string) error {
	if _, err := template.New("").Funcs(templateFuncs).Parse(tmpl); err != nil {
		return p.errorf(at, "template %q: %v", tmpl, err)
	}
	return nil
}

func desc(t token) string {
	if t.kind == tEOF {
		return "the end of the query"
	}
	return strconv.Quote(t.text)
}
