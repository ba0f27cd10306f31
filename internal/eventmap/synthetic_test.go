// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package eventmap

import (
	"math"
	"testing"

	"github.com/cilium/tetragon/api/v1/tetragon"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/attrkey"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/synthevents"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/tetragonjson"
)

// The real corpus has no tracepoint, lsm, uprobe, usdt, loader,
// rate_limit_info, sock_arg or binary_properties events; internal/synthevents
// builds them from the API types instead.

var synthTime = synthevents.Time

func syntheticEvents() []*tetragon.GetEventsResponse { return synthevents.Events() }

func synth(t *testing.T, typ string) *tetragon.GetEventsResponse {
	t.Helper()
	for _, ev := range syntheticEvents() {
		if EventType(ev) == typ {
			return ev
		}
	}
	t.Fatalf("no synthetic %s", typ)
	return nil
}

func TestSyntheticEveryTypeMapsAndRoundTrips(t *testing.T) {
	seen := map[string]bool{}
	for _, ev := range syntheticEvents() {
		typ := EventType(ev)
		seen[typ] = true
		// Through JSON, as the receiver would read it from the export file.
		line, err := protojson.MarshalOptions{UseProtoNames: true}.Marshal(ev)
		if err != nil {
			t.Fatal(err)
		}
		var back tetragon.GetEventsResponse
		if err := tetragonjson.DecodeJSON(line, &back); err != nil {
			t.Fatalf("%s: %v", typ, err)
		}
		if !proto.Equal(ev, &back) {
			t.Errorf("%s: JSON round trip changed the event", typ)
		}
		r := mapEvent(t, &back, line, Options{})
		if r.rec.EventName() != attrkey.EventNamePrefix+typ {
			t.Errorf("EventName %q for %s", r.rec.EventName(), typ)
		}
		if !r.rec.Timestamp().AsTime().Equal(synthTime.AsTime()) {
			t.Errorf("%s: Timestamp %v", typ, r.rec.Timestamp())
		}
		// Body map is the same whether the event came from JSON or gRPC.
		direct := mapEvent(t, ev, nil, Options{})
		if !direct.rec.Body().Equal(r.rec.Body()) || !direct.attrs.Equal(r.attrs) {
			t.Errorf("%s: mapping differs between decoded and in-memory event", typ)
		}
		if diff := compareJSONLine(t, line, r.rec.Body()); diff != "" {
			t.Errorf("%s: %s", typ, diff)
		}
	}
	for _, typ := range []string{TypeProcessExec, TypeProcessExit, TypeProcessKprobe, TypeProcessTracepoint, TypeProcessLsm,
		TypeProcessUprobe, TypeProcessUsdt, TypeProcessLoader, TypeProcessThrottle, TypeRateLimitInfo} {
		if !seen[typ] {
			t.Errorf("no synthetic %s", typ)
		}
	}
}

