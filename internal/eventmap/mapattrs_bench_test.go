// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package eventmap

import (
	"testing"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/synthevents"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/tetragonjson"
)

// BenchmarkMapAttributes is the record and attribute mapping alone (no body)
// on the captured events with the shipped field filters, as they arrive over
// gRPC.
//
//	go test -run '^$' -bench 'MapAttributes' -benchmem ./internal/eventmap/
func BenchmarkMapAttributes(b *testing.B) {
	c := synthevents.BenchCorpus{Pattern: "captured/main-export.jsonl.gz", Filtered: true}
	benchMap(b, c.Events(b, tetragonjson.DecodeJSON), nil, BodyNone)
}
