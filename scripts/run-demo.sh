#!/usr/bin/env bash
# make run: the collector against tetragon-sim's demo scenario, or against a real Tetragon when
# an endpoint is given (make run TETRAGON=unix:///var/run/tetragon/tetragon.sock).
set -euo pipefail
cd "$(dirname "$0")/.."
tetragon="${1:-}"
workdir="$(mktemp -d -t otelcol-runtime-security-demo.XXXXXX)"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$workdir"; }
trap cleanup EXIT INT TERM

if [ -z "$tetragon" ]; then
  sock="$workdir/tetragon.sock"
  tetragon="unix://$sock"
  echo "==> starting tetragon-sim (demo scenario: benign cluster traffic + an attack chain, looping) on $tetragon"
  ./bin/tetragon-sim --listen "$tetragon" --generate --scenario demo --rate 20 --loop --restamp >"$workdir/sim.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 50); do [ -S "$sock" ] && break; sleep 0.1; done
  [ -S "$sock" ] || { cat "$workdir/sim.log"; echo "tetragon-sim did not start" >&2; exit 1; }
fi

echo "==> starting otelcol-runtime-security against $tetragon (Ctrl-C to stop)"
echo "    detections print below in full; metrics: curl -s 127.0.0.1:9464/metrics | grep runtime_security"
TETRAGON_ENDPOINT="$tetragon" ./bin/otelcol-runtime-security --config=distribution/demo-config.yaml &
pids+=($!)
wait "${pids[-1]}"
