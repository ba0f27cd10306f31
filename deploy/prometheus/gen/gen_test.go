package main

import (
	"bytes"
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
)

// requireTool fails (never skips) when an external checker is missing: the
// rule files are only proven valid by Prometheus' own tools.
func requireTool(t *testing.T, name, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("%s not found in PATH: install the Debian package %q (scripts/install-test-deps.sh does)", name, pkg)
	}
	return p
}

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
	promtool := requireTool(t, "promtool", "prometheus")
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
	promtool := requireTool(t, "promtool", "prometheus")
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
// docs/runbooks: templated detection URLs expand to every catalogue rule
// and to the _overflow placeholder.
func TestRunbookTargetsExist(t *testing.T) {
	root := testenv.RepoRoot(t)
	var rf ruleFile
	require.NoError(t, yaml.Unmarshal(render(t)[RuleFilePath], &rf))
	ruleNames := []string{"_overflow"}
	for _, r := range Catalogue {
		ruleNames = append(ruleNames, r.Name)
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
	assert.Equal(t, 2*(len(Catalogue)+1)+8, checked)
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
