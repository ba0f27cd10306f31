// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package ruleengine

import (
	"github.com/otelcol-runtime-security/otelcol-runtime-security/processor/detectionprocessor/internal/suppress"
)

type (
	// SuppressCache is the processor's suppression-window cache: a
	// size-bounded LRU of (rule, key) windows.
	SuppressCache = suppress.Cache
	// SuppressDecision is the outcome of SuppressCache.Observe.
	SuppressDecision = suppress.Decision
)

// NewSuppressCache returns the processor's suppression cache holding at most
// maxEntries keys (the processor's max_suppression_keys).
func NewSuppressCache(maxEntries int) *SuppressCache { return suppress.New(maxEntries) }
