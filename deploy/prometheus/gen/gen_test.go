// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package main

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/testenv"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/processor/detectionprocessor/ruleengine"
)

func render(t *testing.T) map[string][]byte {
	t.Helper()
	files, err := Render(testenv.RepoRoot(t))
	require.NoError(t, err)
	return files
}

func TestCommittedFilesAreUpToDate(t *testing.T) {
	root := testenv.RepoRoot(t)
	files := render(t)
	for rel, want := range files {
		got, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(rel)))
		if err != nil {
			t.Errorf("%s: %v; run `make alerts`", rel, err)
			continue
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s is stale: run `make alerts` and commit the result", rel)
		}
	}
	// No leftover generated runbook whose rule or alert is gone.
	entries, err := os.ReadDir(filepath.Join(root, RunbookDir))
	require.NoError(t, err)
	for _, e := range entries {
		if _, ok := files[RunbookDir+"/"+e.Name()]; !ok {
			b, err := os.ReadFile(filepath.Join(root, RunbookDir, e.Name()))
			require.NoError(t, err)
			if bytes.HasPrefix(b, []byte(runbookHeader)) {
				t.Errorf("%s/%s is generated but no longer produced: delete it", RunbookDir, e.Name())
			}
		}
	}
}

func writeRendered(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for rel, content := range render(t) {
		p := filepath.Join(dir, filepath.FromSlash(rel))
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, content, 0o644))
	}
	return dir
}

func TestPromtoolCheckRules(t *testing.T) {
	promtool := testenv.Tool(t, "promtool", "prometheus")
	dir := writeRendered(t)
	out, err := exec.Command(promtool, "check", "rules", filepath.Join(dir, RuleFilePath)).CombinedOutput()
	require.NoError(t, err, "%s", out)
	assert.Contains(t, string(out), "SUCCESS: 10 rules found")
}

