// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package loadtest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// fetchProfile takes a CPU profile of secs seconds from the collector's pprof extension and writes
// it to dir/name.pprof (dir "" = the temp directory).
func fetchProfile(port, secs int, dir, name string) (string, error) {
	if dir == "" {
		dir = os.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	client := &http.Client{Timeout: time.Duration(secs+30) * time.Second}
	resp, err := client.Get(fmt.Sprintf("http://127.0.0.1:%d/debug/pprof/profile?seconds=%d", port, secs))
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return "", fmt.Errorf("pprof: %s: %s", resp.Status, b)
	}
	path := filepath.Join(dir, name+".pprof")
	f, err := os.Create(path)
	if err != nil {
		return "", err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return "", err
	}
	return path, f.Close()
}

// ProfileTop returns `go tool pprof -top` of a profile: the n heaviest functions by flat time.
func ProfileTop(path string, n int) (string, error) {
	b, err := pprofTop(path, "-flat", n)
	if err != nil {
		return "", err
	}
	var out strings.Builder
	// Generic instantiations make some names hundreds of characters long.
	for _, line := range strings.Split(strings.TrimRight(string(b), "\n"), "\n") {
		if len(line) > 160 {
			line = line[:157] + "..."
		}
		out.WriteString(line)
		out.WriteByte('\n')
	}
	return out.String(), nil
}

func pprofTop(path, mode string, n int) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "tool", "pprof", "-top", mode, fmt.Sprintf("-nodecount=%d", n), path)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	b, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go tool pprof: %v: %s", err, stderr.String())
	}
	return b, nil
}

// Share is the part of the profile's samples spent in (under) one stage of the pipeline.
type Share struct {
	Stage   string
	Percent float64
}

// profileStages name the pipeline's stages by a function that contains all of a stage's work:
// a name ending in suffix (and containing contains). Stages may nest (the JSON body is part of
// the receiver's mapping).
var profileStages = []struct{ stage, contains, suffix string }{
	{"gRPC receive: transport (frames, flow control)", "", "transport.(*http2Client).reader"},
	{"gRPC receive: proto.Unmarshal of the events", "", "google.golang.org/protobuf/proto.Unmarshal"},
	{"gRPC receive: generated decode of the events (tetragonwire)", "", "tetragonwire.Codec.Unmarshal"},
	{"receiver: event → log record (eventmap, incl. body)", "", "eventmap.(*Batch).Add"},
	{"  of which the JSON body", "", "eventmap.marshalEventJSON"},
	{"  of which the map body", "", "eventmap.putStruct"},
	{"export file: JSON decode (file mode)", "", "tetragonjson.DecodeJSON"},
	{"export file: JSON decode with field filters (file mode)", "", "eventmap.(*Decoder).Decode"},
	{"detection processor", "", "detectionprocessor.(*detectionProcessor).processLogs"},
	{"detection_metrics connector", "", "detectionmetricsconnector.(*detectionMetrics).ConsumeLogs"},
	{"fan-out clone of the detection output", "", "fanoutconsumer.cloneLogs"},
	{"batch processor", "batchprocessor.(*shard[", "]).processItem"},
	{"OTLP protobuf marshal", "", "plogotlp.ExportRequest.MarshalProto"},
	{"gzip of the OTLP requests", "", "confighttp.(*compressor).compress"},
	{"gzip of the OTLP requests (gzip_middleware, klauspost/compress)", "", "gzipmiddlewareextension.(*middleware).compress"},
	{"garbage collector (background marking)", "", "runtime.gcBgMarkWorker"},
	{"Go scheduler (finding and waking goroutines)", "", "runtime.schedule"},
}

// ProfileBreakdown returns the cumulative share of each pipeline stage found in the profile.
func ProfileBreakdown(path string) ([]Share, error) {
	b, err := pprofTop(path, "-cum", 100000)
	if err != nil {
		return nil, err
	}
	return breakdown(string(b)), nil
}

// breakdown reads `go tool pprof -top -cum` output.
func breakdown(top string) []Share {
	cum := map[string]float64{}
	for _, line := range strings.Split(top, "\n") {
		f := strings.Fields(line)
		// flat flat% sum% cum cum% name…
		if len(f) < 6 || !strings.HasSuffix(f[4], "%") {
			continue
		}
		var pct float64
		if _, err := fmt.Sscanf(f[4], "%f%%", &pct); err != nil {
			continue
		}
		cum[strings.Join(f[5:], " ")] = pct
	}
	var out []Share
	for _, st := range profileStages {
		var best float64
		for name, pct := range cum {
			if strings.HasSuffix(name, st.suffix) && strings.Contains(name, st.contains) && pct > best {
				best = pct
			}
		}
		if best > 0 {
			out = append(out, Share{Stage: st.stage, Percent: best})
		}
	}
	return out
}
