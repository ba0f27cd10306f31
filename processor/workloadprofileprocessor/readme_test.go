// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package workloadprofileprocessor

import (
	"fmt"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/confmap"
	"go.yaml.in/yaml/v3"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/workloadprofile"
)

// configDefaults lists the dotted keys of a config struct with their
// values as the README writes defaults (24h, 30s, 2000, [], none).
func configDefaults(v reflect.Value, prefix string, out map[string]string) {
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("mapstructure")
		if tag == "" || tag == "-" {
			continue
		}
		fv := v.Field(i)
		switch {
		case f.Type == reflect.TypeFor[time.Duration]():
			out[prefix+tag] = readmeDuration(time.Duration(fv.Int()))
		case f.Type.Kind() == reflect.Struct:
			configDefaults(fv, prefix+tag+".", out)
		case f.Type.Kind() == reflect.Int:
			out[prefix+tag] = strconv.FormatInt(fv.Int(), 10)
		case f.Type.Kind() == reflect.Slice && fv.Len() == 0:
			out[prefix+tag] = "[]"
		case f.Type.Kind() == reflect.Pointer && fv.IsNil():
			out[prefix+tag] = "none"
		default:
			out[prefix+tag] = fmt.Sprint(fv.Interface())
		}
	}
}

func readmeDuration(d time.Duration) string {
	switch {
	case d == 0:
		return "0"
	case d%time.Hour == 0:
		return fmt.Sprintf("%dh", d/time.Hour)
	case d%time.Minute == 0:
		return fmt.Sprintf("%dm", d/time.Minute)
	default:
		return d.String()
	}
}

// TestReadmeConfigTable keeps the README's configuration reference
// complete and its defaults the factory's.
func TestReadmeConfigTable(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	require.NoError(t, err)
	rows := regexp.MustCompile("(?m)^\\| `([a-z_.]+)` \\| `?([^|`]*)`? \\|").FindAllSubmatch(readme, -1)
	documented := map[string]string{}
	for _, r := range rows {
		documented[string(r[1])] = strings.TrimSpace(string(r[2]))
	}
	defaults := map[string]string{}
	configDefaults(reflect.ValueOf(*defaultConfig()), "", defaults)
	require.Len(t, defaults, 17)
	for k, want := range defaults {
		if assert.Contains(t, documented, k, "README configuration table lacks %s", k) {
			assert.Equal(t, want, documented[k], "default of %s", k)
		}
	}
}

// TestReadmeExamples: the processor config example validates, and the
// profile file example is a valid profile file.
func TestReadmeExamples(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	require.NoError(t, err)
	blocks := regexp.MustCompile("(?s)```yaml\n(.*?)```").FindAllSubmatch(readme, -1)
	require.GreaterOrEqual(t, len(blocks), 2)

	var doc struct {
		Processors map[string]map[string]any `yaml:"processors"`
	}
	require.NoError(t, yaml.Unmarshal(blocks[0][1], &doc))
	cfg := defaultConfig()
	require.NoError(t, confmap.NewFromStringMap(doc.Processors["workload_profile"]).Unmarshal(cfg))
	cfg.ProfilesFiles = slices.DeleteFunc(cfg.ProfilesFiles, func(string) bool { return true }) // not on this machine
	require.NoError(t, cfg.Validate())

	p, err := workloadprofile.Unmarshal(blocks[1][1], "README.md")
	require.NoError(t, err)
	assert.Equal(t, "payments/Deployment/api/app", p.ID())
	assert.Equal(t, workloadprofile.StateEnforcing, p.State())
}
