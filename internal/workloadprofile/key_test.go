// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package workloadprofile

import (
	"testing"

	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/attrkey"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/corpusrec"
)

func resource(kv ...string) pcommon.Map {
	m := pcommon.NewMap()
	for i := 0; i+1 < len(kv); i += 2 {
		m.PutStr(kv[i], kv[i+1])
	}
	return m
}

func TestKeyOf(t *testing.T) {
	k8s := []string{
		attrkey.K8sClusterName, "prod", attrkey.K8sNamespaceName, "payments", attrkey.K8sPodName, "api-7d9f-x2",
		attrkey.K8sWorkloadKind, "Deployment", attrkey.K8sWorkloadName, "api", attrkey.K8sContainerName, "app",
		attrkey.ContainerID, "551e161c47d8aaaabbbbccccddddeeeeffff0000", attrkey.ContainerImageName, "registry:5000/pay/api:1.4",
	}
	cases := []struct {
		name string
		res  pcommon.Map
		want Key
		str  string
		ok   bool
	}{
		{"kubernetes", resource(k8s...), Key{Cluster: "prod", Namespace: "payments", Kind: "Deployment", Name: "api", Container: "app"}, "prod/payments/Deployment/api/app", true},
		{"no cluster", resource(k8s[2:]...), Key{Namespace: "payments", Kind: "Deployment", Name: "api", Container: "app"}, "payments/Deployment/api/app", true},
		{"bare pod", resource(attrkey.K8sNamespaceName, "dev", attrkey.K8sPodName, "debug", attrkey.K8sContainerName, "sh"),
			Key{Namespace: "dev", Kind: "Pod", Name: "debug", Container: "sh"}, "dev/Pod/debug/sh", true},
		{"image, tag and digest stripped", resource(attrkey.ContainerImageName, "registry:5000/pay/api:1.4@sha256:abc", attrkey.ContainerID, "x"),
			Key{Image: "registry:5000/pay/api"}, "image:registry:5000/pay/api", true},
		{"image with a registry port and no tag", resource(attrkey.ContainerImageName, "registry:5000/pay/api"),
			Key{Image: "registry:5000/pay/api"}, "image:registry:5000/pay/api", true},
		{"container id cut to Tetragon's 31", resource(attrkey.ContainerID, "551e161c47d8aaaabbbbccccddddeeeeffff0000"),
			Key{ContainerID: "551e161c47d8aaaabbbbccccddddeee"}, "container:551e161c47d8aaaabbbbccccddddeee", true},
		{"docker field", resource(attrkey.ContainerID, corpusrec.Benign), Key{ContainerID: corpusrec.Benign}, "container:" + corpusrec.Benign, true},
		{"host process", resource(attrkey.K8sNodeName, "vm"), Key{}, "", false},
	}
	for _, c := range cases {
		got, ok := KeyOf(c.res)
		if got != c.want || ok != c.ok {
			t.Errorf("%s: KeyOf = %+v, %v; want %+v, %v", c.name, got, ok, c.want, c.ok)
			continue
		}
		if !ok {
			continue
		}
		if got.String() != c.str {
			t.Errorf("%s: String = %q, want %q", c.name, got.String(), c.str)
		}
		back, err := ParseKey(got.String())
		if err != nil || back != got {
			t.Errorf("%s: ParseKey(%q) = %+v, %v", c.name, got.String(), back, err)
		}
	}
	if n := testing.AllocsPerRun(100, func() { KeyOf(cases[0].res) }); n != 0 {
		t.Errorf("KeyOf allocates %v times", n)
	}
}

func TestParseKeyErrors(t *testing.T) {
	for _, s := range []string{"", "a/b", "a/b/c/d/e/f", "/Deployment//c", "image:", "container:"} {
		if k, err := ParseKey(s); err == nil {
			t.Errorf("ParseKey(%q) = %+v, want an error", s, k)
		}
	}
}

func TestKeyFileName(t *testing.T) {
	k := Key{Cluster: "prod", Namespace: "payments", Kind: "Deployment", Name: "api", Container: "app"}
	if got := k.FileName(); got != "prod_payments_Deployment_api_app.yaml" {
		t.Errorf("FileName = %q", got)
	}
	if got := (Key{Image: "docker.io/library/nginx"}).FileName(); got != "image_docker.io_library_nginx.yaml" {
		t.Errorf("FileName = %q", got)
	}
}
