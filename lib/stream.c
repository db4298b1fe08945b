/*
 * stream.c - NDJSON text <-> records.
 *
 * All record parsing and printing happens here and in mig_value_write(),
 * so that the hot path can be made faster in one place.
 */
#include <errno.h>
#include <math.h>
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

/* ---- a direct JSON parser into json_t ----------------------------------
 *
 * Why not json_loadb: it is the largest single cost of every stage (perf:
 * 35-68% of mig-load, mig-validate and the PostgreSQL loader).  This one
 * reads the line in place, copies a string only when it has escapes,
 * validates UTF-8 only inside strings (anywhere else a non-ASCII byte is a
 * syntax error anyway), and builds values with Jansson's _nocheck calls.
 * Semantics stay Jansson's with JSON_ALLOW_NUL | JSON_REJECT_DUPLICATES,
 * except that an integer beyond int64 or a real beyond double, which
 * Jansson refuses, becomes the exact {"$numberDecimal": "..."} of its text:
 * nothing is lost, and the value keeps its meaning.
 */

#define JP_MAX_DEPTH 2048

struct jp {
	const char *s, *p, *end;
	const char *err;         /* what went wrong; p points at it */
	struct mig_buf tmp;      /* unescaped strings */
	int depth;
};

static json_t *jp_value(struct jp *j);

static json_t *jp_fail(struct jp *j, const char *why)
{
	if (!j->err)
		j->err = why;
	return NULL;
}

static inline void jp_ws(struct jp *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
		j->p++;
}

static int jp_hex4(const char *p, unsigned *out)
{
	unsigned v = 0;
	for (int i = 0; i < 4; i++) {
		unsigned c = (unsigned char)p[i], d;
		if (c >= '0' && c <= '9')
			d = c - '0';
		else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
			d = (c | 0x20) - 'a' + 10;
		else
			return -1;
		v = v << 4 | d;
	}
	*out = v;
	return 0;
}

