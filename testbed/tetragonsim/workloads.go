// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package tetragonsim

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/cilium/tetragon/api/v1/tetragon"
	"google.golang.org/protobuf/proto"
)

// MaxSpreadEvents bounds the events SpreadWorkloads may produce (passes × recorded events): the
// replay holds all of them pre-encoded.
const MaxSpreadEvents = 1 << 20

// SpreadStats describe what SpreadWorkloads did.
type SpreadStats struct {
	// Workloads is the number asked for.
	Workloads int `json:"workloads"`
	// Units are the distinct container processes that are the subject of an event (by exec id);
	// each is one unit of assignment to a workload.
	Units int `json:"units"`
	// Passes is how many times the recorded events were repeated to reach every workload.
	Passes int `json:"passes"`
	// Distinct is the number of workloads that got at least one event of their own (= Workloads
	// when Passes × Units ≥ Workloads).
	Distinct int `json:"distinct"`
	// ContainerEvents and HostEvents count the spread events by whether their process runs in a
	// container (events of all passes).
	ContainerEvents int `json:"container_events"`
	HostEvents      int `json:"host_events"`
}

// SpreadWorkloads returns the events repeated over Passes passes in which the container
// identities are rewritten so that the container processes are spread over n distinct workloads,
// with the shapes of the recording otherwise intact.
//
// The unit of assignment is a container process: an event's process, by its exec id (docker field
// and pid when it has none), numbered 0…Units-1 in order of first appearance. In pass p unit k
// runs in workload (p × Units + k) mod n, so every event of one process in one pass (its exec,
// its hook events, its exit) lands in the same workload, and Passes = ⌈n / Units⌉ passes reach
// every workload. The parent and ancestors of an event that ran in the same recorded container
// as its process move with it; one in another container moves by its own exec id.
//
// Workload w's identity is derived from w alone: a 64-hex container id (the SHA-256 of
// "tetragon-sim workload <w>"), of which the docker fields take as many characters as they had
// (31, as Tetragon writes them); with a pod, the container id keeps its runtime prefix
// ("containerd://"), and the pod name and workload name get the suffix "-w<w>". The namespace,
// workload kind, container name, image and labels stay as recorded, so a namespace- or
// image-scoped rule exception treats a spread event as it treats the original. Events of host
// processes (no docker field, no pod) are repeated unchanged.
//
// The input events are not modified. It is an error when no event's process runs in a container
// or when the passes would exceed MaxSpreadEvents events.
func SpreadWorkloads(events []*tetragon.GetEventsResponse, n int) ([]*tetragon.GetEventsResponse, SpreadStats, error) {
	st := SpreadStats{Workloads: n}
	if n <= 0 {
		return nil, st, fmt.Errorf("workloads must be > 0, got %d", n)
	}
	units := map[string]int{}
	// Units of the events' own processes first: they decide the workloads.
	for _, ev := range events {
		if proc, _, _, _ := eventParts(ev); inContainer(proc) {
			if k := unitKey(proc); !hasKey(units, k) {
				units[k] = len(units)
			}
		}
	}
	st.Units = len(units)
	if st.Units == 0 {
		return nil, st, errors.New("no event's process runs in a container (no docker field, no pod): nothing to spread over workloads")
	}
	// Parents and ancestors in another container than their event's process, never the subject
	// of an event themselves, follow.
	for _, ev := range events {
		proc, parent, ancestors, _ := eventParts(ev)
		for _, q := range append([]*tetragon.Process{parent}, ancestors...) {
			if inContainer(q) && !sameContainer(q, proc) {
				if k := unitKey(q); !hasKey(units, k) {
					units[k] = len(units)
				}
			}
		}
	}
	st.Passes = (n + st.Units - 1) / st.Units
	if total := st.Passes * len(events); total > MaxSpreadEvents {
		return nil, st, fmt.Errorf("%d workloads over %d container processes take %d passes of the %d events (%d events; at most %d): replay more events or ask for fewer workloads",
			n, st.Units, st.Passes, len(events), total, MaxSpreadEvents)
	}
	ids := make([]string, n) // workload identities, built on first use
	idOf := func(w int) string {
		if ids[w] == "" {
			sum := sha256.Sum256([]byte(fmt.Sprintf("tetragon-sim workload %d", w)))
			ids[w] = hex.EncodeToString(sum[:])
		}
		return ids[w]
	}
	used := make([]bool, n)
	out := make([]*tetragon.GetEventsResponse, 0, st.Passes*len(events))
	for p := range st.Passes {
		workloadOf := func(q *tetragon.Process) int { return (p*st.Units + units[unitKey(q)]) % n }
		for _, orig := range events {
			proc, parent, ancestors, _ := eventParts(orig)
			containerEvent := inContainer(proc)
			hasContainer := containerEvent || inContainer(parent)
			for _, a := range ancestors {
				hasContainer = hasContainer || inContainer(a)
			}
			if !hasContainer {
				out = append(out, orig) // shared: frames are built from it, never modified
				st.HostEvents++
				continue
			}
			ev := proto.Clone(orig).(*tetragon.GetEventsResponse)
			proc, parent, ancestors, _ = eventParts(ev)
			own := -1
			if containerEvent {
				own = workloadOf(proc)
				used[own] = true
				st.ContainerEvents++
			} else {
				st.HostEvents++
			}
			// Decide every process's workload from the recorded identities, then rewrite.
			procs := append([]*tetragon.Process{proc, parent}, ancestors...)
			targets := make([]int, len(procs))
			for i, q := range procs {
				targets[i] = -1
				switch {
				case !inContainer(q):
				case own >= 0 && (q == proc || sameContainer(q, proc)):
					targets[i] = own
				default:
					targets[i] = workloadOf(q)
				}
			}
			for i, q := range procs {
				if w := targets[i]; w >= 0 {
					moveToWorkload(q, w, idOf(w))
				}
			}
			out = append(out, ev)
		}
	}
	for _, u := range used {
		if u {
			st.Distinct++
		}
	}
	return out, st, nil
}

