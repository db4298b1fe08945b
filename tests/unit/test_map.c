/* test_map.c - lib/map: decimal arithmetic, and the API around the
 * language (compile diagnostics, push/finish, counts, describe).  The
 * language itself: tests/map/NAME.test through test_map_cases.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mig/map.h"
#include "map/map_int.h"

static void dec_op(const char *a, const char *b, char op, const char *want)
{
	struct dec x, y, r;
	char buf[300];
	int rc;

	assert_int_equal(map_dec_parse(&x, a, strlen(a)), 0);
	assert_int_equal(map_dec_parse(&y, b, strlen(b)), 0);
	switch (op) {
	case '+': rc = map_dec_add(&r, &x, &y, 0); break;
	case '-': rc = map_dec_add(&r, &x, &y, 1); break;
	case '*': rc = map_dec_mul(&r, &x, &y); break;
	case '/': rc = map_dec_div(&r, &x, &y); break;
	default: rc = map_dec_mod(&r, &x, &y); break;
	}
	assert_int_equal(rc, 0);
	map_dec_format(buf, &r);
	if (strcmp(buf, want))
		print_error("%s %c %s = %s, want %s\n", a, op, b, buf, want);
	assert_string_equal(buf, want);
}

static void test_decimal_exact(void **state)
{
	dec_op("0.1", "0.2", '+', "0.3");
	dec_op("12.50", "0.125", '+', "12.625");
	dec_op("1", "0.001", '-', "0.999");
	dec_op("0.001", "1", '-', "-0.999");
	dec_op("-5", "-5", '+', "-10");
	dec_op("5", "-5", '+', "0");
	dec_op("12.50", "3", '*', "37.50");
	dec_op("-1.5", "1.5", '*', "-2.25");
	dec_op("99999999999999999", "99999999999999999", '*',
	       "9999999999999999800000000000000001");
	dec_op("10", "4", '/', "2.5");
	dec_op("12.50", "4", '/', "3.125");
	dec_op("2", "3", '/', "0.6666666666666666666666666666666667");
	dec_op("10.50", "3", '%', "1.50");
	dec_op("-7", "3", '%', "-1");
	dec_op("1E+10", "2", '*', "2E+10");
	dec_op("0.000001", "1000000", '*', "1.000000");
}

static void test_decimal_limits(void **state)
{
	struct dec x, y, r;
	int64_t i;

	assert_int_equal(map_dec_parse(&x, "NaN", 3), -2);
	assert_int_equal(map_dec_parse(&x, "1.2.3", 5), -1);
	assert_int_equal(map_dec_parse(&x, "", 0), -1);
	assert_int_equal(map_dec_parse(&x, "1e", 2), -1);
	assert_int_equal(map_dec_parse(&x, "5", 1), 0);
	assert_int_equal(map_dec_parse(&y, "0", 1), 0);
	assert_int_equal(map_dec_div(&r, &x, &y), -2);
	assert_int_equal(map_dec_mod(&r, &x, &y), -2);
	assert_int_equal(map_dec_parse(&x, "-9223372036854775808.9", 22), 0);
	assert_int_equal(map_dec_to_i64(&x, &i), 0);
	assert_true(i == INT64_MIN);
	assert_int_equal(map_dec_parse(&x, "9223372036854775808", 19), 0);
	assert_int_equal(map_dec_to_i64(&x, &i), -1);
	assert_int_equal(map_dec_parse(&x, "1E+6111", 7), 0);
	assert_int_equal(map_dec_parse(&y, "1E+6111", 7), 0);
	assert_int_equal(map_dec_mul(&r, &x, &y), -1);
	assert_int_equal(map_dec_parse(&x, "2.5", 3), 0);
	assert_int_equal(map_dec_quantize(&x, 0), 0);
	char buf[300];
	map_dec_format(buf, &x);
	assert_string_equal(buf, "3");
	assert_int_equal(map_dec_parse(&x, "-2.5", 4), 0);
	assert_int_equal(map_dec_quantize(&x, 0), 0);
	map_dec_format(buf, &x);
	assert_string_equal(buf, "-3");
}

struct sink {
	int emitted, rejected;
	char last[1024];
};

static int emit(void *ctx, json_t *rec, uint64_t line, struct mig_error *err)
{
	((struct sink *)ctx)->emitted++;
	json_decref(rec);
	return 0;
}

static int reject(void *ctx, const json_t *rec, uint64_t line, const char *why, int in_push,
		  struct mig_error *err)
{
	struct sink *s = ctx;
	s->rejected++;
	snprintf(s->last, sizeof s->last, "%s", why);
	return 0;
}

static void test_compile_diag(void **state)
{
	struct mig_map *m = NULL;
	struct mig_map_diag d;
	struct mig_error err;
	const char *src = "a = 1\n\tb = nope(a)\n";

	assert_int_equal(mig_map_compile(&m, src, strlen(src), "x.map", NULL, &d, &err),
			 MIG_EUSAGE);
	assert_null(m);
	assert_string_equal(err.msg, "x.map:2:6: unknown function 'nope'");
	assert_int_equal(d.line, 2);
	assert_int_equal(d.col, 6);
	assert_string_equal(d.text, "\tb = nope(a)");
	assert_string_equal(d.caret, "\t    ^");
}

static void test_push_finish_counts(void **state)
{
	struct mig_map *m = NULL;
	struct mig_error err;
	struct sink s = { 0 };
	struct mig_map_sink k = { emit, reject, &s };
	const char *src = "explode xs; where xs > 1; y = 10 / (xs - 2)";

	assert_int_equal(mig_map_compile(&m, src, strlen(src), "-e", NULL, NULL, &err), 0);
	assert_int_equal(mig_map_push(m, json_pack("{s:[i,i,i,i]}", "xs", 1, 2, 3, 4), 1, &k,
				      &err), 0);
	assert_int_equal(mig_map_finish(m, &k, &err), 0);
	assert_int_equal(s.emitted, 2);
	assert_int_equal(s.rejected, 1);
	assert_string_equal(s.last, "-e:1:34: division by zero");
	assert_int_equal(mig_map_counts(m)->exploded, 4);
	assert_int_equal(mig_map_counts(m)->filtered, 1);
	assert_int_equal(mig_map_counts(m)->errors, 1);
	json_t *d = mig_map_describe(m);
	assert_int_equal(json_integer_value(json_object_get(d, "statements")), 3);
	assert_int_equal(json_array_size(json_object_get(d, "stages")), 2);
	json_decref(d);
	mig_map_free(m);
	mig_map_free(NULL);
}

static void test_fail_policy(void **state)
{
	struct mig_map *m = NULL;
	struct mig_error err;
	struct sink s = { 0 };
	struct mig_map_sink k = { emit, reject, &s };
	struct mig_map_opts o = { .on_error = MIG_MAP_FAIL };

	assert_int_equal(mig_map_compile(&m, "a = int(x)", 10, "-e", &o, NULL, &err), 0);
	assert_int_equal(mig_map_push(m, json_pack("{s:s}", "x", "no"), 1, &k, &err), MIG_EDATA);
	assert_string_equal(err.msg, "-e:1:5: int: not an integer: \"no\"");
	assert_int_equal(s.rejected, 0);
	mig_map_free(m);
}

static void test_lookup_unloaded(void **state)
{
	struct mig_map *m = NULL;
	struct mig_error err;
	const char *src = "lookup t from \"missing.ndjson\" on id\nx = t[a].b";

	assert_int_equal(mig_map_compile(&m, src, strlen(src), "-e", NULL, NULL, &err), 0);
	assert_int_equal(mig_map_open_lookups(m, &err), MIG_EIO);
	assert_non_null(strstr(err.msg, "lookup t: "));
	mig_map_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decimal_exact),
		cmocka_unit_test(test_decimal_limits),
		cmocka_unit_test(test_compile_diag),
		cmocka_unit_test(test_push_finish_counts),
		cmocka_unit_test(test_fail_policy),
		cmocka_unit_test(test_lookup_unloaded),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
