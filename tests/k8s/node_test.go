package k8se2e

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

const (
	nodeName = "rts-node"
	// cgroupRoot is the cgroup (in every v1 hierarchy) the kubelet puts its kubepods tree under:
	// ours alone, so teardown removes exactly what the node created.
	cgroupRoot = "/otelcol-rts-k8s"
	// podCIDR is the bridge's range (host-local IPAM); the bridge itself is cniBridge.
	podCIDR   = "10.244.0.0/24"
	cniBridge = "rts0"
)

// node is Debian's containerd and the kubelet of the control plane's release, registered as
// nodeName.
type node struct {
	env        *testEnv
	cp         *controlPlane
	dir        string // containerd and kubelet state (removed at teardown)
	socket     string
	containerd *proc
	kubelet    *proc
	// kubeChains are the KUBE-* iptables chains that existed before the kubelet started: teardown
	// removes only the ones it added.
	kubeChains map[string]bool
}

// containerdConfig is Debian's containerd 1.6 with its CRI plugin. restrict_oom_score_adj is what
// makes pod sandboxes start on machines (VMs, containers) whose root lacks CAP_SYS_RESOURCE in its
// bounding set: without it runc is asked for the sandbox's oom_score_adj -998, cannot lower it, and
// fails with "can't get final child's PID from pipe: EOF".
const containerdConfig = `version = 2
root = %[1]q
state = %[2]q
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.zfs", "io.containerd.internal.v1.tracing"]
[grpc]
  address = %[3]q
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = %[4]q
  disable_apparmor = true
  restrict_oom_score_adj = %[7]t
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = %[5]q
    conf_dir = %[6]q
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
`

// cniConfig: one bridge, no masquerading (pods only talk to this host's address), addresses from
// host-local IPAM kept under the node's directory.
const cniConfig = `{"cniVersion": "1.0.0", "name": "rts", "plugins": [
  {"type": "bridge", "bridge": %q, "isGateway": true, "ipMasq": false, "hairpinMode": true,
   "ipam": {"type": "host-local", "dataDir": %q, "ranges": [[{"subnet": %q}]], "routes": [{"dst": "0.0.0.0/0"}]}}]}
`

const kubeletConfig = `apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
cgroupDriver: cgroupfs
cgroupRoot: %[1]s
# The machines this runs on have cgroup v1 (in maintenance mode since 1.31, refused by default).
failCgroupV1: false
containerRuntimeEndpoint: unix://%[2]s
podLogsDir: %[3]s
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: %[4]s}
authorization: {mode: Webhook}
address: %[5]s
port: %[6]d
healthzBindAddress: 127.0.0.1
healthzPort: %[7]d
readOnlyPort: 0
failSwapOn: false
resolvConf: /etc/resolv.conf
# The test machine's disk may be fuller than the defaults allow; nothing is evicted here.
evictionHard: {"memory.available": "100Mi", "nodefs.available": "1%%", "imagefs.available": "1%%", "nodefs.inodesFree": "1%%"}
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
# syncFrequency and configMapAndSecretChangeDetectionStrategy stay at their defaults (1m, Watch):
# the ConfigMap update latency measured is a default kubelet's.
`

