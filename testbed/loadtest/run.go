// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

// Package loadtest drives the built otelcol-runtime-security distribution (a separate process)
// with tetragon-sim at a fixed rate, receives its output in in-process sinks (OTLP/HTTP logs and
// Prometheus remote write) and measures throughput, loss, CPU per event against the bare protobuf
// decode cost of the same events, peak RSS and event-to-export latency. It also compares the
// distribution with a stock contrib collector (testbed/baseline) on the same export file.
// testbed/cmd/loadtest is its command line.
package loadtest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/testbed/tetragonsim"
)

// Scenarios the harness knows.
var Scenarios = []string{"exec-heavy", "file-access", "syscalls", "captured", "burst"}

// Burst shape: the steady rate, then BurstFactor times the steady rate for BurstLength, then
// the steady rate again.
const (
	BurstFactor = 10
	BurstLength = 30 * time.Second
	burstBefore = 10 * time.Second
	burstAfter  = 10 * time.Second
)

// sustainedShare of the target rate must be reached for a run to count as keeping up.
const sustainedShare = 0.95

// generatedPoolSize is how many generator events a scenario's replay pool holds.
const generatedPoolSize = 10000

// Options configure one run.
type Options struct {
	Scenario string
	// Rate is the steady send rate in events per second (burst: the rate outside the burst).
	Rate float64
	// Duration is how long the simulator sends at Rate (burst: ignored, 10 s + 30 s + 10 s).
	Duration time.Duration

	CollectorBin string
	SimBin       string
	// ConfigPath replaces the generated configuration. Endpoints reach it through the
	// environment variables of distribution/config.yaml (TETRAGON_ENDPOINT, LOGS_OTLP_ENDPOINT,
	// DETECTIONS_OTLP_ENDPOINT, PROMETHEUS_REMOTE_WRITE_URL, STORAGE_DIR, SELF_METRICS_HOST/PORT,
	// HEALTH_CHECK_ENDPOINT); its pprof extension is expected on 127.0.0.1:1777.
	ConfigPath string
	// EventsDir is ../shared/tetragon-events; CacheDir holds generated event pools.
	EventsDir string
	CacheDir  string
	// OutDir receives the JSON result and profiles ("" = none written).
	OutDir string

	// LiveGenerate runs tetragon-sim's generator instead of replaying a pre-generated pool.
	LiveGenerate bool
	// Profile, when > 0, fetches a CPU profile of that length from the collector at the start
	// of the steady window.
	Profile time.Duration
	// Pipeline holds the tuning of the generated configuration (body, batching, compression);
	// endpoints and sockets are filled in per run. Zero values: see PipelineConfig.
	Pipeline PipelineConfig
	// Warmup is skipped before the steady window (default min(3s, Duration/5)).
	Warmup time.Duration
	// FloorBudget is the CPU time spent measuring the decode floor (default 2s).
	FloorBudget time.Duration
	// VerifySink cross-checks every OTLP request with a full plogotlp decode.
	VerifySink bool
	// LiveFloor also runs, after the collector, the floor client (RunFloorClient) beside a fresh
	// simulator at the same rate and for the same time: the live decode floor. FloorClientBin is
	// the executable that has the floor-client subcommand (cmd/loadtest).
	LiveFloor      bool
	FloorClientBin string
	// GOMAXPROCS is the collector's GOMAXPROCS (the baseline's too, in a comparison); 0 leaves
	// Go's default, one per core. The command line defaults to ShippedGOMAXPROCS.
	GOMAXPROCS int
	// Workloads > 0 has tetragon-sim spread the replayed events of containers over that many
	// distinct container workloads (--workloads; replayed sources only, not LiveGenerate).
	Workloads int

	Log io.Writer
}

