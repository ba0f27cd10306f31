// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package lru

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// order lists the keys from least to most recently used, walking the list both ways to check
// its links.
func order[K comparable, V any](t *testing.T, c *Cache[K, V]) []K {
	t.Helper()
	var fwd, back []K
	for n := c.tail; n != nil; n = n.prev {
		fwd = append(fwd, n.key)
	}
	for n := c.head; n != nil; n = n.next {
		back = append(back, n.key)
	}
	slices.Reverse(back)
	if !slices.Equal(fwd, back) || len(fwd) != c.Len() {
		t.Fatalf("links disagree: %v, %v, len %d", fwd, back, c.Len())
	}
	return fwd
}

func TestOrder(t *testing.T) {
	var c Cache[string, int] // the zero value is ready
	if _, _, ok := c.Oldest(); ok {
		t.Fatal("empty cache has an oldest key")
	}
	c.Put("a", 1)
	c.Put("b", 2)
	c.Put("c", 3)
	if got := order(t, &c); !slices.Equal(got, []string{"a", "b", "c"}) {
		t.Fatalf("order %v", got)
	}
	if v, ok := c.Peek("a"); !ok || *v != 1 {
		t.Fatal("Peek a")
	}
	if k, v, _ := c.Oldest(); k != "a" || *v != 1 {
		t.Fatalf("Peek moved a: oldest %s", k)
	}
	v, ok := c.Get("a")
	if !ok {
		t.Fatal("Get a")
	}
	*v = 10 // updated in place
	c.Put("b", 20)
	if got := order(t, &c); !slices.Equal(got, []string{"c", "a", "b"}) {
		t.Fatalf("order %v", got)
	}
	if v, _ := c.Peek("a"); *v != 10 {
		t.Fatalf("a = %d", *v)
	}
	if v, _ := c.Peek("b"); *v != 20 {
		t.Fatalf("b = %d", *v)
	}
	if !c.Remove("a") || c.Remove("a") {
		t.Fatal("Remove a")
	}
	if _, ok := c.Get("a"); ok {
		t.Fatal("a still held")
	}
	if got := order(t, &c); !slices.Equal(got, []string{"c", "b"}) {
		t.Fatalf("order %v", got)
	}
	c.Remove("b")
	c.Remove("c")
	if _, _, ok := c.Oldest(); ok || c.Len() != 0 || c.head != nil {
		t.Fatal("not empty after removing every key")
	}
}

// TestModel runs random operations against a slice that keeps the same order.
func TestModel(t *testing.T) {
	var c Cache[int, int]
	var model []int // least recently used first
	touch := func(k int) {
		model = slices.DeleteFunc(model, func(x int) bool { return x == k })
		model = append(model, k)
	}
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 10000; i++ {
		k := r.IntN(16)
		held := slices.Contains(model, k)
		switch r.IntN(4) {
		case 0:
			c.Put(k, k)
			touch(k)
		case 1:
			if _, ok := c.Get(k); ok != held {
				t.Fatalf("Get %d: %v", k, ok)
			}
			if held {
				touch(k)
			}
		case 2:
			if c.Remove(k) != held {
				t.Fatalf("Remove %d", k)
			}
			model = slices.DeleteFunc(model, func(x int) bool { return x == k })
		case 3:
			if ok, v := oldest(&c); ok != (len(model) > 0) || (ok && v != model[0]) {
				t.Fatalf("Oldest %v %d, model %v", ok, v, model)
			}
		}
		if got := order(t, &c); !slices.Equal(got, model) && !(len(got) == 0 && len(model) == 0) {
			t.Fatalf("order %v, model %v", got, model)
		}
	}
}

func oldest(c *Cache[int, int]) (bool, int) {
	k, v, ok := c.Oldest()
	if ok && *v != k {
		panic("value does not match its key")
	}
	return ok, k
}
