// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package builtin_test

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/ottl/contexts/ottllog"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/attrkey"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/processor/detectionprocessor/internal/rules"
)

// TestRulesDocExamples keeps the YAML examples of RULES.md valid against the
// catalogue.
func TestRulesDocExamples(t *testing.T) {
	doc, err := os.ReadFile("../../../RULES.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?s)```yaml\n(.*?)```").FindAllSubmatch(doc, -1)
	if len(blocks) == 0 {
		t.Fatal("RULES.md has no yaml example")
	}
	for i, b := range blocks {
		srcs, err := rules.BuiltinSources()
		if err != nil {
			t.Fatal(err)
		}
		srcs = append(srcs, rules.Source{Ruleset: "site.yaml", Path: "RULES.md", Data: b[1]})
		if _, err := rules.Compile(srcs, nil, nil); err != nil {
			t.Fatalf("RULES.md yaml block %d: %v", i+1, err)
		}
	}
}

// TestKernelModuleLoadEscalatesInContainers: the catalogue table makes
// kernel_module_load warning on the host and critical from a container, whether
// the container is known from the pod or only from Tetragon's docker field.
func TestKernelModuleLoadEscalatesInContainers(t *testing.T) {
	rs := builtin(t)
	pod := inPod("shop", "web-7d9f")
	cases := []struct {
		ruleCase
		severity rules.Severity
	}{
		{ruleCase{"module autoload requested from a pod", kprobe("security_kernel_module_request", p("/bin/mount", "-t xfs /dev/loop0 /mnt", pod), p("/bin/sh", "", pod), strArg("fs-xfs")), nil}, rules.SeverityCritical},
		{ruleCase{"finit_module from a docker container (raw syscall)", tp("raw_syscalls/sys_enter", p("/sbin/insmod", "rk.ko", inDocker), p("/bin/sh", "", inDocker), syscallID(313)), nil}, rules.SeverityCritical},
		{ruleCase{"insmod on the host", kprobe("do_init_module", p("/usr/sbin/insmod", "hello.ko"), p("/usr/bin/sudo", ""), moduleArg("hello")), nil}, rules.SeverityWarning},
	}
	lines := make([][]byte, len(cases))
	for i, c := range cases {
		lines[i] = []byte(strings.Replace(string(c.ev), `"node_name":"node-1"`, fmt.Sprintf(`"node_name":"case-%d"`, i), 1))
	}
	recs := mapLines(t, lines, len(cases))
	rule := rs.Rule("kernel_module_load")
	if rule.Severity != rules.SeverityWarning || rule.Escalation == nil {
		t.Fatalf("kernel_module_load: severity %s, escalation %v", rule.Severity, rule.Escalation)
	}
	for _, r := range recs {
		node, _ := r.rl.Resource().Attributes().Get(attrkey.K8sNodeName)
		var i int
		if _, err := fmt.Sscanf(node.Str(), "case-%d", &i); err != nil || i >= len(cases) {
			t.Fatalf("record with unexpected node name %q", node.Str())
		}
		tc := ottllog.NewTransformContext(r.rl, r.sl, r.lr)
		matched := rs.Evaluate(context.Background(), tc, nil, nil)
		if !slices.Contains(matched, rule) {
			t.Errorf("%s: kernel_module_load did not match", cases[i].name)
			continue
		}
		sev, err := rule.SeverityFor(context.Background(), tc)
		if err != nil || sev != cases[i].severity {
			t.Errorf("%s: severity %s (%v), want %s", cases[i].name, sev, err, cases[i].severity)
		}
		tc.Close()
	}
}

// TestRulesDocListsChains: RULES.md's chain table has exactly the catalogue's chains, with their
// severity and within.
func TestRulesDocListsChains(t *testing.T) {
	doc, err := os.ReadFile("../../../RULES.md")
	if err != nil {
		t.Fatal(err)
	}
	rs := builtin(t)
	rows := regexp.MustCompile(`(?m)^\| ([a-z0-9_]+) \| (critical|warning|info) \| [^|]* \| ([0-9a-z]+) \|`).FindAllSubmatch(doc, -1)
	documented := map[string]bool{}
	for _, r := range rows {
		c := rs.Chain(string(r[1]))
		if c == nil {
			continue // a rule row
		}
		documented[c.Name] = true
		if c.Rule.Severity.String() != string(r[2]) || c.Within.String() != strings.Replace(string(r[3]), "m", "m0s", 1) {
			t.Errorf("RULES.md row for %s says %s/%s, the chain is %s/%s", c.Name, r[2], r[3], c.Rule.Severity, c.Within)
		}
	}
	for _, c := range rs.Chains() {
		if !documented[c.Name] {
			t.Errorf("chain %s is not in RULES.md's chain table", c.Name)
		}
	}
	if len(rs.Chains()) == 0 {
		t.Fatal("the catalogue has no chains")
	}
}
