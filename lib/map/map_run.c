/* run.c - the mig-map driver: NDJSON through a compiled mapping, with
 * rejects (the loop of lib/load.c, with a map instead of a store). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mig/log.h"
#include "mig/map.h"
#include "mig/reject.h"
#include "mig/stream.h"

struct runner {
	const struct mig_map_cfg *cfg;
	struct mig_map_stats *stats;
	struct mig_rejects *rj;
	struct mig_writer *w;
	const char *name;            /* the input's name */
	const struct mig_line *cur;  /* the line being pushed */
};

/* Counts one reject; MIG_EDATA when past --max-errors. */
static int reject(struct runner *R, const json_t *rec, const char *raw, size_t rawlen,
		  uint64_t line, const char *why, struct mig_error *err)
{
	int rc = mig_rejects_add(R->rj, rec, raw, rawlen, line, why, NULL, NULL, err);

	if (rc)
		return rc;
	R->stats->rejected++;
	if (!mig_rejects_path(R->rj) && R->cfg->max_errors != 0)
		mig_warn("rejected: %s", why);
	if (R->cfg->max_errors >= 0 && R->stats->rejected > (uint64_t)R->cfg->max_errors) {
		if (R->cfg->max_errors == 0 && !mig_rejects_path(R->rj))
			return mig_error_set(err, MIG_EDATA, "%s", why);
		return mig_error_set(err, MIG_EDATA,
				     "%llu records rejected, more than --max-errors %lld (last: %s)",
				     (unsigned long long)R->stats->rejected,
				     (long long)R->cfg->max_errors, why);
	}
	return 0;
}

static int on_emit(void *ctx, json_t *rec, uint64_t line, struct mig_error *err)
{
	struct runner *R = ctx;
	int rc = mig_writer_put(R->w, rec, err);

	json_decref(rec);
	if (!rc)
		R->stats->written++;
	return rc;
}

static int on_reject(void *ctx, const json_t *rec, uint64_t line, const char *why, int in_push,
		     struct mig_error *err)
{
	struct runner *R = ctx;
	char msg[MIG_ERROR_MAX + 256];
	json_t *orig = NULL;
	int rc;

	snprintf(msg, sizeof msg, "%s:%llu: %s", R->name, (unsigned long long)line, why);
	/* the record as it was read, so that it can be fixed and fed back */
	if (in_push && R->cur && mig_record_parse(&orig, R->cur, R->name, NULL) != 0)
		orig = NULL;
	rc = reject(R, orig ? orig : rec, NULL, 0, line, msg, err);
	json_decref(orig);
	return rc;
}

int mig_map_run(struct mig_map *m, const struct mig_map_cfg *cfg, struct mig_map_stats *stats,
		struct mig_error *err)
{
	struct runner R = { .cfg = cfg, .stats = stats };
	struct mig_map_sink sink = { on_emit, on_reject, &R };
	struct mig_reader *rd = NULL;
	struct mig_progress *pg = NULL;
	struct mig_error lerr;
	struct mig_line line;
	json_t *rec;
	int rc;

	memset(stats, 0, sizeof *stats);
	rc = mig_reader_open(&rd, cfg->input, cfg->max_line, err);
	if (rc)
		goto out;
	R.name = mig_reader_name(rd);
	rc = mig_writer_open(&R.w, cfg->output, 0, cfg->mode, err);
	if (rc)
		goto out;
	rc = mig_rejects_open(&R.rj, cfg->reject_path, mig_log_program(), 0, err);
	if (rc)
		goto out;
	pg = mig_progress_start(cfg->progress, "records", mig_reader_size(rd));
	for (;;) {
		if (mig_interrupted) {
			rc = mig_error_set(err, MIG_EINTR, "interrupted");
			break;
		}
		rc = mig_reader_next(rd, &line, &lerr);
		if (rc == MIG_DONE) {
			rc = 0;
			break;
		}
		if (rc == MIG_EDATA) {          /* a line over --max-line */
			stats->read++;
			if ((rc = reject(&R, NULL, line.data, line.len, line.lineno, lerr.msg, err)))
				break;
			continue;
		}
		if (rc) {
			*err = lerr;
			break;
		}
		stats->read++;
		if ((rc = mig_record_parse(&rec, &line, R.name, &lerr)) != 0) {
			if ((rc = reject(&R, NULL, line.data, line.len, line.lineno, lerr.msg, err)))
				break;
			continue;
		}
		R.cur = &line;
		rc = mig_map_push(m, rec, line.lineno, &sink, err);
		R.cur = NULL;
		if (rc) {
			/* a runtime error under --on-error fail names the record */
			if (rc == MIG_EDATA && !strstr(err->msg, "more than --max-errors") &&
			    strncmp(err->msg, R.name, strlen(R.name)))
				mig_error_prefix(err, "%s:%llu", R.name,
						 (unsigned long long)line.lineno);
			break;
		}
		stats->bytes = mig_reader_offset(rd);
		mig_progress_update(pg, stats->read, stats->bytes);
	}
	stats->bytes = mig_reader_offset(rd);
	if (!rc) {
		rc = mig_map_finish(m, &sink, err);
		if (rc == MIG_EDATA && !strstr(err->msg, "more than --max-errors") &&
		    strncmp(err->msg, R.name, strlen(R.name)))
			mig_error_prefix(err, "%s", R.name);
	}
	mig_progress_end(pg);
out:
	{
		/* what was mapped before a stop is good: flush it */
		int wrc = mig_writer_close(R.w, 0, rc ? &lerr : err);
		if (!rc)
			rc = wrc;
		else if (wrc == MIG_EPIPE && rc != MIG_EINTR)
			rc = wrc, *err = lerr;
		int jrc = mig_rejects_close(R.rj, rc ? &lerr : err);
		if (!rc)
			rc = jrc;
	}
	if (rc == MIG_EPIPE)
		stats->output_closed = 1;
	mig_reader_close(rd);
	return rc;
}
