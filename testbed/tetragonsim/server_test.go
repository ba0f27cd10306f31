// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package tetragonsim

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cilium/tetragon/api/v1/tetragon"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

func TestClientReceivesExactlyCount(t *testing.T) {
	const count = 1500
	_, addr, done := startSim(t, Config{Generate: true, Seed: 7, Count: count, WaitClient: true})
	path, _ := UnixPath(addr)
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode()&os.ModeSocket == 0 || fi.Mode().Perm() != 0o660 {
		t.Errorf("socket mode = %v, want a socket with 0660", fi.Mode())
	}
	events, err := receiveAll(t, dial(t, addr), &tetragon.GetEventsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != count {
		t.Fatalf("received %d events, want %d", len(events), count)
	}
	st := <-done
	if st.Sent != count || !st.Drained {
		t.Errorf("stats = %+v, want sent %d and drained", st, count)
	}
	var byType uint64
	for _, n := range st.ByType {
		byType += n
	}
	if byType != count {
		t.Errorf("by_type sums to %d, want %d", byType, count)
	}
	if len(st.Clients) != 1 || st.Clients[0].Delivered != count {
		t.Errorf("clients = %+v, want one client with %d delivered", st.Clients, count)
	}
}

func TestBroadcastToSeveralClients(t *testing.T) {
	const count = 800
	_, addr, done := startSim(t, Config{Generate: true, Count: count, WaitClient: true, MinClients: 2})
	c := dial(t, addr)
	var wg sync.WaitGroup
	results := make([][]*tetragon.GetEventsResponse, 2)
	reqs := []*tetragon.GetEventsRequest{
		{},
		{AllowList: []*tetragon.Filter{{EventSet: []tetragon.EventType{tetragon.EventType_PROCESS_EXEC}}}},
	}
	for i := range reqs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			evs, err := receiveAll(t, c, reqs[i])
			if err != nil {
				t.Error(err)
			}
			results[i] = evs
		}()
	}
	wg.Wait()
	st := <-done
	if len(results[0]) != count {
		t.Errorf("unfiltered client got %d, want %d", len(results[0]), count)
	}
	execs := 0
	for _, ev := range results[0] {
		if ev.GetProcessExec() != nil {
			execs++
		}
	}
	if execs == 0 || len(results[1]) != execs || uint64(execs) != st.ByType["process_exec"] {
		t.Errorf("exec client got %d, unfiltered stream had %d execs, stats %d", len(results[1]), execs, st.ByType["process_exec"])
	}
	for i := range results[1] {
		if results[1][i].GetProcessExec() == nil {
			t.Fatalf("exec-only client got %v", results[1][i])
		}
	}
}

// expectedCount counts real events (parsed with encoding/json, not the code under test) that keep says pass.
func expectedCount(t *testing.T, keep func(ev map[string]any) bool) int {
	n := 0
	for _, f := range realFiles(t) {
		for _, ev := range jsonLines(t, f) {
			if keep(ev) {
				n++
			}
		}
	}
	return n
}

func jsonType(ev map[string]any) string {
	for k := range ev {
		if strings.HasPrefix(k, "process_") || k == "rate_limit_info" || k == "test" {
			return k
		}
	}
	return ""
}

func jsonProcess(ev map[string]any) map[string]any {
	inner, _ := ev[jsonType(ev)].(map[string]any)
	p, _ := inner["process"].(map[string]any)
	return p
}

func jsonNamespace(ev map[string]any) (string, bool) {
	p := jsonProcess(ev)
	if p == nil {
		return "", false
	}
	pod, _ := p["pod"].(map[string]any)
	ns, _ := pod["namespace"].(string)
	return ns, true
}

