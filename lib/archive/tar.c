/*
 * tar.c - the POSIX tar (ustar + pax) that mig-archive(5) is, and the
 * member names in it.
 *
 * Only what mig-backup writes is written: regular files, mode 0644, owner
 * 0/0 without names, the manifest's time as mtime, so that an archive is a
 * function of its content and time.  A name that fits ustar's 100-byte
 * name field, or splits at a '/' into a 155-byte prefix and a 100-byte
 * name, goes there; a longer one, or a size of 8 GiB or more, gets a pax
 * 'x' header first (POSIX.1-2001), which GNU tar, bsdtar and Python's
 * tarfile all read.  No record padding to 10240 bytes: readers do not
 * need it, and it would only add bytes.
 *
 * Reading returns every header as it is, after checking what a tar reader
 * checks (the header checksum, numbers, that the data is there); what a
 * member may be is decided by the caller (reader.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "archive_int.h"

/* ustar header fields: offset, width */
#define F_NAME 0, 100
#define F_MODE 100, 8
#define F_UID 108, 8
#define F_GID 116, 8
#define F_SIZE 124, 12
#define F_MTIME 136, 12
#define F_CHKSUM 148, 8
#define F_TYPE 156
#define F_MAGIC 257, 6
#define F_VERSION 263, 2
#define F_PREFIX 345, 155

#define OCTAL_SIZE_MAX 077777777777ULL   /* 11 octal digits */

/* ---- names --------------------------------------------------------------- */

static int plain_byte(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '_' || c == '-';
}

char *mig_archive_encode(const char *name)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = 0;
	char *out, *q;

	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		n += plain_byte(*p) ? 1 : 3;
	out = malloc(n + 1);
	if (!out)
		return NULL;
	q = out;
	for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
		if (plain_byte(*p)) {
			*q++ = (char)*p;
		} else {
			*q++ = '%';
			*q++ = hex[*p >> 4];
			*q++ = hex[*p & 15];
		}
	}
	*q = '\0';
	return out;
}

int mig_archive_name_safe(const char *m)
{
	size_t n = strlen(m);

	if (n == 0 || n > ARCHIVE_NAME_MAX || m[0] == '/')
		return 0;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)m[i] < 0x21 || (unsigned char)m[i] > 0x7e || m[i] == '\\')
			return 0;
	for (const char *c = m; c; ) {
		const char *slash = strchr(c, '/');
		size_t len = slash ? (size_t)(slash - c) : strlen(c);
		if (len == 0 || (len == 1 && c[0] == '.') || (len == 2 && c[0] == '.' && c[1] == '.'))
			return 0;
		c = slash ? slash + 1 : NULL;
	}
	return 1;
}

/* ---- writing ------------------------------------------------------------- */

static void put_octal(char *h, size_t off, size_t width, uint64_t v)
{
	/* width - 1 digits, zero-padded, then a NUL */
	char tmp[32];

	snprintf(tmp, sizeof tmp, "%0*llo", (int)(width - 1), (unsigned long long)v);
	memcpy(h + off, tmp, width - 1);
	h[off + width - 1] = '\0';
}

static void put_str(char *h, size_t off, size_t width, const char *s, size_t n)
{
	memcpy(h + off, s, n < width ? n : width);
}

static void put_checksum(char *h)
{
	unsigned sum = 0;
	char tmp[16];

	memset(h + 148, ' ', 8);
	for (size_t i = 0; i < TAR_BLOCK; i++)
		sum += (unsigned char)h[i];
	snprintf(tmp, sizeof tmp, "%06o", sum);
	memcpy(h + 148, tmp, 6);
	h[154] = '\0';
	h[155] = ' ';
}

static void ustar_block(char *h, const char *name, size_t nlen, const char *prefix,
			size_t plen, uint64_t size, int64_t mtime, char type)
{
	memset(h, 0, TAR_BLOCK);
	put_str(h, F_NAME, name, nlen);
	put_octal(h, F_MODE, 0644);
	put_octal(h, F_UID, 0);
	put_octal(h, F_GID, 0);
	put_octal(h, F_SIZE, size > OCTAL_SIZE_MAX ? 0 : size);
	put_octal(h, F_MTIME, mtime < 0 ? 0 : (uint64_t)mtime);
	h[F_TYPE] = type;
	memcpy(h + 257, "ustar", 6);      /* with its NUL */
	memcpy(h + 263, "00", 2);
	if (plen)
		put_str(h, F_PREFIX, prefix, plen);
	put_checksum(h);
}

