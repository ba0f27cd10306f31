// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package detectionmetricsconnector

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/connector/connectortest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/connector/detectionmetricsconnector/internal/metadata"
)

// TestPipelineFlushesOnTickAndShutdown builds the connector through its
// factory as a collector pipeline does, and checks that the ticker and
// Shutdown deliver the cumulative state downstream.
func TestPipelineFlushesOnTickAndShutdown(t *testing.T) {
	f := NewFactory()
	cfg := f.CreateDefaultConfig().(*Config)
	cfg.FlushInterval = time.Second
	sink := new(consumertest.MetricsSink)
	conn, err := f.CreateLogsToMetrics(context.Background(), connectortest.NewNopSettings(metadata.Type), cfg, sink)
	require.NoError(t, err)
	require.False(t, conn.Capabilities().MutatesData)
	require.NoError(t, conn.Start(context.Background(), componenttest.NewNopHost()))

	ld := plog.NewLogs()
	addResource(ld, res{namespace: "ns", workload: "w", node: "n"},
		rec{event: "tetragon.process_exec", rules: []string{"reverse_shell"}, severity: "critical", category: "execution"})
	require.NoError(t, conn.ConsumeLogs(context.Background(), ld))

	require.Eventually(t, func() bool { return len(sink.AllMetrics()) > 0 }, 10*time.Second, 20*time.Millisecond,
		"no flush within 10s with flush_interval 1s")
	require.NoError(t, conn.ConsumeLogs(context.Background(), ld))
	sink.Reset()
	require.NoError(t, conn.Shutdown(context.Background()))

	// Shutdown sent the final state, with both records counted.
	all := sink.AllMetrics()
	require.NotEmpty(t, all)
	assert.Equal(t, map[string]int64{
		"runtime_security.events{event_type=process_exec,namespace=ns,node=n,workload=w}":                                     2,
		"runtime_security.detections{category=execution,namespace=ns,node=n,rule=reverse_shell,severity=critical,workload=w}": 2,
	}, values(flatten(t, all[len(all)-1])))
	// A second Shutdown is harmless.
	require.NoError(t, conn.Shutdown(context.Background()))
}

// TestConcurrentConsumeAndFlush exercises the locking under -race: records
// counted while flushes run are neither lost nor double counted.
func TestConcurrentConsumeAndFlush(t *testing.T) {
	c, sink, _ := newTestConnector(t, createDefaultConfig(), nil)
	c.now = time.Now
	ld := plog.NewLogs()
	addResource(ld, res{namespace: "ns", workload: "w", node: "n"},
		rec{event: "tetragon.process_exec", rules: []string{"a", "b"}, severity: "warning"},
		rec{event: "tetragon.process_exit"})

	const workers, batches = 4, 500
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range batches {
				assert.NoError(t, c.ConsumeLogs(context.Background(), ld))
			}
		}()
	}
	stop := make(chan struct{})
	flushed := make(chan struct{})
	go func() {
		defer close(flushed)
		for {
			select {
			case <-stop:
				return
			default:
				assert.NoError(t, c.flush(context.Background()))
			}
		}
	}()
	wg.Wait()
	close(stop)
	<-flushed
	require.NoError(t, c.flush(context.Background()))
	all := sink.AllMetrics()
	assert.Equal(t, map[string]int64{
		"runtime_security.events{event_type=process_exec,namespace=ns,node=n,workload=w}":                       workers * batches,
		"runtime_security.events{event_type=process_exit,namespace=ns,node=n,workload=w}":                       workers * batches,
		"runtime_security.detections{category=_unknown,namespace=ns,node=n,rule=a,severity=warning,workload=w}": workers * batches,
		"runtime_security.detections{category=_unknown,namespace=ns,node=n,rule=b,severity=warning,workload=w}": workers * batches,
	}, values(flatten(t, all[len(all)-1])))
}

func TestConsumeDoesNotRetainBatchStrings(t *testing.T) {
	// Series keys are cloned on insert: mutating the consumed batch afterwards
	// (the pipeline may reuse or free it) must not change the labels.
	c, sink, _ := newTestConnector(t, createDefaultConfig(), nil)
	ld := plog.NewLogs()
	addResource(ld, res{namespace: "ns", workload: "w", node: "n"}, rec{event: "tetragon.process_exec"})
	require.NoError(t, c.ConsumeLogs(context.Background(), ld))
	ld.ResourceLogs().At(0).Resource().Attributes().PutStr("k8s.namespace.name", "changed")
	require.NoError(t, c.flush(context.Background()))
	assert.Equal(t, map[string]int64{
		"runtime_security.events{event_type=process_exec,namespace=ns,node=n,workload=w}": 1,
	}, values(flatten(t, sink.AllMetrics()[0])))
}
