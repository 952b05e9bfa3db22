#!/usr/bin/env python3
"""The service's import statements without the service (bench/import.sh FLOOR=1).

Prints SQL that writes the rows of table floor_rows (rn, sku, sku_key, slug, name, description: the rows and slugs the
service wrote, numbered in the order it wrote them) into products with the statement the service's bulk upsert runs
(Infrastructure/Persistence/BulkUpsert: owner set, ON CONFLICT ... DO UPDATE ... WHERE something changed, RETURNING):
  one      one statement over every row;
  batches  the service's batches, with a commit every few batches;
  staged   the same batches, each first copied into the temporary staging table the service fills (on PostgreSQL by
           COPY, here by INSERT ... SELECT) and upserted from it: the service's statements one for one.
On SQLite the service's connection settings come first (its page cache for imports, checkpoint size, foreign keys).

  import-floor.py sqlite|postgres ROWS one|batches|staged [BATCH=5000] [BATCHES_PER_COMMIT=6]
"""
import sys

dialect, rows, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3]
batch = int(sys.argv[4]) if len(sys.argv) > 4 else 5000
per_commit = int(sys.argv[5]) if len(sys.argv) > 5 else 6
if mode == "one":
    batch = rows

columns = "sku, sku_key, slug, name, description"
if dialect == "sqlite":
    active, now, distinct, order = "1", "'2026-01-01 00:00:00.0000000'", "IS NOT", "WHERE true"
    rows_table = "src.floor_rows"
    print("PRAGMA foreign_keys = ON; PRAGMA cache_size = -32768; PRAGMA wal_autocheckpoint = 16384; "
          "PRAGMA journal_size_limit = 67108864;")
    create = ("CREATE TEMP TABLE IF NOT EXISTS import_staging (sku TEXT NOT NULL, sku_key TEXT NOT NULL, slug TEXT NOT NULL, "
              "name TEXT NOT NULL, description TEXT); DELETE FROM import_staging;")
    drop = "DELETE FROM import_staging;"
else:
    active, now, distinct, order = "true", "now()", "IS DISTINCT FROM", "ORDER BY sku_key"
    rows_table = "floor_rows"
    create = ("CREATE TEMP TABLE import_staging (sku varchar(64) NOT NULL, sku_key varchar(64) NOT NULL, "
              "slug varchar(160) NOT NULL, name varchar(255) NOT NULL, description varchar(10000)) ON COMMIT DROP;")
    drop = "DROP TABLE import_staging;"

if dialect == "postgres":
    # The rows are owned by the first user, as the service's are by the importing admin: without one the owner would be
    # NULL and the foreign key's per-row check, which the service pays, would be skipped.
    print("DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM users) THEN RAISE EXCEPTION 'no user to own the rows'; END IF; END $$;")
changed = " OR ".join(f"products.{c} {distinct} excluded.{c}" for c in ("sku", "name", "description"))
print("BEGIN;")
done = 0
for start in range(0, rows, batch):
    where = f"rn > {start} AND rn <= {start + batch}"
    if mode == "staged":
        print(create)
        print(f"INSERT INTO import_staging ({columns}) SELECT {columns} FROM {rows_table} WHERE {where};")
        source = "import_staging"
    else:
        source = f"{rows_table} WHERE {where}"
        # SQLite's rule: an upsert's SELECT needs a WHERE, which the range is.
    tail = order if dialect == "postgres" or mode == "staged" else ""
    print(f"""INSERT INTO products (sku, sku_key, slug, name, description, price, currency, is_active, brand_id, owner_id,
                      created_at, updated_at, version)
SELECT sku, sku_key, slug, name, description, 0, 'USD', {active}, NULL, (SELECT min(id) FROM users), {now}, {now}, 1
FROM {source} {tail}
ON CONFLICT (sku_key) DO UPDATE SET sku = excluded.sku, name = excluded.name, description = excluded.description,
  deleted_at = NULL, updated_at = excluded.updated_at, version = products.version + 1
WHERE (products.deleted_at IS NOT NULL OR {changed})
RETURNING sku_key, id, version;""")
    if mode == "staged":
        print(drop)
    done += 1
    if done % per_commit == 0 and start + batch < rows:
        print("COMMIT;\nBEGIN;")
print("COMMIT;")
