// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package workloadprofile

import (
	"cmp"
	"slices"
	"strings"
	"time"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/attrkey"
)

// State is a profile's lifecycle state, the values of
// runtime_security.profile.state.
type State string

const (
	// StateLearning: the profile adds what it has not seen.
	StateLearning State = attrkey.ProfileStateLearning
	// StateEnforcing: the profile is fixed; what it has not seen is novel.
	StateEnforcing State = attrkey.ProfileStateEnforcing
	// StateFile: a reviewed profile from profiles_files, authoritative for
	// its workload and never changed by records.
	StateFile State = attrkey.ProfileStateFile
)

func (s State) valid() bool { return s == StateLearning || s == StateEnforcing || s == StateFile }

// Pair is a parent → child execution, both generalised like executables.
type Pair struct {
	Parent string `json:"parent" yaml:"parent"`
	Child  string `json:"child" yaml:"child"`
}

// Items are a profile's lists, sorted: what the YAML file shows and Diff
// compares.
type Items struct {
	Executables []string
	ParentChild []Pair
	Files       []string // FileClasses
	Syscalls    []string // syscall names, or hooks that are not syscalls
	Ports       []uint16 // destination ports
	Peers       []string // PeerClasses
}

// env is what the profiles of one Set share: the configuration and the
// executable generalisation cache. Used under the Set's lock.
type env struct {
	cfg   Config
	execs execCache
}

func newEnv(cfg Config) *env { return &env{cfg: cfg, execs: make(execCache)} }

// Profile is one workload's behaviour: bounded sets of executables,
// parent → child pairs, file classes, syscalls/hooks, destination ports and
// peer classes, and its lifecycle. A Profile is not safe for concurrent use;
// a Set serialises access to its profiles.
type Profile struct {
	key   Key
	id    string // key.String(), computed once: it labels every record
	image string
	state State

	firstSeen, lastSeen time.Time // the learning window (event time)
	enforcingSince      time.Time
	lastActive          time.Time // event time of the last record, any state (Set.Prune)
	restarts            int       // image changes that restarted learning

	// lifecycle (lifecycle.go)
	windowStart             time.Time
	windowSeen, windowAdded bool
	quiet                   int
	prevImage               string
	prevUntil               time.Time

	execs    bounded[string]
	pairs    bounded[Pair]
	files    bounded[string]
	syscalls bounded[string]
	ports    bounded[uint16]
	peers    bounded[string]

	env *env
}

// NewProfile returns an empty learning profile for key, with image as its
// image version ("" when unknown: the first record's image is adopted).
func NewProfile(key Key, image string, cfg Config) *Profile {
	return newProfile(key, image, newEnv(cfg))
}

func newProfile(key Key, image string, e *env) *Profile {
	key = key.clone()
	return &Profile{key: key, id: key.String(), image: strings.Clone(image), state: StateLearning, env: e}
}

// Key is the profile's workload.
func (p *Profile) Key() Key { return p.key }

// ID is Key().String(), computed once (the runtime_security.profile.workload value).
func (p *Profile) ID() string { return p.id }

// Image is the image version the profile describes ("" when unknown).
func (p *Profile) Image() string { return p.image }

// State is the lifecycle state.
func (p *Profile) State() State { return p.state }

// FirstSeen and LastSeen bound the learning window: the event times of the
// first and last records observed while learning.
func (p *Profile) FirstSeen() time.Time { return p.firstSeen }

// LastSeen: see FirstSeen.
func (p *Profile) LastSeen() time.Time { return p.lastSeen }

// EnforcingSince is the event time learning ended (zero while learning).
func (p *Profile) EnforcingSince() time.Time { return p.enforcingSince }

// LastActive is the event time of the last record observed in any state.
func (p *Profile) LastActive() time.Time { return p.lastActive }

// Restarts counts image changes that restarted learning.
func (p *Profile) Restarts() int { return p.restarts }

// Sizes is the number of items in each list.
func (p *Profile) Sizes() Counts {
	return Counts{
		Executables: p.execs.len(), ParentChild: p.pairs.len(), Files: p.files.len(),
		Syscalls: p.syscalls.len(), Ports: p.ports.len(), Peers: p.peers.len(),
	}
}

// Overflow counts the items each list could not keep because of its cap
// (since the profile last started learning).
func (p *Profile) Overflow() Counts {
	return Counts{
		Executables: p.execs.overflow, ParentChild: p.pairs.overflow, Files: p.files.overflow,
		Syscalls: p.syscalls.overflow, Ports: p.ports.overflow, Peers: p.peers.overflow,
	}
}

