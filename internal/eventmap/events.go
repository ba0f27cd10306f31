// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package eventmap

import (
	"encoding/hex"
	"strings"

	"github.com/cilium/tetragon/api/v1/tetragon"
	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/attrkey"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/syscalls"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/tetragonjson"
)

// putEventAttributes writes the attributes specific to the event type; the
// main process's attributes are written by putProcess.
func putEventAttributes(attrs pcommon.Map, ev *tetragon.GetEventsResponse, d *derivedStrings) {
	switch e := ev.GetEvent().(type) {
	case *tetragon.GetEventsResponse_ProcessExec:
		x := e.ProcessExec
		putParent(attrs, x.GetParent(), d.parentCommandLine)
		putAncestors(attrs, x.GetAncestors())
	case *tetragon.GetEventsResponse_ProcessExit:
		x := e.ProcessExit
		putParent(attrs, x.GetParent(), d.parentCommandLine)
		putAncestors(attrs, x.GetAncestors())
		attrs.PutInt(attrkey.ProcessExitCode, int64(x.GetStatus()))
		if s := x.GetSignal(); s != "" {
			attrs.PutStr(attrkey.TetragonExitSignal, s)
		}
		if x.GetTime() != nil {
			attrs.PutStr(attrkey.ProcessExitTime, d.exitTime)
		}
	case *tetragon.GetEventsResponse_ProcessKprobe:
		x := e.ProcessKprobe
		putParent(attrs, x.GetParent(), d.parentCommandLine)
		putAncestors(attrs, x.GetAncestors())
		fn := x.GetFunctionName()
		putFunction(attrs, fn)
		putPolicy(attrs, x.GetPolicyName(), x.GetAction(), x.GetTags())
		sc := syscalls.FromKprobe(fn)
		if sc != "" {
			attrs.PutStr(attrkey.TetragonSyscallName, sc)
		}
		putArgs(attrs, x.GetArgs(), sc)
		if r := x.GetReturn(); r != nil {
			tetragonjson.SetOneof(attrs.PutEmpty(attrkey.TetragonReturn), r)
		}
	case *tetragon.GetEventsResponse_ProcessTracepoint:
		x := e.ProcessTracepoint
		putParent(attrs, x.GetParent(), d.parentCommandLine)
		putAncestors(attrs, x.GetAncestors())
		subsys, event := x.GetSubsys(), x.GetEvent()
		if subsys != "" {
			attrs.PutStr(attrkey.TetragonSubsys, subsys)
		}
		if event != "" {
			attrs.PutStr(attrkey.TetragonEvent, event)
		}
		attrs.PutStr(attrkey.TetragonHook, d.hook)
		putPolicy(attrs, x.GetPolicyName(), x.GetAction(), x.GetTags())
		args := x.GetArgs()
		var sc string
		if subsys == "raw_syscalls" && event == "sys_enter" {
			sc, args = putRawSyscall(attrs, args)
		} else if sc = syscalls.FromTracepoint(subsys, event); sc != "" {
			attrs.PutStr(attrkey.TetragonSyscallName, sc)
		}
		putArgs(attrs, args, sc)
	case *tetragon.GetEventsResponse_ProcessLsm:
		x := e.ProcessLsm
		putParent(attrs, x.GetParent(), d.parentCommandLine)
		putAncestors(attrs, x.GetAncestors())
		putFunction(attrs, x.GetFunctionName())
		putPolicy(attrs, x.GetPolicyName(), x.GetAction(), x.GetTags())
		putArgs(attrs, x.GetArgs(), "")
	case *tetragon.GetEventsResponse_ProcessUprobe:
		x := e.ProcessUprobe
		putParent(attrs, x.GetParent(), d.parentCommandLine)
		putAncestors(attrs, x.GetAncestors())
		putFunction(attrs, x.GetSymbol())
		putPolicy(attrs, x.GetPolicyName(), x.GetAction(), x.GetTags())
		putArgs(attrs, x.GetArgs(), "")
	case *tetragon.GetEventsResponse_ProcessUsdt:
		x := e.ProcessUsdt
		putParent(attrs, x.GetParent(), d.parentCommandLine)
		putAncestors(attrs, x.GetAncestors())
		if x.GetProvider() != "" || x.GetName() != "" {
			attrs.PutStr(attrkey.TetragonHook, d.hook)
		}
		putPolicy(attrs, x.GetPolicyName(), x.GetAction(), x.GetTags())
		putArgs(attrs, x.GetArgs(), "")
	case *tetragon.GetEventsResponse_ProcessLoader:
		x := e.ProcessLoader
		putParent(attrs, x.GetParent(), d.parentCommandLine)
		putAncestors(attrs, x.GetAncestors())
		if p := x.GetPath(); p != "" {
			attrs.PutStr(attrkey.TetragonLoaderPath, p)
		}
		if id := x.GetBuildid(); len(id) > 0 {
			attrs.PutStr(attrkey.TetragonLoaderBuildID, hex.EncodeToString(id))
		}
	case *tetragon.GetEventsResponse_ProcessThrottle:
		x := e.ProcessThrottle
		setEnum(attrs.PutEmpty(attrkey.TetragonThrottleType), x.GetType())
		if cg := strings.TrimRight(x.GetCgroup(), "\x00"); cg != "" {
			attrs.PutStr(attrkey.TetragonThrottleCgroup, cg)
		}
	case *tetragon.GetEventsResponse_RateLimitInfo:
		attrs.PutInt(attrkey.TetragonRateLimitDropped, int64(e.RateLimitInfo.GetNumberOfDroppedProcessEvents()))
	}
}

func putFunction(attrs pcommon.Map, fn string) {
	if fn == "" {
		return
	}
	attrs.PutStr(attrkey.TetragonFunctionName, fn)
	attrs.PutStr(attrkey.TetragonHook, fn)
}

func putPolicy(attrs pcommon.Map, policy string, action tetragon.KprobeAction, tags []string) {
	if policy != "" {
		attrs.PutStr(attrkey.TetragonPolicyName, policy)
	}
	if action != tetragon.KprobeAction_KPROBE_ACTION_UNKNOWN {
		setEnum(attrs.PutEmpty(attrkey.TetragonAction), action)
	}
	if len(tags) > 0 {
		s := attrs.PutEmptySlice(attrkey.TetragonTags)
		s.EnsureCapacity(len(tags))
		for _, t := range tags {
			s.AppendEmpty().SetStr(t)
		}
	}
}

// putRawSyscall writes tetragon.syscall.id and tetragon.syscall.name of a
// raw_syscalls/sys_enter event from its syscall_id argument and returns the
// name ("" when the abi's table has no such id) and the arguments without
// the syscall_id, so that args[i] is the syscall's i-th raw argument. The
// syscall_id comes first in every policy seen (index 4, before the args
// array); one elsewhere is taken out too, at the cost of a copy.
func putRawSyscall(attrs pcommon.Map, args []*tetragon.KprobeArgument) (string, []*tetragon.KprobeArgument) {
	for i, a := range args {
		v, ok := a.GetArg().(*tetragon.KprobeArgument_SyscallId)
		if !ok {
			continue
		}
		id := v.SyscallId.GetId()
		attrs.PutInt(attrkey.TetragonSyscallID, int64(id))
		name, known := syscalls.ByID(v.SyscallId.GetAbi(), id)
		if known {
			attrs.PutStr(attrkey.TetragonSyscallName, name)
		}
		if i == 0 {
			return name, args[1:]
		}
		return name, append(append(make([]*tetragon.KprobeArgument, 0, len(args)-1), args[:i]...), args[i+1:]...)
	}
	return "", args
}
