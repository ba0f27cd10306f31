// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package detectionprocessor

import (
	"context"
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
	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/testenv"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/processor/detectionprocessor/internal/metadatatest"
)

func ruleYAML(name, exe string) string {
	return `
rules:
  - name: ` + name + `
    description: d
    category: c
    severity: warning
    event: tetragon.process_exec
    condition: attributes["process.executable.name"] == "` + exe + `"
`
}

const brokenYAML = `
rules:
  - name: Broken
    description: d
    category: c
    severity: warning
    event: tetragon.process_exec
    condition: attributes["x"] === 1
`

// ruleFor returns the security_rule.name the processor gives an exec of exe.
func ruleFor(t *testing.T, p *detectionProcessor, exe string) string {
	t.Helper()
	ld, err := p.processLogs(context.Background(), logsOf(t, execRec("d", "p", exe, "x")))
	require.NoError(t, err)
	v, ok := firstRecord(ld).Attributes().Get(attrkey.RuleName)
	if !ok {
		return ""
	}
	return v.Str()
}

func TestReloadOnRewriteAndRejectInvalid(t *testing.T) {
	dir := t.TempDir()
	f := testenv.WriteFile(t, dir, "rules.yaml", ruleYAML("V1", "vi"))
	cfg := testConfig()
	cfg.RulesFiles = []string{f}
	p, tel := newTestProcessor(t, cfg)
	require.Equal(t, "V1", ruleFor(t, p, "vi"))

	// Unchanged content: no reload.
	assert.False(t, p.reloader.check())

	testenv.WriteFile(t, dir, "rules.yaml", ruleYAML("V2", "nano"))
	require.True(t, p.reloader.check())
	assert.Equal(t, "", ruleFor(t, p, "vi"))
	assert.Equal(t, "V2", ruleFor(t, p, "nano"))

	// An invalid file is rejected once and the old rules keep running.
	testenv.WriteFile(t, dir, "rules.yaml", brokenYAML)
	assert.False(t, p.reloader.check())
	assert.False(t, p.reloader.check(), "the same bad content is not retried")
	assert.Equal(t, "V2", ruleFor(t, p, "nano"))

	// A missing file is a read failure; the old rules keep running.
	require.NoError(t, os.Remove(f))
	assert.False(t, p.reloader.check())
	assert.Equal(t, "V2", ruleFor(t, p, "nano"))

	// An empty file (a truncated ConfigMap) is rejected too: it does not remove the site's rules.
	testenv.WriteFile(t, dir, "rules.yaml", "# nothing here\n")
	assert.False(t, p.reloader.check())
	assert.Equal(t, "V2", ruleFor(t, p, "nano"))
	// Saying so explicitly is a good reload.
	testenv.WriteFile(t, dir, "rules.yaml", "rules: []\n")
	require.True(t, p.reloader.check())
	assert.Equal(t, "", ruleFor(t, p, "nano"))

	testenv.WriteFile(t, dir, "rules.yaml", ruleYAML("V3", "vim"))
	require.True(t, p.reloader.check())
	assert.Equal(t, "V3", ruleFor(t, p, "vim"))

	metadatatest.AssertEqualProcessorDetectionReloads(t, tel, []metricdata.DataPoint[int64]{{Value: 3}}, metricdatatest.IgnoreTimestamp())
	metadatatest.AssertEqualProcessorDetectionReloadFailures(t, tel, []metricdata.DataPoint[int64]{
		{Value: 2, Attributes: attribute.NewSet(attribute.String("reason", "compile"), attribute.String("file", f))},
		{Value: 1, Attributes: attribute.NewSet(attribute.String("reason", "read"), attribute.String("file", f))},
	}, metricdatatest.IgnoreTimestamp())
}

func waitForRule(t *testing.T, p *detectionProcessor, exe, want string) {
	t.Helper()
	require.Eventually(t, func() bool { return ruleFor(t, p, exe) == want }, 10*time.Second, 20*time.Millisecond,
		"rule %q never became active for %s", want, exe)
}

func TestWatcherSeesWritesAndConfigMapSymlinkSwap(t *testing.T) {
	// Lay out a directory the way the kubelet mounts a ConfigMap:
	//   rules.yaml -> ..data/rules.yaml, ..data -> ..v1
	dir := t.TempDir()
	require.NoError(t, os.Mkdir(filepath.Join(dir, "..v1"), 0o755))
	testenv.WriteFile(t, filepath.Join(dir, "..v1"), "rules.yaml", ruleYAML("CM1", "vi"))
	require.NoError(t, os.Symlink("..v1", filepath.Join(dir, "..data")))
	require.NoError(t, os.Symlink(filepath.Join("..data", "rules.yaml"), filepath.Join(dir, "rules.yaml")))

	cfg := testConfig()
	cfg.RulesFiles = []string{filepath.Join(dir, "rules.yaml")}
	cfg.ReloadInterval = 0 // notifications only
	p, tel := newTestProcessor(t, cfg)
	require.NoError(t, p.start(context.Background(), componenttest.NewNopHost()))
	require.Equal(t, "CM1", ruleFor(t, p, "vi"))

	// The kubelet's atomic update: new timestamped dir, new ..data_tmp
	// symlink renamed over ..data, old dir removed.
	require.NoError(t, os.Mkdir(filepath.Join(dir, "..v2"), 0o755))
	testenv.WriteFile(t, filepath.Join(dir, "..v2"), "rules.yaml", ruleYAML("CM2", "nano"))
	require.NoError(t, os.Symlink("..v2", filepath.Join(dir, "..data_tmp")))
	require.NoError(t, os.Rename(filepath.Join(dir, "..data_tmp"), filepath.Join(dir, "..data")))
	require.NoError(t, os.RemoveAll(filepath.Join(dir, "..v1")))
	waitForRule(t, p, "nano", "CM2")
	assert.Equal(t, "", ruleFor(t, p, "vi"))

	// An invalid update is rejected; CM2 stays.
	require.NoError(t, os.Mkdir(filepath.Join(dir, "..v3"), 0o755))
	testenv.WriteFile(t, filepath.Join(dir, "..v3"), "rules.yaml", brokenYAML)
	require.NoError(t, os.Symlink("..v3", filepath.Join(dir, "..data_tmp")))
	require.NoError(t, os.Rename(filepath.Join(dir, "..data_tmp"), filepath.Join(dir, "..data")))
	require.Eventually(t, func() bool {
		m, err := tel.GetMetric("otelcol_processor_detection_reload_failures")
		return err == nil && len(m.Data.(metricdata.Sum[int64]).DataPoints) == 1
	}, 10*time.Second, 20*time.Millisecond)
	assert.Equal(t, "CM2", ruleFor(t, p, "nano"))
}

func TestWatcherPlainFileRewriteAndPolling(t *testing.T) {
	dir := t.TempDir()
	f := testenv.WriteFile(t, dir, "rules.yaml", ruleYAML("P1", "vi"))
	cfg := testConfig()
	cfg.RulesFiles = []string{f}
	cfg.ReloadInterval = time.Second
	p, _ := newTestProcessor(t, cfg)
	require.NoError(t, p.start(context.Background(), componenttest.NewNopHost()))

	testenv.WriteFile(t, dir, "rules.yaml", ruleYAML("P2", "nano"))
	waitForRule(t, p, "nano", "P2")

	// The periodic check alone (no notifications) also picks changes up.
	p.reloader.stop()
	p.reloader.noNotify = true
	require.NoError(t, p.reloader.start())
	testenv.WriteFile(t, dir, "rules.yaml", ruleYAML("P3", "vim"))
	waitForRule(t, p, "vim", "P3")
}
