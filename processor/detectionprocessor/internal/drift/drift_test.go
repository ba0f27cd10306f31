// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package drift

import (
	"strconv"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/attrkey"
)

const (
	ctrA = "3f2b1c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f809"
	ctrB = "9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c8b7a6f5e4d3c2b1a0f9e8d"
	t0   = int64(1_800_000_000_000_000_000)
)

// ev is one record: EventName, resource and log attributes.
type ev struct {
	name       string
	res, attrs pcommon.Map
}

func resource(ctr string) pcommon.Map {
	m := pcommon.NewMap()
	if ctr != "" {
		m.PutStr(attrkey.ContainerID, ctr)
	}
	return m
}

// hook is a syscall tracepoint event in ctr with the given arguments (int or string).
func hook(ctr, syscall string, args ...any) ev {
	a := pcommon.NewMap()
	a.PutStr(attrkey.TetragonSyscallName, syscall)
	a.PutStr(attrkey.TetragonHook, "syscalls/sys_enter_"+syscall)
	a.PutStr(attrkey.ProcessWorkingDirectory, "/srv")
	s := a.PutEmptySlice(attrkey.TetragonArgs)
	for i, v := range args {
		m := s.AppendEmpty().SetEmptyMap()
		switch v := v.(type) {
		case int:
			m.PutInt("int_arg", int64(v))
		case string:
			m.PutStr("string_arg", v)
			// The receiver's file.path: the first string argument of path syscalls.
			if _, ok := a.Get(attrkey.FilePath); !ok && i <= 1 && syscall != "link" && syscall != "symlink" && syscall != "linkat" && syscall != "symlinkat" {
				a.PutStr(attrkey.FilePath, v)
			}
		}
	}
	return ev{"tetragon.process_tracepoint", resource(ctr), a}
}

func exec(ctr, exe string) ev {
	a := pcommon.NewMap()
	a.PutStr(attrkey.ProcessExecutablePath, exe)
	a.PutStr(attrkey.ProcessWorkingDirectory, "/srv")
	return ev{"tetragon.process_exec", resource(ctr), a}
}

func (tr *Tracker) track(e ev, now int64) Result { return tr.Track(e.name, e.res, e.attrs, now) }

const atFDCWD = -100

func TestWriteOrChmodThenExec(t *testing.T) {
	tests := []struct {
		name  string
		event ev
		exe   string
		want  string // drift mark; "" = none
	}{
		{"openat O_CREAT|O_TRUNC", hook(ctrA, "openat", atFDCWD, "/usr/bin/newfile", 0o1101, 0o666), "/usr/bin/newfile", "openat"},
		{"open O_CREAT", hook(ctrA, "open", "/tmp/x", 0o101, 0o755), "/tmp/x", "open"},
		{"creat", hook(ctrA, "creat", "/tmp/x", 0o755), "/tmp/x", "creat"},
		{"chmod +x (busybox st_mode)", hook(ctrA, "chmod", "/usr/bin/newfile", 0o100755), "/usr/bin/newfile", "chmod"},
		{"fchmodat 0700", hook(ctrA, "fchmodat", atFDCWD, "/opt/x", 0o700), "/opt/x", "fchmodat"},
		{"rename onto the new name", hook(ctrA, "rename", "/tmp/.k", "/usr/local/bin/kubectl"), "/usr/local/bin/kubectl", "rename"},
		{"renameat2", hook(ctrA, "renameat2", atFDCWD, "/tmp/.k", atFDCWD, "/usr/local/bin/kubectl", 0), "/usr/local/bin/kubectl", "renameat2"},
		{"link", hook(ctrA, "link", "/tmp/x", "/usr/bin/y"), "/usr/bin/y", "link"},
		{"symlinkat", hook(ctrA, "symlinkat", "/tmp/x", atFDCWD, "/usr/bin/y"), "/usr/bin/y", "symlinkat"},
		{"relative path joined to the working directory", hook(ctrA, "openat", atFDCWD, "./bin/../miner", 0o1101, 0o755), "/srv/miner", "openat"},
		{"relative exec path", hook(ctrA, "openat", atFDCWD, "/srv/miner", 0o101, 0o755), "miner", "openat"},
		// Not remembered.
		{"open for writing without O_CREAT", hook(ctrA, "openat", atFDCWD, "/usr/bin/newfile", 0o1001, 0), "/usr/bin/newfile", ""},
		{"open for reading", hook(ctrA, "openat", atFDCWD, "/usr/bin/newfile", 0, 0), "/usr/bin/newfile", ""},
		{"chmod 644", hook(ctrA, "chmod", "/usr/bin/newfile", 0o644), "/usr/bin/newfile", ""},
		{"chmod u+s without x", hook(ctrA, "chmod", "/usr/bin/newfile", 0o4644), "/usr/bin/newfile", ""},
		{"rename: the old name is not the new file", hook(ctrA, "rename", "/tmp/.k", "/usr/local/bin/kubectl"), "/tmp/.k", ""},
		{"unlink", hook(ctrA, "unlink", "/usr/bin/newfile"), "/usr/bin/newfile", ""},
		{"another file executed", hook(ctrA, "openat", atFDCWD, "/usr/bin/newfile", 0o101, 0o755), "/usr/bin/env", ""},
		{"written in container A, executed in container B", hook(ctrA, "openat", atFDCWD, "/usr/bin/newfile", 0o101, 0o755), "", ""},
		{"written on the host, executed in a container", hook("", "openat", atFDCWD, "/usr/bin/newfile", 0o101, 0o755), "/usr/bin/newfile", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := New(10, time.Hour, nil)
			tr.track(tt.event, t0)
			ctr := ctrA
			exe := tt.exe
			if exe == "" { // the B case
				ctr, exe = ctrB, "/usr/bin/newfile"
			}
			x := exec(ctr, exe)
			got := tr.track(x, t0+int64(time.Second))
			if got.Drift != tt.want {
				t.Fatalf("drift %q, want %q", got.Drift, tt.want)
			}
			v, ok := x.attrs.Get(attrkey.RuntimeSecurityDrift)
			if (tt.want != "") != ok || (ok && v.Str() != tt.want) {
				t.Fatalf("attribute %v (%v), want %q", v.AsString(), ok, tt.want)
			}
		})
	}
}

