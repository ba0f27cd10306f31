// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package deploytest

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"go.opentelemetry.io/collector/confmap"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/testbed/loadtest"
)

const (
	storageDir     = "/var/lib/otelcol-runtime-security"
	tetragonRunDir = "/var/run/tetragon"
	tetragonExport = "/var/run/cilium/tetragon"
	rulesDir       = "/etc/otelcol-runtime-security/rules"
)

func TestDaemonSetPodSecurity(t *testing.T) {
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			objs := render(t, v)
			ds, err := DaemonSet(objs)
			if err != nil {
				t.Fatal(err)
			}
			ps := &ds.Spec.Template.Spec
			if ps.HostNetwork || ps.HostPID || ps.HostIPC {
				t.Errorf("hostNetwork=%v hostPID=%v hostIPC=%v, want all false", ps.HostNetwork, ps.HostPID, ps.HostIPC)
			}
			if ps.AutomountServiceAccountToken == nil || *ps.AutomountServiceAccountToken {
				t.Error("automountServiceAccountToken must be false: the collector does not call the API server")
			}
			if sa := Find(objs, "ServiceAccount"); len(sa) != 1 || sa[0].Name != ps.ServiceAccountName {
				t.Errorf("serviceAccountName %q is not the ServiceAccount shipped", ps.ServiceAccountName)
			}
			if !slices.ContainsFunc(ps.Tolerations, func(tol corev1.Toleration) bool {
				return tol.Operator == corev1.TolerationOpExists && tol.Key == "" && tol.Effect == ""
			}) {
				t.Errorf("tolerations %v do not tolerate every taint (control plane included)", ps.Tolerations)
			}
			if ds.Spec.UpdateStrategy.Type != appsv1.RollingUpdateDaemonSetStrategyType {
				t.Errorf("updateStrategy %q, want RollingUpdate", ds.Spec.UpdateStrategy.Type)
			}
			if len(ps.Containers) != 1 {
				t.Fatalf("%d containers, want 1", len(ps.Containers))
			}
			c := &ps.Containers[0]
			psc := ps.SecurityContext
			sc := c.SecurityContext
			if psc == nil || sc == nil {
				t.Fatal("pod and container securityContext must be set")
			}
			if sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
				t.Error("readOnlyRootFilesystem must be true")
			}
			if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
				t.Error("allowPrivilegeEscalation must be false")
			}
			if sc.Privileged != nil && *sc.Privileged {
				t.Error("privileged must be false")
			}
			if sc.Capabilities == nil || !slices.Contains(sc.Capabilities.Drop, "ALL") || len(sc.Capabilities.Add) != 0 {
				t.Errorf("capabilities %+v: want drop [ALL] and nothing added", sc.Capabilities)
			}
			if seccomp := effectiveSeccomp(psc, sc); seccomp != corev1.SeccompProfileTypeRuntimeDefault {
				t.Errorf("seccompProfile %q, want RuntimeDefault", seccomp)
			}
			uid, nonRoot := effectiveUser(psc, sc)
			if v.runAsRoot {
				if uid != 0 || nonRoot {
					t.Errorf("export-file-root: runAsUser %d runAsNonRoot %v, want 0/false", uid, nonRoot)
				}
			} else {
				if uid == 0 || !nonRoot {
					t.Errorf("runAsUser %d runAsNonRoot %v, want a non-zero uid and runAsNonRoot true", uid, nonRoot)
				}
				// The socket is root:root 0660 and the export file root:root 0640: group 0.
				if !slices.Contains(psc.SupplementalGroups, 0) {
					t.Errorf("supplementalGroups %v must contain 0 to reach Tetragon's socket/export file as non-root", psc.SupplementalGroups)
				}
			}
			checkStorageInit(t, ps, uid)
		})
	}
}

func effectiveSeccomp(psc *corev1.PodSecurityContext, sc *corev1.SecurityContext) corev1.SeccompProfileType {
	if sc.SeccompProfile != nil {
		return sc.SeccompProfile.Type
	}
	if psc.SeccompProfile != nil {
		return psc.SeccompProfile.Type
	}
	return ""
}

