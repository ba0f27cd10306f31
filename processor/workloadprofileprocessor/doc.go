// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

//go:generate go tool mdatagen metadata.yaml

// Package workloadprofileprocessor keeps a behaviour profile per workload
// (internal/workloadprofile), learned from the workload's own Tetragon
// records or read from reviewed profile files, and marks every record of a
// profiled workload with runtime_security.profile.state and .workload, and,
// when the profile is enforcing or a file, with runtime_security.profile.novel:
// what the profile has not seen. The detection processor's unexpected_* rules
// report those marks.
package workloadprofileprocessor
