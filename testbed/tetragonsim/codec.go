// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package tetragonsim

import (
	"google.golang.org/grpc/encoding"
	_ "google.golang.org/grpc/encoding/proto" // registers the "proto" codec delegated to
	"google.golang.org/grpc/mem"
)

// passthroughCodec is the server's codec: a *Frame is sent as its pre-encoded wire bytes, with
// no marshalling per event and per client; everything else goes through the proto codec.
type passthroughCodec struct{ proto encoding.CodecV2 }

// PassthroughCodec is the server codec of the simulator, for a test that serves GetEvents
// itself (grpc.ForceServerCodecV2): a *Frame is sent as its Wire bytes, whatever they hold, so a
// frame may carry bytes that do not decode.
func PassthroughCodec() encoding.CodecV2 {
	return &passthroughCodec{proto: encoding.GetCodecV2("proto")}
}

func (c *passthroughCodec) Marshal(v any) (mem.BufferSlice, error) {
	if f, ok := v.(*Frame); ok {
		// The bytes are immutable for the frame's lifetime, so gRPC may keep them until written.
		return mem.BufferSlice{mem.SliceBuffer(f.Wire)}, nil
	}
	return c.proto.Marshal(v)
}

func (c *passthroughCodec) Unmarshal(data mem.BufferSlice, v any) error {
	return c.proto.Unmarshal(data, v)
}

// Name is "proto": on the wire the frames are ordinary protobuf messages.
func (c *passthroughCodec) Name() string { return "proto" }
