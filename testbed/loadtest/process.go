// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package loadtest

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/testbed/tetragonsim"
)

// process is a child process in its own process group, its output kept in a file.
type process struct {
	name    string
	cmd     *exec.Cmd
	logPath string
	done    chan struct{}
	mu      sync.Mutex
	exitErr error
}

func startProcess(name, logPath string, env []string, bin string, args ...string) (*process, error) {
	f, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		f.Close()
		return nil, fmt.Errorf("start %s (%s): %w", name, bin, err)
	}
	p := &process{name: name, cmd: cmd, logPath: logPath, done: make(chan struct{})}
	go func() {
		err := cmd.Wait()
		p.mu.Lock()
		p.exitErr = err
		p.mu.Unlock()
		f.Close()
		close(p.done)
	}()
	return p, nil
}

func (p *process) pid() int { return p.cmd.Process.Pid }

func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

func (p *process) err() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.exitErr
}

// wait waits up to d for the process to end by itself.
func (p *process) wait(d time.Duration) error {
	select {
	case <-p.done:
		return p.err()
	case <-time.After(d):
		return fmt.Errorf("%s still running after %s", p.name, d)
	}
}

// stop sends SIGTERM to the process group, then SIGKILL after grace.
func (p *process) stop(grace time.Duration) error {
	if p.exited() {
		return p.err()
	}
	_ = syscall.Kill(-p.pid(), syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(grace):
		_ = syscall.Kill(-p.pid(), syscall.SIGKILL)
		<-p.done
	}
	return p.err()
}

func (p *process) log() string {
	b, _ := os.ReadFile(p.logPath)
	return string(b)
}

func (p *process) tail(n int) string {
	s := p.log()
	if len(s) > n {
		s = s[len(s)-n:]
	}
	return s
}

// simStats returns the JSON line tetragon-sim --stats prints at exit.
func (p *process) simStats() (tetragonsim.Stats, error) {
	var st tetragonsim.Stats
	lines := strings.Split(p.log(), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		l := strings.TrimSpace(lines[i])
		if strings.HasPrefix(l, `{"sent"`) {
			return st, json.Unmarshal([]byte(l), &st)
		}
	}
	return st, fmt.Errorf("tetragon-sim printed no stats line; last output:\n%s", p.tail(2000))
}

// freePort returns a loopback TCP port that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// waitFor polls cond every 50ms until it holds (true) or d passes (false).
func waitFor(d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// sleepUntil sleeps until t or until ctx-like abort returns true.
func sleepUntil(t time.Time, abort func() bool) bool {
	for time.Now().Before(t) {
		if abort != nil && abort() {
			return false
		}
		time.Sleep(min(100*time.Millisecond, time.Until(t)))
	}
	return true
}
