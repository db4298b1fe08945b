/* Unit tests: member names, the tar writer and reader, archive checks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include <zstd.h>

#include "archive/archive_int.h"
#include "mig/stream.h"

static char dir[] = "/tmp/mig-archive-XXXXXX";

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

static const char *path_of(const char *name)
{
	static char path[256];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	return path;
}

static const char *put_file(const char *name, const void *p, size_t n)
{
	const char *path = path_of(name);
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(p, 1, n, f), n);
	fclose(f);
	return path;
}

/* ---- names ------------------------------------------------------------- */

static void check_encode(const char *in, const char *want)
{
	char *got = mig_archive_encode(in);
	assert_non_null(got);
	assert_string_equal(got, want);
	free(got);
}

static void test_encode(void **state)
{
	(void)state;
	check_encode("users", "users");
	check_encode("public.users_2-x", "public.users_2-x");
	check_encode("a b/c", "a%20b%2Fc");
	check_encode("100%", "100%25");
	check_encode("Zo\xc3\xab", "Zo%C3%AB");
	check_encode("..", "..");
	check_encode("", "");
	check_encode("a\\b:c*", "a%5Cb%3Ac%2A");
	/* injective: the escape character itself is escaped */
	char *a = mig_archive_encode("%41"), *b = mig_archive_encode("A");
	assert_string_not_equal(a, b);
	free(a);
	free(b);
}

