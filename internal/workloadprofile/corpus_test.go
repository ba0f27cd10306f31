// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package workloadprofile

import (
	"bytes"
	"path/filepath"
	"testing"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/attrkey"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/corpusrec"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/testenv"
)

// rec is one record of the shared corpus, mapped as the receiver maps it (corpusrec), so that
// the tests see exactly what a deployed collector's records carry.
type rec = corpusrec.Record

// connects returns the captured connect events (host curl/wget, the only
// real events with a peer address) to port, moved into the benign container.
func connects(t testing.TB, lines [][]byte, port int64) []rec {
	var out []rec
	for _, r := range corpusrec.Map(t, lines) {
		if v, ok := r.LR.Attributes().Get(attrkey.NetworkPeerPort); ok && v.Int() == port && r.Str(attrkey.TetragonSyscallName) == "connect" {
			out = append(out, corpusrec.InContainer(r, corpusrec.Benign))
		}
	}
	if len(out) == 0 {
		t.Fatalf("no captured connect to port %d", port)
	}
	return out
}

func captureLines(t testing.TB) [][]byte {
	return testenv.ReadLines(t, filepath.Join(testenv.EventsDir(t), "captured/main-export.jsonl.gz"))
}

// observeAll observes rs in order and returns the union of the novelties
// and how many records had none.
func observeAll(s *Set, rs []rec) (kinds map[string]int, quiet int) {
	kinds = map[string]int{}
	for _, r := range rs {
		res := s.Observe(RecordOf(r.Res, r.LR))
		if len(res.Novel) == 0 {
			quiet++
		}
		for _, k := range res.Novel {
			kinds[k]++
		}
	}
	return kinds, quiet
}

// learnBenign learns the benign container and its connects to 8080 (as if
// the app talked to a sidecar on localhost:8080), then enforces.
func learnBenign(t testing.TB) (*Set, []rec) {
	t.Helper()
	lines := captureLines(t)
	benign := append(corpusrec.OfContainer(corpusrec.Map(t, lines), corpusrec.Benign, corpusrec.Benign), connects(t, lines, 8080)...)
	s := NewSet(DefaultConfig())
	observeAll(s, benign)
	p := s.Get(Key{ContainerID: corpusrec.Benign})
	if p == nil || p.State() != StateLearning {
		t.Fatalf("after learning: %+v", p)
	}
	p.Enforce(p.LastSeen())
	return s, benign
}

func TestLearnBenignThenReplayAttack(t *testing.T) {
	s, benign := learnBenign(t)
	p := s.Get(Key{ContainerID: corpusrec.Benign})
	it := p.Items()
	t.Logf("learned: %+v", it)
	for _, want := range []string{"/bin/httpd", "/bin/sh", "/bin/true"} {
		if !contains(it.Executables, want) {
			t.Errorf("executables %v lack %s", it.Executables, want)
		}
	}
	if !contains(it.ParentChild, Pair{"/usr/sbin/runc", "/bin/sh"}) || !contains(it.Ports, 8080) || !contains(it.Peers, PeerLoopback) {
		t.Errorf("learned items: %+v", it)
	}

	// The learned events again: nothing is novel.
	if kinds, _ := observeAll(s, benign); len(kinds) != 0 {
		t.Errorf("replaying the learned events: novelties %v", kinds)
	}
	// The same run as streamed over gRPC (other serialisation): nothing novel.
	grpc := corpusrec.OfContainer(corpusrec.Load(t, "captured/main-grpc.jsonl.gz"), corpusrec.Benign, corpusrec.Benign)
	if kinds, quiet := observeAll(s, grpc); len(kinds) != 0 || quiet != len(grpc) {
		t.Errorf("the gRPC capture of the same run: novelties %v", kinds)
	}

	// The attack-like run in the same workload.
	attack := corpusrec.OfContainer(corpusrec.Load(t, "syscalls/export.jsonl.gz"), corpusrec.Attack, corpusrec.Benign)
	kinds, quiet := observeAll(s, attack)
	t.Logf("attack replay: %d records, %d without novelty, novelties %v", len(attack), quiet, kinds)
	for _, k := range []string{attrkey.ProfileKindExec, attrkey.ProfileKindFile, attrkey.ProfileKindSyscall} {
		if kinds[k] == 0 {
			t.Errorf("no %s novelty in the attack replay", k)
		}
	}
	if quiet == 0 {
		t.Error("every attack record was novel: the learned /bin/sh from runc should not be")
	}
	if p.Sizes() != (Counts{Executables: len(it.Executables), ParentChild: len(it.ParentChild), Files: len(it.Files), Syscalls: len(it.Syscalls), Ports: len(it.Ports), Peers: len(it.Peers)}) {
		t.Error("an enforcing profile changed")
	}

	// Specific records: what the unexpected_* rules will fire on.
	want := map[string]func(r rec) bool{
		attrkey.ProfileKindExec: func(r rec) bool {
			return r.LR.EventName() == eventExec && r.Str(attrkey.ProcessExecutablePath) == "/usr/local/bin/sysx"
		},
		attrkey.ProfileKindFile: func(r rec) bool { return r.Str(attrkey.FilePath) == "/etc/shadow" },
		attrkey.ProfileKindSyscall: func(r rec) bool {
			return r.Str(attrkey.TetragonSyscallName) == "ptrace"
		},
	}
	for kind, match := range want {
		found := false
		for _, r := range attack {
			if match(r) {
				found = true
				if res := s.Observe(RecordOf(r.Res, r.LR)); !contains(res.Novel, kind) || res.State != StateEnforcing {
					t.Errorf("%s %s: %+v, want %s novel", r.LR.EventName(), r.Str(attrkey.ProcessExecutablePath), res, kind)
				}
			}
		}
		if !found {
			t.Errorf("no attack record for %s", kind)
		}
	}
	st := s.Stats()
	if st.Novel[0] == 0 || st.Novel[1] == 0 || st.Novel[2] == 0 || st.Enforcing != 1 || st.Learning != 0 {
		t.Errorf("stats: %+v", st)
	}
}

func TestNetworkNovelty(t *testing.T) {
	s, _ := learnBenign(t)
	lines := captureLines(t)
	check := func(name string, rs []rec, want bool) {
		t.Helper()
		for _, r := range rs {
			res := s.Observe(RecordOf(r.Res, r.LR))
			if got := contains(res.Novel, attrkey.ProfileKindNetwork); got != want {
				t.Errorf("%s (%s:%d): network novel %v, want %v (%v)", name, r.Str(attrkey.NetworkPeerAddress),
					func() int64 { v, _ := r.LR.Attributes().Get(attrkey.NetworkPeerPort); return v.Int() }(), got, want, res.Novel)
			}
		}
	}
	check("learned port 8080", connects(t, lines, 8080), false)
	check("new port 2112", connects(t, lines, 2112), true)
	// The real connect shape to a public address: same line, other sockaddr.
	var public [][]byte
	for _, l := range lines {
		if bytes.Contains(l, []byte(`"addr":"127.0.0.1","port":8080`)) {
			public = append(public, bytes.ReplaceAll(l, []byte(`"addr":"127.0.0.1"`), []byte(`"addr":"93.184.216.34"`)))
		}
	}
	if len(public) == 0 {
		t.Fatal("no connect line to rewrite")
	}
	var pub []rec
	for _, r := range corpusrec.Map(t, public) {
		if r.Str(attrkey.NetworkPeerAddress) == "93.184.216.34" {
			pub = append(pub, corpusrec.InContainer(r, corpusrec.Benign))
		}
	}
	check("public peer, learned port", pub, true)
}

func contains[T comparable](s []T, v T) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}
