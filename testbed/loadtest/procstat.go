// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package loadtest

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// userHZ is the unit of utime/stime in /proc/<pid>/stat. The kernel exports these in USER_HZ,
// which is 100 on every Linux architecture Go supports (sysconf(_SC_CLK_TCK) returns it; Go has
// no cgo-free way to ask).
const userHZ = 100

// ProcSample is one reading of a process's CPU time and memory.
type ProcSample struct {
	At  time.Time
	CPU time.Duration // user + system, all threads
	RSS uint64        // bytes, VmRSS
	HWM uint64        // bytes, VmHWM (peak RSS)
}

// ReadProc reads /proc/<pid>/stat and /proc/<pid>/status.
func ReadProc(pid int) (ProcSample, error) {
	s := ProcSample{At: time.Now()}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return s, err
	}
	if s.CPU, err = parseStatCPU(stat); err != nil {
		return s, err
	}
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return s, err
	}
	s.RSS, s.HWM = parseStatusMem(status)
	return s, nil
}

// parseStatCPU returns utime+stime of a /proc/<pid>/stat line. The command name (field 2) is in
// parentheses and may contain spaces, so fields are counted after the last ')'.
func parseStatCPU(stat []byte) (time.Duration, error) {
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, fmt.Errorf("malformed /proc stat: %q", stat)
	}
	f := strings.Fields(string(stat[i+1:]))
	// f[0] is field 3 (state): utime is field 14, stime field 15.
	if len(f) < 13 {
		return 0, fmt.Errorf("malformed /proc stat: %d fields", len(f))
	}
	ut, err1 := strconv.ParseUint(f[11], 10, 64)
	st, err2 := strconv.ParseUint(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("malformed /proc stat times %q %q", f[11], f[12])
	}
	return time.Duration(ut+st) * time.Second / userHZ, nil
}

// parseStatusMem returns VmRSS and VmHWM in bytes.
func parseStatusMem(status []byte) (rss, hwm uint64) {
	sc := bufio.NewScanner(bytes.NewReader(status))
	for sc.Scan() {
		line := sc.Text()
		var dst *uint64
		switch {
		case strings.HasPrefix(line, "VmRSS:"):
			dst = &rss
		case strings.HasPrefix(line, "VmHWM:"):
			dst = &hwm
		default:
			continue
		}
		f := strings.Fields(line)
		if len(f) >= 2 {
			if kb, err := strconv.ParseUint(f[1], 10, 64); err == nil {
				*dst = kb * 1024
			}
		}
	}
	return rss, hwm
}

// selfCPU is the CPU time (user + system, all threads) of this process so far.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// Telemetry reads the collector's own Prometheus metrics endpoint.
type Telemetry struct {
	URL    string
	client *http.Client
}

// NewTelemetry reads http://127.0.0.1:port/metrics.
func NewTelemetry(port int) *Telemetry {
	return &Telemetry{URL: fmt.Sprintf("http://127.0.0.1:%d/metrics", port), client: &http.Client{Timeout: 5 * time.Second}}
}

// Ready reports whether the endpoint answers.
func (t *Telemetry) Ready() bool {
	_, err := t.Scrape()
	return err == nil
}

// Counters are the pipeline counters of interest, summed over all receivers / exporters.
type Counters struct {
	Accepted     float64 `json:"receiver_accepted"`
	Refused      float64 `json:"receiver_refused"`
	Failed       float64 `json:"receiver_failed"`
	Sent         float64 `json:"exporter_sent"`
	SendFailed   float64 `json:"exporter_send_failed"`
	DecodeErrors float64 `json:"receiver_decode_errors"`
	// Profiles is the workload_profile processor's telemetry (Result.Profiles), when it runs.
	Profiles ProfileTelemetry `json:"-"`
}