func startNode(t *testing.T, env *testEnv, cp *controlPlane) *node {
	t.Helper()
	dir, err := os.MkdirTemp("/var/lib", "otelcol-rts-k8s-node-")
	if err != nil {
		t.Fatal(err)
	}
	n := &node{env: env, cp: cp, dir: dir}
	// Directories containerd's CNI library and the kubelet create outside ours: removed at the end
	// (when empty) unless they were here before.
	for _, d := range []string{"/var/lib/cni", "/var/log/containers"} {
		if _, err := os.Stat(d); os.IsNotExist(err) {
			env.cleanup.add(func() { removeEmptyTree(d) })
		}
	}
	env.cleanup.add(n.teardown)
	run := filepath.Join("/run", filepath.Base(dir))
	n.socket = filepath.Join(run, "containerd.sock")
	for _, d := range []string{filepath.Join(dir, "cni"), filepath.Join(dir, "pods"), run} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	cniConf := filepath.Join(dir, "cni")
	if err := os.WriteFile(filepath.Join(cniConf, "10-rts.conflist"),
		[]byte(fmt.Sprintf(cniConfig, cniBridge, filepath.Join(dir, "ipam"), podCIDR)), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "containerd.toml")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf(containerdConfig,
		filepath.Join(dir, "containerd"), filepath.Join(run, "state"), n.socket, env.pauseImage,
		env.cniBin, cniConf, !env.noRestrictOOM)), 0o644); err != nil {
		t.Fatal(err)
	}
	n.containerd = startProc(t, env.logs, "containerd", env.containerdBin, "--config", cfg, "--log-level", "warn")
	if err := waitFor(30*time.Second, 200*time.Millisecond, func() error {
		if n.containerd.exited() {
			return fmt.Errorf("containerd exited: %v\n%s", n.containerd.err, n.containerd.tail(30))
		}
		_, err := n.ctr(context.Background(), "version")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	for _, img := range env.images {
		if out, err := n.ctr(context.Background(), "-n", "k8s.io", "images", "import", "--no-unpack=false", img); err != nil {
			t.Fatalf("import %s: %v\n%s", img, err, out)
		}
	}
	out, _ := n.ctr(context.Background(), "-n", "k8s.io", "images", "ls", "-q")
	t.Logf("imported %d images into containerd in %s:\n%s", len(env.images), time.Since(start).Round(time.Millisecond), strings.TrimSpace(out))

	// The kubelet's cgroup root, in every v1 hierarchy (and the unified one if mounted).
	for _, h := range cgroupHierarchies() {
		if err := os.MkdirAll(filepath.Join(h, cgroupRoot), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := cp.pki.issue("kubelet", "system:node:"+nodeName, []string{"system:nodes"}); err != nil {
		t.Fatal(err)
	}
	kubeconfig, err := cp.pki.kubeconfig("kubelet", cp.serverURL)
	if err != nil {
		t.Fatal(err)
	}
	n.kubeChains = kubeChains()
	healthz := freePort(t)
	kcfg := filepath.Join(dir, "kubelet.yaml")
	if err := os.WriteFile(kcfg, []byte(fmt.Sprintf(kubeletConfig, cgroupRoot, n.socket, filepath.Join(dir, "pods"),
		cp.pki.CA(), cp.hostIP, freePort(t), healthz)), 0o644); err != nil {
		t.Fatal(err)
	}
	n.kubelet = startProc(t, env.logs, "kubelet", env.bin("kubelet"),
		"--config="+kcfg, "--kubeconfig="+kubeconfig, "--root-dir="+filepath.Join(dir, "kubelet"),
		"--hostname-override="+nodeName, "--node-ip="+cp.hostIP, "--v=1")
	start = time.Now()
	if err := waitFor(2*time.Minute, time.Second, func() error {
		if n.kubelet.exited() {
			return fmt.Errorf("kubelet exited: %v\n%s", n.kubelet.err, n.kubelet.tail(40))
		}
		out, err := cp.kubectl(context.Background(), "get", "node", nodeName, "-o",
			`jsonpath={.status.conditions[?(@.type=="Ready")].status}`)
		if err != nil {
			return err
		}
		if strings.TrimSpace(out) != "True" {
			return fmt.Errorf("node %s Ready=%q", nodeName, out)
		}
		return nil
	}); err != nil {
		t.Fatalf("%v\nkubelet log:\n%s", err, n.kubelet.tail(40))
	}
	t.Logf("node %s Ready in %s", nodeName, time.Since(start).Round(time.Millisecond))
	return n
}

func (n *node) ctr(ctx context.Context, args ...string) (string, error) {
	return run(ctx, nil, n.env.ctrBin, append([]string{"--address", n.socket}, args...)...)
}

// teardown stops and removes every pod sandbox through the CRI (so the CNI plugin releases its
// addresses), stops the kubelet and containerd, and removes what they left: mounts under the
// node's directory, the cgroups, the bridge, the kubelet's iptables canaries, the directory.
func (n *node) teardown() {
	logf := n.env.logf
	if n.containerd != nil && !n.containerd.exited() {
		if n.kubelet != nil {
			n.kubelet.stop(20 * time.Second)
		}
		if err := n.removeSandboxes(); err != nil {
			logf("teardown: removing pod sandboxes: %v", err)
		}
		n.containerd.stop(20 * time.Second)
	} else if n.kubelet != nil {
		n.kubelet.stop(20 * time.Second)
	}
	// Shims outlive containerd on purpose; ours were started with -address <our socket>.
	for _, pid := range pidsWithArg(n.socket) {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
	unmountUnder(n.dir, logf)
	unmountUnder(filepath.Join("/run", filepath.Base(n.dir)), logf)
	for _, h := range cgroupHierarchies() {
		removeCgroupTree(filepath.Join(h, cgroupRoot), logf)
	}
	_ = exec.Command("ip", "link", "del", cniBridge).Run()
	if n.kubeChains != nil {
		removeKubeChains(n.kubeChains)
	}
	// libcni's cache of our network's results.
	if files, err := filepath.Glob("/var/lib/cni/results/rts-*"); err == nil {
		for _, f := range files {
			_ = os.Remove(f)
		}
	}
	if err := os.RemoveAll(n.dir); err != nil {
		logf("teardown: %v", err)
	}
	_ = os.RemoveAll(filepath.Join("/run", filepath.Base(n.dir)))
	// The kubelet's /var/log/containers symlinks into our pods directory.
	if links, err := filepath.Glob("/var/log/containers/*.log"); err == nil {
		for _, l := range links {
			if target, err := os.Readlink(l); err == nil && strings.HasPrefix(target, n.dir) {
				_ = os.Remove(l)
			}
		}
	}
}

// removeSandboxes is `crictl rmp -fa`: every pod sandbox stopped (CNI DEL) and removed.
func (n *node) removeSandboxes() error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := grpc.NewClient("unix://"+n.socket, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return err
	}
	defer conn.Close()
	rs := runtimeapi.NewRuntimeServiceClient(conn)
	list, err := rs.ListPodSandbox(ctx, &runtimeapi.ListPodSandboxRequest{})
	if err != nil {
		return err
	}
	for _, sb := range list.Items {
		if _, err := rs.StopPodSandbox(ctx, &runtimeapi.StopPodSandboxRequest{PodSandboxId: sb.Id}); err != nil {
			n.env.logf("teardown: stop sandbox %s: %v", sb.Metadata.GetName(), err)
		}
		if _, err := rs.RemovePodSandbox(ctx, &runtimeapi.RemovePodSandboxRequest{PodSandboxId: sb.Id}); err != nil {
			n.env.logf("teardown: remove sandbox %s: %v", sb.Metadata.GetName(), err)
		}
	}
	return nil
}

// cgroupHierarchies are the mounted cgroup hierarchies' directories.
func cgroupHierarchies() []string {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		for i, fl := range fields {
			if fl == "-" && i+1 < len(fields) && (fields[i+1] == "cgroup" || fields[i+1] == "cgroup2") {
				out = append(out, fields[4])
			}
		}
	}
	return out
}

// removeCgroupTree removes a cgroup and its descendants, deepest first (empty cgroups only).
func removeCgroupTree(root string, logf func(string, ...any)) {
	var dirs []string
	_ = filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			dirs = append(dirs, p)
		}
		return nil
	})
	sort.Slice(dirs, func(i, j int) bool { return len(dirs[i]) > len(dirs[j]) })
	for _, d := range dirs {
		var err error
		for i := 0; i < 20; i++ { // a just-killed process can take a moment to leave
			if err = syscall.Rmdir(d); err == nil || os.IsNotExist(err) {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		if err != nil && !os.IsNotExist(err) {
			logf("teardown: rmdir %s: %v", d, err)
		}
	}
}

// unmountUnder lazily unmounts every mount point below dir, deepest first.
func unmountUnder(dir string, logf func(string, ...any)) {
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return
	}
	var points []string
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) > 4 && strings.HasPrefix(f[4], dir+"/") {
			points = append(points, f[4])
		}
	}
	sort.Slice(points, func(i, j int) bool { return len(points[i]) > len(points[j]) })
	for _, p := range points {
		if err := syscall.Unmount(p, syscall.MNT_DETACH); err != nil && !os.IsNotExist(err) {
			logf("teardown: umount %s: %v", p, err)
		}
	}
}

