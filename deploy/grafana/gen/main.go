// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

// Command gen writes the Grafana dashboards of otelcol-runtime-security,
// defined in Go with the Grafana Foundation SDK, to deploy/grafana/dashboards
// and the list of their queries to deploy/grafana/queries.yaml.
//
//	go run ./deploy/grafana/gen            # from anywhere in the repository
//	go run ./deploy/grafana/gen -out DIR   # write DIR/dashboards/*.json and DIR/queries.yaml
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

func main() {
	out := flag.String("out", "", "directory to write dashboards/ and queries.yaml into (default: deploy/grafana of the enclosing module)")
	flag.Parse()
	if err := run(*out); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run(out string) error {
	if out == "" {
		root, err := moduleRoot()
		if err != nil {
			return err
		}
		out = filepath.Join(root, "deploy", "grafana")
	}
	files, err := generate()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Join(out, dashboardsDir), 0o755); err != nil {
		return err
	}
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if err := os.WriteFile(filepath.Join(out, name), files[name], 0o644); err != nil {
			return err
		}
		fmt.Println("wrote", filepath.Join(out, name))
	}
	// A dashboard dropped from the generator must not linger in the folder
	// that provisioning and the sidecar load.
	old, err := filepath.Glob(filepath.Join(out, dashboardsDir, "*.json"))
	if err != nil {
		return err
	}
	for _, path := range old {
		if _, ok := files[dashboardsDir+"/"+filepath.Base(path)]; !ok {
			if err := os.Remove(path); err != nil {
				return err
			}
			fmt.Println("removed", path)
		}
	}
	return nil
}

// moduleRoot walks up from the working directory to the directory of go.mod.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && strings.Contains(string(b), "module github.com/otelcol-runtime-security/otelcol-runtime-security\n") {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("not inside the otelcol-runtime-security module: pass -out")
		}
		dir = parent
	}
}
