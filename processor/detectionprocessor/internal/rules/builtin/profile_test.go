// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package builtin_test

import (
	"context"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/attrkey"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/testenv"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/processor/detectionprocessor/internal/rules"
)

// The unexpected_* rules (37_profile.yaml) report what the workload_profile
// processor marks on a record (runtime_security.profile.state, .novel,
// .workload), which the receiver's mapping never sets: TestRuleCases' cases
// cannot express them (they are in sequenceRules). They are proved here on
// mapped real-shape records, mostly lines of the real syscalls/ and captured/
// runs, to which the test adds the marks as the processor would.

// profileRules maps each rule of 37_profile.yaml to the novelty kind it reports.
var profileRules = map[string]string{
	"unexpected_process":      attrkey.ProfileKindExec,
	"unexpected_file_access":  attrkey.ProfileKindFile,
	"unexpected_syscall":      attrkey.ProfileKindSyscall,
	"unexpected_network_peer": attrkey.ProfileKindNetwork,
}

// profileMark is what the workload_profile processor sets on a record: the
// zero value leaves the record unprofiled (no attribute at all).
type profileMark struct {
	state    string
	novel    []string
	workload string
}

func (m profileMark) apply(attrs pcommon.Map) {
	if m.state == "" && len(m.novel) == 0 {
		return
	}
	w := m.workload
	if w == "" {
		w = "test/shop/Deployment/web/app"
	}
	attrs.PutStr(attrkey.ProfileWorkload, w)
	if m.state != "" {
		attrs.PutStr(attrkey.ProfileState, m.state)
	}
	if len(m.novel) > 0 {
		s := attrs.PutEmptySlice(attrkey.ProfileNovel)
		for _, k := range m.novel {
			s.AppendEmpty().SetStr(k)
		}
	}
}

// profileEval maps one line and returns the rules that match its record
// without any mark (base) and with mark (got), sorted.
func profileEval(t *testing.T, rs *rules.Ruleset, line []byte, mark profileMark) (base, got []string) {
	t.Helper()
	eval := func(m *profileMark) []string {
		recs := mapLines(t, [][]byte{line}, 1)
		r := recs[0]
		if m != nil {
			m.apply(r.lr.Attributes())
		}
		var names []string
		for _, x := range rs.EvaluateRecord(context.Background(), r.rl, r.sl, r.lr, nil, func(rule *rules.Rule, err error) {
			t.Errorf("rule %s failed to evaluate: %v", rule.Name, err)
		}) {
			names = append(names, x.Name)
		}
		sort.Strings(names)
		return names
	}
	return eval(nil), eval(&mark)
}

// realLine returns the first line of lines that contains every one of parts.
func realLine(t *testing.T, lines [][]byte, parts ...string) []byte {
	t.Helper()
	for _, l := range lines {
		s := string(l)
		ok := true
		for _, p := range parts {
			if !strings.Contains(s, p) {
				ok = false
				break
			}
		}
		if ok {
			return l
		}
	}
	t.Fatalf("no corpus line contains all of %q", parts)
	return nil
}

