// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package alertmanagerexporter

import (
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/confmaptest"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/exporter/alertmanagerexporter/internal/metadata"
)

func TestLoadConfig(t *testing.T) {
	cm, err := confmaptest.LoadConf(filepath.Join("testdata", "config.yaml"))
	require.NoError(t, err)

	t.Run("defaults", func(t *testing.T) {
		cfg := NewFactory().CreateDefaultConfig().(*Config)
		sub, err := cm.Sub(component.NewID(metadata.Type).String())
		require.NoError(t, err)
		require.NoError(t, sub.Unmarshal(cfg))
		require.NoError(t, confmap.Validate(cfg))
		assert.Equal(t, "http://alertmanager.monitoring:9093", cfg.ClientConfig.Endpoint)
		assert.Equal(t, "warning", cfg.MinSeverity)
		assert.Equal(t, 5*time.Minute, cfg.ResolveTimeout)
		assert.Equal(t, 10*time.Second, cfg.ClientConfig.Timeout)
		assert.Equal(t, 500, cfg.MaxAlertsPerRequest)
		assert.Equal(t, 10000, cfg.MaxTrackedIncidents)
		assert.True(t, cfg.RetryConfig.Enabled)
		assert.Equal(t, time.Second, cfg.RetryConfig.InitialInterval)
		require.True(t, cfg.QueueConfig.HasValue(), "sending_queue is on by default")
		q := cfg.QueueConfig.Get()
		assert.Nil(t, q.StorageID, "in-memory queue by default")
		assert.False(t, q.Batch.HasValue(), "no batching delay by default")
		assert.Equal(t, 1, q.NumConsumers)
	})

	t.Run("full", func(t *testing.T) {
		cfg := NewFactory().CreateDefaultConfig().(*Config)
		sub, err := cm.Sub(component.NewIDWithName(metadata.Type, "full").String())
		require.NoError(t, err)
		require.NoError(t, sub.Unmarshal(cfg))
		require.NoError(t, confmap.Validate(cfg))
		assert.Equal(t, "https://alertmanager.example.com:9093/am", cfg.ClientConfig.Endpoint)
		assert.Equal(t, 5*time.Second, cfg.ClientConfig.Timeout)
		h, ok := cfg.ClientConfig.Headers.Get("X-Scope-OrgID")
		assert.True(t, ok)
		assert.Equal(t, "security", string(h))
		assert.Equal(t, "critical", cfg.MinSeverity)
		assert.Equal(t, 10*time.Minute, cfg.ResolveTimeout)
		assert.Equal(t, map[string]string{"cluster": "prod-eu1"}, cfg.StaticLabels)
		assert.Equal(t, 100, cfg.MaxAlertsPerRequest)
		assert.Equal(t, 500, cfg.MaxTrackedIncidents)
		assert.Equal(t, int64(200), cfg.QueueConfig.Get().QueueSize)
		assert.Equal(t, 10*time.Minute, cfg.RetryConfig.MaxElapsedTime)
	})
}

