// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package tetragonwire

import (
	"fmt"

	"github.com/cilium/tetragon/api/v1/tetragon"
	"google.golang.org/grpc/encoding"
	grpcproto "google.golang.org/grpc/encoding/proto"
	"google.golang.org/grpc/mem"
)

// Codec is a gRPC codec named "proto" that decodes *tetragon.GetEventsResponse and *Frame with
// the generated decoder and hands every other message, and all marshalling, to gRPC's standard
// proto codec. Pass it per call with grpc.ForceCodecV2(tetragonwire.Codec{}); it is not
// registered globally, so other gRPC users in the process keep the standard codec.
//
// Unlike the standard codec it does not keep unknown fields of GetEventsResponse (fields of a
// newer Tetragon API): they are skipped.
type Codec struct {
	// MaxEventBytes, when above 0, is the longest message decoded into a *Frame; a longer one is
	// reported in Frame.Err as an *OversizedError without being decoded. It does not apply to a
	// *tetragon.GetEventsResponse.
	MaxEventBytes int
}

var _ encoding.CodecV2 = Codec{}

// standardCodec is grpc-go's proto codec, registered by the grpcproto import.
var standardCodec = encoding.GetCodecV2(grpcproto.Name)

// Marshal delegates to the standard proto codec.
func (Codec) Marshal(v any) (mem.BufferSlice, error) { return standardCodec.Marshal(v) }

// Unmarshal decodes an event into one freshly allocated buffer that the event's strings then
// alias: gRPC frees data's buffers once Unmarshal returns, so the copy is what makes aliasing
// safe, and it replaces one allocation per string with a single one per event.
//
// Into a *Frame it never fails: what is wrong with the message goes into Frame.Err.
func (c Codec) Unmarshal(data mem.BufferSlice, v any) error {
	switch m := v.(type) {
	case *tetragon.GetEventsResponse:
		return UnmarshalAliasing(data.Materialize(), m)
	case *Frame:
		*m = Frame{Bytes: data.Len()}
		if c.MaxEventBytes > 0 && m.Bytes > c.MaxEventBytes {
			// Not decoded: the struct graph of a huge event is what costs memory, not its bytes.
			m.Err = &OversizedError{Bytes: m.Bytes, Max: c.MaxEventBytes}
			return nil
		}
		ev := &tetragon.GetEventsResponse{}
		if err := UnmarshalAliasing(data.Materialize(), ev); err != nil {
			m.Err = err
			return nil
		}
		m.Event = ev
		return nil
	default:
		return standardCodec.Unmarshal(data, v)
	}
}

// Name is "proto": the wire format and content-subtype are unchanged.
func (Codec) Name() string { return grpcproto.Name }

// Frame is one message of the GetEvents stream received through Codec: the event, or why there
// is none. grpc-go ends a client stream on any error from RecvMsg, the codec's included, so a
// stream received into *tetragon.GetEventsResponse dies on the first message that does not
// decode. Received into a Frame, such a message is reported in Err and the stream goes on with
// the next one. Errors below the message (HTTP/2, gRPC's length-prefixed framing, a message over
// grpc.MaxCallRecvMsgSize, an unknown compression) never reach the codec: they still end the
// stream.
type Frame struct {
	// Event is the decoded event; nil when Err is set.
	Event *tetragon.GetEventsResponse
	// Bytes is the message's length on the wire, after decompression.
	Bytes int
	// Err is why the message was skipped: an *OversizedError, or the decoder's error
	// (truncated or malformed protobuf, *InvalidUTF8Error).
	Err error
}

// OversizedError reports a message longer than Codec.MaxEventBytes.
type OversizedError struct {
	Bytes, Max int
}

func (e *OversizedError) Error() string {
	return fmt.Sprintf("tetragonwire: event of %d bytes is over the limit of %d bytes", e.Bytes, e.Max)
}