// Result is the outcome of one run; the harness writes it as JSON.
type Result struct {
	Scenario   string    `json:"scenario"`
	Target     string    `json:"target"`
	Started    time.Time `json:"started"`
	TargetRate float64   `json:"target_rate"`
	PeakRate   float64   `json:"peak_rate,omitempty"`
	Seconds    float64   `json:"seconds"`

	Sent            int64          `json:"sent"`
	SentPerSec      float64        `json:"sent_per_sec"`
	Accepted        int64          `json:"accepted"`
	AcceptedPerSec  float64        `json:"accepted_per_sec"`
	Delivered       int64          `json:"delivered"`
	DeliveredPerSec float64        `json:"delivered_per_sec"`
	Lost            int64          `json:"lost"`
	Detected        int64          `json:"detected"`
	Rules           map[string]int `json:"rules,omitempty"`
	// Sustained: the simulator reached at least 95 % of the target rate. tetragon-sim slows down
	// rather than drop when its client is slow, so a collector that cannot keep up shows as a
	// shortfall here, not as loss. (The simulator's own pacing loses up to ~3 % on a loaded
	// machine, hence not 100 %.)
	Sustained bool `json:"sustained"`

	Window        Window  `json:"steady_window"`
	CPUNsPerEvent float64 `json:"cpu_ns_per_event"`
	// CPUNsPerEventRun is the whole run's CPU (start of traffic to last delivery) per event.
	CPUNsPerEventRun float64     `json:"cpu_ns_per_event_run"`
	CPUCores         float64     `json:"cpu_cores"`
	Floor            DecodeFloor `json:"decode_floor"`
	RatioToFloor     float64     `json:"ratio_to_floor"`
	// LiveFloor is the floor client's run (Options.LiveFloor): receiving and decoding the same
	// stream at the same rate with nothing else.
	LiveFloor        *FloorClientResult `json:"live_floor,omitempty"`
	RatioToLiveFloor float64            `json:"ratio_to_live_floor,omitempty"`
	PeakRSSBytes     uint64             `json:"peak_rss_bytes"`
	EndRSSBytes      uint64             `json:"end_rss_bytes"`
	Latency          LatencyStats       `json:"latency_steady"`
	LatencyAll       LatencyStats       `json:"latency_all"`
	// Burst phases (burst scenario only).
	LatencyBurst LatencyStats `json:"latency_burst,omitzero"`
	LatencyAfter LatencyStats `json:"latency_after_burst,omitzero"`

	RemoteWrite struct {
		Requests    int64   `json:"requests"`
		Samples     int64   `json:"samples"`
		Series      int     `json:"series"`
		EventsTotal float64 `json:"runtime_security_events_total"`
	} `json:"remote_write"`
	Telemetry   Counters `json:"collector_telemetry"`
	ProfilePath string   `json:"profile,omitempty"`
	ConfigPath  string   `json:"config,omitempty"`
	// LoadAverage is the machine's 1-minute load average when the run started: other work on
	// the machine inflates CPU per event (shared caches) and latency tails.
	LoadAverage float64 `json:"load_average"`
	// GOMAXPROCS the collector ran with (0: Go's default, one per core).
	GOMAXPROCS int `json:"gomaxprocs"`
	// Workloads is the number of container workloads the simulator spread the events over (0:
	// as recorded); WorkloadSpread is what it reported.
	Workloads      int                      `json:"workloads,omitempty"`
	WorkloadSpread *tetragonsim.SpreadStats `json:"workload_spread,omitempty"`
	// WorkloadProfile is the workload_profile mode of the generated configuration ("": off) and
	// ProfileLearningPeriod its learning.period ("": the default); Profiles is the processor's
	// own telemetry at the end of the run.
	WorkloadProfile       string            `json:"workload_profile,omitempty"`
	ProfileLearningPeriod string            `json:"workload_profile_learning_period,omitempty"`
	Profiles              *ProfileTelemetry `json:"workload_profiles,omitempty"`
	Notes                 []string          `json:"notes,omitempty"`
}

