// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package workloadprofileprocessor

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/corpusrec"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/testbed/tetragonsim"
)

// simulated maps n events of a tetragon-sim scenario (seed 7: the same
// cluster, pods and workloads in every scenario) with event times from start.
func simulated(t *testing.T, scenario string, n int, start time.Time) []rec {
	t.Helper()
	clock := start
	g, err := tetragonsim.NewGenerator(tetragonsim.GeneratorConfig{
		Scenario: scenario,
		Seed:     7,
		Clock:    func() time.Time { clock = clock.Add(100 * time.Millisecond); return clock },
	})
	require.NoError(t, err)
	lines := make([][]byte, n)
	for i := range lines {
		lines[i], err = protojson.MarshalOptions{UseProtoNames: true}.Marshal(g.Next())
		require.NoError(t, err)
	}
	return corpusrec.Map(t, lines)
}

// The simulator's cluster learns from its benign traffic, then its attack
// rounds run in the same workloads: the attackers' tools (nmap, nc, the miner
// in /tmp, nsenter, insmod, …) are novel executables of enforcing profiles,
// while more benign traffic of the same workloads stays quiet.
func TestSimulatorScenariosLearnThenAttack(t *testing.T) {
	cfg := testConfig()
	cfg.Learning.Period = 30 * time.Minute // longer than the 20 minutes of benign traffic below
	p, _ := newTestProcessor(t, cfg)
	start := time.Date(2026, 11, 26, 17, 0, 0, 0, time.UTC)

	learned := process(t, p, logsOf(simulated(t, "benign", 12000, start), 0))
	workloads := map[string]bool{}
	for _, m := range learned {
		if m.workload != "" {
			workloads[m.workload] = true
		}
		require.False(t, m.hasNovel, "a learning profile marked %s %s", m.event, m.exe)
	}
	require.Greater(t, len(workloads), 3, "the benign scenario should profile several workloads")

	// 20 minutes later (learning over): more benign traffic, then attacks.
	later := start.Add(12000*100*time.Millisecond + 20*time.Minute)
	benign := process(t, p, logsOf(simulated(t, "benign", 3000, later), 0))
	benignKinds, _ := novelKinds(benign)
	attack := process(t, p, logsOf(simulated(t, "attack", 3000, later.Add(10*time.Minute)), 0))
	attackKinds, _ := novelKinds(attack)
	t.Logf("%d workloads; benign again: %v; attack: %v", len(workloads), benignKinds, attackKinds)

	novelExes := map[string]bool{}
	for _, m := range attack {
		for _, k := range m.novel {
			if k == "exec" && m.state == "enforcing" {
				novelExes[m.exe] = true
			}
		}
	}
	for _, exe := range []string{"/usr/bin/nmap", "/usr/bin/nc", "/tmp/xmrig"} {
		require.True(t, novelExes[exe], "attack executable %s not marked novel (novel: %v)", exe, novelExes)
	}
	// Benign traffic of the learned kinds is quiet; the attacks show every kind.
	require.Empty(t, benignKinds, "benign traffic after learning marked novel")
	for _, k := range []string{"exec", "file", "syscall", "network"} {
		require.Positive(t, attackKinds[k], "no %s novelty in the attack rounds: %v", k, attackKinds)
	}
}
