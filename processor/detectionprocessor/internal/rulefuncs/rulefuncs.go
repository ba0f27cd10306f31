// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

// Package rulefuncs holds the OTTL functions the detection rules use on top of
// OTTL's standard library. Every function is nil-safe: a missing attribute, a
// value of the wrong type or an out-of-range argument index yields false (for
// predicates) or nil (for accessors), never an error, so that one absent field
// cannot abort the evaluation of a rule.
package rulefuncs

import (
	"context"
	"errors"
	"fmt"
	"path"
	"strconv"
	"strings"

	"github.com/bmatcuk/doublestar/v4"
	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/ottl"
	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/ottl/contexts/ottllog"
	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/ottl/ottlfuncs"
	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/attrkey"
)

// TC is the OTTL transform context the detection rules evaluate against.
type TC = *ottllog.TransformContext

// Custom returns the factories of the functions this package adds.
func Custom() []ottl.Factory[TC] {
	return append([]ottl.Factory[TC]{
		newGlobMatchFactory(),
		newGlobMatchAnyFactory(),
		newStringsFactory("HasAnyPrefix"),
		newStringsFactory("HasAnySuffix"),
		newStringsFactory("ContainsAny"),
		newStringsFactory("InList"),
		newPathFactory("Basename", basename),
		newPathFactory("Dirname", dirname),
		newArgStringFactory(),
		newArgIntFactory(),
		newArgFieldFactory(),
		newArgTypeFactory(),
		newArgStringsFactory(),
		newBitsFactory("HasAnyBit", func(v, m int64) bool { return v&m != 0 }),
		newBitsFactory("HasAllBits", func(v, m int64) bool { return v&m == m }),
	}, newFileOpFactories()...)
}

// Functions returns OTTL's standard functions plus Custom, keyed by name.
func Functions() map[string]ottl.Factory[TC] {
	m := ottlfuncs.StandardFuncs[TC]()
	for _, f := range Custom() {
		m[f.Name()] = f
	}
	return m
}

// eachString calls fn with target's string value, or with every string element
// when target is a list, until fn returns true. Non-string values are skipped.
func eachString(target any, fn func(string) bool) bool {
	switch v := target.(type) {
	case string:
		return fn(v)
	case pcommon.Value:
		switch v.Type() {
		case pcommon.ValueTypeStr:
			return fn(v.Str())
		case pcommon.ValueTypeSlice:
			return eachString(v.Slice(), fn)
		}
	case pcommon.Slice:
		for i := 0; i < v.Len(); i++ {
			if e := v.At(i); e.Type() == pcommon.ValueTypeStr && fn(e.Str()) {
				return true
			}
		}
	case []string:
		for _, s := range v {
			if fn(s) {
				return true
			}
		}
	case []any:
		for _, e := range v {
			if s, ok := e.(string); ok && fn(s) {
				return true
			}
		}
	}
	return false
}

// getOrNil evaluates g, turning an error into nil: a path that cannot be
// resolved is the same as a missing attribute for these functions.
func getOrNil(ctx context.Context, g ottl.Getter[TC], tCtx TC) any {
	v, err := g.Get(ctx, tCtx)
	if err != nil {
		return nil
	}
	return v
}

func validatePatterns(fn string, patterns []string) error {
	for _, p := range patterns {
		if !doublestar.ValidatePattern(p) {
			return fmt.Errorf("%s: invalid glob pattern %q", fn, p)
		}
	}
	return nil
}

// GlobMatch(target, pattern)

type globMatchArgs struct {
	Target  ottl.Getter[TC]
	Pattern string
}

func newGlobMatchFactory() ottl.Factory[TC] {
	return ottl.NewFactory("GlobMatch", &globMatchArgs{}, func(_ ottl.FunctionContext, a ottl.Arguments) (ottl.ExprFunc[TC], error) {
		args, ok := a.(*globMatchArgs)
		if !ok {
			return nil, errors.New("GlobMatch: unexpected arguments type")
		}
		match, err := StringMatcher("GlobMatch", []string{args.Pattern})
		if err != nil {
			return nil, err
		}
		return func(ctx context.Context, tCtx TC) (any, error) {
			return eachString(getOrNil(ctx, args.Target, tCtx), match), nil
		}, nil
	})
}

