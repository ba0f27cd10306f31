// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/cog/plugins"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/prometheus/prometheus/promql/parser"
	"go.yaml.in/yaml/v3"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/deploy/grafana/dashq"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/attrkey"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/processor/detectionprocessor/ruleengine"
)

// grafanaDir is deploy/grafana, seen from this package's directory.
const grafanaDir = ".."

func generated(t *testing.T) map[string][]byte {
	t.Helper()
	files, err := generate()
	if err != nil {
		t.Fatalf("generate: %v", err)
	}
	return files
}

// TestCommittedFilesAreFresh fails when the committed JSON or queries.yaml
// differ from what the generator produces now: run `make dashboards`.
func TestCommittedFilesAreFresh(t *testing.T) {
	files := generated(t)
	for name, want := range files {
		got, err := os.ReadFile(filepath.Join(grafanaDir, name))
		if err != nil {
			t.Errorf("%s: %v (run `make dashboards`)", name, err)
			continue
		}
		if !bytes.Equal(got, want) {
			t.Errorf("deploy/grafana/%s is stale: run `make dashboards` and commit the result", name)
		}
	}
	onDisk, err := filepath.Glob(filepath.Join(grafanaDir, dashboardsDir, "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range onDisk {
		if _, ok := files[dashboardsDir+"/"+filepath.Base(path)]; !ok {
			t.Errorf("%s is not generated any more: remove it (`make dashboards` does)", path)
		}
	}
}

func TestGenerateIsDeterministic(t *testing.T) {
	a, b := generated(t), generated(t)
	for name := range a {
		if !bytes.Equal(a[name], b[name]) {
			t.Errorf("%s differs between two runs", name)
		}
	}
}

// The parts of Grafana's dashboard JSON the tests read.
type gPanel struct {
	ID         int             `json:"id"`
	Type       string          `json:"type"`
	Title      string          `json:"title"`
	Datasource *gDatasource    `json:"datasource"`
	GridPos    gGridPos        `json:"gridPos"`
	Targets    []gTarget       `json:"targets"`
	Panels     []gPanel        `json:"panels"`
	Raw        json.RawMessage `json:"-"`
}

type gDatasource struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

type gGridPos struct{ H, W, X, Y int }

type gTarget struct {
	RefID      string       `json:"refId"`
	Expr       string       `json:"expr"`
	Instant    *bool        `json:"instant"`
	QueryType  string       `json:"queryType"`
	Datasource *gDatasource `json:"datasource"`
}

type gVariable struct {
	Name  string `json:"name"`
	Type  string `json:"type"`
	Query any    `json:"query"`
}

type gDashboard struct {
	UID           string   `json:"uid"`
	Title         string   `json:"title"`
	SchemaVersion int      `json:"schemaVersion"`
	Tags          []string `json:"tags"`
	Panels        []gPanel `json:"panels"`
	Templating    struct {
		List []gVariable `json:"list"`
	} `json:"templating"`
}

func (d gDashboard) allPanels() []gPanel {
	var out []gPanel
	for _, p := range d.Panels {
		out = append(out, p)
		out = append(out, p.Panels...)
	}
	return out
}

func (d gDashboard) variable(name string) (gVariable, bool) {
	for _, v := range d.Templating.List {
		if v.Name == name {
			return v, true
		}
	}
	return gVariable{}, false
}

func parsedDashboards(t *testing.T) map[string]gDashboard {
	t.Helper()
	out := map[string]gDashboard{}
	for name, b := range generated(t) {
		if !strings.HasPrefix(name, dashboardsDir+"/") {
			continue
		}
		var d gDashboard
		if err := json.Unmarshal(b, &d); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if want := dashboardsDir + "/" + d.UID + ".json"; name != want {
			t.Errorf("dashboard uid %q is written to %s, want %s", d.UID, name, want)
		}
		out[d.UID] = d
	}
	return out
}

func TestRequiredPanelsAndVariables(t *testing.T) {
	want := map[string]struct {
		vars   []string
		panels map[string]string // title → panel type
	}{
		uidOverview: {
			vars: []string{"datasource", "loki", "namespace", "incident"},
			panels: map[string]string{
				"Chains fired":                      "stat",
				"Chains fired by workload":          "table",
				"Incidents":                         "table",
				"Incident timeline":                 "logs",
				"Detections over time by severity":  "timeseries",
				"Detections over time by rule":      "timeseries",
				"Detections over time by namespace": "timeseries",
				"Top workloads by detections":       "bargauge",
				"Detections by rule":                "table",
				"MITRE ATT&CK techniques":           "table",
				"Event rate by type":                "timeseries",
				"Recent detections":                 "logs",
			},
		},
		uidWorkload: {
			vars: []string{"datasource", "loki", "namespace", "workload"},
			panels: map[string]string{
				"Detections":         "stat",
				"Events":             "stat",
				"Events by type":     "timeseries",
				"Detections by rule": "timeseries",
				"Rules firing":       "table",
				"Detection logs":     "logs",
			},
		},
		uidPipeline: {
			vars: []string{"datasource", "loki", "job"},
			panels: map[string]string{
				"Events ingested per node":                   "timeseries",
				"Receiver accepted log records":              "timeseries",
				"Receiver refused and failed log records":    "timeseries",
				"Records dropped by processors":              "timeseries",
				"Memory limiter refusals":                    "timeseries",
				"Export errors":                              "timeseries",
				"Exporter queue size and capacity":           "timeseries",
				"Exporter queue fill":                        "timeseries",
				"Collector CPU":                              "timeseries",
				"Collector memory (RSS)":                     "timeseries",
				"Workload profiles by state":                 "timeseries",
				"Profile novelties by kind":                  "timeseries",
				"Profile items and largest profile":          "timeseries",
				"Profile overflow by list":                   "timeseries",
				"Profile image restarts":                     "timeseries",
				"Unprofiled records (max_workloads reached)": "timeseries",
				"Profile reloads and storage errors":         "timeseries",
			},
		},
	}
	dashboards := parsedDashboards(t)
	if len(dashboards) != len(want) {
		t.Errorf("generated %d dashboards, want %d", len(dashboards), len(want))
	}
	for uid, w := range want {
		d, ok := dashboards[uid]
		if !ok {
			t.Errorf("dashboard %s is missing", uid)
			continue
		}
		if d.SchemaVersion != schemaVersion {
			t.Errorf("%s: schemaVersion %d, want %d", uid, d.SchemaVersion, schemaVersion)
		}
		if !slices.Contains(d.Tags, dashboardTag) {
			t.Errorf("%s: missing tag %q the dashboard links rely on", uid, dashboardTag)
		}
		for _, v := range w.vars {
			if _, ok := d.variable(v); !ok {
				t.Errorf("%s: variable %q missing", uid, v)
			}
		}
		for name, typ := range map[string]string{promVar: "prometheus", lokiVar: "loki"} {
			if v, _ := d.variable(name); v.Type != "datasource" || v.Query != typ {
				t.Errorf("%s: variable %q is %s/%v, want a %s datasource variable", uid, name, v.Type, v.Query, typ)
			}
		}
		titles := map[string]string{}
		for _, p := range d.allPanels() {
			if prev, dup := titles[p.Title]; dup && p.Type != "row" {
				t.Errorf("%s: two panels titled %q (%s, %s)", uid, p.Title, prev, p.Type)
			}
			titles[p.Title] = p.Type
		}
		for title, typ := range w.panels {
			if got, ok := titles[title]; !ok {
				t.Errorf("%s: panel %q missing", uid, title)
			} else if got != typ {
				t.Errorf("%s: panel %q is a %s, want %s", uid, title, got, typ)
			}
		}
	}
}

// TestLayout checks ids are unique and panels stay on the 24-column grid
// without overlapping.
func TestLayout(t *testing.T) {
	for uid, d := range parsedDashboards(t) {
		ids := map[int]bool{}
		panels := d.allPanels()
		for i, p := range panels {
			if p.ID == 0 || ids[p.ID] {
				t.Errorf("%s: panel %q has id %d, not unique and positive", uid, p.Title, p.ID)
			}
			ids[p.ID] = true
			g := p.GridPos
			if g.W <= 0 || g.H <= 0 || g.X < 0 || g.X+g.W > 24 {
				t.Errorf("%s: panel %q is off the grid: %+v", uid, p.Title, g)
			}
			for _, q := range panels[:i] {
				h := q.GridPos
				if g.X < h.X+h.W && h.X < g.X+g.W && g.Y < h.Y+h.H && h.Y < g.Y+g.H {
					t.Errorf("%s: panels %q %+v and %q %+v overlap", uid, q.Title, h, p.Title, g)
				}
			}
		}
	}
}

// dashboardTargets lists every query target of the generated dashboards,
// keyed by "uid / panel / refId".
func dashboardTargets(t *testing.T) map[string]struct {
	target gTarget
	panel  gPanel
} {
	out := map[string]struct {
		target gTarget
		panel  gPanel
	}{}
	for uid, d := range parsedDashboards(t) {
		for _, p := range d.allPanels() {
			for _, tg := range p.Targets {
				out[uid+" / "+p.Title+" / "+tg.RefID] = struct {
					target gTarget
					panel  gPanel
				}{tg, p}
			}
		}
	}
	return out
}

func generatedQueries(t *testing.T) dashq.File {
	t.Helper()
	f, err := dashq.Parse(generated(t)[queriesFile])
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// TestQueriesFileMatchesDashboards reads the targets back from the JSON, as
// Grafana would, and compares them with queries.yaml both ways.
func TestQueriesFileMatchesDashboards(t *testing.T) {
	targets := dashboardTargets(t)
	f := generatedQueries(t)
	listed := map[string]bool{}
	check := func(key, expr, dsType string, instant bool) {
		if listed[key] {
			t.Errorf("queries.yaml lists %s twice", key)
		}
		listed[key] = true
		got, ok := targets[key]
		if !ok {
			t.Errorf("queries.yaml lists %s, which no dashboard has", key)
			return
		}
		if got.target.Expr != expr {
			t.Errorf("%s: dashboard runs %q, queries.yaml says %q", key, got.target.Expr, expr)
		}
		ds := got.target.Datasource
		if ds == nil || ds.Type != dsType || (got.panel.Datasource != nil && *got.panel.Datasource != *ds) {
			t.Errorf("%s: target datasource %+v, panel datasource %+v, want type %s on both", key, ds, got.panel.Datasource, dsType)
		}
		if dsType == "prometheus" && (got.target.Instant == nil || *got.target.Instant != instant) {
			t.Errorf("%s: instant %v in the dashboard, %v in queries.yaml", key, got.target.Instant, instant)
		}
	}
	for _, q := range f.PromQL {
		check(q.Dashboard+" / "+q.Panel+" / "+q.RefID, q.Expr, "prometheus", q.Instant)
		if q.Reason == "" {
			t.Errorf("%s / %s: no reason", q.Dashboard, q.Panel)
		}
	}
	for _, q := range f.LogQL {
		check(q.Dashboard+" / "+q.Panel+" / "+q.RefID, q.Expr, "loki", false)
		wantType := map[string]string{"logs": "range", "metric": "instant"}[q.Kind]
		if got := targets[q.Dashboard+" / "+q.Panel+" / "+q.RefID].target.QueryType; got != wantType {
			t.Errorf("%s / %s: Loki queryType %q, want %q for a %s query", q.Dashboard, q.Panel, got, wantType, q.Kind)
		}
	}
	for key := range targets {
		if !listed[key] {
			t.Errorf("dashboard target %s is missing from queries.yaml", key)
		}
	}
	if len(f.PromQL) < 30 || len(f.LogQL) < 4 {
		t.Errorf("only %d PromQL and %d LogQL queries: a dashboard lost its panels", len(f.PromQL), len(f.LogQL))
	}
}

// Builtins Grafana substitutes itself.
var grafanaBuiltins = []string{"__range", "__range_s", "__range_ms", "__rate_interval", "__interval", "__auto", "__url_time_range", "__field", "__value", "__data", "__all"}

// TestVariablesAreDefinedAndExpanded: every variable a query uses is one its
// dashboard defines or a Grafana builtin, and ExpandForTest replaces it.
func TestVariablesAreDefinedAndExpanded(t *testing.T) {
	dashboards := parsedDashboards(t)
	f := generatedQueries(t)
	exprs := map[string][]string{}
	for _, q := range f.PromQL {
		exprs[q.Dashboard] = append(exprs[q.Dashboard], q.Expr)
	}
	for _, q := range f.LogQL {
		exprs[q.Dashboard] = append(exprs[q.Dashboard], q.Expr)
	}
	for uid, d := range dashboards {
		for _, v := range d.Templating.List {
			if s, ok := v.Query.(string); ok && v.Type == "query" {
				exprs[uid] = append(exprs[uid], s)
			}
		}
		for _, e := range exprs[uid] {
			for _, name := range dashq.Variables(e) {
				if _, ok := d.variable(name); !ok && !slices.Contains(grafanaBuiltins, name) {
					t.Errorf("%s: %q uses $%s, which the dashboard does not define", uid, e, name)
				}
			}
			if left := dashq.Unexpanded(dashq.ExpandForTest(e)); len(left) > 0 {
				t.Errorf("%s: ExpandForTest leaves %v in %q", uid, left, e)
			}
		}
	}
}

// Labels of the detection_metrics connector's series, and of the collector's
// own telemetry the pipeline dashboard filters or groups on.
var knownLabels = map[string][]string{
	eventsMetric:     {"event_type", "namespace", "workload", "node"},
	detectionsMetric: {"rule", "severity", "category", "namespace", "workload", "node"},
	"otelcol":        {"__name__", "job", "instance", "receiver", "processor", "exporter"},
}

// componentMetadata lists the metadata.yaml of the components whose own
// telemetry the dashboards query by metric-specific attributes.
var componentMetadata = []string{
	"processor/workloadprofileprocessor/metadata.yaml",
}

// componentAttrs reads, from each component's mdatagen metadata.yaml, the
// attributes of every telemetry metric, keyed by the name the metric has
// in Prometheus without suffixes (otelcol_<metric>). An attribute without
// an enum is reported as nil values: the dashboards must not group or
// filter on unbounded labels.
func componentAttrs(t *testing.T) map[string]map[string][]string {
	t.Helper()
	out := map[string]map[string][]string{}
	for _, rel := range componentMetadata {
		b, err := os.ReadFile(filepath.Join(grafanaDir, "..", "..", rel))
		if err != nil {
			t.Fatal(err)
		}
		var md struct {
			Attributes map[string]struct {
				Enum []string `yaml:"enum"`
			} `yaml:"attributes"`
			Telemetry struct {
				Metrics map[string]struct {
					Attributes []string `yaml:"attributes"`
				} `yaml:"metrics"`
			} `yaml:"telemetry"`
		}
		if err := yaml.Unmarshal(b, &md); err != nil {
			t.Fatalf("%s: %v", rel, err)
		}
		if len(md.Telemetry.Metrics) == 0 {
			t.Fatalf("%s: no telemetry metrics", rel)
		}
		for name, m := range md.Telemetry.Metrics {
			attrs := map[string][]string{}
			for _, a := range m.Attributes {
				attrs[a] = md.Attributes[a].Enum
			}
			out["otelcol_"+name] = attrs
		}
	}
	return out
}

// collectorMetricName returns the metric a collector-telemetry selector
// picks: its name, or the __name__ regex otelcol() / otelcolGauge() write
// with the optional suffix group removed.
func collectorMetricName(vs *parser.VectorSelector) string {
	if vs.Name != "" {
		return vs.Name
	}
	for _, m := range vs.LabelMatchers {
		if m.Name == "__name__" {
			if i := strings.Index(m.Value, "("); i >= 0 {
				return m.Value[:i]
			}
			return m.Value
		}
	}
	return ""
}

// TestComponentTelemetryOnDashboards: every telemetry metric of the listed
// components is queried by some dashboard panel, so a new metric is not
// forgotten.
func TestComponentTelemetryOnDashboards(t *testing.T) {
	attrs := componentAttrs(t)
	queried := map[string]bool{}
	p := parser.NewParser(parser.Options{})
	for _, q := range generatedQueries(t).PromQL {
		expr, err := p.ParseExpr(dashq.ExpandForTest(q.Expr))
		if err != nil {
			continue // TestPromQLParsesAfterExpansion reports it
		}
		parser.Inspect(expr, func(n parser.Node, _ []parser.Node) error {
			if vs, ok := n.(*parser.VectorSelector); ok {
				queried[collectorMetricName(vs)] = true
			}
			return nil
		})
	}
	for name := range attrs {
		if !queried[name] {
			t.Errorf("%s is on no dashboard panel", name)
		}
	}
}

func TestPromQLParsesAfterExpansion(t *testing.T) {
	p := parser.NewParser(parser.Options{})
	compAttrs := componentAttrs(t)
	for _, q := range generatedQueries(t).PromQL {
		name := q.Dashboard + " / " + q.Panel + " / " + q.RefID
		expr, err := p.ParseExpr(dashq.ExpandForTest(q.Expr))
		if err != nil {
			t.Errorf("%s: %v\n%s", name, err, q.Expr)
			continue
		}
		if expr.Type() != parser.ValueTypeVector {
			t.Errorf("%s: evaluates to a %s, panels need an instant vector", name, expr.Type())
		}
		family := ""
		var used []string
		// Attributes of the component metrics the expression selects.
		extra := map[string][]string{}
		parser.Inspect(expr, func(n parser.Node, _ []parser.Node) error {
			switch n := n.(type) {
			case *parser.VectorSelector:
				for a, enum := range compAttrs[collectorMetricName(n)] {
					extra[a] = enum
				}
				f := n.Name
				if f == "" {
					f = "otelcol"
					for _, m := range n.LabelMatchers {
						if m.Name == "__name__" && !strings.HasPrefix(m.Value, "otelcol_") {
							t.Errorf("%s: selects %q, not a collector metric", name, m.Value)
						}
					}
				} else if strings.HasPrefix(f, "otelcol_") {
					f = "otelcol"
				}
				if _, ok := knownLabels[f]; !ok {
					t.Errorf("%s: unknown metric %q", name, n.Name)
				}
				if family != "" && family != f {
					t.Errorf("%s: mixes %s and %s", name, family, f)
				}
				family = f
				for _, m := range n.LabelMatchers {
					if m.Name != "__name__" {
						used = append(used, m.Name)
					}
				}
			case *parser.AggregateExpr:
				used = append(used, n.Grouping...)
			}
			return nil
		})
		for _, l := range used {
			if enum, ok := extra[l]; ok {
				if len(enum) == 0 {
					t.Errorf("%s: label %q has no enum in its component's metadata.yaml: unbounded", name, l)
				}
				continue
			}
			if !slices.Contains(knownLabels[family], l) {
				t.Errorf("%s: label %q is not one of %s's labels %v", name, l, family, knownLabels[family])
			}
		}
	}
}

func TestLogQLIsWellFormed(t *testing.T) {
	for _, q := range generatedQueries(t).LogQL {
		kind, err := dashq.CheckLogQL(dashq.ExpandForTest(q.Expr))
		if err != nil {
			t.Errorf("%s / %s: %v\n%s", q.Dashboard, q.Panel, err, q.Expr)
			continue
		}
		if kind != q.Kind {
			t.Errorf("%s / %s: a %s query listed as %s", q.Dashboard, q.Panel, kind, q.Kind)
		}
	}
}

// lokiConfig is the part of deploy/loki/loki-otlp-config.yaml the
// dashboards depend on.
type lokiConfig struct {
	LimitsConfig struct {
		OTLPConfig struct {
			ResourceAttributes struct {
				IgnoreDefaults   bool `yaml:"ignore_defaults"`
				AttributesConfig []struct {
					Action     string   `yaml:"action"`
					Attributes []string `yaml:"attributes"`
				} `yaml:"attributes_config"`
			} `yaml:"resource_attributes"`
			LogAttributes []struct {
				Action     string   `yaml:"action"`
				Attributes []string `yaml:"attributes"`
			} `yaml:"log_attributes"`
		} `yaml:"otlp_config"`
	} `yaml:"limits_config"`
}

func loadLokiConfig(t *testing.T) (index, structured map[string]bool, cfg lokiConfig) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(grafanaDir, "..", "loki", "loki-otlp-config.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, &cfg); err != nil {
		t.Fatalf("loki-otlp-config.yaml: %v", err)
	}
	index, structured = map[string]bool{}, map[string]bool{}
	add := func(action string, attrs []string) {
		for _, a := range attrs {
			switch action {
			case "index_label":
				index[a] = true
			case "structured_metadata":
				structured[a] = true
			default:
				t.Errorf("loki-otlp-config.yaml: unexpected action %q for %s", action, a)
			}
		}
	}
	for _, ac := range cfg.LimitsConfig.OTLPConfig.ResourceAttributes.AttributesConfig {
		add(ac.Action, ac.Attributes)
	}
	for _, ac := range cfg.LimitsConfig.OTLPConfig.LogAttributes {
		add(ac.Action, ac.Attributes)
	}
	return index, structured, cfg
}

// TestLokiConfigMatchesQueries ties the shipped Loki label config to the
// attribute contract and to the LogQL the dashboards run: every label a
// stream selector uses must be an index label, and high-churn attributes
// must stay out of the index.
func TestLokiConfigMatchesQueries(t *testing.T) {
	index, structured, cfg := loadLokiConfig(t)
	if !cfg.LimitsConfig.OTLPConfig.ResourceAttributes.IgnoreDefaults {
		t.Error("loki-otlp-config.yaml must set ignore_defaults, or Loki indexes k8s.pod.name by default")
	}
	for _, a := range []string{attrkey.K8sNamespaceName, attrkey.K8sWorkloadName, attrkey.RuleName, attrkey.Severity} {
		if !index[a] {
			t.Errorf("%s must be an index label", a)
		}
	}
	for _, a := range []string{attrkey.K8sPodName, attrkey.K8sContainerName, attrkey.K8sNodeName, attrkey.K8sPodUID, attrkey.ContainerID} {
		if index[a] || !structured[a] {
			t.Errorf("%s must be structured metadata, not an index label", a)
		}
	}
	indexLabels := map[string]bool{}
	for a := range index {
		indexLabels[lokiField(a)] = true
	}
	var missing []string
	for _, q := range generatedQueries(t).LogQL {
		labels, err := dashq.LogQLStreamLabels(dashq.ExpandForTest(q.Expr))
		if err != nil {
			t.Errorf("%s / %s: %v", q.Dashboard, q.Panel, err)
			continue
		}
		for _, l := range labels {
			if !indexLabels[l] {
				missing = append(missing, fmt.Sprintf("%s / %s: %s", q.Dashboard, q.Panel, l))
			}
		}
	}
	sort.Strings(missing)
	for _, m := range missing {
		t.Errorf("stream selector label is not an index label in loki-otlp-config.yaml: %s", m)
	}
}

// decodeStrict decodes a dashboard with the SDK's strict decoder, which
// returns an empty cog.BuildErrors (a non-nil error interface) on success.
func decodeStrict(b []byte) error {
	var d dashboard.Dashboard
	err := d.UnmarshalJSONStrict(b)
	if be, ok := err.(cog.BuildErrors); ok && len(be) == 0 {
		return nil
	}
	return err
}

func TestStrictDecoderRejectsUnknownFields(t *testing.T) {
	plugins.RegisterDefaultPlugins()
	b := generated(t)[dashboardsDir+"/"+uidOverview+".json"]
	bad := bytes.Replace(b, []byte(`"title": "Detections"`), []byte(`"title": "Detections", "titel": "x"`), 1)
	if bytes.Equal(b, bad) {
		t.Fatal("test setup: panel title not found")
	}
	if err := decodeStrict(bad); err == nil {
		t.Fatal("the strict decoder accepted an unknown panel field, so TestJSONDecodesStrictlyWithSDKSchema proves nothing")
	}
}

// TestJSONDecodesStrictlyWithSDKSchema reads the written JSON back through
// the SDK's strict decoder, which rejects unknown fields and wrong types in
// the dashboard, panel, target and option schemas.
func TestJSONDecodesStrictlyWithSDKSchema(t *testing.T) {
	plugins.RegisterDefaultPlugins()
	for name, b := range generated(t) {
		if !strings.HasSuffix(name, ".json") {
			continue
		}
		if err := decodeStrict(b); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// rawPanel returns the JSON of the panel titled title (rows excluded) of a generated dashboard.
func rawPanel(t *testing.T, uid, title string) map[string]any {
	t.Helper()
	var d struct {
		Panels []map[string]any `json:"panels"`
	}
	if err := json.Unmarshal(generated(t)[dashboardsDir+"/"+uid+".json"], &d); err != nil {
		t.Fatal(err)
	}
	for _, p := range d.Panels {
		if p["type"] != "row" && p["title"] == title {
			return p
		}
	}
	t.Fatalf("%s: no panel %q", uid, title)
	return nil
}

// panelExprs returns the expressions of a panel's targets, in order.
func panelExprs(p map[string]any) []string {
	var out []string
	targets, _ := p["targets"].([]any)
	for _, tg := range targets {
		if m, ok := tg.(map[string]any); ok {
			e, _ := m["expr"].(string)
			out = append(out, e)
		}
	}
	return out
}

var groupingRE = regexp.MustCompile(`\bby \(([^)]*)\)`)

// resultLabels are the labels of a LogQL metric query's series as the incident queries write
// them: the grouping of the innermost aggregation (an outer topk by keeps them all).
func resultLabels(expr string) []string {
	groups := groupingRE.FindAllStringSubmatch(expr, -1)
	if len(groups) == 0 {
		return nil
	}
	var out []string
	for _, l := range strings.Split(groups[len(groups)-1][1], ",") {
		out = append(out, strings.TrimSpace(l))
	}
	return out
}

// TestIncidentTimeline: the timeline shows the records of the incident variable, all of them
// (not only those with a rule: suppressed repeats and condition steps carry the incident without
// one), nothing while the variable is empty, oldest first.
func TestIncidentTimeline(t *testing.T) {
	d := parsedDashboards(t)[uidOverview]
	if v, ok := d.variable("incident"); !ok || v.Type != "textbox" {
		t.Fatalf("variable incident is %+v, want a textbox", v)
	}
	p := rawPanel(t, uidOverview, "Incident timeline")
	exprs := panelExprs(p)
	if len(exprs) != 1 {
		t.Fatalf("timeline has %d targets, want 1", len(exprs))
	}
	e := exprs[0]
	for _, want := range []string{lokiField(attrkey.IncidentID) + `="$incident"`, lokiField(attrkey.IncidentID) + ` != ""`} {
		if !strings.Contains(e, want) {
			t.Errorf("timeline query %q lacks %s", e, want)
		}
	}
	labels, err := dashq.LogQLStreamLabels(dashq.ExpandForTest(e))
	if err != nil {
		t.Fatal(err)
	}
	if slices.Contains(labels, lkRule) {
		t.Errorf("timeline selects streams by %s: records of the incident without a rule would be missing", lkRule)
	}
	if opts, _ := p["options"].(map[string]any); opts["sortOrder"] != "Ascending" {
		t.Errorf("timeline sortOrder %v, want Ascending (a timeline reads oldest first)", opts["sortOrder"])
	}
}

// TestIncidentsTable checks the pieces of the incidents table that only work together: each query
// names its value column through the labelsToFields valueLabel, the queries share the incident id
// so that merge joins them into one row per incident, a query whose series carry more of the
// incident's (changing) state than its id keeps one series per incident (topk by id), no query
// misses rule-less records of an incident, and the id links to the timeline.
func TestIncidentsTable(t *testing.T) {
	p := rawPanel(t, uidOverview, "Incidents")
	id := lokiField(attrkey.IncidentID)
	var valueLabel string
	var renames map[string]any
	for _, tr := range p["transformations"].([]any) {
		tr := tr.(map[string]any)
		opts, _ := tr["options"].(map[string]any)
		switch tr["id"] {
		case "labelsToFields":
			valueLabel, _ = opts["valueLabel"].(string)
		case "organize":
			renames, _ = opts["renameByName"].(map[string]any)
		}
	}
	if valueLabel != columnLabel {
		t.Fatalf("labelsToFields valueLabel %q, want %q", valueLabel, columnLabel)
	}
	exprs := panelExprs(p)
	if len(exprs) < 2 {
		t.Fatalf("%d targets, want the state query and the last-seen query", len(exprs))
	}
	setRE := regexp.MustCompile(columnLabel + `="([a-z_]+)"`)
	shared := map[string]int{}
	for _, e := range exprs {
		m := setRE.FindStringSubmatch(e)
		if m == nil {
			t.Errorf("%q does not set %s", e, columnLabel)
			continue
		}
		if _, ok := renames[m[1]]; !ok {
			t.Errorf("value column %q is not renamed by organize", m[1])
		}
		res := resultLabels(e)
		if !slices.Contains(res, columnLabel) {
			t.Errorf("%q does not keep %s in its result", e, columnLabel)
		}
		for _, l := range res {
			shared[l]++
			if _, ok := renames[l]; !ok && l != columnLabel {
				t.Errorf("label %s of %q is not renamed by organize", l, e)
			}
		}
		if len(res) > 2 && !strings.HasPrefix(e, "topk by ("+id+") (1, ") {
			t.Errorf("%q carries the incident's state (%v) without topk by (%s) (1, …): several rows per incident", e, res, id)
		}
		labels, err := dashq.LogQLStreamLabels(dashq.ExpandForTest(e))
		if err != nil {
			t.Fatal(err)
		}
		if slices.Contains(labels, lkRule) {
			t.Errorf("%q selects streams by %s: an incident's rule-less records would be missing", e, lkRule)
		}
	}
	if shared[id] != len(exprs) {
		t.Errorf("not every query keeps %s: merge cannot join their rows", id)
	}
	if renames[id] == nil {
		t.Fatalf("%s is not renamed", id)
	}
	var link string
	for _, o := range p["fieldConfig"].(map[string]any)["overrides"].([]any) {
		o := o.(map[string]any)
		if o["matcher"].(map[string]any)["options"] != renames[id] {
			continue
		}
		for _, prop := range o["properties"].([]any) {
			prop := prop.(map[string]any)
			if prop["id"] == "links" {
				link, _ = prop["value"].([]any)[0].(map[string]any)["url"].(string)
			}
		}
	}
	if !strings.HasPrefix(link, "/d/"+uidOverview+"?var-incident=${__value.raw}&") {
		t.Errorf("the %v column links %q, want the timeline of this dashboard with var-incident=${__value.raw}", renames[id], link)
	}
}

// TestChainPanelsSelectChains: the chain panels select the category every built-in chain is
// counted under.
func TestChainPanelsSelectChains(t *testing.T) {
	rs, err := ruleengine.Load(ruleengine.Options{Builtin: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(rs.Chains()) == 0 {
		t.Fatal("the built-in catalogue has no chain")
	}
	for _, c := range rs.Chains() {
		if c.Rule.Category != chainCategory {
			t.Errorf("chain %s has category %q; the chain panels select %q", c.Name, c.Rule.Category, chainCategory)
		}
	}
	for _, title := range []string{"Chains fired", "Chains fired by workload"} {
		for _, e := range panelExprs(rawPanel(t, uidOverview, title)) {
			if !strings.Contains(e, `category="`+chainCategory+`"`) {
				t.Errorf("%s: %q does not select the chains' category", title, e)
			}
		}
	}
}
