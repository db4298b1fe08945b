/*
 * eval.c - validating a value against a compiled schema.
 *
 * Two modes.  The fast one answers valid or not and stops at the first
 * failure; mig_schema_validate() runs it first, because most records are
 * valid.  Only for an invalid value does it run again collecting errors
 * (every failing keyword, with the instance path), so that the cost of
 * messages is paid by the records that need them.
 *
 * unevaluatedProperties/Items need annotations: which members or items
 * the schema's other keywords (and the subschemas applied in place that
 * passed) have looked at.  They are bitmaps over the instance's members
 * (in Jansson's iteration order) or items, kept only where a schema with
 * unevaluated* asks for them; elsewhere nothing is tracked.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mig/cli.h"
#include "mig/value.h"
#include "schema.h"

#define MAX_DEPTH 1000

struct ann {
	uint64_t *bits;
	size_t n;
	uint64_t small[4];
};

struct ctx {
	struct mig_schema *s;
	json_t *errors;         /* NULL: the fast mode */
	int quiet;              /* inside a branch whose failures are not errors */
	size_t nerr;
	int oom;
	size_t depth;
	const struct vres *scope[MAX_DEPTH + 1];
	size_t nscope;
};

/* What an instance is, with Extended JSON wrappers seen through. */
struct inst {
	unsigned type;
	struct vnum num;
	const char *str;
	size_t slen;
	int is_date;
	char buf[40];
};

/* ---- annotations ---- */

static int ann_init(struct ann *a, size_t n)
{
	size_t words = (n + 63) / 64;
	a->n = n;
	if (words <= 4) {
		a->bits = a->small;
		memset(a->small, 0, sizeof a->small);
		return 0;
	}
	a->bits = calloc(words, sizeof *a->bits);
	return a->bits ? 0 : -1;
}

static void ann_free(struct ann *a)
{
	if (a->bits != a->small)
		free(a->bits);
}

static void ann_set(struct ann *a, size_t i)
{
	if (a && i < a->n)
		a->bits[i / 64] |= (uint64_t)1 << (i % 64);
}

static int ann_get(const struct ann *a, size_t i)
{
	return i < a->n && (a->bits[i / 64] >> (i % 64)) & 1;
}

static void ann_or(struct ann *dst, const struct ann *src)
{
	if (!dst)
		return;
	for (size_t i = 0; i < (dst->n + 63) / 64; i++)
		dst->bits[i] |= src->bits[i];
}

static size_t inst_size(const json_t *v)
{
	return json_is_object(v) ? json_object_size(v) : json_is_array(v) ? json_array_size(v) : 0;
}

/* ---- instances ---- */

static void classify(const json_t *v, struct inst *in)
{
	in->type = 0;
	in->is_date = 0;
	switch (json_typeof(v)) {
	case JSON_NULL:
		in->type = T_NULL;
		return;
	case JSON_TRUE:
	case JSON_FALSE:
		in->type = T_BOOL;
		return;
	case JSON_INTEGER:
		in->type = T_INT | T_NUM;
		in->num.kind = N_INT;
		in->num.i = json_integer_value(v);
		return;
	case JSON_REAL:
		in->num.kind = N_DBL;
		in->num.d = json_real_value(v);
		in->type = T_NUM | (in->num.d == floor(in->num.d) ? T_INT : 0);
		return;
	case JSON_STRING:
		in->type = T_STR;
		in->str = json_string_value(v);
		in->slen = json_string_length(v);
		return;
	case JSON_ARRAY:
		in->type = T_ARR;
		return;
	default:
		break;
	}
	void *it = json_object_iter((json_t *)v);
	in->type = T_OBJ;
	if (!it || json_object_iter_key(it)[0] != '$')
		return;
	switch (mig_value_type(v)) {
	case MIG_V_INT:
		if (mig_value_get_int(v, &in->num.i, NULL) == 0) {
			in->type = T_INT | T_NUM;
			in->num.kind = N_INT;
		}
		break;
	case MIG_V_DOUBLE:
		if (mig_value_get_double(v, &in->num.d, NULL) == 0) {
			in->num.kind = isnan(in->num.d) ? N_NAN : N_DBL;
			in->type = T_NUM | (isfinite(in->num.d) && in->num.d == floor(in->num.d) ? T_INT : 0);
		}
		break;
	case MIG_V_DECIMAL:
		if (mig_value_get_decimal(v, &in->num.dec, NULL) == 0) {
			int nan = mig_v_dec_cmp(in->num.dec, "0") == 2;
			in->num.kind = nan ? N_NAN : N_DEC;
			in->type = T_NUM | (!nan && mig_v_dec_multiple(in->num.dec, "1") == 1 ? T_INT : 0);
		}
		break;
	case MIG_V_DATE: {
		const json_t *d = json_object_iter_value(it);
		in->type = T_STR;
		in->is_date = 1;
		if (json_is_string(d)) {
			in->str = json_string_value(d);
			in->slen = json_string_length(d);
		} else {
			int64_t us = 0;
			mig_value_get_date(v, &us, NULL);
			in->slen = (size_t)mig_date_format(in->buf, us);
			in->str = in->buf;
		}
		break;
	}
	case MIG_V_OID: {
		const json_t *h = json_object_iter_value(it);
		in->type = T_STR;
		in->str = json_string_value(h);
		in->slen = json_string_length(h);
		break;
	}
	default:
		break;
	}
}

