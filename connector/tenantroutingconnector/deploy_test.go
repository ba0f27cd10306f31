// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package tenantroutingconnector

import (
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/confmap"
	"go.yaml.in/yaml/v3"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/deploy/deploytest"
)

// The shipped tenant isolation: the kustomize component, and the Alertmanager example that
// routes by the same mapping.
const (
	tenantsComponent   = "deploy/kubernetes/components/tenants"
	tenantsOverlayFile = "/etc/otelcol-runtime-security/config/overlay-tenants.yaml"
	alertmanagerFile   = "deploy/alertmanager/tenants-example.yaml"
)

// tenantsVariant is an install the component is for: an overlay, other components, and this one
// last.
type tenantsVariant struct {
	name, overlay string
	components    []string
}

var tenantsVariants = []tenantsVariant{
	{name: "grpc", overlay: "deploy/kubernetes/overlays/grpc"},
	{name: "export-file", overlay: "deploy/kubernetes/overlays/export-file"},
	{name: "grpc+metrics-scrape", overlay: "deploy/kubernetes/overlays/grpc", components: []string{"deploy/kubernetes/components/metrics-scrape"}},
}

// renderWithTenants builds v with the tenants component through a kustomization in a
// temporary directory (kustomize takes relative paths only).
func renderWithTenants(t *testing.T, v tenantsVariant) []deploytest.Object {
	t.Helper()
	root, err := deploytest.RepoRoot()
	require.NoError(t, err)
	tmp := t.TempDir()
	rel := func(p string) string {
		r, err := filepath.Rel(tmp, filepath.Join(root, p))
		require.NoError(t, err)
		return r
	}
	k := "resources:\n  - " + rel(v.overlay) + "\ncomponents:\n"
	for _, c := range append(slices.Clone(v.components), tenantsComponent) {
		k += "  - " + rel(c) + "\n"
	}
	require.NoError(t, os.WriteFile(filepath.Join(tmp, "kustomization.yaml"), []byte(k), 0o644))
	objs, err := deploytest.Build(tmp)
	require.NoError(t, err)
	return objs
}

// collectorConfig returns the DaemonSet's configuration files and their merge.
func collectorConfig(t *testing.T, objs []deploytest.Object) ([]deploytest.ConfigFile, *confmap.Conf) {
	t.Helper()
	ds, err := deploytest.DaemonSet(objs)
	require.NoError(t, err)
	ps := &ds.Spec.Template.Spec
	files, err := deploytest.CollectorConfigFiles(objs, ps, ps.Containers[0].Name)
	require.NoError(t, err)
	conf, err := deploytest.MergeConfig(files)
	require.NoError(t, err)
	return files, conf
}

// tenantRouters loads every tenant_routing connector of conf through the factory.
func tenantRouters(t *testing.T, conf *confmap.Conf) map[string]*Config {
	t.Helper()
	out := map[string]*Config{}
	for _, id := range deploytest.Keys(conf, "connectors") {
		if id != "tenant_routing" && !strings.HasPrefix(id, "tenant_routing/") {
			continue
		}
		sub, err := conf.Sub("connectors::" + id)
		require.NoError(t, err)
		cfg := NewFactory().CreateDefaultConfig().(*Config)
		require.NoError(t, sub.Unmarshal(cfg), id)
		require.NoError(t, cfg.Validate(), id)
		out[id] = cfg
	}
	return out
}

// TestTenantsComponent checks the component over each overlay: its fragment is the last
// --config, both routers have the same valid mapping and only pipelines that receive from them,
// and each tenant's pipelines export with the tenant: X-Scope-OrgID and the alerts' tenant label.
func TestTenantsComponent(t *testing.T) {
	for _, v := range tenantsVariants {
		t.Run(v.name, func(t *testing.T) {
			files, conf := collectorConfig(t, renderWithTenants(t, v))
			require.Equal(t, tenantsOverlayFile, files[len(files)-1].Path, "the component's fragment is merged last")

			routers := tenantRouters(t, conf)
			require.Len(t, routers, 2)
			all, det := routers["tenant_routing/all"], routers["tenant_routing/detections"]
			require.NotNil(t, all)
			require.NotNil(t, det)
			assert.Equal(t, all.Tenants, det.Tenants, "both routers share the mapping")
			assert.Equal(t, all.DefaultTenant, det.DefaultTenant)
			assert.Len(t, all.Tenants, 2, "the example has two tenants and the default")
			assert.NotContains(t, all.Tenants, all.DefaultTenant)
			assert.Empty(t, all.Attribute, "no tenant attribute: the fan-outs copy nothing for the routers")
			assert.Empty(t, det.Attribute)

			// The base's branches now end in the routers and keep their receivers and processors.
			assert.Equal(t, []string{"tenant_routing/all"}, deploytest.Strings(conf, "service::pipelines::logs/all::exporters"))
			assert.Equal(t, []string{"forward/detected"}, deploytest.Strings(conf, "service::pipelines::logs/all::receivers"))
			assert.Equal(t, []string{"tenant_routing/detections"}, deploytest.Strings(conf, "service::pipelines::logs/detections::exporters"))
			assert.Contains(t, deploytest.Strings(conf, "service::pipelines::logs/detections::processors"), "detection/detections_only")

			for id, cfg := range routers {
				var routed []string
				for tenant, ids := range cfg.Pipelines {
					for _, pid := range ids {
						p := "service::pipelines::" + pid.String()
						routed = append(routed, pid.String())
						assert.Equal(t, []string{id}, deploytest.Strings(conf, p+"::receivers"), "%s receives from %s only", pid, id)
						checkTenantExporters(t, conf, id, tenant, deploytest.Strings(conf, p+"::exporters"))
					}
				}
				var receiving []string
				for _, p := range deploytest.Keys(conf, "service::pipelines") {
					if slices.Contains(deploytest.Strings(conf, "service::pipelines::"+p+"::receivers"), id) {
						receiving = append(receiving, p)
					}
				}
				sort.Strings(routed)
				assert.Equal(t, receiving, routed, "%s: every pipeline it feeds is some tenant's", id)
			}
		})
	}
}

