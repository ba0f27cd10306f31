// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package builtin_test

import (
	"context"
	"maps"
	"slices"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protojson"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/processor/detectionprocessor/internal/rules"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/testbed/tetragonsim"
)

// simulatorHits generates n events of a tetragon-sim scenario, runs them
// through the receiver and the catalogue and counts the hits per rule.
func simulatorHits(t *testing.T, rs *rules.Ruleset, scenario string, n int) map[string]int {
	t.Helper()
	clock := time.Date(2026, 11, 26, 17, 0, 0, 0, time.UTC)
	g, err := tetragonsim.NewGenerator(tetragonsim.GeneratorConfig{
		Scenario: scenario,
		Seed:     7,
		Clock:    func() time.Time { clock = clock.Add(time.Millisecond); return clock },
	})
	if err != nil {
		t.Fatal(err)
	}
	lines := make([][]byte, n)
	for i := range lines {
		b, err := protojson.MarshalOptions{UseProtoNames: true}.Marshal(g.Next())
		if err != nil {
			t.Fatal(err)
		}
		lines[i] = b
	}
	got := map[string]int{}
	for _, r := range mapLines(t, lines, n) {
		for _, m := range rs.EvaluateRecord(context.Background(), r.rl, r.sl, r.lr, nil, func(rule *rules.Rule, err error) {
			t.Errorf("rule %s failed to evaluate: %v", rule.Name, err)
		}) {
			got[m.Name]++
		}
	}
	return got
}

// The attack scenario plays kubectl exec shells, credential reads, apt-get,
// a miner run from /tmp, reverse shells, nmap against the API server, a web
// shell under nginx and a privileged-pod escape (nsenter/setns, ptrace, a
// kernel module, an /etc/passwd write). Exactly the rules for those must
// fire, each at least once; the rules for behaviour it does not simulate
// must stay silent.
func TestSimulatorAttackScenario(t *testing.T) {
	rs := builtin(t)
	got := simulatorHits(t, rs, "attack", 2000)
	want := []string{
		"terminal_shell_in_container", "shell_spawned_by_server", "sensitive_file_read",
		"service_account_token_read", "sensitive_file_write", "package_manager_in_container",
		"execution_from_writable_dir", "reverse_shell", "crypto_miner", "k8s_api_from_container",
		"network_recon_tool", "ptrace_attach", "kernel_module_load", "namespace_escape",
		"remote_file_copy_in_container", // the scenario's `curl -o /tmp/xmrig`
		"system_discovery_in_container", // its id/uname after the shell
		"setuid_bit_set", "proc_environ_read", "packet_socket_in_container", "shell_history_tampering",
	}
	fired := slices.Sorted(maps.Keys(got))
	slices.Sort(want)
	if !slices.Equal(fired, want) {
		t.Errorf("rules fired on the attack scenario\n got %v\nwant %v\n(hits %v)", fired, want, got)
	}
	t.Logf("attack scenario, 2000 events: %v", got)
}

// The benign scenarios (cluster background, exec bursts, file-access bursts,
// syscall traffic: container start-up, exec probes, cron, kubelet, CNI,
// entrypoint scripts, app maintenance scripts) must not raise anything.
func TestSimulatorBenignScenarios(t *testing.T) {
	rs := builtin(t)
	for _, sc := range []string{"benign", "exec-heavy", "file-access", "syscalls"} {
		t.Run(sc, func(t *testing.T) {
			if got := simulatorHits(t, rs, sc, 3000); len(got) != 0 {
				t.Errorf("detections on benign traffic: %v", got)
			}
		})
	}
}
