// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package workloadprofile

import (
	"fmt"
	"strings"

	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/attrkey"
)

// Key identifies a profiled workload. Exactly one of three forms is set:
//
//   - Kubernetes (Namespace and Name set): cluster, namespace, workload kind
//     and name, container name. Every pod of a Deployment shares one profile,
//     and the image is not part of the key: a new image is a new version of
//     the same workload (see Profile.Image), not a new workload.
//   - Image (no Kubernetes metadata, container.image.name set): the image
//     repository without tag or digest, so that a new tag is again a new
//     version of one profile.
//   - ContainerID (neither): the first 31 hex characters of container.id,
//     which is what Tetragon's process.docker carries, so that a full runtime
//     id and a docker field name the same container.
//
// Key is comparable and is the map key of a Set; KeyOf builds it from
// substrings of the resource's attribute values without allocating.
type Key struct {
	Cluster     string `json:"cluster,omitempty"`
	Namespace   string `json:"namespace,omitempty"`
	Kind        string `json:"kind,omitempty"` // workload kind: Deployment, DaemonSet, …; "Pod" for a bare pod
	Name        string `json:"name,omitempty"` // workload name; the pod name for a bare pod
	Container   string `json:"container,omitempty"`
	Image       string `json:"image,omitempty"`       // image form only
	ContainerID string `json:"containerID,omitempty"` // container-id form only
}

// KeyOf returns the workload key of a record's resource attributes, and false
// for records that are not profiled: host processes (no pod, no container id)
// and the node-only resources of process_throttle / rate_limit_info.
func KeyOf(res pcommon.Map) (Key, bool) {
	ns := attrkey.Str(res, attrkey.K8sNamespaceName)
	pod := attrkey.Str(res, attrkey.K8sPodName)
	if ns != "" || pod != "" {
		k := Key{
			Cluster:   attrkey.Str(res, attrkey.K8sClusterName),
			Namespace: ns,
			Kind:      attrkey.Str(res, attrkey.K8sWorkloadKind),
			Name:      attrkey.Str(res, attrkey.K8sWorkloadName),
			Container: attrkey.Str(res, attrkey.K8sContainerName),
		}
		if k.Name == "" {
			// A pod without a controller: its own name is all there is.
			k.Kind, k.Name = "Pod", pod
		}
		return k, true
	}
	if img := imageRepository(attrkey.Str(res, attrkey.ContainerImageName)); img != "" {
		return Key{Image: img}, true
	}
	if id := attrkey.Str(res, attrkey.ContainerID); id != "" {
		return Key{ContainerID: attrkey.ContainerKey(id)}, true
	}
	return Key{}, false
}

// imageRepository strips the tag and digest of an image reference
// ("docker.io/library/nginx:1.25@sha256:…" → "docker.io/library/nginx"). A
// colon before the last slash is a registry port, not a tag.
func imageRepository(ref string) string {
	if i := strings.IndexByte(ref, '@'); i >= 0 {
		ref = ref[:i]
	}
	if i := strings.LastIndexByte(ref, ':'); i > strings.LastIndexByte(ref, '/') {
		ref = ref[:i]
	}
	return ref
}

// IsZero reports whether k is the zero Key (no workload).
func (k Key) IsZero() bool { return k == Key{} }

// String is the key's stable, readable form, the profile's identity in files,
// in runtime_security.profile.workload and in logs:
// "cluster/namespace/Kind/name/container" ("namespace/Kind/name/container"
// when there is no cluster name), "image:<repository>" or
// "container:<id>". Kubernetes names cannot contain '/', so ParseKey reads it
// back.
func (k Key) String() string {
	switch {
	case k.Image != "":
		return "image:" + k.Image
	case k.ContainerID != "":
		return "container:" + k.ContainerID
	case k.Cluster != "":
		return k.Cluster + "/" + k.Namespace + "/" + k.Kind + "/" + k.Name + "/" + k.Container
	default:
		return k.Namespace + "/" + k.Kind + "/" + k.Name + "/" + k.Container
	}
}

// ParseKey reads a Key written by Key.String.
func ParseKey(s string) (Key, error) {
	if img, ok := strings.CutPrefix(s, "image:"); ok && img != "" {
		return Key{Image: img}, nil
	}
	if id, ok := strings.CutPrefix(s, "container:"); ok && id != "" {
		return Key{ContainerID: id}, nil
	}
	p := strings.Split(s, "/")
	switch len(p) {
	case 4:
		p = append([]string{""}, p...)
	case 5:
	default:
		return Key{}, fmt.Errorf("workload key %q: want [cluster/]namespace/Kind/name/container, image:<repository> or container:<id>", s)
	}
	k := Key{Cluster: p[0], Namespace: p[1], Kind: p[2], Name: p[3], Container: p[4]}
	if k.Namespace == "" || k.Name == "" {
		return Key{}, fmt.Errorf("workload key %q: namespace and name must not be empty", s)
	}
	return k, nil
}

// validate reports a key that is none of the three forms (a hand-edited file).
func (k Key) validate() error {
	forms := 0
	if k.Namespace != "" || k.Name != "" || k.Kind != "" || k.Container != "" || k.Cluster != "" {
		forms++
		if k.Namespace == "" || k.Name == "" {
			return fmt.Errorf("workload: a Kubernetes key needs namespace and name (got %q)", k.String())
		}
	}
	if k.Image != "" {
		forms++
	}
	if k.ContainerID != "" {
		forms++
	}
	if forms != 1 {
		return fmt.Errorf("workload: set exactly one of namespace/kind/name/container (Kubernetes), image, or containerID")
	}
	return nil
}

// FileName is a file name for the profile of k: String with every character
// other than letters, digits, '.', '_' and '-' replaced by '_', plus ".yaml".
// Distinct keys may collide; the file's content carries the real key.
func (k Key) FileName() string {
	s := []byte(k.String())
	for i, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			s[i] = '_'
		}
	}
	return string(s) + ".yaml"
}

// clone copies k's strings, so that a key kept in a Set does not pin the
// record batch its substrings came from.
func (k Key) clone() Key {
	return Key{
		Cluster: strings.Clone(k.Cluster), Namespace: strings.Clone(k.Namespace),
		Kind: strings.Clone(k.Kind), Name: strings.Clone(k.Name),
		Container: strings.Clone(k.Container), Image: strings.Clone(k.Image),
		ContainerID: strings.Clone(k.ContainerID),
	}
}
