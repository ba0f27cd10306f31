// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package loadtest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"
)

// FileRun is one collector reading a whole export file as fast as it can.
type FileRun struct {
	Target             string         `json:"target"`
	Events             int64          `json:"events"`
	Delivered          int64          `json:"delivered"`
	Detected           int64          `json:"detected"`
	Rules              map[string]int `json:"rules,omitempty"`
	CPUSeconds         float64        `json:"cpu_seconds"`
	WallSeconds        float64        `json:"wall_seconds"`
	EventsPerCPUSecond float64        `json:"events_per_cpu_second"`
	EventsPerSecond    float64        `json:"events_per_second"`
	PeakRSSBytes       uint64         `json:"peak_rss_bytes"`
	MetricsSamples     int64          `json:"remote_write_samples"`
	EventsTotalMetric  float64        `json:"events_total_metric"`
	ProfilePath        string         `json:"profile,omitempty"`
	ConfigPath         string         `json:"config,omitempty"`
	Notes              []string       `json:"notes,omitempty"`
}

// Comparison is otelcol-runtime-security against the stock baseline on the same export file.
type Comparison struct {
	Scenario    string    `json:"scenario"`
	Started     time.Time `json:"started"`
	Events      int64     `json:"events"`
	ExportBytes int64     `json:"export_bytes"`
	Ours        FileRun   `json:"ours"`
	Baseline    FileRun   `json:"baseline"`
	// Ratio is ours / baseline in events per CPU-second.
	Ratio       float64 `json:"ratio"`
	LoadAverage float64 `json:"load_average"`
	// GOMAXPROCS both collectors ran with (0: Go's default, one per core).
	GOMAXPROCS int `json:"gomaxprocs"`
}

// BaselineOptions add what the comparison needs to Options.
type BaselineOptions struct {
	BaselineBin    string
	BaselineConfig string // testbed/baseline/config.yaml
	// Events is how many events the export file holds.
	Events int64
}

// CompareBaseline writes (once, cached) an export file of the scenario's events with
// tetragon-sim, then lets otelcol-runtime-security (tetragon receiver in file mode, same pipeline
// as the gRPC runs) and the stock baseline (file_log + json_parser + transform) each read it from
// the beginning, and compares their CPU time for the whole file.
func CompareBaseline(ctx context.Context, opts Options, b BaselineOptions) (*Comparison, error) {
	// Rate and duration do not apply to file mode; set them so defaults() is satisfied.
	opts.Rate, opts.Duration = 1, 10*time.Second
	if err := opts.defaults(); err != nil {
		return nil, err
	}
	if _, err := os.Stat(b.BaselineBin); err != nil {
		return nil, fmt.Errorf("baseline binary: %w (run testbed/baseline/build.sh)", err)
	}
	if b.Events <= 0 {
		return nil, errors.New("events must be > 0")
	}
	src, err := opts.source()
	if err != nil {
		return nil, err
	}
	export, err := exportFile(&opts, src, b.Events)
	if err != nil {
		return nil, err
	}
	fi, err := os.Stat(export)
	if err != nil {
		return nil, err
	}
	cmp := &Comparison{Scenario: opts.Scenario, Started: time.Now().UTC(), Events: b.Events, ExportBytes: fi.Size(), LoadAverage: loadAverage(), GOMAXPROCS: opts.GOMAXPROCS}
	stamp := cmp.Started.Format("20060102T150405")
	opts.logf("baseline comparison: %d %s events (%.0f MiB export file)", b.Events, opts.Scenario, float64(fi.Size())/(1<<20))
	ours, err := runFile(ctx, &opts, "ours", export, b, stamp)
	if err != nil {
		return nil, fmt.Errorf("ours: %w", err)
	}
	cmp.Ours = *ours
	base, err := runFile(ctx, &opts, "baseline", export, b, stamp)
	if err != nil {
		return nil, fmt.Errorf("baseline: %w", err)
	}
	cmp.Baseline = *base
	if base.EventsPerCPUSecond > 0 {
		cmp.Ratio = ours.EventsPerCPUSecond / base.EventsPerCPUSecond
	}
	if opts.OutDir != "" {
		if err := writeJSON(opts.OutDir, fmt.Sprintf("%s-baseline-%s.json", opts.Scenario, stamp), cmp); err != nil {
			return cmp, err
		}
	}
	return cmp, nil
}

