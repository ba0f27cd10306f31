// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package rules

import "fmt"

// Severity orders detections: Critical > Warning > Info.
type Severity uint8

// Severities, in increasing order.
const (
	SeverityInfo Severity = iota + 1
	SeverityWarning
	SeverityCritical
)

// ParseSeverity parses critical, warning or info.
func ParseSeverity(s string) (Severity, error) {
	switch s {
	case "critical":
		return SeverityCritical, nil
	case "warning":
		return SeverityWarning, nil
	case "info":
		return SeverityInfo, nil
	}
	return 0, fmt.Errorf("unknown severity %q (want critical, warning or info)", s)
}

func (s Severity) String() string {
	switch s {
	case SeverityCritical:
		return "critical"
	case SeverityWarning:
		return "warning"
	case SeverityInfo:
		return "info"
	}
	return fmt.Sprintf("Severity(%d)", uint8(s))
}
