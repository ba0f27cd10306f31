// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package detectionmetricsconnector

import (
	"strings"

	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/attrkey"
)

// Label values written when the source attribute is missing, and on the
// overflow series. They start with "_" so they cannot collide with a
// Kubernetes name (DNS labels start with an alphanumeric character).
const (
	placeholderHost      = attrkey.PlaceholderHost
	placeholderContainer = attrkey.PlaceholderContainer
	// placeholderUnknown: any other missing value (node, workload of a pod,
	// event type, category).
	placeholderUnknown = attrkey.PlaceholderUnknown
	// overflowValue fills every label of the overflow series except severity.
	overflowValue = "_overflow"
)

// eventKey identifies one runtime_security.events series.
type eventKey struct {
	eventType, namespace, workload, node string
	// overflowed marks the overflow series, which gets the
	// otel.metric.overflow attribute.
	overflowed bool
}

func (k eventKey) overflow() eventKey {
	return eventKey{overflowValue, overflowValue, overflowValue, overflowValue, true}
}

func (k eventKey) clone() eventKey {
	return eventKey{strings.Clone(k.eventType), strings.Clone(k.namespace), strings.Clone(k.workload), strings.Clone(k.node), k.overflowed}
}

// detectionKey identifies one runtime_security.detections series.
type detectionKey struct {
	rule, severity, category, namespace, workload, node string
	overflowed                                          bool
}

// overflow keeps the severity: a critical detection folded into the overflow
// series still carries severity="critical", so it still pages.
func (k detectionKey) overflow() detectionKey {
	return detectionKey{overflowValue, k.severity, overflowValue, overflowValue, overflowValue, overflowValue, true}
}

func (k detectionKey) clone() detectionKey {
	// severity is always one of the canonical constants.
	return detectionKey{strings.Clone(k.rule), k.severity, strings.Clone(k.category),
		strings.Clone(k.namespace), strings.Clone(k.workload), strings.Clone(k.node), k.overflowed}
}

type seriesKey[K any] interface {
	comparable
	overflow() K
	clone() K
}

// counter is one cumulative series.
type counter struct {
	start pcommon.Timestamp
	value uint64
}

// table holds the cumulative series of one metric. It is not safe for
// concurrent use; the connector guards it.
type table[K seriesKey[K]] struct {
	series map[K]*counter
	// regular counts the series that are not overflow series; only they
	// count against max.
	regular int
	max     int
	// folded counts increments folded into an overflow series since the last
	// takeFolded, reported as connector telemetry at flush time so the hot
	// path does not call into the metrics SDK.
	folded int64
}

func newTable[K seriesKey[K]](maxSeries int) *table[K] {
	return &table[K]{series: make(map[K]*counter), max: maxSeries}
}

// add counts one increment for k. Looking up a known series allocates
// nothing; a new series clones its strings (they may point into the pdata
// buffers of the batch being consumed) and starts at now.
func (t *table[K]) add(k K, now func() pcommon.Timestamp) {
	if c, ok := t.series[k]; ok {
		c.value++
		return
	}
	if t.regular >= t.max {
		t.folded++
		k = k.overflow()
		if c, ok := t.series[k]; ok {
			c.value++
			return
		}
	} else {
		t.regular++
		k = k.clone()
	}
	t.series[k] = &counter{start: now(), value: 1}
}

func (t *table[K]) takeFolded() int64 {
	f := t.folded
	t.folded = 0
	return f
}

// point is a copy of one series taken under the lock, turned into a data
// point after the lock is released.
type point[K any] struct {
	key   K
	start pcommon.Timestamp
	value uint64
}

// snapshot appends every series to dst and returns it.
func (t *table[K]) snapshot(dst []point[K]) []point[K] {
	for k, c := range t.series {
		dst = append(dst, point[K]{key: k, start: c.start, value: c.value})
	}
	return dst
}
