// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package detectionprocessor

import (
	"os"
	"regexp"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/processor/detectionprocessor/internal/rules"
)

// TestReadmeRulesExampleCompiles keeps the README's rules file example valid
// against the current built-in catalogue.
func TestReadmeRulesExampleCompiles(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	require.NoError(t, err)
	blocks := regexp.MustCompile("(?s)```yaml\n(.*?)```").FindAllSubmatch(readme, -1)
	require.GreaterOrEqual(t, len(blocks), 2)
	srcs, err := rules.BuiltinSources()
	require.NoError(t, err)
	srcs = append(srcs, rules.Source{Ruleset: "site.yaml", Path: "README.md", Data: blocks[1][1]})
	rs, err := rules.Compile(srcs, nil, nil)
	require.NoError(t, err)
	require.NotNil(t, rs.Rule("Curl to metadata service"))
}
