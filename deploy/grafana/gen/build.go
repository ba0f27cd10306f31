// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package main

import (
	"fmt"
	"strings"

	"github.com/grafana/grafana-foundation-sdk/go/bargauge"
	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/cog/variants"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/logs"
	"github.com/grafana/grafana-foundation-sdk/go/loki"
	"github.com/grafana/grafana-foundation-sdk/go/prometheus"
	"github.com/grafana/grafana-foundation-sdk/go/stat"
	"github.com/grafana/grafana-foundation-sdk/go/table"
	"github.com/grafana/grafana-foundation-sdk/go/timeseries"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/deploy/grafana/dashq"
)

// Names of the datasource variables every dashboard has, so that users pick
// their own Prometheus and Loki at import time or from the variable bar.
const (
	promVar = "datasource"
	lokiVar = "loki"
)

func dsRef(typ, uid string) common.DataSourceRef {
	return common.DataSourceRef{Type: &typ, Uid: &uid}
}

var (
	promRef = dsRef("prometheus", "${"+promVar+"}")
	lokiRef = dsRef("loki", "${"+lokiVar+"}")
)

// lokiField is the name Loki gives an OTLP attribute once ingested, as an
// index label or as structured metadata: dots become underscores.
func lokiField(attr string) string { return strings.ReplaceAll(attr, ".", "_") }

// Prom is one PromQL target of a panel.
type Prom struct {
	Expr   string
	Legend string
	// AllowedEmpty marks a query that may rightly return nothing after the
	// attack scenario; Reason says why it may, or why it must return data.
	AllowedEmpty bool
	Reason       string
}

// book builds the panels of one dashboard and records every query they run,
// which becomes queries.yaml.
type book struct {
	uid  string
	file *dashq.File
	errs []error
}

func refID(i int) string { return string(rune('A' + i)) }

func (b *book) errorf(format string, a ...any) {
	b.errs = append(b.errs, fmt.Errorf("%s: %s", b.uid, fmt.Sprintf(format, a...)))
}

// promTargets records ts under panel and returns their Grafana targets.
// instant is true for panels that show one value per series (stat, table,
// bar gauge), table for panels that want Prometheus' table format.
func (b *book) promTargets(panel string, instant, tableFormat bool, ts []Prom) []cog.Builder[variants.Dataquery] {
	out := make([]cog.Builder[variants.Dataquery], 0, len(ts))
	for i, t := range ts {
		if t.Reason == "" {
			b.errorf("panel %q target %s has no reason", panel, refID(i))
		}
		q := prometheus.NewDataqueryBuilder().
			RefId(refID(i)).
			Datasource(promRef).
			Expr(t.Expr)
		if t.Legend != "" {
			q.LegendFormat(t.Legend)
		}
		if instant {
			q.Instant()
		} else {
			q.Range()
		}
		if tableFormat {
			q.Format(prometheus.PromQueryFormatTable)
		}
		out = append(out, q)
		b.file.PromQL = append(b.file.PromQL, dashq.PromQuery{
			Dashboard: b.uid, Panel: panel, RefID: refID(i), Expr: t.Expr,
			Instant: instant, AllowedEmpty: t.AllowedEmpty, Reason: t.Reason,
		})
	}
	return out
}

// lokiTarget records one LogQL target. kind is "logs" or "metric".
func (b *book) lokiTarget(panel, kind, expr string) cog.Builder[variants.Dataquery] {
	return b.lokiTargetRef(panel, kind, refID(0), expr)
}

// lokiTargetRef is lokiTarget for one of several targets of a panel.
func (b *book) lokiTargetRef(panel, kind, ref, expr string) cog.Builder[variants.Dataquery] {
	q := loki.NewDataqueryBuilder().
		RefId(ref).
		Datasource(lokiRef).
		Expr(expr)
	if kind == "metric" {
		q.QueryType("instant")
	} else {
		q.QueryType("range").MaxLines(500)
	}
	b.file.LogQL = append(b.file.LogQL, dashq.LogQuery{
		Dashboard: b.uid, Panel: panel, RefID: ref, Expr: expr, Kind: kind,
	})
	return q
}

