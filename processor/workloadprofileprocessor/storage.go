// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package workloadprofileprocessor

import (
	"context"
	"fmt"
	"sync"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/extension/xextension/storage"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"
)

// stateKey is the storage key of the learned profiles (one JSON document,
// workloadprofile.Set.MarshalLearned).
const stateKey = "workload_profiles"

// stateStore keeps the learned profiles in a storage extension. Only a
// misconfigured extension id stops the processor; every storage operation
// that fails is logged and counted, and the processor keeps learning and
// enforcing in memory.
type stateStore struct {
	p      *profileProcessor
	client storage.Client // nil when no client could be obtained

	mu        sync.Mutex // serialises saves
	saved     uint64     // Set.Changes() at the last successful save or load
	haveSaved bool
}

// openStore gets a client of the configured storage extension, as the
// tetragon receiver does for its checkpoints.
func openStore(ctx context.Context, host component.Host, p *profileProcessor) (*stateStore, error) {
	id := *p.cfg.Storage
	ext, ok := host.GetExtensions()[id]
	if !ok {
		return nil, fmt.Errorf("storage: extension %q not found; configure it under extensions and list it in service.extensions", id)
	}
	se, ok := ext.(storage.Extension)
	if !ok {
		return nil, fmt.Errorf("storage: extension %q is not a storage extension (e.g. file_storage)", id)
	}
	st := &stateStore{p: p}
	c, err := se.GetClient(ctx, component.KindProcessor, p.id, "")
	if err != nil {
		st.failed("client", fmt.Errorf("get a client from %q: %w", id, err))
		return st, nil
	}
	st.client = c
	return st, nil
}

func (s *stateStore) failed(op string, err error) {
	s.p.tb.ProcessorWorkloadProfileStorageErrors.Add(context.Background(), 1,
		metric.WithAttributeSet(attribute.NewSet(attribute.String("operation", op))))
	s.p.logger.Error("Workload profile storage failed; the learned profiles are kept in memory",
		zap.String("operation", op), zap.Stringer("storage", s.p.cfg.Storage), zap.Error(err))
}

// load restores the learned profiles saved by a previous run. Undecodable
// state is dropped: the workloads learn again.
func (s *stateStore) load(ctx context.Context) {
	if s.client == nil {
		return
	}
	b, err := s.client.Get(ctx, stateKey)
	if err != nil {
		s.failed("load", err)
		return
	}
	if b == nil {
		return
	}
	if err := s.p.profiles.UnmarshalLearned(b); err != nil {
		s.failed("decode", fmt.Errorf("%w (the workloads learn again)", err))
		return
	}
	s.p.invalidateStats()
	st := s.p.profiles.Stats()
	s.p.logger.Info("Restored learned workload profiles", zap.Int("learning", st.Learning), zap.Int("enforcing", st.Enforcing), zap.Int("bytes", len(b)))
	s.mu.Lock()
	s.saved, s.haveSaved = s.p.profiles.Changes(), true
	s.mu.Unlock()
}

// save writes the learned profiles when they changed since the last save.
func (s *stateStore) save(ctx context.Context) {
	if s.client == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	changes := s.p.profiles.Changes()
	if s.haveSaved && changes == s.saved {
		return
	}
	b, err := s.p.profiles.MarshalLearned()
	if err != nil {
		s.failed("save", err)
		return
	}
	if err := s.client.Set(ctx, stateKey, b); err != nil {
		s.failed("save", err)
		return
	}
	s.saved, s.haveSaved = changes, true
}

func (s *stateStore) close(ctx context.Context) {
	if s.client == nil {
		return
	}
	if err := s.client.Close(ctx); err != nil {
		s.failed("save", fmt.Errorf("close: %w", err))
	}
	s.client = nil
}
