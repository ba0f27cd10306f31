// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package testenv

import (
	"syscall"
	"testing"
)

// StartCPU resets the benchmark timer and returns a func reporting cpu-ns/op: the process's CPU
// time (GC workers included) per op. On a machine shared with other builds it is steadier than
// wall time. Defer the returned func, or call it before teardown that should not count.
func StartCPU(b *testing.B) func() {
	b.ResetTimer()
	start := cpuNanos()
	return func() {
		b.StopTimer()
		b.ReportMetric(float64(cpuNanos()-start)/float64(b.N), "cpu-ns/op")
	}
}

// cpuNanos is the CPU time (user + system, all threads) the process has used so far, or 0 when
// the system does not say.
func cpuNanos() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
