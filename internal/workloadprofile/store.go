// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package workloadprofile

import (
	"encoding/json"
	"fmt"
	"sync"
	"time"
)

// Set is a collector's table of profiles: learned ones, created on a
// workload's first record (up to Config.MaxWorkloads), and file profiles
// (SetFiles), which take precedence for their key. A learned profile shadowed
// by a file profile is kept but not observed, so removing the file resumes
// it. Set is safe for concurrent use; Observe does no I/O and, for a record
// whose items are all known, no allocation.
type Set struct {
	mu      sync.Mutex
	env     *env
	learned map[Key]*Profile
	files   map[Key]*Profile
	changes uint64 // learned profiles changed (created, restarted, items added, state)

	novel      [4]uint64 // per kind, in Kinds order: novelties of enforcing and file profiles
	restarts   uint64
	unprofiled uint64 // records of workloads over MaxWorkloads
}

// NewSet returns an empty Set. cfg should pass Config.Validate.
func NewSet(cfg Config) *Set {
	return &Set{env: newEnv(cfg), learned: make(map[Key]*Profile), files: make(map[Key]*Profile)}
}

// Result is what Set.Observe found for one record.
type Result struct {
	// Profiled is false for records that have no profile: host processes
	// (Record.Profiled false), workloads over MaxWorkloads (Dropped), and
	// records of a replaced image during ImageGrace (Stale). Such records
	// get no profile attributes.
	Profiled bool
	Dropped  bool
	Stale    bool
	// Workload is the profile's ID (runtime_security.profile.workload).
	Workload string
	// State is the profile's state after the record (runtime_security.profile.state).
	State State
	// Novel is what the record shows that the profile did not hold (Kinds;
	// shared, do not modify). Mark it only when State is not learning.
	Novel []string
	// Created: this record started a new learned profile. Restarted: its
	// image differed from the profile's, and learning restarted.
	Created, Restarted bool
}

// Observe finds or creates the record's profile and observes the record in
// it (Profile.Observe).
func (s *Set) Observe(rec Record) Result {
	if !rec.Profiled {
		return Result{}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var res Result
	p := s.files[rec.Key]
	if p == nil {
		if p = s.learned[rec.Key]; p == nil {
			if len(s.learned) >= s.env.cfg.MaxWorkloads {
				s.unprofiled++
				return Result{Dropped: true}
			}
			p = newProfile(rec.Key, rec.Image, s.env)
			s.learned[p.key] = p
			res.Created = true
			s.changes++
		}
	}
	before := p.state
	sizes := p.execs.len() + p.pairs.len() + p.files.len() + p.syscalls.len() + p.ports.len() + p.peers.len()
	m, act := p.observe(rec)
	switch act {
	case imageStale:
		return Result{Stale: true, Workload: p.id}
	case imageRestarted:
		res.Restarted = true
		s.restarts++
		s.changes++
	}
	if p.state != before || sizes != p.execs.len()+p.pairs.len()+p.files.len()+p.syscalls.len()+p.ports.len()+p.peers.len() {
		s.changes++
	}
	if p.state != StateLearning {
		for i := range s.novel {
			if m&(1<<i) != 0 {
				s.novel[i]++
			}
		}
	}
	res.Profiled, res.Workload, res.State, res.Novel = true, p.id, p.state, m.strings()
	return res
}

// SetFiles replaces the file profiles (a hot reload of profiles_files). Each
// becomes StateFile and uncapped; two with the same key are an error, and
// nothing is replaced then.
func (s *Set) SetFiles(ps []*Profile) error {
	files := make(map[Key]*Profile, len(ps))
	for _, p := range ps {
		if _, dup := files[p.key]; dup {
			return fmt.Errorf("two file profiles for workload %s", p.id)
		}
		files[p.key] = p
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range files {
		p.state = StateFile
		p.env = s.env
	}
	s.files = files
	return nil
}

// Restore adds learned profiles decoded from storage (DecodeJSON,
// UnmarshalLearned), replacing those of the same key. File-state profiles
// are refused: they come from SetFiles only.
func (s *Set) Restore(ps ...*Profile) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range ps {
		if p.state == StateFile {
			return fmt.Errorf("workload %s: a file profile cannot be restored as learned", p.id)
		}
		p.env = s.env
		s.learned[p.key] = p
	}
	return nil
}

// Get returns the profile that Observe would use for k (the file profile
// when there is one), or nil. The profile must not be used concurrently with
// the Set: read it only while nothing observes (tests, the CLI), or use
// MarshalLearned.
func (s *Set) Get(k Key) *Profile {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p := s.files[k]; p != nil {
		return p
	}
	return s.learned[k]
}

// Prune removes learned profiles whose last record (LastActive, event time)
// is before the given time, e.g. deleted workloads, and returns how many.
func (s *Set) Prune(before time.Time) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for k, p := range s.learned {
		if p.lastActive.Before(before) {
			delete(s.learned, k)
			n++
		}
	}
	if n > 0 {
		s.changes++
	}
	return n
}

