/*
 * backup.c - a store to an archive (mig-backup).
 *
 * The manifest goes first in the tar, but its counts and checksums are
 * known only once every collection has been read.  So each collection is
 * compressed into a spool file (unlinked at once, beside the output so
 * that the copy stays on one file system; in $TMPDIR for standard output)
 * and the tar is written in one pass at the end, the spool copied into it
 * by sendfile(2).  Measured on the 1M-row table of tests/bench/backup: the
 * copy of the ~70 MB spool takes well under a second next to the ~10 s of
 * reading and compressing, and it is what lets "-o -" stream a complete
 * tar to a pipe, which a seek back to patch the manifest could not.
 *
 * Memory stays constant in the size of the data: one record, one 1 MiB
 * text buffer and zstd's window; per collection only its names and sums.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include "archive_int.h"
#include "mig/log.h"
#include "mig/stream.h"

#define TEXT_FLUSH ((size_t)1 << 20)

struct coll {
	char *name;
	char *data_member, *schema_member;
	uint64_t records, bytes;
	uint64_t zoff, zlen;           /* the compressed data in the spool */
	uint64_t soff, slen;           /* the schema text in the spool */
	char sha[65], schema_sha[65];
	char zsha[65];                 /* of the compressed member */
	json_t *depends_on;
};

struct backup {
	const struct mig_backup_cfg *cfg;
	struct mig_backup_stats *stats;
	struct mig_locator *base;      /* the source, without the collection */
	struct mig_store *root;        /* the store that holds the snapshot */
	char *token;                   /* its snapshot, or NULL */
	int spool;                     /* fd */
	uint64_t spool_len;
	ZSTD_CCtx *zc;
	char *zout;                    /* compressed bytes on their way to the spool */
	size_t zout_cap, zout_len;
	struct mig_sha256 *zh;         /* and their checksum, in a collection */
	struct mig_buf text;           /* NDJSON on its way to the compressor */
	struct coll *colls;
	size_t n, cap;
};

static int oom(struct mig_error *err)
{
	return mig_error_set(err, MIG_ENOMEM, "out of memory");
}

/* ---- the spool ---------------------------------------------------------- */

static int spool_write(struct backup *B, const void *p, size_t n, struct mig_error *err)
{
	int rc = mig_io_write_all(B->spool, p, n, "spool file", err);

	if (!rc)
		B->spool_len += n;
	return rc;
}

static int zout_flush(struct backup *B, struct mig_error *err)
{
	int rc = B->zout_len ? spool_write(B, B->zout, B->zout_len, err) : 0;

	if (B->zh && B->zout_len)
		mig_sha256_update(B->zh, B->zout, B->zout_len);

	B->zout_len = 0;
	return rc;
}

/* Feeds [p, p + n) to the compressor (end: and ends the frame). */
static int compress(struct backup *B, const char *p, size_t n, ZSTD_EndDirective end,
		    struct mig_error *err)
{
	ZSTD_inBuffer in = { p, n, 0 };

	for (;;) {
		ZSTD_outBuffer o = { B->zout + B->zout_len, B->zout_cap - B->zout_len, 0 };
		size_t left = ZSTD_compressStream2(B->zc, &o, &in, end);
		int rc;

		if (ZSTD_isError(left))
			return mig_error_set(err, MIG_EIO, "zstd: %s", ZSTD_getErrorName(left));
		B->zout_len += o.pos;
		if (B->zout_len == B->zout_cap && (rc = zout_flush(B, err)) != 0)
			return rc;
		if (end == ZSTD_e_end ? left == 0 : in.pos == in.size)
			return 0;
	}
}

static int text_flush(struct backup *B, struct mig_sha256 *h, struct coll *c,
		      struct mig_error *err)
{
	int rc;

	if (!B->text.len)
		return 0;
	mig_sha256_update(h, B->text.data, B->text.len);
	c->bytes += B->text.len;
	rc = compress(B, B->text.data, B->text.len, ZSTD_e_continue, err);
	mig_buf_reset(&B->text);
	return rc;
}

static int dump_cb(const char *p, size_t n, void *data)
{
	return mig_buf_append(data, p, n) ? -1 : 0;
}

/* ---- one collection -------------------------------------------------------- */

