// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

// Command ruletest runs detection rules offline over Tetragon JSONL exports and
// reports which rules fire on which events, then a per-rule summary.
//
//	ruletest [--rules FILE]... [--no-builtin] [--disable NAME]... [--summary] [--all-rules] [--json] EVENTS.jsonl[.gz]|DIR...
//	ruletest [--rules FILE]... [--no-builtin] [--json] --list
//
// Rules with a suppress block are put through the detection processor's own
// suppression cache, with the event's time as the clock: each input file is
// replayed as one stream, in event time order, with a fresh cache.
//
// Exit status: 0 on success (whether or not rules fired), 2 when the rules do
// not load (the message locates the problem), 1 on usage or input errors.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/ottl/contexts/ottllog"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/attrkey"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/eventmap"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/jsonl"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/redact"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/processor/detectionprocessor"
	rules "github.com/otelcol-runtime-security/otelcol-runtime-security/processor/detectionprocessor/ruleengine"
)

const (
	exitOK        = 0
	exitUsage     = 1
	exitRuleError = 2
)

type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

type options struct {
	rules     stringList
	disabled  stringList
	noBuiltin bool
	jsonOut   bool
	list      bool
	summary   bool
	allRules  bool
	inputs    []string
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// parseArgs accepts flags before, between and after the input files.
func parseArgs(args []string, stderr io.Writer) (*options, error) {
	o := &options{}
	fs := flag.NewFlagSet("ruletest", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Var(&o.rules, "rules", "a rules YAML `file` applied after the built-in catalogue (repeatable)")
	fs.Var(&o.disabled, "disable", "a rule `name` to disable (repeatable)")
	fs.BoolVar(&o.noBuiltin, "no-builtin", false, "do not load the built-in catalogue")
	fs.BoolVar(&o.jsonOut, "json", false, "print one JSON document instead of text")
	fs.BoolVar(&o.list, "list", false, "print the rules and exit")
	fs.BoolVar(&o.summary, "summary", false, "print only the per-file counts and the per-rule summary, not the per-event lines")
	fs.BoolVar(&o.allRules, "all-rules", false, "list in the summary also the enabled rules that never fired")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: ruletest [--rules FILE]... [--no-builtin] [--disable NAME]... [--summary] [--all-rules] [--json] EVENTS.jsonl[.gz]|DIR...")
		fmt.Fprintln(stderr, "       ruletest [--rules FILE]... [--no-builtin] [--json] --list")
		fmt.Fprintln(stderr, "")
		fmt.Fprintln(stderr, "Prints the events on which rules fire, then a summary: per rule, the events it fired on,")
		fmt.Fprintln(stderr, "how many of those its suppress window suppressed (the processor's own suppression, with")
		fmt.Fprintln(stderr, "event time as the clock; each file is one stream), and its severity; and the totals")
		fmt.Fprintln(stderr, "(events read, events with detections, lines skipped by reason).")
		fmt.Fprintln(stderr, "")
		fmt.Fprintln(stderr, "Exit status: 0 on success, whether or not rules fired; 1 on usage or input errors;")
		fmt.Fprintln(stderr, "2 when the rules do not load (the message locates the problem).")
		fmt.Fprintln(stderr, "")
		fs.PrintDefaults()
	}
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			break
		}
		o.inputs = append(o.inputs, args[0])
		args = args[1:]
	}
	if !o.list && len(o.inputs) == 0 {
		fs.Usage()
		return nil, errors.New("no input files")
	}
	return o, nil
}

