// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package alertmanagerexporter

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"
	"text/template"
	"time"

	"go.opentelemetry.io/collector/config/confighttp"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/config/configretry"
	"go.opentelemetry.io/collector/exporter/exporterhelper"
)

// Config is the configuration of the alertmanager exporter.
type Config struct {
	// ClientConfig is the HTTP client to Alertmanager: endpoint (its base URL; the exporter
	// appends /api/v2/alerts), tls, headers, auth, timeout.
	ClientConfig confighttp.ClientConfig                                  `mapstructure:",squash"`
	QueueConfig  configoptional.Optional[exporterhelper.QueueBatchConfig] `mapstructure:"sending_queue"`
	RetryConfig  configretry.BackOffConfig                                `mapstructure:"retry_on_failure"`

	// MinSeverity is the lowest severity posted (info, warning, critical). An incident's alert is
	// judged by the incident's highest severity so far, a lone detection by its own.
	MinSeverity string `mapstructure:"min_severity"`
	// ResolveTimeout is how long after a post its alert stays firing unless posted again
	// (endsAt = time of posting + resolve_timeout).
	ResolveTimeout time.Duration `mapstructure:"resolve_timeout"`
	// RunbookURLTemplate and EvidenceURLTemplate are Go text/templates over templateData; an empty
	// template leaves its annotation out.
	RunbookURLTemplate  string `mapstructure:"runbook_url_template"`
	EvidenceURLTemplate string `mapstructure:"evidence_url_template"`
	// StaticLabels are added to every alert (e.g. cluster), so that several clusters can share an
	// Alertmanager without their alerts merging.
	StaticLabels map[string]string `mapstructure:"static_labels"`
	// MaxAlertsPerRequest splits a large batch into several POSTs.
	MaxAlertsPerRequest int `mapstructure:"max_alerts_per_request"`
	// MaxTrackedIncidents bounds the incidents whose last posted labels are remembered, so that a
	// change of labels can resolve the previous alert; the least recently posted is evicted.
	MaxTrackedIncidents int `mapstructure:"max_tracked_incidents"`

	_ struct{} // forces keyed literals
}

const (
	defaultRunbookURLTemplate = "https://github.com/otelcol-runtime-security/otelcol-runtime-security/blob/main/docs/runbooks/{{ or .Chain .Rule }}.md"
	// defaultEvidenceURLTemplate opens Grafana Explore on the Loki data source (uid "loki") with
	// the incident's records (every record of an incident carries its id; Loki turns the
	// attribute into the structured metadata runtime_security_incident_id) or, for a detection
	// without incident, the rule's records of that pod. The range is From..To. Replace the base
	// URL and the data source uid with your own.
	defaultEvidenceURLTemplate = `https://grafana.example.com/explore?schemaVersion=1&orgId=1&panes=` +
		`{{ urlquery (printf "{\"rts\":{\"datasource\":\"loki\",\"queries\":[{\"refId\":\"A\",\"datasource\":{\"type\":\"loki\",\"uid\":\"loki\"},\"expr\":%s}],\"range\":{\"from\":%s,\"to\":%s}}}" ` +
		`(json (or (and .Incident (printf "{service_name=~\".+\"} | runtime_security_incident_id=%q" .Incident)) (printf "{security_rule_name=%q} | k8s_pod_name=%q" .Rule .Pod))) (json .From) (json .To)) }}`

	defaultMaxAlertsPerRequest = 500
	defaultMaxTrackedIncidents = 10000
	defaultResolveTimeout      = 5 * time.Minute
	defaultHTTPTimeout         = 10 * time.Second
)

var severityRank = map[string]int{severityInfo: 0, severityWarning: 1, severityCritical: 2}

// labelNameRE is Prometheus's (and Alertmanager 0.25's) label name syntax.
var labelNameRE = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)

