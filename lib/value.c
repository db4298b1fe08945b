/* value.c - Extended JSON v2 wrappers on json_t: classify, check, print,
 * compare, and convert to and from BSON. */
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bson/bson.h>

#include "mig/value.h"

#define DAY_US INT64_C(86400000000)
#define Y10K_US INT64_C(253402300800000000)   /* 10000-01-01T00:00:00Z */
#define MAX_DEPTH 2048                        /* as Jansson's parser */

/* The keys that make an object a wrapper. */
enum wkey {
	K_NONE, K_OID, K_SYMBOL, K_INT, K_LONG, K_DOUBLE, K_DECIMAL, K_BINARY,
	K_UUID, K_CODE, K_SCOPE, K_TIMESTAMP, K_REGEX, K_DBPOINTER, K_DATE,
	K_MINKEY, K_MAXKEY, K_UNDEFINED, K_COUNT
};

static const struct {
	const char *s;
	size_t n;
} wkeys[K_COUNT] = {
	[K_NONE] = {"", 0},
	[K_OID] = {"$oid", 4},
	[K_SYMBOL] = {"$symbol", 7},
	[K_INT] = {"$numberInt", 10},
	[K_LONG] = {"$numberLong", 11},
	[K_DOUBLE] = {"$numberDouble", 13},
	[K_DECIMAL] = {"$numberDecimal", 14},
	[K_BINARY] = {"$binary", 7},
	[K_UUID] = {"$uuid", 5},
	[K_CODE] = {"$code", 5},
	[K_SCOPE] = {"$scope", 6},
	[K_TIMESTAMP] = {"$timestamp", 10},
	[K_REGEX] = {"$regularExpression", 18},
	[K_DBPOINTER] = {"$dbPointer", 10},
	[K_DATE] = {"$date", 5},
	[K_MINKEY] = {"$minKey", 7},
	[K_MAXKEY] = {"$maxKey", 7},
	[K_UNDEFINED] = {"$undefined", 10},
};

/* What classify() found: the type plus the decoded payload, so that the
 * printer and the converters do not parse a wrapper twice. */
struct wrap {
	enum wkey key;       /* K_NONE for a plain value */
	const char *why;     /* MIG_V_INVALID: what is wrong */
	const json_t *p;     /* payload: the string of most wrappers, base64, $ref, pattern */
	const json_t *q;     /* $scope, options, subType, the hex of $dbPointer's $id */
	int64_t i;           /* int, date (us), binary subtype, timestamp t */
	int64_t j;           /* timestamp i */
	double d;
};

/* ---- small helpers ---- */

static int is_hex(const char *s, size_t n)
{
	for (size_t k = 0; k < n; k++)
		if (mig_hex_digit((unsigned char)s[k]) < 0)
			return 0;
	return 1;
}

static void hex_decode(uint8_t *out, const char *s, size_t n)
{
	for (size_t k = 0; k < n; k++)
		out[k] = (uint8_t)(mig_hex_digit((unsigned char)s[2 * k]) << 4 |
				   mig_hex_digit((unsigned char)s[2 * k + 1]));
}

static void hex_encode(char *out, const uint8_t *p, size_t n)
{
	static const char hx[] = "0123456789abcdef";
	for (size_t k = 0; k < n; k++) {
		out[2 * k] = hx[p[k] >> 4];
		out[2 * k + 1] = hx[p[k] & 15];
	}
}

/* A json string without NUL bytes (BSON C strings cannot hold them). */
static int is_cstr(const json_t *s)
{
	return json_is_string(s) && strlen(json_string_value(s)) == json_string_length(s);
}

static int str_eq(const json_t *a, const json_t *b)
{
	size_t n = json_string_length(a);
	return n == json_string_length(b) &&
	       memcmp(json_string_value(a), json_string_value(b), n) == 0;
}

static int bytes_cmp(const void *a, size_t an, const void *b, size_t bn)
{
	int c = memcmp(a, b, an < bn ? an : bn);
	if (c)
		return c < 0 ? -1 : 1;
	return (an > bn) - (an < bn);
}

static int str_cmp(const json_t *a, const json_t *b)
{
	return bytes_cmp(json_string_value(a), json_string_length(a),
			 json_string_value(b), json_string_length(b));
}

/* Writes v's decimal digits ending just before end; returns the start. */
static char *fmt_i64(char *end, int64_t v)
{
	static const char pairs[] =
		"00010203040506070809101112131415161718192021222324"
		"25262728293031323334353637383940414243444546474849"
		"50515253545556575859606162636465666768697071727374"
		"75767778798081828384858687888990919293949596979899";
	uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
	char *p = end;
	while (u >= 100) {
		unsigned r = (unsigned)(u % 100);
		u /= 100;
		*--p = pairs[2 * r + 1];
		*--p = pairs[2 * r];
	}
	if (u >= 10) {
		*--p = pairs[2 * u + 1];
		*--p = pairs[2 * u];
	} else {
		*--p = (char)('0' + u);
	}
	if (v < 0)
		*--p = '-';
	return p;
}