func effectiveUser(psc *corev1.PodSecurityContext, sc *corev1.SecurityContext) (int64, bool) {
	uid, nonRoot := int64(0), false
	if psc.RunAsUser != nil {
		uid = *psc.RunAsUser
	}
	if sc.RunAsUser != nil {
		uid = *sc.RunAsUser
	}
	if psc.RunAsNonRoot != nil {
		nonRoot = *psc.RunAsNonRoot
	}
	if sc.RunAsNonRoot != nil {
		nonRoot = *sc.RunAsNonRoot
	}
	return uid, nonRoot
}

// checkStorageInit: the init container that hands the storage hostPath to the collector must
// have CAP_CHOWN and CAP_FOWNER only, and chown to the collector's own uid and gid (a capability-
// less collector cannot write into a 0700 directory it does not own, uid 0 included).
func checkStorageInit(t *testing.T, ps *corev1.PodSpec, uid int64) {
	t.Helper()
	if len(ps.InitContainers) != 1 {
		t.Fatalf("%d init containers, want 1 (storage-permissions)", len(ps.InitContainers))
	}
	ic := ps.InitContainers[0]
	sc := ic.SecurityContext
	if sc == nil || sc.Capabilities == nil || !slices.Contains(sc.Capabilities.Drop, "ALL") ||
		!slices.Equal(sc.Capabilities.Add, []corev1.Capability{"CHOWN", "FOWNER"}) {
		t.Errorf("init container %s capabilities %+v: want drop [ALL], add [CHOWN, FOWNER] only", ic.Name, sc.Capabilities)
	}
	if sc != nil && (sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem || sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation) {
		t.Errorf("init container %s: want readOnlyRootFilesystem and no privilege escalation", ic.Name)
	}
	if !slices.ContainsFunc(ic.VolumeMounts, func(m corev1.VolumeMount) bool { return m.MountPath == storageDir && !m.ReadOnly }) {
		t.Errorf("init container %s does not mount %s read-write", ic.Name, storageDir)
	}
	gid := effectiveGroup(ps.SecurityContext, ps.Containers[0].SecurityContext)
	env := map[string]string{}
	for _, e := range ic.Env {
		env[e.Name] = e.Value
	}
	if env["STORAGE_UID"] != strconv.FormatInt(uid, 10) || env["STORAGE_GID"] != strconv.FormatInt(gid, 10) {
		t.Errorf("init container hands the storage to %s:%s, the collector runs as %d:%d", env["STORAGE_UID"], env["STORAGE_GID"], uid, gid)
	}
	script := strings.Join(ic.Command, " ")
	if !strings.Contains(script, `chown "$STORAGE_UID:$STORAGE_GID"`) {
		t.Error("init container script does not chown to STORAGE_UID:STORAGE_GID")
	}
	if strings.Contains(script, "$(") && !strings.Contains(script, "$$(") {
		t.Error("init container script uses $( unescaped: Kubernetes expands $(VAR) in commands, write $$(")
	}
}

func effectiveGroup(psc *corev1.PodSecurityContext, sc *corev1.SecurityContext) int64 {
	gid := int64(0)
	if psc.RunAsGroup != nil {
		gid = *psc.RunAsGroup
	}
	if sc.RunAsGroup != nil {
		gid = *sc.RunAsGroup
	}
	return gid
}

