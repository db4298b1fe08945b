/*
 * stream.c - NDJSON text <-> records.
 *
 * All record parsing and printing happens here and in mig_value_write(),
 * so that the hot path can be made faster in one place.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include "mig/stream.h"

#define READ_CHUNK ((size_t)1 << 20)
#define WRITE_FLUSH ((size_t)1 << 18)

static int has_suffix(const char *s, const char *suf)
{
	size_t n = strlen(s), m = strlen(suf);
	return n >= m && strcmp(s + n - m, suf) == 0;
}

/* ---- reader ------------------------------------------------------------ */

struct mig_reader {
	int fd;
	int own_fd;
	char *name;
	size_t max_line;

	char *buf;          /* decoded bytes: [start, end) not yet handed out */
	size_t cap, start, end;
	size_t scan;        /* where to resume looking for '\n' (relative to start) */
	int eof;
	int skipping;       /* inside a line over max_line: drop bytes to '\n' */
	uint64_t lineno;
	uint64_t offset;    /* bytes read from fd */
	uint64_t size;
	int ranged;         /* read [base, base + size) with pread */
	uint64_t base;

	ZSTD_DStream *zd;   /* set for .zst input */
	char *zbuf;
	size_t zpos, zlen;
	int zframe_done;    /* the last ZSTD_decompressStream ended a frame */
};

int mig_reader_open_fd(struct mig_reader **out, int fd, const char *name, int zstd,
		       size_t max_line, struct mig_error *err)
{
	struct mig_reader *r = calloc(1, sizeof *r);
	struct stat st;

	*out = NULL;
	if (!r)
		return mig_error_set(err, MIG_ENOMEM, "out of memory");
	r->fd = fd;
	r->name = strdup(name);
	r->max_line = max_line ? max_line : MIG_MAX_LINE_DEFAULT;
	r->cap = READ_CHUNK;
	r->buf = malloc(r->cap);
	r->zframe_done = 1;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
		r->size = (uint64_t)st.st_size;
	if (zstd) {
		r->zd = ZSTD_createDStream();
		r->zbuf = malloc(ZSTD_DStreamInSize());
		if (r->zd)
			ZSTD_initDStream(r->zd);
	}
	if (!r->name || !r->buf || (zstd && (!r->zd || !r->zbuf))) {
		mig_reader_close(r);
		return mig_error_set(err, MIG_ENOMEM, "out of memory");
	}
	*out = r;
	return 0;
}

int mig_reader_open(struct mig_reader **out, const char *path, size_t max_line,
		    struct mig_error *err)
{
	int fd, rc;

	*out = NULL;
	if (!path || strcmp(path, "-") == 0)
		return mig_reader_open_fd(out, 0, "stdin", 0, max_line, err);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return mig_error_set(err, MIG_EIO, "%s: %s", path, strerror(errno));
	rc = mig_reader_open_fd(out, fd, path, has_suffix(path, ".zst"), max_line, err);
	if (rc) {
		close(fd);
		return rc;
	}
	(*out)->own_fd = 1;
	return 0;
}

int mig_reader_open_range(struct mig_reader **out, int fd, const char *name, uint64_t offset,
			  uint64_t length, int zstd, size_t max_line, struct mig_error *err)
{
	int rc = mig_reader_open_fd(out, fd, name, zstd, max_line, err);

	if (rc)
		return rc;
	(*out)->ranged = 1;
	(*out)->base = offset;
	(*out)->size = length;
	return 0;
}

void mig_reader_close(struct mig_reader *r)
{
	if (!r)
		return;
	if (r->own_fd)
		close(r->fd);
	ZSTD_freeDStream(r->zd);
	free(r->zbuf);
	free(r->buf);
	free(r->name);
	free(r);
}

const char *mig_reader_name(const struct mig_reader *r) { return r->name; }
uint64_t mig_reader_offset(const struct mig_reader *r) { return r->offset; }
uint64_t mig_reader_size(const struct mig_reader *r) { return r->size; }

static ssize_t read_fd(struct mig_reader *r, void *p, size_t n)
{
	ssize_t got;

	if (r->ranged) {
		if (n > r->size - r->offset)
			n = (size_t)(r->size - r->offset);
		if (!n)
			return 0;
	}
	do
		got = r->ranged ? pread(r->fd, p, n, (off_t)(r->base + r->offset))
				: read(r->fd, p, n);
	while (got < 0 && errno == EINTR && !mig_interrupted);
	if (got > 0)
		r->offset += (uint64_t)got;
	return got;
}

