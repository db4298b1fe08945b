/*
 * format.c - "format" assertions (mig-validate --formats).
 *
 * date-time, date, time and duration per RFC 3339 (leap seconds only at
 * 23:59:60 UTC); email per RFC 5321 (dot-atom or quoted local part; host
 * name or address literal); hostname per RFC 1123; ipv4 (no leading
 * zeros) and ipv6 per RFC 4291 (no zone); uri, uri-reference, iri,
 * iri-reference per RFC 3986/3987; uri-template per RFC 6570 (syntax);
 * uuid; json-pointer and relative-json-pointer; regex (ECMA-262, as
 * "pattern" compiles them).  Unknown formats are valid.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "schema.h"

enum {
	FMT_DATE = 2, FMT_TIME, FMT_DURATION, FMT_EMAIL, FMT_IDN_EMAIL, FMT_HOSTNAME,
	FMT_IDN_HOSTNAME, FMT_IPV4, FMT_IPV6, FMT_URI, FMT_URI_REF, FMT_IRI, FMT_IRI_REF,
	FMT_URI_TEMPLATE, FMT_UUID, FMT_JSON_POINTER, FMT_REL_JSON_POINTER, FMT_REGEX
};

static const struct { const char *name; int id; } formats[] = {
	{ "date-time", FMT_DATE_TIME }, { "date", FMT_DATE }, { "time", FMT_TIME },
	{ "duration", FMT_DURATION }, { "email", FMT_EMAIL }, { "idn-email", FMT_IDN_EMAIL },
	{ "hostname", FMT_HOSTNAME }, { "idn-hostname", FMT_IDN_HOSTNAME },
	{ "ipv4", FMT_IPV4 }, { "ipv6", FMT_IPV6 }, { "uri", FMT_URI },
	{ "uri-reference", FMT_URI_REF }, { "iri", FMT_IRI }, { "iri-reference", FMT_IRI_REF },
	{ "uri-template", FMT_URI_TEMPLATE }, { "uuid", FMT_UUID },
	{ "json-pointer", FMT_JSON_POINTER }, { "relative-json-pointer", FMT_REL_JSON_POINTER },
	{ "regex", FMT_REGEX },
};

int mig_v_format_id(const char *name)
{
	for (size_t i = 0; i < sizeof formats / sizeof formats[0]; i++)
		if (strcmp(formats[i].name, name) == 0)
			return formats[i].id;
	return 0;
}

static int isdig(char c) { return c >= '0' && c <= '9'; }
static int ishex(char c) { return isdig(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
static int isalph(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

/* n digits at s into *v. */
static int num(const char *s, int n, int *v)
{
	*v = 0;
	for (int i = 0; i < n; i++) {
		if (!isdig(s[i]))
			return 0;
		*v = *v * 10 + (s[i] - '0');
	}
	return 1;
}

