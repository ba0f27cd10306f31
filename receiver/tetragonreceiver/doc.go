// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

//go:generate go tool mdatagen metadata.yaml

// Package tetragonreceiver receives Cilium Tetragon events, over Tetragon's
// gRPC API or by tailing its JSON export file, and emits them as OpenTelemetry
// logs.
package tetragonreceiver // import "github.com/otelcol-runtime-security/otelcol-runtime-security/receiver/tetragonreceiver"
