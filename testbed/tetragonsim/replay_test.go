// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package tetragonsim

import (
	"bytes"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/cilium/tetragon/api/v1/tetragon"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/testenv"
)

func TestReplayRealAndLegacy(t *testing.T) {
	r, err := LoadReplay(realFiles(t), ReplayOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Frames) != 56 || r.Skipped.Total != 0 {
		t.Fatalf("real: %d events, %d skipped (%s); want 56 and 0", len(r.Frames), r.Skipped.Total, r.Skipped)
	}
	byType := map[string]int{}
	for _, f := range r.Frames {
		byType[f.Meta.TypeName]++
	}
	want := map[string]int{"process_exec": 25, "process_exit": 11, "process_kprobe": 18, "process_throttle": 2}
	for k, v := range want {
		if byType[k] != v {
			t.Errorf("%s: %d, want %d", k, byType[k], v)
		}
	}

	legacy, err := filepath.Glob(filepath.Join(eventsDir(t), "legacy", "*.jsonl"))
	if err != nil || len(legacy) != 2 {
		t.Fatalf("legacy files: %v %v", legacy, err)
	}
	r, err = LoadReplay(append(legacy, realFiles(t)...), ReplayOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Frames) != 56 {
		t.Errorf("legacy+real: %d events, want 56", len(r.Frames))
	}
	if r.Skipped.Total != 12 || r.Skipped.ByReason[SkipUnknownType] != 11 || r.Skipped.ByReason[SkipMalformed] != 1 {
		t.Errorf("skipped = %+v, want 11 unknown event types and 1 malformed", r.Skipped)
	}
	if s := r.Skipped.String(); !strings.Contains(s, "book-security-observability-with-ebpf.jsonl:1") {
		t.Errorf("skip report lacks file:line: %s", s)
	}
}

func TestReplayLegacyOnlyIsAnError(t *testing.T) {
	_, err := New(Config{ReplayFiles: []string{filepath.Join(eventsDir(t), "legacy", "book-security-observability-with-ebpf.jsonl")}, ExportFile: filepath.Join(t.TempDir(), "x.log")})
	if err == nil || !strings.Contains(err.Error(), "no usable event") {
		t.Fatalf("err = %v", err)
	}
}

func TestReplayOddLines(t *testing.T) {
	dir := t.TempDir()
	good, err := os.ReadFile(realFiles(t)[0])
	if err != nil {
		t.Fatal(err)
	}
	first := bytes.SplitN(good, []byte("\n"), 2)[0]
	huge := append([]byte(`{"process_exec":{"process":{"binary":"`), bytes.Repeat([]byte("a"), MaxLineBytes)...)
	huge = append(huge, []byte(`"}}}`)...)
	content := bytes.Join([][]byte{first, []byte(""), []byte("   "), []byte("{not json"), huge, []byte(`{"process_connect":{}}`), first}, []byte("\n"))
	p := filepath.Join(dir, "odd.jsonl")
	if err := os.WriteFile(p, content, 0o600); err != nil {
		t.Fatal(err)
	}
	r, err := LoadReplay([]string{p}, ReplayOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Frames) != 2 {
		t.Errorf("%d events, want 2", len(r.Frames))
	}
	if r.Skipped.ByReason[SkipMalformed] != 1 || r.Skipped.ByReason[SkipTooLong] != 1 || r.Skipped.ByReason[SkipUnknownType] != 1 {
		t.Errorf("skipped = %+v", r.Skipped)
	}
	if !strings.Contains(strings.Join(r.Skipped.Examples, "\n"), "odd.jsonl:7") && !strings.Contains(strings.Join(r.Skipped.Examples, "\n"), "odd.jsonl:6") {
		t.Errorf("examples lack line numbers: %v", r.Skipped.Examples)
	}
	if _, err := LoadReplay([]string{filepath.Join(dir, "missing.jsonl")}, ReplayOptions{}); err == nil {
		t.Error("missing file accepted")
	}
}

