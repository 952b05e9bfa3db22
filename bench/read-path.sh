#!/usr/bin/env bash
# The product read path (issue 16) on PostgreSQL: wrk -t2 -c32 against GET /api/products/{random id} over PRODUCTS
# products (default 500,000, each with a brand and two categories), in one run on this machine:
#   ceiling - the service's cheapest endpoint, /health/live;
#   floor   - bench/lib/pk-read.cs, a minimal ASP.NET Core program doing the same primary-key read with raw Npgsql;
#   service - the product read, once per mode in MODES (default "off Memory Redis": Cache:Provider None, Memory, and
#             Redis on Debian's redis-server). With HOT_IDS set, reads draw ids from that many products, and 5 % of them
#             (COLD_SHARE) from the rest of the catalog: a cache's hit ratio of about 95 % once the hot set is warm;
#             a second run of each cached mode (hits-*) reads hot ids only: every read a hit. Mode Redis1 is Redis with
#             Cache:RedisAfterReads=1 (every load written to Redis at once).
# Each wrk run lasts SECONDS (default 10) after a 3 s warm-up. Prints requests per second, p50 and p99 and the ratios.
# Runs on this machine vary by 10-20 % from one to the next, so ROUNDS (default 1) repeats the modes in turn, and each
# figure is the median of its rounds; with the cached modes, the Redis / Memory ratio of every round is printed too.
# The floor program and the service with the cache off run for the whole script and are measured in every round
# (the cached modes start afresh in each), in alternating order; every program first
# reads for WARMUP seconds (default 20), since a fresh process is slower for its first seconds.
#   bench/read-path.sh [products=500000] [seconds=10]       MODES="off Memory Redis" HOT_IDS=20000 ROUNDS=3 BENCH_KEEP=1
# The cached modes' warm-up reads every hot id once first, so the measured run sees the steady state, not the fill.
set -euo pipefail
cd "$(dirname "$0")/.."
products="${1:-500000}"
seconds="${2:-10}"
modes="${MODES:-off Memory Redis}"
source scripts/lib/services.sh
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  if [ -n "${BENCH_KEEP:-}" ]; then echo "[bench] kept: $EMPORIUM_STACK_DIR" >&2; else stop_services; fi
}
trap cleanup EXIT
ensure_packages wrk

