// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package loadtest

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/testbed/tetragonsim"
)

// Source is what tetragon-sim plays in a scenario: a file replayed in a loop with fresh
// timestamps, or the live generator.
type Source struct {
	// ReplayFile is Tetragon JSON lines (.jsonl or .jsonl.gz).
	ReplayFile string
	// Scenario and Seed drive the live generator when ReplayFile is empty.
	Scenario string
	Seed     uint64
	// Workloads > 0 spreads the replayed container events over that many workloads
	// (tetragon-sim --workloads); replay only.
	Workloads int
}

// SimArgs are the tetragon-sim flags that select the events.
func (s Source) SimArgs() []string {
	if s.ReplayFile != "" {
		args := []string{"--replay", s.ReplayFile, "--loop", "--restamp"}
		if s.Workloads > 0 {
			args = append(args, "--workloads", fmt.Sprint(s.Workloads))
		}
		return args
	}
	return []string{"--generate", "--scenario", s.Scenario, "--seed", fmt.Sprint(s.Seed)}
}

// Wires returns the protobuf encoding of the events the source sends (up to max), for the
// decode floor.
func (s Source) Wires(max int) ([][]byte, error) {
	if s.ReplayFile != "" {
		r, err := tetragonsim.LoadReplay([]string{s.ReplayFile}, tetragonsim.ReplayOptions{Workloads: s.Workloads})
		if err != nil {
			return nil, err
		}
		var out [][]byte
		for _, f := range r.Frames {
			if len(out) == max {
				break
			}
			out = append(out, f.Wire)
		}
		return out, nil
	}
	g, err := tetragonsim.NewGenerator(tetragonsim.GeneratorConfig{Scenario: s.Scenario, Seed: s.Seed})
	if err != nil {
		return nil, err
	}
	out := make([][]byte, 0, max)
	for range max {
		b, err := proto.Marshal(g.Next())
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, nil
}

// CapturedFile is the real Tetragon capture the `captured` and `burst` scenarios replay.
func CapturedFile(eventsDir string) string {
	return filepath.Join(eventsDir, "captured", "main-grpc.jsonl.gz")
}

// GeneratedPool returns a JSONL file of n events from the generator's scenario (seed 1), written
// once into cacheDir. The harness replays it in a loop rather than running the generator live:
// the generator builds and marshals every event (about 25,000 events/s on a whole quiet core),
// which on a 2-core machine would compete with the collector being measured; a replay sends
// pre-encoded bytes.
func GeneratedPool(cacheDir, scenario string, n int) (string, error) {
	path := filepath.Join(cacheDir, fmt.Sprintf("generated-%s-seed1-%d.jsonl", scenario, n))
	if _, err := os.Stat(path); err == nil {
		return path, nil
	}
	if err := os.MkdirAll(cacheDir, 0o755); err != nil {
		return "", err
	}
	// The events' own times do not matter: the replay restamps them at send time.
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var i int
	g, err := tetragonsim.NewGenerator(tetragonsim.GeneratorConfig{
		Scenario: scenario, Seed: 1,
		Clock: func() time.Time { i++; return base.Add(time.Duration(i) * time.Millisecond) },
	})
	if err != nil {
		return "", err
	}
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return "", err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	opts := protojson.MarshalOptions{UseProtoNames: true}
	for range n {
		b, err := opts.Marshal(g.Next())
		if err != nil {
			f.Close()
			return "", err
		}
		w.Write(b)
		w.WriteByte('\n')
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return "", err
	}
	if err := f.Close(); err != nil {
		return "", err
	}
	return path, os.Rename(tmp, path)
}
