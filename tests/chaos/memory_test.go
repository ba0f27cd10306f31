// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

//go:build chaos

package chaos

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/testenv"
)

// TestMemoryLimitCgroup runs the log-store outage scenario (a backlog in the persistent queue,
// then its replay) with the collector in a real cgroup v2 whose memory.max is the DaemonSet's
// memory limit (deploy/kubernetes/base/daemonset.yaml) and no swap, as the kubelet would run it:
// it must not be OOM-killed (memory.events oom_kill stays 0) and still store every event once.
// Where no cgroup v2 memory controller can be delegated to the test, it is skipped and the
// summary says why.
func TestMemoryLimitCgroup(t *testing.T) {
	ds := readDaemonSet(t)
	cg, err := newCgroupV2(t, ds.MemoryLimit)
	if err != nil {
		record(row{Scenario: "memory limit (cgroup v2)", Note: "not run: " + err.Error()})
		t.Skipf("no cgroup v2 memory limit: %v", err)
	}
	h := newHarness(t, harnessOptions{})
	bin := testenv.Binary(t, "OTELCOL_BIN", "otelcol-runtime-security")
	name := fmt.Sprintf("log-store outage in a cgroup, memory.max %d MiB", h.ds.MemoryLimit>>20)
	runOutage(t, h, name, func() {
		// The shell puts itself into the cgroup, then becomes the collector: every page the
		// collector touches is charged to the cgroup.
		p := h.startCollectorWith("/bin/sh", "-c", `echo $$ > "`+filepath.Join(cg, "cgroup.procs")+`" && exec "$0" "$@"`, bin)
		b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", p.Cmd.Process.Pid))
		if !strings.Contains(string(b), "/"+filepath.Base(cg)) {
			t.Fatalf("the collector is not in %s: /proc/%d/cgroup is %q", cg, p.Cmd.Process.Pid, b)
		}
	})
	events := readKeyValues(t, filepath.Join(cg, "memory.events"))
	peak := readInt(filepath.Join(cg, "memory.peak")) // Linux ≥ 5.19
	t.Logf("cgroup %s: memory.max %d, memory.peak %d, memory.events %v", cg, h.ds.MemoryLimit, peak, events)
	if events["oom_kill"] != 0 || events["oom"] != 0 {
		t.Errorf("the collector hit its memory limit: memory.events %v", events)
	}
}

// newCgroupV2 creates a cgroup with memory.max = limit and memory.swap.max = 0, removed at the
// end of the test, or says why it cannot. It is made beside the test's own cgroup, or else
// under the root of the cgroup v2 mount, where that parent already delegates the memory
// controller to its children (the test changes no existing cgroup).
func newCgroupV2(t *testing.T, limit int64) (string, error) {
	mount, err := cgroup2Mount()
	if err != nil {
		return "", err
	}
	ctrl, _ := os.ReadFile(filepath.Join(mount, "cgroup.controllers"))
	if !slices.Contains(strings.Fields(string(ctrl)), "memory") {
		why := ""
		if _, err := os.Stat("/sys/fs/cgroup/memory/memory.limit_in_bytes"); err == nil {
			why = " (memory is attached to the cgroup v1 hierarchy at /sys/fs/cgroup/memory, which belongs to whatever runs the tests)"
		}
		return "", fmt.Errorf("the cgroup v2 hierarchy mounted at %s offers the controllers %q, not memory%s",
			mount, strings.TrimSpace(string(ctrl)), why)
	}
	var candidates []string
	if own, err := ownCgroup(); err == nil {
		candidates = append(candidates, filepath.Join(mount, filepath.Dir(own)))
	}
	candidates = append(candidates, mount)
	var reasons []string
	for _, parent := range candidates {
		sub, _ := os.ReadFile(filepath.Join(parent, "cgroup.subtree_control"))
		if !slices.Contains(strings.Fields(string(sub)), "memory") {
			reasons = append(reasons, fmt.Sprintf("%s does not delegate the memory controller to its children (cgroup.subtree_control %q)", parent, strings.TrimSpace(string(sub))))
			continue
		}
		dir := filepath.Join(parent, fmt.Sprintf("otelcol-chaos-%d", os.Getpid()))
		if err := os.Mkdir(dir, 0o755); err != nil {
			reasons = append(reasons, fmt.Sprintf("mkdir %s: %v", dir, err))
			continue
		}
		t.Cleanup(func() { _ = os.Remove(dir) })
		if err := os.WriteFile(filepath.Join(dir, "memory.max"), []byte(strconv.FormatInt(limit, 10)), 0); err != nil {
			return "", fmt.Errorf("set %s/memory.max: %w", dir, err)
		}
		_ = os.WriteFile(filepath.Join(dir, "memory.swap.max"), []byte("0"), 0) // absent without swap accounting
		return dir, nil
	}
	return "", errors.New(strings.Join(reasons, "; "))
}

// cgroup2Mount finds where the cgroup v2 hierarchy is mounted.
func cgroup2Mount() (string, error) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return "", err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// id parent major:minor root mountpoint options ... - fstype source superoptions
		fields := strings.Fields(sc.Text())
		i := slices.Index(fields, "-")
		if i > 0 && i+1 < len(fields) && fields[i+1] == "cgroup2" && len(fields) > 4 {
			return fields[4], nil
		}
	}
	return "", errors.New("no cgroup v2 hierarchy is mounted")
}

// ownCgroup is this process's cgroup v2 path ("0::/path").
func ownCgroup() (string, error) {
	b, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return "", err
	}
	for _, l := range strings.Split(string(b), "\n") {
		if p, ok := strings.CutPrefix(l, "0::"); ok && p != "/" {
			return p, nil
		}
	}
	return "", errors.New("not in a cgroup v2 cgroup")
}

func readKeyValues(t *testing.T, path string) map[string]int64 {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int64{}
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if k, v, ok := strings.Cut(l, " "); ok {
			out[k], _ = strconv.ParseInt(v, 10, 64)
		}
	}
	return out
}

func readInt(path string) int64 {
	b, _ := os.ReadFile(path)
	n, _ := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	return n
}
