// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

// Package lru is a map that keeps its keys in order of use: the one recency list behind the
// bounded trackers (container drift, incidents, suppression windows, posted alerts).
//
// It never evicts on its own. Each tracker decides when an entry has expired and whether pushing
// one out to make room is worth counting, so it reads Oldest and calls Remove itself.
package lru

// Cache maps keys to values, most recently used first. The zero value is an empty cache ready to
// use. It is not safe for concurrent use: its owner guards it with the lock that guards the state
// around it.
type Cache[K comparable, V any] struct {
	items      map[K]*node[K, V]
	head, tail *node[K, V] // head: most recently used
}

// node holds the value inline, so that an entry costs one allocation.
type node[K comparable, V any] struct {
	key        K
	val        V
	prev, next *node[K, V]
}

// Len is the number of keys held.
func (c *Cache[K, V]) Len() int { return len(c.items) }

// Get returns k's value and makes k the most recently used. The pointer lets the caller update
// the value in place; it is valid until k is removed.
func (c *Cache[K, V]) Get(k K) (*V, bool) {
	n, ok := c.items[k]
	if !ok {
		return nil, false
	}
	c.moveToFront(n)
	return &n.val, true
}

// Peek returns k's value like Get, without changing the order.
func (c *Cache[K, V]) Peek(k K) (*V, bool) {
	n, ok := c.items[k]
	if !ok {
		return nil, false
	}
	return &n.val, true
}

// Put sets k's value and makes k the most recently used, adding k when absent. It returns a
// pointer to the stored value (see Get).
func (c *Cache[K, V]) Put(k K, v V) *V {
	if n, ok := c.items[k]; ok {
		n.val = v
		c.moveToFront(n)
		return &n.val
	}
	if c.items == nil {
		c.items = make(map[K]*node[K, V])
	}
	n := &node[K, V]{key: k, val: v}
	c.items[k] = n
	c.pushFront(n)
	return &n.val
}

// Oldest returns the least recently used key and its value (see Get); ok is false when the cache
// is empty.
func (c *Cache[K, V]) Oldest() (k K, v *V, ok bool) {
	if c.tail == nil {
		return k, nil, false
	}
	return c.tail.key, &c.tail.val, true
}

// Remove deletes k and reports whether it was held.
func (c *Cache[K, V]) Remove(k K) bool {
	n, ok := c.items[k]
	if !ok {
		return false
	}
	delete(c.items, k)
	c.unlink(n)
	return true
}

func (c *Cache[K, V]) pushFront(n *node[K, V]) {
	n.prev, n.next = nil, c.head
	if c.head != nil {
		c.head.prev = n
	}
	c.head = n
	if c.tail == nil {
		c.tail = n
	}
}

func (c *Cache[K, V]) moveToFront(n *node[K, V]) {
	if c.head == n {
		return
	}
	c.unlink(n)
	c.pushFront(n)
}

func (c *Cache[K, V]) unlink(n *node[K, V]) {
	if n.prev != nil {
		n.prev.next = n.next
	} else {
		c.head = n.next
	}
	if n.next != nil {
		n.next.prev = n.prev
	} else {
		c.tail = n.prev
	}
	n.prev, n.next = nil, nil
}
