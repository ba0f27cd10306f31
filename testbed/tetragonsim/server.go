// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package tetragonsim

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cilium/tetragon/api/v1/tetragon"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
)

// DefaultVersion is what GetVersion and GetInfo answer: the Tetragon API the simulator speaks.
const DefaultVersion = "v1.7.1-sim"

// ClientStats counts what one GetEvents stream received.
type ClientStats struct {
	Peer      string `json:"peer"`
	Delivered uint64 `json:"delivered"`
	Filtered  uint64 `json:"filtered"`
	Error     string `json:"error,omitempty"`
}

// Server implements tetragon.FineGuidanceSensorsServer. Events given to Broadcast reach every
// GetEvents stream open at that moment (each through its own filters); a slow stream slows the
// broadcaster down instead of losing events.
type Server struct {
	tetragon.UnimplementedFineGuidanceSensorsServer

	version  string
	log      io.Writer
	grpc     *grpc.Server
	handlers sync.WaitGroup

	mu         sync.Mutex
	subs       atomic.Pointer[[]*subscriber]
	ended      bool
	seen       int
	minClients int
	ready      chan struct{}
	finished   []ClientStats
	policies   []string
}

type subscriber struct {
	peer      string
	ch        chan []*Frame
	done      chan struct{}
	filter    *RequestFilter
	fields    FieldFilters
	delivered atomic.Uint64
	filtered  atomic.Uint64
}

// ServerOptions configure NewServer.
type ServerOptions struct {
	// Version answered by GetVersion/GetInfo; DefaultVersion when empty.
	Version string
	// MinClients is how many GetEvents streams Ready waits for (at least 1).
	MinClients int
	// Log receives one line per notable client action; io.Discard when nil.
	Log io.Writer
	// Policies are listed by ListTracingPolicies.
	Policies []string
}

// NewServer returns a server with its gRPC server configured for throughput.
func NewServer(opts ServerOptions) *Server {
	s := &Server{
		version:    opts.Version,
		log:        opts.Log,
		minClients: max(1, opts.MinClients),
		ready:      make(chan struct{}),
		policies:   slices.Clone(opts.Policies),
	}
	if s.version == "" {
		s.version = DefaultVersion
	}
	if s.log == nil {
		s.log = io.Discard
	}
	s.subs.Store(&[]*subscriber{})
	s.grpc = grpc.NewServer(
		grpc.ForceServerCodecV2(PassthroughCodec()),
		grpc.InitialWindowSize(8<<20),
		grpc.InitialConnWindowSize(32<<20),
		grpc.WriteBufferSize(512<<10),
		grpc.ReadBufferSize(64<<10),
		grpc.MaxRecvMsgSize(16<<20),
	)
	tetragon.RegisterFineGuidanceSensorsServer(s.grpc, s)
	return s
}

// Serve serves gRPC on l until Stop.
func (s *Server) Serve(l net.Listener) error {
	err := s.grpc.Serve(l)
	if errors.Is(err, grpc.ErrServerStopped) {
		return nil
	}
	return err
}

// Ready is closed once MinClients GetEvents streams have connected.
func (s *Server) Ready() <-chan struct{} { return s.ready }

// Broadcast hands a batch of events to every open stream. It blocks while a stream's queue is
// full and returns early only when ctx ends.
func (s *Server) Broadcast(ctx context.Context, batch []*Frame) error {
	for _, sub := range *s.subs.Load() {
		select {
		case sub.ch <- batch:
		case <-sub.done:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// End tells every stream that no more events come: each sends what it has queued and ends with
// status OK. Streams opened later are refused.
func (s *Server) End() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ended {
		return
	}
	s.ended = true
	for _, sub := range *s.subs.Load() {
		close(sub.ch)
	}
}

// WaitDrained waits until every stream has sent its queue and ended, or until timeout. It
// reports whether they all did.
func (s *Server) WaitDrained(timeout time.Duration) bool {
	done := make(chan struct{})
	go func() { s.handlers.Wait(); close(done) }()
	select {
	case <-done:
		return true
	case <-time.After(timeout):
		return false
	}
}

// Stop closes the listeners and every connection, waiting at most timeout for a graceful stop.
func (s *Server) Stop(timeout time.Duration) {
	done := make(chan struct{})
	go func() { s.grpc.GracefulStop(); close(done) }()
	select {
	case <-done:
	case <-time.After(timeout):
		s.grpc.Stop()
	}
}

// Clients returns the stats of every stream, finished or open.
func (s *Server) Clients() []ClientStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := slices.Clone(s.finished)
	for _, sub := range *s.subs.Load() {
		out = append(out, sub.stats(""))
	}
	return out
}

func (sub *subscriber) stats(errText string) ClientStats {
	return ClientStats{Peer: sub.peer, Delivered: sub.delivered.Load(), Filtered: sub.filtered.Load(), Error: errText}
}

func (s *Server) subscribe(sub *subscriber) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ended {
		return status.Error(codes.Unavailable, "tetragon-sim: the simulation has ended")
	}
	subs := append(slices.Clone(*s.subs.Load()), sub)
	s.subs.Store(&subs)
	s.handlers.Add(1)
	s.seen++
	if s.seen == s.minClients {
		close(s.ready)
	}
	return nil
}