static const char *type_name(const struct inst *in)
{
	switch (in->type & ~(unsigned)T_INT) {
	case T_NULL: return "null";
	case T_BOOL: return "boolean";
	case T_NUM: return in->type & T_INT ? "integer" : "number";
	case T_STR: return "string";
	case T_ARR: return "array";
	default: return "object";
	}
}

/* JSON Schema equality: numbers by value (1 == 1.0, wrappers too), objects
 * regardless of member order. */
static int jequal(const json_t *a, const json_t *b)
{
	struct inst ia, ib;

	if (json_typeof(a) == JSON_STRING && json_typeof(b) == JSON_STRING)
		return json_string_length(a) == json_string_length(b) &&
		       memcmp(json_string_value(a), json_string_value(b), json_string_length(a)) == 0;
	classify(a, &ia);
	classify(b, &ib);
	if ((ia.type & T_NUM) || (ib.type & T_NUM))
		return (ia.type & T_NUM) && (ib.type & T_NUM) && mig_vnum_cmp(&ia.num, &ib.num) == 0;
	if (json_typeof(a) != json_typeof(b))
		return 0;
	switch (json_typeof(a)) {
	case JSON_OBJECT: {
		const char *k;
		json_t *x;
		if (json_object_size(a) != json_object_size(b))
			return 0;
		void *it;
		for (it = json_object_iter((json_t *)a); it; it = json_object_iter_next((json_t *)a, it)) {
			k = json_object_iter_key(it);
			x = json_object_getn(b, k, json_object_iter_key_len(it));
			if (!x || !jequal(json_object_iter_value(it), x))
				return 0;
		}
		return 1;
	}
	case JSON_ARRAY: {
		size_t n = json_array_size(a);
		if (n != json_array_size(b))
			return 0;
		for (size_t i = 0; i < n; i++)
			if (!jequal(json_array_get(a, i), json_array_get(b, i)))
				return 0;
		return 1;
	}
	default:
		return 1;   /* null, true, false: the same type is the same value */
	}
}

/* ---- errors ---- */

static int collecting(const struct ctx *c)
{
	return c->errors && !c->quiet && c->nerr < MIG_SCHEMA_MAX_ERRORS;
}

__attribute__((format(printf, 3, 4)))
static void fail(struct ctx *c, const char *kw, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	json_t *e;

	if (!collecting(c))
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	e = json_pack("{s:s, s:s, s:s}", "path", c->s->path.data ? c->s->path.data : "",
		      "keyword", kw, "message", msg);
	if (!e || json_array_append_new(c->errors, e))
		c->oom = 1;
	c->nerr++;
}

