/*
 * restore.c - an archive into a store (mig-restore), or one collection of
 * it to a stream (--cat).
 *
 * The whole archive is checked before the first target is opened, so that
 * a damaged archive writes nothing at all: its structure, the manifest
 * against manifest.json.sha256, and each data member byte for byte
 * against the SHA-256 the manifest keeps of it as stored
 * (mig_archive_check).  The decompressed text is checked against
 * the manifest's size, record count and SHA-256 while it is loaded, in the
 * thread that decompresses it (mig_relax_start), and a mismatch there
 * stops the load before its last batch (under --atomic, before anything is
 * committed).  Decompressing and hashing everything first, as an archive
 * without the member checksums still needs, took 0.58 s of the 4.2 s
 * restore of tests/bench/backup, all of it before the first row went out.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "archive_int.h"
#include "mig/log.h"
#include "mig/stream.h"

struct pick {
	size_t idx;              /* in the archive */
	const char *target;      /* the collection to load into (borrowed) */
	int placed;
};

static int oom(struct mig_error *err)
{
	return mig_error_set(err, MIG_ENOMEM, "out of memory");
}

/* The collections to restore and the names they get. */
static int choose(struct mig_archive *a, const struct mig_restore_cfg *cfg,
		  const struct mig_locator *tl, struct pick **out, size_t *np,
		  struct mig_error *err)
{
	size_t n = 0, total = mig_archive_count(a);
	struct pick *p = calloc(total + 1, sizeof *p);
	int rc = 0;

	*out = NULL;
	*np = 0;
	if (!p)
		return oom(err);
	if (cfg->only) {
		for (size_t k = 0; cfg->only[k]; k++) {
			long i = mig_archive_find(a, cfg->only[k]);
			int dup = 0;
			if (i < 0) {
				rc = mig_error_set(err, MIG_EUSAGE, "%s: --only %s: no such collection "
						   "in the archive", mig_archive_path(a), cfg->only[k]);
				goto out;
			}
			for (size_t j = 0; j < n; j++)
				dup |= p[j].idx == (size_t)i;
			if (!dup)
				p[n++].idx = (size_t)i;
		}
	} else {
		for (size_t i = 0; i < total; i++)
			p[n++].idx = i;
	}
	for (size_t j = 0; j < n; j++)
		p[j].target = mig_archive_coll(a, p[j].idx)->name;
	for (size_t k = 0; cfg->renames && cfg->renames[k]; k++) {
		const char *r = cfg->renames[k], *eq = strchr(r, '=');
		size_t j;
		if (!eq || eq == r || !eq[1]) {
			rc = mig_error_set(err, MIG_EUSAGE, "--rename takes OLD=NEW, not '%s'", r);
			goto out;
		}
		for (j = 0; j < n; j++) {
			const char *name = mig_archive_coll(a, p[j].idx)->name;
			if (strlen(name) == (size_t)(eq - r) && memcmp(name, r, (size_t)(eq - r)) == 0)
				break;
		}
		if (j == n) {
			rc = mig_error_set(err, MIG_EUSAGE, "--rename %s: no collection %.*s is being "
					   "restored", r, (int)(eq - r), r);
			goto out;
		}
		p[j].target = eq + 1;
	}
	if (!n) {
		rc = mig_error_set(err, MIG_EUSAGE, "%s: the archive holds no collection",
				   mig_archive_path(a));
		goto out;
	}
	if (tl->collection || strcmp(tl->scheme, "file") == 0) {
		/* the locator names the one target */
		if (n != 1) {
			rc = mig_error_set(err, MIG_EUSAGE, "%s names one collection, and the archive "
					   "holds %zu: choose one with --only", tl->redacted, n);
			goto out;
		}
		if (cfg->renames && cfg->renames[0]) {
			rc = mig_error_set(err, MIG_EUSAGE, "%s names the target: --rename cannot go "
					   "with it", tl->redacted);
			goto out;
		}
		if (tl->collection)
			p[0].target = tl->collection;
	}
	for (size_t j = 0; j < n; j++)
		for (size_t k = 0; k < j; k++)
			if (strcmp(p[j].target, p[k].target) == 0) {
				rc = mig_error_set(err, MIG_EUSAGE, "two collections would be restored "
						   "into %s", p[j].target);
				goto out;
			}
	*out = p;
	*np = n;
	p = NULL;
out:
	free(p);
	return rc;
}

