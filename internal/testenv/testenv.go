// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

// Package testenv finds the repository, the shared Tetragon corpus and the built binaries, and
// runs the external processes (collector, simulator, Prometheus, Alertmanager, VictoriaLogs) that
// the integration and end-to-end tests drive.
package testenv

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/jsonl"
)

// RepoRoot walks up from the working directory to the directory holding the root go.mod.
func RepoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil &&
			bytes.Contains(b, []byte("module github.com/otelcol-runtime-security/otelcol-runtime-security\n")) {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("repository root (go.mod of otelcol-runtime-security) not found above the working directory")
		}
		dir = parent
	}
}

// EventsDir is ../shared/tetragon-events beside the repository. Tests fail without it: the real
// Tetragon corpus is what proves the receiver and the rules.
func EventsDir(t testing.TB) string {
	t.Helper()
	dir := filepath.Join(RepoRoot(t), "..", "shared", "tetragon-events")
	if _, err := os.Stat(filepath.Join(dir, "real")); err != nil {
		t.Fatalf("shared Tetragon corpus missing at %s: %v", dir, err)
	}
	return dir
}

// Binary returns the path in env var name, or bin/<file> under the repository. It fails the test
// when the file does not exist: run `make build` first.
func Binary(t testing.TB, envName, file string) string {
	t.Helper()
	p := os.Getenv(envName)
	if p == "" {
		p = filepath.Join(RepoRoot(t), "bin", file)
	}
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("%s not found (%v): run `make build` or set %s", p, err, envName)
	}
	return p
}

// FreePort returns a loopback TCP port that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// Process is a child process whose output is kept in a file under the test's temp dir.
type Process struct {
	Name    string
	Cmd     *exec.Cmd
	LogPath string
	done    chan struct{}
	mu      sync.Mutex
	exitErr error
}

// Start runs name with args; the process is stopped (SIGTERM, then SIGKILL) at test cleanup.
func Start(t testing.TB, name string, bin string, args ...string) *Process {
	t.Helper()
	return start(t, name, nil, bin, args...)
}

func start(t testing.TB, name string, env []string, bin string, args ...string) *Process {
	t.Helper()
	logPath := filepath.Join(t.TempDir(), name+".log")
	f, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, args...)
	if env != nil {
		cmd.Env = append(os.Environ(), env...)
	}
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	p := &Process{Name: name, Cmd: cmd, LogPath: logPath, done: make(chan struct{})}
	go func() {
		err := cmd.Wait()
		p.mu.Lock()
		p.exitErr = err
		p.mu.Unlock()
		f.Close()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.Stop(10 * time.Second)
		if t.Failed() {
			t.Logf("--- %s log (%s), last 4 KiB:\n%s", name, logPath, p.Tail(4096))
		}
	})
	return p
}

// Stop sends SIGTERM to the process group and waits, then SIGKILL.
func (p *Process) Stop(grace time.Duration) error {
	select {
	case <-p.done:
		return p.ExitErr()
	default:
	}
	_ = syscall.Kill(-p.Cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(grace):
		_ = syscall.Kill(-p.Cmd.Process.Pid, syscall.SIGKILL)
		<-p.done
	}
	return p.ExitErr()
}

// Kill stops the process at once (SIGKILL), as a crash would.
func (p *Process) Kill() {
	_ = syscall.Kill(-p.Cmd.Process.Pid, syscall.SIGKILL)
	<-p.done
}

// Exited reports whether the process has ended.
func (p *Process) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Wait waits for the process to exit by itself within d.
func (p *Process) Wait(d time.Duration) error {
	select {
	case <-p.done:
		return p.ExitErr()
	case <-time.After(d):
		return fmt.Errorf("%s still running after %s", p.Name, d)
	}
}

// ExitErr is the error from Wait once the process has ended.
func (p *Process) ExitErr() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.exitErr
}

// Log returns everything the process wrote so far.
func (p *Process) Log() string {
	b, _ := os.ReadFile(p.LogPath)
	return string(b)
}

// Tail returns the last n bytes of the process output.
func (p *Process) Tail(n int) string {
	s := p.Log()
	if len(s) > n {
		s = s[len(s)-n:]
	}
	return s
}

// WaitHTTP polls url until it answers 2xx or the deadline passes.
func WaitHTTP(t testing.TB, url string, d time.Duration) {
	t.Helper()
	Eventually(t, d, "GET "+url+" answers 2xx", func() bool {
		resp, err := http.Get(url)
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode/100 == 2
	})
}

// Eventually polls cond every 200ms until it holds or d passes, then fails with what.
func Eventually(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	for {
		if cond() {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("timed out after %s waiting for: %s", d, what)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// WriteFile writes content to name under dir and returns the path.
func WriteFile(t testing.TB, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// Expand replaces {{KEY}} placeholders in a config template.
func Expand(tmpl string, vars map[string]string) string {
	for k, v := range vars {
		tmpl = strings.ReplaceAll(tmpl, "{{"+k+"}}", v)
	}
	return tmpl
}

// StartEnv is Start with extra environment variables (KEY=VALUE) on top of the test's own.
func StartEnv(t testing.TB, name string, env []string, bin string, args ...string) *Process {
	t.Helper()
	return start(t, name, env, bin, args...)
}

// ReadLines returns the non-empty lines of a JSONL file (gunzipped when its name ends in .gz),
// each a copy: the shared corpus is read in place this way by every package's tests.
func ReadLines(t testing.TB, path string) [][]byte {
	t.Helper()
	lines, err := jsonl.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return lines
}
