// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

// Command jsongen writes internal/tetragonjson/encode_gen.go: the body=json
// encoder of tetragon.GetEventsResponse, one method per message type that
// appends the message as protojson (proto names) to the encoder's buffer by
// reading the generated Go structs' fields directly. It walks the protobuf
// descriptors reachable from GetEventsResponse and the Go structs behind them
// (struct tags give the field of each field number), so the output follows
// the tetragon API version in go.mod. Schema features the encoder does not
// implement make it fail rather than write something protojson would not.
//
//	go generate ./internal/tetragonjson/   (runs go run ./internal/jsongen -o encode_gen.go)
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"go/format"
	"os"
	"path"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/cilium/tetragon/api/v1/tetragon"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

func main() {
	out := flag.String("o", "encode_gen.go", "file to write")
	flag.Parse()
	src, err := generate(&tetragon.GetEventsResponse{})
	if err != nil {
		fmt.Fprintln(os.Stderr, "jsongen:", err)
		os.Exit(1)
	}
	if err := os.WriteFile(*out, src, 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "jsongen:", err)
		os.Exit(1)
	}
}

type generator struct {
	root     reflect.Type
	messages map[reflect.Type]string // struct pointer type -> method body
	pending  []reflect.Type
	enums    map[reflect.Type]protoreflect.EnumDescriptor
	imports  map[string]string // package name -> import path
	errs     []error
}

// generate returns the formatted source of the encoder rooted at root.
func generate(root proto.Message) ([]byte, error) {
	g := &generator{
		root:     reflect.TypeOf(root),
		messages: map[reflect.Type]string{},
		enums:    map[reflect.Type]protoreflect.EnumDescriptor{},
		imports:  map[string]string{},
	}
	g.need(g.root)
	for len(g.pending) > 0 {
		t := g.pending[0]
		g.pending = g.pending[1:]
		g.messages[t] = g.message(t)
	}
	if len(g.errs) > 0 {
		return nil, errors.Join(g.errs...)
	}
	return g.file()
}

func (g *generator) fail(format string, args ...any) {
	g.errs = append(g.errs, fmt.Errorf(format, args...))
}

// need queues the message type t (a pointer to a generated struct).
func (g *generator) need(t reflect.Type) {
	if _, seen := g.messages[t]; seen {
		return
	}
	g.messages[t] = ""
	g.pending = append(g.pending, t)
}

func descriptorOf(t reflect.Type) protoreflect.MessageDescriptor {
	return reflect.Zero(t).Interface().(proto.Message).ProtoReflect().Descriptor()
}

// typeName is t in Go source, its package imported.
func (g *generator) typeName(t reflect.Type) string {
	if t.Kind() == reflect.Pointer {
		return "*" + g.typeName(t.Elem())
	}
	if t.PkgPath() == "" {
		return t.String()
	}
	pkg, _, _ := strings.Cut(t.String(), ".")
	if path, ok := g.imports[pkg]; ok && path != t.PkgPath() {
		g.fail("two imported packages named %s: %s and %s", pkg, path, t.PkgPath())
	}
	g.imports[pkg] = t.PkgPath()
	return t.String()
}

func messageFunc(t reflect.Type) string { return "json" + t.Elem().Name() }
func enumFunc(t reflect.Type) string    { return "jsonEnum" + t.Name() }

// structFields maps field numbers to Go struct fields, and oneof names to
// their interface fields, from the generated struct tags.
func structFields(t reflect.Type) (byNumber map[protoreflect.FieldNumber]reflect.StructField, oneofs map[protoreflect.Name]reflect.StructField) {
	byNumber = map[protoreflect.FieldNumber]reflect.StructField{}
	oneofs = map[protoreflect.Name]reflect.StructField{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if o := f.Tag.Get("protobuf_oneof"); o != "" {
			oneofs[protoreflect.Name(o)] = f
			continue
		}
		parts := strings.Split(f.Tag.Get("protobuf"), ",")
		if len(parts) > 1 {
			if n, err := strconv.Atoi(parts[1]); err == nil {
				byNumber[protoreflect.FieldNumber(n)] = f
			}
		}
	}
	return byNumber, oneofs
}

