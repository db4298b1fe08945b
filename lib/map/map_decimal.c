/*
 * decimal.c - the decimal arithmetic of mig-map: {"$numberDecimal"} values
 * as digit strings.  Addition, subtraction and multiplication are exact
 * up to Decimal128's 34 significant digits (a longer result is rounded
 * half away from zero); division gives 34 significant digits with the
 * trailing zeros dropped down to the dividend's scale less the divisor's.
 * Schoolbook algorithms on at most a few hundred digits: simple and fast
 * enough for values of 34 digits.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mig/value.h"
#include "map/map_int.h"

#define EXP_MIN (-6176)
#define EXP_MAX 6111

static void strip_leading(struct dec *a)
{
	int k = 0;
	while (k < a->n - 1 && a->d[k] == 0)
		k++;
	if (k) {
		memmove(a->d, a->d + k, (size_t)(a->n - k));
		a->n -= k;
	}
	if (a->n == 1 && a->d[0] == 0)
		a->neg = 0;
}

static int is_zero(const struct dec *a)
{
	return a->n == 1 && a->d[0] == 0;
}

/* Drops the last k digits, rounding half away from zero. */
static void drop_digits(struct dec *a, int k)
{
	int up;

	if (k <= 0)
		return;
	if (k > a->n) {
		a->d[0] = 0;
		a->n = 1;
		a->exp += k;
		a->neg = 0;
		return;
	}
	up = a->d[a->n - k] >= 5;
	a->n -= k;
	a->exp += k;
	if (a->n == 0) {
		a->d[0] = (unsigned char)up;
		a->n = 1;
		if (!up)
			a->neg = 0;
		return;
	}
	for (int i = a->n - 1; up && i >= 0; i--) {
		if (a->d[i] == 9) {
			a->d[i] = 0;
		} else {
			a->d[i]++;
			up = 0;
		}
	}
	if (up) {
		/* 999 -> 1000: one more digit, then drop one zero */
		memmove(a->d + 1, a->d, (size_t)a->n);
		a->d[0] = 1;
		a->n++;
		if (a->n > DEC_DIGITS) {
			a->n--;
			a->exp++;
		}
	}
}

/* To 34 significant digits; then checks the exponent. */
static int finish(struct dec *a)
{
	strip_leading(a);
	if (a->n > DEC_DIGITS)
		drop_digits(a, a->n - DEC_DIGITS);
	if (is_zero(a)) {
		if (a->exp < EXP_MIN)
			a->exp = EXP_MIN;
		if (a->exp > EXP_MAX)
			a->exp = EXP_MAX;
		return 0;
	}
	if (a->exp < EXP_MIN) {
		drop_digits(a, EXP_MIN - a->exp);
		strip_leading(a);
		if (is_zero(a))
			a->exp = EXP_MIN;
	}
	if (a->exp > EXP_MAX) {
		/* clamp: 1E+6112 is 10E+6111 when digits allow */
		int k = a->exp - EXP_MAX;
		if (a->n + k > DEC_DIGITS)
			return -1;
		memset(a->d + a->n, 0, (size_t)k);
		a->n += k;
		a->exp = EXP_MAX;
	}
	return 0;
}

int map_dec_parse(struct dec *o, const char *s, size_t len)
{
	size_t i = 0;
	int ndig = 0, frac = 0, seen_point = 0, any = 0;
	long e = 0;

	memset(o, 0, sizeof *o - sizeof o->d);
	if (i < len && (s[i] == '-' || s[i] == '+'))
		o->neg = s[i++] == '-';
	if ((len - i == 3 && strncmp(s + i, "NaN", 3) == 0) ||
	    (len - i == 8 && strncmp(s + i, "Infinity", 8) == 0) ||
	    (len - i == 3 && strncmp(s + i, "Inf", 3) == 0))
		return -2;
	for (; i < len; i++) {
		char c = s[i];
		if (c >= '0' && c <= '9') {
			any = 1;
			if (ndig == 0 && c == '0') {
				if (seen_point)
					frac++;
				continue;
			}
			if (ndig >= DEC_MAX - 8) {
				/* beyond any precision we keep: count as exponent */
				if (!seen_point)
					e++;
				continue;
			}
			o->d[ndig++] = (unsigned char)(c - '0');
			if (seen_point)
				frac++;
		} else if (c == '.' && !seen_point) {
			seen_point = 1;
		} else {
			break;
		}
	}
	if (!any)
		return -1;
	if (i < len && (s[i] == 'e' || s[i] == 'E')) {
		int eneg = 0, edig = 0;
		i++;
		if (i < len && (s[i] == '-' || s[i] == '+'))
			eneg = s[i++] == '-';
		for (; i < len && s[i] >= '0' && s[i] <= '9'; i++, edig++)
			if (e < 100000 && e > -100000)
				e = e * 10 + (eneg ? -(s[i] - '0') : s[i] - '0');
		if (!edig)
			return -1;
	}
	if (i != len)
		return -1;
	if (ndig == 0) {
		o->d[0] = 0;
		ndig = 1;
	}
	o->n = ndig;
	if (e > 100000 || e < -100000)
		return -1;
	o->exp = (int)e - frac;
	return finish(o) ? -1 : 0;
}