func run(args []string, out, stderr io.Writer) int {
	// Everything printed goes through the collector's secret masking: a report shows no more than
	// the log store would hold.
	stdout := redact.NewWriter(out)
	defer stdout.Flush()
	o, err := parseArgs(args, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		fmt.Fprintln(stderr, "ruletest:", err)
		return exitUsage
	}
	rs, err := rules.Load(rules.Options{Builtin: !o.noBuiltin, Files: o.rules, Disabled: o.disabled})
	if err != nil {
		fmt.Fprintln(stderr, "ruletest: rules do not load:", err)
		return exitRuleError
	}
	if o.list {
		if err := printList(stdout, rs, o.jsonOut); err != nil {
			fmt.Fprintln(stderr, "ruletest:", err)
			return exitUsage
		}
		return exitOK
	}
	files, err := jsonl.Expand(o.inputs, jsonl.Patterns...)
	if err != nil {
		fmt.Fprintln(stderr, "ruletest:", err)
		return exitUsage
	}
	rep := newReport(rs, o.allRules)
	for _, f := range files {
		if err := rep.runFile(f); err != nil {
			fmt.Fprintf(stderr, "ruletest: %s: %v\n", f, err)
			return exitUsage
		}
	}
	rep.finish()
	if o.summary {
		rep.Matched = nil // left out of the JSON document too
	}
	if o.jsonOut {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			fmt.Fprintln(stderr, "ruletest:", err)
			return exitUsage
		}
		return exitOK
	}
	rep.printText(stdout)
	return exitOK
}

// fileResult is what one input file held.
type fileResult struct {
	File string `json:"file"`
	eventmap.LineStats
}

// eventResult is one record on which rules fired.
type eventResult struct {
	File   string `json:"file"`
	Time   string `json:"time"`
	Event  string `json:"event"`
	ExecID string `json:"exec_id,omitempty"`
	Binary string `json:"binary,omitempty"`
	// CommandLine is process.command_line, secrets masked as the collector stores it.
	CommandLine string `json:"command_line,omitempty"`
	Namespace   string `json:"namespace,omitempty"`
	Pod         string `json:"pod,omitempty"`
	// Severity is the highest severity among the rules that fired (escalations applied).
	Severity string `json:"severity"`
	// Rules fired, highest severity first (catalogue order among equals), as the processor orders them.
	Rules []string `json:"rules"`
	// Suppressed are the rules of Rules that their suppress window suppressed on this event.
	Suppressed []string `json:"suppressed,omitempty"`
}

// skipped counts the input lines that are not events, by reason.
type skipped struct {
	Unknown   int `json:"unknown_type"`
	Malformed int `json:"malformed"`
}

// ruleSummary is what one rule did over all the input.
type ruleSummary struct {
	Name     string `json:"name"`
	Severity string `json:"severity"`
	// Escalated counts the firings at the escalated severity (EscalatedTo).
	Escalated   int    `json:"escalated,omitempty"`
	EscalatedTo string `json:"escalated_to,omitempty"`
	// Fired counts the events the rule matched; Suppressed those of them its suppress window
	// suppressed; Detections = Fired - Suppressed, the detections the processor would emit.
	Fired            int    `json:"fired"`
	Suppressed       int    `json:"suppressed"`
	Detections       int    `json:"detections"`
	SuppressWindow   string `json:"suppress_window,omitempty"`
	EvaluationErrors int    `json:"evaluation_errors,omitempty"`
}

type summary struct {
	Lines   int     `json:"lines"`
	Events  int     `json:"events"`
	Skipped skipped `json:"skipped"`
	// EventsMatched counts the events on which at least one rule fired; EventsDetected those
	// that still carry a detection after suppression (the records the processor tags).
	EventsMatched    int            `json:"events_matched"`
	EventsDetected   int            `json:"events_detected"`
	RulesEnabled     int            `json:"rules_enabled"`
	RulesFired       int            `json:"rules_fired"`
	Matches          map[string]int `json:"matches"`
	EvaluationErrors map[string]int `json:"evaluation_errors"`
	// Rules are the rules that fired (with --all-rules every enabled rule), most firings first.
	Rules []ruleSummary `json:"rules"`
}

type report struct {
	Files   []fileResult  `json:"files"`
	Matched []eventResult `json:"events,omitzero"` // nil with --summary
	Summary summary       `json:"summary"`

	rs        *rules.Ruleset
	allRules  bool
	maxKeys   int
	firstErrs map[string]string
	perRule   map[string]*ruleSummary
}

