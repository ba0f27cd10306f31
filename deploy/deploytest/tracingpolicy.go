// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package deploytest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/yaml"
)

// PolicyValidator checks TracingPolicies in two layers:
//
//   - the OpenAPI v3 schema of Tetragon's TracingPolicy CRD (what the API server enforces), made
//     strict the way the API server's field validation is: an object schema with properties
//     admits no other field. Validated with santhosh-tekuri/jsonschema (Apache-2.0, no
//     dependencies), lighter than k8s.io/apiextensions-apiserver for a schema with no CEL rules,
//     no int-or-string and no preserve-unknown-fields.
//   - Lint: the constraints Tetragon's agent checks only when it loads a policy (selector and
//     value limits, argument indexes, operator/type pairs, list references), from
//     pkg/selectors and pkg/sensors/tracing of Tetragon v1.7.1.
type PolicyValidator struct {
	schema *jsonschema.Schema
}

// NewPolicyValidator compiles the TracingPolicy CRD at crdPath (version v1alpha1).
func NewPolicyValidator(crdPath string) (*PolicyValidator, error) {
	raw, err := os.ReadFile(crdPath)
	if err != nil {
		return nil, err
	}
	var crd struct {
		Spec struct {
			Names    struct{ Kind string }
			Versions []struct {
				Name   string
				Schema struct {
					OpenAPIV3Schema map[string]any `json:"openAPIV3Schema"`
				}
			}
		}
	}
	if err := yaml.Unmarshal(raw, &crd); err != nil {
		return nil, fmt.Errorf("%s: %w", crdPath, err)
	}
	if crd.Spec.Names.Kind != "TracingPolicy" {
		return nil, fmt.Errorf("%s is the CRD of %q, not TracingPolicy", crdPath, crd.Spec.Names.Kind)
	}
	var schema map[string]any
	for _, v := range crd.Spec.Versions {
		if v.Name == "v1alpha1" {
			schema = v.Schema.OpenAPIV3Schema
		}
	}
	if schema == nil {
		return nil, fmt.Errorf("%s has no v1alpha1 schema", crdPath)
	}
	strictify(schema)
	// Round-trip through JSON so that numbers have the types the compiler expects.
	js, err := json.Marshal(schema)
	if err != nil {
		return nil, err
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(js))
	if err != nil {
		return nil, err
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft4) // OpenAPI v3.0 schemas are a draft-4 dialect
	if err := c.AddResource("tracingpolicy.json", doc); err != nil {
		return nil, err
	}
	s, err := c.Compile("tracingpolicy.json")
	if err != nil {
		return nil, err
	}
	return &PolicyValidator{schema: s}, nil
}

// strictify sets additionalProperties: false on every object schema that lists properties
// and says nothing about others, as structural-schema pruning plus strict field validation
// do on the API server; the Kubernetes-only keywords are dropped.
func strictify(s map[string]any) {
	for k := range s {
		if strings.HasPrefix(k, "x-kubernetes-") {
			delete(s, k)
		}
	}
	if _, ok := s["properties"]; ok {
		if _, set := s["additionalProperties"]; !set {
			s["additionalProperties"] = false
		}
	}
	if props, ok := s["properties"].(map[string]any); ok {
		for _, p := range props {
			if m, ok := p.(map[string]any); ok {
				strictify(m)
			}
		}
	}
	for _, k := range []string{"items", "additionalProperties"} {
		if m, ok := s[k].(map[string]any); ok {
			strictify(m)
		}
	}
	for _, k := range []string{"allOf", "anyOf", "oneOf"} {
		if l, ok := s[k].([]any); ok {
			for _, e := range l {
				if m, ok := e.(map[string]any); ok {
					strictify(m)
				}
			}
		}
	}
}

// Policy is the part of a TracingPolicy the lint reads.
type Policy struct {
	APIVersion string            `json:"apiVersion"`
	Kind       string            `json:"kind"`
	Metadata   metav1.ObjectMeta `json:"metadata"`
	Spec       struct {
		Kprobes     []Hook `json:"kprobes"`
		Tracepoints []Hook `json:"tracepoints"`
		Lists       []struct {
			Name   string   `json:"name"`
			Type   string   `json:"type"`
			Values []string `json:"values"`
		} `json:"lists"`
	} `json:"spec"`
}

