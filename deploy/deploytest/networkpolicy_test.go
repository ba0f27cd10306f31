// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package deploytest

import (
	"fmt"
	"maps"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"go.opentelemetry.io/collector/confmap"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// namespaceNameLabel is the label Kubernetes (1.21+) puts on every namespace with its name.
const namespaceNameLabel = "kubernetes.io/metadata.name"

// dnsPort is cluster DNS, which every collector pod needs to resolve the Service names.
const dnsPort = 53

// TestNetworkPolicies: every collector pod (the DaemonSet, and the gateway Deployment in the
// gateway tier) is selected by exactly one NetworkPolicy, by the same labels as its workload,
// that denies by default in both directions; ingress admits only the ports the configuration
// serves to its clients (self-metrics, detection metrics, the gateway's OTLP) from those clients
// (the monitoring namespace; the agents); egress allows exactly the endpoints the configuration
// sends to, by namespace (or pod, in the same namespace) and port, and DNS.
func TestNetworkPolicies(t *testing.T) {
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			objs := render(t, v)
			ds, err := DaemonSet(objs)
			if err != nil {
				t.Fatal(err)
			}
			pods := map[string]*corev1.PodTemplateSpec{"DaemonSet": &ds.Spec.Template}
			if v.gateway {
				gw, err := Deployment(objs, gatewayName)
				if err != nil {
					t.Fatal(err)
				}
				pods["gateway"] = &gw.Spec.Template
			}
			for what, tmpl := range pods {
				t.Run(what, func(t *testing.T) {
					np := policyFor(t, objs, tmpl.Labels)
					if np == nil {
						return
					}
					for other, o := range pods {
						if other != what && labels.SelectorFromSet(np.Spec.PodSelector.MatchLabels).Matches(labels.Set(o.Labels)) {
							t.Errorf("NetworkPolicy %s also selects the %s pods", np.Name, other)
						}
					}
					c := &tmpl.Spec.Containers[0]
					conf := collectorConfig(t, objs, &tmpl.Spec)
					env := podEnv(t, objs, c)
					checkIngress(t, np, c, conf, env, v, what == "gateway", ds.Spec.Template.Labels)
					local := map[string]labels.Set{}
					if v.gateway {
						local[gatewayName] = labels.Set(pods["gateway"].Labels)
					}
					var endpoints []string
					for _, ep := range clientEndpoints(t, conf, env) {
						endpoints = append(endpoints, ep)
					}
					checkEgress(t, np.Spec.Egress, endpoints, local, namespace)
				})
			}
		})
	}
}

// policyFor returns the one NetworkPolicy selecting pods labelled podLabels, checking that its
// selector is not empty and that it governs both directions.
func policyFor(t *testing.T, objs []Object, podLabels map[string]string) *networkingv1.NetworkPolicy {
	t.Helper()
	var found []*networkingv1.NetworkPolicy
	for _, o := range Find(objs, "NetworkPolicy") {
		np := o.Typed.(*networkingv1.NetworkPolicy)
		if labels.SelectorFromSet(np.Spec.PodSelector.MatchLabels).Matches(labels.Set(podLabels)) {
			found = append(found, np)
		}
	}
	if len(found) != 1 {
		t.Errorf("%d NetworkPolicies select the pods labelled %v, want 1", len(found), podLabels)
		return nil
	}
	np := found[0]
	if len(np.Spec.PodSelector.MatchLabels) == 0 || len(np.Spec.PodSelector.MatchExpressions) > 0 {
		t.Errorf("NetworkPolicy %s: select the collector pods by their workload's matchLabels, got %+v", np.Name, np.Spec.PodSelector)
	}
	if !slices.Contains(np.Spec.PolicyTypes, networkingv1.PolicyTypeIngress) || !slices.Contains(np.Spec.PolicyTypes, networkingv1.PolicyTypeEgress) {
		t.Errorf("NetworkPolicy %s policyTypes %v: want [Ingress Egress], so that both directions are denied by default", np.Name, np.Spec.PolicyTypes)
	}
	return np
}

