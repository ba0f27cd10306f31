// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package attrkey

import (
	"testing"

	"go.opentelemetry.io/collector/pdata/pcommon"
)

func TestStr(t *testing.T) {
	m := pcommon.NewMap()
	m.PutStr(ContainerID, "abc")
	m.PutInt(ProcessPID, 42)
	for key, want := range map[string]string{ContainerID: "abc", ProcessPID: "", K8sPodName: ""} {
		if got := Str(m, key); got != want {
			t.Errorf("Str(%s) = %q, want %q", key, got, want)
		}
	}
}