start_postgres
case " $modes " in *" Redis"*) start_redis ;; esac
psql_() { psql -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$EMPORIUM_PG_PORT" -U postgres "$@"; }
psql_ -d postgres -c "CREATE DATABASE emporium_bench"
connection="Host=127.0.0.1;Port=$EMPORIUM_PG_PORT;Username=postgres;Database=emporium_bench"
work="$EMPORIUM_STACK_DIR/read-path"
mkdir -p "$work"
dotnet build src/Emporium -c Release -v q -nologo >/dev/null
unset DATABASE_URL
export Database__Provider=Postgres Database__ConnectionString="$connection${BENCH_PG_OPTIONS:+;$BENCH_PG_OPTIONS}"
export EMPORIUM_ADMIN_EMAIL=admin@bench.local EMPORIUM_ADMIN_PASSWORD=bench-password-123 Emporium__DataDirectory="$work/data"
export MALLOC_ARENA_MAX="${MALLOC_ARENA_MAX:-2}"

# Starts the service with extra environment ("KEY=VALUE ..."), waits until it is ready; sets $base.
start_service() {
  local port; port="$(free_port)"
  env "$@" dotnet src/Emporium/bin/Release/net10.0/Emporium.dll --urls "http://127.0.0.1:$port" >>"$work/app.log" 2>&1 &
  service_pid=$!
  pids+=("$service_pid")
  base="http://127.0.0.1:$port"
  for _ in $(seq 1 120); do curl -fs "$base/health/ready" >/dev/null && return 0; sleep 0.5; done
  echo "[bench] the service did not become ready:" >&2; tail -50 "$work/app.log" >&2; exit 1
}
stop_service() { kill "$service_pid"; wait "$service_pid" 2>/dev/null || true; }

# The schema comes from the service's own migrations; the rows from SQL (the import is another benchmark).
start_service
stop_service
echo "[bench] inserting $products products" >&2
psql_ -d emporium_bench <<SQL
INSERT INTO brands (name, slug, created_at, updated_at, version)
SELECT 'Brand ' || b, 'brand-' || b, now(), now(), 1 FROM generate_series(1, 200) b;
INSERT INTO categories (name, slug, created_at, updated_at, version)
SELECT 'Category ' || c, 'category-' || c, now(), now(), 1 FROM generate_series(1, 100) c;
INSERT INTO products (sku, sku_key, slug, name, description, price, currency, is_active, brand_id, created_at, updated_at, version)
SELECT 'SKU-' || i, 'SKU-' || i, 'product-' || i, 'Product ' || i, 'A product of the read-path benchmark, number ' || i,
       (i % 1000) + 0.99, 'USD', true, (SELECT min(id) FROM brands) + i % 200, now(), now(), 1
FROM generate_series(1, $products) i;
INSERT INTO product_categories (product_id, category_id)
SELECT p.id, c.id FROM products p JOIN categories c ON c.id IN ((SELECT min(id) FROM categories) + p.id % 100, (SELECT min(id) FROM categories) + (p.id + 37) % 100);
VACUUM ANALYZE;
SQL
read -r min_id max_id < <(psql_ -d emporium_bench -Atc "SELECT min(id), max(id) FROM products" | tr '|' ' ')
hot="${HOT_IDS:-$products}"
export MIN_ID="$min_id" MAX_ID=$((min_id + hot - 1))
[ "$hot" -lt "$products" ] && export COLD_ID_MAX="$max_id"
# Reads the hot ids through the service at $base in order (the cached modes' fill), long enough to cover each at least
# once at the uncached rate.
fill() {
  READ_PATH=/api/products/ wrk -t2 -c32 -d"$(( hot / 1000 + 5 ))s" -s bench/lib/sequential-id.lua "$base/" >/dev/null
}

results="$work/results.txt"
: >"$results"
# run NAME URL_PREFIX: warm-up, then the measured wrk run; one line "NAME rps p50_ms p99_ms" in $results.
run() {
  local name="$1"
  READ_PATH="$2" wrk -t2 -c32 -d3s -s bench/lib/random-id.lua "$3" >/dev/null
  READ_PATH="$2" wrk -t2 -c32 -d"${seconds}s" --latency -s bench/lib/random-id.lua "$3" >"$work/wrk-$name.txt"
  python3 - "$name" "$work/wrk-$name.txt" >>"$results" <<'PY'
import re, sys
text = open(sys.argv[2]).read()
def ms(label):
    m = re.search(rf"^\s*{label}\s+([\d.]+)(us|ms|s)", text, re.M)
    value, unit = float(m.group(1)), m.group(2)
    return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
errors = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
print(sys.argv[1], f"{rps:.0f}", f"{ms('50%'):.2f}", f"{ms('99%'):.2f}", errors.group(1) if errors else "0")
PY
  tail -1 "$results" >&2
}

# The floor: raw Npgsql in a minimal program, started once and measured in every round beside the service's modes (it
# idles while they run), so that drift during the run (PostgreSQL's cache warming) favours neither; the service with
# the cache off likewise (below).
floor_port="$(free_port)"
dotnet run --file bench/lib/pk-read.cs -c Release -- "$connection" "http://127.0.0.1:$floor_port" >"$work/floor.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 240); do curl -fs "http://127.0.0.1:$floor_port/products/$min_id" >/dev/null && break; sleep 0.5; done
# A fresh process runs its first seconds at about two thirds of its speed (the JIT's tiers, the pools filling): each
# program gets WARMUP seconds (default 20) of the same reads before it is measured, the cached modes their fill besides.
warm() { READ_PATH="$1" wrk -t2 -c32 -d"${WARMUP:-20}s" -s bench/lib/random-id.lua "$2" >/dev/null; }
warm "/products/" "http://127.0.0.1:$floor_port/"

# Ceiling, floor and the service's modes, ROUNDS times in turn.
# Even rounds take them in reverse order, so that drift during the run (PostgreSQL's cache warming) favours none.
for round in $(seq 1 "${ROUNDS:-1}"); do
order="floor $modes"
[ $((round % 2)) = 0 ] && order="$(echo "$order" | tr ' ' '\n' | tac | tr '\n' ' ')"
for mode in $order; do
  if [ "$mode" = floor ]; then
    run floor "/products/" "http://127.0.0.1:$floor_port/"
    continue
  fi
  # The cache off is compared with the floor, so it lives as long as the floor does: started in the first round and
  # measured again in every round. A process started afresh for each round stays at its first minute's speed while
  # the floor's keeps rising (one run: the floor 4,696 in round 1 and 7,247 in round 7, the fresh service flat at
  # 3,669-5,069). The cached modes are compared with each other, each started afresh in every round.
  if [ "$mode" = off ] && [ -n "${off_base:-}" ]; then
    run service-off "/api/products/" "$off_base/"
    continue
  fi
  case "$mode" in
    off) start_service Logging__LogLevel__Default=Warning Cache__Provider=None ;;
    Memory) start_service Logging__LogLevel__Default=Warning Cache__Provider=Memory ;;
    Redis) start_service Logging__LogLevel__Default=Warning Cache__Provider=Redis Cache__Redis="$EMPORIUM_TEST_REDIS" \
      Cache__KeyPrefix="bench-$RANDOM:" ;;
    # Every load written to Redis at once, as before Cache:RedisAfterReads (default 2).
    Redis1) start_service Logging__LogLevel__Default=Warning Cache__Provider=Redis Cache__Redis="$EMPORIUM_TEST_REDIS" \
      Cache__KeyPrefix="bench-$RANDOM:" Cache__RedisAfterReads=1 ;;
    *) echo "[bench] unknown mode $mode (off, Memory, Redis, Redis1)" >&2; exit 2 ;;
  esac
  warm "/api/products/" "$base/"
  [ "$mode" != off ] && [ "$hot" -lt "$products" ] && fill
  if [ "$round" = 1 ] && [ "$mode" = "$(echo "$modes" | awk '{print $1}')" ]; then
    run ceiling "/health/live?" "$base/"
    # The other reads the issue names, on the same fix: the brand list and a page of the product list.
    run "brands-$mode" "/api/brands?page_size=20&n=" "$base/"
    run "list-$mode" "/api/products?page_size=20&n=" "$base/"
  fi
  run "service-$mode" "/api/products/" "$base/"
  # The same with every read a hit (no cold ids): what an entry in memory costs.
  if [ "$mode" != off ] && [ "$hot" -lt "$products" ]; then
    COLD_SHARE=0 run "hits-$mode" "/api/products/" "$base/"
  fi
  if [ "$mode" = off ]; then off_base="$base"; else stop_service; fi
