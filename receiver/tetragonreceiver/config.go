// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package tetragonreceiver // import "github.com/otelcol-runtime-security/otelcol-runtime-security/receiver/tetragonreceiver"

import (
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/config/configtls"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/eventmap"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/receiver/tetragonreceiver/internal/tetragonfilter"
)

const (
	defaultInfoFile     = "/var/run/tetragon/tetragon-info.json"
	defaultExportPath   = "/var/run/cilium/tetragon/tetragon.log"
	defaultMaxLineBytes = 16 << 20
	// defaultMaxEventBytes is grpc-go's own default receive limit, and over 100 times the
	// largest event of the real captures (33 KB as JSON, less as protobuf): real events are
	// far below it, while one event of several MB costs many times its size once decoded and
	// mapped.
	defaultMaxEventBytes = 4 << 20

	startAtBeginning = "beginning"
	startAtEnd       = "end"

	maxBatchSize     = 100_000
	maxBatchTimeout  = time.Minute
	minMaxLineBytes  = 4 << 10
	maxMaxLineBytes  = 256 << 20
	minMaxEventBytes = 4 << 10
	maxMaxEventBytes = 64 << 20
	minPollInterval  = 10 * time.Millisecond
	maxPollInterval  = 10 * time.Second
	maxReconnectWait = 10 * time.Minute
	maxReadCoalesce  = 100 * time.Millisecond
)

// Config is the receiver's configuration. Without a `file` section it reads
// Tetragon's gRPC API (endpoint, info_file, tls, allow_list, deny_list,
// reconnect, read_coalesce, max_event_bytes); with one it tails Tetragon's JSON export file and the gRPC
// settings must be left unset. field_filters apply in both modes: over gRPC
// Tetragon applies them, in file mode the receiver skips those fields while
// decoding.
type Config struct {
	// Endpoint is Tetragon's gRPC address: unix:///path/to/socket or host:port.
	// Empty: the server_address of InfoFile if that file exists, else
	// unix:///var/run/tetragon/tetragon.sock.
	Endpoint string `mapstructure:"endpoint"`
	// InfoFile is the tetragon-info.json Tetragon writes at start-up. Set it to
	// "" to disable the lookup.
	InfoFile string `mapstructure:"info_file"`
	// TLS enables TLS or mTLS towards Tetragon's gRPC server. Absent means
	// plaintext, which is what Tetragon serves on its unix socket.
	TLS configoptional.Optional[configtls.ClientConfig] `mapstructure:"tls"`
	// AllowList and DenyList are Tetragon Filter objects with Tetragon's field
	// names (event_set, namespace, binary_regex, pod_regex, …) passed with
	// GetEvents so that Tetragon filters before sending.
	AllowList []map[string]any `mapstructure:"allow_list"`
	DenyList  []map[string]any `mapstructure:"deny_list"`
	// FieldFilters are Tetragon FieldFilter objects: {event_set, fields,
	// action: INCLUDE|EXCLUDE, invert_event_set}. gRPC mode sends them to
	// Tetragon; file mode leaves the fields out while decoding each line
	// (attributes, rule inputs and both bodies lose them, as over gRPC).
	FieldFilters []map[string]any `mapstructure:"field_filters"`
	Reconnect    ReconnectConfig  `mapstructure:"reconnect"`
	// ReadCoalesce is the longest Tetragon's events may pile up in the socket
	// between two reads when the last read found no backlog: one read and one
	// wake-up per wait instead of per event. The wait is shorter when, at the
	// observed rate, half of the 128 KiB read buffer arrives sooner (~7 ms at
	// 10,000 lean events/s). It adds at most this much latency; 0 reads every
	// event as it arrives.
	ReadCoalesce time.Duration `mapstructure:"read_coalesce"`
	// MaxEventBytes is the largest gRPC message (one event, protobuf-encoded) decoded; a larger
	// one is counted and skipped without being decoded, and the stream goes on. The gRPC
	// receive limit is grpcRecvLimit(MaxEventBytes): above that, gRPC itself ends the stream.
	MaxEventBytes int `mapstructure:"max_event_bytes"`

	// File switches the receiver to tailing Tetragon's JSON export file.
	File configoptional.Optional[FileConfig] `mapstructure:"file"`

	Batch BatchConfig `mapstructure:"batch"`
	// Body is what goes into each LogRecord body: json (the event as a JSON
	// string, the default), map (the event as a structured map) or none.
	Body eventmap.BodyMode `mapstructure:"body"`
	// ClusterName fills k8s.cluster.name when Tetragon does not send one.
	ClusterName string `mapstructure:"cluster_name"`

	// prevent unkeyed literal initialization
	_ struct{}
}

