// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package alertmanagerexporter

import (
	"os"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/confmap"
	"go.yaml.in/yaml/v3"
)

// TestReadmeExamplesValidate keeps the README's YAML examples valid configurations.
func TestReadmeExamplesValidate(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	require.NoError(t, err)
	blocks := regexp.MustCompile("(?s)```yaml\n(.*?)```").FindAllSubmatch(readme, -1)
	require.Len(t, blocks, 2)
	for i, b := range blocks {
		var raw map[string]any
		require.NoError(t, yaml.Unmarshal(b[1], &raw), "block %d", i)
		if exps, ok := raw["exporters"].(map[string]any); ok {
			raw, _ = exps["alertmanager"].(map[string]any)
		}
		raw["endpoint"] = "http://127.0.0.1:9093" // ${env:…} is the collector's to expand
		cfg := createDefaultConfig().(*Config)
		require.NoError(t, confmap.NewFromStringMap(raw).Unmarshal(cfg), "block %d", i)
		assert.NoError(t, cfg.Validate(), "block %d", i)
		if cfg.EvidenceURLTemplate != defaultEvidenceURLTemplate {
			tmpl, err := parseURLTemplate("evidence_url_template", cfg.EvidenceURLTemplate)
			require.NoError(t, err)
			out, err := execTemplate(tmpl, sampleTemplateData)
			require.NoError(t, err)
			assert.NotContains(t, out, " ", "block %d gives an unescaped URL: %s", i, out)
		}
	}
}

// TestReadmeDocumentsEveryKey: the configuration table has a row per key of Config.
func TestReadmeDocumentsEveryKey(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	require.NoError(t, err)
	keys := []string{"endpoint", "timeout"} // confighttp's (squashed); the others share one row
	typ := reflect.TypeOf(Config{})
	for i := 0; i < typ.NumField(); i++ {
		tag, _, _ := strings.Cut(typ.Field(i).Tag.Get("mapstructure"), ",")
		if tag != "" {
			keys = append(keys, tag)
		}
	}
	for _, k := range keys {
		assert.True(t, strings.Contains(string(readme), "| `"+k+"`"), "README lacks a row for %s", k)
	}
}