static void jp_utf8(struct mig_buf *b, unsigned cp)
{
	char u[4];
	size_t n;
	if (cp < 0x80) {
		u[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		u[0] = (char)(0xC0 | cp >> 6);
		u[1] = (char)(0x80 | (cp & 0x3F));
		n = 2;
	} else if (cp < 0x10000) {
		u[0] = (char)(0xE0 | cp >> 12);
		u[1] = (char)(0x80 | (cp >> 6 & 0x3F));
		u[2] = (char)(0x80 | (cp & 0x3F));
		n = 3;
	} else {
		u[0] = (char)(0xF0 | cp >> 18);
		u[1] = (char)(0x80 | (cp >> 12 & 0x3F));
		u[2] = (char)(0x80 | (cp >> 6 & 0x3F));
		u[3] = (char)(0x80 | (cp & 0x3F));
		n = 4;
	}
	mig_buf_append(b, u, n);
}

/* Reads a string at j->p (just past the opening quote).  *out and *len point
 * into the line when it has no escapes, else into j->tmp.  Returns 0 or -1. */
static int jp_string(struct jp *j, const char **out, size_t *len, int *has_nul)
{
	const unsigned char *p = (const unsigned char *)j->p;
	const unsigned char *end = (const unsigned char *)j->end, *run;
	int escaped = 0;

	*has_nul = 0;
	run = p;
	for (;;) {
		while (p < end && *p >= 0x20 && *p != '"' && *p != '\\' && *p < 0x80)
			p++;
		if (p == end) {
			j->p = (const char *)p;
			jp_fail(j, "premature end of input in a string");
			return -1;
		}
		if (*p == '"')
			break;
		if (*p >= 0x80) {
			size_t k = mig_utf8_len(p, end);
			if (!k) {
				j->p = (const char *)p;
				jp_fail(j, "invalid UTF-8");
				return -1;
			}
			p += k;
			continue;
		}
		if (*p < 0x20) {
			j->p = (const char *)p;
			jp_fail(j, "control character in a string");
			return -1;
		}
		/* a backslash: from here on the string is built in tmp */
		if (!escaped) {
			mig_buf_reset(&j->tmp);
			escaped = 1;
		}
		mig_buf_append(&j->tmp, run, (size_t)(p - run));
		if (p + 1 >= end) {
			j->p = (const char *)p;
			jp_fail(j, "premature end of input in a string");
			return -1;
		}
		char c = (char)p[1];
		p += 2;
		switch (c) {
		case '"': mig_buf_putc(&j->tmp, '"'); break;
		case '\\': mig_buf_putc(&j->tmp, '\\'); break;
		case '/': mig_buf_putc(&j->tmp, '/'); break;
		case 'b': mig_buf_putc(&j->tmp, '\b'); break;
		case 'f': mig_buf_putc(&j->tmp, '\f'); break;
		case 'n': mig_buf_putc(&j->tmp, '\n'); break;
		case 'r': mig_buf_putc(&j->tmp, '\r'); break;
		case 't': mig_buf_putc(&j->tmp, '\t'); break;
		case 'u': {
			unsigned cp, lo;
			if (end - p < 4 || jp_hex4((const char *)p, &cp)) {
				j->p = (const char *)p - 2;
				jp_fail(j, "invalid \\u escape");
				return -1;
			}
			p += 4;
			if (cp >= 0xDC00 && cp <= 0xDFFF) {
				j->p = (const char *)p - 6;
				jp_fail(j, "invalid Unicode escape: a lone low surrogate");
				return -1;
			}
			if (cp >= 0xD800 && cp <= 0xDBFF) {
				if (end - p < 6 || p[0] != '\\' || p[1] != 'u' ||
				    jp_hex4((const char *)p + 2, &lo) || lo < 0xDC00 || lo > 0xDFFF) {
					j->p = (const char *)p - 6;
					jp_fail(j, "invalid Unicode escape: a lone high surrogate");
					return -1;
				}
				p += 6;
				cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
			}
			if (cp == 0)
				*has_nul = 1;
			jp_utf8(&j->tmp, cp);
			break;
		}
		default:
			j->p = (const char *)p - 2;
			jp_fail(j, "invalid escape");
			return -1;
		}
		run = p;
	}
	if (escaped) {
		mig_buf_append(&j->tmp, run, (size_t)(p - run));
		*out = j->tmp.data ? j->tmp.data : "";
		*len = j->tmp.len;
	} else {
		*out = j->p;
		*len = (size_t)((const char *)p - j->p);
	}
	j->p = (const char *)p + 1;
	return 0;
}

static int nonzero_mantissa(const char *s, const char *end)
{
	for (; s < end && *s != 'e' && *s != 'E'; s++)
		if (*s >= '1' && *s <= '9')
			return 1;
	return 0;
}

static json_t *jp_number(struct jp *j)
{
	const char *s = j->p, *p = s, *end = j->end;
	int frac = 0;

	if (p < end && *p == '-')
		p++;
	if (p < end && *p == '0') {
		p++;
	} else if (p < end && *p >= '1' && *p <= '9') {
		while (p < end && *p >= '0' && *p <= '9')
			p++;
	} else {
		return jp_fail(j, "invalid token");
	}
	if (p < end && *p == '.') {
		frac = 1;
		p++;
		if (p == end || *p < '0' || *p > '9')
			return jp_fail(j, "invalid number");
		while (p < end && *p >= '0' && *p <= '9')
			p++;
	}
	if (p < end && (*p == 'e' || *p == 'E')) {
		frac = 1;
		p++;
		if (p < end && (*p == '+' || *p == '-'))
			p++;
		if (p == end || *p < '0' || *p > '9')
			return jp_fail(j, "invalid number");
		while (p < end && *p >= '0' && *p <= '9')
			p++;
	}
	size_t n = (size_t)(p - s);
	j->p = p;
	if (!frac) {
		const char *q = s + (*s == '-');
		uint64_t v = 0, lim = *s == '-' ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
		int over = 0;
		for (; q < p; q++) {
			unsigned d = (unsigned)(*q - '0');
			if (v > (lim - d) / 10) {
				over = 1;
				break;
			}
			v = v * 10 + d;
		}
		if (!over)
			return json_integer(*s == '-' ? (json_int_t)(0 - v) : (json_int_t)v);
	} else {
		char small[64], *buf = n < sizeof small ? small : malloc(n + 1);
		double d;
		if (!buf)
			return jp_fail(j, "out of memory");
		memcpy(buf, s, n);
		buf[n] = '\0';
		errno = 0;
		d = strtod(buf, NULL);
		if (buf != small)
			free(buf);
		/* overflow, or a non-zero number that underflows to zero */
		if (!(errno == ERANGE && (d == HUGE_VAL || d == -HUGE_VAL ||
					   (d == 0 && nonzero_mantissa(s, p)))))
			return json_real(d);
	}
	/* too big for int64 or double: keep every digit */
	json_t *dec = json_object();
	json_object_set_new_nocheck(dec, "$numberDecimal", json_stringn_nocheck(s, n));
	return dec;
}

static json_t *jp_object(struct jp *j)
{
	json_t *o = json_object();
	const char *k;
	size_t kn;
	int nul;

	if (!o)
		return jp_fail(j, "out of memory");
	j->p++;
	jp_ws(j);
	if (j->p < j->end && *j->p == '}') {
		j->p++;
		return o;
	}
	for (;;) {
		if (j->p >= j->end || *j->p != '"') {
			jp_fail(j, "string or '}' expected");
			goto fail;
		}
		j->p++;
		const char *kstart = j->p - 1;
		if (jp_string(j, &k, &kn, &nul))
			goto fail;
		if (nul || memchr(k, '\0', kn)) {
			j->p = kstart;
			jp_fail(j, "NUL byte in an object key");
			goto fail;
		}
		if (json_object_getn(o, k, kn)) {
			j->p = kstart;
			jp_fail(j, "duplicate object key");
			goto fail;
		}
		/* k may live in j->tmp, which the value may overwrite: copy it
		 * while it is short-lived only when it was unescaped */
		char kbuf[128], *kcopy = NULL;
		if (k == j->tmp.data) {
			kcopy = kn < sizeof kbuf ? kbuf : malloc(kn + 1);
			if (!kcopy) {
				jp_fail(j, "out of memory");
				goto fail;
			}
			memcpy(kcopy, k, kn);
			k = kcopy;
		}
		jp_ws(j);
		if (j->p >= j->end || *j->p != ':') {
			if (kcopy && kcopy != kbuf)
				free(kcopy);
			jp_fail(j, "':' expected");
			goto fail;
		}
		j->p++;
		jp_ws(j);
		json_t *v = jp_value(j);
		if (v)
			json_object_setn_new_nocheck(o, k, kn, v);
		if (kcopy && kcopy != kbuf)
			free(kcopy);
		if (!v)
			goto fail;
		jp_ws(j);
		if (j->p < j->end && *j->p == ',') {
			j->p++;
			jp_ws(j);
			continue;
		}
		if (j->p < j->end && *j->p == '}') {
			j->p++;
			return o;
		}
		jp_fail(j, "',' or '}' expected");
		goto fail;
	}
fail:
	json_decref(o);
	return NULL;
}

static json_t *jp_array(struct jp *j)
{
	json_t *a = json_array();

	if (!a)
		return jp_fail(j, "out of memory");
	j->p++;
	jp_ws(j);
	if (j->p < j->end && *j->p == ']') {
		j->p++;
		return a;
	}
	for (;;) {
		json_t *v = jp_value(j);
		if (!v || json_array_append_new(a, v)) {
			json_decref(a);
			return jp_fail(j, "out of memory");
		}
		jp_ws(j);
		if (j->p < j->end && *j->p == ',') {
			j->p++;
			jp_ws(j);
			continue;
		}
		if (j->p < j->end && *j->p == ']') {
			j->p++;
			return a;
		}
		json_decref(a);
		return jp_fail(j, "',' or ']' expected");
	}
}

static json_t *jp_value(struct jp *j)
{
	json_t *v;

	if (j->p >= j->end)
		return jp_fail(j, "premature end of input");
	switch (*j->p) {
	case '{':
	case '[':
		if (++j->depth > JP_MAX_DEPTH)
			return jp_fail(j, "nesting deeper than 2048 levels");
		v = *j->p == '{' ? jp_object(j) : jp_array(j);
		j->depth--;
		return v;
	case '"': {
		const char *s;
		size_t n;
		int nul;
		j->p++;
		if (jp_string(j, &s, &n, &nul))
			return NULL;
		v = json_stringn_nocheck(s, n);
		return v ? v : jp_fail(j, "out of memory");
	}
	case 't':
		if (j->end - j->p >= 4 && memcmp(j->p, "true", 4) == 0) {
			j->p += 4;
			return json_true();
		}
		break;
	case 'f':
		if (j->end - j->p >= 5 && memcmp(j->p, "false", 5) == 0) {
			j->p += 5;
			return json_false();
		}
		break;
	case 'n':
		if (j->end - j->p >= 4 && memcmp(j->p, "null", 4) == 0) {
			j->p += 4;
			return json_null();
		}
		break;
	default:
		if (*j->p == '-' || (*j->p >= '0' && *j->p <= '9')) {
			v = jp_number(j);
			return v || j->err ? v : jp_fail(j, "out of memory");
		}
		break;
	}
	return jp_fail(j, "invalid token");
}

/* Parses [s, s + n) as one JSON value.  On failure returns NULL with *why
 * and *col (1-based byte column) set. */
static json_t *jp_parse(const char *s, size_t n, const char **why, size_t *col)
{
	static __thread struct mig_buf tmp;   /* kept across lines: no malloc per string */
	struct jp j = { .s = s, .p = s, .end = s + n, .tmp = tmp };
	json_t *v;

	if (!j.tmp.max)
		mig_buf_init(&j.tmp, 0);
	jp_ws(&j);
	v = jp_value(&j);
	if (v) {
		jp_ws(&j);
		if (j.p != j.end) {
			json_decref(v);
			v = NULL;
			jp_fail(&j, "end of input expected");
		}
	}
	tmp = j.tmp;
	if (!v) {
		*why = j.err ? j.err : "invalid JSON";
		*col = (size_t)(j.p - s) + 1;
	}
	return v;
}

/* One JSON value from [s, s + n): the reason without a place, so that
 * callers can say where the text came from. */
static int parse_text(json_t **out, const char *s, size_t n, struct mig_error *err)
{
	const char *why;
	size_t col;

	*out = jp_parse(s, n, &why, &col);
	if (*out)
		return 0;
	size_t bad = bad_utf8((const unsigned char *)s, n);
	if (bad)
		return mig_error_set(err, MIG_EDATA, "invalid UTF-8 (byte 0x%02x at column %zu)",
				     (unsigned char)s[bad - 1], bad);
	return mig_error_set(err, MIG_EDATA, "invalid JSON: %s (column %zu)", why, col);
}

static int parse(json_t **out, const struct mig_line *line, const char *name, int any,
		 struct mig_error *err)
{
	const char *nul;
	json_t *v;
	int rc;

	*out = NULL;
	nul = memchr(line->data, '\0', line->len);
	if (nul)
		return mig_error_set(err, MIG_EDATA, "%s:%llu: NUL byte in the line (column %zu)",
				     name, (unsigned long long)line->lineno,
				     (size_t)(nul - line->data) + 1);
	if ((rc = parse_text(&v, line->data, line->len, err))) {
		if (err)
			mig_error_prefix(err, "%s:%llu", name, (unsigned long long)line->lineno);
		return rc;
	}
	if (!any && !json_is_object(v)) {
		rc = mig_error_set(err, MIG_EDATA, "%s:%llu: not a JSON object (%s)", name,
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

int mig_value_parse_text(json_t **out, const char *s, size_t n, struct mig_error *err)
{
	const char *nul = memchr(s, '\0', n);

	*out = NULL;
	if (nul)
		return mig_error_set(err, MIG_EDATA, "NUL byte in the text (column %zu)",
				     (size_t)(nul - s) + 1);
	return parse_text(out, s, n, err);
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
