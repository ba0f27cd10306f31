// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package eventmap

import (
	"encoding/base64"
	"strings"

	"github.com/cilium/tetragon/api/v1/tetragon"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/attrkey"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/tetragonjson"
)

// Hook arguments are converted with the generated getters. The output follows
// the same rules as the body (protojson names, populated fields only, enums as
// names, 64-bit integers as ints, bytes as base64), so an argument looks the
// same in tetragon.args and in the body. A test holds the two in step.

// putArgs writes tetragon.args and the well-known argument attributes.
func putArgs(attrs pcommon.Map, args []*tetragon.KprobeArgument, syscall string) {
	if len(args) == 0 {
		return
	}
	s := attrs.PutEmptySlice(attrkey.TetragonArgs)
	s.EnsureCapacity(len(args))
	var haveFile, haveNet bool
	for _, a := range args {
		m := s.AppendEmpty().SetEmptyMap()
		m.EnsureCapacity(2)
		setArg(m, a)
		if l := a.GetLabel(); l != "" {
			m.PutStr("label", l)
		}
		if !haveFile {
			haveFile = putWellKnownFile(attrs, a)
		}
		if !haveNet {
			haveNet = putWellKnownNet(attrs, a)
		}
	}
	if !haveFile && pathSyscalls[syscall] {
		if p, ok := firstStringArg(args); ok {
			attrs.PutStr(attrkey.FilePath, p)
		}
	}
}

// pathSyscalls are the syscalls whose filename argument becomes file.path.
// In the syscall's signature that argument is index 1 for the *at variants
// and index 0 otherwise, and in both cases it is the first string argument;
// taking the first string also holds when a policy captured only some of the
// arguments, so Tetragon's argument list need not be in hook order.
var pathSyscalls = map[string]bool{
	"open": true, "creat": true, "truncate": true, "unlink": true, "rmdir": true, "mkdir": true,
	"rename": true, "chmod": true, "chown": true, "lchown": true, "execve": true, "chdir": true,
	"chroot": true, "mknod": true, "acct": true, "swapon": true, "uselib": true,
	"openat": true, "openat2": true, "unlinkat": true, "renameat": true, "renameat2": true,
	"mkdirat": true, "mknodat": true, "fchmodat": true, "fchmodat2": true, "fchownat": true,
	"execveat": true, "name_to_handle_at": true,
}

// firstStringArg returns the first string argument. An empty path (execveat
// with AT_EMPTY_PATH, i.e. fexecve) names no file.
func firstStringArg(args []*tetragon.KprobeArgument) (string, bool) {
	for _, a := range args {
		if s, ok := a.GetArg().(*tetragon.KprobeArgument_StringArg); ok {
			return s.StringArg, s.StringArg != ""
		}
	}
	return "", false
}

func putWellKnownFile(attrs pcommon.Map, a *tetragon.KprobeArgument) bool {
	var path, perm string
	switch v := a.GetArg().(type) {
	case *tetragon.KprobeArgument_FileArg:
		path, perm = v.FileArg.GetPath(), v.FileArg.GetPermission()
	case *tetragon.KprobeArgument_PathArg:
		path, perm = v.PathArg.GetPath(), v.PathArg.GetPermission()
	case *tetragon.KprobeArgument_LinuxBinprmArg:
		path, perm = v.LinuxBinprmArg.GetPath(), v.LinuxBinprmArg.GetPermission()
	default:
		return false
	}
	if path == "" {
		return false
	}
	attrs.PutStr(attrkey.FilePath, path)
	if perm != "" {
		attrs.PutStr(attrkey.TetragonFilePermission, perm)
	}
	return true
}

func putWellKnownNet(attrs pcommon.Map, a *tetragon.KprobeArgument) bool {
	switch v := a.GetArg().(type) {
	case *tetragon.KprobeArgument_SockArg:
		sk := v.SockArg
		if !putPeer(attrs, sk.GetDaddr(), sk.GetDport()) {
			return false
		}
		if t := transport(sk.GetProtocol()); t != "" {
			attrs.PutStr(attrkey.NetworkTransport, t)
		}
		return true
	case *tetragon.KprobeArgument_SockaddrArg:
		return putPeer(attrs, v.SockaddrArg.GetAddr(), v.SockaddrArg.GetPort())
	}
	return false
}

func putPeer(attrs pcommon.Map, addr string, port uint32) bool {
	if addr == "" && port == 0 {
		return false
	}
	if addr != "" {
		attrs.PutStr(attrkey.NetworkPeerAddress, addr)
	}
	if port != 0 {
		attrs.PutInt(attrkey.NetworkPeerPort, int64(port))
	}
	return true
}