func TestFilters(t *testing.T) {
	binRe := regexp.MustCompile(`^/usr/bin/(cat|curl)$`)
	cases := []struct {
		name string
		req  *tetragon.GetEventsRequest
		keep func(map[string]any) bool
	}{
		{"none", &tetragon.GetEventsRequest{}, func(map[string]any) bool { return true }},
		{"event_set kprobe", &tetragon.GetEventsRequest{AllowList: []*tetragon.Filter{{EventSet: []tetragon.EventType{tetragon.EventType_PROCESS_KPROBE}}}},
			func(ev map[string]any) bool { return jsonType(ev) == "process_kprobe" }},
		{"namespace default", &tetragon.GetEventsRequest{AllowList: []*tetragon.Filter{{Namespace: []string{"default"}}}},
			func(ev map[string]any) bool { ns, ok := jsonNamespace(ev); return ok && ns == "default" }},
		{"namespace host (empty)", &tetragon.GetEventsRequest{AllowList: []*tetragon.Filter{{Namespace: []string{""}}}},
			func(ev map[string]any) bool { ns, ok := jsonNamespace(ev); return ok && ns == "" }},
		{"binary_regex", &tetragon.GetEventsRequest{AllowList: []*tetragon.Filter{{BinaryRegex: []string{`^/usr/bin/(cat|curl)$`}}}},
			func(ev map[string]any) bool {
				p := jsonProcess(ev)
				b, _ := p["binary"].(string)
				return p != nil && binRe.MatchString(b)
			}},
		{"fields AND within a filter", &tetragon.GetEventsRequest{AllowList: []*tetragon.Filter{{
			EventSet: []tetragon.EventType{tetragon.EventType_PROCESS_EXEC}, Namespace: []string{"tenant-jobs"}}}},
			func(ev map[string]any) bool {
				ns, _ := jsonNamespace(ev)
				return jsonType(ev) == "process_exec" && ns == "tenant-jobs"
			}},
		{"filters OR in allow_list", &tetragon.GetEventsRequest{AllowList: []*tetragon.Filter{
			{EventSet: []tetragon.EventType{tetragon.EventType_PROCESS_THROTTLE}}, {Namespace: []string{"tenant-jobs"}}}},
			func(ev map[string]any) bool {
				ns, _ := jsonNamespace(ev)
				return jsonType(ev) == "process_throttle" || ns == "tenant-jobs"
			}},
		{"deny_list", &tetragon.GetEventsRequest{DenyList: []*tetragon.Filter{{EventSet: []tetragon.EventType{tetragon.EventType_PROCESS_EXIT}}}},
			func(ev map[string]any) bool { return jsonType(ev) != "process_exit" }},
		{"allow minus deny", &tetragon.GetEventsRequest{
			AllowList: []*tetragon.Filter{{EventSet: []tetragon.EventType{tetragon.EventType_PROCESS_EXEC, tetragon.EventType_PROCESS_KPROBE}}},
			DenyList:  []*tetragon.Filter{{Namespace: []string{"default"}}}},
			func(ev map[string]any) bool {
				ty := jsonType(ev)
				ns, ok := jsonNamespace(ev)
				return (ty == "process_exec" || ty == "process_kprobe") && !(ok && ns == "default")
			}},
	}
	// Replay once per case: each case needs its own complete stream.
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			want := expectedCount(t, tc.keep)
			_, addr, _ := startSim(t, Config{ReplayFiles: realFiles(t), WaitClient: true})
			got, err := receiveAll(t, dial(t, addr), tc.req)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != want {
				t.Errorf("got %d events, want %d", len(got), want)
			}
			if tc.name != "none" && (want == 0 || want == 56) {
				t.Errorf("case does not discriminate: %d of 56 events pass", want)
			}
		})
	}
}

func TestFilterErrors(t *testing.T) {
	_, addr, _ := startSim(t, Config{Generate: true, WaitClient: true, Count: 10})
	c := dial(t, addr)
	for _, tc := range []struct {
		req  *tetragon.GetEventsRequest
		code codes.Code
	}{
		{&tetragon.GetEventsRequest{AllowList: []*tetragon.Filter{{BinaryRegex: []string{"(unclosed"}}}}, codes.InvalidArgument},
		{&tetragon.GetEventsRequest{AllowList: []*tetragon.Filter{{BinaryRegex: []string{`(?=lookahead)`}}}}, codes.InvalidArgument},
		{&tetragon.GetEventsRequest{DenyList: []*tetragon.Filter{{Labels: []string{"app=x"}}}}, codes.Unimplemented},
		{&tetragon.GetEventsRequest{FieldFilters: []*tetragon.FieldFilter{{Fields: &fieldmaskpb.FieldMask{Paths: []string{"process.no_such_field"}}}}}, codes.InvalidArgument},
	} {
		_, err := receiveAll(t, c, tc.req)
		if status.Code(err) != tc.code {
			t.Errorf("%v: err = %v, want code %v", tc.req, err, tc.code)
		}
	}
}

