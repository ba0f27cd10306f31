// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package tetragonjson

import (
	"testing"

	"github.com/cilium/tetragon/api/v1/tetragon"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/synthevents"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/testenv"
)

// BenchmarkDecoderShippedSkipList decodes like BenchmarkDecodeJSON with the
// field_filters shipped in distribution/config.yaml ("full" is the same
// Decoder without filters).
//
//	go test -run '^$' -bench DecoderShippedSkipList -benchmem ./internal/tetragonjson/
func BenchmarkDecoderShippedSkipList(b *testing.B) {
	for _, c := range synthevents.LineCorpora {
		for _, v := range []struct {
			name    string
			filters []*tetragon.FieldFilter
		}{{"full", nil}, {"skip", []*tetragon.FieldFilter{synthevents.ShippedFieldFilter()}}} {
			b.Run(c.Name+"/"+v.name, func(b *testing.B) {
				dec, err := NewDecoder(v.filters)
				if err != nil {
					b.Fatal(err)
				}
				benchDecodeLines(b, c.Pattern, dec.Decode)
			})
		}
	}
}

// BenchmarkSkipScanner scans whole captured lines as skipped values: the
// recursive skip used for unknown fields against skipValue.
func BenchmarkSkipScanner(b *testing.B) {
	lines, avg := testenv.CorpusData(b, "captured/main-export.jsonl.gz")
	for _, v := range []struct {
		name string
		scan func(d *decoder) error
	}{{"skip", func(d *decoder) error { return d.skip(0) }}, {"skipValue", (*decoder).skipValue}} {
		b.Run(v.name, func(b *testing.B) {
			d := new(decoder)
			b.SetBytes(avg)
			defer testenv.StartCPU(b)()
			for i := 0; i < b.N; i++ {
				d.buf, d.pos = lines[i%len(lines)], 0
				if err := v.scan(d); err != nil || d.pos != len(d.buf) {
					b.Fatal(err)
				}
			}
		})
	}
}
