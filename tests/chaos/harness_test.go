// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

//go:build chaos

package chaos

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/testbackends"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/testenv"
)

// harness is one scenario's world: the log stores, optionally Prometheus, an Alertmanager
// stand-in, a storage directory kept across collector restarts, and the collector runs.
type harness struct {
	t       *testing.T
	root    string
	dir     string
	storage string
	all     *store // every event (LOGS_OTLP_ENDPOINT)
	det     *store // detections only (DETECTIONS_OTLP_ENDPOINT)
	prom    *testbackends.Prometheus
	alerts  string // the URL of an Alertmanager stand-in that accepts every post
	ds      daemonSet

	metricsPort, healthPort int
	configs                 []string

	col  *testenv.Process
	runs int
	// ready is how long the last start took until the health check answered 200: the restart
	// time after a kill (the queue's file is not compacted at start-up).
	ready  time.Duration
	peakMu sync.Mutex
	peakKB int64
}

type harnessOptions struct {
	prometheus bool
}

func newHarness(t *testing.T, o harnessOptions) *harness {
	t.Helper()
	h := &harness{t: t, root: testenv.RepoRoot(t), dir: t.TempDir()}
	h.storage = filepath.Join(h.dir, "storage")
	if err := os.MkdirAll(filepath.Join(h.dir, "profiles"), 0o700); err != nil {
		t.Fatal(err)
	}
	h.ds = readDaemonSet(t)
	h.all = startStore(t, "victorialogs-all")
	h.det = startStore(t, "victorialogs-detections")
	h.alerts = testbackends.StartAlertSink(t)
	if o.prometheus {
		h.prom = testbackends.StartPrometheus(t, "global:\n  scrape_interval: 15s\n")
	}
	h.metricsPort, h.healthPort = testenv.FreePort(t), testenv.FreePort(t)
	h.configs = []string{filepath.Join(h.root, "distribution", "config.yaml")}
	// The debugging listeners (pprof, zpages) have fixed loopback ports in the shipped file; free
	// ones let a scenario run while another collector runs on the machine.
	h.overlay("debug-ports", map[string]any{"extensions": map[string]any{
		"pprof":  map[string]any{"endpoint": fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t))},
		"zpages": map[string]any{"endpoint": fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t))},
	}})
	return h
}

// env is what the DaemonSet's ConfigMap and downward API set, pointed at the test's servers as
// tests/e2e does, plus the DaemonSet's Go runtime settings.
func (h *harness) env() []string {
	prw := "http://127.0.0.1:1/api/v1/write" // nothing listens: samples wait in the WAL
	if h.prom != nil {
		prw = h.prom.RemoteWriteURL()
	}
	env := []string{
		"TETRAGON_ENDPOINT=unix://" + h.sock(),
		"LOGS_OTLP_ENDPOINT=" + h.all.OTLPEndpoint(),
		"DETECTIONS_OTLP_ENDPOINT=" + h.det.OTLPEndpoint(),
		"PROMETHEUS_REMOTE_WRITE_URL=" + prw,
		"ALERTMANAGER_ENDPOINT=" + h.alerts,
		"STORAGE_DIR=" + h.storage,
		"PROFILES_DIR=" + filepath.Join(h.dir, "profiles"),
		"K8S_NODE_NAME=chaos-node",
		"SELF_METRICS_HOST=127.0.0.1",
		fmt.Sprintf("SELF_METRICS_PORT=%d", h.metricsPort),
		fmt.Sprintf("HEALTH_CHECK_ENDPOINT=127.0.0.1:%d", h.healthPort),
	}
	for k, v := range h.ds.Env {
		env = append(env, k+"="+v)
	}
	return env
}

func (h *harness) sock() string { return filepath.Join(h.dir, "tetragon.sock") }

