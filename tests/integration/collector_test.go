// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

//go:build integration

// Package integration runs the built distribution (bin/otelcol-runtime-security) against the real
// Tetragon corpus, in file mode and over gRPC through tetragon-sim.
package integration

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/testenv"
)

// realCounts is the README table of ../shared/tetragon-events/real/.
var realCounts = map[string]int{
	"tetragon.process_exec":     25,
	"tetragon.process_exit":     11,
	"tetragon.process_kprobe":   18,
	"tetragon.process_throttle": 2,
}

const fileExporterConfig = `
exporters:
  file:
    path: {{OUT}}
    format: json
    flush_interval: 100ms
service:
  telemetry:
    logs:
      level: info
    metrics:
      level: detailed
      readers:
        - pull:
            exporter:
              prometheus:
                host: 127.0.0.1
                port: {{METRICS_PORT}}
  pipelines:
    logs:
      receivers: [tetragon]
      exporters: [file]
`

// record is one LogRecord with its resource, flattened for assertions.
type record struct {
	eventName string
	resource  map[string]any
	attrs     map[string]any
	body      plog.LogRecord
	ts        time.Time
}

// readRecords parses the file exporter's output (one OTLP JSON request per line).
func readRecords(t *testing.T, path string) []record {
	t.Helper()
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []record
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 256<<20)
	var u plog.JSONUnmarshaler
	for sc.Scan() {
		logs, err := u.UnmarshalLogs(sc.Bytes())
		if err != nil {
			continue // a line still being written
		}
		for i := 0; i < logs.ResourceLogs().Len(); i++ {
			rl := logs.ResourceLogs().At(i)
			res := rl.Resource().Attributes().AsRaw()
			for j := 0; j < rl.ScopeLogs().Len(); j++ {
				lrs := rl.ScopeLogs().At(j).LogRecords()
				for k := 0; k < lrs.Len(); k++ {
					lr := lrs.At(k)
					out = append(out, record{eventName: lr.EventName(), resource: res, attrs: lr.Attributes().AsRaw(), body: lr, ts: lr.Timestamp().AsTime()})
				}
			}
		}
	}
	return out
}

func countByName(recs []record) map[string]int {
	m := map[string]int{}
	for _, r := range recs {
		m[r.eventName]++
	}
	return m
}

// writeCorpus concatenates files matching glob into one temporary export file.
func writeCorpus(t *testing.T, dst string, globs ...string) int {
	t.Helper()
	var lines int
	out, err := os.Create(dst)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	for _, g := range globs {
		files, _ := filepath.Glob(g)
		if len(files) == 0 {
			t.Fatalf("no files match %s", g)
		}
		sort.Strings(files)
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			for _, l := range strings.Split(strings.TrimRight(string(b), "\n"), "\n") {
				if strings.TrimSpace(l) == "" {
					continue
				}
				fmt.Fprintln(out, l)
				lines++
			}
		}
	}
	return lines
}

func startCollector(t *testing.T, name, config string) *testenv.Process {
	t.Helper()
	bin := testenv.Binary(t, "OTELCOL_BIN", "otelcol-runtime-security")
	cfg := testenv.WriteFile(t, t.TempDir(), name+".yaml", config)
	return testenv.Start(t, name, bin, "--config="+cfg)
}

// assertRealMapping checks the records made from the 56 real events.
func assertRealMapping(t *testing.T, recs []record) {
	t.Helper()
	// Tetragon events carry their time; one docs example has none, and its record keeps a zero
	// Timestamp (the ObservedTimestamp is set) rather than an invented one.
	untimed := linesWithout(t, filepath.Join(testenv.EventsDir(t), "real", "*.jsonl"), `"time"`)
	var zero int
	got := countByName(recs)
	for name, want := range realCounts {
		if got[name] != want {
			t.Errorf("%s: got %d records, want %d (all: %v)", name, got[name], want, got)
		}
	}
	if len(recs) != 56 {
		t.Errorf("got %d records, want 56", len(recs))
	}
	var podExec, fileKprobe bool
	for _, r := range recs {
		if r.body.Timestamp() == 0 {
			zero++
		} else if r.ts.Year() < 2020 {
			t.Errorf("%s: timestamp %v is not the event time", r.eventName, r.ts)
		}
		if r.body.ObservedTimestamp() == 0 {
			t.Errorf("%s: no ObservedTimestamp", r.eventName)
		}
		if r.eventName == "tetragon.process_exec" && r.resource["k8s.pod.name"] != nil {
			podExec = true
			for _, k := range []string{"k8s.namespace.name", "k8s.node.name", "container.id"} {
				if r.resource[k] == nil {
					t.Errorf("pod exec record lacks resource attribute %s: %v", k, r.resource)
				}
			}
			for _, k := range []string{"process.pid", "process.executable.path", "process.executable.name", "tetragon.exec_id"} {
				if r.attrs[k] == nil {
					t.Errorf("exec record lacks attribute %s: %v", k, r.attrs)
				}
			}
		}
		if r.eventName == "tetragon.process_kprobe" && r.attrs["file.path"] == "/etc/passwd" {
			fileKprobe = true
			if r.attrs["tetragon.function_name"] == nil || r.attrs["tetragon.args"] == nil {
				t.Errorf("file kprobe lacks hook attributes: %v", r.attrs)
			}
		}
	}
	if zero != untimed {
		t.Errorf("%d records without Timestamp, but %d corpus lines lack a time", zero, untimed)
	}
	if !podExec {
		t.Error("no process_exec record carries k8s.pod.name")
	}
	if !fileKprobe {
		t.Error("no kprobe record has file.path /etc/passwd")
	}
}

