#!/usr/bin/env bash
# Checkout throughput and latency (issue 14) on PostgreSQL: CUSTOMERS signed-in customers (default 32), each in a loop
# adding one unit to its cart and checking out (POST /api/orders with an Idempotency-Key), for SECONDS (default 20):
#   (1) all buyers on one hot variant (every checkout queues on the same row lock);
#   (2) buyers spread over 1,000 variants.
# Baseline, the database's own tool on the same schema in the same run: pgbench with the checkout's writes as one
# transaction (order, line, the guarded decrement, the movement, the two events and the email job), with as many
# clients, on the same hot / spread variants. Prints checkouts per second, p50 and p99 latency, and the ratios.
#   bench/checkout.sh [customers=32] [seconds=20]        BENCH_KEEP=1 keeps the stack for a look
set -euo pipefail
cd "$(dirname "$0")/.."
customers="${1:-32}"
seconds="${2:-20}"
source scripts/lib/services.sh
app_pid=""
cleanup() {
  [ -n "$app_pid" ] && kill "$app_pid" 2>/dev/null
  if [ -n "${BENCH_KEEP:-}" ]; then echo "[bench] kept: $EMPORIUM_STACK_DIR" >&2; else stop_services; fi
}
trap cleanup EXIT

start_postgres
psql_() { psql -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$EMPORIUM_PG_PORT" -U postgres "$@"; }
psql_ -d postgres -c "CREATE DATABASE emporium_bench"
unset DATABASE_URL
# BENCH_PG_OPTIONS adds connection-string options to the service's (e.g. "Max Auto Prepare=50;No Reset On Close=true").
export Database__Provider=Postgres Database__ConnectionString="Host=127.0.0.1;Port=$EMPORIUM_PG_PORT;Username=postgres;Database=emporium_bench${BENCH_PG_OPTIONS:+;$BENCH_PG_OPTIONS}"
work="$EMPORIUM_STACK_DIR/checkout"
mkdir -p "$work"

port="$(free_port)"
dotnet build src/Emporium -c Release -v q -nologo >/dev/null
export EMPORIUM_ADMIN_EMAIL=admin@bench.local EMPORIUM_ADMIN_PASSWORD=bench-password-123 Emporium__DataDirectory="$work/data"
export Logging__LogLevel__Default=Warning RateLimiting__Auth__PermitLimit=100000 MALLOC_ARENA_MAX="${MALLOC_ARENA_MAX:-2}"
# The buyers place many orders each and pay none: no cap on unpaid orders here.
export Commerce__MaxUnpaidOrders=10000
dotnet src/Emporium/bin/Release/net10.0/Emporium.dll --urls "http://127.0.0.1:$port" >"$work/app.log" 2>&1 &
app_pid=$!
base="http://127.0.0.1:$port"
ready=""
for _ in $(seq 1 120); do curl -fs "$base/health/ready" >/dev/null && { ready=1; break; }; sleep 0.5; done
[ -n "$ready" ] || { echo "[bench] the service did not become ready:" >&2; cat "$work/app.log" >&2; exit 1; }

json_field() { python3 -c "import json,sys; print(json.load(sys.stdin)[sys.argv[1]])" "$1"; }
token=$(curl -fs -H 'Content-Type: application/json' -d '{"email":"admin@bench.local","password":"bench-password-123"}' "$base/api/auth/login" | json_field access_token)

# 1,000 products with plenty of stock (set in SQL: the movements are not what is measured).
python3 - "$work/products.csv" <<'PY'
import sys
with open(sys.argv[1], "w") as f:
    f.write("sku,name,price\n")
    for i in range(1000):
        f.write(f"CHK-{i:04d},Checkout bench {i},{1 + i % 50}.99\n")
PY
job=$(curl -fs -H "Authorization: Bearer $token" -F "file=@$work/products.csv;type=text/csv" "$base/api/products/upload" | json_field job_id)
until curl -fs -H "Authorization: Bearer $token" "$base/api/jobs/$job" | grep -q '"status":"COMPLETED"'; do sleep 0.3; done
psql_ -d emporium_bench -c "UPDATE variants SET on_hand = 100000000"
psql_ -d emporium_bench -Atc "SELECT id FROM variants ORDER BY id" >"$work/spread.txt"
head -n 1 "$work/spread.txt" >"$work/hot.txt"
echo "[bench] $(wc -l <"$work/spread.txt") variants; registering $customers customers" >&2

: >"$work/tokens.txt"
for i in $(seq 1 "$customers"); do
  body="{\"email\":\"buyer$i@bench.local\",\"password\":\"bench-password-123\"}"
  curl -fs -H 'Content-Type: application/json' -d "$body" "$base/api/auth/register" >/dev/null
  curl -fs -H 'Content-Type: application/json' -d "$body" "$base/api/auth/login" | json_field access_token >>"$work/tokens.txt"
done

load() { dotnet run --file bench/lib/checkout-load.cs -c Release -- "$base" "$work/tokens.txt" "$1" "$seconds" 2>>"$work/load.err"; }
load "$work/hot.txt" >/dev/null  # warm-up: JIT, connection pools, the load tool's own build (not measured)
echo "[bench] service, hot variant" >&2
hot=$(load "$work/hot.txt")
echo "[bench] service, spread over 1,000 variants" >&2
spread=$(load "$work/spread.txt")

# The baseline: the same writes as one transaction per checkout, by pgbench on the same database and schema.
cat >"$work/checkout.sql" <<'SQL'
\set v random(:lo, :hi)
BEGIN;
INSERT INTO orders (email, status, currency, total, item_count, created_at, updated_at, version) VALUES ('buyer@bench.local', 'Pending', 'USD', 1.99, 1, now(), now(), 1);
INSERT INTO order_lines (order_id, variant_id, product_id, sku, name, attributes, unit_price, quantity, line_total) VALUES (currval(pg_get_serial_sequence('orders', 'id')), :v, 1, 'CHK', 'Checkout bench', '{}', 1.99, 1, 1.99);
INSERT INTO events (event_id, type, data, occurred_at) VALUES ('evt_' || md5(random()::text), 'order.created', '{}', now());
INSERT INTO jobs (kind, payload, status, attempts, max_attempts, next_run_at, cancel_requested, created_at, updated_at) VALUES ('bench.none', '{}', 'COMPLETED', 0, 1, now(), false, now(), now());
UPDATE variants SET on_hand = on_hand - 1, version = version + 1, updated_at = now() WHERE id = :v AND on_hand >= 1;
INSERT INTO stock_movements (variant_id, delta, on_hand, reason, created_at) VALUES (:v, -1, 0, 'order', now());
INSERT INTO events (event_id, type, data, occurred_at) VALUES ('evt_' || md5(random()::text), 'stock.changed', '{}', now());
COMMIT;
SQL
pgbench_run() {  # LO HI -> "tps p50 p99"
  rm -f "$work"/pgbench_log.*
  (cd "$work" && pgbench -n -h 127.0.0.1 -p "$EMPORIUM_PG_PORT" -U postgres -c "$customers" -j 2 -T "$seconds" -D lo="$1" -D hi="$2" \
    -l --log-prefix=pgbench_log -f checkout.sql emporium_bench 2>"$work/pgbench.err") >"$work/pgbench.out"
  if grep -q "aborted" "$work/pgbench.err"; then echo "[bench] pgbench failed:" >&2; head -5 "$work/pgbench.err" >&2; exit 1; fi
  local tps; tps=$(awk '/^tps = /{print $3}' "$work/pgbench.out")
  python3 - "$tps" "$work" <<'PY'
import glob, sys
lat = sorted(int(line.split()[2]) / 1000 for path in glob.glob(f"{sys.argv[2]}/pgbench_log.*") for line in open(path))
pick = lambda p: lat[min(len(lat) - 1, max(0, int(-(-p * len(lat) // 1)) - 1))]
print(f"{float(sys.argv[1]):.1f} {pick(0.50):.1f} {pick(0.99):.1f}")
PY
}
hot_id=$(cat "$work/hot.txt")
echo "[bench] pgbench, hot variant" >&2
read -r base_hot_tps base_hot_p50 base_hot_p99 < <(pgbench_run "$hot_id" "$hot_id")
echo "[bench] pgbench, spread" >&2
read -r base_spread_tps base_spread_p50 base_spread_p99 < <(pgbench_run "$(head -n 1 "$work/spread.txt")" "$(tail -n 1 "$work/spread.txt")")

field() { sed -n "s/.*$1=\([^ ]*\).*/\1/p" <<<"$2"; }
ratio() { python3 -c "import sys; print(f'{float(sys.argv[1]) / float(sys.argv[2]):.2f}')" "$1" "$2"; }
echo
echo "| $customers buyers, ${seconds} s, PostgreSQL | checkouts/s | p50 (ms) | p99 (ms) | baseline (pgbench) tx/s | p50 | p99 | service / baseline |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|"
echo "| one hot variant | $(field per_second "$hot") | $(field p50_ms "$hot") | $(field p99_ms "$hot") | $base_hot_tps | $base_hot_p50 | $base_hot_p99 | $(ratio "$(field per_second "$hot")" "$base_hot_tps") |"
echo "| spread over 1,000 variants | $(field per_second "$spread") | $(field p50_ms "$spread") | $(field p99_ms "$spread") | $base_spread_tps | $base_spread_p50 | $base_spread_p99 | $(ratio "$(field per_second "$spread")" "$base_spread_tps") |"
echo
echo "service hot: $hot"
echo "service spread: $spread"
