// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

// Package alertmanager holds the tests of deploy/alertmanager/alertmanager.yaml.
package alertmanager

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/testenv"
)

const configFile = "alertmanager.yaml"

// amtool runs amtool, failing (never skipping) when it is missing.
func amtool(t *testing.T, args ...string) string {
	return testenv.RunTool(t, "amtool", "prometheus-alertmanager", args...)
}

func TestCheckConfig(t *testing.T) {
	out := amtool(t, "check-config", configFile)
	assert.Contains(t, out, "SUCCESS")
	assert.Contains(t, out, "4 inhibit rules")
}

func TestRouting(t *testing.T) {
	tests := []struct {
		labels []string
		want   string
	}{
		{[]string{"alertname=RuntimeSecurityCriticalDetection", "severity=critical", "namespace=shop", "rule=reverse_shell"}, "security-critical"},
		{[]string{"alertname=RuntimeSecurityCriticalDetection", "severity=critical", "namespace=_host", "rule=kernel_module_load"}, "platform-critical"},
		{[]string{"alertname=RuntimeSecurityCriticalDetection", "severity=critical", "namespace=kube-system", "rule=namespace_escape"}, "platform-critical"},
		{[]string{"alertname=RuntimeSecurityCollectorDown", "severity=critical", "instance=10.0.0.1:8888"}, "security-critical"},
		{[]string{"alertname=RuntimeSecurityWarningDetection", "severity=warning", "namespace=shop", "rule=terminal_shell_in_container"}, "security-warning"},
		{[]string{"alertname=RuntimeSecurityWarningDetection", "severity=warning", "namespace=dev-alice", "rule=terminal_shell_in_container"}, "security-dev"},
		{[]string{"alertname=RuntimeSecurityExportFailures", "severity=warning", "exporter=otlp_http"}, "security-warning"},
		{[]string{"alertname=SomethingElse"}, "security-default"},
		// The alertmanager exporter's alerts keep the severity routing.
		{[]string{"alertname=RuntimeSecurityIncident", "severity=critical", "incident=7c9e6679", "rule=terminal_shell_in_container", "namespace=shop", "workload=checkout"}, "security-critical"},
		{[]string{"alertname=RuntimeSecurityIncident", "severity=critical", "incident=7c9e6679", "chain=download_then_exec", "namespace=_container", "workload=_container"}, "platform-critical"},
		{[]string{"alertname=RuntimeSecurityIncident", "severity=warning", "incident=7c9e6679", "rule=terminal_shell_in_container", "namespace=shop", "workload=checkout"}, "security-warning"},
		{[]string{"alertname=RuntimeSecurityIncident", "severity=warning", "incident=7c9e6679", "rule=terminal_shell_in_container", "namespace=dev-alice", "workload=api"}, "security-dev"},
		{[]string{"alertname=RuntimeSecurityDetection", "severity=critical", "rule=kernel_module_load", "namespace=_host", "workload=_host"}, "platform-critical"},
		{[]string{"alertname=RuntimeSecurityDetection", "severity=info", "rule=package_manager_in_container", "namespace=shop", "workload=checkout"}, "security-dev"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.labels, ","), func(t *testing.T) {
			args := append([]string{"config", "routes", "test", "--config.file=" + configFile}, tt.labels...)
			out := amtool(t, args...)
			assert.Equal(t, tt.want, strings.TrimSpace(out))
		})
	}
}

// TestGroupingAndInhibition checks the parts amtool cannot exercise offline.
func TestGroupingAndInhibition(t *testing.T) {
	b, err := os.ReadFile(configFile)
	require.NoError(t, err)
	var cfg struct {
		Route struct {
			GroupBy []string `yaml:"group_by"`
			Routes  []struct {
				Matchers  []string `yaml:"matchers"`
				GroupBy   []string `yaml:"group_by"`
				GroupWait string   `yaml:"group_wait"`
				Routes    []struct {
					Matchers  []string `yaml:"matchers"`
					Receiver  string   `yaml:"receiver"`
					GroupWait string   `yaml:"group_wait"`
				} `yaml:"routes"`
			} `yaml:"routes"`
		} `yaml:"route"`
		InhibitRules []struct {
			Source []string `yaml:"source_matchers"`
			Target []string `yaml:"target_matchers"`
			Equal  []string `yaml:"equal"`
		} `yaml:"inhibit_rules"`
		Receivers []struct {
			Name     string `yaml:"name"`
			Webhooks []struct {
				URL string `yaml:"url"`
			} `yaml:"webhook_configs"`
		} `yaml:"receivers"`
	}
	require.NoError(t, yaml.Unmarshal(b, &cfg))
	assert.Equal(t, []string{"alertname", "namespace", "rule"}, cfg.Route.GroupBy)

	// The exporter's route comes first (routes match in order) and groups by incident.
	ex := cfg.Route.Routes[0]
	assert.Equal(t, []string{`alertname=~"RuntimeSecurityIncident|RuntimeSecurityDetection"`}, ex.Matchers)
	assert.Equal(t, []string{"alertname", "incident", "namespace", "rule"}, ex.GroupBy)
	require.NotEmpty(t, ex.Routes)
	assert.Equal(t, []string{`severity="critical"`}, ex.Routes[0].Matchers)
	assert.Equal(t, "security-critical", ex.Routes[0].Receiver)
	assert.Equal(t, "2s", ex.Routes[0].GroupWait, "an incident pages within seconds")

	assert.Equal(t, []string{`severity="critical"`}, cfg.Route.Routes[1].Matchers)
	assert.Equal(t, "5s", cfg.Route.Routes[1].GroupWait, "critical alerts must not wait")

	inh := cfg.InhibitRules[0]
	assert.Equal(t, []string{`alertname="RuntimeSecurityCriticalDetection"`}, inh.Source)
	assert.Equal(t, []string{`alertname="RuntimeSecurityWarningDetection"`}, inh.Target)
	assert.Equal(t, []string{"namespace", "rule"}, inh.Equal)

	// An incident alert mutes the Prometheus detection alerts of its namespace and workload; a
	// lone detection alert those of its rule too.
	promDetections := []string{`alertname=~"RuntimeSecurityCriticalDetection|RuntimeSecurityWarningDetection"`}
	inc := cfg.InhibitRules[2]
	assert.Equal(t, []string{`alertname="RuntimeSecurityIncident"`}, inc.Source)
	assert.Equal(t, promDetections, inc.Target)
	assert.Equal(t, []string{"namespace", "workload"}, inc.Equal)
	det := cfg.InhibitRules[3]
	assert.Equal(t, []string{`alertname="RuntimeSecurityDetection"`}, det.Source)
	assert.Equal(t, promDetections, det.Target)
	assert.Equal(t, []string{"namespace", "workload", "rule"}, det.Equal)

	for _, r := range cfg.Receivers {
		require.NotEmpty(t, r.Webhooks, r.Name)
		assert.Equal(t, "http://127.0.0.1:9099/alerts", r.Webhooks[0].URL, r.Name)
	}
}
