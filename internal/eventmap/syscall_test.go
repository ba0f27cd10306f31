// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package eventmap

import (
	"strings"
	"testing"

	"github.com/cilium/tetragon/api/v1/tetragon"
	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/attrkey"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/syscalls"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/testenv"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/tetragonjson"
)

// argInt is the integer of a {type: value} argument map, whatever the type
// key (what the rules' ArgInt reads).
func argInt(t *testing.T, args pcommon.Value, i int) int64 {
	t.Helper()
	if args.Type() != pcommon.ValueTypeSlice || args.Slice().Len() <= i {
		t.Fatalf("tetragon.args %v has no [%d]", args.AsRaw(), i)
	}
	var n int64
	found := false
	args.Slice().At(i).Map().Range(func(k string, v pcommon.Value) bool {
		if k != "label" && v.Type() == pcommon.ValueTypeInt {
			n, found = v.Int(), true
		}
		return true
	})
	if !found {
		t.Fatalf("tetragon.args[%d] = %v is no int", i, args.Slice().At(i).AsRaw())
	}
	return n
}

func decodeLine(t *testing.T, line string) *tetragon.GetEventsResponse {
	t.Helper()
	ev := new(tetragon.GetEventsResponse)
	if err := tetragonjson.DecodeJSON([]byte(line), ev); err != nil {
		t.Fatalf("%s: %v", line, err)
	}
	return ev
}

// TestSyscallThreeShapes: ptrace(PTRACE_ATTACH, 4242, 0, 0) hooked as a
// kprobe on the x86_64 entry point, as the syscalls tracepoint and as
// raw_syscalls (id 101 on x64, 117 on arm64) maps to the same
// tetragon.syscall.name and the same request in tetragon.args[0]. The type
// key of an argument follows the policy (raw_syscalls arguments are size_arg).
func TestSyscallThreeShapes(t *testing.T) {
	const proc = `"process":{"exec_id":"ZQ==","pid":7,"binary":"/usr/bin/gdb"}`
	shapes := map[string]string{
		"kprobe": `{"process_kprobe":{` + proc + `,"function_name":"__x64_sys_ptrace",` +
			`"args":[{"long_arg":"16"},{"long_arg":"4242"},{"size_arg":"0"},{"size_arg":"0"}],"action":"KPROBE_ACTION_POST"}}`,
		"kprobe arm64": `{"process_kprobe":{` + proc + `,"function_name":"__arm64_sys_ptrace",` +
			`"args":[{"long_arg":"16"},{"long_arg":"4242"}],"action":"KPROBE_ACTION_POST"}}`,
		"tracepoint": `{"process_tracepoint":{` + proc + `,"subsys":"syscalls","event":"sys_enter_ptrace",` +
			`"args":[{"long_arg":"16"},{"long_arg":"4242"},{"size_arg":"0"}],"action":"KPROBE_ACTION_POST"}}`,
		"raw x64": `{"process_tracepoint":{` + proc + `,"subsys":"raw_syscalls","event":"sys_enter",` +
			`"args":[{"syscall_id":{"id":101,"abi":"x64"}},{"size_arg":"16"},{"size_arg":"4242"},{"size_arg":"0"},` +
			`{"size_arg":"0"},{"size_arg":"0"},{"size_arg":"0"}],"action":"KPROBE_ACTION_POST"}}`,
		"raw arm64": `{"process_tracepoint":{` + proc + `,"subsys":"raw_syscalls","event":"sys_enter",` +
			`"args":[{"syscall_id":{"id":117,"abi":"arm64"}},{"size_arg":"16"},{"size_arg":"4242"}],"action":"KPROBE_ACTION_POST"}}`,
	}
	for shape, line := range shapes {
		r := mapEvent(t, decodeLine(t, line), nil, Options{})
		wantStr(t, r.attrs, attrkey.TetragonSyscallName, "ptrace")
		args, _ := r.attrs.Get(attrkey.TetragonArgs)
		if got := argInt(t, args, 0); got != 16 {
			t.Errorf("%s: request tetragon.args[0] = %d, want 16 (PTRACE_ATTACH)", shape, got)
		}
		if got := argInt(t, args, 1); got != 4242 {
			t.Errorf("%s: pid tetragon.args[1] = %d, want 4242", shape, got)
		}
		if strings.HasPrefix(shape, "raw") {
			wantInt(t, r.attrs, attrkey.TetragonSyscallID, map[string]int64{"raw x64": 101, "raw arm64": 117}[shape])
			wantStr(t, r.attrs, attrkey.TetragonHook, "raw_syscalls/sys_enter")
			// The body keeps the whole event, syscall_id included.
			inner, _ := r.rec.Body().Map().Get("process_tracepoint")
			bodyArgs, _ := inner.Map().Get("args")
			if _, ok := bodyArgs.Slice().At(0).Map().Get("syscall_id"); !ok {
				t.Errorf("%s: body args lost the syscall_id: %v", shape, bodyArgs.AsRaw())
			}
		} else {
			wantAbsent(t, r.attrs, attrkey.TetragonSyscallID)
		}
	}
}

