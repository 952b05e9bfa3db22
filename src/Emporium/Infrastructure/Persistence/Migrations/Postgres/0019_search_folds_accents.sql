-- Search folds accents on PostgreSQL as SQLite's index does (unicode61 remove_diacritics 2): "creme brulee" finds
-- "Crème brûlée" and "café" finds "Cafe". Two text search configurations run unaccent (a filtering dictionary, in
-- PostgreSQL's contrib, trusted: the database's owner may create it) before their usual dictionaries; the generated
-- column is rebuilt with them, and its index with it (a rewrite of products, once).
CREATE EXTENSION IF NOT EXISTS unaccent;

CREATE TEXT SEARCH CONFIGURATION emporium_english (COPY = english);
ALTER TEXT SEARCH CONFIGURATION emporium_english ALTER MAPPING FOR hword, hword_part, word WITH unaccent, english_stem;
CREATE TEXT SEARCH CONFIGURATION emporium_simple (COPY = simple);
ALTER TEXT SEARCH CONFIGURATION emporium_simple ALTER MAPPING FOR hword, hword_part, word WITH unaccent, simple;

DROP INDEX ix_products_search_vector;
ALTER TABLE products DROP COLUMN search_vector;
ALTER TABLE products ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (
    setweight(to_tsvector('emporium_simple'::regconfig, coalesce(sku, '')), 'A') ||
    setweight(to_tsvector('emporium_english'::regconfig, coalesce(name, '')), 'B') ||
    setweight(to_tsvector('emporium_english'::regconfig, coalesce(description, '')), 'C')) STORED;
CREATE INDEX ix_products_search_vector ON products USING gin (search_vector) WHERE deleted_at IS NULL;