func (s *Server) unsubscribe(sub *subscriber, err error) {
	close(sub.done)
	s.mu.Lock()
	defer s.mu.Unlock()
	subs := slices.DeleteFunc(slices.Clone(*s.subs.Load()), func(x *subscriber) bool { return x == sub })
	s.subs.Store(&subs)
	errText := ""
	if err != nil {
		errText = err.Error()
	}
	s.finished = append(s.finished, sub.stats(errText))
	s.handlers.Done()
}

// GetEvents streams events to one client until the simulation ends or the client goes away.
func (s *Server) GetEvents(req *tetragon.GetEventsRequest, stream tetragon.FineGuidanceSensors_GetEventsServer) (err error) {
	filter, err := CompileRequestFilter(req)
	if err != nil {
		var unsupported *UnsupportedFilterError
		if errors.As(err, &unsupported) {
			return status.Error(codes.Unimplemented, err.Error())
		}
		return status.Error(codes.InvalidArgument, err.Error())
	}
	fields, err := CompileFieldFilters(req)
	if err != nil {
		return status.Error(codes.InvalidArgument, err.Error())
	}
	if req.GetAggregationOptions() != nil {
		return status.Error(codes.Unimplemented, "tetragon-sim does not aggregate events")
	}
	ctx := stream.Context()
	sub := &subscriber{
		peer:   "unknown",
		ch:     make(chan []*Frame, 256),
		done:   make(chan struct{}),
		filter: filter,
		fields: fields,
	}
	if p, ok := peer.FromContext(ctx); ok && p.Addr != nil {
		sub.peer = p.Addr.Network() + ":" + p.Addr.String()
	}
	if err := s.subscribe(sub); err != nil {
		return err
	}
	fmt.Fprintf(s.log, "tetragon-sim: GetEvents client connected (%s)\n", sub.peer)
	defer func() {
		s.unsubscribe(sub, err)
		fmt.Fprintf(s.log, "tetragon-sim: GetEvents client done (%s): %d delivered, %d filtered out\n",
			sub.peer, sub.delivered.Load(), sub.filtered.Load())
	}()
	for {
		select {
		case batch, ok := <-sub.ch:
			if !ok {
				return nil
			}
			if err := sub.send(stream, batch); err != nil {
				return err
			}
		case <-ctx.Done():
			return status.FromContextError(ctx.Err()).Err()
		}
	}
}

func (sub *subscriber) send(stream grpc.ServerStream, batch []*Frame) error {
	for _, f := range batch {
		if !sub.filter.Match(f.Meta) {
			sub.filtered.Add(1)
			continue
		}
		var msg any = f
		if len(sub.fields) > 0 {
			ev, err := f.Decode()
			if err != nil {
				return status.Errorf(codes.Internal, "decode event: %v", err)
			}
			sub.fields.Apply(ev)
			msg = ev
		}
		if err := stream.SendMsg(msg); err != nil {
			return err
		}
		sub.delivered.Add(1)
	}
	return nil
}

// GetHealth answers that the (simulated) agent runs.
func (s *Server) GetHealth(context.Context, *tetragon.GetHealthStatusRequest) (*tetragon.GetHealthStatusResponse, error) {
	return &tetragon.GetHealthStatusResponse{HealthStatus: []*tetragon.HealthStatus{{
		Event:   tetragon.HealthStatusType_HEALTH_STATUS_TYPE_STATUS,
		Status:  tetragon.HealthStatusResult_HEALTH_STATUS_RUNNING,
		Details: "running",
	}}}, nil
}

// GetVersion answers the simulator's version.
func (s *Server) GetVersion(context.Context, *tetragon.GetVersionRequest) (*tetragon.GetVersionResponse, error) {
	return &tetragon.GetVersionResponse{Version: s.version}, nil
}

// GetInfo answers the version, the name "tetragon-sim" and the Go build.
func (s *Server) GetInfo(context.Context, *tetragon.GetInfoRequest) (*tetragon.GetInfoResponse, error) {
	return &tetragon.GetInfoResponse{
		Version: s.version,
		Name:    "tetragon-sim",
		Build:   &tetragon.GetInfoResponse_BuildInfo{GoVersion: runtime.Version()},
	}, nil
}

