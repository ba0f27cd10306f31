// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package main

import (
	"strings"
	"testing"
	"time"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/testbed/loadtest"
)

func TestApplyWorkloadProfile(t *testing.T) {
	for _, tc := range []struct {
		mode     string
		learning time.Duration
		config   string
		err      string
	}{
		{mode: ""},
		{mode: "memory"},
		{mode: "file_storage", learning: time.Second},
		{mode: "disk", err: "must be file_storage or memory"},
		{mode: "", learning: time.Second, err: "needs --workload-profile"},
		{mode: "memory", learning: -time.Second, err: "must be > 0"},
		{mode: "memory", config: "distribution/config.yaml", err: "with --config"},
	} {
		p := loadtest.PipelineConfig{Body: "json"}
		err := applyWorkloadProfile(&p, tc.mode, tc.learning, tc.config)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%+v: error %v, want %q", tc, err, tc.err)
			}
			continue
		}
		if err != nil || p.WorkloadProfile != tc.mode || p.ProfileLearningPeriod != tc.learning || p.Body != "json" {
			t.Errorf("%+v: %+v %v", tc, p, err)
		}
	}
}

// TestBadWorkloadFlags: the workload flags are refused before anything runs.
func TestBadWorkloadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"--workload-profile", "disk"},
		{"--workload-profile-learning", "1s"},
		{"--workload-profile", "memory", "--config", "distribution/config.yaml"},
		{"--workloads", "-3"},
	} {
		if code := run(args); code != 2 {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
	}
}
