// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package tetragonsim

import (
	"context"
	"io"
	"path/filepath"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// benchServe serves b.N events of cfg to one client over a unix socket and reports events/s.
// The client counts the frames without decoding them, so the number is the server's.
func benchServe(b *testing.B, cfg Config) {
	cfg.Listen = "unix://" + filepath.Join(shortTempDir(b), "tetragon.sock")
	cfg.Count = uint64(b.N)
	cfg.WaitClient = true
	cfg.Log = io.Discard
	sim, err := New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	conn, err := grpc.NewClient(cfg.Listen, grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithInitialWindowSize(8<<20), grpc.WithInitialConnWindowSize(32<<20), grpc.WithReadBufferSize(512<<10))
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	type result struct {
		n, bytes int
		err      error
	}
	res := make(chan result, 1)
	go func() {
		n, bytes, err := countRaw(context.Background(), conn)
		res <- result{n, bytes, err}
	}()
	b.ReportAllocs()
	b.ResetTimer()
	st, err := sim.Run(context.Background())
	r := <-res
	b.StopTimer()
	if err != nil || r.err != nil {
		b.Fatal(err, r.err)
	}
	if r.n != b.N || st.Sent != uint64(b.N) {
		b.Fatalf("client got %d, sent %d, want %d", r.n, st.Sent, b.N)
	}
	secs := b.Elapsed().Seconds()
	b.ReportMetric(float64(r.n)/secs, "events/s")
	b.ReportMetric(float64(r.bytes)/secs/1e6, "MB/s")
}

// BenchmarkServeCaptured replays the captured real-daemon events in a loop at --rate 0.
func BenchmarkServeCaptured(b *testing.B) {
	benchServe(b, Config{ReplayFiles: []string{filepath.Join(eventsDir(b), "captured", "main-grpc.jsonl.gz")}, Loop: true})
}

// BenchmarkServeCapturedRestamped is the same with --restamp (timestamps rewritten per event).
func BenchmarkServeCapturedRestamped(b *testing.B) {
	benchServe(b, Config{ReplayFiles: []string{filepath.Join(eventsDir(b), "captured", "main-grpc.jsonl.gz")}, Loop: true, Restamp: true})
}

// BenchmarkServeGenerated serves the demo generator's events.
func BenchmarkServeGenerated(b *testing.B) {
	benchServe(b, Config{Generate: true})
}

// BenchmarkGeneratorNext is the cost of building and encoding one generated event.
func BenchmarkGeneratorNext(b *testing.B) {
	g, err := NewGenerator(GeneratorConfig{Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := NewFrame(g.Next(), false); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRestampRender is the cost of rewriting the timestamps of one captured event.
func BenchmarkRestampRender(b *testing.B) {
	r, err := LoadReplay([]string{filepath.Join(eventsDir(b), "captured", "main-grpc.jsonl.gz")}, ReplayOptions{Restamp: true})
	if err != nil {
		b.Fatal(err)
	}
	rs := &restamper{sendTime: true, maxGap: DefaultRestampMaxGap, clock: time.Now}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		rs.apply(r.Frames[i%len(r.Frames)])
		i++
	}
}
