// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package eventmap

import (
	"errors"
	"math"
	"testing"
	"time"

	"github.com/cilium/tetragon/api/v1/tetragon"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/attrkey"
)

// The real corpus has no tracepoint, lsm, uprobe, usdt, loader,
// rate_limit_info, sock_arg or binary_properties events; these are built from
// the API types instead.

var synthTime = timestamppb.New(time.Date(2025, 5, 6, 7, 8, 9, 123456000, time.UTC))

func u32(v uint32) *wrapperspb.UInt32Value { return wrapperspb.UInt32(v) }

func synthProcess() *tetragon.Process {
	return &tetragon.Process{
		ExecId: "ZXhlYw==", Pid: u32(4242), Uid: u32(1000), Cwd: "/tmp", Binary: "/usr/bin/passwd",
		Arguments: "--stdin alice", Flags: "execve clone", StartTime: synthTime, Auid: u32(1000),
		ParentExecId: "cGFyZW50", InInitTree: wrapperspb.Bool(true),
		Cap: &tetragon.Capabilities{
			Effective: []tetragon.CapabilitiesType{tetragon.CapabilitiesType_CAP_SYS_ADMIN, tetragon.CapabilitiesType_CAP_NET_RAW},
			Permitted: []tetragon.CapabilitiesType{tetragon.CapabilitiesType_CAP_SYS_ADMIN},
		},
		ProcessCredentials: &tetragon.ProcessCredentials{Uid: u32(1000), Euid: u32(0), Suid: u32(0), Gid: u32(1000),
			Securebits: []tetragon.SecureBitsType{tetragon.SecureBitsType_SecBitKeepCaps}},
		BinaryProperties: &tetragon.BinaryProperties{
			Setuid: u32(0), Setgid: u32(0),
			PrivilegesChanged: []tetragon.ProcessPrivilegesChanged{tetragon.ProcessPrivilegesChanged_PRIVILEGES_RAISED_EXEC_FILE_SETUID},
			File:              &tetragon.FileProperties{Inode: &tetragon.InodeProperties{Number: 1234, Links: u32(0)}, Path: "/usr/bin/passwd"},
		},
		Pod: &tetragon.Pod{
			Namespace: "shop", Name: "web-7d9f-abcde", Uid: "pod-uid-1", Workload: "web", WorkloadKind: "Deployment",
			PodLabels: map[string]string{"app": "web"}, PodAnnotations: map[string]string{"a": "b"},
			Container: &tetragon.Container{Id: "cri-o://0123456789abcdef", Name: "nginx",
				Image: &tetragon.Image{Id: "sha256:ff", Name: "nginx:1.27"}, StartTime: synthTime, Pid: u32(1),
				MaybeExecProbe: true, SecurityContext: &tetragon.SecurityContext{Privileged: true}},
		},
		Docker: "0123456789abcde",
		Ns:     &tetragon.Namespaces{Mnt: &tetragon.Namespace{Inum: 4026531841, IsHost: true}},
		Tid:    u32(4242), User: &tetragon.UserRecord{Name: "alice"},
		EnvironmentVariables: []*tetragon.EnvVar{{Key: "PATH", Value: "/bin"}},
	}
}

func synthParent() *tetragon.Process {
	return &tetragon.Process{ExecId: "cGFyZW50", Pid: u32(4000), Binary: "/bin/bash", Arguments: "-i"}
}

func synthAncestors() []*tetragon.Process {
	return []*tetragon.Process{{Binary: "/usr/sbin/sshd"}, {Binary: "/sbin/init"}}
}

func envelope(ev *tetragon.GetEventsResponse) *tetragon.GetEventsResponse {
	ev.NodeName = "node-1"
	ev.Time = synthTime
	return ev
}