// transport turns Tetragon's protocol name (IPPROTO_TCP) into the semconv
// network.transport value (tcp).
func transport(protocol string) string {
	switch protocol {
	case "":
		return ""
	case "IPPROTO_TCP":
		return "tcp"
	case "IPPROTO_UDP":
		return "udp"
	}
	return strings.ToLower(strings.TrimPrefix(protocol, "IPPROTO_"))
}

// setArg writes the argument's oneof as {protojson name: typed value}.
func setArg(m pcommon.Map, a *tetragon.KprobeArgument) {
	switch v := a.GetArg().(type) {
	case *tetragon.KprobeArgument_StringArg:
		m.PutStr("string_arg", v.StringArg)
	case *tetragon.KprobeArgument_IntArg:
		m.PutInt("int_arg", int64(v.IntArg))
	case *tetragon.KprobeArgument_SkbArg:
		putSkb(m.PutEmptyMap("skb_arg"), v.SkbArg)
	case *tetragon.KprobeArgument_SizeArg:
		m.PutInt("size_arg", int64(v.SizeArg))
	case *tetragon.KprobeArgument_BytesArg:
		m.PutStr("bytes_arg", base64.StdEncoding.EncodeToString(v.BytesArg))
	case *tetragon.KprobeArgument_PathArg:
		p := v.PathArg
		putFileLike(m.PutEmptyMap("path_arg"), p.GetMount(), p.GetPath(), p.GetFlags(), p.GetPermission())
	case *tetragon.KprobeArgument_FileArg:
		f := v.FileArg
		putFileLike(m.PutEmptyMap("file_arg"), f.GetMount(), f.GetPath(), f.GetFlags(), f.GetPermission())
	case *tetragon.KprobeArgument_TruncatedBytesArg:
		t := m.PutEmptyMap("truncated_bytes_arg")
		if b := v.TruncatedBytesArg.GetBytesArg(); len(b) > 0 {
			t.PutStr("bytes_arg", base64.StdEncoding.EncodeToString(b))
		}
		putU64(t, "orig_size", v.TruncatedBytesArg.GetOrigSize())
	case *tetragon.KprobeArgument_SockArg:
		putSock(m.PutEmptyMap("sock_arg"), v.SockArg)
	case *tetragon.KprobeArgument_CredArg:
		c := m.PutEmptyMap("cred_arg")
		putEnumList(c, "permitted", v.CredArg.GetPermitted())
		putEnumList(c, "effective", v.CredArg.GetEffective())
		putEnumList(c, "inheritable", v.CredArg.GetInheritable())
	case *tetragon.KprobeArgument_LongArg:
		m.PutInt("long_arg", v.LongArg)
	case *tetragon.KprobeArgument_BpfAttrArg:
		b := m.PutEmptyMap("bpf_attr_arg")
		putStr(b, "ProgType", v.BpfAttrArg.GetProgType())
		putU32(b, "InsnCnt", v.BpfAttrArg.GetInsnCnt())
		putStr(b, "ProgName", v.BpfAttrArg.GetProgName())
	case *tetragon.KprobeArgument_PerfEventArg:
		p := m.PutEmptyMap("perf_event_arg")
		putStr(p, "KprobeFunc", v.PerfEventArg.GetKprobeFunc())
		putStr(p, "Type", v.PerfEventArg.GetType())
		putU64(p, "Config", v.PerfEventArg.GetConfig())
		putU64(p, "ProbeOffset", v.PerfEventArg.GetProbeOffset())
	case *tetragon.KprobeArgument_BpfMapArg:
		b := m.PutEmptyMap("bpf_map_arg")
		putStr(b, "MapType", v.BpfMapArg.GetMapType())
		putU32(b, "KeySize", v.BpfMapArg.GetKeySize())
		putU32(b, "ValueSize", v.BpfMapArg.GetValueSize())
		putU32(b, "MaxEntries", v.BpfMapArg.GetMaxEntries())
		putStr(b, "MapName", v.BpfMapArg.GetMapName())
	case *tetragon.KprobeArgument_UintArg:
		m.PutInt("uint_arg", int64(v.UintArg))
	case *tetragon.KprobeArgument_UserNamespaceArg:
		u := m.PutEmptyMap("user_namespace_arg")
		putI32W(u, "level", v.UserNamespaceArg.GetLevel())
		putU32W(u, "owner", v.UserNamespaceArg.GetOwner())
		putU32W(u, "group", v.UserNamespaceArg.GetGroup())
		putNamespace(u, "ns", v.UserNamespaceArg.GetNs())
	case *tetragon.KprobeArgument_CapabilityArg:
		c := m.PutEmptyMap("capability_arg")
		putI32W(c, "value", v.CapabilityArg.GetValue())
		putStr(c, "name", v.CapabilityArg.GetName())
	case *tetragon.KprobeArgument_ProcessCredentialsArg:
		putCredentials(m.PutEmptyMap("process_credentials_arg"), v.ProcessCredentialsArg)
	case *tetragon.KprobeArgument_UserNsArg:
		putUserNamespace(m.PutEmptyMap("user_ns_arg"), v.UserNsArg)
	case *tetragon.KprobeArgument_ModuleArg:
		k := m.PutEmptyMap("module_arg")
		putStr(k, "name", v.ModuleArg.GetName())
		if ok := v.ModuleArg.GetSignatureOk(); ok != nil {
			k.PutBool("signature_ok", ok.GetValue())
		}
		putEnumList(k, "tainted", v.ModuleArg.GetTainted())
	case *tetragon.KprobeArgument_KernelCapTArg:
		m.PutStr("kernel_cap_t_arg", v.KernelCapTArg)
	case *tetragon.KprobeArgument_CapInheritableArg:
		m.PutStr("cap_inheritable_arg", v.CapInheritableArg)
	case *tetragon.KprobeArgument_CapPermittedArg:
		m.PutStr("cap_permitted_arg", v.CapPermittedArg)
	case *tetragon.KprobeArgument_CapEffectiveArg:
		m.PutStr("cap_effective_arg", v.CapEffectiveArg)
	case *tetragon.KprobeArgument_LinuxBinprmArg:
		b := m.PutEmptyMap("linux_binprm_arg")
		putStr(b, "path", v.LinuxBinprmArg.GetPath())
		putStr(b, "flags", v.LinuxBinprmArg.GetFlags())
		putStr(b, "permission", v.LinuxBinprmArg.GetPermission())
	case *tetragon.KprobeArgument_NetDevArg:
		putStr(m.PutEmptyMap("net_dev_arg"), "name", v.NetDevArg.GetName())
	case *tetragon.KprobeArgument_BpfCmdArg:
		setEnum(m.PutEmpty("bpf_cmd_arg"), v.BpfCmdArg)
	case *tetragon.KprobeArgument_SyscallId:
		s := m.PutEmptyMap("syscall_id")
		putU32(s, "id", v.SyscallId.GetId())
		putStr(s, "abi", v.SyscallId.GetAbi())
	case *tetragon.KprobeArgument_SockaddrArg:
		s := m.PutEmptyMap("sockaddr_arg")
		putStr(s, "family", v.SockaddrArg.GetFamily())
		putStr(s, "addr", v.SockaddrArg.GetAddr())
		putU32(s, "port", v.SockaddrArg.GetPort())
	case *tetragon.KprobeArgument_BpfProgArg:
		b := m.PutEmptyMap("bpf_prog_arg")
		putStr(b, "ProgType", v.BpfProgArg.GetProgType())
		putU32(b, "InsnCnt", v.BpfProgArg.GetInsnCnt())
		putStr(b, "ProgName", v.BpfProgArg.GetProgName())
	case *tetragon.KprobeArgument_ErrorArg:
		putStr(m.PutEmptyMap("error_arg"), "Message", v.ErrorArg.GetMessage())
	case *tetragon.KprobeArgument_SockaddrunArg:
		s := m.PutEmptyMap("sockaddrun_arg")
		putStr(s, "family", v.SockaddrunArg.GetFamily())
		putStr(s, "path", v.SockaddrunArg.GetPath())
	}
}

