// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

// Package grpcsource streams events from Tetragon's FineGuidanceSensors gRPC
// API and keeps the stream alive: it reconnects with exponential backoff and
// jitter, and logs one line per state change rather than one per attempt.
package grpcsource // import "github.com/otelcol-runtime-security/otelcol-runtime-security/receiver/tetragonreceiver/internal/grpcsource"

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/cenkalti/backoff/v5"
	"github.com/cilium/tetragon/api/v1/tetragon"
	"go.uber.org/zap"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/readcoalesce"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/tetragonwire"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/receiver/tetragonreceiver/internal/metadata"
)

// DefaultEndpoint is Tetragon's default gRPC socket in its DaemonSet.
const DefaultEndpoint = "unix:///var/run/tetragon/tetragon.sock"

// Settings configure a Source.
type Settings struct {
	// Endpoint is unix:///path or host:port. Empty: read InfoFile, else
	// DefaultEndpoint.
	Endpoint string
	// InfoFile is Tetragon's tetragon-info.json; its server_address is used
	// when Endpoint is empty. Empty disables the lookup.
	InfoFile string
	// Credentials secure the connection; nil is plaintext, the norm on the
	// unix socket.
	Credentials credentials.TransportCredentials
	// Request is sent with GetEvents (allow/deny lists, field filters).
	Request *tetragon.GetEventsRequest

	InitialInterval, MaxInterval time.Duration
	// CallTimeout bounds GetVersion, which also establishes the connection.
	CallTimeout time.Duration
	// MaxEventBytes is the largest message decoded; a larger one is skipped (Skipped with
	// reason "oversized") and the stream goes on. 0: no limit.
	MaxEventBytes int
	// MaxRecvMsgBytes is gRPC's receive limit: a larger message ends the stream (counted as
	// "oversized" too). Keep it above MaxEventBytes, or oversized messages end the stream.
	MaxRecvMsgBytes int
	// ReadCoalesce is the longest events may accumulate in the socket between two reads (see
	// internal/readcoalesce); 0 reads them as they arrive.
	ReadCoalesce time.Duration

	// Skipped is told about every message of the stream that was skipped: reason is "malformed"
	// when it did not decode, "oversized" when it was over MaxEventBytes or MaxRecvMsgBytes
	// (messageBytes is then 0 when gRPC refused it). It is called from Run's goroutine.
	Skipped func(reason string, err error, messageBytes int)

	// Connected is true while the GetEvents stream is established.
	Connected *atomic.Bool

	Logger    *zap.Logger
	Telemetry *metadata.TelemetryBuilder
}

// Event is one event of the stream with its size.
type Event struct {
	Event *tetragon.GetEventsResponse
	// Bytes is the message's length on the wire, after decompression: what the receiver's
	// batch.max_bytes counts.
	Bytes int
}

// Source streams events into a channel.
type Source struct {
	set Settings
}

// New returns a Source; nothing is dialled until Run.
func New(set Settings) *Source {
	if set.InitialInterval <= 0 {
		set.InitialInterval = time.Second
	}
	if set.MaxInterval < set.InitialInterval {
		set.MaxInterval = set.InitialInterval
	}
	if set.CallTimeout <= 0 {
		set.CallTimeout = 10 * time.Second
	}
	if set.Request == nil {
		set.Request = &tetragon.GetEventsRequest{}
	}
	if set.Connected == nil {
		set.Connected = &atomic.Bool{}
	}
	if set.Skipped == nil {
		set.Skipped = func(string, error, int) {}
	}
	return &Source{set: set}
}

