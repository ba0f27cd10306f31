// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package deploytest

import (
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

func policyValidator(t testing.TB) *PolicyValidator {
	t.Helper()
	v, err := NewPolicyValidator(filepath.Join("testdata", "tetragon-v1.7.1-tracingpolicies-crd.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// policySet is the policies of one directory of deploy/tetragon/policies.
type policySet struct {
	files    map[string]*Policy // by file name
	hookFile map[string]string  // hook name → file
}

func loadPolicySet(t testing.TB, v *PolicyValidator, dir string) policySet {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(repoRoot(t), "deploy/tetragon/policies", dir, "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) == 0 {
		t.Fatalf("no policies in deploy/tetragon/policies/%s", dir)
	}
	set := policySet{files: map[string]*Policy{}, hookFile: map[string]string{}}
	names := map[string]string{}
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		pol, err := v.Validate(data)
		if err != nil {
			t.Errorf("%s/%s: %v", dir, filepath.Base(p), err)
			continue
		}
		if prev, dup := names[pol.Metadata.Name]; dup {
			t.Errorf("policy name %s in both %s and %s", pol.Metadata.Name, prev, filepath.Base(p))
		}
		names[pol.Metadata.Name] = filepath.Base(p)
		if pol.Metadata.Labels["app.kubernetes.io/part-of"] != "otelcol-runtime-security" {
			t.Errorf("%s: label app.kubernetes.io/part-of=otelcol-runtime-security missing (used to list/delete our policies)", filepath.Base(p))
		}
		set.files[filepath.Base(p)] = pol
		for _, h := range append(append([]Hook{}, pol.Spec.Kprobes...), pol.Spec.Tracepoints...) {
			// One hook in two policies of a set would emit every matching event twice.
			if prev, dup := set.hookFile[h.Name()]; dup {
				t.Errorf("hook %s in both %s and %s", h.Name(), prev, filepath.Base(p))
			}
			set.hookFile[h.Name()] = filepath.Base(p)
		}
	}
	return set
}

func TestTracingPoliciesValidate(t *testing.T) {
	v := policyValidator(t)
	kprobe := loadPolicySet(t, v, "kprobe")
	tracepoint := loadPolicySet(t, v, "tracepoint")
	for _, pol := range kprobe.files {
		if len(pol.Spec.Tracepoints) != 0 {
			t.Errorf("%s: the kprobe set holds tracepoints", pol.Metadata.Name)
		}
	}
	for _, pol := range tracepoint.files {
		if len(pol.Spec.Kprobes) != 0 {
			t.Errorf("%s: the tracepoint-only set holds kprobes", pol.Metadata.Name)
		}
	}
	// Both sets cover the same areas, file for file; the tracepoint set adds the x86_64-only
	// files (tracepoints of syscalls arm64 lacks), which the kprobe set folds into its files
	// with ignore.callNotFound.
	k := slices.Sorted(maps.Keys(kprobe.files))
	var tp []string
	for _, f := range slices.Sorted(maps.Keys(tracepoint.files)) {
		if !strings.HasSuffix(f, x86OnlySuffix) {
			tp = append(tp, f)
		}
	}
	if !slices.Equal(k, tp) {
		t.Errorf("kprobe policies %v and tracepoint policies %v (without *%s) do not pair up", k, tp, x86OnlySuffix)
	}
}

// x86OnlySuffix names the tracepoint policies that may only be applied on x86_64 nodes.
const x86OnlySuffix = "-x86_64.yaml"

// x86OnlySyscalls are syscalls of the shipped policies that exist on x86_64 but not on arm64
// (arm64 uses the generic syscall table: only the *at variants).
var x86OnlySyscalls = []string{"open", "creat", "chmod", "link", "symlink", "rename", "unlink"}

// hookSyscall is the syscall a hook traces: X for syscalls/sys_enter_X and for kprobes on sys_X
// (umount2 is sys_umount / sys_enter_umount in the kernel), "" for anything else.
func hookSyscall(h Hook) string {
	if h.Call != "" {
		if h.Syscall != nil && !*h.Syscall {
			return ""
		}
		return strings.TrimPrefix(h.Call, "sys_")
	}
	if h.Subsystem == "syscalls" {
		return strings.TrimPrefix(h.Event, "sys_enter_")
	}
	return ""
}

// TestPolicySetsHookTheSameSyscalls: a rule keyed on a syscall name works with either set.
// The one difference: the kprobe set sees connections in the kernel's tcp_connect (resolved
// destination, TCP only) instead of connect(2).
func TestPolicySetsHookTheSameSyscalls(t *testing.T) {
	v := policyValidator(t)
	syscalls := func(set policySet) []string {
		var out []string
		for _, p := range set.files {
			for _, h := range append(append([]Hook{}, p.Spec.Kprobes...), p.Spec.Tracepoints...) {
				if sc := hookSyscall(h); sc != "" {
					out = append(out, sc)
				}
			}
		}
		sort.Strings(out)
		return out
	}
	kp := syscalls(loadPolicySet(t, v, "kprobe"))
	tp := slices.DeleteFunc(syscalls(loadPolicySet(t, v, "tracepoint")), func(s string) bool { return s == "connect" })
	if !slices.Equal(kp, tp) {
		t.Errorf("syscalls hooked by the kprobe set %v != by the tracepoint set %v (connect aside)", kp, tp)
	}
	if len(kp) < 30 {
		t.Errorf("only %d syscalls hooked: %v", len(kp), kp)
	}
}

// TestX86OnlySyscallsAreOptional: a policy naming a tracepoint the kernel lacks fails to load
// as a whole, and a kprobe on a missing function too unless ignore.callNotFound is set. The
// tracepoints of x86_64-only syscalls live only in the *-x86_64.yaml files (which hold nothing
// else); their kprobes are optional.
func TestX86OnlySyscallsAreOptional(t *testing.T) {
	v := policyValidator(t)
	var legacyFiles int
	for file, p := range loadPolicySet(t, v, "tracepoint").files {
		legacy := strings.HasSuffix(file, x86OnlySuffix)
		if legacy {
			legacyFiles++
		}
		for _, h := range p.Spec.Tracepoints {
			if x86 := slices.Contains(x86OnlySyscalls, hookSyscall(h)); x86 != legacy {
				t.Errorf("tracepoint/%s: %s is x86_64-only: %v, in an x86_64-only file: %v", file, h.Name(), x86, legacy)
			}
		}
		if data, err := os.ReadFile(filepath.Join(repoRoot(t), "deploy/tetragon/policies/tracepoint", file)); err != nil {
			t.Fatal(err)
		} else if legacy && !strings.Contains(string(data), "DO NOT APPLY ON arm64") {
			t.Errorf("tracepoint/%s: its header must say DO NOT APPLY ON arm64", file)
		}
	}
	if legacyFiles != 1 {
		t.Errorf("%d tracepoint files named *%s, want 1", legacyFiles, x86OnlySuffix)
	}
	for file, p := range loadPolicySet(t, v, "kprobe").files {
		for _, h := range p.Spec.Kprobes {
			optional := h.Ignore != nil && h.Ignore.CallNotFound
			if slices.Contains(x86OnlySyscalls, hookSyscall(h)) && !optional {
				t.Errorf("kprobe/%s: %s does not exist on arm64 and needs ignore: {callNotFound: true}", file, h.Name())
			}
		}
	}
}

// TestShippedPolicyArguments restates, hook by hook, the three argument rules of the
// validator that a real Tetragon v1.7.0 run showed matter: tracepoint arguments of a type the
// tracepoint reader handles (`int` reads 0), no host_ns selector (a policy fails to load where
// /proc/1/ns is unreadable), and syscall arguments declared from the first without gaps (the
// receiver maps tetragon.args[i] to the i-th syscall argument).
func TestShippedPolicyArguments(t *testing.T) {
	v := policyValidator(t)
	var tracepointArgs, syscallHooks int
	for _, set := range []string{"kprobe", "tracepoint"} {
		for file, p := range loadPolicySet(t, v, set).files {
			for _, h := range append(append([]Hook{}, p.Spec.Kprobes...), p.Spec.Tracepoints...) {
				where := set + "/" + file + ": " + h.Name()
				if h.Call == "" {
					for _, a := range h.Args {
						tracepointArgs++
						if !slices.Contains(tracepointArgTypes, a.Type) {
							t.Errorf("%s: argument %d of type %q is read as 0 by Tetragon's tracepoint sensor", where, a.Index, a.Type)
						}
					}
				}
				for _, s := range h.Selectors {
					for _, ns := range s.MatchNamespaces {
						if slices.Contains(ns.Values, "host_ns") {
							t.Errorf("%s: matchNamespaces host_ns", where)
						}
					}
				}
				if first, ok := syscallArgsStart(h); ok {
					syscallHooks++
					for i, a := range h.Args {
						if a.Index != first+uint32(i) {
							t.Errorf("%s: argument %d has index %d, want %d", where, i, a.Index, first+uint32(i))
						}
					}
				}
			}
		}
	}
	if tracepointArgs < 50 || syscallHooks < 60 {
		t.Errorf("checked only %d tracepoint arguments and %d syscall hooks", tracepointArgs, syscallHooks)
	}
}

// TestPolicyValidatorRejects proves each layer of the validator catches what it claims to.
func TestPolicyValidatorRejects(t *testing.T) {
	v := policyValidator(t)
	base := `apiVersion: cilium.io/v1alpha1
kind: TracingPolicy
metadata:
  name: x
spec:
  kprobes:
    - call: security_file_permission
      syscall: false
      message: test hook
      args:
        - index: 0
          type: file
        - index: 1
          type: int
      selectors:
        - matchArgs:
            - index: 1
              operator: Equal
              values: ["4"]
`
	if _, err := v.Validate([]byte(base)); err != nil {
		t.Fatalf("the valid base policy is rejected: %v", err)
	}
	for name, mutate := range map[string]func(string) string{
		"unknown spec field": func(s string) string { return strings.Replace(s, "  kprobes:", "  kprobez: []\n  kprobes:", 1) },
		"unknown hook field": func(s string) string {
			return strings.Replace(s, "      syscall: false", "      syscall: false\n      retrun: true", 1)
		},
		"bad operator":     func(s string) string { return strings.Replace(s, "operator: Equal", "operator: Equals", 1) },
		"bad arg type":     func(s string) string { return strings.Replace(s, "type: file", "type: filez", 1) },
		"unknown metadata": func(s string) string { return strings.Replace(s, "  name: x", "  name: x\n  lables: {}", 1) },
		"bad name":         func(s string) string { return strings.Replace(s, "  name: x", "  name: X_y", 1) },
		"syscall default":  func(s string) string { return strings.Replace(s, "      syscall: false\n", "", 1) },
		"index not declared": func(s string) string {
			return strings.Replace(s, "- index: 1\n              operator", "- index: 2\n              operator", 1)
		},
		"too many int values": func(s string) string {
			return strings.Replace(s, `values: ["4"]`, `values: ["1", "2", "3", "4", "5"]`, 1)
		},
		"not an integer": func(s string) string { return strings.Replace(s, `values: ["4"]`, `values: ["four"]`, 1) },
		"sock op on int": func(s string) string { return strings.Replace(s, "operator: Equal", "operator: DPort", 1) },
		"prefix on int":  func(s string) string { return strings.Replace(s, "operator: Equal", "operator: Prefix", 1) },
		"undeclared list": func(s string) string {
			return strings.Replace(s, "operator: Equal\n              values: [\"4\"]", "operator: InMap\n              values: [\"list:nope\"]", 1)
		},
		"duplicate yaml key":    func(s string) string { return strings.Replace(s, "  name: x", "  name: x\n  name: y", 1) },
		"message too short":     func(s string) string { return strings.Replace(s, "message: test hook", "message: t", 1) },
		"common tracepoint arg": func(string) string { return tracepointPolicy(4) },
		"host_ns": func(s string) string {
			return s + "          matchNamespaces:\n            - namespace: Mnt\n              operator: NotIn\n              values: [host_ns]\n"
		},
		"six arguments": func(s string) string {
			return strings.Replace(s, "          type: int\n", "          type: int\n        - {index: 2, type: int}\n        - {index: 3, type: int}\n        - {index: 4, type: int}\n        - {index: 5, type: int}\n", 1)
		},
		// Tracepoints: only the types Tetragon's tracepoint reader handles.
		"int tracepoint arg":     func(string) string { return strings.Replace(validTracepoint, "type: int32", "type: int", 1) },
		"uint16 tracepoint arg":  func(string) string { return strings.Replace(validTracepoint, "type: int32", "type: uint16", 1) },
		"file tracepoint arg":    func(string) string { return strings.Replace(validTracepoint, "type: string", "type: file", 1) },
		"auto tracepoint arg":    func(string) string { return strings.Replace(validTracepoint, "type: int32", "type: auto", 1) },
		"omitted tracepoint arg": func(string) string { return strings.Replace(validTracepoint, ", type: int32", "", 1) },
		"int tracepoint arg, other event": func(string) string {
			return strings.Replace(strings.Replace(validTracepoint, "sys_enter_openat", "sys_enter_setuid", 1), "type: int32", "type: int", 1)
		},
		// Syscall arguments from the first, in order, without gaps.
		"tracepoint arg gap": func(string) string {
			return strings.ReplaceAll(strings.Replace(validTracepoint, "{index: 6, type: string}", "{index: 7, type: string}", 1), "- index: 6", "- index: 7")
		},
		"tracepoint args out of order": func(string) string {
			return strings.Replace(validTracepoint, "        - {index: 5, type: int32}\n        - {index: 6, type: string}\n",
				"        - {index: 6, type: string}\n        - {index: 5, type: int32}\n", 1)
		},
		"tracepoint skips first arg": func(string) string {
			return strings.Replace(validTracepoint, "        - {index: 5, type: int32}\n", "", 1)
		},
		"kprobe syscall arg gap": func(string) string {
			return strings.Replace(validSyscallKprobe, "index: 1, type: string", "index: 2, type: string", 1)
		},
	} {
		mutated := mutate(base)
		if mutated == base {
			t.Fatalf("%s: the mutation changed nothing", name)
		}
		if _, err := v.Validate([]byte(mutated)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	for name, doc := range map[string]string{
		"tracepoint":  validTracepoint,
		"raw_syscall": rawSyscallTracepoint,
		// Kprobes read `int` arguments (the register value) correctly.
		"kprobe syscall with int": strings.Replace(validSyscallKprobe, "type: int32", "type: int", 1),
	} {
		if _, err := v.Validate([]byte(doc)); err != nil {
			t.Errorf("valid %s policy rejected: %v", name, err)
		}
	}
}

const validTracepoint = `apiVersion: cilium.io/v1alpha1
kind: TracingPolicy
metadata:
  name: tp
spec:
  tracepoints:
    - subsystem: syscalls
      event: sys_enter_openat
      message: openat
      args:
        - {index: 5, type: int32}
        - {index: 6, type: string}
      selectors:
        - matchArgs:
            - index: 6
              operator: Prefix
              values: [/etc/shadow]
`

const rawSyscallTracepoint = `apiVersion: cilium.io/v1alpha1
kind: TracingPolicy
metadata:
  name: raw
spec:
  lists:
    - {name: mods, type: syscalls, values: [sys_init_module]}
  tracepoints:
    - subsystem: raw_syscalls
      event: sys_enter
      message: raw syscall
      args:
        - {index: 4, type: syscall64}
      selectors:
        - matchArgs:
            - {index: 4, operator: InMap, values: ["list:mods"]}
`

const validSyscallKprobe = `apiVersion: cilium.io/v1alpha1
kind: TracingPolicy
metadata:
  name: kp
spec:
  kprobes:
    - call: sys_openat
      syscall: true
      message: openat
      args:
        - {index: 0, type: int32}
        - {index: 1, type: string}
`

func tracepointPolicy(index int) string {
	return strings.ReplaceAll(`apiVersion: cilium.io/v1alpha1
kind: TracingPolicy
metadata:
  name: tp
spec:
  tracepoints:
    - subsystem: syscalls
      event: sys_enter_openat
      message: openat
      args:
        - index: IDX
          type: string
      selectors:
        - matchArgs:
            - index: IDX
              operator: Prefix
              values: [/etc/shadow]
`, "IDX", strconv.Itoa(index))
}

// TestTetragonValuesKeysExist: every key of deploy/tetragon/values.yaml exists in the values.yaml
// of the Tetragon chart it targets (a typo there is silently ignored by Helm).
func TestTetragonValuesKeysExist(t *testing.T) {
	ours := readYAMLMap(t, filepath.Join(repoRoot(t), "deploy/tetragon/values.yaml"))
	chart := readYAMLMap(t, filepath.Join("testdata", "tetragon-v1.7.1-chart-values.yaml"))
	var walk func(prefix string, o, c map[string]any)
	walk = func(prefix string, o, c map[string]any) {
		for k, v := range o {
			cv, ok := c[k]
			if !ok {
				t.Errorf("%s%s is not a value of the Tetragon chart", prefix, k)
				continue
			}
			om, oIsMap := v.(map[string]any)
			cm, cIsMap := cv.(map[string]any)
			if oIsMap && cIsMap {
				walk(prefix+k+".", om, cm)
			}
		}
	}
	walk("", ours, chart)
	tet, _ := ours["tetragon"].(map[string]any)
	for _, k := range []string{"enableProcessCred", "enableProcessNs"} {
		if tet[k] != true {
			t.Errorf("tetragon.%s must be true: the rules read credentials and namespaces", k)
		}
	}
	if tet["exportFilePerm"] != "640" {
		t.Errorf(`tetragon.exportFilePerm %v, want "640" (group-readable for the non-root collector)`, tet["exportFilePerm"])
	}
}

func readYAMLMap(t testing.TB, path string) map[string]any {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := yaml.Unmarshal(data, &m); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return m
}

// TestReadmeVocabularyKnowsSyscalls checks the helpers TestReadmeTableMatchesPoliciesAndCatalogue
// uses to match a rule's `syscalls:` to policy hooks, on the shipped policies.
func TestReadmeVocabularyKnowsSyscalls(t *testing.T) {
	v := policyValidator(t)
	rule := catalogueRule{Name: "r", Syscalls: []string{"openat", "chroot", "init_module", "open"}}
	vocab := vocabulary(rule, nil)
	sets := map[string]policySet{"kprobe": loadPolicySet(t, v, "kprobe"), "tracepoint": loadPolicySet(t, v, "tracepoint")}
	for set, hooks := range map[string][]string{
		"kprobe":     {"sys_openat", "sys_chroot", "sys_open"},
		"tracepoint": {"syscalls/sys_enter_openat", "syscalls/sys_enter_chroot", "syscalls/sys_enter_open"},
	} {
		for _, hn := range hooks {
			p := sets[set].files[sets[set].hookFile[hn]]
			if p == nil {
				t.Fatalf("%s set: no hook %s", set, hn)
			}
			h, _ := findHook(p, hn)
			for _, e := range emitted(h) {
				if !vocab[e] {
					t.Errorf("%s set: %s emits %q, not in the vocabulary of syscalls %v", set, hn, e, rule.Syscalls)
				}
			}
		}
	}
	tp := sets["tracepoint"]
	p := tp.files[tp.hookFile["raw_syscalls/sys_enter"]]
	raw, _ := findHook(p, "raw_syscalls/sys_enter")
	if !rawSyscallsFor(p, raw, []string{"init_module"}) || !rawSyscallsFor(p, raw, []string{"finit_module"}) {
		t.Error("raw_syscalls/sys_enter with the module-syscalls list does not match syscalls [init_module]/[finit_module]")
	}
	if rawSyscallsFor(p, raw, []string{"openat"}) {
		t.Error("raw_syscalls/sys_enter matches syscalls [openat], which its list does not name")
	}
	// umount2(2) is the kernel's sys_umount.
	if u := vocabulary(catalogueRule{Syscalls: []string{"umount2"}}, nil); !u["syscalls/sys_enter_umount"] || !u["__x64_sys_umount"] {
		t.Errorf("syscalls [umount2]: vocabulary %v", u)
	}
	// A condition on tetragon.syscall.name counts its literals as syscall names.
	byName := vocabulary(catalogueRule{Condition: `attributes["tetragon.syscall.name"] == "ptrace"`}, nil)
	if !byName["__arm64_sys_ptrace"] || !byName["syscalls/sys_enter_ptrace"] {
		t.Errorf("condition on tetragon.syscall.name: vocabulary %v", byName)
	}
}
