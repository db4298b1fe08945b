/*
 * file.c - the file backend: NDJSON files, "-" for stdio, ".zst" by suffix.
 *
 * A file holds one collection, the file itself.  Loading appends (an
 * insert adds records), --truncate starts it empty; only --mode insert
 * makes sense for a file.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "mig/backend.h"
#include "mig/stream.h"

struct file_store {
	struct mig_store base;
	struct mig_reader *rd;
	struct mig_writer *wr;
	int64_t limit, nread;
	int dry_run;
};

static int file_open(struct mig_store **out, struct mig_locator *loc, int flags,
		     struct mig_error *err)
{
	struct file_store *fs = calloc(1, sizeof *fs);

	if (!fs)
		return mig_error_set(err, MIG_ENOMEM, "out of memory");
	fs->base.loc = loc;
	*out = &fs->base;
	return 0;
}

static void file_close(struct mig_store *st)
{
	struct file_store *fs = (struct file_store *)st;

	if (!fs)
		return;
	mig_reader_close(fs->rd);
	mig_writer_close(fs->wr, 0, NULL);
	free(fs);
}

static int file_read_begin(struct mig_store *st, const struct mig_read_opts *o,
			   struct mig_error *err)
{
	struct file_store *fs = (struct file_store *)st;

	if (o->query || o->where || o->order_by)
		return mig_error_set(err, MIG_EUSAGE,
				     "%s: --query, --where and --order-by need a database backend",
				     st->loc->redacted);
	if (o->shard_n)
		return mig_error_set(err, MIG_EUSAGE, "%s: a file cannot be read in shards",
				     st->loc->redacted);
	fs->limit = o->limit;
	return mig_reader_open(&fs->rd, st->loc->path, o->max_line, err);
}

static int file_read_next(struct mig_store *st, json_t **out, struct mig_error *err)
{
	struct file_store *fs = (struct file_store *)st;
	struct mig_line line;
	int rc;

	*out = NULL;
	if (fs->limit >= 0 && fs->nread >= fs->limit)
		return MIG_DONE;
	rc = mig_reader_next(fs->rd, &line, err);
	if (rc)
		return rc;
	rc = mig_record_parse(out, &line, mig_reader_name(fs->rd), err);
	if (rc)
		return rc;
	rc = mig_value_check(*out, err);
	if (rc) {
		json_decref(*out);
		*out = NULL;
		return mig_error_prefix(err, "%s:%llu", mig_reader_name(fs->rd),
					(unsigned long long)line.lineno);
	}
	fs->nread++;
	return 0;
}

static int file_write_begin(struct mig_store *st, const struct mig_write_opts *o,
			    struct mig_error *err)
{
	struct file_store *fs = (struct file_store *)st;
	struct stat sb;

	if (o->mode != MIG_MODE_INSERT)
		return mig_error_set(err, MIG_EUSAGE, "%s: --mode %s: a file target takes only "
				     "--mode insert (records are appended; none is found by key "
				     "to update or delete)", st->loc->redacted,
				     mig_load_mode_name(o->mode));
	fs->dry_run = o->dry_run;
	if (o->dry_run) {
		/* nothing is written; but say now if it could not be */
		if (strcmp(st->loc->path, "-") && stat(st->loc->path, &sb) < 0 && errno != ENOENT)
			return mig_error_set(err, MIG_EIO, "%s: %s", st->loc->redacted,
					     strerror(errno));
		return 0;
	}
	return mig_writer_open(&fs->wr, st->loc->path,
			       (o->truncate || o->drop) ? 0 : MIG_WRITER_APPEND,
			       MIG_JSON_RELAXED, err);
}

static int file_write_batch(struct mig_store *st, struct mig_batch *b, struct mig_error *err)
{
	struct file_store *fs = (struct file_store *)st;
	int rc;

	for (size_t i = 0; i < b->n; i++) {
		struct mig_batch_item *it = &b->items[i];
		if (it->status != MIG_ITEM_PENDING)
			continue;
		if (!fs->dry_run) {
			rc = mig_writer_put(fs->wr, it->rec, err);
			if (rc)
				return rc;
		}
		it->status = MIG_ITEM_INSERTED;
	}
	/* a batch is committed when write_batch returns: push it to the file */
	return fs->wr ? mig_writer_flush(fs->wr, err) : 0;
}

static int file_write_end(struct mig_store *st, int commit, struct mig_error *err)
{
	struct file_store *fs = (struct file_store *)st;
	int rc = mig_writer_close(fs->wr, commit, err);

	fs->wr = NULL;
	return rc;
}

static int file_count(struct mig_store *st, const struct mig_read_opts *o, uint64_t *out,
		      struct mig_error *err)
{
	struct file_store *fs = (struct file_store *)st;
	json_t *rec;
	int rc;

	*out = 0;
	rc = file_read_begin(st, o, err);
	while (!rc && (rc = file_read_next(st, &rec, err)) == 0) {
		json_decref(rec);
		(*out)++;
	}
	mig_reader_close(fs->rd);
	fs->rd = NULL;
	fs->nread = 0;
	return rc == MIG_DONE ? 0 : rc;
}

static int file_list(struct mig_store *st, json_t **out, struct mig_error *err)
{
	struct mig_read_opts o = { .limit = -1 };
	uint64_t n;
	int rc = file_count(st, &o, &n, err);

	if (rc)
		return rc;
	*out = json_pack("[{s:s, s:I}]", "name", st->loc->path, "count", (json_int_t)n);
	return *out ? 0 : mig_error_set(err, MIG_ENOMEM, "out of memory");
}

const struct mig_backend_ops mig_backend_file = {
	.version = MIG_BACKEND_VERSION,
	.scheme = "file",
	.summary = "NDJSON files (file:PATH, PATH, -), zstd by the .zst suffix",
	.open = file_open,
	.close = file_close,
	.read_begin = file_read_begin,
	.read_next = file_read_next,
	.write_begin = file_write_begin,
	.write_batch = file_write_batch,
	.write_end = file_write_end,
	.list = file_list,
	.count = file_count,
	.describe = NULL,
};
