// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package tetragonsim

import (
	"fmt"
	"time"

	"github.com/cilium/tetragon/api/v1/tetragon"
)

// episode kinds of benign traffic, drawn by weight.
type episodeKind int

const (
	epFile episodeKind = iota
	epNetwork
	epChild
	epProbe
	epHostCron
	epKubelet
	epSyscalls
	epContainerStart
	epScriptBurst
	epFileBurst
)

type mix []struct {
	kind   episodeKind
	weight int
}

var (
	mixCluster = mix{{epFile, 25}, {epNetwork, 25}, {epChild, 12}, {epProbe, 18}, {epHostCron, 4},
		{epKubelet, 8}, {epSyscalls, 5}, {epContainerStart, 3}}
	mixExecHeavy  = mix{{epScriptBurst, 55}, {epChild, 20}, {epProbe, 10}, {epKubelet, 10}, {epContainerStart, 5}}
	mixFileAccess = mix{{epFileBurst, 75}, {epFile, 10}, {epChild, 5}, {epProbe, 5}, {epNetwork, 5}}
	mixSyscalls   = mix{{epSyscalls, 75}, {epProbe, 10}, {epNetwork, 5}, {epContainerStart, 5}, {epFile, 5}}
)

var scenarios = map[string]scenario{
	"demo": {name: "demo", plan: func(g *Generator) {
		switch {
		case g.produced == 0 && g.nextAttack == 0:
			// A rollout and a CronJob run show container start-up first.
			g.containerStart(g.workloadNamed("shop", "frontend"))
			g.containerStart(g.workloadNamed("batch", "nightly-report"))
			g.nextAttack = 120 + uint64(g.rng.IntN(60))
		case g.produced >= g.nextAttack:
			g.attack()
			g.nextAttack = g.produced + 2500 + uint64(g.rng.IntN(1500))
		default:
			g.benign(mixCluster)
		}
	}},
	"benign":      {name: "benign", plan: func(g *Generator) { g.benign(mixCluster) }},
	"attack":      {name: "attack", plan: planAttack},
	"exec-heavy":  {name: "exec-heavy", plan: func(g *Generator) { g.benign(mixExecHeavy) }},
	"file-access": {name: "file-access", plan: func(g *Generator) { g.benign(mixFileAccess) }},
	"syscalls":    {name: "syscalls", plan: func(g *Generator) { g.benign(mixSyscalls) }},
}

// planAttack alternates attack chains with a little benign context.
func planAttack(g *Generator) {
	if g.attackRound == 0 || g.chance(0.25) {
		g.attack()
		return
	}
	g.benign(mixCluster)
}

func (g *Generator) workloadNamed(ns, name string) *workloadSpec {
	for _, w := range workloads {
		if w.namespace == ns && w.name == name {
			return w
		}
	}
	panic("no workload " + ns + "/" + name)
}

func (g *Generator) benign(m mix) {
	total := 0
	for _, e := range m {
		total += e.weight
	}
	n := g.rng.IntN(total)
	kind := m[len(m)-1].kind
	for _, e := range m {
		if n < e.weight {
			kind = e.kind
			break
		}
		n -= e.weight
	}
	running := g.podsWhere(func(*workloadSpec) bool { return true })
	pd := pick(g, running)
	switch kind {
	case epFile:
		g.fileEpisode(pd, 1+g.rng.IntN(3))
	case epFileBurst:
		g.fileEpisode(pd, 5+g.rng.IntN(16))
	case epNetwork:
		g.networkEpisode(pd)
	case epChild:
		g.childEpisode(g.podsWhere(func(w *workloadSpec) bool { return len(w.children) > 0 }))
	case epProbe:
		g.probeEpisode(g.pickPod(func(w *workloadSpec) bool { return w.probe != nil }), false)
	case epHostCron:
		g.hostCronEpisode()
	case epKubelet:
		g.kubeletEpisode()
	case epSyscalls:
		g.syscallEpisode(pd)
	case epContainerStart:
		g.containerStart(pick(g, workloads))
	case epScriptBurst:
		g.scriptBurst()
	}
}

