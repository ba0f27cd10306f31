// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package builtin_test

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"slices"
	"sort"
	"testing"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/testenv"
)

// The captured/ corpus has no attack in it, but its events are the exact
// shape a tracepoint-only Tetragon 1.7 produces (22 KB with ancestors,
// credentials, capabilities; busybox as /proc/self/exe). Each case takes one
// genuine benign event, proves it is quiet, then changes only what makes it
// hostile and proves the rule fires.

// capturedEvent is a decoded captured line: {"<type>": {...}, node_name, time}.
type capturedEvent map[string]any

func (e capturedEvent) body() map[string]any {
	for k, v := range e {
		if m, ok := v.(map[string]any); ok && k != "node_labels" && k != "aggregation_info" {
			return m
		}
	}
	return nil
}

func (e capturedEvent) process() map[string]any {
	m, _ := e.body()["process"].(map[string]any)
	return m
}
func (e capturedEvent) parent() map[string]any { m, _ := e.body()["parent"].(map[string]any); return m }
func (e capturedEvent) args() []any            { a, _ := e.body()["args"].([]any); return a }
func (e capturedEvent) hook() string {
	b := e.body()
	if fn, ok := b["function_name"].(string); ok {
		return fn
	}
	s, _ := b["subsys"].(string)
	ev, _ := b["event"].(string)
	if s == "" {
		return ""
	}
	return s + "/" + ev
}

