// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package detectionmetricsconnector

import (
	"strings"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/attrkey"
)

// Severity label values. Anything else the processor might write is mapped
// onto these so that alert rules can match exact values.
const (
	severityCritical = attrkey.SeverityCritical
	severityWarning  = attrkey.SeverityWarning
	severityInfo     = attrkey.SeverityInfo
)

// resourceLabels are the labels taken from one ResourceLogs, shared by all
// its records.
type resourceLabels struct {
	namespace, workload, node string
}

func readResourceLabels(res pcommon.Resource) resourceLabels {
	attrs := res.Attributes()
	var l resourceLabels
	l.namespace, l.workload = attrkey.Location(attrkey.Str(attrs, attrkey.K8sNamespaceName),
		attrkey.Str(attrs, attrkey.K8sWorkloadName), attrkey.Str(attrs, attrkey.ContainerID))
	l.node = orUnknown(attrkey.Str(attrs, attrkey.K8sNodeName))
	return l
}

// eventType is the EventName without the "tetragon." prefix.
func eventType(lr plog.LogRecord) string {
	return orUnknown(strings.TrimPrefix(lr.EventName(), attrkey.EventNamePrefix))
}

// sliceAttr returns the slice attribute key, or an empty slice when it is
// missing or of another type.
func sliceAttr(m pcommon.Map, key string) (pcommon.Slice, bool) {
	v, ok := m.Get(key)
	if !ok || v.Type() != pcommon.ValueTypeSlice {
		return pcommon.Slice{}, false
	}
	return v.Slice(), true
}

// sliceStr returns element i of s as a string, or "" when it is out of range
// or not a string.
func sliceStr(s pcommon.Slice, ok bool, i int) string {
	if !ok || i >= s.Len() {
		return ""
	}
	v := s.At(i)
	if v.Type() != pcommon.ValueTypeStr {
		return ""
	}
	return v.Str()
}

func orUnknown(s string) string {
	if s == "" {
		return placeholderUnknown
	}
	return s
}
