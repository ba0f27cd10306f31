// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

// Package incident joins detections into incidents and follows chain rules through them.
//
// An incident is the detections of one container (attrkey.ContainerKey), or of one process tree on
// the host, that follow each other within the window: a detection more than window after the
// incident's last one starts a new incident. Host process trees are followed by exec id: a
// detection joins the host incident that already holds its process or its parent (a parent that is
// pid 1 or a kernel thread is not followed: everything descends from it).
//
// Chains (rules.Chain) progress inside an incident: their first step is a rule, so a chain in
// progress always has one. A chain completes at most once per incident.
//
// Time is the records' event time, as in the drift tracker: replays and live streams give the same
// incidents, and the id (a UUIDv5 of the key and the first detection's time) is the same on a
// replay of the same events. State is bounded: at most maxIncidents incidents (the least recently
// touched is evicted first, counted), lists of capped length, exec ids per incident capped.
package incident

import (
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/lru"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/processor/detectionprocessor/internal/rules"
)

const (
	// maxNames caps an incident's rules and techniques lists; beyond it names are counted only.
	maxNames = 64
	// maxExecs caps the exec ids an incident (host process trees) or a process_tree chain follows.
	maxExecs = 256
	// sweepPerCall bounds the expired incidents removed per Observe.
	sweepPerCall = 4
)

// idNamespace makes incident ids a stable function of key and first time.
var idNamespace = uuid.NewSHA1(uuid.NameSpaceURL, []byte("https://github.com/otelcol-runtime-security/otelcol-runtime-security/incident"))

// Observation is one record as the tracker sees it.
type Observation struct {
	// Container is attrkey.ContainerKey of the record's container.id; "" on the host.
	Container string
	// ExecID and ParentExecID are tetragon.exec_id and tetragon.parent_exec_id.
	ExecID, ParentExecID string
	// FollowParent is false when the parent is pid 1 or a kernel thread.
	FollowParent bool
	// Time is the event time in unix nanoseconds (0: the tracker's clock).
	Time int64
	// Matched are the rules that matched the record, suppressed repeats included, with their
	// severities (escalation applied) in Severities.
	Matched    []*rules.Rule
	Severities []rules.Severity
}

// Snapshot is what a record of an incident carries: the incident as of that record.
type Snapshot struct {
	ID          string
	First, Last int64
	Rules       []string // rules and chains, first-seen order
	Overflow    int      // names left out of Rules (maxNames)
	Techniques  []string
	Chains      []string
	Detections  int64
	Severity    rules.Severity
}

// Result is what Observe did.
type Result struct {
	// In is false when the record is not part of an incident (no detection, no chain step).
	In       bool
	Snapshot Snapshot
	// Fired are the chains this record completed.
	Fired []*rules.Chain
	// Opened is true when the record started a new incident; Evicted when that pushed out a live
	// incident because the tracker was full.
	Opened, Evicted bool
}

// Tracker is safe for concurrent use.
type Tracker struct {
	mu     sync.Mutex
	max    int
	window int64
	clock  int64                        // latest event time seen
	byKey  lru.Cache[string, *incident] // the most recently touched first
	byExec map[string]*incident         // host incidents by the exec ids they hold
	// pendingConds counts chains in progress whose next step is a condition: while it is 0,
	// records without a detection need no look-up at all.
	pendingConds atomic.Int64
	size         atomic.Int64
	now          func() int64
}

type incident struct {
	key         string
	id          string
	first, last int64
	rules       []string
	overflow    int
	techniques  []string
	chains      []string
	detections  int64
	severity    rules.Severity
	execs       []string // host incidents: the exec ids registered in byExec
	progress    []progress
}

// progress is a chain that has begun in an incident.
type progress struct {
	chain *rules.Chain
	next  int   // index of the step it waits for
	start int64 // event time of its first step
	execs map[string]struct{}
}

// New returns a tracker of at most maxIncidents incidents (minimum 1), each ending window of event
// time after its last detection. now (unix nanoseconds; nil: the wall clock) times records without
// a time.
func New(maxIncidents int, window time.Duration, now func() int64) *Tracker {
	if maxIncidents < 1 {
		maxIncidents = 1
	}
	if now == nil {
		now = func() int64 { return time.Now().UnixNano() }
	}
	return &Tracker{max: maxIncidents, window: int64(window), byExec: map[string]*incident{}, now: now}
}

// PendingConditions reports whether some chain waits for a condition step, so that records without
// a detection must be observed too.
func (t *Tracker) PendingConditions() bool { return t.pendingConds.Load() > 0 }