static int mdays(int y, int m)
{
	static const int d[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return 29;
	return d[m - 1];
}

static int is_date(const char *s, size_t n)
{
	int y, m, d;
	return n == 10 && num(s, 4, &y) && s[4] == '-' && num(s + 5, 2, &m) && s[7] == '-' &&
	       num(s + 8, 2, &d) && m >= 1 && m <= 12 && d >= 1 && d <= mdays(y, m);
}

/* RFC 3339 full-time: HH:MM:SS[.frac](Z|+HH:MM) */
static int is_time(const char *s, size_t n)
{
	int h, mi, sec, oh = 0, om = 0, sign = 0;
	size_t i = 8;

	if (n < 9 || !num(s, 2, &h) || s[2] != ':' || !num(s + 3, 2, &mi) || s[5] != ':' ||
	    !num(s + 6, 2, &sec))
		return 0;
	if (i < n && s[i] == '.') {
		size_t j = ++i;
		while (i < n && isdig(s[i]))
			i++;
		if (i == j)
			return 0;
	}
	if (i >= n)
		return 0;
	if (s[i] == 'Z' || s[i] == 'z') {
		if (i + 1 != n)
			return 0;
	} else if (s[i] == '+' || s[i] == '-') {
		sign = s[i] == '+' ? 1 : -1;
		if (n - i != 6 || !num(s + i + 1, 2, &oh) || s[i + 3] != ':' ||
		    !num(s + i + 4, 2, &om) || oh > 23 || om > 59)
			return 0;
	} else {
		return 0;
	}
	if (h > 23 || mi > 59 || sec > 60)
		return 0;
	if (sec == 60) {
		/* a leap second is 23:59:60 in UTC */
		int t = h * 60 + mi - sign * (oh * 60 + om);
		t = ((t % 1440) + 1440) % 1440;
		if (t != 23 * 60 + 59)
			return 0;
	}
	return 1;
}

static int is_date_time(const char *s, size_t n)
{
	return n > 11 && is_date(s, 10) && (s[10] == 'T' || s[10] == 't') &&
	       is_time(s + 11, n - 11);
}

/* P[nY][nM][nD][T[nH][nM][nS]] or PnW */
static int is_duration(const char *s, size_t n)
{
	static const char date_units[] = "YMD", time_units[] = "HMS";
	size_t i = 1;
	int any = 0, pos = 0;

	if (n < 2 || s[0] != 'P')
		return 0;
	if (s[n - 1] == 'W') {
		for (i = 1; i < n - 1; i++)
			if (!isdig(s[i]))
				return 0;
		return n > 2;
	}
	while (i < n && s[i] != 'T') {
		size_t j = i;
		while (i < n && isdig(s[i]))
			i++;
		if (i == j || i >= n)
			return 0;
		const char *u = strchr(date_units + pos, s[i]);
		/* RFC 3339 appendix A: Y, M, D follow one another without a gap */
		if (!u || !s[i] || (any && u - date_units != pos))
			return 0;
		pos = (int)(u - date_units) + 1;
		any = 1;
		i++;
	}
	if (i < n && s[i] == 'T') {
		int tany = 0;
		pos = 0;
		i++;
		while (i < n) {
			size_t j = i;
			while (i < n && isdig(s[i]))
				i++;
			if (i == j || i >= n)
				return 0;
			const char *u = strchr(time_units + pos, s[i]);
			if (!u || !s[i] || (tany && u - time_units != pos))
				return 0;
			pos = (int)(u - time_units) + 1;
			tany = 1;
			i++;
		}
		if (!tany)
			return 0;
		any = 1;
	}
	return any && i == n;
}

static int is_ipv4(const char *s, size_t n)
{
	size_t i = 0;
	for (int part = 0; part < 4; part++) {
		int v = 0, digits = 0;
		if (part) {
			if (i >= n || s[i] != '.')
				return 0;
			i++;
		}
		while (i < n && isdig(s[i])) {
			if (digits == 1 && v == 0)
				return 0;       /* a leading zero */
			v = v * 10 + (s[i] - '0');
			if (++digits > 3)
				return 0;
			i++;
		}
		if (!digits || v > 255)
			return 0;
	}
	return i == n;
}

static int is_ipv6(const char *s, size_t n)
{
	int groups = 0, dbl = 0;
	size_t i = 0;

	if (n < 2)
		return 0;
	if (s[0] == ':') {
		if (s[1] != ':')
			return 0;
		dbl = 1;
		i = 2;
		if (n == 2)
			return 1;
	}
	while (i < n) {
		size_t j = i;
		while (j < n && ishex(s[j]) && j - i < 5)
			j++;
		if (j < n && s[j] == '.') {
			/* an embedded IPv4 address ends it */
			if (!is_ipv4(s + i, n - i))
				return 0;
			groups += 2;
			i = n;
			break;
		}
		if (j == i || j - i > 4)
			return 0;
		groups++;
		i = j;
		if (i == n)
			break;
		if (s[i] != ':')
			return 0;
		i++;
		if (i < n && s[i] == ':') {
			if (dbl)
				return 0;
			dbl = 1;
			i++;
			if (i == n)
				break;
		} else if (i == n) {
			return 0;       /* a trailing single ':' */
		}
	}
	return dbl ? groups <= 7 : groups == 8;
}

/* RFC 1123 host name; idn: labels may hold non-ASCII (not checked further) */
static int is_hostname(const char *s, size_t n, int idn)
{
	size_t i = 0, label = 0;

	if (n == 0 || n > 253)
		return 0;
	while (i <= n) {
		size_t j = i;
		while (j < n && s[j] != '.') {
			unsigned char c = (unsigned char)s[j];
			if (!(isalph((char)c) || isdig((char)c) || c == '-' || (idn && c >= 0x80)))
				return 0;
			if (idn && c == 0xE3 && j + 2 < n && (unsigned char)s[j + 1] == 0x80 &&
			    (unsigned char)s[j + 2] == 0x82)
				return 0;   /* U+3002, an IDN full stop */
			j++;
		}
		label = j - i;
		if (label == 0 || label > 63 || s[i] == '-' || s[j - 1] == '-')
			return 0;
		if (label >= 4 && s[i + 2] == '-' && s[i + 3] == '-' &&
		    strncasecmp(s + i, "xn", 2) != 0)
			return 0;       /* "--" in the 3rd and 4th position is for "xn--" */
		if (j == n)
			return 1;
		i = j + 1;
	}
	return 0;
}

static int is_email(const char *s, size_t n, int idn)
{
	const char *at;
	size_t local;

	if (n && s[0] == '"') {
		size_t i = 1;
		while (i < n && s[i] != '"') {
			if (s[i] == '\\')
				i++;
			i++;
		}
		if (i >= n || i + 1 >= n || s[i + 1] != '@')
			return 0;
		at = s + i + 1;
	} else {
		at = memchr(s, '@', n);
		if (!at || at == s)
			return 0;
		local = (size_t)(at - s);
		if (s[0] == '.' || s[local - 1] == '.')
			return 0;
		for (size_t i = 0; i < local; i++) {
			unsigned char c = (unsigned char)s[i];
			if (c == '.' && s[i + 1] == '.')
				return 0;
			if (!(isalph((char)c) || isdig((char)c) || strchr(".!#$%&'*+-/=?^_`{|}~", c) ||
			      (idn && c >= 0x80)) || c == 0)
				return 0;
		}
	}
	const char *d = at + 1;
	size_t dn = n - (size_t)(d - s);
	if (dn >= 2 && d[0] == '[' && d[dn - 1] == ']') {
		if (dn > 7 && strncmp(d + 1, "IPv6:", 5) == 0)
			return is_ipv6(d + 6, dn - 7);
		return is_ipv4(d + 1, dn - 2);
	}
	return is_hostname(d, dn, idn);
}

static int is_uuid(const char *s, size_t n)
{
	if (n != 36)
		return 0;
	for (size_t i = 0; i < 36; i++)
		if (i == 8 || i == 13 || i == 18 || i == 23 ? s[i] != '-' : !ishex(s[i]))
			return 0;
	return 1;
}

/* RFC 3986 character classes; iri: also any non-ASCII byte */
static int uchar_ok(unsigned char c, const char *extra, int iri)
{
	if (isalph((char)c) || isdig((char)c) || strchr("-._~!$&'()*+,;=", c) || (iri && c >= 0x80))
		return c != 0;
	return c && strchr(extra, c) != NULL;
}

/* s[0..n) of chars allowed by extra, with valid %XX escapes. */
static int span_ok(const char *s, size_t n, const char *extra, int iri)
{
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '%') {
			if (i + 2 >= n + 0 || !ishex(s[i + 1]) || !ishex(s[i + 2]))
				return 0;
			i += 2;
		} else if (!uchar_ok((unsigned char)s[i], extra, iri)) {
			return 0;
		}
	}
	return 1;
}

