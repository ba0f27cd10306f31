// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package rules

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/ottl"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/processor/detectionprocessor/internal/rulefuncs"
)

// ChainSpec is a chain rule as written in YAML: steps that must happen in order, on the same
// container (or process tree), within a time. The chain fires on the record that completes its last
// step, like a rule of its own name, severity and MITRE techniques.
type ChainSpec struct {
	Name        string `yaml:"name"`
	Description string `yaml:"description"`
	// Category defaults to attack_chain.
	Category string `yaml:"category"`
	// Severity is critical, warning or info; typically higher than any step's.
	Severity string   `yaml:"severity"`
	Mitre    []string `yaml:"mitre"`
	// Within is the longest time, in event time, from the first step to the last.
	Within time.Duration `yaml:"within"`
	// By is what the steps must share: container (default; a host process tree when there is no
	// container) or process_tree (each step's process is one of the earlier steps' processes or
	// their child).
	By    string          `yaml:"by"`
	Steps []ChainStepSpec `yaml:"steps"`
	// Enabled defaults to true.
	Enabled *bool `yaml:"enabled"`

	line int
}

// ChainStepSpec is one step: the names of rules any of which completes it (@list allowed), or an
// OTTL condition. A condition step is evaluated only on records of a container where the chain
// waits for that step, so it may match events no rule flags (an outbound connection).
type ChainStepSpec struct {
	// Name labels the step in errors and documents; optional.
	Name      string     `yaml:"name"`
	Rules     StringList `yaml:"rules"`
	Condition string     `yaml:"condition"`
}

// ChainBy is what a chain's steps must share.
type ChainBy uint8

// Values of ChainBy.
const (
	ChainByContainer ChainBy = iota
	ChainByProcessTree
)

var chainByNames = map[string]ChainBy{"container": ChainByContainer, "process_tree": ChainByProcessTree}

func (b ChainBy) String() string {
	if b == ChainByProcessTree {
		return "process_tree"
	}
	return "container"
}

// DefaultChainCategory is a chain's category when its spec names none.
const DefaultChainCategory = "attack_chain"

// maxChainSteps bounds a chain: progress state is per step, and longer chains are better split.
const maxChainSteps = 8

// Chain is a compiled chain rule. Its exported fields are read-only after Compile.
type Chain struct {
	Name        string
	Description string
	Within      time.Duration
	By          ChainBy
	Steps       []ChainStep
	Enabled     bool
	// Rule is the chain as the processor tags and counts it: name, category, severity, MITRE,
	// ruleset, file and an Order after every rule's. It has no condition of its own.
	Rule *Rule
}

// ChainStep is a compiled step.
type ChainStep struct {
	Name      string
	Rules     []string // @lists expanded; empty for a condition step
	Condition string   // as written; "" for a rules step
	ruleSet   map[string]struct{}
	cond      *ottl.Condition[rulefuncs.TC]
}

// IsCondition reports whether the step is an OTTL condition rather than a set of rules.
func (s *ChainStep) IsCondition() bool { return s.cond != nil }

// MatchesRules reports whether one of matched completes this rules step.
func (s *ChainStep) MatchesRules(matched []*Rule) bool {
	for _, r := range matched {
		if _, ok := s.ruleSet[r.Name]; ok {
			return true
		}
	}
	return false
}

// Eval evaluates a condition step on the record of tc.
func (s *ChainStep) Eval(ctx context.Context, tc rulefuncs.TC) (bool, error) {
	return s.cond.Eval(ctx, tc)
}

// String describes the step for documents: its rules, or its condition.
func (s *ChainStep) String() string {
	if s.cond != nil {
		return "condition: " + s.Condition
	}
	return strings.Join(s.Rules, " | ")
}

// chainEntry is a chain spec being assembled, with where it came from.
type chainEntry = sourced[ChainSpec]

// compileChains merges the chains of docs (a later file's chain replaces an earlier one of the same
// name, keeping its position) and compiles them against the compiled rules rs.
func compileChains(srcs []Source, docs []*Document, rs *Ruleset, lists map[string][]string, parser *ottl.Parser[rulefuncs.TC], errs *errorList) {
	entries, _ := mergeByName(srcs, docs, func(d *Document) []ChainSpec { return d.Chains },
		func(s *ChainSpec) (string, int) { return s.Name, s.line }, "chain", "chains.name", errs)
	rs.chainByName = map[string]*Chain{}
	for _, e := range entries {
		c := compileChain(e, rs, lists, parser, errs)
		if c == nil {
			continue
		}
		c.Rule.Order = len(rs.rules) + len(rs.chains)
		rs.chains = append(rs.chains, c)
		rs.chainByName[c.Name] = c
	}
}

