// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package workloadprofile

import "github.com/otelcol-runtime-security/otelcol-runtime-security/internal/attrkey"

// kindMask is a set of novelty kinds, one bit per kind.
type kindMask uint8

const (
	maskExec kindMask = 1 << iota
	maskFile
	maskSyscall
	maskNetwork
	maskAll
)

// Kinds lists the novelty kinds in attrkey order, the order of every
// slice Observe returns.
var Kinds = []string{attrkey.ProfileKindExec, attrkey.ProfileKindFile, attrkey.ProfileKindSyscall, attrkey.ProfileKindNetwork}

// kindSlices holds the slice of every combination of kinds, built once, so
// that Observe returns its novelties without allocating. Callers must not
// modify a returned slice.
var kindSlices = func() (t [maskAll][]string) {
	for m := kindMask(1); m < maskAll; m++ {
		for i, k := range Kinds {
			if m&(1<<i) != 0 {
				t[m] = append(t[m], k)
			}
		}
	}
	return t
}()

func (m kindMask) strings() []string { return kindSlices[m] }