static int authority_ok(const char *s, size_t n, int iri)
{
	const char *at = memchr(s, '@', n), *host = s, *e = s + n;
	if (at) {
		if (!span_ok(s, (size_t)(at - s), ":", iri))
			return 0;
		host = at + 1;
	}
	if (host < e && *host == '[') {
		const char *close = memchr(host, ']', (size_t)(e - host));
		if (!close)
			return 0;
		const char *a = host + 1;
		size_t an = (size_t)(close - a);
		if (!(an && (a[0] == 'v' || a[0] == 'V') ? an > 1 : is_ipv6(a, an)))
			return 0;
		host = close + 1;
		if (host < e && *host != ':')
			return 0;
	} else {
		const char *colon = memchr(host, ':', (size_t)(e - host));
		const char *he = colon ? colon : e;
		if (!span_ok(host, (size_t)(he - host), "", iri))
			return 0;
		host = he;
	}
	if (host < e) {
		/* ":port" */
		for (const char *p = host + 1; p < e; p++)
			if (!isdig(*p))
				return 0;
	}
	return 1;
}

/* A URI (need_scheme) or a URI reference. */
static int is_uri(const char *s, size_t n, int need_scheme, int iri)
{
	size_t i = 0, j;

	for (j = 0; j < n && s[j] != ':' && s[j] != '/' && s[j] != '?' && s[j] != '#'; j++)
		;
	if (j < n && s[j] == ':' && j > 0) {
		if (!isalph(s[0]))
			return 0;
		for (size_t k = 1; k < j; k++)
			if (!(isalph(s[k]) || isdig(s[k]) || s[k] == '+' || s[k] == '-' || s[k] == '.'))
				return 0;
		i = j + 1;
	} else if (need_scheme) {
		return 0;
	}
	if (n - i >= 2 && s[i] == '/' && s[i + 1] == '/') {
		size_t a = i + 2, b = a;
		while (b < n && s[b] != '/' && s[b] != '?' && s[b] != '#')
			b++;
		if (!authority_ok(s + a, b - a, iri))
			return 0;
		i = b;
	}
	j = i;
	while (j < n && s[j] != '?' && s[j] != '#')
		j++;
	if (!span_ok(s + i, j - i, ":@/", iri))
		return 0;
	if (i == 0 && j > 0) {
		/* a relative path: no ':' in its first segment */
		size_t k = 0;
		while (k < j && s[k] != '/') {
			if (s[k] == ':')
				return 0;
			k++;
		}
	}
	i = j;
	if (i < n && s[i] == '?') {
		j = ++i;
		while (j < n && s[j] != '#')
			j++;
		if (!span_ok(s + i, j - i, ":@/?", iri))
			return 0;
		i = j;
	}
	if (i < n && s[i] == '#') {
		i++;
		if (!span_ok(s + i, n - i, ":@/?", iri))
			return 0;
	}
	return 1;
}

