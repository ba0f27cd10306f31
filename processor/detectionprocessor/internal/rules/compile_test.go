// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package rules_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/processor/detectionprocessor/internal/rules"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/processor/detectionprocessor/internal/rules/rulestest"
)

const baseRule = `
  - name: R
    description: d
    category: c
    severity: warning
    event: tetragon.process_exec
    condition: attributes["process.executable.name"] == "bash"
`

const chainYAML = `
chains:
  - name: C
    description: d
    severity: critical
    within: 10m
    steps:
      - rules: [R]
      - condition: 'attributes["x"] != nil'
`

func TestCompileErrorsArePrecise(t *testing.T) {
	tests := []struct {
		name, yaml string
		want       []string // substrings of the error
	}{
		{"unknown top-level key", "rulez: []", []string{"t.yaml:1: field rulez not found in file"}},
		{"unknown rule key", "rules:\n  - name: R\n    sevrity: info\n", []string{"t.yaml:3: field sevrity not found in rule"}},
		{"unknown scope key", "rules:\n  - name: R\n    scope: {namespace: {include: [a]}}\n", []string{"field namespace not found in scope"}},
		{"bad yaml", "rules: [", []string{"t.yaml", "yaml"}},
		{"two documents", "rules: []\n---\nrules: []\n", []string{"more than one YAML document"}},
		{"missing name", "rules:\n  - description: d\n", []string{"t.yaml:2", "name: a rule needs a name"}},
		{"missing fields", "rules:\n  - name: R\n    condition: 'true'\n    event: tetragon.process_exec\n", []string{
			`t.yaml:2: rule "R": description: required`, `rule "R": category: required`, `rule "R": severity: required`}},
		{"bad severity", "rules:" + strings.Replace(baseRule, "warning", "high", 1), []string{`t.yaml:2: rule "R": severity: unknown severity "high"`}},
		{"bad mitre", "rules:" + strings.Replace(baseRule, "severity: warning", "severity: warning\n    mitre: [T1059.004, TA0002, t1]", 1), []string{
			`rule "R": mitre[1]: "TA0002" is not an ATT&CK technique ID`, `mitre[2]: "t1"`}},
		{"unknown event", "rules:" + strings.Replace(baseRule, "tetragon.process_exec", "[tetragon.process_exec, process_exec]", 1), []string{
			`rule "R": event[1]: unknown event "process_exec"; known: tetragon.process_exec`}},
		{"no event", "rules:" + strings.Replace(baseRule, "event: tetragon.process_exec", "", 1), []string{`rule "R": event: required`}},
		{"ottl parse error", "rules:" + strings.Replace(baseRule, `== "bash"`, `=== "bash"`, 1), []string{`t.yaml:2: rule "R": condition: OTTL:`}},
		{"unknown function", "rules:" + strings.Replace(baseRule, `attributes["process.executable.name"] == "bash"`, `NoSuch(attributes["x"])`, 1), []string{`rule "R": condition: OTTL:`, "NoSuch"}},
		{"unknown list", "rules:" + strings.Replace(baseRule, `== "bash"`, `!= nil and InList(attributes["x"], @shells)`, 1), []string{`rule "R": condition: unknown list @shells`}},
		{"duplicate rule", "rules:" + baseRule + baseRule, []string{`t.yaml:9: rule "R": name: duplicate rule name (first defined at line 2)`}},
		{"bad list name", "lists:\n  bad-name: [a]\n", []string{`t.yaml: lists: invalid list name "bad-name"`}},
		{"empty file", "", []string{"t.yaml: defines nothing (no rules, overrides, chains or lists); if it is meant to be empty, say so with `rules: []`"}},
		{"comments only", "# all rules removed\n", []string{"t.yaml: defines nothing"}},
		{"empty mapping", "{}\n", []string{"t.yaml: defines nothing"}},
		{"chain unknown rule", "rules:" + baseRule + strings.Replace(chainYAML, "[R]", "[Rx]", 1), []string{`rule "C": steps[0].rules[0]: no rule "Rx"; known rules: R`}},
		{"chain condition first", "rules:" + baseRule + strings.Replace(chainYAML, "rules: [R]", "condition: 'true'", 1), []string{`rule "C": steps[0]: the first step must name rules`}},
		{"chain both", "rules:" + baseRule + strings.Replace(chainYAML, "- rules: [R]", "- rules: [R]\n        condition: 'true'", 1), []string{`steps[0]: has both rules and condition`}},
		{"chain no within", "rules:" + baseRule + strings.Replace(chainYAML, "within: 10m", "", 1), []string{`rule "C": within: required: a positive duration`}},
		{"chain bad by", "rules:" + baseRule + strings.Replace(chainYAML, "within: 10m", "within: 10m\n    by: pod", 1), []string{`rule "C": by: unknown "pod"; want container (the default) or process_tree`}},
		{"chain one step", "rules:" + baseRule + strings.Replace(chainYAML, "      - condition: 'attributes[\"x\"] != nil'\n", "", 1), []string{`rule "C": steps: a chain has 2 to 8 steps, got 1`}},
		{"chain named like a rule", "rules:" + baseRule + strings.Replace(chainYAML, "name: C", "name: R", 1), []string{`rule "R": name: a rule has this name`}},
		{"chain bad condition", "rules:" + baseRule + strings.Replace(chainYAML, "!= nil", "=== nil", 1), []string{`rule "C": steps[1].condition: OTTL:`}},
		{"exception comps count", "rules:" + baseRule + `    exceptions:
      - name: e
        fields: [a, b]
        comps: [=]
        values: [[x, y]]
`, []string{`t.yaml:9: rule "R": exceptions[e].comps: has 1 comparators for 2 fields`}},
		{"exception unknown comp", "rules:" + baseRule + `    exceptions:
      - name: e
        fields: [a]
        comps: [like]
        values: [x]
`, []string{`rule "R": exceptions[e].comps[0]: unknown comparator "like"`}},
		{"exception tuple length", "rules:" + baseRule + `    exceptions:
      - name: e
        fields: [a, b]
        values: [[x, y], [z]]
`, []string{`rule "R": exceptions[e].values[1]: tuple has 1 items, want 2 (fields: a, b)`}},
		{"exception list without in", "rules:" + baseRule + `    exceptions:
      - name: e
        fields: [a]
        values: [[[x, y]]]
`, []string{`exceptions[e].values[0][0]: a list value needs the in comparator`}},
		{"exception bad glob", "rules:" + baseRule + `    exceptions:
      - name: e
        fields: [a]
        comps: [glob]
        values: ["[x"]
`, []string{`exceptions[e].values[0][0]: invalid glob pattern "[x"`}},
		{"exception no name", "rules:" + baseRule + `    exceptions:
      - fields: [a]
        values: [x]
`, []string{`exceptions[0].name: required`}},
		{"exception resource prefix only", "rules:" + baseRule + `    exceptions:
      - name: e
        fields: [resource.]
        values: [x]
`, []string{`exceptions[e].fields[0]: "resource." needs a resource attribute key`}},
		{"scope bad glob", "rules:" + baseRule + "    scope: {namespaces: {exclude: ['[']}}\n", []string{`rule "R": scope.namespaces.exclude: invalid glob pattern "["`}},
		{"hooks unknown list", "rules:" + baseRule + "    hooks: ['@nope']\n", []string{`rule "R": hooks[0]: unknown list @nope`}},
		{"syscalls unknown list", "rules:" + baseRule + "    syscalls: ['@nope']\n", []string{`rule "R": syscalls[0]: unknown list @nope`}},
		{"syscalls empty", "rules:" + baseRule + "    syscalls: [ptrace, '']\n", []string{`rule "R": syscalls[1]: empty syscall name`}},
		{"syscalls typo", "rules:" + baseRule + "    syscalls: [ptrace, finit_modul]\n", []string{
			`rule "R": syscalls[1]: "finit_modul" is not a Linux syscall name known to the x86_64, arm64 or i386 syscall tables; closest: finit_module`}},
		{"syscalls unknown", "rules:" + baseRule + "    syscalls: [frobnicate_everything]\n", []string{
			`syscalls[0]: "frobnicate_everything" is not a Linux syscall name known to the x86_64, arm64 or i386 syscall tables`}},
		{"syscalls upper case", "rules:" + baseRule + "    syscalls: [PTRACE]\n", []string{`syscalls[0]: "PTRACE" is not a Linux syscall name`, `names are lower case: ptrace`}},
		{"syscalls entry point alias", "rules:" + baseRule + "    syscalls: [umount]\n", []string{
			`syscalls[0]: "umount" is the kernel entry point of the syscall the tables call "umount2", and tetragon.syscall.name carries the table name: write umount2`}},
		{"syscalls kprobe hook", "rules:" + baseRule + "    syscalls: [__x64_sys_ptrace]\n", []string{
			`syscalls[0]: "__x64_sys_ptrace" is a hook, not a syscall name: write ptrace`}},
		{"syscalls tracepoint hook", "rules:" + baseRule + "    syscalls: [syscalls/sys_enter_finit_module]\n", []string{
			`syscalls[0]: "syscalls/sys_enter_finit_module" is a hook, not a syscall name: write finit_module`}},
		{"syscalls list item", "rules:" + baseRule + "    syscalls: ['@mods']\nlists:\n  mods: [init_module, insmod]\n", []string{
			`syscalls[0]: @mods item: "insmod" is not a Linux syscall name`}},
		{"suppress window", "rules:" + baseRule + "    suppress: {window: 0s, key: [a]}\n", []string{`rule "R": suppress.window: must be a positive duration`}},
		{"override unknown rule", "overrides:\n  - name: Nope\n    enabled: false\n", []string{`t.yaml:2: rule "Nope": overrides: no rule of that name to override`}},
		{"override bad severity", "rules:" + baseRule + "overrides:\n  - name: R\n    severity: urgent\n", []string{`rule "R": overrides.severity: unknown severity "urgent"`}},
		{"append new exception without fields", "rules:" + baseRule + "overrides:\n  - name: R\n    append_exceptions:\n      - name: new\n        values: [x]\n", []string{
			`rule "R": append_exceptions[new]: the rule has no exception of that name, so this adds a new one and needs fields`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := rulestest.Compile("t.yaml", tt.yaml)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error\n%s\ndoes not contain\n%s", err, w)
				}
			}
		})
	}
}

