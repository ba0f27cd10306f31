#!/usr/bin/env bash
# End-to-end test against real Prometheus, Alertmanager and VictoriaLogs on loopback.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-test-deps.sh
export PATH="$PATH:$(go env GOPATH)/bin"
OTELCOL_BIN="$PWD/bin/otelcol-runtime-security" TETRAGON_SIM_BIN="$PWD/bin/tetragon-sim" \
  go test -count=1 -tags e2e -timeout 20m -v ./tests/e2e/... 2>&1 | tee "${E2E_LOG:-/dev/null}" | grep -E '^(=== RUN|--- |PASS|FAIL|ok|\s+\S+_test\.go:[0-9]+:)' 
exit "${PIPESTATUS[0]}"
