// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package builtin_test

import (
	"context"
	"testing"
	"time"

	"github.com/cilium/tetragon/api/v1/tetragon"
	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/ottl/contexts/ottllog"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/testbed/tetragonsim"
)

// TestPrefiltersAreNecessaryConditions: whenever a rule's prefilter (derived
// from its condition, checked before OTTL) rejects a record, the OTTL
// condition must be false on it. Checked for every rule of the catalogue on
// every rule case, the whole shared corpus and simulator traffic of every
// scenario, so that no prefilter can hide a detection.
func TestPrefiltersAreNecessaryConditions(t *testing.T) {
	rs := builtin(t)
	var lines [][]byte
	for _, c := range allCases() {
		lines = append(lines, c.ev)
	}
	lines = append(lines, corpusLines(t, "real/*.jsonl")...)
	lines = append(lines, corpusLines(t, "captured/*.jsonl.gz")...)
	for _, scenario := range tetragonsim.Scenarios() {
		clock := time.Date(2026, 11, 26, 17, 0, 0, 0, time.UTC)
		g, err := tetragonsim.NewGenerator(tetragonsim.GeneratorConfig{Scenario: scenario, Seed: 11,
			Clock: func() time.Time { clock = clock.Add(time.Millisecond); return clock }})
		if err != nil {
			t.Fatalf("scenario %s: %v", scenario, err)
		}
		for i := 0; i < 1000; i++ {
			b, err := protojson.MarshalOptions{UseProtoNames: true}.Marshal(g.Next())
			if err != nil {
				t.Fatal(err)
			}
			lines = append(lines, b)
		}
	}
	// Only lines of known event types become records (real/ holds a few
	// legacy ones).
	known := lines[:0]
	for _, l := range lines {
		var ev tetragon.GetEventsResponse
		if protojson.Unmarshal(l, &ev) == nil && ev.GetEvent() != nil && ev.GetTest() == nil {
			known = append(known, l)
		}
	}
	recs := mapLines(t, known, len(known))
	if len(recs) < 3000 {
		t.Fatalf("only %d records", len(recs))
	}

	ctx := context.Background()
	rejected, admitted, withPrefilter := 0, 0, 0
	for _, r := range rs.Rules() {
		if r.Prefilter() == "" {
			continue
		}
		withPrefilter++
		for _, rec := range recs {
			if !appliesTo(r.Events, rec.lr.EventName()) {
				continue
			}
			tc := ottllog.NewTransformContext(rec.rl, rec.sl, rec.lr)
			if r.PrefilterAdmits(tc) {
				admitted++
				tc.Close()
				continue
			}
			rejected++
			ok, err := r.ConditionMatches(ctx, tc)
			tc.Close()
			if ok {
				t.Errorf("rule %s: prefilter rejected a record its condition matches\nprefilter: %s\nrecord: %v %v",
					r.Name, r.Prefilter(), rec.rl.Resource().Attributes().AsRaw(), rec.lr.Attributes().AsRaw())
			}
			if err != nil {
				t.Logf("rule %s: condition error on a rejected record: %v", r.Name, err)
			}
		}
	}
	// The check must have exercised both outcomes broadly.
	if withPrefilter < 15 || rejected < 10*admitted/100 || admitted == 0 {
		t.Errorf("%d rules with prefilters, %d rejections, %d admissions", withPrefilter, rejected, admitted)
	}
	t.Logf("%d records, %d rules with prefilters: %d rejections (each checked against OTTL), %d admissions",
		len(recs), withPrefilter, rejected, admitted)
}

func appliesTo(events []string, name string) bool {
	for _, e := range events {
		if e == name {
			return true
		}
	}
	return false
}
