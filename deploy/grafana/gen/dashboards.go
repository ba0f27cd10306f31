// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package main

import (
	"fmt"
	"strings"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/attrkey"
)

// Dashboard uids: stable, so links and provisioning survive regeneration.
const (
	uidOverview = "rts-overview"
	uidWorkload = "rts-workload"
	uidPipeline = "rts-pipeline"

	dashboardTag = "runtime-security"
)

// Metrics of the detection_metrics connector as Prometheus stores them
// (prometheus_remote_write adds _total to monotonic sums).
const (
	eventsMetric     = "runtime_security_events_total"     // {event_type,namespace,workload,node}
	detectionsMetric = "runtime_security_detections_total" // {rule,severity,category,namespace,workload,node}
)

// otelcol selects a counter of the collector's own telemetry under both names
// it can have in Prometheus: scraped from the collector's :8888 endpoint
// with v0.165 defaults (without_type_suffix and without_units are true, so
// otelcol_receiver_accepted_log_records) or pushed over OTLP, or scraped with
// suffixes on (otelcol_receiver_accepted_log_records_total). Counters whose
// unit is an annotation ({record}) or already in the name get no unit suffix.
func otelcol(name string, matchers ...string) string {
	sel := fmt.Sprintf(`__name__=~"otelcol_%s(_total)?"`, name)
	return "{" + strings.Join(append([]string{sel}, matchers...), ", ") + "}"
}

// otelcolGauge is otelcol for a gauge: no _total, only an optional unit
// suffix.
func otelcolGauge(name, unitSuffix string, matchers ...string) string {
	sel := fmt.Sprintf(`__name__=~"otelcol_%s(%s)?"`, name, unitSuffix)
	return "{" + strings.Join(append([]string{sel}, matchers...), ", ") + "}"
}

// wpMetric prefixes the workload_profile processor's telemetry (otelcol_
// added by otelcol/wpGauge).
const wpMetric = "processor_workload_profile_"

// wpGauge selects a gauge of the workload_profile processor. Its units are
// annotations ({workload}, {item}), so it has one name in every setup.
func wpGauge(name string, matchers ...string) string {
	return "otelcol_" + wpMetric + name + "{" + strings.Join(matchers, ", ") + "}"
}

// Loki field names of the attributes the log panels show.
var (
	lkRule      = lokiField(attrkey.RuleName)
	lkSeverity  = lokiField(attrkey.Severity)
	lkTechnique = lokiField(attrkey.ThreatTechniqueID)
	lkNamespace = lokiField(attrkey.K8sNamespaceName)
	lkWorkload  = lokiField(attrkey.K8sWorkloadName)
	lkPod       = lokiField(attrkey.K8sPodName)
	lkContainer = lokiField(attrkey.K8sContainerName)
	lkNode      = lokiField(attrkey.K8sNodeName)
	lkExe       = lokiField(attrkey.ProcessExecutablePath)
	lkCmdline   = lokiField(attrkey.ProcessCommandLine)
	lkFile      = lokiField(attrkey.FilePath)
	lkPeer      = lokiField(attrkey.NetworkPeerAddress)
	lkPeerPort  = lokiField(attrkey.NetworkPeerPort)

	// The incident attributes: structured metadata, on every record of an incident.
	lkIncident           = lokiField(attrkey.IncidentID)
	lkIncidentFirstSeen  = lokiField(attrkey.IncidentFirstSeen)
	lkIncidentSeverity   = lokiField(attrkey.IncidentSeverity)
	lkIncidentRules      = lokiField(attrkey.IncidentRules)
	lkIncidentDetections = lokiField(attrkey.IncidentDetections)
	lkChain              = lokiField(attrkey.Chain)
)

// lkServiceName is Loki's service_name index label, on every OTLP stream. Incident queries select
// by it rather than by the rule label: a suppressed repeat or a chain's condition step carries the
// incident but no rule, and belongs on the incident's timeline.
const lkServiceName = "service_name"

// chainCategory is the category the detection processor gives a chain rule unless its spec names
// another (rules.DefaultChainCategory); the detections metric counts chains under it.
const chainCategory = "attack_chain"

// firedInRange is what the counters of sel added within the dashboard's range, per series, for
// summing: increase() over the series that existed at the range's start, plus the whole value of
// those created inside it. increase() alone ignores a series' first sample, and a chain completes
// once per incident, so its series typically appears at 1 and never increases.
func firedInRange(sel string) string {
	return fmt.Sprintf(`(increase(%[1]s[$__range]) and %[1]s offset $__range) or (%[1]s unless %[1]s offset $__range)`, sel)
}

