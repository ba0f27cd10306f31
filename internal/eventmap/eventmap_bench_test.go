// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package eventmap

import (
	"syscall"
	"testing"
	"time"

	"github.com/cilium/tetragon/api/v1/tetragon"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/tetragonjson"
)

// Every benchmark op is one event: ns/op and allocs/op are per event.
//
//	go test -run '^$' -bench . -benchmem ./internal/eventmap/

var benchCorpora = []struct{ name, pattern string }{
	{"real", "real/*.jsonl"},
	{"captured", "captured/main-export.jsonl.gz"},
}

var benchBodies = []BodyMode{BodyMap, BodyNone}

// flushEvery is the batch size of the map benchmarks (Flush cost included).
const flushEvery = 100

// startCPU resets the timer and returns a func reporting cpu-ns/op: the
// process's CPU time (GC workers included) per op. On a machine shared with
// other builds it is steadier than wall time.
func startCPU(b *testing.B) func() {
	b.ResetTimer()
	start := cpuNanos()
	return func() {
		b.StopTimer()
		b.ReportMetric(float64(cpuNanos()-start)/float64(b.N), "cpu-ns/op")
	}
}

func cpuNanos() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

func benchLines(b *testing.B, pattern string) ([][]byte, int64) {
	b.Helper()
	var out [][]byte
	var size int64
	for _, l := range readCorpus(b, pattern) {
		out = append(out, l.data)
		size += int64(len(l.data))
	}
	return out, size / int64(len(out))
}

func benchEvents(b *testing.B, lines [][]byte) []*tetragon.GetEventsResponse {
	b.Helper()
	evs := make([]*tetragon.GetEventsResponse, len(lines))
	for i, l := range lines {
		evs[i] = new(tetragon.GetEventsResponse)
		if err := tetragonjson.DecodeJSON(l, evs[i]); err != nil {
			b.Fatal(err)
		}
	}
	return evs
}

func BenchmarkMap(b *testing.B) {
	for _, c := range benchCorpora {
		for _, body := range benchBodies {
			b.Run(c.name+"/body="+string(body), func(b *testing.B) {
				lines, _ := benchLines(b, c.pattern)
				evs := benchEvents(b, lines)
				batch := NewBatch(Options{Body: body})
				now := time.Now()
				b.ReportAllocs()
				defer startCPU(b)()
				for i := 0; i < b.N; i++ {
					j := i % len(evs)
					if err := batch.Add(evs[j], lines[j], now); err != nil {
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

func BenchmarkDecodeAndMap(b *testing.B) {
	for _, c := range benchCorpora {
		for _, body := range benchBodies {
			b.Run(c.name+"/body="+string(body), func(b *testing.B) {
				lines, avg := benchLines(b, c.pattern)
				batch := NewBatch(Options{Body: body})
				var ev tetragon.GetEventsResponse
				now := time.Now()
				b.SetBytes(avg)
				b.ReportAllocs()
				defer startCPU(b)()
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
