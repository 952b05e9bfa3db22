-- Data repair for rows written before two fixes (2026-12-07): deleting a variant now unlinks its images, and deleting an
-- image closes the gap it leaves in its product's positions. Older rows are brought to the same state, each changed row as
-- a new version (its ETag changes).
UPDATE product_images SET variant_id = NULL, version = version + 1
WHERE variant_id IN (SELECT id FROM variants WHERE deleted_at IS NOT NULL);

UPDATE product_images SET position = ranked.position, version = product_images.version + 1
FROM (SELECT id, row_number() OVER (PARTITION BY product_id ORDER BY position, id) - 1 AS position FROM product_images) AS ranked
WHERE product_images.id = ranked.id AND product_images.position <> ranked.position;
