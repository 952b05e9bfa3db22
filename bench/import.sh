#!/usr/bin/env bash
# CSV import speed and memory (issue 3): a generated file in the Acme products.csv format (header
# name,sku,description; CRLF records; line breaks inside quoted descriptions; ~7% duplicate SKUs; no final
# newline) is imported (1) by psql: \copy into a staging table + one INSERT ... ON CONFLICT, the baseline;
# (2) by Emporium: POST /api/products/upload to COMPLETED; (3) by Emporium again (all rows unchanged).
# Both targets are identical, freshly migrated PostgreSQL databases. Prints times and the service's peak RSS.
#   bench/import.sh [rows=500000]
set -euo pipefail
cd "$(dirname "$0")/.."
rows="${1:-500000}"
source scripts/lib/services.sh
app_pid=""
cleanup() { [ -n "$app_pid" ] && kill "$app_pid" 2>/dev/null; stop_services; }
trap cleanup EXIT
start_postgres
psql_() { psql -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$EMPORIUM_PG_PORT" -U postgres "$@"; }
now() { python3 -c 'import time; print(time.time())'; }
elapsed() { python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.1f}')" "$1" "$2"; }
psql_ -d postgres -c "CREATE DATABASE emporium_bench" -c "CREATE DATABASE emporium_baseline"

csv="$EMPORIUM_STACK_DIR/products.csv"
python3 - "$rows" "$csv" <<'PY'
import random, sys
rows, path = int(sys.argv[1]), sys.argv[2]
random.seed(42)
first = ["Bryce", "Ava", "Liam", "Noah", "Mia", "Zoe", "Ezra", "Iris", "Omar", "Lena", "Hugo", "Nina"]
last = ["Jones", "Smith", "Brown", "Garcia", "Miller", "Davis", "Lopez", "Wilson", "Moore", "Clark"]
words = ("durable light bright quiet rapid gentle precise modern robust simple elegant compact "
         "natural hidden golden silent crafted").split()
distinct = int(rows * 0.9334)
with open(path, "w", newline="") as out:
    out.write("name,sku,description")
    for i in range(rows):
        n = i if i < distinct else random.randrange(distinct)  # ~7% repeat an earlier SKU
        sku = f"{['alpha', 'beta', 'gamma', 'delta'][n % 4]}-{n:07d}"
        if random.random() < 0.5:
            sku = sku.upper()  # upserts are case-insensitive
        text = " ".join(random.choice(words) for _ in range(random.randint(12, 30))).capitalize() + "."
        if random.random() < 0.6:
            text = text.replace(" ", "\n", 1)  # a bare LF inside the quoted field, as in the real file
        out.write(f'\r\n{random.choice(first)} {random.choice(last)},{sku},"{text}"')
PY
echo "[bench] $(du -h "$csv" | cut -f1) CSV with $rows rows" >&2

port="$(free_port)"
dotnet build src/Emporium -c Release -v q -nologo >/dev/null
export Database__Provider=Postgres Database__ConnectionString="Host=127.0.0.1;Port=$EMPORIUM_PG_PORT;Username=postgres;Database=emporium_bench"
export EMPORIUM_ADMIN_EMAIL=admin@bench.local EMPORIUM_ADMIN_PASSWORD=bench-password-123 Emporium__DataDirectory="$EMPORIUM_STACK_DIR/data"
export Logging__LogLevel__Default=Warning
dotnet src/Emporium/bin/Release/net10.0/Emporium.dll --urls "http://127.0.0.1:$port" >"$EMPORIUM_STACK_DIR/app.log" 2>&1 &
app_pid=$!
for _ in $(seq 1 120); do curl -fs "http://127.0.0.1:$port/health/ready" >/dev/null && break; sleep 0.5; done

# The baseline gets the same schema (tables, indexes, search triggers and columns) as the service's database.
pg_dump -s -h 127.0.0.1 -p "$EMPORIUM_PG_PORT" -U postgres emporium_bench | psql_ -d emporium_baseline >/dev/null
start=$(now)
psql_ -d emporium_baseline <<SQL
CREATE TEMP TABLE staging (name text, sku text, description text);
\copy staging FROM '$csv' WITH (FORMAT csv, HEADER true)
INSERT INTO products (sku, sku_key, slug, name, description, price, currency, is_active, created_at, updated_at, version)
SELECT DISTINCT ON (upper(sku)) sku, upper(sku), lower(sku), name, description, 0, 'USD', true, now(), now(), 1
FROM staging ORDER BY upper(sku), ctid DESC
ON CONFLICT (sku_key) DO UPDATE SET name = excluded.name, description = excluded.description, updated_at = now();
SQL
baseline=$(elapsed "$start" "$(now)")
echo "[bench] baseline psql COPY + upsert: ${baseline} s" >&2

token=$(curl -fs -H 'Content-Type: application/json' -d '{"email":"admin@bench.local","password":"bench-password-123"}' \
  "http://127.0.0.1:$port/api/auth/login" | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
import_once() {
  local begin job status
  begin=$(now)
  job=$(curl -fs -H "Authorization: Bearer $token" -F "file=@$csv;type=text/csv" "http://127.0.0.1:$port/api/products/upload" \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["job_id"])')
  while :; do
    status=$(curl -fs -H "Authorization: Bearer $token" "http://127.0.0.1:$port/api/jobs/$job" | python3 -c 'import json,sys; j=json.load(sys.stdin); print(j["status"], json.dumps(j.get("result")))')
    case "$status" in COMPLETED*|FAILED*|DEAD*) break ;; esac
    sleep 0.2
  done
  echo "$(elapsed "$begin" "$(now)") $status"
}
first=$(import_once); echo "[bench] first import: $first" >&2
again=$(import_once); echo "[bench] re-import: $again" >&2
peak=$(awk '/VmHWM/ {printf "%d MB", $2/1024}' "/proc/$app_pid/status")

cat <<EOF2
| what ($rows rows, $(du -h "$csv" | cut -f1)) | seconds |
|---|---:|
| baseline: psql \\copy to staging + INSERT ... ON CONFLICT | $baseline |
| Emporium: upload to COMPLETED (first import) | ${first%% *} |
| Emporium: re-import of the same file (all unchanged) | ${again%% *} |
| ratio first import / baseline | $(python3 -c "print(f'{float(\"${first%% *}\") / float(\"$baseline\"):.2f}')") |
| service peak RSS (VmHWM) | $peak |

first import result: ${first#* }
EOF2
