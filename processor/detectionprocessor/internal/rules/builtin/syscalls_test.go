// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package builtin_test

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/testenv"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/processor/detectionprocessor/internal/rules"
)

// The syscalls/ corpus is a real Tetragon 1.7 run of 54 scripted steps in two
// runc containers, each benign, suspicious or mixed (timeline.tsv says which
// and gives its command and time window). Every event belongs to the step
// whose window holds its time; events outside every step are the harness
// (container start and teardown: runtime noise).

// syscallStep is one row of syscalls/timeline.tsv.
type syscallStep struct {
	name, container, kind, command string
	start, end                     int64 // unix ns
}

func readTimeline(t testing.TB) []syscallStep {
	t.Helper()
	f, err := os.Open(filepath.Join(testenv.EventsDir(t), "syscalls", "timeline.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var steps []syscallStep
	sc := bufio.NewScanner(f)
	header := true
	for sc.Scan() {
		if header {
			header = false
			continue
		}
		c := strings.Split(sc.Text(), "\t")
		if len(c) < 10 {
			t.Fatalf("timeline row with %d columns: %q", len(c), sc.Text())
		}
		start, err1 := strconv.ParseInt(c[6], 10, 64)
		end, err2 := strconv.ParseInt(c[7], 10, 64)
		if err1 != nil || err2 != nil {
			t.Fatalf("timeline row %q: bad start/end", c[0])
		}
		steps = append(steps, syscallStep{name: c[0], container: c[1], kind: c[2], command: c[8], start: start, end: end})
	}
	if len(steps) == 0 {
		t.Fatal("empty timeline")
	}
	return steps
}

// harnessStep names the events outside every step window.
const harnessStep = "(harness)"

// stepOf returns the step whose window holds the event's time.
func stepOf(t testing.TB, steps []syscallStep, line []byte) string {
	var ev struct {
		Time string `json:"time"`
	}
	if err := json.Unmarshal(line, &ev); err != nil {
		t.Fatal(err)
	}
	ts, err := time.Parse(time.RFC3339Nano, ev.Time)
	if err != nil {
		t.Fatalf("event time %q: %v", ev.Time, err)
	}
	ns := ts.UnixNano()
	for _, s := range steps {
		if s.kind != "harness" && ns >= s.start && ns <= s.end {
			return s.name
		}
	}
	return harnessStep
}

// syscallsFired evaluates the catalogue on every syscalls/ event and returns,
// per step, how often each rule fired.
func syscallsFired(t testing.TB, rs *rules.Ruleset) (map[string]map[string]int, []syscallStep) {
	t.Helper()
	steps := readTimeline(t)
	lines := testenv.ReadLines(t, filepath.Join(testenv.EventsDir(t), "syscalls", "export.jsonl.gz"))
	// One record per line, in order: map them one by one so each record is
	// known to come from its line.
	fired := map[string]map[string]int{}
	for _, l := range lines {
		step := stepOf(t, steps, l)
		for _, r := range mapLines(t, [][]byte{l}, 1) {
			for _, m := range rs.EvaluateRecord(context.Background(), r.rl, r.sl, r.lr, nil, func(rule *rules.Rule, err error) {
				t.Errorf("rule %s failed on a %s record: %v", rule.Name, r.lr.EventName(), err)
			}) {
				if fired[step] == nil {
					fired[step] = map[string]int{}
				}
				fired[step][m.Name]++
			}
		}
	}
	return fired, steps
}

// stepExpect is what the catalogue must report on each step of the real
// syscalls/ run: exactly these rules, no others (a step not listed: nothing).
// The steps that stay open are said in RULES.md's scorecard.
var stepExpect = map[string][]string{
	"chmod-setuid-bit":        {"setuid_bit_set", "write_below_binary_dir"},
	"chmod-setgid-bit":        {"setuid_bit_set", "write_below_binary_dir"},
	"chmod-syscall-variants":  {"setuid_bit_set", "write_below_binary_dir"},
	"chmod-setuid-debug":      {"setuid_bit_set", "write_below_binary_dir"},
	"ln-to-shadow":            {"sensitive_file_link"},
	"link-syscall-variants":   {"sensitive_file_link"},
	"mv-bash-history":         {"shell_history_tampering"},
	"rename-syscall-variants": {"log_tampering"},
	"rm-var-log":              {"log_tampering"},
	"unlink-syscall-variants": {"log_tampering", "shell_history_tampering"},
	"truncate-log-zero":       {"log_tampering"},
	"append-etc-passwd":       {"sensitive_file_write"},
	"append-bashrc":           {"shell_config_modified"},
	"write-usr-bin":           {"write_below_binary_dir"},
	"write-dev-shm":           {"write_below_dev"},
	"read-shadow-ssh":         {"credential_file_search", "sensitive_file_read"},
	"read-proc1-environ":      {"proc_environ_read"},
	"openat2-variants":        {"sensitive_file_read"},
	"write-as-user-1000":      {"sensitive_file_write"},
	"socket-packet-raw":       {"packet_socket_in_container"},
	"socket-packet-raw-debug": {"packet_socket_in_container"},
	"ptrace-traceme":          {"ptrace_anti_debug"},
	"ptrace-attach-child":     {"ptrace_attach"},
	"ptrace-attach-debug":     {"ptrace_attach"},
	"setuid-0-as-root":        {"setuid_to_root_syscall"},
	"setuid-0-as-user":        {"setuid_to_root_syscall"},
	"mount-tmpfs-app":         {"container_escape_mount"},
	"mount-tmpfs-debug":       {"container_escape_mount"},
	"mount-cgroup-debug":      {"container_escape_mount"},
	"memfd-fexecve":           {"fileless_execution"},
	"memfd-fexecve-debug":     {"fileless_execution"},
	"module-load-app":         {"kernel_module_load"},
	"module-load-debug":       {"kernel_module_load"},
	"bpf-app":                 {"bpf_program_load"},
	"bpf-debug":               {"bpf_program_load"},
	"nsenter-t1-app":          {"namespace_escape"},
	"nsenter-t1-debug":        {"namespace_escape"},
	"nsenter-app-from-debug":  {"namespace_escape"},
	// A known false positive: setns into the container's own UTS and network
	// namespaces looks, at the syscall, like setns into the host's (the fd says
	// which namespace; the event does not). namespace_escape keeps firing on
	// every setns in a container rather than miss the escape.
	"setns-own-uts":           {"namespace_escape"},
	"unshare-m-app":           {"namespace_escape"},
	"unshare-debug":           {"container_escape_mount", "namespace_escape"},
	"chroot-proc1-root-debug": {"chroot_escape"},
}

func TestSyscallsSteps(t *testing.T) {
	fired, steps := syscallsFired(t, builtin(t))
	for _, s := range append(steps, syscallStep{name: harnessStep, kind: "harness"}) {
		got := sortedKeys(fired[s.name])
		want := slices.Clone(stepExpect[s.name])
		sort.Strings(want)
		if !slices.Equal(got, want) {
			t.Errorf("step %s (%s): fired %v, want %v", s.name, s.kind, got, want)
		}
	}
	for name := range stepExpect {
		if !slices.ContainsFunc(steps, func(s syscallStep) bool { return s.name == name }) {
			t.Errorf("stepExpect names %s, which is not a step of the timeline", name)
		}
	}
}
