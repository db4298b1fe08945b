/*
 * stage.c - pushing records through the stages: statement blocks,
 * explode, dedupe, group; the keyed tables of dedupe and group with their
 * spill files; the lookup tables.
 *
 * Dedupe and group keep one state per distinct key in a Jansson object
 * (key text -> state array), in the order the keys were first seen.  Past
 * --memory the table is written out to NPART temporary files by a hash of
 * the key, and from then on every record's contribution goes to its file;
 * at the end each file is read back and merged on its own (1/NPART of the
 * keys in memory at a time), its results written back to it, and the
 * files are merged by the sequence number of each key's first record, so
 * that the output order is the same as without spilling.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mig/backend.h"
#include "mig/stream.h"
#include "mig/value.h"
#include "map/map_int.h"

#define NPART 16

struct table {
	json_t *states;            /* key text -> state */
	uint64_t bytes;            /* estimated memory */
	int spilled;
	int fd[NPART];
	struct mig_writer *w[NPART];
};

static int push_at(struct mig_map *m, size_t i, json_t *rec, uint64_t line,
		   const struct mig_map_sink *sink, struct mig_error *err);

/* A runtime error for rec (taken) at a stage: counted, then rejected,
 * nulled or fatal by the policy. */
static int runtime_error(struct mig_map *m, json_t *rec, uint64_t line,
			 const struct mig_map_sink *sink, struct mig_error *err)
{
	char why[MIG_ERROR_MAX];
	int rc = MIG_EDATA;

	if (err->code != MIG_EDATA) {
		json_decref(rec);
		return err->code;
	}
	m->counts.errors++;
	if (m->o.on_error != MIG_MAP_FAIL) {
		snprintf(why, sizeof why, "%s", err->msg);
		rc = sink->reject(sink->ctx, rec, line, why, m->in_push, err);
	}
	json_decref(rec);
	return rc;
}

/* ---- blocks ---- */

static int run_block(struct mig_map *m, size_t i, json_t *rec, uint64_t line,
		     const struct mig_map_sink *sink, struct mig_error *err)
{
	struct stage *s = &m->stages[i];
	struct ctx x = { .m = m, .rec = rec, .err = err };
	json_t *small[16], **vals = small, *out = NULL, *v;
	char why[512];
	size_t k = 0;
	int rc = 0;

	for (size_t w = 0; w < s->nwheres; w++) {
		if ((rc = map_eval(&x, s->wheres[w], &v)))
			return runtime_error(m, rec, line, sink, err);
		int keep = map_truthy(v);
		json_decref(v);
		if (!keep) {
			m->counts.filtered++;
			json_decref(rec);
			return 0;
		}
	}
	if (s->keep_rest) {
		if (s->nas > 16 && !(vals = malloc(s->nas * sizeof *vals))) {
			json_decref(rec);
			return mig_error_set(err, MIG_ENOMEM, "out of memory");
		}
		/* all values first: every expression reads the record as it came */
		for (k = 0; k < s->nas; k++)
			if ((rc = map_eval(&x, s->as[k].e, &vals[k])))
				break;
		if (rc) {
			while (k > 0)
				json_decref(vals[--k]);
			if (vals != small)
				free(vals);
			return runtime_error(m, rec, line, sink, err);
		}
		out = rec;
		if (rec->refcount > 1) {
			out = json_copy(rec);
			json_decref(rec);
		}
		for (k = 0; k < s->nas; k++) {
			if (!rc && map_path_set(out, s->as[k].to.segs, s->as[k].to.n, vals[k], why,
						sizeof why)) {
				rc = map_fail(&x, &(struct node){ .line = s->as[k].to.line,
								  .col = s->as[k].to.col }, "%s", why);
			} else if (rc) {
				json_decref(vals[k]);
			}
		}
		if (vals != small)
			free(vals);
		if (rc)
			return runtime_error(m, out, line, sink, err);
	} else {
		out = json_object();
		if (!out) {
			json_decref(rec);
			return mig_error_set(err, MIG_ENOMEM, "out of memory");
		}
		for (k = 0; k < s->nas; k++) {
			if ((rc = map_eval(&x, s->as[k].e, &v)))
				break;
			if (map_path_set(out, s->as[k].to.segs, s->as[k].to.n, v, why, sizeof why)) {
				rc = map_fail(&x, &(struct node){ .line = s->as[k].to.line,
								  .col = s->as[k].to.col }, "%s", why);
				break;
			}
		}
		if (rc) {
			json_decref(out);
			return runtime_error(m, rec, line, sink, err);
		}
		json_decref(rec);
	}
	for (k = 0; k < s->ndrops; k++)
		map_path_del(out, s->drops[k].segs, s->drops[k].n);
	return push_at(m, i + 1, out, line, sink, err);
}

