package eventmap

import (
	"testing"

	"github.com/cilium/tetragon/api/v1/tetragon"
)

// BenchmarkDecoderShippedSkipList decodes like BenchmarkDecodeJSON with the
// field_filters shipped in distribution/config.yaml ("full" is the same
// Decoder without filters).
//
//	go test -run '^$' -bench DecoderShippedSkipList -benchmem ./internal/eventmap/
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
				lines, avg := benchLines(b, c.pattern)
				var ev tetragon.GetEventsResponse
				b.SetBytes(avg)
				b.ReportAllocs()
				defer startCPU(b)()
				for i := 0; i < b.N; i++ {
					if err := dec.Decode(lines[i%len(lines)], &ev); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