// Hook is a kprobe or a tracepoint.
type Hook struct {
	Call      string   `json:"call"`      // kprobes
	Syscall   *bool    `json:"syscall"`   // kprobes; the CRD default is true
	Subsystem string   `json:"subsystem"` // tracepoints
	Event     string   `json:"event"`     // tracepoints
	Message   string   `json:"message"`
	Tags      []string `json:"tags"`
	Ignore    *struct {
		CallNotFound bool `json:"callNotFound"`
	} `json:"ignore"` // kprobes
	Args      []policyArg `json:"args"`
	Selectors []struct {
		MatchArgs []struct {
			Index    uint32   `json:"index"`
			Operator string   `json:"operator"`
			Values   []string `json:"values"`
		} `json:"matchArgs"`
		MatchNamespaces []struct {
			Namespace string   `json:"namespace"`
			Operator  string   `json:"operator"`
			Values    []string `json:"values"`
		} `json:"matchNamespaces"`
	} `json:"selectors"`
}

type policyArg struct {
	Index uint32 `json:"index"`
	Type  string `json:"type"`
}

// Name is the hook's name as the tetragon receiver reports it in tetragon.hook: the function
// for kprobes (for syscalls without the architecture prefix), subsystem/event for tracepoints.
func (h Hook) Name() string {
	if h.Call != "" {
		return h.Call
	}
	return h.Subsystem + "/" + h.Event
}

// Validate checks one YAML document and returns the decoded policy and every problem found.
func (v *PolicyValidator) Validate(doc []byte) (*Policy, error) {
	js, err := yaml.YAMLToJSONStrict(doc)
	if err != nil {
		return nil, err
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(js))
	if err != nil {
		return nil, err
	}
	var errs []error
	if err := v.schema.Validate(inst); err != nil {
		errs = append(errs, fmt.Errorf("CRD schema: %w", err))
	}
	var p Policy
	dec := json.NewDecoder(bytes.NewReader(js))
	if err := dec.Decode(&p); err != nil {
		return nil, errors.Join(append(errs, err)...)
	}
	// The CRD leaves metadata to the API server; decode it strictly as ObjectMeta.
	var meta struct {
		Metadata json.RawMessage `json:"metadata"`
	}
	_ = json.Unmarshal(js, &meta)
	md := json.NewDecoder(bytes.NewReader(meta.Metadata))
	md.DisallowUnknownFields()
	if err := md.Decode(&metav1.ObjectMeta{}); err != nil {
		errs = append(errs, fmt.Errorf("metadata: %w", err))
	}
	if p.APIVersion != "cilium.io/v1alpha1" || p.Kind != "TracingPolicy" {
		errs = append(errs, fmt.Errorf("apiVersion/kind %s/%s, want cilium.io/v1alpha1/TracingPolicy", p.APIVersion, p.Kind))
	}
	for _, msg := range validation.IsDNS1123Subdomain(p.Metadata.Name) {
		errs = append(errs, fmt.Errorf("metadata.name %q: %s", p.Metadata.Name, msg))
	}
	errs = append(errs, lint(&p)...)
	return &p, errors.Join(errs...)
}

// Limits of Tetragon v1.7.1's policy loader.
const (
	maxSelectors        = 5   // pkg/selectors: MaxSelectors
	maxMatchArgs        = 5   // pkg/selectors ParseMatchArgs, kernels with large programs (>= 5.3)
	maxNumericValues    = 4   // pkg/selectors writeMatchValues: MAX_MATCH_VALUES
	maxPrefixLen        = 256 // pkg/selectors: StringPrefixMaxLength
	maxPostfixLen       = 127 // pkg/selectors: StringPostfixMaxLength - 1
	maxMessageLen       = 256 // pkg/sensors/tracing: TpMaxMessageLen
	maxTags, minTagLen  = 16, 2
	maxTagLen           = 128
	tracepointArgsStart = 5 // syscalls/sys_enter_*: 4 common fields, then __syscall_nr
	maxArgs             = 5 // bpf/process: the generic sensors carry arguments a0..a4
)