/* ---- explode ---- */

static int run_explode(struct mig_map *m, size_t i, json_t *rec, uint64_t line,
		       const struct mig_map_sink *sink, struct mig_error *err)
{
	struct stage *s = &m->stages[i];
	struct ctx x = { .m = m, .rec = rec, .err = err };
	struct node at = { .line = s->line, .col = s->col };
	const json_t *arr = map_path_get(rec, s->path.segs, s->path.n);
	char name[256], why[512];
	size_t k;
	json_t *e;
	int rc = 0;

	map_path_name(name, sizeof name, s->path.segs, s->path.n);
	if (!arr && m->o.strict) {
		map_fail(&x, &at, "explode: missing field %s", name);
		return runtime_error(m, rec, line, sink, err);
	}
	if (!arr || json_is_null(arr)) {
		json_decref(rec);
		return 0;
	}
	if (!json_is_array(arr)) {
		map_fail(&x, &at, "explode: %s is %s, not an array", name,
			 mig_vtype_name(mig_value_type(arr)));
		if (m->o.on_error == MIG_MAP_NULL) {
			m->counts.errors++;
			m->counts.nulled++;
			json_decref(rec);
			return 0;
		}
		return runtime_error(m, rec, line, sink, err);
	}
	json_incref((json_t *)arr);
	json_array_foreach(arr, k, e) {
		json_t *c = json_copy(rec);
		if (!c) {
			rc = mig_error_set(err, MIG_ENOMEM, "out of memory");
			break;
		}
		if (s->as_path.n) {
			map_path_del(c, s->path.segs, s->path.n);
			rc = map_path_set(c, s->as_path.segs, s->as_path.n, json_incref(e), why,
					  sizeof why);
		} else {
			rc = map_path_set(c, s->path.segs, s->path.n, json_incref(e), why, sizeof why);
		}
		/* after the element, so that an index inside it lands there */
		if (!rc && s->index_path.n) {
			json_t *ix = json_integer((json_int_t)k);
			rc = ix ? map_path_set(c, s->index_path.segs, s->index_path.n, ix, why,
					       sizeof why)
				: (snprintf(why, sizeof why, "out of memory"), -1);
		}
		if (rc) {
			map_fail(&x, &at, "explode: %s", why);
			json_decref((json_t *)arr);
			json_decref(c);
			return runtime_error(m, rec, line, sink, err);
		}
		m->counts.exploded++;
		if ((rc = push_at(m, i + 1, c, line, sink, err)))
			break;
	}
	json_decref((json_t *)arr);
	json_decref(rec);
	return rc;
}

/* ---- keyed tables ---- */

static struct table *table_new(void)
{
	struct table *t = calloc(1, sizeof *t);
	if (!t)
		return NULL;
	t->states = json_object();
	for (int p = 0; p < NPART; p++)
		t->fd[p] = -1;
	if (!t->states) {
		free(t);
		return NULL;
	}
	return t;
}

static void table_free(struct table *t)
{
	if (!t)
		return;
	json_decref(t->states);
	for (int p = 0; p < NPART; p++) {
		mig_writer_close(t->w[p], 0, NULL);
		if (t->fd[p] >= 0)
			close(t->fd[p]);
	}
	free(t);
}

void map_stages_free(struct mig_map *m)
{
	for (size_t i = 0; i < m->nstages; i++) {
		table_free(m->stages[i].tab);
		m->stages[i].tab = NULL;
	}
}

static uint32_t fnv(const char *s, size_t n)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 16777619u;
	return h;
}

