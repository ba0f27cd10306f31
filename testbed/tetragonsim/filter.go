// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package tetragonsim

import (
	"fmt"
	"regexp"
	"slices"

	"github.com/cilium/tetragon/api/v1/tetragon"
)

// RequestFilter decides which events a GetEvents stream receives, with Tetragon's semantics: an
// event passes when it matches at least one allow filter (or there are none) and no deny filter.
// Within one Filter every field that is set must match; within one field any value may match.
type RequestFilter struct {
	allow []eventFilter
	deny  []eventFilter
}

type eventFilter []func(*Meta) bool

// Match reports whether an event with meta m passes.
func (r *RequestFilter) Match(m *Meta) bool {
	if r == nil {
		return true
	}
	if len(r.allow) > 0 {
		ok := false
		for _, f := range r.allow {
			if f.match(m) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	for _, f := range r.deny {
		if f.match(m) {
			return false
		}
	}
	return true
}

func (f eventFilter) match(m *Meta) bool {
	for _, fn := range f {
		if !fn(m) {
			return false
		}
	}
	return true
}

// UnsupportedFilterError names a Filter field the simulator does not implement. The server
// answers it with codes.Unimplemented rather than silently sending events the client excluded.
type UnsupportedFilterError struct{ Field string }

func (e *UnsupportedFilterError) Error() string {
	return fmt.Sprintf("filter field %q is not supported by tetragon-sim (supported: event_set, namespace, "+
		"namespace_regex, binary_regex, arguments_regex, parent_binary_regex, parent_arguments_regex, "+
		"ancestor_binary_regex, pod_regex, container_name_regex, container_id, pid, in_init_tree, "+
		"policy_names, health_check)", e.Field)
}

// CompileRequestFilter compiles the allow and deny lists of a GetEvents request. Regexes are RE2
// (Go regexp); a bad regex or an unsupported field is an error.
func CompileRequestFilter(req *tetragon.GetEventsRequest) (*RequestFilter, error) {
	r := &RequestFilter{}
	for i, f := range req.GetAllowList() {
		ef, err := compileFilter(f)
		if err != nil {
			return nil, fmt.Errorf("allow_list[%d]: %w", i, err)
		}
		r.allow = append(r.allow, ef)
	}
	for i, f := range req.GetDenyList() {
		ef, err := compileFilter(f)
		if err != nil {
			return nil, fmt.Errorf("deny_list[%d]: %w", i, err)
		}
		r.deny = append(r.deny, ef)
	}
	return r, nil
}

func compileRegexes(field string, exprs []string) ([]*regexp.Regexp, error) {
	out := make([]*regexp.Regexp, 0, len(exprs))
	for _, e := range exprs {
		re, err := regexp.Compile(e)
		if err != nil {
			return nil, fmt.Errorf("%s: invalid RE2 regular expression %q: %w", field, e, err)
		}
		out = append(out, re)
	}
	return out, nil
}

func anyMatch(res []*regexp.Regexp, s string) bool {
	for _, re := range res {
		if re.MatchString(s) {
			return true
		}
	}
	return false
}

func compileFilter(f *tetragon.Filter) (eventFilter, error) {
	switch {
	case len(f.GetLabels()) > 0:
		return nil, &UnsupportedFilterError{"labels"}
	case f.GetCapabilities() != nil:
		return nil, &UnsupportedFilterError{"capabilities"}
	case len(f.GetCelExpression()) > 0:
		return nil, &UnsupportedFilterError{"cel_expression"}
	case len(f.GetPidSet()) > 0:
		return nil, &UnsupportedFilterError{"pid_set"}
	}
	var ef eventFilter
	// regexField adds a filter matching any of exprs against the value get returns; events without
	// a process never match (as in Tetragon).
	regexField := func(name string, exprs []string, needPod bool, get func(*Meta) string) error {
		if len(exprs) == 0 {
			return nil
		}
		res, err := compileRegexes(name, exprs)
		if err != nil {
			return err
		}
		ef = append(ef, func(m *Meta) bool {
			if !m.HasProcess || (needPod && !m.HasPod) {
				return false
			}
			return anyMatch(res, get(m))
		})
		return nil
	}
	if set := f.GetEventSet(); len(set) > 0 {
		set = slices.Clone(set)
		ef = append(ef, func(m *Meta) bool { return slices.Contains(set, m.Type) })
	}
	if ns := f.GetNamespace(); len(ns) > 0 {
		ns = slices.Clone(ns)
		// Host processes have no pod: the empty namespace selects them.
		ef = append(ef, func(m *Meta) bool {
			return m.HasProcess && slices.Contains(ns, m.Namespace)
		})
	}
	if pids := f.GetPid(); len(pids) > 0 {
		pids = slices.Clone(pids)
		ef = append(ef, func(m *Meta) bool { return m.HasProcess && slices.Contains(pids, m.PID) })
	}
	if names := f.GetPolicyNames(); len(names) > 0 {
		names = slices.Clone(names)
		ef = append(ef, func(m *Meta) bool { return m.PolicyName != "" && slices.Contains(names, m.PolicyName) })
	}
	if hc := f.GetHealthCheck(); hc != nil {
		want := hc.GetValue()
		ef = append(ef, func(m *Meta) bool { return m.HealthCheck == want })
	}
	if iit := f.GetInInitTree(); iit != nil {
		want := iit.GetValue()
		ef = append(ef, func(m *Meta) bool { return m.HasPod && m.InInitTree == want })
	}
	for _, rf := range []struct {
		name    string
		exprs   []string
		needPod bool
		get     func(*Meta) string
	}{
		{"binary_regex", f.GetBinaryRegex(), false, func(m *Meta) string { return m.Binary }},
		{"arguments_regex", f.GetArgumentsRegex(), false, func(m *Meta) string { return m.Arguments }},
		{"parent_binary_regex", f.GetParentBinaryRegex(), false, func(m *Meta) string { return m.ParentBinary }},
		{"parent_arguments_regex", f.GetParentArgumentsRegex(), false, func(m *Meta) string { return m.ParentArguments }},
		{"pod_regex", f.GetPodRegex(), true, func(m *Meta) string { return m.PodName }},
		{"namespace_regex", f.GetNamespaceRegex(), true, func(m *Meta) string { return m.Namespace }},
		{"container_name_regex", f.GetContainerNameRegex(), true, func(m *Meta) string { return m.ContainerName }},
		{"container_id", f.GetContainerId(), false, func(m *Meta) string { return m.Docker }},
	} {
		if err := regexField(rf.name, rf.exprs, rf.needPod, rf.get); err != nil {
			return nil, err
		}
	}
	if exprs := f.GetAncestorBinaryRegex(); len(exprs) > 0 {
		res, err := compileRegexes("ancestor_binary_regex", exprs)
		if err != nil {
			return nil, err
		}
		ef = append(ef, func(m *Meta) bool {
			for _, b := range m.AncestorBinaries {
				if anyMatch(res, b) {
					return true
				}
			}
			return false
		})
	}
	return ef, nil
}
