// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package rules_test

import (
	"context"
	"testing"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/processor/detectionprocessor/internal/rules"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/processor/detectionprocessor/internal/rules/rulestest"
)

var benchEvents = map[string]rulestest.Event{
	"exec": {
		Name: "tetragon.process_exec",
		Resource: map[string]any{
			"k8s.namespace.name": "shop", "k8s.pod.name": "web-7d9f-abcde", "k8s.workload.name": "web",
			"container.id": "3f2a9c0d1e", "container.image.name": "docker.io/library/nginx:1.27",
		},
		Attributes: map[string]any{
			"process.pid": int64(52699), "process.executable.path": "/usr/bin/ls", "process.executable.name": "ls",
			"process.command_line": "/usr/bin/ls -la /tmp", "tetragon.process.arguments": "-la /tmp",
			"process.working_directory": "/", "process.user.id": int64(0),
			"process.parent.executable.path": "/bin/bash", "process.parent.executable.name": "bash",
			"tetragon.exec_id": "a2luZDo1MjY5OTo4NzY1NDMyMQ==", "tetragon.in_init_tree": false, "tetragon.exec_probe": false,
			"tetragon.ancestors.binaries": []any{"/usr/bin/containerd-shim-runc-v2", "/usr/lib/systemd/systemd"},
		},
	},
	"kprobe": {
		Name:     "tetragon.process_kprobe",
		Resource: map[string]any{"k8s.namespace.name": "shop", "k8s.pod.name": "web-7d9f-abcde", "container.id": "3f2a9c0d1e"},
		Attributes: map[string]any{
			"process.executable.path": "/usr/bin/cat", "process.executable.name": "cat",
			"tetragon.hook": "security_file_permission", "tetragon.function_name": "security_file_permission",
			"file.path": "/usr/share/zoneinfo/UTC",
			"tetragon.args": []any{
				map[string]any{"file_arg": map[string]any{"path": "/usr/share/zoneinfo/UTC", "permission": "-rw-r--r--"}},
				map[string]any{"int_arg": int64(4)},
			},
		},
	},
}

// BenchmarkBuiltinRule reports the cost of each built-in rule alone on a
// benign record of each event type it applies to, to find expensive rules:
//
//	go test ./processor/detectionprocessor/internal/rules/ -run X -bench BuiltinRule
func BenchmarkBuiltinRule(b *testing.B) {
	all, err := rulestest.Builtin()
	if err != nil {
		b.Fatal(err)
	}
	for _, r := range all.Rules() {
		for evName, ev := range benchEvents {
			applies := false
			for _, e := range r.Events {
				applies = applies || e == ev.Name
			}
			if !applies || !r.Enabled {
				continue
			}
			others := make([]string, 0, len(all.Rules()))
			for _, o := range all.Rules() {
				if o.Name != r.Name {
					others = append(others, o.Name)
				}
			}
			srcs, err := rules.BuiltinSources()
			if err != nil {
				b.Fatal(err)
			}
			one, err := rules.Compile(srcs, others, nil)
			if err != nil {
				b.Fatal(err)
			}
			ld := ev.Logs()
			rl := ld.ResourceLogs().At(0)
			sl := rl.ScopeLogs().At(0)
			lr := sl.LogRecords().At(0)
			b.Run(r.Name+"/"+evName, func(b *testing.B) {
				var buf []*rules.Rule
				b.ReportAllocs()
				for i := 0; i < b.N; i++ {
					buf = one.EvaluateRecord(context.Background(), rl, sl, lr, buf[:0], nil)
				}
			})
		}
	}
}
