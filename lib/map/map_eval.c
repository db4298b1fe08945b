/*
 * eval.c - evaluating the compiled tree against one record.
 *
 * Every evaluation returns a new reference.  Paths into the record return
 * the record's own values with one more reference, never copies: values
 * are shared between the input, the output and the lookup tables, and
 * every write goes through map_path_set()/map_path_del(), which copy a
 * shared object before changing it.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mig/value.h"
#include "map/map_int.h"

int map_fail(struct ctx *x, const struct node *n, const char *fmt, ...)
{
	char msg[MIG_ERROR_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	return mig_error_set(x->err, MIG_EDATA, "%s:%d:%d: %s", x->m->name, n->line, n->col, msg);
}

int map_truthy(const json_t *v)
{
	return v && !json_is_null(v) && !json_is_false(v);
}

/* ---- paths ---- */

static const json_t *step(const json_t *v, const struct seg *s)
{
	if (s->key)
		return json_is_object(v) ? json_object_getn(v, s->key, s->len) : NULL;
	if (!json_is_array(v))
		return NULL;
	int64_t i = s->index, n = (int64_t)json_array_size(v);
	if (i < 0)
		i += n;
	return i >= 0 && i < n ? json_array_get(v, (size_t)i) : NULL;
}

const json_t *map_path_get(const json_t *root, const struct seg *segs, size_t n)
{
	const json_t *v = root;
	for (size_t i = 0; v && i < n; i++)
		v = step(v, &segs[i]);
	return v;
}

void map_path_name(char *out, size_t outsz, const struct seg *segs, size_t n)
{
	size_t o = 0;

	out[0] = '\0';
	if (n == 0)
		snprintf(out, outsz, ".");
	for (size_t i = 0; i < n && o + 1 < outsz; i++) {
		int k;
		if (!segs[i].key) {
			k = snprintf(out + o, outsz - o, "[%lld]", (long long)segs[i].index);
		} else {
			int plain = segs[i].len > 0 && !(segs[i].key[0] >= '0' && segs[i].key[0] <= '9');
			for (size_t j = 0; j < segs[i].len && plain; j++) {
				char c = segs[i].key[j];
				plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
					(c >= '0' && c <= '9') || c == '_';
			}
			k = snprintf(out + o, outsz - o, plain ? "%s%.*s" : "%s\"%.*s\"",
				     i ? "." : "", (int)segs[i].len, segs[i].key);
		}
		if (k < 0)
			break;
		o += (size_t)k;
		if (o >= outsz)
			o = outsz - 1;
	}
}

/* Makes *slot exclusively ours (a shallow copy when shared). */
static json_t *own(json_t *parent, const struct seg *s, json_t *child)
{
	json_t *c;

	if (child->refcount == 1)
		return child;
	c = json_copy(child);
	if (!c)
		return NULL;
	if (json_object_setn_new_nocheck(parent, s->key, s->len, c)) {
		json_decref(c);
		return NULL;
	}
	return c;
}

int map_path_set(json_t *root, const struct seg *segs, size_t n, json_t *v, char *why,
		 size_t whysz)
{
	json_t *o = root;

	for (size_t i = 0; i + 1 < n; i++) {
		json_t *c = json_object_getn(o, segs[i].key, segs[i].len);
		if (!c || json_is_null(c)) {
			c = json_object();
			if (!c || json_object_setn_new_nocheck(o, segs[i].key, segs[i].len, c)) {
				json_decref(v);
				snprintf(why, whysz, "out of memory");
				return -1;
			}
		} else if (!json_is_object(c) || mig_value_type(c) != MIG_V_OBJECT) {
			char p[256];
			map_path_name(p, sizeof p, segs, i + 1);
			const char *t = mig_vtype_name(mig_value_type(c));
			snprintf(why, whysz, "cannot set a field in %s: it is %s %s", p,
				 strchr("aeiou", t[0]) ? "an" : "a", t);
			json_decref(v);
			return -1;
		} else if (!(c = own(o, &segs[i], c))) {
			json_decref(v);
			snprintf(why, whysz, "out of memory");
			return -1;
		}
		o = c;
	}
	if (json_object_setn_new_nocheck(o, segs[n - 1].key, segs[n - 1].len, v)) {
		snprintf(why, whysz, "out of memory");
		return -1;
	}
	return 0;
}