static int spill_open(struct table *t, struct mig_error *err)
{
	const char *dir = getenv("TMPDIR");
	char path[4096];

	for (int p = 0; p < NPART; p++) {
		snprintf(path, sizeof path, "%s/mig-map-spill.XXXXXX", dir && *dir ? dir : "/tmp");
		t->fd[p] = mkstemp(path);
		if (t->fd[p] < 0)
			return mig_error_set(err, MIG_EIO, "spill file in %s: %s",
					     dir && *dir ? dir : "/tmp", strerror(errno));
		unlink(path);   /* gone when we are, whatever happens */
		int rc = mig_writer_open_fd(&t->w[p], t->fd[p], "spill file", MIG_WRITER_NOZSTD,
					    MIG_JSON_RELAXED, err);
		if (rc)
			return rc;
	}
	t->spilled = 1;
	return 0;
}

/* Writes [key, state] to the key's file. */
static int spill_put(struct mig_map *m, struct table *t, const char *key, size_t klen,
		     json_t *state, struct mig_error *err)
{
	json_t *line = json_array();
	struct mig_writer *w = t->w[fnv(key, klen) % NPART];
	uint64_t before = mig_writer_bytes(w);
	int rc;

	if (!line)
		return mig_error_set(err, MIG_ENOMEM, "out of memory");
	json_array_append_new(line, json_stringn_nocheck(key, klen));
	json_array_append(line, state);
	rc = mig_writer_put(w, line, err);
	json_decref(line);
	m->counts.spilled += mig_writer_bytes(w) - before;
	return rc;
}

/* Past --memory: everything in memory goes to the files. */
static int spill_all(struct mig_map *m, struct table *t, struct mig_error *err)
{
	int rc = spill_open(t, err);

	if (rc)
		return rc;
	for (void *it = json_object_iter(t->states); it; it = json_object_iter_next(t->states, it)) {
		rc = spill_put(m, t, json_object_iter_key(it), json_object_iter_key_len(it),
			       json_object_iter_value(it), err);
		if (rc)
			return rc;
	}
	json_object_clear(t->states);
	t->bytes = 0;
	return 0;
}

static int key_of(struct ctx *x, struct stage *s, json_t **keyvals)
{
	struct mig_buf *b = &x->m->kbuf;
	json_t *v;
	int rc;

	mig_buf_reset(b);
	if (keyvals)
		*keyvals = json_array();
	for (size_t k = 0; k < s->nkeys; k++) {
		if ((rc = map_eval(x, s->keys[k], &v)))
			return rc;
		if (k)
			mig_buf_putc(b, '\x02');
		rc = map_key_text(b, v);
		if (keyvals)
			json_array_append_new(*keyvals, v);
		else
			json_decref(v);
		if (rc)
			return mig_error_set(x->err, MIG_ENOMEM, "out of memory");
	}
	if (!b->data)
		mig_buf_reserve(b, 1);
	return 0;
}

/* ---- dedupe ----
 * state: [first_seq, line, sortval, record|null, emitted] */

static void dedupe_merge(struct stage *s, json_t *st, json_t *in)
{
	json_t *sv = json_array_get(st, 2), *nv = json_array_get(in, 2);
	int c = 0;

	if (json_is_true(json_array_get(in, 4)))
		json_array_set(st, 4, json_true());
	if (!s->by)
		return;   /* the first one stays */
	if (!json_is_null(json_array_get(in, 3))) {
		c = mig_value_cmp(nv, sv);
		if (json_is_null(json_array_get(st, 3)) || (s->desc ? c > 0 : c < 0)) {
			json_array_set(st, 1, json_array_get(in, 1));
			json_array_set(st, 2, nv);
			json_array_set(st, 3, json_array_get(in, 3));
		}
	}
}

