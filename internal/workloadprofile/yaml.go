// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package workloadprofile

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// The YAML file is the reviewable, committable form of a profile (the
// GitOps path: bin/profiles learn writes it, profiles_files loads it). It
// shows what a reviewer needs and nothing of the lifecycle's bookkeeping:
//
//	kind: WorkloadProfile
//	version: 1
//	workload: {cluster: prod, namespace: payments, kind: Deployment, name: api, container: api}
//	image: registry.example/payments/api:1.4.2
//	state: enforcing
//	learned: {firstSeen: …, lastSeen: …, enforcingSince: …}
//	exec:
//	  executables: [/bin/sh, /usr/lib/jvm/java-*-openjdk-amd64/bin/java]
//	  parentChild: [{parent: /bin/sh, child: /usr/bin/curl}]
//	files: [system_config, temp]
//	syscalls: [connect, openat]
//	network: {ports: [443], peers: [cluster, public]}
//	overflow: {executables: 3}   # only when a cap was hit
//
// Lists are sorted, one item per line, so that a diff of two files is a
// readable review. Decoding is strict: an unknown field is an error naming
// the field, where it is, and the fields valid there.

// Kind and Version head every profile file.
const (
	Kind    = "WorkloadProfile"
	Version = 1
)

type yamlDoc struct {
	Kind     string       `yaml:"kind"`
	Version  int          `yaml:"version"`
	Workload yamlWorkload `yaml:"workload"`
	Image    string       `yaml:"image,omitempty"`
	State    State        `yaml:"state,omitempty"`
	Learned  yamlLearned  `yaml:"learned,omitempty"`
	Exec     yamlExec     `yaml:"exec"`
	Files    []string     `yaml:"files"`
	Syscalls []string     `yaml:"syscalls"`
	Network  yamlNetwork  `yaml:"network"`
	Overflow *Counts      `yaml:"overflow,omitempty"`
}

type yamlWorkload struct {
	Cluster     string `yaml:"cluster,omitempty"`
	Namespace   string `yaml:"namespace,omitempty"`
	Kind        string `yaml:"kind,omitempty"`
	Name        string `yaml:"name,omitempty"`
	Container   string `yaml:"container,omitempty"`
	Image       string `yaml:"image,omitempty"`
	ContainerID string `yaml:"containerID,omitempty"`
}

type yamlLearned struct {
	FirstSeen      string `yaml:"firstSeen,omitempty"`
	LastSeen       string `yaml:"lastSeen,omitempty"`
	EnforcingSince string `yaml:"enforcingSince,omitempty"`
}

type yamlExec struct {
	Executables []string `yaml:"executables"`
	ParentChild []Pair   `yaml:"parentChild"`
}

type yamlNetwork struct {
	Ports []uint16 `yaml:"ports"`
	Peers []string `yaml:"peers"`
}

// schema lists the fields valid in each mapping of the file, for strict
// decoding with helpful errors (yaml.v3's KnownFields names Go types, and
// Node.Decode cannot use it). A nil entry is a scalar or a list of scalars.
type schema map[string]schema

var (
	countsSchema = schema{"executables": nil, "parentChild": nil, "files": nil, "syscalls": nil, "ports": nil, "peers": nil}
	docSchema    = schema{
		"kind": nil, "version": nil, "image": nil, "state": nil,
		"workload": {"cluster": nil, "namespace": nil, "kind": nil, "name": nil, "container": nil, "image": nil, "containerID": nil},
		"learned":  {"firstSeen": nil, "lastSeen": nil, "enforcingSince": nil},
		"exec":     {"executables": nil, "parentChild": {"parent": nil, "child": nil}},
		"files":    nil,
		"syscalls": nil,
		"network":  {"ports": nil, "peers": nil},
		"overflow": countsSchema,
	}
)

// Marshal writes p as a profile file.
func Marshal(p *Profile) ([]byte, error) {
	it := p.Items()
	d := yamlDoc{
		Kind: Kind, Version: Version,
		Workload: yamlWorkload{
			Cluster: p.key.Cluster, Namespace: p.key.Namespace, Kind: p.key.Kind, Name: p.key.Name,
			Container: p.key.Container, Image: p.key.Image, ContainerID: p.key.ContainerID,
		},
		Image: p.image, State: p.state,
		Learned: yamlLearned{
			FirstSeen: fmtTime(p.firstSeen), LastSeen: fmtTime(p.lastSeen), EnforcingSince: fmtTime(p.enforcingSince),
		},
		Exec:     yamlExec{Executables: nonNil(it.Executables), ParentChild: nonNil(it.ParentChild)},
		Files:    nonNil(it.Files),
		Syscalls: nonNil(it.Syscalls),
		Network:  yamlNetwork{Ports: nonNil(it.Ports), Peers: nonNil(it.Peers)},
	}
	if o := p.Overflow(); o != (Counts{}) {
		d.Overflow = &o
	}
	var n yaml.Node
	if err := n.Encode(&d); err != nil {
		return nil, err
	}
	flowStyle(&n)
	n.HeadComment = "Workload profile: what " + p.id + " normally does. Review it like code; see docs/profiles.md.\n" +
		"Paths with '*' are generalised versions (a literal, not a glob)."
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(&n); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// flowStyle writes the small mappings (workload, learned, each parent/child
// pair, overflow) on one line each; lists stay one item per line.
func flowStyle(n *yaml.Node) {
	if n.Kind == yaml.DocumentNode {
		n = n.Content[0]
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i].Value, n.Content[i+1]
		switch k {
		case "workload", "learned", "overflow":
			v.Style = yaml.FlowStyle
		case "exec":
			for j := 0; j+1 < len(v.Content); j += 2 {
				if v.Content[j].Value == "parentChild" {
					for _, pair := range v.Content[j+1].Content {
						pair.Style = yaml.FlowStyle
					}
				}
			}
		}
	}
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// Unmarshal reads a profile file (strictly: see above). name labels errors
// (a file name, or "" for none). The profile uses DefaultConfig; a Set
// rebinds it to its own.
func Unmarshal(data []byte, name string) (*Profile, error) {
	p, err := unmarshal(data)
	if err != nil {
		if name != "" {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		return nil, err
	}
	return p, nil
}

func unmarshal(data []byte) (*Profile, error) {
	var n yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&n); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("empty profile file")
		}
		return nil, err
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, fmt.Errorf("line %d: a profile file holds one document (one workload)", extra.Line)
	}
	root := &n
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	if root.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("line %d: a profile is a mapping (kind: %s, version: %d, workload: …)", root.Line, Kind, Version)
	}
	if err := checkFields(root, docSchema, ""); err != nil {
		return nil, err
	}
	var d yamlDoc
	if err := root.Decode(&d); err != nil {
		return nil, err
	}
	return d.profile()
}

