// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

//go:build unix

package tetragonwire

import "syscall"

// processCPU is the CPU time (user + system, all threads, GC included) used by the process so
// far, in ns. Unlike wall time it is not inflated when other processes compete for the cores.
func processCPU() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