func (e capturedEvent) line(t *testing.T) []byte {
	b, err := json.Marshal(map[string]any(e))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func decodeCaptured(t *testing.T, l []byte) capturedEvent {
	d := json.NewDecoder(bytes.NewReader(l))
	d.UseNumber()
	var e capturedEvent
	if err := d.Decode(&e); err != nil {
		t.Fatal(err)
	}
	return e
}

const capturedCtr = "736fae2554da315f33ec5b6cd50e351" // a runc container of the capture

func TestCapturedShapes(t *testing.T) {
	lines := testenv.ReadLines(t, filepath.Join(testenv.EventsDir(t), "captured", "main-export.jsonl.gz"))
	events := make([]capturedEvent, len(lines))
	for i, l := range lines {
		events[i] = decodeCaptured(t, l)
	}
	find := func(desc string, pred func(e capturedEvent) bool) capturedEvent {
		t.Helper()
		for _, e := range events {
			if e.body() != nil && e.process() != nil && pred(e) {
				return e
			}
		}
		t.Fatalf("captured/main-export has no %s", desc)
		return nil
	}
	bin := func(e capturedEvent) string { s, _ := e.process()["binary"].(string); return s }
	argsOf := func(e capturedEvent) string { s, _ := e.process()["arguments"].(string); return s }

	type mutation struct {
		name   string
		pick   func(e capturedEvent) bool
		mutate func(e capturedEvent)
		want   string
	}
	muts := []mutation{
		{"sudo's openat of /etc/shadow, done by a busybox applet in a container",
			func(e capturedEvent) bool {
				return e.hook() == "syscalls/sys_enter_openat" && bin(e) == "/usr/bin/sudo" && e.body()["args"].([]any)[1].(map[string]any)["string_arg"] == "/etc/shadow"
			},
			func(e capturedEvent) {
				e.process()["binary"], e.process()["arguments"], e.process()["docker"] = "/proc/self/exe", "/etc/shadow", capturedCtr
			}, "sensitive_file_read"},
		{"sudo's setresuid(-1, 0, -1), by a user's binary",
			func(e capturedEvent) bool {
				return e.hook() == "syscalls/sys_enter_setresuid" && bin(e) == "/usr/bin/sudo" && e.args()[1].(map[string]any)["int_arg"] == json.Number("0")
			},
			func(e capturedEvent) {
				e.process()["binary"], e.process()["uid"] = "/home/eve/.local/share/x", 1000
				e.process()["process_credentials"].(map[string]any)["uid"] = 1000
			}, "setuid_to_root_syscall"},
		{"runc exec's setns, by another program in the container",
			func(e capturedEvent) bool {
				return e.hook() == "syscalls/sys_enter_setns" && bin(e) == "/usr/sbin/runc"
			},
			func(e capturedEvent) {
				e.process()["binary"], e.process()["arguments"], e.process()["docker"] = "/usr/local/bin/escape", "", capturedCtr
			}, "namespace_escape"},
		{"runc init's mount, by a shell in the container",
			func(e capturedEvent) bool {
				return e.hook() == "syscalls/sys_enter_mount" && bin(e) == "/proc/self/exe" && argsOf(e) == "init"
			},
			func(e capturedEvent) {
				e.process()["binary"], e.process()["arguments"], e.process()["docker"] = "/bin/sh", "", capturedCtr
				e.parent()["binary"], e.parent()["arguments"] = "/bin/sh", ""
			}, "container_escape_mount"},
		{"runc init's execveat(fd, \"\", AT_EMPTY_PATH), by a python loader",
			func(e capturedEvent) bool {
				return e.hook() == "syscalls/sys_enter_execveat" && bin(e) == "/proc/self/exe" && argsOf(e) == "init"
			},
			func(e capturedEvent) {
				e.process()["binary"], e.process()["arguments"] = "/usr/bin/python3", "loader.py"
				e.parent()["binary"], e.parent()["arguments"] = "/bin/bash", ""
			}, "fileless_execution"},
		{"runc's `/dev/fd/N init`, exec'd by a python loader",
			func(e capturedEvent) bool {
				_, ok := e["process_exec"]
				return ok && bin(e) == "/dev/fd/6" && argsOf(e) == "init"
			},
			func(e capturedEvent) {
				delete(e.process(), "arguments")
				e.parent()["binary"], e.parent()["arguments"] = "/usr/bin/python3", "loader.py"
			}, "fileless_execution"},
		{"Tetragon's BPF_PROG_LOAD, by an unknown binary",
			func(e capturedEvent) bool {
				return e.hook() == "syscalls/sys_enter_bpf" && bin(e) == "/opt/lab/bin/tetragon"
			},
			func(e capturedEvent) { e.process()["binary"] = "/var/tmp/.cache/rk" }, "bpf_program_load"},
		{"runc's raw setns syscall (308), as finit_module (313)",
			func(e capturedEvent) bool {
				if e.hook() != "raw_syscalls/sys_enter" {
					return false
				}
				id := e.args()[0].(map[string]any)["syscall_id"].(map[string]any)["id"]
				return id == json.Number("308")
			},
			func(e capturedEvent) {
				e.args()[0].(map[string]any)["syscall_id"].(map[string]any)["id"] = 313
			}, "kernel_module_load"},
		{"curl's connect to 127.0.0.1:2112, to the API server from a container",
			func(e capturedEvent) bool {
				return e.hook() == "syscalls/sys_enter_connect" && bin(e) == "/usr/bin/curl"
			},
			func(e capturedEvent) {
				sa := e.args()[1].(map[string]any)["sockaddr_arg"].(map[string]any)
				sa["addr"], sa["port"] = "10.96.0.1", 443
				e.process()["docker"] = capturedCtr
			}, "k8s_api_from_container"},
		{"the container's exec-burst `sh -c …`, as an interactive sh",
			func(e capturedEvent) bool {
				_, ok := e["process_exec"]
				return ok && bin(e) == "/bin/sh" && e.process()["docker"] != nil
			},
			func(e capturedEvent) { delete(e.process(), "arguments") }, "terminal_shell_in_container"},
		{"`apt-get --version` on the host, as apt-get install in a container",
			func(e capturedEvent) bool {
				_, ok := e["process_exec"]
				return ok && bin(e) == "/usr/bin/apt-get"
			},
			func(e capturedEvent) {
				e.process()["arguments"], e.process()["docker"] = "install -y nmap", capturedCtr
			},
			"package_manager_in_container"},
	}

	rs := builtin(t)
	var cases []ruleCase
	for _, m := range muts {
		orig := find(m.name, m.pick)
		cases = append(cases, ruleCase{name: "original of: " + m.name, ev: orig.line(t)})
		mut := decodeCaptured(t, orig.line(t))
		m.mutate(mut)
		cases = append(cases, ruleCase{name: m.name, ev: mut.line(t), want: []string{m.want}})
	}
	// Tag each line by node name as evaluate expects (captured lines carry their own).
	for i := range cases {
		e := decodeCaptured(t, cases[i].ev)
		e["node_name"] = "node-1"
		cases[i].ev = e.line(t)
	}
	got := evaluate(t, rs, cases)
	for i, c := range cases {
		g := slices.Clone(got[i])
		sort.Strings(g)
		if !slices.Equal(g, c.want) {
			t.Errorf("%s: matched %v, want %v", c.name, g, c.want)
		}
	}
}