/* Appends one pax record "LEN key=value\n", whose LEN counts itself. */
static int pax_record(struct mig_buf *b, const char *key, const char *value)
{
	size_t body = strlen(key) + strlen(value) + 3;   /* ' ', '=', '\n' */
	size_t len = body + 1, digits;

	for (;;) {
		char tmp[24];
		digits = (size_t)snprintf(tmp, sizeof tmp, "%zu", len);
		if (digits + body == len)
			break;
		len = digits + body;
	}
	return mig_buf_printf(b, "%zu %s=%s\n", len, key, value);
}

int mig_tar_header(struct mig_buf *b, const char *name, uint64_t size, int64_t mtime)
{
	size_t n = strlen(name), split = 0;
	int fits = n <= 100;
	int rc;

	if (!fits && n <= 256) {
		/* ustar's prefix: split at a '/' with at most 155 bytes before
		 * it and 1 to 100 after */
		for (size_t i = n; i-- > 0;)
			if (name[i] == '/' && i <= 155 && n - i - 1 <= 100 && n - i - 1 > 0) {
				split = i;
				fits = 1;
				break;
			}
	}
	if (!fits || size > OCTAL_SIZE_MAX) {
		struct mig_buf pax;
		char h[TAR_BLOCK], hname[101];
		const char *base = strrchr(name, '/');

		mig_buf_init(&pax, 0);
		rc = 0;
		if (!fits)
			rc = pax_record(&pax, "path", name);
		if (!rc && size > OCTAL_SIZE_MAX) {
			char num[24];
			snprintf(num, sizeof num, "%llu", (unsigned long long)size);
			rc = pax_record(&pax, "size", num);
		}
		if (rc) {
			mig_buf_free(&pax);
			return MIG_ENOMEM;
		}
		snprintf(hname, sizeof hname, "PaxHeaders/%.80s", base ? base + 1 : name);
		ustar_block(h, hname, strlen(hname), NULL, 0, pax.len, mtime, 'x');
		rc = mig_buf_append(b, h, TAR_BLOCK);
		if (!rc)
			rc = mig_buf_append(b, pax.data, pax.len);
		if (!rc) {
			static const char zeros[TAR_BLOCK];
			rc = mig_buf_append(b, zeros, mig_tar_padding(pax.len));
		}
		mig_buf_free(&pax);
		if (rc)
			return MIG_ENOMEM;
	}
	{
		char h[TAR_BLOCK];
		if (!fits)
			ustar_block(h, name, 100, NULL, 0, size, mtime, '0');
		else if (split)
			ustar_block(h, name + split + 1, n - split - 1, name, split, size, mtime, '0');
		else
			ustar_block(h, name, n, NULL, 0, size, mtime, '0');
		return mig_buf_append(b, h, TAR_BLOCK) ? MIG_ENOMEM : 0;
	}
}

/* ---- reading ------------------------------------------------------------- */

const char *mig_tar_type_name(char type)
{
	switch (type) {
	case '0': case '\0': return "a regular file";
	case '1': return "a hard link";
	case '2': return "a symbolic link";
	case '3': return "a character device";
	case '4': return "a block device";
	case '5': return "a directory";
	case '6': return "a FIFO";
	case '7': return "a contiguous file";
	case 'g': return "a pax global header";
	case 'x': return "a pax header";
	case 'L': case 'K': return "a GNU long-name header";
	default: return "a member of unknown type";
	}
}

/* A numeric field: octal digits (leading spaces or zeros, ending at a NUL
 * or space), or GNU's base-256 (high bit of the first byte). */