func TestDaemonSetResourcesAndMemoryLimit(t *testing.T) {
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			ds, err := DaemonSet(render(t, v))
			if err != nil {
				t.Fatal(err)
			}
			c := &ds.Spec.Template.Spec.Containers[0]
			req, lim := c.Resources.Requests, c.Resources.Limits
			memLimit, ok := lim[corev1.ResourceMemory]
			if !ok {
				t.Fatal("no memory limit")
			}
			memReq, ok := req[corev1.ResourceMemory]
			if !ok || memReq.Cmp(memLimit) > 0 {
				t.Errorf("memory request %v must be set and not above the limit %v", memReq.String(), memLimit.String())
			}
			if _, ok := req[corev1.ResourceCPU]; !ok {
				t.Error("no CPU request")
			}
			if cpu, ok := lim[corev1.ResourceCPU]; ok {
				t.Errorf("CPU limit %v: throttling the pipeline only grows its queues; leave it unset", cpu.String())
			}

			env := map[string]corev1.EnvVar{}
			for _, e := range c.Env {
				env[e.Name] = e
			}
			gml, ok := env["GOMEMLIMIT"]
			if !ok {
				t.Fatal("no GOMEMLIMIT")
			}
			soft, err := parseGoMemLimit(gml.Value)
			if err != nil {
				t.Fatal(err)
			}
			if ratio := float64(soft) / float64(memLimit.Value()); ratio < 0.75 || ratio > 0.85 {
				t.Errorf("GOMEMLIMIT %s is %.0f%% of limits.memory %s, want 75-85%%", gml.Value, ratio*100, memLimit.String())
			}
			if got := env["GOMAXPROCS"].Value; got != strconv.Itoa(loadtest.ShippedGOMAXPROCS) {
				t.Errorf("GOMAXPROCS %q, want %d: what the testbed measures as shipped (loadtest.ShippedGOMAXPROCS)", got, loadtest.ShippedGOMAXPROCS)
			}
			mib, ok := env["MEMORY_LIMIT_MIB"]
			if !ok || mib.ValueFrom == nil || mib.ValueFrom.ResourceFieldRef == nil {
				t.Fatal("MEMORY_LIMIT_MIB must come from the downward API")
			}
			rf := mib.ValueFrom.ResourceFieldRef
			if rf.Resource != "limits.memory" || rf.ContainerName != c.Name || !rf.Divisor.Equal(resource.MustParse("1Mi")) {
				t.Errorf("MEMORY_LIMIT_MIB resourceFieldRef %+v, want limits.memory of %s with divisor 1Mi", rf, c.Name)
			}
			node, ok := env["K8S_NODE_NAME"]
			if !ok || node.ValueFrom == nil || node.ValueFrom.FieldRef == nil || node.ValueFrom.FieldRef.FieldPath != "spec.nodeName" {
				t.Error("K8S_NODE_NAME must come from the downward API (spec.nodeName)")
			}
		})
	}
}

// parseGoMemLimit parses the GOMEMLIMIT syntax of the Go runtime: a byte count with an
// optional B, KiB, MiB, GiB or TiB suffix.
func parseGoMemLimit(s string) (int64, error) {
	units := []struct {
		suffix string
		mult   int64
	}{{"TiB", 1 << 40}, {"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"B", 1}}
	for _, u := range units {
		if n, ok := strings.CutSuffix(s, u.suffix); ok {
			v, err := strconv.ParseInt(n, 10, 64)
			return v * u.mult, err
		}
	}
	return strconv.ParseInt(s, 10, 64)
}

func TestDaemonSetMountsAndProbes(t *testing.T) {
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			objs := render(t, v)
			ds, err := DaemonSet(objs)
			if err != nil {
				t.Fatal(err)
			}
			ps := &ds.Spec.Template.Spec
			c := &ps.Containers[0]
			vols := map[string]corev1.Volume{}
			for _, vol := range ps.Volumes {
				vols[vol.Name] = vol
			}
			mounts := map[string]corev1.VolumeMount{}
			for _, cc := range append(append([]corev1.Container{}, ps.InitContainers...), ps.Containers...) {
				for _, m := range cc.VolumeMounts {
					if m.SubPath != "" || m.SubPathExpr != "" {
						t.Errorf("%s mounts %s with subPath: subPath mounts never see ConfigMap updates", cc.Name, m.MountPath)
					}
				}
			}
			for _, m := range c.VolumeMounts {
				mounts[m.MountPath] = m
			}

			// Every hostPath is read-only except the storage directory.
			for _, m := range c.VolumeMounts {
				vol := vols[m.Name]
				if vol.HostPath == nil {
					continue
				}
				if vol.HostPath.Path != m.MountPath {
					t.Errorf("hostPath %s is mounted at %s: keep host and pod paths equal", vol.HostPath.Path, m.MountPath)
				}
				if m.MountPath != storageDir && !m.ReadOnly {
					t.Errorf("hostPath %s is mounted read-write", m.MountPath)
				}
			}
			checkHostPath(t, vols, mounts, storageDir, false)
			if v.fileMode {
				checkHostPath(t, vols, mounts, tetragonExport, true)
				if _, ok := mounts[tetragonRunDir]; ok {
					t.Errorf("export-file mode still mounts %s", tetragonRunDir)
				}
			} else {
				checkHostPath(t, vols, mounts, tetragonRunDir, true)
				if _, ok := mounts[tetragonExport]; ok {
					t.Errorf("gRPC mode mounts %s", tetragonExport)
				}
			}

			if v.gateway {
				// The agent evaluates no rule; the gateway Deployment mounts them (TestGateway).
				if _, ok := mounts[rulesDir]; ok {
					t.Errorf("the gateway variant's agent still mounts %s", rulesDir)
				}
			} else {
				checkRulesMount(t, vols, mounts)
			}
			checkProbesAndPorts(t, collectorConfig(t, objs, ps), c, podEnv(t, objs, c))
		})
	}
}

