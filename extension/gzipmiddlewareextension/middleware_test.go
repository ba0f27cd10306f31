// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package gzipmiddlewareextension

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/configcompression"
	"go.opentelemetry.io/collector/config/confighttp"
	"go.opentelemetry.io/collector/config/configmiddleware"
	"go.opentelemetry.io/collector/extension"
	"go.opentelemetry.io/collector/extension/extensiontest"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/extension/gzipmiddlewareextension/internal/metadata"
)

// received is what the test server saw of one request.
type received struct {
	encoding string
	body     []byte // after one gzip decoding when encoding is gzip
	length   int64
}

func newServer(t *testing.T) (*httptest.Server, <-chan received) {
	got := make(chan received, 10)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := received{encoding: r.Header.Get("Content-Encoding"), length: r.ContentLength}
		var body io.Reader = r.Body
		if rec.encoding == "gzip" {
			zr, err := gzip.NewReader(r.Body)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			body = zr
		}
		b, err := io.ReadAll(body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		rec.body = b
		got <- rec
	}))
	t.Cleanup(srv.Close)
	return srv, got
}

type hostWith map[component.ID]component.Component

func (h hostWith) GetExtensions() map[component.ID]component.Component { return h }

// client builds an HTTP client the way an exporter's confighttp.ClientConfig does, with the
// middleware in its `middlewares`.
func client(t *testing.T, endpoint string, compression configcompression.Type, level int) *http.Client {
	id := component.NewID(metadata.Type)
	ext, err := NewFactory().Create(context.Background(), extensiontest.NewNopSettings(metadata.Type), &Config{Level: level})
	require.NoError(t, err)
	require.NoError(t, ext.Start(context.Background(), componenttest.NewNopHost()))
	t.Cleanup(func() { require.NoError(t, ext.Shutdown(context.Background())) })

	cc := confighttp.NewDefaultClientConfig()
	cc.Endpoint = endpoint
	cc.Compression = compression
	cc.Middlewares = []configmiddleware.Config{{ID: id}}
	c, err := cc.ToClient(context.Background(), hostWith{id: ext}.GetExtensions(), componenttest.NewNopTelemetrySettings())
	require.NoError(t, err)
	return c
}

func payload() []byte {
	return bytes.Repeat([]byte(`{"process_exec":{"process":{"binary":"/bin/sh","arguments":"-c id"}}}`), 500)
}

func TestCompressesRequestBodies(t *testing.T) {
	srv, got := newServer(t)
	want := payload()
	for _, level := range []int{1, 9} {
		c := client(t, srv.URL, configcompression.Type("none"), level)
		resp, err := c.Post(srv.URL, "application/x-protobuf", bytes.NewReader(want))
		require.NoError(t, err)
		require.NoError(t, resp.Body.Close())
		require.Equal(t, http.StatusOK, resp.StatusCode)
		rec := <-got
		assert.Equal(t, "gzip", rec.encoding, "level %d", level)
		assert.Equal(t, want, rec.body, "level %d: the body decodes to what was sent", level)
		assert.Less(t, rec.length, int64(len(want))/10, "level %d: the body went out compressed", level)
	}
}

// With `compression: gzip` as well, confighttp compresses first and the middleware must not
// compress a second time.
func TestAlreadyEncodedBodyPassesThrough(t *testing.T) {
	srv, got := newServer(t)
	want := payload()
	c := client(t, srv.URL, configcompression.TypeGzip, 1)
	resp, err := c.Post(srv.URL, "application/x-protobuf", bytes.NewReader(want))
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	rec := <-got
	assert.Equal(t, "gzip", rec.encoding)
	assert.Equal(t, want, rec.body, "one gzip decoding gives the payload back")
}

func TestRequestWithoutBodyPassesThrough(t *testing.T) {
	srv, got := newServer(t)
	c := client(t, srv.URL, configcompression.Type("none"), 1)
	resp, err := c.Get(srv.URL)
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	rec := <-got
	assert.Empty(t, rec.encoding)
	assert.Empty(t, rec.body)
}

type recordingTransport struct{ req *http.Request }

func (r *recordingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	r.req = req
	return &http.Response{StatusCode: http.StatusOK, Body: http.NoBody, Request: req}, nil
}

type trackedBody struct {
	io.Reader
	closed bool
	err    error
}

func (b *trackedBody) Read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	return b.Reader.Read(p)
}

func (b *trackedBody) Close() error { b.closed = true; return nil }

func wrap(t *testing.T, next http.RoundTripper) http.RoundTripper {
	ext, err := NewFactory().Create(context.Background(), extension.Settings{ID: component.NewID(metadata.Type), TelemetrySettings: componenttest.NewNopTelemetrySettings()}, NewFactory().CreateDefaultConfig())
	require.NoError(t, err)
	wrapFn, err := ext.(*middleware).GetHTTPRoundTripper(context.Background())
	require.NoError(t, err)
	rt, err := wrapFn(context.Background(), next)
	require.NoError(t, err)
	return rt
}

// A retried request (redirects, HTTP/2 retries) must be able to replay the compressed body, and
// the original body is closed as the RoundTripper contract requires.
func TestRequestBodyReplayableAndClosed(t *testing.T) {
	next := &recordingTransport{}
	body := &trackedBody{Reader: bytes.NewReader(payload())}
	req, err := http.NewRequest(http.MethodPost, "http://example.invalid/v1/logs", body)
	require.NoError(t, err)
	req.Header.Set("Content-Length", "35000")
	_, err = wrap(t, next).RoundTrip(req)
	require.NoError(t, err)
	assert.True(t, body.closed, "the uncompressed body is closed")
	sent := next.req
	require.NotNil(t, sent)
	assert.Empty(t, req.Header.Get("Content-Encoding"), "the caller's request is not modified")
	assert.Empty(t, sent.Header.Get("Content-Length"), "a stale Content-Length header is dropped")
	for range 2 {
		rc, err := sent.GetBody()
		require.NoError(t, err)
		zr, err := gzip.NewReader(rc)
		require.NoError(t, err)
		b, err := io.ReadAll(zr)
		require.NoError(t, err)
		assert.Equal(t, payload(), b)
		assert.Equal(t, sent.ContentLength, int64(len(mustReadAll(t, sent.GetBody))))
	}
}

func mustReadAll(t *testing.T, get func() (io.ReadCloser, error)) []byte {
	rc, err := get()
	require.NoError(t, err)
	b, err := io.ReadAll(rc)
	require.NoError(t, err)
	return b
}

func TestBodyReadErrorFailsTheRequest(t *testing.T) {
	next := &recordingTransport{}
	body := &trackedBody{Reader: strings.NewReader("x"), err: errors.New("disk gone")}
	req, err := http.NewRequest(http.MethodPost, "http://example.invalid/v1/logs", body)
	require.NoError(t, err)
	_, err = wrap(t, next).RoundTrip(req)
	require.ErrorContains(t, err, "gzip_middleware: compress request body: disk gone")
	assert.True(t, body.closed)
	assert.Nil(t, next.req, "nothing is sent")
}