// GlobMatchAny(target, [patterns])

type globMatchAnyArgs struct {
	Target   ottl.Getter[TC]
	Patterns []string
}

func newGlobMatchAnyFactory() ottl.Factory[TC] {
	return ottl.NewFactory("GlobMatchAny", &globMatchAnyArgs{}, func(_ ottl.FunctionContext, a ottl.Arguments) (ottl.ExprFunc[TC], error) {
		args, ok := a.(*globMatchAnyArgs)
		if !ok {
			return nil, errors.New("GlobMatchAny: unexpected arguments type")
		}
		match, err := StringMatcher("GlobMatchAny", args.Patterns)
		if err != nil {
			return nil, err
		}
		return func(ctx context.Context, tCtx TC) (any, error) {
			return eachString(getOrNil(ctx, args.Target, tCtx), match), nil
		}, nil
	})
}

// StringMatcher returns the string predicate of the function name (InList,
// HasAnyPrefix, HasAnySuffix, ContainsAny, GlobMatchAny, or GlobMatch with one
// pattern) over values: the test these functions apply to a string target or
// to each string element of a list target. The detection engine's
// prefilters use it so that they test exactly what the functions test.
func StringMatcher(name string, values []string) (func(string) bool, error) {
	switch name {
	case "InList":
		set := make(map[string]struct{}, len(values))
		for _, v := range values {
			set[v] = struct{}{}
		}
		return func(s string) bool {
			_, ok := set[s]
			return ok
		}, nil
	case "HasAnyPrefix":
		return anyOf(values, strings.HasPrefix), nil
	case "HasAnySuffix":
		return anyOf(values, strings.HasSuffix), nil
	case "ContainsAny":
		return anyOf(values, strings.Contains), nil
	case "GlobMatch":
		if len(values) != 1 {
			return nil, errors.New("GlobMatch: one pattern")
		}
		if err := validatePatterns(name, values); err != nil {
			return nil, err
		}
		return newGlobSet(values).match, nil
	case "GlobMatchAny":
		if err := validatePatterns(name, values); err != nil {
			return nil, err
		}
		return newGlobSet(values).match, nil
	}
	return nil, fmt.Errorf("no string matcher named %q", name)
}

func anyOf(values []string, pred func(s, v string) bool) func(string) bool {
	return func(s string) bool {
		for _, v := range values {
			if pred(s, v) {
				return true
			}
		}
		return false
	}
}

// MatchValue applies match to v as the string functions do: to a string, or
// to every string element of a list (any one suffices); other types never match.
func MatchValue(v pcommon.Value, match func(string) bool) bool {
	switch v.Type() {
	case pcommon.ValueTypeStr:
		return match(v.Str())
	case pcommon.ValueTypeSlice:
		return eachString(v.Slice(), match)
	}
	return false
}

// HasAnyPrefix / HasAnySuffix / ContainsAny (target, [strings])

type stringsArgs struct {
	Target ottl.Getter[TC]
	Values []string
}

func newStringsFactory(name string) ottl.Factory[TC] {
	return ottl.NewFactory(name, &stringsArgs{}, func(_ ottl.FunctionContext, a ottl.Arguments) (ottl.ExprFunc[TC], error) {
		args, ok := a.(*stringsArgs)
		if !ok {
			return nil, fmt.Errorf("%s: unexpected arguments type", name)
		}
		match, err := StringMatcher(name, args.Values)
		if err != nil {
			return nil, err
		}
		return func(ctx context.Context, tCtx TC) (any, error) {
			return eachString(getOrNil(ctx, args.Target, tCtx), match), nil
		}, nil
	})
}

// InList(target, [values]) is a set lookup, see StringMatcher.

// Basename(target) / Dirname(target)

type pathArgs struct {
	Target ottl.Getter[TC]
}

func basename(s string) string {
	if i := strings.LastIndexByte(s, '/'); i >= 0 {
		return s[i+1:]
	}
	return s
}

func dirname(s string) string {
	if !strings.Contains(s, "/") {
		return ""
	}
	return path.Dir(s)
}