// TestSyscallNameEdges: what gets a name and what does not.
func TestSyscallNameEdges(t *testing.T) {
	raw := func(args string) string {
		return `{"process_tracepoint":{"process":{"pid":7},"subsys":"raw_syscalls","event":"sys_enter","args":[` + args + `]}}`
	}
	tp := func(subsys, event string) string {
		return `{"process_tracepoint":{"process":{"pid":7},"subsys":"` + subsys + `","event":"` + event + `","args":[{"int_arg":1}]}}`
	}
	kp := func(fn string) string {
		return `{"process_kprobe":{"process":{"pid":7},"function_name":"` + fn + `","args":[{"int_arg":1}]}}`
	}
	for _, c := range []struct {
		name, line, want string
		id               int64 // -1: no tetragon.syscall.id
		args             int   // len(tetragon.args), -1 when absent
	}{
		{"finit_module x64", raw(`{"syscall_id":{"id":313,"abi":"x64"}},{"size_arg":"3"}`), "finit_module", 313, 1},
		{"init_module x64", raw(`{"syscall_id":{"id":175,"abi":"x64"}}`), "init_module", 175, -1},
		{"finit_module arm64", raw(`{"syscall_id":{"id":273,"abi":"arm64"}}`), "finit_module", 273, -1},
		{"init_module arm64", raw(`{"syscall_id":{"id":105,"abi":"arm64"}}`), "init_module", 105, -1},
		{"init_module i386", raw(`{"syscall_id":{"id":128,"abi":"i386"}}`), "init_module", 128, -1},
		{"read is id 0", raw(`{"syscall_id":{"abi":"x64"}},{"size_arg":"3"}`), "read", 0, 1},
		{"unknown id", raw(`{"syscall_id":{"id":9999,"abi":"x64"}},{"size_arg":"3"}`), "", 9999, 1},
		{"arm32 has no table", raw(`{"syscall_id":{"id":128,"abi":"arm32"}}`), "", 128, -1},
		{"no abi", raw(`{"syscall_id":{"id":313}}`), "", 313, -1},
		{"syscall_id not first", raw(`{"size_arg":"3"},{"syscall_id":{"id":313,"abi":"x64"}},{"size_arg":"4"}`), "finit_module", 313, 2},
		{"no syscall_id", raw(`{"size_arg":"3"}`), "", -1, 1},
		{"raw exit", `{"process_tracepoint":{"process":{"pid":7},"subsys":"raw_syscalls","event":"sys_exit","args":[{"syscall_id":{"id":313,"abi":"x64"}}]}}`, "", -1, 1},
		{"sys_exit", tp("syscalls", "sys_exit_ptrace"), "", -1, 1},
		{"sys_enter_umount is umount2", tp("syscalls", "sys_enter_umount"), "umount2", -1, 1},
		{"other tracepoint", tp("sched", "sched_process_exec"), "", -1, 1},
		{"kprobe ia32 compat", kp("__ia32_compat_sys_ptrace"), "ptrace", -1, 1},
		{"kprobe sys_", kp("sys_finit_module"), "finit_module", -1, 1},
		{"kprobe __sys_ helper", kp("__sys_setresuid"), "setresuid", -1, 1},
		{"kprobe not a syscall", kp("do_init_module"), "", -1, 1},
		{"kprobe sys_ not a syscall", kp("sys_fillrect"), "", -1, 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := mapEvent(t, decodeLine(t, c.line), nil, Options{})
			if c.want == "" {
				wantAbsent(t, r.attrs, attrkey.TetragonSyscallName)
			} else {
				wantStr(t, r.attrs, attrkey.TetragonSyscallName, c.want)
			}
			if c.id < 0 {
				wantAbsent(t, r.attrs, attrkey.TetragonSyscallID)
			} else {
				wantInt(t, r.attrs, attrkey.TetragonSyscallID, c.id)
			}
			args, ok := r.attrs.Get(attrkey.TetragonArgs)
			switch {
			case c.args < 0 && ok:
				t.Errorf("tetragon.args = %v, want absent", args.AsRaw())
			case c.args >= 0 && (!ok || args.Slice().Len() != c.args):
				t.Errorf("tetragon.args = %v, want %d", args.AsRaw(), c.args)
			}
			if ok {
				for i := 0; i < args.Slice().Len(); i++ {
					if _, has := args.Slice().At(i).Map().Get("syscall_id"); has && c.name != "raw exit" {
						t.Errorf("tetragon.args[%d] is the syscall_id", i)
					}
				}
			}
		})
	}
}

