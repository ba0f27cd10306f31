// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package deploytest

import (
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
	// Both sets cover the same areas, file for file.
	k, tp := sortedKeys(kprobe.files), sortedKeys(tracepoint.files)
	if !slices.Equal(k, tp) {
		t.Errorf("kprobe policies %v and tracepoint policies %v do not pair up", k, tp)
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
	} {
		mutated := mutate(base)
		if mutated == base {
			t.Fatalf("%s: the mutation changed nothing", name)
		}
		if _, err := v.Validate([]byte(mutated)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := v.Validate([]byte(tracepointPolicy(6))); err != nil {
		t.Errorf("valid tracepoint policy rejected: %v", err)
	}
}

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

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
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
