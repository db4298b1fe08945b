/* extract.c - a store to NDJSON, with --since bookmarks. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mig/buf.h"
#include "mig/jsonfile.h"
#include "mig/log.h"
#include "mig/run.h"
#include "mig/stream.h"

/* Reads the bookmark of --state: {"field": F, "value": V, "key": {...}}, or
 * one without "value" (a first run that saw nothing).  *out stays NULL
 * when there is none yet. */
static int bookmark_read(json_t **out, const char *path, const char *field,
			 struct mig_error *err)
{
	json_t *v = NULL, *f;
	int rc = mig_jsonfile_read(&v, path, "state", err);

	*out = NULL;
	if (rc || !v)
		return rc;
	f = json_object_get(v, "field");
	if (!json_is_string(f)) {
		json_decref(v);
		return mig_error_set(err, MIG_ECORRUPT, "state %s: corrupt: no \"field\"", path);
	}
	if (strcmp(json_string_value(f), field)) {
		rc = mig_error_set(err, MIG_EUSAGE, "state %s is a bookmark on %s, not --since %s",
				   path, json_string_value(f), field);
		json_decref(v);
		return rc;
	}
	if (!json_object_get(v, "value") || !json_is_object(json_object_get(v, "key"))) {
		json_decref(v);
		return 0;
	}
	*out = v;
	return 0;
}

/* The bookmark of a record: its --since value and its key fields. */
static json_t *bookmark_of(const json_t *rec, const char *field, const char *const *keys)
{
	json_t *key = json_object(), *v = json_object_get(rec, field);

	for (size_t i = 0; keys && keys[i]; i++) {
		json_t *k = json_object_get(rec, keys[i]);
		json_object_set(key, keys[i], k ? k : json_null());
	}
	return json_pack("{s:s, s:O, s:o}", "field", field, "value", v ? v : json_null(),
			 "key", key);
}

int mig_extract_run(struct mig_store *st, const struct mig_extract_cfg *cfg,
		    struct mig_extract_stats *stats, struct mig_error *err)
{
	struct mig_read_opts ro = cfg->ro;
	struct mig_writer *w = NULL;
	struct mig_progress *pg = NULL;
	json_t *rec, *after = NULL, *last = NULL;
	int rc;

	memset(stats, 0, sizeof *stats);
	if (cfg->state) {
		rc = bookmark_read(&after, cfg->state, ro.since, err);
		if (rc)
			return rc;
		ro.after = after;
	}
	mig_debug("%s: reading%s%s", st->loc->redacted, after ? " after the bookmark in " : "",
		  after ? cfg->state : "");
	rc = st->ops->read_begin(st, &ro, err);
	if (rc)
		goto out;
	if (ro.since && !st->key_fields) {
		rc = mig_error_set(err, MIG_EUSAGE, "%s: the %s backend cannot read --since a bookmark",
				   st->loc->redacted, st->ops->scheme);
		goto out;
	}
	rc = mig_writer_open(&w, cfg->output, 0, cfg->mode, err);
	if (rc)
		goto out;
	pg = mig_progress_start(cfg->progress, "records", 0);
	/* straight from the store's text when it can print the record as the
	 * writer would: only --state needs the records themselves */
	if (st->ops->read_next_text && !cfg->state && cfg->mode == MIG_JSON_RELAXED) {
		struct mig_buf line;
		mig_buf_init(&line, 0);
		for (;;) {
			if (mig_interrupted) {
				rc = mig_error_set(err, MIG_EINTR, "%s: interrupted after %llu records",
						   st->loc->redacted, (unsigned long long)stats->records);
				break;
			}
			mig_buf_reset(&line);
			rc = st->ops->read_next_text(st, &line, err);
			if (rc == MIG_DONE) {
				rc = 0;
				break;
			}
			if (!rc && mig_buf_putc(&line, '\n'))
				rc = mig_error_set(err, MIG_ENOMEM, "out of memory");
			if (!rc)
				rc = mig_writer_put_raw(w, line.data, line.len, err);
			if (rc)
				break;
			stats->records++;
			mig_progress_update(pg, stats->records, mig_writer_bytes(w));
		}
		mig_buf_free(&line);
		goto written;
	}
	for (;;) {
		if (mig_interrupted) {
			rc = mig_error_set(err, MIG_EINTR, "%s: interrupted after %llu records",
					   st->loc->redacted, (unsigned long long)stats->records);
			break;
		}
		rc = st->ops->read_next(st, &rec, err);
		if (rc == MIG_DONE) {
			rc = 0;
			break;
		}
		if (rc)
			break;
		rc = mig_writer_put(w, rec, err);
		if (cfg->state) {
			json_decref(last);
			last = rec;
		} else {
			json_decref(rec);
		}
		if (rc)
			break;
		stats->records++;
		mig_progress_update(pg, stats->records, mig_writer_bytes(w));
	}
written:
	mig_progress_end(pg);
	stats->bytes = mig_writer_bytes(w);
	if (rc == 0) {
		rc = mig_writer_close(w, 0, err);
	} else {
		struct mig_error ignored;
		mig_writer_close(w, 0, &ignored);
	}
	if (rc == MIG_EPIPE)
		stats->output_closed = 1;
	if (rc == 0 && cfg->state) {
		/* every record is out: the next run starts after the last one */
		size_t n = strlen(cfg->state);
		char *next = malloc(n + 6);
		json_t *bm = last ? bookmark_of(last, ro.since, st->key_fields)
			   : after ? json_incref(after) : json_pack("{s:s}", "field", ro.since);
		if (!next || !bm) {
			rc = mig_error_set(err, MIG_ENOMEM, "out of memory");
		} else {
			snprintf(next, n + 6, "%s.next", cfg->state);
			rc = mig_jsonfile_write(next, bm, "state", err);
			stats->bookmark_written = !rc;
		}
		free(next);
		json_decref(bm);
	}
out:
	json_decref(last);
	json_decref(after);
	return rc;
}
