// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

//go:build integration

package integration

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/testenv"
)

// TestFileRotationAndRestart: tetragon-sim writes a Tetragon export file rotated every 200 KB
// (about 500 rotations, several a second: often some before the collector first starts, dozens
// while it is down) while the collector tails it with checkpoints in file_storage; the collector
// is stopped and started again mid-run. Every event must come out exactly once.
func TestFileRotationAndRestart(t *testing.T) {
	dir := t.TempDir()
	export := filepath.Join(dir, "tetragon.log")
	storage := filepath.Join(dir, "storage")
	if err := os.MkdirAll(storage, 0o700); err != nil {
		t.Fatal(err)
	}
	const count = 8000
	sim := testenv.Start(t, "tetragon-sim", testenv.Binary(t, "TETRAGON_SIM_BIN", "tetragon-sim"),
		"--export-file", export, "--export-max-bytes", rotateBytes(), "--export-backups", "0",
		"--generate", "--scenario", "exec-heavy", "--rate", "1000", "--count", fmt.Sprint(count), "--seed", "3", "--stats")

	config := func(out string) string {
		return testenv.Expand(`
extensions:
  file_storage:
    directory: {{STORAGE}}
receivers:
  tetragon:
    file:
      path: {{EXPORT}}
      start_at: beginning
      storage: file_storage
exporters:
  file:
    path: {{OUT}}
    format: json
    flush_interval: 100ms
service:
  extensions: [file_storage]
  telemetry:
    metrics:
      level: none
  pipelines:
    logs:
      receivers: [tetragon]
      exporters: [file]
`, map[string]string{"STORAGE": storage, "EXPORT": export, "OUT": out})
	}
	out1, out2 := filepath.Join(dir, "out1.json"), filepath.Join(dir, "out2.json")
	col := startCollector(t, "collector-run1", config(out1))
	testenv.Eventually(t, 30*time.Second, "first run delivers records", func() bool { return len(readRecords(t, out1)) > 1000 })
	if err := col.Stop(20 * time.Second); err != nil {
		t.Logf("first run exit: %v", err)
	}
	first := len(readRecords(t, out1))
	time.Sleep(time.Second) // the simulator keeps writing and rotating meanwhile
	col2 := startCollector(t, "collector-run2", config(out2))

	if err := sim.Wait(60 * time.Second); err != nil {
		t.Fatalf("tetragon-sim: %v", err)
	}
	var st struct {
		Sent int `json:"sent"`
	}
	for _, l := range strings.Split(sim.Log(), "\n") {
		if strings.HasPrefix(l, `{"sent"`) {
			_ = json.Unmarshal([]byte(l), &st)
		}
	}
	if st.Sent != count {
		t.Fatalf("simulator sent %d, want %d:\n%s", st.Sent, count, sim.Tail(2000))
	}
	rotated, _ := filepath.Glob(filepath.Join(dir, "tetragon-*.log"))
	if len(rotated) < 5 {
		t.Fatalf("only %d rotations happened; the test needs several", len(rotated))
	}
	deadline := time.Now().Add(60 * time.Second)
	for first+len(readRecords(t, out2)) < count && time.Now().Before(deadline) {
		time.Sleep(500 * time.Millisecond)
	}
	time.Sleep(2 * time.Second)

	seen := map[string]int{}
	for _, out := range []string{out1, out2} {
		for _, r := range readRecords(t, out) {
			key := fmt.Sprintf("%s|%v|%d", r.eventName, r.attrs["tetragon.exec_id"], r.body.Timestamp())
			seen[key]++
		}
	}
	var dups int
	for k, n := range seen {
		if n > 1 {
			dups++
			if dups < 5 {
				t.Errorf("event delivered %d times: %s", n, k)
			}
		}
	}
	if len(seen) != count || dups > 0 {
		t.Errorf("%d distinct events delivered (%d duplicated), simulator wrote %d", len(seen), dups, count)
	}
	t.Logf("%d events through %d rotations and one restart (%d before, %d after)", count, len(rotated), first, len(readRecords(t, out2)))
	_ = col2
}

// rotateBytes is the export file size limit; ROTATE_BYTES overrides it to stress rotation.
func rotateBytes() string {
	if v := os.Getenv("ROTATE_BYTES"); v != "" {
		return v
	}
	return "200000"
}