static int get_number(const char *h, size_t off, size_t width, uint64_t *out)
{
	const unsigned char *p = (const unsigned char *)h + off;
	uint64_t v = 0;
	size_t i = 0;

	if (p[0] & 0x80) {
		if (p[0] != 0x80)
			return -1;           /* negative, or more than 64 bits */
		for (i = 1; i < width; i++) {
			if (v >> 56)
				return -1;
			v = v << 8 | p[i];
		}
		*out = v;
		return 0;
	}
	while (i < width && p[i] == ' ')
		i++;
	size_t digits = 0;
	for (; i < width && p[i] >= '0' && p[i] <= '7'; i++, digits++) {
		if (v >> 61)
			return -1;
		v = v << 3 | (uint64_t)(p[i] - '0');
	}
	if (!digits)
		return -1;
	for (; i < width; i++)
		if (p[i] != ' ' && p[i] != '\0')
			return -1;
	*out = v;
	return 0;
}

static int all_zero(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return 0;
	return 1;
}

static int checksum_ok(const char *h)
{
	uint64_t stored;
	unsigned sum = 0;

	if (get_number(h, F_CHKSUM, &stored))
		return 0;
	for (size_t i = 0; i < TAR_BLOCK; i++)
		sum += (i >= 148 && i < 156) ? ' ' : (unsigned char)h[i];
	return stored == sum;
}

/* The pax records of [p, p + n): path and size; other keys are passed
 * over (mtime, uid, ...); a record that is not "LEN key=value\n" is an
 * error. */
static int pax_parse(const char *p, size_t n, char **path, uint64_t *size, int *has_size)
{
	size_t i = 0;

	while (i < n) {
		size_t len = 0, j = i;
		while (j < n && p[j] >= '0' && p[j] <= '9') {
			len = len * 10 + (size_t)(p[j] - '0');
			if (len > n)
				return -1;
			j++;
		}
		if (j == i || j >= n || p[j] != ' ' || len < (j - i) + 4 || i + len > n ||
		    p[i + len - 1] != '\n')
			return -1;
		const char *kv = p + j + 1, *end = p + i + len - 1;
		const char *eq = memchr(kv, '=', (size_t)(end - kv));
		if (!eq)
			return -1;
		size_t klen = (size_t)(eq - kv), vlen = (size_t)(end - eq - 1);
		if (klen == 4 && memcmp(kv, "path", 4) == 0) {
			if (memchr(eq + 1, '\0', vlen))
				return -1;
			free(*path);
			*path = strndup(eq + 1, vlen);
			if (!*path)
				return -2;
		} else if (klen == 4 && memcmp(kv, "size", 4) == 0) {
			uint64_t v = 0;
			if (!vlen || vlen > 19)
				return -1;
			for (size_t k = 0; k < vlen; k++) {
				if (eq[1 + k] < '0' || eq[1 + k] > '9')
					return -1;
				v = v * 10 + (uint64_t)(eq[1 + k] - '0');
			}
			*size = v;
			*has_size = 1;
		}
		i += len;
	}
	return 0;
}

