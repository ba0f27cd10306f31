// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package rulefuncs

import "sort"

// MultiCallBinaries names the executables whose CommandName() is their first
// argument (busybox, toybox). A record whose CommandName() is X therefore
// has process.executable.name X or one of these: the rules' prefilter uses
// that to skip OTTL on every other record.
func MultiCallBinaries() []string {
	out := make([]string, 0, len(multiCallBinaries))
	for n := range multiCallBinaries {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}
