// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package tetragonwire

import (
	"github.com/cilium/tetragon/api/v1/tetragon"
	"google.golang.org/grpc/encoding"
	grpcproto "google.golang.org/grpc/encoding/proto"
	"google.golang.org/grpc/mem"
)

// Codec is a gRPC codec named "proto" that decodes *tetragon.GetEventsResponse with the
// generated decoder and hands every other message, and all marshalling, to gRPC's standard
// proto codec. Pass it per call with grpc.ForceCodecV2(tetragonwire.Codec{}); it is not
// registered globally, so other gRPC users in the process keep the standard codec.
//
// Unlike the standard codec it does not keep unknown fields of GetEventsResponse (fields of a
// newer Tetragon API): they are skipped.
type Codec struct{}

var _ encoding.CodecV2 = Codec{}

// standardCodec is grpc-go's proto codec, registered by the grpcproto import.
var standardCodec = encoding.GetCodecV2(grpcproto.Name)

// Marshal delegates to the standard proto codec.
func (Codec) Marshal(v any) (mem.BufferSlice, error) { return standardCodec.Marshal(v) }

// Unmarshal decodes an event into one freshly allocated buffer that the event's strings then
// alias: gRPC frees data's buffers once Unmarshal returns, so the copy is what makes aliasing
// safe, and it replaces one allocation per string with a single one per event.
func (Codec) Unmarshal(data mem.BufferSlice, v any) error {
	ev, ok := v.(*tetragon.GetEventsResponse)
	if !ok {
		return standardCodec.Unmarshal(data, v)
	}
	return UnmarshalAliasing(data.Materialize(), ev)
}

// Name is "proto": the wire format and content-subtype are unchanged.
func (Codec) Name() string { return grpcproto.Name }
