// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package workloadprofile

import (
	"net/netip"
	"strconv"
	"testing"
	"time"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/attrkey"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/corpusrec"
)

func TestCapsAndOverflow(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Limits.Executables, cfg.Limits.ParentChild, cfg.Limits.Ports = 2, 10, 1
	p := NewProfile(testKey, "", cfg)
	for _, e := range []string{"/bin/a", "/bin/b", "/bin/c"} {
		p.Observe(execAt(t0, e))
	}
	for _, port := range []uint16{80, 443} {
		p.Observe(Record{Key: testKey, Profiled: true, Time: t0, Syscall: "connect", PeerPort: port})
	}
	if sz, of := p.Sizes(), p.Overflow(); sz.Executables != 2 || of.Executables != 1 || sz.Ports != 1 || of.Ports != 1 {
		t.Errorf("sizes %+v overflow %+v", sz, of)
	}
	// What did not fit stays novel (and is counted again), not silently known.
	if got := p.Observe(execAt(t0, "/bin/c")); !contains(got, attrkey.ProfileKindExec) || p.Overflow().Executables != 2 {
		t.Errorf("over the cap: novel %v overflow %+v", got, p.Overflow())
	}
}

func TestSetMaxWorkloads(t *testing.T) {
	cfg := DefaultConfig()
	cfg.MaxWorkloads = 1
	s := NewSet(cfg)
	if res := s.Observe(execAt(t0, "/bin/a")); !res.Profiled || !res.Created || res.Workload != "payments/Deployment/api/app" {
		t.Fatalf("first workload: %+v", res)
	}
	other := execAt(t0, "/bin/a")
	other.Key = Key{ContainerID: corpusrec.Benign}
	if res := s.Observe(other); res.Profiled || !res.Dropped {
		t.Errorf("over MaxWorkloads: %+v", res)
	}
	if res := s.Observe(Record{}); res.Profiled || res.Dropped {
		t.Errorf("host record: %+v", res)
	}
	if st := s.Stats(); st.UnprofiledRecords != 1 || st.Learning != 1 {
		t.Errorf("stats %+v", st)
	}
}

func TestFileProfileTakesPrecedence(t *testing.T) {
	s := NewSet(DefaultConfig())
	s.Observe(execAt(t0, "/bin/learned"))
	f := NewProfile(testKey, "", DefaultConfig())
	f.Observe(execAt(t0, "/bin/reviewed"))
	if err := s.SetFiles([]*Profile{f}); err != nil {
		t.Fatal(err)
	}
	res := s.Observe(execAt(t0.Add(time.Hour), "/bin/learned"))
	if res.State != StateFile || !contains(res.Novel, attrkey.ProfileKindExec) {
		t.Errorf("file profile: %+v", res)
	}
	if res := s.Observe(execAt(t0.Add(48*time.Hour), "/bin/reviewed")); res.Novel != nil || res.State != StateFile {
		t.Errorf("reviewed exec: %+v", res)
	}
	// A file profile never changes, whatever the records or their image.
	img := execAt(t0.Add(49*time.Hour), "/bin/new")
	img.Image = "other:2"
	if res := s.Observe(img); res.Restarted || f.Sizes().Executables != 1 || f.State() != StateFile {
		t.Errorf("file profile changed: %+v %+v", res, f.Sizes())
	}
	st := s.Stats()
	if st.File != 1 || st.Learning != 0 || st.Novel[0] != 2 {
		t.Errorf("stats %+v", st)
	}
	// Removing the file resumes the learned profile.
	if err := s.SetFiles(nil); err != nil {
		t.Fatal(err)
	}
	if res := s.Observe(execAt(t0.Add(time.Hour), "/bin/learned")); res.State != StateLearning || res.Novel != nil {
		t.Errorf("after removing the file: %+v", res)
	}
	if err := s.SetFiles([]*Profile{f, NewProfile(testKey, "", DefaultConfig())}); err == nil {
		t.Error("two file profiles for one key accepted")
	}
}

func TestSetStorageRoundTrip(t *testing.T) {
	// Two sets see the same records; one is saved and restored half way:
	// both end enforcing at the same record (the window state survives).
	cfg := DefaultConfig()
	a, b := NewSet(cfg), NewSet(cfg)
	for _, d := range []time.Duration{0, 70 * time.Minute, 130 * time.Minute} {
		r := execAt(t0.Add(d), "/bin/a")
		r.Image = "api:1"
		r.PeerAddr, r.PeerPort = netip.MustParseAddr("10.1.2.3"), 5432
		a.Observe(r)
		b.Observe(r)
	}
	ch := b.Changes()
	data, err := b.MarshalLearned()
	if err != nil {
		t.Fatal(err)
	}
	c := NewSet(cfg)
	if err := c.UnmarshalLearned(data); err != nil {
		t.Fatal(err)
	}
	if d := Diff(b.Get(testKey), c.Get(testKey)); len(d) != 0 {
		t.Errorf("restored profile differs: %v", d)
	}
	if b.Changes() != ch {
		t.Error("MarshalLearned moved Changes")
	}
	for _, d := range []time.Duration{190 * time.Minute, 250 * time.Minute} {
		r := execAt(t0.Add(d), "/bin/a")
		r.Image = "api:1"
		ra, rc := a.Observe(r), c.Observe(r)
		if ra.State != rc.State {
			t.Errorf("at %v: uninterrupted %s, restored %s", d, ra.State, rc.State)
		}
	}
	if st := c.Get(testKey).State(); st != StateEnforcing {
		t.Errorf("restored set: %s, want enforcing after 3 quiet windows", st)
	}
	if err := c.UnmarshalLearned([]byte(`{"v":9,"profiles":[]}`)); err == nil {
		t.Error("unknown state version accepted")
	}
	if err := c.UnmarshalLearned([]byte(`{"v":1,"profiles":[{"key":{},"state":"learning"}]}`)); err == nil {
		t.Error("state without key accepted")
	}
}

