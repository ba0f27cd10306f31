// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

//go:build chaos

package chaos

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cilium/tetragon/api/v1/tetragon"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/testenv"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/testbed/tetragonsim"
)

// badEvery is how many good events separate two groups of bad inputs.
const badEvery = 300

// decodeErrors reads the receiver's skip counters.
func decodeErrors(m metrics) (malformed, unknown, oversized float64) {
	return m.sum("otelcol_receiver_tetragon_decode_errors", `reason="malformed"`),
		m.sum("otelcol_receiver_tetragon_decode_errors", `reason="unknown_event_type"`),
		m.sum("otelcol_receiver_tetragon_decode_errors", `reason="oversized"`)
}

// waitDecodeErrors waits until the receiver has counted at least the given decode errors by
// reason, and returns that scrape.
func (h *harness) waitDecodeErrors(what string, wantMalformed, wantUnknown, wantOversized int) metrics {
	h.t.Helper()
	var m metrics
	testenv.Eventually(h.t, 30*time.Second, what, func() bool {
		var err error
		if m, err = h.scrape(); err != nil {
			return false
		}
		malformed, unknown, oversized := decodeErrors(m)
		return malformed >= float64(wantMalformed) && unknown >= float64(wantUnknown) && oversized >= float64(wantOversized)
	})
	return m
}

