// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package tenantroutingconnector

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"go.opentelemetry.io/collector/pipeline"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/attrkey"
)

// DefaultAttribute is the resource attribute the connector writes the tenant to unless
// `attribute` says otherwise.
const DefaultAttribute = attrkey.Tenant

// maxTenantLen is Loki's (and Mimir's) limit on a tenant ID, the X-Scope-OrgID header.
const maxTenantLen = 150

// Config of the tenant_routing connector.
type Config struct {
	// Tenants maps a tenant to the Kubernetes namespaces whose records are its own: exact names
	// or doublestar globs (`shop-*`, `{billing,payments}`). A namespace may belong to one tenant
	// only; Validate rejects a configuration where one could match two.
	Tenants map[string][]string `mapstructure:"tenants"`
	// DefaultTenant receives every record whose namespace no tenant lists, including the
	// records without a namespace (processes of the node, containers outside Kubernetes).
	DefaultTenant string `mapstructure:"default_tenant"`
	// Pipelines maps every tenant of Tenants, and DefaultTenant, to the logs pipelines that
	// receive its records (pipelines that have this connector as a receiver).
	Pipelines map[string][]pipeline.ID `mapstructure:"pipelines"`
	// Attribute is the resource attribute the tenant is written to on every routed resource;
	// empty: the records are passed on unchanged.
	Attribute string `mapstructure:"attribute"`

	// prevent unkeyed literal initialization
	_ struct{}
}

func createDefaultConfig() *Config {
	return &Config{Attribute: DefaultAttribute}
}

// Validate checks every field and reports all problems at once.
func (c *Config) Validate() error {
	var errs []error
	if c.DefaultTenant == "" {
		errs = append(errs, errors.New("default_tenant is required: the tenant of every record whose namespace no tenant lists, and of the node's own processes"))
	} else if err := validateTenantName(c.DefaultTenant); err != nil {
		errs = append(errs, fmt.Errorf("default_tenant: %w", err))
	}
	tenants := slices.Sorted(maps.Keys(c.Tenants))
	for _, t := range tenants {
		if err := validateTenantName(t); err != nil {
			errs = append(errs, fmt.Errorf("tenants: %w", err))
		}
	}
	if _, err := compileNamespaces(c.Tenants); err != nil {
		errs = append(errs, err)
	}

	// Every tenant has pipelines, and every key of pipelines is a tenant.
	want := slices.Clone(tenants)
	if c.DefaultTenant != "" && !slices.Contains(want, c.DefaultTenant) {
		want = append(want, c.DefaultTenant)
	}
	slices.Sort(want)
	for _, t := range want {
		ids, ok := c.Pipelines[t]
		if !ok || len(ids) == 0 {
			errs = append(errs, fmt.Errorf("pipelines::%s is missing: every tenant of tenants, and default_tenant, needs the logs pipelines that receive its records (e.g. %s: [logs/%s])", t, t, t))
			continue
		}
		for _, id := range ids {
			if id.Signal() != pipeline.SignalLogs {
				errs = append(errs, fmt.Errorf("pipelines::%s: %q is a %s pipeline; the connector routes logs, so it must be a logs pipeline (logs or logs/<name>)", t, id.String(), id.Signal()))
			}
		}
		if dup := duplicatePipeline(ids); dup != "" {
			errs = append(errs, fmt.Errorf("pipelines::%s lists %q twice; list each pipeline once", t, dup))
		}
	}
	for _, t := range slices.Sorted(maps.Keys(c.Pipelines)) {
		if !slices.Contains(want, t) {
			errs = append(errs, fmt.Errorf("pipelines::%s: %q is neither a key of tenants nor default_tenant (%q); remove it or add the tenant", t, t, c.DefaultTenant))
		}
	}

	if c.Attribute == attrkey.K8sNamespaceName {
		errs = append(errs, fmt.Errorf("attribute must not be %s, the namespace the connector routes by; use a key of its own (default %s) or \"\" to write none", attrkey.K8sNamespaceName, DefaultAttribute))
	}
	return errors.Join(errs...)
}

// validateTenantName applies Loki's rules for a tenant ID, since the tenant is meant to become the
// X-Scope-OrgID of the tenant's exporters.
func validateTenantName(t string) error {
	if t == "" {
		return errors.New("a tenant name is empty; tenant names are what the tenant's exporters send as X-Scope-OrgID")
	}
	if len(t) > maxTenantLen {
		return fmt.Errorf("tenant %q is %d bytes long; Loki accepts tenant IDs of at most %d", t, len(t), maxTenantLen)
	}
	if t == "." || t == ".." {
		return fmt.Errorf("tenant %q is not a valid Loki tenant ID (\".\" and \"..\" are reserved)", t)
	}
	for _, r := range t {
		if !validTenantRune(r) {
			return fmt.Errorf("tenant %q contains %q; Loki tenant IDs (X-Scope-OrgID) may contain only letters, digits and ! - _ . * ' ( )", t, r)
		}
	}
	return nil
}

func validTenantRune(r rune) bool {
	switch {
	case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		return true
	}
	return strings.ContainsRune("!-_.*'()", r)
}

func duplicatePipeline(ids []pipeline.ID) string {
	seen := make(map[pipeline.ID]bool, len(ids))
	for _, id := range ids {
		if seen[id] {
			return id.String()
		}
		seen[id] = true
	}
	return ""
}
