/* test_value.c - lib/value.c: the BSON corpus, then focused cases. */
#include <glob.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <bson/bson.h>

#include "mig/value.h"

/* ---- helpers ---- */

static json_t *parse(const char *s)
{
	return json_loads(s, JSON_ALLOW_NUL | JSON_DECODE_ANY, NULL);
}

/* v printed in mode m, as a malloc'd string. */
static char *print(const json_t *v, enum mig_json_mode m)
{
	struct mig_buf b;
	mig_buf_init(&b, 0);
	assert_int_equal(mig_value_write(&b, v, m), 0);
	return mig_buf_steal(&b);
}

/* v printed in mode m and read back. */
static json_t *reprint(const json_t *v, enum mig_json_mode m)
{
	char *s = print(v, m);
	json_t *r = parse(s);
	free(s);
	return r;
}

static void assert_prints(const char *in, enum mig_json_mode m, const char *want)
{
	json_t *v = parse(in);
	assert_non_null(v);
	char *s = print(v, m);
	assert_string_equal(s, want);
	free(s);
	json_decref(v);
}

static void assert_prints_v(json_t *v, enum mig_json_mode m, const char *want)
{
	assert_non_null(v);
	char *s = print(v, m);
	assert_string_equal(s, want);
	free(s);
	json_decref(v);
}

static uint8_t *unhex(const char *h, size_t *n)
{
	size_t len = strlen(h) / 2;
	uint8_t *p = malloc(len + 1);
	for (size_t i = 0; i < len; i++) {
		unsigned x;
		sscanf(h + 2 * i, "%2x", &x);
		p[i] = (uint8_t)x;
	}
	*n = len;
	return p;
}

/* ---- the BSON corpus ---- */

static const char *corpus_dir(void)
{
	static char dir[4096];
	const char *t = getenv("MIG_TESTDATA");
	snprintf(dir, sizeof dir, "%s/bson-corpus", t && *t ? t : "../shared/testdata");
	return dir;
}

/* BSON bytes -> json_t in mode m, then printed in mode m and read back. */
static json_t *from_hex(const char *hex, enum mig_json_mode m)
{
	size_t n;
	uint8_t *p = unhex(hex, &n);
	bson_t b;
	json_t *v = NULL, *r = NULL;
	if (bson_init_static(&b, p, n) && mig_value_from_bson(&v, &b, m, NULL) == 0)
		r = reprint(v, m);
	json_decref(v);
	free(p);
	return r;
}

static int same_bytes(const json_t *v, const char *hex)
{
	size_t n;
	uint8_t *p = unhex(hex, &n);
	bson_t b;
	bson_init(&b);
	int ok = mig_value_to_bson(&b, v, NULL) == 0 && b.len == n &&
		 memcmp(bson_get_data(&b), p, n) == 0;
	bson_destroy(&b);
	free(p);
	return ok;
}

/* The checks of one valid case; returns the name of the first that fails.
 *
 * Skipped on purpose:
 *   - cEJ -> BSON bytes and dEJ -> BSON for cases marked lossy (NaN with a
 *     payload, sNaN, negative NaN, non-canonical decimal encodings): the
 *     bytes cannot come back from the text.  BSON -> cEJ is still checked.
 *   - converted_bson / converted_extjson (deprecated types mapped to modern
 *     ones: Symbol -> string, Undefined -> null, DBPointer -> DBRef): mig
 *     keeps those types as they are, it does not convert them.
 *   - relaxed expectations exist only where the corpus gives them. */
static const char *check_valid(const json_t *c)
{
	const char *cej = json_string_value(json_object_get(c, "canonical_extjson"));
	const char *cb = json_string_value(json_object_get(c, "canonical_bson"));
	const char *rej = json_string_value(json_object_get(c, "relaxed_extjson"));
	const char *dej = json_string_value(json_object_get(c, "degenerate_extjson"));
	const char *db = json_string_value(json_object_get(c, "degenerate_bson"));
	int lossy = json_is_true(json_object_get(c, "lossy"));
	const char *bad = NULL;
	json_t *ce = parse(cej), *re = rej ? parse(rej) : NULL, *x = NULL;

	if (!ce || mig_value_check(ce, NULL))
		bad = "parse/check canonical_extjson";
	else if (!lossy && !same_bytes(ce, cb))
		bad = "canonical_extjson -> canonical_bson";
	else if (!(x = from_hex(cb, MIG_JSON_CANONICAL)) || !mig_value_equal(x, ce))
		bad = "canonical_bson -> canonical_extjson";
	else if ((json_decref(x), !(x = reprint(ce, MIG_JSON_CANONICAL))) || !mig_value_equal(x, ce))
		bad = "canonical_extjson -> canonical_extjson";
	else if (rej && (!re || mig_value_check(re, NULL)))
		bad = "parse/check relaxed_extjson";
	else if (rej && ((json_decref(x), !(x = from_hex(cb, MIG_JSON_RELAXED))) || !mig_value_equal(x, re)))
		bad = "canonical_bson -> relaxed_extjson";
	else if (rej && ((json_decref(x), !(x = reprint(ce, MIG_JSON_RELAXED))) || !mig_value_equal(x, re)))
		bad = "canonical_extjson -> relaxed_extjson";
	else if (rej && ((json_decref(x), !(x = reprint(re, MIG_JSON_RELAXED))) || !mig_value_equal(x, re)))
		bad = "relaxed_extjson -> relaxed_extjson";
	else if (db && ((json_decref(x), !(x = from_hex(db, MIG_JSON_CANONICAL))) || !mig_value_equal(x, ce)))
		bad = "degenerate_bson -> canonical_extjson";
	if (!bad && dej && !lossy) {
		/* degenerate text -> BSON -> canonical text: BSON is where
		 * decimals, regex flags and $uuid get their canonical form */
		json_t *de = parse(dej), *y = NULL;
		bson_t b;
		bson_init(&b);
		if (!de || mig_value_check(de, NULL))
			bad = "parse/check degenerate_extjson";
		else if (!same_bytes(de, cb))
			bad = "degenerate_extjson -> canonical_bson";
		else if (mig_value_to_bson(&b, de, NULL) || mig_value_from_bson(&y, &b, MIG_JSON_CANONICAL, NULL))
			bad = "degenerate_extjson -> BSON -> json";
		else if ((json_decref(x), !(x = reprint(y, MIG_JSON_CANONICAL))) || !mig_value_equal(x, ce))
			bad = "degenerate_extjson -> canonical_extjson";
		bson_destroy(&b);
		json_decref(y);
		json_decref(de);
	}
	json_decref(x);
	json_decref(re);
	json_decref(ce);
	return bad;
}