// ReconnectConfig bounds the exponential backoff (with jitter) between
// connection attempts to Tetragon.
type ReconnectConfig struct {
	InitialInterval time.Duration `mapstructure:"initial_interval"`
	MaxInterval     time.Duration `mapstructure:"max_interval"`
}

// FileConfig configures tailing of Tetragon's JSON export file.
type FileConfig struct {
	// Path of the export file (Tetragon's --export-filename).
	Path string `mapstructure:"path"`
	// StartAt is where to start when there is no checkpoint: beginning or end.
	StartAt string `mapstructure:"start_at"`
	// Storage is the id of a storage extension used to checkpoint the read
	// position, so that a restart resumes without losing or repeating lines.
	Storage *component.ID `mapstructure:"storage"`
	// MaxLineBytes is the longest line accepted; longer lines are counted and
	// skipped up to their newline.
	MaxLineBytes int `mapstructure:"max_line_bytes"`
	// PollInterval is how often the file is checked for new data and rotation.
	PollInterval time.Duration `mapstructure:"poll_interval"`
}

// BatchConfig controls how records are grouped before they are handed to the
// next consumer.
type BatchConfig struct {
	MaxSize int           `mapstructure:"max_size"`
	Timeout time.Duration `mapstructure:"timeout"`
}

func defaultFileConfig() FileConfig {
	return FileConfig{
		Path:         defaultExportPath,
		StartAt:      startAtEnd,
		MaxLineBytes: defaultMaxLineBytes,
		PollInterval: 200 * time.Millisecond,
	}
}

func createDefaultConfig() component.Config {
	return &Config{
		InfoFile:  defaultInfoFile,
		TLS:       configoptional.None[configtls.ClientConfig](),
		Reconnect: ReconnectConfig{InitialInterval: time.Second, MaxInterval: 30 * time.Second},
		// One read per wait instead of per event; measured in testbed/RESULTS.md.
		ReadCoalesce:  50 * time.Millisecond,
		MaxEventBytes: defaultMaxEventBytes,
		File:          configoptional.Default(defaultFileConfig()),
		Batch:         BatchConfig{MaxSize: 512, Timeout: 200 * time.Millisecond},
		// json: one string per record instead of one pdata value per field, so far cheaper
		// through mapping, queues and exporters (measured: testbed/RESULTS.md), and what Loki
		// stores anyway. map stays available for processors that read the body's fields.
		Body: eventmap.BodyJSON,
	}
}

// fileMode reports whether the receiver tails the export file.
func (cfg *Config) fileMode() bool { return cfg.File.HasValue() }

