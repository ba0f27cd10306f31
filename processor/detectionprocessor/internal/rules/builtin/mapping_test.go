// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package builtin_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/receiver/receivertest"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/receiver/tetragonreceiver"
)

// The receiver's mapping package is internal to the receiver, so the catalogue
// tests feed Tetragon JSON lines through the receiver itself (export-file mode):
// the records the rules see are exactly what a deployed collector produces.

// record is one mapped log record with its resource, ready for evaluation.
type record struct {
	rl plog.ResourceLogs
	sl plog.ScopeLogs
	lr plog.LogRecord
}

// mapLines runs lines (one Tetragon event each) through the tetragon receiver
// and returns every record it produced, failing the test when the receiver
// does not deliver want records.
func mapLines(t testing.TB, lines [][]byte, want int) []record {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "tetragon.log")
	var buf bytes.Buffer
	for _, l := range lines {
		buf.Write(bytes.TrimRight(l, "\r\n"))
		buf.WriteByte('\n')
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}

	f := tetragonreceiver.NewFactory()
	cfg := f.CreateDefaultConfig().(*tetragonreceiver.Config)
	cfg.File = configoptional.Some(tetragonreceiver.FileConfig{
		Path:         path,
		StartAt:      "beginning",
		MaxLineBytes: 16 << 20,
		PollInterval: 10 * time.Millisecond,
	})
	cfg.Batch.Timeout = 10 * time.Millisecond
	if err := cfg.Validate(); err != nil {
		t.Fatalf("receiver config: %v", err)
	}
	sink := new(consumertest.LogsSink)
	rcv, err := f.CreateLogs(context.Background(), receivertest.NewNopSettings(f.Type()), cfg, sink)
	if err != nil {
		t.Fatal(err)
	}
	if err := rcv.Start(context.Background(), componenttest.NewNopHost()); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for sink.LogRecordCount() < want && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if err := rcv.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := sink.LogRecordCount(); got != want {
		t.Fatalf("the tetragon receiver produced %d records from %d lines, want %d", got, len(lines), want)
	}
	var out []record
	for _, ld := range sink.AllLogs() {
		for i := 0; i < ld.ResourceLogs().Len(); i++ {
			rl := ld.ResourceLogs().At(i)
			for j := 0; j < rl.ScopeLogs().Len(); j++ {
				sl := rl.ScopeLogs().At(j)
				for k := 0; k < sl.LogRecords().Len(); k++ {
					out = append(out, record{rl: rl, sl: sl, lr: sl.LogRecords().At(k)})
				}
			}
		}
	}
	return out
}

// readLines reads a JSONL file, gunzipping *.gz, and returns its non-empty
// lines.
func readLines(t testing.TB, path string) [][]byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("corpus file: %v", err)
	}
	defer f.Close()
	var r *bufio.Scanner
	if strings.HasSuffix(path, ".gz") {
		gz, err := gzip.NewReader(f)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		defer gz.Close()
		r = bufio.NewScanner(gz)
	} else {
		r = bufio.NewScanner(f)
	}
	r.Buffer(make([]byte, 0, 1<<20), 16<<20)
	var lines [][]byte
	for r.Scan() {
		if l := bytes.TrimSpace(r.Bytes()); len(l) > 0 {
			lines = append(lines, bytes.Clone(l))
		}
	}
	if err := r.Err(); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return lines
}
