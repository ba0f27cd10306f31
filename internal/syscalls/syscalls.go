// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package syscalls

import (
	"sort"
	"strings"
)

// The abi strings Tetragon writes in syscall_id.abi (its pkg/syscallinfo):
// "x64" and "i386" on x86_64 kernels, "arm64" and "arm32" on arm64 ones.
// There is no "arm32" table here: such an id keeps no name.
const (
	ABIX64   = "x64"
	ABIArm64 = "arm64"
	ABII386  = "i386"
)

// ByID returns the name of syscall id in the table of abi, false when abi or
// id is unknown (also for an empty abi: the id alone does not say the
// architecture). It does not allocate.
func ByID(abi string, id uint32) (string, bool) {
	t := table(abi)
	if uint64(id) >= uint64(len(t)) || t[id] == "" {
		return "", false
	}
	return t[id], true
}

// entryAliases are the entry points (SYSCALL_DEFINE names, what sys_enter_X
// and __x64_sys_X spell) of the x86_64 and arm64 tables whose table name is
// another: 166 umount2 sys_umount, 4 stat sys_newstat, …
var entryAliases = map[string]string{
	"newstat":      "stat",
	"newfstat":     "fstat",
	"newlstat":     "lstat",
	"newuname":     "uname",
	"umount":       "umount2",
	"sendfile64":   "sendfile",
	"fadvise64_64": "fadvise64", // arm64
}

// hookNames maps an entry point name to its syscall name: every name of the
// three tables to itself, the entryAliases to their table name (they win over
// the i386 table's umount, sendfile64 and fadvise64_64, whose entry points
// are sys_oldumount, … on a 64-bit kernel).
var hookNames = func() map[string]string {
	m := make(map[string]string, len(i386Names)+len(entryAliases))
	for _, t := range [][]string{i386Names[:], arm64Names[:], x64Names[:]} {
		for _, n := range t {
			if n != "" {
				m[n] = n
			}
		}
	}
	for entry, name := range entryAliases {
		m[entry] = name
	}
	return m
}()

// kprobePrefixes are the prefixes of a syscall's entry point symbols: the
// arch wrappers (x86_64, x32, ia32 emulation, arm64 and its compat), the
// generic wrappers of SYSCALL_DEFINE and the plain sys_X of older kernels;
// then the kernel's own helpers that implement one syscall with its
// arguments in the same order (__sys_setuid, __sys_bpf, ksys_unshare,
// ksys_read), which policies hook for being one symbol on every
// architecture (Tetragon's privilege examples hook __sys_setuid).
var kprobePrefixes = [...]string{
	"__x64_sys_", "__arm64_sys_", "__ia32_sys_", "__ia32_compat_sys_",
	"__x64_compat_sys_", "__arm64_compat_sys_", "__se_sys_", "__do_sys_",
	"__se_compat_sys_", "__do_compat_sys_", "compat_sys_", "sys_",
	"__sys_", "ksys_",
}

// FromKprobe returns the syscall whose entry point fn is (__x64_sys_ptrace,
// __arm64_sys_ptrace, __ia32_compat_sys_ptrace, __se_sys_ptrace,
// __do_sys_ptrace, sys_ptrace → "ptrace"; also the helpers __sys_setuid →
// "setuid" and ksys_unshare → "unshare"), or "" when fn is none. The name
// after the prefix must be a syscall of one of the tables (or an entry point
// alias such as newstat), so sys_fillrect, ksys_mmap_pgoff or
// __x64_sys_ni_syscall are not syscalls. It does not allocate.
func FromKprobe(fn string) string {
	if len(fn) < 5 || (fn[0] != '_' && fn[0] != 's' && fn[0] != 'c' && fn[0] != 'k') {
		return ""
	}
	for _, p := range kprobePrefixes {
		if rest, ok := strings.CutPrefix(fn, p); ok {
			return hookNames[rest]
		}
	}
	return ""
}

// FromTracepoint returns the syscall of a syscalls/sys_enter_X tracepoint:
// X, or its table name when X is an entry point alias (sys_enter_umount →
// "umount2"), or "" for any other tracepoint. X need not be in the tables
// (a kernel newer than them). It does not allocate.
func FromTracepoint(subsys, event string) string {
	if subsys != "syscalls" {
		return ""
	}
	x, ok := strings.CutPrefix(event, "sys_enter_")
	if !ok || x == "" {
		return ""
	}
	if n, ok := hookNames[x]; ok {
		return n
	}
	return x
}

// Known reports whether name is a syscall of the x64, arm64 or i386 table:
// a value tetragon.syscall.name can take on those ABIs.
func Known(name string) bool {
	n, ok := hookNames[name]
	return ok && n == name && !isAlias(name)
}

func isAlias(name string) bool {
	_, ok := entryAliases[name]
	return ok
}

// EntryAlias returns the table name of an entry point alias (umount →
// umount2), false when name is none.
func EntryAlias(name string) (string, bool) {
	n, ok := entryAliases[name]
	return n, ok
}

// Names returns the names of abi's table, sorted; nil for an unknown abi.
func Names(abi string) []string {
	t := table(abi)
	if t == nil {
		return nil
	}
	out := make([]string, 0, len(t))
	for _, n := range t {
		if n != "" {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}

// Closest returns up to max known syscall names nearest to name (edit
// distance, then alphabetical), for error messages.
func Closest(name string, max int) []string {
	type cand struct {
		name string
		d    int
	}
	var cs []cand
	limit := len(name)/3 + 2
	for n := range hookNames {
		if !Known(n) {
			continue
		}
		d := distance(name, n)
		if strings.Contains(n, name) || strings.Contains(name, n) {
			d = min(d, 2)
		}
		if d <= limit {
			cs = append(cs, cand{n, d})
		}
	}
	sort.Slice(cs, func(i, j int) bool {
		if cs[i].d != cs[j].d {
			return cs[i].d < cs[j].d
		}
		return cs[i].name < cs[j].name
	})
	out := make([]string, 0, max)
	for _, c := range cs {
		if len(out) == max {
			break
		}
		out = append(out, c.name)
	}
	return out
}

// distance is the Levenshtein distance of a and b (bytes).
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// table is abi's id → name table, nil for an unknown abi.
func table(abi string) []string {
	switch abi {
	case ABIX64:
		return x64Names[:]
	case ABIArm64:
		return arm64Names[:]
	case ABII386:
		return i386Names[:]
	}
	return nil
}
