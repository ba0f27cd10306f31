// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package rules_test

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cilium/tetragon/api/v1/tetragon"
	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/ottl/contexts/ottllog"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/eventmap"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/tetragonjson"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/processor/detectionprocessor/internal/rules"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/processor/detectionprocessor/internal/rules/rulestest"
)

func mustCompile(t *testing.T, yamlText string) *rules.Ruleset {
	t.Helper()
	rs, err := rulestest.Compile("t.yaml", yamlText)
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

func matches(t *testing.T, rs *rules.Ruleset, ev rulestest.Event) []string {
	t.Helper()
	got, err := rulestest.Matches(rs, ev)
	if err != nil {
		t.Fatalf("evaluation error: %v", err)
	}
	return got
}

func exec(ns, workload, exe, parent string) rulestest.Event {
	res := map[string]any{"container.id": "c1"}
	if ns != "" {
		res["k8s.namespace.name"] = ns
	}
	if workload != "" {
		res["k8s.workload.name"] = workload
	}
	return rulestest.Event{
		Name:     "tetragon.process_exec",
		Resource: res,
		Attributes: map[string]any{
			"process.executable.path":        exe,
			"process.executable.name":        exe[len(exe)-len(baseName(exe)):],
			"process.parent.executable.name": parent,
			"tetragon.ancestors.binaries":    []any{"/usr/bin/containerd-shim", "/sbin/init"},
			"process.pid":                    int64(4242),
		},
	}
}

func baseName(p string) string {
	for i := len(p) - 1; i >= 0; i-- {
		if p[i] == '/' {
			return p[i+1:]
		}
	}
	return p
}

const shellRule = `
lists:
  shells: [sh, bash]
rules:
  - name: Shell
    description: d
    category: execution
    severity: warning
    event: tetragon.process_exec
    condition: InList(attributes["process.executable.name"], @shells)
`

func TestEventIndexAndCondition(t *testing.T) {
	rs := mustCompile(t, shellRule)
	if got := matches(t, rs, exec("default", "web", "/bin/bash", "nginx")); !slices.Equal(got, []string{"Shell"}) {
		t.Fatalf("got %v", got)
	}
	if got := matches(t, rs, exec("default", "web", "/bin/cat", "nginx")); len(got) != 0 {
		t.Fatalf("got %v", got)
	}
	ev := exec("default", "web", "/bin/bash", "nginx")
	ev.Name = "tetragon.process_exit" // same attributes, other event type
	if got := matches(t, rs, ev); len(got) != 0 {
		t.Fatalf("rule for exec ran on exit: %v", got)
	}
}

func TestExceptionComparators(t *testing.T) {
	tests := []struct {
		name, fields, comps, values string
		excepted                    bool
	}{
		{"eq", "[process.parent.executable.name]", "[=]", "[nginx]", true},
		{"eq miss", "[process.parent.executable.name]", "[=]", "[apache]", false},
		{"default comp is eq", "[process.parent.executable.name]", "[]", "[nginx, apache]", true},
		{"ne", "[process.parent.executable.name]", "['!=']", "[apache]", true},
		{"ne miss", "[process.parent.executable.name]", "['!=']", "[nginx]", false},
		{"ne on missing attribute", "[nope]", "['!=']", "[x]", true},
		{"eq on missing attribute", "[nope]", "[=]", "[x]", false},
		{"in", "[process.parent.executable.name]", "[in]", "[[[apache, nginx]]]", true},
		{"in scalar", "[process.parent.executable.name]", "[in]", "[nginx]", true},
		{"in miss", "[process.parent.executable.name]", "[in]", "[[[apache]]]", false},
		{"startswith", "[process.executable.path]", "[startswith]", "[/bin/]", true},
		{"startswith miss", "[process.executable.path]", "[startswith]", "[/usr/]", false},
		{"endswith", "[process.executable.path]", "[endswith]", "[/bash]", true},
		{"endswith miss", "[process.executable.path]", "[endswith]", "[/sh]", false},
		{"contains", "[process.executable.path]", "[contains]", "[in/ba]", true},
		{"contains miss", "[process.executable.path]", "[contains]", "[usr]", false},
		{"glob", "[process.executable.path]", "[glob]", "['/bin/*']", true},
		{"glob miss", "[process.executable.path]", "[glob]", "['/usr/**']", false},
		{"resource field", "[resource.k8s.namespace.name]", "[glob]", "['kube-*']", true},
		{"resource field miss", "[resource.k8s.namespace.name]", "[=]", "[default]", false},
		{"int attribute as string", "[process.pid]", "[=]", "['4242']", true},
		{"list attribute any element", "[tetragon.ancestors.binaries]", "[endswith]", "[containerd-shim]", true},
		{"list attribute ne", "[tetragon.ancestors.binaries]", "['!=']", "[/sbin/init]", false},
		{"tuple all fields", "[process.parent.executable.name, resource.k8s.namespace.name]", "[=, =]", "[[nginx, kube-system]]", true},
		{"tuple one field fails", "[process.parent.executable.name, resource.k8s.namespace.name]", "[=, =]", "[[nginx, default]]", false},
		{"second tuple", "[process.parent.executable.name, resource.k8s.namespace.name]", "[=, =]", "[[nginx, default], [nginx, kube-system]]", true},
		{"no values", "[process.parent.executable.name]", "[=]", "[]", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			comps := ""
			if tt.comps != "[]" {
				comps = "        comps: " + tt.comps + "\n"
			}
			rs := mustCompile(t, shellRule+`    exceptions:
      - name: e
        fields: `+tt.fields+"\n"+comps+`        values: `+tt.values+"\n")
			got := matches(t, rs, exec("kube-system", "coredns", "/bin/bash", "nginx"))
			if excepted := len(got) == 0; excepted != tt.excepted {
				t.Fatalf("excepted = %v, want %v", excepted, tt.excepted)
			}
		})
	}
}

