// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package deploytest

import (
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/ruletable"
)

// catalogueRule is what this test reads of a built-in rule.
type catalogueRule struct {
	Name      string     `yaml:"name"`
	Event     stringList `yaml:"event"`
	Hooks     []string   `yaml:"hooks"`
	Syscalls  []string   `yaml:"syscalls"`
	Condition string     `yaml:"condition"`
}

type stringList []string

func (s *stringList) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		*s = []string{n.Value}
		return nil
	}
	var l []string
	err := n.Decode(&l)
	*s = l
	return err
}

// loadCatalogue reads the detection processor's embedded catalogue files (as files: the
// package that embeds them is internal to the processor).
func loadCatalogue(t testing.TB) (map[string]catalogueRule, map[string][]string) {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(repoRoot(t), "processor/detectionprocessor/internal/rules/builtin/*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	rules := map[string]catalogueRule{}
	lists := map[string][]string{}
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		var doc struct {
			Lists map[string][]string `yaml:"lists"`
			Rules []catalogueRule     `yaml:"rules"`
		}
		if err := yaml.Unmarshal(data, &doc); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		for k, v := range doc.Lists {
			lists[k] = v
		}
		for _, r := range doc.Rules {
			rules[r.Name] = r
		}
	}
	if len(rules) == 0 {
		t.Fatal("the built-in catalogue has no rules")
	}
	return rules, lists
}

var (
	listRef       = regexp.MustCompile(`@([A-Za-z_][A-Za-z0-9_]*)`)
	stringLiteral = regexp.MustCompile(`"((?:[^"\\]|\\.)*)"`)
)

// vocabulary is every hook name the rule can match: its hooks, the hooks of its syscalls, the
// items of the lists its condition references and the string literals of the condition (and,
// when the condition reads tetragon.syscall.name, the hooks of those names as syscalls).
func vocabulary(r catalogueRule, lists map[string][]string) map[string]bool {
	v := map[string]bool{}
	// hooks and syscalls items may name a list ("@name").
	expand := func(items []string) []string {
		var out []string
		for _, it := range items {
			if name, ok := strings.CutPrefix(it, "@"); ok {
				out = append(out, lists[name]...)
			} else {
				out = append(out, it)
			}
		}
		return out
	}
	for _, h := range expand(r.Hooks) {
		v[h] = true
	}
	for _, sc := range expand(r.Syscalls) {
		for _, h := range syscallHooks(sc) {
			v[h] = true
		}
	}
	var words []string
	for _, m := range listRef.FindAllStringSubmatch(r.Condition, -1) {
		words = append(words, lists[m[1]]...)
	}
	for _, m := range stringLiteral.FindAllStringSubmatch(r.Condition, -1) {
		words = append(words, m[1])
	}
	bySyscallName := strings.Contains(r.Condition, "tetragon.syscall.name")
	for _, w := range words {
		v[w] = true
		if bySyscallName {
			for _, h := range syscallHooks(w) {
				v[h] = true
			}
		}
	}
	return v
}

// syscallHooks is the tetragon.hook values of a syscall name X (a rule's `syscalls` entry):
// the tracepoint syscalls/sys_enter_X and the kprobes __x64_sys_X and __arm64_sys_X. The kernel
// implements umount2(2) as sys_umount.
func syscallHooks(name string) []string {
	fn := strings.TrimPrefix(name, "sys_")
	if fn == "umount2" {
		fn = "umount"
	}
	return []string{"syscalls/sys_enter_" + fn, "__x64_sys_" + fn, "__arm64_sys_" + fn}
}

// rawSyscallsFor reports whether h is raw_syscalls/sys_enter filtered on a syscall list (a
// `lists:` entry of type syscalls named by an InMap selector) that names one of syscalls: then
// the hook's events are those syscalls, whatever tetragon.hook says.
func rawSyscallsFor(p *Policy, h Hook, syscalls []string) bool {
	if h.Subsystem != "raw_syscalls" || h.Event != "sys_enter" || len(syscalls) == 0 {
		return false
	}
	want := map[string]bool{}
	for _, sc := range syscalls {
		want["sys_"+strings.TrimPrefix(sc, "sys_")] = true
	}
	for _, s := range h.Selectors {
		for _, m := range s.MatchArgs {
			if m.Operator != "InMap" {
				continue
			}
			for _, val := range m.Values {
				name, ok := strings.CutPrefix(val, "list:")
				if !ok {
					continue
				}
				for _, l := range p.Spec.Lists {
					if l.Name == name && l.Type == "syscalls" && slices.ContainsFunc(l.Values, func(v string) bool { return want[v] }) {
						return true
					}
				}
			}
		}
	}
	return false
}

// emitted is the tetragon.hook values a policy hook produces on x86_64 and arm64.
func emitted(h Hook) []string {
	if h.Call == "" {
		return []string{h.Name()}
	}
	isSyscall := h.Syscall == nil || *h.Syscall
	if !isSyscall {
		return []string{h.Call}
	}
	name := strings.TrimPrefix(h.Call, "sys_")
	out := []string{"__x64_sys_" + name}
	if h.Ignore == nil || !h.Ignore.CallNotFound { // optional hooks may not exist on arm64
		out = append(out, "__arm64_sys_"+name)
	}
	return out
}