// detectionLine renders a detection record as one readable line; the record's
// own body and every other field stay in the log details.
var detectionLine = fmt.Sprintf("`[{{.%s}}] {{.%s}} {{.%s}} ns={{.%s}} pod={{.%s}} container={{.%s}} node={{.%s}} exe={{.%s}} cmd={{.%s}}`",
	lkSeverity, lkRule, lkTechnique, lkNamespace, lkPod, lkContainer, lkNode, lkExe, lkCmdline)

// incidentLine renders one record of an incident's timeline: the incident's detection count as of
// the record, its rule (none on a suppressed repeat or a chain's condition step), the chain it
// completed, and the process.
var incidentLine = fmt.Sprintf("`#{{.%s}} {{if .%s}}[{{.%s}}] {{.%s}}{{else}}[-] (suppressed repeat or chain step){{end}}{{if .%s}} chain={{.%s}}{{end}} pod={{.%s}} container={{.%s}} exe={{.%s}} cmd={{.%s}}{{if .%s}} file={{.%s}}{{end}}{{if .%s}} peer={{.%s}}:{{.%s}}{{end}}`",
	lkIncidentDetections, lkRule, lkSeverity, lkRule, lkChain, lkChain, lkPod, lkContainer, lkExe, lkCmdline, lkFile, lkFile, lkPeer, lkPeer, lkPeerPort)

// activityLine renders any event of a workload.
var activityLine = fmt.Sprintf("`pod={{.%s}} exe={{.%s}} cmd={{.%s}}{{if .%s}} file={{.%s}}{{end}}{{if .%s}} peer={{.%s}}:{{.%s}}{{end}}`",
	lkPod, lkExe, lkCmdline, lkFile, lkFile, lkPeer, lkPeer, lkPeerPort)

func newDashboard(uid, title, desc string) *dashboard.DashboardBuilder {
	return dashboard.NewDashboardBuilder(title).
		Uid(uid).
		Description(desc).
		Tags([]string{dashboardTag, "tetragon", "security"}).
		Editable().
		Refresh("30s").
		Time("now-6h", "now").
		Timezone(common.TimeZoneBrowser).
		Tooltip(dashboard.DashboardCursorSyncCrosshair).
		Link(siblingsLink()).
		WithVariable(datasourceVar(promVar, "Prometheus", "prometheus")).
		WithVariable(datasourceVar(lokiVar, "Loki", "loki"))
}

