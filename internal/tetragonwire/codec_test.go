// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package tetragonwire

import (
	"bytes"
	"context"
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