// Validate checks every field and reports all problems at once.
func (cfg *Config) Validate() error {
	var errs []error
	switch cfg.Body {
	case eventmap.BodyMap, eventmap.BodyJSON, eventmap.BodyNone:
	default:
		errs = append(errs, fmt.Errorf("body: %q is not one of map, json, none", cfg.Body))
	}
	if strings.ContainsFunc(cfg.ClusterName, isControl) {
		errs = append(errs, fmt.Errorf("cluster_name: %q contains control characters", cfg.ClusterName))
	}
	if cfg.Batch.MaxSize < 1 || cfg.Batch.MaxSize > maxBatchSize {
		errs = append(errs, fmt.Errorf("batch.max_size: %d is out of range; use 1 to %d (512 is a good default)", cfg.Batch.MaxSize, maxBatchSize))
	}
	if cfg.ReadCoalesce < 0 || cfg.ReadCoalesce > maxReadCoalesce {
		errs = append(errs, fmt.Errorf("read_coalesce: %v is out of range; use 0 (off) to %v (default 50ms)", cfg.ReadCoalesce, maxReadCoalesce))
	}
	if cfg.Batch.Timeout <= 0 || cfg.Batch.Timeout > maxBatchTimeout {
		errs = append(errs, fmt.Errorf("batch.timeout: %v is out of range; use a duration above 0 and at most %v (e.g. 200ms)", cfg.Batch.Timeout, maxBatchTimeout))
	}

	fieldFilters, err := tetragonfilter.FieldFilters(cfg.FieldFilters)
	if err != nil {
		errs = append(errs, err)
	}
	if cfg.fileMode() {
		errs = append(errs, cfg.File.Get().validate()...)
		if err == nil {
			if _, err := eventmap.NewDecoder(fieldFilters); err != nil {
				errs = append(errs, fmt.Errorf("field_filters: %w (in file mode the receiver applies them while decoding, and it cannot reach inside a timestamp or a wrapper value)", err))
			}
		}
		if set := cfg.grpcFieldsSet(); len(set) > 0 {
			hint := ""
			if slices.Contains(set, "max_event_bytes") {
				hint = " (file mode limits lines with file.max_line_bytes)"
			}
			errs = append(errs, fmt.Errorf("%s: only apply to gRPC mode, but `file` is set (file mode); remove them, or remove `file` to read Tetragon's gRPC API%s", strings.Join(set, ", "), hint))
		}
		return errors.Join(errs...)
	}

	if cfg.Endpoint != "" {
		if err := validateEndpoint(cfg.Endpoint); err != nil {
			errs = append(errs, fmt.Errorf("endpoint: %w", err))
		}
	}
	if cfg.InfoFile != "" && !filepath.IsAbs(cfg.InfoFile) {
		errs = append(errs, fmt.Errorf("info_file: %q must be an absolute path (Tetragon writes /var/run/tetragon/tetragon-info.json), or \"\" to disable", cfg.InfoFile))
	}
	r := cfg.Reconnect
	if r.InitialInterval <= 0 || r.InitialInterval > maxReconnectWait {
		errs = append(errs, fmt.Errorf("reconnect.initial_interval: %v is out of range; use above 0 and at most %v (e.g. 1s)", r.InitialInterval, maxReconnectWait))
	}
	if r.MaxInterval < r.InitialInterval || r.MaxInterval > maxReconnectWait {
		errs = append(errs, fmt.Errorf("reconnect.max_interval: %v must be at least reconnect.initial_interval (%v) and at most %v (e.g. 30s)", r.MaxInterval, r.InitialInterval, maxReconnectWait))
	}
	if cfg.MaxEventBytes < minMaxEventBytes || cfg.MaxEventBytes > maxMaxEventBytes {
		errs = append(errs, fmt.Errorf("max_event_bytes: %d is out of range; use %d to %d (default %d)", cfg.MaxEventBytes, minMaxEventBytes, maxMaxEventBytes, defaultMaxEventBytes))
	}
	if _, err := tetragonfilter.Filters("allow_list", cfg.AllowList); err != nil {
		errs = append(errs, err)
	}
	if _, err := tetragonfilter.Filters("deny_list", cfg.DenyList); err != nil {
		errs = append(errs, err)
	}
	// tls is validated by configtls through configoptional.
	return errors.Join(errs...)
}

