// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

//go:build chaos

package chaos

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/testenv"
)

// TestTetragonRestart: Tetragon (tetragon-sim) is SIGKILLed mid-stream and a new one started 3 s
// later on the same socket. The receiver reconnects by itself; the new Tetragon's events all
// arrive, once; what the first one had delivered before it died is stored as a prefix of what it
// was sending, with no hole. otelcol_receiver_tetragon_connected goes 1 → 0 → 1.
func TestTetragonRestart(t *testing.T) {
	set := events(t) // what the two Tetragons send, in turn
	half := len(set.Keys) / 2
	before, after := set.slice(t, 0, half), set.slice(t, half, len(set.Keys))
	h := newHarness(t, harnessOptions{})

	var mu sync.Mutex
	var states []float64 // connected gauge, one entry per change
	h.poll(100*time.Millisecond, func(m metrics) {
		v := m.sum("otelcol_receiver_tetragon_connected")
		mu.Lock()
		if len(states) == 0 || states[len(states)-1] != v {
			states = append(states, v)
		}
		mu.Unlock()
	})
	connected := func() float64 {
		mu.Lock()
		defer mu.Unlock()
		if len(states) == 0 {
			return -1
		}
		return states[len(states)-1]
	}

	sim1 := h.startSimGRPC("tetragon-sim-1", before, 300)
	h.startCollector()
	h.waitAccepted(300)
	testenv.Eventually(t, 10*time.Second, "connected gauge 1", func() bool { return connected() == 1 })
	sim1.Kill()
	t.Logf("tetragon-sim SIGKILLed")
	testenv.Eventually(t, 30*time.Second, "connected gauge 0 after Tetragon died", func() bool { return connected() == 0 })
	time.Sleep(3 * time.Second)
	sim2 := h.startSimGRPC("tetragon-sim-2", after, 300)
	t.Logf("tetragon-sim started again on the same socket")
	testenv.Eventually(t, 60*time.Second, "connected gauge 1 → 0 → 1", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return subsequence(states, []float64{1, 0, 1})
	})

	st := h.waitSim(sim2, 3*time.Minute)
	if st.Sent != len(after.Keys) || len(st.Clients) != 1 || st.Clients[0].Delivered != len(after.Keys) {
		t.Fatalf("second simulator: sent %d, clients %+v; want %d delivered to one client", st.Sent, st.Clients, len(after.Keys))
	}
	h.all.waitCount(t, "*", len(after.Keys), 3*time.Minute)
	h.det.settle(t, "*")
	stored, det := h.storedTally(set, false)
	m, err := h.scrape()
	if err != nil {
		t.Fatal(err)
	}
	disconnects := m.sum("otelcol_receiver_tetragon_grpc_disconnects")
	reconnects := m.sum("otelcol_receiver_tetragon_grpc_reconnects")
	h.stopCollector()
	peak := h.checkMemory()

	runs := stored.runs()
	n1 := len(before.Keys)
	t.Logf("stored positions (first Tetragon [0,%d), second [%d,%d)): %s", n1, n1, len(set.Keys), fmtRuns(runs))
	if len(runs) != 2 || runs[0][0] != 0 || runs[0][1] > n1 || runs[1][0] != n1 || runs[1][1] != len(set.Keys) {
		t.Errorf("want a prefix of the first Tetragon's events and all of the second's, stored %s", fmtRuns(runs))
	}
	if stored.Duplicates != 0 {
		t.Errorf("%d duplicates", stored.Duplicates)
	}
	mu.Lock()
	seq := append([]float64(nil), states...)
	mu.Unlock()
	// The last 0 is the second simulator ending its stream when its events are sent.
	t.Logf("otelcol_receiver_tetragon_connected went %v; grpc_disconnects %v, grpc_reconnects %v", seq, disconnects, reconnects)
	if disconnects < 1 || reconnects < 1 {
		t.Errorf("grpc_disconnects %v, grpc_reconnects %v: the restart was not counted", disconnects, reconnects)
	}
	received := 0
	if len(runs) > 0 && runs[0][0] == 0 {
		received = runs[0][1]
	}
	record(row{Scenario: "Tetragon restart", Mode: "gRPC", Sent: received + len(after.Keys), Stored: stored.Distinct,
		Lost: received + len(after.Keys) - stored.Distinct, Gap: -1, Duplicates: stored.Duplicates + det.Duplicates, PeakRSSMiB: peak,
		Errors: fmt.Sprintf("connected %v; grpc_disconnects %.0f, grpc_reconnects %.0f", seq, disconnects, reconnects)})
}

// subsequence reports whether want appears in seq in order (not necessarily adjacent).
func subsequence(seq, want []float64) bool {
	i := 0
	for _, v := range seq {
		if i < len(want) && v == want[i] {
			i++
		}
	}
	return i == len(want)
}