// then runs after after s has built its event.
func then(s step, after func()) step {
	return func(now time.Time) *tetragon.GetEventsResponse {
		ev := s(now)
		after()
		return ev
	}
}

// ---- benign episodes -----------------------------------------------------------------------

func (g *Generator) fileEpisode(pd *pod, n int) {
	w := pd.spec
	main := fixed(pd.main)
	paths := append(append([]string{}, w.reads...), w.writes...)
	if len(paths) == 0 {
		paths = []string{"/etc/hosts", "/etc/resolv.conf"}
	}
	for i := 0; i < n; i++ {
		p := pick(g, paths)
		mask := int32(mayRead)
		for _, wp := range w.writes {
			if wp == p {
				mask = mayWrite
			}
		}
		g.add(g.fileAccess(main, hookFileMonitoring, p, mask))
	}
	// Apps read their service account token and passwd entries: benign access to watched paths.
	if g.chance(0.15) {
		if w.uid == 0 || w.namespace == "kube-system" {
			tok := "/var/run/secrets/kubernetes.io/serviceaccount/token"
			g.add(g.fileAccess(main, hookSensitiveFile, tok, mayRead), g.openat(main, tok, oRDONLY|oCLOEXEC))
		} else {
			g.add(g.openat(main, "/etc/passwd", oRDONLY|oCLOEXEC))
		}
	}
}

func (g *Generator) networkEpisode(pd *pod) {
	eps := pd.spec.connects
	if len(eps) == 0 {
		eps = []endpoint{{"10.96.0.10", 53}}
	}
	main := fixed(pd.main)
	for i, n := 0, 1+g.rng.IntN(2); i < n; i++ {
		ep := pick(g, eps)
		g.add(g.tcpConnect(main, ep.ip, ep.port))
		if g.chance(0.3) {
			g.add(g.connectTP(main, ep.ip, ep.port))
		}
	}
}

func (g *Generator) childEpisode(pods []*pod) {
	if len(pods) == 0 {
		return
	}
	pd := pick(g, pods)
	c := pick(g, pd.spec.children)
	h := &ph{}
	g.add(g.exec(h, fixed(pd.main), execOpts{binary: c.bin, args: c.args, uid: pd.spec.uid}))
	if len(pd.spec.reads) > 0 && g.chance(0.5) {
		g.add(g.fileAccess(h, hookFileMonitoring, pick(g, pd.spec.reads), mayRead))
	}
	status := uint32(0)
	if g.chance(0.05) {
		status = 1
	}
	g.add(g.exit(h, status, ""))
}

// runcExecArgs are runc's arguments for `kubectl exec` and exec probes.
func (g *Generator) runcExecArgs(pd *pod, tty bool) string {
	a := "--root " + runcRoot + " --log " + shimTaskRoot + pd.cid + "/log.json --log-format json --systemd-cgroup exec --process /tmp/runc-process" + g.digits(9)
	if tty {
		a += " --console-socket /tmp/pty" + g.digits(9) + "/pty.sock"
	}
	return a + " --detach --pid-file " + shimTaskRoot + pd.cid + "/" + g.hex(64) + ".pid " + pd.cid
}

// probeEpisode is a kubelet exec probe: containerd-shim runs runc exec, which joins the
// container's namespaces and executes the probe command.
func (g *Generator) probeEpisode(pd *pod, withSetns bool) {
	if pd == nil {
		return
	}
	runc, pr := &ph{}, &ph{}
	g.add(g.exec(runc, fixed(pd.shim), execOpts{binary: "/usr/bin/runc", args: g.runcExecArgs(pd, false), host: true, cwd: shimTaskRoot + pd.cid}))
	if withSetns || g.chance(0.2) {
		for _, ns := range []int32{cloneNewIPC, cloneNewUTS, cloneNewNet, cloneNewPID, cloneNewNS} {
			g.add(g.setnsTP(runc, int32(5+g.rng.IntN(4)), ns))
		}
	}
	g.add(
		g.exec(pr, runc, execOpts{binary: pd.spec.probe.bin, args: pd.spec.probe.args, pod: pd, uid: pd.spec.uid,
			cwd: pd.spec.cwd, initTree: boolp(false), probe: true}),
		g.exit(pr, 0, ""),
		g.exit(runc, 0, ""),
	)
}