static int coll_add(struct backup *B, const char *name, struct coll **out,
		    struct mig_error *err)
{
	struct coll *c;
	char *enc;

	if (B->n == B->cap) {
		size_t cap = B->cap ? B->cap * 2 : 16;
		struct coll *nc = realloc(B->colls, cap * sizeof *nc);
		if (!nc)
			return oom(err);
		B->colls = nc;
		B->cap = cap;
	}
	c = &B->colls[B->n];
	memset(c, 0, sizeof *c);
	enc = mig_archive_encode(name);
	c->name = strdup(name);
	if (enc) {
		size_t n = strlen(enc) + 32;
		c->data_member = malloc(n);
		c->schema_member = malloc(n);
		if (c->data_member && c->schema_member) {
			snprintf(c->data_member, n, "data/%s.ndjson.zst", enc);
			snprintf(c->schema_member, n, "schema/%s.json", enc);
		}
	}
	free(enc);
	B->n++;
	if (!c->name || !c->data_member || !c->schema_member)
		return oom(err);
	*out = c;
	return 0;
}

/* The collection's JSON Schema with its native definition under
 * "x-mig-native"; *out stays NULL when the backend knows neither. */
static int schema_of(struct backup *B, struct mig_store *st, struct coll *c, json_t **out,
		     struct mig_error *err)
{
	json_t *schema = NULL, *native = NULL, *dep;
	int rc = 0;

	*out = NULL;
	if (st->ops->describe && (rc = st->ops->describe(st, &schema, err)) != 0)
		return rc;
	if (st->ops->native && (rc = st->ops->native(st, &native, err)) != 0)
		goto out;
	if (native) {
		if (!schema && !(schema = json_object())) {
			rc = oom(err);
			goto out;
		}
		dep = json_object_get(native, "depends_on");
		if (json_is_array(dep) && json_array_size(dep))
			c->depends_on = json_deep_copy(dep);
		if (json_object_set(schema, "x-mig-native", native)) {
			rc = oom(err);
			goto out;
		}
	}
	*out = schema;
	schema = NULL;
out:
	json_decref(native);
	json_decref(schema);
	return rc;
}

static int read_collection(struct backup *B, struct mig_store *st, struct coll *c,
			   struct mig_error *err)
{
	struct mig_read_opts ro = { .limit = -1, .mode = MIG_JSON_CANONICAL,
				    .snapshot = B->token };
	struct mig_progress *pg = NULL;
	struct mig_sha256 h = { 0 }, zh = { 0 };
	json_t *rec;
	int rc;

	rc = mig_sha256_init(&h, err);
	if (!rc)
		rc = mig_sha256_init(&zh, err);
	if (rc) {
		mig_sha256_free(&h);
		return rc;
	}
	B->zh = &zh;
	rc = st->ops->read_begin(st, &ro, err);
	if (rc)
		goto out;
	ZSTD_CCtx_reset(B->zc, ZSTD_reset_session_only);
	c->zoff = B->spool_len + B->zout_len;
	pg = mig_progress_start(B->cfg->progress, "records", 0);
	for (;;) {
		if (mig_interrupted) {
			rc = mig_error_set(err, MIG_EINTR, "%s: interrupted after %llu records",
					   st->loc->redacted, (unsigned long long)c->records);
			goto out;
		}
		rc = st->ops->read_next(st, &rec, err);
		if (rc == MIG_DONE)
			break;
		if (rc)
			goto out;
		/* canonical: int32, int64 and double stay apart in the archive */
		rc = mig_value_write(&B->text, rec, MIG_JSON_CANONICAL);
		if (!rc)
			rc = mig_buf_putc(&B->text, '\n');
		json_decref(rec);
		if (rc) {
			rc = mig_error_set(err, MIG_ENOMEM, "%s: out of memory printing a record",
					   st->loc->redacted);
			goto out;
		}
		c->records++;
		if (B->text.len >= TEXT_FLUSH && (rc = text_flush(B, &h, c, err)) != 0)
			goto out;
		mig_progress_update(pg, c->records, c->bytes + B->text.len);
	}
	rc = text_flush(B, &h, c, err);
	if (!rc)
		rc = compress(B, "", 0, ZSTD_e_end, err);
	if (!rc)
		rc = zout_flush(B, err);
	if (rc)
		goto out;
	c->zlen = B->spool_len - c->zoff;
	mig_sha256_final(&h, c->sha);
	mig_sha256_final(&zh, c->zsha);
out:
	B->zh = NULL;
	mig_progress_end(pg);
	mig_sha256_free(&h);
	mig_sha256_free(&zh);
	return rc;
}