// Len is the number of incidents held.
func (t *Tracker) Len() int { return int(t.size.Load()) }

// Observe adds one record to its incident. A record with matches joins (or opens) the incident of
// its container or process tree; a record without joins only when it completes a condition step
// of a chain in progress there. chains are the enabled chains; cond evaluates a condition step of a
// chain on the record (called only for steps a chain waits for).
func (t *Tracker) Observe(o Observation, chains []*rules.Chain, cond func(*rules.Chain, *rules.ChainStep) bool) Result {
	t.mu.Lock()
	defer t.mu.Unlock()
	if o.Time > t.clock {
		t.clock = o.Time
	}
	now := o.Time
	if now == 0 {
		if t.clock == 0 {
			t.clock = t.now()
		}
		now = t.clock
	}
	detection := len(o.Matched) > 0
	inc := t.lookup(o, now)
	var res Result
	if inc == nil {
		if !detection {
			return res
		}
		inc, res.Evicted = t.open(o, now)
		res.Opened = true
	}
	if detection {
		inc.detections += int64(len(o.Matched))
		if now > inc.last {
			inc.last = now
		}
		for i, r := range o.Matched {
			inc.add(r, o.Severities[i])
		}
	}
	advanced := t.advance(inc, o, now, chains, cond, &res)
	if !detection && !advanced {
		return res
	}
	if isHostKey(inc.key) {
		t.register(inc, o.ExecID)
		if o.FollowParent {
			t.register(inc, o.ParentExecID)
		}
	}
	t.touch(inc)
	t.sweep()
	res.In = true
	res.Snapshot = Snapshot{
		ID: inc.id, First: inc.first, Last: inc.last, Rules: inc.rules, Overflow: inc.overflow,
		Techniques: inc.techniques, Chains: inc.chains, Detections: inc.detections, Severity: inc.severity,
	}
	return res
}

// advance moves the chains of inc on this record and reports whether a step other than a first
// one was completed by it.
func (t *Tracker) advance(inc *incident, o Observation, now int64, chains []*rules.Chain, cond func(*rules.Chain, *rules.ChainStep) bool, res *Result) bool {
	advanced := false
	for _, c := range chains {
		if inc.hasChain(c.Name) {
			continue
		}
		p := inc.progressOf(c)
		if p != nil && now-p.start > int64(c.Within) {
			t.dropProgress(inc, p)
			p = nil
		}
		if p == nil {
			if c.Steps[0].MatchesRules(o.Matched) {
				np := progress{chain: c, next: 1, start: now}
				if c.By == rules.ChainByProcessTree {
					np.execs = map[string]struct{}{}
					np.addExec(o.ExecID)
				}
				inc.progress = append(inc.progress, np)
				t.countPending(&np, 1)
			}
			continue
		}
		if c.By == rules.ChainByProcessTree && !p.holds(o.ExecID) && !p.holds(o.ParentExecID) {
			continue
		}
		step := &c.Steps[p.next]
		var ok bool
		if step.IsCondition() {
			ok = cond(c, step)
		} else {
			ok = step.MatchesRules(o.Matched)
		}
		if !ok {
			continue
		}
		advanced = true
		t.countPending(p, -1)
		p.next++
		p.addExec(o.ExecID)
		if p.next < len(c.Steps) {
			t.countPending(p, 1)
			continue
		}
		res.Fired = append(res.Fired, c)
		inc.chains = append(inc.chains[:len(inc.chains):len(inc.chains)], c.Name)
		inc.detections++
		if now > inc.last {
			inc.last = now
		}
		inc.add(c.Rule, c.Rule.Severity)
		inc.removeProgress(p)
	}
	return advanced
}

// lookup finds the live incident of the record, dropping an expired one it meets.
func (t *Tracker) lookup(o Observation, now int64) *incident {
	var inc *incident
	switch {
	case o.Container != "":
		inc = t.held(o.Container)
	case o.ExecID == "":
		inc = t.held(hostKeyPrefix) // a host record without an exec id: one shared host incident
	default:
		inc = t.byExec[o.ExecID]
		if inc == nil && o.FollowParent && o.ParentExecID != "" {
			inc = t.byExec[o.ParentExecID]
		}
	}
	if inc != nil && now-inc.last > t.window {
		t.remove(inc)
		return nil
	}
	return inc
}

