-- Exact money (issue #12, decision 0012): numeric(18,4) was exact already; a negative price is now refused by the
-- database as well as by the API and the importer.
ALTER TABLE products ADD CONSTRAINT ck_products_price_not_negative CHECK (price >= 0);
