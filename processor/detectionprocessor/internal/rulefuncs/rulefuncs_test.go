// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package rulefuncs

import (
	"context"
	"strings"
	"testing"

	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/ottl/contexts/ottllog"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.uber.org/zap"
)

func record(t *testing.T, attrs map[string]any) (plog.ResourceLogs, plog.ScopeLogs, plog.LogRecord) {
	t.Helper()
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	sl := rl.ScopeLogs().AppendEmpty()
	lr := sl.LogRecords().AppendEmpty()
	if err := lr.Attributes().FromRaw(attrs); err != nil {
		t.Fatal(err)
	}
	return rl, sl, lr
}

func eval(t *testing.T, cond string, attrs map[string]any) bool {
	t.Helper()
	p, err := ottllog.NewParser(Functions(), component.TelemetrySettings{Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	c, err := p.ParseCondition(cond)
	if err != nil {
		t.Fatalf("parse %q: %v", cond, err)
	}
	rl, sl, lr := record(t, attrs)
	tc := ottllog.NewTransformContext(rl, sl, lr)
	defer tc.Close()
	ok, err := c.Eval(context.Background(), tc)
	if err != nil {
		t.Fatalf("eval %q: %v", cond, err)
	}
	return ok
}

var kprobeArgs = map[string]any{
	"exe":     "/usr/bin/cat",
	"anc":     []any{"/usr/bin/bash", "/usr/sbin/sshd"},
	"num":     int64(42),
	"notlist": map[string]any{"a": "b"},
	"tetragon.args": []any{
		map[string]any{"file_arg": map[string]any{"path": "/etc/passwd", "permission": "-rw-r--r--"}},
		map[string]any{"int_arg": int64(4)},
		map[string]any{"string_arg": "/etc/shadow", "label": "filename"},
		map[string]any{"size_arg": "627"},
		map[string]any{"sockaddr_arg": map[string]any{"family": "AF_INET", "addr": "10.0.0.1", "port": int64(4444)}},
		map[string]any{"syscall_id": map[string]any{"id": int64(313), "abi": "x64"}},
		map[string]any{"linux_binprm_arg": map[string]any{"path": "/tmp/x"}},
		"not-a-map",
	},
}

func TestFunctions(t *testing.T) {
	tests := []struct {
		cond string
		want bool
	}{
		{`GlobMatch(attributes["exe"], "/usr/bin/*")`, true},
		{`GlobMatch(attributes["exe"], "/usr/*")`, false},
		{`GlobMatch(attributes["exe"], "/usr/**")`, true},
		{`GlobMatch(attributes["exe"], "**/cat")`, true},
		{`GlobMatch(attributes["missing"], "**")`, false},
		{`GlobMatch(attributes["num"], "*")`, false},
		{`GlobMatch(attributes["anc"], "**/sshd")`, true},
		{`GlobMatchAny(attributes["exe"], ["/bin/*", "/usr/bin/c?t"])`, true},
		{`GlobMatchAny(attributes["exe"], ["/usr/bin/cat"])`, true},
		{`GlobMatchAny(attributes["exe"], ["/usr/bin/ca"])`, false},
		{`GlobMatchAny(attributes["exe"], [])`, false},
		{`GlobMatchAny(attributes["anc"], ["/usr/sbin/sshd"])`, true},
		{`GlobMatchAny(attributes["notlist"], ["**"])`, false},
		{`HasAnyPrefix(attributes["exe"], ["/tmp/", "/usr/"])`, true},
		{`HasAnyPrefix(attributes["missing"], ["/"])`, false},
		{`HasAnySuffix(attributes["exe"], ["/cat", "/dog"])`, true},
		{`HasAnySuffix(attributes["exe"], ["/dog"])`, false},
		{`ContainsAny(attributes["exe"], ["bin/c"])`, true},
		{`ContainsAny(attributes["anc"], ["sshd"])`, true},
		{`InList(attributes["exe"], ["/usr/bin/cat", "x"])`, true},
		{`InList(attributes["exe"], ["cat"])`, false},
		{`InList(attributes["anc"], ["/usr/bin/bash"])`, true},
		{`InList(Basename(attributes["exe"]), ["cat"])`, true},
		{`Basename(attributes["exe"]) == "cat"`, true},
		{`Basename("noslash") == "noslash"`, true},
		{`Basename(attributes["missing"]) == nil`, true},
		{`Dirname(attributes["exe"]) == "/usr/bin"`, true},
		{`Dirname(attributes["num"]) == nil`, true},
		{`ArgString(0) == "/etc/passwd"`, true},
		{`ArgString(2) == "/etc/shadow"`, true},
		{`ArgString(6) == "/tmp/x"`, true},
		{`ArgString(1) == nil`, true},
		{`ArgString(99) == nil`, true},
		{`ArgString(7) == nil`, true},
		{`ArgInt(1) == 4`, true},
		{`ArgInt(3) == 627`, true},
		{`ArgInt(5) == 313`, true},
		{`ArgInt(0) == nil`, true},
		{`ArgInt(99) == nil`, true},
		{`ArgType(0) == "file_arg"`, true},
		{`ArgType(2) == "string_arg"`, true},
		{`ArgType(42) == nil`, true},
		{`ArgField(4, "port") == 4444`, true},
		{`ArgField(4, "addr") == "10.0.0.1"`, true},
		{`ArgField(4, "nope") == nil`, true},
		{`ArgField(1, "x") == nil`, true},
		{`GlobMatchAny(ArgStrings(), ["/etc/shadow"])`, true},
		{`InList(ArgStrings(), ["/tmp/x"])`, true},
		{`InList(ArgStrings(), ["10.0.0.1"])`, false},
		{`HasAnyBit(ArgInt(1), 6)`, true},
		{`HasAnyBit(ArgInt(1), 3)`, false},
		{`HasAllBits(ArgInt(1), 4)`, true},
		{`HasAllBits(ArgInt(1), 5)`, false},
		{`HasAnyBit(ArgInt(3), 1)`, true}, // 627 given as a string
		{`HasAnyBit(attributes["num"], 2)`, true},
		{`HasAnyBit(attributes["missing"], 1)`, false},
		{`HasAnyBit(attributes["exe"], 1)`, false},
		{`HasAnyBit(ArgInt(99), 1)`, false},
		// The raw OTTL path into tetragon.args works for in-range indexes.
		{`attributes["tetragon.args"][2]["string_arg"] == "/etc/shadow"`, true},
		{`attributes["tetragon.args"][0]["file_arg"]["path"] == "/etc/passwd"`, true},
		{`attributes["tetragon.args"][1]["string_arg"] == nil`, true},
	}
	for _, tt := range tests {
		if got := eval(t, tt.cond, kprobeArgs); got != tt.want {
			t.Errorf("%s = %v, want %v", tt.cond, got, tt.want)
		}
	}
}

func TestArgHelpersWithoutArgs(t *testing.T) {
	for _, cond := range []string{`ArgString(0) == nil`, `ArgInt(0) == nil`, `ArgType(0) == nil`, `ArgField(0, "path") == nil`, `not GlobMatchAny(ArgStrings(), ["**"])`} {
		if !eval(t, cond, map[string]any{"tetragon.args": "not a slice"}) {
			t.Errorf("%s false with a non-slice tetragon.args", cond)
		}
		if !eval(t, cond, map[string]any{}) {
			t.Errorf("%s false without tetragon.args", cond)
		}
	}
}

func TestRawIndexPastEndIsAnError(t *testing.T) {
	// Documented: prefer ArgString, because OTTL errors on an index past the end.
	p, _ := ottllog.NewParser(Functions(), component.TelemetrySettings{Logger: zap.NewNop()})
	c, err := p.ParseCondition(`attributes["tetragon.args"][9]["string_arg"] == "x"`)
	if err != nil {
		t.Fatal(err)
	}
	rl, sl, lr := record(t, kprobeArgs)
	tc := ottllog.NewTransformContext(rl, sl, lr)
	defer tc.Close()
	if _, err := c.Eval(context.Background(), tc); err == nil || !strings.Contains(err.Error(), "out of bounds") {
		t.Fatalf("want out of bounds error, got %v", err)
	}
}

func TestParseTimeValidation(t *testing.T) {
	p, _ := ottllog.NewParser(Functions(), component.TelemetrySettings{Logger: zap.NewNop()})
	for cond, want := range map[string]string{
		`GlobMatch(attributes["x"], "[")`:             `invalid glob pattern "["`,
		`GlobMatchAny(attributes["x"], ["ok", "["])`:  `invalid glob pattern "["`,
		`ArgString(-1) == nil`:                        "must be an int",
		`GlobMatch(attributes["x"], attributes["y"])`: "",
	} {
		_, err := p.ParseCondition(cond)
		if err == nil {
			t.Errorf("%s: no error", cond)
			continue
		}
		if want != "" && !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %q does not contain %q", cond, err, want)
		}
	}
}

func BenchmarkGlobMatchAny(b *testing.B) {
	p, _ := ottllog.NewParser(Functions(), component.TelemetrySettings{Logger: zap.NewNop()})
	c, err := p.ParseCondition(`GlobMatchAny(ArgString(0), ["/etc/shadow", "/etc/sudoers", "/etc/sudoers.d/**", "/root/.ssh/**", "**/.kube/config"])`)
	if err != nil {
		b.Fatal(err)
	}
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	sl := rl.ScopeLogs().AppendEmpty()
	lr := sl.LogRecords().AppendEmpty()
	_ = lr.Attributes().FromRaw(kprobeArgs)
	tc := ottllog.NewTransformContext(rl, sl, lr)
	defer tc.Close()
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := c.Eval(context.Background(), tc); err != nil {
			b.Fatal(err)
		}
	}
}
