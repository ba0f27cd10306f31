package rules

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/bmatcuk/doublestar/v4"
	"github.com/google/uuid"
	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/ottl"
	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/ottl/contexts/ottllog"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.uber.org/zap"
	"go.yaml.in/yaml/v3"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/eventmap"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/syscalls"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/processor/detectionprocessor/internal/rulefuncs"
)

// BuiltinRuleset is the ruleset name of the embedded catalogue.
const BuiltinRuleset = "builtin"

// Source is one rules YAML document to compile.
type Source struct {
	// Ruleset names the rules this source defines (security_rule.ruleset.name).
	Ruleset string
	// Path locates the source in error messages.
	Path string
	Data []byte
}

// Options select what Load compiles.
type Options struct {
	// Builtin includes the embedded catalogue first.
	Builtin bool
	// Files are user rules files, applied in order after the catalogue.
	Files []string
	// Disabled names rules to disable; an unknown name is an error.
	Disabled []string
	// Logger is handed to the OTTL parser; nil means no logging.
	Logger *zap.Logger
}

// Load reads the built-in catalogue and opts.Files and compiles them.
func Load(opts Options) (*Ruleset, error) {
	srcs, err := ReadSources(opts.Builtin, opts.Files)
	if err != nil {
		return nil, err
	}
	return Compile(srcs, opts.Disabled, opts.Logger)
}

// ReadSources returns the sources to compile: the catalogue when builtin, then files in order. It
// is the one reader of rules files, for the first load and for reloads alike.
func ReadSources(builtin bool, files []string) ([]Source, error) {
	var srcs []Source
	if builtin {
		b, err := BuiltinSources()
		if err != nil {
			return nil, err
		}
		srcs = append(srcs, b...)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, &Error{File: f, Err: err}
		}
		srcs = append(srcs, Source{Ruleset: filepath.Base(f), Path: f, Data: data})
	}
	return srcs, nil
}

// FirstFile is the file of the first located problem in err ("" when none is located): what a
// reload failure is counted and logged against.
func FirstFile(err error) string {
	var list *Errors
	if errors.As(err, &list) && len(list.List) > 0 {
		err = list.List[0]
	}
	var e *Error
	if errors.As(err, &e) {
		return e.File
	}
	return ""
}

// KnownEvents are the EventNames the tetragon receiver writes (eventmap.Types).
var KnownEvents = func() []string {
	out := make([]string, len(eventmap.Types))
	for i, t := range eventmap.Types {
		out[i] = eventmap.EventName(t)
	}
	return out
}()

var (
	techniqueRE = regexp.MustCompile(`^T[0-9]{4}(\.[0-9]{3})?$`)
	listNameRE  = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	// uuidNamespace makes security_rule.uuid a stable function of the rule name.
	uuidNamespace = uuid.NewSHA1(uuid.NameSpaceURL, []byte("https://github.com/otelcol-runtime-security/otelcol-runtime-security/detection-rules"))
)

// RuleUUID is the UUIDv5 of a rule name in the project's fixed namespace.
func RuleUUID(name string) string { return uuid.NewSHA1(uuidNamespace, []byte(name)).String() }

// TechniqueURL is the MITRE ATT&CK page of a technique ID (T1059.004 →
// https://attack.mitre.org/techniques/T1059/004/).
func TechniqueURL(id string) string {
	return "https://attack.mitre.org/techniques/" + strings.ReplaceAll(id, ".", "/") + "/"
}

// entry is a rule spec being assembled, with where it came from.
type entry struct {
	spec    RuleSpec
	file    string
	ruleset string
}

