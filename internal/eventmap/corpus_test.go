// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package eventmap

import (
	"testing"

	"github.com/cilium/tetragon/api/v1/tetragon"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/synthevents"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/testenv"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/tetragonjson"
)

// The corpus and its events come from testenv and synthevents, shared with
// internal/tetragonjson; these names are what this package's tests call them.

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

// corpusEvents decodes the real and captured corpora (legacy event types left out).
func corpusEvents(tb testing.TB) []*tetragon.GetEventsResponse {
	return synthevents.Corpus(tb, tetragonjson.DecodeJSON)
}

// simulatorEvents are perScenario events of every tetragonsim scenario.
func simulatorEvents(tb testing.TB, perScenario int) []*tetragon.GetEventsResponse {
	return synthevents.Simulated(tb, perScenario)
}

var shippedFieldFilter = synthevents.ShippedFieldFilter()

func applyShippedFieldFilters(tb testing.TB, evs []*tetragon.GetEventsResponse) []*tetragon.GetEventsResponse {
	return synthevents.ApplyShippedFieldFilter(tb, evs)
}