static void test_name_safe(void **state)
{
	char big[1100];
	(void)state;
	assert_true(mig_archive_name_safe("manifest.json"));
	assert_true(mig_archive_name_safe("data/users.ndjson.zst"));
	assert_true(mig_archive_name_safe("data/...ndjson.zst"));
	assert_true(mig_archive_name_safe("data/a%2F..%2Fb.json"));
	assert_false(mig_archive_name_safe(""));
	assert_false(mig_archive_name_safe("/etc/passwd"));
	assert_false(mig_archive_name_safe("../x"));
	assert_false(mig_archive_name_safe("data/../../x"));
	assert_false(mig_archive_name_safe("data/.."));
	assert_false(mig_archive_name_safe("./manifest.json"));
	assert_false(mig_archive_name_safe("data//x"));
	assert_false(mig_archive_name_safe("data/"));
	assert_false(mig_archive_name_safe("data\\..\\x"));
	assert_false(mig_archive_name_safe("a b"));
	assert_false(mig_archive_name_safe("a\x01" "b"));
	assert_false(mig_archive_name_safe("\xc3\xa9"));
	memset(big, 'a', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	assert_false(mig_archive_name_safe(big));
}

/* ---- tar ------------------------------------------------------------------ */

/* Appends a member (header, data, padding) to b. */
static void add_member(struct mig_buf *b, const char *name, const char *data, size_t n)
{
	static const char zeros[TAR_BLOCK];
	assert_int_equal(mig_tar_header(b, name, n, 1700000000), 0);
	assert_int_equal(mig_buf_append(b, data, n), 0);
	assert_int_equal(mig_buf_append(b, zeros, mig_tar_padding(n)), 0);
}

static void add_end(struct mig_buf *b)
{
	static const char zeros[2 * TAR_BLOCK];
	assert_int_equal(mig_buf_append(b, zeros, sizeof zeros), 0);
}

/* Reads every member of the file; returns the count, or the error. */
static int walk(const char *path, struct mig_tar_member *ms, int max, struct mig_error *err)
{
	int fd = open(path, O_RDONLY), n = 0, rc;
	struct stat st;
	uint64_t pos = 0;

	assert_true(fd >= 0);
	fstat(fd, &st);
	for (;;) {
		struct mig_tar_member m;
		rc = mig_tar_next(fd, (uint64_t)st.st_size, &pos, &m, "t.tar", err);
		if (rc == MIG_DONE)
			break;
		if (rc) {
			for (int i = 0; i < n && i < max; i++)
				free(ms[i].name);
			close(fd);
			return rc;
		}
		if (n < max)
			ms[n] = m;
		else
			free(m.name);
		n++;
	}
	close(fd);
	return n;
}

static void test_tar_round_trip(void **state)
{
	struct mig_buf b;
	struct mig_tar_member ms[8];
	struct mig_error err = { 0 };
	char longname[300], split[200];
	const char *p;
	int n;
	(void)state;

	/* 150 characters after "data/": fits neither name nor prefix+name */
	memcpy(longname, "data/", 5);
	memset(longname + 5, 'x', 150);
	strcpy(longname + 155, ".ndjson.zst");
	/* a 90-byte directory and a 90-byte file name: ustar's prefix split */
	memset(split, 'd', 90);
	split[90] = '/';
	memset(split + 91, 'f', 90);
	split[181] = '\0';

	mig_buf_init(&b, 0);
	add_member(&b, "manifest.json", "{}\n", 3);
	add_member(&b, longname, "abc", 3);
	add_member(&b, split, "", 0);
	add_member(&b, "data/x.ndjson.zst", "0123456789", 10);
	add_end(&b);
	p = put_file("t.tar", b.data, b.len);
	n = walk(p, ms, 8, &err);
	assert_int_equal(n, 4);
	assert_string_equal(ms[0].name, "manifest.json");
	assert_int_equal(ms[0].size, 3);
	assert_int_equal(ms[0].offset, 512);
	assert_int_equal(ms[0].type, '0');
	assert_string_equal(ms[1].name, longname);
	assert_int_equal(ms[1].size, 3);
	assert_string_equal(ms[2].name, split);
	assert_int_equal(ms[2].size, 0);
	assert_string_equal(ms[3].name, "data/x.ndjson.zst");
	assert_int_equal(ms[3].size, 10);
	assert_memory_equal(b.data + ms[3].offset, "0123456789", 10);
	for (int i = 0; i < n; i++)
		free(ms[i].name);
	/* the archive's size is a whole number of blocks */
	assert_int_equal(b.len % TAR_BLOCK, 0);

	/* GNU tar reads it the same (when it is there) */
	if (system("tar --version >/dev/null 2>&1") == 0) {
		char cmd[512];
		snprintf(cmd, sizeof cmd, "tar -tf '%s' | grep -qx 'data/x.ndjson.zst' && "
			 "tar -tf '%s' | grep -qx '%s' && test \"$(tar -xOf '%s' data/x.ndjson.zst)\" "
			 "= 0123456789", p, p, longname, p);
		assert_int_equal(system(cmd), 0);
	}
	mig_buf_free(&b);
}

static void test_tar_huge_size(void **state)
{
	struct mig_buf b;
	struct mig_tar_member ms[2];
	struct mig_error err = { 0 };
	uint64_t size = ((uint64_t)9 << 30) + 5;   /* over ustar's 8 GiB */
	int fd, n;
	(void)state;

	mig_buf_init(&b, 0);
	assert_int_equal(mig_tar_header(&b, "data/big.ndjson.zst", size, 0), 0);
	/* a pax header (block + one block of records) and the ustar block */
	assert_int_equal(b.len, 3 * TAR_BLOCK);
	fd = open(path_of("big.tar"), O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, b.data, b.len), (ssize_t)b.len);
	/* sparse: the data and the end blocks are zeros */
	assert_int_equal(ftruncate(fd, (off_t)(b.len + size + mig_tar_padding(size) + 1024)), 0);
	close(fd);
	n = walk(path_of("big.tar"), ms, 2, &err);
	assert_int_equal(n, 1);
	assert_int_equal(ms[0].size, size);
	assert_int_equal(ms[0].offset, 3 * TAR_BLOCK);
	free(ms[0].name);
	unlink(path_of("big.tar"));
	mig_buf_free(&b);
}

