-- The normalized tables the exports are imported into.  IF NOT EXISTS: up
-- may run again.
CREATE SCHEMA IF NOT EXISTS local_export;
SET search_path = local_export;

CREATE TABLE IF NOT EXISTS user_settings (
	user_id text NOT NULL,
	key     text NOT NULL,
	value   jsonb,
	PRIMARY KEY (user_id, key)
);

CREATE TABLE IF NOT EXISTS lists (
	user_id    text NOT NULL,
	list_id    text NOT NULL,
	title      text NOT NULL,
	created_at timestamptz NOT NULL,
	archived   boolean NOT NULL DEFAULT false,
	PRIMARY KEY (user_id, list_id)
);

CREATE TABLE IF NOT EXISTS list_items (
	user_id  text NOT NULL,
	list_id  text NOT NULL,
	item_id  text NOT NULL,
	text     text NOT NULL,
	done     boolean NOT NULL DEFAULT false,
	due      timestamptz,
	position integer NOT NULL CHECK (position >= 0),  -- the item's place in its list, from 0
	PRIMARY KEY (user_id, list_id, item_id),
	FOREIGN KEY (user_id, list_id) REFERENCES lists (user_id, list_id)
);

CREATE TABLE IF NOT EXISTS drafts (
	user_id    text NOT NULL,
	draft_id   text NOT NULL,
	title      text NOT NULL,
	body       text NOT NULL,
	tags       text[] NOT NULL DEFAULT '{}',
	updated_at timestamptz NOT NULL,
	PRIMARY KEY (user_id, draft_id)
);