func overview(b *book) *dashboard.DashboardBuilder {
	det := detectionsMetric + `{namespace=~"$namespace"}`
	ev := eventsMetric + `{namespace=~"$namespace"}`
	logSel := fmt.Sprintf(`{%s=~".+", %s=~"$namespace"}`, lkRule, lkNamespace)
	chains := detectionsMetric + `{category="` + chainCategory + `", namespace=~"$namespace"}`
	// Every record of an incident in the range, whatever its stream.
	incSel := fmt.Sprintf(`{%s=~".+", %s=~"$namespace"} | %s != ""`, lkServiceName, lkNamespace, lkIncident)

	return newDashboard(uidOverview, "Runtime security / Overview",
		"Detections and events from Tetragon, as counted by the detection_metrics connector, and the detection records in Loki.").
		WithVariable(selectAll(labelValuesVar("namespace", "Namespace", "label_values("+eventsMetric+", namespace)").
			Multi(true).IncludeAll(true).AllValue(".*"))).
		WithVariable(textboxVar("incident", "Incident",
			"An incident id (runtime_security.incident.id, the incident label of the RuntimeSecurityIncident alert): the Incident timeline panel shows its records. Click an id in the Incidents table to set it.")).
		WithRow(row("Summary")).
		WithPanel(b.stat("Detections", "Detections in the selected time range.", "short", Prom{
			Expr:   `sum(increase(` + det + `[$__range]))`,
			Reason: "the attack scenario fires rules, so the detections counter exists",
		}).Span(5).Decimals(0)).
		WithPanel(colorBySeverity(b.stat("Detections in range by severity", "Detections in the selected time range, per severity.", "short", Prom{
			Expr:   `sum by (severity) (increase(` + det + `[$__range]))`,
			Legend: "{{severity}}",
			Reason: "one series per severity the scenario's rules carry",
		}).Span(9).Decimals(0))).
		WithPanel(b.stat("Workloads with detections", "Distinct namespace/workload pairs with at least one detection in the range.", "short", Prom{
			Expr:         `count(sum by (namespace, workload) (increase(` + det + `[$__range])) > 0)`,
			AllowedEmpty: true,
			Reason:       "count() of nothing is empty: increase() ignores a new series' first sample, so detections that all landed before the connector's first flush of that series count as 0",
		}).Span(5).Decimals(0)).
		WithPanel(b.stat("Event rate", "Tetragon events per second ingested by all collectors.", "suffix: ev/s", Prom{
			Expr:   `sum(rate(` + ev + `[$__rate_interval]))`,
			Reason: "every event the scenario produces is counted by the connector",
		}).Span(5)).
		WithRow(row("Detections")).
		WithPanel(colorBySeverity(b.timeseries("Detections over time by severity", "Detections per minute, per severity.", "short", Prom{
			Expr:   `sum by (severity) (rate(` + det + `[$__rate_interval])) * 60`,
			Legend: "{{severity}}",
			Reason: "the scenario's detections produce series",
		}))).
		WithPanel(b.timeseries("Detections over time by rule", "Detections per minute, per rule.", "short", Prom{
			Expr:   `sum by (rule) (rate(` + det + `[$__rate_interval])) * 60`,
			Legend: "{{rule}}",
			Reason: "the scenario's detections produce series",
		})).
		WithPanel(b.timeseries("Detections over time by namespace", "Detections per minute, per namespace (_host: no pod, _container: container outside Kubernetes).", "short", Prom{
			Expr:   `sum by (namespace) (rate(` + det + `[$__rate_interval])) * 60`,
			Legend: "{{namespace}}",
			Reason: "the scenario's detections produce series",
		})).
		WithPanel(b.bargauge("Top workloads by detections", "The ten workloads with the most detections in the range. Click a bar to open the workload drill-down.", Prom{
			Expr:   `topk(10, sum by (namespace, workload) (increase(` + det + `[$__range])))`,
			Legend: "{{namespace}}/{{workload}}",
			Reason: "the scenario's detections produce series",
		}).DataLinks([]cogLink{
			dataLink("Workload drill-down", "/d/"+uidWorkload+"?var-namespace=${__field.labels.namespace}&var-workload=${__field.labels.workload}&${__url_time_range}&${datasource:queryparam}&${loki:queryparam}"),
		})).
		WithPanel(b.promTable("Detections by rule", "Detections per rule in the range, with the rule's category and severity.", "Detections", Prom{
			Expr:   `sum by (rule, category, severity) (increase(` + det + `[$__range]))`,
			Reason: "the scenario's detections produce series",
		}).OverrideByName("severity", []dashboard.DynamicConfigValue{
			{Id: "mappings", Value: severityMappings()},
			{Id: "custom.cellOptions", Value: map[string]any{"type": "color-text"}},
		})).
		WithPanel(b.lokiTable("MITRE ATT&CK techniques",
			"Detection records in the range per MITRE ATT&CK technique and rule, from the threat.technique.id the detection processor copies from each rule.",
			"Detections",
			fmt.Sprintf(`sum by (%s, %s) (count_over_time(%s | %s != "" [$__range]))`, lkTechnique, lkRule, logSel, lkTechnique),
			map[string]string{lkTechnique: "Technique", lkRule: "Rule"},
		)).
		WithRow(row("Incidents and chains")).
		WithPanel(b.stat("Chains fired", "Chain rules completed in the selected time range: each is an attack sequence (its steps in order, in one container or process tree) and completes once per incident.", "short", Prom{
			Expr:   `sum(` + firedInRange(chains) + `)`,
			Reason: "the attack scenario completes the shipped chains (all five fire on the simulator's attack in the detection processor's tests)",
		}).Span(6).Height(8).Decimals(0).NoValue("0").Thresholds(dashboard.NewThresholdsConfigBuilder().
			Mode(dashboard.ThresholdsModeAbsolute).
			Steps([]dashboard.Threshold{{Color: "green"}, {Value: ptr(1.0), Color: "red"}}))).
		WithPanel(b.promTable("Chains fired by workload", "Chain rules completed in the range, per chain, severity, namespace and workload. The Incidents table below lists the incidents; its Rules column names the chains too.", "Chains fired", Prom{
			Expr:   `sum by (rule, severity, namespace, workload) (` + firedInRange(chains) + `)`,
			Reason: "the attack scenario completes the shipped chains",
		}).Span(18).OverrideByName("severity", []dashboard.DynamicConfigValue{
			{Id: "mappings", Value: severityMappings()},
			{Id: "custom.cellOptions", Value: map[string]any{"type": "color-text"}},
		})).
		WithPanel(b.lokiColumnsTable("Incidents",
			"One row per incident with records in the range (detections of one container, or one host process tree, that followed each other within the detection processor's incidents.window), latest activity first. Severity, rules and detections are the incident's latest state (the record with the most detections): the highest severity, every rule and chain so far, every rule match so far (suppressed repeats included). First seen may precede the range. Click an id for its timeline.",
			[]lokiColumn{
				{name: "detections", expr: fmt.Sprintf(
					`topk by (%[1]s) (1, max_over_time(%[2]s | label_format %[3]s="detections" | unwrap %[4]s | __error__="" [$__range]) by (%[3]s, %[1]s, %[5]s, %[6]s, %[7]s, %[8]s, %[9]s))`,
					lkIncident, incSel, columnLabel, lkIncidentDetections, lkNamespace, lkPod, lkIncidentFirstSeen, lkIncidentSeverity, lkIncidentRules)},
				{name: "last_seen", expr: fmt.Sprintf(
					`max_over_time(%[2]s | label_format %[3]s="last_seen", rts_ts=`+"`{{ __timestamp__ | unixEpochMillis }}`"+` | unwrap rts_ts | __error__="" [$__range]) by (%[3]s, %[1]s)`,
					lkIncident, incSel, columnLabel)},
			},
			[]string{lkIncident, lkNamespace, lkPod, lkIncidentFirstSeen, "last_seen", lkIncidentSeverity, lkIncidentRules, "detections"},
			map[string]string{
				lkIncident: "Incident", lkNamespace: "Namespace", lkPod: "Pod", lkIncidentFirstSeen: "First seen",
				"last_seen": "Last seen", lkIncidentSeverity: "Severity", lkIncidentRules: "Rules", "detections": "Detections",
			}).
			Height(9).
			Decimals(0).
			OverrideByName("Incident", []dashboard.DynamicConfigValue{{Id: "links", Value: []map[string]any{{
				"title": "Incident timeline",
				"url":   "/d/" + uidOverview + "?var-incident=${__value.raw}&${__url_time_range}&${datasource:queryparam}&${loki:queryparam}&${namespace:queryparam}",
			}}}}).
			OverrideByName("Severity", []dashboard.DynamicConfigValue{
				{Id: "mappings", Value: severityMappings()},
				{Id: "custom.cellOptions", Value: map[string]any{"type": "color-text"}},
			}).
			OverrideByName("Last seen", []dashboard.DynamicConfigValue{{Id: "unit", Value: "dateTimeAsIso"}}).
			SortBy([]cog.Builder[common.TableSortByFieldState]{
				common.NewTableSortByFieldStateBuilder().DisplayName("Last seen").Desc(true),
			})).
		WithPanel(b.logs("Incident timeline",
			"Every record of the incident in the incident variable, oldest first: its detection count so far, rule and severity (none on a suppressed repeat or on a chain's condition step, an event no rule flags), the chain it completed, pod, container, executable, command line, file and peer. Expand a line for every attribute.",
			fmt.Sprintf(`{%s=~".+"} | %s != "" | %s="$incident"`, lkServiceName, lkIncident, lkIncident)+" | line_format "+incidentLine).
			SortOrder(common.LogsSortOrderAscending)).
		WithRow(row("Events")).
		WithPanel(b.timeseries("Event rate by type", "Tetragon events per second, per event type.", "suffix: ev/s", Prom{
			Expr:   `sum by (event_type) (rate(` + ev + `[$__rate_interval]))`,
			Legend: "{{event_type}}",
			Reason: "the scenario produces process_exec events at least",
		})).
		WithPanel(b.timeseries("Event rate by node", "Tetragon events per second, per node.", "suffix: ev/s", Prom{
			Expr:   `sum by (node) (rate(` + ev + `[$__rate_interval]))`,
			Legend: "{{node}}",
			Reason: "every event carries its node",
		})).
		WithRow(row("Detection records")).
		WithPanel(b.logs("Recent detections",
			"Detection records from Loki, newest first: severity, rule, technique, pod, container, node, executable and command line. Expand a line for every attribute.",
			logSel+" | line_format "+detectionLine))
}

