// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package workloadprofile

import (
	"errors"
	"fmt"
	"net/netip"
	"time"
)

// Counts holds one number per profile list. It is the caps (Config.Limits),
// a profile's sizes, and the items it could not keep (overflow).
type Counts struct {
	Executables int `json:"executables,omitempty" yaml:"executables,omitempty"`
	ParentChild int `json:"parentChild,omitempty" yaml:"parentChild,omitempty"`
	Files       int `json:"files,omitempty" yaml:"files,omitempty"`
	Syscalls    int `json:"syscalls,omitempty" yaml:"syscalls,omitempty"`
	Ports       int `json:"ports,omitempty" yaml:"ports,omitempty"`
	Peers       int `json:"peers,omitempty" yaml:"peers,omitempty"`
}

// Total is the sum of all lists.
func (c Counts) Total() int {
	return c.Executables + c.ParentChild + c.Files + c.Syscalls + c.Ports + c.Peers
}

func (c *Counts) add(o Counts) {
	c.Executables += o.Executables
	c.ParentChild += o.ParentChild
	c.Files += o.Files
	c.Syscalls += o.Syscalls
	c.Ports += o.Ports
	c.Peers += o.Peers
}

// Config is the learning behaviour of every profile of a Set (or of one
// profile used on its own, as the CLI does).
type Config struct {
	// LearningPeriod of a workload's own event time after its first record
	// (or after an image change) ends learning. 0 disables this end.
	LearningPeriod time.Duration
	// Window and QuietWindows: learning also ends after QuietWindows
	// consecutive windows of Window length that saw records of the workload
	// and added nothing to its profile. Windows without records neither count
	// nor break the run (an idle workload has shown nothing, new or old).
	// QuietWindows 0 disables this end.
	Window       time.Duration
	QuietWindows int
	// ImageGrace is how long (event time) after an image change records of
	// the replaced image are ignored instead of restarting learning again: a
	// rolling update runs old and new pods side by side.
	ImageGrace time.Duration
	// Limits caps each list of a learned profile; items beyond a cap are
	// counted in the profile's overflow and stay novel. File profiles are not
	// capped: a reviewed file is taken as written.
	Limits Counts
	// MaxWorkloads caps the learned profiles of a Set; records of further
	// workloads are not profiled and are counted (Stats.UnprofiledRecords).
	MaxWorkloads int
	// ClusterCIDRs are the cluster's pod and service ranges: peers in them
	// are PeerCluster rather than PeerPrivate.
	ClusterCIDRs []netip.Prefix
}

// DefaultConfig is 24h of learning or 3 quiet windows of 1h, 15 min of image
// grace, and caps sized for ~500 workloads in a few MiB.
func DefaultConfig() Config {
	return Config{
		LearningPeriod: 24 * time.Hour,
		Window:         time.Hour,
		QuietWindows:   3,
		ImageGrace:     15 * time.Minute,
		Limits: Counts{
			Executables: 256,
			ParentChild: 512,
			Files:       len(FileClasses),
			Syscalls:    256,
			Ports:       128,
			Peers:       len(PeerClasses),
		},
		MaxWorkloads: 2000,
	}
}

// Validate reports a configuration that cannot work.
func (c Config) Validate() error {
	var errs []error
	if c.LearningPeriod < 0 || c.Window < 0 || c.ImageGrace < 0 {
		errs = append(errs, errors.New("learning period, window and image grace must not be negative"))
	}
	if c.QuietWindows < 0 {
		errs = append(errs, errors.New("quiet windows must not be negative"))
	}
	if c.QuietWindows > 0 && c.Window == 0 {
		errs = append(errs, errors.New("quiet windows need a window length"))
	}
	if c.LearningPeriod == 0 && c.QuietWindows == 0 {
		errs = append(errs, errors.New("learning never ends: set a learning period or quiet windows"))
	}
	l := c.Limits
	if l.Executables < 1 || l.ParentChild < 1 || l.Files < 1 || l.Syscalls < 1 || l.Ports < 1 || l.Peers < 1 {
		errs = append(errs, fmt.Errorf("every limit must be at least 1 (got %+v)", l))
	}
	if c.MaxWorkloads < 1 {
		errs = append(errs, errors.New("max workloads must be at least 1"))
	}
	return errors.Join(errs...)
}
