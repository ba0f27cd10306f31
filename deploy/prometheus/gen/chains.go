// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package main

import (
	"fmt"
	"sort"
	"time"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/processor/detectionprocessor/ruleengine"
)

// ChainGuide is the runbook material of one built-in chain rule that its definition cannot give:
// what the sequence means to an on-call engineer, what to check, how to contain it, and its usual
// legitimate causes. Name, description, severity, MITRE IDs, window and steps come from the
// compiled catalogue (processor/detectionprocessor/internal/rules/builtin/60_chains.yaml).
type ChainGuide struct {
	Title   string
	Meaning string
	LookAt  []string
	Contain []string
	Benign  []string
}

// ChainGuides holds the guide of every built-in chain, by chain name.
var ChainGuides = map[string]ChainGuide{
	"shell_credential_access_then_connection": {
		Title:   "Shell, then credential read, then outbound connection",
		Meaning: "Someone had a shell in the container (an exec through the API, a web shell, a reverse shell), then a credential, key or token was read there, then a process of the container connected to a non-loopback address. Each step alone has innocent explanations; the three in this order in one container are the access, collection and exfiltration (or command-and-control) steps of an intrusion. Treat whatever the credential step read as stolen until shown otherwise.",
		LookAt: []string{
			"How the shell started (the shell step's record): `process.parent.executable.name` `runc`/`containerd-shim` is an exec through the runtime (find who ran `pods/exec` in the Kubernetes audit log); a server or runtime binary as parent is remote code execution.",
			"What was read (the credential step's record): `file.path`, and what it grants: the service account's permissions (`kubectl auth can-i --list --as=system:serviceaccount:<namespace>:<sa>`), cloud keys, SSH keys, database passwords.",
			"Where it connected (the record that completed the chain): `network.peer.address`, `network.peer.port`, `process.executable.path`. Is the address a known dependency of the workload? Who owns it? Flow logs (Hubble) show how much went there.",
		},
		Contain: []string{
			"Isolate the pod with a deny-all egress NetworkPolicy; keep it running for forensics rather than deleting it.",
			"Rotate every credential the credential step touched (service account token, cloud keys, SSH keys, database passwords) and review their use since `first_seen`.",
			"Block the peer address at the egress firewall if it is outside the cluster.",
		},
		Benign: []string{
			"An engineer debugging through `kubectl exec` who reads a configuration file holding credentials, then tests a dependency with `curl`.",
			"Maintenance or debug images whose exec'd scripts read mounted secrets and call an external service.",
		},
	},
	"download_then_execute": {
		Title:   "Download, then execution of a dropped file",
		Meaning: "A download tool fetched a file into the container, then a file created or made executable in the container (container drift), a binary in a writable directory, a program without a file on disk or a crypto miner ran. An immutable container never runs what was not in its image: this is a payload brought in and run (ingress tool transfer, then execution).",
		LookAt: []string{
			"The download step's record: `process.command_line` (the URL and the output path) and how that process started.",
			"The execution step's record: `process.executable.path`, `runtime_security.drift` (the system call that created the binary or made it executable), `tetragon.binary.file.inode_links`. Is it the file the download wrote?",
			"What the new process did next: its `tetragon.exec_id` as `tetragon_parent_exec_id` in Loki, network connections, further detections in the incident's `rules`.",
		},
		Contain: []string{
			"Isolate the pod with a deny-all NetworkPolicy; copy the dropped file out (`kubectl cp`, or from the node's overlay filesystem) and hash it before the pod goes away.",
			"Redeploy the workload from its image: the running container no longer matches it.",
			"Find what triggered the download: a shell step earlier in the incident's `rules`, or the application itself (remote code execution).",
		},
		Benign: []string{
			"Entrypoints or exec'd scripts that download and run a tool at start (`curl … -o /tmp/x && /tmp/x`): build the tool into the image instead.",
			"CI runners and build pods, which download and execute by design: scope the step rules away from their namespaces.",
		},
	},
	"service_account_token_then_api_access": {
		Title:   "Service account token read, then Kubernetes API access",
		Meaning: "The pod's service account token was read by a shell, a data tool or an exec'd process, then a client tool or exec'd process in the container talked to the Kubernetes API server. The application's own in-cluster client is not what the step rules flag: this is someone using the pod's identity by hand, to discover the cluster or to act with the pod's permissions.",
		LookAt: []string{
			"The token step's record: `process.executable.path` and `process.command_line` (`cat`, `base64`, `curl -H \"Authorization: Bearer …\"`).",
			"The API step's record: the client (`kubectl`, `curl`) and its command line: which resources it listed, read or changed.",
			"What the service account may do: `kubectl auth can-i --list --as=system:serviceaccount:<namespace>:<sa>`, and the API server audit log for requests by that service account from the pod's IP since `first_seen`.",
		},
		Contain: []string{
			"Isolate the pod with a deny-all NetworkPolicy (the API server included).",
			"Invalidate the token: delete the pod (projected tokens are bound to it) or rotate the service account's token secret; remove permissions the workload does not need.",
			"Undo what the audit log shows the token did (created pods, read secrets, changed RBAC).",
		},
		Benign: []string{
			"An engineer checking a pod's permissions by hand (`kubectl exec … -- kubectl auth can-i …`).",
			"Debug containers that ship `kubectl` and are used against the cluster on purpose.",
		},
	},
	"recon_then_lateral_connection": {
		Title:   "Reconnaissance, then lateral connection",
		Meaning: "A network scanner, packet sniffer or reconnaissance command ran in the container, then a process of the container connected to a private address on a port of a remote-administration, database or cluster-control service (SSH, SMB, RDP, WinRM, databases, caches, the kubelet, etcd, the API server). Discovery followed by an attempt to move to another host.",
		LookAt: []string{
			"The reconnaissance step's record: the tool and its command line (a scan of which range or ports).",
			"The connection's record: `network.peer.address` and `network.peer.port`: which host and service, and whether this workload ever talks to it (NetworkPolicies, its configuration).",
			"The target's own logs (SSH, database, kubelet) for logins or requests from the pod's IP since `first_seen`.",
		},
		Contain: []string{
			"Isolate the pod with a deny-all egress NetworkPolicy.",
			"Check the target hosts for sessions from the pod's IP; rotate the credentials that would let the pod in (database passwords, SSH keys).",
			"Review which other pods and hosts the workload can reach: lateral movement works where NetworkPolicies allow it.",
		},
		Benign: []string{
			"An engineer diagnosing connectivity from an exec'd shell (`nc`, `nmap`, then a database client).",
			"Troubleshooting images used on purpose (netshoot and the like) in operations namespaces.",
		},
	},
	"shell_then_privilege_escalation": {
		Title:   "Shell, then privilege escalation step",
		Meaning: "A shell ran in the container, then a process of the container crossed or attacked a privilege boundary: a setuid change to root, a setuid bit set, a namespace entry, a mount, a chroot, a kernel module or BPF program load, debugfs, a ptrace attach or an LD_PRELOAD injection. After a shell, these are attempts to become root in the container or to escape it to the node.",
		LookAt: []string{
			"The privilege step's record: which rule fired (`security_rule.name`) and its details (`tetragon.hook`, `tetragon.args`, `file.path`), with that rule's runbook.",
			"The pod's security context: `tetragon.privileged`, added capabilities, host mounts and host namespaces make an escape possible.",
			"How the shell started (the shell step's record) and who could have run it.",
		},
		Contain: []string{
			"Isolate the pod with a deny-all NetworkPolicy and keep it for forensics.",
			"For an escape-class step (`namespace_escape`, `container_escape_mount`, `chroot_escape`, `kernel_module_load`, `bpf_program_load`, `debugfs_in_container`): treat the node as compromised, cordon and drain it, and check the node's other workloads and credentials (kubelet, cloud instance identity).",
			"Remove the privileges the workload does not need (privileged, capabilities, host mounts) before redeploying it.",
		},
		Benign: []string{
			"Node debugging with privileged debug pods (`kubectl debug node/…`, `nsenter`, `chroot /host`).",
			"Engineers using `sudo` or `su` in development images after an exec.",
		},
	},
}

