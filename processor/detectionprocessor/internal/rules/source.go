// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package rules

import (
	"errors"
	"os"
	"path/filepath"

	"go.uber.org/zap"
)

// BuiltinRuleset is the ruleset name of the embedded catalogue.
const BuiltinRuleset = "builtin"

// Source is one rules YAML document to compile.
type Source struct {
	// Ruleset names the rules this source defines (security_rule.ruleset.name).
	Ruleset string
	// Path locates the source in error messages.
	Path string
	Data []byte
}

// Options select what Load compiles.
type Options struct {
	// Builtin includes the embedded catalogue first.
	Builtin bool
	// Files are user rules files, applied in order after the catalogue.
	Files []string
	// Disabled names rules to disable; an unknown name is an error.
	Disabled []string
	// Logger is handed to the OTTL parser; nil means no logging.
	Logger *zap.Logger
}

// Load reads the built-in catalogue and opts.Files and compiles them.
func Load(opts Options) (*Ruleset, error) {
	srcs, err := ReadSources(opts.Builtin, opts.Files)
	if err != nil {
		return nil, err
	}
	return Compile(srcs, opts.Disabled, opts.Logger)
}

// ReadSources returns the sources to compile: the catalogue when builtin, then files in order. It
// is the one reader of rules files, for the first load and for reloads alike.
func ReadSources(builtin bool, files []string) ([]Source, error) {
	var srcs []Source
	if builtin {
		b, err := BuiltinSources()
		if err != nil {
			return nil, err
		}
		srcs = append(srcs, b...)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, &Error{File: f, Err: err}
		}
		srcs = append(srcs, Source{Ruleset: filepath.Base(f), Path: f, Data: data})
	}
	return srcs, nil
}

// FirstFile is the file of the first located problem in err ("" when none is located): what a
// reload failure is counted and logged against.
func FirstFile(err error) string {
	var list *Errors
	if errors.As(err, &list) && len(list.List) > 0 {
		err = list.List[0]
	}
	var e *Error
	if errors.As(err, &e) {
		return e.File
	}
	return ""
}
