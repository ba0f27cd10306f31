// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package tetragonreceiver

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cilium/tetragon/api/v1/tetragon"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/config/configtls"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/otel/attribute"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/encoding"
	grpcproto "google.golang.org/grpc/encoding/proto"
	"google.golang.org/grpc/mem"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/attrkey"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/receiver/tetragonreceiver/internal/grpcsource"
)

// fakeTetragon is a minimal FineGuidanceSensors server built on the real API
// types. Each GetEvents call sends the events queued for it, then keeps the
// stream open until the client goes away or the server stops.
type fakeTetragon struct {
	tetragon.UnimplementedFineGuidanceSensorsServer
	version string

	mu       sync.Mutex
	requests []*tetragon.GetEventsRequest
	versions int
	// sessions holds what each GetEvents call sends: events, or rawFrames.
	sessions [][]any
	// endAfterSend ends the stream with an error once its events are sent:
	// endErr, or a generic one.
	endAfterSend bool
	endErr       error
}

func (f *fakeTetragon) GetVersion(context.Context, *tetragon.GetVersionRequest) (*tetragon.GetVersionResponse, error) {
	f.mu.Lock()
	f.versions++
	f.mu.Unlock()
	return &tetragon.GetVersionResponse{Version: f.version}, nil
}

func (f *fakeTetragon) GetEvents(req *tetragon.GetEventsRequest, stream tetragon.FineGuidanceSensors_GetEventsServer) error {
	f.mu.Lock()
	f.requests = append(f.requests, proto.Clone(req).(*tetragon.GetEventsRequest))
	var frames []any
	if len(f.sessions) > 0 {
		frames, f.sessions = f.sessions[0], f.sessions[1:]
	}
	endAfterSend, endErr := f.endAfterSend, f.endErr
	f.mu.Unlock()
	for _, fr := range frames {
		if err := stream.SendMsg(fr); err != nil {
			return err
		}
	}
	if endAfterSend {
		if endErr != nil {
			return endErr
		}
		return fmt.Errorf("tetragon: agent restarting")
	}
	<-stream.Context().Done()
	return nil
}

func (f *fakeTetragon) queue(events []*tetragon.GetEventsResponse) {
	frames := make([]any, len(events))
	for i, ev := range events {
		frames[i] = ev
	}
	f.queueFrames(frames...)
}

// queueFrames queues one session of events and rawFrames.
func (f *fakeTetragon) queueFrames(frames ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sessions = append(f.sessions, frames)
}

// rawFrame is a GetEvents message sent as these bytes, which need not decode.
type rawFrame []byte

// rawCodec is the server's codec: rawFrames as they are, everything else as protobuf.
type rawCodec struct{}

func (rawCodec) Marshal(v any) (mem.BufferSlice, error) {
	if r, ok := v.(rawFrame); ok {
		return mem.BufferSlice{mem.SliceBuffer(r)}, nil
	}
	return encoding.GetCodecV2(grpcproto.Name).Marshal(v)
}

func (rawCodec) Unmarshal(data mem.BufferSlice, v any) error {
	return encoding.GetCodecV2(grpcproto.Name).Unmarshal(data, v)
}

func (rawCodec) Name() string { return grpcproto.Name }

func (f *fakeTetragon) requestsSeen() []*tetragon.GetEventsRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]*tetragon.GetEventsRequest(nil), f.requests...)
}

// socketDir is short: unix socket paths are limited to 108 bytes.
func socketDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "tg")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

func serveUnix(t *testing.T, path string, srv *fakeTetragon) *grpc.Server {
	t.Helper()
	lis, err := net.Listen("unix", path)
	require.NoError(t, err)
	gs := grpc.NewServer(grpc.ForceServerCodecV2(rawCodec{}))
	tetragon.RegisterFineGuidanceSensorsServer(gs, srv)
	go func() { _ = gs.Serve(lis) }()
	t.Cleanup(gs.Stop)
	return gs
}

func execEvents(prefix string, n int) []*tetragon.GetEventsResponse {
	out := make([]*tetragon.GetEventsResponse, 0, n)
	for _, id := range ids(prefix, 0, n) {
		out = append(out, execEvent(id))
	}
	return out
}