// checkTenantExporters: a tenant's every-event pipeline exports to Loki with the tenant as
// X-Scope-OrgID through a blocking persistent queue; its detections pipeline also posts alerts
// labelled with the tenant.
func checkTenantExporters(t *testing.T, conf *confmap.Conf, router, tenant string, exporters []string) {
	t.Helper()
	var loki, alerts int
	for _, e := range exporters {
		p := "exporters::" + e
		require.True(t, conf.IsSet(p), "exporter %s is defined", e)
		switch {
		case strings.HasPrefix(e, "otlp_http/"):
			loki++
			assert.Equal(t, tenant, deploytest.Str(conf, p+"::headers::X-Scope-OrgID"), e)
			// The YAML merge key carried the queue over.
			assert.Equal(t, "file_storage", deploytest.Str(conf, p+"::sending_queue::storage"), e)
			assert.Equal(t, true, conf.Get(p+"::sending_queue::block_on_overflow"), e)
			assert.NotEmpty(t, deploytest.Str(conf, p+"::logs_endpoint"), e)
		case strings.HasPrefix(e, "alertmanager/"):
			alerts++
			assert.Equal(t, tenant, deploytest.Str(conf, p+"::static_labels::tenant"), e)
		default:
			t.Errorf("%s: unexpected exporter %s for tenant %s", router, e, tenant)
		}
	}
	assert.Equal(t, 1, loki, "%s/%s: one Loki exporter", router, tenant)
	if strings.HasSuffix(router, "/detections") {
		assert.Equal(t, 1, alerts, "%s/%s: one alertmanager exporter", router, tenant)
	}
}

// amConfig is the part of an Alertmanager configuration the tests read.
type amConfig struct {
	Route     amRoute `yaml:"route"`
	Receivers []struct {
		Name string `yaml:"name"`
	} `yaml:"receivers"`
}

type amRoute struct {
	Receiver string    `yaml:"receiver"`
	Matchers []string  `yaml:"matchers"`
	Routes   []amRoute `yaml:"routes"`
}

func (r amRoute) walk(f func(amRoute)) {
	f(r)
	for _, c := range r.Routes {
		c.walk(f)
	}
}

// TestAlertmanagerExampleMatchesComponent: one receiver per tenant of the component, each the
// receiver of a route on its tenant label, and the default tenant's at the root.
func TestAlertmanagerExampleMatchesComponent(t *testing.T) {
	root, err := deploytest.RepoRoot()
	require.NoError(t, err)
	data, err := os.ReadFile(filepath.Join(root, alertmanagerFile))
	require.NoError(t, err)
	var am amConfig
	require.NoError(t, yaml.Unmarshal(data, &am))

	_, conf := collectorConfig(t, renderWithTenants(t, tenantsVariants[0]))
	cfg := tenantRouters(t, conf)["tenant_routing/all"]
	require.NotNil(t, cfg)

	var receivers []string
	for _, r := range am.Receivers {
		receivers = append(receivers, r.Name)
	}
	tenants := append(slices.Sorted(maps.Keys(cfg.Tenants)), cfg.DefaultTenant)
	sort.Strings(tenants)
	sort.Strings(receivers)
	assert.Equal(t, tenants, receivers, "one receiver per tenant, named after it")
	assert.Equal(t, cfg.DefaultTenant, am.Route.Receiver, "the default tenant takes what no route claims")

	byTenant := map[string]string{}
	am.Route.walk(func(r amRoute) {
		for _, m := range r.Matchers {
			if v, ok := strings.CutPrefix(m, `tenant="`); ok {
				byTenant[strings.TrimSuffix(v, `"`)] = r.Receiver
			}
		}
	})
	for _, tn := range tenants {
		assert.Equal(t, tn, byTenant[tn], "route tenant=%q goes to receiver %q", tn, tn)
	}
}
