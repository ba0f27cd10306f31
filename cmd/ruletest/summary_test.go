// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/testenv"
)

type jsonReport struct {
	Files   []fileResult  `json:"files"`
	Events  []eventResult `json:"events"`
	Summary summary       `json:"summary"`
}

func runJSON(t *testing.T, args ...string) (jsonReport, map[string]json.RawMessage) {
	t.Helper()
	code, out, stderr := runTool(t, append(args, "--json")...)
	require.Equal(t, 0, code, stderr)
	var rep jsonReport
	require.NoError(t, json.Unmarshal([]byte(out), &rep))
	var raw map[string]json.RawMessage
	require.NoError(t, json.Unmarshal([]byte(out), &raw))
	return rep, raw
}

func ruleByName(t *testing.T, s summary, name string) ruleSummary {
	t.Helper()
	for _, r := range s.Rules {
		if r.Name == name {
			return r
		}
	}
	t.Fatalf("rule %q not in the summary: %+v", name, s.Rules)
	return ruleSummary{}
}

// passwdEvents writes a JSONL file of the real security_file_permission event on /etc/passwd
// (real/docs-use-cases--filename-access.jsonl), once per offset from its own time, each with the
// exec_id given (the key of the test rule's suppress window).
func passwdEvents(t *testing.T, name string, offsets []time.Duration, execIDs []string) string {
	t.Helper()
	line, err := os.ReadFile(filepath.Join(testenv.EventsDir(t), "real", "docs-use-cases--filename-access.jsonl"))
	require.NoError(t, err)
	var buf bytes.Buffer
	for i, off := range offsets {
		dec := json.NewDecoder(bytes.NewReader(line))
		dec.UseNumber()
		var ev map[string]any
		require.NoError(t, dec.Decode(&ev))
		t0, err := time.Parse(time.RFC3339Nano, ev["time"].(string))
		require.NoError(t, err)
		ev["time"] = t0.Add(off).UTC().Format(time.RFC3339Nano)
		ev["process_kprobe"].(map[string]any)["process"].(map[string]any)["exec_id"] = execIDs[i]
		b, err := json.Marshal(ev)
		require.NoError(t, err)
		buf.Write(b)
		buf.WriteByte('\n')
	}
	p := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(p, buf.Bytes(), 0o600))
	return p
}

const passwdRule = "Test passwd read suppressed"

