// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package eventmap

import (
	"testing"
)

// BenchmarkMapAttributes is the record and attribute mapping alone (no body)
// on the captured events with the shipped field filters, as they arrive over
// gRPC.
//
//	go test -run '^$' -bench 'MapAttributes' -benchmem ./internal/eventmap/
func BenchmarkMapAttributes(b *testing.B) {
	benchMapEvents(b, encodeBenchEvents(b, "captured/main-export.jsonl.gz", true), BodyNone)
}
