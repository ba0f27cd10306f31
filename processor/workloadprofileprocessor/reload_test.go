// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package workloadprofileprocessor

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/metric/metricdata/metricdatatest"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/attrkey"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/corpusrec"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/testenv"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/workloadprofile"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/processor/workloadprofileprocessor/internal/metadatatest"
)

// profileFile learns rs into the benign container's profile, as
// `bin/profiles learn` would, and returns its YAML file.
func profileFile(t *testing.T, rs ...[]rec) []byte {
	t.Helper()
	cfg := workloadprofile.DefaultConfig()
	cfg.LearningPeriod, cfg.QuietWindows = 0, 0 // learn everything given, whatever its time
	p := workloadprofile.NewProfile(workloadprofile.Key{ContainerID: corpusrec.Benign}, "", cfg)
	for _, r := range rs {
		for _, x := range r {
			p.Observe(workloadprofile.RecordOf(x.Res, x.LR))
		}
	}
	p.Enforce(p.LastSeen())
	b, err := workloadprofile.Marshal(p)
	require.NoError(t, err)
	return b
}

func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	tmp := path + ".tmp"
	require.NoError(t, os.WriteFile(tmp, data, 0o600))
	require.NoError(t, os.Rename(tmp, path)) // atomic, as a ConfigMap update
}

// sysxMarks returns the marks of the attack run's sysx exec.
func sysxMarks(t *testing.T, p *profileProcessor, attack []rec) marks {
	t.Helper()
	for _, m := range process(t, p, logsOf(attack, 0)) {
		if m.event == "tetragon.process_exec" && m.exe == "/usr/local/bin/sysx" {
			return m
		}
	}
	t.Fatal("no sysx exec")
	return marks{}
}

func execsOf(rs []rec, exe string) []rec {
	var out []rec
	for _, r := range rs {
		if v, ok := r.LR.Attributes().Get(attrkey.ProcessExecutablePath); ok && v.Str() == exe && r.LR.EventName() == "tetragon.process_exec" {
			out = append(out, r)
		}
	}
	return out
}

func TestProfilesFileIsAuthoritative(t *testing.T) {
	dir := t.TempDir()
	benign, attack := benignRecs(t), attackRecs(t)
	writeFile(t, filepath.Join(dir, "benign.yaml"), profileFile(t, benign))
	cfg := testConfig()
	cfg.ProfilesFiles = []string{filepath.Join(dir, "*.yaml")}
	p, tel := newTestProcessor(t, cfg)

	// No learning: the file profile judges the very first records.
	for _, m := range process(t, p, logsOf(benign, 0)) {
		assert.Equal(t, attrkey.ProfileStateFile, m.state)
		assert.Equal(t, benignWorkload, m.workload)
		assert.False(t, m.hasNovel, "benign %s %s: %v", m.event, m.exe, m.novel)
	}
	ms := process(t, p, logsOf(attack, 0))
	kinds, quiet := novelKinds(ms)
	t.Logf("attack against the file profile: %d records, %d quiet, %v", len(ms), quiet, kinds)
	for _, k := range []string{attrkey.ProfileKindExec, attrkey.ProfileKindFile, attrkey.ProfileKindSyscall} {
		assert.Positive(t, kinds[k], k)
	}
	for _, m := range ms {
		assert.Equal(t, attrkey.ProfileStateFile, m.state)
	}
	// A file profile never learns: the same attack is novel again.
	kinds2, _ := novelKinds(process(t, p, logsOf(attack, 0)))
	assert.Equal(t, kinds, kinds2)
	metadatatest.AssertEqualProcessorWorkloadProfileWorkloads(t, tel, []metricdata.DataPoint[int64]{
		{Value: 0, Attributes: attribute.NewSet(attribute.String("state", "learning"))},
		{Value: 0, Attributes: attribute.NewSet(attribute.String("state", "enforcing"))},
		{Value: 1, Attributes: attribute.NewSet(attribute.String("state", "file"))},
	}, metricdatatest.IgnoreTimestamp())
}

