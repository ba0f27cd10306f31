// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package main

import (
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/jsonl"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/testenv"
	wp "github.com/otelcol-runtime-security/otelcol-runtime-security/internal/workloadprofile"
)

// mainExport is the captured Tetragon v1.7.0 export: runc containers known by their docker id
// only (no pod), and host processes. It spans 39 minutes of event time.
func mainExport(t *testing.T) string {
	t.Helper()
	return filepath.Join(testenv.EventsDir(t), "captured", "main-export.jsonl.gz")
}

func runTool(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(args, &out, &errb)
	return code, out.String(), errb.String()
}

// learn runs `profiles learn --out DIR args...`, requires exit 0 and returns the profiles
// written, by workload id.
func learn(t *testing.T, dir string, args ...string) (map[string]*wp.Profile, string) {
	t.Helper()
	code, out, errs := runTool(t, append([]string{"learn", "--out", dir}, args...)...)
	require.Equal(t, 0, code, "stdout:\n%s\nstderr:\n%s", out, errs)
	return loadDir(t, dir), out
}

func loadDir(t *testing.T, dir string) map[string]*wp.Profile {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	require.NoError(t, err)
	ps := map[string]*wp.Profile{}
	for _, f := range files {
		p, err := wp.Load(f)
		require.NoError(t, err, "a written profile must load back")
		assert.Equal(t, p.Key().FileName(), filepath.Base(f), "file name from the workload key")
		ps[p.ID()] = p
	}
	return ps
}

// corpusLines are main-export's lines, to build inputs from in a temp dir.
func corpusLines(t *testing.T) [][]byte {
	t.Helper()
	lines, err := jsonl.ReadFile(mainExport(t))
	require.NoError(t, err)
	require.Greater(t, len(lines), 100)
	return lines
}

func writeLines(t *testing.T, path string, lines [][]byte) {
	t.Helper()
	data := append(bytes.Join(lines, []byte("\n")), '\n')
	if strings.HasSuffix(path, ".gz") {
		var b bytes.Buffer
		zw := gzip.NewWriter(&b)
		_, err := zw.Write(data)
		require.NoError(t, err)
		require.NoError(t, zw.Close())
		data = b.Bytes()
	}
	require.NoError(t, os.WriteFile(path, data, 0o600))
}

func summaryNumber(t *testing.T, out, pattern string) string {
	t.Helper()
	m := regexp.MustCompile(pattern).FindStringSubmatch(out)
	require.NotNil(t, m, "%q not in output:\n%s", pattern, out)
	return m[1]
}

func TestLearnCapturedExport(t *testing.T) {
	dir := t.TempDir()
	ps, out := learn(t, dir, mainExport(t))
	// Three runc containers run in the capture; no pod metadata, so the key is the docker id.
	require.Len(t, ps, 3, out)
	httpd := ps["container:736fae2554da315f33ec5b6cd50e351"]
	require.NotNil(t, httpd, "the httpd container's profile: %v", ps)
	for id, p := range ps {
		assert.Equal(t, wp.StateEnforcing, p.State(), "%s: written profiles are enforcing by default", id)
		assert.Equal(t, p.LastSeen(), p.EnforcingSince(), "%s: enforcing from the end of its learning window", id)
		assert.False(t, p.FirstSeen().IsZero(), id)
		assert.NotEmpty(t, p.Key().ContainerID, id)
	}
	it := httpd.Items()
	// The container's shell started httpd and ran an exec burst of /bin/true (27 execs, one item).
	assert.Equal(t, []string{"/bin/httpd", "/bin/sh", "/bin/true"}, it.Executables)
	assert.Contains(t, it.ParentChild, wp.Pair{Parent: "/bin/sh", Child: "/bin/true"})
	// The summary: host processes are the bulk of the capture and are not profiled.
	assert.Equal(t, "3", summaryNumber(t, out, `Summary: (\d+) workloads \(3 enforcing, 0 learning\)`))
	assert.Equal(t, "611", summaryNumber(t, out, `Records: (\d+) mapped`))
	assert.Equal(t, "530", summaryNumber(t, out, `(\d+) host records ignored`))
	assert.Equal(t, "81", summaryNumber(t, out, `(\d+) profiled`))
	assert.Equal(t, "6", summaryNumber(t, out, `Items: (\d+) executables`))
	assert.Contains(t, out, "Lines: 611 read, 0 skipped")
}

