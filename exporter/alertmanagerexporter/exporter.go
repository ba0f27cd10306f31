// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

package alertmanagerexporter

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/exporter/exporterhelper"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"

	"github.com/otelcol-runtime-security/otelcol-runtime-security/exporter/alertmanagerexporter/internal/metadata"
	"github.com/otelcol-runtime-security/otelcol-runtime-security/internal/attrkey"
)

const (
	alertsPath = "/api/v2/alerts"
	// maxErrorBody bounds how much of Alertmanager's answer goes into an error.
	maxErrorBody = 512
)

// Reasons of exporter_alertmanager_records_skipped.
const (
	reasonNotDetection = "not_detection"
	reasonBelowMin     = "below_min_severity"
	reasonStale        = "stale"
)

type alertmanagerExporter struct {
	cfg       *Config
	logger    *zap.Logger
	set       component.TelemetrySettings
	telemetry *metadata.TelemetryBuilder
	client    *http.Client
	url       string
	// safeURL is url without credentials, for errors and logs.
	safeURL   string
	userAgent string
	minRank   int
	builder   alertBuilder
	tracker   *tracker
	now       func() time.Time
}

func newExporter(cfg *Config, set exporter.Settings) (*alertmanagerExporter, error) {
	runbook, err := parseURLTemplate("runbook_url_template", cfg.RunbookURLTemplate)
	if err != nil {
		return nil, err
	}
	evidence, err := parseURLTemplate("evidence_url_template", cfg.EvidenceURLTemplate)
	if err != nil {
		return nil, err
	}
	u, err := url.Parse(strings.TrimSuffix(cfg.ClientConfig.Endpoint, "/") + alertsPath)
	if err != nil {
		return nil, fmt.Errorf("endpoint: %w", err)
	}
	tb, err := metadata.NewTelemetryBuilder(set.TelemetrySettings)
	if err != nil {
		return nil, err
	}
	return &alertmanagerExporter{
		cfg:       cfg,
		logger:    set.Logger,
		set:       set.TelemetrySettings,
		telemetry: tb,
		url:       u.String(),
		safeURL:   u.Redacted(),
		userAgent: fmt.Sprintf("%s/%s", set.BuildInfo.Command, set.BuildInfo.Version),
		minRank:   severityRank[cfg.MinSeverity],
		builder: alertBuilder{
			cfg:            cfg,
			runbook:        templateRef{runbook},
			evidence:       templateRef{evidence},
			resolveTimeout: cfg.ResolveTimeout,
		},
		tracker: newTracker(cfg.MaxTrackedIncidents),
		now:     time.Now,
	}, nil
}

func (e *alertmanagerExporter) start(ctx context.Context, host component.Host) error {
	client, err := e.cfg.ClientConfig.ToClient(ctx, host.GetExtensions(), e.set)
	if err != nil {
		return err
	}
	e.client = client
	return nil
}

func (e *alertmanagerExporter) shutdown(context.Context) error {
	if e.client != nil {
		e.client.CloseIdleConnections()
	}
	e.telemetry.Shutdown()
	return nil
}

// collect picks one candidate per alert of the batch: an incident's latest state, or a lone
// detection's latest record with the others' counts folded in. Order of first appearance.
func (e *alertmanagerExporter) collect(ld plog.Logs, now time.Time, skipped map[string]int64) []*candidate {
	var out []*candidate
	byKey := map[string]int{}
	rls := ld.ResourceLogs()
	for i := 0; i < rls.Len(); i++ {
		rl := rls.At(i)
		res := rl.Resource()
		sls := rl.ScopeLogs()
		for j := 0; j < sls.Len(); j++ {
			lrs := sls.At(j).LogRecords()
			for k := 0; k < lrs.Len(); k++ {
				lr := lrs.At(k)
				// Records with an incident id but no rule are the incident's evidence, not
				// detections: they never page.
				if attrkey.Str(lr.Attributes(), attrkey.RuleName) == "" {
					skipped[reasonNotDetection]++
					continue
				}
				c := newCandidate(res, lr, now)
				if severityRank[c.severity] < e.minRank {
					skipped[reasonBelowMin]++
					continue
				}
				var key string
				if c.incident != "" {
					key = "i\x00" + c.incident
				} else {
					key = "d\x00" + fingerprint(c.labels)
				}
				idx, ok := byKey[key]
				switch {
				case !ok:
					byKey[key] = len(out)
					out = append(out, c)
				case c.incident != "":
					if c.newer(out[idx]) {
						out[idx] = c
					}
				default:
					out[idx].mergeLone(c)
				}
			}
		}
	}
	return out
}

// postItem is an alert of a request and what its acceptance means for the exporter's state.
type postItem struct {
	alert    alert
	resolved bool     // a superseded label set, resolved
	commit   *tracked // the incident state to remember once accepted
}