void map_path_del(json_t *root, const struct seg *segs, size_t n)
{
	json_t *o = root;

	for (size_t i = 0; i + 1 < n; i++) {
		json_t *c = json_object_getn(o, segs[i].key, segs[i].len);
		if (!json_is_object(c) || !(c = own(o, &segs[i], c)))
			return;
		o = c;
	}
	json_object_deln(o, segs[n - 1].key, segs[n - 1].len);
}

/* ---- numbers ---- */

/* The number kind of a value: 0 not a number, 1 int, 2 double, 3 decimal. */
static int numkind(const json_t *v, int64_t *i, double *d, int *is_long)
{
	*is_long = 0;
	switch (json_typeof(v)) {
	case JSON_INTEGER:
		*i = json_integer_value(v);
		return 1;
	case JSON_REAL:
		*d = json_real_value(v);
		return 2;
	case JSON_OBJECT:
		switch (mig_value_type(v)) {
		case MIG_V_INT:
			mig_value_get_int(v, i, NULL);
			*is_long = json_object_get(v, "$numberLong") != NULL;
			return 1;
		case MIG_V_DOUBLE:
			mig_value_get_double(v, d, NULL);
			return 2;
		case MIG_V_DECIMAL:
			return 3;
		default:
			return 0;
		}
	default:
		return 0;
	}
}

static const char *tname(const json_t *v)
{
	return mig_vtype_name(mig_value_type(v));
}

static int dec_fail(struct ctx *x, const struct node *n, int rc)
{
	if (rc == -2)
		return map_fail(x, n, "division by zero");
	return map_fail(x, n, "decimal result out of range");
}

static int arith(struct ctx *x, const struct node *n, const json_t *a, const json_t *b,
		 json_t **out)
{
	int64_t ia = 0, ib = 0, r;
	double da = 0, db = 0, rd;
	int la, lb, ka = numkind(a, &ia, &da, &la), kb = numkind(b, &ib, &db, &lb);
	static const char *const opname[] = { "+", "-", "*", "/", "%" };

	if (!ka || !kb) {
		if (n->op == OP_ADD) {
			if (json_is_string(a) && json_is_string(b)) {
				size_t na = json_string_length(a), nb = json_string_length(b);
				char *s = malloc(na + nb + 1);
				if (!s)
					return mig_error_set(x->err, MIG_ENOMEM, "out of memory");
				memcpy(s, json_string_value(a), na);
				memcpy(s + na, json_string_value(b), nb);
				*out = json_stringn_nocheck(s, na + nb);
				free(s);
				return 0;
			}
			if (json_is_array(a) && json_is_array(b)) {
				*out = json_copy((json_t *)a);
				json_array_extend(*out, (json_t *)b);
				return 0;
			}
			if (json_is_object(a) && json_is_object(b) && mig_value_type(a) == MIG_V_OBJECT &&
			    mig_value_type(b) == MIG_V_OBJECT) {
				*out = json_copy((json_t *)a);
				json_object_update(*out, (json_t *)b);
				return 0;
			}
		}
		return map_fail(x, n, "cannot apply %s to %s and %s", opname[n->op], tname(a),
				tname(b));
	}
	if (ka == 3 || kb == 3) {
		struct dec p, q, o;
		int rc;
		if (map_dec_of(&p, a) || map_dec_of(&q, b))
			return map_fail(x, n, "%s on a non-finite number", opname[n->op]);
		switch (n->op) {
		case OP_ADD: rc = map_dec_add(&o, &p, &q, 0); break;
		case OP_SUB: rc = map_dec_add(&o, &p, &q, 1); break;
		case OP_MUL: rc = map_dec_mul(&o, &p, &q); break;
		case OP_DIV: rc = map_dec_div(&o, &p, &q); break;
		default: rc = map_dec_mod(&o, &p, &q); break;
		}
		if (rc)
			return dec_fail(x, n, rc);
		*out = map_dec_json(&o);
		return 0;
	}
	if (ka == 1 && kb == 1 && n->op != OP_DIV) {
		int ovf = 0;
		switch (n->op) {
		case OP_ADD: ovf = __builtin_add_overflow(ia, ib, &r); break;
		case OP_SUB: ovf = __builtin_sub_overflow(ia, ib, &r); break;
		case OP_MUL: ovf = __builtin_mul_overflow(ia, ib, &r); break;
		default:
			if (ib == 0)
				return map_fail(x, n, "division by zero");
			r = ib == -1 ? (int64_t)(0 - (uint64_t)ia) : ia % ib;
			if (ib == -1)
				r = 0;
			break;
		}
		if (ovf)
			return map_fail(x, n, "integer overflow: %lld %s %lld", (long long)ia,
					opname[n->op], (long long)ib);
		*out = la || lb ? mig_value_long(r) : json_integer(r);
		return 0;
	}
	if (ka == 1)
		da = (double)ia;
	if (kb == 1)
		db = (double)ib;
	switch (n->op) {
	case OP_ADD: rd = da + db; break;
	case OP_SUB: rd = da - db; break;
	case OP_MUL: rd = da * db; break;
	case OP_DIV:
		if (db == 0)
			return map_fail(x, n, "division by zero");
		rd = da / db;
		break;
	default:
		if (db == 0)
			return map_fail(x, n, "division by zero");
		rd = fmod(da, db);
		break;
	}
	*out = mig_value_double(rd);
	return 0;
}

