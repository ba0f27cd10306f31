// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package workloadprofile

import "strings"

// File path classes. A profile records which classes a workload's hook events
// touch, not the paths: paths churn (temp names, rotated logs, per-request
// files), classes do not, and what the unexpected_file_access rule needs is
// "this workload never touched credentials before". The set is fixed and
// small so that a class is also a bounded metric label.
const (
	FileCredentials  = "credentials"   // password and sudo databases, SSH keys, tokens, cloud and cluster credentials
	FileProc         = "proc"          // another process's environment, memory, maps, namespaces or root (/proc/*/environ, …)
	FileKernel       = "kernel"        // kernel and system state: /sys, /proc/sys, /boot, modules, /dev/mem
	FileSystemConfig = "system_config" // the rest of /etc
	FileBinaries     = "binaries"      // executables and libraries: /bin, /sbin, /usr/bin, /lib, …
	FileLogs         = "logs"          // /var/log
	FileTemp         = "temp"          // /tmp, /var/tmp, /dev/shm
	FileHome         = "home"          // /root, /home (credentials in them are FileCredentials)
	FileOther        = "other"         // anything else, relative paths included
)

// FileClasses lists every file class, in the order the classification tries them.
var FileClasses = []string{FileCredentials, FileProc, FileKernel, FileSystemConfig, FileBinaries, FileLogs, FileTemp, FileHome, FileOther}

// pathRule matches a path when every non-empty part holds. A prefix ending in
// '/' also matches the directory itself ("/tmp/" matches "/tmp").
type pathRule struct {
	class                    string
	prefix, contains, suffix string
}

// fileRules is the one classification table (the path-list idea of the
// catalogue's 00_lists.yaml: sensitive_read_paths, sa_token_paths,
// log_paths, binary directories), first match wins. Keep credentials first:
// they live inside /etc and home directories.
var fileRules = []pathRule{
	// credentials
	{class: FileCredentials, prefix: "/etc/shadow"}, // also shadow-
	{class: FileCredentials, prefix: "/etc/gshadow"},
	{class: FileCredentials, prefix: "/etc/security/opasswd"},
	{class: FileCredentials, prefix: "/etc/sudoers"}, // also sudoers.d/
	{class: FileCredentials, prefix: "/etc/ssh/ssh_host_", suffix: "_key"},
	{class: FileCredentials, prefix: "/etc/ssl/private/"},
	{class: FileCredentials, prefix: "/etc/krb5.keytab"},
	{class: FileCredentials, prefix: "/etc/kubernetes/pki/"},
	{class: FileCredentials, prefix: "/etc/kubernetes/", suffix: ".conf"},
	{class: FileCredentials, prefix: "/var/lib/kubelet/pki/"},
	{class: FileCredentials, prefix: "/run/secrets/"},
	{class: FileCredentials, contains: "/secrets/kubernetes.io/serviceaccount/"},
	{class: FileCredentials, contains: "/secrets/eks.amazonaws.com/serviceaccount/"},
	{class: FileCredentials, contains: "/secrets/azure/tokens/"},
	{class: FileCredentials, contains: "/secrets/tokens/"},
	{class: FileCredentials, contains: "/.ssh/"},
	{class: FileCredentials, contains: "/.aws/"},
	{class: FileCredentials, contains: "/.kube/config"},
	{class: FileCredentials, contains: "/.docker/config.json"},
	{class: FileCredentials, contains: "/.gnupg/"},
	{class: FileCredentials, suffix: "/.git-credentials"},
	{class: FileCredentials, suffix: "/.netrc"},
	{class: FileCredentials, suffix: "/.pgpass"},
	// kernel before proc: /proc/sys and /proc/kcore are kernel state
	{class: FileKernel, prefix: "/proc/sys/"},
	{class: FileKernel, prefix: "/proc/kcore"},
	{class: FileKernel, prefix: "/proc/kallsyms"},
	{class: FileKernel, prefix: "/proc/sysrq-trigger"},
	{class: FileKernel, prefix: "/sys/"},
	{class: FileKernel, prefix: "/boot/"},
	{class: FileKernel, prefix: "/lib/modules/"},
	{class: FileKernel, prefix: "/usr/lib/modules/"},
	{class: FileKernel, prefix: "/dev/mem"},
	{class: FileKernel, prefix: "/dev/kmem"},
	{class: FileKernel, prefix: "/dev/port"},
	// another process's secrets and memory
	{class: FileProc, prefix: "/proc/", suffix: "/environ"},
	{class: FileProc, prefix: "/proc/", suffix: "/mem"},
	{class: FileProc, prefix: "/proc/", suffix: "/maps"},
	{class: FileProc, prefix: "/proc/", suffix: "/smaps"},
	{class: FileProc, prefix: "/proc/", suffix: "/pagemap"},
	{class: FileProc, prefix: "/proc/", suffix: "/root"},
	{class: FileProc, prefix: "/proc/", contains: "/root/"},
	{class: FileProc, prefix: "/proc/", contains: "/ns/"},
	{class: FileSystemConfig, prefix: "/etc/"},
	{class: FileLogs, prefix: "/var/log/"},
	{class: FileBinaries, prefix: "/bin/"},
	{class: FileBinaries, prefix: "/sbin/"},
	{class: FileBinaries, prefix: "/usr/bin/"},
	{class: FileBinaries, prefix: "/usr/sbin/"},
	{class: FileBinaries, prefix: "/usr/local/bin/"},
	{class: FileBinaries, prefix: "/usr/local/sbin/"},
	{class: FileBinaries, prefix: "/usr/libexec/"},
	{class: FileBinaries, prefix: "/usr/local/lib/"},
	{class: FileBinaries, prefix: "/lib/"},
	{class: FileBinaries, prefix: "/lib32/"},
	{class: FileBinaries, prefix: "/lib64/"},
	{class: FileBinaries, prefix: "/usr/lib/"},
	{class: FileBinaries, prefix: "/usr/lib32/"},
	{class: FileBinaries, prefix: "/usr/lib64/"},
	{class: FileTemp, prefix: "/tmp/"},
	{class: FileTemp, prefix: "/var/tmp/"},
	{class: FileTemp, prefix: "/dev/shm/"},
	{class: FileHome, prefix: "/root/"},
	{class: FileHome, prefix: "/home/"},
}

