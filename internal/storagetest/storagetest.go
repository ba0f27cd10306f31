// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

// Package storagetest is an in-memory storage extension for the tests of components that keep
// state in one (the tetragon receiver's file offsets, the workload_profile processor's profiles).
package storagetest

import (
	"bytes"
	"context"
	"errors"
	"sync"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/extension/xextension/storage"
)

// Extension keeps its data across the Start and Shutdown of the components using it, as a
// file_storage directory keeps it across collector restarts. It is safe for concurrent use.
type Extension struct {
	mu      sync.Mutex
	data    map[string][]byte
	sets    int
	failGet bool
	failSet bool
}

var _ storage.Extension = (*Extension)(nil)

// New returns an empty extension.
func New() *Extension { return &Extension{data: map[string][]byte{}} }

// Start implements component.Component.
func (e *Extension) Start(context.Context, component.Host) error { return nil }

// Shutdown implements component.Component.
func (e *Extension) Shutdown(context.Context) error { return nil }

// GetClient implements storage.Extension: every client shares the one store.
func (e *Extension) GetClient(context.Context, component.Kind, component.ID, string) (storage.Client, error) {
	return client{e}, nil
}

// Sets counts the successful Set operations so far.
func (e *Extension) Sets() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.sets
}

// Value returns a copy of what key holds, nil when nothing.
func (e *Extension) Value(key string) []byte {
	e.mu.Lock()
	defer e.mu.Unlock()
	return bytes.Clone(e.data[key])
}

// SetValue stores a copy of value under key, as a previous run would have (not counted in Sets).
func (e *Extension) SetValue(key string, value []byte) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.data[key] = bytes.Clone(value)
}

// Fail makes every later Get, or Set, return an error, as a broken disk would.
func (e *Extension) Fail(get, set bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.failGet, e.failSet = get, set
}

type client struct{ e *Extension }

func (c client) Get(_ context.Context, key string) ([]byte, error) {
	c.e.mu.Lock()
	defer c.e.mu.Unlock()
	if c.e.failGet {
		return nil, errors.New("disk on fire")
	}
	return bytes.Clone(c.e.data[key]), nil
}

func (c client) Set(_ context.Context, key string, value []byte) error {
	c.e.mu.Lock()
	defer c.e.mu.Unlock()
	if c.e.failSet {
		return errors.New("no space left on device")
	}
	c.e.data[key] = bytes.Clone(value)
	c.e.sets++
	return nil
}

func (c client) Delete(_ context.Context, key string) error {
	c.e.mu.Lock()
	defer c.e.mu.Unlock()
	delete(c.e.data, key)
	return nil
}

func (c client) Batch(ctx context.Context, ops ...*storage.Operation) error {
	for _, op := range ops {
		var err error
		switch op.Type {
		case storage.Get:
			op.Value, err = c.Get(ctx, op.Key)
		case storage.Set:
			err = c.Set(ctx, op.Key, op.Value)
		case storage.Delete:
			err = c.Delete(ctx, op.Key)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (c client) Close(context.Context) error { return nil }

// Host is a component.Host holding Extensions: a storage extension (this one or a component that
// is not one) as a collector would hand it to the component under test.
type Host struct {
	Extensions map[component.ID]component.Component
}

// GetExtensions implements component.Host.
func (h *Host) GetExtensions() map[component.ID]component.Component { return h.Extensions }

// HostWith returns a Host holding ext as extension id.
func HostWith(id component.ID, ext component.Component) *Host {
	return &Host{Extensions: map[component.ID]component.Component{id: ext}}
}
