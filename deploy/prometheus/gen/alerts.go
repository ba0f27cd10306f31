// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package main

import (
	"fmt"
	"strings"
)

// RunbookBaseURL prefixes every runbook_url; the file name is appended. Fork
// or mirror the repository? Change it here and run `make alerts`.
const RunbookBaseURL = "https://github.com/otelcol-runtime-security/otelcol-runtime-security/blob/main/docs/runbooks/"

// CollectorJobRegex selects the collector's own scrape job(s) for `up`.
const CollectorJobRegex = ".*otelcol-runtime-security.*"

// detectionWindow is how long a detection keeps its alert firing, and how far
// back the first-sample logic looks for a series' previous existence.
const detectionWindow = "5m"

// Metric names as Prometheus stores them (see the connector README).
const (
	eventsMetric     = "runtime_security_events_total"
	detectionsMetric = "runtime_security_detections_total"
)

// detectionLabels are the labels of a detection alert: one alert per
// (rule, namespace, workload, node) and severity; category rides along.
var detectionLabels = []string{"rule", "category", "namespace", "workload", "node", "severity"}

// Alert is one alerting rule.
type Alert struct {
	Name        string
	Expr        string
	For         string
	Severity    string
	Summary     string
	Description string
	// RunbookURL is the full URL; empty means RunbookBaseURL + Name + ".md".
	RunbookURL string
	// Runbook is the page for pipeline alerts (detection alerts link the
	// per-rule pages instead).
	Runbook *PipelineRunbook
}

// Group is one rule group.
type Group struct {
	Name     string
	Interval string
	Alerts   []Alert
}

// counterFired is the PromQL for "the counters selected by selector went up
// within window", aggregated by the by labels. increase() alone misses a
// series whose very first sample is already > 0 (a counter created by the
// first detection): with no earlier sample there is nothing to increase
// from. The first branch catches exactly those: a series with a sample now
// but none in the lookback before `offset window` is new, and its whole
// value is new. It comes first so that `or` keeps its exact value rather
// than increase()'s extrapolated one when both branches match.
func counterFired(selector string, by []string, window string) string {
	b := strings.Join(by, ", ")
	return fmt.Sprintf(`(
  sum by (%[1]s) (%[2]s unless %[2]s offset %[3]s) > 0
)
or
(
  sum by (%[1]s) (increase(%[2]s[%[3]s])) > 0
)`, b, selector, window)
}

// withLabel wraps expr in label_replace setting label=value, so that branches
// of an `or` over different metrics stay distinguishable.
func withLabel(expr, label, value string) string {
	return fmt.Sprintf(`label_replace(
  %s,
  %q, %q, "", ""
)`, indent(expr, "  "), label, value)
}

func indent(s, pfx string) string {
	return strings.ReplaceAll(s, "\n", "\n"+pfx)
}

// otelcolCounter selects a collector internal counter whatever the Prometheus
// exporter's translation strategy: the v0.165 default (NoTranslation) keeps
// the name as is, the suffixed strategies append _total.
func otelcolCounter(name string) string {
	return fmt.Sprintf(`{__name__=~"%s(_total)?"}`, name)
}

func detectionAlert(name, severity string) Alert {
	sel := fmt.Sprintf(`%s{severity=%q}`, detectionsMetric, severity)
	return Alert{
		Name:     name,
		Expr:     counterFired(sel, detectionLabels, detectionWindow),
		For:      "0m",
		Severity: severity,
		Summary:  fmt.Sprintf(`%s runtime-security detection {{ $labels.rule }} in {{ $labels.namespace }}/{{ $labels.workload }}`, strings.ToUpper(severity[:1])+severity[1:]),
		Description: `Rule {{ $labels.rule }} (category {{ $labels.category }}) matched {{ $value | humanize }} time(s) in the last ` + detectionWindow +
			` in namespace {{ $labels.namespace }}, workload {{ $labels.workload }}, on node {{ $labels.node }}. ` +
			`Records in Loki: {service_name=~".+"} | security_rule_name="{{ $labels.rule }}" | k8s_namespace_name="{{ $labels.namespace }}"`,
		RunbookURL: RunbookBaseURL + "{{ $labels.rule }}.md",
	}
}

