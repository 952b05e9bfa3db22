#!/usr/bin/env bash
# The production profile at scale and under faults (issue 17): scripts/stack up, then two API and two worker processes
# behind the proxy (scripts/stack run --api 2 --workers 2) on PostgreSQL, RabbitMQ, Redis and s3rver. Through the proxy
# it imports ROWS products, uploads IMAGES images and makes EVENTS product edits (each a webhook event to a local
# receiver); meanwhile the worker holding the import is killed with SIGKILL and started again, and RabbitMQ is
# restarted. It then checks that every job completed exactly once, the catalog is exactly the file, every image is
# ready and every event was delivered (bench/lib/scale-out.py), and prints the figures as a Markdown row.
# scripts/test runs it as a check at 200,000 rows, 500 images and 5,000 events; the default is the longer version.
#   bench/scale-out.sh [rows=500000] [images=500] [events=10000]      BENCH_KEEP=1 keeps the stack's folder and logs
set -euo pipefail
cd "$(dirname "$0")/.."
rows="${1:-500000}"
images="${2:-500}"
events="${3:-10000}"
EMPORIUM_STACK_DIR="$(mktemp -d /tmp/emporium-scale-out.XXXXXX)"
export EMPORIUM_STACK_DIR
finish() {
  local status=$?
  if [ "$status" -ne 0 ] && [ -d "$EMPORIUM_STACK_DIR/logs" ]; then
    for file in "$EMPORIUM_STACK_DIR"/logs/*.log; do
      echo "--- the last lines of $file" >&2
      tail -n 25 "$file" >&2
    done
  fi
  if [ -n "${BENCH_KEEP:-}" ]; then
    echo "[scale-out] kept: $EMPORIUM_STACK_DIR (scripts/stack down with EMPORIUM_STACK_DIR set stops it)" >&2
  else
    scripts/stack down >/dev/null 2>&1 || true
  fi
}
trap finish EXIT

scripts/stack up >/dev/null
# The stack as an operator runs it, with these differences: receivers on loopback over http are allowed, a lost
# worker's jobs are taken over after 10 s instead of 30 and logs keep to warnings.
export Webhooks__AllowPrivateNetworks=true Webhooks__AllowHttp=true Jobs__LeaseDuration=00:00:10 \
  Logging__LogLevel__Default=Warning
scripts/stack run --api 2 --workers 2 >/dev/null
python3 bench/lib/scale-out.py "$EMPORIUM_STACK_DIR" "$rows" "$images" "$events"