func TestLearnLearningKeepsLifecycleState(t *testing.T) {
	// Default settings: 39 minutes of capture end no learning period (24h) and no quiet
	// windows (3 of 1h): every profile is still learning.
	ps, _ := learn(t, t.TempDir(), "--learning", mainExport(t))
	require.Len(t, ps, 3)
	for id, p := range ps {
		assert.Equal(t, wp.StateLearning, p.State(), id)
		assert.True(t, p.EnforcingSince().IsZero(), id)
	}
	// A one-minute period ends learning inside the capture for the container active for over
	// two minutes (d13…), and only for it; the flag after the input is parsed too.
	ps, out := learn(t, t.TempDir(), mainExport(t), "--learning", "--period", "1m")
	require.Len(t, ps, 3)
	assert.Equal(t, wp.StateEnforcing, ps["container:d13cfab578e6adc06dbae136985234c"].State())
	assert.Equal(t, wp.StateLearning, ps["container:736fae2554da315f33ec5b6cd50e351"].State())
	assert.Contains(t, out, "Summary: 3 workloads (1 enforcing, 2 learning)")

	// The lifecycle runs on event time: the same lines newest first learn the same, because each
	// file is replayed in event-time order.
	lines := corpusLines(t)
	slices.Reverse(lines)
	reversed := filepath.Join(t.TempDir(), "reversed.jsonl")
	writeLines(t, reversed, lines)
	rs, _ := learn(t, t.TempDir(), "--learning", "--period", "1m", reversed)
	require.Len(t, rs, 3)
	for id, p := range ps {
		assert.Equal(t, p.State(), rs[id].State(), id)
		assert.Equal(t, p.EnforcingSince(), rs[id].EnforcingSince(), id)
		assert.Equal(t, p.Items(), rs[id].Items(), id)
	}
}

func TestLearnReportsRecordsAfterLearningEnded(t *testing.T) {
	// The real/ directory holds docs examples years apart: a workload seen again after its 24h
	// period is enforcing, and what it then shows is not learned. The summary must say so.
	dir := t.TempDir()
	ps, out := learn(t, dir, filepath.Join(testenv.EventsDir(t), "real"))
	require.NotEmpty(t, ps)
	// A directory of inputs reads every *.jsonl file in it.
	files, err := filepath.Glob(filepath.Join(testenv.EventsDir(t), "real", "*.jsonl"))
	require.NoError(t, err)
	assert.Len(t, regexp.MustCompile(`(?m)^# .*/real/[^/]+\.jsonl: \d+ lines`).FindAllString(out, -1), len(files), out)
	// Kubernetes workloads are keyed by namespace/kind/name/container.
	p := ps["default/Pod/xwing/spaceship"]
	require.NotNil(t, p, "keys: %v", keysOf(ps))
	assert.Equal(t, "default", p.Key().Namespace)
	assert.Regexp(t, `Not learned: [1-9]\d* records came after their workload's learning had ended`, out)
}

func keysOf(ps map[string]*wp.Profile) []string {
	var ks []string
	for k := range ps {
		ks = append(ks, k)
	}
	return ks
}

