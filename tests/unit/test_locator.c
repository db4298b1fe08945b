/* Unit tests: locators, env:/@ indirection, redaction, numbers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "mig/cli.h"
#include "mig/locator.h"

static struct mig_locator *parse_ok(const char *arg)
{
	struct mig_locator *loc = NULL;
	struct mig_error err = { 0 };
	int rc = mig_locator_parse(&loc, arg, &err);
	if (rc)
		print_message("unexpected error for %s: %s\n", arg, err.msg);
	assert_int_equal(rc, 0);
	return loc;
}

static void test_file_forms(void **state)
{
	struct mig_locator *l;
	(void)state;

	l = parse_ok("file:data/x.ndjson");
	assert_string_equal(l->scheme, "file");
	assert_string_equal(l->path, "data/x.ndjson");
	assert_null(l->collection);
	mig_locator_free(l);

	l = parse_ok("x#1.ndjson.zst");   /* a bare path keeps its '#' */
	assert_string_equal(l->scheme, "file");
	assert_string_equal(l->path, "x#1.ndjson.zst");
	mig_locator_free(l);

	l = parse_ok("-");
	assert_string_equal(l->path, "-");
	mig_locator_free(l);

	l = parse_ok("/abs/c:/weird");
	assert_string_equal(l->scheme, "file");
	mig_locator_free(l);
}

static void test_sqlite_and_urls(void **state)
{
	struct mig_locator *l;
	(void)state;

	l = parse_ok("sqlite:db/app.db#users");
	assert_string_equal(l->scheme, "sqlite");
	assert_string_equal(l->path, "db/app.db");
	assert_string_equal(l->collection, "users");
	assert_string_equal(l->redacted, "sqlite:db/app.db#users");
	mig_locator_free(l);

	l = parse_ok("sqlite:a.db#we#ird");   /* the last '#' splits */
	assert_string_equal(l->path, "a.db#we");
	assert_string_equal(l->collection, "ird");
	mig_locator_free(l);

	l = parse_ok("postgres://bob:s3cret@db:5432/app#public.users");
	assert_string_equal(l->scheme, "postgres");
	assert_string_equal(l->uri, "postgres://bob:s3cret@db:5432/app");
	assert_string_equal(l->collection, "public.users");
	assert_string_equal(l->redacted, "postgres://bob:***@db:5432/app#public.users");
	mig_locator_free(l);

	l = parse_ok("es+https://elastic:pw@127.0.0.1:9200#logs-*");
	assert_string_equal(l->scheme, "es");
	assert_int_equal(l->tls, 1);
	assert_null(strstr(l->redacted, "pw@"));
	mig_locator_free(l);

	l = parse_ok("mongodb://u:p%40ss@h1,h2/db?authSource=admin&password=zzz#c");
	assert_string_equal(l->scheme, "mongodb");
	assert_null(strstr(l->redacted, "p%40ss"));
	assert_null(strstr(l->redacted, "zzz"));
	assert_non_null(strstr(l->redacted, "authSource=admin"));
	mig_locator_free(l);
}

static void test_errors(void **state)
{
	struct mig_locator *l = NULL;
	struct mig_error err = { 0 };
	(void)state;

	assert_int_equal(mig_locator_parse(&l, "", &err), MIG_EUSAGE);
	assert_int_equal(mig_locator_parse(&l, "redis://u:topsecret@h/0#k", &err), MIG_EUSAGE);
	assert_non_null(strstr(err.msg, "unknown locator scheme 'redis'"));
	assert_null(strstr(err.msg, "topsecret"));
	assert_int_equal(mig_locator_parse(&l, "sqlite:", &err), MIG_EUSAGE);
	unsetenv("MIG_TEST_NOPE");
	assert_int_equal(mig_locator_parse(&l, "env:MIG_TEST_NOPE", &err), MIG_EUSAGE);
	assert_non_null(strstr(err.msg, "MIG_TEST_NOPE"));
	assert_int_equal(mig_locator_parse(&l, "@/nonexistent/locator", &err), MIG_EUSAGE);
	assert_null(l);
}

static void test_indirection(void **state)
{
	struct mig_locator *l;
	char path[] = "/tmp/mig-loc-XXXXXX";
	int fd;
	(void)state;

	setenv("MIG_TEST_LOC", "postgres://a:hidden@h/db#t", 1);
	l = parse_ok("env:MIG_TEST_LOC");
	assert_string_equal(l->collection, "t");
	assert_null(strstr(l->redacted, "hidden"));
	mig_locator_free(l);

	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "sqlite:/tmp/x.db#tab\n", 21), 21);
	close(fd);
	char arg[64];
	snprintf(arg, sizeof arg, "@%s", path);
	l = parse_ok(arg);
	assert_string_equal(l->path, "/tmp/x.db");
	assert_string_equal(l->collection, "tab");
	mig_locator_free(l);
	unlink(path);
}

static void test_redact(void **state)
{
	static const char *const cases[][2] = {
		{ "host=db user=bob password=s3cret dbname=app",
		  "host=db user=bob password=*** dbname=app" },
		{ "host=db password='s3 cr\\'et' port=5", "host=db password=*** port=5" },
		{ "es://h:9200/?api_key=abc&x=1#i", "es://h:9200/?api_key=***&x=1#i" },
		{ "postgres://bob@db/app", "postgres://bob@db/app" },
		{ "postgres://bob:@db/app", "postgres://bob:***@db/app" },
		{ "plain text", "plain text" },
	};
	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *r = mig_redact(cases[i][0]);
		assert_string_equal(r, cases[i][1]);
		free(r);
	}
}

static void test_numbers(void **state)
{
	uint64_t n;
	(void)state;
	assert_int_equal(mig_parse_size("64M", &n), 0);
	assert_int_equal(n, 64u << 20);
	assert_int_equal(mig_parse_size("10k", &n), 0);
	assert_int_equal(n, 10240);
	assert_int_equal(mig_parse_size("2GiB", &n), 0);
	assert_int_equal(n, 2ull << 30);
	assert_int_equal(mig_parse_size("100", &n), 0);
	assert_int_equal(n, 100);
	assert_int_equal(mig_parse_size("1x", &n), -1);
	assert_int_equal(mig_parse_size("-1", &n), -1);
	assert_int_equal(mig_parse_u64("12", &n), 0);
	assert_int_equal(mig_parse_u64("1.5", &n), -1);
	assert_int_equal(mig_parse_u64("", &n), -1);
}

static void test_exit_codes(void **state)
{
	(void)state;
	assert_int_equal(mig_exit_code(MIG_OK), 0);
	assert_int_equal(mig_exit_code(MIG_EDATA), 1);
	assert_int_equal(mig_exit_code(MIG_EUSAGE), 2);
	assert_int_equal(mig_exit_code(MIG_EIO), 3);
	assert_int_equal(mig_exit_code(MIG_EINTR), 4);
	assert_int_equal(mig_exit_code(MIG_ECORRUPT), 5);
	assert_int_equal(mig_exit_code(MIG_EPIPE), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_file_forms),
		cmocka_unit_test(test_sqlite_and_urls),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_indirection),
		cmocka_unit_test(test_redact),
		cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_exit_codes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
