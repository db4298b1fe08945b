DROP SCHEMA IF EXISTS batch_job CASCADE;
CREATE SCHEMA batch_job;
SET search_path = batch_job;

CREATE TABLE customers (
	id         integer PRIMARY KEY,
	name       text NOT NULL,
	country    text NOT NULL,
	vip        boolean NOT NULL DEFAULT false,
	updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE orders (
	id          integer PRIMARY KEY,
	customer_id integer NOT NULL REFERENCES customers (id),
	status      text NOT NULL,
	total       numeric(10, 2) NOT NULL,
	items       integer NOT NULL,
	updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX orders_updated_at ON orders (updated_at, id);
CREATE INDEX customers_updated_at ON customers (updated_at, id);
