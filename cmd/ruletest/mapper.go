package main

import (
	"errors"
	"time"

	"github.com/cilium/tetragon/api/v1/tetragon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/eventmap"
)

// lineStats counts what the input lines held.
type lineStats struct {
	Lines     int `json:"lines"`
	Events    int `json:"events"`
	Unknown   int `json:"unknown_type"`
	Malformed int `json:"malformed"`
}

// mapLines decodes and maps the lines with the tetragon receiver's own decoder and mapping, so
// the rules see exactly the records a deployed collector produces. Bodies are left empty: no
// rule reads them.
func mapLines(lines [][]byte) (lineStats, plog.Logs) {
	st := lineStats{Lines: len(lines)}
	batch := eventmap.NewBatch(eventmap.Options{Body: eventmap.BodyNone})
	var ev tetragon.GetEventsResponse
	now := time.Now()
	for _, l := range lines {
		err := eventmap.DecodeJSON(l, &ev)
		if err == nil {
			err = batch.Add(&ev, l, now)
		}
		var unknown *eventmap.UnknownEventTypeError
		switch {
		case errors.As(err, &unknown):
			st.Unknown++
		case err != nil:
			st.Malformed++
		default:
			st.Events++
		}
	}
	return st, batch.Flush()
}
