-- Attributes and their values (issue 14, decision 0016): what product variants differ by.
CREATE TABLE "attributes" (
    "id" INTEGER NOT NULL CONSTRAINT "pk_attributes" PRIMARY KEY AUTOINCREMENT,
    "name" TEXT NOT NULL,
    "slug" TEXT NOT NULL,
    "created_at" TEXT NOT NULL,
    "updated_at" TEXT NOT NULL,
    "deleted_at" TEXT NULL,
    "version" INTEGER NOT NULL
);

CREATE UNIQUE INDEX "ix_attributes_slug" ON "attributes" ("slug");

CREATE TABLE "attribute_values" (
    "id" INTEGER NOT NULL CONSTRAINT "pk_attribute_values" PRIMARY KEY AUTOINCREMENT,
    "attribute_id" INTEGER NOT NULL,
    "slug" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "position" INTEGER NOT NULL,
    CONSTRAINT "fk_attribute_values_attributes_attribute_id" FOREIGN KEY ("attribute_id") REFERENCES "attributes" ("id") ON DELETE CASCADE
);

CREATE UNIQUE INDEX "ix_attribute_values_attribute_id_slug" ON "attribute_values" ("attribute_id", "slug");
