/* test_map_cases.c - the data-driven cases of tests/map/NAME.test, one cmocka
 * test each, through the library (compile, push, finish).  The same files
 * run through the mig-map program in tests/cli/mig-map.bats.
 *
 * A file is a list of cases:
 *
 *   ### title
 *   mapping lines
 *   --- options --strict --on-error null --salt S --memory N --canonical
 *   --- input
 *   input lines (NDJSON)
 *   --- output
 *   expected output lines, exactly as printed (relaxed Extended JSON)
 *   --- rejects
 *   expected runtime error messages, one per rejected record
 *   --- compile-error
 *   the expected compile error message
 *
 * The mapping file is named "case" in messages; now() is fixed at
 * 2024-05-01T10:00:00Z.  Sections other than the mapping are optional. */
#include <glob.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mig/map.h"
#include "mig/stream.h"
#include "mig/value.h"

struct tcase {
	char *file;
	int line;
	char *title;
	struct mig_buf map, opts, in, out, rejects, cerr;
};

struct sink_state {
	struct mig_buf out, rej;
	enum mig_json_mode mode;
};

static int emit(void *ctx, json_t *rec, uint64_t line, struct mig_error *err)
{
	struct sink_state *s = ctx;
	mig_value_write(&s->out, rec, s->mode);
	mig_buf_putc(&s->out, '\n');
	json_decref(rec);
	return 0;
}

static int reject(void *ctx, const json_t *rec, uint64_t line, const char *why, int in_push,
		  struct mig_error *err)
{
	struct sink_state *s = ctx;
	mig_buf_printf(&s->rej, "%s\n", why);
	return 0;
}

static void show_diff(const char *what, const char *want, const char *got)
{
	print_error("--- %s expected:\n%s--- got:\n%s", what, want, got);
}

static void run_case(void **state)
{
	struct tcase *c = *state;
	struct mig_map_opts o = { .now_us = INT64_C(1714557600000000) };
	struct mig_map_diag diag;
	struct mig_error err = { 0 };
	struct sink_state s;
	struct mig_map *m = NULL;
	struct mig_map_sink sink = { emit, reject, &s };
	char *opt, *save = NULL;
	int rc;

	mig_buf_init(&s.out, 0);
	mig_buf_init(&s.rej, 0);
	s.mode = MIG_JSON_RELAXED;
	mig_buf_putc(&s.out, '\0');
	s.out.len = 0;
	mig_buf_putc(&s.rej, '\0');
	s.rej.len = 0;
	mig_buf_putc(&c->opts, ' ');
	for (opt = strtok_r(c->opts.data, " \n", &save); opt; opt = strtok_r(NULL, " \n", &save)) {
		if (strcmp(opt, "--canonical") == 0) {
			s.mode = MIG_JSON_CANONICAL;
		} else if (strcmp(opt, "--strict") == 0) {
			o.strict = 1;
		} else if (strcmp(opt, "--on-error") == 0) {
			opt = strtok_r(NULL, " \n", &save);
			o.on_error = strcmp(opt, "null") == 0 ? MIG_MAP_NULL
				   : strcmp(opt, "fail") == 0 ? MIG_MAP_FAIL : MIG_MAP_REJECT;
		} else if (strcmp(opt, "--salt") == 0) {
			o.salt = strtok_r(NULL, " \n", &save);
			o.salt_len = strlen(o.salt);
		} else if (strcmp(opt, "--memory") == 0) {
			o.memory = strtoull(strtok_r(NULL, " \n", &save), NULL, 10);
		}
	}
	rc = mig_map_compile(&m, c->map.data ? c->map.data : "", c->map.len, "case", &o, &diag,
			     &err);
	if (c->cerr.len) {
		if (rc == 0)
			print_error("%s:%d: %s: compiled, expected: %s", c->file, c->line, c->title,
				    c->cerr.data);
		else if (strcmp(err.msg, c->cerr.data))
			print_error("%s:%d: %s:\n  expected: %s\n  got:      %s\n", c->file, c->line,
				    c->title, c->cerr.data, err.msg);
		assert_int_not_equal(rc, 0);
		assert_string_equal(err.msg, c->cerr.data);
		goto out;
	}
	if (rc)
		print_error("%s:%d: %s: %s\n", c->file, c->line, c->title, err.msg);
	assert_int_equal(rc, 0);
	rc = mig_map_open_lookups(m, &err);
	if (rc)
		print_error("%s\n", err.msg);
	assert_int_equal(rc, 0);
	{
		const char *p = c->in.data ? c->in.data : "", *e = p + c->in.len;
		uint64_t lineno = 0;
		while (p < e) {
			const char *nl = memchr(p, '\n', (size_t)(e - p));
			struct mig_line ln = { p, nl ? (size_t)(nl - p) : (size_t)(e - p), ++lineno };
			json_t *rec;
			p = nl ? nl + 1 : e;
			if (!ln.len)
				continue;
			rc = mig_record_parse(&rec, &ln, "input", &err);
			if (rc)
				print_error("%s:%d: bad input: %s\n", c->file, c->line, err.msg);
			assert_int_equal(rc, 0);
			rc = mig_map_push(m, rec, lineno, &sink, &err);
			if (rc) {
				mig_buf_printf(&s.rej, "%s\n", err.msg);
				break;
			}
		}
		if (!rc && (rc = mig_map_finish(m, &sink, &err)))
			mig_buf_printf(&s.rej, "%s\n", err.msg);
	}
	if (strcmp(s.out.data, c->out.data ? c->out.data : "")) {
		print_error("%s:%d: %s\n", c->file, c->line, c->title);
		show_diff("output", c->out.data ? c->out.data : "", s.out.data);
	}
	assert_string_equal(s.out.data, c->out.data ? c->out.data : "");
	if (strcmp(s.rej.data, c->rejects.data ? c->rejects.data : "")) {
		print_error("%s:%d: %s\n", c->file, c->line, c->title);
		show_diff("rejects", c->rejects.data ? c->rejects.data : "", s.rej.data);
	}
	assert_string_equal(s.rej.data, c->rejects.data ? c->rejects.data : "");
out:
	mig_map_free(m);
	mig_buf_free(&s.out);
	mig_buf_free(&s.rej);
}