/* Appends up to room decoded bytes at buf + end; 0 at end of input. */
static int fill(struct mig_reader *r, struct mig_error *err)
{
	size_t room = r->cap - r->end;
	ssize_t got;

	if (!r->zd) {
		got = read_fd(r, r->buf + r->end, room);
		if (got < 0 && errno == EINTR)
			return mig_error_set(err, MIG_EINTR, "%s: interrupted", r->name);
		if (got < 0)
			return mig_error_set(err, MIG_EIO, "%s: read: %s", r->name, strerror(errno));
		if (got == 0)
			r->eof = 1;
		r->end += (size_t)got;
		return 0;
	}
	for (;;) {
		if (r->zpos == r->zlen) {
			got = read_fd(r, r->zbuf, ZSTD_DStreamInSize());
			if (got < 0 && errno == EINTR)
				return mig_error_set(err, MIG_EINTR, "%s: interrupted", r->name);
			if (got < 0)
				return mig_error_set(err, MIG_EIO, "%s: read: %s", r->name,
						     strerror(errno));
			if (got == 0) {
				r->eof = 1;
				if (!r->zframe_done)
					return mig_error_set(err, MIG_EIO,
							     "%s: truncated zstd stream", r->name);
				return 0;
			}
			r->zpos = 0;
			r->zlen = (size_t)got;
		}
		ZSTD_inBuffer in = { r->zbuf, r->zlen, r->zpos };
		ZSTD_outBuffer o = { r->buf + r->end, room, 0 };
		size_t z = ZSTD_decompressStream(r->zd, &o, &in);
		if (ZSTD_isError(z))
			return mig_error_set(err, MIG_EIO, "%s: zstd: %s", r->name,
					     ZSTD_getErrorName(z));
		r->zframe_done = (z == 0);
		r->zpos = in.pos;
		r->end += o.pos;
		if (o.pos > 0)
			return 0;
	}
}

static int blank(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r')
			return 0;
	return 1;
}

int mig_reader_next(struct mig_reader *r, struct mig_line *out, struct mig_error *err)
{
	int rc;

	for (;;) {
		char *base = r->buf + r->start;
		size_t avail = r->end - r->start;
		char *nl = avail > r->scan ? memchr(base + r->scan, '\n', avail - r->scan) : NULL;

		if (nl || (r->eof && avail)) {
			size_t len = nl ? (size_t)(nl - base) : avail;
			r->start += nl ? len + 1 : len;
			r->scan = 0;
			if (r->skipping) {
				/* the tail of an over-long line, reported already */
				r->skipping = 0;
				continue;
			}
			r->lineno++;
			if (len && base[len - 1] == '\r')
				len--;
			if (r->lineno == 1 && len >= 3 && memcmp(base, "\xEF\xBB\xBF", 3) == 0) {
				base += 3;   /* a UTF-8 byte order mark */
				len -= 3;
			}
			if (len > r->max_line) {
				out->data = base;
				out->len = len < 256 ? len : 256;
				out->lineno = r->lineno;
				return mig_error_set(err, MIG_EDATA,
						     "%s:%llu: line longer than --max-line (%zu bytes)",
						     r->name, (unsigned long long)r->lineno,
						     r->max_line);
			}
			if (blank(base, len))
				continue;
			out->data = base;
			out->len = len;
			out->lineno = r->lineno;
			return 0;
		}
		if (r->eof)
			return MIG_DONE;
		r->scan = avail;
		if (!r->skipping && avail > r->max_line) {
			/* report the over-long line now; drop the rest as it comes */
			r->lineno++;
			r->skipping = 1;
			out->data = base;
			out->len = avail < 256 ? avail : 256;
			out->lineno = r->lineno;
			r->start = r->end;
			r->scan = 0;
			return mig_error_set(err, MIG_EDATA,
					     "%s:%llu: line longer than --max-line (%zu bytes)",
					     r->name, (unsigned long long)r->lineno, r->max_line);
		}
		if (r->skipping) {
			r->start = r->end = r->scan = 0;
		} else if (r->start > 0 && (r->start >= r->cap / 2 || r->end == r->cap)) {
			memmove(r->buf, r->buf + r->start, avail);
			r->start = 0;
			r->end = avail;
		}
		if (r->end == r->cap) {
			/* one line fills the buffer: grow, up to max_line and a chunk */
			size_t ncap = r->cap * 2;
			if (ncap > r->max_line + READ_CHUNK)
				ncap = r->max_line + READ_CHUNK;
			char *p = ncap > r->cap ? realloc(r->buf, ncap) : NULL;
			if (!p)
				return mig_error_set(err, MIG_ENOMEM, "%s:%llu: out of memory",
						     r->name, (unsigned long long)r->lineno + 1);
			r->buf = p;
			r->cap = ncap;
		}
		rc = fill(r, err);
		if (rc)
			return rc;
	}
}

/* ---- parsing ----------------------------------------------------------- */