func TestLearnDirectoryWithUnreadableLines(t *testing.T) {
	lines := corpusLines(t)
	in := t.TempDir()
	half := len(lines) / 2
	first := append([][]byte{[]byte(`{"process_exec": {"process": `)}, lines[:half]...)                     // malformed
	second := append([][]byte{[]byte(`{"node_name":"n1","time":"2026-11-26T17:00:00Z"}`)}, lines[half:]...) // no event type
	writeLines(t, filepath.Join(in, "a.jsonl"), first)
	writeLines(t, filepath.Join(in, "b.jsonl.gz"), second)
	require.NoError(t, os.WriteFile(filepath.Join(in, "notes.txt"), []byte("not an input"), 0o600))

	dir := t.TempDir()
	ps, out := learn(t, dir, in)
	assert.Contains(t, out, "a.jsonl: 306 lines, 305 events, 0 of unknown type, 1 malformed")
	assert.Contains(t, out, "b.jsonl.gz: 307 lines, 306 events, 1 of unknown type, 0 malformed")
	assert.Contains(t, out, "Lines: 613 read, 2 skipped (1 of unknown type, 1 malformed)")
	assert.NotContains(t, out, "notes.txt")
	// The same profiles as from the whole file: each file is replayed in time order, and the
	// split falls inside the containers' learning.
	whole := t.TempDir()
	learn(t, whole, mainExport(t))
	code, diffOut, errs := runTool(t, "diff", whole, dir)
	assert.Equal(t, 0, code, "diff:\n%s%s", diffOut, errs)
	assert.Len(t, ps, 3)
}

func TestLearnNothing(t *testing.T) {
	// Only host processes (no docker id): nothing to profile → exit 2, and no directory written.
	var host [][]byte
	for _, l := range corpusLines(t) {
		if !bytes.Contains(l, []byte(`"docker"`)) {
			host = append(host, l)
		}
	}
	require.NotEmpty(t, host)
	in := filepath.Join(t.TempDir(), "host.jsonl")
	writeLines(t, in, host)
	dir := filepath.Join(t.TempDir(), "out")
	code, out, errs := runTool(t, "learn", "--out", dir, in)
	assert.Equal(t, 2, code)
	assert.Contains(t, errs, "nothing learned: no container workload")
	assert.Regexp(t, `Nothing learned: \d+ records, none of a container workload \(\d+ host records ignored\)`, out)
	_, err := os.Stat(dir)
	assert.True(t, os.IsNotExist(err), "no output directory for nothing learned")
}

func TestMergeHalvesEqualsWhole(t *testing.T) {
	lines := corpusLines(t)
	in := t.TempDir()
	half := len(lines) / 2
	a, b := filepath.Join(in, "node-a.jsonl"), filepath.Join(in, "node-b.jsonl.gz")
	writeLines(t, a, lines[:half])
	writeLines(t, b, lines[half:])
	dirA, dirB := filepath.Join(t.TempDir(), "a"), filepath.Join(t.TempDir(), "b")
	pa, _ := learn(t, dirA, a)
	pb, _ := learn(t, dirB, b)
	// The split must put one workload on both "nodes", or the merge proves nothing.
	shared := 0
	for id := range pa {
		if pb[id] != nil {
			shared++
			assert.NotEqual(t, pa[id].Items(), pb[id].Items(), "%s: each half saw something the other did not", id)
		}
	}
	require.Positive(t, shared)

	merged := filepath.Join(t.TempDir(), "merged") + "/"
	code, out, errs := runTool(t, "merge", "--out", merged, dirA, filepath.Join(in, "missing.yaml"))
	require.Equal(t, 1, code, "a missing input is an error: %s%s", out, errs)
	assert.Contains(t, errs, "missing.yaml")
	code, out, errs = runTool(t, "merge", "--out", merged, dirA, dirB)
	require.Equal(t, 0, code, "%s%s", out, errs)
	assert.Contains(t, out, "from 2 profiles")

	whole := t.TempDir()
	pw, _ := learn(t, whole, mainExport(t))
	code, out, errs = runTool(t, "diff", whole, merged)
	assert.Equal(t, 0, code, "merged halves differ from the whole:\n%s%s", out, errs)
	assert.Empty(t, out)
	// The learning window is the same too; the one documented difference is enforcingSince:
	// the merge keeps the earliest of the inputs' (the first half's end), learning the whole
	// file ends at its last record.
	pm := loadDir(t, merged)
	require.Len(t, pm, len(pw))
	for id, w := range pw {
		assert.Equal(t, w.FirstSeen(), pm[id].FirstSeen(), id)
		assert.Equal(t, w.LastSeen(), pm[id].LastSeen(), id)
		assert.False(t, pm[id].EnforcingSince().After(w.EnforcingSince()), id)
	}
}