static int run_dedupe(struct mig_map *m, size_t i, json_t *rec, uint64_t line,
		      const struct mig_map_sink *sink, struct mig_error *err)
{
	struct stage *s = &m->stages[i];
	struct ctx x = { .m = m, .rec = rec, .err = err };
	json_t *sv = json_null(), *st, *in;
	struct mig_buf *b = &m->kbuf;
	int rc;

	if (!s->tab && !(s->tab = table_new())) {
		json_decref(rec);
		return mig_error_set(err, MIG_ENOMEM, "out of memory");
	}
	if ((rc = key_of(&x, s, NULL)) || (s->by && (rc = map_eval(&x, s->by, &sv))))
		return runtime_error(m, rec, line, sink, err);
	m->seq++;
	if (s->tab->spilled) {
		in = json_pack("[I, I, o, O, b]", (json_int_t)m->seq, (json_int_t)line, sv, rec, 0);
		rc = in ? spill_put(m, s->tab, b->data, b->len, in, err)
			: mig_error_set(err, MIG_ENOMEM, "out of memory");
		json_decref(in);
		json_decref(rec);
		return rc;
	}
	st = json_object_getn(s->tab->states, b->data, b->len);
	if (st) {
		m->counts.duplicates++;
		if (s->by) {
			in = json_pack("[I, I, o, O, b]", (json_int_t)m->seq, (json_int_t)line, sv, rec,
				       0);
			if (in) {
				json_t *old = json_array_get(st, 3);
				size_t before = map_approx_size(old);
				dedupe_merge(s, st, in);
				s->tab->bytes += map_approx_size(json_array_get(st, 3)) - before;
			}
			json_decref(in);
		}
		json_decref(rec);
		return 0;
	}
	/* a new key: without `by` the first record goes on now */
	st = json_pack("[I, I, o, O, b]", (json_int_t)m->seq, (json_int_t)line, sv,
		       s->by ? rec : json_null(), !s->by);
	if (!st || json_object_setn_new_nocheck(s->tab->states, b->data, b->len, st)) {
		json_decref(rec);
		return mig_error_set(err, MIG_ENOMEM, "out of memory");
	}
	s->tab->bytes += 160 + b->len + (s->by ? map_approx_size(rec) : 0);
	if (s->tab->bytes > m->o.memory && (rc = spill_all(m, s->tab, err))) {
		json_decref(rec);
		return rc;
	}
	if (s->by) {
		json_decref(rec);
		return 0;
	}
	return push_at(m, i + 1, rec, line, sink, err);
}

/* ---- group ----
 * state: [first_seq, line, keyvals, agg0, agg1, ...]
 * aggregate states: count n; sum v|null; avg [sum, n]; min, max, first,
 * last v|null; collect [v...] */

static json_t *agg_init(const struct agg *a, json_t *v)
{
	int null = json_is_null(v);
	switch (a->kind) {
	case A_COUNT:
		return json_integer(a->arg ? !null : 1);
	case A_AVG:
		return null ? json_pack("[n, i]", 0) : json_pack("[O, i]", v, 1);
	case A_COLLECT:
		return null ? json_array() : json_pack("[O]", v);
	default:
		return json_incref(v);
	}
}

/* Merges b (a later state of the same aggregate) into *a. */
static int agg_merge(struct ctx *x, const struct node *at, const struct agg *g, json_t **a,
		     json_t *b)
{
	json_t *r = NULL;
	int c, rc;

	switch (g->kind) {
	case A_COUNT:
		r = json_integer(json_integer_value(*a) + json_integer_value(b));
		break;
	case A_SUM:
		if (json_is_null(b))
			return 0;
		if (json_is_null(*a)) {
			r = json_incref(b);
			break;
		}
		if ((rc = map_arith(x, at, OP_ADD, *a, b, &r)))
			return rc;
		break;
	case A_AVG: {
		json_t *s = json_array_get(*a, 0), *t = json_array_get(b, 0), *sum;
		if (json_is_null(t))
			return 0;
		if (json_is_null(s))
			sum = json_incref(t);
		else if ((rc = map_arith(x, at, OP_ADD, s, t, &sum)))
			return rc;
		r = json_pack("[o, I]", sum, json_integer_value(json_array_get(*a, 1)) +
			      json_integer_value(json_array_get(b, 1)));
		break;
	}
	case A_MIN:
	case A_MAX:
		if (json_is_null(b))
			return 0;
		if (!json_is_null(*a)) {
			if (map_cmp(b, *a, &c))
				return map_fail(x, at, "%s: cannot compare %s with %s",
						g->kind == A_MIN ? "min" : "max",
						mig_vtype_name(mig_value_type(b)),
						mig_vtype_name(mig_value_type(*a)));
			if (g->kind == A_MIN ? c >= 0 : c <= 0)
				return 0;
		}
		r = json_incref(b);
		break;
	case A_FIRST:
		if (!json_is_null(*a) || json_is_null(b))
			return 0;
		r = json_incref(b);
		break;
	case A_LAST:
		if (json_is_null(b))
			return 0;
		r = json_incref(b);
		break;
	case A_COLLECT:
		if (!json_array_size(b))
			return 0;
		if ((*a)->refcount > 1) {
			r = json_copy(*a);
			json_array_extend(r, b);
		} else {
			json_array_extend(*a, b);
			return 0;
		}
		break;
	}
	if (!r)
		return mig_error_set(x->err, MIG_ENOMEM, "out of memory");
	json_decref(*a);
	*a = r;
	return 0;
}

