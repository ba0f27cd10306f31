// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package testbackends

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/testenv"
)

// Alertmanager is Debian's Alertmanager 0.25 with the shipped configuration, every webhook
// receiver pointed at the test's own webhook server.
type Alertmanager struct {
	server
}

// StartAlertmanager starts Alertmanager with shippedConfig, its webhook URLs replaced by
// webhookURL.
func StartAlertmanager(t testing.TB, shippedConfig, webhookURL string) *Alertmanager {
	raw, err := os.ReadFile(shippedConfig)
	if err != nil {
		t.Fatal(err)
	}
	var cfg map[string]any
	if err := yaml.Unmarshal(raw, &cfg); err != nil {
		t.Fatalf("%s: %v", shippedConfig, err)
	}
	var hooks int
	for _, r := range asSlice(cfg["receivers"]) {
		rm, _ := r.(map[string]any)
		for _, w := range asSlice(rm["webhook_configs"]) {
			if wm, ok := w.(map[string]any); ok {
				wm["url"] = webhookURL
				hooks++
			}
		}
	}
	if hooks == 0 {
		t.Fatalf("%s has no webhook receiver to point at the test", shippedConfig)
	}
	out, _ := yaml.Marshal(cfg)
	dir := t.TempDir()
	cfgPath := testenv.WriteFile(t, dir, "alertmanager.yml", string(out))
	a := &Alertmanager{server{port: testenv.FreePort(t)}}
	a.run(t, "alertmanager", "prometheus-alertmanager", "/-/ready", 30*time.Second,
		"--config.file="+cfgPath,
		"--storage.path="+filepath.Join(dir, "data"),
		fmt.Sprintf("--web.listen-address=127.0.0.1:%d", a.port),
		"--cluster.listen-address=",
		"--log.level=warn")
	return a
}

func asSlice(v any) []any {
	s, _ := v.([]any)
	return s
}

// Alert is an alert as Alertmanager's API v2 lists it.
type Alert struct {
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     time.Time         `json:"startsAt"`
	EndsAt       time.Time         `json:"endsAt"`
	GeneratorURL string            `json:"generatorURL"`
	// Status is Alertmanager's view (API v2): active, suppressed (silenced or inhibited), resolved.
	Status struct {
		State       string   `json:"state"`
		InhibitedBy []string `json:"inhibitedBy"`
	} `json:"status"`
	// Receivers are the receivers the alert routes to (API v2 only: a webhook notification
	// names its one receiver at the payload's top, WebhookAlert.Receiver).
	Receivers []Receiver `json:"receivers"`
}

// Receiver is one of an alert's receivers (API v2).
type Receiver struct {
	Name string `json:"name"`
}

// Alerts lists Alertmanager's alerts.
func (a *Alertmanager) Alerts() ([]Alert, error) {
	b, err := Get(a.URL("/api/v2/alerts"))
	if err != nil {
		return nil, err
	}
	var out []Alert
	return out, json.Unmarshal(b, &out)
}

// Webhook records what Alertmanager posts to its webhook receivers, with arrival times.
type Webhook struct {
	srv      *httptest.Server
	mu       sync.Mutex
	received []WebhookAlert
}

// WebhookAlert is one alert of a webhook notification.
type WebhookAlert struct {
	Alert
	Status string `json:"status"` // firing or resolved
	// Receiver is the receiver the notification was sent for: the payload's "receiver".
	Receiver string    `json:"-"`
	Arrived  time.Time `json:"-"`
}

// StartWebhook starts a webhook receiver.
func StartWebhook(t testing.TB) *Webhook {
	w := &Webhook{}
	w.srv = httptest.NewServer(http.HandlerFunc(w.serve))
	t.Cleanup(w.srv.Close)
	return w
}

// URL is the webhook's address.
func (w *Webhook) URL() string { return w.srv.URL }

func (w *Webhook) serve(rw http.ResponseWriter, r *http.Request) {
	var msg struct {
		Receiver string         `json:"receiver"`
		Alerts   []WebhookAlert `json:"alerts"`
	}
	if err := json.NewDecoder(r.Body).Decode(&msg); err != nil {
		http.Error(rw, err.Error(), http.StatusBadRequest)
		return
	}
	now := time.Now()
	w.mu.Lock()
	for _, a := range msg.Alerts {
		a.Receiver, a.Arrived = msg.Receiver, now
		w.received = append(w.received, a)
	}
	w.mu.Unlock()
}

// Alerts is every alert received so far, in arrival order.
func (w *Webhook) Alerts() []WebhookAlert {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]WebhookAlert(nil), w.received...)
}

// StartAlertSink stands in for Alertmanager's API where the alerts themselves are not checked:
// it accepts whatever the alertmanager exporter posts, so that its queue never backs up. It
// returns the sink's URL.
func StartAlertSink(t testing.TB) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}
