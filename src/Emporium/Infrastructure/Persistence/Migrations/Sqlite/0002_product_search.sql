-- Full-text search for search=... over SKU, name and description: an FTS5 index that mirrors
-- products through triggers (external content, so the text is stored once).
CREATE VIRTUAL TABLE products_fts USING fts5(
    sku, name, description,
    content='products', content_rowid='id',
    tokenize="unicode61 remove_diacritics 2");

CREATE TRIGGER products_fts_after_insert AFTER INSERT ON products BEGIN
    INSERT INTO products_fts (rowid, sku, name, description) VALUES (new.id, new.sku, new.name, new.description);
END;

CREATE TRIGGER products_fts_after_delete AFTER DELETE ON products BEGIN
    INSERT INTO products_fts (products_fts, rowid, sku, name, description)
    VALUES ('delete', old.id, old.sku, old.name, old.description);
END;

CREATE TRIGGER products_fts_after_update AFTER UPDATE OF sku, name, description ON products BEGIN
    INSERT INTO products_fts (products_fts, rowid, sku, name, description)
    VALUES ('delete', old.id, old.sku, old.name, old.description);
    INSERT INTO products_fts (rowid, sku, name, description) VALUES (new.id, new.sku, new.name, new.description);
END;
