// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

// Package corpusrec maps lines of the shared Tetragon corpus into log records with the receiver's
// own decoder and mapping (internal/tetragonjson, internal/eventmap), for the tests of the
// workload profile and its processor: they see exactly what a deployed collector's records carry.
//
// It cannot live in internal/testenv: the tests of internal/eventmap import testenv.
package corpusrec

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/cilium/tetragon/api/v1/tetragon"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/attrkey"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/eventmap"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/testenv"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/tetragonjson"
)

// Containers of the shared corpus (process.docker: 31 hex characters).
const (
	// Benign: a busybox container of captured/main-export.jsonl.gz running httpd, sh and a loop
	// of /bin/true, plus its socket state changes.
	Benign = "736fae2554da315f33ec5b6cd50e351"
	// Attack: the "app" container of syscalls/export.jsonl.gz (credential reads, ptrace, mount,
	// bpf, memfd exec, …, and benign steps).
	Attack = "cb7a5c27fe6155da4bd86cf513c3486"
)

// Record is one mapped log record with its resource.
type Record struct {
	Res pcommon.Map
	LR  plog.LogRecord
}

// Str is the record's string attribute key (attrkey.Str).
func (r Record) Str(key string) string { return attrkey.Str(r.LR.Attributes(), key) }

// Map maps each line on its own (one eventmap.Batch per line: a Batch groups by resource), so
// that records stay in file order. Lines that do not decode or map are left out; none mapped
// fails the test.
func Map(tb testing.TB, lines [][]byte) []Record {
	tb.Helper()
	var ev tetragon.GetEventsResponse
	var out []Record
	now := time.Now()
	for _, l := range lines {
		if err := tetragonjson.DecodeJSON(l, &ev); err != nil {
			continue
		}
		b := eventmap.NewBatch(eventmap.Options{})
		if err := b.Add(&ev, l, now); err != nil {
			continue
		}
		rl := b.Flush().ResourceLogs().At(0)
		out = append(out, Record{Res: rl.Resource().Attributes(), LR: rl.ScopeLogs().At(0).LogRecords().At(0)})
	}
	if len(out) == 0 {
		tb.Fatal("no records mapped")
	}
	return out
}

// Load maps the corpus file name (relative to testenv.EventsDir).
func Load(tb testing.TB, name string) []Record {
	tb.Helper()
	return Map(tb, testenv.ReadLines(tb, filepath.Join(testenv.EventsDir(tb), name)))
}

// OfContainer keeps the records of container id and moves them to container to (InContainer), as
// if they had happened there.
func OfContainer(rs []Record, id, to string) []Record {
	var out []Record
	for _, r := range rs {
		if attrkey.Str(r.Res, attrkey.ContainerID) == id {
			out = append(out, InContainer(r, to))
		}
	}
	return out
}

// InContainer is r with a copy of its resource whose container.id is id.
func InContainer(r Record, id string) Record {
	res := pcommon.NewMap()
	r.Res.CopyTo(res)
	res.PutStr(attrkey.ContainerID, id)
	return Record{Res: res, LR: r.LR}
}