func TestExecOnTheHostIsNeverMarked(t *testing.T) {
	tr := New(10, time.Hour, nil)
	tr.track(hook("", "openat", atFDCWD, "/usr/local/bin/x", 0o101, 0o755), t0)
	tr.track(hook(ctrA, "openat", atFDCWD, "/usr/local/bin/x", 0o101, 0o755), t0)
	if got := tr.track(exec("", "/usr/local/bin/x"), t0+1); got.Drift != "" {
		t.Fatalf("host exec marked %q", got.Drift)
	}
}

func TestFirstMakerIsReportedAndEveryExecIsMarked(t *testing.T) {
	tr := New(10, time.Hour, nil)
	tr.track(hook(ctrA, "openat", atFDCWD, "/usr/bin/newfile", 0o1101, 0o666), t0)
	tr.track(hook(ctrA, "chmod", "/usr/bin/newfile", 0o100755), t0+1)
	for i := range 3 {
		if got := tr.track(exec(ctrA, "/usr/bin/newfile"), t0+int64(i+2)); got.Drift != "openat" {
			t.Fatalf("exec %d: drift %q, want openat (what created the file)", i, got.Drift)
		}
	}
	if tr.Len() != 1 {
		t.Fatalf("%d entries, want 1", tr.Len())
	}
}

func TestPodAndDockerIDsAreOneContainer(t *testing.T) {
	tr := New(10, time.Hour, nil)
	tr.track(hook(ctrA[:31], "openat", atFDCWD, "/usr/bin/newfile", 0o101, 0o755), t0) // Tetragon's docker field only
	if got := tr.track(exec(ctrA, "/usr/bin/newfile"), t0+1); got.Drift != "openat" {
		t.Fatalf("drift %q, want openat", got.Drift)
	}
}

func TestTTLOfEventTime(t *testing.T) {
	tr := New(10, time.Hour, nil)
	tr.track(hook(ctrA, "openat", atFDCWD, "/a", 0o101, 0o755), t0)
	tr.track(hook(ctrA, "openat", atFDCWD, "/b", 0o101, 0o755), t0)
	// Executing /a within the ttl marks it and restarts its ttl.
	if got := tr.track(exec(ctrA, "/a"), t0+int64(50*time.Minute)); got.Drift == "" {
		t.Fatal("exec within the ttl not marked")
	}
	// An event from the past does not move the clock back.
	tr.track(exec(ctrA, "/nothing"), t0-int64(time.Hour))
	if got := tr.track(exec(ctrA, "/b"), t0+int64(61*time.Minute)); got.Drift != "" {
		t.Fatal("exec after the ttl marked")
	}
	if got := tr.track(exec(ctrA, "/a"), t0+int64(100*time.Minute)); got.Drift == "" {
		t.Fatal("ttl not restarted by the previous execution")
	}
	// Expired entries are swept.
	tr.track(exec(ctrA, "/nothing"), t0+int64(5*time.Hour))
	if tr.Len() != 0 {
		t.Fatalf("%d entries left after every ttl ended", tr.Len())
	}
}