// Run connects, streams every GetEventsResponse into out and reconnects
// whenever the stream ends, until ctx is done. Sending into out blocks when
// the consumer side is slow; that back-pressures Tetragon's stream.
func (s *Source) Run(ctx context.Context, out chan<- Event) {
	bo := backoff.NewExponentialBackOff()
	bo.InitialInterval = s.set.InitialInterval
	bo.MaxInterval = s.set.MaxInterval
	bo.RandomizationFactor = 0.5
	bo.Multiplier = 2

	log := s.set.Logger
	// failing is true between a failure that was logged and the next success,
	// so a long outage produces one warning, not one per attempt.
	failing := false
	attempts := 0
	for ctx.Err() == nil {
		if attempts > 0 {
			s.set.Telemetry.ReceiverTetragonGrpcReconnects.Add(ctx, 1)
		}
		attempts++
		endpoint, source := s.endpoint()
		if attempts == 1 {
			log.Info("Connecting to Tetragon", zap.String("endpoint", endpoint), zap.String("endpoint_source", source))
		}
		received, err := s.session(ctx, endpoint, func(version string) {
			failing = false
			log.Info("Connected to Tetragon", zap.String("endpoint", endpoint), zap.String("tetragon_version", version))
		}, out)
		if ctx.Err() != nil {
			return
		}
		var connected *streamEndedError
		if errors.As(err, &connected) {
			s.set.Telemetry.ReceiverTetragonGrpcDisconnects.Add(ctx, 1)
			log.Warn("Disconnected from Tetragon", zap.String("endpoint", endpoint), zap.Uint64("events_received", received), zap.Error(connected.err))
			// A stream that delivered events restarts the backoff from its first
			// step; one that keeps ending at once (Tetragon crash-looping) backs
			// off further.
			if connected.received > 0 {
				bo.Reset()
			}
			wait := bo.NextBackOff()
			log.Info("Reconnecting to Tetragon", zap.String("endpoint", endpoint), zap.Duration("retry_in", wait))
			failing = true
			if !sleep(ctx, wait) {
				return
			}
			continue
		}
		wait := bo.NextBackOff()
		if !failing {
			failing = true
			log.Warn("Cannot connect to Tetragon; retrying with backoff until it is reachable (further failures are logged at debug level)",
				zap.String("endpoint", endpoint), zap.Duration("retry_in", wait), zap.Error(err))
		} else {
			log.Debug("Tetragon still unreachable", zap.String("endpoint", endpoint), zap.Duration("retry_in", wait), zap.Error(err))
		}
		if !sleep(ctx, wait) {
			return
		}
	}
}

// streamEndedError marks a failure after the stream was established.
type streamEndedError struct {
	err      error
	received uint64
}

func (e *streamEndedError) Error() string { return e.err.Error() }

// session dials, calls GetVersion and streams until an error. The error is a
// *streamEndedError once the stream had been established.
func (s *Source) session(ctx context.Context, endpoint string, onConnected func(version string), out chan<- Event) (uint64, error) {
	creds := insecure.NewCredentials()
	if s.set.Credentials != nil {
		creds = s.set.Credentials
	}
	opts := []grpc.DialOption{grpc.WithTransportCredentials(creds), grpc.WithContextDialer(readcoalesce.Dialer(s.set.ReadCoalesce))}
	if s.set.ReadCoalesce > 0 {
		opts = append(opts, grpc.WithReadBufferSize(readcoalesce.ReadBufferBytes))
	}
	if s.set.MaxRecvMsgBytes > 0 {
		opts = append(opts, grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(s.set.MaxRecvMsgBytes)))
	}
	conn, err := grpc.NewClient(endpoint, opts...)
	if err != nil {
		return 0, fmt.Errorf("create gRPC client for %q: %w", endpoint, err)
	}
	defer conn.Close()
	client := tetragon.NewFineGuidanceSensorsClient(conn)

	vctx, cancel := context.WithTimeout(ctx, s.set.CallTimeout)
	ver, err := client.GetVersion(vctx, &tetragon.GetVersionRequest{})
	cancel()
	if err != nil {
		return 0, fmt.Errorf("GetVersion: %w", err)
	}

	sctx, cancelStream := context.WithCancel(ctx)
	defer cancelStream()
	stream, err := openEvents(sctx, conn, s.set.Request, s.set.MaxEventBytes)
	if err != nil {
		return 0, fmt.Errorf("GetEvents: %w", err)
	}
	onConnected(ver.GetVersion())
	s.set.Connected.Store(true)
	defer s.set.Connected.Store(false)

	var received uint64
	var frame tetragonwire.Frame
	for {
		if err := stream.RecvMsg(&frame); err != nil {
			if overRecvLimit(err) {
				// gRPC does not read such a message and ends the stream.
				s.set.Skipped("oversized", err, 0)
			}
			if errors.Is(err, io.EOF) || status.Code(err) == codes.OK || errors.Is(err, context.Canceled) {
				err = errors.New("server closed the stream")
			}
			return received, &streamEndedError{err: err, received: received}
		}
		if frame.Err != nil {
			reason := "malformed"
			var over *tetragonwire.OversizedError
			if errors.As(frame.Err, &over) {
				reason = "oversized"
			}
			s.set.Skipped(reason, frame.Err, frame.Bytes)
			continue
		}
		received++
		select {
		case out <- Event{Event: frame.Event, Bytes: frame.Bytes}:
		case <-ctx.Done():
			return received, ctx.Err()
		}
	}
}

