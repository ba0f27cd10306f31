#!/usr/bin/env bash
# Runs every Fuzz* target of the module's packages for FUZZTIME each (default 10s; `make fuzz`,
# part of `make test`). A failing input is written by `go test` to the package's
# testdata/fuzz/<FuzzName>/ directory: commit it, it then runs as a regression case in every
# `go test` (make unit) from then on.
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime="${FUZZTIME:-10s}"
# Minimizing each new interesting input re-runs the target for up to a minute by default (seconds
# of the budget on the protojson-based targets); a crasher is still minimized, briefly.
minimizetime="${FUZZMINIMIZETIME:-1s}"

targets=()
while read -r dir pkg; do
  for name in $(grep -hoE '^func Fuzz[A-Za-z0-9_]+\(' "$dir"/*_test.go 2>/dev/null | sed -E 's/^func (Fuzz[A-Za-z0-9_]+)\(/\1/' | sort -u); do
    targets+=("$pkg $dir $name")
  done
done < <(go list -f '{{.Dir}} {{.ImportPath}}' ./...)
[ ${#targets[@]} -gt 0 ] || { echo "no fuzz targets found"; exit 1; }
echo "fuzzing ${#targets[@]} targets, $fuzztime each"

# fuzz_once runs one target. go's fuzzing coordinator sometimes ends a run with "context deadline
# exceeded" when a worker answers late on a loaded machine, with no failing input: that is retried
# once, and if it happens again it is reported, not failed (there is no input to keep). A failing
# input, a panic, or any other error fails the run.
fuzz_once() {
  local pkg=$1 name=$2 try
  for try in 1 2; do
    if out=$(go test -run '^$' -fuzz "^${name}\$" -fuzztime "$fuzztime" -fuzzminimizetime "$minimizetime" "$pkg" 2>&1); then
      return 0
    fi
    if grep -qE 'Failing input written to|panic:' <<<"$out" || ! grep -q 'context deadline exceeded' <<<"$out"; then
      return 1
    fi
    echo "note ${pkg#github.com/otelcol-runtime-security/otelcol-runtime-security/} $name: the fuzzing coordinator timed out with no failing input (machine load), try $try"
  done
  return 0
}

failed=()
for t in "${targets[@]}"; do
  read -r pkg dir name <<<"$t"
  start=$SECONDS
  if fuzz_once "$pkg" "$name"; then
    execs=$(grep -oE 'execs: [0-9]+' <<<"$out" | tail -1 || true)
    echo "ok   ${pkg#github.com/otelcol-runtime-security/otelcol-runtime-security/} $name (${execs:-execs: ?}, $((SECONDS - start))s)"
  else
    echo "FAIL ${pkg#github.com/otelcol-runtime-security/otelcol-runtime-security/} $name"
    echo "$out" | grep -vE '^fuzz: elapsed' | tail -40
    echo "  the failing input is in ${dir#$PWD/}/testdata/fuzz/$name/: commit it as a regression case"
    failed+=("$name")
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz targets failed: ${failed[*]}"
  exit 1
fi