// tracepointArgTypes are the argument types Tetragon v1.7's generic tracepoint sensor reads:
// get_ctx_ul() in bpf/process/bpf_generic_tracepoint.c handles the sized integer types
// (s32/u32/s64/u64/size_t, syscall64), string and char_buf pointers, data_loc and the socket
// pointer types; anything else falls to its default case and reads 0. Notably `int`
// (GenericIntType in pkg/generictypes) is not there: a tracepoint argument declared `int`
// always reads 0, so `flags Mask …` never matches and `uid Equal 0` matches every call.
// `auto` (the CRD default when type is left out) derives the type from the format file and
// fails on 16-bit fields such as umode_t, so shipped policies spell every type out.
var tracepointArgTypes = []string{
	"int32", "sint32", "uint32", "int64", "sint64", "long", "uint64", "ulong", "size_t", "syscall64",
	"string", "char_buf", "data_loc", "skb", "sock", "sockaddr", "socket",
}

var (
	stringTypes = []string{"string", "file", "path", "fd", "dentry", "char_buf", "linux_binprm", "data_loc", "net_device", "sockaddr_un", "filename"}
	sockTypes   = []string{"sock", "skb", "sockaddr", "socket"}
	sockOps     = []string{"SPort", "NotSPort", "DPort", "NotDPort", "SPortPriv", "NotSportPriv", "DPortPriv", "NotDPortPriv",
		"SAddr", "NotSAddr", "DAddr", "NotDAddr", "Protocol", "Family", "State"}
	// sockaddr has no destination: pkg/selectors, "sockaddr only supports [not]saddr, [not]sport[priv], and family".
	sockaddrOps = []string{"SPort", "NotSPort", "SPortPriv", "NotSportPriv", "SAddr", "NotSAddr", "Family"}
	numericOps  = []string{"Equal", "NotEqual", "Mask", "GT", "LT", "GreaterThan", "LessThan"}
)

