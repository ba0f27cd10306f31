// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package rulefuncs

import (
	"context"
	"path"
	"strings"

	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/ottl"
	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/attrkey"
)

// File operations of hook events, one table for every rule: which syscall (or
// LSM/kprobe hook) does what to a file, and at which argument position its
// flags, mode and second path are. Positions are syscall argument positions:
// the receiver normalises tetragon.args so that kprobe, syscall tracepoint and
// raw syscall shapes agree.

// File operation names returned by FileOp().
const (
	OpRead     = "read"     // opened for reading (O_RDONLY), or a read permission check
	OpWrite    = "write"    // opened with O_WRONLY/O_RDWR/O_CREAT/O_TRUNC/O_APPEND, creat, write hooks
	OpTruncate = "truncate" // truncate/ftruncate
	OpChmod    = "chmod"
	OpChown    = "chown"
	OpLink     = "link" // hard link
	OpSymlink  = "symlink"
	OpRename   = "rename"
	OpUnlink   = "unlink"
	OpRmdir    = "rmdir"
	OpMkdir    = "mkdir"
	OpMknod    = "mknod"
)

// fileOp describes one syscall or hook. -1 means "no such argument".
type fileOp struct {
	op string
	// flags: open(2) flags (the op is read or write by them); mask: an LSM
	// MAY_* permission mask (same).
	flags, mask int
	mode        int
	// old: the existing file of a link (what the new name will point to);
	// newPath: the name a rename or link creates.
	old, newPath int
	// rmdirFlag: unlinkat's flag argument (AT_REMOVEDIR makes it an rmdir).
	rmdirFlag int
}

func op(name string) fileOp {
	return fileOp{op: name, flags: -1, mask: -1, mode: -1, old: -1, newPath: -1, rmdirFlag: -1}
}

func (f fileOp) with(set func(*fileOp)) fileOp { set(&f); return f }

// fileOps is keyed by syscall name (tetragon.syscall.name) or, for hooks that
// are not syscalls, by tetragon.hook.
var fileOps = map[string]fileOp{
	"open":      op(OpRead).with(func(f *fileOp) { f.flags, f.mode = 1, 2 }),
	"openat":    op(OpRead).with(func(f *fileOp) { f.flags, f.mode = 2, 3 }),
	"creat":     op(OpWrite).with(func(f *fileOp) { f.mode = 1 }),
	"openat2":   op(OpRead), // flags sit behind a pointer: an open of unknown mode counts as a read
	"truncate":  op(OpTruncate),
	"ftruncate": op(OpTruncate),
	"chmod":     op(OpChmod).with(func(f *fileOp) { f.mode = 1 }),
	"fchmod":    op(OpChmod).with(func(f *fileOp) { f.mode = 1 }),
	"fchmodat":  op(OpChmod).with(func(f *fileOp) { f.mode = 2 }),
	"fchmodat2": op(OpChmod).with(func(f *fileOp) { f.mode = 2 }),
	"chown":     op(OpChown),
	"lchown":    op(OpChown),
	"fchown":    op(OpChown),
	"fchownat":  op(OpChown),
	"link":      op(OpLink).with(func(f *fileOp) { f.old, f.newPath = 0, 1 }),
	"linkat":    op(OpLink).with(func(f *fileOp) { f.old, f.newPath = 1, 3 }),
	"symlink":   op(OpSymlink).with(func(f *fileOp) { f.old, f.newPath = 0, 1 }),
	"symlinkat": op(OpSymlink).with(func(f *fileOp) { f.old, f.newPath = 0, 2 }),
	"rename":    op(OpRename).with(func(f *fileOp) { f.newPath = 1 }),
	"renameat":  op(OpRename).with(func(f *fileOp) { f.newPath = 3 }),
	"renameat2": op(OpRename).with(func(f *fileOp) { f.newPath = 3 }),
	"unlink":    op(OpUnlink),
	"unlinkat":  op(OpUnlink).with(func(f *fileOp) { f.rmdirFlag = 2 }),
	"rmdir":     op(OpRmdir),
	"mkdir":     op(OpMkdir),
	"mkdirat":   op(OpMkdir),
	"mknod":     op(OpMknod).with(func(f *fileOp) { f.mode = 1 }),
	"mknodat":   op(OpMknod).with(func(f *fileOp) { f.mode = 2 }),
	// LSM / kprobe hooks [file, mask].
	"security_file_permission": op(OpRead).with(func(f *fileOp) { f.mask = 1 }),
	"file_permission":          op(OpRead).with(func(f *fileOp) { f.mask = 1 }),
	// Hooks on an already open file ([file, …]): a read or write of it.
	"read":               op(OpRead),
	"pread64":            op(OpRead),
	"readv":              op(OpRead),
	"preadv":             op(OpRead),
	"ksys_read":          op(OpRead),
	"vfs_read":           op(OpRead),
	"write":              op(OpWrite),
	"pwrite64":           op(OpWrite),
	"writev":             op(OpWrite),
	"pwritev":            op(OpWrite),
	"ksys_write":         op(OpWrite),
	"vfs_write":          op(OpWrite),
	"fd_install":         op(OpRead), // an open whose mode the hook does not show
	"security_file_open": op(OpRead),
	"file_open":          op(OpRead),
	// Path-based LSM hooks.
	"security_path_truncate": op(OpTruncate),
	"path_truncate":          op(OpTruncate),
	"security_path_unlink":   op(OpUnlink),
	"security_path_rmdir":    op(OpRmdir),
	"security_path_chmod":    op(OpChmod).with(func(f *fileOp) { f.mode = 1 }),
	"security_inode_unlink":  op(OpUnlink),
}