// ListTracingPolicies lists the policy names the simulated events carry, as enabled policies.
func (s *Server) ListTracingPolicies(context.Context, *tetragon.ListTracingPoliciesRequest) (*tetragon.ListTracingPoliciesResponse, error) {
	resp := &tetragon.ListTracingPoliciesResponse{}
	for i, name := range s.policies {
		resp.Policies = append(resp.Policies, &tetragon.TracingPolicyStatus{
			Id:    uint64(i + 1),
			Name:  name,
			State: tetragon.TracingPolicyState_TP_STATE_ENABLED,
			Mode:  tetragon.TracingPolicyMode_TP_MODE_MONITOR,
		})
	}
	return resp, nil
}

// ListSensors answers no sensors.
func (s *Server) ListSensors(context.Context, *tetragon.ListSensorsRequest) (*tetragon.ListSensorsResponse, error) {
	return &tetragon.ListSensorsResponse{}, nil
}

func (s *Server) ignored(what string) {
	fmt.Fprintf(s.log, "tetragon-sim: %s ignored (simulator)\n", what)
}

// AddTracingPolicy accepts and ignores the policy: the simulator's events do not depend on it.
func (s *Server) AddTracingPolicy(context.Context, *tetragon.AddTracingPolicyRequest) (*tetragon.AddTracingPolicyResponse, error) {
	s.ignored("AddTracingPolicy")
	return &tetragon.AddTracingPolicyResponse{}, nil
}

// DeleteTracingPolicy is accepted and ignored.
func (s *Server) DeleteTracingPolicy(context.Context, *tetragon.DeleteTracingPolicyRequest) (*tetragon.DeleteTracingPolicyResponse, error) {
	s.ignored("DeleteTracingPolicy")
	return &tetragon.DeleteTracingPolicyResponse{}, nil
}

// EnableTracingPolicy is accepted and ignored.
func (s *Server) EnableTracingPolicy(context.Context, *tetragon.EnableTracingPolicyRequest) (*tetragon.EnableTracingPolicyResponse, error) {
	s.ignored("EnableTracingPolicy")
	return &tetragon.EnableTracingPolicyResponse{}, nil
}

// DisableTracingPolicy is accepted and ignored.
func (s *Server) DisableTracingPolicy(context.Context, *tetragon.DisableTracingPolicyRequest) (*tetragon.DisableTracingPolicyResponse, error) {
	s.ignored("DisableTracingPolicy")
	return &tetragon.DisableTracingPolicyResponse{}, nil
}

// ConfigureTracingPolicy is accepted and ignored.
func (s *Server) ConfigureTracingPolicy(context.Context, *tetragon.ConfigureTracingPolicyRequest) (*tetragon.ConfigureTracingPolicyResponse, error) {
	s.ignored("ConfigureTracingPolicy")
	return &tetragon.ConfigureTracingPolicyResponse{}, nil
}

// EnableSensor is accepted and ignored.
func (s *Server) EnableSensor(context.Context, *tetragon.EnableSensorRequest) (*tetragon.EnableSensorResponse, error) {
	s.ignored("EnableSensor")
	return &tetragon.EnableSensorResponse{}, nil
}

// DisableSensor is accepted and ignored.
func (s *Server) DisableSensor(context.Context, *tetragon.DisableSensorRequest) (*tetragon.DisableSensorResponse, error) {
	s.ignored("DisableSensor")
	return &tetragon.DisableSensorResponse{}, nil
}

// RemoveSensor is accepted and ignored.
func (s *Server) RemoveSensor(context.Context, *tetragon.RemoveSensorRequest) (*tetragon.RemoveSensorResponse, error) {
	s.ignored("RemoveSensor")
	return &tetragon.RemoveSensorResponse{}, nil
}

// RuntimeHook is accepted and ignored.
func (s *Server) RuntimeHook(context.Context, *tetragon.RuntimeHookRequest) (*tetragon.RuntimeHookResponse, error) {
	return &tetragon.RuntimeHookResponse{}, nil
}

// GetDebug answers log level info.
func (s *Server) GetDebug(_ context.Context, req *tetragon.GetDebugRequest) (*tetragon.GetDebugResponse, error) {
	if req.GetFlag() != tetragon.ConfigFlag_CONFIG_FLAG_LOG_LEVEL {
		return nil, status.Error(codes.Unimplemented, "tetragon-sim has no process cache to dump")
	}
	return &tetragon.GetDebugResponse{
		Flag: req.GetFlag(),
		Arg:  &tetragon.GetDebugResponse_Level{Level: tetragon.LogLevel_LOG_LEVEL_INFO},
	}, nil
}

// SetDebug echoes the requested level without changing anything.
func (s *Server) SetDebug(_ context.Context, req *tetragon.SetDebugRequest) (*tetragon.SetDebugResponse, error) {
	resp := &tetragon.SetDebugResponse{Flag: req.GetFlag()}
	if l, ok := req.GetArg().(*tetragon.SetDebugRequest_Level); ok {
		resp.Arg = &tetragon.SetDebugResponse_Level{Level: l.Level}
	}
	return resp, nil
}