// overlay adds a configuration file merged over the shipped one (a further --config: maps merge
// key by key, lists are replaced), as the kustomize overlays do.
func (h *harness) overlay(name string, cfg map[string]any) string {
	h.t.Helper()
	b, err := yaml.Marshal(cfg)
	if err != nil {
		h.t.Fatal(err)
	}
	p := testenv.WriteFile(h.t, h.dir, name+".yaml", string(b))
	h.configs = append(h.configs, p)
	return p
}

// fileMode swaps the gRPC receiver of the shipped configuration for a file-mode one, as
// deploy/kubernetes/overlays/export-file does: the shipped receiver's settings (body, batch,
// field filters) without its grpc section, tailing export from the beginning with its
// checkpoint in the shipped file_storage.
func (h *harness) fileMode(export string) {
	h.t.Helper()
	raw, err := os.ReadFile(h.configs[0])
	if err != nil {
		h.t.Fatal(err)
	}
	var shipped struct {
		Receivers map[string]map[string]any `yaml:"receivers"`
		Service   struct {
			Pipelines map[string]struct {
				Receivers []string `yaml:"receivers"`
			} `yaml:"pipelines"`
		} `yaml:"service"`
	}
	if err := yaml.Unmarshal(raw, &shipped); err != nil {
		h.t.Fatal(err)
	}
	rcv, ok := shipped.Receivers["tetragon"]
	if !ok || len(shipped.Service.Pipelines["logs/ingest"].Receivers) != 1 || shipped.Service.Pipelines["logs/ingest"].Receivers[0] != "tetragon" {
		h.t.Fatalf("distribution/config.yaml no longer has receiver tetragon feeding logs/ingest; update fileMode")
	}
	delete(rcv, "grpc")
	rcv["file"] = map[string]any{"path": export, "start_at": "beginning", "storage": "file_storage"}
	h.overlay("file-mode", map[string]any{
		"receivers": map[string]any{"tetragon/file": rcv},
		"service":   map[string]any{"pipelines": map[string]any{"logs/ingest": map[string]any{"receivers": []string{"tetragon/file"}}}},
	})
}

// exportPath is where Tetragon's export file is in file mode.
func (h *harness) exportPath() string { return filepath.Join(h.dir, "tetragon", "tetragon.log") }

// ownExportFile creates the export file for a scenario that writes it itself, and switches the
// collector to file mode on it. The file is closed when the test ends.
func (h *harness) ownExportFile() *os.File {
	h.t.Helper()
	export := h.exportPath()
	if err := os.MkdirAll(filepath.Dir(export), 0o700); err != nil {
		h.t.Fatal(err)
	}
	f, err := os.Create(export)
	if err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(func() { f.Close() })
	h.fileMode(export)
	return f
}

// startCollector starts the collector on the harness's storage and waits for its health check.
func (h *harness) startCollector() *testenv.Process {
	h.t.Helper()
	return h.startCollectorWith(testenv.Binary(h.t, "OTELCOL_BIN", "otelcol-runtime-security"))
}

// startCollectorWith runs bin (the collector, or a wrapper that execs it with the arguments)
// with the collector's arguments.
func (h *harness) startCollectorWith(bin string, pre ...string) *testenv.Process {
	h.t.Helper()
	h.runs++
	args := append([]string(nil), pre...)
	for _, c := range h.configs {
		args = append(args, "--config="+c)
	}
	started := time.Now()
	p := testenv.StartEnv(h.t, fmt.Sprintf("collector-%d", h.runs), h.env(), bin, args...)
	h.col = p
	go h.sampleRSS(p)
	testenv.Eventually(h.t, 60*time.Second, "collector health check", func() bool {
		if p.Exited() {
			h.t.Fatalf("collector exited: %v\n%s", p.ExitErr(), p.Tail(4000))
		}
		_, err := testbackends.Get(fmt.Sprintf("http://127.0.0.1:%d/", h.healthPort))
		return err == nil
	})
	h.ready = time.Since(started)
	h.t.Logf("collector start %d ready in %s", h.runs, h.ready.Round(10*time.Millisecond))
	return p
}