static int backup_one(struct backup *B, const char *name, struct mig_error *err)
{
	struct mig_locator *loc = NULL;
	struct mig_store *st = NULL;
	struct coll *c = NULL;
	json_t *schema = NULL;
	double t0 = mig_now();
	int rc;

	rc = coll_add(B, name, &c, err);
	if (rc)
		return rc;
	rc = mig_archive_locator(&loc, B->base, name, err);
	if (rc)
		return rc;
	rc = mig_store_open(&st, loc, MIG_OPEN_READ, err);
	if (rc)
		return rc;
	/* the definitions first: a backend may not answer other queries
	 * while a read is under way (PostgreSQL's COPY) */
	rc = schema_of(B, st, c, &schema, err);
	if (!rc)
		rc = read_collection(B, st, c, err);
	if (!rc && schema) {
		struct mig_buf t;
		mig_buf_init(&t, 0);
		if (json_dump_callback(schema, dump_cb, &t, JSON_INDENT(2) | JSON_PRESERVE_ORDER) ||
		    mig_buf_putc(&t, '\n')) {
			rc = oom(err);
		} else {
			c->soff = B->spool_len;
			c->slen = t.len;
			rc = mig_sha256_hex(t.data, t.len, c->schema_sha, err);
			if (!rc)
				rc = spool_write(B, t.data, t.len, err);
		}
		mig_buf_free(&t);
	}
	if (!rc) {
		double s = mig_now() - t0;
		mig_debug("%s: %llu records, %llu bytes, %llu compressed, %.2f s", st->loc->redacted,
			  (unsigned long long)c->records, (unsigned long long)c->bytes,
			  (unsigned long long)c->zlen, s);
		B->stats->collections++;
		B->stats->records += c->records;
		B->stats->bytes += c->bytes;
	}
	json_decref(schema);
	mig_store_close(st);
	return rc;
}

/* ---- which collections ------------------------------------------------------------ */

static int in_list(const char *const *list, const char *name)
{
	for (size_t i = 0; list && list[i]; i++)
		if (strcmp(list[i], name) == 0)
			return 1;
	return 0;
}

/* The names to back up, in the store's order: an array of strings. */
static int select_names(struct backup *B, const char *fragment, json_t **out,
			struct mig_error *err)
{
	const struct mig_backup_cfg *cfg = B->cfg;
	json_t *list = NULL, *names = json_array(), *item;
	size_t i;
	int rc = 0;

	*out = NULL;
	if (!names)
		return oom(err);
	if (fragment) {
		if (cfg->only) {
			rc = mig_error_set(err, MIG_EUSAGE, "%s: the locator names a collection: "
					   "--only cannot go with it", B->base->redacted);
			goto out;
		}
		if (json_array_append_new(names, json_string(fragment)))
			rc = mig_error_set(err, MIG_EDATA, "%s: the collection name is not valid UTF-8",
					   B->base->redacted);
		goto out;
	}
	if (!B->root->ops->list) {
		rc = mig_error_set(err, MIG_EUSAGE, "%s: the %s backend cannot list its collections: "
				   "name one in the locator", B->base->redacted, B->base->scheme);
		goto out;
	}
	rc = B->root->ops->list(B->root, &list, err);
	if (rc)
		goto out;
	for (size_t k = 0; cfg->only && cfg->only[k]; k++) {
		int found = 0;
		json_array_foreach(list, i, item)
			found |= !strcmp(json_string_value(json_object_get(item, "name")), cfg->only[k]);
		if (!found) {
			rc = mig_error_set(err, MIG_EUSAGE, "%s: --only %s: no such collection",
					   B->base->redacted, cfg->only[k]);
			goto out;
		}
	}
	for (size_t k = 0; cfg->exclude && cfg->exclude[k]; k++) {
		int found = 0;
		json_array_foreach(list, i, item)
			found |= !strcmp(json_string_value(json_object_get(item, "name")),
					 cfg->exclude[k]);
		if (!found)
			mig_warn("%s: --exclude %s: no such collection", B->base->redacted,
				 cfg->exclude[k]);
	}
	json_array_foreach(list, i, item) {
		const char *name = json_string_value(json_object_get(item, "name"));
		if (!name)
			continue;
		if ((cfg->only && !in_list(cfg->only, name)) || in_list(cfg->exclude, name))
			continue;
		if (json_array_append_new(names, json_string(name))) {
			rc = oom(err);
			goto out;
		}
	}
out:
	json_decref(list);
	if (rc)
		json_decref(names);
	else
		*out = names;
	return rc;
}

