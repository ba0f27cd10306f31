// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package alertmanagerexporter

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/configopaque"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/exporter/exportertest"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/metric/metricdata/metricdatatest"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/exporter/alertmanagerexporter/internal/metadatatest"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/attrkey"
)

// TestBatchDedupe: 1,000 records of one incident, in any order, become one alert with the
// latest state.
func TestBatchDedupe(t *testing.T) {
	f := newFakeAM(t)
	e, tel := newTestExporter(t, f.srv.URL)
	recs := make([]rec, 1000)
	for i := range recs {
		recs[i] = incidentRec("inc-1000", i+1, "critical", []any{"terminal_shell_in_container"}, nil)
	}
	rand.New(rand.NewPCG(1, 2)).Shuffle(len(recs), func(i, j int) { recs[i], recs[j] = recs[j], recs[i] })
	require.NoError(t, e.pushLogs(context.Background(), logsOf(recs...)))

	reqs := f.requests()
	require.Len(t, reqs, 1)
	require.Len(t, reqs[0], 1)
	a := reqs[0][0]
	assert.Equal(t, "1000", a.Annotations["detections"])
	assert.Equal(t, testNow.Add(-10*time.Minute+1000*time.Second).Format(time.RFC3339Nano), a.Annotations["last_seen"])
	metadatatest.AssertEqualExporterAlertmanagerAlertsPosted(t, tel, []metricdata.DataPoint[int64]{
		{Value: 1, Attributes: attribute.NewSet(attribute.String("severity", "critical"))},
	}, metricdatatest.IgnoreTimestamp())
}

// TestLoneDetectionsDedupe: records of one lone detection alert (same rule and pod) merge, their
// suppressed repeats counted; another pod is another alert.
func TestLoneDetectionsDedupe(t *testing.T) {
	f := newFakeAM(t)
	e, _ := newTestExporter(t, f.srv.URL)
	r1 := loneRec("namespace_escape", "critical", testNow.Add(-3*time.Minute))
	r2 := loneRec("namespace_escape", "critical", testNow.Add(-1*time.Minute))
	r2.attrs[attrkey.ProcessCommandLine] = "nsenter --latest"
	r3 := loneRec("namespace_escape", "critical", testNow.Add(-2*time.Minute))
	r3.attrs[attrkey.SuppressedCount] = int64(4)
	other := loneRec("namespace_escape", "critical", testNow)
	other.res[attrkey.K8sPodName] = "checkout-other"
	require.NoError(t, e.pushLogs(context.Background(), logsOf(r1, r2, r3, other)))

	reqs := f.requests()
	require.Len(t, reqs, 1)
	require.Len(t, reqs[0], 2)
	a := reqs[0][0]
	assert.Equal(t, "7", a.Annotations["detections"], "3 records + 4 suppressed repeats")
	assert.Equal(t, testNow.Add(-3*time.Minute), a.StartsAt, "the earliest record")
	assert.Equal(t, "nsenter --latest", a.Annotations["command_line"], "the latest record's context")
	assert.Equal(t, "checkout-other", reqs[0][1].Labels["pod"])
}

