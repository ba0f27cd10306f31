// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cilium/tetragon/api/v1/tetragon"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/testenv"
)

type stats struct {
	Sent            uint64            `json:"sent"`
	ByType          map[string]uint64 `json:"by_type"`
	Skipped         int               `json:"skipped"`
	SkippedByReason map[string]int    `json:"skipped_by_reason"`
	ExportLines     uint64            `json:"export_lines"`
}

func runCLI(t *testing.T, args ...string) (int, stats, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(args, &stdout, &stderr)
	var st stats
	if out := strings.TrimSpace(stdout.String()); out != "" {
		if strings.Count(out, "\n") != 0 {
			t.Fatalf("--stats must print one line, got %q", out)
		}
		if err := json.Unmarshal([]byte(out), &st); err != nil {
			t.Fatalf("stats line %q: %v", out, err)
		}
	}
	return code, st, stderr.String()
}

func TestReplayToExportFileWithStats(t *testing.T) {
	events := testenv.EventsDir(t)
	real, _ := filepath.Glob(filepath.Join(events, "real", "*.jsonl"))
	legacy, _ := filepath.Glob(filepath.Join(events, "legacy", "*.jsonl"))
	export := filepath.Join(t.TempDir(), "tetragon.log")
	args := []string{"--export-file", export, "--stats"}
	for _, f := range append(legacy, real...) {
		args = append(args, "--replay", f)
	}
	code, st, stderr := runCLI(t, args...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if st.Sent != 56 || st.Skipped != 12 || st.ByType["process_exec"] != 25 || st.ExportLines != 56 {
		t.Errorf("stats = %+v", st)
	}
	if !strings.Contains(stderr, "skipped 12 replay line(s)") || !strings.Contains(stderr, "unknown_event_type") {
		t.Errorf("stderr lacks the skip report:\n%s", stderr)
	}
	b, _ := os.ReadFile(export)
	if n := bytes.Count(b, []byte("\n")); n != 56 {
		t.Errorf("export file has %d lines", n)
	}
}

func TestGenerateOverUnixSocket(t *testing.T) {
	dir, err := os.MkdirTemp("", "tsimcli")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	sock := filepath.Join(dir, "tetragon.sock")
	type result struct {
		code   int
		stdout string
	}
	done := make(chan result, 1)
	go func() {
		var stdout bytes.Buffer
		code := run([]string{"--listen", "unix://" + sock, "--generate", "--scenario", "attack", "--seed", "3", "--count", "500", "--stats"}, &stdout, io.Discard)
		done <- result{code, stdout.String()}
	}()
	testenv.Eventually(t, 10*time.Second, "socket exists", func() bool { _, err := os.Stat(sock); return err == nil })
	conn, err := grpc.NewClient("unix://"+sock, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	stream, err := tetragon.NewFineGuidanceSensorsClient(conn).GetEvents(context.Background(), &tetragon.GetEventsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for {
		_, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	r := <-done
	if r.code != 0 || n != 500 || !strings.Contains(r.stdout, `"sent":500`) {
		t.Fatalf("exit %d, received %d, stats %s", r.code, n, r.stdout)
	}
}

func TestReplayWorkloadsFlag(t *testing.T) {
	capture := filepath.Join(testenv.EventsDir(t), "captured", "main-grpc.jsonl.gz")
	export := filepath.Join(t.TempDir(), "tetragon.log")
	var stdout, stderr bytes.Buffer
	code := run([]string{"--replay", capture, "--workloads", "500", "--export-file", export, "--export-max-bytes", "1000000000", "--stats"}, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	var st struct {
		Sent   uint64 `json:"sent"`
		Spread struct {
			Workloads, Units, Passes, Distinct int
		} `json:"workload_spread"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &st); err != nil {
		t.Fatal(err)
	}
	if st.Sent != 12*607 || st.Spread.Workloads != 500 || st.Spread.Units != 44 || st.Spread.Passes != 12 || st.Spread.Distinct != 500 {
		t.Errorf("stats %s", stdout.String())
	}
	if !strings.Contains(stderr.String(), "44 container processes spread over 500 workloads in 12 passes") {
		t.Errorf("stderr %q", stderr.String())
	}
	dockers := map[string]bool{}
	for _, line := range testenv.ReadLines(t, export) {
		var ev map[string]json.RawMessage
		if err := json.Unmarshal(line, &ev); err != nil {
			t.Fatal(err)
		}
		for k, raw := range ev {
			var body struct {
				Process struct {
					Docker string `json:"docker"`
				} `json:"process"`
			}
			if strings.HasPrefix(k, "process_") && json.Unmarshal(raw, &body) == nil && body.Process.Docker != "" {
				dockers[body.Process.Docker] = true
			}
		}
	}
	if len(dockers) != 500 {
		t.Errorf("%d distinct docker fields in the export file, want 500", len(dockers))
	}
}

func TestBadInvocations(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"--generate"}, 1, "nowhere to send events"},
		{[]string{"--export-file", "/dev/null"}, 1, "--generate or at least one --replay"},
		{[]string{"--generate", "--replay", "x.jsonl", "--export-file", "/dev/null"}, 1, "--generate or at least one --replay"},
		{[]string{"--generate", "--scenario", "nope", "--export-file", "/dev/null"}, 1, "unknown --scenario"},
		{[]string{"--generate", "--rate", "-1", "--export-file", "/dev/null"}, 1, "--rate must be >= 0"},
		{[]string{"--replay", "/does/not/exist.jsonl", "--export-file", "/dev/null"}, 1, "no such file"},
		{[]string{"--generate", "--workloads", "5", "--export-file", "/dev/null"}, 1, "--workloads applies to --replay"},
		{[]string{"--replay", "x.jsonl", "--workloads", "-1", "--export-file", "/dev/null"}, 1, "--workloads must be >= 0"},
		{[]string{"--no-such-flag"}, 2, "flag provided but not defined"},
		{[]string{"--generate", "stray"}, 2, "unexpected arguments"},
	} {
		code, _, stderr := runCLI(t, tc.args...)
		if code != tc.code || !strings.Contains(stderr, tc.msg) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", tc.args, code, stderr, tc.code, tc.msg)
		}
	}
}
