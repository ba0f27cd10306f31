// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package tetragonjson

import (
	"testing"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/synthevents"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/testenv"
)

// The encoder on events that arrive without their JSON line (gRPC), on the
// corpora internal/eventmap's BenchmarkMapGRPC maps: synthevents.GRPCCorpora.
//
//	go test -run '^$' -bench MarshalJSON -benchmem ./internal/tetragonjson/

// BenchmarkMarshalJSON compares the generated encoder with protojson. SetBytes
// is the encoder's output size.
func BenchmarkMarshalJSON(b *testing.B) {
	for _, c := range synthevents.GRPCCorpora {
		evs := c.Events(b, DecodeJSON)
		var size int64
		for _, ev := range evs {
			out, err := MarshalString(ev)
			if err != nil {
				b.Fatal(err)
			}
			size += int64(len(out))
		}
		b.Run(c.Name+"/encoder", func(b *testing.B) {
			b.SetBytes(size / int64(len(evs)))
			b.ReportAllocs()
			defer testenv.StartCPU(b)()
			for i := 0; i < b.N; i++ {
				if _, err := MarshalString(evs[i%len(evs)]); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(c.Name+"/protojson", func(b *testing.B) {
			b.SetBytes(size / int64(len(evs)))
			b.ReportAllocs()
			defer testenv.StartCPU(b)()
			for i := 0; i < b.N; i++ {
				if _, err := protoNames.Marshal(evs[i%len(evs)]); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
