// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package main

import (
	"fmt"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/jsonl"
	wp "github.com/otelcol-runtime-security/otelcol-runtime-security/internal/workloadprofile"
)

// loaded is a profile and the file it came from.
type loaded struct {
	path string
	p    *wp.Profile
}

// profilePatterns are the files a directory argument of diff, merge and show stands for.
var profilePatterns = []string{"*.yaml", "*.yml"}

// loadProfiles reads the profile files named by inputs (directories expand to their
// profilePatterns files), strictly (workloadprofile.Load): the first file that does not load is
// the error, naming the file, line and field.
func loadProfiles(inputs []string) ([]loaded, error) {
	paths, err := jsonl.Expand(inputs, profilePatterns...)
	if err != nil {
		return nil, err
	}
	out := make([]loaded, 0, len(paths))
	for _, path := range paths {
		p, err := wp.Load(path)
		if err != nil {
			return nil, err
		}
		out = append(out, loaded{path, p})
	}
	return out, nil
}

// byKey indexes profiles by workload key; two files of one workload are an error naming both.
func byKey(ls []loaded) (map[wp.Key]loaded, error) {
	m := make(map[wp.Key]loaded, len(ls))
	for _, l := range ls {
		if prev, dup := m[l.p.Key()]; dup {
			return nil, fmt.Errorf("%s: workload %s already has a profile in %s", l.path, l.p.ID(), prev.path)
		}
		m[l.p.Key()] = l
	}
	return m, nil
}
