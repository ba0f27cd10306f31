// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package alertmanagerexporter

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/attrkey"
)

// alert is one element of the JSON array Alertmanager's POST /api/v2/alerts takes.
type alert struct {
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     time.Time         `json:"startsAt"`
	EndsAt       time.Time         `json:"endsAt"`
	GeneratorURL string            `json:"generatorURL,omitempty"`
}

const (
	alertnameIncident  = "RuntimeSecurityIncident"
	alertnameDetection = "RuntimeSecurityDetection"

	severityCritical = attrkey.SeverityCritical
	severityWarning  = attrkey.SeverityWarning
	severityInfo     = attrkey.SeverityInfo

	// placeholderUnknown labels a missing workload of a namespaced pod, as the detection_metrics
	// connector does, so that inhibition by (namespace, workload) matches its alerts.
	placeholderUnknown = attrkey.PlaceholderUnknown

	// maxAnnotationBytes bounds each annotation value: a command line can be megabytes, and
	// Alertmanager keeps and forwards every annotation of every alert.
	maxAnnotationBytes = 1024
	truncatedMarker    = "…[truncated]"

	// evidenceMargin widens the evidence link's time range around the incident.
	evidenceMargin = 5 * time.Minute
)

// Label names the exporter sets; static_labels may not use them.
const (
	labelAlertname = "alertname"
	labelIncident  = "incident"
	labelSeverity  = "severity"
	labelRule      = "rule"
	labelChain     = "chain"
	labelNamespace = "namespace"
	labelWorkload  = "workload"
	labelPod       = "pod"
	labelContainer = "container"
	labelNode      = "node"
)

var ownLabels = []string{labelAlertname, labelIncident, labelSeverity, labelRule, labelChain, labelNamespace, labelWorkload, labelPod, labelContainer, labelNode}

// candidate is the record chosen to represent one alert of a batch, with what the batch's other
// records of the same alert add to it.
type candidate struct {
	res pcommon.Resource
	lr  plog.LogRecord
	// incident is the incident id; empty for a detection without incident.
	incident string
	// labels are computed at collection for a lone detection (they are its identity) and after
	// deduplication for an incident.
	labels   map[string]string
	severity string
	// detections is the incident's count, or for a lone detection the matches its records stand
	// for in this batch (suppressed repeats included).
	detections          int64
	firstSeen, lastSeen time.Time
}

// newer reports whether c describes a later state of its incident than o.
func (c *candidate) newer(o *candidate) bool {
	if c.detections != o.detections {
		return c.detections > o.detections
	}
	return c.lastSeen.After(o.lastSeen)
}

// recordTime is the event time of a record, else when it was observed, else now.
func recordTime(lr plog.LogRecord, now time.Time) time.Time {
	if ts := lr.Timestamp(); ts != 0 {
		return ts.AsTime()
	}
	if ts := lr.ObservedTimestamp(); ts != 0 {
		return ts.AsTime()
	}
	return now
}

// newCandidate reads what identifies and orders the alert of a detection record.
func newCandidate(res pcommon.Resource, lr plog.LogRecord, now time.Time) *candidate {
	attrs := lr.Attributes()
	c := &candidate{res: res, lr: lr, incident: attrkey.Str(attrs, attrkey.IncidentID)}
	t := recordTime(lr, now)
	if c.incident != "" {
		sev := attrkey.Str(attrs, attrkey.IncidentSeverity)
		if sev == "" {
			sev = attrkey.Str(attrs, attrkey.Severity)
		}
		c.severity = attrkey.NormalizeSeverity(sev)
		c.firstSeen = timeAttr(attrs, attrkey.IncidentFirstSeen, t)
		c.lastSeen = timeAttr(attrs, attrkey.IncidentLastSeen, t)
		c.detections = max(intAttr(attrs, attrkey.IncidentDetections), 1)
		return c
	}
	c.severity = attrkey.NormalizeSeverity(attrkey.Str(attrs, attrkey.Severity))
	c.firstSeen, c.lastSeen = t, t
	c.detections = 1 + max(intAttr(attrs, attrkey.SuppressedCount), 0)
	c.labels = detectionLabels(res, attrs, c.severity)
	return c
}