/* The contribution of one record: [seq, line, keyvals, agg states...] */
static int group_contrib(struct ctx *x, struct stage *s, json_t *keyvals, uint64_t line,
			 json_t **out)
{
	json_t *st = json_pack("[I, I, O]", (json_int_t)x->m->seq, (json_int_t)line, keyvals), *v;
	int rc;

	if (!st)
		return mig_error_set(x->err, MIG_ENOMEM, "out of memory");
	for (size_t k = 0; k < s->naggs; k++) {
		v = json_null();
		if (s->aggs[k].arg && (rc = map_eval(x, s->aggs[k].arg, &v))) {
			json_decref(st);
			return rc;
		}
		if (s->aggs[k].kind == A_SUM || s->aggs[k].kind == A_AVG) {
			if (!json_is_null(v) && !map_is_number(v)) {
				rc = map_fail(x, s->aggs[k].arg, "%s: %s is not a number",
					      s->aggs[k].kind == A_SUM ? "sum" : "avg",
					      mig_vtype_name(mig_value_type(v)));
				json_decref(v);
				json_decref(st);
				return rc;
			}
		}
		json_array_append_new(st, agg_init(&s->aggs[k], v));
		json_decref(v);
	}
	*out = st;
	return 0;
}

static int group_merge(struct ctx *x, struct stage *s, json_t *st, json_t *in)
{
	for (size_t k = 0; k < s->naggs; k++) {
		json_t *a = json_incref(json_array_get(st, k + 3));
		const struct node *at = s->aggs[k].arg ? s->aggs[k].arg : s->keys[0];
		int rc = agg_merge(x, at, &s->aggs[k], &a, json_array_get(in, k + 3));
		json_array_set_new(st, k + 3, a);
		if (rc)
			return rc;
	}
	return 0;
}

static int run_group(struct mig_map *m, size_t i, json_t *rec, uint64_t line,
		     const struct mig_map_sink *sink, struct mig_error *err)
{
	struct stage *s = &m->stages[i];
	struct ctx x = { .m = m, .rec = rec, .err = err };
	struct mig_buf *b = &m->kbuf;
	json_t *keyvals = NULL, *in = NULL, *st;
	int rc;

	if (!s->tab && !(s->tab = table_new())) {
		json_decref(rec);
		return mig_error_set(err, MIG_ENOMEM, "out of memory");
	}
	m->seq++;
	if ((rc = key_of(&x, s, &keyvals)) || (rc = group_contrib(&x, s, keyvals, line, &in))) {
		json_decref(keyvals);
		return runtime_error(m, rec, line, sink, err);
	}
	json_decref(keyvals);
	if (s->tab->spilled) {
		rc = spill_put(m, s->tab, b->data, b->len, in, err);
		json_decref(in);
		json_decref(rec);
		return rc;
	}
	st = json_object_getn(s->tab->states, b->data, b->len);
	if (!st) {
		s->tab->bytes += 200 + b->len + map_approx_size(in);
		rc = json_object_setn_new_nocheck(s->tab->states, b->data, b->len, in)
		     ? mig_error_set(err, MIG_ENOMEM, "out of memory") : 0;
	} else {
		for (size_t k = 0; k < s->naggs; k++)
			if (s->aggs[k].kind == A_COLLECT)
				s->tab->bytes += map_approx_size(json_array_get(in, k + 3));
		rc = group_merge(&x, s, st, in);
		json_decref(in);
		if (rc)
			return runtime_error(m, rec, line, sink, err);
	}
	json_decref(rec);
	if (!rc && s->tab->bytes > m->o.memory)
		rc = spill_all(m, s->tab, err);
	return rc;
}