static size_t push_key(struct ctx *c, const char *k, size_t n)
{
	struct mig_buf *b = &c->s->path;
	size_t old = b->len;
	if (!collecting(c))
		return old;
	int rc = mig_buf_putc(b, '/');
	for (size_t i = 0; i < n && !rc; i++) {
		if (k[i] == '~')
			rc = mig_buf_puts(b, "~0");
		else if (k[i] == '/')
			rc = mig_buf_puts(b, "~1");
		else
			rc = mig_buf_putc(b, k[i]);
	}
	if (rc)
		c->oom = 1;
	return old;
}

static size_t push_index(struct ctx *c, size_t i)
{
	struct mig_buf *b = &c->s->path;
	size_t old = b->len;
	if (collecting(c) && mig_buf_printf(b, "/%zu", i))
		c->oom = 1;
	return old;
}

static void pop(struct ctx *c, size_t old)
{
	struct mig_buf *b = &c->s->path;
	if (old <= b->len) {
		b->len = old;
		if (b->data)
			b->data[old] = '\0';
	}
}

static const char *num_text(const struct vnum *n, char *buf)
{
	return mig_vnum_text(n, buf);
}

static void types_text(unsigned t, char *out, size_t n)
{
	static const struct { unsigned bit; const char *name; } names[] = {
		{ T_NULL, "null" }, { T_BOOL, "boolean" }, { T_INT, "integer" }, { T_NUM, "number" },
		{ T_STR, "string" }, { T_OBJ, "object" }, { T_ARR, "array" },
	};
	size_t o = 0;
	out[0] = '\0';
	if ((t & T_NUM))
		t &= ~(unsigned)T_INT;
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		if (!(t & names[i].bit))
			continue;
		o += (size_t)snprintf(out + o, o < n ? n - o : 0, "%s%s", o ? " or " : "", names[i].name);
	}
}

/* ---- the walk ---- */

static int v_node(struct ctx *c, const struct vnode *n, const json_t *v, struct ann *ev,
		  const char *kw);

/* v_node with a fresh annotation set, merged into ev when it passes. */
static int v_branch(struct ctx *c, const struct vnode *n, const json_t *v, struct ann *ev,
		    const char *kw)
{
	struct ann a;
	int ok;

	if (!ev)
		return v_node(c, n, v, NULL, kw);
	if (ann_init(&a, ev->n)) {
		c->oom = 1;
		return 0;
	}
	ok = v_node(c, n, v, &a, kw);
	if (ok)
		ann_or(ev, &a);
	ann_free(&a);
	return ok;
}

static size_t utf8_chars(const char *s, size_t n)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		k += ((unsigned char)s[i] & 0xC0) != 0x80;
	return k;
}

static int check_props(struct ctx *c, const struct vcheck *ck, const json_t *v, struct ann *a)
{
	int ok = 1;
	size_t i = 0;

	if (!a && !ck->u.props.npats && !ck->u.props.additional) {
		/* only "properties": look each one up */
		for (size_t j = 0; j < ck->u.props.nprops; j++) {
			const struct vprop *p = &ck->u.props.props[j];
			json_t *x = json_object_getn(v, p->name, p->len);
			if (!x)
				continue;
			size_t m = push_key(c, p->name, p->len);
			int r = v_node(c, p->node, x, NULL, "properties");
			pop(c, m);
			if (!r) {
				ok = 0;
				if (!collecting(c))
					return 0;
			}
		}
		return ok;
	}
	for (void *it = json_object_iter((json_t *)v); it;
	     it = json_object_iter_next((json_t *)v, it), i++) {
		const char *k = json_object_iter_key(it);
		size_t kl = json_object_iter_key_len(it);
		json_t *x = json_object_iter_value(it);
		int matched = 0;
		size_t m = push_key(c, k, kl);

		if (ck->u.props.nprops) {
			uint32_t h = 2166136261u;
			for (size_t q = 0; q < kl; q++)
				h = (h ^ (unsigned char)k[q]) * 16777619u;
			for (uint32_t s = h & ck->u.props.mask; ck->u.props.table[s];
			     s = (s + 1) & ck->u.props.mask) {
				const struct vprop *p = &ck->u.props.props[ck->u.props.table[s] - 1];
				if (p->hash == h && p->len == kl && memcmp(p->name, k, kl) == 0) {
					matched = 1;
					if (!v_node(c, p->node, x, NULL, "properties"))
						ok = 0;
					break;
				}
			}
		}
		for (size_t q = 0; q < ck->u.props.npats && (ok || collecting(c)); q++) {
			const struct vpat *p = &ck->u.props.pats[q];
			if (!mig_vregex_match(p->re, k, kl))
				continue;
			matched = 1;
			if (!v_node(c, p->node, x, NULL, "patternProperties"))
				ok = 0;
		}
		if (!matched && ck->u.props.additional && (ok || collecting(c))) {
			matched = 1;
			if (!v_node(c, ck->u.props.additional, x, NULL, "additionalProperties"))
				ok = 0;
		}
		pop(c, m);
		if (matched)
			ann_set(a, i);
		if (!ok && !collecting(c))
			return 0;
	}
	return ok;
}

