-- Exact money (issue #12, decision 0012): prices were REAL, so sums and comparisons in SQL were not exact. They are now
-- integer ten-thousandths of the currency unit (19.99 is 199900), which EF converts to and from decimal. The REAL values
-- came from decimals with at most four places, so rounding them once recovers the exact amount.
ALTER TABLE products ADD COLUMN price_units INTEGER NOT NULL DEFAULT 0 CHECK (price_units >= 0);
UPDATE products SET price_units = CAST(round(price * 10000) AS INTEGER);
DROP INDEX ix_products_price_id;
ALTER TABLE products DROP COLUMN price;
ALTER TABLE products RENAME COLUMN price_units TO price;
CREATE INDEX ix_products_price_id ON products (price, id) WHERE deleted_at IS NULL;
