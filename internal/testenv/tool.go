// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package testenv

import (
	"os/exec"
	"strings"
	"testing"
)

// Tool returns the path of a command-line checker (promtool, amtool, …) and fails, never skips,
// when it is missing: the files it checks are only proven valid by the real tool. debianPkg names
// the package that provides it.
func Tool(t testing.TB, name, debianPkg string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("%s not found in PATH: install the Debian package %q (scripts/install-test-deps.sh does)", name, debianPkg)
	}
	return p
}

// RunTool runs Tool(name) with args and returns its standard output; a failure fails the test
// with both outputs.
func RunTool(t testing.TB, name, debianPkg string, args ...string) string {
	t.Helper()
	cmd := exec.Command(Tool(t, name, debianPkg), args...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s%s", name, strings.Join(args, " "), err, out, stderr.String())
	}
	return string(out)
}
