// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package loadtest

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/klauspost/compress/zstd"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/attrkey"
)

// LogsPath is where the OTLP sink counts delivered records; DetectionsPath is a second logs
// endpoint for a detections-only exporter (the shipped config has one), counted apart so that
// detections are not counted twice as delivered events.
const (
	LogsPath       = "/v1/logs"
	DetectionsPath = "/detections/v1/logs"
	// alertsPath is Alertmanager's API v2, where the alertmanager exporter posts.
	alertsPath = "/api/v2/alerts"
)

// LogsSink is an OTLP/HTTP logs server on loopback. For every request it counts the log records,
// the records a rule tagged (attribute security_rule.name) and, per record, the latency from the
// record's Timestamp (the Tetragon event time) to the arrival of the request.
//
// It reads the protobuf with protowire instead of building pdata: at 10,000 events/s a full
// plogotlp decode of every record (with its body map) would take a good part of a core from the
// collector it measures on a 2-core machine. Verify turns on a plogotlp decode of every request
// as a cross-check (the smoke test uses it); sink_test proves both agree.
type LogsSink struct {
	Verify bool

	srv      *http.Server
	addr     string
	start    time.Time
	records  atomic.Int64
	detected atomic.Int64
	requests atomic.Int64
	other    atomic.Int64 // records posted to DetectionsPath
	badReqs  atomic.Int64
	alerts   atomic.Int64 // alert posts received on alertsPath

	mu        sync.Mutex
	arrivals  []int64 // ns since start, one per timed record
	latencies []int64 // ns, parallel to arrivals
	first     time.Time
	last      time.Time
	verifyErr error
	rules     map[string]int // security_rule.name → records

	gz sync.Pool
}

// NewLogsSink listens on 127.0.0.1 (a free port) and serves until Close.
func NewLogsSink() (*LogsSink, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &LogsSink{addr: l.Addr().String(), start: time.Now(), rules: map[string]int{}}
	mux := http.NewServeMux()
	mux.HandleFunc(LogsPath, func(w http.ResponseWriter, r *http.Request) { s.handle(w, r, false) })
	mux.HandleFunc(DetectionsPath, func(w http.ResponseWriter, r *http.Request) { s.handle(w, r, true) })
	// The alertmanager exporter's posts are accepted and counted: the load test measures the
	// collector with every shipped exporter working, not one retrying an unreachable default.
	mux.HandleFunc(alertsPath, func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		s.alerts.Add(1)
		w.WriteHeader(http.StatusOK)
	})
	s.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = s.srv.Serve(l) }()
	return s, nil
}

// Endpoint is the logs_endpoint URL for an otlp_http exporter.
func (s *LogsSink) Endpoint() string { return "http://" + s.addr + LogsPath }

// DetectionsEndpoint is the URL for a second, detections-only otlp_http exporter.
func (s *LogsSink) DetectionsEndpoint() string { return "http://" + s.addr + DetectionsPath }

// AlertmanagerEndpoint is the base URL for the alertmanager exporter.
func (s *LogsSink) AlertmanagerEndpoint() string { return "http://" + s.addr }

// AlertPosts is the number of alert requests the alertmanager exporter posted.
func (s *LogsSink) AlertPosts() int64 { return s.alerts.Load() }

// Close stops the server.
func (s *LogsSink) Close() error { return s.srv.Close() }

// Records is the number of log records received on LogsPath so far.
func (s *LogsSink) Records() int64 { return s.records.Load() }

// Detected is the number of those records carrying security_rule.name.
func (s *LogsSink) Detected() int64 { return s.detected.Load() }

// Rules counts the delivered records per security_rule.name.
func (s *LogsSink) Rules() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int, len(s.rules))
	for k, v := range s.rules {
		out[k] = v
	}
	return out
}

// DetectionsOnly is the number of records received on DetectionsPath.
func (s *LogsSink) DetectionsOnly() int64 { return s.other.Load() }

// Requests is the number of export requests decoded.
func (s *LogsSink) Requests() int64 { return s.requests.Load() }

// BadRequests counts requests the sink could not read or decode.
func (s *LogsSink) BadRequests() int64 { return s.badReqs.Load() }

// VerifyError is the first disagreement between the protowire count and plogotlp (Verify only).
func (s *LogsSink) VerifyError() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.verifyErr
}

// FirstArrival is when the first record arrived (zero before).
func (s *LogsSink) FirstArrival() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.first
}

// LastArrival is when the latest record arrived.
func (s *LogsSink) LastArrival() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.last
}