static const char *json_kind(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_ARRAY: return "array";
	case JSON_STRING: return "string";
	case JSON_INTEGER:
	case JSON_REAL: return "number";
	case JSON_TRUE:
	case JSON_FALSE: return "boolean";
	case JSON_NULL: return "null";
	default: return "object";
	}
}

/* Column (1-based, in bytes) of the first byte that is not valid UTF-8. */
static size_t bad_utf8(const unsigned char *p, size_t n)
{
	size_t i = 0;
	while (i < n) {
		unsigned c = p[i];
		size_t k;
		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xC2 && c <= 0xDF)
			k = 1;
		else if (c >= 0xE0 && c <= 0xEF)
			k = 2;
		else if (c >= 0xF0 && c <= 0xF4)
			k = 3;
		else
			return i + 1;
		if (i + k >= n)
			return i + 1;
		for (size_t j = 1; j <= k; j++)
			if ((p[i + j] & 0xC0) != 0x80)
				return i + 1;
		if ((c == 0xE0 && p[i + 1] < 0xA0) || (c == 0xED && p[i + 1] > 0x9F) ||
		    (c == 0xF0 && p[i + 1] < 0x90) || (c == 0xF4 && p[i + 1] > 0x8F))
			return i + 1;
		i += k + 1;
	}
	return 0;
}

static int parse(json_t **out, const struct mig_line *line, const char *name, int any,
		 struct mig_error *err)
{
	json_error_t je;
	json_t *v;
	const char *nul;

	*out = NULL;
	nul = memchr(line->data, '\0', line->len);
	if (nul)
		return mig_error_set(err, MIG_EDATA, "%s:%llu: NUL byte in the line (column %zu)",
				     name, (unsigned long long)line->lineno,
				     (size_t)(nul - line->data) + 1);
	v = json_loadb(line->data, line->len, JSON_ALLOW_NUL | JSON_REJECT_DUPLICATES |
		       JSON_DECODE_ANY, &je);
	if (!v) {
		size_t col = bad_utf8((const unsigned char *)line->data, line->len);
		if (col)
			return mig_error_set(err, MIG_EDATA,
					     "%s:%llu: invalid UTF-8 (byte 0x%02x at column %zu)",
					     name, (unsigned long long)line->lineno,
					     (unsigned char)line->data[col - 1], col);
		return mig_error_set(err, MIG_EDATA, "%s:%llu: invalid JSON: %s (column %d)",
				     name, (unsigned long long)line->lineno, je.text,
				     je.column > 0 ? je.column : 1);
	}
	if (!any && !json_is_object(v)) {
		int rc = mig_error_set(err, MIG_EDATA, "%s:%llu: not a JSON object (%s)", name,
				       (unsigned long long)line->lineno, json_kind(v));
		json_decref(v);
		return rc;
	}
	*out = v;
	return 0;
}

int mig_record_parse(json_t **out, const struct mig_line *line, const char *name,
		     struct mig_error *err)
{
	return parse(out, line, name, 0, err);
}

int mig_value_parse(json_t **out, const struct mig_line *line, const char *name,
		    struct mig_error *err)
{
	return parse(out, line, name, 1, err);
}

/* ---- writer ------------------------------------------------------------ */

struct mig_writer {
	int fd;
	int own_fd;
	char *name;
	enum mig_json_mode mode;
	struct mig_buf buf;
	uint64_t bytes;
	ZSTD_CStream *zc;
	char *zout;
	size_t zout_cap;
	int failed;
};

int mig_writer_open_fd(struct mig_writer **out, int fd, const char *name, int flags,
		       enum mig_json_mode mode, struct mig_error *err)
{
	struct mig_writer *w = calloc(1, sizeof *w);

	*out = NULL;
	if (!w)
		return mig_error_set(err, MIG_ENOMEM, "out of memory");
	w->fd = fd;
	w->mode = mode;
	w->name = strdup(name);
	mig_buf_init(&w->buf, 0);
	if (!w->name || mig_buf_reserve(&w->buf, WRITE_FLUSH * 2)) {
		mig_writer_close(w, 0, NULL);
		return mig_error_set(err, MIG_ENOMEM, "out of memory");
	}
	if (flags & MIG_WRITER_ZSTD) {
		w->zc = ZSTD_createCStream();
		w->zout_cap = ZSTD_CStreamOutSize();
		w->zout = malloc(w->zout_cap);
		if (!w->zc || !w->zout) {
			mig_writer_close(w, 0, NULL);
			return mig_error_set(err, MIG_ENOMEM, "out of memory");
		}
		ZSTD_CCtx_setParameter(w->zc, ZSTD_c_compressionLevel, 3);
		ZSTD_CCtx_setParameter(w->zc, ZSTD_c_checksumFlag, 1);
	}
	*out = w;
	return 0;
}

