/*
 * func.c - the functions of the mapping language (mig-map(5), FUNCTIONS).
 *
 * Each takes its evaluated arguments (borrowed) and returns a new
 * reference, or fails with map_fail() naming the call.  Unless said
 * otherwise a null first argument gives null.  Nothing here reaches the
 * shell, the network or the file system.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <ctype.h>
#include <errno.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <wctype.h>

#include <openssl/evp.h>
#include <pcre2.h>

#include "mig/stream.h"
#include "mig/value.h"
#include "map/map_int.h"

#define FN(name) static int f_##name(struct ctx *x, const struct node *n, json_t **a, \
				     size_t na, json_t **out)
#define NULL_IN() do { if (json_is_null(a[0])) { *out = json_null(); return 0; } } while (0)
#define TNAME(v) mig_vtype_name(mig_value_type(v))

static int oom(struct ctx *x)
{
	return mig_error_set(x->err, MIG_ENOMEM, "out of memory");
}

/* ---- UTF-8 ---- */

static size_t u8_decode(const unsigned char *s, size_t n, size_t i, unsigned *cp)
{
	unsigned c = s[i];
	size_t k = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
	if (i + k > n)
		k = 1;
	switch (k) {
	case 1: *cp = c; break;
	case 2: *cp = ((c & 0x1F) << 6) | (s[i + 1] & 0x3F); break;
	case 3: *cp = ((c & 0x0F) << 12) | ((s[i + 1] & 0x3F) << 6) | (s[i + 2] & 0x3F); break;
	default:
		*cp = ((c & 0x07) << 18) | ((s[i + 1] & 0x3F) << 12) | ((s[i + 2] & 0x3F) << 6) |
		      (s[i + 3] & 0x3F);
	}
	return k;
}

