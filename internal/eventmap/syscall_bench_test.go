// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package eventmap

import (
	"testing"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/synthevents"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/testenv"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/tetragonjson"
)

// BenchmarkMapSyscalls maps the syscalls/ corpus (a third of it tracepoints on
// syscalls/sys_enter_* and raw_syscalls/sys_enter) with no body: the cost of
// naming the syscall and normalising its arguments shows here first.
//
//	go test -run '^$' -bench 'MapSyscalls' -benchmem ./internal/eventmap/
func BenchmarkMapSyscalls(b *testing.B) {
	lines, _ := testenv.CorpusData(b, "syscalls/export.jsonl.gz")
	benchMap(b, synthevents.Decode(b, lines, tetragonjson.DecodeJSON), nil, BodyNone)
}
