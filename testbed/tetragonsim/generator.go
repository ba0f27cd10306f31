// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package tetragonsim

import (
	"encoding/base64"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"time"

	"github.com/cilium/tetragon/api/v1/tetragon"
	"google.golang.org/protobuf/types/known/timestamppb"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// DefaultNodeName is the node_name of generated events.
const DefaultNodeName = "sim-worker-1"

// GeneratorConfig configures NewGenerator.
type GeneratorConfig struct {
	// Scenario is one of Scenarios(); "demo" when empty.
	Scenario string
	// Seed makes the sequence of events deterministic (their content; times follow Clock).
	Seed uint64
	// NodeName of the simulated node; DefaultNodeName when empty.
	NodeName string
	// Clock stamps the events; time.Now when nil.
	Clock func() time.Time
}

// Generator produces synthetic Tetragon events shaped like a real agent's on one Kubernetes
// node: pods of Deployments, DaemonSets, StatefulSets and CronJobs with their container start-up,
// process trees with parents and ancestors, exec probes, file-access and tcp_connect kprobes and
// syscall tracepoints, and, depending on the scenario, attack chains inside pods.
// Events are built when they are taken, so their times are current even at a low rate.
type Generator struct {
	rng      *rand.Rand
	clock    func() time.Time
	node     string
	boot     time.Time
	scenario scenario

	nextHostPID uint32
	last        time.Time
	queue       []step
	produced    uint64

	kernel, systemd, containerd, kubelet, cron, sshd *proc
	pods                                             []*pod
	nextAttack                                       uint64
	attackRound                                      int
}

// step builds one event at time now.
type step func(now time.Time) *tetragon.GetEventsResponse

type scenario struct {
	name string
	// plan appends the next episode to the queue.
	plan func(g *Generator)
}

// Scenarios lists the generator scenarios.
func Scenarios() []string {
	return []string{"demo", "benign", "attack", "exec-heavy", "file-access", "syscalls"}
}

// NewGenerator returns a generator for cfg.
func NewGenerator(cfg GeneratorConfig) (*Generator, error) {
	if cfg.Scenario == "" {
		cfg.Scenario = "demo"
	}
	sc, ok := scenarios[cfg.Scenario]
	if !ok {
		return nil, fmt.Errorf("unknown scenario %q (have %v)", cfg.Scenario, Scenarios())
	}
	if cfg.NodeName == "" {
		cfg.NodeName = DefaultNodeName
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	g := &Generator{
		rng:      rand.New(rand.NewPCG(cfg.Seed, 0x7e7a60)),
		clock:    cfg.Clock,
		node:     cfg.NodeName,
		scenario: sc,
	}
	now := g.clock()
	g.last = now
	// The node has been up for a few days; pods started hours ago.
	g.boot = now.Add(-time.Duration(3*24+g.rng.IntN(96)) * time.Hour).Truncate(time.Millisecond)
	g.nextHostPID = 180000 + uint32(g.rng.IntN(20000))
	g.buildHost()
	g.buildPods(now)
	return g, nil
}

// Next returns the next event.
func (g *Generator) Next() *tetragon.GetEventsResponse {
	for len(g.queue) == 0 {
		g.scenario.plan(g)
	}
	s := g.queue[0]
	g.queue[0] = nil
	g.queue = g.queue[1:]
	now := g.clock()
	if now.Before(g.last) {
		now = g.last
	}
	g.last = now
	ev := s(now)
	ev.NodeName = g.node
	ev.Time = timestamppb.New(now)
	g.produced++
	return ev
}

func (g *Generator) add(steps ...step) { g.queue = append(g.queue, steps...) }

// ---- processes ---------------------------------------------------------------------------

type proc struct {
	pb     *tetragon.Process
	parent *proc
	pod    *pod
	nsPID  uint32
	inInit bool
}

// ph is a handle on a process that an earlier step of an episode creates.
type ph struct{ p *proc }

func (h *ph) get() *proc { return h.p }

func fixed(p *proc) *ph { return &ph{p: p} }

type execOpts struct {
	binary, args, cwd string
	uid               uint32
	// reexec replaces the process image of an existing process (same pid, flags without clone).
	reexec *ph
	// pod of the new process; nil inherits the parent's. host forces a host process.
	pod  *pod
	host bool
	// initTree overrides the in_init_tree inheritance (runc init, exec'd processes).
	initTree *bool
	probe    bool
}

func boolp(b bool) *bool { return &b }

func (g *Generator) hostPID() uint32 {
	g.nextHostPID += 1 + uint32(g.rng.IntN(7))
	if g.nextHostPID > 4_000_000 {
		g.nextHostPID = 300 + uint32(g.rng.IntN(1000))
	}
	return g.nextHostPID
}

func (g *Generator) execID(ktime time.Duration, pid uint32) string {
	return base64.StdEncoding.EncodeToString(fmt.Appendf(nil, "%s:%d:%d", g.node, ktime.Nanoseconds(), pid))
}

// newProc creates the process an exec event reports, started at start.
func (g *Generator) newProc(parent *proc, o execOpts, start time.Time) *proc {
	p := &proc{parent: parent}
	switch {
	case o.host:
	case o.pod != nil:
		p.pod = o.pod
	case o.reexec != nil:
		p.pod = o.reexec.get().pod
	case parent != nil:
		p.pod = parent.pod
	}
	var pid uint32
	flags := "execve"
	if o.reexec != nil {
		old := o.reexec.get()
		pid, p.nsPID, p.inInit = old.pb.Pid.GetValue(), old.nsPID, old.inInit
	} else {
		pid = g.hostPID()
		flags = "execve clone"
		if p.pod != nil {
			p.nsPID = p.pod.nextNsPID()
			p.inInit = parent != nil && parent.pod == p.pod && parent.inInit
		}
	}
	if o.initTree != nil {
		p.inInit = *o.initTree
	}
	cwd := o.cwd
	if cwd == "" {
		cwd = "/"
		if parent != nil && parent.pb.Cwd != "" {
			cwd = parent.pb.Cwd
		}
	}
	if cwd == "/" {
		flags = "execve rootcwd" + flags[len("execve"):]
	}
	p.pb = g.processPB(p, pid, o.uid, cwd, o.binary, o.args, flags, start, o.probe)
	return p
}

// existingProc is a process Tetragon found in /proc at start-up.
func (g *Generator) existingProc(parent *proc, pd *pod, pid, uid uint32, binary, args, cwd string, start time.Time, inInit bool) *proc {
	p := &proc{parent: parent, pod: pd, inInit: inInit}
	if pd != nil {
		p.nsPID = pd.nextNsPID()
	}
	p.pb = g.processPB(p, pid, uid, cwd, binary, args, "procFS", start, false)
	return p
}

func (g *Generator) processPB(p *proc, pid, uid uint32, cwd, binary, args, flags string, start time.Time, probe bool) *tetragon.Process {
	ktime := start.Sub(g.boot)
	pb := &tetragon.Process{
		ExecId:     g.execID(ktime, pid),
		Pid:        wrapperspb.UInt32(pid),
		Tid:        wrapperspb.UInt32(pid),
		Uid:        wrapperspb.UInt32(uid),
		Cwd:        cwd,
		Binary:     binary,
		Arguments:  args,
		Flags:      flags,
		StartTime:  timestamppb.New(start),
		Auid:       wrapperspb.UInt32(4294967295),
		InInitTree: wrapperspb.Bool(p.inInit),
		ProcessCredentials: &tetragon.ProcessCredentials{
			Uid: wrapperspb.UInt32(uid), Gid: wrapperspb.UInt32(uid), Euid: wrapperspb.UInt32(uid),
			Egid: wrapperspb.UInt32(uid), Suid: wrapperspb.UInt32(uid), Sgid: wrapperspb.UInt32(uid),
			Fsuid: wrapperspb.UInt32(uid), Fsgid: wrapperspb.UInt32(uid),
		},
	}
	if p.parent != nil {
		pb.ParentExecId = p.parent.pb.ExecId
	} else {
		pb.ParentExecId = pb.ExecId
	}
	switch {
	case uid != 0:
		pb.Cap = &tetragon.Capabilities{}
	case p.pod == nil || p.pod.spec.privileged:
		pb.Cap = &tetragon.Capabilities{Permitted: allCaps, Effective: allCaps}
	default:
		pb.Cap = &tetragon.Capabilities{Permitted: containerCaps, Effective: containerCaps}
	}
	if p.pod == nil {
		pb.Ns = hostNamespaces
	} else {
		pb.Ns = p.pod.ns
		pb.Docker = p.pod.docker
		pb.Pod = p.pod.pbPod(p.nsPID, probe)
	}
	return pb
}

// ancestors lists the ancestors beyond the parent, nearest first, up to (not including) the kernel.
func ancestors(p *proc) []*tetragon.Process {
	if p.parent == nil {
		return nil
	}
	var out []*tetragon.Process
	for a := p.parent.parent; a != nil && a.pb.Pid.GetValue() != 0; a = a.parent {
		out = append(out, a.pb)
	}
	return out
}

func parentPB(p *proc) *tetragon.Process {
	if p.parent == nil {
		return nil
	}
	return p.parent.pb
}

// ---- event steps --------------------------------------------------------------------------

// exec starts a process (the parent handle must be resolved by then) and reports it.
func (g *Generator) exec(h, parent *ph, o execOpts) step {
	return func(now time.Time) *tetragon.GetEventsResponse {
		start := now.Add(-time.Duration(1+g.rng.IntN(60)) * time.Microsecond)
		p := g.newProc(parent.get(), o, start)
		h.p = p
		return &tetragon.GetEventsResponse{Event: &tetragon.GetEventsResponse_ProcessExec{ProcessExec: &tetragon.ProcessExec{
			Process: p.pb, Parent: parentPB(p), Ancestors: ancestors(p),
		}}}
	}
}

func (g *Generator) exit(h *ph, status uint32, signal string) step {
	return func(now time.Time) *tetragon.GetEventsResponse {
		p := h.get()
		return &tetragon.GetEventsResponse{Event: &tetragon.GetEventsResponse_ProcessExit{ProcessExit: &tetragon.ProcessExit{
			Process: p.pb, Parent: parentPB(p), Ancestors: ancestors(p),
			Status: status, Signal: signal, Time: timestamppb.New(now),
		}}}
	}
}

type hook struct {
	policy, message string
	tags            []string
}

var (
	hookFileMonitoring = hook{"file-monitoring", "File access (security_file_permission)", []string{"observability.filesystem"}}
	hookSensitiveFile  = hook{"sensitive-files", "Access to a sensitive file", []string{"observability.filesystem", "sensitive-files"}}
	hookNetwork        = hook{"network-monitoring", "Outbound TCP connection", []string{"observability.network"}}
	hookOpenat         = hook{"sensitive-file-access", "Sensitive file opened (openat)", []string{"observability.filesystem", "sensitive-files"}}
	hookSetnsTP        = hook{"privileged-syscalls", "setns called (namespace change)", []string{"observability.namespaces"}}
	hookPtrace         = hook{"privileged-syscalls", "ptrace called", []string{"observability.process-injection"}}
	hookMount          = hook{"privileged-syscalls", "mount called", []string{"observability.filesystem", "container-escape"}}
	hookUnshare        = hook{"privileged-syscalls", "unshare called (namespace creation)", []string{"observability.namespaces"}}
	hookPivotRoot      = hook{"privileged-syscalls", "pivot_root called", []string{"observability.filesystem"}}
	hookRawSyscall     = hook{"raw-syscalls-sensitive", "Sensitive syscall (raw_syscalls)", []string{"observability.syscalls"}}
	hookConnectTP      = hook{"network-connect", "Outbound connect (IPv4/IPv6)", []string{"observability.network"}}
	hookExecWritable   = hook{"exec-from-writable-dirs", "execve of a binary in a world-writable or unusual location", []string{"observability.process", "drop-and-execute"}}
	hookModules        = hook{"kernel-modules", "Kernel module loading", []string{"observability.kernel", "kernel-modules"}}
	hookNamespaceKP    = hook{"namespace-access", "Namespace change (setns)", []string{"observability.namespaces"}}
	hookFileMetadata   = hook{"ors-tp-file-metadata", "File mode or links changed", []string{"observability.filesystem"}}
	hookFileModify     = hook{"ors-tp-file-modify", "File renamed, removed or truncated", []string{"observability.filesystem"}}
	hookSocket         = hook{"ors-tp-network", "Packet or raw socket created", []string{"observability.network"}}
)

// PolicyNames lists the tracing policies the generated hook events name.
func PolicyNames() []string {
	var out []string
	for _, h := range []hook{hookFileMonitoring, hookSensitiveFile, hookNetwork, hookOpenat, hookSetnsTP,
		hookRawSyscall, hookConnectTP, hookExecWritable, hookModules, hookNamespaceKP, hookFileMetadata, hookFileModify, hookSocket} {
		if !slices.Contains(out, h.policy) {
			out = append(out, h.policy)
		}
	}
	slices.Sort(out)
	return out
}

func (g *Generator) kprobe(h *ph, fn string, hk hook, ret *tetragon.KprobeArgument, args ...*tetragon.KprobeArgument) step {
	return func(time.Time) *tetragon.GetEventsResponse {
		p := h.get()
		k := &tetragon.ProcessKprobe{
			Process: p.pb, Parent: parentPB(p), Ancestors: ancestors(p),
			FunctionName: fn, Args: args, Return: ret,
			Action: tetragon.KprobeAction_KPROBE_ACTION_POST, PolicyName: hk.policy,
			Message: hk.message, Tags: hk.tags,
		}
		if ret != nil {
			k.ReturnAction = tetragon.KprobeAction_KPROBE_ACTION_POST
		}
		return &tetragon.GetEventsResponse{Event: &tetragon.GetEventsResponse_ProcessKprobe{ProcessKprobe: k}}
	}
}

func (g *Generator) tracepoint(h *ph, subsys, event string, hk hook, args ...*tetragon.KprobeArgument) step {
	return func(time.Time) *tetragon.GetEventsResponse {
		p := h.get()
		return &tetragon.GetEventsResponse{Event: &tetragon.GetEventsResponse_ProcessTracepoint{ProcessTracepoint: &tetragon.ProcessTracepoint{
			Process: p.pb, Parent: parentPB(p), Ancestors: ancestors(p),
			Subsys: subsys, Event: event, Args: args,
			Action: tetragon.KprobeAction_KPROBE_ACTION_POST, PolicyName: hk.policy,
			Message: hk.message, Tags: hk.tags,
		}}}
	}
}

// Kprobe argument helpers.
func intArg(v int32) *tetragon.KprobeArgument {
	return &tetragon.KprobeArgument{Arg: &tetragon.KprobeArgument_IntArg{IntArg: v}}
}
func longArg(v int64) *tetragon.KprobeArgument {
	return &tetragon.KprobeArgument{Arg: &tetragon.KprobeArgument_LongArg{LongArg: v}}
}
func sizeArg(v uint64) *tetragon.KprobeArgument {
	return &tetragon.KprobeArgument{Arg: &tetragon.KprobeArgument_SizeArg{SizeArg: v}}
}
func uintArg(v uint32) *tetragon.KprobeArgument {
	return &tetragon.KprobeArgument{Arg: &tetragon.KprobeArgument_UintArg{UintArg: v}}
}
func stringArg(v string) *tetragon.KprobeArgument {
	return &tetragon.KprobeArgument{Arg: &tetragon.KprobeArgument_StringArg{StringArg: v}}
}
func fileArg(path, perm string) *tetragon.KprobeArgument {
	return &tetragon.KprobeArgument{Arg: &tetragon.KprobeArgument_FileArg{FileArg: &tetragon.KprobeFile{Path: path, Permission: perm}}}
}
func syscallArg(id uint32) *tetragon.KprobeArgument {
	return &tetragon.KprobeArgument{Arg: &tetragon.KprobeArgument_SyscallId{SyscallId: &tetragon.SyscallId{Id: id, Abi: "x64"}}}
}

// Permission masks of security_file_permission.
const (
	mayWrite = 2
	mayRead  = 4
)

// Open flags.
const (
	oRDONLY  = 0
	oWRONLY  = 1
	oCREAT   = 0o100
	oAPPEND  = 0o2000
	oCLOEXEC = 0o2000000
)

// fileAccess is a security_file_permission kprobe.
func (g *Generator) fileAccess(h *ph, hk hook, path string, mask int32) step {
	perm := "-rw-r--r--"
	switch {
	case path == "/etc/shadow":
		perm = "-rw-r-----"
	case path == "/tmp/xmrig":
		perm = "-rwxr-xr-x"
	}
	return g.kprobe(h, "security_file_permission", hk, intArg(0), fileArg(path, perm), intArg(mask))
}

func (g *Generator) openat(h *ph, path string, flags int32) step {
	return g.tracepoint(h, "syscalls", "sys_enter_openat", hookOpenat, intArg(-100), stringArg(path), intArg(flags))
}

// tcpConnect is a tcp_connect kprobe from the process's pod IP (or the node IP).
func (g *Generator) tcpConnect(h *ph, daddr string, dport uint32) step {
	return func(now time.Time) *tetragon.GetEventsResponse {
		p := h.get()
		saddr := nodeIP
		if p.pod != nil && !p.pod.spec.hostNetwork {
			saddr = p.pod.ip
		}
		sock := &tetragon.KprobeSock{
			Family: "AF_INET", Type: "SOCK_STREAM", Protocol: "IPPROTO_TCP",
			Saddr: saddr, Daddr: daddr, Sport: 32768 + uint32(g.rng.IntN(28000)), Dport: dport,
			Cookie: g.rng.Uint64() >> 16, State: "TCP_SYN_SENT",
		}
		return g.kprobe(h, "tcp_connect", hookNetwork, nil,
			&tetragon.KprobeArgument{Arg: &tetragon.KprobeArgument_SockArg{SockArg: sock}})(now)
	}
}

func (g *Generator) connectTP(h *ph, daddr string, dport uint32) step {
	return g.tracepoint(h, "syscalls", "sys_enter_connect", hookConnectTP,
		intArg(int32(3+g.rng.IntN(20))),
		&tetragon.KprobeArgument{Arg: &tetragon.KprobeArgument_SockaddrArg{SockaddrArg: &tetragon.KprobeSockaddr{Family: "AF_INET", Addr: daddr, Port: dport}}},
		intArg(16))
}

func (g *Generator) rawSyscall(h *ph, id uint32, a ...uint64) step {
	args := []*tetragon.KprobeArgument{syscallArg(id)}
	for i := 0; i < 6; i++ {
		var v uint64
		if i < len(a) {
			v = a[i]
		}
		args = append(args, sizeArg(v))
	}
	return g.tracepoint(h, "raw_syscalls", "sys_enter", hookRawSyscall, args...)
}

// Namespace types of setns/unshare.
const (
	cloneNewNS     = 0x00020000
	cloneNewCgroup = 0x02000000
	cloneNewUTS    = 0x04000000
	cloneNewIPC    = 0x08000000
	cloneNewPID    = 0x20000000
	cloneNewNet    = 0x40000000
)

// Syscall numbers (x86-64).
const (
	sysPtrace      = 101
	sysUnshare     = 272
	sysSetns       = 308
	sysFinitModule = 313
	ptraceAttach   = 16
)

func (g *Generator) setnsTP(h *ph, fd, nstype int32) step {
	return g.tracepoint(h, "syscalls", "sys_enter_setns", hookSetnsTP, intArg(fd), intArg(nstype))
}

// ---- randomness helpers --------------------------------------------------------------------

func pick[T any](g *Generator, xs []T) T { return xs[g.rng.IntN(len(xs))] }

func (g *Generator) chance(p float64) bool { return g.rng.Float64() < p }

const hexDigits = "0123456789abcdef"

func (g *Generator) hex(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = hexDigits[g.rng.IntN(16)]
	}
	return string(b)
}

const podSuffixChars = "bcdfghjklmnpqrstvwxz2456789"

func (g *Generator) podSuffix(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = podSuffixChars[g.rng.IntN(len(podSuffixChars))]
	}
	return string(b)
}