/* Numbers compare by value across int, double and decimal: <0, 0, >0, or
 * 2 when one is not a number. */
static int numcmp(const json_t *a, const json_t *b)
{
	int64_t ia = 0, ib = 0;
	double da = 0, db = 0;
	int la, lb, ka = numkind(a, &ia, &da, &la), kb = numkind(b, &ib, &db, &lb);

	if (!ka || !kb)
		return 2;
	if (ka == 1 && kb == 1)
		return (ia > ib) - (ia < ib);
	if (ka != 3 && kb != 3) {
		if (ka == 1 && kb == 2 && isfinite(db))
			return (long double)ia < db ? -1 : (long double)ia > db;
		if (ka == 2 && kb == 1 && isfinite(da))
			return da < (long double)ib ? -1 : da > (long double)ib;
		if (ka == 1)
			da = (double)ia;
		if (kb == 1)
			db = (double)ib;
		if (isnan(da) || isnan(db))
			return isnan(da) && isnan(db) ? 0 : isnan(da) ? -1 : 1;
		return (da > db) - (da < db);
	}
	struct dec p, q;
	int ra = map_dec_of(&p, a), rb = map_dec_of(&q, b);
	if (ra || rb) {
		/* a non-finite double or decimal: mig_value_cmp's order */
		return mig_value_cmp(a, b) < 0 ? -1 : mig_value_cmp(a, b) > 0;
	}
	return map_dec_cmp(&p, &q);
}

int map_arith(struct ctx *x, const struct node *at, int op, const json_t *a, const json_t *b,
	      json_t **out)
{
	struct node t = *at;
	t.op = op;
	return arith(x, &t, a, b, out);
}

int map_is_number(const json_t *v)
{
	int64_t i;
	double d;
	int l;
	return numkind(v, &i, &d, &l) != 0;
}

int map_cmp(const json_t *a, const json_t *b, int *out)
{
	enum mig_vtype ta, tb;
	int c = numcmp(a, b);

	if (c == 2) {
		ta = mig_value_type(a);
		tb = mig_value_type(b);
		if (ta != tb || ta == MIG_V_OBJECT || ta == MIG_V_ARRAY || ta == MIG_V_INVALID)
			return -1;
		c = mig_value_cmp(a, b);
	}
	*out = c < 0 ? -1 : c > 0;
	return 0;
}

int map_equal(const json_t *a, const json_t *b)
{
	int c = numcmp(a, b);
	if (c != 2)
		return c == 0;
	return mig_value_equal(a, b);
}