func newReport(rs *rules.Ruleset, allRules bool) *report {
	return &report{
		rs:        rs,
		allRules:  allRules,
		maxKeys:   detectionprocessor.NewFactory().CreateDefaultConfig().(*detectionprocessor.Config).MaxSuppressionKeys,
		Files:     []fileResult{},
		Matched:   []eventResult{},
		firstErrs: map[string]string{},
		perRule:   map[string]*ruleSummary{},
		Summary: summary{
			RulesEnabled:     rs.EnabledCount(),
			Matches:          map[string]int{},
			EvaluationErrors: map[string]int{},
		},
	}
}

func (rep *report) ruleStats(r *rules.Rule) *ruleSummary {
	s := rep.perRule[r.Name]
	if s == nil {
		s = &ruleSummary{Name: r.Name, Severity: r.Severity.String()}
		if r.Suppress != nil {
			s.SuppressWindow = shortDuration(r.Suppress.Window)
		}
		rep.perRule[r.Name] = s
	}
	return s
}

type record struct {
	rl plog.ResourceLogs
	sl plog.ScopeLogs
	lr plog.LogRecord
}

// firing is one rule that fired on a record.
type firing struct {
	rule       *rules.Rule
	severity   rules.Severity // escalation applied
	suppressed bool
}

func (rep *report) runFile(path string) error {
	lines, err := jsonl.ReadFile(path)
	if err != nil {
		return err
	}
	st, ld := mapLines(lines)
	rep.Files = append(rep.Files, fileResult{File: path, LineStats: st})
	rep.Summary.Lines += st.Lines
	rep.Summary.Skipped.Unknown += st.Unknown
	rep.Summary.Skipped.Malformed += st.Malformed
	var recs []record
	for i := 0; i < ld.ResourceLogs().Len(); i++ {
		rl := ld.ResourceLogs().At(i)
		for j := 0; j < rl.ScopeLogs().Len(); j++ {
			sl := rl.ScopeLogs().At(j)
			for k := 0; k < sl.LogRecords().Len(); k++ {
				recs = append(recs, record{rl, sl, sl.LogRecords().At(k)})
			}
		}
	}
	// The receiver groups records by resource; show them in event time order.
	sort.SliceStable(recs, func(a, b int) bool { return recs[a].lr.Timestamp() < recs[b].lr.Timestamp() })
	// Each file is one stream: its own suppression windows, the processor's cache and size.
	cache := rules.NewSuppressCache(rep.maxKeys)
	ctx := context.Background()
	onError := func(rule *rules.Rule, err error) {
		rep.Summary.EvaluationErrors[rule.Name]++
		rep.ruleStats(rule).EvaluationErrors++
		if _, ok := rep.firstErrs[rule.Name]; !ok {
			rep.firstErrs[rule.Name] = err.Error()
		}
	}
	var buf []*rules.Rule
	var fired []firing
	var key []byte
	for _, r := range recs {
		rep.Summary.Events++
		if !rep.rs.HasRulesFor(r.lr.EventName()) {
			continue
		}
		// As the processor's processRecord: evaluate, then each match's severity.
		tc := ottllog.NewTransformContext(r.rl, r.sl, r.lr)
		buf = rep.rs.Evaluate(ctx, tc, buf[:0], onError)
		fired = fired[:0]
		for _, m := range buf {
			sev, err := m.SeverityFor(ctx, tc)
			if err != nil {
				onError(m, err)
			}
			fired = append(fired, firing{rule: m, severity: sev})
		}
		tc.Close()
		if len(fired) == 0 {
			continue
		}
		// Suppression in catalogue order, with the event's time as the processor's clock.
		now := eventTime(r.lr)
		detected := false
		for i := range fired {
			f := &fired[i]
			s := rep.ruleStats(f.rule)
			s.Fired++
			rep.Summary.Matches[f.rule.Name]++
			if f.severity != f.rule.Severity {
				s.Escalated++
				s.EscalatedTo = f.severity.String()
			}
			if f.rule.Suppress != nil {
				key = suppressionKey(key[:0], f.rule, r.rl.Resource().Attributes(), r.lr.Attributes())
				if !cache.Observe(string(key), f.rule.Suppress.Window, now).Emit {
					f.suppressed = true
					s.Suppressed++
					continue
				}
			}
			detected = true
		}
		rep.Summary.EventsMatched++
		if detected {
			rep.Summary.EventsDetected++
		}
		// The processor's order: highest severity first, catalogue order among equals.
		sort.SliceStable(fired, func(a, b int) bool { return fired[a].severity > fired[b].severity })
		ev := eventResult{
			File:        path,
			Time:        r.lr.Timestamp().AsTime().UTC().Format(time.RFC3339Nano),
			Event:       strings.TrimPrefix(r.lr.EventName(), attrkey.EventNamePrefix),
			ExecID:      str(r.lr, attrkey.TetragonExecID),
			Binary:      str(r.lr, attrkey.ProcessExecutablePath),
			CommandLine: str(r.lr, attrkey.ProcessCommandLine),
			Namespace:   resStr(r.rl, attrkey.K8sNamespaceName),
			Pod:         resStr(r.rl, attrkey.K8sPodName),
			Severity:    fired[0].severity.String(),
		}
		for _, f := range fired {
			ev.Rules = append(ev.Rules, f.rule.Name)
			if f.suppressed {
				ev.Suppressed = append(ev.Suppressed, f.rule.Name)
			}
		}
		rep.Matched = append(rep.Matched, ev)
	}
	return nil
}

