/*
 * reader.c - opening, checking and reading an archive.
 *
 * An archive is judged before anything of it is used.  mig_archive_open()
 * walks every tar header (cheap: it seeks over the data) and refuses
 * anything mig-backup would not have written: a first member that is not
 * manifest.json, a manifest that manifest.json.sha256 (the second member,
 * when there) disagrees with, a member that is not a regular file (links,
 * directories, devices, GNU or global headers), an unsafe name (absolute,
 * "..", "."), a name twice, a member the manifest does not list or one it
 * lists that is missing, a truncated member or end.  mig_archive_verify()
 * then decompresses the data and compares sizes, record counts and SHA-256
 * sums with the manifest; mig_archive_check(), for a restore, compares
 * each member as stored with its SHA-256 instead where the manifest is
 * sealed and has them, and leaves the text to the thread that loads it
 * (relax.c).  All answer MIG_ECORRUPT, which the programs turn into exit
 * status 5.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include "archive_int.h"
#include "mig/stream.h"

struct mig_archive {
	int fd;
	char *path;               /* for messages */
	uint64_t size;
	json_t *manifest;
	char manifest_sha[65];    /* of its text */
	int sealed;               /* manifest.json.sha256 was there and agreed */
	struct mig_archive_coll *colls;
	size_t n;
};

static int oom(struct mig_error *err)
{
	return mig_error_set(err, MIG_ENOMEM, "out of memory");
}

/* ---- the manifest ------------------------------------------------------------ */

