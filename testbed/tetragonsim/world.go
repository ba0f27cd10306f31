// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package tetragonsim

import (
	"fmt"
	"strings"
	"time"

	"github.com/cilium/tetragon/api/v1/tetragon"
	"google.golang.org/protobuf/types/known/timestamppb"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// The simulated node.
const (
	nodeIP       = "172.18.0.3"
	apiServerIP  = "10.96.0.1"
	runcRoot     = "/run/containerd/runc/k8s.io"
	shimTaskRoot = "/run/containerd/io.containerd.runtime.v2.task/k8s.io/"
)

type cmd struct{ bin, args string }

type endpoint struct {
	ip   string
	port uint32
}

// workloadSpec describes a Kubernetes workload running on the node.
type workloadSpec struct {
	namespace, name, kind string
	image, container      string
	entry                 *cmd // entrypoint script that re-executes into main; nil = main directly
	main                  cmd
	uid                   uint32
	cwd                   string
	shell                 string // "" = no shell in the image (distroless)
	privileged            bool
	hostNetwork, hostPID  bool
	replicas              int
	probe                 *cmd // exec liveness/readiness probe
	reads, writes         []string
	connects              []endpoint
	children              []cmd // commands the main process runs from time to time
	nginx                 bool  // serves HTTP with nginx (web-shell victim)
	job                   bool  // CronJob: pods come and go
}

var workloads = []*workloadSpec{
	{
		namespace: "shop", name: "frontend", kind: "Deployment", replicas: 2, nginx: true,
		image: "docker.io/library/nginx:1.27.2", container: "nginx",
		entry: &cmd{"/docker-entrypoint.sh", `nginx -g "daemon off;"`}, main: cmd{"/usr/sbin/nginx", `-g "daemon off;"`},
		cwd: "/", shell: "/bin/bash",
		reads:    []string{"/usr/share/nginx/html/index.html", "/etc/nginx/conf.d/default.conf", "/usr/share/nginx/html/static/app.js"},
		writes:   []string{"/var/cache/nginx/proxy_temp/1/00/0000000001"},
		connects: []endpoint{{"10.96.23.40", 8080}, {"10.96.23.41", 8000}},
	},
	{
		namespace: "shop", name: "cart", kind: "Deployment", replicas: 2,
		image: "ghcr.io/acme-shop/cart:2.4.1", container: "cart",
		main: cmd{"/app/cart", "--listen=:8080 --redis=redis.shop.svc.cluster.local:6379"},
		uid:  10001, cwd: "/app",
		reads:    []string{"/app/config/cart.yaml", "/etc/ssl/certs/ca-certificates.crt"},
		connects: []endpoint{{"10.96.88.5", 6379}, {"10.96.0.10", 53}},
	},
	{
		namespace: "shop", name: "checkout", kind: "Deployment", replicas: 1,
		image: "ghcr.io/acme-shop/checkout:1.9.0", container: "checkout",
		main: cmd{"/usr/local/bin/python3.12", "-m gunicorn checkout.wsgi:app --bind 0.0.0.0:8000 --workers 2"},
		uid:  1000, cwd: "/app", shell: "/bin/bash",
		reads:    []string{"/app/checkout/settings.py", "/app/checkout/templates/receipt.html", "/etc/ssl/certs/ca-certificates.crt"},
		writes:   []string{"/tmp/gunicorn-heartbeat"},
		connects: []endpoint{{"10.96.77.12", 3000}, {"10.96.88.5", 6379}, {"10.96.41.17", 5432}},
		children: []cmd{{"/usr/local/bin/python3.12", "manage.py clearsessions"}, {"/usr/bin/git", "rev-parse --short HEAD"}},
	},
	{
		namespace: "shop", name: "redis", kind: "StatefulSet", replicas: 1,
		image: "docker.io/library/redis:7.4.1", container: "redis",
		entry: &cmd{"/usr/local/bin/docker-entrypoint.sh", "redis-server --appendonly yes"}, main: cmd{"/usr/local/bin/redis-server", "*:6379"},
		uid: 999, cwd: "/data", shell: "/bin/bash",
		probe:  &cmd{"/usr/local/bin/redis-cli", "ping"},
		reads:  []string{"/data/appendonlydir/appendonly.aof.1.incr.aof"},
		writes: []string{"/data/appendonlydir/appendonly.aof.1.incr.aof", "/data/temp-rewriteaof-bg-41.aof"},
	},
	{
		namespace: "payments", name: "payments-api", kind: "Deployment", replicas: 2,
		image: "ghcr.io/acme-shop/payments-api:3.2.0", container: "api",
		main: cmd{"/usr/local/bin/node", "dist/server.js"},
		uid:  1000, cwd: "/srv/app", shell: "/bin/bash",
		reads:    []string{"/srv/app/dist/server.js", "/srv/app/config/production.json", "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt"},
		connects: []endpoint{{"10.96.41.17", 5432}, {"192.0.2.44", 443}, {"10.96.0.10", 53}},
		children: []cmd{{"/usr/bin/openssl", "x509 -noout -enddate -in /srv/app/certs/tls.crt"}},
	},
	{
		namespace: "payments", name: "postgres", kind: "StatefulSet", replicas: 1,
		image: "docker.io/library/postgres:16.4", container: "postgres",
		entry: &cmd{"/usr/local/bin/docker-entrypoint.sh", "postgres"}, main: cmd{"/usr/lib/postgresql/16/bin/postgres", ""},
		uid: 999, cwd: "/var/lib/postgresql/data", shell: "/bin/bash",
		probe:  &cmd{"/usr/bin/pg_isready", "-U postgres -h 127.0.0.1 -p 5432"},
		reads:  []string{"/var/lib/postgresql/data/base/16384/2619", "/var/lib/postgresql/data/postgresql.conf"},
		writes: []string{"/var/lib/postgresql/data/pg_wal/000000010000000000000007", "/var/lib/postgresql/data/base/16384/16402"},
	},
	{
		namespace: "kube-system", name: "coredns", kind: "Deployment", replicas: 1,
		image: "registry.k8s.io/coredns/coredns:v1.11.3", container: "coredns",
		main: cmd{"/coredns", "-conf /etc/coredns/Corefile"}, uid: 65532, cwd: "/",
		reads:    []string{"/etc/coredns/Corefile", "/etc/resolv.conf"},
		connects: []endpoint{{apiServerIP, 443}},
	},
	{
		namespace: "kube-system", name: "kube-proxy", kind: "DaemonSet", replicas: 1,
		image: "registry.k8s.io/kube-proxy:v1.31.2", container: "kube-proxy",
		main: cmd{"/usr/local/bin/kube-proxy", "--config=/var/lib/kube-proxy/config.conf --hostname-override=" + DefaultNodeName},
		cwd:  "/", privileged: true, hostNetwork: true,
		reads:    []string{"/var/lib/kube-proxy/config.conf", "/run/xtables.lock"},
		connects: []endpoint{{apiServerIP, 443}},
		children: []cmd{
			{"/usr/sbin/iptables", "-w 5 -W 100000 -N KUBE-KUBELET-CANARY -t mangle"},
			{"/usr/sbin/iptables-save", "-t nat"},
			{"/usr/sbin/iptables-restore", "-w 5 -W 100000 --noflush --counters"},
		},
	},
	{
		namespace: "logging", name: "fluent-bit", kind: "DaemonSet", replicas: 1,
		image: "cr.fluentbit.io/fluent/fluent-bit:3.1.9", container: "fluent-bit",
		main: cmd{"/fluent-bit/bin/fluent-bit", "-c /fluent-bit/etc/conf/fluent-bit.conf"}, cwd: "/",
		reads: []string{"/var/log/containers/frontend-7c9d8f6b5-abcde_shop_nginx-0123.log", "/var/log/pods/payments_postgres-0_1f2e/postgres/0.log",
			"/fluent-bit/etc/conf/fluent-bit.conf"},
		writes:   []string{"/var/fluent-bit/state/flb_kube.db"},
		connects: []endpoint{{"10.96.150.3", 3100}, {apiServerIP, 443}},
	},
	{
		namespace: "monitoring", name: "prometheus", kind: "StatefulSet", replicas: 1,
		image: "quay.io/prometheus/prometheus:v2.54.1", container: "prometheus",
		main: cmd{"/bin/prometheus", "--config.file=/etc/prometheus/prometheus.yml --storage.tsdb.path=/prometheus --web.enable-lifecycle"},
		uid:  65534, cwd: "/prometheus",
		reads:    []string{"/etc/prometheus/prometheus.yml", "/prometheus/wal/00000042"},
		writes:   []string{"/prometheus/wal/00000042", "/prometheus/chunks_head/000018"},
		connects: []endpoint{{nodeIP, 9100}, {"10.244.1.21", 8080}, {"10.244.1.34", 9153}, {apiServerIP, 443}},
	},
	{
		namespace: "monitoring", name: "node-exporter", kind: "DaemonSet", replicas: 1,
		image: "quay.io/prometheus/node-exporter:v1.8.2", container: "node-exporter",
		main: cmd{"/bin/node_exporter", "--path.procfs=/host/proc --path.sysfs=/host/sys --path.rootfs=/host/root"},
		uid:  65534, cwd: "/", hostNetwork: true, hostPID: true,
		reads: []string{"/host/proc/stat", "/host/proc/meminfo", "/host/sys/class/net/eth0/statistics/rx_bytes"},
	},
	{
		namespace: "web", name: "landing", kind: "Deployment", replicas: 1, nginx: true,
		image: "docker.io/library/nginx:1.27-alpine", container: "landing",
		entry: &cmd{"/docker-entrypoint.sh", `nginx -g "daemon off;"`}, main: cmd{"/usr/sbin/nginx", `-g "daemon off;"`},
		cwd: "/", shell: "/bin/sh",
		reads:    []string{"/usr/share/nginx/html/index.html", "/etc/nginx/nginx.conf"},
		connects: []endpoint{{"10.96.23.40", 8080}},
	},
	{
		namespace: "ops", name: "node-debugger", kind: "DaemonSet", replicas: 1,
		image: "docker.io/library/ubuntu:24.04", container: "debugger",
		main: cmd{"/usr/bin/sleep", "infinity"}, cwd: "/", shell: "/bin/bash",
		privileged: true, hostNetwork: true, hostPID: true,
	},
	{
		namespace: "ci", name: "build-agent", kind: "StatefulSet", replicas: 1,
		image: "docker.io/library/docker:27.3-dind", container: "dind",
		entry: &cmd{"/usr/local/bin/dockerd-entrypoint.sh", "dockerd"},
		main:  cmd{"/usr/local/bin/dockerd", "--host=unix:///var/run/docker.sock --host=tcp://0.0.0.0:2376 --tlsverify"},
		cwd:   "/", shell: "/bin/sh", privileged: true,
		reads:    []string{"/etc/docker/daemon.json", "/var/lib/docker/image/overlay2/repositories.json"},
		writes:   []string{"/var/lib/docker/containers/8c1d/8c1d-json.log"},
		connects: []endpoint{{"192.0.2.10", 443}},
		children: []cmd{{"/usr/local/bin/docker-init", "--version"}, {"/usr/local/bin/containerd", "--config /var/run/docker/containerd/containerd.toml"}},
	},
	{
		namespace: "batch", name: "nightly-report", kind: "CronJob", replicas: 0, job: true,
		image: "ghcr.io/acme-shop/reports:0.7.2", container: "report",
		main: cmd{"/bin/sh", `-c "python3 /app/report.py --daily --upload"`}, uid: 1000, cwd: "/app", shell: "/bin/sh",
		reads:    []string{"/app/report.py", "/app/templates/daily.html.j2"},
		connects: []endpoint{{"10.96.41.17", 5432}, {"192.0.2.80", 443}},
	},
}

// pod is one running pod (one container) of a workload.
type pod struct {
	spec       *workloadSpec
	name, uid  string
	ip         string
	cid        string // 64 hex digits
	docker     string // Tetragon's docker field: the first 31 hex digits
	image      *tetragon.Image
	started    *timestamppb.Timestamp
	labels     map[string]string
	ns         *tetragon.Namespaces
	shim, main *proc
	nsPIDs     uint32
}

// nextNsPID numbers processes inside the pod's PID namespace: the container's init is 1.
func (pd *pod) nextNsPID() uint32 {
	if pd.nsPIDs == 0 {
		pd.nsPIDs = 1
	} else {
		pd.nsPIDs += 1 + uint32(len(pd.name)%3)
	}
	return pd.nsPIDs
}

func (pd *pod) pbPod(nsPID uint32, probe bool) *tetragon.Pod {
	c := &tetragon.Container{
		Id: "containerd://" + pd.cid, Name: pd.spec.container, Image: pd.image,
		StartTime: pd.started, Pid: wrapperspb.UInt32(nsPID), MaybeExecProbe: probe,
	}
	if pd.spec.privileged {
		c.SecurityContext = &tetragon.SecurityContext{Privileged: true}
	}
	return &tetragon.Pod{
		Namespace: pd.spec.namespace, Name: pd.name, Uid: pd.uid, Container: c,
		PodLabels: pd.labels, Workload: pd.spec.name, WorkloadKind: pd.spec.kind,
	}
}

func (g *Generator) buildHost() {
	bootTS := g.boot
	g.kernel = g.existingProc(nil, nil, 0, 0, "<kernel>", "", "", bootTS, false)
	g.systemd = g.existingProc(g.kernel, nil, 1, 0, "/usr/lib/systemd/systemd", "--system --deserialize=74", "/", bootTS.Add(900*time.Millisecond), false)
	g.containerd = g.existingProc(g.systemd, nil, 612, 0, "/usr/local/bin/containerd", "", "/", bootTS.Add(4200*time.Millisecond), false)
	g.kubelet = g.existingProc(g.systemd, nil, 705, 0, "/usr/bin/kubelet",
		"--bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf --kubeconfig=/etc/kubernetes/kubelet.conf "+
			"--config=/var/lib/kubelet/config.yaml --container-runtime-endpoint=unix:///run/containerd/containerd.sock "+
			"--node-ip="+nodeIP+" --pod-infra-container-image=registry.k8s.io/pause:3.10", "/", bootTS.Add(6*time.Second), false)
	g.cron = g.existingProc(g.systemd, nil, 498, 0, "/usr/sbin/cron", "-f -P", "/", bootTS.Add(3*time.Second), false)
	g.sshd = g.existingProc(g.systemd, nil, 530, 0, "/usr/sbin/sshd", "-D", "/", bootTS.Add(3100*time.Millisecond), false)
}

func (g *Generator) buildPods(now time.Time) {
	podIP := 10
	for _, w := range workloads {
		for i := 0; i < w.replicas; i++ {
			podIP += 1 + g.rng.IntN(6)
			started := now.Add(-time.Duration(1+g.rng.IntN(30*60)) * time.Minute)
			pd := g.newPod(w, i, fmt.Sprintf("10.244.1.%d", podIP), started)
			g.pods = append(g.pods, pd)
			// The shim and the container's main process were found in /proc at Tetragon start.
			pd.shim = g.existingProc(g.containerd, nil, g.hostPID(), 0, "/usr/local/bin/containerd-shim-runc-v2",
				"-namespace k8s.io -id "+g.hex(64)+" -address /run/containerd/containerd.sock", shimTaskRoot+pd.cid, started, false)
			pd.main = g.existingProc(pd.shim, pd, g.hostPID(), w.uid, w.main.bin, g.mainArgs(w), w.cwd, started.Add(150*time.Millisecond), true)
		}
	}
}

func (g *Generator) newPod(w *workloadSpec, ordinal int, ip string, started time.Time) *pod {
	pd := &pod{spec: w, uid: g.uuid(), ip: ip, cid: g.hex(64)}
	pd.docker = pd.cid[:31]
	pd.started = timestamppb.New(started.Truncate(time.Second))
	repo := w.image[:strings.LastIndexByte(w.image, ':')]
	pd.image = &tetragon.Image{Id: repo + "@sha256:" + imageDigest(w.image), Name: w.image}
	pd.labels = map[string]string{"app.kubernetes.io/name": w.name, "app.kubernetes.io/part-of": w.namespace}
	switch w.kind {
	case "Deployment":
		hash := g.podSuffix(10)
		pd.name = w.name + "-" + hash + "-" + g.podSuffix(5)
		pd.labels["pod-template-hash"] = hash
	case "DaemonSet":
		pd.name = w.name + "-" + g.podSuffix(5)
		pd.labels["controller-revision-hash"] = g.podSuffix(10)
		pd.labels["pod-template-generation"] = "1"
	case "StatefulSet":
		pd.name = fmt.Sprintf("%s-%d", w.name, ordinal)
		pd.labels["controller-revision-hash"] = w.name + "-" + g.podSuffix(10)
		pd.labels["statefulset.kubernetes.io/pod-name"] = pd.name
	case "CronJob":
		job := fmt.Sprintf("%s-%d", w.name, started.Unix()/60)
		pd.name = job + "-" + g.podSuffix(5)
		pd.labels["batch.kubernetes.io/job-name"] = job
		pd.labels["batch.kubernetes.io/controller-uid"] = g.uuid()
	}
	pd.ns = g.podNamespaces(w.hostNetwork, w.hostPID)
	return pd
}

// imageDigest is a stable fake digest per image name, so every pod of an image shares it.
func imageDigest(image string) string {
	var h uint64 = 14695981039346656037
	for i := 0; i < len(image); i++ {
		h = (h ^ uint64(image[i])) * 1099511628211
	}
	var b strings.Builder
	for b.Len() < 64 {
		h = h*6364136223846793005 + 1442695040888963407
		fmt.Fprintf(&b, "%016x", h)
	}
	return b.String()[:64]
}

// podsWhere returns the running pods whose spec satisfies keep.
func (g *Generator) podsWhere(keep func(*workloadSpec) bool) []*pod {
	var out []*pod
	for _, pd := range g.pods {
		if keep(pd.spec) {
			out = append(out, pd)
		}
	}
	return out
}

// pickPod returns a random running pod whose spec satisfies keep, or nil.
func (g *Generator) pickPod(keep func(*workloadSpec) bool) *pod {
	pods := g.podsWhere(keep)
	if len(pods) == 0 {
		return nil
	}
	return pick(g, pods)
}

// mainArgs are the main process's arguments on this node (kube-proxy names the node).
func (g *Generator) mainArgs(w *workloadSpec) string {
	return strings.ReplaceAll(w.main.args, "="+DefaultNodeName, "="+g.node)
}
