/* test_validate.c - lib/validate: decimals, URIs, formats, patterns, key
 * sets, and the compile/validate API. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mig/cli.h"
#include "mig/validate.h"
#include "validate/schema.h"

static json_t *parse(const char *s)
{
	json_t *v = json_loads(s, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
	assert_non_null(v);
	return v;
}

static struct mig_schema *compile(const char *text, int formats)
{
	struct mig_schema_opts o = { .formats = formats };
	struct mig_schema *s = NULL;
	struct mig_error err = { 0 };
	json_t *doc = parse(text);
	int rc = mig_schema_compile(&s, doc, "t.json", NULL, &o, &err);
	if (rc)
		fail_msg("compile %s: %s", text, err.msg);
	json_decref(doc);
	return s;
}

/* 1 valid, 0 invalid */
static int valid(struct mig_schema *s, const char *value)
{
	json_t *v = parse(value);
	struct mig_error err = { 0 };
	int rc = mig_schema_validate(s, v, NULL, &err);
	json_decref(v);
	assert_true(rc == 0 || rc == 1);
	return rc;
}

/* ---- decimals ---- */

static void test_dec_cmp(void **state)
{
	(void)state;
	assert_int_equal(mig_v_dec_cmp("0.30", "0.3"), 0);
	assert_int_equal(mig_v_dec_cmp("1E+2", "100"), 0);
	assert_int_equal(mig_v_dec_cmp("-0", "0"), 0);
	assert_int_equal(mig_v_dec_cmp("0.3000000000000000000000000000000001", "0.3"), 1);
	assert_int_equal(mig_v_dec_cmp("-5", "-4.99"), -1);
	assert_int_equal(mig_v_dec_cmp("12345678901234567890", "1.2345678901234567890e19"), 0);
	assert_int_equal(mig_v_dec_cmp("Infinity", "1e6000"), 1);
	assert_int_equal(mig_v_dec_cmp("-Infinity", "-1e6000"), -1);
	assert_int_equal(mig_v_dec_cmp("NaN", "0"), 2);
	assert_int_equal(mig_v_dec_cmp("abc", "0"), 2);
}

static void test_dec_multiple(void **state)
{
	(void)state;
	assert_int_equal(mig_v_dec_multiple("0.0075", "0.0001"), 1);
	assert_int_equal(mig_v_dec_multiple("0.00751", "0.0001"), 0);
	assert_int_equal(mig_v_dec_multiple("19.99", "0.01"), 1);
	assert_int_equal(mig_v_dec_multiple("1e308", "0.123456789"), 0);
	assert_int_equal(mig_v_dec_multiple("1e308", "0.5"), 1);
	assert_int_equal(mig_v_dec_multiple("0", "7"), 1);
	assert_int_equal(mig_v_dec_multiple("12", "0"), -1);
	char t[32];
	mig_v_dec_from_double(t, 0.1);
	assert_string_equal(t, "0.1");
	mig_v_dec_from_double(t, 65655.5);
	assert_string_equal(t, "65655.5");
}

/* ---- URIs ---- */

static void assert_resolves(const char *base, const char *ref, const char *want)
{
	char *got = mig_v_uri_resolve(base, ref);
	assert_non_null(got);
	assert_string_equal(got, want);
	free(got);
}

static void test_uri_resolve(void **state)
{
	(void)state;
	/* RFC 3986 section 5.4 examples */
	const char *b = "http://a/b/c/d;p?q";
	assert_resolves(b, "g", "http://a/b/c/g");
	assert_resolves(b, "./g", "http://a/b/c/g");
	assert_resolves(b, "g/", "http://a/b/c/g/");
	assert_resolves(b, "/g", "http://a/g");
	assert_resolves(b, "//g", "http://g");
	assert_resolves(b, "?y", "http://a/b/c/d;p?y");
	assert_resolves(b, "#s", "http://a/b/c/d;p?q#s");
	assert_resolves(b, "../g", "http://a/b/g");
	assert_resolves(b, "../../g", "http://a/g");
	assert_resolves(b, "../../../g", "http://a/g");
	assert_resolves(b, "", "http://a/b/c/d;p?q");
	/* what schemas do */
	assert_resolves("urn:uuid:deadbeef-1234-ffff", "#/$defs/x", "urn:uuid:deadbeef-1234-ffff#/$defs/x");
	assert_resolves("file:///s/a.json", "common/t.json#/x", "file:///s/common/t.json#/x");
	assert_resolves("", "#foo", "#foo");
}

