// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package secretredactionprocessor

import (
	"errors"
	"fmt"
)

// Config is the configuration of the secret_redaction processor.
type Config struct {
	// Attributes are the log record attribute keys scanned for secrets: their string values, and
	// the strings inside list and map values (tetragon.args).
	Attributes []string `mapstructure:"attributes"`
	// Body masks, in the record's body, the secrets found in those attributes (see README).
	Body bool `mapstructure:"body"`

	_ struct{} // forces keyed literals
}

// Validate checks every field.
func (c *Config) Validate() error {
	var errs []error
	if len(c.Attributes) == 0 {
		errs = append(errs, errors.New("attributes is empty: list the attributes to scan (default: process.command_line, process.parent.command_line, tetragon.process.arguments, tetragon.parent.arguments, tetragon.args); the body is masked where it holds what they hold"))
	}
	seen := map[string]bool{}
	for i, k := range c.Attributes {
		switch {
		case k == "":
			errs = append(errs, fmt.Errorf("attributes[%d] is empty", i))
		case seen[k]:
			errs = append(errs, fmt.Errorf("attributes[%d]: %q is listed twice", i, k))
		}
		seen[k] = true
	}
	return errors.Join(errs...)
}