/* The output record of a group's state. */
static int group_output(struct mig_map *m, struct stage *s, json_t *st, json_t **out,
			struct mig_error *err)
{
	json_t *finals[64], **fv = finals, *o = json_object(), *v;
	struct ctx x = { .m = m, .err = err };
	char why[512];
	size_t k;
	int rc = 0;

	if (s->naggs > 64 && !(fv = calloc(s->naggs, sizeof *fv)))
		o = NULL;
	if (!o) {
		json_decref(o);
		return mig_error_set(err, MIG_ENOMEM, "out of memory");
	}
	for (k = 0; k < s->naggs; k++) {
		json_t *a = json_array_get(st, k + 3);
		if (s->aggs[k].kind == A_AVG) {
			json_t *sum = json_array_get(a, 0), *cnt = json_array_get(a, 1);
			if (json_is_null(sum) || json_integer_value(cnt) == 0)
				fv[k] = json_null();
			else if ((rc = map_arith(&x, s->aggs[k].arg, OP_DIV, sum, cnt, &fv[k])))
				break;
		} else {
			fv[k] = json_incref(a);
		}
	}
	if (rc) {
		while (k > 0)
			json_decref(fv[--k]);
		goto out;
	}
	for (k = 0; k < s->nkeys; k++)
		if (map_path_set(o, s->gout[k].segs, s->gout[k].n,
				 json_incref(json_array_get(json_array_get(st, 2), k)), why, sizeof why))
			break;
	x.rec = o;
	x.aggs = fv;
	for (k = 0; k < s->nitems && !rc; k++) {
		if ((rc = map_eval(&x, s->items[k].e, &v)))
			break;
		if (map_path_set(o, s->items[k].to.segs, s->items[k].to.n, v, why, sizeof why))
			rc = map_fail(&x, &(struct node){ .line = s->items[k].to.line,
							  .col = s->items[k].to.col }, "%s", why);
	}
	for (k = 0; k < s->naggs; k++)
		json_decref(fv[k]);
out:
	if (fv != finals)
		free(fv);
	if (rc) {
		json_decref(o);
		return rc;
	}
	*out = o;
	return 0;
}

/* ---- the end of a buffering stage ---- */

/* The record a state gives (NULL: none, a dedupe key already out). */
static int state_output(struct mig_map *m, struct stage *s, json_t *st, json_t **out,
			struct mig_error *err)
{
	*out = NULL;
	if (s->kind == S_DEDUPE) {
		if (json_is_true(json_array_get(st, 4)) || json_is_null(json_array_get(st, 3)))
			return 0;
		*out = json_incref(json_array_get(st, 3));
		return 0;
	}
	return group_output(m, s, st, out, err);
}

static int emit_state(struct mig_map *m, size_t i, json_t *st, const struct mig_map_sink *sink,
		      struct mig_error *err)
{
	struct stage *s = &m->stages[i];
	uint64_t line = (uint64_t)json_integer_value(json_array_get(st, 1));
	json_t *rec;
	int rc = state_output(m, s, st, &rec, err);

	if (rc)
		return runtime_error(m, json_incref(json_array_get(st, 2)), line, sink, err);
	if (!rec)
		return 0;
	if (s->kind == S_GROUP)
		m->counts.groups++;
	return push_at(m, i + 1, rec, line, sink, err);
}

/* Reads partition p back, merges it, writes its results [seq, line,
 * record] into the same file. */
