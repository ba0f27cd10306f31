// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

//go:build e2e

package e2e

import (
	"os"
	"path/filepath"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/deploy/grafana/dashq"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/testbackends"
)

// alertsAllowedEmpty are the shipped alert expressions that must stay empty on a healthy run.
var alertsAllowedEmpty = map[string]string{
	"RuntimeSecurityCollectorDown":           "the collector is up during the run",
	"RuntimeSecurityMetricsAbsent":           "metrics arrive during the run",
	"RuntimeSecurityNoEventsFromNode":        "the node sends events during the run",
	"RuntimeSecurityEventsDropped":           "nothing is dropped on a healthy run (the log-store outage is absorbed by the persistent queue)",
	"RuntimeSecurityExportFailures":          "send failures are retried, not failed, while the queue holds them",
	"RuntimeSecurityExporterQueueNearlyFull": "the queue stays far below capacity at 200 events/s",
	"RuntimeSecuritySeriesCapReached":        "the scenario makes far fewer series than the cap",
	"RuntimeSecurityRulesReloadFailed":       "no rules file is reloaded in the run",
}

// checkShippedQueries runs every PromQL query of the dashboards and the alert rules against the
// Prometheus that received the run: each must parse and execute, and return data unless it is
// listed as allowed-empty with a reason.
func checkShippedQueries(t *testing.T, root string, prom *testbackends.Prometheus) {
	t.Helper()
	qf, err := dashq.Load(filepath.Join(root, "deploy", "grafana", "queries.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var ran, empty int
	for _, q := range qf.PromQL {
		expr := dashq.ExpandForTest(q.Expr)
		res, err := prom.Query(expr)
		ran++
		switch {
		case err != nil:
			t.Errorf("dashboard %s / %q: %v", q.Dashboard, q.Panel, err)
		case len(res) == 0 && !q.AllowedEmpty:
			t.Errorf("dashboard %s / %q returned no data: %s", q.Dashboard, q.Panel, expr)
		case len(res) == 0:
			empty++
		}
	}

	raw, err := os.ReadFile(filepath.Join(root, "deploy", "prometheus", "alert-rules.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var rf struct {
		Groups []struct {
			Rules []struct {
				Alert string `yaml:"alert"`
				Expr  string `yaml:"expr"`
			} `yaml:"rules"`
		} `yaml:"groups"`
	}
	if err := yaml.Unmarshal(raw, &rf); err != nil {
		t.Fatal(err)
	}
	for _, g := range rf.Groups {
		for _, r := range g.Rules {
			res, err := prom.Query(r.Expr)
			ran++
			_, allowed := alertsAllowedEmpty[r.Alert]
			switch {
			case err != nil:
				t.Errorf("alert %s: %v", r.Alert, err)
			case len(res) == 0 && !allowed:
				t.Errorf("alert %s returned no data after the attack scenario: %s", r.Alert, r.Expr)
			case len(res) > 0 && allowed:
				t.Errorf("alert %s fires on a healthy run: %v", r.Alert, res[0].Metric)
			case len(res) == 0:
				empty++
			}
		}
	}
	t.Logf("ran %d shipped PromQL queries (%d empty and allowed to be)", ran, empty)
	if t.Failed() {
		res, err := prom.Query(`count_over_time(runtime_security_events_total[10m])`)
		for i, r := range res {
			if i < 5 {
				t.Logf("diagnostic: samples in the last 10m: %v = %v", r.Metric, r.Value)
			}
		}
		b, _ := testbackends.Get(prom.URL("/api/v1/query?query=" + "runtime_security_events_total%5B10m%5D"))
		if len(b) > 3000 {
			b = b[:3000]
		}
		t.Logf("diagnostic: raw samples: %v %s", err, b)
	}
}
