// Package k8se2e runs the project's Kubernetes install on a real single-node cluster built on this
// machine: etcd (Debian), kube-apiserver, kube-controller-manager, kube-scheduler and kubelet
// (built from k8s.io/kubernetes, see go.mod), Debian's containerd, runc and CNI plugins. Run it
// with `make k8s-e2e` (scripts/k8s-e2e.sh builds what it needs and sets the RTS_K8S_* variables).
package k8se2e

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"sigs.k8s.io/yaml"
)

// testEnv is what scripts/k8s-e2e.sh prepared, and this run's working directories.
type testEnv struct {
	repo          string // a copy of deploy/ and tests/k8s/testdata taken at the start
	work, logs    string
	binDir        string // kube-apiserver, kube-controller-manager, kube-scheduler, kubelet, kubectl
	crdDir        string // CRD manifests (Tetragon, Prometheus Operator)
	etcdBin       string
	containerdBin string
	ctrBin        string
	cniBin        string
	images        []string // image archives imported into containerd
	pauseImage    string
	nodeSkip      string // why the node part does not run ("" = it runs)
	noRestrictOOM bool   // RTS_K8S_NO_RESTRICT_OOM=1: reproduce the runc sandbox failure
	cleanup       cleanups
	t             *testing.T
}

func (e *testEnv) bin(name string) string { return filepath.Join(e.binDir, name) }

func (e *testEnv) logf(format string, args ...any) { e.t.Logf(format, args...) }

func loadEnv(t *testing.T) *testEnv {
	t.Helper()
	binDir := os.Getenv("RTS_K8S_BIN")
	if binDir == "" {
		t.Skip("RTS_K8S_BIN is not set: run `make k8s-e2e` (scripts/k8s-e2e.sh), which builds the Kubernetes binaries and images first")
	}
	if os.Geteuid() != 0 {
		t.Fatal("the cluster test runs etcd, a kubelet and containerd: it needs root")
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	work, err := os.MkdirTemp("", "otelcol-rts-k8s-")
	if err != nil {
		t.Fatal(err)
	}
	// The manifests are read from a copy taken now: an edit of the working tree during the run
	// (a re-applied kustomization would pick it up and roll the DaemonSet) cannot change the test.
	repo := filepath.Join(work, "src")
	for _, d := range []string{"deploy", "tests/k8s/testdata"} {
		if err := copyTree(filepath.Join(root, d), filepath.Join(repo, d)); err != nil {
			t.Fatal(err)
		}
	}
	env := &testEnv{
		repo: repo, work: work, logs: filepath.Join(work, "logs"), binDir: binDir,
		crdDir:        os.Getenv("RTS_K8S_CRDS"),
		etcdBin:       envOr("RTS_K8S_ETCD", "/usr/bin/etcd"),
		containerdBin: envOr("RTS_K8S_CONTAINERD", "/usr/bin/containerd"),
		ctrBin:        envOr("RTS_K8S_CTR", "/usr/bin/ctr"),
		cniBin:        envOr("RTS_K8S_CNI_BIN", "/usr/lib/cni"),
		images:        strings.Fields(os.Getenv("RTS_K8S_IMAGES")),
		pauseImage:    envOr("RTS_K8S_PAUSE_IMAGE", "registry.k8s.io/pause:3.10"),
		nodeSkip:      os.Getenv("RTS_K8S_NODE_SKIP"),
		noRestrictOOM: os.Getenv("RTS_K8S_NO_RESTRICT_OOM") == "1",
		t:             t,
	}
	if err := os.MkdirAll(env.logs, 0o755); err != nil {
		t.Fatal(err)
	}
	// A CI timeout or ^C must not leave a kubelet, containerd or etcd behind: tear down, then exit.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		s, ok := <-sigs
		if !ok {
			return
		}
		fmt.Fprintf(os.Stderr, "k8s-e2e: %v: tearing down the cluster\n", s)
		env.cleanup.run()
		os.Exit(1)
	}()
	t.Cleanup(func() {
		signal.Stop(sigs)
		close(sigs)
		env.cleanup.run()
		if t.Failed() {
			t.Logf("logs of etcd, the Kubernetes components, containerd and the backends: %s", env.logs)
			return
		}
		_ = os.RemoveAll(work)
	})
	return env
}

// copyTree copies the regular files and directories under src to dst.
func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		r, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, r)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, b, 0o644)
	})
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

