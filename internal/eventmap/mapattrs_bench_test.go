package eventmap

import (
	"testing"
	"time"
)

// BenchmarkMapAttributes is the record and attribute mapping alone (no body)
// on the captured events with the shipped field filters, as they arrive over
// gRPC.
//
//	go test -run '^$' -bench 'MapAttributes' -benchmem ./internal/eventmap/
func BenchmarkMapAttributes(b *testing.B) {
	evs := encodeBenchEvents(b, "captured/main-export.jsonl.gz", true)
	batch := NewBatch(Options{Body: BodyNone})
	now := time.Now()
	b.ReportAllocs()
	defer startCPU(b)()
	for i := 0; i < b.N; i++ {
		if err := batch.Add(evs[i%len(evs)], nil, now); err != nil {
			b.Fatal(err)
		}
		if batch.Len() == flushEvery {
			batch.Flush()
		}
	}
}
