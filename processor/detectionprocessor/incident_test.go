// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package detectionprocessor

import (
	"context"
	"maps"
	"path/filepath"
	"testing"
	"time"

	"github.com/cilium/tetragon/api/v1/tetragon"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/processor/processortest"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/attrkey"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/eventmap"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/testenv"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/tetragonjson"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/processor/detectionprocessor/internal/metadata"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/testbed/tetragonsim"
)

// incidentRun is what the shipped configuration (built-in rules and chains, incidents on) made of a
// stream of Tetragon events.
type incidentRun struct {
	chains map[string]int // chain → records that completed it
	// pods per incident id, and incident ids per pod ("namespace/pod", or the container key).
	podsOf, incidentsOf map[string]map[string]bool
	detections          int // tagged records
	inIncident          int // tagged records carrying an incident id
}

// runIncidents maps lines as the receiver does and runs them, in batches of 200 in stream order,
// through a detection processor with the default configuration.
func runIncidents(t *testing.T, lines [][]byte) incidentRun {
	t.Helper()
	cfg := NewFactory().CreateDefaultConfig().(*Config)
	cfg.ReloadInterval = 0
	sink := new(consumertest.LogsSink)
	proc, err := NewFactory().CreateLogs(context.Background(), processortest.NewNopSettings(metadata.Type), cfg, sink)
	require.NoError(t, err)
	require.NoError(t, proc.Start(context.Background(), componenttest.NewNopHost()))
	defer func() { require.NoError(t, proc.Shutdown(context.Background())) }()

	batch := eventmap.NewBatch(eventmap.Options{})
	var ev tetragon.GetEventsResponse
	for i, l := range lines {
		if tetragonjson.DecodeJSON(l, &ev) == nil {
			_ = batch.Add(&ev, l, time.Now())
		}
		if batch.Len() == 200 || i == len(lines)-1 {
			require.NoError(t, proc.ConsumeLogs(context.Background(), batch.Flush()))
		}
	}
	run := incidentRun{chains: map[string]int{}, podsOf: map[string]map[string]bool{}, incidentsOf: map[string]map[string]bool{}}
	for _, ld := range sink.AllLogs() {
		forEachRecordIn(ld, func(rl plog.ResourceLogs, _ plog.ScopeLogs, lr plog.LogRecord) {
			a := lr.Attributes()
			if c := get(a, attrkey.Chain); c != "" {
				run.chains[c]++
			}
			id, _ := a.Get(attrkey.IncidentID)
			if _, tagged := a.Get(attrkey.RuleName); tagged {
				run.detections++
				if id.Str() != "" {
					run.inIncident++
				}
			}
			if id.Str() == "" {
				return
			}
			res := rl.Resource().Attributes()
			pod := attrkey.Str(res, attrkey.K8sNamespaceName) + "/" + attrkey.Str(res, attrkey.K8sPodName)
			if pod == "/" {
				pod = attrkey.ContainerKey(attrkey.Str(res, attrkey.ContainerID))
			}
			addTo(run.podsOf, id.Str(), pod)
			addTo(run.incidentsOf, pod, id.Str())
		})
	}
	return run
}

func addTo(m map[string]map[string]bool, k, v string) {
	if m[k] == nil {
		m[k] = map[string]bool{}
	}
	m[k][v] = true
}

func simulatorLines(t *testing.T, scenario string, n int) [][]byte {
	t.Helper()
	clock := time.Date(2026, 11, 26, 17, 0, 0, 0, time.UTC)
	g, err := tetragonsim.NewGenerator(tetragonsim.GeneratorConfig{
		Scenario: scenario, Seed: 7,
		Clock: func() time.Time { clock = clock.Add(time.Millisecond); return clock },
	})
	require.NoError(t, err)
	lines := make([][]byte, n)
	for i := range lines {
		lines[i], err = protojson.MarshalOptions{UseProtoNames: true}.Marshal(g.Next())
		require.NoError(t, err)
	}
	return lines
}

// The attack scenario plays, per round, a kubectl exec shell with credential reads, a download run
// from /tmp and connections in one pod, a web shell in an nginx pod and an nsenter escape from a
// privileged pod. Every detection is in an incident; each attacked pod's detections share one
// incident id (the scenario's rounds are seconds apart, well within the window) and no incident
// spans two pods; the shipped chains fire on the steps they describe.
func TestIncidentsOnAttackScenario(t *testing.T) {
	run := runIncidents(t, simulatorLines(t, "attack", 2000))
	require.Positive(t, run.detections)
	require.Equal(t, run.detections, run.inIncident, "every detection carries an incident id")
	for id, pods := range run.podsOf {
		if len(pods) != 1 {
			t.Errorf("incident %s spans pods %v", id, pods)
		}
	}
	for pod, ids := range run.incidentsOf {
		if len(ids) != 1 {
			t.Errorf("pod %s is split over %d incidents", pod, len(ids))
		}
	}
	for _, c := range []string{"shell_credential_access_then_connection", "download_then_execute", "service_account_token_then_api_access", "recon_then_lateral_connection", "shell_then_privilege_escalation"} {
		if run.chains[c] == 0 {
			t.Errorf("chain %s did not fire on the attack scenario (fired: %v)", c, run.chains)
		}
	}
	t.Logf("attack scenario, 2000 events: %d detections, %d incidents, chains %v", run.detections, len(run.podsOf), run.chains)
}

// Benign traffic opens no incident and completes no chain: the simulator's benign scenarios and the
// captured corpus (a real Tetragon: container runtime work, sudo, package queries, exec bursts).
func TestNoIncidentsOnBenignTraffic(t *testing.T) {
	for _, sc := range []string{"benign", "exec-heavy", "file-access", "syscalls"} {
		t.Run(sc, func(t *testing.T) {
			run := runIncidents(t, simulatorLines(t, sc, 3000))
			if run.detections != 0 || len(run.chains) != 0 || len(run.podsOf) != 0 {
				t.Errorf("%d detections, %d incidents, chains %v", run.detections, len(run.podsOf), run.chains)
			}
		})
	}
	files, err := filepath.Glob(filepath.Join(testenv.EventsDir(t), "captured", "*.jsonl.gz"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			run := runIncidents(t, testenv.ReadLines(t, f))
			if run.detections != 0 || len(run.chains) != 0 {
				t.Errorf("%d detections, chains %v", run.detections, run.chains)
			}
		})
	}
}

// On the real corpus, chains fire only where the recorded activity is the chain: the book's
// privileged pod gets a shell and then nsenters into the host's namespaces.
func TestChainsOnRealCorpus(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(testenv.EventsDir(t), "real", "*.jsonl"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	want := map[string]map[string]int{
		"book-security-observability-with-ebpf.jsonl": {"shell_then_privilege_escalation": 1},
	}
	for _, f := range files {
		base := filepath.Base(f)
		t.Run(base, func(t *testing.T) {
			run := runIncidents(t, testenv.ReadLines(t, f))
			w := want[base]
			if w == nil {
				w = map[string]int{}
			}
			if !maps.Equal(run.chains, w) {
				t.Errorf("chains %v, want %v", run.chains, w)
			}
			if run.detections != run.inIncident {
				t.Errorf("%d detections, %d with an incident id", run.detections, run.inIncident)
			}
		})
	}
}