/* ---- the archive ------------------------------------------------------------------ */

static json_t *manifest_of(struct backup *B)
{
	const struct mig_backup_cfg *cfg = B->cfg;
	char when[32];
	char *source = mig_redact(B->base->uri);
	json_t *m, *colls;

	mig_archive_time(when, cfg->created);
	m = json_pack("{s:s, s:i, s:s, s:s, s:s?, s:s, s:b, s:s, s:i, s:[]}",
		      "format", "mig-archive", "version", MIG_ARCHIVE_VERSION,
		      "tool", cfg->tool ? cfg->tool : "mig", "created", when,
		      "source", source, "backend", B->base->scheme,
		      "consistent", B->stats->consistent, "compression", "zstd",
		      "level", cfg->level, "collections");
	free(source);
	if (!m)
		return NULL;
	colls = json_object_get(m, "collections");
	for (size_t i = 0; i < B->n; i++) {
		struct coll *c = &B->colls[i];
		json_t *o = json_pack("{s:s, s:s, s:s?, s:I, s:I, s:I, s:s, s:s, s:s?}",
				      "name", c->name, "data", c->data_member,
				      "schema", c->slen ? c->schema_member : NULL,
				      "records", (json_int_t)c->records,
				      "bytes", (json_int_t)c->bytes,
				      "compressed_bytes", (json_int_t)c->zlen,
				      "sha256", c->sha,
				      "compressed_sha256", c->zsha,
				      "schema_sha256", c->slen ? c->schema_sha : NULL);
		if (!o || json_array_append_new(colls, o) ||
		    (c->depends_on && json_object_set(o, "depends_on", c->depends_on))) {
			json_decref(m);
			return NULL;
		}
	}
	return m;
}

/* Writes the tar to fd: the manifest and its checksum, then each
 * collection's members. */
static int write_tar(struct backup *B, int fd, const char *name, const json_t *manifest,
		     struct mig_error *err)
{
	static const char zeros[2 * TAR_BLOCK];
	int64_t t = B->cfg->created;
	struct mig_buf b;
	char sha[65], line[128];
	int rc = 0, n;

	mig_buf_init(&b, 0);
	if (json_dump_callback(manifest, dump_cb, &b, JSON_INDENT(2) | JSON_PRESERVE_ORDER) ||
	    mig_buf_putc(&b, '\n')) {
		rc = oom(err);
		goto out;
	}
	rc = mig_sha256_hex(b.data, b.len, sha, err);
	if (rc)
		goto out;
	/* as sha256sum(1) prints it, so that sha256sum -c checks it */
	n = snprintf(line, sizeof line, "%s  %s\n", sha, MANIFEST_NAME);
	{
		/* the header goes in front of the text already in b */
		struct mig_buf h;
		mig_buf_init(&h, 0);
		if (mig_tar_header(&h, MANIFEST_NAME, b.len, t) ||
		    mig_buf_append(&h, b.data, b.len) ||
		    mig_buf_append(&h, zeros, mig_tar_padding(b.len)) ||
		    mig_tar_header(&h, MANIFEST_SHA_NAME, (uint64_t)n, t) ||
		    mig_buf_append(&h, line, (size_t)n) ||
		    mig_buf_append(&h, zeros, mig_tar_padding((uint64_t)n))) {
			mig_buf_free(&h);
			rc = oom(err);
			goto out;
		}
		mig_buf_free(&b);
		b = h;
	}
	rc = mig_io_write_all(fd, b.data, b.len, name, err);
	B->stats->archive_bytes += b.len;
	for (size_t i = 0; !rc && i < B->n; i++) {
		struct coll *c = &B->colls[i];
		for (int s = 0; !rc && s < 2; s++) {
			const char *member = s ? c->schema_member : c->data_member;
			uint64_t off = s ? c->soff : c->zoff, len = s ? c->slen : c->zlen;
			if (s && !len)
				continue;
			mig_buf_reset(&b);
			if (mig_tar_header(&b, member, len, t)) {
				rc = oom(err);
				break;
			}
			rc = mig_io_write_all(fd, b.data, b.len, name, err);
			if (!rc)
				rc = mig_io_copy(B->spool, off, len, fd, name, err);
			if (!rc)
				rc = mig_io_write_all(fd, zeros, mig_tar_padding(len), name, err);
			B->stats->archive_bytes += b.len + len + mig_tar_padding(len);
		}
	}
	if (!rc)
		rc = mig_io_write_all(fd, zeros, sizeof zeros, name, err);
	B->stats->archive_bytes += sizeof zeros;
out:
	mig_buf_free(&b);
	return rc;
}

