// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

// Package attrkey names every attribute the tetragon receiver writes and the
// detection processor, the detection_metrics connector and the shipped
// dashboards read. It is the contract between those components: a key is
// renamed here or nowhere.
package attrkey

import "strings"

// Resource attributes. Records are grouped into one ResourceLogs per
// node/pod/container.
const (
	K8sNodeName      = "k8s.node.name"
	K8sClusterName   = "k8s.cluster.name"
	K8sNamespaceName = "k8s.namespace.name"
	K8sPodName       = "k8s.pod.name"
	K8sPodUID        = "k8s.pod.uid"
	K8sContainerName = "k8s.container.name"
	// K8sPodLabelPrefix is followed by the label key.
	K8sPodLabelPrefix  = "k8s.pod.label."
	ContainerID        = "container.id"
	ContainerImageName = "container.image.name"
	// K8sWorkloadName and K8sWorkloadKind carry Tetragon's workload and
	// workload_kind whatever the kind, so that one key can be a metric label
	// or a Loki index label. The kind-specific semconv key
	// (k8s.deployment.name, k8s.daemonset.name, …) is written as well.
	K8sWorkloadName = "k8s.workload.name"
	K8sWorkloadKind = "k8s.workload.kind"
	// Kind-specific semconv workload keys, written from Tetragon's
	// workload_kind next to k8s.workload.*.
	K8sDeploymentName  = "k8s.deployment.name"
	K8sDaemonSetName   = "k8s.daemonset.name"
	K8sStatefulSetName = "k8s.statefulset.name"
	K8sReplicaSetName  = "k8s.replicaset.name"
	K8sJobName         = "k8s.job.name"
	K8sCronJobName     = "k8s.cronjob.name"
)

// Log record attributes: the acting process (OTel semantic conventions).
const (
	ProcessPID                  = "process.pid"
	ProcessExecutablePath       = "process.executable.path"
	ProcessExecutableName       = "process.executable.name"
	ProcessCommandLine          = "process.command_line"
	ProcessWorkingDirectory     = "process.working_directory"
	ProcessUserID               = "process.user.id" // effective uid when credentials are known
	ProcessRealUserID           = "process.real_user.id"
	ProcessSavedUserID          = "process.saved_user.id"
	ProcessParentPID            = "process.parent_pid"
	ProcessExitCode             = "process.exit.code"
	ProcessExitTime             = "process.exit.time" // process_exit.time, same format as the body
	ProcessCreationTime         = "process.creation.time"
	ProcessParentExecutablePath = "process.parent.executable.path"
	ProcessParentExecutableName = "process.parent.executable.name"
	ProcessParentCommandLine    = "process.parent.command_line"
)

// Log record attributes specific to Tetragon.
const (
	TetragonExecID       = "tetragon.exec_id"
	TetragonParentExecID = "tetragon.parent_exec_id"
	TetragonArguments    = "tetragon.process.arguments" // the raw arguments string, without the binary
	TetragonParentArgs   = "tetragon.parent.arguments"
	TetragonInInitTree   = "tetragon.in_init_tree"
	TetragonExecProbe    = "tetragon.exec_probe" // pod.container.maybe_exec_probe
	TetragonPrivileged   = "tetragon.privileged" // pod.container.security_context.privileged
	TetragonFlags        = "tetragon.flags"
	TetragonAUID         = "tetragon.auid"
	// TetragonAncestorBinaries lists ancestor binaries, nearest (the parent's
	// parent) first; filled from process_exec.ancestors when Tetragon sends them.
	TetragonAncestorBinaries  = "tetragon.ancestors.binaries"
	TetragonCapsEffective     = "tetragon.capabilities.effective"
	TetragonCapsPermitted     = "tetragon.capabilities.permitted"
	TetragonBinarySetuid      = "tetragon.binary.setuid"
	TetragonBinarySetgid      = "tetragon.binary.setgid"
	TetragonPrivilegesChanged = "tetragon.binary.privileges_changed"
	TetragonInodeLinks        = "tetragon.binary.file.inode_links"
	TetragonExitSignal        = "tetragon.exit.signal"
)

