// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package tetragonreceiver // import "github.com/otelcol-runtime-security/otelcol-runtime-security/receiver/tetragonreceiver"

import (
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/config/configtls"
	"go.opentelemetry.io/collector/confmap"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/eventmap"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/tetragonjson"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/receiver/tetragonreceiver/internal/tetragonfilter"
)

const (
	defaultInfoFile   = "/var/run/tetragon/tetragon-info.json"
	defaultExportPath = "/var/run/cilium/tetragon/tetragon.log"
	// 1 MiB per event in both modes: Tetragon's largest field (a kprobe's maxData buffer) and
	// every real captured event fit well within it (testbed/RESULTS.md, "Chaos tests"), while
	// decoding and mapping a multi-megabyte event costs many times its size.
	defaultMaxLineBytes  = 1 << 20
	defaultMaxEventBytes = 1 << 20
	// defaultBatchMaxBytes keeps one request far below log-store request limits whatever the
	// events' size: a record costs several times its input bytes (testbed/RESULTS.md).
	defaultBatchMaxBytes = 4 << 20

	startAtBeginning = "beginning"
	startAtEnd       = "end"

	maxBatchSize     = 100_000
	maxBatchTimeout  = time.Minute
	minBatchMaxBytes = 64 << 10
	maxBatchMaxBytes = 64 << 20
	minMaxLineBytes  = 4 << 10
	maxMaxLineBytes  = 256 << 20
	minMaxEventBytes = 4 << 10
	maxMaxEventBytes = 64 << 20
	minPollInterval  = 10 * time.Millisecond
	maxPollInterval  = 10 * time.Second
	maxReconnectWait = 10 * time.Minute
	maxReadCoalesce  = 100 * time.Millisecond
)

// Config is the receiver's configuration. It reads Tetragon's gRPC API (the `grpc` section, or
// its defaults when neither section is set) or tails Tetragon's JSON export file (the `file`
// section); exactly one of the two may be set. field_filters apply in both modes: over gRPC
// Tetragon applies them, in file mode the receiver skips those fields while decoding.
type Config struct {
	// GRPC reads Tetragon's FineGuidanceSensors.GetEvents stream.
	GRPC configoptional.Optional[GRPCConfig] `mapstructure:"grpc"`
	// File switches the receiver to tailing Tetragon's JSON export file.
	File configoptional.Optional[FileConfig] `mapstructure:"file"`

	// FieldFilters are Tetragon FieldFilter objects: {event_set, fields,
	// action: INCLUDE|EXCLUDE, invert_event_set}. gRPC mode sends them to
	// Tetragon; file mode leaves the fields out while decoding each line
	// (attributes, rule inputs and both bodies lose them, as over gRPC).
	FieldFilters []map[string]any `mapstructure:"field_filters"`
	Batch        BatchConfig      `mapstructure:"batch"`
	// Body is what goes into each LogRecord body: json (the event as a JSON
	// string, the default), map (the event as a structured map) or none.
	Body eventmap.BodyMode `mapstructure:"body"`
	// ClusterName fills k8s.cluster.name when Tetragon does not send one.
	ClusterName string `mapstructure:"cluster_name"`

	// legacyKeys are the gRPC settings found at the top level (the form before the grpc
	// section, read for one more release); legacyWith is "grpc" or "file" when a section was
	// set beside them, which is an error.
	legacyKeys []string
	legacyWith string

	// prevent unkeyed literal initialization
	_ struct{}
}

// GRPCConfig configures reading Tetragon's gRPC API.
type GRPCConfig struct {
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
	Reconnect ReconnectConfig  `mapstructure:"reconnect"`
	// ReadCoalesce is the longest Tetragon's events may pile up in the socket
	// between two reads when the last read found no backlog: one read and one
	// wake-up per wait instead of per event (internal/readcoalesce). 0 reads
	// every event as it arrives.
	ReadCoalesce time.Duration `mapstructure:"read_coalesce"`
	// MaxEventBytes is the largest gRPC message (one event, protobuf-encoded) decoded; a larger
	// one is counted and skipped without being decoded, and the stream goes on. The gRPC
	// receive limit is grpcRecvLimit(MaxEventBytes): above that, gRPC itself ends the stream.
	MaxEventBytes int `mapstructure:"max_event_bytes"`
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
	// MaxBytes bounds a batch by its events' input bytes (export lines, or gRPC messages):
	// the batch is handed over once they reach it, and an event that would take it past
	// MaxBytes starts the next batch.
	MaxBytes int `mapstructure:"max_bytes"`
}