// TestBadLinesFile: in export-file mode, Tetragon's file gets, between its good lines, lines
// that are not JSON, JSON cut in half, a value of the wrong type, event types this API does not
// know (the legacy process_connect; no event at all), blank lines, and one valid 17 MiB event
// over the shipped max_line_bytes (the receiver's default, 1 MiB). Each bad line is counted by
// reason in otelcol_receiver_tetragon_decode_errors (the huge one in oversized_lines too), and
// every good event is stored exactly once.
func TestBadLinesFile(t *testing.T) {
	set := events(t)
	h := newHarness(t, harnessOptions{})
	f := h.ownExportFile()
	h.startCollector()

	now := time.Now().UTC().Format(time.RFC3339Nano)
	badGroup := func(good []byte) (lines [][]byte, malformed, unknown int) {
		lines = [][]byte{
			[]byte(`this is not JSON`),
			good[:len(good)/2],
			[]byte(`{"process_exec":{"process":{"binary":"/bin/sh","pid":"not-a-number"}},"time":"` + now + `"}`),
			[]byte(`{"process_exec":{"process":{"binary":"/bin/sh"`),
			[]byte(`{"process_connect":{"process":{"binary":"/usr/bin/curl"}},"node_name":"chaos","time":"` + now + `"}`),
			[]byte(`{"node_name":"chaos","time":"` + now + `"}`),
			{}, []byte("   "),
		}
		return lines, 4, 2
	}
	// A valid process_exec whose arguments make it 17 MiB.
	huge := []byte(`{"process_exec":{"process":{"binary":"/bin/echo","arguments":"` + strings.Repeat("A", 17<<20) + `"}},"node_name":"chaos","time":"` + now + `"}`)

	w := bufio.NewWriterSize(f, 1<<20)
	var wantMalformed, wantUnknown int
	for i, line := range set.Lines {
		if i > 0 && i%badEvery == 0 {
			bad, m, u := badGroup(set.Lines[i-1])
			for _, b := range bad {
				w.Write(b)
				w.WriteByte('\n')
			}
			wantMalformed += m
			wantUnknown += u
		}
		if i == len(set.Lines)/2 {
			w.Write(huge)
			w.WriteByte('\n')
		}
		w.Write(line)
		w.WriteByte('\n')
		if i%25 == 24 { // ~500 lines/s
			if err := w.Flush(); err != nil {
				t.Fatal(err)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	n := len(set.Keys)
	h.all.waitCount(t, "*", n, 3*time.Minute)
	h.det.settle(t, "*")
	all, det := h.storedTally(set, false)
	m := h.waitDecodeErrors("every bad line counted", wantMalformed, wantUnknown, 1)
	malformed, unknown, oversized := decodeErrors(m)
	oversizedLines := m.sum("otelcol_receiver_tetragon_oversized_lines")
	h.stopCollector()
	peak := h.checkMemory()

	t.Logf("decode_errors: malformed %.0f (wrote %d), unknown_event_type %.0f (wrote %d), oversized %.0f (wrote 1); oversized_lines %.0f",
		malformed, wantMalformed, unknown, wantUnknown, oversized, oversizedLines)
	if malformed != float64(wantMalformed) || unknown != float64(wantUnknown) || oversized != 1 || oversizedLines != 1 {
		t.Errorf("decode_errors malformed %.0f, unknown_event_type %.0f, oversized %.0f, oversized_lines %.0f; want %d, %d, 1, 1",
			malformed, unknown, oversized, oversizedLines, wantMalformed, wantUnknown)
	}
	if all.Distinct != n || all.Duplicates != 0 {
		t.Errorf("good events around the bad lines: %d of %d lost, %d duplicated", n-all.Distinct, n, all.Duplicates)
	}
	record(row{Scenario: "bad lines", Mode: "file", Sent: n, Stored: all.Distinct, Lost: n - all.Distinct,
		Duplicates: all.Duplicates + det.Duplicates, PeakRSSMiB: peak,
		Errors: fmt.Sprintf("decode_errors malformed %.0f/%d, unknown_event_type %.0f/%d, oversized %.0f/1 (17 MiB line)", malformed, wantMalformed, unknown, wantUnknown, oversized)})
}

type frame struct {
	wire       []byte
	endsStream bool // gRPC's receive limit ends the client's stream: wait for it to go
}

// badFrameServer is a Tetragon stand-in that sends a fixed list of frames, good and bad, over
// however many GetEvents streams it takes: a stream that ends picks up where the last one
// stopped (unlike Tetragon, which sends a new client only what happens next), so that the good
// events after a stream-ending frame are all sent once.
type badFrameServer struct {
	tetragon.UnimplementedFineGuidanceSensorsServer
	mu      sync.Mutex
	frames  []frame
	next    int
	streams int
}

func (s *badFrameServer) GetVersion(context.Context, *tetragon.GetVersionRequest) (*tetragon.GetVersionResponse, error) {
	return &tetragon.GetVersionResponse{Version: "v1.7.1-chaos"}, nil
}

func (s *badFrameServer) GetEvents(_ *tetragon.GetEventsRequest, stream tetragon.FineGuidanceSensors_GetEventsServer) error {
	s.mu.Lock()
	s.streams++
	s.mu.Unlock()
	for sent := 0; ; sent++ {
		s.mu.Lock()
		if s.next == len(s.frames) {
			s.mu.Unlock()
			<-stream.Context().Done() // keep the stream open: no disconnect at the end
			return nil
		}
		f := s.frames[s.next]
		s.next++
		s.mu.Unlock()
		// The simulator's codec sends a Frame as its bytes, whatever they are.
		if err := stream.SendMsg(&tetragonsim.Frame{Wire: f.wire}); err != nil {
			return err
		}
		if f.endsStream {
			<-stream.Context().Done()
			return nil
		}
		if sent%10 == 9 { // ~500 frames/s
			time.Sleep(20 * time.Millisecond)
		}
	}
}

func (s *badFrameServer) done() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.next == len(s.frames)
}

// TestBadFramesGRPC: tetragon-sim only sends events it could encode, so this scenario serves
// its own frames on the socket (the tetragon API's gRPC service with the simulator's codec,
// which sends a frame's bytes as they are): between the good events, protobuf that does not
// decode (a field running past the end of the message, a varint that never ends, a string that
// is not UTF-8), messages with no event type this API knows, one 5 MiB event (over the shipped max_event_bytes, 1 MiB: skipped, the stream goes on)
// and one 17 MiB event (over gRPC's receive limit, 16 MiB: gRPC ends the stream,
// the receiver reconnects). Each is counted by reason in decode_errors, the stream is dropped
// once, and every good event is stored exactly once.
func TestBadFramesGRPC(t *testing.T) {
	set := events(t)
	rp, err := tetragonsim.LoadReplay([]string{set.Path}, tetragonsim.ReplayOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rp.Frames) != len(set.Keys) {
		t.Fatalf("replay has %d frames, the set %d events", len(rp.Frames), len(set.Keys))
	}
	h := newHarness(t, harnessOptions{})

	marshal := func(ev *tetragon.GetEventsResponse) []byte {
		b, err := proto.Marshal(ev)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	bigExec := func(size int) []byte {
		return marshal(&tetragon.GetEventsResponse{
			Event: &tetragon.GetEventsResponse_ProcessExec{ProcessExec: &tetragon.ProcessExec{Process: &tetragon.Process{
				Binary: "/bin/echo", Arguments: strings.Repeat("A", size)}}},
			NodeName: "chaos", Time: timestamppb.Now()})
	}
	var wantMalformed, wantUnknown int
	srv := &badFrameServer{}
	for i, fr := range rp.Frames {
		if i > 0 && i%badEvery == 0 {
			good := rp.Frames[i-1].Wire
			srv.frames = append(srv.frames,
				frame{wire: append(bytes.Clone(good), 0x0a, 0x64)}, // field 1, 100 bytes, none follow
				frame{wire: bytes.Repeat([]byte{0xff}, 11)},        // a tag varint that never ends
				frame{wire: protowire.AppendBytes(protowire.AppendTag(bytes.Clone(good), 1000, protowire.BytesType), []byte("\xff\xfe"))},                                    // node_name not UTF-8
				frame{wire: marshal(&tetragon.GetEventsResponse{NodeName: "chaos", Time: timestamppb.Now()})},                                                                // no event
				frame{wire: protowire.AppendBytes(protowire.AppendTag(marshal(&tetragon.GetEventsResponse{NodeName: "chaos"}), 999, protowire.BytesType), []byte("future"))}, // an event type from a newer API
			)
			wantMalformed += 3
			wantUnknown += 2
		}
		switch i {
		case len(rp.Frames) / 3:
			srv.frames = append(srv.frames, frame{wire: bigExec(5 << 20)})
		case 2 * len(rp.Frames) / 3:
			srv.frames = append(srv.frames, frame{wire: bigExec(17 << 20), endsStream: true})
		}
		srv.frames = append(srv.frames, frame{wire: fr.Wire})
	}

	gs := grpc.NewServer(grpc.ForceServerCodecV2(tetragonsim.PassthroughCodec()))
	tetragon.RegisterFineGuidanceSensorsServer(gs, srv)
	l, err := net.Listen("unix", h.sock())
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = gs.Serve(l) }()
	t.Cleanup(gs.Stop)

	h.startCollector()
	testenv.Eventually(t, 2*time.Minute, "every frame sent", srv.done)
	n := len(set.Keys)
	h.all.waitCount(t, "*", n, 3*time.Minute)
	h.det.settle(t, "*")
	all, det := h.storedTally(set, false)
	m := h.waitDecodeErrors("every bad frame counted", wantMalformed, wantUnknown, 2)
	malformed, unknown, oversized := decodeErrors(m)
	disconnects := m.sum("otelcol_receiver_tetragon_grpc_disconnects")
	h.stopCollector()
	peak := h.checkMemory()
	gs.Stop()

	srv.mu.Lock()
	streams := srv.streams
	srv.mu.Unlock()
	t.Logf("decode_errors: malformed %.0f (sent %d), unknown_event_type %.0f (sent %d), oversized %.0f (sent 2); grpc_disconnects %.0f; GetEvents streams %d",
		malformed, wantMalformed, unknown, wantUnknown, oversized, disconnects, streams)
	if malformed != float64(wantMalformed) || unknown != float64(wantUnknown) || oversized != 2 {
		t.Errorf("decode_errors malformed %.0f, unknown_event_type %.0f, oversized %.0f; want %d, %d, 2", malformed, unknown, oversized, wantMalformed, wantUnknown)
	}
	if disconnects != 1 || streams != 2 {
		t.Errorf("grpc_disconnects %.0f over %d streams; only the message over gRPC's receive limit may end a stream", disconnects, streams)
	}
	if all.Distinct != n || all.Duplicates != 0 {
		t.Errorf("good events around the bad frames: %d of %d lost, %d duplicated (stored %s)", n-all.Distinct, n, all.Duplicates, fmtRuns(all.runs()))
	}
	record(row{Scenario: "bad frames", Mode: "gRPC", Sent: n, Stored: all.Distinct, Lost: n - all.Distinct,
		Duplicates: all.Duplicates + det.Duplicates, PeakRSSMiB: peak,
		Errors: fmt.Sprintf("decode_errors malformed %.0f/%d, unknown_event_type %.0f/%d, oversized %.0f/2 (5 MiB skipped, 17 MiB ends the stream); grpc_disconnects %.0f", malformed, wantMalformed, unknown, wantUnknown, oversized, disconnects)})
}
