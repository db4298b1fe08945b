/*
 * mig/backend.h - one interface in front of every store.
 *
 * A backend is one file in lib/backend/ that defines one
 * `const struct mig_backend_ops` and is named once in the table in
 * lib/backend.c.  Nothing outside lib/backend/ includes a store's client
 * library.  A backend's store struct embeds struct mig_store as its first
 * member; open() allocates it, close() frees it (and accepts NULL).
 *
 * Reading: read_begin() once, then read_next() until it returns MIG_DONE.
 * Records are new references handed to the caller.
 *
 * Writing: write_begin() once, then write_batch() for each batch of at
 * most opts->batch_size records, then write_end(commit).  write_batch()
 * sets the status of every item: the store decides per record; a record
 * that the store refuses is MIG_ITEM_REJECTED with the store's reason and
 * code, and the rest of the batch stands.  write_batch() returns < 0 only
 * when the store itself failed (connection lost, disk full): then nothing
 * of that batch is committed and the caller stops.  What write_batch()
 * accepted is committed when it returns, unless opts->atomic or
 * opts->dry_run (then at write_end, or never).
 */
#ifndef MIG_BACKEND_H
#define MIG_BACKEND_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "mig/error.h"
#include "mig/locator.h"
#include "mig/value.h"

#define MIG_BACKEND_VERSION 1

enum { MIG_INPUT_RELAXED, MIG_INPUT_CANONICAL_FAST, MIG_INPUT_CANONICAL };

/* A batch of the store's default size ends at this much input too (any
 * batch ends at MIG_BATCH_BYTES, mig/run.h). */
#define MIG_DEFAULT_BATCH_BYTES ((size_t)8 << 20)

enum mig_open_flags {
	MIG_OPEN_READ = 1,
	MIG_OPEN_WRITE = 2,
	MIG_OPEN_DRYRUN = 4    /* writing will not really write: do not create files */
};

struct mig_read_opts {
	const char *query;       /* a native query instead of the collection */
	const char *where;       /* a filter expression in the store's language */
	const char *order_by;
	int64_t limit;           /* < 0: no limit */
	size_t batch_size;       /* 0: the backend's default */
	enum mig_json_mode mode; /* producers that can keep int32/int64 apart look here */
	unsigned shard_k, shard_n;  /* shard_n 0: not sharded */
	size_t max_line;         /* file sources: longest line (0: default) */
	/* --since FIELD: only records whose (FIELD, key...) is greater than
	 * `after`, in that order.  after is NULL on a first run, else the
	 * bookmark of the previous one: {"field": F, "value": V, "key":
	 * {"k1": v1, ...}}.  A backend that supports it fills st->key_fields
	 * in read_begin so that the driver can build the next bookmark. */
	const char *since;
	const json_t *after;
	/* A token from another store's snapshot_begin(): read the same
	 * consistent view (mig-backup), or NULL. */
	const char *snapshot;
	/* MongoDB: a projection document (JSON text) applied by the server. */
	const char *projection;
};

enum mig_load_mode {
	MIG_MODE_INSERT = 0,
	MIG_MODE_UPSERT,         /* insert, or update the fields present by key */
	MIG_MODE_REPLACE,        /* insert, or replace the whole record by key */
	MIG_MODE_MERGE,          /* update existing by key, shallow merge of fields */
	MIG_MODE_UPDATE,         /* update existing by key only: the fields present;
				  * a record whose key matches nothing is rejected */
	MIG_MODE_DELETE          /* delete by key; the other fields are ignored */
};

/* "insert", "upsert", ... for messages; and back: 0, or -1 for no mode. */
const char *mig_load_mode_name(enum mig_load_mode m);
int mig_load_mode_parse(const char *s, enum mig_load_mode *out);

enum mig_conflict {
	MIG_CONFLICT_DEFAULT = 0,  /* per mode: insert rejects duplicates */
	MIG_CONFLICT_SKIP,
	MIG_CONFLICT_OVERWRITE,
	MIG_CONFLICT_MERGE,
	MIG_CONFLICT_FAIL
};

/* A store parameter given as a program option: mig-load --parallel 4 is
 * {"parallel", "4"}.  Both strings are borrowed. */
struct mig_param {
	const char *name;
	const char *value;
};

