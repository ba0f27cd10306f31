// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

// Package jsonl reads JSON Lines files, gzipped or not, as the shared Tetragon corpus and the
// inputs of ruletest come.
package jsonl

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"strings"
)

// MaxLineBytes is the longest line Each accepts.
const MaxLineBytes = 64 << 20

// Each calls fn with the 1-based number and the space-trimmed content of every non-empty line of
// the file at path, gunzipping it when the name ends in .gz. line is only valid during the call.
// An error from fn stops the read and is returned as it is.
func Each(path string, fn func(num int, line []byte) error) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	var r io.Reader = f
	if strings.HasSuffix(path, ".gz") {
		zr, err := gzip.NewReader(f)
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		defer zr.Close()
		r = zr
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 1<<20), MaxLineBytes)
	for num := 1; sc.Scan(); num++ {
		if line := bytes.TrimSpace(sc.Bytes()); len(line) > 0 {
			if err := fn(num, line); err != nil {
				return err
			}
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// ReadFile returns a copy of each non-empty line of the file at path (see Each).
func ReadFile(path string) ([][]byte, error) {
	var lines [][]byte
	err := Each(path, func(_ int, line []byte) error {
		lines = append(lines, bytes.Clone(line))
		return nil
	})
	return lines, err
}