// allArgs holds one argument of every KprobeArgument type.
func allArgs() []*tetragon.KprobeArgument {
	ns := &tetragon.Namespace{Inum: 4026531837, IsHost: true}
	return []*tetragon.KprobeArgument{
		{Arg: &tetragon.KprobeArgument_StringArg{StringArg: "s"}, Label: "name"},
		{Arg: &tetragon.KprobeArgument_IntArg{IntArg: -5}},
		{Arg: &tetragon.KprobeArgument_SkbArg{SkbArg: &tetragon.KprobeSkb{Hash: 1, Len: 60, Saddr: "10.0.0.1", Daddr: "10.0.0.2", Sport: 1, Dport: 2, Proto: 6, Protocol: "IPPROTO_TCP", Family: "AF_INET"}}},
		{Arg: &tetragon.KprobeArgument_SizeArg{SizeArg: math.MaxUint64}},
		{Arg: &tetragon.KprobeArgument_BytesArg{BytesArg: []byte{0, 1, 2, 0xff}}},
		{Arg: &tetragon.KprobeArgument_PathArg{PathArg: &tetragon.KprobePath{Mount: "/", Path: "/etc/hosts", Flags: "O_RDONLY", Permission: "-rw-r--r--"}}},
		{Arg: &tetragon.KprobeArgument_FileArg{FileArg: &tetragon.KprobeFile{Path: "/etc/shadow"}}},
		{Arg: &tetragon.KprobeArgument_TruncatedBytesArg{TruncatedBytesArg: &tetragon.KprobeTruncatedBytes{BytesArg: []byte("abc"), OrigSize: 1 << 40}}},
		{Arg: &tetragon.KprobeArgument_SockArg{SockArg: &tetragon.KprobeSock{Family: "AF_INET6", Protocol: "IPPROTO_UDP", Daddr: "::1", Dport: 53}}},
		{Arg: &tetragon.KprobeArgument_CredArg{CredArg: &tetragon.KprobeCred{Effective: []tetragon.CapabilitiesType{tetragon.CapabilitiesType_CAP_SYS_ADMIN}}}},
		{Arg: &tetragon.KprobeArgument_LongArg{LongArg: math.MinInt64}},
		{Arg: &tetragon.KprobeArgument_BpfAttrArg{BpfAttrArg: &tetragon.KprobeBpfAttr{ProgType: "BPF_PROG_TYPE_KPROBE", InsnCnt: 12, ProgName: "p"}}},
		{Arg: &tetragon.KprobeArgument_PerfEventArg{PerfEventArg: &tetragon.KprobePerfEvent{KprobeFunc: "f", Type: "t", Config: 1, ProbeOffset: 2}}},
		{Arg: &tetragon.KprobeArgument_BpfMapArg{BpfMapArg: &tetragon.KprobeBpfMap{MapType: "BPF_MAP_TYPE_HASH", KeySize: 4, ValueSize: 8, MaxEntries: 1024, MapName: "m"}}},
		{Arg: &tetragon.KprobeArgument_UintArg{UintArg: math.MaxUint32}},
		{Arg: &tetragon.KprobeArgument_UserNamespaceArg{UserNamespaceArg: &tetragon.KprobeUserNamespace{Level: wrapperspb.Int32(0), Owner: u32(0), Group: u32(0), Ns: ns}}},
		{Arg: &tetragon.KprobeArgument_CapabilityArg{CapabilityArg: &tetragon.KprobeCapability{Value: wrapperspb.Int32(21), Name: "CAP_SYS_ADMIN"}}},
		{Arg: &tetragon.KprobeArgument_ProcessCredentialsArg{ProcessCredentialsArg: &tetragon.ProcessCredentials{Uid: u32(0), Caps: &tetragon.Capabilities{Permitted: []tetragon.CapabilitiesType{tetragon.CapabilitiesType_CAP_NET_RAW}}, UserNs: &tetragon.UserNamespace{Level: wrapperspb.Int32(1), Ns: ns}}}},
		{Arg: &tetragon.KprobeArgument_UserNsArg{UserNsArg: &tetragon.UserNamespace{Uid: u32(0), Ns: &tetragon.Namespace{}}}},
		{Arg: &tetragon.KprobeArgument_ModuleArg{ModuleArg: &tetragon.KernelModule{Name: "mod", SignatureOk: wrapperspb.Bool(false), Tainted: []tetragon.TaintedBitsType{tetragon.TaintedBitsType_TAINT_UNSIGNED_MODULE}}}},
		{Arg: &tetragon.KprobeArgument_KernelCapTArg{KernelCapTArg: "000001ffffffffff"}},
		{Arg: &tetragon.KprobeArgument_CapInheritableArg{CapInheritableArg: "0"}},
		{Arg: &tetragon.KprobeArgument_CapPermittedArg{CapPermittedArg: "1"}},
		{Arg: &tetragon.KprobeArgument_CapEffectiveArg{CapEffectiveArg: "2"}},
		{Arg: &tetragon.KprobeArgument_LinuxBinprmArg{LinuxBinprmArg: &tetragon.KprobeLinuxBinprm{Path: "/tmp/x", Flags: "f", Permission: "-rwxr-xr-x"}}},
		{Arg: &tetragon.KprobeArgument_NetDevArg{NetDevArg: &tetragon.KprobeNetDev{Name: "eth0"}}},
		{Arg: &tetragon.KprobeArgument_BpfCmdArg{BpfCmdArg: tetragon.BpfCmd_BPF_PROG_LOAD}},
		{Arg: &tetragon.KprobeArgument_BpfCmdArg{BpfCmdArg: tetragon.BpfCmd(999)}},
		{Arg: &tetragon.KprobeArgument_SyscallId{SyscallId: &tetragon.SyscallId{Id: 313, Abi: "x64"}}},
		{Arg: &tetragon.KprobeArgument_SockaddrArg{SockaddrArg: &tetragon.KprobeSockaddr{Family: "AF_INET", Addr: "1.2.3.4", Port: 80}}},
		{Arg: &tetragon.KprobeArgument_BpfProgArg{BpfProgArg: &tetragon.KprobeBpfProg{ProgType: "BPF_PROG_TYPE_XDP"}}},
		{Arg: &tetragon.KprobeArgument_ErrorArg{ErrorArg: &tetragon.KprobeError{Message: "NULL"}}},
		{Arg: &tetragon.KprobeArgument_SockaddrunArg{SockaddrunArg: &tetragon.KprobeSockaddrUn{Family: "AF_UNIX", Path: "/run/x.sock"}}},
		{Arg: &tetragon.KprobeArgument_IntArg{IntArg: 0}}, // zero oneof values are still present
		{Arg: &tetragon.KprobeArgument_StringArg{StringArg: ""}},
		{Label: "label-only"},
		{Arg: &tetragon.KprobeArgument_FileArg{FileArg: &tetragon.KprobeFile{}}},
	}
}