// hostAddress is the address of the interface of the default route (RTS_K8S_HOST_IP overrides):
// the API server, the kubelet and the backends listen there, and pods reach it through the bridge.
func hostAddress(t *testing.T) string {
	t.Helper()
	if ip := os.Getenv("RTS_K8S_HOST_IP"); ip != "" {
		return ip
	}
	iface := ""
	if f, err := os.Open("/proc/net/route"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			fl := strings.Fields(sc.Text())
			if len(fl) > 2 && fl[1] == "00000000" {
				iface = fl[0]
				break
			}
		}
		f.Close()
	}
	ifaces, _ := net.Interfaces()
	for _, i := range ifaces {
		if i.Flags&net.FlagLoopback != 0 || i.Flags&net.FlagUp == 0 || i.Name == cniBridge || (iface != "" && i.Name != iface) {
			continue
		}
		addrs, _ := i.Addrs()
		for _, a := range addrs {
			if ipn, ok := a.(*net.IPNet); ok && ipn.IP.To4() != nil {
				return ipn.IP.String()
			}
		}
	}
	t.Fatal("no IPv4 address on a non-loopback interface: set RTS_K8S_HOST_IP")
	return ""
}

func TestCluster(t *testing.T) {
	env := loadEnv(t)
	hostIP := hostAddress(t)
	begin := time.Now()
	cp := startControlPlane(t, env, hostIP)
	t.Cleanup(func() {
		if t.Failed() {
			cp.dump(t)
		}
	})
	if !t.Run("admission", func(t *testing.T) { testAdmission(t, env, cp) }) {
		return
	}
	t.Logf("k8s-e2e: API server part done in %s", time.Since(begin).Round(time.Second))
	if env.nodeSkip != "" {
		t.Logf("k8s-e2e: NODE PART SKIPPED: %s", env.nodeSkip)
		return
	}
	testNode(t, env, cp)
}

// ---- API server: CRDs, the kustomize install, the TracingPolicies ------------------------------

func testAdmission(t *testing.T, env *testEnv, cp *controlPlane) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	kubectl := func(args ...string) string {
		t.Helper()
		out, err := cp.kubectl(ctx, args...)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	crds, _ := filepath.Glob(filepath.Join(env.crdDir, "*.yaml"))
	if len(crds) == 0 {
		t.Fatalf("no CRD manifests in RTS_K8S_CRDS=%q", env.crdDir)
	}
	var names []string
	for _, c := range crds {
		names = append(names, filepath.Base(c))
	}
	t.Logf("CRDs: %s", strings.Join(names, ", "))
	kubectl("apply", "--server-side", "-f", env.crdDir)
	kubectl("wait", "--for=condition=Established", "crd", "--all", "--timeout=60s")

	// The install as the README gives it (kubectl apply -k deploy/kubernetes), server-side, with
	// kubectl's default strict field validation: an unknown or duplicate field is an error.
	out := kubectl("apply", "--server-side", "-k", filepath.Join(env.repo, "deploy/kubernetes"))
	t.Logf("kubectl apply --server-side -k deploy/kubernetes:\n%s", out)
	rendered := kubectl("kustomize", filepath.Join(env.repo, "deploy/kubernetes"))
	want := objectNames(t, rendered)
	got := strings.Fields(kubectl("get", "-k", filepath.Join(env.repo, "deploy/kubernetes"), "-o", "name"))
	if len(got) != len(want) {
		t.Errorf("the server has %d of the %d objects of deploy/kubernetes: %v", len(got), len(want), got)
	}

	// The PrometheusRule as admitted: every group and rule is there.
	var rule struct {
		Spec struct {
			Groups []struct {
				Name  string           `json:"name"`
				Rules []map[string]any `json:"rules"`
			} `json:"groups"`
		} `json:"spec"`
	}
	if err := yaml.Unmarshal([]byte(kubectl("get", "prometheusrule", "-n", "runtime-security", "otelcol-runtime-security", "-o", "json")), &rule); err != nil {
		t.Fatal(err)
	}
	nrules := 0
	for _, g := range rule.Spec.Groups {
		nrules += len(g.Rules)
	}
	if len(rule.Spec.Groups) == 0 || nrules == 0 {
		t.Errorf("PrometheusRule admitted without groups or rules: %+v", rule.Spec)
	}
	t.Logf("PrometheusRule admitted: %d groups, %d rules", len(rule.Spec.Groups), nrules)

	// Every TracingPolicy of both sets, each file its own object, as deploy/README.md says.
	var policyFiles []string
	for _, set := range []string{"kprobe", "tracepoint"} {
		files, _ := filepath.Glob(filepath.Join(env.repo, "deploy/tetragon/policies", set, "*.yaml"))
		policyFiles = append(policyFiles, files...)
	}
	var wantPolicies []string
	args := []string{"apply", "--server-side"}
	for _, f := range policyFiles {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range objectNames(t, string(b)) {
			wantPolicies = append(wantPolicies, strings.TrimPrefix(n, "tracingpolicy/"))
		}
		args = append(args, "-f", f)
	}
	kubectl(args...)
	gotPolicies := strings.Fields(kubectl("get", "tracingpolicies", "-o", "jsonpath={.items[*].metadata.name}"))
	sort.Strings(wantPolicies)
	sort.Strings(gotPolicies)
	if strings.Join(gotPolicies, " ") != strings.Join(wantPolicies, " ") {
		t.Errorf("TracingPolicies on the server %v, want %v", gotPolicies, wantPolicies)
	}
	t.Logf("TracingPolicies admitted (%d files): %s", len(policyFiles), strings.Join(gotPolicies, " "))

	// The CRD's schema is enforced: a field Tetragon does not know is refused.
	bad := `apiVersion: cilium.io/v1alpha1
kind: TracingPolicy
metadata: {name: rts-k8s-e2e-invalid}
spec:
  kprobes:
    - call: sys_openat
      syscall: true
      notAField: true
`
	if out, err := cp.kubectlIn(ctx, bad, "apply", "--server-side", "-f", "-"); err == nil || !strings.Contains(out, "notAField") {
		t.Errorf("a TracingPolicy with an unknown field was not refused by name: %v\n%s", err, out)
	}

	// Every other overlay, and each component over the overlay it goes with, passes a server-side
	// dry run (admission and schema validation, nothing stored).
	for _, v := range variants(t, env) {
		if out, err := cp.kubectl(ctx, "apply", "--server-side", "--dry-run=server", "-k", v.dir); err != nil {
			t.Errorf("%s: %v\n%s", v.name, err, out)
		} else {
			t.Logf("server-side dry run of %s: %d objects", v.name, strings.Count(out, " serverside-applied"))
		}
	}
}

