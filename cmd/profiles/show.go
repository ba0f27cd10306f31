// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

func runShow(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("show", "PROFILE|DIR...", stderr)
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 1
	}
	if len(pos) == 0 {
		report(stderr, fs, "show", usagef("no profiles to show"))
		return 1
	}
	ls, err := loadProfiles(pos)
	if err != nil {
		report(stderr, fs, "show", err)
		return 1
	}
	for i, l := range ls {
		if i > 0 {
			fmt.Fprintln(stdout)
		}
		show(stdout, l)
	}
	return 0
}

func show(w io.Writer, l loaded) {
	p := l.p
	fmt.Fprintf(w, "%s  (%s)\n", p.ID(), l.path)
	fmt.Fprintf(w, "  image:    %s\n", orDash(p.Image()))
	state := string(p.State())
	if t := p.EnforcingSince(); !t.IsZero() {
		state += " since " + stamp(t)
	}
	fmt.Fprintf(w, "  state:    %s\n", state)
	if f, last := p.FirstSeen(), p.LastSeen(); !f.IsZero() {
		fmt.Fprintf(w, "  learned:  %s to %s (%s)\n", stamp(f), stamp(last), last.Sub(f).Round(time.Second))
	}
	it := p.Items()
	pairs := make([]string, len(it.ParentChild))
	for i, pc := range it.ParentChild {
		pairs[i] = pc.Parent + " > " + pc.Child
	}
	ports := make([]string, len(it.Ports))
	for i, pt := range it.Ports {
		ports[i] = strconv.Itoa(int(pt))
	}
	o := p.Overflow()
	list(w, "executables", it.Executables, o.Executables)
	list(w, "parent>child", pairs, o.ParentChild)
	list(w, "file classes", it.Files, o.Files)
	list(w, "syscalls", it.Syscalls, o.Syscalls)
	list(w, "ports", ports, o.Ports)
	list(w, "peer classes", it.Peers, o.Peers)
}

func list(w io.Writer, name string, items []string, overflow int) {
	fmt.Fprintf(w, "  %-13s %d", name+":", len(items))
	if overflow > 0 {
		fmt.Fprintf(w, " (+%d over the cap, not kept)", overflow)
	}
	if len(items) > 0 {
		fmt.Fprintf(w, "\n      %s", strings.Join(items, "\n      "))
	}
	fmt.Fprintln(w)
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