func TestDiff(t *testing.T) {
	dir := t.TempDir()
	learn(t, dir, mainExport(t))
	file := filepath.Join(dir, "container_736fae2554da315f33ec5b6cd50e351.yaml")

	code, out, errs := runTool(t, "diff", file, file)
	assert.Equal(t, 0, code, errs)
	assert.Empty(t, out)

	orig, err := os.ReadFile(file)
	require.NoError(t, err)
	edited := bytes.Replace(orig, []byte("    - /bin/true\n"), []byte("    - /bin/true\n    - /usr/bin/nc\n"), 1)
	edited = bytes.Replace(edited, []byte("    - {parent: /bin/sh, child: /bin/true}\n"), nil, 1)
	require.NotEqual(t, orig, edited)
	other := t.TempDir()
	editedFile := filepath.Join(other, filepath.Base(file))
	require.NoError(t, os.WriteFile(editedFile, edited, 0o600))

	code, out, errs = runTool(t, "diff", file, editedFile)
	assert.Equal(t, 1, code, errs)
	assert.Equal(t, "+ exec executables /usr/bin/nc\n- exec parentChild /bin/sh > /bin/true\n", out) // per list, in profile order

	// Directories pair by workload key: the edited one differs, the two others are only in A.
	code, out, errs = runTool(t, "diff", dir, other)
	assert.Equal(t, 1, code, errs)
	assert.Contains(t, out, "=== container:736fae2554da315f33ec5b6cd50e351: ")
	assert.Contains(t, out, "+ exec executables /usr/bin/nc\n")
	assert.Equal(t, 2, strings.Count(out, ": only in "+dir), out)
	code, out, _ = runTool(t, "diff", dir, dir)
	assert.Equal(t, 0, code)
	assert.Empty(t, out)

	// A malformed profile: exit 2 and the strict decoder's message with the file.
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	require.NoError(t, os.WriteFile(bad, append(append([]byte{}, orig...), "bogus: 1\n"...), 0o600))
	code, _, errs = runTool(t, "diff", file, bad)
	assert.Equal(t, 2, code)
	assert.Contains(t, errs, bad)
	assert.Contains(t, errs, `unknown field "bogus" at the top level`)
}

func TestMerge(t *testing.T) {
	dir := t.TempDir()
	learn(t, dir, mainExport(t))
	file := filepath.Join(dir, "container_736fae2554da315f33ec5b6cd50e351.yaml")
	orig, err := os.ReadFile(file)
	require.NoError(t, err)
	withImage := func(img string) string {
		b := bytes.Replace(orig, []byte("version: 1\n"), []byte("version: 1\nimage: "+img+"\n"), 1)
		require.NotEqual(t, orig, b)
		p := filepath.Join(t.TempDir(), "node.yaml")
		require.NoError(t, os.WriteFile(p, b, 0o600))
		return p
	}
	v1, v1b, v2 := withImage("busybox:1.36"), withImage("busybox:1.36"), withImage("busybox:1.37")

	// Mismatched images: an error naming both images and both files; nothing written.
	out := filepath.Join(t.TempDir(), "merged.yaml")
	code, _, errs := runTool(t, "merge", "--out", out, v1, v2)
	assert.Equal(t, 1, code)
	for _, s := range []string{`"busybox:1.36"`, `"busybox:1.37"`, v1, v2} {
		assert.Contains(t, errs, s)
	}
	_, err = os.Stat(out)
	assert.True(t, os.IsNotExist(err))

	// Same image (and an unknown image, which matches any): one file.
	code, stdout, errs := runTool(t, "merge", "--out", out, v1, v1b, file)
	require.Equal(t, 0, code, errs)
	assert.Contains(t, stdout, "from 3 profiles")
	p, err := wp.Load(out)
	require.NoError(t, err)
	assert.Equal(t, "busybox:1.36", p.Image())

	// Several workloads to one file: a usage error listing them; to a directory: one each.
	code, _, errs = runTool(t, "merge", "--out", out, dir)
	assert.Equal(t, 1, code)
	assert.Contains(t, errs, "the inputs hold 3 workloads")
	outDir := t.TempDir()
	code, _, errs = runTool(t, "merge", "--out", outDir, dir)
	require.Equal(t, 0, code, errs)
	assert.Len(t, loadDir(t, outDir), 3)
}

