#!/usr/bin/env bash
# Chaos tests (tests/chaos, `make chaos`, part of `make test`): the built collector with the
# shipped distribution/config.yaml against tetragon-sim, VictoriaLogs and Prometheus, while the
# log store goes away, the collector or Tetragon is SIGKILLed, the queue fills, the rules files
# and the input go bad. Prints the summary table recorded in testbed/RESULTS.md ("Chaos tests");
# it is also written to $CHAOS_SUMMARY (default testbed/out/chaos-summary.md).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-test-deps.sh >/dev/null
export PATH="$PATH:$(go env GOPATH)/bin"
summary="${CHAOS_SUMMARY:-$PWD/testbed/out/chaos-summary.md}"
mkdir -p "$(dirname "$summary")"
rm -f "$summary"
start=$SECONDS
set +e
OTELCOL_BIN="$PWD/bin/otelcol-runtime-security" TETRAGON_SIM_BIN="$PWD/bin/tetragon-sim" CHAOS_SUMMARY="$summary" \
  go test -count=1 -tags chaos -timeout 15m -v ./tests/chaos/ 2>&1 | tee "${CHAOS_LOG:-/dev/null}" |
  grep -E '^(=== RUN|--- |PASS|FAIL|ok|\s+\S+_test\.go:[0-9]+:)'
status=${PIPESTATUS[0]}
set -e
[ -f "$summary" ] && cat "$summary"
echo "chaos tests: $((SECONDS - start)) s"
exit "$status"