// TestPromtoolUnitTests runs deploy/prometheus/alert-rules.test.yaml against
// the freshly rendered rules: a brand-new detection series fires within one
// evaluation, old flat series do not, and every pipeline alert fires on its
// symptom with the documented labels.
func TestPromtoolUnitTests(t *testing.T) {
	promtool := testenv.Tool(t, "promtool", "prometheus")
	root := testenv.RepoRoot(t)
	dir := writeRendered(t)
	testFile := filepath.Join(dir, "deploy/prometheus/alert-rules.test.yaml")
	b, err := os.ReadFile(filepath.Join(root, "deploy/prometheus/alert-rules.test.yaml"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(testFile, b, 0o644))
	out, err := exec.Command(promtool, "test", "rules", testFile).CombinedOutput()
	require.NoError(t, err, "%s", out)
	assert.Contains(t, string(out), "SUCCESS")
}

func TestPrometheusRuleMatchesRuleFile(t *testing.T) {
	files := render(t)
	var plain ruleFile
	require.NoError(t, yaml.Unmarshal(files[RuleFilePath], &plain))
	var cr prometheusRule
	require.NoError(t, yaml.Unmarshal(files[PrometheusRulePath], &cr))
	assert.Equal(t, "monitoring.coreos.com/v1", cr.APIVersion)
	assert.Equal(t, "PrometheusRule", cr.Kind)
	assert.Equal(t, "otelcol-runtime-security", cr.Metadata.Name)
	assert.Equal(t, plain, cr.Spec)
}

func TestAlertLabelsAndAnnotations(t *testing.T) {
	var rf ruleFile
	require.NoError(t, yaml.Unmarshal(render(t)[RuleFilePath], &rf))
	seen := map[string]bool{}
	for _, g := range rf.Groups {
		for _, r := range g.Rules {
			assert.False(t, seen[r.Alert], "duplicate alert %s", r.Alert)
			seen[r.Alert] = true
			assert.Contains(t, []string{"critical", "warning", "info"}, r.Labels["severity"], r.Alert)
			for _, k := range []string{"summary", "description", "runbook_url"} {
				assert.NotEmpty(t, r.Annotations[k], "%s: %s", r.Alert, k)
			}
			assert.True(t, strings.HasPrefix(r.Annotations["runbook_url"], RunbookBaseURL), r.Alert)
		}
	}
	for _, name := range []string{"RuntimeSecurityCriticalDetection", "RuntimeSecurityWarningDetection"} {
		r := findRule(t, rf, name)
		assert.Equal(t, "0m", r.For)
		for _, l := range []string{"rule", "category", "namespace", "workload", "node", "severity"} {
			assert.Regexp(t, `sum by \([^)]*\b`+l+`\b`, r.Expr, "%s must keep label %s", name, l)
		}
		assert.NotContains(t, r.Expr, "pod", "no pod labels")
	}
}

func findRule(t *testing.T, rf ruleFile, name string) rule {
	t.Helper()
	for _, g := range rf.Groups {
		for _, r := range g.Rules {
			if r.Alert == name {
				return r
			}
		}
	}
	t.Fatalf("alert %s not found", name)
	return rule{}
}

// TestRunbookTargetsExist resolves every runbook_url to a file under
// docs/runbooks: templated detection URLs expand to every catalogue rule,
// every built-in chain and the _overflow placeholder.
func TestRunbookTargetsExist(t *testing.T) {
	root := testenv.RepoRoot(t)
	var rf ruleFile
	require.NoError(t, yaml.Unmarshal(render(t)[RuleFilePath], &rf))
	// A chain is counted and alerted on like a rule of its name: rule="<chain>".
	ruleNames := []string{"_overflow"}
	for _, r := range Catalogue {
		ruleNames = append(ruleNames, r.Name)
	}
	chains := builtinChains(t)
	for _, c := range chains {
		ruleNames = append(ruleNames, c.Name)
	}
	checked := 0
	for _, g := range rf.Groups {
		for _, r := range g.Rules {
			url := r.Annotations["runbook_url"]
			var targets []string
			if strings.Contains(url, "{{ $labels.rule }}") {
				for _, n := range ruleNames {
					targets = append(targets, strings.ReplaceAll(url, "{{ $labels.rule }}", n))
				}
			} else {
				targets = []string{url}
			}
			for _, u := range targets {
				rel := strings.TrimPrefix(u, RunbookBaseURL)
				require.NotEqual(t, u, rel, "%s: runbook_url %s outside %s", r.Alert, u, RunbookBaseURL)
				_, err := os.Stat(filepath.Join(root, RunbookDir, rel))
				assert.NoError(t, err, "%s: runbook %s missing", r.Alert, rel)
				checked++
			}
		}
	}
	assert.Equal(t, 2*(len(Catalogue)+1+len(chains))+8, checked)
}

func TestCatalogueRunbooks(t *testing.T) {
	want := []string{"terminal_shell_in_container", "shell_spawned_by_server", "sensitive_file_read", "service_account_token_read",
		"sensitive_file_write", "package_manager_in_container", "execution_from_writable_dir", "fileless_execution", "reverse_shell",
		"crypto_miner", "k8s_api_from_container", "network_recon_tool", "setuid_privilege_escalation", "setuid_to_root_syscall",
		"kernel_module_load", "ptrace_attach", "namespace_escape", "container_escape_mount", "bpf_program_load", "log_tampering",
		"credential_file_search",
		// Container drift (36_drift.yaml).
		"container_drift",
		// Catalogue v2.
		"setuid_bit_set", "sensitive_file_link", "shell_history_tampering", "write_below_binary_dir", "write_below_etc",
		"write_below_root", "write_below_dev", "package_database_modified", "shell_config_modified", "shell_config_read",
		"ssh_info_read", "proc_environ_read", "ptrace_anti_debug", "chroot_escape", "packet_socket_in_container",
		"bulk_data_removal", "payload_decoded_to_shell", "system_user_interactive_shell", "remote_file_copy_in_container",
		"user_management_in_container", "scheduled_task_created", "ld_preload_injection", "proc_mem_read", "debugfs_in_container",
		"file_timestomp", "security_tool_tampering", "hidden_file_created", "system_discovery_in_container",
		"data_encrypted_for_impact", "sensitive_data_archived",
		// Workload behaviour profiles (37_profile.yaml).
		"unexpected_process", "unexpected_file_access", "unexpected_syscall", "unexpected_network_peer"}
	var got []string
	techID := regexp.MustCompile(`^T\d{4}(\.\d{3})?$`)
	for _, r := range Catalogue {
		got = append(got, r.Name)
		assert.NotEmpty(t, r.Title, r.Name)
		assert.NotEmpty(t, r.Category, r.Name)
		assert.NotEmpty(t, r.Meaning, r.Name)
		assert.NotEmpty(t, r.LookAt, r.Name)
		assert.NotEmpty(t, r.Benign, r.Name)
		assert.NotEmpty(t, r.Exception.Fields, r.Name)
		assert.NotEmpty(t, r.Mitre, r.Name)
		for _, id := range r.Mitre {
			assert.Regexp(t, techID, id, r.Name)
			assert.NotEmpty(t, mitreNames[id], "%s: no name for %s", r.Name, id)
		}
		if len(r.Exception.Comps) > 0 {
			assert.Len(t, r.Exception.Comps, len(r.Exception.Fields), r.Name)
		}
		for _, v := range r.Exception.Values {
			assert.Len(t, v, len(r.Exception.Fields), "%s: exception tuple width", r.Name)
		}
	}
	// The pages use the built-in catalogue's category, severity and MITRE IDs.
	builtin, err := loadBuiltin(testenv.RepoRoot(t))
	require.NoError(t, err)
	files := render(t)
	for name, b := range builtin {
		page := string(files[RunbookDir+"/"+name+".md"])
		if page == "" {
			continue // TestEveryBuiltinRuleHasARunbook reports it
		}
		assert.Contains(t, page, "| Category | `"+b.Category+"` |", name)
		if b.Severity != "" {
			assert.Contains(t, page, "| Default severity | `"+b.Severity+"`", name)
		}
		for _, id := range b.Mitre {
			assert.Contains(t, page, "["+id, name)
		}
	}
	sort.Strings(want)
	sort.Strings(got)
	assert.Equal(t, want, got)

	page := string(render(t)[RunbookDir+"/reverse_shell.md"])
	assert.Contains(t, page, `security_rule_name="reverse_shell"`)
	assert.Contains(t, page, "https://attack.mitre.org/techniques/T1059/004/")
	assert.Contains(t, page, "  - name: reverse_shell\n    append_exceptions:")
}

// TestRunbookExceptionExamplesParse checks that every example override in the
// runbooks is YAML of the shape the detection processor's rules files use.
func TestRunbookExceptionExamplesParse(t *testing.T) {
	block := regexp.MustCompile("(?s)```yaml\n(.*?)```")
	for _, r := range Catalogue {
		page := render(t)[RunbookDir+"/"+r.Name+".md"]
		m := block.FindSubmatch(page)
		require.NotNil(t, m, r.Name)
		var doc struct {
			Overrides []struct {
				Name             string `yaml:"name"`
				AppendExceptions []struct {
					Name   string   `yaml:"name"`
					Fields []string `yaml:"fields"`
					Comps  []string `yaml:"comps"`
					Values []any    `yaml:"values"`
				} `yaml:"append_exceptions"`
			} `yaml:"overrides"`
		}
		dec := yaml.NewDecoder(bytes.NewReader(m[1]))
		dec.KnownFields(true)
		require.NoError(t, dec.Decode(&doc), "%s:\n%s", r.Name, m[1])
		require.Len(t, doc.Overrides, 1, r.Name)
		assert.Equal(t, r.Name, doc.Overrides[0].Name)
		ex := doc.Overrides[0].AppendExceptions[0]
		assert.Equal(t, r.Exception.Fields, ex.Fields, r.Name)
		assert.Len(t, ex.Values, len(r.Exception.Values), r.Name)
		for i, c := range ex.Comps {
			if c == "in" {
				tuple := ex.Values[0].([]any)
				_, isList := tuple[i].([]any)
				assert.True(t, isList, "%s: an `in` item must be a list", r.Name)
			}
		}
	}
}

// TestEveryBuiltinRuleHasARunbook reads the detection processor's built-in
// catalogue: a rule shipped without a runbook would alert with a dead link.
func TestEveryBuiltinRuleHasARunbook(t *testing.T) {
	root := testenv.RepoRoot(t)
	dir := filepath.Join(root, "processor/detectionprocessor/internal/rules/builtin")
	have := map[string]bool{}
	for _, r := range Catalogue {
		have[r.Name] = true
	}
	var names []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !slices.Contains([]string{".yaml", ".yml"}, filepath.Ext(p)) {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		var doc struct {
			Rules []struct {
				Name string `yaml:"name"`
			} `yaml:"rules"`
		}
		if err := yaml.Unmarshal(b, &doc); err != nil {
			return err
		}
		for _, r := range doc.Rules {
			names = append(names, r.Name)
		}
		return nil
	})
	require.NoError(t, err, "reading the built-in catalogue in %s", dir)
	for _, n := range names {
		assert.True(t, have[n], "built-in rule %q has no runbook: add it to Catalogue in deploy/prometheus/gen/catalogue.go and run `make alerts`", n)
	}
}