static int check_items(struct ctx *c, const struct vcheck *ck, const json_t *v, struct ann *a)
{
	size_t n = json_array_size(v);
	int ok = 1;

	for (size_t i = 0; i < n; i++) {
		const struct vnode *node;
		const char *kw;
		if (i < ck->u.items.nprefix) {
			node = ck->u.items.prefix[i];
			kw = ck->kw;
		} else if (ck->u.items.rest) {
			node = ck->u.items.rest;
			kw = ck->u.items.rest_kw;
		} else {
			break;
		}
		size_t m = push_index(c, i);
		if (!v_node(c, node, json_array_get(v, i), NULL, kw))
			ok = 0;
		pop(c, m);
		ann_set(a, i);
		if (!ok && !collecting(c))
			return 0;
	}
	return ok;
}

static int check_contains(struct ctx *c, const struct vcheck *ck, const json_t *v, struct ann *a)
{
	size_t n = json_array_size(v);
	uint64_t found = 0;
	int need_all = a || ck->u.contains.has_max;

	c->quiet++;
	for (size_t i = 0; i < n; i++) {
		if (v_node(c, ck->u.contains.node, json_array_get(v, i), NULL, "contains")) {
			found++;
			ann_set(a, i);
			if (!need_all && found >= ck->u.contains.min)
				break;
		}
	}
	c->quiet--;
	if (found < ck->u.contains.min) {
		if (ck->u.contains.min == 1)
			fail(c, "contains", "must contain an item that matches the contains schema");
		else
			fail(c, "minContains", "must contain at least %llu items that match the "
			     "contains schema (has %llu)", (unsigned long long)ck->u.contains.min,
			     (unsigned long long)found);
		return 0;
	}
	if (ck->u.contains.has_max && found > ck->u.contains.max) {
		fail(c, "maxContains", "must contain at most %llu items that match the contains "
		     "schema (has %llu)", (unsigned long long)ck->u.contains.max,
		     (unsigned long long)found);
		return 0;
	}
	return 1;
}

static const struct vnode *dynamic_target(struct ctx *c, const struct vcheck *ck)
{
	const char *name = ck->u.ref.anchor;

	if (!name)
		return ck->u.ref.target;
	for (size_t i = 0; i < c->nscope; i++) {
		const struct vres *r = c->scope[i];
		if (!r->has_dynamic)
			continue;
		for (size_t j = 0; j < r->nanchors; j++)
			if (r->anchors[j].dynamic && r->anchors[j].node &&
			    strcmp(r->anchors[j].name, name) == 0)
				return r->anchors[j].node;
	}
	return ck->u.ref.target;
}

static int check(struct ctx *c, const struct vcheck *ck, const json_t *v, const struct inst *in,
		 struct ann *a)
{
	char t1[32], t2[96];
	int r;

