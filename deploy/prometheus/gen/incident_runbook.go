// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package main

// IncidentRunbook is the page of the alertmanager exporter's incident alert, named after its
// alertname (the exporter's RuntimeSecurityIncident), in RunbookDir.
const IncidentRunbook = "RuntimeSecurityIncident.md"

// alertField documents one label or annotation of the exporter's alerts.
type alertField struct {
	Name string
	Doc  string
}

// incidentRunbook lists what the exporter puts on an incident's alert (exporter/alertmanagerexporter,
// alert.go); TestIncidentRunbookMatchesExporter holds the two lists to the exporter's code.
var incidentRunbook = struct {
	Labels      []alertField
	Annotations []alertField
}{
	Labels: []alertField{
		{"alertname", "`RuntimeSecurityIncident` (`RuntimeSecurityDetection` for a detection without incident)"},
		{"incident", "the incident id, a UUID: `runtime_security.incident.id` on every record of the incident (`runtime_security_incident_id` in Loki); the same for the incident's whole life"},
		{"rule", "the incident's first rule; absent once a chain completed"},
		{"chain", "the first chain rule that completed in the incident; replaces `rule`"},
		{"severity", "the highest severity so far: `critical`, `warning` or `info`"},
		{"namespace", "the Kubernetes namespace; `_host` for a process of the node, `_container` for a container outside Kubernetes (as in the Prometheus alerts, so that inhibition matches)"},
		{"workload", "the workload; `_unknown` for a pod without one, the namespace's placeholder without Kubernetes"},
		{"pod", "the pod, when there is one"},
		{"container", "the container name, when known"},
		{"node", "the node"},
	},
	Annotations: []alertField{
		{"summary", "severity, incident or detection, the rule or chain, and where (`namespace/pod on node …`)"},
		{"description", "the incident id, its detection count between first and last seen, the rules so far, the completed chains, and the latest record's rule, its description and process"},
		{"detections", "rule matches of the incident so far, suppressed repeats included"},
		{"first_seen", "RFC 3339 event time of the incident's first detection"},
		{"last_seen", "RFC 3339 event time of its latest record"},
		{"rules", "the rules and chains of the incident so far, first-seen order (`(+N more)` past the processor's cap)"},
		{"chains", "the chain rules completed in the incident, when any"},
		{"mitre", "the MITRE ATT&CK technique ids of those rules"},
		{"command_line", "the latest record's process command line"},
		{"parent_chain", "the parent's executable, then the ancestors, nearest first, separated by arrows (←)"},
		{"image", "the container image"},
		{"runbook_url", "from the exporter's `runbook_url_template`: by default this directory's page of the alert's `chain` label, else of its `rule` label"},
		{"evidence_url", "from `evidence_url_template`: Grafana Explore on the incident's records in Loki, from 5 minutes before the first detection to 5 minutes after the last (set your Grafana URL and Loki data source uid in the template)"},
		{"superseded_by", "only on a resolved previous label set of the incident: which label changed (`severity=…`, `chain=…`)"},
	},
}