static int spill_merge(struct mig_map *m, struct stage *s, int p, struct mig_error *err)
{
	struct table *t = s->tab;
	struct mig_reader *rd = NULL;
	struct mig_line ln;
	json_t *states = json_object(), *e, *st, *rec;
	struct ctx x = { .m = m, .err = err };
	const char *k;
	int rc;

	if (!states)
		return mig_error_set(err, MIG_ENOMEM, "out of memory");
	rc = mig_writer_close(t->w[p], 0, err);
	t->w[p] = NULL;
	if (!rc && lseek(t->fd[p], 0, SEEK_SET) < 0)
		rc = mig_error_set(err, MIG_EIO, "spill file: %s", strerror(errno));
	if (!rc)
		rc = mig_reader_open_fd(&rd, t->fd[p], "spill file", 0, 0, err);
	while (!rc && (rc = mig_reader_next(rd, &ln, err)) == 0) {
		if ((rc = mig_value_parse(&e, &ln, "spill file", err)))
			break;
		json_t *key = json_array_get(e, 0), *in = json_array_get(e, 1);
		st = json_object_getn(states, json_string_value(key), json_string_length(key));
		if (!st) {
			json_object_setn_nocheck(states, json_string_value(key),
						 json_string_length(key), in);
		} else if (s->kind == S_DEDUPE) {
			m->counts.duplicates++;
			dedupe_merge(s, st, in);
		} else if ((rc = group_merge(&x, s, st, in))) {
			/* the state of another group: reject the contribution */
			mig_error_prefix(err, "group");
			rc = err->code;
		}
		json_decref(e);
	}
	if (rc == MIG_DONE)
		rc = 0;
	mig_reader_close(rd);
	if (!rc && (ftruncate(t->fd[p], 0) < 0 || lseek(t->fd[p], 0, SEEK_SET) < 0))
		rc = mig_error_set(err, MIG_EIO, "spill file: %s", strerror(errno));
	if (!rc)
		rc = mig_writer_open_fd(&t->w[p], t->fd[p], "spill file", MIG_WRITER_NOZSTD,
					MIG_JSON_RELAXED, err);
	json_object_foreach(states, k, st) {
		if (rc)
			break;
		if ((rc = state_output(m, s, st, &rec, err))) {
			if (rc != MIG_EDATA)
				break;
			/* a group whose items fail: count it, go on */
			m->counts.errors++;
			rc = 0;
			continue;
		}
		if (!rec)
			continue;
		e = json_pack("[O, O, o]", json_array_get(st, 0), json_array_get(st, 1), rec);
		rc = e ? mig_writer_put(t->w[p], e, err) : mig_error_set(err, MIG_ENOMEM, "oom");
		json_decref(e);
	}
	json_decref(states);
	if (!rc)
		rc = mig_writer_close(t->w[p], 0, err);
	t->w[p] = NULL;
	if (!rc && lseek(t->fd[p], 0, SEEK_SET) < 0)
		rc = mig_error_set(err, MIG_EIO, "spill file: %s", strerror(errno));
	return rc;
}

static int finish_spilled(struct mig_map *m, size_t i, const struct mig_map_sink *sink,
			  struct mig_error *err)
{
	struct stage *s = &m->stages[i];
	struct mig_reader *rd[NPART] = { 0 };
	json_t *head[NPART] = { 0 };
	struct mig_line ln;
	int rc = 0;

	for (int p = 0; p < NPART && !rc; p++)
		rc = spill_merge(m, s, p, err);
	for (int p = 0; p < NPART && !rc; p++)
		rc = mig_reader_open_fd(&rd[p], s->tab->fd[p], "spill file", 0, 0, err);
	/* merge by first sequence number */
	for (;;) {
		int best = -1;
		for (int p = 0; p < NPART && !rc; p++) {
			if (!head[p] && rd[p]) {
				int r = mig_reader_next(rd[p], &ln, err);
				if (r == MIG_DONE) {
					mig_reader_close(rd[p]);
					rd[p] = NULL;
					continue;
				}
				if (r || (r = mig_value_parse(&head[p], &ln, "spill file", err))) {
					rc = r;
					break;
				}
			}
			if (head[p] && (best < 0 ||
					json_integer_value(json_array_get(head[p], 0)) <
					json_integer_value(json_array_get(head[best], 0))))
				best = p;
		}
		if (rc || best < 0)
			break;
		json_t *e = head[best];
		head[best] = NULL;
		json_t *rec = json_incref(json_array_get(e, 2));
		uint64_t line = (uint64_t)json_integer_value(json_array_get(e, 1));
		json_decref(e);
		if (s->kind == S_GROUP)
			m->counts.groups++;
		if ((rc = push_at(m, i + 1, rec, line, sink, err)))
			break;
	}
	for (int p = 0; p < NPART; p++) {
		json_decref(head[p]);
		mig_reader_close(rd[p]);
	}
	return rc;
}

