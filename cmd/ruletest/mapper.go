// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package main

import (
	"time"

	"github.com/cilium/tetragon/api/v1/tetragon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/eventmap"
)

// mapLines decodes and maps the lines with the tetragon receiver's own decoder and mapping, so
// the rules see exactly the records a deployed collector produces. Bodies are left empty: no
// rule reads them.
func mapLines(lines [][]byte) (eventmap.LineStats, plog.Logs) {
	var st eventmap.LineStats
	batch := eventmap.NewBatch(eventmap.Options{Body: eventmap.BodyNone})
	var ev tetragon.GetEventsResponse
	now := time.Now()
	for _, l := range lines {
		batch.AddLine(l, &ev, now, &st)
	}
	return st, batch.Flush()
}