func TestFieldFilters(t *testing.T) {
	_, addr, _ := startSim(t, Config{ReplayFiles: realFiles(t), WaitClient: true})
	got, err := receiveAll(t, dial(t, addr), &tetragon.GetEventsRequest{
		AllowList: []*tetragon.Filter{{EventSet: []tetragon.EventType{tetragon.EventType_PROCESS_EXEC, tetragon.EventType_PROCESS_KPROBE}}},
		FieldFilters: []*tetragon.FieldFilter{
			{EventSet: []tetragon.EventType{tetragon.EventType_PROCESS_EXEC}, Action: tetragon.FieldFilterAction_INCLUDE,
				Fields: &fieldmaskpb.FieldMask{Paths: []string{"process.binary", "process.pod.namespace", "parent"}}},
			{Action: tetragon.FieldFilterAction_EXCLUDE, Fields: &fieldmaskpb.FieldMask{Paths: []string{"parent.arguments"}}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 25+18 {
		t.Fatalf("got %d events, want 43", len(got))
	}
	for _, ev := range got {
		if e := ev.GetProcessExec(); e != nil {
			p := e.GetProcess()
			if p.GetBinary() == "" || p.GetExecId() != "" || p.GetPid() != nil || len(e.GetAncestors()) > 0 {
				t.Fatalf("exec not reduced to the included fields: %v", e)
			}
			if p.GetPod() != nil && (p.GetPod().GetName() != "" || p.GetPod().GetNamespace() == "") {
				t.Fatalf("pod not reduced to its namespace: %v", p.GetPod())
			}
			if e.GetParent() == nil || e.GetParent().GetArguments() != "" {
				t.Fatalf("parent must be kept without arguments: %v", e.GetParent())
			}
		}
		if k := ev.GetProcessKprobe(); k != nil {
			if k.GetProcess().GetExecId() == "" || k.GetFunctionName() == "" {
				t.Fatalf("kprobe lost fields the include filter does not apply to: %v", k)
			}
			if k.GetParent() != nil && k.GetParent().GetArguments() != "" {
				t.Fatalf("exclude filter not applied to kprobe: %v", k.GetParent())
			}
		}
	}
}

func TestUnaryRPCs(t *testing.T) {
	_, addr, _ := startSim(t, Config{Generate: true, WaitClient: true})
	c := dial(t, addr)
	ctx := context.Background()
	h, err := c.GetHealth(ctx, &tetragon.GetHealthStatusRequest{})
	if err != nil || len(h.GetHealthStatus()) != 1 || h.GetHealthStatus()[0].GetStatus() != tetragon.HealthStatusResult_HEALTH_STATUS_RUNNING {
		t.Errorf("GetHealth = %v, %v", h, err)
	}
	v, err := c.GetVersion(ctx, &tetragon.GetVersionRequest{})
	if err != nil || v.GetVersion() != DefaultVersion {
		t.Errorf("GetVersion = %v, %v", v, err)
	}
	info, err := c.GetInfo(ctx, &tetragon.GetInfoRequest{})
	if err != nil || info.GetName() != "tetragon-sim" || info.GetBuild().GetGoVersion() == "" {
		t.Errorf("GetInfo = %v, %v", info, err)
	}
	pol, err := c.ListTracingPolicies(ctx, &tetragon.ListTracingPoliciesRequest{})
	if err != nil || len(pol.GetPolicies()) != len(PolicyNames()) {
		t.Errorf("ListTracingPolicies = %v, %v", pol, err)
	}
	if _, err := c.AddTracingPolicy(ctx, &tetragon.AddTracingPolicyRequest{Yaml: "kind: TracingPolicy"}); err != nil {
		t.Errorf("AddTracingPolicy: %v", err)
	}
	if _, err := c.ListSensors(ctx, &tetragon.ListSensorsRequest{}); err != nil {
		t.Errorf("ListSensors: %v", err)
	}
}

func TestWaitClientHoldsEventsBack(t *testing.T) {
	sim, addr, done := startSim(t, Config{Generate: true, Count: 300, WaitClient: true})
	time.Sleep(300 * time.Millisecond)
	if cl := sim.Server().Clients(); len(cl) != 0 {
		t.Fatalf("clients before connecting: %v", cl)
	}
	select {
	case st := <-done:
		t.Fatalf("run ended before any client connected: %+v", st)
	default:
	}
	got, err := receiveAll(t, dial(t, addr), &tetragon.GetEventsRequest{})
	if err != nil || len(got) != 300 {
		t.Fatalf("late client got %d events (%v), want all 300", len(got), err)
	}
}

func TestListenRemovesStaleSocketOnly(t *testing.T) {
	dir := shortTempDir(t)
	stale := filepath.Join(dir, "stale.sock")
	l, err := net.Listen("unix", stale)
	if err != nil {
		t.Fatal(err)
	}
	l.(*net.UnixListener).SetUnlinkOnClose(false)
	l.Close()
	if _, err := os.Stat(stale); err != nil {
		t.Fatalf("stale socket not left behind: %v", err)
	}
	l2, err := Listen("unix://" + stale)
	if err != nil {
		t.Fatalf("stale socket not replaced: %v", err)
	}
	defer l2.Close()
	if _, err := Listen("unix://" + stale); err == nil || !strings.Contains(err.Error(), "in use") {
		t.Errorf("live socket: err = %v, want in use", err)
	}
	regular := filepath.Join(dir, "file.sock")
	if err := os.WriteFile(regular, []byte("keep me"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Listen("unix://" + regular); err == nil {
		t.Error("a regular file at the socket path must not be removed")
	}
	if b, _ := os.ReadFile(regular); string(b) != "keep me" {
		t.Error("regular file was modified")
	}
	tcp, err := Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	tcp.Close()
	if _, err := Listen("not an address"); err == nil {
		t.Error("bad address accepted")
	}
}

func TestTCPListen(t *testing.T) {
	l, err := Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, _, _ = startSim(t, Config{Listener: l, Generate: true, Count: 50, WaitClient: true})
	got, err := receiveAll(t, dial(t, l.Addr().String()), &tetragon.GetEventsRequest{})
	if err != nil || len(got) != 50 {
		t.Fatalf("got %d (%v), want 50", len(got), err)
	}
}

func TestHealthCheckAndInitTreeFilters(t *testing.T) {
	const count = 2000
	_, addr, _ := startSim(t, Config{Generate: true, Count: count, WaitClient: true, MinClients: 3})
	c := dial(t, addr)
	reqs := []*tetragon.GetEventsRequest{
		{},
		{AllowList: []*tetragon.Filter{{HealthCheck: wrapperspb.Bool(false)}}},
		{AllowList: []*tetragon.Filter{{InInitTree: wrapperspb.Bool(false), EventSet: []tetragon.EventType{tetragon.EventType_PROCESS_EXEC}}}},
	}
	results := make([][]*tetragon.GetEventsResponse, len(reqs))
	var wg sync.WaitGroup
	for i := range reqs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var err error
			if results[i], err = receiveAll(t, c, reqs[i]); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	probes, notInit := 0, 0
	for _, ev := range results[0] {
		proc, parent, _, _ := eventParts(ev)
		if proc.GetPod().GetContainer().GetMaybeExecProbe() || parent.GetPod().GetContainer().GetMaybeExecProbe() {
			probes++
		}
		if e := ev.GetProcessExec(); e != nil && e.GetProcess().GetPod() != nil && !e.GetProcess().GetInInitTree().GetValue() {
			notInit++
		}
	}
	if len(results[0]) != count || probes == 0 || len(results[1]) != count-probes {
		t.Errorf("health_check=false: %d of %d events, %d probe events; want %d", len(results[1]), len(results[0]), probes, count-probes)
	}
	if notInit == 0 || len(results[2]) != notInit {
		t.Errorf("in_init_tree=false: got %d, want %d", len(results[2]), notInit)
	}
}

func TestCloseWithoutRun(t *testing.T) {
	sock := filepath.Join(shortTempDir(t), "tetragon.sock")
	sim, err := New(Config{Listen: "unix://" + sock, Generate: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(sock); err != nil {
		t.Fatalf("socket not created by New: %v", err)
	}
	if err := sim.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(sock); !os.IsNotExist(err) {
		t.Errorf("socket left after Close: %v", err)
	}
	if _, err := sim.Run(t.Context()); err == nil {
		t.Error("Run after Close accepted")
	}
}