static int compare(struct ctx *x, const struct node *n, const json_t *a, const json_t *b,
		   json_t **out)
{
	int c;

	if (n->op == OP_EQ || n->op == OP_NE) {
		*out = json_boolean(map_equal(a, b) == (n->op == OP_EQ));
		return 0;
	}
	if (n->op == OP_IN) {
		if (json_is_null(b)) {
			*out = json_null();
			return 0;
		}
		if (json_is_array(b) && mig_value_type(b) == MIG_V_ARRAY) {
			size_t i;
			json_t *e;
			json_array_foreach(b, i, e) {
				if (map_equal(a, e)) {
					*out = json_true();
					return 0;
				}
			}
			*out = json_false();
			return 0;
		}
		if (json_is_string(b) && json_is_string(a)) {
			*out = json_boolean(memmem(json_string_value(b), json_string_length(b),
						   json_string_value(a), json_string_length(a)) != NULL);
			return 0;
		}
		if (json_is_object(b) && mig_value_type(b) == MIG_V_OBJECT && json_is_string(a)) {
			*out = json_boolean(json_object_getn(b, json_string_value(a),
							     json_string_length(a)) != NULL);
			return 0;
		}
		return map_fail(x, n, "cannot test %s in %s", tname(a), tname(b));
	}
	if (json_is_null(a) || json_is_null(b)) {
		*out = json_null();
		return 0;
	}
	if (map_cmp(a, b, &c))
		return map_fail(x, n, "cannot compare %s with %s", tname(a), tname(b));
	switch (n->op) {
	case OP_LT: *out = json_boolean(c < 0); break;
	case OP_LE: *out = json_boolean(c <= 0); break;
	case OP_GT: *out = json_boolean(c > 0); break;
	default: *out = json_boolean(c >= 0); break;
	}
	return 0;
}

/* ---- the evaluator ---- */

/* A path's value: *out borrowed (NULL when missing).  found says whether
 * every step was there (for exists()). */
static int path_eval(struct ctx *x, const struct node *n, const json_t **out, json_t **hold)
{
	const json_t *v;
	int rc;

	*hold = NULL;
	if (n->a) {
		rc = map_eval(x, n->a, hold);
		if (rc)
			return rc;
		v = *hold;
	} else {
		v = x->rec;
	}
	*out = map_path_get(v, n->segs, n->nsegs);
	return 0;
}

static int missing(struct ctx *x, const struct node *n, const struct seg *segs, size_t ns)
{
	char p[256];
	map_path_name(p, sizeof p, segs, ns);
	return map_fail(x, n, "missing field %s", p);
}

static int eval_call(struct ctx *x, const struct node *n, json_t **out)
{
	json_t *args[32];
	size_t i;
	int rc = 0;

	for (i = 0; i < n->nkids; i++) {
		rc = map_eval(x, n->kids[i], &args[i]);
		if (rc)
			break;
	}
	if (!rc)
		rc = n->fn->fn(x, n, args, n->nkids, out);
	while (i > 0)
		json_decref(args[--i]);
	return rc;
}

