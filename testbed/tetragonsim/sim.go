// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package tetragonsim

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"slices"
	"sort"
	"time"
)

// Config is everything tetragon-sim's flags set.
type Config struct {
	// Listen is "unix:///path" or "host:port"; empty serves no gRPC (export file only).
	Listen string
	// Listener, when set, is served instead of opening Listen.
	Listener net.Listener

	// ReplayFiles are JSONL (or .jsonl.gz) files of Tetragon events, replayed in order.
	ReplayFiles []string
	// Generate produces synthetic events from Scenario instead of replaying.
	Generate bool
	Scenario string
	Seed     uint64
	// NodeName of generated events; DefaultNodeName when empty.
	NodeName string

	// Rate in events per second; 0 sends as fast as the clients take them.
	Rate float64
	// Count stops after that many events; 0 is unlimited (a non-looping replay still ends).
	Count uint64
	// Loop replays the files over and over.
	Loop bool
	// Workloads > 0 spreads the replayed events of containers over that many distinct container
	// workloads (SpreadWorkloads); host events stay host events. Replay only.
	Workloads int
	// Restamp moves every replayed timestamp so the stream looks current: without Rate the first
	// event gets the current time and the original spacing is kept (gaps are clamped to
	// [0, RestampMaxGap] so unsorted or years-apart files stay in order and near now); with Rate
	// every event gets its send time. Process start times move with their event.
	Restamp       bool
	RestampMaxGap time.Duration

	// WaitClient holds the first event back until MinClients GetEvents streams are open.
	WaitClient bool
	MinClients int
	// DrainTimeout bounds the wait for clients to receive what is queued when the run ends.
	DrainTimeout time.Duration

	// ExportFile, when set, gets one protojson line per event, rotated by size.
	ExportFile     string
	ExportMaxBytes int64
	ExportBackups  int

	// Log receives progress and warnings (stderr when nil).
	Log io.Writer
	// Clock is time.Now when nil.
	Clock func() time.Time
}

// Defaults of Config fields left zero.
const (
	DefaultRestampMaxGap = time.Second
	DefaultDrainTimeout  = 5 * time.Second
	maxBatch             = 256
)

// Stats describe a finished run; tetragon-sim --stats prints them as one JSON line.
type Stats struct {
	Sent            uint64            `json:"sent"`
	ByType          map[string]uint64 `json:"by_type"`
	Skipped         int               `json:"skipped"`
	SkippedByReason map[string]int    `json:"skipped_by_reason,omitempty"`
	Clients         []ClientStats     `json:"clients,omitempty"`
	ExportLines     uint64            `json:"export_lines,omitempty"`
	ExportRotations int               `json:"export_rotations,omitempty"`
	// Spread is what --workloads did (absent without it).
	Spread          *SpreadStats `json:"workload_spread,omitempty"`
	ElapsedSeconds  float64      `json:"elapsed_seconds"`
	EventsPerSecond float64      `json:"events_per_second"`
	// Drained is false when some client had not received everything within DrainTimeout.
	Drained bool `json:"drained"`
	// Interrupted is true when the run was cancelled before it was complete.
	Interrupted bool `json:"interrupted,omitempty"`
}

// Sim is one configured simulator run.
type Sim struct {
	ran      bool
	cfg      Config
	log      io.Writer
	clock    func() time.Time
	listener net.Listener
	server   *Server
	export   *ExportWriter
	replay   *Replay
	gen      *Generator
}