// exportFile returns a Tetragon JSON export file of n events of the source, written by
// tetragon-sim --export-file and cached in opts.CacheDir.
func exportFile(opts *Options, src Source, n int64) (string, error) {
	name := opts.Scenario
	if name == "burst" {
		name = "captured"
	}
	path := filepath.Join(opts.CacheDir, fmt.Sprintf("export-%s-%d.log", name, n))
	if _, err := os.Stat(path); err == nil {
		return path, nil
	}
	if err := os.MkdirAll(opts.CacheDir, 0o755); err != nil {
		return "", err
	}
	tmp := filepath.Join(opts.CacheDir, fmt.Sprintf("export-%s-%d.tmp", name, n))
	_ = os.Remove(tmp)
	args := append(src.SimArgs(), "--count", fmt.Sprint(n), "--export-file", tmp, "--export-max-bytes", fmt.Sprint(int64(1)<<40), "--stats")
	p, err := startProcess("tetragon-sim-export", tmp+".sim.log", nil, opts.SimBin, args...)
	if err != nil {
		return "", err
	}
	defer os.Remove(tmp + ".sim.log")
	if err := p.wait(10 * time.Minute); err != nil {
		_ = p.stop(time.Second)
		return "", fmt.Errorf("tetragon-sim --export-file: %v\n%s", err, p.tail(2000))
	}
	st, err := p.simStats()
	if err != nil {
		return "", err
	}
	if int64(st.ExportLines) != n {
		return "", fmt.Errorf("tetragon-sim wrote %d export lines, want %d", st.ExportLines, n)
	}
	return path, os.Rename(tmp, path)
}