func TestProfileRules(t *testing.T) {
	rs := builtin(t)
	dir := testenv.EventsDir(t)
	sc := testenv.ReadLines(t, filepath.Join(dir, "syscalls", "export.jsonl.gz"))
	captured := testenv.ReadLines(t, filepath.Join(dir, "captured", "main-export.jsonl.gz"))
	const app = `"docker":"cb7a5c27fe6155da4bd86cf513c3486"` // the syscalls/ run's app container

	// Real records of the syscalls/ run's app container.
	sysxExec := realLine(t, sc, `"process_exec"`, `"binary":"/usr/local/bin/sysx"`, `"arguments":"chmod /srv/app/config.yml 0640"`, app)
	runcInitExec := realLine(t, sc, `"process_exec"`, `"binary":"/dev/fd/6"`, `"arguments":"init"`, app)
	passwdOpen := realLine(t, sc, `"sys_enter_openat"`, `"/etc/passwd"`, app)
	ptrace := realLine(t, sc, `"sys_enter_ptrace"`, `"arguments":"ptrace-traceme"`, app)
	initModule := realLine(t, sc, `"raw_syscalls"`, `"arguments":"init_module"`, app)
	// A real connect (curl to 127.0.0.1:8080, captured/ on the host), put in
	// the app container: host processes are not profiled.
	connect := []byte(strings.Replace(string(realLine(t, captured, `"sys_enter_connect"`, `"port":8080`)),
		`"binary":"/usr/bin/curl"`, `"binary":"/usr/bin/curl",`+app, 1))

	// Hand-built shapes the real runs lack: pods, exec probes, runc's init
	// doing syscalls in the container.
	pod := inPod("shop", "web-7d9f")
	runcExec := p("/usr/sbin/runc", "--root /run/containerd/runc/k8s.io exec --process /tmp/runc-process1 --detach --pid-file /run/x.pid "+ctrID)
	podExec := func(opts ...func(proc)) []byte {
		return exec(p("/usr/bin/curl", "-sf http://127.0.0.1:8080/healthz", append([]func(proc){pod, initTree(false)}, opts...)...), p("/bin/sh", "", pod))
	}
	podOpen := func(opts ...func(proc)) []byte {
		return tp("syscalls/sys_enter_openat", p("/usr/bin/cat", "/etc/shadow", append([]func(proc){pod}, opts...)...), p("/bin/sh", "", pod),
			intArg(-100), strArg("/etc/shadow"), intArg(0), uintArg(0))
	}
	runcInitSetns := tp("syscalls/sys_enter_setns", p("/dev/fd/5", "init", inDocker), p("/proc/self/exe", "init", inDocker), intArg(5), intArg(0))
	runcOpen := tp("syscalls/sys_enter_openat", p("/usr/sbin/runc", "init", inDocker), runcExec, intArg(-100), strArg("/proc/self/fd"), intArg(0), uintArg(0))

	enforcing := func(novel ...string) profileMark {
		return profileMark{state: attrkey.ProfileStateEnforcing, novel: novel}
	}
	fromFile := func(novel ...string) profileMark { return profileMark{state: attrkey.ProfileStateFile, novel: novel} }
	learning := profileMark{state: attrkey.ProfileStateLearning}

	all := []string{"unexpected_process", "unexpected_file_access", "unexpected_syscall", "unexpected_network_peer"}
	tests := []struct {
		name  string
		line  []byte
		mark  profileMark
		want  []string // profile rules that fire
		quiet []string // profile rules the case proves quiet
	}{
		// unexpected_process
		{"new executable (enforcing)", sysxExec, enforcing("exec"), []string{"unexpected_process"}, nil},
		{"new executable (reviewed file)", sysxExec, fromFile("exec"), []string{"unexpected_process"}, nil},
		{"new executable in a pod", podExec(), enforcing("exec"), []string{"unexpected_process"}, nil},
		{"exec marked with other kinds too: only the exec rule reads execs", sysxExec, enforcing("network", "exec", "file"), []string{"unexpected_process"}, []string{"unexpected_file_access", "unexpected_network_peer"}},
		{"exec while learning", sysxExec, learning, nil, all},
		{"exec enforcing, nothing novel", sysxExec, enforcing(), nil, all},
		{"exec marked novel while learning (not the contract)", sysxExec, profileMark{state: attrkey.ProfileStateLearning, novel: []string{"exec"}}, nil, []string{"unexpected_process"}},
		{"novel without a state (not the contract)", sysxExec, profileMark{novel: []string{"exec"}}, nil, []string{"unexpected_process"}},
		{"exec novel for another kind", sysxExec, enforcing("file", "syscall"), nil, all},
		{"runc's re-exec /dev/fd/6 init", runcInitExec, enforcing("exec"), nil, []string{"unexpected_process"}},
		{"runc by name in the container", exec(p("/usr/sbin/runc", "init", inDocker), runcExec), enforcing("exec"), nil, []string{"unexpected_process"}},
		{"exec probe", podExec(execProbe), enforcing("exec"), nil, []string{"unexpected_process"}},

		// unexpected_file_access
		{"new path class (openat /etc/passwd, system configuration)", passwdOpen, enforcing("file"), []string{"unexpected_file_access"}, []string{"unexpected_process", "unexpected_syscall", "unexpected_network_peer"}},
		{"new path class and new syscall", passwdOpen, fromFile("file", "syscall"), []string{"unexpected_file_access", "unexpected_syscall"}, nil},
		{"new path class in a pod", podOpen(), enforcing("file"), []string{"unexpected_file_access"}, nil},
		{"open while learning", passwdOpen, learning, nil, all},
		{"open marked exec: a hook record is no process", passwdOpen, enforcing("exec"), nil, all},
		{"open by an exec probe", podOpen(execProbe), enforcing("file", "syscall"), nil, []string{"unexpected_file_access", "unexpected_syscall"}},
		{"open by runc in the container", runcOpen, enforcing("file", "syscall"), nil, []string{"unexpected_file_access", "unexpected_syscall"}},

		// unexpected_syscall
		{"new syscall (ptrace)", ptrace, enforcing("syscall"), []string{"unexpected_syscall"}, []string{"unexpected_file_access", "unexpected_network_peer"}},
		{"new syscall through raw_syscalls (init_module)", initModule, fromFile("syscall"), []string{"unexpected_syscall"}, nil},
		{"ptrace while learning", ptrace, learning, nil, all},
		{"ptrace enforcing, nothing novel", ptrace, enforcing(), nil, all},
		{"runc init's setns", runcInitSetns, enforcing("syscall"), nil, []string{"unexpected_syscall"}},

		// unexpected_network_peer
		{"new destination port (connect 127.0.0.1:8080)", connect, enforcing("network"), []string{"unexpected_network_peer"}, []string{"unexpected_process", "unexpected_file_access", "unexpected_syscall"}},
		{"new port and new syscall", connect, fromFile("network", "syscall"), []string{"unexpected_network_peer", "unexpected_syscall"}, nil},
		{"connect while learning", connect, learning, nil, all},
		{"connect with a new syscall only", connect, enforcing("syscall"), []string{"unexpected_syscall"}, []string{"unexpected_network_peer"}},
	}
	positives, negatives := map[string]int{}, map[string]int{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base, got := profileEval(t, rs, tt.line, tt.mark)
			for _, n := range base {
				if _, ok := profileRules[n]; ok {
					t.Fatalf("%s fired on the record without the profile marks", n)
				}
			}
			want := append(slices.Clone(base), tt.want...)
			sort.Strings(want)
			if !slices.Equal(got, want) {
				t.Errorf("with %+v: matched %v, want %v (without the marks: %v)", tt.mark, got, want, base)
			}
			for _, n := range tt.quiet {
				if slices.Contains(tt.want, n) {
					t.Fatalf("case lists %s as both firing and quiet", n)
				}
			}
		})
		for _, n := range tt.want {
			positives[n]++
		}
		for _, n := range tt.quiet {
			negatives[n]++
		}
	}
	for name := range profileRules {
		if !sequenceRules[name] {
			t.Errorf("%s is not in sequenceRules: TestRuleCases would demand single-event cases it cannot have", name)
		}
		if positives[name] < 2 || negatives[name] < 3 {
			t.Errorf("%s: %d positive and %d negative cases, want at least 2 and 3", name, positives[name], negatives[name])
		}
	}
}

