/*
 * sqlite.c - the SQLite backend: sqlite:PATH#TABLE.
 *
 * A table is a collection; a row is a record whose keys are the column
 * names.  Values travel by the column's declared type: on the way out the
 * declared type, refined by the value's storage class, picks the Extended
 * JSON wrapper ($date for TIMESTAMP text, $numberDecimal for DECIMAL, ...);
 * on the way in the column's kind picks how a value is bound.  Identifiers
 * are always double-quoted (quotes doubled inside) and values always
 * bound, so a table or field name may hold any character but NUL.
 *
 * Writing runs one BEGIN IMMEDIATE transaction per batch (one for the
 * whole load with --atomic or --dry-run).  Per-record failures (constraint
 * violations, values that do not fit) reject that record only: SQLite's
 * default ON CONFLICT ABORT undoes the one statement and the transaction
 * goes on.  Failures of the store itself (busy, I/O, disk full) roll the
 * batch back and end the load with MIG_EIO.
 *
 * Pragmas: the user's journal mode and synchronous setting are left as
 * they are.  synchronous=NORMAL would save the fsyncs of each commit, but
 * in rollback-journal mode it can corrupt the database on power loss, and
 * in WAL mode it can lose a batch that mig-load has already recorded as
 * committed in its checkpoint, so that a resumed load would skip records.
 * The cost is real (1M records of 235 bytes: 26 s with --batch-size 1000,
 * 14 s with 10000, 10 s on tmpfs), but it is the user's to trade away with
 * a larger batch or their own pragmas, not ours.
 *
 * Upsert counts inserts and updates with one statement per record (see
 * build_statement); duplicate column names in a --query get suffixes (see
 * read_names).
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "mig/backend.h"
#include "mig/buf.h"

/* What a column's declared type means to us, by its first word. */
enum kind {
	K_ANY,       /* no declared type (an expression), or one we do not know */
	K_INTEGER,
	K_REAL,
	K_BOOL,
	K_TEXT,
	K_DATE,
	K_DECIMAL,
	K_BLOB,
	K_JSON,
	K_OID
};

/* Value classes for inferring a column's type in --create. */
enum vclass {
	C_NONE,      /* only nulls seen so far */
	C_INT,
	C_REAL,
	C_BOOL,
	C_TEXT,
	C_DATE,
	C_DECIMAL,
	C_BLOB,
	C_OID,
	C_JSON
};

/* What an INSERT does with a row whose key is already there. */
enum act {
	A_REJECT,          /* plain INSERT: the constraint rejects the record */
	A_SKIP,            /* ON CONFLICT DO NOTHING */
	A_UPDATE,          /* upsert / merge: ON CONFLICT(keys) DO UPDATE the fields present */
	A_OVERWRITE,       /* overwrite: ON CONFLICT(keys) DO UPDATE every non-key column */
	A_UPDATE_ONLY,     /* --mode update: UPDATE ... WHERE keys, the fields present */
	A_DELETE           /* --mode delete: DELETE ... WHERE keys */
};

struct col {
	char *name;
	char *decl;
	enum kind kind;
};

/*
 * A record shape: the field names in order, the column each one goes to,
 * and the statements prepared for it.  Most streams have one shape, so the
 * lookup first compares the record's names against the last shape used.
 */
struct shape {
	size_t nf;
	char *names;        /* nf NUL-terminated names back to back */
	int *col;           /* the column of each field */
	sqlite3_stmt *ins;  /* INSERT (upsert: ... ON CONFLICT(keys) DO ...) */
	uint64_t tick;      /* last use, for eviction */
};

#define NSHAPES 16
#define BUSY_TIMEOUT_MS 5000

struct sq_store {
	struct mig_store base;
	sqlite3 *db;
	int flags;
	const char *table;     /* loc->collection, borrowed */

	/* reading */
	sqlite3_stmt *rd;
	int rcols;
	char **rnames;
	enum kind *rkinds;

	/* writing */
	int writing;
	struct mig_write_opts wo;
	char **keys;
	enum act act;
	int keyed;             /* conflicts are found by the keys: records need them */
	int in_tx;             /* a transaction of ours is open */
	int long_tx;           /* --atomic or --dry-run: one transaction throughout */
	int prep_done;         /* drop/truncate ran in the open transaction */
	int drop_pending, truncate_pending;
	int native_pending;    /* create the table from wo.native (mig-restore) */
	int failed;            /* a store failure rolled a batch back */
	int exists;            /* the table exists (as far as this load sees it) */
	struct col *cols;
	size_t ncols, capcols;
	int schema_version;
	struct shape shapes[NSHAPES];
	size_t nshapes;
	struct shape *last;
	uint64_t tick;
	int updated;           /* set by mig_upsert_updated() during a step */
	sqlite3_stmt *del;     /* --mode delete's statement */

	struct mig_buf sql;    /* statement text being built */
	struct mig_buf txt;    /* JSON text of one value being bound */

	/* snapshots (see sq_snapshot_begin) */
	unsigned long snap_id;        /* this store holds snapshot snap_id, or 0 */
	struct sq_store *snap_next;   /* in the list of snapshot holders */
	int borrowed;                 /* db is a snapshot holder's: not ours to close */
};

/* ---------------------------------------------------------------- helpers */

static const char *where(const struct sq_store *s)
{
	return s->base.loc && s->base.loc->redacted ? s->base.loc->redacted : "sqlite";
}

static int oom(struct mig_error *err)
{
	return mig_error_set(err, MIG_ENOMEM, "out of memory");
}

/* Errors that mean the store itself failed, not the record at hand. */
static int is_store_error(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
	case SQLITE_IOERR:
	case SQLITE_FULL:
	case SQLITE_READONLY:
	case SQLITE_CORRUPT:
	case SQLITE_NOMEM:
	case SQLITE_CANTOPEN:
	case SQLITE_NOTADB:
	case SQLITE_PERM:
	case SQLITE_PROTOCOL:
	case SQLITE_INTERRUPT:
	case SQLITE_NOLFS:
	case SQLITE_AUTH:
		return 1;
	default:
		return 0;
	}
}

static int sq_fail(struct sq_store *s, struct mig_error *err, const char *what)
{
	int xrc = sqlite3_extended_errcode(s->db);
	int code = (xrc & 0xff) == SQLITE_NOMEM ? MIG_ENOMEM : MIG_EIO;

	return mig_error_set(err, code, "%s: %s: %s", where(s), what, sqlite3_errmsg(s->db));
}

/* The name of an extended result code, for a reject's "code". */
static const char *code_name(int xrc, char buf[16])
{
#define N(x) { x, #x }
	static const struct {
		int rc;
		const char *name;
	} names[] = {
		N(SQLITE_CONSTRAINT_CHECK), N(SQLITE_CONSTRAINT_COMMITHOOK),
		N(SQLITE_CONSTRAINT_DATATYPE), N(SQLITE_CONSTRAINT_FOREIGNKEY),
		N(SQLITE_CONSTRAINT_FUNCTION), N(SQLITE_CONSTRAINT_NOTNULL),
		N(SQLITE_CONSTRAINT_PINNED), N(SQLITE_CONSTRAINT_PRIMARYKEY),
		N(SQLITE_CONSTRAINT_ROWID), N(SQLITE_CONSTRAINT_TRIGGER),
		N(SQLITE_CONSTRAINT_UNIQUE), N(SQLITE_CONSTRAINT_VTAB),
		N(SQLITE_CONSTRAINT), N(SQLITE_MISMATCH), N(SQLITE_TOOBIG),
		N(SQLITE_ERROR), N(SQLITE_RANGE), N(SQLITE_ABORT),
	};
#undef N
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (names[i].rc == xrc)
			return names[i].name;
	snprintf(buf, 16, "%d", xrc);
	return buf;
}

static int put_ident(struct mig_buf *b, const char *name)
{
	int rc = mig_buf_putc(b, '"');

	for (const char *p = name; !rc && *p; p++) {
		if (*p == '"')
			rc = mig_buf_putc(b, '"');
		if (!rc)
			rc = mig_buf_putc(b, *p);
	}
	return rc ? rc : mig_buf_putc(b, '"');
}

/* Declared type -> kind: case-insensitive, by the first word, so that
 * "DECIMAL TEXT" is DECIMAL and "VARCHAR(20)" is TEXT. */
static enum kind kind_of_decl(const char *decl)
{
	static const struct {
		const char *word;
		enum kind kind;
	} words[] = {
		{ "INTEGER", K_INTEGER }, { "INT", K_INTEGER }, { "BIGINT", K_INTEGER },
		{ "SMALLINT", K_INTEGER }, { "TINYINT", K_INTEGER }, { "MEDIUMINT", K_INTEGER },
		{ "INT2", K_INTEGER }, { "INT4", K_INTEGER }, { "INT8", K_INTEGER },
		{ "UNSIGNED", K_INTEGER },
		{ "REAL", K_REAL }, { "DOUBLE", K_REAL }, { "FLOAT", K_REAL },
		{ "FLOAT4", K_REAL }, { "FLOAT8", K_REAL },
		{ "BOOLEAN", K_BOOL }, { "BOOL", K_BOOL },
		{ "TEXT", K_TEXT }, { "VARCHAR", K_TEXT }, { "CHAR", K_TEXT },
		{ "CHARACTER", K_TEXT }, { "NCHAR", K_TEXT }, { "NVARCHAR", K_TEXT },
		{ "CLOB", K_TEXT }, { "STRING", K_TEXT }, { "UUID", K_TEXT },
		{ "TIMESTAMP", K_DATE }, { "TIMESTAMPTZ", K_DATE }, { "DATETIME", K_DATE },
		{ "DATE", K_DATE },
		{ "DECIMAL", K_DECIMAL }, { "NUMERIC", K_DECIMAL },
		{ "BLOB", K_BLOB }, { "BYTEA", K_BLOB },
		{ "JSON", K_JSON }, { "JSONB", K_JSON },
		{ "OBJECTID", K_OID },
	};
	size_t n = 0;

	if (!decl)
		return K_ANY;
	while (decl[n] && decl[n] != ' ' && decl[n] != '\t' && decl[n] != '(')
		n++;
	for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
		if (strlen(words[i].word) == n && sqlite3_strnicmp(decl, words[i].word, (int)n) == 0)
			return words[i].kind;
	return K_ANY;
}

/*
 * The declared type --create gives each class.  A bare DECIMAL or JSON
 * declared type would have NUMERIC affinity, and SQLite would turn the text
 * "12.50" into the number 12.5; a type name that contains "TEXT" (and not
 * "INT") gets TEXT affinity and keeps the text as it was bound, while its
 * first word still tells the reader what the text means.
 */
static const char *decl_of_class(enum vclass c)
{
	switch (c) {
	case C_INT: return "INTEGER";
	case C_REAL: return "REAL";
	case C_BOOL: return "BOOLEAN";
	case C_TEXT: return "TEXT";
	case C_DATE: return "TIMESTAMP";
	case C_DECIMAL: return "DECIMAL TEXT";
	case C_BLOB: return "BLOB";
	case C_OID: return "OBJECTID TEXT";
	default: return "JSON TEXT";
	}
}

static enum vclass class_of(const json_t *v)
{
	switch (mig_value_type(v)) {
	case MIG_V_NULL: return C_NONE;
	case MIG_V_BOOL: return C_BOOL;
	case MIG_V_INT: return C_INT;
	case MIG_V_DOUBLE: return C_REAL;
	case MIG_V_STRING: return C_TEXT;
	case MIG_V_DATE: return C_DATE;
	case MIG_V_DECIMAL: return C_DECIMAL;
	case MIG_V_OID: return C_OID;
	case MIG_V_BINARY: {
		uint8_t *p = NULL;
		size_t n;
		int sub = -1;

		if (mig_value_get_binary(v, &p, &n, &sub, NULL) == 0 && sub == 0) {
			free(p);
			return C_BLOB;
		}
		free(p);
		return C_JSON;
	}
	default: return C_JSON;
	}
}