func defaultGRPCConfig() GRPCConfig {
	return GRPCConfig{
		InfoFile:  defaultInfoFile,
		TLS:       configoptional.None[configtls.ClientConfig](),
		Reconnect: ReconnectConfig{InitialInterval: time.Second, MaxInterval: 30 * time.Second},
		// One read per wait instead of per event; measured in testbed/RESULTS.md.
		ReadCoalesce:  50 * time.Millisecond,
		MaxEventBytes: defaultMaxEventBytes,
	}
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
		GRPC:  configoptional.Default(defaultGRPCConfig()),
		File:  configoptional.Default(defaultFileConfig()),
		Batch: BatchConfig{MaxSize: 512, Timeout: 200 * time.Millisecond, MaxBytes: defaultBatchMaxBytes},
		// json: one string per record instead of one pdata value per field, so far cheaper
		// through mapping, queues and exporters (measured: testbed/RESULTS.md), and what Loki
		// stores anyway. map stays available for processors that read the body's fields.
		Body: eventmap.BodyJSON,
	}
}

// legacyGRPCKeys are the gRPC settings that sat at the top level before the grpc section.
var legacyGRPCKeys = []string{"endpoint", "info_file", "tls", "allow_list", "deny_list", "reconnect", "read_coalesce", "max_event_bytes"}

// Unmarshal reads the configuration, moving the legacy top-level gRPC settings under grpc
// (recorded for the deprecation warning). Beside a grpc or file section they are left out and
// recorded for Validate to reject: merging them could silently change which settings apply.
func (cfg *Config) Unmarshal(conf *confmap.Conf) error {
	var present []string
	for _, k := range legacyGRPCKeys {
		if conf.IsSet(k) {
			present = append(present, k)
		}
	}
	if len(present) > 0 {
		switch {
		case conf.IsSet("grpc"):
			cfg.legacyWith = "grpc"
		case conf.IsSet("file"):
			cfg.legacyWith = "file"
		default:
			g := defaultGRPCConfig()
			if cfg.GRPC.HasValue() {
				g = *cfg.GRPC.Get()
			}
			if err := conf.Unmarshal(&g, confmap.WithIgnoreUnused()); err != nil {
				return err
			}
			cfg.GRPC = configoptional.Some(g)
		}
		for _, k := range present {
			conf.Delete(k)
		}
		cfg.legacyKeys = present
	}
	// plain has Config's fields but not this method: no recursion.
	type plain Config
	return conf.Unmarshal((*plain)(cfg))
}

// fileMode reports whether the receiver tails the export file.
func (cfg *Config) fileMode() bool { return cfg.File.HasValue() }

// grpcConfig is the grpc section, or its defaults when it is not set.
func (cfg *Config) grpcConfig() GRPCConfig {
	if cfg.GRPC.HasValue() {
		return *cfg.GRPC.Get()
	}
	return defaultGRPCConfig()
}

