// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

// Package synthevents builds Tetragon events from the API types for tests:
// the real corpus has no tracepoint, lsm, uprobe, usdt, loader,
// rate_limit_info, sock_arg or binary_properties events. It also loads the
// corpus, simulator and field-filtered events both packages test on, so that
// they test on the same ones. Used by the tests of internal/eventmap and
// internal/tetragonjson.
package synthevents

import (
	"math"
	"time"

	"github.com/cilium/tetragon/api/v1/tetragon"
	"google.golang.org/protobuf/types/known/timestamppb"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// Time is the time of every synthetic event and process start.
var Time = timestamppb.New(time.Date(2025, 5, 6, 7, 8, 9, 123456000, time.UTC))

func u32(v uint32) *wrapperspb.UInt32Value { return wrapperspb.UInt32(v) }

// Process is a process with every field set.
func Process() *tetragon.Process {
	return &tetragon.Process{
		ExecId: "ZXhlYw==", Pid: u32(4242), Uid: u32(1000), Cwd: "/tmp", Binary: "/usr/bin/passwd",
		Arguments: "--stdin alice", Flags: "execve clone", StartTime: Time, Auid: u32(1000),
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
				Image: &tetragon.Image{Id: "sha256:ff", Name: "nginx:1.27"}, StartTime: Time, Pid: u32(1),
				MaybeExecProbe: true, SecurityContext: &tetragon.SecurityContext{Privileged: true}},
		},
		Docker: "0123456789abcde",
		Ns:     &tetragon.Namespaces{Mnt: &tetragon.Namespace{Inum: 4026531841, IsHost: true}},
		Tid:    u32(4242), User: &tetragon.UserRecord{Name: "alice"},
		EnvironmentVariables: []*tetragon.EnvVar{{Key: "PATH", Value: "/bin"}},
	}
}

// Parent is a parent process.
func Parent() *tetragon.Process {
	return &tetragon.Process{ExecId: "cGFyZW50", Pid: u32(4000), Binary: "/bin/bash", Arguments: "-i"}
}

// Ancestors are two ancestor processes.
func Ancestors() []*tetragon.Process {
	return []*tetragon.Process{{Binary: "/usr/sbin/sshd"}, {Binary: "/sbin/init"}}
}

// Envelope sets the node name and time of ev and returns it.
func Envelope(ev *tetragon.GetEventsResponse) *tetragon.GetEventsResponse {
	ev.NodeName = "node-1"
	ev.Time = Time
	return ev
}