func newPathFactory(name string, fn func(string) string) ottl.Factory[TC] {
	return ottl.NewFactory(name, &pathArgs{}, func(_ ottl.FunctionContext, a ottl.Arguments) (ottl.ExprFunc[TC], error) {
		args, ok := a.(*pathArgs)
		if !ok {
			return nil, fmt.Errorf("%s: unexpected arguments type", name)
		}
		return func(ctx context.Context, tCtx TC) (any, error) {
			switch v := getOrNil(ctx, args.Target, tCtx).(type) {
			case string:
				return fn(v), nil
			case pcommon.Value:
				if v.Type() == pcommon.ValueTypeStr {
					return fn(v.Str()), nil
				}
			}
			return nil, nil
		}, nil
	})
}

// Arguments of hook events (tetragon.args).

// argAt returns the typed value of argument i (the value under the map's single
// type key, ignoring "label") and that key; ok is false when there is none.
func argAt(tCtx TC, i int64) (v pcommon.Value, typ string, ok bool) {
	args, found := tCtx.GetLogRecord().Attributes().Get(attrkey.TetragonArgs)
	if !found || args.Type() != pcommon.ValueTypeSlice || i < 0 || i >= int64(args.Slice().Len()) {
		return pcommon.Value{}, "", false
	}
	arg := args.Slice().At(int(i))
	if arg.Type() != pcommon.ValueTypeMap {
		return pcommon.Value{}, "", false
	}
	arg.Map().Range(func(k string, val pcommon.Value) bool {
		if k == "label" {
			return true
		}
		v, typ, ok = val, k, true
		return false
	})
	return v, typ, ok
}

// argString is the string form of a typed argument: the string itself, or the
// "path" of file_arg / path_arg / linux_binprm_arg and similar.
func argString(v pcommon.Value) (string, bool) {
	switch v.Type() {
	case pcommon.ValueTypeStr:
		return v.Str(), true
	case pcommon.ValueTypeMap:
		if p, ok := v.Map().Get("path"); ok && p.Type() == pcommon.ValueTypeStr {
			return p.Str(), true
		}
	}
	return "", false
}

// argInt is the integer form of a typed argument: ints, 64-bit ints that
// protojson wrote as strings, and the "id" of syscall_id.
func argInt(v pcommon.Value) (int64, bool) {
	switch v.Type() {
	case pcommon.ValueTypeInt:
		return v.Int(), true
	case pcommon.ValueTypeDouble:
		return int64(v.Double()), true
	case pcommon.ValueTypeStr:
		n, err := strconv.ParseInt(v.Str(), 10, 64)
		if err != nil {
			u, uerr := strconv.ParseUint(v.Str(), 10, 64)
			if uerr != nil {
				return 0, false
			}
			n = int64(u) //nolint:gosec // keep the bit pattern of huge unsigned values
		}
		return n, true
	case pcommon.ValueTypeMap:
		if id, ok := v.Map().Get("id"); ok {
			return argInt(id)
		}
	}
	return 0, false
}

type argIndexArgs struct {
	Index int64
}

func newArgStringFactory() ottl.Factory[TC] {
	return ottl.NewFactory("ArgString", &argIndexArgs{}, func(_ ottl.FunctionContext, a ottl.Arguments) (ottl.ExprFunc[TC], error) {
		args, ok := a.(*argIndexArgs)
		if !ok {
			return nil, errors.New("ArgString: unexpected arguments type")
		}
		if args.Index < 0 {
			return nil, fmt.Errorf("ArgString: index must be >= 0, got %d", args.Index)
		}
		return func(_ context.Context, tCtx TC) (any, error) {
			if v, _, ok := argAt(tCtx, args.Index); ok {
				if s, ok := argString(v); ok {
					return s, nil
				}
			}
			return nil, nil
		}, nil
	})
}

func newArgIntFactory() ottl.Factory[TC] {
	return ottl.NewFactory("ArgInt", &argIndexArgs{}, func(_ ottl.FunctionContext, a ottl.Arguments) (ottl.ExprFunc[TC], error) {
		args, ok := a.(*argIndexArgs)
		if !ok {
			return nil, errors.New("ArgInt: unexpected arguments type")
		}
		if args.Index < 0 {
			return nil, fmt.Errorf("ArgInt: index must be >= 0, got %d", args.Index)
		}
		return func(_ context.Context, tCtx TC) (any, error) {
			if v, _, ok := argAt(tCtx, args.Index); ok {
				if n, ok := argInt(v); ok {
					return n, nil
				}
			}
			return nil, nil
		}, nil
	})
}

