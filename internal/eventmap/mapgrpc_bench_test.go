// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package eventmap

import (
	"testing"

	"github.com/cilium/tetragon/api/v1/tetragon"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/synthevents"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/tetragonjson"
)

// Mapping events that arrive without their JSON line (gRPC; body=json encodes
// them), on the corpora tetragonjson's BenchmarkMarshalJSON encodes:
// synthevents.GRPCCorpora.
//
//	go test -run '^$' -bench MapGRPC -benchmem ./internal/eventmap/

func encodeBenchEvents(b *testing.B, pattern string, filtered bool) []*tetragon.GetEventsResponse {
	return synthevents.GRPCCorpus{Pattern: pattern, Filtered: filtered}.Events(b, tetragonjson.DecodeJSON)
}

// BenchmarkMapGRPC is BenchmarkMap for events with no original line, as they
// come over gRPC: body=json marshals every event.
func BenchmarkMapGRPC(b *testing.B) {
	for _, c := range synthevents.GRPCCorpora {
		for _, body := range []BodyMode{BodyJSON, BodyMap} {
			b.Run(c.Name+"/body="+string(body), func(b *testing.B) {
				benchMapEvents(b, c.Events(b, tetragonjson.DecodeJSON), body)
			})
		}
	}
}