static int is_hex64(const char *s)
{
	if (!s || strlen(s) != 64)
		return 0;
	for (int i = 0; i < 64; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

static int count_of(const json_t *o, const char *key, uint64_t *out)
{
	json_t *v = json_object_get(o, key);

	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return -1;
	*out = (uint64_t)json_integer_value(v);
	return 0;
}

int mig_manifest_check(const json_t *m, struct mig_archive_coll **colls, size_t *n,
		       const char *what, struct mig_error *err)
{
	json_t *arr = json_object_get(m, "collections"), *c;
	struct mig_archive_coll *cs = NULL;
	json_int_t version = json_integer_value(json_object_get(m, "version"));
	size_t i;
	int rc = 0;

	*colls = NULL;
	*n = 0;
	if (!json_is_object(m) ||
	    strcmp(json_string_value(json_object_get(m, "format")) ?: "", "mig-archive"))
		return mig_error_set(err, MIG_ECORRUPT, "%s: corrupt: the manifest is not a "
				     "mig-archive manifest", what);
	if (!json_is_integer(json_object_get(m, "version")) || version < 1)
		return mig_error_set(err, MIG_ECORRUPT, "%s: corrupt: the manifest has no format "
				     "version", what);
	if (version > MIG_ARCHIVE_VERSION)
		return mig_error_set(err, MIG_ECORRUPT, "%s: archive format version %lld is newer "
				     "than this mig reads (%d)", what, (long long)version,
				     MIG_ARCHIVE_VERSION);
	if (!json_is_string(json_object_get(m, "backend")) ||
	    !json_is_string(json_object_get(m, "created")) || !json_is_array(arr))
		return mig_error_set(err, MIG_ECORRUPT, "%s: corrupt: the manifest lacks "
				     "\"backend\", \"created\" or \"collections\"", what);
	cs = calloc(json_array_size(arr) + 1, sizeof *cs);
	if (!cs)
		return oom(err);
	json_array_foreach(arr, i, c) {
		struct mig_archive_coll *k = &cs[i];
		json_t *dep = json_object_get(c, "depends_on");
		k->name = json_string_value(json_object_get(c, "name"));
		k->data = json_string_value(json_object_get(c, "data"));
		k->schema = json_string_value(json_object_get(c, "schema"));
		k->sha256 = json_string_value(json_object_get(c, "sha256"));
		k->schema_sha256 = json_string_value(json_object_get(c, "schema_sha256"));
		k->compressed_sha256 = json_string_value(json_object_get(c, "compressed_sha256"));
		k->depends_on = json_is_array(dep) ? dep : NULL;
		if (!json_is_object(c) || !k->name || !k->data || !is_hex64(k->sha256) ||
		    count_of(c, "records", &k->records) || count_of(c, "bytes", &k->bytes) ||
		    (json_object_get(c, "schema") && !json_is_null(json_object_get(c, "schema")) &&
		     !k->schema) ||
		    (k->schema && !is_hex64(k->schema_sha256)) ||
		    (json_object_get(c, "compressed_sha256") && !is_hex64(k->compressed_sha256)) ||
		    (json_object_get(c, "compressed_bytes") &&
		     count_of(c, "compressed_bytes", &k->compressed_bytes)) ||
		    (dep && !json_is_array(dep))) {
			rc = mig_error_set(err, MIG_ECORRUPT, "%s: corrupt: manifest entry %zu is "
					   "malformed", what, i + 1);
			goto out;
		}
		for (size_t j = 0; j < i; j++)
			if (strcmp(cs[j].name, k->name) == 0) {
				rc = mig_error_set(err, MIG_ECORRUPT, "%s: corrupt: the manifest lists "
						   "collection %s twice", what, k->name);
				goto out;
			}
		if (!mig_archive_name_safe(k->data) || (k->schema && !mig_archive_name_safe(k->schema))) {
			rc = mig_error_set(err, MIG_ECORRUPT, "%s: corrupt: the manifest names an unsafe "
					   "member for collection %s", what, k->name);
			goto out;
		}
	}
	*colls = cs;
	*n = json_array_size(arr);
	cs = NULL;
out:
	free(cs);
	return rc;
}

/* ---- opening ------------------------------------------------------------------- */

/* Copies standard input to an unlinked temporary file: the archive must be
 * read twice (verify, then load), so a pipe is spooled first. */
static int spool_stdin(int *out, struct mig_error *err)
{
	char *buf = malloc((size_t)1 << 20);
	int fd = -1, rc;

	*out = -1;
	if (!buf)
		return oom(err);
	rc = mig_io_tmpfile(&fd, NULL, err);
	while (!rc) {
		ssize_t k = read(0, buf, (size_t)1 << 20);
		if (k < 0 && errno == EINTR && !mig_interrupted)
			continue;
		if (k < 0) {
			rc = mig_error_set(err, errno == EINTR ? MIG_EINTR : MIG_EIO, "stdin: %s",
					   strerror(errno));
			break;
		}
		if (k == 0)
			break;
		rc = mig_io_write_all(fd, buf, (size_t)k, "spool file", err);
	}
	free(buf);
	if (rc) {
		if (fd >= 0)
			close(fd);
		return rc;
	}
	*out = fd;
	return 0;
}

static int open_file(int *fd, uint64_t *size, const char *path, struct mig_error *err)
{
	struct stat st;
	int rc;

	if (strcmp(path, "-") == 0) {
		rc = spool_stdin(fd, err);
		if (rc)
			return rc;
	} else {
		*fd = open(path, O_RDONLY | O_CLOEXEC);
		if (*fd < 0)
			return mig_error_set(err, MIG_EIO, "%s: %s", path, strerror(errno));
	}
	if (fstat(*fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		rc = mig_error_set(err, MIG_EIO, "%s: %s", path,
				   errno ? strerror(errno) : "not a regular file");
		close(*fd);
		*fd = -1;
		return rc;
	}
	*size = (uint64_t)st.st_size;
	return 0;
}

/* Reads the first member, which must be the manifest, and parses it;
 * sha (when not NULL) gets its text's SHA-256. */
static int first_member(int fd, uint64_t fsize, const char *what, json_t **out, uint64_t *pos,
			char *sha, struct mig_error *err)
{
	struct mig_tar_member m;
	json_error_t je;
	char *text = NULL;
	int rc;

	*out = NULL;
	rc = mig_tar_next(fd, fsize, pos, &m, what, err);
	if (rc == MIG_DONE)
		return mig_error_set(err, MIG_ECORRUPT, "%s: corrupt: an empty archive", what);
	if (rc)
		return rc;
	if (strcmp(m.name, MANIFEST_NAME) || m.type != '0') {
		rc = mig_error_set(err, MIG_ECORRUPT, "%s: corrupt: the first member is %s, not "
				   "manifest.json", what, m.name);
		goto out;
	}
	if (m.size > ARCHIVE_META_MAX) {
		rc = mig_error_set(err, MIG_ECORRUPT, "%s: corrupt: the manifest is %llu bytes",
				   what, (unsigned long long)m.size);
		goto out;
	}
	text = malloc(m.size + 1);
	if (!text) {
		rc = oom(err);
		goto out;
	}
	rc = mig_io_pread_all(fd, text, m.size, m.offset, what, err);
	if (!rc && sha)
		rc = mig_sha256_hex(text, m.size, sha, err);
	if (rc)
		goto out;
	*out = json_loadb(text, m.size, JSON_REJECT_DUPLICATES, &je);
	if (!*out)
		rc = mig_error_set(err, MIG_ECORRUPT, "%s: corrupt: manifest.json: %s (line %d)",
				   what, je.text, je.line);
out:
	free(text);
	free(m.name);
	return rc;
}

/* Matches a member to the manifest: fills the collection's offsets.
 * Returns 0, or MIG_ECORRUPT for a member it does not list or one seen
 * before. */
static int place_member(struct mig_archive *a, const struct mig_tar_member *m,
			struct mig_error *err)
{
	for (size_t i = 0; i < a->n; i++) {
		struct mig_archive_coll *c = &a->colls[i];
		int data = strcmp(m->name, c->data) == 0;
		int schema = c->schema && strcmp(m->name, c->schema) == 0;
		if (!data && !schema)
			continue;
		if ((data && c->data_offset) || (schema && c->schema_offset))
			return mig_error_set(err, MIG_ECORRUPT, "%s: corrupt: member %s appears twice",
					     a->path, m->name);
		if (data) {
			c->data_offset = m->offset;
			c->data_size = m->size;
		}
		if (schema) {
			c->schema_offset = m->offset;
			c->schema_size = m->size;
		}
		return 0;
	}
	if (strcmp(m->name, MANIFEST_NAME) == 0)
		return mig_error_set(err, MIG_ECORRUPT, "%s: corrupt: member %s appears twice",
				     a->path, m->name);
	return mig_error_set(err, MIG_ECORRUPT, "%s: corrupt: member %s is not in the manifest",
			     a->path, m->name);
}

/* The member after the manifest, when it is manifest.json.sha256: the
 * manifest's checksum, as sha256sum(1) prints it.  With it the manifest is
 * known whole, and with the manifest each member it lists. */
static int check_seal(struct mig_archive *a, const struct mig_tar_member *m,
		      struct mig_error *err)
{
	char text[160], want[160];
	int n = snprintf(want, sizeof want, "%s  %s\n", a->manifest_sha, MANIFEST_NAME);
	int rc;

	if (m->size != (uint64_t)n)
		return mig_error_set(err, MIG_ECORRUPT, "%s: corrupt: %s is not a SHA-256 line "
				     "for %s", a->path, MANIFEST_SHA_NAME, MANIFEST_NAME);
	rc = mig_io_pread_all(a->fd, text, (size_t)n, m->offset, a->path, err);
	if (rc)
		return rc;
	if (memcmp(text, want, (size_t)n))
		return mig_error_set(err, MIG_ECORRUPT, "%s: corrupt: %s: SHA-256 mismatch (%.12s..., "
				     "%s says %.12s...)", a->path, MANIFEST_NAME, a->manifest_sha,
				     MANIFEST_SHA_NAME, text);
	a->sealed = 1;
	return 0;
}

int mig_archive_open(struct mig_archive **out, const char *path, struct mig_error *err)
{
	struct mig_archive *a = calloc(1, sizeof *a);
	struct mig_tar_member m = { 0 };
	uint64_t pos = 0;
	int rc;

	*out = NULL;
	if (!a)
		return oom(err);
	a->fd = -1;
	a->path = strdup(strcmp(path, "-") ? path : "stdin");
	if (!a->path) {
		rc = oom(err);
		goto out;
	}
	rc = open_file(&a->fd, &a->size, path, err);
	if (!rc)
		rc = first_member(a->fd, a->size, a->path, &a->manifest, &pos, a->manifest_sha, err);
	if (!rc)
		rc = mig_manifest_check(a->manifest, &a->colls, &a->n, a->path, err);
	/* the data and schema members of distinct collections are distinct */
	for (size_t i = 0; !rc && i < a->n; i++)
		for (size_t j = 0; !rc && j <= i; j++) {
			const char *x[2] = { a->colls[i].data, a->colls[i].schema };
			const char *y[2] = { a->colls[j].data, a->colls[j].schema };
			for (int p = 0; !rc && p < 2; p++)
				for (int q = 0; !rc && q < 2; q++)
					if (x[p] && y[q] && !(i == j && p == q) &&
					    (strcmp(x[p], y[q]) == 0 || strcmp(x[p], MANIFEST_NAME) == 0 ||
					     strcmp(x[p], MANIFEST_SHA_NAME) == 0))
						rc = mig_error_set(err, MIG_ECORRUPT, "%s: corrupt: the "
								   "manifest names member %s twice",
								   a->path, x[p]);
		}
	for (int second = 1; !rc; second = 0) {
		rc = mig_tar_next(a->fd, a->size, &pos, &m, a->path, err);
		if (rc == MIG_DONE) {
			rc = 0;
			break;
		}
		if (rc)
			break;
		if (second && m.type == '0' && strcmp(m.name, MANIFEST_SHA_NAME) == 0)
			rc = check_seal(a, &m, err);
		else if (m.type != '0')
			rc = mig_error_set(err, MIG_ECORRUPT, "%s: corrupt: member %s is %s; an archive "
					   "holds regular files only", a->path, m.name,
					   mig_tar_type_name(m.type));
		else if (!mig_archive_name_safe(m.name))
			rc = mig_error_set(err, MIG_ECORRUPT, "%s: corrupt: member %s has an unsafe "
					   "name (absolute, \"..\" or odd bytes)", a->path, m.name);
		else
			rc = place_member(a, &m, err);
		free(m.name);
		m.name = NULL;
	}
	for (size_t i = 0; !rc && i < a->n; i++) {
		const struct mig_archive_coll *c = &a->colls[i];
		if (!c->data_offset || (c->schema && !c->schema_offset))
			rc = mig_error_set(err, MIG_ECORRUPT, "%s: corrupt: member %s of collection %s "
					   "is missing", a->path,
					   c->data_offset ? c->schema : c->data, c->name);
		else if (c->compressed_sha256 && c->compressed_bytes != c->data_size)
			rc = mig_error_set(err, MIG_ECORRUPT, "%s: corrupt: member %s of collection %s "
					   "is %llu bytes, the manifest says %llu", a->path, c->data,
					   c->name, (unsigned long long)c->data_size,
					   (unsigned long long)c->compressed_bytes);
	}
out:
	if (rc) {
		mig_archive_close(a);
		return rc;
	}
	*out = a;
	return 0;
}

void mig_archive_close(struct mig_archive *a)
{
	if (!a)
		return;
	if (a->fd >= 0)
		close(a->fd);
	free(a->colls);
	json_decref(a->manifest);
	free(a->path);
	free(a);
}

const json_t *mig_archive_manifest(const struct mig_archive *a) { return a->manifest; }
const char *mig_archive_path(const struct mig_archive *a) { return a->path; }
size_t mig_archive_count(const struct mig_archive *a) { return a->n; }
int mig_archive_fd(const struct mig_archive *a) { return a->fd; }

const struct mig_archive_coll *mig_archive_coll(const struct mig_archive *a, size_t i)
{
	return i < a->n ? &a->colls[i] : NULL;
}

long mig_archive_find(const struct mig_archive *a, const char *name)
{
	for (size_t i = 0; i < a->n; i++)
		if (strcmp(a->colls[i].name, name) == 0)
			return (long)i;
	return -1;
}

/* ---- checking the data ------------------------------------------------------------ */

/* The data member against compressed_sha256 (when the manifest has it)
 * and, when text, decompressed against its size, lines and sha256. */
static int verify_data(struct mig_archive *a, const struct mig_archive_coll *c, int text,
		       enum mig_progress_when when, struct mig_error *err)
{
	const size_t inc = ZSTD_DStreamInSize(), outc = (size_t)1 << 20;
	ZSTD_DCtx *zd = ZSTD_createDCtx();
	char *in = malloc(inc), *outb = malloc(outc), sha[65], zsha[65];
	struct mig_sha256 h = { 0 }, zh = { 0 };
	struct mig_progress *pg = NULL;
	uint64_t off = 0, bytes = 0, lines = 0;
	size_t z = 1;
	char last = '\n';
	int rc;

	if (!zd || !in || !outb) {
		rc = oom(err);
		goto out;
	}
	rc = mig_sha256_init(&h, err);
	if (!rc)
		rc = mig_sha256_init(&zh, err);
	if (rc)
		goto out;
	pg = mig_progress_start(when, "checked", c->data_size);
	while (off < c->data_size) {
		size_t n = c->data_size - off < inc ? (size_t)(c->data_size - off) : inc;
		ZSTD_inBuffer ib = { in, n, 0 };

		if (mig_interrupted) {
			rc = mig_error_set(err, MIG_EINTR, "%s: interrupted", a->path);
			goto out;
		}
		rc = mig_io_pread_all(a->fd, in, n, c->data_offset + off, a->path, err);
		if (rc)
			goto out;
		mig_sha256_update(&zh, in, n);
		off += n;
		while (text && ib.pos < ib.size) {
			ZSTD_outBuffer ob = { outb, outc, 0 };
			z = ZSTD_decompressStream(zd, &ob, &ib);
			if (ZSTD_isError(z)) {
				rc = mig_error_set(err, MIG_ECORRUPT, "%s: corrupt: %s (collection %s): "
						   "zstd: %s", a->path, c->data, c->name,
						   ZSTD_getErrorName(z));
				goto out;
			}
			mig_sha256_update(&h, outb, ob.pos);
			bytes += ob.pos;
			for (const char *p = outb, *e = outb + ob.pos;
			     (p = memchr(p, '\n', (size_t)(e - p))) != NULL; p++)
				lines++;
			if (ob.pos)
				last = outb[ob.pos - 1];
		}
		mig_progress_update(pg, lines, off);
	}
	/* z == 0: the last frame ended; otherwise the member is cut short */
	if (text && z != 0 && c->data_size) {
		rc = mig_error_set(err, MIG_ECORRUPT, "%s: corrupt: %s (collection %s): truncated "
				   "zstd frame", a->path, c->data, c->name);
		goto out;
	}
	mig_sha256_final(&h, sha);
	mig_sha256_final(&zh, zsha);
	if (c->compressed_sha256 && strcmp(zsha, c->compressed_sha256))
		rc = mig_error_set(err, MIG_ECORRUPT, "%s: corrupt: %s (collection %s): SHA-256 "
				   "of the member mismatch (%.12s..., the manifest says %.12s...)",
				   a->path, c->data, c->name, zsha, c->compressed_sha256);
	else if (!text)
		;
	else if (bytes != c->bytes || last != '\n')
		rc = mig_error_set(err, MIG_ECORRUPT, "%s: corrupt: %s (collection %s) holds %llu "
				   "bytes, the manifest says %llu", a->path, c->data, c->name,
				   (unsigned long long)bytes, (unsigned long long)c->bytes);
	else if (lines != c->records)
		rc = mig_error_set(err, MIG_ECORRUPT, "%s: corrupt: %s (collection %s) holds %llu "
				   "records, the manifest says %llu", a->path, c->data, c->name,
				   (unsigned long long)lines, (unsigned long long)c->records);
	else if (strcmp(sha, c->sha256))
		rc = mig_error_set(err, MIG_ECORRUPT, "%s: corrupt: %s (collection %s): SHA-256 "
				   "mismatch (%.12s..., the manifest says %.12s...)", a->path, c->data,
				   c->name, sha, c->sha256);
out:
	mig_progress_end(pg);
	mig_sha256_free(&h);
	mig_sha256_free(&zh);
	ZSTD_freeDCtx(zd);
	free(in);
	free(outb);
	return rc;
}

/* Reads a small member whole, checking its SHA-256. */
static int read_small(struct mig_archive *a, uint64_t off, uint64_t size, const char *member,
		      const char *sha256, char **out, struct mig_error *err)
{
	char sha[65], *text;
	int rc;

	*out = NULL;
	if (size > ARCHIVE_META_MAX)
		return mig_error_set(err, MIG_ECORRUPT, "%s: corrupt: %s is %llu bytes", a->path,
				     member, (unsigned long long)size);
	text = malloc(size + 1);
	if (!text)
		return oom(err);
	rc = mig_io_pread_all(a->fd, text, size, off, a->path, err);
	if (!rc)
		rc = mig_sha256_hex(text, size, sha, err);
	if (!rc && strcmp(sha, sha256))
		rc = mig_error_set(err, MIG_ECORRUPT, "%s: corrupt: %s: SHA-256 mismatch", a->path,
				   member);
	if (rc) {
		free(text);
		return rc;
	}
	text[size] = '\0';
	*out = text;
	return 0;
}

int mig_archive_schema(struct mig_archive *a, size_t i, json_t **out, struct mig_error *err)
{
	const struct mig_archive_coll *c = &a->colls[i];
	json_error_t je;
	char *text = NULL;
	int rc;

	*out = NULL;
	if (!c->schema)
		return 0;
	rc = read_small(a, c->schema_offset, c->schema_size, c->schema, c->schema_sha256, &text,
			err);
	if (rc)
		return rc;
	*out = json_loadb(text, c->schema_size, JSON_REJECT_DUPLICATES, &je);
	free(text);
	if (!*out || !json_is_object(*out)) {
		json_decref(*out);
		*out = NULL;
		return mig_error_set(err, MIG_ECORRUPT, "%s: corrupt: %s is not a JSON object",
				     a->path, c->schema);
	}
	return 0;
}

/* Collection which's (every collection's, which < 0) data and schema
 * members; the data's text too unless quick and the manifest vouches for
 * the member as stored. */
static int check_colls(struct mig_archive *a, long which, int quick,
		       enum mig_progress_when progress, struct mig_error *err)
{
	int rc = 0;

	for (size_t i = 0; !rc && i < a->n; i++) {
		json_t *schema = NULL;
		if (which >= 0 && (size_t)which != i)
			continue;
		rc = verify_data(a, &a->colls[i],
				 !(quick && a->sealed && a->colls[i].compressed_sha256), progress,
				 err);
		if (!rc)
			rc = mig_archive_schema(a, i, &schema, err);
		json_decref(schema);
	}
	return rc;
}

int mig_archive_verify(struct mig_archive *a, long which, enum mig_progress_when progress,
		       struct mig_error *err)
{
	return check_colls(a, which, 0, progress, err);
}

int mig_archive_check(struct mig_archive *a, long which, enum mig_progress_when progress,
		      struct mig_error *err)
{
	return check_colls(a, which, 1, progress, err);
}

int mig_archive_reader(struct mig_archive *a, size_t i, size_t max_line,
		       struct mig_reader **out, struct mig_error *err)
{
	const struct mig_archive_coll *c = &a->colls[i];
	size_t n = strlen(a->path) + strlen(c->data) + 2;
	char *name = malloc(n);
	int rc;

	if (!name)
		return oom(err);
	snprintf(name, n, "%s:%s", a->path, c->data);
	rc = mig_reader_open_range(out, a->fd, name, c->data_offset, c->data_size, 1, max_line,
				   err);
	free(name);
	return rc;
}

/* ---- the manifest alone ------------------------------------------------------------ */

int mig_archive_read_manifest(json_t **out, const char *path, struct mig_error *err)
{
	char h[TAR_BLOCK];
	uint64_t size, pos = 0;
	int fd = -1, rc;
	ssize_t k;

	*out = NULL;
	rc = open_file(&fd, &size, path, err);
	if (rc)
		return rc;
	/* not a tar whose first member is manifest.json: not an archive */
	k = pread(fd, h, TAR_BLOCK, 0);
	if (k != TAR_BLOCK || memcmp(h + 257, "ustar", 5) != 0 ||
	    (strncmp(h, MANIFEST_NAME, 100) != 0 && h[156] != 'x')) {
		close(fd);
		return MIG_DONE;
	}
	rc = first_member(fd, size, path, out, &pos, NULL, err);
	if (!rc) {
		struct mig_archive_coll *colls = NULL;
		size_t n;
		rc = mig_manifest_check(*out, &colls, &n, path, err);
		free(colls);
	}
	if (rc) {
		json_decref(*out);
		*out = NULL;
	}
	close(fd);
	return rc;
}
