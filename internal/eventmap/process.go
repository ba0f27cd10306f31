// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package eventmap

import (
	"strings"

	"github.com/cilium/tetragon/api/v1/tetragon"
	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/attrkey"
)

// putProcess writes the attributes of the acting process. The generated
// getters are nil-safe, so a process_exit that carries only pid and
// start_time maps to just those two attributes.
func putProcess(attrs pcommon.Map, p *tetragon.Process, d *derivedStrings) {
	if p == nil {
		return
	}
	if pid := p.GetPid(); pid != nil {
		attrs.PutInt(attrkey.ProcessPID, int64(pid.GetValue()))
	}
	bin := p.GetBinary()
	args := p.GetArguments()
	if bin != "" {
		attrs.PutStr(attrkey.ProcessExecutablePath, bin)
		attrs.PutStr(attrkey.ProcessExecutableName, baseName(bin))
		attrs.PutStr(attrkey.ProcessCommandLine, d.commandLine)
	}
	if args != "" {
		attrs.PutStr(attrkey.TetragonArguments, args)
	}
	if cwd := p.GetCwd(); cwd != "" {
		attrs.PutStr(attrkey.ProcessWorkingDirectory, cwd)
	}
	creds := p.GetProcessCredentials()
	if euid := creds.GetEuid(); euid != nil {
		attrs.PutInt(attrkey.ProcessUserID, int64(euid.GetValue()))
	} else if uid := p.GetUid(); uid != nil {
		attrs.PutInt(attrkey.ProcessUserID, int64(uid.GetValue()))
	}
	if uid := creds.GetUid(); uid != nil {
		attrs.PutInt(attrkey.ProcessRealUserID, int64(uid.GetValue()))
	}
	if suid := creds.GetSuid(); suid != nil {
		attrs.PutInt(attrkey.ProcessSavedUserID, int64(suid.GetValue()))
	}
	if p.GetStartTime() != nil {
		attrs.PutStr(attrkey.ProcessCreationTime, d.creationTime)
	}
	if id := p.GetExecId(); id != "" {
		attrs.PutStr(attrkey.TetragonExecID, id)
	}
	if id := p.GetParentExecId(); id != "" {
		attrs.PutStr(attrkey.TetragonParentExecID, id)
	}
	if it := p.GetInInitTree(); it != nil {
		attrs.PutBool(attrkey.TetragonInInitTree, it.GetValue())
	}
	if pod := p.GetPod(); pod != nil {
		c := pod.GetContainer()
		attrs.PutBool(attrkey.TetragonExecProbe, c.GetMaybeExecProbe())
		if sc := c.GetSecurityContext(); sc != nil {
			attrs.PutBool(attrkey.TetragonPrivileged, sc.GetPrivileged())
		}
	}
	if f := p.GetFlags(); f != "" {
		attrs.PutStr(attrkey.TetragonFlags, f)
	}
	if auid := p.GetAuid(); auid != nil {
		attrs.PutInt(attrkey.TetragonAUID, int64(auid.GetValue()))
	}
	caps := p.GetCap()
	if caps == nil {
		caps = creds.GetCaps()
	}
	if caps != nil {
		putEnumList(attrs, attrkey.TetragonCapsEffective, caps.GetEffective())
		putEnumList(attrs, attrkey.TetragonCapsPermitted, caps.GetPermitted())
	}
	if bp := p.GetBinaryProperties(); bp != nil {
		if v := bp.GetSetuid(); v != nil {
			attrs.PutInt(attrkey.TetragonBinarySetuid, int64(v.GetValue()))
		}
		if v := bp.GetSetgid(); v != nil {
			attrs.PutInt(attrkey.TetragonBinarySetgid, int64(v.GetValue()))
		}
		putEnumList(attrs, attrkey.TetragonPrivilegesChanged, bp.GetPrivilegesChanged())
		if f := bp.GetFile(); f != nil {
			// Present even when zero: links == 0 is how fileless execution shows.
			attrs.PutInt(attrkey.TetragonInodeLinks, int64(f.GetInode().GetLinks().GetValue()))
		}
	}
}

