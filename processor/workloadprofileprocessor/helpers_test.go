// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package workloadprofileprocessor

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/attrkey"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/corpusrec"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/storagetest"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/processor/workloadprofileprocessor/internal/metadatatest"
)

// benignWorkload is the profile key of the benign container (corpusrec.Benign,
// runtime_security.profile.workload): the capture has no Kubernetes metadata and no image, so the
// container id names the workload.
const benignWorkload = "container:" + corpusrec.Benign

// rec is one record of the shared corpus, mapped as the receiver maps it (corpusrec), so that
// the tests see exactly what a deployed collector's records carry.
type rec = corpusrec.Record

// benignRecs: the benign container's records of the export capture.
func benignRecs(t testing.TB) []rec {
	t.Helper()
	rs := corpusrec.OfContainer(corpusrec.Load(t, "captured/main-export.jsonl.gz"), corpusrec.Benign, corpusrec.Benign)
	require.NotEmpty(t, rs)
	return rs
}

// attackRecs: the syscalls run's app container, moved into the benign
// container's workload.
func attackRecs(t testing.TB) []rec {
	t.Helper()
	rs := corpusrec.OfContainer(corpusrec.Load(t, "syscalls/export.jsonl.gz"), corpusrec.Attack, corpusrec.Benign)
	require.NotEmpty(t, rs)
	return rs
}

// logsOf copies rs into one plog.Logs (one ResourceLogs per record, in
// order), with every event time moved by shift, so that the same records
// can be replayed later in a workload's event time.
func logsOf(rs []rec, shift time.Duration) plog.Logs {
	ld := plog.NewLogs()
	for _, r := range rs {
		rl := ld.ResourceLogs().AppendEmpty()
		r.Res.CopyTo(rl.Resource().Attributes())
		lr := rl.ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
		r.LR.CopyTo(lr)
		if shift != 0 {
			lr.SetTimestamp(pcommon.NewTimestampFromTime(lr.Timestamp().AsTime().Add(shift)))
		}
	}
	return ld
}

// lastTime is the latest event time of rs.
func lastTime(rs []rec) time.Time {
	var t time.Time
	for _, r := range rs {
		if ts := r.LR.Timestamp().AsTime(); ts.After(t) {
			t = ts
		}
	}
	return t
}

// marks are the profile attributes of one processed record.
type marks struct {
	event, exe, state, workload string
	novel                       []string
	hasNovel                    bool
}

func marksOf(ld plog.Logs) []marks {
	var out []marks
	rls := ld.ResourceLogs()
	for i := 0; i < rls.Len(); i++ {
		sls := rls.At(i).ScopeLogs()
		for j := 0; j < sls.Len(); j++ {
			lrs := sls.At(j).LogRecords()
			for k := 0; k < lrs.Len(); k++ {
				lr := lrs.At(k)
				a := lr.Attributes()
				m := marks{event: lr.EventName()}
				if v, ok := a.Get(attrkey.ProcessExecutablePath); ok {
					m.exe = v.Str()
				}
				if v, ok := a.Get(attrkey.ProfileState); ok {
					m.state = v.Str()
				}
				if v, ok := a.Get(attrkey.ProfileWorkload); ok {
					m.workload = v.Str()
				}
				if v, ok := a.Get(attrkey.ProfileNovel); ok {
					m.hasNovel = true
					for _, x := range v.Slice().AsRaw() {
						m.novel = append(m.novel, x.(string))
					}
				}
				out = append(out, m)
			}
		}
	}
	return out
}

// novelKinds counts the records per novelty kind, and the records with none.
func novelKinds(ms []marks) (kinds map[string]int, quiet int) {
	kinds = map[string]int{}
	for _, m := range ms {
		if !m.hasNovel {
			quiet++
		}
		for _, k := range m.novel {
			kinds[k]++
		}
	}
	return kinds, quiet
}

// testConfig: 1h of learning (event time), quiet windows off, no periodic
// reload or save (tests call them).
func testConfig() *Config {
	cfg := defaultConfig()
	cfg.Learning.Period = time.Hour
	cfg.Learning.QuietWindows = 0
	cfg.ReloadInterval = 0
	cfg.SaveInterval = 0
	return cfg
}

func newTestProcessor(t testing.TB, cfg *Config) (*profileProcessor, *componenttest.Telemetry) {
	t.Helper()
	tel := componenttest.NewTelemetry()
	t.Cleanup(func() { _ = tel.Shutdown(context.Background()) })
	p, err := newProcessor(metadatatest.NewSettings(tel), cfg)
	require.NoError(t, err)
	p.statsMaxAge = 0
	return p, tel
}

func process(t testing.TB, p *profileProcessor, ld plog.Logs) []marks {
	t.Helper()
	out, err := p.processLogs(context.Background(), ld)
	require.NoError(t, err)
	return marksOf(out)
}

var storageID = component.MustNewID("file_storage")

func hostWithStorage(st component.Component) component.Host {
	return storagetest.HostWith(storageID, st)
}

func copyMap(m pcommon.Map) pcommon.Map {
	out := pcommon.NewMap()
	m.CopyTo(out)
	return out
}
