// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package workloadprofile

import (
	"strings"
	"testing"
	"time"
)

// node learns a profile of testKey from execs and syscalls at t.
func node(t time.Time, image string, execs []string, syscalls ...string) *Profile {
	p := NewProfile(testKey, image, DefaultConfig())
	for _, e := range execs {
		p.Observe(execAt(t, e))
	}
	for _, s := range syscalls {
		p.Observe(Record{Key: testKey, Profiled: true, Time: t, Syscall: s, PeerAddr: mustAddr("127.0.0.1"), PeerPort: 8080})
	}
	return p
}

func TestMerge(t *testing.T) {
	a := node(t0, "api:1", []string{"/bin/a", "/bin/b"}, "openat")
	b := node(t0.Add(2*time.Hour), "api:1", []string{"/bin/b", "/bin/c"}, "connect")
	b.Enforce(t0.Add(3 * time.Hour))
	m, err := Merge(DefaultConfig(), a, b)
	if err != nil {
		t.Fatal(err)
	}
	it := m.Items()
	if strings.Join(it.Executables, " ") != "/bin/a /bin/b /bin/c" || strings.Join(it.Syscalls, " ") != "connect openat" ||
		len(it.ParentChild) != 3 || len(it.Ports) != 1 || len(it.Peers) != 1 {
		t.Errorf("union: %+v", it)
	}
	if !m.FirstSeen().Equal(t0) || !m.LastSeen().Equal(t0.Add(2*time.Hour)) || m.State() != StateEnforcing ||
		!m.EnforcingSince().Equal(t0.Add(3*time.Hour)) || m.Image() != "api:1" || m.Key() != testKey {
		t.Errorf("merged header: state %s first %v last %v since %v image %s", m.State(), m.FirstSeen(), m.LastSeen(), m.EnforcingSince(), m.Image())
	}
	if a.Sizes().Executables != 2 || b.Sizes().Executables != 2 {
		t.Error("Merge changed an input")
	}

	// Two learning inputs whose union spans the learning period: enforcing.
	c := node(t0.Add(25*time.Hour), "api:1", []string{"/bin/a"})
	if m, _ := Merge(DefaultConfig(), a, c); m.State() != StateEnforcing {
		t.Errorf("a day of learning across nodes: %s", m.State())
	}
	if m, _ := Merge(DefaultConfig(), a, a); m.State() != StateLearning {
		t.Errorf("learning inputs: %s", m.State())
	}

	// Caps: the first items in sorted order are kept, the rest overflow.
	cfg := DefaultConfig()
	cfg.Limits.Executables = 2
	m, err = Merge(cfg, a, b)
	if err != nil || strings.Join(m.Items().Executables, " ") != "/bin/a /bin/b" || m.Overflow().Executables != 1 {
		t.Errorf("capped merge: %v %v overflow %+v", err, m.Items().Executables, m.Overflow())
	}

	other := NewProfile(Key{Image: "nginx"}, "", DefaultConfig())
	if _, err := Merge(DefaultConfig(), a, other); err == nil || !strings.Contains(err.Error(), "different workloads") {
		t.Errorf("different keys: %v", err)
	}
	if _, err := Merge(DefaultConfig(), a, node(t0, "api:2", nil)); err == nil || !strings.Contains(err.Error(), "different images") {
		t.Errorf("different images: %v", err)
	}
	if _, err := Merge(DefaultConfig()); err == nil {
		t.Error("merge of nothing")
	}
}

func TestDiff(t *testing.T) {
	a := node(t0, "api:1", []string{"/bin/a", "/bin/b"}, "openat")
	b := node(t0, "api:2", []string{"/bin/b", "/bin/c"}, "openat")
	b.Enforce(t0)
	b.Observe(Record{Key: testKey, Profiled: true, Time: t0, FilePath: "/etc/shadow"}) // enforcing: not added
	got := FormatDiff(Diff(a, b))
	want := `~ image api:1 -> api:2
~ state learning -> enforcing
- exec executables /bin/a
+ exec executables /bin/c
- exec parentChild /bin/sh > /bin/a
+ exec parentChild /bin/sh > /bin/c
`
	if got != want {
		t.Errorf("Diff:\n%s\nwant:\n%s", got, want)
	}
	if d := Diff(a, a); len(d) != 0 {
		t.Errorf("Diff(a, a) = %v", d)
	}
}
