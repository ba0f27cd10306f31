// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package tetragonjson

import (
	"testing"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/testenv"
)

// The corpus comes from testenv, shared with internal/eventmap; these names are
// what this package's tests call it.

type corpusLine struct {
	file string
	num  int // 1-based
	data []byte
}

// readCorpus is testenv.ReadCorpus: it fails when nothing matches pattern.
func readCorpus(tb testing.TB, pattern string) []corpusLine {
	tb.Helper()
	var out []corpusLine
	for _, l := range testenv.ReadCorpus(tb, pattern) {
		out = append(out, corpusLine{file: l.File, num: l.Num, data: l.Data})
	}
	return out
}
