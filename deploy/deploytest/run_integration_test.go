// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

//go:build integration

package deploytest

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/plog/plogotlp"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/attrkey"
)

// otlpSink is a stand-in for Loki's /otlp endpoint that keeps what it receives per tenant.
type otlpSink struct {
	mu sync.Mutex
	// records and detections count log records per X-Scope-OrgID; detections are records
	// carrying security_rule.name.
	records, detections map[string]int
	errors              []string
}

func (s *otlpSink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err == nil && r.Header.Get("Content-Encoding") == "gzip" {
		var zr *gzip.Reader
		if zr, err = gzip.NewReader(bytes.NewReader(body)); err == nil {
			body, err = io.ReadAll(zr)
		}
	}
	req := plogotlp.NewExportRequest()
	if err == nil {
		err = req.UnmarshalProto(body)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil || r.URL.Path != "/otlp/v1/logs" {
		s.errors = append(s.errors, fmt.Sprintf("%s: %v", r.URL.Path, err))
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	tenant := r.Header.Get("X-Scope-OrgID")
	rls := req.Logs().ResourceLogs()
	for i := 0; i < rls.Len(); i++ {
		sls := rls.At(i).ScopeLogs()
		for j := 0; j < sls.Len(); j++ {
			lrs := sls.At(j).LogRecords()
			for k := 0; k < lrs.Len(); k++ {
				s.records[tenant]++
				if _, ok := lrs.At(k).Attributes().Get(attrkey.RuleName); ok {
					s.detections[tenant]++
				}
			}
		}
	}
	w.Header().Set("Content-Type", "application/x-protobuf")
	w.WriteHeader(http.StatusOK)
}

func (s *otlpSink) counts(tenant string) (records, detections int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.records[tenant], s.detections[tenant]
}

func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return fmt.Sprint(l.Addr().(*net.TCPAddr).Port)
}

func simBin(t *testing.T) string {
	t.Helper()
	bin := os.Getenv("TETRAGON_SIM_BIN")
	if bin == "" {
		bin = filepath.Join(repoRoot(t), "bin", "tetragon-sim")
	}
	if !filepath.IsAbs(bin) {
		bin = filepath.Join(repoRoot(t), bin)
	}
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("tetragon-sim binary %s not found (set TETRAGON_SIM_BIN or run `make build`): %v", bin, err)
	}
	return bin
}

// TestDefaultDeploymentRunsEndToEnd runs the collector with the configuration and environment
// `kubectl apply -k deploy/kubernetes` gives the pod (paths moved to a temporary directory,
// ports to free ones, endpoints to local stand-ins) against tetragon-sim on the unix socket,
// and checks what reaches Loki and Prometheus: every event under LOGS_TENANT, only
// detections under DETECTIONS_TENANT, and detection metrics by remote write.
func TestDeploymentRunsEndToEnd(t *testing.T) {
	for _, v := range []variant{variants[0], variants[3], gatewayVariant(t), variantNamed(t, "grpc+tls"), variantNamed(t, "gateway+tls")} {
		t.Run(v.name, func(t *testing.T) {
			// A free port can be taken by another process between our probe and the
			// collector's bind: start again with new ports (a bind conflict only, nothing else).
			for attempt := 1; !runEndToEnd(t, v); attempt++ {
				if attempt == 3 {
					t.Fatal("three bind conflicts in a row")
				}
				t.Logf("attempt %d: a port was taken meanwhile, retrying with new ports", attempt)
			}
		})
	}
}

