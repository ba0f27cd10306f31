// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package eventmap

import (
	"bytes"
	"errors"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/cilium/tetragon/api/v1/tetragon"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"google.golang.org/protobuf/proto"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/attrkey"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/testenv"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/tetragonjson"
)

var observedAt = time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)

// mapped is one record with its resource, for assertions.
type mapped struct {
	res   pcommon.Map
	rec   plog.LogRecord
	attrs pcommon.Map
}

func records(logs plog.Logs) []mapped {
	var out []mapped
	for i := 0; i < logs.ResourceLogs().Len(); i++ {
		rl := logs.ResourceLogs().At(i)
		for j := 0; j < rl.ScopeLogs().Len(); j++ {
			sl := rl.ScopeLogs().At(j)
			for k := 0; k < sl.LogRecords().Len(); k++ {
				lr := sl.LogRecords().At(k)
				out = append(out, mapped{res: rl.Resource().Attributes(), rec: lr, attrs: lr.Attributes()})
			}
		}
	}
	return out
}

// mapLine decodes and maps a single line into its own batch.
func mapLine(t *testing.T, line []byte, opts Options) mapped {
	t.Helper()
	var ev tetragon.GetEventsResponse
	if err := tetragonjson.DecodeJSON(line, &ev); err != nil {
		t.Fatalf("decode: %v\n%s", err, line)
	}
	return mapEvent(t, &ev, line, opts)
}

func mapEvent(t *testing.T, ev *tetragon.GetEventsResponse, raw []byte, opts Options) mapped {
	t.Helper()
	b := NewBatch(opts)
	if err := b.Add(ev, raw, observedAt); err != nil {
		t.Fatalf("add: %v", err)
	}
	if b.Len() != 1 {
		t.Fatalf("Len = %d after one Add", b.Len())
	}
	recs := records(b.Flush())
	if len(recs) != 1 {
		t.Fatalf("got %d records, want 1", len(recs))
	}
	if b.Len() != 0 {
		t.Fatalf("Len = %d after Flush", b.Len())
	}
	return recs[0]
}

