// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package tetragonwire

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/cilium/tetragon/api/v1/tetragon"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/mem"
	"google.golang.org/grpc/test/bufconn"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
)

// split cuts b into buffers of at most n bytes, like a message arriving in several frames.
func split(b []byte, n int) mem.BufferSlice {
	var out mem.BufferSlice
	for len(b) > 0 {
		k := min(n, len(b))
		out = append(out, mem.SliceBuffer(append([]byte(nil), b[:k]...)))
		b = b[k:]
	}
	return out
}

func TestCodecUnmarshalEvents(t *testing.T) {
	evs := append(realEvents(t), capturedEvents(t)[:50]...)
	for i, ce := range wireOf(t, "codec", evs) {
		data := split(ce.wire, 1000)
		got := &tetragon.GetEventsResponse{}
		if err := (Codec{}).Unmarshal(data, got); err != nil {
			t.Fatalf("event %d: %v", i, err)
		}
		// gRPC recycles the buffers after Unmarshal: the event must not depend on them.
		for _, buf := range data {
			clear(buf.ReadOnlyData())
		}
		if !proto.Equal(evs[i], got) {
			t.Fatalf("event %d differs after its input buffers were cleared\nwant %v\ngot  %v", i, evs[i], got)
		}
	}
	if err := (Codec{}).Unmarshal(split([]byte{0xc2, 0x3e, 0x05, 'a'}, 2), &tetragon.GetEventsResponse{}); err == nil {
		t.Fatal("truncated event decoded without error")
	}
}

func TestCodecDelegatesOtherMessages(t *testing.T) {
	c := Codec{}
	if c.Name() != "proto" {
		t.Fatalf("Name() = %q", c.Name())
	}
	req := &tetragon.GetEventsRequest{FieldFilters: []*tetragon.FieldFilter{{Fields: &fieldmaskpb.FieldMask{Paths: []string{"process.cap"}}}}}
	out, err := c.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := proto.Marshal(req)
	if !bytes.Equal(out.Materialize(), want) {
		t.Fatal("Marshal differs from proto.Marshal")
	}
	back := &tetragon.GetEventsRequest{}
	if err := c.Unmarshal(out, back); err != nil || !proto.Equal(req, back) {
		t.Fatalf("round trip of a non-event message: %v %v", back, err)
	}
	if err := c.Unmarshal(out, struct{}{}); err == nil {
		t.Fatal("unmarshalling into a non-proto value succeeded")
	}
}

type eventServer struct {
	tetragon.UnimplementedFineGuidanceSensorsServer
	events []*tetragon.GetEventsResponse
}

func (s *eventServer) GetEvents(_ *tetragon.GetEventsRequest, stream tetragon.FineGuidanceSensors_GetEventsServer) error {
	for _, ev := range s.events {
		if err := stream.Send(ev); err != nil {
			return err
		}
	}
	return nil
}

