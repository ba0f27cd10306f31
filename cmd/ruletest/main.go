// Command ruletest runs detection rules offline over Tetragon JSONL exports and
// reports which rules fire on which events.
//
//	ruletest [--rules FILE]... [--no-builtin] [--disable NAME]... [--json] EVENTS.jsonl[.gz]|DIR...
//	ruletest [--rules FILE]... [--no-builtin] [--json] --list
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
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/attrkey"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/jsonl"
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
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: ruletest [--rules FILE]... [--no-builtin] [--disable NAME]... [--json] EVENTS.jsonl[.gz]|DIR...")
		fmt.Fprintln(stderr, "       ruletest [--rules FILE]... [--no-builtin] [--json] --list")
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

func run(args []string, stdout, stderr io.Writer) int {
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
	files, err := expandInputs(o.inputs)
	if err != nil {
		fmt.Fprintln(stderr, "ruletest:", err)
		return exitUsage
	}
	rep := newReport(rs)
	for _, f := range files {
		if err := rep.runFile(f); err != nil {
			fmt.Fprintf(stderr, "ruletest: %s: %v\n", f, err)
			return exitUsage
		}
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

// expandInputs replaces directories by their *.jsonl and *.jsonl.gz files.
func expandInputs(inputs []string) ([]string, error) {
	var out []string
	for _, in := range inputs {
		fi, err := os.Stat(in)
		if err != nil {
			return nil, err
		}
		if !fi.IsDir() {
			out = append(out, in)
			continue
		}
		var found []string
		for _, pat := range []string{"*.jsonl", "*.jsonl.gz"} {
			m, err := filepath.Glob(filepath.Join(in, pat))
			if err != nil {
				return nil, err
			}
			found = append(found, m...)
		}
		if len(found) == 0 {
			return nil, fmt.Errorf("%s: no *.jsonl or *.jsonl.gz files", in)
		}
		sort.Strings(found)
		out = append(out, found...)
	}
	return out, nil
}

// fileResult is what one input file held.
type fileResult struct {
	File string `json:"file"`
	lineStats
}

// eventResult is one record on which rules fired.
type eventResult struct {
	File      string   `json:"file"`
	Time      string   `json:"time"`
	Event     string   `json:"event"`
	ExecID    string   `json:"exec_id,omitempty"`
	Binary    string   `json:"binary,omitempty"`
	Namespace string   `json:"namespace,omitempty"`
	Pod       string   `json:"pod,omitempty"`
	Severity  string   `json:"severity"`
	Rules     []string `json:"rules"`
}

type summary struct {
	Events           int            `json:"events"`
	EventsMatched    int            `json:"events_matched"`
	RulesEnabled     int            `json:"rules_enabled"`
	Matches          map[string]int `json:"matches"`
	EvaluationErrors map[string]int `json:"evaluation_errors"`
}

type report struct {
	Files   []fileResult  `json:"files"`
	Matched []eventResult `json:"events"`
	Summary summary       `json:"summary"`

	rs        *rules.Ruleset
	firstErrs map[string]string
}

func newReport(rs *rules.Ruleset) *report {
	return &report{
		rs:        rs,
		Files:     []fileResult{},
		Matched:   []eventResult{},
		firstErrs: map[string]string{},
		Summary: summary{
			RulesEnabled:     rs.EnabledCount(),
			Matches:          map[string]int{},
			EvaluationErrors: map[string]int{},
		},
	}
}

type record struct {
	rl plog.ResourceLogs
	sl plog.ScopeLogs
	lr plog.LogRecord
}

func (rep *report) runFile(path string) error {
	lines, err := jsonl.ReadFile(path)
	if err != nil {
		return err
	}
	st, ld := mapLines(lines)
	rep.Files = append(rep.Files, fileResult{File: path, lineStats: st})
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
	var buf []*rules.Rule
	for _, r := range recs {
		rep.Summary.Events++
		buf = rep.rs.EvaluateRecord(context.Background(), r.rl, r.sl, r.lr, buf[:0], func(rule *rules.Rule, err error) {
			rep.Summary.EvaluationErrors[rule.Name]++
			if _, ok := rep.firstErrs[rule.Name]; !ok {
				rep.firstErrs[rule.Name] = err.Error()
			}
		})
		if len(buf) == 0 {
			continue
		}
		sort.SliceStable(buf, func(a, b int) bool { return buf[a].Severity > buf[b].Severity })
		rep.Summary.EventsMatched++
		ev := eventResult{
			File:      path,
			Time:      r.lr.Timestamp().AsTime().UTC().Format(time.RFC3339Nano),
			Event:     strings.TrimPrefix(r.lr.EventName(), attrkey.EventNamePrefix),
			ExecID:    str(r.lr, attrkey.TetragonExecID),
			Binary:    str(r.lr, attrkey.ProcessExecutablePath),
			Namespace: resStr(r.rl, attrkey.K8sNamespaceName),
			Pod:       resStr(r.rl, attrkey.K8sPodName),
			Severity:  buf[0].Severity.String(),
		}
		for _, m := range buf {
			ev.Rules = append(ev.Rules, m.Name)
			rep.Summary.Matches[m.Name]++
		}
		rep.Matched = append(rep.Matched, ev)
	}
	return nil
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
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", e.Time, e.Event, dash(e.ExecID), dash(e.Binary), pod, e.Severity, strings.Join(e.Rules, "; "))
	}
	tw.Flush()
	fmt.Fprintf(w, "\nSummary: %d events, %d with detections, %d rules enabled\n", rep.Summary.Events, rep.Summary.EventsMatched, rep.Summary.RulesEnabled)
	names := make([]string, 0, len(rep.Summary.Matches))
	for n := range rep.Summary.Matches {
		names = append(names, n)
	}
	sort.Slice(names, func(a, b int) bool {
		ca, cb := rep.Summary.Matches[names[a]], rep.Summary.Matches[names[b]]
		if ca != cb {
			return ca > cb
		}
		return names[a] < names[b]
	})
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	if len(names) > 0 {
		fmt.Fprintln(tw, "MATCHES\tSEVERITY\tRULE")
	}
	for _, n := range names {
		fmt.Fprintf(tw, "%d\t%s\t%s\n", rep.Summary.Matches[n], rep.rs.Rule(n).Severity, n)
	}
	tw.Flush()
	if silent := rep.Summary.RulesEnabled - len(names); silent > 0 {
		fmt.Fprintf(w, "%d enabled rules did not fire\n", silent)
	}
	for n, c := range rep.Summary.EvaluationErrors {
		fmt.Fprintf(w, "evaluation errors: rule %q: %d (first: %s)\n", n, c, rep.firstErrs[n])
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
