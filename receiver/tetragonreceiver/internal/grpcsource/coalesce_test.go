// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package grpcsource

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
	c := &coalescingConn{Conn: client, window: 50 * time.Millisecond, sleep: func(d time.Duration) { slept = append(slept, d) }}
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
		conn, err := coalescingDialer(5*time.Millisecond)(context.Background(), addr)
		if err != nil {
			t.Fatalf("%s: %v", addr, err)
		}
		if _, ok := conn.(*coalescingConn); !ok {
			t.Errorf("%s: not wrapped: %T", addr, conn)
		}
		conn.Close()
	}
	conn, err := coalescingDialer(0)(context.Background(), "unix://"+sock)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := conn.(*coalescingConn); ok {
		t.Error("window 0 must return the plain connection")
	}
	conn.Close()
	if _, err := coalescingDialer(5*time.Millisecond)(context.Background(), "unix://"+sock+".missing"); err == nil {
		t.Error("dialing a missing socket: no error")
	}
}
