-- Product images (issue 15, decision 0017): an upload or a URL, its stored original and its renditions (JSON text).
CREATE TABLE "product_images" (
    "id" INTEGER NOT NULL CONSTRAINT "pk_product_images" PRIMARY KEY AUTOINCREMENT,
    "product_id" INTEGER NOT NULL,
    "variant_id" INTEGER NULL,
    "position" INTEGER NOT NULL,
    "alt_text" TEXT NULL,
    "status" TEXT NOT NULL,
    "failure_reason" TEXT NULL,
    "source_url" TEXT NULL,
    "storage_prefix" TEXT NOT NULL,
    "original_key" TEXT NULL,
    "original_content_type" TEXT NULL,
    "original_bytes" INTEGER NULL,
    "width" INTEGER NULL,
    "height" INTEGER NULL,
    "renditions" TEXT NULL,
    "created_at" TEXT NOT NULL,
    "updated_at" TEXT NOT NULL,
    "processed_at" TEXT NULL,
    "version" INTEGER NOT NULL,
    CONSTRAINT "fk_product_images_products_product_id" FOREIGN KEY ("product_id") REFERENCES "products" ("id") ON DELETE CASCADE,
    CONSTRAINT "fk_product_images_variants_variant_id" FOREIGN KEY ("variant_id") REFERENCES "variants" ("id") ON DELETE SET NULL
);

CREATE INDEX "ix_product_images_product_id_position" ON "product_images" ("product_id", "position");
CREATE INDEX "ix_product_images_variant_id" ON "product_images" ("variant_id");