func TestProfileJSONRoundTrip(t *testing.T) {
	p := NewProfile(testKey, "api:1", DefaultConfig())
	p.Observe(Record{Key: testKey, Profiled: true, Time: t0, Exec: "/usr/lib/jvm/java-17-openjdk-amd64/bin/java", ParentExec: "/bin/sh"})
	p.Observe(Record{Key: testKey, Profiled: true, Time: t0.Add(time.Minute), Syscall: "openat", FilePath: "/etc/passwd"})
	b, err := EncodeJSON(p)
	if err != nil {
		t.Fatal(err)
	}
	q, err := DecodeJSON(b, DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	if d := Diff(p, q); len(d) != 0 || q.Key() != p.Key() || !q.FirstSeen().Equal(p.FirstSeen()) || !q.LastSeen().Equal(p.LastSeen()) {
		t.Errorf("round trip: %v %+v", d, q)
	}
	if _, err := DecodeJSON([]byte(`{"key":{"image":"x"},"state":"learning","files":["secrets"]}`), DefaultConfig()); err == nil {
		t.Error("unknown file class accepted")
	}
}

// knownRecords learns the benign container and the attack run (so that
// every item is known), enforces, and returns the records to replay.
func knownRecords(tb testing.TB) (*Set, []rec) {
	tb.Helper()
	_, benign := learnBenign(tb)
	attack := corpusrec.OfContainer(corpusrec.Load(tb, "syscalls/export.jsonl.gz"), corpusrec.Attack, corpusrec.Benign)
	// The two runs are days apart: learn both in one long learning period.
	cfg := DefaultConfig()
	cfg.LearningPeriod, cfg.QuietWindows = 365*24*time.Hour, 0
	s := NewSet(cfg)
	all := append(benign, attack...)
	observeAll(s, all)
	p := s.Get(Key{ContainerID: corpusrec.Benign})
	p.Enforce(p.LastSeen())
	return s, all
}

func TestObserveKnownDoesNotAllocate(t *testing.T) {
	s, all := knownRecords(t)
	for _, r := range all {
		if res := s.Observe(RecordOf(r.Res, r.LR)); res.Novel != nil {
			t.Fatalf("known record novel: %+v", res)
		}
	}
	i := 0
	if n := testing.AllocsPerRun(2000, func() {
		r := all[i%len(all)]
		i++
		s.Observe(RecordOf(r.Res, r.LR))
	}); n != 0 {
		t.Errorf("Observe of known records: %v allocs per record", n)
	}
	// A versioned executable and an IPv6 peer: cached and parsed without allocating.
	ver := Record{Key: testKey, Profiled: true, Time: t0, Exec: "/usr/lib/jvm/java-17-openjdk-amd64/bin/java", ParentExec: "/usr/bin/python3.11"}
	v6 := Record{Key: testKey, Profiled: true, Time: t0, Syscall: "connect", PeerAddr: netip.MustParseAddr("2606:4700::1111"), PeerPort: 443}
	s.Observe(ver)
	s.Observe(v6)
	if n := testing.AllocsPerRun(100, func() { s.Observe(ver); s.Observe(v6) }); n != 0 {
		t.Errorf("Observe of a known versioned exec / IPv6 peer: %v allocs", n)
	}
}

func BenchmarkObserveKnown(b *testing.B) {
	s, all := knownRecords(b)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		r := all[i%len(all)]
		s.Observe(RecordOf(r.Res, r.LR))
	}
}

func TestSetConcurrentUse(t *testing.T) {
	s := NewSet(DefaultConfig())
	done := make(chan bool)
	for g := range 4 {
		go func() {
			defer func() { done <- true }()
			for i := range 500 {
				r := execAt(t0.Add(time.Duration(i)*time.Minute), "/bin/x"+strconv.Itoa(i%7))
				r.Key.Container = "c" + strconv.Itoa(g)
				s.Observe(r)
				if i%100 == 0 {
					s.Stats()
					if _, err := s.MarshalLearned(); err != nil {
						t.Error(err)
					}
				}
			}
		}()
	}
	for range 4 {
		<-done
	}
	if st := s.Stats(); st.Learning+st.Enforcing != 4 || st.Items.Executables != 28 {
		t.Errorf("stats %+v", st)
	}
}

func TestConfigValidate(t *testing.T) {
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatal(err)
	}
	for name, mod := range map[string]func(*Config){
		"never ends":       func(c *Config) { c.LearningPeriod, c.QuietWindows = 0, 0 },
		"quiet, no window": func(c *Config) { c.Window = 0 },
		"negative period":  func(c *Config) { c.LearningPeriod = -time.Hour },
		"zero limit":       func(c *Config) { c.Limits.Syscalls = 0 },
		"no workloads":     func(c *Config) { c.MaxWorkloads = 0 },
		"negative windows": func(c *Config) { c.QuietWindows = -1 },
	} {
		c := DefaultConfig()
		mod(&c)
		if c.Validate() == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
