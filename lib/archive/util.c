/* util.c - SHA-256, file plumbing, locators and times for lib/archive/. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "archive_int.h"

/* ---- SHA-256 ---------------------------------------------------------------- */

int mig_sha256_init(struct mig_sha256 *h, struct mig_error *err)
{
	h->ctx = EVP_MD_CTX_new();
	if (!h->ctx || EVP_DigestInit_ex(h->ctx, EVP_sha256(), NULL) != 1) {
		mig_sha256_free(h);
		return mig_error_set(err, MIG_ENOMEM, "sha256: cannot initialise libcrypto's digest");
	}
	return 0;
}

void mig_sha256_update(struct mig_sha256 *h, const void *p, size_t n)
{
	if (n)
		EVP_DigestUpdate(h->ctx, p, n);
}

void mig_sha256_final(struct mig_sha256 *h, char hex[65])
{
	static const char digits[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	EVP_DigestFinal_ex(h->ctx, md, &n);
	for (unsigned i = 0; i < 32; i++) {
		hex[2 * i] = digits[md[i] >> 4];
		hex[2 * i + 1] = digits[md[i] & 15];
	}
	hex[64] = '\0';
	mig_sha256_free(h);
}

void mig_sha256_free(struct mig_sha256 *h)
{
	EVP_MD_CTX_free(h->ctx);
	h->ctx = NULL;
}

int mig_sha256_hex(const void *p, size_t n, char hex[65], struct mig_error *err)
{
	struct mig_sha256 h;
	int rc = mig_sha256_init(&h, err);

	if (rc)
		return rc;
	mig_sha256_update(&h, p, n);
	mig_sha256_final(&h, hex);
	return 0;
}

/* ---- files ------------------------------------------------------------------- */

int mig_io_write_all(int fd, const void *p, size_t n, const char *name, struct mig_error *err)
{
	const char *c = p;

	while (n) {
		ssize_t k = write(fd, c, n);
		if (k < 0) {
			if (errno == EINTR && !mig_interrupted)
				continue;
			if (errno == EINTR)
				return mig_error_set(err, MIG_EINTR, "%s: interrupted", name);
			if (errno == EPIPE)
				return mig_error_set(err, MIG_EPIPE, "%s: the reader went away", name);
			return mig_error_set(err, MIG_EIO, "%s: write: %s", name, strerror(errno));
		}
		c += k;
		n -= (size_t)k;
	}
	return 0;
}

int mig_io_pread_all(int fd, void *p, size_t n, uint64_t off, const char *name,
		     struct mig_error *err)
{
	char *c = p;

	while (n) {
		ssize_t k = pread(fd, c, n, (off_t)off);
		if (k < 0 && errno == EINTR && !mig_interrupted)
			continue;
		if (k < 0)
			return mig_error_set(err, errno == EINTR ? MIG_EINTR : MIG_EIO, "%s: read: %s",
					     name, strerror(errno));
		if (k == 0)
			return mig_error_set(err, MIG_ECORRUPT, "%s: corrupt: truncated at offset %llu",
					     name, (unsigned long long)off);
		c += k;
		n -= (size_t)k;
		off += (uint64_t)k;
	}
	return 0;
}

int mig_io_copy(int in, uint64_t off, uint64_t len, int out, const char *name,
		struct mig_error *err)
{
	static const size_t chunk = (size_t)1 << 20;
	off_t o = (off_t)off;
	char *buf = NULL;
	int rc = 0;

	/* sendfile: file to file or to a pipe without a trip through user
	 * space; the spool is read back once, at disk speed */
	while (len) {
		ssize_t k = sendfile(out, in, &o, len < chunk * 64 ? (size_t)len : chunk * 64);
		if (k < 0 && errno == EINTR && !mig_interrupted)
			continue;
		if (k < 0 && (errno == EINVAL || errno == ENOSYS))
			break;                   /* not for this pair: copy below */
		if (k < 0 && errno == EPIPE)
			return mig_error_set(err, MIG_EPIPE, "%s: the reader went away", name);
		if (k < 0)
			return mig_error_set(err, errno == EINTR ? MIG_EINTR : MIG_EIO, "%s: write: %s",
					     name, strerror(errno));
		if (k == 0)
			return mig_error_set(err, MIG_EIO, "%s: the spool file is short", name);
		len -= (uint64_t)k;
	}
	if (!len)
		return 0;
	buf = malloc(chunk);
	if (!buf)
		return mig_error_set(err, MIG_ENOMEM, "out of memory");
	while (len && !rc) {
		size_t n = len < chunk ? (size_t)len : chunk;
		rc = mig_io_pread_all(in, buf, n, (uint64_t)o, name, err);
		if (!rc)
			rc = mig_io_write_all(out, buf, n, name, err);
		o += (off_t)n;
		len -= n;
	}
	free(buf);
	return rc;
}

int mig_io_tmpfile(int *fd, const char *dir, struct mig_error *err)
{
	const char *d = dir ? dir : getenv("TMPDIR");
	char *path;
	size_t n;

	if (!d || !*d)
		d = "/tmp";
	n = strlen(d) + 32;
	path = malloc(n);
	if (!path)
		return mig_error_set(err, MIG_ENOMEM, "out of memory");
	snprintf(path, n, "%s/.mig-spool.XXXXXX", d);
	*fd = mkostemp(path, O_CLOEXEC);
	if (*fd < 0) {
		int rc = mig_error_set(err, MIG_EIO, "%s: cannot make a temporary file: %s", d,
				       strerror(errno));
		free(path);
		return rc;
	}
	/* unlinked at once: a crash leaves nothing behind */
	unlink(path);
	free(path);
	return 0;
}

char *mig_io_dirname(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		return strdup(".");
	if (slash == path)
		return strdup("/");
	return strndup(path, (size_t)(slash - path));
}

int mig_io_sync_dir(const char *dir, struct mig_error *err)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc = 0;

	if (fd < 0)
		return mig_error_set(err, MIG_EIO, "%s: %s", dir, strerror(errno));
	if (fsync(fd) < 0 && errno != EINVAL)
		rc = mig_error_set(err, MIG_EIO, "%s: fsync: %s", dir, strerror(errno));
	close(fd);
	return rc;
}