// Latency summarises the latencies of the records that arrived in [from, to) (zero times: all).
func (s *LogsSink) Latency(from, to time.Time) LatencyStats {
	s.mu.Lock()
	var lat []int64
	lo, hi := int64(-1<<63), int64(1<<63-1)
	if !from.IsZero() {
		lo = from.Sub(s.start).Nanoseconds()
	}
	if !to.IsZero() {
		hi = to.Sub(s.start).Nanoseconds()
	}
	for i, a := range s.arrivals {
		if a >= lo && a < hi {
			lat = append(lat, s.latencies[i])
		}
	}
	s.mu.Unlock()
	return summarize(lat)
}

// LatencyStats are percentiles of event-to-sink latency in milliseconds.
type LatencyStats struct {
	Count int     `json:"count"`
	P50ms float64 `json:"p50_ms"`
	P90ms float64 `json:"p90_ms"`
	P99ms float64 `json:"p99_ms"`
	MaxMs float64 `json:"max_ms"`
}

func summarize(lat []int64) LatencyStats {
	if len(lat) == 0 {
		return LatencyStats{}
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	ms := func(ns int64) float64 { return float64(ns) / 1e6 }
	return LatencyStats{
		Count: len(lat),
		P50ms: ms(percentile(lat, 0.50)),
		P90ms: ms(percentile(lat, 0.90)),
		P99ms: ms(percentile(lat, 0.99)),
		MaxMs: ms(lat[len(lat)-1]),
	}
}

// percentile of sorted xs by the nearest-rank method.
func percentile(sorted []int64, p float64) int64 {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(p*float64(len(sorted))+0.999999999) - 1
	rank = max(0, min(rank, len(sorted)-1))
	return sorted[rank]
}

func (s *LogsSink) handle(w http.ResponseWriter, r *http.Request, detectionsOnly bool) {
	if r.Method != http.MethodPost {
		http.Error(w, "POST only", http.StatusMethodNotAllowed)
		return
	}
	body, err := s.readBody(r)
	arrival := time.Now()
	if err != nil {
		s.badReqs.Add(1)
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	sum, err := walkLogsRequest(body, arrival.UnixNano())
	if err != nil {
		s.badReqs.Add(1)
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	s.requests.Add(1)
	if s.Verify {
		s.verify(body, sum)
	}
	if detectionsOnly {
		s.other.Add(int64(sum.records))
	} else {
		s.mu.Lock()
		if s.first.IsZero() {
			s.first = arrival
		}
		s.last = arrival
		at := arrival.Sub(s.start).Nanoseconds()
		for _, l := range sum.latencies {
			s.arrivals = append(s.arrivals, at)
			s.latencies = append(s.latencies, l)
		}
		for r, n := range sum.rules {
			s.rules[r] += n
		}
		s.mu.Unlock()
		s.records.Add(int64(sum.records))
		s.detected.Add(int64(sum.detected))
	}
	w.Header().Set("Content-Type", "application/x-protobuf")
	w.WriteHeader(http.StatusOK) // an empty ExportLogsServiceResponse is zero bytes
}

func (s *LogsSink) readBody(r *http.Request) ([]byte, error) {
	defer r.Body.Close()
	var src io.Reader = r.Body
	switch r.Header.Get("Content-Encoding") {
	case "", "identity":
	case "gzip":
		zr, _ := s.gz.Get().(*gzip.Reader)
		if zr == nil {
			var err error
			if zr, err = gzip.NewReader(r.Body); err != nil {
				return nil, err
			}
		} else if err := zr.Reset(r.Body); err != nil {
			return nil, err
		}
		defer s.gz.Put(zr)
		src = zr
	case "zstd":
		zr, err := zstd.NewReader(r.Body, zstd.WithDecoderConcurrency(1))
		if err != nil {
			return nil, err
		}
		defer zr.Close()
		src = zr
	default:
		return nil, fmt.Errorf("unsupported Content-Encoding %q (use gzip, zstd or none)", r.Header.Get("Content-Encoding"))
	}
	var buf bytes.Buffer
	if r.ContentLength > 0 {
		buf.Grow(int(r.ContentLength) * 4)
	}
	if _, err := buf.ReadFrom(src); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func (s *LogsSink) verify(body []byte, sum requestSummary) {
	req := plogotlp.NewExportRequest()
	err := req.UnmarshalProto(body)
	if err == nil {
		logs := req.Logs()
		var detected int
		for i := 0; i < logs.ResourceLogs().Len(); i++ {
			sls := logs.ResourceLogs().At(i).ScopeLogs()
			for j := 0; j < sls.Len(); j++ {
				lrs := sls.At(j).LogRecords()
				for k := 0; k < lrs.Len(); k++ {
					if _, ok := lrs.At(k).Attributes().Get(attrkey.RuleName); ok {
						detected++
					}
				}
			}
		}
		switch {
		case logs.LogRecordCount() != sum.records:
			err = fmt.Errorf("protowire counted %d records, plogotlp %d", sum.records, logs.LogRecordCount())
		case detected != sum.detected:
			err = fmt.Errorf("protowire counted %d detections, plogotlp %d", sum.detected, detected)
		}
	}
	if err != nil {
		s.mu.Lock()
		if s.verifyErr == nil {
			s.verifyErr = err
		}
		s.mu.Unlock()
	}
}

// requestSummary is what walkLogsRequest finds in one ExportLogsServiceRequest.
type requestSummary struct {
	records   int
	detected  int
	latencies []int64 // arrival - time_unix_nano of each record that has a time
	rules     map[string]int
}

// Field numbers of opentelemetry/proto/logs/v1 and collector/logs/v1.
const (
	fieldRequestResourceLogs = 1 // ExportLogsServiceRequest.resource_logs
	fieldResourceScopeLogs   = 2 // ResourceLogs.scope_logs
	fieldScopeLogRecords     = 2 // ScopeLogs.log_records
	fieldRecordTime          = 1 // LogRecord.time_unix_nano (fixed64)
	fieldRecordAttributes    = 6 // LogRecord.attributes (KeyValue)
	fieldKeyValueKey         = 1 // KeyValue.key
	fieldKeyValueValue       = 2 // KeyValue.value (AnyValue)
	fieldAnyValueString      = 1 // AnyValue.string_value
)

var errTruncated = errors.New("truncated protobuf")

var ruleNameKey = []byte(attrkey.RuleName)

// walkLogsRequest counts the records of an ExportLogsServiceRequest without decoding them.
func walkLogsRequest(b []byte, arrivalNs int64) (requestSummary, error) {
	var sum requestSummary
	err := eachField(b, func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) error {
		if num != fieldRequestResourceLogs || typ != protowire.BytesType {
			return nil
		}
		return eachField(v, func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) error {
			if num != fieldResourceScopeLogs || typ != protowire.BytesType {
				return nil
			}
			return eachField(v, func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) error {
				if num != fieldScopeLogRecords || typ != protowire.BytesType {
					return nil
				}
				sum.records++
				var ts uint64
				var tagged bool
				err := eachField(v, func(num protowire.Number, typ protowire.Type, v []byte, fixed uint64) error {
					switch {
					case num == fieldRecordTime && typ == protowire.Fixed64Type:
						ts = fixed
					case num == fieldRecordAttributes && typ == protowire.BytesType && !tagged:
						var isRule bool
						var value []byte
						err := eachField(v, func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) error {
							switch {
							case num == fieldKeyValueKey && typ == protowire.BytesType:
								isRule = bytes.Equal(v, ruleNameKey)
							case num == fieldKeyValueValue && typ == protowire.BytesType:
								value = v
							}
							return nil
						})
						if err != nil || !isRule {
							return err
						}
						tagged = true
						return eachField(value, func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) error {
							if num == fieldAnyValueString && typ == protowire.BytesType {
								if sum.rules == nil {
									sum.rules = map[string]int{}
								}
								sum.rules[string(v)]++
							}
							return nil
						})
					}
					return nil
				})
				if tagged {
					sum.detected++
				}
				if ts > 0 {
					sum.latencies = append(sum.latencies, arrivalNs-int64(ts))
				}
				return err
			})
		})
	})
	return sum, err
}

// eachField calls fn for every field of the message b: v is the payload of a length-delimited
// field, fixed the value of a fixed64 field.
func eachField(b []byte, fn func(num protowire.Number, typ protowire.Type, v []byte, fixed uint64) error) error {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return errTruncated
		}
		b = b[n:]
		var v []byte
		var fixed uint64
		switch typ {
		case protowire.BytesType:
			v, n = protowire.ConsumeBytes(b)
		case protowire.Fixed64Type:
			fixed, n = protowire.ConsumeFixed64(b)
		default:
			n = protowire.ConsumeFieldValue(num, typ, b)
		}
		if n < 0 {
			return errTruncated
		}
		b = b[n:]
		if err := fn(num, typ, v, fixed); err != nil {
			return err
		}
	}
	return nil
}