void map_dec_from_i64(struct dec *o, int64_t v)
{
	char buf[32];
	int n = snprintf(buf, sizeof buf, "%lld", (long long)v);
	map_dec_parse(o, buf, (size_t)n);
}

void map_dec_from_double(struct dec *o, double d)
{
	char buf[40];
	int n = 0;
	for (int p = 15; p <= 17; p++) {
		n = snprintf(buf, sizeof buf, "%.*g", p, d);
		if (strtod(buf, NULL) == d)
			break;
	}
	map_dec_parse(o, buf, (size_t)n);
}

/* |a| vs |b| for digit arrays aligned to the same exponent. */
static int mag_cmp_aligned(const unsigned char *a, int na, const unsigned char *b, int nb)
{
	if (na != nb)
		return na < nb ? -1 : 1;
	for (int i = 0; i < na; i++)
		if (a[i] != b[i])
			return a[i] < b[i] ? -1 : 1;
	return 0;
}

/* Copies a's digits shifted left by k zeros into buf (cap DEC_MAX); the
 * number of digits, or -1 when too wide. */
static int widen(unsigned char *buf, const struct dec *a, int k)
{
	if (a->n + k > DEC_MAX)
		return -1;
	memcpy(buf, a->d, (size_t)a->n);
	memset(buf + a->n, 0, (size_t)k);
	return a->n + k;
}

int map_dec_add(struct dec *o, const struct dec *a0, const struct dec *b0, int sub)
{
	struct dec a = *a0, b = *b0, r;
	unsigned char x[DEC_MAX], y[DEC_MAX];
	int nx, ny, e, bneg = b.neg ^ (sub && !is_zero(&b));

	/* an operand far below the other's precision only rounds it */
	if (!is_zero(&a) && !is_zero(&b)) {
		int ta = a.exp + a.n, tb = b.exp + b.n;
		if (ta - b.exp > DEC_MAX - 4 && tb < ta - DEC_DIGITS - 2)
			b.exp = a.exp - 1, b.n = 1, b.d[0] = 1;
		else if (tb - a.exp > DEC_MAX - 4 && ta < tb - DEC_DIGITS - 2)
			a.exp = b.exp - 1, a.n = 1, a.d[0] = 1;
	}
	e = a.exp < b.exp ? a.exp : b.exp;
	if (is_zero(&a) && a.exp - e > DEC_MAX / 2)
		a.exp = e;
	if (is_zero(&b) && b.exp - e > DEC_MAX / 2)
		b.exp = e;
	nx = widen(x, &a, a.exp - e);
	ny = widen(y, &b, b.exp - e);
	if (nx < 0 || ny < 0)
		return -1;
	memset(&r, 0, sizeof r - sizeof r.d);
	r.exp = e;
	/* right-align into r.d with one spare digit for the carry */
	int n = (nx > ny ? nx : ny) + 1;
	if (n > DEC_MAX)
		return -1;
	unsigned char X[DEC_MAX] = { 0 }, Y[DEC_MAX] = { 0 };
	memcpy(X + n - nx, x, (size_t)nx);
	memcpy(Y + n - ny, y, (size_t)ny);
	if (a.neg == bneg) {
		int carry = 0;
		for (int i = n - 1; i >= 0; i--) {
			int s = X[i] + Y[i] + carry;
			r.d[i] = (unsigned char)(s % 10);
			carry = s / 10;
		}
		r.neg = a.neg;
	} else {
		const unsigned char *P = X, *Q = Y;
		r.neg = a.neg;
		if (mag_cmp_aligned(X, n, Y, n) < 0) {
			P = Y;
			Q = X;
			r.neg = bneg;
		}
		int borrow = 0;
		for (int i = n - 1; i >= 0; i--) {
			int s = P[i] - Q[i] - borrow;
			borrow = s < 0;
			r.d[i] = (unsigned char)(s + (borrow ? 10 : 0));
		}
	}
	r.n = n;
	if (finish(&r))
		return -1;
	*o = r;
	return 0;
}