/* ---- formats ---- */

static void test_formats(void **state)
{
	(void)state;
	assert_true(mig_format_check("date-time", "1998-12-31T23:59:60Z", 20));
	assert_true(mig_format_check("date-time", "1998-12-31T15:59:60.123-08:00", 29));
	assert_false(mig_format_check("date-time", "1998-12-31T23:58:60Z", 20));
	assert_false(mig_format_check("date", "2023-02-29", 10));
	assert_true(mig_format_check("date", "2024-02-29", 10));
	assert_true(mig_format_check("email", "joe.bloggs@[IPv6:::1]", 21));
	assert_false(mig_format_check("email", "te..st@example.com", 18));
	assert_true(mig_format_check("ipv6", "::ffff:192.168.0.1", 18));
	assert_false(mig_format_check("ipv4", "127.0.0.01", 10));
	assert_true(mig_format_check("uri", "urn:oasis:names:specification:docbook:dtd:xml:4.1.2", 51));
	assert_false(mig_format_check("uri", "//foo.bar/?baz=qux#quux", 23));
	assert_true(mig_format_check("uuid", "2eb8aa08-aa98-11ea-b4aa-73b441d16380", 36));
	assert_true(mig_format_check("duration", "P4DT12H30M5S", 12));
	assert_false(mig_format_check("duration", "P1YT", 4));
	assert_true(mig_format_check("no-such-format", "anything", 8));
}

/* ---- patterns ---- */

static int matches(const char *pattern, const char *s)
{
	char why[256];
	struct vregex *re = mig_vregex_compile(pattern, strlen(pattern), why, sizeof why);
	if (!re)
		fail_msg("%s: %s", pattern, why);
	int r = mig_vregex_match(re, s, strlen(s));
	mig_vregex_free(re);
	return r;
}

static void test_patterns(void **state)
{
	char why[256];
	(void)state;
	assert_true(matches("^\\d+$", "123"));
	assert_false(matches("^\\d+$", "\xd9\xa1"));          /* ARABIC-INDIC DIGIT ONE */
	assert_false(matches("^\\w$", "\xc3\xa9"));             /* e acute */
	assert_true(matches("^\\p{Letter}+$", "\xc3\xa9t\xc3\xa9"));
	assert_false(matches("^a$", "a\n"));                    /* $ is the very end */
	assert_true(matches("[^]", "x"));
	assert_true(matches("^\\u00e9$", "\xc3\xa9"));
	assert_true(matches("\\bword\\b", "a word here"));
	assert_null(mig_vregex_compile("(?i)a", 5, why, sizeof why));
	assert_null(mig_vregex_compile("^[0-9", 5, why, sizeof why));
	assert_non_null(strstr(why, "invalid regular expression"));
}

/* ---- key sets ---- */

static void test_keyset(void **state)
{
	struct keyset *k = NULL;
	uint64_t first = 0;
	char key[32];
	(void)state;
	assert_int_equal(mig_v_keyset_new(&k), 0);
	for (int i = 0; i < 5000; i++) {
		int n = snprintf(key, sizeof key, "k%d", i);
		assert_int_equal(mig_v_keyset_add(k, key, (size_t)n, (uint64_t)i + 1, NULL), 1);
	}
	assert_int_equal(mig_v_keyset_add(k, "k42", 3, 9999, &first), 0);
	assert_int_equal(first, 43);
	assert_true(mig_v_keyset_has(k, "k4999", 5));
	assert_false(mig_v_keyset_has(k, "k5000", 5));
	assert_int_equal(mig_v_keyset_size(k), 5000);
	mig_v_keyset_free(k);
}