func lint(p *Policy) []error {
	var errs []error
	lists := map[string]bool{}
	for _, l := range p.Spec.Lists {
		lists[l.Name] = true
	}
	hooks := append(append([]Hook{}, p.Spec.Kprobes...), p.Spec.Tracepoints...)
	for hi, h := range hooks {
		where := h.Name()
		isTracepoint := hi >= len(p.Spec.Kprobes)
		fail := func(format string, a ...any) {
			errs = append(errs, fmt.Errorf("%s: %s", where, fmt.Sprintf(format, a...)))
		}
		if !isTracepoint {
			looksSyscall := strings.HasPrefix(h.Call, "sys_") || strings.Contains(h.Call, "_sys_")
			isSyscall := h.Syscall == nil || *h.Syscall
			if looksSyscall != isSyscall {
				fail("syscall: %v for a function that %s a syscall (the CRD default is true)", isSyscall, map[bool]string{true: "is", false: "is not"}[looksSyscall])
			}
		} else {
			if h.Subsystem == "syscalls" {
				for _, a := range h.Args {
					if a.Index < tracepointArgsStart {
						fail("argument index %d is a common field, syscall arguments start at %d", a.Index, tracepointArgsStart)
					}
				}
			}
			for _, a := range h.Args {
				if !slices.Contains(tracepointArgTypes, a.Type) {
					fail("argument %d has type %q: Tetragon's tracepoint reader handles only %s (int and the other unsized types read as 0; auto fails on 16-bit fields)",
						a.Index, a.Type, strings.Join(tracepointArgTypes, ", "))
				}
			}
		}
		if first, ok := syscallArgsStart(h); ok {
			// The receiver maps tetragon.args[i] to the i-th syscall argument: declare them from
			// the first, in order, without gaps.
			for i, a := range h.Args {
				if want := first + uint32(i); a.Index != want {
					fail("argument %d has index %d, want %d: syscall arguments must be declared from the first, in order, without gaps", i, a.Index, want)
					break
				}
			}
		}
		if len(h.Args) > maxArgs {
			fail("%d arguments, at most %d", len(h.Args), maxArgs)
		}
		if n := len(h.Message); n < 2 || n > maxMessageLen {
			fail("message of %d characters, want 2 to %d", n, maxMessageLen)
		}
		if len(h.Tags) > maxTags {
			fail("%d tags, at most %d", len(h.Tags), maxTags)
		}
		for _, tag := range h.Tags {
			if len(tag) < minTagLen || len(tag) > maxTagLen {
				fail("tag %q: want %d to %d characters", tag, minTagLen, maxTagLen)
			}
		}
		argType := map[uint32]string{}
		for _, a := range h.Args {
			if _, dup := argType[a.Index]; dup {
				fail("argument index %d declared twice", a.Index)
			}
			argType[a.Index] = a.Type
		}
		if len(h.Selectors) > maxSelectors {
			fail("%d selectors, at most %d", len(h.Selectors), maxSelectors)
		}
		for si, s := range h.Selectors {
			for _, ns := range s.MatchNamespaces {
				if slices.Contains(ns.Values, "host_ns") {
					// Tetragon resolves host_ns through /proc/1/ns/*; where it cannot, the whole
					// policy fails to load (and with --tracing-policy-dir the agent exits).
					fail("selector %d: matchNamespaces %s uses host_ns, which fails to load where /proc/1/ns is unreadable; decide container vs host in the rules", si, ns.Namespace)
				}
			}
			if len(s.MatchArgs) > maxMatchArgs {
				fail("selector %d: %d matchArgs, at most %d", si, len(s.MatchArgs), maxMatchArgs)
			}
			for _, m := range s.MatchArgs {
				ty, ok := argType[m.Index]
				if !ok {
					fail("selector %d: matchArgs index %d is not a declared argument (Tetragon: argFilter for unknown index)", si, m.Index)
					continue
				}
				if len(m.Values) == 0 && !strings.HasSuffix(m.Operator, "Priv") {
					fail("selector %d: %s on argument %d has no values", si, m.Operator, m.Index)
				}
				switch {
				case slices.Contains(sockOps, m.Operator):
					if !slices.Contains(sockTypes, ty) {
						fail("selector %d: %s needs a sock/skb/sockaddr/socket argument, argument %d is %s", si, m.Operator, m.Index, ty)
					} else if ty == "sockaddr" && !slices.Contains(sockaddrOps, m.Operator) {
						fail("selector %d: %s is not supported on a sockaddr argument (use SAddr/SPort/Family)", si, m.Operator)
					}
				case m.Operator == "Prefix" || m.Operator == "NotPrefix" || m.Operator == "Postfix" || m.Operator == "NotPostfix":
					if !slices.Contains(stringTypes, ty) {
						fail("selector %d: %s on argument %d of type %s, not a string type", si, m.Operator, m.Index, ty)
					}
					limit := maxPrefixLen
					if strings.Contains(m.Operator, "Postfix") {
						limit = maxPostfixLen
					}
					for _, val := range m.Values {
						if len(val) > limit {
							fail("selector %d: %s value %q longer than %d", si, m.Operator, val, limit)
						}
					}
				case m.Operator == "InMap" || m.Operator == "NotInMap":
					for _, val := range m.Values {
						if name, ok := strings.CutPrefix(val, "list:"); ok && !lists[name] {
							fail("selector %d: %s references undeclared list %q", si, m.Operator, name)
						}
					}
				case slices.Contains(numericOps, m.Operator) && !slices.Contains(stringTypes, ty):
					if len(m.Values) > maxNumericValues {
						fail("selector %d: %s with %d values, at most %d (use InMap)", si, m.Operator, len(m.Values), maxNumericValues)
					}
					for _, val := range m.Values {
						if _, err := strconv.ParseInt(val, 0, 64); err != nil {
							if _, err := strconv.ParseUint(val, 0, 64); err != nil {
								fail("selector %d: %s value %q is not an integer", si, m.Operator, val)
							}
						}
					}
				}
			}
		}
	}
	return errs
}

// syscallArgsStart reports whether h hooks one syscall whose arguments the receiver maps by
// position, and the argument index of the syscall's first argument: 5 for the
// syscalls/sys_enter_* tracepoints, 0 for kprobes on the syscall functions.
func syscallArgsStart(h Hook) (uint32, bool) {
	if h.Call != "" {
		return 0, h.Syscall == nil || *h.Syscall
	}
	return tracepointArgsStart, h.Subsystem == "syscalls" && strings.HasPrefix(h.Event, "sys_enter_")
}
