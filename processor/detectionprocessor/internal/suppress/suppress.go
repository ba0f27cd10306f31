// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

// Package suppress remembers recent detections per (rule, key) so that repeats
// within a rule's window are counted instead of emitted again.
package suppress

import (
	"sync"
	"time"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/lru"
)

// Cache is a size-bounded LRU of suppression windows, safe for concurrent use.
//
// An entry starts when a detection is emitted. A repeat within window of that
// emission is suppressed and counted; the first repeat after the window is
// emitted and carries the count. An entry idle (no repeat) for longer than its
// window is forgotten, lazily on lookup and by a small sweep on every call, so
// expired entries do not hold memory.
type Cache struct {
	mu      sync.Mutex
	max     int
	entries lru.Cache[string, entry] // the most recently seen first
}

type entry struct {
	window     time.Duration
	lastEmit   time.Time
	lastSeen   time.Time
	suppressed int64
}

// New returns a cache holding at most maxEntries keys (minimum 1).
func New(maxEntries int) *Cache {
	if maxEntries < 1 {
		maxEntries = 1
	}
	return &Cache{max: maxEntries}
}

// Decision is the outcome of Observe.
type Decision struct {
	// Emit is true when the detection should be tagged and emitted.
	Emit bool
	// SuppressedSince is, when Emit, the number of repeats suppressed since
	// the previous emission for this key.
	SuppressedSince int64
	// Evicted is true when storing this key pushed out a live entry because
	// the cache was full.
	Evicted bool
}

// sweepPerCall bounds the work spent on expiring old entries per Observe.
const sweepPerCall = 4

// Observe records a detection for key (which should include the rule) at now.
func (c *Cache) Observe(key string, window time.Duration, now time.Time) Decision {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sweep(now)
	if e, ok := c.entries.Get(key); ok {
		if now.Sub(e.lastSeen) <= e.window {
			e.lastSeen = now
			e.window = window
			if now.Sub(e.lastEmit) < window {
				e.suppressed++
				return Decision{}
			}
			d := Decision{Emit: true, SuppressedSince: e.suppressed}
			e.lastEmit, e.suppressed = now, 0
			return d
		}
		// Idle for longer than a window: start afresh.
		c.entries.Remove(key)
	}
	var d Decision
	d.Emit = true
	if c.entries.Len() >= c.max {
		old, e, _ := c.entries.Oldest()
		d.Evicted = now.Sub(e.lastSeen) <= e.window
		c.entries.Remove(old)
	}
	c.entries.Put(key, entry{window: window, lastEmit: now, lastSeen: now})
	return d
}

// Len returns the number of remembered keys.
func (c *Cache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.entries.Len()
}

func (c *Cache) sweep(now time.Time) {
	for i := 0; i < sweepPerCall; i++ {
		k, e, ok := c.entries.Oldest()
		if !ok || now.Sub(e.lastSeen) <= e.window {
			return
		}
		c.entries.Remove(k)
	}
}
