// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package loadtest

import (
	"context"
	"fmt"
	"math"
	"time"
)

// SearchResult is the outcome of a highest-zero-loss-rate search.
type SearchResult struct {
	Scenario string `json:"scenario"`
	// MaxRate is the highest rate that passed (zero loss, rate sustained); 0 if none did.
	MaxRate float64 `json:"max_rate"`
	// FirstFail is the lowest rate that failed (0 if none failed within the budget).
	FirstFail float64   `json:"first_fail"`
	Trials    []*Result `json:"trials"`
	Stopped   string    `json:"stopped"`
}

// trialFunc runs one trial at rate; Run in production, a fake in tests.
type trialFunc func(ctx context.Context, rate float64) (*Result, error)

// FindMaxRate searches the highest rate at which the collector loses nothing and keeps up:
// it doubles the rate from start until a trial fails, then bisects between the last pass and
// the first failure until they are within 10 % of each other. It stops early when the next
// trial would end after budget. Each trial is a full run of opts.Duration.
func FindMaxRate(ctx context.Context, opts Options, start float64, budget time.Duration) (*SearchResult, error) {
	if opts.FloorBudget == 0 {
		opts.FloorBudget = 500 * time.Millisecond
	}
	trial := func(ctx context.Context, rate float64) (*Result, error) {
		o := opts
		o.Rate = rate
		return Run(ctx, o)
	}
	// A trial costs its sending time plus start-up, drain and the floor measurement.
	perTrial := opts.Duration + 20*time.Second
	return search(ctx, opts.Scenario, start, budget, perTrial, trial, opts.logf)
}

func search(ctx context.Context, scenario string, start float64, budget, perTrial time.Duration, trial trialFunc, logf func(string, ...any)) (*SearchResult, error) {
	const maxRate = 1e6
	sr := &SearchResult{Scenario: scenario}
	deadline := time.Now().Add(budget)
	var lo, hi float64 // highest pass, lowest fail
	run := func(rate float64) (bool, error) {
		if time.Now().Add(perTrial).After(deadline) {
			sr.Stopped = "time budget"
			return false, errBudget
		}
		if err := ctx.Err(); err != nil {
			return false, err
		}
		r, err := trial(ctx, rate)
		if err != nil {
			return false, fmt.Errorf("trial at %.0f events/s: %w", rate, err)
		}
		sr.Trials = append(sr.Trials, r)
		ok := r.Passed()
		logf("max search: %.0f events/s → sent %.0f/s, lost %d, sustained %v: %s", rate, r.SentPerSec, r.Lost, r.Sustained, map[bool]string{true: "pass", false: "fail"}[ok])
		if ok {
			lo = max(lo, rate)
		} else if hi == 0 || rate < hi {
			hi = rate
		}
		return ok, nil
	}
	finish := func(err error) (*SearchResult, error) {
		sr.MaxRate, sr.FirstFail = lo, hi
		if err == errBudget {
			return sr, nil
		}
		return sr, err
	}
	// Grow (or shrink, if the start fails) by factors of two until the rate is bracketed.
	rate := start
	for hi == 0 || lo == 0 {
		ok, err := run(rate)
		if err != nil {
			return finish(err)
		}
		switch {
		case ok && rate*2 > maxRate:
			sr.Stopped = "rate cap"
			return finish(nil)
		case ok:
			rate *= 2
		case lo == 0 && rate/2 < 1:
			sr.Stopped = "nothing passed"
			return finish(nil)
		case lo == 0:
			rate /= 2
		}
	}
	for (hi-lo)/lo > 0.10 {
		mid := roundRate((lo + hi) / 2)
		if mid <= lo || mid >= hi {
			break
		}
		if _, err := run(mid); err != nil {
			return finish(err)
		}
	}
	if sr.Stopped == "" {
		sr.Stopped = "within 10%"
	}
	return finish(nil)
}

type budgetError struct{}

func (budgetError) Error() string { return "time budget exhausted" }

var errBudget error = budgetError{}

// roundRate rounds to two significant digits, so trial rates read well.
func roundRate(r float64) float64 {
	if r < 100 {
		return math.Round(r)
	}
	p := math.Pow(10, math.Floor(math.Log10(r))-1)
	return math.Round(r/p) * p
}