static void test_tar_damage(void **state)
{
	struct mig_buf b;
	struct mig_tar_member ms[4];
	struct mig_error err = { 0 };
	const char *p;
	(void)state;

	mig_buf_init(&b, 0);
	add_member(&b, "manifest.json", "{}\n", 3);
	add_member(&b, "data/x", "0123456789", 10);
	add_end(&b);

	/* a flipped byte in a header: the checksum says so */
	b.data[TAR_BLOCK * 2 + 3] ^= 1;
	p = put_file("bad.tar", b.data, b.len);
	assert_int_equal(walk(p, ms, 4, &err), MIG_ECORRUPT);
	assert_non_null(strstr(err.msg, "checksum"));
	b.data[TAR_BLOCK * 2 + 3] ^= 1;

	/* cut in the data, or before the end blocks */
	p = put_file("cut.tar", b.data, TAR_BLOCK * 3 + 5);
	assert_int_equal(walk(p, ms, 4, &err), MIG_ECORRUPT);
	assert_non_null(strstr(err.msg, "truncated"));
	p = put_file("cut2.tar", b.data, b.len - TAR_BLOCK);
	assert_int_equal(walk(p, ms, 4, &err), MIG_ECORRUPT);
	p = put_file("cut3.tar", b.data, b.len - 2 * TAR_BLOCK);
	assert_int_equal(walk(p, ms, 4, &err), MIG_ECORRUPT);

	/* a base-256 size (GNU) reads too */
	{
		char *h = b.data + 2 * TAR_BLOCK;
		unsigned sum = 0;
		char tmp[16];
		memset(h + 124, 0, 12);
		h[124] = (char)0x80;
		h[135] = 10;
		memset(h + 148, ' ', 8);
		for (int i = 0; i < TAR_BLOCK; i++)
			sum += (unsigned char)h[i];
		snprintf(tmp, sizeof tmp, "%06o", sum);
		memcpy(h + 148, tmp, 7);
		p = put_file("b256.tar", b.data, b.len);
		assert_int_equal(walk(p, ms, 4, &err), 2);
		assert_int_equal(ms[1].size, 10);
		free(ms[0].name);
		free(ms[1].name);
	}
	mig_buf_free(&b);
}

/* ---- archives -------------------------------------------------------------------- */

static char *zstd_of(const char *text, size_t *n)
{
	size_t cap = ZSTD_compressBound(strlen(text));
	char *z = malloc(cap);
	*n = ZSTD_compress(z, cap, text, strlen(text), 3);
	assert_false(ZSTD_isError(*n));
	return z;
}

/* An archive with one collection "users" (data as given), and extra
 * members; returns its path.  sum: the manifest's SHA-256 of the data (NULL:
 * the right one). */
static const char *make_archive(const char *file, const char *text, const char *sum,
				const char *extra_name, char extra_type)
{
	struct mig_buf b, m;
	char sha[65], *z;
	size_t zn;
	const char *p;

	assert_int_equal(mig_sha256_hex(text, strlen(text), sha, NULL), 0);
	int records = 0;
	for (const char *c = text; *c; c++)
		records += *c == '\n';
	mig_buf_init(&m, 0);
	assert_int_equal(mig_buf_printf(&m, "{\"format\":\"mig-archive\",\"version\":1,"
		"\"created\":\"2024-05-01T10:00:00Z\",\"backend\":\"sqlite\",\"collections\":"
		"[{\"name\":\"users\",\"data\":\"data/users.ndjson.zst\",\"records\":%d,"
		"\"bytes\":%zu,\"sha256\":\"%s\"}]}\n", records, strlen(text), sum ? sum : sha), 0);
	z = zstd_of(text, &zn);
	mig_buf_init(&b, 0);
	add_member(&b, "manifest.json", m.data, m.len);
	add_member(&b, "data/users.ndjson.zst", z, zn);
	if (extra_name) {
		size_t at = b.len;
		add_member(&b, extra_name, "x", 1);
		if (extra_type) {
			/* retype it and fix the checksum */
			char *h = b.data + at, tmp[16];
			unsigned s = 0;
			h[156] = extra_type;
			memset(h + 148, ' ', 8);
			for (int i = 0; i < TAR_BLOCK; i++)
				s += (unsigned char)h[i];
			snprintf(tmp, sizeof tmp, "%06o", s);
			memcpy(h + 148, tmp, 7);
		}
	}
	add_end(&b);
	p = put_file(file, b.data, b.len);
	free(z);
	mig_buf_free(&m);
	mig_buf_free(&b);
	return p;
}

