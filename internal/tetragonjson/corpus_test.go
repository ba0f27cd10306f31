// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package tetragonjson

import (
	"bytes"
	"path/filepath"
	"sort"
	"testing"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/jsonl"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/testenv"
)

// sharedDir is the shared Tetragon corpus (testenv.EventsDir: required, a missing folder fails the
// test instead of skipping it).
func sharedDir(tb testing.TB) string { return testenv.EventsDir(tb) }

type corpusLine struct {
	file string
	num  int // 1-based
	data []byte
}

// readCorpus returns every non-empty line of the files matching pattern
// (relative to the shared folder), gunzipping *.gz. It fails when nothing matches.
func readCorpus(tb testing.TB, pattern string) []corpusLine {
	tb.Helper()
	files, err := filepath.Glob(filepath.Join(sharedDir(tb), pattern))
	if err != nil {
		tb.Fatal(err)
	}
	if len(files) == 0 {
		tb.Fatalf("no corpus files match %s", pattern)
	}
	sort.Strings(files)
	var out []corpusLine
	for _, f := range files {
		err := jsonl.Each(f, func(num int, line []byte) error {
			out = append(out, corpusLine{file: filepath.Base(f), num: num, data: bytes.Clone(line)})
			return nil
		})
		if err != nil {
			tb.Fatal(err)
		}
	}
	return out
}