// Compile parses, merges and compiles sources in order: later sources replace
// rules of the same name and may override earlier ones; disabled names are
// applied last. All problems found are reported together.
func Compile(srcs []Source, disabled []string, logger *zap.Logger) (*Ruleset, error) {
	if logger == nil {
		logger = zap.NewNop()
	}
	var errs errorList
	docs := make([]*Document, len(srcs))
	for i, src := range srcs {
		doc, err := parseDocument(src)
		if err != nil {
			addYAMLError(&errs, src.Path, err)
			continue
		}
		if !doc.declares && src.Ruleset != BuiltinRuleset {
			// An empty file (a truncated ConfigMap, a bad template) would otherwise be a good reload
			// that silently removes every rule the site defined.
			errs.add(src.Path, 0, "", "", errors.New("defines nothing (no rules, overrides, chains or lists); if it is meant to be empty, say so with `rules: []`"))
			continue
		}
		docs[i] = doc
	}
	if err := errs.err(); err != nil {
		return nil, err
	}

	lists := map[string][]string{}
	for i, doc := range docs {
		names := make([]string, 0, len(doc.Lists))
		for name := range doc.Lists {
			names = append(names, name)
		}
		sort.Strings(names)
		for _, name := range names {
			if !listNameRE.MatchString(name) {
				errs.add(srcs[i].Path, 0, "", "lists", fmt.Errorf("invalid list name %q (letters, digits and _ only)", name))
				continue
			}
			lists[name] = doc.Lists[name]
		}
	}

	var entries []*entry
	byName := map[string]*entry{}
	for i, doc := range docs {
		seen := map[string]int{}
		for _, spec := range doc.Rules {
			if spec.Name == "" {
				errs.add(srcs[i].Path, spec.line, "", "name", errors.New("a rule needs a name"))
				continue
			}
			if prev, dup := seen[spec.Name]; dup {
				errs.add(srcs[i].Path, spec.line, spec.Name, "name", fmt.Errorf("duplicate rule name (first defined at line %d)", prev))
				continue
			}
			seen[spec.Name] = spec.line
			for j := range spec.Exceptions {
				spec.Exceptions[j].file = srcs[i].Path
			}
			e := &entry{spec: spec, file: srcs[i].Path, ruleset: srcs[i].Ruleset}
			if old, ok := byName[spec.Name]; ok {
				*old = *e // replace in place: keeps the catalogue position
				continue
			}
			byName[spec.Name] = e
			entries = append(entries, e)
		}
	}
	for i, doc := range docs {
		for _, ov := range doc.Overrides {
			applyOverride(srcs[i].Path, ov, byName, &errs)
		}
	}

	parser, err := ottllog.NewParser(rulefuncs.Functions(), component.TelemetrySettings{Logger: logger})
	if err != nil {
		return nil, fmt.Errorf("create OTTL parser: %w", err)
	}
	rs := &Ruleset{byName: map[string]*Rule{}, byEvent: map[string][]*Rule{}, lists: lists}
	var pf prefilterBuilder
	for _, e := range entries {
		r := compileRule(e, lists, &parser, &errs)
		if r == nil {
			continue
		}
		r.prefilter = pf.derive(r.Expanded)
		r.Order = len(rs.rules)
		rs.rules = append(rs.rules, r)
		rs.byName[r.Name] = r
	}
	compileChains(srcs, docs, rs, lists, &parser, &errs)
	for _, name := range disabled {
		if c, ok := rs.chainByName[name]; ok {
			c.Enabled, c.Rule.Enabled = false, false
			continue
		}
		r, ok := rs.byName[name]
		if !ok {
			if _, defined := byName[name]; defined {
				continue // the rule has errors, reported above
			}
			errs.add("disabled_rules", 0, name, "", fmt.Errorf("no such rule or chain; known rules: %s", strings.Join(rs.Names(), ", ")))
			continue
		}
		r.Enabled = false
	}
	if err := errs.err(); err != nil {
		return nil, err
	}
	for _, c := range rs.chains {
		if c.Enabled {
			rs.enabledChains = append(rs.enabledChains, c)
		}
	}
	for _, r := range rs.rules {
		r.pfFields = pf.fields
		if !r.Enabled {
			continue
		}
		for _, ev := range r.Events {
			rs.byEvent[ev] = append(rs.byEvent[ev], r)
		}
	}
	rs.byExeName = map[string]*nameIndex{}
	for ev, rules := range rs.byEvent {
		if ix := buildNameIndex(rules, pf.fields); ix != nil {
			rs.byExeName[ev] = ix
		}
	}
	return rs, nil
}

