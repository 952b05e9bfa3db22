-- Full-text search for search=... over SKU (exact tokens), name and description (English stems),
-- weighted so SKU and name hits rank first; and a trigram index for the name=... substring filter.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

ALTER TABLE products ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (
    setweight(to_tsvector('simple'::regconfig, coalesce(sku, '')), 'A') ||
    setweight(to_tsvector('english'::regconfig, coalesce(name, '')), 'B') ||
    setweight(to_tsvector('english'::regconfig, coalesce(description, '')), 'C')) STORED;

CREATE INDEX ix_products_search_vector ON products USING gin (search_vector);

CREATE INDEX ix_products_name_trgm ON products USING gin (lower(name) gin_trgm_ops);
