// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

// Package deploytest checks the deployment assets under deploy/: it renders the kustomize
// targets with the kustomize library (sigs.k8s.io/kustomize/api/krusty), decodes every object
// strictly into its Kubernetes Go type, validates the Tetragon TracingPolicies against the
// TracingPolicy CRD schema, and extracts the collector configuration the DaemonSet would run.
// The tests live in the _test.go files; this file holds what they share.
package deploytest // import "github.com/otelcol-runtime-security/otelcol-runtime-security/deploy/deploytest"

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/runtime"
	kjson "k8s.io/apimachinery/pkg/runtime/serializer/json"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// ModulePath is the Go module the repository root declares.
const ModulePath = "github.com/otelcol-runtime-security/otelcol-runtime-security"

// RepoRoot walks up from the working directory to the go.mod of ModulePath.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && bytes.HasPrefix(bytes.TrimSpace(data), []byte("module "+ModulePath+"\n")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod of module %s above the working directory", ModulePath)
		}
		dir = parent
	}
}

// Object is one rendered Kubernetes object: its raw YAML and the typed value it decoded into.
type Object struct {
	Kind, Name, Namespace string
	YAML                  []byte
	Typed                 runtime.Object
}

// Build renders the kustomization in dir (as `kubectl kustomize dir` would, with kustomize's
// default load restrictions) and decodes every object strictly: an unknown or duplicate field
// anywhere, or a kind without a Go type here, is an error.
func Build(dir string) ([]Object, error) {
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	rm, err := k.Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		return nil, fmt.Errorf("kustomize build %s: %w", dir, err)
	}
	dec := StrictDecoder()
	var out []Object
	var errs []error
	for _, r := range rm.Resources() {
		y, err := r.AsYAML()
		if err != nil {
			errs = append(errs, err)
			continue
		}
		obj, err := DecodeStrict(dec, y)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s %s: %w", r.GetKind(), r.GetName(), err))
			continue
		}
		out = append(out, Object{Kind: r.GetKind(), Name: r.GetName(), Namespace: r.GetNamespace(), YAML: y, Typed: obj})
	}
	return out, errors.Join(errs...)
}

// StrictDecoder decodes YAML into the Go types of the kinds deploy/ ships (core/v1, apps/v1,
// networking/v1, policy/v1, monitoring.coreos.com/v1), rejecting unknown and duplicate fields.
func StrictDecoder() runtime.Decoder {
	scheme := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{corev1.AddToScheme, appsv1.AddToScheme, networkingv1.AddToScheme, policyv1.AddToScheme, monitoringv1.AddToScheme} {
		if err := add(scheme); err != nil {
			panic(err) // static registration; cannot fail for these packages
		}
	}
	return kjson.NewSerializerWithOptions(kjson.DefaultMetaFactory, scheme, scheme,
		kjson.SerializerOptions{Yaml: true, Strict: true})
}

// DecodeStrict decodes one YAML object with dec.
func DecodeStrict(dec runtime.Decoder, y []byte) (runtime.Object, error) {
	obj, _, err := dec.Decode(y, nil, nil)
	if err != nil {
		return nil, err
	}
	return obj, nil
}

// Find returns the objects of kind, sorted by name.
func Find(objs []Object, kind string) []Object {
	var out []Object
	for _, o := range objs {
		if o.Kind == kind {
			out = append(out, o)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// DaemonSet returns the single DaemonSet of objs.
func DaemonSet(objs []Object) (*appsv1.DaemonSet, error) {
	ds := Find(objs, "DaemonSet")
	if len(ds) != 1 {
		return nil, fmt.Errorf("want exactly one DaemonSet, got %d", len(ds))
	}
	return ds[0].Typed.(*appsv1.DaemonSet), nil
}

// Deployment returns the Deployment named name.
func Deployment(objs []Object, name string) (*appsv1.Deployment, error) {
	for _, o := range Find(objs, "Deployment") {
		if o.Name == name {
			return o.Typed.(*appsv1.Deployment), nil
		}
	}
	return nil, fmt.Errorf("no Deployment %s", name)
}

// ConfigMap returns the ConfigMap whose name is name or name plus kustomize's hash suffix.
func ConfigMap(objs []Object, name string) (*corev1.ConfigMap, error) {
	var found []*corev1.ConfigMap
	for _, o := range Find(objs, "ConfigMap") {
		if o.Name == name || (strings.HasPrefix(o.Name, name+"-") && len(o.Name) == len(name)+11) {
			found = append(found, o.Typed.(*corev1.ConfigMap))
		}
	}
	if len(found) != 1 {
		return nil, fmt.Errorf("want exactly one ConfigMap %s, got %d", name, len(found))
	}
	return found[0], nil
}

// Container returns the container name of pod spec ps.
func Container(ps *corev1.PodSpec, name string) (*corev1.Container, error) {
	for i := range ps.Containers {
		if ps.Containers[i].Name == name {
			return &ps.Containers[i], nil
		}
	}
	return nil, fmt.Errorf("no container %q", name)
}

// CollectorConfigFiles returns, in --config order, the files the collector container of pod
// spec ps reads and their contents, resolved through its volume mounts to the ConfigMaps in objs.
func CollectorConfigFiles(objs []Object, ps *corev1.PodSpec, container string) ([]ConfigFile, error) {
	c, err := Container(ps, container)
	if err != nil {
		return nil, err
	}
	var out []ConfigFile
	for _, a := range append(append([]string{}, c.Command...), c.Args...) {
		p, ok := strings.CutPrefix(a, "--config=")
		if !ok {
			continue
		}
		data, err := MountedFile(objs, ps, c, p)
		if err != nil {
			return nil, fmt.Errorf("--config=%s: %w", p, err)
		}
		out = append(out, ConfigFile{Path: p, Data: data})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("container %q has no --config argument", container)
	}
	return out, nil
}

// ConfigFile is one file of the collector's configuration as mounted in the pod.
type ConfigFile struct {
	Path string
	Data []byte
}

// MountedFile returns the content of path inside container c, which must lie in a ConfigMap
// volume mount (whole ConfigMap, no subPath, no items remapping).
func MountedFile(objs []Object, ps *corev1.PodSpec, c *corev1.Container, path string) ([]byte, error) {
	for _, m := range c.VolumeMounts {
		rel, err := filepath.Rel(m.MountPath, path)
		if err != nil || strings.HasPrefix(rel, "..") || strings.Contains(rel, "/") {
			continue
		}
		for _, v := range ps.Volumes {
			if v.Name != m.Name || v.ConfigMap == nil {
				continue
			}
			cm, err := ConfigMap(objs, v.ConfigMap.Name)
			if err != nil {
				return nil, err
			}
			data, ok := cm.Data[rel]
			if !ok {
				return nil, fmt.Errorf("ConfigMap %s has no key %q", cm.Name, rel)
			}
			return []byte(data), nil
		}
	}
	return nil, fmt.Errorf("%s is not a file in a ConfigMap volume mount of container %s", path, c.Name)
}