// checkIngress: the ports admitted are those the configuration serves to clients (never the
// health port: the kubelet's probes need no rule), each from its clients only.
func checkIngress(t reporter, np *networkingv1.NetworkPolicy, c *corev1.Container, conf *confmap.Conf, env map[string]string, v variant, gateway bool, agentLabels map[string]string) {
	t.Helper()
	ports := map[string]int32{}
	for _, p := range c.Ports {
		ports[p.Name] = p.ContainerPort
	}
	// What each admissible port must be, from the configuration, and who may connect.
	telemetry, _ := conf.Get("service::telemetry::metrics::readers").([]any)
	var metricsPort string
	if len(telemetry) == 1 {
		metricsPort = ExpandEnv(fmt.Sprint(dig(telemetry[0], "pull", "exporter", "prometheus", "port")), env)
	}
	type admitted struct {
		configPort string
		fromAgents bool // else: from the monitoring namespace
	}
	want := map[string]admitted{"metrics": {configPort: metricsPort}}
	if v.scrape && !gateway {
		want["detections"] = admitted{configPort: portString(t, ExpandEnv(Str(conf, "exporters::prometheus::endpoint"), env))}
	}
	if gateway {
		want["otlp-grpc"] = admitted{configPort: portString(t, ExpandEnv(Str(conf, "receivers::otlp::protocols::grpc::endpoint"), env)), fromAgents: true}
	}
	seen := map[string]bool{}
	for i, rule := range np.Spec.Ingress {
		if len(rule.From) == 0 {
			t.Errorf("%s ingress rule %d admits every source", np.Name, i)
		}
		if len(rule.Ports) == 0 {
			t.Errorf("%s ingress rule %d admits every port", np.Name, i)
		}
		for _, p := range rule.Ports {
			if p.Port == nil || p.Port.StrVal == "" {
				t.Errorf("%s ingress rule %d: port %v: name the container port (metrics, detections, otlp-grpc), so that it follows the pod", np.Name, i, p.Port)
				continue
			}
			name := p.Port.StrVal
			w, ok := want[name]
			if !ok {
				t.Errorf("%s ingress rule %d admits port %s; admissible: %v (the health port needs no rule: the kubelet probes it)", np.Name, i, name, slices.Sorted(maps.Keys(want)))
				continue
			}
			if p.Protocol != nil && *p.Protocol != corev1.ProtocolTCP {
				t.Errorf("%s ingress port %s protocol %s, want TCP", np.Name, name, *p.Protocol)
			}
			if cp, ok := ports[name]; !ok || strconv.Itoa(int(cp)) != w.configPort {
				t.Errorf("%s admits port %s (container port %d) but the configuration listens on %s", np.Name, name, cp, w.configPort)
			}
			seen[name] = true
			for _, f := range rule.From {
				switch {
				case f.IPBlock != nil:
					t.Errorf("%s ingress rule %d admits ipBlock %s", np.Name, i, f.IPBlock.CIDR)
				case w.fromAgents:
					if f.NamespaceSelector != nil || f.PodSelector == nil || len(f.PodSelector.MatchLabels) == 0 ||
						!labels.SelectorFromSet(f.PodSelector.MatchLabels).Matches(labels.Set(agentLabels)) {
						t.Errorf("%s admits %+v on %s: want the agent pods (podSelector of the DaemonSet's labels) only", np.Name, f, name)
					}
				default:
					if f.NamespaceSelector == nil || f.NamespaceSelector.MatchLabels[namespaceNameLabel] != "monitoring" {
						t.Errorf("%s admits %+v on %s: want the monitoring namespace (%s=monitoring)", np.Name, f, name, namespaceNameLabel)
					}
				}
			}
		}
	}
	for name := range want {
		if !seen[name] {
			t.Errorf("%s does not admit port %s: its clients could not connect", np.Name, name)
		}
	}
}