// pidsWithArg lists the processes whose command line has arg as one argument.
func pidsWithArg(arg string) []int {
	entries, _ := os.ReadDir("/proc")
	var out []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		for _, a := range strings.Split(string(b), "\x00") {
			if a == arg {
				out = append(out, pid)
				break
			}
		}
	}
	return out
}

var iptablesCmds = []string{"iptables", "ip6tables"}

// kubeChains lists the KUBE-* chains of every table, as "cmd table chain".
func kubeChains() map[string]bool {
	out := map[string]bool{}
	for _, cmd := range iptablesCmds {
		b, err := exec.Command(cmd + "-save").Output()
		if err != nil {
			continue
		}
		table := ""
		for _, line := range strings.Split(string(b), "\n") {
			switch {
			case strings.HasPrefix(line, "*"):
				table = line[1:]
			case strings.HasPrefix(line, ":KUBE-"):
				out[cmd+" "+table+" "+strings.Fields(line[1:])[0]] = true
			}
		}
	}
	return out
}

// removeKubeChains deletes the KUBE-* chains that were not in before, and the rules jumping to them.
func removeKubeChains(before map[string]bool) {
	var added [][]string
	for key := range kubeChains() {
		if !before[key] {
			added = append(added, strings.Fields(key)) // cmd, table, chain
		}
	}
	for _, a := range added {
		cmd, table, chain := a[0], a[1], a[2]
		b, _ := exec.Command(cmd+"-save", "-t", table).Output()
		for _, line := range strings.Split(string(b), "\n") {
			// e.g. "-A INPUT -j KUBE-FIREWALL": delete the jump wherever it is.
			if strings.HasPrefix(line, "-A ") && strings.HasSuffix(line, "-j "+chain) {
				args := append([]string{"-w", "-t", table, "-D"}, strings.Fields(line)[1:]...)
				_ = exec.Command(cmd, args...).Run()
			}
		}
		_ = exec.Command(cmd, "-w", "-t", table, "-F", chain).Run()
	}
	for _, a := range added {
		_ = exec.Command(a[0], "-w", "-t", a[1], "-X", a[2]).Run()
	}
}

// removeEmptyTree removes dir and its subdirectories as long as they hold no file.
func removeEmptyTree(dir string) {
	var dirs []string
	_ = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			dirs = append(dirs, p)
		}
		return nil
	})
	sort.Slice(dirs, func(i, j int) bool { return len(dirs[i]) > len(dirs[j]) })
	for _, d := range dirs {
		_ = syscall.Rmdir(d) // fails, and keeps d, when it is not empty
	}
}
