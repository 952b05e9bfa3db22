-- Bulk delete (issue #3, decision 0008): the search and sort indexes hold live products only. A soft delete is a
-- non-HOT UPDATE (updated_at is indexed), so PostgreSQL adds an entry for the new row version to every index whose
-- predicate it satisfies; without these predicates each deleted product cost a full GIN insertion of its tsvector
-- and trigrams plus four btree entries, and deleting 500,000 products took 31 s. Every list, search and sort these
-- indexes serve already says deleted_at IS NULL; only staff asking for include_deleted=true lose them.
DROP INDEX ix_products_search_vector;
CREATE INDEX ix_products_search_vector ON products USING gin (search_vector) WHERE deleted_at IS NULL;

DROP INDEX ix_products_name_trgm;
CREATE INDEX ix_products_name_trgm ON products USING gin (lower(name) gin_trgm_ops) WHERE deleted_at IS NULL;

DROP INDEX ix_products_created_at_id;
CREATE INDEX ix_products_created_at_id ON products (created_at, id) WHERE deleted_at IS NULL;

DROP INDEX ix_products_name_id;
CREATE INDEX ix_products_name_id ON products (name, id) WHERE deleted_at IS NULL;

DROP INDEX ix_products_price_id;
CREATE INDEX ix_products_price_id ON products (price, id) WHERE deleted_at IS NULL;

DROP INDEX ix_products_updated_at_id;
CREATE INDEX ix_products_updated_at_id ON products (updated_at, id) WHERE deleted_at IS NULL;