const (
	oWriteMask  = 1 | 2 | 0o100 | 0o1000 | 0o2000 // O_WRONLY|O_RDWR|O_CREAT|O_TRUNC|O_APPEND
	oPath       = 0o10000000                      // O_PATH: no access at all
	mayWrite    = 2 | 8                           // MAY_WRITE|MAY_APPEND
	mayRead     = 4                               // MAY_READ
	atRemovedir = 0x200
)

// lookupFileOp finds the record's entry: by syscall name, else by hook.
func lookupFileOp(attrs pcommon.Map) (fileOp, bool) {
	if v, ok := attrs.Get(attrkey.TetragonSyscallName); ok && v.Type() == pcommon.ValueTypeStr {
		if f, ok := fileOps[v.Str()]; ok {
			return f, true
		}
	}
	if v, ok := attrs.Get(attrkey.TetragonHook); ok && v.Type() == pcommon.ValueTypeStr {
		f, ok := fileOps[v.Str()]
		return f, ok
	}
	return fileOp{}, false
}

// argOf is argument i of the record's tetragon.args (the typed value and its
// type key), as argAt in rulefuncs.go, but from the attributes alone so that
// code outside OTTL (FileOperation) reads arguments the same way.
func argOf(attrs pcommon.Map, i int) (v pcommon.Value, ok bool) {
	if i < 0 {
		return pcommon.Value{}, false
	}
	args, found := attrs.Get(attrkey.TetragonArgs)
	if !found || args.Type() != pcommon.ValueTypeSlice || i >= args.Slice().Len() {
		return pcommon.Value{}, false
	}
	arg := args.Slice().At(i)
	if arg.Type() != pcommon.ValueTypeMap {
		return pcommon.Value{}, false
	}
	arg.Map().Range(func(k string, val pcommon.Value) bool {
		if k == "label" {
			return true
		}
		v, ok = val, true
		return false
	})
	return v, ok
}

func intArgOf(attrs pcommon.Map, i int) (int64, bool) {
	v, ok := argOf(attrs, i)
	if !ok {
		return 0, false
	}
	return argInt(v)
}

func stringArgOf(attrs pcommon.Map, i int) string {
	if v, ok := argOf(attrs, i); ok {
		if s, ok := argString(v); ok {
			return s
		}
	}
	return ""
}

// opOf is what the record's entry f does: f.op, or read/write by its open
// flags or permission mask; "" when the flags or mask are unreadable or say
// nothing is accessed (O_PATH). flags are the open flags it read, else -1.
func opOf(attrs pcommon.Map, f fileOp) (op string, flags int64) {
	switch {
	case f.flags >= 0:
		flags, ok := intArgOf(attrs, f.flags)
		if !ok {
			return "", -1
		}
		if flags&oWriteMask != 0 {
			return OpWrite, flags
		}
		if flags&oPath != 0 {
			return "", flags
		}
		return OpRead, flags
	case f.mask >= 0:
		mask, ok := intArgOf(attrs, f.mask)
		switch {
		case !ok:
			return "", -1
		case mask&mayWrite != 0:
			return OpWrite, -1
		case mask&mayRead != 0:
			return OpRead, -1
		}
		return "", -1
	case f.rmdirFlag >= 0:
		if flag, ok := intArgOf(attrs, f.rmdirFlag); ok && flag&atRemovedir != 0 {
			return OpRmdir, -1
		}
	}
	return f.op, -1
}

