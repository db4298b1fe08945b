/*
 * run.c - the stream side of mig-validate: lines in, valid lines out
 * unchanged, invalid records to the reject file with their errors.
 *
 * Valid records are written as the bytes they were read as (not printed
 * again from the parsed value), so that validation is a pure filter: what
 * passes is byte for byte what came in.
 */
#include <stdlib.h>
#include <string.h>

#include "mig/backend.h"
#include "mig/locator.h"
#include "mig/log.h"
#include "mig/reject.h"
#include "mig/stream.h"
#include "mig/validate.h"
#include "schema.h"

/* Distinct error kinds kept for the summary; the rest count as "other". */
#define MAX_KINDS 2000

struct unique {
	char *buf;              /* the --unique argument, split in place */
	const char **paths;
	size_t n;
	struct keyset *set;
	char *label;            /* "id" or "a,b" for messages */
};

struct refset {
	const struct mig_validate_ref *ref;
	struct keyset *set;
	char *pointer;          /* the path as a JSON pointer */
};

struct run {
	const struct mig_validate_cfg *cfg;
	struct mig_validate_stats *stats;
	struct unique *uniq;
	struct refset *refs;
	struct mig_rejects *rj;
	struct mig_writer *w;
	const char *name;
	struct mig_buf key, msg;
	size_t logged;
};

/* ---- --ref: the set of a store's FIELD values ---- */

static int ref_load(struct refset *r, uint64_t *count, struct mig_error *err)
{
	struct mig_locator *loc = NULL;
	struct mig_store *st = NULL;
	struct mig_read_opts ro = { .limit = -1 };
	struct mig_buf b;
	json_t *rec;
	int rc;

	mig_buf_init(&b, 0);
	if (mig_v_keyset_new(&r->set))
		return mig_error_set(err, MIG_ENOMEM, "out of memory");
	rc = mig_locator_parse(&loc, r->ref->locator, err);
	if (rc)
		goto out;
	rc = mig_store_open(&st, loc, MIG_OPEN_READ, err);
	if (rc)
		goto out;
	rc = st->ops->read_begin(st, &ro, err);
	while (!rc) {
		if (mig_interrupted) {
			rc = mig_error_set(err, MIG_EINTR, "interrupted");
			break;
		}
		rc = st->ops->read_next(st, &rec, err);
		if (rc == MIG_DONE) {
			rc = 0;
			break;
		}
		if (rc)
			break;
		const json_t *v = mig_v_path_get(rec, r->ref->field);
		if (v && !json_is_null(v)) {
			mig_buf_reset(&b);
			if (mig_v_key_text(&b, v) || mig_v_keyset_add(r->set, b.data, b.len, 0, NULL) < 0)
				rc = mig_error_set(err, MIG_ENOMEM, "out of memory");
			else
				(*count)++;
		}
		json_decref(rec);
	}
	if (rc)
		mig_error_prefix(err, "--ref %s", r->ref->path);
out:
	mig_store_close(st);
	mig_buf_free(&b);
	return rc;
}

/* ---- error kinds ---- */

/* The path with array indices (all-digit segments) as "*". */
static void generic_path(struct mig_buf *b, const char *p)
{
	while (*p) {
		const char *e = strchr(p + 1, '/');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		size_t d = 1;
		while (d < n && p[d] >= '0' && p[d] <= '9')
			d++;
		if (n > 1 && d == n)
			mig_buf_puts(b, "/*");
		else
			mig_buf_append(b, p, n);
		p += n;
	}
}

static void count_kinds(struct run *R, const json_t *errors)
{
	json_t *kinds = R->stats->kinds, *e, *c;
	size_t i;
	struct mig_buf k;

	if (!kinds)
		return;
	mig_buf_init(&k, 0);
	json_array_foreach(errors, i, e) {
		mig_buf_reset(&k);
		mig_buf_puts(&k, json_string_value(json_object_get(e, "keyword")));
		mig_buf_putc(&k, '\t');
		generic_path(&k, json_string_value(json_object_get(e, "path")));
		if (!k.data)
			break;
		c = json_object_get(kinds, k.data);
		if (!c && json_object_size(kinds) >= MAX_KINDS) {
			mig_buf_reset(&k);
			mig_buf_puts(&k, "other\t");
			c = json_object_get(kinds, k.data);
		}
		if (c)
			json_integer_set(c, json_integer_value(c) + 1);
		else
			json_object_set_new(kinds, k.data, json_integer(1));
	}
	mig_buf_free(&k);
}

