// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package readcoalesce

import (
	"context"
	"net"
	"path/filepath"
	"testing"
	"time"
)

func TestCoalescingConnSleepsOnlyAfterAShortRead(t *testing.T) {
	client, server := net.Pipe()
	defer client.Close()
	defer server.Close()
	var slept []time.Duration
	c := &coalescingConn{Conn: client, window: 50 * time.Millisecond, sleep: func(d time.Duration) { slept = append(slept, d) }, now: time.Now}
	go func() {
		server.Write([]byte("abc"))      // short read
		server.Write([]byte("12345678")) // fills an 8-byte buffer
		server.Write([]byte("x"))
	}()
	buf := make([]byte, 8)
	if n, err := c.Read(buf); err != nil || n != 3 {
		t.Fatalf("first read: %d %v", n, err)
	}
	if len(slept) != 0 {
		t.Fatalf("the first read must not wait, slept %v", slept)
	}
	if n, err := c.Read(buf); err != nil || n != 8 {
		t.Fatalf("second read: %d %v", n, err)
	}
	if len(slept) != 1 || slept[0] <= 0 || slept[0] > 50*time.Millisecond {
		t.Fatalf("after a short read the next read waits out the rest of the window, slept %v", slept)
	}
	if n, err := c.Read(buf); err != nil || n != 1 {
		t.Fatalf("third read: %d %v", n, err)
	}
	if len(slept) != 1 {
		t.Fatalf("after a read that filled the buffer (a backlog) the next read must not wait, slept %v", slept)
	}
}

// streamConn is a connection into which bytes arrive at a steady rate on a fake clock; a read
// takes what arrived since the previous one, up to the buffer.
type streamConn struct {
	net.Conn
	clock   *time.Time
	rate    float64 // bytes per second
	pending float64
	seen    time.Time
}

func (s *streamConn) Read(p []byte) (int, error) {
	s.pending += s.rate * s.clock.Sub(s.seen).Seconds()
	s.seen = *s.clock
	n := min(int(s.pending), len(p))
	s.pending -= float64(n)
	*s.clock = s.clock.Add(50 * time.Microsecond) // the read itself
	return n, nil
}

func targetWait(rate float64) time.Duration {
	return time.Duration(float64(coalesceTargetBytes) / rate * float64(time.Second))
}

func TestCoalescingWaitFollowsTheRate(t *testing.T) {
	for _, tc := range []struct {
		name     string
		rate     float64 // bytes per second
		wantWait time.Duration
	}{
		{"slow: the whole window", 1e6, 20 * time.Millisecond},
		{"2,000 lean events/s: the whole window", 1.8e6, 20 * time.Millisecond},
		{"10,000 lean events/s: the time to gather the target", 9e6, targetWait(9e6)},
		{"fast: shorter still", 40e6, targetWait(40e6)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clock := time.Unix(1e9, 0)
			var slept []time.Duration
			c := &coalescingConn{
				Conn:   &streamConn{clock: &clock, rate: tc.rate, seen: clock},
				window: 20 * time.Millisecond,
				sleep:  func(d time.Duration) { slept = append(slept, d); clock = clock.Add(d) },
				now:    func() time.Time { return clock },
			}
			buf := make([]byte, ReadBufferBytes)
			for range 40 {
				if _, err := c.Read(buf); err != nil {
					t.Fatal(err)
				}
			}
			last := slept[len(slept)-1] + 50*time.Microsecond // the wait counts from the end of the previous read
			if d := last - tc.wantWait; d < -tc.wantWait/20 || d > tc.wantWait/20 {
				t.Errorf("wait after 40 reads: %v, want about %v (waits: %v)", last, tc.wantWait, slept)
			}
			if tc.wantWait < 20*time.Millisecond {
				if got := 100 * tc.rate * last.Seconds() / ReadBufferBytes; got < 40 || got > 60 {
					t.Errorf("a read finds %.0f%% of the buffer, want about half", got)
				}
			}
		})
	}
}

func TestCoalescingDialer(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "t.sock")
	ul, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer ul.Close()
	tl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer tl.Close()
	for _, addr := range []string{"unix://" + sock, "unix:" + sock, tl.Addr().String()} {
		conn, err := Dialer(5*time.Millisecond)(context.Background(), addr)
		if err != nil {
			t.Fatalf("%s: %v", addr, err)
		}
		if _, ok := conn.(*coalescingConn); !ok {
			t.Errorf("%s: not wrapped: %T", addr, conn)
		}
		conn.Close()
	}
	conn, err := Dialer(0)(context.Background(), "unix://"+sock)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := conn.(*coalescingConn); ok {
		t.Error("window 0 must return the plain connection")
	}
	conn.Close()
	if _, err := Dialer(5*time.Millisecond)(context.Background(), "unix://"+sock+".missing"); err == nil {
		t.Error("dialing a missing socket: no error")
	}
}
