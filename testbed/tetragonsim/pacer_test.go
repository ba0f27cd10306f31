// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package tetragonsim

import (
	"testing"
	"time"
)

// The bucket must keep the fraction of a token a late tick leaves over: over a simulated second
// of ticks arriving 0-2 ms late, the pacer hands out the configured rate, also at low rates.
func TestPacerKeepsRateWithLateTicks(t *testing.T) {
	for _, rate := range []float64{50, 100, 150, 1000, 20000} {
		p := newPacer(rate)
		p.stop()
		start := time.Unix(0, 0)
		p.last, p.tokens = start, 0
		sent := 0
		now := start
		for i := 0; now.Sub(start) < 10*time.Second; i++ {
			now = now.Add(pacerTick + time.Duration(i%3)*time.Millisecond) // late ticks
			p.refill(now)
			for p.tokens >= 1 {
				sent += p.takeTokens(64)
			}
		}
		want := rate * now.Sub(start).Seconds()
		if d := float64(sent) - want; d < -2 || d > 2 {
			t.Errorf("rate %v: sent %d events in %v, want %.0f", rate, sent, now.Sub(start), want)
		}
	}
}
