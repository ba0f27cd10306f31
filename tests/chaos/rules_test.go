// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

//go:build chaos

package chaos

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/testbackends"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/testenv"
)

// siteRules is a valid site rules file: one rule that fires on every process execution.
const siteRules = `rules:
  - name: chaos_every_exec
    description: Every process execution (chaos test marker).
    category: execution
    severity: info
    event: tetragon.process_exec
    condition: attributes["process.executable.name"] != nil
`

// badRules are the rewrites the processor must reject, keeping the previous rules.
var badRules = []struct{ name, content, reason string }{
	{"empty file", "", ""},
	{"invalid YAML", "rules:\n  - name: chaos_every_exec\n    description: [unclosed\n", ""},
	{"bad OTTL condition", strings.Replace(siteRules, `attributes["process.executable.name"] != nil`, `attributes["process.executable.name"] == == "bash"`, 1), "compile"},
}

// writeAtomic replaces path's content by a rename, as the kubelet updates a mounted ConfigMap.
func writeAtomic(t *testing.T, path, content string) {
	t.Helper()
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// TestBadRulesFiles: a site rules file (an overlay adds it to the detection processor's
// rules_files) is rewritten while events flow, to an empty file, to invalid YAML and to a bad
// OTTL condition. Each rewrite is rejected: otelcol_processor_detection_reload_failures{reason,
// file} increments and names the file, the number of rules loaded stays, and the site rule keeps
// firing. Then `rules: []` is accepted as a deliberate empty file: the rule is gone and stops
// firing. Every event is stored once throughout.
func TestBadRulesFiles(t *testing.T) {
	set := events(t)
	h := newHarness(t, harnessOptions{})
	site := filepath.Join(h.dir, "rules", "site.yaml")
	if err := os.MkdirAll(filepath.Dir(site), 0o700); err != nil {
		t.Fatal(err)
	}
	writeAtomic(t, site, siteRules)
	h.overlay("site-rules", map[string]any{"processors": map[string]any{"detection": map[string]any{"rules_files": []string{site}}}})
	// Looped: events keep coming through every phase; the simulator is stopped at the end.
	sim := h.startSimGRPC("tetragon-sim", set, 300, "--loop")
	h.startCollector()

	matches := func() float64 {
		return h.metric("otelcol_processor_detection_matches", `rule="chaos_every_exec"`)
	}
	// The gauge has no instance label and the detections-only instance (0 rules) records it too,
	// at start-up only (TestRulesLoadedGaugePerInstance): after a reload it is the reloaded
	// instance's count.
	loaded := func() float64 { return h.metric("otelcol_processor_detection_rules_loaded") }
	reloaded := func(what, content string) {
		t.Helper()
		r0 := h.metric("otelcol_processor_detection_reloads")
		writeAtomic(t, site, content)
		testenv.Eventually(t, 60*time.Second, what+" is accepted", func() bool {
			return h.metric("otelcol_processor_detection_reloads") > r0
		})
	}
	failures := func() metrics {
		m, _ := h.scrape()
		out := metrics{}
		for s, v := range m {
			if strings.HasPrefix(s, "otelcol_processor_detection_reload_failures") {
				out[s] = v
			}
		}
		return out
	}
	keepsFiring := func(phase string) {
		t.Helper()
		m0 := matches()
		testenv.Eventually(t, 30*time.Second, phase+": chaos_every_exec keeps firing", func() bool { return matches() >= m0+20 })
	}
	keepsFiring("initial rules")
	reloaded("an edit of the site file", siteRules+"# edited\n")
	withSite := loaded()
	t.Logf("rules loaded with the site file: %.0f", withSite)

	var counted []string
	for _, bad := range badRules {
		before := failures().sum("otelcol_processor_detection_reload_failures")
		writeAtomic(t, site, bad.content)
		var after metrics
		testenv.Eventually(t, 60*time.Second, bad.name+": reload_failures increments", func() bool {
			after = failures()
			return after.sum("otelcol_processor_detection_reload_failures") > before
		})
		named := after.sum("otelcol_processor_detection_reload_failures", `file="`+site+`"`)
		if named == 0 {
			t.Errorf("%s: reload_failures does not name %s: %v", bad.name, site, after.series("otelcol_processor_detection_reload_failures"))
		}
		if bad.reason != "" && after.sum("otelcol_processor_detection_reload_failures", `reason="`+bad.reason+`"`, `file="`+site+`"`) == 0 {
			t.Errorf("%s: no reload failure with reason %q: %v", bad.name, bad.reason, after.series("otelcol_processor_detection_reload_failures"))
		}
		keepsFiring(bad.name)
		if l := loaded(); l != withSite {
			t.Errorf("%s: %.0f rules loaded after the rejected reload, %.0f before", bad.name, l, withSite)
		}
		counted = append(counted, fmt.Sprintf("%s +%.0f", bad.name, after.sum("otelcol_processor_detection_reload_failures")-before))
	}
	t.Logf("reload_failures: %v", failures().series("otelcol_processor_detection_reload_failures"))

	// rules: [] is a deliberate empty file: accepted, the site rule is gone.
	reloaded("rules: []", "rules: []\n")
	if l := loaded(); l != withSite-1 {
		t.Errorf("after rules: [] %.0f rules are loaded, want %.0f", l, withSite-1)
	}
	// Batches evaluated on the old set finish before the count is taken; then 2 s more of
	// events must add no match.
	a0 := h.metric("otelcol_receiver_accepted_log_records")
	testenv.Eventually(t, 30*time.Second, "a batch after the reload", func() bool { return h.metric("otelcol_receiver_accepted_log_records") > a0+200 })
	m1 := matches()
	a1 := h.metric("otelcol_receiver_accepted_log_records")
	testenv.Eventually(t, 30*time.Second, "600 more events", func() bool { return h.metric("otelcol_receiver_accepted_log_records") > a1+600 })
	if m2 := matches(); m2 != m1 {
		t.Errorf("chaos_every_exec still fires after rules: []: %.0f → %.0f matches", m1, m2)
	}

	if err := sim.Stop(30 * time.Second); err != nil {
		t.Fatalf("tetragon-sim: %v", err)
	}
	st := testbackends.ReadSimStats(t, sim)
	if len(st.Clients) != 1 {
		t.Fatalf("simulator clients %+v", st.Clients)
	}
	sent := st.Clients[0].Delivered
	stored := h.all.waitCount(t, "*", sent, 2*time.Minute)
	h.stopCollector()
	peak := h.checkMemory()
	if stored != sent {
		t.Errorf("all-events store holds %d records, the simulator delivered %d", stored, sent)
	}
	record(row{Scenario: "bad rules files", Mode: "gRPC", Sent: sent, Stored: stored, Lost: max(0, sent-stored), Duplicates: max(0, stored-sent),
		PeakRSSMiB: peak, Errors: "reload_failures: " + strings.Join(counted, ", ") + "; rules: [] accepted"})
}

// TestRulesLoadedGaugePerInstance: the shipped configuration runs two detection processors,
// `detection` (the catalogue and the site files) and `detection/detections_only` (no rule of
// its own, by design). Both record otelcol_processor_detection_rules_loaded when they are
// built, into one series without any instance label, so after start-up the exported value is
// whichever instance recorded last: the catalogue's count, or 0 (seen in 1 of 6 start-ups).
// Each instance's count must be told apart.
func TestRulesLoadedGaugePerInstance(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	h.startCollector()
	var series []string
	testenv.Eventually(t, 30*time.Second, "otelcol_processor_detection_rules_loaded exported", func() bool {
		m, err := h.scrape()
		if err != nil {
			return false
		}
		series = m.series("otelcol_processor_detection_rules_loaded")
		return len(series) > 0
	})
	h.stopCollector()
	t.Logf("otelcol_processor_detection_rules_loaded: %v", series)
	if len(series) < 2 {
		t.Errorf("two detection processors (detection, detection/detections_only) share one rules_loaded series %v: its value is whichever instance recorded last", series)
	}
}