// builtinChain is what the tests compare the chain runbooks with, read through the rule engine's
// own compiler rather than through loadChains.
type builtinChain struct {
	Name   string
	Mitre  []string
	Steps  [][]string // rules of each step; nil for a condition step
	Within string
}

func builtinChains(t *testing.T) []builtinChain {
	t.Helper()
	rs, err := ruleengine.Load(ruleengine.Options{Builtin: true})
	require.NoError(t, err)
	var out []builtinChain
	for _, c := range rs.Chains() {
		bc := builtinChain{Name: c.Name, Mitre: c.Rule.Mitre, Within: formatWithin(c.Within)}
		for _, st := range c.Steps {
			bc.Steps = append(bc.Steps, st.Rules)
		}
		out = append(out, bc)
	}
	require.NotEmpty(t, out, "the built-in catalogue has no chain")
	return out
}

// TestEveryBuiltinChainHasARunbook: a chain alerts like a rule (runbook_url .../<chain>.md), so each
// needs its page, with its guide, its steps in order and the way to turn it off.
func TestEveryBuiltinChainHasARunbook(t *testing.T) {
	files := render(t)
	chains := builtinChains(t)
	names := map[string]bool{}
	techID := regexp.MustCompile(`^T\d{4}(\.\d{3})?$`)
	for _, c := range chains {
		names[c.Name] = true
		g, ok := ChainGuides[c.Name]
		if !assert.True(t, ok, "built-in chain %q has no guide: add it to ChainGuides in deploy/prometheus/gen/chains.go and run `make alerts`", c.Name) {
			continue
		}
		assert.NotEmpty(t, g.Title, c.Name)
		assert.NotEmpty(t, g.Meaning, c.Name)
		assert.NotEmpty(t, g.LookAt, c.Name)
		assert.NotEmpty(t, g.Contain, c.Name)
		assert.NotEmpty(t, g.Benign, c.Name)
		page := string(files[RunbookDir+"/"+c.Name+".md"])
		if !assert.NotEmpty(t, page, "%s: no runbook rendered", c.Name) {
			continue
		}
		assert.True(t, strings.HasPrefix(page, runbookHeader), c.Name)
		assert.Contains(t, page, "| Within | "+c.Within+",", c.Name)
		for _, id := range c.Mitre {
			assert.Regexp(t, techID, id, c.Name)
			assert.NotEmpty(t, mitreNames[id], "%s: no name for %s in mitreNames", c.Name, id)
			assert.Contains(t, page, "["+id+" "+mitreNames[id]+"]", c.Name)
		}
		// The steps, in order, each with its rules linked to their pages.
		steps := page[strings.Index(page, "## Steps"):strings.Index(page, "## Triage")]
		pos := 0
		for i, rules := range c.Steps {
			at := strings.Index(steps[pos:], fmt.Sprintf("\n%d. ", i+1))
			if !assert.GreaterOrEqual(t, at, 0, "%s: step %d missing or out of order", c.Name, i+1) {
				break
			}
			pos += at + 1
			end := len(steps)
			if next := strings.Index(steps[pos:], fmt.Sprintf("\n%d. ", i+2)); next >= 0 {
				end = pos + next
			}
			if rules == nil {
				assert.Contains(t, steps[pos:end], "```", "%s: condition step %d without its condition", c.Name, i+1)
			}
			for _, r := range rules {
				assert.Contains(t, steps[pos:end], "[`"+r+"`]("+r+".md)", "%s step %d", c.Name, i+1)
				_, ok := files[RunbookDir+"/"+r+".md"]
				assert.True(t, ok, "%s step %d: rule %s has no runbook to link", c.Name, i+1, r)
			}
		}
		// The disabled_rules example is a detection processor config that names the chain.
		m := regexp.MustCompile("(?s)```yaml\n(.*?)```").FindStringSubmatch(page)
		if assert.NotNil(t, m, c.Name) {
			var cfg struct {
				Processors struct {
					Detection struct {
						DisabledRules []string `yaml:"disabled_rules"`
					} `yaml:"detection"`
				} `yaml:"processors"`
			}
			dec := yaml.NewDecoder(strings.NewReader(m[1]))
			dec.KnownFields(true)
			require.NoError(t, dec.Decode(&cfg), c.Name)
			assert.Equal(t, []string{c.Name}, cfg.Processors.Detection.DisabledRules, c.Name)
		}
		index := string(files[RunbookDir+"/README.md"])
		assert.Contains(t, index, "| ["+c.Name+"]("+c.Name+".md) |", "index lists %s", c.Name)
	}
	for name := range ChainGuides {
		assert.True(t, names[name], "ChainGuides has %q, which is no built-in chain", name)
	}
}