func TestSyntheticProcessAttributes(t *testing.T) {
	r := mapEvent(t, synth(t, TypeProcessExec), nil, Options{ClusterName: "ignored"})
	wantStr(t, r.res, attrkey.K8sClusterName, "prod") // the event's own cluster wins
	wantStr(t, r.res, attrkey.K8sPodUID, "pod-uid-1")
	wantStr(t, r.res, attrkey.ContainerID, "0123456789abcdef")
	wantStr(t, r.res, attrkey.K8sWorkloadName, "web")
	wantStr(t, r.res, attrkey.K8sWorkloadKind, "Deployment")
	wantStr(t, r.res, attrkey.K8sDeploymentName, "web")
	wantStr(t, r.res, attrkey.K8sPodLabelPrefix+"app", "web")

	wantInt(t, r.attrs, attrkey.ProcessUserID, 0) // euid, not uid 1000
	wantInt(t, r.attrs, attrkey.ProcessRealUserID, 1000)
	wantInt(t, r.attrs, attrkey.ProcessSavedUserID, 0)
	wantStr(t, r.attrs, attrkey.ProcessCreationTime, "2025-05-06T07:08:09.123456Z")
	wantBool(t, r.attrs, attrkey.TetragonInInitTree, true)
	wantBool(t, r.attrs, attrkey.TetragonExecProbe, true)
	wantBool(t, r.attrs, attrkey.TetragonPrivileged, true)
	wantInt(t, r.attrs, attrkey.TetragonAUID, 1000)
	wantRaw(t, r.attrs, attrkey.TetragonCapsEffective, []any{"CAP_SYS_ADMIN", "CAP_NET_RAW"})
	wantRaw(t, r.attrs, attrkey.TetragonCapsPermitted, []any{"CAP_SYS_ADMIN"})
	wantInt(t, r.attrs, attrkey.TetragonBinarySetuid, 0)
	wantInt(t, r.attrs, attrkey.TetragonBinarySetgid, 0)
	wantRaw(t, r.attrs, attrkey.TetragonPrivilegesChanged, []any{"PRIVILEGES_RAISED_EXEC_FILE_SETUID"})
	wantInt(t, r.attrs, attrkey.TetragonInodeLinks, 0)
	wantRaw(t, r.attrs, attrkey.TetragonAncestorBinaries, []any{"/usr/sbin/sshd", "/sbin/init"})
	wantInt(t, r.attrs, attrkey.ProcessParentPID, 4000)
	wantStr(t, r.attrs, attrkey.ProcessParentCommandLine, "/bin/bash -i")

	// Wrapper absent (links unset) but file present: still 0, fileless rules rely on it.
	ev := synth(t, TypeProcessExec)
	ev.GetProcessExec().Process.BinaryProperties = &tetragon.BinaryProperties{File: &tetragon.FileProperties{Path: "/dev/fd/4"}}
	r = mapEvent(t, ev, nil, Options{})
	wantInt(t, r.attrs, attrkey.TetragonInodeLinks, 0)
	wantAbsent(t, r.attrs, attrkey.TetragonBinarySetuid, attrkey.TetragonBinarySetgid, attrkey.TetragonPrivilegesChanged)
	ev.GetProcessExec().Process.BinaryProperties = nil
	r = mapEvent(t, ev, nil, Options{})
	wantAbsent(t, r.attrs, attrkey.TetragonInodeLinks)

	// Without credentials the plain uid is the user id; binary without arguments.
	ev = synth(t, TypeProcessExec)
	p := ev.GetProcessExec().Process
	p.ProcessCredentials, p.Arguments, p.Cap = nil, "", nil
	r = mapEvent(t, ev, nil, Options{})
	wantInt(t, r.attrs, attrkey.ProcessUserID, 1000)
	wantStr(t, r.attrs, attrkey.ProcessCommandLine, "/usr/bin/passwd")
	wantAbsent(t, r.attrs, attrkey.ProcessRealUserID, attrkey.TetragonArguments, attrkey.TetragonCapsEffective)
}

func TestSyntheticWorkloadKinds(t *testing.T) {
	for kind, key := range map[string]string{
		"Deployment": attrkey.K8sDeploymentName, "DaemonSet": attrkey.K8sDaemonSetName,
		"StatefulSet": attrkey.K8sStatefulSetName, "ReplicaSet": attrkey.K8sReplicaSetName,
		"Job": attrkey.K8sJobName, "CronJob": attrkey.K8sCronJobName, "Pod": "", "Rollout": "",
	} {
		ev := synth(t, TypeProcessExec)
		ev.GetProcessExec().Process.Pod.WorkloadKind = kind
		r := mapEvent(t, ev, nil, Options{})
		wantStr(t, r.res, attrkey.K8sWorkloadKind, kind)
		wantStr(t, r.res, attrkey.K8sWorkloadName, "web")
		for _, other := range []string{attrkey.K8sDeploymentName, attrkey.K8sDaemonSetName, attrkey.K8sStatefulSetName,
			attrkey.K8sReplicaSetName, attrkey.K8sJobName, attrkey.K8sCronJobName} {
			if other == key {
				wantStr(t, r.res, other, "web")
			} else {
				wantAbsent(t, r.res, other)
			}
		}
	}
	for id, want := range map[string]string{"containerd://abc": "abc", "docker://abc": "abc", "cri-o://abc": "abc", "abc": "abc"} {
		ev := synth(t, TypeProcessExec)
		ev.GetProcessExec().Process.Pod.Container.Id = id
		wantStr(t, mapEvent(t, ev, nil, Options{}).res, attrkey.ContainerID, want)
	}
}

func TestSyntheticExit(t *testing.T) {
	r := mapEvent(t, synth(t, TypeProcessExit), nil, Options{})
	wantInt(t, r.attrs, attrkey.ProcessExitCode, 137)
	wantStr(t, r.attrs, attrkey.TetragonExitSignal, "SIGKILL")
	wantStr(t, r.attrs, attrkey.ProcessExitTime, "2025-05-06T07:08:09.123456Z")
}

