-- Initial schema: drafted from scripts/schema-script Sqlite, reviewed by hand.
CREATE TABLE "brands" (
    "id" INTEGER NOT NULL CONSTRAINT "pk_brands" PRIMARY KEY AUTOINCREMENT,
    "name" TEXT NOT NULL,
    "slug" TEXT NOT NULL,
    "created_at" TEXT NOT NULL,
    "updated_at" TEXT NOT NULL,
    "deleted_at" TEXT NULL,
    "version" INTEGER NOT NULL
);


CREATE TABLE "categories" (
    "id" INTEGER NOT NULL CONSTRAINT "pk_categories" PRIMARY KEY AUTOINCREMENT,
    "parent_id" INTEGER NULL,
    "name" TEXT NOT NULL,
    "slug" TEXT NOT NULL,
    "description" TEXT NULL,
    "created_at" TEXT NOT NULL,
    "updated_at" TEXT NOT NULL,
    "deleted_at" TEXT NULL,
    "version" INTEGER NOT NULL,
    CONSTRAINT "fk_categories_categories_parent_id" FOREIGN KEY ("parent_id") REFERENCES "categories" ("id") ON DELETE RESTRICT
);


CREATE TABLE "roles" (
    "id" INTEGER NOT NULL CONSTRAINT "pk_roles" PRIMARY KEY AUTOINCREMENT,
    "name" TEXT NULL,
    "normalized_name" TEXT NULL,
    "concurrency_stamp" TEXT NULL
);


CREATE TABLE "users" (
    "id" INTEGER NOT NULL CONSTRAINT "pk_users" PRIMARY KEY AUTOINCREMENT,
    "created_at" TEXT NOT NULL,
    "user_name" TEXT NULL,
    "normalized_user_name" TEXT NULL,
    "email" TEXT NULL,
    "normalized_email" TEXT NULL,
    "email_confirmed" INTEGER NOT NULL,
    "password_hash" TEXT NULL,
    "security_stamp" TEXT NULL,
    "concurrency_stamp" TEXT NULL,
    "phone_number" TEXT NULL,
    "phone_number_confirmed" INTEGER NOT NULL,
    "two_factor_enabled" INTEGER NOT NULL,
    "lockout_end" TEXT NULL,
    "lockout_enabled" INTEGER NOT NULL,
    "access_failed_count" INTEGER NOT NULL
);


CREATE TABLE "role_claims" (
    "id" INTEGER NOT NULL CONSTRAINT "pk_role_claims" PRIMARY KEY AUTOINCREMENT,
    "role_id" INTEGER NOT NULL,
    "claim_type" TEXT NULL,
    "claim_value" TEXT NULL,
    CONSTRAINT "fk_role_claims_roles_role_id" FOREIGN KEY ("role_id") REFERENCES "roles" ("id") ON DELETE CASCADE
);


CREATE TABLE "products" (
    "id" INTEGER NOT NULL CONSTRAINT "pk_products" PRIMARY KEY AUTOINCREMENT,
    "sku" TEXT NOT NULL,
    "sku_key" TEXT NOT NULL,
    "slug" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "description" TEXT NULL,
    "price" REAL NOT NULL,
    "currency" TEXT NOT NULL,
    "is_active" INTEGER NOT NULL,
    "brand_id" INTEGER NULL,
    "owner_id" INTEGER NULL,
    "created_at" TEXT NOT NULL,
    "updated_at" TEXT NOT NULL,
    "deleted_at" TEXT NULL,
    "version" INTEGER NOT NULL,
    CONSTRAINT "fk_products_brands_brand_id" FOREIGN KEY ("brand_id") REFERENCES "brands" ("id") ON DELETE SET NULL,
    CONSTRAINT "fk_products_users_owner_id" FOREIGN KEY ("owner_id") REFERENCES "users" ("id") ON DELETE SET NULL
);