func (b *book) timeseries(title, desc, unit string, ts ...Prom) *timeseries.PanelBuilder {
	return timeseries.NewPanelBuilder().
		Title(title).
		Description(desc).
		Datasource(promRef).
		Targets(b.promTargets(title, false, false, ts)).
		Unit(unit).
		Min(0).
		Height(8).
		Span(12).
		LineWidth(1).
		FillOpacity(10).
		Legend(common.NewVizLegendOptionsBuilder().
			ShowLegend(true).
			DisplayMode(common.LegendDisplayModeTable).
			Placement(common.LegendPlacementBottom).
			Calcs([]string{"mean", "max", "lastNotNull"})).
		Tooltip(common.NewVizTooltipOptionsBuilder().
			Mode(common.TooltipDisplayModeMulti).
			Sort(common.SortOrderDescending))
}

func (b *book) stat(title, desc, unit string, ts ...Prom) *stat.PanelBuilder {
	return stat.NewPanelBuilder().
		Title(title).
		Description(desc).
		Datasource(promRef).
		Targets(b.promTargets(title, true, false, ts)).
		Unit(unit).
		Height(4).
		Span(6).
		GraphMode(common.BigValueGraphModeNone).
		Orientation(common.VizOrientationAuto).
		ColorMode(common.BigValueColorModeValue).
		ReduceOptions(common.NewReduceDataOptionsBuilder().Calcs([]string{"lastNotNull"}))
}

func (b *book) bargauge(title, desc string, ts ...Prom) *bargauge.PanelBuilder {
	return bargauge.NewPanelBuilder().
		Title(title).
		Description(desc).
		Datasource(promRef).
		Targets(b.promTargets(title, true, false, ts)).
		Height(8).
		Span(12).
		Decimals(0).
		Orientation(common.VizOrientationHorizontal).
		DisplayMode(common.BarGaugeDisplayModeGradient).
		ReduceOptions(common.NewReduceDataOptionsBuilder().Calcs([]string{"lastNotNull"}))
}

// promTable is a table over one instant PromQL query in table format: one
// row per series, the label columns kept, Time hidden, Value renamed.
func (b *book) promTable(title, desc, valueName string, t Prom) *table.PanelBuilder {
	return table.NewPanelBuilder().
		Title(title).
		Description(desc).
		Datasource(promRef).
		Targets(b.promTargets(title, true, true, []Prom{t})).
		Height(8).
		Span(12).
		Decimals(0).
		WithTransformation(dashboard.DataTransformerConfig{
			Id: "organize",
			Options: map[string]any{
				"excludeByName": map[string]any{"Time": true},
				"renameByName":  map[string]any{"Value": valueName},
			},
		}).
		Footer(common.NewTableFooterOptionsBuilder().Show(false).Reducer([]string{"sum"})).
		SortBy([]cog.Builder[common.TableSortByFieldState]{
			common.NewTableSortByFieldStateBuilder().DisplayName(valueName).Desc(true),
		})
}

