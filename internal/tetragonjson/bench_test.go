// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package tetragonjson

import (
	"syscall"
	"testing"

	"github.com/cilium/tetragon/api/v1/tetragon"
	"google.golang.org/protobuf/proto"
)

// Every benchmark op is one event: ns/op and allocs/op are per event.
//
//	go test -run '^$' -bench . -benchmem ./internal/tetragonjson/

var benchCorpora = []struct{ name, pattern string }{
	{"real", "real/*.jsonl"},
	{"captured", "captured/main-export.jsonl.gz"},
}

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
		if err := DecodeJSON(l, evs[i]); err != nil {
			b.Fatal(err)
		}
	}
	return evs
}

func BenchmarkDecodeJSON(b *testing.B) {
	for _, c := range benchCorpora {
		b.Run(c.name, func(b *testing.B) { benchDecodeLines(b, c.pattern, DecodeJSON) })
	}
}

// benchDecodeLines decodes the corpus's lines with decode, one line per op.
func benchDecodeLines(b *testing.B, pattern string, decode func([]byte, *tetragon.GetEventsResponse) error) {
	lines, avg := benchLines(b, pattern)
	var ev tetragon.GetEventsResponse
	b.SetBytes(avg)
	b.ReportAllocs()
	defer startCPU(b)()
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
	for _, c := range benchCorpora {
		b.Run(c.name, func(b *testing.B) { benchDecodeLines(b, c.pattern, unmarshal) })
	}
}

func BenchmarkProtoUnmarshal(b *testing.B) {
	for _, c := range benchCorpora {
		b.Run(c.name, func(b *testing.B) {
			lines, _ := benchLines(b, c.pattern)
			var bins [][]byte
			var size int64
			for _, ev := range benchEvents(b, lines) {
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
			defer startCPU(b)()
			for i := 0; i < b.N; i++ {
				ev.Reset()
				if err := proto.Unmarshal(bins[i%len(bins)], &ev); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
