/*
 * decimal.c - exact comparison and divisibility of decimal literals.
 *
 * Why not doubles: {"$numberDecimal": "0.30"} must satisfy "maximum": 0.3
 * and "multipleOf": 0.01 exactly, and 0.0075 is a multiple of 0.0001 in
 * the decimal the user wrote, not in binary.  Numbers are compared as the
 * literals they were written as (a double as the shortest text that reads
 * back to it), which is what a reader of the schema means.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "schema.h"

#define MAXDIG 80

struct dnum {
	int neg;
	int special;          /* 0 finite, 1 NaN, 2 infinity */
	char d[MAXDIG];       /* significant digits, no leading or trailing zeros */
	int nd;               /* 0: the value is zero */
	long exp;             /* value = d * 10^exp */
};

/* Returns 0, or -1 when s is not a decimal literal. */
static int parse(const char *s, struct dnum *x)
{
	const char *p = s;
	long ex = 0, fracdigits = 0;
	int any = 0, dot = 0;

	memset(x, 0, sizeof *x);
	if (*p == '-' || *p == '+')
		x->neg = *p++ == '-';
	if (strcasecmp(p, "nan") == 0) {
		x->special = 1;
		return 0;
	}
	if (strcasecmp(p, "inf") == 0 || strcasecmp(p, "infinity") == 0) {
		x->special = 2;
		return 0;
	}
	for (; *p; p++) {
		if (*p == '.') {
			if (dot)
				return -1;
			dot = 1;
			continue;
		}
		if (*p < '0' || *p > '9')
			break;
		any = 1;
		if (dot)
			fracdigits++;
		if (*p == '0' && x->nd == 0)
			continue;       /* a leading zero */
		if (x->nd < MAXDIG)
			x->d[x->nd++] = *p;
		else
			ex++;           /* beyond any real literal: keep the magnitude */
	}
	if (!any)
		return -1;
	if (*p == 'e' || *p == 'E') {
		char *end;
		ex += strtol(p + 1, &end, 10);
		if (end == p + 1)
			return -1;
		p = end;
	}
	if (*p)
		return -1;
	x->exp = ex - fracdigits;
	while (x->nd > 0 && x->d[x->nd - 1] == '0') {
		x->nd--;
		x->exp++;
	}
	if (x->nd == 0) {
		x->exp = 0;
		x->neg = 0;         /* -0 == 0 */
	}
	return 0;
}

static int cmp_mag(const struct dnum *a, const struct dnum *b)
{
	if (a->nd == 0 || b->nd == 0)
		return (a->nd != 0) - (b->nd != 0);
	long ma = a->nd + a->exp, mb = b->nd + b->exp;
	if (ma != mb)
		return ma < mb ? -1 : 1;
	for (int i = 0; i < a->nd || i < b->nd; i++) {
		char ca = i < a->nd ? a->d[i] : '0', cb = i < b->nd ? b->d[i] : '0';
		if (ca != cb)
			return ca < cb ? -1 : 1;
	}
	return 0;
}

int mig_v_dec_cmp(const char *as, const char *bs)
{
	struct dnum a, b;
	int m;

	if (parse(as, &a) || parse(bs, &b) || a.special == 1 || b.special == 1)
		return 2;
	if (a.special == 2 || b.special == 2) {
		int va = a.special == 2 ? (a.neg ? -1 : 1) : 0;
		int vb = b.special == 2 ? (b.neg ? -1 : 1) : 0;
		if (va == vb && va)
			return 0;
		if (va || vb)
			return va > vb ? 1 : va < vb ? -1 : 0;
	}
	if (a.neg != b.neg && (a.nd || b.nd))
		return a.neg ? -1 : 1;
	m = cmp_mag(&a, &b);
	return a.neg ? -m : m;
}

int mig_v_dec_multiple(const char *as, const char *ms)
{
	struct dnum a, m;
	unsigned __int128 bm = 0, r = 0;
	long e, bzeros, azeros;

	if (parse(as, &a) || parse(ms, &m) || a.special || m.special || m.nd == 0)
		return -1;
	if (a.nd == 0)
		return 1;
	e = a.exp < m.exp ? a.exp : m.exp;
	azeros = a.exp - e;
	bzeros = m.exp - e;
	if (m.nd + bzeros > 37) {
		/* the divisor is beyond 128 bits: a smaller dividend is no multiple */
		if (a.nd + azeros < m.nd + bzeros)
			return 0;
		return -1;
	}
	if (azeros > 100000)
		return -1;
	for (int i = 0; i < m.nd; i++)
		bm = bm * 10 + (unsigned)(m.d[i] - '0');
	for (long i = 0; i < bzeros; i++)
		bm *= 10;
	for (int i = 0; i < a.nd; i++)
		r = (r * 10 + (unsigned)(a.d[i] - '0')) % bm;
	for (long i = 0; i < azeros && r; i++)
		r = (r * 10) % bm;
	return r == 0;
}

void mig_v_dec_from_double(char *out, double d)
{
	if (isnan(d)) {
		strcpy(out, "NaN");
		return;
	}
	if (isinf(d)) {
		strcpy(out, d < 0 ? "-Infinity" : "Infinity");
		return;
	}
	for (int prec = 15; prec <= 17; prec++) {
		snprintf(out, 32, "%.*g", prec, d);
		if (prec == 17 || strtod(out, NULL) == d)
			return;
	}
}

void mig_v_dec_from_int(char *out, int64_t i)
{
	snprintf(out, 32, "%lld", (long long)i);
}

const char *mig_vnum_text(const struct vnum *n, char *out)
{
	switch (n->kind) {
	case N_INT: mig_v_dec_from_int(out, n->i); return out;
	case N_DBL: mig_v_dec_from_double(out, n->d); return out;
	case N_DEC: return n->dec;
	default: return "NaN";
	}
}

int mig_vnum_cmp(const struct vnum *a, const struct vnum *b)
{
	char ta[32], tb[32];

	if (a->kind == N_NAN || b->kind == N_NAN)
		return 2;
	if (a->kind == N_INT && b->kind == N_INT)
		return a->i < b->i ? -1 : a->i > b->i;
	if (a->kind == N_DEC || b->kind == N_DEC)
		return mig_v_dec_cmp(mig_vnum_text(a, ta), mig_vnum_text(b, tb));
	/* long double holds every int64 and every double exactly (x86-64) */
	long double x = a->kind == N_INT ? (long double)a->i : (long double)a->d;
	long double y = b->kind == N_INT ? (long double)b->i : (long double)b->d;
	if (isnan(x) || isnan(y))
		return 2;
	return x < y ? -1 : x > y;
}

int mig_vnum_multiple(const struct vnum *a, const struct vnum *m)
{
	char ta[32], tm[32];
	int r;

	if (a->kind == N_NAN || m->kind == N_NAN)
		return 0;
	if (a->kind == N_INT && m->kind == N_INT) {
		if (m->i == 0)
			return 0;
		if (m->i == -1)
			return 1;
		return a->i % m->i == 0;
	}
	r = mig_v_dec_multiple(mig_vnum_text(a, ta), mig_vnum_text(m, tm));
	if (r >= 0)
		return r;
	/* beyond exact reach: the quotient in binary floating point */
	double x = a->kind == N_INT ? (double)a->i : a->kind == N_DBL ? a->d : strtod(a->dec, NULL);
	double y = m->kind == N_INT ? (double)m->i : m->kind == N_DBL ? m->d : strtod(m->dec, NULL);
	double q = x / y;
	return isfinite(q) && q == floor(q);
}