func TestSummarySuppressionHandcrafted(t *testing.T) {
	s := 1 * time.Second
	same := []string{"ZXhlYy1h", "ZXhlYy1h", "ZXhlYy1h"}
	inWindow := passwdEvents(t, "in-window.jsonl", []time.Duration{0, 10 * s, 20 * s}, same)

	t.Run("three within the window: fired 3, suppressed 2", func(t *testing.T) {
		rep, raw := runJSON(t, "--no-builtin", "--rules", "testdata/suppress_rules.yaml", "--summary", inWindow)
		assert.NotContains(t, raw, "events", "--summary leaves out the per-event list")
		r := ruleByName(t, rep.Summary, passwdRule)
		assert.Equal(t, ruleSummary{Name: passwdRule, Severity: "warning", Fired: 3, Suppressed: 2, Detections: 1, SuppressWindow: "1m"}, r)
		assert.Equal(t, 3, rep.Summary.Events)
		assert.Equal(t, 3, rep.Summary.EventsMatched)
		assert.Equal(t, 1, rep.Summary.EventsDetected)
		assert.Equal(t, 1, rep.Summary.RulesFired)
		assert.Len(t, rep.Summary.Rules, 1, "the rule that never fired is left out without --all-rules")

		code, out, stderr := runTool(t, "--no-builtin", "--rules", "testdata/suppress_rules.yaml", "--summary", inWindow)
		require.Equal(t, 0, code, stderr)
		assert.NotContains(t, out, "TIME")
		assert.Contains(t, out, "Summary: 3 events, 3 with detections (1 after suppression), 2 rules enabled, 1 fired\n")
		assert.Contains(t, out, "FIRED  SUPPRESSED  DETECTIONS  WINDOW  SEVERITY  RULE\n3      2           1           1m      warning   "+passwdRule+"\n")
		assert.Contains(t, out, "1 enabled rules did not fire (--all-rules lists them)")
	})

	t.Run("per-event lines mark the suppressed repeats", func(t *testing.T) {
		code, out, stderr := runTool(t, "--no-builtin", "--rules", "testdata/suppress_rules.yaml", inWindow)
		require.Equal(t, 0, code, stderr)
		var eventLines []string
		for _, l := range strings.Split(out, "\n") {
			if strings.HasPrefix(l, "2024-04-14T") {
				eventLines = append(eventLines, l)
			}
		}
		require.Len(t, eventLines, 3, out)
		assert.True(t, strings.HasSuffix(eventLines[0], "  "+passwdRule), eventLines[0])
		assert.True(t, strings.HasSuffix(eventLines[1], "  "+passwdRule+" (suppressed)"), eventLines[1])
		assert.True(t, strings.HasSuffix(eventLines[2], "  "+passwdRule+" (suppressed)"), eventLines[2])
		rep, _ := runJSON(t, "--no-builtin", "--rules", "testdata/suppress_rules.yaml", inWindow)
		require.Len(t, rep.Events, 3)
		assert.Empty(t, rep.Events[0].Suppressed)
		assert.Equal(t, []string{passwdRule}, rep.Events[1].Suppressed)
		assert.Equal(t, []string{passwdRule}, rep.Events[2].Suppressed)
	})

	t.Run("a repeat a window after the emission is emitted", func(t *testing.T) {
		f := passwdEvents(t, "spread.jsonl", []time.Duration{0, 30 * s, 90 * s}, same)
		rep, _ := runJSON(t, "--no-builtin", "--rules", "testdata/suppress_rules.yaml", "--summary", f)
		r := ruleByName(t, rep.Summary, passwdRule)
		assert.Equal(t, 3, r.Fired)
		assert.Equal(t, 1, r.Suppressed)
		assert.Equal(t, 2, r.Detections)
	})

	t.Run("another key value has its own window", func(t *testing.T) {
		f := passwdEvents(t, "two-keys.jsonl", []time.Duration{0, 10 * s, 20 * s}, []string{"ZXhlYy1h", "ZXhlYy1i", "ZXhlYy1h"})
		rep, _ := runJSON(t, "--no-builtin", "--rules", "testdata/suppress_rules.yaml", "--summary", f)
		r := ruleByName(t, rep.Summary, passwdRule)
		assert.Equal(t, 3, r.Fired)
		assert.Equal(t, 1, r.Suppressed)
	})

	t.Run("each file is its own stream", func(t *testing.T) {
		again := passwdEvents(t, "again.jsonl", []time.Duration{0, 10 * s, 20 * s}, same)
		rep, _ := runJSON(t, "--no-builtin", "--rules", "testdata/suppress_rules.yaml", "--summary", inWindow, again)
		r := ruleByName(t, rep.Summary, passwdRule)
		assert.Equal(t, 6, r.Fired)
		assert.Equal(t, 4, r.Suppressed)
		assert.Len(t, rep.Files, 2)
	})

	t.Run("--all-rules lists the rules that never fired", func(t *testing.T) {
		rep, _ := runJSON(t, "--no-builtin", "--rules", "testdata/suppress_rules.yaml", "--summary", "--all-rules", inWindow)
		require.Len(t, rep.Summary.Rules, 2)
		assert.Equal(t, passwdRule, rep.Summary.Rules[0].Name)
		assert.Equal(t, ruleSummary{Name: "Test tracepoint per hook", Severity: "info", SuppressWindow: "10s"}, rep.Summary.Rules[1])
		assert.Equal(t, 1, rep.Summary.RulesFired)

		code, out, stderr := runTool(t, "--no-builtin", "--rules", "testdata/suppress_rules.yaml", "--summary", "--all-rules", inWindow)
		require.Equal(t, 0, code, stderr)
		assert.Contains(t, out, "\n0      0           0           10s     info      Test tracepoint per hook\n")
		assert.NotContains(t, out, "did not fire")
	})
}

// tracepointOracle reads the syscalls corpus and counts, per tetragon.hook (subsys/event), the
// tracepoint events and how many a 10s window keyed by the hook suppresses: an emission opens a
// window; a repeat within it of the emission is suppressed; a key idle for more than a window
// starts afresh.
func tracepointOracle(t *testing.T, path string) (lines, fired, suppressed int) {
	t.Helper()
	fh, err := os.Open(path)
	require.NoError(t, err)
	defer fh.Close()
	zr, err := gzip.NewReader(fh)
	require.NoError(t, err)
	data, err := io.ReadAll(zr)
	require.NoError(t, err)
	times := map[string][]time.Time{}
	for _, l := range bytes.Split(bytes.TrimSpace(data), []byte("\n")) {
		lines++
		var ev struct {
			Time       time.Time `json:"time"`
			Tracepoint *struct {
				Subsys string `json:"subsys"`
				Event  string `json:"event"`
			} `json:"process_tracepoint"`
		}
		require.NoError(t, json.Unmarshal(l, &ev))
		if ev.Tracepoint != nil {
			k := ev.Tracepoint.Subsys + "/" + ev.Tracepoint.Event
			times[k] = append(times[k], ev.Time)
		}
	}
	const window = 10 * time.Second
	for _, ts := range times {
		sort.Slice(ts, func(a, b int) bool { return ts[a].Before(ts[b]) })
		var lastEmit, lastSeen time.Time
		for i, now := range ts {
			fired++
			switch {
			case i == 0 || now.Sub(lastSeen) > window:
				lastEmit = now
			case now.Sub(lastEmit) < window:
				suppressed++
			default:
				lastEmit = now
			}
			lastSeen = now
		}
	}
	return lines, fired, suppressed
}

