/*
 * relax.c - an archive member as relaxed NDJSON, made in a thread of its
 * own: decompressed, its canonical number wrappers rewritten as text, and
 * handed to mig_load_run() through a pipe.
 *
 * Why: the archive is canonical Extended JSON so that int32, int64 and
 * double stay apart, but every {"$numberLong":"7"} is one more Jansson
 * object (a hash table) to build and free.  Loading the 1M-row table of
 * tests/bench/backup into PostgreSQL took 22.0 s of CPU from the
 * canonical text and 12.7 s from the same records in relaxed form.  Only
 * a BSON store (MongoDB) keeps int32 apart from int64; for every other
 * backend the two forms load the same values, so restore rewrites the
 * wrappers before parsing - as text, without building values, at about
 * a GB/s - and decompresses in this second thread meanwhile.
 *
 * The rewrite is exact and conservative: outside JSON strings,
 *   {"$numberInt":"N"}, {"$numberLong":"N"}   -> N      (at most 18 digits)
 *   {"$numberDouble":"X"}                      -> X      (X a finite number
 *                                                        with '.', 'e' or 'E')
 *   {"$date":{"$numberLong":"MS"}}             -> {"$date":"ISO-8601"}
 * Anything else, a NaN or a 19-digit long among them, is left as it is for
 * the parser.  This thread touches no json_t: Jansson's allocator is not
 * thread-safe.
 *
 * PostgreSQL's loader converts these wrappers from the text itself
 * (fast_record in pg.c), so for it the thread only decompresses: the
 * rewrite and its copy of the text cost restore more than they saved
 * (issue 8); MongoDB's takes the canonical text as it is.
 *
 * The thread also checks the text against the manifest as it goes by -
 * its size, its lines and its SHA-256 - and says so before it closes the
 * pipe, so that the loader, at the end of its input, can ask
 * (mig_relax_wait) before it commits the last batch.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zstd.h>

#include "archive_int.h"
#include "mig/value.h"

static size_t digits_at(const char *p, const char *e, int neg_ok)
{
	const char *q = p;

	if (neg_ok && q < e && *q == '-')
		q++;
	const char *d = q;
	while (q < e && *q >= '0' && *q <= '9')
		q++;
	return q > d ? (size_t)(q - p) : 0;
}

static int has_prefix(const char *p, const char *e, const char *s, size_t n)
{
	return (size_t)(e - p) >= n && memcmp(p, s, n) == 0;
}

/* At p (a '{' outside a string): the rewritten text into out, and the
 * length of what it replaces; 0 when p starts no wrapper we rewrite. */
static size_t wrapper(const char *p, const char *e, char *out, size_t *outn)
{
	static const char ki[] = "{\"$numberInt\":\"", kl[] = "{\"$numberLong\":\"";
	static const char kd[] = "{\"$numberDouble\":\"", kt[] = "{\"$date\":{\"$numberLong\":\"";
	const char *v;
	size_t n;

	if (has_prefix(p, e, ki, sizeof ki - 1) || has_prefix(p, e, kl, sizeof kl - 1)) {
		v = p + (p[9] == 'I' ? sizeof ki - 1 : sizeof kl - 1);
		n = digits_at(v, e, 1);
		if (!n || n > 18 || !has_prefix(v + n, e, "\"}", 2))
			return 0;
		memcpy(out, v, n);
		*outn = n;
		return (size_t)(v + n + 2 - p);
	}
	if (has_prefix(p, e, kd, sizeof kd - 1)) {
		int frac = 0;
		v = p + sizeof kd - 1;
		for (n = 0; v + n < e && strchr("0123456789-+.eE", v[n]) && v[n]; n++)
			frac |= v[n] == '.' || v[n] == 'e' || v[n] == 'E';
		if (!n || !frac || n > 40 || !has_prefix(v + n, e, "\"}", 2))
			return 0;
		memcpy(out, v, n);
		*outn = n;
		return (size_t)(v + n + 2 - p);
	}
	if (has_prefix(p, e, kt, sizeof kt - 1)) {
		char num[24];
		long long ms;
		size_t dn;
		v = p + sizeof kt - 1;
		dn = digits_at(v, e, 1);
		if (!dn || dn > 15 || !has_prefix(v + dn, e, "\"}}", 3)) {
			/* not ours to rewrite, and neither is the $numberLong in
			 * it ({"$date": 0} would be another thing): pass the head
			 * as it is, up to the quote that opens the string */
			memcpy(out, p, sizeof kt - 2);
			*outn = sizeof kt - 2;
			return *outn;
		}
		memcpy(num, v, dn);
		num[dn] = '\0';
		ms = strtoll(num, NULL, 10);
		{
			char iso[48];
			size_t il = (size_t)mig_date_format(iso, (int64_t)ms * 1000);
			size_t span = (size_t)(v + dn + 3 - p);
			if (12 + il > span) {
				/* the ISO form would be longer: keep the text */
				memcpy(out, p, span);
				*outn = span;
				return span;
			}
			memcpy(out, "{\"$date\":\"", 10);
			memcpy(out + 10, iso, il);
			memcpy(out + 10 + il, "\"}", 2);
			*outn = 12 + il;
		}
		return (size_t)(v + dn + 3 - p);
	}
	return 0;
}

