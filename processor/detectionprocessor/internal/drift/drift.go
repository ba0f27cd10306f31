// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

// Package drift remembers, per container, the files a hook event created or
// made executable, and marks a later process_exec of such a file in the same
// container ("container drift": a binary that is not part of the image runs).
//
// State is short-lived and bounded: an entry is forgotten ttl after it was last
// written or executed, and at most maxEntries are kept (the least recently
// touched is evicted first; evictions of live entries are counted).
//
// Time is the records' event time (Tetragon's timestamp), kept monotonic: the
// tracker's clock is the latest event time seen, and an entry's age is measured
// on that clock. Event time makes "written, then executed within ttl" mean the
// same whether events arrive live or are replayed from a backlog (export-file
// mode reading from the beginning, ruletest), and makes tests deterministic;
// the monotonic clock keeps a late or skewed event from expiring or reviving
// entries, and a bogus future timestamp only stops expiry by age (the size cap
// still holds).
package drift

import (
	"path"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/attrkey"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/eventmap"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/lru"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/processor/detectionprocessor/internal/rulefuncs"
)

const (
	eventExec       = attrkey.EventNamePrefix + eventmap.TypeProcessExec
	eventKprobe     = attrkey.EventNamePrefix + eventmap.TypeProcessKprobe
	eventTracepoint = attrkey.EventNamePrefix + eventmap.TypeProcessTracepoint
	eventLSM        = attrkey.EventNamePrefix + eventmap.TypeProcessLsm

	oCreat   = 0o100 // O_CREAT
	execBits = 0o111 // S_IXUSR|S_IXGRP|S_IXOTH

	// sweepPerCall bounds the expired entries removed per Track.
	sweepPerCall = 4
)

// Tracker is safe for concurrent use.
type Tracker struct {
	mu      sync.Mutex
	max     int
	ttl     int64                 // nanoseconds
	clock   int64                 // latest event time seen, unix nanoseconds
	entries lru.Cache[key, entry] // the most recently touched first
	// size mirrors entries.Len() for the lock-free "nothing tracked" check.
	size atomic.Int64
	// now is the processing-time clock for records without a time.
	now func() int64
}

type key struct{ container, path string }

type entry struct {
	syscall string // what made the file: tetragon.syscall.name, else tetragon.hook
	touched int64  // tracker clock when last written or executed
}

// New returns a tracker of at most maxEntries (minimum 1) entries that live
// ttl of event time after their last write or execution. now (unix
// nanoseconds; nil: the wall clock) times records that carry no time.
func New(maxEntries int, ttl time.Duration, now func() int64) *Tracker {
	if maxEntries < 1 {
		maxEntries = 1
	}
	if now == nil {
		now = func() int64 { return time.Now().UnixNano() }
	}
	return &Tracker{max: maxEntries, ttl: int64(ttl), now: now}
}

// Result is what Track did.
type Result struct {
	// Drift is the syscall that made the executed binary, set on a
	// process_exec the tracker marked (and written to the record as
	// runtime_security.drift).
	Drift string
	// Evicted is true when remembering a file pushed out a live entry because
	// the tracker was full.
	Evicted bool
}