// mergeLone folds another record of the same lone detection alert into c; the latest record
// provides the annotations.
func (c *candidate) mergeLone(o *candidate) {
	c.detections += o.detections
	if o.firstSeen.Before(c.firstSeen) {
		c.firstSeen = o.firstSeen
	}
	if !o.lastSeen.Before(c.lastSeen) {
		c.lastSeen = o.lastSeen
		c.res, c.lr = o.res, o.lr
	}
}

// location is the where of a record's labels: namespace, workload, pod, container, node, with the
// detection_metrics connector's placeholders for the namespace and workload.
func location(res pcommon.Resource, l map[string]string) {
	attrs := res.Attributes()
	ns, wl := attrkey.Location(attrkey.Str(attrs, attrkey.K8sNamespaceName),
		attrkey.Str(attrs, attrkey.K8sWorkloadName), attrkey.Str(attrs, attrkey.ContainerID))
	l[labelNamespace], l[labelWorkload] = ns, wl
	putNonEmpty(l, labelPod, attrkey.Str(attrs, attrkey.K8sPodName))
	putNonEmpty(l, labelContainer, attrkey.Str(attrs, attrkey.K8sContainerName))
	putNonEmpty(l, labelNode, attrkey.Str(attrs, attrkey.K8sNodeName))
}

func detectionLabels(res pcommon.Resource, attrs pcommon.Map, severity string) map[string]string {
	l := map[string]string{
		labelAlertname: alertnameDetection,
		labelRule:      attrkey.Str(attrs, attrkey.RuleName),
		labelSeverity:  severity,
	}
	location(res, l)
	return l
}

// incidentLabels are the identity of an incident's alert: they change only when its severity
// rises or its first chain completes.
func incidentLabels(c *candidate) map[string]string {
	attrs := c.lr.Attributes()
	l := map[string]string{
		labelAlertname: alertnameIncident,
		labelIncident:  c.incident,
		labelSeverity:  c.severity,
	}
	if chain := firstChain(attrs); chain != "" {
		l[labelChain] = chain
	} else {
		l[labelRule] = firstRule(attrs)
	}
	location(c.res, l)
	return l
}

func firstRule(attrs pcommon.Map) string {
	if r := sliceStrings(attrs, attrkey.IncidentRules); len(r) > 0 && r[0] != "" {
		return r[0]
	}
	return attrkey.Str(attrs, attrkey.RuleName)
}

func firstChain(attrs pcommon.Map) string {
	if ch := sliceStrings(attrs, attrkey.IncidentChains); len(ch) > 0 && ch[0] != "" {
		return ch[0]
	}
	return attrkey.Str(attrs, attrkey.Chain)
}

// alertBuilder turns candidates into alerts.
type alertBuilder struct {
	cfg            *Config
	runbook        templateRef
	evidence       templateRef
	resolveTimeout time.Duration
}

