/*
 * mig/archive.h - mig-archive(5): backups of whole stores as plain POSIX
 * tar files, and the drivers behind mig-backup and mig-restore.
 *
 * An archive is a ustar file (pax 'x' headers where a name or a size does
 * not fit ustar) whose members are, in this order:
 *
 *   manifest.json            what the archive holds, with counts and checksums
 *   data/NAME.ndjson.zst     one collection as canonical Extended JSON, one
 *                            independent zstd frame
 *   schema/NAME.json         its JSON Schema, the native definition under
 *                            "x-mig-native"
 *
 * NAME is the collection's name with every byte outside [A-Za-z0-9._-]
 * percent-encoded (mig_archive_encode); the manifest maps real names to
 * members, so a reader never derives one from the other.
 *
 * Reading is strict: an archive whose structure, manifest or checksums are
 * not exactly what mig-backup writes is MIG_ECORRUPT, and nothing is
 * written anywhere before the whole of it has been checked.
 *
 * Ownership: strings and JSON values that an archive hands out are
 * borrowed and live as long as the archive; functions named *_new or that
 * fill a json_t ** hand out a new reference.
 */
#ifndef MIG_ARCHIVE_H
#define MIG_ARCHIVE_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "mig/backend.h"
#include "mig/error.h"
#include "mig/progress.h"
#include "mig/run.h"

#define MIG_ARCHIVE_VERSION 1
#define MIG_ARCHIVE_LEVEL_DEFAULT 6   /* with minMatch 6: see zstd_setup() in lib/archive/backup.c */

/* ---- names ------------------------------------------------------------- */

/* The collection name with every byte outside [A-Za-z0-9._-] written as
 * %XX (upper-case hex): an injective map onto safe file names.  Returns a
 * malloc'd string, or NULL on ENOMEM. */
char *mig_archive_encode(const char *name);

/* Whether a member name is one a reader may accept: relative, no "." or
 * ".." component, no empty component, no backslash, printable ASCII, at
 * most 1024 bytes.  1 or 0. */
int mig_archive_name_safe(const char *member);

/* ---- writing: mig-backup ------------------------------------------------- */

struct mig_backup_cfg {
	const char *source;          /* locator text (env:/@ allowed); a #fragment
				      * backs up that one collection */
	const char *output;          /* a path, or "-" for standard output */
	const char *const *only;     /* NULL-terminated names, or NULL: all */
	const char *const *exclude;  /* NULL-terminated names, or NULL */
	int level;                   /* zstd level, 1..19 */
	int threads;                 /* zstd workers (ZSTD_c_nbWorkers); 0: none */
	int64_t created;             /* seconds since the epoch (the manifest's time) */
	const char *tool;            /* "mig-backup 0.1.0" */
	enum mig_progress_when progress;
};

struct mig_backup_stats {
	size_t collections;
	uint64_t records, bytes;     /* NDJSON records and uncompressed bytes */
	uint64_t archive_bytes;      /* the size of the archive written */
	int consistent;              /* every collection read from one snapshot */
	json_t *manifest;            /* the manifest written (new reference), or NULL */
};

/* Reads every selected collection of the store into an archive.  The
 * output is written to a temporary file beside it, fsynced and renamed
 * over it only when complete; on failure nothing is left behind (with
 * "-", what went out is incomplete and the exit status says so).  The
 * caller frees stats->manifest. */
int mig_backup_run(const struct mig_backup_cfg *cfg, struct mig_backup_stats *stats,
		   struct mig_error *err);

/* ---- reading --------------------------------------------------------------- */

struct mig_archive;

struct mig_archive_coll {
	const char *name;            /* the collection's real name */
	const char *data;            /* member names */
	const char *schema;          /* or NULL */
	uint64_t records, bytes;     /* as the manifest says */
	uint64_t compressed_bytes;   /* likewise, when it says (0 when not) */
	const char *sha256;          /* 64 lower-case hex digits */
	const char *compressed_sha256;   /* of the data member as stored, or
					  * NULL (an older archive) */
	const char *schema_sha256;   /* or NULL */
	const json_t *depends_on;    /* array of names (restore order), or NULL */
	uint64_t data_offset, data_size;     /* the data member in the file */
	uint64_t schema_offset, schema_size;
};

/* Opens an archive ("-": standard input, first copied to an unlinked file
 * in $TMPDIR) and checks its structure: manifest.json first and valid,
 * every member a regular file with a safe name, listed in the manifest,
 * present once, whole, and header checksums right.  Does not read the
 * data (mig_archive_verify does).  MIG_ECORRUPT for any flaw, MIG_EIO when
 * the file cannot be read. */
int mig_archive_open(struct mig_archive **out, const char *path, struct mig_error *err);
void mig_archive_close(struct mig_archive *a);

