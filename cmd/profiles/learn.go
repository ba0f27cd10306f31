// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/cilium/tetragon/api/v1/tetragon"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/eventmap"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/jsonl"
	wp "github.com/otelcol-runtime-security/otelcol-runtime-security/internal/workloadprofile"
)

const (
	learnOK      = 0
	learnError   = 1
	learnNothing = 2
)

type prefixList []netip.Prefix

func (l *prefixList) String() string {
	s := make([]string, len(*l))
	for i, p := range *l {
		s[i] = p.String()
	}
	return strings.Join(s, ",")
}

func (l *prefixList) Set(v string) error {
	p, err := netip.ParsePrefix(v)
	if err != nil {
		return fmt.Errorf("not a CIDR (e.g. 10.0.0.0/8): %q", v)
	}
	*l = append(*l, p.Masked())
	return nil
}

type learnOptions struct {
	out      string
	cluster  string
	learning bool
	cfg      wp.Config
	inputs   []string
}

func parseLearn(args []string, stderr io.Writer) (*learnOptions, *flag.FlagSet, error) {
	def := wp.DefaultConfig()
	o := &learnOptions{cfg: def}
	fs := newFlagSet("learn", "--out DIR [--period 24h] [--window 1h] [--quiet-windows 3] [--cluster NAME] [--cluster-cidr CIDR]... [--learning] EVENTS.jsonl[.gz]|DIR...", stderr)
	var cidrs prefixList
	fs.StringVar(&o.out, "out", "", "the `directory` to write one profile per workload to (created if missing)")
	fs.DurationVar(&o.cfg.LearningPeriod, "period", def.LearningPeriod, "learning ends this long (event time) after a workload's first record; 0: only quiet windows end it")
	fs.DurationVar(&o.cfg.Window, "window", def.Window, "length of a quiet window")
	fs.IntVar(&o.cfg.QuietWindows, "quiet-windows", def.QuietWindows, "learning also ends after this many windows with records and nothing new; 0: only the period ends it")
	fs.StringVar(&o.cluster, "cluster", "", "k8s cluster `name` for events that carry none (the receiver's cluster_name: the workload key includes it)")
	fs.Var(&cidrs, "cluster-cidr", "a pod or service `CIDR` of the cluster (the processor's cluster_cidrs: peers in it are class cluster; repeatable)")
	fs.BoolVar(&o.learning, "learning", false, "write each profile in the state the learning lifecycle left it in, instead of marking every profile enforcing")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return nil, fs, err
	}
	o.inputs = pos
	o.cfg.ClusterCIDRs = cidrs
	switch {
	case o.out == "":
		return nil, fs, usagef("--out DIR is required")
	case len(o.inputs) == 0:
		return nil, fs, usagef("no input files")
	}
	if err := o.cfg.Validate(); err != nil {
		return nil, fs, usagef("learning settings: %v", err)
	}
	return o, fs, nil
}

func runLearn(args []string, stdout, stderr io.Writer) int {
	o, fs, err := parseLearn(args, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return learnOK
		}
		report(stderr, fs, "learn", err)
		return learnError
	}
	files, err := jsonl.Expand(o.inputs, jsonl.Patterns...)
	if err != nil {
		fmt.Fprintln(stderr, "profiles learn:", err)
		return learnError
	}
	l := newLearner(o.cfg, o.cluster)
	for _, f := range files {
		st, err := l.learnFile(f)
		if err != nil {
			fmt.Fprintf(stderr, "profiles learn: %v\n", err)
			return learnError
		}
		fmt.Fprintf(stdout, "# %s: %d lines, %d events, %d of unknown type, %d malformed\n", f, st.Lines, st.Events, st.Unknown, st.Malformed)
	}
	if len(l.keys) == 0 {
		fmt.Fprintf(stdout, "Nothing learned: %d records, none of a container workload (%d host records ignored)\n", l.records, l.host)
		fmt.Fprintln(stderr, "profiles learn: nothing learned: no container workload in the input")
		return learnNothing
	}
	if err := os.MkdirAll(o.out, 0o755); err != nil {
		fmt.Fprintln(stderr, "profiles learn:", err)
		return learnError
	}
	written, err := l.write(o.out, !o.learning)
	if err != nil {
		fmt.Fprintln(stderr, "profiles learn:", err)
		return learnError
	}
	for _, w := range written {
		fmt.Fprintln(stdout, w)
	}
	l.printSummary(stdout)
	return learnOK
}

// learner feeds mapped records to one Set over all the input files.
type learner struct {
	set          *wp.Set
	maxWorkloads int
	mapping      eventmap.Options
	keys         []wp.Key // in order of first record

	total eventmap.LineStats
	// records: mapped records; host: records of host processes (not profiled); stale: records
	// of a replaced image during the image grace; afterLearning: records of a profile whose
	// learning had ended that showed something new (not learned).
	records, host, stale, afterLearning int
}

func newLearner(cfg wp.Config, cluster string) *learner {
	return &learner{
		set:          wp.NewSet(cfg),
		maxWorkloads: cfg.MaxWorkloads,
		// As the receiver maps (its body mode does not change the attributes a profile reads).
		mapping: eventmap.Options{Body: eventmap.BodyNone, ClusterName: cluster},
	}
}

type record struct {
	res pcommon.Map
	lr  plog.LogRecord
}