static int open_verify(const char *path, struct mig_error *err)
{
	struct mig_archive *a = NULL;
	int rc = mig_archive_open(&a, path, err);
	if (!rc)
		rc = mig_archive_verify(a, -1, MIG_PROGRESS_NEVER, err);
	mig_archive_close(a);
	return rc;
}

static void test_archive_checks(void **state)
{
	struct mig_error err = { 0 };
	struct mig_archive *a = NULL;
	const char *text = "{\"id\":1}\n{\"id\":2}\n";
	struct mig_reader *rd = NULL;
	struct mig_line line;
	(void)state;

	/* a good one: verifies, and reads back line by line */
	const char *p = make_archive("good.mig", text, NULL, NULL, 0);
	assert_int_equal(mig_archive_open(&a, p, &err), 0);
	assert_int_equal(mig_archive_count(a), 1);
	assert_int_equal(mig_archive_find(a, "users"), 0);
	assert_int_equal(mig_archive_find(a, "nope"), -1);
	assert_int_equal(mig_archive_verify(a, -1, MIG_PROGRESS_NEVER, &err), 0);
	assert_int_equal(mig_archive_reader(a, 0, 0, &rd, &err), 0);
	assert_int_equal(mig_reader_next(rd, &line, &err), 0);
	assert_int_equal(line.len, 8);
	assert_memory_equal(line.data, "{\"id\":1}", 8);
	assert_int_equal(mig_reader_next(rd, &line, &err), 0);
	assert_int_equal(mig_reader_next(rd, &line, &err), MIG_DONE);
	mig_reader_close(rd);
	mig_archive_close(a);

	/* a checksum that does not match */
	p = make_archive("sum.mig", text, "0000000000000000000000000000000000000000000000000000000000000000",
			 NULL, 0);
	assert_int_equal(open_verify(p, &err), MIG_ECORRUPT);
	assert_non_null(strstr(err.msg, "SHA-256"));

	/* members that must be refused */
	p = make_archive("dotdot.mig", text, NULL, "../x", 0);
	assert_int_equal(open_verify(p, &err), MIG_ECORRUPT);
	assert_non_null(strstr(err.msg, "unsafe"));
	p = make_archive("abs.mig", text, NULL, "/etc/x", 0);
	assert_int_equal(open_verify(p, &err), MIG_ECORRUPT);
	p = make_archive("extra.mig", text, NULL, "data/other", 0);
	assert_int_equal(open_verify(p, &err), MIG_ECORRUPT);
	assert_non_null(strstr(err.msg, "not in the manifest"));
	p = make_archive("dup.mig", text, NULL, "data/users.ndjson.zst", 0);
	assert_int_equal(open_verify(p, &err), MIG_ECORRUPT);
	assert_non_null(strstr(err.msg, "twice"));
	p = make_archive("link.mig", text, NULL, "data/l", '2');
	assert_int_equal(open_verify(p, &err), MIG_ECORRUPT);
	assert_non_null(strstr(err.msg, "symbolic link"));
	p = make_archive("dir.mig", text, NULL, "data", '5');
	assert_int_equal(open_verify(p, &err), MIG_ECORRUPT);
	p = make_archive("hard.mig", text, NULL, "data/h", '1');
	assert_int_equal(open_verify(p, &err), MIG_ECORRUPT);
	p = make_archive("glob.mig", text, NULL, "g", 'g');
	assert_int_equal(open_verify(p, &err), MIG_ECORRUPT);

	/* not an archive at all; an empty file */
	p = put_file("text.txt", "hello\n", 6);
	assert_int_equal(mig_archive_open(&a, p, &err), MIG_ECORRUPT);
	json_t *m = NULL;
	assert_int_equal(mig_archive_read_manifest(&m, p, &err), MIG_DONE);
	p = make_archive("good2.mig", text, NULL, NULL, 0);
	assert_int_equal(mig_archive_read_manifest(&m, p, &err), 0);
	assert_string_equal(json_string_value(json_object_get(m, "backend")), "sqlite");
	json_decref(m);
}