type variant struct{ name, dir string }

// variants are the overlays (deploy/kubernetes/overlays/*) and each component
// (deploy/kubernetes/components/*) over the grpc overlay, or the export-file overlay for a
// component named export-file-*, as kustomizations written under the work directory.
func variants(t *testing.T, env *testEnv) []variant {
	var out []variant
	overlays, _ := filepath.Glob(filepath.Join(env.repo, "deploy/kubernetes/overlays/*/kustomization.yaml"))
	for _, o := range overlays {
		d := filepath.Dir(o)
		out = append(out, variant{"overlays/" + filepath.Base(d), d})
	}
	components, _ := filepath.Glob(filepath.Join(env.repo, "deploy/kubernetes/components/*/kustomization.yaml"))
	for _, c := range components {
		comp := filepath.Base(filepath.Dir(c))
		overlay := "grpc"
		if strings.HasPrefix(comp, "export-file") {
			overlay = "export-file"
		}
		dir := filepath.Join(env.work, "variants", overlay+"+"+comp)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		k := fmt.Sprintf("apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - %s\ncomponents:\n  - %s\n",
			rel(t, dir, filepath.Join(env.repo, "deploy/kubernetes/overlays", overlay)), rel(t, dir, filepath.Dir(c)))
		if err := os.WriteFile(filepath.Join(dir, "kustomization.yaml"), []byte(k), 0o644); err != nil {
			t.Fatal(err)
		}
		out = append(out, variant{"overlays/" + overlay + " + components/" + comp, dir})
	}
	return out
}

func rel(t *testing.T, from, to string) string {
	r, err := filepath.Rel(from, to)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// objectNames lists "kind/name" (kind lower-cased) of the objects of a multi-document YAML stream.
func objectNames(t *testing.T, stream string) []string {
	t.Helper()
	var out []string
	for _, doc := range strings.Split("\n"+stream, "\n---") {
		var m struct {
			Kind     string `json:"kind"`
			Metadata struct {
				Name string `json:"name"`
			} `json:"metadata"`
		}
		if err := yaml.Unmarshal([]byte(doc), &m); err != nil {
			t.Fatalf("%v in\n%s", err, doc)
		}
		if m.Kind != "" {
			out = append(out, strings.ToLower(m.Kind)+"/"+m.Metadata.Name)
		}
	}
	return out
}

// ---- helpers for the node part -----------------------------------------------------------------

// metricValue sums the samples of a Prometheus text exposition whose name is name (or name_total)
// and whose labels include every pair of match.
func metricValue(text, name string, match map[string]string) (float64, bool) {
	var sum float64
	found := false
	for _, line := range strings.Split(text, "\n") {
		if strings.HasPrefix(line, "#") || line == "" {
			continue
		}
		metric, value, ok := strings.Cut(line, " ")
		if !ok {
			continue
		}
		n, labels, _ := strings.Cut(metric, "{")
		if n != name && n != name+"_total" {
			continue
		}
		all := true
		for k, v := range match {
			if !strings.Contains(labels, k+`="`+v+`"`) {
				all = false
				break
			}
		}
		if !all {
			continue
		}
		if i := strings.IndexByte(value, ' '); i >= 0 {
			value = value[:i]
		}
		f, err := strconv.ParseFloat(value, 64)
		if err != nil {
			continue
		}
		sum += f
		found = true
	}
	return sum, found
}