// killCollector SIGKILLs the collector, as a crash or an OOM kill would.
func (h *harness) killCollector() {
	h.readRSS(h.col)
	h.col.Kill()
}

// stopCollector stops the collector gracefully (SIGTERM): it flushes what it holds.
func (h *harness) stopCollector() {
	h.readRSS(h.col)
	if err := h.col.Stop(30 * time.Second); err != nil {
		h.t.Logf("collector exit: %v", err)
	}
}

func (h *harness) sampleRSS(p *testenv.Process) {
	for !p.Exited() {
		h.readRSS(p)
		time.Sleep(200 * time.Millisecond)
	}
}

// readRSS records the process's peak resident set size (VmHWM).
func (h *harness) readRSS(p *testenv.Process) {
	kb := vmHWM(p.Cmd.Process.Pid)
	h.peakMu.Lock()
	if kb > h.peakKB {
		h.peakKB = kb
	}
	h.peakMu.Unlock()
}

func vmHWM(pid int) int64 {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return n
		}
	}
	return 0
}

// peakMiB is the highest VmHWM of every collector process of the scenario.
func (h *harness) peakMiB() float64 {
	h.peakMu.Lock()
	defer h.peakMu.Unlock()
	return float64(h.peakKB) / 1024
}

// checkMemory asserts the collector's peak RSS stayed below the DaemonSet's memory limit, at
// which the kubelet's cgroup would have OOM-killed it.
func (h *harness) checkMemory() float64 {
	h.t.Helper()
	peak := h.peakMiB()
	limit := float64(h.ds.MemoryLimit) / (1 << 20)
	h.t.Logf("MEMORY peak RSS (VmHWM) of the collector: %.1f MiB (DaemonSet limit %.0f MiB, GOMEMLIMIT %s)", peak, limit, h.ds.Env["GOMEMLIMIT"])
	if peak <= 0 {
		h.t.Errorf("no peak RSS measured")
	}
	if peak >= limit {
		h.t.Errorf("peak RSS %.1f MiB reached the DaemonSet's memory limit %.0f MiB", peak, limit)
	}
	return peak
}

// metrics is one scrape of the collector's own telemetry: series ("name{labels}") → value.
type metrics map[string]float64

func (h *harness) scrape() (metrics, error) {
	b, err := testbackends.Get(fmt.Sprintf("http://127.0.0.1:%d/metrics", h.metricsPort))
	if err != nil {
		return nil, err
	}
	m := metrics{}
	for _, line := range strings.Split(string(b), "\n") {
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			continue
		}
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			continue
		}
		m[line[:i]] = v
	}
	return m, nil
}

// sum adds the series of metric name whose labels contain every fragment (`reason="malformed"`).
func (m metrics) sum(name string, fragments ...string) float64 {
	var s float64
	for series, v := range m {
		n := series
		if i := strings.IndexByte(series, '{'); i >= 0 {
			n = series[:i]
		}
		if n != name {
			continue
		}
		ok := true
		for _, f := range fragments {
			if !strings.Contains(series, f) {
				ok = false
				break
			}
		}
		if ok {
			s += v
		}
	}
	return s
}

// series lists the series of metric name.
func (m metrics) series(name string) []string {
	var out []string
	for s := range m {
		if s == name || strings.HasPrefix(s, name+"{") {
			out = append(out, fmt.Sprintf("%s %g", s, m[s]))
		}
	}
	return out
}

// metric scrapes and sums one metric; -1 when the scrape fails.
func (h *harness) metric(name string, fragments ...string) float64 {
	m, err := h.scrape()
	if err != nil {
		return -1
	}
	return m.sum(name, fragments...)
}

// daemonSet holds what deploy/kubernetes/base/daemonset.yaml gives the collector container.
type daemonSet struct {
	MemoryLimit int64             // bytes
	Env         map[string]string // the Go runtime settings (GOMEMLIMIT, GOMAXPROCS)
}

