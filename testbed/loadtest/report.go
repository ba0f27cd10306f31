// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package loadtest

import (
	"fmt"
	"io"
	"runtime"
	"sort"
	"strconv"
)

const mib = 1 << 20

// WriteRunTable writes one Markdown row per run.
func WriteRunTable(w io.Writer, runs []*Result) {
	fmt.Fprintln(w, "| scenario | target ev/s | sent/s | accepted/s | delivered/s | sent | delivered | lost | CPU µs/event | decode floor µs/event | ratio | CPU % of a core | peak RSS MiB | latency p50 / p99 / max ms |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
	for _, r := range runs {
		rate := fmt.Sprintf("%.0f", r.TargetRate)
		if r.PeakRate > 0 {
			rate += fmt.Sprintf(" (%.0f burst)", r.PeakRate)
		}
		short, behind := "", ""
		if !r.Sustained {
			if r.SentPerSec < sustainedShare*r.TargetRate {
				short = " (short)"
			} else {
				behind = " (behind)"
			}
		}
		fmt.Fprintf(w, "| %s | %s | %.0f%s | %.0f%s | %.0f | %d | %d | %d | %.1f | %.2f | %.1f× | %.1f | %.0f | %s |\n",
			r.Variant(), rate, r.SentPerSec, short, r.AcceptedPerSec, behind, r.DeliveredPerSec, r.Sent, r.Delivered, r.Lost,
			r.CPUNsPerEvent/1e3, r.Floor.CPUNsPerEvent/1e3, r.RatioToFloor, 100*r.CPUCores, float64(r.PeakRSSBytes)/mib,
			latencyCell(r.Latency))
	}
	for _, r := range runs {
		if r.PeakRate > 0 {
			fmt.Fprintf(w, "\nburst %s: latency before %s · during the burst %s · after %s (p50 / p99 / max ms)\n",
				r.Scenario, latencyCell(r.Latency), latencyCell(r.LatencyBurst), latencyCell(r.LatencyAfter))
		}
		for _, n := range r.Notes {
			fmt.Fprintf(w, "\nnote (%s): %s\n", r.Scenario, n)
		}
	}
	for _, r := range runs {
		if line := workloadLine(r); line != "" {
			fmt.Fprintf(w, "\n%s: %s\n", r.Variant(), line)
		}
	}
	if live := withLiveFloor(runs); len(live) > 0 {
		fmt.Fprintln(w, "\nLive decode floor: a client that only receives the same stream (same rate, field filters, read_coalesce, GOMAXPROCS and GOGC) and decodes each event with proto.Unmarshal, beside a fresh tetragon-sim, over the same steady window:")
		for _, r := range live {
			fmt.Fprintf(w, "- %s @ %.0f/s: %.1f µs/event, %.1f %% of a core (hot-loop floor %.2f µs); collector ÷ live floor %.1f×\n",
				r.Scenario, r.TargetRate, r.LiveFloor.CPUNsPerEvent/1e3, 100*r.LiveFloor.CPUCores, r.Floor.CPUNsPerEvent/1e3, r.RatioToLiveFloor)
		}
	}
	fmt.Fprintln(w, "\nCPU in the steady window, % of a core: collector / tetragon-sim / harness (sinks) · machine load average at start · the collector's GOMAXPROCS")
	for _, r := range runs {
		if r.Window.Seconds > 0 {
			sim := "–"
			if r.Window.SimCPU > 0 {
				sim = fmt.Sprintf("%.0f", 100*r.Window.SimCPU/r.Window.Seconds)
			}
			fmt.Fprintf(w, "- %s @ %.0f/s: %.0f / %s / %.0f · load %.1f · GOMAXPROCS %s\n", r.Scenario, r.TargetRate, 100*r.CPUCores,
				sim, 100*r.Window.HarnessCPU/r.Window.Seconds, r.LoadAverage, gomaxprocsText(r.GOMAXPROCS))
		}
	}
}

// workloadLine describes a run's workload spread and profiles, or "" when it had neither.
func workloadLine(r *Result) string {
	var parts []string
	if sp := r.WorkloadSpread; sp != nil {
		parts = append(parts, fmt.Sprintf("tetragon-sim spread %d container processes over %d workloads (%d passes of the replay; %d of %d events in containers per loop of the passes)",
			sp.Units, sp.Distinct, sp.Passes, sp.ContainerEvents, sp.ContainerEvents+sp.HostEvents))
	}
	if p := r.Profiles; p != nil {
		states := make([]string, 0, len(p.Workloads))
		for _, s := range []string{"learning", "enforcing", "file"} {
			if n, ok := p.Workloads[s]; ok {
				states = append(states, fmt.Sprintf("%.0f %s", n, s))
			}
		}
		var novel float64
		kinds := make([]string, 0, len(p.Novelties))
		for k, n := range p.Novelties {
			novel += n
			kinds = append(kinds, fmt.Sprintf("%s %.0f", k, n))
		}
		sort.Strings(kinds)
		line := fmt.Sprintf("workload_profile at the end: %.0f profiles (%s), %.0f items (largest %.0f, overflow %.0f), %.0f records marked novel",
			p.Profiled(), joinOrNone(states), p.Items, p.LargestItems, p.Overflow, novel)
		if len(kinds) > 0 {
			line += " (" + joinOrNone(kinds) + ")"
		}
		line += fmt.Sprintf(", %.0f unprofiled records, %.0f storage errors", p.Unprofiled, p.StorageErrors)
		parts = append(parts, line)
	} else if r.WorkloadProfile != "" {
		parts = append(parts, "workload_profile: no telemetry read")
	}
	var out string
	for i, p := range parts {
		if i > 0 {
			out += "; "
		}
		out += p
	}
	return out
}

func joinOrNone(v []string) string {
	if len(v) == 0 {
		return "none"
	}
	out := v[0]
	for _, s := range v[1:] {
		out += ", " + s
	}
	return out
}

// withLiveFloor is the runs that measured the live decode floor (--live-floor).
func withLiveFloor(runs []*Result) []*Result {
	var live []*Result
	for _, r := range runs {
		if r.LiveFloor != nil {
			live = append(live, r)
		}
	}
	return live
}

func gomaxprocsText(n int) string {
	if n == 0 {
		return fmt.Sprintf("default (%d cores)", runtime.NumCPU())
	}
	return strconv.Itoa(n)
}

func latencyCell(l LatencyStats) string {
	if l.Count == 0 {
		return "–"
	}
	return fmt.Sprintf("%.0f / %.0f / %.0f", l.P50ms, l.P99ms, l.MaxMs)
}

// WriteSearchTable writes the trials of a max-rate search.
func WriteSearchTable(w io.Writer, sr *SearchResult) {
	fmt.Fprintf(w, "Highest zero-loss rate for %s: **%.0f events/s**", sr.Scenario, sr.MaxRate)
	if sr.FirstFail > 0 {
		fmt.Fprintf(w, " (%.0f failed)", sr.FirstFail)
	}
	fmt.Fprintf(w, "; search stopped: %s.\n\n", sr.Stopped)
	WriteRunTable(w, sr.Trials)
}

// WriteComparison writes the baseline comparison.
func WriteComparison(w io.Writer, c *Comparison) {
	fmt.Fprintf(w, "Same export file for both: %d %s events, %.0f MiB (load average %.1f at the start; GOMAXPROCS %s for both).\n\n",
		c.Events, c.Scenario, float64(c.ExportBytes)/mib, c.LoadAverage, gomaxprocsText(c.GOMAXPROCS))
	fmt.Fprintln(w, "| collector | delivered | detections tagged | CPU s | events per CPU-second | wall s | events/s | peak RSS MiB |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|")
	for _, f := range []FileRun{c.Ours, c.Baseline} {
		name := "otelcol-runtime-security (file mode)"
		if f.Target == "baseline" {
			name = "stock contrib baseline (file_log + OTTL)"
		}
		fmt.Fprintf(w, "| %s | %d | %d | %.2f | %.0f | %.1f | %.0f | %.0f |\n", name, f.Delivered, f.Detected, f.CPUSeconds,
			f.EventsPerCPUSecond, f.WallSeconds, f.EventsPerSecond, float64(f.PeakRSSBytes)/mib)
	}
	fmt.Fprintf(w, "\nRatio (ours / baseline, events per CPU-second): **%.1f×**\n", c.Ratio)
	if len(c.Ours.Rules)+len(c.Baseline.Rules) > 0 {
		names := map[string]bool{}
		for n := range c.Ours.Rules {
			names[n] = true
		}
		for n := range c.Baseline.Rules {
			names[n] = true
		}
		sorted := make([]string, 0, len(names))
		for n := range names {
			sorted = append(sorted, n)
		}
		sort.Strings(sorted)
		fmt.Fprintln(w, "\n| rule (records tagged) | ours | baseline |\n|---|---|---|")
		for _, n := range sorted {
			fmt.Fprintf(w, "| %s | %d | %d |\n", n, c.Ours.Rules[n], c.Baseline.Rules[n])
		}
	}
	for _, f := range []FileRun{c.Ours, c.Baseline} {
		for _, n := range f.Notes {
			fmt.Fprintf(w, "\nnote (%s): %s\n", f.Target, n)
		}
	}
}

// WriteRepeatSummary writes, per scenario in order of first appearance, the values of each
// round and their median: CPU per event, its ratio to the floor and p99 for runs; the ratio and
// both CPU times for baseline comparisons. Single runs differ by ±10 % here; the median of
// interleaved rounds is what to quote.
func WriteRepeatSummary(w io.Writer, runs []*Result, comparisons []*Comparison) {
	if len(runs) > 0 {
		fmt.Fprintln(w, "| scenario | rounds | CPU µs/event, each round | median | ratio to floor, median | p99 ms, median |")
		fmt.Fprintln(w, "|---|---|---|---|---|---|")
		for _, s := range byScenario(runs, func(r *Result) (string, [3]float64) {
			return r.Variant(), [3]float64{r.CPUNsPerEvent / 1e3, r.RatioToFloor, r.Latency.P99ms}
		}) {
			fmt.Fprintf(w, "| %s | %d | %s | **%.1f** | %.1f× | %.0f |\n", s.name, len(s.v[0]), joinFloats(s.v[0], "%.1f"), median(s.v[0]), median(s.v[1]), median(s.v[2]))
		}
	}
	if live := withLiveFloor(runs); len(live) > 0 {
		fmt.Fprintln(w, "\n| scenario | rounds | live decode floor µs/event, each round | median | its % of a core, median | collector ÷ live floor, median |")
		fmt.Fprintln(w, "|---|---|---|---|---|---|")
		for _, s := range byScenario(live, func(r *Result) (string, [3]float64) {
			return r.Variant(), [3]float64{r.LiveFloor.CPUNsPerEvent / 1e3, 100 * r.LiveFloor.CPUCores, r.RatioToLiveFloor}
		}) {
			fmt.Fprintf(w, "| %s | %d | %s | **%.1f** | %.1f | %.1f× |\n", s.name, len(s.v[0]), joinFloats(s.v[0], "%.1f"), median(s.v[0]), median(s.v[1]), median(s.v[2]))
		}
	}
	if len(comparisons) > 0 {
		fmt.Fprintln(w, "| scenario | rounds | ours ÷ baseline, each round | median | ours CPU s, median | baseline CPU s, median |")
		fmt.Fprintln(w, "|---|---|---|---|---|---|")
		for _, s := range byScenario(comparisons, func(c *Comparison) (string, [3]float64) {
			return c.Scenario, [3]float64{c.Ratio, c.Ours.CPUSeconds, c.Baseline.CPUSeconds}
		}) {
			fmt.Fprintf(w, "| %s | %d | %s | **%.1f×** | %.2f | %.2f |\n", s.name, len(s.v[0]), joinFloats(s.v[0], "%.1f×"), median(s.v[0]), median(s.v[1]), median(s.v[2]))
		}
	}
}

// scenarioSeries is one scenario's values over the rounds, three metrics of each.
type scenarioSeries struct {
	name string
	v    [3][]float64
}

// byScenario groups the metrics of items by scenario, in order of first appearance.
func byScenario[T any](items []T, metrics func(T) (string, [3]float64)) []scenarioSeries {
	var out []scenarioSeries
	index := map[string]int{}
	for _, it := range items {
		name, m := metrics(it)
		i, ok := index[name]
		if !ok {
			i = len(out)
			index[name] = i
			out = append(out, scenarioSeries{name: name})
		}
		for k := range m {
			out[i].v[k] = append(out[i].v[k], m[k])
		}
	}
	return out
}

func joinFloats(v []float64, format string) string {
	var s string
	for i, f := range v {
		if i > 0 {
			s += " · "
		}
		s += fmt.Sprintf(format, f)
	}
	return s
}

// median of v (the mean of the middle two for an even count); v is not modified.
func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
