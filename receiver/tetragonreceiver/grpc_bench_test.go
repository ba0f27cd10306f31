// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package tetragonreceiver

import (
	"context"
	"net"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cilium/tetragon/api/v1/tetragon"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/receiver/receivertest"
	"google.golang.org/grpc"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/eventmap"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/testenv"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/receiver/tetragonreceiver/internal/metadata"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/testbed/tetragonsim"
)

// preEncodedTetragon serves events already in wire format through tetragon-sim's passthrough
// codec, so that the server's own marshalling is not measured.
type preEncodedTetragon struct {
	tetragon.UnimplementedFineGuidanceSensorsServer
	frames [][]byte
	n      int
}

func (s *preEncodedTetragon) GetVersion(context.Context, *tetragon.GetVersionRequest) (*tetragon.GetVersionResponse, error) {
	return &tetragon.GetVersionResponse{Version: "bench"}, nil
}

func (s *preEncodedTetragon) GetEvents(_ *tetragon.GetEventsRequest, stream tetragon.FineGuidanceSensors_GetEventsServer) error {
	for i := 0; i < s.n; i++ {
		if err := stream.SendMsg(&tetragonsim.Frame{Wire: s.frames[i%len(s.frames)]}); err != nil {
			return err
		}
	}
	<-stream.Context().Done()
	return nil
}

// BenchmarkGRPCStream runs the receiver against a gRPC server on a unix
// socket that streams the captured events (pre-encoded), through batching to
// a consumer that only counts: one op is one event through gRPC transport,
// protobuf decode, the hand-off to the batching goroutine, mapping and
// batching. cpu-ns/op is the whole process (the server's frame writes too).
//
//	go test -run '^$' -bench GRPCStream -benchmem ./receiver/tetragonreceiver/
func BenchmarkGRPCStream(b *testing.B) {
	c := loadPipelineCorpus(b, "captured")
	for _, body := range []eventmap.BodyMode{eventmap.BodyMap, eventmap.BodyJSON, eventmap.BodyNone} {
		b.Run("body="+string(body), func(b *testing.B) {
			dir := b.TempDir()
			sock := filepath.Join(dir, "t.sock")
			if len(sock) > 100 {
				b.Skip("socket path too long for this temp dir")
			}
			lis, err := net.Listen("unix", sock)
			require.NoError(b, err)
			gs := grpc.NewServer(grpc.ForceServerCodecV2(tetragonsim.PassthroughCodec()))
			tetragon.RegisterFineGuidanceSensorsServer(gs, &preEncodedTetragon{frames: c.bins, n: b.N})
			go func() { _ = gs.Serve(lis) }()
			defer gs.Stop()

			var got atomic.Int64
			done := make(chan struct{})
			next, err := consumer.NewLogs(func(_ context.Context, ld plog.Logs) error {
				if got.Add(int64(ld.LogRecordCount())) >= int64(b.N) {
					select {
					case <-done:
					default:
						close(done)
					}
				}
				return nil
			})
			require.NoError(b, err)
			cfg := grpcConfig("unix://" + sock)
			cfg.Batch = BatchConfig{MaxSize: 512, Timeout: 200 * time.Millisecond, MaxBytes: defaultBatchMaxBytes}
			cfg.Body = body
			r, err := newReceiver(receivertest.NewNopSettings(metadata.Type), cfg, next)
			require.NoError(b, err)
			b.ReportAllocs()
			report := testenv.StartCPU(b)
			require.NoError(b, r.Start(context.Background(), componenttest.NewNopHost()))
			select {
			case <-done:
			case <-time.After(5 * time.Minute):
				b.Fatalf("%d of %d events received", got.Load(), b.N)
			}
			report()
			b.StopTimer()
			require.NoError(b, r.Shutdown(context.Background()))
		})
	}
}
