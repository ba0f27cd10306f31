// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

//go:generate go tool mdatagen metadata.yaml

// Package detectionmetricsconnector counts Tetragon event log records and the
// detections the detection processor tagged on them into cumulative sums
// (runtime_security.events, runtime_security.detections) for Prometheus.
package detectionmetricsconnector // import "github.com/otelcol-runtime-security/otelcol-runtime-security/connector/detectionmetricsconnector"
