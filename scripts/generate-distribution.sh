#!/usr/bin/env bash
# Regenerates the mdatagen code of our components and the ocb distribution in distribution/.
set -euo pipefail
cd "$(dirname "$0")/.."
version="${1:-v0.165.0}"
gobin="$(go env GOPATH)/bin"
builder="$gobin/builder"
if ! "$builder" version 2>/dev/null | grep -q "${version#v}"; then
  echo "installing ocb $version"
  go install "go.opentelemetry.io/collector/cmd/builder@$version"
fi

# Every component of ours has a metadata.yaml.
for meta in receiver/*/metadata.yaml processor/*/metadata.yaml connector/*/metadata.yaml exporter/*/metadata.yaml extension/*/metadata.yaml; do
  dir="$(dirname "$meta")"
  (cd "$dir" && go tool mdatagen metadata.yaml)
done

# ocb writes the sources and go.mod, then runs `go mod tidy`, which fails: fileexporter's *tests*
# import otlpencodingextension v0.165.1, a version the module proxy does not serve. Everything the
# binary imports resolves, so tidy again with -e and let `go build` prove the module is complete.
log="$(mktemp)"
if ! "$builder" --config builder-config.yaml --skip-compilation >"$log" 2>&1; then
  if ! grep -q "otlpencodingextension" "$log"; then
    cat "$log" >&2
    exit 1
  fi
fi
rm -f "$log"
gofmt -w distribution/*.go
cd distribution
go mod tidy -e 2>&1 | grep -v '^go: downloading' | grep -v otlpencodingextension || true
go build -o /dev/null .
echo "distribution/ regenerated"
