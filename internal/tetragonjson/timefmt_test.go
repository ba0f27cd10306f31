// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package tetragonjson

import "testing"

func TestFormatTimestamp(t *testing.T) {
	for _, c := range []struct {
		secs  int64
		nanos int32
		want  string
	}{
		{0, 0, "1970-01-01T00:00:00Z"},
		{1697490000, 0, "2023-10-16T21:00:00Z"},
		{1697490000, 861000000, "2023-10-16T21:00:00.861Z"},
		{1697490000, 861200000, "2023-10-16T21:00:00.861200Z"},
		{1697490000, 798090240, "2023-10-16T21:00:00.798090240Z"},
		{1697490000, 1, "2023-10-16T21:00:00.000000001Z"},
		{1697490000, 1000, "2023-10-16T21:00:00.000001Z"},
	} {
		if got := FormatTimestamp(c.secs, c.nanos); got != c.want {
			t.Errorf("FormatTimestamp(%d, %d) = %q, want %q", c.secs, c.nanos, got, c.want)
		}
	}
}