static int rejects_bson(const char *hex)
{
	size_t n;
	uint8_t *p = unhex(hex, &n);
	bson_t b;
	json_t *v = NULL;
	struct mig_error err;
	int ok = !bson_init_static(&b, p, n) ||
		 mig_value_from_bson(&v, &b, MIG_JSON_CANONICAL, &err) == MIG_EDATA;
	json_decref(v);
	free(p);
	return ok;
}

static int rejects_text(const char *type, const char *s)
{
	struct mig_error err;
	if (strcmp(type, "0x13") == 0) {
		const char *out;
		/* mig's decimals have any length; a literal that is a decimal
		 * but not a Decimal128 is refused on its way into BSON */
		json_t *v = json_pack("{s:s}", "$numberDecimal", s);
		json_t *doc = json_pack("{s:O}", "d", v);
		bson_t b;
		bson_init(&b);
		int ok = mig_value_type(v) == MIG_V_INVALID
			 ? mig_value_get_decimal(v, &out, &err) == MIG_EDATA &&
			   mig_value_check(v, &err) == MIG_EDATA
			 : mig_value_to_bson(&b, doc, &err) == MIG_EDATA &&
			   strstr(err.msg, "/d: $numberDecimal") != NULL;
		bson_destroy(&b);
		json_decref(doc);
		json_decref(v);
		return ok;
	}
	/* 0x00 / 0x05: valid JSON (but for NULs in keys, which Jansson
	 * refuses) that the Extended JSON layer must reject */
	json_t *v = parse(s);
	if (!v)
		return 1;
	bson_t b;
	bson_init(&b);
	int ok = mig_value_check(v, &err) == MIG_EDATA && mig_value_to_bson(&b, v, &err) == MIG_EDATA;
	bson_destroy(&b);
	json_decref(v);
	return ok;
}

static void test_corpus(void **state)
{
	char pat[4200];
	glob_t g;
	size_t f, i;
	int valid = 0, valid_ok = 0, dec = 0, dec_ok = 0, perr = 0, perr_ok = 0;
	json_t *c;

	(void)state;
	snprintf(pat, sizeof pat, "%s/*.json", corpus_dir());
	assert_int_equal(glob(pat, 0, NULL, &g), 0);
	assert_true(g.gl_pathc >= 31);
	for (f = 0; f < g.gl_pathc; f++) {
		json_t *doc = json_load_file(g.gl_pathv[f], 0, NULL);
		const char *name = strrchr(g.gl_pathv[f], '/') + 1;
		assert_non_null(doc);
		const char *type = json_string_value(json_object_get(doc, "bson_type"));
		json_array_foreach(json_object_get(doc, "valid"), i, c) {
			const char *bad = check_valid(c);
			valid++;
			valid_ok += !bad;
			if (bad)
				printf("# FAIL %s valid[%zu] %s: %s\n", name, i,
				       json_string_value(json_object_get(c, "description")), bad);
		}
		json_array_foreach(json_object_get(doc, "decodeErrors"), i, c) {
			int ok = rejects_bson(json_string_value(json_object_get(c, "bson")));
			dec++;
			dec_ok += ok;
			if (!ok)
				printf("# FAIL %s decodeErrors[%zu] %s: accepted\n", name, i,
				       json_string_value(json_object_get(c, "description")));
		}
		json_array_foreach(json_object_get(doc, "parseErrors"), i, c) {
			int ok = rejects_text(type, json_string_value(json_object_get(c, "string")));
			perr++;
			perr_ok += ok;
			if (!ok)
				printf("# FAIL %s parseErrors[%zu] %s: accepted\n", name, i,
				       json_string_value(json_object_get(c, "description")));
		}
		json_decref(doc);
	}
	globfree(&g);
	printf("# bson-corpus: %d of %d relaxed/canonical cases pass\n", valid_ok, valid);
	printf("# bson-corpus: %d of %d decodeErrors rejected\n", dec_ok, dec);
	printf("# bson-corpus: %d of %d parseErrors rejected\n", perr_ok, perr);
	assert_int_equal(valid, 728);
	assert_int_equal(valid_ok, valid);
	assert_int_equal(dec, 75);
	assert_int_equal(dec_ok, dec);
	assert_int_equal(perr, 180);
	assert_int_equal(perr_ok, perr);
}

/* ---- dates ---- */

static int64_t date(const char *s)
{
	int64_t us = 0;
	if (mig_date_parse(s, strlen(s), &us, NULL))
		fail_msg("rejected \"%s\"", s);
	return us;
}

static void assert_date_fmt(int64_t us, const char *want)
{
	char s[40];
	assert_int_equal(mig_date_format(s, us), (int)strlen(want));
	assert_string_equal(s, want);
	assert_true(date(s) == us);
}