func TestSyntheticConnectKprobe(t *testing.T) {
	r := mapEvent(t, synth(t, TypeProcessKprobe), nil, Options{})
	wantStr(t, r.attrs, attrkey.NetworkPeerAddress, "93.184.216.34")
	wantInt(t, r.attrs, attrkey.NetworkPeerPort, 443)
	wantStr(t, r.attrs, attrkey.NetworkTransport, "tcp")
	wantStr(t, r.attrs, attrkey.TetragonHook, "tcp_connect")
	wantRaw(t, r.attrs, attrkey.TetragonTags, []any{"net"})
	wantInt(t, r.attrs, attrkey.TetragonReturn, 0)
	args, _ := r.attrs.Get(attrkey.TetragonArgs)
	sock, _ := args.Slice().At(0).Map().Get("sock_arg")
	wantInt(t, sock.Map(), "dport", 443)
	wantInt(t, sock.Map(), "cookie", -2) // uint64 max-1 keeps its bits
	wantAbsent(t, r.attrs, attrkey.FilePath)
}

func TestSyntheticAllArgumentTypes(t *testing.T) {
	var ev *tetragon.GetEventsResponse
	for _, e := range syntheticEvents() {
		if e.GetProcessKprobe().GetFunctionName() == "everything" {
			ev = e
		}
	}
	r := mapEvent(t, ev, nil, Options{})
	args, _ := r.attrs.Get(attrkey.TetragonArgs)
	want := []any{
		map[string]any{"string_arg": "s", "label": "name"},
		map[string]any{"int_arg": int64(-5)},
		map[string]any{"skb_arg": map[string]any{"hash": int64(1), "len": int64(60), "saddr": "10.0.0.1", "daddr": "10.0.0.2",
			"sport": int64(1), "dport": int64(2), "proto": int64(6), "protocol": "IPPROTO_TCP", "family": "AF_INET"}},
		map[string]any{"size_arg": int64(-1)},
		map[string]any{"bytes_arg": "AAEC/w=="},
		map[string]any{"path_arg": map[string]any{"mount": "/", "path": "/etc/hosts", "flags": "O_RDONLY", "permission": "-rw-r--r--"}},
		map[string]any{"file_arg": map[string]any{"path": "/etc/shadow"}},
		map[string]any{"truncated_bytes_arg": map[string]any{"bytes_arg": "YWJj", "orig_size": int64(1 << 40)}},
		map[string]any{"sock_arg": map[string]any{"family": "AF_INET6", "protocol": "IPPROTO_UDP", "daddr": "::1", "dport": int64(53)}},
		map[string]any{"cred_arg": map[string]any{"effective": []any{"CAP_SYS_ADMIN"}}},
		map[string]any{"long_arg": int64(math.MinInt64)},
		map[string]any{"bpf_attr_arg": map[string]any{"ProgType": "BPF_PROG_TYPE_KPROBE", "InsnCnt": int64(12), "ProgName": "p"}},
		map[string]any{"perf_event_arg": map[string]any{"KprobeFunc": "f", "Type": "t", "Config": int64(1), "ProbeOffset": int64(2)}},
		map[string]any{"bpf_map_arg": map[string]any{"MapType": "BPF_MAP_TYPE_HASH", "KeySize": int64(4), "ValueSize": int64(8), "MaxEntries": int64(1024), "MapName": "m"}},
		map[string]any{"uint_arg": int64(math.MaxUint32)},
		map[string]any{"user_namespace_arg": map[string]any{"level": int64(0), "owner": int64(0), "group": int64(0), "ns": map[string]any{"inum": int64(4026531837), "is_host": true}}},
		map[string]any{"capability_arg": map[string]any{"value": int64(21), "name": "CAP_SYS_ADMIN"}},
		map[string]any{"process_credentials_arg": map[string]any{"uid": int64(0), "caps": map[string]any{"permitted": []any{"CAP_NET_RAW"}},
			"user_ns": map[string]any{"level": int64(1), "ns": map[string]any{"inum": int64(4026531837), "is_host": true}}}},
		map[string]any{"user_ns_arg": map[string]any{"uid": int64(0), "ns": map[string]any{}}},
		map[string]any{"module_arg": map[string]any{"name": "mod", "signature_ok": false, "tainted": []any{"TAINT_UNSIGNED_MODULE"}}},
		map[string]any{"kernel_cap_t_arg": "000001ffffffffff"},
		map[string]any{"cap_inheritable_arg": "0"},
		map[string]any{"cap_permitted_arg": "1"},
		map[string]any{"cap_effective_arg": "2"},
		map[string]any{"linux_binprm_arg": map[string]any{"path": "/tmp/x", "flags": "f", "permission": "-rwxr-xr-x"}},
		map[string]any{"net_dev_arg": map[string]any{"name": "eth0"}},
		map[string]any{"bpf_cmd_arg": "BPF_PROG_LOAD"},
		map[string]any{"bpf_cmd_arg": int64(999)},
		map[string]any{"syscall_id": map[string]any{"id": int64(313), "abi": "x64"}},
		map[string]any{"sockaddr_arg": map[string]any{"family": "AF_INET", "addr": "1.2.3.4", "port": int64(80)}},
		map[string]any{"bpf_prog_arg": map[string]any{"ProgType": "BPF_PROG_TYPE_XDP"}},
		map[string]any{"error_arg": map[string]any{"Message": "NULL"}},
		map[string]any{"sockaddrun_arg": map[string]any{"family": "AF_UNIX", "path": "/run/x.sock"}},
		map[string]any{"int_arg": int64(0)},
		map[string]any{"string_arg": ""},
		map[string]any{"label": "label-only"},
		map[string]any{"file_arg": map[string]any{}},
	}
	wantRaw(t, r.attrs, attrkey.TetragonArgs, want)
	if args.Slice().Len() != len(want) {
		t.Fatalf("%d args", args.Slice().Len())
	}
	// Well-known values come from the first argument of each kind.
	wantStr(t, r.attrs, attrkey.FilePath, "/etc/hosts")
	wantStr(t, r.attrs, attrkey.TetragonFilePermission, "-rw-r--r--")
	wantStr(t, r.attrs, attrkey.NetworkPeerAddress, "::1")
	wantInt(t, r.attrs, attrkey.NetworkPeerPort, 53)
	wantStr(t, r.attrs, attrkey.NetworkTransport, "udp")
	wantRaw(t, r.attrs, attrkey.TetragonReturn, map[string]any{"path": "/r"})
	wantStr(t, r.attrs, attrkey.TetragonAction, "KPROBE_ACTION_SIGKILL")
}