var cronJobs = []struct{ sh string }{
	{`-c "test -x /usr/sbin/anacron || { cd / && run-parts --report /etc/cron.hourly; }"`},
	{`-c "[ -x /usr/lib/php/sessionclean ] && /usr/lib/php/sessionclean"`},
	{`-c "/usr/sbin/logrotate /etc/logrotate.conf"`},
}

func (g *Generator) hostCronEpisode() {
	sh := &ph{}
	// cron forks (no exec, so no event) and the child runs the job through /bin/sh.
	job := pick(g, cronJobs)
	g.add(g.exec(sh, fixed(g.cron), execOpts{binary: "/bin/sh", args: job.sh, host: true}))
	for i, n := 0, 1+g.rng.IntN(3); i < n; i++ {
		c := &ph{}
		bin := pick(g, []cmd{{"/usr/bin/run-parts", "--report /etc/cron.hourly"}, {"/usr/sbin/logrotate", "/etc/logrotate.conf"},
			{"/usr/bin/find", "/var/lib/php/sessions -type f -cmin +24 -delete"}, {"/usr/bin/gzip", "-9 /var/log/syslog.1"}})
		g.add(g.exec(c, sh, execOpts{binary: bin.bin, args: bin.args, host: true}), g.exit(c, 0, ""))
	}
	g.add(g.exit(sh, 0, ""))
}

var kubeletCommands = []cmd{
	{"/usr/sbin/iptables", "-w 5 -W 100000 -N KUBE-KUBELET-CANARY -t mangle"},
	{"/usr/sbin/ip6tables", "-w 5 -W 100000 -N KUBE-KUBELET-CANARY -t nat"},
	{"/usr/bin/du", "-x -s -B 1 /var/lib/kubelet/pods/3f1c2a9e-5b6d-4c8e-9f0a-1b2c3d4e5f60/volumes/kubernetes.io~empty-dir/cache"},
	{"/usr/bin/mount", "-t tmpfs -o size=67108864 tmpfs /var/lib/kubelet/pods/8a7b6c5d-4e3f-4a1b-9c8d-7e6f5a4b3c2d/volumes/kubernetes.io~projected/kube-api-access-7xk2p"},
	{"/usr/bin/umount", "/var/lib/kubelet/pods/8a7b6c5d-4e3f-4a1b-9c8d-7e6f5a4b3c2d/volumes/kubernetes.io~projected/kube-api-access-7xk2p"},
}

func (g *Generator) kubeletEpisode() {
	h := &ph{}
	c := pick(g, kubeletCommands)
	g.add(g.exec(h, fixed(g.kubelet), execOpts{binary: c.bin, args: c.args, host: true}))
	if c.bin == "/usr/bin/mount" && g.chance(0.5) {
		g.add(g.tracepoint(h, "syscalls", "sys_enter_mount", hookMount, stringArg("tmpfs"),
			stringArg("/var/lib/kubelet/pods/8a7b6c5d-4e3f-4a1b-9c8d-7e6f5a4b3c2d/volumes/kubernetes.io~projected/kube-api-access-7xk2p"),
			stringArg("tmpfs"), sizeArg(0)))
	}
	g.add(g.exit(h, 0, ""))
}

var benignOpenatPaths = []string{"/etc/passwd", "/etc/group", "/etc/hosts", "/etc/resolv.conf", "/etc/nsswitch.conf", "/etc/ssl/certs/ca-certificates.crt"}

