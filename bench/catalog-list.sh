#!/usr/bin/env bash
# Catalog read latency with 500,000 products on PostgreSQL (issue 2: a filtered or searched page must
# answer well under 100 ms). Starts a throw-away PostgreSQL, runs Emporium (Release) against it, fills the
# catalog with generated rows in SQL, then times each query over HTTP from a second process.
#   bench/catalog-list.sh [rows=500000] [repeats=30]
set -euo pipefail
cd "$(dirname "$0")/.."
rows="${1:-500000}"
repeats="${2:-30}"
source scripts/lib/services.sh
app_pid=""
# BENCH_KEEP=1 leaves PostgreSQL and the service running afterwards, for EXPLAIN and experiments.
cleanup() { [ -n "${BENCH_KEEP:-}" ] && { echo "[bench] kept: app on :$port, PostgreSQL on :$EMPORIUM_PG_PORT, stack $EMPORIUM_STACK_DIR" >&2; return; }; [ -n "$app_pid" ] && kill "$app_pid" 2>/dev/null; stop_services; }
trap cleanup EXIT
start_postgres
psql_() { psql -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$EMPORIUM_PG_PORT" -U postgres "$@"; }
psql_ -d postgres -c "CREATE DATABASE emporium_bench"

port="$(free_port)"
dotnet build src/Emporium -c Release -v q -nologo >/dev/null
export Database__Provider=Postgres Database__ConnectionString="Host=127.0.0.1;Port=$EMPORIUM_PG_PORT;Username=postgres;Database=emporium_bench"
export EMPORIUM_ADMIN_EMAIL=admin@bench.local EMPORIUM_ADMIN_PASSWORD=bench-password-123 Emporium__DataDirectory="$EMPORIUM_STACK_DIR/data"
export Logging__LogLevel__Default=Warning
dotnet src/Emporium/bin/Release/net10.0/Emporium.dll --urls "http://127.0.0.1:$port" >"$EMPORIUM_STACK_DIR/app.log" 2>&1 &
app_pid=$!
for _ in $(seq 1 120); do curl -fs "http://127.0.0.1:$port/health/ready" >/dev/null && break; sleep 0.5; done

echo "[bench] generating $rows products" >&2
start=$(date +%s)
psql_ -d emporium_bench <<SQL
INSERT INTO brands (name, slug, created_at, updated_at, version)
SELECT 'Brand ' || g, 'brand-' || g, now(), now(), 1 FROM generate_series(1, 200) g;
INSERT INTO categories (name, slug, parent_id, created_at, updated_at, version)
SELECT 'Department ' || g, 'department-' || g, NULL, now(), now(), 1 FROM generate_series(1, 10) g;
INSERT INTO categories (name, slug, parent_id, created_at, updated_at, version)
SELECT 'Aisle ' || g, 'aisle-' || g, 1 + g % 10, now(), now(), 1 FROM generate_series(1, 40) g;
INSERT INTO products (sku, sku_key, slug, name, description, price, currency, is_active, brand_id, created_at, updated_at, version)
SELECT 'SKU-' || g, 'SKU-' || g, 'product-' || g,
       (ARRAY['Classic','Modern','Rugged','Compact','Deluxe','Eco','Ultra','Vintage','Smart','Pro'])[1 + g % 10] || ' ' ||
       (ARRAY['Blue','Red','Green','Black','White','Orange','Purple','Grey','Yellow','Silver','Gold','Navy'])[1 + (g / 10) % 12] || ' ' ||
       (ARRAY['Shirt','Boots','Jacket','Backpack','Helmet','Tent','Lamp','Bottle','Watch','Gloves','Scarf','Chair','Table','Kettle','Drone'])[1 + (g / 120) % 15] || ' ' || g,
       'A ' || (ARRAY['durable','lightweight','waterproof','handmade','recycled','premium'])[1 + g % 6] ||
       ' product for ' || (ARRAY['hiking','cycling','climbing','the office','the kitchen','travel','running'])[1 + g % 7] ||
       '. It has been carefully designed to last for many seasons of everyday use, and ships in recyclable packaging. Item number ' || g || '.',
       round(((g::bigint * 7919) % 100000) / 100.0, 2), 'USD', g % 10 <> 0, 1 + g % 200,
       now() - make_interval(secs => g), now() - make_interval(secs => g), 1
FROM generate_series(1, $rows) g;
INSERT INTO product_categories (product_id, category_id) SELECT id, 11 + id % 40 FROM products;
VACUUM ANALYZE;
SQL
echo "[bench] generated in $(( $(date +%s) - start )) s" >&2

python3 - "$port" "$repeats" "$rows" <<'PY'
import json, statistics, sys, time, urllib.request
port, repeats, rows = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
base = f"http://127.0.0.1:{port}"
queries = [
    "/api/products",
    "/api/products?active=true&min_price=10&max_price=50",
    "/api/products?search=waterproof%20boots",
    "/api/products?search=SKU-123456",
    "/api/products?name=navy%20tent",
    "/api/products?brand=brand-17&sort=price",
    "/api/products?category=department-3",
    "/api/products?sku=sku-250001",
    "/api/products?sort=-price&page=100",
    f"/api/products?sort=name&page={rows // 100 // 2}&page_size=100",
]
print(f"| query ({rows:,} products) | count | p50 ms | p95 ms |")
print("|---|---:|---:|---:|")
for q in queries:
    times, count = [], None
    for i in range(repeats + 3):
        t = time.perf_counter()
        with urllib.request.urlopen(base + q) as r:
            body = json.load(r)
        if i >= 3:  # warm-up requests are not counted
            times.append((time.perf_counter() - t) * 1000)
        count = body.get("count")
    times.sort()
    p95 = times[max(0, int(len(times) * 0.95) - 1)]
    print(f"| `{q}` | {count:,} | {statistics.median(times):.1f} | {p95:.1f} |")

# Keyset paging: the next link of a deep page carries a cursor; following it must not re-read the rows before it.
with urllib.request.urlopen(base + f"/api/products?sort=name&page={rows // 100 // 2}&page_size=100") as r:
    deep = json.load(r)["next"]
times = []
for i in range(repeats + 3):
    t = time.perf_counter()
    with urllib.request.urlopen(deep) as r:
        json.load(r)
    if i >= 3:
        times.append((time.perf_counter() - t) * 1000)
times.sort()
print(f"| next link (cursor) of `sort=name&page={rows // 100 // 2}&page_size=100` | | {statistics.median(times):.1f} | {times[max(0, int(len(times) * 0.95) - 1)]:.1f} |")
PY
