// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package rules

import (
	"bytes"
	"errors"
	"io"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

var yamlLineRE = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)

// addYAMLError splits a YAML error into one located error per problem.
func addYAMLError(errs *errorList, file string, err error) {
	var te *yaml.TypeError
	msgs := []string{err.Error()}
	if errors.As(err, &te) {
		msgs = te.Errors
	}
	for _, m := range msgs {
		m = friendlyTypes.Replace(m)
		if sm := yamlLineRE.FindStringSubmatch(m); sm != nil {
			line, _ := strconv.Atoi(sm[1])
			errs.add(file, line, "", "", errors.New(sm[2]))
			continue
		}
		errs.add(file, 0, "", "", errors.New(m))
	}
}

var friendlyTypes = strings.NewReplacer(
	"type rules.Document", "file (top-level keys: lists, rules, overrides, chains)",
	"type rules.RuleSpec", "rule",
	"type rules.ExceptionSpec", "exception",
	"type rules.OverrideSpec", "override",
	"type rules.ScopeSpec", "scope (keys: namespaces, workloads)",
	"type rules.IncludeExclude", "include/exclude (keys: include, exclude)",
	"type rules.SuppressSpec", "suppress (keys: window, key)",
	"type rules.ChainSpec", "chain (keys: name, description, category, severity, mitre, within, by, steps, enabled)",
	"type rules.ChainStepSpec", "chain step (keys: name, rules, condition)",
	"rules.Document", "file (top-level keys: lists, rules, overrides, chains)",
	"rules.RuleSpec", "rule",
	"rules.ExceptionSpec", "exception",
	"rules.OverrideSpec", "override",
	"rules.ScopeSpec", "scope (keys: namespaces, workloads)",
	"rules.IncludeExclude", "include/exclude (keys: include, exclude)",
	"rules.SuppressSpec", "suppress (keys: window, key)",
	"rules.ChainSpec", "chain (keys: name, description, category, severity, mitre, within, by, steps, enabled)",
	"rules.ChainStepSpec", "chain step (keys: name, rules, condition)",
)

func parseDocument(src Source) (*Document, error) {
	var doc Document
	dec := yaml.NewDecoder(bytes.NewReader(src.Data))
	dec.KnownFields(true)
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return &doc, nil // an empty file defines nothing
		}
		return nil, err
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return nil, errors.New("more than one YAML document in the file; put everything in one")
	}
	var root yaml.Node
	if err := yaml.Unmarshal(src.Data, &root); err == nil {
		doc.setLines(&root)
		m := root.Content[0]
		doc.declares = mappingValue(m, "rules") != nil || mappingValue(m, "overrides") != nil || mappingValue(m, "chains") != nil || mappingValue(m, "lists") != nil
	}
	return &doc, nil
}