int map_dec_mul(struct dec *o, const struct dec *a, const struct dec *b)
{
	struct dec r;
	int acc[2 * DEC_MAX] = { 0 };
	int n = a->n + b->n;

	if (n > DEC_MAX)
		return -1;
	for (int i = a->n - 1; i >= 0; i--)
		for (int j = b->n - 1; j >= 0; j--)
			acc[i + j + 1] += a->d[i] * b->d[j];
	for (int k = n - 1; k > 0; k--) {
		acc[k - 1] += acc[k] / 10;
		acc[k] %= 10;
	}
	memset(&r, 0, sizeof r - sizeof r.d);
	for (int k = 0; k < n; k++)
		r.d[k] = (unsigned char)acc[k];
	r.n = n;
	r.neg = a->neg ^ b->neg;
	r.exp = a->exp + b->exp;
	if (finish(&r))
		return -1;
	*o = r;
	return 0;
}

/* rem (nr digits, may have leading zeros) minus q times... : long division
 * of the digit string num by den, both integers.  q gets the quotient's
 * digits (nq of them, leading zeros possible); rem the remainder. */
static void long_div(const unsigned char *num, int nn, const unsigned char *den, int nd,
		     unsigned char *q, unsigned char *rem, int *nrem)
{
	int nr = 0;

	for (int i = 0; i < nn; i++) {
		/* rem = rem * 10 + num[i] */
		rem[nr++] = num[i];
		/* strip leading zeros of rem */
		int k = 0;
		while (k < nr - 1 && rem[k] == 0)
			k++;
		if (k) {
			memmove(rem, rem + k, (size_t)(nr - k));
			nr -= k;
		}
		int digit = 0;
		while (mag_cmp_aligned(rem, (nr == 1 && rem[0] == 0) ? 0 : nr, den, nd) >= 0) {
			/* rem -= den, right-aligned */
			int borrow = 0;
			for (int a = nr - 1, b = nd - 1; a >= 0; a--, b--) {
				int s = rem[a] - (b >= 0 ? den[b] : 0) - borrow;
				borrow = s < 0;
				rem[a] = (unsigned char)(s + (borrow ? 10 : 0));
			}
			k = 0;
			while (k < nr - 1 && rem[k] == 0)
				k++;
			if (k) {
				memmove(rem, rem + k, (size_t)(nr - k));
				nr -= k;
			}
			digit++;
		}
		q[i] = (unsigned char)digit;
	}
	*nrem = nr;
}

int map_dec_div(struct dec *o, const struct dec *a, const struct dec *b)
{
	struct dec r;
	unsigned char num[DEC_MAX], q[DEC_MAX], rem[DEC_MAX + 2];
	int k, nn, nrem, pref;

	if (is_zero(b))
		return -2;
	/* enough digits for 35 significant ones in the quotient */
	k = DEC_DIGITS + 2 + b->n - a->n;
	if (k < 0)
		k = 0;
	nn = widen(num, a, k);
	if (nn < 0)
		return -1;
	long_div(num, nn, b->d, b->n, q, rem, &nrem);
	memset(&r, 0, sizeof r - sizeof r.d);
	memcpy(r.d, q, (size_t)nn);
	r.n = nn;
	r.exp = a->exp - k - b->exp;
	r.neg = a->neg ^ b->neg;
	if (finish(&r))
		return -1;
	/* drop trailing zeros down to the preferred exponent */
	pref = a->exp - b->exp;
	while (r.n > 1 && r.exp < pref && r.d[r.n - 1] == 0) {
		r.n--;
		r.exp++;
	}
	if (is_zero(&r))
		r.exp = pref < r.exp ? r.exp : pref, r.neg = 0;
	*o = r;
	return 0;
}