func TestSyntheticTracepoints(t *testing.T) {
	r := mapEvent(t, synth(t, TypeProcessTracepoint), nil, Options{})
	wantStr(t, r.attrs, attrkey.TetragonSubsys, "syscalls")
	wantStr(t, r.attrs, attrkey.TetragonEvent, "sys_enter_openat")
	wantStr(t, r.attrs, attrkey.TetragonHook, "syscalls/sys_enter_openat")
	wantStr(t, r.attrs, attrkey.FilePath, "/etc/shadow")
	wantStr(t, r.attrs, attrkey.TetragonPolicyName, "sensitive-files")
	wantRaw(t, r.attrs, attrkey.TetragonTags, []any{"file", "credential"})
	wantAbsent(t, r.attrs, attrkey.TetragonFunctionName, attrkey.TetragonReturn)

	var rename *tetragon.GetEventsResponse
	for _, e := range syntheticEvents() {
		if e.GetProcessTracepoint().GetEvent() == "sys_enter_renameat2" {
			rename = e
		}
	}
	wantStr(t, mapEvent(t, rename, nil, Options{}).attrs, attrkey.FilePath, "/etc/old")

	// A tracepoint outside the syscall table gets no file.path from strings.
	ev := synth(t, TypeProcessTracepoint)
	ev.GetProcessTracepoint().Event = "sys_enter_mount"
	wantAbsent(t, mapEvent(t, ev, nil, Options{}).attrs, attrkey.FilePath)
}

