// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package loadtest

import (
	"bytes"
	"compress/gzip"
	"io"
	"testing"
	"time"

	"github.com/cilium/tetragon/api/v1/tetragon"
	kgzip "github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"google.golang.org/protobuf/proto"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/eventmap"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/testenv"
)

// BenchmarkExportCompression compresses the OTLP request the logs exporter sends for one receiver
// batch (256 events of the real capture, shipped field filters, body json) the way confighttp
// does (stdlib gzip, klauspost zstd) and the way the gzip_middleware extension does (klauspost
// gzip), to choose the shipped compression. ns/event is CPU per
// event; ratio is uncompressed ÷ compressed bytes.
func BenchmarkExportCompression(b *testing.B) {
	shipped, err := ShippedDefaults(testenv.RepoRoot(b) + "/distribution/config.yaml")
	if err != nil {
		b.Fatal(err)
	}
	wires, err := Source{ReplayFile: CapturedFile(testenv.EventsDir(b))}.Wires(256)
	if err != nil {
		b.Fatal(err)
	}
	if wires, err = applyFieldFilters(wires, shipped.FieldFilters); err != nil {
		b.Fatal(err)
	}
	batch := eventmap.NewBatch(eventmap.Options{Body: eventmap.BodyJSON})
	for _, w := range wires {
		ev := &tetragon.GetEventsResponse{}
		if err := proto.Unmarshal(w, ev); err != nil {
			b.Fatal(err)
		}
		if err := batch.Add(ev, nil, time.Now()); err != nil {
			b.Fatal(err)
		}
	}
	payload, err := plogotlp.NewExportRequestFromLogs(batch.Flush()).MarshalProto()
	if err != nil {
		b.Fatal(err)
	}
	// compressWith compresses the payload into dst with a reused writer, as confighttp's pools
	// and the gzip_middleware extension's pool do.
	compressWith := func(w resettableWriter) func(*bytes.Buffer) error {
		return func(dst *bytes.Buffer) error {
			w.Reset(dst)
			if _, err := w.Write(payload); err != nil {
				return err
			}
			return w.Close()
		}
	}
	gz := func(level int) func(*bytes.Buffer) error {
		w, _ := gzip.NewWriterLevel(nil, level)
		return compressWith(w)
	}
	kgz := func(level int) func(*bytes.Buffer) error {
		w, _ := kgzip.NewWriterLevel(nil, level)
		return compressWith(w)
	}
	zs := func(level int) func(*bytes.Buffer) error {
		w, _ := zstd.NewWriter(nil, zstd.WithEncoderConcurrency(1), zstd.WithEncoderLevel(zstd.EncoderLevelFromZstd(level)))
		return compressWith(w)
	}
	evictCaches := cacheEvictor()
	for _, c := range []struct {
		name string
		fn   func(*bytes.Buffer) error
	}{
		{"gzip-default", gz(gzip.DefaultCompression)},
		{"gzip-1", gz(gzip.BestSpeed)},
		{"klauspost-gzip-1", kgz(kgzip.BestSpeed)},
		{"klauspost-gzip-2", kgz(2)},
		{"klauspost-gzip-stateless", kgz(kgzip.StatelessCompression)},
		{"klauspost-gzip-huffman", kgz(kgzip.HuffmanOnly)},
		{"zstd-1", zs(1)},
		{"zstd-default", zs(3)},
	} {
		for _, cold := range []bool{false, true} {
			name := c.name
			if cold {
				name += "/cold"
			}
			b.Run(name, func(b *testing.B) {
				var dst bytes.Buffer
				for b.Loop() {
					if cold {
						b.StopTimer()
						evictCaches()
						b.StartTimer()
					}
					dst.Reset()
					if err := c.fn(&dst); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(wires)), "ns/event")
				b.ReportMetric(float64(len(payload))/float64(dst.Len()), "ratio")
				b.ReportMetric(float64(len(payload))/float64(len(wires)), "B/event-raw")
			})
		}
	}
}

// cacheEvictor returns a func that writes a buffer larger than this machine's caches, pushing
// the encoder's tables and the payload out as the rest of the pipeline does between two requests
// in a live collector (the /cold cases, timed without the eviction).
func cacheEvictor() func() {
	buf := make([]byte, 64<<20)
	return func() {
		for i := 0; i < len(buf); i += 64 {
			buf[i]++
		}
	}
}

type resettableWriter interface {
	io.WriteCloser
	Reset(io.Writer)
}