// message returns the body of the method writing message type t.
func (g *generator) message(t reflect.Type) string {
	md := descriptorOf(t)
	if md.Syntax() != protoreflect.Proto3 {
		g.fail("%s: only proto3 messages are supported, not %s", md.FullName(), md.Syntax())
	}
	byNumber, oneofs := structFields(t.Elem())
	var b strings.Builder
	fmt.Fprintf(&b, "func (e *encoder) %s(b []byte, m %s) []byte {\n", messageFunc(t), g.typeName(t))
	b.WriteString("if m == nil {\nreturn append(b, \"{}\"...)\n}\nstart := len(b)\n")
	fields := md.Fields()
	for i := 0; i < fields.Len(); i++ {
		fd := fields.Get(i)
		switch {
		case fd.IsExtension() || fd.Kind() == protoreflect.GroupKind:
			g.fail("%s: extensions and groups are not supported", fd.FullName())
		case fd.ContainingOneof() != nil && fd.ContainingOneof().IsSynthetic():
			g.fail("%s: proto3 optional fields are not supported", fd.FullName())
		case fd.ContainingOneof() != nil:
			od := fd.ContainingOneof()
			if i > 0 && fields.Get(i-1).ContainingOneof() == od {
				continue // written with the first member
			}
			g.oneof(&b, t, od, oneofs[od.Name()], fields, i)
		default:
			sf, ok := byNumber[fd.Number()]
			if !ok {
				g.fail("%s: no Go struct field", fd.FullName())
				continue
			}
			g.field(&b, fd, "m."+sf.Name, sf.Type)
		}
	}
	b.WriteString("return endObject(b, start)\n}\n")
	return b.String()
}

func key(fd protoreflect.FieldDescriptor) string {
	return "b = append(b, `,\"" + fd.TextName() + "\":`...)\n"
}

// field writes a field that is not a oneof member, if populated as protojson
// sees it (proto3: not the zero value, not empty, not nil).
func (g *generator) field(b *strings.Builder, fd protoreflect.FieldDescriptor, x string, gt reflect.Type) {
	switch {
	case fd.IsMap():
		if fd.MapKey().Kind() != protoreflect.StringKind || fd.MapValue().Kind() != protoreflect.StringKind {
			g.fail("%s: only map<string, string> is supported", fd.FullName())
			return
		}
		fmt.Fprintf(b, "if len(%s) > 0 {\n%sb = e.stringMap(b, %s)\n}\n", x, key(fd), x)
	case fd.IsList():
		fmt.Fprintf(b, "if len(%s) > 0 {\n%sb = append(b, '[')\nfor i, v := range %s {\nif i > 0 {\nb = append(b, ',')\n}\n",
			x, key(fd), x)
		b.WriteString(g.value(fd, "v", gt.Elem()))
		b.WriteString("}\nb = append(b, ']')\n}\n")
	default:
		var populated string
		switch fd.Kind() {
		case protoreflect.MessageKind:
			populated = x + " != nil"
		case protoreflect.StringKind:
			populated = x + ` != ""`
		case protoreflect.BytesKind:
			populated = "len(" + x + ") > 0"
		case protoreflect.BoolKind:
			populated = x
		default:
			populated = x + " != 0"
		}
		fmt.Fprintf(b, "if %s {\n%s%s}\n", populated, key(fd), g.value(fd, x, gt))
	}
}

