// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	wp "github.com/otelcol-runtime-security/otelcol-runtime-security/internal/workloadprofile"
)

func runMerge(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("merge", "--out FILE|DIR PROFILE|DIR...", stderr)
	out := fs.String("out", "", "the merged profile `file`, or a directory (existing, or ending in /) for one merged profile per workload")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 1
	}
	switch {
	case *out == "":
		err = usagef("--out FILE|DIR is required")
	case len(pos) == 0:
		err = usagef("no profiles to merge")
	}
	if err == nil {
		var lines []string
		lines, err = merge(*out, pos)
		for _, l := range lines {
			fmt.Fprintln(stdout, l)
		}
	}
	if err != nil {
		report(stderr, fs, "merge", err)
		return 1
	}
	return 0
}

// merge loads the inputs, groups them by workload, merges each group and writes the result(s).
func merge(out string, inputs []string) ([]string, error) {
	ls, err := loadProfiles(inputs)
	if err != nil {
		return nil, err
	}
	groups := map[wp.Key][]loaded{}
	var keys []wp.Key
	for _, l := range ls {
		k := l.p.Key()
		if groups[k] == nil {
			keys = append(keys, k)
		}
		groups[k] = append(groups[k], l)
	}
	sort.Slice(keys, func(a, b int) bool { return keys[a].String() < keys[b].String() })
	toDir := isDirTarget(out)
	if !toDir && len(keys) > 1 {
		ids := make([]string, len(keys))
		for i, k := range keys {
			ids[i] = k.String()
		}
		return nil, usagef("the inputs hold %d workloads (%s): --out must be a directory (existing, or ending in /) for one profile per workload",
			len(keys), strings.Join(ids, ", "))
	}
	// Check every group before writing anything.
	merged := make([]*wp.Profile, len(keys))
	for i, k := range keys {
		g := groups[k]
		if err := sameImage(g); err != nil {
			return nil, err
		}
		ps := make([]*wp.Profile, len(g))
		for j, l := range g {
			ps[j] = l.p
		}
		if merged[i], err = wp.Merge(wp.DefaultConfig(), ps...); err != nil {
			return nil, err
		}
	}
	if toDir {
		if err := os.MkdirAll(out, 0o755); err != nil {
			return nil, err
		}
	}
	var lines []string
	used := map[string]bool{}
	for i, p := range merged {
		path := out
		if toDir {
			path = filepath.Join(out, uniqueName(p.Key().FileName(), used))
		}
		b, err := wp.Marshal(p)
		if err != nil {
			return lines, fmt.Errorf("%s: %w", p.ID(), err)
		}
		if err := os.WriteFile(path, b, 0o644); err != nil {
			return lines, err
		}
		lines = append(lines, fmt.Sprintf("wrote %s: %s from %d profiles (%s; %s)", path, p.ID(), len(groups[keys[i]]), p.State(), sizes(p.Sizes())))
	}
	return lines, nil
}

// sameImage reports profiles of one workload describing different images (an unknown image
// matches any), naming both images and both files: profiles of two versions of a program are
// not one profile.
func sameImage(g []loaded) error {
	var first *loaded
	for i := range g {
		l := &g[i]
		if l.p.Image() == "" {
			continue
		}
		if first == nil {
			first = l
			continue
		}
		if l.p.Image() != first.p.Image() {
			return fmt.Errorf("workload %s: %s has image %q but %s has image %q; merge the profiles of one image (an image change is a new version: learn it again)",
				l.p.ID(), first.path, first.p.Image(), l.path, l.p.Image())
		}
	}
	return nil
}
