// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

//go:build chaos

package chaos

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/testenv"
)

// smallQueueBytes is the otlp_http/logs persistent queue of the queue-full scenario: about a
// second of these events (~6.5 KB each in the queue), yet above the largest request the receiver
// makes (192 events).
const smallQueueBytes = 4 << 20

// TestQueueFull: in export-file mode, the all-events store goes away and its persistent queue,
// shrunk to 4 MiB by a configuration overlay (the shipped sizer: bytes, block_on_overflow: true),
// fills up; the pipeline then blocks and the receiver stops reading the file while Tetragon keeps
// writing it. When the store is back, everything drains. Nothing is lost, nothing is counted or
// detected twice: a full queue refuses nothing, so no branch sees a batch again. The all-events
// store holds every event once, the detections store every detection once, and Prometheus's
// runtime_security_events_total equals the events sent (per type), its
// runtime_security_detections_total the stored (record, rule) pairs.
func TestQueueFull(t *testing.T) {
	set := events(t)
	h := newHarness(t, harnessOptions{prometheus: true})
	export := h.exportPath()
	h.fileMode(export)
	h.overlay("small-queue", map[string]any{"exporters": map[string]any{"otlp_http/logs": map[string]any{
		"sending_queue": map[string]any{"queue_size": smallQueueBytes}}}})
	sim := h.startSimFile("tetragon-sim", set, 300, export)
	h.startCollector()

	var mu sync.Mutex
	var queuePeak, capacity float64
	h.poll(200*time.Millisecond, func(m metrics) {
		mu.Lock()
		queuePeak = math.Max(queuePeak, m.sum("otelcol_exporter_queue_size", `exporter="otlp_http/logs"`))
		capacity = m.sum("otelcol_exporter_queue_capacity", `exporter="otlp_http/logs"`)
		mu.Unlock()
	})

	testenv.Eventually(t, 60*time.Second, "first records in the all-events store", func() bool {
		n, _ := h.all.Count("*")
		return n > 0
	})
	h.all.Stop()
	t.Logf("all-events store stopped")
	// The queue fills, the pipeline blocks: the receiver's accepted count stops while the file
	// holds lines it has not read.
	var stalledAt float64
	testenv.Eventually(t, 90*time.Second, "the receiver blocked behind the full queue", func() bool {
		a1 := h.metric("otelcol_receiver_accepted_log_records")
		time.Sleep(2 * time.Second)
		a2 := h.metric("otelcol_receiver_accepted_log_records")
		stalledAt = a2
		return a1 == a2 && a2 > 0 && float64(countLines(t, export)) > a2+300
	})
	t.Logf("receiver blocked at %.0f accepted records, %d lines in the export file", stalledAt, countLines(t, export))
	time.Sleep(3 * time.Second)
	h.all.Start()
	t.Logf("all-events store started again")

	st := h.waitSim(sim, 3*time.Minute)
	n := len(set.Keys)
	if st.ExportLines != n {
		t.Fatalf("simulator wrote %d lines, want %d", st.ExportLines, n)
	}
	h.all.waitCount(t, "*", n, 3*time.Minute)
	h.det.settle(t, "*")
	all, det := h.storedTally(set, false)

	// Prometheus: wait until the count reaches what was sent, then for a later flush of the
	// cumulative sums (flush_interval 10s), and compare: an over-count would show there.
	var first float64
	testenv.Eventually(t, 2*time.Minute, "runtime_security_events_total reaches the events sent", func() bool {
		v := h.prom.Scalar(`sum(runtime_security_events_total)`)
		first = h.prom.Scalar(`max(timestamp(runtime_security_events_total))`)
		return v >= float64(n)
	})
	testenv.Eventually(t, time.Minute, "a later flush of the cumulative sums", func() bool {
		return h.prom.Scalar(`max(timestamp(runtime_security_events_total))`) > first
	})
	events := h.prom.Scalar(`sum(runtime_security_events_total)`)
	byType, _ := h.prom.Query(`sum by (event_type) (runtime_security_events_total)`)
	detections := h.prom.Scalar(`sum(runtime_security_detections_total)`)
	_, pairs := h.det.DetectionPairs(t)
	m, err := h.scrape()
	if err != nil {
		t.Fatal(err)
	}
	retries := m.sum("otelcol_receiver_tetragon_delivery_retries")
	enqueueFailed := m.sum("otelcol_exporter_enqueue_failed_log_records")
	refused := m.sum("otelcol_receiver_refused_log_records")
	h.stopCollector()
	peak := h.checkMemory()

	mu.Lock()
	t.Logf("otlp_http/logs queue: peak %.0f of %.0f bytes", queuePeak, capacity)
	if capacity != smallQueueBytes {
		t.Errorf("queue capacity %.0f, the overlay set %d", capacity, smallQueueBytes)
	}
	mu.Unlock()
	if all.Distinct != n || all.Duplicates != 0 {
		t.Errorf("all-events store: %d of %d events lost, %d duplicated", n-all.Distinct, n, all.Duplicates)
	}
	t.Logf("Prometheus: runtime_security_events_total %.0f (sent %d), runtime_security_detections_total %.0f (stored (record, rule) pairs %d)", events, n, detections, pairs)
	if events != float64(n) {
		t.Errorf("runtime_security_events_total = %.0f, %d events were sent", events, n)
	}
	for _, s := range byType {
		if want := st.ByType[s.Metric["event_type"]]; int(s.Float()) != want {
			t.Errorf("runtime_security_events_total{event_type=%q} = %.0f, sent %d", s.Metric["event_type"], s.Float(), want)
		}
	}
	if detections != float64(pairs) {
		t.Errorf("runtime_security_detections_total = %.0f, the detections store holds %d (record, rule) pairs", detections, pairs)
	}
	if retries != 0 || enqueueFailed != 0 || refused != 0 {
		t.Errorf("a full queue refused batches: delivery_retries %v, enqueue_failed %v, refused %v", retries, enqueueFailed, refused)
	}
	record(row{Scenario: "queue full", Mode: "file", Sent: n, Stored: all.Distinct, Lost: n - all.Distinct,
		Duplicates: all.Duplicates + det.Duplicates, PeakRSSMiB: peak,
		Errors: fmt.Sprintf("delivery_retries %.0f, enqueue_failed %.0f; queue peak %.0f/%.0f KiB; Prometheus events %.0f, detections %.0f = %d stored", retries, enqueueFailed, queuePeak/1024, capacity/1024, events, detections, pairs)})
}

