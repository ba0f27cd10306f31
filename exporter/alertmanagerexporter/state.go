// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package alertmanagerexporter

import (
	"container/list"
	"sync"
	"time"
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
	mu    sync.Mutex
	max   int
	order *list.List // front: most recently posted; values are *tracked
	byID  map[string]*list.Element
}

func newTracker(maxEntries int) *tracker {
	return &tracker{max: maxEntries, order: list.New(), byID: map[string]*list.Element{}}
}

// get returns a copy of what is tracked for the incident.
func (t *tracker) get(incident string) (tracked, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	e, ok := t.byID[incident]
	if !ok {
		return tracked{}, false
	}
	return *e.Value.(*tracked), true
}

// put records what was posted for an incident, unless a newer state is tracked already, and
// returns how many incidents it evicted to stay within max.
func (t *tracker) put(v tracked) (evicted int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if e, ok := t.byID[v.incident]; ok {
		cur := e.Value.(*tracked)
		if cur.detections > v.detections || (cur.detections == v.detections && cur.lastSeen.After(v.lastSeen)) {
			return 0
		}
		*cur = v
		t.order.MoveToFront(e)
		return 0
	}
	t.byID[v.incident] = t.order.PushFront(&v)
	for t.order.Len() > t.max {
		old := t.order.Back()
		t.order.Remove(old)
		delete(t.byID, old.Value.(*tracked).incident)
		evicted++
	}
	return evicted
}

func (t *tracker) len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.order.Len()
}
