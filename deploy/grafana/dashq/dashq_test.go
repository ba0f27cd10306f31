// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package dashq

import (
	"reflect"
	"strings"
	"testing"
)

func TestExpandForTest(t *testing.T) {
	in := `sum by (rule) (increase(runtime_security_detections_total{namespace=~"$namespace", workload=~"${workload}"}[$__range])) / rate(x{job=~"[[job]]"}[${__rate_interval}])`
	want := `sum by (rule) (increase(runtime_security_detections_total{namespace=~".+", workload=~".+"}[1h])) / rate(x{job=~".+"}[2m])`
	if got := ExpandForTest(in); got != want {
		t.Fatalf("ExpandForTest:\n got %s\nwant %s", got, want)
	}
}

func TestExpandIgnoresFormatAndKeepsUnknown(t *testing.T) {
	got := Expand(`a{ns=~"${namespace:regex}"} $other [$__interval]`, map[string]string{"namespace": "prod", "__interval": "30s"})
	want := `a{ns=~"prod"} $other [30s]`
	if got != want {
		t.Fatalf("got %s want %s", got, want)
	}
	if u := Unexpanded(got); !reflect.DeepEqual(u, []string{"other"}) {
		t.Fatalf("Unexpanded = %v, want [other]", u)
	}
}

func TestVariables(t *testing.T) {
	got := Variables(`$b ${a} [[c]] $b ${a:csv}`)
	if want := []string{"a", "b", "c"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("Variables = %v, want %v", got, want)
	}
}

func TestMarshalParseRoundTrip(t *testing.T) {
	f := File{
		PromQL: []PromQuery{{Dashboard: "d", Panel: "p", RefID: "A", Expr: `sum(rate(x{a="b"}[$__rate_interval]))`, Instant: true, AllowedEmpty: true, Reason: "why"}},
		LogQL:  []LogQuery{{Dashboard: "d", Panel: "l", RefID: "A", Expr: "{a=\"b\"} | line_format `{{.x}}`", Kind: "logs"}},
	}
	b, err := Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(b), Header) {
		t.Fatal("marshalled file does not start with the header")
	}
	g, err := Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(f, g) {
		t.Fatalf("round trip changed the file:\n%+v\n%+v", f, g)
	}
}

func TestParseRejectsUnknownFields(t *testing.T) {
	if _, err := Parse([]byte("promql:\n  - expr: up\n    allowed_emtpy: true\n")); err == nil {
		t.Fatal("a misspelt field was accepted")
	}
}

func TestCheckLogQLAccepts(t *testing.T) {
	for _, c := range []struct{ expr, kind string }{
		{`{security_rule_name=~".+"}`, "logs"},
		{`{security_rule_name=~".+", k8s_namespace_name=~".*"} | line_format "{{.k8s_pod_name}} {{if .file_path}}file={{.file_path}}{{end}}"`, "logs"},
		{"{a=\"b\"} |= `x` or \"y\" != \"z\" |~ \"a.*b\" | json | logfmt | label_format x=`{{.y}}`, z=w | k8s_pod_name != \"\" and (n > 10 or d >= 5s) | drop a, b=\"c\" | keep x | decolorize", "logs"},
		{`{a="b"} | regexp "(?P<pid>[0-9]+)" | pattern "<_> <x>"`, "logs"},
		{`sum by (threat_technique_id, security_rule_name) (count_over_time({security_rule_name=~".+"} | threat_technique_id != "" [1h]))`, "metric"},
		{`topk(10, sum without (x) (rate({a="b"}[5m] offset 1m))) / 2 > bool 1`, "metric"},
		{`sum(avg_over_time({a="b"} | unwrap duration(latency) [5m])) by (c)`, "metric"},
		{`quantile_over_time(0.99, ({a="b"} | json | unwrap n)[1m])`, "metric"},
		{`vector(0) or sum(count_over_time({a="b"}[1m]))`, "metric"},
	} {
		kind, err := CheckLogQL(c.expr)
		if err != nil {
			t.Errorf("%s: %v", c.expr, err)
			continue
		}
		if kind != c.kind {
			t.Errorf("%s: kind %q, want %q", c.expr, kind, c.kind)
		}
	}
}

func TestCheckLogQLRejects(t *testing.T) {
	for _, c := range []struct{ expr, wantErr string }{
		{`{a="b"`, `found the end of the query`},
		{`{a="b"} | line_format "{{.x"`, `template`},
		{`{a=~".*"}`, `does not match the empty string`},
		{`{a=""}`, `does not match the empty string`},
		{`{a!="x"}`, `does not match the empty string`},
		{`{a=~"(["}`, `bad regex`},
		{`{a="b} `, `unterminated string`},
		{`{a="b"} | nosuchstage`, `expected a comparison operator`},
		{`{a="b"} |~ "(" `, `bad regex`},
		{`count_over_time({a="b"}[1 hour])`, `not a duration`},
		{`count_over_time({a="b"}[$__range])`, `unexpanded variable`},
		{`sum({a="b"})`, `aggregates a metric query`},
		{`rate({a="b"} | unwrap x [1m])`, `unwrap is only valid`},
		{`sum(count_over_time({a="b"}[1m])) by (a`, `found the end of the query`},
		{`{a="b"} {c="d"}`, `after the end of the query`},
		{`nosuchfn({a="b"}[1m])`, `expected a stream selector`},
		{`{a="b"} | regexp "[0-9]+"`, `named group`},
		{`{a="b"} + 1`, `needs metric queries on both sides`},
		{`{a = b}`, `expected a string`},
		{`{a=="b"}`, `expected =, !=, =~ or !~`},
	} {
		_, err := CheckLogQL(c.expr)
		if err == nil {
			t.Errorf("%s: accepted, want an error containing %q", c.expr, c.wantErr)
			continue
		}
		if !strings.Contains(err.Error(), c.wantErr) {
			t.Errorf("%s: error %q does not contain %q", c.expr, err, c.wantErr)
		}
	}
}

func TestLogQLStreamLabels(t *testing.T) {
	got, err := LogQLStreamLabels(`sum by (x) (count_over_time({b=~".+", a="x"} | c != "" [1m])) / sum(rate({a="y"}[1m]))`)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"a", "b"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("LogQLStreamLabels = %v, want %v (c is a label filter, not a stream label)", got, want)
	}
}
