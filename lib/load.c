/* load.c - NDJSON to a store, in batches, with rejects. */
#include <stdlib.h>
#include <string.h>

#include "mig/jsonfile.h"
#include "mig/log.h"
#include "mig/reject.h"
#include "mig/run.h"
#include "mig/stream.h"

struct loader {
	struct mig_store *st;
	const struct mig_load_cfg *cfg;
	struct mig_load_stats *stats;
	struct mig_rejects *rj;
	const char *name;            /* the input's name, for messages */
	struct mig_batch batch;
	size_t cap;
	size_t cap_bytes;            /* end a batch at this much record text */
	size_t bytes;                /* the batch's record text so far */
	/* the batch's lines, for a backend with write_prepare */
	struct mig_buf raw;
	size_t *rawoff;
	char last[MIG_ERROR_MAX];    /* the newest reject's reason */
	uint64_t done_line;          /* input committed through this line */
};

/* The checkpoint file: {"version": 1, "target": T, "input": I, "line": N,
 * "complete": bool, counts...}.  It is written after the batch commits, so
 * a crash between the two repeats at most that one batch on resume. */
static int checkpoint_write(struct loader *L, int complete, struct mig_error *err)
{
	json_t *v;
	int rc;

	if (!L->cfg->checkpoint || L->cfg->wo.dry_run)
		return 0;
	v = json_pack("{s:i, s:s, s:s, s:I, s:b, s:I, s:I, s:I, s:I}", "version", 1,
		      "target", L->cfg->target ? L->cfg->target : "", "input", L->name,
		      "line", (json_int_t)L->done_line, "complete", complete,
		      "inserted", (json_int_t)L->stats->inserted,
		      "updated", (json_int_t)L->stats->updated,
		      "skipped", (json_int_t)L->stats->skipped,
		      "rejected", (json_int_t)L->stats->rejected);
	if (!v)
		return mig_error_set(err, MIG_ENOMEM, "out of memory");
	rc = mig_jsonfile_write(L->cfg->checkpoint, v, "checkpoint", err);
	json_decref(v);
	return rc;
}

/* Reads the checkpoint: the line to resume after, and whether it was done. */
static int checkpoint_read(const struct mig_load_cfg *cfg, uint64_t *line, int *complete,
			   struct mig_error *err)
{
	json_t *v = NULL, *t, *l, *c;
	int rc;

	*line = 0;
	*complete = 0;
	if (!cfg->checkpoint)
		return 0;
	rc = mig_jsonfile_read(&v, cfg->checkpoint, "checkpoint", err);
	if (rc || !v)
		return rc;
	t = json_object_get(v, "target");
	l = json_object_get(v, "line");
	c = json_object_get(v, "complete");
	if (json_integer_value(json_object_get(v, "version")) != 1 || !json_is_string(t) ||
	    !json_is_integer(l) || json_integer_value(l) < 0 || !json_is_boolean(c)) {
		rc = mig_error_set(err, MIG_ECORRUPT, "checkpoint %s: corrupt: not a mig-load "
				   "checkpoint", cfg->checkpoint);
	} else if (cfg->target && strcmp(json_string_value(t), cfg->target)) {
		rc = mig_error_set(err, MIG_EUSAGE, "checkpoint %s is of a load into %s, not %s",
				   cfg->checkpoint, json_string_value(t), cfg->target);
	} else {
		*line = (uint64_t)json_integer_value(l);
		*complete = json_is_true(c);
	}
	json_decref(v);
	return rc;
}

/* Counts one reject and says whether the load may go on (0) or must stop
 * (MIG_EDATA, or an error writing the reject file). */