size_t mig_relax_text(char *out, const char *p, size_t n)
{
	const char *e = p + n;
	char *o = out;
	int in_str = 0;

	while (p < e) {
		if (in_str) {
			/* to the closing quote, stepping over escapes */
			const char *q = p;
			while (q < e && *q != '"' && *q != '\\')
				q++;
			memmove(o, p, (size_t)(q - p));
			o += q - p;
			p = q;
			if (p == e)
				break;
			if (*p == '\\') {
				*o++ = *p++;
				if (p < e)
					*o++ = *p++;
				continue;
			}
			*o++ = *p++;
			in_str = 0;
			continue;
		}
		if (*p == '"') {
			in_str = 1;
			*o++ = *p++;
			continue;
		}
		if (*p == '{') {
			char tmp[64];
			size_t tn = 0, used = wrapper(p, e, tmp, &tn);
			if (used) {
				memcpy(o, tmp, tn);
				o += tn;
				p += used;
				continue;
			}
		}
		if (*p == '\n')
			in_str = 0;   /* a new record */
		*o++ = *p++;
	}
	return (size_t)(o - out);
}

/* ---- the thread ---------------------------------------------------------- */

struct mig_relax {
	pthread_t th;
	int started;
	int fd;                    /* the archive */
	const struct mig_archive_coll *c;   /* the member, and what the manifest says of it */
	uint64_t off, len;
	int relax;                 /* rewrite the wrappers (else pass the text) */
	int out;                   /* the pipe's write end (the thread closes it) */
	size_t max_line;
	struct mig_sha256 h;       /* of the decompressed text */
	uint64_t bytes, lines;
	char last;
	int rc;
	char msg[256];
};

/* The decompressed text [p, p + n), checked as it goes by. */
static void tally(struct mig_relax *R, const char *p, size_t n)
{
	if (!n)
		return;
	mig_sha256_update(&R->h, p, n);
	R->bytes += n;
	for (const char *q = p, *e = p + n; (q = memchr(q, '\n', (size_t)(e - q))) != NULL; q++)
		R->lines++;
	R->last = p[n - 1];
}

/* At the end of the member: its size, lines and SHA-256 against the
 * manifest, as mig_archive_verify() checks them. */