// oneof writes a type switch over the members of od declared from fields[i]
// on without a field of another oneof or none between them.
func (g *generator) oneof(b *strings.Builder, t reflect.Type, od protoreflect.OneofDescriptor, sf reflect.StructField, fields protoreflect.FieldDescriptors, i int) {
	if sf.Type == nil {
		g.fail("%s: no Go struct field", od.FullName())
		return
	}
	fmt.Fprintf(b, "switch v := m.%s.(type) {\n", sf.Name)
	for ; i < fields.Len() && fields.Get(i).ContainingOneof() == od; i++ {
		fd := fields.Get(i)
		// Setting the member through protoreflect reveals its wrapper type.
		probe := reflect.New(t.Elem()).Interface().(proto.Message).ProtoReflect()
		if fd.Message() != nil {
			probe.Set(fd, probe.NewField(fd))
		} else {
			probe.Set(fd, fd.Default())
		}
		wrapper := reflect.ValueOf(probe.Interface()).Elem().FieldByIndex(sf.Index).Elem().Type()
		inner := wrapper.Elem().Field(0)
		// A typed nil wrapper is no member; a nil message in one is an empty
		// message (protoreflect's view, which protojson follows).
		fmt.Fprintf(b, "case %s:\nif v != nil {\n%s%s}\n", g.typeName(wrapper), key(fd), g.value(fd, "v."+inner.Name, inner.Type))
	}
	b.WriteString("}\n")
}

// value writes x, one value of fd (a list element for lists) of Go type gt.
func (g *generator) value(fd protoreflect.FieldDescriptor, x string, gt reflect.Type) string {
	switch fd.Kind() {
	case protoreflect.MessageKind:
		md := fd.Message()
		if md.ParentFile().Package() == "google.protobuf" {
			return g.wellKnown(fd, x)
		}
		g.need(gt)
		return fmt.Sprintf("b = e.%s(b, %s)\n", messageFunc(gt), x)
	case protoreflect.EnumKind:
		ed := fd.Enum()
		if ed.FullName() == "google.protobuf.NullValue" {
			g.fail("%s: google.protobuf.NullValue is not supported", fd.FullName())
		}
		if gt.Kind() != reflect.Int32 {
			g.fail("%s: enum Go type %s is not int32-based", fd.FullName(), gt)
		}
		g.typeName(gt)
		g.enums[gt] = ed
		return fmt.Sprintf("b = %s(b, %s)\n", enumFunc(gt), x)
	}
	return g.scalar(fd, fd.Kind(), x)
}

func (g *generator) scalar(fd protoreflect.FieldDescriptor, k protoreflect.Kind, x string) string {
	switch k {
	case protoreflect.StringKind:
		return "b = e.str(b, " + x + ")\n"
	case protoreflect.BytesKind:
		return "b = appendBase64(b, " + x + ")\n"
	case protoreflect.BoolKind:
		return "b = strconv.AppendBool(b, " + x + ")\n"
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		return "b = strconv.AppendInt(b, int64(" + x + "), 10)\n"
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		return "b = strconv.AppendUint(b, uint64(" + x + "), 10)\n"
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		return "b = appendQuotedInt(b, " + x + ")\n"
	case protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		return "b = appendQuotedUint(b, " + x + ")\n"
	}
	g.fail("%s: %s fields are not supported", fd.FullName(), k)
	return ""
}

// wellKnown writes a google.protobuf message the way protojson does. The
// getters are nil-safe: a nil message reads as the zero one, as in
// protoreflect.
func (g *generator) wellKnown(fd protoreflect.FieldDescriptor, x string) string {
	md := fd.Message()
	switch md.Name() {
	case "Timestamp":
		return "b = e.timestamp(b, " + x + ".GetSeconds(), " + x + ".GetNanos())\n"
	case "BoolValue", "Int32Value", "Int64Value", "UInt32Value", "UInt64Value", "StringValue", "BytesValue":
		return g.scalar(fd, md.Fields().ByNumber(1).Kind(), x+".GetValue()")
	}
	g.fail("%s: %s is not supported", fd.FullName(), md.FullName())
	return ""
}

