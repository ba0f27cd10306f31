// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package alertmanagerexporter

import (
	"encoding/json"
	"net/url"
	"strings"
	"text/template"
)

// templateData is what runbook_url_template and evidence_url_template see.
type templateData struct {
	Incident  string // incident id; empty for a detection without incident
	Rule      string // the alert's rule label: the incident's first rule, or the detection's rule
	Chain     string // the first completed chain of the incident, if any
	Namespace string // as labelled: a placeholder (_host, _container) without Kubernetes namespace
	Workload  string
	Pod       string
	Container string
	Node      string
	From      string // RFC 3339: 5 minutes before the first detection
	To        string // RFC 3339: 5 minutes after the last detection
}

// templateFields lists templateData's fields for error messages.
const templateFields = ".Incident .Rule .Chain .Namespace .Workload .Pod .Container .Node .From .To"

// templateFuncs adds to text/template's built-ins (urlquery, printf, …) what URLs with embedded
// queries need.
var templateFuncs = template.FuncMap{
	// json quotes a string as a JSON string (Grafana's panes parameter is JSON).
	"json": func(s string) (string, error) {
		b, err := json.Marshal(s)
		return string(b), err
	},
	// pathescape escapes a path segment (a rule name with spaces in a runbook URL).
	"pathescape": url.PathEscape,
}

var sampleTemplateData = templateData{
	Incident:  "0b6f4c1e-8a57-5d5e-9a55-6a3c1f0d2e11",
	Rule:      "terminal_shell_in_container",
	Chain:     "shell_then_download",
	Namespace: "shop",
	Workload:  "checkout",
	Pod:       "checkout-7d4b9c-x2x9q",
	Container: "app",
	Node:      "node-1",
	From:      "2025-01-01T10:00:00Z",
	To:        "2025-01-01T10:10:00Z",
}

func execTemplate(t *template.Template, d templateData) (string, error) {
	var b strings.Builder
	if err := t.Execute(&b, d); err != nil {
		return "", err
	}
	return b.String(), nil
}

// templateRef is a validated URL template; the zero value (an empty template) gives "".
type templateRef struct{ t *template.Template }

// exec gives the URL for d, or "" when the template is empty or fails (it ran on a sample at
// validation, so a failure means an odd value, and a missing link beats a missing alert).
func (r templateRef) exec(d templateData) string {
	if r.t == nil {
		return ""
	}
	s, err := execTemplate(r.t, d)
	if err != nil {
		return ""
	}
	return s
}