func TestSummarySyscallsCorpusSuppression(t *testing.T) {
	f := filepath.Join(testenv.EventsDir(t), "syscalls", "export.jsonl.gz")
	lines, fired, suppressed := tracepointOracle(t, f)
	require.Equal(t, 435, lines)
	require.Equal(t, 149, fired)
	require.Positive(t, suppressed)
	require.Less(t, suppressed, fired-31, "31 hooks: one emission each, and more for some")

	rep, _ := runJSON(t, "--no-builtin", "--rules", "testdata/suppress_rules.yaml", "--summary", f)
	s := rep.Summary
	assert.Equal(t, 435, s.Lines)
	assert.Equal(t, 435, s.Events)
	assert.Equal(t, skipped{}, s.Skipped)
	assert.Equal(t, fired, s.EventsMatched)
	assert.Equal(t, fired-suppressed, s.EventsDetected)
	assert.Equal(t, ruleSummary{Name: "Test tracepoint per hook", Severity: "info", Fired: fired, Suppressed: suppressed,
		Detections: fired - suppressed, SuppressWindow: "10s"}, ruleByName(t, s, "Test tracepoint per hook"))
	assert.Len(t, s.Rules, 1)
}

// TestSummaryBuiltinCatalogue runs the built-in catalogue (plus the test rules, since no built-in
// rule fires on the benign main-export capture) over the real captures and checks the summary
// against the per-event list of the same run, and --summary and --all-rules against it.
func TestSummaryBuiltinCatalogue(t *testing.T) {
	for _, tc := range []struct {
		file  string
		lines int
	}{
		{filepath.Join("syscalls", "export.jsonl.gz"), 435},
		{filepath.Join("captured", "main-export.jsonl.gz"), 611},
	} {
		t.Run(tc.file, func(t *testing.T) {
			f := filepath.Join(testenv.EventsDir(t), tc.file)
			full, _ := runJSON(t, "--rules", "testdata/rules.yaml", "--rules", "testdata/suppress_rules.yaml", f)
			s := full.Summary
			assert.Equal(t, tc.lines, s.Lines)
			assert.Equal(t, s.Lines, s.Events+s.Skipped.Unknown+s.Skipped.Malformed)
			require.Positive(t, s.RulesFired)
			require.Len(t, s.Rules, s.RulesFired)

			firedBy, suppressedBy := map[string]int{}, map[string]int{}
			detected := 0
			for _, e := range full.Events {
				for _, n := range e.Rules {
					firedBy[n]++
				}
				for _, n := range e.Suppressed {
					suppressedBy[n]++
				}
				if len(e.Suppressed) < len(e.Rules) {
					detected++
				}
			}
			assert.Equal(t, len(full.Events), s.EventsMatched)
			assert.Equal(t, detected, s.EventsDetected)
			totalSuppressed := 0
			for i, r := range s.Rules {
				assert.Positive(t, r.Fired, r.Name)
				assert.Equal(t, firedBy[r.Name], r.Fired, r.Name)
				assert.Equal(t, suppressedBy[r.Name], r.Suppressed, r.Name)
				assert.Equal(t, r.Fired-r.Suppressed, r.Detections, r.Name)
				assert.Equal(t, s.Matches[r.Name], r.Fired, r.Name)
				assert.Contains(t, []string{"info", "warning", "critical"}, r.Severity, r.Name)
				if r.Suppressed > 0 {
					assert.NotEmpty(t, r.SuppressWindow, "%s suppressed without a window", r.Name)
				}
				if i > 0 {
					assert.GreaterOrEqual(t, s.Rules[i-1].Fired, r.Fired, "most firings first")
				}
				totalSuppressed += r.Suppressed
			}
			if strings.HasPrefix(tc.file, "syscalls") {
				// The namespace steps repeat within a minute in the same container.
				assert.Positive(t, totalSuppressed-ruleByName(t, s, "Test tracepoint per hook").Suppressed, "built-in rules suppressed")
			} else {
				assert.Positive(t, ruleByName(t, s, "Test shell exec").Fired)
			}

			only, raw := runJSON(t, "--rules", "testdata/rules.yaml", "--rules", "testdata/suppress_rules.yaml", "--summary", f)
			assert.NotContains(t, raw, "events")
			assert.Equal(t, s, only.Summary)

			all, _ := runJSON(t, "--rules", "testdata/rules.yaml", "--rules", "testdata/suppress_rules.yaml", "--summary", "--all-rules", f)
			require.Len(t, all.Summary.Rules, s.RulesEnabled)
			assert.Equal(t, s.Rules, all.Summary.Rules[:len(s.Rules)])
			for _, r := range all.Summary.Rules[len(s.Rules):] {
				assert.Zero(t, r.Fired, r.Name)
			}
		})
	}
}

func TestUsageDocumentsFlagsAndExitStatus(t *testing.T) {
	code, _, stderr := runTool(t, "--help")
	assert.Equal(t, 0, code)
	for _, want := range []string{"--summary", "--all-rules", "-json", "Exit status: 0 on success", "2 when the rules do not load"} {
		assert.Contains(t, stderr, want)
	}
}