// Changes is a counter that moves whenever a learned profile changes: the
// processor persists (MarshalLearned) only when it moved since the last time.
func (s *Set) Changes() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.changes
}

// MarshalLearned encodes every learned profile in the compact JSON storage
// form (json.go), one document for the storage extension.
func (s *Set) MarshalLearned() ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	docs := make([]stateDoc, 0, len(s.learned))
	for _, p := range s.learned {
		docs = append(docs, p.stateDoc())
	}
	return json.Marshal(setDoc{V: stateVersion, Profiles: docs})
}

// UnmarshalLearned restores what MarshalLearned wrote (Restore).
func (s *Set) UnmarshalLearned(b []byte) error {
	var d setDoc
	if err := json.Unmarshal(b, &d); err != nil {
		return fmt.Errorf("workload profiles state: %w", err)
	}
	if d.V != stateVersion {
		return fmt.Errorf("workload profiles state: version %d, want %d", d.V, stateVersion)
	}
	ps := make([]*Profile, 0, len(d.Profiles))
	for i := range d.Profiles {
		p, err := d.Profiles[i].profile(s.env)
		if err != nil {
			return err
		}
		ps = append(ps, p)
	}
	return s.Restore(ps...)
}

// Stats is what the processor exports as metrics: bounded by construction
// (states and kinds are fixed sets; no per-workload label).
type Stats struct {
	// Workloads per state: learned profiles (learning, enforcing) and file profiles.
	Learning, Enforcing, File int
	// Items sums the sizes of all profiles; MaxItems is the largest profile's Total.
	Items    Counts
	MaxItems int
	// Overflow sums the items the profiles could not keep (caps).
	Overflow Counts
	// Novel counts, per kind in Kinds order, records found novel by an
	// enforcing or file profile since the Set was created.
	Novel [4]uint64
	// Restarts counts image changes that restarted learning.
	Restarts uint64
	// UnprofiledRecords counts records of workloads not profiled because
	// MaxWorkloads learned profiles existed.
	UnprofiledRecords uint64
}

// Stats returns the current statistics; it walks every profile (call it at
// metric collection, not per record).
func (s *Set) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := Stats{Novel: s.novel, Restarts: s.restarts, UnprofiledRecords: s.unprofiled, File: len(s.files)}
	count := func(p *Profile) {
		sz := p.Sizes()
		st.Items.add(sz)
		st.Overflow.add(p.Overflow())
		st.MaxItems = max(st.MaxItems, sz.Total())
	}
	for k, p := range s.learned {
		if _, shadowed := s.files[k]; shadowed {
			continue
		}
		if p.state == StateLearning {
			st.Learning++
		} else {
			st.Enforcing++
		}
		count(p)
	}
	for _, p := range s.files {
		count(p)
	}
	return st
}