static size_t u8_encode(char *o, unsigned cp)
{
	if (cp < 0x80) {
		o[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (char)(0xC0 | (cp >> 6));
		o[1] = (char)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (char)(0xE0 | (cp >> 12));
		o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		o[2] = (char)(0x80 | (cp & 0x3F));
		return 3;
	}
	o[0] = (char)(0xF0 | (cp >> 18));
	o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
	o[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
	o[3] = (char)(0x80 | (cp & 0x3F));
	return 4;
}

/* Byte offsets of the code points of s: off[i] for i in 0..count. */
static size_t *u8_offsets(const char *s, size_t n, size_t *count)
{
	size_t *off = malloc((n + 1) * sizeof *off), c = 0;
	unsigned cp;
	if (!off)
		return NULL;
	for (size_t i = 0; i < n; i += u8_decode((const unsigned char *)s, n, i, &cp))
		off[c++] = i;
	off[c] = n;
	*count = c;
	return off;
}

static size_t u8_len(const char *s, size_t n)
{
	size_t c = 0;
	for (size_t i = 0; i < n; i++)
		c += ((unsigned char)s[i] & 0xC0) != 0x80;
	return c;
}

static int need_string(struct ctx *x, const struct node *n, const json_t *v, const char *what)
{
	if (json_is_string(v))
		return 0;
	return map_fail(x, n, "%s: %s is %s, not a string", n->fn->name, what, TNAME(v));
}

static int need_int(struct ctx *x, const struct node *n, const json_t *v, const char *what,
		    int64_t lo, int64_t hi, int64_t *out)
{
	if (mig_value_get_int(v, out, NULL) || *out < lo || *out > hi)
		return map_fail(x, n, "%s: %s must be an int from %lld to %lld", n->fn->name, what,
				(long long)lo, (long long)hi);
	return 0;
}

/* ---- conversions ---- */

FN(string)
{
	NULL_IN();
	if (na == 2) {
		int64_t us;
		char buf[512];
		struct tm tm;
		time_t t;
		if (need_string(x, n, a[1], "the format"))
			return MIG_EDATA;
		if (mig_value_get_date(a[0], &us, NULL))
			return map_fail(x, n, "string: a format is for a date, not %s", TNAME(a[0]));
		t = (time_t)(us >= 0 ? us / 1000000 : -((-us + 999999) / 1000000));
		if (!gmtime_r(&t, &tm))
			return map_fail(x, n, "string: date out of range");
		size_t k = strftime(buf, sizeof buf, json_string_value(a[1]), &tm);
		if (k == 0 && json_string_length(a[1]) > 0)
			return map_fail(x, n, "string: the format gives nothing or too much");
		*out = json_stringn(buf, k);
		return *out ? 0 : map_fail(x, n, "string: the format gives invalid UTF-8");
	}
	if (map_to_string(out, a[0]))
		return map_fail(x, n, "string: cannot convert %s", TNAME(a[0]));
	return 0;
}

static const char *skip_ws(const char *s, size_t *len)
{
	while (*len && isspace((unsigned char)*s))
		s++, (*len)--;
	while (*len && isspace((unsigned char)s[*len - 1]))
		(*len)--;
	return s;
}

/* int() of any value into *out; *is_long set for a $numberLong. */
static int to_int(struct ctx *x, const struct node *n, const json_t *v, int64_t *out,
		  int *is_long)
{
	double d;
	int64_t us;
	struct dec q;
	const char *s;

	*is_long = 0;
	switch (mig_value_type(v)) {
	case MIG_V_INT:
		*is_long = json_is_object(v) && json_object_get(v, "$numberLong");
		mig_value_get_int(v, out, NULL);
		return 0;
	case MIG_V_BOOL:
		*out = json_is_true(v);
		return 0;
	case MIG_V_DOUBLE:
		mig_value_get_double(v, &d, NULL);
		if (!isfinite(d) || d >= 9223372036854775808.0 || d < -9223372036854775808.0)
			return map_fail(x, n, "%s: %g is out of the int range", n->fn->name, d);
		*out = (int64_t)d;
		return 0;
	case MIG_V_DECIMAL:
		mig_value_get_decimal(v, &s, NULL);
		if (map_dec_parse(&q, s, strlen(s)) || map_dec_to_i64(&q, out))
			return map_fail(x, n, "%s: %s is out of the int range", n->fn->name, s);
		return 0;
	case MIG_V_DATE:
		mig_value_get_date(v, &us, NULL);
		*out = us >= 0 ? us / 1000 : -((-us + 999) / 1000);
		return 0;
	case MIG_V_STRING: {
		size_t len = json_string_length(v);
		const char *p = skip_ws(json_string_value(v), &len), *e = p + len;
		int neg = 0;
		uint64_t u = 0;
		if (p < e && (*p == '-' || *p == '+'))
			neg = *p++ == '-';
		if (p == e)
			goto bad;
		for (; p < e; p++) {
			if (*p < '0' || *p > '9')
				goto bad;
			if (u > (UINT64_MAX - 9) / 10)
				goto range;
			u = u * 10 + (unsigned)(*p - '0');
		}
		if (neg ? u > (uint64_t)INT64_MAX + 1 : u > (uint64_t)INT64_MAX)
			goto range;
		*out = neg ? (int64_t)(0 - u) : (int64_t)u;
		return 0;
bad:
		return map_fail(x, n, "%s: not an integer: \"%.100s\"", n->fn->name,
				json_string_value(v));
range:
		return map_fail(x, n, "%s: out of the int range: \"%.100s\"", n->fn->name,
				json_string_value(v));
	}
	default:
		return map_fail(x, n, "%s: cannot convert %s", n->fn->name, TNAME(v));
	}
}

FN(int)
{
	int64_t i;
	int l;
	NULL_IN();
	if (to_int(x, n, a[0], &i, &l))
		return MIG_EDATA;
	*out = l ? mig_value_long(i) : json_integer(i);
	return 0;
}

FN(long)
{
	int64_t i;
	int l;
	NULL_IN();
	if (to_int(x, n, a[0], &i, &l))
		return MIG_EDATA;
	*out = mig_value_long(i);
	return 0;
}

FN(float)
{
	int64_t i;
	double d;
	struct dec q;
	const char *s;

	NULL_IN();
	switch (mig_value_type(a[0])) {
	case MIG_V_DOUBLE:
		*out = json_incref(a[0]);
		return 0;
	case MIG_V_INT:
		mig_value_get_int(a[0], &i, NULL);
		*out = json_real((double)i);
		return 0;
	case MIG_V_BOOL:
		*out = json_real(json_is_true(a[0]) ? 1.0 : 0.0);
		return 0;
	case MIG_V_DECIMAL:
		mig_value_get_decimal(a[0], &s, NULL);
		if (map_dec_parse(&q, s, strlen(s)) == 0)
			d = map_dec_to_double(&q);
		else
			d = strcmp(s, "NaN") == 0 ? NAN : *s == '-' ? -INFINITY : INFINITY;
		*out = mig_value_double(d);
		return 0;
	case MIG_V_STRING: {
		size_t len = json_string_length(a[0]);
		char buf[128], *end;
		s = skip_ws(json_string_value(a[0]), &len);
		if (len == 0 || len >= sizeof buf)
			goto bad;
		memcpy(buf, s, len);
		buf[len] = '\0';
		if (strcmp(buf, "NaN") == 0 || strcmp(buf, "Infinity") == 0 ||
		    strcmp(buf, "-Infinity") == 0) {
			*out = mig_value_double(buf[0] == 'N' ? NAN : buf[0] == '-' ? -INFINITY
									  : INFINITY);
			return 0;
		}
		if (strspn(buf, "0123456789+-.eE") != len)
			goto bad;
		errno = 0;
		d = strtod(buf, &end);
		if (*end || end == buf || !isfinite(d))
			goto bad;
		*out = json_real(d);
		return 0;
bad:
		return map_fail(x, n, "float: not a number: \"%.100s\"", json_string_value(a[0]));
	}
	default:
		return map_fail(x, n, "float: cannot convert %s", TNAME(a[0]));
	}
}

FN(decimal)
{
	struct dec q;
	int64_t scale = -1;
	int rc;

	NULL_IN();
	if (na == 2 && need_int(x, n, a[1], "the scale", 0, 34, &scale))
		return MIG_EDATA;
	switch (mig_value_type(a[0])) {
	case MIG_V_INT:
	case MIG_V_DOUBLE:
	case MIG_V_DECIMAL:
		rc = map_dec_of(&q, a[0]);
		if (rc == -2) {
			if (mig_value_type(a[0]) == MIG_V_DECIMAL && scale < 0) {
				*out = json_incref(a[0]);
				return 0;
			}
			return map_fail(x, n, "decimal: not a finite number");
		}
		break;
	case MIG_V_STRING: {
		size_t len = json_string_length(a[0]);
		const char *s = skip_ws(json_string_value(a[0]), &len);
		rc = map_dec_parse(&q, s, len);
		if (rc == -2 && scale < 0) {
			char buf[16];
			snprintf(buf, sizeof buf, "%s%s", *s == '-' ? "-" : "",
				 strstr(s, "NaN") ? "NaN" : "Infinity");
			*out = mig_value_decimal(buf);
			return 0;
		}
		if (rc)
			return map_fail(x, n, "decimal: not a decimal number: \"%.100s\"",
					json_string_value(a[0]));
		break;
	}
	default:
		return map_fail(x, n, "decimal: cannot convert %s", TNAME(a[0]));
	}
	if (scale >= 0 && map_dec_quantize(&q, (int)scale))
		return map_fail(x, n, "decimal: too many digits for scale %lld", (long long)scale);
	*out = map_dec_json(&q);
	return 0;
}

FN(bool)
{
	static const char *const yes[] = { "true", "t", "yes", "y", "on", "1" };
	static const char *const no[] = { "false", "f", "no", "n", "off", "0" };
	int64_t i;
	double d;

	NULL_IN();
	switch (mig_value_type(a[0])) {
	case MIG_V_BOOL:
		*out = json_incref(a[0]);
		return 0;
	case MIG_V_INT:
		mig_value_get_int(a[0], &i, NULL);
		*out = json_boolean(i != 0);
		return 0;
	case MIG_V_DOUBLE:
		mig_value_get_double(a[0], &d, NULL);
		*out = json_boolean(d != 0);
		return 0;
	case MIG_V_STRING: {
		size_t len = json_string_length(a[0]);
		const char *s = skip_ws(json_string_value(a[0]), &len);
		for (size_t k = 0; k < 6; k++) {
			if (strlen(yes[k]) == len && strncasecmp(s, yes[k], len) == 0) {
				*out = json_true();
				return 0;
			}
			if (strlen(no[k]) == len && strncasecmp(s, no[k], len) == 0) {
				*out = json_false();
				return 0;
			}
		}
		return map_fail(x, n, "bool: not a boolean: \"%.100s\"", json_string_value(a[0]));
	}
	default:
		return map_fail(x, n, "bool: cannot convert %s", TNAME(a[0]));
	}
}

/* Seconds (or ms, us) since the epoch as microseconds; -1 on overflow. */
static int scale_epoch(double v, int unit, int64_t *us)
{
	double f = unit == 0 ? 1e6 : unit == 1 ? 1e3 : 1;
	double r = v * f;
	if (!isfinite(r) || r >= 9.2e18 || r <= -9.2e18)
		return -1;
	*us = (int64_t)llround(r);
	return 0;
}

FN(date)
{
	int64_t us, i;
	double d;
	int unit = -1;   /* 0 s, 1 ms, 2 us; -1 by magnitude */
	const char *fmt = NULL;

	NULL_IN();
	if (na == 2) {
		if (need_string(x, n, a[1], "the format"))
			return MIG_EDATA;
		fmt = json_string_value(a[1]);
		unit = strcmp(fmt, "s") == 0 ? 0 : strcmp(fmt, "ms") == 0 ? 1
		     : strcmp(fmt, "us") == 0 ? 2 : -1;
		if (unit >= 0)
			fmt = NULL;
	}
	switch (mig_value_type(a[0])) {
	case MIG_V_DATE:
		*out = json_incref(a[0]);
		return 0;
	case MIG_V_INT:
	case MIG_V_DOUBLE:
	case MIG_V_DECIMAL:
		if (fmt)
			return map_fail(x, n, "date: the unit of a number is \"s\", \"ms\" or \"us\"");
		if (mig_value_type(a[0]) == MIG_V_INT) {
			mig_value_get_int(a[0], &i, NULL);
			d = (double)i;
		} else if (mig_value_type(a[0]) == MIG_V_DOUBLE) {
			mig_value_get_double(a[0], &d, NULL);
		} else {
			struct dec q;
			if (map_dec_of(&q, a[0]))
				return map_fail(x, n, "date: not a finite number");
			d = map_dec_to_double(&q);
			i = 0;
		}
		if (unit < 0)
			unit = fabs(d) < 1e11 ? 0 : 1;
		if (mig_value_type(a[0]) == MIG_V_INT && unit > 0) {
			if (__builtin_mul_overflow(i, unit == 1 ? 1000 : 1, &us))
				return map_fail(x, n, "date: out of range");
		} else if (mig_value_type(a[0]) == MIG_V_INT) {
			if (__builtin_mul_overflow(i, 1000000, &us))
				return map_fail(x, n, "date: out of range");
		} else if (scale_epoch(d, unit, &us)) {
			return map_fail(x, n, "date: out of range");
		}
		break;
	case MIG_V_STRING: {
		const char *s = json_string_value(a[0]);
		if (unit >= 0) {
			char *end;
			errno = 0;
			d = strtod(s, &end);
			if (end == s || *end || !isfinite(d) || scale_epoch(d, unit, &us))
				return map_fail(x, n, "date: not a number: \"%.100s\"", s);
			break;
		}
		if (!fmt) {
			if (mig_date_parse(s, json_string_length(a[0]), &us, NULL))
				return map_fail(x, n, "date: not an ISO-8601 date-time: \"%.100s\"", s);
			break;
		}
		struct tm tm;
		memset(&tm, 0, sizeof tm);
		tm.tm_mday = 1;
		const char *end = strptime(s, fmt, &tm);
		while (end && isspace((unsigned char)*end))
			end++;
		if (!end || *end)
			return map_fail(x, n, "date: \"%.100s\" does not match \"%.100s\"", s, fmt);
		long off = tm.tm_gmtoff;
		time_t t = timegm(&tm);
		us = ((int64_t)t - off) * 1000000;
		break;
	}
	default:
		return map_fail(x, n, "date: cannot convert %s", TNAME(a[0]));
	}
	*out = mig_value_date(us);
	return 0;
}

static int random_bytes(void *p, size_t n)
{
	size_t got = 0;
	while (got < n) {
		ssize_t k = getrandom((char *)p + got, n - got, 0);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		got += (size_t)k;
	}
	return 0;
}

FN(oid)
{
	static uint8_t proc[5];
	static uint32_t counter;
	static int init;
	uint8_t b[12];

	if (na == 0) {
		if (!init) {
			uint8_t r[8];
			if (random_bytes(r, sizeof r))
				return map_fail(x, n, "oid: no random bytes");
			memcpy(proc, r, 5);
			counter = (uint32_t)r[5] << 16 | (uint32_t)r[6] << 8 | r[7];
			init = 1;
		}
		uint32_t t = (uint32_t)time(NULL), c = counter++ & 0xFFFFFF;
		b[0] = (uint8_t)(t >> 24), b[1] = (uint8_t)(t >> 16), b[2] = (uint8_t)(t >> 8);
		b[3] = (uint8_t)t;
		memcpy(b + 4, proc, 5);
		b[9] = (uint8_t)(c >> 16), b[10] = (uint8_t)(c >> 8), b[11] = (uint8_t)c;
		*out = mig_value_oid(b);
		return 0;
	}
	NULL_IN();
	if (mig_value_type(a[0]) == MIG_V_OID) {
		*out = json_incref(a[0]);
		return 0;
	}
	if (json_is_string(a[0]) && json_string_length(a[0]) == 24) {
		const char *s = json_string_value(a[0]);
		int ok = 1;
		for (int k = 0; k < 24 && ok; k++)
			ok = isxdigit((unsigned char)s[k]);
		if (ok) {
			for (int k = 0; k < 12; k++) {
				char h[3] = { s[2 * k], s[2 * k + 1], 0 };
				b[k] = (uint8_t)strtoul(h, NULL, 16);
			}
			*out = mig_value_oid(b);
			return 0;
		}
	}
	if (json_is_string(a[0]))
		return map_fail(x, n, "oid: not 24 hex digits: \"%.100s\"", json_string_value(a[0]));
	return map_fail(x, n, "oid: cannot convert %s", TNAME(a[0]));
}

FN(uuid)
{
	uint8_t b[16];

	if (na == 0) {
		if (random_bytes(b, 16))
			return map_fail(x, n, "uuid: no random bytes");
		b[6] = (uint8_t)((b[6] & 0x0F) | 0x40);
		b[8] = (uint8_t)((b[8] & 0x3F) | 0x80);
		*out = mig_value_binary(b, 16, 4);
		return 0;
	}
	NULL_IN();
	if (mig_value_type(a[0]) == MIG_V_BINARY) {
		uint8_t *p;
		size_t np;
		int sub;
		if (mig_value_get_binary(a[0], &p, &np, &sub, NULL))
			return oom(x);
		free(p);
		if (np == 16 && (sub == 4 || sub == 3)) {
			*out = json_incref(a[0]);
			return 0;
		}
		return map_fail(x, n, "uuid: a binary of subtype %d and %zu bytes is not a UUID",
				sub, np);
	}
	if (json_is_string(a[0])) {
		const char *s = json_string_value(a[0]);
		size_t len = json_string_length(a[0]), k = 0;
		if (len == 38 && s[0] == '{' && s[37] == '}')
			s++, len -= 2;
		for (size_t i = 0; i < len && k < 32; i++) {
			if (s[i] == '-' && (len == 36 && (i == 8 || i == 13 || i == 18 || i == 23)))
				continue;
			if (!isxdigit((unsigned char)s[i]))
				break;
			char h[2] = { s[i], 0 };
			unsigned v = (unsigned)strtoul(h, NULL, 16);
			if (k % 2 == 0)
				b[k / 2] = (uint8_t)(v << 4);
			else
				b[k / 2] |= (uint8_t)v;
			k++;
			if (k == 32 && i + 1 != len)
				k = 99;
		}
		if (k == 32 && (len == 32 || len == 36)) {
			*out = mig_value_binary(b, 16, 4);
			return 0;
		}
		return map_fail(x, n, "uuid: not a UUID: \"%.100s\"", json_string_value(a[0]));
	}
	return map_fail(x, n, "uuid: cannot convert %s", TNAME(a[0]));
}

/* ---- strings ---- */

static locale_t utf8_locale(void)
{
	static locale_t loc;
	static int tried;
	if (!tried) {
		tried = 1;
		loc = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
	}
	return loc;
}

static int change_case(struct ctx *x, const struct node *n, json_t **a, json_t **out, int up)
{
	const unsigned char *s;
	size_t len, o = 0;
	char *buf;
	locale_t loc = utf8_locale();

	NULL_IN();
	if (need_string(x, n, a[0], "the argument"))
		return MIG_EDATA;
	s = (const unsigned char *)json_string_value(a[0]);
	len = json_string_length(a[0]);
	buf = malloc(len * 2 + 4);
	if (!buf)
		return oom(x);
	for (size_t i = 0; i < len;) {
		unsigned cp;
		i += u8_decode(s, len, i, &cp);
		if (cp < 0x80)
			cp = (unsigned)(up ? toupper((int)cp) : tolower((int)cp));
		else if (loc)
			cp = (unsigned)(up ? towupper_l((wint_t)cp, loc) : towlower_l((wint_t)cp, loc));
		o += u8_encode(buf + o, cp);
	}
	*out = json_stringn(buf, o);
	free(buf);
	return *out ? 0 : oom(x);
}

FN(lower) { return change_case(x, n, a, out, 0); }
FN(upper) { return change_case(x, n, a, out, 1); }

static int do_trim(struct ctx *x, const struct node *n, json_t **a, size_t na, json_t **out,
		   int left, int right)
{
	const char *set = " \t\n\r\f\v", *s;
	size_t len, b = 0;

	NULL_IN();
	if (need_string(x, n, a[0], "the argument") ||
	    (na == 2 && need_string(x, n, a[1], "the characters")))
		return MIG_EDATA;
	if (na == 2)
		set = json_string_value(a[1]);
	s = json_string_value(a[0]);
	len = json_string_length(a[0]);
	/* the set is of bytes: ASCII characters (documented) */
	while (left && b < len && (unsigned char)s[b] < 0x80 && strchr(set, s[b]) && s[b])
		b++;
	while (right && len > b && (unsigned char)s[len - 1] < 0x80 && strchr(set, s[len - 1]) &&
	       s[len - 1])
		len--;
	*out = json_stringn_nocheck(s + b, len - b);
	return 0;
}

FN(trim) { return do_trim(x, n, a, na, out, 1, 1); }
FN(ltrim) { return do_trim(x, n, a, na, out, 1, 0); }
FN(rtrim) { return do_trim(x, n, a, na, out, 0, 1); }

FN(concat)
{
	int arrays = 0, others = 0;
	struct mig_buf b;
	json_t *s;

	for (size_t i = 0; i < na; i++) {
		if (json_is_null(a[i]))
			continue;
		if (json_is_array(a[i]))
			arrays++;
		else
			others++;
	}
	if (arrays && !others) {
		*out = json_array();
		for (size_t i = 0; i < na; i++)
			if (!json_is_null(a[i]))
				json_array_extend(*out, a[i]);
		return 0;
	}
	mig_buf_init(&b, 0);
	mig_buf_reserve(&b, 64);
	for (size_t i = 0; i < na; i++) {
		if (json_is_null(a[i]))
			continue;
		if (map_to_string(&s, a[i])) {
			mig_buf_free(&b);
			return oom(x);
		}
		mig_buf_append(&b, json_string_value(s), json_string_length(s));
		json_decref(s);
	}
	*out = json_stringn_nocheck(b.data ? b.data : "", b.len);
	mig_buf_free(&b);
	return 0;
}

FN(split)
{
	const char *s, *sep, *p;
	size_t len, sl;

	NULL_IN();
	if (need_string(x, n, a[0], "the argument") || need_string(x, n, a[1], "the separator"))
		return MIG_EDATA;
	s = json_string_value(a[0]);
	len = json_string_length(a[0]);
	sep = json_string_value(a[1]);
	sl = json_string_length(a[1]);
	*out = json_array();
	if (len == 0)
		return 0;
	if (sl == 0) {
		unsigned cp;
		for (size_t i = 0; i < len;) {
			size_t k = u8_decode((const unsigned char *)s, len, i, &cp);
			json_array_append_new(*out, json_stringn_nocheck(s + i, k));
			i += k;
		}
		return 0;
	}
	for (p = s;;) {
		const char *q = memmem(p, len - (size_t)(p - s), sep, sl);
		if (!q) {
			json_array_append_new(*out, json_stringn_nocheck(p, len - (size_t)(p - s)));
			return 0;
		}
		json_array_append_new(*out, json_stringn_nocheck(p, (size_t)(q - p)));
		p = q + sl;
	}
}

FN(join)
{
	struct mig_buf b;
	const char *sep = "";
	size_t sl = 0, i, k = 0;
	json_t *e, *s;

	NULL_IN();
	if (!json_is_array(a[0]))
		return map_fail(x, n, "join: the argument is %s, not an array", TNAME(a[0]));
	if (na == 2) {
		if (need_string(x, n, a[1], "the separator"))
			return MIG_EDATA;
		sep = json_string_value(a[1]);
		sl = json_string_length(a[1]);
	}
	mig_buf_init(&b, 0);
	mig_buf_reserve(&b, 64);
	json_array_foreach(a[0], i, e) {
		enum mig_vtype t = mig_value_type(e);
		if (t == MIG_V_NULL)
			continue;
		if (t == MIG_V_OBJECT || t == MIG_V_ARRAY) {
			mig_buf_free(&b);
			return map_fail(x, n, "join: element %zu is %s", i, mig_vtype_name(t));
		}
		if (map_to_string(&s, e)) {
			mig_buf_free(&b);
			return oom(x);
		}
		if (k++)
			mig_buf_append(&b, sep, sl);
		mig_buf_append(&b, json_string_value(s), json_string_length(s));
		json_decref(s);
	}
	*out = json_stringn_nocheck(b.data ? b.data : "", b.len);
	mig_buf_free(&b);
	return 0;
}

/* ---- regular expressions (PCRE2, compiled with the mapping) ---- */

struct regex {
	pcre2_code *code;
	pcre2_match_data *md;
};

static void regex_free(void *p)
{
	struct regex *r = p;
	if (!r)
		return;
	pcre2_match_data_free(r->md);
	pcre2_code_free(r->code);
	free(r);
}

/* The pattern argument (index pi) and optional flags (index fi) must be
 * literals: compiled here, once. */
static int regex_check(struct node *call, size_t pi, size_t fi, char *msg, size_t msgsz)
{
	struct regex *r;
	uint32_t opts = PCRE2_UTF | PCRE2_UCP;
	int ecode;
	PCRE2_SIZE eoff;

	if (call->kids[pi]->kind != N_CONST || !json_is_string(call->kids[pi]->v)) {
		snprintf(msg, msgsz, "%s: the pattern must be a string literal", call->fn->name);
		return -(int)pi - 1;
	}
	if (call->nkids > fi) {
		const char *f;
		if (call->kids[fi]->kind != N_CONST || !json_is_string(call->kids[fi]->v)) {
			snprintf(msg, msgsz, "%s: the flags must be a string literal", call->fn->name);
			return -(int)fi - 1;
		}
		for (f = json_string_value(call->kids[fi]->v); *f; f++) {
			switch (*f) {
			case 'i': opts |= PCRE2_CASELESS; break;
			case 'm': opts |= PCRE2_MULTILINE; break;
			case 's': opts |= PCRE2_DOTALL; break;
			case 'x': opts |= PCRE2_EXTENDED; break;
			default:
				snprintf(msg, msgsz, "%s: unknown flag '%c' (flags are i, m, s, x)",
					 call->fn->name, *f);
				return -(int)fi - 1;
			}
		}
	}
	r = calloc(1, sizeof *r);
	if (!r) {
		snprintf(msg, msgsz, "out of memory");
		return -1;
	}
	r->code = pcre2_compile((PCRE2_SPTR)json_string_value(call->kids[pi]->v),
				json_string_length(call->kids[pi]->v), opts, &ecode, &eoff, NULL);
	if (!r->code) {
		PCRE2_UCHAR why[256];
		pcre2_get_error_message(ecode, why, sizeof why);
		snprintf(msg, msgsz, "%s: bad regular expression: %s (at offset %zu)",
			 call->fn->name, (char *)why, (size_t)eoff);
		free(r);
		return -(int)pi - 1;
	}
	pcre2_jit_compile(r->code, PCRE2_JIT_COMPLETE);
	r->md = pcre2_match_data_create_from_pattern(r->code, NULL);
	if (!r->md) {
		regex_free(r);
		snprintf(msg, msgsz, "out of memory");
		return -1;
	}
	call->data = r;
	return 0;
}

static int replace_check(struct node *call, char *msg, size_t msgsz)
{
	return regex_check(call, 1, 3, msg, msgsz);
}

static int matches_check(struct node *call, char *msg, size_t msgsz)
{
	return regex_check(call, 1, 2, msg, msgsz);
}

FN(replace)
{
	struct regex *r = n->data;
	PCRE2_UCHAR small[512], *buf = small;
	PCRE2_SIZE outlen = sizeof small;
	int rc;

	NULL_IN();
	if (need_string(x, n, a[0], "the argument") || need_string(x, n, a[2], "the replacement"))
		return MIG_EDATA;
	for (int pass = 0; pass < 2; pass++) {
		rc = pcre2_substitute(r->code, (PCRE2_SPTR)json_string_value(a[0]),
				      json_string_length(a[0]), 0,
				      PCRE2_SUBSTITUTE_GLOBAL | PCRE2_SUBSTITUTE_OVERFLOW_LENGTH |
				      PCRE2_NO_UTF_CHECK, r->md, NULL,
				      (PCRE2_SPTR)json_string_value(a[2]), json_string_length(a[2]),
				      buf, &outlen);
		if (rc != PCRE2_ERROR_NOMEMORY || pass)
			break;
		buf = malloc(outlen + 1);
		if (!buf)
			return oom(x);
	}
	if (rc < 0) {
		PCRE2_UCHAR why[256];
		pcre2_get_error_message(rc, why, sizeof why);
		if (buf != small)
			free(buf);
		return map_fail(x, n, "replace: %s", (char *)why);
	}
	*out = json_stringn((const char *)buf, outlen);
	if (buf != small)
		free(buf);
	return *out ? 0 : oom(x);
}

FN(matches)
{
	struct regex *r = n->data;
	int rc;

	NULL_IN();
	if (need_string(x, n, a[0], "the argument"))
		return MIG_EDATA;
	rc = pcre2_match(r->code, (PCRE2_SPTR)json_string_value(a[0]), json_string_length(a[0]),
			 0, PCRE2_NO_UTF_CHECK, r->md, NULL);
	if (rc < 0 && rc != PCRE2_ERROR_NOMATCH) {
		PCRE2_UCHAR why[256];
		pcre2_get_error_message(rc, why, sizeof why);
		return map_fail(x, n, "matches: %s", (char *)why);
	}
	*out = json_boolean(rc >= 0);
	return 0;
}

FN(substr)
{
	int64_t start, cnt = INT64_MAX;
	size_t count, *off;
	const char *s;

	NULL_IN();
	if (need_string(x, n, a[0], "the argument") ||
	    need_int(x, n, a[1], "the start", INT64_MIN / 2, INT64_MAX / 2, &start) ||
	    (na == 3 && need_int(x, n, a[2], "the length", 0, INT64_MAX / 2, &cnt)))
		return MIG_EDATA;
	s = json_string_value(a[0]);
	off = u8_offsets(s, json_string_length(a[0]), &count);
	if (!off)
		return oom(x);
	if (start < 0)
		start += (int64_t)count;
	if (start < 0)
		start = 0;
	if (start > (int64_t)count)
		start = (int64_t)count;
	if (cnt > (int64_t)count - start)
		cnt = (int64_t)count - start;
	*out = json_stringn_nocheck(s + off[start], off[start + cnt] - off[start]);
	free(off);
	return 0;
}

FN(len)
{
	switch (mig_value_type(a[0])) {
	case MIG_V_NULL:
		*out = json_integer(0);
		return 0;
	case MIG_V_STRING:
		*out = json_integer((json_int_t)u8_len(json_string_value(a[0]),
						       json_string_length(a[0])));
		return 0;
	case MIG_V_ARRAY:
		*out = json_integer((json_int_t)json_array_size(a[0]));
		return 0;
	case MIG_V_OBJECT:
		*out = json_integer((json_int_t)json_object_size(a[0]));
		return 0;
	default:
		return map_fail(x, n, "len: %s has no length", TNAME(a[0]));
	}
}

/* ---- numbers ---- */

FN(round)
{
	int64_t digits = -1;
	double d;
	struct dec q;

	NULL_IN();
	if (na == 2 && need_int(x, n, a[1], "the number of digits", 0, 34, &digits))
		return MIG_EDATA;
	switch (mig_value_type(a[0])) {
	case MIG_V_INT:
		*out = json_incref(a[0]);
		return 0;
	case MIG_V_DOUBLE:
		mig_value_get_double(a[0], &d, NULL);
		if (!isfinite(d))
			return map_fail(x, n, "round: not a finite number");
		if (digits < 0) {
			double r = round(d);
			if (r >= 9223372036854775808.0 || r < -9223372036854775808.0)
				return map_fail(x, n, "round: %g is out of the int range", d);
			*out = json_integer((json_int_t)r);
			return 0;
		}
		if (digits > 15) {
			*out = json_incref(a[0]);
			return 0;
		}
		/* through the shortest decimal text, so that 2.675 rounds to 2.68 */
		map_dec_from_double(&q, d);
		map_dec_quantize(&q, (int)digits);
		*out = json_real(map_dec_to_double(&q));
		return 0;
	case MIG_V_DECIMAL:
		if (map_dec_of(&q, a[0]))
			return map_fail(x, n, "round: not a finite number");
		if (map_dec_quantize(&q, digits < 0 ? 0 : (int)digits))
			return map_fail(x, n, "round: too many digits");
		*out = map_dec_json(&q);
		return 0;
	default:
		return map_fail(x, n, "round: %s is not a number", TNAME(a[0]));
	}
}

FN(abs)
{
	int64_t i;
	double d;
	struct dec q;

	NULL_IN();
	switch (mig_value_type(a[0])) {
	case MIG_V_INT:
		mig_value_get_int(a[0], &i, NULL);
		if (i == INT64_MIN)
			return map_fail(x, n, "abs: integer overflow");
		if (i >= 0)
			*out = json_incref(a[0]);
		else
			*out = json_is_object(a[0]) ? mig_value_long(-i) : json_integer(-i);
		return 0;
	case MIG_V_DOUBLE:
		mig_value_get_double(a[0], &d, NULL);
		*out = mig_value_double(fabs(d));
		return 0;
	case MIG_V_DECIMAL:
		if (map_dec_of(&q, a[0])) {
			*out = json_incref(a[0]);
			return 0;
		}
		q.neg = 0;
		*out = map_dec_json(&q);
		return 0;
	default:
		return map_fail(x, n, "abs: %s is not a number", TNAME(a[0]));
	}
}

static int extreme(struct ctx *x, const struct node *n, json_t **a, size_t na, json_t **out,
		   int want)
{
	json_t *best = NULL, *e;
	json_t **v = a;
	size_t nv = na, i;
	int c;

	if (na == 1 && json_is_array(a[0])) {
		nv = json_array_size(a[0]);
		v = NULL;
	}
	for (i = 0; i < nv; i++) {
		e = v ? v[i] : json_array_get(a[0], i);
		if (json_is_null(e))
			continue;
		if (best) {
			if (map_cmp(e, best, &c))
				return map_fail(x, n, "%s: cannot compare %s with %s", n->fn->name,
						TNAME(e), TNAME(best));
			if (c != want)
				continue;
		}
		best = e;
	}
	*out = best ? json_incref(best) : json_null();
	return 0;
}

FN(min) { return extreme(x, n, a, na, out, -1); }
FN(max) { return extreme(x, n, a, na, out, 1); }

/* ---- values ---- */

FN(type)
{
	*out = json_string(mig_vtype_name(mig_value_type(a[0])));
	return 0;
}

FN(keys)
{
	const char *k;
	json_t *e;

	NULL_IN();
	if (mig_value_type(a[0]) != MIG_V_OBJECT)
		return map_fail(x, n, "keys: %s is not an object", TNAME(a[0]));
	*out = json_array();
	json_object_foreach(a[0], k, e)
		json_array_append_new(*out, json_string_nocheck(k));
	return 0;
}

FN(now)
{
	*out = mig_value_date(x->m->now_us);
	return 0;
}

FN(hash)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;
	char text[2 * EVP_MAX_MD_SIZE + 1];
	struct mig_buf b;
	EVP_MD_CTX *c;
	int ok;

	NULL_IN();
	mig_buf_init(&b, 0);
	if (json_is_string(a[0]))
		mig_buf_append(&b, json_string_value(a[0]), json_string_length(a[0]));
	else if (mig_value_write(&b, a[0], MIG_JSON_RELAXED))
		return oom(x);
	c = EVP_MD_CTX_new();
	ok = c && EVP_DigestInit_ex(c, EVP_sha256(), NULL) &&
	     EVP_DigestUpdate(c, x->m->salt ? x->m->salt : "", x->m->salt_len) &&
	     EVP_DigestUpdate(c, b.data ? b.data : "", b.len) &&
	     EVP_DigestFinal_ex(c, md, &mdlen);
	EVP_MD_CTX_free(c);
	mig_buf_free(&b);
	if (!ok)
		return map_fail(x, n, "hash: SHA-256 failed");
	for (unsigned i = 0; i < mdlen; i++) {
		text[2 * i] = hex[md[i] >> 4];
		text[2 * i + 1] = hex[md[i] & 15];
	}
	*out = json_stringn_nocheck(text, 2 * mdlen);
	return 0;
}

/* The text of a JSON value, as mig's record parser reads it: wrappers
 * stay the typed values they stand for, and a malformed one is an error
 * here rather than a surprise in the store. */
FN(parse_json)
{
	struct mig_error e;

	NULL_IN();
	if (need_string(x, n, a[0], "the text"))
		return MIG_EDATA;
	if (mig_value_parse_text(out, json_string_value(a[0]), json_string_length(a[0]), &e) ||
	    mig_value_check(*out, &e)) {
		json_decref(*out);
		*out = NULL;
		if (e.code != MIG_EDATA)
			return mig_error_set(x->err, e.code, "%s", e.msg);
		return map_fail(x, n, "parse_json: %s", e.msg);
	}
	return 0;
}

/* Compact relaxed Extended JSON, as mig-map prints records. */
FN(to_json)
{
	struct mig_buf b;

	NULL_IN();
	mig_buf_init(&b, 0);
	if (mig_value_write(&b, a[0], MIG_JSON_RELAXED)) {
		mig_buf_free(&b);
		return oom(x);
	}
	*out = json_stringn_nocheck(b.data ? b.data : "", b.len);
	mig_buf_free(&b);
	return *out ? 0 : oom(x);
}

FN(mask)
{
	int64_t keep = 4;
	const char *ch = "*";
	size_t chl = 1, count, *off, o = 0;
	json_t *s;
	char *buf;

	NULL_IN();
	if (na >= 2 && need_int(x, n, a[1], "the number kept", 0, INT32_MAX, &keep))
		return MIG_EDATA;
	if (na == 3) {
		if (need_string(x, n, a[2], "the mask character"))
			return MIG_EDATA;
		ch = json_string_value(a[2]);
		chl = json_string_length(a[2]);
	}
	if (map_to_string(&s, a[0]))
		return oom(x);
	off = u8_offsets(json_string_value(s), json_string_length(s), &count);
	buf = off ? malloc(count * chl + json_string_length(s) + 1) : NULL;
	if (!buf) {
		free(off);
		json_decref(s);
		return oom(x);
	}
	/* N characters or fewer: all masked, so that a short value does not
	 * come out whole */
	size_t masked = (int64_t)count > keep ? count - (size_t)keep : count;
	for (size_t i = 0; i < masked; i++) {
		memcpy(buf + o, ch, chl);
		o += chl;
	}
	memcpy(buf + o, json_string_value(s) + off[masked], off[count] - off[masked]);
	o += off[count] - off[masked];
	*out = json_stringn_nocheck(buf, o);
	free(buf);
	free(off);
	json_decref(s);
	return 0;
}

FN(null_if)
{
	*out = map_equal(a[0], a[1]) ? json_null() : json_incref(a[0]);
	return 0;
}

FN(error)
{
	json_t *s;
	int rc;

	if (map_to_string(&s, a[0]))
		return oom(x);
	rc = map_fail(x, n, "%s", json_is_string(s) ? json_string_value(s) : "error()");
	json_decref(s);
	return rc;
}

static const struct func funcs[] = {
	{ "abs", 1, 1, f_abs, NULL, NULL },
	{ "bool", 1, 1, f_bool, NULL, NULL },
	{ "concat", 1, -1, f_concat, NULL, NULL },
	{ "date", 1, 2, f_date, NULL, NULL },
	{ "decimal", 1, 2, f_decimal, NULL, NULL },
	{ "error", 1, 1, f_error, NULL, NULL },
	{ "float", 1, 1, f_float, NULL, NULL },
	{ "hash", 1, 1, f_hash, NULL, NULL },
	{ "int", 1, 1, f_int, NULL, NULL },
	{ "join", 1, 2, f_join, NULL, NULL },
	{ "keys", 1, 1, f_keys, NULL, NULL },
	{ "len", 1, 1, f_len, NULL, NULL },
	{ "long", 1, 1, f_long, NULL, NULL },
	{ "lower", 1, 1, f_lower, NULL, NULL },
	{ "ltrim", 1, 2, f_ltrim, NULL, NULL },
	{ "mask", 1, 3, f_mask, NULL, NULL },
	{ "matches", 2, 3, f_matches, matches_check, regex_free },
	{ "max", 1, -1, f_max, NULL, NULL },
	{ "min", 1, -1, f_min, NULL, NULL },
	{ "now", 0, 0, f_now, NULL, NULL },
	{ "null_if", 2, 2, f_null_if, NULL, NULL },
	{ "oid", 0, 1, f_oid, NULL, NULL },
	{ "parse_json", 1, 1, f_parse_json, NULL, NULL },
	{ "replace", 3, 4, f_replace, replace_check, regex_free },
	{ "round", 1, 2, f_round, NULL, NULL },
	{ "rtrim", 1, 2, f_rtrim, NULL, NULL },
	{ "split", 2, 2, f_split, NULL, NULL },
	{ "string", 1, 2, f_string, NULL, NULL },
	{ "substr", 2, 3, f_substr, NULL, NULL },
	{ "to_json", 1, 1, f_to_json, NULL, NULL },
	{ "trim", 1, 2, f_trim, NULL, NULL },
	{ "type", 1, 1, f_type, NULL, NULL },
	{ "upper", 1, 1, f_upper, NULL, NULL },
	{ "uuid", 0, 1, f_uuid, NULL, NULL },
};

const struct func *map_func_find(const char *name, size_t len)
{
	for (size_t i = 0; i < sizeof funcs / sizeof funcs[0]; i++)
		if (strlen(funcs[i].name) == len && memcmp(funcs[i].name, name, len) == 0)
			return &funcs[i];
	return NULL;
}

const struct func *map_func_all(size_t *n)
{
	*n = sizeof funcs / sizeof funcs[0];
	return funcs;
}