// eventTime is the record's event time, the clock the suppression windows run on offline (the
// processor uses the time it sees the record, which live is the event time give or take the
// pipeline's latency).
func eventTime(lr plog.LogRecord) time.Time {
	ts := lr.Timestamp()
	if ts == 0 {
		ts = lr.ObservedTimestamp()
	}
	return ts.AsTime()
}

// suppressionKey identifies the (rule, key values) window, as the processor's: the rule name and
// the suppress.key attributes' values (string form), NUL-separated.
func suppressionKey(dst []byte, r *rules.Rule, res, attrs pcommon.Map) []byte {
	dst = append(dst, r.Name...)
	for _, f := range r.Suppress.Key {
		dst = append(dst, 0)
		if v, ok := f.Get(res, attrs); ok {
			dst = append(dst, v.AsString()...)
		}
	}
	return dst
}

// finish builds the per-rule summary: rules by firings (most first), then name.
func (rep *report) finish() {
	rep.Summary.Rules = []ruleSummary{}
	for _, r := range rep.rs.Rules() {
		s, ok := rep.perRule[r.Name]
		switch {
		case ok && s.Fired > 0:
			rep.Summary.RulesFired++
		case !rep.allRules || !r.Enabled:
			continue
		case !ok:
			s = rep.ruleStats(r)
		}
		s.Detections = s.Fired - s.Suppressed
		rep.Summary.Rules = append(rep.Summary.Rules, *s)
	}
	rs := rep.Summary.Rules
	sort.SliceStable(rs, func(a, b int) bool {
		if rs[a].Fired != rs[b].Fired {
			return rs[a].Fired > rs[b].Fired
		}
		return rs[a].Name < rs[b].Name
	})
}

// shortDuration writes 1m for 1m0s and 2h for 2h0m0s.
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

func str(lr plog.LogRecord, key string) string {
	if v, ok := lr.Attributes().Get(key); ok {
		return v.AsString()
	}
	return ""
}

func resStr(rl plog.ResourceLogs, key string) string {
	if v, ok := rl.Resource().Attributes().Get(key); ok {
		return v.AsString()
	}
	return ""
}

