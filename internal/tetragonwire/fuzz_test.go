// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package tetragonwire

import (
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
)

// FuzzUnmarshal: on any input, both decoders agree with proto.Unmarshal (DiscardUnknown) on
// success and on the decoded message, and never panic. Seeded with the real and simulator
// corpora plus a sample of the captured one; `go test -run - -fuzz FuzzUnmarshal` explores.
func FuzzUnmarshal(f *testing.F) {
	for _, ce := range wireOf(f, "real", realEvents(f)) {
		f.Add(ce.wire)
	}
	captured := capturedEvents(f)
	for i := 0; i < len(captured); i += 97 {
		b := wireOf(f, "captured", captured[i:i+1])[0].wire
		f.Add(b)
	}
	for _, ce := range wireOf(f, "sim", simEvents(f, 5)) {
		f.Add(ce.wire)
	}
	f.Add(appendUnknown(nil))
	f.Add(protowire.AppendBytes(protowire.AppendTag(nil, 1004, protowire.BytesType), []byte{0x0a, 0x01, 'k', 0x12, 0x01, 0xff}))
	f.Fuzz(func(t *testing.T, b []byte) {
		checkSame(t, "fuzz input", b)
	})
}