json_t *mig_validate_top_kinds(const struct mig_validate_stats *stats, size_t n)
{
	json_t *out = json_array(), *v;
	const char *k;
	size_t cnt = stats->kinds ? json_object_size(stats->kinds) : 0, i = 0;
	struct kind { const char *k; json_int_t n; } *all = calloc(cnt + 1, sizeof *all);

	if (!out || !all) {
		free(all);
		return out;
	}
	if (stats->kinds)
		json_object_foreach(stats->kinds, k, v)
			all[i++] = (struct kind){ k, json_integer_value(v) };
	/* selection of the n largest; n is small */
	for (size_t r = 0; r < n && r < cnt; r++) {
		size_t best = r;
		for (size_t j = r + 1; j < cnt; j++)
			if (all[j].n > all[best].n ||
			    (all[j].n == all[best].n && strcmp(all[j].k, all[best].k) < 0))
				best = j;
		struct kind t = all[r];
		all[r] = all[best];
		all[best] = t;
		const char *tab = strchr(all[r].k, '\t');
		json_array_append_new(out, json_pack("{s:s%, s:s, s:I}", "keyword", all[r].k,
						     (size_t)(tab ? tab - all[r].k : 0),
						     "path", tab ? tab + 1 : "", "count", all[r].n));
	}
	free(all);
	return out;
}

void mig_validate_stats_free(struct mig_validate_stats *stats)
{
	json_decref(stats->kinds);
	stats->kinds = NULL;
}

/* ---- one record ---- */

/* An error object appended to errors (created when NULL). */
static int add_error(json_t **errors, const char *path, const char *kw, const char *msg)
{
	if (!*errors && !(*errors = json_array()))
		return MIG_ENOMEM;
	if (json_array_append_new(*errors, json_pack("{s:s, s:s, s:s}", "path", path,
						     "keyword", kw, "message", msg)))
		return MIG_ENOMEM;
	return 0;
}

/* The --ref and --unique checks of a record that passed the schema. */
static int key_checks(struct run *R, const json_t *rec, uint64_t line, json_t **errors,
		      struct mig_error *err)
{
	const struct mig_validate_cfg *cfg = R->cfg;

	for (size_t i = 0; i < cfg->nrefs; i++) {
		struct refset *r = &R->refs[i];
		const json_t *v = mig_v_path_get(rec, r->ref->path);
		if (!v || json_is_null(v))
			continue;   /* a missing reference is not an orphan, nor found */
		mig_buf_reset(&R->key);
		if (mig_v_key_text(&R->key, v))
			return mig_error_set(err, MIG_ENOMEM, "out of memory");
		if (!!mig_v_keyset_has(r->set, R->key.data, R->key.len) == !r->ref->absent)
			continue;
		mig_buf_reset(&R->msg);
		if (mig_buf_printf(&R->msg, "%.200s %s in %s#%s", R->key.data,
				   r->ref->absent ? "found" : "not found", r->ref->locator,
				   r->ref->field) ||
		    add_error(errors, r->pointer, r->ref->absent ? "absent" : "ref", R->msg.data))
			return mig_error_set(err, MIG_ENOMEM, "out of memory");
	}
	if (*errors)
		return 0;   /* an invalid record does not claim its key */
	/* two passes: a record claims its keys only when none is taken, so that
	 * a duplicate by one key does not keep the others */
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < cfg->nunique; i++) {
			struct unique *u = &R->uniq[i];
			int missing = 0;
			uint64_t first = 0;
			mig_buf_reset(&R->key);
			for (size_t j = 0; j < u->n && !missing; j++) {
				const json_t *v = mig_v_path_get(rec, u->paths[j]);
				if (!v || json_is_null(v))
					missing = 1;
				else if ((j && mig_buf_putc(&R->key, '\x1f')) ||
					 mig_v_key_text(&R->key, v))
					return mig_error_set(err, MIG_ENOMEM, "out of memory");
			}
			if (missing)
				continue;   /* like SQL: a key with a null part is not compared */
			const char *k = R->key.data ? R->key.data : "";
			if (pass == 1) {
				if (mig_v_keyset_add(u->set, k, R->key.len, line, NULL) < 0)
					return mig_error_set(err, MIG_ENOMEM, "out of memory");
				continue;
			}
			if (!mig_v_keyset_get(u->set, k, R->key.len, &first))
				continue;
			struct mig_buf ptr;
			mig_buf_init(&ptr, 0);
			mig_buf_reset(&R->msg);
			if (mig_v_path_pointer(&ptr, u->paths[0]) ||
			    mig_buf_printf(&R->msg, "duplicate %s %.200s (first at line %llu)", u->label,
					   k, (unsigned long long)first) ||
			    add_error(errors, ptr.data, "unique", R->msg.data)) {
				mig_buf_free(&ptr);
				return mig_error_set(err, MIG_ENOMEM, "out of memory");
			}
			mig_buf_free(&ptr);
		}
		if (*errors)
			break;
	}
	return 0;
}