/* RFC 6570 level 4 syntax. */
static int is_uri_template(const char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		unsigned char c = (unsigned char)s[i];
		if (c == '%') {
			if (i + 2 >= n || !ishex(s[i + 1]) || !ishex(s[i + 2]))
				return 0;
			i += 3;
			continue;
		}
		if (c != '{') {
			if (c <= 0x20 || c == 0x7f || strchr("\"<>\\^`|}", c))
				return 0;
			i++;
			continue;
		}
		i++;
		if (i < n && strchr("+#./;?&=,!@|", s[i]))
			i++;
		for (;;) {
			/* varname: varchar *(["."] varchar) */
			size_t start = i;
			int dot = 0;
			while (i < n) {
				if (isalph(s[i]) || isdig(s[i]) || s[i] == '_') {
					dot = 0;
					i++;
				} else if (s[i] == '%' && i + 2 < n && ishex(s[i + 1]) && ishex(s[i + 2])) {
					dot = 0;
					i += 3;
				} else if (s[i] == '.' && i > start && !dot) {
					dot = 1;
					i++;
				} else {
					break;
				}
			}
			if (i == start || dot)
				return 0;
			if (i < n && s[i] == ':') {
				size_t d = ++i;
				while (i < n && isdig(s[i]))
					i++;
				if (i == d || i - d > 4 || s[d] == '0')
					return 0;
			} else if (i < n && s[i] == '*') {
				i++;
			}
			if (i < n && s[i] == ',') {
				i++;
				continue;
			}
			if (i < n && s[i] == '}') {
				i++;
				break;
			}
			return 0;
		}
	}
	return 1;
}

static int is_json_pointer(const char *s, size_t n)
{
	if (n && s[0] != '/')
		return 0;
	for (size_t i = 0; i < n; i++)
		if (s[i] == '~' && (i + 1 >= n || (s[i + 1] != '0' && s[i + 1] != '1')))
			return 0;
	return 1;
}

static int is_rel_json_pointer(const char *s, size_t n)
{
	size_t i = 0;
	while (i < n && isdig(s[i]))
		i++;
	if (i == 0 || (s[0] == '0' && i > 1))
		return 0;
	if (i < n && (s[i] == '+' || s[i] == '-')) {
		/* an index adjustment: [+-] non-zero integer */
		size_t j = ++i;
		while (i < n && isdig(s[i]))
			i++;
		if (i == j || s[j] == '0')
			return 0;
	}
	if (i == n)
		return 1;
	if (s[i] == '#')
		return i + 1 == n;
	return is_json_pointer(s + i, n - i);
}

static int is_regex(const char *s, size_t n)
{
	char why[256];
	struct vregex *re = mig_vregex_compile(s, n, why, sizeof why);
	mig_vregex_free(re);
	return re != NULL;
}

int mig_v_format_check_id(int id, const char *s, size_t n)
{
	switch (id) {
	case FMT_DATE_TIME: return is_date_time(s, n);
	case FMT_DATE: return is_date(s, n);
	case FMT_TIME: return is_time(s, n);
	case FMT_DURATION: return is_duration(s, n);
	case FMT_EMAIL: return is_email(s, n, 0);
	case FMT_IDN_EMAIL: return is_email(s, n, 1);
	case FMT_HOSTNAME: return is_hostname(s, n, 0);
	case FMT_IDN_HOSTNAME: return is_hostname(s, n, 1);
	case FMT_IPV4: return is_ipv4(s, n);
	case FMT_IPV6: return is_ipv6(s, n);
	case FMT_URI: return is_uri(s, n, 1, 0);
	case FMT_URI_REF: return is_uri(s, n, 0, 0);
	case FMT_IRI: return is_uri(s, n, 1, 1);
	case FMT_IRI_REF: return is_uri(s, n, 0, 1);
	case FMT_URI_TEMPLATE: return is_uri_template(s, n);
	case FMT_UUID: return is_uuid(s, n);
	case FMT_JSON_POINTER: return is_json_pointer(s, n);
	case FMT_REL_JSON_POINTER: return is_rel_json_pointer(s, n);
	case FMT_REGEX: return is_regex(s, n);
	default: return 1;
	}
}

int mig_format_check(const char *name, const char *s, size_t len)
{
	return mig_v_format_check_id(mig_v_format_id(name), s, len);
}