func (fc *FileConfig) validate() []error {
	var errs []error
	if fc.Path == "" {
		errs = append(errs, fmt.Errorf("file.path: required: the JSON export file Tetragon writes (its --export-filename, usually %s)", defaultExportPath))
	} else if !filepath.IsAbs(fc.Path) {
		errs = append(errs, fmt.Errorf("file.path: %q must be an absolute path", fc.Path))
	} else if strings.ContainsAny(filepath.Base(fc.Path), "*?[") {
		errs = append(errs, fmt.Errorf("file.path: %q must name one file, not a pattern: rotated files are found next to it automatically", fc.Path))
	}
	switch fc.StartAt {
	case startAtBeginning, startAtEnd:
	default:
		errs = append(errs, fmt.Errorf("file.start_at: %q is not one of beginning, end", fc.StartAt))
	}
	if fc.MaxLineBytes < minMaxLineBytes || fc.MaxLineBytes > maxMaxLineBytes {
		errs = append(errs, fmt.Errorf("file.max_line_bytes: %d is out of range; use %d to %d (default %d)", fc.MaxLineBytes, minMaxLineBytes, maxMaxLineBytes, defaultMaxLineBytes))
	}
	if fc.PollInterval < minPollInterval || fc.PollInterval > maxPollInterval {
		errs = append(errs, fmt.Errorf("file.poll_interval: %v is out of range; use %v to %v (default 200ms)", fc.PollInterval, minPollInterval, maxPollInterval))
	}
	return errs
}

// grpcFieldsSet names the gRPC-only settings that differ from their defaults.
func (cfg *Config) grpcFieldsSet() []string {
	def := createDefaultConfig().(*Config)
	var set []string
	if cfg.Endpoint != "" {
		set = append(set, "endpoint")
	}
	if cfg.InfoFile != def.InfoFile {
		set = append(set, "info_file")
	}
	if cfg.TLS.HasValue() {
		set = append(set, "tls")
	}
	if len(cfg.AllowList) > 0 {
		set = append(set, "allow_list")
	}
	if len(cfg.DenyList) > 0 {
		set = append(set, "deny_list")
	}
	if !reflect.DeepEqual(cfg.Reconnect, def.Reconnect) {
		set = append(set, "reconnect")
	}
	if cfg.ReadCoalesce != def.ReadCoalesce {
		set = append(set, "read_coalesce")
	}
	if cfg.MaxEventBytes != def.MaxEventBytes {
		set = append(set, "max_event_bytes")
	}
	return set
}

// grpcRecvLimit is the gRPC receive limit for max_event_bytes. gRPC reads a message whole
// before the codec sees it, so a message between the two costs its bytes (in gRPC's buffer)
// but is skipped with the stream kept; a message over the limit makes gRPC end the stream.
// Four times leaves room to skip the multi-megabyte events that exist while bounding what
// one message can make gRPC allocate.
func grpcRecvLimit(maxEventBytes int) int { return 4 * maxEventBytes }

func validateEndpoint(ep string) error {
	if rest, ok := strings.CutPrefix(ep, "unix:"); ok {
		path := strings.TrimPrefix(rest, "//")
		if path == "" || !strings.HasPrefix(path, "/") {
			return fmt.Errorf("%q: a unix socket needs an absolute path, e.g. unix:///var/run/tetragon/tetragon.sock", ep)
		}
		return nil
	}
	if strings.Contains(ep, "://") {
		return fmt.Errorf("%q: use unix:///path/to/socket or host:port (no other scheme)", ep)
	}
	host, port, err := net.SplitHostPort(ep)
	if err != nil {
		return fmt.Errorf("%q: use unix:///path/to/socket or host:port (e.g. localhost:54321): %w", ep, err)
	}
	if host == "" {
		return fmt.Errorf("%q: the host is missing (e.g. localhost:%s)", ep, port)
	}
	if p, err := strconv.Atoi(port); err != nil || p < 1 || p > 65535 {
		return fmt.Errorf("%q: port %q is not a number from 1 to 65535", ep, port)
	}
	return nil
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }
