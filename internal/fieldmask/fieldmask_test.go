// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package fieldmask

import (
	"fmt"
	"slices"
	"testing"

	"github.com/cilium/tetragon/api/v1/tetragon"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

func TestFromPathsLikeFmutils(t *testing.T) {
	for _, c := range []struct {
		paths []string
		want  string
	}{
		{[]string{"a.b", "a.c", "d"}, "map[a:map[b:map[] c:map[]] d:map[]]"},
		{[]string{"a.b", "a"}, "map[a:map[]]"},
		{[]string{"a", "a.b"}, "map[a:map[b:map[]]]"},
		{[]string{"", "a..b", ".x"}, "map[a:map[]]"},
	} {
		if got := fmt.Sprint(FromPaths(c.paths)); got != c.want {
			t.Errorf("%v: got %s, want %s", c.paths, got, c.want)
		}
	}
	got := FromPaths([]string{"process.pod.name", "parent"}).Paths()
	slices.Sort(got)
	if !slices.Equal(got, []string{"parent", "process.pod.name"}) {
		t.Errorf("Paths: %v", got)
	}
}

func TestFilterAndPrune(t *testing.T) {
	exec := func() *tetragon.ProcessExec {
		return &tetragon.ProcessExec{
			Process: &tetragon.Process{Binary: "/bin/sh", Arguments: "-c x", Pod: &tetragon.Pod{Name: "p", Namespace: "n"}, Uid: wrapperspb.UInt32(1)},
			Parent:  &tetragon.Process{Binary: "/usr/bin/bash"},
		}
	}
	in := exec()
	FromPaths([]string{"process.binary", "process.pod.name"}).Filter(in.ProtoReflect())
	if in.Parent != nil || in.Process.Arguments != "" || in.Process.Uid != nil || in.Process.Binary != "/bin/sh" || in.Process.Pod.GetName() != "p" || in.Process.Pod.GetNamespace() != "" {
		t.Errorf("Filter kept the wrong fields: %v", in)
	}
	ex := exec()
	FromPaths([]string{"parent", "process.arguments", "process.pod.namespace"}).Prune(ex.ProtoReflect())
	if ex.Parent != nil || ex.Process.Arguments != "" || ex.Process.Binary != "/bin/sh" || ex.Process.Pod.GetName() != "p" || ex.Process.Pod.GetNamespace() != "" {
		t.Errorf("Prune removed the wrong fields: %v", ex)
	}
}