// lokiTable is a table over one instant LogQL metric query: Loki returns
// one frame per series, so labels become columns and frames are merged.
func (b *book) lokiTable(title, desc, valueName, expr string, rename map[string]string) *table.PanelBuilder {
	renames := map[string]any{"Value": valueName}
	for k, v := range rename {
		renames[k] = v
	}
	return table.NewPanelBuilder().
		Title(title).
		Description(desc).
		Datasource(lokiRef).
		Targets([]cog.Builder[variants.Dataquery]{b.lokiTarget(title, "metric", expr)}).
		Height(8).
		Span(12).
		Decimals(0).
		WithTransformation(dashboard.DataTransformerConfig{Id: "labelsToFields", Options: map[string]any{}}).
		WithTransformation(dashboard.DataTransformerConfig{Id: "merge", Options: map[string]any{}}).
		WithTransformation(dashboard.DataTransformerConfig{
			Id: "organize",
			Options: map[string]any{
				"excludeByName": map[string]any{"Time": true},
				"renameByName":  renames,
			},
		}).
		Footer(common.NewTableFooterOptionsBuilder().Show(false).Reducer([]string{"sum"})).
		SortBy([]cog.Builder[common.TableSortByFieldState]{
			common.NewTableSortByFieldStateBuilder().DisplayName(valueName).Desc(true),
		})
}

func (b *book) logs(title, desc, expr string) *logs.PanelBuilder {
	return logs.NewPanelBuilder().
		Title(title).
		Description(desc).
		Datasource(lokiRef).
		Targets([]cog.Builder[variants.Dataquery]{b.lokiTarget(title, "logs", expr)}).
		Height(12).
		Span(24).
		ShowTime(true).
		WrapLogMessage(true).
		EnableLogDetails(true).
		SortOrder(common.LogsSortOrderDescending).
		DedupStrategy(common.LogsDedupStrategyNone)
}

// Severity label values the detection_metrics connector writes (and the
// detection processor's rule schema allows), with the colour of each.
var severityColors = []struct{ severity, color string }{
	{"critical", "red"},
	{"warning", "orange"},
	{"info", "blue"},
}

func fixedColor(c string) dashboard.DynamicConfigValue {
	return dashboard.DynamicConfigValue{Id: "color", Value: map[string]any{"mode": "fixed", "fixedColor": c}}
}

// colorBySeverity colours the series or values named after a severity.
type overrider[T any] interface {
	OverrideByName(name string, properties []dashboard.DynamicConfigValue) T
}

func colorBySeverity[T overrider[T]](p T) T {
	for _, s := range severityColors {
		p = p.OverrideByName(s.severity, []dashboard.DynamicConfigValue{fixedColor(s.color)})
	}
	return p
}

// severityMappings colours severity strings in table cells.
func severityMappings() []dashboard.ValueMapping {
	opts := map[string]dashboard.ValueMappingResult{}
	for i, s := range severityColors {
		color, idx := s.color, int32(i)
		opts[s.severity] = dashboard.ValueMappingResult{Color: &color, Index: &idx}
	}
	return []dashboard.ValueMapping{{ValueMap: &dashboard.ValueMap{Type: dashboard.MappingTypeValueToText, Options: opts}}}
}

func row(title string) *dashboard.RowBuilder { return dashboard.NewRowBuilder(title) }

// Variables.

func datasourceVar(name, label, typ string) *dashboard.DatasourceVariableBuilder {
	return dashboard.NewDatasourceVariableBuilder(name).Label(label).Type(typ)
}

// labelValuesVar is a Prometheus query variable over label_values().
func labelValuesVar(name, label, query string) *dashboard.QueryVariableBuilder {
	return dashboard.NewQueryVariableBuilder(name).
		Label(label).
		Datasource(promRef).
		Query(dashboard.StringOrMap{String: &query}).
		Definition(query).
		Refresh(dashboard.VariableRefreshOnTimeRangeChanged).
		Sort(dashboard.VariableSortAlphabeticalAsc)
}

// selectAll makes a multi-value variable start on "All".
func selectAll(v *dashboard.QueryVariableBuilder) *dashboard.QueryVariableBuilder {
	all, allValue := "All", "$__all"
	return v.Current(dashboard.VariableOption{
		Selected: ptr(true),
		Text:     dashboard.StringOrArrayOfString{String: &all},
		Value:    dashboard.StringOrArrayOfString{String: &allValue},
	})
}

