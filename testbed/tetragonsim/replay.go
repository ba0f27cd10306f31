// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package tetragonsim

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/cilium/tetragon/api/v1/tetragon"
)

// MaxLineBytes bounds one replayed JSON line; longer lines are counted as malformed.
const MaxLineBytes = 16 << 20

// Skip reasons of replayed lines.
const (
	SkipMalformed   = "malformed"
	SkipUnknownType = "unknown_event_type"
	SkipTooLong     = "line_too_long"
)

// SkipStats counts replay lines that were not turned into events.
type SkipStats struct {
	Total    int            `json:"total"`
	ByReason map[string]int `json:"by_reason,omitempty"`
	// Examples holds the first few "file:line: reason: detail" entries.
	Examples []string `json:"examples,omitempty"`
}

const maxSkipExamples = 5

func (s *SkipStats) add(reason, where, detail string) {
	s.Total++
	if s.ByReason == nil {
		s.ByReason = map[string]int{}
	}
	s.ByReason[reason]++
	if len(s.Examples) < maxSkipExamples {
		if len(detail) > 200 {
			detail = detail[:200] + "…"
		}
		s.Examples = append(s.Examples, fmt.Sprintf("%s: %s: %s", where, reason, detail))
	}
}

// String summarises the skipped lines for stderr.
func (s SkipStats) String() string {
	if s.Total == 0 {
		return "no replay lines skipped"
	}
	reasons := make([]string, 0, len(s.ByReason))
	for r := range s.ByReason {
		reasons = append(reasons, r)
	}
	sort.Strings(reasons)
	var b strings.Builder
	fmt.Fprintf(&b, "skipped %d replay line(s):", s.Total)
	for i, r := range reasons {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, " %d %s", s.ByReason[r], r)
	}
	for _, e := range s.Examples {
		b.WriteString("\n  ")
		b.WriteString(e)
	}
	return b.String()
}

// ReplayOptions say what to precompute for each loaded event.
type ReplayOptions struct {
	// JSON renders the export-file line of every event.
	JSON bool
	// Restamp builds the timestamp template of every event.
	Restamp bool
	// Workloads > 0 spreads the events of containers over that many distinct container
	// workloads (see SpreadWorkloads); host events are kept as they are. 0 replays the
	// recorded container identities.
	Workloads int
}

// Replay is a set of recorded events, pre-encoded once.
type Replay struct {
	Frames  []*Frame
	Skipped SkipStats
	// Spread describes the --workloads rewriting (zero without it).
	Spread SpreadStats

	pending []pendingEvent // events parsed but not yet framed (Workloads > 0)
}

// pendingEvent is a parsed line kept until every file is read.
type pendingEvent struct {
	ev    *tetragon.GetEventsResponse
	where string
}

// LoadReplay reads Tetragon JSON lines (one GetEventsResponse per line, as in Tetragon's export
// file or `tetra getevents -o json`) from files, gzip-compressed when they end in .gz or start
// with the gzip magic. Malformed lines and lines without a known event type are counted and
// skipped; an unreadable file is an error.
func LoadReplay(paths []string, opts ReplayOptions) (*Replay, error) {
	if opts.Workloads < 0 {
		return nil, fmt.Errorf("replay: workloads must be >= 0, got %d", opts.Workloads)
	}
	r := &Replay{}
	for _, p := range paths {
		if err := r.loadFile(p, opts); err != nil {
			return nil, err
		}
	}
	if opts.Workloads > 0 {
		// Units (container processes) are numbered over all files before any is rewritten.
		events := make([]*tetragon.GetEventsResponse, len(r.pending))
		for i, p := range r.pending {
			events[i] = p.ev
		}
		spread, st, err := SpreadWorkloads(events, opts.Workloads)
		if err != nil {
			return nil, fmt.Errorf("replay: %w", err)
		}
		r.Spread = st
		for i, ev := range spread {
			r.addEvent(ev, r.pending[i%len(r.pending)].where, opts)
		}
		r.pending = nil
	}
	return r, nil
}

func (r *Replay) loadFile(path string, opts ReplayOptions) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("replay: %w", err)
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, 1<<20)
	in := br
	if magic, _ := br.Peek(2); strings.HasSuffix(path, ".gz") || bytes.Equal(magic, []byte{0x1f, 0x8b}) {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return fmt.Errorf("replay %s: %w", path, err)
		}
		defer zr.Close()
		in = bufio.NewReaderSize(zr, 1<<20)
	}
	return r.readLines(in, path, opts)
}

func (r *Replay) readLines(br *bufio.Reader, path string, opts ReplayOptions) error {
	var buf []byte
	for lineNo := 1; ; lineNo++ {
		line, n, tooLong, err := readLine(br, &buf)
		if err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("replay %s:%d: %w", path, lineNo, err)
		}
		if len(line) > 0 || tooLong {
			r.addLine(line, tooLong, fmt.Sprintf("%s:%d", path, lineNo), opts)
		}
		if errors.Is(err, io.EOF) || (n == 0 && err != nil) {
			return nil
		}
	}
}

// readLine returns the next line without surrounding space, keeping at most MaxLineBytes of it;
// n is the number of bytes consumed.
func readLine(br *bufio.Reader, buf *[]byte) (line []byte, n int, tooLong bool, err error) {
	*buf = (*buf)[:0]
	for {
		chunk, err := br.ReadSlice('\n')
		n += len(chunk)
		if len(*buf)+len(chunk) > MaxLineBytes {
			tooLong = true
		} else if !tooLong {
			*buf = append(*buf, chunk...)
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if tooLong {
			*buf = (*buf)[:0]
		}
		return bytes.TrimSpace(*buf), n, tooLong, err
	}
}

func (r *Replay) addLine(line []byte, tooLong bool, where string, opts ReplayOptions) {
	if tooLong {
		r.Skipped.add(SkipTooLong, where, fmt.Sprintf("longer than %d bytes", MaxLineBytes))
		return
	}
	ev := &tetragon.GetEventsResponse{}
	if err := jsonUnmarshal.Unmarshal(line, ev); err != nil {
		r.Skipped.add(SkipMalformed, where, err.Error())
		return
	}
	if t, _ := EventTypeOf(ev); t == tetragon.EventType_UNDEF {
		r.Skipped.add(SkipUnknownType, where, "no known event type in "+firstKey(line))
		return
	}
	if opts.Workloads > 0 {
		r.pending = append(r.pending, pendingEvent{ev: ev, where: where})
		return
	}
	r.addEvent(ev, where, opts)
}

// addEvent frames one parsed event; an event that cannot be encoded is counted as malformed.
func (r *Replay) addEvent(ev *tetragon.GetEventsResponse, where string, opts ReplayOptions) {
	// A restamped event's JSON comes from its template; the plain rendering would go unused.
	f, err := NewFrame(ev, opts.JSON && !opts.Restamp)
	if err != nil {
		r.Skipped.add(SkipMalformed, where, err.Error())
		return
	}
	if opts.Restamp {
		if f.stamp, err = newStampTemplate(ev, opts.JSON); err != nil {
			r.Skipped.add(SkipMalformed, where, "restamp: "+err.Error())
			return
		}
	}
	r.Frames = append(r.Frames, f)
}

// firstKey names the first JSON key of a line, to say which unknown type was skipped.
func firstKey(line []byte) string {
	i := bytes.IndexByte(line, '"')
	if i < 0 {
		return "line"
	}
	j := bytes.IndexByte(line[i+1:], '"')
	if j < 0 || j > 64 {
		return "line"
	}
	return fmt.Sprintf("%q", line[i+1:i+1+j])
}