func TestFileModeRealCorpus(t *testing.T) {
	dir := t.TempDir()
	events := testenv.EventsDir(t)
	export := filepath.Join(dir, "tetragon.log")
	n := writeCorpus(t, export, filepath.Join(events, "real", "*.jsonl"), filepath.Join(events, "legacy", "*.jsonl"))
	out := filepath.Join(dir, "out.json")
	port := testenv.FreePort(t)
	cfg := testenv.Expand(`
receivers:
  tetragon:
    file:
      path: {{EXPORT}}
      start_at: beginning
`+fileExporterConfig, map[string]string{"EXPORT": export, "OUT": out, "METRICS_PORT": fmt.Sprint(port)})
	col := startCollector(t, "collector-file", cfg)
	testenv.Eventually(t, 60*time.Second, "56 records in the file exporter output", func() bool {
		if col.Exited() {
			t.Fatalf("collector exited: %v\n%s", col.ExitErr(), col.Tail(4000))
		}
		return len(readRecords(t, out)) >= 56
	})
	time.Sleep(time.Second) // anything beyond 56 would be a duplicate
	recs := readRecords(t, out)
	assertRealMapping(t, recs)
	t.Logf("%d lines in, %d records out", n, len(recs))
	assertLegacyCounted(t, port)
}

func TestGRPCModeRealCorpus(t *testing.T) {
	dir := t.TempDir()
	events := testenv.EventsDir(t)
	sock := filepath.Join(dir, "tetragon.sock")
	files, _ := filepath.Glob(filepath.Join(events, "real", "*.jsonl"))
	args := []string{"--listen", "unix://" + sock}
	for _, f := range files {
		args = append(args, "--replay", f)
	}
	sim := testenv.Start(t, "tetragon-sim", testenv.Binary(t, "TETRAGON_SIM_BIN", "tetragon-sim"), args...)
	out := filepath.Join(dir, "out.json")
	cfg := testenv.Expand(`
receivers:
  tetragon:
    grpc:
      endpoint: unix://{{SOCK}}
`+fileExporterConfig, map[string]string{"SOCK": sock, "OUT": out, "METRICS_PORT": fmt.Sprint(testenv.FreePort(t))})
	col := startCollector(t, "collector-grpc", cfg)
	testenv.Eventually(t, 60*time.Second, "56 records in the file exporter output", func() bool {
		if col.Exited() {
			t.Fatalf("collector exited: %v\n%s", col.ExitErr(), col.Tail(4000))
		}
		return len(readRecords(t, out)) >= 56
	})
	time.Sleep(time.Second)
	assertRealMapping(t, readRecords(t, out))
	if !strings.Contains(col.Log(), "Tetragon") {
		t.Errorf("collector did not log the Tetragon version on connect")
	}
	_ = sim
}

// metricValue sums the samples of a Prometheus text-format metric whose labels contain every
// fragment in want (e.g. `reason="unknown_event_type"`).
func metricValue(t *testing.T, port int, name string, want ...string) (float64, bool) {
	t.Helper()
	body, err := httpGet(fmt.Sprintf("http://127.0.0.1:%d/metrics", port))
	if err != nil {
		return 0, false
	}
	var sum float64
	var found bool
	for _, line := range strings.Split(body, "\n") {
		if !strings.HasPrefix(line, name) || strings.HasPrefix(line, "#") {
			continue
		}
		rest := line[len(name):]
		if rest == "" || (rest[0] != '{' && rest[0] != ' ' && !strings.HasPrefix(rest, "_total")) {
			continue
		}
		ok := true
		for _, w := range want {
			if !strings.Contains(line, w) {
				ok = false
			}
		}
		if !ok {
			continue
		}
		var v float64
		fields := strings.Fields(line)
		if _, err := fmt.Sscanf(fields[len(fields)-1], "%g", &v); err == nil {
			sum += v
			found = true
		}
	}
	return sum, found
}

// assertLegacyCounted: the 11 legacy events of unknown types and the malformed docs line are
// counted by reason in the receiver's telemetry, and the collector kept running.
func assertLegacyCounted(t *testing.T, port int) {
	t.Helper()
	var unknown, malformed float64
	testenv.Eventually(t, 30*time.Second, "decode errors in receiver telemetry", func() bool {
		unknown, _ = metricValue(t, port, "otelcol_receiver_tetragon_decode_errors", `reason="unknown_event_type"`)
		malformed, _ = metricValue(t, port, "otelcol_receiver_tetragon_decode_errors", `reason="malformed"`)
		return unknown == 11 && malformed == 1
	})
	t.Logf("receiver counted %v unknown-type and %v malformed lines", unknown, malformed)
}

// linesWithout counts the non-empty lines of the files matching glob that lack substr.
func linesWithout(t *testing.T, glob, substr string) int {
	t.Helper()
	files, _ := filepath.Glob(glob)
	var n int
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range strings.Split(string(b), "\n") {
			if strings.TrimSpace(l) != "" && !strings.Contains(l, substr) {
				n++
			}
		}
	}
	return n
}