// chainStep is one step of a chain as its runbook shows it.
type chainStep struct {
	Name      string
	Rules     []string // @lists expanded; empty for a condition step
	Condition string   // as written; empty for a rules step
}

// chainRunbook is what a chain's runbook and the index show.
type chainRunbook struct {
	Name        string
	Description string
	Category    string
	Severity    string
	Mitre       []string
	Within      string
	By          string
	Enabled     bool
	Steps       []chainStep
	Guide       ChainGuide
	// StepRules are the rules of its rules steps, sorted, once each.
	StepRules []string
}

// loadChains compiles the built-in catalogue, as the detection processor does, and returns its
// chains in definition order with their guides.
func loadChains() ([]chainRunbook, error) {
	rs, err := ruleengine.Load(ruleengine.Options{Builtin: true})
	if err != nil {
		return nil, fmt.Errorf("compiling the built-in catalogue: %w", err)
	}
	var out []chainRunbook
	for _, c := range rs.Chains() {
		cr := chainRunbook{
			Name:        c.Name,
			Description: c.Description,
			Category:    c.Rule.Category,
			Severity:    c.Rule.Severity.String(),
			Mitre:       c.Rule.Mitre,
			Within:      formatWithin(c.Within),
			By:          c.By.String(),
			Enabled:     c.Enabled,
			Guide:       ChainGuides[c.Name],
		}
		seen := map[string]bool{}
		for _, s := range c.Steps {
			cr.Steps = append(cr.Steps, chainStep{Name: s.Name, Rules: s.Rules, Condition: s.Condition})
			for _, r := range s.Rules {
				if !seen[r] {
					seen[r] = true
					cr.StepRules = append(cr.StepRules, r)
				}
			}
		}
		sort.Strings(cr.StepRules)
		out = append(out, cr)
	}
	return out, nil
}

// formatWithin writes a chain's window as its YAML would (15m, 1h, 1h30m).
func formatWithin(d time.Duration) string {
	switch {
	case d%time.Hour == 0:
		return fmt.Sprintf("%dh", d/time.Hour)
	case d > time.Hour && d%time.Minute == 0:
		return fmt.Sprintf("%dh%dm", d/time.Hour, (d%time.Hour)/time.Minute)
	case d%time.Minute == 0:
		return fmt.Sprintf("%dm", d/time.Minute)
	}
	return d.String()
}

// PromAlert is the Prometheus alert that fires on the chain's detections series at its default
// severity; none for info, which no rule pages on.
func (c chainRunbook) PromAlert() string {
	switch c.Severity {
	case "critical":
		return "RuntimeSecurityCriticalDetection"
	case "warning":
		return "RuntimeSecurityWarningDetection"
	}
	return ""
}
