// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package main

// DetectionRule is the runbook material of one catalogue rule. The rule
// logic lives in the detection processor's catalogue; this table holds what
// an on-call engineer needs when its alert fires.
type DetectionRule struct {
	Name     string
	Title    string
	Category string
	Mitre    []string
	// Meaning says what happened and why it matters.
	Meaning string
	// LookAt lists the record attributes and context to check first.
	LookAt []string
	// Benign lists the usual legitimate causes.
	Benign []string
	// Exception is an example exception, for append_exceptions, that
	// silences a known-good case.
	Exception Exception

	// Filled from the built-in catalogue when it defines the rule.
	DefaultSeverity string
	Description     string
}

// Exception is one example exception of a rules-file override.
type Exception struct {
	Name   string
	Fields []string
	Comps  []string
	Values [][]string
}

// mitreNames names the ATT&CK techniques the catalogue refers to.
var mitreNames = map[string]string{
	"T1059.004": "Command and Scripting Interpreter: Unix Shell",
	"T1609":     "Container Administration Command",
	"T1190":     "Exploit Public-Facing Application",
	"T1505.003": "Server Software Component: Web Shell",
	"T1003.008": "OS Credential Dumping: /etc/passwd and /etc/shadow",
	"T1528":     "Steal Application Access Token",
	"T1552.001": "Unsecured Credentials: Credentials In Files",
	"T1098.004": "Account Manipulation: SSH Authorized Keys",
	"T1543":     "Create or Modify System Process",
	"T1105":     "Ingress Tool Transfer",
	"T1072":     "Software Deployment Tools",
	"T1204.002": "User Execution: Malicious File",
	"T1620":     "Reflective Code Loading",
	"T1071":     "Application Layer Protocol",
	"T1496":     "Resource Hijacking",
	"T1613":     "Container and Resource Discovery",
	"T1046":     "Network Service Discovery",
	"T1548.001": "Abuse Elevation Control Mechanism: Setuid and Setgid",
	"T1068":     "Exploitation for Privilege Escalation",
	"T1547.006": "Boot or Logon Autostart Execution: Kernel Modules and Extensions",
	"T1055.008": "Process Injection: Ptrace System Calls",
	"T1611":     "Escape to Host",
	"T1014":     "Rootkit",
	"T1070.002": "Indicator Removal: Clear Linux or Mac System Logs",
	"T1083":     "File and Directory Discovery",
	"T1036":     "Masquerading",
	"T1059":     "Command and Scripting Interpreter",
	"T1552":     "Unsecured Credentials",
	"T1003":     "OS Credential Dumping",
	"T1548":     "Abuse Elevation Control Mechanism",
	"T1055":     "Process Injection",
	"T1070":     "Indicator Removal",
	"T1562.001": "Impair Defenses: Disable or Modify Tools",
	"T1040":     "Network Sniffing",
	"T1018":     "Remote System Discovery",
	"T1082":     "System Information Discovery",
	"T1204":     "User Execution",
	"T1555":     "Credentials from Password Stores",
	"T1070.003": "Indicator Removal: Clear Command History",
	"T1554":     "Compromise Host Software Binary",
	"T1036.005": "Masquerading: Match Legitimate Name or Location",
	"T1546.004": "Event Triggered Execution: Unix Shell Configuration Modification",
	"T1552.004": "Unsecured Credentials: Private Keys",
	"T1552.007": "Unsecured Credentials: Container API",
	"T1622":     "Debugger Evasion",
	"T1485":     "Data Destruction",
	"T1140":     "Deobfuscate/Decode Files or Information",
	"T1136.001": "Create Account: Local Account",
	"T1053.003": "Scheduled Task/Job: Cron",
	"T1574.006": "Hijack Execution Flow: Dynamic Linker Hijacking",
	"T1003.007": "OS Credential Dumping: Proc Filesystem",
	"T1070.006": "Indicator Removal: Timestomp",
	"T1564.001": "Hide Artifacts: Hidden Files and Directories",
	"T1486":     "Data Encrypted for Impact",
	"T1560.001": "Archive Collected Data: Archive via Utility",
	"T1005":     "Data from Local System",
	"T1106":     "Native API",
	// Chain rules (builtin/60_chains.yaml).
	"T1041": "Exfiltration Over C2 Channel",
	"T1021": "Remote Services",
}

var workloadException = func(name string, values ...[]string) Exception {
	return Exception{Name: name, Fields: []string{"resource.k8s.namespace.name", "resource.k8s.workload.name"}, Values: values}
}

