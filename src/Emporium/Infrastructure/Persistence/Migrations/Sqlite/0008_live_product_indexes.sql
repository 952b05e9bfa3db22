-- Bulk delete (issue #3, decision 0008): the sort indexes hold live products only, as on PostgreSQL. Every list
-- they serve says deleted_at IS NULL, and a soft delete then only removes entries.
DROP INDEX ix_products_created_at_id;
CREATE INDEX ix_products_created_at_id ON products (created_at, id) WHERE deleted_at IS NULL;

DROP INDEX ix_products_name_id;
CREATE INDEX ix_products_name_id ON products (name, id) WHERE deleted_at IS NULL;

DROP INDEX ix_products_price_id;
CREATE INDEX ix_products_price_id ON products (price, id) WHERE deleted_at IS NULL;

DROP INDEX ix_products_updated_at_id;
CREATE INDEX ix_products_updated_at_id ON products (updated_at, id) WHERE deleted_at IS NULL;
