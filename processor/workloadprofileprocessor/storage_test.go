// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package workloadprofileprocessor

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/metric/metricdata/metricdatatest"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/attrkey"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/storagetest"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/testenv"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/processor/workloadprofileprocessor/internal/metadatatest"
)

func storageConfig() *Config {
	cfg := testConfig()
	id := storageID
	cfg.Storage = &id
	return cfg
}

func startWith(t *testing.T, cfg *Config, host component.Host) (*profileProcessor, *componenttest.Telemetry) {
	t.Helper()
	p, tel := newTestProcessor(t, cfg)
	require.NoError(t, p.start(context.Background(), host))
	return p, tel
}

func TestRestartKeepsLearnedState(t *testing.T) {
	st := storagetest.New()
	benign, attack := benignRecs(t), attackRecs(t)

	// First run: learn, then enforce (a record after the learning period).
	p1, _ := startWith(t, storageConfig(), hostWithStorage(st))
	after := learn(t, p1, benign)
	require.Equal(t, attrkey.ProfileStateEnforcing, process(t, p1, logsOf(benign[:1], after))[0].state)
	require.NoError(t, p1.shutdown(context.Background()))
	require.Equal(t, 1, st.Sets(), "saved at shutdown")
	require.NotEmpty(t, st.Value(stateKey))

	// Second run on the same storage: enforcing from the first record, no relearning.
	p2, tel := startWith(t, storageConfig(), hostWithStorage(st))
	defer func() { require.NoError(t, p2.shutdown(context.Background())) }()
	metadatatest.AssertEqualProcessorWorkloadProfileWorkloads(t, tel, []metricdata.DataPoint[int64]{
		{Value: 0, Attributes: attribute.NewSet(attribute.String("state", "learning"))},
		{Value: 1, Attributes: attribute.NewSet(attribute.String("state", "enforcing"))},
		{Value: 0, Attributes: attribute.NewSet(attribute.String("state", "file"))},
	}, metricdatatest.IgnoreTimestamp())
	ms := process(t, p2, logsOf(attack, 0))
	kinds, _ := novelKinds(ms)
	assert.Positive(t, kinds[attrkey.ProfileKindExec])
	for _, m := range ms {
		assert.Equal(t, attrkey.ProfileStateEnforcing, m.state)
	}
	// The learned behaviour is still known.
	for _, m := range process(t, p2, logsOf(benign, after)) {
		assert.False(t, m.hasNovel, "%s %s: %v", m.event, m.exe, m.novel)
	}
}

func TestPeriodicSaveOnlyWhenChanged(t *testing.T) {
	st := storagetest.New()
	cfg := storageConfig()
	cfg.SaveInterval = 20 * time.Millisecond // below the config minimum: tests only
	p, _ := startWith(t, cfg, hostWithStorage(st))
	benign := benignRecs(t)
	learn(t, p, benign)
	testenv.Eventually(t, 10*time.Second, "a periodic save", func() bool { return st.Sets() >= 1 })
	time.Sleep(100 * time.Millisecond)
	sets := st.Sets()
	// Known records change nothing: no further save.
	process(t, p, logsOf(benign, 0))
	time.Sleep(100 * time.Millisecond)
	assert.Equal(t, sets, st.Sets(), "saved although nothing changed")
	require.NoError(t, p.shutdown(context.Background()))
	assert.Equal(t, sets, st.Sets(), "shutdown saved although nothing changed")
}

func TestStorageErrorsAreNotFatal(t *testing.T) {
	st := storagetest.New()
	st.Fail(true, true)
	p, tel := startWith(t, storageConfig(), hostWithStorage(st))
	benign := benignRecs(t)
	learn(t, p, benign)
	require.NoError(t, p.shutdown(context.Background()))
	metadatatest.AssertEqualProcessorWorkloadProfileStorageErrors(t, tel, []metricdata.DataPoint[int64]{
		{Value: 1, Attributes: attribute.NewSet(attribute.String("operation", "load"))},
		{Value: 1, Attributes: attribute.NewSet(attribute.String("operation", "save"))},
	}, metricdatatest.IgnoreTimestamp())
}

func TestCorruptStoredStateLearnsAgain(t *testing.T) {
	st := storagetest.New()
	st.SetValue(stateKey, []byte(`{"v":1,"profiles":[{"oops"`))
	p, tel := startWith(t, storageConfig(), hostWithStorage(st))
	defer func() { require.NoError(t, p.shutdown(context.Background())) }()
	benign := benignRecs(t)
	assert.Equal(t, attrkey.ProfileStateLearning, process(t, p, logsOf(benign[:1], 0))[0].state)
	metadatatest.AssertEqualProcessorWorkloadProfileStorageErrors(t, tel, []metricdata.DataPoint[int64]{
		{Value: 1, Attributes: attribute.NewSet(attribute.String("operation", "decode"))},
	}, metricdatatest.IgnoreTimestamp())
}

func TestStorageExtensionMisconfigured(t *testing.T) {
	p, _ := newTestProcessor(t, storageConfig())
	err := p.start(context.Background(), componenttest.NewNopHost())
	require.EqualError(t, err, `storage: extension "file_storage" not found; configure it under extensions and list it in service.extensions`)
	require.NoError(t, p.shutdown(context.Background()))

	p, _ = newTestProcessor(t, storageConfig())
	notStorage := struct {
		component.StartFunc
		component.ShutdownFunc
	}{}
	err = p.start(context.Background(), hostWithStorage(notStorage))
	require.EqualError(t, err, `storage: extension "file_storage" is not a storage extension (e.g. file_storage)`)
	require.NoError(t, p.shutdown(context.Background()))
}

// TestFactoryLifecycleWithStorage runs the processor as the collector does,
// through the factory, Start and Shutdown.
func TestFactoryLifecycleWithStorage(t *testing.T) {
	st := storagetest.New()
	benign := benignRecs(t)
	run := func() []marks {
		sink := new(consumertest.LogsSink)
		set := metadatatest.NewSettings(componenttest.NewTelemetry())
		proc, err := NewFactory().CreateLogs(context.Background(), set, storageConfig(), sink)
		require.NoError(t, err)
		require.True(t, proc.Capabilities().MutatesData)
		require.NoError(t, proc.Start(context.Background(), hostWithStorage(st)))
		require.NoError(t, proc.ConsumeLogs(context.Background(), logsOf(benign, 0)))
		require.NoError(t, proc.ConsumeLogs(context.Background(), logsOf(benign[:1], 2*time.Hour)))
		require.NoError(t, proc.Shutdown(context.Background()))
		var ms []marks
		for _, ld := range sink.AllLogs() {
			ms = append(ms, marksOf(ld)...)
		}
		return ms
	}
	first := run()
	assert.Equal(t, attrkey.ProfileStateLearning, first[0].state)
	assert.Equal(t, attrkey.ProfileStateEnforcing, first[len(first)-1].state)
	second := run()
	for _, m := range second {
		assert.Equal(t, attrkey.ProfileStateEnforcing, m.state)
	}
}