// checkRulesMount: the rules ConfigMap is a directory mount of a ConfigMap without hash suffix,
// so that `kubectl apply` updates it in place and the kubelet refreshes the files.
func checkRulesMount(t *testing.T, vols map[string]corev1.Volume, mounts map[string]corev1.VolumeMount) {
	t.Helper()
	rm, ok := mounts[rulesDir]
	if !ok || !rm.ReadOnly || vols[rm.Name].ConfigMap == nil {
		t.Fatalf("no read-only ConfigMap directory mount at %s", rulesDir)
	}
	if name := vols[rm.Name].ConfigMap.Name; name != "otelcol-runtime-security-rules" {
		t.Errorf("rules volume uses ConfigMap %q: a hash-suffixed name changes on every edit and restarts the pods instead of hot-reloading", name)
	}
	if len(vols[rm.Name].ConfigMap.Items) != 0 {
		t.Error("rules volume remaps items: mount the whole ConfigMap")
	}
}

// checkProbesAndPorts: probes on the health_check extension's port, at the pod IP (no host: the
// kubelet probes the pod IP, where health_check listens); the metrics port on the self-telemetry
// port. env is the container's environment, which the configuration reads.
func checkProbesAndPorts(t *testing.T, conf *confmap.Conf, c *corev1.Container, env map[string]string) {
	t.Helper()
	ports := map[string]int32{}
	for _, p := range c.Ports {
		ports[p.Name] = p.ContainerPort
	}
	healthPort := portOf(t, ExpandEnv(Str(conf, "extensions::health_check::endpoint"), env))
	for name, p := range map[string]*corev1.Probe{"liveness": c.LivenessProbe, "readiness": c.ReadinessProbe} {
		if p == nil || p.HTTPGet == nil {
			t.Errorf("%s probe must be an httpGet on health_check", name)
			continue
		}
		port := p.HTTPGet.Port.IntVal
		if p.HTTPGet.Port.StrVal != "" {
			port = ports[p.HTTPGet.Port.StrVal]
		}
		if port != healthPort || p.HTTPGet.Path != "/" {
			t.Errorf("%s probe %s:%d, want /:%d (health_check)", name, p.HTTPGet.Path, port, healthPort)
		}
		if p.HTTPGet.Host != "" {
			t.Errorf("%s probe host %q: leave it empty, the kubelet then probes the pod IP where health_check listens", name, p.HTTPGet.Host)
		}
	}
	readers, _ := conf.Get("service::telemetry::metrics::readers").([]any)
	if len(readers) != 1 {
		t.Fatalf("%d telemetry metric readers, want 1", len(readers))
	}
	prom, _ := dig(readers[0], "pull", "exporter", "prometheus").(map[string]any)
	if got := ExpandEnv(fmt.Sprint(prom["port"]), env); got != strconv.Itoa(int(ports["metrics"])) {
		t.Errorf("self-telemetry on port %v (%s), container port metrics is %d", prom["port"], got, ports["metrics"])
	}
}

func checkHostPath(t *testing.T, vols map[string]corev1.Volume, mounts map[string]corev1.VolumeMount, dir string, readOnly bool) {
	t.Helper()
	m, ok := mounts[dir]
	if !ok {
		t.Errorf("no mount at %s", dir)
		return
	}
	hp := vols[m.Name].HostPath
	if hp == nil || hp.Path != dir {
		t.Errorf("%s is not the hostPath %s", dir, dir)
		return
	}
	if hp.Type == nil || *hp.Type != corev1.HostPathDirectoryOrCreate {
		t.Errorf("hostPath %s type %v, want DirectoryOrCreate (install order must not matter)", dir, hp.Type)
	}
	if m.ReadOnly != readOnly {
		t.Errorf("%s readOnly=%v, want %v", dir, m.ReadOnly, readOnly)
	}
}

