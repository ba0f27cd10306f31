// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package syscalls

import (
	"slices"
	"testing"
)

func TestByID(t *testing.T) {
	for _, c := range []struct {
		abi  string
		id   uint32
		want string
	}{
		{"x64", 175, "init_module"},
		{"x64", 313, "finit_module"},
		{"x64", 101, "ptrace"},
		{"x64", 0, "read"},
		{"x64", 166, "umount2"},
		{"x64", 262, "newfstatat"},
		{"x64", 308, "setns"},
		{"arm64", 105, "init_module"},
		{"arm64", 273, "finit_module"},
		{"arm64", 117, "ptrace"},
		{"arm64", 79, "newfstatat"},
		{"arm64", 39, "umount2"},
		{"arm64", 221, "execve"},
		{"i386", 128, "init_module"},
		{"i386", 350, "finit_module"},
		{"i386", 26, "ptrace"},
		{"i386", 11, "execve"},
	} {
		got, ok := ByID(c.abi, c.id)
		if !ok || got != c.want {
			t.Errorf("ByID(%q, %d) = %q, %v; want %q", c.abi, c.id, got, ok, c.want)
		}
	}
	for _, c := range []struct {
		abi string
		id  uint32
	}{
		{"x64", 100000}, {"x64", 1 << 31}, {"arm64", 244}, {"arm64", 250}, {"", 175}, {"arm32", 128}, {"x86_64", 175},
	} {
		if got, ok := ByID(c.abi, c.id); ok {
			t.Errorf("ByID(%q, %d) = %q, want none", c.abi, c.id, got)
		}
	}
}

// TestTableSizes is a sanity check of the generated tables: each holds the
// number of syscalls its ABI has had since Linux 6.x (x86_64 ~380, arm64
// ~320, i386 ~450), ids are dense where they should be, and a name appears
// once per table.
func TestTableSizes(t *testing.T) {
	for _, c := range []struct {
		abi      string
		min, max int
		dense    int // ids 0..dense-1 all named
	}{
		{"x64", 360, 420, 335},
		{"arm64", 300, 360, 244},
		{"i386", 420, 500, 220},
	} {
		names := Names(c.abi)
		if len(names) < c.min || len(names) > c.max {
			t.Errorf("%s: %d syscalls, want %d..%d", c.abi, len(names), c.min, c.max)
		}
		if len(slices.Compact(slices.Clone(names))) != len(names) {
			t.Errorf("%s: duplicate names", c.abi)
		}
		for id := 0; id < c.dense; id++ {
			if _, ok := ByID(c.abi, uint32(id)); !ok {
				t.Errorf("%s: id %d has no name", c.abi, id)
			}
		}
	}
	if Names("arm32") != nil {
		t.Error("arm32 has a table")
	}
}

func TestFromKprobe(t *testing.T) {
	for fn, want := range map[string]string{
		"__x64_sys_ptrace":          "ptrace",
		"__arm64_sys_ptrace":        "ptrace",
		"__ia32_sys_ptrace":         "ptrace",
		"__ia32_compat_sys_ptrace":  "ptrace",
		"__x64_compat_sys_ptrace":   "ptrace",
		"__arm64_compat_sys_ptrace": "ptrace",
		"__se_sys_ptrace":           "ptrace",
		"__do_sys_ptrace":           "ptrace",
		"sys_ptrace":                "ptrace",
		"compat_sys_ptrace":         "ptrace",
		"__x64_sys_finit_module":    "finit_module",
		"__arm64_sys_init_module":   "init_module",
		"__x64_sys_newfstatat":      "newfstatat",
		"__x64_sys_newstat":         "stat",
		"__x64_sys_umount":          "umount2",
		"__arm64_sys_newuname":      "uname",
		"__x64_sys_sendfile64":      "sendfile",
		"__arm64_sys_fadvise64_64":  "fadvise64",
		"__x64_sys_openat2":         "openat2",
		"__sys_setuid":              "setuid",
		"__sys_setresuid":           "setresuid",
		"__sys_bpf":                 "bpf",
		"ksys_read":                 "read",
		"ksys_unshare":              "unshare",
		// not syscall entry points
		"security_file_permission": "",
		"sys_fillrect":             "",
		"__x64_sys_ni_syscall":     "",
		"ksys_mmap_pgoff":          "",
		"__sys_socket_file":        "",
		"do_init_module":           "",
		"sys_":                     "",
		"":                         "",
	} {
		if got := FromKprobe(fn); got != want {
			t.Errorf("FromKprobe(%q) = %q, want %q", fn, got, want)
		}
	}
}

func TestFromTracepoint(t *testing.T) {
	for _, c := range []struct{ subsys, event, want string }{
		{"syscalls", "sys_enter_ptrace", "ptrace"},
		{"syscalls", "sys_enter_umount", "umount2"},
		{"syscalls", "sys_enter_newfstatat", "newfstatat"},
		{"syscalls", "sys_enter_newstat", "stat"},
		{"syscalls", "sys_enter_brand_new_call", "brand_new_call"},
		{"syscalls", "sys_exit_ptrace", ""},
		{"syscalls", "sys_enter_", ""},
		{"raw_syscalls", "sys_enter", ""},
		{"sched", "sched_process_exec", ""},
	} {
		if got := FromTracepoint(c.subsys, c.event); got != c.want {
			t.Errorf("FromTracepoint(%q, %q) = %q, want %q", c.subsys, c.event, got, c.want)
		}
	}
}

func TestKnown(t *testing.T) {
	for _, n := range []string{"ptrace", "init_module", "finit_module", "newfstatat", "umount2", "stat", "socketcall", "stat64", "openat2"} {
		if !Known(n) {
			t.Errorf("Known(%q) = false", n)
		}
	}
	for _, n := range []string{"", "ptrac", "umount", "newstat", "sendfile64", "PTRACE", "__x64_sys_ptrace", "ni_syscall"} {
		if Known(n) {
			t.Errorf("Known(%q) = true", n)
		}
	}
	if got := Closest("finit_modul", 3); len(got) == 0 || got[0] != "finit_module" {
		t.Errorf("Closest(finit_modul) = %v", got)
	}
	if got := Closest("ptrac", 3); len(got) == 0 || got[0] != "ptrace" {
		t.Errorf("Closest(ptrac) = %v", got)
	}
}

func TestLookupsDoNotAllocate(t *testing.T) {
	fn, ev := "__x64_sys_ptrace", "sys_enter_umount"
	n := testing.AllocsPerRun(100, func() {
		_ = FromKprobe(fn)
		_ = FromTracepoint("syscalls", ev)
		_, _ = ByID("arm64", 273)
	})
	if n != 0 {
		t.Errorf("%v allocations per lookup", n)
	}
}