func TestValidate(t *testing.T) {
	base := func() *Config {
		cfg := createDefaultConfig().(*Config)
		cfg.ClientConfig.Endpoint = "http://127.0.0.1:9093"
		return cfg
	}
	tests := []struct {
		name   string
		mutate func(*Config)
		want   string // "" = valid
	}{
		{"defaults", func(*Config) {}, ""},
		{"https with path prefix", func(c *Config) { c.ClientConfig.Endpoint = "https://gw.example.com/alertmanager/" }, ""},
		{"no endpoint", func(c *Config) { c.ClientConfig.Endpoint = "" }, "endpoint is required"},
		{"endpoint without scheme", func(c *Config) { c.ClientConfig.Endpoint = "alertmanager:9093" }, "must start with http:// or https://"},
		{"endpoint ftp", func(c *Config) { c.ClientConfig.Endpoint = "ftp://alertmanager:9093" }, "must start with http:// or https://"},
		{"endpoint with api path", func(c *Config) { c.ClientConfig.Endpoint = "http://am:9093/api/v2/alerts" }, "without /api/v2/alerts"},
		{"endpoint with query", func(c *Config) { c.ClientConfig.Endpoint = "http://am:9093/?x=1" }, "must not have a query"},
		{"endpoint without host", func(c *Config) { c.ClientConfig.Endpoint = "http:///path" }, "has no host"},
		{"min_severity", func(c *Config) { c.MinSeverity = "high" }, `min_severity must be one of info, warning, critical, got "high"`},
		{"min_severity case", func(c *Config) { c.MinSeverity = "Critical" }, "min_severity must be one of"},
		{"resolve_timeout", func(c *Config) { c.ResolveTimeout = 0 }, "resolve_timeout must be at least 1s"},
		{"timeout", func(c *Config) { c.ClientConfig.Timeout = -time.Second }, "timeout must be >= 0"},
		{"max_alerts_per_request", func(c *Config) { c.MaxAlertsPerRequest = 0 }, "max_alerts_per_request must be > 0"},
		{"max_tracked_incidents", func(c *Config) { c.MaxTrackedIncidents = -1 }, "max_tracked_incidents must be > 0"},
		{"runbook parse", func(c *Config) { c.RunbookURLTemplate = "https://x/{{ .Rule " }, "runbook_url_template does not parse"},
		{"runbook unknown field", func(c *Config) { c.RunbookURLTemplate = "https://x/{{ .Rules }}" }, "runbook_url_template fails on a sample alert"},
		{"runbook not absolute", func(c *Config) { c.RunbookURLTemplate = "runbooks/{{ .Rule }}.md" }, "must give an absolute URL"},
		{"evidence unknown func", func(c *Config) { c.EvidenceURLTemplate = "https://x/{{ lower .Pod }}" }, "evidence_url_template does not parse"},
		{"templates may be empty", func(c *Config) { c.RunbookURLTemplate, c.EvidenceURLTemplate = "", "" }, ""},
		{"static label name", func(c *Config) { c.StaticLabels = map[string]string{"k8s-cluster": "a"} }, `"k8s-cluster" is not a Prometheus label name`},
		{"static label digit", func(c *Config) { c.StaticLabels = map[string]string{"1cluster": "a"} }, "is not a Prometheus label name"},
		{"static label reserved", func(c *Config) { c.StaticLabels = map[string]string{"__name": "a"} }, "reserves for internal use"},
		{"static label own", func(c *Config) { c.StaticLabels = map[string]string{"severity": "x"} }, `"severity" is a label the exporter sets itself`},
		{"static label empty value", func(c *Config) { c.StaticLabels = map[string]string{"cluster": ""} }, "empty value"},
		{"static labels ok", func(c *Config) { c.StaticLabels = map[string]string{"cluster": "prod", "team_": "sec"} }, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := base()
			tt.mutate(cfg)
			err := cfg.Validate()
			if tt.want == "" {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

// TestValidateReportsEveryError: one `otelcol validate` run shows all mistakes.
func TestValidateReportsEveryError(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	cfg.MinSeverity = "x"
	cfg.MaxTrackedIncidents = 0
	err := cfg.Validate()
	require.Error(t, err)
	for _, want := range []string{"endpoint is required", "min_severity", "max_tracked_incidents"} {
		assert.Contains(t, err.Error(), want)
	}
}

// TestDefaultEvidenceURL: the default template gives a Grafana Explore link whose panes JSON
// carries the Loki query on the incident id (or, without incident, on rule and pod).
func TestDefaultEvidenceURL(t *testing.T) {
	tmpl, err := parseURLTemplate("evidence_url_template", defaultEvidenceURLTemplate)
	require.NoError(t, err)

	d := sampleTemplateData
	out, err := execTemplate(tmpl, d)
	require.NoError(t, err)
	u, err := url.Parse(out)
	require.NoError(t, err)
	assert.Equal(t, "grafana.example.com", u.Host)
	assert.Equal(t, "/explore", u.Path)
	panes := u.Query().Get("panes")
	assert.Contains(t, panes, `"expr":"{service_name=~\".+\"} | runtime_security_incident_id=\"`+d.Incident+`\""`)
	assert.Contains(t, panes, `"from":"2025-01-01T10:00:00Z"`)
	assert.Contains(t, panes, `"to":"2025-01-01T10:10:00Z"`)

	d.Incident = ""
	out, err = execTemplate(tmpl, d)
	require.NoError(t, err)
	u, err = url.Parse(out)
	require.NoError(t, err)
	assert.Contains(t, u.Query().Get("panes"), `"expr":"{security_rule_name=\"terminal_shell_in_container\"} | k8s_pod_name=\"checkout-7d4b9c-x2x9q\""`)
	assert.False(t, strings.ContainsAny(out, " \"{}"), "the URL is fully escaped: %s", out)
}
