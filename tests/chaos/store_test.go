// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

//go:build chaos

package chaos

// The log store and Prometheus, as tests/e2e runs them (copied, not shared: tests/e2e is its
// own package), reduced to what the chaos scenarios query.

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/testenv"
)

var client = &http.Client{Timeout: 30 * time.Second}

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

// victoriaLogs is a VictoriaLogs server: the OTLP log store that stands in for Loki.
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
	v.proc = testenv.Start(v.t, v.name, lookPath(v.t, "victoria-logs"),
		"-storageDataPath="+v.dataDir,
		fmt.Sprintf("-httpListenAddr=127.0.0.1:%d", v.port),
		"-retentionPeriod=7d",
		"-inmemoryDataFlushInterval=1s",
		"-loggerLevel=WARN")
	testenv.WaitHTTP(v.t, v.url("/health"), 30*time.Second)
}

func (v *victoriaLogs) stop() {
	if err := v.proc.Stop(10 * time.Second); err != nil {
		v.t.Logf("%s stopped: %v", v.name, err)
	}
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

// keys returns the dedupe key (eventKey) of every stored record matching filter, one per
// record: a record stored twice appears twice.
func (v *victoriaLogs) keys(filter string) ([]string, error) {
	rows, err := v.query(filter + " | fields _time, event_name, tetragon.exec_id")
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(rows))
	for _, r := range rows {
		ts, err := time.Parse(time.RFC3339Nano, r["_time"])
		if err != nil {
			return nil, fmt.Errorf("_time %q: %w", r["_time"], err)
		}
		out = append(out, eventKey(r["event_name"], r["tetragon.exec_id"], ts))
	}
	return out, nil
}

// waitCount waits until the store holds at least n records matching filter, then until the
// count holds still for a few seconds (so that anything beyond n, a duplicate, has arrived).
func (v *victoriaLogs) waitCount(t *testing.T, filter string, n int, d time.Duration) int {
	t.Helper()
	testenv.Eventually(t, d, fmt.Sprintf("%d records in %s", n, v.name), func() bool {
		c, err := v.count(filter)
		return err == nil && c >= n
	})
	return v.settle(t, filter)
}

// settle waits until the number of records matching filter is the same on three polls one
// second apart (VictoriaLogs makes records searchable within its 1 s flush interval).
func (v *victoriaLogs) settle(t *testing.T, filter string) int {
	t.Helper()
	last, same := -1, 0
	var c int
	testenv.Eventually(t, 2*time.Minute, v.name+" stops growing", func() bool {
		n, err := v.count(filter)
		if err != nil {
			return false
		}
		c = n
		if n == last {
			same++
		} else {
			last, same = n, 0
		}
		if same < 2 {
			time.Sleep(800 * time.Millisecond)
		}
		return same >= 2
	})
	return c
}

// prometheus is Prometheus from Debian with the remote-write receiver on.
type prometheus struct {
	port int
	proc *testenv.Process
}

func startPrometheus(t *testing.T) *prometheus {
	p := &prometheus{port: testenv.FreePort(t)}
	dir := t.TempDir()
	cfgPath := testenv.WriteFile(t, dir, "prometheus.yml", "global:\n  scrape_interval: 15s\n")
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
		return nil, nil
	}
	var out []promSample
	err = json.Unmarshal(resp.Data.Result, &out)
	return out, err
}

// scalar returns the single value of q, or -1 when it has none.
func (p *prometheus) scalar(q string) float64 {
	s, err := p.query(q)
	if err != nil || len(s) != 1 {
		return -1
	}
	return s[0].float()
}

// alertSink stands in for Alertmanager's API: it accepts and counts the alert posts of the
// alertmanager exporter, so that its queue never backs up (alerts themselves are tests/e2e's).
type alertSink struct {
	srv   *httptest.Server
	posts atomic.Int64
}

func startAlertSink(t *testing.T) *alertSink {
	a := &alertSink{}
	a.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		a.posts.Add(1)
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(a.srv.Close)
	return a
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