func (g *Generator) uuid() string {
	h := g.hex(32)
	return h[:8] + "-" + h[8:12] + "-4" + h[13:16] + "-a" + h[17:20] + "-" + h[20:]
}

func (g *Generator) digits(n int) string {
	s := ""
	for i := 0; i < n; i++ {
		s += strconv.Itoa(g.rng.IntN(10))
	}
	return s
}

// ---- capabilities and namespaces -----------------------------------------------------------

var (
	allCaps = func() []tetragon.CapabilitiesType {
		out := make([]tetragon.CapabilitiesType, 0, 41)
		for i := 0; i <= 40; i++ {
			out = append(out, tetragon.CapabilitiesType(i))
		}
		return out
	}()
	containerCaps = []tetragon.CapabilitiesType{
		tetragon.CapabilitiesType_CAP_CHOWN, tetragon.CapabilitiesType_DAC_OVERRIDE,
		tetragon.CapabilitiesType_CAP_FOWNER, tetragon.CapabilitiesType_CAP_FSETID,
		tetragon.CapabilitiesType_CAP_KILL, tetragon.CapabilitiesType_CAP_SETGID,
		tetragon.CapabilitiesType_CAP_SETUID, tetragon.CapabilitiesType_CAP_SETPCAP,
		tetragon.CapabilitiesType_CAP_NET_BIND_SERVICE, tetragon.CapabilitiesType_CAP_NET_RAW,
		tetragon.CapabilitiesType_CAP_SYS_CHROOT, tetragon.CapabilitiesType_CAP_MKNOD,
		tetragon.CapabilitiesType_CAP_AUDIT_WRITE, tetragon.CapabilitiesType_CAP_SETFCAP,
	}
	hostNamespaces = &tetragon.Namespaces{
		Uts: hostNS(4026531838), Ipc: hostNS(4026531839), Mnt: hostNS(4026531841),
		Pid: hostNS(4026531836), PidForChildren: hostNS(4026531836), Net: hostNS(4026531840),
		TimeForChildren: hostNS(4026531834), Time: hostNS(4026531834),
		Cgroup: hostNS(4026531835), User: hostNS(4026531837),
	}
)

func hostNS(inum uint32) *tetragon.Namespace { return &tetragon.Namespace{Inum: inum, IsHost: true} }

func (g *Generator) podNamespaces(hostNetwork, hostPID bool) *tetragon.Namespaces {
	next := func() *tetragon.Namespace { return &tetragon.Namespace{Inum: 4026532000 + uint32(g.rng.IntN(900000))} }
	ns := &tetragon.Namespaces{
		Uts: next(), Ipc: next(), Mnt: next(), Pid: next(), Net: next(), Cgroup: next(),
		Time: hostNamespaces.Time, TimeForChildren: hostNamespaces.TimeForChildren, User: hostNamespaces.User,
	}
	ns.PidForChildren = ns.Pid
	if hostNetwork {
		ns.Net, ns.Uts = hostNamespaces.Net, hostNamespaces.Uts
	}
	if hostPID {
		ns.Pid, ns.PidForChildren = hostNamespaces.Pid, hostNamespaces.PidForChildren
	}
	return ns
}