// TestProfileRulesOnRealRuns marks every container record of the real
// syscalls/ and captured/ runs as the workload_profile processor could: while
// learning (no novelty) and enforcing with nothing novel, no unexpected_*
// rule fires; enforcing with every kind novel, unexpected_process fires on
// every container exec but runc's re-exec and the hook rules on every
// container hook record but the runtime's own.
func TestProfileRulesOnRealRuns(t *testing.T) {
	rs := builtin(t)
	dir := testenv.EventsDir(t)
	files, _ := filepath.Glob(filepath.Join(dir, "captured", "*.jsonl.gz"))
	files = append(files, filepath.Join(dir, "syscalls", "export.jsonl.gz"))
	allKinds := []string{attrkey.ProfileKindExec, attrkey.ProfileKindFile, attrkey.ProfileKindSyscall, attrkey.ProfileKindNetwork}
	hookEvents := []string{"tetragon.process_kprobe", "tetragon.process_tracepoint", "tetragon.process_lsm"}

	var execs, execsFired, hooks, hooksFired int
	var quietExecs []string
	for _, f := range files {
		lines := testenv.ReadLines(t, f)
		for _, state := range []profileMark{
			{state: attrkey.ProfileStateLearning},
			{state: attrkey.ProfileStateEnforcing},
			{state: attrkey.ProfileStateEnforcing, novel: allKinds},
		} {
			for _, r := range mapLines(t, lines, len(lines)) {
				ctr, ok := r.rl.Resource().Attributes().Get(attrkey.ContainerID)
				if !ok || ctr.Str() == "" {
					continue // host processes are not profiled
				}
				ev := r.lr.EventName()
				if ev != "tetragon.process_exec" && !slices.Contains(hookEvents, ev) {
					continue
				}
				state.workload = "docker/" + ctr.Str()
				state.apply(r.lr.Attributes())
				var fired []string
				for _, m := range rs.EvaluateRecord(context.Background(), r.rl, r.sl, r.lr, nil, func(rule *rules.Rule, err error) {
					t.Errorf("%s: rule %s failed to evaluate: %v", filepath.Base(f), rule.Name, err)
				}) {
					if _, ok := profileRules[m.Name]; ok {
						fired = append(fired, m.Name)
					}
				}
				if len(state.novel) == 0 {
					if len(fired) > 0 {
						t.Errorf("%s: %v fired on a %s record with state %s and nothing novel", filepath.Base(f), fired, ev, state.state)
					}
					continue
				}
				path, _ := r.lr.Attributes().Get(attrkey.ProcessExecutablePath)
				args, _ := r.lr.Attributes().Get(attrkey.TetragonArguments)
				if ev == "tetragon.process_exec" {
					execs++
					if slices.Equal(fired, []string{"unexpected_process"}) {
						execsFired++
					} else {
						quietExecs = append(quietExecs, path.Str()+" "+args.Str())
					}
					continue
				}
				hooks++
				want := []string{"unexpected_file_access", "unexpected_syscall", "unexpected_network_peer"}
				sort.Strings(fired)
				sort.Strings(want)
				if slices.Equal(fired, want) {
					hooksFired++
				} else {
					t.Errorf("%s: %s record of %s %s: %v fired, want %v", filepath.Base(f), ev, path.Str(), args.Str(), fired, want)
				}
			}
		}
	}
	// runc's re-exec in each of the syscalls/ run's two containers.
	if want := []string{"/dev/fd/6 init", "/dev/fd/6 init"}; !slices.Equal(quietExecs, want) {
		t.Errorf("unexpected_process quiet on container execs %q, want only %q", quietExecs, want)
	}
	if execsFired < 100 || hooksFired < 100 {
		t.Errorf("unexpected_process fired on %d of %d container execs, the hook rules on %d of %d hook records: too few", execsFired, execs, hooksFired, hooks)
	}
	t.Logf("enforcing, every kind novel: unexpected_process on %d of %d container execs; hook rules on %d of %d container hook records", execsFired, execs, hooksFired, hooks)
}

