// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package deploytest

import (
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap"
	corev1 "k8s.io/api/core/v1"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/connector/detectionmetricsconnector"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/processor/detectionprocessor"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/receiver/tetragonreceiver"
)

// collectorConfig is the merged configuration the DaemonSet's collector container runs.
func collectorConfig(t testing.TB, objs []Object, ps *corev1.PodSpec) *confmap.Conf {
	t.Helper()
	files, err := CollectorConfigFiles(objs, ps, "otelcol")
	if err != nil {
		t.Fatal(err)
	}
	conf, err := MergeConfig(files)
	if err != nil {
		t.Fatal(err)
	}
	return conf
}

// podIP stands for the pod's IP (status.podIP) in podEnv: TEST-NET-1 (RFC 5737), an address
// no test machine has.
const podIP = "192.0.2.10"

// podEnv is the environment of the collector container: the keys of its envFrom ConfigMaps,
// then its env in order (literal values with $(VAR) expanded as the kubelet does, podIP for
// status.podIP and a placeholder for other downward-API values).
func podEnv(t testing.TB, objs []Object, c *corev1.Container) map[string]string {
	t.Helper()
	env := map[string]string{}
	for _, ef := range c.EnvFrom {
		if ef.ConfigMapRef == nil {
			t.Fatalf("envFrom %+v: only ConfigMaps are expected", ef)
		}
		cm, err := ConfigMap(objs, ef.ConfigMapRef.Name)
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range cm.Data {
			env[k] = v
		}
	}
	for _, e := range c.Env {
		switch {
		case e.ValueFrom != nil && e.ValueFrom.FieldRef != nil && e.ValueFrom.FieldRef.FieldPath == "status.podIP":
			env[e.Name] = podIP
		case e.ValueFrom != nil:
			env[e.Name] = "downward-api-" + strings.ToLower(e.Name)
		default:
			env[e.Name] = ExpandKubernetesVars(e.Value, env)
		}
	}
	return env
}

