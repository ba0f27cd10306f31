// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package loadtest

import (
	"bytes"
	"compress/gzip"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang/snappy"
	"github.com/klauspost/compress/zstd"
	"github.com/prometheus/prometheus/prompb"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/attrkey"
)

// makeLogs builds logs spread over resources and scopes; every third record is tagged and every
// fifth has no timestamp. It returns the request and the numbers of records, tagged and timed.
func makeLogs(t *testing.T, resources, scopes, perScope int, ts time.Time) (plogotlp.ExportRequest, int, int, int) {
	t.Helper()
	ld := plog.NewLogs()
	var n, tagged, timed int
	for r := 0; r < resources; r++ {
		rl := ld.ResourceLogs().AppendEmpty()
		rl.Resource().Attributes().PutStr("k8s.node.name", "n")
		for s := 0; s < scopes; s++ {
			sl := rl.ScopeLogs().AppendEmpty()
			sl.Scope().SetName("tetragon")
			for i := 0; i < perScope; i++ {
				lr := sl.LogRecords().AppendEmpty()
				lr.SetEventName("tetragon.process_exec")
				lr.Attributes().PutStr("process.executable.path", "/bin/sh")
				lr.Body().SetEmptyMap().PutStr("x", strings.Repeat("y", 100))
				if n%3 == 0 {
					lr.Attributes().PutStr(attrkey.RuleName, "reverse_shell")
					tagged++
				}
				if n%5 != 0 {
					lr.SetTimestamp(pcommon.NewTimestampFromTime(ts))
					timed++
				}
				lr.SetObservedTimestamp(pcommon.NewTimestampFromTime(ts))
				n++
			}
		}
	}
	return plogotlp.NewExportRequestFromLogs(ld), n, tagged, timed
}

func TestWalkLogsRequestAgreesWithPlogotlp(t *testing.T) {
	ts := time.Now().Add(-250 * time.Millisecond)
	for _, shape := range [][3]int{{1, 1, 1}, {2, 3, 7}, {5, 1, 100}, {0, 0, 0}} {
		req, n, tagged, timed := makeLogs(t, shape[0], shape[1], shape[2], ts)
		b, err := req.MarshalProto()
		if err != nil {
			t.Fatal(err)
		}
		arrival := ts.Add(250 * time.Millisecond)
		sum, err := walkLogsRequest(b, arrival.UnixNano())
		if err != nil {
			t.Fatal(err)
		}
		if sum.records != n || sum.records != req.Logs().LogRecordCount() {
			t.Errorf("%v: walker counted %d records, plogotlp %d, built %d", shape, sum.records, req.Logs().LogRecordCount(), n)
		}
		if sum.detected != tagged || sum.rules["reverse_shell"] != tagged || len(sum.rules) > 1 {
			t.Errorf("%v: walker counted %d tagged (%v), want %d reverse_shell", shape, sum.detected, sum.rules, tagged)
		}
		if len(sum.latencies) != timed {
			t.Errorf("%v: %d latencies, want %d (records without Timestamp have none)", shape, len(sum.latencies), timed)
		}
		for _, l := range sum.latencies {
			if l != (250 * time.Millisecond).Nanoseconds() {
				t.Fatalf("latency %v, want 250ms", time.Duration(l))
			}
		}
	}
	if _, err := walkLogsRequest([]byte{0x0a, 0x05, 0x01}, 0); err == nil {
		t.Error("truncated request: no error")
	}
}