// AllArgs holds one argument of every KprobeArgument type.
func AllArgs() []*tetragon.KprobeArgument {
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

// Events holds one event of every type, with the rarer fields set.
func Events() []*tetragon.GetEventsResponse {
	return []*tetragon.GetEventsResponse{
		Envelope(&tetragon.GetEventsResponse{ClusterName: "prod", NodeLabels: map[string]string{"zone": "a"},
			AggregationInfo: &tetragon.AggregationInfo{Count: 3},
			Event: &tetragon.GetEventsResponse_ProcessExec{ProcessExec: &tetragon.ProcessExec{
				Process: Process(), Parent: Parent(), Ancestors: Ancestors()}}}),
		Envelope(&tetragon.GetEventsResponse{Event: &tetragon.GetEventsResponse_ProcessExit{ProcessExit: &tetragon.ProcessExit{
			Process: Process(), Parent: Parent(), Signal: "SIGKILL", Status: 137, Time: Time}}}),
		Envelope(&tetragon.GetEventsResponse{Event: &tetragon.GetEventsResponse_ProcessKprobe{ProcessKprobe: &tetragon.ProcessKprobe{
			Process: Process(), Parent: Parent(), Ancestors: Ancestors(), FunctionName: "tcp_connect",
			Args: []*tetragon.KprobeArgument{{Arg: &tetragon.KprobeArgument_SockArg{SockArg: &tetragon.KprobeSock{
				Family: "AF_INET", Type: "SOCK_STREAM", Protocol: "IPPROTO_TCP", Saddr: "10.0.0.5", Daddr: "93.184.216.34",
				Sport: 40000, Dport: 443, Cookie: math.MaxUint64 - 1, State: "TCP_SYN_SENT"}}}},
			Return: &tetragon.KprobeArgument{Arg: &tetragon.KprobeArgument_IntArg{IntArg: 0}},
			Action: tetragon.KprobeAction_KPROBE_ACTION_POST, PolicyName: "connect", Tags: []string{"net"},
			KernelStackTrace: []*tetragon.StackTraceEntry{{Address: 0xffffffff81000000, Symbol: "tcp_connect"}},
			ReturnAction:     tetragon.KprobeAction_KPROBE_ACTION_POST, Message: "outbound",
			Data: []*tetragon.KprobeArgument{{Arg: &tetragon.KprobeArgument_IntArg{IntArg: 7}}}}}}),
		Envelope(&tetragon.GetEventsResponse{Event: &tetragon.GetEventsResponse_ProcessKprobe{ProcessKprobe: &tetragon.ProcessKprobe{
			Process: Process(), FunctionName: "everything", Args: AllArgs(),
			Return: &tetragon.KprobeArgument{Arg: &tetragon.KprobeArgument_FileArg{FileArg: &tetragon.KprobeFile{Path: "/r"}}, Label: "ret"},
			Action: tetragon.KprobeAction_KPROBE_ACTION_SIGKILL}}}),
		Envelope(&tetragon.GetEventsResponse{Event: &tetragon.GetEventsResponse_ProcessTracepoint{ProcessTracepoint: &tetragon.ProcessTracepoint{
			Process: Process(), Parent: Parent(), Ancestors: Ancestors(), Subsys: "syscalls", Event: "sys_enter_openat",
			Args: []*tetragon.KprobeArgument{
				{Arg: &tetragon.KprobeArgument_IntArg{IntArg: -100}},
				{Arg: &tetragon.KprobeArgument_StringArg{StringArg: "/etc/shadow"}},
				{Arg: &tetragon.KprobeArgument_IntArg{IntArg: 0}},
			},
			PolicyName: "sensitive-files", Action: tetragon.KprobeAction_KPROBE_ACTION_POST, Tags: []string{"file", "credential"}}}}),
		Envelope(&tetragon.GetEventsResponse{Event: &tetragon.GetEventsResponse_ProcessTracepoint{ProcessTracepoint: &tetragon.ProcessTracepoint{
			Process: Process(), Subsys: "syscalls", Event: "sys_enter_renameat2",
			Args: []*tetragon.KprobeArgument{ // a policy that captured only the names, not in hook order
				{Arg: &tetragon.KprobeArgument_StringArg{StringArg: "/etc/old"}},
				{Arg: &tetragon.KprobeArgument_StringArg{StringArg: "/etc/new"}},
			}}}}),
		Envelope(&tetragon.GetEventsResponse{Event: &tetragon.GetEventsResponse_ProcessLsm{ProcessLsm: &tetragon.ProcessLsm{
			Process: Process(), Parent: Parent(), FunctionName: "file_open", PolicyName: "lsm-files",
			Args:   []*tetragon.KprobeArgument{{Arg: &tetragon.KprobeArgument_FileArg{FileArg: &tetragon.KprobeFile{Path: "/etc/sudoers", Permission: "-r--r-----"}}}},
			Action: tetragon.KprobeAction_KPROBE_ACTION_POST, ImaHash: "sha256:abcd"}}}),
		Envelope(&tetragon.GetEventsResponse{Event: &tetragon.GetEventsResponse_ProcessUprobe{ProcessUprobe: &tetragon.ProcessUprobe{
			Process: Process(), Parent: Parent(), Path: "/bin/bash", Symbol: "readline", PolicyName: "bash",
			Args:   []*tetragon.KprobeArgument{{Arg: &tetragon.KprobeArgument_StringArg{StringArg: "whoami"}}},
			Offset: 0x1234, Action: tetragon.KprobeAction_KPROBE_ACTION_POST}}}),
		Envelope(&tetragon.GetEventsResponse{Event: &tetragon.GetEventsResponse_ProcessUsdt{ProcessUsdt: &tetragon.ProcessUsdt{
			Process: Process(), Path: "/usr/bin/python3", Provider: "python", Name: "function__entry", PolicyName: "py",
			Args: []*tetragon.KprobeArgument{{Arg: &tetragon.KprobeArgument_StringArg{StringArg: "main.py"}}}}}}),
		Envelope(&tetragon.GetEventsResponse{Event: &tetragon.GetEventsResponse_ProcessLoader{ProcessLoader: &tetragon.ProcessLoader{
			Process: Process(), Path: "/usr/lib/libc.so.6", Buildid: []byte{0xde, 0xad, 0xbe, 0xef}, Parent: Parent()}}}),
		Envelope(&tetragon.GetEventsResponse{Event: &tetragon.GetEventsResponse_RateLimitInfo{RateLimitInfo: &tetragon.RateLimitInfo{
			NumberOfDroppedProcessEvents: 42}}}),
		Envelope(&tetragon.GetEventsResponse{Event: &tetragon.GetEventsResponse_ProcessThrottle{ProcessThrottle: &tetragon.ProcessThrottle{
			Type: tetragon.ThrottleType_THROTTLE_START, Cgroup: "abc\x00\x00\x00"}}}),
	}
}
