// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package builtin_test

import (
	"os"
	"regexp"
	"slices"
	"sort"
	"testing"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/processor/detectionprocessor/internal/rules"
)

// TestRulesDocExamples keeps the YAML examples of RULES.md valid against the
// catalogue, and proves the documented way to make container-originated
// module loads critical.
func TestRulesDocExamples(t *testing.T) {
	doc, err := os.ReadFile("../../../RULES.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?s)```yaml\n(.*?)```").FindAllSubmatch(doc, -1)
	if len(blocks) != 2 {
		t.Fatalf("RULES.md has %d yaml blocks, this test knows 2 (tuning, kernel_module_load_from_container)", len(blocks))
	}
	var kmod *rules.Ruleset
	for i, b := range blocks {
		srcs, err := rules.BuiltinSources()
		if err != nil {
			t.Fatal(err)
		}
		srcs = append(srcs, rules.Source{Ruleset: "site.yaml", Path: "RULES.md", Data: b[1]})
		rs, err := rules.Compile(srcs, nil, nil)
		if err != nil {
			t.Fatalf("RULES.md yaml block %d: %v", i+1, err)
		}
		if rs.Rule("kernel_module_load_from_container") != nil {
			kmod = rs
		}
	}
	if kmod == nil {
		t.Fatal("no RULES.md block defines kernel_module_load_from_container")
	}
	pod := inPod("shop", "web-7d9f")
	cases := []ruleCase{
		{"module autoload requested from a pod", kprobe("security_kernel_module_request", p("/bin/mount", "-t xfs /dev/loop0 /mnt", pod), p("/bin/sh", "", pod), strArg("fs-xfs")),
			[]string{"kernel_module_load", "kernel_module_load_from_container"}},
		{"finit_module from a docker container (raw syscall)", tp("raw_syscalls/sys_enter", p("/sbin/insmod", "rk.ko", inDocker), p("/bin/sh", "", inDocker), syscallID(313)),
			[]string{"kernel_module_load", "kernel_module_load_from_container"}},
		{"insmod on the host", kprobe("do_init_module", p("/usr/sbin/insmod", "hello.ko"), p("/usr/bin/sudo", ""), moduleArg("hello")),
			[]string{"kernel_module_load"}},
	}
	got := evaluate(t, kmod, cases)
	for i, c := range cases {
		g := slices.Clone(got[i])
		sort.Strings(g)
		if !slices.Equal(g, c.want) {
			t.Errorf("%s: matched %v, want %v", c.name, g, c.want)
		}
	}
}