func TestMaxEntriesEvictsLeastRecentlyTouched(t *testing.T) {
	tr := New(2, time.Hour, nil)
	w := func(p string, at int64) Result { return tr.track(hook(ctrA, "openat", atFDCWD, p, 0o101, 0o755), at) }
	w("/a", t0)
	w("/b", t0+1)
	tr.track(exec(ctrA, "/a"), t0+2) // /a is now the most recent
	if r := w("/c", t0+3); !r.Evicted {
		t.Fatal("a live entry was evicted uncounted")
	}
	if tr.Len() != 2 {
		t.Fatalf("%d entries, want 2", tr.Len())
	}
	if tr.track(exec(ctrA, "/b"), t0+4).Drift != "" {
		t.Fatal("/b (least recently touched) was kept")
	}
	if tr.track(exec(ctrA, "/a"), t0+5).Drift == "" || tr.track(exec(ctrA, "/c"), t0+6).Drift == "" {
		t.Fatal("/a or /c was evicted")
	}
	// Writing a remembered file again takes no room.
	if r := w("/a", t0+7); r.Evicted || tr.Len() != 2 {
		t.Fatalf("rewrite: %+v, %d entries", r, tr.Len())
	}
	// An expired entry makes room without counting as an eviction.
	tr = New(1, time.Minute, nil)
	tr.track(hook(ctrA, "openat", atFDCWD, "/a", 0o101, 0o755), t0)
	if r := tr.track(hook(ctrA, "openat", atFDCWD, "/b", 0o101, 0o755), t0+int64(2*time.Minute)); r.Evicted {
		t.Fatal("expired entry counted as evicted")
	}
}

func TestLSMHookWithoutSyscallName(t *testing.T) {
	a := pcommon.NewMap()
	a.PutStr(attrkey.TetragonHook, "security_path_chmod")
	a.PutStr(attrkey.FilePath, "/usr/bin/x")
	s := a.PutEmptySlice(attrkey.TetragonArgs)
	s.AppendEmpty().SetEmptyMap().PutEmptyMap("path_arg").PutStr("path", "/usr/bin/x")
	s.AppendEmpty().SetEmptyMap().PutInt("int_arg", 0o755)
	tr := New(10, time.Hour, nil)
	tr.Track("tetragon.process_lsm", resource(ctrA), a, t0)
	if got := tr.track(exec(ctrA, "/usr/bin/x"), t0+1); got.Drift != "security_path_chmod" {
		t.Fatalf("drift %q", got.Drift)
	}
}

func TestNoAllocationWithoutMatch(t *testing.T) {
	tr := New(10, time.Hour, nil)
	x := exec(ctrA, "/usr/bin/env")
	read := hook(ctrA, "openat", atFDCWD, "/etc/passwd", 0, 0)
	exit := ev{"tetragon.process_exit", resource(ctrA), pcommon.NewMap()}
	check := func(what string, e ev) {
		t.Helper()
		if n := testing.AllocsPerRun(100, func() { tr.track(e, t0) }); n != 0 {
			t.Errorf("%s: %v allocations", what, n)
		}
	}
	check("exec, nothing tracked", x)
	check("read", read)
	check("exit", exit)
	tr.track(hook(ctrA, "openat", atFDCWD, "/usr/bin/newfile", 0o101, 0o755), t0)
	check("exec of another file", x)
	check("rewrite of a tracked file", hook(ctrA, "openat", atFDCWD, "/usr/bin/newfile", 0o101, 0o755))
}

// BenchmarkTrack: the tracker's own cost per record.
func BenchmarkTrack(b *testing.B) {
	full := New(10000, time.Hour, nil)
	for i := range 10000 {
		full.track(hook(ctrA, "openat", atFDCWD, "/usr/local/bin/tool-"+strconv.Itoa(i), 0o101, 0o755), t0)
	}
	cases := []struct {
		name string
		tr   *Tracker
		e    ev
	}{
		{"exit", New(10000, time.Hour, nil), ev{"tetragon.process_exit", resource(ctrA), pcommon.NewMap()}},
		{"exec/empty", New(10000, time.Hour, nil), exec(ctrA, "/usr/bin/env")},
		{"exec/10k_untracked", full, exec(ctrA, "/usr/bin/env")},
		{"exec/10k_tracked", full, exec(ctrA, "/usr/local/bin/tool-5000")},
		{"openat_read", full, hook(ctrA, "openat", atFDCWD, "/etc/passwd", 0, 0)},
		{"openat_creat/10k_rewrite", full, hook(ctrA, "openat", atFDCWD, "/usr/local/bin/tool-5000", 0o101, 0o755)},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				c.tr.track(c.e, t0)
			}
		})
	}
}

func TestRecordsWithoutTimeUseTheClock(t *testing.T) {
	now := t0
	tr := New(10, time.Hour, func() int64 { return now })
	tr.track(hook(ctrA, "openat", atFDCWD, "/a", 0o101, 0o755), 0)
	now += int64(30 * time.Minute)
	if tr.track(exec(ctrA, "/a"), 0).Drift == "" {
		t.Fatal("not marked within the ttl")
	}
	now += int64(2 * time.Hour)
	if tr.track(exec(ctrA, "/a"), 0).Drift != "" {
		t.Fatal("marked after the ttl")
	}
}
