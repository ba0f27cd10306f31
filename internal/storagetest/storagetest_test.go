// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package storagetest

import (
	"context"
	"testing"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/extension/xextension/storage"
)

func TestClientsShareTheStore(t *testing.T) {
	ctx := context.Background()
	e := New()
	id := component.MustNewID("file_storage")
	c1, _ := e.GetClient(ctx, component.KindReceiver, id, "")
	c2, _ := e.GetClient(ctx, component.KindReceiver, id, "")
	if err := c1.Batch(ctx, storage.SetOperation("a", []byte("1")), storage.SetOperation("b", []byte("2")), storage.DeleteOperation("b")); err != nil {
		t.Fatal(err)
	}
	get := storage.GetOperation("a")
	if err := c2.Batch(ctx, get); err != nil || string(get.Value) != "1" {
		t.Fatalf("a = %q, %v", get.Value, err)
	}
	if v, _ := c2.Get(ctx, "b"); v != nil || e.Sets() != 2 {
		t.Fatalf("b = %q, sets %d", v, e.Sets())
	}
	e.SetValue("c", []byte("3"))
	if string(e.Value("c")) != "3" || e.Sets() != 2 {
		t.Fatal("SetValue")
	}
	e.Fail(true, true)
	if _, err := c1.Get(ctx, "a"); err == nil {
		t.Fatal("Get did not fail")
	}
	if err := c1.Set(ctx, "a", nil); err == nil || e.Sets() != 2 {
		t.Fatal("Set did not fail")
	}
	if HostWith(id, e).GetExtensions()[id] != e {
		t.Fatal("HostWith")
	}
}
