// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package workloadprofileprocessor

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/metric/metricdata/metricdatatest"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/attrkey"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/corpusrec"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/processor/workloadprofileprocessor/internal/metadatatest"
)

// learn runs the benign records through p (the profile learns them) and
// returns when the benign workload's learning period ends in event time:
// records replayed with a shift of `after` are judged by the enforcing
// profile.
func learn(t *testing.T, p *profileProcessor, benign []rec) (after time.Duration) {
	t.Helper()
	for _, m := range process(t, p, logsOf(benign, 0)) {
		require.Equal(t, attrkey.ProfileStateLearning, m.state, "%s %s", m.event, m.exe)
		require.Equal(t, benignWorkload, m.workload)
		require.False(t, m.hasNovel, "a learning profile marked %s %s novel: %v", m.event, m.exe, m.novel)
	}
	return p.cfg.Learning.Period + time.Minute
}

func TestLearnThenEnforceOnRealRecords(t *testing.T) {
	p, tel := newTestProcessor(t, testConfig())
	benign, attack := benignRecs(t), attackRecs(t)
	after := learn(t, p, benign)

	// The learned behaviour again, an hour later: enforcing, nothing novel.
	ms := process(t, p, logsOf(benign, after))
	for _, m := range ms {
		assert.Equal(t, attrkey.ProfileStateEnforcing, m.state)
		assert.False(t, m.hasNovel, "benign %s %s marked novel: %v", m.event, m.exe, m.novel)
	}
	// The same run as streamed over gRPC (another serialisation): nothing novel.
	grpc := corpusrec.OfContainer(corpusrec.Load(t, "captured/main-grpc.jsonl.gz"), corpusrec.Benign, corpusrec.Benign)
	kinds, quiet := novelKinds(process(t, p, logsOf(grpc, after)))
	assert.Empty(t, kinds)
	assert.Equal(t, len(grpc), quiet)

	// The attack run in the same workload (its own times are 11 days later).
	ms = process(t, p, logsOf(attack, 0))
	kinds, quiet = novelKinds(ms)
	t.Logf("attack replay: %d records, %d without novelty, novelties %v", len(ms), quiet, kinds)
	for _, k := range []string{attrkey.ProfileKindExec, attrkey.ProfileKindFile, attrkey.ProfileKindSyscall} {
		assert.Positive(t, kinds[k], "no %s novelty in the attack replay", k)
	}
	assert.Positive(t, quiet, "every attack record was novel: the learned runc → /bin/sh should not be")
	sysx := false
	for _, m := range ms {
		assert.Equal(t, attrkey.ProfileStateEnforcing, m.state)
		assert.Equal(t, benignWorkload, m.workload)
		if m.event == "tetragon.process_exec" && m.exe == "/usr/local/bin/sysx" {
			sysx = true
			assert.Contains(t, m.novel, attrkey.ProfileKindExec)
		}
	}
	assert.True(t, sysx, "no sysx exec in the attack run")

	// Metrics, from Set.Stats at collection time.
	metadatatest.AssertEqualProcessorWorkloadProfileWorkloads(t, tel, []metricdata.DataPoint[int64]{
		{Value: 0, Attributes: attribute.NewSet(attribute.String("state", "learning"))},
		{Value: 1, Attributes: attribute.NewSet(attribute.String("state", "enforcing"))},
		{Value: 0, Attributes: attribute.NewSet(attribute.String("state", "file"))},
	}, metricdatatest.IgnoreTimestamp())
	st := p.profiles.Stats()
	metadatatest.AssertEqualProcessorWorkloadProfileNovelties(t, tel, []metricdata.DataPoint[int64]{
		{Value: int64(st.Novel[0]), Attributes: attribute.NewSet(attribute.String("kind", "exec"))},
		{Value: int64(st.Novel[1]), Attributes: attribute.NewSet(attribute.String("kind", "file"))},
		{Value: int64(st.Novel[2]), Attributes: attribute.NewSet(attribute.String("kind", "syscall"))},
		{Value: int64(st.Novel[3]), Attributes: attribute.NewSet(attribute.String("kind", "network"))},
	}, metricdatatest.IgnoreTimestamp())
	assert.Equal(t, uint64(kinds[attrkey.ProfileKindExec]), st.Novel[0])
	metadatatest.AssertEqualProcessorWorkloadProfileItems(t, tel, []metricdata.DataPoint[int64]{{Value: int64(st.Items.Total())}}, metricdatatest.IgnoreTimestamp())
	metadatatest.AssertEqualProcessorWorkloadProfileLargestItems(t, tel, []metricdata.DataPoint[int64]{{Value: int64(st.MaxItems)}}, metricdatatest.IgnoreTimestamp())
	assert.Positive(t, st.MaxItems)
	metadatatest.AssertEqualProcessorWorkloadProfileImageRestarts(t, tel, []metricdata.DataPoint[int64]{{Value: 0}}, metricdatatest.IgnoreTimestamp())
	metadatatest.AssertEqualProcessorWorkloadProfileUnprofiledRecords(t, tel, []metricdata.DataPoint[int64]{{Value: 0}}, metricdatatest.IgnoreTimestamp())
}

