// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package tetragonreceiver

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cilium/tetragon/api/v1/tetragon"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/confmaptest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/receiver/receivertest"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/eventmap"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/tetragonjson"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/receiver/tetragonreceiver/internal/metadata"
)

func loadConfig(t *testing.T, name string) *Config {
	t.Helper()
	cm, err := confmaptest.LoadConf(filepath.Join("testdata", "config.yaml"))
	require.NoError(t, err)
	sub, err := cm.Sub(name)
	require.NoError(t, err)
	cfg := NewFactory().CreateDefaultConfig().(*Config)
	require.NoError(t, sub.Unmarshal(cfg))
	require.NoError(t, confmap.Validate(cfg))
	return cfg
}

func TestLoadConfig(t *testing.T) {
	t.Run("defaults", func(t *testing.T) {
		cfg := loadConfig(t, component.NewID(metadata.Type).String())
		assert.Equal(t, createDefaultConfig(), cfg)
		assert.False(t, cfg.fileMode())
		assert.False(t, cfg.GRPC.HasValue(), "neither section: gRPC with its defaults")
		g := cfg.grpcConfig()
		assert.Empty(t, g.Endpoint, "unset: resolved from info_file, else the default socket")
		assert.Equal(t, "/var/run/tetragon/tetragon-info.json", g.InfoFile)
		assert.Equal(t, BatchConfig{MaxSize: 512, Timeout: 200 * time.Millisecond, MaxBytes: 4 << 20}, cfg.Batch)
		assert.Equal(t, eventmap.BodyJSON, cfg.Body, "the cheap body by default")
		assert.Equal(t, 1<<20, g.MaxEventBytes)
		assert.Equal(t, 1<<20, defaultFileConfig().MaxLineBytes)
		assert.Equal(t, 16<<20, grpcRecvLimit(g.MaxEventBytes), "gRPC reads and skips messages up to 16 MiB")
		assert.Equal(t, 64<<20, grpcRecvLimit(16<<20), "or 4x max_event_bytes")
		assert.Empty(t, cfg.legacyKeys)
	})

	t.Run("export_lean", func(t *testing.T) {
		cfg := loadConfig(t, "tetragon/export_lean")
		assert.True(t, cfg.fileMode())
		assert.Equal(t, loadConfig(t, "tetragon/lean").FieldFilters, cfg.FieldFilters)
		r, err := newReceiver(receivertest.NewNopSettings(metadata.Type), cfg, consumertest.NewNop())
		require.NoError(t, err)
		dec, err := r.fileDecoder()
		require.NoError(t, err)
		var full, lean tetragon.GetEventsResponse
		line := []byte(`{"process_exec":{"process":{"binary":"/bin/sh","cap":{"permitted":["CAP_CHOWN"]}}}}`)
		require.NoError(t, tetragonjson.DecodeJSON(line, &full))
		require.NoError(t, dec.Decode(line, &lean))
		assert.NotNil(t, full.GetProcessExec().GetProcess().GetCap())
		assert.Nil(t, lean.GetProcessExec().GetProcess().GetCap(), "process.cap is skipped")
		assert.Equal(t, "/bin/sh", lean.GetProcessExec().GetProcess().GetBinary())
	})

	t.Run("grpc_filtered", func(t *testing.T) {
		cfg := loadConfig(t, "tetragon/grpc_filtered")
		assert.False(t, cfg.fileMode())
		require.True(t, cfg.GRPC.HasValue())
		g := cfg.GRPC.Get()
		assert.Equal(t, "tetragon.kube-system.svc:54321", g.Endpoint)
		require.True(t, g.TLS.HasValue())
		assert.Equal(t, "/etc/tetragon-tls/ca.crt", g.TLS.Get().CAFile)
		assert.Equal(t, "/etc/tetragon-tls/client.crt", g.TLS.Get().CertFile)
		assert.Equal(t, "tetragon", g.TLS.Get().ServerName)
		assert.Equal(t, ReconnectConfig{InitialInterval: 500 * time.Millisecond, MaxInterval: time.Minute}, g.Reconnect)
		assert.Equal(t, 512<<10, g.MaxEventBytes)
		assert.Equal(t, 50*time.Millisecond, g.ReadCoalesce, "defaults fill the rest of the section")
		assert.Equal(t, BatchConfig{MaxSize: 256, Timeout: 100 * time.Millisecond, MaxBytes: 2 << 20}, cfg.Batch)
		assert.Empty(t, cfg.legacyKeys)
		assert.Equal(t, eventmap.BodyJSON, cfg.Body)
		assert.Equal(t, "prod-eu-1", cfg.ClusterName)

		r := &tetragonReceiver{cfg: cfg}
		req, err := r.eventsRequest()
		require.NoError(t, err)
		require.Len(t, req.AllowList, 2)
		assert.Equal(t, []tetragon.EventType{tetragon.EventType_PROCESS_EXEC, tetragon.EventType_PROCESS_EXIT}, req.AllowList[0].EventSet)
		assert.Equal(t, []string{"default", "payments"}, req.AllowList[0].Namespace)
		assert.Equal(t, []string{"^/bin/", "^/usr/bin/"}, req.AllowList[1].BinaryRegex)
		require.Len(t, req.DenyList, 2)
		assert.True(t, req.DenyList[0].HealthCheck.GetValue())
		assert.Equal(t, []string{"^tetragon-"}, req.DenyList[1].PodRegex)
		require.Len(t, req.FieldFilters, 1)
		assert.Equal(t, []string{"process.binary", "process.arguments", "process.pod", "process.exec_id", "parent.exec_id"}, req.FieldFilters[0].Fields.Paths)
		assert.Equal(t, tetragon.FieldFilterAction_INCLUDE, req.FieldFilters[0].Action)
	})

	t.Run("export", func(t *testing.T) {
		cfg := loadConfig(t, "tetragon/export")
		require.True(t, cfg.fileMode())
		fc := cfg.File.Get()
		assert.Equal(t, "/var/run/cilium/tetragon/tetragon.log", fc.Path)
		assert.Equal(t, "beginning", fc.StartAt)
		require.NotNil(t, fc.Storage)
		assert.Equal(t, component.MustNewIDWithName("file_storage", "tetragon"), *fc.Storage)
		assert.Equal(t, 1<<20, fc.MaxLineBytes)
		assert.Equal(t, 100*time.Millisecond, fc.PollInterval)
		assert.Equal(t, eventmap.BodyNone, cfg.Body)
	})

	t.Run("lean", func(t *testing.T) {
		cfg := loadConfig(t, "tetragon/lean")
		r := &tetragonReceiver{cfg: cfg}
		req, err := r.eventsRequest()
		require.NoError(t, err)
		require.Len(t, req.FieldFilters, 1)
		assert.Equal(t, tetragon.FieldFilterAction_EXCLUDE, req.FieldFilters[0].Action)
		assert.Contains(t, req.FieldFilters[0].Fields.Paths, "ancestors.cap")
		assert.Len(t, req.FieldFilters[0].EventSet, 8)
	})

	t.Run("export_defaults", func(t *testing.T) {
		cfg := loadConfig(t, "tetragon/export_defaults")
		require.True(t, cfg.fileMode())
		fc := cfg.File.Get()
		assert.Equal(t, "/data/tetragon/events.log", fc.Path)
		assert.Equal(t, "end", fc.StartAt)
		assert.Nil(t, fc.Storage)
		assert.Equal(t, 1<<20, fc.MaxLineBytes)
		assert.Equal(t, 200*time.Millisecond, fc.PollInterval)
	})
}

