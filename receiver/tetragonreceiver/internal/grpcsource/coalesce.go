// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package grpcsource

import (
	"context"
	"net"
	"strings"
	"time"
)

// coalescingConn lets bytes pile up in the socket for up to window before the next read when the
// previous read did not fill the caller's buffer. Tetragon writes every event as its own HTTP/2
// frame; read as they arrive, each costs a syscall and a chain of goroutine wake-ups, which at a
// few thousand events per second is the largest cost of the whole collector. Waiting a few
// milliseconds turns that into one read, and one wake-up, per window. A read that fills the
// buffer means a backlog: the next read follows at once, so throughput is not capped.
type coalescingConn struct {
	net.Conn
	window   time.Duration
	last     time.Time
	lastFull bool
	sleep    func(time.Duration)
}

func (c *coalescingConn) Read(p []byte) (int, error) {
	if !c.lastFull && !c.last.IsZero() {
		if d := c.window - time.Since(c.last); d > 0 {
			c.sleep(d)
		}
	}
	n, err := c.Conn.Read(p)
	c.last = time.Now()
	c.lastFull = n == len(p)
	return n, err
}

// coalescingDialer dials what gRPC hands a custom dialer (unix://path, unix:path or host:port)
// and wraps the connection; window 0 returns the connection as it is.
func coalescingDialer(window time.Duration) func(context.Context, string) (net.Conn, error) {
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
		return &coalescingConn{Conn: conn, window: window, sleep: time.Sleep}, nil
	}
}