func grpcConfig(endpoint string) *Config {
	cfg := createDefaultConfig().(*Config)
	grpcOf(cfg).Endpoint = endpoint
	grpcOf(cfg).InfoFile = ""
	grpcOf(cfg).Reconnect = ReconnectConfig{InitialInterval: 20 * time.Millisecond, MaxInterval: 100 * time.Millisecond}
	cfg.Batch = BatchConfig{MaxSize: 64, Timeout: 20 * time.Millisecond, MaxBytes: defaultBatchMaxBytes}
	return cfg
}

func TestGRPCDeliversEventsInBatchesAndPassesFilters(t *testing.T) {
	sock := filepath.Join(socketDir(t), "tetragon.sock")
	srv := &fakeTetragon{version: "v1.7.1-fake"}
	events := execEvents("grpc", 300)
	// Also an event type the mapper does not know (Tetragon's internal test
	// event): counted and skipped, the stream goes on.
	events = append(events[:150], append([]*tetragon.GetEventsResponse{{Event: &tetragon.GetEventsResponse_Test{Test: &tetragon.Test{}}}}, events[150:]...)...)
	srv.queue(events)
	serveUnix(t, sock, srv)

	cfg := grpcConfig("unix://" + sock)
	grpcOf(cfg).AllowList = []map[string]any{
		{"event_set": []any{"PROCESS_EXEC", "PROCESS_KPROBE"}, "namespace": []any{"default"}, "binary_regex": []any{"^/bin/"}},
	}
	grpcOf(cfg).DenyList = []map[string]any{{"health_check": true}, {"pod_regex": []any{"^tetragon"}}}
	cfg.FieldFilters = []map[string]any{{"event_set": []any{"PROCESS_EXEC"}, "fields": []any{"process.binary", "process.exec_id"}, "action": "INCLUDE", "invert_event_set": true}}

	h := newHarness(t)
	sink := &collector{}
	r := h.start(t, cfg, sink, nil)
	waitFor(t, "300 records", func() bool { return sink.count() == 300 })
	require.NoError(t, r.Shutdown(context.Background()))

	assert.ElementsMatch(t, ids("grpc", 0, 300), sink.execIDs())
	assert.Less(t, sink.batches, 300, "records are delivered in batches")
	assert.LessOrEqual(t, 300/64, sink.batches)

	want := &tetragon.GetEventsRequest{
		AllowList: []*tetragon.Filter{{
			EventSet:    []tetragon.EventType{tetragon.EventType_PROCESS_EXEC, tetragon.EventType_PROCESS_KPROBE},
			Namespace:   []string{"default"},
			BinaryRegex: []string{"^/bin/"},
		}},
		DenyList: []*tetragon.Filter{{HealthCheck: wrapperspb.Bool(true)}, {PodRegex: []string{"^tetragon"}}},
		FieldFilters: []*tetragon.FieldFilter{{
			EventSet:       []tetragon.EventType{tetragon.EventType_PROCESS_EXEC},
			Fields:         &fieldmaskpb.FieldMask{Paths: []string{"process.binary", "process.exec_id"}},
			Action:         tetragon.FieldFilterAction_INCLUDE,
			InvertEventSet: wrapperspb.Bool(true),
		}},
	}
	reqs := srv.requestsSeen()
	require.Len(t, reqs, 1)
	assert.True(t, proto.Equal(want, reqs[0]), "request sent to Tetragon:\n got %v\nwant %v", reqs[0], want)

	connected := h.logs.FilterMessage("Connected to Tetragon").All()
	require.Len(t, connected, 1)
	assert.Equal(t, "v1.7.1-fake", connected[0].ContextMap()["tetragon_version"])
	assert.Equal(t, "unix://"+sock, connected[0].ContextMap()["endpoint"])

	assert.Equal(t, int64(300), h.counter(t, "otelcol_receiver_tetragon_events", attribute.String("event_type", "process_exec")))
	assert.Equal(t, int64(1), h.counter(t, "otelcol_receiver_tetragon_decode_errors", attribute.String("reason", "unknown_event_type")))
	// The standard receiver metrics see the same records.
	assert.Equal(t, int64(300), h.counter(t, "otelcol_receiver_accepted_log_records"))
}

