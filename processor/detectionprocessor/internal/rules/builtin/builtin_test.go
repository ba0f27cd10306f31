// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

// Package builtin_test proves the built-in rule catalogue against Tetragon
// events mapped by the real tetragon receiver: hand-built cases per rule
// (positives and the false positives each rule must avoid), and the whole
// catalogue over the shared corpus of genuine Tetragon output.
package builtin_test

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/attrkey"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/processor/detectionprocessor/internal/rules"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/processor/detectionprocessor/internal/rules/rulestest"
)

// catalogue is the contract (v1 and v2): names, severities and techniques are fixed.
var catalogue = []struct {
	name, severity string
	mitre          []string
}{
	{"terminal_shell_in_container", "warning", []string{"T1059.004"}},
	{"shell_spawned_by_server", "critical", []string{"T1505.003"}},
	{"sensitive_file_read", "warning", []string{"T1003.008"}},
	{"service_account_token_read", "warning", []string{"T1528"}},
	{"sensitive_file_write", "critical", []string{"T1098.004"}},
	{"package_manager_in_container", "warning", []string{"T1072"}},
	{"execution_from_writable_dir", "warning", []string{"T1036"}},
	{"fileless_execution", "critical", []string{"T1620"}},
	{"reverse_shell", "critical", []string{"T1059.004"}},
	{"crypto_miner", "critical", []string{"T1496"}},
	{"k8s_api_from_container", "warning", []string{"T1613"}},
	{"network_recon_tool", "warning", []string{"T1046"}},
	{"setuid_privilege_escalation", "warning", []string{"T1548.001"}},
	{"setuid_to_root_syscall", "warning", []string{"T1548"}},
	{"kernel_module_load", "warning", []string{"T1547.006"}},
	{"ptrace_attach", "warning", []string{"T1055.008"}},
	{"namespace_escape", "critical", []string{"T1611"}},
	{"container_escape_mount", "critical", []string{"T1611"}},
	{"bpf_program_load", "warning", []string{"T1014"}},
	{"log_tampering", "warning", []string{"T1070.002"}},
	{"credential_file_search", "warning", []string{"T1552.001"}},
	// v2
	{"setuid_bit_set", "warning", []string{"T1548.001"}},
	{"sensitive_file_link", "warning", []string{"T1555"}},
	{"shell_history_tampering", "warning", []string{"T1070.003"}},
	{"write_below_binary_dir", "warning", []string{"T1554"}},
	{"write_below_etc", "warning", []string{"T1543"}},
	{"write_below_root", "warning", []string{"T1036.005"}},
	{"write_below_dev", "warning", []string{"T1036.005"}},
	{"package_database_modified", "warning", []string{"T1070"}},
	{"shell_config_modified", "warning", []string{"T1546.004"}},
	{"shell_config_read", "info", []string{"T1546.004"}},
	{"ssh_info_read", "warning", []string{"T1552.004"}},
	{"proc_environ_read", "warning", []string{"T1552.007"}},
	{"ptrace_anti_debug", "warning", []string{"T1622"}},
	{"chroot_escape", "critical", []string{"T1611"}},
	{"packet_socket_in_container", "warning", []string{"T1040"}},
	{"bulk_data_removal", "warning", []string{"T1485"}},
	{"payload_decoded_to_shell", "critical", []string{"T1140"}},
	{"system_user_interactive_shell", "warning", []string{"T1059.004"}},
	{"remote_file_copy_in_container", "warning", []string{"T1105"}},
	{"user_management_in_container", "warning", []string{"T1136.001"}},
	{"scheduled_task_created", "warning", []string{"T1053.003"}},
	{"ld_preload_injection", "warning", []string{"T1574.006"}},
	{"proc_mem_read", "warning", []string{"T1003.007"}},
	{"debugfs_in_container", "critical", []string{"T1611"}},
	{"file_timestomp", "warning", []string{"T1070.006"}},
	{"security_tool_tampering", "critical", []string{"T1562.001"}},
	{"hidden_file_created", "warning", []string{"T1564.001"}},
	{"system_discovery_in_container", "info", []string{"T1082"}},
	{"data_encrypted_for_impact", "warning", []string{"T1486"}},
	{"sensitive_data_archived", "warning", []string{"T1560.001"}},
	{"container_drift", "critical", []string{"T1036"}},
	// Workload behaviour profiles (37_profile.yaml).
	{"unexpected_process", "warning", []string{"T1059"}},
	{"unexpected_file_access", "warning", []string{"T1005"}},
	{"unexpected_syscall", "warning", []string{"T1106"}},
	{"unexpected_network_peer", "warning", []string{"T1071"}},
}