// Log record attributes of hook events (kprobe, tracepoint, lsm, uprobe, usdt).
const (
	TetragonFunctionName = "tetragon.function_name" // kprobe/lsm/uprobe symbol
	TetragonSubsys       = "tetragon.tracepoint.subsys"
	TetragonEvent        = "tetragon.tracepoint.event"
	// TetragonHook is one string for every hook event: the function name, or
	// "subsys/event" for tracepoints, so rules can match either kind with one key.
	TetragonHook       = "tetragon.hook"
	TetragonPolicyName = "tetragon.policy_name"
	TetragonAction     = "tetragon.action"
	TetragonTags       = "tetragon.tags"
	TetragonReturn     = "tetragon.return"
	// TetragonArgs is a slice with one map per argument, in hook order (on a
	// syscall, tetragon.args[i] is its i-th argument whatever the shape: see
	// TetragonSyscallID). Each map holds the protojson name of the argument's
	// type as its single key (string_arg, int_arg, file_arg, sock_arg, …) with
	// the typed value, plus "label" when the policy set one.
	TetragonArgs = "tetragon.args"
	// TetragonSyscallName is the syscall a hook event is on, as the kernel's
	// syscall tables spell it ("ptrace", "finit_module", "umount2"), whichever
	// of the three shapes hooked it: a kprobe on its entry point
	// (__x64_sys_ptrace, __arm64_sys_ptrace, __ia32_compat_sys_ptrace,
	// __se_sys_ptrace, __do_sys_ptrace, sys_ptrace, …), a
	// syscalls/sys_enter_ptrace tracepoint, or raw_syscalls/sys_enter, named
	// from the syscall_id's number in the table of its abi (x64, arm64, i386).
	// Absent on other hooks, on syscalls/sys_exit_* and raw_syscalls/sys_exit,
	// and for a raw id its abi's table does not know.
	TetragonSyscallName = "tetragon.syscall.name"
	// TetragonSyscallID is the syscall number Tetragon sent (int), only on
	// raw_syscalls/sys_enter: syscall_id.id, also when the id has no name.
	// Its syscall_id argument is taken out of tetragon.args, so that
	// tetragon.args[i] is the syscall's i-th argument in every shape.
	TetragonSyscallID = "tetragon.syscall.id"

	FilePath           = "file.path"
	NetworkPeerAddress = "network.peer.address"
	NetworkPeerPort    = "network.peer.port"
	NetworkTransport   = "network.transport"
	// TetragonFilePermission is the permission string ("-rw-r--r--") of the
	// argument file.path came from, when Tetragon sent one.
	TetragonFilePermission = "tetragon.file.permission"
)

// Log record attributes of the non-process event types.
const (
	TetragonThrottleType     = "tetragon.throttle.type"   // THROTTLE_START / THROTTLE_STOP
	TetragonThrottleCgroup   = "tetragon.throttle.cgroup" // NUL padding trimmed
	TetragonRateLimitDropped = "tetragon.rate_limit.dropped"
	TetragonLoaderPath       = "tetragon.loader.path"
	TetragonLoaderBuildID    = "tetragon.loader.buildid" // lowercase hex
)

// Attributes the detection processor adds to matching records.
const (
	RuleName          = "security_rule.name"
	RuleCategory      = "security_rule.category"
	RuleDescription   = "security_rule.description"
	RuleRulesetName   = "security_rule.ruleset.name"
	RuleReference     = "security_rule.reference"
	RuleUUID          = "security_rule.uuid"
	MatchedRules      = "runtime_security.rules"
	Severity          = "runtime_security.severity"
	SuppressedCount   = "runtime_security.suppressed_count"
	ThreatTechniqueID = "threat.technique.id"
	// RuleSeverities and RuleCategories are string slices parallel to
	// MatchedRules: the severity and category of each matched rule, in the
	// same order. Severity and RuleCategory hold only the top rule's; the
	// detection_metrics connector reads these to label every matched rule with
	// its own severity and category.
	RuleSeverities = "runtime_security.rule_severities"
	RuleCategories = "runtime_security.rule_categories"
	// Tenant is the resource attribute the tenant_routing connector writes (when its attribute is
	// left at this default): the tenant a record was routed to.
	Tenant = "runtime_security.tenant"
	// Redacted is true on a record in which the secret_redaction processor masked a secret.
	Redacted = "runtime_security.redacted"
	// RuntimeSecurityDrift: on a process_exec, the syscall ("openat", "chmod", …) that created or made executable its binary in that container shortly before.
	RuntimeSecurityDrift = "runtime_security.drift"
)

// Attributes the detection processor's incident tracker adds (incidents.enabled). Detections on the
// same container (a host process tree when there is no container) within incidents.window of each
// other are one incident; every record of it carries its id and what the incident holds so far, so
// that an exporter can page once per incident with its latest state.
const (
	// IncidentID is the incident's id: a UUIDv5 of its key and first detection's time, so that a
	// replay of the same events yields the same id.
	IncidentID = "runtime_security.incident.id"
	// IncidentFirstSeen and IncidentLastSeen are the event times (RFC 3339, UTC, nanoseconds) of
	// the incident's first detection and of this record.
	IncidentFirstSeen = "runtime_security.incident.first_seen"
	IncidentLastSeen  = "runtime_security.incident.last_seen"
	// IncidentRules lists the rules and chains that fired in the incident so far, first-seen order
	// (capped; IncidentRulesOverflow counts those left out).
	IncidentRules         = "runtime_security.incident.rules"
	IncidentRulesOverflow = "runtime_security.incident.rules_overflow"
	// IncidentTechniques lists the MITRE ATT&CK technique ids of those rules.
	IncidentTechniques = "runtime_security.incident.techniques"
	// IncidentDetections counts the rule matches of the incident so far, suppressed repeats included.
	IncidentDetections = "runtime_security.incident.detections"
	// IncidentSeverity is the highest severity in the incident so far.
	IncidentSeverity = "runtime_security.incident.severity"
	// IncidentChains lists the chain rules that completed in the incident so far.
	IncidentChains = "runtime_security.incident.chains"
	// Chain is set on the record that completed a chain rule: the chain's name (also in
	// MatchedRules, like a rule's).
	Chain = "runtime_security.chain"
)