// TestSyscallCorpora: every syscalls/sys_enter_* and raw_syscalls/sys_enter
// event of the real captured and syscalls/ corpora gets a
// tetragon.syscall.name the tables know; raw ones keep their id too, and a
// raw event's arguments are the event's minus the syscall_id.
func TestSyscallCorpora(t *testing.T) {
	names := map[string]int{}
	var sysEnter, rawEnter int
	for _, pattern := range []string{"captured/*.jsonl.gz", "syscalls/export.jsonl.gz"} {
		for _, l := range testenv.ReadCorpus(t, pattern) {
			ev := new(tetragon.GetEventsResponse)
			if err := tetragonjson.DecodeJSON(l.Data, ev); err != nil {
				t.Fatalf("%s:%d: %v", l.File, l.Num, err)
			}
			tp := ev.GetProcessTracepoint()
			isSysEnter := tp.GetSubsys() == "syscalls" && strings.HasPrefix(tp.GetEvent(), "sys_enter_")
			isRaw := tp.GetSubsys() == "raw_syscalls" && tp.GetEvent() == "sys_enter"
			r := mapEvent(t, ev, nil, Options{})
			name, hasName := r.attrs.Get(attrkey.TetragonSyscallName)
			if !isSysEnter && !isRaw {
				if hasName && ev.GetProcessKprobe() == nil {
					t.Errorf("%s:%d: %s/%s named %q", l.File, l.Num, tp.GetSubsys(), tp.GetEvent(), name.Str())
				}
				continue
			}
			where := l.File + ":" + itoa(l.Num) + " " + tp.GetSubsys() + "/" + tp.GetEvent()
			if !hasName || !syscalls.Known(name.Str()) {
				t.Errorf("%s: tetragon.syscall.name %q (present %v) is not a known syscall", where, name.Str(), hasName)
				continue
			}
			names[name.Str()]++
			nargs := 0
			if args, ok := r.attrs.Get(attrkey.TetragonArgs); ok {
				nargs = args.Slice().Len()
			}
			if isSysEnter {
				sysEnter++
				wantAbsent(t, r.attrs, attrkey.TetragonSyscallID)
				if nargs != len(tp.GetArgs()) {
					t.Errorf("%s: %d args, event has %d", where, nargs, len(tp.GetArgs()))
				}
				continue
			}
			rawEnter++
			sid := tp.GetArgs()[0].GetSyscallId()
			wantInt(t, r.attrs, attrkey.TetragonSyscallID, int64(sid.GetId()))
			if want, _ := syscalls.ByID(sid.GetAbi(), sid.GetId()); name.Str() != want {
				t.Errorf("%s: name %q, table says %q", where, name.Str(), want)
			}
			if nargs != len(tp.GetArgs())-1 {
				t.Errorf("%s: %d args, want the event's %d minus the syscall_id", where, nargs, len(tp.GetArgs()))
			}
		}
	}
	t.Logf("syscalls/sys_enter_*: %d, raw_syscalls/sys_enter: %d, names: %v", sysEnter, rawEnter, names)
	// The syscalls/ corpus: 149 tracepoints, 6 of them raw (init_module and
	// finit_module); captured/ adds more of both.
	if sysEnter < 143 || rawEnter < 6 {
		t.Errorf("only %d sys_enter_* and %d raw events seen", sysEnter, rawEnter)
	}
	for _, n := range []string{"init_module", "finit_module", "ptrace", "umount2", "openat", "setns"} {
		if names[n] == 0 {
			t.Errorf("no %s event named", n)
		}
	}
}