// TestIncidentRunbookMatchesExporter holds the incident runbook's label and annotation tables to
// what the alertmanager exporter writes (exporter/alertmanagerexporter/alert.go), both ways.
func TestIncidentRunbookMatchesExporter(t *testing.T) {
	root := testenv.RepoRoot(t)
	src, err := os.ReadFile(filepath.Join(root, "exporter/alertmanagerexporter/alert.go"))
	require.NoError(t, err)
	find := func(re string) []string {
		var out []string
		for _, m := range regexp.MustCompile(re).FindAllStringSubmatch(string(src), -1) {
			out = append(out, m[1])
		}
		sort.Strings(out)
		return slices.Compact(out)
	}
	alertname := find(`alertnameIncident\s*=\s*"(\w+)"`)
	require.Len(t, alertname, 1, "alert.go no longer defines alertnameIncident: update this test")
	assert.Equal(t, alertname[0]+".md", IncidentRunbook)

	labels := find(`(?m)^\s*label[A-Z]\w*\s*=\s*"(\w+)"`)
	annotations := find(`(?m)^\s*"(\w+)":\s`)
	annotations = append(annotations, find(`putNonEmpty\(a, "(\w+)"`)...)
	annotations = append(annotations, find(`\ba\["(\w+)"\]`)...)
	sort.Strings(annotations)
	annotations = slices.Compact(annotations)
	require.NotEmpty(t, labels, "found no label constants in alert.go: update this test")
	require.NotEmpty(t, annotations, "found no annotations in alert.go: update this test")

	var docLabels, docAnnotations []string
	for _, f := range incidentRunbook.Labels {
		docLabels = append(docLabels, f.Name)
	}
	for _, f := range incidentRunbook.Annotations {
		docAnnotations = append(docAnnotations, f.Name)
	}
	sort.Strings(docLabels)
	sort.Strings(docAnnotations)
	assert.Equal(t, labels, docLabels, "labels of the exporter vs incidentRunbook.Labels")
	assert.Equal(t, annotations, docAnnotations, "annotations of the exporter vs incidentRunbook.Annotations")

	page := string(render(t)[RunbookDir+"/"+IncidentRunbook])
	require.True(t, strings.HasPrefix(page, runbookHeader))
	for _, n := range append(docLabels, docAnnotations...) {
		assert.Contains(t, page, "| `"+n+"` |", n)
	}
	assert.Contains(t, page, `{service_name=~".+"} | runtime_security_incident_id="<incident>"`)
	assert.Contains(t, string(render(t)[RunbookDir+"/README.md"]), "[RuntimeSecurityIncident]("+IncidentRunbook+")")
}
