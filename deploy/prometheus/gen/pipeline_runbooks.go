// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package main

// PipelineRunbook is the page of one pipeline-health alert.
type PipelineRunbook struct {
	Title   string
	Meaning string
	Triage  []string
	Fix     []string
}

var runbookCollectorDown = PipelineRunbook{
	Title:   "Collector down",
	Meaning: "Prometheus cannot scrape the collector's own telemetry endpoint (`:8888/metrics` by default), so `up` is 0. Either the collector pod is not running or it is not reachable. On that node, Tetragon events are neither turned into detections nor stored, which leaves a blind spot.",
	Triage: []string{
		"`kubectl -n <namespace> get pods -l app.kubernetes.io/name=otelcol-runtime-security -o wide`: find the pod on the instance's node. Look for CrashLoopBackOff or OOMKilled.",
		"`kubectl logs --previous <pod>`: a configuration error (for example an invalid rules file, or a Validate message) stops the collector at start.",
		"OOMKilled: check the `memory_limiter` settings against the pod limit, and look for event floods in `RuntimeSecurityEventsDropped`.",
		"The pod runs but is unreachable: check NetworkPolicies and the `service::telemetry::metrics` address (it must not listen on localhost only).",
	},
	Fix: []string{"Fix the configuration or raise the memory limit. The DaemonSet restarts the pod. Events that occurred while the collector was down are not replayed unless the receiver reads Tetragon's export file (`file` mode with storage)."},
}

var runbookMetricsAbsent = PipelineRunbook{
	Title:   "No runtime-security metrics at all",
	Meaning: "`runtime_security_events_total` has had no sample anywhere for 20 minutes. Either no collector is running, or every collector fails to deliver metrics (`detection_metrics` → `prometheus_remote_write` → Prometheus). None of the detection alerts can fire while this is the case.",
	Triage: []string{
		"Are collectors running at all? See [RuntimeSecurityCollectorDown](RuntimeSecurityCollectorDown.md).",
		"`RuntimeSecurityExportFailures` with `signal=\"metrics\"`: remote write is failing. Check the exporter endpoint, authentication, and that Prometheus runs with `--web.enable-remote-write-receiver`.",
		"Is the metrics pipeline wired? `service::pipelines::metrics` must have `receivers: [detection_metrics]`, and the logs pipeline must list `detection_metrics` among its exporters.",
		"Has the metric been renamed? A UTF-8 `translation_strategy` on the exporter keeps the dots (`runtime_security.events_total`), and the alert rules no longer match.",
	},
	Fix: []string{"Restore the path. The connector resends its full cumulative state every flush, so counts recover without gaps in the totals. Only the alerts in between were missed."},
}

var runbookNoEvents = PipelineRunbook{
	Title:   "No Tetragon events from a node",
	Meaning: "The collector on a node has reported no Tetragon event for at least 15 minutes, or the node's series stopped arriving (the node was seen within the last hour). A live Kubernetes node always produces process events (kubelet, probes, runtimes), so silence means that Tetragon, the connection to it, or the collector is broken.",
	Triage: []string{
		"Is Tetragon running on the node? `kubectl -n kube-system get pods -l app.kubernetes.io/name=tetragon -o wide`.",
		"Collector telemetry for that node: `otelcol_receiver_tetragon_grpc_disconnects`, `otelcol_receiver_tetragon_grpc_reconnects` and `otelcol_receiver_tetragon_decode_errors` show connection and decoding trouble.",
		"The collector logs on that node: socket permission errors (`/var/run/tetragon/tetragon.sock`) or a wrong `endpoint`.",
		"Was the node removed (autoscaling)? Then the alert resolves by itself within an hour, and you can silence it.",
	},
	Fix: []string{"Restart Tetragon or fix the receiver's endpoint or permissions. The receiver reconnects with backoff by itself once Tetragon is back."},
}

var runbookEventsDropped = PipelineRunbook{
	Title:   "Events dropped",
	Meaning: "Events were refused or dropped in the last 5 minutes. The `reason` label says where: `tetragon_receiver_dropped` (the pipeline rejected a batch with a permanent error), `receiver_refused`/`receiver_failed` (the collector's receiver counters), `memory_limiter_refused` (the collector is near its memory limit and sheds load), or `tetragon_rate_limited` (Tetragon itself dropped events because of its export rate limit and reported it with a `rate_limit_info` event). Detections on dropped events are lost.",
	Triage: []string{
		"`memory_limiter_refused`: compare `process_memory_rss` with the pod limit. An event flood shows as a spike in `rate(runtime_security_events_total[5m])` by `event_type` and `workload`.",
		"`tetragon_rate_limited`: the node produces more events than Tetragon's `--export-rate-limit`. Find the noisy workload with `topk(5, sum by (namespace, workload) (rate(runtime_security_events_total{node=\"<node>\"}[5m])))`.",
		"`tetragon_receiver_dropped`: look in the collector logs for the permanent error returned downstream.",
	},
	Fix: []string{"Filter the noisy events at the source (a Tetragon TracingPolicy selector, or the receiver's `deny_list`). Raise the memory limit or `memory_limiter` thresholds. Scale the backends when exporters push back."},
}

