// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/grafana/grafana-foundation-sdk/go/dashboard"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/deploy/grafana/dashq"
)

// schemaVersion is written instead of the SDK's 42 (Grafana 12): 39 is what
// Grafana 10.4 and 11.0 save, so they load the JSON as is and later versions
// migrate it forward; nothing the dashboards use changed in 40–42.
const schemaVersion = 39

// Output paths, relative to deploy/grafana.
const (
	dashboardsDir = "dashboards"
	queriesFile   = "queries.yaml"
)

type dashboardDef struct {
	uid   string
	build func(*book) *dashboard.DashboardBuilder
}

var dashboards = []dashboardDef{
	{uidOverview, overview},
	{uidWorkload, workload},
	{uidPipeline, pipeline},
}

// generate builds every dashboard and queries.yaml and returns their content
// keyed by path relative to deploy/grafana.
func generate() (map[string][]byte, error) {
	out := map[string][]byte{}
	var file dashq.File
	for _, def := range dashboards {
		b := &book{uid: def.uid, file: &file}
		db := def.build(b)
		if len(b.errs) > 0 {
			return nil, errors.Join(b.errs...)
		}
		d, err := db.Build()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", def.uid, err)
		}
		if d.Uid == nil || *d.Uid != def.uid {
			return nil, fmt.Errorf("%s: dashboard built with another uid", def.uid)
		}
		d.SchemaVersion = schemaVersion
		numberPanels(&d)
		js, err := marshalDashboard(d)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", def.uid, err)
		}
		out[dashboardsDir+"/"+def.uid+".json"] = js
	}
	q, err := dashq.Marshal(file)
	if err != nil {
		return nil, err
	}
	out[queriesFile] = q
	return out, nil
}

// numberPanels gives every panel and row a unique id, in layout order, as
// Grafana needs for panel links and "view panel".
func numberPanels(d *dashboard.Dashboard) {
	var id uint32
	for i := range d.Panels {
		id++
		switch p := d.Panels[i]; {
		case p.Panel != nil:
			p.Panel.Id = ptr(id)
		case p.RowPanel != nil:
			p.RowPanel.Id = id
			for j := range p.RowPanel.Panels {
				id++
				p.RowPanel.Panels[j].Id = ptr(id)
			}
		}
	}
}

// marshalDashboard renders d as indented JSON with sorted keys. The SDK's own
// MarshalJSON methods escape &, < and > (\u0026…), which would make URLs and
// PromQL comparisons unreadable in review, so the JSON is decoded and encoded
// again without HTML escaping.
func marshalDashboard(d dashboard.Dashboard) ([]byte, error) {
	raw, err := json.Marshal(d)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
