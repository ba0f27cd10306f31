// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

//go:build !unix

package tetragonwire

func processCPU() int64 { return 0 }