int mig_writer_open(struct mig_writer **out, const char *path, int flags,
		    enum mig_json_mode mode, struct mig_error *err)
{
	int fd, rc;

	*out = NULL;
	if (!path || strcmp(path, "-") == 0)
		return mig_writer_open_fd(out, 1, "stdout", flags & ~MIG_WRITER_ZSTD, mode, err);
	if (has_suffix(path, ".zst") && !(flags & MIG_WRITER_NOZSTD))
		flags |= MIG_WRITER_ZSTD;
	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC |
		  ((flags & MIG_WRITER_APPEND) ? O_APPEND : O_TRUNC), 0666);
	if (fd < 0)
		return mig_error_set(err, MIG_EIO, "%s: %s", path, strerror(errno));
	rc = mig_writer_open_fd(out, fd, path, flags, mode, err);
	if (rc) {
		close(fd);
		return rc;
	}
	(*out)->own_fd = 1;
	return 0;
}

static int write_all(struct mig_writer *w, const char *p, size_t n, struct mig_error *err)
{
	while (n) {
		ssize_t k = write(w->fd, p, n);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			w->failed = 1;
			if (errno == EPIPE)
				return mig_error_set(err, MIG_EPIPE, "%s: the reader went away",
						     w->name);
			return mig_error_set(err, MIG_EIO, "%s: write: %s", w->name,
					     strerror(errno));
		}
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

static int zwrite(struct mig_writer *w, const char *p, size_t n, ZSTD_EndDirective end,
		  struct mig_error *err)
{
	ZSTD_inBuffer in = { p, n, 0 };
	for (;;) {
		ZSTD_outBuffer o = { w->zout, w->zout_cap, 0 };
		size_t left = ZSTD_compressStream2(w->zc, &o, &in, end);
		if (ZSTD_isError(left))
			return mig_error_set(err, MIG_EIO, "%s: zstd: %s", w->name,
					     ZSTD_getErrorName(left));
		int rc = write_all(w, w->zout, o.pos, err);
		if (rc)
			return rc;
		if (end == ZSTD_e_end ? left == 0 : in.pos == in.size)
			return 0;
	}
}

int mig_writer_flush(struct mig_writer *w, struct mig_error *err)
{
	int rc;

	if (w->failed)
		return mig_error_set(err, MIG_EIO, "%s: an earlier write failed", w->name);
	if (!w->buf.len)
		return 0;
	rc = w->zc ? zwrite(w, w->buf.data, w->buf.len, ZSTD_e_continue, err)
		   : write_all(w, w->buf.data, w->buf.len, err);
	mig_buf_reset(&w->buf);
	return rc;
}

int mig_writer_put(struct mig_writer *w, const json_t *rec, struct mig_error *err)
{
	size_t before = w->buf.len;
	int rc = mig_value_write(&w->buf, rec, w->mode);

	if (!rc)
		rc = mig_buf_putc(&w->buf, '\n');
	if (rc) {
		w->buf.len = before;
		return mig_error_set(err, rc, "%s: out of memory printing a record", w->name);
	}
	w->bytes += w->buf.len - before;
	if (w->buf.len >= WRITE_FLUSH)
		return mig_writer_flush(w, err);
	return 0;
}

int mig_writer_put_raw(struct mig_writer *w, const void *p, size_t n, struct mig_error *err)
{
	if (mig_buf_append(&w->buf, p, n))
		return mig_error_set(err, MIG_ENOMEM, "%s: out of memory", w->name);
	w->bytes += n;
	if (w->buf.len >= WRITE_FLUSH)
		return mig_writer_flush(w, err);
	return 0;
}

uint64_t mig_writer_bytes(const struct mig_writer *w) { return w->bytes; }

int mig_writer_close(struct mig_writer *w, int sync, struct mig_error *err)
{
	int rc = 0;
	struct stat st;

	if (!w)
		return 0;
	if (!w->failed) {
		rc = mig_writer_flush(w, err);
		if (!rc && w->zc)
			rc = zwrite(w, "", 0, ZSTD_e_end, err);
		if (!rc && sync && fstat(w->fd, &st) == 0 && S_ISREG(st.st_mode) &&
		    fsync(w->fd) < 0)
			rc = mig_error_set(err, MIG_EIO, "%s: fsync: %s", w->name, strerror(errno));
	}
	if (w->own_fd && close(w->fd) < 0 && !rc)
		rc = mig_error_set(err, MIG_EIO, "%s: close: %s", w->name, strerror(errno));
	ZSTD_freeCStream(w->zc);
	free(w->zout);
	mig_buf_free(&w->buf);
	free(w->name);
	free(w);
	return rc;
}
