// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package tetragonjson

import (
	"testing"

	"github.com/cilium/tetragon/api/v1/tetragon"
	"google.golang.org/protobuf/proto"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/synthevents"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/testenv"
)

// Every benchmark op is one event: ns/op and allocs/op are per event. The
// mapping's benchmarks are in internal/eventmap.
//
//	go test -run '^$' -bench . -benchmem ./internal/tetragonjson/

func BenchmarkDecodeJSON(b *testing.B) {
	for _, c := range synthevents.LineCorpora {
		b.Run(c.Name, func(b *testing.B) { benchDecodeLines(b, c.Pattern, DecodeJSON) })
	}
}

// benchDecodeLines decodes the corpus's lines with decode, one line per op.
func benchDecodeLines(b *testing.B, pattern string, decode func([]byte, *tetragon.GetEventsResponse) error) {
	lines, avg := testenv.CorpusData(b, pattern)
	var ev tetragon.GetEventsResponse
	b.SetBytes(avg)
	b.ReportAllocs()
	defer testenv.StartCPU(b)()
	for i := 0; i < b.N; i++ {
		if err := decode(lines[i%len(lines)], &ev); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodeProtojson is the reference DecodeJSON replaces:
// protojson.Unmarshal with DiscardUnknown.
func BenchmarkDecodeProtojson(b *testing.B) {
	unmarshal := func(line []byte, ev *tetragon.GetEventsResponse) error { return jsonDecoder.Unmarshal(line, ev) }
	for _, c := range synthevents.LineCorpora {
		b.Run(c.Name, func(b *testing.B) { benchDecodeLines(b, c.Pattern, unmarshal) })
	}
}

func BenchmarkProtoUnmarshal(b *testing.B) {
	for _, c := range synthevents.LineCorpora {
		b.Run(c.Name, func(b *testing.B) {
			lines, _ := testenv.CorpusData(b, c.Pattern)
			var bins [][]byte
			var size int64
			for _, ev := range synthevents.Decode(b, lines, DecodeJSON) {
				bin, err := proto.Marshal(ev)
				if err != nil {
					b.Fatal(err)
				}
				bins = append(bins, bin)
				size += int64(len(bin))
			}
			var ev tetragon.GetEventsResponse
			b.SetBytes(size / int64(len(bins)))
			b.ReportAllocs()
			defer testenv.StartCPU(b)()
			for i := 0; i < b.N; i++ {
				ev.Reset()
				if err := proto.Unmarshal(bins[i%len(bins)], &ev); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