	switch (ck->kind) {
	case CK_TYPE:
		if (in->type & ck->u.types)
			return 1;
		types_text(ck->u.types, t2, sizeof t2);
		fail(c, "type", "must be %s, not %s", t2, type_name(in));
		return 0;
	case CK_CONST:
		if (jequal(v, ck->u.value))
			return 1;
		fail(c, "const", "must be equal to the constant");
		return 0;
	case CK_ENUM: {
		size_t i;
		json_t *x;
		json_array_foreach(ck->u.value, i, x)
			if (jequal(v, x))
				return 1;
		if (collecting(c)) {
			char *txt = json_dumps(ck->u.value, JSON_COMPACT | JSON_ENCODE_ANY);
			if (txt && strlen(txt) > 200)
				strcpy(txt + 196, "...]");
			fail(c, "enum", "must be one of %s", txt ? txt : "the enumerated values");
			mig_json_free(txt);
		}
		return 0;
	}
	case CK_MINIMUM:
	case CK_MAXIMUM:
	case CK_XMINIMUM:
	case CK_XMAXIMUM:
		if (!(in->type & T_NUM))
			return 1;
		r = mig_vnum_cmp(&in->num, &ck->u.num);
		if (r != 2 && (ck->kind == CK_MINIMUM ? r >= 0 : ck->kind == CK_MAXIMUM ? r <= 0
			       : ck->kind == CK_XMINIMUM ? r > 0 : r < 0))
			return 1;
		fail(c, ck->kw, "must be %s %s", ck->kind == CK_MINIMUM ? ">=" : ck->kind == CK_MAXIMUM
		     ? "<=" : ck->kind == CK_XMINIMUM ? ">" : "<", num_text(&ck->u.num, t1));
		return 0;
	case CK_MULTIPLE:
		if (!(in->type & T_NUM))
			return 1;
		if (ck->mul_k && in->num.kind == N_DBL && isfinite(in->num.d)) {
			/* x is a multiple of D * 10^-k when x * 10^k is an integer r
			 * that reads back to x (r / 10^k == x, both divisions
			 * correctly rounded) and that D divides; when no such r
			 * exists, x has more decimals than k and is no multiple */
			static const double p10[] = { 1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9,
						      1e10, 1e11, 1e12, 1e13, 1e14, 1e15 };
			double y = in->num.d * p10[ck->mul_k];
			if (fabs(y) < 4.5e15) {
				double rd = nearbyint(y);
				if (rd / p10[ck->mul_k] == in->num.d && (int64_t)rd % ck->mul_d == 0)
					return 1;
				goto not_multiple;
			}
		}
		if (mig_vnum_multiple(&in->num, &ck->u.num))
			return 1;
	not_multiple:
		fail(c, "multipleOf", "must be a multiple of %s", num_text(&ck->u.num, t1));
		return 0;
	case CK_MINLEN:
	case CK_MAXLEN: {
		if (!(in->type & T_STR))
			return 1;
		size_t k = ck->u.count <= in->slen / 4 && ck->kind == CK_MINLEN ? in->slen
			   : utf8_chars(in->str, in->slen);
		if (ck->kind == CK_MINLEN ? k >= ck->u.count : k <= ck->u.count)
			return 1;
		fail(c, ck->kw, "must be at %s %llu characters long (is %zu)",
		     ck->kind == CK_MINLEN ? "least" : "most", (unsigned long long)ck->u.count, k);
		return 0;
	}
	case CK_PATTERN:
		if (!(in->type & T_STR) || mig_vregex_match(ck->u.pat.re, in->str, in->slen))
			return 1;
		fail(c, "pattern", "must match the pattern /%s/", ck->u.pat.src);
		return 0;
	case CK_FORMAT:
		if (!(in->type & T_STR) || (in->is_date && ck->u.fmt.id == FMT_DATE_TIME) ||
		    mig_v_format_check_id(ck->u.fmt.id, in->str, in->slen))
			return 1;
		fail(c, "format", "must be a valid %s", ck->u.fmt.name);
		return 0;
	case CK_REQUIRED: {
		int ok = 1;
		if (!(in->type & T_OBJ))
			return 1;
		for (size_t i = 0; i < ck->u.req.n; i++) {
			if (json_object_get(v, ck->u.req.names[i]))
				continue;
			ok = 0;
			if (!collecting(c))
				return 0;
			size_t m = push_key(c, ck->u.req.names[i], strlen(ck->u.req.names[i]));
			fail(c, "required", "required property is missing");
			pop(c, m);
		}
		return ok;
	}
	case CK_MINPROPS:
	case CK_MAXPROPS: {
		if (!(in->type & T_OBJ))
			return 1;
		size_t k = json_object_size(v);
		if (ck->kind == CK_MINPROPS ? k >= ck->u.count : k <= ck->u.count)
			return 1;
		fail(c, ck->kw, "must have at %s %llu properties (has %zu)",
		     ck->kind == CK_MINPROPS ? "least" : "most", (unsigned long long)ck->u.count, k);
		return 0;
	}
	case CK_DEPREQ: {
		int ok = 1;
		if (!(in->type & T_OBJ))
			return 1;
		for (size_t i = 0; i < ck->u.depreq.n; i++) {
			const struct vdepreq *d = &ck->u.depreq.v[i];
			if (!json_object_get(v, d->name))
				continue;
			for (size_t j = 0; j < d->nreq; j++) {
				if (json_object_get(v, d->req[j]))
					continue;
				ok = 0;
				if (!collecting(c))
					return 0;
				size_t m = push_key(c, d->req[j], strlen(d->req[j]));
				fail(c, ck->kw, "required when \"%s\" is present", d->name);
				pop(c, m);
			}
		}
		return ok;
	}
	case CK_MINITEMS:
	case CK_MAXITEMS: {
		if (!(in->type & T_ARR))
			return 1;
		size_t k = json_array_size(v);
		if (ck->kind == CK_MINITEMS ? k >= ck->u.count : k <= ck->u.count)
			return 1;
		fail(c, ck->kw, "must have at %s %llu items (has %zu)",
		     ck->kind == CK_MINITEMS ? "least" : "most", (unsigned long long)ck->u.count, k);
		return 0;
	}
	case CK_UNIQUE: {
		if (!(in->type & T_ARR))
			return 1;
		size_t n = json_array_size(v);
		for (size_t i = 1; i < n; i++)
			for (size_t j = 0; j < i; j++)
				if (jequal(json_array_get(v, i), json_array_get(v, j))) {
					fail(c, "uniqueItems", "items %zu and %zu are equal", j, i);
					return 0;
				}
		return 1;
	}
	case CK_PROPS:
		return !(in->type & T_OBJ) || check_props(c, ck, v, a);
	case CK_PROPNAMES: {
		int ok = 1;
		if (!(in->type & T_OBJ))
			return 1;
		for (void *it = json_object_iter((json_t *)v); it;
		     it = json_object_iter_next((json_t *)v, it)) {
			const char *k = json_object_iter_key(it);
			size_t kl = json_object_iter_key_len(it);
			json_t *name = json_stringn_nocheck(k, kl);
			if (!name) {
				c->oom = 1;
				return 0;
			}
			c->quiet++;
			r = v_node(c, ck->u.sub, name, NULL, "propertyNames");
			c->quiet--;
			json_decref(name);
			if (r)
				continue;
			ok = 0;
			if (!collecting(c))
				return 0;
			size_t m = push_key(c, k, kl);
			fail(c, "propertyNames", "property name is not valid");
			pop(c, m);
		}
		return ok;
	}
	case CK_ITEMS:
		return !(in->type & T_ARR) || check_items(c, ck, v, a);
	case CK_CONTAINS:
		return !(in->type & T_ARR) || check_contains(c, ck, v, a);
	case CK_REF:
		return v_node(c, ck->u.ref.target, v, a, "$ref");
	case CK_DYNREF:
		return v_node(c, dynamic_target(c, ck), v, a, "$dynamicRef");
	case CK_ALLOF: {
		int ok = 1;
		for (size_t i = 0; i < ck->u.list.n; i++) {
			if (!v_node(c, ck->u.list.v[i], v, a, "allOf")) {
				ok = 0;
				if (!collecting(c))
					return 0;
			}
		}
		return ok;
	}
	case CK_ANYOF: {
		int ok = 0;
		c->quiet++;
		for (size_t i = 0; i < ck->u.list.n; i++) {
			if (v_branch(c, ck->u.list.v[i], v, a, "anyOf")) {
				ok = 1;
				if (!a)
					break;
			}
		}
		c->quiet--;
		if (!ok)
			fail(c, "anyOf", "must match at least one of the %zu schemas of anyOf",
			     ck->u.list.n);
		return ok;
	}
	case CK_ONEOF: {
		size_t nok = 0, first = 0, second = 0;
		struct ann keep;
		int have = 0;
		c->quiet++;
		for (size_t i = 0; i < ck->u.list.n && nok < 2; i++) {
			struct ann b;
			if (a && ann_init(&b, a->n)) {
				c->oom = 1;
				break;
			}
			if (v_node(c, ck->u.list.v[i], v, a ? &b : NULL, "oneOf")) {
				if (nok++ == 0) {
					first = i;
					if (a) {
						keep = b;
						if (b.bits == b.small)
							keep.bits = keep.small;
						have = 1;
						continue;
					}
				} else {
					second = i;
				}
			}
			if (a)
				ann_free(&b);
		}
		c->quiet--;
		if (nok == 1 && have)
			ann_or(a, &keep);
		if (have)
			ann_free(&keep);
		if (nok == 1)
			return 1;
		if (nok == 0)
			fail(c, "oneOf", "must match exactly one of the %zu schemas of oneOf "
			     "(matches none)", ck->u.list.n);
		else
			fail(c, "oneOf", "must match exactly one of the %zu schemas of oneOf "
			     "(matches %zu and %zu)", ck->u.list.n, first, second);
		return 0;
	}
	case CK_NOT:
		c->quiet++;
		r = v_node(c, ck->u.sub, v, NULL, "not");
		c->quiet--;
		if (!r)
			return 1;
		fail(c, "not", "must not match the schema of not");
		return 0;
	case CK_IF:
		if (!a && !ck->u.cond.then_ && !ck->u.cond.else_)
			return 1;
		c->quiet++;
		r = v_branch(c, ck->u.cond.cond, v, a, "if");
		c->quiet--;
		if (r)
			return !ck->u.cond.then_ || v_node(c, ck->u.cond.then_, v, a, "then");
		return !ck->u.cond.else_ || v_node(c, ck->u.cond.else_, v, a, "else");
	case CK_DEPSCHEMAS: {
		int ok = 1;
		if (!(in->type & T_OBJ))
			return 1;
		for (size_t i = 0; i < ck->u.depsch.n; i++) {
			if (!json_object_get(v, ck->u.depsch.v[i].name))
				continue;
			if (!v_node(c, ck->u.depsch.v[i].node, v, a, ck->kw)) {
				ok = 0;
				if (!collecting(c))
					return 0;
			}
		}
		return ok;
	}
	case CK_UNEVAL_PROPS: {
		int ok = 1;
		size_t i = 0;
		if (!(in->type & T_OBJ))
			return 1;
		for (void *it = json_object_iter((json_t *)v); it;
		     it = json_object_iter_next((json_t *)v, it), i++) {
			if (ann_get(a, i))
				continue;
			size_t m = push_key(c, json_object_iter_key(it), json_object_iter_key_len(it));
			r = v_node(c, ck->u.sub, json_object_iter_value(it), NULL,
				   "unevaluatedProperties");
			pop(c, m);
			if (r) {
				ann_set(a, i);
				continue;
			}
			ok = 0;
			if (!collecting(c))
				return 0;
		}
		return ok;
	}
	case CK_UNEVAL_ITEMS: {
		int ok = 1;
		if (!(in->type & T_ARR))
			return 1;
		for (size_t i = 0; i < json_array_size(v); i++) {
			if (ann_get(a, i))
				continue;
			size_t m = push_index(c, i);
			r = v_node(c, ck->u.sub, json_array_get(v, i), NULL, "unevaluatedItems");
			pop(c, m);
			if (r) {
				ann_set(a, i);
				continue;
			}
			ok = 0;
			if (!collecting(c))
				return 0;
		}
		return ok;
	}
	case CK_FALSE:
		fail(c, ck->kw, "no value is allowed here");
		return 0;
	}
	return 1;
}

