DROP SCHEMA IF EXISTS search_index CASCADE;
CREATE SCHEMA search_index;
CREATE TABLE search_index.products (
	id          integer PRIMARY KEY,
	sku         text NOT NULL UNIQUE,
	name        text NOT NULL,
	description text,
	category    text NOT NULL,
	price       numeric(10, 2) NOT NULL,
	tags        text[] NOT NULL DEFAULT '{}',
	in_stock    boolean NOT NULL,
	updated_at  timestamptz NOT NULL
);