// clientEndpoints returns, for every exporter a pipeline uses that connects somewhere, its
// endpoint with the environment expanded (exporter id → URL or host:port).
func clientEndpoints(t testing.TB, conf *confmap.Conf, env map[string]string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, p := range Keys(conf, "service::pipelines") {
		for _, id := range Strings(conf, "service::pipelines::"+p+"::exporters") {
			typ, _, _ := strings.Cut(id, "/")
			switch typ {
			case "prometheus", "debug", "file":
				continue // serves or writes locally
			}
			if conf.IsSet("connectors::" + id) {
				continue
			}
			ep := Str(conf, "exporters::"+id+"::logs_endpoint")
			if ep == "" {
				ep = Str(conf, "exporters::"+id+"::endpoint")
			}
			if ep == "" {
				t.Errorf("exporter %s has no endpoint", id)
				continue
			}
			out[id] = ExpandEnv(ep, env)
		}
	}
	return out
}

// destination is where an endpoint connects: a Service in a namespace, on a port.
type destination struct {
	endpoint, service, namespace string
	port                         int32
}

func parseDestination(endpoint, defaultNamespace string) (destination, error) {
	hostport := endpoint
	defaultPort := ""
	if strings.Contains(endpoint, "://") {
		u, err := url.Parse(endpoint)
		if err != nil {
			return destination{}, err
		}
		hostport = u.Host
		defaultPort = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	host, port, err := net.SplitHostPort(hostport)
	if err != nil {
		host, port = hostport, defaultPort
	}
	n, err := strconv.Atoi(port)
	if err != nil {
		return destination{}, fmt.Errorf("endpoint %q has no port", endpoint)
	}
	labels := strings.Split(host, ".")
	d := destination{endpoint: endpoint, service: labels[0], namespace: defaultNamespace, port: int32(n)}
	if len(labels) > 1 {
		d.namespace = labels[1]
	}
	return d, nil
}

// checkEgress: rules allow every endpoint (by namespace, or by pod labels for Services of the
// policy's own namespace listed in local) on its port, and DNS; nothing else: no rule is open
// to everyone or every port, and every allowed port is one an endpoint or DNS uses.
func checkEgress(t reporter, rules []networkingv1.NetworkPolicyEgressRule, endpoints []string, local map[string]labels.Set, policyNamespace string) {
	t.Helper()
	if len(rules) == 0 {
		t.Errorf("no egress rule: the collector could not reach its backends (or egress is not restricted)")
		return
	}
	used := map[[2]int]bool{} // (rule, port index) that some destination needs
	allows := func(d destination, proto corev1.Protocol) bool {
		ok := false
		for i, r := range rules {
			peerOK := false
			for _, to := range r.To {
				switch {
				case to.IPBlock != nil:
				case d.namespace == policyNamespace && local[d.service] != nil:
					peerOK = peerOK || (to.NamespaceSelector == nil && to.PodSelector != nil && len(to.PodSelector.MatchLabels) > 0 &&
						labels.SelectorFromSet(to.PodSelector.MatchLabels).Matches(local[d.service]))
				default:
					peerOK = peerOK || (to.NamespaceSelector != nil && to.NamespaceSelector.MatchLabels[namespaceNameLabel] == d.namespace)
				}
			}
			if !peerOK {
				continue
			}
			for j, p := range r.Ports {
				pp := corev1.ProtocolTCP
				if p.Protocol != nil {
					pp = *p.Protocol
				}
				if p.Port != nil && p.Port.IntVal == d.port && pp == proto {
					used[[2]int{i, j}] = true
					ok = true
				}
			}
		}
		return ok
	}
	for _, ep := range endpoints {
		d, err := parseDestination(ep, policyNamespace)
		if err != nil {
			t.Errorf("%v", err)
			continue
		}
		if !allows(d, corev1.ProtocolTCP) {
			t.Errorf("no egress rule allows %s (namespace %s, port %d)", ep, d.namespace, d.port)
		}
	}
	// Cluster DNS: a rule to the kube-dns pods of kube-system, UDP and TCP 53.
	for _, proto := range []corev1.Protocol{corev1.ProtocolUDP, corev1.ProtocolTCP} {
		dnsOK := false
		for i, r := range rules {
			for _, to := range r.To {
				if to.NamespaceSelector == nil || to.NamespaceSelector.MatchLabels[namespaceNameLabel] != "kube-system" ||
					to.PodSelector == nil || to.PodSelector.MatchLabels["k8s-app"] != "kube-dns" {
					continue
				}
				for j, p := range r.Ports {
					if p.Port != nil && p.Port.IntVal == dnsPort && p.Protocol != nil && *p.Protocol == proto {
						used[[2]int{i, j}] = true
						dnsOK = true
					}
				}
			}
		}
		if !dnsOK {
			t.Errorf("no egress rule allows DNS (%s %d) to the kube-dns pods of kube-system", proto, dnsPort)
		}
	}
	for i, r := range rules {
		if len(r.To) == 0 {
			t.Errorf("egress rule %d allows every destination", i)
		}
		if len(r.Ports) == 0 {
			t.Errorf("egress rule %d allows every port", i)
		}
		for _, to := range r.To {
			if to.IPBlock != nil {
				t.Errorf("egress rule %d allows ipBlock %s", i, to.IPBlock.CIDR)
			}
		}
		for j, p := range r.Ports {
			if p.Port == nil || p.Port.StrVal != "" {
				t.Errorf("egress rule %d port %v: use the destination's port number", i, p.Port)
				continue
			}
			if !used[[2]int{i, j}] {
				t.Errorf("egress rule %d allows port %d, which no endpoint of the configuration (%v) or DNS uses: remove it", i, p.Port.IntVal, endpoints)
			}
		}
	}
}

func portString(t reporter, endpoint string) string {
	t.Helper()
	_, p, err := net.SplitHostPort(endpoint)
	if err != nil {
		t.Errorf("endpoint %q: %v", endpoint, err)
	}
	return p
}

// reporter is what the policy checks report to: a *testing.T, or a recorder in the tests of
// the checks themselves.
type reporter interface {
	Helper()
	Errorf(format string, args ...any)
}

// recorder collects what a check reports.
type recorder struct{ msgs []string }

func (r *recorder) Helper() {}
func (r *recorder) Errorf(format string, args ...any) {
	r.msgs = append(r.msgs, fmt.Sprintf(format, args...))
}

// TestEgressCheckRejects feeds checkEgress policies that are wrong in each way it looks for, so
// that TestNetworkPolicies is not vacuous.
func TestEgressCheckRejects(t *testing.T) {
	tcp, udp := corev1.ProtocolTCP, corev1.ProtocolUDP
	port := func(n int32, p corev1.Protocol) networkingv1.NetworkPolicyPort {
		v := intstr.FromInt32(n)
		return networkingv1.NetworkPolicyPort{Port: &v, Protocol: &p}
	}
	ns := func(name string) networkingv1.NetworkPolicyPeer {
		return networkingv1.NetworkPolicyPeer{NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{namespaceNameLabel: name}}}
	}
	dns := networkingv1.NetworkPolicyEgressRule{
		To: []networkingv1.NetworkPolicyPeer{{
			NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{namespaceNameLabel: "kube-system"}},
			PodSelector:       &metav1.LabelSelector{MatchLabels: map[string]string{"k8s-app": "kube-dns"}},
		}},
		Ports: []networkingv1.NetworkPolicyPort{port(53, udp), port(53, tcp)},
	}
	endpoints := []string{"https://loki.monitoring:3100/otlp/v1/logs", "otelcol-runtime-security-gateway.runtime-security.svc:4317"}
	local := map[string]labels.Set{gatewayName: {"app.kubernetes.io/component": "gateway"}}
	loki := networkingv1.NetworkPolicyEgressRule{To: []networkingv1.NetworkPolicyPeer{ns("monitoring")}, Ports: []networkingv1.NetworkPolicyPort{port(3100, tcp)}}
	gw := networkingv1.NetworkPolicyEgressRule{
		To:    []networkingv1.NetworkPolicyPeer{{PodSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"app.kubernetes.io/component": "gateway"}}}},
		Ports: []networkingv1.NetworkPolicyPort{port(4317, tcp)},
	}
	var r recorder
	checkEgress(&r, []networkingv1.NetworkPolicyEgressRule{loki, gw, dns}, endpoints, local, namespace)
	if len(r.msgs) > 0 {
		t.Fatalf("a correct policy was rejected: %v", r.msgs)
	}
	agentPods := networkingv1.NetworkPolicyEgressRule{
		To:    []networkingv1.NetworkPolicyPeer{{PodSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"app.kubernetes.io/component": "agent"}}}},
		Ports: []networkingv1.NetworkPolicyPort{port(4317, tcp)},
	}
	for name, rules := range map[string][]networkingv1.NetworkPolicyEgressRule{
		"wrong namespace":   {{To: []networkingv1.NetworkPolicyPeer{ns("loki")}, Ports: []networkingv1.NetworkPolicyPort{port(3100, tcp)}}, gw, dns},
		"wrong port":        {{To: []networkingv1.NetworkPolicyPeer{ns("monitoring")}, Ports: []networkingv1.NetworkPolicyPort{port(3101, tcp)}}, gw, dns},
		"unused port":       {{To: []networkingv1.NetworkPolicyPeer{ns("monitoring")}, Ports: []networkingv1.NetworkPolicyPort{port(3100, tcp), port(22, tcp)}}, gw, dns},
		"any port":          {{To: []networkingv1.NetworkPolicyPeer{ns("monitoring")}}, loki, gw, dns},
		"anywhere":          {{Ports: []networkingv1.NetworkPolicyPort{port(3100, tcp)}}, loki, gw, dns},
		"wrong pods":        {loki, agentPods, dns},
		"no DNS":            {loki, gw},
		"DNS over TCP only": {loki, gw, {To: dns.To, Ports: []networkingv1.NetworkPolicyPort{port(53, tcp)}}},
	} {
		var r recorder
		checkEgress(&r, rules, endpoints, local, namespace)
		if len(r.msgs) == 0 {
			t.Errorf("%s: accepted", name)
		}
	}
}

