// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package loadtest

import (
	"errors"
	"runtime"
	"time"

	"github.com/cilium/tetragon/api/v1/tetragon"
	"google.golang.org/protobuf/proto"
)

// DecodeFloor is the cost of the least any Tetragon consumer must do per event: proto.Unmarshal
// of the GetEventsResponse wire bytes into the generated Go type, nothing else.
type DecodeFloor struct {
	Events         int     `json:"distinct_events"`
	Decoded        int64   `json:"decoded"`
	CPUNsPerEvent  float64 `json:"cpu_ns_per_event"`
	WallNsPerEvent float64 `json:"wall_ns_per_event"`
	WireBytes      float64 `json:"wire_bytes_per_event"`
}

// MeasureDecodeFloor decodes the events over and over, each into a new message as a streaming
// consumer would, in floorRounds rounds of about budget/floorRounds of CPU time each, and returns
// the process CPU time (user + system, so garbage collection is included) per event of the
// cheapest round: noise from the rest of the machine only ever adds, so the minimum is the
// steadiest estimate, and the lowest floor is the strictest one to compare with. Run it while
// nothing else in this process is busy.
func MeasureDecodeFloor(wires [][]byte, budget time.Duration) (DecodeFloor, error) {
	if len(wires) == 0 {
		return DecodeFloor{}, errors.New("no events to decode")
	}
	var total int
	for _, w := range wires {
		total += len(w)
	}
	// Warm up (and fail early on bad input).
	for _, w := range wires {
		if err := proto.Unmarshal(w, &tetragon.GetEventsResponse{}); err != nil {
			return DecodeFloor{}, err
		}
	}
	best := DecodeFloor{Events: len(wires), WireBytes: float64(total) / float64(len(wires))}
	for range floorRounds {
		runtime.GC()
		startCPU, start := selfCPU(), time.Now()
		var n int64
		for selfCPU()-startCPU < budget/floorRounds {
			for _, w := range wires {
				ev := &tetragon.GetEventsResponse{}
				if err := proto.Unmarshal(w, ev); err != nil {
					return DecodeFloor{}, err
				}
				n++
			}
		}
		cpu, wall := selfCPU()-startCPU, time.Since(start)
		best.Decoded += n
		perEvent := float64(cpu.Nanoseconds()) / float64(n)
		if best.CPUNsPerEvent == 0 || perEvent < best.CPUNsPerEvent {
			best.CPUNsPerEvent = perEvent
			best.WallNsPerEvent = float64(wall.Nanoseconds()) / float64(n)
		}
	}
	return best, nil
}

const floorRounds = 5