// runFile runs one target over the export file and measures its CPU from the moment the file
// appears (the collector is started, idle, before) until the last record reaches the sink.
func runFile(ctx context.Context, opts *Options, target, export string, b BaselineOptions, stamp string) (*FileRun, error) {
	work, err := os.MkdirTemp("", "loadtest-file-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(work)
	logs, err := NewLogsSink()
	if err != nil {
		return nil, err
	}
	defer logs.Close()
	prw, err := NewRemoteWriteSink()
	if err != nil {
		return nil, err
	}
	defer prw.Close()
	metricsPort, err := freePort()
	if err != nil {
		return nil, err
	}
	pprofPort, err := freePort()
	if err != nil {
		return nil, err
	}
	path := filepath.Join(work, "tetragon.log")
	fr := &FileRun{Target: target, Events: b.Events}
	var bin, cfgPath string
	env := []string{
		"EXPORT_FILE=" + path,
		"LOGS_OTLP_ENDPOINT=" + logs.Endpoint(),
		"PROMETHEUS_REMOTE_WRITE_URL=" + prw.Endpoint(),
		"ALERTMANAGER_ENDPOINT=" + logs.AlertmanagerEndpoint(),
		fmt.Sprintf("SELF_METRICS_PORT=%d", metricsPort),
		fmt.Sprintf("PPROF_ENDPOINT=127.0.0.1:%d", pprofPort),
		"COMPRESSION=" + baselineCompression(opts.Pipeline.Compression),
		fmt.Sprintf("COMPRESSION_LEVEL=%d", compressionLevel(opts.Pipeline)),
	}
	env = append(env, opts.runtimeEnv()...) // the same for both collectors
	switch target {
	case "ours":
		bin = opts.CollectorBin
		pc := opts.Pipeline
		// Both collectors read the same, complete export file; ours skips decoding what the
		// shipped field_filters leave out, as the export-file deployment does.
		pc.ExportFile, pc.LogsEndpoint, pc.PRWEndpoint = path, logs.Endpoint(), prw.Endpoint()
		pc.MetricsPort, pc.PprofPort = metricsPort, pprofPort
		cfg, err := pc.Render()
		if err != nil {
			return nil, err
		}
		cfgPath = filepath.Join(work, "collector.yaml")
		if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
			return nil, err
		}
		fr.ConfigPath = "generated (file mode)"
	case "baseline":
		bin, cfgPath = b.BaselineBin, b.BaselineConfig
		fr.ConfigPath = cfgPath
	}
	col, err := startProcess(target, filepath.Join(work, target+".log"), env, bin, "--config="+cfgPath)
	if err != nil {
		return nil, err
	}
	defer col.stop(10 * time.Second)
	tel := NewTelemetry(metricsPort)
	if !waitFor(60*time.Second, func() bool { return col.exited() || tel.Ready() }) || col.exited() {
		return nil, fmt.Errorf("collector not ready (exited: %v, %v):\n%s", col.exited(), col.err(), col.tail(3000))
	}
	time.Sleep(time.Second) // let start-up work settle before the CPU baseline
	c0, err := ReadProc(col.pid())
	if err != nil {
		return nil, err
	}
	if err := linkOrCopy(export, path); err != nil {
		return nil, err
	}
	started := time.Now()
	opts.logf("%s: reading %d events from the export file", target, b.Events)
	profDone := make(chan struct{})
	var profErr error
	if opts.Profile > 0 {
		go func() {
			defer close(profDone)
			fr.ProfilePath, profErr = fetchProfile(pprofPort, int(opts.Profile.Seconds()), opts.OutDir, fmt.Sprintf("%s-file-%s-%s", opts.Scenario, target, stamp))
		}()
	} else {
		close(profDone)
	}
	var c1 ProcSample
	deadline := time.Now().Add(10 * time.Minute)
	lastN, lastChange := int64(0), time.Now()
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		n := logs.Records()
		if n >= b.Events {
			if c1, err = ReadProc(col.pid()); err != nil {
				return nil, err
			}
			break
		}
		if n != lastN {
			lastN, lastChange = n, time.Now()
		}
		if col.exited() || time.Since(lastChange) > 30*time.Second || time.Now().After(deadline) {
			c1, _ = ReadProc(col.pid())
			fr.Notes = append(fr.Notes, fmt.Sprintf("stopped waiting at %d of %d records (collector exited: %v)", n, b.Events, col.exited()))
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	<-profDone
	if profErr != nil {
		fr.Notes = append(fr.Notes, "profile: "+profErr.Error())
	}
	time.Sleep(3 * time.Second) // the count connector / detection_metrics flush
	fr.Delivered, fr.Detected, fr.Rules = logs.Records(), logs.Detected(), logs.Rules()
	fr.CPUSeconds = (c1.CPU - c0.CPU).Seconds()
	fr.WallSeconds = logs.LastArrival().Sub(started).Seconds()
	if fr.CPUSeconds > 0 {
		fr.EventsPerCPUSecond = float64(fr.Delivered) / fr.CPUSeconds
	}
	if fr.WallSeconds > 0 {
		fr.EventsPerSecond = float64(fr.Delivered) / fr.WallSeconds
	}
	if last, err := ReadProc(col.pid()); err == nil {
		fr.PeakRSSBytes = last.HWM
	}
	fr.MetricsSamples = prw.Samples()
	fr.EventsTotalMetric, _ = prw.Sum("runtime_security_events_total")
	return fr, nil
}

func linkOrCopy(src, dst string) error {
	if err := os.Link(src, dst); err == nil {
		return nil
	}
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	tmp := dst + ".partial"
	out, err := os.Create(tmp)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Close(); err != nil {
		return err
	}
	// The receivers watch the exact name: a rename makes the whole file appear at once.
	return os.Rename(tmp, dst)
}

// baselineCompression is the stock otlp_http compression the baseline uses for ours: the same,
// or confighttp's own gzip (compress/gzip) where ours gzips through the gzip_middleware extension.
func baselineCompression(c string) string {
	if c == "" || c == GzipMiddleware {
		return "gzip"
	}
	return c
}

// compressionLevel is the otlp_http compression level both collectors use: the shipped one, or the
// compressor's default (-1 for the deflate family, 0 for the others).
func compressionLevel(p PipelineConfig) int {
	if p.CompressionLevel != 0 {
		return p.CompressionLevel
	}
	switch p.Compression {
	case "", "gzip", "zlib", "deflate":
		return -1
	case GzipMiddleware:
		return 1 // the extension's default
	}
	return 0
}