struct mig_write_opts {
	enum mig_load_mode mode;
	enum mig_conflict on_conflict;
	const char *const *keys;  /* key fields (NULL-terminated), or NULL */
	size_t nkeys;
	int create;               /* create the collection if missing */
	int truncate;             /* empty it first */
	int drop;                 /* drop it first */
	int dry_run;              /* check and count, write nothing */
	int atomic;               /* one transaction for the whole load */
	const char *schema_path;  /* JSON Schema to create from, or NULL */
	const json_t *schema;     /* the same, already loaded (wins over schema_path) */
	/* A native definition from native() of a store of the same backend
	 * (mig-restore into the same kind): create exactly that. */
	const json_t *native;
	size_t batch_size;        /* mig_load_run: 0 is the store's default */
	int retries;
	/* Store parameters from the command line: write_begin() takes them as
	 * it takes the same ?name=value in its locator, and they win over
	 * the locator's.  Only names in the backend's write_params reach it
	 * (mig_store_check_params). */
	const struct mig_param *params;
	size_t nparams;
};

enum mig_item_status {
	MIG_ITEM_PENDING = 0,
	MIG_ITEM_INSERTED,
	MIG_ITEM_UPDATED,
	MIG_ITEM_SKIPPED,      /* a conflict that --on-conflict skip let pass */
	MIG_ITEM_REJECTED,
	MIG_ITEM_DELETED,      /* --mode delete: the record the key named is gone */
	MIG_ITEM_NOT_FOUND     /* --mode delete: no record had the key (counted, no error) */
};

struct mig_batch_item {
	json_t *rec;           /* borrowed from the batch's owner; NULL for a
				* record the backend took as text (write_prepare) */
	const char *raw;       /* the record's line (write_prepare backends only),
				* valid until the batch is written, or NULL */
	size_t rawlen;
	uint64_t line;         /* input line number, for rejects */
	enum mig_item_status status;
	char *error;           /* malloc'd reason when REJECTED (backend sets) */
	char *code;            /* malloc'd store error code, or NULL */
};

struct mig_batch {
	struct mig_batch_item *items;
	size_t n;
};

/* Sets item i to REJECTED with a formatted reason (and code, may be NULL).
 * For backends. */