func TestScope(t *testing.T) {
	tests := []struct {
		scope   string
		ns, wl  string
		inScope bool
	}{
		{"{namespaces: {include: [prod-*]}}", "prod-eu", "web", true},
		{"{namespaces: {include: [prod-*]}}", "dev", "web", false},
		{"{namespaces: {include: [prod-*]}}", "", "", false}, // host event
		{"{namespaces: {exclude: [kube-system]}}", "kube-system", "x", false},
		{"{namespaces: {exclude: [kube-system]}}", "default", "x", true},
		{"{namespaces: {exclude: [kube-system]}}", "", "", true},
		{"{namespaces: {include: ['*'], exclude: [kube-*]}}", "kube-public", "x", false},
		{"{workloads: {include: [web, 'api-*']}}", "default", "api-v2", true},
		{"{workloads: {include: [web, 'api-*']}}", "default", "db", false},
		{"{workloads: {exclude: ['debug-*']}, namespaces: {include: [default]}}", "default", "debug-pod", false},
		{"{workloads: {exclude: ['debug-*']}, namespaces: {include: [default]}}", "default", "web", true},
	}
	for _, tt := range tests {
		rs := mustCompile(t, shellRule+"    scope: "+tt.scope+"\n")
		got := matches(t, rs, exec(tt.ns, tt.wl, "/bin/sh", "x"))
		if (len(got) == 1) != tt.inScope {
			t.Errorf("scope %s ns=%q wl=%q: matched %v, want in scope %v", tt.scope, tt.ns, tt.wl, got, tt.inScope)
		}
	}
}