func TestProfilesFileReloadAndRejectInvalid(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "benign.yaml")
	benign, attack := benignRecs(t), attackRecs(t)
	writeFile(t, f, profileFile(t, benign))
	cfg := testConfig()
	cfg.ProfilesFiles = []string{filepath.Join(dir, "*.yaml")}
	p, tel := newTestProcessor(t, cfg)
	require.Contains(t, sysxMarks(t, p, attack).novel, attrkey.ProfileKindExec)

	// Unchanged: no reload.
	assert.False(t, p.reloader.check())

	// The reviewed file now allows sysx (and its parent): not novel.
	writeFile(t, f, profileFile(t, benign, execsOf(attack, "/usr/local/bin/sysx")))
	require.True(t, p.reloader.check())
	m := sysxMarks(t, p, attack)
	assert.Equal(t, attrkey.ProfileStateFile, m.state)
	assert.NotContains(t, m.novel, attrkey.ProfileKindExec)

	// A broken file is rejected once; the previous profiles keep running.
	require.NoError(t, os.WriteFile(f, []byte("kind: WorkloadProfile\nversion: 1\nworkload: {containerID: "+corpusrec.Benign+"}\nexec: {executables: [/bin/sh]}\nsurprise: 1\n"), 0o600))
	assert.False(t, p.reloader.check())
	assert.False(t, p.reloader.check(), "the same bad file is reported once")
	m = sysxMarks(t, p, attack)
	assert.Equal(t, attrkey.ProfileStateFile, m.state)
	assert.NotContains(t, m.novel, attrkey.ProfileKindExec)
	metadatatest.AssertEqualProcessorWorkloadProfileReloadFailures(t, tel, []metricdata.DataPoint[int64]{
		{Value: 1, Attributes: attribute.NewSet(attribute.String("reason", "parse"))},
	}, metricdatatest.IgnoreTimestamp())

	// Two files for one workload: rejected, naming both.
	writeFile(t, f, profileFile(t, benign))
	writeFile(t, filepath.Join(dir, "copy.yaml"), profileFile(t, benign))
	assert.False(t, p.reloader.check())
	metadatatest.AssertEqualProcessorWorkloadProfileReloadFailures(t, tel, []metricdata.DataPoint[int64]{
		{Value: 2, Attributes: attribute.NewSet(attribute.String("reason", "parse"))},
	}, metricdatatest.IgnoreTimestamp())

	// Files removed: no file profile any more; the workload learns.
	require.NoError(t, os.Remove(f))
	require.NoError(t, os.Remove(filepath.Join(dir, "copy.yaml")))
	require.True(t, p.reloader.check())
	assert.Equal(t, attrkey.ProfileStateLearning, sysxMarks(t, p, attack).state)
	metadatatest.AssertEqualProcessorWorkloadProfileReloads(t, tel, []metricdata.DataPoint[int64]{{Value: 2}}, metricdatatest.IgnoreTimestamp())
}

func TestProfilesFileMissingPlainPathIsReadFailure(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "benign.yaml")
	benign, attack := benignRecs(t), attackRecs(t)
	writeFile(t, f, profileFile(t, benign))
	cfg := testConfig()
	cfg.ProfilesFiles = []string{f}
	p, tel := newTestProcessor(t, cfg)
	require.NoError(t, os.Remove(f))
	assert.False(t, p.reloader.check())
	assert.Equal(t, attrkey.ProfileStateFile, sysxMarks(t, p, attack).state, "the previous file profile stays")
	metadatatest.AssertEqualProcessorWorkloadProfileReloadFailures(t, tel, []metricdata.DataPoint[int64]{
		{Value: 1, Attributes: attribute.NewSet(attribute.String("reason", "read"))},
	}, metricdatatest.IgnoreTimestamp())
}

func TestBadProfilesFileFailsCreate(t *testing.T) {
	cfg := testConfig()
	cfg.ProfilesFiles = []string{"testdata/invalid-profile.yaml"}
	_, err := newProcessor(metadatatest.NewSettings(componenttest.NewTelemetry()), cfg)
	require.ErrorContains(t, err, `profiles_files: testdata/invalid-profile.yaml: line 5: unknown field "surprise"`)
}

// TestProfilesFileWatched proves the fsnotify path: a new file in the
// watched directory is activated without the periodic check.
func TestProfilesFileWatched(t *testing.T) {
	dir := t.TempDir()
	benign, attack := benignRecs(t), attackRecs(t)
	cfg := testConfig()
	cfg.ProfilesFiles = []string{filepath.Join(dir, "*.yaml")}
	p, _ := newTestProcessor(t, cfg)
	require.NoError(t, p.start(t.Context(), componenttest.NewNopHost()))
	t.Cleanup(func() { require.NoError(t, p.shutdown(t.Context())) })
	assert.Equal(t, attrkey.ProfileStateLearning, sysxMarks(t, p, attack).state)
	writeFile(t, filepath.Join(dir, "benign.yaml"), profileFile(t, benign))
	testenv.Eventually(t, 10*time.Second, "the new profile file activated", func() bool {
		return p.profiles.Stats().File == 1
	})
	assert.Equal(t, attrkey.ProfileStateFile, sysxMarks(t, p, attack).state)
}

// TestProfilesFilePeriodicCheck: without notifications, reload_interval
// finds the change.
func TestProfilesFilePeriodicCheck(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig()
	cfg.ProfilesFiles = []string{filepath.Join(dir, "*.yaml")}
	cfg.ReloadInterval = 50 * time.Millisecond // below the config minimum: tests only
	p, _ := newTestProcessor(t, cfg)
	p.reloader.noNotify = true
	require.NoError(t, p.start(t.Context(), componenttest.NewNopHost()))
	t.Cleanup(func() { require.NoError(t, p.shutdown(t.Context())) })
	writeFile(t, filepath.Join(dir, "benign.yaml"), profileFile(t, benignRecs(t)))
	testenv.Eventually(t, 10*time.Second, "the new profile file activated", func() bool {
		return p.profiles.Stats().File == 1
	})
}
