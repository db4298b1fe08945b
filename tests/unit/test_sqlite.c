/*
 * test_sqlite.c - the SQLite backend, driven through its ops struct on
 * temporary databases (a fresh directory from mkdtemp, removed at the end).
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "mig/backend.h"
#include "mig/locator.h"
#include "mig/value.h"

static char tmpdir[256];
static int seq;

static const struct mig_backend_ops *ops = &mig_backend_sqlite;

/* ------------------------------------------------------------- fixtures */

static int group_setup(void **state)
{
	const char *t = getenv("TMPDIR");

	snprintf(tmpdir, sizeof tmpdir, "%s/mig-sqlite-XXXXXX", t && *t ? t : "/tmp");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int group_teardown(void **state)
{
	DIR *d = opendir(tmpdir);
	struct dirent *e;
	char p[512];

	if (d) {
		while ((e = readdir(d))) {
			if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
				continue;
			snprintf(p, sizeof p, "%s/%s", tmpdir, e->d_name);
			unlink(p);
		}
		closedir(d);
	}
	return rmdir(tmpdir);
}

/* A new database path in the temporary directory (not created). */
static const char *dbpath(char *buf, size_t n)
{
	snprintf(buf, n, "%s/t%d.db", tmpdir, ++seq);
	return buf;
}

static struct mig_store *open_store(const char *path, const char *table, int flags,
				    int expect, struct mig_error *err)
{
	char arg[1024];
	struct mig_locator *loc = NULL;
	struct mig_store *st = NULL;
	struct mig_error e;
	int rc;

	if (!err)
		err = &e;
	snprintf(arg, sizeof arg, table ? "sqlite:%s#%s" : "sqlite:%s", path, table);
	assert_int_equal(mig_locator_parse(&loc, arg, err), 0);
	rc = ops->open(&st, loc, flags, err);
	if (rc != expect)
		fail_msg("open %s: %d %s", arg, rc, err->msg);
	if (rc) {
		mig_locator_free(loc);
		return NULL;
	}
	st->ops = ops;
	st->loc = loc;
	return st;
}

static void close_store(struct mig_store *st)
{
	if (st) {
		struct mig_locator *loc = st->loc;
		ops->close(st);
		mig_locator_free(loc);
	}
}

/* A batch from NDJSON lines (a NULL-terminated array). */
struct tbatch {
	struct mig_batch b;
	struct mig_batch_item items[64];
};

static void batch_init(struct tbatch *t, const char *const *lines)
{
	memset(t, 0, sizeof *t);
	t->b.items = t->items;
	for (size_t i = 0; lines[i]; i++) {
		json_error_t je;
		json_t *r = json_loads(lines[i], JSON_ALLOW_NUL, &je);
		if (!r)
			fail_msg("bad test record %s: %s", lines[i], je.text);
		t->items[i].rec = r;
		t->items[i].line = i + 1;
		t->b.n++;
	}
}

static void batch_free(struct tbatch *t)
{
	for (size_t i = 0; i < t->b.n; i++) {
		json_decref(t->items[i].rec);
		free(t->items[i].error);
		free(t->items[i].code);
	}
}

static struct mig_write_opts wopts(void)
{
	struct mig_write_opts o;

	memset(&o, 0, sizeof o);
	o.batch_size = 1000;
	return o;
}

static struct mig_read_opts ropts(void)
{
	struct mig_read_opts o;

	memset(&o, 0, sizeof o);
	o.limit = -1;
	return o;
}

/* Writes batches (each a NULL-terminated array of lines) in one load;
 * statuses of every item go to status[] in order ('I', 'U', 'S', 'R'). */
static void load(const char *path, const char *table, const struct mig_write_opts *o,
		 const char *const *const *batches, char *status)
{
	struct mig_error err;
	int flags = MIG_OPEN_WRITE | (o->dry_run ? MIG_OPEN_DRYRUN : 0);
	struct mig_store *st = open_store(path, table, flags, 0, NULL);
	size_t k = 0;

	if (ops->write_begin(st, o, &err))
		fail_msg("write_begin: %s", err.msg);
	for (size_t i = 0; batches[i]; i++) {
		struct tbatch t;
		batch_init(&t, batches[i]);
		if (ops->write_batch(st, &t.b, &err))
			fail_msg("write_batch: %s", err.msg);
		for (size_t j = 0; j < t.b.n; j++) {
			const struct mig_batch_item *it = &t.items[j];
			status[k++] = "PIUSR"[it->status];
		}
		batch_free(&t);
	}
	status[k] = '\0';
	if (ops->write_end(st, 1, &err))
		fail_msg("write_end: %s", err.msg);
	close_store(st);
}

/* Loads one batch in one load. */
static void load1(const char *path, const char *table, const struct mig_write_opts *o,
		  const char *const *lines, char *status)
{
	const char *const *batches[] = { lines, NULL };
	load(path, table, o, batches, status);
}

/* Reads every record into a new array. */
static json_t *read_all(const char *path, const char *table, const struct mig_read_opts *o)
{
	struct mig_error err;
	struct mig_store *st = open_store(path, table, MIG_OPEN_READ, 0, NULL);
	json_t *arr = json_array(), *rec;
	int rc;

	if (ops->read_begin(st, o, &err))
		fail_msg("read_begin: %s", err.msg);
	while ((rc = ops->read_next(st, &rec, &err)) == 0)
		json_array_append_new(arr, rec);
	if (rc != MIG_DONE)
		fail_msg("read_next: %s", err.msg);
	close_store(st);
	return arr;
}

static json_t *read_table(const char *path, const char *table)
{
	struct mig_read_opts o = ropts();
	return read_all(path, table, &o);
}

static json_t *parse(const char *s)
{
	json_t *v = json_loads(s, JSON_ALLOW_NUL | JSON_DECODE_ANY, NULL);
	assert_non_null(v);
	return v;
}

static void assert_json(const json_t *got, const char *want)
{
	json_t *w = parse(want);
	if (!mig_value_equal(got, w)) {
		char *g = json_dumps(got, JSON_COMPACT | JSON_ENCODE_ANY);
		fail_msg("got %s\nwant %s", g, want);
	}
	json_decref(w);
}

/* Runs one SQL statement on the file and returns the first column of
 * its first row as text (malloc'd), or NULL. */
static char *sql1(const char *path, const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	char *r = NULL;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		fail_msg("%s: %s", sql, sqlite3_errmsg(db));
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
		r = strdup((const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	sqlite3_close(db);
	return r;
}

static void assert_sql(const char *path, const char *sql, const char *want)
{
	char *got = sql1(path, sql);
	if (!got || strcmp(got, want))
		fail_msg("%s: got %s, want %s", sql, got ? got : "(null)", want);
	free(got);
}

/* ---------------------------------------------------------------- tests */

static const char *every_type[] = {
	"{\"i\": 42, \"max\": 9223372036854775807, \"min\": -9223372036854775808,"
	" \"long\": {\"$numberLong\": \"-7\"},"
	" \"d\": 0.1, \"big\": 1e300, \"nan\": {\"$numberDouble\": \"NaN\"},"
	" \"b\": true, \"s\": \"h\\u00e9llo \\ud83d\\ude00\", \"nul\": \"a\\u0000b\","
	" \"n\": null,"
	" \"ms\": {\"$date\": \"2024-05-01T10:00:00.123Z\"},"
	" \"us\": {\"$date\": \"2024-05-01T10:00:00.123456Z\"},"
	" \"dec\": {\"$numberDecimal\": \"12.50\"},"
	" \"bin\": {\"$binary\": {\"base64\": \"AAEC/w==\", \"subType\": \"00\"}},"
	" \"empty_bin\": {\"$binary\": {\"base64\": \"\", \"subType\": \"00\"}},"
	" \"oid\": {\"$oid\": \"5f43a1b2c3d4e5f601234567\"},"
	" \"obj\": {\"a\": 1, \"b\": [1, {\"$date\": \"2024-01-01T00:00:00Z\"}], \"z\": -0.0},"
	" \"arr\": [1, \"x\", null, 2.5], \"earr\": [], \"eobj\": {}, \"js\": \"12\"}",
	"{\"i\": -1, \"max\": 0, \"min\": 1,"
	" \"long\": {\"$numberLong\": \"9007199254740993\"},"
	" \"d\": -2.5e-308, \"big\": -1.7976931348623157e308,"
	" \"nan\": {\"$numberDouble\": \"Infinity\"},"
	" \"b\": false, \"s\": \"\", \"nul\": \"\\u0000\", \"n\": null,"
	" \"ms\": {\"$date\": \"1969-12-31T23:59:59.999Z\"},"
	" \"us\": {\"$date\": \"0001-01-01T00:00:00.000001Z\"},"
	" \"dec\": {\"$numberDecimal\": \"-1E+400\"},"
	" \"bin\": {\"$binary\": {\"base64\": \"\", \"subType\": \"00\"}},"
	" \"empty_bin\": null,"
	" \"oid\": {\"$oid\": \"000000000000000000000000\"},"
	" \"obj\": {\"nested\": {\"deep\": [[], {}]}},"
	" \"arr\": [], \"earr\": [], \"eobj\": {}, \"js\": [\"12\"]}",
	"{\"i\": 0, \"max\": 1, \"min\": 2, \"long\": 3, \"d\": 1.5, \"big\": 2.0,"
	" \"nan\": {\"$numberDouble\": \"-Infinity\"}, \"b\": true, \"s\": \"'; DROP TABLE t; --\","
	" \"nul\": null, \"n\": null, \"ms\": null, \"us\": null, \"dec\": {\"$numberDecimal\": \"0.000\"},"
	" \"bin\": null, \"empty_bin\": null, \"oid\": null, \"obj\": null, \"arr\": null,"
	" \"earr\": [], \"eobj\": {}, \"js\": {\"$numberDecimal\": \"1\"}}",
	NULL
};

static void test_round_trip(void **state)
{
	char p[512], status[64];
	struct mig_write_opts o = wopts();
	json_t *got;

	o.create = 1;
	load1(dbpath(p, sizeof p), "every", &o, every_type, status);
	assert_string_equal(status, "III");

	/* the declared types --create chose */
	assert_sql(p, "SELECT group_concat(name || ' ' || type, ', ') FROM pragma_table_info('every')",
		   "i INTEGER, max INTEGER, min INTEGER, long INTEGER, d REAL, big REAL, "
		   "nan REAL, b BOOLEAN, s TEXT, nul TEXT, n JSON TEXT, ms TIMESTAMP, us TIMESTAMP, "
		   "dec DECIMAL TEXT, bin BLOB, empty_bin BLOB, oid OBJECTID TEXT, obj JSON TEXT, "
		   "arr JSON TEXT, earr JSON TEXT, eobj JSON TEXT, js JSON TEXT");
	/* and what is stored: native types where SQLite has them, text kept
	 * as text where a number would lose it */
	assert_sql(p, "SELECT typeof(dec) || ' ' || dec FROM every WHERE i = 42", "text 12.50");
	assert_sql(p, "SELECT typeof(nan) || ' ' || nan FROM every WHERE i = 42", "text NaN");
	assert_sql(p, "SELECT typeof(bin) || ' ' || hex(bin) FROM every WHERE i = 42", "blob 000102FF");
	assert_sql(p, "SELECT typeof(empty_bin) || length(empty_bin) FROM every WHERE i = 42", "blob0");
	assert_sql(p, "SELECT us FROM every WHERE i = 42", "2024-05-01T10:00:00.123456Z");
	assert_sql(p, "SELECT ms FROM every WHERE i = 42", "2024-05-01T10:00:00.123Z");
	assert_sql(p, "SELECT typeof(b) || b FROM every WHERE i = 42", "integer1");
	assert_sql(p, "SELECT length(CAST(nul AS BLOB)) FROM every WHERE i = 42", "3");
	assert_sql(p, "SELECT js FROM every WHERE i = 42", "\"12\"");

	got = read_table(p, "every");
	assert_int_equal(json_array_size(got), 3);
	for (size_t i = 0; i < 3; i++) {
		json_t *want = parse(every_type[i]);
		if (!mig_value_equal(json_array_get(got, i), want)) {
			char *g = json_dumps(json_array_get(got, i), JSON_COMPACT);
			fail_msg("record %zu read back as %s", i, g);
		}
		json_decref(want);
	}
	json_decref(got);
}

/*
 * SQLite stores a REAL that has no fractional part as an integer (an
 * optimisation of REAL-affinity columns), and -0.0 compares equal to 0:
 * a top-level -0.0 reads back as 0.0.  Inside a JSON column it survives.
 */
static void test_negative_zero(void **state)
{
	char p[512], status[8];
	struct mig_write_opts o = wopts();
	const char *recs[] = { "{\"z\": -0.0, \"j\": [-0.0]}", NULL };
	json_t *got;

	o.create = 1;
	load1(dbpath(p, sizeof p), "t", &o, recs, status);
	assert_string_equal(status, "I");
	got = read_table(p, "t");
	assert_true(json_is_real(json_object_get(json_array_get(got, 0), "z")));
	assert_true(json_real_value(json_object_get(json_array_get(got, 0), "z")) == 0.0);
	assert_json(json_object_get(json_array_get(got, 0), "j"), "[-0.0]");
	json_decref(got);
}

static void test_upsert(void **state)
{
	char p[512], status[64];
	struct mig_write_opts o = wopts();
	const char *keys[] = { "id", NULL };
	const char *b1[] = {
		"{\"id\": 1, \"name\": \"a\", \"n\": 1}",
		"{\"id\": 2, \"name\": \"b\", \"n\": 2}",
		"{\"id\": 3, \"name\": \"c\", \"n\": 3}",
		NULL
	};
	const char *b2[] = {
		"{\"id\": 2, \"name\": \"B\"}",
		"{\"id\": 4, \"name\": \"d\", \"n\": 4}",
		"{\"name\": \"no key\"}",
		"{\"id\": null, \"name\": \"null key\"}",
		"{\"id\": 3, \"n\": 33}",
		"{\"id\": 1}",
		NULL
	};
	json_t *got;

	o.mode = MIG_MODE_UPSERT;
	o.keys = keys;
	o.nkeys = 1;
	o.create = 1;
	load1(dbpath(p, sizeof p), "u", &o, b1, status);
	assert_string_equal(status, "III");
	load1(p, "u", &o, b2, status);
	assert_string_equal(status, "UIRRUU");
	got = read_table(p, "u");
	assert_json(got, "[{\"id\":1,\"name\":\"a\",\"n\":1},{\"id\":2,\"name\":\"B\",\"n\":2},"
		    "{\"id\":3,\"name\":\"c\",\"n\":33},{\"id\":4,\"name\":\"d\",\"n\":4}]");
	json_decref(got);

	/* upsert + skip: new keys go in, existing ones are left alone */
	const char *b3[] = { "{\"id\": 1, \"name\": \"x\"}", "{\"id\": 5, \"name\": \"e\"}", NULL };
	o.on_conflict = MIG_CONFLICT_SKIP;
	load1(p, "u", &o, b3, status);
	assert_string_equal(status, "SI");
	assert_sql(p, "SELECT name FROM u WHERE id = 1", "a");

	/* a composite key */
	const char *keys2[] = { "a", "b", NULL };
	const char *b4[] = { "{\"a\": 1, \"b\": \"x\", \"v\": 1}", "{\"a\": 1, \"b\": \"y\", \"v\": 2}",
			     "{\"a\": 1, \"b\": \"x\", \"v\": 3}", NULL };
	o = wopts();
	o.mode = MIG_MODE_UPSERT;
	o.keys = keys2;
	o.nkeys = 2;
	o.create = 1;
	load1(p, "c", &o, b4, status);
	assert_string_equal(status, "IIU");
	assert_sql(p, "SELECT group_concat(v) FROM (SELECT v FROM c ORDER BY b)", "3,2");
}

/* --on-conflict merge/overwrite by key, in either mode; a table of the
 * user's (WITHOUT ROWID, a UNIQUE index rather than a primary key) */
static void test_conflict_modes(void **state)
{
	char p[512], status[64];
	struct mig_write_opts o = wopts();
	const char *keys[] = { "k", NULL };
	const char *b1[] = { "{\"k\": \"x\", \"a\": 1, \"b\": \"one\"}",
			     "{\"k\": \"y\", \"a\": 2, \"b\": \"two\"}", NULL };
	const char *b2[] = { "{\"k\": \"x\", \"a\": 10}", "{\"k\": \"z\", \"a\": 3}", NULL };
	sqlite3 *db;
	json_t *got;

	assert_int_equal(sqlite3_open(dbpath(p, sizeof p), &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "CREATE TABLE w (id INTEGER NOT NULL DEFAULT 0, "
				      "k TEXT NOT NULL, a INTEGER, b TEXT DEFAULT 'dflt', "
				      "PRIMARY KEY (id, k)) WITHOUT ROWID;"
				      "CREATE UNIQUE INDEX wk ON w (k)", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	o.keys = keys;
	o.nkeys = 1;
	load1(p, "w", &o, b1, status);
	assert_string_equal(status, "II");

	/* insert + merge: the fields present are updated, the others kept */
	o.on_conflict = MIG_CONFLICT_MERGE;
	load1(p, "w", &o, b2, status);
	assert_string_equal(status, "UI");
	got = read_table(p, "w");
	assert_json(got, "[{\"id\":0,\"k\":\"x\",\"a\":10,\"b\":\"one\"},"
		    "{\"id\":0,\"k\":\"y\",\"a\":2,\"b\":\"two\"},"
		    "{\"id\":0,\"k\":\"z\",\"a\":3,\"b\":\"dflt\"}]");
	json_decref(got);

	/* insert + overwrite: the whole row, missing fields get defaults */
	o.on_conflict = MIG_CONFLICT_OVERWRITE;
	const char *b3[] = { "{\"k\": \"y\", \"a\": 20}", NULL };
	load1(p, "w", &o, b3, status);
	assert_string_equal(status, "U");
	assert_sql(p, "SELECT a || ' ' || b FROM w WHERE k = 'y'", "20 dflt");

	/* upsert + overwrite, with a column added in the middle: statements
	 * cached before it must reset it too */
	o = wopts();
	o.mode = MIG_MODE_UPSERT;
	o.on_conflict = MIG_CONFLICT_OVERWRITE;
	o.keys = keys;
	o.nkeys = 1;
	o.create = 1;
	const char *c1[] = { "{\"k\": \"x\", \"a\": 1}", NULL };
	const char *c2[] = { "{\"k\": \"x\", \"a\": 2}", "{\"k\": \"x\", \"c\": \"new\"}",
			     "{\"k\": \"x\", \"a\": 3}", "{\"k\": \"q\", \"a\": 4}", NULL };
	const char *const *batches[] = { c1, c2, NULL };
	load(p, "v", &o, batches, status);
	assert_string_equal(status, "IUUUI");
	got = read_table(p, "v");
	assert_json(got, "[{\"k\":\"x\",\"a\":3,\"c\":null},{\"k\":\"q\",\"a\":4,\"c\":null}]");
	json_decref(got);
}

static void test_upsert_needs_unique_key(void **state)
{
	char p[512], status[8];
	struct mig_write_opts o = wopts();
	const char *keys[] = { "name", NULL };
	const char *recs[] = { "{\"id\": 1, \"name\": \"a\"}", NULL };
	struct mig_error err;
	struct mig_store *st;

	o.create = 1;
	load1(dbpath(p, sizeof p), "t", &o, recs, status);
	o = wopts();
	o.mode = MIG_MODE_UPSERT;
	o.keys = keys;
	o.nkeys = 1;
	st = open_store(p, "t", MIG_OPEN_WRITE, 0, NULL);
	assert_int_equal(ops->write_begin(st, &o, &err), MIG_EUSAGE);
	assert_non_null(strstr(err.msg, "PRIMARY KEY or UNIQUE"));
	assert_non_null(strstr(err.msg, "(name)"));
	/* without --key */
	o.keys = NULL;
	o.nkeys = 0;
	assert_int_equal(ops->write_begin(st, &o, &err), MIG_EUSAGE);
	/* replace and merge are not ours */
	o.mode = MIG_MODE_REPLACE;
	assert_int_equal(ops->write_begin(st, &o, &err), MIG_EUSAGE);
	assert_non_null(strstr(err.msg, "supports --mode insert|upsert"));
	close_store(st);
}

static void test_insert_duplicates(void **state)
{
	char p[512], status[64];
	struct mig_write_opts o = wopts();
	const char *keys[] = { "id", NULL };
	const char *recs[] = {
		"{\"id\": \"a\", \"v\": 1}",
		"{\"id\": \"b\", \"v\": 2}",
		"{\"id\": \"a\", \"v\": 3}",
		"{\"id\": \"c\", \"v\": 4}",
		NULL
	};
	struct mig_error err;
	struct mig_store *st;
	struct tbatch t;

	o.create = 1;
	o.keys = keys;
	o.nkeys = 1;
	st = open_store(dbpath(p, sizeof p), "d", MIG_OPEN_WRITE, 0, NULL);
	assert_int_equal(ops->write_begin(st, &o, &err), 0);
	batch_init(&t, recs);
	assert_int_equal(ops->write_batch(st, &t.b, &err), 0);
	assert_int_equal(t.items[0].status, MIG_ITEM_INSERTED);
	assert_int_equal(t.items[1].status, MIG_ITEM_INSERTED);
	assert_int_equal(t.items[2].status, MIG_ITEM_REJECTED);
	assert_int_equal(t.items[3].status, MIG_ITEM_INSERTED);
	assert_string_equal(t.items[2].code, "SQLITE_CONSTRAINT_PRIMARYKEY");
	assert_non_null(strstr(t.items[2].error, "UNIQUE constraint failed"));
	batch_free(&t);
	assert_int_equal(ops->write_end(st, 1, &err), 0);
	close_store(st);
	assert_sql(p, "SELECT group_concat(v) FROM d", "1,2,4");

	/* --on-conflict skip */
	o.on_conflict = MIG_CONFLICT_SKIP;
	const char *more[] = { "{\"id\": \"a\", \"v\": 5}", "{\"id\": \"e\", \"v\": 6}", NULL };
	load1(p, "d", &o, more, status);
	assert_string_equal(status, "SI");
	assert_sql(p, "SELECT group_concat(v) FROM d", "1,2,4,6");
	/* fail: the same as the default */
	o.on_conflict = MIG_CONFLICT_FAIL;
	load1(p, "d", &o, more, status);
	assert_string_equal(status, "RR");
}

static void test_bad_records(void **state)
{
	char p[512], status[64];
	struct mig_write_opts o = wopts();
	const char *setup[] = { "{\"id\": 1, \"s\": \"x\", \"n\": 1.5, \"j\": {}}", NULL };
	const char *recs[] = {
		"{\"id\": 2, \"s\": {\"a\": 1}}",                   /* object into TEXT */
		"{\"id\": 3, \"s\": [1]}",                          /* array into TEXT */
		"{\"id\": 4, \"$s\": 1}",                           /* ambiguous name */
		"{\"id\": 5, \"s\": {\"$date\": \"not a date\"}}",  /* malformed wrapper */
		"{\"id\": 6, \"nope\": 1}",                         /* no such column */
		"{\"id\": 7, \"j\": {\"$timestamp\": {\"t\": 1, \"i\": 2}}}",  /* any value into JSON */
		"{\"id\": 8, \"s\": \"ok\"}",
		"{\"id\": 9, \"S\": \"dup\", \"s\": \"dup\"}",     /* one column twice */
		NULL
	};
	struct mig_error err;
	struct mig_store *st;
	struct tbatch t;

	o.create = 1;
	load1(dbpath(p, sizeof p), "t", &o, setup, status);
	o.create = 0;
	st = open_store(p, "t", MIG_OPEN_WRITE, 0, NULL);
	assert_int_equal(ops->write_begin(st, &o, &err), 0);
	batch_init(&t, recs);
	assert_int_equal(ops->write_batch(st, &t.b, &err), 0);
	assert_int_equal(t.items[0].status, MIG_ITEM_REJECTED);
	assert_string_equal(t.items[0].error,
			    "field s: an object does not fit column s of type TEXT");
	assert_int_equal(t.items[1].status, MIG_ITEM_REJECTED);
	assert_string_equal(t.items[1].error,
			    "field s: an array does not fit column s of type TEXT");
	assert_int_equal(t.items[2].status, MIG_ITEM_REJECTED);
	assert_non_null(strstr(t.items[2].error, "$s"));
	assert_int_equal(t.items[3].status, MIG_ITEM_REJECTED);
	assert_non_null(strstr(t.items[3].error, "$date"));
	assert_int_equal(t.items[4].status, MIG_ITEM_REJECTED);
	assert_string_equal(t.items[4].error, "field nope has no column in table t");
	assert_int_equal(t.items[5].status, MIG_ITEM_INSERTED);
	assert_int_equal(t.items[6].status, MIG_ITEM_INSERTED);
	assert_int_equal(t.items[7].status, MIG_ITEM_REJECTED);
	batch_free(&t);
	assert_int_equal(ops->write_end(st, 1, &err), 0);
	close_store(st);
	assert_sql(p, "SELECT group_concat(id) FROM t", "1,7,8");

	/* a missing table without --create */
	st = open_store(p, "missing", MIG_OPEN_WRITE, 0, NULL);
	assert_int_equal(ops->write_begin(st, &o, &err), MIG_EIO);
	assert_non_null(strstr(err.msg, "#missing: no such table (use --create)"));
	close_store(st);

	/* ... nor is a missing file created for it */
	dbpath(p, sizeof p);
	st = open_store(p, "t", MIG_OPEN_WRITE, 0, NULL);
	assert_int_equal(ops->write_begin(st, &o, &err), MIG_EIO);
	assert_non_null(strstr(err.msg, "no such table (use --create)"));
	close_store(st);
	assert_int_equal(access(p, F_OK), -1);

	/* reading a file that is not there */
	assert_null(open_store(p, "t", MIG_OPEN_READ, MIG_EIO, &err));
	assert_non_null(strstr(err.msg, ": no such file"));
	assert_int_equal(access(p, F_OK), -1);
}

static void test_alter(void **state)
{
	char p[512], status[64];
	struct mig_write_opts o = wopts();
	const char *b1[] = { "{\"a\": 1}", "{\"a\": 2, \"n\": null}", NULL };
	const char *b2[] = { "{\"a\": 3, \"b\": \"x\", \"n\": [1]}",
			     "{\"c\": {\"$date\": \"2024-05-01T00:00:00Z\"}, \"a\": 4}", NULL };
	const char *const *batches[] = { b1, b2, NULL };
	json_t *got;

	o.create = 1;
	load(dbpath(p, sizeof p), "t", &o, batches, status);
	assert_string_equal(status, "IIII");
	assert_sql(p, "SELECT group_concat(name || ' ' || type, ', ') FROM pragma_table_info('t')",
		   "a INTEGER, n JSON TEXT, b TEXT, c TIMESTAMP");
	got = read_table(p, "t");
	assert_json(got, "[{\"a\":1,\"n\":null,\"b\":null,\"c\":null},"
		    "{\"a\":2,\"n\":null,\"b\":null,\"c\":null},"
		    "{\"a\":3,\"n\":[1],\"b\":\"x\",\"c\":null},"
		    "{\"a\":4,\"n\":null,\"b\":null,\"c\":{\"$date\":\"2024-05-01T00:00:00Z\"}}]");
	json_decref(got);

	/* int and double in one field make a REAL column; other mixes JSON */
	const char *mix[] = { "{\"x\": 1, \"y\": 1, \"z\": null}", "{\"x\": 2.5, \"y\": \"s\", \"z\": null}",
			      NULL };
	load1(p, "mix", &o, mix, status);
	assert_sql(p, "SELECT group_concat(name || ' ' || type, ', ') FROM pragma_table_info('mix')",
		   "x REAL, y JSON TEXT, z JSON TEXT");
	got = read_table(p, "mix");
	assert_json(got, "[{\"x\":1.0,\"y\":1,\"z\":null},{\"x\":2.5,\"y\":\"s\",\"z\":null}]");
	json_decref(got);
}

static int file_bytes(const char *path, char **out, size_t *n)
{
	FILE *f = fopen(path, "rb");
	struct stat sb;

	if (!f)
		return -1;
	fstat(fileno(f), &sb);
	*n = (size_t)sb.st_size;
	*out = malloc(*n + 1);
	assert_int_equal(fread(*out, 1, *n, f), *n);
	fclose(f);
	return 0;
}

static void test_dry_run(void **state)
{
	char p[512], status[64];
	struct mig_write_opts o = wopts();
	const char *keys[] = { "id", NULL };
	const char *recs[] = { "{\"id\": 1}", "{\"id\": 2}", "{\"id\": 1}", NULL };
	const char *const *batches[] = { recs, recs, NULL };
	char *before, *after;
	size_t nb, na;

	/* a missing file is not created, and the counts are exact */
	o.create = 1;
	o.dry_run = 1;
	o.keys = keys;
	o.nkeys = 1;
	load(dbpath(p, sizeof p), "t", &o, batches, status);
	assert_string_equal(status, "IIRRRR");
	assert_int_equal(access(p, F_OK), -1);

	/* an existing file is left byte for byte as it was */
	o.dry_run = 0;
	load1(p, "t", &o, recs, status);
	assert_string_equal(status, "IIR");
	assert_int_equal(file_bytes(p, &before, &nb), 0);
	o.dry_run = 1;
	o.truncate = 1;
	const char *more[] = { "{\"id\": 1, \"new\": \"x\"}", "{\"id\": 3}", NULL };
	load1(p, "t", &o, more, status);
	assert_string_equal(status, "II");
	o.truncate = 0;
	o.drop = 1;
	load1(p, "t", &o, more, status);
	assert_string_equal(status, "II");
	assert_int_equal(file_bytes(p, &after, &na), 0);
	assert_int_equal(nb, na);
	assert_memory_equal(before, after, nb);
	free(before);
	free(after);
	assert_sql(p, "SELECT group_concat(id) FROM t", "1,2");
}

static void test_truncate_drop_atomic(void **state)
{
	char p[512], status[64];
	struct mig_write_opts o = wopts();
	const char *recs[] = { "{\"id\": 1}", "{\"id\": 2}", NULL };
	const char *one[] = { "{\"id\": 9, \"x\": \"y\"}", NULL };
	const char *const *nobatch[] = { NULL };
	struct mig_error err;
	struct mig_store *st;
	struct tbatch t;

	o.create = 1;
	load1(dbpath(p, sizeof p), "t", &o, recs, status);
	load1(p, "t", &o, recs, status);
	assert_sql(p, "SELECT count(*) FROM t", "4");
	o.truncate = 1;
	load1(p, "t", &o, one, status);
	assert_sql(p, "SELECT group_concat(id) FROM t", "9");
	/* a load with no batch at all still truncates */
	load(p, "t", &o, nobatch, status);
	assert_sql(p, "SELECT count(*) FROM t", "0");
	/* --drop makes a new table from the new records */
	o.truncate = 0;
	load1(p, "t", &o, recs, status);
	o.drop = 1;
	load1(p, "t", &o, one, status);
	assert_sql(p, "SELECT group_concat(name || ' ' || type, ', ') FROM pragma_table_info('t')",
		   "id INTEGER, x TEXT");
	assert_sql(p, "SELECT count(*) FROM t", "1");

	/* --atomic: nothing is left when the load is not committed */
	o = wopts();
	o.atomic = 1;
	o.truncate = 1;
	st = open_store(p, "t", MIG_OPEN_WRITE, 0, NULL);
	assert_int_equal(ops->write_begin(st, &o, &err), 0);
	batch_init(&t, recs);
	assert_int_equal(ops->write_batch(st, &t.b, &err), 0);
	batch_free(&t);
	batch_init(&t, recs);
	assert_int_equal(ops->write_batch(st, &t.b, &err), 0);
	batch_free(&t);
	assert_int_equal(ops->write_end(st, 0, &err), 0);
	close_store(st);
	assert_sql(p, "SELECT group_concat(id) FROM t", "9");

	/* and everything when it is */
	st = open_store(p, "t", MIG_OPEN_WRITE, 0, NULL);
	assert_int_equal(ops->write_begin(st, &o, &err), 0);
	batch_init(&t, recs);
	assert_int_equal(ops->write_batch(st, &t.b, &err), 0);
	batch_free(&t);
	/* nothing is visible to others before write_end */
	assert_sql(p, "SELECT group_concat(id) FROM t", "9");
	assert_int_equal(ops->write_end(st, 1, &err), 0);
	close_store(st);
	assert_sql(p, "SELECT group_concat(id) FROM t", "1,2");
}

static void test_busy(void **state)
{
	char p[512], status[8];
	struct mig_write_opts o = wopts();
	const char *recs[] = { "{\"id\": 1}", NULL };
	struct mig_error err;
	struct mig_store *st;
	struct tbatch t;
	sqlite3 *db;

	o.create = 1;
	load1(dbpath(p, sizeof p), "t", &o, recs, status);
	/* another connection holds the write lock: after the busy timeout
	 * the batch fails as a store failure */
	assert_int_equal(sqlite3_open(p, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
	st = open_store(p, "t", MIG_OPEN_WRITE, 0, NULL);
	/* shorten the backend's 5 s busy timeout: its store struct starts
	 * with struct mig_store and then the connection */
	struct sq_prefix {
		struct mig_store base;
		sqlite3 *db;
	};
	sqlite3_busy_timeout(((struct sq_prefix *)st)->db, 50);
	assert_int_equal(ops->write_begin(st, &o, &err), 0);
	batch_init(&t, recs);
	assert_int_equal(ops->write_batch(st, &t.b, &err), MIG_EIO);
	assert_non_null(strstr(err.msg, "database is locked"));
	batch_free(&t);
	assert_int_equal(ops->write_end(st, 0, &err), 0);
	close_store(st);
	sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	sqlite3_close(db);
}

static const char *weird = "a; DROP TABLE x\"";

static void test_weird_names(void **state)
{
	char p[512], status[8], sql[256];
	struct mig_write_opts o = wopts();
	const char *x[] = { "{\"k\": 1}", NULL };
	const char *recs[] = { "{\"col \\\"q\\\"; --\": \"v\", \"x'y\": 1}", NULL };
	struct mig_read_opts r = ropts();
	json_t *got;

	o.create = 1;
	load1(dbpath(p, sizeof p), "x", &o, x, status);
	load1(p, weird, &o, recs, status);
	assert_string_equal(status, "I");
	load1(p, weird, &o, recs, status);
	assert_sql(p, "SELECT count(*) FROM x", "1");
	assert_sql(p, "SELECT count(*) FROM \"a; DROP TABLE x\"\"\"", "2");
	got = read_table(p, weird);
	assert_json(got, "[{\"col \\\"q\\\"; --\":\"v\",\"x'y\":1},{\"col \\\"q\\\"; --\":\"v\",\"x'y\":1}]");
	json_decref(got);
	r.where = "\"x'y\" = 1 -- a comment";
	r.order_by = "rowid DESC";
	r.limit = 1;
	got = read_all(p, weird, &r);
	assert_int_equal(json_array_size(got), 1);
	json_decref(got);
	snprintf(sql, sizeof sql, "SELECT count(*) FROM sqlite_master");
	assert_sql(p, sql, "2");
}

static void test_list_count_describe(void **state)
{
	char p[512], status[8];
	struct mig_write_opts o = wopts();
	const char *keys[] = { "id", NULL };
	const char *recs[] = {
		"{\"id\": 1, \"n\": 1.5, \"b\": true, \"s\": \"x\", \"d\": {\"$date\": \"2024-01-01T00:00:00Z\"},"
		" \"m\": {\"$numberDecimal\": \"1.0\"}, \"o\": {\"$oid\": \"5f43a1b2c3d4e5f601234567\"},"
		" \"bin\": {\"$binary\": {\"base64\": \"AA==\", \"subType\": \"00\"}}, \"j\": [1]}",
		"{\"id\": 2}",
		"{\"id\": 3}",
		NULL
	};
	const char *two[] = { "{\"a\": 1}", "{\"a\": 2}", NULL };
	struct mig_error err;
	struct mig_store *st;
	struct mig_read_opts r = ropts();
	json_t *got;
	uint64_t n;

	o.create = 1;
	o.keys = keys;
	o.nkeys = 1;
	load1(dbpath(p, sizeof p), "t", &o, recs, status);
	o.keys = NULL;
	o.nkeys = 0;
	load1(p, weird, &o, two, status);

	st = open_store(p, "t", MIG_OPEN_READ, 0, NULL);
	assert_int_equal(ops->list(st, &got, &err), 0);
	assert_json(got, "[{\"name\":\"a; DROP TABLE x\\\"\",\"count\":2},{\"name\":\"t\",\"count\":3}]");
	json_decref(got);

	assert_int_equal(ops->count(st, &r, &n, &err), 0);
	assert_int_equal(n, 3);
	r.where = "id > 1";
	assert_int_equal(ops->count(st, &r, &n, &err), 0);
	assert_int_equal(n, 2);
	r.limit = 1;
	assert_int_equal(ops->count(st, &r, &n, &err), 0);
	assert_int_equal(n, 1);
	r = ropts();
	r.query = "SELECT * FROM t WHERE id <> 2;";
	assert_int_equal(ops->count(st, &r, &n, &err), 0);
	assert_int_equal(n, 2);

	assert_int_equal(ops->describe(st, &got, &err), 0);
	assert_json(got,
		    "{\"$schema\":\"https://json-schema.org/draft/2020-12/schema\",\"title\":\"t\","
		    "\"type\":\"object\",\"properties\":{"
		    "\"id\":{\"type\":[\"integer\",\"null\"],\"x-mig-type\":\"INTEGER\"},"
		    "\"n\":{\"type\":[\"number\",\"null\"],\"x-mig-type\":\"REAL\"},"
		    "\"b\":{\"type\":[\"boolean\",\"null\"],\"x-mig-type\":\"BOOLEAN\"},"
		    "\"s\":{\"type\":[\"string\",\"null\"],\"x-mig-type\":\"TEXT\"},"
		    "\"d\":{\"type\":[\"string\",\"null\"],\"format\":\"date-time\",\"x-mig-type\":\"TIMESTAMP\"},"
		    "\"m\":{\"type\":[\"string\",\"null\"],\"x-mig-type\":\"DECIMAL TEXT\"},"
		    "\"o\":{\"type\":[\"string\",\"null\"],\"x-mig-type\":\"OBJECTID TEXT\"},"
		    "\"bin\":{\"x-mig-type\":\"BLOB\"},"
		    "\"j\":{\"x-mig-type\":\"JSON TEXT\"}},"
		    "\"required\":[],\"x-mig-primary-key\":[\"id\"]}");
	json_decref(got);
	close_store(st);

	/* NOT NULL columns are required, a composite key keeps its order */
	sqlite3 *db;
	assert_int_equal(sqlite3_open(p, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "CREATE TABLE k (a TEXT NOT NULL, b INT NOT NULL, "
				      "c NUMERIC, PRIMARY KEY (b, a))", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	st = open_store(p, "k", MIG_OPEN_READ, 0, NULL);
	assert_int_equal(ops->describe(st, &got, &err), 0);
	assert_json(json_object_get(got, "required"), "[\"a\",\"b\"]");
	assert_json(json_object_get(got, "x-mig-primary-key"), "[\"b\",\"a\"]");
	assert_json(json_object_get(json_object_get(got, "properties"), "b"),
		    "{\"type\":\"integer\",\"x-mig-type\":\"INT\"}");
	json_decref(got);
	close_store(st);

	st = open_store(p, "nope", MIG_OPEN_READ, 0, NULL);
	assert_int_equal(ops->describe(st, &got, &err), MIG_EIO);
	r = ropts();
	assert_int_equal(ops->read_begin(st, &r, &err), MIG_EIO);
	assert_non_null(strstr(err.msg, "no such table"));
	close_store(st);
}

static void test_read_options(void **state)
{
	char p[512], status[16];
	struct mig_write_opts o = wopts();
	const char *recs[] = { "{\"id\": 1, \"g\": \"a\"}", "{\"id\": 2, \"g\": \"b\"}",
			       "{\"id\": 3, \"g\": \"a\"}", "{\"id\": 4, \"g\": \"b\"}", NULL };
	const char *other[] = { "{\"id\": 1, \"t\": \"one\"}", NULL };
	struct mig_read_opts r = ropts();
	struct mig_error err;
	struct mig_store *st;
	json_t *got;

	o.create = 1;
	load1(dbpath(p, sizeof p), "t", &o, recs, status);
	load1(p, "o", &o, other, status);

	r.where = "g = 'b'";
	r.order_by = "id DESC";
	got = read_all(p, "t", &r);
	assert_json(got, "[{\"id\":4,\"g\":\"b\"},{\"id\":2,\"g\":\"b\"}]");
	json_decref(got);

	r = ropts();
	r.order_by = "id DESC";
	r.limit = 2;
	got = read_all(p, "t", &r);
	assert_json(got, "[{\"id\":4,\"g\":\"b\"},{\"id\":3,\"g\":\"a\"}]");
	json_decref(got);

	r.limit = 0;
	got = read_all(p, "t", &r);
	assert_int_equal(json_array_size(got), 0);
	json_decref(got);

	/* a query, wrapped by WHERE/ORDER BY/LIMIT, with a table optional;
	 * duplicate column names get suffixes */
	r = ropts();
	r.query = "SELECT t.id, o.id, t.g, count(*) AS n, 1.5 AS x FROM t JOIN o ON o.id = t.id "
		  "GROUP BY t.id;  ";
	got = read_all(p, NULL, &r);
	assert_json(got, "[{\"id\":1,\"id_2\":1,\"g\":\"a\",\"n\":1,\"x\":1.5}]");
	json_decref(got);

	r.query = "SELECT id, g FROM t";
	r.where = "id >= 2";
	r.order_by = "g, id DESC";
	r.limit = 3;
	got = read_all(p, NULL, &r);
	assert_json(got, "[{\"id\":3,\"g\":\"a\"},{\"id\":4,\"g\":\"b\"},{\"id\":2,\"g\":\"b\"}]");
	json_decref(got);

	/* types survive a query that selects columns; a decltype seen through
	 * a subquery still counts */
	r = ropts();
	r.query = "SELECT * FROM t";
	r.where = "id = 1";
	got = read_all(p, NULL, &r);
	assert_json(got, "[{\"id\":1,\"g\":\"a\"}]");
	json_decref(got);

	/* bad queries are usage errors; a read-only connection refuses writes */
	st = open_store(p, NULL, MIG_OPEN_READ, 0, NULL);
	r = ropts();
	assert_int_equal(ops->read_begin(st, &r, &err), MIG_EUSAGE);
	r.query = "SELEKT 1";
	assert_int_equal(ops->read_begin(st, &r, &err), MIG_EUSAGE);
	r.query = "SELECT 1; SELECT 2";
	assert_int_equal(ops->read_begin(st, &r, &err), MIG_EUSAGE);
	r.query = "DELETE FROM t";
	assert_int_equal(ops->read_begin(st, &r, &err), MIG_EUSAGE);
	r.query = "SELECT 1 AS one";
	r.where = "nonsense (";
	assert_int_equal(ops->read_begin(st, &r, &err), MIG_EUSAGE);
	close_store(st);
	assert_sql(p, "SELECT count(*) FROM t", "4");
}

/* Columns of tables not made by us: declared types by first word, values
 * by storage class. */
static void test_foreign_table(void **state)
{
	char p[512];
	sqlite3 *db;
	json_t *got;

	assert_int_equal(sqlite3_open(dbpath(p, sizeof p), &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db,
		"CREATE TABLE f (a BOOL, b DECIMAL(10,2), c DATETIME, d json, e ObjectId, "
		"f DOUBLE PRECISION, g, h VARCHAR(3), i TIMESTAMP);"
		"INSERT INTO f VALUES (0, 12.5, '2024-05-01 10:00:00', '{\"x\": [1]}', "
		"'5F43A1B2C3D4E5F601234567', 'Infinity', x'00ff', 'abc', 'yesterday');"
		"INSERT INTO f VALUES (7, '1e3', '2024-05-01', 'not json', 'short', 2, 2.5, 12, 17);",
		NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	got = read_table(p, "f");
	assert_json(got,
		"[{\"a\":false,\"b\":{\"$numberDecimal\":\"12.5\"},"
		"\"c\":{\"$date\":\"2024-05-01T10:00:00Z\"},\"d\":{\"x\":[1]},"
		"\"e\":{\"$oid\":\"5f43a1b2c3d4e5f601234567\"},\"f\":{\"$numberDouble\":\"Infinity\"},"
		"\"g\":{\"$binary\":{\"base64\":\"AP8=\",\"subType\":\"00\"}},\"h\":\"abc\",\"i\":\"yesterday\"},"
		"{\"a\":true,\"b\":{\"$numberDecimal\":\"1000\"},"
		"\"c\":{\"$date\":\"2024-05-01T00:00:00Z\"},\"d\":\"not json\",\"e\":\"short\","
		"\"f\":2.0,\"g\":2.5,\"h\":\"12\",\"i\":17}]");
	json_decref(got);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_negative_zero),
		cmocka_unit_test(test_upsert),
		cmocka_unit_test(test_conflict_modes),
		cmocka_unit_test(test_upsert_needs_unique_key),
		cmocka_unit_test(test_insert_duplicates),
		cmocka_unit_test(test_bad_records),
		cmocka_unit_test(test_alter),
		cmocka_unit_test(test_dry_run),
		cmocka_unit_test(test_truncate_drop_atomic),
		cmocka_unit_test(test_busy),
		cmocka_unit_test(test_weird_names),
		cmocka_unit_test(test_list_count_describe),
		cmocka_unit_test(test_read_options),
		cmocka_unit_test(test_foreign_table),
	};

	return cmocka_run_group_tests_name("sqlite", tests, group_setup, group_teardown);
}
