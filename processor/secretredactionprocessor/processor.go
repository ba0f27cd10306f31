// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package secretredactionprocessor

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/processor"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/attrkey"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/redact"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/processor/secretredactionprocessor/internal/metadata"
)

type secretRedaction struct {
	cfg *Config
	tb  *metadata.TelemetryBuilder
	// verbatim[i]: the body holds Attributes[i]'s strings as they are (JSON-escaped in a JSON body).
	// The command lines are built by the receiver (binary + arguments) and are not in the body.
	verbatim []bool
}

func newProcessor(set processor.Settings, cfg *Config) (*secretRedaction, error) {
	tb, err := metadata.NewTelemetryBuilder(set.TelemetrySettings)
	if err != nil {
		return nil, err
	}
	p := &secretRedaction{cfg: cfg, tb: tb, verbatim: make([]bool, len(cfg.Attributes))}
	for i, k := range cfg.Attributes {
		p.verbatim[i] = k != attrkey.ProcessCommandLine && k != attrkey.ProcessParentCommandLine
	}
	return p, nil
}

// masked is one string the attributes held and what it became.
type masked struct {
	from, to string
	verbatim bool
}

func (p *secretRedaction) processLogs(ctx context.Context, ld plog.Logs) (plog.Logs, error) {
	var redacted, rescans int64
	var found []masked
	rls := ld.ResourceLogs()
	for i := 0; i < rls.Len(); i++ {
		sls := rls.At(i).ScopeLogs()
		for j := 0; j < sls.Len(); j++ {
			lrs := sls.At(j).LogRecords()
			for k := 0; k < lrs.Len(); k++ {
				lr := lrs.At(k)
				found = found[:0]
				attrs := lr.Attributes()
				var done [len(commandLines)]bool
				for c := range commandLines {
					found, done[c] = maskCommandLine(attrs, commandLines[c], found)
				}
			attributes:
				for a, key := range p.cfg.Attributes {
					for c := range commandLines {
						if done[c] && (key == commandLines[c].line || key == commandLines[c].args) {
							continue attributes
						}
					}
					if v, ok := attrs.Get(key); ok {
						found = maskValue(v, p.verbatim[a], found)
					}
				}
				if len(found) == 0 {
					continue
				}
				redacted++
				attrs.PutBool(attrkey.Redacted, true)
				if p.cfg.Body && maskBody(lr.Body(), found) {
					rescans++
				}
			}
		}
	}
	if redacted > 0 {
		p.tb.ProcessorSecretRedactionRecordsRedacted.Add(ctx, redacted)
	}
	if rescans > 0 {
		p.tb.ProcessorSecretRedactionBodyRescans.Add(ctx, rescans)
	}
	return ld, nil
}

// commandLine names a command line the receiver builds (binary, a space, the arguments) and its
// parts. The arguments alone do not say which program they are for (`-pS3cr3t` is a password only
// for mysql), so they are masked as part of the command line.
type commandLine struct{ line, binary, args string }

var commandLines = [...]commandLine{
	{attrkey.ProcessCommandLine, attrkey.ProcessExecutablePath, attrkey.TetragonArguments},
	{attrkey.ProcessParentCommandLine, attrkey.ProcessParentExecutablePath, attrkey.TetragonParentArgs},
}

// maskCommandLine masks a command line and takes its arguments' masked form from it. It reports
// whether it handled both attributes (false when they are not binary + " " + arguments: they are
// then masked each on its own).
func maskCommandLine(attrs pcommon.Map, c commandLine, found []masked) ([]masked, bool) {
	lv, ok1 := attrs.Get(c.line)
	bv, ok2 := attrs.Get(c.binary)
	av, ok3 := attrs.Get(c.args)
	if !ok1 || !ok2 || !ok3 || lv.Type() != pcommon.ValueTypeStr || bv.Type() != pcommon.ValueTypeStr || av.Type() != pcommon.ValueTypeStr {
		return found, false
	}
	line, bin, args := lv.Str(), bv.Str(), av.Str()
	if !startsWithBinary(line, bin) || line[len(bin)+1:] != args {
		return found, false
	}
	to, changed := redact.String(line)
	if !changed {
		return found, true
	}
	if !startsWithBinary(to, bin) {
		return found, false // the binary's own path was masked: mask the parts separately
	}
	lv.SetStr(to)
	av.SetStr(to[len(bin)+1:])
	return append(found, masked{from: args, to: to[len(bin)+1:], verbatim: true}), true
}

// startsWithBinary reports whether s is bin, a space, then the rest (compared in place: this runs
// for every record).
func startsWithBinary(s, bin string) bool {
	return len(s) > len(bin) && s[len(bin)] == ' ' && strings.HasPrefix(s, bin)
}

// maskValue masks the strings of v (a string, or the strings inside a list or map) and appends
// what it changed to found.
func maskValue(v pcommon.Value, verbatim bool, found []masked) []masked {
	switch v.Type() {
	case pcommon.ValueTypeStr:
		if to, changed := redact.String(v.Str()); changed {
			found = append(found, masked{from: v.Str(), to: to, verbatim: verbatim})
			v.SetStr(to)
		}
	case pcommon.ValueTypeSlice:
		sl := v.Slice()
		for i := 0; i < sl.Len(); i++ {
			found = maskValue(sl.At(i), verbatim, found)
		}
	case pcommon.ValueTypeMap:
		v.Map().Range(func(_ string, mv pcommon.Value) bool {
			found = maskValue(mv, verbatim, found)
			return true
		})
	}
	return found
}

// maskBody masks the secrets found in the attributes where the body holds them. A JSON body (the
// receiver's body: json) holds them JSON-escaped: each such string is replaced by its masked form,
// a few substring replacements instead of running every pattern over kilobytes of JSON. When a
// string is not there as expected, the whole body is scanned instead; it reports whether it was.
// A map body (body: map) is scanned string by string.
func maskBody(body pcommon.Value, found []masked) (rescanned bool) {
	switch body.Type() {
	case pcommon.ValueTypeMap:
		maskMapBody(body, found)
	case pcommon.ValueTypeStr:
		s := body.Str()
		for _, m := range found {
			if !m.verbatim {
				continue
			}
			from, to := jsonText(m.from), jsonText(m.to)
			if !strings.Contains(s, from) {
				rescanned = true
				break
			}
			s = strings.ReplaceAll(s, from, to)
		}
		if rescanned {
			s, _ = redact.String(body.Str())
		}
		body.SetStr(s)
	}
	return rescanned
}

// maskMapBody replaces the strings of a map body that are a masked attribute's value by its masked
// form (the arguments, whose program only the command line names) and scans the others.
func maskMapBody(v pcommon.Value, found []masked) {
	switch v.Type() {
	case pcommon.ValueTypeStr:
		for _, m := range found {
			if m.verbatim && v.Str() == m.from {
				v.SetStr(m.to)
				return
			}
		}
		if to, changed := redact.String(v.Str()); changed {
			v.SetStr(to)
		}
	case pcommon.ValueTypeSlice:
		sl := v.Slice()
		for i := 0; i < sl.Len(); i++ {
			maskMapBody(sl.At(i), found)
		}
	case pcommon.ValueTypeMap:
		v.Map().Range(func(_ string, mv pcommon.Value) bool {
			maskMapBody(mv, found)
			return true
		})
	}
}

// jsonText is s as it appears inside a JSON string (without the quotes), escaped like Tetragon's
// protojson: no HTML escaping.
func jsonText(s string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	out := bytes.TrimSuffix(b.Bytes(), []byte("\n"))
	return string(out[1 : len(out)-1])
}
