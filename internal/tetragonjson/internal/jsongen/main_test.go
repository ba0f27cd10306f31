// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package main

import (
	"go/parser"
	"go/token"
	"strings"
	"testing"

	"github.com/cilium/tetragon/api/v1/tetragon"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

func TestGenerateEventsResponse(t *testing.T) {
	src, err := generate(&tetragon.GetEventsResponse{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := parser.ParseFile(token.NewFileSet(), "encode_gen.go", src, 0); err != nil {
		t.Fatal(err)
	}
	again, err := generate(&tetragon.GetEventsResponse{})
	if err != nil {
		t.Fatal(err)
	}
	if string(again) != string(src) {
		t.Error("two runs wrote different sources")
	}
	for _, want := range []string{
		"func (e *encoder) jsonGetEventsResponse(b []byte, m *tetragon.GetEventsResponse) []byte {",
		"case *tetragon.KprobeArgument_SizeArg:",
		"b = e.timestamp(b, m.StartTime.GetSeconds(), m.StartTime.GetNanos())",
		"b = strconv.AppendUint(b, uint64(m.Pid.GetValue()), 10)",
		"b = e.stringMap(b, m.PodLabels)",
		"func jsonEnumCapabilitiesType(b []byte, v tetragon.CapabilitiesType) []byte {",
	} {
		if !strings.Contains(string(src), want) {
			t.Errorf("generated source lacks %q", want)
		}
	}
}

// Schema features the encoder does not implement stop the generator.
func TestGenerateRefusesUnsupported(t *testing.T) {
	for _, c := range []struct {
		root proto.Message
		want []string
	}{
		{&wrapperspb.DoubleValue{}, []string{"google.protobuf.DoubleValue.value: double fields are not supported"}},
		{&structpb.Struct{}, []string{"google.protobuf.Struct.fields: only map<string, string> is supported"}},
		{&tetragon.GetEventsRequest{}, []string{"google.protobuf.FieldMask is not supported",
			"google.protobuf.Duration is not supported"}},
	} {
		_, err := generate(c.root)
		if err == nil {
			t.Errorf("%T: generated", c.root)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%T: error %q lacks %q", c.root, err, w)
			}
		}
	}
}
