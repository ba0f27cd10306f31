// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

//go:generate go tool mdatagen metadata.yaml

// Package tenantroutingconnector routes log records to the pipelines of their tenant, derived from
// the Kubernetes namespace of their resource (k8s.namespace.name), so that each tenant's events
// and detections can be exported with its own Loki tenant (X-Scope-OrgID) and alert labels.
package tenantroutingconnector // import "github.com/otelcol-runtime-security/otelcol-runtime-security/connector/tenantroutingconnector"