static int finish_stage(struct mig_map *m, size_t i, const struct mig_map_sink *sink,
			struct mig_error *err)
{
	struct stage *s = &m->stages[i];
	const char *k;
	json_t *st;
	int rc = 0;

	if (!s->tab)
		return 0;
	if (s->tab->spilled)
		return finish_spilled(m, i, sink, err);
	json_object_foreach(s->tab->states, k, st)
		if ((rc = emit_state(m, i, st, sink, err)))
			break;
	return rc;
}

/* ---- the pipeline ---- */

static int push_at(struct mig_map *m, size_t i, json_t *rec, uint64_t line,
		   const struct mig_map_sink *sink, struct mig_error *err)
{
	if (i == m->nstages)
		return sink->emit(sink->ctx, rec, line, err);
	switch (m->stages[i].kind) {
	case S_BLOCK: return run_block(m, i, rec, line, sink, err);
	case S_EXPLODE: return run_explode(m, i, rec, line, sink, err);
	case S_DEDUPE: return run_dedupe(m, i, rec, line, sink, err);
	default: return run_group(m, i, rec, line, sink, err);
	}
}

int mig_map_push(struct mig_map *m, json_t *rec, uint64_t line, const struct mig_map_sink *sink,
		 struct mig_error *err)
{
	int rc;

	m->in_push = 1;
	rc = push_at(m, 0, rec, line, sink, err);
	m->in_push = 0;
	return rc;
}

int mig_map_finish(struct mig_map *m, const struct mig_map_sink *sink, struct mig_error *err)
{
	int rc = 0;

	if (m->finished)
		return 0;
	m->finished = 1;
	for (size_t i = 0; i < m->nstages && !rc; i++) {
		rc = finish_stage(m, i, sink, err);
		table_free(m->stages[i].tab);
		m->stages[i].tab = NULL;
	}
	return rc;
}

const struct mig_map_counts *mig_map_counts(const struct mig_map *m)
{
	return &m->counts;
}

/* ---- lookups ---- */

int map_lookup_load(struct lookup *lk, struct mig_error *err)
{
	struct mig_locator *loc = NULL;
	struct mig_store *st = NULL;
	struct mig_read_opts ro = { .limit = -1 };
	struct mig_buf b;
	json_t *rec;
	int rc;

	mig_buf_init(&b, 0);
	lk->table = json_object();
	if (!lk->table)
		return mig_error_set(err, MIG_ENOMEM, "out of memory");
	rc = mig_locator_parse(&loc, lk->locator, err);
	if (!rc)
		rc = mig_store_open(&st, loc, MIG_OPEN_READ, err);
	if (!rc && !st->ops->read_begin)
		rc = mig_error_set(err, MIG_EUSAGE, "%s cannot be read", st->loc->redacted);
	if (!rc)
		rc = st->ops->read_begin(st, &ro, err);
	while (!rc && (rc = st->ops->read_next(st, &rec, err)) == 0) {
		const json_t *k = map_path_get(rec, lk->on, lk->non);
		if (k && !json_is_null(k)) {
			mig_buf_reset(&b);
			if (map_key_text(&b, k)) {
				json_decref(rec);
				rc = mig_error_set(err, MIG_ENOMEM, "out of memory");
				break;
			}
			if (json_object_getn(lk->table, b.data, b.len))
				lk->dups++;   /* the first record of a key stays */
			else
				json_object_setn_nocheck(lk->table, b.data, b.len, rec);
		}
		json_decref(rec);
	}
	if (rc == MIG_DONE)
		rc = 0;
	mig_store_close(st);
	mig_buf_free(&b);
	if (rc)
		mig_error_prefix(err, "lookup %s", lk->name);
	return rc;
}

int mig_map_open_lookups(struct mig_map *m, struct mig_error *err)
{
	for (size_t i = 0; i < m->nlookups; i++) {
		if (m->lookups[i]->table)
			continue;
		int rc = map_lookup_load(m->lookups[i], err);
		if (rc)
			return rc;
	}
	return 0;
}