// A message that does not decode is counted and skipped; the stream goes on.
func TestGRPCSkipsMessagesThatDoNotDecode(t *testing.T) {
	sock := filepath.Join(socketDir(t), "tetragon.sock")
	srv := &fakeTetragon{version: "v1.7.1"}
	good := execEvents("good", 4)
	// node_name (field 1000) announcing 5 bytes of which 1 is there.
	bad := rawFrame{0xc2, 0x3e, 0x05, 'a'}
	srv.queueFrames(good[0], good[1], bad, good[2], good[3])
	serveUnix(t, sock, srv)

	h := newHarness(t)
	sink := &collector{}
	r := h.start(t, grpcConfig("unix://"+sock), sink, nil)
	waitFor(t, "the events before and after the bad message", func() bool { return sink.count() == 4 })
	require.NoError(t, r.Shutdown(context.Background()))

	assert.ElementsMatch(t, ids("good", 0, 4), sink.execIDs())
	assert.Equal(t, int64(1), h.counter(t, "otelcol_receiver_tetragon_decode_errors", attribute.String("reason", "malformed")))
	assert.Equal(t, int64(0), h.counter(t, "otelcol_receiver_tetragon_grpc_disconnects"))
	assert.Len(t, srv.requestsSeen(), 1, "one stream, no reconnection")
	skipped := h.logs.FilterMessage("Skipping Tetragon input that cannot be processed").All()
	require.Len(t, skipped, 1)
	assert.Equal(t, "malformed", skipped[0].ContextMap()["reason"])
	assert.Equal(t, int64(len(bad)), skipped[0].ContextMap()["message_bytes"])
}

// withArguments is an exec event whose arguments are n bytes long.
func withArguments(id string, n int) *tetragon.GetEventsResponse {
	ev := execEvent(id)
	ev.GetProcessExec().Process.Arguments = strings.Repeat("A", n)
	return ev
}

// An event over max_event_bytes is counted and skipped without being decoded; the stream goes
// on. With the defaults this holds for an event of several MB, the size that made the heap
// balloon (issue 16).
func TestGRPCSkipsOversizedEvents(t *testing.T) {
	for _, tc := range []struct {
		name          string
		maxEventBytes int
		argBytes      int
	}{
		{name: "max_event_bytes 4096", maxEventBytes: 4096, argBytes: 10_000},
		{name: "default, 6 MB event", argBytes: 6 << 20},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sock := filepath.Join(socketDir(t), "tetragon.sock")
			srv := &fakeTetragon{version: "v1.7.1"}
			big := withArguments("big", tc.argBytes)
			srv.queueFrames(execEvent("before"), big, execEvent("after"))
			serveUnix(t, sock, srv)

			cfg := grpcConfig("unix://" + sock)
			if tc.maxEventBytes > 0 {
				grpcOf(cfg).MaxEventBytes = tc.maxEventBytes
			}
			require.Greater(t, proto.Size(big), grpcOf(cfg).MaxEventBytes)
			require.Less(t, proto.Size(big), grpcRecvLimit(grpcOf(cfg).MaxEventBytes), "gRPC reads it, the receiver skips it")
			h := newHarness(t)
			sink := &collector{}
			r := h.start(t, cfg, sink, nil)
			waitFor(t, "the events around the big one", func() bool { return sink.count() == 2 })
			require.NoError(t, r.Shutdown(context.Background()))

			assert.Equal(t, []string{"before", "after"}, sink.execIDs())
			assert.Equal(t, int64(1), h.counter(t, "otelcol_receiver_tetragon_decode_errors", attribute.String("reason", "oversized")))
			assert.Equal(t, int64(0), h.counter(t, "otelcol_receiver_tetragon_grpc_disconnects"))
			skipped := h.logs.FilterMessage("Skipping Tetragon input that cannot be processed").All()
			require.Len(t, skipped, 1)
			assert.Equal(t, "oversized", skipped[0].ContextMap()["reason"])
			assert.Equal(t, int64(proto.Size(big)), skipped[0].ContextMap()["message_bytes"])
		})
	}
}