func readDaemonSet(t *testing.T) daemonSet {
	t.Helper()
	path := filepath.Join(testenv.RepoRoot(t), "deploy", "kubernetes", "base", "daemonset.yaml")
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var ds struct {
		Spec struct {
			Template struct {
				Spec struct {
					Containers []struct {
						Name string `yaml:"name"`
						Env  []struct {
							Name  string `yaml:"name"`
							Value string `yaml:"value"`
						} `yaml:"env"`
						Resources struct {
							Limits map[string]string `yaml:"limits"`
						} `yaml:"resources"`
					} `yaml:"containers"`
				} `yaml:"spec"`
			} `yaml:"template"`
		} `yaml:"spec"`
	}
	if err := yaml.Unmarshal(raw, &ds); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	out := daemonSet{Env: map[string]string{}}
	for _, c := range ds.Spec.Template.Spec.Containers {
		if c.Name != "otelcol" {
			continue
		}
		for _, e := range c.Env {
			if strings.HasPrefix(e.Name, "GO") && e.Value != "" {
				out.Env[e.Name] = e.Value
			}
		}
		out.MemoryLimit = parseQuantity(t, c.Resources.Limits["memory"])
	}
	if out.MemoryLimit == 0 {
		t.Fatalf("%s: no memory limit for container otelcol", path)
	}
	return out
}

// parseQuantity reads a Kubernetes memory quantity in binary units (512Mi) or plain bytes.
func parseQuantity(t *testing.T, q string) int64 {
	t.Helper()
	for suffix, mult := range map[string]int64{"Ki": 1 << 10, "Mi": 1 << 20, "Gi": 1 << 30} {
		if v, ok := strings.CutSuffix(q, suffix); ok {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				t.Fatalf("memory quantity %q: %v", q, err)
			}
			return n * mult
		}
	}
	n, err := strconv.ParseInt(q, 10, 64)
	if err != nil {
		t.Fatalf("memory quantity %q: %v", q, err)
	}
	return n
}

// startSimGRPC serves the event set on the harness's socket at rate events/s (replayed without
// restamping: the events keep their keys), waiting for the collector to connect. extra are
// further tetragon-sim flags (--loop).
func (h *harness) startSimGRPC(name string, set *eventSet, rate int, extra ...string) *testenv.Process {
	h.t.Helper()
	_ = os.Remove(h.sock())
	args := append([]string{"--listen", "unix://" + h.sock(), "--replay", set.Path, "--rate", fmt.Sprint(rate), "--stats"}, extra...)
	p := testenv.Start(h.t, name, testenv.Binary(h.t, "TETRAGON_SIM_BIN", "tetragon-sim"), args...)
	testenv.Eventually(h.t, 20*time.Second, name+" socket", func() bool {
		_, err := os.Stat(h.sock())
		return err == nil
	})
	return p
}

// startSimFile writes the event set into an export file at rate events/s, as Tetragon's
// --export-filename does (one file here: no rotation).
func (h *harness) startSimFile(name string, set *eventSet, rate int, export string) *testenv.Process {
	h.t.Helper()
	return testenv.Start(h.t, name, testenv.Binary(h.t, "TETRAGON_SIM_BIN", "tetragon-sim"),
		"--replay", set.Path, "--rate", fmt.Sprint(rate), "--export-file", export,
		"--export-max-bytes", "4000000000", "--stats")
}

// waitSim waits for the simulator to finish and returns its stats.
func (h *harness) waitSim(p *testenv.Process, d time.Duration) testbackends.SimStats {
	h.t.Helper()
	if err := p.Wait(d); err != nil {
		h.t.Fatalf("%s: %v\n%s", p.Name, err, p.Tail(2000))
	}
	return testbackends.ReadSimStats(h.t, p)
}

