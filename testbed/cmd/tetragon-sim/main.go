// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

// Command tetragon-sim stands in for Cilium Tetragon: it serves the FineGuidanceSensors gRPC API
// and/or writes a Tetragon JSON export file, with events replayed from recorded JSON or generated.
// See testbed/tetragonsim/README.md.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/testbed/tetragonsim"
)

type fileList []string

func (f *fileList) String() string     { return strings.Join(*f, ",") }
func (f *fileList) Set(v string) error { *f = append(*f, v); return nil }

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("tetragon-sim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		cfg     tetragonsim.Config
		replay  fileList
		stats   bool
		waitCli bool
	)
	fs.StringVar(&cfg.Listen, "listen", "", "serve gRPC on `unix:///path` or host:port")
	fs.Var(&replay, "replay", "replay Tetragon JSON lines from `FILE` (.jsonl or .jsonl.gz; repeatable)")
	fs.BoolVar(&cfg.Generate, "generate", false, "generate synthetic events instead of replaying")
	fs.StringVar(&cfg.Scenario, "scenario", "demo", "generator scenario: "+strings.Join(tetragonsim.Scenarios(), ", "))
	fs.Uint64Var(&cfg.Seed, "seed", 1, "generator seed (same seed, same events)")
	fs.StringVar(&cfg.NodeName, "node-name", tetragonsim.DefaultNodeName, "node_name of generated events")
	fs.Float64Var(&cfg.Rate, "rate", 0, "events per second (0 = as fast as possible)")
	fs.Uint64Var(&cfg.Count, "count", 0, "stop after `N` events (0 = unlimited; a replay without --loop ends at its end)")
	fs.BoolVar(&cfg.Loop, "loop", false, "replay the files over and over")
	fs.IntVar(&cfg.Workloads, "workloads", 0, "spread the replayed events of containers over `N` distinct container workloads (each container process keeps one workload per pass of the files; the files are repeated until every workload has events); host events stay host events. 0: as recorded")
	fs.BoolVar(&cfg.Restamp, "restamp", false, "give replayed events current times (first event now, spacing kept; with --rate, the send time)")
	fs.DurationVar(&cfg.RestampMaxGap, "restamp-max-gap", tetragonsim.DefaultRestampMaxGap, "with --restamp and no --rate, the largest gap kept between two events")
	fs.BoolVar(&waitCli, "wait-client", true, "with --listen, start sending when the first GetEvents client connects")
	fs.IntVar(&cfg.MinClients, "min-clients", 1, "with --wait-client, wait for this many GetEvents clients")
	fs.DurationVar(&cfg.DrainTimeout, "drain-timeout", tetragonsim.DefaultDrainTimeout, "at the end, how long clients get to receive what is queued")
	fs.StringVar(&cfg.ExportFile, "export-file", "", "also write a Tetragon JSON export file at `PATH` (rotated by size)")
	fs.Int64Var(&cfg.ExportMaxBytes, "export-max-bytes", tetragonsim.DefaultExportMaxBytes, "rotate the export file at this size")
	fs.IntVar(&cfg.ExportBackups, "export-backups", tetragonsim.DefaultExportBackups, "rotated export files to keep (0 = all)")
	fs.BoolVar(&stats, "stats", false, "print counts as one JSON line on stdout at exit")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "tetragon-sim: unexpected arguments %q\n", fs.Args())
		return 2
	}
	cfg.ReplayFiles = replay
	cfg.WaitClient = waitCli && cfg.Listen != ""
	cfg.Log = stderr

	sim, err := tetragonsim.New(cfg)
	if err != nil {
		fmt.Fprintf(stderr, "tetragon-sim: %v\n", err)
		return 1
	}
	if a := sim.Addr(); a != nil {
		fmt.Fprintf(stderr, "tetragon-sim: serving FineGuidanceSensors on %s\n", cfg.Listen)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	start := time.Now()
	st, err := sim.Run(ctx)
	if st != nil && st.Skipped > 0 {
		fmt.Fprintf(stderr, "tetragon-sim: %s\n", sim.Skipped())
	}
	if err != nil {
		fmt.Fprintf(stderr, "tetragon-sim: %v\n", err)
		return 1
	}
	fmt.Fprintf(stderr, "tetragon-sim: sent %d events in %s (%.0f/s)\n", st.Sent, time.Since(start).Round(time.Millisecond), st.EventsPerSecond)
	if stats {
		b, _ := json.Marshal(st)
		fmt.Fprintln(stdout, string(b))
	}
	return 0
}