func portOf(t *testing.T, endpoint string) int32 {
	t.Helper()
	_, p, err := net.SplitHostPort(endpoint)
	if err != nil {
		t.Fatalf("endpoint %q: %v", endpoint, err)
	}
	n, err := strconv.Atoi(p)
	if err != nil {
		t.Fatalf("endpoint %q: %v", endpoint, err)
	}
	return int32(n)
}

func dig(v any, keys ...string) any {
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

// hostPathUnder reports whether pod path p lies in a hostPath mount of c and whether that
// mount is read-only.
func hostPathUnder(ps *corev1.PodSpec, c *corev1.Container, p string) (found, readOnly bool) {
	for _, m := range c.VolumeMounts {
		if p != m.MountPath && !strings.HasPrefix(p, strings.TrimSuffix(m.MountPath, "/")+"/") {
			continue
		}
		for _, vol := range ps.Volumes {
			if vol.Name == m.Name && vol.HostPath != nil {
				return true, m.ReadOnly
			}
		}
	}
	return false, false
}

// TestStorageInitScript runs the init container's script (as the kubelet hands it to sh, with
// $$ unescaped) with exactly the capabilities the manifest grants it (setpriv bounding set) on a
// root-owned directory, then checks that the collector's user, with no capability at all, can
// write there: for uid 10001 (default) and for uid 0 (components/export-file-root), and when
// switching between the two.
func TestStorageInitScript(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Fatal("this test changes owners and drops capabilities: it must run as root (as CI and the dev machines do)")
	}
	setpriv, err := exec.LookPath("setpriv")
	if err != nil {
		t.Fatalf("setpriv (util-linux) is needed to run the script with the init container's capabilities: %v", err)
	}
	ds, err := DaemonSet(render(t, variants[0]))
	if err != nil {
		t.Fatal(err)
	}
	ic := ds.Spec.Template.Spec.InitContainers[0]
	if len(ic.Command) != 3 || ic.Command[0] != "sh" || ic.Command[1] != "-c" {
		t.Fatalf("init command %q, want sh -c <script>", ic.Command)
	}
	bounding := "-all"
	for _, c := range ic.SecurityContext.Capabilities.Add {
		bounding += ",+" + strings.ToLower(string(c))
	}
	dir := filepath.Join(t.TempDir(), "storage")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	// t.TempDir's directories are 0700: let the collector's uid reach the storage directory.
	for _, d := range []string{filepath.Dir(dir), filepath.Dir(filepath.Dir(dir))} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	script := strings.ReplaceAll(strings.ReplaceAll(ic.Command[2], "$$(", "$("), storageDir, dir)
	runs := 0
	run := func(uid, gid int) {
		t.Helper()
		runs++
		cmd := exec.Command(setpriv, "--bounding-set="+bounding, "--inh-caps=-all", "sh", "-c", script)
		cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "STORAGE_UID=" + strconv.Itoa(uid), "STORAGE_GID=" + strconv.Itoa(gid)}
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("init script with capabilities %s: %v\n%s", bounding, err, out)
		}
		st, err := os.Stat(dir)
		if err != nil {
			t.Fatal(err)
		}
		sys := st.Sys().(*syscall.Stat_t)
		if int(sys.Uid) != uid || int(sys.Gid) != gid || st.Mode().Perm() != 0o700 {
			t.Errorf("after the script: %d:%d %v, want %d:%d -rwx------", sys.Uid, sys.Gid, st.Mode().Perm(), uid, gid)
		}
		// The collector: that uid/gid, supplemental group 0, no capability.
		probe := filepath.Join(dir, "probe-"+strconv.Itoa(runs))
		w := exec.Command(setpriv, "--reuid="+strconv.Itoa(uid), "--regid="+strconv.Itoa(gid), "--groups=0",
			"--bounding-set=-all", "--inh-caps=-all", "sh", "-c", "mkdir "+probe+" && touch "+probe+"/f")
		if out, err := w.CombinedOutput(); err != nil {
			t.Errorf("uid %d cannot write into the storage directory: %v\n%s", uid, err, out)
		}
	}
	run(10001, 10001)
	run(10001, 10001) // already right: a no-op
	run(0, 0)         // export-file-root
	run(10001, 10001) // and back
}
