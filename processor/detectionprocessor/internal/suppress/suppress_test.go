// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package suppress

import (
	"fmt"
	"testing"
	"time"
)

func TestWindowCountsRepeatsAndReportsThemOnNextEmission(t *testing.T) {
	c := New(10)
	t0 := time.Unix(1000, 0)
	w := time.Minute
	if d := c.Observe("r\x00a", w, t0); !d.Emit || d.SuppressedSince != 0 {
		t.Fatalf("first: %+v", d)
	}
	for i := 1; i <= 3; i++ {
		if d := c.Observe("r\x00a", w, t0.Add(time.Duration(i)*10*time.Second)); d.Emit {
			t.Fatalf("repeat %d emitted", i)
		}
	}
	// Another key is independent.
	if d := c.Observe("r\x00b", w, t0.Add(15*time.Second)); !d.Emit {
		t.Fatal("other key suppressed")
	}
	d := c.Observe("r\x00a", w, t0.Add(61*time.Second))
	if !d.Emit || d.SuppressedSince != 3 {
		t.Fatalf("after window: %+v, want emit with 3", d)
	}
	// The window restarts at the emission.
	if d := c.Observe("r\x00a", w, t0.Add(90*time.Second)); d.Emit {
		t.Fatal("repeat after re-emission not suppressed")
	}
	if d := c.Observe("r\x00a", w, t0.Add(122*time.Second)); !d.Emit || d.SuppressedSince != 1 {
		t.Fatalf("second window: %+v", d)
	}
}

func TestIdleEntriesExpire(t *testing.T) {
	c := New(10)
	t0 := time.Unix(0, 0)
	c.Observe("k", time.Second, t0)
	c.Observe("k", time.Second, t0.Add(500*time.Millisecond)) // suppressed, count 1
	// Idle for more than a window: forgotten, so no stale count is carried.
	d := c.Observe("k", time.Second, t0.Add(5*time.Second))
	if !d.Emit || d.SuppressedSince != 0 {
		t.Fatalf("got %+v", d)
	}
	// The sweep removes other expired entries on later calls.
	for i := 0; i < 5; i++ {
		c.Observe(fmt.Sprint("x", i), time.Second, t0.Add(5*time.Second))
	}
	c.Observe("y", time.Second, t0.Add(100*time.Second))
	c.Observe("y", time.Second, t0.Add(100*time.Second))
	c.Observe("y", time.Second, t0.Add(100*time.Second))
	if c.Len() != 1 {
		t.Fatalf("len %d, want only y left", c.Len())
	}
}

func TestBoundedByMaxEntries(t *testing.T) {
	c := New(3)
	t0 := time.Unix(0, 0)
	evicted := 0
	for i := 0; i < 10; i++ {
		if c.Observe(fmt.Sprint("k", i), time.Hour, t0).Evicted {
			evicted++
		}
	}
	if c.Len() != 3 || evicted != 7 {
		t.Fatalf("len %d evicted %d", c.Len(), evicted)
	}
	// The most recent keys survive.
	if d := c.Observe("k9", time.Hour, t0.Add(time.Second)); d.Emit {
		t.Fatal("k9 was evicted")
	}
	if d := c.Observe("k0", time.Hour, t0.Add(time.Second)); !d.Emit {
		t.Fatal("k0 should have been evicted")
	}
}

func BenchmarkObserveSuppressed(b *testing.B) {
	c := New(1000)
	t0 := time.Unix(0, 0)
	c.Observe("rule\x00key", time.Hour, t0)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		c.Observe("rule\x00key", time.Hour, t0.Add(time.Millisecond))
	}
}