func TestHooksPrefilter(t *testing.T) {
	rs := mustCompile(t, `
rules:
  - name: Sensitive read
    description: d
    category: credential_access
    severity: critical
    event: [tetragon.process_kprobe, tetragon.process_tracepoint]
    hooks: ["@perm_hooks", syscalls/sys_enter_openat]
    condition: GlobMatchAny(ArgStrings(), ["/etc/shadow"])
lists:
  perm_hooks: [security_file_permission, security_file_open]
`)
	if got := rs.Rule("Sensitive read").Hooks; !slices.Equal(got, []string{"security_file_permission", "security_file_open", "syscalls/sys_enter_openat"}) {
		t.Fatalf("hooks %v", got)
	}
	ev := func(name, hook, path string) rulestest.Event {
		return rulestest.Event{Name: name, Attributes: map[string]any{
			"tetragon.hook": hook,
			"tetragon.args": []any{map[string]any{"int_arg": int64(-100)}, map[string]any{"string_arg": path}},
		}}
	}
	if got := matches(t, rs, ev("tetragon.process_tracepoint", "syscalls/sys_enter_openat", "/etc/shadow")); len(got) != 1 {
		t.Fatal("tracepoint not matched")
	}
	if got := matches(t, rs, ev("tetragon.process_kprobe", "security_file_permission", "/etc/shadow")); len(got) != 1 {
		t.Fatal("kprobe not matched")
	}
	if got := matches(t, rs, ev("tetragon.process_kprobe", "__x64_sys_write", "/etc/shadow")); len(got) != 0 {
		t.Fatal("other hook matched")
	}
	if got := matches(t, rs, rulestest.Event{Name: "tetragon.process_kprobe"}); len(got) != 0 {
		t.Fatal("record without hook matched")
	}
}

func TestRuntimeErrorIsReportedAndDoesNotMatch(t *testing.T) {
	rs := mustCompile(t, `
rules:
  - name: Bad
    description: d
    category: c
    severity: info
    event: tetragon.process_exec
    condition: HasPrefix(attributes["nope"], "x")
  - name: Good
    description: d
    category: c
    severity: info
    event: tetragon.process_exec
    condition: "true"
`)
	got, err := rulestest.Matches(rs, exec("d", "w", "/bin/sh", "x"))
	if err == nil || !slices.Equal(got, []string{"Good"}) {
		t.Fatalf("got %v, %v", got, err)
	}
}

