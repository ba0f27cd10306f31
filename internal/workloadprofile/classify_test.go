// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package workloadprofile

import (
	"net/netip"
	"strconv"
	"strings"
	"testing"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/corpusrec"
)

func TestGeneraliseExec(t *testing.T) {
	for in, want := range map[string]string{
		"/usr/lib/jvm/java-17-openjdk-amd64/bin/java": "/usr/lib/jvm/java-*-openjdk-amd64/bin/java",
		"/usr/local/lib/python3.11/site-packages/x":   "/usr/local/lib/python3.*/site-packages/x",
		"/usr/bin/python3.11":                         "/usr/bin/python3.*",
		"/usr/bin/python3":                            "/usr/bin/python3",
		"/opt/app-1.2.3/bin/app":                      "/opt/app-*/bin/app",
		"/opt/app/1.2.3/bin/app":                      "/opt/app/*/bin/app",
		"/opt/node-v18.17.0-linux-x64/bin/node":       "/opt/node-*-linux-x64/bin/node",
		"/usr/sbin/php-fpm8.2":                        "/usr/sbin/php-fpm8.*",
		"/usr/bin/gcc-12":                             "/usr/bin/gcc-*",
		"/usr/bin/x86_64-linux-gnu-gcc-12":            "/usr/bin/x86_64-linux-gnu-gcc-*",
		"/dev/fd/3":                                   "/dev/fd/3", // fileless exec stays visible
		"/usr/bin/sha256sum":                          "/usr/bin/sha256sum",
		"/usr/sbin/runc":                              "/usr/sbin/runc",
		"/proc/self/exe":                              "/proc/self/exe",
	} {
		if got := GeneraliseExec(in); got != want {
			t.Errorf("GeneraliseExec(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestExecCacheBounded(t *testing.T) {
	c := make(execCache)
	for i := range maxExecCache + 10 {
		c.get("/opt/app-1.2/bin/x" + strconv.Itoa(i))
		if len(c) > maxExecCache {
			t.Fatalf("cache grew to %d", len(c))
		}
	}
	if g := c.get("/opt/app-1.2/bin/app"); g != "/opt/app-*/bin/app" {
		t.Errorf("get = %q", g)
	}
}

func TestClassifyFile(t *testing.T) {
	// Paths of the shared corpus (syscalls/ and captured/) and a few more.
	for p, want := range map[string]string{
		"/etc/shadow":            FileCredentials,
		"/etc/shadow-":           FileCredentials,
		"/etc/sudoers.d/README":  FileCredentials,
		"/root/.ssh/id_rsa":      FileCredentials,
		"/root/.aws/credentials": FileCredentials,
		"/var/run/secrets/kubernetes.io/serviceaccount/..2024_01_01/token": FileCredentials,
		"/etc/kubernetes/admin.conf":                                       FileCredentials,
		"/etc/ssh/ssh_host_ed25519_key":                                    FileCredentials,
		"/etc/ssh/ssh_host_ed25519_key.pub":                                FileSystemConfig,
		"/proc/1/environ":                                                  FileProc,
		"/proc/self/environ":                                               FileProc,
		"/proc/1/root":                                                     FileProc,
		"/proc/1/ns/net":                                                   FileProc,
		"/proc/self/status":                                                FileOther,
		"/proc/sys/kernel/core_pattern":                                    FileKernel,
		"/sys/fs/cgroup/x":                                                 FileKernel,
		"/etc/passwd":                                                      FileSystemConfig,
		"/etc":                                                             FileSystemConfig,
		"/var/log/auth.log":                                                FileLogs,
		"/var/log":                                                         FileLogs,
		"/usr/bin/newfile":                                                 FileBinaries,
		"/usr/local/bin/helper":                                            FileBinaries,
		"/lib/x86_64-linux-gnu/libc.so.6":                                  FileBinaries,
		"/tmp/x":                                                           FileTemp,
		"/dev/shm/x":                                                       FileTemp,
		"/root/.bashrc":                                                    FileHome,
		"/home/app/.profile":                                               FileHome,
		"/srv/app/config.yml":                                              FileOther,
		"passwd":                                                           FileOther, // relative
		"/tmpfoo":                                                          FileOther,
		"":                                                                 "",
	} {
		if got := ClassifyFile(p); got != want {
			t.Errorf("ClassifyFile(%q) = %q, want %q", p, got, want)
		}
	}
	if n := testing.AllocsPerRun(100, func() { ClassifyFile("/srv/app/data/report.txt") }); n != 0 {
		t.Errorf("ClassifyFile allocates %v times", n)
	}
}

func TestClassifyPeer(t *testing.T) {
	cluster := []netip.Prefix{netip.MustParsePrefix("10.244.0.0/16"), netip.MustParsePrefix("fd00:10:96::/112")}
	for a, want := range map[string]string{
		"127.0.0.1":        PeerLoopback,
		"::1":              PeerLoopback,
		"0.0.0.0":          PeerLoopback,
		"::ffff:127.0.0.1": PeerLoopback,
		"10.244.3.7":       PeerCluster,
		"fd00:10:96::a":    PeerCluster,
		"10.0.0.1":         PeerPrivate,
		"172.16.5.4":       PeerPrivate,
		"192.168.1.1":      PeerPrivate,
		"100.64.0.1":       PeerPrivate,
		"169.254.169.254":  PeerPrivate, // the cloud metadata service: link-local
		"fe80::1":          PeerPrivate,
		"fd12::1":          PeerPrivate,
		"93.184.216.34":    PeerPublic,
		"2606:4700::1111":  PeerPublic,
	} {
		if got := ClassifyPeer(netip.MustParseAddr(a), cluster); got != want {
			t.Errorf("ClassifyPeer(%s) = %q, want %q", a, got, want)
		}
	}
	if got := ClassifyPeer(netip.Addr{}, nil); got != "" {
		t.Errorf("invalid address: %q", got)
	}
	if got := ClassifyPeer(netip.MustParseAddr("10.244.3.7"), nil); got != PeerPrivate {
		t.Errorf("without cluster CIDRs: %q", got)
	}
}

func mustAddr(s string) netip.Addr { return netip.MustParseAddr(s) }

// The indexed classification agrees with a linear scan of fileRules on
// every file path of the corpus and of the table above.
func TestClassifyFileIndexMatchesTable(t *testing.T) {
	linear := func(p string) string {
		for i := range fileRules {
			if fileRules[i].match(p) {
				return fileRules[i].class
			}
		}
		return FileOther
	}
	paths := []string{"/proc/1/root/.ssh/id_rsa", "/home/u/.profile", "/etc/.pwd.lock", "/run/secrets/x", "/var/lib/kubelet/pki/k.key", "/", "/etc/", "/x/.aws/config"}
	for _, name := range []string{"captured/main-export.jsonl.gz", "syscalls/export.jsonl.gz"} {
		for _, r := range corpusrec.Load(t, name) {
			if p := r.Str("file.path"); strings.HasPrefix(p, "/") {
				paths = append(paths, p)
			}
		}
	}
	for _, p := range paths {
		if got, want := ClassifyFile(p), linear(p); got != want {
			t.Errorf("ClassifyFile(%q) = %q, linear scan %q", p, got, want)
		}
	}
}
