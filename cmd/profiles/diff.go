// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"

	wp "github.com/otelcol-runtime-security/otelcol-runtime-security/internal/workloadprofile"
)

// diff's exit status, as diff(1).
const (
	diffSame      = 0
	diffDifferent = 1
	diffError     = 2
)

func runDiff(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("diff", "A B  (two profile files, or two directories of profiles paired by workload key)", stderr)
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return diffSame
		}
		return diffError
	}
	if len(pos) != 2 {
		report(stderr, fs, "diff", usagef("want two profile files or two directories, got %d arguments", len(pos)))
		return diffError
	}
	var dirs [2]bool
	for i, p := range pos {
		fi, err := os.Stat(p)
		if err != nil {
			report(stderr, fs, "diff", err)
			return diffError
		}
		dirs[i] = fi.IsDir()
	}
	var different bool
	switch {
	case dirs[0] != dirs[1]:
		err = usagef("%s and %s: compare two files or two directories", pos[0], pos[1])
	case dirs[0]:
		different, err = diffDirs(stdout, pos[0], pos[1])
	default:
		different, err = diffFiles(stdout, pos[0], pos[1])
	}
	if err != nil {
		report(stderr, fs, "diff", err)
		return diffError
	}
	if different {
		return diffDifferent
	}
	return diffSame
}

func diffFiles(w io.Writer, a, b string) (bool, error) {
	pa, err := wp.Load(a)
	if err != nil {
		return false, err
	}
	pb, err := wp.Load(b)
	if err != nil {
		return false, err
	}
	cs := wp.Diff(pa, pb)
	if pa.Key() != pb.Key() {
		// Diff does not compare keys (canary against stable is a fair question); say so.
		fmt.Fprintf(w, "# %s is workload %s, %s is workload %s\n", a, pa.ID(), b, pb.ID())
	}
	fmt.Fprint(w, wp.FormatDiff(cs))
	return len(cs) > 0, nil
}

// diffDirs pairs the profiles of two directories by workload key: a workload on one side only
// is a difference, and each pair is diffed under a "=== workload" heading.
func diffDirs(w io.Writer, a, b string) (bool, error) {
	la, err := loadProfiles([]string{a})
	if err != nil {
		return false, err
	}
	lb, err := loadProfiles([]string{b})
	if err != nil {
		return false, err
	}
	ma, err := byKey(la)
	if err != nil {
		return false, err
	}
	mb, err := byKey(lb)
	if err != nil {
		return false, err
	}
	ids := map[string]wp.Key{}
	for k := range ma {
		ids[k.String()] = k
	}
	for k := range mb {
		ids[k.String()] = k
	}
	names := make([]string, 0, len(ids))
	for n := range ids {
		names = append(names, n)
	}
	sort.Strings(names)
	different := false
	for _, n := range names {
		k := ids[n]
		pa, inA := ma[k]
		pb, inB := mb[k]
		switch {
		case !inB:
			fmt.Fprintf(w, "=== %s: only in %s (%s)\n", n, a, pa.path)
			different = true
		case !inA:
			fmt.Fprintf(w, "=== %s: only in %s (%s)\n", n, b, pb.path)
			different = true
		default:
			if cs := wp.Diff(pa.p, pb.p); len(cs) > 0 {
				fmt.Fprintf(w, "=== %s: %s %s\n%s", n, pa.path, pb.path, wp.FormatDiff(cs))
				different = true
			}
		}
	}
	return different, nil
}