// New validates cfg, loads the replay files, opens the listener and the export file. The socket
// accepts connections once New returns; events flow once Run is called.
func New(cfg Config) (*Sim, error) {
	s := &Sim{cfg: cfg, log: cfg.Log, clock: cfg.Clock}
	if s.log == nil {
		s.log = os.Stderr
	}
	if s.clock == nil {
		s.clock = time.Now
	}
	if s.cfg.RestampMaxGap <= 0 {
		s.cfg.RestampMaxGap = DefaultRestampMaxGap
	}
	if s.cfg.DrainTimeout <= 0 {
		s.cfg.DrainTimeout = DefaultDrainTimeout
	}
	if err := s.validate(); err != nil {
		return nil, err
	}
	var policies []string
	if cfg.Generate {
		g, err := NewGenerator(GeneratorConfig{Scenario: cfg.Scenario, Seed: cfg.Seed, NodeName: cfg.NodeName, Clock: s.clock})
		if err != nil {
			return nil, err
		}
		s.gen = g
		policies = PolicyNames()
	} else {
		r, err := LoadReplay(cfg.ReplayFiles, ReplayOptions{JSON: cfg.ExportFile != "", Restamp: cfg.Restamp, Workloads: cfg.Workloads})
		if err != nil {
			return nil, err
		}
		if cfg.Workloads > 0 {
			fmt.Fprintf(s.log, "tetragon-sim: %d container processes spread over %d workloads in %d passes of the replay (%d events)\n",
				r.Spread.Units, r.Spread.Distinct, r.Spread.Passes, len(r.Frames))
		}
		if len(r.Frames) == 0 {
			return nil, fmt.Errorf("replay files hold no usable event (%s)", r.Skipped)
		}
		s.replay = r
		policies = replayPolicies(r)
	}
	if cfg.Listen != "" || cfg.Listener != nil {
		s.listener = cfg.Listener
		if s.listener == nil {
			l, err := Listen(cfg.Listen)
			if err != nil {
				return nil, err
			}
			s.listener = l
		}
		s.server = NewServer(ServerOptions{MinClients: cfg.MinClients, Log: s.log, Policies: policies})
	}
	if cfg.ExportFile != "" {
		w, err := NewExportWriter(cfg.ExportFile, cfg.ExportMaxBytes, cfg.ExportBackups)
		if err != nil {
			if s.listener != nil {
				s.listener.Close()
			}
			return nil, err
		}
		s.export = w
	}
	return s, nil
}

func (s *Sim) validate() error {
	c := s.cfg
	var errs []error
	if c.Generate == (len(c.ReplayFiles) > 0) {
		errs = append(errs, errors.New("give either --generate or at least one --replay FILE"))
	}
	if c.Listen == "" && c.Listener == nil && c.ExportFile == "" {
		errs = append(errs, errors.New("nowhere to send events: give --listen and/or --export-file"))
	}
	if c.Rate < 0 {
		errs = append(errs, fmt.Errorf("--rate must be >= 0, got %v", c.Rate))
	}
	if c.ExportMaxBytes < 0 {
		errs = append(errs, fmt.Errorf("--export-max-bytes must be > 0, got %d", c.ExportMaxBytes))
	}
	if c.ExportBackups < 0 {
		errs = append(errs, fmt.Errorf("--export-backups must be >= 0, got %d", c.ExportBackups))
	}
	if c.Workloads < 0 {
		errs = append(errs, fmt.Errorf("--workloads must be >= 0, got %d", c.Workloads))
	}
	if c.Workloads > 0 && c.Generate {
		errs = append(errs, errors.New("--workloads applies to --replay, not to --generate"))
	}
	if c.Generate && c.Scenario != "" && !slices.Contains(Scenarios(), c.Scenario) {
		errs = append(errs, fmt.Errorf("unknown --scenario %q (have %v)", c.Scenario, Scenarios()))
	}
	return errors.Join(errs...)
}

