// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package redact

import (
	"bytes"
	"io"
)

// Writer masks secrets in what is written through it, line by line: the offline tools (ruletest,
// bin/profiles) print through one, so that a report never shows what the collector would not
// store. Flush writes a last line without a newline.
type Writer struct {
	w   io.Writer
	buf []byte
}

// NewWriter returns a Writer to w.
func NewWriter(w io.Writer) *Writer { return &Writer{w: w} }

// Write masks and writes every complete line of p, keeping the rest for the next Write or Flush.
func (r *Writer) Write(p []byte) (int, error) {
	r.buf = append(r.buf, p...)
	for {
		i := bytes.IndexByte(r.buf, '\n')
		if i < 0 {
			return len(p), nil
		}
		if err := r.writeLine(r.buf[:i+1]); err != nil {
			return 0, err
		}
		r.buf = r.buf[i+1:]
	}
}

// Flush masks and writes what is left.
func (r *Writer) Flush() error {
	if len(r.buf) == 0 {
		return nil
	}
	err := r.writeLine(r.buf)
	r.buf = r.buf[:0]
	return err
}

func (r *Writer) writeLine(line []byte) error {
	s, _ := String(string(line))
	_, err := io.WriteString(r.w, s)
	return err
}