static void judge(struct mig_relax *R)
{
	const struct mig_archive_coll *c = R->c;
	char sha[65];

	mig_sha256_final(&R->h, sha);
	if (R->bytes != c->bytes || (R->bytes && R->last != '\n')) {
		R->rc = MIG_ECORRUPT;
		snprintf(R->msg, sizeof R->msg, "corrupt: %s (collection %.80s) holds %llu bytes, "
			 "the manifest says %llu", c->data, c->name, (unsigned long long)R->bytes,
			 (unsigned long long)c->bytes);
	} else if (R->lines != c->records) {
		R->rc = MIG_ECORRUPT;
		snprintf(R->msg, sizeof R->msg, "corrupt: %s (collection %.80s) holds %llu records, "
			 "the manifest says %llu", c->data, c->name, (unsigned long long)R->lines,
			 (unsigned long long)c->records);
	} else if (strcmp(sha, c->sha256)) {
		R->rc = MIG_ECORRUPT;
		snprintf(R->msg, sizeof R->msg, "corrupt: %s (collection %.80s): SHA-256 mismatch "
			 "(%.12s..., the manifest says %.12s...)", c->data, c->name, sha, c->sha256);
	}
}

static int pump_write(struct mig_relax *R, const char *p, size_t n)
{
	while (n) {
		ssize_t k = write(R->out, p, n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			/* EPIPE: the loader stopped reading, and says why itself */
			R->rc = errno == EPIPE ? MIG_EPIPE : MIG_EIO;
			snprintf(R->msg, sizeof R->msg, "pipe: %s", strerror(errno));
			return -1;
		}
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

static int grow(char **buf, char **out, size_t *cap)
{
	char *nb = realloc(*buf, *cap * 2), *no;

	if (!nb)
		return -1;
	*buf = nb;
	no = realloc(*out, *cap * 2);
	if (!no)
		return -1;
	*out = no;
	*cap *= 2;
	return 0;
}

static void *pump(void *arg)
{
	struct mig_relax *R = arg;
	const size_t inc = ZSTD_DStreamInSize(), chunk = (size_t)1 << 20;
	ZSTD_DCtx *zd = ZSTD_createDCtx();
	char *in = malloc(inc), *buf = malloc(4 * chunk), *out = malloc(4 * chunk);
	size_t cap = 4 * chunk, len = 0;   /* buf: decompressed text not yet sent */
	size_t zret = 1;
	uint64_t off = 0;
	ZSTD_inBuffer ib = { in, 0, 0 };
	int full = 0;                      /* zstd filled the buffer: it may hold more */
	int skipping = 0;                  /* in a line too long to hold: passed as it is */

	if (!zd || !in || !buf || !out) {
		R->rc = MIG_ENOMEM;
		snprintf(R->msg, sizeof R->msg, "out of memory");
		goto out;
	}
	for (;;) {
		const char *nl;
		size_t whole;
		int done;

		if (len < cap) {
			if (ib.pos == ib.size && off < R->len) {
				size_t n = R->len - off < inc ? (size_t)(R->len - off) : inc;
				ssize_t k;
				do
					k = pread(R->fd, in, n, (off_t)(R->off + off));
				while (k < 0 && errno == EINTR);
				if (k <= 0) {
					R->rc = k < 0 ? MIG_EIO : MIG_ECORRUPT;
					snprintf(R->msg, sizeof R->msg, "%s: %s", R->c->data,
						 k < 0 ? strerror(errno) : "corrupt: the member is short");
					goto out;
				}
				off += (uint64_t)k;
				ib.size = (size_t)k;
				ib.pos = 0;
			}
			if (ib.pos < ib.size || full) {
				ZSTD_outBuffer ob = { buf + len, cap - len, 0 };
				zret = ZSTD_decompressStream(zd, &ob, &ib);
				if (ZSTD_isError(zret)) {
					R->rc = MIG_ECORRUPT;
					snprintf(R->msg, sizeof R->msg, "corrupt: %s (collection %.80s): "
						 "zstd: %s", R->c->data, R->c->name,
						 ZSTD_getErrorName(zret));
					goto out;
				}
				tally(R, buf + len, ob.pos);
				len += ob.pos;
				full = ob.pos == ob.size;
			}
		}
		done = ib.pos == ib.size && off == R->len && !full;
		if (done && zret != 0 && R->len) {
			R->rc = MIG_ECORRUPT;
			snprintf(R->msg, sizeof R->msg, "corrupt: %s (collection %.80s): truncated "
				 "zstd frame", R->c->data, R->c->name);
			goto out;
		}
		/* the whole lines go; a partial one waits for its end */
		nl = len ? memrchr(buf, '\n', len) : NULL;
		whole = nl ? (size_t)(nl - buf) + 1 : 0;
		if (done && !whole)
			whole = len;
		if (skipping && whole) {
			/* the rest of an over-long line, as it is */
			const char *first = memchr(buf, '\n', whole);
			size_t t = first ? (size_t)(first - buf) + 1 : whole;
			if (pump_write(R, buf, t))
				goto out;
			memmove(buf, buf + t, len - t);
			len -= t;
			whole -= t;
			skipping = !first;
		}
		if (whole) {
			if (R->relax) {
				size_t m = mig_relax_text(out, buf, whole);
				if (pump_write(R, out, m))
					goto out;
			} else if (pump_write(R, buf, whole)) {
				goto out;
			}
			memmove(buf, buf + whole, len - whole);
			len -= whole;
		} else if (len == cap) {
			/* a line longer than the buffer: grow to --max-line, then
			 * pass the line through for the loader to reject */
			if (cap >= R->max_line + chunk) {
				if (pump_write(R, buf, len))
					goto out;
				len = 0;
				skipping = 1;
			} else if (grow(&buf, &out, &cap)) {
				R->rc = MIG_ENOMEM;
				snprintf(R->msg, sizeof R->msg, "out of memory");
				goto out;
			}
		}
		if (done && !len) {
			judge(R);   /* before the pipe closes: the reader's EOF is the verdict */
			break;
		}
	}
out:
	close(R->out);
	R->out = -1;
	ZSTD_freeDCtx(zd);
	free(in);
	free(buf);
	free(out);
	return NULL;
}

int mig_relax_start(struct mig_relax **out, int *rfd, int fd, const struct mig_archive_coll *c,
		    int relax, size_t max_line, struct mig_error *err)
{
	struct mig_relax *R = calloc(1, sizeof *R);
	int p[2];

	*out = NULL;
	*rfd = -1;
	if (!R)
		return mig_error_set(err, MIG_ENOMEM, "out of memory");
	if (mig_sha256_init(&R->h, err)) {
		free(R);
		return err->code;
	}
	if (pipe2(p, O_CLOEXEC) < 0) {
		mig_sha256_free(&R->h);
		free(R);
		return mig_error_set(err, MIG_EIO, "pipe: %s", strerror(errno));
	}
	R->fd = fd;
	R->c = c;
	R->off = c->data_offset;
	R->len = c->data_size;
	R->relax = relax;
	R->out = p[1];
	R->max_line = max_line ? max_line : (size_t)64 << 20;
	if (pthread_create(&R->th, NULL, pump, R)) {
		close(p[0]);
		close(p[1]);
		mig_sha256_free(&R->h);
		free(R);
		return mig_error_set(err, MIG_ENOMEM, "cannot start a thread");
	}
	R->started = 1;
	*rfd = p[0];
	*out = R;
	return 0;
}

int mig_relax_wait(struct mig_relax *R, const char *what, struct mig_error *err)
{
	if (R->started) {
		pthread_join(R->th, NULL);
		R->started = 0;
	}
	if (R->rc && R->rc != MIG_EPIPE)
		return mig_error_set(err, R->rc, "%s: %s", what, R->msg);
	return 0;
}

int mig_relax_finish(struct mig_relax *R, int rfd, const char *what, struct mig_error *err)
{
	int rc;

	if (rfd >= 0)
		close(rfd);     /* a thread still writing gets EPIPE and ends */
	if (!R)
		return 0;
	rc = mig_relax_wait(R, what, err);
	mig_sha256_free(&R->h);
	free(R);
	return rc;
}
