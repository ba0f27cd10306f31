// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package workloadprofile

import (
	"net/netip"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/attrkey"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/eventmap"
)

// Record is what a profile looks at in one mapped Tetragon record: raw values,
// turned into profile items by Observe (generalised, classified). Strings may
// alias the record's attribute values; Observe copies what it keeps.
type Record struct {
	Key      Key  // the workload (KeyOf)
	Profiled bool // false: a host process or node-only record; Set.Observe ignores it
	Image    string
	Time     time.Time // event time; zero: the lifecycle does not advance

	// Exec and ParentExec are set on process_exec only: a profile learns
	// executions, not every process that happens to trigger a hook, so that
	// "unexpected process" means a new exec.
	Exec, ParentExec string
	// Hook events (kprobe, tracepoint, lsm, uprobe, usdt) only.
	Syscall  string     // tetragon.syscall.name, else tetragon.hook
	FilePath string     // file.path
	PeerAddr netip.Addr // network.peer.address (invalid when absent or unparsable)
	PeerPort uint16     // network.peer.port, 0 when absent
}

// Event names of the record types a profile reads.
const (
	eventExec       = attrkey.EventNamePrefix + eventmap.TypeProcessExec
	eventKprobe     = attrkey.EventNamePrefix + eventmap.TypeProcessKprobe
	eventTracepoint = attrkey.EventNamePrefix + eventmap.TypeProcessTracepoint
	eventLsm        = attrkey.EventNamePrefix + eventmap.TypeProcessLsm
	eventUprobe     = attrkey.EventNamePrefix + eventmap.TypeProcessUprobe
	eventUsdt       = attrkey.EventNamePrefix + eventmap.TypeProcessUsdt
)

// RecordFrom fills a Record from a record's resource attributes, its log
// record attributes and its EventName. It does not set Time (the attributes
// do not carry it): set it from the LogRecord's Timestamp, or use RecordOf.
// It does not allocate.
func RecordFrom(res, attrs pcommon.Map, eventName string) Record {
	var r Record
	if r.Key, r.Profiled = KeyOf(res); !r.Profiled {
		return r
	}
	r.Image = attrkey.Str(res, attrkey.ContainerImageName)
	switch eventName {
	case eventExec:
		r.Exec = attrkey.Str(attrs, attrkey.ProcessExecutablePath)
		r.ParentExec = attrkey.Str(attrs, attrkey.ProcessParentExecutablePath)
	case eventKprobe, eventTracepoint, eventLsm, eventUprobe, eventUsdt:
		if r.Syscall = attrkey.Str(attrs, attrkey.TetragonSyscallName); r.Syscall == "" {
			r.Syscall = attrkey.Str(attrs, attrkey.TetragonHook)
		}
		r.FilePath = attrkey.Str(attrs, attrkey.FilePath)
		if a := attrkey.Str(attrs, attrkey.NetworkPeerAddress); a != "" {
			if addr, err := netip.ParseAddr(a); err == nil {
				r.PeerAddr = addr.Unmap()
			}
		}
		if v, ok := attrs.Get(attrkey.NetworkPeerPort); ok && v.Type() == pcommon.ValueTypeInt {
			if p := v.Int(); p > 0 && p <= 65535 {
				r.PeerPort = uint16(p)
			}
		}
	}
	return r
}

// RecordOf is RecordFrom for a LogRecord, with Time from its Timestamp (the
// event's time), else its ObservedTimestamp.
func RecordOf(res pcommon.Map, lr plog.LogRecord) Record {
	r := RecordFrom(res, lr.Attributes(), lr.EventName())
	if r.Profiled {
		ts := lr.Timestamp()
		if ts == 0 {
			ts = lr.ObservedTimestamp()
		}
		if ts != 0 {
			r.Time = ts.AsTime()
		}
	}
	return r
}