/* Optional '-', then decimal digits, within [lo, hi]. */
static int parse_int(const json_t *s, int64_t lo, int64_t hi, int64_t *out)
{
	if (!json_is_string(s))
		return -1;
	const char *p = json_string_value(s), *e = p + json_string_length(s);
	int neg = p < e && *p == '-';
	uint64_t u = 0, lim = neg ? (uint64_t)INT64_MAX + 1 : INT64_MAX;
	p += neg;
	if (p == e)
		return -1;
	for (; p < e; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		unsigned dg = (unsigned)(*p - '0');
		if (u > (lim - dg) / 10)
			return -1;
		u = u * 10 + dg;
	}
	int64_t v = neg ? (int64_t)(0 - u) : (int64_t)u;
	if (v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

/* A $numberDouble string: a decimal number, "Infinity", "-Infinity" or
 * "NaN".  strtod alone would also take hex, "inf", spaces. */
static int parse_double(const json_t *s, double *out)
{
	if (!is_cstr(s))
		return -1;
	const char *p = json_string_value(s);
	size_t n = json_string_length(s);
	if (strcmp(p, "NaN") == 0) {
		*out = NAN;
		return 0;
	}
	if (strcmp(p, "Infinity") == 0 || strcmp(p, "-Infinity") == 0) {
		*out = *p == '-' ? -INFINITY : INFINITY;
		return 0;
	}
	if (n == 0 || strspn(p, "0123456789.eE+-") != n || !strpbrk(p, "0123456789"))
		return -1;
	char *end;
	double d = strtod(p, &end);
	if (end != p + n || isinf(d))
		return -1;
	*out = d;
	return 0;
}

/* ---- base64 ---- */

static const char b64chars[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int b64val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* Writes 4 * ceil(n / 3) characters, no NUL. */
static size_t b64_encode(char *out, const uint8_t *p, size_t n)
{
	char *o = out;
	size_t k = 0;
	for (; k + 3 <= n; k += 3) {
		uint32_t q = (uint32_t)p[k] << 16 | (uint32_t)p[k + 1] << 8 | p[k + 2];
		*o++ = b64chars[q >> 18];
		*o++ = b64chars[q >> 12 & 63];
		*o++ = b64chars[q >> 6 & 63];
		*o++ = b64chars[q & 63];
	}
	if (k < n) {
		uint32_t q = (uint32_t)p[k] << 16 | (k + 1 < n ? (uint32_t)p[k + 1] << 8 : 0);
		*o++ = b64chars[q >> 18];
		*o++ = b64chars[q >> 12 & 63];
		*o++ = k + 1 < n ? b64chars[q >> 6 & 63] : '=';
		*o++ = '=';
	}
	return (size_t)(o - out);
}

/* Strict padded base64; out may be NULL to validate only. */
static int b64_decode(const char *s, size_t len, uint8_t *out, size_t *out_len)
{
	size_t o = 0;
	if (len % 4)
		return -1;
	for (size_t k = 0; k < len; k += 4) {
		int a = b64val((unsigned char)s[k]), b = b64val((unsigned char)s[k + 1]);
		int c = b64val((unsigned char)s[k + 2]), d = b64val((unsigned char)s[k + 3]);
		if (a < 0 || b < 0)
			return -1;
		uint32_t q = (uint32_t)a << 18 | (uint32_t)b << 12;
		if (c < 0 || d < 0) {
			if (k + 4 != len || s[k + 3] != '=' || (c < 0 && s[k + 2] != '='))
				return -1;
			if (c >= 0)
				q |= (uint32_t)c << 6;
			if (out) {
				out[o] = (uint8_t)(q >> 16);
				if (c >= 0)
					out[o + 1] = (uint8_t)(q >> 8);
			}
			o += c >= 0 ? 2 : 1;
			break;
		}
		q |= (uint32_t)c << 6 | (uint32_t)d;
		if (out) {
			out[o] = (uint8_t)(q >> 16);
			out[o + 1] = (uint8_t)(q >> 8);
			out[o + 2] = (uint8_t)q;
		}
		o += 3;
	}
	if (out_len)
		*out_len = o;
	return 0;
}

char *mig_base64_encode(const void *p, size_t n)
{
	if (n > (SIZE_MAX - 8) / 4 * 3)
		return NULL;
	char *s = malloc((n + 2) / 3 * 4 + 1);
	if (!s)
		return NULL;
	s[b64_encode(s, p, n)] = '\0';
	return s;
}

int mig_base64_decode(const char *s, size_t len, uint8_t **out, size_t *out_len)
{
	*out = NULL;
	*out_len = 0;
	uint8_t *p = malloc(len / 4 * 3 + 1);
	if (!p)
		return MIG_ENOMEM;
	if (b64_decode(s, len, p, out_len)) {
		free(p);
		return MIG_EDATA;
	}
	*out = p;
	return 0;
}

/* ---- dates ---- */

static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static unsigned month_days(int64_t y, unsigned m)
{
	static const unsigned char md[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	if (m == 2 && y % 4 == 0 && (y % 100 != 0 || y % 400 == 0))
		return 29;
	return md[m - 1];
}

/* Exactly n digits. */
static int digits(const char **pp, const char *e, int n, unsigned *out)
{
	const char *p = *pp;
	unsigned v = 0;
	if (e - p < n)
		return -1;
	for (int k = 0; k < n; k++) {
		if (p[k] < '0' || p[k] > '9')
			return -1;
		v = v * 10 + (unsigned)(p[k] - '0');
	}
	*pp = p + n;
	*out = v;
	return 0;
}

int mig_date_parse(const char *s, size_t len, int64_t *out_us, struct mig_error *err)
{
	const char *p = s, *e = s + len;
	unsigned y, mo, d, h = 0, mi = 0, sec = 0, oh = 0, om = 0;
	int64_t sign = 1, osign = 0, frac = 0, secs, us;

	if (p < e && (*p == '+' || *p == '-')) {
		/* expanded years, as mig_date_format writes them */
		int n = 0;
		sign = *p++ == '-' ? -1 : 1;
		while (n < 6 && p + n < e && p[n] >= '0' && p[n] <= '9')
			n++;
		if (n < 4 || digits(&p, e, n, &y))
			goto bad;
	} else if (digits(&p, e, 4, &y)) {
		goto bad;
	}
	if (p == e || *p++ != '-' || digits(&p, e, 2, &mo) ||
	    p == e || *p++ != '-' || digits(&p, e, 2, &d))
		goto bad;
	if (mo < 1 || mo > 12 || d < 1 || d > month_days(sign * y, mo))
		goto bad;
	if (p < e) {
		if (*p != 'T' && *p != 't' && *p != ' ')
			goto bad;
		p++;
		if (digits(&p, e, 2, &h) || p == e || *p++ != ':' || digits(&p, e, 2, &mi))
			goto bad;
		if (p < e && *p == ':') {
			p++;
			if (digits(&p, e, 2, &sec))
				goto bad;
			if (p < e && (*p == '.' || *p == ',')) {
				int n = 0;
				for (p++; p < e && *p >= '0' && *p <= '9'; p++, n++)
					if (n < 6)
						frac = frac * 10 + (*p - '0');
				if (n == 0 || n > 9)
					goto bad;
				for (; n < 6; n++)
					frac *= 10;
			}
		}
		if (h > 23 || mi > 59 || sec > 59)
			goto bad;
		if (p < e && (*p == 'Z' || *p == 'z')) {
			p++;
		} else if (p < e && (*p == '+' || *p == '-')) {
			osign = *p++ == '-' ? -1 : 1;
			if (digits(&p, e, 2, &oh))
				goto bad;
			if (p < e && *p == ':')
				p++;
			if (p < e && digits(&p, e, 2, &om))
				goto bad;
			if (oh > 23 || om > 59)
				goto bad;
		}
		if (p != e)
			goto bad;
	}
	secs = days_from_civil(sign * y, mo, d) * 86400 + h * 3600 + mi * 60 + sec -
	       osign * (oh * 3600 + om * 60);
	if (secs < 0 && frac) {   /* so that INT64_MIN itself is in reach */
		secs++;
		frac -= 1000000;
	}
	if (__builtin_mul_overflow(secs, 1000000, &us) || __builtin_add_overflow(us, frac, &us))
		goto bad;
	*out_us = us;
	return 0;
bad:
	return mig_error_set(err, MIG_EDATA, "not an ISO-8601 date-time: \"%.*s\"",
			     (int)(len > 64 ? 64 : len), s);
}

static char *put2(char *p, unsigned v)
{
	p[0] = (char)('0' + v / 10);
	p[1] = (char)('0' + v % 10);
	return p + 2;
}

int mig_date_format(char *out, int64_t us)
{
	int64_t days = us / DAY_US, rem = us % DAY_US, y;
	unsigned m, d;
	char *p = out;

	if (rem < 0) {
		rem += DAY_US;
		days--;
	}
	civil_from_days(days, &y, &m, &d);
	if (y >= 0 && y <= 9999) {
		p = put2(put2(p, (unsigned)(y / 100)), (unsigned)(y % 100));
	} else {
		/* int64 microseconds stay within +-292278 years: six digits */
		uint64_t a = y < 0 ? (uint64_t)-y : (uint64_t)y;
		*p++ = y < 0 ? '-' : '+';
		p = put2(put2(put2(p, (unsigned)(a / 10000)), (unsigned)(a / 100 % 100)),
			 (unsigned)(a % 100));
	}
	*p++ = '-';
	p = put2(p, m);
	*p++ = '-';
	p = put2(p, d);
	*p++ = 'T';
	unsigned s = (unsigned)(rem / 1000000), f = (unsigned)(rem % 1000000);
	p = put2(p, s / 3600);
	*p++ = ':';
	p = put2(p, s / 60 % 60);
	*p++ = ':';
	p = put2(p, s % 60);
	*p++ = '.';
	if (f % 1000 == 0) {
		f /= 1000;
		*p++ = (char)('0' + f / 100);
		p = put2(p, f % 100);
	} else {
		p = put2(put2(put2(p, f / 10000), f / 100 % 100), f % 100);
	}
	*p++ = 'Z';
	*p = '\0';
	return (int)(p - out);
}

/* ---- classification ---- */

static enum wkey wkey_of(const char *k, size_t n)
{
	if (n < 4 || k[0] != '$')
		return K_NONE;
	for (int i = 1; i < K_COUNT; i++)
		if (wkeys[i].n == n && memcmp(wkeys[i].s, k, n) == 0)
			return (enum wkey)i;
	return K_NONE;
}

static enum mig_vtype invalid(struct wrap *w, const char *why)
{
	w->why = why;
	return MIG_V_INVALID;
}

/* o is an object of exactly the members a and b. */
static int members2(const json_t *o, const char *a, const char *b,
		    const json_t **pa, const json_t **pb)
{
	return json_is_object(o) && json_object_size(o) == 2 &&
	       (*pa = json_object_get(o, a)) && (*pb = json_object_get(o, b));
}

static int is_u32(const json_t *v)
{
	return json_is_integer(v) && json_integer_value(v) >= 0 &&
	       json_integer_value(v) <= UINT32_MAX;
}

/* A finite decimal literal of any length: [+-]digits[.digits][e[+-]digits],
 * or with the digits only after the point.  The exponent is kept short so
 * that no consumer has to fear it. */
static int is_plain_decimal(const char *p, size_t n)
{
	size_t i = 0, digits = 0, exp = 0;

	if (i < n && (p[i] == '+' || p[i] == '-'))
		i++;
	while (i < n && p[i] >= '0' && p[i] <= '9')
		i++, digits++;
	if (i < n && p[i] == '.') {
		i++;
		while (i < n && p[i] >= '0' && p[i] <= '9')
			i++, digits++;
	}
	if (!digits)
		return 0;
	if (i < n && (p[i] == 'e' || p[i] == 'E')) {
		i++;
		if (i < n && (p[i] == '+' || p[i] == '-'))
			i++;
		while (i < n && p[i] >= '0' && p[i] <= '9')
			i++, exp++;
		if (!exp || exp > 9)
			return 0;
	}
	return i == n;
}

static int is_uuid(const json_t *s)
{
	if (!json_is_string(s) || json_string_length(s) != 36)
		return 0;
	const char *p = json_string_value(s);
	for (int k = 0; k < 36; k++)
		if (k == 8 || k == 13 || k == 18 || k == 23 ? p[k] != '-' : mig_hex_digit((unsigned char)p[k]) < 0)
			return 0;
	return 1;
}

static void uuid_bytes(uint8_t out[16], const char *p)
{
	hex_decode(out, p, 4);
	hex_decode(out + 4, p + 9, 2);
	hex_decode(out + 6, p + 14, 2);
	hex_decode(out + 8, p + 19, 2);
	hex_decode(out + 10, p + 24, 6);
}

static enum mig_vtype classify_object(const json_t *v, struct wrap *w)
{
	json_t *o = (json_t *)v;
	void *it = json_object_iter(o);
	const json_t *p = NULL, *scope = NULL, *a, *b;
	int extra = 0;

	w->key = K_NONE;
	if (!it || json_object_iter_key(it)[0] != '$')
		return MIG_V_OBJECT;
	for (; it; it = json_object_iter_next(o, it)) {
		enum wkey k = wkey_of(json_object_iter_key(it), json_object_iter_key_len(it));
		if (k == K_NONE || (k != K_SCOPE && w->key != K_NONE)) {
			extra = 1;
		} else if (k == K_SCOPE) {
			scope = json_object_iter_value(it);
		} else {
			w->key = k;
			p = json_object_iter_value(it);
		}
	}
	if (w->key == K_NONE) {
		if (!scope)
			return MIG_V_OBJECT;
		w->key = K_SCOPE;
		return invalid(w, "without $code");
	}
	w->p = p;
	if (extra || (scope && w->key != K_CODE))
		return invalid(w, "unexpected member");

	switch (w->key) {
	case K_OID:
		if (!json_is_string(p) || json_string_length(p) != 24 || !is_hex(json_string_value(p), 24))
			return invalid(w, "not 24 hex digits");
		return MIG_V_OID;
	case K_SYMBOL:
		return json_is_string(p) ? MIG_V_SYMBOL : invalid(w, "not a string");
	case K_INT:
		if (parse_int(p, INT32_MIN, INT32_MAX, &w->i))
			return invalid(w, "not a 32-bit integer string");
		return MIG_V_INT;
	case K_LONG:
		if (parse_int(p, INT64_MIN, INT64_MAX, &w->i))
			return invalid(w, "not a 64-bit integer string");
		return MIG_V_INT;
	case K_DOUBLE:
		if (parse_double(p, &w->d))
			return invalid(w, "not a double string");
		return MIG_V_DOUBLE;
	case K_DECIMAL: {
		bson_decimal128_t dec;
		/* mig's decimals are exact strings of any length (PostgreSQL's
		 * numeric holds 1000 digits); only BSON needs them to fit
		 * Decimal128, and mig_value_to_bson says so when they do not */
		if (!json_is_string(p) || json_string_length(p) > INT32_MAX ||
		    (!bson_decimal128_from_string_w_len(json_string_value(p),
							(int)json_string_length(p), &dec) &&
		     !is_plain_decimal(json_string_value(p), json_string_length(p))))
			return invalid(w, "not a decimal number string");
		return MIG_V_DECIMAL;
	}
	case K_BINARY:
		if (!members2(p, "base64", "subType", &a, &b))
			return invalid(w, "not {\"base64\", \"subType\"}");
		if (!json_is_string(a) || b64_decode(json_string_value(a), json_string_length(a), NULL, NULL))
			return invalid(w, "base64 is not padded base64");
		if (!json_is_string(b) || json_string_length(b) < 1 || json_string_length(b) > 2 ||
		    !is_hex(json_string_value(b), json_string_length(b)))
			return invalid(w, "subType is not one or two hex digits");
		w->p = a;
		w->q = b;
		w->i = strtol(json_string_value(b), NULL, 16);
		return MIG_V_BINARY;
	case K_UUID:
		if (!is_uuid(p))
			return invalid(w, "not a UUID");
		w->i = 4;
		return MIG_V_BINARY;
	case K_CODE:
		if (!json_is_string(p))
			return invalid(w, "not a string");
		if (!scope)
			return MIG_V_CODE;
		if (!json_is_object(scope))
			return invalid(w, "$scope is not a document");
		w->q = scope;
		return MIG_V_CODEWS;
	case K_TIMESTAMP:
		if (!members2(p, "t", "i", &a, &b) || !is_u32(a) || !is_u32(b))
			return invalid(w, "not {\"t\", \"i\"} of unsigned 32-bit integers");
		w->i = json_integer_value(a);
		w->j = json_integer_value(b);
		return MIG_V_TIMESTAMP;
	case K_REGEX:
		if (!members2(p, "pattern", "options", &a, &b) || !is_cstr(a) || !is_cstr(b))
			return invalid(w, "not {\"pattern\", \"options\"} of strings without NUL");
		w->p = a;
		w->q = b;
		return MIG_V_REGEX;
	case K_DBPOINTER: {
		struct wrap id;
		if (!members2(p, "$ref", "$id", &a, &b) || !json_is_string(a) ||
		    !json_is_object(b) || classify_object(b, &id) != MIG_V_OID)
			return invalid(w, "not {\"$ref\": string, \"$id\": {\"$oid\"}}");
		w->p = a;
		w->q = id.p;
		return MIG_V_DBPOINTER;
	}
	case K_DATE:
		if (json_is_string(p)) {
			if (mig_date_parse(json_string_value(p), json_string_length(p), &w->i, NULL))
				return invalid(w, "not an ISO-8601 date-time");
			return MIG_V_DATE;
		}
		if (json_is_object(p) && json_object_size(p) == 1 &&
		    !parse_int(json_object_get(p, "$numberLong"), INT64_MIN / 1000,
			       INT64_MAX / 1000, &w->i)) {
			w->i *= 1000;
			return MIG_V_DATE;
		}
		return invalid(w, "not an ISO-8601 string or {\"$numberLong\"} in range");
	case K_MINKEY:
	case K_MAXKEY:
		if (!json_is_integer(p) || json_integer_value(p) != 1)
			return invalid(w, "not 1");
		return w->key == K_MINKEY ? MIG_V_MINKEY : MIG_V_MAXKEY;
	case K_UNDEFINED:
		return json_is_true(p) ? MIG_V_UNDEFINED : invalid(w, "not true");
	default:
		return invalid(w, "unexpected member");
	}
}

static enum mig_vtype classify(const json_t *v, struct wrap *w)
{
	w->key = K_NONE;
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return classify_object(v, w);
	case JSON_ARRAY:
		return MIG_V_ARRAY;
	case JSON_STRING:
		w->p = v;
		return MIG_V_STRING;
	case JSON_INTEGER:
		w->i = json_integer_value(v);
		return MIG_V_INT;
	case JSON_REAL:
		w->d = json_real_value(v);
		return MIG_V_DOUBLE;
	case JSON_TRUE:
	case JSON_FALSE:
		return MIG_V_BOOL;
	default:
		return MIG_V_NULL;
	}
}

enum mig_vtype mig_value_type(const json_t *v)
{
	struct wrap w;
	return classify(v, &w);
}

const char *mig_vtype_name(enum mig_vtype t)
{
	static const char *const names[] = {
		"null", "bool", "int", "double", "string", "object", "array", "date",
		"decimal", "oid", "binary", "timestamp", "regex", "code",
		"code with scope", "symbol", "dbpointer", "minkey", "maxkey",
		"undefined", "invalid"
	};
	return (unsigned)t < sizeof names / sizeof names[0] ? names[t] : "unknown";
}

/* ---- error paths (JSON pointers, built from the innermost key out) ---- */

struct path {
	char s[256];
	size_t off;      /* the path is s + off */
	int cut;         /* outer segments did not fit */
};

static void path_init(struct path *p)
{
	p->off = sizeof p->s - 1;
	p->s[p->off] = '\0';
	p->cut = 0;
}

static void path_key(struct path *p, const char *k, size_t n)
{
	size_t need = 1;
	for (size_t i = 0; i < n; i++)
		need += k[i] == '~' || k[i] == '/' ? 2 : 1;
	if (p->cut || need > p->off) {
		p->cut = 1;
		return;
	}
	for (size_t i = n; i-- > 0;) {
		if (k[i] == '~' || k[i] == '/') {
			p->s[--p->off] = k[i] == '~' ? '0' : '1';
			p->s[--p->off] = '~';
		} else {
			p->s[--p->off] = k[i];
		}
	}
	p->s[--p->off] = '/';
}

static void path_index(struct path *p, size_t i)
{
	char buf[24], *s = fmt_i64(buf + sizeof buf, (int64_t)i);
	path_key(p, s, (size_t)(buf + sizeof buf - s));
}

/* Puts the path in front of err's message. */
static int path_error(struct mig_error *err, int rc, const struct path *p)
{
	if (err && p->s[p->off])
		mig_error_prefix(err, "%s%s", p->cut ? "..." : "", p->s + p->off);
	return rc;
}

static int why_error(struct mig_error *err, const struct wrap *w)
{
	if (json_is_string(w->p)) {
		size_t n = json_string_length(w->p);
		return mig_error_set(err, MIG_EDATA, "%s: %s: \"%.*s%s\"", wkeys[w->key].s, w->why,
				     (int)(n > 64 ? 64 : n), json_string_value(w->p), n > 64 ? "..." : "");
	}
	return mig_error_set(err, MIG_EDATA, "%s: %s", wkeys[w->key].s, w->why);
}

/* ---- check ---- */

static int check_value(const json_t *v, struct mig_error *err, struct path *path);

static int check_members(const json_t *o, struct mig_error *err, struct path *path)
{
	json_t *obj = (json_t *)o;
	for (void *it = json_object_iter(obj); it; it = json_object_iter_next(obj, it)) {
		int rc = check_value(json_object_iter_value(it), err, path);
		if (rc) {
			path_key(path, json_object_iter_key(it), json_object_iter_key_len(it));
			return rc;
		}
	}
	return 0;
}

static int check_value(const json_t *v, struct mig_error *err, struct path *path)
{
	struct wrap w;
	size_t i;
	json_t *x;
	int rc;

	if (json_is_array(v)) {
		json_array_foreach(v, i, x) {
			if ((rc = check_value(x, err, path))) {
				path_index(path, i);
				return rc;
			}
		}
		return 0;
	}
	if (!json_is_object(v))
		return 0;
	switch (classify_object(v, &w)) {
	case MIG_V_INVALID:
		return why_error(err, &w);
	case MIG_V_OBJECT:
		return check_members(v, err, path);
	case MIG_V_CODEWS:
		if ((rc = check_members(w.q, err, path)))
			path_key(path, "$scope", 6);
		return rc;
	default:
		return 0;
	}
}

int mig_value_check(const json_t *v, struct mig_error *err)
{
	struct path path;
	path_init(&path);
	return path_error(err, check_value(v, err, &path), &path);
}

/* ---- accessors ---- */

static int type_error(struct mig_error *err, const char *want, enum mig_vtype t,
		      const struct wrap *w)
{
	if (t == MIG_V_INVALID)
		return why_error(err, w);
	return mig_error_set(err, MIG_EDATA, "expected %s, got %s", want, mig_vtype_name(t));
}

int mig_value_get_int(const json_t *v, int64_t *out, struct mig_error *err)
{
	struct wrap w;
	enum mig_vtype t = classify(v, &w);
	if (t != MIG_V_INT)
		return type_error(err, "int", t, &w);
	*out = w.i;
	return 0;
}

int mig_value_get_double(const json_t *v, double *out, struct mig_error *err)
{
	struct wrap w;
	enum mig_vtype t = classify(v, &w);
	if (t != MIG_V_DOUBLE)
		return type_error(err, "double", t, &w);
	*out = w.d;
	return 0;
}

int mig_value_get_date(const json_t *v, int64_t *out_us, struct mig_error *err)
{
	struct wrap w;
	enum mig_vtype t = classify(v, &w);
	if (t != MIG_V_DATE)
		return type_error(err, "date", t, &w);
	*out_us = w.i;
	return 0;
}

int mig_value_get_decimal(const json_t *v, const char **out, struct mig_error *err)
{
	struct wrap w;
	enum mig_vtype t = classify(v, &w);
	if (t != MIG_V_DECIMAL)
		return type_error(err, "decimal", t, &w);
	*out = json_string_value(w.p);
	return 0;
}

int mig_value_get_oid(const json_t *v, uint8_t out[12], struct mig_error *err)
{
	struct wrap w;
	enum mig_vtype t = classify(v, &w);
	if (t != MIG_V_OID)
		return type_error(err, "oid", t, &w);
	hex_decode(out, json_string_value(w.p), 12);
	return 0;
}

static int binary_bytes(const struct wrap *w, uint8_t **out, size_t *n)
{
	if (w->key == K_UUID) {
		if (!(*out = malloc(16)))
			return MIG_ENOMEM;
		uuid_bytes(*out, json_string_value(w->p));
		*n = 16;
		return 0;
	}
	return mig_base64_decode(json_string_value(w->p), json_string_length(w->p), out, n);
}

int mig_value_get_binary(const json_t *v, uint8_t **out, size_t *out_len,
			 int *out_subtype, struct mig_error *err)
{
	struct wrap w;
	enum mig_vtype t = classify(v, &w);
	if (t != MIG_V_BINARY)
		return type_error(err, "binary", t, &w);
	if (binary_bytes(&w, out, out_len))
		return mig_error_set(err, MIG_ENOMEM, "out of memory");
	*out_subtype = (int)w.i;
	return 0;
}

/* ---- constructors ---- */

/* {k1: v1, k2: v2} (k2 may be NULL); steals v1 and v2, even on failure. */
static json_t *obj2(const char *k1, json_t *v1, const char *k2, json_t *v2)
{
	json_t *o = json_object();
	if (o && v1 && (!k2 || v2)) {
		int bad = json_object_set_new_nocheck(o, k1, v1);
		if (k2)
			bad |= json_object_set_new_nocheck(o, k2, v2);
		if (!bad)
			return o;
		json_decref(o);
		return NULL;
	}
	json_decref(o);
	json_decref(v1);
	json_decref(v2);
	return NULL;
}

static json_t *obj1(const char *k, json_t *v)
{
	return obj2(k, v, NULL, NULL);
}

json_t *mig_value_date(int64_t us)
{
	char s[40];
	int n = mig_date_format(s, us);
	return obj1("$date", json_stringn_nocheck(s, (size_t)n));
}

json_t *mig_value_decimal(const char *digits_)
{
	return digits_ ? obj1("$numberDecimal", json_string(digits_)) : NULL;
}

json_t *mig_value_oid(const uint8_t oid[12])
{
	char s[24];
	hex_encode(s, oid, 12);
	return obj1("$oid", json_stringn_nocheck(s, 24));
}

json_t *mig_value_binary(const void *p, size_t n, int subtype)
{
	char st[2];
	uint8_t sb = (uint8_t)subtype;
	char *s = mig_base64_encode(p, n);
	if (!s)
		return NULL;
	hex_encode(st, &sb, 1);
	json_t *v = obj1("$binary", obj2("base64", json_string_nocheck(s),
					 "subType", json_stringn_nocheck(st, 2)));
	free(s);
	return v;
}

json_t *mig_value_double(double d)
{
	if (isfinite(d))
		return json_real(d);
	return obj1("$numberDouble", json_string_nocheck(isnan(d) ? "NaN" : d > 0 ? "Infinity" : "-Infinity"));
}

json_t *mig_value_long(int64_t n)
{
	char buf[24], *s = fmt_i64(buf + sizeof buf, n);
	return obj1("$numberLong", json_stringn_nocheck(s, (size_t)(buf + sizeof buf - s)));
}

/* ---- printing ---- */

/* Appends n bytes; the NUL is written once, by mig_value_write. */
static inline int put(struct mig_buf *b, const void *p, size_t n)
{
	if (n >= b->cap - b->len || n > b->max - b->len) {
		int rc = mig_buf_reserve(b, n);
		if (rc)
			return rc;
	}
	memcpy(b->data + b->len, p, n);
	b->len += n;
	return 0;
}

#define PUTS(b, s) put(b, s, sizeof s - 1)
#define TRY(x) do { int rc_ = (x); if (rc_) return rc_; } while (0)

/* 0: copy as is; else the letter after the backslash ('u': \u00XX). */
static const char esc[256] = {
	'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'b', 't', 'n', 'u', 'f', 'r', 'u', 'u',
	'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u',
	0, 0, '"', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, '\\', 0, 0, 0,
};

static int write_esc(struct mig_buf *b, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s, *e = p + n;
	while (p < e) {
		const unsigned char *r = p;
		while (r < e && !esc[*r])
			r++;
		TRY(put(b, p, (size_t)(r - p)));
		if (r == e)
			break;
		char u[6] = {'\\', esc[*r], '0', '0', "0123456789abcdef"[*r >> 4],
			     "0123456789abcdef"[*r & 15]};
		TRY(put(b, u, esc[*r] == 'u' ? 6 : 2));
		p = r + 1;
	}
	return 0;
}

static int write_str(struct mig_buf *b, const char *s, size_t n)
{
	TRY(PUTS(b, "\""));
	TRY(write_esc(b, s, n));
	return PUTS(b, "\"");
}

static int write_jstr(struct mig_buf *b, const json_t *s)
{
	return write_str(b, json_string_value(s), json_string_length(s));
}

static int write_i64(struct mig_buf *b, int64_t v)
{
	char buf[24], *s = fmt_i64(buf + sizeof buf, v);
	return put(b, s, (size_t)(buf + sizeof buf - s));
}

/* {"$numberInt":"7"} and the like */
static int write_wrapped_i64(struct mig_buf *b, const char *open, size_t on, int64_t v)
{
	TRY(put(b, open, on));
	TRY(write_i64(b, v));
	return PUTS(b, "\"}");
}

#define WRAP_I64(b, open, v) write_wrapped_i64(b, open, sizeof open - 1, v)

/* The shortest of %.15g, %.16g, %.17g that reads back as d; always with a
 * '.' or an exponent so that it reads back as a double.  d is finite. */
static size_t fmt_double(char *out, double d)
{
	/* Fast path, no printf: a value that is m / 10^k for an integer
	 * m < 2^53 and k <= 6 (42, 42.25, 0.1).  m and 10^k are exact
	 * doubles, so m / 10^k is the correctly rounded value of that decimal,
	 * which is what strtod reads back; the smallest such k gives the
	 * shortest text.  Limited to the magnitudes %g prints without an
	 * exponent, so the text is the same as the printf path's. */
	static const double p10[] = { 1, 10, 100, 1e3, 1e4, 1e5, 1e6 };
	double a = fabs(d);
	if (a >= 1e-4 && a < 1e15) {
		for (int k = 0; k <= 6; k++) {
			double m = nearbyint(d * p10[k]);
			if (fabs(m) < 9007199254740992.0 && m / p10[k] == d) {
				char digits[24], *q = out;
				int64_t im = (int64_t)fabs(m);
				int nd = 0;
				do
					digits[nd++] = (char)('0' + im % 10), im /= 10;
				while (im);
				while (nd <= k)
					digits[nd++] = '0';
				if (d < 0)
					*q++ = '-';
				for (int i = nd - 1; i >= 0; i--) {
					*q++ = digits[i];
					if (i == k)
						*q++ = '.';
				}
				if (k == 0)
					*q++ = '0';   /* after the '.', which i == 0 wrote */
				*q = '\0';
				return (size_t)(q - out);
			}
		}
	}
	int n = snprintf(out, 32, "%.15g", d);
	if (strtod(out, NULL) != d) {
		n = snprintf(out, 32, "%.16g", d);
		if (strtod(out, NULL) != d)
			n = snprintf(out, 32, "%.17g", d);
	}
	if (!strpbrk(out, ".e")) {
		memcpy(out + n, ".0", 3);
		n += 2;
	}
	return (size_t)n;
}

static int write_double(struct mig_buf *b, double d, enum mig_json_mode m)
{
	char s[40];
	if (!isfinite(d)) {
		const char *t = isnan(d) ? "NaN" : d > 0 ? "Infinity" : "-Infinity";
		if (m == MIG_JSON_PLAIN)
			return write_str(b, t, strlen(t));
		TRY(PUTS(b, "{\"$numberDouble\":\""));
		TRY(put(b, t, strlen(t)));
		return PUTS(b, "\"}");
	}
	size_t n = fmt_double(s, d);
	if (m != MIG_JSON_CANONICAL)
		return put(b, s, n);
	TRY(PUTS(b, "{\"$numberDouble\":\""));
	TRY(put(b, s, n));
	return PUTS(b, "\"}");
}

static int write_value(struct mig_buf *b, const json_t *v, enum mig_json_mode m);

static int write_members(struct mig_buf *b, const json_t *o, enum mig_json_mode m)
{
	json_t *obj = (json_t *)o;
	char sep = '{';
	for (void *it = json_object_iter(obj); it; it = json_object_iter_next(obj, it)) {
		TRY(put(b, &sep, 1));
		sep = ',';
		TRY(write_str(b, json_object_iter_key(it), json_object_iter_key_len(it)));
		TRY(PUTS(b, ":"));
		TRY(write_value(b, json_object_iter_value(it), m));
	}
	return sep == '{' ? PUTS(b, "{}") : PUTS(b, "}");
}

static int write_date(struct mig_buf *b, int64_t us, enum mig_json_mode m)
{
	char s[40];
	int iso = m == MIG_JSON_PLAIN || us % 1000 != 0 ||
		  (m == MIG_JSON_RELAXED && us >= 0 && us < Y10K_US);
	if (!iso) {
		TRY(WRAP_I64(b, "{\"$date\":{\"$numberLong\":\"", us / 1000));
		return PUTS(b, "}");
	}
	if (m != MIG_JSON_PLAIN)
		TRY(PUTS(b, "{\"$date\":"));
	TRY(put(b, "\"", 1));
	TRY(put(b, s, (size_t)mig_date_format(s, us)));
	TRY(put(b, "\"", 1));
	return m != MIG_JSON_PLAIN ? PUTS(b, "}") : 0;
}

static int write_binary(struct mig_buf *b, const struct wrap *w, enum mig_json_mode m)
{
	char s[24], st[2];
	uint8_t sb = (uint8_t)w->i;
	const char *b64 = s;
	size_t n = 24;

	if (w->key == K_UUID) {
		uint8_t u[16];
		uuid_bytes(u, json_string_value(w->p));
		b64_encode(s, u, 16);
	} else {
		b64 = json_string_value(w->p);
		n = json_string_length(w->p);
	}
	if (m == MIG_JSON_PLAIN)
		return write_str(b, b64, n);
	hex_encode(st, &sb, 1);
	TRY(PUTS(b, "{\"$binary\":{\"base64\":\""));
	TRY(put(b, b64, n));
	TRY(PUTS(b, "\",\"subType\":\""));
	TRY(put(b, st, 2));
	return PUTS(b, "\"}}");
}

static int write_oid(struct mig_buf *b, const json_t *hex, enum mig_json_mode m)
{
	char s[24];
	const char *p = json_string_value(hex);
	for (int k = 0; k < 24; k++)
		s[k] = p[k] >= 'A' && p[k] <= 'F' ? (char)(p[k] + 32) : p[k];
	if (m != MIG_JSON_PLAIN)
		TRY(PUTS(b, "{\"$oid\":"));
	TRY(put(b, "\"", 1));
	TRY(put(b, s, 24));
	TRY(put(b, "\"", 1));
	return m != MIG_JSON_PLAIN ? PUTS(b, "}") : 0;
}

/* {"KEY":"string"} in RELAXED/CANONICAL, the string alone in PLAIN */
static int write_strwrap(struct mig_buf *b, const char *open, size_t on, const json_t *s,
			 enum mig_json_mode m)
{
	if (m == MIG_JSON_PLAIN)
		return write_jstr(b, s);
	TRY(put(b, open, on));
	TRY(write_jstr(b, s));
	return PUTS(b, "}");
}

#define STRWRAP(b, open, s, m) write_strwrap(b, open, sizeof open - 1, s, m)

static int write_object(struct mig_buf *b, const json_t *v, enum mig_json_mode m)
{
	struct wrap w;

	switch (classify_object(v, &w)) {
	case MIG_V_INT:
		if (m != MIG_JSON_CANONICAL)
			return write_i64(b, w.i);
		if (w.key == K_INT)
			return WRAP_I64(b, "{\"$numberInt\":\"", w.i);
		return WRAP_I64(b, "{\"$numberLong\":\"", w.i);
	case MIG_V_DOUBLE:
		return write_double(b, w.d, m);
	case MIG_V_DATE:
		return write_date(b, w.i, m);
	case MIG_V_DECIMAL:
		return STRWRAP(b, "{\"$numberDecimal\":", w.p, m);
	case MIG_V_OID:
		return write_oid(b, w.p, m);
	case MIG_V_BINARY:
		return write_binary(b, &w, m);
	case MIG_V_TIMESTAMP:
		TRY(m == MIG_JSON_PLAIN ? PUTS(b, "{\"t\":") : PUTS(b, "{\"$timestamp\":{\"t\":"));
		TRY(write_i64(b, w.i));
		TRY(PUTS(b, ",\"i\":"));
		TRY(write_i64(b, w.j));
		return m == MIG_JSON_PLAIN ? PUTS(b, "}") : PUTS(b, "}}");
	case MIG_V_REGEX:
		if (m == MIG_JSON_PLAIN) {
			TRY(PUTS(b, "\"/"));
			TRY(write_esc(b, json_string_value(w.p), json_string_length(w.p)));
			TRY(PUTS(b, "/"));
			TRY(write_esc(b, json_string_value(w.q), json_string_length(w.q)));
			return PUTS(b, "\"");
		}
		TRY(PUTS(b, "{\"$regularExpression\":{\"pattern\":"));
		TRY(write_jstr(b, w.p));
		TRY(PUTS(b, ",\"options\":"));
		TRY(write_jstr(b, w.q));
		return PUTS(b, "}}");
	case MIG_V_CODE:
		return STRWRAP(b, "{\"$code\":", w.p, m);
	case MIG_V_CODEWS:
		if (m == MIG_JSON_PLAIN)
			return write_jstr(b, w.p);
		TRY(PUTS(b, "{\"$code\":"));
		TRY(write_jstr(b, w.p));
		TRY(PUTS(b, ",\"$scope\":"));
		TRY(write_members(b, w.q, m));
		return PUTS(b, "}");
	case MIG_V_SYMBOL:
		return STRWRAP(b, "{\"$symbol\":", w.p, m);
	case MIG_V_DBPOINTER:
		TRY(m == MIG_JSON_PLAIN ? PUTS(b, "{\"$ref\":") : PUTS(b, "{\"$dbPointer\":{\"$ref\":"));
		TRY(write_jstr(b, w.p));
		TRY(PUTS(b, ",\"$id\":"));
		TRY(write_oid(b, w.q, m));
		return m == MIG_JSON_PLAIN ? PUTS(b, "}") : PUTS(b, "}}");
	case MIG_V_MINKEY:
		return m == MIG_JSON_PLAIN ? PUTS(b, "1") : PUTS(b, "{\"$minKey\":1}");
	case MIG_V_MAXKEY:
		return m == MIG_JSON_PLAIN ? PUTS(b, "1") : PUTS(b, "{\"$maxKey\":1}");
	case MIG_V_UNDEFINED:
		/* plain: null, as the corpus converts Undefined */
		return m == MIG_JSON_PLAIN ? PUTS(b, "null") : PUTS(b, "{\"$undefined\":true}");
	default:
		return write_members(b, v, m);
	}
}

static int write_value(struct mig_buf *b, const json_t *v, enum mig_json_mode m)
{
	size_t i;
	json_t *x;

	switch (json_typeof(v)) {
	case JSON_STRING:
		return write_jstr(b, v);
	case JSON_INTEGER:
		if (m == MIG_JSON_CANONICAL) {
			int64_t n = json_integer_value(v);
			if (n >= INT32_MIN && n <= INT32_MAX)
				return WRAP_I64(b, "{\"$numberInt\":\"", n);
			return WRAP_I64(b, "{\"$numberLong\":\"", n);
		}
		return write_i64(b, json_integer_value(v));
	case JSON_REAL:
		return write_double(b, json_real_value(v), m);
	case JSON_TRUE:
		return PUTS(b, "true");
	case JSON_FALSE:
		return PUTS(b, "false");
	case JSON_NULL:
		return PUTS(b, "null");
	case JSON_ARRAY:
		if (json_array_size(v) == 0)
			return PUTS(b, "[]");
		json_array_foreach(v, i, x) {
			TRY(put(b, i ? "," : "[", 1));
			TRY(write_value(b, x, m));
		}
		return PUTS(b, "]");
	case JSON_OBJECT:
		break;
	}
	return write_object(b, v, m);
}

int mig_value_write_str(struct mig_buf *b, const char *s, size_t n)
{
	size_t len = b->len;
	int rc = write_str(b, s, n);
	if (rc)
		b->len = len;
	if (b->data)
		b->data[b->len] = '\0';
	return rc;
}

int mig_value_write(struct mig_buf *b, const json_t *v, enum mig_json_mode mode)
{
	size_t len = b->len;
	int rc = write_value(b, v, mode);
	if (rc)
		b->len = len;
	if (b->data)
		b->data[b->len] = '\0';
	return rc;
}

/* ---- comparison ---- */

static int obj_equal(const json_t *a, const json_t *b)
{
	json_t *o = (json_t *)a;
	if (json_object_size(a) != json_object_size(b))
		return 0;
	for (void *it = json_object_iter(o); it; it = json_object_iter_next(o, it)) {
		const json_t *y = json_object_getn(b, json_object_iter_key(it), json_object_iter_key_len(it));
		if (!y || !mig_value_equal(json_object_iter_value(it), y))
			return 0;
	}
	return 1;
}

static int oid_cmp(const json_t *a, const json_t *b)
{
	uint8_t x[12], y[12];
	hex_decode(x, json_string_value(a), 12);
	hex_decode(y, json_string_value(b), 12);
	return bytes_cmp(x, 12, y, 12);
}

/* Binaries: by length, then subtype, then bytes (MongoDB's order). */
static int bin_cmp(const struct wrap *x, const struct wrap *y)
{
	uint8_t *p = NULL, *q = NULL;
	size_t pn = 0, qn = 0;
	int c;
	if (binary_bytes(x, &p, &pn) || binary_bytes(y, &q, &qn))
		c = p ? 1 : -1;   /* out of memory: any answer but a crash */
	else if (pn != qn)
		c = pn < qn ? -1 : 1;
	else if (x->i != y->i)
		c = x->i < y->i ? -1 : 1;
	else
		c = bytes_cmp(p, pn, q, qn);
	free(p);
	free(q);
	return c;
}

int mig_value_equal(const json_t *a, const json_t *b)
{
	struct wrap x, y;
	enum mig_vtype ta = classify(a, &x), tb = classify(b, &y);
	size_t i;

	if (ta == MIG_V_INVALID)
		ta = MIG_V_OBJECT;
	if (tb == MIG_V_INVALID)
		tb = MIG_V_OBJECT;
	if (ta != tb)
		return 0;
	switch (ta) {
	case MIG_V_BOOL:
		return json_typeof(a) == json_typeof(b);
	case MIG_V_INT:
	case MIG_V_DATE:
		return x.i == y.i;
	case MIG_V_DOUBLE:
		if (isnan(x.d) || isnan(y.d))
			return isnan(x.d) && isnan(y.d);
		return x.d == y.d && signbit(x.d) == signbit(y.d);
	case MIG_V_STRING:
	case MIG_V_DECIMAL:
	case MIG_V_CODE:
	case MIG_V_SYMBOL:
		return str_eq(x.p, y.p);
	case MIG_V_OBJECT:
		return obj_equal(a, b);
	case MIG_V_ARRAY:
		if (json_array_size(a) != json_array_size(b))
			return 0;
		for (i = 0; i < json_array_size(a); i++)
			if (!mig_value_equal(json_array_get(a, i), json_array_get(b, i)))
				return 0;
		return 1;
	case MIG_V_OID:
		return oid_cmp(x.p, y.p) == 0;
	case MIG_V_BINARY:
		return bin_cmp(&x, &y) == 0;
	case MIG_V_TIMESTAMP:
		return x.i == y.i && x.j == y.j;
	case MIG_V_REGEX:
		return str_eq(x.p, y.p) && str_eq(x.q, y.q);
	case MIG_V_CODEWS:
		return str_eq(x.p, y.p) && obj_equal(x.q, y.q);
	case MIG_V_DBPOINTER:
		return str_eq(x.p, y.p) && oid_cmp(x.q, y.q) == 0;
	default:   /* null, minKey, maxKey, undefined */
		return 1;
	}
}

static int rank(enum mig_vtype t)
{
	switch (t) {
	case MIG_V_MINKEY: return 0;
	case MIG_V_UNDEFINED: return 1;
	case MIG_V_NULL: return 2;
	case MIG_V_INT: case MIG_V_DOUBLE: case MIG_V_DECIMAL: return 3;
	case MIG_V_STRING: case MIG_V_SYMBOL: return 4;
	case MIG_V_OBJECT: case MIG_V_INVALID: return 5;
	case MIG_V_ARRAY: return 6;
	case MIG_V_BINARY: return 7;
	case MIG_V_OID: return 8;
	case MIG_V_BOOL: return 9;
	case MIG_V_DATE: return 10;
	case MIG_V_TIMESTAMP: return 11;
	case MIG_V_REGEX: return 12;
	case MIG_V_DBPOINTER: return 13;
	case MIG_V_CODE: return 14;
	case MIG_V_CODEWS: return 15;
	default: return 16;   /* maxKey */
	}
}

/* Mixed number types compare as long double, exact for int64 and double
 * on x86-64; decimals are approximated by strtold. */
static long double num_ld(enum mig_vtype t, const struct wrap *w)
{
	if (t == MIG_V_INT)
		return (long double)w->i;
	if (t == MIG_V_DOUBLE)
		return w->d;
	return strtold(json_string_value(w->p), NULL);
}

#define CMP(a, b) (((a) > (b)) - ((a) < (b)))

/* Objects compare member by member in their order: key, then value. */
static int obj_cmp(const json_t *a, const json_t *b)
{
	json_t *x = (json_t *)a, *y = (json_t *)b;
	void *i = json_object_iter(x), *j = json_object_iter(y);
	for (; i && j; i = json_object_iter_next(x, i), j = json_object_iter_next(y, j)) {
		int c = bytes_cmp(json_object_iter_key(i), json_object_iter_key_len(i),
				  json_object_iter_key(j), json_object_iter_key_len(j));
		if (c || (c = mig_value_cmp(json_object_iter_value(i), json_object_iter_value(j))))
			return c;
	}
	return (i != NULL) - (j != NULL);
}

int mig_value_cmp(const json_t *a, const json_t *b)
{
	struct wrap x, y;
	enum mig_vtype ta = classify(a, &x), tb = classify(b, &y);
	int ra = rank(ta), rb = rank(tb), c;
	size_t i, na, nb;

	if (ra != rb)
		return CMP(ra, rb);
	switch (ra) {
	case 3: {
		if (ta == MIG_V_INT && tb == MIG_V_INT)
			return CMP(x.i, y.i);
		long double p = num_ld(ta, &x), q = num_ld(tb, &y);
		if (isnan(p) || isnan(q))
			return !isnan(p) - !isnan(q);   /* NaN first */
		return CMP(p, q);
	}
	case 4:
		return str_cmp(x.p, y.p);
	case 5:
		return obj_cmp(a, b);
	case 6:
		na = json_array_size(a);
		nb = json_array_size(b);
		for (i = 0; i < na && i < nb; i++)
			if ((c = mig_value_cmp(json_array_get(a, i), json_array_get(b, i))))
				return c;
		return CMP(na, nb);
	case 7:
		return bin_cmp(&x, &y);
	case 8:
		return oid_cmp(x.p, y.p);
	case 9:
		return CMP(json_is_true(a), json_is_true(b));
	case 10:
		return CMP(x.i, y.i);
	case 11:
		return x.i != y.i ? CMP(x.i, y.i) : CMP(x.j, y.j);
	case 12:
		return (c = str_cmp(x.p, y.p)) ? c : str_cmp(x.q, y.q);
	case 13:
		return (c = str_cmp(x.p, y.p)) ? c : oid_cmp(x.q, y.q);
	case 14:
		return str_cmp(x.p, y.p);
	case 15:
		return (c = str_cmp(x.p, y.p)) ? c : obj_cmp(x.q, y.q);
	default:
		return 0;
	}
}

/* ---- json_t -> BSON ---- */

static int too_large(struct mig_error *err)
{
	return mig_error_set(err, MIG_EDATA, "document too large for BSON");
}

static void put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

/* Code, code with scope and DBPointer as raw elements: libbson's
 * appenders for them take C strings, and these strings may hold NULs
 * (the corpus has code with NULs). */
static bool append_raw(bson_t *out, bson_type_t type, const char *k, size_t kn,
		       const json_t *s, const bson_t *scope, const uint8_t *oid)
{
	size_t sn = json_string_length(s), sl = scope ? scope->len : 0;
	size_t body = (scope ? 4 : 0) + 4 + sn + 1 + sl + (oid ? 12 : 0);
	size_t total = 4 + 1 + kn + 1 + body + 1;
	bson_t tmp;
	bool ok;

	if (total > INT32_MAX)
		return false;
	uint8_t *buf = malloc(total), *p = buf;
	if (!buf)
		return false;
	put_le32(p, (uint32_t)total);
	p[4] = (uint8_t)type;
	memcpy(p + 5, k, kn);
	p[5 + kn] = 0;
	p += 6 + kn;
	if (scope) {
		put_le32(p, (uint32_t)body);
		p += 4;
	}
	put_le32(p, (uint32_t)(sn + 1));
	memcpy(p + 4, json_string_value(s), sn);
	p[4 + sn] = 0;
	p += 5 + sn;
	if (scope) {
		memcpy(p, bson_get_data(scope), sl);
		p += sl;
	}
	if (oid) {
		memcpy(p, oid, 12);
		p += 12;
	}
	*p = 0;
	ok = bson_init_static(&tmp, buf, total) && bson_concat(out, &tmp);
	free(buf);
	return ok;
}

static int members_to_bson(bson_t *out, const json_t *o, struct mig_error *err,
			   struct path *path);

static int wrapper_to_bson(bson_t *out, const char *k, int kn, const json_t *v,
			   struct mig_error *err, struct path *path)
{
	struct wrap w;
	bson_t child;
	bson_oid_t oid;
	bson_decimal128_t dec;
	uint8_t small[256], *bytes;
	size_t n;
	bool ok;
	int rc;

	switch (classify_object(v, &w)) {
	case MIG_V_INVALID:
		return why_error(err, &w);
	case MIG_V_OBJECT:
		if (!bson_append_document_begin(out, k, kn, &child))
			return too_large(err);
		rc = members_to_bson(&child, v, err, path);
		ok = bson_append_document_end(out, &child);
		return rc ? rc : ok ? 0 : too_large(err);
	case MIG_V_INT:
		ok = w.key == K_INT ? bson_append_int32(out, k, kn, (int32_t)w.i)
				    : bson_append_int64(out, k, kn, w.i);
		break;
	case MIG_V_DOUBLE:
		ok = bson_append_double(out, k, kn, w.d);
		break;
	case MIG_V_DATE:
		/* BSON holds milliseconds: drop the microseconds (floor, so
		 * that the printed date keeps its digits up to the ms) */
		ok = bson_append_date_time(out, k, kn, w.i / 1000 - (w.i % 1000 < 0));
		break;
	case MIG_V_DECIMAL:
		if (!bson_decimal128_from_string_w_len(json_string_value(w.p),
						       (int)json_string_length(w.p), &dec))
			return mig_error_set(err, MIG_EDATA, "$numberDecimal %.40s%s does not fit "
					     "a BSON Decimal128 (34 digits, exponent -6176..6111)",
					     json_string_value(w.p),
					     json_string_length(w.p) > 40 ? "..." : "");
		ok = bson_append_decimal128(out, k, kn, &dec);
		break;
	case MIG_V_OID:
		hex_decode(oid.bytes, json_string_value(w.p), 12);
		ok = bson_append_oid(out, k, kn, &oid);
		break;
	case MIG_V_BINARY:
		if (w.key == K_UUID) {
			uuid_bytes(small, json_string_value(w.p));
			ok = bson_append_binary(out, k, kn, BSON_SUBTYPE_UUID, small, 16);
			break;
		}
		n = json_string_length(w.p);
		bytes = n / 4 * 3 <= sizeof small ? small : malloc(n / 4 * 3);
		if (!bytes)
			return mig_error_set(err, MIG_ENOMEM, "out of memory");
		b64_decode(json_string_value(w.p), n, bytes, &n);
		ok = n <= UINT32_MAX && bson_append_binary(out, k, kn, (bson_subtype_t)w.i, bytes, (uint32_t)n);
		if (bytes != small)
			free(bytes);
		break;
	case MIG_V_TIMESTAMP:
		ok = bson_append_timestamp(out, k, kn, (uint32_t)w.i, (uint32_t)w.j);
		break;
	case MIG_V_REGEX:
		ok = json_string_length(w.p) <= INT32_MAX &&
		     bson_append_regex_w_len(out, k, kn, json_string_value(w.p),
					     (int)json_string_length(w.p), json_string_value(w.q));
		break;
	case MIG_V_CODE:
		ok = append_raw(out, BSON_TYPE_CODE, k, (size_t)kn, w.p, NULL, NULL);
		break;
	case MIG_V_CODEWS:
		bson_init(&child);
		if ((rc = members_to_bson(&child, w.q, err, path))) {
			path_key(path, "$scope", 6);
			bson_destroy(&child);
			return rc;
		}
		ok = append_raw(out, BSON_TYPE_CODEWSCOPE, k, (size_t)kn, w.p, &child, NULL);
		bson_destroy(&child);
		break;
	case MIG_V_SYMBOL:
		ok = json_string_length(w.p) <= INT32_MAX &&
		     bson_append_symbol(out, k, kn, json_string_value(w.p), (int)json_string_length(w.p));
		break;
	case MIG_V_DBPOINTER:
		hex_decode(oid.bytes, json_string_value(w.q), 12);
		ok = append_raw(out, BSON_TYPE_DBPOINTER, k, (size_t)kn, w.p, NULL, oid.bytes);
		break;
	case MIG_V_MINKEY:
		ok = bson_append_minkey(out, k, kn);
		break;
	case MIG_V_MAXKEY:
		ok = bson_append_maxkey(out, k, kn);
		break;
	default:   /* MIG_V_UNDEFINED */
		ok = bson_append_undefined(out, k, kn);
		break;
	}
	return ok ? 0 : too_large(err);
}

static int value_to_bson(bson_t *out, const char *k, int kn, const json_t *v,
			 struct mig_error *err, struct path *path)
{
	bson_t child;
	char kb[16];
	const char *ik;
	size_t i;
	json_t *x;
	bool ok;
	int rc = 0;

	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return wrapper_to_bson(out, k, kn, v, err, path);
	case JSON_ARRAY:
		if (!bson_append_array_begin(out, k, kn, &child))
			return too_large(err);
		json_array_foreach(v, i, x) {
			size_t n = bson_uint32_to_string((uint32_t)i, &ik, kb, sizeof kb);
			if ((rc = value_to_bson(&child, ik, (int)n, x, err, path))) {
				path_index(path, i);
				break;
			}
		}
		ok = bson_append_array_end(out, &child);
		return rc ? rc : ok ? 0 : too_large(err);
	case JSON_STRING:
		ok = json_string_length(v) <= INT32_MAX &&
		     bson_append_utf8(out, k, kn, json_string_value(v), (int)json_string_length(v));
		break;
	case JSON_INTEGER: {
		int64_t n = json_integer_value(v);
		ok = n >= INT32_MIN && n <= INT32_MAX ? bson_append_int32(out, k, kn, (int32_t)n)
						      : bson_append_int64(out, k, kn, n);
		break;
	}
	case JSON_REAL:
		ok = bson_append_double(out, k, kn, json_real_value(v));
		break;
	case JSON_TRUE:
	case JSON_FALSE:
		ok = bson_append_bool(out, k, kn, json_is_true(v));
		break;
	default:
		ok = bson_append_null(out, k, kn);
		break;
	}
	return ok ? 0 : too_large(err);
}

static int members_to_bson(bson_t *out, const json_t *o, struct mig_error *err,
			   struct path *path)
{
	json_t *obj = (json_t *)o;
	for (void *it = json_object_iter(obj); it; it = json_object_iter_next(obj, it)) {
		const char *k = json_object_iter_key(it);
		size_t kn = json_object_iter_key_len(it);
		int rc;
		if (strlen(k) != kn)
			rc = mig_error_set(err, MIG_EDATA, "key holds a NUL byte");
		else if (kn > INT32_MAX)
			rc = too_large(err);
		else
			rc = value_to_bson(out, k, (int)kn, json_object_iter_value(it), err, path);
		if (rc) {
			path_key(path, k, kn);
			return rc;
		}
	}
	return 0;
}

int mig_value_to_bson(bson_t *out, const json_t *doc, struct mig_error *err)
{
	struct path path;
	if (!json_is_object(doc))
		return mig_error_set(err, MIG_EDATA, "not a JSON object");
	path_init(&path);
	return path_error(err, members_to_bson(out, doc, err, &path), &path);
}

/* ---- BSON -> json_t ---- */

static int corrupt(struct mig_error *err, const char *what)
{
	return mig_error_set(err, MIG_EDATA, "corrupt BSON: %s", what);
}

static json_t *jstr(const char *s, size_t n)
{
	return json_stringn_nocheck(s, n);
}

static int doc_from_bson(json_t **out, bson_iter_t *it, int is_array, enum mig_json_mode m,
			 struct mig_error *err, struct path *path, int depth);

/* Extended JSON wants regex flags in alphabetical order; BSON written by
 * others may hold them in any. */
static json_t *sorted_options(const char *s)
{
	char buf[16];
	size_t n = strlen(s);
	if (n >= sizeof buf)
		return json_string_nocheck(s);
	memcpy(buf, s, n + 1);
	for (size_t i = 1; i < n; i++)
		for (size_t j = i; j > 0 && buf[j - 1] > buf[j]; j--) {
			char c = buf[j];
			buf[j] = buf[j - 1];
			buf[j - 1] = c;
		}
	return json_stringn_nocheck(buf, n);
}

/* *out = the value at it; NULL *out with 0 means out of memory. */
static int elem_from_bson(json_t **out, const bson_iter_t *it, enum mig_json_mode m,
			  struct mig_error *err, struct path *path, int depth)
{
	bson_iter_t child;
	const char *s, *s2;
	const uint8_t *data;
	const bson_oid_t *oid;
	uint32_t n, n2, t, i;
	bson_subtype_t st;
	bson_decimal128_t dec;
	char dbuf[BSON_DECIMAL128_STRING];
	int64_t ms;
	bson_t scope;
	json_t *v = NULL;
	int rc = 0;

	switch (bson_iter_type(it)) {
	case BSON_TYPE_DOUBLE:
		*out = mig_value_double(bson_iter_double(it));
		return 0;
	case BSON_TYPE_UTF8:
		s = bson_iter_utf8(it, &n);
		if (!bson_utf8_validate(s, n, true))
			return corrupt(err, "string is not UTF-8");
		*out = jstr(s, n);
		return 0;
	case BSON_TYPE_DOCUMENT:
	case BSON_TYPE_ARRAY:
		if (depth >= MAX_DEPTH)
			return mig_error_set(err, MIG_EDATA, "documents nested deeper than %d", MAX_DEPTH);
		if (!bson_iter_recurse(it, &child))
			return corrupt(err, "bad embedded document");
		return doc_from_bson(out, &child, BSON_ITER_HOLDS_ARRAY(it), m, err, path, depth + 1);
	case BSON_TYPE_BINARY:
		bson_iter_binary(it, &st, &n, &data);
		*out = mig_value_binary(data, n, (int)st);
		return 0;
	case BSON_TYPE_UNDEFINED:
		*out = obj1("$undefined", json_true());
		return 0;
	case BSON_TYPE_OID:
		*out = mig_value_oid(bson_iter_oid(it)->bytes);
		return 0;
	case BSON_TYPE_BOOL:
		*out = json_boolean(bson_iter_bool(it));
		return 0;
	case BSON_TYPE_DATE_TIME:
		ms = bson_iter_date_time(it);
		if (ms < INT64_MIN / 1000 || ms > INT64_MAX / 1000)
			return mig_error_set(err, MIG_EDATA, "date out of range: %" PRId64 " ms", ms);
		*out = mig_value_date(ms * 1000);
		return 0;
	case BSON_TYPE_NULL:
		*out = json_null();
		return 0;
	case BSON_TYPE_REGEX:
		s = bson_iter_regex(it, &s2);
		if (!bson_utf8_validate(s, strlen(s), false) || !bson_utf8_validate(s2, strlen(s2), false))
			return corrupt(err, "regex is not UTF-8");
		*out = obj1("$regularExpression", obj2("pattern", json_string_nocheck(s),
						       "options", sorted_options(s2)));
		return 0;
	case BSON_TYPE_DBPOINTER:
		bson_iter_dbpointer(it, &n, &s, &oid);
		if (!bson_utf8_validate(s, n, true))
			return corrupt(err, "DBPointer collection is not UTF-8");
		*out = obj1("$dbPointer", obj2("$ref", jstr(s, n), "$id", mig_value_oid(oid->bytes)));
		return 0;
	case BSON_TYPE_CODE:
	case BSON_TYPE_SYMBOL:
		t = bson_iter_type(it) == BSON_TYPE_CODE;
		s = t ? bson_iter_code(it, &n) : bson_iter_symbol(it, &n);
		if (!bson_utf8_validate(s, n, true))
			return corrupt(err, "string is not UTF-8");
		*out = obj1(t ? "$code" : "$symbol", jstr(s, n));
		return 0;
	case BSON_TYPE_CODEWSCOPE:
		s = bson_iter_codewscope(it, &n, &n2, &data);
		if (!bson_utf8_validate(s, n, true))
			return corrupt(err, "code is not UTF-8");
		if (depth >= MAX_DEPTH)
			return mig_error_set(err, MIG_EDATA, "documents nested deeper than %d", MAX_DEPTH);
		if (!bson_init_static(&scope, data, n2) || !bson_iter_init(&child, &scope))
			return corrupt(err, "bad $scope document");
		if ((rc = doc_from_bson(&v, &child, 0, m, err, path, depth + 1))) {
			path_key(path, "$scope", 6);
			return rc;
		}
		*out = obj2("$code", jstr(s, n), "$scope", v);
		return 0;
	case BSON_TYPE_INT32:
		*out = json_integer(bson_iter_int32(it));
		return 0;
	case BSON_TYPE_TIMESTAMP:
		bson_iter_timestamp(it, &t, &i);
		*out = obj1("$timestamp", obj2("t", json_integer(t), "i", json_integer(i)));
		return 0;
	case BSON_TYPE_INT64:
		*out = m == MIG_JSON_CANONICAL ? mig_value_long(bson_iter_int64(it))
					       : json_integer(bson_iter_int64(it));
		return 0;
	case BSON_TYPE_DECIMAL128:
		bson_iter_decimal128(it, &dec);
		bson_decimal128_to_string(&dec, dbuf);
		*out = mig_value_decimal(dbuf);
		return 0;
	case BSON_TYPE_MAXKEY:
		*out = obj1("$maxKey", json_integer(1));
		return 0;
	case BSON_TYPE_MINKEY:
		*out = obj1("$minKey", json_integer(1));
		return 0;
	default:
		return mig_error_set(err, MIG_EDATA, "unknown BSON type 0x%02x", (unsigned)bson_iter_type(it));
	}
}

static int doc_from_bson(json_t **out, bson_iter_t *it, int is_array, enum mig_json_mode m,
			 struct mig_error *err, struct path *path, int depth)
{
	json_t *c = is_array ? json_array() : json_object();
	size_t idx = 0;
	int rc = 0;

	if (!c)
		return mig_error_set(err, MIG_ENOMEM, "out of memory");
	for (; bson_iter_next(it); idx++) {
		const char *k = bson_iter_key(it);
		size_t kn = bson_iter_key_len(it);
		json_t *v = NULL;
		if (!is_array && !bson_utf8_validate(k, kn, false))
			rc = corrupt(err, "key is not UTF-8");
		else if ((rc = elem_from_bson(&v, it, m, err, path, depth)))
			;
		else if (!v || (is_array ? json_array_append_new(c, v)
					 : json_object_setn_new_nocheck(c, k, kn, v)))
			rc = mig_error_set(err, MIG_ENOMEM, "out of memory");
		if (rc) {
			if (is_array)
				path_index(path, idx);
			else
				path_key(path, k, kn);
			goto out;
		}
	}
	if (it->err_off)
		rc = mig_error_set(err, MIG_EDATA, "corrupt BSON at offset %u", (unsigned)it->err_off);
out:
	if (rc)
		json_decref(c);
	else
		*out = c;
	return rc;
}

int mig_value_from_bson(json_t **out, const bson_t *doc, enum mig_json_mode mode,
			struct mig_error *err)
{
	struct path path;
	bson_iter_t it;

	*out = NULL;
	if (!bson_iter_init(&it, doc))
		return corrupt(err, "bad document header");
	path_init(&path);
	return path_error(err, doc_from_bson(out, &it, 0, mode, err, &path, 0), &path);
}