func (t *Tracker) open(o Observation, now int64) (*incident, bool) {
	key := o.Container
	if key == "" {
		key = hostKeyPrefix + o.ExecID
	}
	t.remove(t.held(key)) // an ended incident of the same key that lookup did not meet
	evicted := false
	if t.byKey.Len() >= t.max {
		if _, old, ok := t.byKey.Oldest(); ok {
			evicted = t.clock-(*old).last <= t.window
			t.remove(*old)
		}
	}
	inc := &incident{key: key, first: now, last: now}
	inc.id = uuid.NewSHA1(idNamespace, []byte(key+"\x00"+strconv.FormatInt(now, 10))).String()
	t.byKey.Put(key, inc)
	t.size.Store(int64(t.byKey.Len()))
	return inc, evicted
}

// held is the incident of key, nil when none; it does not count as a touch.
func (t *Tracker) held(key string) *incident {
	if inc, ok := t.byKey.Peek(key); ok {
		return *inc
	}
	return nil
}

// hostKeyPrefix starts the key of a host process tree's incident (container keys are hex).
const hostKeyPrefix = "host:"

func isHostKey(k string) bool { return strings.HasPrefix(k, hostKeyPrefix) }

func (t *Tracker) register(inc *incident, execID string) {
	if execID == "" || len(inc.execs) >= maxExecs {
		return
	}
	if cur, ok := t.byExec[execID]; ok {
		if cur == inc {
			return
		}
		// The process belongs to an older tree's incident: the newest claim wins.
		cur.dropExec(execID)
	}
	t.byExec[execID] = inc
	inc.execs = append(inc.execs, execID)
}

func (t *Tracker) remove(inc *incident) {
	if inc == nil {
		return
	}
	for _, e := range inc.execs {
		if t.byExec[e] == inc {
			delete(t.byExec, e)
		}
	}
	for i := range inc.progress {
		t.countPending(&inc.progress[i], -1)
	}
	t.byKey.Remove(inc.key)
	t.size.Store(int64(t.byKey.Len()))
}

// sweep removes a few incidents that ended, from the least recently touched end.
func (t *Tracker) sweep() {
	for i := 0; i < sweepPerCall; i++ {
		_, inc, ok := t.byKey.Oldest()
		if !ok || t.clock-(*inc).last <= t.window {
			return
		}
		t.remove(*inc)
	}
}

func (t *Tracker) countPending(p *progress, d int64) {
	if p.next < len(p.chain.Steps) && p.chain.Steps[p.next].IsCondition() {
		t.pendingConds.Add(d)
	}
}

func (t *Tracker) dropProgress(inc *incident, p *progress) {
	t.countPending(p, -1)
	inc.removeProgress(p)
}

func (t *Tracker) touch(inc *incident) { t.byKey.Get(inc.key) }

// add records a matched rule (or completed chain) in the incident's lists.
func (inc *incident) add(r *rules.Rule, sev rules.Severity) {
	if sev > inc.severity {
		inc.severity = sev
	}
	if !contains(inc.rules, r.Name) {
		if len(inc.rules) < maxNames {
			// Appending to a copy keeps snapshots handed out earlier intact.
			inc.rules = append(inc.rules[:len(inc.rules):len(inc.rules)], r.Name)
		} else {
			inc.overflow++
		}
	}
	for _, tech := range r.Mitre {
		if !contains(inc.techniques, tech) && len(inc.techniques) < maxNames {
			inc.techniques = append(inc.techniques[:len(inc.techniques):len(inc.techniques)], tech)
		}
	}
}

func (inc *incident) hasChain(name string) bool { return contains(inc.chains, name) }

func (inc *incident) progressOf(c *rules.Chain) *progress {
	for i := range inc.progress {
		if inc.progress[i].chain == c {
			return &inc.progress[i]
		}
	}
	return nil
}

func (inc *incident) removeProgress(p *progress) {
	for i := range inc.progress {
		if &inc.progress[i] == p {
			inc.progress = append(inc.progress[:i], inc.progress[i+1:]...)
			return
		}
	}
}

func (inc *incident) dropExec(execID string) {
	for i, e := range inc.execs {
		if e == execID {
			inc.execs = append(inc.execs[:i], inc.execs[i+1:]...)
			return
		}
	}
}

func (p *progress) addExec(execID string) {
	if p.execs != nil && execID != "" && len(p.execs) < maxExecs {
		p.execs[execID] = struct{}{}
	}
}

func (p *progress) holds(execID string) bool {
	_, ok := p.execs[execID]
	return execID != "" && ok
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}
