// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package tetragonwire

import (
	"testing"

	"github.com/cilium/tetragon/api/v1/tetragon"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/proto"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/synthevents"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/testenv"
)

// benchCorpora are the event sets of the benchmarks, in wire form. One op decodes one event,
// cycling through the set, into a fresh message as gRPC does per Recv.
func benchCorpora(b *testing.B) []struct {
	name  string
	wires [][]byte
} {
	b.Helper()
	captured := capturedEvents(b)
	sets := []struct {
		name string
		evs  []*tetragon.GetEventsResponse
	}{
		{"real", realEvents(b)},
		{"captured", captured},
		{"captured-filtered", synthevents.ApplyShippedFieldFilter(b, captured)},
	}
	out := make([]struct {
		name  string
		wires [][]byte
	}, len(sets))
	for i, s := range sets {
		out[i].name = s.name
		for _, ce := range wireOf(b, s.name, s.evs) {
			out[i].wires = append(out[i].wires, ce.wire)
		}
	}
	return out
}

func avgBytes(wires [][]byte) float64 {
	n := 0
	for _, w := range wires {
		n += len(w)
	}
	return float64(n) / float64(len(wires))
}

func BenchmarkUnmarshal(b *testing.B) {
	walker := newWireWalker((&tetragon.GetEventsResponse{}).ProtoReflect().Descriptor())
	decoders := []struct {
		name string
		fn   func([]byte, *tetragon.GetEventsResponse) error
	}{
		{"proto", func(w []byte, m *tetragon.GetEventsResponse) error { return proto.Unmarshal(w, m) }},
		{"tetragonwire", Unmarshal},
		// The buffer is never written, so handing the same one over each time is sound here.
		{"tetragonwire-aliasing", UnmarshalAliasing},
		// Not a decoder: reads every field once and keeps nothing (wirewalk_test.go), the floor
		// under any decoder, one straight into pdata included.
		{"wire-walk", func(w []byte, _ *tetragon.GetEventsResponse) error { _, err := walker.walk(w); return err }},
	}
	for _, c := range benchCorpora(b) {
		for _, d := range decoders {
			b.Run(c.name+"/"+d.name, func(b *testing.B) {
				b.ReportAllocs()
				i := 0
				defer testenv.StartCPU(b)()
				for b.Loop() {
					if err := d.fn(c.wires[i], new(tetragon.GetEventsResponse)); err != nil {
						b.Fatal(err)
					}
					if i++; i == len(c.wires) {
						i = 0
					}
				}
				b.ReportMetric(avgBytes(c.wires), "wire-B/event") // after the loop: b.Loop's reset drops metrics
			})
		}
	}
}

// pooledCopyCodec is the alternative codec design that was measured against Codec: gRPC's
// pooled materialization (no allocation for the wire bytes) and the copying decoder.
type pooledCopyCodec struct{ Codec }

func (pooledCopyCodec) Unmarshal(data mem.BufferSlice, v any) error {
	buf := data.MaterializeToBuffer(mem.DefaultBufferPool())
	defer buf.Free()
	return Unmarshal(buf.ReadOnlyData(), v.(*tetragon.GetEventsResponse))
}

// BenchmarkCodecUnmarshal runs the gRPC codecs on events split into 16 KiB buffers, as the
// transport hands them over.
func BenchmarkCodecUnmarshal(b *testing.B) {
	codecs := []struct {
		name  string
		codec interface {
			Unmarshal(mem.BufferSlice, any) error
		}
	}{
		{"grpc-proto", standardCodec},
		{"tetragonwire", Codec{}},
		{"tetragonwire-pooled-copy", pooledCopyCodec{}},
	}
	for _, c := range benchCorpora(b) {
		data := make([]mem.BufferSlice, len(c.wires))
		for i, w := range c.wires {
			data[i] = split(w, 16<<10)
		}
		for _, cd := range codecs {
			b.Run(c.name+"/"+cd.name, func(b *testing.B) {
				b.ReportAllocs()
				i := 0
				defer testenv.StartCPU(b)()
				for b.Loop() {
					if err := cd.codec.Unmarshal(data[i], new(tetragon.GetEventsResponse)); err != nil {
						b.Fatal(err)
					}
					if i++; i == len(data) {
						i = 0
					}
				}
			})
		}
	}
}