static int eval_inner(struct ctx *x, const struct node *n, json_t **out)
{
	json_t *a = NULL, *b = NULL;
	const json_t *v;
	int rc = 0;

	switch (n->kind) {
	case N_CONST:
		*out = json_incref(n->v);
		return 0;
	case N_PATH:
		rc = path_eval(x, n, &v, &a);
		if (rc)
			return rc;
		if (!v && !n->a && x->m->o.strict && !x->lenient) {
			json_decref(a);
			return missing(x, n, n->segs, n->nsegs);
		}
		*out = v ? json_incref((json_t *)v) : json_null();
		json_decref(a);
		return 0;
	case N_INDEX:
		if ((rc = map_eval(x, n->a, &a)) || (rc = map_eval(x, n->b, &b)))
			break;
		if (json_is_integer(b) && json_is_array(a)) {
			struct seg s = { .index = json_integer_value(b) };
			v = step(a, &s);
		} else if (json_is_string(b) && json_is_object(a)) {
			v = json_object_getn(a, json_string_value(b), json_string_length(b));
		} else if (json_is_null(b) || json_is_null(a)) {
			v = NULL;
		} else if (!json_is_integer(b) && !json_is_string(b)) {
			rc = map_fail(x, n, "an index is an int or a string, not %s", tname(b));
			break;
		} else {
			v = NULL;
		}
		*out = v ? json_incref((json_t *)v) : json_null();
		break;
	case N_OBJECT:
		*out = json_object();
		for (size_t i = 0; i < n->nkids && !rc; i++) {
			rc = map_eval(x, n->kids[i], &a);
			if (!rc)
				json_object_setn_new_nocheck(*out, n->keys[i], n->klens[i], a);
		}
		a = NULL;
		if (rc) {
			json_decref(*out);
			*out = NULL;
		}
		break;
	case N_ARRAY:
		*out = json_array();
		for (size_t i = 0; i < n->nkids && !rc; i++) {
			rc = map_eval(x, n->kids[i], &a);
			if (!rc)
				json_array_append_new(*out, a);
		}
		a = NULL;
		if (rc) {
			json_decref(*out);
			*out = NULL;
		}
		break;
	case N_NEG: {
		int64_t i;
		double d;
		int l;
		if ((rc = map_eval(x, n->a, &a)))
			break;
		switch (json_is_null(a) ? -1 : numkind(a, &i, &d, &l)) {
		case -1:
			*out = json_null();
			break;
		case 1:
			if (i == INT64_MIN) {
				rc = map_fail(x, n, "integer overflow: -(%lld)", (long long)i);
				break;
			}
			*out = l ? mig_value_long(-i) : json_integer(-i);
			break;
		case 2:
			*out = mig_value_double(-d);
			break;
		case 3: {
			struct dec p;
			if (map_dec_of(&p, a)) {
				rc = map_fail(x, n, "- on a non-finite decimal");
				break;
			}
			p.neg = !p.neg && !(p.n == 1 && p.d[0] == 0);
			*out = map_dec_json(&p);
			break;
		}
		default:
			rc = map_fail(x, n, "cannot negate %s", tname(a));
		}
		break;
	}
	case N_NOT:
		if (!(rc = map_eval(x, n->a, &a)))
			*out = json_boolean(!map_truthy(a));
		break;
	case N_AND:
	case N_OR:
		if ((rc = map_eval(x, n->a, &a)))
			break;
		if (map_truthy(a) == (n->kind == N_OR)) {
			*out = json_boolean(n->kind == N_OR);
			break;
		}
		if (!(rc = map_eval(x, n->b, &b)))
			*out = json_boolean(map_truthy(b));
		break;
	case N_COALESCE:
		/* every operand but the last may be missing, even with --strict */
		for (size_t i = 0; i < n->nkids; i++) {
			int last = i + 1 == n->nkids;
			x->lenient += !last;
			rc = map_eval(x, n->kids[i], &a);
			x->lenient -= !last;
			if (rc)
				return rc;
			if (!json_is_null(a) || last) {
				*out = a;
				return 0;
			}
			json_decref(a);
		}
		*out = json_null();
		return 0;
	case N_IF:
		if ((rc = map_eval(x, n->a, &a)))
			break;
		if (map_truthy(a))
			rc = map_eval(x, n->b, out);
		else if (n->c)
			rc = map_eval(x, n->c, out);
		else
			*out = json_null();
		break;
	case N_BIN:
		if ((rc = map_eval(x, n->a, &a)) || (rc = map_eval(x, n->b, &b)))
			break;
		if (n->op >= OP_EQ)
			rc = compare(x, n, a, b, out);
		else if (json_is_null(a) || json_is_null(b))
			*out = json_null();
		else
			rc = arith(x, n, a, b, out);
		break;
	case N_CALL:
		return eval_call(x, n, out);
	case N_EXISTS:
		x->lenient++;
		if (n->a->kind == N_PATH) {
			rc = path_eval(x, n->a, &v, &a);
			if (!rc)
				*out = json_boolean(v != NULL);
		} else {
			rc = map_eval(x, n->a, &a);
			if (!rc)
				*out = json_boolean(!json_is_null(a));
		}
		x->lenient--;
		break;
	case N_LOOKUP:
		if ((rc = map_eval(x, n->a, &a)))
			break;
		if (json_is_null(a)) {
			*out = json_null();
			break;
		}
		mig_buf_reset(&x->m->kbuf);
		if (map_key_text(&x->m->kbuf, a)) {
			rc = mig_error_set(x->err, MIG_ENOMEM, "out of memory");
			break;
		}
		v = n->lk->table ? json_object_getn(n->lk->table, x->m->kbuf.data, x->m->kbuf.len)
				 : NULL;
		*out = v ? json_incref((json_t *)v) : json_null();
		break;
	case N_AGG:
		*out = json_incref(x->aggs ? x->aggs[n->idx] : json_null());
		return 0;
	}
	json_decref(a);
	json_decref(b);
	if (!rc && !*out)
		rc = mig_error_set(x->err, MIG_ENOMEM, "out of memory");
	return rc;
}