static void test_date(void **state)
{
	static const char *const bad[] = {
		"", "x", "2024", "2024-05", "24-05-01", "2024-5-01", "2024-13-01",
		"2024-00-10", "2024-02-30", "2023-02-29", "2024-05-01T", "2024-05-01T10",
		"2024-05-01T24:00", "2024-05-01T10:60", "2024-05-01T10:00:60",
		"2024-05-01T10:00:00.", "2024-05-01T10:00:00.1234567890Z",
		"2024-05-01T10:00:00+24:00", "2024-05-01T10:00:00+01:60",
		"2024-05-01T10:00:00+1", "2024-05-01T10:00:00Zx", "2024-05-01x10:00",
		"2024-05-01T10:00:00 Z", "+123-01-01", "2024-05-01T10:00:00.5.5Z",
	};
	struct mig_error err;
	int64_t us;

	(void)state;
	assert_true(date("1970-01-01T00:00:00Z") == 0);
	assert_true(date("1970-01-01") == 0);
	assert_true(date("2024-05-01T10:00:00.000Z") == INT64_C(1714557600000000));
	assert_true(date("2024-05-01 10:00:00") == INT64_C(1714557600000000));
	assert_true(date("2024-05-01t10:00z") == INT64_C(1714557600000000));
	assert_true(date("2024-05-01T12:00:00+02:00") == INT64_C(1714557600000000));
	assert_true(date("2024-05-01T12:00:00+0200") == INT64_C(1714557600000000));
	assert_true(date("2024-05-01T12:00:00+02") == INT64_C(1714557600000000));
	assert_true(date("2024-05-01T04:30:00-05:30") == INT64_C(1714557600000000));
	assert_true(date("2024-05-01T10:00:00.5Z") == INT64_C(1714557600500000));
	assert_true(date("2024-05-01T10:00:00,5Z") == INT64_C(1714557600500000));
	assert_true(date("2024-05-01T10:00:00.123456Z") == INT64_C(1714557600123456));
	assert_true(date("2024-05-01T10:00:00.123456789Z") == INT64_C(1714557600123456));
	assert_true(date("1969-12-31T23:59:59.999Z") == -1000);
	assert_true(date("1969-12-31T23:59:59.999999Z") == -1);
	assert_true(date("2024-02-29T00:00:00Z") == INT64_C(1709164800000000));
	assert_true(date("9999-12-31T23:59:59.999Z") == INT64_C(253402300799999000));
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		if (mig_date_parse(bad[i], strlen(bad[i]), &us, &err) != MIG_EDATA)
			fail_msg("accepted \"%s\"", bad[i]);
		assert_non_null(strstr(err.msg, "not an ISO-8601 date-time"));
	}
	/* the length bounds the parse: no NUL needed */
	assert_int_equal(mig_date_parse("2024-05-01T10:00:00Zjunk", 20, &us, NULL), 0);
	assert_true(us == INT64_C(1714557600000000));

	assert_date_fmt(0, "1970-01-01T00:00:00.000Z");
	assert_date_fmt(1, "1970-01-01T00:00:00.000001Z");
	assert_date_fmt(-1, "1969-12-31T23:59:59.999999Z");
	assert_date_fmt(-1000, "1969-12-31T23:59:59.999Z");
	assert_date_fmt(INT64_C(1714557600123000), "2024-05-01T10:00:00.123Z");
	assert_date_fmt(INT64_C(1714557600123456), "2024-05-01T10:00:00.123456Z");
	assert_date_fmt(INT64_C(-284643869501000), "1960-12-24T12:15:30.499Z");
	assert_date_fmt(INT64_C(253402300799999999), "9999-12-31T23:59:59.999999Z");
	assert_date_fmt(INT64_C(253402300800000000), "+010000-01-01T00:00:00.000Z");
	assert_date_fmt(INT64_C(-62167219200000000), "0000-01-01T00:00:00.000Z");
	assert_date_fmt(INT64_C(-62167219200000001), "-000001-12-31T23:59:59.999999Z");
	assert_date_fmt(INT64_MAX, "+294247-01-10T04:00:54.775807Z");
	assert_date_fmt(INT64_MIN, "-290308-12-21T19:59:05.224192Z");
	assert_int_equal(mig_date_parse("+294247-01-10T04:00:54.775808Z", 30, &us, NULL), MIG_EDATA);
}

/* ---- printing ---- */

static void test_write_strings(void **state)
{
	(void)state;
	assert_prints("\"ab\\\"c\\\\d/\"", MIG_JSON_RELAXED, "\"ab\\\"c\\\\d/\"");
	assert_prints("\"\\u0001\\b\\t\\n\\u000b\\f\\r\\u001f\\u007f\"", MIG_JSON_RELAXED,
		      "\"\\u0001\\b\\t\\n\\u000b\\f\\r\\u001f\x7f\"");
	assert_prints("\"\\u00e9\\u2606\\ud83d\\ude00\"", MIG_JSON_RELAXED,
		      "\"\xc3\xa9\xe2\x98\x86\xf0\x9f\x98\x80\"");
	assert_prints_v(json_stringn("a\0b", 3), MIG_JSON_RELAXED, "\"a\\u0000b\"");
	assert_prints("{\"k\\n\\\"\":\"\"}", MIG_JSON_RELAXED, "{\"k\\n\\\"\":\"\"}");
	assert_prints("[]", MIG_JSON_RELAXED, "[]");
	assert_prints("{}", MIG_JSON_RELAXED, "{}");
	assert_prints("[null,true,false,{}]", MIG_JSON_RELAXED, "[null,true,false,{}]");
	/* insertion order is kept */
	assert_prints("{\"z\":1,\"a\":2,\"m\":3}", MIG_JSON_RELAXED, "{\"z\":1,\"a\":2,\"m\":3}");
}