func TestCollectorConfigWiring(t *testing.T) {
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			objs := render(t, v)
			ds, err := DaemonSet(objs)
			if err != nil {
				t.Fatal(err)
			}
			ps := &ds.Spec.Template.Spec
			c := &ps.Containers[0]
			files, err := CollectorConfigFiles(objs, &ds.Spec.Template.Spec, c.Name)
			if err != nil {
				t.Fatal(err)
			}
			wantFiles := 1
			if v.fileMode {
				wantFiles++
			}
			if v.scrape {
				wantFiles++
			}
			if v.tls {
				wantFiles++
			}
			if len(files) != wantFiles {
				t.Errorf("%d --config files, want %d", len(files), wantFiles)
			}
			conf, err := MergeConfig(files)
			if err != nil {
				t.Fatal(err)
			}
			env := podEnv(t, objs, c)

			// Every ${env:X} without a default is set in the pod.
			for _, f := range files {
				for _, ref := range EnvRefs(f.Data) {
					if _, ok := env[ref.Name]; !ok && !ref.HasDefault {
						t.Errorf("%s uses ${env:%s}, which the pod does not set", f.Path, ref.Name)
					}
				}
			}

			// The ingest pipeline reads Tetragon through the right receiver and mount.
			recv := Strings(conf, "service::pipelines::logs/ingest::receivers")
			switch {
			case v.fileMode:
				if !slices.Equal(recv, []string{"tetragon/file"}) {
					t.Fatalf("logs/ingest receivers %v, want [tetragon/file]", recv)
				}
				p := Str(conf, "receivers::tetragon/file::file::path")
				if found, ro := hostPathUnder(ps, c, p); !found || !ro || filepath.Dir(p) != tetragonExport {
					t.Errorf("export file %s is not in the read-only hostPath %s", p, tetragonExport)
				}
				if s := Str(conf, "receivers::tetragon/file::file::storage"); s != "file_storage" {
					t.Errorf("file receiver checkpoints in %q, want file_storage (survives restarts)", s)
				}
			default:
				if !slices.Equal(recv, []string{"tetragon"}) {
					t.Fatalf("logs/ingest receivers %v, want [tetragon]", recv)
				}
				ep := ExpandEnv(Str(conf, "receivers::tetragon::grpc::endpoint"), env)
				sock, ok := strings.CutPrefix(ep, "unix://")
				if !ok {
					t.Fatalf("tetragon endpoint %q is not a unix socket", ep)
				}
				if found, ro := hostPathUnder(ps, c, sock); !found || !ro || filepath.Dir(sock) != tetragonRunDir {
					t.Errorf("socket %s is not in the read-only hostPath %s", sock, tetragonRunDir)
				}
			}

			if v.gateway {
				checkAgentForwards(t, objs, conf, env, ps, c)
				return
			}

			procs := Strings(conf, "service::pipelines::logs/ingest::processors")
			if len(procs) == 0 || procs[0] != "memory_limiter" || !slices.Contains(procs, "detection") {
				t.Errorf("logs/ingest processors %v: want memory_limiter first, then detection", procs)
			}
			if got := Strings(conf, "service::pipelines::logs/detections::processors"); !slices.Contains(got, "detection/detections_only") {
				t.Errorf("logs/detections processors %v lack detection/detections_only", got)
			}
			if conf.Get("processors::detection/detections_only::mode") != "select" {
				t.Error("detection/detections_only must be mode: select (keep only what detection tagged)")
			}

			// Everything that must survive a restart is under the storage hostPath.
			exts := Strings(conf, "service::extensions")
			if !slices.Contains(exts, "file_storage") || !slices.Contains(exts, "health_check") {
				t.Errorf("service extensions %v must include file_storage and health_check", exts)
			}
			durable := []string{"extensions::file_storage::directory", "extensions::file_storage::compaction::directory"}
			metricsExp := Strings(conf, "service::pipelines::metrics/detections::exporters")
			if v.scrape {
				if !slices.Equal(metricsExp, []string{"prometheus"}) {
					t.Errorf("metrics/detections exporters %v, want [prometheus] with metrics-scrape", metricsExp)
				}
			} else {
				if !slices.Equal(metricsExp, []string{"prometheus_remote_write"}) {
					t.Errorf("metrics/detections exporters %v, want [prometheus_remote_write]", metricsExp)
				}
				durable = append(durable, "exporters::prometheus_remote_write::wal::directory")
				// With a WAL, remote write sends what it holds every truncate_frequency (default
				// 1m): above the connector's flush interval it delays every alert.
				tf, err1 := time.ParseDuration(Str(conf, "exporters::prometheus_remote_write::wal::truncate_frequency"))
				fi, err2 := time.ParseDuration(Str(conf, "connectors::detection_metrics::flush_interval"))
				if err1 != nil || err2 != nil || tf > fi {
					t.Errorf("prometheus_remote_write wal.truncate_frequency %v must be set and at most detection_metrics flush_interval %v (%v, %v)", tf, fi, err1, err2)
				}
			}
			for _, k := range durable {
				p := Str(conf, k)
				if found, ro := hostPathUnder(ps, c, p); !found || ro || !strings.HasPrefix(p, storageDir+"/") {
					t.Errorf("%s = %q is not under the writable hostPath %s", k, p, storageDir)
				}
			}
			for _, pipe := range []string{"logs/all", "logs/detections"} {
				for _, exp := range Strings(conf, "service::pipelines::"+pipe+"::exporters") {
					if !strings.HasPrefix(exp, "otlp_http") {
						continue
					}
					if s := Str(conf, "exporters::"+exp+"::sending_queue::storage"); s != "file_storage" {
						t.Errorf("%s sending_queue.storage %q, want file_storage (persistent queue)", exp, s)
					}
					if !strings.Contains(ExpandEnv(Str(conf, "exporters::"+exp+"::logs_endpoint"), env), "/otlp/v1/logs") {
						t.Errorf("%s does not send to Loki's OTLP endpoint (/otlp/v1/logs)", exp)
					}
				}
			}

			// Rules files are in the rules ConfigMap mount.
			rules := Strings(conf, "processors::detection::rules_files")
			if len(rules) == 0 {
				t.Fatal("detection has no rules_files")
			}
			for _, r := range rules {
				if filepath.Dir(r) != rulesDir {
					t.Errorf("rules file %s is not in %s", r, rulesDir)
					continue
				}
				if _, err := MountedFile(objs, &ds.Spec.Template.Spec, c, r); err != nil {
					t.Error(err)
				}
			}
		})
	}
}

// TestOwnComponentsAcceptTheConfig unmarshals the tetragon receiver, detection processor and
// detection_metrics connector sections through their factories and validates them, the rules
// files of the ConfigMap included (copied to a temporary directory).
func TestOwnComponentsAcceptTheConfig(t *testing.T) {
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			objs := render(t, v)
			ds, err := DaemonSet(objs)
			if err != nil {
				t.Fatal(err)
			}
			c := &ds.Spec.Template.Spec.Containers[0]
			conf := collectorConfig(t, objs, &ds.Spec.Template.Spec)
			env := podEnv(t, objs, c)
			layout := PodLayout{Mounts: map[string]string{rulesDir: t.TempDir()}}
			for _, r := range Strings(conf, "processors::detection::rules_files") {
				data, err := MountedFile(objs, &ds.Spec.Template.Spec, c, r)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := layout.WriteFiles([]ConfigFile{{Path: r, Data: data}}); err != nil {
					t.Fatal(err)
				}
			}
			type factory interface {
				CreateDefaultConfig() component.Config
			}
			checks := map[string]factory{}
			for _, id := range Keys(conf, "receivers") {
				if strings.Split(id, "/")[0] == "tetragon" {
					checks["receivers::"+id] = tetragonreceiver.NewFactory()
				}
			}
			for _, id := range Keys(conf, "processors") {
				if strings.Split(id, "/")[0] == "detection" {
					checks["processors::"+id] = detectionprocessor.NewFactory()
				}
			}
			if conf.IsSet("connectors::detection_metrics") {
				checks["connectors::detection_metrics"] = detectionmetricsconnector.NewFactory()
			}
			for key, f := range checks {
				cfg := f.CreateDefaultConfig()
				section, err := conf.Sub(key)
				if err != nil {
					t.Fatalf("%s: %v", key, err)
				}
				section = expandSection(t, section, env, layout)
				if err := section.Unmarshal(cfg); err != nil {
					t.Errorf("%s: %v", key, err)
					continue
				}
				if err := confmap.Validate(cfg); err != nil {
					t.Errorf("%s: %v", key, err)
				}
			}
		})
	}
}

