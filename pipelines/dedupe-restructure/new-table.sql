-- The table the de-duplicated rows go into, with the unique key the old one
-- lacked: a duplicate that got past dedupe would be rejected by the load.
SET search_path = dedupe_restructure;
DROP TABLE IF EXISTS project_scripts_new;
CREATE TABLE project_scripts_new (
	id         integer NOT NULL,
	project_id integer NOT NULL,
	user_id    integer NOT NULL,
	content    jsonb NOT NULL,
	created_at timestamptz NOT NULL,
	updated_at timestamptz NOT NULL,
	CONSTRAINT project_scripts_new_pkey PRIMARY KEY (id),
	CONSTRAINT project_scripts_new_project_user_key UNIQUE (project_id, user_id)
);