// enum returns the method writing enum type t: its name, or its number when
// it has none, with the first name of an alias as in protojson.
func (g *generator) enum(t reflect.Type, ed protoreflect.EnumDescriptor) string {
	names := map[protoreflect.EnumNumber]string{}
	var nums []protoreflect.EnumNumber
	dense := true
	for i := 0; i < ed.Values().Len(); i++ {
		v := ed.Values().Get(i)
		if _, alias := names[v.Number()]; alias {
			continue
		}
		names[v.Number()] = string(v.Name())
		nums = append(nums, v.Number())
		dense = dense && v.Number() >= 0 && v.Number() < 1024
	}
	slices.Sort(nums)
	var b strings.Builder
	fn := enumFunc(t)
	if dense {
		fmt.Fprintf(&b, "var %sNames = [...]string{\n", fn)
		for _, n := range nums {
			fmt.Fprintf(&b, "%d: `\"%s\"`,\n", n, names[n])
		}
		fmt.Fprintf(&b, "}\n\nfunc %s(b []byte, v %s) []byte {\n", fn, g.typeName(t))
		fmt.Fprintf(&b, "if uint32(v) < uint32(len(%[1]sNames)) && %[1]sNames[v] != \"\" {\nreturn append(b, %[1]sNames[v]...)\n}\n", fn)
		b.WriteString("return strconv.AppendInt(b, int64(v), 10)\n}\n")
		return b.String()
	}
	fmt.Fprintf(&b, "func %s(b []byte, v %s) []byte {\nswitch v {\n", fn, g.typeName(t))
	for _, n := range nums {
		fmt.Fprintf(&b, "case %d:\nreturn append(b, `\"%s\"`...)\n", n, names[n])
	}
	b.WriteString("}\nreturn strconv.AppendInt(b, int64(v), 10)\n}\n")
	return b.String()
}

func (g *generator) file() ([]byte, error) {
	var body bytes.Buffer
	types := make([]reflect.Type, 0, len(g.messages))
	for t := range g.messages {
		types = append(types, t)
	}
	// The root first, then by name: a stable order across API versions.
	slices.SortFunc(types, func(a, b reflect.Type) int {
		if (a == g.root) != (b == g.root) {
			if a == g.root {
				return -1
			}
			return 1
		}
		return strings.Compare(a.String(), b.String())
	})
	for _, t := range types {
		body.WriteString("\n" + g.messages[t])
	}
	enums := make([]reflect.Type, 0, len(g.enums))
	for t := range g.enums {
		enums = append(enums, t)
	}
	slices.SortFunc(enums, func(a, b reflect.Type) int { return strings.Compare(a.String(), b.String()) })
	for _, t := range enums {
		body.WriteString("\n" + g.enum(t, g.enums[t]))
	}
	if len(g.errs) > 0 {
		return nil, errors.Join(g.errs...)
	}

	var src bytes.Buffer
	src.WriteString("// Code generated by internal/jsongen from the descriptors of tetragon.GetEventsResponse; DO NOT EDIT.\n\npackage tetragonjson\n\nimport (\n\"strconv\"\n\n")
	pkgs := make([]string, 0, len(g.imports))
	for pkg := range g.imports {
		pkgs = append(pkgs, pkg)
	}
	slices.SortFunc(pkgs, func(a, b string) int { return strings.Compare(g.imports[a], g.imports[b]) })
	for _, pkg := range pkgs {
		if p := g.imports[pkg]; path.Base(p) == pkg {
			fmt.Fprintf(&src, "%q\n", p)
		} else {
			fmt.Fprintf(&src, "%s %q\n", pkg, p)
		}
	}
	src.WriteString(")\n")
	src.Write(body.Bytes())
	out, err := format.Source(src.Bytes())
	if err != nil {
		return nil, fmt.Errorf("formatting the generated source: %w", err)
	}
	return out, nil
}
