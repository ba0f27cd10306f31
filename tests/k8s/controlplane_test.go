package k8se2e

import (
	"context"
	"crypto/tls"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// controlPlane is etcd, kube-apiserver, and (for the node part) kube-controller-manager and
// kube-scheduler, on this machine, with certificates from a throwaway CA.
type controlPlane struct {
	env        *testEnv
	pki        *pki
	hostIP     string
	serverURL  string
	admin      string // admin kubeconfig (system:masters)
	adminCert  tls.Certificate
	etcd       *proc
	apiserver  *proc
	kcm, sched *proc
}

// serviceCIDR is the Service IP range; the kubernetes Service gets its first address.
const serviceCIDR = "10.96.0.0/16"

func startControlPlane(t *testing.T, env *testEnv, hostIP string) *controlPlane {
	t.Helper()
	p, err := newPKI(filepath.Join(env.work, "pki"))
	if err != nil {
		t.Fatal(err)
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(p.issue("apiserver", "kube-apiserver", nil, "127.0.0.1", hostIP, "10.96.0.1", "localhost",
		"kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local"))
	must(p.issue("admin", "rts-admin", []string{"system:masters"}))
	must(p.issue("apiserver-kubelet-client", "kube-apiserver-kubelet-client", []string{"system:masters"}))
	must(p.issue("controller-manager", "system:kube-controller-manager", nil))
	must(p.issue("scheduler", "system:kube-scheduler", nil))
	must(p.serviceAccountKey())

	cp := &controlPlane{env: env, pki: p, hostIP: hostIP}
	etcdClient, etcdPeer := freePort(t), freePort(t)
	cp.etcd = startProc(t, env.logs, "etcd", env.etcdBin,
		"--name=rts", "--data-dir="+filepath.Join(env.work, "etcd"),
		fmt.Sprintf("--listen-client-urls=http://127.0.0.1:%d", etcdClient),
		fmt.Sprintf("--advertise-client-urls=http://127.0.0.1:%d", etcdClient),
		fmt.Sprintf("--listen-peer-urls=http://127.0.0.1:%d", etcdPeer),
		fmt.Sprintf("--initial-advertise-peer-urls=http://127.0.0.1:%d", etcdPeer),
		fmt.Sprintf("--initial-cluster=rts=http://127.0.0.1:%d", etcdPeer),
		"--log-level=warn", "--logger=zap", "--quota-backend-bytes=2147483648")
	env.cleanup.add(func() { cp.etcd.stop(10 * time.Second) })
	if err := waitFor(30*time.Second, 200*time.Millisecond, func() error {
		if cp.etcd.exited() {
			return fmt.Errorf("etcd exited: %v\n%s", cp.etcd.err, cp.etcd.tail(20))
		}
		_, err := httpGet(fmt.Sprintf("http://127.0.0.1:%d/health", etcdClient), nil)
		return err
	}); err != nil {
		t.Fatal(err)
	}

	// Writes to workloads and ConfigMaps are audited (logs/audit.log): who changed what, when.
	policy := filepath.Join(env.work, "audit-policy.yaml")
	must(os.WriteFile(policy, []byte(`apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
  - level: Metadata
    verbs: [create, update, patch, delete, deletecollection]
    resources:
      - group: ""
        resources: [pods, configmaps, nodes]
      - group: apps
        resources: [daemonsets, controllerrevisions]
  - level: None
`), 0o644))
	port := freePort(t)
	cp.serverURL = fmt.Sprintf("https://%s:%d", hostIP, port)
	cp.apiserver = startProc(t, env.logs, "kube-apiserver", env.bin("kube-apiserver"),
		fmt.Sprintf("--etcd-servers=http://127.0.0.1:%d", etcdClient),
		"--bind-address="+hostIP, "--advertise-address="+hostIP, fmt.Sprintf("--secure-port=%d", port),
		"--cert-dir="+filepath.Join(env.work, "apiserver-certs"),
		"--tls-cert-file="+p.path("apiserver.crt"), "--tls-private-key-file="+p.path("apiserver.key"),
		"--client-ca-file="+p.CA(),
		"--kubelet-client-certificate="+p.path("apiserver-kubelet-client.crt"),
		"--kubelet-client-key="+p.path("apiserver-kubelet-client.key"),
		"--service-account-key-file="+p.path("sa.pub"),
		"--service-account-signing-key-file="+p.path("sa.key"),
		"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
		"--service-cluster-ip-range="+serviceCIDR,
		"--authorization-mode=Node,RBAC",
		"--enable-admission-plugins=NodeRestriction",
		"--allow-privileged=true",
		// The node is reached at its InternalIP (no DNS name for it here).
		"--kubelet-preferred-address-types=InternalIP,Hostname",
		"--audit-policy-file="+policy, "--audit-log-path="+filepath.Join(env.logs, "audit.log"),
		"--profiling=false", "--v=1")
	env.cleanup.add(func() { cp.apiserver.stop(15 * time.Second) })
	var err2 error
	cp.admin, err2 = p.kubeconfig("admin", cp.serverURL)
	must(err2)
	cp.adminCert, err2 = tls.LoadX509KeyPair(p.path("admin.crt"), p.path("admin.key"))
	must(err2)
	start := time.Now()
	if err := waitFor(3*time.Minute, 500*time.Millisecond, func() error {
		if cp.apiserver.exited() {
			return fmt.Errorf("kube-apiserver exited: %v\n%s", cp.apiserver.err, cp.apiserver.tail(30))
		}
		_, err := httpGet(cp.serverURL+"/readyz", &cp.adminCert)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	t.Logf("kube-apiserver ready at %s in %s", cp.serverURL, time.Since(start).Round(time.Millisecond))
	return cp
}

// startControllers starts kube-controller-manager and kube-scheduler (what makes DaemonSet pods).
func (cp *controlPlane) startControllers(t *testing.T) {
	t.Helper()
	p, env := cp.pki, cp.env
	kcmCfg, err := p.kubeconfig("controller-manager", cp.serverURL)
	if err != nil {
		t.Fatal(err)
	}
	schedCfg, err := p.kubeconfig("scheduler", cp.serverURL)
	if err != nil {
		t.Fatal(err)
	}
	cp.kcm = startProc(t, env.logs, "kube-controller-manager", env.bin("kube-controller-manager"),
		"--kubeconfig="+kcmCfg, "--authentication-kubeconfig="+kcmCfg, "--authorization-kubeconfig="+kcmCfg,
		"--service-account-private-key-file="+p.path("sa.key"), "--root-ca-file="+p.CA(),
		"--use-service-account-credentials=true", "--leader-elect=false",
		"--service-cluster-ip-range="+serviceCIDR, "--allocate-node-cidrs=false",
		"--bind-address=127.0.0.1", fmt.Sprintf("--secure-port=%d", freePort(t)),
		"--profiling=false", "--v=1")
	env.cleanup.add(func() { cp.kcm.stop(10 * time.Second) })
	cp.sched = startProc(t, env.logs, "kube-scheduler", env.bin("kube-scheduler"),
		"--kubeconfig="+schedCfg, "--authentication-kubeconfig="+schedCfg, "--authorization-kubeconfig="+schedCfg,
		"--leader-elect=false", "--bind-address=127.0.0.1", fmt.Sprintf("--secure-port=%d", freePort(t)),
		"--profiling=false", "--v=1")
	env.cleanup.add(func() { cp.sched.stop(10 * time.Second) })
	for _, pr := range []*proc{cp.kcm, cp.sched} {
		time.Sleep(time.Second)
		if pr.exited() {
			t.Fatalf("%s exited: %v\n%s", pr.name, pr.err, pr.tail(30))
		}
	}
}

// kubectl runs the kubectl built from the same release as the server, as the admin.
func (cp *controlPlane) kubectl(ctx context.Context, args ...string) (string, error) {
	return run(ctx, nil, cp.env.bin("kubectl"), append([]string{"--kubeconfig=" + cp.admin}, args...)...)
}

// kubectlIn is kubectl with stdin.
func (cp *controlPlane) kubectlIn(ctx context.Context, stdin string, args ...string) (string, error) {
	f, err := os.CreateTemp(cp.env.work, "stdin-*.yaml")
	if err != nil {
		return "", err
	}
	defer os.Remove(f.Name())
	if _, err := f.WriteString(stdin); err != nil {
		return "", err
	}
	f.Close()
	for i, a := range args {
		if a == "-" {
			args[i] = f.Name()
		}
	}
	return cp.kubectl(ctx, args...)
}

// dump prints what helps understand a failure.
func (cp *controlPlane) dump(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, args := range [][]string{
		{"get", "nodes,daemonsets,pods", "-A", "-o", "wide"},
		{"get", "events", "-A", "--sort-by=.lastTimestamp"},
	} {
		out, err := cp.kubectl(ctx, args...)
		t.Logf("kubectl %s:\n%s%v", strings.Join(args, " "), out, errOrEmpty(err))
	}
}

func errOrEmpty(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