// Validate checks every field, saying what would be valid.
func (c *Config) Validate() error {
	var errs []error
	errs = append(errs, validateEndpoint(c.ClientConfig.Endpoint))
	if _, ok := severityRank[c.MinSeverity]; !ok {
		errs = append(errs, fmt.Errorf("min_severity must be one of info, warning, critical, got %q", c.MinSeverity))
	}
	if c.ResolveTimeout < time.Second {
		errs = append(errs, fmt.Errorf("resolve_timeout must be at least 1s (how long an alert stays firing after its last post, e.g. 5m), got %v", c.ResolveTimeout))
	}
	if c.ClientConfig.Timeout < 0 {
		errs = append(errs, fmt.Errorf("timeout must be >= 0 (0: no timeout; e.g. 10s), got %v", c.ClientConfig.Timeout))
	}
	if c.MaxAlertsPerRequest <= 0 {
		errs = append(errs, fmt.Errorf("max_alerts_per_request must be > 0 (e.g. %d), got %d", defaultMaxAlertsPerRequest, c.MaxAlertsPerRequest))
	}
	if c.MaxTrackedIncidents <= 0 {
		errs = append(errs, fmt.Errorf("max_tracked_incidents must be > 0 (e.g. %d), got %d", defaultMaxTrackedIncidents, c.MaxTrackedIncidents))
	}
	if _, err := parseURLTemplate("runbook_url_template", c.RunbookURLTemplate); err != nil {
		errs = append(errs, err)
	}
	if _, err := parseURLTemplate("evidence_url_template", c.EvidenceURLTemplate); err != nil {
		errs = append(errs, err)
	}
	errs = append(errs, validateStaticLabels(c.StaticLabels)...)
	return errors.Join(errs...)
}

func validateEndpoint(ep string) error {
	if ep == "" {
		return errors.New("endpoint is required: Alertmanager's base URL, e.g. http://alertmanager.monitoring:9093 (the exporter appends /api/v2/alerts)")
	}
	u, err := url.Parse(ep)
	if err != nil {
		return fmt.Errorf("endpoint %q is not a URL (want e.g. http://alertmanager.monitoring:9093): %w", ep, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("endpoint %q must start with http:// or https:// (e.g. http://alertmanager.monitoring:9093)", ep)
	}
	if u.Host == "" {
		return fmt.Errorf("endpoint %q has no host (want e.g. http://alertmanager.monitoring:9093)", ep)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("endpoint %q must not have a query or fragment: give the base URL (a path prefix is fine, e.g. https://gw.example.com/alertmanager)", ep)
	}
	if strings.HasSuffix(strings.TrimSuffix(u.Path, "/"), "/api/v2/alerts") {
		return fmt.Errorf("endpoint %q must be the base URL without /api/v2/alerts, which the exporter appends", ep)
	}
	return nil
}

func validateStaticLabels(m map[string]string) []error {
	var errs []error
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		switch {
		case !labelNameRE.MatchString(k):
			errs = append(errs, fmt.Errorf("static_labels: %q is not a Prometheus label name (letters, digits and _, not starting with a digit, e.g. cluster)", k))
		case strings.HasPrefix(k, "__"):
			errs = append(errs, fmt.Errorf("static_labels: %q starts with __, which Prometheus reserves for internal use", k))
		case slices.Contains(ownLabels, k):
			errs = append(errs, fmt.Errorf("static_labels: %q is a label the exporter sets itself (%s); choose another name, e.g. cluster", k, strings.Join(ownLabels, ", ")))
		case m[k] == "":
			errs = append(errs, fmt.Errorf("static_labels: %q has an empty value, which Alertmanager treats as no label; give it a value or remove it", k))
		}
	}
	return errs
}

// parseURLTemplate parses a URL template and executes it on a sample alert, so that an unknown
// field or a runtime error shows at `otelcol validate`, not on the first alert. An empty template
// is nil (the annotation is left out).
func parseURLTemplate(key, text string) (*template.Template, error) {
	if text == "" {
		return nil, nil
	}
	tmpl, err := template.New(key).Funcs(templateFuncs).Option("missingkey=error").Parse(text)
	if err != nil {
		return nil, fmt.Errorf("%s does not parse as a Go text/template (fields: %s): %w", key, templateFields, err)
	}
	out, err := execTemplate(tmpl, sampleTemplateData)
	if err != nil {
		return nil, fmt.Errorf("%s fails on a sample alert (fields: %s): %w", key, templateFields, err)
	}
	if u, err := url.Parse(out); err != nil || !u.IsAbs() {
		return nil, fmt.Errorf("%s must give an absolute URL, got %q on a sample alert", key, out)
	}
	return tmpl, nil
}
