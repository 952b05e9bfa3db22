#!/usr/bin/env bash
# Upload memory (issue 12): a 1 GiB CSV (bench/lib/acme-csv.py rows, repeated) is POSTed to /api/products/upload with
# a streamed body (no Content-Length known up front: curl -T, chunked), to an API-only process (Emporium:Role=Api,
# so no worker imports it meanwhile) whose file store is S3 (s3rver from npm) or the local folder. Prints the
# process's resident memory before the upload and its peak (VmHWM) after it, and the upload's wall time; the bytes
# stored must equal the file's.
#   bench/upload-memory.sh [S3|Local] [megabytes=1024]
set -euo pipefail
cd "$(dirname "$0")/.."
store="${1:-S3}"
megabytes="${2:-1024}"
source scripts/lib/services.sh
app_pid=""
cleanup() { [ -n "$app_pid" ] && kill "$app_pid" 2>/dev/null; stop_services; }
trap cleanup EXIT

start_postgres
psql -q -h 127.0.0.1 -p "$EMPORIUM_PG_PORT" -U postgres -d postgres -c "CREATE DATABASE emporium_bench"
export Database__Provider=Postgres Database__ConnectionString="Host=127.0.0.1;Port=$EMPORIUM_PG_PORT;Username=postgres;Database=emporium_bench"
if [ "$store" = S3 ]; then
  start_s3rver
  export Storage__Provider=S3 S3_ENDPOINT="$EMPORIUM_TEST_S3" S3_BUCKET_NAME=emporium S3_ACCESS_KEY=S3RVER S3_SECRET_KEY=S3RVER
fi

csv="$EMPORIUM_STACK_DIR/upload.csv"
bench/lib/acme-csv.py 200000 "$EMPORIUM_STACK_DIR/chunk.csv"
python3 - "$EMPORIUM_STACK_DIR/chunk.csv" "$csv" "$megabytes" <<'PY'
import sys
chunk = open(sys.argv[1], "rb").read()
header, body = chunk.split(b"\r\n", 1)
target = int(sys.argv[3]) * 1024 * 1024
with open(sys.argv[2], "wb") as out:
    out.write(header + b"\r\n")
    written = len(header) + 2
    while written < target:
        piece = body[: target - written]
        out.write(piece)
        written += len(piece)
PY
bytes=$(stat -c %s "$csv")
echo "[bench] $(du -h "$csv" | cut -f1) upload, store $store" >&2

port="$(free_port)"
dotnet build src/Emporium -c Release -v q -nologo >/dev/null
export EMPORIUM_ADMIN_EMAIL=admin@bench.local EMPORIUM_ADMIN_PASSWORD=bench-password-123 Emporium__DataDirectory="$EMPORIUM_STACK_DIR/data"
export Logging__LogLevel__Default=Warning Emporium__Role=Api Import__MaxUploadBytes=$((2 * 1024 * 1024 * 1024)) MALLOC_ARENA_MAX=2
dotnet src/Emporium/bin/Release/net10.0/Emporium.dll --urls "http://127.0.0.1:$port" >"$EMPORIUM_STACK_DIR/app.log" 2>&1 &
app_pid=$!
for _ in $(seq 1 120); do curl -fs "http://127.0.0.1:$port/health/ready" >/dev/null && break; sleep 0.5; done
token=$(curl -fs "http://127.0.0.1:$port/api/auth/login" -H 'Content-Type: application/json' \
  -d '{"email":"admin@bench.local","password":"bench-password-123"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
# One small upload first, so the measured one runs on warm code paths.
printf 'sku,name\r\nwarm,Warm\r\n' | curl -fs -o /dev/null -X POST -T - "http://127.0.0.1:$port/api/products/upload" \
  -H "Authorization: Bearer $token" -H 'Content-Type: text/csv'
rss() { awk -v k="$1:" '$1 == k { print int($2 / 1024) }' "/proc/$app_pid/status"; }
before=$(rss VmRSS)
start=$(date +%s.%N)
status=$(curl -s -o "$EMPORIUM_STACK_DIR/answer.json" -w '%{http_code}' -X POST -T "$csv" "http://127.0.0.1:$port/api/products/upload" \
  -H "Authorization: Bearer $token" -H 'Content-Type: text/csv' -H 'Transfer-Encoding: chunked')
end=$(date +%s.%N)
[ "$status" = 202 ] || { echo "[bench] upload answered $status: $(cat "$EMPORIUM_STACK_DIR/answer.json")" >&2; exit 1; }
stored=$(psql -qtA -h 127.0.0.1 -p "$EMPORIUM_PG_PORT" -U postgres -d emporium_bench \
  -c "SELECT payload::json->>'bytes' FROM jobs ORDER BY id DESC LIMIT 1")
[ "$stored" = "$bytes" ] || { echo "[bench] stored $stored bytes, the file has $bytes" >&2; exit 1; }
printf 'store=%s upload_mb=%d seconds=%.1f rss_before_mb=%d peak_rss_mb=%d\n' \
  "$store" "$((bytes / 1024 / 1024))" "$(python3 -c "print($end - $start)")" "$before" "$(rss VmHWM)"
