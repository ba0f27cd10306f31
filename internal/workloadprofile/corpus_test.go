// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package workloadprofile

import (
	"bytes"
	"path/filepath"
	"testing"
	"time"

	"github.com/cilium/tetragon/api/v1/tetragon"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/attrkey"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/eventmap"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/testenv"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/tetragonjson"
)

// The corpus tests map Tetragon JSON lines with the receiver's own decoder
// and mapping (internal/eventmap), as the catalogue tests do, so that the
// profile sees exactly what a deployed collector's records carry.

// Containers of the shared corpus (process.docker: 31 hex characters).
const (
	// benignID: a busybox container of captured/main-export.jsonl.gz running
	// httpd, sh and a loop of /bin/true, plus its socket state changes.
	benignID = "736fae2554da315f33ec5b6cd50e351"
	// attackID: the "app" container of syscalls/export.jsonl.gz (credential
	// reads, ptrace, mount, bpf, memfd exec, …, and benign steps).
	attackID = "cb7a5c27fe6155da4bd86cf513c3486"
)

// rec is one mapped record with its resource.
type rec struct {
	res pcommon.Map
	lr  plog.LogRecord
}

func (r rec) str(key string) string { return attrkey.Str(r.lr.Attributes(), key) }

// mapLines maps each line on its own (one Batch per line), so that records
// stay in file order: a Batch groups by resource.
func mapLines(t testing.TB, lines [][]byte) []rec {
	t.Helper()
	var ev tetragon.GetEventsResponse
	var out []rec
	now := time.Now()
	for _, l := range lines {
		if err := tetragonjson.DecodeJSON(l, &ev); err != nil {
			continue
		}
		b := eventmap.NewBatch(eventmap.Options{})
		if err := b.Add(&ev, l, now); err != nil {
			continue
		}
		ld := b.Flush()
		rl := ld.ResourceLogs().At(0)
		out = append(out, rec{res: rl.Resource().Attributes(), lr: rl.ScopeLogs().At(0).LogRecords().At(0)})
	}
	if len(out) == 0 {
		t.Fatal("no records mapped")
	}
	return out
}

func corpus(t testing.TB, name string) []rec {
	t.Helper()
	return mapLines(t, testenv.ReadLines(t, filepath.Join(testenv.EventsDir(t), name)))
}

// ofContainer keeps the records of one container and moves them to the
// container id `to` (the same workload key), as if the other run's events
// had happened in that container.
func ofContainer(rs []rec, id, to string) []rec {
	var out []rec
	for _, r := range rs {
		if attrkey.Str(r.res, attrkey.ContainerID) == id {
			out = append(out, inContainer(r, to))
		}
	}
	return out
}

// inContainer is r with a copy of its resource whose container.id is id.
func inContainer(r rec, id string) rec {
	res := pcommon.NewMap()
	r.res.CopyTo(res)
	res.PutStr(attrkey.ContainerID, id)
	return rec{res: res, lr: r.lr}
}

// connects returns the captured connect events (host curl/wget, the only
// real events with a peer address) to port, moved into the benign container.
func connects(t testing.TB, lines [][]byte, port int64) []rec {
	var out []rec
	for _, r := range mapLines(t, lines) {
		if v, ok := r.lr.Attributes().Get(attrkey.NetworkPeerPort); ok && v.Int() == port && r.str(attrkey.TetragonSyscallName) == "connect" {
			out = append(out, inContainer(r, benignID))
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
		res := s.Observe(RecordOf(r.res, r.lr))
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
	benign := append(ofContainer(mapLines(t, lines), benignID, benignID), connects(t, lines, 8080)...)
	s := NewSet(DefaultConfig())
	observeAll(s, benign)
	p := s.Get(Key{ContainerID: benignID})
	if p == nil || p.State() != StateLearning {
		t.Fatalf("after learning: %+v", p)
	}
	p.Enforce(p.LastSeen())
	return s, benign
}

func TestLearnBenignThenReplayAttack(t *testing.T) {
	s, benign := learnBenign(t)
	p := s.Get(Key{ContainerID: benignID})
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
	grpc := ofContainer(corpus(t, "captured/main-grpc.jsonl.gz"), benignID, benignID)
	if kinds, quiet := observeAll(s, grpc); len(kinds) != 0 || quiet != len(grpc) {
		t.Errorf("the gRPC capture of the same run: novelties %v", kinds)
	}

	// The attack-like run in the same workload.
	attack := ofContainer(corpus(t, "syscalls/export.jsonl.gz"), attackID, benignID)
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
			return r.lr.EventName() == eventExec && r.str(attrkey.ProcessExecutablePath) == "/usr/local/bin/sysx"
		},
		attrkey.ProfileKindFile: func(r rec) bool { return r.str(attrkey.FilePath) == "/etc/shadow" },
		attrkey.ProfileKindSyscall: func(r rec) bool {
			return r.str(attrkey.TetragonSyscallName) == "ptrace"
		},
	}
	for kind, match := range want {
		found := false
		for _, r := range attack {
			if match(r) {
				found = true
				if res := s.Observe(RecordOf(r.res, r.lr)); !contains(res.Novel, kind) || res.State != StateEnforcing {
					t.Errorf("%s %s: %+v, want %s novel", r.lr.EventName(), r.str(attrkey.ProcessExecutablePath), res, kind)
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
			res := s.Observe(RecordOf(r.res, r.lr))
			if got := contains(res.Novel, attrkey.ProfileKindNetwork); got != want {
				t.Errorf("%s (%s:%d): network novel %v, want %v (%v)", name, r.str(attrkey.NetworkPeerAddress),
					func() int64 { v, _ := r.lr.Attributes().Get(attrkey.NetworkPeerPort); return v.Int() }(), got, want, res.Novel)
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
	for _, r := range mapLines(t, public) {
		if r.str(attrkey.NetworkPeerAddress) == "93.184.216.34" {
			pub = append(pub, inContainer(r, benignID))
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