done
done


python3 - "$results" <<'PY'
import statistics, sys
runs = {}
for line in open(sys.argv[1]):
    name, *figures = line.split()
    runs.setdefault(name, []).append(figures)
# Each name's median run (by requests per second).
rows = {name: sorted(figures, key=lambda f: float(f[0]))[len(figures) // 2] for name, figures in runs.items()}
ceiling, floor = float(rows["ceiling"][0]), float(rows["floor"][0])
print(f"{'run':<16}{'rounds':>7}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'non-2xx':>9}{'/ ceiling':>11}{'/ floor':>9}")
for name, (rps, p50, p99, errors) in rows.items():
    print(f"{name:<16}{len(runs[name]):>7}{float(rps):>9.0f}{float(p50):>9.2f}{float(p99):>9.2f}{errors:>9}{float(rps) / ceiling:>11.2f}{float(rps) / floor:>9.2f}")
if runs.get("floor") and runs.get("service-off"):
    ratios = [float(o[0]) / float(f[0]) for f, o in zip(runs["floor"], runs["service-off"])]
    print(f"service-off / floor by round: {', '.join(f'{x:.2f}' for x in ratios)}; median {statistics.median(ratios):.2f}")
for kind in ("service", "hits"):
    for mode in ("Redis", "Redis1"):
        memory, redis = runs.get(f"{kind}-Memory"), runs.get(f"{kind}-{mode}")
        if memory and redis:
            ratios = [float(r[0]) / float(m[0]) for m, r in zip(memory, redis)]
            print(f"{kind}: {mode} / Memory by round: {', '.join(f'{x:.2f}' for x in ratios)}; median {statistics.median(ratios):.2f}")
PY