// Above gRPC's receive limit (grpcRecvLimit: 16 MiB, or 4 x max_event_bytes) gRPC ends the stream: still counted as
// oversized, then the receiver reconnects.
func TestGRPCEventOverReceiveLimitEndsTheStream(t *testing.T) {
	sock := filepath.Join(socketDir(t), "tetragon.sock")
	srv := &fakeTetragon{version: "v1.7.1"}
	huge := withArguments("huge", 17<<20)
	srv.queueFrames(execEvent("before"), huge, execEvent("lost"))
	srv.queueFrames(execEvent("next-stream"))
	serveUnix(t, sock, srv)

	cfg := grpcConfig("unix://" + sock)
	grpcOf(cfg).MaxEventBytes = 4096
	require.Greater(t, proto.Size(huge), grpcRecvLimit(grpcOf(cfg).MaxEventBytes))
	h := newHarness(t)
	sink := &collector{}
	r := h.start(t, cfg, sink, nil)
	waitFor(t, "the event of the next stream", func() bool { return sink.count() == 2 })
	require.NoError(t, r.Shutdown(context.Background()))

	assert.Equal(t, []string{"before", "next-stream"}, sink.execIDs())
	assert.Equal(t, int64(1), h.counter(t, "otelcol_receiver_tetragon_decode_errors", attribute.String("reason", "oversized")))
	assert.Equal(t, int64(1), h.counter(t, "otelcol_receiver_tetragon_grpc_disconnects"))
}

// A ResourceExhausted status that Tetragon sends is a disconnect, not an oversized event.
func TestGRPCServerResourceExhaustedIsNotOversized(t *testing.T) {
	sock := filepath.Join(socketDir(t), "tetragon.sock")
	srv := &fakeTetragon{version: "v1.7.1", endAfterSend: true, endErr: status.Error(codes.ResourceExhausted, "too many listeners")}
	srv.queue(execEvents("s1", 1))
	srv.queue(execEvents("s2", 1))
	serveUnix(t, sock, srv)
	h := newHarness(t)
	sink := &collector{}
	r := h.start(t, grpcConfig("unix://"+sock), sink, nil)
	waitFor(t, "both streams' events and ends", func() bool {
		return sink.count() == 2 && h.counter(t, "otelcol_receiver_tetragon_grpc_disconnects") >= 2
	})
	require.NoError(t, r.Shutdown(context.Background()))
	assert.Zero(t, h.counter(t, "otelcol_receiver_tetragon_decode_errors"))
}

func TestGRPCReconnectsAfterTetragonGoesAway(t *testing.T) {
	sock := filepath.Join(socketDir(t), "tetragon.sock")
	first := &fakeTetragon{version: "v1.7.0"}
	first.queue(execEvents("before", 40))
	gs := serveUnix(t, sock, first)

	h := newHarness(t)
	sink := &collector{}
	r := h.start(t, grpcConfig("unix://"+sock), sink, nil)
	defer func() { require.NoError(t, r.Shutdown(context.Background())) }()
	waitFor(t, "first 40 records", func() bool { return sink.count() == 40 })

	// Tetragon dies mid-stream; the socket disappears for a while.
	gs.Stop()
	os.Remove(sock)
	waitFor(t, "disconnect logged", func() bool { return h.logged("Disconnected from Tetragon") == 1 })
	waitFor(t, "failed reconnect attempts", func() bool {
		return h.counter(t, "otelcol_receiver_tetragon_grpc_reconnects") >= 3
	})

	second := &fakeTetragon{version: "v1.7.1"}
	second.queue(execEvents("after", 60))
	serveUnix(t, sock, second)
	waitFor(t, "all 100 records", func() bool { return sink.count() == 100 })

	assert.ElementsMatch(t, append(ids("before", 0, 40), ids("after", 0, 60)...), sink.execIDs())
	assert.Equal(t, int64(1), h.counter(t, "otelcol_receiver_tetragon_grpc_disconnects"))
	// One line per state change, however many attempts failed.
	assert.Equal(t, 1, h.logged("Reconnecting to Tetragon"))
	assert.Equal(t, 0, h.logged("Cannot connect to Tetragon; retrying with backoff until it is reachable (further failures are logged at debug level)"))
	assert.Positive(t, h.logged("Tetragon still unreachable"))
	connected := h.logs.FilterMessage("Connected to Tetragon").All()
	require.Len(t, connected, 2)
	assert.Equal(t, "v1.7.0", connected[0].ContextMap()["tetragon_version"])
	assert.Equal(t, "v1.7.1", connected[1].ContextMap()["tetragon_version"])
}

