/* Unit tests: the NDJSON reader and writer, zstd, and record parsing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <dirent.h>

#include "mig/stream.h"

static char dir[] = "/tmp/mig-stream-XXXXXX";

static int setup(void **state)
{
	(void)state;
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];
	(void)state;
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	return system(cmd);
}

static const char *put_file(const char *name, const void *p, size_t n)
{
	static char path[256];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(p, 1, n, f), n);
	fclose(f);
	return path;
}

static void test_lines(void **state)
{
	static const char text[] = "\xEF\xBB\xBF{\"a\":1}\r\n\n   \n{\"b\":2}\n{\"c\":3}";
	struct mig_reader *r;
	struct mig_error err;
	struct mig_line l;
	(void)state;

	assert_int_equal(mig_reader_open(&r, put_file("l.ndjson", text, sizeof text - 1), 0, &err), 0);
	assert_int_equal(mig_reader_next(r, &l, &err), 0);
	assert_int_equal(l.lineno, 1);
	assert_int_equal(l.len, 7);   /* BOM and \r gone */
	assert_memory_equal(l.data, "{\"a\":1}", 7);
	assert_int_equal(mig_reader_next(r, &l, &err), 0);
	assert_int_equal(l.lineno, 4);   /* blank lines skipped, but counted */
	assert_int_equal(mig_reader_next(r, &l, &err), 0);
	assert_int_equal(l.lineno, 5);   /* last line without '\n' */
	assert_memory_equal(l.data, "{\"c\":3}", 7);
	assert_int_equal(mig_reader_next(r, &l, &err), MIG_DONE);
	assert_int_equal(mig_reader_size(r), sizeof text - 1);
	mig_reader_close(r);
}

static void test_max_line(void **state)
{
	char text[600];
	struct mig_reader *r;
	struct mig_error err;
	struct mig_line l;
	(void)state;

	/* line 1 short, line 2 is 300 bytes, line 3 short */
	strcpy(text, "{\"a\":1}\n{\"x\":\"");
	size_t n = strlen(text);
	memset(text + n, 'x', 280);
	n += 280;
	memcpy(text + n, "\"}\n{\"b\":2}\n", 11);
	n += 11;
	assert_int_equal(mig_reader_open(&r, put_file("m.ndjson", text, n), 100, &err), 0);
	assert_int_equal(mig_reader_next(r, &l, &err), 0);
	assert_int_equal(mig_reader_next(r, &l, &err), MIG_EDATA);
	assert_int_equal(l.lineno, 2);
	assert_non_null(strstr(err.msg, "m.ndjson:2: line longer than --max-line (100 bytes)"));
	assert_int_equal(mig_reader_next(r, &l, &err), 0);
	assert_int_equal(l.lineno, 3);
	assert_memory_equal(l.data, "{\"b\":2}", 7);
	assert_int_equal(mig_reader_next(r, &l, &err), MIG_DONE);
	mig_reader_close(r);
}

/* A line longer than the reader's first buffer but under the cap. */
static void test_long_line(void **state)
{
	size_t big = (3u << 20);
	char *text = malloc(big + 64);
	struct mig_reader *r;
	struct mig_error err;
	struct mig_line l;
	json_t *rec;
	(void)state;

	strcpy(text, "{\"x\":\"");
	memset(text + 6, 'y', big);
	strcpy(text + 6 + big, "\"}\n{\"z\":1}\n");
	assert_int_equal(mig_reader_open(&r, put_file("big.ndjson", text, strlen(text)), 0, &err), 0);
	assert_int_equal(mig_reader_next(r, &l, &err), 0);
	assert_int_equal(l.len, big + 8);
	assert_int_equal(mig_record_parse(&rec, &l, "big", &err), 0);
	assert_int_equal(strlen(json_string_value(json_object_get(rec, "x"))), big);
	json_decref(rec);
	assert_int_equal(mig_reader_next(r, &l, &err), 0);
	assert_int_equal(l.lineno, 2);
	mig_reader_close(r);
	free(text);
}

