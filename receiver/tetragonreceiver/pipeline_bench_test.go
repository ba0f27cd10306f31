// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package tetragonreceiver

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/cilium/tetragon/api/v1/tetragon"
	"github.com/klauspost/compress/gzip"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/confmap/confmaptest"
	"go.opentelemetry.io/collector/connector/connectortest"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/collector/processor/processortest"
	"go.opentelemetry.io/collector/receiver/receivertest"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/connector/detectionmetricsconnector"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/eventmap"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/testenv"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/tetragonjson"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/tetragonwire"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/processor/detectionprocessor"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/receiver/tetragonreceiver/internal/metadata"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/receiver/tetragonreceiver/internal/tetragonfilter"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/testbed/tetragonsim"
)

// pipelineCorpus is a set of events as both Tetragon wire encodings.
type pipelineCorpus struct {
	lines [][]byte // JSON export lines
	bins  [][]byte // the same events as gRPC message bytes
	// whole are the export lines before field filters (captured-lean): what file mode reads when
	// the receiver, not Tetragon, applies them.
	whole [][]byte
	dec   *tetragonjson.Decoder // the receiver's field-filtering decoder for whole
}

func loadPipelineCorpus(b *testing.B, name string) pipelineCorpus {
	b.Helper()
	var lines [][]byte
	switch name {
	case "captured", "captured-lean":
		lines = capturedLines(b, "main-grpc.jsonl.gz")
	case "real":
		files, err := filepath.Glob(filepath.Join(eventsDir(b), "real", "*.jsonl"))
		require.NoError(b, err)
		require.NotEmpty(b, files)
		for _, f := range files {
			data, err := os.ReadFile(f)
			require.NoError(b, err)
			for _, l := range bytes.Split(data, []byte("\n")) {
				if len(bytes.TrimSpace(l)) > 0 {
					lines = append(lines, l)
				}
			}
		}
	}
	var filters tetragonsim.FieldFilters
	if name == "captured-lean" {
		filters = leanFilters(b)
	}
	var c pipelineCorpus
	for _, l := range lines {
		orig := l
		var ev tetragon.GetEventsResponse
		if tetragonjson.DecodeJSON(l, &ev) != nil {
			continue // legacy event types in the book file
		}
		if filters != nil {
			filters.Apply(&ev)
			var err error
			l, err = protojson.MarshalOptions{UseProtoNames: true}.Marshal(&ev)
			require.NoError(b, err)
		}
		bin, err := proto.Marshal(&ev)
		require.NoError(b, err)
		c.lines = append(c.lines, l)
		c.bins = append(c.bins, bin)
		c.whole = append(c.whole, orig)
	}
	require.NotEmpty(b, c.lines)
	if filters != nil {
		ff, err := tetragonfilter.FieldFilters(leanConfig(b).FieldFilters)
		require.NoError(b, err)
		c.dec, err = tetragonjson.NewDecoder(ff)
		require.NoError(b, err)
	}
	return c
}

// leanFilters are the field filters of the tetragon/lean example (README,
// "Asking Tetragon for less"), applied as Tetragon applies them.
func leanFilters(b *testing.B) tetragonsim.FieldFilters {
	cfg := leanConfig(b)
	req, err := (&tetragonReceiver{cfg: cfg}).eventsRequest()
	require.NoError(b, err)
	filters, err := tetragonsim.CompileFieldFilters(req)
	require.NoError(b, err)
	return filters
}

// leanConfig is the tetragon/lean example of testdata/config.yaml.
func leanConfig(b *testing.B) *Config {
	cm, err := confmaptest.LoadConf(filepath.Join("testdata", "config.yaml"))
	require.NoError(b, err)
	sub, err := cm.Sub("tetragon/lean")
	require.NoError(b, err)
	cfg := createDefaultConfig().(*Config)
	require.NoError(b, sub.Unmarshal(cfg))
	return cfg
}

// exportSink encodes each batch as the otlp_http exporter sends it: an
// ExportLogsServiceRequest in protobuf, gzip-compressed at level 1 with
// klauspost/compress (the gzip_middleware extension, as distribution/config.yaml
// ships it).
type exportSink struct {
	gz    *gzip.Writer
	bytes int64
}

func (e *exportSink) ConsumeLogs(_ context.Context, ld plog.Logs) error {
	data, err := plogotlp.NewExportRequestFromLogs(ld).MarshalProto()
	if err != nil {
		return err
	}
	e.bytes += int64(len(data))
	e.gz.Reset(io.Discard)
	if _, err := e.gz.Write(data); err != nil {
		return err
	}
	return e.gz.Close()
}

// BenchmarkPipeline is the collector's per-event cost from Tetragon's bytes
// to the exporter's request body, one op = one event: decode (gRPC: the
// tetragonwire codec the receiver uses, a copy of the message and the generated decoder;
// file: DecodeJSON of the export line) → receiver mapping and batching (192,
// as shipped) → detection processor (built-in catalogue) → detection_metrics
// connector and the otlp_http encoding (protobuf + gzip_middleware's gzip level 1). The
// decode_only cases are the floor: proto.Unmarshal alone. captured-lean is
// the captured corpus with the field filters of the tetragon/lean example
// applied, as Tetragon would send it; its file-filtered mode reads the whole
// lines and lets the receiver apply the filters (the export-file deployment).
//
//	go test -run '^$' -bench Pipeline -benchmem ./receiver/tetragonreceiver/
func BenchmarkPipeline(b *testing.B) {
	for _, corpus := range []string{"captured", "captured-lean", "real"} {
		c := loadPipelineCorpus(b, corpus)
		b.Run(corpus+"/grpc/decode_only", func(b *testing.B) {
			b.ReportAllocs()
			report := testenv.StartCPU(b)
			for i := 0; i < b.N; i++ {
				ev := new(tetragon.GetEventsResponse)
				if err := proto.Unmarshal(c.bins[i%len(c.bins)], ev); err != nil {
					b.Fatal(err)
				}
			}
			report()
		})
		modes := []string{"grpc", "file"}
		if c.dec != nil {
			modes = append(modes, "file-filtered")
		}
		for _, mode := range modes {
			for _, body := range []eventmap.BodyMode{eventmap.BodyMap, eventmap.BodyJSON, eventmap.BodyNone} {
				b.Run(corpus+"/"+mode+"/body="+string(body), func(b *testing.B) {
					benchPipeline(b, c, mode, body)
				})
			}
		}
	}
}

