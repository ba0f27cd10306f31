// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

//go:build chaos

package chaos

import (
	"fmt"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/testenv"
)

// TestLogStoreOutage: the all-events log store is stopped for 8 s while events flow over gRPC,
// then started again on its data. The persistent queue holds what could not be sent: every
// event is stored exactly once, and so is every detection in the detections store.
func TestLogStoreOutage(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	runOutage(t, h, "log-store outage", nil)
}

// runOutage is the log-store outage scenario; start starts the collector (nil: as is).
func runOutage(t *testing.T, h *harness, name string, start func()) {
	set := events(t)
	sim := h.startSimGRPC("tetragon-sim", set, 300)
	if start == nil {
		h.startCollector()
	} else {
		start()
	}

	var mu sync.Mutex
	var queuePeak float64
	h.poll(250*time.Millisecond, func(m metrics) {
		mu.Lock()
		queuePeak = math.Max(queuePeak, m.sum("otelcol_exporter_queue_size", `exporter="otlp_http/logs"`))
		mu.Unlock()
	})

	testenv.Eventually(t, 60*time.Second, "first records in the all-events store", func() bool {
		n, _ := h.all.Count("*")
		return n > 0
	})
	h.all.Stop()
	t.Logf("all-events store stopped")
	time.Sleep(8 * time.Second)
	h.all.Start()
	t.Logf("all-events store started again")

	st := h.waitSim(sim, 3*time.Minute)
	if st.Sent != len(set.Keys) || len(st.Clients) != 1 || st.Clients[0].Delivered != len(set.Keys) {
		t.Fatalf("simulator: sent %d, clients %+v; want %d delivered to one client", st.Sent, st.Clients, len(set.Keys))
	}
	h.all.waitCount(t, "*", len(set.Keys), 3*time.Minute)
	h.det.settle(t, "*")
	all, det := h.storedTally(set, false)
	m, err := h.scrape()
	if err != nil {
		t.Fatal(err)
	}
	failed := m.sum("otelcol_exporter_send_failed_log_records")
	refused := m.sum("otelcol_receiver_refused_log_records")
	h.stopCollector()
	peak := h.checkMemory()

	if lost := len(set.Keys) - all.Distinct; lost != 0 || all.Duplicates != 0 {
		t.Errorf("across the outage: %d of %d events lost, %d duplicated (stored: %s)", lost, len(set.Keys), all.Duplicates, fmtRuns(all.runs()))
	}
	if failed != 0 || refused != 0 {
		t.Errorf("the outage was not absorbed by the queue: %v records failed to send, %v refused", failed, refused)
	}
	mu.Lock()
	t.Logf("otlp_http/logs queue peaked at %.0f bytes during the outage", queuePeak)
	if queuePeak == 0 {
		t.Errorf("the otlp_http/logs queue never held anything: the outage did not happen while events flowed")
	}
	mu.Unlock()
	record(row{Scenario: name, Mode: "gRPC", Sent: len(set.Keys), Stored: all.Distinct, Lost: len(set.Keys) - all.Distinct,
		Duplicates: all.Duplicates + det.Duplicates, PeakRSSMiB: peak,
		Errors: fmt.Sprintf("send_failed %.0f, refused %.0f; queue peak %.0f KiB", failed, refused, queuePeak/1024)})
}
