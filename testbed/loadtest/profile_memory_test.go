// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package loadtest

import (
	"fmt"
	"net/netip"
	"runtime"
	"runtime/debug"
	"testing"
	"time"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/workloadprofile"
)

// profileShape is how many items of each list every workload's profile gets.
type profileShape struct {
	name                                 string
	execs, pairs, files, syscalls, ports int
}

// BenchmarkWorkloadProfileMemory reports the Go heap that 500 learned profiles hold
// (workloadprofile.Set with the processor's default configuration), for profile sizes the load
// runs do not reach: the real capture spread over 500 workloads leaves ~2 items per profile. Every
// executable path and parent → child pair is distinct per workload (no sharing of strings between
// profiles), so it is an upper estimate for the given sizes. Report: MiB of live heap after a GC,
// and bytes per item.
//
//	go test -run '^$' -bench WorkloadProfileMemory -benchtime 1x ./testbed/loadtest/
func BenchmarkWorkloadProfileMemory(b *testing.B) {
	const workloads = 500
	for _, shape := range []profileShape{
		{"typical", 10, 12, 4, 10, 4},
		{"large", 40, 80, 9, 50, 20},
		{"at_caps", 256, 512, 9, 256, 128},
	} {
		b.Run(shape.name, func(b *testing.B) {
			for range b.N {
				before := liveHeap()
				set := workloadprofile.NewSet(workloadprofile.DefaultConfig())
				items := fillProfiles(set, workloads, shape)
				after := liveHeap()
				runtime.KeepAlive(set)
				held := float64(after - before)
				b.ReportMetric(held/(1<<20), "MiB")
				b.ReportMetric(held/float64(items), "B/item")
				b.ReportMetric(float64(items)/workloads, "items/workload")
			}
		})
	}
}

func liveHeap() uint64 {
	runtime.GC()
	debug.FreeOSMemory()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// fillProfiles observes, in each of n container workloads, records that give its profile the
// shape's items, and returns the items held.
func fillProfiles(set *workloadprofile.Set, n int, s profileShape) int {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	syscalls := []string{"openat", "connect", "read", "write", "execve", "clone", "mmap", "mprotect", "accept4", "bind"}
	files := []string{"/etc/passwd", "/etc/ssl/certs/ca.pem", "/tmp/x", "/proc/self/status", "/var/run/secrets/kubernetes.io/serviceaccount/token",
		"/root/.ssh/id_rsa", "/usr/bin/x", "/etc/cron.d/x", "/dev/shm/x"}
	for w := range n {
		key := workloadprofile.Key{ContainerID: fmt.Sprintf("%031x", w+1)}
		rec := func(r workloadprofile.Record) {
			r.Key, r.Profiled, r.Time = key, true, t0
			set.Observe(r)
		}
		for i := range max(s.execs, s.pairs) {
			exec := fmt.Sprintf("/opt/workload%d/bin/tool%d", w, i%s.execs)
			parent := fmt.Sprintf("/opt/workload%d/bin/tool%d", w, (i/s.execs+i)%s.execs)
			rec(workloadprofile.Record{Exec: exec, ParentExec: parent})
		}
		for i := range s.syscalls {
			sc := syscalls[i%len(syscalls)]
			if i >= len(syscalls) {
				sc = fmt.Sprintf("syscall_%d", i)
			}
			rec(workloadprofile.Record{Syscall: sc})
		}
		for i := range s.files {
			rec(workloadprofile.Record{Syscall: "openat", FilePath: files[i%len(files)]})
		}
		for i := range s.ports {
			rec(workloadprofile.Record{Syscall: "connect", PeerAddr: netip.AddrFrom4([4]byte{10, 0, byte(i), 1}), PeerPort: uint16(1000 + i)})
		}
	}
	return set.Stats().Items.Total()
}