// readmeTable is the rule table of deploy/README.md.
func readmeTable(t testing.TB) []ruletable.Row {
	t.Helper()
	rows, err := ruletable.Read(filepath.Join(repoRoot(t), "deploy/README.md"))
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// TestReadmeTableMatchesPoliciesAndCatalogue keeps three things in step: the rule table of
// deploy/README.md, the TracingPolicies, and the detection processor's built-in catalogue.
func TestReadmeTableMatchesPoliciesAndCatalogue(t *testing.T) {
	rules, lists := loadCatalogue(t)
	rows := readmeTable(t)
	v := policyValidator(t)
	sets := map[string]map[string]*Policy{}
	for _, set := range []string{"kprobe", "tracepoint"} {
		sets[set] = map[string]*Policy{}
		for _, p := range loadPolicySet(t, v, set).files {
			sets[set][p.Metadata.Name] = p
		}
	}

	var readmeRules []string
	used := map[string]map[string]bool{"kprobe": {}, "tracepoint": {}} // set → policy/hook
	for _, row := range rows {
		readmeRules = append(readmeRules, row.Rule)
		r, ok := rules[row.Rule]
		if !ok {
			t.Errorf("README lists %s, which is not a built-in rule", row.Rule)
			continue
		}
		var wantEvents []string
		for _, e := range r.Event {
			wantEvents = append(wantEvents, strings.TrimPrefix(e, "tetragon."))
		}
		if !sameSet(row.Events, wantEvents) {
			t.Errorf("%s: README says it reads %v, the catalogue says %v", row.Rule, row.Events, wantEvents)
		}
		hookOnly := !slices.Contains(wantEvents, "process_exec")
		vocab := vocabulary(r, lists)
		for set, byPolicy := range row.Hooks {
			if hookOnly && len(byPolicy) == 0 {
				t.Errorf("%s reads no process_exec, yet the README names no %s hook for it: it could never fire", row.Rule, set)
			}
			if !slices.ContainsFunc(wantEvents, func(e string) bool { return e != "process_exec" }) && len(byPolicy) > 0 {
				t.Errorf("%s reads only process_exec, yet the README names %s hooks for it", row.Rule, set)
			}
			for pol, hooks := range byPolicy {
				p, ok := sets[set][pol]
				if !ok {
					t.Errorf("%s: README names policy %s, not in the %s set", row.Rule, pol, set)
					continue
				}
				for _, hn := range hooks {
					h, ok := findHook(p, hn)
					if !ok {
						t.Errorf("%s: policy %s has no hook %s", row.Rule, pol, hn)
						continue
					}
					used[set][pol+"/"+hn] = true
					if !readsHook(r) {
						// The rule keys on attributes, not on the hook: the hook must produce them.
						if strings.Contains(r.Condition, `attributes["network.peer.address"]`) && !slices.ContainsFunc(h.Args, func(a policyArg) bool {
							return a.Type == "sock" || a.Type == "sockaddr"
						}) {
							t.Errorf("%s reads network.peer.address, which %s/%s has no sock/sockaddr argument for", row.Rule, pol, hn)
						}
						continue
					}
					if rawSyscallsFor(p, h, r.Syscalls) {
						continue
					}
					for _, e := range emitted(h) {
						if !vocab[e] {
							t.Errorf("%s: %s/%s emits tetragon.hook %q, which the rule does not read", row.Rule, pol, hn, e)
						}
					}
				}
			}
		}
	}
	if !sameSet(readmeRules, slices.Sorted(maps.Keys(rules))) {
		t.Errorf("README rules %v != built-in rules %v", readmeRules, slices.Sorted(maps.Keys(rules)))
	}
	// Every hook of every policy feeds at least one rule.
	for set, pols := range sets {
		for name, p := range pols {
			for _, h := range append(append([]Hook{}, p.Spec.Kprobes...), p.Spec.Tracepoints...) {
				if !used[set][name+"/"+h.Name()] {
					t.Errorf("%s/%s feeds no rule of the README table", name, h.Name())
				}
			}
		}
	}
}

// readsHook reports whether the rule selects events by tetragon.hook or by syscall name.
func readsHook(r catalogueRule) bool {
	return len(r.Hooks) > 0 || len(r.Syscalls) > 0 || strings.Contains(r.Condition, `attributes["tetragon.hook"]`) ||
		strings.Contains(r.Condition, `attributes["tetragon.syscall.name"]`)
}

func findHook(p *Policy, name string) (Hook, bool) {
	for _, h := range append(append([]Hook{}, p.Spec.Kprobes...), p.Spec.Tracepoints...) {
		if h.Name() == name {
			return h, true
		}
	}
	return Hook{}, false
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	sort.Strings(a)
	sort.Strings(b)
	return slices.Equal(slices.Compact(a), slices.Compact(b))
}

// readmeYAMLBlocks returns the ```yaml blocks of deploy/README.md.
func readmeYAMLBlocks(t testing.TB) []string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot(t), "deploy/README.md"))
	if err != nil {
		t.Fatal(err)
	}
	var blocks []string
	for _, part := range strings.Split(string(data), "```yaml\n")[1:] {
		block, _, ok := strings.Cut(part, "```")
		if !ok {
			t.Fatal("unterminated yaml block in deploy/README.md")
		}
		blocks = append(blocks, block)
	}
	return blocks
}

// TestReadmeRulesExampleLoads loads the scoping example of deploy/README.md in the detection
// processor (its rule names must exist, its syntax must be right).
func TestReadmeRulesExampleLoads(t *testing.T) {
	var n int
	for _, b := range readmeYAMLBlocks(t) {
		if !strings.HasPrefix(strings.TrimSpace(b), "overrides:") {
			continue
		}
		n++
		p := filepath.Join(t.TempDir(), "example.yaml")
		if err := os.WriteFile(p, []byte(b), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := validateRules(p); err != nil {
			t.Errorf("README rules example: %v", err)
		}
	}
	if n == 0 {
		t.Fatal("no rules example (a yaml block starting with overrides:) in deploy/README.md")
	}
}
