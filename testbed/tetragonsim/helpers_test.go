// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package tetragonsim

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/cilium/tetragon/api/v1/tetragon"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/encoding"
	"google.golang.org/grpc/mem"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/testenv"
)

// eventsDir is ../shared/tetragon-events; tests fail (not skip) without it.
func eventsDir(t testing.TB) string { return testenv.EventsDir(t) }

func realFiles(t testing.TB) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(eventsDir(t), "real", "*.jsonl"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no real/*.jsonl files: %v", err)
	}
	return files
}

// jsonLines reads the non-empty lines of a (possibly gzipped) JSONL file as generic maps,
// independently of the code under test.
func jsonLines(t testing.TB, path string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range testenv.ReadLines(t, path) {
		var m map[string]any
		if err := json.Unmarshal(line, &m); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		out = append(out, m)
	}
	return out
}

// startSim builds and runs a simulator on a unix socket in a temp dir.
func startSim(t testing.TB, cfg Config) (*Sim, string, <-chan *Stats) {
	t.Helper()
	if cfg.Listen == "" {
		cfg.Listen = "unix://" + filepath.Join(shortTempDir(t), "tetragon.sock")
	}
	if cfg.Log == nil {
		cfg.Log = io.Discard
	}
	sim, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan *Stats, 1)
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		st, err := sim.Run(ctx)
		if err != nil {
			t.Errorf("Run: %v", err)
		}
		done <- st
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-stopped:
		case <-time.After(20 * time.Second):
			t.Error("simulator did not stop")
		}
	})
	return sim, cfg.Listen, done
}

// shortTempDir keeps unix socket paths under the 108-byte limit.
func shortTempDir(t testing.TB) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "tsim")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

func dial(t testing.TB, addr string) tetragon.FineGuidanceSensorsClient {
	t.Helper()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(64<<20)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return tetragon.NewFineGuidanceSensorsClient(conn)
}

// receiveAll opens GetEvents and collects events until the server ends the stream.
func receiveAll(t testing.TB, c tetragon.FineGuidanceSensorsClient, req *tetragon.GetEventsRequest) ([]*tetragon.GetEventsResponse, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	stream, err := c.GetEvents(ctx, req)
	if err != nil {
		return nil, err
	}
	var out []*tetragon.GetEventsResponse
	for {
		ev, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out = append(out, ev)
	}
}

// rawCodec receives events without decoding them, so a benchmark measures the server.
type rawCodec struct{ proto encoding.CodecV2 }

type rawEvent struct{ size int }

func (c rawCodec) Marshal(v any) (mem.BufferSlice, error) { return c.proto.Marshal(v) }
func (c rawCodec) Unmarshal(data mem.BufferSlice, v any) error {
	if r, ok := v.(*rawEvent); ok {
		r.size = data.Len()
		return nil
	}
	return c.proto.Unmarshal(data, v)
}
func (c rawCodec) Name() string { return "proto" }

// countRaw opens GetEvents with the raw codec and counts events and bytes until the stream ends.
func countRaw(ctx context.Context, conn *grpc.ClientConn) (n, bytes int, err error) {
	desc := &tetragon.FineGuidanceSensors_ServiceDesc.Streams[0]
	stream, err := conn.NewStream(ctx, desc, "/tetragon.FineGuidanceSensors/GetEvents",
		grpc.ForceCodecV2(rawCodec{proto: encoding.GetCodecV2("proto")}))
	if err != nil {
		return 0, 0, err
	}
	if err := stream.SendMsg(&tetragon.GetEventsRequest{}); err != nil {
		return 0, 0, err
	}
	if err := stream.CloseSend(); err != nil {
		return 0, 0, err
	}
	var ev rawEvent
	for {
		if err := stream.RecvMsg(&ev); err != nil {
			if errors.Is(err, io.EOF) {
				return n, bytes, nil
			}
			return n, bytes, err
		}
		n++
		bytes += ev.size
	}
}