/* Puts the picks in an order where each comes after the collections its
 * native definition depends on (PostgreSQL's foreign keys), keeping the
 * archive's order otherwise; a cycle is broken at its first member. */
static int order(struct mig_archive *a, struct pick *p, size_t n, struct mig_error *err)
{
	struct pick *sorted = calloc(n + 1, sizeof *sorted);
	size_t done = 0;

	if (!sorted)
		return oom(err);
	while (done < n) {
		size_t pickj = n;
		for (size_t j = 0; j < n && pickj == n; j++) {
			const json_t *dep = mig_archive_coll(a, p[j].idx)->depends_on, *d;
			size_t i;
			int ready = 1;
			if (p[j].placed)
				continue;
			json_array_foreach(dep, i, d) {
				for (size_t k = 0; k < n; k++)
					if (k != j && !p[k].placed && json_is_string(d) &&
					    strcmp(json_string_value(d),
						   mig_archive_coll(a, p[k].idx)->name) == 0)
						ready = 0;
			}
			if (ready)
				pickj = j;
		}
		if (pickj == n) {
			for (pickj = 0; p[pickj].placed; pickj++)
				;
			mig_warn("%s: the collections' dependencies form a cycle; restoring %s first",
				 mig_archive_path(a), mig_archive_coll(a, p[pickj].idx)->name);
		}
		p[pickj].placed = 1;
		sorted[done++] = p[pickj];
	}
	memcpy(p, sorted, n * sizeof *p);
	free(sorted);
	return 0;
}

static void add_stats(struct mig_load_stats *t, const struct mig_load_stats *s)
{
	t->read += s->read;
	t->inserted += s->inserted;
	t->updated += s->updated;
	t->skipped += s->skipped;
	t->deleted += s->deleted;
	t->not_found += s->not_found;
	t->rejected += s->rejected;
	t->batches += s->batches;
	t->bytes += s->bytes;
}

struct ended {
	struct mig_relax *rx;
	const char *path;
};

/* The end of a collection's text: the thread that checked it says. */
static int input_end(void *arg, struct mig_error *err)
{
	const struct ended *e = arg;

	return mig_relax_wait(e->rx, e->path, err);
}

static int restore_one(struct mig_archive *a, const struct mig_restore_cfg *cfg,
		       const struct mig_locator *tl, const struct pick *p, int several,
		       struct mig_restore_stats *stats, struct mig_error *err)
{
	const struct mig_archive_coll *c = mig_archive_coll(a, p->idx);
	const char *backend = json_string_value(json_object_get(mig_archive_manifest(a), "backend"));
	struct mig_locator *loc = NULL;
	struct mig_store *st = NULL;
	struct mig_reader *rd = NULL;
	struct mig_relax *rx = NULL;
	char *name = NULL;
	int rfd = -1;
	struct mig_load_cfg lc = cfg->load;
	struct mig_load_stats ls = { 0 };
	json_t *schema = NULL, *rep;
	char *rejects = NULL;
	int rc;

