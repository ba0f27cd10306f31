// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package testbackends

import (
	"encoding/json"
	"fmt"
	"net/url"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/testenv"
)

// Prometheus is Prometheus from Debian with the remote-write receiver on.
type Prometheus struct {
	server
}

// StartPrometheus starts Prometheus with the configuration file content config.
func StartPrometheus(t testing.TB, config string) *Prometheus {
	p := &Prometheus{server{port: testenv.FreePort(t)}}
	dir := t.TempDir()
	cfgPath := testenv.WriteFile(t, dir, "prometheus.yml", config)
	p.run(t, "prometheus", "prometheus", "/-/ready", 60*time.Second,
		"--config.file="+cfgPath,
		"--storage.tsdb.path="+filepath.Join(dir, "data"),
		fmt.Sprintf("--web.listen-address=127.0.0.1:%d", p.port),
		"--web.enable-remote-write-receiver",
		"--log.level=warn")
	return p
}

// RemoteWriteURL is where prometheus_remote_write sends.
func (p *Prometheus) RemoteWriteURL() string { return p.URL("/api/v1/write") }

// Sample is one series of an instant vector.
type Sample struct {
	Metric map[string]string `json:"metric"`
	Value  [2]any            `json:"value"`
}

// Float is the sample's value.
func (s Sample) Float() float64 {
	f, _ := strconv.ParseFloat(fmt.Sprint(s.Value[1]), 64)
	return f
}

// Query runs an instant PromQL query. Only vectors are returned; a scalar or matrix result is
// none.
func (p *Prometheus) Query(q string) ([]Sample, error) {
	b, err := Get(p.URL("/api/v1/query?query=" + url.QueryEscape(q)))
	if err != nil {
		return nil, err
	}
	var resp struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			ResultType string          `json:"resultType"`
			Result     json.RawMessage `json:"result"`
		} `json:"data"`
	}
	if err := json.Unmarshal(b, &resp); err != nil {
		return nil, err
	}
	if resp.Status != "success" {
		return nil, fmt.Errorf("query %q: %s", q, resp.Error)
	}
	if resp.Data.ResultType != "vector" {
		return nil, nil // scalars and matrices are not asserted on
	}
	var out []Sample
	err = json.Unmarshal(resp.Data.Result, &out)
	return out, err
}

// Scalar returns the single value of q, or -1 when it has none.
func (p *Prometheus) Scalar(q string) float64 {
	s, err := p.Query(q)
	if err != nil || len(s) != 1 {
		return -1
	}
	return s[0].Float()
}
