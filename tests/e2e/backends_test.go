// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

//go:build e2e

package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/testenv"
)

var client = &http.Client{Timeout: 10 * time.Second}

func get(u string) ([]byte, error) {
	resp, err := client.Get(u)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode/100 != 2 {
		return b, fmt.Errorf("GET %s: %s: %s", u, resp.Status, b)
	}
	return b, nil
}

// victoriaLogs is a VictoriaLogs server: the OTLP log store that stands in for Loki in CI.
type victoriaLogs struct {
	t       *testing.T
	name    string
	port    int
	dataDir string
	proc    *testenv.Process
}

func startVictoriaLogs(t *testing.T, name string) *victoriaLogs {
	v := &victoriaLogs{t: t, name: name, port: testenv.FreePort(t), dataDir: filepath.Join(t.TempDir(), name)}
	v.start()
	return v
}

func (v *victoriaLogs) start() {
	bin := lookPath(v.t, "victoria-logs")
	v.proc = testenv.Start(v.t, v.name, bin,
		"-storageDataPath="+v.dataDir,
		fmt.Sprintf("-httpListenAddr=127.0.0.1:%d", v.port),
		"-retentionPeriod=7d",
		"-inmemoryDataFlushInterval=1s",
		"-loggerLevel=WARN")
	testenv.WaitHTTP(v.t, v.url("/health"), 30*time.Second)
}

func (v *victoriaLogs) url(path string) string {
	return fmt.Sprintf("http://127.0.0.1:%d%s", v.port, path)
}

// OTLPEndpoint is the logs_endpoint an otlp_http exporter posts to.
func (v *victoriaLogs) OTLPEndpoint() string { return v.url("/insert/opentelemetry/v1/logs") }

// query runs a LogsQL query and returns the matching entries.
func (v *victoriaLogs) query(q string) ([]map[string]string, error) {
	b, err := get(v.url("/select/logsql/query?query=" + url.QueryEscape(q)))
	if err != nil {
		return nil, err
	}
	var out []map[string]string
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if line == "" {
			continue
		}
		m := map[string]string{}
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			return nil, fmt.Errorf("decode %q: %w", line, err)
		}
		out = append(out, m)
	}
	return out, nil
}

// count returns how many entries match the LogsQL filter.
func (v *victoriaLogs) count(filter string) (int, error) {
	rows, err := v.query(filter + " | stats count() as n")
	if err != nil {
		return 0, err
	}
	if len(rows) == 0 {
		return 0, nil
	}
	return strconv.Atoi(rows[0]["n"])
}

// prometheus is Prometheus 2.42 from Debian with the remote-write receiver on, loading the
// shipped alert rules and alerting to the Alertmanager.
type prometheus struct {
	port int
	proc *testenv.Process
}

func startPrometheus(t *testing.T, rulesFile string, alertmanagerPort, collectorMetricsPort int) *prometheus {
	p := &prometheus{port: testenv.FreePort(t)}
	dir := t.TempDir()
	cfg := fmt.Sprintf(`
global:
  scrape_interval: 2s
  evaluation_interval: 2s
rule_files: [%q]
alerting:
  alertmanagers:
    - static_configs:
        - targets: ["127.0.0.1:%d"]
scrape_configs:
  - job_name: otelcol-runtime-security
    static_configs:
      - targets: ["127.0.0.1:%d"]
`, rulesFile, alertmanagerPort, collectorMetricsPort)
	cfgPath := testenv.WriteFile(t, dir, "prometheus.yml", cfg)
	p.proc = testenv.Start(t, "prometheus", lookPath(t, "prometheus"),
		"--config.file="+cfgPath,
		"--storage.tsdb.path="+filepath.Join(dir, "data"),
		fmt.Sprintf("--web.listen-address=127.0.0.1:%d", p.port),
		"--web.enable-remote-write-receiver",
		"--log.level=warn")
	testenv.WaitHTTP(t, p.url("/-/ready"), 60*time.Second)
	return p
}

func (p *prometheus) url(path string) string {
	return fmt.Sprintf("http://127.0.0.1:%d%s", p.port, path)
}

// RemoteWriteURL is where prometheus_remote_write sends.
func (p *prometheus) RemoteWriteURL() string { return p.url("/api/v1/write") }

type promSample struct {
	Metric map[string]string `json:"metric"`
	Value  [2]any            `json:"value"`
}