static void test_write_numbers(void **state)
{
	(void)state;
	assert_prints_v(json_real(1.0), MIG_JSON_RELAXED, "1.0");
	assert_prints_v(json_real(-0.0), MIG_JSON_RELAXED, "-0.0");
	assert_prints_v(json_real(0.1), MIG_JSON_RELAXED, "0.1");
	assert_prints_v(json_real(1e300), MIG_JSON_RELAXED, "1e+300");
	assert_prints_v(json_real(5e-324), MIG_JSON_RELAXED, "4.94065645841247e-324");
	assert_prints_v(json_real(1.2345678921232e+18), MIG_JSON_RELAXED, "1.2345678921232e+18");
	assert_prints_v(json_real(0.1 + 0.2), MIG_JSON_RELAXED, "0.30000000000000004");
	assert_prints_v(json_real(100.0), MIG_JSON_RELAXED, "100.0");
	assert_prints_v(json_real(1.5), MIG_JSON_CANONICAL, "{\"$numberDouble\":\"1.5\"}");
	assert_prints_v(json_real(-0.0), MIG_JSON_CANONICAL, "{\"$numberDouble\":\"-0.0\"}");
	assert_prints_v(mig_value_double(NAN), MIG_JSON_RELAXED, "{\"$numberDouble\":\"NaN\"}");
	assert_prints_v(mig_value_double(-INFINITY), MIG_JSON_CANONICAL, "{\"$numberDouble\":\"-Infinity\"}");
	assert_prints_v(mig_value_double(INFINITY), MIG_JSON_PLAIN, "\"Infinity\"");
	assert_prints_v(mig_value_double(2.5), MIG_JSON_PLAIN, "2.5");
	assert_prints("{\"$numberDouble\":\"1E+2\"}", MIG_JSON_RELAXED, "100.0");

	assert_prints_v(json_integer(INT64_MAX), MIG_JSON_RELAXED, "9223372036854775807");
	assert_prints_v(json_integer(INT64_MIN), MIG_JSON_RELAXED, "-9223372036854775808");
	assert_prints_v(json_integer(0), MIG_JSON_RELAXED, "0");
	assert_prints_v(json_integer(-7), MIG_JSON_RELAXED, "-7");
	assert_prints_v(json_integer(INT32_MAX), MIG_JSON_CANONICAL, "{\"$numberInt\":\"2147483647\"}");
	assert_prints_v(json_integer(INT32_MIN), MIG_JSON_CANONICAL, "{\"$numberInt\":\"-2147483648\"}");
	assert_prints_v(json_integer((int64_t)INT32_MAX + 1), MIG_JSON_CANONICAL,
			"{\"$numberLong\":\"2147483648\"}");
	assert_prints_v(json_integer(INT64_MIN), MIG_JSON_CANONICAL,
			"{\"$numberLong\":\"-9223372036854775808\"}");
	assert_prints_v(mig_value_long(1), MIG_JSON_CANONICAL, "{\"$numberLong\":\"1\"}");
	assert_prints_v(mig_value_long(INT64_MIN), MIG_JSON_RELAXED, "-9223372036854775808");
	assert_prints("{\"$numberInt\":\"-007\"}", MIG_JSON_CANONICAL, "{\"$numberInt\":\"-7\"}");
	assert_prints("{\"$numberInt\":\"5\"}", MIG_JSON_PLAIN, "5");
}

static const char all_types[] =
	"{\"d\":{\"$date\":\"2024-05-01T12:00:00+02:00\"},"
	"\"u\":{\"$date\":\"2024-05-01T10:00:00.000001Z\"},"
	"\"old\":{\"$date\":{\"$numberLong\":\"-1000\"}},"
	"\"n\":{\"$numberDecimal\":\"12.50\"},"
	"\"o\":{\"$oid\":\"56E1FC72E0C917E9C4714161\"},"
	"\"b\":{\"$binary\":{\"subType\":\"5\",\"base64\":\"//8=\"}},"
	"\"id\":{\"$uuid\":\"73ffd264-44b3-4c69-90e8-e7d1dfc035d4\"},"
	"\"t\":{\"$timestamp\":{\"i\":2,\"t\":1}},"
	"\"r\":{\"$regularExpression\":{\"options\":\"i\",\"pattern\":\"a/\\\"b\"}},"
	"\"c\":{\"$code\":\"f()\"},"
	"\"cs\":{\"$scope\":{\"x\":1},\"$code\":\"g()\"},"
	"\"s\":{\"$symbol\":\"sym\"},"
	"\"p\":{\"$dbPointer\":{\"$id\":{\"$oid\":\"56e1fc72e0c917e9c4714161\"},\"$ref\":\"c\"}},"
	"\"mn\":{\"$minKey\":1},\"mx\":{\"$maxKey\":1},\"un\":{\"$undefined\":true},"
	"\"l\":{\"$numberLong\":\"42\"},\"i\":{\"$numberInt\":\"42\"},\"f\":1.0,"
	"\"ref\":{\"$ref\":\"c\",\"$id\":1},\"bad\":{\"$date\":42}}";

