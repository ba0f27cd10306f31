#!/usr/bin/env bash
# Installs what `make test` needs on a fresh Debian machine: Prometheus (+promtool),
# Alertmanager (+amtool) and buildah (the image test) from apt, and VictoriaLogs (the OTLP log
# store standing in for Loki).
# Idempotent; safe to run before every test run.
set -euo pipefail
VICTORIALOGS_VERSION="${VICTORIALOGS_VERSION:-v1.52.1}"

need_apt=()
command -v prometheus >/dev/null || need_apt+=(prometheus)
command -v promtool >/dev/null || need_apt+=(prometheus)
command -v prometheus-alertmanager >/dev/null || need_apt+=(prometheus-alertmanager)
command -v amtool >/dev/null || need_apt+=(prometheus-alertmanager)
command -v buildah >/dev/null || need_apt+=(buildah)
if [ ${#need_apt[@]} -gt 0 ]; then
  sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  # The packages' postinst scripts try to start system services; the tests start their own.
  $sudo apt-get install -y -qq --no-install-recommends $(printf '%s\n' "${need_apt[@]}" | sort -u) >/dev/null
  # Stop any service the package started so the tests own the ports.
  for svc in prometheus prometheus-alertmanager prometheus-node-exporter; do
    (command -v systemctl >/dev/null && $sudo systemctl stop "$svc" 2>/dev/null) || true
    pkill -x "$svc" 2>/dev/null || true
  done
fi

gobin="$(go env GOPATH)/bin"
if [ ! -x "$gobin/victoria-logs" ]; then
  echo "installing victoria-logs $VICTORIALOGS_VERSION"
  go install "github.com/VictoriaMetrics/VictoriaLogs/app/victoria-logs@$VICTORIALOGS_VERSION"
fi
echo "test dependencies ready: $(prometheus --version 2>&1 | head -1); $(prometheus-alertmanager --version 2>&1 | head -1); victoria-logs at $gobin/victoria-logs"
