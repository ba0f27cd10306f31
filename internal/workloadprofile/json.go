// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package workloadprofile

import (
	"encoding/json"
	"fmt"
	"time"
)

// The storage form: compact JSON with everything needed to resume learning
// after a restart (the lifecycle's window state and the replaced image
// included), unlike the YAML file, which shows only what a reviewer needs.
// Unknown fields are ignored so that an older collector can read a newer
// state; stateVersion changes only when a field changes meaning.

const stateVersion = 1

type stateDoc struct {
	Key            Key       `json:"key"`
	Image          string    `json:"image,omitempty"`
	State          State     `json:"state"`
	FirstSeen      time.Time `json:"first,omitzero"`
	LastSeen       time.Time `json:"last,omitzero"`
	EnforcingSince time.Time `json:"enforcing,omitzero"`
	LastActive     time.Time `json:"active,omitzero"`
	Restarts       int       `json:"restarts,omitempty"`
	WindowStart    time.Time `json:"win,omitzero"`
	WindowSeen     bool      `json:"winSeen,omitempty"`
	WindowAdded    bool      `json:"winAdded,omitempty"`
	Quiet          int       `json:"quiet,omitempty"`
	PrevImage      string    `json:"prevImage,omitempty"`
	PrevUntil      time.Time `json:"prevUntil,omitzero"`
	Exec           []string  `json:"exec,omitempty"`
	Pairs          []Pair    `json:"pairs,omitempty"`
	Files          []string  `json:"files,omitempty"`
	Syscalls       []string  `json:"syscalls,omitempty"`
	Ports          []uint16  `json:"ports,omitempty"`
	Peers          []string  `json:"peers,omitempty"`
	Overflow       Counts    `json:"overflow,omitzero"`
}

type setDoc struct {
	V        int        `json:"v"`
	Profiles []stateDoc `json:"profiles"`
}

func (p *Profile) stateDoc() stateDoc {
	it := p.Items()
	return stateDoc{
		Key: p.key, Image: p.image, State: p.state,
		FirstSeen: p.firstSeen, LastSeen: p.lastSeen, EnforcingSince: p.enforcingSince,
		LastActive: p.lastActive, Restarts: p.restarts,
		WindowStart: p.windowStart, WindowSeen: p.windowSeen, WindowAdded: p.windowAdded, Quiet: p.quiet,
		PrevImage: p.prevImage, PrevUntil: p.prevUntil,
		Exec: it.Executables, Pairs: it.ParentChild, Files: it.Files, Syscalls: it.Syscalls,
		Ports: it.Ports, Peers: it.Peers, Overflow: p.Overflow(),
	}
}

// profile rebuilds a Profile from its storage form, validating what a
// corrupted or hand-edited state could get wrong.
func (d *stateDoc) profile(e *env) (*Profile, error) {
	if err := d.Key.validate(); err != nil {
		return nil, fmt.Errorf("workload profile state: %w", err)
	}
	if !d.State.valid() {
		return nil, fmt.Errorf("workload profile state %s: unknown state %q", d.Key, d.State)
	}
	p := newProfile(d.Key, d.Image, e)
	p.state = d.State
	p.firstSeen, p.lastSeen, p.enforcingSince = d.FirstSeen, d.LastSeen, d.EnforcingSince
	p.lastActive, p.restarts = d.LastActive, d.Restarts
	p.windowStart, p.windowSeen, p.windowAdded, p.quiet = d.WindowStart, d.WindowSeen, d.WindowAdded, d.Quiet
	p.prevImage, p.prevUntil = d.PrevImage, d.PrevUntil
	if err := p.fill(Items{Executables: d.Exec, ParentChild: d.Pairs, Files: d.Files, Syscalls: d.Syscalls, Ports: d.Ports, Peers: d.Peers}); err != nil {
		return nil, fmt.Errorf("workload profile state %s: %w", p.id, err)
	}
	o := d.Overflow
	p.execs.overflow, p.pairs.overflow, p.files.overflow = o.Executables, o.ParentChild, o.Files
	p.syscalls.overflow, p.ports.overflow, p.peers.overflow = o.Syscalls, o.Ports, o.Peers
	return p, nil
}

// fill adds items as they are (no cap: what was kept once was within the
// caps then, and a file is taken as written), checking the fixed vocabularies.
func (p *Profile) fill(it Items) error {
	for _, v := range it.Executables {
		p.execs.add(v, -1)
	}
	for _, v := range it.ParentChild {
		if v.Parent == "" || v.Child == "" {
			return fmt.Errorf("parentChild entry %+v: parent and child must both be set", v)
		}
		p.pairs.add(v, -1)
	}
	for _, v := range it.Files {
		if !validFileClass(v) {
			return fmt.Errorf("unknown file class %q (valid: %v)", v, FileClasses)
		}
		p.files.add(v, -1)
	}
	for _, v := range it.Syscalls {
		p.syscalls.add(v, -1)
	}
	for _, v := range it.Ports {
		if v == 0 {
			return fmt.Errorf("port 0 is not a destination port")
		}
		p.ports.add(v, -1)
	}
	for _, v := range it.Peers {
		if !validPeerClass(v) {
			return fmt.Errorf("unknown peer class %q (valid: %v)", v, PeerClasses)
		}
		p.peers.add(v, -1)
	}
	return nil
}

// EncodeJSON is the storage form of one profile.
func EncodeJSON(p *Profile) ([]byte, error) {
	d := p.stateDoc()
	return json.Marshal(&d)
}

// DecodeJSON reads what EncodeJSON wrote, with cfg as the profile's
// configuration (Set.Restore rebinds it to the Set's).
func DecodeJSON(b []byte, cfg Config) (*Profile, error) {
	var d stateDoc
	if err := json.Unmarshal(b, &d); err != nil {
		return nil, fmt.Errorf("workload profile state: %w", err)
	}
	return d.profile(newEnv(cfg))
}
