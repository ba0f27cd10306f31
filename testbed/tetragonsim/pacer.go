// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package tetragonsim

import (
	"context"
	"time"
)

// pacer is a token bucket refilled on a ticker, so a high rate costs one wake-up per tick rather
// than one sleep per event.
type pacer struct {
	rate   float64 // events per second; 0 = unlimited
	tokens float64
	burst  float64
	last   time.Time
	ticker *time.Ticker
}

const pacerTick = 5 * time.Millisecond

func newPacer(rate float64) *pacer {
	p := &pacer{rate: rate}
	if rate > 0 {
		// Up to two ticks' worth at once, and at least two events: a bucket that holds only one
		// token drops the fraction left over when a late tick refills it past one, which made
		// low rates undershoot (--rate 100 sent ~78/s).
		p.burst = max(2, 2*rate*pacerTick.Seconds())
		p.tokens = min(1, p.burst)
		p.last = time.Now()
		p.ticker = time.NewTicker(pacerTick)
	}
	return p
}

// take waits until at least one event may be sent and returns how many (at most max).
func (p *pacer) take(ctx context.Context, max int) (int, error) {
	if p.rate <= 0 {
		return max, ctx.Err()
	}
	for p.tokens < 1 {
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case now := <-p.ticker.C:
			p.refill(now)
		}
	}
	return p.takeTokens(max), nil
}

func (p *pacer) refill(now time.Time) {
	p.tokens = min(p.burst, p.tokens+p.rate*now.Sub(p.last).Seconds())
	p.last = now
}

func (p *pacer) takeTokens(max int) int {
	n := min(int(p.tokens), max)
	p.tokens -= float64(n)
	return n
}

func (p *pacer) stop() {
	if p.ticker != nil {
		p.ticker.Stop()
	}
}
