// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

// Package workloadprofile is the behaviour model shared by the
// workload_profile processor and the bin/profiles CLI (issue 14): what a
// workload normally does, learned from its own Tetragon events, so that
// records outside it can be marked runtime_security.profile.novel and the
// detection catalogue's unexpected_* rules decide what is a detection.
//
// One concern per file:
//
//   - key.go: which workload a record belongs to (KeyOf), and its stable name.
//   - record.go: the few values of a mapped record a profile looks at (RecordFrom).
//   - execpath.go, fileclass.go, peerclass.go: how raw values become profile
//     items (version-generalised executables, file path classes, peer classes).
//   - config.go: Config (lifecycle, caps, cluster CIDRs) and Counts.
//   - profile.go: one workload's bounded item sets (bounded.go) and Observe,
//     which reports novelties as shared slices of Kinds (kinds.go).
//   - lifecycle.go: learning → enforcing by the workload's own event time.
//   - yaml.go, json.go: the reviewable YAML file and the compact storage form.
//   - merge.go: Merge (profiles of one workload from several nodes) and Diff.
//   - store.go: Set, the per-collector table of profiles with caps and stats.
//
// Nothing here reads the clock or does I/O on the hot path: time is the
// record's event time, and only Load/LoadFiles touch the file system.
package workloadprofile