func TestConfigValidate(t *testing.T) {
	fileCfg := func(mut func(*FileConfig)) configoptional.Optional[FileConfig] {
		fc := defaultFileConfig()
		mut(&fc)
		return configoptional.Some(fc)
	}
	endpoint := func(ep string) func(*Config) { return func(c *Config) { grpcOf(c).Endpoint = ep } }
	tests := []struct {
		name   string
		mutate func(*Config)
		want   []string // substrings of the error; none means valid
	}{
		{name: "default is valid", mutate: func(*Config) {}},
		{name: "unix endpoint", mutate: endpoint("unix:///run/tetragon/tetragon.sock")},
		{name: "host:port endpoint", mutate: endpoint("localhost:54321")},
		{name: "ipv6 endpoint", mutate: endpoint("[::1]:54321")},
		{name: "relative unix socket", mutate: endpoint("unix://tetragon.sock"),
			want: []string{"grpc.endpoint:", "absolute path"}},
		{name: "http scheme", mutate: endpoint("http://localhost:54321"),
			want: []string{"grpc.endpoint:", "no other scheme"}},
		{name: "missing port", mutate: endpoint("localhost"),
			want: []string{"grpc.endpoint:", "host:port"}},
		{name: "missing host", mutate: endpoint(":54321"),
			want: []string{"grpc.endpoint:", "host is missing"}},
		{name: "bad port", mutate: endpoint("localhost:99999"),
			want: []string{"grpc.endpoint:", "port \"99999\""}},
		{name: "relative info file", mutate: func(c *Config) { grpcOf(c).InfoFile = "tetragon-info.json" },
			want: []string{"grpc.info_file:", "absolute path"}},
		{name: "info file disabled", mutate: func(c *Config) { grpcOf(c).InfoFile = "" }},
		{name: "bad body", mutate: func(c *Config) { c.Body = "xml" },
			want: []string{`body: "xml" is not one of map, json, none`}},
		{name: "control characters in cluster name", mutate: func(c *Config) { c.ClusterName = "a\nb" },
			want: []string{"cluster_name:"}},
		{name: "batch size zero", mutate: func(c *Config) { c.Batch.MaxSize = 0 },
			want: []string{"batch.max_size: 0 is out of range"}},
		{name: "batch size huge", mutate: func(c *Config) { c.Batch.MaxSize = 1_000_000 },
			want: []string{"batch.max_size"}},
		{name: "batch timeout zero", mutate: func(c *Config) { c.Batch.Timeout = 0 },
			want: []string{"batch.timeout"}},
		{name: "batch max_bytes small", mutate: func(c *Config) { c.Batch.MaxBytes = 1000 },
			want: []string{"batch.max_bytes: 1000 is out of range; use 65536 to 67108864 (default 4194304)"}},
		{name: "batch max_bytes huge", mutate: func(c *Config) { c.Batch.MaxBytes = 1 << 30 },
			want: []string{"batch.max_bytes: 1073741824 is out of range"}},
		{name: "read_coalesce negative", mutate: func(c *Config) { grpcOf(c).ReadCoalesce = -time.Millisecond },
			want: []string{"grpc.read_coalesce", "use 0 (off) to 100ms"}},
		{name: "read_coalesce too long", mutate: func(c *Config) { grpcOf(c).ReadCoalesce = time.Second },
			want: []string{"grpc.read_coalesce: 1s is out of range"}},
		{name: "max_event_bytes small", mutate: func(c *Config) { grpcOf(c).MaxEventBytes = 1000 },
			want: []string{"grpc.max_event_bytes: 1000 is out of range; use 4096 to 67108864 (default 1048576)"}},
		{name: "max_event_bytes huge", mutate: func(c *Config) { grpcOf(c).MaxEventBytes = 1 << 30 },
			want: []string{"grpc.max_event_bytes: 1073741824 is out of range"}},
		{name: "reconnect initial zero", mutate: func(c *Config) { grpcOf(c).Reconnect.InitialInterval = 0 },
			want: []string{"grpc.reconnect.initial_interval"}},
		{name: "reconnect max below initial", mutate: func(c *Config) { grpcOf(c).Reconnect.MaxInterval = 100 * time.Millisecond },
			want: []string{"grpc.reconnect.max_interval", "at least grpc.reconnect.initial_interval"}},
		{name: "allow list unknown field", mutate: func(c *Config) {
			grpcOf(c).AllowList = []map[string]any{{"event_set": []any{"PROCESS_EXEC"}}, {"binary": "x"}}
		},
			want: []string{`grpc.allow_list[1]: unknown field "binary"`}},
		{name: "deny list bad regex", mutate: func(c *Config) { grpcOf(c).DenyList = []map[string]any{{"binary_regex": []any{"(("}}} },
			want: []string{"grpc.deny_list[0].binary_regex[0]: invalid RE2"}},
		{name: "field filter bad action", mutate: func(c *Config) {
			c.FieldFilters = []map[string]any{{"fields": []any{"process.binary"}, "action": "KEEP"}}
		}, want: []string{"field_filters[0].action", "INCLUDE, EXCLUDE"}},
		{name: "several errors reported together", mutate: func(c *Config) { c.Body = "x"; c.Batch.MaxSize = -1 },
			want: []string{"body:", "batch.max_size"}},

		{name: "file mode", mutate: func(c *Config) { c.File = fileCfg(func(*FileConfig) {}) }},
		{name: "file path empty", mutate: func(c *Config) { c.File = fileCfg(func(f *FileConfig) { f.Path = "" }) },
			want: []string{"file.path: required"}},
		{name: "file path relative", mutate: func(c *Config) { c.File = fileCfg(func(f *FileConfig) { f.Path = "tetragon.log" }) },
			want: []string{"file.path", "absolute"}},
		{name: "file path glob", mutate: func(c *Config) { c.File = fileCfg(func(f *FileConfig) { f.Path = "/var/log/tetragon*.log" }) },
			want: []string{"file.path", "not a pattern"}},
		{name: "file start_at", mutate: func(c *Config) { c.File = fileCfg(func(f *FileConfig) { f.StartAt = "middle" }) },
			want: []string{`file.start_at: "middle"`}},
		{name: "file max_line_bytes small", mutate: func(c *Config) { c.File = fileCfg(func(f *FileConfig) { f.MaxLineBytes = 100 }) },
			want: []string{"file.max_line_bytes: 100 is out of range"}},
		{name: "file poll interval", mutate: func(c *Config) { c.File = fileCfg(func(f *FileConfig) { f.PollInterval = time.Hour }) },
			want: []string{"file.poll_interval"}},
		{name: "file mode with field filters", mutate: func(c *Config) {
			c.File = fileCfg(func(*FileConfig) {})
			c.FieldFilters = []map[string]any{
				{"event_set": []any{"PROCESS_EXEC"}, "fields": []any{"process.cap", "ancestors"}, "action": "EXCLUDE"},
				{"fields": "process.binary,process.pod,args", "action": "INCLUDE", "event_set": []any{"PROCESS_KPROBE"}},
			}
		}},
		{name: "file mode field filter unknown path", mutate: func(c *Config) {
			c.File = fileCfg(func(*FileConfig) {})
			c.FieldFilters = []map[string]any{{"fields": []any{"process.capabilities"}, "action": "EXCLUDE"}}
		}, want: []string{`field_filters[0].fields[0] "process.capabilities": no such field`}},
		{name: "file mode field filter inside a wrapper", mutate: func(c *Config) {
			c.File = fileCfg(func(*FileConfig) {})
			c.FieldFilters = []map[string]any{{"fields": []any{"process.pid.value"}, "action": "EXCLUDE"}}
		}, want: []string{"field_filters: field filter 0:", "process.pid: cannot select fields inside UInt32Value", "file mode"}},
		{name: "grpc mode field filter inside a wrapper", mutate: func(c *Config) {
			c.FieldFilters = []map[string]any{{"fields": []any{"process.pid.value"}, "action": "EXCLUDE"}}
		}},
		{name: "grpc section and file", mutate: func(c *Config) {
			c.File = fileCfg(func(*FileConfig) {})
			grpcOf(c).Endpoint = "localhost:54321"
		}, want: []string{"grpc and file are both set; keep one"}},
		{name: "grpc section with defaults and file", mutate: func(c *Config) {
			c.File = fileCfg(func(*FileConfig) {})
			c.GRPC = configoptional.Some(defaultGRPCConfig())
		}, want: []string{"grpc and file are both set"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := createDefaultConfig().(*Config)
			tt.mutate(cfg)
			err := confmap.Validate(cfg)
			if len(tt.want) == 0 {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			for _, w := range tt.want {
				assert.Contains(t, err.Error(), w)
			}
		})
	}
}

func TestConfigTLSValidatedByConfigtls(t *testing.T) {
	cm := confmap.NewFromStringMap(map[string]any{
		"grpc": map[string]any{"tls": map[string]any{"min_version": "1.9"}},
	})
	cfg := createDefaultConfig().(*Config)
	require.NoError(t, cm.Unmarshal(cfg))
	require.True(t, cfg.GRPC.Get().TLS.HasValue())
	assert.ErrorContains(t, confmap.Validate(cfg), "1.9")
}

func TestConfigFileSectionSelectsFileMode(t *testing.T) {
	cm := confmap.NewFromStringMap(map[string]any{"file": map[string]any{"path": "/tmp/t.log"}})
	cfg := createDefaultConfig().(*Config)
	require.NoError(t, cm.Unmarshal(cfg))
	require.True(t, cfg.fileMode())
	assert.Equal(t, "end", cfg.File.Get().StartAt, "defaults fill the rest of the section")
	assert.False(t, createDefaultConfig().(*Config).fileMode(), "no file section: gRPC mode")
}

// The gRPC settings of the form before the grpc section are still read, moved under grpc and
// named for the deprecation warning; beside a grpc or file section they are an error saying what
// to write instead. Every present key counts, whatever its value.
func TestConfigLegacyGRPCKeys(t *testing.T) {
	unmarshal := func(t *testing.T, m map[string]any) *Config {
		t.Helper()
		cfg := createDefaultConfig().(*Config)
		require.NoError(t, confmap.NewFromStringMap(m).Unmarshal(cfg))
		return cfg
	}
	t.Run("accepted and moved under grpc", func(t *testing.T) {
		cfg := unmarshal(t, map[string]any{
			"endpoint": "localhost:54321", "read_coalesce": "10ms",
			"reconnect": map[string]any{"max_interval": "1m"},
			"batch":     map[string]any{"max_size": 100},
		})
		require.NoError(t, confmap.Validate(cfg))
		assert.Equal(t, []string{"endpoint", "reconnect", "read_coalesce"}, cfg.legacyKeys)
		require.True(t, cfg.GRPC.HasValue())
		g := cfg.GRPC.Get()
		assert.Equal(t, "localhost:54321", g.Endpoint)
		assert.Equal(t, 10*time.Millisecond, g.ReadCoalesce)
		assert.Equal(t, ReconnectConfig{InitialInterval: time.Second, MaxInterval: time.Minute}, g.Reconnect)
		assert.Equal(t, defaultInfoFile, g.InfoFile, "defaults fill the rest")
		assert.Equal(t, 100, cfg.Batch.MaxSize)
		assert.Equal(t, "grpc: {endpoint: …, reconnect: …, read_coalesce: …}", cfg.legacyHint())
	})
	t.Run("invalid legacy values are reported under grpc", func(t *testing.T) {
		cfg := unmarshal(t, map[string]any{"max_event_bytes": 10})
		assert.ErrorContains(t, confmap.Validate(cfg), "grpc.max_event_bytes: 10 is out of range")
	})
	for _, tc := range []struct {
		name string
		conf map[string]any
		want []string
	}{
		{name: "beside grpc", conf: map[string]any{"endpoint": "localhost:1", "grpc": map[string]any{"read_coalesce": "0s"}},
			want: []string{"endpoint: gRPC settings at the top level (deprecated) cannot be combined with the grpc section; move them into it (grpc: {endpoint: …})"}},
		{name: "beside file, default value", conf: map[string]any{"read_coalesce": "50ms", "file": map[string]any{"path": "/t.log"}},
			want: []string{"read_coalesce: gRPC settings at the top level only apply to gRPC mode, but `file` is set; remove them, or remove `file`"}},
		{name: "beside file, other value", conf: map[string]any{"read_coalesce": "40ms", "max_event_bytes": 4096, "file": map[string]any{"path": "/t.log"}},
			want: []string{"read_coalesce, max_event_bytes: gRPC settings at the top level only apply to gRPC mode"}},
		{name: "beside file, empty tls", conf: map[string]any{"tls": nil, "file": map[string]any{"path": "/t.log"}},
			want: []string{"tls: gRPC settings at the top level"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := unmarshal(t, tc.conf)
			err := confmap.Validate(cfg)
			require.Error(t, err)
			for _, w := range tc.want {
				assert.Contains(t, err.Error(), w)
			}
			assert.NotContains(t, err.Error(), "both set", "the legacy keys are not merged into a section")
		})
	}
}

// The deprecation warning is logged once, at start, naming the keys and the new form.
func TestLegacyGRPCKeysWarnAtStart(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	require.NoError(t, confmap.NewFromStringMap(map[string]any{"endpoint": "unix:///nonexistent/tetragon.sock", "info_file": ""}).Unmarshal(cfg))
	require.NoError(t, confmap.Validate(cfg))
	core, logs := observer.New(zap.WarnLevel)
	set := receivertest.NewNopSettings(metadata.Type)
	set.Logger = zap.New(core)
	r, err := newReceiver(set, cfg, consumertest.NewNop())
	require.NoError(t, err)
	require.NoError(t, r.Start(context.Background(), componenttest.NewNopHost()))
	require.NoError(t, r.Shutdown(context.Background()))
	warned := logs.FilterMessageSnippet("Deprecated configuration").All()
	require.Len(t, warned, 1)
	assert.Equal(t, []any{"endpoint", "info_file"}, warned[0].ContextMap()["keys"])
	assert.Equal(t, "grpc: {endpoint: …, info_file: …}", warned[0].ContextMap()["write_instead"])
}

// TestReadmeLeanExampleIsTestdataLean keeps the README's "Asking Tetragon
// for less" example identical to the tetragon/lean instance of
// testdata/config.yaml, which the detection catalogue is tested against.
func TestReadmeLeanExampleIsTestdataLean(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	require.NoError(t, err)
	var example string
	for _, m := range regexp.MustCompile("(?s)```yaml\n(.*?)```").FindAllStringSubmatch(string(readme), -1) {
		if strings.Contains(m[1], "action: EXCLUDE") {
			example = m[1]
		}
	}
	require.NotEmpty(t, example, "README has no field_filters EXCLUDE example")
	cm, err := confmap.NewRetrievedFromYAML([]byte(example))
	require.NoError(t, err)
	conf, err := cm.AsConf()
	require.NoError(t, err)
	sub, err := conf.Sub("receivers::tetragon")
	require.NoError(t, err)
	fromReadme := createDefaultConfig().(*Config)
	require.NoError(t, sub.Unmarshal(fromReadme))
	require.NoError(t, confmap.Validate(fromReadme))
	assert.Equal(t, loadConfig(t, "tetragon/lean").FieldFilters, fromReadme.FieldFilters)
}
