// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package eventmap

import (
	"errors"
	"time"

	"github.com/cilium/tetragon/api/v1/tetragon"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/tetragonjson"
)

// LineStats counts what export-file lines held, as the offline tools (ruletest, profiles)
// report it.
type LineStats struct {
	Lines     int `json:"lines"`
	Events    int `json:"events"`
	Unknown   int `json:"unknown_type"` // lines of an event type this API version does not know
	Malformed int `json:"malformed"`    // lines that are not a Tetragon event
}

// Plus returns the sum of s and o.
func (s LineStats) Plus(o LineStats) LineStats {
	return LineStats{s.Lines + o.Lines, s.Events + o.Events, s.Unknown + o.Unknown, s.Malformed + o.Malformed}
}

// AddLine decodes one export-file line into ev (reused between calls) and adds it to the batch,
// counting the outcome in st: a bad line is counted, never an error, as the receiver does.
func (b *Batch) AddLine(line []byte, ev *tetragon.GetEventsResponse, observed time.Time, st *LineStats) {
	st.Lines++
	err := tetragonjson.DecodeJSON(line, ev)
	if err == nil {
		err = b.Add(ev, line, observed)
	}
	var unknown *tetragonjson.UnknownEventTypeError
	switch {
	case errors.As(err, &unknown):
		st.Unknown++
	case err != nil:
		st.Malformed++
	default:
		st.Events++
	}
}