// storedTally compares the all-events store with set, and checks the detections store against
// it: every stored detection is a sent event, stored once (unless atLeastOnce: a collector
// killed mid-export sends again what it had not seen acknowledged), and the distinct detections
// are the tagged records of the all-events store.
func (h *harness) storedTally(set *eventSet, atLeastOnce bool) (all, det tally) {
	h.t.Helper()
	keys, err := h.all.keys("*")
	if err != nil {
		h.t.Fatal(err)
	}
	tl := set.tally(keys)
	tagged, err := h.all.keys("security_rule.name:*")
	if err != nil {
		h.t.Fatal(err)
	}
	dets, err := h.det.keys("*")
	if err != nil {
		h.t.Fatal(err)
	}
	dt := set.tally(dets)
	if (dt.Duplicates != 0 && !atLeastOnce) || dt.Foreign != 0 {
		h.t.Errorf("detections store: %d records, %d duplicated, %d not sent", dt.Stored, dt.Duplicates, dt.Foreign)
	}
	taggedSet := map[string]bool{}
	for _, k := range tagged {
		taggedSet[k] = true
	}
	var missing int
	for _, k := range dets {
		if !taggedSet[k] {
			missing++
		}
	}
	if missing != 0 || len(taggedSet) != dt.Distinct {
		h.t.Errorf("the detections store holds %d distinct detections (%d not tagged in the all-events store), the all-events store %d tagged events",
			dt.Distinct, missing, len(taggedSet))
	}
	h.t.Logf("stores: all-events %d records (%d distinct sent events, %d duplicates, %d foreign); detections %d records (%d distinct)",
		tl.Stored, tl.Distinct, tl.Duplicates, tl.Foreign, dt.Stored, dt.Distinct)
	if tl.Foreign != 0 {
		h.t.Errorf("the all-events store holds %d records that were never sent", tl.Foreign)
	}
	return tl, dt
}

// poll scrapes the collector's telemetry every interval and hands each scrape to f until the
// returned stop function is called (scrapes that fail, e.g. while no collector runs, are skipped).
func (h *harness) poll(every time.Duration, f func(m metrics)) (stop func()) {
	done, finished := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(finished)
		for {
			if m, err := h.scrape(); err == nil {
				f(m)
			}
			select {
			case <-done:
				return
			case <-time.After(every):
			}
		}
	}()
	var once sync.Once
	stop = func() { once.Do(func() { close(done); <-finished }) }
	h.t.Cleanup(stop)
	return stop
}

// atLeastOnceBound reads what bounds the at-least-once duplicates of a crash from the shipped
// configuration: the receiver's batch size and the otlp_http/logs exporter's consumers.
func (h *harness) atLeastOnceBound(fileMode bool) int {
	h.t.Helper()
	raw, err := os.ReadFile(h.configs[0])
	if err != nil {
		h.t.Fatal(err)
	}
	var cfg struct {
		Receivers struct {
			Tetragon struct {
				Batch struct {
					MaxSize int `yaml:"max_size"`
				} `yaml:"batch"`
			} `yaml:"tetragon"`
		} `yaml:"receivers"`
		Exporters map[string]struct {
			SendingQueue struct {
				NumConsumers int `yaml:"num_consumers"`
			} `yaml:"sending_queue"`
		} `yaml:"exporters"`
	}
	if err := yaml.Unmarshal(raw, &cfg); err != nil {
		h.t.Fatal(err)
	}
	batch := cfg.Receivers.Tetragon.Batch.MaxSize
	if batch == 0 {
		batch = 512 // the receiver's default
	}
	consumers := cfg.Exporters["otlp_http/logs"].SendingQueue.NumConsumers
	if consumers == 0 {
		consumers = 10 // exporterhelper's default
	}
	// Requests being exported when the process dies are still in the persistent queue and are
	// sent again after the restart; in file mode the batch delivered but not yet checkpointed is
	// read again too.
	n := consumers * batch
	if fileMode {
		n += batch
	}
	return n
}