/* The tar into a hidden temporary file beside the target, fsynced, then
 * renamed over it: a reader of the target sees the old archive or the
 * whole new one, never a part.  (A process killed outright leaves the
 * ".NAME.tmp.PID" file, which no listing takes for a backup.) */
static int write_output(struct backup *B, const json_t *manifest, struct mig_error *err)
{
	const char *out = B->cfg->output;
	char *dir = NULL, *tmp = NULL;
	const char *base;
	int fd = -1, rc;
	size_t n;

	if (!out || strcmp(out, "-") == 0) {
		/* unlike a filter's, a backup's reader going away is a failure:
		 * what it got is not an archive */
		rc = write_tar(B, 1, "stdout", manifest, err);
		if (rc == MIG_EPIPE)
			rc = mig_error_set(err, MIG_EIO, "stdout: the reader went away before the "
					   "archive was complete");
		return rc;
	}
	dir = mig_io_dirname(out);
	base = strrchr(out, '/') ? strrchr(out, '/') + 1 : out;
	n = strlen(dir) + strlen(base) + 48;
	tmp = malloc(n);
	if (!dir || !tmp) {
		rc = oom(err);
		goto out;
	}
	snprintf(tmp, n, "%s/.%s.tmp.%ld", dir, base, (long)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
	if (fd < 0) {
		rc = mig_error_set(err, MIG_EIO, "%s: %s", tmp, strerror(errno));
		goto out;
	}
	rc = write_tar(B, fd, out, manifest, err);
	if (!rc && fsync(fd) < 0)
		rc = mig_error_set(err, MIG_EIO, "%s: fsync: %s", out, strerror(errno));
	if (close(fd) < 0 && !rc)
		rc = mig_error_set(err, MIG_EIO, "%s: close: %s", out, strerror(errno));
	fd = -1;
	if (!rc && mig_interrupted)
		rc = mig_error_set(err, MIG_EINTR, "%s: interrupted", out);
	if (!rc && rename(tmp, out) < 0)
		rc = mig_error_set(err, MIG_EIO, "%s: %s", out, strerror(errno));
	if (!rc)
		rc = mig_io_sync_dir(dir, err);
	else
		unlink(tmp);
out:
	if (fd >= 0)
		close(fd);
	free(tmp);
	free(dir);
	return rc;
}

static int zstd_setup(struct backup *B, struct mig_error *err)
{
	const struct mig_backup_cfg *cfg = B->cfg;
	size_t r;

	B->zc = ZSTD_createCCtx();
	B->zout_cap = (size_t)1 << 20;
	B->zout = malloc(B->zout_cap);
	if (!B->zc || !B->zout)
		return oom(err);
	r = ZSTD_CCtx_setParameter(B->zc, ZSTD_c_compressionLevel, cfg->level);
	if (!ZSTD_isError(r))
		r = ZSTD_CCtx_setParameter(B->zc, ZSTD_c_checksumFlag, 1);
	/*
	 * Matches of at least 6 bytes, not the 5 of these levels: canonical
	 * Extended JSON is full of short repeats ("},\"", "\":{\"$") that a
	 * 5-byte match takes at a loss.  Measured on the 458 MB of the 1M-row
	 * table of tests/bench/backup (zstd 1.5.4, one thread): level 6 gives
	 * 78.8 MB in 5.8 s of CPU, with minMatch 6 74.6 MB in 4.8 s (pg_dump
	 * -Fc: 78.5 MB); level 3 83.2 -> 80.2 MB at the same speed; level 8
	 * 75.8 -> 71.7 MB.  Levels from 13 up have better match finders of
	 * their own and keep theirs.
	 */
	if (!ZSTD_isError(r) && cfg->level >= 3 && cfg->level <= 12)
		r = ZSTD_CCtx_setParameter(B->zc, ZSTD_c_minMatch, 6);
	if (ZSTD_isError(r))
		return mig_error_set(err, MIG_EUSAGE, "zstd level %d: %s", cfg->level,
				     ZSTD_getErrorName(r));
	if (cfg->threads > 0) {
		r = ZSTD_CCtx_setParameter(B->zc, ZSTD_c_nbWorkers, cfg->threads);
		if (ZSTD_isError(r))
			mig_warn("--threads %d: this libzstd cannot compress in threads (%s): "
				 "compressing in one", cfg->threads, ZSTD_getErrorName(r));
	}
	return 0;
}

int mig_backup_run(const struct mig_backup_cfg *cfg, struct mig_backup_stats *stats,
		   struct mig_error *err)
{
	struct backup B = { .cfg = cfg, .stats = stats, .spool = -1 };
	struct mig_locator *src = NULL, *rootloc = NULL;
	json_t *names = NULL, *manifest = NULL, *v;
	char *spool_dir = NULL;
	size_t i;
	int rc;

	memset(stats, 0, sizeof *stats);
	mig_buf_init(&B.text, 0);
	rc = mig_locator_parse(&src, cfg->source, err);
	if (rc)
		return rc;
	rc = mig_archive_locator(&B.base, src, NULL, err);
	if (!rc)
		rc = mig_archive_locator(&rootloc, src, NULL, err);
	if (!rc)
		rc = mig_store_open(&B.root, rootloc, MIG_OPEN_READ, err);
	rootloc = NULL;       /* the store has it, or it is freed */
	if (rc)
		goto out;
	rc = select_names(&B, src->collection, &names, err);
	if (rc)
		goto out;
	if (!json_array_size(names)) {
		rc = mig_error_set(err, MIG_EUSAGE, "%s: no collection to back up", B.base->redacted);
		goto out;
	}
	/* one view of the whole store, shared by every collection's read */
	if (B.root->ops->snapshot_begin) {
		rc = B.root->ops->snapshot_begin(B.root, &B.token, err);
		if (rc)
			goto out;
	}
	stats->consistent = B.token != NULL;
	if (!B.token && json_array_size(names) > 1)
		mig_warn("%s: the %s backend %s: the collections are read one after another, and "
			 "the archive is marked \"consistent\": false", B.base->redacted,
			 B.base->scheme, B.root->ops->snapshot_begin ? "cannot share its snapshot"
			 : "cannot take a snapshot");
	if (cfg->output && strcmp(cfg->output, "-") && !(spool_dir = mig_io_dirname(cfg->output))) {
		rc = oom(err);
		goto out;
	}
	rc = mig_io_tmpfile(&B.spool, spool_dir, err);
	if (!rc)
		rc = zstd_setup(&B, err);
	json_array_foreach(names, i, v) {
		if (rc)
			break;
		rc = backup_one(&B, json_string_value(v), err);
	}
	if (rc)
		goto out;
	manifest = manifest_of(&B);
	if (!manifest) {
		rc = oom(err);
		goto out;
	}
	rc = write_output(&B, manifest, err);
	if (!rc) {
		stats->manifest = manifest;
		manifest = NULL;
	}
out:
	json_decref(manifest);
	json_decref(names);
	for (i = 0; i < B.n; i++) {
		free(B.colls[i].name);
		free(B.colls[i].data_member);
		free(B.colls[i].schema_member);
		json_decref(B.colls[i].depends_on);
	}
	free(B.colls);
	ZSTD_freeCCtx(B.zc);
	free(B.zout);
	mig_buf_free(&B.text);
	if (B.spool >= 0)
		close(B.spool);
	free(spool_dir);
	free(B.token);
	mig_store_close(B.root);
	mig_locator_free(B.base);
	mig_locator_free(src);
	return rc;
}
