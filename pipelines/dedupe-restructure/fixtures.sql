-- The editor's table before the migration: no unique key on
-- (project_id, user_id), so an autosave race could save a script twice.
DROP SCHEMA IF EXISTS dedupe_restructure CASCADE;
CREATE SCHEMA dedupe_restructure;
SET search_path = dedupe_restructure;

CREATE TABLE project_scripts (
	id         integer PRIMARY KEY,
	project_id integer NOT NULL,
	user_id    integer NOT NULL,
	content    jsonb NOT NULL,
	created_at timestamptz NOT NULL,
	updated_at timestamptz NOT NULL
);
CREATE INDEX project_scripts_project ON project_scripts (project_id);
