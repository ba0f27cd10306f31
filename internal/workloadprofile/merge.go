// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package workloadprofile

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/attrkey"
)

// Merge combines profiles of one workload learned on several nodes (each
// DaemonSet pod learns from its node) into one:
//
//   - lists are the union, within cfg.Limits: when a union is over a cap,
//     the items kept are the first in sorted order (deterministic, so that
//     re-merging gives the same file) and the rest count as overflow, added
//     to the inputs' own overflow;
//   - the learning window is the earliest FirstSeen to the latest LastSeen;
//   - the state is the most settled of the inputs: file if any is a file
//     profile, else enforcing if any input was learned long enough to
//     enforce on its node (or the merged window is at least
//     cfg.LearningPeriod), else learning. EnforcingSince is the earliest;
//   - all inputs must have the same key and the same image (profiles of two
//     image versions describe two programs: merge those of one version).
//
// The result is a new profile with cfg; the inputs are not changed.
func Merge(cfg Config, ps ...*Profile) (*Profile, error) {
	if len(ps) == 0 {
		return nil, fmt.Errorf("merge: no profiles")
	}
	first := ps[0]
	for _, p := range ps[1:] {
		if p.key != first.key {
			return nil, fmt.Errorf("merge: profiles of different workloads (%s and %s)", first.id, p.id)
		}
		if p.image != first.image && p.image != "" && first.image != "" {
			return nil, fmt.Errorf("merge %s: profiles of different images (%q and %q); merge the profiles of one image", first.id, first.image, p.image)
		}
	}
	out := NewProfile(first.key, "", cfg)
	var all Items
	var overflow Counts
	for _, p := range ps {
		if out.image == "" {
			out.image = p.image
		}
		out.firstSeen = earliest(out.firstSeen, p.firstSeen)
		out.enforcingSince = earliest(out.enforcingSince, p.enforcingSince)
		if p.lastSeen.After(out.lastSeen) {
			out.lastSeen = p.lastSeen
		}
		if p.lastActive.After(out.lastActive) {
			out.lastActive = p.lastActive
		}
		switch {
		case p.state == StateFile:
			out.state = StateFile
		case p.state == StateEnforcing && out.state == StateLearning:
			out.state = StateEnforcing
		}
		it := p.Items()
		all.Executables = append(all.Executables, it.Executables...)
		all.ParentChild = append(all.ParentChild, it.ParentChild...)
		all.Files = append(all.Files, it.Files...)
		all.Syscalls = append(all.Syscalls, it.Syscalls...)
		all.Ports = append(all.Ports, it.Ports...)
		all.Peers = append(all.Peers, it.Peers...)
		overflow.add(p.Overflow())
	}
	if out.state == StateLearning && cfg.LearningPeriod > 0 && !out.firstSeen.IsZero() &&
		out.lastSeen.Sub(out.firstSeen) >= cfg.LearningPeriod {
		out.state, out.enforcingSince = StateEnforcing, out.lastSeen
	}
	out.windowStart = out.lastSeen
	capped := func(limit int) int {
		if out.state == StateFile {
			return -1
		}
		return limit
	}
	l := cfg.Limits
	for _, v := range union(all.Executables) {
		out.execs.add(v, capped(l.Executables))
	}
	slices.SortFunc(all.ParentChild, comparePairs)
	for _, v := range slices.Compact(all.ParentChild) {
		out.pairs.add(v, capped(l.ParentChild))
	}
	for _, v := range union(all.Files) {
		out.files.add(v, capped(l.Files))
	}
	for _, v := range union(all.Syscalls) {
		out.syscalls.add(v, capped(l.Syscalls))
	}
	for _, v := range union(all.Ports) {
		out.ports.add(v, capped(l.Ports))
	}
	for _, v := range union(all.Peers) {
		out.peers.add(v, capped(l.Peers))
	}
	out.execs.overflow += overflow.Executables
	out.pairs.overflow += overflow.ParentChild
	out.files.overflow += overflow.Files
	out.syscalls.overflow += overflow.Syscalls
	out.ports.overflow += overflow.Ports
	out.peers.overflow += overflow.Peers
	return out, nil
}

func union[T interface{ ~string | ~uint16 }](s []T) []T {
	slices.Sort(s)
	return slices.Compact(s)
}

func earliest(a, b time.Time) time.Time {
	if a.IsZero() || (!b.IsZero() && b.Before(a)) {
		return b
	}
	return a
}

// Change is one difference between two profiles.
type Change struct {
	Kind  string // attrkey.ProfileKind* of the list, or "" for image and state
	Field string // executables, parentChild, files, syscalls, ports, peers; image, state
	Op    byte   // '+' added in the second profile, '-' removed from it, '~' changed (image, state)
	Item  string // the item; "old -> new" for '~'
}

// String is one diff line: "+ exec executables /usr/bin/curl",
// "~ state learning -> enforcing".
func (c Change) String() string {
	if c.Kind == "" {
		return string(c.Op) + " " + c.Field + " " + c.Item
	}
	return string(c.Op) + " " + c.Kind + " " + c.Field + " " + c.Item
}

// Diff lists what changed from a to b: image and state first, then per
// list the removed and added items, sorted. Keys are not compared (diffing
// two workloads is allowed: "what does canary do that stable does not").
// Empty when the profiles hold the same.
func Diff(a, b *Profile) []Change {
	var out []Change
	if a.image != b.image {
		out = append(out, Change{Field: "image", Op: '~', Item: a.image + " -> " + b.image})
	}
	if a.state != b.state {
		out = append(out, Change{Field: "state", Op: '~', Item: string(a.state) + " -> " + string(b.state)})
	}
	ia, ib := a.Items(), b.Items()
	out = diffList(out, attrkey.ProfileKindExec, "executables", ia.Executables, ib.Executables, ident)
	out = diffList(out, attrkey.ProfileKindExec, "parentChild", ia.ParentChild, ib.ParentChild, func(p Pair) string { return p.Parent + " > " + p.Child })
	out = diffList(out, attrkey.ProfileKindFile, "files", ia.Files, ib.Files, ident)
	out = diffList(out, attrkey.ProfileKindSyscall, "syscalls", ia.Syscalls, ib.Syscalls, ident)
	out = diffList(out, attrkey.ProfileKindNetwork, "ports", ia.Ports, ib.Ports, func(p uint16) string { return strconv.Itoa(int(p)) })
	out = diffList(out, attrkey.ProfileKindNetwork, "peers", ia.Peers, ib.Peers, ident)
	return out
}

func ident(s string) string { return s }

// diffList appends the items only in a ('-'), then those only in b ('+'),
// each in the lists' (sorted) order.
func diffList[T comparable](out []Change, kind, field string, a, b []T, str func(T) string) []Change {
	inA := make(map[T]bool, len(a))
	for _, v := range a {
		inA[v] = true
	}
	inB := make(map[T]bool, len(b))
	for _, v := range b {
		inB[v] = true
	}
	for _, v := range a {
		if !inB[v] {
			out = append(out, Change{Kind: kind, Field: field, Op: '-', Item: str(v)})
		}
	}
	for _, v := range b {
		if !inA[v] {
			out = append(out, Change{Kind: kind, Field: field, Op: '+', Item: str(v)})
		}
	}
	return out
}

// FormatDiff is Diff's changes one per line, "" when there are none.
func FormatDiff(cs []Change) string {
	var b strings.Builder
	for _, c := range cs {
		b.WriteString(c.String())
		b.WriteByte('\n')
	}
	return b.String()
}