func TestErrorTypes(t *testing.T) {
	_, err := rulestest.Compile("t.yaml", "rules:"+strings.Replace(baseRule, "warning", "high", 1))
	var re *rules.Error
	if !errors.As(err, &re) || re.File != "t.yaml" || re.Rule != "R" || re.Field != "severity" || re.Line != 2 {
		t.Fatalf("got %#v", err)
	}
	_, err = rulestest.Compile("t.yaml", "rules:\n  - name: R\n")
	var many *rules.Errors
	if !errors.As(err, &many) || len(many.List) < 3 {
		t.Fatalf("got %#v", err)
	}
}

func TestRuleFieldsAndDerivedValues(t *testing.T) {
	rs, err := rulestest.Compile("my-rules.yaml", `
rules:
  - name: Shell
    description: "  A shell.  "
    category: execution
    severity: critical
    mitre: [T1059.004, T1609]
    event: [tetragon.process_exec]
    condition: attributes["process.executable.name"] == "bash"
  - name: Off
    description: d
    category: c
    severity: info
    event: tetragon.process_exit
    enabled: false
    condition: "true"
`)
	if err != nil {
		t.Fatal(err)
	}
	r := rs.Rule("Shell")
	if r.Description != "A shell." || r.Severity != rules.SeverityCritical || r.Ruleset != "my-rules.yaml" ||
		r.Reference != "https://attack.mitre.org/techniques/T1059/004/" || r.Order != 0 || r.Line != 3 {
		t.Fatalf("rule: %+v", r)
	}
	if r.UUID != rules.RuleUUID("Shell") || r.UUID == rules.RuleUUID("Shell2") || len(r.UUID) != 36 || r.UUID[14] != '5' {
		t.Fatalf("uuid %q not a stable v5", r.UUID)
	}
	if r.Techniques().Len() != 2 || r.Techniques().At(1).Str() != "T1609" {
		t.Fatal("techniques")
	}
	if rs.EnabledCount() != 1 || rs.HasRulesFor("tetragon.process_exit") || !rs.HasRulesFor("tetragon.process_exec") {
		t.Fatal("enabled/index")
	}
	if got := rules.TechniqueURL("T1611"); got != "https://attack.mitre.org/techniques/T1611/" {
		t.Fatal(got)
	}
}

