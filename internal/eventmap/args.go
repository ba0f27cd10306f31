// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package eventmap

import (
	"strings"

	"github.com/cilium/tetragon/api/v1/tetragon"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/attrkey"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/tetragonjson"
)

// Hook arguments are written by the body's writer (tetragonjson.PutMessage),
// so an argument looks the same in tetragon.args and in the body: protojson
// names, populated fields only, enums as names, 64-bit integers as ints,
// bytes as base64.

// putArgs writes tetragon.args and the well-known argument attributes.
func putArgs(attrs pcommon.Map, args []*tetragon.KprobeArgument, syscall string) {
	if len(args) == 0 {
		return
	}
	s := attrs.PutEmptySlice(attrkey.TetragonArgs)
	s.EnsureCapacity(len(args))
	var haveFile, haveNet bool
	for _, a := range args {
		tetragonjson.PutMessage(s.AppendEmpty().SetEmptyMap(), a)
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
