// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package workloadprofile

import (
	"testing"
	"time"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/attrkey"
)

var t0 = time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)

var testKey = Key{Namespace: "payments", Kind: "Deployment", Name: "api", Container: "app"}

func execAt(t time.Time, exe string) Record {
	return Record{Key: testKey, Profiled: true, Time: t, Exec: exe, ParentExec: "/bin/sh"}
}

func TestLearningPeriodEndsLearning(t *testing.T) {
	cfg := DefaultConfig()
	cfg.QuietWindows = 0
	p := NewProfile(testKey, "", cfg)
	p.Observe(execAt(t0, "/bin/a"))
	p.Observe(execAt(t0.Add(23*time.Hour), "/bin/b"))
	if p.State() != StateLearning {
		t.Fatalf("state %s before 24h", p.State())
	}
	// The record that ends learning is judged by the enforcing profile.
	if got := p.Observe(execAt(t0.Add(24*time.Hour), "/bin/c")); !contains(got, attrkey.ProfileKindExec) {
		t.Errorf("novel = %v", got)
	}
	if p.State() != StateEnforcing || !p.EnforcingSince().Equal(t0.Add(24*time.Hour)) {
		t.Errorf("state %s since %v", p.State(), p.EnforcingSince())
	}
	if p.Sizes().Executables != 2 || !p.FirstSeen().Equal(t0) || !p.LastSeen().Equal(t0.Add(23*time.Hour)) {
		t.Errorf("sizes %+v, window %v..%v", p.Sizes(), p.FirstSeen(), p.LastSeen())
	}
	if got := p.Observe(execAt(t0.Add(25*time.Hour), "/bin/a")); got != nil {
		t.Errorf("known exec: novel %v", got)
	}
}

func TestQuietWindowsEndLearning(t *testing.T) {
	cfg := DefaultConfig() // 1h windows, 3 quiet
	p := NewProfile(testKey, "", cfg)
	at := func(d time.Duration, exe string) {
		t.Helper()
		p.Observe(execAt(t0.Add(d), exe))
	}
	// Each record closes the window before it (the comment says how it is judged).
	at(0, "/bin/a")               // window 0 adds
	at(70*time.Minute, "/bin/a")  // window 0 added: quiet 0
	at(130*time.Minute, "/bin/a") // window 1 quiet: 1
	at(190*time.Minute, "/bin/b") // window 2 quiet: 2; window 3 adds
	at(250*time.Minute, "/bin/a") // window 3 added: back to 0
	if p.State() != StateLearning {
		t.Fatalf("enforcing after a window that added")
	}
	at(6*time.Hour+10*time.Minute, "/bin/a") // window 4 quiet: 1 (window 5 is empty: not counted)
	at(7*time.Hour+10*time.Minute, "/bin/a") // window 6 quiet: 2
	if p.State() != StateLearning {
		t.Fatalf("enforcing after 2 quiet windows (empty windows must not count)")
	}
	at(8*time.Hour+10*time.Minute, "/bin/a") // window 7 quiet: 3
	if p.State() != StateEnforcing || !p.EnforcingSince().Equal(t0.Add(8*time.Hour+10*time.Minute)) {
		t.Fatalf("state %s since %v, want enforcing after 3 quiet windows", p.State(), p.EnforcingSince())
	}
}

func TestLifecycleIgnoresMissingAndOldTimes(t *testing.T) {
	p := NewProfile(testKey, "", DefaultConfig())
	p.Observe(execAt(t0, "/bin/a"))
	p.Observe(execAt(time.Time{}, "/bin/z")) // no time: learned, lifecycle unmoved
	p.Observe(execAt(t0.Add(-time.Hour), "/bin/old"))
	if p.State() != StateLearning || p.Sizes().Executables != 3 || !p.FirstSeen().Equal(t0.Add(-time.Hour)) {
		t.Errorf("state %s sizes %+v first %v", p.State(), p.Sizes(), p.FirstSeen())
	}
	p.Enforce(t0.Add(time.Minute))
	p.Enforce(t0.Add(time.Hour)) // no effect: already enforcing
	if !p.EnforcingSince().Equal(t0.Add(time.Minute)) {
		t.Errorf("enforcing since %v", p.EnforcingSince())
	}
}

func TestImageChangeRestartsLearning(t *testing.T) {
	s := NewSet(DefaultConfig())
	r := execAt(t0, "/bin/a")
	r.Image = "registry/pay/api:1.4"
	if res := s.Observe(r); !res.Created || res.State != StateLearning {
		t.Fatalf("first record: %+v", res)
	}
	s.Get(testKey).Enforce(t0)

	// Image adopted when unknown: a record without image changes nothing.
	noImage := execAt(t0.Add(time.Minute), "/bin/a")
	if res := s.Observe(noImage); res.Restarted || res.Novel != nil {
		t.Errorf("no image: %+v", res)
	}

	r2 := execAt(t0.Add(time.Hour), "/bin/b")
	r2.Image = "registry/pay/api:1.5"
	res := s.Observe(r2)
	if !res.Restarted || res.State != StateLearning || !contains(res.Novel, attrkey.ProfileKindExec) {
		t.Fatalf("new image: %+v", res)
	}
	p := s.Get(testKey)
	if p.Image() != "registry/pay/api:1.5" || p.Sizes().Executables != 1 || p.Restarts() != 1 || !p.FirstSeen().Equal(r2.Time) {
		t.Errorf("after restart: image %s sizes %+v restarts %d first %v", p.Image(), p.Sizes(), p.Restarts(), p.FirstSeen())
	}
	// An old pod still running during the rollout: ignored, no second restart.
	old := execAt(t0.Add(time.Hour+5*time.Minute), "/bin/a")
	old.Image = "registry/pay/api:1.4"
	if res := s.Observe(old); !res.Stale || res.Profiled || res.Restarted {
		t.Errorf("old image within grace: %+v", res)
	}
	// A rollback after the grace: learning restarts again.
	old.Time = t0.Add(2 * time.Hour)
	if res := s.Observe(old); !res.Restarted {
		t.Errorf("old image after grace: %+v", res)
	}
	if st := s.Stats(); st.Restarts != 2 {
		t.Errorf("stats restarts %d", st.Restarts)
	}
}