void mig_batch_reject(struct mig_batch_item *it, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Sets the item to REJECTED because no record of the store has its key:
 * "no NOUN with key id=7" (the key fields' values as JSON), for
 * --mode update. */
void mig_batch_no_key(struct mig_batch_item *it, const char *noun, const char *const *keys,
		      size_t nkeys);

struct mig_store {
	const struct mig_backend_ops *ops;
	struct mig_locator *loc;  /* owned by the store */
	/* The collection's key fields (NULL-terminated), set by read_begin
	 * when it knows them; owned by the backend. */
	const char *const *key_fields;
	/* describe(): how many records to infer a schema from, where the
	 * backend infers one (0: its default); set by the caller. */
	size_t sample;
};

struct mig_backend_ops {
	int version;             /* MIG_BACKEND_VERSION */
	const char *scheme;      /* the locator scheme it serves */
	const char *summary;     /* one line for --help / README */
	/* the client library and its version, for --version ("sqlite 3.40.1"),
	 * or NULL */
	const char *(*lib_version)(void);
	/* Records per write batch when the user sets none (0: 1000); such a
	 * batch also ends at MIG_DEFAULT_BATCH_BYTES of input, so that large records
	 * do not make a default batch large in memory. */
	size_t default_batch_size;
	/* What mig-restore hands write_batch from an archive, whose members
	 * hold canonical Extended JSON: MIG_INPUT_RELAXED (0) the relaxed
	 * form, rewritten in a thread of its own; MIG_INPUT_CANONICAL_FAST the
	 * canonical text as it is, decompressed in that thread (the loader
	 * reads the wrappers as fast as relaxed numbers); MIG_INPUT_CANONICAL
	 * the canonical text read straight from the archive (a store where
	 * int32 and int64 stay apart only in that form). */
	int archive_input;
	/* The names of the store parameters that write_begin() takes in
	 * mig_write_opts.params (NULL-terminated), or NULL: none. */
	const char *const *write_params;

	/* loc is borrowed: mig_store_open() stores it in the store and
	 * mig_store_close() frees it after close(); close() frees only what
	 * open() allocated. */
	int (*open)(struct mig_store **out, struct mig_locator *loc, int flags,
		    struct mig_error *err);
	void (*close)(struct mig_store *st);

	int (*read_begin)(struct mig_store *st, const struct mig_read_opts *o,
			  struct mig_error *err);
	int (*read_next)(struct mig_store *st, json_t **out, struct mig_error *err);

	int (*write_begin)(struct mig_store *st, const struct mig_write_opts *o,
			   struct mig_error *err);
	int (*write_batch)(struct mig_store *st, struct mig_batch *b, struct mig_error *err);
	int (*write_end)(struct mig_store *st, int commit, struct mig_error *err);

	/* Optional (NULL when the backend cannot). */
	int (*list)(struct mig_store *st, json_t **out, struct mig_error *err);
	/* an array of {"name": ..., "count": N} objects */
	int (*count)(struct mig_store *st, const struct mig_read_opts *o, uint64_t *out,
		     struct mig_error *err);
	int (*describe)(struct mig_store *st, json_t **out, struct mig_error *err);
	/* a JSON Schema 2020-12 document of the collection */

	/* Begins one consistent view of the whole store, held until close():
	 * this store's reads and those of other stores of the backend given
	 * *token in mig_read_opts.snapshot see the same data.  *token is
	 * malloc'd, or NULL when the view cannot be shared. */
	int (*snapshot_begin)(struct mig_store *st, char **token, struct mig_error *err);
	/* The collection's native definition (PostgreSQL DDL with keys,
	 * constraints and indexes; MongoDB indexes and validator; an
	 * Elasticsearch index's settings and mappings), as a JSON value that
	 * mig_write_opts.native takes back. */
	int (*native)(struct mig_store *st, json_t **out, struct mig_error *err);
	/* Drops the collections names[0..n) of the store (those that exist)
	 * as one set, or none of them: they may refer to each other (foreign
	 * keys), but when a collection outside the set refers to one of them,
	 * nothing is dropped and the error names it.  With check_only, only
	 * that check is made.  For stores whose collections can depend on
	 * each other; NULL elsewhere (write_begin's drop then serves). */
	int (*drop)(struct mig_store *st, const char *const *names, size_t n, int check_only,
		    struct mig_error *err);

	/* Optional: sees each record as it is read, so that the backend can
	 * convert and send it while the batch fills (the store works while
	 * the next lines are read).  Called for b->items[i] just filled:
	 * first with rec NULL and raw set; returns 1 when the backend took
	 * the record from its text (rec stays NULL: it is never parsed unless
	 * the backend asks), 0 when it wants it parsed.  After a 0 and a
	 * successful parse and check, called again with rec set (returns 0).
	 * Returns MIG_ENOMEM when out of memory; a store failure waits for
	 * write_batch, which says it. */
	int (*write_prepare)(struct mig_store *st, struct mig_batch *b, size_t i,
			     struct mig_error *err);

	/* Optional: read_next() printed straight from the store's text.
	 * Appends the next record as mig_value_write() prints it in
	 * MIG_JSON_RELAXED (byte for byte, no newline) without building it;
	 * returns what read_next() returns, MIG_DONE appending nothing. */
	int (*read_next_text)(struct mig_store *st, struct mig_buf *out, struct mig_error *err);
};

/* The registry. */
const struct mig_backend_ops *mig_backend_find(const char *scheme);
/* NULL-terminated table, for --version and --help. */
const struct mig_backend_ops *const *mig_backend_all(void);

/* Opens the store a locator names.  Takes loc (freed on failure too).
 * MIG_EUSAGE when no backend serves the scheme. */
int mig_store_open(struct mig_store **out, struct mig_locator *loc, int flags,
		   struct mig_error *err);
void mig_store_close(struct mig_store *st);

/* 0 when the store's backend takes every parameter of o->params, else
 * MIG_EUSAGE naming the option (--NAME, '_' written '-') and the stores
 * that take it. */
int mig_store_check_params(const struct mig_store *st, const struct mig_write_opts *o,
			   struct mig_error *err);

/* Backends' own instances, named in the table in lib/backend.c. */
extern const struct mig_backend_ops mig_backend_file;
extern const struct mig_backend_ops mig_backend_sqlite;
extern const struct mig_backend_ops mig_backend_mongo;
extern const struct mig_backend_ops mig_backend_pg;
extern const struct mig_backend_ops mig_backend_es;

#endif