func compileChain(e *chainEntry, rs *Ruleset, lists map[string][]string, parser *ottl.Parser[rulefuncs.TC], errs *errorList) *Chain {
	s := &e.spec
	n0 := errs.count()
	bad := func(field string, err error) { errs.add(e.file, s.line, s.Name, field, err) }

	if rs.byName[s.Name] != nil {
		bad("name", errors.New("a rule has this name; chains and rules share one namespace (they are counted and alerted on by name)"))
	}
	c := &Chain{
		Name:        s.Name,
		Description: strings.TrimSpace(s.Description),
		Within:      s.Within,
		Enabled:     s.Enabled == nil || *s.Enabled,
	}
	r := &Rule{
		Name:        s.Name,
		Description: c.Description,
		Category:    s.Category,
		Ruleset:     e.ruleset,
		File:        e.file,
		Line:        s.line,
		Enabled:     c.Enabled,
		UUID:        RuleUUID(s.Name),
	}
	c.Rule = r
	if r.Category == "" {
		r.Category = DefaultChainCategory
	}
	compileIdentity(r, s.Severity, s.Mitre, bad)
	if s.Within <= 0 {
		bad("within", fmt.Errorf("required: a positive duration from the first step to the last, like 10m or 1h, got %v", s.Within))
	}
	if s.By != "" {
		b, ok := chainByNames[s.By]
		if !ok {
			bad("by", fmt.Errorf("unknown %q; want container (the default) or process_tree", s.By))
		}
		c.By = b
	}
	if len(s.Steps) < 2 || len(s.Steps) > maxChainSteps {
		bad("steps", fmt.Errorf("a chain has 2 to %d steps, got %d", maxChainSteps, len(s.Steps)))
	}
	for i, st := range s.Steps {
		field := fmt.Sprintf("steps[%d]", i)
		if st.Name != "" {
			field = fmt.Sprintf("steps[%s]", st.Name)
		}
		step := ChainStep{Name: st.Name, Condition: strings.TrimSpace(st.Condition)}
		switch {
		case len(st.Rules) > 0 && step.Condition != "":
			bad(field, errors.New("has both rules and condition; a step is one or the other (split it into two chains for either)"))
		case len(st.Rules) == 0 && step.Condition == "":
			bad(field, errors.New("needs rules (names of rules, any of which completes the step) or a condition (OTTL)"))
		case len(st.Rules) > 0:
			step.Rules, step.ruleSet = expandNameList(field+".rules", "rule name", st.Rules, lists, func(n string) error { return checkChainStepRule(n, rs) }, bad)
		default:
			if i == 0 {
				bad(field, errors.New("the first step must name rules: a condition step is only evaluated where the chain has started, so it cannot start one"))
				continue
			}
			step.cond, _ = compileCondition(field+".condition", step.Condition, lists, parser, bad)
		}
		c.Steps = append(c.Steps, step)
	}
	if errs.count() != n0 {
		return nil
	}
	return c
}

// checkChainStepRule accepts the name of a compiled rule (a chain cannot be a step of another).
func checkChainStepRule(name string, rs *Ruleset) error {
	if rs.byName[name] != nil {
		return nil
	}
	if rs.chainByName[name] != nil {
		return fmt.Errorf("%q is a chain; a step names rules (repeat the chain's steps instead)", name)
	}
	return fmt.Errorf("no rule %q; %s", name, closestNames(name, rs.Names()))
}

// closestNames suggests the known names that share the longest prefix with name, or lists them all
// when few.
func closestNames(name string, known []string) string {
	best, bestLen := []string(nil), 0
	for _, k := range known {
		n := 0
		for n < len(k) && n < len(name) && k[n] == name[n] {
			n++
		}
		switch {
		case n > bestLen:
			best, bestLen = []string{k}, n
		case n == bestLen && n > 0:
			best = append(best, k)
		}
	}
	if bestLen >= 3 && len(best) <= 5 {
		return "did you mean " + strings.Join(best, ", ") + "?"
	}
	sorted := slices.Clone(known)
	sort.Strings(sorted)
	return "known rules: " + strings.Join(sorted, ", ")
}

// Chains returns every chain, enabled or not, in definition order.
func (rs *Ruleset) Chains() []*Chain { return rs.chains }

// Chain returns the chain of that name, or nil.
func (rs *Ruleset) Chain(name string) *Chain { return rs.chainByName[name] }

// EnabledChains returns the enabled chains.
func (rs *Ruleset) EnabledChains() []*Chain { return rs.enabledChains }

// Tagged returns the rules and then the chains' rules: everything the processor may tag a record
// with, indexed by Order.
func (rs *Ruleset) Tagged() []*Rule {
	out := make([]*Rule, 0, len(rs.rules)+len(rs.chains))
	out = append(out, rs.rules...)
	for _, c := range rs.chains {
		out = append(out, c.Rule)
	}
	return out
}
