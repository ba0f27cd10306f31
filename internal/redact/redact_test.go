// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package redact

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/testenv"
)

func TestString(t *testing.T) {
	cases := []struct{ in, want string }{
		// The examples.
		{"mysql -uroot -pS3cr3t shop", "mysql -uroot -p*** shop"},
		{"app --password=hunter2 --verbose", "app --password=*** --verbose"},
		{"env AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG aws s3 ls", "env AWS_SECRET_ACCESS_KEY=*** aws s3 ls"},
		{"curl -H 'Authorization: Bearer abc.def.ghi' https://api", "curl -H 'Authorization: Bearer ***' https://api"},
		{"psql postgres://admin:pa55@db:5432/shop", "psql postgres://admin:***@db:5432/shop"},
		{"git clone https://oauth2:glpat-abcdefghijklmnopqrstu@gitlab.example.com/x.git", "git clone https://oauth2:***@gitlab.example.com/x.git"},
		// Other shapes.
		{"vault login -token s.abcdef123", "vault login -token ***"},
		{"redis-cli --pass hunter2 ping", "redis-cli --pass *** ping"},
		{"PGPASSWORD=x psql -h db", "PGPASSWORD=*** psql -h db"},
		{"kubectl --token=eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhZG1pbiJ9.c2lnbmF0dXJlMTIz get pods", "kubectl --token=*** get pods"},
		{"echo eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhZG1pbiJ9.c2lnbmF0dXJlMTIz", "echo ***"},
		{"export GITHUB_TOKEN ghp_abcdefghijklmnopqrstuvwxyz0123456789", "export GITHUB_TOKEN ***"},
		{"aws configure set aws_access_key_id AKIAIOSFODNN7EXAMPLE", "aws configure set aws_access_key_id ***"},
		{"curl -H X-Api-Key:k123 http://x", "curl -H X-Api-Key:*** http://x"},
		{"curl -u user:pw http://x --cookie session=abc", "curl -u user:pw http://x --cookie session=abc"},
		{"app --client-secret=s1 --api-key abc", "app --client-secret=*** --api-key ***"},
		{`app --password="two words" -x`, `app --password="***" -x`},
		{`DB_PASSWORD='x y' ./run`, `DB_PASSWORD='***' ./run`},
		// Nothing to mask: left alone, including what only looks related.
		{"cat /var/run/secrets/kubernetes.io/serviceaccount/token", "cat /var/run/secrets/kubernetes.io/serviceaccount/token"},
		{"mkdir -p /tmp/x", "mkdir -p /tmp/x"},
		{"passwd alice", "passwd alice"},
		{"app --password --verbose", "app --password --verbose"},
		{"ls -la", "ls -la"},
		{"", ""},
	}
	for _, c := range cases {
		got, changed := String(c.in)
		if got != c.want || changed != (c.in != c.want) {
			t.Errorf("String(%q)\n got %q (changed %v)\nwant %q", c.in, got, changed, c.want)
		}
	}
}

// In the JSON text of an event, a secret is masked inside its string and the JSON stays valid.
func TestJSONBodyStaysValid(t *testing.T) {
	// Tetragon's field order: binary before arguments.
	args, _ := json.Marshal(`-uroot -pS3cr3t -e "select 1" --password="quoted secret" --url=https://u:p4ss@h/x`)
	b := `{"process_exec":{"process":{"binary":"/usr/bin/mysql","arguments":` + string(args) + `}}}`
	got, changed := String(b)
	if !changed || strings.Contains(got, "S3cr3t") || strings.Contains(got, "p4ss") || strings.Contains(got, "quoted secret") {
		t.Fatalf("secrets left in %s", got)
	}
	var back map[string]any
	if err := json.Unmarshal([]byte(got), &back); err != nil {
		t.Fatalf("masked body is not JSON: %v\n%s", err, got)
	}
}

// The real corpus holds no secrets: masking its whole JSON lines changes nothing (no false
// positives on genuine Tetragon events). The processor's test covers the captured corpus through
// the attributes it actually scans.
func TestRealCorpusUnchanged(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(testenv.EventsDir(t), "real", "*.jsonl"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no corpus: %v", err)
	}
	lines, changed := 0, 0
	for _, f := range files {
		for _, l := range testenv.ReadLines(t, f) {
			lines++
			if got, ch := String(string(l)); ch {
				changed++
				if changed <= 5 {
					t.Errorf("%s: masked a genuine event:\n%s\n%s", filepath.Base(f), l, got)
				}
			}
		}
	}
	t.Logf("%d corpus lines, %d changed", lines, changed)
}

func BenchmarkString(b *testing.B) {
	for _, in := range []string{"/usr/bin/python3 -m gunicorn app:app --workers 4 --bind 0.0.0.0:8080", "mysql -uroot -pS3cr3t shop"} {
		b.Run(strings.Fields(in)[0], func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				String(in)
			}
		})
	}
}

func TestWriter(t *testing.T) {
	var b strings.Builder
	w := NewWriter(&b)
	for _, chunk := range []string{"ok line\nmysql -pS3", "cr3t db\n", "tail --token=abc"} {
		if _, err := w.Write([]byte(chunk)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if want := "ok line\nmysql -p*** db\ntail --token=***"; b.String() != want {
		t.Errorf("got %q, want %q", b.String(), want)
	}
}
