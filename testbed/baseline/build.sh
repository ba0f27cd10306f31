#!/usr/bin/env bash
# Builds the stock-contrib baseline collector (see builder-config.yaml) to bin/otelcol-baseline.
#   ./build.sh             compile the committed sources
#   ./build.sh --generate  regenerate the sources with ocb v0.160.0 first
set -euo pipefail
export GOFLAGS=-buildvcs=false
cd "$(dirname "$0")"
root="$(cd ../.. && pwd)"
version=v0.160.0

if [[ "${1:-}" == "--generate" || ! -f go.mod ]]; then
  # A private copy of ocb: the distribution's `make generate` keeps its own (v0.165.0) in GOPATH/bin.
  gobin="$root/.tmp/ocb-$version"
  if ! "$gobin/builder" version 2>/dev/null | grep -q "${version#v}"; then
    echo "installing ocb $version into $gobin"
    GOBIN="$gobin" go install "go.opentelemetry.io/collector/cmd/builder@$version"
  fi
  log="$(mktemp)"
  # ocb runs `go mod tidy`; should a test-only dependency of some component be missing from the
  # proxy (403), fall back to tidy -e and let `go build` prove the module is complete.
  if ! "$gobin/builder" --config builder-config.yaml --skip-compilation >"$log" 2>&1; then
    if ! grep -q "403 Forbidden" "$log"; then
      cat "$log" >&2
      exit 1
    fi
    go mod tidy -e 2>&1 | grep -v '^go: downloading' || true
  fi
  rm -f "$log"
  echo "testbed/baseline regenerated"
fi

mkdir -p "$root/bin"
go build -trimpath -ldflags='-s -w' -o "$root/bin/otelcol-baseline" .
echo "built $root/bin/otelcol-baseline"
