/*
 * dir.c - a directory of backups: what is there (mig-backup --list) and
 * what retention deletes (--prune).
 *
 * An archive's time is the "created" of its manifest, not the file's
 * mtime, which a copy or a restore from tape changes.  Only files whose
 * first member is a manifest count as backups; hidden files (a backup
 * being written is ".NAME.tmp.PID") and anything else are left alone.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "archive_int.h"

static int oom(struct mig_error *err)
{
	return mig_error_set(err, MIG_ENOMEM, "out of memory");
}

static json_t *entry_of(const char *file, const char *path, const struct stat *st,
			const json_t *m, const char *error)
{
	json_t *e = json_pack("{s:s, s:s, s:I}", "file", file, "path", path,
			      "size", (json_int_t)st->st_size);
	json_t *colls = json_object_get(m, "collections"), *c;
	uint64_t records = 0;
	int64_t t;
	size_t i;

	if (!e)
		return NULL;
	if (error) {
		json_object_set_new(e, "error", json_string(error));
		json_object_set_new(e, "time", json_integer((json_int_t)st->st_mtime));
		return e;
	}
	json_array_foreach(colls, i, c)
		records += (uint64_t)json_integer_value(json_object_get(c, "records"));
	t = mig_archive_time_parse(json_string_value(json_object_get(m, "created")));
	if (json_object_set(e, "created", json_object_get(m, "created")) ||
	    json_object_set_new(e, "time", json_integer(t >= 0 ? t : (json_int_t)st->st_mtime)) ||
	    json_object_set(e, "source", json_object_get(m, "source") ?: json_null()) ||
	    json_object_set(e, "backend", json_object_get(m, "backend")) ||
	    json_object_set(e, "consistent", json_object_get(m, "consistent") ?: json_null()) ||
	    json_object_set_new(e, "collections", json_integer((json_int_t)json_array_size(colls))) ||
	    json_object_set_new(e, "records", json_integer((json_int_t)records))) {
		json_decref(e);
		return NULL;
	}
	return e;
}

static int by_time(const void *a, const void *b)
{
	const json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
	json_int_t tx = json_integer_value(json_object_get(x, "time"));
	json_int_t ty = json_integer_value(json_object_get(y, "time"));

	if (tx != ty)
		return tx < ty ? -1 : 1;
	return strcmp(json_string_value(json_object_get(x, "file")),
		      json_string_value(json_object_get(y, "file")));
}

int mig_backup_scan(const char *dir, json_t **out, struct mig_error *err)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	json_t **items = NULL, *arr = NULL;
	size_t n = 0, cap = 0;
	int rc = 0;

	*out = NULL;
	if (!d)
		return mig_error_set(err, MIG_EIO, "%s: %s", dir, strerror(errno));
	while ((de = readdir(d)) != NULL) {
		struct mig_error e = { 0 };
		struct stat st;
		json_t *m = NULL, *item;
		size_t len = strlen(dir) + strlen(de->d_name) + 2;
		char *path;
		int r;

		if (de->d_name[0] == '.')
			continue;
		path = malloc(len);
		if (!path) {
			rc = oom(err);
			break;
		}
		snprintf(path, len, "%s/%s", dir, de->d_name);
		if (stat(path, &st) < 0 || !S_ISREG(st.st_mode)) {
			free(path);
			continue;
		}
		r = mig_archive_read_manifest(&m, path, &e);
		if (r == MIG_DONE || r == MIG_ENOMEM) {
			free(path);
			if (r == MIG_ENOMEM) {
				rc = oom(err);
				break;
			}
			continue;
		}
		item = entry_of(de->d_name, path, &st, m, r ? e.msg : NULL);
		json_decref(m);
		free(path);
		if (n == cap) {
			size_t nc = cap ? cap * 2 : 32;
			json_t **ni = realloc(items, nc * sizeof *ni);
			if (!ni) {
				json_decref(item);
				rc = oom(err);
				break;
			}
			items = ni;
			cap = nc;
		}
		if (!item) {
			rc = oom(err);
			break;
		}
		items[n++] = item;
	}
	closedir(d);
	if (!rc && n)
		qsort(items, n, sizeof *items, by_time);
	if (!rc && !(arr = json_array()))
		rc = oom(err);
	for (size_t i = 0; i < n; i++) {
		if (!rc && json_array_append(arr, items[i]))
			rc = oom(err);
		json_decref(items[i]);
	}
	free(items);
	if (rc)
		json_decref(arr);
	else
		*out = arr;
	return rc;
}

/* Whether the archive at path verifies completely. */
static int verifies(const char *path)
{
	struct mig_archive *a = NULL;
	struct mig_error e;
	int ok = mig_archive_open(&a, path, &e) == 0 &&
		 mig_archive_verify(a, -1, MIG_PROGRESS_NEVER, &e) == 0;

	mig_archive_close(a);
	return ok;
}

static int mark(json_t *e, const char *action, const char *reason)
{
	return json_object_set_new(e, "action", json_string(action)) ||
	       json_object_set_new(e, "reason", json_string(reason));
}

int mig_backup_prune_plan(const struct mig_prune_cfg *cfg, json_t **out, struct mig_error *err)
{
	json_t *all = NULL, *e;
	size_t n, i, good = (size_t)-1;
	int64_t rank = 0;
	int rc;

	*out = NULL;
	rc = mig_backup_scan(cfg->dir, &all, err);
	if (rc)
		return rc;
	n = json_array_size(all);
	/* newest first */
	for (i = 0; i < n / 2; i++) {
		json_t *a = json_incref(json_array_get(all, i));
		json_t *b = json_incref(json_array_get(all, n - 1 - i));
		json_array_set_new(all, i, b);
		json_array_set_new(all, n - 1 - i, a);
	}
	/* the newest good backup: kept whatever the rules say */
	for (i = 0; i < n; i++) {
		e = json_array_get(all, i);
		if (json_object_get(e, "error"))
			continue;
		if (verifies(json_string_value(json_object_get(e, "path")))) {
			good = i;
			break;
		}
	}
	if (n && good == (size_t)-1) {
		json_decref(all);
		return mig_error_set(err, MIG_ECORRUPT, "%s: no backup in it verifies: pruning "
				     "nothing", cfg->dir);
	}
	json_array_foreach(all, i, e) {
		json_int_t t = json_integer_value(json_object_get(e, "time"));
		int r;

		if (json_object_get(e, "error"))
			r = mark(e, "keep", "not a readable archive: left alone");
		else if (i == good)
			r = mark(e, "keep", i == 0 ? "the newest backup, verified"
				 : "the newest backup that verifies");
		else if (cfg->keep_last >= 0 && rank < cfg->keep_last)
			r = mark(e, "keep", "--keep-last");
		else if (cfg->keep_days >= 0 && t >= cfg->now - cfg->keep_days * 86400)
			r = mark(e, "keep", "--keep-days");
		else
			r = mark(e, "delete", "older than what the rules keep");
		if (r) {
			json_decref(all);
			return oom(err);
		}
		/* --keep-last N: the N newest archives (the newest good one
		 * among them when it is one of those) */
		if (!json_object_get(e, "error"))
			rank++;
	}
	*out = all;
	return 0;
}

int mig_backup_remove(const char *path, struct mig_error *err)
{
	char *dir;
	int rc;

	if (unlink(path) < 0)
		return mig_error_set(err, MIG_EIO, "%s: %s", path, strerror(errno));
	dir = mig_io_dirname(path);
	if (!dir)
		return oom(err);
	rc = mig_io_sync_dir(dir, err);
	free(dir);
	return rc;
}
