// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package builtin_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/cilium/tetragon/api/v1/tetragon"
	"go.yaml.in/yaml/v3"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/eventmap"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/testenv"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/tetragonjson"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/processor/detectionprocessor/internal/rules"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/testbed/tetragonsim"
)

// TestFileModeSkipListKeepsDetections is the export-file counterpart of
// TestLeanFieldFiltersKeepDetections: the receiver's file mode decodes each
// line with the field filters of tetragon/export_lean skipped
// (tetragonjson.Decoder), and every rule case, corpus line and simulated attack
// must match exactly the rules it matches fully decoded. The body is the
// original line (body=json), so only the decoded attributes differ.
func TestFileModeSkipListKeepsDetections(t *testing.T) {
	dec, err := tetragonjson.NewDecoder(exportLeanFilters(t))
	if err != nil {
		t.Fatal(err)
	}
	var lines [][]byte
	for _, c := range allCases() {
		lines = append(lines, c.ev)
	}
	lines = append(lines, corpusLines(t, "real/*.jsonl")...)
	lines = append(lines, corpusLines(t, "captured/*.jsonl.gz")...)
	clock := time.Date(2026, 11, 26, 17, 0, 0, 0, time.UTC)
	g, err := tetragonsim.NewGenerator(tetragonsim.GeneratorConfig{Scenario: "attack", Seed: 5,
		Clock: func() time.Time { clock = clock.Add(time.Millisecond); return clock }})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2000; i++ {
		b, err := protojson.MarshalOptions{UseProtoNames: true}.Marshal(g.Next())
		if err != nil {
			t.Fatal(err)
		}
		lines = append(lines, b)
	}

	rs := builtin(t)
	fullDecode := func(line []byte, ev *tetragon.GetEventsResponse) error { return tetragonjson.DecodeJSON(line, ev) }
	var hits, events, smaller int
	for i, line := range lines {
		want, wantAttrs := matchLine(t, rs, fullDecode, line)
		got, gotAttrs := matchLine(t, rs, dec.Decode, line)
		if (want == nil) != (got == nil) {
			t.Fatalf("line %d: decoded fully %v, with the skip list %v", i, want != nil, got != nil)
		}
		if want == nil {
			continue
		}
		events++
		if !slices.Equal(want, got) {
			t.Errorf("line %d: %v fully decoded, %v with the skip list\n%s", i, want, got, line)
		}
		hits += len(want)
		if gotAttrs < wantAttrs {
			smaller++
		}
	}
	if hits < 100 {
		t.Errorf("only %d detections compared", hits)
	}
	if smaller < events/4 {
		t.Errorf("the skip list removed attributes from only %d of %d events", smaller, events)
	}
	t.Logf("%d events, %d detections identical; %d events with fewer attributes", events, hits, smaller)
}

// matchLine maps one line as the receiver does in file mode (body=json) and
// returns the sorted names of the matching rules (nil when the line is
// rejected) and the record's attribute count.
func matchLine(t *testing.T, rs *rules.Ruleset, decode func([]byte, *tetragon.GetEventsResponse) error, line []byte) ([]string, int) {
	t.Helper()
	var ev tetragon.GetEventsResponse
	if decode(line, &ev) != nil {
		return nil, 0
	}
	batch := eventmap.NewBatch(eventmap.Options{Body: eventmap.BodyJSON})
	if batch.Add(&ev, line, time.Now()) != nil {
		return nil, 0
	}
	ld := batch.Flush()
	rl := ld.ResourceLogs().At(0)
	sl := rl.ScopeLogs().At(0)
	lr := sl.LogRecords().At(0)
	matched := []string{}
	for _, m := range rs.EvaluateRecord(context.Background(), rl, sl, lr, nil, func(rule *rules.Rule, err error) {
		t.Errorf("rule %s failed to evaluate: %v", rule.Name, err)
	}) {
		matched = append(matched, m.Name)
	}
	slices.Sort(matched)
	return matched, lr.Attributes().Len()
}

// exportLeanFilters reads the field filters of tetragon/export_lean from the
// receiver's example configurations.
func exportLeanFilters(t *testing.T) []*tetragon.FieldFilter {
	return exampleFieldFilters(t, "tetragon/export_lean")
}

// exampleFieldFilters reads the field filters of one receiver instance of the
// receiver's example configurations (testdata/config.yaml).
func exampleFieldFilters(t *testing.T, instance string) []*tetragon.FieldFilter {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(testenv.RepoRoot(t), "receiver", "tetragonreceiver", "testdata", "config.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var cfg map[string]struct {
		FieldFilters []struct {
			EventSet []string `yaml:"event_set"`
			Fields   []string `yaml:"fields"`
			Action   string   `yaml:"action"`
		} `yaml:"field_filters"`
	}
	if err := yaml.Unmarshal(data, &cfg); err != nil {
		t.Fatal(err)
	}
	inst, ok := cfg[instance]
	if !ok || len(inst.FieldFilters) == 0 {
		t.Fatalf("no %s field_filters in the receiver's testdata/config.yaml", instance)
	}
	var out []*tetragon.FieldFilter
	for _, ff := range inst.FieldFilters {
		action, ok := tetragon.FieldFilterAction_value[ff.Action]
		if !ok {
			t.Fatalf("unknown action %q", ff.Action)
		}
		f := &tetragon.FieldFilter{Fields: &fieldmaskpb.FieldMask{Paths: ff.Fields}, Action: tetragon.FieldFilterAction(action)}
		for _, e := range ff.EventSet {
			n, ok := tetragon.EventType_value[e]
			if !ok {
				t.Fatalf("unknown event type %q", e)
			}
			f.EventSet = append(f.EventSet, tetragon.EventType(n))
		}
		out = append(out, f)
	}
	return out
}