// Label values for a missing namespace or workload, shared by the detection_metrics series and the
// alertmanager exporter's alerts, so that inhibition can compare them. They start with "_" so they
// cannot collide with a Kubernetes name.
const (
	// PlaceholderHost: no Kubernetes namespace and no container, a process of the node itself.
	PlaceholderHost = "_host"
	// PlaceholderContainer: no Kubernetes namespace but a container.id, a container outside
	// Kubernetes or a pod Tetragon could not resolve.
	PlaceholderContainer = "_container"
)

// Attributes the workload_profile processor adds, read by the detection
// processor's unexpected_* rules.
const (
	// ProfileNovel is a string slice of what in the record the workload's
	// profile has not seen: ProfileKindExec, ProfileKindFile,
	// ProfileKindSyscall, ProfileKindNetwork. Absent when nothing is novel or
	// the profile is not enforcing.
	ProfileNovel = "runtime_security.profile.novel"
	// ProfileState is the state of the workload's profile when the record was
	// seen: ProfileStateLearning, ProfileStateEnforcing or ProfileStateFile
	// (a reviewed profile from profiles_files, authoritative). Absent for
	// records that are not profiled (host processes).
	ProfileState = "runtime_security.profile.state"
	// ProfileWorkload is the profile's workload key, e.g.
	// "cluster/namespace/Deployment/name/container".
	ProfileWorkload = "runtime_security.profile.workload"
)

// Values of ProfileNovel and ProfileState.
const (
	ProfileKindExec       = "exec"
	ProfileKindFile       = "file"
	ProfileKindSyscall    = "syscall"
	ProfileKindNetwork    = "network"
	ProfileStateLearning  = "learning"
	ProfileStateEnforcing = "enforcing"
	ProfileStateFile      = "file"
)

// EventNamePrefix starts every LogRecord EventName: "tetragon.process_exec", …
const EventNamePrefix = "tetragon."

// ContainerIDKeyLen is the length of Tetragon's process.docker field: the first 31 hex digits of
// the container id. The receiver writes either that or the pod's full 64-digit id to ContainerID;
// keying on the first 31 makes an event with pod information and one without (a new container,
// before Tetragon's pod watcher caught up) the same container.
const ContainerIDKeyLen = 31

// ContainerKey is the container a ContainerID value names, as a key (see ContainerIDKeyLen); ""
// for "". It never allocates.
func ContainerKey(id string) string {
	if len(id) > ContainerIDKeyLen {
		return id[:ContainerIDKeyLen]
	}
	return id
}

// PlaceholderUnknown labels any other missing value (the workload of a pod without one, a node).
const PlaceholderUnknown = "_unknown"

// Location is the namespace and workload labels of a resource from its k8s.namespace.name,
// k8s.workload.name and container.id values, with the placeholders above: the one derivation of
// the detection_metrics series and the alertmanager exporter's alerts, so that Alertmanager's
// inhibition can compare the two.
func Location(namespace, workload, containerID string) (ns, wl string) {
	if namespace == "" {
		ns = PlaceholderHost
		if containerID != "" {
			ns = PlaceholderContainer
		}
		// Without a namespace there is no workload either: the placeholder again keeps the pair
		// self-explaining.
		return ns, ns
	}
	if workload == "" {
		workload = PlaceholderUnknown
	}
	return namespace, workload
}

// Severity label values; NormalizeSeverity maps anything else onto them.
const (
	SeverityCritical = "critical"
	SeverityWarning  = "warning"
	SeverityInfo     = "info"
)

// NormalizeSeverity maps s onto the three label values without allocating; a missing or unknown
// severity is warning: it errs towards alerting rather than towards silence.
func NormalizeSeverity(s string) string {
	switch {
	case s == SeverityCritical || strings.EqualFold(s, SeverityCritical):
		return SeverityCritical
	case s == SeverityInfo || strings.EqualFold(s, SeverityInfo):
		return SeverityInfo
	}
	return SeverityWarning
}