// ProfileTelemetry is what the workload_profile processor reports about its profiles
// (otelcol_processor_workload_profile_*), summed over instances.
type ProfileTelemetry struct {
	present bool
	// Workloads counts profiles per state (learning, enforcing, file).
	Workloads map[string]float64 `json:"workloads_by_state"`
	// Items held by all active profiles, and by the largest.
	Items        float64 `json:"items"`
	LargestItems float64 `json:"largest_items"`
	// Overflow is items the learned profiles could not keep (all lists).
	Overflow float64 `json:"overflow_items"`
	// Novelties are records an enforcing or file profile found novel, per kind.
	Novelties map[string]float64 `json:"novelties_by_kind,omitempty"`
	// Unprofiled records: their workload was beyond limits.max_workloads.
	Unprofiled    float64 `json:"unprofiled_records"`
	StorageErrors float64 `json:"storage_errors"`
}

// Profiled is the number of profiles in any state.
func (p ProfileTelemetry) Profiled() float64 {
	var n float64
	for _, v := range p.Workloads {
		n += v
	}
	return n
}

// Scrape returns the summed counters.
func (t *Telemetry) Scrape() (Counters, error) {
	resp, err := t.client.Get(t.URL)
	if err != nil {
		return Counters{}, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return Counters{}, fmt.Errorf("GET %s: %s", t.URL, resp.Status)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return Counters{}, err
	}
	return parseCounters(string(body)), nil
}

func parseCounters(text string) Counters {
	var c Counters
	for _, line := range strings.Split(text, "\n") {
		if line == "" || line[0] == '#' {
			continue
		}
		name := line
		if i := strings.IndexAny(line, "{ "); i >= 0 {
			name = line[:i]
		}
		if metric, ok := strings.CutPrefix(name, "otelcol_processor_workload_profile_"); ok {
			f := strings.Fields(line)
			if v, err := strconv.ParseFloat(f[len(f)-1], 64); err == nil {
				c.Profiles.add(strings.TrimSuffix(metric, "_total"), line, v)
			}
			continue
		}
		var dst *float64
		switch name {
		case "otelcol_receiver_accepted_log_records_total", "otelcol_receiver_accepted_log_records":
			dst = &c.Accepted
		case "otelcol_receiver_refused_log_records_total", "otelcol_receiver_refused_log_records":
			dst = &c.Refused
		case "otelcol_receiver_failed_log_records_total", "otelcol_receiver_failed_log_records":
			dst = &c.Failed
		case "otelcol_exporter_sent_log_records_total", "otelcol_exporter_sent_log_records":
			if !strings.Contains(line, `exporter="otlp_http/logs"`) {
				continue
			}
			dst = &c.Sent
		case "otelcol_exporter_send_failed_log_records_total", "otelcol_exporter_send_failed_log_records":
			dst = &c.SendFailed
		case "otelcol_receiver_tetragon_decode_errors_total", "otelcol_receiver_tetragon_decode_errors":
			dst = &c.DecodeErrors
		default:
			continue
		}
		f := strings.Fields(line)
		if v, err := strconv.ParseFloat(f[len(f)-1], 64); err == nil {
			*dst += v
		}
	}
	return c
}

// add sums the value v of a workload_profile metric (its name without prefix and _total) found
// on line.
func (p *ProfileTelemetry) add(metric, line string, v float64) {
	byLabel := func(m *map[string]float64, label string) {
		if *m == nil {
			*m = map[string]float64{}
		}
		(*m)[labelValue(line, label)] += v
	}
	switch metric {
	case "workloads":
		byLabel(&p.Workloads, "state")
	case "items":
		p.Items += v
	case "largest_items":
		p.LargestItems = max(p.LargestItems, v)
	case "overflow_items":
		p.Overflow += v
	case "novelties":
		byLabel(&p.Novelties, "kind")
	case "unprofiled_records":
		p.Unprofiled += v
	case "storage_errors":
		p.StorageErrors += v
	default:
		return
	}
	p.present = true
}

// labelValue is the value of label in a Prometheus exposition line ("" when absent).
func labelValue(line, label string) string {
	i := strings.Index(line, "{"+label+`="`)
	if i < 0 {
		i = strings.Index(line, ","+label+`="`)
	}
	if i < 0 {
		return ""
	}
	rest := line[i+len(label)+3:]
	if j := strings.IndexByte(rest, '"'); j >= 0 {
		return rest[:j]
	}
	return ""
}

// loadAverage is the 1-minute load average of the machine (0 if unreadable).
func loadAverage() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 0
	}
	v, _ := strconv.ParseFloat(f[0], 64)
	return v
}
