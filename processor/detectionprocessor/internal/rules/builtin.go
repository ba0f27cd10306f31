// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package rules

import (
	"embed"
	"io/fs"
	"path"
	"sort"
)

// builtinFS holds the catalogue: every builtin/*.yaml, applied in file-name order.
//
//go:embed builtin/*.yaml
var builtinFS embed.FS

// BuiltinSources returns the embedded catalogue files as sources of the
// "builtin" ruleset.
func BuiltinSources() ([]Source, error) {
	names, err := fs.Glob(builtinFS, "builtin/*.yaml")
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	srcs := make([]Source, 0, len(names))
	for _, n := range names {
		data, err := builtinFS.ReadFile(n)
		if err != nil {
			return nil, err
		}
		srcs = append(srcs, Source{Ruleset: BuiltinRuleset, Path: path.Join("builtin", path.Base(n)), Data: data})
	}
	return srcs, nil
}