static int reject(struct loader *L, const json_t *rec, const char *raw, size_t rawlen,
		  uint64_t line, const char *why, const char *code, struct mig_error *err)
{
	int rc;

	snprintf(L->last, sizeof L->last, "%s", why);
	rc = mig_rejects_add(L->rj, rec, raw, rawlen, line, why, code, NULL, err);
	if (rc)
		return rc;
	L->stats->rejected++;
	if (!mig_rejects_path(L->rj) && L->cfg->max_errors != 0)
		mig_warn("rejected: %s", why);
	if (L->cfg->max_errors >= 0 && L->stats->rejected > (uint64_t)L->cfg->max_errors) {
		if (L->cfg->max_errors == 0 && !mig_rejects_path(L->rj))
			return mig_error_set(err, MIG_EDATA, "%s", why);
		return mig_error_set(err, MIG_EDATA,
				     "%llu records rejected, more than --max-errors %lld (last: %s)",
				     (unsigned long long)L->stats->rejected,
				     (long long)L->cfg->max_errors, why);
	}
	return 0;
}

/* Writes the pending batch; then rejects what the store refused. */
static int flush(struct loader *L, struct mig_error *err)
{
	struct mig_batch *b = &L->batch;
	int rc = 0, stop = 0;
	char why[MIG_ERROR_MAX + 64];

	if (!b->n)
		return 0;
	for (size_t i = 0; L->rawoff && i < b->n; i++)
		b->items[i].raw = L->raw.data + L->rawoff[i];
	rc = L->st->ops->write_batch(L->st, b, err);
	if (rc) {
		mig_error_prefix(err, "batch %llu (input lines %llu-%llu)",
				 (unsigned long long)L->stats->batches + 1,
				 (unsigned long long)b->items[0].line,
				 (unsigned long long)b->items[b->n - 1].line);
		goto out;
	}
	L->stats->batches++;
	L->done_line = b->items[b->n - 1].line;
	mig_debug("batch %llu committed: input lines %llu-%llu",
		  (unsigned long long)L->stats->batches, (unsigned long long)b->items[0].line,
		  (unsigned long long)L->done_line);
	for (size_t i = 0; i < b->n; i++) {
		struct mig_batch_item *it = &b->items[i];
		switch (it->status) {
		case MIG_ITEM_INSERTED: L->stats->inserted++; break;
		case MIG_ITEM_UPDATED: L->stats->updated++; break;
		case MIG_ITEM_SKIPPED: L->stats->skipped++; break;
		case MIG_ITEM_DELETED: L->stats->deleted++; break;
		case MIG_ITEM_NOT_FOUND: L->stats->not_found++; break;
		case MIG_ITEM_REJECTED:
			if (stop)
				break;
			snprintf(why, sizeof why, "%s:%llu: %s", L->name,
				 (unsigned long long)it->line, it->error ? it->error : "rejected");
			if (!it->rec && it->raw) {
				/* taken as text by the backend: the reject keeps the object */
				struct mig_line ln = { .data = it->raw, .len = it->rawlen,
						       .lineno = it->line };
				struct mig_error perr;
				if (mig_record_parse(&it->rec, &ln, L->name, &perr))
					it->rec = NULL;
			}
			rc = reject(L, it->rec, it->rec ? NULL : it->raw, it->rawlen, it->line,
				    why, it->code, err);
			if (rc)
				stop = 1;   /* the batch is committed: count the rest, stop after */
			break;
		default:
			/* a backend that left an item undecided would lose it silently */
			rc = mig_error_set(err, MIG_EIO, "%s: the backend left the record of %s:%llu "
					   "undecided", L->st->loc->redacted, L->name,
					   (unsigned long long)it->line);
			stop = 1;
			break;
		}
	}
	if (!L->cfg->wo.atomic) {
		int crc = checkpoint_write(L, 0, stop ? &(struct mig_error){ 0 } : err);
		if (!rc)
			rc = crc;
	}
out:
	for (size_t i = 0; i < b->n; i++) {
		json_decref(b->items[i].rec);
		free(b->items[i].error);
		free(b->items[i].code);
	}
	b->n = 0;
	L->bytes = 0;
	mig_buf_reset(&L->raw);
	return rc;
}