	rc = mig_archive_schema(a, p->idx, &schema, err);
	if (rc)
		return rc;
	rc = mig_archive_locator(&loc, tl, p->target, err);
	if (!rc)
		rc = mig_store_open(&st, loc, MIG_OPEN_WRITE |
				    (lc.wo.dry_run ? MIG_OPEN_DRYRUN : 0), err);
	if (rc)
		goto out;
	/* decompressed and checked in a thread of its own, the text as the
	 * store takes it: see archive_input in mig/backend.h */
	if (asprintf(&name, "%s:%s", mig_archive_path(a), c->data) < 0) {
		name = NULL;
		rc = oom(err);
		goto out;
	}
	rc = mig_relax_start(&rx, &rfd, mig_archive_fd(a), c,
			     st->ops->archive_input == MIG_INPUT_RELAXED, lc.max_line, err);
	if (!rc)
		rc = mig_reader_open_fd(&rd, rfd, name, 0, lc.max_line, err);
	if (rc)
		goto out;
	if (several && lc.reject_path) {
		char *enc = mig_archive_encode(p->target);
		size_t len = strlen(lc.reject_path) + (enc ? strlen(enc) : 0) + 2;
		rejects = enc ? malloc(len) : NULL;
		if (rejects)
			snprintf(rejects, len, "%s.%s", lc.reject_path, enc);
		free(enc);
		if (!rejects) {
			rc = oom(err);
			goto out;
		}
		lc.reject_path = rejects;
	}
	lc.input = NULL;
	lc.reader = rd;
	lc.checkpoint = NULL;
	lc.input_end = input_end;
	lc.input_arg = &(struct ended){ rx, mig_archive_path(a) };
	lc.target = st->loc->redacted;
	lc.wo.create = 1;
	lc.wo.schema_path = NULL;
	/* the same kind of store takes the native definition back (and the
	 * JSON Schema, for a backend that cannot); another kind is created
	 * from the JSON Schema */
	lc.wo.schema = schema;
	lc.wo.native = backend && strcmp(backend, tl->scheme) == 0
		       ? json_object_get(schema, "x-mig-native") : NULL;
	mig_debug("%s: restoring %s (%llu records)%s", st->loc->redacted, c->name,
		  (unsigned long long)c->records,
		  lc.wo.native ? " from its native definition" : "");
	stats->collections++;
	rc = mig_load_run(st, &lc, &ls, err);
	if (rc && rc != MIG_EPIPE)
		mig_error_prefix(err, "collection %s", c->name);
	add_stats(&stats->total, &ls);
	rep = json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:s?}", "name", c->name,
			"target", st->loc->redacted, "read", (json_int_t)ls.read,
			"inserted", (json_int_t)ls.inserted, "updated", (json_int_t)ls.updated,
			"skipped", (json_int_t)ls.skipped, "rejected", (json_int_t)ls.rejected,
			"reject_file", ls.rejected ? lc.reject_path : NULL);
	if (!rep || json_array_append_new(stats->loaded, rep))
		rc = rc ? rc : oom(err);
out:
	mig_reader_close(rd);
	free(name);
	{
		struct mig_error rerr;
		int frc = mig_relax_finish(rx, rfd, mig_archive_path(a), &rerr);
		if (frc && !rc) {
			*err = rerr;
			rc = frc;
		}
	}
	mig_store_close(st);
	json_decref(schema);
	free(rejects);
	return rc;
}

/* --drop where the store's collections can depend on each other: all the
 * targets are dropped as one set, children first, before any is created
 * again, so that no parent is dropped while a child still refers to it
 * (the per-collection drop of write_begin would try exactly that).  A dry
 * run only checks that nothing outside the set refers to them.  Sets
 * *done when the backend dropped them (write_begin then must not). */
static int drop_all(const struct mig_restore_cfg *cfg, const struct mig_locator *tl,
		    const struct pick *p, size_t n, int *done, struct mig_error *err)
{
	struct mig_locator *loc = NULL;
	struct mig_store *st = NULL;
	const char **names = NULL;
	int rc;

	*done = 0;
	rc = mig_archive_locator(&loc, tl, NULL, err);
	if (!rc)
		rc = mig_store_open(&st, loc, MIG_OPEN_WRITE |
				    (cfg->load.wo.dry_run ? MIG_OPEN_DRYRUN : 0), err);
	if (rc || !st->ops->drop)
		goto out;
	names = calloc(n + 1, sizeof *names);
	if (!names) {
		rc = oom(err);
		goto out;
	}
	for (size_t j = 0; j < n; j++)
		names[j] = p[n - 1 - j].target;   /* p is parents first */
	rc = st->ops->drop(st, names, n, cfg->load.wo.dry_run, err);
	if (!rc)
		*done = !cfg->load.wo.dry_run;
	if (!rc && *done)
		mig_debug("%s: dropped the %zu target collection%s", st->loc->redacted, n,
			  n == 1 ? "" : "s");
out:
	free(names);
	mig_store_close(st);
	return rc;
}

int mig_restore_run(const struct mig_restore_cfg *cfg, struct mig_restore_stats *stats,
		    struct mig_error *err)
{
	struct mig_restore_cfg c2;
	int dropped = 0;

	struct mig_archive *a = NULL;
	struct mig_locator *tl = NULL;
	struct pick *p = NULL;
	size_t n = 0;
	int rc;

