// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package loadtest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/pprof"
	"sync/atomic"
	"time"

	"github.com/cilium/tetragon/api/v1/tetragon"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/readcoalesce"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/tetragonwire"
)

// FloorClientConfig configures the cheapest consumer of Tetragon's gRPC stream (see
// RunFloorClient).
type FloorClientConfig struct {
	Endpoint string
	// Request carries the field filters, as the collector's receiver sends them.
	Request *tetragon.GetEventsRequest
	// ReadCoalesce is the receiver's read_coalesce: the same transport as the collector's.
	ReadCoalesce time.Duration
	// Codec: "proto" (grpc-go's default codec, proto.Unmarshal: the decode floor) or
	// "tetragonwire" (the receiver's generated decoder).
	Codec string
	// The steady window, counted from the first event received.
	WindowStart, WindowEnd time.Duration
	// CPUProfile, when set, receives a CPU profile of the window.
	CPUProfile string
}

// FloorClientResult is what the floor client measured of itself.
type FloorClientResult struct {
	Codec         string  `json:"codec"`
	ReadCoalesce  string  `json:"read_coalesce"`
	Events        int64   `json:"events"`
	WindowEvents  int64   `json:"window_events"`
	WindowSeconds float64 `json:"window_seconds"`
	// WindowCPUSeconds is user + system time of the whole process (GC included) in the window.
	WindowCPUSeconds float64 `json:"window_cpu_seconds"`
	CPUNsPerEvent    float64 `json:"cpu_ns_per_event"`
	CPUCores         float64 `json:"cpu_cores"`
	// StreamEnd is how the stream ended ("" when the server closed it normally).
	StreamEnd string `json:"stream_end,omitempty"`
}

// RunFloorClient receives Tetragon's event stream the way the collector's receiver does (the same
// dialer, read coalescing and read buffer), decodes each event into a new message, and drops it:
// no mapping, no rules, no export. Its CPU per event at a given rate is the live decode floor, what
// any consumer of the stream pays on this machine before doing anything with the events, where
// MeasureDecodeFloor is the hot-loop floor. It returns when the server ends the stream or ctx is
// done; the window must have closed by then.
func RunFloorClient(ctx context.Context, cfg FloorClientConfig) (FloorClientResult, error) {
	res := FloorClientResult{Codec: cfg.Codec, ReadCoalesce: cfg.ReadCoalesce.String()}
	var callOpts []grpc.CallOption
	switch cfg.Codec {
	case "", "proto":
		res.Codec = "proto"
	case "tetragonwire":
		callOpts = append(callOpts, grpc.ForceCodecV2(tetragonwire.Codec{}))
	default:
		return res, fmt.Errorf("codec %q: want proto or tetragonwire", cfg.Codec)
	}
	if cfg.WindowEnd <= cfg.WindowStart {
		return res, fmt.Errorf("window end %s must be after its start %s", cfg.WindowEnd, cfg.WindowStart)
	}
	opts := []grpc.DialOption{
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithContextDialer(readcoalesce.Dialer(cfg.ReadCoalesce)),
	}
	if cfg.ReadCoalesce > 0 {
		opts = append(opts, grpc.WithReadBufferSize(readcoalesce.ReadBufferBytes))
	}
	conn, err := grpc.NewClient(cfg.Endpoint, opts...)
	if err != nil {
		return res, fmt.Errorf("create gRPC client for %q: %w", cfg.Endpoint, err)
	}
	defer conn.Close()
	req := cfg.Request
	if req == nil {
		req = &tetragon.GetEventsRequest{}
	}
	stream, err := tetragon.NewFineGuidanceSensorsClient(conn).GetEvents(ctx, req, callOpts...)
	if err != nil {
		return res, fmt.Errorf("GetEvents: %w", err)
	}

	// The window is timed by a second goroutine so the receive loop does nothing but receive.
	var received atomic.Int64
	first := make(chan struct{})
	ended := make(chan struct{})     // the stream ended: the timer goroutine stops waiting
	timerDone := make(chan struct{}) // the timer goroutine returned: window is set, or nil
	type mark struct {
		at     time.Time
		cpu    time.Duration
		events int64
	}
	var window *[2]mark // written by the timer goroutine, read after timerDone
	go func() {
		defer close(timerDone)
		select {
		case <-first:
		case <-ended:
			return
		}
		t0 := time.Now()
		take := func(d time.Duration) (mark, bool) {
			select {
			case <-time.After(time.Until(t0.Add(d))):
				return mark{time.Now(), selfCPU(), received.Load()}, true
			case <-ended:
				return mark{}, false
			}
		}
		start, ok := take(cfg.WindowStart)
		if !ok {
			return
		}
		var profile *os.File
		if cfg.CPUProfile != "" {
			profile = startProfile(cfg.CPUProfile)
		}
		end, ok := take(cfg.WindowEnd)
		if profile != nil {
			pprof.StopCPUProfile()
			profile.Close()
		}
		if !ok {
			return
		}
		window = &[2]mark{start, end}
	}()

	for {
		ev := new(tetragon.GetEventsResponse)
		if err := stream.RecvMsg(ev); err != nil {
			if !errors.Is(err, io.EOF) {
				res.StreamEnd = err.Error()
			}
			break
		}
		if received.Add(1) == 1 {
			close(first)
		}
	}
	res.Events = received.Load()
	close(ended)
	<-timerDone
	if window == nil {
		return res, fmt.Errorf("the stream ended after %d events, before the window (%s to %s after the first event) closed", res.Events, cfg.WindowStart, cfg.WindowEnd)
	}
	m := window
	res.WindowEvents = m[1].events - m[0].events
	res.WindowSeconds = m[1].at.Sub(m[0].at).Seconds()
	res.WindowCPUSeconds = (m[1].cpu - m[0].cpu).Seconds()
	if res.WindowEvents > 0 {
		res.CPUNsPerEvent = res.WindowCPUSeconds * 1e9 / float64(res.WindowEvents)
	}
	if res.WindowSeconds > 0 {
		res.CPUCores = res.WindowCPUSeconds / res.WindowSeconds
	}
	return res, nil
}