static void test_write_modes(void **state)
{
	(void)state;
	assert_prints(all_types, MIG_JSON_RELAXED,
		"{\"d\":{\"$date\":\"2024-05-01T10:00:00.000Z\"},"
		"\"u\":{\"$date\":\"2024-05-01T10:00:00.000001Z\"},"
		"\"old\":{\"$date\":{\"$numberLong\":\"-1000\"}},"
		"\"n\":{\"$numberDecimal\":\"12.50\"},"
		"\"o\":{\"$oid\":\"56e1fc72e0c917e9c4714161\"},"
		"\"b\":{\"$binary\":{\"base64\":\"//8=\",\"subType\":\"05\"}},"
		"\"id\":{\"$binary\":{\"base64\":\"c//SZESzTGmQ6OfR38A11A==\",\"subType\":\"04\"}},"
		"\"t\":{\"$timestamp\":{\"t\":1,\"i\":2}},"
		"\"r\":{\"$regularExpression\":{\"pattern\":\"a/\\\"b\",\"options\":\"i\"}},"
		"\"c\":{\"$code\":\"f()\"},"
		"\"cs\":{\"$code\":\"g()\",\"$scope\":{\"x\":1}},"
		"\"s\":{\"$symbol\":\"sym\"},"
		"\"p\":{\"$dbPointer\":{\"$ref\":\"c\",\"$id\":{\"$oid\":\"56e1fc72e0c917e9c4714161\"}}},"
		"\"mn\":{\"$minKey\":1},\"mx\":{\"$maxKey\":1},\"un\":{\"$undefined\":true},"
		"\"l\":42,\"i\":42,\"f\":1.0,"
		"\"ref\":{\"$ref\":\"c\",\"$id\":1},\"bad\":{\"$date\":42}}");
	assert_prints(all_types, MIG_JSON_CANONICAL,
		"{\"d\":{\"$date\":{\"$numberLong\":\"1714557600000\"}},"
		"\"u\":{\"$date\":\"2024-05-01T10:00:00.000001Z\"},"
		"\"old\":{\"$date\":{\"$numberLong\":\"-1000\"}},"
		"\"n\":{\"$numberDecimal\":\"12.50\"},"
		"\"o\":{\"$oid\":\"56e1fc72e0c917e9c4714161\"},"
		"\"b\":{\"$binary\":{\"base64\":\"//8=\",\"subType\":\"05\"}},"
		"\"id\":{\"$binary\":{\"base64\":\"c//SZESzTGmQ6OfR38A11A==\",\"subType\":\"04\"}},"
		"\"t\":{\"$timestamp\":{\"t\":1,\"i\":2}},"
		"\"r\":{\"$regularExpression\":{\"pattern\":\"a/\\\"b\",\"options\":\"i\"}},"
		"\"c\":{\"$code\":\"f()\"},"
		"\"cs\":{\"$code\":\"g()\",\"$scope\":{\"x\":{\"$numberInt\":\"1\"}}},"
		"\"s\":{\"$symbol\":\"sym\"},"
		"\"p\":{\"$dbPointer\":{\"$ref\":\"c\",\"$id\":{\"$oid\":\"56e1fc72e0c917e9c4714161\"}}},"
		"\"mn\":{\"$minKey\":1},\"mx\":{\"$maxKey\":1},\"un\":{\"$undefined\":true},"
		"\"l\":{\"$numberLong\":\"42\"},\"i\":{\"$numberInt\":\"42\"},"
		"\"f\":{\"$numberDouble\":\"1.0\"},"
		"\"ref\":{\"$ref\":\"c\",\"$id\":{\"$numberInt\":\"1\"}},"
		"\"bad\":{\"$date\":{\"$numberInt\":\"42\"}}}");
	assert_prints(all_types, MIG_JSON_PLAIN,
		"{\"d\":\"2024-05-01T10:00:00.000Z\","
		"\"u\":\"2024-05-01T10:00:00.000001Z\","
		"\"old\":\"1969-12-31T23:59:59.000Z\","
		"\"n\":\"12.50\",\"o\":\"56e1fc72e0c917e9c4714161\","
		"\"b\":\"//8=\",\"id\":\"c//SZESzTGmQ6OfR38A11A==\","
		"\"t\":{\"t\":1,\"i\":2},\"r\":\"/a/\\\"b/i\","
		"\"c\":\"f()\",\"cs\":\"g()\",\"s\":\"sym\","
		"\"p\":{\"$ref\":\"c\",\"$id\":\"56e1fc72e0c917e9c4714161\"},"
		"\"mn\":1,\"mx\":1,\"un\":null,\"l\":42,\"i\":42,\"f\":1.0,"
		"\"ref\":{\"$ref\":\"c\",\"$id\":1},\"bad\":{\"$date\":42}}");
	/* relaxed dates outside 1970..9999 are canonical, unless that loses
	 * microseconds */
	assert_prints_v(mig_value_date(INT64_C(253402300800000000)), MIG_JSON_RELAXED,
			"{\"$date\":{\"$numberLong\":\"253402300800000\"}}");
	assert_prints_v(mig_value_date(-1), MIG_JSON_RELAXED,
			"{\"$date\":\"1969-12-31T23:59:59.999999Z\"}");
	assert_prints_v(mig_value_date(-1), MIG_JSON_CANONICAL,
			"{\"$date\":\"1969-12-31T23:59:59.999999Z\"}");
	assert_prints_v(mig_value_date(0), MIG_JSON_RELAXED,
			"{\"$date\":\"1970-01-01T00:00:00.000Z\"}");
}

static void test_write_cap(void **state)
{
	struct mig_buf b;
	json_t *v = parse("{\"a\":\"0123456789\"}");
	(void)state;
	mig_buf_init(&b, 12);
	assert_int_equal(mig_buf_puts(&b, "xy"), 0);
	assert_int_equal(mig_value_write(&b, v, MIG_JSON_RELAXED), MIG_EDATA);
	assert_string_equal(b.data, "xy");
	assert_int_equal(b.len, 2);
	mig_buf_free(&b);
	json_decref(v);
}

/* ---- classification, checks, accessors ---- */