// TestEscalation: when an incident's severity rises or a chain completes, the previous label
// set is posted once more as resolved, beside the new one; an unchanged label set is not.
func TestEscalation(t *testing.T) {
	f := newFakeAM(t)
	e, tel := newTestExporter(t, f.srv.URL)
	ctx := context.Background()
	const id = "inc-esc"

	require.NoError(t, e.pushLogs(ctx, logsOf(incidentRec(id, 1, "warning", []any{"terminal_shell_in_container"}, nil))))
	require.NoError(t, e.pushLogs(ctx, logsOf(incidentRec(id, 2, "warning", []any{"terminal_shell_in_container"}, nil))))
	require.NoError(t, e.pushLogs(ctx, logsOf(incidentRec(id, 3, "critical", []any{"terminal_shell_in_container", "reverse_shell"}, nil))))
	require.NoError(t, e.pushLogs(ctx, logsOf(incidentRec(id, 4, "critical", []any{"terminal_shell_in_container", "reverse_shell"}, []any{"shell_then_c2"}))))

	reqs := f.requests()
	require.Len(t, reqs, 4)
	require.Len(t, reqs[0], 1)
	require.Len(t, reqs[1], 1, "same labels: a repost, nothing resolved")
	assert.Equal(t, "2", reqs[1][0].Annotations["detections"])

	require.Len(t, reqs[2], 2)
	old, cur := reqs[2][0], reqs[2][1]
	assert.Equal(t, reqs[0][0].Labels, old.Labels, "the previous label set")
	assert.Equal(t, "warning", old.Labels["severity"])
	assert.Equal(t, testNow, old.EndsAt, "resolved now")
	assert.Equal(t, "the incident's alert with severity=critical", old.Annotations["superseded_by"])
	assert.Equal(t, "critical", cur.Labels["severity"])
	assert.Equal(t, "terminal_shell_in_container", cur.Labels["rule"])
	assert.True(t, cur.EndsAt.After(testNow))

	require.Len(t, reqs[3], 2)
	old, cur = reqs[3][0], reqs[3][1]
	assert.Equal(t, "critical", old.Labels["severity"])
	assert.Equal(t, "terminal_shell_in_container", old.Labels["rule"])
	assert.Equal(t, testNow, old.EndsAt)
	assert.Equal(t, "shell_then_c2", cur.Labels["chain"])
	assert.NotContains(t, cur.Labels, "rule")

	metadatatest.AssertEqualExporterAlertmanagerAlertsResolved(t, tel, []metricdata.DataPoint[int64]{{Value: 2}}, metricdatatest.IgnoreTimestamp())
}

// TestEscalationResolveSurvivesRetry: a failed post does not count as posted, so the retry
// resolves the old label set again.
func TestEscalationResolveSurvivesRetry(t *testing.T) {
	f := newFakeAM(t)
	e, _ := newTestExporter(t, f.srv.URL)
	ctx := context.Background()
	const id = "inc-retry"
	require.NoError(t, e.pushLogs(ctx, logsOf(incidentRec(id, 1, "warning", []any{"r1"}, nil))))
	f.mu.Lock()
	f.script = []int{http.StatusServiceUnavailable}
	f.mu.Unlock()
	batch := logsOf(incidentRec(id, 2, "critical", []any{"r1"}, nil))
	require.Error(t, e.pushLogs(ctx, batch))
	require.NoError(t, e.pushLogs(ctx, batch))
	reqs := f.requests()
	require.Len(t, reqs, 3)
	require.Len(t, reqs[2], 2, "the retry still carries the resolved warning label set")
	assert.Equal(t, "warning", reqs[2][0].Labels["severity"])
	assert.Equal(t, testNow, reqs[2][0].EndsAt)
}

// TestStaleStateSkipped: an older state of an incident than the one posted is not posted.
func TestStaleStateSkipped(t *testing.T) {
	f := newFakeAM(t)
	e, tel := newTestExporter(t, f.srv.URL)
	ctx := context.Background()
	require.NoError(t, e.pushLogs(ctx, logsOf(incidentRec("inc-s", 5, "critical", []any{"r1"}, nil))))
	require.NoError(t, e.pushLogs(ctx, logsOf(incidentRec("inc-s", 3, "warning", []any{"r1"}, nil))))
	assert.Len(t, f.requests(), 1, "nothing left to post")
	metadatatest.AssertEqualExporterAlertmanagerRecordsSkipped(t, tel, []metricdata.DataPoint[int64]{
		{Value: 1, Attributes: attribute.NewSet(attribute.String("reason", "stale"))},
	}, metricdatatest.IgnoreTimestamp())
}

