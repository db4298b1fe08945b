/* extract.c - a store to NDJSON. */
#include <string.h>

#include "mig/log.h"
#include "mig/run.h"
#include "mig/stream.h"

int mig_extract_run(struct mig_store *st, const struct mig_extract_cfg *cfg,
		    struct mig_extract_stats *stats, struct mig_error *err)
{
	struct mig_writer *w = NULL;
	struct mig_progress *pg = NULL;
	json_t *rec;
	int rc;

	memset(stats, 0, sizeof *stats);
	rc = st->ops->read_begin(st, &cfg->ro, err);
	if (rc)
		return rc;
	rc = mig_writer_open(&w, cfg->output, 0, cfg->mode, err);
	if (rc)
		return rc;
	pg = mig_progress_start(cfg->progress, "records", 0);
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
		json_decref(rec);
		if (rc)
			break;
		stats->records++;
		mig_progress_update(pg, stats->records, mig_writer_bytes(w));
	}
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
	return rc;
}
