// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

// Command profiles learns, compares and merges workload behaviour profiles
// (internal/workloadprofile, issue 14) offline, from Tetragon JSON export files:
// the reviewed, GitOps path to the workload_profile processor's profiles_files.
//
//	profiles learn --out DIR [--period 24h] [--window 1h] [--quiet-windows 3] [--cluster NAME] [--cluster-cidr CIDR]... [--learning] EVENTS.jsonl[.gz]|DIR...
//	profiles diff A B
//	profiles merge --out FILE|DIR PROFILE|DIR...
//	profiles show PROFILE|DIR...
//
// See usageText for what each does and its exit status.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/redact"
)

// usageText is the top-level help, printed on `profiles`, `profiles help` and usage errors.
const usageText = `usage: profiles learn --out DIR [--period 24h] [--window 1h] [--quiet-windows 3]
                      [--cluster NAME] [--cluster-cidr CIDR]... [--learning] EVENTS.jsonl[.gz]|DIR...
       profiles diff A B
       profiles merge --out FILE|DIR PROFILE|DIR...
       profiles show PROFILE|DIR...

learn   Reads Tetragon JSON export files (or ` + "`tetra getevents -o json`" + ` output; .gz too; a
        directory stands for its *.jsonl and *.jsonl.gz files), maps every line exactly as the
        tetragon receiver does, replays each file in event-time order through the workload
        profiles (the workload_profile processor's model: --period, --window and
        --quiet-windows are its learning settings, and learning ends by the same rules), and
        writes one YAML profile per container workload to DIR (file name from the workload key;
        existing files of the same name are replaced). Host processes are not profiled.
        The written profiles are marked enforcing: a reviewed profile is authoritative.
        --learning writes each profile in the state the lifecycle left it in instead.
        Prints per file the lines read, and a summary: workloads, items per list, records
        ignored (host), unprofiled (over the workload cap), of a replaced image, and records
        that came after a profile's learning had ended and showed something new (not learned).
        Exit status: 0 profiles written; 1 usage or input error (a line that is not a Tetragon
        event is counted and skipped, not an error); 2 nothing learned (no container workload
        in the input).

diff    Compares two profile files, or two directories of profile files paired by workload
        key, and prints what B has that A has not ("+"), what it lacks ("-"), and changed
        image or state ("~"). Learning timestamps are not compared.
        Exit status (as diff(1)): 0 the same, 1 different, 2 error.

merge   Merges profiles of one workload learned on several nodes into one (union of the
        lists within the default caps; earliest first/latest last seen; the most settled
        state). A directory stands for its *.yaml and *.yml files. Profiles of different
        images of a workload are not merged (an error names both images and files).
        --out FILE needs the inputs to be of one workload; --out DIR (an existing directory,
        or a path ending in /) writes one merged profile per workload key.
        Exit status: 0 written, 1 usage or input error.

show    Prints a summary of each profile: workload, image, state, learning window, lists.
        Exit status: 0 shown, 1 error.

Profiles are the YAML files of internal/workloadprofile (docs/profiles.md), read strictly: a file
that does not decode is an error naming it (and, for an unknown field, its line and the fields
valid there).
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run dispatches to a subcommand and returns the process exit status.
func run(args []string, out, stderr io.Writer) int {
	// Everything printed goes through the collector's secret masking (internal/redact).
	stdout := redact.NewWriter(out)
	defer stdout.Flush()
	if len(args) == 0 {
		fmt.Fprint(stderr, usageText)
		return 1
	}
	switch args[0] {
	case "learn":
		return runLearn(args[1:], stdout, stderr)
	case "diff":
		return runDiff(args[1:], stdout, stderr)
	case "merge":
		return runMerge(args[1:], stdout, stderr)
	case "show":
		return runShow(args[1:], stdout, stderr)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usageText)
		return 0
	default:
		fmt.Fprintf(stderr, "profiles: unknown command %q\n\n%s", args[0], usageText)
		return 1
	}
}

// newFlagSet returns a flag set for a subcommand whose -h prints the subcommand's usage line
// and flags.
func newFlagSet(name, synopsis string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("profiles "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: profiles %s %s\n(profiles help: every command)\n", name, synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// parseInterleaved parses flags before, between and after the positional arguments (as
// ruletest does) and returns the positional ones.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// usageError is a command-line mistake: the caller prints it with the usage line.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, a ...any) error { return usageError{fmt.Sprintf(format, a...)} }

// report prints err for command name; a usage error also gets the usage line.
func report(stderr io.Writer, fs *flag.FlagSet, name string, err error) {
	fmt.Fprintf(stderr, "profiles %s: %v\n", name, err)
	var ue usageError
	if errors.As(err, &ue) && fs != nil {
		fs.Usage()
	}
}

// isDirTarget reports whether an --out path names a directory: an existing one, or a path
// ending in a separator.
func isDirTarget(p string) bool {
	if strings.HasSuffix(p, "/") || strings.HasSuffix(p, string(os.PathSeparator)) {
		return true
	}
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}
