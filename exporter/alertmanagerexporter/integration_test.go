// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

//go:build integration

package alertmanagerexporter

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/exporter/exportertest"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/attrkey"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/testbackends"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/testenv"
)

func findAlert(alerts []testbackends.Alert, name, key, value string) *testbackends.Alert {
	for i := range alerts {
		if alerts[i].Labels["alertname"] == name && alerts[i].Labels[key] == value {
			return &alerts[i]
		}
	}
	return nil
}

func TestAlertmanagerIntegration(t *testing.T) {
	hook := testbackends.StartWebhook(t)
	am := testbackends.StartAlertmanager(t, filepath.Join(testenv.RepoRoot(t), "deploy", "alertmanager", "alertmanager.yaml"), hook.URL())
	getAlerts := func() []testbackends.Alert {
		t.Helper()
		alerts, err := am.Alerts()
		require.NoError(t, err)
		return alerts
	}

	cfg := createDefaultConfig().(*Config)
	cfg.ClientConfig.Endpoint = am.URL("")
	cfg.StaticLabels = map[string]string{"cluster": "it"}
	require.NoError(t, cfg.Validate())
	f := NewFactory()
	exp, err := f.CreateLogs(context.Background(), exportertest.NewNopSettings(f.Type()), cfg)
	require.NoError(t, err)
	require.NoError(t, exp.Start(context.Background(), componenttest.NewNopHost()))
	defer func() { require.NoError(t, exp.Shutdown(context.Background())) }()

	// Records stamped now, so that startsAt is recent and the notification's timing means
	// something.
	now := time.Now().UTC()
	incident := func(n int, severity string, rules []any, chains []any) rec {
		r := incidentRec("it-incident-1", n, severity, rules, chains)
		r.attrs[attrkey.IncidentFirstSeen] = now.Add(-time.Minute).Format(time.RFC3339Nano)
		r.attrs[attrkey.IncidentLastSeen] = now.Add(time.Duration(n) * time.Millisecond).Format(time.RFC3339Nano)
		r.ts = now
		return r
	}

	// 1. A warning incident with 50 repeats in one batch, and a lone critical detection.
	var batch []rec
	for i := 1; i <= 50; i++ {
		batch = append(batch, incident(i, "warning", []any{"terminal_shell_in_container"}, nil))
	}
	lone := loneRec("kernel_module_load", "critical", now)
	lone.res = map[string]any{attrkey.K8sNodeName: "node-9"}
	batch = append(batch, lone)
	sent := time.Now()
	require.NoError(t, exp.ConsumeLogs(context.Background(), logsOf(batch...)))

	var got []testbackends.Alert
	testenv.Eventually(t, 10*time.Second, "both alerts in Alertmanager", func() bool {
		got = getAlerts()
		return findAlert(got, alertnameIncident, "incident", "it-incident-1") != nil && findAlert(got, alertnameDetection, "rule", "kernel_module_load") != nil
	})
	inc := findAlert(got, alertnameIncident, "incident", "it-incident-1")
	assert.Equal(t, map[string]string{
		"alertname": "RuntimeSecurityIncident", "incident": "it-incident-1", "severity": "warning",
		"rule": "terminal_shell_in_container", "namespace": "shop", "workload": "checkout",
		"pod": "checkout-7d4b9c-x2x9q", "container": "app", "node": "node-1", "cluster": "it",
	}, inc.Labels)
	for _, k := range []string{"summary", "description", "command_line", "parent_chain", "image", "mitre", "runbook_url", "evidence_url", "detections", "first_seen", "last_seen", "rules"} {
		assert.NotEmpty(t, inc.Annotations[k], "annotation %s", k)
	}
	assert.Equal(t, "50", inc.Annotations["detections"], "one alert with the batch's latest state")
	assert.Equal(t, "/usr/bin/python3 ← /usr/local/bin/gunicorn ← /sbin/tini", inc.Annotations["parent_chain"])
	assert.Equal(t, inc.Annotations["evidence_url"], inc.GeneratorURL)
	assert.Equal(t, "active", inc.Status.State)
	assert.WithinDuration(t, now.Add(-time.Minute), inc.StartsAt, time.Millisecond)
	assert.WithinDuration(t, time.Now().Add(5*time.Minute), inc.EndsAt, 30*time.Second)
	require.Len(t, inc.Receivers, 1)
	assert.Equal(t, "security-warning", inc.Receivers[0].Name)

	host := findAlert(got, alertnameDetection, "rule", "kernel_module_load")
	assert.Equal(t, "_host", host.Labels["namespace"])
	assert.Equal(t, "_host", host.Labels["workload"])
	require.Len(t, host.Receivers, 1)
	assert.Equal(t, "platform-critical", host.Receivers[0].Name)

	// The critical detection pages within seconds (group_wait of the critical route).
	testenv.Eventually(t, 15*time.Second, "a notification for the critical detection", func() bool {
		for _, a := range hook.Alerts() {
			if a.Receiver == "platform-critical" && a.Status == "firing" {
				t.Logf("critical detection paged %v after the exporter got it", a.Arrived.Sub(sent).Round(time.Millisecond))
				return true
			}
		}
		return false
	})

	// 2. The incident escalates to critical: one active incident alert, the warning one gone.
	require.NoError(t, exp.ConsumeLogs(context.Background(), logsOf(incident(51, "critical", []any{"terminal_shell_in_container", "reverse_shell"}, nil))))
	testenv.Eventually(t, 10*time.Second, "the incident's alert escalated", func() bool {
		got = getAlerts()
		var n int
		var sev string
		for _, a := range got {
			if a.Labels["incident"] == "it-incident-1" {
				n++
				sev = a.Labels["severity"]
			}
		}
		return n == 1 && sev == "critical"
	})
	inc = findAlert(got, alertnameIncident, "incident", "it-incident-1")
	assert.Equal(t, "51", inc.Annotations["detections"])
	assert.Equal(t, "terminal_shell_in_container, reverse_shell", inc.Annotations["rules"])
	assert.Equal(t, "security-critical", inc.Receivers[0].Name)

	// 3. The Prometheus counter alert of the same namespace and workload is inhibited by the
	// incident alert: one page per incident.
	promAlert := []map[string]any{{
		"labels": map[string]string{
			"alertname": "RuntimeSecurityCriticalDetection", "severity": "critical", "rule": "reverse_shell",
			"category": "execution", "namespace": "shop", "workload": "checkout", "node": "node-1",
		},
		"annotations": map[string]string{"summary": "from Prometheus"},
		"startsAt":    time.Now().UTC().Format(time.RFC3339),
		"endsAt":      time.Now().Add(5 * time.Minute).UTC().Format(time.RFC3339),
	}}
	body, _ := json.Marshal(promAlert)
	resp, err := http.Post(am.URL("/api/v2/alerts"), "application/json", bytes.NewReader(body))
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	testenv.Eventually(t, 10*time.Second, "the Prometheus alert suppressed by the incident", func() bool {
		p := findAlert(getAlerts(), "RuntimeSecurityCriticalDetection", "workload", "checkout")
		return p != nil && p.Status.State == "suppressed" && len(p.Status.InhibitedBy) == 1
	})
}
