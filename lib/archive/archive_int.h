/*
 * archive_int.h - what the files of lib/archive/ share: the tar format,
 * SHA-256, file plumbing and locators of collections.  Private to
 * lib/archive/ (and its unit test).
 */
#ifndef MIG_ARCHIVE_INT_H
#define MIG_ARCHIVE_INT_H

#include <stddef.h>
#include <stdint.h>
#include <openssl/evp.h>

#include "mig/archive.h"
#include "mig/buf.h"
#include "mig/error.h"
#include "mig/locator.h"

#define TAR_BLOCK 512
/* The largest manifest, schema or pax header we read into memory. */
#define ARCHIVE_META_MAX ((uint64_t)64 << 20)
#define ARCHIVE_NAME_MAX 1024
#define MANIFEST_NAME "manifest.json"
/* The manifest's SHA-256, as sha256sum(1) prints it: the second member. */
#define MANIFEST_SHA_NAME "manifest.json.sha256"

/* ---- tar (tar.c) ---------------------------------------------------------- */

/* Appends the header of a regular-file member to b: one ustar block, after
 * a pax 'x' header (and its data) when the name does not fit ustar's
 * name/prefix fields or the size is 8 GiB or more.  name must be printable
 * ASCII.  Returns 0 or MIG_ENOMEM. */
int mig_tar_header(struct mig_buf *b, const char *name, uint64_t size, int64_t mtime);

/* The zero bytes that follow `size` bytes of member data. */
static inline size_t mig_tar_padding(uint64_t size)
{
	return (size_t)((TAR_BLOCK - size % TAR_BLOCK) % TAR_BLOCK);
}

struct mig_tar_member {
	char *name;          /* malloc'd; with a pax path, that one */
	uint64_t header;     /* offset of its first header block (pax or ustar) */
	uint64_t offset;     /* of its data */
	uint64_t size;
	char type;           /* the ustar typeflag ('0' for a regular file) */
};

/* Reads the member whose header starts at *pos of fd (a file of fsize
 * bytes; read with pread), and moves *pos past its data.  Returns 0 with m
 * filled (free m->name), MIG_DONE at the end-of-archive blocks, or
 * MIG_ECORRUPT naming what is wrong ("what" names the archive): a bad
 * header checksum or number, a truncated member, a malformed pax header.
 * Does not judge the type or the name: the caller does. */
int mig_tar_next(int fd, uint64_t fsize, uint64_t *pos, struct mig_tar_member *m,
		 const char *what, struct mig_error *err);

/* A word for a typeflag, for messages ("a symbolic link"). */
const char *mig_tar_type_name(char type);

/* ---- SHA-256 (util.c) ----------------------------------------------------- */

struct mig_sha256 {
	EVP_MD_CTX *ctx;
};

int mig_sha256_init(struct mig_sha256 *h, struct mig_error *err);
void mig_sha256_update(struct mig_sha256 *h, const void *p, size_t n);
/* Writes 64 hex digits and a NUL to hex; frees the context. */
void mig_sha256_final(struct mig_sha256 *h, char hex[65]);
void mig_sha256_free(struct mig_sha256 *h);
/* The digest of one buffer. */
int mig_sha256_hex(const void *p, size_t n, char hex[65], struct mig_error *err);

/* ---- files (util.c) ------------------------------------------------------- */

/* write(2) all of it; EPIPE is MIG_EPIPE, other failures MIG_EIO naming
 * name. */
int mig_io_write_all(int fd, const void *p, size_t n, const char *name, struct mig_error *err);
/* pread(2) exactly n bytes at off: MIG_ECORRUPT when the file is shorter. */
int mig_io_pread_all(int fd, void *p, size_t n, uint64_t off, const char *name,
		     struct mig_error *err);
/* Copies len bytes of in (from off) to out's current position, in the
 * kernel where it can (sendfile), else by read/write. */
int mig_io_copy(int in, uint64_t off, uint64_t len, int out, const char *name,
		struct mig_error *err);
/* A new, already unlinked, read-write file in dir (NULL: $TMPDIR or /tmp). */
int mig_io_tmpfile(int *fd, const char *dir, struct mig_error *err);
/* The directory part of path ("." when it has none); malloc'd. */
char *mig_io_dirname(const char *path);
/* fsync(2) of a directory, so that a rename in it is durable. */
int mig_io_sync_dir(const char *dir, struct mig_error *err);

/* ---- locators (util.c) ---------------------------------------------------- */

/* A locator for collection name of the store base names: the same store
 * (base's resolved uri; no text is parsed again, so a '#' in the name or
 * the path stays what it is), with name as the collection, or none when
 * name is NULL.  A file locator is the file itself whatever the name. */
int mig_archive_locator(struct mig_locator **out, const struct mig_locator *base,
			const char *name, struct mig_error *err);

/* The time as the manifest writes it: "YYYY-MM-DDTHH:MM:SSZ" (out holds 32). */
void mig_archive_time(char *out, int64_t t);
/* Its inverse; -1 when s is not one. */
int64_t mig_archive_time_parse(const char *s);

/* ---- relaxed text (relax.c) ---------------------------------------------- */

/* Rewrites the canonical number and date wrappers of the NDJSON text [p,
 * p + n) to their relaxed form, into out (which holds n bytes: the text
 * only shrinks).  Returns the length written. */
size_t mig_relax_text(char *out, const char *p, size_t n);

struct mig_relax;
/* Starts a thread that writes collection c's data member of the archive
 * fd, decompressed and (when relax) relaxed, into a pipe; *rfd is the
 * pipe's read end.  The thread checks the text's size, lines and SHA-256
 * against the manifest (c) as it goes, before it closes the pipe. */
int mig_relax_start(struct mig_relax **out, int *rfd, int fd, const struct mig_archive_coll *c,
		    int relax, size_t max_line, struct mig_error *err);
/* Once the reader has met the pipe's end: waits for the thread and
 * reports its failure, MIG_ECORRUPT when the text is not what the
 * manifest says (what names the archive). */
int mig_relax_wait(struct mig_relax *r, const char *what, struct mig_error *err);
/* Closes rfd, waits for the thread (ended early: it gets EPIPE), reports
 * its failure as mig_relax_wait does, and frees r. */
int mig_relax_finish(struct mig_relax *r, int rfd, const char *what, struct mig_error *err);

/* ---- the manifest (reader.c) ---------------------------------------------- */

/* The archive's file descriptor (for pread). */
int mig_archive_fd(const struct mig_archive *a);

/* Checks a manifest's shape and fills colls (n entries, names borrowed
 * from m).  MIG_ECORRUPT naming what is wrong. */
int mig_manifest_check(const json_t *m, struct mig_archive_coll **colls, size_t *n,
		       const char *what, struct mig_error *err);

#endif