var yamlLineRE = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)

// addYAMLError splits a YAML error into one located error per problem.
func addYAMLError(errs *errorList, file string, err error) {
	var te *yaml.TypeError
	msgs := []string{err.Error()}
	if errors.As(err, &te) {
		msgs = te.Errors
	}
	for _, m := range msgs {
		m = friendlyTypes.Replace(m)
		if sm := yamlLineRE.FindStringSubmatch(m); sm != nil {
			line, _ := strconv.Atoi(sm[1])
			errs.add(file, line, "", "", errors.New(sm[2]))
			continue
		}
		errs.add(file, 0, "", "", errors.New(m))
	}
}

var friendlyTypes = strings.NewReplacer(
	"type rules.Document", "file (top-level keys: lists, rules, overrides, chains)",
	"type rules.RuleSpec", "rule",
	"type rules.ExceptionSpec", "exception",
	"type rules.OverrideSpec", "override",
	"type rules.ScopeSpec", "scope (keys: namespaces, workloads)",
	"type rules.IncludeExclude", "include/exclude (keys: include, exclude)",
	"type rules.SuppressSpec", "suppress (keys: window, key)",
	"type rules.ChainSpec", "chain (keys: name, description, category, severity, mitre, within, by, steps, enabled)",
	"type rules.ChainStepSpec", "chain step (keys: name, rules, condition)",
	"rules.Document", "file (top-level keys: lists, rules, overrides, chains)",
	"rules.RuleSpec", "rule",
	"rules.ExceptionSpec", "exception",
	"rules.OverrideSpec", "override",
	"rules.ScopeSpec", "scope (keys: namespaces, workloads)",
	"rules.IncludeExclude", "include/exclude (keys: include, exclude)",
	"rules.SuppressSpec", "suppress (keys: window, key)",
	"rules.ChainSpec", "chain (keys: name, description, category, severity, mitre, within, by, steps, enabled)",
	"rules.ChainStepSpec", "chain step (keys: name, rules, condition)",
)

func parseDocument(src Source) (*Document, error) {
	var doc Document
	dec := yaml.NewDecoder(bytes.NewReader(src.Data))
	dec.KnownFields(true)
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return &doc, nil // an empty file defines nothing
		}
		return nil, err
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return nil, errors.New("more than one YAML document in the file; put everything in one")
	}
	var root yaml.Node
	if err := yaml.Unmarshal(src.Data, &root); err == nil {
		doc.setLines(&root)
		m := root.Content[0]
		doc.declares = mappingValue(m, "rules") != nil || mappingValue(m, "overrides") != nil || mappingValue(m, "chains") != nil || mappingValue(m, "lists") != nil
	}
	return &doc, nil
}