int mig_tar_next(int fd, uint64_t fsize, uint64_t *pos, struct mig_tar_member *m,
		 const char *what, struct mig_error *err)
{
	char h[TAR_BLOCK], *pax = NULL, *path = NULL;
	uint64_t p = *pos, size, pax_size = 0;
	int has_pax = 0, has_size = 0, rc = 0;

	memset(m, 0, sizeof *m);
	m->header = p;
	for (;;) {
		if (p + TAR_BLOCK > fsize) {
			rc = mig_error_set(err, MIG_ECORRUPT, "%s: corrupt: truncated (no end-of-archive "
					   "blocks after offset %llu)", what, (unsigned long long)p);
			goto out;
		}
		rc = mig_io_pread_all(fd, h, TAR_BLOCK, p, what, err);
		if (rc)
			goto out;
		if (all_zero(h, TAR_BLOCK)) {
			char h2[TAR_BLOCK];
			if (has_pax) {
				rc = mig_error_set(err, MIG_ECORRUPT, "%s: corrupt: a pax header at offset "
						   "%llu describes no member", what,
						   (unsigned long long)m->header);
				goto out;
			}
			/* the end: two zero blocks */
			if (p + 2 * TAR_BLOCK > fsize ||
			    mig_io_pread_all(fd, h2, TAR_BLOCK, p + TAR_BLOCK, what, err) ||
			    !all_zero(h2, TAR_BLOCK)) {
				rc = mig_error_set(err, MIG_ECORRUPT, "%s: corrupt: truncated or damaged "
						   "end of archive at offset %llu", what,
						   (unsigned long long)p);
				goto out;
			}
			rc = MIG_DONE;
			goto out;
		}
		if (!checksum_ok(h)) {
			rc = mig_error_set(err, MIG_ECORRUPT, "%s: corrupt: bad tar header checksum at "
					   "offset %llu", what, (unsigned long long)p);
			goto out;
		}
		if (memcmp(h + 257, "ustar", 5) != 0) {
			rc = mig_error_set(err, MIG_ECORRUPT, "%s: corrupt: not a ustar header at "
					   "offset %llu", what, (unsigned long long)p);
			goto out;
		}
		if (get_number(h, F_SIZE, &size)) {
			rc = mig_error_set(err, MIG_ECORRUPT, "%s: corrupt: bad size in the tar header "
					   "at offset %llu", what, (unsigned long long)p);
			goto out;
		}
		if (h[F_TYPE] != 'x')
			break;
		/* a pax header: its records apply to the next member */
		if (has_pax || size > ARCHIVE_META_MAX) {
			rc = mig_error_set(err, MIG_ECORRUPT, "%s: corrupt: %s pax header at offset %llu",
					   what, has_pax ? "a second" : "an oversized",
					   (unsigned long long)p);
			goto out;
		}
		if (p + TAR_BLOCK + size > fsize) {
			rc = mig_error_set(err, MIG_ECORRUPT, "%s: corrupt: truncated pax header at "
					   "offset %llu", what, (unsigned long long)p);
			goto out;
		}
		pax = malloc(size ? size : 1);
		if (!pax) {
			rc = mig_error_set(err, MIG_ENOMEM, "out of memory");
			goto out;
		}
		rc = mig_io_pread_all(fd, pax, size, p + TAR_BLOCK, what, err);
		if (rc)
			goto out;
		rc = pax_parse(pax, size, &path, &pax_size, &has_size);
		free(pax);
		pax = NULL;
		if (rc) {
			rc = rc == -2 ? mig_error_set(err, MIG_ENOMEM, "out of memory")
				      : mig_error_set(err, MIG_ECORRUPT, "%s: corrupt: malformed pax "
						      "header at offset %llu", what,
						      (unsigned long long)p);
			goto out;
		}
		has_pax = 1;
		p += TAR_BLOCK + size + mig_tar_padding(size);
	}
	m->type = h[F_TYPE] ? h[F_TYPE] : '0';
	if (has_size)
		size = pax_size;
	if (path) {
		m->name = path;
		path = NULL;
	} else {
		char name[257];
		size_t plen = strnlen(h + 345, 155), nlen = strnlen(h, 100), k = 0;
		/* GNU's old format keeps other things where POSIX has the prefix */
		if (memcmp(h + 257, "ustar\0", 6) != 0)
			plen = 0;
		if (plen) {
			memcpy(name, h + 345, plen);
			name[plen] = '/';
			k = plen + 1;
		}
		memcpy(name + k, h, nlen);
		name[k + nlen] = '\0';
		m->name = strdup(name);
		if (!m->name) {
			rc = mig_error_set(err, MIG_ENOMEM, "out of memory");
			goto out;
		}
	}
	m->offset = p + TAR_BLOCK;
	m->size = size;
	/* a member's data must be in the file, with its padding */
	if (m->offset > fsize || size > fsize - m->offset) {
		rc = mig_error_set(err, MIG_ECORRUPT, "%s: corrupt: truncated: member %s needs %llu "
				   "bytes at offset %llu, the file ends at %llu", what, m->name,
				   (unsigned long long)size, (unsigned long long)m->offset,
				   (unsigned long long)fsize);
		goto out;
	}
	p = m->offset + size + mig_tar_padding(size);
	*pos = p;
out:
	free(pax);
	free(path);
	if (rc) {
		free(m->name);
		m->name = NULL;
	}
	return rc;
}