/* Keeps line as the text of the next item, for a backend with
 * write_prepare; returns 0 or MIG_ENOMEM. */
static int keep_raw(struct loader *L, const struct mig_line *line)
{
	struct mig_batch_item *it = &L->batch.items[L->batch.n];
	size_t off = L->raw.len;

	if (mig_buf_append(&L->raw, line->data, line->len))
		return MIG_ENOMEM;
	L->rawoff[L->batch.n] = off;
	*it = (struct mig_batch_item){ .raw = L->raw.data + off, .rawlen = line->len,
				       .line = line->lineno };
	return 0;
}

int mig_load_run(struct mig_store *st, const struct mig_load_cfg *cfg,
		 struct mig_load_stats *stats, struct mig_error *err)
{
	struct loader L = { .st = st, .cfg = cfg, .stats = stats };
	struct mig_reader *rd = NULL;
	struct mig_progress *pg = NULL;
	struct mig_error lerr;
	struct mig_line line = { 0 };
	struct mig_write_opts wo;
	json_t *rec;
	uint64_t resume = 0;
	int rc, began = 0, complete = 0;

	memset(stats, 0, sizeof *stats);
	rc = checkpoint_read(cfg, &resume, &complete, err);
	if (rc)
		return rc;
	if (complete) {
		stats->was_complete = 1;
		return 0;
	}
	L.done_line = resume;
	/* no --batch-size: the store's own default, bounded in bytes too */
	wo = cfg->wo;
	if (!wo.batch_size) {
		wo.batch_size = st->ops->default_batch_size ? st->ops->default_batch_size : 1000;
		L.cap_bytes = MIG_DEFAULT_BATCH_BYTES;
	} else {
		L.cap_bytes = MIG_BATCH_BYTES;
	}
	L.cap = wo.batch_size;
	L.batch.items = calloc(L.cap, sizeof *L.batch.items);
	mig_buf_init(&L.raw, 0);
	if (st->ops->write_prepare)
		L.rawoff = calloc(L.cap, sizeof *L.rawoff);
	if (!L.batch.items || (st->ops->write_prepare && !L.rawoff)) {
		free(L.batch.items);
		free(L.rawoff);
		return mig_error_set(err, MIG_ENOMEM, "out of memory");
	}
	if (cfg->reader)
		rd = cfg->reader;
	else if ((rc = mig_reader_open(&rd, cfg->input, cfg->max_line, err)) != 0)
		goto out;
	L.name = mig_reader_name(rd);
	rc = mig_rejects_open(&L.rj, cfg->reject_path, mig_log_program(), resume > 0, err);
	if (rc)
		goto out;
	/* Before the first record, so that a bad target or option fails even
	 * on an empty input; the backend creates a collection from the first
	 * batch, so an empty input creates nothing. */
	rc = mig_store_check_params(st, &wo, err);
	if (!rc)
		rc = st->ops->write_begin(st, &wo, err);
	if (rc)
		goto out;
	began = 1;
	mig_debug("%s: writing, batches of %zu, from %s", st->loc->redacted, L.cap, L.name);
	pg = mig_progress_start(cfg->progress, "records", mig_reader_size(rd));
	for (;;) {
		if (mig_interrupted) {
			rc = mig_error_set(err, MIG_EINTR, "interrupted");
			break;
		}
		rc = mig_reader_next(rd, &line, &lerr);
		if (rc == MIG_DONE) {
			rc = cfg->input_end ? cfg->input_end(cfg->input_arg, err) : 0;
			break;
		}
		if ((rc == 0 || rc == MIG_EDATA) && line.lineno <= resume) {
			stats->resumed++;       /* committed by an earlier run */
			continue;
		}
		if (rc == MIG_EDATA) {          /* a line over --max-line */
			stats->read++;
			rc = reject(&L, NULL, line.data, line.len, line.lineno, lerr.msg, NULL, err);
			if (rc)
				break;
			continue;
		}
		if (rc) {
			*err = lerr;
			break;
		}
		stats->read++;
		if (L.rawoff) {
			/* the backend may take the record as it is, unparsed */
			size_t mark = L.raw.len;
			rc = keep_raw(&L, &line);
			rc = rc ? rc : st->ops->write_prepare(st, &L.batch, L.batch.n, err);
			if (rc == 1) {
				L.batch.n++;
				goto added;
			}
			L.raw.len = mark;
			if (rc) {
				if (rc == MIG_ENOMEM)
					mig_error_set(err, MIG_ENOMEM, "out of memory");
				break;
			}
		}
		rc = mig_record_parse(&rec, &line, L.name, &lerr);
		if (rc) {
			rc = reject(&L, NULL, line.data, line.len, line.lineno, lerr.msg, NULL, err);
			if (rc)
				break;
			continue;
		}
		if ((rc = mig_value_check(rec, &lerr)) != 0) {
			/* valid JSON: the reject keeps it as an object, for mig-map to fix */
			mig_error_prefix(&lerr, "%s:%llu", L.name, (unsigned long long)line.lineno);
			rc = reject(&L, rec, NULL, 0, line.lineno, lerr.msg, NULL, err);
			json_decref(rec);
			if (rc)
				break;
			continue;
		}
		L.batch.items[L.batch.n] = (struct mig_batch_item){ .rec = rec,
								    .line = line.lineno };
		if (L.rawoff) {
			if (keep_raw(&L, &line) == 0) {
				L.batch.items[L.batch.n].rec = rec;
				rc = st->ops->write_prepare(st, &L.batch, L.batch.n, err);
			} else {
				rc = MIG_ENOMEM;
			}
			if (rc) {
				L.batch.n++;   /* the batch owns rec now */
				if (rc == MIG_ENOMEM)
					mig_error_set(err, MIG_ENOMEM, "out of memory");
				break;
			}
		}
		L.batch.n++;
added:
		/* a batch also ends at cap_bytes of record text, so that a
		 * large --batch-size of large records stays within memory */
		L.bytes += line.len;
		if ((L.batch.n == L.cap || L.bytes >= L.cap_bytes) && (rc = flush(&L, err)) != 0)
			break;
		stats->bytes = mig_reader_offset(rd);
		mig_progress_update(pg, stats->read, stats->bytes);
	}
	stats->bytes = mig_reader_offset(rd);
	/* What was read before a stop is good: write it, unless the store
	 * failed or the input was found corrupt. */
	if (rc != MIG_EIO && rc != MIG_ENOMEM && rc != MIG_ECORRUPT && began) {
		int frc = flush(&L, rc ? &lerr : err);
		if (!rc)
			rc = frc;
		else if (frc && frc != MIG_EDATA)
			*err = lerr, rc = frc;
	}
	if (began) {
		int commit = !cfg->wo.dry_run && (rc == 0 || !cfg->wo.atomic);
		int erc = st->ops->write_end(st, commit, rc ? &lerr : err);
		if (!rc)
			rc = erc;
	}
	if (!rc) {
		/* everything is in: a rerun with this checkpoint does nothing */
		L.done_line = line.lineno > L.done_line ? line.lineno : L.done_line;
		rc = checkpoint_write(&L, 1, err);
	}
	mig_progress_end(pg);
out:
	for (size_t i = 0; i < L.batch.n; i++)
		json_decref(L.batch.items[i].rec);
	free(L.batch.items);
	free(L.rawoff);
	mig_buf_free(&L.raw);
	{
		int crc = mig_rejects_close(L.rj, rc ? &lerr : err);
		if (!rc)
			rc = crc;
	}
	if (rd != cfg->reader)
		mig_reader_close(rd);
	return rc;
}
