// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package rules

import (
	"fmt"
	"time"

	"go.yaml.in/yaml/v3"
)

// Document is one rules YAML file.
type Document struct {
	// Lists are named string lists a condition references as @name; they are
	// substituted as OTTL list literals before the condition is parsed.
	Lists map[string][]string `yaml:"lists"`
	// Rules are appended to the catalogue, or replace the rule of the same name
	// from an earlier file.
	Rules []RuleSpec `yaml:"rules"`
	// Overrides change rules defined in any file (including earlier ones).
	Overrides []OverrideSpec `yaml:"overrides"`
	// Chains are chain rules (chain.go): ordered steps on one container within a time.
	Chains []ChainSpec `yaml:"chains"`

	// declares is set when the file has a rules, overrides, chains or lists key, even an empty one.
	declares bool
}

// RuleSpec is one rule as written in YAML.
type RuleSpec struct {
	Name        string `yaml:"name"`
	Description string `yaml:"description"`
	Category    string `yaml:"category"`
	// Severity is critical, warning or info.
	Severity string `yaml:"severity"`
	// Mitre lists ATT&CK technique IDs (T1059 or T1059.004).
	Mitre []string `yaml:"mitre"`
	// Event lists the EventNames (tetragon.process_exec, …) the rule applies to.
	Event StringList `yaml:"event"`
	// Hooks, when set, restricts the rule to records whose tetragon.hook is one
	// of these values: a map lookup done before the condition is evaluated.
	Hooks []string `yaml:"hooks"`
	// Syscalls, when set, restricts the rule to records whose
	// tetragon.syscall.name is one of these (kernel syscall table names:
	// ptrace, finit_module, umount2): the syscall in any of its hook shapes
	// (kprobe on __x64_sys_ptrace & co, syscalls/sys_enter_ptrace,
	// raw_syscalls/sys_enter by id). A map lookup before the condition, like
	// Hooks; with both, a record either admits passes.
	Syscalls []string `yaml:"syscalls"`
	// Condition is an OTTL boolean expression over the log record.
	Condition  string          `yaml:"condition"`
	Exceptions []ExceptionSpec `yaml:"exceptions"`
	Scope      *ScopeSpec      `yaml:"scope"`
	// Enabled defaults to true.
	Enabled  *bool         `yaml:"enabled"`
	Suppress *SuppressSpec `yaml:"suppress"`
	// Escalate raises the severity of a match when its condition also holds
	// (kernel_module_load from a container is critical, from the host warning).
	Escalate *EscalateSpec `yaml:"escalate"`

	line int
}

// EscalateSpec gives a match a higher severity when Condition (OTTL, @lists
// allowed) holds on the record too.
type EscalateSpec struct {
	Severity  string `yaml:"severity"`
	Condition string `yaml:"condition"`
}

// ExceptionSpec is a Falco-style structured allowlist. The exception matches a
// record when, for some tuple in Values, every field compares true with its
// comparator against the tuple's item at the same position.
type ExceptionSpec struct {
	Name string `yaml:"name"`
	// Fields are log record attribute keys; resource.<key> reads a resource
	// attribute.
	Fields StringList `yaml:"fields"`
	// Comps has one comparator per field (=, !=, in, startswith, endswith,
	// contains, glob); it defaults to = for every field.
	Comps  StringList `yaml:"comps"`
	Values []Tuple    `yaml:"values"`

	line int
	file string // the file the exception (or appended tuples) came from
}

// ScopeSpec limits a rule to some namespaces and workloads (globs).
type ScopeSpec struct {
	Namespaces *IncludeExclude `yaml:"namespaces"`
	Workloads  *IncludeExclude `yaml:"workloads"`
}

// IncludeExclude holds glob lists. An empty Include admits everything
// (including records without the attribute); a non-empty Include admits only
// records whose attribute matches one of its globs; Exclude wins over Include.
type IncludeExclude struct {
	Include []string `yaml:"include"`
	Exclude []string `yaml:"exclude"`
}

// SuppressSpec turns repeats of a detection within Window for the same values
// of the Key attributes into a count carried by the next emitted detection.
type SuppressSpec struct {
	Window time.Duration `yaml:"window"`
	Key    []string      `yaml:"key"`
}