// Catalogue lists every rule of the detection processor's built-in catalogue.
// Category and Mitre here are fallbacks: Render takes them from the built-in
// catalogue's YAML when it defines the rule.
var Catalogue = []DetectionRule{
	{
		Name: "terminal_shell_in_container", Title: "Terminal shell in a container", Category: "execution",
		Mitre:   []string{"T1059.004", "T1609"},
		Meaning: "An interactive shell started inside a container, typically through `kubectl exec -it` or `docker exec -it`. Production containers rarely need a human shell. An attacker with API access or a stolen kubeconfig uses exactly this path.",
		LookAt: []string{
			"`process.parent.executable.name`: `runc`/`containerd-shim` means an exec through the runtime; a web server or app binary as parent points to `shell_spawned_by_server` instead.",
			"`tetragon.exec_probe`: probes are excluded by the rule; a shell launched by a probe script is expected.",
			"The Kubernetes audit log around the record's time: who ran `pods/exec` on this pod.",
			"The commands that followed: filter Loki on the shell's `tetragon.exec_id` as `tetragon_parent_exec_id`.",
		},
		Benign: []string{"Engineers debugging in dev or staging namespaces.", "Debug sidecars and `kubectl debug` ephemeral containers."},
		Exception: Exception{Name: "debug_namespaces", Fields: []string{"resource.k8s.namespace.name"}, Comps: []string{"glob"},
			Values: [][]string{{"dev-*"}}},
	},
	{
		Name: "shell_spawned_by_server", Title: "Shell spawned by a server process", Category: "execution",
		Mitre:   []string{"T1059.004", "T1190", "T1505.003"},
		Meaning: "A shell was started by a network-facing server process (web server, language runtime, database). This is the classic sign of remote code execution: an injected command or a web shell.",
		LookAt: []string{
			"`process.parent.executable.path` and `process.parent.command_line`: which server spawned the shell.",
			"`process.command_line` of the shell: `sh -c` with download (`curl`, `wget`), encoded payloads or `/dev/tcp` are hostile.",
			"The application's access logs just before the record: the request that triggered it.",
		},
		Benign: []string{"Applications that legitimately shell out (`system()`, `subprocess` with `shell=True`), such as image converters or backup hooks."},
		Exception: Exception{Name: "known_shell_commands", Fields: []string{"resource.k8s.workload.name", "process.command_line"}, Comps: []string{"=", "startswith"},
			Values: [][]string{{"thumbnailer", "sh -c convert "}}},
	},
	{
		Name: "sensitive_file_read", Title: "Sensitive file read", Category: "credential_access",
		Mitre:   []string{"T1003.008", "T1552.001"},
		Meaning: "A process opened a sensitive file such as `/etc/shadow`, `/etc/sudoers`, SSH private keys or the kubelet's credentials. These files hold credentials, and ordinary workloads do not read them.",
		LookAt: []string{
			"`file.path`: which file was read.",
			"`process.executable.path` and the parent: is this an authentication component (PAM, sshd, sudo) or something unexpected?",
			"`tetragon.privileged` and `process.user.id`: a root or privileged reader widens the impact.",
		},
		Benign: []string{"PAM, `sshd`, `sudo` and `passwd` on hosts.", "Configuration-management and vulnerability-scanning agents."},
		Exception: Exception{Name: "auth_binaries", Fields: []string{"process.executable.path"}, Comps: []string{"in"},
			Values: [][]string{{"[/usr/sbin/sshd, /usr/bin/sudo]"}}},
	},
	{
		Name: "service_account_token_read", Title: "Service account token read", Category: "credential_access",
		Mitre:   []string{"T1528", "T1552.001"},
		Meaning: "A process read the pod's Kubernetes service account token (`/var/run/secrets/kubernetes.io/serviceaccount/token`). With the token, the reader can call the Kubernetes API with the pod's permissions.",
		LookAt: []string{
			"`process.executable.path`: is it the application's own Kubernetes client, or a shell, `cat` or `curl`?",
			"What the service account may do: `kubectl auth can-i --list --as=system:serviceaccount:<namespace>:<sa>`.",
			"Follow-up `k8s_api_from_container` detections in the same workload.",
		},
		Benign:    []string{"Operators, controllers and sidecars that use in-cluster config (client-go reads the token at start and on rotation)."},
		Exception: workloadException("in_cluster_clients", []string{"monitoring", "prometheus-operator"}),
	},
	{
		Name: "sensitive_file_write", Title: "Sensitive file write", Category: "persistence",
		Mitre:   []string{"T1098.004", "T1543"},
		Meaning: "A process opened a system file for writing: `/etc/passwd`, `/etc/shadow`, `/etc/sudoers`, cron and systemd directories, or `authorized_keys`. Attackers do this to add users, keys or services that survive restarts.",
		LookAt: []string{
			"`file.path` and `tetragon.file.permission`.",
			"`process.executable.path` and the parent chain: a package manager or configuration tool, or an interactive shell?",
			"Whether the container's root filesystem is writable at all (`readOnlyRootFilesystem`).",
		},
		Benign: []string{"Package installation during image builds running in the cluster.", "Configuration-management agents on hosts."},
		Exception: Exception{Name: "config_management", Fields: []string{"process.executable.path"}, Comps: []string{"glob"},
			Values: [][]string{{"/opt/puppetlabs/**"}}},
	},
	{
		Name: "package_manager_in_container", Title: "Package manager run in a container", Category: "execution",
		Mitre:   []string{"T1105", "T1072"},
		Meaning: "`apt`, `apk`, `yum`, `dnf`, `pip` or `npm` ran inside a running container. Immutable containers should not change at run time. Attackers install tools this way.",
		LookAt: []string{
			"`process.command_line`: what was installed.",
			"Who started it: an interactive shell (see `terminal_shell_in_container`) or the application's entrypoint?",
		},
		Benign:    []string{"Entrypoint scripts that install packages at start (a bad practice; move it into the image).", "CI runners and build pods."},
		Exception: workloadException("build_pods", []string{"ci", "gitlab-runner"}),
	},
	{
		Name: "execution_from_writable_dir", Title: "Execution from a writable directory", Category: "execution",
		Mitre:   []string{"T1105", "T1204.002"},
		Meaning: "A binary ran from a world-writable or temporary location (`/tmp`, `/dev/shm`, `/var/tmp`, `/run`). Malware is usually downloaded there and then run.",
		LookAt: []string{
			"`process.executable.path` and `tetragon.binary.file.inode_links`.",
			"The parent: `curl`/`wget` earlier in the same process tree is a strong signal.",
			"Network connections of the process afterwards (filter Loki on its `tetragon.exec_id`).",
		},
		Benign: []string{"Installers and self-extracting tools that unpack to `/tmp`.", "Test frameworks that compile and run helpers in temporary directories."},
		Exception: Exception{Name: "known_unpackers", Fields: []string{"process.executable.path"}, Comps: []string{"glob"},
			Values: [][]string{{"/tmp/pip-*/**"}}},
	},
	{
		Name: "fileless_execution", Title: "Fileless execution", Category: "defense_evasion",
		Mitre:   []string{"T1620"},
		Meaning: "A program ran from memory, from a `memfd_create` file descriptor or from a deleted binary, so there is no file on disk to inspect. This technique is almost always malicious.",
		LookAt: []string{
			"`process.executable.path` (`memfd:`, `/proc/self/fd/…`, `(deleted)`).",
			"The parent process and its command line: what loaded the payload.",
			"Capture the process memory for forensics before you kill the pod, if your policy allows it.",
		},
		Benign: []string{"A few runtimes and packers (some JIT engines, `upx`-packed tools) execute from memfd."},
		Exception: Exception{Name: "known_memfd_runtimes", Fields: []string{"process.parent.executable.path"},
			Values: [][]string{{"/usr/local/bin/known-runtime"}}},
	},
	{
		Name: "reverse_shell", Title: "Reverse shell", Category: "execution",
		Mitre:   []string{"T1059.004", "T1071"},
		Meaning: "A shell's standard input and output are connected to a network socket, or a shell connected out to a remote host. This is an attacker's interactive foothold.",
		LookAt: []string{
			"`network.peer.address` and `network.peer.port`: the attacker's endpoint. Block it at the egress firewall.",
			"`process.command_line` (for example `bash -i >& /dev/tcp/…`, or `nc -e`).",
			"Treat the pod as compromised: isolate it with a NetworkPolicy, keep it for forensics, and rotate the credentials it could reach.",
		},
		Benign:    []string{"Remote-debugging tools set up on purpose. These are rare in production."},
		Exception: workloadException("sanctioned_remote_debug", []string{"debug", "remote-shell"}),
	},
	{
		Name: "crypto_miner", Title: "Cryptocurrency miner", Category: "impact",
		Mitre:   []string{"T1496"},
		Meaning: "A known miner binary ran (`xmrig`, `minerd` and similar), a command line named a mining pool (`stratum+tcp://…`) or miner options, or a process in a container connected to a port that only mining pools use (3333, 3334, 3357, 5730, 7777, 14433, 14444, 45560, 45700). Mining steals CPU and often follows an initial compromise.",
		LookAt: []string{
			"`process.executable.path` and `process.command_line` (pool URL and wallet).",
			"For a connect record: `network.peer.address` and `network.peer.port`, and the process that connected. Look the address up: pools resolve to a few well-known hosting ranges.",
			"How the binary arrived: look for `remote_file_copy_in_container`, `execution_from_writable_dir` or `package_manager_in_container` shortly before.",
		},
		Benign:    []string{"Almost never, in a business cluster.", "An application that happens to talk to one of the pool ports (7777 and 3333 are also used by some game servers and development tools)."},
		Exception: workloadException("sanctioned_mining_research", []string{"research", "miner-benchmark"}),
	},
	{
		Name: "k8s_api_from_container", Title: "Kubernetes API contacted from a container", Category: "discovery",
		Mitre:   []string{"T1613"},
		Meaning: "A process in a container that is not a known Kubernetes client connected to the API server (`kubernetes.default.svc`, port 443 or 6443), or ran `kubectl`. Attackers use a stolen service account token to enumerate and extend their access.",
		LookAt: []string{
			"`process.executable.path`: `kubectl`, `curl` or a shell, versus the application binary.",
			"The service account's RBAC and the API server audit log for requests from this pod's IP.",
		},
		Benign:    []string{"Operators, controllers, CI deployers and service-mesh sidecars."},
		Exception: workloadException("controllers", []string{"cert-manager", "cert-manager"}),
	},
	{
		Name: "network_recon_tool", Title: "Network reconnaissance tool", Category: "discovery",
		Mitre:   []string{"T1046"},
		Meaning: "A scanning or reconnaissance tool ran in a container: `nmap`, `masscan`, `zmap`, `nc -z` and similar. Attackers map the cluster network before they move laterally.",
		LookAt: []string{
			"`process.command_line`: the targets and ports.",
			"Who started it (shell? entrypoint?) and whether `terminal_shell_in_container` fired for the same workload.",
		},
		Benign:    []string{"Network-diagnostics pods and security scanners that you run yourself."},
		Exception: workloadException("sanctioned_scanners", []string{"security", "scanner"}),
	},
	{
		Name: "setuid_privilege_escalation", Title: "Privilege escalation through a setuid binary", Category: "privilege_escalation",
		Mitre:   []string{"T1548.001"},
		Meaning: "A setuid or setgid binary ran and changed the process's credentials (`tetragon.binary.privileges_changed`), for example an unprivileged user gaining root through `sudo`, `su` or a planted setuid copy.",
		LookAt: []string{
			"`tetragon.binary.setuid`/`tetragon.binary.setgid` and `process.executable.path`: a standard binary, or one in an unusual location?",
			"`process.real_user.id` compared with `process.user.id`.",
			"Whether the container should allow escalation at all (`allowPrivilegeEscalation: false` blocks it).",
		},
		Benign: []string{"`sudo`/`su` in admin or toolbox containers, and `ping` on old images."},
		Exception: Exception{Name: "standard_setuid_binaries", Fields: []string{"process.executable.path"}, Comps: []string{"in"},
			Values: [][]string{{"[/usr/bin/sudo, /bin/ping]"}}},
	},
	{
		Name: "setuid_to_root_syscall", Title: "Syscall asking for root (setuid/setgid family)", Category: "privilege_escalation",
		Mitre:   []string{"T1548"},
		Meaning: "A process asked the kernel for root: `setuid(0)`, `setreuid`/`setresuid`/`setfsuid` with a 0, or the same calls of the setgid family with gid 0. It fires for a process whose real user is not root (an exploit or a misused capability), for any process inside a container other than the container runtime (applications do not switch to root at run time; exploits and test tools do), and for root credentials committed (`commit_creds`) by a non-root process. Programs that do this by design (`su`, `sudo`, `login`, `sshd`, `cron`, …) are not reported.",
		LookAt: []string{
			"`tetragon.syscall.name`: which call; `tetragon.args`: the requested ids (-1, or 4294967295, means unchanged).",
			"`process.real_user.id` and `process.user.id`: a non-root process asking for root is an escalation attempt; a root process in a container asking for root again is unusual code.",
			"`tetragon.capabilities.effective`: `CAP_SETUID`/`CAP_SETGID` explain how it could succeed.",
			"What the process did next as root.",
		},
		Benign: []string{"Daemons that start as a user and switch back to root (rare).", "Init systems and supervisors inside containers (s6, supervisord, systemd in system containers) that set uid or gid 0 while already root."},
		Exception: Exception{Name: "known_daemons", Fields: []string{"process.executable.path"},
			Values: [][]string{{"/usr/bin/supervisord"}}},
	},
	{
		Name: "kernel_module_load", Title: "Kernel module loaded", Category: "persistence",
		Mitre:   []string{"T1547.006", "T1014"},
		Meaning: "A process loaded a kernel module (`init_module`/`finit_module`, or `insmod`/`modprobe`). A module runs with full kernel privileges and can hide anything. A container that does this has escaped or is privileged.",
		LookAt: []string{
			"Namespace `_host` or a privileged container (`tetragon.privileged`)?",
			"`process.command_line` and the module file (`file.path`).",
			"Compare with `lsmod` on the node and with your node image's expected modules.",
		},
		Benign:    []string{"Node bootstrap, CNI and storage drivers loading modules at node start (namespace `_host`, or known DaemonSets)."},
		Exception: workloadException("node_drivers", []string{"kube-system", "csi-node-driver"}),
	},
	{
		Name: "ptrace_attach", Title: "ptrace attach to another process", Category: "defense_evasion",
		Mitre:   []string{"T1055.008"},
		Meaning: "A process attached to another one with `ptrace` (`PTRACE_ATTACH`/`PTRACE_SEIZE`). This lets it read memory (secrets) and inject code.",
		LookAt: []string{
			"The tracer (`process.executable.path`), the request and the target pid in `tetragon.args` (`tetragon.syscall.name` is `ptrace` whichever hook reported it).",
			"Whether the target holds secrets (a database, an SSH agent, a credential helper).",
		},
		Benign: []string{"Debuggers (`gdb`, `strace`, `dlv`) in debug sessions, and profilers."},
		Exception: Exception{Name: "debuggers_in_dev", Fields: []string{"process.executable.name", "resource.k8s.namespace.name"}, Comps: []string{"in", "glob"},
			Values: [][]string{{"[gdb, strace, dlv]", "dev-*"}}},
	},
	{
		Name: "namespace_escape", Title: "Namespace escape attempt", Category: "privilege_escalation",
		Mitre:   []string{"T1611"},
		Meaning: "A containerised process called `setns`/`unshare`, or ran `nsenter`, to enter the host's namespaces, typically those of PID 1. This is a container escape technique that works from privileged pods.",
		LookAt: []string{
			"`tetragon.syscall.name` (`setns` or `unshare`) with `tetragon.args` (the namespace type or the clone flags), or `process.command_line` for the `nsenter` form (for example `nsenter -t 1 -m -u -i -n`).",
			"`tetragon.privileged` and the pod's `hostPID`/`hostNetwork` settings.",
			"Everything the process ran afterwards on the host (namespace `_host`, same node).",
		},
		Benign:    []string{"Node-debugging DaemonSets and `kubectl debug node/…` sessions."},
		Exception: workloadException("node_debuggers", []string{"kube-system", "node-debugger"}),
	},
	{
		Name: "container_escape_mount", Title: "Host filesystem mount from a container", Category: "privilege_escalation",
		Mitre:   []string{"T1611"},
		Meaning: "A process in a container mounted a host device or filesystem (`mount` of `/dev/sd*`, `/dev/nvme*`, or a cgroup release_agent trick). With the host disk mounted, the container owns the node.",
		LookAt: []string{
			"`tetragon.args`: the source device and target path.",
			"`tetragon.privileged` and `tetragon.capabilities.effective` (`CAP_SYS_ADMIN`).",
			"Cordon and drain the node if the mount succeeded (`tetragon.return` 0).",
		},
		Benign:    []string{"CSI node plugins and storage DaemonSets."},
		Exception: workloadException("csi_plugins", []string{"kube-system", "ebs-csi-node"}),
	},
	{
		Name: "bpf_program_load", Title: "BPF program loaded", Category: "defense_evasion",
		Mitre:   []string{"T1014"},
		Meaning: "A process other than the known eBPF agents loaded a BPF program (`bpf(BPF_PROG_LOAD)`). eBPF rootkits hide processes, files and connections, and can tamper with security tooling.",
		LookAt: []string{
			"`process.executable.path`: Tetragon, Cilium and other known agents are excluded by the rule.",
			"`bpftool prog list` on the node: the program's name and attach point.",
		},
		Benign: []string{"Observability and networking agents (Pixie, Falco, Datadog, other CNIs) and `bpftrace` sessions."},
		Exception: Exception{Name: "ebpf_agents", Fields: []string{"process.executable.name"}, Comps: []string{"in"},
			Values: [][]string{{"[falco, pixie-agent, bpftrace]"}}},
	},
	{
		Name: "log_tampering", Title: "Log tampering", Category: "defense_evasion",
		Mitre:   []string{"T1070.002"},
		Meaning: "A process deleted, truncated, renamed out of the way (to a hidden name or out of `/var/log`) or emptied system logs below `/var/log` (`rm`, `shred`, `truncate`, `: > /var/log/auth.log`), or vacuumed the journal (`journalctl --vacuum-*`). Attackers erase their traces this way. Log rotation is not reported; shell history has its own rule, `shell_history_tampering`.",
		LookAt: []string{
			"`file.path` and the operation (`tetragon.syscall.name`: unlink, rename, truncate, or an open with `O_TRUNC`), or the command in `tetragon.process.arguments`.",
			"The process and its parent: `logrotate` and the log shipper are expected, an interactive shell is not.",
			"Recover the logs from your central store (Loki holds these records even if the local file is gone).",
		},
		Benign: []string{"`logrotate`, `journald` vacuuming, and log shippers that truncate after upload."},
		Exception: Exception{Name: "log_rotation", Fields: []string{"process.executable.name"}, Comps: []string{"in"},
			Values: [][]string{{"[logrotate, journalctl]"}}},
	},
	{
		Name: "credential_file_search", Title: "Credential file search", Category: "credential_access",
		Mitre:   []string{"T1552.001", "T1083"},
		Meaning: "A process searched the filesystem for credentials: `find`/`grep` for `id_rsa`, `.aws/credentials`, `*.pem`, `password` and similar. This is post-exploitation discovery.",
		LookAt: []string{
			"`process.command_line`: the search pattern and paths.",
			"The process tree: an interactive shell in the same workload (see `terminal_shell_in_container`).",
			"Which matching files exist in the container and what they unlock. Rotate them.",
		},
		Benign:    []string{"Secret scanners and compliance tools that you run yourself."},
		Exception: workloadException("secret_scanners", []string{"security", "secret-scanner"}),
	},
	{
		Name: "remote_file_copy_in_container", Title: "Remote file copy into a container", Category: "command_and_control",
		Mitre:   []string{"T1105"},
		Meaning: "A running container fetched a file with a remote-copy tool: `scp`/`sftp`/`rsync`/`rclone` from a remote host, `tftp`/`ftp`/`lftp`, `wget` (unless it writes to stdout or `/dev/null`, or only checks with `--spider`), or `curl -o`/`-O`/`--output`. Attackers bring their tools in this way after initial access.",
		LookAt: []string{
			"`process.command_line`: the URL or remote host, and where the file was written.",
			"What happened to the file next: `execution_from_writable_dir`, `setuid_bit_set` or `write_below_binary_dir` for the same workload.",
			"The remote host: your artefact repository, or an unknown address?",
		},
		Benign: []string{"Entrypoints and init containers that download configuration or artefacts at start (`wget -O /app/config.json …`).", "Backup, sync and mirror jobs (`rsync`, `rclone`)."},
		Exception: Exception{Name: "artefact_downloads", Fields: []string{"resource.k8s.workload.name", "process.command_line"}, Comps: []string{"=", "contains"},
			Values: [][]string{{"web", "https://artifacts.example.com/"}}},
	},
	{
		Name: "payload_decoded_to_shell", Title: "Decoded payload run by a shell", Category: "defense_evasion",
		Mitre:   []string{"T1140"},
		Meaning: "A shell command line decodes a payload and runs it: `echo … | base64 -d | sh`, `xxd -r -p | bash`, `openssl base64 -d | sh`, `eval \"$(… | base64 -d)\"`, `bash <(… base64 -d)`. The encoding hides the real commands from command-line inspection; legitimate software rarely needs it.",
		LookAt: []string{
			"`tetragon.process.arguments`: decode the payload yourself (copy the encoded string into `base64 -d`) to see what ran.",
			"The parent: a web server (see `shell_spawned_by_server`), a cron job or an interactive session?",
			"The processes and connections that followed: filter Loki on the shell's `tetragon.exec_id` as `tetragon_parent_exec_id`.",
		},
		Benign:    []string{"Provisioning scripts and Helm hooks that ship an embedded base64 script and pipe it into a shell."},
		Exception: workloadException("bootstrap_hooks", []string{"platform", "bootstrap-job"}),
	},
	{
		Name: "system_user_interactive_shell", Title: "Interactive shell of a system user", Category: "execution",
		Mitre:   []string{"T1059.004"},
		Meaning: "A system account (uid 1-999, or `nobody` 65534) started an interactive shell (no command, or only `-i`/`-l`/`--login`). Service users such as `www-data`, `postgres` or `nobody` have no reason to run a terminal: this is usually a compromised service whose web shell was upgraded to a TTY, or an escalation through `su -s /bin/sh <user>`.",
		LookAt: []string{
			"`process.user.id` and the parent (`process.parent.executable.path`, `process.parent.command_line`): a web server, `python -c 'import pty; …'`, `script`, `su`?",
			"The commands that followed: filter Loki on the shell's `tetragon.exec_id` as `tetragon_parent_exec_id`.",
			"Whether `reverse_shell` or `shell_spawned_by_server` fired for the same workload.",
		},
		Benign: []string{"Images that run as a non-root system uid, where an engineer's `kubectl exec -it … -- sh` runs as that uid.", "Maintenance scripts that start a login shell as a service user (`su -l postgres`)."},
		Exception: Exception{Name: "dev_app_users", Fields: []string{"resource.k8s.namespace.name", "process.user.id"}, Comps: []string{"glob", "="},
			Values: [][]string{{"dev-*", "999"}}},
	},
	{
		Name: "shell_config_read", Title: "Shell start-up file read", Category: "discovery",
		Mitre:   []string{"T1546.004"},
		Meaning: "Inside a container, a program that is not a shell (nor `login`, `su`, `sudo`, `sshd`, `tmux`, `screen`, `direnv`, …) read a shell start-up file: `~/.bashrc`, `~/.profile`, `/etc/profile`, `/etc/profile.d/*` and similar. Attackers read them for aliases, exported secrets and the hooks a later backdoor will use. The rule is `info`: context for other detections rather than an incident by itself.",
		LookAt: []string{
			"`process.executable.path` and `file.path`.",
			"Other detections for the same workload and process tree around the same time.",
			"Whether the files hold secrets (`export AWS_SECRET_ACCESS_KEY=…`): move them to a secret store.",
		},
		Benign: []string{"Editors and pagers (`vim`, `less`, `cat`) in a debug session.", "Backup agents and configuration management reading home directories."},
		Exception: Exception{Name: "editors_and_backups", Fields: []string{"process.executable.name"}, Comps: []string{"in"},
			Values: [][]string{{"[vim, less, restic]"}}},
	},
	{
		Name: "ssh_info_read", Title: "SSH configuration or known hosts read", Category: "discovery",
		Mitre:   []string{"T1552.004"},
		Meaning: "Inside a container, a program that is not an SSH tool (`ssh`, `scp`, `sftp`, `sshd`, `ssh-keygen`, `git`, `rsync`, `ansible`, …) read SSH client or server files: `~/.ssh/known_hosts`, `~/.ssh/config`, `authorized_keys`, `/etc/ssh/*`. Attackers read them to find the hosts to move to next and the keys that reach them. Reads of private keys raise `sensitive_file_read` instead.",
		LookAt: []string{
			"`file.path` and `process.executable.path`: `cat`, `grep`, a script interpreter?",
			"Outbound connections of the same process tree afterwards, and `sensitive_file_read` of private keys.",
			"Which hosts the files name, and whether keys in the container reach them.",
		},
		Benign: []string{"Deployment tools that speak SSH through a library (Paramiko, JSch, Go's `x/crypto/ssh`) and read `known_hosts` themselves.", "Backup agents reading home directories."},
		Exception: Exception{Name: "deployers", Fields: []string{"resource.k8s.workload.name", "process.executable.name"}, Comps: []string{"=", "in"},
			Values: [][]string{{"deployer", "[python3, java]"}}},
	},
	{
		Name: "proc_environ_read", Title: "Process environment read through /proc", Category: "credential_access",
		Mitre:   []string{"T1552.007"},
		Meaning: "Inside a container, a process read `/proc/<pid>/environ` (or a thread's): the environment of itself or of another process. Environment variables hold API keys, database passwords and cloud credentials injected from Kubernetes Secrets; reading another process's environment is a standard credential-harvesting step.",
		LookAt: []string{
			"`file.path`: whose environment (`self`, or which pid).",
			"`process.executable.path` and the parent chain: an interactive shell, `cat`, `strings`, a script?",
			"Which secrets that environment holds (the pod spec's `env`/`envFrom`): rotate them if the reader is not explained.",
		},
		Benign: []string{"Process supervisors, monitoring agents and debuggers that inspect other processes.", "Init wrappers and runtimes that read their own `/proc/self/environ`."},
		Exception: Exception{Name: "init_wrappers", Fields: []string{"process.executable.name", "file.path"}, Comps: []string{"in", "="},
			Values: [][]string{{"[tini, dumb-init]", "/proc/self/environ"}}},
	},
	{
		Name: "sensitive_file_link", Title: "Link to a sensitive file", Category: "credential_access",
		Mitre:   []string{"T1555"},
		Meaning: "A hard or symbolic link was made to a credential store or key: `/etc/shadow`, `/etc/passwd`, `/etc/sudoers`, SSH private keys or `authorized_keys`, Kubernetes PKI, a service-account token. Through the link a process can read or exfiltrate the file under an innocent name, or trick a privileged program that writes to the link's name into overwriting the target.",
		LookAt: []string{
			"`tetragon.args`: the existing file and the new name (`linkat`/`symlinkat`/`link`/`symlink`); for the `ln` command, `tetragon.process.arguments`.",
			"Where the new name lives: a web root, `/tmp` or a shared volume exposes the file.",
			"Remove the link, and look for reads of it afterwards (`sensitive_file_read`, file records of the same process tree).",
		},
		Benign:    []string{"Init containers or entrypoints that link a mounted key or token into a home directory."},
		Exception: workloadException("key_linking_init", []string{"ci", "git-sync"}),
	},
	{
		Name: "ptrace_anti_debug", Title: "ptrace anti-debugging (PTRACE_TRACEME)", Category: "defense_evasion",
		Mitre:   []string{"T1622"},
		Meaning: "A process called `ptrace(PTRACE_TRACEME)` while neither it nor its parent is a debugger. A process can be traced only once: malware makes itself its parent's tracee so that no debugger, `strace` or analysis tool can attach to it later. Legitimate programs do this only when a debugger starts them.",
		LookAt: []string{
			"`process.executable.path` and `process.parent.executable.path`: a debugger missing from the `debuggers` list, or an unknown binary?",
			"Where the binary came from: `execution_from_writable_dir`, `fileless_execution` or `remote_file_copy_in_container` for the same workload.",
			"Keep a copy of the binary for analysis: the live process resists `gdb` and `strace`.",
		},
		Benign: []string{"Debuggers, tracers and sandboxes not in the `debuggers` list (test harnesses, fuzzers, `proot`)."},
		Exception: Exception{Name: "tracing_sandboxes", Fields: []string{"process.parent.executable.name"}, Comps: []string{"in"},
			Values: [][]string{{"[proot, afl-fuzz]"}}},
	},
	{
		Name: "setuid_bit_set", Title: "Setuid or setgid bit set on a file", Category: "privilege_escalation",
		Mitre:   []string{"T1548.001"},
		Meaning: "The setuid or setgid bit was set on a file (`chmod u+s`, `chmod 4755`, any chmod syscall). Whoever runs the file later gets its owner's privileges: a root-owned setuid copy of a shell is a permanent root backdoor. Package managers installing setuid programs are not reported.",
		LookAt: []string{
			"`file.path` (syscall records; `fchmod` has only a file descriptor) or `tetragon.process.arguments` (the `chmod` command): which file got the bit.",
			"The mode in `tetragon.args`: 04000 is setuid, 02000 setgid.",
			"The file itself (`stat` it in the container or on the node): a root-owned setuid shell, interpreter or binary in `/tmp`, `/dev/shm` or a home directory is a backdoor. Remove the bit.",
			"Who ran it: an interactive shell (see `terminal_shell_in_container`) or an image-build step?",
		},
		Benign:    []string{"Image builds that run in the cluster (Kaniko, BuildKit) and installers that `chmod u+s` their own helpers."},
		Exception: workloadException("image_builds", []string{"ci", "kaniko"}),
	},
	{
		Name: "shell_history_tampering", Title: "Shell history tampering", Category: "defense_evasion",
		Mitre:   []string{"T1070.003"},
		Meaning: "Shell history was removed, renamed, truncated, replaced by a link or disabled: `rm ~/.bash_history`, `ln -sf /dev/null ~/.bash_history`, `HISTFILE=/dev/null`, `unset HISTFILE`, `history -c`. Someone is covering the tracks of an interactive session. A shell rewriting its own history file when it saves it is not reported.",
		LookAt: []string{
			"`file.path` (syscall records) or `tetragon.process.arguments` (command forms): which history, and how.",
			"The session itself: `terminal_shell_in_container` for the same workload, and the shell's commands (filter Loki on its `tetragon.exec_id` as `tetragon_parent_exec_id`). The records survive even though the history file does not.",
			"`process.user.id`: whose history.",
		},
		Benign:    []string{"Image hardening or clean-up scripts that delete histories.", "Engineers who disable history on purpose in shared debug containers."},
		Exception: workloadException("debug_toolbox", []string{"debug", "toolbox"}),
	},
	{
		Name: "write_below_binary_dir", Title: "Write below a binary directory", Category: "persistence",
		Mitre:   []string{"T1554"},
		Meaning: "Inside a running container, a file below `/bin`, `/sbin`, `/usr/bin`, `/usr/sbin`, `/usr/local/bin`, `/usr/local/sbin` or `/usr/libexec` was created, modified, truncated, made executable, or renamed or linked into place by something other than a package manager (or a process started by one). Attackers replace system tools with trojaned ones, or drop their own where `PATH` finds them.",
		LookAt: []string{
			"`file.path`, or the new name of a rename or link (`tetragon.args`).",
			"`process.executable.path` and its parent chain: an interactive shell, `curl`/`wget`, `cp`/`mv`?",
			"Compare the file with the image: `sha256sum` it in the container and at the same path in the image.",
			"Containers that never need this should run with `readOnlyRootFilesystem: true`, which blocks it altogether.",
		},
		Benign: []string{"Entrypoint scripts that install or symlink tools at start (move that into the image).", "Development containers installing tools at run time (`go install`, `make install`)."},
		Exception: Exception{Name: "dev_tool_installs", Fields: []string{"resource.k8s.workload.name", "file.path"}, Comps: []string{"=", "glob"},
			Values: [][]string{{"jupyter", "/usr/local/bin/*"}}},
	},
	{
		Name: "write_below_etc", Title: "Write below /etc", Category: "persistence",
		Mitre:   []string{"T1543"},
		Meaning: "Inside a running container, a file below `/etc` was created, modified, truncated, chmod- or chown-ed, removed, or renamed or linked into place by something other than a package manager: tampering with resolvers, PAM, library preload, package sources or service configuration. The login, sudo, cron and systemd files raise `sensitive_file_write` instead, shell start-up files `shell_config_modified`; `/etc/hosts`, `/etc/hostname`, `/etc/resolv.conf` and the linker cache are not reported.",
		LookAt: []string{
			"`file.path` and the operation (`tetragon.syscall.name`, `tetragon.args`).",
			"The process and its parent: a configuration step of the entrypoint, or a shell?",
			"The file's content compared with the image.",
		},
		Benign: []string{"Entrypoints that render configuration from environment variables into `/etc` (`envsubst` templates of nginx images).", "`update-ca-certificates` at start."},
		Exception: Exception{Name: "config_rendering", Fields: []string{"process.executable.name", "file.path"}, Comps: []string{"in", "glob"},
			Values: [][]string{{"[envsubst, update-ca-certificates]", "/etc/**"}}},
	},
	{
		Name: "write_below_root", Title: "Write below / or /root", Category: "persistence",
		Mitre:   []string{"T1036.005"},
		Meaning: "Inside a running container, a file directly in `/` or in `/root` was created, modified, made executable, or renamed or linked there: a tool dropped next to the entrypoint, a changed entrypoint script, files planted in root's home. Shell start-up files and histories have their own rules; files programs keep there (`.viminfo`, `.lesshst`, `.wget-hsts`, `.python_history`, `/.dockerenv`) are not reported.",
		LookAt: []string{
			"`file.path`, or the new name of a rename or link (`tetragon.args`).",
			"The process and its parent chain.",
			"The file itself (`ls -la / /root` in the container): is it executable, and is it in the image?",
		},
		Benign: []string{"Tools that keep a dotfile in the home directory when `HOME=/root` (`git config --global`, `npm`, cloud CLIs)."},
		Exception: Exception{Name: "ci_git_config", Fields: []string{"resource.k8s.workload.name", "file.path"}, Comps: []string{"=", "glob"},
			Values: [][]string{{"ci-runner", "/root/.gitconfig*"}}},
	},
	{
		Name: "write_below_dev", Title: "File created below /dev", Category: "defense_evasion",
		Mitre:   []string{"T1036.005"},
		Meaning: "Inside a running container, a regular file was created or written below `/dev`, where only device nodes belong, or an executable or hidden file was dropped in `/dev/shm`. `/dev` and `/dev/shm` are tmpfs outside the image: image scanners never see payloads hidden there, and they vanish with the container.",
		LookAt: []string{
			"`file.path` and the mode in `tetragon.args` (execute bits on a `/dev/shm` file).",
			"What ran from there next: `execution_from_writable_dir` or `fileless_execution` for the same workload.",
			"Copy the file out for analysis before the pod goes away (`kubectl cp`).",
		},
		Benign: []string{"Programs that keep hidden files in `/dev/shm`: Chrome and Chromium (headless browsers in test and rendering pods) create `/dev/shm/.org.chromium.Chromium.*`.", "Device files the rule does not know yet: add them to the list `dev_files_allowed`."},
		Exception: Exception{Name: "shm_users", Fields: []string{"process.executable.name", "file.path"}, Comps: []string{"in", "glob"},
			Values: [][]string{{"[chrome, chromium, headless_shell]", "/dev/shm/.org.chromium.*"}}},
	},
	{
		Name: "package_database_modified", Title: "Package database modified", Category: "defense_evasion",
		Mitre:   []string{"T1070"},
		Meaning: "Inside a running container, the package database (`/var/lib/dpkg`, `/var/lib/rpm`, `/usr/lib/sysimage/rpm`, `/var/lib/apk`, `/lib/apk/db`, `/var/lib/pacman`) was written, truncated, removed or renamed by something other than a package manager or its scripts. That hides tools installed outside the package manager from image and runtime scanners, or fakes package integrity.",
		LookAt: []string{
			"`file.path` and the operation.",
			"The process and its ancestors (`tetragon.ancestors.binaries`): package managers and their maintainer scripts are excluded, anything else is unusual.",
			"Compare the package list with the image's: `dpkg -l`, `rpm -qa` or `apk info` in the container and in the image.",
		},
		Benign: []string{"Image-slimming steps that delete the package database, running in the cluster.", "Package tools that are not package managers, run by hand or by an entrypoint: `update-alternatives` and `dpkg-divert` (they keep state below `/var/lib/dpkg`), `rpmkeys --import` and `rpmdb --rebuilddb`."},
		Exception: Exception{Name: "package_tools", Fields: []string{"process.executable.name"}, Comps: []string{"in"},
			Values: [][]string{{"[update-alternatives, dpkg-divert, rpmkeys, rpmdb]"}}},
	},
	{
		Name: "shell_config_modified", Title: "Shell start-up file modified", Category: "persistence",
		Mitre:   []string{"T1546.004"},
		Meaning: "A shell start-up file was modified: `~/.bashrc`, `~/.profile`, `~/.zshrc`, `/etc/profile`, `/etc/profile.d/*`, `/etc/bash.bashrc`, `/etc/environment` and similar, by a write, truncation, rename or link, or by a shell redirection (`echo … >> ~/.bashrc`). Commands planted there run in every later login or interactive shell: persistence, and a way to capture what administrators type.",
		LookAt: []string{
			"`file.path`, or the redirection in `tetragon.process.arguments`.",
			"The content (`tail` the file): `curl`, `nc`, `/dev/tcp`, base64 blobs, `alias sudo=`, `PROMPT_COMMAND`, `LD_PRELOAD`.",
			"The process and its parent: a tool installer or an interactive shell?",
		},
		Benign: []string{"Developer tool installers that append to `~/.bashrc` (conda init, rustup, nvm, sdkman).", "Image builds and entrypoints adding `export` lines."},
		Exception: Exception{Name: "tool_installers", Fields: []string{"process.executable.name", "file.path"}, Comps: []string{"in", "glob"},
			Values: [][]string{{"[conda, rustup-init]", "/**/.bashrc"}}},
	},
	{
		Name: "container_drift", Title: "Container drift: a file written in the container was executed", Category: "defense_evasion",
		Mitre:   []string{"T1036"},
		Meaning: "Inside a running container, a file that was created there (an open with `O_CREAT`, `creat`), made executable (`chmod +x`) or renamed into place shortly before was then executed in the same container. The binary or script is not part of the image that was scanned and admitted: typically a downloaded tool, implant or miner. `runtime_security.drift` on the exec record names the syscall that created the file.",
		LookAt: []string{
			"`process.executable.path` and `runtime_security.drift`; the hook records of the same container and path before the exec (`file.path`, `tetragon.syscall.name`): who wrote it, and when.",
			"The process that wrote it and its parent: `curl`/`wget` (`remote_file_copy_in_container`), a shell, an exploited server process?",
			"What the new process did next: network connections (`crypto_miner`, `k8s_api_from_container`), credential reads. Copy the file out (`kubectl cp`) before the pod goes away.",
		},
		Benign:    []string{"Containers that install or build software at run time and run it: `apt-get install` then the tool, CI runners, development containers, `pip install` console scripts.", "Entrypoints that copy or unpack a binary into place at start."},
		Exception: workloadException("build_containers", []string{"ci", "gitlab-runner"}, []string{"dev", "jupyter"}),
	},
	{
		Name: "chroot_escape", Title: "chroot into another process's root", Category: "privilege_escalation",
		Mitre:   []string{"T1611"},
		Meaning: "A process in a container changed its root directory to another process's root through `/proc` (`chroot /proc/1/root`, or through `cwd`). With the host PID namespace (`hostPID: true`) and enough privilege, `/proc/1/root` is the node's file system: every later command acts on the node. This is a complete container escape.",
		LookAt: []string{
			"`tetragon.args` (the chroot path) or `tetragon.process.arguments` (the `chroot` command).",
			"The pod's `hostPID`, `privileged` and capabilities (`CAP_SYS_CHROOT`, `CAP_SYS_ADMIN`).",
			"What the process ran afterwards (namespace `_host` or the same node). Cordon the node and treat it as compromised.",
		},
		Benign:    []string{"Node-shell tools that enter the host by `chroot /proc/1/root` from a privileged pod."},
		Exception: workloadException("node_shells", []string{"kube-system", "node-shell"}),
	},
	{
		Name: "packet_socket_in_container", Title: "Packet or raw socket opened in a container", Category: "credential_access",
		Mitre:   []string{"T1040"},
		Meaning: "A process in a container opened a packet socket (`AF_PACKET`) or a raw IP socket other than ICMP. With `CAP_NET_RAW` (granted by default by many runtimes) it can sniff traffic, and with the host network the node's other pods' traffic, or forge packets for ARP and DNS spoofing. ICMP sockets (`ping`) and DHCP clients are not reported.",
		LookAt: []string{
			"`tetragon.args`: family (17 = `AF_PACKET`, 2/10 = IPv4/IPv6), type and protocol.",
			"`process.executable.path`: `tcpdump`, a Python script (scapy), an unknown binary?",
			"The pod's `hostNetwork` and capabilities: drop `NET_RAW` where it is not needed.",
		},
		Benign:    []string{"Network diagnostics (netshoot, `tcpdump` in a debug session).", "CNI, VRRP and load-balancer agents missing from the `packet_socket_users` list."},
		Exception: workloadException("network_agents", []string{"kube-system", "kube-vip"}),
	},
	{
		Name: "bulk_data_removal", Title: "Bulk data removal", Category: "impact",
		Mitre:   []string{"T1485"},
		Meaning: "Data was destroyed in bulk: `shred`/`wipe`/`srm`/`wipefs`, `rm -rf` of a system, home or data directory (`/`, `/etc`, `/home`, `/data`, `/var/lib/mysql`, backups, …), a file system created inside a container (`mkfs*`), or `dd` from `/dev/zero` or `/dev/urandom` onto a disk. It is how ransomware and destructive intrusions end, or a serious operator mistake.",
		LookAt: []string{
			"`process.command_line`: what was removed or overwritten.",
			"Who ran it (an interactive shell, a cron job?) and whether it is still running: stop the pod if the removal is not intended.",
			"Backups and snapshots of the affected volumes.",
		},
		Benign: []string{"Clean-up jobs and init containers that empty data directories before a restore.", "Storage provisioners formatting volumes (`mkfs` in CSI node plugins)."},
		Exception: Exception{Name: "restore_jobs", Fields: []string{"resource.k8s.workload.name", "process.command_line"}, Comps: []string{"=", "contains"},
			Values: [][]string{{"restore-job", "rm -rf /data/"}}},
	},
	{
		Name: "user_management_in_container", Title: "Account or group changed in a container", Category: "persistence",
		Mitre:   []string{"T1136.001"},
		Meaning: "Inside a running container, an account or group management program ran (`useradd`, `adduser`, `usermod`, `userdel`, `groupadd`, `gpasswd`, `chpasswd`, `newusers`, `passwd`, `chage`, …, busybox applets included): an account was created, changed or given a password. Images create their users at build time; at run time this is usually a backdoor account (`useradd -o -u 0` adds a second root). Status and help calls (`passwd -S`) and programs run by a package manager (maintainer scripts creating system users) are not reported.",
		LookAt: []string{
			"`tetragon.process.arguments`: which account, and options such as `-o -u 0` (a duplicate root), `-G sudo`/`wheel`, or a password piped to `chpasswd`.",
			"`sensitive_file_write` for `/etc/passwd`, `/etc/shadow` or `/etc/group` in the same workload: the files that changed. Compare them with the image's.",
			"Who ran it: an interactive shell (see `terminal_shell_in_container`), a web server, or the entrypoint?",
		},
		Benign: []string{"Entrypoints that create a user at start to match a uid given at run time (`useradd -u $UID app`, common in development and CI images).", "Entrypoints that set a password from a Secret (`chpasswd`)."},
		Exception: Exception{Name: "runtime_user_setup", Fields: []string{"resource.k8s.workload.name", "process.executable.name"}, Comps: []string{"=", "in"},
			Values: [][]string{{"ci-runner", "[useradd, groupadd]"}}},
	},
	{
		Name: "scheduled_task_created", Title: "Scheduled task created", Category: "persistence",
		Mitre:   []string{"T1053.003"},
		Meaning: "A scheduled task was installed, edited or removed from a command line: `crontab FILE`, `crontab -e` or `-r` (anything but listing and help), an `at` or `batch` job, or a `systemd-run` timer (`--on-calendar`, `--on-active`, `--on-boot`, …). Host and containers. A scheduled task brings an attacker back after a reboot or a clean-up; in a container nothing should schedule work at run time. Writes to the cron files themselves raise `sensitive_file_write`.",
		LookAt: []string{
			"`tetragon.process.arguments`: the crontab file, the `at` time, or the `systemd-run` command.",
			"The task itself: `crontab -l -u <user>` or the file named, `atq` and `at -c <job>`, `systemctl list-timers`. Downloads (`curl`, `wget`), `/dev/tcp`, base64 blobs and binaries in `/tmp` are hostile.",
			"Who ran it: an interactive shell, an installer, configuration management?",
		},
		Benign: []string{"Configuration management and installers that set up cron jobs (Ansible's `cron` module runs `crontab`).", "Administrators scheduling one-off jobs with `at` or `systemd-run --on-active`."},
		Exception: Exception{Name: "known_crontabs", Fields: []string{"process.executable.name", "tetragon.process.arguments"}, Comps: []string{"=", "startswith"},
			Values: [][]string{{"crontab", "/etc/backup/crontab"}}},
	},
	{
		Name: "ld_preload_injection", Title: "LD_PRELOAD injection or program run through the loader", Category: "defense_evasion",
		Mitre:   []string{"T1574.006"},
		Meaning: "A command line set `LD_PRELOAD` or `LD_AUDIT` for a program (`LD_PRELOAD=/tmp/.x/hook.so /usr/sbin/sshd`, `export LD_PRELOAD=…`), or a binary was run through the dynamic loader (`/lib64/ld-linux-x86-64.so.2 /tmp/tool`, `ld-musl`). Host and containers. A preloaded library hooks every function of its target: credentials stolen from `sshd` or `sudo`, files and processes hidden by a userland rootkit. Running a binary through the loader works without its execute bit and on `noexec` mounts. The loader started by `ldd`, `lddtree` or `dpkg-shlibdeps` is not reported.",
		LookAt: []string{
			"`process.command_line`: the library (`LD_PRELOAD=…`) or the binary given to the loader, and the program it targets.",
			"The library or binary: where it lives (`/tmp`, `/dev/shm`, a hidden directory), whether the image has it. Copy it out for analysis.",
			"Whether `/etc/ld.so.preload` changed too (`sensitive_file_write`): a preload for every process of the container or node.",
		},
		Benign: []string{"Allocators, profilers and test tools preloaded on purpose in a start script (`LD_PRELOAD=libjemalloc.so.2`, `libtcmalloc`, `libfaketime`, sanitizers).", "Build and packaging tools that run the loader directly to inspect binaries."},
		Exception: Exception{Name: "allocator_preload", Fields: []string{"resource.k8s.workload.name", "process.command_line"}, Comps: []string{"=", "contains"},
			Values: [][]string{{"api", "LD_PRELOAD=/usr/lib/x86_64-linux-gnu/libjemalloc.so.2"}}},
	},
	{
		Name: "proc_mem_read", Title: "Process memory read through /proc", Category: "credential_access",
		Mitre:   []string{"T1003.007"},
		Meaning: "Inside a container, a process opened another process's memory (`/proc/<pid>/mem`, or a thread's) or its memory map (`/proc/<pid>/maps`), a memory-dump tool ran (`gcore`, `memdump`, `procdump`, `mimipenguin`, `truffleproc`), or `cat`, `dd`, `strings`, `xxd`, `python` or `perl` was given such a path. Reading a process's memory dumps the secrets it holds: passwords, tokens, keys, session cookies. Debuggers opening the files (the `debuggers` list) are not reported.",
		LookAt: []string{
			"`file.path` (which pid) or `tetragon.process.arguments` (the dump tool's target), and `process.executable.path`.",
			"The target process: what it is and which secrets it holds (a database, a credential helper, the application with its tokens). Rotate them.",
			"Where the dump went (`gcore -o`, `dd of=`) and what left the pod afterwards.",
		},
		Benign: []string{"`lsof`, `pmap` and `fuser`, which read other processes' `maps`.", "Profilers and crash reporters that read `maps` to symbolise stacks and are not in the `debuggers` list."},
		Exception: Exception{Name: "process_inspectors", Fields: []string{"process.executable.name", "file.path"}, Comps: []string{"in", "glob"},
			Values: [][]string{{"[lsof, pmap, fuser]", "/proc/*/maps"}}},
	},
	{
		Name: "debugfs_in_container", Title: "debugfs run in a container", Category: "privilege_escalation",
		Mitre:   []string{"T1611"},
		Meaning: "`debugfs`, the ext2/3/4 file system debugger, ran inside a container (busybox applet included). In a privileged container, or one given a host block device, it opens the node's disk directly and reads or writes any file (`/etc/shadow`, `/root/.ssh`, the kubelet's keys) around every permission check and mount: a container escape used by breakout tools. Containers have no reason to run it.",
		LookAt: []string{
			"`tetragon.process.arguments`: the device (`/dev/sda1`, `/dev/nvme0n1p1`, `/dev/dm-0`), `-w` (write mode) and any `-R` request.",
			"The pod's `privileged` setting, `volumeDevices` and hostPath mounts of `/dev`: how it reached a block device.",
			"What followed on the node: changed files, new SSH keys, the kubelet's credentials used from elsewhere. If the device was the node's, cordon the node and treat it as compromised.",
		},
		Benign:    []string{"Storage and forensic tooling that inspects volumes from a privileged pod."},
		Exception: workloadException("disk_forensics", []string{"forensics", "disk-inspector"}),
	},
	{
		Name: "file_timestomp", Title: "File timestamps forged (timestomping)", Category: "defense_evasion",
		Mitre:   []string{"T1070.006"},
		Meaning: "`touch` set a file's timestamps to a chosen date (`-t`, `-d`, `--date`) or copied them from another file (`-r`, `--reference`), busybox applet included. Host and containers. Attackers give a dropped or changed file the dates of its neighbours (`touch -r /bin/ls /usr/bin/backdoor`) so that it does not stand out in `ls -lt` or a timeline. Children of a package manager are not reported.",
		LookAt: []string{
			"`tetragon.process.arguments`: which file, and the date or the reference file.",
			"The file: was it created or changed shortly before (`write_below_binary_dir`, `write_below_etc`, `remote_file_copy_in_container` for the same workload)? Its ctime (`stat`) still shows the real change.",
			"The process tree: an interactive shell, a script dropped in `/tmp`?",
		},
		Benign: []string{"Build systems and packaging scripts that set reproducible timestamps (`touch -d @$SOURCE_DATE_EPOCH`, `touch -r`).", "Backup, sync and test scripts that restore or fake modification times."},
		Exception: Exception{Name: "reproducible_builds", Fields: []string{"resource.k8s.namespace.name", "process.command_line"}, Comps: []string{"glob", "contains"},
			Values: [][]string{{"ci-*", "touch -d @"}}},
	},
	{
		Name: "security_tool_tampering", Title: "Security control disabled", Category: "defense_evasion",
		Mitre:   []string{"T1562.001"},
		Meaning: "A security control was switched off: SELinux set to permissive (`setenforce 0`), AppArmor profiles unloaded (`aa-teardown`, `aa-disable`, `aa-complain`), the firewall flushed or opened (`iptables -F`/`-X`/`-P INPUT ACCEPT`, `nft flush ruleset`, `ufw disable`), audit rules deleted or auditing turned off (`auditctl -D`, `-e 0`), or a security agent stopped or killed (`systemctl stop|disable|mask`, `service … stop`, `kill`/`pkill`/`killall` of auditd, falco, tetragon, osqueryd, wazuh-agent, ossec, apparmor, firewalld, ufw, crowdsec, clamd, sysdig, aide). Host and containers. Attackers blind the defences before the noisy part of an intrusion.",
		LookAt: []string{
			"`process.command_line`: which control, and how.",
			"Whether the control is back: `getenforce`, `iptables -S`, `auditctl -s`, `systemctl status <agent>`. If Tetragon was stopped, the node's events stop too (`RuntimeSecurityNoEventsFromNode`).",
			"Who ran it (an administrator's session, configuration management, a shell started by something else) and what the same process tree did next.",
		},
		Benign: []string{"Administrators stopping or reconfiguring an agent during maintenance (`systemctl stop falco` before an upgrade).", "Node bootstrap scripts that reset the firewall before the CNI installs its rules."},
		Exception: Exception{Name: "maintenance_script", Fields: []string{"process.parent.command_line", "process.executable.name"}, Comps: []string{"startswith", "in"},
			Values: [][]string{{"/bin/bash /usr/local/sbin/agent-upgrade.sh", "[systemctl]"}}},
	},
	{
		Name: "hidden_file_created", Title: "Hidden file created in a temporary directory", Category: "defense_evasion",
		Mitre:   []string{"T1564.001"},
		Meaning: "`mkdir`, `touch`, `cp`, `mv`, `install` or `ln` (busybox applets and `/proc/self/exe` included) named a hidden file or directory, a name starting with a dot, in `/tmp`, `/var/tmp`, `/dev/shm`, `/run` or `/var/run` (`mkdir -p /tmp/.x`, `cp tool /dev/shm/.cache`). Host and containers. Dot names do not show in a plain `ls`, and these directories are writable and outside the image: a usual place to stage tools.",
		LookAt: []string{
			"`tetragon.process.arguments`: the hidden name and what was put there.",
			"The content (`ls -la` the directory in the container), and what ran from it next: `execution_from_writable_dir` for the same workload.",
			"The process tree: an interactive shell, a download (`remote_file_copy_in_container`)?",
		},
		Benign: []string{"Start scripts that create dot-named socket or lock directories (`mkdir -p /tmp/.X11-unix /tmp/.ICE-unix`)."},
		Exception: Exception{Name: "x11_socket_dirs", Fields: []string{"process.executable.name", "tetragon.process.arguments"}, Comps: []string{"=", "contains"},
			Values: [][]string{{"mkdir", "/tmp/.X11-unix"}}},
	},
	{
		Name: "system_discovery_in_container", Title: "System discovery from an exec'd shell", Category: "discovery",
		Mitre:   []string{"T1082"},
		Meaning: "Inside a container, a reconnaissance command (`whoami`, `id`, `uname`, `hostname`, `ifconfig`, `ip`, `netstat`, `ss`, `ps`, `lsof`, `getent`, `capsh`, `getenforce`, `env`, …, busybox applets included) ran as the child of a shell that is not part of the container's own process tree and not an exec probe: the first commands of someone who just got a shell, through `kubectl exec` or an exploited service. The rule is `info`: context for the other detections of the workload.",
		LookAt: []string{
			"The shell (`process.parent.executable.path`, `tetragon.parent_exec_id`) and how it started: `terminal_shell_in_container` (an exec) or `shell_spawned_by_server` (an exploit)?",
			"The whole session: filter Loki on the shell's exec id as `tetragon_parent_exec_id`.",
			"Detections that followed for the same workload: credential reads, downloads, escapes.",
		},
		Benign: []string{"Engineers debugging with `kubectl exec` (`id`, `ps`, `env`, `ip addr`).", "Automation that runs `kubectl exec … -- sh -c '…'` scripts calling `hostname` or `id`."},
		Exception: Exception{Name: "debug_namespaces", Fields: []string{"resource.k8s.namespace.name"}, Comps: []string{"glob"},
			Values: [][]string{{"dev-*"}}},
	},
	{
		Name: "data_encrypted_for_impact", Title: "Data encrypted in a container", Category: "impact",
		Mitre:   []string{"T1486"},
		Meaning: "Inside a container, a command line encrypted data: `openssl enc` with a cipher (`-aes-256-cbc`, `-chacha20`, …; not `-d`), `gpg -c`/`--symmetric`/`-e`/`--encrypt`, `ccrypt`/`ccencrypt`, `aescrypt`, `gocryptfs`, `7z a -p…` or `zip -e`/`-P`. Encrypting data in place and deleting the originals is the ransomware step; encrypting before copying out hides what was taken.",
		LookAt: []string{
			"`process.command_line`: which files, where the output went, and whether the originals were removed (`bulk_data_removal` for the same workload).",
			"Whether the data is still readable and the volume's backups and snapshots are intact. If the encryption is not intended, stop the pod now.",
			"Outbound transfers of the same process tree (data taken before it was encrypted).",
		},
		Benign: []string{"Backup jobs that encrypt their archives (`gpg --encrypt`, `openssl enc`, `7z a -p`).", "Applications that encrypt exports with the `openssl` command."},
		Exception: Exception{Name: "encrypted_backups", Fields: []string{"resource.k8s.workload.name", "process.executable.name"}, Comps: []string{"=", "in"},
			Values: [][]string{{"db-backup", "[gpg, openssl]"}}},
	},
	{
		Name: "sensitive_data_archived", Title: "Credentials or home directories archived", Category: "collection",
		Mitre:   []string{"T1560.001"},
		Meaning: "Inside a container, an archiver (`tar`, `zip`, `7z`, `rar`, `gzip`, `bzip2`, `xz`, `zstd`, `cpio`, busybox applets included) created an archive of credentials or home directories: `/etc` (or its `shadow`, `passwd`, `ssh`, `kubernetes`, `ssl`), `/root`, `/home`, any `.ssh`, `.aws` or `.kube` directory, the mounted secrets (`/var/run/secrets`, `/run/secrets`), `$HOME` or `~`. Packing these up is collection before exfiltration. Extracting (`tar -x`) is not reported.",
		LookAt: []string{
			"`tetragon.process.arguments`: what was archived and where the archive went (`-f`, the zip name).",
			"What happened to the archive next: uploads (`curl -T`, `scp`), connections of the same process tree.",
			"Which credentials it held (service-account token, cloud keys, SSH keys): rotate them.",
		},
		Benign:    []string{"Backup jobs that archive home directories or `/etc` from inside a container.", "Entrypoints that pack configuration for a sidecar or an init step."},
		Exception: workloadException("home_backups", []string{"backup", "home-backup"}),
	},
	// Workload behaviour profiles (37_profile.yaml): the workload_profile
	// processor marks what a workload's profile never saw.
	{
		Name: "unexpected_process", Title: "Process the workload's profile never saw", Category: "execution",
		Mitre:   []string{"T1059"},
		Meaning: "The `workload_profile` processor marked this exec as novel (`runtime_security.profile.novel` contains `exec`): the executable, or the parent-to-child pair of executables, never ran in this workload while its profile was learned, and is not in its reviewed profile file. The profile is enforcing or a file (`runtime_security.profile.state`). A shell, a downloaded tool or an implant that the application never starts shows up here whatever its name, where the name-based rules need a list. runc's own re-exec and exec probes are not reported.",
		LookAt: []string{
			"`runtime_security.profile.workload` (the profile's key), `runtime_security.profile.state` and `runtime_security.profile.novel`; `process.executable.path`, `process.parent.executable.path` and `tetragon.process.arguments`: what ran, started by what.",
			"Was the workload just deployed, or its image changed? A new release that runs a new helper is the usual cause: see the profiles guide (`docs/profiles.md`, \"A profile alerts after a deploy\"). Compare `container.image.name` with the profile's.",
			"Other detections of the same workload around the record (`terminal_shell_in_container`, `remote_file_copy_in_container`, `execution_from_writable_dir`, `container_drift`): an intrusion rarely stops at one new process.",
		},
		Benign: []string{
			"A new release of the application that starts a program the old one did not (profile learned on the previous image, or a profile file not updated with the release).",
			"Rare code paths not exercised while the profile learned: maintenance jobs, migrations, crash handlers, log rotation.",
			"Engineers running tools through `kubectl exec` (`terminal_shell_in_container` fires too).",
		},
		Exception: Exception{Name: "release_helpers", Fields: []string{"resource.k8s.workload.name", "process.executable.path"}, Comps: []string{"=", "in"},
			Values: [][]string{{"web", "[/usr/local/bin/migrate, /usr/bin/pg_dump]"}}},
	},
	{
		Name: "unexpected_file_access", Title: "File path class the workload's profile never touched", Category: "collection",
		Mitre:   []string{"T1005"},
		Meaning: "The `workload_profile` processor marked this file hook event as novel (`runtime_security.profile.novel` contains `file`): the workload touched a class of paths that its profile never saw it touch. The processor remembers classes, not paths: credentials and secrets, other processes' `/proc` entries, kernel state, the rest of `/etc`, binaries, logs, temporary and home directories, other. Applications read the same few files release after release; an intruder looks around for keys, tokens and configuration.",
		LookAt: []string{
			"`file.path`, `tetragon.syscall.name` and `tetragon.args` (read or write), and `process.executable.path`: which process opened what.",
			"`runtime_security.profile.workload`, `runtime_security.profile.state`: the profile that judged it. Was the workload redeployed or its image changed (`docs/profiles.md`, \"A profile alerts after a deploy\")?",
			"Other detections of the same process (`tetragon.exec_id`): `sensitive_file_read`, `ssh_info_read`, `proc_environ_read`, and how the process started (`unexpected_process`, a shell).",
		},
		Benign: []string{
			"A new release that reads a new configuration or certificate file, or writes a new log.",
			"Certificate and credential rotation (a new mounted secret path), or startup code paths not seen while the profile learned.",
		},
		Exception: Exception{Name: "rotated_certificates", Fields: []string{"resource.k8s.workload.name", "file.path"}, Comps: []string{"=", "glob"},
			Values: [][]string{{"web", "/etc/ssl/**"}}},
	},
	{
		Name: "unexpected_syscall", Title: "System call the workload's profile never saw", Category: "execution",
		Mitre:   []string{"T1106"},
		Meaning: "The `workload_profile` processor marked this hook event as novel (`runtime_security.profile.novel` contains `syscall`): the workload made a system call, or reached a kernel hook, that its profile never saw (the shipped policies hook `ptrace`, `setns`, `unshare`, `mount`, `chroot`, `bpf`, module loading, the setuid family, `execveat`, `socket`, `connect` and the file syscalls). An abnormal system call pattern: the kernel-level trace of an exploit, a container escape, a debugger or a rootkit that the application itself never needs. The specific rules (`ptrace_attach`, `namespace_escape`, `bpf_program_load`, …) judge the call itself; this one says that the workload has never done it, including calls those rules allow (their allowlists) or do not cover.",
		LookAt: []string{
			"`tetragon.hook`, `tetragon.syscall.name` and `tetragon.args`: which call, with which arguments.",
			"`process.executable.path` and its parent: the application itself, or a process that `unexpected_process` reported?",
			"The other detections of the record (`runtime_security.rules`) and of the same workload.",
		},
		Benign: []string{
			"A new release or runtime version (a new JVM, Go or glibc) that uses other system calls.",
			"Profilers, APM and debugging agents attached to the workload (`ptrace`, `bpf`, `perf`).",
		},
		Exception: Exception{Name: "profiling_agents", Fields: []string{"resource.k8s.workload.name", "tetragon.syscall.name"}, Comps: []string{"=", "in"},
			Values: [][]string{{"web", "[ptrace, bpf]"}}},
	},
	{
		Name: "unexpected_network_peer", Title: "Network peer the workload's profile never saw", Category: "command_and_control",
		Mitre:   []string{"T1071"},
		Meaning: "The `workload_profile` processor marked this connection as novel (`runtime_security.profile.novel` contains `network`): the destination port, or the class of peer (loopback, cluster, private, public), was never seen in this workload's profile. A service that only talks to its database inside the cluster and suddenly connects to a public address, or to a port it never used, is a command-and-control channel, a download, exfiltration or lateral movement until shown otherwise.",
		LookAt: []string{
			"`network.peer.address` and `network.peer.port` (`tetragon.args`): where it connected. Public address: who owns it, is it known bad?",
			"`process.executable.path` and its parent: the application, or a tool that `unexpected_process` or `remote_file_copy_in_container` reported?",
			"Flow logs or the CNI's visibility (Hubble) for the same pod: how much went where. If unexplained, isolate the pod with a deny-all NetworkPolicy.",
		},
		Benign: []string{
			"A new release that calls a new dependency (a new API, a new database port, telemetry endpoints).",
			"Failover to another region or address class, a moved service (cluster to private address), rare jobs not seen while the profile learned.",
		},
		Exception: Exception{Name: "new_dependencies", Fields: []string{"resource.k8s.workload.name", "network.peer.port"}, Comps: []string{"=", "in"},
			Values: [][]string{{"web", "[5432, 6379]"}}},
	},
}