static int invalid(struct run *R, const json_t *rec, const struct mig_line *line,
		   json_t *errors, struct mig_error *err)
{
	const json_t *e = json_array_get(errors, 0);
	const char *p = json_string_value(json_object_get(e, "path"));
	int rc;

	R->stats->invalid++;
	count_kinds(R, errors);
	mig_buf_reset(&R->msg);
	mig_buf_printf(&R->msg, "%s:%llu: %s%s%s", R->name, (unsigned long long)line->lineno,
		       p && *p ? p : "", p && *p ? ": " : "",
		       json_string_value(json_object_get(e, "message")));
	if (json_array_size(errors) > 1)
		mig_buf_printf(&R->msg, " (and %zu more)", json_array_size(errors) - 1);
	if (!R->msg.data)
		return mig_error_set(err, MIG_ENOMEM, "out of memory");
	rc = mig_rejects_add(R->rj, rec, line->data, line->len, line->lineno, R->msg.data, NULL,
			     errors, err);
	if (rc)
		return rc;
	if (!R->cfg->reject_path && R->logged < R->cfg->log_invalid) {
		mig_warn("invalid: %s", R->msg.data);
		if (++R->logged == R->cfg->log_invalid)
			mig_warn("(further invalid records are counted, not shown: use --reject FILE)");
	}
	return 0;
}

static int one(struct run *R, const struct mig_line *line, struct mig_error *err)
{
	const struct mig_validate_cfg *cfg = R->cfg;
	struct mig_error lerr;
	json_t *rec = NULL, *errors = NULL;
	int rc;

	rc = cfg->values ? mig_value_parse(&rec, line, R->name, &lerr)
			 : mig_record_parse(&rec, line, R->name, &lerr);
	if (!rc && (rc = mig_value_check(rec, &lerr)) != 0) {
		rc = add_error(&errors, "", "extjson", lerr.msg);
		rc = rc ? rc : MIG_EDATA;
	} else if (rc) {
		/* the reader's message already names the line */
		const char *m = lerr.msg, *c = strstr(m, ": ");
		if (c && (c = strstr(c + 2, ": ")) && strncmp(m, R->name, strlen(R->name)) == 0)
			m = c + 2;
		rc = add_error(&errors, "", "json", m);
		rc = rc ? rc : MIG_EDATA;
	}
	if (rc == MIG_ENOMEM) {
		rc = mig_error_set(err, MIG_ENOMEM, "out of memory");
		goto out;
	}
	if (!rc && cfg->schema) {
		rc = mig_schema_validate(cfg->schema, rec, &errors, err);
		if (rc < 0)
			goto out;
		rc = rc == 1 ? 0 : MIG_EDATA;
	}
	if (!rc && (cfg->nrefs || cfg->nunique)) {
		rc = key_checks(R, rec, line->lineno, &errors, err);
		if (rc)
			goto out;
		rc = errors ? MIG_EDATA : 0;
	}
	if (!rc) {
		R->stats->valid++;
		rc = mig_writer_put_raw(R->w, line->data, line->len, err);
		if (!rc)
			rc = mig_writer_put_raw(R->w, "\n", 1, err);
		goto out;
	}
	rc = invalid(R, rec, line, errors, err);
out:
	json_decref(errors);
	json_decref(rec);
	return rc;
}

/* ---- the run ---- */