// pushLogs turns a batch into alerts and posts them. A retryable error makes exporterhelper call
// it again with the same batch; the tracked state changes only with accepted alerts, so a retry
// posts the same alerts again (Alertmanager merges them).
func (e *alertmanagerExporter) pushLogs(ctx context.Context, ld plog.Logs) (err error) {
	now := e.now()
	skipped := map[string]int64{}
	defer func() {
		// Count skipped records once per batch: not on attempts that will be retried.
		if err == nil || consumererror.IsPermanent(err) {
			for reason, n := range skipped {
				e.telemetry.ExporterAlertmanagerRecordsSkipped.Add(ctx, n, metric.WithAttributes(attribute.String("reason", reason)))
			}
		}
	}()

	var items []postItem
	for _, c := range e.collect(ld, now, skipped) {
		if c.incident == "" {
			items = append(items, postItem{alert: e.builder.build(c, now)})
			continue
		}
		prev, known := e.tracker.get(c.incident)
		if known && (prev.detections > c.detections || (prev.detections == c.detections && prev.lastSeen.After(c.lastSeen))) {
			// A newer state of this incident was posted already (a replay, or batches out of
			// order): posting this one would show old annotations and could re-fire a label set
			// the newer one resolved.
			skipped[reasonStale]++
			continue
		}
		c.labels = incidentLabels(c)
		a := e.builder.build(c, now)
		if known && fingerprint(prev.labels) != fingerprint(a.Labels) {
			items = append(items, postItem{alert: resolved(prev.labels, a, now), resolved: true})
		}
		items = append(items, postItem{alert: a, commit: &tracked{incident: c.incident, labels: a.Labels, detections: c.detections, lastSeen: c.lastSeen}})
	}

	for start := 0; start < len(items); start += e.cfg.MaxAlertsPerRequest {
		chunk := items[start:min(start+e.cfg.MaxAlertsPerRequest, len(items))]
		if err := e.post(ctx, chunk); err != nil {
			return err
		}
		e.accepted(ctx, chunk)
	}
	return nil
}

// accepted updates the tracked incidents and the counters for alerts Alertmanager took.
func (e *alertmanagerExporter) accepted(ctx context.Context, chunk []postItem) {
	var resolvedN int64
	posted := map[string]int64{}
	for _, it := range chunk {
		if it.resolved {
			resolvedN++
			continue
		}
		posted[it.alert.Labels[labelSeverity]]++
		if it.commit != nil {
			if n := e.tracker.put(*it.commit); n > 0 {
				e.telemetry.ExporterAlertmanagerIncidentsEvicted.Add(ctx, int64(n))
			}
		}
	}
	if resolvedN > 0 {
		e.telemetry.ExporterAlertmanagerAlertsResolved.Add(ctx, resolvedN)
	}
	for sev, n := range posted {
		e.telemetry.ExporterAlertmanagerAlertsPosted.Add(ctx, n, metric.WithAttributes(attribute.String("severity", sev)))
	}
}

// post sends one request. Connection errors, 429 and 5xx are retryable; any other 4xx is
// permanent (the same body would be refused again), with Alertmanager's answer in the error.
func (e *alertmanagerExporter) post(ctx context.Context, chunk []postItem) error {
	alerts := make([]alert, len(chunk))
	for i, it := range chunk {
		alerts[i] = it.alert
	}
	body, err := json.Marshal(alerts)
	if err != nil {
		return consumererror.NewPermanent(fmt.Errorf("encode alerts: %w", err))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.url, bytes.NewReader(body))
	if err != nil {
		return consumererror.NewPermanent(fmt.Errorf("alertmanager request to %s: %w", e.safeURL, err))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", e.userAgent)
	resp, err := e.client.Do(req)
	if err != nil {
		// *url.Error repeats the URL (Go redacts its password); keep only the cause.
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err
		}
		return fmt.Errorf("post %d alert(s) to %s: %w", len(alerts), e.safeURL, err)
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody+1))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20)) // let the connection be reused
	if resp.StatusCode/100 == 2 {
		e.logger.Debug("Posted alerts to Alertmanager", zap.Int("alerts", len(alerts)))
		return nil
	}
	msg := strings.TrimSpace(string(answer))
	if len(answer) > maxErrorBody {
		msg = truncate(msg, maxErrorBody)
	}
	err = fmt.Errorf("post %d alert(s) to %s: HTTP %d: %s", len(alerts), e.safeURL, resp.StatusCode, msg)
	switch {
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode/100 == 5:
		if d, ok := retryAfter(resp.Header.Get("Retry-After"), e.now()); ok {
			return exporterhelper.NewThrottleRetry(err, d)
		}
		return err
	case resp.StatusCode/100 == 4:
		return consumererror.NewPermanent(err)
	default:
		return err
	}
}

// retryAfter parses a Retry-After header (seconds or an HTTP date).
func retryAfter(h string, now time.Time) (time.Duration, bool) {
	if h == "" {
		return 0, false
	}
	if s, err := strconv.Atoi(h); err == nil && s >= 0 {
		return time.Duration(s) * time.Second, true
	}
	if t, err := http.ParseTime(h); err == nil && t.After(now) {
		return t.Sub(now), true
	}
	return 0, false
}