func applyOverride(file string, ov OverrideSpec, byName map[string]*entry, errs *errorList) {
	if ov.Name == "" {
		errs.add(file, ov.line, "", "overrides.name", errors.New("an override needs the name of the rule it changes"))
		return
	}
	e, ok := byName[ov.Name]
	if !ok {
		known := make([]string, 0, len(byName))
		for n := range byName {
			known = append(known, n)
		}
		sort.Strings(known)
		errs.add(file, ov.line, ov.Name, "overrides", fmt.Errorf("no rule of that name to override; known rules: %s", strings.Join(known, ", ")))
		return
	}
	if ov.Enabled != nil {
		v := *ov.Enabled
		e.spec.Enabled = &v
	}
	if ov.Severity != "" {
		if _, err := ParseSeverity(ov.Severity); err != nil {
			errs.add(file, ov.line, ov.Name, "overrides.severity", err)
		} else {
			e.spec.Severity = ov.Severity
		}
	}
	if ov.Scope != nil {
		e.spec.Scope = ov.Scope
	}
	if ov.Suppress != nil {
		e.spec.Suppress = ov.Suppress
	}
	// Copy the exceptions so that appending never aliases a spec slice.
	exs := slices.Clone(e.spec.Exceptions)
	for _, add := range ov.AppendExceptions {
		add.file = file
		if add.Name == "" {
			errs.add(file, add.line, ov.Name, "append_exceptions.name", errors.New("an appended exception needs a name"))
			continue
		}
		idx := slices.IndexFunc(exs, func(x ExceptionSpec) bool { return x.Name == add.Name })
		if idx < 0 {
			if len(add.Fields) == 0 {
				errs.add(file, add.line, ov.Name, "append_exceptions["+add.Name+"]",
					errors.New("the rule has no exception of that name, so this adds a new one and needs fields"))
				continue
			}
			exs = append(exs, add)
			continue
		}
		ex := exs[idx]
		if len(add.Fields) > 0 && !slices.Equal(add.Fields, ex.Fields) {
			errs.add(file, add.line, ov.Name, "append_exceptions["+add.Name+"].fields",
				fmt.Errorf("fields %v differ from the existing exception's fields %v; omit fields to append values", []string(add.Fields), []string(ex.Fields)))
			continue
		}
		if len(add.Comps) > 0 && !slices.Equal(add.Comps, ex.Comps) {
			errs.add(file, add.line, ov.Name, "append_exceptions["+add.Name+"].comps",
				fmt.Errorf("comps %v differ from the existing exception's comps %v; omit comps to append values", []string(add.Comps), []string(ex.Comps)))
			continue
		}
		fits := true
		for i, t := range add.Values {
			if len(t) != len(ex.Fields) {
				errs.add(file, add.line, ov.Name, fmt.Sprintf("append_exceptions[%s].values[%d]", add.Name, i),
					fmt.Errorf("tuple has %d items, want %d (fields: %s)", len(t), len(ex.Fields), strings.Join(ex.Fields, ", ")))
				fits = false
			}
		}
		if !fits {
			continue
		}
		ex.Values = append(slices.Clone(ex.Values), add.Values...)
		exs[idx] = ex
	}
	e.spec.Exceptions = exs
}