func hasKey(m map[string]int, k string) bool { _, ok := m[k]; return ok }

// inContainer reports whether a process runs in a container: it has a docker field or a pod.
func inContainer(p *tetragon.Process) bool {
	return p != nil && (p.GetDocker() != "" || p.GetPod() != nil)
}

// containerOf is the recorded container identity of p: its docker field, else its pod's
// container id, else its pod's namespace/name/container.
func containerOf(p *tetragon.Process) string {
	if d := p.GetDocker(); d != "" {
		return d
	}
	pod := p.GetPod()
	if id := pod.GetContainer().GetId(); id != "" {
		return id
	}
	return pod.GetNamespace() + "/" + pod.GetName() + "/" + pod.GetContainer().GetName()
}

func sameContainer(a, b *tetragon.Process) bool {
	return inContainer(a) && inContainer(b) && containerOf(a) == containerOf(b)
}

// unitKey identifies a container process: its exec id, or its container and pid without one.
func unitKey(p *tetragon.Process) string {
	if id := p.GetExecId(); id != "" {
		return id
	}
	return fmt.Sprintf("%s/%d", containerOf(p), p.GetPid().GetValue())
}

// moveToWorkload rewrites p's container identity to workload w's (id: 64 hex characters).
func moveToWorkload(p *tetragon.Process, w int, id string) {
	if d := p.GetDocker(); d != "" {
		p.Docker = id[:min(len(d), len(id))]
	}
	pod := p.GetPod()
	if pod == nil {
		return
	}
	suffix := fmt.Sprintf("-w%d", w)
	if pod.Name != "" {
		pod.Name += suffix
	}
	if pod.Workload != "" {
		pod.Workload += suffix
	}
	if c := pod.GetContainer(); c != nil && c.Id != "" {
		prefix := ""
		if i := strings.Index(c.Id, "://"); i >= 0 {
			prefix = c.Id[:i+3]
		}
		c.Id = prefix + id
	}
}
