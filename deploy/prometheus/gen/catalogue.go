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
		Meaning: "A known miner binary ran (`xmrig`, `minerd` and similar), or a process connected to a mining pool (`stratum+tcp`, well-known pool ports). It steals CPU and often follows an initial compromise.",
		LookAt: []string{
			"`process.executable.path` and `process.command_line` (pool URL and wallet).",
			"`network.peer.address` of the pool connections.",
			"How the binary arrived: look for `execution_from_writable_dir` or `package_manager_in_container` shortly before.",
		},
		Benign:    []string{"Almost never, in a business cluster."},
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
		Name: "setuid_to_root_syscall", Title: "setuid(0) syscall by a non-root process", Category: "privilege_escalation",
		Mitre:   []string{"T1068", "T1548.001"},
		Meaning: "A process running as a non-root user called `setuid(0)`, `setreuid` or `setresuid` to become root. Outside a small set of daemons, this indicates an exploit or a misused capability.",
		LookAt: []string{
			"`tetragon.args`: the requested uid, and `tetragon.return`: did it succeed?",
			"`tetragon.capabilities.effective`: `CAP_SETUID` explains how it could succeed.",
			"What the process did next as root.",
		},
		Benign: []string{"Daemons that start as a user and switch back to root (rare); init systems in system containers."},
		Exception: Exception{Name: "known_daemons", Fields: []string{"process.executable.path"},
			Values: [][]string{{"/usr/sbin/known-daemon"}}},
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
			"The tracer (`process.executable.path`) and the target pid in `tetragon.args`.",
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
			"`process.command_line` (for example `nsenter -t 1 -m -u -i -n`).",
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
		Meaning: "A process truncated, deleted or overwrote log files (`/var/log/*`, shell history) or cleared the journal. Attackers erase their traces this way.",
		LookAt: []string{
			"`file.path` and the operation (truncate, unlink, write with `O_TRUNC`).",
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
}