func compileRule(e *entry, lists map[string][]string, parser *ottl.Parser[rulefuncs.TC], errs *errorList) *Rule {
	s := &e.spec
	n0 := len(errs.errs) + errs.dropped
	bad := func(field string, err error) { errs.add(e.file, s.line, s.Name, field, err) }

	r := &Rule{
		Name:        s.Name,
		Description: strings.TrimSpace(s.Description),
		Category:    s.Category,
		Mitre:       s.Mitre,
		Ruleset:     e.ruleset,
		File:        e.file,
		Line:        s.line,
		Events:      s.Event,
		Hooks:       s.Hooks,
		Syscalls:    s.Syscalls,
		Condition:   strings.TrimSpace(s.Condition),
		Enabled:     s.Enabled == nil || *s.Enabled,
		UUID:        RuleUUID(s.Name),
	}
	if r.Description == "" {
		bad("description", errors.New("required"))
	}
	if r.Category == "" {
		bad("category", errors.New("required"))
	}
	if s.Severity == "" {
		bad("severity", errors.New("required (critical, warning or info)"))
	} else if sev, err := ParseSeverity(s.Severity); err != nil {
		bad("severity", err)
	} else {
		r.Severity = sev
	}
	for i, t := range s.Mitre {
		if !techniqueRE.MatchString(t) {
			bad(fmt.Sprintf("mitre[%d]", i), fmt.Errorf("%q is not an ATT&CK technique ID like T1059 or T1059.004", t))
		}
	}
	if len(s.Mitre) > 0 {
		r.Reference = TechniqueURL(s.Mitre[0])
	}
	r.techniques = pcommon.NewSlice()
	r.techniques.EnsureCapacity(len(s.Mitre))
	for _, t := range s.Mitre {
		r.techniques.AppendEmpty().SetStr(t)
	}
	if len(s.Event) == 0 {
		bad("event", fmt.Errorf("required: one or more of %s", strings.Join(KnownEvents, ", ")))
	}
	for i, ev := range s.Event {
		if !slices.Contains(KnownEvents, ev) {
			bad(fmt.Sprintf("event[%d]", i), fmt.Errorf("unknown event %q; known: %s", ev, strings.Join(KnownEvents, ", ")))
		}
	}
	if len(s.Hooks) > 0 {
		r.Hooks, r.hookSet = expandNameList("hooks", "hook name", s.Hooks, lists, nil, bad)
	}
	if len(s.Syscalls) > 0 {
		r.Syscalls, r.syscallSet = expandNameList("syscalls", "syscall name", s.Syscalls, lists, checkSyscallName, bad)
	}
	if s.Scope != nil {
		sc, field, err := compileScope(s.Scope)
		if err != nil {
			bad("scope."+field, err)
		}
		r.scope = sc
	}
	if s.Suppress != nil {
		if s.Suppress.Window <= 0 {
			bad("suppress.window", fmt.Errorf("must be a positive duration like 30s or 5m, got %v", s.Suppress.Window))
		}
		keys := make([]FieldRef, 0, len(s.Suppress.Key))
		for i, k := range s.Suppress.Key {
			f, err := ParseFieldRef(k)
			if err != nil {
				bad(fmt.Sprintf("suppress.key[%d]", i), err)
			}
			keys = append(keys, f)
		}
		r.Suppress = &Suppress{Window: s.Suppress.Window, Key: keys}
	}
	names := map[string]bool{}
	for i, ex := range s.Exceptions {
		field := fmt.Sprintf("exceptions[%d]", i)
		if ex.Name != "" {
			field = fmt.Sprintf("exceptions[%s]", ex.Name)
		}
		if names[ex.Name] {
			bad(field+".name", errors.New("duplicate exception name"))
			continue
		}
		names[ex.Name] = true
		c, sub, err := compileException(ex)
		if err != nil {
			file, line := e.file, s.line
			if ex.file != "" {
				file = ex.file
			}
			if ex.line > 0 {
				line = ex.line
			}
			errs.add(file, line, s.Name, field+sub, err)
			continue
		}
		r.exceptions = append(r.exceptions, c)
	}
	if r.Condition == "" {
		bad("condition", errors.New("required: an OTTL boolean expression"))
	} else {
		expanded, err := ExpandLists(r.Condition, lists)
		if err != nil {
			bad("condition", err)
		} else {
			r.Expanded = expanded
			cond, err := parser.ParseCondition(expanded)
			if err != nil {
				bad("condition", fmt.Errorf("OTTL: %w", err))
			} else {
				r.cond = cond
			}
		}
	}
	if s.Escalate != nil {
		r.Escalation = compileEscalation(s.Escalate, r.Severity, lists, parser, bad)
	}
	if len(errs.errs)+errs.dropped != n0 {
		return nil
	}
	return r
}

// expandNameList expands the "@list" items of a hooks/syscalls field and
// returns the names in order and as a set; check, when set, validates each
// name (an invalid item of a list is reported as `field[i]: @list item: …`).
func expandNameList(field, what string, items []string, lists map[string][]string, check func(string) error, bad func(string, error)) ([]string, map[string]struct{}) {
	var names []string
	set := make(map[string]struct{}, len(items))
	for i, h := range items {
		f := fmt.Sprintf("%s[%d]", field, i)
		if h == "" {
			bad(f, fmt.Errorf("empty %s", what))
			continue
		}
		hs := []string{h}
		listName, isList := strings.CutPrefix(h, "@")
		if isList {
			l, found := lists[listName]
			if !found {
				bad(f, fmt.Errorf("unknown list %s", h))
				continue
			}
			hs = l
		}
		for _, x := range hs {
			if check != nil {
				if err := check(x); err != nil {
					if isList {
						err = fmt.Errorf("%s item: %w", h, err)
					}
					bad(f, err)
					continue
				}
			}
			set[x] = struct{}{}
			names = append(names, x)
		}
	}
	return names, set
}