func (rep *report) printText(w io.Writer) {
	for _, f := range rep.Files {
		fmt.Fprintf(w, "# %s: %d lines, %d events, %d of unknown type, %d malformed\n", f.File, f.Lines, f.Events, f.Unknown, f.Malformed)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	if len(rep.Matched) > 0 {
		fmt.Fprintln(tw, "TIME\tEVENT\tEXEC_ID\tBINARY\tPOD\tSEVERITY\tRULES")
	}
	for _, e := range rep.Matched {
		pod := "-"
		if e.Pod != "" {
			pod = e.Namespace + "/" + e.Pod
		}
		names := make([]string, len(e.Rules))
		for i, n := range e.Rules {
			names[i] = n
			if slices.Contains(e.Suppressed, n) {
				names[i] += " (suppressed)"
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", e.Time, e.Event, dash(e.ExecID), dash(e.Binary), pod, e.Severity, strings.Join(names, "; "))
	}
	tw.Flush()
	s := &rep.Summary
	fmt.Fprintf(w, "\nSummary: %d events, %d with detections (%d after suppression), %d rules enabled, %d fired\n",
		s.Events, s.EventsMatched, s.EventsDetected, s.RulesEnabled, s.RulesFired)
	fmt.Fprintf(w, "Lines: %d read, %d skipped (%d of unknown type, %d malformed)\n",
		s.Lines, s.Skipped.Unknown+s.Skipped.Malformed, s.Skipped.Unknown, s.Skipped.Malformed)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	if len(s.Rules) > 0 {
		fmt.Fprintln(tw, "FIRED\tSUPPRESSED\tDETECTIONS\tWINDOW\tSEVERITY\tRULE")
	}
	for _, r := range s.Rules {
		sev := r.Severity
		if r.Escalated > 0 {
			sev = fmt.Sprintf("%s (%d %s)", r.Severity, r.Escalated, r.EscalatedTo)
		}
		fmt.Fprintf(tw, "%d\t%d\t%d\t%s\t%s\t%s\n", r.Fired, r.Suppressed, r.Detections, dash(r.SuppressWindow), sev, r.Name)
	}
	tw.Flush()
	if silent := s.RulesEnabled - s.RulesFired; silent > 0 && !rep.allRules {
		fmt.Fprintf(w, "%d enabled rules did not fire (--all-rules lists them)\n", silent)
	}
	errNames := make([]string, 0, len(s.EvaluationErrors))
	for n := range s.EvaluationErrors {
		errNames = append(errNames, n)
	}
	sort.Strings(errNames)
	for _, n := range errNames {
		fmt.Fprintf(w, "evaluation errors: rule %q: %d (first: %s)\n", n, s.EvaluationErrors[n], rep.firstErrs[n])
	}
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

type listedRule struct {
	Name     string   `json:"name"`
	Severity string   `json:"severity"`
	Category string   `json:"category"`
	Events   []string `json:"event"`
	Mitre    []string `json:"mitre,omitempty"`
	Ruleset  string   `json:"ruleset"`
	Enabled  bool     `json:"enabled"`
	Source   string   `json:"source"`
}

func printList(w io.Writer, rs *rules.Ruleset, jsonOut bool) error {
	out := make([]listedRule, 0, len(rs.Rules()))
	for _, r := range rs.Rules() {
		out = append(out, listedRule{
			Name: r.Name, Severity: r.Severity.String(), Category: r.Category, Events: r.Events,
			Mitre: r.Mitre, Ruleset: r.Ruleset, Enabled: r.Enabled, Source: fmt.Sprintf("%s:%d", r.File, r.Line),
		})
	}
	if jsonOut {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tSEVERITY\tCATEGORY\tEVENTS\tMITRE\tRULESET\tENABLED")
	for _, r := range out {
		ev := make([]string, len(r.Events))
		for i, e := range r.Events {
			ev[i] = strings.TrimPrefix(e, attrkey.EventNamePrefix)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%v\n", r.Name, r.Severity, r.Category, strings.Join(ev, ","), dash(strings.Join(r.Mitre, ",")), r.Ruleset, r.Enabled)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "%d rules, %d enabled\n", len(out), rs.EnabledCount())
	return err
}