static void test_types(void **state)
{
	static const struct { const char *json; enum mig_vtype t; } cases[] = {
		{"null", MIG_V_NULL}, {"true", MIG_V_BOOL}, {"1", MIG_V_INT}, {"1.0", MIG_V_DOUBLE},
		{"\"a\"", MIG_V_STRING}, {"[]", MIG_V_ARRAY}, {"{}", MIG_V_OBJECT},
		{"{\"$numberLong\":\"-9223372036854775808\"}", MIG_V_INT},
		{"{\"$numberLong\":\"9223372036854775808\"}", MIG_V_INVALID},
		{"{\"$numberInt\":\"2147483648\"}", MIG_V_INVALID},
		{"{\"$numberInt\":\"+1\"}", MIG_V_INVALID},
		{"{\"$numberDouble\":\"-1.5e3\"}", MIG_V_DOUBLE},
		{"{\"$numberDouble\":\"inf\"}", MIG_V_INVALID},
		{"{\"$numberDouble\":\"1e999\"}", MIG_V_INVALID},
		{"{\"$numberDouble\":\" 1\"}", MIG_V_INVALID},
		{"{\"$date\":\"2024-05-01\"}", MIG_V_DATE},
		{"{\"$date\":{\"$numberLong\":\"0\"}}", MIG_V_DATE},
		{"{\"$date\":{\"$numberLong\":\"9223372036854776\"}}", MIG_V_INVALID},
		{"{\"$date\":\"x\"}", MIG_V_INVALID},
		{"{\"$numberDecimal\":\"-1.5E+10\"}", MIG_V_DECIMAL},
		{"{\"$numberDecimal\":\"1.5x\"}", MIG_V_INVALID},
		{"{\"$oid\":\"56e1fc72e0c917e9c471416\"}", MIG_V_INVALID},
		{"{\"$binary\":{\"base64\":\"Zg=\",\"subType\":\"00\"}}", MIG_V_INVALID},
		{"{\"$binary\":{\"base64\":\"Zg==\",\"subType\":\"100\"}}", MIG_V_INVALID},
		{"{\"$binary\":\"Zg==\",\"$type\":\"00\"}", MIG_V_INVALID},
		{"{\"$uuid\":\"73ffd264-44b3-4c69-90e8-e7d1dfc035d4\"}", MIG_V_BINARY},
		{"{\"$code\":\"x\"}", MIG_V_CODE},
		{"{\"$scope\":{},\"$code\":\"x\"}", MIG_V_CODEWS},
		{"{\"$scope\":{}}", MIG_V_INVALID},
		{"{\"$oid\":\"56e1fc72e0c917e9c4714161\",\"$date\":\"2024-05-01\"}", MIG_V_INVALID},
		{"{\"$ref\":\"c\",\"$id\":1,\"$db\":\"d\"}", MIG_V_OBJECT},
		{"{\"$set\":{\"a\":1}}", MIG_V_OBJECT},
		{"{\"$minKey\":1}", MIG_V_MINKEY}, {"{\"$maxKey\":1}", MIG_V_MAXKEY},
		{"{\"$maxKey\":1.0}", MIG_V_INVALID},
		{"{\"$undefined\":true}", MIG_V_UNDEFINED},
		{"{\"$timestamp\":{\"t\":4294967296,\"i\":0}}", MIG_V_INVALID},
		/* only objects whose first key starts with '$' are looked into */
		{"{\"a\":1,\"$date\":\"x\"}", MIG_V_OBJECT},
	};
	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		json_t *v = parse(cases[i].json);
		assert_non_null(v);
		if (mig_value_type(v) != cases[i].t)
			fail_msg("%s: got %s, want %s", cases[i].json, mig_vtype_name(mig_value_type(v)),
				 mig_vtype_name(cases[i].t));
		json_decref(v);
	}
	assert_string_equal(mig_vtype_name(MIG_V_DECIMAL), "decimal");
}

static void test_check(void **state)
{
	struct mig_error err;
	json_t *v;
	(void)state;

	v = parse("{\"a\":{\"b\":[1,{\"$date\":\"x\"}]}}");
	assert_int_equal(mig_value_check(v, &err), MIG_EDATA);
	assert_string_equal(err.msg, "/a/b/1: $date: not an ISO-8601 date-time: \"x\"");
	assert_int_equal(mig_value_check(v, NULL), MIG_EDATA);
	json_decref(v);

	v = parse("{\"a/b~\":{\"$code\":\"\",\"$scope\":{\"q\":{\"$oid\":1}}}}");
	assert_int_equal(mig_value_check(v, &err), MIG_EDATA);
	assert_string_equal(err.msg, "/a~1b~0/$scope/q: $oid: not 24 hex digits");
	json_decref(v);

	v = parse(all_types);
	json_object_del(v, "bad");
	assert_int_equal(mig_value_check(v, &err), 0);
	json_decref(v);
}

static void test_accessors(void **state)
{
	struct mig_error err;
	int64_t n;
	double d;
	const char *s;
	uint8_t oid[12], *p;
	size_t len;
	int st;
	json_t *v;
	(void)state;

	v = parse("{\"$numberLong\":\"-5\"}");
	assert_int_equal(mig_value_get_int(v, &n, &err), 0);
	assert_true(n == -5);
	assert_int_equal(mig_value_get_double(v, &d, &err), MIG_EDATA);
	assert_string_equal(err.msg, "expected double, got int");
	json_decref(v);

	v = parse("{\"$numberDouble\":\"-Infinity\"}");
	assert_int_equal(mig_value_get_double(v, &d, &err), 0);
	assert_true(isinf(d) && d < 0);
	json_decref(v);

	v = mig_value_date(INT64_C(1714557600123456));
	assert_int_equal(mig_value_get_date(v, &n, &err), 0);
	assert_true(n == INT64_C(1714557600123456));
	json_decref(v);

	v = parse("{\"$date\":7}");
	assert_int_equal(mig_value_get_date(v, &n, &err), MIG_EDATA);
	assert_non_null(strstr(err.msg, "$date: "));
	json_decref(v);

	v = mig_value_decimal("12.50");
	assert_int_equal(mig_value_get_decimal(v, &s, &err), 0);
	assert_string_equal(s, "12.50");
	json_decref(v);

	v = mig_value_oid((const uint8_t *)"\x56\xe1\xfc\x72\xe0\xc9\x17\xe9\xc4\x71\x41\x61");
	assert_prints_v(json_incref(v), MIG_JSON_RELAXED, "{\"$oid\":\"56e1fc72e0c917e9c4714161\"}");
	assert_int_equal(mig_value_get_oid(v, oid, &err), 0);
	assert_memory_equal(oid, "\x56\xe1\xfc\x72\xe0\xc9\x17\xe9\xc4\x71\x41\x61", 12);
	json_decref(v);

	v = mig_value_binary("\x00\xff", 2, 0x80);
	assert_prints_v(json_incref(v), MIG_JSON_RELAXED,
			"{\"$binary\":{\"base64\":\"AP8=\",\"subType\":\"80\"}}");
	assert_int_equal(mig_value_get_binary(v, &p, &len, &st, &err), 0);
	assert_int_equal(len, 2);
	assert_int_equal(st, 0x80);
	assert_memory_equal(p, "\x00\xff", 2);
	free(p);
	json_decref(v);

	v = mig_value_binary("", 0, 0);
	assert_int_equal(mig_value_get_binary(v, &p, &len, &st, &err), 0);
	assert_int_equal(len, 0);
	free(p);
	json_decref(v);

	v = parse("{\"$uuid\":\"73ffd264-44b3-4c69-90e8-e7d1dfc035d4\"}");
	assert_int_equal(mig_value_get_binary(v, &p, &len, &st, &err), 0);
	assert_int_equal(len, 16);
	assert_int_equal(st, 4);
	assert_memory_equal(p, "\x73\xff\xd2\x64\x44\xb3\x4c\x69\x90\xe8\xe7\xd1\xdf\xc0\x35\xd4", 16);
	free(p);
	json_decref(v);
}

