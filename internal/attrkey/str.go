// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package attrkey

import "go.opentelemetry.io/collector/pdata/pcommon"

// Str is the string attribute key of m, "" when it is absent or not a string: the one way the
// components read the keys above, so that a key of another type reads as missing everywhere.
func Str(m pcommon.Map, key string) string {
	if v, ok := m.Get(key); ok && v.Type() == pcommon.ValueTypeStr {
		return v.Str()
	}
	return ""
}
