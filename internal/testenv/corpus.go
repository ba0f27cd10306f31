// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package testenv

import (
	"bytes"
	"path/filepath"
	"sort"
	"testing"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/jsonl"
)

// CorpusLine is one line of the shared corpus with where it stands, for failure messages.
type CorpusLine struct {
	File string // base name
	Num  int    // 1-based
	Data []byte
}

// ReadCorpus returns every non-empty line of the files matching pattern (relative to EventsDir),
// in file name order, gunzipping *.gz. It fails when nothing matches: a renamed corpus file must
// not leave a test with nothing to check.
func ReadCorpus(tb testing.TB, pattern string) []CorpusLine {
	tb.Helper()
	files, err := filepath.Glob(filepath.Join(EventsDir(tb), pattern))
	if err != nil {
		tb.Fatal(err)
	}
	if len(files) == 0 {
		tb.Fatalf("no corpus files match %s", pattern)
	}
	sort.Strings(files)
	var out []CorpusLine
	for _, f := range files {
		err := jsonl.Each(f, func(num int, line []byte) error {
			out = append(out, CorpusLine{File: filepath.Base(f), Num: num, Data: bytes.Clone(line)})
			return nil
		})
		if err != nil {
			tb.Fatal(err)
		}
	}
	return out
}

// CorpusData is ReadCorpus's lines alone, with their mean size for b.SetBytes.
func CorpusData(tb testing.TB, pattern string) (lines [][]byte, meanSize int64) {
	tb.Helper()
	var size int64
	for _, l := range ReadCorpus(tb, pattern) {
		lines = append(lines, l.Data)
		size += int64(len(l.Data))
	}
	if len(lines) == 0 {
		tb.Fatalf("corpus files matching %s hold no lines", pattern)
	}
	return lines, size / int64(len(lines))
}