/* ---- locators ------------------------------------------------------------------ */

int mig_archive_locator(struct mig_locator **out, const struct mig_locator *base,
			const char *name, struct mig_error *err)
{
	struct mig_locator *l = calloc(1, sizeof *l);
	int file = strcmp(base->scheme, "file") == 0;
	char *red = NULL;

	*out = NULL;
	if (!l)
		return mig_error_set(err, MIG_ENOMEM, "out of memory");
	l->scheme = strdup(base->scheme);
	l->uri = strdup(base->uri);
	l->path = base->path ? strdup(base->path) : NULL;
	l->tls = base->tls;
	if (file) {
		l->redacted = strdup(base->redacted);
	} else {
		red = mig_redact(base->uri);
		if (red && name) {
			size_t a = strlen(red), b = strlen(name);
			l->redacted = malloc(a + b + 2);
			if (l->redacted)
				snprintf(l->redacted, a + b + 2, "%s#%s", red, name);
			l->collection = strdup(name);
		} else if (red) {
			l->redacted = red;
			red = NULL;
		}
	}
	free(red);
	if (!l->scheme || !l->uri || (base->path && !l->path) || !l->redacted ||
	    (!file && name && !l->collection)) {
		mig_locator_free(l);
		return mig_error_set(err, MIG_ENOMEM, "out of memory");
	}
	*out = l;
	return 0;
}

/* ---- times ------------------------------------------------------------------------ */

void mig_archive_time(char *out, int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int64_t mig_archive_time_parse(const char *s)
{
	struct tm tm = { 0 };
	const char *end;

	if (!s)
		return -1;
	end = strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (!end || *end)
		return -1;
	return (int64_t)timegm(&tm);
}
