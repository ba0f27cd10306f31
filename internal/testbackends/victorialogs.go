// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package testbackends

import (
	"encoding/json"
	"fmt"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/testenv"
)

// VictoriaLogs is a VictoriaLogs server: the OTLP log store that stands in for Loki. It can be
// stopped and started again on the same port and data.
type VictoriaLogs struct {
	server
	t       testing.TB
	name    string
	dataDir string
}

// StartVictoriaLogs starts a log store; name names its process and data directory.
func StartVictoriaLogs(t testing.TB, name string) *VictoriaLogs {
	v := &VictoriaLogs{server: server{port: testenv.FreePort(t)}, t: t, name: name, dataDir: filepath.Join(t.TempDir(), name)}
	v.Start()
	return v
}

// Start starts the store (again, after Stop) and waits until it answers.
func (v *VictoriaLogs) Start() {
	v.run(v.t, v.name, "victoria-logs", "/health", 30*time.Second,
		"-storageDataPath="+v.dataDir,
		fmt.Sprintf("-httpListenAddr=127.0.0.1:%d", v.port),
		"-retentionPeriod=7d",
		"-inmemoryDataFlushInterval=1s",
		"-loggerLevel=WARN")
}

// Stop stops the store (SIGTERM, SIGKILL after 10 s): an outage of the log store.
func (v *VictoriaLogs) Stop() {
	if err := v.proc.Stop(10 * time.Second); err != nil {
		v.t.Logf("%s stopped: %v", v.name, err)
	}
}

// Name is the store's process name, for messages.
func (v *VictoriaLogs) Name() string { return v.name }

// OTLPEndpoint is the logs_endpoint an otlp_http exporter posts to.
func (v *VictoriaLogs) OTLPEndpoint() string { return v.URL("/insert/opentelemetry/v1/logs") }

// Query runs a LogsQL query and returns the matching entries.
func (v *VictoriaLogs) Query(q string) ([]map[string]string, error) {
	b, err := Get(v.URL("/select/logsql/query?query=" + url.QueryEscape(q)))
	if err != nil {
		return nil, err
	}
	var out []map[string]string
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if line == "" {
			continue
		}
		m := map[string]string{}
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			return nil, fmt.Errorf("decode %q: %w", line, err)
		}
		out = append(out, m)
	}
	return out, nil
}

// Count returns how many entries match the LogsQL filter.
func (v *VictoriaLogs) Count(filter string) (int, error) {
	rows, err := v.Query(filter + " | stats count() as n")
	if err != nil {
		return 0, err
	}
	if len(rows) == 0 {
		return 0, nil
	}
	return strconv.Atoi(rows[0]["n"])
}

// DetectionPairs counts the stored detection records and their (record, rule) pairs, which is
// what runtime_security_detections_total counts. A record whose runtime_security.rules is not a
// list of names is a test error.
func (v *VictoriaLogs) DetectionPairs(t testing.TB) (records, pairs int) {
	t.Helper()
	rows, err := v.Query(`security_rule.name:* | fields runtime_security.rules`)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		var names []string
		if err := json.Unmarshal([]byte(r["runtime_security.rules"]), &names); err != nil || len(names) == 0 {
			t.Errorf("runtime_security.rules %q is not a list of names: %v", r["runtime_security.rules"], err)
			continue
		}
		pairs += len(names)
	}
	return len(rows), pairs
}