// expandSection resolves ${env:...} and maps pod paths to the local layout in a config section.
func expandSection(t testing.TB, c *confmap.Conf, env map[string]string, l PodLayout) *confmap.Conf {
	t.Helper()
	var walk func(v any) any
	walk = func(v any) any {
		switch x := v.(type) {
		case string:
			return l.Local(ExpandEnv(x, env))
		case map[string]any:
			for k, e := range x {
				x[k] = walk(e)
			}
		case []any:
			for i, e := range x {
				x[i] = walk(e)
			}
		}
		return v
	}
	return confmap.NewFromStringMap(walk(c.ToStringMap()).(map[string]any))
}

// TestRulesConfigMapLoads loads the shipped rules file in the detection processor, and makes
// sure a broken copy is rejected (so that the check is not vacuous).
func TestRulesConfigMapLoads(t *testing.T) {
	objs := render(t, variants[0])
	cm, err := ConfigMap(objs, "otelcol-runtime-security-rules")
	if err != nil {
		t.Fatal(err)
	}
	if len(cm.Data) == 0 {
		t.Fatal("rules ConfigMap is empty")
	}
	dir := t.TempDir()
	for name, data := range cm.Data {
		good := filepath.Join(dir, name)
		if err := os.WriteFile(good, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := validateRules(good); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		bad := filepath.Join(dir, "broken-"+name)
		broken := strings.Replace(data, "InList(", "NoSuchFunction(", 1)
		if broken == data {
			t.Fatalf("%s has no condition to break", name)
		}
		if err := os.WriteFile(bad, []byte(broken), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := validateRules(bad); err == nil {
			t.Errorf("a broken copy of %s loaded without error", name)
		}
	}
}

func validateRules(path string) error {
	cfg := detectionprocessor.NewFactory().CreateDefaultConfig().(*detectionprocessor.Config)
	cfg.RulesFiles = []string{path}
	return confmap.Validate(cfg)
}

// checkAgentForwards: in the gateway variant the DaemonSet only forwards, through a persistent
// queue on the storage hostPath, to the gateway Service.
func checkAgentForwards(t *testing.T, objs []Object, conf *confmap.Conf, env map[string]string, ps *corev1.PodSpec, c *corev1.Container) {
	t.Helper()
	if got := Strings(conf, "service::pipelines::logs/ingest::exporters"); !slices.Equal(got, []string{"otlp_grpc/gateway"}) {
		t.Errorf("agent exporters %v, want [otlp_grpc/gateway]", got)
	}
	if got := Keys(conf, "service::pipelines"); !slices.Equal(got, []string{"logs/ingest"}) {
		t.Errorf("agent pipelines %v, want only logs/ingest", got)
	}
	if conf.IsSet("processors::detection") {
		t.Error("the agent evaluates rules; the gateway should")
	}
	if s := Str(conf, "exporters::otlp_grpc/gateway::sending_queue::storage"); s != "file_storage" {
		t.Errorf("agent queue storage %q, want file_storage", s)
	}
	for _, k := range []string{"extensions::file_storage::directory", "extensions::file_storage::compaction::directory"} {
		if found, ro := hostPathUnder(ps, c, Str(conf, k)); !found || ro {
			t.Errorf("%s is not on the writable storage hostPath", k)
		}
	}
	host, port, err := net.SplitHostPort(ExpandEnv(Str(conf, "exporters::otlp_grpc/gateway::endpoint"), env))
	if err != nil {
		t.Fatal(err)
	}
	var found bool
	for _, o := range Find(objs, "Service") {
		svc := o.Typed.(*corev1.Service)
		if host != svc.Name+"."+o.Namespace+".svc" {
			continue
		}
		for _, p := range svc.Spec.Ports {
			found = found || strconv.Itoa(int(p.Port)) == port
		}
	}
	if !found {
		t.Errorf("GATEWAY_ENDPOINT %s:%s is no Service port of the overlay", host, port)
	}
}