func (g *Generator) syscallEpisode(pd *pod) {
	main := fixed(pd.main)
	switch g.rng.IntN(5) {
	case 0:
		for i, n := 0, 1+g.rng.IntN(4); i < n; i++ {
			g.add(g.openat(main, pick(g, benignOpenatPaths), oRDONLY|oCLOEXEC))
		}
	case 1:
		if pd.spec.probe != nil {
			g.probeEpisode(pd, true)
		} else {
			g.add(g.rawSyscall(main, 56, 0x1200011, 0, 0, 0, 0)) // clone from the application
		}
	case 2:
		eps := pd.spec.connects
		if len(eps) == 0 {
			eps = []endpoint{{"10.96.0.10", 53}}
		}
		ep := pick(g, eps)
		g.add(g.connectTP(main, ep.ip, ep.port), g.rawSyscall(main, 42, 3, 0x7ffd4c3a1b20, 16))
	case 3:
		// containerd's shim and runc doing their namespace work for a new exec.
		g.add(g.rawSyscall(fixed(pd.shim), sysUnshare, cloneNewNS|cloneNewUTS|cloneNewIPC|cloneNewPID|cloneNewNet),
			g.rawSyscall(fixed(pd.shim), sysSetns, 6, cloneNewNS))
	default:
		g.add(g.tracepoint(main, "syscalls", "sys_enter_openat", hookOpenat, intArg(-100), stringArg(pick(g, benignOpenatPaths)), intArg(oRDONLY)))
		g.add(g.rawSyscall(main, 257, 0xffffff9c, 0x7f3a2c1b0000, 0x80000))
	}
}

var scriptCommands = []cmd{
	{"/usr/bin/sed", "-n s/^version=//p /app/VERSION"}, {"/usr/bin/awk", "-F, {s+=$3} END {print s} /tmp/orders.csv"},
	{"/bin/date", "+%Y-%m-%dT%H:%M:%S"}, {"/usr/bin/gzip", "-c /tmp/report.csv"}, {"/bin/grep", "-c ERROR /var/log/app.log"},
	{"/usr/bin/sort", "-u /tmp/ids.txt"}, {"/usr/bin/wc", "-l /tmp/orders.csv"}, {"/bin/mkdir", "-p /tmp/out"},
	{"/usr/bin/basename", "/app/report.py .py"}, {"/usr/bin/env", ""}, {"/usr/bin/tr", "-d \\r"}, {"/bin/cp", "/tmp/report.csv /tmp/out/"},
}

// scriptBurst is a shell script running many short commands, in a pod or on the host.
func (g *Generator) scriptBurst() {
	sh := &ph{}
	var parent *ph
	var pd *pod
	if g.chance(0.3) {
		parent = fixed(g.cron)
		g.add(g.exec(sh, parent, execOpts{binary: "/bin/sh", args: `-c "/usr/local/sbin/backup-etcd.sh"`, host: true}))
	} else {
		pd = g.pickPod(func(w *workloadSpec) bool { return w.shell != "" })
		if pd == nil {
			return
		}
		parent = fixed(pd.main)
		g.add(g.exec(sh, parent, execOpts{binary: pd.spec.shell, args: "-c /app/bin/housekeeping.sh", uid: pd.spec.uid}))
	}
	for i, n := 0, 5+g.rng.IntN(11); i < n; i++ {
		c := pick(g, scriptCommands)
		h := &ph{}
		g.add(g.exec(h, sh, execOpts{binary: c.bin, args: c.args, uid: uidOf(pd)}), g.exit(h, 0, ""))
	}
	g.add(g.exit(sh, 0, ""))
}

func uidOf(pd *pod) uint32 {
	if pd == nil {
		return 0
	}
	return pd.spec.uid
}