// build returns the firing alert of c, posted at now.
func (b *alertBuilder) build(c *candidate, now time.Time) alert {
	attrs := c.lr.Attributes()
	resAttrs := c.res.Attributes()
	l := c.labels
	for k, v := range b.cfg.StaticLabels {
		l[k] = v
	}

	var rules, techniques, chains []string
	if c.incident != "" {
		rules = sliceStrings(attrs, attrkey.IncidentRules)
		techniques = sliceStrings(attrs, attrkey.IncidentTechniques)
		chains = sliceStrings(attrs, attrkey.IncidentChains)
	}
	if len(rules) == 0 {
		rules = sliceStrings(attrs, attrkey.MatchedRules)
		if len(rules) == 0 {
			rules = []string{attrkey.Str(attrs, attrkey.RuleName)}
		}
	}
	if len(techniques) == 0 {
		techniques = sliceStrings(attrs, attrkey.ThreatTechniqueID)
	}
	if len(chains) == 0 {
		if ch := attrkey.Str(attrs, attrkey.Chain); ch != "" {
			chains = []string{ch}
		}
	}
	rulesText := strings.Join(rules, ", ")
	if n := intAttr(attrs, attrkey.IncidentRulesOverflow); n > 0 {
		rulesText += fmt.Sprintf(" (+%d more)", n)
	}

	first, last := c.firstSeen.UTC(), c.lastSeen.UTC()
	a := map[string]string{
		"summary":     b.summary(c, l),
		"description": b.description(c, attrs, rulesText, chains),
		"detections":  strconv.FormatInt(c.detections, 10),
		"first_seen":  first.Format(time.RFC3339Nano),
		"last_seen":   last.Format(time.RFC3339Nano),
		"rules":       rulesText,
	}
	putNonEmpty(a, "command_line", attrkey.Str(attrs, attrkey.ProcessCommandLine))
	putNonEmpty(a, "parent_chain", parentChain(attrs))
	putNonEmpty(a, "image", attrkey.Str(resAttrs, attrkey.ContainerImageName))
	putNonEmpty(a, "mitre", strings.Join(techniques, ", "))
	putNonEmpty(a, "chains", strings.Join(chains, ", "))

	td := templateData{
		Incident:  c.incident,
		Rule:      l[labelRule],
		Chain:     l[labelChain],
		Namespace: l[labelNamespace],
		Workload:  l[labelWorkload],
		Pod:       l[labelPod],
		Container: l[labelContainer],
		Node:      l[labelNode],
		From:      first.Add(-evidenceMargin).Format(time.RFC3339),
		To:        last.Add(evidenceMargin).Format(time.RFC3339),
	}
	if td.Rule == "" {
		td.Rule = firstRule(attrs)
	}
	runbook := b.runbook.exec(td)
	evidence := b.evidence.exec(td)
	putNonEmpty(a, "runbook_url", runbook)
	putNonEmpty(a, "evidence_url", evidence)
	for k, v := range a {
		a[k] = truncate(v, maxAnnotationBytes)
	}

	generator := evidence
	if generator == "" {
		generator = runbook
	}
	starts := c.firstSeen
	if starts.After(now) { // a node's clock ahead of ours: Alertmanager wants startsAt <= endsAt
		starts = now
	}
	return alert{
		Labels:       l,
		Annotations:  a,
		StartsAt:     starts.UTC(),
		EndsAt:       now.Add(b.resolveTimeout).UTC(),
		GeneratorURL: generator,
	}
}

// resolved is the previous label set of an incident whose labels changed, ending now, with the
// current annotations and what superseded it.
func resolved(prev map[string]string, cur alert, now time.Time) alert {
	a := maps.Clone(cur.Annotations)
	var changes []string
	for _, k := range []string{labelSeverity, labelChain} {
		if v := cur.Labels[k]; v != prev[k] && v != "" {
			changes = append(changes, k+"="+v)
		}
	}
	a["superseded_by"] = "the incident's alert with " + strings.Join(changes, ", ")
	starts := cur.StartsAt
	if starts.After(now) {
		starts = now
	}
	return alert{Labels: prev, Annotations: a, StartsAt: starts, EndsAt: now.UTC(), GeneratorURL: cur.GeneratorURL}
}

func (b *alertBuilder) summary(c *candidate, l map[string]string) string {
	what := "rule " + l[labelRule]
	if ch := l[labelChain]; ch != "" {
		what = "chain " + ch
	}
	kind := "detection"
	if c.incident != "" {
		kind = "incident"
	}
	return fmt.Sprintf("%s runtime-security %s: %s %s", strings.ToUpper(l[labelSeverity]), kind, what, where(c, l))
}

// where says in one phrase where the detection happened.
func where(c *candidate, l map[string]string) string {
	node := ""
	if n := l[labelNode]; n != "" {
		node = " on node " + n
	}
	switch ns := l[labelNamespace]; {
	case l[labelPod] != "":
		return "in " + ns + "/" + l[labelPod] + node
	case ns == attrkey.PlaceholderHost:
		return "in a host process" + node
	case ns == attrkey.PlaceholderContainer:
		id := attrkey.Str(c.res.Attributes(), attrkey.ContainerID)
		if _, after, ok := strings.Cut(id, "://"); ok { // containerd://…, docker://…
			id = after
		}
		if len(id) > 12 {
			id = id[:12]
		}
		return "in container " + id + node + " (not a Kubernetes pod)"
	default:
		return "in " + ns + "/" + l[labelWorkload] + node
	}
}

