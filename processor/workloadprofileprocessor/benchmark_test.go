// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package workloadprofileprocessor

import (
	"context"
	"testing"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/collector/processor/processortest"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/attrkey"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/corpusrec"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/processor/detectionprocessor"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/processor/workloadprofileprocessor/internal/metadata"
)

// benchProcessor returns a processor that learned rs and is enforcing.
func benchProcessor(b *testing.B, rs []rec) *profileProcessor {
	b.Helper()
	p, err := newProcessor(processortest.NewNopSettings(metadata.Type), testConfig())
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	if _, err := p.processLogs(ctx, logsOf(rs, 0)); err != nil {
		b.Fatal(err)
	}
	if _, err := p.processLogs(ctx, logsOf(rs, 2*time.Hour)); err != nil { // ends learning
		b.Fatal(err)
	}
	return p
}

// BenchmarkProcessLogs measures the processor over the captured corpus
// (captured/main-export.jsonl.gz, real records of the receiver's mapping),
// one ConsumeLogs per corpus pass. The same batch is processed again and
// again, so after the first pass the profile attributes exist and are
// overwritten: what is left is the per-record cost of finding the workload,
// observing the record and writing the marks. ns/record is the figure to
// compare; allocs/op is per pass.
func BenchmarkProcessLogs(b *testing.B) {
	all := corpusrec.Load(b, "captured/main-export.jsonl.gz")
	benign := corpusrec.OfContainer(all, corpusrec.Benign, corpusrec.Benign)
	var host []rec
	for _, r := range all {
		if _, ok := r.Res.Get(attrkey.ContainerID); !ok {
			host = append(host, r)
		}
	}
	attack := corpusrec.OfContainer(corpusrec.Load(b, "syscalls/export.jsonl.gz"), corpusrec.Attack, corpusrec.Benign)
	cases := []struct {
		name    string
		learned []rec
		replay  []rec
	}{
		// Every item known to the enforcing profile: no allocation.
		{"container_known_enforcing", benign, benign},
		// The whole capture (host processes pass untouched; containers learned).
		{"capture_all", all, all},
		{"host_only", all, host},
		// The attack run against the benign profile: most records novel.
		{"container_novel_enforcing", benign, attack},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			p := benchProcessor(b, c.learned)
			ld := logsOf(c.replay, 2*time.Hour)
			n := ld.LogRecordCount()
			ctx := context.Background()
			if _, err := p.processLogs(ctx, ld); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if _, err := p.processLogs(ctx, ld); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/record")
		})
	}
}

// BenchmarkOverheadOverDetection compares detection (built-in catalogue)
// alone with workload_profile → detection on the whole capture, both built
// by their factories: the processor's share of the per-record CPU.
func BenchmarkOverheadOverDetection(b *testing.B) {
	all := corpusrec.Load(b, "captured/main-export.jsonl.gz")
	ctx := context.Background()
	newDetection := func(next consumer.Logs) processor.Logs {
		f := detectionprocessor.NewFactory()
		d, err := f.CreateLogs(ctx, processortest.NewNopSettings(component.MustNewType("detection")), f.CreateDefaultConfig(), next)
		if err != nil {
			b.Fatal(err)
		}
		return d
	}
	for _, withProfile := range []bool{false, true} {
		name := "detection_only"
		if withProfile {
			name = "workload_profile+detection"
		}
		b.Run(name, func(b *testing.B) {
			var head consumer.Logs = newDetection(consumertest.NewNop())
			if withProfile {
				wp, err := NewFactory().CreateLogs(ctx, processortest.NewNopSettings(metadata.Type), testConfig(), head)
				if err != nil {
					b.Fatal(err)
				}
				head = wp
				if err := head.ConsumeLogs(ctx, logsOf(all, 0)); err != nil { // learn
					b.Fatal(err)
				}
			}
			// The same batch again and again, as the detection processor's own
			// benchmark does: both processors' attribute writes overwrite.
			ld := logsOf(all, 2*time.Hour)
			n := ld.LogRecordCount()
			if err := head.ConsumeLogs(ctx, ld); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if err := head.ConsumeLogs(ctx, ld); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/record")
		})
	}
}