func newArgTypeFactory() ottl.Factory[TC] {
	return ottl.NewFactory("ArgType", &argIndexArgs{}, func(_ ottl.FunctionContext, a ottl.Arguments) (ottl.ExprFunc[TC], error) {
		args, ok := a.(*argIndexArgs)
		if !ok {
			return nil, errors.New("ArgType: unexpected arguments type")
		}
		return func(_ context.Context, tCtx TC) (any, error) {
			if _, typ, ok := argAt(tCtx, args.Index); ok {
				return typ, nil
			}
			return nil, nil
		}, nil
	})
}

type argFieldArgs struct {
	Index int64
	Field string
}

func newArgFieldFactory() ottl.Factory[TC] {
	return ottl.NewFactory("ArgField", &argFieldArgs{}, func(_ ottl.FunctionContext, a ottl.Arguments) (ottl.ExprFunc[TC], error) {
		args, ok := a.(*argFieldArgs)
		if !ok {
			return nil, errors.New("ArgField: unexpected arguments type")
		}
		return func(_ context.Context, tCtx TC) (any, error) {
			v, _, ok := argAt(tCtx, args.Index)
			if !ok || v.Type() != pcommon.ValueTypeMap {
				return nil, nil
			}
			f, ok := v.Map().Get(args.Field)
			if !ok {
				return nil, nil
			}
			return scalar(f), nil
		}, nil
	})
}

// scalar converts a pcommon.Value to the plain Go value OTTL compares.
func scalar(v pcommon.Value) any {
	switch v.Type() {
	case pcommon.ValueTypeStr:
		return v.Str()
	case pcommon.ValueTypeInt:
		return v.Int()
	case pcommon.ValueTypeDouble:
		return v.Double()
	case pcommon.ValueTypeBool:
		return v.Bool()
	case pcommon.ValueTypeMap:
		return v.Map()
	case pcommon.ValueTypeSlice:
		return v.Slice()
	case pcommon.ValueTypeBytes:
		return v.Bytes().AsRaw()
	}
	return nil
}

// ArgStrings() returns the string form of every argument that has one.
func newArgStringsFactory() ottl.Factory[TC] {
	return ottl.NewFactory("ArgStrings", nil, func(_ ottl.FunctionContext, _ ottl.Arguments) (ottl.ExprFunc[TC], error) {
		return func(_ context.Context, tCtx TC) (any, error) {
			args, found := tCtx.GetLogRecord().Attributes().Get(attrkey.TetragonArgs)
			if !found || args.Type() != pcommon.ValueTypeSlice {
				return []string{}, nil
			}
			out := make([]string, 0, args.Slice().Len())
			for i := 0; i < args.Slice().Len(); i++ {
				if v, _, ok := argAt(tCtx, int64(i)); ok {
					if s, ok := argString(v); ok {
						out = append(out, s)
					}
				}
			}
			return out, nil
		}, nil
	})
}

// HasAnyBit(target, mask) / HasAllBits(target, mask): flag tests on integer
// arguments (open flags, clone flags, mount flags). target may be an int, a
// decimal string (64-bit protojson values) or nil (false).

type bitsArgs struct {
	Target ottl.Getter[TC]
	Mask   int64
}

func newBitsFactory(name string, pred func(v, mask int64) bool) ottl.Factory[TC] {
	return ottl.NewFactory(name, &bitsArgs{}, func(_ ottl.FunctionContext, a ottl.Arguments) (ottl.ExprFunc[TC], error) {
		args, ok := a.(*bitsArgs)
		if !ok {
			return nil, fmt.Errorf("%s: unexpected arguments type", name)
		}
		mask := args.Mask
		return func(ctx context.Context, tCtx TC) (any, error) {
			var v pcommon.Value
			switch t := getOrNil(ctx, args.Target, tCtx).(type) {
			case int64:
				return pred(t, mask), nil
			case string:
				v = pcommon.NewValueStr(t)
			case pcommon.Value:
				v = t
			default:
				return false, nil
			}
			n, ok := argInt(v)
			return ok && pred(n, mask), nil
		}, nil
	})
}