func TestCapturedGzipReplayOverGRPC(t *testing.T) {
	path := filepath.Join(eventsDir(t), "captured", "main-grpc.jsonl.gz")
	lines := jsonLines(t, path)
	_, addr, done := startSim(t, Config{ReplayFiles: []string{path}, WaitClient: true})
	got, err := receiveAll(t, dial(t, addr), &tetragon.GetEventsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(lines) || len(got) != 607 {
		t.Fatalf("received %d events, file has %d, want 607", len(got), len(lines))
	}
	st := <-done
	for i, m := range lines {
		if jsonType(m) != st.typeNameOf(got[i]) {
			t.Fatalf("event %d: type %s, file has %s", i, st.typeNameOf(got[i]), jsonType(m))
		}
	}
	// The received events equal the file's lines decoded directly.
	raw := testenv.ReadLines(t, path)
	for _, i := range []int{0, 1, 100, 606} {
		want := &tetragon.GetEventsResponse{}
		if err := (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(raw[i], want); err != nil {
			t.Fatal(err)
		}
		if !proto.Equal(want, got[i]) {
			t.Fatalf("event %d differs from line %d", i, i+1)
		}
	}
}

func (st *Stats) typeNameOf(ev *tetragon.GetEventsResponse) string {
	_, name := EventTypeOf(ev)
	return name
}

func timestampOf(t time.Time) *timestamppb.Timestamp { return timestamppb.New(t) }

func TestRestampWithRate(t *testing.T) {
	path := filepath.Join(eventsDir(t), "captured", "main-grpc.jsonl.gz")
	orig, err := LoadReplay([]string{path}, ReplayOptions{})
	if err != nil {
		t.Fatal(err)
	}
	before := time.Now()
	_, addr, _ := startSim(t, Config{ReplayFiles: []string{path}, Restamp: true, Rate: 4000, WaitClient: true})
	got, err := receiveAll(t, dial(t, addr), &tetragon.GetEventsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	after := time.Now()
	if len(got) != len(orig.Frames) {
		t.Fatalf("got %d events, want %d", len(got), len(orig.Frames))
	}
	var prev time.Time
	for i, ev := range got {
		ts := ev.GetTime().AsTime()
		if ts.Before(before.Add(-2*time.Second)) || ts.After(after.Add(2*time.Second)) {
			t.Fatalf("event %d time %s not within a few seconds of the run [%s, %s]", i, ts, before, after)
		}
		if ts.Before(prev) {
			t.Fatalf("event %d time %s before previous %s", i, ts, prev)
		}
		prev = ts
		checkShiftedConsistently(t, i, orig.Frames[i], ev)
	}
}

// checkShiftedConsistently verifies that every process start time moved by as much as the event
// time, and that nothing else changed.
func checkShiftedConsistently(t *testing.T, i int, origFrame *Frame, got *tetragon.GetEventsResponse) {
	t.Helper()
	want, err := origFrame.Decode()
	if err != nil {
		t.Fatal(err)
	}
	got = proto.Clone(got).(*tetragon.GetEventsResponse)
	// An event without a time gets one; its other timestamps stay where they were.
	var shift time.Duration
	if want.GetTime() != nil {
		shift = got.GetTime().AsTime().Sub(want.GetTime().AsTime())
	}
	wp, wparent, _, _ := eventParts(want)
	gp, gparent, _, _ := eventParts(got)
	for _, pair := range [][2]*tetragon.Process{{wp, gp}, {wparent, gparent}} {
		if pair[0].GetStartTime() == nil {
			continue
		}
		if d := pair[1].GetStartTime().AsTime().Sub(pair[0].GetStartTime().AsTime()); d != shift {
			t.Fatalf("event %d: start_time moved by %s, event time by %s", i, d, shift)
		}
	}
	// Apart from timestamps the event is unchanged.
	clearTimes(want)
	clearTimes(got)
	if !proto.Equal(want, got) {
		t.Fatalf("event %d changed beyond its timestamps", i)
	}
}

func clearTimes(ev *tetragon.GetEventsResponse) {
	ev.Time = nil
	proc, parent, ancestors, _ := eventParts(ev)
	for _, p := range append([]*tetragon.Process{proc, parent}, ancestors...) {
		if p != nil {
			p.StartTime = nil
			if p.GetPod().GetContainer() != nil {
				p.Pod.Container.StartTime = nil
			}
		}
	}
	if e := ev.GetProcessExit(); e != nil {
		e.Time = nil
	}
}

func TestRestampKeepsSpacing(t *testing.T) {
	path := filepath.Join(eventsDir(t), "captured", "main-grpc.jsonl.gz")
	orig, err := LoadReplay([]string{path}, ReplayOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// Real files are years apart and unsorted: gaps are clamped to [0, 1s].
	files := append([]string{path}, realFiles(t)...)
	all, err := LoadReplay(files, ReplayOptions{})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, addr, _ := startSim(t, Config{ReplayFiles: files, Restamp: true, WaitClient: true})
	got, err := receiveAll(t, dial(t, addr), &tetragon.GetEventsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(all.Frames) {
		t.Fatalf("got %d events, want %d", len(got), len(all.Frames))
	}
	if first := got[0].GetTime().AsTime(); first.Before(start.Add(-time.Second)) || first.After(time.Now().Add(time.Second)) {
		t.Fatalf("first event at %s, want about now (%s)", first, start)
	}
	for i := 1; i < len(got); i++ {
		gap := got[i].GetTime().AsTime().Sub(got[i-1].GetTime().AsTime())
		var ow time.Duration
		if i < len(orig.Frames) {
			a, _ := orig.Frames[i-1].Decode()
			b, _ := orig.Frames[i].Decode()
			ow = min(max(b.GetTime().AsTime().Sub(a.GetTime().AsTime()), 0), DefaultRestampMaxGap)
		} else {
			ow = gap
		}
		if gap != ow || gap < 0 || gap > DefaultRestampMaxGap {
			t.Fatalf("gap %d = %s, want %s within [0, %s]", i, gap, ow, DefaultRestampMaxGap)
		}
		checkShiftedConsistently(t, i, all.Frames[i], got[i])
	}
}

func TestRestampRenderMatchesMarshal(t *testing.T) {
	for _, f := range realFiles(t) {
		r, err := LoadReplay([]string{f}, ReplayOptions{JSON: true, Restamp: true})
		if err != nil {
			t.Fatal(err)
		}
		at := time.Date(2030, 1, 2, 3, 4, 5, 123456789, time.UTC)
		for i, fr := range r.Frames {
			out := fr.stamp.render(fr.Meta, at)
			fromWire := &tetragon.GetEventsResponse{}
			if err := proto.Unmarshal(out.Wire, fromWire); err != nil {
				t.Fatalf("%s #%d: rendered wire does not parse: %v", f, i, err)
			}
			fromJSON := &tetragon.GetEventsResponse{}
			if err := protojson.Unmarshal(out.JSON, fromJSON); err != nil {
				t.Fatalf("%s #%d: rendered JSON does not parse: %v\n%s", f, i, err, out.JSON)
			}
			if !proto.Equal(fromWire, fromJSON) {
				t.Fatalf("%s #%d: wire and JSON renderings differ", f, i)
			}
			if !fromWire.GetTime().AsTime().Equal(at) {
				t.Fatalf("%s #%d: time %s, want %s", f, i, fromWire.GetTime().AsTime(), at)
			}
			checkShiftedConsistently(t, i, fr, fromWire)
		}
	}
}

func TestFormatRFC3339MatchesProtojson(t *testing.T) {
	for _, ns := range []int{0, 5_000_000, 123_000, 1, 999_999_999, 120_000_000} {
		ts := time.Date(2026, 11, 26, 17, 7, 3, ns, time.UTC)
		b, err := jsonMarshal.Marshal(&tetragon.GetEventsResponse{Time: timestampOf(ts)})
		if err != nil {
			t.Fatal(err)
		}
		if want := `"` + formatRFC3339(ts) + `"`; !bytes.Contains(b, []byte(want)) {
			t.Errorf("protojson %s lacks %s", b, want)
		}
	}
}

func TestExportRotationLosesNothing(t *testing.T) {
	dir := t.TempDir()
	export := filepath.Join(dir, "tetragon.log")
	const count = 3000
	_, addr, done := startSim(t, Config{Generate: true, Count: count, WaitClient: true,
		ExportFile: export, ExportMaxBytes: 256 << 10, ExportBackups: 0})
	got, err := receiveAll(t, dial(t, addr), &tetragon.GetEventsRequest{})
	if err != nil || len(got) != count {
		t.Fatalf("client got %d events (%v), want %d", len(got), err, count)
	}
	st := <-done
	rotated, err := filepath.Glob(filepath.Join(dir, "tetragon-*.log"))
	if err != nil {
		t.Fatal(err)
	}
	if len(rotated) < 2 || st.ExportRotations != len(rotated) {
		t.Fatalf("rotated files %v, stats %d rotations; want at least 2", rotated, st.ExportRotations)
	}
	for _, p := range rotated {
		name := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(p), "tetragon-"), ".log")
		if _, err := time.Parse(BackupTimeFormat, name); err != nil {
			t.Errorf("rotated file %s not named tetragon-<%s>.log: %v", p, BackupTimeFormat, err)
		}
		if fi, _ := os.Stat(p); fi.Size() > 256<<10 {
			t.Errorf("%s is %d bytes, over the limit", p, fi.Size())
		}
	}
	sort.Strings(rotated) // chronological
	var lines [][]byte
	for _, p := range append(rotated, export) {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if len(b) > 0 && b[len(b)-1] != '\n' {
			t.Errorf("%s does not end with a newline", p)
		}
		for _, l := range bytes.Split(bytes.TrimSuffix(b, []byte("\n")), []byte("\n")) {
			if len(l) > 0 {
				lines = append(lines, l)
			}
		}
	}
	if len(lines) != count || st.ExportLines != count {
		t.Fatalf("export holds %d lines (stats %d), want %d", len(lines), st.ExportLines, count)
	}
	// The files, in rotation order, hold exactly the events the client received, in order.
	for i, l := range lines {
		ev := &tetragon.GetEventsResponse{}
		if err := protojson.Unmarshal(l, ev); err != nil {
			t.Fatalf("line %d: %v", i, err)
		}
		if !proto.Equal(ev, got[i]) {
			t.Fatalf("export line %d differs from event %d sent over gRPC", i, i)
		}
		if !bytes.Contains(l, []byte(`"node_name"`)) || bytes.Contains(l, []byte(`"nodeName"`)) {
			t.Fatalf("line %d does not use proto (snake_case) names: %.200s", i, l)
		}
	}
}

func TestExportBackupsPruned(t *testing.T) {
	dir := t.TempDir()
	w, err := NewExportWriter(filepath.Join(dir, "tetragon.log"), 1000, 2)
	if err != nil {
		t.Fatal(err)
	}
	clock := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	w.now = func() time.Time { return clock }
	line := bytes.Repeat([]byte("x"), 399)
	for i := 0; i < 20; i++ {
		if err := w.WriteLine(line); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	backups, _ := filepath.Glob(filepath.Join(dir, "tetragon-*.log"))
	if len(backups) != 2 || w.Rotations() != 9 {
		t.Fatalf("backups %v after %d rotations, want the newest 2 of 9", backups, w.Rotations())
	}
	// Same-millisecond rotations got distinct, ordered names.
	if !strings.HasSuffix(backups[1], "tetragon-2026-01-01T00-00-00.008.log") {
		t.Errorf("newest backup %s", backups[1])
	}
}

func TestReplayLoopCountAndExportOnly(t *testing.T) {
	dir := t.TempDir()
	export := filepath.Join(dir, "events.log")
	sim, err := New(Config{ReplayFiles: realFiles(t), Loop: true, Count: 200, ExportFile: export, Log: &bytes.Buffer{}})
	if err != nil {
		t.Fatal(err)
	}
	st, err := sim.Run(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(export)
	if n := bytes.Count(b, []byte("\n")); n != 200 || st.Sent != 200 {
		t.Fatalf("export has %d lines, sent %d; want 200", n, st.Sent)
	}
	// Without --loop a replay ends at its end even with a larger count.
	sim, err = New(Config{ReplayFiles: realFiles(t), Count: 1000, ExportFile: filepath.Join(dir, "once.log"), Log: &bytes.Buffer{}})
	if err != nil {
		t.Fatal(err)
	}
	if st, err = sim.Run(t.Context()); err != nil || st.Sent != 56 {
		t.Fatalf("sent %d (%v), want 56", st.Sent, err)
	}
}

func TestRateIsHonoured(t *testing.T) {
	sim, err := New(Config{Generate: true, Rate: 400, Count: 200, ExportFile: filepath.Join(t.TempDir(), "x.log"), Log: &bytes.Buffer{}})
	if err != nil {
		t.Fatal(err)
	}
	st, err := sim.Run(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	// 200 events at 400/s take about half a second; far less would mean no pacing at all.
	if st.ElapsedSeconds < 0.3 {
		t.Fatalf("200 events at 400/s took %.3fs", st.ElapsedSeconds)
	}
}