	memset(stats, 0, sizeof *stats);
	stats->loaded = json_array();
	if (!stats->loaded)
		return oom(err);
	rc = mig_locator_parse(&tl, cfg->target, err);
	if (!rc)
		rc = mig_archive_open(&a, cfg->archive, err);
	if (!rc)
		rc = choose(a, cfg, tl, &p, &n, err);
	/* all of it, before anything is written */
	if (!rc)
		rc = mig_archive_check(a, -1, cfg->load.progress, err);
	if (!rc)
		rc = order(a, p, n, err);
	if (!rc && cfg->load.wo.drop && strcmp(tl->scheme, "file"))
		rc = drop_all(cfg, tl, p, n, &dropped, err);
	c2 = *cfg;
	if (dropped)
		c2.load.wo.drop = 0;   /* gone already: created anew below */
	for (size_t j = 0; !rc && j < n; j++) {
		if (mig_interrupted) {
			rc = mig_error_set(err, MIG_EINTR, "interrupted");
			break;
		}
		rc = restore_one(a, &c2, tl, &p[j], n > 1, stats, err);
	}
	free(p);
	mig_archive_close(a);
	mig_locator_free(tl);
	return rc;
}

int mig_restore_cat(const char *archive, const char *name, const char *out,
		    enum mig_json_mode mode, uint64_t *records, struct mig_error *err)
{
	struct mig_archive *a = NULL;
	struct mig_reader *rd = NULL;
	struct mig_writer *w = NULL;
	struct mig_relax *rx = NULL;
	struct mig_line line;
	char *what = NULL;
	long i = -1;
	int rc, rfd = -1;

	*records = 0;
	rc = mig_archive_open(&a, archive, err);
	if (!rc && (i = mig_archive_find(a, name)) < 0)
		rc = mig_error_set(err, MIG_EUSAGE, "%s: no collection %s in the archive",
				   mig_archive_path(a), name);
	/* as a restore reads it: checked as stored first, the text as it goes */
	if (!rc)
		rc = mig_archive_check(a, i, MIG_PROGRESS_NEVER, err);
	if (!rc && asprintf(&what, "%s:%s", mig_archive_path(a),
			    mig_archive_coll(a, (size_t)i)->data) < 0) {
		what = NULL;
		rc = oom(err);
	}
	if (!rc)
		rc = mig_relax_start(&rx, &rfd, mig_archive_fd(a), mig_archive_coll(a, (size_t)i), 0,
				     0, err);
	if (!rc)
		rc = mig_reader_open_fd(&rd, rfd, what, 0, 0, err);
	if (!rc)
		rc = mig_writer_open(&w, out, 0, mode, err);
	while (!rc) {
		if (mig_interrupted) {
			rc = mig_error_set(err, MIG_EINTR, "interrupted");
			break;
		}
		rc = mig_reader_next(rd, &line, err);
		if (rc == MIG_DONE) {
			rc = mig_relax_wait(rx, mig_archive_path(a), err);
			break;
		}
		if (rc)
			break;
		if (mode == MIG_JSON_CANONICAL) {
			/* the archive's own form: the lines as they are */
			rc = mig_writer_put_raw(w, line.data, line.len, err);
			if (!rc)
				rc = mig_writer_put_raw(w, "\n", 1, err);
		} else {
			json_t *rec;
			rc = mig_record_parse(&rec, &line, mig_reader_name(rd), err);
			if (rc) {
				/* checked as stored: a line that does not parse is damage */
				err->code = rc = MIG_ECORRUPT;
				break;
			}
			rc = mig_writer_put(w, rec, err);
			json_decref(rec);
		}
		if (!rc)
			(*records)++;
	}
	if (w) {
		struct mig_error ignored;
		int crc = mig_writer_close(w, 0, rc ? &ignored : err);
		if (!rc)
			rc = crc;
	}
	mig_reader_close(rd);
	{
		struct mig_error rerr;
		int frc = mig_relax_finish(rx, rfd, a ? mig_archive_path(a) : archive, &rerr);
		if (frc && !rc) {
			*err = rerr;
			rc = frc;
		}
	}
	free(what);
	mig_archive_close(a);
	return rc;
}
