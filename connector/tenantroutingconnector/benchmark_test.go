// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package tenantroutingconnector

import (
	"context"
	"fmt"
	"testing"

	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/plog"
)

// benchLogs is a receiver-sized batch: 192 records over 16 pods.
func benchLogs(namespaces func(i int) string) plog.Logs {
	ld := plog.NewLogs()
	for i := range 16 {
		rl := ld.ResourceLogs().AppendEmpty()
		if ns := namespaces(i); ns != noNS {
			rl.Resource().Attributes().PutStr("k8s.namespace.name", ns)
		}
		rl.Resource().Attributes().PutStr("k8s.pod.name", fmt.Sprintf("pod-%d", i))
		sl := rl.ScopeLogs().AppendEmpty()
		for range 12 {
			lr := sl.LogRecords().AppendEmpty()
			lr.Body().SetStr(`{"process_exec":{"process":{"binary":"/usr/bin/curl","arguments":"-s https://example.com"}}}`)
			lr.Attributes().PutStr("process.executable.path", "/usr/bin/curl")
		}
	}
	return ld
}

func BenchmarkConsumeLogs(b *testing.B) {
	for _, bc := range []struct {
		name string
		ns   func(i int) string
	}{
		{"one_tenant", func(i int) string { return fmt.Sprintf("shop-%d", i%4) }},
		{"three_tenants", func(i int) string {
			return []string{"shop", "shop-eu", "billing", "monitoring", noNS}[i%5]
		}},
	} {
		for _, attr := range []string{DefaultAttribute, ""} {
			b.Run(fmt.Sprintf("%s/attribute=%q", bc.name, attr), func(b *testing.B) {
				cfg := testConfig()
				cfg.Attribute = attr
				f := newFixture(&testing.T{}, cfg, nil)
				for i := range f.r.consumers {
					f.r.consumers[i] = consumertest.NewNop()
				}
				// The connector takes mutable batches apart: fresh ones, made 64 at a time
				// outside the timer so that they stay in cache as a receiver's would.
				batches := make([]plog.Logs, 64)
				b.ReportAllocs()
				b.ResetTimer()
				if attr == "" {
					// Not mutating: the input is left as it is, one batch does.
					batches = batches[:1]
					batches[0] = benchLogs(bc.ns)
				}
				for i := range b.N {
					if attr != "" && i%len(batches) == 0 {
						b.StopTimer()
						for j := range batches {
							batches[j] = benchLogs(bc.ns)
						}
						b.StartTimer()
					}
					_ = f.conn.ConsumeLogs(context.Background(), batches[i%len(batches)])
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*192), "ns/record")
			})
		}
	}
}

// BenchmarkCloneBatch is what a collector fan-out's copy of a batch costs (plog.Logs.CopyTo), for
// a batch shaped like the receiver's: 192 records over 16 resources of 12 attributes, each record
// with a 2.5 KB body and 20 attributes. A connector that declares it mutates data is given such a
// copy whenever another consumer of the same fan-out reads the batch (README, "Copies").
func BenchmarkCloneBatch(b *testing.B) {
	ld := plog.NewLogs()
	body := string(make([]byte, 2500))
	for i := range 16 {
		rl := ld.ResourceLogs().AppendEmpty()
		for k := range 12 {
			rl.Resource().Attributes().PutStr(fmt.Sprintf("resource.attribute.%d", k), fmt.Sprintf("value-%d", i))
		}
		sl := rl.ScopeLogs().AppendEmpty()
		for range 12 {
			lr := sl.LogRecords().AppendEmpty()
			lr.Body().SetStr(body)
			for k := range 20 {
				lr.Attributes().PutStr(fmt.Sprintf("record.attribute.%d", k), "a value")
			}
		}
	}
	b.ReportAllocs()
	for range b.N {
		c := plog.NewLogs()
		ld.CopyTo(c)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*192), "ns/record")
}
