// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package workloadprofile

import (
	"strings"
	"time"
)

// The lifecycle runs on the workload's own event time (the records'
// timestamps), never on the collector's clock: replaying a day of exported
// events learns exactly what a day of live traffic would, a restarted
// collector resumes where the stored state left off, and a workload that is
// idle for a day has not "learned" for a day.
//
// learning → enforcing when either
//   - Config.LearningPeriod has passed since the first record (FirstSeen), or
//   - Config.QuietWindows consecutive windows of Config.Window, each with at
//     least one record of the workload, added nothing to the profile.
//
// Records with no time (zero) are observed but do not move the lifecycle.
// Records older than the current window count in the current window (event
// streams are not strictly ordered). A file profile has no lifecycle.

// advance moves the lifecycle to t before a record is checked, so that the
// record that ends learning is already judged by the enforcing profile.
func (p *Profile) advance(t time.Time) {
	if t.IsZero() {
		return
	}
	if t.After(p.lastActive) {
		p.lastActive = t
	}
	if p.state != StateLearning {
		return
	}
	cfg := &p.env.cfg
	if p.firstSeen.IsZero() {
		p.windowStart = t
		return
	}
	if cfg.LearningPeriod > 0 && t.Sub(p.firstSeen) >= cfg.LearningPeriod {
		p.Enforce(t)
		return
	}
	if cfg.QuietWindows <= 0 || cfg.Window <= 0 || t.Sub(p.windowStart) < cfg.Window {
		return
	}
	// The current window is over: judge it, then jump to the window holding t.
	switch {
	case p.windowAdded:
		p.quiet = 0
	case p.windowSeen:
		p.quiet++
	}
	p.windowStart = p.windowStart.Add(t.Sub(p.windowStart) / cfg.Window * cfg.Window)
	p.windowSeen, p.windowAdded = false, false
	if p.quiet >= cfg.QuietWindows {
		p.Enforce(t)
	}
}

// learned records a record observed while learning at t.
func (p *Profile) learned(t time.Time, added bool) {
	p.windowSeen = true
	if added {
		p.windowAdded = true
	}
	if t.IsZero() {
		return
	}
	if p.firstSeen.IsZero() || t.Before(p.firstSeen) {
		p.firstSeen = t
	}
	if t.After(p.lastSeen) {
		p.lastSeen = t
	}
}

// Enforce ends learning at event time at: the profile is fixed from now on.
// The lifecycle calls it; the CLI and tests may too (e.g. to write a
// just-learned profile as enforcing). No effect unless learning.
func (p *Profile) Enforce(at time.Time) {
	if p.state != StateLearning {
		return
	}
	p.state = StateEnforcing
	p.enforcingSince = at
}

// checkImage handles a record whose image differs from the profile's. An
// unknown image on either side changes nothing (the first known image is
// adopted): only a real change of version restarts. File profiles ignore
// images: a reviewed file is authoritative whatever runs.
func (p *Profile) checkImage(rec Record) imageAction {
	if rec.Image == "" || rec.Image == p.image || p.state == StateFile {
		return imageSame
	}
	if p.image == "" {
		p.image = strings.Clone(rec.Image)
		return imageSame
	}
	if rec.Image == p.prevImage && !rec.Time.IsZero() && rec.Time.Before(p.prevUntil) {
		return imageStale
	}
	p.prevImage = p.image
	p.prevUntil = rec.Time.Add(p.env.cfg.ImageGrace)
	p.image = strings.Clone(rec.Image)
	p.restarts++
	p.restart()
	return imageRestarted
}
