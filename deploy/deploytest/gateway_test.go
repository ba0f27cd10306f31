// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package deploytest

import (
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/processor/detectionprocessor"
)

const gatewayName = "otelcol-runtime-security-gateway"

func gatewayVariant(t *testing.T) variant {
	t.Helper()
	for _, v := range variants {
		if v.gateway {
			return v
		}
	}
	t.Fatal("no gateway variant")
	return variant{}
}

// TestGatewayDeployment checks the gateway tier: the Deployment's pod, its collector
// configuration, and the Service, PodDisruptionBudget and NetworkPolicy around it.
func TestGatewayDeployment(t *testing.T) {
	objs := render(t, gatewayVariant(t))
	gw, err := Deployment(objs, gatewayName)
	if err != nil {
		t.Fatal(err)
	}
	ds, err := DaemonSet(objs)
	if err != nil {
		t.Fatal(err)
	}
	ps := &gw.Spec.Template.Spec
	if gw.Spec.Replicas == nil || *gw.Spec.Replicas < 2 {
		t.Error("the gateway needs at least 2 replicas: every detection of the cluster goes through it")
	}
	if gw.Spec.Strategy.Type != appsv1.RollingUpdateDeploymentStrategyType || gw.Spec.Strategy.RollingUpdate == nil ||
		gw.Spec.Strategy.RollingUpdate.MaxUnavailable == nil || gw.Spec.Strategy.RollingUpdate.MaxUnavailable.IntVal != 0 {
		t.Error("rollouts must keep every replica up (maxUnavailable 0)")
	}
	if ps.AutomountServiceAccountToken == nil || *ps.AutomountServiceAccountToken || ps.HostNetwork || ps.HostPID {
		t.Error("the gateway needs no API token, host network or host PID")
	}
	for _, vol := range ps.Volumes {
		if vol.HostPath != nil {
			t.Errorf("the gateway mounts hostPath %s", vol.HostPath.Path)
		}
	}
	c, err := Container(ps, "otelcol")
	if err != nil {
		t.Fatal(err)
	}
	sc := c.SecurityContext
	if uid, nonRoot := effectiveUser(ps.SecurityContext, sc); uid == 0 || !nonRoot {
		t.Errorf("gateway runs as uid %d (nonRoot %v)", uid, nonRoot)
	}
	if sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem || sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation ||
		sc.Capabilities == nil || !slices.Contains(sc.Capabilities.Drop, "ALL") || len(sc.Capabilities.Add) > 0 ||
		effectiveSeccomp(ps.SecurityContext, sc) != corev1.SeccompProfileTypeRuntimeDefault {
		t.Errorf("gateway securityContext %+v is not locked down", sc)
	}
	lim := c.Resources.Limits[corev1.ResourceMemory]
	var gml string
	for _, e := range c.Env {
		if e.Name == "GOMEMLIMIT" {
			gml = e.Value
		}
	}
	if soft, err := parseGoMemLimit(gml); err != nil || lim.IsZero() || float64(soft)/float64(lim.Value()) < 0.75 || float64(soft)/float64(lim.Value()) > 0.85 {
		t.Errorf("gateway GOMEMLIMIT %q vs limits.memory %s: want 75-85%%", gml, lim.String())
	}

	vols := map[string]corev1.Volume{}
	for _, vol := range ps.Volumes {
		vols[vol.Name] = vol
	}
	mounts := map[string]corev1.VolumeMount{}
	for _, m := range c.VolumeMounts {
		if m.SubPath != "" {
			t.Errorf("%s mounted with subPath", m.MountPath)
		}
		mounts[m.MountPath] = m
	}
	checkRulesMount(t, vols, mounts)
	if m, ok := mounts[storageDir]; !ok || m.ReadOnly || vols[m.Name].EmptyDir == nil {
		t.Errorf("the gateway's queues and WAL need a writable volume at %s", storageDir)
	}

	files, err := CollectorConfigFiles(objs, ps, c.Name)
	if err != nil {
		t.Fatal(err)
	}
	conf, err := MergeConfig(files)
	if err != nil {
		t.Fatal(err)
	}
	env := podEnv(t, objs, c)
	checkProbesAndPorts(t, conf, c, env)
	for _, f := range files {
		for _, ref := range EnvRefs(f.Data) {
			if _, ok := env[ref.Name]; !ok && !ref.HasDefault {
				t.Errorf("gateway config uses ${env:%s}, which the pod does not set", ref.Name)
			}
		}
	}
	if got := Strings(conf, "service::pipelines::logs/ingest::processors"); len(got) < 2 || got[0] != "memory_limiter" || got[1] != "detection" {
		t.Errorf("gateway logs/ingest processors %v, want memory_limiter then detection", got)
	}
	if conf.Get("processors::detection/detections_only::mode") != "select" {
		t.Error("gateway detections branch must be mode: select (keep only what detection tagged)")
	}
	for _, k := range []string{"extensions::file_storage::directory", "exporters::prometheus_remote_write::wal::directory"} {
		if !strings.HasPrefix(Str(conf, k), storageDir+"/") {
			t.Errorf("%s = %q is not on the storage volume", k, Str(conf, k))
		}
	}
	tf, err1 := time.ParseDuration(Str(conf, "exporters::prometheus_remote_write::wal::truncate_frequency"))
	fi, err2 := time.ParseDuration(Str(conf, "connectors::detection_metrics::flush_interval"))
	if err1 != nil || err2 != nil || tf > fi {
		t.Errorf("gateway WAL truncate_frequency %v must not exceed flush_interval %v", tf, fi)
	}
	for _, exp := range []string{"otlp_http/logs", "otlp_http/detections"} {
		if Str(conf, "exporters::"+exp+"::sending_queue::storage") != "file_storage" {
			t.Errorf("gateway %s has no persistent queue", exp)
		}
	}
	// An agent request must fit the gateway's gRPC limit (default 4 MiB, a refused batch is
	// dropped by the agent as a permanent error): count 128 KiB per Tetragon event.
	agentConf := collectorConfig(t, objs, &ds.Spec.Template.Spec)
	maxBatch, _ := agentConf.Get("processors::batch::send_batch_max_size").(int)
	maxMiB, _ := conf.Get("receivers::otlp::protocols::grpc::max_recv_msg_size_mib").(int)
	if maxBatch == 0 || maxBatch*128 > maxMiB*1024 {
		t.Errorf("agent batches up to %d events (send_batch_max_size) but the gateway accepts %d MiB per request", maxBatch, maxMiB)
	}
	// The OTLP receiver listens where the Service and the NetworkPolicy point.
	otlpPort := strconv.Itoa(int(portOf(t, Str(conf, "receivers::otlp::protocols::grpc::endpoint"))))
	var containerPort string
	for _, p := range c.Ports {
		if p.Name == "otlp-grpc" {
			containerPort = strconv.Itoa(int(p.ContainerPort))
		}
	}
	if otlpPort != containerPort {
		t.Errorf("OTLP receiver on %s, container port otlp-grpc is %s", otlpPort, containerPort)
	}
	for _, r := range Strings(conf, "processors::detection::rules_files") {
		data, err := MountedFile(objs, ps, c, r)
		if err != nil {
			t.Fatal(err)
		}
		local := filepath.Join(t.TempDir(), filepath.Base(r))
		if _, err := (PodLayout{Mounts: map[string]string{filepath.Dir(r): filepath.Dir(local)}}).WriteFiles([]ConfigFile{{Path: r, Data: data}}); err != nil {
			t.Fatal(err)
		}
		cfg := detectionprocessor.NewFactory().CreateDefaultConfig().(*detectionprocessor.Config)
		cfg.RulesFiles = []string{local}
		if err := cfg.Validate(); err != nil {
			t.Errorf("gateway rules %s: %v", r, err)
		}
	}

	podLabels := labels.Set(gw.Spec.Template.Labels)
	agentLabels := labels.Set(ds.Spec.Template.Labels)
	var svcOK, pdbOK, npOK bool
	for _, o := range Find(objs, "Service") {
		svc := o.Typed.(*corev1.Service)
		if o.Name != gatewayName {
			continue
		}
		svcOK = labels.SelectorFromSet(svc.Spec.Selector).Matches(podLabels) && !labels.SelectorFromSet(svc.Spec.Selector).Matches(agentLabels)
		for _, p := range svc.Spec.Ports {
			if p.Name == "otlp-grpc" && p.TargetPort.StrVal != "otlp-grpc" {
				t.Errorf("gateway Service otlp-grpc targets %s", p.TargetPort.String())
			}
		}
	}
	for _, o := range Find(objs, "PodDisruptionBudget") {
		pdb := o.Typed.(*policyv1.PodDisruptionBudget)
		pdbOK = pdb.Spec.Selector != nil && labels.SelectorFromSet(pdb.Spec.Selector.MatchLabels).Matches(podLabels) &&
			pdb.Spec.MinAvailable != nil && pdb.Spec.MinAvailable.IntVal >= 1
	}
	for _, o := range Find(objs, "NetworkPolicy") {
		np := o.Typed.(*networkingv1.NetworkPolicy)
		if !labels.SelectorFromSet(np.Spec.PodSelector.MatchLabels).Matches(podLabels) {
			continue
		}
		for _, rule := range np.Spec.Ingress {
			for _, p := range rule.Ports {
				if p.Port == nil || p.Port.StrVal != "otlp-grpc" {
					continue
				}
				if len(rule.From) == 0 {
					t.Error("the NetworkPolicy lets anyone send to the gateway's OTLP port")
				}
				for _, from := range rule.From {
					npOK = npOK || (from.PodSelector != nil && labels.SelectorFromSet(from.PodSelector.MatchLabels).Matches(agentLabels))
				}
			}
		}
	}
	if !svcOK || !pdbOK || !npOK {
		t.Errorf("Service selects only the gateway: %v; PDB covers it: %v; NetworkPolicy admits the agents on otlp-grpc: %v", svcOK, pdbOK, npOK)
	}
}
