// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package gzipmiddlewareextension

import (
	"fmt"

	"github.com/klauspost/compress/gzip"
)

// Config is the gzip_middleware extension's configuration.
type Config struct {
	// Level is the gzip compression level, 1 (fastest) to 9 (smallest).
	Level int `mapstructure:"level"`

	_ struct{}
}

// Validate checks the level.
func (c *Config) Validate() error {
	if c.Level < gzip.BestSpeed || c.Level > gzip.BestCompression {
		return fmt.Errorf("level: %d is not a gzip level: use 1 (fastest, the default) to 9 (smallest output)", c.Level)
	}
	return nil
}