static void test_paths(void **state)
{
	json_t *v = parse("{\"a\": {\"b\": [10, {\"c/d\": 7}]}}");
	struct mig_buf b;
	(void)state;
	assert_int_equal(json_integer_value(mig_v_path_get(v, "a.b.0")), 10);
	assert_int_equal(json_integer_value(mig_v_path_get(v, "/a/b/1/c~1d")), 7);
	assert_null(mig_v_path_get(v, "a.x"));
	mig_buf_init(&b, 0);
	assert_int_equal(mig_v_path_pointer(&b, "a.b"), 0);
	assert_string_equal(b.data, "/a/b");
	mig_buf_reset(&b);
	json_t *one = parse("1.0");
	assert_int_equal(mig_v_key_text(&b, one), 0);
	assert_string_equal(b.data, "1");
	json_decref(one);
	mig_buf_free(&b);
	json_decref(v);
}

/* ---- compile and validate ---- */

static void test_validate_basics(void **state)
{
	struct mig_schema *s = compile("{\"type\": \"object\", \"required\": [\"id\"], "
				       "\"properties\": {\"id\": {\"type\": \"integer\", \"minimum\": 1}}}", 0);
	(void)state;
	assert_string_equal(mig_schema_draft(s), "draft2020-12");
	assert_int_equal(valid(s, "{\"id\": 1}"), 1);
	assert_int_equal(valid(s, "{\"id\": 1.0}"), 1);
	assert_int_equal(valid(s, "{\"id\": {\"$numberLong\": \"5\"}}"), 1);
	assert_int_equal(valid(s, "{\"id\": 0}"), 0);
	assert_int_equal(valid(s, "{}"), 0);
	assert_int_equal(valid(s, "[]"), 0);
	mig_schema_free(s);
}

static void test_validate_errors(void **state)
{
	struct mig_schema *s = compile("{\"properties\": {\"a\": {\"type\": \"array\", \"items\": "
				       "{\"maximum\": 3}}}, \"required\": [\"b\"]}", 0);
	json_t *v = parse("{\"a\": [1, 5, 9]}"), *errors = NULL;
	struct mig_error err = { 0 };
	char *text;
	(void)state;
	assert_int_equal(mig_schema_validate(s, v, &errors, &err), 0);
	assert_non_null(errors);
	text = json_dumps(errors, JSON_COMPACT);
	assert_string_equal(text,
		"[{\"path\":\"/b\",\"keyword\":\"required\",\"message\":\"required property is missing\"},"
		"{\"path\":\"/a/1\",\"keyword\":\"maximum\",\"message\":\"must be <= 3\"},"
		"{\"path\":\"/a/2\",\"keyword\":\"maximum\",\"message\":\"must be <= 3\"}]");
	mig_json_free(text);
	json_decref(errors);
	json_decref(v);
	mig_schema_free(s);
}

static void test_extended_json(void **state)
{
	struct mig_schema *s = compile("{\"properties\": {"
				       "\"d\": {\"type\": \"string\", \"format\": \"date-time\"},"
				       "\"m\": {\"type\": \"number\", \"maximum\": 0.3, \"multipleOf\": 0.01},"
				       "\"o\": {\"type\": \"string\", \"pattern\": \"^[0-9a-f]{24}$\"},"
				       "\"b\": {\"type\": \"object\"}}}", 1);
	(void)state;
	assert_int_equal(valid(s, "{\"d\": {\"$date\": \"2024-05-01T10:00:00Z\"}}"), 1);
	assert_int_equal(valid(s, "{\"d\": {\"$date\": {\"$numberLong\": \"0\"}}}"), 1);
	assert_int_equal(valid(s, "{\"m\": {\"$numberDecimal\": \"0.30\"}}"), 1);
	assert_int_equal(valid(s, "{\"m\": {\"$numberDecimal\": \"0.31\"}}"), 0);
	assert_int_equal(valid(s, "{\"m\": {\"$numberDecimal\": \"0.295\"}}"), 0);
	assert_int_equal(valid(s, "{\"o\": {\"$oid\": \"5f1e9d8c7b6a594837261504\"}}"), 1);
	assert_int_equal(valid(s, "{\"b\": {\"$binary\": {\"base64\": \"\", \"subType\": \"00\"}}}"), 1);
	assert_int_equal(valid(s, "{\"b\": {\"$date\": \"2024-05-01T10:00:00Z\"}}"), 0);
	mig_schema_free(s);
}