static int setup_unique(struct unique *u, const char *arg, struct mig_error *err)
{
	size_t n = 1;
	char *save = NULL, *tok;

	for (const char *p = arg; *p; p++)
		n += *p == ',';
	u->buf = strdup(arg);
	u->label = strdup(arg);
	u->paths = calloc(n + 1, sizeof *u->paths);
	if (!u->buf || !u->label || !u->paths || mig_v_keyset_new(&u->set))
		return mig_error_set(err, MIG_ENOMEM, "out of memory");
	for (tok = strtok_r(u->buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
		u->paths[u->n++] = tok;
	if (!u->n)
		return mig_error_set(err, MIG_EUSAGE, "--unique '%s' names no field", arg);
	return 0;
}

int mig_validate_run(const struct mig_validate_cfg *cfg, struct mig_validate_stats *stats,
		     struct mig_error *err)
{
	struct run R = { .cfg = cfg, .stats = stats };
	struct mig_reader *rd = NULL;
	struct mig_progress *pg = NULL;
	struct mig_error lerr;
	struct mig_line line;
	int rc = 0;

	memset(stats, 0, sizeof *stats);
	mig_buf_init(&R.key, 0);
	mig_buf_init(&R.msg, 0);
	stats->kinds = json_object();
	R.uniq = calloc(cfg->nunique + 1, sizeof *R.uniq);
	R.refs = calloc(cfg->nrefs + 1, sizeof *R.refs);
	if (!stats->kinds || !R.uniq || !R.refs) {
		rc = mig_error_set(err, MIG_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < cfg->nunique && !rc; i++)
		rc = setup_unique(&R.uniq[i], cfg->unique[i], err);
	for (size_t i = 0; i < cfg->nrefs && !rc; i++) {
		struct mig_buf p;
		R.refs[i].ref = &cfg->refs[i];
		mig_buf_init(&p, 0);
		if (mig_v_path_pointer(&p, cfg->refs[i].path) || !(R.refs[i].pointer = mig_buf_steal(&p))) {
			mig_buf_free(&p);
			rc = mig_error_set(err, MIG_ENOMEM, "out of memory");
			break;
		}
		rc = ref_load(&R.refs[i], &stats->ref_values, err);
		if (!rc)
			mig_debug("--ref %s: %zu distinct values from %s#%s", cfg->refs[i].path,
				  mig_v_keyset_size(R.refs[i].set), cfg->refs[i].locator, cfg->refs[i].field);
	}
	if (rc)
		goto out;
	rc = mig_reader_open(&rd, cfg->input, cfg->max_line, err);
	if (rc)
		goto out;
	R.name = mig_reader_name(rd);
	rc = mig_writer_open(&R.w, cfg->output, 0, MIG_JSON_RELAXED, err);
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
		if (rc == MIG_EDATA) {
			/* a line over --max-line: invalid, with what was kept of it */
			json_t *errors = NULL;
			stats->read++;
			rc = add_error(&errors, "", "maxLine", lerr.msg);
			if (!rc)
				rc = invalid(&R, NULL, &line, errors, err);
			else
				rc = mig_error_set(err, MIG_ENOMEM, "out of memory");
			json_decref(errors);
			if (rc)
				break;
			continue;
		}
		if (rc) {
			*err = lerr;
			break;
		}
		stats->read++;
		rc = one(&R, &line, err);
		if (rc)
			break;
		stats->bytes = mig_reader_offset(rd);
		mig_progress_update(pg, stats->read, stats->bytes);
	}
	stats->bytes = rd ? mig_reader_offset(rd) : 0;
	mig_progress_end(pg);
out:
	{
		int crc = mig_writer_close(R.w, 0, rc ? &lerr : err);
		if (!rc && crc)
			rc = crc;
		if (rc == MIG_EPIPE)
			stats->output_closed = 1;
		crc = mig_rejects_close(R.rj, rc ? &lerr : err);
		if (!rc)
			rc = crc;
	}
	mig_reader_close(rd);
	for (size_t i = 0; R.uniq && i < cfg->nunique; i++) {
		free(R.uniq[i].buf);
		free(R.uniq[i].label);
		free(R.uniq[i].paths);
		mig_v_keyset_free(R.uniq[i].set);
	}
	for (size_t i = 0; R.refs && i < cfg->nrefs; i++) {
		mig_v_keyset_free(R.refs[i].set);
		free(R.refs[i].pointer);
	}
	free(R.uniq);
	free(R.refs);
	mig_buf_free(&R.key);
	mig_buf_free(&R.msg);
	return rc;
}
