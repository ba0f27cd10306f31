// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package rules_test

import (
	"os"
	"regexp"
	"testing"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/processor/detectionprocessor/internal/rules/rulestest"
)

// TestSchemaDocExampleCompiles keeps SCHEMA.md's example valid and checks
// that it behaves as documented.
func TestSchemaDocExampleCompiles(t *testing.T) {
	doc, err := os.ReadFile("SCHEMA.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)```yaml\n(.*?)```").FindSubmatch(doc)
	if m == nil {
		t.Fatal("no yaml example in SCHEMA.md")
	}
	rs, err := rulestest.Compile("SCHEMA.md", string(m[1]))
	if err != nil {
		t.Fatal(err)
	}
	ev := func(ns, parent, exe string) rulestest.Event {
		return rulestest.Event{
			Name:     "tetragon.process_exec",
			Resource: map[string]any{"k8s.namespace.name": ns, "container.id": "c"},
			Attributes: map[string]any{"process.executable.name": "bash", "process.executable.path": exe,
				"process.parent.executable.name": parent},
		}
	}
	for _, tc := range []struct {
		ev   rulestest.Event
		want int
	}{
		{ev("shop", "sshd", "/bin/bash"), 1},
		{ev("kube-system", "runc", "/bin/bash"), 0},  // known_parents tuple
		{ev("prod-eu", "sshd", "/bin/bash"), 0},      // appended tuple
		{ev("dev-1", "sshd", "/bin/bash"), 0},        // override scope
		{ev("shop", "sshd", "/opt/tools/x/bash"), 0}, // new exception
	} {
		got, err := rulestest.Matches(rs, tc.ev)
		if err != nil || len(got) != tc.want {
			t.Errorf("%v: got %v, %v; want %d matches", tc.ev.Resource, got, err, tc.want)
		}
	}
	if r := rs.Rule("Terminal shell in container"); r.Severity.String() != "critical" {
		t.Fatalf("override severity: %v", r.Severity)
	}
}