// legacyHint shows the legacy keys in the grpc section, for messages.
func (cfg *Config) legacyHint() string {
	return "grpc: {" + strings.Join(cfg.legacyKeys, ": …, ") + ": …}"
}

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
	if cfg.Batch.Timeout <= 0 || cfg.Batch.Timeout > maxBatchTimeout {
		errs = append(errs, fmt.Errorf("batch.timeout: %v is out of range; use a duration above 0 and at most %v (e.g. 200ms)", cfg.Batch.Timeout, maxBatchTimeout))
	}
	if cfg.Batch.MaxBytes < minBatchMaxBytes || cfg.Batch.MaxBytes > maxBatchMaxBytes {
		errs = append(errs, fmt.Errorf("batch.max_bytes: %d is out of range; use %d to %d (default %d): it bounds one request to the log store", cfg.Batch.MaxBytes, minBatchMaxBytes, maxBatchMaxBytes, defaultBatchMaxBytes))
	}
	switch cfg.legacyWith {
	case "grpc":
		errs = append(errs, fmt.Errorf("%s: gRPC settings at the top level (deprecated) cannot be combined with the grpc section; move them into it (%s)", strings.Join(cfg.legacyKeys, ", "), cfg.legacyHint()))
	case "file":
		errs = append(errs, fmt.Errorf("%s: gRPC settings at the top level only apply to gRPC mode, but `file` is set; remove them, or remove `file` and write them under grpc (%s) to read Tetragon's gRPC API", strings.Join(cfg.legacyKeys, ", "), cfg.legacyHint()))
	}

	fieldFilters, err := tetragonfilter.FieldFilters(cfg.FieldFilters)
	if err != nil {
		errs = append(errs, err)
	}
	if cfg.fileMode() {
		if cfg.GRPC.HasValue() {
			errs = append(errs, errors.New("grpc and file are both set; keep one: `grpc` reads Tetragon's gRPC API, `file` tails its JSON export file (its size limit is file.max_line_bytes)"))
		}
		errs = append(errs, cfg.File.Get().validate()...)
		if err == nil {
			if _, err := tetragonjson.NewDecoder(fieldFilters); err != nil {
				errs = append(errs, fmt.Errorf("field_filters: %w (in file mode the receiver applies them while decoding, and it cannot reach inside a timestamp or a wrapper value)", err))
			}
		}
		return errors.Join(errs...)
	}
	g := cfg.grpcConfig()
	errs = append(errs, g.validate()...)
	// tls is validated by configtls through configoptional.
	return errors.Join(errs...)
}

func (g *GRPCConfig) validate() []error {
	var errs []error
	if g.Endpoint != "" {
		if err := validateEndpoint(g.Endpoint); err != nil {
			errs = append(errs, fmt.Errorf("grpc.endpoint: %w", err))
		}
	}
	if g.InfoFile != "" && !filepath.IsAbs(g.InfoFile) {
		errs = append(errs, fmt.Errorf("grpc.info_file: %q must be an absolute path (Tetragon writes /var/run/tetragon/tetragon-info.json), or \"\" to disable", g.InfoFile))
	}
	r := g.Reconnect
	if r.InitialInterval <= 0 || r.InitialInterval > maxReconnectWait {
		errs = append(errs, fmt.Errorf("grpc.reconnect.initial_interval: %v is out of range; use above 0 and at most %v (e.g. 1s)", r.InitialInterval, maxReconnectWait))
	}
	if r.MaxInterval < r.InitialInterval || r.MaxInterval > maxReconnectWait {
		errs = append(errs, fmt.Errorf("grpc.reconnect.max_interval: %v must be at least grpc.reconnect.initial_interval (%v) and at most %v (e.g. 30s)", r.MaxInterval, r.InitialInterval, maxReconnectWait))
	}
	if g.ReadCoalesce < 0 || g.ReadCoalesce > maxReadCoalesce {
		errs = append(errs, fmt.Errorf("grpc.read_coalesce: %v is out of range; use 0 (off) to %v (default 50ms)", g.ReadCoalesce, maxReadCoalesce))
	}
	if g.MaxEventBytes < minMaxEventBytes || g.MaxEventBytes > maxMaxEventBytes {
		errs = append(errs, fmt.Errorf("grpc.max_event_bytes: %d is out of range; use %d to %d (default %d)", g.MaxEventBytes, minMaxEventBytes, maxMaxEventBytes, defaultMaxEventBytes))
	}
	if _, err := tetragonfilter.Filters("grpc.allow_list", g.AllowList); err != nil {
		errs = append(errs, err)
	}
	if _, err := tetragonfilter.Filters("grpc.deny_list", g.DenyList); err != nil {
		errs = append(errs, err)
	}
	return errs
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

// grpcRecvLimit is the gRPC receive limit for max_event_bytes. gRPC reads a message whole
// before the codec sees it, so a message between the two costs its bytes (in gRPC's buffer)
// but is skipped with the stream kept; a message over the limit makes gRPC end the stream.
// 16 MiB, or four times max_event_bytes when that is more, skips the multi-megabyte events
// that exist (huge argument lists) while bounding what one message can make gRPC allocate.
func grpcRecvLimit(maxEventBytes int) int { return max(16<<20, 4*maxEventBytes) }

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