static void expect_parse_error(const char *text, size_t n, const char *want)
{
	struct mig_line l = { text, n, 7 };
	struct mig_error err = { 0 };
	json_t *rec = NULL;
	assert_int_equal(mig_record_parse(&rec, &l, "in.ndjson", &err), MIG_EDATA);
	assert_null(rec);
	if (!strstr(err.msg, want))
		fail_msg("'%s' lacks '%s'", err.msg, want);
}

static void test_parse_errors(void **state)
{
	(void)state;
	expect_parse_error("{\"a\":", 5, "in.ndjson:7: invalid JSON");
	expect_parse_error("[1,2]", 5, "in.ndjson:7: not a JSON object (array)");
	expect_parse_error("42", 2, "not a JSON object (number)");
	expect_parse_error("{\"a\":\"\xff\"}", 9, "in.ndjson:7: invalid UTF-8 (byte 0xff at column 7)");
	expect_parse_error("{\"a\":\"\xc3\"}", 9, "invalid UTF-8");
	expect_parse_error("{\"a\":1}\0x", 9, "in.ndjson:7: NUL byte in the line (column 8)");
	expect_parse_error("{\"a\":1,\"a\":2}", 13, "duplicate");
	expect_parse_error("{\"a\":1} {}", 10, "invalid JSON");
}

static void test_parse_ok(void **state)
{
	static const char text[] = "{\"s\":\"a\\u0000b\",\"u\":\"\xc3\xa9\xf0\x9f\x98\x80\",\"n\":-9223372036854775808}";
	struct mig_line l = { text, sizeof text - 1, 1 };
	struct mig_error err;
	json_t *rec, *v;
	(void)state;

	assert_int_equal(mig_record_parse(&rec, &l, "x", &err), 0);
	assert_int_equal(json_string_length(json_object_get(rec, "s")), 3);
	assert_int_equal(json_integer_value(json_object_get(rec, "n")), INT64_MIN);
	json_decref(rec);
	struct mig_line l2 = { "[1]", 3, 1 };
	assert_int_equal(mig_value_parse(&v, &l2, "x", &err), 0);
	assert_true(json_is_array(v));
	json_decref(v);
}

/* mig_value_parse_text: the same parser, a message without a place. */
static void test_parse_text(void **state)
{
	struct mig_error err = { 0 };
	json_t *v = NULL;
	(void)state;

	assert_int_equal(mig_value_parse_text(&v, " {\"d\":{\"$date\":\"2024-05-01\"}} ", 29,
					      &err), 0);
	assert_string_equal(json_string_value(json_object_get(json_object_get(v, "d"), "$date")),
			    "2024-05-01");
	json_decref(v);
	assert_int_equal(mig_value_parse_text(&v, "\"s\"", 3, &err), 0);
	assert_string_equal(json_string_value(v), "s");
	json_decref(v);
	assert_int_equal(mig_value_parse_text(&v, "{\"a\":", 5, &err), MIG_EDATA);
	assert_null(v);
	assert_string_equal(err.msg, "invalid JSON: premature end of input (column 6)");
	assert_int_equal(mig_value_parse_text(&v, "\"\xff\"", 3, &err), MIG_EDATA);
	assert_string_equal(err.msg, "invalid UTF-8 (byte 0xff at column 2)");
	assert_int_equal(mig_value_parse_text(&v, "1\0", 2, &err), MIG_EDATA);
	assert_string_equal(err.msg, "NUL byte in the text (column 2)");
	assert_int_equal(mig_value_parse_text(&v, "", 0, &err), MIG_EDATA);
	assert_null(v);
}