// ruleIndex groups fileRules for ClassifyFile: the rules with a prefix by
// its first path component ("etc", "proc", …), so a path is tried against
// a handful of rules, not all of them; the rules without a prefix (dot
// files and mounted secrets anywhere) only for paths that hold "/." or
// "/secrets/". Order within a group is fileRules' order.
var ruleIndex = func() (idx struct {
	byTop    map[string][]pathRule
	anywhere []pathRule
}) {
	idx.byTop = map[string][]pathRule{}
	for _, r := range fileRules {
		if r.prefix == "" {
			idx.anywhere = append(idx.anywhere, r)
			continue
		}
		top := topDir(r.prefix)
		idx.byTop[top] = append(idx.byTop[top], r)
	}
	return idx
}()

// topDir is the first component of an absolute path ("/etc/passwd" → "etc").
func topDir(p string) string {
	p = p[1:]
	if i := strings.IndexByte(p, '/'); i >= 0 {
		return p[:i]
	}
	return p
}

// ClassifyFile returns the class of a file path (one of FileClasses); ""
// for an empty path. It does not allocate.
func ClassifyFile(p string) string {
	if p == "" {
		return ""
	}
	if p[0] != '/' {
		return FileOther // relative: what it names depends on the cwd
	}
	if strings.Contains(p, "/.") || strings.Contains(p, "/secrets/") {
		for i := range ruleIndex.anywhere {
			if ruleIndex.anywhere[i].match(p) {
				return ruleIndex.anywhere[i].class
			}
		}
	}
	rules := ruleIndex.byTop[topDir(p)]
	for i := range rules {
		if rules[i].match(p) {
			return rules[i].class
		}
	}
	return FileOther
}

func (r *pathRule) match(p string) bool {
	if r.prefix != "" && !strings.HasPrefix(p, r.prefix) {
		dir, isDir := strings.CutSuffix(r.prefix, "/")
		if !isDir || p != dir {
			return false
		}
	}
	if r.contains != "" && !strings.Contains(p, r.contains) {
		return false
	}
	if r.suffix != "" && !strings.HasSuffix(p, r.suffix) {
		return false
	}
	return true
}

func validFileClass(c string) bool {
	for _, k := range FileClasses {
		if c == k {
			return true
		}
	}
	return false
}