func TestLearningNeverMarksNovel(t *testing.T) {
	cfg := testConfig()
	cfg.Learning.Period = 30 * 24 * time.Hour // the attack run, 11 days later, is still learning
	p, tel := newTestProcessor(t, cfg)
	learn(t, p, benignRecs(t))
	for _, m := range process(t, p, logsOf(attackRecs(t), 0)) {
		assert.Equal(t, attrkey.ProfileStateLearning, m.state)
		assert.False(t, m.hasNovel, "%s %s: %v", m.event, m.exe, m.novel)
	}
	metadatatest.AssertEqualProcessorWorkloadProfileWorkloads(t, tel, []metricdata.DataPoint[int64]{
		{Value: 1, Attributes: attribute.NewSet(attribute.String("state", "learning"))},
		{Value: 0, Attributes: attribute.NewSet(attribute.String("state", "enforcing"))},
		{Value: 0, Attributes: attribute.NewSet(attribute.String("state", "file"))},
	}, metricdatatest.IgnoreTimestamp())
}

func TestQuietWindowsEndLearning(t *testing.T) {
	cfg := testConfig()
	cfg.Learning.Period = 0
	cfg.Learning.Window, cfg.Learning.QuietWindows = time.Minute, 2
	p, _ := newTestProcessor(t, cfg)
	benign := benignRecs(t)
	learn(t, p, benign)
	// The same behaviour in three later windows adds nothing: enforcing.
	for i := 1; i <= 3; i++ {
		process(t, p, logsOf(benign[:1], time.Duration(i)*time.Hour))
	}
	ms := process(t, p, logsOf(attackRecs(t), 0))
	kinds, _ := novelKinds(ms)
	assert.Equal(t, attrkey.ProfileStateEnforcing, ms[0].state)
	assert.Positive(t, kinds[attrkey.ProfileKindExec])
}

func TestHostRecordsPassUntouched(t *testing.T) {
	p, tel := newTestProcessor(t, testConfig())
	all := corpusrec.Load(t, "captured/main-export.jsonl.gz")
	var host []rec
	for _, r := range all {
		if _, ok := r.Res.Get(attrkey.ContainerID); !ok {
			if _, ok := r.Res.Get(attrkey.K8sPodName); !ok {
				host = append(host, r)
			}
		}
	}
	require.NotEmpty(t, host)
	in := logsOf(host, 0)
	want := plog.NewLogs()
	in.CopyTo(want)
	out, err := p.processLogs(context.Background(), in)
	require.NoError(t, err)
	assert.Equal(t, want, out)
	metadatatest.AssertEqualProcessorWorkloadProfileWorkloads(t, tel, []metricdata.DataPoint[int64]{
		{Value: 0, Attributes: attribute.NewSet(attribute.String("state", "learning"))},
		{Value: 0, Attributes: attribute.NewSet(attribute.String("state", "enforcing"))},
		{Value: 0, Attributes: attribute.NewSet(attribute.String("state", "file"))},
	}, metricdatatest.IgnoreTimestamp())
}

func TestStaleNovelMarkIsRemoved(t *testing.T) {
	p, _ := newTestProcessor(t, testConfig())
	benign := benignRecs(t)
	after := learn(t, p, benign)
	ld := logsOf(benign[:1], after)
	ld.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0).Attributes().PutEmptySlice(attrkey.ProfileNovel).AppendEmpty().SetStr("exec")
	m := process(t, p, ld)[0]
	assert.Equal(t, attrkey.ProfileStateEnforcing, m.state)
	assert.False(t, m.hasNovel)
}

