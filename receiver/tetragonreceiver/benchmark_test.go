// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package tetragonreceiver

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cilium/tetragon/api/v1/tetragon"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/confmap/confmaptest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/receiver/receivertest"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/eventmap"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/testenv"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/tetragonjson"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/receiver/tetragonreceiver/internal/metadata"
)

// capturedLines returns the lines of a captured real-daemon export file.
func capturedLines(b testing.TB, name string) [][]byte {
	b.Helper()
	lines := testenv.ReadLines(b, filepath.Join(eventsDir(b), "captured", name))
	require.NotEmpty(b, lines)
	return lines
}

// BenchmarkFileLinePath is the per-event hot path of file mode: decode one
// export line, map it into the batch, flush every 512 records to a no-op
// consumer. One op is one event of the captured real-daemon export.
//
// The /lean variants decode with the field filters of testdata
// tetragon/export_lean (the shipped skip list) left out.
func BenchmarkFileLinePath(b *testing.B) {
	var lean []map[string]any
	for _, body := range []string{"map", "json", "none", "map/lean", "json/lean", "none/lean"} {
		b.Run("body="+body, func(b *testing.B) {
			lines := capturedLines(b, "main-export.jsonl.gz")
			cfg := createDefaultConfig().(*Config)
			mode, filtered := strings.CutSuffix(body, "/lean")
			cfg.Body = eventmap.BodyMode(mode)
			if filtered {
				if lean == nil {
					lean = leanFileFilters(b)
				}
				cfg.FieldFilters = lean
			}
			r, err := newReceiver(receivertest.NewNopSettings(metadata.Type), cfg, consumertest.NewNop())
			require.NoError(b, err)
			dec, err := r.fileDecoder()
			require.NoError(b, err)
			sink := &lineSink{b: r.newBatcher("file"), ev: &tetragon.GetEventsResponse{}, dec: dec}
			ctx := context.Background()
			var bytesIn int64
			b.ReportAllocs()
			report := testenv.StartCPU(b)
			for i := 0; i < b.N; i++ {
				line := lines[i%len(lines)]
				bytesIn += int64(len(line))
				sink.Line(line, "bench", 0)
				if sink.b.Full() {
					if err := sink.Flush(ctx); err != nil {
						b.Fatal(err)
					}
				}
			}
			_ = sink.Flush(ctx)
			report()
			b.SetBytes(bytesIn / int64(b.N))
		})
	}
}

// leanFileFilters are the field_filters of testdata tetragon/export_lean.
func leanFileFilters(b *testing.B) []map[string]any {
	cm, err := confmaptest.LoadConf(filepath.Join("testdata", "config.yaml"))
	require.NoError(b, err)
	sub, err := cm.Sub("tetragon/export_lean")
	require.NoError(b, err)
	cfg := createDefaultConfig().(*Config)
	require.NoError(b, sub.Unmarshal(cfg))
	require.NotEmpty(b, cfg.FieldFilters)
	return cfg.FieldFilters
}

// BenchmarkGRPCEventPath is the gRPC-mode hot path after gRPC decoded the
// message: map and batch, flush every 512 records to a no-op consumer. The
// cost is the mapping, above all the body: with body=map, one pdata value
// per field of the ~22 KB event (capability lists of every ancestor
// included), ~840 allocations.
func BenchmarkGRPCEventPath(b *testing.B) {
	lines := capturedLines(b, "main-grpc.jsonl.gz")
	events := make([]*tetragon.GetEventsResponse, 0, len(lines))
	for _, l := range lines {
		ev := &tetragon.GetEventsResponse{}
		if tetragonjson.DecodeJSON(l, ev) == nil {
			events = append(events, ev)
		}
	}
	require.NotEmpty(b, events)
	for _, body := range []eventmap.BodyMode{eventmap.BodyMap, eventmap.BodyJSON, eventmap.BodyNone} {
		b.Run("body="+string(body), func(b *testing.B) {
			cfg := createDefaultConfig().(*Config)
			cfg.Body = body
			r, err := newReceiver(receivertest.NewNopSettings(metadata.Type), cfg, consumertest.NewNop())
			require.NoError(b, err)
			bt := r.newBatcher("grpc")
			ctx := context.Background()
			b.ReportAllocs()
			report := testenv.StartCPU(b)
			for i := 0; i < b.N; i++ {
				_ = bt.Add(events[i%len(events)], nil, 1000, time.Now())
				if bt.Full() {
					if err := bt.Flush(ctx); err != nil {
						b.Fatal(err)
					}
				}
			}
			_ = bt.Flush(ctx)
			report()
		})
	}
}
