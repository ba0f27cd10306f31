// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package rules

import (
	"errors"
	"fmt"
	"strings"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/syscalls"
)

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