func (b *alertBuilder) description(c *candidate, attrs pcommon.Map, rules string, chains []string) string {
	var s strings.Builder
	if c.incident != "" {
		fmt.Fprintf(&s, "Incident %s: %d detection(s) between %s and %s. Rules so far: %s.",
			c.incident, c.detections, c.firstSeen.UTC().Format(time.RFC3339), c.lastSeen.UTC().Format(time.RFC3339), rules)
		if len(chains) > 0 {
			fmt.Fprintf(&s, " Completed chains: %s.", strings.Join(chains, ", "))
		}
		fmt.Fprintf(&s, " Latest: %s", attrkey.Str(attrs, attrkey.RuleName))
	} else {
		fmt.Fprintf(&s, "%d detection(s) between %s and %s. Rule %s",
			c.detections, c.firstSeen.UTC().Format(time.RFC3339), c.lastSeen.UTC().Format(time.RFC3339), attrkey.Str(attrs, attrkey.RuleName))
	}
	if d := attrkey.Str(attrs, attrkey.RuleDescription); d != "" {
		fmt.Fprintf(&s, ": %s", d)
	}
	if ex := attrkey.Str(attrs, attrkey.ProcessExecutablePath); ex != "" {
		fmt.Fprintf(&s, " (process %s)", ex)
	}
	s.WriteString(".")
	return s.String()
}

// parentChain is the parent's executable, then the ancestors nearest first, " ← " separated.
func parentChain(attrs pcommon.Map) string {
	var parts []string
	if p := attrkey.Str(attrs, attrkey.ProcessParentExecutablePath); p != "" {
		parts = append(parts, p)
	}
	parts = append(parts, sliceStrings(attrs, attrkey.TetragonAncestorBinaries)...)
	return strings.Join(parts, " ← ")
}

// truncate cuts s to at most n bytes on a rune boundary, ending with the marker when cut.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n - len(truncatedMarker)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + truncatedMarker
}

// fingerprint is a label set's identity as a string.
func fingerprint(l map[string]string) string {
	keys := slices.Collect(maps.Keys(l))
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		b.WriteString(k)
		b.WriteByte(0)
		b.WriteString(l[k])
		b.WriteByte(0)
	}
	return b.String()
}

func putNonEmpty(m map[string]string, k, v string) {
	if v != "" {
		m[k] = v
	}
}

// intAttr reads an int attribute, also when it arrived as a string or double (a record that went
// through JSON); 0 when absent.
func intAttr(m pcommon.Map, key string) int64 {
	v, ok := m.Get(key)
	if !ok {
		return 0
	}
	switch v.Type() {
	case pcommon.ValueTypeInt:
		return v.Int()
	case pcommon.ValueTypeDouble:
		return int64(v.Double())
	case pcommon.ValueTypeStr:
		n, _ := strconv.ParseInt(v.Str(), 10, 64)
		return n
	}
	return 0
}

// timeAttr parses an RFC 3339 attribute, or returns def.
func timeAttr(m pcommon.Map, key string, def time.Time) time.Time {
	s := attrkey.Str(m, key)
	if s == "" {
		return def
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return def
	}
	return t
}

// sliceStrings returns the string elements of a slice attribute (a lone string counts as one).
func sliceStrings(m pcommon.Map, key string) []string {
	v, ok := m.Get(key)
	if !ok {
		return nil
	}
	switch v.Type() {
	case pcommon.ValueTypeSlice:
		s := v.Slice()
		out := make([]string, 0, s.Len())
		for i := 0; i < s.Len(); i++ {
			if e := s.At(i); e.Type() == pcommon.ValueTypeStr && e.Str() != "" {
				out = append(out, e.Str())
			}
		}
		return out
	case pcommon.ValueTypeStr:
		if v.Str() != "" {
			return []string{v.Str()}
		}
	}
	return nil
}