// checkSyscallName accepts a name of the x86_64, arm64 or i386 syscall table:
// the values tetragon.syscall.name takes.
func checkSyscallName(name string) error {
	if syscalls.Known(name) {
		return nil
	}
	if table, ok := syscalls.EntryAlias(name); ok {
		return fmt.Errorf("%q is the kernel entry point of the syscall the tables call %q, and tetragon.syscall.name carries the table name: write %s", name, table, table)
	}
	if sc := syscalls.FromKprobe(name); sc != "" {
		return fmt.Errorf("%q is a hook, not a syscall name: write %s (it covers every hook on that syscall), or put the hook in hooks:", name, sc)
	}
	if sub, ev, ok := strings.Cut(name, "/"); ok {
		if sc := syscalls.FromTracepoint(sub, ev); sc != "" && syscalls.Known(sc) {
			return fmt.Errorf("%q is a hook, not a syscall name: write %s (it covers every hook on that syscall), or put the hook in hooks:", name, sc)
		}
	}
	msg := fmt.Sprintf("%q is not a Linux syscall name known to the x86_64, arm64 or i386 syscall tables", name)
	if lower := strings.ToLower(name); lower != name && syscalls.Known(lower) {
		return fmt.Errorf("%s; names are lower case: %s", msg, lower)
	}
	if near := syscalls.Closest(name, 3); len(near) > 0 {
		return fmt.Errorf("%s; closest: %s", msg, strings.Join(near, ", "))
	}
	return errors.New(msg + " (names as in the kernel's syscall tables: ptrace, finit_module, openat, …)")
}

func compileEscalation(s *EscalateSpec, base Severity, lists map[string][]string, parser *ottl.Parser[rulefuncs.TC], bad func(string, error)) *Escalation {
	e := &Escalation{Condition: strings.TrimSpace(s.Condition)}
	sev, err := ParseSeverity(s.Severity)
	switch {
	case s.Severity == "":
		bad("escalate.severity", errors.New("required (critical, warning or info)"))
	case err != nil:
		bad("escalate.severity", err)
	case base != 0 && sev <= base:
		bad("escalate.severity", fmt.Errorf("%s does not raise the rule's severity %s", sev, base))
	}
	e.Severity = sev
	if e.Condition == "" {
		bad("escalate.condition", errors.New("required: an OTTL boolean expression"))
		return e
	}
	expanded, err := ExpandLists(e.Condition, lists)
	if err != nil {
		bad("escalate.condition", err)
		return e
	}
	if e.cond, err = parser.ParseCondition(expanded); err != nil {
		bad("escalate.condition", fmt.Errorf("OTTL: %w", err))
	}
	return e
}

func compileScope(s *ScopeSpec) (scope, string, error) {
	var sc scope
	var err error
	if s.Namespaces != nil {
		if sc.nsInclude, err = newGlobSet(s.Namespaces.Include); err != nil {
			return sc, "namespaces.include", err
		}
		if sc.nsExclude, err = newGlobSet(s.Namespaces.Exclude); err != nil {
			return sc, "namespaces.exclude", err
		}
	}
	if s.Workloads != nil {
		if sc.wlInclude, err = newGlobSet(s.Workloads.Include); err != nil {
			return sc, "workloads.include", err
		}
		if sc.wlExclude, err = newGlobSet(s.Workloads.Exclude); err != nil {
			return sc, "workloads.exclude", err
		}
	}
	return sc, "", nil
}

const maxExceptionFields = 8