int map_eval(struct ctx *x, const struct node *n, json_t **out)
{
	int rc;

	*out = NULL;
	rc = eval_inner(x, n, out);
	if (rc == MIG_EDATA && x->m->o.on_error == MIG_MAP_NULL) {
		x->m->counts.errors++;
		x->m->counts.nulled++;
		*out = json_null();
		return 0;
	}
	return rc;
}

/* ---- helpers for the functions ---- */

size_t map_fmt_double(char *out, double d)
{
	int n = snprintf(out, 32, "%.15g", d);
	if (strtod(out, NULL) != d) {
		n = snprintf(out, 32, "%.16g", d);
		if (strtod(out, NULL) != d)
			n = snprintf(out, 32, "%.17g", d);
	}
	if (!strpbrk(out, ".e") && !strpbrk(out, "na")) {
		memcpy(out + n, ".0", 3);
		n += 2;
	}
	return (size_t)n;
}

int map_key_text(struct mig_buf *b, const json_t *v)
{
	if (json_is_string(v))
		return mig_buf_append(b, json_string_value(v), json_string_length(v)) ||
		       mig_buf_putc(b, '\x01');
	return mig_value_write(b, v, MIG_JSON_RELAXED);
}

int map_to_string(json_t **out, const json_t *v)
{
	char buf[64];
	struct mig_buf b;
	int64_t us;
	uint8_t *bytes;
	size_t nb;
	int sub;

	switch (mig_value_type(v)) {
	case MIG_V_NULL:
		*out = json_null();
		return 0;
	case MIG_V_STRING:
		*out = json_incref((json_t *)v);
		return 0;
	case MIG_V_BOOL:
		*out = json_string(json_is_true(v) ? "true" : "false");
		return 0;
	case MIG_V_INT: {
		int64_t i;
		mig_value_get_int(v, &i, NULL);
		snprintf(buf, sizeof buf, "%lld", (long long)i);
		*out = json_string(buf);
		return 0;
	}
	case MIG_V_DOUBLE: {
		double d;
		mig_value_get_double(v, &d, NULL);
		if (isnan(d))
			*out = json_string("NaN");
		else if (isinf(d))
			*out = json_string(d > 0 ? "Infinity" : "-Infinity");
		else {
			map_fmt_double(buf, d);
			*out = json_string(buf);
		}
		return 0;
	}
	case MIG_V_DECIMAL: {
		const char *s;
		mig_value_get_decimal(v, &s, NULL);
		*out = json_string(s);
		return 0;
	}
	case MIG_V_DATE:
		mig_value_get_date(v, &us, NULL);
		mig_date_format(buf, us);
		*out = json_string(buf);
		return 0;
	case MIG_V_OID:
		*out = json_incref(json_object_get(v, "$oid"));
		return 0;
	case MIG_V_BINARY:
		if (mig_value_get_binary(v, &bytes, &nb, &sub, NULL))
			return -1;
		if (sub == 4 && nb == 16) {
			snprintf(buf, sizeof buf,
				 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
				 bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6],
				 bytes[7], bytes[8], bytes[9], bytes[10], bytes[11], bytes[12],
				 bytes[13], bytes[14], bytes[15]);
			*out = json_string(buf);
		} else {
			char *s = mig_base64_encode(bytes, nb);
			*out = s ? json_string(s) : NULL;
			free(s);
		}
		free(bytes);
		return *out ? 0 : -1;
	default:
		mig_buf_init(&b, 0);
		if (mig_value_write(&b, v, MIG_JSON_RELAXED)) {
			mig_buf_free(&b);
			return -1;
		}
		*out = json_stringn(b.data, b.len);
		mig_buf_free(&b);
		return *out ? 0 : -1;
	}
}

size_t map_approx_size(const json_t *v)
{
	size_t n = 48, i;
	const char *k;
	json_t *e;

	switch (json_typeof(v)) {
	case JSON_STRING:
		return n + json_string_length(v);
	case JSON_ARRAY:
		n += json_array_size(v) * 8;
		json_array_foreach(v, i, e)
			n += map_approx_size(e);
		return n;
	case JSON_OBJECT:
		json_object_foreach((json_t *)v, k, e)
			n += 48 + strlen(k) + map_approx_size(e);
		return n;
	default:
		return n;
	}
}
