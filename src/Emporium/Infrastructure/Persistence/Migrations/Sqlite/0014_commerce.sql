-- Carts, orders and checkout idempotency (issue 14, decision 0016). Order lines are snapshots: they keep the SKU,
-- names, attribute values and prices of the moment of checkout, whatever happens to the catalog afterwards. Amounts
-- are integer ten-thousandths (decision 0012).
CREATE TABLE "cart_items" (
    "id" INTEGER NOT NULL CONSTRAINT "pk_cart_items" PRIMARY KEY AUTOINCREMENT,
    "user_id" INTEGER NOT NULL,
    "variant_id" INTEGER NOT NULL,
    "quantity" INTEGER NOT NULL,
    "created_at" TEXT NOT NULL,
    "updated_at" TEXT NOT NULL,
    CONSTRAINT "ck_cart_items_quantity_positive" CHECK (quantity > 0),
    CONSTRAINT "fk_cart_items_users_user_id" FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON DELETE CASCADE,
    CONSTRAINT "fk_cart_items_variants_variant_id" FOREIGN KEY ("variant_id") REFERENCES "variants" ("id") ON DELETE CASCADE
);

CREATE UNIQUE INDEX "ix_cart_items_user_id_variant_id" ON "cart_items" ("user_id", "variant_id");
CREATE INDEX "ix_cart_items_variant_id" ON "cart_items" ("variant_id");

CREATE TABLE "orders" (
    "id" INTEGER NOT NULL CONSTRAINT "pk_orders" PRIMARY KEY AUTOINCREMENT,
    "user_id" INTEGER NULL,
    "email" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "currency" TEXT NOT NULL,
    "total" INTEGER NOT NULL,
    "item_count" INTEGER NOT NULL,
    "created_at" TEXT NOT NULL,
    "updated_at" TEXT NOT NULL,
    "paid_at" TEXT NULL,
    "fulfilled_at" TEXT NULL,
    "cancelled_at" TEXT NULL,
    "confirmation_sent_at" TEXT NULL,
    "version" INTEGER NOT NULL,
    CONSTRAINT "ck_orders_total_not_negative" CHECK (total >= 0),
    CONSTRAINT "fk_orders_users_user_id" FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON DELETE SET NULL
);

CREATE INDEX "ix_orders_user_id_id" ON "orders" ("user_id", "id");
CREATE INDEX "ix_orders_status_id" ON "orders" ("status", "id");
CREATE INDEX "ix_orders_created_at" ON "orders" ("created_at");

CREATE TABLE "order_lines" (
    "id" INTEGER NOT NULL CONSTRAINT "pk_order_lines" PRIMARY KEY AUTOINCREMENT,
    "order_id" INTEGER NOT NULL,
    "variant_id" INTEGER NOT NULL,
    "product_id" INTEGER NOT NULL,
    "sku" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "attributes" TEXT NOT NULL,
    "unit_price" INTEGER NOT NULL,
    "quantity" INTEGER NOT NULL,
    "line_total" INTEGER NOT NULL,
    CONSTRAINT "ck_order_lines_quantity_positive" CHECK (quantity > 0),
    CONSTRAINT "fk_order_lines_orders_order_id" FOREIGN KEY ("order_id") REFERENCES "orders" ("id") ON DELETE CASCADE
);

CREATE INDEX "ix_order_lines_order_id" ON "order_lines" ("order_id");
CREATE INDEX "ix_order_lines_variant_id" ON "order_lines" ("variant_id");

CREATE TABLE "idempotency_keys" (
    "id" INTEGER NOT NULL CONSTRAINT "pk_idempotency_keys" PRIMARY KEY AUTOINCREMENT,
    "user_id" INTEGER NOT NULL,
    "key" TEXT NOT NULL,
    "request_hash" TEXT NOT NULL,
    "status_code" INTEGER NULL,
    "response" TEXT NULL,
    "order_id" INTEGER NULL,
    "created_at" TEXT NOT NULL,
    "expires_at" TEXT NOT NULL,
    CONSTRAINT "fk_idempotency_keys_users_user_id" FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON DELETE CASCADE
);

CREATE UNIQUE INDEX "ix_idempotency_keys_user_id_key" ON "idempotency_keys" ("user_id", "key");
CREATE INDEX "ix_idempotency_keys_expires_at" ON "idempotency_keys" ("expires_at");
