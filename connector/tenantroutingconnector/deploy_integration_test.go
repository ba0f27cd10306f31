// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

//go:build integration

package tenantroutingconnector

import (
	"bytes"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	corev1 "k8s.io/api/core/v1"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/deploy/deploytest"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/attrkey"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/testenv"
)

// collectorBin is the built distribution, $OTELCOL_BIN (`make integration` sets it) or
// bin/otelcol-runtime-security, as for the other integration tests.
func collectorBin(t *testing.T) string {
	return testenv.Binary(t, "OTELCOL_BIN", "otelcol-runtime-security")
}

func runValidate(t *testing.T, bin string, configs []string, env map[string]string) {
	t.Helper()
	args := []string{"validate"}
	for _, c := range configs {
		args = append(args, "--config="+c)
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s validate %v:\n%s", bin, configs, out)
}

// podEnv is the environment the collector container gets: its envFrom ConfigMaps and env values
// (downward-API fields as placeholders).
func podEnv(t *testing.T, objs []deploytest.Object, c *corev1.Container) map[string]string {
	t.Helper()
	env := map[string]string{}
	for _, ef := range c.EnvFrom {
		require.NotNil(t, ef.ConfigMapRef, "envFrom %+v", ef)
		cm, err := deploytest.ConfigMap(objs, ef.ConfigMapRef.Name)
		require.NoError(t, err)
		for k, v := range cm.Data {
			env[k] = v
		}
	}
	for _, e := range c.Env {
		if e.ValueFrom != nil {
			env[e.Name] = "downward-api-" + strings.ToLower(e.Name)
			continue
		}
		env[e.Name] = e.Value
	}
	// $(POD_IP) references are expanded by the kubelet.
	for k, v := range env {
		env[k] = strings.ReplaceAll(v, "$(POD_IP)", "127.0.0.1")
	}
	return env
}

// TestTenantsComponentValidates runs `otelcol-runtime-security validate` on the configuration
// the DaemonSet runs with the tenants component, over each overlay: the files as mounted (the
// rules files too), pod paths mapped to temporary directories, the pod's environment.
func TestTenantsComponentValidates(t *testing.T) {
	bin := collectorBin(t)
	for _, v := range tenantsVariants {
		t.Run(v.name, func(t *testing.T) {
			objs := renderWithTenants(t, v)
			ds, err := deploytest.DaemonSet(objs)
			require.NoError(t, err)
			ps := &ds.Spec.Template.Spec
			c := &ps.Containers[0]
			files, conf := collectorConfig(t, objs)
			for _, r := range deploytest.Strings(conf, "processors::detection::rules_files") {
				data, err := deploytest.MountedFile(objs, ps, c, r)
				require.NoError(t, err)
				files = append(files, deploytest.ConfigFile{Path: r, Data: data})
			}
			tmp := t.TempDir()
			layout := deploytest.PodLayout{Mounts: map[string]string{
				"/etc/otelcol-runtime-security":     filepath.Join(tmp, "etc"),
				"/var/lib/otelcol-runtime-security": filepath.Join(tmp, "storage"),
				"/var/run/tetragon":                 filepath.Join(tmp, "run-tetragon"),
				"/var/run/cilium/tetragon":          filepath.Join(tmp, "run-cilium-tetragon"),
			}}
			local, err := layout.WriteFiles(files)
			require.NoError(t, err)
			var configs []string
			for i, f := range files {
				if strings.HasSuffix(f.Path, ".yaml") && strings.HasPrefix(f.Path, "/etc/otelcol-runtime-security/config/") {
					configs = append(configs, local[i])
				}
			}
			require.Len(t, configs, len(files)-len(deploytest.Strings(conf, "processors::detection::rules_files")))
			runValidate(t, bin, configs, podEnv(t, objs, c))
		})
	}
}

// TestReadmeExampleValidates validates the README's full example with the built collector.
func TestReadmeExampleValidates(t *testing.T) {
	bin := collectorBin(t)
	readme, err := os.ReadFile("README.md")
	require.NoError(t, err)
	_, rest, ok := strings.Cut(string(readme), "\n## Full example\n")
	require.True(t, ok, "README has a Full example section")
	_, rest, ok = strings.Cut(rest, "```yaml\n")
	require.True(t, ok)
	example, _, ok := strings.Cut(rest, "```")
	require.True(t, ok)
	p := testenv.WriteFile(t, t.TempDir(), "example.yaml", example)
	runValidate(t, bin, []string{p}, map[string]string{"STORAGE_DIR": t.TempDir()})
}

// amtool runs amtool, failing (never skipping) when it is missing.
func amtool(t *testing.T, args ...string) string {
	return testenv.RunTool(t, "amtool", "prometheus-alertmanager", args...)
}

// TestAlertmanagerTenantRoutes checks deploy/alertmanager/tenants-example.yaml with amtool, and
// routes alerts of every tenant of the component's mapping: the exporter's alerts by their tenant
// label, the Prometheus rules' alerts by a namespace of each of the tenant's names and patterns
// (a namespace each pattern matches, found as Validate finds overlaps), and what no tenant
// claims to the default tenant.
func TestAlertmanagerTenantRoutes(t *testing.T) {
	root, err := deploytest.RepoRoot()
	require.NoError(t, err)
	file := filepath.Join(root, alertmanagerFile)
	out := amtool(t, "check-config", file)
	assert.Contains(t, out, "SUCCESS")

	_, conf := collectorConfig(t, renderWithTenants(t, tenantsVariants[0]))
	cfg := tenantRouters(t, conf)["tenant_routing/all"]
	require.NotNil(t, cfg)

	route := func(labels ...string) string {
		t.Helper()
		args := append([]string{"config", "routes", "test", "--config.file=" + file}, labels...)
		return strings.TrimSpace(amtool(t, args...))
	}
	type sample struct{ namespace, tenant string }
	var samples []sample
	for _, tenant := range slices.Sorted(maps.Keys(cfg.Tenants)) {
		for _, ns := range cfg.Tenants[tenant] {
			if !isGlob(ns) {
				samples = append(samples, sample{ns, tenant})
				continue
			}
			_, prog, err := compileGlob(ns)
			require.NoError(t, err)
			w, ok := intersect(maxNamespaceLen, namespaceProg, prog)
			require.True(t, ok && w != "", ns)
			samples = append(samples, sample{w, tenant})
		}
	}
	// Namespaces no tenant lists, and the node's own processes.
	for _, ns := range []string{"monitoring", attrkey.PlaceholderHost, attrkey.PlaceholderContainer} {
		samples = append(samples, sample{ns, cfg.DefaultTenant})
	}
	for _, s := range samples {
		t.Run(s.namespace, func(t *testing.T) {
			for _, sev := range []string{"critical", "warning"} {
				assert.Equal(t, s.tenant, route("alertname=RuntimeSecurityIncident", "tenant="+s.tenant, "severity="+sev,
					"incident=7c9e6679", "rule=terminal_shell_in_container", "namespace="+s.namespace, "workload=w"), "exporter alert, %s", sev)
				alert := map[string]string{"critical": "RuntimeSecurityCriticalDetection", "warning": "RuntimeSecurityWarningDetection"}[sev]
				assert.Equal(t, s.tenant, route("alertname="+alert, "severity="+sev, "rule=terminal_shell_in_container",
					"namespace="+s.namespace, "workload=w"), "Prometheus alert, %s", sev)
			}
		})
	}
	assert.Equal(t, cfg.DefaultTenant, route("alertname=RuntimeSecurityCollectorDown", "severity=critical", "instance=10.0.0.1:8888"))
}

// TestRoutesToTenantsEndToEnd runs the built collector: OTLP in, tenant_routing, one otlp_http
// exporter per tenant with its X-Scope-OrgID, into a server that records what each tenant got.
func TestRoutesToTenantsEndToEnd(t *testing.T) {
	bin := collectorBin(t)

	var mu sync.Mutex
	got := map[string][]string{} // X-Scope-OrgID → "namespace:tenant attribute" per resource
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		req := plogotlp.NewExportRequest()
		if err := req.UnmarshalProto(body); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		str := func(attrs pcommon.Map, k string) string {
			if v, ok := attrs.Get(k); ok {
				return v.AsString()
			}
			return ""
		}
		rls := req.Logs().ResourceLogs()
		mu.Lock()
		for i := range rls.Len() {
			attrs := rls.At(i).Resource().Attributes()
			entry := str(attrs, attrkey.K8sNamespaceName) + ":" + str(attrs, DefaultAttribute)
			for range rls.At(i).ScopeLogs().At(0).LogRecords().Len() {
				got[r.Header.Get("X-Scope-OrgID")] = append(got[r.Header.Get("X-Scope-OrgID")], entry)
			}
		}
		mu.Unlock()
		w.Header().Set("Content-Type", "application/x-protobuf")
		resp, _ := plogotlp.NewExportResponse().MarshalProto()
		_, _ = w.Write(resp)
	})}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })

	otlpPort, metricsPort := strconv.Itoa(testenv.FreePort(t)), strconv.Itoa(testenv.FreePort(t))
	exporter := func(tenant string) string {
		return fmt.Sprintf(`
  otlp_http/%[1]s:
    logs_endpoint: http://%[2]s/otlp/v1/logs
    compression: none
    headers: {X-Scope-OrgID: %[1]s}
    sending_queue: {enabled: false}
    retry_on_failure: {enabled: false}`, tenant, l.Addr())
	}
	config := `
receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:` + otlpPort + `
connectors:
  tenant_routing:
    tenants:
      team-a: [shop, shop-*]
      team-b: [billing]
    default_tenant: platform
    pipelines:
      team-a: [logs/team-a]
      team-b: [logs/team-b]
      platform: [logs/platform]
exporters:` + exporter("team-a") + exporter("team-b") + exporter("platform") + `
service:
  telemetry:
    metrics:
      level: normal
      readers:
        - pull:
            exporter:
              prometheus:
                host: 127.0.0.1
                port: ` + metricsPort + `
  pipelines:
    logs/in:       {receivers: [otlp], exporters: [tenant_routing]}
    logs/team-a:   {receivers: [tenant_routing], exporters: [otlp_http/team-a]}
    logs/team-b:   {receivers: [tenant_routing], exporters: [otlp_http/team-b]}
    logs/platform: {receivers: [tenant_routing], exporters: [otlp_http/platform]}
`
	cfgPath := testenv.WriteFile(t, t.TempDir(), "config.yaml", config)
	testenv.Start(t, "collector", bin, "--config="+cfgPath)

	// One mixed batch: two records per resource.
	ld := makeLogs("shop", "billing", noNS, "shop-eu", "monitoring")
	body, err := plogotlp.NewExportRequestFromLogs(ld).MarshalProto()
	require.NoError(t, err)
	var resp *http.Response
	testenv.Eventually(t, 30*time.Second, "collector accepting OTLP", func() bool {
		resp, err = http.Post("http://127.0.0.1:"+otlpPort+"/v1/logs", "application/x-protobuf", bytes.NewReader(body))
		return err == nil
	})
	_ = resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	want := map[string][]string{
		"team-a":   {"shop-eu:team-a", "shop-eu:team-a", "shop:team-a", "shop:team-a"},
		"team-b":   {"billing:team-b", "billing:team-b"},
		"platform": {":platform", ":platform", "monitoring:platform", "monitoring:platform"},
	}
	require.Eventually(t, func() bool {
		mu.Lock()
		defer mu.Unlock()
		n := 0
		for _, v := range got {
			n += len(v)
		}
		return n >= 10
	}, 10*time.Second, 50*time.Millisecond)
	mu.Lock()
	for k := range got {
		sort.Strings(got[k])
	}
	assert.Equal(t, want, got)
	mu.Unlock()

	// The connector's telemetry, per tenant.
	re := regexp.MustCompile(`(?m)^otelcol_tenant_routing_records_routed(?:_total)?\{[^}]*tenant="([^"]+)"[^}]*\} (\d+)$`)
	require.Eventually(t, func() bool {
		resp, err := http.Get("http://127.0.0.1:" + metricsPort + "/metrics")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		text, _ := io.ReadAll(resp.Body)
		routed := map[string]string{}
		for _, m := range re.FindAllStringSubmatch(string(text), -1) {
			routed[m[1]] = m[2]
		}
		return assert.ObjectsAreEqual(map[string]string{"team-a": "4", "team-b": "2", "platform": "4"}, routed)
	}, 10*time.Second, 100*time.Millisecond, "otelcol_tenant_routing_records_routed per tenant")
}
