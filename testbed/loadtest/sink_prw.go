// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package loadtest

import (
	"io"
	"net"
	"net/http"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/golang/snappy"
	"github.com/prometheus/prometheus/prompb"
)

// RemoteWriteSink is a Prometheus remote-write (v1: snappy-compressed prompb.WriteRequest)
// receiver on loopback. It keeps the latest sample of every series, so that the final value of a
// cumulative counter such as runtime_security_events_total can be compared with the events sent.
type RemoteWriteSink struct {
	srv      *http.Server
	addr     string
	requests atomic.Int64
	samples  atomic.Int64
	badReqs  atomic.Int64

	mu     sync.Mutex
	latest map[string]seriesValue // labels → latest sample
}

type seriesValue struct {
	name  string
	ts    int64
	value float64
}

// NewRemoteWriteSink listens on 127.0.0.1 (a free port) and serves until Close.
func NewRemoteWriteSink() (*RemoteWriteSink, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &RemoteWriteSink{addr: l.Addr().String(), latest: map[string]seriesValue{}}
	mux := http.NewServeMux()
	mux.HandleFunc("/api/v1/write", s.handle)
	s.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = s.srv.Serve(l) }()
	return s, nil
}

// Endpoint is the URL for a prometheus_remote_write exporter.
func (s *RemoteWriteSink) Endpoint() string { return "http://" + s.addr + "/api/v1/write" }

// Close stops the server.
func (s *RemoteWriteSink) Close() error { return s.srv.Close() }

// Requests is the number of write requests decoded.
func (s *RemoteWriteSink) Requests() int64 { return s.requests.Load() }

// Samples is the number of samples received.
func (s *RemoteWriteSink) Samples() int64 { return s.samples.Load() }

// BadRequests counts requests that could not be decompressed or decoded.
func (s *RemoteWriteSink) BadRequests() int64 { return s.badReqs.Load() }

// Series is the number of distinct series seen.
func (s *RemoteWriteSink) Series() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.latest)
}

// Sum adds up the latest value of every series named name (e.g. runtime_security_events_total).
func (s *RemoteWriteSink) Sum(name string) (float64, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var sum float64
	var found bool
	for _, v := range s.latest {
		if v.name == name {
			sum += v.value
			found = true
		}
	}
	return sum, found
}

// Names lists the metric names seen.
func (s *RemoteWriteSink) Names() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	seen := map[string]bool{}
	for _, v := range s.latest {
		seen[v.name] = true
	}
	out := make([]string, 0, len(seen))
	for n := range seen {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

func (s *RemoteWriteSink) handle(w http.ResponseWriter, r *http.Request) {
	defer r.Body.Close()
	compressed, err := io.ReadAll(r.Body)
	if err != nil {
		s.badReqs.Add(1)
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	raw, err := snappy.Decode(nil, compressed)
	if err != nil {
		s.badReqs.Add(1)
		http.Error(w, "snappy: "+err.Error(), http.StatusBadRequest)
		return
	}
	var req prompb.WriteRequest
	if err := req.Unmarshal(raw); err != nil {
		s.badReqs.Add(1)
		http.Error(w, "prompb: "+err.Error(), http.StatusBadRequest)
		return
	}
	s.requests.Add(1)
	var n int64
	s.mu.Lock()
	var key strings.Builder
	for _, ts := range req.Timeseries {
		key.Reset()
		var name string
		for _, l := range ts.Labels {
			if l.Name == "__name__" {
				name = l.Value
			}
			key.WriteString(l.Name)
			key.WriteByte('=')
			key.WriteString(l.Value)
			key.WriteByte(',')
		}
		for _, smp := range ts.Samples {
			n++
			k := key.String()
			if cur, ok := s.latest[k]; !ok || smp.Timestamp >= cur.ts {
				s.latest[k] = seriesValue{name: name, ts: smp.Timestamp, value: smp.Value}
			}
		}
	}
	s.mu.Unlock()
	s.samples.Add(n)
	w.WriteHeader(http.StatusNoContent)
}