static void roundtrip(const char *name, int flags)
{
	char path[256];
	struct mig_writer *w;
	struct mig_reader *r;
	struct mig_error err;
	struct mig_line l;
	uint64_t n = 0;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	assert_int_equal(mig_writer_open(&w, path, flags, MIG_JSON_RELAXED, &err), 0);
	for (int i = 0; i < 50000; i++) {
		json_t *rec = json_pack("{s:i, s:s}", "i", i, "s", "some text to compress");
		assert_int_equal(mig_writer_put(w, rec, &err), 0);
		json_decref(rec);
	}
	assert_int_equal(mig_writer_close(w, 1, &err), 0);
	assert_int_equal(mig_reader_open(&r, path, 0, &err), 0);
	while (mig_reader_next(r, &l, &err) == 0) {
		json_t *rec;
		assert_int_equal(mig_record_parse(&rec, &l, path, &err), 0);
		assert_int_equal(json_integer_value(json_object_get(rec, "i")), (json_int_t)n);
		json_decref(rec);
		n++;
	}
	assert_int_equal(n, 50000);
	mig_reader_close(r);
}

static void test_writer_plain(void **state)
{
	(void)state;
	roundtrip("w.ndjson", 0);
}

static void test_writer_zstd(void **state)
{
	char cmd[512];
	(void)state;
	roundtrip("w.ndjson.zst", 0);
	/* the zstd tool reads what we wrote */
	snprintf(cmd, sizeof cmd, "zstd -q -t '%s/w.ndjson.zst'", dir);
	assert_int_equal(system(cmd), 0);
	/* appending makes a second frame; the reader goes on across frames */
	snprintf(cmd, sizeof cmd, "cat '%s/w.ndjson.zst' '%s/w.ndjson.zst' > '%s/two.ndjson.zst'",
		 dir, dir, dir);
	assert_int_equal(system(cmd), 0);
	snprintf(cmd, sizeof cmd, "%s/two.ndjson.zst", dir);
	struct mig_reader *r;
	struct mig_error err;
	struct mig_line l;
	uint64_t n = 0;
	assert_int_equal(mig_reader_open(&r, cmd, 0, &err), 0);
	while (mig_reader_next(r, &l, &err) == 0)
		n++;
	assert_int_equal(n, 100000);
	mig_reader_close(r);
}

static void test_truncated_zstd(void **state)
{
	char path[256], cmd[600];
	struct mig_reader *r;
	struct mig_error err;
	struct mig_line l;
	int rc;
	(void)state;

	roundtrip("t.ndjson.zst", 0);
	snprintf(path, sizeof path, "%s/t.ndjson.zst", dir);
	snprintf(cmd, sizeof cmd, "truncate -s -20 '%s'", path);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(mig_reader_open(&r, path, 0, &err), 0);
	while ((rc = mig_reader_next(r, &l, &err)) == 0)
		;
	assert_int_equal(rc, MIG_EIO);
	assert_non_null(strstr(err.msg, "truncated zstd stream"));
	mig_reader_close(r);
}

static void test_missing(void **state)
{
	struct mig_reader *r;
	struct mig_writer *w;
	struct mig_error err;
	(void)state;
	assert_int_equal(mig_reader_open(&r, "/nonexistent/x.ndjson", 0, &err), MIG_EIO);
	assert_non_null(strstr(err.msg, "/nonexistent/x.ndjson: No such file"));
	assert_int_equal(mig_writer_open(&w, "/nonexistent/y.ndjson", 0, MIG_JSON_RELAXED, &err),
			 MIG_EIO);
}

/* The JSON parsing suite (../shared/testdata/json-test-suite): every y_ file
 * is accepted but three that mig refuses on purpose: two with duplicate
 * keys (a later value would silently replace an earlier one) and one with
 * "\u0000" in a key (no store takes it, and C strings would cut it); every
 * n_ file is refused; the i_ files are counted. */