static int v_node(struct ctx *c, const struct vnode *n, const json_t *v, struct ann *ev,
		  const char *kw)
{
	struct ann local, *a = ev;
	struct inst in;
	int ok = 1, pushed = 0;

	if (n->boolean >= 0) {
		if (n->boolean)
			return 1;
		if (kw && !strcmp(kw, "additionalProperties"))
			fail(c, kw, "property is not allowed");
		else if (kw && !strcmp(kw, "unevaluatedProperties"))
			fail(c, kw, "property is not allowed (not evaluated by any other keyword)");
		else if (kw && (!strcmp(kw, "unevaluatedItems") || !strcmp(kw, "items") ||
				!strcmp(kw, "additionalItems")))
			fail(c, kw, "item is not allowed");
		else
			fail(c, kw ? kw : "false", "no value is allowed here (false schema)");
		return 0;
	}
	if (c->depth >= MAX_DEPTH) {
		fail(c, kw ? kw : "$ref", "schema recursion deeper than %d levels", MAX_DEPTH);
		return 0;
	}
	c->depth++;
	if (c->nscope == 0 || c->scope[c->nscope - 1] != n->res) {
		c->scope[c->nscope++] = n->res;
		pushed = 1;
	}
	if (n->uneval) {
		/* unevaluated* sees only what this schema and its in-place
		 * subschemas evaluated: its own set, merged upward on success */
		if (ann_init(&local, inst_size(v))) {
			c->oom = 1;
			ok = 0;
			goto out;
		}
		a = &local;
	}
	classify(v, &in);
	for (size_t i = 0; i < n->nchecks; i++) {
		if (!check(c, &n->checks[i], v, &in, a)) {
			ok = 0;
			if (!collecting(c))
				break;
		}
	}
	if (n->uneval) {
		if (ok)
			ann_or(ev, &local);
		ann_free(&local);
	}
out:
	if (pushed)
		c->nscope--;
	c->depth--;
	return ok && !c->oom;
}