func (s promSample) float() float64 {
	f, _ := strconv.ParseFloat(fmt.Sprint(s.Value[1]), 64)
	return f
}

// query runs an instant PromQL query.
func (p *prometheus) query(q string) ([]promSample, error) {
	b, err := get(p.url("/api/v1/query?query=" + url.QueryEscape(q)))
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
	var out []promSample
	err = json.Unmarshal(resp.Data.Result, &out)
	return out, err
}

// alertmanager runs Debian's Alertmanager 0.25 with the shipped configuration, every webhook
// receiver pointed at the test's own webhook server.
type alertmanager struct {
	port int
	proc *testenv.Process
}

func startAlertmanager(t *testing.T, shippedConfig, webhookURL string) *alertmanager {
	raw, err := os.ReadFile(shippedConfig)
	if err != nil {
		t.Fatal(err)
	}
	var cfg map[string]any
	if err := yaml.Unmarshal(raw, &cfg); err != nil {
		t.Fatalf("%s: %v", shippedConfig, err)
	}
	var hooks int
	for _, r := range asSlice(cfg["receivers"]) {
		rm, _ := r.(map[string]any)
		for _, w := range asSlice(rm["webhook_configs"]) {
			if wm, ok := w.(map[string]any); ok {
				wm["url"] = webhookURL
				hooks++
			}
		}
	}
	if hooks == 0 {
		t.Fatalf("%s has no webhook receiver to point at the test", shippedConfig)
	}
	out, _ := yaml.Marshal(cfg)
	dir := t.TempDir()
	cfgPath := testenv.WriteFile(t, dir, "alertmanager.yml", string(out))
	a := &alertmanager{port: testenv.FreePort(t)}
	a.proc = testenv.Start(t, "alertmanager", lookPath(t, "prometheus-alertmanager"),
		"--config.file="+cfgPath,
		"--storage.path="+filepath.Join(dir, "data"),
		fmt.Sprintf("--web.listen-address=127.0.0.1:%d", a.port),
		"--cluster.listen-address=",
		"--log.level=warn")
	testenv.WaitHTTP(t, a.url("/-/ready"), 30*time.Second)
	return a
}

func (a *alertmanager) url(path string) string {
	return fmt.Sprintf("http://127.0.0.1:%d%s", a.port, path)
}

type amAlert struct {
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
	StartsAt    time.Time         `json:"startsAt"`
	EndsAt      time.Time         `json:"endsAt"`
	// Status is Alertmanager's view (API v2): active, suppressed (silenced or inhibited), resolved.
	Status struct {
		State       string   `json:"state"`
		InhibitedBy []string `json:"inhibitedBy"`
	} `json:"status"`
}

func (a *alertmanager) alerts() ([]amAlert, error) {
	b, err := get(a.url("/api/v2/alerts"))
	if err != nil {
		return nil, err
	}
	var out []amAlert
	return out, json.Unmarshal(b, &out)
}

// webhook records what Alertmanager posts, with arrival times.
type webhook struct {
	mu       sync.Mutex
	received []webhookAlert
}

type webhookAlert struct {
	amAlert
	Status  string
	Arrived time.Time
}

func (w *webhook) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	var msg struct {
		Alerts []struct {
			amAlert
			Status string `json:"status"`
		} `json:"alerts"`
	}
	if err := json.NewDecoder(r.Body).Decode(&msg); err != nil {
		http.Error(rw, err.Error(), http.StatusBadRequest)
		return
	}
	now := time.Now()
	w.mu.Lock()
	for _, a := range msg.Alerts {
		w.received = append(w.received, webhookAlert{amAlert: a.amAlert, Status: a.Status, Arrived: now})
	}
	w.mu.Unlock()
}

func (w *webhook) alerts() []webhookAlert {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]webhookAlert(nil), w.received...)
}

func lookPath(t *testing.T, name string) string {
	t.Helper()
	for _, dir := range append(strings.Split(os.Getenv("PATH"), ":"), filepath.Join(os.Getenv("HOME"), "go", "bin"), "/root/go/bin", "/usr/bin", "/usr/local/bin") {
		p := filepath.Join(dir, name)
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p
		}
	}
	t.Fatalf("%s not installed: run scripts/install-test-deps.sh", name)
	return ""
}

func asSlice(v any) []any {
	s, _ := v.([]any)
	return s
}