// Over a real gRPC stream, the forced codec delivers the events the server sent.
func TestCodecOverGRPCStream(t *testing.T) {
	evs := append(realEvents(t), capturedEvents(t)[:200]...)
	// The first event carries unknown fields: the standard codec would keep them, ours drops
	// them, which proves the forced codec decoded the stream.
	sent := append([]*tetragon.GetEventsResponse{proto.Clone(evs[0]).(*tetragon.GetEventsResponse)}, evs...)
	sent[0].ProtoReflect().SetUnknown(appendUnknown(nil))
	evs = append([]*tetragon.GetEventsResponse{evs[0]}, evs...)
	lis := bufconn.Listen(1 << 20)
	srv := grpc.NewServer()
	tetragon.RegisterFineGuidanceSensorsServer(srv, &eventServer{events: sent})
	go func() { _ = srv.Serve(lis) }()
	defer srv.Stop()

	conn, err := grpc.NewClient("passthrough:///bufnet",
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	stream, err := tetragon.NewFineGuidanceSensorsClient(conn).GetEvents(ctx, &tetragon.GetEventsRequest{}, grpc.ForceCodecV2(Codec{}))
	if err != nil {
		t.Fatal(err)
	}
	var got []*tetragon.GetEventsResponse
	for {
		ev, err := stream.Recv()
		if err != nil {
			break
		}
		got = append(got, ev)
	}
	if len(got) != len(evs) {
		t.Fatalf("received %d events, sent %d", len(got), len(evs))
	}
	for i := range evs {
		if !proto.Equal(evs[i], got[i]) {
			t.Fatalf("event %d differs\nsent %v\ngot  %v", i, evs[i], got[i])
		}
	}
}

func TestCodecFrame(t *testing.T) {
	evs := realEvents(t)[:3]
	wire := wireOf(t, "frame", evs)
	truncated := []byte{0xc2, 0x3e, 0x05, 'a'} // node_name of 5 bytes, 1 present
	c := Codec{MaxEventBytes: len(wire[0].wire)}

	var f Frame
	if err := c.Unmarshal(split(wire[0].wire, 100), &f); err != nil || f.Err != nil {
		t.Fatalf("good event: %v %v", err, f.Err)
	}
	if !proto.Equal(evs[0], f.Event) || f.Bytes != len(wire[0].wire) {
		t.Fatalf("good event decoded as %v (%d bytes)", f.Event, f.Bytes)
	}

	// A message that does not decode is reported in the frame, not returned: a returned error
	// would end the gRPC stream.
	if err := c.Unmarshal(split(truncated, 2), &f); err != nil {
		t.Fatalf("a bad message must not fail Unmarshal: %v", err)
	}
	if f.Err == nil || f.Event != nil || f.Bytes != len(truncated) {
		t.Fatalf("bad message: %+v", f)
	}

	big := wire[0].wire
	for _, w := range wire {
		if len(w.wire) > len(big) {
			big = w.wire
		}
	}
	small := Codec{MaxEventBytes: len(big) - 1}
	if err := small.Unmarshal(split(big, 100), &f); err != nil {
		t.Fatal(err)
	}
	var over *OversizedError
	if !errors.As(f.Err, &over) || over.Bytes != len(big) || over.Max != len(big)-1 || f.Event != nil {
		t.Fatalf("oversized message: %+v", f)
	}
	// The limit is inclusive, and 0 means none.
	for _, c := range []Codec{{MaxEventBytes: len(big)}, {}} {
		if err := c.Unmarshal(split(big, 100), &f); err != nil || f.Err != nil || f.Event == nil {
			t.Fatalf("MaxEventBytes %d: %v %+v", c.MaxEventBytes, err, f)
		}
	}
}

// rawFrame is sent as it is by rawCodec: bytes no encoder would produce.
type rawFrame []byte

// rawCodec lets a test server send rawFrames next to ordinary messages.
type rawCodec struct{}

func (rawCodec) Marshal(v any) (mem.BufferSlice, error) {
	if r, ok := v.(rawFrame); ok {
		return mem.BufferSlice{mem.SliceBuffer(r)}, nil
	}
	return standardCodec.Marshal(v)
}
func (rawCodec) Unmarshal(data mem.BufferSlice, v any) error { return standardCodec.Unmarshal(data, v) }
func (rawCodec) Name() string                                { return "proto" }

type rawServer struct {
	tetragon.UnimplementedFineGuidanceSensorsServer
	frames []any
}

func (s *rawServer) GetEvents(_ *tetragon.GetEventsRequest, stream tetragon.FineGuidanceSensors_GetEventsServer) error {
	for _, f := range s.frames {
		if err := stream.SendMsg(f); err != nil {
			return err
		}
	}
	return nil
}

// Received into Frames, a stream outlives messages that do not decode or are too long.
func TestCodecFramesOverGRPCStream(t *testing.T) {
	evs := realEvents(t)[:2]
	big := proto.Clone(evs[0]).(*tetragon.GetEventsResponse)
	big.NodeName = string(bytes.Repeat([]byte("n"), 4096))
	lis := bufconn.Listen(1 << 20)
	srv := grpc.NewServer(grpc.ForceServerCodecV2(rawCodec{}))
	tetragon.RegisterFineGuidanceSensorsServer(srv, &rawServer{frames: []any{
		evs[0], rawFrame{0xc2, 0x3e, 0x05, 'a'}, big, evs[1],
	}})
	go func() { _ = srv.Serve(lis) }()
	defer srv.Stop()

	conn, err := grpc.NewClient("passthrough:///bufnet",
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	stream, err := conn.NewStream(ctx, &tetragon.FineGuidanceSensors_ServiceDesc.Streams[0],
		tetragon.FineGuidanceSensors_GetEvents_FullMethodName, grpc.ForceCodecV2(Codec{MaxEventBytes: 4000}))
	if err != nil {
		t.Fatal(err)
	}
	if err := stream.SendMsg(&tetragon.GetEventsRequest{}); err != nil {
		t.Fatal(err)
	}
	if err := stream.CloseSend(); err != nil {
		t.Fatal(err)
	}
	var frames []Frame
	for {
		var f Frame
		if err := stream.RecvMsg(&f); err != nil {
			if err != io.EOF {
				t.Fatalf("stream ended with %v after %d frames", err, len(frames))
			}
			break
		}
		frames = append(frames, f)
	}
	if len(frames) != 4 {
		t.Fatalf("received %d frames, sent 4", len(frames))
	}
	var over *OversizedError
	if !proto.Equal(evs[0], frames[0].Event) || frames[1].Err == nil || !errors.As(frames[2].Err, &over) || !proto.Equal(evs[1], frames[3].Event) {
		t.Fatalf("frames: %+v", frames)
	}
}