int map_dec_mod(struct dec *o, const struct dec *a, const struct dec *b)
{
	struct dec r;
	unsigned char x[DEC_MAX], y[DEC_MAX], q[DEC_MAX], rem[DEC_MAX + 2];
	int e, nx, ny, nrem;

	if (is_zero(b))
		return -2;
	e = a->exp < b->exp ? a->exp : b->exp;
	nx = widen(x, a, a->exp - e);
	ny = widen(y, b, b->exp - e);
	if (nx < 0 || ny < 0)
		return -1;
	/* strip leading zeros of the divisor (a zero-padded 0 cannot happen) */
	long_div(x, nx, y, ny, q, rem, &nrem);
	memset(&r, 0, sizeof r - sizeof r.d);
	memcpy(r.d, rem, (size_t)nrem);
	r.n = nrem;
	r.exp = e;
	r.neg = a->neg;
	if (finish(&r))
		return -1;
	*o = r;
	return 0;
}

int map_dec_cmp(const struct dec *a, const struct dec *b)
{
	struct dec d;
	if (map_dec_add(&d, a, b, 1)) {
		/* too far apart to subtract: compare by magnitude order */
		if (a->neg != b->neg)
			return a->neg ? -1 : 1;
		int ta = a->exp + a->n, tb = b->exp + b->n;
		int c = ta < tb ? -1 : ta > tb;
		return a->neg ? -c : c;
	}
	if (is_zero(&d))
		return 0;
	return d.neg ? -1 : 1;
}

int map_dec_quantize(struct dec *o, int scale)
{
	int want = -scale;

	if (o->exp < want) {
		drop_digits(o, want - o->exp);
		strip_leading(o);
	} else if (o->exp > want) {
		int k = o->exp - want;
		if (is_zero(o)) {
			o->exp = want;
		} else {
			if (o->n + k > DEC_DIGITS)
				return -1;
			memset(o->d + o->n, 0, (size_t)k);
			o->n += k;
			o->exp = want;
		}
	}
	return finish(o);
}

int map_dec_to_i64(const struct dec *a, int64_t *out)
{
	uint64_t u = 0;
	int n = a->n + (a->exp < 0 ? a->exp : 0);

	if (a->exp > 0 && !is_zero(a) && a->n + a->exp > 19)
		return -1;
	for (int i = 0; i < n; i++) {
		if (u > (UINT64_MAX - 9) / 10)
			return -1;
		u = u * 10 + a->d[i];
	}
	for (int i = 0; i < a->exp && !is_zero(a); i++) {
		if (u > UINT64_MAX / 10)
			return -1;
		u *= 10;
	}
	if (a->neg ? u > (uint64_t)INT64_MAX + 1 : u > (uint64_t)INT64_MAX)
		return -1;
	*out = a->neg ? (int64_t)(0 - u) : (int64_t)u;
	return 0;
}

void map_dec_format(char *buf, const struct dec *a)
{
	char *p = buf;
	int n = a->n, e = a->exp;

	if (a->neg)
		*p++ = '-';
	if (e == 0) {
		for (int i = 0; i < n; i++)
			*p++ = (char)('0' + a->d[i]);
	} else if (e < 0 && -e < n) {
		for (int i = 0; i < n; i++) {
			if (i == n + e)
				*p++ = '.';
			*p++ = (char)('0' + a->d[i]);
		}
	} else if (e < 0 && -e - n <= 30) {
		*p++ = '0';
		*p++ = '.';
		for (int i = 0; i < -e - n; i++)
			*p++ = '0';
		for (int i = 0; i < n; i++)
			*p++ = (char)('0' + a->d[i]);
	} else {
		for (int i = 0; i < n; i++)
			*p++ = (char)('0' + a->d[i]);
		p += sprintf(p, "E%+d", e);
	}
	*p = '\0';
}

double map_dec_to_double(const struct dec *a)
{
	char buf[300];
	map_dec_format(buf, a);
	return strtod(buf, NULL);
}

int map_dec_of(struct dec *o, const json_t *v)
{
	const char *s;
	int64_t i;
	double d;

	switch (mig_value_type(v)) {
	case MIG_V_INT:
		mig_value_get_int(v, &i, NULL);
		map_dec_from_i64(o, i);
		return 0;
	case MIG_V_DOUBLE:
		mig_value_get_double(v, &d, NULL);
		if (!isfinite(d))
			return -2;
		map_dec_from_double(o, d);
		return 0;
	case MIG_V_DECIMAL:
		mig_value_get_decimal(v, &s, NULL);
		return map_dec_parse(o, s, strlen(s));
	default:
		return -1;
	}
}

json_t *map_dec_json(const struct dec *a)
{
	char buf[300];
	map_dec_format(buf, a);
	return mig_value_decimal(buf);
}