// The connected gauge is 1 while the stream is established, 0 before and after.
func TestGRPCConnectedGauge(t *testing.T) {
	sock := filepath.Join(socketDir(t), "tetragon.sock")
	h := newHarness(t)
	sink := &collector{}
	r := h.start(t, grpcConfig("unix://"+sock), sink, nil)
	defer func() { require.NoError(t, r.Shutdown(context.Background())) }()
	waitFor(t, "a failed attempt", func() bool { return h.counter(t, "otelcol_receiver_tetragon_grpc_reconnects") >= 1 })
	h.assertConnected(t, 0)

	srv := &fakeTetragon{version: "v1.7.1"}
	srv.queue(execEvents("c", 3))
	gs := serveUnix(t, sock, srv)
	waitFor(t, "the records", func() bool { return sink.count() == 3 })
	h.assertConnected(t, 1)

	gs.Stop()
	waitFor(t, "the disconnect", func() bool { return h.counter(t, "otelcol_receiver_tetragon_grpc_disconnects") == 1 })
	h.assertConnected(t, 0)
}

func TestGRPCStreamErrorMidStreamReconnects(t *testing.T) {
	sock := filepath.Join(socketDir(t), "tetragon.sock")
	srv := &fakeTetragon{version: "v1.7.1", endAfterSend: true}
	srv.queue(execEvents("s1", 10))
	srv.queue(execEvents("s2", 10))
	srv.queue(execEvents("s3", 10))
	serveUnix(t, sock, srv)

	h := newHarness(t)
	sink := &collector{}
	r := h.start(t, grpcConfig("unix://"+sock), sink, nil)
	// The third stream's end can reach the receiver after its records did: up to read_coalesce
	// later, when it arrives after the read that took them.
	waitFor(t, "30 records over three streams, each stream's end seen", func() bool {
		return sink.count() == 30 && h.counter(t, "otelcol_receiver_tetragon_grpc_disconnects") >= 3
	})
	require.NoError(t, r.Shutdown(context.Background()))

	assert.Len(t, sink.execIDs(), 30)
	disc := h.logs.FilterMessage("Disconnected from Tetragon").All()
	require.NotEmpty(t, disc)
	assert.Contains(t, disc[0].ContextMap()["error"], "agent restarting", "the cause is logged")
}

func TestGRPCUnreachableWarnsOnceAndShutsDown(t *testing.T) {
	sock := filepath.Join(socketDir(t), "missing.sock")
	h := newHarness(t)
	r := h.start(t, grpcConfig("unix://"+sock), &collector{}, nil)
	waitFor(t, "several attempts", func() bool { return h.counter(t, "otelcol_receiver_tetragon_grpc_reconnects") >= 3 })
	require.NoError(t, r.Shutdown(context.Background()))
	assert.Equal(t, 1, h.logged("Cannot connect to Tetragon; retrying with backoff until it is reachable (further failures are logged at debug level)"))
	assert.Equal(t, 0, h.logged("Connected to Tetragon"))
}

func TestGRPCEndpointFromInfoFile(t *testing.T) {
	dir := socketDir(t)
	sock := filepath.Join(dir, "custom.sock")
	srv := &fakeTetragon{version: "v1.7.1"}
	srv.queue(execEvents("info", 5))
	serveUnix(t, sock, srv)
	info := filepath.Join(dir, "tetragon-info.json")
	require.NoError(t, os.WriteFile(info, []byte(`{"server_address":"unix://`+sock+`","version":"v1.7.1"}`), 0o600))

	cfg := grpcConfig("")
	grpcOf(cfg).InfoFile = info
	h := newHarness(t)
	sink := &collector{}
	r := h.start(t, cfg, sink, nil)
	waitFor(t, "records via the info file's address", func() bool { return sink.count() == 5 })
	require.NoError(t, r.Shutdown(context.Background()))
	start := h.logs.FilterMessage("Connecting to Tetragon").All()
	require.Len(t, start, 1)
	assert.Equal(t, "info_file", start[0].ContextMap()["endpoint_source"])
}

