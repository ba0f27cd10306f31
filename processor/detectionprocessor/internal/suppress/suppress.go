// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

// Package suppress remembers recent detections per (rule, key) so that repeats
// within a rule's window are counted instead of emitted again.
package suppress

import (
	"container/list"
	"sync"
	"time"
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
	entries map[string]*list.Element
	lru     list.List // front = most recently seen
}

type entry struct {
	key        string
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
	return &Cache{max: maxEntries, entries: make(map[string]*list.Element)}
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
	if el, ok := c.entries[key]; ok {
		e := el.Value.(*entry)
		if now.Sub(e.lastSeen) <= e.window {
			e.lastSeen = now
			e.window = window
			c.lru.MoveToFront(el)
			if now.Sub(e.lastEmit) < window {
				e.suppressed++
				return Decision{}
			}
			d := Decision{Emit: true, SuppressedSince: e.suppressed}
			e.lastEmit, e.suppressed = now, 0
			return d
		}
		// Idle for longer than a window: start afresh.
		c.remove(el)
	}
	var d Decision
	d.Emit = true
	if c.lru.Len() >= c.max {
		back := c.lru.Back()
		be := back.Value.(*entry)
		d.Evicted = now.Sub(be.lastSeen) <= be.window
		c.remove(back)
	}
	e := &entry{key: key, window: window, lastEmit: now, lastSeen: now}
	c.entries[key] = c.lru.PushFront(e)
	return d
}

// Len returns the number of remembered keys.
func (c *Cache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.Len()
}

func (c *Cache) sweep(now time.Time) {
	for i := 0; i < sweepPerCall; i++ {
		back := c.lru.Back()
		if back == nil {
			return
		}
		e := back.Value.(*entry)
		if now.Sub(e.lastSeen) <= e.window {
			return
		}
		c.remove(back)
	}
}

func (c *Cache) remove(el *list.Element) {
	delete(c.entries, el.Value.(*entry).key)
	c.lru.Remove(el)
}