static void test_compile_errors(void **state)
{
	static const struct { const char *schema, *want; } cases[] = {
		{ "{\"properties\": {\"a\": {\"type\": \"int\"}}}", "t.json: /properties/a/type:" },
		{ "{\"minLength\": -1}", "t.json: /minLength:" },
		{ "{\"pattern\": \"(\"}", "t.json: /pattern: invalid regular expression" },
		{ "{\"$ref\": \"#/$defs/nope\"}", "t.json: /$ref: $ref #/$defs/nope: no such place" },
		{ "{\"$ref\": \"#nope\"}", "t.json: /$ref: $ref #nope: no anchor" },
		{ "{\"$ref\": \"https://example.org/x.json\"}", "--schema-map" },
		{ "{\"$schema\": \"https://example.org/dialect\"}", "unknown meta-schema" },
	};
	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct mig_schema *s = NULL;
		struct mig_error err = { 0 };
		json_t *doc = parse(cases[i].schema);
		assert_int_equal(mig_schema_compile(&s, doc, "t.json", NULL, NULL, &err), MIG_EUSAGE);
		assert_null(s);
		if (!strstr(err.msg, cases[i].want))
			fail_msg("%s: \"%s\" lacks \"%s\"", cases[i].schema, err.msg, cases[i].want);
		json_decref(doc);
	}
}

static void test_draft7(void **state)
{
	struct mig_schema *s = compile("{\"$schema\": \"http://json-schema.org/draft-07/schema#\","
				       "\"items\": [{\"type\": \"integer\"}], \"additionalItems\": false,"
				       "\"dependencies\": {\"a\": [\"b\"]}}", 0);
	(void)state;
	assert_string_equal(mig_schema_draft(s), "draft7");
	assert_int_equal(valid(s, "[1]"), 1);
	assert_int_equal(valid(s, "[1, 2]"), 0);
	assert_int_equal(valid(s, "{\"a\": 1}"), 0);
	assert_int_equal(valid(s, "{\"a\": 1, \"b\": 1}"), 1);
	mig_schema_free(s);
}

static void test_recursion_limit(void **state)
{
	/* a schema that refers to itself without consuming the instance */
	struct mig_schema *s = compile("{\"$ref\": \"#/$defs/a\", \"$defs\": {\"a\": {\"$ref\": \"#\"}}}", 0);
	(void)state;
	assert_int_equal(valid(s, "1"), 0);
	mig_schema_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dec_cmp),
		cmocka_unit_test(test_dec_multiple),
		cmocka_unit_test(test_uri_resolve),
		cmocka_unit_test(test_formats),
		cmocka_unit_test(test_patterns),
		cmocka_unit_test(test_keyset),
		cmocka_unit_test(test_paths),
		cmocka_unit_test(test_validate_basics),
		cmocka_unit_test(test_validate_errors),
		cmocka_unit_test(test_extended_json),
		cmocka_unit_test(test_compile_errors),
		cmocka_unit_test(test_draft7),
		cmocka_unit_test(test_recursion_limit),
	};
	mig_json_alloc_init();
	return cmocka_run_group_tests_name("validate", tests, NULL, NULL);
}
