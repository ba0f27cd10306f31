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
		// Up to two ticks' worth at once, and at least one event.
		p.burst = max(1, 2*rate*pacerTick.Seconds())
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
			p.tokens = min(p.burst, p.tokens+p.rate*now.Sub(p.last).Seconds())
			p.last = now
		}
	}
	n := min(int(p.tokens), max)
	p.tokens -= float64(n)
	return n, nil
}

func (p *pacer) stop() {
	if p.ticker != nil {
		p.ticker.Stop()
	}
}