func replayPolicies(r *Replay) []string {
	seen := map[string]bool{}
	for _, f := range r.Frames {
		if f.Meta.PolicyName != "" {
			seen[f.Meta.PolicyName] = true
		}
	}
	out := make([]string, 0, len(seen))
	for p := range seen {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

// Close releases the listener and the export file of a Sim that will not Run. Run releases
// them itself.
func (s *Sim) Close() error {
	if s.ran {
		return nil
	}
	s.ran = true
	var errs []error
	if s.listener != nil {
		errs = append(errs, s.listener.Close())
	}
	if s.export != nil {
		errs = append(errs, s.export.Close())
	}
	return errors.Join(errs...)
}

// Addr is the address the gRPC server listens on, or nil.
func (s *Sim) Addr() net.Addr {
	if s.listener == nil {
		return nil
	}
	return s.listener.Addr()
}

// Server is the gRPC server, or nil when only an export file is written.
func (s *Sim) Server() *Server { return s.server }

// Skipped counts the replay lines that were not usable.
func (s *Sim) Skipped() SkipStats {
	if s.replay == nil {
		return SkipStats{}
	}
	return s.replay.Skipped
}

// Run sends events until Count is reached, a non-looping replay ends or ctx is cancelled, then
// lets the clients drain and stops the server. Cancelling ctx is a normal way to end a run.
func (s *Sim) Run(ctx context.Context) (*Stats, error) {
	if s.ran {
		return nil, errors.New("tetragonsim: Run called twice or after Close")
	}
	s.ran = true
	st := &Stats{ByType: map[string]uint64{}}
	sk := s.Skipped()
	st.Skipped, st.SkippedByReason = sk.Total, sk.ByReason
	if s.replay != nil && s.cfg.Workloads > 0 {
		sp := s.replay.Spread
		st.Spread = &sp
	}
	serveErr := make(chan error, 1)
	if s.server != nil {
		go func() { serveErr <- s.server.Serve(s.listener) }()
		defer s.server.Stop(2 * time.Second)
	}
	if s.export != nil {
		defer s.export.Close()
	}
	if s.server != nil && s.cfg.WaitClient {
		fmt.Fprintf(s.log, "tetragon-sim: waiting for a GetEvents client on %s\n", s.listener.Addr())
		select {
		case <-s.server.Ready():
		case <-ctx.Done():
			st.Interrupted = true
			s.finish(st)
			return st, nil
		case err := <-serveErr:
			return st, fmt.Errorf("grpc server: %w", err)
		}
	}
	start := time.Now()
	err := s.produce(ctx, st)
	st.ElapsedSeconds = time.Since(start).Seconds()
	if st.ElapsedSeconds > 0 {
		st.EventsPerSecond = float64(st.Sent) / st.ElapsedSeconds
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		st.Interrupted, err = true, nil
	}
	s.finish(st)
	return st, err
}

func (s *Sim) finish(st *Stats) {
	st.Drained = true
	if s.server != nil {
		s.server.End()
		st.Drained = s.server.WaitDrained(s.cfg.DrainTimeout)
		if !st.Drained {
			fmt.Fprintf(s.log, "tetragon-sim: clients still receiving after %s; stopping anyway\n", s.cfg.DrainTimeout)
		}
		st.Clients = s.server.Clients()
	}
	if s.export != nil {
		if err := s.export.Flush(); err != nil {
			fmt.Fprintf(s.log, "tetragon-sim: export file: %v\n", err)
		}
		st.ExportLines, st.ExportRotations = s.export.Lines(), s.export.Rotations()
	}
}

func (s *Sim) produce(ctx context.Context, st *Stats) error {
	p := newPacer(s.cfg.Rate)
	defer p.stop()
	rs := &restamper{sendTime: s.cfg.Rate > 0, maxGap: s.cfg.RestampMaxGap, clock: s.clock}
	replayPos := 0
	next := func() (*Frame, bool, error) {
		if s.gen != nil {
			f, err := NewFrame(s.gen.Next(), s.export != nil)
			return f, err == nil, err
		}
		if replayPos == len(s.replay.Frames) {
			if !s.cfg.Loop {
				return nil, false, nil
			}
			replayPos = 0
		}
		f := s.replay.Frames[replayPos]
		replayPos++
		if s.cfg.Restamp {
			f = rs.apply(f)
		}
		return f, true, nil
	}
	typeCounts := map[string]uint64{}
	defer func() {
		for k, v := range typeCounts {
			st.ByType[k] = v
		}
	}()
	for {
		n, err := p.take(ctx, maxBatch)
		if err != nil {
			return err
		}
		if s.cfg.Count > 0 {
			n = int(min(uint64(n), s.cfg.Count-st.Sent))
		}
		batch := make([]*Frame, 0, n)
		exhausted := false
		for len(batch) < n {
			f, ok, err := next()
			if err != nil {
				return err
			}
			if !ok {
				exhausted = true
				break
			}
			batch = append(batch, f)
			typeCounts[f.Meta.TypeName]++
		}
		st.Sent += uint64(len(batch))
		if s.server != nil && len(batch) > 0 {
			if err := s.server.Broadcast(ctx, batch); err != nil {
				return err
			}
		}
		if s.export != nil && len(batch) > 0 {
			for _, f := range batch {
				if err := s.export.WriteLine(f.JSON); err != nil {
					return fmt.Errorf("export file: %w", err)
				}
			}
			if err := s.export.Flush(); err != nil {
				return fmt.Errorf("export file: %w", err)
			}
		}
		if exhausted || (s.cfg.Count > 0 && st.Sent >= s.cfg.Count) {
			return nil
		}
	}
}

// restamper gives replayed events current timestamps (see Config.Restamp).
type restamper struct {
	sendTime bool
	maxGap   time.Duration
	clock    func() time.Time
	started  bool
	prevOrig time.Time
	prevNew  time.Time
}

func (r *restamper) apply(f *Frame) *Frame {
	st := f.stamp
	if st == nil {
		return f
	}
	var at time.Time
	switch {
	case r.sendTime || !r.started:
		at = r.clock()
	default:
		gap := time.Duration(0)
		if st.hasTime {
			gap = min(max(st.orig[st.timeSlot].Sub(r.prevOrig), 0), r.maxGap)
		}
		at = r.prevNew.Add(gap)
	}
	if r.started && at.Before(r.prevNew) {
		at = r.prevNew
	}
	if st.hasTime {
		r.prevOrig = st.orig[st.timeSlot]
	}
	r.started, r.prevNew = true, at
	return st.render(f.Meta, at)
}