// findLine returns the only corpus line containing every needle.
func findLine(t *testing.T, lines []testenv.CorpusLine, needles ...string) []byte {
	t.Helper()
	var found [][]byte
	for _, l := range lines {
		ok := true
		for _, n := range needles {
			if !bytes.Contains(l.Data, []byte(n)) {
				ok = false
				break
			}
		}
		if ok {
			found = append(found, l.Data)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%d lines contain %q, want exactly 1", len(found), needles)
	}
	return found[0]
}

func wantStr(t *testing.T, m pcommon.Map, key, want string) {
	t.Helper()
	v, ok := m.Get(key)
	if !ok {
		t.Errorf("%s missing, want %q", key, want)
		return
	}
	if v.Type() != pcommon.ValueTypeStr || v.Str() != want {
		t.Errorf("%s = %s %q, want string %q", key, v.Type(), v.AsString(), want)
	}
}

func wantInt(t *testing.T, m pcommon.Map, key string, want int64) {
	t.Helper()
	v, ok := m.Get(key)
	if !ok {
		t.Errorf("%s missing, want %d", key, want)
		return
	}
	if v.Type() != pcommon.ValueTypeInt || v.Int() != want {
		t.Errorf("%s = %s %s, want int %d", key, v.Type(), v.AsString(), want)
	}
}

func wantBool(t *testing.T, m pcommon.Map, key string, want bool) {
	t.Helper()
	v, ok := m.Get(key)
	if !ok {
		t.Errorf("%s missing, want %v", key, want)
		return
	}
	if v.Type() != pcommon.ValueTypeBool || v.Bool() != want {
		t.Errorf("%s = %s %s, want bool %v", key, v.Type(), v.AsString(), want)
	}
}

func wantAbsent(t *testing.T, m pcommon.Map, keys ...string) {
	t.Helper()
	for _, k := range keys {
		if v, ok := m.Get(k); ok {
			t.Errorf("%s = %q, want absent", k, v.AsString())
		}
	}
}

// wantRaw compares a value with its AsRaw form (ints as int64).
func wantRaw(t *testing.T, m pcommon.Map, key string, want any) {
	t.Helper()
	v, ok := m.Get(key)
	if !ok {
		t.Errorf("%s missing", key)
		return
	}
	want2 := pcommon.NewValueEmpty()
	if err := want2.FromRaw(want); err != nil {
		t.Fatal(err)
	}
	if !v.Equal(want2) {
		t.Errorf("%s = %v, want %v", key, v.AsRaw(), want)
	}
}

func TestRealCorpusMapsEveryLine(t *testing.T) {
	lines := testenv.ReadCorpus(t, "real/*.jsonl")
	b := NewBatch(Options{})
	var ev tetragon.GetEventsResponse
	for _, l := range lines {
		if err := tetragonjson.DecodeJSON(l.Data, &ev); err != nil {
			t.Fatalf("%s:%d: decode: %v", l.File, l.Num, err)
		}
		if err := b.Add(&ev, l.Data, observedAt); err != nil {
			t.Fatalf("%s:%d: add: %v", l.File, l.Num, err)
		}
	}
	if b.Len() != 56 {
		t.Errorf("Len = %d, want 56", b.Len())
	}
	logs := b.Flush()
	if logs.LogRecordCount() != 56 {
		t.Fatalf("%d records, want 56", logs.LogRecordCount())
	}
	counts := map[string]int{}
	for _, r := range records(logs) {
		counts[r.rec.EventName()]++
		if r.rec.SeverityNumber() != plog.SeverityNumberInfo || r.rec.SeverityText() != "INFO" {
			t.Errorf("severity %v %q, want INFO", r.rec.SeverityNumber(), r.rec.SeverityText())
		}
		if r.rec.ObservedTimestamp().AsTime() != observedAt {
			t.Errorf("observed = %v", r.rec.ObservedTimestamp())
		}
		if r.rec.Body().Type() != pcommon.ValueTypeMap {
			t.Errorf("default body type %s, want map", r.rec.Body().Type())
		}
	}
	want := map[string]int{
		"tetragon.process_exec": 25, "tetragon.process_exit": 11,
		"tetragon.process_kprobe": 18, "tetragon.process_throttle": 2,
	}
	if len(counts) != len(want) {
		t.Errorf("event names %v, want %v", counts, want)
	}
	for k, n := range want {
		if counts[k] != n {
			t.Errorf("%s: %d records, want %d", k, counts[k], n)
		}
	}
	for i := 0; i < logs.ResourceLogs().Len(); i++ {
		sl := logs.ResourceLogs().At(i).ScopeLogs()
		if sl.Len() != 1 || sl.At(0).Scope().Name() != ScopeName {
			t.Errorf("resource %d: scope logs %d / name %q", i, sl.Len(), sl.At(0).Scope().Name())
		}
	}
}

func TestRealPodExec(t *testing.T) {
	lines := testenv.ReadCorpus(t, "real/*.jsonl")
	r := mapLine(t, findLine(t, lines, `"process_exec"`, `"name":"xwing"`, `ebpf.io/applications`), Options{ClusterName: "fallback"})

	if r.rec.EventName() != "tetragon.process_exec" {
		t.Errorf("EventName %q", r.rec.EventName())
	}
	if got := r.rec.Timestamp().AsTime(); !got.Equal(time.Date(2023, 10, 6, 22, 3, 57, 700326678, time.UTC)) {
		t.Errorf("Timestamp %v", got)
	}
	wantStr(t, r.res, attrkey.K8sNodeName, "gke-john-632-default-pool-7041cac0-9s95")
	wantStr(t, r.res, attrkey.K8sClusterName, "fallback")
	wantStr(t, r.res, attrkey.K8sNamespaceName, "default")
	wantStr(t, r.res, attrkey.K8sPodName, "xwing")
	wantStr(t, r.res, attrkey.K8sContainerName, "spaceship")
	wantStr(t, r.res, attrkey.ContainerID, "551e161c47d8ff0eb665438a7bcd5b4e3ef5a297282b40a92b7c77d6bd168eb3")
	wantStr(t, r.res, attrkey.ContainerImageName, "docker.io/tgraf/netperf:latest")
	wantStr(t, r.res, attrkey.K8sPodLabelPrefix+"app.kubernetes.io/name", "xwing")
	wantStr(t, r.res, attrkey.K8sPodLabelPrefix+"org", "alliance")
	wantStr(t, r.res, attrkey.K8sWorkloadName, "xwing")
	wantAbsent(t, r.res, attrkey.K8sWorkloadKind, attrkey.K8sDeploymentName, attrkey.K8sPodUID)
	if r.res.Len() != 11 {
		t.Errorf("resource has %d attributes, want 11: %v", r.res.Len(), r.res.AsRaw())
	}

	wantInt(t, r.attrs, attrkey.ProcessPID, 52699)
	wantStr(t, r.attrs, attrkey.ProcessExecutablePath, "/usr/bin/curl")
	wantStr(t, r.attrs, attrkey.ProcessExecutableName, "curl")
	wantStr(t, r.attrs, attrkey.ProcessCommandLine, "/usr/bin/curl https://ebpf.io/applications/#tetragon")
	wantStr(t, r.attrs, attrkey.TetragonArguments, "https://ebpf.io/applications/#tetragon")
	wantStr(t, r.attrs, attrkey.ProcessWorkingDirectory, "/")
	wantInt(t, r.attrs, attrkey.ProcessUserID, 0)
	wantStr(t, r.attrs, attrkey.ProcessCreationTime, "2023-10-06T22:03:57.700327580Z")
	wantStr(t, r.attrs, attrkey.TetragonExecID, "Z2tlLWpvaG4tNjMyLWRlZmF1bHQtcG9vbC03MDQxY2FjMC05czk1OjEzNTQ4Njc0MzIxMzczOjUyNjk5")
	wantStr(t, r.attrs, attrkey.TetragonParentExecID, "Z2tlLWpvaG4tNjMyLWRlZmF1bHQtcG9vbC03MDQxY2FjMC05czk1OjEzNTQ4NjcwODgzMjk5OjUyNjk5")
	wantStr(t, r.attrs, attrkey.TetragonFlags, "execve rootcwd")
	wantInt(t, r.attrs, attrkey.TetragonAUID, 4294967295)
	wantBool(t, r.attrs, attrkey.TetragonExecProbe, false)
	wantInt(t, r.attrs, attrkey.ProcessParentPID, 52699)
	wantStr(t, r.attrs, attrkey.ProcessParentExecutablePath, "/bin/bash")
	wantStr(t, r.attrs, attrkey.ProcessParentExecutableName, "bash")
	wantStr(t, r.attrs, attrkey.ProcessParentCommandLine, `/bin/bash -c "curl https://ebpf.io/applications/#tetragon"`)
	wantStr(t, r.attrs, attrkey.TetragonParentArgs, `-c "curl https://ebpf.io/applications/#tetragon"`)
	wantAbsent(t, r.attrs, attrkey.TetragonPrivileged, attrkey.ProcessRealUserID, attrkey.TetragonInodeLinks,
		attrkey.TetragonHook, attrkey.TetragonArgs, attrkey.ProcessExitCode)
}

func TestRealDeathstarExec(t *testing.T) {
	lines := testenv.ReadCorpus(t, "real/testdata-events.jsonl")
	r := mapLine(t, findLine(t, lines, `deathstar-6f87496b94-qdlh8`), Options{})
	wantStr(t, r.res, attrkey.K8sNodeName, "my-node")
	wantAbsent(t, r.res, attrkey.K8sClusterName)
	wantStr(t, r.res, attrkey.K8sPodName, "deathstar-6f87496b94-qdlh8")
	wantStr(t, r.res, attrkey.K8sContainerName, "deathstar")
	wantStr(t, r.res, attrkey.ContainerID, "16ecce28d6808e01f6b91f990b07616c0fc8dff67036231f9911191c7ff3d1cd")
	wantStr(t, r.res, attrkey.ContainerImageName, "docker.io/cilium/starwars:latest")
	wantStr(t, r.res, attrkey.K8sPodLabelPrefix+"pod-template-hash", "6f87496b94")
	wantStr(t, r.attrs, attrkey.ProcessCommandLine, "/starwars-docker --port 80 --host 0.0.0.0")
	wantStr(t, r.attrs, attrkey.ProcessParentExecutableName, "containerd-shim-runc-v2")
	if got := r.rec.Timestamp().AsTime(); !got.Equal(time.Date(2022, 10, 18, 3, 16, 21, 373327754, time.UTC)) {
		t.Errorf("Timestamp = %v", got)
	}
}

func TestRealFilePermissionKprobe(t *testing.T) {
	lines := testenv.ReadCorpus(t, "real/docs-use-cases--filename-access.jsonl")
	r := mapLine(t, findLine(t, lines, `security_file_permission`), Options{})
	if r.rec.EventName() != "tetragon.process_kprobe" {
		t.Errorf("EventName %q", r.rec.EventName())
	}
	wantStr(t, r.attrs, attrkey.FilePath, "/etc/passwd")
	wantStr(t, r.attrs, attrkey.TetragonFilePermission, "-rw-r--r--")
	wantStr(t, r.attrs, attrkey.TetragonFunctionName, "security_file_permission")
	wantStr(t, r.attrs, attrkey.TetragonHook, "security_file_permission")
	wantStr(t, r.attrs, attrkey.TetragonPolicyName, "file-monitoring")
	wantStr(t, r.attrs, attrkey.TetragonAction, "KPROBE_ACTION_POST")
	wantInt(t, r.attrs, attrkey.TetragonReturn, 0)
	wantRaw(t, r.attrs, attrkey.TetragonArgs, []any{
		map[string]any{"file_arg": map[string]any{"path": "/etc/passwd", "permission": "-rw-r--r--"}},
		map[string]any{"int_arg": int64(2)},
	})
	wantStr(t, r.res, attrkey.K8sWorkloadName, "file-access")
	wantStr(t, r.res, attrkey.K8sWorkloadKind, "Pod")
	wantAbsent(t, r.res, attrkey.K8sDeploymentName, attrkey.K8sReplicaSetName)
	wantAbsent(t, r.attrs, attrkey.NetworkPeerAddress, attrkey.TetragonSubsys)
}

func TestRealSyscallKprobes(t *testing.T) {
	lines := testenv.ReadCorpus(t, "real/*.jsonl")

	r := mapLine(t, findLine(t, lines, `__x64_sys_setuid`), Options{})
	wantStr(t, r.attrs, attrkey.TetragonFunctionName, "__x64_sys_setuid")
	wantStr(t, r.attrs, attrkey.TetragonHook, "__x64_sys_setuid")
	wantRaw(t, r.attrs, attrkey.TetragonArgs, []any{map[string]any{"int_arg": int64(0)}})
	wantStr(t, r.attrs, attrkey.ProcessExecutablePath, "/bin/su")
	wantStr(t, r.res, attrkey.K8sPodName, "xwing")
	wantAbsent(t, r.attrs, attrkey.FilePath, attrkey.TetragonReturn)

	r = mapLine(t, findLine(t, lines, `__x64_sys_setgid`), Options{})
	wantStr(t, r.attrs, attrkey.TetragonHook, "__x64_sys_setgid")

	// A syscall kprobe with a filename string: file.path comes from it.
	r = mapLine(t, findLine(t, lines, `__x64_sys_openat`), Options{})
	wantStr(t, r.attrs, attrkey.FilePath, "tracing_policy.yaml")
	wantRaw(t, r.attrs, attrkey.TetragonArgs, []any{
		map[string]any{"int_arg": int64(-100)},
		map[string]any{"string_arg": "tracing_policy.yaml"},
		map[string]any{"int_arg": int64(0)},
	})

	r = mapLine(t, findLine(t, lines, `__x64_sys_read`), Options{})
	wantStr(t, r.attrs, attrkey.FilePath, "usr/share/elasticsearch/config/elasticsearch.keystore")
	wantRaw(t, r.attrs, attrkey.TetragonArgs, []any{
		map[string]any{"file_arg": map[string]any{"path": "usr/share/elasticsearch/config/elasticsearch.keystore"}},
		map[string]any{"truncated_bytes_arg": map[string]any{"orig_size": int64(65536)}},
		map[string]any{"size_arg": int64(65536)},
	})

	r = mapLine(t, findLine(t, lines, `__x64_sys_setns`), Options{})
	wantRaw(t, r.attrs, attrkey.TetragonArgs, []any{
		map[string]any{"int_arg": int64(3)}, map[string]any{"int_arg": int64(134217728)},
	})
	wantStr(t, r.res, attrkey.K8sWorkloadKind, "Pod")

	r = mapLine(t, findLine(t, lines, `cap_capable`), Options{})
	wantInt(t, r.attrs, attrkey.TetragonReturn, -1)
	wantRaw(t, r.attrs, attrkey.TetragonArgs, []any{
		map[string]any{"user_ns_arg": map[string]any{"level": int64(0), "uid": int64(0), "gid": int64(0),
			"ns": map[string]any{"inum": int64(4026531837), "is_host": true}}},
		map[string]any{"capability_arg": map[string]any{"value": int64(34), "name": "CAP_SYSLOG"}},
	})

	r = mapLine(t, findLine(t, lines, `do_init_module`), Options{})
	wantRaw(t, r.attrs, attrkey.TetragonArgs, []any{
		map[string]any{"module_arg": map[string]any{"name": "kernel_module_hello",
			"tainted": []any{"TAINT_OUT_OF_TREE_MODULE", "TAINT_UNSIGNED_MODULE"}}},
	})
	r = mapLine(t, findLine(t, lines, `find_module_sections`), Options{})
	wantRaw(t, r.attrs, attrkey.TetragonArgs, []any{
		map[string]any{"module_arg": map[string]any{"name": "xfs", "signature_ok": true}},
	})

	r = mapLine(t, findLine(t, lines, `commit_creds`), Options{})
	args, _ := r.attrs.Get(attrkey.TetragonArgs)
	creds := args.Slice().At(0).Map()
	pc, ok := creds.Get("process_credentials_arg")
	if !ok {
		t.Fatalf("commit_creds args: %v", args.AsRaw())
	}
	wantInt(t, pc.Map(), "euid", 0)
	caps, _ := pc.Map().Get("caps")
	perm, _ := caps.Map().Get("permitted")
	if perm.Slice().Len() == 0 || perm.Slice().At(0).Str() != "CAP_CHOWN" {
		t.Errorf("process_credentials_arg.caps.permitted = %v", perm.AsRaw())
	}
}

func TestRealThrottle(t *testing.T) {
	lines := testenv.ReadCorpus(t, "real/docs-concepts--cgroup-rate.jsonl")
	if len(lines) != 2 {
		t.Fatalf("%d lines", len(lines))
	}
	for i, want := range []string{"THROTTLE_START", "THROTTLE_STOP"} {
		r := mapLine(t, lines[i].Data, Options{})
		if r.rec.EventName() != "tetragon.process_throttle" {
			t.Errorf("EventName %q", r.rec.EventName())
		}
		wantStr(t, r.attrs, attrkey.TetragonThrottleType, want)
		if v, ok := r.attrs.Get(attrkey.TetragonThrottleCgroup); !ok || v.Str() == "" {
			t.Errorf("cgroup missing: %v", r.attrs.AsRaw())
		}
		// Throttle events carry no process: only node-level resource.
		r.res.Range(func(k string, _ pcommon.Value) bool {
			if k != attrkey.K8sNodeName && k != attrkey.K8sClusterName {
				t.Errorf("throttle resource has %s", k)
			}
			return true
		})
	}
}

func TestRealExitWithoutStatus(t *testing.T) {
	lines := testenv.ReadCorpus(t, "real/docs-historical.jsonl")
	r := mapLine(t, findLine(t, lines, `"process_exit"`, `uname`), Options{})
	wantInt(t, r.attrs, attrkey.ProcessExitCode, 0)
	wantStr(t, r.attrs, attrkey.ProcessExitTime, "2023-07-16T11:50:23.947280103Z")
	wantAbsent(t, r.attrs, attrkey.TetragonExitSignal)
	wantStr(t, r.attrs, attrkey.ProcessExecutableName, "uname")
}

func TestCapturedCorpus(t *testing.T) {
	files := []struct {
		name  string
		lines int
	}{
		{"main-export.jsonl.gz", 611}, {"main-grpc.jsonl.gz", 607},
		{"ratelimit-export.jsonl.gz", 322}, {"ratelimit-grpc.jsonl.gz", 317},
	}
	type tally struct {
		containers, openat, connect, binprm, execve, fexecve, throttle, rateLimit, pidOnlyExit, signals int
	}
	var total tally
	for _, f := range files {
		lines := testenv.ReadCorpus(t, "captured/"+f.name)
		if len(lines) != f.lines {
			t.Errorf("%s: %d lines, want %d", f.name, len(lines), f.lines)
		}
		var ev tetragon.GetEventsResponse
		b := NewBatch(Options{})
		for _, l := range lines {
			if err := tetragonjson.DecodeJSON(l.Data, &ev); err != nil {
				t.Fatalf("%s:%d: decode: %v", l.File, l.Num, err)
			}
			if err := b.Add(&ev, l.Data, observedAt); err != nil {
				t.Fatalf("%s:%d: add: %v", l.File, l.Num, err)
			}
			r := records(b.Flush())[0]
			proc := mainProcess(&ev)
			where := l.File + ":" + itoa(l.Num)

			if d := proc.GetDocker(); d != "" {
				total.containers++
				if v, _ := r.res.Get(attrkey.ContainerID); v.Str() != d {
					t.Errorf("%s: container.id %q, want docker %q", where, v.Str(), d)
				}
			} else if _, ok := r.res.Get(attrkey.ContainerID); ok {
				t.Errorf("%s: container.id set for a process without docker", where)
			}
			if proc.GetPod() != nil {
				t.Errorf("%s: captured corpus should carry no pod", where)
			}

			switch x := ev.GetEvent().(type) {
			case *tetragon.GetEventsResponse_ProcessTracepoint:
				tp := x.ProcessTracepoint
				hook := tp.GetSubsys() + "/" + tp.GetEvent()
				wantStr(t, r.attrs, attrkey.TetragonHook, hook)
				wantStr(t, r.attrs, attrkey.TetragonSubsys, tp.GetSubsys())
				wantStr(t, r.attrs, attrkey.TetragonEvent, tp.GetEvent())
				wantStr(t, r.attrs, attrkey.TetragonPolicyName, tp.GetPolicyName())
				switch hook {
				case "syscalls/sys_enter_openat":
					total.openat++
					wantStr(t, r.attrs, attrkey.FilePath, tp.GetArgs()[1].GetStringArg())
					if !strings.HasPrefix(tp.GetArgs()[1].GetStringArg(), "/") {
						t.Errorf("%s: openat filename %q", where, tp.GetArgs()[1].GetStringArg())
					}
				case "syscalls/sys_enter_execve":
					total.execve++
					wantStr(t, r.attrs, attrkey.FilePath, tp.GetArgs()[0].GetStringArg())
				case "syscalls/sys_enter_execveat":
					total.execve++
					if p := tp.GetArgs()[1].GetStringArg(); p != "" {
						wantStr(t, r.attrs, attrkey.FilePath, p)
					} else {
						// fexecve: AT_EMPTY_PATH with "" names no file.
						total.fexecve++
						wantAbsent(t, r.attrs, attrkey.FilePath)
					}
				case "syscalls/sys_enter_connect":
					total.connect++
					sa := tp.GetArgs()[1].GetSockaddrArg()
					wantStr(t, r.attrs, attrkey.NetworkPeerAddress, sa.GetAddr())
					wantInt(t, r.attrs, attrkey.NetworkPeerPort, int64(sa.GetPort()))
					if sa.GetAddr() == "" {
						t.Errorf("%s: connect without address", where)
					}
				case "sched/sched_process_exec":
					total.binprm++
					wantStr(t, r.attrs, attrkey.FilePath, tp.GetArgs()[0].GetLinuxBinprmArg().GetPath())
				case "sock/inet_sock_set_state", "syscalls/sys_enter_setuid", "raw_syscalls/sys_enter":
					wantAbsent(t, r.attrs, attrkey.FilePath, attrkey.NetworkPeerAddress)
				}
				want := len(tp.GetArgs())
				if hook == "raw_syscalls/sys_enter" {
					want-- // the syscall_id is in tetragon.syscall.*
				}
				args, _ := r.attrs.Get(attrkey.TetragonArgs)
				if args.Slice().Len() != want {
					t.Errorf("%s: %d args mapped, want %d", where, args.Slice().Len(), want)
				}
			case *tetragon.GetEventsResponse_ProcessThrottle:
				total.throttle++
				v, _ := r.attrs.Get(attrkey.TetragonThrottleCgroup)
				if v.Str() == "" || strings.ContainsRune(v.Str(), 0) {
					t.Errorf("%s: throttle cgroup %q", where, v.Str())
				}
				wantStr(t, r.attrs, attrkey.TetragonThrottleType, x.ProcessThrottle.GetType().String())
			case *tetragon.GetEventsResponse_RateLimitInfo:
				total.rateLimit++
				wantInt(t, r.attrs, attrkey.TetragonRateLimitDropped, int64(x.RateLimitInfo.GetNumberOfDroppedProcessEvents()))
				if x.RateLimitInfo.GetNumberOfDroppedProcessEvents() == 0 {
					t.Errorf("%s: rate_limit_info with 0 dropped", where)
				}
			case *tetragon.GetEventsResponse_ProcessExit:
				if proc.GetExecId() == "" {
					total.pidOnlyExit++
					wantInt(t, r.attrs, attrkey.ProcessPID, int64(proc.GetPid().GetValue()))
					wantStr(t, r.attrs, attrkey.ProcessCreationTime, tetragonjson.FormatTimestamp(proc.GetStartTime().GetSeconds(), proc.GetStartTime().GetNanos()))
					wantAbsent(t, r.attrs, attrkey.TetragonExecID, attrkey.ProcessExecutablePath)
				}
				wantInt(t, r.attrs, attrkey.ProcessExitCode, int64(x.ProcessExit.GetStatus()))
				if s := x.ProcessExit.GetSignal(); s != "" {
					total.signals++
					wantStr(t, r.attrs, attrkey.TetragonExitSignal, s)
				}
			case *tetragon.GetEventsResponse_ProcessExec:
				if anc := x.ProcessExec.GetAncestors(); len(anc) > 0 {
					v, _ := r.attrs.Get(attrkey.TetragonAncestorBinaries)
					if v.Slice().Len() != len(anc) || v.Slice().At(0).Str() != anc[0].GetBinary() {
						t.Errorf("%s: ancestors %v", where, v.AsRaw())
					}
				}
				if pc := proc.GetProcessCredentials(); pc.GetEuid() != nil {
					wantInt(t, r.attrs, attrkey.ProcessUserID, int64(pc.GetEuid().GetValue()))
					wantInt(t, r.attrs, attrkey.ProcessRealUserID, int64(pc.GetUid().GetValue()))
					wantInt(t, r.attrs, attrkey.ProcessSavedUserID, int64(pc.GetSuid().GetValue()))
				}
				if c := proc.GetCap(); len(c.GetEffective()) > 0 {
					v, _ := r.attrs.Get(attrkey.TetragonCapsEffective)
					if v.Slice().Len() != len(c.GetEffective()) || !strings.HasPrefix(v.Slice().At(0).Str(), "CAP_") {
						t.Errorf("%s: caps %v", where, v.AsRaw())
					}
				}
			}
		}
	}
	// The corpus facts the README promises; each must have been exercised.
	if total.containers == 0 || total.openat == 0 || total.connect == 0 || total.binprm == 0 ||
		total.execve == 0 || total.fexecve == 0 || total.throttle == 0 || total.rateLimit == 0 || total.pidOnlyExit == 0 || total.signals == 0 {
		t.Errorf("corpus coverage: %+v", total)
	}
	t.Logf("captured coverage: %+v", total)
}

func itoa(n int) string {
	return string(appendInt(nil, n))
}

func appendInt(b []byte, n int) []byte {
	if n >= 10 {
		b = appendInt(b, n/10)
	}
	return append(b, byte('0'+n%10))
}

func TestCapturedCredentials(t *testing.T) {
	// `sudo -u nobody id`: the process runs with euid 65534.
	lines := testenv.ReadCorpus(t, "captured/main-export.jsonl.gz")
	seen := 0
	for _, l := range lines {
		if !bytes.Contains(l.Data, []byte(`"euid":65534`)) {
			continue
		}
		var ev tetragon.GetEventsResponse
		if err := tetragonjson.DecodeJSON(l.Data, &ev); err != nil {
			t.Fatal(err)
		}
		pc := mainProcess(&ev).GetProcessCredentials()
		if pc.GetEuid().GetValue() != 65534 {
			continue
		}
		seen++
		r := mapEvent(t, &ev, l.Data, Options{})
		wantInt(t, r.attrs, attrkey.ProcessUserID, 65534)
		wantInt(t, r.attrs, attrkey.ProcessRealUserID, int64(pc.GetUid().GetValue()))
		wantInt(t, r.attrs, attrkey.ProcessSavedUserID, int64(pc.GetSuid().GetValue()))
	}
	if seen == 0 {
		t.Error("no process with euid 65534 found in captured/main-export")
	}
}

func TestLegacyUnknownTypes(t *testing.T) {
	lines := testenv.ReadCorpus(t, "legacy/book-security-observability-with-ebpf.jsonl")
	if len(lines) != 11 {
		t.Fatalf("%d lines, want 11", len(lines))
	}
	for _, l := range lines {
		var ev tetragon.GetEventsResponse
		err := tetragonjson.DecodeJSON(l.Data, &ev)
		var ue *tetragonjson.UnknownEventTypeError
		if !errors.As(err, &ue) {
			t.Fatalf("%s:%d: err = %v, want *tetragonjson.UnknownEventTypeError", l.File, l.Num, err)
		}
		if len(ue.Keys) != 1 || !slices.Contains([]string{"process_connect", "process_close", "process_listen"}, ue.Keys[0]) {
			t.Errorf("%s:%d: Keys = %v", l.File, l.Num, ue.Keys)
		}
		if !bytes.Contains(l.Data, []byte(`"`+ue.Keys[0]+`"`)) || !strings.Contains(err.Error(), ue.Keys[0]) {
			t.Errorf("%s:%d: Keys %v / message %q do not name the line's type", l.File, l.Num, ue.Keys, err)
		}
		// The decoded envelope must not be mapped either.
		b := NewBatch(Options{})
		if err := b.Add(&ev, l.Data, observedAt); !errors.As(err, &ue) {
			t.Errorf("Add of an unknown type: err = %v", err)
		}
		if b.Len() != 0 || b.Flush().LogRecordCount() != 0 {
			t.Error("unknown type added a record")
		}
	}
}

func TestLegacyMalformed(t *testing.T) {
	lines := testenv.ReadCorpus(t, "legacy/malformed-docs-historical.jsonl")
	if len(lines) == 0 {
		t.Fatal("empty")
	}
	for _, l := range lines {
		var ev tetragon.GetEventsResponse
		err := tetragonjson.DecodeJSON(l.Data, &ev)
		if err == nil {
			t.Fatalf("%s:%d: malformed line decoded", l.File, l.Num)
		}
		var ue *tetragonjson.UnknownEventTypeError
		if errors.As(err, &ue) {
			t.Errorf("malformed line reported as unknown type: %v", err)
		}
		if errors.Unwrap(err) == nil {
			t.Errorf("error %v does not wrap its cause", err)
		}
	}
}

func TestDecodeErrors(t *testing.T) {
	var ev tetragon.GetEventsResponse
	for _, in := range []string{``, `{`, `not json`, `{"process_exec":`, `[]`, `{"process_exec":{"process":{"pid":"x"}}}`,
		strings.Repeat(`{"a":`, 20000)} {
		err := tetragonjson.DecodeJSON([]byte(in), &ev)
		var ue *tetragonjson.UnknownEventTypeError
		if err == nil || errors.As(err, &ue) {
			t.Errorf("tetragonjson.DecodeJSON(%.30q) = %v, want a decode error", in, err)
		}
	}
	// Envelope only, or unknown fields only: unknown type, not a decode error.
	for in, keys := range map[string][]string{
		`{"node_name":"n","time":"2024-01-01T00:00:00Z"}`:            {"node_name", "time"},
		`{"process_connect":{},"node_name":"n"}`:                     {"process_connect"},
		`{"test":{"arg0":"1"}}`:                                      {"test"},
		`{"future_event":{"x":1},"process_other":{},"node_name":""}`: {"future_event", "process_other"},
	} {
		err := tetragonjson.DecodeJSON([]byte(in), &ev)
		var ue *tetragonjson.UnknownEventTypeError
		if !errors.As(err, &ue) || !slices.Equal(ue.Keys, keys) {
			t.Errorf("tetragonjson.DecodeJSON(%s) = %v, want unknown type with keys %v", in, err, keys)
		}
	}
	// Unknown fields inside a known event are tolerated.
	if err := tetragonjson.DecodeJSON([]byte(`{"process_exec":{"process":{"pid":1,"new_field":[1]}},"extra":true}`), &ev); err != nil {
		t.Errorf("unknown fields: %v", err)
	}
	if ev.GetProcessExec().GetProcess().GetPid().GetValue() != 1 {
		t.Errorf("decoded %v", ev.String())
	}
}

func TestDecodeResetsEvent(t *testing.T) {
	lines := testenv.ReadCorpus(t, "real/docs-use-cases--filename-access.jsonl")
	exec := testenv.ReadCorpus(t, "real/docs-concepts--events.jsonl")
	var reused, fresh tetragon.GetEventsResponse
	if err := tetragonjson.DecodeJSON(lines[0].Data, &reused); err != nil {
		t.Fatal(err)
	}
	if err := tetragonjson.DecodeJSON(exec[0].Data, &reused); err != nil {
		t.Fatal(err)
	}
	if err := tetragonjson.DecodeJSON(exec[0].Data, &fresh); err != nil {
		t.Fatal(err)
	}
	if !proto.Equal(&reused, &fresh) {
		t.Error("decoding into a used event kept old fields")
	}
	if EventType(&reused) != TypeProcessExec {
		t.Errorf("EventType = %q", EventType(&reused))
	}
}

func TestResourceGrouping(t *testing.T) {
	// Node kind-control-plane: xwing (9 events), demo-app/test-pod (1) and
	// host processes (3): three resources.
	var inputs [][]byte
	for _, l := range testenv.ReadCorpus(t, "real/*.jsonl") {
		if bytes.Contains(l.Data, []byte(`"node_name":"kind-control-plane"`)) {
			inputs = append(inputs, l.Data)
		}
	}
	if len(inputs) != 13 {
		t.Fatalf("%d kind-control-plane events, want 13", len(inputs))
	}
	b := NewBatch(Options{})
	var ev tetragon.GetEventsResponse
	for _, in := range inputs {
		if err := tetragonjson.DecodeJSON(in, &ev); err != nil {
			t.Fatal(err)
		}
		if err := b.Add(&ev, in, observedAt); err != nil {
			t.Fatal(err)
		}
	}
	logs := b.Flush()
	if n := logs.ResourceLogs().Len(); n != 3 {
		t.Fatalf("%d ResourceLogs, want 3", n)
	}
	got := map[string]int{}
	for i := 0; i < 3; i++ {
		rl := logs.ResourceLogs().At(i)
		pod, _ := rl.Resource().Attributes().Get(attrkey.K8sPodName)
		got[pod.Str()] = rl.ScopeLogs().At(0).LogRecords().Len()
		wantStr(t, rl.Resource().Attributes(), attrkey.K8sNodeName, "kind-control-plane")
	}
	want := map[string]int{"xwing": 9, "test-pod": 1, "": 3}
	for k, n := range want {
		if got[k] != n {
			t.Errorf("resource %q: %d records, want %d (all: %v)", k, got[k], n, got)
		}
	}
	// A fresh batch after Flush starts empty and regroups.
	if b.Len() != 0 || b.Flush().ResourceLogs().Len() != 0 {
		t.Error("batch not empty after Flush")
	}
}

func TestResourceGroupingByDocker(t *testing.T) {
	mk := func(docker string) *tetragon.GetEventsResponse {
		return &tetragon.GetEventsResponse{NodeName: "n", Event: &tetragon.GetEventsResponse_ProcessExec{
			ProcessExec: &tetragon.ProcessExec{Process: &tetragon.Process{Binary: "/bin/sh", Docker: docker}}}}
	}
	b := NewBatch(Options{})
	for _, d := range []string{"aaa", "bbb", "aaa", ""} {
		if err := b.Add(mk(d), nil, observedAt); err != nil {
			t.Fatal(err)
		}
	}
	if n := b.Flush().ResourceLogs().Len(); n != 3 {
		t.Errorf("%d ResourceLogs for two containers and the host, want 3", n)
	}
}

func TestBodyModes(t *testing.T) {
	line := testenv.ReadCorpus(t, "real/docs-concepts--events.jsonl")[0].Data
	r := mapLine(t, line, Options{Body: BodyJSON})
	if r.rec.Body().Type() != pcommon.ValueTypeStr || r.rec.Body().Str() != string(line) {
		t.Errorf("body=json does not hold the raw line")
	}
	r = mapLine(t, line, Options{Body: BodyNone})
	if r.rec.Body().Type() != pcommon.ValueTypeEmpty {
		t.Errorf("body=none: %s", r.rec.Body().Type())
	}
	if v, _ := r.attrs.Get(attrkey.ProcessPID); v.Int() != 52699 {
		t.Error("body=none lost attributes")
	}
	// Without a raw line, body=json marshals the event; it must decode back equal.
	var ev tetragon.GetEventsResponse
	if err := tetragonjson.DecodeJSON(line, &ev); err != nil {
		t.Fatal(err)
	}
	r = mapEvent(t, &ev, nil, Options{Body: BodyJSON})
	var back tetragon.GetEventsResponse
	if err := tetragonjson.DecodeJSON([]byte(r.rec.Body().Str()), &back); err != nil {
		t.Fatal(err)
	}
	if !proto.Equal(&ev, &back) {
		t.Error("marshalled body=json does not round trip")
	}
	if !strings.Contains(r.rec.Body().Str(), `"node_name"`) {
		t.Errorf("marshalled body does not use proto names: %.100s", r.rec.Body().Str())
	}
	// Add must not keep the caller's raw buffer.
	buf := bytes.Clone(line)
	b := NewBatch(Options{Body: BodyJSON})
	if err := b.Add(&ev, buf, observedAt); err != nil {
		t.Fatal(err)
	}
	for i := range buf {
		buf[i] = 'x'
	}
	if records(b.Flush())[0].rec.Body().Str() != string(line) {
		t.Error("body=json aliases the caller's buffer")
	}
}

func TestAddUnknown(t *testing.T) {
	b := NewBatch(Options{})
	var ue *tetragonjson.UnknownEventTypeError
	if err := b.Add(&tetragon.GetEventsResponse{NodeName: "n"}, nil, observedAt); !errors.As(err, &ue) {
		t.Errorf("empty event: %v", err)
	}
	err := b.Add(&tetragon.GetEventsResponse{Event: &tetragon.GetEventsResponse_Test{Test: &tetragon.Test{Arg0: 1}}}, nil, observedAt)
	if !errors.As(err, &ue) || !slices.Equal(ue.Keys, []string{"test"}) {
		t.Errorf("test event: %v", err)
	}
	// A typed nil oneof member is no event either.
	if err := b.Add(&tetragon.GetEventsResponse{Event: &tetragon.GetEventsResponse_ProcessExec{}}, nil, observedAt); !errors.As(err, &ue) {
		t.Errorf("nil process_exec: %v", err)
	}
	if b.Len() != 0 {
		t.Errorf("Len = %d", b.Len())
	}
}

func TestEncodeErrorsReachBatch(t *testing.T) {
	b := NewBatch(Options{Body: BodyJSON})
	ev := &tetragon.GetEventsResponse{Event: &tetragon.GetEventsResponse_ProcessExec{
		ProcessExec: &tetragon.ProcessExec{Process: &tetragon.Process{Binary: "\xff"}}}}
	if err := b.Add(ev, nil, observedAt); err == nil {
		t.Error("invalid UTF-8 accepted")
	}
	if b.Len() != 0 {
		t.Error("a failed event was added")
	}
}

// TestTypesAreTheEventOneof holds Types equal to the members of the
// GetEventsResponse event oneof other than Tetragon's internal "test" event:
// tetragonjson.HasEvent (what DecodeJSON accepts as an event) is written
// against the oneof rather than this list, and the two must agree.
func TestTypesAreTheEventOneof(t *testing.T) {
	fields := (&tetragon.GetEventsResponse{}).ProtoReflect().Descriptor().Oneofs().ByName("event").Fields()
	var members []string
	for i := 0; i < fields.Len(); i++ {
		if name := string(fields.Get(i).Name()); name != "test" {
			members = append(members, name)
		}
	}
	got := append([]string(nil), Types...)
	sort.Strings(got)
	sort.Strings(members)
	if !slices.Equal(got, members) {
		t.Errorf("Types %v, event oneof members %v: update Types (and the mapping) for the API version", got, members)
	}
}