static void test_json_suite(void **state)
{
	const char *td = getenv("MIG_TESTDATA");
	char dirp[512], path[1024];
	DIR *d;
	struct dirent *e;
	int y = 0, y_ok = 0, n = 0, n_ok = 0, i = 0, i_acc = 0;
	(void)state;

	snprintf(dirp, sizeof dirp, "%s/json-test-suite/test_parsing",
		 td ? td : "../shared/testdata");
	d = opendir(dirp);
	if (!d)
		fail_msg("no JSON test suite at %s (set MIG_TESTDATA)", dirp);
	while ((e = readdir(d))) {
		char kind = e->d_name[0];
		if (e->d_name[0] == '.' || e->d_name[1] != '_')
			continue;
		snprintf(path, sizeof path, "%s/%s", dirp, e->d_name);
		FILE *f = fopen(path, "rb");
		assert_non_null(f);
		static char buf[300000];
		size_t len = fread(buf, 1, sizeof buf, f);
		fclose(f);
		struct mig_line l = { buf, len, 1 };
		struct mig_error err;
		json_t *v = NULL;
		int ok = mig_value_parse(&v, &l, e->d_name, &err) == 0;
		json_decref(v);
		if (kind == 'y') {
			int dup = strstr(e->d_name, "duplicated_key") != NULL ||
				  strcmp(e->d_name, "y_object_escaped_null_in_key.json") == 0;
			y++;
			y_ok += ok != dup;
			if (ok == dup)
				print_message("# FAIL %s: %s\n", e->d_name, ok ? "accepted" : err.msg);
		} else if (kind == 'n') {
			n++;
			n_ok += !ok;
			if (ok)
				print_message("# FAIL %s: accepted\n", e->d_name);
		} else if (kind == 'i') {
			i++;
			i_acc += ok;
		}
	}
	closedir(d);
	print_message("# json-test-suite: y_ %d of %d as expected, n_ %d of %d refused, "
		      "i_ %d of %d accepted\n", y_ok, y, n_ok, n, i_acc, i);
	assert_int_equal(y, 95);
	assert_int_equal(y_ok, y);
	assert_int_equal(n, 188);
	assert_int_equal(n_ok, n);
}

/* Numbers beyond int64 or double keep their digits as $numberDecimal. */
static void test_big_numbers(void **state)
{
	static const char text[] = "{\"a\":123456789012345678901234567890,\"b\":-1e400,\"c\":1e-400,"
				   "\"d\":9223372036854775807,\"e\":-9223372036854775808,\"f\":0e-999}";
	struct mig_line l = { text, sizeof text - 1, 1 };
	struct mig_error err;
	json_t *rec;
	(void)state;

	assert_int_equal(mig_record_parse(&rec, &l, "x", &err), 0);
	assert_string_equal(json_string_value(json_object_get(json_object_get(rec, "a"), "$numberDecimal")),
			    "123456789012345678901234567890");
	assert_string_equal(json_string_value(json_object_get(json_object_get(rec, "b"), "$numberDecimal")),
			    "-1e400");
	assert_string_equal(json_string_value(json_object_get(json_object_get(rec, "c"), "$numberDecimal")),
			    "1e-400");
	assert_int_equal(json_integer_value(json_object_get(rec, "d")), INT64_MAX);
	assert_int_equal(json_integer_value(json_object_get(rec, "e")), INT64_MIN);
	assert_true(json_is_real(json_object_get(rec, "f")));
	assert_int_equal(mig_value_check(rec, &err), 0);
	json_decref(rec);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lines),
		cmocka_unit_test(test_max_line),
		cmocka_unit_test(test_long_line),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_parse_ok),
		cmocka_unit_test(test_parse_text),
		cmocka_unit_test(test_json_suite),
		cmocka_unit_test(test_big_numbers),
		cmocka_unit_test(test_writer_plain),
		cmocka_unit_test(test_writer_zstd),
		cmocka_unit_test(test_truncated_zstd),
		cmocka_unit_test(test_missing),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