func TestExpandLists(t *testing.T) {
	lists := map[string][]string{"shells": {"sh", `we"ird`}, "empty": {}}
	got, err := rules.ExpandLists(`InList(x, @shells) and y == "a@shells" and InList(z, @empty)`, lists)
	if err != nil {
		t.Fatal(err)
	}
	want := `InList(x, ["sh", "we\"ird"]) and y == "a@shells" and InList(z, [])`
	if got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
	if _, err := rules.ExpandLists(`x == @`, lists); err == nil || !strings.Contains(err.Error(), "not followed by a list name") {
		t.Fatal(err)
	}
	if _, err := rules.ExpandLists(`InList(x, @nope)`, lists); err == nil || !strings.Contains(err.Error(), "unknown list @nope (defined lists: @empty, @shells)") {
		t.Fatal(err)
	}
}

func TestLoadFilesAndDisabled(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "user.yaml")
	if err := os.WriteFile(f, []byte("rules:"+baseRule), 0o600); err != nil {
		t.Fatal(err)
	}
	rs, err := rules.Load(rules.Options{Files: []string{f}})
	if err != nil {
		t.Fatal(err)
	}
	if rs.Rule("R").Ruleset != "user.yaml" || rs.Rule("R").File != f {
		t.Fatal("ruleset name")
	}
	rs, err = rules.Load(rules.Options{Files: []string{f}, Disabled: []string{"R"}})
	if err != nil || rs.Rule("R").Enabled || rs.HasRulesFor("tetragon.process_exec") {
		t.Fatalf("disable: %v", err)
	}
	_, err = rules.Load(rules.Options{Files: []string{f}, Disabled: []string{"Typo"}})
	if err == nil || !strings.Contains(err.Error(), `disabled_rules: rule "Typo": no such rule or chain; known rules: R`) {
		t.Fatal(err)
	}
	_, err = rules.Load(rules.Options{Files: []string{filepath.Join(dir, "missing.yaml")}})
	if err == nil || !strings.Contains(err.Error(), "missing.yaml") || !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
}

func TestBuiltinCatalogueCompiles(t *testing.T) {
	srcs, err := rules.BuiltinSources()
	if err != nil || len(srcs) == 0 {
		t.Fatalf("builtin sources: %d, %v", len(srcs), err)
	}
	for _, s := range srcs {
		if s.Ruleset != rules.BuiltinRuleset || !strings.HasPrefix(s.Path, "builtin/") {
			t.Fatalf("source %+v", s)
		}
	}
	rs, err := rulestest.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rs.Rules() {
		if r.Ruleset != rules.BuiltinRuleset {
			t.Fatalf("%s: ruleset %q", r.Name, r.Ruleset)
		}
	}
}
