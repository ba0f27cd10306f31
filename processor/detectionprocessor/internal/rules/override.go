// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package rules

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
)

func applyOverride(file string, ov OverrideSpec, byName map[string]*entry, errs *errorList) {
	if ov.Name == "" {
		errs.add(file, ov.line, "", "overrides.name", errors.New("an override needs the name of the rule it changes"))
		return
	}
	e, ok := byName[ov.Name]
	if !ok {
		known := make([]string, 0, len(byName))
		for n := range byName {
			known = append(known, n)
		}
		sort.Strings(known)
		errs.add(file, ov.line, ov.Name, "overrides", fmt.Errorf("no rule of that name to override; known rules: %s", strings.Join(known, ", ")))
		return
	}
	if ov.Enabled != nil {
		v := *ov.Enabled
		e.spec.Enabled = &v
	}
	if ov.Severity != "" {
		if _, err := ParseSeverity(ov.Severity); err != nil {
			errs.add(file, ov.line, ov.Name, "overrides.severity", err)
		} else {
			e.spec.Severity = ov.Severity
		}
	}
	if ov.Scope != nil {
		e.spec.Scope = ov.Scope
	}
	if ov.Suppress != nil {
		e.spec.Suppress = ov.Suppress
	}
	// Copy the exceptions so that appending never aliases a spec slice.
	exs := slices.Clone(e.spec.Exceptions)
	for _, add := range ov.AppendExceptions {
		add.file = file
		if add.Name == "" {
			errs.add(file, add.line, ov.Name, "append_exceptions.name", errors.New("an appended exception needs a name"))
			continue
		}
		idx := slices.IndexFunc(exs, func(x ExceptionSpec) bool { return x.Name == add.Name })
		if idx < 0 {
			if len(add.Fields) == 0 {
				errs.add(file, add.line, ov.Name, "append_exceptions["+add.Name+"]",
					errors.New("the rule has no exception of that name, so this adds a new one and needs fields"))
				continue
			}
			exs = append(exs, add)
			continue
		}
		ex := exs[idx]
		if len(add.Fields) > 0 && !slices.Equal(add.Fields, ex.Fields) {
			errs.add(file, add.line, ov.Name, "append_exceptions["+add.Name+"].fields",
				fmt.Errorf("fields %v differ from the existing exception's fields %v; omit fields to append values", []string(add.Fields), []string(ex.Fields)))
			continue
		}
		if len(add.Comps) > 0 && !slices.Equal(add.Comps, ex.Comps) {
			errs.add(file, add.line, ov.Name, "append_exceptions["+add.Name+"].comps",
				fmt.Errorf("comps %v differ from the existing exception's comps %v; omit comps to append values", []string(add.Comps), []string(ex.Comps)))
			continue
		}
		fits := true
		for i, t := range add.Values {
			if len(t) != len(ex.Fields) {
				errs.add(file, add.line, ov.Name, fmt.Sprintf("append_exceptions[%s].values[%d]", add.Name, i),
					fmt.Errorf("tuple has %d items, want %d (fields: %s)", len(t), len(ex.Fields), strings.Join(ex.Fields, ", ")))
				fits = false
			}
		}
		if !fits {
			continue
		}
		ex.Values = append(slices.Clone(ex.Values), add.Values...)
		exs[idx] = ex
	}
	e.spec.Exceptions = exs
}
