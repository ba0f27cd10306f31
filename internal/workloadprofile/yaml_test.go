// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package workloadprofile

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite testdata/payments-api.yaml from sample()")

// sample is a small profile with every list filled.
func sample(t testing.TB) *Profile {
	t.Helper()
	p := NewProfile(testKey, "registry.example/payments/api:1.4.2", DefaultConfig())
	recs := []Record{
		{Time: t0, Exec: "/usr/lib/jvm/java-17-openjdk-amd64/bin/java", ParentExec: "/bin/sh"},
		{Time: t0.Add(time.Minute), Exec: "/bin/sh", ParentExec: "/usr/sbin/runc"},
		{Time: t0.Add(2 * time.Minute), Syscall: "openat", FilePath: "/etc/hosts"},
		{Time: t0.Add(3 * time.Minute), Syscall: "openat", FilePath: "/tmp/x"},
		{Time: t0.Add(4 * time.Minute), Syscall: "connect", PeerAddr: mustAddr("10.96.0.10"), PeerPort: 53},
		{Time: t0.Add(5 * time.Minute), Syscall: "connect", PeerAddr: mustAddr("93.184.216.34"), PeerPort: 443},
	}
	for _, r := range recs {
		r.Key, r.Profiled = testKey, true
		p.Observe(r)
	}
	p.Enforce(t0.Add(24 * time.Hour))
	return p
}

func TestYAMLRoundTrip(t *testing.T) {
	p := sample(t)
	b, err := Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s", b)
	q, err := Unmarshal(b, "p.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if d := Diff(p, q); len(d) != 0 {
		t.Errorf("round trip changed: %s", FormatDiff(d))
	}
	if q.Key() != p.Key() || q.Image() != p.Image() || q.State() != StateEnforcing ||
		!q.FirstSeen().Equal(p.FirstSeen()) || !q.LastSeen().Equal(p.LastSeen()) || !q.EnforcingSince().Equal(p.EnforcingSince()) {
		t.Errorf("round trip: %+v\nwant %+v", q, p)
	}
	b2, err := Marshal(q)
	if err != nil || string(b2) != string(b) {
		t.Errorf("second Marshal differs (%v):\n%s", err, b2)
	}
	// The committed example is exactly what Marshal writes for sample().
	if *update {
		if err := os.WriteFile(filepath.Join("testdata", "payments-api.yaml"), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(filepath.Join("testdata", "payments-api.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if string(want) != string(b) {
		t.Errorf("testdata/payments-api.yaml differs from Marshal(sample()); got:\n%s", b)
	}
}

func TestYAMLStrictErrors(t *testing.T) {
	valid := "kind: WorkloadProfile\nversion: 1\nworkload: {namespace: payments, kind: Deployment, name: api, container: app}\n"
	cases := []struct {
		name, doc, want string
	}{
		{"unknown top-level field", valid + "executables: [/bin/sh]\n",
			`line 4: unknown field "executables" at the top level (valid: exec, files, image, kind, learned, network, overflow, state, syscalls, version, workload)`},
		{"unknown field in exec", valid + "exec: {executable: [/bin/sh]}\n",
			`line 4: unknown field "executable" in exec (valid: executables, parentChild)`},
		{"unknown field in a pair", valid + "exec:\n  parentChild:\n    - {from: /bin/sh, child: /bin/ls}\n",
			`line 6: unknown field "from" in exec.parentChild[] (valid: child, parent)`},
		{"unknown field in workload", valid[:len(valid)-2] + ", pod: x}\n", `unknown field "pod" in workload (valid: cluster, container, containerID, image, kind, name, namespace)`},
		{"wrong kind", strings.Replace(valid, "WorkloadProfile", "Profile", 1), `kind: "Profile", want "WorkloadProfile"`},
		{"wrong version", strings.Replace(valid, "version: 1", "version: 2", 1), "version: 2, want 1"},
		{"bad state", valid + "state: learnt\n", `state: "learnt", want learning, enforcing or file`},
		{"bad file class", valid + "files: [secrets]\n", `unknown file class "secrets" (valid: [credentials proc kernel system_config binaries logs temp home other])`},
		{"bad peer class", valid + "network: {peers: [internet]}\n", `unknown peer class "internet"`},
		{"bad port", valid + "network: {ports: [https]}\n", "cannot unmarshal"},
		{"port 0", valid + "network: {ports: [0]}\n", "port 0"},
		{"half a pair", valid + "exec: {parentChild: [{parent: /bin/sh}]}\n", "parent and child must both be set"},
		{"bad time", valid + "learned: {firstSeen: yesterday}\n", `learned.firstSeen: "yesterday" is not an RFC 3339 time`},
		{"two key forms", "kind: WorkloadProfile\nversion: 1\nworkload: {image: nginx, containerID: abc}\n", "set exactly one of"},
		{"no key", "kind: WorkloadProfile\nversion: 1\n", "set exactly one of"},
		{"namespace without name", "kind: WorkloadProfile\nversion: 1\nworkload: {namespace: x}\n", "needs namespace and name"},
		{"two documents", valid + "---\n" + valid, "one document"},
		{"not a mapping", "- a\n", "a profile is a mapping"},
		{"empty", "", "empty profile file"},
	}
	for _, c := range cases {
		_, err := Unmarshal([]byte(c.doc), "f.yaml")
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "f.yaml: ") {
			t.Errorf("%s: error %v, want it to contain %q", c.name, err, c.want)
		}
	}
	p, err := Unmarshal([]byte(valid), "")
	if err != nil || p.State() != StateEnforcing {
		t.Errorf("minimal profile: %v, %v (a file without state enforces)", p, err)
	}
}

func TestLoadFiles(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, p *Profile) {
		b, err := Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("a.yaml", sample(t))
	write("b.yaml", NewProfile(Key{Image: "nginx"}, "nginx:1.25", DefaultConfig()))
	ps, err := LoadFiles([]string{filepath.Join(dir, "*.yaml"), filepath.Join(dir, "a.yaml"), filepath.Join(dir, "none-*.yaml")})
	if err != nil || len(ps) != 2 {
		t.Fatalf("LoadFiles: %d profiles, %v", len(ps), err)
	}
	if _, err := LoadFiles([]string{filepath.Join(dir, "missing.yaml")}); err == nil {
		t.Error("a missing plain path is not an error")
	}
	write("c.yaml", sample(t))
	if _, err := LoadFiles([]string{filepath.Join(dir, "*.yaml")}); err == nil || !strings.Contains(err.Error(), "already has a profile in") {
		t.Errorf("duplicate workload: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "c.yaml"), []byte("kind: x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadFiles([]string{filepath.Join(dir, "*.yaml")}); err == nil || !strings.Contains(err.Error(), "c.yaml: kind") {
		t.Errorf("bad file: %v", err)
	}
	// The committed example loads.
	if _, err := Load(filepath.Join("testdata", "payments-api.yaml")); err != nil {
		t.Error(err)
	}
}
