// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

// Package testbackends runs the real servers that the tests point the collector and its
// components at (VictoriaLogs, Prometheus, Alertmanager, a webhook receiver and a plain HTTP sink
// for alerts) on free loopback ports, queries them, and reads the stats tetragon-sim prints. It
// serves the e2e suite (tests/e2e), the chaos suite (tests/chaos) and the integration tests (the
// alertmanager exporter's, against a real Alertmanager). It exists so that they all start and
// query the same servers the same way: one copy, not one per suite. It lives in internal/, not
// tests/internal/, so that packages outside tests/ may import it.
//
// Every process and server is stopped by the test's cleanup.
package testbackends

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/testenv"
)

var client = &http.Client{Timeout: 30 * time.Second}

// Get fetches u and returns its body; a status other than 2xx is an error carrying the body.
func Get(u string) ([]byte, error) {
	resp, err := client.Get(u)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode/100 != 2 {
		return b, fmt.Errorf("GET %s: %s: %s", u, resp.Status, b)
	}
	return b, nil
}

// server is one of the processes of this package, listening on 127.0.0.1:port.
type server struct {
	port int
	proc *testenv.Process
}

// URL is path on the server.
func (s *server) URL(path string) string {
	return fmt.Sprintf("http://127.0.0.1:%d%s", s.port, path)
}

// Port is the loopback port the server listens on.
func (s *server) Port() int { return s.port }

// run starts the installed program bin as name with args, and waits up to wait for the ready
// path to answer.
func (s *server) run(t testing.TB, name, bin, ready string, wait time.Duration, args ...string) {
	t.Helper()
	s.proc = testenv.Start(t, name, lookPath(t, bin), args...)
	testenv.WaitHTTP(t, s.URL(ready), wait)
}

// lookPath finds a program installed by scripts/install-test-deps.sh.
func lookPath(t testing.TB, name string) string {
	t.Helper()
	for _, dir := range append(strings.Split(os.Getenv("PATH"), ":"), filepath.Join(os.Getenv("HOME"), "go", "bin"), "/root/go/bin", "/usr/bin", "/usr/local/bin") {
		p := filepath.Join(dir, name)
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p
		}
	}
	t.Fatalf("%s not installed: run scripts/install-test-deps.sh", name)
	return ""
}