func builtin(t testing.TB) *rules.Ruleset {
	t.Helper()
	rs, err := rulestest.Builtin()
	if err != nil {
		t.Fatalf("built-in catalogue does not compile: %v", err)
	}
	return rs
}

func TestCatalogueContract(t *testing.T) {
	rs := builtin(t)
	var want []string
	for _, c := range catalogue {
		want = append(want, c.name)
		r := rs.Rule(c.name)
		if r == nil {
			t.Errorf("rule %s is missing", c.name)
			continue
		}
		if r.Severity.String() != c.severity {
			t.Errorf("%s: severity %s, want %s", c.name, r.Severity, c.severity)
		}
		if !slices.Equal(r.Mitre, c.mitre) {
			t.Errorf("%s: mitre %v, want %v", c.name, r.Mitre, c.mitre)
		}
		if !r.Enabled {
			t.Errorf("%s is disabled by default", c.name)
		}
		if r.Description == "" || r.Category == "" || r.Ruleset != rules.BuiltinRuleset {
			t.Errorf("%s: description %q category %q ruleset %q", c.name, r.Description, r.Category, r.Ruleset)
		}
	}
	// Every list is used by some rule (a list nothing reads is a tuning knob
	// that silently does nothing).
	for name := range rs.Lists() {
		used := false
		for _, r := range rs.Rules() {
			if strings.Contains(r.Condition, "@"+name+")") || strings.Contains(r.Condition, "@"+name+",") {
				used = true
				break
			}
		}
		for _, c := range rs.Chains() {
			for _, st := range c.Steps {
				used = used || slices.Equal(st.Rules, rs.Lists()[name]) || strings.Contains(st.Condition, "@"+name+")")
			}
		}
		if !used {
			t.Errorf("list %s is not used by any rule or chain", name)
		}
	}
	got := rs.Names()
	sort.Strings(got)
	sort.Strings(want)
	if !slices.Equal(got, want) {
		t.Errorf("catalogue names\n got %v\nwant %v", got, want)
	}
}

// ruleCase is one event and the exact set of rules it must trigger.
type ruleCase struct {
	name string
	ev   []byte
	want []string
}

// evaluate maps every case's event through the receiver (one run for all,
// told apart by node name) and returns the matching rule names per case.
func evaluate(t *testing.T, rs *rules.Ruleset, cases []ruleCase) [][]string {
	t.Helper()
	lines := make([][]byte, len(cases))
	for i, c := range cases {
		lines[i] = []byte(strings.Replace(string(c.ev), `"node_name":"node-1"`, fmt.Sprintf(`"node_name":"case-%d"`, i), 1))
	}
	recs := mapLines(t, lines, len(cases))
	got := make([][]string, len(cases))
	seen := make([]bool, len(cases))
	for _, r := range recs {
		node, _ := r.rl.Resource().Attributes().Get(attrkey.K8sNodeName)
		var i int
		if _, err := fmt.Sscanf(node.Str(), "case-%d", &i); err != nil || i < 0 || i >= len(cases) {
			t.Fatalf("record with unexpected node name %q", node.Str())
		}
		if seen[i] {
			t.Fatalf("case %q mapped to more than one record", cases[i].name)
		}
		seen[i] = true
		for _, m := range rs.EvaluateRecord(context.Background(), r.rl, r.sl, r.lr, nil, func(rule *rules.Rule, err error) {
			t.Errorf("case %q: rule %s failed to evaluate: %v", cases[i].name, rule.Name, err)
		}) {
			got[i] = append(got[i], m.Name)
		}
	}
	return got
}

func TestRuleCases(t *testing.T) {
	rs := builtin(t)
	cases := allCases()
	got := evaluate(t, rs, cases)
	positives := map[string]int{}
	negatives := map[string]int{}
	for i, c := range cases {
		g := slices.Clone(got[i])
		w := slices.Clone(c.want)
		sort.Strings(g)
		sort.Strings(w)
		if !slices.Equal(g, w) {
			t.Errorf("%s: matched %v, want %v", c.name, g, w)
		}
		for _, n := range c.want {
			positives[n]++
		}
		if len(c.want) == 0 {
			negatives[strings.SplitN(c.name, "/", 2)[0]]++
		}
	}
	// Every rule has at least one positive and one negative case.
	for _, c := range catalogue {
		if sequenceRules[c.name] { // proved in drift_test.go and profile_test.go
			continue
		}
		if positives[c.name] == 0 {
			t.Errorf("rule %s has no positive case", c.name)
		}
		if negatives[c.name] == 0 {
			t.Errorf("rule %s has no negative case", c.name)
		}
	}
}