// fileOpOf is FileOp() for one record: nil when the record is not a file
// operation, or an open whose flags say it opens nothing (O_PATH).
func fileOpOf(tCtx TC) any {
	f, ok := lookupFileOp(tCtx.GetLogRecord().Attributes())
	if !ok {
		return nil
	}
	if op, _ := opOf(tCtx.GetLogRecord().Attributes(), f); op != "" {
		return op
	}
	return nil
}

// FileOperation is what a hook event did to which path, from the same table
// as FileOp(), FileMode(), LinkTarget() and NewPath(), for code that reads a
// record outside OTTL (the detection processor's drift tracker):
//
//   - op: what FileOp() returns (OpRead, OpWrite, OpChmod, …), "" when the
//     record is no file operation;
//   - path: the file acted on: file.path (the receiver's first path or file
//     argument), else the existing file of a link (LinkTarget());
//   - newPath: the name a rename or link creates (NewPath()), else "";
//   - mode: the mode argument of open/creat/chmod/mknod (FileMode()), -1 when
//     the syscall has none or the event lacks it;
//   - flags: the open(2) flags of open/openat, -1 likewise.
//
// Paths are the strings the process passed (possibly relative). It does not
// allocate.
func FileOperation(attrs pcommon.Map) (op, path, newPath string, mode, flags int64) {
	f, ok := lookupFileOp(attrs)
	if !ok {
		return "", "", "", -1, -1
	}
	if op, flags = opOf(attrs, f); op == "" {
		return "", "", "", -1, -1
	}
	if v, ok := attrs.Get(attrkey.FilePath); ok && v.Type() == pcommon.ValueTypeStr {
		path = v.Str()
	}
	if path == "" {
		path = stringArgOf(attrs, f.old)
	}
	newPath = stringArgOf(attrs, f.newPath)
	mode = -1
	if m, ok := intArgOf(attrs, f.mode); ok {
		mode = m
	}
	return op, path, newPath, mode, flags
}

// noArgs is a function factory of a function without arguments.
func noArgs(name string, fn func(TC) any) ottl.Factory[TC] {
	return ottl.NewFactory(name, nil, func(_ ottl.FunctionContext, _ ottl.Arguments) (ottl.ExprFunc[TC], error) {
		return func(_ context.Context, tCtx TC) (any, error) { return fn(tCtx), nil }, nil
	})
}

// FileOp() / FileMode() / LinkTarget() / NewPath(), see SCHEMA.md.
func newFileOpFactories() []ottl.Factory[TC] {
	return []ottl.Factory[TC]{
		noArgs("FileOp", fileOpOf),
		noArgs("FileMode", func(tCtx TC) any {
			attrs := tCtx.GetLogRecord().Attributes()
			if f, ok := lookupFileOp(attrs); ok {
				if m, ok := intArgOf(attrs, f.mode); ok {
					return m
				}
			}
			return nil
		}),
		noArgs("LinkTarget", func(tCtx TC) any {
			attrs := tCtx.GetLogRecord().Attributes()
			if f, ok := lookupFileOp(attrs); ok {
				if s := stringArgOf(attrs, f.old); s != "" {
					return s
				}
			}
			return nil
		}),
		noArgs("NewPath", func(tCtx TC) any {
			attrs := tCtx.GetLogRecord().Attributes()
			if f, ok := lookupFileOp(attrs); ok {
				if s := stringArgOf(attrs, f.newPath); s != "" {
					return s
				}
			}
			return nil
		}),
		noArgs("CommandName", commandName),
	}
}

// multiCallBinaries run the applet named by their first argument.
var multiCallBinaries = map[string]bool{"busybox": true, "toybox": true}

// commandName is what the user ran: the executable's name, or for busybox and
// toybox the applet (`busybox wget …` → wget). nil for /proc/self/exe (a
// re-executed busybox applet: only its arguments are known).
func commandName(tCtx TC) any {
	attrs := tCtx.GetLogRecord().Attributes()
	exe, ok := attrs.Get(attrkey.ProcessExecutablePath)
	if !ok || exe.Type() != pcommon.ValueTypeStr || exe.Str() == "/proc/self/exe" {
		return nil
	}
	name := path.Base(exe.Str())
	if !multiCallBinaries[name] {
		return name
	}
	args, ok := attrs.Get(attrkey.TetragonArguments)
	if !ok || args.Type() != pcommon.ValueTypeStr {
		return name
	}
	first, _, _ := strings.Cut(strings.TrimSpace(args.Str()), " ")
	if first == "" || strings.HasPrefix(first, "-") {
		return name
	}
	return path.Base(first)
}