// setArgValue writes the bare typed value of an argument (tetragon.return).
func setArgValue(dst pcommon.Value, a *tetragon.KprobeArgument) {
	switch v := a.GetArg().(type) {
	case *tetragon.KprobeArgument_StringArg:
		dst.SetStr(v.StringArg)
	case *tetragon.KprobeArgument_IntArg:
		dst.SetInt(int64(v.IntArg))
	case *tetragon.KprobeArgument_SizeArg:
		dst.SetInt(int64(v.SizeArg))
	case *tetragon.KprobeArgument_LongArg:
		dst.SetInt(v.LongArg)
	case *tetragon.KprobeArgument_UintArg:
		dst.SetInt(int64(v.UintArg))
	case nil:
	default:
		// Message-valued returns: reuse the argument conversion and lift the
		// single value out of its {name: value} map.
		tmp := pcommon.NewMap()
		setArg(tmp, a)
		tmp.Range(func(_ string, val pcommon.Value) bool {
			val.CopyTo(dst)
			return false
		})
	}
}

func putFileLike(m pcommon.Map, mount, path, flags, perm string) {
	putStr(m, "mount", mount)
	putStr(m, "path", path)
	putStr(m, "flags", flags)
	putStr(m, "permission", perm)
}

func putSkb(m pcommon.Map, s *tetragon.KprobeSkb) {
	putU32(m, "hash", s.GetHash())
	putU32(m, "len", s.GetLen())
	putU32(m, "priority", s.GetPriority())
	putU32(m, "mark", s.GetMark())
	putStr(m, "saddr", s.GetSaddr())
	putStr(m, "daddr", s.GetDaddr())
	putU32(m, "sport", s.GetSport())
	putU32(m, "dport", s.GetDport())
	putU32(m, "proto", s.GetProto())
	putU32(m, "sec_path_len", s.GetSecPathLen())
	putU32(m, "sec_path_olen", s.GetSecPathOlen())
	putStr(m, "protocol", s.GetProtocol())
	putStr(m, "family", s.GetFamily())
}