func workload(b *book) *dashboard.DashboardBuilder {
	sel := `{namespace=~"$namespace", workload=~"$workload"}`
	det := detectionsMetric + sel
	ev := eventsMetric + sel

	return newDashboard(uidWorkload, "Runtime security / Workload",
		"Events, detections and detection records of one workload.").
		WithVariable(labelValuesVar("namespace", "Namespace", "label_values("+eventsMetric+", namespace)")).
		WithVariable(labelValuesVar("workload", "Workload", "label_values("+eventsMetric+`{namespace=~"$namespace"}, workload)`)).
		WithRow(row("Summary")).
		WithPanel(b.stat("Detections", "Detections of this workload in the range.", "short", Prom{
			Expr:   `sum(increase(` + det + `[$__range]))`,
			Reason: "the scenario's workload has detections",
		}).Span(8).Decimals(0)).
		WithPanel(b.stat("Events", "Tetragon events of this workload in the range.", "short", Prom{
			Expr:   `sum(increase(` + ev + `[$__range]))`,
			Reason: "the scenario's workload has events",
		}).Span(8).Decimals(0)).
		WithPanel(b.stat("Rules fired", "Distinct rules that fired on this workload in the range.", "short", Prom{
			Expr:         `count(sum by (rule) (increase(` + det + `[$__range])) > 0)`,
			AllowedEmpty: true,
			Reason:       "count() of nothing is empty: increase() ignores a new series' first sample",
		}).Span(8).Decimals(0)).
		WithRow(row("Activity")).
		WithPanel(b.timeseries("Events by type", "Events per second of this workload, per event type.", "suffix: ev/s", Prom{
			Expr:   `sum by (event_type) (rate(` + ev + `[$__rate_interval]))`,
			Legend: "{{event_type}}",
			Reason: "the scenario's workload has events",
		})).
		WithPanel(b.timeseries("Detections by rule", "Detections per minute of this workload, per rule.", "short", Prom{
			Expr:   `sum by (rule) (rate(` + det + `[$__rate_interval])) * 60`,
			Legend: "{{rule}}",
			Reason: "the scenario's workload has detections",
		})).
		WithPanel(b.promTable("Rules firing", "Rules that matched this workload's events, with detections in the range.", "Detections", Prom{
			Expr:   `sum by (rule, category, severity) (increase(` + det + `[$__range]))`,
			Reason: "the scenario's workload has detections",
		}).OverrideByName("severity", []dashboard.DynamicConfigValue{
			{Id: "mappings", Value: severityMappings()},
			{Id: "custom.cellOptions", Value: map[string]any{"type": "color-text"}},
		})).
		WithPanel(b.timeseries("Events by node", "Events per second of this workload, per node it runs on.", "suffix: ev/s", Prom{
			Expr:   `sum by (node) (rate(` + ev + `[$__rate_interval]))`,
			Legend: "{{node}}",
			Reason: "the scenario's workload has events",
		})).
		WithRow(row("Logs")).
		WithPanel(b.logs("Detection logs",
			"Detection records of this workload from Loki, newest first.",
			fmt.Sprintf(`{%s=~".+", %s=~"$namespace", %s=~"$workload"}`, lkRule, lkNamespace, lkWorkload)+" | line_format "+detectionLine)).
		WithPanel(b.logs("Process activity",
			"Every event of this workload from Loki (executions, exits, hooks), newest first.",
			fmt.Sprintf(`{%s=~"$namespace", %s=~"$workload"}`, lkNamespace, lkWorkload)+" | line_format "+activityLine))
}

