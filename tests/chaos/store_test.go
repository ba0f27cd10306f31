// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

//go:build chaos

package chaos

import (
	"fmt"
	"testing"
	"time"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/testbackends"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/testenv"
)

// store is a VictoriaLogs log store (internal/testbackends, as tests/e2e runs it) with what
// the chaos scenarios count in it: stored events by dedupe key, and waits for the count to settle.
type store struct {
	*testbackends.VictoriaLogs
}

func startStore(t *testing.T, name string) *store {
	return &store{testbackends.StartVictoriaLogs(t, name)}
}

// keys returns the dedupe key (eventKey) of every stored record matching filter, one per
// record: a record stored twice appears twice.
func (v *store) keys(filter string) ([]string, error) {
	rows, err := v.Query(filter + " | fields _time, event_name, tetragon.exec_id")
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(rows))
	for _, r := range rows {
		ts, err := time.Parse(time.RFC3339Nano, r["_time"])
		if err != nil {
			return nil, fmt.Errorf("_time %q: %w", r["_time"], err)
		}
		out = append(out, eventKey(r["event_name"], r["tetragon.exec_id"], ts))
	}
	return out, nil
}

// waitCount waits until the store holds at least n records matching filter, then until the
// count holds still for a few seconds (so that anything beyond n, a duplicate, has arrived).
func (v *store) waitCount(t *testing.T, filter string, n int, d time.Duration) int {
	t.Helper()
	testenv.Eventually(t, d, fmt.Sprintf("%d records in %s", n, v.Name()), func() bool {
		c, err := v.Count(filter)
		return err == nil && c >= n
	})
	return v.settle(t, filter)
}

// settle waits until the number of records matching filter is the same on three polls one
// second apart (VictoriaLogs makes records searchable within its 1 s flush interval).
func (v *store) settle(t *testing.T, filter string) int {
	t.Helper()
	last, same := -1, 0
	var c int
	testenv.Eventually(t, 2*time.Minute, v.Name()+" stops growing", func() bool {
		n, err := v.Count(filter)
		if err != nil {
			return false
		}
		c = n
		if n == last {
			same++
		} else {
			last, same = n, 0
		}
		if same < 2 {
			time.Sleep(800 * time.Millisecond)
		}
		return same >= 2
	})
	return c
}
