// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package secretredactionprocessor

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cilium/tetragon/api/v1/tetragon"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/metric/metricdata/metricdatatest"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/attrkey"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/eventmap"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/testenv"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/tetragonjson"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/processor/secretredactionprocessor/internal/metadatatest"
)

// mapLines maps Tetragon JSON lines as the receiver does, with the given body mode.
func mapLines(t *testing.T, body eventmap.BodyMode, lines ...[]byte) plog.Logs {
	t.Helper()
	b := eventmap.NewBatch(eventmap.Options{Body: body})
	var ev tetragon.GetEventsResponse
	for _, l := range lines {
		if tetragonjson.DecodeJSON(l, &ev) == nil {
			require.NoError(t, b.Add(&ev, l, time.Now()))
		}
	}
	return b.Flush()
}

// secretExec is a process_exec whose arguments hold the secrets; its parent's too.
const secretExec = `{"process_exec":{"process":{"exec_id":"ZTE6MQ==","pid":10,"binary":"/usr/bin/mysql","arguments":"-uroot -pS3cr3t --password=hunter2 -e \"select 1\" --url=https://u:p4ss@db/x","pod":{"namespace":"shop","name":"web-0","container":{"id":"containerd://abc","name":"app"}}},"parent":{"exec_id":"ZTE6MA==","pid":9,"binary":"/bin/sh","arguments":"-c curl -H 'Authorization: Bearer tok3nvalue99' http://x"}},"node_name":"n1","time":"2026-12-07T10:00:00Z"}`

func run(t *testing.T, cfg *Config, ld plog.Logs) (plog.Logs, *componenttest.Telemetry) {
	t.Helper()
	tel := componenttest.NewTelemetry()
	t.Cleanup(func() { require.NoError(t, tel.Shutdown(context.Background())) })
	sink := new(consumertest.LogsSink)
	p, err := NewFactory().CreateLogs(context.Background(), metadatatest.NewSettings(tel), cfg, sink)
	require.NoError(t, err)
	require.NoError(t, p.Start(context.Background(), componenttest.NewNopHost()))
	require.NoError(t, p.ConsumeLogs(context.Background(), ld))
	require.NoError(t, p.Shutdown(context.Background()))
	require.Len(t, sink.AllLogs(), 1)
	return sink.AllLogs()[0], tel
}

func firstRecord(ld plog.Logs) plog.LogRecord {
	return ld.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0)
}

var secrets = []string{"S3cr3t", "hunter2", "p4ss", "tok3nvalue99"}

func assertNoSecret(t *testing.T, where, s string) {
	t.Helper()
	for _, sec := range secrets {
		assert.NotContains(t, s, sec, "%s still holds %q: %s", where, sec, s)
	}
}

// The three places a command line is stored (body, process.command_line,
// tetragon.process.arguments) and the parent's are masked, keeping the key names; a JSON body stays
// JSON, without a rescan.
func TestMasksEveryCopy(t *testing.T) {
	for _, body := range []eventmap.BodyMode{eventmap.BodyJSON, eventmap.BodyMap} {
		t.Run(string(body), func(t *testing.T) {
			out, tel := run(t, createDefaultConfig().(*Config), mapLines(t, body, []byte(secretExec)))
			lr := firstRecord(out)
			a := lr.Attributes()
			for _, k := range []string{attrkey.ProcessCommandLine, attrkey.TetragonArguments, attrkey.ProcessParentCommandLine, attrkey.TetragonParentArgs} {
				v, ok := a.Get(k)
				require.True(t, ok, k)
				assertNoSecret(t, k, v.Str())
			}
			cl, _ := a.Get(attrkey.ProcessCommandLine)
			assert.Equal(t, `/usr/bin/mysql -uroot -p*** --password=*** -e "select 1" --url=https://u:***@db/x`, cl.Str())
			pcl, _ := a.Get(attrkey.ProcessParentCommandLine)
			assert.Contains(t, pcl.Str(), "Authorization: Bearer ***")
			red, _ := a.Get(attrkey.Redacted)
			assert.True(t, red.Bool())
			bodyText := lr.Body().AsString()
			assertNoSecret(t, "body", bodyText)
			if body == eventmap.BodyJSON {
				var m map[string]any
				require.NoError(t, json.Unmarshal([]byte(bodyText), &m), "masked body is not JSON: %s", bodyText)
				assert.Contains(t, bodyText, `--password=***`)
			}
			metadatatest.AssertEqualProcessorSecretRedactionRecordsRedacted(t, tel, []metricdata.DataPoint[int64]{{Value: 1}}, metricdatatest.IgnoreTimestamp())
		})
	}
}