func TestShow(t *testing.T) {
	dir := t.TempDir()
	learn(t, dir, mainExport(t))
	code, out, errs := runTool(t, "show", filepath.Join(dir, "container_736fae2554da315f33ec5b6cd50e351.yaml"))
	require.Equal(t, 0, code, errs)
	assert.Contains(t, out, "container:736fae2554da315f33ec5b6cd50e351  (")
	assert.Contains(t, out, "  state:    enforcing since 2026-11-26T17:09:05Z\n")
	assert.Contains(t, out, "  executables:  3\n      /bin/httpd\n      /bin/sh\n      /bin/true\n")
	code, _, errs = runTool(t, "show", filepath.Join(dir, "missing.yaml"))
	assert.Equal(t, 1, code)
	assert.Contains(t, errs, "missing.yaml")
}

func TestUsageErrors(t *testing.T) {
	events := mainExport(t)
	profileDir := t.TempDir()
	learn(t, profileDir, events)
	aProfile := filepath.Join(profileDir, "container_736fae2554da315f33ec5b6cd50e351.yaml")
	notGzip := filepath.Join(t.TempDir(), "x.jsonl.gz")
	require.NoError(t, os.WriteFile(notGzip, []byte("{}\n"), 0o600))
	emptyDir := t.TempDir()
	cases := []struct {
		name string
		args []string
		code int
		err  string
	}{
		{"no command", nil, 1, "usage: profiles learn"},
		{"unknown command", []string{"lern"}, 1, `unknown command "lern"`},
		{"learn without --out", []string{"learn", events}, 1, "--out DIR is required"},
		{"learn without inputs", []string{"learn", "--out", t.TempDir()}, 1, "no input files"},
		{"learn missing input", []string{"learn", "--out", t.TempDir(), "/nonexistent/x.jsonl"}, 1, "/nonexistent/x.jsonl"},
		{"learn empty directory", []string{"learn", "--out", t.TempDir(), emptyDir}, 1, "no *.jsonl or *.jsonl.gz files"},
		{"learn broken gzip", []string{"learn", "--out", t.TempDir(), notGzip}, 1, notGzip},
		{"learn bad settings", []string{"learn", "--out", t.TempDir(), "--period", "0", "--quiet-windows", "0", events}, 1, "learning never ends"},
		{"learn bad cidr", []string{"learn", "--out", t.TempDir(), "--cluster-cidr", "10.0.0.0", events}, 1, "not a CIDR"},
		{"learn unknown flag", []string{"learn", "--enforcing", "--out", t.TempDir(), events}, 1, "flag provided but not defined: -enforcing"},
		{"diff one argument", []string{"diff", aProfile}, 2, "want two profile files"},
		{"diff missing file", []string{"diff", aProfile, "/nonexistent.yaml"}, 2, "/nonexistent.yaml"},
		{"diff file and directory", []string{"diff", aProfile, profileDir}, 2, "compare two files or two directories"},
		{"diff events, not a profile", []string{"diff", aProfile, notGzip}, 2, notGzip},
		{"merge without --out", []string{"merge", aProfile}, 1, "--out FILE|DIR is required"},
		{"merge without inputs", []string{"merge", "--out", t.TempDir()}, 1, "no profiles to merge"},
		{"show without inputs", []string{"show"}, 1, "no profiles to show"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, _, errs := runTool(t, c.args...)
			assert.Equal(t, c.code, code, errs)
			assert.Contains(t, errs, c.err)
		})
	}
	code, out, _ := runTool(t, "help")
	assert.Equal(t, 0, code)
	assert.Contains(t, out, "Exit status: 0 profiles written; 1 usage or input error")
	code, _, _ = runTool(t, "learn", "-h")
	assert.Equal(t, 0, code)
}