// startProfile starts a CPU profile into path and returns its file; nil when it could not: a
// failure only loses the profile.
func startProfile(path string) *os.File {
	f, err := os.Create(path)
	if err != nil {
		return nil
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil
	}
	return f
}

// collectorGCPercent is the GOGC the distribution sets unless GOGC is in its environment
// (distribution/gcpercent.go); the floor client runs with it too, so the two pay for garbage
// collection alike.
const collectorGCPercent = 200

// receiverSettings are the field filters and read_coalesce of the tetragon receiver under test:
// the generated configuration's, or those of the --config file.
func (o *Options) receiverSettings() (PipelineConfig, error) {
	if o.ConfigPath == "" {
		return o.Pipeline, nil
	}
	given, err := ShippedDefaults(o.ConfigPath)
	if err != nil {
		return PipelineConfig{}, fmt.Errorf("tetragon receiver settings of %s: %w", o.ConfigPath, err)
	}
	return given, nil
}

// measureLiveFloor runs the floor client (the floor-client subcommand of opts.FloorClientBin,
// in its own process, with the collector's GOMAXPROCS and GOGC) against a fresh simulator sending
// src at the run's rate for the run's duration, with the receiver's field filters and
// read_coalesce, and returns what it measured over the same steady window as the collector's.
func measureLiveFloor(ctx context.Context, opts *Options, work string, src Source, rc PipelineConfig) (*FloorClientResult, error) {
	req, err := fieldFilterRequest(rc.FieldFilters)
	if err != nil {
		return nil, err
	}
	reqJSON, err := protojson.Marshal(req)
	if err != nil {
		return nil, err
	}
	reqPath, outPath := filepath.Join(work, "floor-request.json"), filepath.Join(work, "floor-result.json")
	if err := os.WriteFile(reqPath, reqJSON, 0o600); err != nil {
		return nil, err
	}
	sock := filepath.Join(work, "floor.sock")
	count := int64(opts.Rate * opts.Duration.Seconds())
	sim, err := startSim(opts.SimBin, "tetragon-sim-floor", filepath.Join(work, "sim-floor.log"), sock, src, opts.Rate, count)
	if sim != nil {
		defer sim.stop(5 * time.Second)
	}
	if err != nil {
		return nil, err
	}
	env := opts.runtimeEnv()
	if _, set := os.LookupEnv("GOGC"); !set {
		env = append(env, fmt.Sprintf("GOGC=%d", collectorGCPercent))
	}
	opts.logf("live floor: the floor client at %.0f events/s for %s", opts.Rate, opts.Duration)
	client, err := startProcess("floor-client", filepath.Join(work, "floor-client.log"), env, opts.FloorClientBin, "floor-client",
		"--endpoint", "unix://"+sock, "--request", reqPath, "--read-coalesce", rc.ReadCoalesce.String(),
		"--window-start", opts.Warmup.String(), "--window-end", (opts.Duration - time.Second).String(), "--out", outPath)
	if err != nil {
		return nil, err
	}
	defer client.stop(5 * time.Second)
	limit := opts.Duration*3/2 + 90*time.Second // the simulator's drain timeout is 60 s
	select {
	case <-client.done:
	case <-time.After(limit):
		return nil, fmt.Errorf("the floor client did not finish within %s\n%s", limit, client.tail(2000))
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if err := client.err(); err != nil {
		return nil, fmt.Errorf("floor client: %v\n%s", err, client.tail(2000))
	}
	b, err := os.ReadFile(outPath)
	if err != nil {
		return nil, err
	}
	var res FloorClientResult
	if err := json.Unmarshal(b, &res); err != nil {
		return nil, fmt.Errorf("floor client result: %w", err)
	}
	if err := sim.wait(30 * time.Second); err != nil {
		return nil, fmt.Errorf("tetragon-sim (floor): %v\n%s", err, sim.tail(2000))
	}
	st, err := sim.simStats()
	if err != nil {
		return nil, err
	}
	if int64(st.Sent) != res.Events {
		return nil, fmt.Errorf("the simulator sent %d events, the floor client received %d", st.Sent, res.Events)
	}
	return &res, nil
}