func benchPipeline(b *testing.B, c pipelineCorpus, mode string, body eventmap.BodyMode) {
	ctx := context.Background()
	gz, err := gzip.NewWriterLevel(io.Discard, gzip.BestSpeed)
	require.NoError(b, err)
	export := &exportSink{gz: gz}
	conn, err := detectionmetricsconnector.NewFactory().CreateLogsToMetrics(ctx,
		connectortest.NewNopSettings(detectionmetricsconnector.NewFactory().Type()),
		detectionmetricsconnector.NewFactory().CreateDefaultConfig(), consumertest.NewNop())
	require.NoError(b, err)
	require.NoError(b, conn.Start(ctx, componenttest.NewNopHost()))
	defer func() { require.NoError(b, conn.Shutdown(ctx)) }()
	fanout, err := consumer.NewLogs(func(ctx context.Context, ld plog.Logs) error {
		if err := conn.ConsumeLogs(ctx, ld); err != nil {
			return err
		}
		return export.ConsumeLogs(ctx, ld)
	})
	require.NoError(b, err)
	pf := detectionprocessor.NewFactory()
	proc, err := pf.CreateLogs(ctx, processortest.NewNopSettings(pf.Type()), pf.CreateDefaultConfig(), fanout)
	require.NoError(b, err)
	require.NoError(b, proc.Start(ctx, componenttest.NewNopHost()))
	defer func() { require.NoError(b, proc.Shutdown(ctx)) }()

	cfg := createDefaultConfig().(*Config)
	cfg.Body = body
	cfg.Batch.MaxSize = 192
	r, err := newReceiver(receivertest.NewNopSettings(metadata.Type), cfg, proc)
	require.NoError(b, err)
	bt := r.newBatcher(mode)
	fileEv := new(tetragon.GetEventsResponse)

	b.ReportAllocs()
	report := testenv.StartCPU(b)
	for i := 0; i < b.N; i++ {
		j := i % len(c.lines)
		now := time.Now()
		switch mode {
		case "grpc":
			ev := new(tetragon.GetEventsResponse)
			if err := (tetragonwire.Codec{}).Unmarshal(mem.BufferSlice{mem.SliceBuffer(c.bins[j])}, ev); err != nil {
				b.Fatal(err)
			}
			if err := bt.Add(ev, nil, len(c.bins[j]), now); err != nil {
				b.Fatal(err)
			}
		case "file-filtered":
			if err := c.dec.Decode(c.whole[j], fileEv); err != nil {
				b.Fatal(err)
			}
			if err := bt.Add(fileEv, nil, len(c.whole[j]), now); err != nil {
				b.Fatal(err)
			}
		default:
			if err := tetragonjson.DecodeJSON(c.lines[j], fileEv); err != nil {
				b.Fatal(err)
			}
			if err := bt.Add(fileEv, c.lines[j], len(c.lines[j]), now); err != nil {
				b.Fatal(err)
			}
		}
		if bt.Due(now) {
			if err := bt.Flush(ctx); err != nil {
				b.Fatal(err)
			}
		}
	}
	if err := bt.Flush(ctx); err != nil {
		b.Fatal(err)
	}
	report()
	b.ReportMetric(float64(export.bytes)/float64(b.N), "otlp-B/op")
}

// BenchmarkExportEncoding is the otlp_http exporter's encoding of the
// receiver's records alone (protobuf + gzip of 512-record batches), per
// record, by body mode: what the body choice costs downstream.
func BenchmarkExportEncoding(b *testing.B) {
	for _, corpus := range []string{"captured", "captured-lean", "real"} {
		c := loadPipelineCorpus(b, corpus)
		for _, body := range []eventmap.BodyMode{eventmap.BodyMap, eventmap.BodyJSON, eventmap.BodyNone} {
			b.Run(corpus+"/body="+string(body), func(b *testing.B) {
				batch := eventmap.NewBatch(eventmap.Options{Body: body})
				var batches []plog.Logs
				for i := 0; i < 4; i++ {
					for j := 0; j < 512; j++ {
						var ev tetragon.GetEventsResponse
						require.NoError(b, proto.Unmarshal(c.bins[(i*512+j)%len(c.bins)], &ev))
						require.NoError(b, batch.Add(&ev, nil, time.Now()))
					}
					batches = append(batches, batch.Flush())
				}
				export := &exportSink{gz: gzip.NewWriter(io.Discard)}
				b.ReportAllocs()
				report := testenv.StartCPU(b)
				for i := 0; i < b.N; i += 512 {
					if err := export.ConsumeLogs(context.Background(), batches[(i/512)%len(batches)]); err != nil {
						b.Fatal(err)
					}
				}
				report()
				b.ReportMetric(float64(export.bytes)/float64(b.N), "otlp-B/op")
			})
		}
	}
}