// Items returns the profile's lists, sorted.
func (p *Profile) Items() Items {
	it := Items{
		Executables: sorted(p.execs.items()),
		ParentChild: p.pairs.items(),
		Files:       sorted(p.files.items()),
		Syscalls:    sorted(p.syscalls.items()),
		Ports:       sorted(p.ports.items()),
		Peers:       sorted(p.peers.items()),
	}
	slices.SortFunc(it.ParentChild, comparePairs)
	return it
}

func sorted[T cmp.Ordered](s []T) []T { slices.Sort(s); return s }

func comparePairs(a, b Pair) int {
	if c := strings.Compare(a.Parent, b.Parent); c != 0 {
		return c
	}
	return strings.Compare(a.Child, b.Child)
}

// Observe checks a record against the profile and returns the kinds
// (attrkey.ProfileKind*, in Kinds order) of what the record shows that the
// profile does not hold; nil when nothing. While learning it also adds those
// items (caps permitting: an item over a cap is counted and stays novel);
// enforcing and file profiles are not changed. The returned slice is shared:
// do not modify it. The caller decides what to mark: the processor marks
// novelties only of enforcing and file profiles.
//
// Before checking, Observe advances the lifecycle to rec.Time (lifecycle.go)
// and handles an image change: a record whose image differs from the
// profile's restarts learning (Restarts()), and records of the replaced
// image are ignored for Config.ImageGrace (nil). Set.Observe reports both.
//
// When every item of the record is already known, Observe does not allocate.
func (p *Profile) Observe(rec Record) []string {
	m, _ := p.observe(rec)
	return m.strings()
}

// imageAction is what observe did about the record's image.
type imageAction uint8

const (
	imageSame      imageAction = iota
	imageRestarted             // learning restarted for a new image
	imageStale                 // a record of the replaced image, ignored
)

func (p *Profile) observe(rec Record) (kindMask, imageAction) {
	act := p.checkImage(rec)
	if act == imageStale {
		return 0, act
	}
	p.advance(rec.Time)
	learning := p.state == StateLearning
	capOf := func(limit int) int {
		if p.state == StateFile {
			return -1
		}
		return limit
	}
	lim := p.env.cfg.Limits
	var novel, added kindMask

	if rec.Exec != "" {
		exe := p.env.execs.get(rec.Exec)
		if !p.execs.has(exe) {
			novel |= maskExec
			if learning && p.execs.add(strings.Clone(exe), capOf(lim.Executables)) {
				added |= maskExec
			}
		}
		if rec.ParentExec != "" {
			pr := Pair{Parent: p.env.execs.get(rec.ParentExec), Child: exe}
			if !p.pairs.has(pr) {
				novel |= maskExec
				if learning && p.pairs.add(Pair{strings.Clone(pr.Parent), strings.Clone(pr.Child)}, capOf(lim.ParentChild)) {
					added |= maskExec
				}
			}
		}
	}
	if c := ClassifyFile(rec.FilePath); c != "" && !p.files.has(c) {
		novel |= maskFile
		if learning && p.files.add(c, capOf(lim.Files)) { // c is a constant: no copy
			added |= maskFile
		}
	}
	if rec.Syscall != "" && !p.syscalls.has(rec.Syscall) {
		novel |= maskSyscall
		if learning && p.syscalls.add(strings.Clone(rec.Syscall), capOf(lim.Syscalls)) {
			added |= maskSyscall
		}
	}
	if rec.PeerPort != 0 && !p.ports.has(rec.PeerPort) {
		novel |= maskNetwork
		if learning && p.ports.add(rec.PeerPort, capOf(lim.Ports)) {
			added |= maskNetwork
		}
	}
	if c := ClassifyPeer(rec.PeerAddr, p.env.cfg.ClusterCIDRs); c != "" && !p.peers.has(c) {
		novel |= maskNetwork
		if learning && p.peers.add(c, capOf(lim.Peers)) {
			added |= maskNetwork
		}
	}
	if learning {
		p.learned(rec.Time, added != 0)
	}
	return novel, act
}

// restart empties the profile and starts learning again at t (image change).
func (p *Profile) restart() {
	p.execs.reset()
	p.pairs.reset()
	p.files.reset()
	p.syscalls.reset()
	p.ports.reset()
	p.peers.reset()
	p.state = StateLearning
	p.firstSeen, p.lastSeen, p.enforcingSince = time.Time{}, time.Time{}, time.Time{}
	p.windowStart, p.windowSeen, p.windowAdded, p.quiet = time.Time{}, false, false, 0
}
