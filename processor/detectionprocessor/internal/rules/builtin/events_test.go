// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package builtin_test

import (
	"encoding/json"
	"path"
	"strconv"
)

// Small builders of Tetragon events in protojson form (snake_case names,
// wrapper types as bare values, 64-bit integers as strings), the shape of
// Tetragon's JSON export lines.

type jmap = map[string]any

// proc is a process in an event.
type proc jmap

var nextPID = 40000

// p returns a process running binary with arguments, as root, on the host.
func p(binary, args string, opts ...func(proc)) proc {
	nextPID++
	pr := proc{
		"exec_id":    "bm9kZToxOjEyMzQ=" + strconv.Itoa(nextPID),
		"pid":        nextPID,
		"uid":        0,
		"cwd":        "/",
		"binary":     binary,
		"flags":      "execve clone",
		"start_time": "2026-11-26T17:00:00.000000000Z",
		"auid":       4294967295,
	}
	if args != "" {
		pr["arguments"] = args
	}
	for _, o := range opts {
		o(pr)
	}
	return pr
}

const ctrID = "3f2b1c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f809"

// inPod puts the process in a Kubernetes pod's container.
func inPod(namespace, pod string) func(proc) {
	return func(pr proc) {
		pr["pod"] = jmap{
			"namespace": namespace,
			"name":      pod,
			"container": jmap{
				"id":         "containerd://" + ctrID,
				"name":       "app",
				"image":      jmap{"id": "docker.io/library/app@sha256:00", "name": "docker.io/library/app:1"},
				"start_time": "2026-11-26T16:00:00Z",
				"pid":        1,
			},
			"pod_labels":    jmap{"app": pod},
			"workload":      pod,
			"workload_kind": "Deployment",
		}
		pr["docker"] = ctrID[:31]
	}
}

// inDocker marks a container known only by Tetragon's docker field (no pod),
// as in the captured/ corpus.
func inDocker(pr proc) { pr["docker"] = ctrID[:31] }

func initTree(v bool) func(proc) { return func(pr proc) { pr["in_init_tree"] = v } }

func execProbe(pr proc) {
	c := pr["pod"].(jmap)["container"].(jmap)
	c["maybe_exec_probe"] = true
}

func uid(n int) func(proc) { return func(pr proc) { pr["uid"] = n } }

// creds sets process_credentials (real and effective uid).
func creds(ruid, euid int) func(proc) {
	return func(pr proc) {
		pr["process_credentials"] = jmap{"uid": ruid, "gid": ruid, "euid": euid, "egid": ruid, "suid": euid, "sgid": ruid, "fsuid": euid, "fsgid": ruid}
	}
}

func binProps(bp jmap) func(proc) { return func(pr proc) { pr["binary_properties"] = bp } }

func line(ev jmap) []byte {
	ev["node_name"] = "node-1"
	ev["time"] = "2026-11-26T17:00:01.000000000Z"
	b, err := json.Marshal(ev)
	if err != nil {
		panic(err)
	}
	return b
}

// exec is a process_exec of child started by parent; ancestors are binaries,
// nearest first.
func exec(child, parent proc, ancestors ...string) []byte {
	child["parent_exec_id"] = parent["exec_id"]
	body := jmap{"process": jmap(child), "parent": jmap(parent)}
	if len(ancestors) > 0 {
		var a []jmap
		for _, bin := range ancestors {
			a = append(a, jmap(p(bin, "")))
		}
		body["ancestors"] = a
	}
	return line(jmap{"process_exec": body})
}

func kprobe(fn string, pr, parent proc, args ...jmap) []byte {
	return line(jmap{"process_kprobe": jmap{
		"process": jmap(pr), "parent": jmap(parent), "function_name": fn,
		"args": args, "action": "KPROBE_ACTION_POST", "policy_name": "test",
	}})
}

// tp is a process_tracepoint of "subsys/event".
func tp(hook string, pr, parent proc, args ...jmap) []byte {
	return line(jmap{"process_tracepoint": jmap{
		"process": jmap(pr), "parent": jmap(parent),
		"subsys": path.Dir(hook), "event": path.Base(hook),
		"args": args, "action": "KPROBE_ACTION_POST", "policy_name": "test",
	}})
}

func fileArg(p string) jmap   { return jmap{"file_arg": jmap{"path": p}} }
func pathArg(p string) jmap   { return jmap{"path_arg": jmap{"path": p}} }
func intArg(n int) jmap       { return jmap{"int_arg": n} }
func uintArg(n uint32) jmap   { return jmap{"uint_arg": n} }
func strArg(s string) jmap    { return jmap{"string_arg": s} }
func sizeArg(n uint64) jmap   { return jmap{"size_arg": strconv.FormatUint(n, 10)} }
func longArg(n int64) jmap    { return jmap{"long_arg": strconv.FormatInt(n, 10)} }
func moduleArg(n string) jmap { return jmap{"module_arg": jmap{"name": n}} }
func sockaddr(addr string, port int) jmap {
	return jmap{"sockaddr_arg": jmap{"family": "AF_INET", "addr": addr, "port": port}}
}
func sockArg(daddr string, dport int) jmap {
	return jmap{"sock_arg": jmap{"family": "AF_INET", "type": "SOCK_STREAM", "protocol": "IPPROTO_TCP", "saddr": "10.0.1.5", "daddr": daddr, "sport": 40000, "dport": dport}}
}
func syscallID(id int) jmap { return jmap{"syscall_id": jmap{"id": id, "abi": "x64"}} }
func credsArg(uid, euid int) jmap {
	return jmap{"process_credentials_arg": jmap{"uid": uid, "gid": uid, "euid": euid, "egid": uid, "suid": euid, "sgid": uid, "fsuid": euid, "fsgid": uid}}
}
