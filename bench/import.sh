#!/usr/bin/env bash
# CSV import speed and memory (issue 3): a generated file in the Acme products.csv format (bench/lib/acme-csv.py:
# header name,sku,description; CRLF records; line breaks inside quoted descriptions; ~7% duplicate SKUs; no final
# newline) is imported
#   (1) by the database's own CLI, the baseline the issue names: on PostgreSQL psql \copy into a staging table plus
#       one INSERT ... ON CONFLICT; on SQLite the sqlite3 CLI's .import --csv into a staging table plus one
#       INSERT ... SELECT ... ON CONFLICT (both keep the last row of every SKU, ignoring case);
#   (2) by Emporium: POST /api/products/upload to COMPLETED;
#   (3) by Emporium again (all rows unchanged).
# All targets are identical, freshly migrated Emporium databases (schema, indexes, search triggers): on PostgreSQL a
# pg_dump -s of the service's database, on SQLite copies of the service's freshly migrated file. The baseline runs
# before and after the service's imports (on two copies) and the ratio is to the mean of the two. Prints wall and CPU
# seconds and the service's peak RSS.
# ROUNDS=N repeats all of it N times, each round with a freshly started service on a new empty database and new
# baseline copies, and prints every round and the median ratio: single runs on this shared 2-core machine vary by
# 10-30 % in either program.
# FLOOR=1 also runs the service's own statements without the service (bench/lib/import-floor.py), on more copies of the
# empty schema after the re-import: the rows and slugs the service wrote, written as one statement and in its batches (Import:
# BatchSize rows, a commit every FLOOR_BATCHES_PER_COMMIT batches, default 6, about what Import:CommitInterval gives). It
# shows how much of the gap to the baseline is the statements' own shape (the owner, name-derived slugs, RETURNING,
# committing as it goes, the staging table) and how much is the service. Three copies: one statement, the batches, and the
# batches through the staging table as the service writes them. The floor runs in one session; on PostgreSQL the service
# writes its batches on Import:WriterConnections (2) connections at once, so its import can be faster than its floor.
# EMPORIUM_DLL=path runs that build of the service (e.g. a ReadyToRun publish) instead of building this checkout;
# EMPORIUM_PG_OPTIONS="-c name=value ..." adds server settings to the PostgreSQL the script starts.
#   bench/import.sh [rows=500000] [Postgres|Sqlite]        BENCH_KEEP=1 keeps the stack (and files) for a look
set -euo pipefail
cd "$(dirname "$0")/.."
rows="${1:-500000}"
provider="${2:-Postgres}"
rounds="${ROUNDS:-1}"
source scripts/lib/services.sh
app_pid=""
cleanup() {
  [ -n "$app_pid" ] && kill "$app_pid" 2>/dev/null
  if [ -n "${BENCH_KEEP:-}" ]; then echo "[bench] kept: $EMPORIUM_STACK_DIR" >&2; else stop_services; fi
}
trap cleanup EXIT
now() { python3 -c 'import time; print(time.time())'; }
elapsed() { python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.1f}')" "$1" "$2"; }
calc() { python3 -c "print(f'{$1:.${2:-1}f}')"; }

unset Database__ConnectionString DATABASE_URL
case "$provider" in
  Postgres)
    start_postgres
    psql_() { psql -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$EMPORIUM_PG_PORT" -U postgres "$@"; }
    export Database__Provider=Postgres
    ;;
  Sqlite)
    ensure_packages sqlite3
    # The default connection string: {DataDirectory}/emporium.db, created and migrated by the service at start.
    export Database__Provider=Sqlite
    ;;
  *) echo "provider must be Postgres or Sqlite" >&2; exit 2 ;;
esac

csv="$EMPORIUM_STACK_DIR/products.csv"
bench/lib/acme-csv.py "$rows" "$csv"
echo "[bench] $(du -h "$csv" | cut -f1) CSV with $rows rows ($provider)" >&2

# EMPORIUM_DLL runs another build of the service (a published one, say) instead of this checkout's Release build.
service_dll="${EMPORIUM_DLL:-src/Emporium/bin/Release/net10.0/Emporium.dll}"
[ -n "${EMPORIUM_DLL:-}" ] || dotnet build src/Emporium -c Release -v q -nologo >/dev/null
export EMPORIUM_ADMIN_EMAIL=admin@bench.local EMPORIUM_ADMIN_PASSWORD=bench-password-123
export Logging__LogLevel__Default=Warning
# The service runs as the Docker image and scripts/run start it: two glibc malloc arenas (docs/operations.md, "Memory").
export MALLOC_ARENA_MAX="${MALLOC_ARENA_MAX:-2}"

