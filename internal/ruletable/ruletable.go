// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

// Package ruletable reads the rule table of deploy/README.md: for each
// built-in rule, the event types it reads and the TracingPolicy hooks that
// feed it in the kprobe and the tracepoint-only sets. deploy/deploytest checks
// the table against the policies and the catalogue; the detection scorecard
// quotes it.
package ruletable

import (
	"fmt"
	"os"
	"regexp"
	"strings"
)

// Sets are the two policy sets, in the table's column order.
var Sets = []string{"kprobe", "tracepoint"}

// Row is one rule of the table.
type Row struct {
	Rule   string
	Events []string // event types without the "tetragon." prefix; "(…)" notes dropped
	// Hooks[set] maps a policy name to the hooks of it the rule reads; an
	// empty map when the set feeds the rule nothing ("—").
	Hooks map[string]map[string][]string
	// Policies[set] lists the policy names in the column's order.
	Policies map[string][]string
}

const header = "| Rule | Events it reads |"

var note = regexp.MustCompile(`\s*\(.*\)`)

// Read parses the table of the README at path.
func Read(path string) ([]Row, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var rows []Row
	in := false
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, header) {
			in = true
			continue
		}
		if !in || strings.HasPrefix(line, "|---") {
			continue
		}
		if !strings.HasPrefix(line, "| ") {
			break
		}
		cells := strings.Split(strings.Trim(line, "| "), " | ")
		if len(cells) != 4 {
			return nil, fmt.Errorf("%s: rule table row with %d cells, want 4: %q", path, len(cells), line)
		}
		row := Row{Rule: cells[0], Hooks: map[string]map[string][]string{}, Policies: map[string][]string{}}
		for _, e := range strings.Split(note.ReplaceAllString(cells[1], ""), ",") {
			row.Events = append(row.Events, strings.TrimSpace(e))
		}
		for i, set := range Sets {
			row.Hooks[set] = map[string][]string{}
			cell := cells[2+i]
			if cell == "—" {
				continue
			}
			for _, part := range strings.Split(cell, "; ") {
				pol, hooks, ok := strings.Cut(part, ": ")
				if !ok {
					return nil, fmt.Errorf("%s: rule %s: %q is not `policy: hook, hook`", path, row.Rule, part)
				}
				row.Hooks[set][pol] = strings.Split(hooks, ", ")
				row.Policies[set] = append(row.Policies[set], pol)
			}
		}
		rows = append(rows, row)
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("%s: no rule table (a line starting %q)", path, header)
	}
	return rows, nil
}
