// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

// Package readcoalesce wraps a stream connection so that bytes pile up in the socket between two
// reads: one read, and one chain of goroutine wake-ups, per wait instead of per frame. The
// tetragon receiver dials Tetragon's gRPC socket through it; the testbed's live decode floor does
// the same, so the two pay the same transport cost.
package readcoalesce

import (
	"context"
	"net"
	"strings"
	"time"
)

// ReadBufferBytes is the gRPC read buffer (grpc.WithReadBufferSize; its default is 32 KiB) to
// use with a coalescing connection. It is what one coalesced read can take: four times the default lets a read gather up to ~150 lean
// events.
const ReadBufferBytes = 128 << 10

// coalesceTargetBytes is how much a coalesced read aims to find in the socket. The wait is the
// time Tetragon takes to send that much at the observed rate, capped at the configured window:
// at low rates the full window (one read per window), at high rates shorter, so the latency the
// wait adds shrinks as the rate grows (~7 ms at 10,000 lean events/s). Half the buffer leaves
// room for a burst within a window without filling it.
const coalesceTargetBytes = ReadBufferBytes / 2

// coalescingConn lets bytes pile up in the socket before the next read when the previous read
// did not fill the caller's buffer. Tetragon writes every event as its own HTTP/2 frame; read as
// they arrive, each costs a syscall and a chain of goroutine wake-ups, which at a few thousand
// events per second is the largest cost of the whole collector. Waiting a few milliseconds turns
// that into one read, and one wake-up, per wait. A read that fills the buffer means a backlog:
// the next read follows at once, so throughput is not capped.
type coalescingConn struct {
	net.Conn
	window   time.Duration // the longest wait
	last     time.Time     // when the previous read returned
	lastFull bool
	rate     float64 // bytes per second arriving, a moving average; 0 until measured
	sleep    func(time.Duration)
	now      func() time.Time
}

func (c *coalescingConn) Read(p []byte) (int, error) {
	backlog := c.lastFull || c.last.IsZero()
	if !backlog {
		if d := c.wait() - c.now().Sub(c.last); d > 0 {
			c.sleep(d)
		}
	}
	n, err := c.Conn.Read(p)
	now := c.now()
	if !backlog && n > 0 {
		// What arrived since the previous read returned. A full read only bounds the rate from
		// below; it still raises the estimate, and the next read follows at once.
		if elapsed := now.Sub(c.last).Seconds(); elapsed > 0 {
			sample := float64(n) / elapsed
			if c.rate == 0 {
				c.rate = sample
			} else {
				c.rate += (sample - c.rate) / 4
			}
		}
	}
	c.last = now
	c.lastFull = n == len(p)
	return n, err
}

// wait is how long the next read waits after the previous one returned.
func (c *coalescingConn) wait() time.Duration {
	if c.rate <= 0 {
		return c.window
	}
	if d := time.Duration(coalesceTargetBytes / c.rate * float64(time.Second)); d < c.window {
		return d
	}
	return c.window
}

// Dialer dials what gRPC hands a custom dialer (unix://path, unix:path or host:port)
// and wraps the connection; window 0 returns the connection as it is.
func Dialer(window time.Duration) func(context.Context, string) (net.Conn, error) {
	return func(ctx context.Context, addr string) (net.Conn, error) {
		network := "tcp"
		switch {
		case strings.HasPrefix(addr, "unix://"):
			network, addr = "unix", strings.TrimPrefix(addr, "unix://")
		case strings.HasPrefix(addr, "unix:"):
			network, addr = "unix", strings.TrimPrefix(addr, "unix:")
		}
		var d net.Dialer
		conn, err := d.DialContext(ctx, network, addr)
		if err != nil || window <= 0 {
			return conn, err
		}
		return &coalescingConn{Conn: conn, window: window, sleep: time.Sleep, now: time.Now}, nil
	}
}