// openEvents calls GetEvents as the generated client does, but its messages are received into
// tetragonwire.Frame: a message that does not decode, or is over maxEventBytes, is then skipped
// instead of ending the stream (see tetragonwire.Frame), and events are decoded by the
// tetragonwire codec's generated code instead of proto's reflective decoder
// (internal/tetragonwire/README.md).
func openEvents(ctx context.Context, conn *grpc.ClientConn, req *tetragon.GetEventsRequest, maxEventBytes int) (grpc.ClientStream, error) {
	stream, err := conn.NewStream(ctx, &tetragon.FineGuidanceSensors_ServiceDesc.Streams[0],
		tetragon.FineGuidanceSensors_GetEvents_FullMethodName,
		grpc.StaticMethod(), grpc.ForceCodecV2(tetragonwire.Codec{MaxEventBytes: maxEventBytes}))
	if err != nil {
		return nil, err
	}
	if err := stream.SendMsg(req); err != nil {
		return nil, err
	}
	if err := stream.CloseSend(); err != nil {
		return nil, err
	}
	return stream, nil
}

// overRecvLimit reports gRPC's own error for a message over MaxRecvMsgBytes ("grpc: received
// message larger than max", also after decompression), not a ResourceExhausted status that
// the server sent.
func overRecvLimit(err error) bool {
	st, ok := status.FromError(err)
	return ok && st.Code() == codes.ResourceExhausted && strings.Contains(st.Message(), "larger than max")
}

// endpoint resolves the address to dial and says where it came from.
func (s *Source) endpoint() (string, string) {
	if s.set.Endpoint != "" {
		return s.set.Endpoint, "config"
	}
	if s.set.InfoFile != "" {
		if addr, err := ReadInfoFile(s.set.InfoFile); err == nil && addr != "" {
			return addr, "info_file"
		} else if err != nil && !errors.Is(err, os.ErrNotExist) {
			s.set.Logger.Debug("Ignoring Tetragon info file", zap.String("info_file", s.set.InfoFile), zap.Error(err))
		}
	}
	return DefaultEndpoint, "default"
}

// ReadInfoFile returns the server_address Tetragon wrote into its
// tetragon-info.json, made dialable: a listen address without a host (":54321")
// or with an unspecified one ("0.0.0.0:54321") is dialled on localhost.
func ReadInfoFile(path string) (string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	var info struct {
		ServerAddress string `json:"server_address"`
	}
	if err := json.Unmarshal(data, &info); err != nil {
		return "", fmt.Errorf("decode %s: %w", path, err)
	}
	addr := strings.TrimSpace(info.ServerAddress)
	if addr == "" || strings.HasPrefix(addr, "unix:") {
		return addr, nil
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr, nil
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		return net.JoinHostPort("localhost", port), nil
	}
	return addr, nil
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