// Variant names a run's scenario and, when set, its workload spread and workload_profile mode:
// the label by which reports tell A/B runs apart.
func (r *Result) Variant() string {
	v := r.Scenario
	if r.Workloads > 0 {
		v += fmt.Sprintf(", %d workloads", r.Workloads)
	}
	if r.WorkloadProfile != "" {
		v += ", workload_profile (" + r.WorkloadProfile
		if r.ProfileLearningPeriod != "" {
			v += ", learning " + r.ProfileLearningPeriod
		}
		v += ")"
	}
	return v
}

// Window is the steady measurement window.
type Window struct {
	Start   time.Time `json:"start"`
	End     time.Time `json:"end"`
	Seconds float64   `json:"seconds"`
	CPU     float64   `json:"cpu_seconds"`
	Events  int64     `json:"events"`
	// HarnessCPU (this process: sinks, gunzip) and SimCPU (the steady tetragon-sim) share the
	// machine with the collector; near the maximum rate they show where the cores went.
	HarnessCPU float64 `json:"harness_cpu_seconds"`
	SimCPU     float64 `json:"sim_cpu_seconds"`
}

// keepsUp reports whether the collector accepted events at (nearly) the target rate; an unknown
// rate (no telemetry in the window) does not fail a run.
func keepsUp(acceptedPerSec, rate float64) bool {
	return acceptedPerSec == 0 || acceptedPerSec >= sustainedShare*rate
}

// Passed reports zero loss at the target rate, kept up with.
func (r *Result) Passed() bool { return r.Lost == 0 && r.Sustained && r.Sent > 0 }