// containerStart starts a pod of w: a rollout replaces a running pod; a CronJob pod runs its job
// and goes away. containerd-shim starts runc, whose init (/proc/self/exe init) becomes the
// container's entrypoint, which re-executes into the main process.
func (g *Generator) containerStart(w *workloadSpec) {
	var old *pod
	if !w.job {
		for _, pd := range g.pods {
			if pd.spec == w {
				old = pd
				break
			}
		}
		if old == nil {
			return
		}
	}
	ordinal := 0
	pd := g.newPod(w, ordinal, fmt.Sprintf("10.244.1.%d", 100+g.rng.IntN(150)), g.last)
	if old != nil {
		g.removePod(old)
		if w.kind == "StatefulSet" {
			pd.name, pd.labels["statefulset.kubernetes.io/pod-name"] = old.name, old.name
		}
		g.add(g.exit(fixed(old.main), 0, ""), g.exit(fixed(old.shim), 0, ""))
	}
	shim, runc, initp, entry, main := &ph{}, &ph{}, &ph{}, &ph{}, &ph{}
	bundle := shimTaskRoot + pd.cid
	g.add(
		g.exec(shim, fixed(g.containerd), execOpts{binary: "/usr/local/bin/containerd-shim-runc-v2",
			args: "-namespace k8s.io -id " + g.hex(64) + " -address /run/containerd/containerd.sock", host: true, cwd: bundle}),
		g.exec(runc, shim, execOpts{binary: "/usr/bin/runc", host: true, cwd: bundle,
			args: "--root " + runcRoot + " --log " + bundle + "/log.json --log-format json --systemd-cgroup create --bundle " +
				bundle + " --pid-file " + bundle + "/init.pid " + pd.cid}),
		g.tracepoint(runc, "syscalls", "sys_enter_unshare", hookUnshare, sizeArg(cloneNewNS|cloneNewUTS|cloneNewIPC|cloneNewPID|cloneNewNet|cloneNewCgroup)),
		g.exec(initp, runc, execOpts{binary: "/proc/self/exe", args: "init", pod: pd, initTree: boolp(true)}),
		g.tracepoint(initp, "syscalls", "sys_enter_mount", hookMount, stringArg("proc"), stringArg("/proc"), stringArg("proc"), sizeArg(14)),
		g.tracepoint(initp, "syscalls", "sys_enter_pivot_root", hookPivotRoot, stringArg("."), stringArg(".")),
	)
	mainOpts := execOpts{binary: w.main.bin, args: g.mainArgs(w), uid: w.uid, cwd: w.cwd}
	if w.entry != nil {
		g.add(g.exec(entry, shim, execOpts{binary: w.entry.bin, args: w.entry.args, pod: pd, initTree: boolp(true), cwd: w.cwd}))
		if w.shell != "" {
			find := &ph{}
			g.add(g.exec(find, entry, execOpts{binary: "/usr/bin/find", args: "/docker-entrypoint.d/ -mindepth 1 -maxdepth 1 -type f -print -quit", cwd: w.cwd}),
				g.exit(find, 0, ""))
		}
		mainOpts.reexec = entry
		g.add(g.exec(main, entry, mainOpts))
	} else {
		mainOpts.pod, mainOpts.initTree = pd, boolp(true)
		g.add(g.exec(main, shim, mainOpts))
	}
	g.add(then(g.exit(runc, 0, ""), func() {
		pd.shim, pd.main = shim.get(), main.get()
		if !w.job {
			g.pods = append(g.pods, pd)
		}
	}))
	if w.job {
		g.jobRun(pd, shim, main)
	}
}

func (g *Generator) removePod(old *pod) {
	for i, pd := range g.pods {
		if pd == old {
			g.pods = append(g.pods[:i:i], g.pods[i+1:]...)
			return
		}
	}
}

// jobRun is the CronJob's work: python through sh, a database query, an upload, then exit.
func (g *Generator) jobRun(pd *pod, shim, sh *ph) {
	py := &ph{}
	g.add(g.exec(py, sh, execOpts{binary: "/usr/local/bin/python3", args: "/app/report.py --daily --upload", uid: pd.spec.uid}))
	for _, r := range pd.spec.reads {
		g.add(g.fileAccess(py, hookFileMonitoring, r, mayRead))
	}
	for _, ep := range pd.spec.connects {
		g.add(g.tcpConnect(py, ep.ip, ep.port))
	}
	gz := &ph{}
	g.add(g.exec(gz, py, execOpts{binary: "/usr/bin/gzip", args: "-9 /tmp/daily-report.csv", uid: pd.spec.uid}),
		g.fileAccess(gz, hookFileMonitoring, "/tmp/daily-report.csv.gz", mayWrite),
		g.exit(gz, 0, ""), g.exit(py, 0, ""), g.exit(sh, 0, ""), g.exit(shim, 0, ""))
}
