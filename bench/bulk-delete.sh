#!/usr/bin/env bash
# Bulk delete of every product (issue 3: 500,000 products in under 15 s). Starts a throw-away PostgreSQL (or uses a
# SQLite file), runs Emporium (Release) against it, fills the catalog with generated rows in SQL, then times
# POST /api/products/bulk_delete {"all": true} as the admin until the job is COMPLETED. For reference it also times
# one plain UPDATE of the same rows in psql (sqlite3) on an identical copy.
#   bench/bulk-delete.sh [rows=500000] [Postgres|Sqlite]
set -euo pipefail
cd "$(dirname "$0")/.."
rows="${1:-500000}"
provider="${2:-Postgres}"
source scripts/lib/services.sh
app_pid=""
cleanup() { [ -n "${BENCH_KEEP:-}" ] && { echo "[bench] kept: stack $EMPORIUM_STACK_DIR" >&2; return; }; [ -n "$app_pid" ] && kill "$app_pid" 2>/dev/null; stop_services; }
trap cleanup EXIT
now() { python3 -c 'import time; print(time.time())'; }
elapsed() { python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.1f}')" "$1" "$2"; }

mkdir -p "$EMPORIUM_STACK_DIR/data"
case "$provider" in
  Postgres)
    start_postgres
    psql_() { psql -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$EMPORIUM_PG_PORT" -U postgres "$@"; }
    psql_ -d postgres -c "CREATE DATABASE emporium_bench"
    export Database__Provider=Postgres Database__ConnectionString="Host=127.0.0.1;Port=$EMPORIUM_PG_PORT;Username=postgres;Database=emporium_bench"
    ;;
  Sqlite)
    db="$EMPORIUM_STACK_DIR/data/emporium.db"
    export Database__Provider=Sqlite Database__ConnectionString="Data Source=$db"
    ;;
  *) echo "provider must be Postgres or Sqlite" >&2; exit 2 ;;
esac

port="$(free_port)"
dotnet build src/Emporium -c Release -v q -nologo >/dev/null
export EMPORIUM_ADMIN_EMAIL=admin@bench.local EMPORIUM_ADMIN_PASSWORD=bench-password-123 Emporium__DataDirectory="$EMPORIUM_STACK_DIR/data"
export Logging__LogLevel__Default=Warning
dotnet src/Emporium/bin/Release/net10.0/Emporium.dll --urls "http://127.0.0.1:$port" >"$EMPORIUM_STACK_DIR/app.log" 2>&1 &
app_pid=$!
for _ in $(seq 1 120); do curl -fs "http://127.0.0.1:$port/health/ready" >/dev/null && break; sleep 0.5; done

echo "[bench] generating $rows products ($provider)" >&2
start=$(now)
if [ "$provider" = Postgres ]; then
  # The reference database gets the service's schema (indexes, search column) and the same rows.
  psql_ -d postgres -c "CREATE DATABASE emporium_reference"
  pg_dump -s -h 127.0.0.1 -p "$EMPORIUM_PG_PORT" -U postgres emporium_bench | psql_ -d emporium_reference >/dev/null
  for database in emporium_bench emporium_reference; do
  psql_ -d "$database" <<SQL
INSERT INTO products (sku, sku_key, slug, name, description, price, currency, is_active, created_at, updated_at, version)
SELECT 'SKU-' || g, 'SKU-' || g, 'product-' || g,
       (ARRAY['Classic','Modern','Rugged','Compact','Deluxe','Eco','Ultra','Vintage','Smart','Pro'])[1 + g % 10] || ' ' ||
       (ARRAY['Blue','Red','Green','Black','White','Orange','Purple','Grey','Yellow','Silver','Gold','Navy'])[1 + (g / 10) % 12] || ' ' ||
       (ARRAY['Shirt','Boots','Jacket','Backpack','Helmet','Tent','Lamp','Bottle','Watch','Gloves','Scarf','Chair','Table','Kettle','Drone'])[1 + (g / 120) % 15] || ' ' || g,
       'A ' || (ARRAY['durable','lightweight','waterproof','handmade','recycled','premium'])[1 + g % 6] ||
       ' product for ' || (ARRAY['hiking','cycling','climbing','the office','the kitchen','travel','running'])[1 + g % 7] ||
       '. It has been carefully designed to last for many seasons of everyday use, and ships in recyclable packaging. Item number ' || g || '.',
       round(((g::bigint * 7919) % 100000) / 100.0, 2), 'USD', g % 10 <> 0,
       now() - make_interval(secs => g), now() - make_interval(secs => g), 1
FROM generate_series(1, $rows) g;
VACUUM ANALYZE;
SQL
  done
else
  sqlite3 "$db" <<SQL
PRAGMA journal_mode = WAL;
WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < $rows)
INSERT INTO products (sku, sku_key, slug, name, description, price, currency, is_active, created_at, updated_at, version)
SELECT 'SKU-' || n, 'SKU-' || n, 'product-' || n,
       'Rugged Navy Tent ' || n,
       'A waterproof product for hiking. It has been carefully designed to last for many seasons of everyday use, and ships in recyclable packaging. Item number ' || n || '.',
       ((n * 7919) % 100000) / 100.0, 'USD', n % 10 <> 0,
       strftime('%Y-%m-%d %H:%M:%f', 'now', '-' || n || ' seconds'), strftime('%Y-%m-%d %H:%M:%f', 'now', '-' || n || ' seconds'), 1
FROM g;
ANALYZE;
SQL
  sqlite3 "$db" "VACUUM INTO '$EMPORIUM_STACK_DIR/data/reference.db'"
fi
echo "[bench] generated in $(elapsed "$start" "$(now)") s" >&2

token=$(curl -fs -H 'Content-Type: application/json' -d '{"email":"admin@bench.local","password":"bench-password-123"}' \
  "http://127.0.0.1:$port/api/auth/login" | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
begin=$(now)
job=$(curl -fs -H "Authorization: Bearer $token" -H 'Content-Type: application/json' -d '{"all": true}' \
  "http://127.0.0.1:$port/api/products/bulk_delete" | python3 -c 'import json,sys; print(json.load(sys.stdin)["job_id"])')
while :; do
  status=$(curl -fs -H "Authorization: Bearer $token" "http://127.0.0.1:$port/api/jobs/$job" \
    | python3 -c 'import json,sys; j=json.load(sys.stdin); print(j["status"], json.dumps(j.get("result")))')
  case "$status" in COMPLETED*|FAILED*|DEAD*|CANCELLED*) break ;; esac
  sleep 0.1
done
service=$(elapsed "$begin" "$(now)")
echo "[bench] bulk delete: $service s, $status" >&2

start=$(now)
if [ "$provider" = Postgres ]; then
  psql_ -d emporium_reference -c "UPDATE products SET deleted_at = now(), updated_at = now(), version = version + 1 WHERE deleted_at IS NULL"
else
  sqlite3 "$EMPORIUM_STACK_DIR/data/reference.db" \
    "UPDATE products SET deleted_at = strftime('%Y-%m-%d %H:%M:%f', 'now'), updated_at = strftime('%Y-%m-%d %H:%M:%f', 'now'), version = version + 1 WHERE deleted_at IS NULL"
fi
reference=$(elapsed "$start" "$(now)")

cat <<EOF2
| what ($rows products, $provider) | seconds |
|---|---:|
| Emporium: POST /api/products/bulk_delete {"all": true} to COMPLETED | $service |
| reference: one UPDATE of every row (psql / sqlite3), same schema and data | $reference |

job result: ${status#* }
EOF2
