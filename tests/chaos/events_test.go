// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

//go:build chaos

package chaos

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/testenv"
)

// eventSet is a file of Tetragon JSON lines generated once per run, in send order, with the
// dedupe key of every line.
type eventSet struct {
	Path  string
	Lines [][]byte
	Keys  []string
	Index map[string]int // key → position
}

var (
	fixturesMu  sync.Mutex
	fixturesDir string
	fixtures    = map[string]*eventSet{}
)

func cleanupFixtures() {
	if fixturesDir != "" {
		os.RemoveAll(fixturesDir)
	}
}

// attackEvents returns count events of tetragon-sim's attack scenario (attack rounds with some
// benign traffic: exec, exit, kprobe and tracepoint events, many of them detections) generated
// with seed; the same (count, seed) is generated once per run. Their times are the generation
// time, so replaying them without --restamp keeps their keys.
func attackEvents(t *testing.T, count int, seed uint64) *eventSet {
	t.Helper()
	fixturesMu.Lock()
	defer fixturesMu.Unlock()
	name := fmt.Sprintf("attack-%d-seed%d", count, seed)
	if s, ok := fixtures[name]; ok {
		return s
	}
	if fixturesDir == "" {
		d, err := os.MkdirTemp("", "chaos-fixtures-")
		if err != nil {
			t.Fatal(err)
		}
		fixturesDir = d
	}
	path := filepath.Join(fixturesDir, name+".jsonl")
	sim := testenv.Binary(t, "TETRAGON_SIM_BIN", "tetragon-sim")
	out, err := exec.Command(sim, "--generate", "--scenario", "attack", "--seed", fmt.Sprint(seed),
		"--count", fmt.Sprint(count), "--export-file", path, "--export-max-bytes", "4000000000").CombinedOutput()
	if err != nil {
		t.Fatalf("generate %s: %v\n%s", name, err, out)
	}
	s, err := loadEventSet(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Keys) != count {
		t.Fatalf("%s holds %d events, want %d", path, len(s.Keys), count)
	}
	fixtures[name] = s
	return s
}

// events is the event set every scenario sends (each has its own stores, so they can share it).
func events(t *testing.T) *eventSet { return attackEvents(t, 3000, 7) }

// slice writes events [from, to) of s to a file of their own.
func (s *eventSet) slice(t *testing.T, from, to int) *eventSet {
	t.Helper()
	path := filepath.Join(t.TempDir(), fmt.Sprintf("events-%d-%d.jsonl", from, to))
	var b []byte
	for _, l := range s.Lines[from:to] {
		b = append(append(b, l...), '\n')
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := loadEventSet(path)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func loadEventSet(path string) (*eventSet, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	s := &eventSet{Path: path, Index: map[string]int{}}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		line := append([]byte(nil), sc.Bytes()...)
		if len(strings.TrimSpace(string(line))) == 0 {
			continue
		}
		k, err := lineKey(line)
		if err != nil {
			return nil, fmt.Errorf("%s line %d: %w", path, len(s.Keys)+1, err)
		}
		if prev, dup := s.Index[k]; dup {
			return nil, fmt.Errorf("%s: lines %d and %d have the same dedupe key %s: the key does not identify events", path, prev+1, len(s.Keys)+1, k)
		}
		s.Index[k] = len(s.Keys)
		s.Keys = append(s.Keys, k)
		s.Lines = append(s.Lines, line)
	}
	return s, sc.Err()
}

// eventKey is the dedupe key: EventName | tetragon.exec_id | event time in Unix nanoseconds.
func eventKey(eventName, execID string, ts time.Time) string {
	return fmt.Sprintf("%s|%s|%d", eventName, execID, ts.UnixNano())
}

// envelope keys of a GetEventsResponse line that are not the event.
var envelope = map[string]bool{"node_name": true, "time": true, "node_labels": true, "cluster_name": true, "aggregation_info": true}

// lineKey is the dedupe key of one Tetragon JSON line, as the receiver maps it: EventName
// "tetragon.<event field>", tetragon.exec_id from the event's process, the record time from
// "time".
func lineKey(line []byte) (string, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(line, &top); err != nil {
		return "", err
	}
	var typ string
	for k := range top {
		if !envelope[k] {
			typ = k
		}
	}
	if typ == "" {
		return "", fmt.Errorf("no event in %.80s", line)
	}
	var ev struct {
		Process struct {
			ExecID string `json:"exec_id"`
		} `json:"process"`
	}
	if err := json.Unmarshal(top[typ], &ev); err != nil {
		return "", err
	}
	var ts string
	if err := json.Unmarshal(top["time"], &ts); err != nil {
		return "", fmt.Errorf("time: %w", err)
	}
	tm, err := time.Parse(time.RFC3339Nano, ts)
	if err != nil {
		return "", err
	}
	return eventKey("tetragon."+typ, ev.Process.ExecID, tm), nil
}

// tally compares what a store holds with what was sent.
type tally struct {
	Sent       int
	Stored     int // stored records in total
	Distinct   int // distinct sent events stored
	Duplicates int // stored records beyond the first of each event
	Foreign    int // stored records whose key is not in the sent set
	Present    []bool
}

func (s *eventSet) tally(stored []string) tally {
	tl := tally{Sent: len(s.Keys), Stored: len(stored), Present: make([]bool, len(s.Keys))}
	for _, k := range stored {
		i, ok := s.Index[k]
		switch {
		case !ok:
			tl.Foreign++
		case tl.Present[i]:
			tl.Duplicates++
		default:
			tl.Present[i] = true
			tl.Distinct++
		}
	}
	return tl
}

// runs describes Present as runs of stored positions, e.g. "[0,812) [1530,3000)".
func (tl tally) runs() [][2]int {
	var out [][2]int
	start := -1
	for i, p := range tl.Present {
		switch {
		case p && start < 0:
			start = i
		case !p && start >= 0:
			out = append(out, [2]int{start, i})
			start = -1
		}
	}
	if start >= 0 {
		out = append(out, [2]int{start, len(tl.Present)})
	}
	return out
}

func fmtRuns(r [][2]int) string {
	var parts []string
	for _, x := range r {
		parts = append(parts, fmt.Sprintf("[%d,%d)", x[0], x[1]))
	}
	if len(parts) > 8 {
		parts = append(parts[:8], fmt.Sprintf("… (%d runs)", len(r)))
	}
	return strings.Join(parts, " ")
}