// A body that does not hold the attribute's value as expected is scanned whole (and counted).
func TestBodyRescan(t *testing.T) {
	ld := mapLines(t, eventmap.BodyJSON, []byte(secretExec))
	lr := firstRecord(ld)
	lr.Body().SetStr(strings.ReplaceAll(lr.Body().Str(), `-uroot `, `-uroot  `)) // no longer verbatim
	out, tel := run(t, createDefaultConfig().(*Config), ld)
	assertNoSecret(t, "body", firstRecord(out).Body().Str())
	metadatatest.AssertEqualProcessorSecretRedactionBodyRescans(t, tel, []metricdata.DataPoint[int64]{{Value: 1}}, metricdatatest.IgnoreTimestamp())
}

// Genuine Tetragon output holds no secrets: nothing in the real and captured corpora is changed.
func TestCorpusUnchanged(t *testing.T) {
	dir := testenv.EventsDir(t)
	files, err := filepath.Glob(filepath.Join(dir, "real", "*.jsonl"))
	require.NoError(t, err)
	gz, err := filepath.Glob(filepath.Join(dir, "*", "*.jsonl.gz"))
	require.NoError(t, err)
	files = append(files, gz...)
	require.NotEmpty(t, files)
	n := 0
	for _, f := range files {
		lines := testenv.ReadLines(t, f)
		n += len(lines)
		in := mapLines(t, eventmap.BodyJSON, lines...)
		before := plog.NewLogs()
		in.CopyTo(before)
		out, _ := run(t, createDefaultConfig().(*Config), in)
		if !assert.Equal(t, before, out, "%s: a genuine event was changed", filepath.Base(f)) {
			return
		}
	}
	t.Logf("%d corpus events unchanged", n)
}

func TestValidate(t *testing.T) {
	ok := createDefaultConfig().(*Config)
	require.NoError(t, ok.Validate())
	for _, tc := range []struct {
		cfg  Config
		want string
	}{
		{Config{Body: true}, "attributes is empty"},
		{Config{Attributes: []string{"a", ""}}, "attributes[1] is empty"},
		{Config{Attributes: []string{"a", "a"}}, `attributes[1]: "a" is listed twice`},
	} {
		err := tc.cfg.Validate()
		require.Error(t, err)
		assert.Contains(t, err.Error(), tc.want)
	}
}

func BenchmarkProcessLogs(b *testing.B) {
	benign := []byte(`{"process_exec":{"process":{"exec_id":"ZTE6MQ==","pid":10,"binary":"/usr/bin/python3","arguments":"-m gunicorn app:app --workers 4 --bind 0.0.0.0:8080","pod":{"namespace":"shop","name":"web-0","container":{"id":"containerd://abc","name":"app"}}},"parent":{"exec_id":"ZTE6MA==","pid":9,"binary":"/bin/sh","arguments":"-c run"}},"node_name":"n1","time":"2026-12-07T10:00:00Z"}`)
	for name, line := range map[string][]byte{"benign": benign, "secret": []byte(secretExec)} {
		b.Run(name, func(b *testing.B) {
			p, err := newProcessor(metadatatest.NewSettings(componenttest.NewTelemetry()), createDefaultConfig().(*Config))
			require.NoError(b, err)
			ld := mapLines(&testing.T{}, eventmap.BodyJSON, line)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				in := plog.NewLogs()
				ld.CopyTo(in)
				b.StartTimer()
				_, _ = p.processLogs(context.Background(), in)
			}
		})
	}
}
