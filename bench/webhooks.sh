#!/usr/bin/env bash
# Webhook delivery throughput (issue 4): 10 local receivers (bench/webhook-receivers.py, asyncio, keep-alive),
# 10 subscriptions each receiving every event, N events inserted in one SQL statement (as committed writes would
# leave them), and the time from that commit until every delivery is SUCCEEDED, on PostgreSQL with one service
# process (Emporium:Role=All). Prints the time, deliveries per second and the service's peak RSS.
#   bench/webhooks.sh [events=10000] [subscriptions=10]
set -euo pipefail
cd "$(dirname "$0")/.."
events="${1:-10000}"
subs="${2:-10}"
source scripts/lib/services.sh
app_pid="" receivers_pid=""
cleanup() { [ -n "$app_pid" ] && kill "$app_pid" 2>/dev/null; [ -n "$receivers_pid" ] && kill "$receivers_pid" 2>/dev/null; stop_services; }
trap cleanup EXIT
start_postgres
psql_() { psql -qtA -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$EMPORIUM_PG_PORT" -U postgres "$@"; }
now() { python3 -c 'import time; print(time.time())'; }
psql_ -d postgres -c "CREATE DATABASE emporium_bench"

python3 bench/webhook-receivers.py "$subs" >"$EMPORIUM_STACK_DIR/ports" 2>"$EMPORIUM_STACK_DIR/receivers.log" &
receivers_pid=$!
for _ in $(seq 1 50); do [ "$(wc -l <"$EMPORIUM_STACK_DIR/ports")" -ge "$subs" ] && break; sleep 0.1; done

port="$(free_port)"
dotnet build src/Emporium -c Release -v q -nologo >/dev/null
export Database__Provider=Postgres Database__ConnectionString="Host=127.0.0.1;Port=$EMPORIUM_PG_PORT;Username=postgres;Database=emporium_bench"
export EMPORIUM_ADMIN_EMAIL=admin@bench.local EMPORIUM_ADMIN_PASSWORD=bench-password-123 Emporium__DataDirectory="$EMPORIUM_STACK_DIR/data"
export Logging__LogLevel__Default=Warning
export Webhooks__AllowPrivateNetworks=true Webhooks__AllowHttp=true
# Concurrency is a setting; WEBHOOKS_* override the defaults for a run.
export Webhooks__MaxConcurrencyPerSubscription="${WEBHOOKS_PER_SUBSCRIPTION:-8}" Webhooks__MaxConcurrency="${WEBHOOKS_MAX:-128}"
dotnet src/Emporium/bin/Release/net10.0/Emporium.dll --urls "http://127.0.0.1:$port" >"$EMPORIUM_STACK_DIR/app.log" 2>&1 &
app_pid=$!
for _ in $(seq 1 120); do curl -fs "http://127.0.0.1:$port/health/ready" >/dev/null && break; sleep 0.5; done

while read -r receiver_port; do
  psql_ -d emporium_bench -c "INSERT INTO webhook_subscriptions (url, event_types, is_active, secret, created_at, updated_at, version)
    VALUES ('http://127.0.0.1:$receiver_port/hook', '*', true, 'whsec_' || encode(decode(md5(random()::text) || md5(random()::text), 'hex'), 'base64'), now(), now(), 1)"
done <"$EMPORIUM_STACK_DIR/ports"

expected=$((events * subs))
start=$(now)
psql_ -d emporium_bench -c "INSERT INTO events (event_id, type, data, occurred_at)
  SELECT 'evt_' || md5('bench' || i), 'product.updated',
         json_build_object('id', i, 'sku', 'SKU-' || i, 'name', 'Product ' || i, 'price', 9.99, 'currency', 'USD')::text, now()
  FROM generate_series(1, $events) AS i"
while :; do
  done_=$(psql_ -d emporium_bench -c "SELECT count(*) FROM webhook_deliveries WHERE status = 'SUCCEEDED'")
  [ "$done_" -ge "$expected" ] && break
  sleep 0.2
done
end=$(now)
peak=$(awk '/VmHWM/ {printf "%d MB", $2/1024}' "/proc/$app_pid/status")
attempts=$(psql_ -d emporium_bench -c "SELECT count(*) FROM webhook_attempts")
kill "$receivers_pid"; wait "$receivers_pid" 2>/dev/null || true; receivers_pid=""
python3 - "$start" "$end" "$events" "$subs" "$expected" "$attempts" "$peak" "$Webhooks__MaxConcurrencyPerSubscription" "$Webhooks__MaxConcurrency" <<'PY'
import sys
start, end, events, subs, expected, attempts, peak, per, total = sys.argv[1:]
s = float(end) - float(start)
print(f"| events x subscriptions | deliveries | attempts | seconds | deliveries/s | per-subscription / total concurrency | peak RSS |")
print(f"|---|---:|---:|---:|---:|---|---:|")
print(f"| {events} x {subs} | {expected} | {attempts} | {s:.1f} | {int(expected) / s:.0f} | {per} / {total} | {peak} |")
PY
cat "$EMPORIUM_STACK_DIR/receivers.log" >&2
