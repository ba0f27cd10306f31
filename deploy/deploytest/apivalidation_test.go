// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package deploytest

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/validation"
)

// TestObjectsPassAPIServerChecks repeats the API server's checks that strict decoding cannot
// see and that would make `kubectl apply` fail: names, label syntax, the DaemonSet selector,
// volume references, port and ConfigMap key syntax.
func TestObjectsPassAPIServerChecks(t *testing.T) {
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			objs := render(t, v)
			for _, o := range objs {
				for _, msg := range validation.IsDNS1123Subdomain(o.Name) {
					t.Errorf("%s %s: name: %s", o.Kind, o.Name, msg)
				}
			}
			for _, o := range Find(objs, "ConfigMap") {
				cm := o.Typed.(*corev1.ConfigMap)
				for k := range cm.Data {
					for _, msg := range validation.IsConfigMapKey(k) {
						t.Errorf("ConfigMap %s key %q: %s", cm.Name, k, msg)
					}
				}
				checkLabels(t, o.Kind+" "+o.Name, cm.Labels)
			}
			ds, err := DaemonSet(objs)
			if err != nil {
				t.Fatal(err)
			}
			checkLabels(t, "DaemonSet", ds.Labels)
			checkLabels(t, "pod template", ds.Spec.Template.Labels)
			sel := ds.Spec.Selector
			if sel == nil || len(sel.MatchLabels) == 0 || !labels.SelectorFromSet(sel.MatchLabels).Matches(labels.Set(ds.Spec.Template.Labels)) {
				t.Error("DaemonSet selector does not match its template's labels (the API server rejects it)")
			}
			ps := &ds.Spec.Template.Spec
			volumes := map[string]bool{}
			for _, vol := range ps.Volumes {
				if volumes[vol.Name] {
					t.Errorf("volume %s declared twice", vol.Name)
				}
				volumes[vol.Name] = true
			}
			names := map[string]bool{}
			for _, c := range append(append([]corev1.Container{}, ps.InitContainers...), ps.Containers...) {
				for _, msg := range validation.IsDNS1123Label(c.Name) {
					t.Errorf("container %s: %s", c.Name, msg)
				}
				if names[c.Name] {
					t.Errorf("container name %s used twice", c.Name)
				}
				names[c.Name] = true
				mountPaths := map[string]bool{}
				for _, m := range c.VolumeMounts {
					if !volumes[m.Name] {
						t.Errorf("%s mounts undeclared volume %s", c.Name, m.Name)
					}
					if mountPaths[m.MountPath] {
						t.Errorf("%s mounts %s twice", c.Name, m.MountPath)
					}
					mountPaths[m.MountPath] = true
				}
				for _, p := range c.Ports {
					for _, msg := range validation.IsValidPortName(p.Name) {
						t.Errorf("%s port %s: %s", c.Name, p.Name, msg)
					}
				}
				for _, e := range c.Env {
					for _, msg := range validation.IsEnvVarName(e.Name) {
						t.Errorf("%s env %s: %s", c.Name, e.Name, msg)
					}
				}
			}
		})
	}
}

func checkLabels(t *testing.T, what string, l map[string]string) {
	t.Helper()
	for k, v := range l {
		for _, msg := range validation.IsQualifiedName(k) {
			t.Errorf("%s label key %s: %s", what, k, msg)
		}
		for _, msg := range validation.IsValidLabelValue(v) {
			t.Errorf("%s label %s=%q: %s", what, k, v, msg)
		}
	}
}