func syntheticEvents() []*tetragon.GetEventsResponse {
	return []*tetragon.GetEventsResponse{
		envelope(&tetragon.GetEventsResponse{ClusterName: "prod", NodeLabels: map[string]string{"zone": "a"},
			AggregationInfo: &tetragon.AggregationInfo{Count: 3},
			Event: &tetragon.GetEventsResponse_ProcessExec{ProcessExec: &tetragon.ProcessExec{
				Process: synthProcess(), Parent: synthParent(), Ancestors: synthAncestors()}}}),
		envelope(&tetragon.GetEventsResponse{Event: &tetragon.GetEventsResponse_ProcessExit{ProcessExit: &tetragon.ProcessExit{
			Process: synthProcess(), Parent: synthParent(), Signal: "SIGKILL", Status: 137, Time: synthTime}}}),
		envelope(&tetragon.GetEventsResponse{Event: &tetragon.GetEventsResponse_ProcessKprobe{ProcessKprobe: &tetragon.ProcessKprobe{
			Process: synthProcess(), Parent: synthParent(), Ancestors: synthAncestors(), FunctionName: "tcp_connect",
			Args: []*tetragon.KprobeArgument{{Arg: &tetragon.KprobeArgument_SockArg{SockArg: &tetragon.KprobeSock{
				Family: "AF_INET", Type: "SOCK_STREAM", Protocol: "IPPROTO_TCP", Saddr: "10.0.0.5", Daddr: "93.184.216.34",
				Sport: 40000, Dport: 443, Cookie: math.MaxUint64 - 1, State: "TCP_SYN_SENT"}}}},
			Return: &tetragon.KprobeArgument{Arg: &tetragon.KprobeArgument_IntArg{IntArg: 0}},
			Action: tetragon.KprobeAction_KPROBE_ACTION_POST, PolicyName: "connect", Tags: []string{"net"},
			KernelStackTrace: []*tetragon.StackTraceEntry{{Address: 0xffffffff81000000, Symbol: "tcp_connect"}},
			ReturnAction:     tetragon.KprobeAction_KPROBE_ACTION_POST, Message: "outbound",
			Data: []*tetragon.KprobeArgument{{Arg: &tetragon.KprobeArgument_IntArg{IntArg: 7}}}}}}),
		envelope(&tetragon.GetEventsResponse{Event: &tetragon.GetEventsResponse_ProcessKprobe{ProcessKprobe: &tetragon.ProcessKprobe{
			Process: synthProcess(), FunctionName: "everything", Args: allArgs(),
			Return: &tetragon.KprobeArgument{Arg: &tetragon.KprobeArgument_FileArg{FileArg: &tetragon.KprobeFile{Path: "/r"}}, Label: "ret"},
			Action: tetragon.KprobeAction_KPROBE_ACTION_SIGKILL}}}),
		envelope(&tetragon.GetEventsResponse{Event: &tetragon.GetEventsResponse_ProcessTracepoint{ProcessTracepoint: &tetragon.ProcessTracepoint{
			Process: synthProcess(), Parent: synthParent(), Ancestors: synthAncestors(), Subsys: "syscalls", Event: "sys_enter_openat",
			Args: []*tetragon.KprobeArgument{
				{Arg: &tetragon.KprobeArgument_IntArg{IntArg: -100}},
				{Arg: &tetragon.KprobeArgument_StringArg{StringArg: "/etc/shadow"}},
				{Arg: &tetragon.KprobeArgument_IntArg{IntArg: 0}},
			},
			PolicyName: "sensitive-files", Action: tetragon.KprobeAction_KPROBE_ACTION_POST, Tags: []string{"file", "credential"}}}}),
		envelope(&tetragon.GetEventsResponse{Event: &tetragon.GetEventsResponse_ProcessTracepoint{ProcessTracepoint: &tetragon.ProcessTracepoint{
			Process: synthProcess(), Subsys: "syscalls", Event: "sys_enter_renameat2",
			Args: []*tetragon.KprobeArgument{ // a policy that captured only the names, not in hook order
				{Arg: &tetragon.KprobeArgument_StringArg{StringArg: "/etc/old"}},
				{Arg: &tetragon.KprobeArgument_StringArg{StringArg: "/etc/new"}},
			}}}}),
		envelope(&tetragon.GetEventsResponse{Event: &tetragon.GetEventsResponse_ProcessLsm{ProcessLsm: &tetragon.ProcessLsm{
			Process: synthProcess(), Parent: synthParent(), FunctionName: "file_open", PolicyName: "lsm-files",
			Args:   []*tetragon.KprobeArgument{{Arg: &tetragon.KprobeArgument_FileArg{FileArg: &tetragon.KprobeFile{Path: "/etc/sudoers", Permission: "-r--r-----"}}}},
			Action: tetragon.KprobeAction_KPROBE_ACTION_POST, ImaHash: "sha256:abcd"}}}),
		envelope(&tetragon.GetEventsResponse{Event: &tetragon.GetEventsResponse_ProcessUprobe{ProcessUprobe: &tetragon.ProcessUprobe{
			Process: synthProcess(), Parent: synthParent(), Path: "/bin/bash", Symbol: "readline", PolicyName: "bash",
			Args:   []*tetragon.KprobeArgument{{Arg: &tetragon.KprobeArgument_StringArg{StringArg: "whoami"}}},
			Offset: 0x1234, Action: tetragon.KprobeAction_KPROBE_ACTION_POST}}}),
		envelope(&tetragon.GetEventsResponse{Event: &tetragon.GetEventsResponse_ProcessUsdt{ProcessUsdt: &tetragon.ProcessUsdt{
			Process: synthProcess(), Path: "/usr/bin/python3", Provider: "python", Name: "function__entry", PolicyName: "py",
			Args: []*tetragon.KprobeArgument{{Arg: &tetragon.KprobeArgument_StringArg{StringArg: "main.py"}}}}}}),
		envelope(&tetragon.GetEventsResponse{Event: &tetragon.GetEventsResponse_ProcessLoader{ProcessLoader: &tetragon.ProcessLoader{
			Process: synthProcess(), Path: "/usr/lib/libc.so.6", Buildid: []byte{0xde, 0xad, 0xbe, 0xef}, Parent: synthParent()}}}),
		envelope(&tetragon.GetEventsResponse{Event: &tetragon.GetEventsResponse_RateLimitInfo{RateLimitInfo: &tetragon.RateLimitInfo{
			NumberOfDroppedProcessEvents: 42}}}),
		envelope(&tetragon.GetEventsResponse{Event: &tetragon.GetEventsResponse_ProcessThrottle{ProcessThrottle: &tetragon.ProcessThrottle{
			Type: tetragon.ThrottleType_THROTTLE_START, Cgroup: "abc\x00\x00\x00"}}}),
	}
}

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
		if err := DecodeJSON(line, &back); err != nil {
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

func TestUnknownEventTypeErrorMessage(t *testing.T) {
	err := error(&UnknownEventTypeError{Keys: []string{"process_connect"}})
	var ue *UnknownEventTypeError
	if !errors.As(err, &ue) || err.Error() != "unknown tetragon event type (keys: process_connect)" {
		t.Errorf("%v", err)
	}
	if (&UnknownEventTypeError{}).Error() == "" {
		t.Error("empty message")
	}
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