int mig_v_eval_root(struct mig_schema *s, struct vnode *root, const json_t *v, json_t *errors)
{
	struct ctx *c = s->ctx;
	int ok;

	/* one context per schema, kept: a record costs no allocation here */
	if (!c && !(c = s->ctx = malloc(sizeof *c)))
		return MIG_ENOMEM;
	memset(c, 0, offsetof(struct ctx, scope));
	c->s = s;
	c->errors = errors;
	c->nscope = 0;
	mig_buf_reset(&s->path);
	if (errors && mig_buf_reserve(&s->path, 64))
		return MIG_ENOMEM;
	if (s->path.data)
		s->path.data[0] = '\0';
	ok = v_node(c, root, v, NULL, NULL);
	if (c->oom)
		ok = MIG_ENOMEM;
	return ok;
}

int mig_schema_validate(struct mig_schema *s, const json_t *v, json_t **errors,
			struct mig_error *err)
{
	json_t *arr;
	int rc;

	if (errors)
		*errors = NULL;
	rc = mig_v_eval_root(s, s->root, v, NULL);
	if (rc == 1)
		return 1;
	if (rc < 0)
		return mig_error_set(err, MIG_ENOMEM, "out of memory validating a record");
	if (!errors)
		return 0;
	arr = json_array();
	if (!arr)
		return mig_error_set(err, MIG_ENOMEM, "out of memory");
	rc = mig_v_eval_root(s, s->root, v, arr);
	if (rc < 0) {
		json_decref(arr);
		return mig_error_set(err, MIG_ENOMEM, "out of memory validating a record");
	}
	if (json_array_size(arr) == 0)
		json_array_append_new(arr, json_pack("{s:s, s:s, s:s}", "path", "", "keyword", "schema",
						     "message", "does not match the schema"));
	*errors = arr;
	return 0;
}