/* ---- equality and order ---- */

static int eq(const char *a, const char *b)
{
	json_t *x = parse(a), *y = parse(b);
	assert_non_null(x);
	assert_non_null(y);
	int r = mig_value_equal(x, y);
	assert_int_equal(r, mig_value_equal(y, x));
	json_decref(x);
	json_decref(y);
	return r;
}

static int cmp(const char *a, const char *b)
{
	json_t *x = parse(a), *y = parse(b);
	assert_non_null(x);
	assert_non_null(y);
	int r = mig_value_cmp(x, y), s = mig_value_cmp(y, x);
	assert_true((r < 0 && s > 0) || (r > 0 && s < 0) || (r == 0 && s == 0));
	json_decref(x);
	json_decref(y);
	return r;
}

static void test_equal(void **state)
{
	(void)state;
	assert_true(eq("1", "{\"$numberInt\":\"1\"}"));
	assert_true(eq("{\"$numberLong\":\"1\"}", "{\"$numberInt\":\"1\"}"));
	assert_false(eq("1", "1.0"));
	assert_true(eq("1.0", "{\"$numberDouble\":\"1\"}"));
	assert_true(eq("{\"$numberDouble\":\"NaN\"}", "{\"$numberDouble\":\"NaN\"}"));
	assert_false(eq("0.0", "-0.0"));
	assert_true(eq("{\"$date\":\"2024-05-01T12:00:00+02:00\"}",
		       "{\"$date\":{\"$numberLong\":\"1714557600000\"}}"));
	assert_false(eq("{\"$date\":\"2024-05-01T10:00:00Z\"}", "\"2024-05-01T10:00:00Z\""));
	assert_false(eq("{\"$numberDecimal\":\"1.0\"}", "{\"$numberDecimal\":\"1.00\"}"));
	assert_true(eq("{\"$uuid\":\"73ffd264-44b3-4c69-90e8-e7d1dfc035d4\"}",
		       "{\"$binary\":{\"base64\":\"c//SZESzTGmQ6OfR38A11A==\",\"subType\":\"4\"}}"));
	assert_false(eq("{\"$binary\":{\"base64\":\"AA==\",\"subType\":\"00\"}}",
			"{\"$binary\":{\"base64\":\"AA==\",\"subType\":\"01\"}}"));
	assert_true(eq("{\"$oid\":\"56E1FC72E0C917E9C4714161\"}", "{\"$oid\":\"56e1fc72e0c917e9c4714161\"}"));
	assert_true(eq("{\"a\":1,\"b\":[1,\"x\"]}", "{\"b\":[1,\"x\"],\"a\":{\"$numberLong\":\"1\"}}"));
	assert_false(eq("{\"a\":1}", "{\"a\":1,\"b\":2}"));
	assert_false(eq("[1,2]", "[2,1]"));
	assert_false(eq("\"a\"", "{\"$symbol\":\"a\"}"));
	assert_true(eq("{\"$date\":42}", "{\"$date\":42}"));
	assert_true(eq("{\"$timestamp\":{\"t\":1,\"i\":2}}", "{\"$timestamp\":{\"i\":2,\"t\":1}}"));
	assert_false(eq("{\"$code\":\"a\",\"$scope\":{}}", "{\"$code\":\"a\"}"));
}

static void test_cmp(void **state)
{
	static const char *const order[] = {
		"{\"$minKey\":1}", "null", "{\"$numberDouble\":\"NaN\"}", "-1e300", "-1", "0", "1.5", "2",
		"{\"$numberDecimal\":\"2.5\"}", "{\"$numberLong\":\"9007199254740993\"}",
		"\"\"", "\"a\"", "\"b\"", "{}", "{\"a\":1}", "{\"b\":0}", "[]", "[1]", "[1,2]",
		"{\"$binary\":{\"base64\":\"AQ==\",\"subType\":\"00\"}}",
		"{\"$binary\":{\"base64\":\"AQ==\",\"subType\":\"01\"}}",
		"{\"$binary\":{\"base64\":\"AAA=\",\"subType\":\"00\"}}",
		"{\"$oid\":\"000000000000000000000000\"}", "{\"$oid\":\"ffffffffffffffffffffffff\"}",
		"false", "true", "{\"$date\":\"1969-01-01\"}", "{\"$date\":\"2024-01-01\"}",
		"{\"$timestamp\":{\"t\":1,\"i\":9}}", "{\"$timestamp\":{\"t\":2,\"i\":0}}",
		"{\"$regularExpression\":{\"pattern\":\"a\",\"options\":\"\"}}", "{\"$maxKey\":1}",
	};
	(void)state;
	for (size_t i = 0; i + 1 < sizeof order / sizeof order[0]; i++)
		if (cmp(order[i], order[i + 1]) >= 0)
			fail_msg("%s should sort before %s", order[i], order[i + 1]);
	assert_int_equal(cmp("1", "1.0"), 0);
	assert_int_equal(cmp("{\"$numberLong\":\"9007199254740993\"}", "9007199254740992.0"), 1);
	assert_int_equal(cmp("{\"$date\":\"2024-05-01T12:00:00+02:00\"}", "{\"$date\":\"2024-05-01T10:00:00Z\"}"), 0);
}

/* ---- base64 ---- */

