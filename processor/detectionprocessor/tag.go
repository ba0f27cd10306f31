// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package detectionprocessor

import (
	"slices"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/attrkey"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/processor/detectionprocessor/internal/incident"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/processor/detectionprocessor/internal/rules"
)

// severityNumber maps rule severities onto the OTel log severity scale.
func severityNumber(s rules.Severity) (plog.SeverityNumber, string) {
	switch s {
	case rules.SeverityCritical:
		return plog.SeverityNumberFatal, "FATAL"
	case rules.SeverityWarning:
		return plog.SeverityNumberWarn, "WARN"
	default:
		return plog.SeverityNumberInfo, "INFO"
	}
}

// match is a rule that fired on a record and was not suppressed.
type match struct {
	rule       *rules.Rule
	severity   rules.Severity // the rule's, or its escalation's when that condition held
	suppressed int64          // repeats suppressed since this rule+key last fired
}

// sev is the match's severity; a match built without one has its rule's.
func (m match) sev() rules.Severity {
	if m.severity == 0 {
		return m.rule.Severity
	}
	return m.severity
}

// orderMatches sorts by severity (highest first), keeping catalogue order
// among equals, so that ms[0] is the rule the record is named after.
func orderMatches(ms []match) {
	slices.SortStableFunc(ms, func(a, b match) int {
		return int(b.sev()) - int(a.sev())
	})
}

// tag writes the detection attributes of ms (ordered by orderMatches) onto lr
// and raises its severity; it never lowers a higher existing severity.
func tag(lr plog.LogRecord, ms []match) {
	top, topSeverity := ms[0].rule, ms[0].sev()
	attrs := lr.Attributes()
	attrs.PutStr(attrkey.RuleName, top.Name)
	attrs.PutStr(attrkey.RuleCategory, top.Category)
	attrs.PutStr(attrkey.RuleDescription, top.Description)
	attrs.PutStr(attrkey.RuleRulesetName, top.Ruleset)
	if top.Reference != "" {
		attrs.PutStr(attrkey.RuleReference, top.Reference)
	} else {
		attrs.Remove(attrkey.RuleReference)
	}
	attrs.PutStr(attrkey.RuleUUID, top.UUID)
	attrs.PutStr(attrkey.Severity, topSeverity.String())

	names := attrs.PutEmptySlice(attrkey.MatchedRules)
	sevs := attrs.PutEmptySlice(attrkey.RuleSeverities)
	cats := attrs.PutEmptySlice(attrkey.RuleCategories)
	names.EnsureCapacity(len(ms))
	sevs.EnsureCapacity(len(ms))
	cats.EnsureCapacity(len(ms))
	for _, m := range ms {
		names.AppendEmpty().SetStr(m.rule.Name)
		sevs.AppendEmpty().SetStr(m.sev().String())
		cats.AppendEmpty().SetStr(m.rule.Category)
	}

	if len(ms) == 1 {
		if top.Techniques().Len() > 0 {
			top.Techniques().CopyTo(attrs.PutEmptySlice(attrkey.ThreatTechniqueID))
		} else {
			attrs.Remove(attrkey.ThreatTechniqueID)
		}
	} else {
		techs := attrs.PutEmptySlice(attrkey.ThreatTechniqueID)
		for _, m := range ms {
			for _, t := range m.rule.Mitre {
				if !containsStr(techs, t) {
					techs.AppendEmpty().SetStr(t)
				}
			}
		}
		if techs.Len() == 0 {
			attrs.Remove(attrkey.ThreatTechniqueID)
		}
	}

	if n := ms[0].suppressed; n > 0 {
		attrs.PutInt(attrkey.SuppressedCount, n)
	} else {
		attrs.Remove(attrkey.SuppressedCount)
	}

	num, text := severityNumber(topSeverity)
	if lr.SeverityNumber() < num {
		lr.SetSeverityNumber(num)
		lr.SetSeverityText(text)
	}
}

// tagIncident writes the incident the record belongs to, as of this record; on the record that
// completed a chain, also the chain's name.
func tagIncident(lr plog.LogRecord, res incident.Result) {
	s := res.Snapshot
	attrs := lr.Attributes()
	attrs.PutStr(attrkey.IncidentID, s.ID)
	attrs.PutStr(attrkey.IncidentFirstSeen, time.Unix(0, s.First).UTC().Format(time.RFC3339Nano))
	attrs.PutStr(attrkey.IncidentLastSeen, time.Unix(0, s.Last).UTC().Format(time.RFC3339Nano))
	putStrings(attrs, attrkey.IncidentRules, s.Rules)
	putStrings(attrs, attrkey.IncidentTechniques, s.Techniques)
	putStrings(attrs, attrkey.IncidentChains, s.Chains)
	if s.Overflow > 0 {
		attrs.PutInt(attrkey.IncidentRulesOverflow, int64(s.Overflow))
	}
	attrs.PutInt(attrkey.IncidentDetections, s.Detections)
	if s.Severity != 0 {
		attrs.PutStr(attrkey.IncidentSeverity, s.Severity.String())
	}
	if len(res.Fired) > 0 {
		attrs.PutStr(attrkey.Chain, res.Fired[0].Name)
	}
}

// putStrings writes vs as a string slice attribute, or nothing when vs is empty.
func putStrings(attrs pcommon.Map, k string, vs []string) {
	if len(vs) == 0 {
		return
	}
	sl := attrs.PutEmptySlice(k)
	sl.EnsureCapacity(len(vs))
	for _, v := range vs {
		sl.AppendEmpty().SetStr(v)
	}
}

func containsStr(s pcommon.Slice, v string) bool {
	for i := 0; i < s.Len(); i++ {
		if s.At(i).Str() == v {
			return true
		}
	}
	return false
}
