// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package jsonl

import (
	"bytes"
	"compress/gzip"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const content = "{\"a\":1}\n\n  {\"b\":2}  \r\n\t\n{\"c\":3}"

func TestReadFilePlainAndGzipped(t *testing.T) {
	dir := t.TempDir()
	plain := filepath.Join(dir, "events.jsonl")
	if err := os.WriteFile(plain, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	if _, err := zw.Write([]byte(content)); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	zipped := filepath.Join(dir, "events.jsonl.gz")
	if err := os.WriteFile(zipped, gz.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{plain, zipped} {
		lines, err := ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		got := string(bytes.Join(lines, []byte("|")))
		if want := `{"a":1}|{"b":2}|{"c":3}`; got != want {
			t.Errorf("%s: %q, want %q", filepath.Base(path), got, want)
		}
		var nums []int
		if err := Each(path, func(num int, _ []byte) error { nums = append(nums, num); return nil }); err != nil {
			t.Fatal(err)
		}
		if len(nums) != 3 || nums[0] != 1 || nums[1] != 3 || nums[2] != 5 {
			t.Errorf("%s: line numbers %v, want [1 3 5] (blank lines count)", filepath.Base(path), nums)
		}
	}
}

func TestEachErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := ReadFile(filepath.Join(dir, "missing.jsonl")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
	notGzip := filepath.Join(dir, "bad.jsonl.gz")
	if err := os.WriteFile(notGzip, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadFile(notGzip); err == nil || !strings.Contains(err.Error(), "bad.jsonl.gz") {
		t.Errorf("a .gz file that is not gzip: %v, want an error naming the file", err)
	}
	plain := filepath.Join(dir, "events.jsonl")
	if err := os.WriteFile(plain, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	stop := errors.New("stop")
	calls := 0
	if err := Each(plain, func(int, []byte) error { calls++; return stop }); !errors.Is(err, stop) || calls != 1 {
		t.Errorf("fn error: %v after %d calls, want it returned after 1", err, calls)
	}
}
