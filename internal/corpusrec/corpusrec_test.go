// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package corpusrec

import (
	"testing"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/attrkey"
)

func TestOfContainerMovesCopies(t *testing.T) {
	all := Load(t, "captured/main-export.jsonl.gz")
	const to = "0123456789abcdef0123456789abcde"
	moved := OfContainer(all, Benign, to)
	if len(moved) == 0 || len(moved) == len(all) {
		t.Fatalf("%d of %d records in the benign container", len(moved), len(all))
	}
	for _, r := range moved {
		if got := attrkey.Str(r.Res, attrkey.ContainerID); got != to {
			t.Fatalf("moved record in %q", got)
		}
	}
	if len(OfContainer(all, Benign, Benign)) != len(moved) {
		t.Error("the originals were changed")
	}
}
