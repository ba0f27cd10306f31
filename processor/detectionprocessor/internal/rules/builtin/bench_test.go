// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package builtin_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/cilium/tetragon/api/v1/tetragon"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/testenv"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/processor/detectionprocessor/internal/rules"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/testbed/tetragonsim"
)

// benchCatalogue evaluates the whole catalogue on recs, one record per op.
func benchCatalogue(b *testing.B, recs []record) {
	rs := builtin(b)
	ctx := context.Background()
	var dst []*rules.Rule
	hits := 0
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r := recs[i%len(recs)]
		dst = rs.EvaluateRecord(ctx, r.rl, r.sl, r.lr, dst[:0], nil)
		hits += len(dst)
	}
	b.StopTimer()
	b.ReportMetric(float64(hits)/float64(b.N), "hits/op")
}

// Genuine Tetragon output: process_exec/exit bursts and tracepoints.
func BenchmarkCatalogueCaptured(b *testing.B) {
	lines := testenv.ReadLines(b, filepath.Join(testenv.EventsDir(b), "captured", "main-export.jsonl.gz"))
	benchCatalogue(b, mapLines(b, lines, len(lines)))
}

// The docs' and testdata's real events (small, with pods).
func BenchmarkCatalogueReal(b *testing.B) {
	files, err := filepath.Glob(filepath.Join(testenv.EventsDir(b), "real", "*.jsonl"))
	if err != nil || len(files) == 0 {
		b.Fatalf("no real corpus: %v", err)
	}
	var lines [][]byte
	for _, f := range files {
		for _, l := range testenv.ReadLines(b, f) {
			var ev tetragon.GetEventsResponse
			if protojson.Unmarshal(l, &ev) == nil && ev.GetEvent() != nil {
				lines = append(lines, l)
			}
		}
	}
	benchCatalogue(b, mapLines(b, lines, len(lines)))
}

// The simulator's attack scenario: a high share of hook events and matches.
func BenchmarkCatalogueAttackScenario(b *testing.B) {
	clock := time.Date(2026, 11, 26, 17, 0, 0, 0, time.UTC)
	g, err := tetragonsim.NewGenerator(tetragonsim.GeneratorConfig{Scenario: "attack", Seed: 7, Clock: func() time.Time { clock = clock.Add(time.Millisecond); return clock }})
	if err != nil {
		b.Fatal(err)
	}
	lines := make([][]byte, 1000)
	for i := range lines {
		if lines[i], err = (protojson.MarshalOptions{UseProtoNames: true}).Marshal(g.Next()); err != nil {
			b.Fatal(err)
		}
	}
	benchCatalogue(b, mapLines(b, lines, len(lines)))
}

// Each rule alone (the others disabled), to find the expensive ones.
func BenchmarkCataloguePerRule(b *testing.B) {
	lines := testenv.ReadLines(b, filepath.Join(testenv.EventsDir(b), "captured", "main-export.jsonl.gz"))
	recs := mapLines(b, lines, len(lines))
	all := builtin(b).Names()
	for _, name := range all {
		var dis []string
		for _, n := range all {
			if n != name {
				dis = append(dis, n)
			}
		}
		rs, err := rules.Load(rules.Options{Builtin: true, Disabled: dis})
		if err != nil {
			b.Fatal(err)
		}
		b.Run(name, func(b *testing.B) {
			ctx := context.Background()
			var dst []*rules.Rule
			for i := 0; i < b.N; i++ {
				r := recs[i%len(recs)]
				dst = rs.EvaluateRecord(ctx, r.rl, r.sl, r.lr, dst[:0], nil)
			}
		})
	}
}
