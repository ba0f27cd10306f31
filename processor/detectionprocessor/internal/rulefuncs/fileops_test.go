// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package rulefuncs

import (
	"context"
	"testing"

	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/ottl"
	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/ottl/contexts/ottllog"
	"go.opentelemetry.io/collector/component"
	"go.uber.org/zap"
)

// value calls the argument-less function name on a record with attrs.
func value(t *testing.T, name string, attrs map[string]any) any {
	t.Helper()
	f, ok := Functions()[name]
	if !ok {
		t.Fatalf("no function %s", name)
	}
	fn, err := f.CreateFunction(ottl.FunctionContext{Set: component.TelemetrySettings{Logger: zap.NewNop()}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	rl, sl, lr := record(t, attrs)
	tc := ottllog.NewTransformContext(rl, sl, lr)
	defer tc.Close()
	v, err := fn(context.Background(), tc)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func sc(name string, args ...map[string]any) map[string]any {
	a := make([]any, len(args))
	for i, x := range args {
		a[i] = x
	}
	return map[string]any{"tetragon.syscall.name": name, "tetragon.hook": "syscalls/sys_enter_" + name, "tetragon.args": a}
}

func i64(k string, n int64) map[string]any { return map[string]any{k: n} }
func str(s string) map[string]any          { return map[string]any{"string_arg": s} }

// The shapes are those of shared/tetragon-events/syscalls.
func TestFileOps(t *testing.T) {
	const cwd = -100
	tests := []struct {
		name                       string
		attrs                      map[string]any
		op, mode, target, new, cmd any
	}{
		{name: "openat read", attrs: sc("openat", i64("int_arg", cwd), str("/etc/shadow"), i64("int_arg", 0), i64("uint_arg", 0)), op: OpRead, mode: int64(0)},
		{name: "openat O_WRONLY|O_CREAT|O_TRUNC (cp)", attrs: sc("openat", i64("int_arg", cwd), str("/usr/bin/x"), i64("int_arg", 577), i64("uint_arg", 0o100755)), op: OpWrite, mode: int64(0o100755)},
		{name: "openat O_APPEND (>>)", attrs: sc("openat", i64("int_arg", cwd), str("/etc/passwd"), i64("int_arg", 1089), i64("uint_arg", 0o666)), op: OpWrite, mode: int64(0o666)},
		{name: "openat O_PATH opens nothing", attrs: sc("openat", i64("int_arg", cwd), str("/etc/shadow"), i64("int_arg", 0o10000000|0o2000000)), mode: nil},
		{name: "openat directory for rm -r", attrs: sc("openat", i64("int_arg", cwd), str("/var/log/app"), i64("int_arg", 591872), i64("uint_arg", 0)), op: OpRead, mode: int64(0)},
		{name: "openat without flags", attrs: sc("openat", i64("int_arg", cwd), str("/x")), op: nil},
		{name: "open (x86_64 legacy)", attrs: sc("open", str("/x"), i64("int_arg", 1), i64("uint_arg", 0o644)), op: OpWrite, mode: int64(0o644)},
		{name: "creat", attrs: sc("creat", str("/x"), i64("uint_arg", 0o755)), op: OpWrite, mode: int64(0o755)},
		{name: "openat2 (flags behind a pointer)", attrs: sc("openat2", i64("int_arg", cwd), str("/etc/shadow"), map[string]any{"size_arg": "140727091274176"}), op: OpRead},
		{name: "chmod u+s (busybox st_mode)", attrs: sc("chmod", str("/usr/local/bin/helper"), i64("uint_arg", 35309)), op: OpChmod, mode: int64(35309)},
		{name: "fchmod", attrs: sc("fchmod", i64("int_arg", 3), i64("uint_arg", 2541)), op: OpChmod, mode: int64(2541)},
		{name: "fchmodat", attrs: sc("fchmodat", i64("int_arg", cwd), str("/x"), i64("uint_arg", 3565)), op: OpChmod, mode: int64(3565)},
		{name: "link", attrs: sc("link", str("/etc/shadow"), str("/srv/s")), op: OpLink, target: "/etc/shadow", new: "/srv/s"},
		{name: "linkat", attrs: sc("linkat", i64("int_arg", cwd), str("/etc/shadow"), i64("int_arg", cwd), str("/srv/sh2"), i64("int_arg", 0)), op: OpLink, target: "/etc/shadow", new: "/srv/sh2"},
		{name: "symlink", attrs: sc("symlink", str("/root/.ssh/id_rsa"), str("/srv/key")), op: OpSymlink, target: "/root/.ssh/id_rsa", new: "/srv/key"},
		{name: "symlinkat", attrs: sc("symlinkat", str("/etc/shadow"), i64("int_arg", cwd), str("/var/tmp/.s")), op: OpSymlink, target: "/etc/shadow", new: "/var/tmp/.s"},
		{name: "rename", attrs: sc("rename", str("/a"), str("/b")), op: OpRename, new: "/b"},
		{name: "renameat2", attrs: sc("renameat2", i64("int_arg", cwd), str("/a"), i64("int_arg", cwd), str("/b"), i64("int_arg", 1)), op: OpRename, new: "/b"},
		{name: "unlinkat", attrs: sc("unlinkat", i64("int_arg", cwd), str("/var/log/messages"), i64("int_arg", 0)), op: OpUnlink},
		{name: "unlinkat AT_REMOVEDIR", attrs: sc("unlinkat", i64("int_arg", cwd), str("/srv/old"), i64("int_arg", 0x200)), op: OpRmdir},
		{name: "truncate", attrs: sc("truncate", str("/var/log/x"), map[string]any{"size_arg": "0"}), op: OpTruncate},
		{name: "security_file_permission MAY_WRITE", attrs: map[string]any{"tetragon.hook": "security_file_permission", "tetragon.args": []any{map[string]any{"file_arg": map[string]any{"path": "/etc/passwd"}}, i64("int_arg", 2)}}, op: OpWrite},
		{name: "security_file_permission MAY_READ", attrs: map[string]any{"tetragon.hook": "security_file_permission", "tetragon.args": []any{map[string]any{"file_arg": map[string]any{"path": "/etc/passwd"}}, i64("int_arg", 4)}}, op: OpRead},
		{name: "not a file syscall", attrs: sc("ptrace", map[string]any{"long_arg": "16"}), op: nil},
		{name: "busybox applet", attrs: map[string]any{"process.executable.path": "/bin/busybox", "tetragon.process.arguments": "wget -q http://x/y"}, cmd: "wget"},
		{name: "busybox with an option first", attrs: map[string]any{"process.executable.path": "/bin/busybox", "tetragon.process.arguments": "--list"}, cmd: "busybox"},
		{name: "plain binary", attrs: map[string]any{"process.executable.path": "/usr/bin/curl", "tetragon.process.arguments": "-o x"}, cmd: "curl"},
		{name: "re-executed applet", attrs: map[string]any{"process.executable.path": "/proc/self/exe", "tetragon.process.arguments": "/etc/shadow"}, cmd: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for fn, want := range map[string]any{"FileOp": tt.op, "LinkTarget": tt.target, "NewPath": tt.new, "CommandName": tt.cmd} {
				if got := value(t, fn, tt.attrs); got != want {
					t.Errorf("%s() = %v (%T), want %v", fn, got, got, want)
				}
			}
			if tt.mode != nil || tt.op == OpChmod {
				if got := value(t, "FileMode", tt.attrs); got != tt.mode {
					t.Errorf("FileMode() = %v, want %v", got, tt.mode)
				}
			}
		})
	}
}
