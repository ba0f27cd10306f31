// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package tetragonfilter

import (
	"testing"

	"github.com/cilium/tetragon/api/v1/tetragon"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFiltersConvertsTetragonFieldNames(t *testing.T) {
	got, err := Filters("allow_list", []map[string]any{
		{
			"event_set":    []any{"PROCESS_EXEC", "PROCESS_KPROBE"},
			"namespace":    []any{"default", "kube-system"},
			"binary_regex": []any{"^/bin/", `^/usr/bin/(curl|wget)$`},
			"pid":          []any{1, 2},
			"health_check": false,
			"labels":       []any{"app=web"},
			"capabilities": map[string]any{"effective": map[string]any{"any": []any{"CAP_SYS_ADMIN"}}},
		},
		{"podRegex": []any{"^xwing"}}, // protojson's JSON name is accepted too
	})
	require.NoError(t, err)
	require.Len(t, got, 2)
	f := got[0]
	assert.Equal(t, []tetragon.EventType{tetragon.EventType_PROCESS_EXEC, tetragon.EventType_PROCESS_KPROBE}, f.EventSet)
	assert.Equal(t, []string{"default", "kube-system"}, f.Namespace)
	assert.Equal(t, []string{"^/bin/", `^/usr/bin/(curl|wget)$`}, f.BinaryRegex)
	assert.Equal(t, []uint32{1, 2}, f.Pid)
	require.NotNil(t, f.HealthCheck)
	assert.False(t, f.HealthCheck.Value)
	assert.Equal(t, []string{"app=web"}, f.Labels)
	assert.Equal(t, []tetragon.CapabilitiesType{tetragon.CapabilitiesType_CAP_SYS_ADMIN}, f.GetCapabilities().GetEffective().GetAny())
	assert.Equal(t, []string{"^xwing"}, got[1].PodRegex)
}

func TestFiltersErrorsNameListIndexAndField(t *testing.T) {
	tests := []struct {
		name string
		in   []map[string]any
		want []string
	}{
		{"unknown field", []map[string]any{{"event_set": []any{"PROCESS_EXEC"}}, {"binary": []any{"x"}}},
			[]string{`deny_list[1]: unknown field "binary"`, "binary_regex"}},
		{"bad event type", []map[string]any{{"event_set": []any{"PROCESS_EXECC"}}},
			[]string{`deny_list[0].event_set: unknown value "PROCESS_EXECC"`, "PROCESS_EXEC"}},
		{"bad regex", []map[string]any{{"binary_regex": []any{"ok", "(unclosed"}}},
			[]string{`deny_list[0].binary_regex[1]: invalid RE2 regular expression "(unclosed"`}},
		{"RE2 rejects backreferences", []map[string]any{{"pod_regex": []any{`(a)\1`}}},
			[]string{`deny_list[0].pod_regex[0]: invalid RE2`}},
		{"wrong type", []map[string]any{{"pid": []any{"one"}}},
			[]string{`deny_list[0].pid:`}},
		{"empty filter", []map[string]any{{}},
			[]string{`deny_list[0]: an empty filter matches every event`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Filters("deny_list", tt.in)
			require.Error(t, err)
			for _, w := range tt.want {
				assert.Contains(t, err.Error(), w)
			}
		})
	}
}

func TestFieldFilters(t *testing.T) {
	got, err := FieldFilters([]map[string]any{
		{"event_set": []any{"PROCESS_EXEC"}, "fields": []any{"process.binary", "process.pod.namespace", "process.execId"}, "action": "INCLUDE"},
		{"fields": "process.arguments, parent", "action": "EXCLUDE", "invert_event_set": true, "event_set": []any{"PROCESS_KPROBE"}},
	})
	require.NoError(t, err)
	require.Len(t, got, 2)
	assert.Equal(t, []string{"process.binary", "process.pod.namespace", "process.exec_id"}, got[0].Fields.Paths)
	assert.Equal(t, tetragon.FieldFilterAction_INCLUDE, got[0].Action)
	assert.Equal(t, []string{"process.arguments", "parent"}, got[1].Fields.Paths)
	assert.Equal(t, tetragon.FieldFilterAction_EXCLUDE, got[1].Action)
	assert.True(t, got[1].InvertEventSet.GetValue())
}

// invert_event_set selects every event type but the listed ones, so a path is checked against
// those: function_name exists in kprobes, not in ProcessExit.
func TestFieldFiltersInvertedEventSet(t *testing.T) {
	_, err := FieldFilters([]map[string]any{{"event_set": []any{"PROCESS_EXIT"}, "invert_event_set": true, "fields": []any{"function_name"}, "action": "EXCLUDE"}})
	require.NoError(t, err)
	_, err = FieldFilters([]map[string]any{{"event_set": []any{"PROCESS_KPROBE", "PROCESS_TRACEPOINT", "PROCESS_UPROBE", "PROCESS_LSM", "PROCESS_USDT"}, "fields": []any{"function_name"}}})
	require.NoError(t, err)
	_, err = FieldFilters([]map[string]any{{"event_set": []any{"PROCESS_KPROBE", "PROCESS_UPROBE", "PROCESS_LSM", "PROCESS_USDT"}, "invert_event_set": true, "fields": []any{"function_name"}}})
	require.ErrorContains(t, err, "no such field in ProcessExec")
}

func TestFieldFiltersErrors(t *testing.T) {
	tests := []struct {
		name string
		in   map[string]any
		want string
	}{
		{"missing fields", map[string]any{"action": "INCLUDE"}, "field_filters[0].fields: required"},
		{"typo in path", map[string]any{"fields": []any{"process.binnary"}}, `field_filters[0].fields[0] "process.binnary": no such field`},
		{"path not in selected event", map[string]any{"event_set": []any{"PROCESS_EXIT"}, "fields": []any{"function_name"}}, "no such field in ProcessExit"},
		{"bad action", map[string]any{"fields": "process", "action": "DROP"}, `field_filters[0].action: unknown value "DROP"; valid values: INCLUDE, EXCLUDE`},
		{"bad fields type", map[string]any{"fields": 3}, "field_filters[0].fields: is int"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := FieldFilters([]map[string]any{tt.in})
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}
