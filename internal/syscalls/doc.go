// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

// Package syscalls names Linux syscalls for the event mapper and the rule
// compiler: the number → name tables of the ABIs Tetragon writes in a
// raw_syscalls syscall_id argument ("x64", "arm64", "i386"), and the syscall
// a hook is on, whether it is a kprobe on the syscall's entry point
// (__x64_sys_ptrace, __arm64_sys_ptrace, __ia32_compat_sys_ptrace,
// __se_sys_ptrace, sys_ptrace, …) or a syscalls/sys_enter_ptrace tracepoint.
//
// Names are the kernel's syscall table names (arch/x86/entry/syscalls/
// syscall_64.tbl, include/uapi/asm-generic/unistd.h), which is what
// sys_enter_X and __x64_sys_X use except for a few entry points the tables
// list under another name (sys_newstat is stat, sys_umount is umount2, …):
// hooks on those are named by the table name, so one syscall has one name
// whichever way it was hooked.
package syscalls

//go:generate go run gen.go
