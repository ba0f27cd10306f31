// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

// Command loadtest runs the built distribution under load from tetragon-sim and reports
// throughput, loss, CPU per event against the bare protobuf decode cost, peak RSS and latency;
// with --target baseline it compares the distribution with a stock contrib collector. See
// testbed/README.md.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/cilium/tetragon/api/v1/tetragon"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/testbed/loadtest"
)

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	if len(args) > 0 && args[0] == "floor-client" {
		return floorClient(args[1:])
	}
	fs := flag.NewFlagSet("loadtest", flag.ContinueOnError)
	var (
		scenario    = fs.String("scenario", "captured", "scenario: "+strings.Join(loadtest.Scenarios, ", ")+", or all")
		rate        = fs.Float64("rate", 2000, "events per second (burst: the steady rate; the burst is 10×)")
		burstRate   = fs.Float64("burst-rate", 300, "--scenario all: the burst scenario's steady rate (its peak is 10×)")
		maxMode     = fs.Bool("max", false, "search the highest rate with zero loss (doubling, then bisecting)")
		maxStart    = fs.Float64("max-start", 2000, "--max: first trial rate")
		maxBudget   = fs.Duration("max-budget", 5*time.Minute, "--max: total time allowed for the search")
		duration    = fs.Duration("duration", 20*time.Second, "sending time per run (--max trials: 10s unless set)")
		target      = fs.String("target", "ours", "ours: the distribution over gRPC; baseline: ours vs the stock contrib collector, both reading the same export file")
		events      = fs.Int64("events", 30000, "--target baseline: events in the export file")
		collector   = fs.String("collector", "", "distribution binary (default bin/otelcol-runtime-security)")
		sim         = fs.String("sim", "", "tetragon-sim binary (default bin/tetragon-sim)")
		baselineBin = fs.String("baseline-bin", "", "baseline binary (default bin/otelcol-baseline, built by testbed/baseline/build.sh)")
		baselineCfg = fs.String("baseline-config", "", "baseline configuration (default testbed/baseline/config.yaml)")
		config      = fs.String("config", "", "run this collector configuration instead of the generated one (endpoints via the env vars of distribution/config.yaml)")
		out         = fs.String("out", "", "directory for JSON results and profiles (default testbed/out)")
		eventsDir   = fs.String("events-dir", "", "the shared Tetragon corpus (default ../shared/tetragon-events beside the repository)")
		profile     = fs.Duration("profile", 0, "fetch a CPU profile of this length from the collector during the steady window (e.g. 10s)")
		shipped     = fs.String("shipped-config", "", "where the generated configuration takes body, batching and compression from (default distribution/config.yaml)")
		compression = fs.String("compression", "", "override otlp_http compression: gzip (confighttp's, compress/gzip), gzip_middleware (the gzip_middleware extension, klauspost/compress), zstd or none (the shipped level is kept between the two gzips and for the same compression)")
		fieldFilt   = fs.Bool("field-filters", true, "use the shipped configuration's tetragon field_filters (gRPC runs)")
		body        = fs.String("body", "", "override the tetragon receiver body mode: map, json or none")
		batching    = fs.String("batching", "", "override where records are batched before otlp_http: processor, exporter (sending_queue.batch) or none (the receiver's batches go out as they are)")
		batchSize   = fs.Int("batch-size", 0, "override the batch size (batch processor send_batch_size / exporter min_size)")
		batchTO     = fs.Duration("batch-timeout", 0, "override the batch processor / exporter batch timeout")
		recvBatchTO = fs.Duration("receiver-batch-timeout", 0, "override the tetragon receiver batch.timeout")
		recvBatchSz = fs.Int("receiver-batch-size", 0, "override the tetragon receiver batch.max_size")
		readCoal    = fs.Duration("read-coalesce", -1, "override the tetragon receiver read_coalesce (0: off)")
		live        = fs.Bool("live-generate", false, "generator scenarios: run tetragon-sim's generator live instead of replaying a pre-generated pool")
		verify      = fs.Bool("verify-sink", false, "cross-check every OTLP request with a full plogotlp decode (costs CPU)")
		quiet       = fs.Bool("quiet", false, "no progress on stderr")
		repeat      = fs.Int("repeat", 1, "run the scenario list this many times, round after round, and end with each scenario's median (runs and --target baseline)")
		liveFloor   = fs.Bool("live-floor", false, "after each run, measure the live decode floor: a client that only receives and decodes the same stream (same rate, field filters and read_coalesce) beside a fresh tetragon-sim")
		gomaxprocs  = fs.Int("gomaxprocs", loadtest.ShippedGOMAXPROCS, "GOMAXPROCS of the collector (and of the baseline with --target baseline); the default is the DaemonSet's, 0 leaves Go's default of one per core")
		workloads   = fs.Int("workloads", 0, "have tetragon-sim spread the replayed container events over N distinct container workloads (its --workloads; 0: as recorded)")
		wlProfile   = fs.String("workload-profile", "", "put the workload_profile processor before detection in the generated configuration: file_storage (learned state in a file_storage extension, as distribution/config.yaml ships it) or memory (no storage); empty: off")
		wlLearning  = fs.Duration("workload-profile-learning", 0, "with --workload-profile: its learning.period (e.g. 1s, so the profiles enforce during the run); 0: the processor's default, 24h")
	)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *repeat < 1 {
		fmt.Fprintln(os.Stderr, "loadtest: --repeat must be at least 1")
		return 2
	}
	if *repeat > 1 && *maxMode {
		fmt.Fprintln(os.Stderr, "loadtest: --repeat does not apply to --max")
		return 2
	}
	root, err := repoRoot()
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadtest:", err)
		return 1
	}
	def := func(v *string, p string) {
		if *v == "" {
			*v = p
		}
	}
	def(collector, filepath.Join(root, "bin", "otelcol-runtime-security"))
	def(sim, filepath.Join(root, "bin", "tetragon-sim"))
	def(baselineBin, filepath.Join(root, "bin", "otelcol-baseline"))
	def(baselineCfg, filepath.Join(root, "testbed", "baseline", "config.yaml"))
	def(out, filepath.Join(root, "testbed", "out"))
	def(eventsDir, filepath.Join(root, "..", "shared", "tetragon-events"))
	def(shipped, filepath.Join(root, "distribution", "config.yaml"))
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if *maxMode && !set["duration"] {
		*duration = 10 * time.Second
	}
	pipeline, err := loadtest.ShippedDefaults(*shipped)
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadtest:", err)
		return 1
	}
	if !*fieldFilt {
		pipeline.FieldFilters = nil
	}
	if set["compression"] && *compression != pipeline.Compression {
		gzips := map[string]bool{"gzip": true, loadtest.GzipMiddleware: true}
		if !gzips[*compression] || !gzips[pipeline.Compression] {
			pipeline.CompressionLevel = 0
		}
		pipeline.Compression = *compression
	}
	if set["body"] {
		pipeline.Body = *body
	}
	if set["batching"] {
		pipeline.Batching = *batching
	}
	if set["batch-size"] {
		pipeline.BatchSize, pipeline.BatchMaxSize = *batchSize, 0
	}
	if set["batch-timeout"] {
		pipeline.BatchTimeout = *batchTO
	}
	if set["receiver-batch-timeout"] {
		pipeline.ReceiverBatchTimeout = *recvBatchTO
	}
	if set["receiver-batch-size"] {
		pipeline.ReceiverBatchSize = *recvBatchSz
	}
	if set["read-coalesce"] {
		pipeline.ReadCoalesce = *readCoal
	}
	if err := applyWorkloadProfile(&pipeline, *wlProfile, *wlLearning, *config); err != nil {
		fmt.Fprintln(os.Stderr, "loadtest:", err)
		return 2
	}
	if *workloads < 0 {
		fmt.Fprintln(os.Stderr, "loadtest: --workloads must be >= 0")
		return 2
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	opts := loadtest.Options{
		Rate: *rate, Duration: *duration,
		CollectorBin: *collector, SimBin: *sim, ConfigPath: *config,
		EventsDir: *eventsDir, CacheDir: filepath.Join(*out, "cache"), OutDir: *out,
		LiveGenerate: *live, Profile: *profile, VerifySink: *verify, GOMAXPROCS: *gomaxprocs,
		LiveFloor: *liveFloor, Workloads: *workloads,
		Pipeline: pipeline,
		Log:      os.Stderr,
	}
	if *quiet {
		opts.Log = nil
	}
	if *liveFloor {
		if opts.FloorClientBin, err = os.Executable(); err != nil {
			fmt.Fprintln(os.Stderr, "loadtest: --live-floor:", err)
			return 1
		}
	}
	scenarios := []string{*scenario}
	if *scenario == "all" {
		scenarios = loadtest.Scenarios
	}

	var report bytes.Buffer
	var runs []*loadtest.Result
	var comparisons []*loadtest.Comparison
	var failed bool
	var rounds []string // the scenario list once per round: rounds interleave, so drift spreads over all
	for range *repeat {
		rounds = append(rounds, scenarios...)
	}
	for _, sc := range rounds {
		o := opts
		o.Scenario = sc
		if sc == "burst" && *scenario == "all" {
			o.Rate = *burstRate
		}
		switch {
		case *target == "baseline":
			c, err := loadtest.CompareBaseline(ctx, o, loadtest.BaselineOptions{BaselineBin: *baselineBin, BaselineConfig: *baselineCfg, Events: *events})
			if err != nil {
				fmt.Fprintf(os.Stderr, "loadtest: %s: %v\n", sc, err)
				failed = true
				continue
			}
			comparisons = append(comparisons, c)
			fmt.Fprintf(&report, "\n### %s: otelcol-runtime-security vs stock baseline\n\n", sc)
			loadtest.WriteComparison(&report, c)
			for _, p := range []string{c.Ours.ProfilePath, c.Baseline.ProfilePath} {
				writeProfileTop(&report, p)
			}
		case *target != "ours":
			fmt.Fprintf(os.Stderr, "loadtest: --target must be ours or baseline, got %q\n", *target)
			return 2
		case *maxMode:
			sr, err := loadtest.FindMaxRate(ctx, o, *maxStart, *maxBudget)
			if sr != nil {
				fmt.Fprintf(&report, "\n### %s: highest zero-loss rate\n\n", sc)
				loadtest.WriteSearchTable(&report, sr)
			}
			if err != nil {
				fmt.Fprintf(os.Stderr, "loadtest: %s: %v\n", sc, err)
				failed = true
			}
		default:
			r, err := loadtest.Run(ctx, o)
			if err != nil {
				fmt.Fprintf(os.Stderr, "loadtest: %s: %v\n", sc, err)
				failed = true
				continue
			}
			runs = append(runs, r)
			if !r.Passed() {
				failed = true
			}
		}
		if ctx.Err() != nil {
			break
		}
	}
	if len(runs) > 0 {
		report.WriteString("\n")
		loadtest.WriteRunTable(&report, runs)
		for _, r := range runs {
			writeProfileTop(&report, r.ProfilePath)
		}
	}
	if *repeat > 1 {
		fmt.Fprintf(&report, "\n## Medians over %d rounds\n\n", *repeat)
		loadtest.WriteRepeatSummary(&report, runs, comparisons)
	}
	os.Stdout.Write(report.Bytes())
	if *out != "" {
		fmt.Fprintf(os.Stderr, "loadtest: JSON results in %s\n", *out)
	}
	if failed {
		return 1
	}
	return 0
}