func TestOverridesAcrossFiles(t *testing.T) {
	builtin := rules.Source{Ruleset: "builtin", Path: "builtin/a.yaml", Data: []byte(shellRule + `    exceptions:
      - name: parents
        fields: [process.parent.executable.name]
        values: [runc]
  - name: Other
    description: d
    category: c
    severity: info
    event: tetragon.process_exec
    condition: "true"
`)}
	user := func(s string) rules.Source {
		return rules.Source{Ruleset: "user.yaml", Path: "/etc/user.yaml", Data: []byte(s)}
	}

	// append to an existing exception, add a new one, raise severity, set scope.
	rs, err := rules.Compile([]rules.Source{builtin, user(`
overrides:
  - name: Shell
    severity: critical
    append_exceptions:
      - name: parents
        values: [nginx]
      - name: tools
        fields: [process.executable.path]
        comps: [glob]
        values: ["/opt/**"]
    scope: {namespaces: {exclude: [ignored]}}
  - name: Other
    enabled: false
`)}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	sh := rs.Rule("Shell")
	if sh.Severity != rules.SeverityCritical || sh.Ruleset != "builtin" || rs.Rule("Other").Enabled {
		t.Fatalf("override fields: %+v", sh)
	}
	for _, tc := range []struct {
		ev   rulestest.Event
		want bool
	}{
		{exec("d", "w", "/bin/sh", "runc"), false},    // original tuple
		{exec("d", "w", "/bin/sh", "nginx"), false},   // appended tuple
		{exec("d", "w", "/opt/sh", "x"), false},       // new exception
		{exec("ignored", "w", "/bin/sh", "x"), false}, // new scope
		{exec("d", "w", "/bin/sh", "x"), true},
	} {
		got := matches(t, rs, tc.ev)
		if slices.Contains(got, "Shell") != tc.want || slices.Contains(got, "Other") {
			t.Errorf("%v: got %v", tc.ev.Attributes["process.executable.path"], got)
		}
	}

	// A user rule of the same name replaces the built-in one in place.
	rs, err = rules.Compile([]rules.Source{builtin, user(`
lists:
  shells: [zsh]
rules:
  - name: Shell
    description: replaced
    category: execution
    severity: info
    event: tetragon.process_exec
    condition: InList(attributes["process.executable.name"], @shells)
`)}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	sh = rs.Rule("Shell")
	if sh.Description != "replaced" || sh.Ruleset != "user.yaml" || sh.Order != 0 || len(rs.Rules()) != 2 {
		t.Fatalf("replace: %+v", sh)
	}
	if got := matches(t, rs, exec("d", "w", "/bin/zsh", "runc")); !slices.Contains(got, "Shell") {
		t.Fatal("user list redefinition not used")
	}

	// Appended tuples must fit the existing exception.
	_, err = rules.Compile([]rules.Source{builtin, user(`
overrides:
  - name: Shell
    append_exceptions:
      - name: parents
        values: [[a, b]]
`)}, nil, nil)
	if err == nil || err.Error() != `/etc/user.yaml:5: rule "Shell": append_exceptions[parents].values[0]: tuple has 2 items, want 1 (fields: process.parent.executable.name)` {
		t.Fatal(err)
	}
}

func TestOverrideDoesNotAliasBaseSpec(t *testing.T) {
	// Compiling twice from the same sources gives the same result: overrides
	// must not mutate shared slices.
	src := []rules.Source{{Ruleset: "b", Path: "b", Data: []byte(shellRule + `    exceptions:
      - name: parents
        fields: [process.parent.executable.name]
        values: [runc]
overrides:
  - name: Shell
    append_exceptions:
      - name: parents
        values: [nginx]
`)}}
	for i := 0; i < 2; i++ {
		rs, err := rules.Compile(src, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := matches(t, rs, exec("d", "w", "/bin/sh", "nginx")); len(got) != 0 {
			t.Fatalf("run %d: %v", i, got)
		}
	}
}

// The `!=` atoms with a literal make prefilters that reject records whose attribute holds
// exactly that literal; every other value (absent, another type, a double that may compare
// equal numerically) passes to OTTL. Each verdict is checked against OTTL itself.
func TestPrefilterNotEqualAtoms(t *testing.T) {
	rs := mustCompile(t, `
rules:
  - name: Not root
    description: d
    category: privilege_escalation
    severity: warning
    event: [tetragon.process_exec]
    condition: attributes["process.real_user.id"] != 0 and attributes["process.executable.name"] != "sudo"
`)
	r := rs.Rule("Not root")
	if got, want := r.Prefilter(), `attributes["process.real_user.id"] != 0 and attributes["process.executable.name"] != "sudo"`; got != want {
		t.Fatalf("prefilter %q, want %q", got, want)
	}
	for _, tc := range []struct {
		name   string
		attrs  map[string]any
		admits bool
	}{
		{"root", map[string]any{"process.real_user.id": int64(0), "process.executable.name": "sh"}, false},
		{"sudo", map[string]any{"process.real_user.id": int64(1000), "process.executable.name": "sudo"}, false},
		{"user", map[string]any{"process.real_user.id": int64(1000), "process.executable.name": "sh"}, true},
		{"no uid", map[string]any{"process.executable.name": "sh"}, true},
		{"uid as a double", map[string]any{"process.real_user.id": 0.0, "process.executable.name": "sh"}, true},
		{"uid as a string", map[string]any{"process.real_user.id": "0", "process.executable.name": "sh"}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			admits, matched := prefilterAndCondition(t, r, tc.attrs)
			if admits != tc.admits {
				t.Fatalf("prefilter admits %v, want %v", admits, tc.admits)
			}
			if matched && !tc.admits {
				t.Fatal("the prefilter rejected a record the condition matches")
			}
		})
	}
}

const syscallRule = `
rules:
  - name: Module load
    description: d
    category: persistence
    severity: warning
    event: [tetragon.process_kprobe, tetragon.process_tracepoint]
    syscalls: ["@module_syscalls"]
    hooks: [do_init_module]
    condition: attributes["process.executable.name"] != "modprobe"
lists:
  module_syscalls: [init_module, finit_module]
`

func TestSyscallsField(t *testing.T) {
	rs := mustCompile(t, syscallRule)
	r := rs.Rule("Module load")
	if !slices.Equal(r.Syscalls, []string{"init_module", "finit_module"}) || !slices.Equal(r.Hooks, []string{"do_init_module"}) {
		t.Fatalf("syscalls %v, hooks %v", r.Syscalls, r.Hooks)
	}
	ev := func(name, hook, syscall, exe string) rulestest.Event {
		attrs := map[string]any{"tetragon.hook": hook, "process.executable.name": exe}
		if syscall != "" {
			attrs["tetragon.syscall.name"] = syscall
		}
		return rulestest.Event{Name: name, Attributes: attrs}
	}
	for _, c := range []struct {
		ev   rulestest.Event
		want int
	}{
		{ev("tetragon.process_kprobe", "__x64_sys_finit_module", "finit_module", "insmod"), 1},
		{ev("tetragon.process_tracepoint", "syscalls/sys_enter_init_module", "init_module", "insmod"), 1},
		{ev("tetragon.process_tracepoint", "raw_syscalls/sys_enter", "finit_module", "insmod"), 1},
		{ev("tetragon.process_kprobe", "do_init_module", "", "insmod"), 1},                                                     // hooks admit it
		{ev("tetragon.process_kprobe", "do_init_module", "", "modprobe"), 0},                                                   // the condition still runs
		{ev("tetragon.process_tracepoint", "raw_syscalls/sys_enter", "setns", "insmod"), 0},                                    // other syscall
		{ev("tetragon.process_tracepoint", "raw_syscalls/sys_enter", "", "insmod"), 0},                                         // unknown id: no name
		{ev("tetragon.process_kprobe", "security_kernel_read_file", "", "insmod"), 0},                                          // neither
		{ev("tetragon.process_exec", "", "finit_module", "insmod"), 0},                                                         // event type first
		{rulestest.Event{Name: "tetragon.process_kprobe", Attributes: map[string]any{"tetragon.syscall.name": int64(313)}}, 0}, // not a string
	} {
		if got := matches(t, rs, c.ev); len(got) != c.want {
			t.Errorf("%v: matched %v, want %d", c.ev.Attributes, got, c.want)
		}
	}

	// syscalls alone: a record without a syscall name never passes.
	only := mustCompile(t, `
rules:
  - name: Ptrace
    description: d
    category: c
    severity: info
    event: [tetragon.process_kprobe, tetragon.process_tracepoint]
    syscalls: [ptrace]
    condition: "true"
`)
	if got := matches(t, only, ev("tetragon.process_kprobe", "__x64_sys_ptrace", "ptrace", "gdb")); len(got) != 1 {
		t.Error("ptrace not matched")
	}
	if got := matches(t, only, ev("tetragon.process_kprobe", "__x64_sys_ptrace", "", "gdb")); len(got) != 0 {
		t.Error("a record without tetragon.syscall.name matched")
	}
}

// TestSyscallsFieldThreeShapes maps finit_module in its three shapes with the
// receiver's mapper and evaluates the rule on the records: the kprobe, the
// syscalls tracepoint and raw_syscalls id 313 (x64) / 273 (arm64) all match,
// raw_syscalls setns (308) does not.
func TestSyscallsFieldThreeShapes(t *testing.T) {
	rs := mustCompile(t, syscallRule)
	const proc = `"process":{"exec_id":"ZQ==","pid":7,"binary":"/sbin/insmod"}`
	raw := func(id int, abi string) string {
		return `{"process_tracepoint":{` + proc + `,"subsys":"raw_syscalls","event":"sys_enter","args":[{"syscall_id":{"id":` +
			strconv.Itoa(id) + `,"abi":"` + abi + `"}},{"size_arg":"3"}]}}`
	}
	for _, c := range []struct {
		line string
		want int
	}{
		{`{"process_kprobe":{` + proc + `,"function_name":"__x64_sys_finit_module","args":[{"int_arg":3}]}}`, 1},
		{`{"process_kprobe":{` + proc + `,"function_name":"__arm64_sys_init_module","args":[{"size_arg":"0"}]}}`, 1},
		{`{"process_tracepoint":{` + proc + `,"subsys":"syscalls","event":"sys_enter_finit_module","args":[{"int_arg":3}]}}`, 1},
		{raw(313, "x64"), 1},
		{raw(175, "x64"), 1},
		{raw(273, "arm64"), 1},
		{raw(105, "arm64"), 1},
		{raw(308, "x64"), 0},
		{`{"process_kprobe":{` + proc + `,"function_name":"__x64_sys_setns","args":[{"int_arg":3}]}}`, 0},
	} {
		var ev tetragon.GetEventsResponse
		if err := tetragonjson.DecodeJSON([]byte(c.line), &ev); err != nil {
			t.Fatal(err)
		}
		b := eventmap.NewBatch(eventmap.Options{Body: eventmap.BodyNone})
		if err := b.Add(&ev, nil, time.Now()); err != nil {
			t.Fatal(err)
		}
		rl := b.Flush().ResourceLogs().At(0)
		sl := rl.ScopeLogs().At(0)
		got := rs.EvaluateRecord(context.Background(), rl, sl, sl.LogRecords().At(0), nil, func(r *rules.Rule, err error) {
			t.Errorf("%s: %v", r.Name, err)
		})
		if len(got) != c.want {
			t.Errorf("%s: %d matches, want %d", c.line, len(got), c.want)
		}
	}
}

// CommandName() atoms make prefilters on the executable's name: the command
// or a multi-call binary (busybox), whose applet CommandName() reads.
func TestPrefilterCommandNameAtoms(t *testing.T) {
	rs := mustCompile(t, `
rules:
  - name: Fetch
    description: d
    category: command_and_control
    severity: warning
    event: [tetragon.process_exec]
    condition: InList(CommandName(), ["wget", "curl"]) or CommandName() == "tftp"
`)
	r := rs.Rule("Fetch")
	if got := r.Prefilter(); !strings.Contains(got, "CommandName") {
		t.Fatalf("prefilter %q does not come from the CommandName atoms", got)
	}
	for _, tc := range []struct {
		name    string
		attrs   map[string]any
		admits  bool
		matches bool
	}{
		{"wget", map[string]any{"process.executable.name": "wget", "process.executable.path": "/usr/bin/wget"}, true, true},
		{"tftp", map[string]any{"process.executable.name": "tftp", "process.executable.path": "/usr/bin/tftp"}, true, true},
		{"busybox wget", map[string]any{"process.executable.name": "busybox", "process.executable.path": "/bin/busybox", "tetragon.process.arguments": "wget http://x/"}, true, true},
		{"busybox ls", map[string]any{"process.executable.name": "busybox", "process.executable.path": "/bin/busybox", "tetragon.process.arguments": "ls"}, true, false},
		{"ls", map[string]any{"process.executable.name": "ls", "process.executable.path": "/bin/ls"}, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			admits, matched := prefilterAndCondition(t, r, tc.attrs)
			if admits != tc.admits || matched != tc.matches {
				t.Fatalf("prefilter admits %v, condition matches %v; want %v, %v", admits, matched, tc.admits, tc.matches)
			}
		})
	}
}

// prefilterAndCondition reports, for an exec record with attrs, whether r's
// prefilter admits it and whether r's OTTL condition alone matches it.
func prefilterAndCondition(t *testing.T, r *rules.Rule, attrs map[string]any) (admits, matched bool) {
	t.Helper()
	ld := rulestest.Event{Name: "tetragon.process_exec", Attributes: attrs}.Logs()
	rl := ld.ResourceLogs().At(0)
	sl := rl.ScopeLogs().At(0)
	tctx := ottllog.NewTransformContext(rl, sl, sl.LogRecords().At(0))
	defer tctx.Close()
	matched, err := r.ConditionMatches(context.Background(), tctx)
	if err != nil {
		t.Fatal(err)
	}
	return r.PrefilterAdmits(tctx), matched
}