func putSock(m pcommon.Map, s *tetragon.KprobeSock) {
	putStr(m, "family", s.GetFamily())
	putStr(m, "type", s.GetType())
	putStr(m, "protocol", s.GetProtocol())
	putU32(m, "mark", s.GetMark())
	putU32(m, "priority", s.GetPriority())
	putStr(m, "saddr", s.GetSaddr())
	putStr(m, "daddr", s.GetDaddr())
	putU32(m, "sport", s.GetSport())
	putU32(m, "dport", s.GetDport())
	putU64(m, "cookie", s.GetCookie())
	putStr(m, "state", s.GetState())
}

func putCredentials(m pcommon.Map, c *tetragon.ProcessCredentials) {
	putU32W(m, "uid", c.GetUid())
	putU32W(m, "gid", c.GetGid())
	putU32W(m, "euid", c.GetEuid())
	putU32W(m, "egid", c.GetEgid())
	putU32W(m, "suid", c.GetSuid())
	putU32W(m, "sgid", c.GetSgid())
	putU32W(m, "fsuid", c.GetFsuid())
	putU32W(m, "fsgid", c.GetFsgid())
	putEnumList(m, "securebits", c.GetSecurebits())
	if caps := c.GetCaps(); caps != nil {
		cm := m.PutEmptyMap("caps")
		putEnumList(cm, "permitted", caps.GetPermitted())
		putEnumList(cm, "effective", caps.GetEffective())
		putEnumList(cm, "inheritable", caps.GetInheritable())
	}
	if u := c.GetUserNs(); u != nil {
		putUserNamespace(m.PutEmptyMap("user_ns"), u)
	}
}

func putUserNamespace(m pcommon.Map, u *tetragon.UserNamespace) {
	putI32W(m, "level", u.GetLevel())
	putU32W(m, "uid", u.GetUid())
	putU32W(m, "gid", u.GetGid())
	putNamespace(m, "ns", u.GetNs())
}

func putNamespace(m pcommon.Map, key string, ns *tetragon.Namespace) {
	if ns == nil {
		return
	}
	n := m.PutEmptyMap(key)
	putU32(n, "inum", ns.GetInum())
	if ns.GetIsHost() {
		n.PutBool("is_host", true)
	}
}

// The put helpers skip proto3 zero values, as protojson does.

func putStr(m pcommon.Map, k, v string) {
	if v != "" {
		m.PutStr(k, v)
	}
}

func putU32(m pcommon.Map, k string, v uint32) {
	if v != 0 {
		m.PutInt(k, int64(v))
	}
}

// putU64 stores a uint64 as an int64 with the same bits: values above
// math.MaxInt64 (kernel addresses, -1 passed as size_t) read as negative.
func putU64(m pcommon.Map, k string, v uint64) {
	if v != 0 {
		m.PutInt(k, int64(v))
	}
}

func putU32W(m pcommon.Map, k string, v *wrapperspb.UInt32Value) {
	if v != nil {
		m.PutInt(k, int64(v.GetValue()))
	}
}

func putI32W(m pcommon.Map, k string, v *wrapperspb.Int32Value) {
	if v != nil {
		m.PutInt(k, int64(v.GetValue()))
	}
}

type protoEnum interface {
	Descriptor() protoreflect.EnumDescriptor
	Number() protoreflect.EnumNumber
}

// setEnum writes the enum value's name, or its number when the name is
// unknown to this API version (as protojson does).
func setEnum[E protoEnum](dst pcommon.Value, e E) {
	setEnumName(dst, tetragonjson.EnumNamesOf(e.Descriptor()), e.Number())
}

func setEnumName(dst pcommon.Value, names *tetragonjson.EnumNames, n protoreflect.EnumNumber) {
	if name, ok := names.Name(n); ok {
		dst.SetStr(name)
		return
	}
	dst.SetInt(int64(n))
}

func putEnumList[E protoEnum](m pcommon.Map, k string, list []E) {
	if len(list) == 0 {
		return
	}
	names := tetragonjson.EnumNamesOf(list[0].Descriptor())
	s := m.PutEmptySlice(k)
	s.EnsureCapacity(len(list))
	for _, e := range list {
		setEnumName(s.AppendEmpty(), names, e.Number())
	}
}