func TestReadInfoFile(t *testing.T) {
	dir := t.TempDir()
	for in, want := range map[string]string{
		"unix:///var/run/tetragon/tetragon.sock": "unix:///var/run/tetragon/tetragon.sock",
		"localhost:54321":                        "localhost:54321",
		":54321":                                 "localhost:54321",
		"0.0.0.0:54321":                          "localhost:54321",
		"[::]:54321":                             "localhost:54321",
		"10.0.0.7:54321":                         "10.0.0.7:54321",
	} {
		p := filepath.Join(dir, "info.json")
		require.NoError(t, os.WriteFile(p, []byte(`{"server_address":"`+in+`"}`), 0o600))
		got, err := grpcsource.ReadInfoFile(p)
		require.NoError(t, err)
		assert.Equal(t, want, got, in)
	}
	require.NoError(t, os.WriteFile(filepath.Join(dir, "bad.json"), []byte(`{`), 0o600))
	_, err := grpcsource.ReadInfoFile(filepath.Join(dir, "bad.json"))
	assert.Error(t, err)
}

// certs writes a CA, a server certificate for 127.0.0.1 and a client
// certificate, all signed by the CA.
func certs(t *testing.T) (dir string) {
	t.Helper()
	dir = t.TempDir()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test-ca"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, KeyUsage: x509.KeyUsageCertSign, BasicConstraintsValid: true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	require.NoError(t, err)
	ca, err := x509.ParseCertificate(caDER)
	require.NoError(t, err)
	writePEM(t, filepath.Join(dir, "ca.crt"), "CERTIFICATE", caDER)

	issue := func(name string, serial int64, usage x509.ExtKeyUsage) {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		require.NoError(t, err)
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: name},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
			KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage},
			IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"},
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
		require.NoError(t, err)
		writePEM(t, filepath.Join(dir, name+".crt"), "CERTIFICATE", der)
		kder, err := x509.MarshalECPrivateKey(key)
		require.NoError(t, err)
		writePEM(t, filepath.Join(dir, name+".key"), "EC PRIVATE KEY", kder)
	}
	issue("server", 2, x509.ExtKeyUsageServerAuth)
	issue("client", 3, x509.ExtKeyUsageClientAuth)
	return dir
}

func writePEM(t *testing.T, path, typ string, der []byte) {
	t.Helper()
	require.NoError(t, os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600))
}