static enum vclass class_merge(enum vclass a, enum vclass b)
{
	if (a == C_NONE)
		return b;
	if (b == C_NONE || a == b)
		return a;
	if ((a == C_INT && b == C_REAL) || (a == C_REAL && b == C_INT))
		return C_REAL;
	return C_JSON;
}

static const char *article(const char *name)
{
	return strchr("aeiou", name[0]) ? "an" : "a";
}

/* Runs a statement that returns no rows. */
static int exec(struct sq_store *s, const char *sql, const char *what, struct mig_error *err)
{
	if (sqlite3_exec(s->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return sq_fail(s, err, what);
	return 0;
}

/* The WHERE of an upsert's DO UPDATE: runs only when the row existed. */
static void upsert_updated(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	struct sq_store *s = sqlite3_user_data(ctx);

	s->updated = 1;
	sqlite3_result_int(ctx, 1);
}

static int prepare(struct sq_store *s, sqlite3_stmt **out, const char *sql, int persistent)
{
	return sqlite3_prepare_v3(s->db, sql, -1, persistent ? SQLITE_PREPARE_PERSISTENT : 0,
				  out, NULL);
}

/* -------------------------------------------------------------- open/close */

/* Opens the connection: busy timeout, extended codes, our function. */
static int db_open(struct sq_store *s, const char *path, int oflags, struct mig_error *err)
{
	const char *name = s->base.loc->path;

	if (sqlite3_open_v2(path, &s->db, oflags, NULL) != SQLITE_OK) {
		int rc = mig_error_set(err, s->db ? MIG_EIO : MIG_ENOMEM, "sqlite:%s: %s", name,
				       s->db ? sqlite3_errmsg(s->db) : "out of memory");
		sqlite3_close(s->db);
		s->db = NULL;
		return rc;
	}
	sqlite3_extended_result_codes(s->db, 1);
	sqlite3_busy_timeout(s->db, BUSY_TIMEOUT_MS);
	/* not deterministic, so that SQLite calls it each time; direct only,
	 * so that no trigger or view of the user's can call it */
	if (sqlite3_create_function_v2(s->db, "mig_upsert_updated", 0,
				       SQLITE_UTF8 | SQLITE_DIRECTONLY, s, upsert_updated,
				       NULL, NULL, NULL) != SQLITE_OK)
		return mig_error_set(err, MIG_ENOMEM, "sqlite:%s: %s", name, sqlite3_errmsg(s->db));
	/* sqlite3_open_v2 is lazy: read the schema now, so that a file that is
	 * not a database fails here and not in the middle of a load */
	if (sqlite3_exec(s->db, "SELECT count(*) FROM sqlite_master", NULL, NULL, NULL) != SQLITE_OK)
		return mig_error_set(err, MIG_EIO, "sqlite:%s: %s", name, sqlite3_errmsg(s->db));
	return 0;
}

/* A store opened for writing on a missing file opens (and so creates) it
 * only when something is to be written: a load that fails early, or has
 * no input, leaves no empty file behind. */
static int ensure_db(struct sq_store *s, struct mig_error *err)
{
	if (s->db)
		return 0;
	return db_open(s, s->base.loc->path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, err);
}

static int sq_open(struct mig_store **out, struct mig_locator *loc, int flags,
		   struct mig_error *err)
{
	struct sq_store *s = NULL;
	const char *path = loc->path;
	struct stat sb;
	int rc = 0;

	*out = NULL;
	if (!path || !*path)
		return mig_error_set(err, MIG_EUSAGE, "%s: the locator names no file",
				     loc->redacted ? loc->redacted : "sqlite");
	s = calloc(1, sizeof *s);
	if (!s)
		return oom(err);
	s->base.loc = loc;
	s->flags = flags;
	s->table = loc->collection;
	mig_buf_init(&s->sql, 0);
	mig_buf_init(&s->txt, 0);

	int missing = stat(path, &sb) != 0 && errno == ENOENT;
	if (!(flags & MIG_OPEN_WRITE)) {
		if (missing)
			rc = mig_error_set(err, MIG_EIO, "sqlite:%s: no such file", path);
		else
			rc = db_open(s, path, SQLITE_OPEN_READONLY, err);
	} else if (missing && (flags & MIG_OPEN_DRYRUN)) {
		/* a dry run creates nothing: a missing database is a fresh,
		 * private temporary one, so that the load is still checked and
		 * counted.  "" rather than ":memory:": SQLite deletes it on
		 * close, and its pages spill to disk, so memory stays bounded
		 * however large the input. */
		rc = db_open(s, "", SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, err);
	} else if (!missing) {
		rc = db_open(s, path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, err);
	}
	if (rc) {
		s->base.loc = NULL;    /* the caller keeps loc on failure */
		sqlite3_close(s->db);
		free(s);
		return rc;
	}
	*out = &s->base;
	return 0;
}

/* --------------------------------------------------------------- snapshots */

/*
 * One consistent view of the database for several stores (mig-backup):
 * the store that takes the snapshot opens a read transaction and keeps
 * it until it closes; a store given its token reads through that very
 * connection, and so inside that transaction.  SQLite has no way to hand
 * a read transaction to another connection (sqlite3_snapshot_open needs
 * a build with SQLITE_ENABLE_SNAPSHOT, which Debian's lacks, and WAL
 * mode), so the token is valid in this process only.  In WAL mode
 * writers go on meanwhile; in rollback-journal mode they wait for the
 * backup (up to their busy timeout), as they would for sqlite3 .backup.
 */
static struct sq_store *snapshots;
static unsigned long snapshot_last;

static void snapshot_forget(struct sq_store *s)
{
	for (struct sq_store **p = &snapshots; *p; p = &(*p)->snap_next)
		if (*p == s) {
			*p = s->snap_next;
			break;
		}
	s->snap_id = 0;
}

static int sq_snapshot_begin(struct mig_store *st, char **token, struct mig_error *err)
{
	struct sq_store *s = (struct sq_store *)st;
	char buf[64];
	int rc;

	*token = NULL;
	if (s->snap_id || s->borrowed)
		return mig_error_set(err, MIG_EUSAGE, "%s: a snapshot is already open", where(s));
	rc = ensure_db(s, err);
	if (rc)
		return rc;
	/* BEGIN is deferred: the first read takes the snapshot */
	if (sqlite3_exec(s->db, "BEGIN; SELECT count(*) FROM sqlite_master", NULL, NULL, NULL)
	    != SQLITE_OK) {
		rc = sq_fail(s, err, "starting the snapshot");
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
		return rc;
	}
	snprintf(buf, sizeof buf, "sqlite-snapshot:%ld:%lu", (long)getpid(), ++snapshot_last);
	*token = strdup(buf);
	if (!*token) {
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
		return oom(err);
	}
	s->snap_id = snapshot_last;
	s->snap_next = snapshots;
	snapshots = s;
	return 0;
}

/* Makes s read through the connection that holds snapshot token. */
static int snapshot_join(struct sq_store *s, const char *token, struct mig_error *err)
{
	char buf[64];

	if (s->borrowed)
		return 0;
	for (struct sq_store *o = snapshots; o; o = o->snap_next) {
		snprintf(buf, sizeof buf, "sqlite-snapshot:%ld:%lu", (long)getpid(), o->snap_id);
		if (strcmp(buf, token))
			continue;
		if (strcmp(o->base.loc->path, s->base.loc->path))
			return mig_error_set(err, MIG_EUSAGE, "%s: the snapshot is of another database "
					     "(%s)", where(s), o->base.loc->path);
		if (o == s)
			return 0;
		sqlite3_close(s->db);
		s->db = o->db;
		s->borrowed = 1;
		return 0;
	}
	return mig_error_set(err, MIG_EUSAGE, "%s: no such snapshot: %s", where(s), token);
}

static void read_reset(struct sq_store *s)
{
	sqlite3_finalize(s->rd);
	s->rd = NULL;
	for (int i = 0; i < s->rcols; i++)
		free(s->rnames[i]);
	free(s->rnames);
	free(s->rkinds);
	s->rnames = NULL;
	s->rkinds = NULL;
	s->rcols = 0;
}

static void shapes_flush(struct sq_store *s)
{
	for (size_t i = 0; i < s->nshapes; i++) {
		sqlite3_finalize(s->shapes[i].ins);
		free(s->shapes[i].names);
		free(s->shapes[i].col);
	}
	memset(s->shapes, 0, sizeof s->shapes);
	s->nshapes = 0;
	s->last = NULL;
	sqlite3_finalize(s->del);
	s->del = NULL;
}

static void cols_free(struct sq_store *s)
{
	for (size_t i = 0; i < s->ncols; i++) {
		free(s->cols[i].name);
		free(s->cols[i].decl);
	}
	s->ncols = 0;
}

static void write_reset(struct sq_store *s)
{
	shapes_flush(s);
	cols_free(s);
	free(s->cols);
	s->cols = NULL;
	s->capcols = 0;
	if (s->keys) {
		for (size_t i = 0; s->keys[i]; i++)
			free(s->keys[i]);
		free(s->keys);
		s->keys = NULL;
	}
	s->writing = 0;
}

static void sq_close(struct mig_store *st)
{
	struct sq_store *s = (struct sq_store *)st;

	if (!s)
		return;
	read_reset(s);
	write_reset(s);
	if (s->borrowed) {
		s->db = NULL;          /* the snapshot holder's */
	} else if (s->snap_id) {
		snapshot_forget(s);
		/* _v2: a store still reading through this connection keeps it
		 * alive (as a zombie) until its statement is finalized */
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
		sqlite3_close_v2(s->db);
		s->db = NULL;
	}
	/* an open transaction of ours (write_end never came) is rolled back
	 * by closing the connection */
	sqlite3_close(s->db);
	mig_buf_free(&s->sql);
	mig_buf_free(&s->txt);
	free(s);
}

/* ----------------------------------------------------------------- reading */

static int need_table(struct sq_store *s, struct mig_error *err)
{
	if (!s->table)
		return mig_error_set(err, MIG_EUSAGE, "%s: no table given (sqlite:PATH#TABLE)",
				     where(s));
	return 0;
}

/* 1 if the table (or view) exists, 0 if not, < 0 on error. */
static int table_exists(struct sq_store *s, const char *name, struct mig_error *err)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (prepare(s, &st, "SELECT 1 FROM pragma_table_info(?1)", 0) != SQLITE_OK)
		return sq_fail(s, err, "reading the schema");
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		rc = 1;
	else if (rc == SQLITE_DONE)
		rc = 0;
	else
		rc = sq_fail(s, err, "reading the schema");
	sqlite3_finalize(st);
	return rc;
}

/* Builds SELECT * FROM table-or-(query) [WHERE] [ORDER BY] [LIMIT] into
 * s->sql.  Clauses go on lines of their own so that a "--" comment at the
 * end of a user's expression cannot swallow the next clause. */
static int build_select(struct sq_store *s, const struct mig_read_opts *o, int with_order,
			struct mig_error *err)
{
	struct mig_buf *b = &s->sql;
	int rc = 0;
	int wrap = o->where || (with_order && o->order_by) || o->limit >= 0;

	mig_buf_reset(b);
	if (o->query) {
		size_t n = strlen(o->query);
		while (n && strchr(" \t\r\n;", o->query[n - 1]))
			n--;
		if (!n)
			return mig_error_set(err, MIG_EUSAGE, "%s: the query is empty", where(s));
		if (wrap) {
			rc = mig_buf_puts(b, "SELECT * FROM (");
			if (!rc)
				rc = mig_buf_append(b, o->query, n);
			if (!rc)
				rc = mig_buf_puts(b, "\n)");
		} else {
			rc = mig_buf_append(b, o->query, n);
		}
	} else {
		rc = need_table(s, err);
		if (rc)
			return rc;
		rc = mig_buf_puts(b, "SELECT * FROM ");
		if (!rc)
			rc = put_ident(b, s->table);
	}
	if (!rc && o->where)
		rc = mig_buf_printf(b, "\nWHERE %s", o->where);
	if (!rc && with_order && o->order_by)
		rc = mig_buf_printf(b, "\nORDER BY %s", o->order_by);
	if (!rc && o->limit >= 0)
		rc = mig_buf_printf(b, "\nLIMIT %lld", (long long)o->limit);
	return rc ? oom(err) : 0;
}

/* Prepares s->sql for reading: one read-only statement that returns rows.
 * A missing table is MIG_EIO; other SQL errors come from the user's
 * --query/--where/--order-by and are MIG_EUSAGE. */
static int prepare_read(struct sq_store *s, const struct mig_read_opts *o, sqlite3_stmt **out,
			struct mig_error *err)
{
	sqlite3_stmt *st = NULL;
	const char *tail = NULL;
	int rc;

	*out = NULL;
	if (o->shard_n > 1)
		return mig_error_set(err, MIG_EUSAGE, "%s: the sqlite backend cannot --shard",
				     where(s));
	if (!o->query && s->table) {
		rc = table_exists(s, s->table, err);
		if (rc < 0)
			return rc;
		if (!rc)
			return mig_error_set(err, MIG_EIO, "%s: no such table", where(s));
	}
	rc = sqlite3_prepare_v2(s->db, s->sql.data, (int)s->sql.len, &st, &tail);
	if (rc != SQLITE_OK) {
		int code = is_store_error(rc) ? MIG_EIO : MIG_EUSAGE;
		return mig_error_set(err, code, "%s: %s", where(s), sqlite3_errmsg(s->db));
	}
	if (tail && tail[strspn(tail, " \t\r\n;")]) {
		sqlite3_finalize(st);
		return mig_error_set(err, MIG_EUSAGE, "%s: the query holds more than one statement",
				     where(s));
	}
	if (!st || sqlite3_column_count(st) == 0 || !sqlite3_stmt_readonly(st)) {
		sqlite3_finalize(st);
		return mig_error_set(err, MIG_EUSAGE, "%s: the query must be a SELECT", where(s));
	}
	*out = st;
	return 0;
}

/*
 * Duplicate column names (a join of two tables that both have "id") are
 * kept apart: the later ones get "_2", "_3", ... (the first suffix not
 * already taken).  Rejecting the query would make joins painful, and
 * keeping only one value would lose data silently.
 */
static int read_names(struct sq_store *s, struct mig_error *err)
{
	int n = sqlite3_column_count(s->rd);

	s->rnames = calloc((size_t)n, sizeof *s->rnames);
	s->rkinds = calloc((size_t)n, sizeof *s->rkinds);
	if (!s->rnames || !s->rkinds)
		return oom(err);
	s->rcols = n;
	for (int i = 0; i < n; i++) {
		const char *name = sqlite3_column_name(s->rd, i);
		char *u;

		if (!name)
			return oom(err);
		u = strdup(name);
		for (int k = 2; u; k++) {
			int j;
			for (j = 0; j < i; j++)
				if (strcmp(s->rnames[j], u) == 0)
					break;
			if (j == i)
				break;
			free(u);
			size_t len = strlen(name) + 16;
			u = malloc(len);
			if (u)
				snprintf(u, len, "%s_%d", name, k);
		}
		if (!u)
			return oom(err);
		s->rnames[i] = u;
		s->rkinds[i] = kind_of_decl(sqlite3_column_decltype(s->rd, i));
	}
	return 0;
}

static int sq_read_begin(struct mig_store *st, const struct mig_read_opts *o,
			 struct mig_error *err)
{
	struct sq_store *s = (struct sq_store *)st;
	int rc;

	read_reset(s);
	rc = ensure_db(s, err);
	if (!rc && o->snapshot)
		rc = snapshot_join(s, o->snapshot, err);
	if (!rc)
		rc = build_select(s, o, 1, err);
	if (!rc)
		rc = prepare_read(s, o, &s->rd, err);
	if (!rc)
		rc = read_names(s, err);
	if (rc)
		read_reset(s);
	return rc;
}

static int is_dec_text(const char *t, size_t n)
{
	json_t *w = mig_value_decimal(t);
	const char *d;
	int ok;

	if (!w || strlen(t) != n)
		ok = 0;
	else
		ok = mig_value_get_decimal(w, &d, NULL) == 0;
	json_decref(w);
	return ok;
}

/* A TEXT value, by the column's kind. */
static json_t *text_value(const char *t, size_t n, enum kind k)
{
	json_t *v = NULL;
	int64_t us;

	switch (k) {
	case K_DATE:
		if (mig_date_parse(t, n, &us, NULL) == 0)
			return mig_value_date(us);
		break;
	case K_DECIMAL:
		if (is_dec_text(t, n))
			return mig_value_decimal(t);
		break;
	case K_JSON:
		v = json_loadb(t, n, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
		if (v)
			return v;
		break;
	case K_OID:
		if (n == 24) {
			uint8_t oid[12];
			size_t i;
			for (i = 0; i < 12; i++) {
				int hi = mig_hex_digit((unsigned char)t[2 * i]);
				int lo = mig_hex_digit((unsigned char)t[2 * i + 1]);
				if (hi < 0 || lo < 0)
					break;
				oid[i] = (uint8_t)(hi << 4 | lo);
			}
			if (i == 12)
				return mig_value_oid(oid);
		}
		break;
	case K_REAL:
		if (n == 3 && memcmp(t, "NaN", 3) == 0)
			return mig_value_double(NAN);
		if (n == 8 && memcmp(t, "Infinity", 8) == 0)
			return mig_value_double(INFINITY);
		if (n == 9 && memcmp(t, "-Infinity", 9) == 0)
			return mig_value_double(-INFINITY);
		break;
	default:
		break;
	}
	return json_stringn(t, n);
}

/* Column i of the current row; NULL with *bad set when the text is not
 * UTF-8, NULL alone on ENOMEM. */
static json_t *column_value(sqlite3_stmt *st, int i, enum kind k, int *bad)
{
	const char *t;
	int n;
	json_t *v;

	switch (sqlite3_column_type(st, i)) {
	case SQLITE_NULL:
		return json_null();
	case SQLITE_INTEGER:
		if (k == K_BOOL)
			return json_boolean(sqlite3_column_int64(st, i) != 0);
		if (k == K_DECIMAL)
			return mig_value_decimal((const char *)sqlite3_column_text(st, i));
		return json_integer(sqlite3_column_int64(st, i));
	case SQLITE_FLOAT:
		if (k == K_DECIMAL)
			return mig_value_decimal((const char *)sqlite3_column_text(st, i));
		return mig_value_double(sqlite3_column_double(st, i));
	case SQLITE_BLOB: {
		const void *p = sqlite3_column_blob(st, i);
		n = sqlite3_column_bytes(st, i);
		return mig_value_binary(p ? p : "", (size_t)n, 0);
	}
	default:
		t = (const char *)sqlite3_column_text(st, i);
		n = sqlite3_column_bytes(st, i);
		if (!t)
			return NULL;
		v = text_value(t, (size_t)n, k);
		if (!v)
			*bad = 1;   /* json_stringn refuses invalid UTF-8 */
		return v;
	}
}

static int sq_read_next(struct mig_store *st, json_t **out, struct mig_error *err)
{
	struct sq_store *s = (struct sq_store *)st;
	json_t *rec = NULL;
	int rc;

	*out = NULL;
	if (!s->rd)
		return MIG_DONE;
	rc = sqlite3_step(s->rd);
	if (rc == SQLITE_DONE)
		return MIG_DONE;
	if (rc != SQLITE_ROW)
		return sq_fail(s, err, "reading");
	rec = json_object();
	if (!rec)
		return oom(err);
	for (int i = 0; i < s->rcols; i++) {
		int bad = 0;
		json_t *v = column_value(s->rd, i, s->rkinds[i], &bad);

		if (!v) {
			json_decref(rec);
			if (bad)
				return mig_error_set(err, MIG_EDATA,
						     "%s: column %s: text is not valid UTF-8",
						     where(s), s->rnames[i]);
			return oom(err);
		}
		if (json_object_set_new(rec, s->rnames[i], v)) {
			json_decref(rec);
			return mig_error_set(err, MIG_EDATA,
					     "%s: column name %s is not valid UTF-8",
					     where(s), s->rnames[i]);
		}
	}
	*out = rec;
	return 0;
}

static int sq_count(struct mig_store *st, const struct mig_read_opts *o, uint64_t *out,
		    struct mig_error *err)
{
	struct sq_store *s = (struct sq_store *)st;
	sqlite3_stmt *q = NULL;
	int rc;

	*out = 0;
	rc = ensure_db(s, err);
	if (!rc)
		rc = build_select(s, o, 0, err);
	if (rc)
		return rc;
	/* SELECT count(*) of the very statement a read would run */
	struct mig_buf *b = &s->sql;
	char *inner = mig_buf_steal(b);
	if (!inner)
		return oom(err);
	mig_buf_init(b, 0);
	rc = mig_buf_puts(b, "SELECT count(*) FROM (");
	if (!rc)
		rc = mig_buf_puts(b, inner);
	if (!rc)
		rc = mig_buf_puts(b, "\n)");
	free(inner);
	if (rc)
		return oom(err);
	rc = prepare_read(s, o, &q, err);
	if (rc)
		return rc;
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW) {
		*out = (uint64_t)sqlite3_column_int64(q, 0);
		rc = 0;
	} else {
		rc = sq_fail(s, err, "counting");
	}
	sqlite3_finalize(q);
	return rc;
}

static int sq_list(struct mig_store *st, json_t **out, struct mig_error *err)
{
	struct sq_store *s = (struct sq_store *)st;
	sqlite3_stmt *q = NULL, *c = NULL;
	json_t *arr;
	int rc, step;

	*out = NULL;
	rc = ensure_db(s, err);
	if (rc)
		return rc;
	arr = json_array();
	if (!arr)
		return oom(err);
	if (prepare(s, &q, "SELECT name FROM sqlite_master WHERE type = 'table' "
		    "AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name", 0) != SQLITE_OK) {
		rc = sq_fail(s, err, "listing tables");
		goto out;
	}
	while ((step = sqlite3_step(q)) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(q, 0);
		json_t *o;

		if (!name) {
			rc = oom(err);
			goto out;
		}
		mig_buf_reset(&s->sql);
		if (mig_buf_puts(&s->sql, "SELECT count(*) FROM ") || put_ident(&s->sql, name)) {
			rc = oom(err);
			goto out;
		}
		if (prepare(s, &c, s->sql.data, 0) != SQLITE_OK || sqlite3_step(c) != SQLITE_ROW) {
			rc = mig_error_set(err, MIG_EIO, "%s: counting %s: %s", where(s), name,
					   sqlite3_errmsg(s->db));
			goto out;
		}
		o = json_pack("{s:s, s:I}", "name", name, "count",
			      (json_int_t)sqlite3_column_int64(c, 0));
		sqlite3_finalize(c);
		c = NULL;
		if (!o || json_array_append_new(arr, o)) {
			rc = o ? oom(err) : mig_error_set(err, MIG_EDATA,
							  "%s: table name %s is not valid UTF-8",
							  where(s), name);
			goto out;
		}
	}
	if (step != SQLITE_DONE)
		rc = sq_fail(s, err, "listing tables");
out:
	sqlite3_finalize(c);
	sqlite3_finalize(q);
	if (rc)
		json_decref(arr);
	else
		*out = arr;
	return rc;
}

/* The JSON Schema of one column: its type by kind, "null" too when the
 * column is nullable, and the declared type in "x-mig-type". */
static json_t *column_schema(const char *decl, int notnull)
{
	const char *type = NULL, *format = NULL;
	json_t *p = json_object();

	if (!p)
		return NULL;
	switch (kind_of_decl(decl && *decl ? decl : NULL)) {
	case K_INTEGER: type = "integer"; break;
	case K_REAL: type = "number"; break;
	case K_BOOL: type = "boolean"; break;
	case K_TEXT: type = "string"; break;
	case K_DATE: type = "string"; format = "date-time"; break;
	case K_DECIMAL: type = "string"; break;
	case K_OID: type = "string"; break;
	default: break;   /* BLOB, JSON, no declared type: any value */
	}
	if (type) {
		json_t *t = notnull ? json_string(type) : json_pack("[s, s]", type, "null");
		if (json_object_set_new(p, "type", t))
			goto fail;
	}
	if (format && json_object_set_new(p, "format", json_string(format)))
		goto fail;
	if (decl && *decl && json_object_set_new(p, "x-mig-type", json_string(decl)))
		goto fail;
	return p;
fail:
	json_decref(p);
	return NULL;
}

static int sq_describe(struct mig_store *st, json_t **out, struct mig_error *err)
{
	struct sq_store *s = (struct sq_store *)st;
	sqlite3_stmt *q = NULL;
	json_t *doc = NULL, *props, *req, *pk;
	int rc, step, n = 0;

	*out = NULL;
	rc = need_table(s, err);
	if (!rc)
		rc = ensure_db(s, err);
	if (rc)
		return rc;
	doc = json_pack("{s:s, s:s, s:s, s:{}, s:[], s:[]}",
			"$schema", "https://json-schema.org/draft/2020-12/schema",
			"title", s->table, "type", "object", "properties",
			"required", "x-mig-primary-key");
	if (!doc)
		return mig_error_set(err, MIG_EDATA, "%s: the table name is not valid UTF-8",
				     where(s));
	props = json_object_get(doc, "properties");
	req = json_object_get(doc, "required");
	pk = json_object_get(doc, "x-mig-primary-key");
	/* pk is the column's position in the primary key (1-based), or 0 */
	if (prepare(s, &q, "SELECT name, type, \"notnull\", pk FROM pragma_table_info(?1) "
		    "ORDER BY cid", 0) != SQLITE_OK) {
		rc = sq_fail(s, err, "reading the schema");
		goto out;
	}
	sqlite3_bind_text(q, 1, s->table, -1, SQLITE_STATIC);
	while ((step = sqlite3_step(q)) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(q, 0);
		const char *decl = (const char *)sqlite3_column_text(q, 1);
		int notnull = sqlite3_column_int(q, 2);
		int pkn = sqlite3_column_int(q, 3);
		json_t *p;

		n++;
		if (!name || !(p = column_schema(decl, notnull)) ||
		    json_object_set_new(props, name, p) ||
		    (notnull && json_array_append_new(req, json_string(name)))) {
			rc = oom(err);
			goto out;
		}
		if (pkn > 0) {
			/* pk positions count up from 1 without gaps */
			while (json_array_size(pk) < (size_t)pkn)
				if (json_array_append_new(pk, json_null())) {
					rc = oom(err);
					goto out;
				}
			if (json_array_set_new(pk, (size_t)pkn - 1, json_string(name))) {
				rc = oom(err);
				goto out;
			}
		}
	}
	if (step != SQLITE_DONE)
		rc = sq_fail(s, err, "reading the schema");
	else if (n == 0)
		rc = mig_error_set(err, MIG_EIO, "%s: no such table", where(s));
out:
	sqlite3_finalize(q);
	if (rc)
		json_decref(doc);
	else
		*out = doc;
	return rc;
}

/*
 * The native definition of a table: its CREATE TABLE and CREATE INDEX
 * statements as sqlite_master keeps them, and the tables its foreign keys
 * name (so that mig-restore loads those first):
 *   {"name": T, "table": "CREATE TABLE ...",
 *    "indexes": [{"name": I, "sql": "CREATE INDEX ..."}], "depends_on": [...]}
 * Automatic indexes (of PRIMARY KEY and UNIQUE constraints) have no SQL
 * and come back with the table.  Triggers are left out: they would fire
 * during the restore itself.
 */
static int sq_native(struct mig_store *st, json_t **out, struct mig_error *err)
{
	struct sq_store *s = (struct sq_store *)st;
	sqlite3_stmt *q = NULL;
	json_t *nat = NULL, *idx, *dep;
	int rc, step;

	*out = NULL;
	rc = need_table(s, err);
	if (!rc)
		rc = ensure_db(s, err);
	if (rc)
		return rc;
	nat = json_pack("{s:[], s:[]}", "indexes", "depends_on");
	if (!nat)
		return oom(err);
	idx = json_object_get(nat, "indexes");
	dep = json_object_get(nat, "depends_on");
	if (prepare(s, &q, "SELECT type, name, sql FROM sqlite_master WHERE tbl_name = ?1 "
		    "COLLATE NOCASE AND type IN ('table', 'index') AND sql IS NOT NULL "
		    "ORDER BY type <> 'table', rowid", 0) != SQLITE_OK) {
		rc = sq_fail(s, err, "reading the schema");
		goto out;
	}
	sqlite3_bind_text(q, 1, s->table, -1, SQLITE_STATIC);
	while ((step = sqlite3_step(q)) == SQLITE_ROW) {
		const char *type = (const char *)sqlite3_column_text(q, 0);
		const char *name = (const char *)sqlite3_column_text(q, 1);
		const char *sql = (const char *)sqlite3_column_text(q, 2);
		int bad;

		if (!type || !name || !sql) {
			rc = oom(err);
			goto out;
		}
		if (strcmp(type, "table") == 0)
			bad = json_object_set_new(nat, "name", json_string(name)) ||
			      json_object_set_new(nat, "table", json_string(sql));
		else
			bad = json_array_append_new(idx, json_pack("{s:s, s:s}", "name", name,
								   "sql", sql));
		if (bad) {
			rc = mig_error_set(err, MIG_EDATA, "%s: the schema is not valid UTF-8", where(s));
			goto out;
		}
	}
	if (step != SQLITE_DONE) {
		rc = sq_fail(s, err, "reading the schema");
		goto out;
	}
	if (!json_object_get(nat, "table")) {
		rc = mig_error_set(err, MIG_EIO, "%s: no such table", where(s));
		goto out;
	}
	sqlite3_finalize(q);
	q = NULL;
	if (prepare(s, &q, "SELECT DISTINCT \"table\" FROM pragma_foreign_key_list(?1)", 0)
	    != SQLITE_OK) {
		rc = sq_fail(s, err, "reading the foreign keys");
		goto out;
	}
	sqlite3_bind_text(q, 1, s->table, -1, SQLITE_STATIC);
	while ((step = sqlite3_step(q)) == SQLITE_ROW) {
		const char *t = (const char *)sqlite3_column_text(q, 0);
		if (t && sqlite3_stricmp(t, s->table) &&
		    json_array_append_new(dep, json_string(t))) {
			rc = oom(err);
			goto out;
		}
	}
	if (step != SQLITE_DONE)
		rc = sq_fail(s, err, "reading the foreign keys");
out:
	sqlite3_finalize(q);
	if (rc)
		json_decref(nat);
	else
		*out = nat;
	return rc;
}

/* ----------------------------------------------------------------- writing */

static int cols_add(struct sq_store *s, const char *name, const char *decl)
{
	if (s->ncols == s->capcols) {
		size_t cap = s->capcols ? s->capcols * 2 : 16;
		struct col *c = realloc(s->cols, cap * sizeof *c);
		if (!c)
			return MIG_ENOMEM;
		s->cols = c;
		s->capcols = cap;
	}
	struct col *c = &s->cols[s->ncols];
	c->name = strdup(name);
	c->decl = strdup(decl ? decl : "");
	c->kind = kind_of_decl(decl && *decl ? decl : NULL);
	if (!c->name || !c->decl) {
		free(c->name);
		free(c->decl);
		return MIG_ENOMEM;
	}
	s->ncols++;
	return 0;
}

static int schema_version(struct sq_store *s, int *out, struct mig_error *err)
{
	sqlite3_stmt *q = NULL;
	int rc = 0;

	if (prepare(s, &q, "PRAGMA schema_version", 0) != SQLITE_OK || sqlite3_step(q) != SQLITE_ROW)
		rc = sq_fail(s, err, "reading the schema");
	else
		*out = sqlite3_column_int(q, 0);
	sqlite3_finalize(q);
	return rc;
}

/* (Re)reads whether the table exists and its columns; forgets the
 * prepared statements, which may name columns that are gone. */
static int load_table(struct sq_store *s, struct mig_error *err)
{
	sqlite3_stmt *q = NULL;
	int rc = 0, step;

	shapes_flush(s);
	cols_free(s);
	s->exists = 0;
	if (prepare(s, &q, "SELECT name, type FROM pragma_table_info(?1) ORDER BY cid", 0)
	    != SQLITE_OK)
		return sq_fail(s, err, "reading the schema");
	sqlite3_bind_text(q, 1, s->table, -1, SQLITE_STATIC);
	while ((step = sqlite3_step(q)) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(q, 0);
		const char *decl = (const char *)sqlite3_column_text(q, 1);
		if (!name || cols_add(s, name, decl)) {
			rc = oom(err);
			break;
		}
	}
	if (!rc && step != SQLITE_DONE)
		rc = sq_fail(s, err, "reading the schema");
	sqlite3_finalize(q);
	if (!rc)
		rc = schema_version(s, &s->schema_version, err);
	if (rc) {
		cols_free(s);
		return rc;
	}
	/* a --drop still to run makes the table as good as missing */
	s->exists = s->ncols > 0 && !(s->drop_pending && !s->prep_done);
	if (!s->exists)
		cols_free(s);
	return 0;
}

/* The column a field goes to (SQLite matches names ignoring ASCII case),
 * or -1.  hint is where the field would be if the record's fields follow
 * the table's columns. */
static int find_col(const struct sq_store *s, const char *name, size_t hint)
{
	if (hint < s->ncols && sqlite3_stricmp(s->cols[hint].name, name) == 0)
		return (int)hint;
	for (size_t i = 0; i < s->ncols; i++)
		if (sqlite3_stricmp(s->cols[i].name, name) == 0)
			return (int)i;
	return -1;
}

static int put_key_list(struct sq_store *s, struct mig_buf *b)
{
	int rc = 0;

	for (size_t i = 0; !rc && i < s->wo.nkeys; i++) {
		if (i)
			rc = mig_buf_puts(b, ", ");
		if (!rc)
			rc = put_ident(b, s->keys[i]);
	}
	return rc;
}

/* Prepares an INSERT ... ON CONFLICT(keys); SQLite refuses it unless the
 * table has a PRIMARY KEY or UNIQUE index on exactly the keys, which is a
 * usage error.  Returns 0, 1 for another error of SQL (the caller
 * decides), or < 0. */
static int check_upsert_target(struct sq_store *s, sqlite3_stmt **stp, const char *sql,
			       struct mig_error *err)
{
	int rc = prepare(s, stp, sql, 1);

	if (rc == SQLITE_OK)
		return 0;
	if (strstr(sqlite3_errmsg(s->db), "does not match any PRIMARY KEY or UNIQUE")) {
		char *keys;
		struct mig_buf b;

		mig_buf_init(&b, 0);
		for (size_t i = 0; i < s->wo.nkeys; i++)
			if ((i && mig_buf_puts(&b, ", ")) || mig_buf_puts(&b, s->keys[i]))
				break;
		keys = mig_buf_steal(&b);
		rc = mig_error_set(err, MIG_EUSAGE,
				   "%s: writing by key (%s) needs a PRIMARY KEY or UNIQUE index "
				   "on exactly those columns", where(s), keys ? keys : "");
		free(keys);
		return rc;
	}
	if (is_store_error(rc))
		return sq_fail(s, err, "preparing a statement");
	return 1;   /* a record-level error: the caller decides */
}

/* Checks at write_begin, rather than at the first record, that the keys
 * are columns and that conflicts on them can be caught. */
static int probe_upsert(struct sq_store *s, struct mig_error *err)
{
	struct mig_buf *b = &s->sql;
	sqlite3_stmt *st = NULL;
	int rc;

	for (size_t i = 0; i < s->wo.nkeys; i++)
		if (find_col(s, s->keys[i], i) < 0)
			return mig_error_set(err, MIG_EUSAGE, "%s: key %s is not a column of the table",
					     where(s), s->keys[i]);
	mig_buf_reset(b);
	rc = mig_buf_puts(b, "INSERT INTO ");
	if (!rc)
		rc = put_ident(b, s->table);
	if (!rc)
		rc = mig_buf_puts(b, " (");
	if (!rc)
		rc = put_key_list(s, b);
	if (!rc)
		rc = mig_buf_puts(b, ") VALUES (");
	for (size_t i = 0; !rc && i < s->wo.nkeys; i++)
		rc = mig_buf_puts(b, i ? ", NULL" : "NULL");
	if (!rc)
		rc = mig_buf_puts(b, ") ON CONFLICT (");
	if (!rc)
		rc = put_key_list(s, b);
	if (!rc)
		rc = mig_buf_puts(b, ") DO NOTHING");
	if (rc)
		return oom(err);
	rc = check_upsert_target(s, &st, b->data, err);
	sqlite3_finalize(st);
	if (rc == 1)
		rc = sq_fail(s, err, "checking the key");
	return rc;
}

/*
 * Creating a table from a native definition (mig-restore into SQLite).
 * The statements come from an archive, so they are not trusted: each must
 * be exactly one CREATE TABLE or CREATE [UNIQUE] INDEX statement, which
 * is checked by parsing its head here and by preparing it (one statement,
 * nothing after it).  Restored under another name, the table's name is
 * replaced in its statement, and its indexes are renamed too (index names
 * are global to a database): a name that starts with the old table name
 * gets the new one instead, others get "NEW_" in front.
 */

/* Skips whitespace; then keyword kw (any case) followed by a space or
 * '(' and whitespace.  Returns the position after it, or 0. */
static size_t skip_kw(const char *sql, size_t at, const char *kw)
{
	size_t n = strlen(kw);

	while (sql[at] == ' ' || sql[at] == '\t' || sql[at] == '\n' || sql[at] == '\r')
		at++;
	if (sqlite3_strnicmp(sql + at, kw, (int)n) || !strchr(" \t\r\n(", sql[at + n]) ||
	    !sql[at + n])
		return 0;
	at += n;
	while (sql[at] == ' ' || sql[at] == '\t' || sql[at] == '\n' || sql[at] == '\r')
		at++;
	return at;
}

/* The end of the identifier at `at` ("x", [x], `x`, 'x' or a bare word,
 * optionally schema-qualified), or 0 when there is none. */
static size_t ident_end(const char *sql, size_t at)
{
	size_t i = at;
	char close;

	switch (sql[i]) {
	case '"': close = '"'; break;
	case '[': close = ']'; break;
	case '`': close = '`'; break;
	case '\'': close = '\''; break;
	default: close = 0; break;
	}
	if (close) {
		for (i++; sql[i]; i++)
			if (sql[i] == close) {
				if (close != ']' && sql[i + 1] == close) {
					i++;
					continue;
				}
				break;
			}
		if (!sql[i])
			return 0;
		i++;
	} else {
		while (sql[i] && (sql[i] == '_' || sql[i] == '$' || (unsigned char)sql[i] >= 0x80 ||
				  (sql[i] >= '0' && sql[i] <= '9') || (sql[i] >= 'a' && sql[i] <= 'z') ||
				  (sql[i] >= 'A' && sql[i] <= 'Z')))
			i++;
		if (i == at)
			return 0;
	}
	if (sql[i] == '.')
		return ident_end(sql, i + 1);
	return i;
}

/* Writes sql into s->sql with [a, b) replaced by the quoted name, and
 * [c, d) by the quoted name2 (c == d: no second). */
static int splice(struct sq_store *s, const char *sql, size_t a, size_t b, const char *name,
		  size_t c, size_t d, const char *name2)
{
	struct mig_buf *q = &s->sql;

	mig_buf_reset(q);
	if (mig_buf_append(q, sql, a) || put_ident(q, name))
		return MIG_ENOMEM;
	if (c == d)
		return mig_buf_puts(q, sql + b) ? MIG_ENOMEM : 0;
	if (mig_buf_append(q, sql + b, c - b) || put_ident(q, name2) || mig_buf_puts(q, sql + d))
		return MIG_ENOMEM;
	return 0;
}

/* Runs one statement that must be the only one in sql. */
static int exec_one(struct sq_store *s, const char *sql, const char *what, struct mig_error *err)
{
	sqlite3_stmt *st = NULL;
	const char *tail = NULL;
	int rc;

	if (sqlite3_prepare_v2(s->db, sql, -1, &st, &tail) != SQLITE_OK || !st)
		return sq_fail(s, err, what);
	if (tail && tail[strspn(tail, " \t\r\n;")]) {
		sqlite3_finalize(st);
		return mig_error_set(err, MIG_ECORRUPT, "%s: %s: the native definition holds more "
				     "than one statement", where(s), what);
	}
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return sq_fail(s, err, what);
	return 0;
}

static int native_bad(struct sq_store *s, struct mig_error *err, const char *why)
{
	return mig_error_set(err, MIG_ECORRUPT, "%s: the native definition is not one this "
			     "backend wrote: %s", where(s), why);
}

static int create_native(struct sq_store *s, struct mig_error *err)
{
	const json_t *nat = s->wo.native, *ix;
	const char *orig = json_string_value(json_object_get(nat, "name"));
	const char *sql = json_string_value(json_object_get(nat, "table"));
	int same = orig && sqlite3_stricmp(orig, s->table) == 0;
	size_t a, b, i;
	int rc;

	/* CREATE [TEMP|TEMPORARY] TABLE [IF NOT EXISTS] name */
	a = skip_kw(sql, 0, "CREATE");
	if (a && (b = skip_kw(sql, a, "TEMP")) != 0)
		a = b;
	else if (a && (b = skip_kw(sql, a, "TEMPORARY")) != 0)
		a = b;
	a = a ? skip_kw(sql, a, "TABLE") : 0;
	if (a && (b = skip_kw(sql, a, "IF")) != 0 && (b = skip_kw(sql, b, "NOT")) != 0 &&
	    (b = skip_kw(sql, b, "EXISTS")) != 0)
		a = b;
	b = a ? ident_end(sql, a) : 0;
	if (!b)
		return native_bad(s, err, "not a CREATE TABLE statement");
	if (splice(s, sql, a, b, s->table, 0, 0, NULL))
		return oom(err);
	rc = exec_one(s, same ? sql : s->sql.data, "creating the table", err);
	json_array_foreach(json_object_get(nat, "indexes"), i, ix) {
		const char *isql = json_string_value(json_object_get(ix, "sql"));
		const char *iname = json_string_value(json_object_get(ix, "name"));
		size_t c, d, e, f;
		char *nname = NULL;

		if (rc)
			break;
		/* CREATE [UNIQUE] INDEX [IF NOT EXISTS] name ON table */
		c = skip_kw(isql, 0, "CREATE");
		if (c && (d = skip_kw(isql, c, "UNIQUE")) != 0)
			c = d;
		c = c ? skip_kw(isql, c, "INDEX") : 0;
		if (c && (d = skip_kw(isql, c, "IF")) != 0 && (d = skip_kw(isql, d, "NOT")) != 0 &&
		    (d = skip_kw(isql, d, "EXISTS")) != 0)
			c = d;
		d = c ? ident_end(isql, c) : 0;
		e = d ? skip_kw(isql, d, "ON") : 0;
		f = e ? ident_end(isql, e) : 0;
		if (!f || !iname)
			return native_bad(s, err, "an index is not a CREATE INDEX statement");
		if (same) {
			rc = exec_one(s, isql, "creating an index", err);
			continue;
		}
		size_t ol = strlen(orig), nl = strlen(s->table) + strlen(iname) + 2;
		nname = malloc(nl);
		if (!nname)
			return oom(err);
		if (sqlite3_strnicmp(iname, orig, (int)ol) == 0)
			snprintf(nname, nl, "%s%s", s->table, iname + ol);
		else
			snprintf(nname, nl, "%s_%s", s->table, iname);
		rc = splice(s, isql, c, d, nname, e, f, s->table) ? oom(err)
		     : exec_one(s, s->sql.data, "creating an index", err);
		free(nname);
	}
	if (!rc)
		rc = load_table(s, err);
	if (!rc && !s->exists)
		rc = mig_error_set(err, MIG_EIO, "%s: the table vanished after CREATE TABLE", where(s));
	return rc;
}

/* The shape of a native definition, checked before anything runs. */
static int native_check(struct sq_store *s, const json_t *nat, struct mig_error *err)
{
	const json_t *ix;
	size_t i;

	if (!json_is_object(nat) || !json_is_string(json_object_get(nat, "table")) ||
	    !json_is_string(json_object_get(nat, "name")))
		return native_bad(s, err, "no \"name\" and \"table\"");
	if (json_object_get(nat, "indexes") && !json_is_array(json_object_get(nat, "indexes")))
		return native_bad(s, err, "\"indexes\" is not an array");
	json_array_foreach(json_object_get(nat, "indexes"), i, ix)
		if (!json_is_string(json_object_get(ix, "sql")) ||
		    !json_is_string(json_object_get(ix, "name")))
			return native_bad(s, err, "an index without \"name\" and \"sql\"");
	return 0;
}

/* Runs --drop / --truncate at the start of the first transaction. */
static int run_prep(struct sq_store *s, struct mig_error *err)
{
	struct mig_buf *b = &s->sql;
	int rc = 0;

	if (s->prep_done)
		return 0;
	if (s->drop_pending) {
		mig_buf_reset(b);
		if (mig_buf_puts(b, "DROP TABLE IF EXISTS ") || put_ident(b, s->table))
			return oom(err);
		rc = exec(s, b->data, "dropping the table", err);
		if (rc)
			return rc;
		shapes_flush(s);
		cols_free(s);
		s->exists = 0;
	}
	if (s->truncate_pending && s->exists) {
		mig_buf_reset(b);
		if (mig_buf_puts(b, "DELETE FROM ") || put_ident(b, s->table))
			return oom(err);
		rc = exec(s, b->data, "emptying the table", err);
		if (rc)
			return rc;
	}
	s->prep_done = 1;
	if (s->native_pending && !s->exists)
		return create_native(s, err);
	return 0;
}

static int tx_begin(struct sq_store *s, struct mig_error *err)
{
	int v, rc;

	if (s->in_tx)
		return 0;
	rc = exec(s, "BEGIN IMMEDIATE", "beginning a transaction", err);
	if (rc)
		return rc;
	s->in_tx = 1;
	s->prep_done = 0;
	/* someone else may have changed the table since we looked */
	rc = schema_version(s, &v, err);
	if (!rc && v != s->schema_version)
		rc = load_table(s, err);
	if (!rc)
		rc = run_prep(s, err);
	return rc;
}

/* Rolls our transaction back (if SQLite has not already) and rereads the
 * table, which may have lost columns added, or the whole table created,
 * in that transaction. */
static void tx_rollback(struct sq_store *s)
{
	if (!sqlite3_get_autocommit(s->db))
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	s->in_tx = 0;
	s->prep_done = 0;
	if (load_table(s, NULL))
		s->failed = 1;
}

static int tx_commit(struct sq_store *s, struct mig_error *err)
{
	int rc;

	if (!s->in_tx)
		return 0;
	rc = exec(s, "COMMIT", "committing", err);
	if (rc) {
		tx_rollback(s);
		return rc;
	}
	s->in_tx = 0;
	if (s->prep_done)
		s->drop_pending = s->truncate_pending = s->native_pending = 0;
	s->prep_done = 0;
	return 0;
}

static int sq_write_begin(struct mig_store *st, const struct mig_write_opts *o,
			  struct mig_error *err)
{
	struct sq_store *s = (struct sq_store *)st;
	int rc;

	if (!(s->flags & MIG_OPEN_WRITE))
		return mig_error_set(err, MIG_EUSAGE, "%s: opened for reading", where(s));
	rc = need_table(s, err);
	if (rc)
		return rc;
	if (o->mode != MIG_MODE_INSERT && o->mode != MIG_MODE_UPSERT &&
	    o->mode != MIG_MODE_UPDATE && o->mode != MIG_MODE_DELETE)
		return mig_error_set(err, MIG_EUSAGE, "%s: sqlite backend supports --mode "
				     "insert|upsert|update|delete", where(s));
	if (o->mode == MIG_MODE_UPSERT && o->on_conflict == MIG_CONFLICT_FAIL)
		return mig_error_set(err, MIG_EUSAGE,
				     "%s: --on-conflict fail contradicts --mode upsert", where(s));
	if (o->schema_path)
		return mig_error_set(err, MIG_EUSAGE, "%s: the sqlite backend creates tables from "
				     "the records, not from --schema", where(s));
	/*
	 * insert: a duplicate is rejected (default, fail), passed over (skip),
	 * or, by key, updates the fields the record holds (merge) or the whole
	 * row (overwrite: the columns the record lacks get their defaults).
	 * upsert: updates the fields present (default, merge), the whole row
	 * (overwrite), or leaves the row alone (skip).
	 */
	enum act act;
	switch (o->on_conflict) {
	case MIG_CONFLICT_SKIP: act = A_SKIP; break;
	case MIG_CONFLICT_MERGE: act = A_UPDATE; break;
	case MIG_CONFLICT_OVERWRITE: act = A_OVERWRITE; break;
	default: act = o->mode == MIG_MODE_UPSERT ? A_UPDATE : A_REJECT; break;
	}
	if (o->mode == MIG_MODE_UPDATE || o->mode == MIG_MODE_DELETE) {
		if (o->on_conflict != MIG_CONFLICT_DEFAULT)
			return mig_error_set(err, MIG_EUSAGE, "%s: --on-conflict cannot go with "
					     "--mode %s", where(s), mig_load_mode_name(o->mode));
		act = o->mode == MIG_MODE_UPDATE ? A_UPDATE_ONLY : A_DELETE;
	}
	int keyed = o->mode == MIG_MODE_UPSERT || act == A_UPDATE || act == A_OVERWRITE ||
		    act == A_UPDATE_ONLY || act == A_DELETE;
	size_t nkeys = 0;
	if (o->keys)
		while ((!o->nkeys || nkeys < o->nkeys) && o->keys[nkeys])
			nkeys++;
	if (keyed && !nkeys)
		return mig_error_set(err, MIG_EUSAGE, "%s: %s needs --key", where(s),
				     o->mode != MIG_MODE_INSERT ? (o->mode == MIG_MODE_UPSERT
				     ? "--mode upsert" : o->mode == MIG_MODE_UPDATE ? "--mode update"
				     : "--mode delete") : "--on-conflict overwrite or merge");
	if (o->drop && !o->create)
		return mig_error_set(err, MIG_EUSAGE, "%s: --drop needs --create", where(s));

	write_reset(s);
	s->wo = *o;
	s->wo.nkeys = nkeys;
	s->keys = calloc(nkeys + 1, sizeof *s->keys);
	if (!s->keys)
		return oom(err);
	for (size_t i = 0; i < nkeys; i++)
		if (!(s->keys[i] = strdup(o->keys[i]))) {
			rc = oom(err);
			goto out;
		}
	s->wo.keys = (const char *const *)s->keys;
	s->act = act;
	s->keyed = keyed;
	s->drop_pending = o->drop;
	s->truncate_pending = o->truncate;
	s->native_pending = 0;
	s->failed = 0;
	s->long_tx = o->atomic || o->dry_run;
	s->writing = 1;

	if (!s->db && !o->create) {
		rc = mig_error_set(err, MIG_EIO, "%s: no such table (use --create)", where(s));
		goto out;
	}
	rc = ensure_db(s, err);
	if (!rc)
		rc = load_table(s, err);
	if (rc)
		goto out;
	if (!s->exists && !o->create) {
		rc = mig_error_set(err, MIG_EIO, "%s: no such table (use --create)", where(s));
		goto out;
	}
	/* a table to create: exactly as the native definition says */
	if (!s->exists && o->native) {
		rc = native_check(s, o->native, err);
		if (rc)
			goto out;
		s->native_pending = 1;
	}
	if (s->exists && keyed && act != A_UPDATE_ONLY && act != A_DELETE) {
		rc = probe_upsert(s, err);
		if (rc)
			goto out;
	}
	for (size_t i = 0; s->exists && (act == A_UPDATE_ONLY || act == A_DELETE) && i < nkeys; i++)
		if (find_col(s, s->keys[i], i) < 0) {
			rc = mig_error_set(err, MIG_EUSAGE, "%s: key %s is not a column of the table",
					   where(s), s->keys[i]);
			goto out;
		}
	if (s->long_tx)
		rc = tx_begin(s, err);
out:
	if (rc) {
		if (s->in_tx)
			tx_rollback(s);
		write_reset(s);
	}
	return rc;
}

/* Checks what does not depend on the table; rejects the item or returns 0. */
static int check_record(struct sq_store *s, struct mig_batch_item *it)
{
	struct mig_error e;
	void *iter;

	if (!json_is_object(it->rec)) {
		mig_batch_reject(it, NULL, "not a JSON object");
		return 1;
	}
	for (iter = json_object_iter(it->rec); iter;
	     iter = json_object_iter_next(it->rec, iter)) {
		const char *k = json_object_iter_key(iter);
		size_t kl = json_object_iter_key_len(iter);

		if (memchr(k, '\0', kl)) {
			mig_batch_reject(it, NULL, "field %s: a field name holds a NUL byte", k);
			return 1;
		}
		if (k[0] == '$') {
			mig_batch_reject(it, NULL, "field %s: a top-level field name starting with '$' "
					 "is ambiguous with an Extended JSON wrapper", k);
			return 1;
		}
	}
	if (mig_value_check(it->rec, &e)) {
		mig_batch_reject(it, NULL, "%s", e.msg);
		return 1;
	}
	if (s->keyed) {
		for (size_t i = 0; i < s->wo.nkeys; i++) {
			json_t *v = json_object_get(it->rec, s->keys[i]);
			if (!v) {
				mig_batch_reject(it, NULL, "key field %s missing", s->keys[i]);
				return 1;
			}
			if (json_is_null(v)) {
				mig_batch_reject(it, NULL, "key field %s is null", s->keys[i]);
				return 1;
			}
		}
	}
	return 0;
}

/* CREATE TABLE from the batch's valid records: the union of their fields
 * in first-seen order, each typed by the classes of its non-null values. */
static int create_table(struct sq_store *s, struct mig_batch *b, struct mig_error *err)
{
	const char **names = NULL;
	enum vclass *cls = NULL;
	size_t n = 0, cap = 0;
	struct mig_buf *q = &s->sql;
	int rc = 0;

	for (size_t r = 0; r < b->n; r++) {
		const char *k;
		json_t *v;
		size_t pos = 0;

		if (b->items[r].status != MIG_ITEM_PENDING)
			continue;
		json_object_foreach(b->items[r].rec, k, v) {
			size_t j = n;
			if (pos < n && sqlite3_stricmp(names[pos], k) == 0)
				j = pos;
			else
				for (j = 0; j < n; j++)
					if (sqlite3_stricmp(names[j], k) == 0)
						break;
			pos++;
			if (j == n) {
				if (n == cap) {
					size_t nc = cap ? cap * 2 : 16;
					const char **nn = realloc(names, nc * sizeof *nn);
					if (!nn) {
						rc = oom(err);
						goto out;
					}
					names = nn;
					enum vclass *ncl = realloc(cls, nc * sizeof *ncl);
					if (!ncl) {
						rc = oom(err);
						goto out;
					}
					cls = ncl;
					cap = nc;
				}
				names[n] = k;
				cls[n++] = C_NONE;
			}
			cls[j] = class_merge(cls[j], class_of(v));
		}
	}
	mig_buf_reset(q);
	rc = mig_buf_puts(q, "CREATE TABLE ");
	if (!rc)
		rc = put_ident(q, s->table);
	if (!rc)
		rc = mig_buf_puts(q, " (");
	for (size_t j = 0; !rc && j < n; j++) {
		if (j)
			rc = mig_buf_puts(q, ", ");
		if (!rc)
			rc = put_ident(q, names[j]);
		if (!rc)
			rc = mig_buf_printf(q, " %s", decl_of_class(cls[j]));
	}
	/* a key no record of the batch holds still needs its column */
	for (size_t i = 0; !rc && i < s->wo.nkeys; i++) {
		size_t j;
		for (j = 0; j < n; j++)
			if (sqlite3_stricmp(names[j], s->keys[i]) == 0)
				break;
		if (j < n)
			continue;
		if (n + i)
			rc = mig_buf_puts(q, ", ");
		if (!rc)
			rc = put_ident(q, s->keys[i]);
		if (!rc)
			rc = mig_buf_printf(q, " %s", decl_of_class(C_NONE));
	}
	if (!rc && s->wo.nkeys) {
		rc = mig_buf_puts(q, ", PRIMARY KEY (");
		if (!rc)
			rc = put_key_list(s, q);
		if (!rc)
			rc = mig_buf_puts(q, ")");
	}
	if (!rc)
		rc = mig_buf_puts(q, ")");
	if (rc) {
		rc = oom(err);
		goto out;
	}
	rc = exec(s, q->data, "creating the table", err);
	if (!rc)
		rc = load_table(s, err);
	if (!rc && !s->exists)
		rc = mig_error_set(err, MIG_EIO, "%s: the table vanished after CREATE TABLE",
				   where(s));
out:
	free(names);
	free(cls);
	return rc;
}

/* ALTER TABLE ADD COLUMN for a field that appears after the table was
 * created; returns the new column's index, or < 0. */
static int add_column(struct sq_store *s, const char *name, const json_t *v,
		      struct mig_batch_item *it, struct mig_error *err)
{
	struct mig_buf *q = &s->sql;
	const char *decl = decl_of_class(class_of(v));
	int rc;

	mig_buf_reset(q);
	if (mig_buf_puts(q, "ALTER TABLE ") || put_ident(q, s->table) ||
	    mig_buf_puts(q, " ADD COLUMN ") || put_ident(q, name) ||
	    mig_buf_printf(q, " %s", decl))
		return oom(err);
	rc = sqlite3_exec(s->db, q->data, NULL, NULL, NULL);
	if (rc != SQLITE_OK) {
		char cb[16];
		int xrc = sqlite3_extended_errcode(s->db);
		if (is_store_error(xrc))
			return sq_fail(s, err, "adding a column");
		mig_batch_reject(it, code_name(xrc, cb), "field %s: cannot add a column: %s", name,
				 sqlite3_errmsg(s->db));
		return 1;
	}
	if (cols_add(s, name, decl))
		return oom(err);
	/* an overwrite's cached statements set every column there was: the
	 * new one too must be reset from now on */
	if (s->act == A_OVERWRITE)
		shapes_flush(s);
	/* our own DDL must not look like someone else's at the next BEGIN */
	rc = schema_version(s, &s->schema_version, err);
	return rc ? rc : 0;
}

static int shape_matches(const struct shape *sh, const json_t *rec)
{
	const char *p = sh->names;
	void *iter;

	if (json_object_size(rec) != sh->nf)
		return 0;
	for (iter = json_object_iter((json_t *)rec); iter;
	     iter = json_object_iter_next((json_t *)rec, iter)) {
		const char *k = json_object_iter_key(iter);
		if (strcmp(k, p))
			return 0;
		p += strlen(p) + 1;
	}
	return 1;
}

/* Whether a column is one of the key columns (names ignore case). */
static int is_key_col(const struct sq_store *s, const char *name)
{
	for (size_t i = 0; i < s->wo.nkeys; i++)
		if (sqlite3_stricmp(s->keys[i], name) == 0)
			return 1;
	return 0;
}

/* UPDATE t SET c = ?i ... WHERE k = ?j ...: parameter i is the record's
 * i-th field, as bind_record binds them. */
static int build_update(struct sq_store *s, struct shape *sh, struct mig_batch_item *it,
			struct mig_error *err)
{
	struct mig_buf *q = &s->sql;
	size_t nset = 0, first_key = 0;
	int rc;

	rc = mig_buf_puts(q, "UPDATE ");
	rc = rc ? rc : put_ident(q, s->table);
	for (size_t i = 0; !rc && i < sh->nf; i++) {
		const char *c = s->cols[sh->col[i]].name;
		if (is_key_col(s, c)) {
			first_key = first_key ? first_key : i + 1;
			continue;
		}
		rc = mig_buf_puts(q, nset++ ? ", " : " SET ");
		rc = rc ? rc : put_ident(q, c);
		rc = rc ? rc : mig_buf_printf(q, " = ?%zu", i + 1);
	}
	if (!rc && !nset) {   /* keys alone: a no-op update still finds the row */
		rc = mig_buf_puts(q, " SET ");
		rc = rc ? rc : put_ident(q, s->cols[sh->col[first_key - 1]].name);
		rc = rc ? rc : mig_buf_printf(q, " = ?%zu", first_key);
	}
	for (size_t k = 0; !rc && k < s->wo.nkeys; k++) {
		size_t i = 0;
		while (i < sh->nf && sqlite3_stricmp(s->cols[sh->col[i]].name, s->keys[k]))
			i++;
		rc = mig_buf_puts(q, k ? " AND " : " WHERE ");
		rc = rc ? rc : put_ident(q, s->cols[sh->col[i]].name);
		rc = rc ? rc : mig_buf_printf(q, " = ?%zu", i + 1);
	}
	if (rc)
		return oom(err);
	if (prepare(s, &sh->ins, q->data, 1) == SQLITE_OK)
		return 0;
	{
		char cb[16];
		int xrc = sqlite3_extended_errcode(s->db);
		if (is_store_error(xrc))
			return sq_fail(s, err, "preparing a statement");
		mig_batch_reject(it, code_name(xrc, cb), "%s", sqlite3_errmsg(s->db));
		return 1;
	}
}

static int build_statement(struct sq_store *s, struct shape *sh, struct mig_batch_item *it,
			   struct mig_error *err)
{
	struct mig_buf *q = &s->sql;
	int keyed = s->keyed;
	int skip = s->act == A_SKIP;
	int rc = 0;
	size_t i;

	mig_buf_reset(q);
	if (s->act == A_UPDATE_ONLY)
		return build_update(s, sh, it, err);
	rc = mig_buf_puts(q, "INSERT INTO ");
	if (!rc)
		rc = put_ident(q, s->table);
	if (!rc && sh->nf == 0) {
		rc = mig_buf_puts(q, " DEFAULT VALUES");
	} else if (!rc) {
		rc = mig_buf_puts(q, " (");
		for (i = 0; !rc && i < sh->nf; i++) {
			if (i)
				rc = mig_buf_puts(q, ", ");
			if (!rc)
				rc = put_ident(q, s->cols[sh->col[i]].name);
		}
		if (!rc)
			rc = mig_buf_puts(q, ") VALUES (");
		for (i = 0; !rc && i < sh->nf; i++)
			rc = mig_buf_puts(q, i ? ", ?" : "?");
		if (!rc)
			rc = mig_buf_puts(q, ")");
	}
	/*
	 * Upsert is INSERT ... ON CONFLICT(keys) DO UPDATE SET c = excluded.c
	 * for the non-key fields present.  To tell an update from an insert in
	 * the same single statement, the DO UPDATE has WHERE
	 * mig_upsert_updated(): SQLite evaluates that only for a conflicting
	 * row, and the function (ours, registered on the connection) notes it
	 * in the store.  That is cheaper than a SELECT before each record or
	 * an INSERT ... DO NOTHING followed by an UPDATE (two index probes),
	 * and unlike last_insert_rowid() it works for WITHOUT ROWID tables.
	 * A record of keys alone has nothing to update: DO NOTHING, and no
	 * change means the row was there.
	 * --on-conflict skip is ON CONFLICT DO NOTHING rather than INSERT OR
	 * IGNORE: it passes over duplicates only, while NOT NULL and CHECK
	 * failures still reject the record.
	 */
	if (!rc && keyed) {
		/* the columns DO UPDATE sets: every non-key column for an
		 * overwrite, the non-key fields present for an update */
		int all = s->act == A_OVERWRITE;
		size_t n = skip ? 0 : all ? s->ncols : sh->nf, nset = 0;
		const char *c;

		rc = mig_buf_puts(q, " ON CONFLICT (");
		if (!rc)
			rc = put_key_list(s, q);
		if (!rc)
			rc = mig_buf_puts(q, ")");
		for (i = 0; !rc && i < n; i++) {
			c = all ? s->cols[i].name : s->cols[sh->col[i]].name;
			if (is_key_col(s, c))
				continue;
			rc = mig_buf_puts(q, nset++ ? ", " : " DO UPDATE SET ");
			if (!rc)
				rc = put_ident(q, c);
			if (!rc)
				rc = mig_buf_puts(q, " = excluded.");
			if (!rc)
				rc = put_ident(q, c);
		}
		if (!rc)
			rc = mig_buf_puts(q, nset ? " WHERE mig_upsert_updated()" : " DO NOTHING");
	} else if (!rc && skip) {
		rc = mig_buf_puts(q, " ON CONFLICT DO NOTHING");
	}
	if (rc)
		return oom(err);
	if (keyed) {
		rc = check_upsert_target(s, &sh->ins, q->data, err);
		if (rc < 0)
			return rc;
	} else {
		rc = prepare(s, &sh->ins, q->data, 1) == SQLITE_OK ? 0 : 1;
	}
	if (rc == 0)
		return 0;
	{
		char cb[16];
		int xrc = sqlite3_extended_errcode(s->db);
		if (is_store_error(xrc))
			return sq_fail(s, err, "preparing a statement");
		mig_batch_reject(it, code_name(xrc, cb), "%s", sqlite3_errmsg(s->db));
		return 1;
	}
}

static void shape_free(struct shape *sh)
{
	sqlite3_finalize(sh->ins);
	free(sh->names);
	free(sh->col);
	memset(sh, 0, sizeof *sh);
}

/* The shape of it->rec, from the cache or new: 0 with *out set, 1 when the
 * record was rejected, < 0 on a store failure. */
static int get_shape(struct sq_store *s, struct mig_batch_item *it, struct shape **out,
		     struct mig_error *err)
{
	struct shape sh = { 0 };
	const json_t *rec = it->rec;
	const char *k;
	json_t *v;
	size_t i, len = 0;
	int rc = 0;

	*out = NULL;
	if (s->last && shape_matches(s->last, rec)) {
		*out = s->last;
		s->last->tick = ++s->tick;
		return 0;
	}
	for (i = 0; i < s->nshapes; i++)
		if (&s->shapes[i] != s->last && shape_matches(&s->shapes[i], rec)) {
			*out = s->last = &s->shapes[i];
			s->last->tick = ++s->tick;
			return 0;
		}

	sh.nf = json_object_size(rec);
	json_object_foreach((json_t *)rec, k, v)
		len += strlen(k) + 1;
	sh.names = malloc(len ? len : 1);
	sh.col = malloc((sh.nf ? sh.nf : 1) * sizeof *sh.col);
	if (!sh.names || !sh.col) {
		rc = oom(err);
		goto out;
	}
	char *p = sh.names;
	i = 0;
	json_object_foreach((json_t *)rec, k, v) {
		int c = find_col(s, k, i);

		if (c < 0 && !s->wo.create) {
			mig_batch_reject(it, NULL, "field %s has no column in table %s", k, s->table);
			rc = 1;
			goto out;
		}
		if (c < 0) {
			rc = add_column(s, k, v, it, err);
			if (rc)
				goto out;
			c = (int)s->ncols - 1;
		}
		for (size_t j = 0; j < i; j++)
			if (sh.col[j] == c) {
				mig_batch_reject(it, NULL, "field %s: another field also names "
						 "column %s (sqlite column names ignore case)",
						 k, s->cols[c].name);
				rc = 1;
				goto out;
			}
		sh.col[i++] = c;
		strcpy(p, k);
		p += strlen(k) + 1;
	}
	rc = build_statement(s, &sh, it, err);
	if (rc)
		goto out;
	/* into the cache, evicting the least recently used shape */
	size_t slot = s->nshapes;
	if (slot == NSHAPES) {
		slot = 0;
		for (i = 1; i < NSHAPES; i++)
			if (s->shapes[i].tick < s->shapes[slot].tick)
				slot = i;
		shape_free(&s->shapes[slot]);
	} else {
		s->nshapes++;
	}
	sh.tick = ++s->tick;
	s->shapes[slot] = sh;
	*out = s->last = &s->shapes[slot];
	return 0;
out:
	shape_free(&sh);
	return rc;
}

/* Binds value v of field `field` to parameter i for column c: 0, 1 when
 * the record was rejected, < 0 on ENOMEM. */
static int bind_value(struct sq_store *s, sqlite3_stmt *st, int i, const char *field,
		      const json_t *v, const struct col *c, struct mig_batch_item *it)
{
	struct mig_error e;
	enum mig_vtype t = mig_value_type(v);
	int rc = SQLITE_OK;

	if (t == MIG_V_NULL)
		return sqlite3_bind_null(st, i) == SQLITE_OK ? 0 : MIG_ENOMEM;
	if (c->kind == K_JSON) {
		/* a JSON column holds the JSON text of any value, a string too,
		 * so that reading it back gives the same value */
		mig_buf_reset(&s->txt);
		rc = mig_value_write(&s->txt, v, MIG_JSON_RELAXED);
		if (rc == MIG_EDATA) {
			mig_batch_reject(it, NULL, "field %s: too large", field);
			return 1;
		}
		if (rc)
			return rc;
		rc = sqlite3_bind_text64(st, i, s->txt.data, s->txt.len, SQLITE_TRANSIENT,
					 SQLITE_UTF8);
		goto bound;
	}
	switch (t) {
	case MIG_V_BOOL:
		rc = sqlite3_bind_int(st, i, json_is_true(v));
		break;
	case MIG_V_INT: {
		int64_t n;
		if (json_is_integer(v))
			n = json_integer_value(v);
		else if (mig_value_get_int(v, &n, &e))
			goto bad;
		rc = sqlite3_bind_int64(st, i, n);
		break;
	}
	case MIG_V_DOUBLE: {
		double d;
		if (json_is_real(v))
			d = json_real_value(v);
		else if (mig_value_get_double(v, &d, &e))
			goto bad;
		/* SQLite stores a NaN as NULL: non-finite values go as text,
		 * which a REAL column gives back as {"$numberDouble"}.  (-0.0
		 * cannot be kept in a REAL column: SQLite stores a real with
		 * no fraction as an integer, and -0.0 reads back as 0.0.  In a
		 * JSON column, as part of an object or array, it survives.) */
		if (isnan(d))
			rc = sqlite3_bind_text(st, i, "NaN", 3, SQLITE_STATIC);
		else if (isinf(d))
			rc = d > 0 ? sqlite3_bind_text(st, i, "Infinity", 8, SQLITE_STATIC)
				   : sqlite3_bind_text(st, i, "-Infinity", 9, SQLITE_STATIC);
		else
			rc = sqlite3_bind_double(st, i, d);
		break;
	}
	case MIG_V_STRING:
		rc = sqlite3_bind_text64(st, i, json_string_value(v), json_string_length(v),
					 SQLITE_STATIC, SQLITE_UTF8);
		break;
	case MIG_V_DATE: {
		int64_t us;
		char iso[40];
		int n;
		if (mig_value_get_date(v, &us, &e))
			goto bad;
		n = mig_date_format(iso, us);
		rc = sqlite3_bind_text(st, i, iso, n, SQLITE_TRANSIENT);
		break;
	}
	case MIG_V_DECIMAL: {
		const char *d;
		if (mig_value_get_decimal(v, &d, &e))
			goto bad;
		rc = sqlite3_bind_text(st, i, d, -1, SQLITE_STATIC);
		break;
	}
	case MIG_V_OID: {
		uint8_t oid[12];
		char hex[25];
		if (mig_value_get_oid(v, oid, &e))
			goto bad;
		for (int j = 0; j < 12; j++)
			snprintf(hex + 2 * j, 3, "%02x", oid[j]);
		rc = sqlite3_bind_text(st, i, hex, 24, SQLITE_TRANSIENT);
		break;
	}
	case MIG_V_BINARY: {
		/* a blob holds the bytes, not the subtype: --create gives only
		 * subtype 00 a BLOB column (others go to JSON TEXT columns) */
		uint8_t *p = NULL;
		size_t n = 0;
		int sub;
		if (mig_value_get_binary(v, &p, &n, &sub, &e))
			goto bad;
		/* a NULL pointer would bind SQL NULL, not an empty blob */
		if (!n) {
			free(p);
			rc = sqlite3_bind_zeroblob(st, i, 0);
		} else {
			rc = sqlite3_bind_blob64(st, i, p, n, free);
		}
		break;
	}
	default: {
		const char *name = mig_vtype_name(t);
		mig_batch_reject(it, NULL, "field %s: %s %s does not fit column %s of type %s",
				 field, article(name), name, c->name, *c->decl ? c->decl : "(none)");
		return 1;
	}
	}
bound:
	if (rc == SQLITE_OK)
		return 0;
	if (rc == SQLITE_NOMEM)
		return MIG_ENOMEM;
	{
		char cb[16];
		mig_batch_reject(it, code_name(rc, cb), "field %s: %s", field, sqlite3_errstr(rc));
		return 1;
	}
bad:
	mig_batch_reject(it, NULL, "field %s: %s", field, e.msg);
	return 1;
}

static int bind_record(struct sq_store *s, struct shape *sh, sqlite3_stmt *st,
		       struct mig_batch_item *it, struct mig_error *err)
{
	const char *k;
	json_t *v;
	int i = 0, rc;

	json_object_foreach(it->rec, k, v) {
		rc = bind_value(s, st, i + 1, k, v, &s->cols[sh->col[i]], it);
		if (rc < 0)
			return oom(err);
		if (rc)
			return 1;
		i++;
	}
	return 0;
}

/* Runs a bound statement: 0 when done, 1 when the record was rejected
 * (a constraint, a type mismatch), < 0 when the store failed. */
static int step(struct sq_store *s, sqlite3_stmt *st, struct mig_batch_item *it,
		struct mig_error *err)
{
	int rc = sqlite3_step(st);

	if (rc == SQLITE_DONE || rc == SQLITE_ROW) {
		sqlite3_reset(st);
		return 0;
	}
	int xrc = sqlite3_extended_errcode(s->db);
	if (is_store_error(xrc)) {
		rc = sq_fail(s, err, "writing");
		sqlite3_reset(st);
		return rc;
	}
	char cb[16];
	mig_batch_reject(it, code_name(xrc, cb), "%s", sqlite3_errmsg(s->db));
	sqlite3_reset(st);
	return 1;
}

/* --mode delete: DELETE FROM t WHERE k1 = ?1 ..., the record's other
 * fields ignored. */
static int delete_record(struct sq_store *s, struct mig_batch_item *it, struct mig_error *err)
{
	int rc;

	if (!s->del) {
		struct mig_buf *q = &s->sql;
		mig_buf_reset(q);
		rc = mig_buf_puts(q, "DELETE FROM ");
		rc = rc ? rc : put_ident(q, s->table);
		for (size_t k = 0; !rc && k < s->wo.nkeys; k++) {
			rc = mig_buf_puts(q, k ? " AND " : " WHERE ");
			rc = rc ? rc : put_ident(q, s->keys[k]);
			rc = rc ? rc : mig_buf_printf(q, " = ?%zu", k + 1);
		}
		if (rc)
			return oom(err);
		if (prepare(s, &s->del, q->data, 1) != SQLITE_OK)
			return sq_fail(s, err, "preparing the DELETE");
	}
	for (size_t k = 0; k < s->wo.nkeys; k++) {
		int c = find_col(s, s->keys[k], k);
		if (c < 0) {   /* the table changed under us */
			mig_batch_reject(it, NULL, "key %s is not a column of table %s", s->keys[k],
					 s->table);
			sqlite3_clear_bindings(s->del);
			return 0;
		}
		rc = bind_value(s, s->del, (int)k + 1, s->keys[k], json_object_get(it->rec, s->keys[k]),
				&s->cols[c], it);
		if (rc) {
			sqlite3_clear_bindings(s->del);
			return rc < 0 ? oom(err) : 0;
		}
	}
	rc = step(s, s->del, it, err);
	sqlite3_clear_bindings(s->del);
	if (rc)
		return rc < 0 ? rc : 0;
	it->status = sqlite3_changes(s->db) > 0 ? MIG_ITEM_DELETED : MIG_ITEM_NOT_FOUND;
	return 0;
}

static int write_record(struct sq_store *s, struct mig_batch_item *it, struct mig_error *err)
{
	struct shape *sh;
	int rc;

	if (s->act == A_DELETE)
		return delete_record(s, it, err);
	rc = get_shape(s, it, &sh, err);
	if (rc)
		return rc < 0 ? rc : 0;
	s->updated = 0;
	rc = bind_record(s, sh, sh->ins, it, err);
	if (!rc)
		rc = step(s, sh->ins, it, err);
	if (rc)
		return rc < 0 ? rc : 0;
	if (s->act == A_UPDATE_ONLY) {
		if (sqlite3_changes(s->db) > 0)
			it->status = MIG_ITEM_UPDATED;
		else
			mig_batch_no_key(it, "row", s->wo.keys, s->wo.nkeys);
	} else if (s->updated)
		it->status = MIG_ITEM_UPDATED;
	else if (sqlite3_changes(s->db) > 0)
		it->status = MIG_ITEM_INSERTED;
	else if (s->act == A_SKIP)
		it->status = MIG_ITEM_SKIPPED;
	else if (s->keyed)
		it->status = MIG_ITEM_UPDATED;   /* keys alone: the row was there */
	else
		it->status = MIG_ITEM_INSERTED;  /* a view's INSTEAD OF trigger counts no changes */
	return 0;
}

static int sq_write_batch(struct mig_store *st, struct mig_batch *b, struct mig_error *err)
{
	struct sq_store *s = (struct sq_store *)st;
	size_t valid = 0;
	int rc;

	if (!s->writing)
		return mig_error_set(err, MIG_EUSAGE, "%s: write_batch before write_begin", where(s));
	if (s->failed)
		return mig_error_set(err, MIG_EIO, "%s: an earlier batch failed", where(s));
	rc = tx_begin(s, err);
	if (rc)
		goto fail;
	if (!s->exists && !s->wo.create) {
		/* dropped under us since write_begin */
		rc = mig_error_set(err, MIG_EIO, "%s: no such table (use --create)", where(s));
		goto fail;
	}
	for (size_t i = 0; i < b->n; i++)
		if (b->items[i].status == MIG_ITEM_PENDING && !check_record(s, &b->items[i]))
			valid++;
	if (!s->exists && valid) {
		/* a table needs a column: records with no fields cannot make one */
		size_t nf = 0;
		for (size_t i = 0; i < b->n; i++)
			if (b->items[i].status == MIG_ITEM_PENDING)
				nf += json_object_size(b->items[i].rec);
		if (!nf && !s->wo.nkeys) {
			for (size_t i = 0; i < b->n; i++)
				if (b->items[i].status == MIG_ITEM_PENDING)
					mig_batch_reject(&b->items[i], NULL,
							 "a record with no fields cannot create table %s",
							 s->table);
		} else {
			rc = create_table(s, b, err);
			if (rc)
				goto fail;
		}
	}
	for (size_t i = 0; i < b->n; i++) {
		if (b->items[i].status != MIG_ITEM_PENDING)
			continue;
		rc = write_record(s, &b->items[i], err);
		if (rc)
			goto fail;
	}
	if (!s->long_tx) {
		rc = tx_commit(s, err);
		if (rc) {
			s->failed = 1;
			return rc;
		}
	}
	return 0;
fail:
	if (s->in_tx || !sqlite3_get_autocommit(s->db))
		tx_rollback(s);
	s->failed = 1;
	return rc;
}

static int sq_write_end(struct mig_store *st, int commit, struct mig_error *err)
{
	struct sq_store *s = (struct sq_store *)st;
	int rc = 0;

	if (!s->writing)
		return 0;
	if (s->wo.dry_run || !commit) {
		if (s->in_tx)
			tx_rollback(s);
	} else if (s->failed) {
		if (s->long_tx)
			rc = mig_error_set(err, MIG_EIO, "%s: the load failed; nothing was committed",
					   where(s));
	} else {
		/* a load with no batch still owes its --drop / --truncate */
		if (!s->in_tx && (s->drop_pending || s->truncate_pending || s->native_pending))
			rc = tx_begin(s, err);
		if (!rc)
			rc = tx_commit(s, err);
		else if (s->in_tx)
			tx_rollback(s);
	}
	write_reset(s);
	return rc;
}

static const char *sq_lib_version(void)
{
	static char v[32];
	snprintf(v, sizeof v, "sqlite %s", sqlite3_libversion());
	return v;
}

const struct mig_backend_ops mig_backend_sqlite = {
	.version = MIG_BACKEND_VERSION,
	.scheme = "sqlite",
	.summary = "sqlite:PATH#TABLE  a table in an SQLite database file",
	.lib_version = sq_lib_version,
	.open = sq_open,
	.close = sq_close,
	.read_begin = sq_read_begin,
	.read_next = sq_read_next,
	.write_begin = sq_write_begin,
	.write_batch = sq_write_batch,
	.write_end = sq_write_end,
	.list = sq_list,
	.count = sq_count,
	.describe = sq_describe,
	.snapshot_begin = sq_snapshot_begin,
	.native = sq_native,
};