func TestWorkloadCapCountsUnprofiled(t *testing.T) {
	cfg := testConfig()
	cfg.Limits.MaxWorkloads = 1
	p, tel := newTestProcessor(t, cfg)
	benign := benignRecs(t)
	other := corpusrec.OfContainer(benign, corpusrec.Benign, "0123456789abcdef0123456789abcde")
	process(t, p, logsOf(benign[:1], 0))
	for _, m := range process(t, p, logsOf(other, 0)) {
		assert.Empty(t, m.state, "a workload over the cap was profiled")
		assert.Empty(t, m.workload)
	}
	metadatatest.AssertEqualProcessorWorkloadProfileUnprofiledRecords(t, tel, []metricdata.DataPoint[int64]{{Value: int64(len(other))}}, metricdatatest.IgnoreTimestamp())
}

func TestImageChangeRestartsLearning(t *testing.T) {
	p, tel := newTestProcessor(t, testConfig())
	// The benign records as a Deployment's pod (the capture has no
	// Kubernetes metadata): the image is a version of the workload, not part
	// of its key.
	inPod := func(rs []rec, img string) []rec {
		out := make([]rec, len(rs))
		for i, r := range rs {
			out[i] = rec{Res: copyMap(r.Res), LR: r.LR}
			out[i].Res.PutStr(attrkey.K8sNamespaceName, "shop")
			out[i].Res.PutStr(attrkey.K8sPodName, "web-7d9f-abcde")
			out[i].Res.PutStr(attrkey.K8sWorkloadKind, "Deployment")
			out[i].Res.PutStr(attrkey.K8sWorkloadName, "web")
			out[i].Res.PutStr(attrkey.K8sContainerName, "app")
			out[i].Res.PutStr(attrkey.ContainerImageName, img)
		}
		return out
	}
	const workload = "shop/Deployment/web/app"
	benign := benignRecs(t)
	for _, m := range process(t, p, logsOf(inPod(benign, "registry.example/web:1.0"), 0)) {
		require.Equal(t, workload, m.workload)
	}
	after := p.cfg.Learning.Period + time.Minute
	ms := process(t, p, logsOf(inPod(benign[:3], "registry.example/web:1.0"), after))
	require.Equal(t, attrkey.ProfileStateEnforcing, ms[0].state)

	// A new image: learning again, nothing marked novel.
	for _, m := range process(t, p, logsOf(inPod(attackRecs(t)[:20], "registry.example/web:2.0"), after)) {
		assert.Equal(t, attrkey.ProfileStateLearning, m.state)
		assert.Equal(t, workload, m.workload)
		assert.False(t, m.hasNovel)
	}
	// The old image's pods during the grace period: not profiled, untouched.
	for _, m := range process(t, p, logsOf(inPod(benign[:3], "registry.example/web:1.0"), after+time.Minute)) {
		assert.Empty(t, m.state)
		assert.Empty(t, m.workload)
	}
	metadatatest.AssertEqualProcessorWorkloadProfileImageRestarts(t, tel, []metricdata.DataPoint[int64]{{Value: 1}}, metricdatatest.IgnoreTimestamp())
}

func TestPrune(t *testing.T) {
	cfg := testConfig()
	cfg.PruneAfter = 2 * time.Hour
	p, _ := newTestProcessor(t, cfg)
	benign := benignRecs(t)
	learn(t, p, benign)
	p.now = func() time.Time { return lastTime(benign).Add(time.Hour) }
	p.prune()
	assert.Equal(t, 1, p.profiles.Stats().Learning)
	p.now = func() time.Time { return lastTime(benign).Add(3 * time.Hour) }
	p.prune()
	assert.Equal(t, 0, p.profiles.Stats().Learning)
}

func TestNovelSliceOrder(t *testing.T) {
	p, _ := newTestProcessor(t, testConfig())
	after := learn(t, p, benignRecs(t))
	for _, m := range process(t, p, logsOf(attackRecs(t), after)) {
		assert.True(t, slices.IsSortedFunc(m.novel, func(a, b string) int {
			return slices.Index(kindsOrder, a) - slices.Index(kindsOrder, b)
		}), "%v", m.novel)
	}
}

var kindsOrder = []string{attrkey.ProfileKindExec, attrkey.ProfileKindFile, attrkey.ProfileKindSyscall, attrkey.ProfileKindNetwork}
