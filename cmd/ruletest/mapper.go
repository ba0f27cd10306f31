package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/cilium/tetragon/api/v1/tetragon"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/receiver"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	tracenoop "go.opentelemetry.io/otel/trace/noop"
	"go.uber.org/zap"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/receiver/tetragonreceiver"
)

// The receiver's mapping package (receiver/tetragonreceiver/internal/eventmap)
// is internal to the receiver, so ruletest maps events by running the tetragon
// receiver itself in export-file mode over the input: the records the rules
// see are exactly those a deployed collector produces.

// knownEventTypes are the GetEventsResponse oneof fields the receiver maps.
var knownEventTypes = map[string]bool{
	"process_exec": true, "process_exit": true, "process_kprobe": true, "process_tracepoint": true,
	"process_lsm": true, "process_uprobe": true, "process_usdt": true, "process_loader": true,
	"process_throttle": true, "rate_limit_info": true,
}

var lineDecoder = protojson.UnmarshalOptions{DiscardUnknown: true}

// lineStats counts what the input lines held.
type lineStats struct {
	Lines     int `json:"lines"`
	Events    int `json:"events"`
	Unknown   int `json:"unknown_type"`
	Malformed int `json:"malformed"`
}

// classify counts the lines the receiver will turn into records.
func classify(lines [][]byte) lineStats {
	st := lineStats{Lines: len(lines)}
	var ev tetragon.GetEventsResponse
	for _, l := range lines {
		ev.Reset()
		if err := lineDecoder.Unmarshal(l, &ev); err != nil {
			st.Malformed++
			continue
		}
		od := ev.ProtoReflect().Descriptor().Oneofs().ByName("event")
		f := ev.ProtoReflect().WhichOneof(od)
		if f == nil || !knownEventTypes[string(f.Name())] {
			st.Unknown++
			continue
		}
		st.Events++
	}
	return st
}

type collectingSink struct {
	mu   sync.Mutex
	logs []plog.Logs
	n    int
}

func (s *collectingSink) Capabilities() consumer.Capabilities { return consumer.Capabilities{} }

func (s *collectingSink) ConsumeLogs(_ context.Context, ld plog.Logs) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.logs = append(s.logs, ld)
	s.n += ld.LogRecordCount()
	return nil
}

func (s *collectingSink) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.n
}

// stallTimeout is how long mapping may make no progress before giving up.
const stallTimeout = 20 * time.Second

// mapLines runs lines through the tetragon receiver and returns the logs it
// produced; want is the number of records expected (from classify).
func mapLines(lines [][]byte, want int) ([]plog.Logs, error) {
	if want == 0 {
		return nil, nil
	}
	dir, err := os.MkdirTemp("", "ruletest-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "tetragon.log")
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	for _, l := range lines {
		if _, err := f.Write(append(l, '\n')); err != nil {
			f.Close()
			return nil, err
		}
	}
	if err := f.Close(); err != nil {
		return nil, err
	}

	fac := tetragonreceiver.NewFactory()
	cfg := fac.CreateDefaultConfig().(*tetragonreceiver.Config)
	cfg.File = configoptional.Some(tetragonreceiver.FileConfig{
		Path:         path,
		StartAt:      "beginning",
		MaxLineBytes: 64 << 20,
		PollInterval: 10 * time.Millisecond,
	})
	cfg.Batch.Timeout = 10 * time.Millisecond
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("tetragon receiver config: %w", err)
	}
	set := receiver.Settings{
		ID: component.NewID(fac.Type()),
		TelemetrySettings: component.TelemetrySettings{
			Logger:         zap.NewNop(),
			MeterProvider:  metricnoop.NewMeterProvider(),
			TracerProvider: tracenoop.NewTracerProvider(),
		},
	}
	sink := &collectingSink{}
	rcv, err := fac.CreateLogs(context.Background(), set, cfg, sink)
	if err != nil {
		return nil, err
	}
	if err := rcv.Start(context.Background(), nopHost{}); err != nil {
		return nil, err
	}
	last, lastChange := 0, time.Now()
	for {
		n := sink.count()
		if n >= want {
			break
		}
		if n != last {
			last, lastChange = n, time.Now()
		}
		if time.Since(lastChange) > stallTimeout {
			break
		}
		time.Sleep(2 * time.Millisecond)
	}
	if err := rcv.Shutdown(context.Background()); err != nil {
		return nil, err
	}
	if got := sink.count(); got != want {
		return sink.logs, errors.New(fmt.Sprint("the tetragon receiver produced ", got, " records, expected ", want))
	}
	return sink.logs, nil
}

type nopHost struct{}

func (nopHost) GetExtensions() map[component.ID]component.Component { return nil }