func TestMinSeverityAndNonDetections(t *testing.T) {
	f := newFakeAM(t)
	e, tel := newTestExporter(t, f.srv.URL) // min_severity: warning
	evidence := rec{res: podRes(), attrs: map[string]any{attrkey.IncidentID: "inc-m", attrkey.ProcessCommandLine: "cat /etc/shadow"}}
	plain := rec{res: podRes(), attrs: map[string]any{attrkey.ProcessCommandLine: "ls"}}
	infoLone := loneRec("package_manager_in_container", "info", testNow)
	// An info detection of a critical incident is posted: the incident's severity decides.
	infoInCritical := incidentRec("inc-m", 2, "critical", []any{"reverse_shell", "package_manager_in_container"}, nil)
	infoInCritical.attrs[attrkey.Severity] = "info"
	infoIncident := incidentRec("inc-i", 1, "info", []any{"package_manager_in_container"}, nil)
	warnLone := loneRec("terminal_shell_in_container", "warning", testNow)
	require.NoError(t, e.pushLogs(context.Background(), logsOf(evidence, plain, infoLone, infoInCritical, infoIncident, warnLone)))

	reqs := f.requests()
	require.Len(t, reqs, 1)
	var got []string
	for _, a := range reqs[0] {
		got = append(got, a.Labels["alertname"]+"/"+a.Labels["severity"])
	}
	assert.Equal(t, []string{"RuntimeSecurityIncident/critical", "RuntimeSecurityDetection/warning"}, got)
	metadatatest.AssertEqualExporterAlertmanagerRecordsSkipped(t, tel, []metricdata.DataPoint[int64]{
		{Value: 2, Attributes: attribute.NewSet(attribute.String("reason", "not_detection"))},
		{Value: 2, Attributes: attribute.NewSet(attribute.String("reason", "below_min_severity"))},
	}, metricdatatest.IgnoreTimestamp())

	t.Run("critical only", func(t *testing.T) {
		f := newFakeAM(t)
		e, _ := newTestExporter(t, f.srv.URL, func(c *Config) { c.MinSeverity = "critical" })
		require.NoError(t, e.pushLogs(context.Background(), logsOf(warnLone, incidentRec("inc-w", 1, "warning", []any{"r"}, nil))))
		assert.Empty(t, f.requests(), "nothing at or above critical: no request at all")
	})
	t.Run("info and up", func(t *testing.T) {
		f := newFakeAM(t)
		e, _ := newTestExporter(t, f.srv.URL, func(c *Config) { c.MinSeverity = "info" })
		require.NoError(t, e.pushLogs(context.Background(), logsOf(infoLone, evidence)))
		require.Len(t, f.requests(), 1)
		assert.Equal(t, "info", f.requests()[0][0].Labels["severity"])
	})
}

