package k8se2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// The backends run on the host, listening on its address, where the pods' traffic reaches them
// through the bridge: VictoriaLogs stands in for Loki's OTLP endpoint (as in tests/e2e), Debian's
// Prometheus receives remote write.

type victoriaLogs struct {
	name string
	base string
}

func startVictoriaLogs(t *testing.T, env *testEnv, name, hostIP string) *victoriaLogs {
	t.Helper()
	port := freePort(t)
	p := startProc(t, env.logs, name, lookPath(t, "victoria-logs"),
		"-storageDataPath="+filepath.Join(env.work, name),
		fmt.Sprintf("-httpListenAddr=%s:%d", hostIP, port),
		"-retentionPeriod=7d", "-inmemoryDataFlushInterval=1s", "-loggerLevel=WARN")
	env.cleanup.add(func() { p.stop(10 * time.Second) })
	v := &victoriaLogs{name: name, base: fmt.Sprintf("http://%s:%d", hostIP, port)}
	if err := waitFor(30*time.Second, 200*time.Millisecond, func() error {
		_, err := httpGet(v.base+"/health", nil)
		return err
	}); err != nil {
		t.Fatalf("%s: %v\n%s", name, err, p.tail(20))
	}
	return v
}

// OTLPEndpoint is an otlp_http exporter's logs_endpoint.
func (v *victoriaLogs) OTLPEndpoint() string { return v.base + "/insert/opentelemetry/v1/logs" }

// query runs a LogsQL query.
func (v *victoriaLogs) query(q string) ([]map[string]string, error) {
	b, err := httpGet(v.base+"/select/logsql/query?query="+url.QueryEscape(q), nil)
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
	if err != nil || len(rows) == 0 {
		return 0, err
	}
	return strconv.Atoi(rows[0]["n"])
}

type prometheus struct{ base string }

func startPrometheus(t *testing.T, env *testEnv, hostIP string) *prometheus {
	t.Helper()
	dir := filepath.Join(env.work, "prometheus")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfg, []byte("global: {scrape_interval: 5s, evaluation_interval: 5s}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	port := freePort(t)
	p := startProc(t, env.logs, "prometheus", lookPath(t, "prometheus"),
		"--config.file="+cfg, "--storage.tsdb.path="+filepath.Join(dir, "data"),
		fmt.Sprintf("--web.listen-address=%s:%d", hostIP, port),
		"--web.enable-remote-write-receiver", "--log.level=warn")
	env.cleanup.add(func() { p.stop(10 * time.Second) })
	pr := &prometheus{base: fmt.Sprintf("http://%s:%d", hostIP, port)}
	if err := waitFor(60*time.Second, 300*time.Millisecond, func() error {
		_, err := httpGet(pr.base+"/-/ready", nil)
		return err
	}); err != nil {
		t.Fatalf("prometheus: %v\n%s", err, p.tail(20))
	}
	return pr
}

func (p *prometheus) RemoteWriteURL() string { return p.base + "/api/v1/write" }

// value runs an instant query and returns the first sample's value (false when empty).
func (p *prometheus) value(q string) (float64, bool, error) {
	b, err := httpGet(p.base+"/api/v1/query?query="+url.QueryEscape(q), nil)
	if err != nil {
		return 0, false, err
	}
	var resp struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			Result []struct {
				Value [2]any `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.Unmarshal(b, &resp); err != nil {
		return 0, false, err
	}
	if resp.Status != "success" {
		return 0, false, fmt.Errorf("query %q: %s", q, resp.Error)
	}
	if len(resp.Data.Result) == 0 {
		return 0, false, nil
	}
	f, err := strconv.ParseFloat(fmt.Sprint(resp.Data.Result[0].Value[1]), 64)
	return f, true, err
}

// alertSink accepts what the collector's alertmanager exporter posts (Alertmanager's API v2).
type alertSink struct {
	base  string
	posts atomic.Int64
}

func startAlertSink(t *testing.T, env *testEnv, hostIP string) *alertSink {
	t.Helper()
	l, err := net.Listen("tcp", hostIP+":0")
	if err != nil {
		t.Fatal(err)
	}
	s := &alertSink{base: "http://" + l.Addr().String()}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		if r.Method == http.MethodPost && r.URL.Path == "/api/v2/alerts" {
			s.posts.Add(1)
		}
		w.WriteHeader(http.StatusOK)
	}), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(l) }()
	env.cleanup.add(func() { _ = srv.Close() })
	return s
}

func lookPath(t *testing.T, name string) string {
	t.Helper()
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	if gopath, err := exec.Command("go", "env", "GOPATH").Output(); err == nil {
		p := filepath.Join(strings.TrimSpace(string(gopath)), "bin", name)
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	t.Fatalf("%s is not installed: run scripts/install-test-deps.sh", name)
	return ""
}