func pipeline(b *book) *dashboard.DashboardBuilder {
	job := `job=~"$job"`
	tetragon := `receiver=~"tetragon.*"`
	queue := `otelcol_exporter_queue_size{` + job + `} / otelcol_exporter_queue_capacity{` + job + `}`

	return newDashboard(uidPipeline, "Runtime security / Pipeline health",
		"The collectors themselves: ingest per node, drops, export errors, queues, CPU and memory. Needs the collector's internal telemetry in Prometheus (scrape :8888 or push it over OTLP).").
		WithVariable(selectAll(labelValuesVar("job", "Collector job", `label_values(`+otelcolGauge("process_uptime", "_seconds_total")+`, job)`).
			Multi(true).IncludeAll(true).AllValue(".+"))).
		WithRow(row("Summary")).
		WithPanel(b.stat("Collector instances", "Collectors reporting internal telemetry.", "short", Prom{
			Expr:   `count(` + otelcolGauge("process_uptime", "_seconds_total", job) + `)`,
			Reason: "every running collector reports otelcol_process_uptime",
		})).
		WithPanel(b.stat("Events ingested", "Tetragon events per second over all nodes.", "suffix: ev/s", Prom{
			Expr:   `sum(rate(` + eventsMetric + `[$__rate_interval]))`,
			Reason: "the scenario's events are counted",
		})).
		WithPanel(b.stat("Export failures", "Log records and metric points that exporters failed to send in the range.", "short",
			Prom{
				Expr:         `sum(increase(` + otelcol("exporter_send_failed_log_records", job) + `[$__range]))`,
				Legend:       "log records",
				AllowedEmpty: true,
				Reason:       "the send_failed counters are created on the first failure; a healthy run has none",
			},
			Prom{
				Expr:         `sum(increase(` + otelcol("exporter_send_failed_metric_points", job) + `[$__range]))`,
				Legend:       "metric points",
				AllowedEmpty: true,
				Reason:       "the send_failed counters are created on the first failure; a healthy run has none",
			}).Decimals(0).NoValue("0").Thresholds(dashboard.NewThresholdsConfigBuilder().
			Mode(dashboard.ThresholdsModeAbsolute).
			Steps([]dashboard.Threshold{{Color: "green"}, {Value: ptr(1.0), Color: "red"}}))).
		WithPanel(b.stat("Fullest exporter queue", "The highest exporter sending-queue fill.", "percentunit", Prom{
			Expr:   `max(` + queue + `)`,
			Reason: "otlp_http has its sending queue on by default, so queue size and capacity exist",
		}).Thresholds(dashboard.NewThresholdsConfigBuilder().
			Mode(dashboard.ThresholdsModeAbsolute).
			Steps([]dashboard.Threshold{{Color: "green"}, {Value: ptr(0.5), Color: "orange"}, {Value: ptr(0.8), Color: "red"}}))).
		WithRow(row("Ingest")).
		WithPanel(b.timeseries("Events ingested per node", "Tetragon events per second, per node, as counted by the detection_metrics connector.", "suffix: ev/s", Prom{
			Expr:   `sum by (node) (rate(` + eventsMetric + `[$__rate_interval]))`,
			Legend: "{{node}}",
			Reason: "the scenario's events are counted",
		})).
		WithPanel(b.timeseries("Receiver accepted log records", "Log records per second the tetragon receiver pushed into the pipeline, per collector instance (one per node).", "short", Prom{
			Expr:   `sum by (instance) (rate(` + otelcol("receiver_accepted_log_records", tetragon, job) + `[$__rate_interval]))`,
			Legend: "{{instance}}",
			Reason: "the tetragon receiver reports through receiverhelper, which counts accepted records",
		})).
		WithPanel(b.timeseries("Receiver refused and failed log records", "Log records per second the pipeline refused (back-pressure, memory limiter) or that failed, per collector instance.", "short",
			Prom{
				Expr:   `sum by (instance) (rate(` + otelcol("receiver_refused_log_records", tetragon, job) + `[$__rate_interval]))`,
				Legend: "refused {{instance}}",
				Reason: "receiverhelper creates the counter at 0 with the first batch",
			},
			Prom{
				Expr:   `sum by (instance) (rate(` + otelcol("receiver_failed_log_records", tetragon, job) + `[$__rate_interval]))`,
				Legend: "failed {{instance}}",
				Reason: "receiverhelper creates the counter at 0 with the first batch",
			})).
		WithRow(row("Processing")).
		WithPanel(b.timeseries("Records dropped by processors", "Items in minus items out, per processor: the detection processor's suppression and filtering show here, as would any loss.", "short", Prom{
			Expr: `sum by (processor) (rate(` + otelcol("processor_incoming_items", job) + `[$__rate_interval]))` +
				` - sum by (processor) (rate(` + otelcol("processor_outgoing_items", job) + `[$__rate_interval]))`,
			Legend: "{{processor}}",
			Reason: "processorhelper-based processors (memory_limiter, detection) count incoming and outgoing items",
		})).
		WithPanel(b.timeseries("Memory limiter refusals", "Log records per second the memory limiter refused: the collector is at its memory limit.", "short", Prom{
			Expr:         `sum by (instance) (rate(` + otelcol("processor_memory_limiter_refused_log_records", job) + `[$__rate_interval]))`,
			Legend:       "{{instance}}",
			AllowedEmpty: true,
			Reason:       "the refused counter is created on the first refusal; a healthy run has none",
		})).
		WithRow(row("Workload profiles")).
		WithPanel(b.timeseries("Workload profiles by state", "Profiles each collector holds, per state: learned profiles still learning or enforcing, and reviewed file profiles (a learned profile shadowed by a file is not counted). Summed over collectors: a workload on several nodes has a profile in each node's collector.", "short", Prom{
			Expr:   `sum by (state) (` + wpGauge("workloads", job) + `)`,
			Legend: "{{state}}",
			Reason: "the shipped config runs workload_profile, whose async gauge is observed for every state (0 included) at each collection",
		})).
		WithPanel(b.timeseries("Profile novelties by kind", "Records per second an enforcing or file profile found novel, per kind (a record novel in two kinds counts in both); the unexpected_* rules decide which become detections. Learning profiles find nothing novel.", "short", Prom{
			Expr:   `sum by (kind) (rate(` + otelcol(wpMetric+"novelties", job) + `[$__rate_interval]))`,
			Legend: "{{kind}}",
			Reason: "the shipped config runs workload_profile, whose async counter is observed for every kind (0 included) at each collection",
		})).
		WithPanel(b.timeseries("Profile items and largest profile", "Items (executables, parent-child pairs, file classes, syscalls, ports, peer classes) held by all active profiles of each collector, and the item count of its largest profile.", "short",
			Prom{
				Expr:   `sum by (instance) (` + wpGauge("items", job) + `)`,
				Legend: "all profiles {{instance}}",
				Reason: "the shipped config runs workload_profile, whose async gauge is observed at each collection",
			},
			Prom{
				Expr:   `max by (instance) (` + wpGauge("largest_items", job) + `)`,
				Legend: "largest profile {{instance}}",
				Reason: "the shipped config runs workload_profile, whose async gauge is observed at each collection",
			})).
		WithPanel(b.timeseries("Profile overflow by list", "Items the active learned profiles could not keep because a limits cap was reached, per list: they stay novel once enforcing, so raise the cap (limits.<list>) or review the workload. Drops when an image change or pruning starts a profile afresh.", "short", Prom{
			Expr:   `sum by (list) (` + wpGauge("overflow_items", job) + `)`,
			Legend: "{{list}}",
			Reason: "the shipped config runs workload_profile, whose async gauge is observed for every list (0 included) at each collection",
		})).
		WithPanel(b.timeseries("Profile image restarts", "Image changes per minute that restarted the learning of a workload's profile, per collector (rolling updates show here).", "short", Prom{
			Expr:   `sum by (instance) (rate(` + otelcol(wpMetric+"image_restarts", job) + `[$__rate_interval])) * 60`,
			Legend: "{{instance}}",
			Reason: "the shipped config runs workload_profile, whose async counter is observed (0 included) at each collection",
		}).Span(8)).
		WithPanel(b.timeseries("Unprofiled records (max_workloads reached)", "Records per second of container workloads left unprofiled because limits.max_workloads learned profiles existed, per collector: those workloads get no unexpected_* detections.", "short", Prom{
			Expr:   `sum by (instance) (rate(` + otelcol(wpMetric+"unprofiled_records", job) + `[$__rate_interval]))`,
			Legend: "{{instance}}",
			Reason: "the shipped config runs workload_profile, whose async counter is observed (0 included) at each collection",
		}).Span(8)).
		WithPanel(b.timeseries("Profile reloads and storage errors", "Since each collector started, summed: profiles_files reloads that succeeded, reloads rejected per reason (the previous file profiles stay active) and failed storage operations per operation (the learned profiles stay in memory). Cumulative counts, not rates, so that a first failure shows (a counter created by it has no earlier sample to rate against); a step up is a new event.", "short",
			Prom{
				Expr:         `sum(` + otelcol(wpMetric+"reloads", job) + `)`,
				Legend:       "reloads",
				AllowedEmpty: true,
				Reason:       "created on the first successful profiles_files reload; the run changes no profile file",
			},
			Prom{
				Expr:         `sum by (reason) (` + otelcol(wpMetric+"reload_failures", job) + `)`,
				Legend:       "reload failed: {{reason}}",
				AllowedEmpty: true,
				Reason:       "created on the first rejected profiles_files reload; a healthy run has none",
			},
			Prom{
				Expr:         `sum by (operation) (` + otelcol(wpMetric+"storage_errors", job) + `)`,
				Legend:       "storage error: {{operation}}",
				AllowedEmpty: true,
				Reason:       "created on the first failed storage operation; a healthy run has none",
			}).Span(8).Decimals(0)).
		WithRow(row("Export")).
		WithPanel(b.timeseries("Sent per exporter", "Log records and metric points per second each exporter delivered.", "short",
			Prom{
				Expr:   `sum by (exporter) (rate(` + otelcol("exporter_sent_log_records", job) + `[$__rate_interval]))`,
				Legend: "log records {{exporter}}",
				Reason: "the Loki exporter (otlp_http) sends the scenario's records",
			},
			Prom{
				Expr:   `sum by (exporter) (rate(` + otelcol("exporter_sent_metric_points", job) + `[$__rate_interval]))`,
				Legend: "metric points {{exporter}}",
				Reason: "the Prometheus exporter sends the connector's metrics",
			})).
		WithPanel(b.timeseries("Export errors", "Records and points per second that failed to send (send_failed) or to enter the sending queue (enqueue_failed).", "short",
			Prom{
				Expr:         `sum by (exporter) (rate(` + otelcol("exporter_send_failed_log_records", job) + `[$__rate_interval]))`,
				Legend:       "log records {{exporter}}",
				AllowedEmpty: true,
				Reason:       "created on the first failed send; a healthy run has none",
			},
			Prom{
				Expr:         `sum by (exporter) (rate(` + otelcol("exporter_send_failed_metric_points", job) + `[$__rate_interval]))`,
				Legend:       "metric points {{exporter}}",
				AllowedEmpty: true,
				Reason:       "created on the first failed send; a healthy run has none",
			},
			Prom{
				Expr:         `sum by (exporter) (rate(` + otelcol("exporter_enqueue_failed_log_records", job) + `[$__rate_interval]))`,
				Legend:       "log records, queue full {{exporter}}",
				AllowedEmpty: true,
				Reason:       "created when the sending queue first rejects data; a healthy run has none",
			},
			Prom{
				Expr:         `sum by (exporter) (rate(` + otelcol("exporter_enqueue_failed_metric_points", job) + `[$__rate_interval]))`,
				Legend:       "metric points, queue full {{exporter}}",
				AllowedEmpty: true,
				Reason:       "created when the sending queue first rejects data; a healthy run has none",
			})).
		WithPanel(b.timeseries("Exporter queue size and capacity", "Batches waiting in each exporter's sending queue, against its capacity.", "short",
			Prom{
				Expr:   `max by (instance, exporter) (otelcol_exporter_queue_size{` + job + `})`,
				Legend: "size {{exporter}} {{instance}}",
				Reason: "otlp_http has its sending queue on by default",
			},
			Prom{
				Expr:   `max by (instance, exporter) (otelcol_exporter_queue_capacity{` + job + `})`,
				Legend: "capacity {{exporter}} {{instance}}",
				Reason: "otlp_http has its sending queue on by default",
			})).
		WithPanel(b.timeseries("Exporter queue fill", "Queue size over capacity, per exporter and collector: near 100% the queue starts rejecting data.", "percentunit", Prom{
			Expr:   `max by (instance, exporter) (` + queue + `)`,
			Legend: "{{exporter}} {{instance}}",
			Reason: "otlp_http has its sending queue on by default",
		}).Max(1)).
		WithRow(row("Resources")).
		WithPanel(b.timeseries("Collector CPU", "CPU cores used by each collector (user + system).", "short", Prom{
			Expr:   `sum by (instance) (rate(` + otelcol("process_cpu_seconds", job) + `[$__rate_interval]))`,
			Legend: "{{instance}}",
			Reason: "every collector reports its CPU time",
		}).Span(8)).
		WithPanel(b.timeseries("Collector memory (RSS)", "Resident memory of each collector.", "bytes", Prom{
			Expr:   `max by (instance) (` + otelcolGauge("process_memory_rss", "_bytes", job) + `)`,
			Legend: "{{instance}}",
			Reason: "every collector reports its RSS",
		}).Span(8)).
		WithPanel(b.timeseries("Collector Go heap", "Bytes of allocated heap objects in each collector.", "bytes", Prom{
			Expr:   `max by (instance) (otelcol_process_runtime_heap_alloc_bytes{` + job + `})`,
			Legend: "{{instance}}",
			Reason: "every collector reports its heap",
		}).Span(8))
}

func ptr[T any](v T) *T { return &v }
