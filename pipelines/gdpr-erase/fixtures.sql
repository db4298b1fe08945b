DROP SCHEMA IF EXISTS gdpr_erase CASCADE;
CREATE SCHEMA gdpr_erase;
SET search_path = gdpr_erase;

CREATE TABLE users (
	id         integer PRIMARY KEY,
	email      text NOT NULL UNIQUE,
	name       text NOT NULL,
	phone      text,
	created_at timestamptz NOT NULL,
	erased_at  timestamptz
);

CREATE TABLE orders (
	id               integer PRIMARY KEY,
	user_id          integer NOT NULL REFERENCES users (id),
	total            numeric(10, 2) NOT NULL,
	shipping_name    text NOT NULL,
	shipping_address text,
	created_at       timestamptz NOT NULL
);

-- The erasure requests (Art. 17 GDPR) that the job carries out.
CREATE TABLE erase_requests (
	user_id      integer PRIMARY KEY REFERENCES users (id),
	requested_at timestamptz NOT NULL DEFAULT now(),
	completed_at timestamptz
);
