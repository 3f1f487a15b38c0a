#!/usr/bin/env bash
# Runs the whole test suite N times in a row (issue 10: `npm test` must pass 10 runs in a row on a
# loaded machine) and stops at the first failing run, naming it and keeping its output.
# Usage: scripts/repeat-tests.sh [N] [extra vitest arguments]   (N defaults to 10)
# The engine comes from the environment as for `npm test` (TENANTRY_TEST_DB, TENANTRY_TEST_PG_URL).
set -uo pipefail
cd "$(dirname "$0")/.."

runs=${1:-10}
shift || true
if ! [[ "$runs" =~ ^[1-9][0-9]*$ ]]; then
  echo "usage: scripts/repeat-tests.sh [N] [vitest arguments]  (N: a positive whole number, got '$runs')" >&2
  exit 2
fi

logdir=$(mktemp -d "${TMPDIR:-/tmp}/tenantry-repeat.XXXXXX")
for ((i = 1; i <= runs; i++)); do
  started=$(date +%s)
  echo "== run $i of $runs (engine: ${TENANTRY_TEST_DB:-pglite}) started $(date -u +%H:%M:%S) UTC"
  if npm test -- "$@" >"$logdir/run-$i.log" 2>&1; then
    echo "   run $i passed in $(($(date +%s) - started)) s: $(grep -E '^ +Tests ' "$logdir/run-$i.log" | tail -1 | sed 's/^ *//')"
    rm -f "$logdir/run-$i.log"
  else
    echo "== run $i of $runs FAILED after $(($(date +%s) - started)) s; its output: $logdir/run-$i.log" >&2
    grep -E '(FAIL|×) ' "$logdir/run-$i.log" | head -20 >&2
    exit 1
  fi
done
rmdir "$logdir"
echo "== all $runs runs passed"
