// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

//go:build integration

package integration

import (
	"bufio"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/testenv"
)

// The app container of the real syscalls/ run (shared/tetragon-events/README.md).
const appDocker = "cb7a5c27fe6155da4bd86cf513c3486"

// splitSyscallsRun writes the app container's events of the benign steps to
// benign and those of the suspicious steps to attack (timeline.tsv says which
// step is which; an event belongs to the step whose window holds its time).
func splitSyscallsRun(t *testing.T, benign, attack string) (nb, na int) {
	t.Helper()
	dir := filepath.Join(testenv.EventsDir(t), "syscalls")
	tl, err := os.ReadFile(filepath.Join(dir, "timeline.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	type window struct {
		kind       string
		start, end int64
	}
	var windows []window
	for i, l := range strings.Split(strings.TrimSpace(string(tl)), "\n") {
		c := strings.Split(l, "\t")
		if i == 0 || len(c) < 8 || c[1] != "app" {
			continue
		}
		s, _ := strconv.ParseInt(c[6], 10, 64)
		e, _ := strconv.ParseInt(c[7], 10, 64)
		windows = append(windows, window{c[2], s, e})
	}
	f, err := os.Open(filepath.Join(dir, "export.jsonl.gz"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	bf, _ := os.Create(benign)
	af, _ := os.Create(attack)
	defer bf.Close()
	defer af.Close()
	sc := bufio.NewScanner(zr)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.Contains(line, appDocker) {
			continue
		}
		var ev struct {
			Time time.Time `json:"time"`
		}
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			t.Fatal(err)
		}
		for _, w := range windows {
			if ns := ev.Time.UnixNano(); ns >= w.start && ns <= w.end {
				switch w.kind {
				case "benign":
					fmt.Fprintln(bf, line)
					nb++
				case "suspicious":
					fmt.Fprintln(af, line)
					na++
				}
				break
			}
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if nb == 0 || na == 0 {
		t.Fatalf("split of the syscalls run: %d benign, %d suspicious events of the app container", nb, na)
	}
	return nb, na
}

// runProfiled runs the collector over export in file mode with the
// workload_profile processor (the profiles in profilesDir) and the detection
// processor, and returns the rules each record carries.
func runProfiled(t *testing.T, name, export, profilesDir string, want int) [][]string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "out.json")
	cfg := testenv.Expand(`
receivers:
  tetragon:
    file:
      path: {{EXPORT}}
      start_at: beginning
processors:
  workload_profile:
    profiles_files: ["{{PROFILES}}/*.yaml"]
  detection:
exporters:
  file:
    path: {{OUT}}
    format: json
    flush_interval: 100ms
service:
  telemetry:
    metrics:
      level: none
  pipelines:
    logs:
      receivers: [tetragon]
      processors: [workload_profile, detection]
      exporters: [file]
`, map[string]string{"EXPORT": export, "PROFILES": profilesDir, "OUT": out})
	col := startCollector(t, name, cfg)
	testenv.Eventually(t, 60*time.Second, fmt.Sprintf("%d records in the file exporter output", want), func() bool {
		if col.Exited() {
			t.Fatalf("collector exited: %v\n%s", col.ExitErr(), col.Tail(4000))
		}
		return len(readRecords(t, out)) >= want
	})
	var rules [][]string
	for _, r := range readRecords(t, out) {
		var names []string
		if l, ok := r.attrs["runtime_security.rules"].([]any); ok {
			for _, n := range l {
				names = append(names, fmt.Sprint(n))
			}
		}
		rules = append(rules, names)
	}
	return rules
}

// TestProfilesLearnThenDetect: bin/profiles learns the app container from the
// benign steps of the real syscalls run; the collector, given that profile as
// a file, tags the suspicious steps' events with unexpected_* rules and leaves
// the benign events it learned from alone.
func TestProfilesLearnThenDetect(t *testing.T) {
	dir := t.TempDir()
	benign, attack := filepath.Join(dir, "benign.jsonl"), filepath.Join(dir, "attack.jsonl")
	nb, na := splitSyscallsRun(t, benign, attack)
	profiles := filepath.Join(dir, "profiles")
	learn := exec.Command(testenv.Binary(t, "PROFILES_BIN", "profiles"), "learn", "--out", profiles, benign)
	if b, err := learn.CombinedOutput(); err != nil {
		t.Fatalf("profiles learn: %v\n%s", err, b)
	} else {
		t.Logf("profiles learn: %s", b)
	}
	files, _ := filepath.Glob(filepath.Join(profiles, "*.yaml"))
	if len(files) != 1 {
		t.Fatalf("profiles learn wrote %v, want one profile (the app container)", files)
	}

	count := func(recs [][]string) map[string]int {
		m := map[string]int{}
		for _, names := range recs {
			for _, n := range names {
				if strings.HasPrefix(n, "unexpected_") {
					m[n]++
				}
			}
		}
		return m
	}
	onAttack := count(runProfiled(t, "collector-profiled-attack", attack, profiles, na))
	t.Logf("suspicious steps (%d events): %v", na, onAttack)
	for _, r := range []string{"unexpected_process", "unexpected_syscall"} {
		if onAttack[r] == 0 {
			t.Errorf("%s did not fire on the suspicious steps: %v", r, onAttack)
		}
	}
	if onBenign := count(runProfiled(t, "collector-profiled-benign", benign, profiles, nb)); len(onBenign) != 0 {
		t.Errorf("unexpected_* fired on the benign events the profile was learned from: %v", onBenign)
	}
}
