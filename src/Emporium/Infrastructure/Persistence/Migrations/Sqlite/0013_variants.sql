-- Variants and stock (issue 14, decision 0016). A variant is what a customer buys: one SKU with its own stock and an
-- optional price of its own. Every product has a default variant holding the product's SKU: the triggers below create it
-- with the product and keep its SKU equal to the product's, whatever writes the product (API, admin, import), so SKUs
-- form one namespace under ix_variants_sku_key. Existing products get theirs here. Prices are integer ten-thousandths
-- (decision 0012).
CREATE TABLE "variants" (
    "id" INTEGER NOT NULL CONSTRAINT "pk_variants" PRIMARY KEY AUTOINCREMENT,
    "product_id" INTEGER NOT NULL,
    "sku" TEXT NOT NULL,
    "sku_key" TEXT NOT NULL,
    "price" INTEGER NULL,
    "on_hand" INTEGER NOT NULL,
    "is_default" INTEGER NOT NULL,
    "signature" TEXT NOT NULL,
    "created_at" TEXT NOT NULL,
    "updated_at" TEXT NOT NULL,
    "deleted_at" TEXT NULL,
    "version" INTEGER NOT NULL,
    CONSTRAINT "ck_variants_on_hand_not_negative" CHECK (on_hand >= 0),
    CONSTRAINT "ck_variants_price_not_negative" CHECK (price >= 0),
    CONSTRAINT "fk_variants_products_product_id" FOREIGN KEY ("product_id") REFERENCES "products" ("id") ON DELETE CASCADE
);

CREATE UNIQUE INDEX "ix_variants_sku_key" ON "variants" ("sku_key");
CREATE UNIQUE INDEX "ix_variants_product_id_signature" ON "variants" ("product_id", "signature") WHERE deleted_at IS NULL;
CREATE INDEX "ix_variants_product_id" ON "variants" ("product_id");

CREATE TABLE "variant_values" (
    "variant_id" INTEGER NOT NULL,
    "attribute_id" INTEGER NOT NULL,
    "value_id" INTEGER NOT NULL,
    CONSTRAINT "pk_variant_values" PRIMARY KEY ("variant_id", "attribute_id"),
    CONSTRAINT "fk_variant_values_variants_variant_id" FOREIGN KEY ("variant_id") REFERENCES "variants" ("id") ON DELETE CASCADE,
    CONSTRAINT "fk_variant_values_attributes_attribute_id" FOREIGN KEY ("attribute_id") REFERENCES "attributes" ("id") ON DELETE CASCADE,
    CONSTRAINT "fk_variant_values_attribute_values_value_id" FOREIGN KEY ("value_id") REFERENCES "attribute_values" ("id") ON DELETE CASCADE
);

CREATE INDEX "ix_variant_values_attribute_id" ON "variant_values" ("attribute_id");
CREATE INDEX "ix_variant_values_value_id" ON "variant_values" ("value_id");

CREATE TABLE "stock_movements" (
    "id" INTEGER NOT NULL CONSTRAINT "pk_stock_movements" PRIMARY KEY AUTOINCREMENT,
    "variant_id" INTEGER NOT NULL,
    "delta" INTEGER NOT NULL,
    "on_hand" INTEGER NOT NULL,
    "reason" TEXT NOT NULL,
    "user_id" INTEGER NULL,
    "order_id" INTEGER NULL,
    "created_at" TEXT NOT NULL,
    CONSTRAINT "fk_stock_movements_variants_variant_id" FOREIGN KEY ("variant_id") REFERENCES "variants" ("id") ON DELETE CASCADE,
    CONSTRAINT "fk_stock_movements_users_user_id" FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON DELETE SET NULL
);

CREATE INDEX "ix_stock_movements_variant_id_id" ON "stock_movements" ("variant_id", "id");
CREATE INDEX "ix_stock_movements_user_id" ON "stock_movements" ("user_id");
CREATE INDEX "ix_stock_movements_order_id" ON "stock_movements" ("order_id");

-- An upsert's AFTER INSERT trigger fires only for rows it inserts; rows it updates fire the UPDATE trigger.
CREATE TRIGGER products_default_variant AFTER INSERT ON products BEGIN
    INSERT INTO variants (product_id, sku, sku_key, price, on_hand, is_default, signature, created_at, updated_at, version)
    VALUES (NEW.id, NEW.sku, NEW.sku_key, NULL, 0, 1, '', NEW.created_at, NEW.updated_at, 1);
END;

CREATE TRIGGER products_default_variant_sku AFTER UPDATE OF sku, sku_key ON products
    WHEN OLD.sku IS NOT NEW.sku OR OLD.sku_key IS NOT NEW.sku_key BEGIN
    UPDATE variants SET sku = NEW.sku, sku_key = NEW.sku_key, updated_at = NEW.updated_at, version = version + 1
    WHERE product_id = NEW.id AND is_default;
END;

INSERT INTO variants (product_id, sku, sku_key, price, on_hand, is_default, signature, created_at, updated_at, version)
SELECT id, sku, sku_key, NULL, 0, 1, '', created_at, updated_at, 1 FROM products ORDER BY id;