CREATE TABLE "user_claims" (
    "id" INTEGER NOT NULL CONSTRAINT "pk_user_claims" PRIMARY KEY AUTOINCREMENT,
    "user_id" INTEGER NOT NULL,
    "claim_type" TEXT NULL,
    "claim_value" TEXT NULL,
    CONSTRAINT "fk_user_claims_users_user_id" FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON DELETE CASCADE
);


CREATE TABLE "user_logins" (
    "login_provider" TEXT NOT NULL,
    "provider_key" TEXT NOT NULL,
    "provider_display_name" TEXT NULL,
    "user_id" INTEGER NOT NULL,
    CONSTRAINT "pk_user_logins" PRIMARY KEY ("login_provider", "provider_key"),
    CONSTRAINT "fk_user_logins_users_user_id" FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON DELETE CASCADE
);


CREATE TABLE "user_roles" (
    "user_id" INTEGER NOT NULL,
    "role_id" INTEGER NOT NULL,
    CONSTRAINT "pk_user_roles" PRIMARY KEY ("user_id", "role_id"),
    CONSTRAINT "fk_user_roles_roles_role_id" FOREIGN KEY ("role_id") REFERENCES "roles" ("id") ON DELETE CASCADE,
    CONSTRAINT "fk_user_roles_users_user_id" FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON DELETE CASCADE
);


CREATE TABLE "user_tokens" (
    "user_id" INTEGER NOT NULL,
    "login_provider" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "value" TEXT NULL,
    CONSTRAINT "pk_user_tokens" PRIMARY KEY ("user_id", "login_provider", "name"),
    CONSTRAINT "fk_user_tokens_users_user_id" FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON DELETE CASCADE
);


CREATE TABLE "product_categories" (
    "product_id" INTEGER NOT NULL,
    "category_id" INTEGER NOT NULL,
    CONSTRAINT "pk_product_categories" PRIMARY KEY ("product_id", "category_id"),
    CONSTRAINT "fk_product_categories_categories_category_id" FOREIGN KEY ("category_id") REFERENCES "categories" ("id") ON DELETE CASCADE,
    CONSTRAINT "fk_product_categories_products_product_id" FOREIGN KEY ("product_id") REFERENCES "products" ("id") ON DELETE CASCADE
);


CREATE UNIQUE INDEX "ix_brands_slug" ON "brands" ("slug");


CREATE INDEX "ix_categories_parent_id" ON "categories" ("parent_id");


CREATE UNIQUE INDEX "ix_categories_slug" ON "categories" ("slug");


CREATE INDEX "ix_product_categories_category_id" ON "product_categories" ("category_id");


CREATE INDEX "ix_products_brand_id" ON "products" ("brand_id");


CREATE INDEX "ix_products_created_at_id" ON "products" ("created_at", "id");


CREATE INDEX "ix_products_name_id" ON "products" ("name", "id");


CREATE INDEX "ix_products_owner_id" ON "products" ("owner_id");


CREATE INDEX "ix_products_price_id" ON "products" ("price", "id");


CREATE UNIQUE INDEX "ix_products_sku_key" ON "products" ("sku_key");


CREATE UNIQUE INDEX "ix_products_slug" ON "products" ("slug");


CREATE INDEX "ix_products_updated_at_id" ON "products" ("updated_at", "id");


CREATE INDEX "ix_role_claims_role_id" ON "role_claims" ("role_id");


CREATE UNIQUE INDEX "role_name_index" ON "roles" ("normalized_name");


CREATE INDEX "ix_user_claims_user_id" ON "user_claims" ("user_id");


CREATE INDEX "ix_user_logins_user_id" ON "user_logins" ("user_id");


CREATE INDEX "ix_user_roles_role_id" ON "user_roles" ("role_id");


CREATE INDEX "email_index" ON "users" ("normalized_email");


CREATE UNIQUE INDEX "user_name_index" ON "users" ("normalized_user_name");
