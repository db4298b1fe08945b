-- Run only when the whole pipeline into project_scripts_new succeeded: the
-- new table takes the old one's place, in one transaction.  The old rows
-- are in the backup (out/before.mig).
SET search_path = dedupe_restructure;
BEGIN;
DROP TABLE project_scripts;
ALTER TABLE project_scripts_new RENAME TO project_scripts;
ALTER TABLE project_scripts RENAME CONSTRAINT project_scripts_new_pkey TO project_scripts_pkey;
ALTER TABLE project_scripts RENAME CONSTRAINT project_scripts_new_project_user_key
	TO project_scripts_project_user_key;
COMMIT;