// checkFields reports the first field of a mapping that its schema does not
// list, recursing into listed sub-mappings and lists of mappings.
func checkFields(n *yaml.Node, s schema, where string) error {
	switch n.Kind {
	case yaml.SequenceNode:
		for _, c := range n.Content {
			if err := checkFields(c, s, where+"[]"); err != nil {
				return err
			}
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			sub, ok := s[k.Value]
			if !ok {
				in := "at the top level"
				if where != "" {
					in = "in " + where
				}
				return fmt.Errorf("line %d: unknown field %q %s (valid: %s)", k.Line, k.Value, in, strings.Join(fieldNames(s), ", "))
			}
			if sub != nil {
				path := k.Value
				if where != "" {
					path = where + "." + k.Value
				}
				if err := checkFields(n.Content[i+1], sub, path); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func fieldNames(s schema) []string {
	names := make([]string, 0, len(s))
	for k := range s {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

// profile validates a decoded file and builds its Profile.
func (d *yamlDoc) profile() (*Profile, error) {
	if d.Kind != Kind {
		return nil, fmt.Errorf("kind: %q, want %q", d.Kind, Kind)
	}
	if d.Version != Version {
		return nil, fmt.Errorf("version: %d, want %d (the only version this collector reads)", d.Version, Version)
	}
	w := d.Workload
	key := Key{Cluster: w.Cluster, Namespace: w.Namespace, Kind: w.Kind, Name: w.Name, Container: w.Container, Image: w.Image, ContainerID: w.ContainerID}
	if err := key.validate(); err != nil {
		return nil, err
	}
	state := d.State
	if state == "" {
		state = StateEnforcing // a hand-written profile is meant to enforce
	}
	if !state.valid() {
		return nil, fmt.Errorf("state: %q, want %s, %s or %s", d.State, StateLearning, StateEnforcing, StateFile)
	}
	p := newProfile(key, d.Image, newEnv(DefaultConfig()))
	p.state = state
	var err error
	if p.firstSeen, err = parseTime("learned.firstSeen", d.Learned.FirstSeen); err != nil {
		return nil, err
	}
	if p.lastSeen, err = parseTime("learned.lastSeen", d.Learned.LastSeen); err != nil {
		return nil, err
	}
	if p.enforcingSince, err = parseTime("learned.enforcingSince", d.Learned.EnforcingSince); err != nil {
		return nil, err
	}
	p.lastActive, p.windowStart = p.lastSeen, p.lastSeen
	if err := p.fill(Items{
		Executables: d.Exec.Executables, ParentChild: d.Exec.ParentChild, Files: d.Files,
		Syscalls: d.Syscalls, Ports: d.Network.Ports, Peers: d.Network.Peers,
	}); err != nil {
		return nil, err
	}
	if o := d.Overflow; o != nil {
		p.execs.overflow, p.pairs.overflow, p.files.overflow = o.Executables, o.ParentChild, o.Files
		p.syscalls.overflow, p.ports.overflow, p.peers.overflow = o.Syscalls, o.Ports, o.Peers
	}
	return p, nil
}

func parseTime(field, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%s: %q is not an RFC 3339 time (e.g. 2026-01-02T15:04:05Z)", field, s)
	}
	return t, nil
}

// Load reads one profile file.
func Load(path string) (*Profile, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Unmarshal(b, path)
}

// LoadFiles reads the profile files matched by globs (filepath.Match
// syntax, no "**"), each file once, in sorted order. A glob that matches
// nothing is not an error (a ConfigMap directory may be empty), but a plain
// path that does not exist is. Two files for one workload are an error
// naming both.
func LoadFiles(globs []string) ([]*Profile, error) {
	var paths []string
	for _, g := range globs {
		m, err := filepath.Glob(g)
		if err != nil {
			return nil, fmt.Errorf("profiles_files %q: %w", g, err)
		}
		if len(m) == 0 && !strings.ContainsAny(g, `*?[\`) {
			return nil, fmt.Errorf("profiles_files %q: no such file", g)
		}
		paths = append(paths, m...)
	}
	slices.Sort(paths)
	paths = slices.Compact(paths)
	var (
		out  []*Profile
		errs []error
		from = map[Key]string{}
	)
	for _, path := range paths {
		p, err := Load(path)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if prev, dup := from[p.key]; dup {
			errs = append(errs, fmt.Errorf("%s: workload %s already has a profile in %s", path, p.id, prev))
			continue
		}
		from[p.key] = path
		out = append(out, p)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return out, nil
}
