// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package tetragonjson

import (
	"testing"

	"github.com/cilium/tetragon/api/v1/tetragon"
)

// The encoder on events that arrive without their JSON line (gRPC): the
// corpora as they are, and the captured events with the distribution's field
// filters applied (what the receiver gets from Tetragon by default).
//
//	go test -run '^$' -bench MarshalJSON -benchmem ./internal/tetragonjson/

var encodeBenchCorpora = []struct {
	name, pattern string
	filtered      bool
}{
	{"real", "real/*.jsonl", false},
	{"captured", "captured/main-export.jsonl.gz", false},
	{"captured-filtered", "captured/main-export.jsonl.gz", true},
}

func encodeBenchEvents(b *testing.B, pattern string, filtered bool) []*tetragon.GetEventsResponse {
	lines, _ := benchLines(b, pattern)
	evs := benchEvents(b, lines)
	if filtered {
		evs = applyShippedFieldFilters(b, evs)
	}
	return evs
}

// BenchmarkMarshalJSON compares the generated encoder with protojson. SetBytes
// is the encoder's output size.
func BenchmarkMarshalJSON(b *testing.B) {
	for _, c := range encodeBenchCorpora {
		evs := encodeBenchEvents(b, c.pattern, c.filtered)
		var size int64
		for _, ev := range evs {
			out, err := MarshalString(ev)
			if err != nil {
				b.Fatal(err)
			}
			size += int64(len(out))
		}
		b.Run(c.name+"/encoder", func(b *testing.B) {
			b.SetBytes(size / int64(len(evs)))
			b.ReportAllocs()
			defer startCPU(b)()
			for i := 0; i < b.N; i++ {
				if _, err := MarshalString(evs[i%len(evs)]); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(c.name+"/protojson", func(b *testing.B) {
			b.SetBytes(size / int64(len(evs)))
			b.ReportAllocs()
			defer startCPU(b)()
			for i := 0; i < b.N; i++ {
				if _, err := protoNames.Marshal(evs[i%len(evs)]); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