const json_t *mig_archive_manifest(const struct mig_archive *a);
const char *mig_archive_path(const struct mig_archive *a);   /* "stdin" for "-" */
size_t mig_archive_count(const struct mig_archive *a);
const struct mig_archive_coll *mig_archive_coll(const struct mig_archive *a, size_t i);
/* The index of a collection by its real name, or -1. */
long mig_archive_find(const struct mig_archive *a, const char *name);

/* Decompresses collection i's data (i < 0: every collection) and checks
 * its SHA-256, byte count and record count against the manifest, the
 * SHA-256 of the member as stored, and the schema member's SHA-256.
 * MIG_ECORRUPT naming the first mismatch. */
int mig_archive_verify(struct mig_archive *a, long i, enum mig_progress_when progress,
		       struct mig_error *err);

/* What a restore checks before it writes: collection i's (i < 0: every
 * collection's) data member byte for byte against the SHA-256 the
 * manifest keeps of it as stored (compressed_sha256; a fraction of the
 * cost of decompressing), and the schema member; a collection of an
 * archive without compressed_sha256 is verified whole, as
 * mig_archive_verify() does.  The decompressed text is then checked while
 * it is read (mig_relax_start). */
int mig_archive_check(struct mig_archive *a, long i, enum mig_progress_when progress,
		      struct mig_error *err);

/* Collection i's schema member, parsed (new reference; NULL when it has
 * none). */
int mig_archive_schema(struct mig_archive *a, size_t i, json_t **out, struct mig_error *err);

/* A line reader over collection i's data, decompressed as it is read
 * (free with mig_reader_close; it must not outlive the archive). */
struct mig_reader;
int mig_archive_reader(struct mig_archive *a, size_t i, size_t max_line,
		       struct mig_reader **out, struct mig_error *err);

/* Reads only the manifest of the archive at path (the first member).
 * Returns 0 with a new reference, MIG_DONE when the file is not a mig
 * archive at all, MIG_ECORRUPT when it starts like one but is damaged,
 * MIG_EIO when it cannot be read. */
int mig_archive_read_manifest(json_t **out, const char *path, struct mig_error *err);

/* ---- a directory of backups: mig-backup --list and --prune ----------------- */

/* The archives in dir (regular files not starting with '.', whose first
 * member is a manifest), oldest first by the manifest's "created" time:
 * an array of {"file", "path", "created", "source", "backend",
 * "collections", "records", "size"}.  Files that are not archives are
 * left out; damaged ones are listed with an "error". */
int mig_backup_scan(const char *dir, json_t **out, struct mig_error *err);

struct mig_prune_cfg {
	const char *dir;
	int64_t keep_last;           /* keep the N newest; < 0: no such rule */
	int64_t keep_days;           /* keep those younger than D days; < 0: no rule */
	int64_t now;                 /* seconds since the epoch */
};

/* Decides what --prune deletes: out is the mig_backup_scan() array with
 * "action" ("keep" or "delete") and "reason" added to each archive.  An
 * archive is kept when a rule keeps it; the newest archive that verifies
 * completely is kept whatever the rules say.  Deletes nothing. */
int mig_backup_prune_plan(const struct mig_prune_cfg *cfg, json_t **out, struct mig_error *err);
/* Deletes one archive (and makes that durable). */
int mig_backup_remove(const char *path, struct mig_error *err);

/* ---- mig-restore ------------------------------------------------------------ */

struct mig_restore_cfg {
	const char *archive;         /* a path, or "-" */
	const char *target;          /* locator text; a #fragment names the one target */
	const char *const *only;     /* NULL-terminated names, or NULL: all */
	const char *const *renames;  /* NULL-terminated "old=new" strings, or NULL */
	/* What every collection's load uses (input, reader, target and
	 * wo.native/schema/create are set per collection).  A reject_path
	 * takes ".NAME" (encoded) when more than one collection is restored. */
	struct mig_load_cfg load;
};

struct mig_restore_stats {
	size_t collections;          /* collections loaded (or begun) */
	struct mig_load_stats total;
	json_t *loaded;              /* array of {"name", "target", counts...} */
};

/* Verifies the whole archive (nothing is written when any of it is
 * wrong), then loads each selected collection into target#NAME with
 * mig_load_run(), in an order where a collection comes after those its
 * native definition depends on.  A target of the archive's backend kind
 * is created from the native definitions, another kind from the JSON
 * Schemas.  The caller frees stats->loaded. */
int mig_restore_run(const struct mig_restore_cfg *cfg, struct mig_restore_stats *stats,
		    struct mig_error *err);

/* Writes collection `name` as NDJSON to out (a path or "-") in mode,
 * after verifying it.  *records counts what was written. */
int mig_restore_cat(const char *archive, const char *name, const char *out,
		    enum mig_json_mode mode, uint64_t *records, struct mig_error *err);

#endif
