// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package eventmap

import (
	"testing"
	"time"

	"github.com/cilium/tetragon/api/v1/tetragon"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/synthevents"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/testenv"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/tetragonjson"
)

// Every benchmark op is one event: ns/op and allocs/op are per event. The
// codec's own benchmarks are in internal/tetragonjson.
//
//	go test -run '^$' -bench . -benchmem ./internal/eventmap/

var benchBodies = []BodyMode{BodyMap, BodyNone}

// flushEvery is the batch size of the map benchmarks (Flush cost included).
const flushEvery = 100

func BenchmarkMap(b *testing.B) {
	for _, c := range synthevents.LineCorpora {
		for _, body := range benchBodies {
			b.Run(c.Name+"/body="+string(body), func(b *testing.B) {
				lines, _ := testenv.CorpusData(b, c.Pattern)
				benchMap(b, synthevents.Decode(b, lines, tetragonjson.DecodeJSON), lines, body)
			})
		}
	}
}

func BenchmarkDecodeAndMap(b *testing.B) {
	for _, c := range synthevents.LineCorpora {
		for _, body := range benchBodies {
			b.Run(c.Name+"/body="+string(body), func(b *testing.B) {
				lines, avg := testenv.CorpusData(b, c.Pattern)
				batch := NewBatch(Options{Body: body})
				var ev tetragon.GetEventsResponse
				now := time.Now()
				b.SetBytes(avg)
				b.ReportAllocs()
				defer testenv.StartCPU(b)()
				for i := 0; i < b.N; i++ {
					line := lines[i%len(lines)]
					if err := tetragonjson.DecodeJSON(line, &ev); err != nil {
						b.Fatal(err)
					}
					if err := batch.Add(&ev, line, now); err != nil {
						b.Fatal(err)
					}
					if batch.Len() == flushEvery {
						batch.Flush()
					}
				}
			})
		}
	}
}

// benchMap adds the events to a batch with the body mode, one event per op,
// flushing every flushEvery. lines are the events' JSON lines, or nil for
// events that came without them (gRPC).
func benchMap(b *testing.B, evs []*tetragon.GetEventsResponse, lines [][]byte, body BodyMode) {
	batch := NewBatch(Options{Body: body})
	now := time.Now()
	b.ReportAllocs()
	defer testenv.StartCPU(b)()
	for i := 0; i < b.N; i++ {
		j := i % len(evs)
		var line []byte
		if lines != nil {
			line = lines[j]
		}
		if err := batch.Add(evs[j], line, now); err != nil {
			b.Fatal(err)
		}
		if batch.Len() == flushEvery {
			batch.Flush()
		}
	}
}