static struct tcase *cases;
static size_t ncases;

static void load(const char *path)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int lineno = 0;
	struct mig_buf *sec = NULL;
	struct tcase *c = NULL;

	assert_non_null(f);
	while ((n = getline(&line, &cap, f)) > 0) {
		lineno++;
		if (strncmp(line, "### ", 4) == 0) {
			cases = realloc(cases, (ncases + 1) * sizeof *cases);
			c = &cases[ncases++];
			memset(c, 0, sizeof *c);
			c->file = strdup(path);
			c->line = lineno;
			line[n - 1] = '\0';
			c->title = strdup(line + 4);
			mig_buf_init(&c->map, 0);
			mig_buf_init(&c->opts, 0);
			mig_buf_init(&c->in, 0);
			mig_buf_init(&c->out, 0);
			mig_buf_init(&c->rejects, 0);
			mig_buf_init(&c->cerr, 0);
			sec = &c->map;
			continue;
		}
		if (!c)
			continue;
		if (strncmp(line, "--- options", 11) == 0) {
			mig_buf_append(&c->opts, line + 11, (size_t)n - 11);
			sec = &c->map;
			continue;
		}
		if (strcmp(line, "--- input\n") == 0) { sec = &c->in; continue; }
		if (strcmp(line, "--- output\n") == 0) { sec = &c->out; continue; }
		if (strcmp(line, "--- rejects\n") == 0) { sec = &c->rejects; continue; }
		if (strcmp(line, "--- compile-error\n") == 0) { sec = &c->cerr; continue; }
		if (sec == &c->cerr) {
			line[n - 1] = '\0';
			mig_buf_puts(sec, line);
		} else if (sec && !(sec != &c->map && n == 1)) {
			mig_buf_append(sec, line, (size_t)n);
		}
	}
	free(line);
	fclose(f);
}

int main(void)
{
	glob_t g;
	struct CMUnitTest *tests;
	int rc;

	if (glob("tests/map/*.test", 0, NULL, &g) != 0) {
		fprintf(stderr, "no tests/map/*.test (run from the repository's root)\n");
		return 1;
	}
	for (size_t i = 0; i < g.gl_pathc; i++)
		load(g.gl_pathv[i]);
	globfree(&g);
	tests = calloc(ncases, sizeof *tests);
	for (size_t i = 0; i < ncases; i++) {
		tests[i].name = cases[i].title;
		tests[i].test_func = run_case;
		tests[i].initial_state = &cases[i];
	}
	rc = _cmocka_run_group_tests("map cases", tests, ncases, NULL, NULL);
	for (size_t i = 0; i < ncases; i++) {
		free(cases[i].file);
		free(cases[i].title);
		mig_buf_free(&cases[i].map);
		mig_buf_free(&cases[i].opts);
		mig_buf_free(&cases[i].in);
		mig_buf_free(&cases[i].out);
		mig_buf_free(&cases[i].rejects);
		mig_buf_free(&cases[i].cerr);
	}
	free(cases);
	free(tests);
	return rc;
}
