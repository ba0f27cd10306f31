// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package incident

import (
	"slices"
	"testing"
	"time"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/processor/detectionprocessor/internal/rules"
)

const testRules = `
rules:
  - {name: shell, description: d, category: execution, severity: warning, mitre: [T1059], event: tetragon.process_exec, condition: 'true'}
  - {name: cred, description: d, category: credential_access, severity: warning, mitre: [T1552], event: tetragon.process_exec, condition: 'true'}
  - {name: escape, description: d, category: privilege_escalation, severity: critical, event: tetragon.process_exec, condition: 'true'}
chains:
  - name: shell_cred
    description: d
    severity: critical
    mitre: [T1041]
    within: 10m
    steps: [{rules: [shell]}, {rules: [cred]}]
  - name: shell_then_connect
    description: d
    severity: critical
    within: 10m
    steps: [{rules: [shell]}, {condition: 'attributes["network.peer.address"] != nil'}]
  - name: tree_chain
    description: d
    severity: critical
    within: 10m
    by: process_tree
    steps: [{rules: [shell]}, {rules: [escape]}]
`

func compile(t *testing.T) *rules.Ruleset {
	t.Helper()
	rs, err := rules.Compile([]rules.Source{{Ruleset: "t", Path: "t.yaml", Data: []byte(testRules)}}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

// obs builds an observation at minute m of the test's event time.
func obs(rs *rules.Ruleset, container, exec, parent string, m int, names ...string) Observation {
	o := Observation{Container: container, ExecID: exec, ParentExecID: parent, FollowParent: true, Time: int64(time.Duration(m) * time.Minute)}
	for _, n := range names {
		r := rs.Rule(n)
		o.Matched = append(o.Matched, r)
		o.Severities = append(o.Severities, r.Severity)
	}
	return o
}

func never(*rules.Chain, *rules.ChainStep) bool  { return false }
func always(*rules.Chain, *rules.ChainStep) bool { return true }

func TestIncidentsByContainerAndWindow(t *testing.T) {
	rs := compile(t)
	tr := New(100, 15*time.Minute, nil)
	ch := rs.EnabledChains()
	a := tr.Observe(obs(rs, "c1", "e1", "p", 1, "shell"), ch, never)
	b := tr.Observe(obs(rs, "c1", "e2", "p", 5, "escape"), ch, never)
	other := tr.Observe(obs(rs, "c2", "e3", "p", 5, "shell"), ch, never)
	if !a.In || !a.Opened || !b.In || b.Opened || a.Snapshot.ID != b.Snapshot.ID {
		t.Fatalf("same container within the window: %+v then %+v", a, b)
	}
	if other.Snapshot.ID == a.Snapshot.ID {
		t.Fatal("another container joined the incident")
	}
	if !slices.Equal(b.Snapshot.Rules, []string{"shell", "escape"}) || b.Snapshot.Detections != 2 || b.Snapshot.Severity != rules.SeverityCritical {
		t.Errorf("snapshot %+v", b.Snapshot)
	}
	if !slices.Equal(a.Snapshot.Rules, []string{"shell"}) {
		t.Errorf("an earlier snapshot changed: %v", a.Snapshot.Rules)
	}
	if b.Snapshot.First != a.Snapshot.First || b.Snapshot.Last != int64(5*time.Minute) {
		t.Errorf("first/last %d/%d", b.Snapshot.First, b.Snapshot.Last)
	}
	// 15m after the last detection (minute 5) the incident has ended.
	late := tr.Observe(obs(rs, "c1", "e4", "p", 21, "shell"), ch, never)
	if !late.Opened || late.Snapshot.ID == a.Snapshot.ID {
		t.Errorf("a detection after the window joined the old incident")
	}
	// Records without a detection and no chain waiting are not part of an incident.
	if r := tr.Observe(obs(rs, "c2", "e5", "p", 6), ch, always); r.In {
		t.Errorf("a record without a detection joined: %+v", r)
	}
	// Replaying the same events gives the same ids.
	again := New(100, 15*time.Minute, nil).Observe(obs(rs, "c1", "e1", "p", 1, "shell"), ch, never)
	if again.Snapshot.ID != a.Snapshot.ID {
		t.Errorf("id not stable on replay: %s vs %s", again.Snapshot.ID, a.Snapshot.ID)
	}
}

func TestChainRules(t *testing.T) {
	rs := compile(t)
	tr := New(100, time.Hour, nil)
	ch := rs.EnabledChains()
	tr.Observe(obs(rs, "c1", "e1", "p", 1, "shell"), ch, never)
	if !tr.PendingConditions() {
		t.Fatal("shell_then_connect waits for a condition step, PendingConditions is false")
	}
	r := tr.Observe(obs(rs, "c1", "e2", "e1", 2, "cred"), ch, never)
	if len(r.Fired) != 1 || r.Fired[0].Name != "shell_cred" {
		t.Fatalf("fired %v, want shell_cred", r.Fired)
	}
	if !slices.Contains(r.Snapshot.Chains, "shell_cred") || !slices.Contains(r.Snapshot.Rules, "shell_cred") || !slices.Contains(r.Snapshot.Techniques, "T1041") {
		t.Errorf("snapshot after the chain: %+v", r.Snapshot)
	}
	// A chain completes once per incident.
	tr.Observe(obs(rs, "c1", "e3", "e1", 3, "shell"), ch, never)
	if r := tr.Observe(obs(rs, "c1", "e4", "e1", 4, "cred"), ch, never); len(r.Fired) != 0 {
		t.Errorf("shell_cred fired twice: %v", r.Fired)
	}
	// The condition step completes on a record that is no detection.
	r = tr.Observe(obs(rs, "c1", "e5", "e1", 5), ch, always)
	if !r.In || len(r.Fired) != 1 || r.Fired[0].Name != "shell_then_connect" {
		t.Fatalf("condition step: %+v", r)
	}
	if tr.PendingConditions() {
		t.Error("no chain waits any more, PendingConditions is true")
	}
	// Steps out of order do not complete a chain, nor do steps farther apart than within.
	tr2 := New(100, time.Hour, nil)
	tr2.Observe(obs(rs, "c9", "e1", "p", 1, "cred"), ch, never)
	if r := tr2.Observe(obs(rs, "c9", "e2", "p", 2, "shell"), ch, never); len(r.Fired) != 0 {
		t.Errorf("out of order fired %v", r.Fired)
	}
	if r := tr2.Observe(obs(rs, "c9", "e3", "p", 13, "cred"), ch, never); len(r.Fired) != 0 {
		t.Errorf("11 minutes after the first step (within 10m) fired %v", r.Fired)
	}
}

func TestChainByProcessTree(t *testing.T) {
	rs := compile(t)
	tr := New(100, time.Hour, nil)
	ch := rs.EnabledChains()
	tr.Observe(obs(rs, "c1", "shell1", "runc", 1, "shell"), ch, never)
	if r := tr.Observe(obs(rs, "c1", "other", "init", 2, "escape"), ch, never); slices.ContainsFunc(r.Fired, func(c *rules.Chain) bool { return c.Name == "tree_chain" }) {
		t.Error("tree_chain fired on a process outside the shell's tree")
	}
	r := tr.Observe(obs(rs, "c1", "child", "shell1", 3, "escape"), ch, never)
	if !slices.ContainsFunc(r.Fired, func(c *rules.Chain) bool { return c.Name == "tree_chain" }) {
		t.Errorf("tree_chain did not fire on the shell's child: %v", r.Fired)
	}
}

func TestHostProcessTrees(t *testing.T) {
	rs := compile(t)
	tr := New(100, time.Hour, nil)
	ch := rs.EnabledChains()
	a := tr.Observe(obs(rs, "", "cat", "bash", 1, "cred"), ch, never)
	sibling := tr.Observe(obs(rs, "", "curl", "bash", 2, "escape"), ch, never)
	grandchild := tr.Observe(obs(rs, "", "sh", "curl", 3, "escape"), ch, never)
	unrelated := tr.Observe(obs(rs, "", "cron", "systemd", 4, "escape"), ch, never)
	if sibling.Snapshot.ID != a.Snapshot.ID || grandchild.Snapshot.ID != a.Snapshot.ID {
		t.Errorf("one host process tree split into incidents: %s %s %s", a.Snapshot.ID, sibling.Snapshot.ID, grandchild.Snapshot.ID)
	}
	if unrelated.Snapshot.ID == a.Snapshot.ID {
		t.Error("an unrelated host process joined the tree's incident")
	}
	// A parent that is pid 1 is not followed: two children of init stay apart.
	o1 := obs(rs, "", "svc1", "init", 5, "cred")
	o1.FollowParent = false
	o2 := obs(rs, "", "svc2", "init", 5, "cred")
	o2.FollowParent = false
	if tr.Observe(o1, ch, never).Snapshot.ID == tr.Observe(o2, ch, never).Snapshot.ID {
		t.Error("children of pid 1 were joined through it")
	}
}

func TestBounded(t *testing.T) {
	rs := compile(t)
	tr := New(2, time.Hour, nil)
	ch := rs.EnabledChains()
	tr.Observe(obs(rs, "c1", "e1", "p", 1, "shell"), ch, never)
	tr.Observe(obs(rs, "c2", "e2", "p", 1, "shell"), ch, never)
	r := tr.Observe(obs(rs, "c3", "e3", "p", 1, "shell"), ch, never)
	if !r.Opened || !r.Evicted || tr.Len() != 2 {
		t.Errorf("third incident in a tracker of 2: %+v, len %d", r, tr.Len())
	}
	// c1 was the least recently touched: it was evicted, so it opens a new incident.
	if r := tr.Observe(obs(rs, "c1", "e4", "p", 2, "shell"), ch, never); !r.Opened {
		t.Error("the evicted incident is still held")
	}
	// Evicting incidents with chains in progress releases their pending condition steps.
	for i := 0; i < 10; i++ {
		tr.Observe(obs(rs, string(rune('a'+i)), "e", "p", 3, "shell"), ch, never)
	}
	if got := tr.pendingConds.Load(); got != 2 {
		t.Errorf("pending condition steps %d, want 2 (one per held incident)", got)
	}
	// Incidents that ended are swept out; every name list stays capped.
	big := New(10, time.Minute, nil)
	for i := 0; i < 5; i++ {
		big.Observe(obs(rs, string(rune('a'+i)), "e", "p", 1, "shell"), ch, never)
	}
	big.Observe(obs(rs, "z", "e", "p", 100, "shell"), ch, never)
	big.Observe(obs(rs, "y", "e", "p", 100, "shell"), ch, never)
	if big.Len() > 4 {
		t.Errorf("ended incidents not swept: %d held", big.Len())
	}
}
