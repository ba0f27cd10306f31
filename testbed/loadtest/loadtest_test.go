// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package loadtest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cilium/tetragon/api/v1/tetragon"
	"google.golang.org/protobuf/proto"
	"gopkg.in/yaml.v3"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/testenv"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/testbed/tetragonsim"
)

func TestParseStat(t *testing.T) {
	// The command name may hold spaces and parentheses.
	stat := []byte("4242 (otel col) (x)) S 1 4242 4242 0 -1 4194560 1000 0 0 0 250 75 0 0 20 0 12 0 100 1000000 2000 18446744073709551615")
	cpu, err := parseStatCPU(stat)
	if err != nil {
		t.Fatal(err)
	}
	if cpu != 3250*time.Millisecond {
		t.Errorf("cpu = %v, want 3.25s (325 ticks)", cpu)
	}
	if _, err := parseStatCPU([]byte("garbage")); err == nil {
		t.Error("no error for garbage")
	}
	rss, hwm := parseStatusMem([]byte("Name:\tx\nVmHWM:\t  2048 kB\nVmRSS:\t  1024 kB\n"))
	if rss != 1024*1024 || hwm != 2048*1024 {
		t.Errorf("rss %d hwm %d", rss, hwm)
	}
}

func TestReadProcSelf(t *testing.T) {
	before, err := ReadProc(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	// Burn a little CPU so that the tick counter moves.
	deadline := time.Now().Add(150 * time.Millisecond)
	x := 0
	for time.Now().Before(deadline) {
		x++
	}
	after, err := ReadProc(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if after.CPU <= before.CPU || after.HWM == 0 || after.RSS == 0 || after.HWM < after.RSS {
		t.Errorf("before %+v after %+v (x=%d)", before, after, x)
	}
	if selfCPU() == 0 {
		t.Error("selfCPU is zero")
	}
}

func TestParseCounters(t *testing.T) {
	text := `# HELP otelcol_receiver_accepted_log_records_total x
otelcol_receiver_accepted_log_records_total{receiver="tetragon",transport="grpc"} 100
otelcol_receiver_accepted_log_records_total{receiver="tetragon/1",transport="grpc"} 50
otelcol_receiver_refused_log_records_total{receiver="tetragon"} 2
otelcol_exporter_sent_log_records_total{exporter="otlp_http/logs"} 140
otelcol_exporter_sent_log_records_total{exporter="otlp_http/detections"} 7
otelcol_exporter_send_failed_log_records_total{exporter="otlp_http/logs"} 1
otelcol_receiver_tetragon_decode_errors_total{reason="malformed"} 3
otelcol_receiver_accepted_log_records_totalx 9
`
	c := parseCounters(text)
	want := Counters{Accepted: 150, Refused: 2, Sent: 140, SendFailed: 1, DecodeErrors: 3}
	if !reflect.DeepEqual(c, want) {
		t.Errorf("got %+v, want %+v", c, want)
	}
	if c.Profiles.present {
		t.Error("workload_profile telemetry without its metrics")
	}

	profiles := parseCounters(text + `# HELP otelcol_processor_workload_profile_workloads x
otelcol_processor_workload_profile_workloads{otel_scope_name="wp",processor="workload_profile",state="learning"} 480
otelcol_processor_workload_profile_workloads{processor="workload_profile",state="enforcing"} 20
otelcol_processor_workload_profile_items{processor="workload_profile"} 1500
otelcol_processor_workload_profile_largest_items{processor="workload_profile"} 9
otelcol_processor_workload_profile_overflow_items{list="executables",processor="workload_profile"} 2
otelcol_processor_workload_profile_novelties_total{kind="exec",processor="workload_profile"} 31
otelcol_processor_workload_profile_novelties_total{kind="syscall",processor="workload_profile"} 4
otelcol_processor_workload_profile_unprofiled_records_total{processor="workload_profile"} 7
otelcol_processor_workload_profile_storage_errors_total{operation="save",processor="workload_profile"} 1
otelcol_processor_workload_profile_reloads_total{processor="workload_profile"} 5
`).Profiles
	wantProfiles := ProfileTelemetry{present: true, Workloads: map[string]float64{"learning": 480, "enforcing": 20}, Items: 1500, LargestItems: 9,
		Overflow: 2, Novelties: map[string]float64{"exec": 31, "syscall": 4}, Unprofiled: 7, StorageErrors: 1}
	if !reflect.DeepEqual(profiles, wantProfiles) || profiles.Profiled() != 500 {
		t.Errorf("workload_profile telemetry %+v, want %+v", profiles, wantProfiles)
	}
}

func TestPipelineConfigRender(t *testing.T) {
	cfg, err := PipelineConfig{
		Sockets: []string{"/tmp/a.sock", "/tmp/b.sock"}, LogsEndpoint: "http://127.0.0.1:1/v1/logs",
		PRWEndpoint: "http://127.0.0.1:2/api/v1/write", MetricsPort: 3, PprofPort: 4,
	}.Render()
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Receivers  map[string]map[string]any `yaml:"receivers"`
		Processors map[string]any            `yaml:"processors"`
		Exporters  map[string]map[string]any `yaml:"exporters"`
		Service    struct {
			Pipelines map[string]struct {
				Receivers  []string `yaml:"receivers"`
				Processors []string `yaml:"processors"`
				Exporters  []string `yaml:"exporters"`
			} `yaml:"pipelines"`
		} `yaml:"service"`
	}
	if err := yaml.Unmarshal([]byte(cfg), &doc); err != nil {
		t.Fatalf("%v\n%s", err, cfg)
	}
	endpoint := func(id string) any {
		g, _ := doc.Receivers[id]["grpc"].(map[string]any)
		return g["endpoint"]
	}
	if endpoint("tetragon") != "unix:///tmp/a.sock" || endpoint("tetragon/1") != "unix:///tmp/b.sock" {
		t.Errorf("receivers: %v", doc.Receivers)
	}
	ingest := doc.Service.Pipelines["logs/ingest"]
	if strings.Join(ingest.Receivers, ",") != "tetragon,tetragon/1" || strings.Join(ingest.Processors, ",") != "memory_limiter,detection" {
		t.Errorf("logs/ingest: %+v", ingest)
	}
	if doc.Exporters["otlp_http/logs"]["compression"] != "gzip" || doc.Exporters["otlp_http/logs"]["logs_endpoint"] != "http://127.0.0.1:1/v1/logs" {
		t.Errorf("otlp_http: %v", doc.Exporters["otlp_http/logs"])
	}
	if !strings.Contains(cfg, "send_batch_size: 2048") || !strings.Contains(cfg, "timeout: 1s") || !strings.Contains(cfg, "endpoint: 127.0.0.1:4") {
		t.Errorf("shipped batch defaults or pprof missing:\n%s", cfg)
	}

	file, err := PipelineConfig{ExportFile: "/tmp/t.log", Compression: "none", BatchTimeout: 20 * time.Millisecond}.Render()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(file, "path: /tmp/t.log") || !strings.Contains(file, "start_at: beginning") ||
		!strings.Contains(file, "compression: none") || !strings.Contains(file, "timeout: 20ms") || strings.Contains(file, "unix://") {
		t.Errorf("file mode config:\n%s", file)
	}
	eb, err := PipelineConfig{ExportFile: "/tmp/t.log", Batching: "exporter", Body: "json"}.Render()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(eb, "send_batch_size") || !strings.Contains(eb, "min_size: 2048") || !strings.Contains(eb, "processors: []") ||
		!strings.Contains(eb, "body: json") {
		t.Errorf("exporter batching config:\n%s", eb)
	}
	none, err := PipelineConfig{ExportFile: "/tmp/t.log", Batching: "none"}.Render()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(none, "send_batch_size") || strings.Contains(none, "min_size") || !strings.Contains(none, "processors: []") {
		t.Errorf("no batching config:\n%s", none)
	}
	if _, err := (PipelineConfig{ExportFile: "x", Batching: "sometimes"}).Render(); err == nil {
		t.Error("bad batching: no error")
	}
	if _, err := (PipelineConfig{}).Render(); err == nil {
		t.Error("no receiver: no error")
	}
	if _, err := (PipelineConfig{ExportFile: "x", Sockets: []string{"y"}}).Render(); err == nil {
		t.Error("both modes: no error")
	}
}

func TestPipelineConfigWorkloadProfile(t *testing.T) {
	base := PipelineConfig{Sockets: []string{"/tmp/a.sock"}, LogsEndpoint: "http://127.0.0.1:1/v1/logs", PRWEndpoint: "http://127.0.0.1:2/api/v1/write", MetricsPort: 3, PprofPort: 4}
	type doc struct {
		Extensions map[string]map[string]any `yaml:"extensions"`
		Processors map[string]map[string]any `yaml:"processors"`
		Service    struct {
			Extensions []string `yaml:"extensions"`
			Pipelines  map[string]struct {
				Processors []string `yaml:"processors"`
			} `yaml:"pipelines"`
		} `yaml:"service"`
	}
	render := func(c PipelineConfig) doc {
		t.Helper()
		cfg, err := c.Render()
		if err != nil {
			t.Fatal(err)
		}
		var d doc
		if err := yaml.Unmarshal([]byte(cfg), &d); err != nil {
			t.Fatalf("%v\n%s", err, cfg)
		}
		return d
	}
	off := render(base)
	if _, ok := off.Processors["workload_profile"]; ok || strings.Join(off.Service.Pipelines["logs/ingest"].Processors, ",") != "memory_limiter,detection" {
		t.Errorf("off by default: %+v", off)
	}

	mem := base
	mem.WorkloadProfile = WorkloadProfileMemory
	d := render(mem)
	if strings.Join(d.Service.Pipelines["logs/ingest"].Processors, ",") != "memory_limiter,workload_profile,detection" {
		t.Errorf("memory: pipeline %v", d.Service.Pipelines["logs/ingest"].Processors)
	}
	if wp, ok := d.Processors["workload_profile"]; !ok || len(wp) != 0 || d.Extensions["file_storage"] != nil || slices.Contains(d.Service.Extensions, "file_storage") {
		t.Errorf("memory: no storage, no settings wanted: %+v", d)
	}

	fs := base
	fs.WorkloadProfile, fs.ProfileLearningPeriod, fs.Compression = WorkloadProfileFileStorage, time.Second, GzipMiddleware
	d = render(fs)
	wp := d.Processors["workload_profile"]
	if wp["storage"] != "file_storage" || fmt.Sprint(wp["learning"]) != "map[period:1s]" {
		t.Errorf("file_storage: workload_profile %v", wp)
	}
	if d.Extensions["file_storage"]["directory"] != "${env:STORAGE_DIR}" || strings.Join(d.Service.Extensions, ",") != "pprof,file_storage,gzip_middleware" {
		t.Errorf("file_storage: extensions %v, service %v", d.Extensions, d.Service.Extensions)
	}
	if strings.Join(d.Service.Pipelines["logs/ingest"].Processors, ",") != "memory_limiter,workload_profile,detection" {
		t.Errorf("file_storage: pipeline %v", d.Service.Pipelines["logs/ingest"].Processors)
	}

	for name, c := range map[string]PipelineConfig{
		"mode":                {WorkloadProfile: "disk"},
		"learning without it": {ProfileLearningPeriod: time.Second},
		"negative learning":   {WorkloadProfile: WorkloadProfileMemory, ProfileLearningPeriod: -time.Second},
	} {
		c.Sockets = base.Sockets
		if _, err := c.Render(); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestSourceWorkloads(t *testing.T) {
	src := Source{ReplayFile: "/x.jsonl.gz", Workloads: 500}
	if got := strings.Join(src.SimArgs(), " "); got != "--replay /x.jsonl.gz --loop --restamp --workloads 500" {
		t.Errorf("sim args %q", got)
	}
	if got := strings.Join(Source{ReplayFile: "/x.jsonl.gz"}.SimArgs(), " "); strings.Contains(got, "workloads") {
		t.Errorf("sim args without workloads %q", got)
	}
	// The decode floor decodes the spread events too.
	wires, err := Source{ReplayFile: CapturedFile(testenv.EventsDir(t)), Workloads: 500}.Wires(100000)
	if err != nil || len(wires) != 12*607 {
		t.Errorf("wires of the spread capture: %d %v", len(wires), err)
	}
	o := Options{Scenario: "captured", Workloads: 500, EventsDir: "/e"}
	if s, err := o.source(); err != nil || s.Workloads != 500 {
		t.Errorf("captured source %+v %v", s, err)
	}
}

func TestResultVariant(t *testing.T) {
	for _, tc := range []struct {
		r    Result
		want string
	}{
		{Result{Scenario: "captured"}, "captured"},
		{Result{Scenario: "captured", Workloads: 500}, "captured, 500 workloads"},
		{Result{Scenario: "captured", Workloads: 500, WorkloadProfile: "file_storage", ProfileLearningPeriod: "1s"}, "captured, 500 workloads, workload_profile (file_storage, learning 1s)"},
	} {
		if got := tc.r.Variant(); got != tc.want {
			t.Errorf("%q, want %q", got, tc.want)
		}
	}
	r := &Result{Scenario: "captured", TargetRate: 2000, Workloads: 500, WorkloadProfile: "memory",
		WorkloadSpread: &tetragonsim.SpreadStats{Workloads: 500, Units: 44, Passes: 12, Distinct: 500, ContainerEvents: 948, HostEvents: 6336},
		Profiles:       &ProfileTelemetry{Workloads: map[string]float64{"learning": 500}, Items: 2100, LargestItems: 12}}
	var b strings.Builder
	WriteRunTable(&b, []*Result{r, {Scenario: "captured", TargetRate: 2000}})
	out := b.String()
	for _, want := range []string{"| captured, 500 workloads, workload_profile (memory) | 2000 |", "| captured | 2000 |",
		"spread 44 container processes over 500 workloads (12 passes", "500 profiles (500 learning), 2100 items (largest 12"} {
		if !strings.Contains(out, want) {
			t.Errorf("run table lacks %q:\n%s", want, out)
		}
	}
	b.Reset()
	WriteRepeatSummary(&b, []*Result{r, {Scenario: "captured"}, r}, nil)
	if out := b.String(); !strings.Contains(out, "| captured, 500 workloads, workload_profile (memory) | 2 |") || !strings.Contains(out, "| captured | 1 |") {
		t.Errorf("repeat summary does not keep the variants apart:\n%s", out)
	}
}

func TestShippedDefaults(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "config.yaml")
	os.WriteFile(p, []byte(`
receivers:
  tetragon:
    grpc:
      endpoint: unix:///x
      read_coalesce: 20ms
    body: json
    batch:
      max_size: 256
      timeout: 50ms
    field_filters:
      - event_set: [PROCESS_EXEC]
        fields: [process.cap]
        action: EXCLUDE
processors:
  batch:
    send_batch_size: 512
    send_batch_max_size: 1024
    timeout: 2s
exporters:
  otlp_http/logs:
    compression: zstd
    compression_params:
      level: 3
`), 0o600)
	c, err := ShippedDefaults(p)
	if err != nil {
		t.Fatal(err)
	}
	want := PipelineConfig{Body: "json", ReadCoalesce: 20 * time.Millisecond, ReceiverBatchSize: 256, ReceiverBatchTimeout: 50 * time.Millisecond,
		Batching: "processor", BatchSize: 512, BatchMaxSize: 1024, BatchTimeout: 2 * time.Second, Compression: "zstd", CompressionLevel: 3,
		FieldFilters: []map[string]any{{"event_set": []any{"PROCESS_EXEC"}, "fields": []any{"process.cap"}, "action": "EXCLUDE"}}}
	if fmt.Sprintf("%+v", c) != fmt.Sprintf("%+v", want) {
		t.Errorf("got %+v\nwant %+v", c, want)
	}
	// The real shipped configuration parses, and what it leaves unset keeps the defaults.
	real, err := ShippedDefaults(filepath.Join(testenv.RepoRoot(t), "distribution", "config.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	real.Sockets = []string{"/tmp/s"}
	if _, err := real.Render(); err != nil {
		t.Errorf("shipped defaults do not render: %v", err)
	}
	// No batch processor in a configuration: the receiver's batches go out as they are.
	os.WriteFile(p, []byte("exporters:\n  otlp_http/logs:\n    compression: gzip\n    compression_params:\n      level: 1\n"), 0o600)
	c, err = ShippedDefaults(p)
	if err != nil {
		t.Fatal(err)
	}
	if c.Batching != "none" || c.CompressionLevel != 1 {
		t.Errorf("no batch processor: batching %q, level %d", c.Batching, c.CompressionLevel)
	}
	c.ExportFile = "/tmp/t.log"
	r, err := c.Render()
	if err != nil || !strings.Contains(r, "compression_params:\n      level: 1") || strings.Contains(r, "send_batch_size") {
		t.Errorf("render: %v\n%s", err, r)
	}
	// The gzip_middleware extension in place of the exporter's own gzip.
	os.WriteFile(p, []byte("extensions:\n  gzip_middleware:\n    level: 2\nexporters:\n  otlp_http/logs:\n    compression: none\n    middlewares:\n      - id: gzip_middleware\n"), 0o600)
	if c, err = ShippedDefaults(p); err != nil || c.Compression != GzipMiddleware || c.CompressionLevel != 2 {
		t.Errorf("gzip_middleware: %+v, %v", c, err)
	}
	c.Sockets = []string{"/tmp/s"}
	r, err = c.Render()
	for _, want := range []string{"  gzip_middleware:\n    level: 2\n", "    compression: none\n    middlewares:\n      - id: gzip_middleware\n", "extensions: [pprof, gzip_middleware]"} {
		if err != nil || !strings.Contains(r, want) {
			t.Errorf("gzip_middleware render lacks %q: %v\n%s", want, err, r)
		}
	}
	if got := baselineCompression(c.Compression); got != "gzip" {
		t.Errorf("the baseline's compression for ours with gzip_middleware: %q, want gzip", got)
	}
	os.WriteFile(p, []byte("exporters:\n  otlp_http/logs:\n    middlewares:\n      - id: gzip_middleware\n"), 0o600)
	if _, err = ShippedDefaults(p); err == nil || !strings.Contains(err.Error(), "compresses twice") {
		t.Errorf("gzip_middleware with the exporter's default gzip: %v, want a compresses-twice error", err)
	}
	os.WriteFile(p, []byte("processors:\n  batch:\n    timeout: soon\n"), 0o600)
	if _, err := ShippedDefaults(p); err == nil {
		t.Error("bad duration: no error")
	}
	if _, err := ShippedDefaults(filepath.Join(dir, "missing.yaml")); err == nil {
		t.Error("missing file: no error")
	}
}

func TestSearchBracketsThenBisects(t *testing.T) {
	var rates []float64
	capacity := 13_000.0
	trial := func(_ context.Context, rate float64) (*Result, error) {
		rates = append(rates, rate)
		r := &Result{TargetRate: rate, Sent: 100, Sustained: rate <= capacity}
		if !r.Sustained {
			r.Lost = 1
		}
		return r, nil
	}
	sr, err := search(context.Background(), "x", 1000, time.Hour, 0, trial, func(string, ...any) {})
	if err != nil {
		t.Fatal(err)
	}
	if sr.MaxRate > capacity || sr.MaxRate < capacity/1.1 || sr.FirstFail <= capacity {
		t.Errorf("max %v first fail %v, capacity %v (rates %v)", sr.MaxRate, sr.FirstFail, capacity, rates)
	}
	if fmt.Sprint(rates[:5]) != "[1000 2000 4000 8000 16000]" {
		t.Errorf("doubling phase: %v", rates)
	}
	if len(sr.Trials) != len(rates) || sr.Stopped != "within 10%" {
		t.Errorf("%d trials for %d rates, stopped %q", len(sr.Trials), len(rates), sr.Stopped)
	}

	// A failing start halves until something passes.
	rates = nil
	capacity = 300
	sr, err = search(context.Background(), "x", 1000, time.Hour, 0, trial, func(string, ...any) {})
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(rates[:3]) != "[1000 500 250]" || sr.MaxRate < 250 || sr.MaxRate > 300 {
		t.Errorf("halving: rates %v max %v", rates, sr.MaxRate)
	}

	// The budget stops the search and keeps what was learnt.
	rates = nil
	capacity = 1e9
	slow := func(ctx context.Context, rate float64) (*Result, error) {
		time.Sleep(100 * time.Millisecond)
		return trial(ctx, rate)
	}
	sr, err = search(context.Background(), "x", 1000, 300*time.Millisecond, 100*time.Millisecond, slow, func(string, ...any) {})
	if err != nil {
		t.Fatal(err)
	}
	if sr.Stopped != "time budget" || len(rates) == 0 || len(rates) > 3 || sr.MaxRate == 0 {
		t.Errorf("budget: stopped %q after %v, max %v", sr.Stopped, rates, sr.MaxRate)
	}
	if roundRate(12345) != 12000 || roundRate(1550) != 1600 || roundRate(42.4) != 42 {
		t.Errorf("roundRate: %v %v %v", roundRate(12345), roundRate(1550), roundRate(42.4))
	}
}

func TestDecodeFloor(t *testing.T) {
	g, err := tetragonsim.NewGenerator(tetragonsim.GeneratorConfig{Scenario: "demo", Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	var wires [][]byte
	for range 50 {
		b, err := proto.Marshal(g.Next())
		if err != nil {
			t.Fatal(err)
		}
		wires = append(wires, b)
	}
	f, err := MeasureDecodeFloor(wires, 50*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if f.CPUNsPerEvent <= 0 || f.Decoded < 50 || f.Events != 50 || f.WireBytes < 100 {
		t.Errorf("floor %+v", f)
	}
	if _, err := MeasureDecodeFloor(nil, time.Millisecond); err == nil {
		t.Error("no events: no error")
	}
	if _, err := MeasureDecodeFloor([][]byte{{0xff, 0xff}}, time.Millisecond); err == nil {
		t.Error("garbage: no error")
	}
}

func TestGeneratedPoolIsReplayable(t *testing.T) {
	dir := t.TempDir()
	path, err := GeneratedPool(dir, "exec-heavy", 200)
	if err != nil {
		t.Fatal(err)
	}
	r, err := tetragonsim.LoadReplay([]string{path}, tetragonsim.ReplayOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Frames) != 200 || r.Skipped.Total != 0 {
		t.Fatalf("%d frames, %d skipped", len(r.Frames), r.Skipped.Total)
	}
	var execs int
	for _, f := range r.Frames {
		ev := &tetragon.GetEventsResponse{}
		if err := proto.Unmarshal(f.Wire, ev); err != nil {
			t.Fatal(err)
		}
		if ev.GetProcessExec() != nil || ev.GetProcessExit() != nil {
			execs++
		}
	}
	if execs < 150 {
		t.Errorf("exec-heavy pool has %d exec/exit of 200", execs)
	}
	fi, _ := os.Stat(path)
	again, err := GeneratedPool(dir, "exec-heavy", 200)
	if err != nil || again != path {
		t.Fatalf("second call: %s %v", again, err)
	}
	if fi2, _ := os.Stat(again); !fi2.ModTime().Equal(fi.ModTime()) {
		t.Error("pool regenerated instead of reused")
	}
	wires, err := Source{ReplayFile: path}.Wires(10)
	if err != nil || len(wires) != 10 {
		t.Errorf("wires: %d %v", len(wires), err)
	}
	if _, err := GeneratedPool(dir, "no-such-scenario", 10); err == nil {
		t.Error("unknown scenario: no error")
	}
}

func TestOptionsValidate(t *testing.T) {
	root := testenv.RepoRoot(t)
	base := Options{Scenario: "captured", Rate: 100, Duration: 5 * time.Second, EventsDir: testenv.EventsDir(t),
		CollectorBin: filepath.Join(root, "go.mod"), SimBin: filepath.Join(root, "go.mod")}
	if err := base.defaults(); err != nil {
		t.Fatal(err)
	}
	if base.Warmup != time.Second {
		t.Errorf("warmup %v, want 1s (a fifth of 5s)", base.Warmup)
	}
	for name, mut := range map[string]func(o *Options){
		"scenario":       func(o *Options) { o.Scenario = "nope" },
		"rate":           func(o *Options) { o.Rate = 0 },
		"duration":       func(o *Options) { o.Duration = time.Second },
		"collector":      func(o *Options) { o.CollectorBin = "/nonexistent" },
		"corpus":         func(o *Options) { o.EventsDir = "/nonexistent" },
		"procs":          func(o *Options) { o.GOMAXPROCS = -1 },
		"workloads":      func(o *Options) { o.Workloads = -1 },
		"live workloads": func(o *Options) { o.Workloads, o.LiveGenerate = 5, true },
		"profile with config file": func(o *Options) {
			o.ConfigPath, o.Pipeline.WorkloadProfile = "distribution/config.yaml", WorkloadProfileMemory
		},
	} {
		o := base
		mut(&o)
		if err := o.defaults(); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if env := base.runtimeEnv(); len(env) != 1 || env[0] != "GOMAXPROCS=" {
		t.Errorf("GOMAXPROCS 0 (Go's default): env %q, want GOMAXPROCS empty, over any value the harness inherited", env)
	}
	procs := base
	procs.GOMAXPROCS = ShippedGOMAXPROCS
	if env := procs.runtimeEnv(); len(env) != 1 || env[0] != fmt.Sprintf("GOMAXPROCS=%d", ShippedGOMAXPROCS) {
		t.Errorf("GOMAXPROCS %d: env %q", ShippedGOMAXPROCS, env)
	}
	burst := base
	burst.Scenario = "burst"
	if err := burst.defaults(); err != nil || burst.Duration != 50*time.Second {
		t.Errorf("burst: %v %v", burst.Duration, err)
	}
}

func TestProfileBreakdownParsing(t *testing.T) {
	top := `Showing nodes accounting for 1.31s, 24.49% of 5.35s total
      flat  flat%   sum%        cum   cum%
         0     0%     0%      0.88s 16.45%  google.golang.org/protobuf/proto.Unmarshal
         0     0%     0%      0.10s  1.87%  google.golang.org/protobuf/proto.UnmarshalOptions.unmarshal
     0.44s  8.22%  8.22%      0.70s 30.10%  go.opentelemetry.io/collector/config/confighttp.(*compressor).compress
         0     0%  8.22%      0.20s  3.74%  go.opentelemetry.io/collector/processor/batchprocessor.(*shard[go.shape.struct { x int }]).processItem
`
	got := breakdown(top)
	want := []Share{
		{"gRPC receive: proto.Unmarshal of the events", 16.45},
		{"batch processor", 3.74},
		{"gzip of the OTLP requests", 30.10},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("got %v\nwant %v", got, want)
	}
}

func TestFieldFilters(t *testing.T) {
	raw := []map[string]any{{
		"event_set": []any{"PROCESS_EXEC", "PROCESS_EXIT", "PROCESS_KPROBE", "PROCESS_TRACEPOINT"},
		"fields":    []any{"process.cap", "process.ns", "ancestors.arguments"},
		"action":    "EXCLUDE",
	}}
	cfg, err := PipelineConfig{Sockets: []string{"/tmp/a.sock", "/tmp/b.sock"}, FieldFilters: raw}.Render()
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Receivers map[string]struct {
			FieldFilters []map[string]any `yaml:"field_filters"`
		} `yaml:"receivers"`
	}
	if err := yaml.Unmarshal([]byte(cfg), &doc); err != nil {
		t.Fatalf("%v\n%s", err, cfg)
	}
	for _, name := range []string{"tetragon", "tetragon/1"} {
		if got := fmt.Sprint(doc.Receivers[name].FieldFilters); got != fmt.Sprint(raw) {
			t.Errorf("%s field_filters %s, want %s", name, got, fmt.Sprint(raw))
		}
	}

	wires, err := Source{ReplayFile: CapturedFile(testenv.EventsDir(t))}.Wires(100)
	if err != nil {
		t.Fatal(err)
	}
	filtered, err := applyFieldFilters(wires, raw)
	if err != nil {
		t.Fatal(err)
	}
	var before, after int
	for i := range wires {
		before += len(wires[i])
		after += len(filtered[i])
		ev := &tetragon.GetEventsResponse{}
		if err := proto.Unmarshal(filtered[i], ev); err != nil {
			t.Fatal(err)
		}
		if p := ev.GetProcessExec().GetProcess(); p != nil && (p.GetCap() != nil || p.GetNs() != nil || p.GetBinary() == "") {
			t.Fatalf("exec %d: cap/ns kept or binary lost: %v", i, p)
		}
	}
	if after >= before {
		t.Errorf("filtered events are not smaller: %d → %d bytes", before, after)
	}
	if same, _ := applyFieldFilters(wires, nil); len(same) != len(wires) || &same[0][0] != &wires[0][0] {
		t.Error("no filters must return the events as they are")
	}
	for _, bad := range []map[string]any{
		{"event_set": []any{"PROCESS_NOPE"}, "fields": "process.cap", "action": "EXCLUDE"},
		{"fields": "process.cap", "action": "DROP"},
		{"fields": "process.cap", "colour": "red"},
	} {
		if _, err := applyFieldFilters(wires, []map[string]any{bad}); err == nil {
			t.Errorf("%v: no error", bad)
		}
	}
}

// --quiet leaves Options.Log nil: logging must then be a no-op, not a panic (it was, in --max).
func TestLogfQuiet(t *testing.T) {
	(&Options{}).logf("trial %d", 1)
}

// A run where the simulator sent at the rate but the collector took less was only buffering: it
// must not count as keeping up (the --max search took 24,000/s for a pass while ~19,400/s were
// accepted).
func TestKeepsUp(t *testing.T) {
	for _, c := range []struct {
		accepted, rate float64
		want           bool
	}{{1973, 2000, true}, {19446, 24000, false}, {9984, 10000, true}, {0, 10000, true}} {
		if got := keepsUp(c.accepted, c.rate); got != c.want {
			t.Errorf("keepsUp(%v, %v) = %v, want %v", c.accepted, c.rate, got, c.want)
		}
	}
}

func TestWriteRepeatSummary(t *testing.T) {
	if got := median([]float64{3, 1, 2}); got != 2 {
		t.Errorf("median of 3 values = %v, want 2", got)
	}
	if got := median([]float64{4, 1, 3, 2}); got != 2.5 {
		t.Errorf("median of 4 values = %v, want 2.5", got)
	}
	run := func(sc string, cpuUS, p99 float64) *Result {
		return &Result{Scenario: sc, CPUNsPerEvent: cpuUS * 1e3, RatioToFloor: cpuUS / 10, Latency: LatencyStats{P99ms: p99}}
	}
	cmp := func(sc string, ratio float64) *Comparison {
		return &Comparison{Scenario: sc, Ratio: ratio, Ours: FileRun{CPUSeconds: 1}, Baseline: FileRun{CPUSeconds: ratio}}
	}
	var b strings.Builder
	WriteRepeatSummary(&b, []*Result{run("captured", 50, 120), run("syscalls", 80, 119), run("captured", 40, 124), run("captured", 45, 122)},
		[]*Comparison{cmp("file-access", 4.4), cmp("file-access", 7.3), cmp("file-access", 6.6)})
	out := b.String()
	for _, want := range []string{
		"| captured | 3 | 50.0 · 40.0 · 45.0 | **45.0** | 4.5× | 122 |",
		"| syscalls | 1 | 80.0 | **80.0** | 8.0× | 119 |",
		"| file-access | 3 | 4.4× · 7.3× · 6.6× | **6.6×** | 1.00 | 6.60 |",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("summary lacks %q:\n%s", want, out)
		}
	}
	if strings.Index(out, "| captured |") > strings.Index(out, "| syscalls |") {
		t.Error("scenarios are not in order of first appearance")
	}
	if strings.Contains(out, "live decode floor") {
		t.Error("a live-floor table without --live-floor runs")
	}

	withLive := func(cpuUS, liveUS float64) *Result {
		r := run("captured", cpuUS, 120)
		r.LiveFloor = &FloorClientResult{CPUNsPerEvent: liveUS * 1e3, CPUCores: liveUS * 2000 / 1e6}
		r.RatioToLiveFloor = cpuUS / liveUS
		return r
	}
	b.Reset()
	WriteRepeatSummary(&b, []*Result{withLive(40, 16), withLive(44, 20), withLive(42, 17.5)}, nil)
	if want := "| captured | 3 | 16.0 · 20.0 · 17.5 | **17.5** | 3.5 | 2.4× |"; !strings.Contains(b.String(), want) {
		t.Errorf("summary lacks %q:\n%s", want, b.String())
	}
	b.Reset()
	WriteRunTable(&b, []*Result{withLive(40, 16)})
	if want := "captured @ 0/s: 16.0 µs/event, 3.2 % of a core"; !strings.Contains(b.String(), want) {
		t.Errorf("run table lacks %q:\n%s", want, b.String())
	}
}
