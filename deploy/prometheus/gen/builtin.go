// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package main

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

// BuiltinDir holds the detection processor's built-in catalogue, relative to
// the repository root.
const BuiltinDir = "processor/detectionprocessor/internal/rules/builtin"

// builtinRule is what the runbooks take from the catalogue itself, so that
// category, severity and MITRE IDs on a page are those the processor uses.
type builtinRule struct {
	Name        string   `yaml:"name"`
	Description string   `yaml:"description"`
	Category    string   `yaml:"category"`
	Severity    string   `yaml:"severity"`
	Mitre       []string `yaml:"mitre"`
}

// loadBuiltin reads every rule of the built-in catalogue by name.
func loadBuiltin(root string) (map[string]builtinRule, error) {
	paths, err := filepath.Glob(filepath.Join(root, filepath.FromSlash(BuiltinDir), "*.yaml"))
	if err != nil {
		return nil, err
	}
	sort.Strings(paths)
	out := map[string]builtinRule{}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		var doc struct {
			Rules []builtinRule `yaml:"rules"`
		}
		if err := yaml.Unmarshal(b, &doc); err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		for _, r := range doc.Rules {
			r.Description = strings.TrimSpace(r.Description)
			out[r.Name] = r
		}
	}
	return out, nil
}

// withBuiltin returns the catalogue with category and MITRE IDs replaced by
// the built-in catalogue's where it defines the rule, and its default
// severity and description filled in.
func withBuiltin(rules []DetectionRule, builtin map[string]builtinRule) []DetectionRule {
	out := make([]DetectionRule, len(rules))
	for i, r := range rules {
		if b, ok := builtin[r.Name]; ok {
			if b.Category != "" {
				r.Category = b.Category
			}
			if len(b.Mitre) > 0 {
				r.Mitre = b.Mitre
			}
			r.DefaultSeverity = b.Severity
			r.Description = b.Description
		}
		out[i] = r
	}
	return out
}