// runEndToEnd reports false, having checked nothing, when a collector could not bind a port.
func runEndToEnd(t *testing.T, v variant) bool {
	bin, sim := otelcolBin(t), simBin(t)
	layout := podLayout(t)
	configs, env := writeVariant(t, v, layout)

	health, _ := movePorts(t, configs[0], env, nil)

	// With components/tls the stand-ins serve https and require a client certificate, and the
	// pods get the Secrets' files and the mutual-TLS settings docs/deploy.md describes.
	var pki *testPKI
	if v.tls {
		pki = newTestPKI(t)
		pki.write(t, layout)
		for k, val := range mutualTLSEnv {
			env[k] = val
		}
	}
	loki := &otlpSink{records: map[string]int{}, detections: map[string]int{}}
	lokiSrv := pki.server(loki)
	defer lokiSrv.Close()
	var prwMu sync.Mutex
	prwRequests := 0
	prwSrv := pki.server(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		prwMu.Lock()
		prwRequests++
		prwMu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	defer prwSrv.Close()

	for k, v := range env {
		env[k] = layout.Local(v)
	}
	env["LOGS_OTLP_ENDPOINT"] = lokiSrv.URL + "/otlp/v1/logs"
	env["DETECTIONS_OTLP_ENDPOINT"] = lokiSrv.URL + "/otlp/v1/logs"
	env["LOGS_TENANT"] = "all-events"
	env["DETECTIONS_TENANT"] = "detections"
	env["PROMETHEUS_REMOTE_WRITE_URL"] = prwSrv.URL + "/api/v1/write"
	socket := strings.TrimPrefix(env["TETRAGON_ENDPOINT"], "unix://")
	for _, d := range []string{filepath.Dir(socket), layout.Local(tetragonExport)} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	// gRPC: the simulator serves the socket and waits for the receiver. Export file: it writes
	// the file Tetragon would, once the collector is up (the receiver starts at the end).
	simArgs := []string{"--generate", "--scenario", "demo", "--rate", "500", "--count", "3000"}
	exportFile := layout.Local(tetragonExport + "/tetragon.log")
	if v.fileMode {
		simArgs = append(simArgs, "--export-file", exportFile)
	} else {
		simArgs = append(simArgs, "--listen", "unix://"+socket)
	}
	simCmd := exec.CommandContext(ctx, sim, simArgs...)
	var simOut bytes.Buffer
	simCmd.Stdout, simCmd.Stderr = &simOut, &simOut
	defer func() {
		if simCmd.Process != nil {
			_ = simCmd.Process.Kill()
			_ = simCmd.Wait()
		}
	}()
	if !v.fileMode {
		if err := simCmd.Start(); err != nil {
			t.Fatal(err)
		}
	}

	// Gateway tier: the gateway gets the Loki and remote-write stand-ins, the agent the
	// gateway's address; the gateway's storage is its own.
	var gateway *collector
	if v.gateway {
		gwLayout := podLayout(t)
		gwConfigs, gwEnv := writeGateway(t, v, gwLayout)
		otlp := freePort(t)
		movePorts(t, gwConfigs[0], gwEnv, map[string]string{"0.0.0.0:4317": "127.0.0.1:" + otlp})
		if v.tls {
			pki.write(t, gwLayout)
			for k, val := range mutualTLSEnv {
				gwEnv[k] = val
			}
		}
		for k, val := range gwEnv {
			gwEnv[k] = gwLayout.Local(val)
		}
		for _, k := range []string{"LOGS_OTLP_ENDPOINT", "DETECTIONS_OTLP_ENDPOINT", "LOGS_TENANT", "DETECTIONS_TENANT", "PROMETHEUS_REMOTE_WRITE_URL"} {
			gwEnv[k] = env[k]
		}
		env["GATEWAY_ENDPOINT"] = "127.0.0.1:" + otlp
		gateway = startCollector(t, ctx, bin, gwConfigs, gwEnv)
		defer func() {
			if t.Failed() {
				t.Logf("gateway output:\n%s", tail(gateway.out.String(), 4000))
			}
		}()
	}
	col := startCollector(t, ctx, bin, configs, env)
	exited := col.exited
	defer func() {
		if t.Failed() {
			t.Logf("collector output:\n%s\nsimulator output:\n%s", tail(col.out.String(), 4000), tail(simOut.String(), 2000))
		}
	}()

	// Poll, bounded, until everything expected has arrived.
	start := time.Now()
	firstSeen := map[string]time.Duration{}
	deadline := time.Now().Add(90 * time.Second)
	var healthy bool
	for time.Now().Before(deadline) {
		select {
		case err := <-exited:
			if out := col.out.String(); strings.Contains(out, "address already in use") {
				return false
			}
			t.Fatalf("collector exited early: %v", err)
		case <-time.After(500 * time.Millisecond):
		}
		if gateway != nil {
			select {
			case err := <-gateway.exited:
				if strings.Contains(gateway.out.String(), "address already in use") {
					return false
				}
				t.Fatalf("gateway exited early: %v", err)
			default:
			}
		}
		if resp, err := http.Get("http://127.0.0.1:" + health + "/"); err == nil {
			healthy = healthy || resp.StatusCode == http.StatusOK
			resp.Body.Close()
		}
		if healthy && v.fileMode && simCmd.Process == nil {
			if err := simCmd.Start(); err != nil {
				t.Fatal(err)
			}
		}
		allRec, _ := loki.counts("all-events")
		detRec, _ := loki.counts("detections")
		prwMu.Lock()
		prw := prwRequests
		prwMu.Unlock()
		for name, ok := range map[string]bool{"healthy": healthy, "events": allRec > 0, "detections": detRec > 0, "remote write": prw > 0} {
			if _, seen := firstSeen[name]; ok && !seen {
				firstSeen[name] = time.Since(start).Round(100 * time.Millisecond)
			}
		}
		if healthy && allRec > 0 && detRec > 0 && prw > 0 {
			break
		}
	}
	allRec, allDet := loki.counts("all-events")
	detRec, detDet := loki.counts("detections")
	prwMu.Lock()
	prw := prwRequests
	prwMu.Unlock()
	t.Logf("after %v: all-events tenant: %d records (%d detections); detections tenant: %d records; remote-write requests: %d",
		time.Since(start).Round(time.Second), allRec, allDet, detRec, prw)
	t.Logf("first seen: %v", firstSeen)
	if !healthy {
		t.Error("health_check never answered 200")
	}
	if allRec == 0 || detRec == 0 || prw == 0 {
		t.Fatal("not everything arrived: see the counts above")
	}
	if detDet != detRec {
		t.Errorf("the detections tenant got %d records of which only %d are detections", detRec, detDet)
	}
	if allRec <= detRec || allDet == 0 {
		t.Errorf("the all-events tenant got %d records (%d detections): want every event, detections included", allRec, allDet)
	}
	if len(loki.errors) > 0 {
		t.Errorf("bad requests to Loki: %v", loki.errors)
	}
	// Durable state is on the storage hostPath (the agent's queue only, in the gateway tier).
	durable := []string{"file_storage", "prw-wal"}
	if v.gateway {
		durable = durable[:1]
	}
	for _, d := range durable {
		if entries, err := os.ReadDir(layout.Local(storageDir + "/" + d)); err != nil || len(entries) == 0 {
			t.Errorf("%s/%s is empty or missing: %v", storageDir, d, err)
		}
	}
	col.stop(t, "collector")
	if gateway != nil {
		gateway.stop(t, "gateway")
	}
	return true
}

// movePorts moves the pod's listeners to free loopback ports, so that parallel test packages do
// not clash, and returns the health and metrics ports: health and self-metrics through the
// variables the pod sets (the configuration must read them), fixed addresses in config (extra,
// and pprof/zpages where present) by rewriting the file.
func movePorts(t *testing.T, config string, env map[string]string, extra map[string]string) (health, metrics string) {
	t.Helper()
	data, err := os.ReadFile(config)
	if err != nil {
		t.Fatal(err)
	}
	s := string(data)
	for _, v := range []string{"HEALTH_CHECK_ENDPOINT", "SELF_METRICS_HOST", "SELF_METRICS_PORT"} {
		if !strings.Contains(s, "${env:"+v) {
			t.Fatalf("%s does not read ${env:%s}: the pod's bind address would not apply", config, v)
		}
	}
	health, metrics = freePort(t), freePort(t)
	env["POD_IP"] = "127.0.0.1"
	env["HEALTH_CHECK_ENDPOINT"] = "127.0.0.1:" + health
	env["SELF_METRICS_HOST"] = "127.0.0.1"
	env["SELF_METRICS_PORT"] = metrics
	for old, repl := range extra {
		if !strings.Contains(s, old) {
			t.Fatalf("%s has no %q to move", config, old)
		}
		s = strings.ReplaceAll(s, old, repl)
	}
	for _, old := range []string{"127.0.0.1:1777", "127.0.0.1:55679"} { // pprof, zpages where present
		s = strings.ReplaceAll(s, old, "127.0.0.1:"+freePort(t))
	}
	if err := os.WriteFile(config, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
	return health, metrics
}

// collector is a running otelcol-runtime-security.
type collector struct {
	cmd    *exec.Cmd
	out    bytes.Buffer
	exited chan error
}

func startCollector(t *testing.T, ctx context.Context, bin string, configs []string, env map[string]string) *collector {
	t.Helper()
	var args []string
	for _, c := range configs {
		args = append(args, "--config="+c)
	}
	col := &collector{cmd: exec.CommandContext(ctx, bin, args...), exited: make(chan error, 1)}
	col.cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}
	for k, v := range env {
		col.cmd.Env = append(col.cmd.Env, k+"="+v)
	}
	col.cmd.Stdout, col.cmd.Stderr = &col.out, &col.out
	if err := col.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { col.exited <- col.cmd.Wait() }()
	return col
}

// stop sends SIGTERM and checks a clean exit.
func (c *collector) stop(t *testing.T, name string) {
	t.Helper()
	stopAt := time.Now()
	if err := c.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-c.exited:
		if err != nil {
			t.Errorf("%s exit after SIGTERM: %v", name, err)
		}
		t.Logf("%s stopped %v after SIGTERM", name, time.Since(stopAt).Round(time.Millisecond))
	case <-time.After(30 * time.Second):
		t.Errorf("%s did not stop within 30s of SIGTERM", name)
		_ = c.cmd.Process.Kill()
	}
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[len(s)-n:]
}
