// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package deploytest

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"go.opentelemetry.io/collector/confmap"
	"go.yaml.in/yaml/v3"
)

// MergeConfig merges collector configuration files the way the collector merges repeated
// --config flags (confmap: maps merge key by key, anything else, lists included, is replaced).
func MergeConfig(files []ConfigFile) (*confmap.Conf, error) {
	conf := confmap.New()
	for _, f := range files {
		var m map[string]any
		if err := yaml.Unmarshal(f.Data, &m); err != nil {
			return nil, fmt.Errorf("%s: %w", f.Path, err)
		}
		if err := conf.Merge(confmap.NewFromStringMap(m)); err != nil {
			return nil, fmt.Errorf("%s: %w", f.Path, err)
		}
	}
	return conf, nil
}

var envRef = regexp.MustCompile(`\$\{env:([A-Za-z_][A-Za-z0-9_]*)(:-([^}]*))?\}`)

// EnvRef is one ${env:NAME} or ${env:NAME:-default} reference.
type EnvRef struct {
	Name       string
	HasDefault bool
	Default    string
}

// EnvRefs lists the environment references in data, in order of appearance.
func EnvRefs(data []byte) []EnvRef {
	var out []EnvRef
	for _, m := range envRef.FindAllSubmatch(data, -1) {
		out = append(out, EnvRef{Name: string(m[1]), HasDefault: m[2] != nil, Default: string(m[3])})
	}
	return out
}

// ExpandEnv replaces ${env:NAME[:-default]} references with env's values (or the default when
// NAME is absent from env), as the collector's env provider does.
func ExpandEnv(s string, env map[string]string) string {
	return envRef.ReplaceAllStringFunc(s, func(ref string) string {
		m := envRef.FindStringSubmatch(ref)
		if v, ok := env[m[1]]; ok && (v != "" || m[2] == "") {
			return v
		}
		return m[3]
	})
}

// ExpandKubernetesVars expands $(NAME) references as the kubelet does in a container's env
// values, command and args: a defined NAME is replaced by its value, an undefined reference is
// left as it is, and $$ is a literal $.
func ExpandKubernetesVars(s string, env map[string]string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '$' || i+1 == len(s) {
			b.WriteByte(s[i])
			continue
		}
		switch s[i+1] {
		case '$':
			b.WriteByte('$')
			i++
		case '(':
			end := strings.IndexByte(s[i+2:], ')')
			if end < 0 {
				b.WriteString(s[i:])
				return b.String()
			}
			ref := s[i : i+3+end]
			if v, ok := env[s[i+2:i+2+end]]; ok {
				b.WriteString(v)
			} else {
				b.WriteString(ref)
			}
			i += 2 + end
		default:
			b.WriteByte('$')
		}
	}
	return b.String()
}

// Str returns conf's value at the "::"-separated key as a string ("" when absent).
func Str(conf *confmap.Conf, key string) string {
	v, _ := conf.Get(key).(string)
	return v
}

// Strings returns conf's list value at key as strings.
func Strings(conf *confmap.Conf, key string) []string {
	raw, _ := conf.Get(key).([]any)
	out := make([]string, 0, len(raw))
	for _, v := range raw {
		s, _ := v.(string)
		out = append(out, s)
	}
	return out
}

// Keys returns the sorted keys of the map at key.
func Keys(conf *confmap.Conf, key string) []string {
	m, _ := conf.Get(key).(map[string]any)
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// PodLayout maps the directories the DaemonSet mounts to local directories, so that a
// configuration written for the pod (config and rules under /etc/otelcol-runtime-security,
// storage under /var/lib/otelcol-runtime-security) can be loaded on the test machine.
type PodLayout struct {
	// Mounts maps a pod path prefix to a local directory.
	Mounts map[string]string
}

// Local rewrites every pod path prefix of Mounts in s to its local directory.
func (l PodLayout) Local(s string) string {
	prefixes := make([]string, 0, len(l.Mounts))
	for p := range l.Mounts {
		prefixes = append(prefixes, p)
	}
	// Longest first, so that nested mounts win.
	sort.Slice(prefixes, func(i, j int) bool { return len(prefixes[i]) > len(prefixes[j]) })
	for _, p := range prefixes {
		s = strings.ReplaceAll(s, p, l.Mounts[p])
	}
	return s
}

// WriteFiles writes files (pod paths) into their local places and returns the local paths in
// the same order. Every path must fall under one of the layout's mounts.
func (l PodLayout) WriteFiles(files []ConfigFile) ([]string, error) {
	var out []string
	for _, f := range files {
		local := l.Local(f.Path)
		if local == f.Path {
			return nil, fmt.Errorf("%s is under none of the layout's mounts", f.Path)
		}
		if err := os.MkdirAll(filepath.Dir(local), 0o755); err != nil {
			return nil, err
		}
		if err := os.WriteFile(local, []byte(l.Local(string(f.Data))), 0o644); err != nil {
			return nil, err
		}
		out = append(out, local)
	}
	if len(out) == 0 {
		return nil, errors.New("no files")
	}
	return out, nil
}
