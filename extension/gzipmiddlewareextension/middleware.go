// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package gzipmiddlewareextension

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"sync"

	"github.com/klauspost/compress/gzip"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/extension/extensionmiddleware"
)

// middleware wraps an HTTP client's round tripper so that each request body goes out
// gzip-compressed. It is the same job confighttp's compression round tripper does for
// `compression: gzip`, with klauspost/compress's encoder instead of compress/gzip.
type middleware struct {
	component.StartFunc
	component.ShutdownFunc

	writers sync.Pool // *gzip.Writer at the configured level
}

var _ extensionmiddleware.HTTPClient = (*middleware)(nil)

func newMiddleware(cfg *Config) *middleware {
	m := &middleware{}
	m.writers.New = func() any {
		w, _ := gzip.NewWriterLevel(nil, cfg.Level) // the level was validated
		return w
	}
	return m
}

// GetHTTPRoundTripper implements extensionmiddleware.HTTPClient.
func (m *middleware) GetHTTPRoundTripper(context.Context) (extensionmiddleware.WrapHTTPRoundTripperFunc, error) {
	return func(_ context.Context, next http.RoundTripper) (http.RoundTripper, error) {
		return &roundTripper{m: m, next: next}, nil
	}, nil
}

type roundTripper struct {
	m    *middleware
	next http.RoundTripper
}

// RoundTrip compresses the body of req into a new request. A request without a body, or one
// already encoded (an exporter also set to `compression: gzip` compressed it first), passes
// through unchanged.
func (rt *roundTripper) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body == nil || req.Body == http.NoBody || req.Header.Get("Content-Encoding") != "" {
		return rt.next.RoundTrip(req)
	}
	compressed, err := rt.m.compress(req.Body, req.ContentLength)
	if err != nil {
		return nil, fmt.Errorf("gzip_middleware: compress request body: %w", err)
	}
	out := req.Clone(req.Context())
	out.Body = io.NopCloser(bytes.NewReader(compressed))
	out.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(compressed)), nil }
	out.ContentLength = int64(len(compressed))
	out.Header.Set("Content-Encoding", "gzip")
	out.Header.Del("Content-Length")
	return rt.next.RoundTrip(out)
}

// compress reads and closes body. The output buffer is the request's own: the transport may
// still be writing it after RoundTrip returns, so it is not pooled.
func (m *middleware) compress(body io.ReadCloser, size int64) ([]byte, error) {
	defer body.Close()
	var buf bytes.Buffer
	if size > 0 {
		buf.Grow(int(size/8) + 64) // Tetragon events compress ~15:1 at level 1
	}
	w := m.writers.Get().(*gzip.Writer)
	defer m.writers.Put(w)
	w.Reset(&buf)
	if _, err := io.Copy(w, body); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