static void test_base64(void **state)
{
	static const char *const rfc[][2] = {
		{"", ""}, {"f", "Zg=="}, {"fo", "Zm8="}, {"foo", "Zm9v"}, {"foob", "Zm9vYg=="},
		{"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"},
	};
	static const char *const bad[] = {"Zg", "Zg=", "Z===", "Zm9v!A==", "Zg==Zg==", "=Zg=", "Zm 9v", "Zm9v\n"};
	uint8_t *p;
	size_t n;
	(void)state;
	for (size_t i = 0; i < sizeof rfc / sizeof rfc[0]; i++) {
		char *s = mig_base64_encode(rfc[i][0], strlen(rfc[i][0]));
		assert_string_equal(s, rfc[i][1]);
		free(s);
		assert_int_equal(mig_base64_decode(rfc[i][1], strlen(rfc[i][1]), &p, &n), 0);
		assert_int_equal(n, strlen(rfc[i][0]));
		assert_memory_equal(p, rfc[i][0], n);
		free(p);
	}
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		if (mig_base64_decode(bad[i], strlen(bad[i]), &p, &n) != MIG_EDATA)
			fail_msg("accepted \"%s\"", bad[i]);
		assert_null(p);
	}
	assert_int_equal(mig_base64_decode("/+8=", 4, &p, &n), 0);
	assert_memory_equal(p, "\xff\xef", 2);
	free(p);
}

/* ---- BSON ---- */

static void test_bson(void **state)
{
	struct mig_error err;
	bson_t b;
	bson_iter_t it;
	json_t *v, *w;
	(void)state;

	/* int32 and int64 stay apart in CANONICAL only */
	bson_init(&b);
	BSON_APPEND_INT32(&b, "a", 1);
	BSON_APPEND_INT64(&b, "b", 1);
	BSON_APPEND_INT64(&b, "c", INT64_MAX);
	BSON_APPEND_DOUBLE(&b, "d", 2.0);
	assert_int_equal(mig_value_from_bson(&v, &b, MIG_JSON_CANONICAL, &err), 0);
	assert_prints_v(json_incref(v), MIG_JSON_CANONICAL,
			"{\"a\":{\"$numberInt\":\"1\"},\"b\":{\"$numberLong\":\"1\"},"
			"\"c\":{\"$numberLong\":\"9223372036854775807\"},\"d\":{\"$numberDouble\":\"2.0\"}}");
	assert_prints_v(v, MIG_JSON_RELAXED, "{\"a\":1,\"b\":1,\"c\":9223372036854775807,\"d\":2.0}");
	assert_int_equal(mig_value_from_bson(&v, &b, MIG_JSON_RELAXED, &err), 0);
	assert_prints_v(v, MIG_JSON_CANONICAL,
			"{\"a\":{\"$numberInt\":\"1\"},\"b\":{\"$numberInt\":\"1\"},"
			"\"c\":{\"$numberLong\":\"9223372036854775807\"},\"d\":{\"$numberDouble\":\"2.0\"}}");
	bson_destroy(&b);

	/* plain numbers: int32 when they fit, else int64; microseconds are
	 * dropped (floor) on the way to BSON */
	v = parse("{\"i\":2147483647,\"l\":2147483648,\"u\":{\"$date\":\"2024-05-01T10:00:00.123999Z\"},"
		  "\"n\":{\"$date\":\"1969-12-31T23:59:59.9995Z\"},\"x\":[{\"$numberLong\":\"3\"}]}");
	bson_init(&b);
	assert_int_equal(mig_value_to_bson(&b, v, &err), 0);
	assert_true(bson_iter_init_find(&it, &b, "i") && BSON_ITER_HOLDS_INT32(&it));
	assert_true(bson_iter_init_find(&it, &b, "l") && BSON_ITER_HOLDS_INT64(&it));
	assert_true(bson_iter_init_find(&it, &b, "u") && bson_iter_date_time(&it) == INT64_C(1714557600123));
	assert_true(bson_iter_init_find(&it, &b, "n") && bson_iter_date_time(&it) == -1);
	assert_true(bson_iter_init_find(&it, &b, "x"));
	assert_int_equal(mig_value_from_bson(&w, &b, MIG_JSON_CANONICAL, &err), 0);
	assert_prints_v(w, MIG_JSON_RELAXED,
			"{\"i\":2147483647,\"l\":2147483648,\"u\":{\"$date\":\"2024-05-01T10:00:00.123Z\"},"
			"\"n\":{\"$date\":{\"$numberLong\":\"-1\"}},\"x\":[3]}");
	bson_destroy(&b);
	json_decref(v);

	/* the path of what is wrong */
	v = parse("{\"a\":[0,{\"b\":{\"$numberInt\":\"x\"}}]}");
	bson_init(&b);
	assert_int_equal(mig_value_to_bson(&b, v, &err), MIG_EDATA);
	assert_string_equal(err.msg, "/a/1/b: $numberInt: not a 32-bit integer string: \"x\"");
	bson_destroy(&b);
	json_decref(v);

	v = json_object();
	json_object_setn_new(v, "k\0y", 3, json_true());
	bson_init(&b);
	assert_int_equal(mig_value_to_bson(&b, v, &err), MIG_EDATA);
	assert_non_null(strstr(err.msg, "NUL"));
	bson_destroy(&b);
	json_decref(v);

	v = parse("[1]");
	bson_init(&b);
	assert_int_equal(mig_value_to_bson(&b, v, &err), MIG_EDATA);
	bson_destroy(&b);
	json_decref(v);

	/* a string that is not UTF-8 in BSON */
	bson_init(&b);
	bson_append_utf8(&b, "s", 1, "\xff", 1);
	assert_int_equal(mig_value_from_bson(&v, &b, MIG_JSON_RELAXED, &err), MIG_EDATA);
	assert_null(v);
	assert_string_equal(err.msg, "/s: corrupt BSON: string is not UTF-8");
	bson_destroy(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_corpus),
		cmocka_unit_test(test_date),
		cmocka_unit_test(test_write_strings),
		cmocka_unit_test(test_write_numbers),
		cmocka_unit_test(test_write_modes),
		cmocka_unit_test(test_write_cap),
		cmocka_unit_test(test_types),
		cmocka_unit_test(test_check),
		cmocka_unit_test(test_accessors),
		cmocka_unit_test(test_equal),
		cmocka_unit_test(test_cmp),
		cmocka_unit_test(test_base64),
		cmocka_unit_test(test_bson),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