// TestRequestShape checks what Alertmanager receives: the path under a prefixed endpoint, JSON
// content, configured headers, and exactly the API v2 fields.
func TestRequestShape(t *testing.T) {
	f := newFakeAM(t)
	e, _ := newTestExporter(t, f.srv.URL+"/am/", func(c *Config) {
		c.ClientConfig.Headers = configopaque.MapList{{Name: "X-Scope-OrgID", Value: "security"}}
	})
	require.NoError(t, e.pushLogs(context.Background(), logsOf(incidentRec("inc-shape", 1, "critical", []any{"r1"}, nil))))

	f.mu.Lock()
	defer f.mu.Unlock()
	require.Equal(t, []string{"POST /am/api/v2/alerts"}, f.paths)
	assert.Equal(t, "application/json", f.headers[0].Get("Content-Type"))
	assert.Equal(t, "security", f.headers[0].Get("X-Scope-OrgID"))
	require.Len(t, f.raw[0], 1)
	raw := f.raw[0][0]
	var keys []string
	for k := range raw {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	assert.Equal(t, []string{"annotations", "endsAt", "generatorURL", "labels", "startsAt"}, keys)
	for _, k := range []string{"startsAt", "endsAt"} {
		s, ok := raw[k].(string)
		require.True(t, ok, k)
		_, err := time.Parse(time.RFC3339, s)
		assert.NoError(t, err, k)
	}
	for _, k := range []string{"labels", "annotations"} {
		m, ok := raw[k].(map[string]any)
		require.True(t, ok, k)
		for name, v := range m {
			_, isStr := v.(string)
			assert.True(t, isStr, "%s.%s is a string", k, name)
		}
	}
}

func TestMaxAlertsPerRequest(t *testing.T) {
	f := newFakeAM(t)
	e, _ := newTestExporter(t, f.srv.URL, func(c *Config) { c.MaxAlertsPerRequest = 2 })
	var recs []rec
	for i := range 5 {
		recs = append(recs, incidentRec(fmt.Sprintf("inc-%d", i), 1, "warning", []any{"r"}, nil))
	}
	require.NoError(t, e.pushLogs(context.Background(), logsOf(recs...)))
	var sizes []int
	for _, r := range f.requests() {
		sizes = append(sizes, len(r))
	}
	assert.Equal(t, []int{2, 2, 1}, sizes)
}

// TestTrackedIncidentsBounded: the LRU keeps max_tracked_incidents; an evicted incident's label
// change cannot resolve its old alert (it ends after resolve_timeout instead).
func TestTrackedIncidentsBounded(t *testing.T) {
	f := newFakeAM(t)
	e, tel := newTestExporter(t, f.srv.URL, func(c *Config) { c.MaxTrackedIncidents = 2 })
	ctx := context.Background()
	for _, id := range []string{"a", "b", "c"} {
		require.NoError(t, e.pushLogs(ctx, logsOf(incidentRec(id, 1, "warning", []any{"r"}, nil))))
	}
	assert.Equal(t, 2, e.tracker.len())
	metadatatest.AssertEqualExporterAlertmanagerIncidentsEvicted(t, tel, []metricdata.DataPoint[int64]{{Value: 1}}, metricdatatest.IgnoreTimestamp())

	require.NoError(t, e.pushLogs(ctx, logsOf(incidentRec("a", 2, "critical", []any{"r"}, nil))))
	require.NoError(t, e.pushLogs(ctx, logsOf(incidentRec("c", 2, "critical", []any{"r"}, nil))))
	reqs := f.requests()
	assert.Len(t, reqs[3], 1, "a was evicted: no resolve")
	assert.Len(t, reqs[4], 2, "c is tracked: its warning label set is resolved")
}

func TestHTTPErrors(t *testing.T) {
	batch := func() plog.Logs { return logsOf(incidentRec("inc-e", 1, "critical", []any{"r"}, nil)) }
	tests := []struct {
		status    int
		permanent bool
	}{
		{http.StatusBadRequest, true},
		{http.StatusUnprocessableEntity, true},
		{http.StatusUnauthorized, true},
		{http.StatusTooManyRequests, false},
		{http.StatusInternalServerError, false},
		{http.StatusServiceUnavailable, false},
	}
	for _, tt := range tests {
		t.Run(http.StatusText(tt.status), func(t *testing.T) {
			f := newFakeAM(t, tt.status)
			e, tel := newTestExporter(t, f.srv.URL)
			err := e.pushLogs(context.Background(), batch())
			require.Error(t, err)
			assert.Equal(t, tt.permanent, consumererror.IsPermanent(err), err)
			assert.Contains(t, err.Error(), fmt.Sprintf("HTTP %d", tt.status))
			assert.Contains(t, err.Error(), "start time must be before end time", "Alertmanager's answer is in the error")
			_, merr := tel.GetMetric("otelcol_exporter_alertmanager_alerts_posted")
			assert.Error(t, merr, "nothing counted as posted")
		})
	}

	t.Run("long answer truncated", func(t *testing.T) {
		f := newFakeAM(t, http.StatusBadRequest)
		f.answer = strings.Repeat("x", 10000)
		e, _ := newTestExporter(t, f.srv.URL)
		err := e.pushLogs(context.Background(), batch())
		require.Error(t, err)
		assert.Less(t, len(err.Error()), 800)
		assert.Contains(t, err.Error(), truncatedMarker)
	})

	t.Run("connection refused, credentials not shown", func(t *testing.T) {
		f := newFakeAM(t)
		addr := strings.TrimPrefix(f.srv.URL, "http://")
		f.srv.Close()
		e, _ := newTestExporter(t, "http://alice:s3cret@"+addr)
		err := e.pushLogs(context.Background(), batch())
		require.Error(t, err)
		assert.False(t, consumererror.IsPermanent(err))
		assert.NotContains(t, err.Error(), "s3cret")
	})
}

func TestRetryAfter(t *testing.T) {
	d, ok := retryAfter("7", testNow)
	assert.True(t, ok)
	assert.Equal(t, 7*time.Second, d)
	d, ok = retryAfter(testNow.Add(30*time.Second).Format(http.TimeFormat), testNow)
	assert.True(t, ok)
	assert.Equal(t, 30*time.Second, d)
	_, ok = retryAfter("soon", testNow)
	assert.False(t, ok)
}

// TestThroughExporterHelper runs the factory's exporter (queue and retry): a 500 is retried
// until accepted; a 400 is dropped after one attempt.
func TestThroughExporterHelper(t *testing.T) {
	run := func(t *testing.T, wantRequests int, script ...int) *fakeAM {
		f := newFakeAM(t, script...)
		cfg := createDefaultConfig().(*Config)
		cfg.ClientConfig.Endpoint = f.srv.URL
		cfg.RetryConfig.InitialInterval = 10 * time.Millisecond
		cfg.RetryConfig.MaxInterval = 20 * time.Millisecond
		require.NoError(t, cfg.Validate())
		exp, err := NewFactory().CreateLogs(context.Background(), exportertest.NewNopSettings(NewFactory().Type()), cfg)
		require.NoError(t, err)
		require.NoError(t, exp.Start(context.Background(), componenttest.NewNopHost()))
		require.NoError(t, exp.ConsumeLogs(context.Background(), logsOf(incidentRec("inc-q", 1, "critical", []any{"r"}, nil))))
		require.Eventually(t, func() bool { return len(f.requests()) >= wantRequests }, 5*time.Second, 10*time.Millisecond)
		time.Sleep(100 * time.Millisecond) // a further retry would come after 10-20ms
		require.NoError(t, exp.Shutdown(context.Background()))
		return f
	}
	t.Run("500 retried", func(t *testing.T) {
		f := run(t, 3, http.StatusInternalServerError, http.StatusInternalServerError)
		reqs := f.requests()
		require.Len(t, reqs, 3, "two failures, then accepted; no further post")
		assert.Equal(t, reqs[0][0].Labels, reqs[2][0].Labels, "the same alert, posted again")
		assert.Equal(t, reqs[0][0].Annotations, reqs[2][0].Annotations)
		assert.False(t, reqs[2][0].EndsAt.Before(reqs[0][0].EndsAt), "each post extends endsAt")
	})
	t.Run("400 permanent", func(t *testing.T) {
		f := run(t, 1, http.StatusBadRequest)
		assert.Len(t, f.requests(), 1, "not retried")
	})
}

// A full sending queue drops (counted) instead of refusing: an error would make the receiver retry
// the batch through every other branch of the pipeline.
func TestFullQueueDropsInsteadOfRefusing(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		<-release // Alertmanager hangs: the one consumer is busy, the queue fills
		w.WriteHeader(http.StatusOK)
	}))
	defer srv.Close()
	defer close(release)
	cfg := createDefaultConfig().(*Config)
	cfg.ClientConfig.Endpoint = srv.URL
	cfg.ClientConfig.Timeout = 10 * time.Second
	q := cfg.QueueConfig.Get()
	q.QueueSize = 1
	require.NoError(t, cfg.Validate())
	tel := componenttest.NewTelemetry()
	defer func() { require.NoError(t, tel.Shutdown(context.Background())) }()
	set := metadatatest.NewSettings(tel)
	exp, err := NewFactory().CreateLogs(context.Background(), set, cfg)
	require.NoError(t, err)
	require.NoError(t, exp.Start(context.Background(), componenttest.NewNopHost()))
	for i := 0; i < 5; i++ {
		require.NoError(t, exp.ConsumeLogs(context.Background(), logsOf(incidentRec("inc-full", i+1, "critical", []any{"r"}, nil))), "batch %d refused", i)
	}
	var dropped int64
	rm := metricdata.ResourceMetrics{}
	require.NoError(t, tel.Reader.Collect(context.Background(), &rm))
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name == "otelcol_exporter_alertmanager_records_dropped" {
				for _, dp := range m.Data.(metricdata.Sum[int64]).DataPoints {
					dropped += dp.Value
				}
			}
		}
	}
	assert.GreaterOrEqual(t, dropped, int64(3), "at most one batch in flight and one queued; the rest dropped and counted")
	go func() { _ = exp.Shutdown(context.Background()) }()
}