func putParent(attrs pcommon.Map, p *tetragon.Process, cmdLine string) {
	if p == nil {
		return
	}
	if pid := p.GetPid(); pid != nil {
		attrs.PutInt(attrkey.ProcessParentPID, int64(pid.GetValue()))
	}
	bin := p.GetBinary()
	args := p.GetArguments()
	if bin != "" {
		attrs.PutStr(attrkey.ProcessParentExecutablePath, bin)
		attrs.PutStr(attrkey.ProcessParentExecutableName, baseName(bin))
		attrs.PutStr(attrkey.ProcessParentCommandLine, cmdLine)
	}
	if args != "" {
		attrs.PutStr(attrkey.TetragonParentArgs, args)
	}
}

func putAncestors(attrs pcommon.Map, ancestors []*tetragon.Process) {
	if len(ancestors) == 0 {
		return
	}
	s := attrs.PutEmptySlice(attrkey.TetragonAncestorBinaries)
	s.EnsureCapacity(len(ancestors))
	for _, a := range ancestors {
		s.AppendEmpty().SetStr(a.GetBinary())
	}
}

func baseName(path string) string {
	if i := strings.LastIndexByte(path, '/'); i >= 0 {
		return path[i+1:]
	}
	return path
}

// putResource writes the resource attributes of the event's acting process.
func putResource(attrs pcommon.Map, node, cluster string, p *tetragon.Process) {
	if node != "" {
		attrs.PutStr(attrkey.K8sNodeName, node)
	}
	if cluster != "" {
		attrs.PutStr(attrkey.K8sClusterName, cluster)
	}
	pod := p.GetPod()
	if pod == nil {
		if d := p.GetDocker(); d != "" {
			attrs.PutStr(attrkey.ContainerID, d)
		}
		return
	}
	if v := pod.GetNamespace(); v != "" {
		attrs.PutStr(attrkey.K8sNamespaceName, v)
	}
	if v := pod.GetName(); v != "" {
		attrs.PutStr(attrkey.K8sPodName, v)
	}
	if v := pod.GetUid(); v != "" {
		attrs.PutStr(attrkey.K8sPodUID, v)
	}
	c := pod.GetContainer()
	if v := c.GetName(); v != "" {
		attrs.PutStr(attrkey.K8sContainerName, v)
	}
	if id := stripRuntime(c.GetId()); id != "" {
		attrs.PutStr(attrkey.ContainerID, id)
	} else if d := p.GetDocker(); d != "" {
		attrs.PutStr(attrkey.ContainerID, d)
	}
	if v := c.GetImage().GetName(); v != "" {
		attrs.PutStr(attrkey.ContainerImageName, v)
	}
	for k, v := range pod.GetPodLabels() {
		attrs.PutStr(attrkey.K8sPodLabelPrefix+k, v)
	}
	if w := pod.GetWorkload(); w != "" {
		attrs.PutStr(attrkey.K8sWorkloadName, w)
		kind := pod.GetWorkloadKind()
		if kind != "" {
			attrs.PutStr(attrkey.K8sWorkloadKind, kind)
		}
		if key := workloadKindKey(kind); key != "" {
			attrs.PutStr(key, w)
		}
	} else if kind := pod.GetWorkloadKind(); kind != "" {
		attrs.PutStr(attrkey.K8sWorkloadKind, kind)
	}
}

func workloadKindKey(kind string) string {
	switch kind {
	case "Deployment":
		return attrkey.K8sDeploymentName
	case "DaemonSet":
		return attrkey.K8sDaemonSetName
	case "StatefulSet":
		return attrkey.K8sStatefulSetName
	case "ReplicaSet":
		return attrkey.K8sReplicaSetName
	case "Job":
		return attrkey.K8sJobName
	case "CronJob":
		return attrkey.K8sCronJobName
	}
	return ""
}

// stripRuntime removes the runtime prefix Kubernetes puts on container IDs
// ("containerd://", "docker://", "cri-o://", …).
func stripRuntime(id string) string {
	if i := strings.Index(id, "://"); i >= 0 {
		return id[i+3:]
	}
	return id
}
