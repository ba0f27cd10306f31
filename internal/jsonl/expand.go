// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package jsonl

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Patterns are the file names a directory argument of the CLIs stands for.
var Patterns = []string{"*.jsonl", "*.jsonl.gz"}

// Expand replaces each directory in inputs by its files matching patterns, sorted; other paths
// must exist. A directory with no such file is an error: an empty input is usually a wrong path.
func Expand(inputs []string, patterns ...string) ([]string, error) {
	var out []string
	for _, in := range inputs {
		fi, err := os.Stat(in)
		if err != nil {
			return nil, err
		}
		if !fi.IsDir() {
			out = append(out, in)
			continue
		}
		var found []string
		for _, pat := range patterns {
			m, err := filepath.Glob(filepath.Join(in, pat))
			if err != nil {
				return nil, err
			}
			found = append(found, m...)
		}
		if len(found) == 0 {
			return nil, fmt.Errorf("%s: no %s files", in, strings.Join(patterns, " or "))
		}
		sort.Strings(found)
		out = append(out, found...)
	}
	return out, nil
}