static void test_manifest_check(void **state)
{
	struct mig_error err = { 0 };
	struct mig_archive_coll *cs = NULL;
	size_t n;
	json_t *m;
	(void)state;

	m = json_loads("{\"format\":\"mig-archive\",\"version\":2,\"backend\":\"x\",\"created\":\"\","
		       "\"collections\":[]}", 0, NULL);
	assert_int_equal(mig_manifest_check(m, &cs, &n, "a", &err), MIG_ECORRUPT);
	assert_non_null(strstr(err.msg, "newer"));
	json_decref(m);
	m = json_loads("{\"format\":\"mig-archive\",\"version\":1,\"backend\":\"x\",\"created\":\"\","
		       "\"collections\":[{\"name\":\"a\",\"data\":\"d/a\",\"records\":1,\"bytes\":1,"
		       "\"sha256\":\"abc\"}]}", 0, NULL);
	assert_int_equal(mig_manifest_check(m, &cs, &n, "a", &err), MIG_ECORRUPT);
	json_decref(m);
	m = json_loads("{\"format\":\"mig-archive\",\"version\":1,\"backend\":\"x\",\"created\":\"\","
		       "\"collections\":[{\"name\":\"a\",\"data\":\"../a\",\"records\":1,\"bytes\":1,"
		       "\"sha256\":\"0000000000000000000000000000000000000000000000000000000000000000\"}]}",
		       0, NULL);
	assert_int_equal(mig_manifest_check(m, &cs, &n, "a", &err), MIG_ECORRUPT);
	assert_non_null(strstr(err.msg, "unsafe"));
	json_decref(m);
}

static void test_times(void **state)
{
	char t[32];
	(void)state;
	mig_archive_time(t, 0);
	assert_string_equal(t, "1970-01-01T00:00:00Z");
	mig_archive_time(t, 1714557600);
	assert_string_equal(t, "2024-05-01T10:00:00Z");
	assert_int_equal(mig_archive_time_parse(t), 1714557600);
	assert_int_equal(mig_archive_time_parse("2024-05-01"), -1);
	assert_int_equal(mig_archive_time_parse(NULL), -1);
}

static void check_relax(const char *in, const char *want)
{
	size_t n = strlen(in);
	char *out = malloc(n + 1);
	size_t m = mig_relax_text(out, in, n);
	out[m] = '\0';
	assert_string_equal(out, want);
	free(out);
}

static void test_relax(void **state)
{
	(void)state;
	check_relax("{\"a\":{\"$numberInt\":\"-7\"},\"b\":{\"$numberLong\":\"9007199254740993\"}}\n",
		    "{\"a\":-7,\"b\":9007199254740993}\n");
	check_relax("{\"d\":{\"$numberDouble\":\"1.0\"},\"e\":{\"$numberDouble\":\"-1.5e+300\"}}",
		    "{\"d\":1.0,\"e\":-1.5e+300}");
	/* left for the parser: NaN, a double without a fraction, 19 digits */
	check_relax("{\"d\":{\"$numberDouble\":\"NaN\"},\"x\":{\"$numberDouble\":\"1\"}}",
		    "{\"d\":{\"$numberDouble\":\"NaN\"},\"x\":{\"$numberDouble\":\"1\"}}");
	check_relax("{\"b\":{\"$numberLong\":\"9223372036854775807\"}}",
		    "{\"b\":{\"$numberLong\":\"9223372036854775807\"}}");
	/* dates */
	check_relax("{\"t\":{\"$date\":{\"$numberLong\":\"1714557600123\"}}}",
		    "{\"t\":{\"$date\":\"2024-05-01T10:00:00.123Z\"}}");
	check_relax("{\"t\":{\"$date\":{\"$numberLong\":\"-86400000000\"}}}",
		    "{\"t\":{\"$date\":\"1967-04-07T00:00:00.000Z\"}}");
	/* a short one would grow: left as it is */
	check_relax("{\"t\":{\"$date\":{\"$numberLong\":\"0\"}}}",
		    "{\"t\":{\"$date\":{\"$numberLong\":\"0\"}}}");
	/* inside strings nothing changes, escapes included */
	check_relax("{\"s\":\"{\\\"$numberInt\\\":\\\"1\\\"}\",\"k{\\\\\":{\"$numberInt\":\"2\"}}",
		    "{\"s\":\"{\\\"$numberInt\\\":\\\"1\\\"}\",\"k{\\\\\":2}");
	/* nested, in arrays, other wrappers untouched */
	check_relax("[{\"$numberInt\":\"1\"},{\"a\":[{\"$numberLong\":\"2\"}]},{\"$numberDecimal\":\"1.0\"}]",
		    "[1,{\"a\":[2]},{\"$numberDecimal\":\"1.0\"}]");
	/* cut short: as it is */
	check_relax("{\"a\":{\"$numberInt\":\"12", "{\"a\":{\"$numberInt\":\"12");
}

