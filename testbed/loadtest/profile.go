// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package loadtest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// fetchProfile takes a CPU profile of secs seconds from the collector's pprof extension and writes
// it to dir/name.pprof (dir "" = the temp directory).
func fetchProfile(port, secs int, dir, name string) (string, error) {
	if dir == "" {
		dir = os.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	client := &http.Client{Timeout: time.Duration(secs+30) * time.Second}
	resp, err := client.Get(fmt.Sprintf("http://127.0.0.1:%d/debug/pprof/profile?seconds=%d", port, secs))
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return "", fmt.Errorf("pprof: %s: %s", resp.Status, b)
	}
	path := filepath.Join(dir, name+".pprof")
	f, err := os.Create(path)
	if err != nil {
		return "", err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return "", err
	}
	return path, f.Close()
}

// ProfileTop returns `go tool pprof -top` of a profile: the n heaviest functions by flat time,
// followed by the n heaviest by cumulative time.
func ProfileTop(path string, n int) (string, error) {
	var out strings.Builder
	for _, mode := range []string{"-flat", "-cum"} {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		cmd := exec.CommandContext(ctx, "go", "tool", "pprof", "-top", mode, fmt.Sprintf("-nodecount=%d", n), path)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		b, err := cmd.Output()
		cancel()
		if err != nil {
			return "", fmt.Errorf("go tool pprof: %v: %s", err, stderr.String())
		}
		// Generic instantiations make some names hundreds of characters long.
		for _, line := range strings.Split(strings.TrimRight(string(b), "\n"), "\n") {
			if len(line) > 160 {
				line = line[:157] + "..."
			}
			out.WriteString(line)
			out.WriteByte('\n')
		}
		out.WriteByte('\n')
	}
	return out.String(), nil
}