func (o *Options) defaults() error {
	if !slices.Contains(Scenarios, o.Scenario) && !slices.Contains(tetragonsim.Scenarios(), o.Scenario) {
		return fmt.Errorf("unknown scenario %q (have %s, or any tetragon-sim generator scenario: %s)",
			o.Scenario, strings.Join(Scenarios, ", "), strings.Join(tetragonsim.Scenarios(), ", "))
	}
	if o.Rate <= 0 {
		return errors.New("rate must be > 0")
	}
	if o.Scenario == "burst" {
		o.Duration = burstBefore + BurstLength + burstAfter
	}
	if o.Duration < 2*time.Second {
		return errors.New("duration must be at least 2s")
	}
	if o.Warmup == 0 {
		o.Warmup = min(3*time.Second, o.Duration/5)
	}
	if o.FloorBudget == 0 {
		o.FloorBudget = 2 * time.Second
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	if o.LiveFloor && o.FloorClientBin == "" {
		return errors.New("LiveFloor needs FloorClientBin, an executable with the floor-client subcommand (cmd/loadtest)")
	}
	if o.GOMAXPROCS < 0 {
		return errors.New("gomaxprocs must be >= 0 (0: Go's default, one per core)")
	}
	if o.Workloads < 0 {
		return errors.New("workloads must be >= 0 (0: the recorded container identities)")
	}
	if o.Workloads > 0 && o.LiveGenerate {
		return errors.New("workloads spreads replayed events; it does not apply to the live generator")
	}
	if o.ConfigPath != "" && (o.Pipeline.WorkloadProfile != "" || o.Pipeline.ProfileLearningPeriod != 0) {
		return errors.New("the workload_profile settings shape the generated configuration; with a configuration file, set them there")
	}
	if o.CacheDir == "" {
		o.CacheDir = filepath.Join(os.TempDir(), "otelcol-loadtest-cache")
	}
	for _, f := range []struct{ name, path string }{{"collector", o.CollectorBin}, {"tetragon-sim", o.SimBin}} {
		if _, err := os.Stat(f.path); err != nil {
			return fmt.Errorf("%s binary: %w (run `make build`)", f.name, err)
		}
	}
	if _, err := os.Stat(CapturedFile(o.EventsDir)); err != nil {
		return fmt.Errorf("shared Tetragon corpus: %w", err)
	}
	return nil
}

// ShippedGOMAXPROCS is the GOMAXPROCS the DaemonSet sets (deploy/kubernetes/base/daemonset.yaml
// and the Helm values; deploytest checks they agree with this): one scheduler thread is cheaper
// per event than one per core (testbed/RESULTS.md, "GOMAXPROCS").
const ShippedGOMAXPROCS = 1

// runtimeEnv is the Go runtime settings of the collector under test. They come after the
// harness's own environment, so they win over a GOMAXPROCS set there; an empty value is Go's
// default.
func (o *Options) runtimeEnv() []string {
	if o.GOMAXPROCS == 0 {
		return []string{"GOMAXPROCS="}
	}
	return []string{fmt.Sprintf("GOMAXPROCS=%d", o.GOMAXPROCS)}
}

// source resolves what the simulator sends.
func (o *Options) source() (Source, error) {
	switch o.Scenario {
	case "captured", "burst":
		return Source{ReplayFile: CapturedFile(o.EventsDir), Workloads: o.Workloads}, nil
	default:
		if o.LiveGenerate {
			return Source{Scenario: o.Scenario, Seed: 1}, nil
		}
		pool, err := GeneratedPool(o.CacheDir, o.Scenario, generatedPoolSize)
		if err != nil {
			return Source{}, fmt.Errorf("generate %s events: %w", o.Scenario, err)
		}
		return Source{ReplayFile: pool, Workloads: o.Workloads}, nil
	}
}

func (o *Options) logf(format string, args ...any) {
	if o.Log == nil {
		return // --quiet
	}
	fmt.Fprintf(o.Log, "loadtest: "+format+"\n", args...)
}

// Run performs one run of opts.Scenario against the distribution over gRPC.
func Run(ctx context.Context, opts Options) (*Result, error) {
	if err := opts.defaults(); err != nil {
		return nil, err
	}
	src, err := opts.source()
	if err != nil {
		return nil, err
	}
	res := &Result{Scenario: opts.Scenario, Target: "ours", Started: time.Now().UTC(), TargetRate: opts.Rate, LoadAverage: loadAverage(), GOMAXPROCS: opts.GOMAXPROCS,
		Workloads: opts.Workloads}
	if opts.ConfigPath == "" {
		res.WorkloadProfile = opts.Pipeline.WorkloadProfile
		if opts.Pipeline.ProfileLearningPeriod > 0 {
			res.ProfileLearningPeriod = opts.Pipeline.ProfileLearningPeriod.String()
		}
	}
	work, err := os.MkdirTemp("", "loadtest-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(work)

	logs, err := NewLogsSink()
	if err != nil {
		return nil, err
	}
	logs.Verify = opts.VerifySink
	defer logs.Close()
	prw, err := NewRemoteWriteSink()
	if err != nil {
		return nil, err
	}
	defer prw.Close()

	// Simulators: one steady; for burst a second one that joins for BurstLength.
	socks := []string{filepath.Join(work, "tetragon.sock")}
	if opts.Scenario == "burst" {
		socks = append(socks, filepath.Join(work, "burst.sock"))
		res.PeakRate = opts.Rate * BurstFactor
	}
	steadyCount := int64(opts.Rate * opts.Duration.Seconds())
	sims := make([]*process, len(socks))
	var simsMu sync.Mutex
	defer func() {
		simsMu.Lock()
		defer simsMu.Unlock()
		for _, s := range sims {
			if s != nil {
				_ = s.stop(5 * time.Second)
			}
		}
	}()
	startSim := func(i int, rate float64, count int64) error {
		p, err := startSim(opts.SimBin, fmt.Sprintf("tetragon-sim-%d", i), filepath.Join(work, fmt.Sprintf("sim-%d.log", i)), socks[i], src, rate, count)
		if p != nil {
			simsMu.Lock()
			sims[i] = p
			simsMu.Unlock()
		}
		return err
	}
	if err := startSim(0, opts.Rate, steadyCount); err != nil {
		return nil, err
	}

	col, tel, pprofPort, err := startCollector(&opts, work, socks, logs, prw, res)
	if err != nil {
		return nil, err
	}
	defer col.stop(10 * time.Second)
	collectorDied := func() bool { return col.exited() }

	opts.logf("%s: %.0f events/s for %s, waiting for the first delivery", opts.Scenario, opts.Rate, opts.Duration)
	if !waitFor(60*time.Second, func() bool { return logs.Records() > 0 || col.exited() }) || col.exited() {
		return nil, fmt.Errorf("no record reached the sink within 60s (collector exited: %v)\n%s", col.exited(), col.tail(3000))
	}
	t0 := logs.FirstArrival()
	first, err := ReadProc(col.pid())
	if err != nil {
		return nil, err
	}
	winStart, winEnd := t0.Add(opts.Warmup), t0.Add(opts.Duration-time.Second)
	if winEnd.Sub(winStart) < time.Second {
		winEnd = winStart.Add(time.Second)
	}

	burstStarted := make(chan error, 1)
	if opts.Scenario == "burst" {
		go func() {
			if !sleepUntil(t0.Add(burstBefore), collectorDied) {
				burstStarted <- errors.New("collector exited before the burst")
				return
			}
			opts.logf("burst: +%.0f events/s for %s", opts.Rate*(BurstFactor-1), BurstLength)
			burstStarted <- startSim(1, opts.Rate*(BurstFactor-1), int64(opts.Rate*(BurstFactor-1)*BurstLength.Seconds()))
		}()
	}

	if !sleepUntil(winStart, collectorDied) {
		return nil, fmt.Errorf("collector exited: %v\n%s", col.err(), col.tail(3000))
	}
	w0, err := ReadProc(col.pid())
	if err != nil {
		return nil, err
	}
	h0 := selfCPU()
	simsMu.Lock()
	s0, s0Err := ReadProc(sims[0].pid())
	simsMu.Unlock()
	c0, telErr0 := tel.Scrape()
	profDone := make(chan struct{})
	var profPath string
	var profErr error
	if opts.Profile > 0 {
		secs := max(1, int(min(opts.Profile, winEnd.Sub(winStart)).Seconds()))
		go func() {
			defer close(profDone)
			profPath, profErr = fetchProfile(pprofPort, secs, opts.OutDir, fmt.Sprintf("%s-ours-%s", opts.Scenario, res.Started.Format("20060102T150405")))
		}()
	} else {
		close(profDone)
	}
	if !sleepUntil(winEnd, collectorDied) {
		return nil, fmt.Errorf("collector exited: %v\n%s", col.err(), col.tail(3000))
	}
	w1, err := ReadProc(col.pid())
	if err != nil {
		return nil, err
	}
	h1 := selfCPU()
	simsMu.Lock()
	s1, s1Err := ReadProc(sims[0].pid())
	simsMu.Unlock()
	c1, telErr1 := tel.Scrape()
	res.Window = Window{Start: w0.At, End: w1.At, Seconds: w1.At.Sub(w0.At).Seconds(), CPU: (w1.CPU - w0.CPU).Seconds()}
	if telErr0 == nil && telErr1 == nil {
		res.Window.Events = int64(c1.Accepted - c0.Accepted)
	} else {
		res.Notes = append(res.Notes, "collector telemetry unavailable in the window; per-event CPU uses sink counts")
	}
	res.CPUCores = res.Window.CPU / res.Window.Seconds
	res.Window.HarnessCPU = (h1 - h0).Seconds()
	if s0Err == nil && s1Err == nil { // the simulator may have finished inside the window
		res.Window.SimCPU = (s1.CPU - s0.CPU).Seconds()
	}
	if res.Window.Events > 0 {
		res.CPUNsPerEvent = res.Window.CPU * 1e9 / float64(res.Window.Events)
		res.AcceptedPerSec = float64(res.Window.Events) / res.Window.Seconds
	}

	// The end: every simulator done, every event delivered (or delivery stalled).
	// Bounded runs: a collector that cannot keep up slows the simulators down (they never drop);
	// past half the duration again they are stopped, and what they sent is still counted.
	stopAt := t0.Add(opts.Duration*3/2 + 10*time.Second)
	var sent int64
	var sentSeconds float64
	for i := range socks {
		if i == 1 {
			if err := <-burstStarted; err != nil {
				return nil, err
			}
		}
		simsMu.Lock()
		sim := sims[i]
		simsMu.Unlock()
		if err := sim.wait(max(time.Until(stopAt), time.Second)); err != nil {
			res.Notes = append(res.Notes, fmt.Sprintf("tetragon-sim %d stopped after %s: it could not send at its rate", i, time.Since(t0).Round(time.Second)))
			if err := sim.stop(90 * time.Second); err != nil && !isSignalExit(err) {
				return nil, fmt.Errorf("tetragon-sim: %v\n%s", err, sim.tail(2000))
			}
		}
		st, err := sim.simStats()
		if err != nil {
			return nil, err
		}
		if !st.Drained {
			res.Notes = append(res.Notes, fmt.Sprintf("tetragon-sim %d: client did not drain", i))
		}
		sent += int64(st.Sent)
		if i == 0 && st.Spread != nil {
			res.WorkloadSpread = st.Spread
		}
		if i == 0 {
			sentSeconds = st.ElapsedSeconds
			res.Sustained = st.EventsPerSecond >= sustainedShare*opts.Rate
		} else if st.EventsPerSecond < sustainedShare*opts.Rate*(BurstFactor-1) {
			res.Sustained = false
			res.Notes = append(res.Notes, fmt.Sprintf("burst simulator reached %.0f of %.0f events/s", st.EventsPerSecond, opts.Rate*(BurstFactor-1)))
		}
	}
	res.Sent = sent
	if sentSeconds > 0 {
		res.SentPerSec = float64(sent) / sentSeconds
	}
	if opts.Scenario != "burst" && !keepsUp(res.AcceptedPerSec, opts.Rate) {
		// The simulator's sends were buffered, not taken: a real Tetragon's event queue would
		// have overflowed and dropped events while the collector fell behind.
		res.Sustained = false
		res.Notes = append(res.Notes, fmt.Sprintf("the collector accepted %.0f of %.0f events/s in the steady window: it was falling behind", res.AcceptedPerSec, opts.Rate))
	}
	waitDelivered(logs, sent, 10*time.Second, 2*time.Minute)
	// Let detection_metrics flush its final state and remote write send it.
	time.Sleep(3 * time.Second)
	<-profDone
	if profErr != nil {
		res.Notes = append(res.Notes, "profile: "+profErr.Error())
	}
	res.ProfilePath = profPath
	last, err := ReadProc(col.pid())
	if err != nil {
		return nil, err
	}
	if c, err := tel.Scrape(); err == nil {
		res.Telemetry = c
		res.Accepted = int64(c.Accepted)
		if c.Profiles.present {
			p := c.Profiles
			res.Profiles = &p
		}
	}
	if err := col.stop(15 * time.Second); err != nil && !isSignalExit(err) {
		res.Notes = append(res.Notes, fmt.Sprintf("collector exit: %v", err))
	}

	res.Delivered = logs.Records()
	res.Detected, res.Rules = logs.Detected(), logs.Rules()
	res.Lost = res.Sent - res.Delivered
	if span := logs.LastArrival().Sub(t0).Seconds(); span > 0 {
		res.DeliveredPerSec = float64(res.Delivered) / span
	}
	res.Seconds = logs.LastArrival().Sub(t0).Seconds()
	if res.Delivered > 0 {
		res.CPUNsPerEventRun = float64((last.CPU - first.CPU).Nanoseconds()) / float64(res.Delivered)
	}
	res.PeakRSSBytes, res.EndRSSBytes = last.HWM, last.RSS
	res.LatencyAll = logs.Latency(time.Time{}, time.Time{})
	res.Latency = logs.Latency(winStart, winEnd)
	if opts.Scenario == "burst" {
		res.Latency = logs.Latency(winStart, t0.Add(burstBefore))
		res.LatencyBurst = logs.Latency(t0.Add(burstBefore), t0.Add(burstBefore+BurstLength))
		res.LatencyAfter = logs.Latency(t0.Add(burstBefore+BurstLength+2*time.Second), time.Time{})
	}
	res.RemoteWrite.Requests, res.RemoteWrite.Samples, res.RemoteWrite.Series = prw.Requests(), prw.Samples(), prw.Series()
	res.RemoteWrite.EventsTotal, _ = prw.Sum("runtime_security_events_total")
	if n := logs.BadRequests() + prw.BadRequests(); n > 0 {
		res.Notes = append(res.Notes, fmt.Sprintf("%d requests the sinks could not decode", n))
	}
	if err := logs.VerifyError(); err != nil {
		res.Notes = append(res.Notes, "sink verification: "+err.Error())
	}

	wires, err := src.Wires(generatedPoolSize)
	if err != nil {
		return nil, fmt.Errorf("decode floor: %w", err)
	}
	// The floor is measured on what the collector receives: the events after its field filters
	// (those of the generated configuration, or of the --config file).
	receiverCfg, err := opts.receiverSettings()
	if err != nil {
		return nil, fmt.Errorf("decode floor: %w", err)
	}
	if wires, err = applyFieldFilters(wires, receiverCfg.FieldFilters); err != nil {
		return nil, fmt.Errorf("decode floor: field filters: %w", err)
	}
	if res.Floor, err = MeasureDecodeFloor(wires, opts.FloorBudget); err != nil {
		return nil, fmt.Errorf("decode floor: %w", err)
	}
	if res.Floor.CPUNsPerEvent > 0 {
		res.RatioToFloor = res.CPUNsPerEvent / res.Floor.CPUNsPerEvent
	}
	if opts.LiveFloor {
		if opts.Scenario == "burst" {
			res.Notes = append(res.Notes, "live floor: not measured for the burst scenario (its steady window is the rate before the burst)")
		} else {
			lf, err := measureLiveFloor(ctx, &opts, work, src, receiverCfg)
			if err != nil {
				return nil, fmt.Errorf("live floor: %w", err)
			}
			res.LiveFloor = lf
			if lf.CPUNsPerEvent > 0 {
				res.RatioToLiveFloor = res.CPUNsPerEvent / lf.CPUNsPerEvent
			}
		}
	}
	if opts.OutDir != "" {
		if err := writeJSON(opts.OutDir, fmt.Sprintf("%s-ours-%s.json", opts.Scenario, res.Started.Format("20060102T150405")), res); err != nil {
			return res, err
		}
	}
	return res, nil
}

// startSim starts tetragon-sim serving src on the unix socket sock at rate until count events
// were sent, and returns once the socket exists. The process is returned even with an error, to
// be stopped.
func startSim(bin, name, logPath, sock string, src Source, rate float64, count int64) (*process, error) {
	args := append([]string{"--listen", "unix://" + sock}, src.SimArgs()...)
	args = append(args, "--rate", fmt.Sprint(rate), "--count", fmt.Sprint(count), "--stats", "--drain-timeout", "60s")
	p, err := startProcess(name, logPath, nil, bin, args...)
	if err != nil {
		return nil, err
	}
	if !waitFor(30*time.Second, func() bool { _, err := os.Stat(sock); return err == nil || p.exited() }) || p.exited() {
		return p, fmt.Errorf("tetragon-sim did not open %s: %v\n%s", sock, p.err(), p.tail(2000))
	}
	return p, nil
}

// startCollector writes the configuration and starts the distribution; it returns once the
// collector's own metrics endpoint answers.
func startCollector(opts *Options, work string, socks []string, logs *LogsSink, prw *RemoteWriteSink, res *Result) (*process, *Telemetry, int, error) {
	metricsPort, err := freePort()
	if err != nil {
		return nil, nil, 0, err
	}
	pprofPort, err := freePort()
	if err != nil {
		return nil, nil, 0, err
	}
	healthPort, err := freePort()
	if err != nil {
		return nil, nil, 0, err
	}
	cfgPath := opts.ConfigPath
	if cfgPath == "" {
		pc := opts.Pipeline
		pc.Sockets, pc.LogsEndpoint, pc.PRWEndpoint = socks, logs.Endpoint(), prw.Endpoint()
		pc.MetricsPort, pc.PprofPort = metricsPort, pprofPort
		cfg, err := pc.Render()
		if err != nil {
			return nil, nil, 0, err
		}
		cfgPath = filepath.Join(work, "collector.yaml")
		if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
			return nil, nil, 0, err
		}
		if opts.OutDir != "" {
			_ = os.MkdirAll(opts.OutDir, 0o755)
			keep := filepath.Join(opts.OutDir, fmt.Sprintf("%s-ours-%s.yaml", opts.Scenario, res.Started.Format("20060102T150405")))
			if os.WriteFile(keep, []byte(cfg), 0o644) == nil {
				res.ConfigPath = keep
			}
		}
	} else {
		pprofPort = 1777
		res.ConfigPath = cfgPath
		if len(socks) > 1 {
			return nil, nil, 0, errors.New("the burst scenario needs the generated configuration (two tetragon receivers)")
		}
	}
	storage := filepath.Join(work, "storage")
	if err := os.MkdirAll(storage, 0o700); err != nil {
		return nil, nil, 0, err
	}
	env := []string{
		"TETRAGON_ENDPOINT=unix://" + socks[0],
		"LOGS_OTLP_ENDPOINT=" + logs.Endpoint(),
		"DETECTIONS_OTLP_ENDPOINT=" + logs.DetectionsEndpoint(),
		"PROMETHEUS_REMOTE_WRITE_URL=" + prw.Endpoint(),
		"ALERTMANAGER_ENDPOINT=" + logs.AlertmanagerEndpoint(),
		"STORAGE_DIR=" + storage,
		"K8S_NODE_NAME=loadtest",
		"SELF_METRICS_HOST=127.0.0.1",
		fmt.Sprintf("SELF_METRICS_PORT=%d", metricsPort),
		fmt.Sprintf("HEALTH_CHECK_ENDPOINT=127.0.0.1:%d", healthPort),
	}
	env = append(env, opts.runtimeEnv()...)
	col, err := startProcess("collector", filepath.Join(work, "collector.log"), env, opts.CollectorBin, "--config="+cfgPath)
	if err != nil {
		return nil, nil, 0, err
	}
	tel := NewTelemetry(metricsPort)
	if !waitFor(60*time.Second, func() bool { return col.exited() || tel.Ready() }) || col.exited() {
		_ = col.stop(5 * time.Second)
		return nil, nil, 0, fmt.Errorf("collector not ready (exited: %v, %v):\n%s", col.exited(), col.err(), col.tail(3000))
	}
	return col, tel, pprofPort, nil
}

// waitDelivered waits until the sink has want records, or nothing arrived for stall, or max.
func waitDelivered(logs *LogsSink, want int64, stall, max time.Duration) {
	deadline := time.Now().Add(max)
	lastN, lastChange := logs.Records(), time.Now()
	for time.Now().Before(deadline) {
		n := logs.Records()
		if n >= want {
			return
		}
		if n != lastN {
			lastN, lastChange = n, time.Now()
		} else if time.Since(lastChange) > stall {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func isSignalExit(err error) bool {
	return err != nil && strings.Contains(err.Error(), "signal: terminated")
}

func writeJSON(dir, name string, v any) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, name), append(b, '\n'), 0o644)
}