// learnFile maps one file's lines with the receiver's decoder and mapping and observes its
// records in event-time order. Lines that are not events are counted and skipped; an error is
// a file that cannot be read.
func (l *learner) learnFile(path string) (eventmap.LineStats, error) {
	var st eventmap.LineStats
	batch := eventmap.NewBatch(l.mapping)
	var ev tetragon.GetEventsResponse
	now := time.Now()
	err := jsonl.Each(path, func(_ int, line []byte) error {
		batch.AddLine(line, &ev, now, &st)
		return nil
	})
	if err != nil {
		if !strings.Contains(err.Error(), path) {
			err = fmt.Errorf("%s: %w", path, err)
		}
		return st, err
	}
	l.total = l.total.Plus(st)

	ld := batch.Flush()
	var recs []record
	for i := 0; i < ld.ResourceLogs().Len(); i++ {
		rl := ld.ResourceLogs().At(i)
		for j := 0; j < rl.ScopeLogs().Len(); j++ {
			lrs := rl.ScopeLogs().At(j).LogRecords()
			for k := 0; k < lrs.Len(); k++ {
				recs = append(recs, record{rl.Resource().Attributes(), lrs.At(k)})
			}
		}
	}
	// The receiver groups records by resource, and export files are not in time order: the
	// lifecycle runs on event time, so replay the file as the stream it was.
	sort.SliceStable(recs, func(a, b int) bool { return recs[a].lr.Timestamp() < recs[b].lr.Timestamp() })
	for _, r := range recs {
		l.records++
		rec := wp.RecordOf(r.res, r.lr)
		if !rec.Profiled {
			l.host++
			continue
		}
		res := l.set.Observe(rec)
		switch {
		case res.Dropped:
			continue
		case res.Stale:
			l.stale++
			continue
		}
		if res.Created {
			l.keys = append(l.keys, cloneKey(rec.Key))
		}
		if res.State != wp.StateLearning && len(res.Novel) > 0 {
			l.afterLearning++
		}
	}
	return st, nil
}

// cloneKey copies the key's strings out of the record batch.
func cloneKey(k wp.Key) wp.Key {
	return wp.Key{
		Cluster: strings.Clone(k.Cluster), Namespace: strings.Clone(k.Namespace), Kind: strings.Clone(k.Kind),
		Name: strings.Clone(k.Name), Container: strings.Clone(k.Container), Image: strings.Clone(k.Image),
		ContainerID: strings.Clone(k.ContainerID),
	}
}

// write marks the profiles enforcing (when enforce) at the end of their learning window and
// writes one file per workload to dir, in key order. It returns one line per file written.
func (l *learner) write(dir string, enforce bool) ([]string, error) {
	keys := append([]wp.Key(nil), l.keys...)
	sort.Slice(keys, func(a, b int) bool { return keys[a].String() < keys[b].String() })
	used := map[string]bool{}
	var lines []string
	for _, k := range keys {
		p := l.set.Get(k)
		if p == nil {
			continue
		}
		if enforce {
			p.Enforce(p.LastSeen())
		}
		b, err := wp.Marshal(p)
		if err != nil {
			return lines, fmt.Errorf("%s: %w", k, err)
		}
		name := uniqueName(k.FileName(), used)
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, b, 0o644); err != nil {
			return lines, err
		}
		lines = append(lines, fmt.Sprintf("wrote %s: %s (%s; %s)", path, p.ID(), p.State(), sizes(p.Sizes())))
	}
	return lines, nil
}

// uniqueName returns name, or name with -2, -3… before .yaml when an earlier key of this run
// already used it (distinct keys may map to one file name; the file's content has the real key).
func uniqueName(name string, used map[string]bool) string {
	base := strings.TrimSuffix(name, ".yaml")
	for i := 2; used[name]; i++ {
		name = fmt.Sprintf("%s-%d.yaml", base, i)
	}
	used[name] = true
	return name
}

// sizes is a profile's list sizes, e.g. "12 executables, 3 parent>child, …".
func sizes(c wp.Counts) string {
	return fmt.Sprintf("%d executables, %d parent>child, %d file classes, %d syscalls, %d ports, %d peer classes",
		c.Executables, c.ParentChild, c.Files, c.Syscalls, c.Ports, c.Peers)
}

func (l *learner) printSummary(w io.Writer) {
	st := l.set.Stats()
	fmt.Fprintf(w, "\nSummary: %d workloads (%d enforcing, %d learning)\n", len(l.keys), st.Enforcing, st.Learning)
	fmt.Fprintf(w, "Items: %s\n", sizes(st.Items))
	if o := st.Overflow; o.Total() > 0 {
		fmt.Fprintf(w, "Overflow (over the caps, not kept): %s\n", sizes(o))
	}
	profiled := l.records - l.host - int(st.UnprofiledRecords) - l.stale
	fmt.Fprintf(w, "Records: %d mapped, %d profiled, %d host records ignored, %d unprofiled (over %d workloads), %d of a replaced image ignored\n",
		l.records, profiled, l.host, st.UnprofiledRecords, l.maxWorkloads, l.stale)
	fmt.Fprintf(w, "Lines: %d read, %d skipped (%d of unknown type, %d malformed)\n",
		l.total.Lines, l.total.Unknown+l.total.Malformed, l.total.Unknown, l.total.Malformed)
	if l.afterLearning > 0 {
		var kinds []string
		for i, k := range wp.Kinds {
			if st.Novel[i] > 0 {
				kinds = append(kinds, fmt.Sprintf("%s %d", k, st.Novel[i]))
			}
		}
		fmt.Fprintf(w, "Not learned: %d records came after their workload's learning had ended and showed something new (%s); a longer --period or more --quiet-windows learns them\n",
			l.afterLearning, strings.Join(kinds, ", "))
	}
}
