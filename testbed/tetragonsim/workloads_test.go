// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package tetragonsim

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cilium/tetragon/api/v1/tetragon"
	"google.golang.org/protobuf/proto"
)

func capturedEvents(t *testing.T) []*tetragon.GetEventsResponse {
	t.Helper()
	r, err := LoadReplay([]string{filepath.Join(eventsDir(t), "captured", "main-grpc.jsonl.gz")}, ReplayOptions{})
	if err != nil {
		t.Fatal(err)
	}
	out := make([]*tetragon.GetEventsResponse, len(r.Frames))
	for i, f := range r.Frames {
		if out[i], err = f.Decode(); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// identityless is a copy of ev without the container identities SpreadWorkloads rewrites.
func identityless(ev *tetragon.GetEventsResponse) *tetragon.GetEventsResponse {
	ev = proto.Clone(ev).(*tetragon.GetEventsResponse)
	proc, parent, ancestors, _ := eventParts(ev)
	for _, q := range append([]*tetragon.Process{proc, parent}, ancestors...) {
		if q == nil {
			continue
		}
		q.Docker = ""
		if pod := q.GetPod(); pod != nil {
			pod.Name, pod.Workload = "", ""
			if c := pod.GetContainer(); c != nil {
				c.Id = ""
			}
		}
	}
	return ev
}

func TestSpreadWorkloadsCaptured(t *testing.T) {
	events := capturedEvents(t)
	out, st, err := SpreadWorkloads(events, 500)
	if err != nil {
		t.Fatal(err)
	}
	// The capture: 607 events, 79 of them of 44 container processes (3 containers, no pods).
	if len(events) != 607 || st.Units != 44 || st.Passes != 12 || st.Distinct != 500 || len(out) != 12*607 {
		t.Fatalf("stats %+v, %d events out of %d", st, len(out), len(events))
	}
	if st.ContainerEvents != 12*79 || st.HostEvents != 12*(607-79) {
		t.Errorf("container/host events %d/%d, want %d/%d", st.ContainerEvents, st.HostEvents, 12*79, 12*(607-79))
	}
	workloads := map[string]int{}       // docker field of an event's process → events
	procWorkload := map[string]string{} // pass/exec id → docker field
	for i, ev := range out {
		orig := events[i%len(events)]
		pass := i / len(events)
		if !proto.Equal(identityless(ev), identityless(orig)) {
			t.Fatalf("event %d: more than the container identity changed", i)
		}
		proc, parent, _, _ := eventParts(ev)
		oproc, oparent, _, _ := eventParts(orig)
		if !inContainer(oproc) {
			if oproc.GetDocker() != proc.GetDocker() || proc.GetDocker() != "" {
				t.Fatalf("event %d: a host process got docker %q", i, proc.GetDocker())
			}
			if !anyInContainer(orig) && !proto.Equal(ev, orig) {
				t.Fatalf("event %d: a host event changed", i)
			}
			continue
		}
		d := proc.GetDocker()
		if len(d) != len(oproc.GetDocker()) || d == oproc.GetDocker() {
			t.Fatalf("event %d: docker %q (recorded %q): want a new id of the same length", i, d, oproc.GetDocker())
		}
		workloads[d]++
		key := strings.Join([]string{string(rune('A' + pass)), proc.GetExecId()}, "/")
		if prev, ok := procWorkload[key]; ok && prev != d {
			t.Fatalf("event %d: process %s in pass %d moved from %s to %s", i, proc.GetExecId(), pass, prev, d)
		}
		procWorkload[key] = d
		if oparent.GetDocker() == oproc.GetDocker() && parent.GetDocker() != d {
			t.Fatalf("event %d: the parent in the same container did not move with its process", i)
		}
	}
	if len(workloads) != 500 {
		t.Errorf("%d distinct workloads among container events, want 500", len(workloads))
	}
	// Deterministic: the same input gives the same output.
	again, _, err := SpreadWorkloads(events, 500)
	if err != nil {
		t.Fatal(err)
	}
	for i := range out {
		if !proto.Equal(out[i], again[i]) {
			t.Fatalf("event %d differs between two spreads", i)
		}
	}
	// The input is not modified.
	if fresh := capturedEvents(t); !proto.Equal(fresh[0], events[0]) || eventsDocker(fresh) != eventsDocker(events) {
		t.Error("SpreadWorkloads modified its input")
	}
	// Fewer workloads than processes: one pass, every workload used.
	_, st, err = SpreadWorkloads(events, 10)
	if err != nil || st.Passes != 1 || st.Distinct != 10 {
		t.Errorf("10 workloads: %+v %v", st, err)
	}
}

// anyInContainer: the event's process, parent or an ancestor runs in a container.
func anyInContainer(ev *tetragon.GetEventsResponse) bool {
	proc, parent, ancestors, _ := eventParts(ev)
	for _, q := range append([]*tetragon.Process{proc, parent}, ancestors...) {
		if inContainer(q) {
			return true
		}
	}
	return false
}

func eventsDocker(evs []*tetragon.GetEventsResponse) string {
	var b strings.Builder
	for _, ev := range evs {
		p, _, _, _ := eventParts(ev)
		b.WriteString(p.GetDocker())
	}
	return b.String()
}

func TestSpreadWorkloadsPods(t *testing.T) {
	g, err := NewGenerator(GeneratorConfig{Scenario: "benign", Seed: 3, Clock: func() time.Time { return time.Unix(1.7e9, 0) }})
	if err != nil {
		t.Fatal(err)
	}
	var events []*tetragon.GetEventsResponse
	for range 400 {
		events = append(events, g.Next())
	}
	out, st, err := SpreadWorkloads(events, 700)
	if err != nil {
		t.Fatal(err)
	}
	if st.Distinct != 700 || len(out) != st.Passes*len(events) {
		t.Fatalf("stats %+v, %d events", st, len(out))
	}
	keys := map[string]bool{}
	pods := 0
	for i, ev := range out {
		orig := events[i%len(events)]
		proc, _, _, _ := eventParts(ev)
		oproc, _, _, _ := eventParts(orig)
		pod, opod := proc.GetPod(), oproc.GetPod()
		if opod == nil {
			continue
		}
		pods++
		suffix := pod.GetName()[len(opod.GetName()):]
		if !strings.HasPrefix(pod.GetName(), opod.GetName()+"-w") || !strings.HasPrefix(suffix, "-w") {
			t.Fatalf("event %d: pod name %q from %q", i, pod.GetName(), opod.GetName())
		}
		if opod.GetWorkload() != "" && pod.GetWorkload() != opod.GetWorkload()+suffix {
			t.Fatalf("event %d: workload %q from %q, pod suffix %q", i, pod.GetWorkload(), opod.GetWorkload(), suffix)
		}
		if pod.GetNamespace() != opod.GetNamespace() || pod.GetContainer().GetName() != opod.GetContainer().GetName() ||
			pod.GetContainer().GetImage().GetName() != opod.GetContainer().GetImage().GetName() || pod.GetWorkloadKind() != opod.GetWorkloadKind() {
			t.Fatalf("event %d: namespace, container name, image or kind changed", i)
		}
		id, oid := pod.GetContainer().GetId(), opod.GetContainer().GetId()
		if oid != "" {
			prefix := oid[:strings.Index(oid, "://")+3]
			if !strings.HasPrefix(id, prefix) || len(id) != len(prefix)+64 {
				t.Fatalf("event %d: container id %q from %q", i, id, oid)
			}
			if d := proc.GetDocker(); d != "" && !strings.HasPrefix(id[len(prefix):], d) {
				t.Fatalf("event %d: docker %q is not the start of the container id %q", i, d, id)
			}
		}
		keys[pod.GetNamespace()+"/"+pod.GetWorkload()+"/"+pod.GetName()+"/"+pod.GetContainer().GetName()] = true
	}
	if pods == 0 || len(keys) < 700 {
		t.Errorf("%d pod events, %d distinct pod identities; want ≥ 700", pods, len(keys))
	}
}

func TestSpreadWorkloadsErrors(t *testing.T) {
	events := capturedEvents(t)
	if _, _, err := SpreadWorkloads(events, 0); err == nil {
		t.Error("0 workloads: no error")
	}
	var host []*tetragon.GetEventsResponse
	for _, ev := range events {
		if p, _, _, _ := eventParts(ev); !inContainer(p) {
			host = append(host, ev)
		}
	}
	if _, _, err := SpreadWorkloads(host, 5); err == nil || !strings.Contains(err.Error(), "no event's process runs in a container") {
		t.Errorf("host events only: %v", err)
	}
	if _, _, err := SpreadWorkloads(events, 44*(MaxSpreadEvents/607+1)); err == nil || !strings.Contains(err.Error(), "passes") {
		t.Errorf("too many passes: %v", err)
	}
	if _, err := LoadReplay([]string{filepath.Join(eventsDir(t), "captured", "main-grpc.jsonl.gz")}, ReplayOptions{Workloads: -1}); err == nil {
		t.Error("negative workloads: no error")
	}
	if _, err := New(Config{Generate: true, Workloads: 5, ExportFile: filepath.Join(t.TempDir(), "x.log")}); err == nil ||
		!strings.Contains(err.Error(), "--workloads applies to --replay") {
		t.Errorf("--workloads with --generate: %v", err)
	}
}

// TestReplayWorkloadsRestamped: LoadReplay with Workloads frames every spread event, restamp
// templates included, and the frames' filter keys see the new identities.
func TestReplayWorkloadsRestamped(t *testing.T) {
	r, err := LoadReplay([]string{filepath.Join(eventsDir(t), "captured", "main-grpc.jsonl.gz")}, ReplayOptions{Workloads: 100, Restamp: true})
	if err != nil {
		t.Fatal(err)
	}
	if r.Spread.Passes != 3 || r.Spread.Distinct != 100 || len(r.Frames) != 3*607 {
		t.Fatalf("spread %+v, %d frames", r.Spread, len(r.Frames))
	}
	dockers := map[string]bool{}
	for _, f := range r.Frames {
		if f.stamp == nil {
			t.Fatal("frame without restamp template")
		}
		if f.Meta.Docker != "" {
			dockers[f.Meta.Docker] = true
		}
	}
	if len(dockers) != 100 {
		t.Errorf("%d distinct docker fields in the frames, want 100", len(dockers))
	}
	at := time.Unix(1.8e9, 0)
	ev := &tetragon.GetEventsResponse{}
	if err := proto.Unmarshal(r.Frames[len(r.Frames)-1].stamp.render(r.Frames[len(r.Frames)-1].Meta, at).Wire, ev); err != nil || !ev.GetTime().AsTime().Equal(at) {
		t.Errorf("restamped spread frame: %v %v", ev.GetTime(), err)
	}
}