# start_service ROUND: a fresh process on a new, empty database of its own (migrated by the service at start).
start_service() {
  data="$EMPORIUM_STACK_DIR/data-$1"
  mkdir -p "$data"
  export Emporium__DataDirectory="$data"
  if [ "$provider" = Postgres ]; then
    service_db="emporium_bench_$1"
    psql_ -d postgres -c "CREATE DATABASE $service_db"
    export Database__ConnectionString="Host=127.0.0.1;Port=$EMPORIUM_PG_PORT;Username=postgres;Database=$service_db"
  fi
  port="$(free_port)"
  dotnet "$service_dll" --urls "http://127.0.0.1:$port" >"$EMPORIUM_STACK_DIR/app-$1.log" 2>&1 &
  app_pid=$!
  local ready=""
  for _ in $(seq 1 120); do curl -fs "http://127.0.0.1:$port/health/ready" >/dev/null && { ready=1; break; }; sleep 0.5; done
  [ -n "$ready" ] || { echo "[bench] the service did not become ready:" >&2; cat "$EMPORIUM_STACK_DIR/app-$1.log" >&2; exit 1; }
  token=$(curl -fs -H 'Content-Type: application/json' -d '{"email":"admin@bench.local","password":"bench-password-123"}' \
    "http://127.0.0.1:$port/api/auth/login" | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
}
stop_service() { kill "$app_pid"; wait "$app_pid" 2>/dev/null || true; app_pid=""; }

# The baseline runs twice, on two identical fresh copies of the service's empty schema: before the service's imports
# and after them. The machine is shared, so the two runs bracket the service's and the ratio is taken to their mean.
if [ "$provider" = Postgres ]; then
  # make_baseline_targets ROUND: the same schema (tables, indexes, search triggers and columns) as the service's database.
  make_baseline_targets() {
    baseline_targets=("emporium_baseline_$1_a" "emporium_baseline_$1_b")
    [ -z "${FLOOR:-}" ] || baseline_targets+=("emporium_floor_$1_one" "emporium_floor_$1_batches" "emporium_floor_$1_staged")
    local target
    for target in "${baseline_targets[@]}"; do
      psql_ -d postgres -c "CREATE DATABASE $target"
      pg_dump -s -h 127.0.0.1 -p "$EMPORIUM_PG_PORT" -U postgres "$service_db" | psql_ -d "$target" >/dev/null
    done
  }
  baseline_label='psql \copy to staging + INSERT ... ON CONFLICT'
  baseline_run() {
    psql_ -d "$1" <<SQL
CREATE TEMP TABLE staging (name text, sku text, description text);
\copy staging FROM '$csv' WITH (FORMAT csv, HEADER true)
INSERT INTO products (sku, sku_key, slug, name, description, price, currency, is_active, created_at, updated_at, version)
SELECT DISTINCT ON (upper(sku)) sku, upper(sku), lower(sku), name, description, 0, 'USD', true, now(), now(), 1
FROM staging ORDER BY upper(sku), ctid DESC
ON CONFLICT (sku_key) DO UPDATE SET name = excluded.name, description = excluded.description, updated_at = now();
SQL
  }
else
  # make_baseline_targets ROUND: copies of the freshly migrated, still empty file: tables, indexes, the FTS5 table and its
  # triggers. VACUUM INTO writes a rollback-journal file; the service's file is in WAL mode (set by the migrator), so
  # the copies are too.
  make_baseline_targets() {
    baseline_targets=("$EMPORIUM_STACK_DIR/baseline-$1-a.db" "$EMPORIUM_STACK_DIR/baseline-$1-b.db")
    [ -z "${FLOOR:-}" ] || baseline_targets+=("$EMPORIUM_STACK_DIR/floor-$1-one.db" "$EMPORIUM_STACK_DIR/floor-$1-batches.db" "$EMPORIUM_STACK_DIR/floor-$1-staged.db")
    local target
    for target in "${baseline_targets[@]}"; do
      sqlite3 "$data/emporium.db" "VACUUM INTO '$target'"
      sqlite3 "$target" "PRAGMA journal_mode = WAL" >/dev/null
    done
  }
  baseline_label='sqlite3 .import --csv to staging + INSERT ... ON CONFLICT'
  # .import runs in one transaction; the upsert is one statement. max(rowid) per upper(sku) keeps the last row of
  # every SKU, as DISTINCT ON ... ORDER BY ctid DESC does in the PostgreSQL baseline.
  baseline_run() {
    sqlite3 -bail "$1" <<SQL
CREATE TEMP TABLE staging (name TEXT, sku TEXT, description TEXT);
.import --csv --skip 1 '$csv' staging
INSERT INTO products (sku, sku_key, slug, name, description, price, currency, is_active, created_at, updated_at, version)
SELECT sku, upper(sku), lower(sku), name, description, 0, 'USD', 1,
       strftime('%Y-%m-%d %H:%M:%f', 'now'), strftime('%Y-%m-%d %H:%M:%f', 'now'), 1
FROM staging WHERE rowid IN (SELECT max(rowid) FROM staging GROUP BY upper(sku))
ON CONFLICT (sku_key) DO UPDATE SET name = excluded.name, description = excluded.description, updated_at = excluded.updated_at;
SQL
    echo "[bench] baseline products: $(sqlite3 "$1" "SELECT count(*) FROM products")" >&2
  }
fi
# floor_prepare: the rows the service wrote (its slugs included), numbered in the order it wrote them, as floor_rows
# beside (SQLite: in a file attached as src) each floor target. Not timed.
floor_prepare() {
  local target
  if [ "$provider" = Postgres ]; then
    for target in "${baseline_targets[@]:2}"; do
      # The owner the statements set (the first user, as the service's import sets the importing admin) must exist in the
      # copy: a schema-only dump has no users, and a NULL owner would skip the foreign key's check the service pays.
      psql_ -d "$service_db" -c "\copy users TO STDOUT" | psql_ -d "$target" -c "\copy users FROM STDIN"
      psql_ -d "$target" -c "CREATE TABLE floor_rows (rn bigint PRIMARY KEY, sku text, sku_key text, slug text, name text, description text)"
      psql_ -d "$service_db" -c "\copy (SELECT row_number() OVER (ORDER BY id), sku, sku_key, slug, name, description FROM products ORDER BY id) TO STDOUT" \
        | psql_ -d "$target" -c "\copy floor_rows FROM STDIN"
      psql_ -d "$target" -c "VACUUM (ANALYZE) floor_rows" >/dev/null
    done
  else
    floor_source="$EMPORIUM_STACK_DIR/floor-rows-$round.db"
    rm -f "$floor_source"
    sqlite3 "$floor_source" <<SQL
ATTACH '$data/emporium.db' AS svc;
CREATE TABLE floor_rows (rn INTEGER PRIMARY KEY, sku TEXT, sku_key TEXT, slug TEXT, name TEXT, description TEXT);
INSERT INTO floor_rows (sku, sku_key, slug, name, description) SELECT sku, sku_key, slug, name, description FROM svc.products ORDER BY id;
SQL
  fi
}
# floor_once TARGET one|batches|staged: prints the wall seconds of the service's statements alone.
floor_once() {
  local sql count TIMEFORMAT='%R'
  if [ "$provider" = Postgres ]; then
    count=$(psql_ -At -d "$1" -c "SELECT count(*) FROM floor_rows")
    sql=$(bench/lib/import-floor.py postgres "$count" "$2" "${Import__BatchSize:-5000}" "${FLOOR_BATCHES_PER_COMMIT:-6}")
    { time psql_ -At -d "$1" -o /dev/null <<<"$sql" 2>&3 >/dev/null; } 3>&2 2>&1
  else
    count=$(sqlite3 "$floor_source" "SELECT count(*) FROM floor_rows")
    sql=$(bench/lib/import-floor.py sqlite "$count" "$2" "${Import__BatchSize:-5000}" "${FLOOR_BATCHES_PER_COMMIT:-6}")
    { time sqlite3 -bail "$1" <<<"ATTACH '$floor_source' AS src;
$sql" 2>&3 >/dev/null; } 3>&2 2>&1
  fi
}

# baseline_once TARGET: prints "wall-seconds cpu-seconds" (CPU of the client process: all of the work for sqlite3,
# next to none for psql, whose server does the work).
baseline_once() {
  local TIMEFORMAT='%R %U %S' times
  times=$( { time baseline_run "$1" 2>&3 >/dev/null; } 3>&2 2>&1 )
  awk '{printf "%.1f %.1f\n", $1, $2 + $3}' <<<"$times"
}
# CPU seconds (user + system) the service has used so far.
service_cpu() { awk -v hz="$(getconf CLK_TCK)" '{printf "%.1f\n", ($14 + $15) / hz}' "/proc/$app_pid/stat"; }

# settle: before each measured step, the work the step before left to the server is done first. After 500,000 inserts
# PostgreSQL's autovacuum starts (within its one-minute nap) a VACUUM and ANALYZE of the tables written, which would
# otherwise share the two cores with whatever step comes next (it moved single baseline runs by up to 40 %). The
# vacuum and the checkpoint are not timed.
settle() {
  [ "$provider" = Postgres ] || return 0
  local database
  for database in "$service_db" "${baseline_targets[@]}"; do
    psql_ -d "$database" -c "VACUUM (ANALYZE) products, variants" >/dev/null
  done
  psql_ -d postgres -c "CHECKPOINT" >/dev/null
}

import_once() {
  local begin job status
  begin=$(now)
  job=$(curl -fs -H "Authorization: Bearer $token" -F "file=@$csv;type=text/csv" "http://127.0.0.1:$port/api/products/upload" \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["job_id"])')
  # Poll with curl and grep alone: a python3 per poll cost ~25 ms of CPU five times a second, taken from the two cores
  # the import runs on. python3 reads the result once, at the end.
  local body
  while :; do
    body=$(curl -fs -H "Authorization: Bearer $token" "http://127.0.0.1:$port/api/jobs/$job")
    case "$body" in *'"status":"COMPLETED"'*|*'"status":"FAILED"'*|*'"status":"DEAD"'*) break ;; esac
    sleep 0.2
  done
  local end; end=$(now)
  status=$(python3 -c 'import json,sys; j=json.load(sys.stdin); print(j["status"], json.dumps(j.get("result")))' <<<"$body")
  echo "$(elapsed "$begin" "$end") $status"
}

table="| round ($rows rows, $(du -h "$csv" | cut -f1), $provider) | baseline before / after (s) | first import (s) | service CPU (s) | re-import (s) | service CPU (s) | ratio | peak RSS |
|---|---:|---:|---:|---:|---:|---:|---:|"
ratios=()
results=""
floor_table="| round | statements alone: one (s) | in the service's batches (s) | batches staged as the service does (s) | service's first import (s) | staged / one | service / staged |
|---|---:|---:|---:|---:|---:|---:|"
for round in $(seq 1 "$rounds"); do
  start_service "$round"
  make_baseline_targets "$round"
  settle
  read -r baseline1 baseline1_cpu < <(baseline_once "${baseline_targets[0]}")
  echo "[bench] round $round: baseline ($baseline_label) before the service's imports: ${baseline1} s (client CPU ${baseline1_cpu} s)" >&2
  settle
  cpu0=$(service_cpu)
  first=$(import_once); echo "[bench] round $round: first import: $first" >&2
  cpu1=$(service_cpu)
  settle
  cpu1b=$(service_cpu)
  again=$(import_once); echo "[bench] round $round: re-import: $again" >&2
  cpu2=$(service_cpu)
  peak=$(awk '/VmHWM/ {printf "%d MB", $2/1024}' "/proc/$app_pid/status")
  if [ -n "${FLOOR:-}" ]; then
    floor_prepare
    settle
    floor_one=$(floor_once "${baseline_targets[2]}" one)
    settle
    floor_batches=$(floor_once "${baseline_targets[3]}" batches)
    settle
    floor_staged=$(floor_once "${baseline_targets[4]}" staged)
    echo "[bench] round $round: the service's statements alone: one statement ${floor_one} s, in its batches ${floor_batches} s, staged as the service does ${floor_staged} s" >&2
    floor_table+="
| $round | $floor_one | $floor_batches | $floor_staged | ${first%% *} | $(calc "$floor_staged / $floor_one" 2) | $(calc "${first%% *} / $floor_staged" 2) |"
  fi
  stop_service
  settle
  read -r baseline2 baseline2_cpu < <(baseline_once "${baseline_targets[1]}")
  echo "[bench] round $round: baseline after the service's imports: ${baseline2} s (client CPU ${baseline2_cpu} s)" >&2
  ratio=$(calc "${first%% *} / (($baseline1 + $baseline2) / 2)" 2)
  ratios+=("$ratio")
  table+="
| $round | $baseline1 / $baseline2 | ${first%% *} | $(calc "$cpu1 - $cpu0") | ${again%% *} | $(calc "$cpu2 - $cpu1b") | $ratio | $peak |"
  results+="round $round, first import: ${first#* }
round $round, re-import: ${again#* }
"
done
median=$(printf '%s\n' "${ratios[@]}" | sort -n | python3 -c 'import statistics,sys; print(f"{statistics.median(float(x) for x in sys.stdin):.2f}")')

floor_block=""
[ -z "${FLOOR:-}" ] || floor_block="
the service's statements alone (bench/lib/import-floor.py, a commit every ${FLOOR_BATCHES_PER_COMMIT:-6} batches):
$floor_table
"
cat <<EOF2
$table

baseline: $baseline_label (client CPU: all of sqlite3's work, next to none of psql's)
median ratio first import / mean baseline over $rounds round(s): **$median**
$floor_block
$results
EOF2