// Track looks at one record: its EventName, resource and log attributes and
// its time in unix nanoseconds (0 when the record has none: the tracker's
// processing-time clock is read then, and only if the record matters):
//
//   - a hook event (process_kprobe/tracepoint/lsm) in a container (resource
//     attribute container.id) that creates or changes a file so that it may be
//     executed next is remembered as (container, path): an open with O_CREAT,
//     creat, a chmod setting any execute bit, and the new name of a rename,
//     link or symlink (rulefuncs.FileOperation reads the record);
//   - a process_exec in a container whose process.executable.path is
//     remembered for that container gets runtime_security.drift = the syscall
//     that made the file. The entry is kept (and its ttl restarts): every
//     execution of a dropped binary is drift, and the rule's suppress window,
//     not the tracker, decides how often that is reported.
//
// Relative paths are joined to process.working_directory (the process's
// directory when it was executed: a process that changed directory since is
// missed). An exec costs one atomic load when nothing is tracked; records of
// other types return at once.
func (t *Tracker) Track(eventName string, res, attrs pcommon.Map, ts int64) Result {
	switch eventName {
	case eventExec:
		if t.size.Load() == 0 {
			return Result{}
		}
		ctr := containerKey(res)
		if ctr == "" {
			return Result{}
		}
		exe := resolve(attrkey.Str(attrs, attrkey.ProcessExecutablePath), attrs)
		if exe == "" {
			return Result{}
		}
		sc := t.lookup(key{ctr, exe}, t.time(ts))
		if sc == "" {
			return Result{}
		}
		attrs.PutStr(attrkey.RuntimeSecurityDrift, sc)
		return Result{Drift: sc}
	case eventKprobe, eventTracepoint, eventLSM:
	default:
		return Result{}
	}
	ctr := containerKey(res)
	if ctr == "" {
		return Result{}
	}
	op, p, newPath, mode, flags := rulefuncs.FileOperation(attrs)
	var target string
	switch op {
	case "":
		return Result{}
	case rulefuncs.OpWrite:
		// An open with O_CREAT (a new or replaced file; creat(2) has no flags
		// and always creates). Writes through an open file descriptor (write,
		// vfs_write hooks) and opens without O_CREAT are not remembered.
		if (flags >= 0 && flags&oCreat != 0) || syscallOf(attrs) == "creat" {
			target = p
		}
	case rulefuncs.OpChmod:
		if mode >= 0 && mode&execBits != 0 {
			target = p
		}
	case rulefuncs.OpRename, rulefuncs.OpLink, rulefuncs.OpSymlink:
		target = newPath
	}
	if target == "" {
		return Result{}
	}
	target = resolve(target, attrs)
	if target == "" {
		return Result{}
	}
	return Result{Evicted: t.remember(key{ctr, target}, syscallOf(attrs), t.time(ts))}
}

func (t *Tracker) time(ts int64) int64 {
	if ts != 0 {
		return ts
	}
	return t.now()
}

// Len returns the number of remembered files.
func (t *Tracker) Len() int { return int(t.size.Load()) }

func (t *Tracker) lookup(k key, now int64) string {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.advance(now)
	e, ok := t.entries.Get(k)
	if !ok {
		return ""
	}
	if t.clock-e.touched > t.ttl {
		t.remove(k)
		return ""
	}
	e.touched = t.clock
	return e.syscall
}

// remember stores k (keeping the syscall of a file already remembered: what
// made it, not what touched it last) and reports whether a live entry was
// evicted to make room.
func (t *Tracker) remember(k key, syscall string, now int64) (evicted bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.advance(now)
	if e, ok := t.entries.Get(k); ok {
		if t.clock-e.touched > t.ttl {
			e.syscall = strings.Clone(syscall)
		}
		e.touched = t.clock
		return false
	}
	if t.entries.Len() >= t.max {
		old, e, _ := t.entries.Oldest()
		evicted = t.clock-e.touched <= t.ttl
		t.remove(old)
	}
	// Clone: the record's strings must not be kept alive by the tracker.
	t.entries.Put(key{strings.Clone(k.container), strings.Clone(k.path)}, entry{syscall: strings.Clone(syscall), touched: t.clock})
	t.size.Store(int64(t.entries.Len()))
	return evicted
}

// advance moves the clock to now if later and forgets a few expired entries.
func (t *Tracker) advance(now int64) {
	if now > t.clock {
		t.clock = now
	}
	for i := 0; i < sweepPerCall; i++ {
		k, e, ok := t.entries.Oldest()
		if !ok || t.clock-e.touched <= t.ttl {
			return
		}
		t.remove(k)
	}
}

func (t *Tracker) remove(k key) {
	t.entries.Remove(k)
	t.size.Store(int64(t.entries.Len()))
}

// containerKey is the record's container (attrkey.ContainerKey), "" on the host.
func containerKey(res pcommon.Map) string {
	return attrkey.ContainerKey(attrkey.Str(res, attrkey.ContainerID))
}

// resolve makes p absolute and clean: a relative path is joined to the
// process's working directory; "" when that is unknown. Clean paths are
// returned as they are, without allocating.
func resolve(p string, attrs pcommon.Map) string {
	if p == "" {
		return ""
	}
	if p[0] == '/' {
		return path.Clean(p)
	}
	cwd := attrkey.Str(attrs, attrkey.ProcessWorkingDirectory)
	if cwd == "" || cwd[0] != '/' {
		return ""
	}
	return path.Join(cwd, p)
}

// syscallOf names what the hook event did: the syscall, else the hook
// (an LSM hook such as security_path_chmod).
func syscallOf(attrs pcommon.Map) string {
	if s := attrkey.Str(attrs, attrkey.TetragonSyscallName); s != "" {
		return s
	}
	return attrkey.Str(attrs, attrkey.TetragonHook)
}