func post(t *testing.T, url, encoding string, body []byte) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-protobuf")
	if encoding != "" {
		req.Header.Set("Content-Encoding", encoding)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func gz(t *testing.T, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	w.Write(b)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestLogsSinkCountsAndLatency(t *testing.T) {
	s, err := NewLogsSink()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.Verify = true
	ts := time.Now().Add(-100 * time.Millisecond)
	req, n, tagged, timed := makeLogs(t, 2, 2, 25, ts)
	b, _ := req.MarshalProto()
	if code := post(t, s.Endpoint(), "gzip", gz(t, b)); code != http.StatusOK {
		t.Fatalf("gzip post: %d", code)
	}
	if code := post(t, s.Endpoint(), "", b); code != http.StatusOK {
		t.Fatalf("plain post: %d", code)
	}
	if code := post(t, s.DetectionsEndpoint(), "", b); code != http.StatusOK {
		t.Fatalf("detections post: %d", code)
	}
	zw, _ := zstd.NewWriter(nil)
	if code := post(t, s.Endpoint(), "zstd", zw.EncodeAll(b, nil)); code != http.StatusOK {
		t.Fatalf("zstd post: %d", code)
	}
	if code := post(t, s.Endpoint(), "br", b); code != http.StatusBadRequest {
		t.Errorf("unsupported encoding: %d, want 400", code)
	}
	if code := post(t, s.Endpoint(), "", []byte{0x0a, 0xff}); code != http.StatusBadRequest {
		t.Errorf("garbage: %d, want 400", code)
	}
	if got := s.Records(); got != int64(3*n) {
		t.Errorf("Records = %d, want %d", got, 3*n)
	}
	if got := s.Detected(); got != int64(3*tagged) {
		t.Errorf("Detected = %d, want %d", got, 3*tagged)
	}
	if got := s.Rules(); len(got) != 1 || got["reverse_shell"] != 3*tagged {
		t.Errorf("Rules = %v, want reverse_shell: %d", got, 3*tagged)
	}
	if got := s.DetectionsOnly(); got != int64(n) {
		t.Errorf("DetectionsOnly = %d, want %d", got, n)
	}
	if s.BadRequests() != 2 || s.Requests() != 4 {
		t.Errorf("requests %d bad %d, want 4 and 2", s.Requests(), s.BadRequests())
	}
	if err := s.VerifyError(); err != nil {
		t.Error(err)
	}
	lat := s.Latency(time.Time{}, time.Time{})
	if lat.Count != 3*timed || lat.P50ms < 100 || lat.P99ms > 10_000 || lat.MaxMs < lat.P99ms {
		t.Errorf("latency %+v: want %d samples, p50 ≥ 100ms", lat, 3*timed)
	}
	if s.FirstArrival().IsZero() || s.LastArrival().Before(s.FirstArrival()) {
		t.Error("arrival times not recorded")
	}
	if l := s.Latency(time.Now().Add(time.Hour), time.Time{}); l.Count != 0 {
		t.Errorf("window in the future selected %d samples", l.Count)
	}
}

func TestPercentile(t *testing.T) {
	xs := make([]int64, 100)
	for i := range xs {
		xs[i] = int64(i + 1)
	}
	for _, c := range []struct {
		p    float64
		want int64
	}{{0.5, 50}, {0.99, 99}, {1, 100}, {0.001, 1}} {
		if got := percentile(xs, c.p); got != c.want {
			t.Errorf("p%v = %d, want %d", c.p, got, c.want)
		}
	}
	if st := summarize([]int64{3e6, 1e6, 2e6}); st.P50ms != 2 || st.MaxMs != 3 || st.Count != 3 {
		t.Errorf("summarize: %+v", st)
	}
}

func TestRemoteWriteSink(t *testing.T) {
	s, err := NewRemoteWriteSink()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	series := func(name, rule string, ts int64, v float64) prompb.TimeSeries {
		return prompb.TimeSeries{
			Labels:  []prompb.Label{{Name: "__name__", Value: name}, {Name: "rule", Value: rule}},
			Samples: []prompb.Sample{{Timestamp: ts, Value: v}},
		}
	}
	send := func(wr *prompb.WriteRequest) int {
		b, err := wr.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		return post(t, s.Endpoint(), "snappy", snappy.Encode(nil, b))
	}
	if c := send(&prompb.WriteRequest{Timeseries: []prompb.TimeSeries{
		series("runtime_security_events_total", "", 1000, 10),
		series("runtime_security_detections_total", "a", 1000, 1),
		series("runtime_security_detections_total", "b", 1000, 2),
	}}); c != http.StatusNoContent {
		t.Fatalf("write: %d", c)
	}
	// A later sample replaces the earlier one; an older one does not.
	send(&prompb.WriteRequest{Timeseries: []prompb.TimeSeries{
		series("runtime_security_events_total", "", 2000, 25),
		series("runtime_security_detections_total", "a", 500, 99),
	}})
	if got, ok := s.Sum("runtime_security_events_total"); !ok || got != 25 {
		t.Errorf("events total = %v %v, want 25", got, ok)
	}
	if got, _ := s.Sum("runtime_security_detections_total"); got != 3 {
		t.Errorf("detections total = %v, want 3 (latest of each series)", got)
	}
	if _, ok := s.Sum("nope"); ok {
		t.Error("unknown metric found")
	}
	if s.Samples() != 5 || s.Requests() != 2 || s.Series() != 3 {
		t.Errorf("samples %d requests %d series %d", s.Samples(), s.Requests(), s.Series())
	}
	if got := strings.Join(s.Names(), ","); got != "runtime_security_detections_total,runtime_security_events_total" {
		t.Errorf("names %s", got)
	}
	if c := post(t, s.Endpoint(), "snappy", []byte("not snappy")); c != http.StatusBadRequest || s.BadRequests() != 1 {
		t.Errorf("garbage: %d, bad %d", c, s.BadRequests())
	}
}
