// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package loadtest

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cilium/tetragon/api/v1/tetragon"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/testbed/tetragonsim"
)

// startFloorSim serves count generated events at rate on a unix socket, once a client is there.
func startFloorSim(t *testing.T, rate float64, count uint64) (string, <-chan *tetragonsim.Stats) {
	t.Helper()
	dir, err := os.MkdirTemp("", "lf") // unix socket paths must stay short
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	addr := "unix://" + filepath.Join(dir, "t.sock")
	sim, err := tetragonsim.New(tetragonsim.Config{Listen: addr, Generate: true, Seed: 3, Rate: rate, Count: count, WaitClient: true, DrainTimeout: 10 * time.Second, Log: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan *tetragonsim.Stats, 1)
	go func() {
		st, err := sim.Run(ctx)
		if err != nil {
			t.Errorf("simulator: %v", err)
		}
		done <- st
	}()
	t.Cleanup(cancel)
	return addr, done
}

func TestFloorClientReceivesEveryEventAndMeasuresItsWindow(t *testing.T) {
	for _, codec := range []string{"proto", "tetragonwire"} {
		t.Run(codec, func(t *testing.T) {
			const count = 1200
			addr, done := startFloorSim(t, 2000, count) // 0.6 s of events
			res, err := RunFloorClient(context.Background(), FloorClientConfig{
				Endpoint: addr, Codec: codec, ReadCoalesce: 5 * time.Millisecond,
				Request:     &tetragon.GetEventsRequest{},
				WindowStart: 100 * time.Millisecond, WindowEnd: 400 * time.Millisecond,
			})
			if err != nil {
				t.Fatal(err)
			}
			st := <-done
			if res.Events != count || st.Sent != count {
				t.Fatalf("received %d of %d sent, want %d", res.Events, st.Sent, count)
			}
			if res.StreamEnd != "" {
				t.Errorf("the stream ended with %q, want a normal end", res.StreamEnd)
			}
			// 0.3 s at 2,000/s: about 600 events, whatever the machine's pacing.
			if res.WindowEvents < 300 || res.WindowEvents > 900 {
				t.Errorf("window events = %d, want about 600", res.WindowEvents)
			}
			if res.WindowSeconds < 0.25 || res.WindowSeconds > 0.6 {
				t.Errorf("window = %.3f s, want about 0.3", res.WindowSeconds)
			}
			if res.WindowCPUSeconds <= 0 || res.CPUNsPerEvent <= 0 || res.CPUCores <= 0 {
				t.Errorf("no CPU measured: %+v", res)
			}
			if res.Codec != codec {
				t.Errorf("codec = %q, want %q", res.Codec, codec)
			}
		})
	}
}

func TestFloorClientFailsWhenTheStreamEndsBeforeItsWindow(t *testing.T) {
	addr, _ := startFloorSim(t, 0, 50) // as fast as possible: over long before the window ends
	_, err := RunFloorClient(context.Background(), FloorClientConfig{Endpoint: addr, WindowStart: time.Second, WindowEnd: 2 * time.Second})
	if err == nil || !strings.Contains(err.Error(), "before the window") {
		t.Fatalf("err = %v, want the stream ended before the window", err)
	}
}

func TestFloorClientRejectsBadSettings(t *testing.T) {
	for _, cfg := range []FloorClientConfig{
		{Endpoint: "unix:///nonexistent", Codec: "json", WindowStart: 0, WindowEnd: time.Second},
		{Endpoint: "unix:///nonexistent", WindowStart: time.Second, WindowEnd: time.Second},
	} {
		if _, err := RunFloorClient(context.Background(), cfg); err == nil {
			t.Errorf("%+v: no error", cfg)
		}
	}
}

func TestLiveFloorNeedsTheFloorClientBinary(t *testing.T) {
	o := Options{Scenario: "captured", Rate: 100, Duration: 5 * time.Second, LiveFloor: true}
	if err := o.defaults(); err == nil || !strings.Contains(err.Error(), "FloorClientBin") {
		t.Fatalf("err = %v, want one naming FloorClientBin", err)
	}
}