func TestSyntheticOtherHooks(t *testing.T) {
	r := mapEvent(t, synth(t, TypeProcessLsm), nil, Options{})
	wantStr(t, r.attrs, attrkey.TetragonFunctionName, "file_open")
	wantStr(t, r.attrs, attrkey.TetragonHook, "file_open")
	wantStr(t, r.attrs, attrkey.FilePath, "/etc/sudoers")
	wantStr(t, r.attrs, attrkey.TetragonFilePermission, "-r--r-----")
	wantStr(t, r.attrs, attrkey.TetragonPolicyName, "lsm-files")

	r = mapEvent(t, synth(t, TypeProcessUprobe), nil, Options{})
	wantStr(t, r.attrs, attrkey.TetragonFunctionName, "readline")
	wantStr(t, r.attrs, attrkey.TetragonHook, "readline")
	wantRaw(t, r.attrs, attrkey.TetragonArgs, []any{map[string]any{"string_arg": "whoami"}})

	r = mapEvent(t, synth(t, TypeProcessUsdt), nil, Options{})
	wantStr(t, r.attrs, attrkey.TetragonHook, "python/function__entry")
	wantStr(t, r.attrs, attrkey.TetragonPolicyName, "py")

	r = mapEvent(t, synth(t, TypeProcessLoader), nil, Options{})
	wantStr(t, r.attrs, attrkey.TetragonLoaderPath, "/usr/lib/libc.so.6")
	wantStr(t, r.attrs, attrkey.TetragonLoaderBuildID, "deadbeef")
	wantStr(t, r.attrs, attrkey.ProcessExecutablePath, "/usr/bin/passwd")

	r = mapEvent(t, synth(t, TypeRateLimitInfo), nil, Options{ClusterName: "c1"})
	wantInt(t, r.attrs, attrkey.TetragonRateLimitDropped, 42)
	wantStr(t, r.res, attrkey.K8sClusterName, "c1")
	if r.res.Len() != 2 {
		t.Errorf("rate_limit_info resource %v", r.res.AsRaw())
	}

	r = mapEvent(t, synth(t, TypeProcessThrottle), nil, Options{})
	wantStr(t, r.attrs, attrkey.TetragonThrottleCgroup, "abc")
	wantStr(t, r.attrs, attrkey.TetragonThrottleType, "THROTTLE_START")
}

func TestSyntheticBodyKeepsEverything(t *testing.T) {
	r := mapEvent(t, synth(t, TypeProcessExec), nil, Options{})
	body := r.rec.Body().Map()
	for _, path := range [][]string{
		{"cluster_name"}, {"node_labels", "zone"}, {"aggregation_info", "count"},
		{"process_exec", "process", "environment_variables"}, {"process_exec", "process", "user", "name"},
		{"process_exec", "process", "pod", "pod_annotations", "a"}, {"process_exec", "process", "ns", "mnt", "inum"},
		{"process_exec", "process", "process_credentials", "securebits"},
		{"process_exec", "process", "binary_properties", "file", "inode", "links"},
	} {
		m := body
		var v pcommon.Value
		for i, k := range path {
			var ok bool
			v, ok = m.Get(k)
			if !ok {
				t.Errorf("body lacks %v", path)
				break
			}
			if i < len(path)-1 {
				m = v.Map()
			}
		}
	}
	env, _ := body.Get("process_exec")
	p, _ := env.Map().Get("process")
	ev, _ := p.Map().Get("environment_variables")
	if got := ev.Slice().At(0).Map().AsRaw(); got["Key"] != "PATH" || got["Value"] != "/bin" {
		t.Errorf("environment_variables %v", got)
	}
}

func compareJSONLine(t *testing.T, line []byte, body pcommon.Value) string {
	t.Helper()
	var want any
	if err := jsonUnmarshalNumber(line, &want); err != nil {
		t.Fatal(err)
	}
	return compareJSON("", want, body.AsRaw())
}

func TestSyntheticPeerPartial(t *testing.T) {
	ev := synth(t, TypeProcessKprobe)
	ev.GetProcessKprobe().Args = []*tetragon.KprobeArgument{
		{Arg: &tetragon.KprobeArgument_SockArg{SockArg: &tetragon.KprobeSock{}}}, // nothing known: skipped
		{Arg: &tetragon.KprobeArgument_SockaddrArg{SockaddrArg: &tetragon.KprobeSockaddr{Family: "AF_INET6", Addr: "::1"}}},
		{Arg: &tetragon.KprobeArgument_SockaddrArg{SockaddrArg: &tetragon.KprobeSockaddr{Addr: "10.0.0.1", Port: 22}}},
	}
	r := mapEvent(t, ev, nil, Options{})
	wantStr(t, r.attrs, attrkey.NetworkPeerAddress, "::1")
	wantAbsent(t, r.attrs, attrkey.NetworkPeerPort, attrkey.NetworkTransport)
}