// TestProfileRulesDefinition: the rules of 37_profile.yaml read the profile's
// marks first (so the prefilter skips OTTL on unmarked records), and suppress
// per workload and new behaviour for an hour.
func TestProfileRulesDefinition(t *testing.T) {
	rs := builtin(t)
	wantKeys := map[string][]string{
		"unexpected_process":      {attrkey.ProfileWorkload, attrkey.ProcessParentExecutablePath, attrkey.ProcessExecutablePath},
		"unexpected_file_access":  {attrkey.ProfileWorkload, attrkey.FilePath},
		"unexpected_syscall":      {attrkey.ProfileWorkload, attrkey.TetragonHook, attrkey.TetragonSyscallName},
		"unexpected_network_peer": {attrkey.ProfileWorkload, attrkey.NetworkPeerPort},
	}
	for name, kind := range profileRules {
		r := rs.Rule(name)
		if r == nil {
			t.Fatalf("rule %s missing", name)
		}
		if pf := r.Prefilter(); !strings.Contains(pf, attrkey.ProfileNovel) || !strings.Contains(pf, kind) {
			t.Errorf("%s: prefilter %q does not test %s for %q", name, pf, attrkey.ProfileNovel, kind)
		}
		if r.Suppress == nil || r.Suppress.Window != time.Hour {
			t.Errorf("%s: suppress %+v, want a 1h window", name, r.Suppress)
			continue
		}
		var keys []string
		for _, k := range r.Suppress.Key {
			keys = append(keys, k.String())
		}
		if !slices.Equal(keys, wantKeys[name]) {
			t.Errorf("%s: suppress key %v, want %v", name, keys, wantKeys[name])
		}
	}
}
