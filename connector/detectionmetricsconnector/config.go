// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package detectionmetricsconnector

import (
	"errors"
	"fmt"
	"time"
)

const (
	defaultFlushInterval = 15 * time.Second
	defaultMaxSeries     = 10000

	minFlushInterval = time.Second
	maxFlushInterval = 10 * time.Minute
	// limitMaxSeries bounds max_series so that a typo (an extra zero or two)
	// cannot turn the cap into unbounded memory and Prometheus cardinality.
	limitMaxSeries = 1_000_000
)

// Config of the detection_metrics connector.
type Config struct {
	// FlushInterval is how often the full cumulative state is emitted. Keep it
	// below Prometheus' 5m lookback (and ideally at or below the scrape/rule
	// evaluation interval) so that series never look stale.
	FlushInterval time.Duration `mapstructure:"flush_interval"`
	// MaxSeries caps the distinct series of each metric; increments for new
	// label sets beyond the cap are folded into the overflow series.
	MaxSeries MaxSeriesConfig `mapstructure:"max_series"`

	// prevent unkeyed literal initialization
	_ struct{}
}

// MaxSeriesConfig holds one series cap per emitted metric.
type MaxSeriesConfig struct {
	// Events caps runtime_security.events.
	Events int `mapstructure:"events"`
	// Detections caps runtime_security.detections.
	Detections int `mapstructure:"detections"`

	// prevent unkeyed literal initialization
	_ struct{}
}

func createDefaultConfig() *Config {
	return &Config{
		FlushInterval: defaultFlushInterval,
		MaxSeries: MaxSeriesConfig{
			Events:     defaultMaxSeries,
			Detections: defaultMaxSeries,
		},
	}
}

// Validate checks every field and reports all problems at once.
func (c *Config) Validate() error {
	var errs []error
	if c.FlushInterval < minFlushInterval || c.FlushInterval > maxFlushInterval {
		errs = append(errs, fmt.Errorf("flush_interval must be between %s and %s, got %s (Prometheus marks a series stale after 5m without samples; 15s is the default)",
			minFlushInterval, maxFlushInterval, c.FlushInterval))
	}
	errs = append(errs, validateMaxSeries("max_series::events", c.MaxSeries.Events))
	errs = append(errs, validateMaxSeries("max_series::detections", c.MaxSeries.Detections))
	return errors.Join(errs...)
}

func validateMaxSeries(field string, v int) error {
	if v < 1 || v > limitMaxSeries {
		return fmt.Errorf("%s must be between 1 and %d, got %d (it bounds memory and Prometheus cardinality; the default is %d)",
			field, limitMaxSeries, v, defaultMaxSeries)
	}
	return nil
}