// applyWorkloadProfile sets the workload_profile flags on the generated configuration: mode ""
// (off), memory or file_storage, and its learning period. They shape the generated
// configuration only, so they do not go with --config.
func applyWorkloadProfile(p *loadtest.PipelineConfig, mode string, learning time.Duration, configFile string) error {
	switch mode {
	case "", loadtest.WorkloadProfileMemory, loadtest.WorkloadProfileFileStorage:
	default:
		return fmt.Errorf("--workload-profile must be %s or %s, got %q", loadtest.WorkloadProfileFileStorage, loadtest.WorkloadProfileMemory, mode)
	}
	if learning < 0 {
		return fmt.Errorf("--workload-profile-learning must be > 0, got %s", learning)
	}
	if learning > 0 && mode == "" {
		return errors.New("--workload-profile-learning needs --workload-profile")
	}
	if mode != "" && configFile != "" {
		return errors.New("--workload-profile shapes the generated configuration; with --config, put workload_profile in that file")
	}
	p.WorkloadProfile, p.ProfileLearningPeriod = mode, learning
	return nil
}

func writeProfileTop(w *bytes.Buffer, path string) {
	if path == "" {
		return
	}
	top, err := loadtest.ProfileTop(path, 15)
	if err != nil {
		fmt.Fprintf(w, "\nprofile %s: %v\n", path, err)
		return
	}
	fmt.Fprintf(w, "\nCPU profile %s:\n\n```\n%s```\n", path, top)
	if shares, err := loadtest.ProfileBreakdown(path); err == nil && len(shares) > 0 {
		fmt.Fprintf(w, "\n| stage (cumulative) | %% of samples |\n|---|---|\n")
		for _, s := range shares {
			fmt.Fprintf(w, "| %s | %.1f |\n", s.Stage, s.Percent)
		}
	}
}

