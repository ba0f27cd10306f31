// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package jsonl

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestExpand(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{"b.jsonl.gz", "a.jsonl", "notes.txt"} {
		if err := os.WriteFile(filepath.Join(dir, n), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	file := filepath.Join(dir, "notes.txt")
	got, err := Expand([]string{file, dir}, Patterns...)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{file, filepath.Join(dir, "a.jsonl"), filepath.Join(dir, "b.jsonl.gz")}
	if !slices.Equal(got, want) {
		t.Errorf("Expand = %v, want %v", got, want)
	}
	empty := t.TempDir()
	if _, err := Expand([]string{empty}, Patterns...); err == nil || !strings.Contains(err.Error(), "no *.jsonl or *.jsonl.gz files") {
		t.Errorf("empty directory: %v", err)
	}
	if _, err := Expand([]string{filepath.Join(dir, "missing")}, Patterns...); err == nil {
		t.Error("a missing path is not an error")
	}
}