// TestIngressCheckRejects breaks the base NetworkPolicy's ingress in each way checkIngress looks
// for, so that TestNetworkPolicies is not vacuous.
func TestIngressCheckRejects(t *testing.T) {
	v := variants[0]
	objs := render(t, v)
	ds, err := DaemonSet(objs)
	if err != nil {
		t.Fatal(err)
	}
	c := &ds.Spec.Template.Spec.Containers[0]
	conf := collectorConfig(t, objs, &ds.Spec.Template.Spec)
	env := podEnv(t, objs, c)
	var base *networkingv1.NetworkPolicy
	for _, o := range Find(objs, "NetworkPolicy") {
		base = o.Typed.(*networkingv1.NetworkPolicy)
	}
	var r recorder
	checkIngress(&r, base, c, conf, env, v, false, ds.Spec.Template.Labels)
	if len(r.msgs) > 0 {
		t.Fatalf("the shipped policy was rejected: %v", r.msgs)
	}
	health, anyPort := intstr.FromString("health"), intstr.FromInt32(8888)
	for name, mutate := range map[string]func(np *networkingv1.NetworkPolicy){
		"health port":   func(np *networkingv1.NetworkPolicy) { np.Spec.Ingress[0].Ports[0].Port = &health },
		"numeric port":  func(np *networkingv1.NetworkPolicy) { np.Spec.Ingress[0].Ports[0].Port = &anyPort },
		"from anywhere": func(np *networkingv1.NetworkPolicy) { np.Spec.Ingress[0].From = nil },
		"other namespace": func(np *networkingv1.NetworkPolicy) {
			np.Spec.Ingress[0].From[0].NamespaceSelector.MatchLabels[namespaceNameLabel] = "default"
		},
		"metrics not open": func(np *networkingv1.NetworkPolicy) { np.Spec.Ingress = nil },
	} {
		np := base.DeepCopy()
		mutate(np)
		var r recorder
		checkIngress(&r, np, c, conf, env, v, false, ds.Spec.Template.Labels)
		if len(r.msgs) == 0 {
			t.Errorf("%s: accepted", name)
		}
	}
}