// repoRoot walks up from the working directory to the root go.mod of otelcol-runtime-security.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil &&
			bytes.Contains(b, []byte("module github.com/otelcol-runtime-security/otelcol-runtime-security\n")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("run inside the otelcol-runtime-security repository (its go.mod not found above the working directory)")
		}
		dir = parent
	}
}

// floorClient is the floor-client subcommand that --live-floor runs in its own process (see
// loadtest.RunFloorClient); it writes its result as JSON to --out.
func floorClient(args []string) int {
	fs := flag.NewFlagSet("loadtest floor-client", flag.ContinueOnError)
	var (
		endpoint    = fs.String("endpoint", "", "Tetragon gRPC endpoint (unix:///path or host:port)")
		request     = fs.String("request", "", "file holding the GetEventsRequest as protojson (field filters); empty: no filters")
		coalesce    = fs.Duration("read-coalesce", 0, "the receiver's read_coalesce (0: read frames as they arrive)")
		codec       = fs.String("codec", "proto", "proto (proto.Unmarshal, the floor) or tetragonwire (the receiver's decoder)")
		windowStart = fs.Duration("window-start", 3*time.Second, "steady window start, after the first event")
		windowEnd   = fs.Duration("window-end", 19*time.Second, "steady window end, after the first event")
		out         = fs.String("out", "", "result file (default: standard output)")
		cpuProfile  = fs.String("cpuprofile", "", "write a CPU profile of the window to this file")
	)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *endpoint == "" {
		fmt.Fprintln(os.Stderr, "floor-client: --endpoint is required")
		return 2
	}
	req := &tetragon.GetEventsRequest{}
	if *request != "" {
		b, err := os.ReadFile(*request)
		if err == nil {
			err = protojson.Unmarshal(b, req)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "floor-client: --request:", err)
			return 2
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	res, err := loadtest.RunFloorClient(ctx, loadtest.FloorClientConfig{
		Endpoint: *endpoint, Request: req, ReadCoalesce: *coalesce, Codec: *codec,
		WindowStart: *windowStart, WindowEnd: *windowEnd, CPUProfile: *cpuProfile,
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "floor-client:", err)
		return 1
	}
	b, err := json.Marshal(res)
	if err != nil {
		fmt.Fprintln(os.Stderr, "floor-client:", err)
		return 1
	}
	if *out == "" {
		fmt.Println(string(b))
		return 0
	}
	if err := os.WriteFile(*out, b, 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "floor-client:", err)
		return 1
	}
	return 0
}