func TestGRPCMutualTLS(t *testing.T) {
	dir := certs(t)
	serverCert, err := tls.LoadX509KeyPair(filepath.Join(dir, "server.crt"), filepath.Join(dir, "server.key"))
	require.NoError(t, err)
	caPEM, err := os.ReadFile(filepath.Join(dir, "ca.crt"))
	require.NoError(t, err)
	pool := x509.NewCertPool()
	require.True(t, pool.AppendCertsFromPEM(caPEM))

	srv := &fakeTetragon{version: "v1.7.1-tls"}
	srv.queue(execEvents("tls", 7))
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	gs := grpc.NewServer(grpc.Creds(credentials.NewTLS(&tls.Config{
		Certificates: []tls.Certificate{serverCert},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    pool,
		MinVersion:   tls.VersionTLS12,
	})))
	tetragon.RegisterFineGuidanceSensorsServer(gs, srv)
	go func() { _ = gs.Serve(lis) }()
	defer gs.Stop()

	t.Run("with client certificate", func(t *testing.T) {
		tlsCfg := configtls.NewDefaultClientConfig()
		tlsCfg.CAFile = filepath.Join(dir, "ca.crt")
		tlsCfg.CertFile = filepath.Join(dir, "client.crt")
		tlsCfg.KeyFile = filepath.Join(dir, "client.key")
		cfg := grpcConfig(lis.Addr().String())
		grpcOf(cfg).TLS = configoptional.Some(tlsCfg)
		h := newHarness(t)
		sink := &collector{}
		r := h.start(t, cfg, sink, nil)
		waitFor(t, "records over mTLS", func() bool { return sink.count() == 7 })
		require.NoError(t, r.Shutdown(context.Background()))
		assert.Equal(t, 1, h.logged("Connected to Tetragon"))
	})

	t.Run("without client certificate the server refuses", func(t *testing.T) {
		tlsCfg := configtls.NewDefaultClientConfig()
		tlsCfg.CAFile = filepath.Join(dir, "ca.crt")
		cfg := grpcConfig(lis.Addr().String())
		grpcOf(cfg).TLS = configoptional.Some(tlsCfg)
		h := newHarness(t)
		r := h.start(t, cfg, &collector{}, nil)
		waitFor(t, "connection failure logged", func() bool {
			return h.logged("Cannot connect to Tetragon; retrying with backoff until it is reachable (further failures are logged at debug level)") == 1
		})
		require.NoError(t, r.Shutdown(context.Background()))
		assert.Equal(t, 0, h.logged("Connected to Tetragon"))
	})

	t.Run("plaintext client against a TLS server fails", func(t *testing.T) {
		h := newHarness(t)
		r := h.start(t, grpcConfig(lis.Addr().String()), &collector{}, nil)
		waitFor(t, "connection failure logged", func() bool {
			return h.logged("Cannot connect to Tetragon; retrying with backoff until it is reachable (further failures are logged at debug level)") == 1
		})
		require.NoError(t, r.Shutdown(context.Background()))
	})

	t.Run("unreadable CA file fails Start", func(t *testing.T) {
		tlsCfg := configtls.NewDefaultClientConfig()
		tlsCfg.CAFile = filepath.Join(dir, "missing-ca.crt")
		cfg := grpcConfig(lis.Addr().String())
		grpcOf(cfg).TLS = configoptional.Some(tlsCfg)
		h := newHarness(t)
		r, err := newReceiver(h.set, cfg, &collector{})
		require.NoError(t, err)
		err = r.Start(context.Background(), nil)
		require.ErrorContains(t, err, "tls:")
		require.NoError(t, r.Shutdown(context.Background()))
	})
}

func TestGRPCRecordsCarryMappedAttributes(t *testing.T) {
	sock := filepath.Join(socketDir(t), "tetragon.sock")
	srv := &fakeTetragon{version: "v1.7.1"}
	srv.queue(execEvents("attr", 1))
	serveUnix(t, sock, srv)
	cfg := grpcConfig("unix://" + sock)
	cfg.ClusterName = "lab"
	h := newHarness(t)
	sink := &collector{}
	r := h.start(t, cfg, sink, nil)
	waitFor(t, "one record", func() bool { return sink.count() == 1 })
	require.NoError(t, r.Shutdown(context.Background()))
	lr := sink.records[0]
	assert.Equal(t, attrkey.EventNamePrefix+"process_exec", lr.EventName())
	v, ok := lr.Attributes().Get(attrkey.ProcessExecutablePath)
	require.True(t, ok)
	assert.Equal(t, "/usr/bin/curl", v.Str())
	// The default body is the event as a JSON string.
	require.Equal(t, pcommon.ValueTypeStr, lr.Body().Type())
	var body tetragon.GetEventsResponse
	require.NoError(t, protojson.Unmarshal([]byte(lr.Body().Str()), &body))
	assert.True(t, proto.Equal(execEvent("attr-00000"), &body), "body: %s", lr.Body().Str())
}

// batch.max_bytes counts gRPC messages' bytes (checkMaxBytesBatches).
func TestGRPCBatchMaxBytes(t *testing.T) {
	sock := filepath.Join(socketDir(t), "tetragon.sock")
	srv := &fakeTetragon{version: "v1.7.1"}
	var frames []any
	for _, id := range ids("big", 0, 10) {
		frames = append(frames, withArguments(id, 30_000))
	}
	srv.queueFrames(frames...)
	serveUnix(t, sock, srv)
	checkMaxBytesBatches(t, grpcConfig("unix://"+sock))
}