// OverrideSpec changes a rule defined elsewhere, typically a built-in rule from
// a user's file.
type OverrideSpec struct {
	Name     string `yaml:"name"`
	Enabled  *bool  `yaml:"enabled"`
	Severity string `yaml:"severity"`
	// AppendExceptions adds tuples to the rule's exception of the same name,
	// or adds a whole new exception when the rule has none of that name (then
	// fields are required).
	AppendExceptions []ExceptionSpec `yaml:"append_exceptions"`
	// Scope replaces the rule's scope.
	Scope *ScopeSpec `yaml:"scope"`
	// Suppress replaces the rule's suppression.
	Suppress *SuppressSpec `yaml:"suppress"`

	line int
}

// StringList accepts either one string or a list of strings.
type StringList []string

// UnmarshalYAML implements yaml.Unmarshaler.
func (s *StringList) UnmarshalYAML(n *yaml.Node) error {
	switch n.Kind {
	case yaml.ScalarNode:
		*s = StringList{n.Value}
		return nil
	case yaml.SequenceNode:
		var l []string
		if err := n.Decode(&l); err != nil {
			return err
		}
		*s = l
		return nil
	}
	return fmt.Errorf("line %d: expected a string or a list of strings", n.Line)
}

// Tuple is one row of an exception's values. A scalar row is a one-item tuple.
// Each item is a string or, for the "in" comparator, a list of strings.
type Tuple []TupleItem

// TupleItem is a string (List false, one element in Values) or a list.
type TupleItem struct {
	Values []string
	List   bool
}

// UnmarshalYAML implements yaml.Unmarshaler.
func (t *Tuple) UnmarshalYAML(n *yaml.Node) error {
	switch n.Kind {
	case yaml.ScalarNode:
		*t = Tuple{{Values: []string{n.Value}}}
		return nil
	case yaml.SequenceNode:
		out := make(Tuple, 0, len(n.Content))
		for _, c := range n.Content {
			switch c.Kind {
			case yaml.ScalarNode:
				out = append(out, TupleItem{Values: []string{c.Value}})
			case yaml.SequenceNode:
				var l []string
				if err := c.Decode(&l); err != nil {
					return err
				}
				out = append(out, TupleItem{Values: l, List: true})
			default:
				return fmt.Errorf("line %d: an exception value must be a string or a list of strings", c.Line)
			}
		}
		*t = out
		return nil
	}
	return fmt.Errorf("line %d: an exception values entry must be a string or a list (tuple)", n.Line)
}

// setLines fills the line fields of the specs from the parsed node tree, so
// that errors can point into the file. root is the document node.
func (d *Document) setLines(root *yaml.Node) {
	m := root
	if m.Kind == yaml.DocumentNode && len(m.Content) == 1 {
		m = m.Content[0]
	}
	if rules := mappingValue(m, "rules"); rules != nil && rules.Kind == yaml.SequenceNode {
		for i, n := range rules.Content {
			if i >= len(d.Rules) {
				break
			}
			d.Rules[i].line = n.Line
			setExceptionLines(d.Rules[i].Exceptions, mappingValue(n, "exceptions"))
		}
	}
	if chains := mappingValue(m, "chains"); chains != nil && chains.Kind == yaml.SequenceNode {
		for i, n := range chains.Content {
			if i < len(d.Chains) {
				d.Chains[i].line = n.Line
			}
		}
	}
	if ovs := mappingValue(m, "overrides"); ovs != nil && ovs.Kind == yaml.SequenceNode {
		for i, n := range ovs.Content {
			if i >= len(d.Overrides) {
				break
			}
			d.Overrides[i].line = n.Line
			setExceptionLines(d.Overrides[i].AppendExceptions, mappingValue(n, "append_exceptions"))
		}
	}
}

func setExceptionLines(exs []ExceptionSpec, n *yaml.Node) {
	if n == nil || n.Kind != yaml.SequenceNode {
		return
	}
	for i, e := range n.Content {
		if i < len(exs) {
			exs[i].line = e.Line
		}
	}
}

func mappingValue(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}
