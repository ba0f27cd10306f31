// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

//go:generate go tool mdatagen metadata.yaml

// Package gzipmiddlewareextension is an HTTP client middleware (confighttp
// `middlewares`) that gzip-compresses request bodies with
// github.com/klauspost/compress/gzip. An exporter that uses it sets
// `compression: none` and lets the middleware do what confighttp's gzip
// (the standard library's compress/gzip) would, for about half the CPU.
package gzipmiddlewareextension // import "github.com/otelcol-runtime-security/otelcol-runtime-security/extension/gzipmiddlewareextension"