func compileException(ex ExceptionSpec) (exception, string, error) {
	c := exception{name: ex.Name}
	if ex.Name == "" {
		return c, ".name", errors.New("required")
	}
	if len(ex.Fields) == 0 {
		return c, ".fields", errors.New("required: attribute keys, resource.<key> for resource attributes")
	}
	if len(ex.Fields) > maxExceptionFields {
		return c, ".fields", fmt.Errorf("at most %d fields", maxExceptionFields)
	}
	for i, f := range ex.Fields {
		ref, err := ParseFieldRef(f)
		if err != nil {
			return c, fmt.Sprintf(".fields[%d]", i), err
		}
		c.fields = append(c.fields, ref)
	}
	switch {
	case len(ex.Comps) == 0:
		c.comps = make([]comparator, len(ex.Fields))
	case len(ex.Comps) != len(ex.Fields):
		return c, ".comps", fmt.Errorf("has %d comparators for %d fields; give one per field or none (all =)", len(ex.Comps), len(ex.Fields))
	default:
		for i, s := range ex.Comps {
			cmp, ok := comparatorNames[s]
			if !ok {
				return c, fmt.Sprintf(".comps[%d]", i), fmt.Errorf("unknown comparator %q (want =, !=, in, startswith, endswith, contains, glob)", s)
			}
			c.comps = append(c.comps, cmp)
		}
	}
	for ti, t := range ex.Values {
		if len(t) != len(c.fields) {
			return c, fmt.Sprintf(".values[%d]", ti), fmt.Errorf("tuple has %d items, want %d (fields: %s)", len(t), len(c.fields), strings.Join(ex.Fields, ", "))
		}
		row := make([]operand, len(t))
		for i, it := range t {
			cmp := c.comps[i]
			if it.List && cmp != cmpIn {
				return c, fmt.Sprintf(".values[%d][%d]", ti, i), fmt.Errorf("a list value needs the in comparator, field %s uses %s", ex.Fields[i], cmp)
			}
			switch cmp {
			case cmpIn:
				row[i].set = make(map[string]struct{}, len(it.Values))
				for _, v := range it.Values {
					row[i].set[v] = struct{}{}
				}
			case cmpGlob:
				if !doublestar.ValidatePattern(it.Values[0]) {
					return c, fmt.Sprintf(".values[%d][%d]", ti, i), fmt.Errorf("invalid glob pattern %q", it.Values[0])
				}
				row[i].s = it.Values[0]
			default:
				row[i].s = it.Values[0]
			}
		}
		c.tuples = append(c.tuples, row)
	}
	return c, "", nil
}

// ExpandLists replaces every @name outside string literals with the OTTL list
// literal of lists[name].
func ExpandLists(cond string, lists map[string][]string) (string, error) {
	if !strings.Contains(cond, "@") {
		return cond, nil
	}
	var b strings.Builder
	inString := false
	for i := 0; i < len(cond); i++ {
		c := cond[i]
		if inString {
			b.WriteByte(c)
			if c == '\\' && i+1 < len(cond) {
				i++
				b.WriteByte(cond[i])
			} else if c == '"' {
				inString = false
			}
			continue
		}
		switch c {
		case '"':
			inString = true
			b.WriteByte(c)
		case '@':
			j := i + 1
			for j < len(cond) && isIdentByte(cond[j], j == i+1) {
				j++
			}
			name := cond[i+1 : j]
			if name == "" {
				return "", fmt.Errorf("'@' at offset %d is not followed by a list name", i)
			}
			items, ok := lists[name]
			if !ok {
				known := make([]string, 0, len(lists))
				for n := range lists {
					known = append(known, "@"+n)
				}
				sort.Strings(known)
				return "", fmt.Errorf("unknown list @%s (defined lists: %s)", name, strings.Join(known, ", "))
			}
			b.WriteByte('[')
			for k, it := range items {
				if k > 0 {
					b.WriteString(", ")
				}
				b.WriteString(strconv.Quote(it))
			}
			b.WriteByte(']')
			i = j - 1
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), nil
}

func isIdentByte(c byte, first bool) bool {
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (!first && c >= '0' && c <= '9')
}

// Suppress is a compiled suppress block.
type Suppress struct {
	Window time.Duration
	Key    []FieldRef
}
