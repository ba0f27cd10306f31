// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

// Command gen writes the Prometheus alert rules (plain rule file and
// Prometheus Operator PrometheusRule) and the runbooks they link to, all from
// the tables in this package. Run it from the repository root: `make alerts`.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
)

func main() {
	root := flag.String("root", ".", "repository root to write into")
	flag.Parse()
	if err := run(*root); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run(root string) error {
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		return fmt.Errorf("%s is not the repository root (no go.mod): run from the root or pass -root", root)
	}
	files, err := Render(root)
	if err != nil {
		return err
	}
	for rel, content := range files {
		p := filepath.Join(root, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, content, 0o644); err != nil {
			return err
		}
	}
	fmt.Printf("gen: wrote %d files (%s, %s, %s/)\n", len(files), RuleFilePath, PrometheusRulePath, RunbookDir)
	return nil
}