// Groups returns every alert group, in file order.
func Groups() []Group {
	return []Group{
		{
			Name: "runtime-security-detections",
			// Evaluate faster than the usual 1m global default so that a
			// detection pages within about flush_interval + 15s.
			Interval: "15s",
			Alerts: []Alert{
				detectionAlert("RuntimeSecurityCriticalDetection", "critical"),
				detectionAlert("RuntimeSecurityWarningDetection", "warning"),
			},
		},
		{
			Name:   "runtime-security-pipeline",
			Alerts: pipelineAlerts(),
		},
	}
}

func pipelineAlerts() []Alert {
	notOverflow := `otel_metric_overflow!="true"`
	return []Alert{
		{
			Name:        "RuntimeSecurityCollectorDown",
			Expr:        fmt.Sprintf(`up{job=~%q} == 0`, CollectorJobRegex),
			For:         "5m",
			Severity:    "critical",
			Summary:     `otelcol-runtime-security {{ $labels.instance }} is down`,
			Description: `Prometheus has failed to scrape the collector's own metrics at {{ $labels.instance }} (job {{ $labels.job }}) for 5 minutes. While it is down, runtime-security events on that node are neither detected nor stored.`,
			Runbook:     &runbookCollectorDown,
		},
		{
			Name:        "RuntimeSecurityMetricsAbsent",
			Expr:        fmt.Sprintf(`absent_over_time(%s[10m])`, eventsMetric),
			For:         "10m",
			Severity:    "critical",
			Summary:     `No runtime-security metrics from any collector`,
			Description: `No ` + eventsMetric + ` sample has arrived in Prometheus for 20 minutes. Either no collector is running, or the metrics path (detection_metrics connector → prometheus_remote_write → Prometheus) is broken everywhere. Detection alerts cannot fire.`,
			Runbook:     &runbookMetricsAbsent,
		},
		{
			Name: "RuntimeSecurityNoEventsFromNode",
			Expr: fmt.Sprintf(`(
  sum by (node) (rate(%[1]s{%[2]s}[5m])) == 0
)
or
(
  count by (node) (%[1]s{%[2]s} offset 1h)
  unless on (node)
  count by (node) (%[1]s{%[2]s})
)`, eventsMetric, notOverflow),
			For:         "10m",
			Severity:    "warning",
			Summary:     `No Tetragon events from node {{ $labels.node }}`,
			Description: `The collector on node {{ $labels.node }} has reported no Tetragon event for at least 15 minutes, or the node's series have stopped arriving. Tetragon may be down or disconnected, or the collector on that node may be failing. If the node has left the cluster, this alert resolves by itself within an hour.`,
			Runbook:     &runbookNoEvents,
		},
		{
			Name: "RuntimeSecurityEventsDropped",
			Expr: fmt.Sprintf(`sum by (job, instance, node, reason) (
  %s
  or
  %s
  or
  %s
  or
  %s
  or
  %s
)`,
				indent(withLabel(counterFired(otelcolCounter("otelcol_receiver_tetragon_dropped_records"), []string{"job", "instance"}, "5m"), "reason", "tetragon_receiver_dropped"), "  "),
				indent(withLabel(counterFired(otelcolCounter("otelcol_receiver_refused_log_records"), []string{"job", "instance"}, "5m"), "reason", "receiver_refused"), "  "),
				indent(withLabel(counterFired(otelcolCounter("otelcol_receiver_failed_log_records"), []string{"job", "instance"}, "5m"), "reason", "receiver_failed"), "  "),
				indent(withLabel(counterFired(otelcolCounter("otelcol_processor_memory_limiter_refused_log_records"), []string{"job", "instance"}, "5m"), "reason", "memory_limiter_refused"), "  "),
				indent(withLabel(counterFired(fmt.Sprintf(`%s{event_type="rate_limit_info"}`, eventsMetric), []string{"job", "instance", "node"}, "5m"), "reason", "tetragon_rate_limited"), "  "),
			),
			For:         "0m",
			Severity:    "warning",
			Summary:     `Runtime-security events are being dropped ({{ $labels.reason }})`,
			Description: `Events have been refused or dropped in the last 5 minutes (reason {{ $labels.reason }}, instance {{ $labels.instance }}{{ if $labels.node }}, node {{ $labels.node }}{{ end }}). Detections on the dropped events are lost.`,
			Runbook:     &runbookEventsDropped,
		},
		{
			Name: "RuntimeSecurityExportFailures",
			Expr: fmt.Sprintf(`sum by (job, instance, exporter, signal) (
  %s
  or
  %s
)`,
				indent(withLabel(counterFired(otelcolCounter("otelcol_exporter_send_failed_log_records"), []string{"job", "instance", "exporter"}, "5m"), "signal", "logs"), "  "),
				indent(withLabel(counterFired(otelcolCounter("otelcol_exporter_send_failed_metric_points"), []string{"job", "instance", "exporter"}, "5m"), "signal", "metrics"), "  "),
			),
			For:         "5m",
			Severity:    "warning",
			Summary:     `Exporter {{ $labels.exporter }} is failing to send {{ $labels.signal }}`,
			Description: `Exporter {{ $labels.exporter }} on {{ $labels.instance }} has been failing to send {{ $labels.signal }} for over 5 minutes. Failed sends are retried from the sending queue. Once the queue is full or retries run out, data is lost (see RuntimeSecurityEventsDropped).`,
			Runbook:     &runbookExportFailures,
		},
		{
			Name: "RuntimeSecurityExporterQueueNearlyFull",
			Expr: `max by (job, instance, exporter) (
  otelcol_exporter_queue_size / (otelcol_exporter_queue_capacity > 0)
) > 0.8`,
			For:         "5m",
			Severity:    "warning",
			Summary:     `Sending queue of {{ $labels.exporter }} is {{ $value | humanizePercentage }} full`,
			Description: `The sending queue of exporter {{ $labels.exporter }} on {{ $labels.instance }} has been over 80% full for 5 minutes. The backend is slow or unreachable. When the queue is full, new data is dropped.`,
			Runbook:     &runbookQueueNearlyFull,
		},
		{
			Name: "RuntimeSecuritySeriesCapReached",
			Expr: fmt.Sprintf(`count by (job, instance, metric) (
  label_replace(
    {__name__=~"%s|%s", otel_metric_overflow="true"},
    "metric", "$1", "__name__", "(.+)"
  )
) > 0`, eventsMetric, detectionsMetric),
			For:         "0m",
			Severity:    "warning",
			Summary:     `{{ $labels.metric }} reached its series cap on {{ $labels.instance }}`,
			Description: `The detection_metrics connector on {{ $labels.instance }} holds max_series distinct series of {{ $labels.metric }}. New label sets are being folded into the overflow series (labels "_overflow", otel_metric_overflow="true"), so per-workload counts are incomplete. This stays firing until the collector restarts.`,
			Runbook:     &runbookSeriesCap,
		},
		{
			Name:        "RuntimeSecurityRulesReloadFailed",
			Expr:        counterFired(otelcolCounter("otelcol_processor_detection_reload_failures"), []string{"job", "instance"}, "15m"),
			For:         "0m",
			Severity:    "warning",
			Summary:     `Detection rules reload failed on {{ $labels.instance }}`,
			Description: `A changed rules file was rejected, because it was unreadable or invalid, in the last 15 minutes on {{ $labels.instance }}. The previous ruleset is still running, so the change is not active.`,
			Runbook:     &runbookRulesReload,
		},
	}
}

func (a Alert) runbookURL() string {
	if a.RunbookURL != "" {
		return a.RunbookURL
	}
	return RunbookBaseURL + a.Name + ".md"
}