/* Reads the relax thread's pipe to its end; returns mig_relax_wait's
 * verdict (then finishes the thread) and the text in *out. */
static int relax_through(struct mig_archive *a, const struct mig_archive_coll *c,
			 struct mig_buf *out, struct mig_error *err)
{
	struct mig_relax *rx = NULL;
	char buf[256];
	ssize_t k;
	int rfd = -1, rc;

	assert_int_equal(mig_relax_start(&rx, &rfd, mig_archive_fd(a), c, 1, 0, err), 0);
	while ((k = read(rfd, buf, sizeof buf)) > 0)
		assert_int_equal(mig_buf_append(out, buf, (size_t)k), 0);
	rc = mig_relax_wait(rx, "x.mig", err);
	assert_int_equal(mig_relax_finish(rx, rfd, "x.mig", &(struct mig_error){ 0 }), rc);
	return rc;
}

/* The thread that feeds a restore checks the text as it goes: a count, a
 * size or a checksum the manifest disagrees with is MIG_ECORRUPT once the
 * text has ended, as mig_archive_verify() would have found it. */
static void test_relax_checks(void **state)
{
	struct mig_error err = { 0 };
	struct mig_archive *a = NULL;
	const char *text = "{\"id\":{\"$numberInt\":\"1\"}}\n{\"id\":2}\n";
	struct mig_archive_coll c;
	struct mig_buf out;
	(void)state;

	mig_buf_init(&out, 0);
	const char *p = make_archive("relax.mig", text, NULL, NULL, 0);
	assert_int_equal(mig_archive_open(&a, p, &err), 0);
	c = *mig_archive_coll(a, 0);
	assert_int_equal(relax_through(a, &c, &out, &err), 0);
	assert_int_equal(out.len, 18);
	assert_memory_equal(out.data, "{\"id\":1}\n{\"id\":2}\n", 18);

	c.records = 3;
	mig_buf_reset(&out);
	assert_int_equal(relax_through(a, &c, &out, &err), MIG_ECORRUPT);
	assert_non_null(strstr(err.msg, "holds 2 records, the manifest says 3"));
	assert_int_equal(out.len, 18);   /* the text itself went through */

	c = *mig_archive_coll(a, 0);
	c.bytes++;
	assert_int_equal(relax_through(a, &c, &out, &err), MIG_ECORRUPT);
	assert_non_null(strstr(err.msg, "bytes, the manifest says"));

	c = *mig_archive_coll(a, 0);
	c.sha256 = "0000000000000000000000000000000000000000000000000000000000000000";
	assert_int_equal(relax_through(a, &c, &out, &err), MIG_ECORRUPT);
	assert_non_null(strstr(err.msg, "SHA-256 mismatch"));
	mig_archive_close(a);
	mig_buf_free(&out);
}

static void test_sha256(void **state)
{
	char h[65];
	(void)state;
	assert_int_equal(mig_sha256_hex("", 0, h, NULL), 0);
	assert_string_equal(h, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	assert_int_equal(mig_sha256_hex("abc", 3, h, NULL), 0);
	assert_string_equal(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_encode),
		cmocka_unit_test(test_name_safe),
		cmocka_unit_test(test_tar_round_trip),
		cmocka_unit_test(test_tar_huge_size),
		cmocka_unit_test(test_tar_damage),
		cmocka_unit_test(test_archive_checks),
		cmocka_unit_test(test_manifest_check),
		cmocka_unit_test(test_times),
		cmocka_unit_test(test_sha256),
		cmocka_unit_test(test_relax),
		cmocka_unit_test(test_relax_checks),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