func countLines(t *testing.T, path string) int {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	return bytes.Count(b, []byte{'\n'})
}

// TestHugeEventsFile: two valid crypto-miner executions (two pods) with 12 MiB argument lists
// arrive in export-file mode between 600 ordinary events. Each would become a record carrying its
// arguments three times (body, process.command_line, tetragon.process.arguments), ~36 MiB, and a
// request holding both (~72 MiB) is refused whole by the log store, taking the ordinary events
// of its batch with it. With the shipped max_line_bytes (the receiver's default, 1 MiB) both
// lines are skipped and counted (oversized_lines); the ordinary events must all be stored, once,
// and the collector must stay below the DaemonSet's memory limit.
func TestHugeEventsFile(t *testing.T) {
	set := events(t)
	const before, after = 300, 300
	var huge [][]byte
	var hugeKeys []string
	pods := map[string]bool{}
	for i := before + after; i < len(set.Lines) && len(huge) < 2; i++ {
		big, pod, ok := enlargeMinerExec(t, set.Lines[i], 12<<20)
		if ok && !pods[pod] {
			pods[pod] = true
			huge = append(huge, big)
			hugeKeys = append(hugeKeys, set.Keys[i])
		}
	}
	if len(huge) != 2 {
		t.Fatalf("found %d crypto-miner executions to enlarge in the event set, want 2", len(huge))
	}
	h := newHarness(t, harnessOptions{})
	f := h.ownExportFile()
	h.startCollector()
	write := func(lines [][]byte) {
		t.Helper()
		if _, err := f.Write(append(bytes.Join(lines, []byte{'\n'}), '\n')); err != nil {
			t.Fatal(err)
		}
	}
	write(set.Lines[:before])
	h.all.waitCount(t, "*", before, time.Minute)
	write(huge) // one write, the ordinary events right after: one receiver batch
	write(set.Lines[before : before+after])
	ordinary := before + after
	testenv.Eventually(t, time.Minute, "every line read", func() bool {
		return h.metric("otelcol_receiver_accepted_log_records") >= float64(ordinary) &&
			h.metric("otelcol_receiver_tetragon_oversized_lines") >= float64(len(huge))
	})
	h.all.settle(t, "*")
	h.det.settle(t, "*")
	keys, err := h.all.keys("*")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, k := range keys {
		got[k]++
	}
	var stored, lost, dups int
	for _, k := range set.Keys[:ordinary] {
		switch got[k] {
		case 0:
			lost++
		case 1:
			stored++
		default:
			stored++
			dups += got[k] - 1
		}
	}
	m, _ := h.scrape()
	col := h.col
	h.stopCollector()
	peak := h.checkMemory()
	failed := m.sum("otelcol_exporter_send_failed_log_records")
	oversized := m.sum("otelcol_receiver_tetragon_oversized_lines")
	t.Logf("exporters sent %v", m.series("otelcol_exporter_sent_log_records"))
	t.Logf("ordinary events: %d of %d stored, %d lost, %d duplicated; huge events stored: %d, %d; send_failed %v",
		stored, ordinary, lost, dups, got[hugeKeys[0]], got[hugeKeys[1]], m.series("otelcol_exporter_send_failed_log_records"))
	for _, l := range strings.Split(col.Log(), "\n") {
		if strings.Contains(l, "Dropping data") {
			t.Logf("collector: %.400s", l)
		}
	}
	if lost != 0 || dups != 0 {
		t.Errorf("%d ordinary events lost, %d duplicated around two huge events", lost, dups)
	}
	if oversized != float64(len(huge)) || got[hugeKeys[0]] != 0 || got[hugeKeys[1]] != 0 {
		t.Errorf("oversized_lines %.0f, huge events stored %d and %d; want both skipped and counted (max_line_bytes)", oversized, got[hugeKeys[0]], got[hugeKeys[1]])
	}
	record(row{Scenario: "huge events (2 × 12 MiB arguments)", Mode: "file", Sent: ordinary, Stored: stored, Lost: lost, Duplicates: dups,
		PeakRSSMiB: peak, Errors: fmt.Sprintf("oversized_lines %.0f/2 (skipped: over max_line_bytes); send_failed %.0f", oversized, failed)})
}

// enlargeMinerExec returns line with n more bytes of arguments when it is a process_exec of
// /tmp/xmrig (a crypto-miner detection), and the pod it ran in.
func enlargeMinerExec(t *testing.T, line []byte, n int) ([]byte, string, bool) {
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.UseNumber()
	var ev map[string]any
	if err := dec.Decode(&ev); err != nil {
		t.Fatal(err)
	}
	exec, _ := ev["process_exec"].(map[string]any)
	proc, _ := exec["process"].(map[string]any)
	if proc == nil || proc["binary"] != "/tmp/xmrig" {
		return nil, "", false
	}
	proc["arguments"] = strings.Repeat("A", n) + " " + fmt.Sprint(proc["arguments"])
	pod, _ := proc["pod"].(map[string]any)
	out, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return out, fmt.Sprint(pod["name"]), true
}
