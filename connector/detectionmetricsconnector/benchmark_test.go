// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package detectionmetricsconnector

import (
	"context"
	"fmt"
	"testing"

	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/plog"
)

// benchLogs is a batch of records over already-known series: 8 workloads,
// 3 event types, one record in four matching one or two rules.
func benchLogs(records int) plog.Logs {
	ld := plog.NewLogs()
	events := []string{"tetragon.process_exec", "tetragon.process_exit", "tetragon.process_kprobe"}
	perResource := records / 8
	for w := range 8 {
		var recs []rec
		for i := range perResource {
			r := rec{event: events[i%len(events)]}
			switch i % 8 {
			case 0:
				r.rules, r.severity, r.category = []string{"terminal_shell_in_container"}, "warning", "execution"
			case 4:
				r.rules, r.severity, r.category = []string{"reverse_shell", "network_recon_tool"}, "critical", "execution"
				r.severities, r.categories = []string{"critical", "warning"}, []string{"execution", "discovery"}
			}
			recs = append(recs, r)
		}
		addResource(ld, res{namespace: "ns", workload: fmt.Sprintf("workload-%d", w), node: "node-a", pod: "p", containerID: "c"}, recs...)
	}
	return ld
}

// BenchmarkConsumeLogsKnownSeries reports the per-record cost once every
// series exists (the steady state): ns/record and allocs/record.
func BenchmarkConsumeLogsKnownSeries(b *testing.B) {
	const records = 1024
	c, _, _ := newTestConnector(b, createDefaultConfig(), nil)
	ld := benchLogs(records)
	ctx := context.Background()
	if err := c.ConsumeLogs(ctx, ld); err != nil { // create the series
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if err := c.ConsumeLogs(ctx, ld); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*records), "ns/record")
	allocs := testing.AllocsPerRun(10, func() { _ = c.ConsumeLogs(ctx, ld) })
	b.ReportMetric(allocs/records, "allocs/record")
}

// BenchmarkFlush reports the cost of one flush of 10000 event series and
// 10000 detection series, the default caps.
func BenchmarkFlush(b *testing.B) {
	c, _, _ := newTestConnector(b, createDefaultConfig(), nil)
	ld := plog.NewLogs()
	for i := range 10000 {
		addResource(ld, res{namespace: "ns", workload: fmt.Sprintf("w%d", i), node: "n"},
			rec{event: "tetragon.process_exec", rules: []string{"reverse_shell"}, severity: "critical"})
	}
	ctx := context.Background()
	if err := c.ConsumeLogs(ctx, ld); err != nil {
		b.Fatal(err)
	}
	c.next = consumertest.NewNop()
	b.ReportAllocs()
	for b.Loop() {
		if err := c.flush(ctx); err != nil {
			b.Fatal(err)
		}
	}
}
