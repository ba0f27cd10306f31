// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package eventmap

import (
	"testing"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/synthevents"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/tetragonjson"
)

// Mapping events that arrive without their JSON line (gRPC; body=json encodes
// them), on the corpora tetragonjson's BenchmarkMarshalJSON encodes:
// synthevents.GRPCCorpora.
//
//	go test -run '^$' -bench MapGRPC -benchmem ./internal/eventmap/

// BenchmarkMapGRPC is BenchmarkMap for events with no original line, as they
// come over gRPC: body=json marshals every event.
func BenchmarkMapGRPC(b *testing.B) {
	for _, c := range synthevents.GRPCCorpora {
		for _, body := range []BodyMode{BodyJSON, BodyMap} {
			b.Run(c.Name+"/body="+string(body), func(b *testing.B) {
				benchMap(b, c.Events(b, tetragonjson.DecodeJSON), nil, body)
			})
		}
	}
}
