// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package detectionprocessor

import (
	"context"
	"fmt"
	"testing"

	"go.opentelemetry.io/collector/processor/processortest"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/processor/detectionprocessor/internal/metadata"
)

// benchExec is a process_exec record shaped like the tetragon receiver's.
func benchExec(exe, parent string) rec {
	return rec{
		event: "tetragon.process_exec",
		resource: map[string]any{
			"k8s.node.name": "node-1", "k8s.namespace.name": "shop", "k8s.pod.name": "web-7d9f-abcde",
			"k8s.container.name": "web", "k8s.workload.name": "web", "k8s.workload.kind": "Deployment",
			"container.id": "3f2a9c0d1e", "container.image.name": "docker.io/library/nginx:1.27",
		},
		attrs: map[string]any{
			"process.pid": int64(52699), "process.executable.path": "/usr/bin/" + exe, "process.executable.name": exe,
			"process.command_line": "/usr/bin/" + exe + " -c id", "tetragon.process.arguments": "-c id",
			"process.working_directory": "/", "process.user.id": int64(0), "process.parent_pid": int64(52690),
			"process.parent.executable.path": "/usr/sbin/" + parent, "process.parent.executable.name": parent,
			"process.parent.command_line": "/usr/sbin/" + parent + " -g daemon off;",
			"tetragon.exec_id":            "a2luZDo1MjY5OTo4NzY1NDMyMQ==", "tetragon.parent_exec_id": "a2luZDo1MjY5MDo4NzY1NDMyMA==",
			"tetragon.in_init_tree": false, "tetragon.exec_probe": false, "tetragon.flags": "execve clone",
			"tetragon.ancestors.binaries": []any{"/usr/bin/containerd-shim-runc-v2", "/usr/lib/systemd/systemd"},
		},
	}
}

func benchKprobe(path string) rec {
	r := benchExec("cat", "bash")
	r.event = "tetragon.process_kprobe"
	r.attrs["tetragon.function_name"] = "security_file_permission"
	r.attrs["tetragon.hook"] = "security_file_permission"
	r.attrs["tetragon.policy_name"] = "file-monitoring"
	r.attrs["tetragon.action"] = "KPROBE_ACTION_POST"
	r.attrs["file.path"] = path
	r.attrs["tetragon.args"] = []any{
		map[string]any{"file_arg": map[string]any{"path": path, "permission": "-rw-r-----"}},
		map[string]any{"int_arg": int64(4)},
	}
	return r
}

// BenchmarkProcessRecord measures the per-record cost of the processor (one
// record per ConsumeLogs batch, rules evaluation + tagging) with the built-in
// catalogue, for records that match nothing and records that match.
func BenchmarkProcessRecord(b *testing.B) {
	cases := []struct {
		name string
		r    rec
	}{
		{"exec_benign", benchExec("ls", "bash")},
		{"exec_shell_from_nginx", benchExec("bash", "nginx")},
		{"kprobe_benign_file", benchKprobe("/usr/share/zoneinfo/UTC")},
		{"kprobe_etc_shadow", benchKprobe("/etc/shadow")},
		{"exit_no_rules", rec{event: "tetragon.process_exit", resource: map[string]any{}, attrs: map[string]any{"process.pid": int64(1)}}},
	}
	// builtin-noincidents shows what incidents and chains cost on top of the rules.
	for _, rulesName := range []string{"builtin", "builtin-noincidents", "testdata"} {
		cfg := createDefaultConfig().(*Config)
		switch rulesName {
		case "testdata":
			cfg.BuiltinRules = false
			cfg.RulesFiles = []string{"testdata/rules.yaml"}
		case "builtin-noincidents":
			cfg.Incidents.Enabled = false
		}
		p, err := newDetectionProcessor(processortest.NewNopSettings(metadata.Type), cfg)
		if err != nil {
			b.Fatal(err)
		}
		rs := p.state.Load().rs
		for _, c := range cases {
			b.Run(fmt.Sprintf("rules=%s(%d)/%s", rulesName, rs.EnabledCount(), c.name), func(b *testing.B) {
				// The same record is processed over and over: tagging is
				// idempotent (keys are overwritten), so nothing accumulates.
				ld := logsOf(b, c.r)
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					if _, err := p.processLogs(context.Background(), ld); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
