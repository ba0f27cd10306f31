// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package tetragonjson

import (
	"testing"

	"github.com/cilium/tetragon/api/v1/tetragon"
)

// BenchmarkDecoderShippedSkipList decodes like BenchmarkDecodeJSON with the
// field_filters shipped in distribution/config.yaml ("full" is the same
// Decoder without filters).
//
//	go test -run '^$' -bench DecoderShippedSkipList -benchmem ./internal/tetragonjson/
func BenchmarkDecoderShippedSkipList(b *testing.B) {
	for _, c := range benchCorpora {
		for _, v := range []struct {
			name    string
			filters []*tetragon.FieldFilter
		}{{"full", nil}, {"skip", shippedSkipList()}} {
			b.Run(c.name+"/"+v.name, func(b *testing.B) {
				dec, err := NewDecoder(v.filters)
				if err != nil {
					b.Fatal(err)
				}
				benchDecodeLines(b, c.pattern, dec.Decode)
			})
		}
	}
}

// BenchmarkSkipScanner scans whole captured lines as skipped values: the
// recursive skip used for unknown fields against skipValue.
func BenchmarkSkipScanner(b *testing.B) {
	lines, avg := benchLines(b, "captured/main-export.jsonl.gz")
	for _, v := range []struct {
		name string
		scan func(d *decoder) error
	}{{"skip", func(d *decoder) error { return d.skip(0) }}, {"skipValue", (*decoder).skipValue}} {
		b.Run(v.name, func(b *testing.B) {
			d := new(decoder)
			b.SetBytes(avg)
			defer startCPU(b)()
			for i := 0; i < b.N; i++ {
				d.buf, d.pos = lines[i%len(lines)], 0
				if err := v.scan(d); err != nil || d.pos != len(d.buf) {
					b.Fatal(err)
				}
			}
		})
	}
}