// linkBuilder hands a prepared DashboardLink to the SDK, leaving out the
// placement field that only Grafana 12 knows.
type linkBuilder struct{ l dashboard.DashboardLink }

func (l linkBuilder) Build() (dashboard.DashboardLink, error) { return l.l, nil }

// siblingsLink links every dashboard tagged runtime-security, keeping the
// time range and variables.
func siblingsLink() cog.Builder[dashboard.DashboardLink] {
	return linkBuilder{dashboard.DashboardLink{
		Title:       "Runtime security",
		Type:        dashboard.DashboardLinkTypeDashboards,
		Tags:        []string{dashboardTag},
		AsDropdown:  false,
		IncludeVars: true,
		KeepTime:    true,
	}}
}

// dataLink is a link in a field's context menu.
func dataLink(title, url string) cog.Builder[dashboard.DashboardLink] {
	return linkBuilder{dashboard.DashboardLink{Title: title, Type: dashboard.DashboardLinkTypeLink, Url: &url, Tags: []string{}}}
}

type cogLink = cog.Builder[dashboard.DashboardLink]

// columnLabel is the label each query of a lokiColumnsTable sets (label_format) and groups by: it
// names the query's value column. Loki names every metric value "Value", and Grafana's merge
// transformation takes a field present in every frame as part of the row key, so same-named
// values of different queries would never join into one row.
const columnLabel = "rts_column"

// lokiColumn is one value column of a lokiColumnsTable: expr must set columnLabel to name
// (label_format) and keep it (by).
type lokiColumn struct {
	name string
	expr string
}

// lokiColumnsTable is a table over several instant LogQL metric queries, one value column each:
// labelsToFields names each value after its columnLabel and turns the other labels into columns,
// merge joins the rows that agree on the fields all queries have, organize orders (order lists
// the fields by their raw names) and renames them.
func (b *book) lokiColumnsTable(title, desc string, cols []lokiColumn, order []string, rename map[string]string) *table.PanelBuilder {
	targets := make([]cog.Builder[variants.Dataquery], 0, len(cols))
	for i, c := range cols {
		if !strings.Contains(c.expr, columnLabel+`="`+c.name+`"`) || !strings.Contains(c.expr, "("+columnLabel+", ") {
			b.errorf("panel %q target %s must set and group by %s=%q", title, refID(i), columnLabel, c.name)
		}
		targets = append(targets, b.lokiTargetRef(title, "metric", refID(i), c.expr))
	}
	index := map[string]any{}
	for i, f := range order {
		index[f] = i
	}
	renames := map[string]any{}
	for k, v := range rename {
		renames[k] = v
	}
	return table.NewPanelBuilder().
		Title(title).
		Description(desc).
		Datasource(lokiRef).
		Targets(targets).
		Height(8).
		Span(24).
		WithTransformation(dashboard.DataTransformerConfig{Id: "labelsToFields", Options: map[string]any{"mode": "columns", "valueLabel": columnLabel}}).
		WithTransformation(dashboard.DataTransformerConfig{Id: "merge", Options: map[string]any{}}).
		WithTransformation(dashboard.DataTransformerConfig{
			Id: "organize",
			Options: map[string]any{
				"excludeByName": map[string]any{"Time": true},
				"indexByName":   index,
				"renameByName":  renames,
			},
		}).
		Footer(common.NewTableFooterOptionsBuilder().Show(false).Reducer([]string{"sum"}))
}

// textboxVar is a free-text variable, empty until the user (or a data link) sets it.
func textboxVar(name, label, desc string) *dashboard.TextBoxVariableBuilder {
	empty := ""
	return dashboard.NewTextBoxVariableBuilder(name).
		Label(label).
		Description(desc).
		DefaultValue(dashboard.StringOrMap{String: &empty}).
		Current(dashboard.VariableOption{
			Text:  dashboard.StringOrArrayOfString{String: &empty},
			Value: dashboard.StringOrArrayOfString{String: &empty},
		})
}