var runbookExportFailures = PipelineRunbook{
	Title:   "Export failures",
	Meaning: "An exporter has been failing to send logs (to Loki) or metrics (remote write to Prometheus) for more than 5 minutes. The sending queue retries, but once the queue is full or retries run out, data is lost.",
	Triage: []string{
		"The collector logs: the exporter logs each failed attempt with the HTTP status or network error.",
		"Loki (`signal=\"logs\"`): check the `/otlp` endpoint, tenant and authentication headers, and ingestion limits (429 means rate limiting).",
		"Prometheus (`signal=\"metrics\"`): check `--web.enable-remote-write-receiver`. Out-of-order or duplicate sample errors point to two collectors writing the same series.",
		"Queue fill level: see [RuntimeSecurityExporterQueueNearlyFull](RuntimeSecurityExporterQueueNearlyFull.md).",
	},
	Fix: []string{"Fix the endpoint or credentials, or raise the backend's limits. Queued data is sent once the backend accepts it."},
}

var runbookQueueNearlyFull = PipelineRunbook{
	Title:   "Exporter queue nearly full",
	Meaning: "`otelcol_exporter_queue_size / otelcol_exporter_queue_capacity` has been above 80% for 5 minutes. The backend is slower than the event rate or is unreachable. When the queue is full, new data is rejected (`otelcol_exporter_enqueue_failed_*`) and lost.",
	Triage: []string{
		"Check `RuntimeSecurityExportFailures` for the same exporter.",
		"Compare the input rate with the send rate: `rate(otelcol_exporter_sent_log_records[5m])` (or the same with `_total`).",
	},
	Fix: []string{"Scale the backend or raise `sending_queue::queue_size` (with `storage` set, the queue is kept on disk). Reduce the volume at the source."},
}

var runbookSeriesCap = PipelineRunbook{
	Title:   "Series cap reached",
	Meaning: "The `detection_metrics` connector holds `max_series` distinct series of a metric. From now on, increments of new label sets go to the overflow series (`otel_metric_overflow=\"true\"`, labels `_overflow`). Totals stay right, but the per-namespace, per-workload and per-rule breakdowns are incomplete. A critical detection that was folded into the overflow still fires `RuntimeSecurityCriticalDetection`, with `rule=\"_overflow\"` (see [_overflow](_overflow.md)).",
	Triage: []string{
		"Which label explodes? `count by (namespace) (runtime_security_events_total{instance=\"<instance>\"})` and the same by `workload`. Workloads named after pods (bare pods or Jobs) are the usual cause.",
		"`otelcol_detection_metrics_series` and `otelcol_detection_metrics_overflow_increments` on the collector show the size and the folded increments.",
	},
	Fix: []string{"Raise `max_series::events` / `max_series::detections` when the cluster is simply large, and make sure Prometheus can take the cardinality. Otherwise fix the source of churning workload names. The overflow series and the alert remain until the collector restarts."},
}

var runbookRulesReload = PipelineRunbook{
	Title:   "Detection rules reload failed",
	Meaning: "The detection processor rejected a changed rules file, because it was unreadable or invalid. The previous ruleset keeps running, so the intended change (a new rule or an exception) is not active.",
	Triage: []string{
		"The collector logs contain the error with file, line and rule (`File:Line: rule \"Name\": field: message`).",
		"Validate the file offline before you roll it out, with `bin/ruletest` (see `cmd/ruletest`).",
	},
	Fix: []string{"Correct the file (ConfigMap). It is reloaded automatically on change or on the next `reload_interval` check. `otelcol_processor_detection_reloads` increases when the reload succeeds."},
}

// overflowRunbook documents the rule="_overflow" detection alerts.
var overflowRunbook = PipelineRunbook{
	Title:   "Detections folded into the overflow series (`rule=\"_overflow\"`)",
	Meaning: "A detection alert with `rule=\"_overflow\"` means that the `detection_metrics` connector reached its `max_series::detections` cap. It folded detections of new label sets into the overflow series, which keeps only their severity. The detections themselves are complete in Loki. Only the metric breakdown is lost.",
	Triage: []string{
		"Find the real detections in Loki by severity: `{service_name=~\".+\"} | runtime_security_severity=\"critical\"` around the alert's start time. Then follow the runbook of each rule you find.",
		"Handle the cap itself: see [RuntimeSecuritySeriesCapReached](RuntimeSecuritySeriesCapReached.md).",
	},
	Fix: []string{"Raise `max_series::detections` or remove the source of cardinality. Then restart the collector to clear the overflow series."},
}
