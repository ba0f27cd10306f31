// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package alertmanagerexporter

import (
	"sync"
	"time"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/lru"
)

// tracked is what the exporter remembers of an incident it posted: the label set of its alert
// (to resolve it when the labels change) and the state it showed (to ignore older states).
type tracked struct {
	incident   string
	labels     map[string]string
	detections int64
	lastSeen   time.Time
}

// tracker is a bounded LRU of incident id → tracked, safe for concurrent use.
type tracker struct {
	mu   sync.Mutex
	max  int
	byID lru.Cache[string, tracked] // the most recently posted first
}

func newTracker(maxEntries int) *tracker {
	return &tracker{max: maxEntries}
}

// get returns a copy of what is tracked for the incident.
func (t *tracker) get(incident string) (tracked, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	v, ok := t.byID.Peek(incident)
	if !ok {
		return tracked{}, false
	}
	return *v, true
}

// put records what was posted for an incident, unless a newer state is tracked already, and
// returns how many incidents it evicted to stay within max.
func (t *tracker) put(v tracked) (evicted int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if cur, ok := t.byID.Peek(v.incident); ok &&
		(cur.detections > v.detections || (cur.detections == v.detections && cur.lastSeen.After(v.lastSeen))) {
		return 0
	}
	t.byID.Put(v.incident, v)
	for t.byID.Len() > t.max {
		old, _, _ := t.byID.Oldest()
		t.byID.Remove(old)
		evicted++
	}
	return evicted
}

func (t *tracker) len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.byID.Len()
}
