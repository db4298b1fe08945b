/*
 * pg.c - the PostgreSQL backend, on libpq.
 *
 * Locator: postgres://user@host:port/db#schema.table, or #table for the
 * schema public.  Either part may be "double-quoted" (with "" for a quote)
 * to hold a '.'; names are taken as written, never case-folded, and always
 * reach SQL through PQescapeIdentifier.  The URI goes to libpq as it is
 * (PQconnectdbParams with expand_dbname), so PG* variables, .pgpass and
 * every conninfo option work; it is never printed: messages use
 * loc->redacted.  Values never reach SQL text: they travel as COPY data or
 * as statement parameters.
 *
 * Every session sets TimeZone UTC, DateStyle ISO, IntervalStyle iso_8601,
 * extra_float_digits 3 (shortest exact float text), bytea_output hex and
 * client_encoding UTF8, so that the text forms below are the same on
 * every server.
 *
 * Extract runs in one REPEATABLE READ READ ONLY transaction.  The SELECT
 * is prepared first (PQprepare + PQdescribePrepared): that gives the
 * column names and type OIDs, and makes sure that --query, --where and
 * --order-by hold one statement.  Types are resolved once through
 * pg_type/pg_attribute (domains to their base type, arrays to their
 * element, composites to their attributes).  Rows are then streamed with
 * COPY (SELECT ...) TO STDOUT in text format, one row per PQgetCopyData
 * call, so memory is one row whatever the table's size.  COPY text rather
 * than a cursor or single-row mode: it has the least per-row protocol
 * work, and every type - extension types too - has a text form that we
 * can at worst hand on as a string.  Each field is converted by its type
 * (conv_field):
 *   int2 int4 int8 oid           integer (int8 is {"$numberLong"} under
 *                                --canonical, so int64 stays apart)
 *   numeric                      {"$numberDecimal": the exact text}, NaN and
 *                                Infinity too
 *   float4 float8                number; NaN, +-Infinity: {"$numberDouble"}
 *   bool                         true / false
 *   timestamptz, timestamp       {"$date"} keeping the microseconds;
 *                                timestamp is taken as UTC; infinity and
 *                                -infinity stay strings ($date cannot hold
 *                                them); BC years become ISO years <= 0
 *   bytea                        {"$binary", subType 00}
 *   json, jsonb                  the JSON value itself (see json_number for
 *                                numbers that a double cannot hold)
 *   arrays                       JSON arrays, nested for more dimensions
 *                                (lower bounds other than 1 are dropped)
 *   composites                   objects keyed by attribute name
 *   anything else (text, date, time, interval, uuid, enum, inet, money,
 *   tsvector, ranges, extension types)   the server's text, as a string.
 *   money is shown as lc_monetary formats it ("$12.50"): cast it to
 *   numeric in --query when the amount matters.
 * What does not come back the same through NDJSON: a json/jsonb value that
 * is JSON null (it reads as SQL NULL), the scale of a jsonb number that a
 * double holds exactly (1.10 comes back 1.1; 2.0 is written "2.0", so it
 * stays a double: fmt_json_double), a jsonb -0.0 (the server makes it
 * 0.0), json text's whitespace and
 * duplicate keys, array lower bounds, and multi-dimensional arrays of
 * json/jsonb (their nested arrays read back as JSON values).
 *
 * Load writes each batch in its own transaction (one transaction for the
 * whole load under --atomic or --dry-run, each batch then under a
 * SAVEPOINT), with SET CONSTRAINTS ALL IMMEDIATE so that a deferred
 * constraint fails on its row, not at COMMIT.  Records are grouped by the
 * set of fields they hold (absent columns keep their defaults; a field
 * that is no column is a reject, or with --create a new column), converted
 * to COPY text by the type of each column (to_text), and sent with
 * COPY t (cols) FROM STDIN as they are converted, so that the server
 * inserts while we convert rather than after (mig-load of the 1M rows of
 * tests/bench/pg-copy: 22.9 s -> 19.3 s).  When a COPY fails with an error
 * about data (SQLSTATE classes 21, 22, 23, 54, P0, ...), the range is
 * split - at the line the server names, else in halves - each part under
 * a savepoint, until the bad records stand alone: they are rejected with
 * the server's message and SQLSTATE, the rest is committed.  Upsert,
 * replace, merge and --on-conflict skip COPY into a TEMP staging table and
 * then run INSERT ... SELECT ... ON CONFLICT (keys) DO UPDATE / DO NOTHING
 * RETURNING (xmax = 0), joined back to the staging rows so that every
 * record learns whether it was inserted, updated or skipped; a key that
 * comes back in another group of the batch starts a new round, so that the
 * batch lands in input order.  --dry-run does all of this and rolls back,
 * so its counts are exact.  A lost connection is retried (--retries,
 * exponential backoff) when the batch was not committed; a batch whose
 * COMMIT got no answer is checked with txid_status().
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>

#include "mig/backend.h"
#include "mig/buf.h"
#include "mig/log.h"
#include "mig/stream.h"

/* Built-in type OIDs (fixed in PostgreSQL's catalog: pg_type_d.h). */
enum {
	OID_BOOL = 16, OID_BYTEA = 17, OID_NAME = 19, OID_INT8 = 20, OID_INT2 = 21,
	OID_INT4 = 23, OID_TEXT = 25, OID_OID = 26, OID_JSON = 114, OID_FLOAT4 = 700,
	OID_FLOAT8 = 701, OID_BPCHAR = 1042, OID_VARCHAR = 1043, OID_DATE = 1082,
	OID_TIMESTAMP = 1114, OID_TIMESTAMPTZ = 1184, OID_NUMERIC = 1700, OID_UUID = 2950,
	OID_JSONB = 3802
};

/* How a type's values are converted, both ways. */
enum pg_kind {
	K_TEXT = 0,   /* the server's text, as a string */
	K_INT,
	K_INT8,
	K_FLOAT,
	K_NUMERIC,
	K_BOOL,
	K_TSTZ,
	K_TS,
	K_DATE,
	K_BYTEA,
	K_UUID,
	K_JSON,
	K_JSONB,
	K_ARRAY,
	K_COMPOSITE
};

struct pg_type {
	Oid oid;
	enum pg_kind kind;
	char typtype;             /* pg_type.typtype: 'b', 'c', 'd', 'e', ... */
	struct pg_type *base;     /* a domain: its base type (resolved) */
	char delim;               /* an array: its element delimiter */
	struct pg_type *elem;     /* an array: its element type (resolved) */
	size_t nattrs;            /* a composite: its attributes */
	char **attnames;
	struct pg_type **atttypes;
};

struct pg_col {
	char *name;
	Oid oid;
	int typmod;
	struct pg_type *t;        /* resolved (a domain's base) */
	int notnull;
	int identity_always;      /* GENERATED ALWAYS AS IDENTITY */
	int generated;            /* GENERATED ALWAYS AS (expr) STORED: not written */
};

/* One group of a batch: the records that hold the same fields. */
struct pg_group {
	struct mig_batch *b;
	const size_t *in;         /* the group's records: indexes in the batch */
	size_t nin;
	const size_t *cols;       /* the columns they hold */
	size_t nc;
	size_t m;                 /* lines (records that converted) */
	size_t *item;             /* line -> index in the batch */
	size_t *off;              /* m + 1 offsets of the lines in S->data */
	unsigned char *staged;    /* line -> 1 once in the staging table */
	int copy_into_stage;      /* the COPY goes to the staging table */
	int unmatched;            /* status of staged rows that RETURNING missed */
	int matched;              /* status of those it returned as not inserted */
	int keyless;              /* DO NOTHING without keys: statuses by count */
	const char *copy_sql;
	const char *ins_sql;
};

struct pg_store {
	struct mig_store base;
	PGconn *conn;
	char *schema, *table;     /* the collection, split; NULL without one */
	char *qtable;             /* "schema"."table", quoted */
	char *shown;              /* schema.table as messages show it */

	struct pg_type **types;   /* the type cache; each entry owned */
	size_t ntypes, captypes;

	struct mig_buf sql;       /* statements being built */
	struct mig_buf tmp;       /* scratch */

	/* columns: of the SELECT when reading, of the table when writing */
	struct pg_col *cols;
	size_t ncols;
	char **key_fields;        /* the primary key, NULL-terminated */

	/* reading */
	enum mig_json_mode mode;
	int in_tx, in_copy;
	char **fields;            /* ncols field starts of the current row */
	size_t *flens;
	/* read_next_text: each column's "name": and where it starts in tkeys
	 * (ncols + 1 offsets); tk_json: records are built as values instead
	 * (the first name starts with '$', which makes the record a wrapper
	 * to the writer, or a name is there twice) */
	struct mig_buf tkeys;
	size_t *tkoff;
	int tk_json;

	/* writing */
	struct mig_write_opts wo;
	int writing;
	int outer;                /* one transaction for the load: atomic, dry run */
	int no_text;              /* MIG_PG_NO_TEXT_PATH: every record parsed */
	int need_create;          /* --create from the first batch */
	int staging;              /* the load goes through the staging table */
	int staging_ready;
	enum mig_conflict conflict;
	json_t *colidx;           /* column name -> index */
	size_t *hint;             /* column of the i-th field of the last record */
	const json_t **vals;      /* a record's value per column */
	size_t *keycol;           /* the conflict keys, as column indexes */
	size_t nkeys;
	const char **keynames;    /* and their names, for messages */
	int tx_clean;             /* a batch transaction with nothing done yet */
	int commit_sent;          /* COMMIT sent, no answer yet */
	char xid[32];             /* the batch transaction's txid_current() */
	uint64_t committed;       /* records committed by finished batches */
	struct mig_buf data;      /* a group's COPY lines */
	char last_state[6];       /* SQLSTATE of the last failure */
	json_t *post_ddl;         /* statements for write_end: foreign keys, indexes */
	/* the batch's first group, streamed while the batch is read */
	int st_on;                /* its COPY is open */
	int st_dead;              /* this batch does not stream */
	int st_broken;            /* sending failed: write_batch says why */
	uint64_t st_sig[4];       /* its columns (ST_WORDS) */
	size_t *st_cols, st_nc;
	struct mig_buf st_copy;   /* its COPY statement */
	size_t *st_item, *st_off, st_m, st_cap;   /* as pg_group's item, off, m */
	size_t st_sent;           /* bytes of S->data sent */
	struct mig_buf fbuf;      /* fast_record: the fields' texts */
	size_t *fpos, *flen, fcap;

	int snap_held;            /* snapshot_begin's transaction is open */
};

static const char stage_name[] = "pg_temp.mig_stage";
static const char stage_n[] = "\"mig.n\"";

/* ------------------------------------------------------------------ small helpers */

/* Copies src to dst (size n) as one line: newlines become "; ", no
 * trailing newline. */
static const char *oneline(char *dst, size_t n, const char *src)
{
	size_t j = 0;

	if (!src)
		src = "unknown error";
	for (size_t i = 0; src[i] && j + 3 < n; i++) {
		if (src[i] == '\n') {
			size_t k = i + 1;
			while (src[k] == ' ' || src[k] == '\t')
				k++;
			if (!src[k])
				break;
			dst[j++] = ';';
			dst[j++] = ' ';
			continue;
		}
		dst[j++] = src[i];
	}
	dst[j] = '\0';
	return dst;
}

static void notice_sink(void *arg, const char *msg)
{
	char line[MIG_ERROR_MAX];

	(void)arg;
	mig_debug("server: %s", oneline(line, sizeof line, msg));
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR && !mig_interrupted)
		;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	int64_t era;
	unsigned doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = (unsigned)(z - era * 146097);
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static int digits(const char **pp, const char *e, int n, int *out)
{
	const char *p = *pp;
	int v = 0;

	if (e - p < n)
		return -1;
	for (int i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		v = v * 10 + (p[i] - '0');
	}
	*pp = p + n;
	*out = v;
	return 0;
}

/* Reads the server's timestamp text "YYYY-MM-DD HH:MM:SS[.ffffff][+HH[:MM[:SS]]][ BC]"
 * (years may have more than four digits).  Returns 0 and microseconds
 * since the epoch, or -1 for anything else (infinity, or out of the int64
 * range of microseconds since 1970). */
static int parse_pg_ts(const char *s, size_t len, int64_t *out)
{
	const char *p = s, *e = s + len;
	int64_t y = 0, days, secs, us = 0;
	int nd = 0, mo, d, h, mi, sec, off = 0;

	while (p < e && *p >= '0' && *p <= '9' && nd < 7) {
		y = y * 10 + (*p++ - '0');
		nd++;
	}
	if (nd < 4 || p >= e || *p++ != '-' || digits(&p, e, 2, &mo) || p >= e || *p++ != '-' ||
	    digits(&p, e, 2, &d) || p >= e || *p++ != ' ' || digits(&p, e, 2, &h) || p >= e ||
	    *p++ != ':' || digits(&p, e, 2, &mi) || p >= e || *p++ != ':' || digits(&p, e, 2, &sec))
		return -1;
	if (p < e && *p == '.') {
		int n = 0;
		p++;
		while (p < e && *p >= '0' && *p <= '9') {
			if (n < 6)
				us = us * 10 + (*p - '0'), n++;
			p++;
		}
		while (n++ < 6)
			us *= 10;
	}
	if (p < e && (*p == '+' || *p == '-')) {
		int sign = *p++ == '-' ? -1 : 1, oh, om = 0, os = 0;
		if (digits(&p, e, 2, &oh))
			return -1;
		if (p < e && *p == ':') {
			p++;
			if (digits(&p, e, 2, &om))
				return -1;
			if (p < e && *p == ':') {
				p++;
				if (digits(&p, e, 2, &os))
					return -1;
			}
		}
		off = sign * (oh * 3600 + om * 60 + os);
	}
	if (e - p == 3 && memcmp(p, " BC", 3) == 0) {
		y = 1 - y;
		p += 3;
	}
	if (p != e || mo < 1 || mo > 12 || d < 1 || d > 31)
		return -1;
	days = days_from_civil(y, (unsigned)mo, (unsigned)d);
	secs = days * 86400 + h * 3600 + mi * 60 + sec - off;
	if (__builtin_mul_overflow(secs, (int64_t)1000000, &secs) ||
	    __builtin_add_overflow(secs, us, &secs))
		return -1;
	*out = secs;
	return 0;
}

static char *put2(char *p, unsigned v)
{
	p[0] = (char)('0' + v / 10);
	p[1] = (char)('0' + v % 10);
	return p + 2;
}

/* Writes microseconds since the epoch as the server reads them:
 * "YYYY-MM-DD HH:MM:SS[.ffffff]", "+00" when tz, " BC" for years <= 0.
 * out holds 64 bytes.  Returns the length.  By hand: this runs for every
 * timestamp loaded. */
static int fmt_pg_ts(char *out, int64_t us, int tz)
{
	int64_t days = us / 86400000000LL, rem = us % 86400000000LL, y;
	unsigned m, d, secs, frac;
	char *p = out;
	int bc;

	if (rem < 0) {
		rem += 86400000000LL;
		days--;
	}
	civil_from_days(days, &y, &m, &d);
	bc = y <= 0;
	if (bc)
		y = 1 - y;
	if (y < 10000) {
		p = put2(p, (unsigned)(y / 100));
		p = put2(p, (unsigned)(y % 100));
	} else {
		p += snprintf(p, 24, "%" PRId64, y);
	}
	*p++ = '-';
	p = put2(p, m);
	*p++ = '-';
	p = put2(p, d);
	*p++ = ' ';
	secs = (unsigned)(rem / 1000000);
	frac = (unsigned)(rem % 1000000);
	p = put2(p, secs / 3600);
	*p++ = ':';
	p = put2(p, secs / 60 % 60);
	*p++ = ':';
	p = put2(p, secs % 60);
	if (frac) {
		*p++ = '.';
		for (int i = 5; i >= 0; i--, frac /= 10)
			p[i] = (char)('0' + frac % 10);
		p += 6;
	}
	if (tz) {
		memcpy(p, "+00", 3);
		p += 3;
	}
	if (bc) {
		memcpy(p, " BC", 3);
		p += 3;
	}
	*p = '\0';
	return (int)(p - out);
}

/* An int64 in decimal; out holds 24.  Returns the length. */
static int fmt_i64(char *out, int64_t v)
{
	char tmp[24], *t = tmp + sizeof tmp;
	uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
	int n = 0;

	do {
		*--t = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (v < 0)
		out[n++] = '-';
	memcpy(out + n, t, (size_t)(tmp + sizeof tmp - t));
	n += (int)(tmp + sizeof tmp - t);
	out[n] = '\0';
	return n;
}

/* The shortest text that reads back to the same double.  out holds 32. */
static int fmt_double(char *out, double d)
{
	int n = 0;

	for (int prec = 15; prec <= 17; prec++) {
		n = snprintf(out, 32, "%.*g", prec, d);
		if (strtod(out, NULL) == d)
			break;
	}
	return n;
}

/* A double as a JSON number in json or jsonb text: fmt_double's digits,
 * with ".0" when they would read back as an integer, so that 2.0 and -0.0
 * stay doubles (jsonb keeps the scale it is given: "2.0" comes back 2.0,
 * which mig reads as a double again; PostgreSQL itself makes -0.0 in jsonb
 * 0.0, json keeps the text). */
static int fmt_json_double(char *out, double d)
{
	int n = fmt_double(out, d);

	if (isfinite(d) && !strpbrk(out, ".eE")) {
		memcpy(out + n, ".0", 3);
		n += 2;
	}
	return n;
}

/* ------------------------------------------------------------------ connection and SQL */

/* The primary message of a failed result (or of the connection), one line. */
static const char *res_message(struct pg_store *S, const PGresult *r, char *buf, size_t n)
{
	const char *m = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;

	if (!m && r)
		m = PQresultErrorMessage(r);
	if ((!m || !*m) && S->conn)
		m = PQerrorMessage(S->conn);
	return oneline(buf, n, m && *m ? m : "unknown error");
}

static int conn_lost(const struct pg_store *S)
{
	return !S->conn || PQstatus(S->conn) == CONNECTION_BAD;
}

/* Fills err for a failed statement: "LOCATOR: WHAT: server message".
 * Returns MIG_EIO. */
static int pg_fail(struct pg_store *S, const PGresult *r, struct mig_error *err,
		   const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static int pg_fail(struct pg_store *S, const PGresult *r, struct mig_error *err,
		   const char *fmt, ...)
{
	char what[512], msg[MIG_ERROR_MAX];
	const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	snprintf(S->last_state, sizeof S->last_state, "%s", state ? state : "");
	res_message(S, r, msg, sizeof msg);
	if (r && PQresultErrorField(r, PG_DIAG_MESSAGE_DETAIL)) {
		/* which key, which row: "Key (id)=(1) is duplicated." */
		size_t k = strlen(msg);
		char detail[256];
		oneline(detail, sizeof detail, PQresultErrorField(r, PG_DIAG_MESSAGE_DETAIL));
		if (k + 4 < sizeof msg)
			snprintf(msg + k, sizeof msg - k, " (%.*s)", (int)(sizeof msg - k - 4), detail);
	}
	if (conn_lost(S))
		return mig_error_set(err, MIG_EIO, "%s: %s: connection lost: %s",
				     S->base.loc->redacted, what, msg);
	return mig_error_set(err, MIG_EIO, "%s: %s: %s", S->base.loc->redacted, what, msg);
}

/* Runs our own SQL (no parameters, possibly several statements). */
static int exec_cmd(struct pg_store *S, const char *sql, struct mig_error *err, const char *what)
{
	PGresult *r = PQexec(S->conn, sql);
	int rc = 0;
	ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;

	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
		rc = pg_fail(S, r, err, "%s", what);
	PQclear(r);
	return rc;
}

/* Runs one statement with text parameters; *out is the result when it
 * returned rows or a command status. */
static int query(struct pg_store *S, PGresult **out, const char *sql, int n,
		 const char *const *params, struct mig_error *err, const char *what)
{
	PGresult *r = PQexecParams(S->conn, sql, n, NULL, params, NULL, NULL, 0);
	ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;

	*out = NULL;
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
		int rc = pg_fail(S, r, err, "%s", what);
		PQclear(r);
		return rc;
	}
	*out = r;
	return 0;
}

static int nomem(struct mig_error *err)
{
	return mig_error_set(err, MIG_ENOMEM, "out of memory");
}

/* Appends name quoted as an identifier (PQescapeIdentifier). */
static int put_ident(struct pg_store *S, struct mig_buf *b, const char *name)
{
	char *q = PQescapeIdentifier(S->conn, name, strlen(name));
	int rc;

	if (!q)
		return MIG_ENOMEM;
	rc = mig_buf_puts(b, q);
	PQfreemem(q);
	return rc;
}

static int connect_db(struct pg_store *S, struct mig_error *err)
{
	static const char *const keys[] = { "dbname", "fallback_application_name", NULL };
	const char *vals[] = { S->base.loc->uri, mig_log_program(), NULL };
	char msg[MIG_ERROR_MAX];
	PGconn *c;

	c = PQconnectdbParams(keys, vals, 1);
	if (!c)
		return nomem(err);
	if (PQstatus(c) != CONNECTION_OK) {
		oneline(msg, sizeof msg, PQerrorMessage(c));
		PQfinish(c);
		return mig_error_set(err, MIG_EIO, "%s: cannot connect: %s", S->base.loc->redacted,
				     msg);
	}
	PQsetNoticeProcessor(c, notice_sink, NULL);
	S->conn = c;
	return exec_cmd(S, "SET TimeZone = 'UTC'; SET DateStyle = 'ISO'; "
			"SET IntervalStyle = 'iso_8601'; SET extra_float_digits = 3; "
			"SET bytea_output = 'hex'; SET client_encoding = 'UTF8'",
			err, "session settings");
}

/* Splits the locator's fragment: [schema.]table, each part plain or
 * "double-quoted". */
static int parse_ident(const char **pp, char **out)
{
	const char *p = *pp;
	struct mig_buf b;

	mig_buf_init(&b, 0);
	if (*p == '"') {
		for (p++;; p++) {
			if (!*p)
				goto bad;
			if (*p == '"') {
				if (p[1] != '"')
					break;
				p++;
			}
			if (mig_buf_putc(&b, *p))
				goto bad;
		}
		p++;
	} else {
		while (*p && *p != '.')
			if (mig_buf_putc(&b, *p++))
				goto bad;
	}
	if (!b.len)
		goto bad;
	*out = mig_buf_steal(&b);
	*pp = p;
	return *out ? 0 : -1;
bad:
	mig_buf_free(&b);
	return -1;
}

static int split_collection(struct pg_store *S, struct mig_error *err)
{
	const char *frag = S->base.loc->collection, *p = frag;
	char *a = NULL, *b = NULL;

	if (!frag || !*frag)
		return 0;
	if (parse_ident(&p, &a))
		goto bad;
	if (*p == '.') {
		p++;
		if (parse_ident(&p, &b))
			goto bad;
	}
	if (*p)
		goto bad;
	S->schema = b ? a : strdup("public");
	S->table = b ? b : a;
	if (!S->schema)
		return nomem(err);
	return 0;
bad:
	free(a);
	free(b);
	return mig_error_set(err, MIG_EUSAGE, "%s: '#%s' is not a table name ([schema.]table, "
			     "parts may be \"quoted\")", S->base.loc->redacted, frag);
}

/* "schema"."table" and schema.table, once connected. */
static int name_table(struct pg_store *S, struct mig_error *err)
{
	struct mig_buf b;

	if (!S->table)
		return 0;
	mig_buf_init(&b, 0);
	if (put_ident(S, &b, S->schema) || mig_buf_putc(&b, '.') || put_ident(S, &b, S->table))
		goto oom;
	S->qtable = mig_buf_steal(&b);
	if (asprintf(&S->shown, "%s.%s", S->schema, S->table) < 0)
		S->shown = NULL;
	if (!S->qtable || !S->shown)
		return nomem(err);
	return 0;
oom:
	mig_buf_free(&b);
	return nomem(err);
}

/* ------------------------------------------------------------------ types */

static struct pg_type *type_find(struct pg_store *S, Oid oid)
{
	for (size_t i = 0; i < S->ntypes; i++)
		if (S->types[i]->oid == oid)
			return S->types[i];
	return NULL;
}

static struct pg_type *type_real(struct pg_type *t)
{
	while (t && t->base)
		t = t->base;
	return t;
}

static int builtin_kind(Oid oid, enum pg_kind *k)
{
	switch (oid) {
	case OID_BOOL: *k = K_BOOL; return 1;
	case OID_INT8: *k = K_INT8; return 1;
	case OID_INT2: case OID_INT4: case OID_OID: *k = K_INT; return 1;
	case OID_FLOAT4: case OID_FLOAT8: *k = K_FLOAT; return 1;
	case OID_NUMERIC: *k = K_NUMERIC; return 1;
	case OID_TIMESTAMPTZ: *k = K_TSTZ; return 1;
	case OID_TIMESTAMP: *k = K_TS; return 1;
	case OID_DATE: *k = K_DATE; return 1;
	case OID_BYTEA: *k = K_BYTEA; return 1;
	case OID_UUID: *k = K_UUID; return 1;
	case OID_JSON: *k = K_JSON; return 1;
	case OID_JSONB: *k = K_JSONB; return 1;
	case OID_TEXT: case OID_VARCHAR: case OID_BPCHAR: case OID_NAME: *k = K_TEXT; return 1;
	}
	return 0;
}

/* The type of oid, resolved (a domain gives its base type), from the
 * cache or the catalog. */
static int type_get(struct pg_store *S, Oid oid, struct pg_type **out, struct mig_error *err)
{
	static const char tsql[] =
		"SELECT t.typtype, t.typelem, t.typdelim, t.typbasetype, t.typrelid, "
		"EXISTS (SELECT 1 FROM pg_catalog.pg_type e WHERE e.typarray = t.oid) "
		"FROM pg_catalog.pg_type t WHERE t.oid = $1";
	static const char asql[] =
		"SELECT attname, atttypid FROM pg_catalog.pg_attribute "
		"WHERE attrelid = $1 AND attnum > 0 AND NOT attisdropped ORDER BY attnum";
	struct pg_type *t = type_find(S, oid);
	PGresult *r = NULL;
	char num[16];
	const char *p[1] = { num };
	int rc = 0;

	if (t) {
		*out = type_real(t);
		return 0;
	}
	if (S->ntypes == S->captypes) {
		size_t cap = S->captypes ? 2 * S->captypes : 16;
		struct pg_type **n = realloc(S->types, cap * sizeof *n);
		if (!n)
			return nomem(err);
		S->types = n;
		S->captypes = cap;
	}
	t = calloc(1, sizeof *t);
	if (!t)
		return nomem(err);
	t->oid = oid;
	t->typtype = 'b';
	/* in the cache before its parts are resolved, so that the recursion ends */
	S->types[S->ntypes++] = t;
	if (builtin_kind(oid, &t->kind)) {
		*out = t;
		return 0;
	}
	snprintf(num, sizeof num, "%u", (unsigned)oid);
	rc = query(S, &r, tsql, 1, p, err, "reading pg_type");
	if (rc)
		return rc;
	if (PQntuples(r) != 1) {
		/* a type we cannot see: show its text */
		PQclear(r);
		*out = t;
		return 0;
	}
	t->typtype = PQgetvalue(r, 0, 0)[0];
	if (t->typtype == 'd') {
		Oid base = (Oid)strtoul(PQgetvalue(r, 0, 3), NULL, 10);
		rc = type_get(S, base, &t->base, err);
	} else if (t->typtype == 'c') {
		Oid rel = (Oid)strtoul(PQgetvalue(r, 0, 4), NULL, 10);
		PGresult *a = NULL;
		snprintf(num, sizeof num, "%u", (unsigned)rel);
		rc = query(S, &a, asql, 1, p, err, "reading pg_attribute");
		if (!rc) {
			size_t n = (size_t)PQntuples(a);
			t->attnames = calloc(n + 1, sizeof *t->attnames);
			t->atttypes = calloc(n + 1, sizeof *t->atttypes);
			if (!t->attnames || !t->atttypes)
				rc = nomem(err);
			for (size_t i = 0; !rc && i < n; i++) {
				t->attnames[i] = strdup(PQgetvalue(a, (int)i, 0));
				if (!t->attnames[i]) {
					rc = nomem(err);
					break;
				}
				t->nattrs = i + 1;
				rc = type_get(S, (Oid)strtoul(PQgetvalue(a, (int)i, 1), NULL, 10),
					      &t->atttypes[i], err);
			}
			if (!rc)
				t->kind = K_COMPOSITE;
		}
		PQclear(a);
	} else if (t->typtype == 'b' && PQgetvalue(r, 0, 5)[0] == 't') {
		Oid elem = (Oid)strtoul(PQgetvalue(r, 0, 1), NULL, 10);
		t->delim = PQgetvalue(r, 0, 2)[0];
		if (elem) {
			rc = type_get(S, elem, &t->elem, err);
			if (!rc)
				t->kind = K_ARRAY;
		}
	}
	PQclear(r);
	if (rc)
		return rc;
	*out = type_real(t);
	return 0;
}

static void types_free(struct pg_store *S)
{
	for (size_t i = 0; i < S->ntypes; i++) {
		struct pg_type *t = S->types[i];
		for (size_t j = 0; j < t->nattrs; j++)
			free(t->attnames[j]);
		free(t->attnames);
		free(t->atttypes);
		free(t);
	}
	free(S->types);
	S->types = NULL;
	S->ntypes = S->captypes = 0;
}

static void cols_free(struct pg_store *S)
{
	for (size_t i = 0; i < S->ncols; i++)
		free(S->cols[i].name);
	free(S->cols);
	S->cols = NULL;
	S->ncols = 0;
	free(S->fields);
	free(S->flens);
	S->fields = NULL;
	S->flens = NULL;
	free(S->tkoff);
	S->tkoff = NULL;
	mig_buf_reset(&S->tkeys);
}

static void keys_free(struct pg_store *S)
{
	if (S->key_fields)
		for (size_t i = 0; S->key_fields[i]; i++)
			free(S->key_fields[i]);
	free(S->key_fields);
	S->key_fields = NULL;
	S->base.key_fields = NULL;
}

/* ------------------------------------------------------------------ extract: text to values */

/* Undoes COPY text escaping of one field in place; returns the new length.
 * (\N alone is NULL and is looked at before this.) */
static size_t copy_unescape(char *s, size_t len)
{
	char *r = memchr(s, '\\', len), *w, *e = s + len;

	if (!r)
		return len;
	w = r;
	while (r < e) {
		char c = *r++;
		if (c != '\\' || r >= e) {
			*w++ = c;
			continue;
		}
		c = *r++;
		switch (c) {
		case 'b': *w++ = '\b'; break;
		case 'f': *w++ = '\f'; break;
		case 'n': *w++ = '\n'; break;
		case 'r': *w++ = '\r'; break;
		case 't': *w++ = '\t'; break;
		case 'v': *w++ = '\v'; break;
		case 'x':
			if (r < e && isxdigit((unsigned char)*r)) {
				int v = 0;
				for (int i = 0; i < 2 && r < e && isxdigit((unsigned char)*r); i++, r++)
					v = v * 16 + (isdigit((unsigned char)*r) ? *r - '0'
						      : (tolower((unsigned char)*r) - 'a' + 10));
				*w++ = (char)v;
			} else {
				*w++ = 'x';
			}
			break;
		default:
			if (c >= '0' && c <= '7') {
				int v = c - '0';
				for (int i = 0; i < 2 && r < e && *r >= '0' && *r <= '7'; i++, r++)
					v = v * 8 + (*r - '0');
				*w++ = (char)v;
			} else {
				*w++ = c;
			}
		}
	}
	*w = '\0';
	return (size_t)(w - s);
}

/* A decimal number's significant digits (no leading or trailing zeros)
 * and exponent: value = 0.DIGITS x 10^exp.  nd 0 means zero. */
struct decnum {
	char dig[24];
	size_t nd;    /* may exceed sizeof dig: then dig holds the first ones */
	long exp;
};

static void decnum_of(const char *s, size_t n, struct decnum *d)
{
	const char *e = s + n;
	long intdigits = 0, lead = 0;
	int seen_point = 0, seen_nonzero = 0;
	size_t keep = 0;   /* digits up to the last non-zero one */

	d->nd = 0;
	d->exp = 0;
	if (s < e && (*s == '-' || *s == '+'))
		s++;
	for (; s < e; s++) {
		if (*s == '.') {
			seen_point = 1;
			continue;
		}
		if (*s < '0' || *s > '9')
			break;
		if (!seen_nonzero && *s == '0') {
			if (seen_point)
				lead++;
			continue;
		}
		seen_nonzero = 1;
		if (!seen_point)
			intdigits++;
		if (d->nd < sizeof d->dig)
			d->dig[d->nd] = *s;
		d->nd++;
		if (*s != '0')
			keep = d->nd;
	}
	if (s < e && (*s == 'e' || *s == 'E'))
		d->exp = strtol(s + 1, NULL, 10);
	d->nd = keep;
	d->exp += seen_nonzero ? (intdigits ? intdigits : -lead) : 0;
}

/* Whether the double d, printed the shortest way, stands for exactly the
 * decimal text s: then a JSON number can carry it without loss. */
static int double_is_exact(const char *s, size_t n, double d)
{
	struct decnum a, b;
	char buf[32];

	if (!isfinite(d))
		return 0;
	decnum_of(s, n, &a);
	if (a.nd == 0)
		return 1;
	if (a.nd > 17)
		return 0;
	/* up to 15 significant digits always survive a double (DBL_DIG) */
	if (a.nd <= 15 && fabs(d) >= 1e-307)
		return 1;
	decnum_of(buf, (size_t)fmt_double(buf, d), &b);
	return a.nd == b.nd && a.exp == b.exp && memcmp(a.dig, b.dig, a.nd) == 0;
}

/* A JSON number from json or jsonb text.  Integers that fit int64 are
 * integers; other numbers are doubles when the double prints back to the
 * same decimal value (a trailing zero of the scale, as in 1.10, is not
 * kept); numbers that a double cannot hold exactly - jsonb numerics may
 * have any precision - become {"$numberDecimal": text}, which loading
 * into a json/jsonb column writes back as the bare number. */
static json_t *json_number(char *s, size_t n)
{
	int integral = 1;
	char save = s[n];
	json_t *v;
	double d;

	for (size_t i = 0; i < n; i++)
		if (s[i] == '.' || s[i] == 'e' || s[i] == 'E')
			integral = 0;
	s[n] = '\0';
	if (integral && n <= 20) {
		char *end;
		long long ll;
		errno = 0;
		ll = strtoll(s, &end, 10);
		if (!errno && end == s + n) {
			s[n] = save;
			return json_integer(ll);
		}
	}
	d = strtod(s, NULL);
	v = double_is_exact(s, n, d) ? json_real(d) : mig_value_decimal(s);
	s[n] = save;
	return v;
}

/* The json/jsonb parser: in place (strings are unescaped where they lie),
 * into Jansson values.  Ours rather than json_loadb so that numbers keep
 * their precision (json_number) and NUL escapes of the json type stay
 * strings. */
struct jparse {
	char *p;
	int depth;
};

#define JSON_MAX_DEPTH 2048

static void jskip(struct jparse *j)
{
	while (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r')
		j->p++;
}

static int hex4(const char *p, unsigned *out)
{
	unsigned v = 0;

	for (int i = 0; i < 4; i++) {
		char c = p[i];
		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (unsigned)(c - 'A' + 10);
		else
			return -1;
	}
	*out = v;
	return 0;
}

static char *put_utf8(char *w, unsigned cp)
{
	if (cp < 0x80) {
		*w++ = (char)cp;
	} else if (cp < 0x800) {
		*w++ = (char)(0xC0 | (cp >> 6));
		*w++ = (char)(0x80 | (cp & 0x3F));
	} else if (cp < 0x10000) {
		*w++ = (char)(0xE0 | (cp >> 12));
		*w++ = (char)(0x80 | ((cp >> 6) & 0x3F));
		*w++ = (char)(0x80 | (cp & 0x3F));
	} else {
		*w++ = (char)(0xF0 | (cp >> 18));
		*w++ = (char)(0x80 | ((cp >> 12) & 0x3F));
		*w++ = (char)(0x80 | ((cp >> 6) & 0x3F));
		*w++ = (char)(0x80 | (cp & 0x3F));
	}
	return w;
}

/* At an opening quote: unescapes the string in place. */
static int jstring(struct jparse *j, char **out, size_t *len)
{
	char *r = j->p + 1, *w = r, *start = r;

	for (;;) {
		char c = *r;
		unsigned cp, lo;
		if (c == '"')
			break;
		if (!c)
			return -1;
		if (c != '\\') {
			*w++ = *r++;
			continue;
		}
		r++;
		switch (*r++) {
		case '"': *w++ = '"'; break;
		case '\\': *w++ = '\\'; break;
		case '/': *w++ = '/'; break;
		case 'b': *w++ = '\b'; break;
		case 'f': *w++ = '\f'; break;
		case 'n': *w++ = '\n'; break;
		case 'r': *w++ = '\r'; break;
		case 't': *w++ = '\t'; break;
		case 'u':
			if (hex4(r, &cp))
				return -1;
			r += 4;
			if (cp >= 0xD800 && cp < 0xDC00 && r[0] == '\\' && r[1] == 'u' &&
			    !hex4(r + 2, &lo) && lo >= 0xDC00 && lo < 0xE000) {
				cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
				r += 6;
			} else if (cp >= 0xD800 && cp < 0xE000) {
				cp = 0xFFFD;   /* a lone surrogate (json type only) */
			}
			w = put_utf8(w, cp);
			break;
		default:
			return -1;
		}
	}
	*out = start;
	*len = (size_t)(w - start);
	j->p = r + 1;
	return 0;
}

static int jvalue(struct jparse *j, json_t **out)
{
	json_t *v = NULL, *e;
	char *s;
	size_t n;
	int rc;

	*out = NULL;
	jskip(j);
	switch (*j->p) {
	case '{':
		if (++j->depth > JSON_MAX_DEPTH)
			return MIG_EIO;
		j->p++;
		if (!(v = json_object()))
			return MIG_ENOMEM;
		jskip(j);
		if (*j->p == '}') {
			j->p++;
			break;
		}
		for (;;) {
			jskip(j);
			if (*j->p != '"' || jstring(j, &s, &n))
				goto bad;
			jskip(j);
			if (*j->p++ != ':')
				goto bad;
			if ((rc = jvalue(j, &e)) != 0) {
				json_decref(v);
				return rc;
			}
			if (json_object_setn_new_nocheck(v, s, n, e))
				goto oom;
			jskip(j);
			if (*j->p == ',') {
				j->p++;
				continue;
			}
			if (*j->p++ != '}')
				goto bad;
			break;
		}
		j->depth--;
		break;
	case '[':
		if (++j->depth > JSON_MAX_DEPTH)
			return MIG_EIO;
		j->p++;
		if (!(v = json_array()))
			return MIG_ENOMEM;
		jskip(j);
		if (*j->p == ']') {
			j->p++;
			j->depth--;
			break;
		}
		for (;;) {
			if ((rc = jvalue(j, &e)) != 0) {
				json_decref(v);
				return rc;
			}
			if (json_array_append_new(v, e))
				goto oom;
			jskip(j);
			if (*j->p == ',') {
				j->p++;
				continue;
			}
			if (*j->p++ != ']')
				goto bad;
			break;
		}
		j->depth--;
		break;
	case '"':
		if (jstring(j, &s, &n))
			return MIG_EIO;
		v = json_stringn_nocheck(s, n);
		break;
	case 't':
		if (strncmp(j->p, "true", 4))
			return MIG_EIO;
		j->p += 4;
		v = json_true();
		break;
	case 'f':
		if (strncmp(j->p, "false", 5))
			return MIG_EIO;
		j->p += 5;
		v = json_false();
		break;
	case 'n':
		if (strncmp(j->p, "null", 4))
			return MIG_EIO;
		j->p += 4;
		v = json_null();
		break;
	default:
		s = j->p;
		if (*j->p == '-')
			j->p++;
		while ((*j->p >= '0' && *j->p <= '9') || *j->p == '.' || *j->p == 'e' ||
		       *j->p == 'E' || *j->p == '+' || *j->p == '-')
			j->p++;
		if (j->p == s || (j->p == s + 1 && *s == '-'))
			return MIG_EIO;
		v = json_number(s, (size_t)(j->p - s));
		break;
	}
	if (!v)
		return MIG_ENOMEM;
	*out = v;
	return 0;
bad:
	json_decref(v);
	return MIG_EIO;
oom:
	json_decref(v);
	return MIG_ENOMEM;
}

static int parse_json_text(char *s, json_t **out)
{
	struct jparse j = { s, 0 };
	int rc = jvalue(&j, out);

	if (rc)
		return rc;
	jskip(&j);
	if (*j.p) {
		json_decref(*out);
		*out = NULL;
		return MIG_EIO;
	}
	return 0;
}

static int conv_field(struct pg_store *S, struct pg_type *t, char *s, size_t len, json_t **out);

/* One level of an array's text, in place: "{a,"b c",NULL,{...}}". */
static int parse_array_level(struct pg_store *S, struct pg_type *at, char **pp, json_t **out)
{
	struct pg_type *et = at->elem;
	char delim = at->delim ? at->delim : ',', *p = *pp;
	json_t *arr, *v;
	int rc;

	*out = NULL;
	if (*p != '{')
		return MIG_EIO;
	p++;
	if (!(arr = json_array()))
		return MIG_ENOMEM;
	if (*p == '}') {
		*pp = p + 1;
		*out = arr;
		return 0;
	}
	for (;;) {
		v = NULL;
		if (*p == '{') {
			rc = parse_array_level(S, at, &p, &v);
		} else if (*p == '"') {
			char *w = p, *start = p;
			for (p++; *p != '"'; p++) {
				if (*p == '\\')
					p++;
				if (!*p) {
					json_decref(arr);
					return MIG_EIO;
				}
				*w++ = *p;
			}
			p++;
			*w = '\0';
			rc = conv_field(S, et, start, (size_t)(w - start), &v);
		} else {
			char *start = p, c;
			while (*p && *p != delim && *p != '}')
				p++;
			c = *p;
			if (p - start == 4 && memcmp(start, "NULL", 4) == 0) {
				v = json_null();
				rc = 0;
			} else {
				*p = '\0';
				rc = conv_field(S, et, start, (size_t)(p - start), &v);
				*p = c;
			}
		}
		if (rc || json_array_append_new(arr, v)) {
			json_decref(arr);
			return rc ? rc : MIG_ENOMEM;
		}
		if (*p == delim) {
			p++;
			continue;
		}
		if (*p != '}') {
			json_decref(arr);
			return MIG_EIO;
		}
		p++;
		break;
	}
	*pp = p;
	*out = arr;
	return 0;
}

static int parse_array(struct pg_store *S, struct pg_type *at, char *s, json_t **out)
{
	char *p = s;
	int rc;

	if (*p == '[') {   /* "[0:2]={...}": lower bounds other than 1 */
		p = strchr(p, '=');
		if (!p)
			return MIG_EIO;
		p++;
	}
	rc = parse_array_level(S, at, &p, out);
	if (!rc && *p) {
		json_decref(*out);
		*out = NULL;
		rc = MIG_EIO;
	}
	return rc;
}

/* A composite's text, in place: "(1,,"a ""b""",\\x)". */
static int parse_composite(struct pg_store *S, struct pg_type *t, char *s, json_t **out)
{
	char *p = s;
	json_t *obj, *v;
	int rc = 0;

	*out = NULL;
	if (*p++ != '(')
		return MIG_EIO;
	if (!(obj = json_object()))
		return MIG_ENOMEM;
	for (size_t i = 0; i < t->nattrs; i++) {
		char *start = p, *w = p, c;
		int quoted = 0, inq = 0;
		while (*p && (inq || (*p != ',' && *p != ')'))) {
			if (*p == '"') {
				quoted = 1;
				if (inq && p[1] == '"') {
					*w++ = '"';
					p += 2;
					continue;
				}
				inq = !inq;
				p++;
				continue;
			}
			if (*p == '\\' && p[1])
				p++;
			*w++ = *p++;
		}
		c = *p;
		if (!c) {
			rc = MIG_EIO;
			break;
		}
		if (w == start && !quoted) {
			v = json_null();
			rc = v ? 0 : MIG_ENOMEM;
		} else {
			*w = '\0';
			rc = conv_field(S, t->atttypes[i], start, (size_t)(w - start), &v);
			*p = c;
		}
		if (rc)
			break;
		if (json_object_set_new_nocheck(obj, t->attnames[i], v)) {
			rc = MIG_ENOMEM;
			break;
		}
		p++;
		if (c == ')' && i + 1 < t->nattrs) {
			rc = MIG_EIO;
			break;
		}
	}
	if (!rc && (t->nattrs ? p[-1] != ')' : *p++ != ')'))
		rc = MIG_EIO;
	if (rc) {
		json_decref(obj);
		return rc;
	}
	*out = obj;
	return 0;
}

/* One field's text (unescaped, NUL-terminated at s[len]) as a value of
 * type t.  Returns 0, MIG_ENOMEM, or MIG_EIO when the text is not what
 * the server should have sent. */
static int conv_field(struct pg_store *S, struct pg_type *t, char *s, size_t len, json_t **out)
{
	json_t *v = NULL;
	char *end;
	int64_t us;

	switch (t->kind) {
	case K_INT:
	case K_INT8: {
		long long n;
		errno = 0;
		n = strtoll(s, &end, 10);
		if (errno || end != s + len || !len)
			return MIG_EIO;
		v = t->kind == K_INT8 && S->mode == MIG_JSON_CANONICAL ? mig_value_long(n)
									: json_integer(n);
		break;
	}
	case K_FLOAT:
		if (strcmp(s, "NaN") == 0)
			v = mig_value_double(NAN);
		else if (strcmp(s, "Infinity") == 0)
			v = mig_value_double(INFINITY);
		else if (strcmp(s, "-Infinity") == 0)
			v = mig_value_double(-INFINITY);
		else {
			double d = strtod(s, &end);
			if (end != s + len || !len)
				return MIG_EIO;
			v = mig_value_double(d);
		}
		break;
	case K_NUMERIC:
		v = mig_value_decimal(s);
		break;
	case K_BOOL:
		v = json_boolean(s[0] == 't');
		break;
	case K_TSTZ:
	case K_TS:
		if (parse_pg_ts(s, len, &us) == 0)
			v = mig_value_date(us);
		else
			v = json_stringn_nocheck(s, len);   /* infinity, -infinity */
		break;
	case K_BYTEA: {
		size_t n = 0;
		if (len < 2 || s[0] != '\\' || s[1] != 'x' || len % 2)
			return MIG_EIO;
		for (size_t i = 2; i < len; i += 2) {
			int hi = mig_hex_digit(s[i]), lo = mig_hex_digit(s[i + 1]);
			if (hi < 0 || lo < 0)
				return MIG_EIO;
			s[n++] = (char)(hi << 4 | lo);
		}
		v = mig_value_binary(s, n, 0);
		break;
	}
	case K_JSON:
	case K_JSONB:
		return parse_json_text(s, out);
	case K_ARRAY:
		return parse_array(S, t, s, out);
	case K_COMPOSITE:
		return parse_composite(S, t, s, out);
	default:
		v = json_stringn_nocheck(s, len);
		break;
	}
	if (!v)
		return MIG_ENOMEM;
	*out = v;
	return 0;
}

/* ------------------------------------------------------------------ extract */

static int to_text(struct pg_store *S, struct mig_buf *b, struct pg_type *t, const json_t *v,
		   struct mig_error *why);

static int table_oid(struct pg_store *S, char out[16], struct mig_error *err)
{
	static const char sql[] =
		"SELECT c.oid FROM pg_catalog.pg_class c "
		"JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
		"WHERE n.nspname = $1 AND c.relname = $2";
	const char *p[2] = { S->schema, S->table };
	PGresult *r;
	int rc = query(S, &r, sql, 2, p, err, "looking up the table");

	if (rc)
		return rc;
	if (PQntuples(r) != 1) {
		PQclear(r);
		out[0] = '\0';
		return 0;
	}
	snprintf(out, 16, "%s", PQgetvalue(r, 0, 0));
	PQclear(r);
	return 0;
}

/* The primary key's column names into S->key_fields (none: NULL). */
static int load_pk(struct pg_store *S, const char *oid, struct mig_error *err)
{
	static const char sql[] =
		"SELECT a.attname FROM pg_catalog.pg_index i "
		"JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey) "
		"WHERE i.indrelid = $1 AND i.indisprimary "
		"ORDER BY array_position(i.indkey::int2[], a.attnum)";
	const char *p[1] = { oid };
	PGresult *r;
	int rc, n;

	keys_free(S);
	rc = query(S, &r, sql, 1, p, err, "reading the primary key");
	if (rc)
		return rc;
	n = PQntuples(r);
	if (n > 0) {
		S->key_fields = calloc((size_t)n + 1, sizeof *S->key_fields);
		if (!S->key_fields)
			rc = nomem(err);
		for (int i = 0; !rc && i < n; i++)
			if (!(S->key_fields[i] = strdup(PQgetvalue(r, i, 0))))
				rc = nomem(err);
		S->base.key_fields = (const char *const *)S->key_fields;
	}
	PQclear(r);
	return rc;
}

static int col_index(const struct pg_store *S, const char *name, size_t *out)
{
	for (size_t i = 0; i < S->ncols; i++)
		if (strcmp(S->cols[i].name, name) == 0) {
			*out = i;
			return 0;
		}
	return -1;
}

/* The shard condition: a hash of the primary key, or with no primary key
 * the heap block number modulo N.  Both are decided row by row, the same
 * way in every process whatever the table's size when each one starts, so
 * the N shards are disjoint and cover the table.  (Block ranges computed
 * from the table's size would let each shard read only its part, but two
 * processes that see different sizes would leave gaps or overlaps; without
 * a key, each shard reads the whole table and keeps its blocks.) */
static int put_shard(struct pg_store *S, struct mig_buf *b, unsigned k, unsigned n)
{
	size_t nk = 0;
	int rc = 0;

	while (S->key_fields && S->key_fields[nk])
		nk++;
	if (!nk) {
		return mig_buf_printf(b, "((ctid::text::point)[0]::int8 %% %u = %u)", n, k);
	}
	rc = mig_buf_puts(b, "((");
	if (nk == 1) {
		size_t ci;
		int isint = col_index(S, S->key_fields[0], &ci) == 0 &&
			    (S->cols[ci].t->kind == K_INT || S->cols[ci].t->kind == K_INT8);
		rc = rc ? rc : mig_buf_puts(b, isint ? "hashint8extended(" : "hashtextextended(");
		rc = rc ? rc : put_ident(S, b, S->key_fields[0]);
		rc = rc ? rc : mig_buf_puts(b, isint ? "::int8, 0)" : "::text, 0)");
	} else {
		rc = rc ? rc : mig_buf_puts(b, "hashtextextended(ROW(");
		for (size_t i = 0; !rc && i < nk; i++) {
			if (i)
				rc = mig_buf_putc(b, ',');
			rc = rc ? rc : put_ident(S, b, S->key_fields[i]);
		}
		rc = rc ? rc : mig_buf_puts(b, ")::text, 0)");
	}
	return rc ? rc : mig_buf_printf(b, " %% %u + %u) %% %u = %u)", n, n, n, k);
}

/* The --since condition and order: (COL, key...) > (bookmark) and ORDER
 * BY COL, key...  The bookmark's values go to the server as parameters of
 * set_config() and are read back with current_setting(): COPY takes no
 * parameters, and nothing of a value is ever pasted into SQL. */
static int since_setup(struct pg_store *S, const struct mig_read_opts *o, struct mig_buf *cond,
		       struct mig_buf *order, struct mig_error *err)
{
	static const char fsql[] = "SELECT pg_catalog.format_type($1, $2)";
	static const char ssql[] = "SELECT pg_catalog.set_config($1, $2, true)";
	size_t tuple[65], nt = 0, ci;
	const json_t *key = NULL;
	int rc = 0;

	if (col_index(S, o->since, &ci))
		return mig_error_set(err, MIG_EUSAGE, "%s: --since %s: no such column in %s",
				     S->base.loc->redacted, o->since, S->shown);
	if (!S->key_fields || !S->key_fields[0])
		return mig_error_set(err, MIG_EUSAGE, "%s: --since needs a primary key on %s "
				     "(the bookmark is the column and the key)",
				     S->base.loc->redacted, S->shown);
	tuple[nt++] = ci;
	for (size_t i = 0; S->key_fields[i] && nt < 64; i++) {
		size_t ki;
		if (col_index(S, S->key_fields[i], &ki))
			return mig_error_set(err, MIG_EIO, "%s: key column %s not in the result",
					     S->base.loc->redacted, S->key_fields[i]);
		if (ki != ci)
			tuple[nt++] = ki;
	}
	for (size_t i = 0; !rc && i < nt; i++) {
		if (i)
			rc = mig_buf_puts(order, ", ");
		rc = rc ? rc : put_ident(S, order, S->cols[tuple[i]].name);
	}
	rc = rc ? rc : put_ident(S, cond, o->since);
	rc = rc ? rc : mig_buf_puts(cond, " IS NOT NULL");
	if (rc)
		return nomem(err);
	if (!o->after)
		return 0;
	{
		const json_t *f = json_object_get(o->after, "field");
		if (!json_is_string(f) || strcmp(json_string_value(f), o->since))
			return mig_error_set(err, MIG_EUSAGE, "%s: the bookmark is for the field %s, "
					     "not --since %s", S->base.loc->redacted,
					     json_is_string(f) ? json_string_value(f) : "(none)",
					     o->since);
		key = json_object_get(o->after, "key");
	}
	rc = mig_buf_puts(cond, " AND (") ? MIG_ENOMEM : 0;
	for (size_t i = 0; !rc && i < nt; i++)
		rc = (i && mig_buf_puts(cond, ", ")) || put_ident(S, cond, S->cols[tuple[i]].name)
			     ? MIG_ENOMEM : 0;
	rc = rc ? rc : (mig_buf_puts(cond, ") > (") ? MIG_ENOMEM : 0);
	for (size_t i = 0; !rc && i < nt; i++) {
		struct pg_col *c = &S->cols[tuple[i]];
		const json_t *v = i == 0 ? json_object_get(o->after, "value")
					 : json_object_get(key, c->name);
		char name[32], oidbuf[16], modbuf[16];
		const char *p[2];
		struct mig_error why;
		PGresult *r;

		if (!v || json_is_null(v))
			return mig_error_set(err, MIG_ECORRUPT, "%s: the bookmark holds no value "
					     "for %s", S->base.loc->redacted, c->name);
		mig_buf_reset(&S->tmp);
		rc = to_text(S, &S->tmp, c->t, v, &why);
		if (rc == MIG_EDATA)
			return mig_error_set(err, MIG_ECORRUPT, "%s: the bookmark's %s: %s",
					     S->base.loc->redacted, c->name, why.msg);
		if (rc)
			return nomem(err);
		snprintf(name, sizeof name, "mig.after_%zu", i);
		p[0] = name;
		p[1] = S->tmp.data ? S->tmp.data : "";
		rc = query(S, &r, ssql, 2, p, err, "setting the bookmark");
		if (rc)
			return rc;
		PQclear(r);
		snprintf(oidbuf, sizeof oidbuf, "%u", (unsigned)c->oid);
		snprintf(modbuf, sizeof modbuf, "%d", c->typmod);
		p[0] = oidbuf;
		p[1] = modbuf;
		rc = query(S, &r, fsql, 2, p, err, "naming a type");
		if (rc)
			return rc;
		if (mig_buf_printf(cond, "%spg_catalog.current_setting('%s')::%s", i ? ", " : "",
				   name, PQgetvalue(r, 0, 0)))
			rc = MIG_ENOMEM;
		PQclear(r);
	}
	if (rc || mig_buf_putc(cond, ')'))
		return nomem(err);
	return 0;
}

/* SELECT * FROM the source, with the conditions, into S->sql.  count:
 * without ORDER BY and LIMIT. */
static int build_select(struct pg_store *S, const struct mig_read_opts *o, const char *since_cond,
			const char *since_order, int count)
{
	struct mig_buf *b = &S->sql;
	const char *and = " WHERE ";
	int rc;

	mig_buf_reset(b);
	if (o->query)
		rc = mig_buf_printf(b, "SELECT * FROM (\n%s\n) q", o->query);
	else
		rc = mig_buf_printf(b, "SELECT * FROM %s", S->qtable);
	if (!rc && o->where) {
		rc = mig_buf_printf(b, "%s(\n%s\n)", and, o->where);
		and = " AND ";
	}
	if (!rc && o->shard_n) {
		rc = mig_buf_puts(b, and);
		rc = rc ? rc : put_shard(S, b, o->shard_k, o->shard_n);
		and = " AND ";
	}
	if (!rc && since_cond)
		rc = mig_buf_printf(b, "%s(%s)", and, since_cond);
	if (count)
		return rc;
	if (!rc && since_order)
		rc = mig_buf_printf(b, " ORDER BY %s", since_order);
	else if (!rc && o->order_by)
		rc = mig_buf_printf(b, " ORDER BY \n%s\n", o->order_by);
	if (!rc && o->limit >= 0)
		rc = mig_buf_printf(b, " LIMIT %lld", (long long)o->limit);
	return rc;
}

/* A failure of the user's SQL (--query, --where, --order-by): class 42
 * (syntax, unknown names) is a usage error. */
static int user_sql_fail(struct pg_store *S, PGresult *r, struct mig_error *err, const char *what)
{
	const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
	int rc = pg_fail(S, r, err, "%s", what);

	if (state && strncmp(state, "42", 2) == 0 && !conn_lost(S))
		err->code = rc = MIG_EUSAGE;
	return rc;
}

static void read_end_tx(struct pg_store *S);

/* Everything up to the COPY: the snapshot, the key, the columns and their
 * types, the bookmark; the final SELECT is left in S->sql. */
static int read_prepare(struct pg_store *S, const struct mig_read_opts *o, int count,
			struct mig_error *err)
{
	struct mig_buf cond, order;
	PGresult *r = NULL;
	char oid[16];
	int rc = 0;

	mig_buf_init(&cond, 0);
	mig_buf_init(&order, 0);
	S->mode = o->mode;
	if (!o->query && !S->table)
		return mig_error_set(err, MIG_EUSAGE, "%s: name a table (#schema.table) or give "
				     "--query", S->base.loc->redacted);
	if (o->query && (o->since || o->shard_n))
		return mig_error_set(err, MIG_EUSAGE, "%s: --%s needs a table, not --query",
				     S->base.loc->redacted, o->since ? "since" : "shard");
	if (o->since && o->order_by)
		return mig_error_set(err, MIG_EUSAGE, "%s: --since orders by its column and the "
				     "key; --order-by cannot go with it", S->base.loc->redacted);
	if (o->shard_n && o->shard_k >= o->shard_n)
		return mig_error_set(err, MIG_EUSAGE, "%s: --shard %u/%u: K must be below N",
				     S->base.loc->redacted, o->shard_k, o->shard_n);
	if (S->snap_held)
		return mig_error_set(err, MIG_EUSAGE, "%s: this connection holds the exported "
				     "snapshot; read through another", S->base.loc->redacted);
	if (!S->in_tx) {
		rc = exec_cmd(S, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", err,
			      "starting the snapshot");
		if (rc)
			return rc;
		S->in_tx = 1;
		if (o->snapshot) {
			char *lit = PQescapeLiteral(S->conn, o->snapshot, strlen(o->snapshot));
			if (!lit)
				return nomem(err);
			mig_buf_reset(&S->sql);
			rc = mig_buf_printf(&S->sql, "SET TRANSACTION SNAPSHOT %s", lit) ? nomem(err) : 0;
			PQfreemem(lit);
			rc = rc ? rc : exec_cmd(S, S->sql.data, err, "joining the shared snapshot");
			if (rc) {
				read_end_tx(S);
				return rc;
			}
		}
	}
	if (!o->query) {
		rc = table_oid(S, oid, err);
		if (rc)
			return rc;
		if (!oid[0])
			return mig_error_set(err, MIG_EIO, "%s: no table %s", S->base.loc->redacted,
					     S->shown);
		rc = load_pk(S, oid, err);
		if (rc)
			return rc;
	}
	cols_free(S);
	/* prepared (not run) to learn the columns and to check the user's SQL:
	 * the extended protocol takes one statement only */
	S->cols = NULL;
	if (build_select(S, o, NULL, NULL, 0))
		return nomem(err);
	r = PQprepare(S->conn, "", S->sql.data, 0, NULL);
	if (!r || PQresultStatus(r) != PGRES_COMMAND_OK) {
		rc = user_sql_fail(S, r, err, o->query ? "--query" : "reading the table");
		goto out;
	}
	PQclear(r);
	r = PQdescribePrepared(S->conn, "");
	if (!r || PQresultStatus(r) != PGRES_COMMAND_OK) {
		rc = pg_fail(S, r, err, "describing the query");
		goto out;
	}
	S->ncols = 0;
	S->cols = calloc((size_t)PQnfields(r) + 1, sizeof *S->cols);
	S->fields = calloc((size_t)PQnfields(r) + 1, sizeof *S->fields);
	S->flens = calloc((size_t)PQnfields(r) + 1, sizeof *S->flens);
	if (!S->cols || !S->fields || !S->flens) {
		rc = nomem(err);
		goto out;
	}
	for (int i = 0; i < PQnfields(r); i++) {
		struct pg_col *c = &S->cols[i];
		if (!(c->name = strdup(PQfname(r, i)))) {
			rc = nomem(err);
			goto out;
		}
		S->ncols++;
		c->oid = PQftype(r, i);
		c->typmod = PQfmod(r, i);
		rc = type_get(S, c->oid, &c->t, err);
		if (rc)
			goto out;
	}
	if (o->since && (rc = since_setup(S, o, &cond, &order, err)) != 0)
		goto out;
	if (build_select(S, o, o->since ? cond.data : NULL, o->since ? order.data : NULL, count))
		rc = nomem(err);
out:
	PQclear(r);
	mig_buf_free(&cond);
	mig_buf_free(&order);
	return rc;
}

static void read_end_tx(struct pg_store *S)
{
	struct mig_error ignored;

	if (S->in_tx && !conn_lost(S))
		exec_cmd(S, "ROLLBACK", &ignored, "ending the snapshot");
	S->in_tx = 0;
}

static int pg_read_begin(struct mig_store *st, const struct mig_read_opts *o,
			 struct mig_error *err)
{
	struct pg_store *S = (struct pg_store *)st;
	PGresult *r = NULL;
	char *copy = NULL;
	int rc;

	rc = read_prepare(S, o, 0, err);
	if (rc)
		return rc;
	if (asprintf(&copy, "COPY (%s) TO STDOUT", S->sql.data) < 0)
		return nomem(err);
	r = PQexecParams(S->conn, copy, 0, NULL, NULL, NULL, NULL, 0);
	free(copy);
	if (!r || PQresultStatus(r) != PGRES_COPY_OUT) {
		rc = user_sql_fail(S, r, err, "starting COPY");
		PQclear(r);
		return rc;
	}
	PQclear(r);
	S->in_copy = 1;
	return 0;
}

/* After the last row: the COPY's own result, then the end of the snapshot. */
static int copy_out_end(struct pg_store *S, struct mig_error *err)
{
	PGresult *r = PQgetResult(S->conn);
	int rc = 0;

	S->in_copy = 0;
	if (!r || PQresultStatus(r) != PGRES_COMMAND_OK)
		rc = pg_fail(S, r, err, "reading rows");
	PQclear(r);
	while ((r = PQgetResult(S->conn)) != NULL)
		PQclear(r);
	if (!rc) {
		rc = exec_cmd(S, "COMMIT", err, "ending the snapshot");
		S->in_tx = 0;
	}
	return rc;
}

/* The next COPY row, split at its tabs into S->fields/S->flens (each
 * field NUL-terminated, still COPY-escaped); *buf is the row, for
 * PQfreemem.  0, MIG_DONE after the last row, or an error. */
static int read_row(struct pg_store *S, char **buf, struct mig_error *err)
{
	char *p, *e;
	int n, rc;
	size_t i;

	*buf = NULL;
	if (!S->in_copy)
		return MIG_DONE;
	n = PQgetCopyData(S->conn, buf, 0);
	if (n == -1) {
		rc = copy_out_end(S, err);
		return rc ? rc : MIG_DONE;
	}
	if (n < 0) {
		PGresult *r = PQgetResult(S->conn);
		rc = pg_fail(S, r, err, "reading rows");
		PQclear(r);
		S->in_copy = 0;
		return rc;
	}
	/* split the row at its tabs; a field holds no raw tab */
	p = *buf;
	e = *buf + n;
	if (n > 0 && e[-1] == '\n')
		*--e = '\0';
	for (i = 0; i < S->ncols; i++) {
		char *t = memchr(p, '\t', (size_t)(e - p));
		if (i + 1 == S->ncols) {
			if (t)
				break;
			t = e;
		} else if (!t) {
			break;
		}
		*t = '\0';
		S->fields[i] = p;
		S->flens[i] = (size_t)(t - p);
		p = t + 1;
	}
	if (i != S->ncols) {
		PQfreemem(*buf);
		*buf = NULL;
		return mig_error_set(err, MIG_EIO, "%s: a COPY row of %d bytes does not hold %zu "
				     "fields", S->base.loc->redacted, n, S->ncols);
	}
	return 0;
}

static int is_null_field(const char *f, size_t len)
{
	return len == 2 && f[0] == '\\' && f[1] == 'N';
}

/* Field i of the current row as a value (*out NULL for SQL NULL is never
 * returned: json_null()). */
static int field_conv(struct pg_store *S, size_t i, char *f, size_t len, json_t **out,
		      struct mig_error *err)
{
	int rc = conv_field(S, S->cols[i].t, f, len, out);

	if (rc == MIG_ENOMEM)
		return nomem(err);
	if (rc)
		return mig_error_set(err, MIG_EIO, "%s: column %s: unexpected text of "
				     "type %u from the server", S->base.loc->redacted,
				     S->cols[i].name, (unsigned)S->cols[i].oid);
	return *out ? 0 : nomem(err);
}

static int field_value(struct pg_store *S, size_t i, json_t **out, struct mig_error *err)
{
	char *f = S->fields[i];
	size_t len = S->flens[i];
	int rc;

	*out = NULL;
	if (is_null_field(f, len)) {
		*out = json_null();
	} else {
		len = copy_unescape(f, len);
		rc = conv_field(S, S->cols[i].t, f, len, out);
		if (rc == MIG_ENOMEM)
			return nomem(err);
		if (rc)
			return mig_error_set(err, MIG_EIO, "%s: column %s: unexpected text of "
					     "type %u from the server", S->base.loc->redacted,
					     S->cols[i].name, (unsigned)S->cols[i].oid);
	}
	return *out ? 0 : nomem(err);
}

static int row_record(struct pg_store *S, json_t **out, struct mig_error *err)
{
	json_t *rec = json_object(), *v;
	int rc;

	*out = NULL;
	if (!rec)
		return nomem(err);
	for (size_t i = 0; i < S->ncols; i++) {
		rc = field_value(S, i, &v, err);
		if (rc) {
			json_decref(rec);
			return rc;
		}
		if (json_object_set_new_nocheck(rec, S->cols[i].name, v)) {
			json_decref(rec);
			return nomem(err);
		}
	}
	*out = rec;
	return 0;
}

static int pg_read_next(struct mig_store *st, json_t **out, struct mig_error *err)
{
	struct pg_store *S = (struct pg_store *)st;
	char *buf;
	int rc;

	*out = NULL;
	rc = read_row(S, &buf, err);
	if (rc)
		return rc;
	rc = row_record(S, out, err);
	PQfreemem(buf);
	return rc;
}

/* ---- read_next_text: COPY text straight to the NDJSON that
 * mig_value_write(MIG_JSON_RELAXED) prints of the record row_record
 * builds, for the common types; any other field, or one whose text is
 * outside what the rules below are sure of, goes through field_value and
 * mig_value_write, so the bytes are the same either way
 * (tests/stores/postgres.bats compares the two). */

#define TX_Y10K_US INT64_C(253402300800000000)   /* 10000-01-01T00:00:00Z */

/* A float8/float4 text that the writer's fmt_double() prints the same: a plain
 * decimal, no exponent, at most 15 digits before the point, not below
 * 1e-4, no trailing zero after the point, at most 17 significant digits.
 * With up to 15 significant digits (DBL_DIG) the double reads back from
 * and prints as no other such text; with 16 or 17 the shortest text is
 * the correctly rounded one, which %.16g / %.17g print, as fmt_double
 * does when no 15 digits read back (its m / 10^k path is left out:
 * k <= 6 digits after the point are refused then).  The shortest text
 * is what servers from 12 on send with extra_float_digits 3; older ones
 * send 17 digits (0.1 as 0.10000000000000001): shortest 0 says so, and
 * then only up to 15 digits are taken.  *noint: no point (fmt_double
 * adds ".0"). */
static int tx_float_ok(const char *s, size_t n, int shortest, int *noint)
{
	const char *p = s, *e = s + n, *ip, *fp = NULL;
	size_t intd, fracd = 0, sig;

	if (p < e && *p == '-')
		p++;
	ip = p;
	while (p < e && *p >= '0' && *p <= '9')
		p++;
	intd = (size_t)(p - ip);
	if (!intd || intd > 15 || (intd > 1 && *ip == '0'))
		return 0;
	if (p < e) {
		if (*p != '.')
			return 0;
		fp = ++p;
		while (p < e && *p >= '0' && *p <= '9')
			p++;
		fracd = (size_t)(p - fp);
		if (p != e || !fracd || e[-1] == '0')
			return 0;
	}
	*noint = !fp;
	if (*ip != '0') {
		sig = intd + fracd;
	} else {
		const char *q = fp;
		if (!fp)
			return 1;                 /* 0, -0 */
		while (q < e && *q == '0')
			q++;
		if (q - fp >= 4)
			return 0;                 /* below 1e-4: %g's exponent */
		sig = (size_t)(e - q);
	}
	if (sig <= 15)
		return 1;
	return shortest && sig <= 17 && fracd > 6;
}

/* A jsonb number that row_record keeps as an integer or a double and the
 * writer prints as the same text: an integer of up to 18 digits, or a
 * plain decimal that tx_float_ok takes, with at most 15 significant
 * digits (double_is_exact holds, DBL_DIG). */
static int tx_jnum_ok(const char *s, size_t n)
{
	const char *p = s, *e = s + n;
	int noint;

	if (p < e && *p == '-')
		p++;
	if (!memchr(p, '.', (size_t)(e - p))) {
		size_t d = (size_t)(e - p);
		for (const char *q = p; q < e; q++)
			if (*q < '0' || *q > '9')
				return 0;
		return d >= 1 && d <= 18 && (d == 1 || *p != '0') && !(d == 1 && *p == '0' && p != s);
	}
	/* not taken as shortest: at most 15 significant digits */
	return tx_float_ok(s, n, 0, &noint) && !noint;
}

/* jsonb's text (as the server prints it: ", " and ": " between, no other
 * space) to the writer's; NULL when anything is outside the simple
 * subset: an escape in a string, a key starting with '$' (a wrapper), a
 * number tx_jnum_ok refuses, deep nesting. */
static const char *tx_jsonb(struct mig_buf *b, const char *p, const char *e, int depth)
{
	const char *q;

	if (p >= e || depth > 64)
		return NULL;
	switch (*p) {
	case '{':
	case '[': {
		char close = *p == '{' ? '}' : ']';
		int obj = *p == '{';
		if (mig_buf_putc(b, *p))
			return NULL;
		p++;
		if (p < e && *p == close) {
			return mig_buf_putc(b, close) ? NULL : p + 1;
		}
		for (;;) {
			if (obj) {
				if (p >= e || *p != '"')
					return NULL;
				q = p + 1;
				while (q < e && *q != '"' && *q != '\\')
					q++;
				if (q >= e || *q != '"' || q == p + 1 || p[1] == '$')
					return NULL;
				if (mig_value_write_str(b, p + 1, (size_t)(q - p - 1)) ||
				    mig_buf_putc(b, ':'))
					return NULL;
				p = q + 1;
				if (e - p < 2 || p[0] != ':' || p[1] != ' ')
					return NULL;
				p += 2;
			}
			p = tx_jsonb(b, p, e, depth + 1);
			if (!p || p >= e)
				return NULL;
			if (*p == close)
				return mig_buf_putc(b, close) ? NULL : p + 1;
			if (e - p < 2 || p[0] != ',' || p[1] != ' ' || mig_buf_putc(b, ','))
				return NULL;
			p += 2;
		}
	}
	case '"':
		q = p + 1;
		while (q < e && *q != '"' && *q != '\\')
			q++;
		if (q >= e || *q != '"' || mig_value_write_str(b, p + 1, (size_t)(q - p - 1)))
			return NULL;
		return q + 1;
	case 't':
		if (e - p >= 4 && !memcmp(p, "true", 4))
			return mig_buf_append(b, "true", 4) ? NULL : p + 4;
		return NULL;
	case 'f':
		if (e - p >= 5 && !memcmp(p, "false", 5))
			return mig_buf_append(b, "false", 5) ? NULL : p + 5;
		return NULL;
	case 'n':
		if (e - p >= 4 && !memcmp(p, "null", 4))
			return mig_buf_append(b, "null", 4) ? NULL : p + 4;
		return NULL;
	default:
		q = p;
		while (q < e && ((*q >= '0' && *q <= '9') || *q == '-' || *q == '.'))
			q++;
		if (q == p || !tx_jnum_ok(p, (size_t)(q - p)) ||
		    mig_buf_append(b, p, (size_t)(q - p)))
			return NULL;
		return q;
	}
}

/* One field by the rules above: 1 printed, 0 not (b as it was; the caller
 * prints the value), or MIG_ENOMEM. */
static int tx_field(struct pg_store *S, struct mig_buf *b, const struct pg_type *t,
		    const char *f, size_t len)
{
	size_t start = b->len;
	int noint, rc = 0;

	switch (t->kind) {
	case K_INT:
	case K_INT8: {
		size_t k = len && f[0] == '-';
		if (k == len)
			return 0;
		for (; k < len; k++)
			if (f[k] < '0' || f[k] > '9')
				return 0;
		rc = mig_buf_append(b, f, len);
		break;
	}
	case K_FLOAT:
		if (!tx_float_ok(f, len, PQserverVersion(S->conn) >= 120000, &noint))
			return 0;
		rc = mig_buf_append(b, f, len);
		if (!rc && noint)
			rc = mig_buf_append(b, ".0", 2);
		break;
	case K_NUMERIC:
		rc = mig_buf_append(b, "{\"$numberDecimal\":", 18);
		if (!rc)
			rc = mig_value_write_str(b, f, len);
		if (!rc)
			rc = mig_buf_putc(b, '}');
		break;
	case K_BOOL:
		rc = f[0] == 't' ? mig_buf_append(b, "true", 4) : mig_buf_append(b, "false", 5);
		break;
	case K_TSTZ:
	case K_TS: {
		int64_t us;
		char d[40];
		if (parse_pg_ts(f, len, &us) || us < 0 || us >= TX_Y10K_US)
			return 0;
		rc = mig_buf_append(b, "{\"$date\":\"", 10);
		if (!rc)
			rc = mig_buf_append(b, d, (size_t)mig_date_format(d, us));
		if (!rc)
			rc = mig_buf_append(b, "\"}", 2);
		break;
	}
	case K_JSONB:
		/* tx_jsonb stops after one value: the rest must be nothing */
		if (tx_jsonb(b, f, f + len, 0) != f + len) {
			b->len = start;
			return 0;
		}
		break;
	case K_BYTEA:
	case K_JSON:
	case K_ARRAY:
	case K_COMPOSITE:
		return 0;
	default:
		rc = mig_value_write_str(b, f, len);
		break;
	}
	if (rc) {
		b->len = start;
		return MIG_ENOMEM;
	}
	return 1;
}

static int tx_keys(struct pg_store *S, struct mig_error *err)
{
	if (!(S->tkoff = malloc((S->ncols + 1) * sizeof *S->tkoff)))
		return nomem(err);
	mig_buf_reset(&S->tkeys);
	S->tk_json = S->ncols > 0 && S->cols[0].name[0] == '$';
	for (size_t i = 0; i < S->ncols; i++) {
		S->tkoff[i] = S->tkeys.len;
		if (mig_buf_putc(&S->tkeys, i ? ',' : '{') ||
		    mig_value_write_str(&S->tkeys, S->cols[i].name, strlen(S->cols[i].name)) ||
		    mig_buf_putc(&S->tkeys, ':'))
			return nomem(err);
		for (size_t j = 0; j < i; j++)
			if (!strcmp(S->cols[i].name, S->cols[j].name))
				S->tk_json = 1;
	}
	S->tkoff[S->ncols] = S->tkeys.len;
	return 0;
}

static int pg_read_next_text(struct mig_store *st, struct mig_buf *out, struct mig_error *err)
{
	struct pg_store *S = (struct pg_store *)st;
	size_t start = out->len;
	char *buf;
	json_t *v;
	int rc;

	if (!S->tkoff && S->in_copy && (rc = tx_keys(S, err)) != 0)
		return rc;
	rc = read_row(S, &buf, err);
	if (rc)
		return rc;
	if (S->tk_json || S->mode != MIG_JSON_RELAXED) {
		rc = row_record(S, &v, err);
		if (!rc && mig_value_write(out, v, MIG_JSON_RELAXED))
			rc = nomem(err);
		json_decref(v);
		goto out;
	}
	for (size_t i = 0; i < S->ncols; i++) {
		char *f = S->fields[i];
		size_t len = S->flens[i];
		if (mig_buf_append(out, S->tkeys.data + S->tkoff[i], S->tkoff[i + 1] - S->tkoff[i])) {
			rc = nomem(err);
			goto out;
		}
		if (is_null_field(f, len)) {
			rc = mig_buf_append(out, "null", 4) ? nomem(err) : 0;
		} else {
			len = copy_unescape(f, len);
			rc = tx_field(S, out, S->cols[i].t, f, len);
			if (rc == 1) {
				rc = 0;
			} else if (rc == 0) {
				v = NULL;
				rc = field_conv(S, i, f, len, &v, err);
				if (!rc && mig_value_write(out, v, MIG_JSON_RELAXED))
					rc = nomem(err);
				json_decref(v);
			} else {
				rc = nomem(err);
			}
		}
		if (rc)
			goto out;
	}
	rc = mig_buf_putc(out, S->ncols ? '}' : '{') ? nomem(err) : 0;
	if (!rc && !S->ncols)
		rc = mig_buf_putc(out, '}') ? nomem(err) : 0;
out:
	if (rc)
		out->len = start;
	PQfreemem(buf);
	return rc;
}

static int pg_count(struct mig_store *st, const struct mig_read_opts *o, uint64_t *out,
		    struct mig_error *err)
{
	struct pg_store *S = (struct pg_store *)st;
	PGresult *r = NULL;
	char *sql = NULL;
	int rc;

	*out = 0;
	rc = read_prepare(S, o, 1, err);
	if (rc)
		goto out;
	if (asprintf(&sql, "SELECT count(*) FROM (%s) c", S->sql.data) < 0) {
		rc = nomem(err);
		goto out;
	}
	r = PQexecParams(S->conn, sql, 0, NULL, NULL, NULL, NULL, 0);
	if (!r || PQresultStatus(r) != PGRES_TUPLES_OK) {
		rc = user_sql_fail(S, r, err, "counting");
		goto out;
	}
	*out = strtoull(PQgetvalue(r, 0, 0), NULL, 10);
out:
	PQclear(r);
	free(sql);
	read_end_tx(S);
	return rc;
}

/* One REPEATABLE READ READ ONLY transaction on this connection, its
 * snapshot exported (pg_export_snapshot) for the other stores' reads
 * (mig_read_opts.snapshot: SET TRANSACTION SNAPSHOT); it stays open, and
 * the snapshot valid, until close(). */
static int pg_snapshot_begin(struct mig_store *st, char **token, struct mig_error *err)
{
	struct pg_store *S = (struct pg_store *)st;
	PGresult *r = NULL;
	int rc;

	*token = NULL;
	if (S->snap_held || S->in_tx)
		return mig_error_set(err, MIG_EUSAGE, "%s: a snapshot or transaction is already "
				     "open", S->base.loc->redacted);
	rc = exec_cmd(S, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", err,
		      "starting the shared snapshot");
	if (rc)
		return rc;
	S->snap_held = 1;
	rc = query(S, &r, "SELECT pg_catalog.pg_export_snapshot()", 0, NULL, err,
		   "exporting the snapshot");
	if (rc)
		return rc;
	if (PQntuples(r) != 1 || !(*token = strdup(PQgetvalue(r, 0, 0))))
		rc = nomem(err);
	PQclear(r);
	return rc;
}

/* A list name reads back as a locator fragment: a part holding '.' or
 * starting with '"' is quoted. */
static int put_name_part(struct mig_buf *b, const char *s)
{
	int rc;

	if (!strchr(s, '.') && s[0] != '"')
		return mig_buf_puts(b, s);
	rc = mig_buf_putc(b, '"');
	for (; !rc && *s; s++)
		rc = *s == '"' ? mig_buf_puts(b, "\"\"") : mig_buf_putc(b, *s);
	return rc ? rc : mig_buf_putc(b, '"');
}

/* Tables, views, materialized views, foreign and partitioned tables (not
 * their partitions), with the planner's row estimate (pg_class.reltuples);
 * where there is none yet (never analyzed, views) the rows are counted. */
static int pg_list(struct mig_store *st, json_t **out, struct mig_error *err)
{
	static const char sql[] =
		"SELECT n.nspname, c.relname, c.reltuples::int8 FROM pg_catalog.pg_class c "
		"JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
		"WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f') AND NOT c.relispartition "
		"AND n.nspname <> 'information_schema' AND n.nspname !~ '^pg_' "
		"AND pg_catalog.has_table_privilege(c.oid, 'SELECT') ORDER BY 1, 2";
	struct pg_store *S = (struct pg_store *)st;
	PGresult *r = NULL, *c = NULL;
	json_t *list = NULL, *item;
	struct mig_buf name;
	int rc;

	*out = NULL;
	mig_buf_init(&name, 0);
	rc = exec_cmd(S, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", err, "listing");
	if (rc)
		return rc;
	S->in_tx = 1;
	rc = query(S, &r, sql, 0, NULL, err, "listing tables");
	if (rc)
		goto out;
	if (!(list = json_array())) {
		rc = nomem(err);
		goto out;
	}
	for (int i = 0; i < PQntuples(r); i++) {
		long long n = strtoll(PQgetvalue(r, i, 2), NULL, 10);
		mig_buf_reset(&name);
		if (put_name_part(&name, PQgetvalue(r, i, 0)) || mig_buf_putc(&name, '.') ||
		    put_name_part(&name, PQgetvalue(r, i, 1))) {
			rc = nomem(err);
			goto out;
		}
		if (n < 0) {
			mig_buf_reset(&S->sql);
			if (mig_buf_puts(&S->sql, "SELECT count(*) FROM ") ||
			    put_ident(S, &S->sql, PQgetvalue(r, i, 0)) || mig_buf_putc(&S->sql, '.') ||
			    put_ident(S, &S->sql, PQgetvalue(r, i, 1))) {
				rc = nomem(err);
				goto out;
			}
			rc = query(S, &c, S->sql.data, 0, NULL, err, "counting rows");
			if (rc)
				goto out;
			n = strtoll(PQgetvalue(c, 0, 0), NULL, 10);
			PQclear(c);
			c = NULL;
		}
		item = json_pack("{s:s, s:I}", "name", name.data, "count", (json_int_t)n);
		if (!item || json_array_append_new(list, item)) {
			rc = nomem(err);
			goto out;
		}
	}
	*out = list;
	list = NULL;
out:
	json_decref(list);
	PQclear(r);
	mig_buf_free(&name);
	read_end_tx(S);
	return rc;
}

/* ------------------------------------------------------------------ load: values to text */

/* Turns b->data[start..len) into a quoted element of an array or composite
 * literal: "..." with '"' and '\' escaped by a backslash. */
static int quote_tail(struct mig_buf *b, size_t start)
{
	size_t k = 0, n = b->len - start, i, j;
	int rc;

	for (i = start; i < b->len; i++)
		k += b->data[i] == '"' || b->data[i] == '\\';
	rc = mig_buf_reserve(b, k + 2);
	if (rc)
		return rc;
	j = start + n + k + 2;
	b->data[j] = '\0';
	b->data[--j] = '"';
	for (i = start + n; i-- > start;) {
		char c = b->data[i];
		b->data[--j] = c;
		if (c == '"' || c == '\\')
			b->data[--j] = '\\';
	}
	b->data[--j] = '"';
	b->len = start + n + k + 2;
	return 0;
}

/* COPY text escaping of b->data[start..len), in place. */
static int copy_escape_tail(struct mig_buf *b, size_t start)
{
	size_t k = 0, n = b->len - start, i, j;
	int rc;

	for (i = start; i < b->len; i++) {
		char c = b->data[i];
		k += c == '\\' || c == '\n' || c == '\r' || c == '\t';
	}
	if (!k)
		return 0;
	rc = mig_buf_reserve(b, k);
	if (rc)
		return rc;
	j = start + n + k;
	b->data[j] = '\0';
	for (i = start + n; i-- > start;) {
		char c = b->data[i];
		switch (c) {
		case '\\': b->data[--j] = '\\'; b->data[--j] = '\\'; break;
		case '\n': b->data[--j] = 'n'; b->data[--j] = '\\'; break;
		case '\r': b->data[--j] = 'r'; b->data[--j] = '\\'; break;
		case '\t': b->data[--j] = 't'; b->data[--j] = '\\'; break;
		default: b->data[--j] = c;
		}
	}
	b->len = start + n + k;
	return 0;
}

static int json_str(struct mig_buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t run = 0;
	int rc = mig_buf_putc(b, '"');

	for (size_t i = 0; !rc && i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		char esc[7] = "\\u00";
		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		rc = mig_buf_append(b, s + run, i - run);
		run = i + 1;
		if (rc)
			break;
		switch (c) {
		case '"': rc = mig_buf_puts(b, "\\\""); break;
		case '\\': rc = mig_buf_puts(b, "\\\\"); break;
		case '\n': rc = mig_buf_puts(b, "\\n"); break;
		case '\r': rc = mig_buf_puts(b, "\\r"); break;
		case '\t': rc = mig_buf_puts(b, "\\t"); break;
		case '\b': rc = mig_buf_puts(b, "\\b"); break;
		case '\f': rc = mig_buf_puts(b, "\\f"); break;
		default:
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 15];
			esc[6] = '\0';
			rc = mig_buf_puts(b, esc);
		}
	}
	if (!rc)
		rc = mig_buf_append(b, s + run, n - run);
	return rc ? rc : mig_buf_putc(b, '"');
}

/* Jansson's json_object_foreach finds each next member by a hash lookup of
 * the current key; walking the iterators does not.  Used where it runs for
 * every field of every record. */
#define object_each(obj, it, key, val) \
	for (void *it = json_object_iter((json_t *)(obj)); \
	     it && ((key) = json_object_iter_key(it), (val) = json_object_iter_value(it), 1); \
	     it = json_object_iter_next((json_t *)(obj), it))

/* An object's first key, or "" for an empty object.  The loader has
 * checked every wrapper of a record (mig_value_check), so an object whose
 * first key does not start with '$' is a plain object, and the common
 * wrappers can be taken by their one key without classifying them again. */
static const char *first_key(const json_t *v)
{
	void *it = json_object_iter((json_t *)v);

	return it ? json_object_iter_key(it) : "";
}

/* A JSON number as RFC 8259 writes it. */
static int json_number_ok(const char *s)
{
	if (*s == '-')
		s++;
	if (*s == '0')
		s++;
	else if (*s >= '1' && *s <= '9')
		while (*s >= '0' && *s <= '9')
			s++;
	else
		return 0;
	if (*s == '.') {
		if (!(*++s >= '0' && *s <= '9'))
			return 0;
		while (*s >= '0' && *s <= '9')
			s++;
	}
	if (*s == 'e' || *s == 'E') {
		s++;
		if (*s == '+' || *s == '-')
			s++;
		if (!(*s >= '0' && *s <= '9'))
			return 0;
		while (*s >= '0' && *s <= '9')
			s++;
	}
	return *s == '\0';
}

/* v as JSON text for a json or jsonb column.  Number wrappers become bare
 * numbers where JSON can hold them ({"$numberDecimal"} from a jsonb
 * numeric goes back as the number it was); other wrappers stay objects. */
static int put_json(struct mig_buf *b, const json_t *v, int jsonb, struct mig_error *why)
{
	char num[32];
	const char *key;
	json_t *e;
	size_t i;
	int rc = 0;

	switch (json_typeof(v)) {
	case JSON_OBJECT:
		switch (first_key(v)[0] == '$' ? mig_value_type(v) : MIG_V_OBJECT) {
		case MIG_V_INT: {
			int64_t n;
			if (mig_value_get_int(v, &n, why) == 0)
				return mig_buf_printf(b, "%" PRId64, n);
			break;
		}
		case MIG_V_DOUBLE: {
			double d;
			if (mig_value_get_double(v, &d, why) == 0 && isfinite(d)) {
				fmt_json_double(num, d);
				return mig_buf_puts(b, num);
			}
			break;
		}
		case MIG_V_DECIMAL: {
			const char *d;
			if (mig_value_get_decimal(v, &d, why) == 0 && json_number_ok(d))
				return mig_buf_puts(b, d);
			break;
		}
		default:
			break;
		}
		rc = mig_buf_putc(b, '{');
		i = 0;
		object_each(v, mit, key, e) {
			if (!rc && i++)
				rc = mig_buf_putc(b, ',');
			rc = rc ? rc : json_str(b, key, strlen(key));
			rc = rc ? rc : mig_buf_putc(b, ':');
			rc = rc ? rc : put_json(b, e, jsonb, why);
			if (rc)
				return rc;
		}
		return mig_buf_putc(b, '}');
	case JSON_ARRAY:
		rc = mig_buf_putc(b, '[');
		json_array_foreach(v, i, e) {
			if (!rc && i)
				rc = mig_buf_putc(b, ',');
			rc = rc ? rc : put_json(b, e, jsonb, why);
			if (rc)
				return rc;
		}
		return mig_buf_putc(b, ']');
	case JSON_STRING:
		if (jsonb && memchr(json_string_value(v), '\0', json_string_length(v)))
			return mig_error_set(why, MIG_EDATA, "jsonb cannot hold the NUL character "
					     "(\\u0000)");
		return json_str(b, json_string_value(v), json_string_length(v));
	case JSON_INTEGER:
		return mig_buf_printf(b, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
	case JSON_REAL:
		fmt_json_double(num, json_real_value(v));
		return mig_buf_puts(b, num);
	case JSON_TRUE:
		return mig_buf_puts(b, "true");
	case JSON_FALSE:
		return mig_buf_puts(b, "false");
	default:
		return mig_buf_puts(b, "null");
	}
	return rc;
}

/* A JSON array as an array literal: {e,"e",NULL,{...}}; nested arrays are
 * the next dimension (not for json/jsonb elements, which are values). */
static int put_array(struct pg_store *S, struct mig_buf *b, struct pg_type *at, const json_t *v,
		     struct mig_error *why)
{
	char delim = at->delim ? at->delim : ',';
	int nest = at->elem->kind != K_JSON && at->elem->kind != K_JSONB;
	size_t i, start;
	json_t *e;
	int rc = mig_buf_putc(b, '{');

	json_array_foreach(v, i, e) {
		if (!rc && i)
			rc = mig_buf_putc(b, delim);
		if (rc)
			return rc;
		if (json_is_null(e)) {
			rc = mig_buf_puts(b, "NULL");
		} else if (nest && json_is_array(e)) {
			rc = put_array(S, b, at, e, why);
		} else {
			start = b->len;
			rc = to_text(S, b, at->elem, e, why);
			rc = rc ? rc : quote_tail(b, start);
		}
	}
	return rc ? rc : mig_buf_putc(b, '}');
}

/* An object as a composite literal: ("a",,"b") in attribute order. */
static int put_composite(struct pg_store *S, struct mig_buf *b, struct pg_type *t,
			 const json_t *v, struct mig_error *why)
{
	const char *key;
	json_t *e;
	int rc;

	object_each(v, mit, key, e) {
		size_t i;
		for (i = 0; i < t->nattrs; i++)
			if (strcmp(t->attnames[i], key) == 0)
				break;
		if (i == t->nattrs)
			return mig_error_set(why, MIG_EDATA, "the composite type has no attribute %s",
					     key);
	}
	rc = mig_buf_putc(b, '(');
	for (size_t i = 0; !rc && i < t->nattrs; i++) {
		if (i)
			rc = mig_buf_putc(b, ',');
		e = json_object_get(v, t->attnames[i]);
		if (!rc && e && !json_is_null(e)) {
			size_t start = b->len;
			rc = to_text(S, b, t->atttypes[i], e, why);
			rc = rc ? rc : quote_tail(b, start);
		}
	}
	return rc ? rc : mig_buf_putc(b, ')');
}

static int put_hex(struct mig_buf *b, const uint8_t *p, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	int rc = mig_buf_reserve(b, 2 * n);

	if (rc)
		return rc;
	for (size_t i = 0; i < n; i++) {
		b->data[b->len++] = hex[p[i] >> 4];
		b->data[b->len++] = hex[p[i] & 15];
	}
	b->data[b->len] = '\0';
	return 0;
}

static int put_double(struct mig_buf *b, const struct pg_type *t, double d)
{
	char num[40];

	if (isnan(d))
		return mig_buf_puts(b, "NaN");
	if (isinf(d))
		return mig_buf_puts(b, d > 0 ? "Infinity" : "-Infinity");
	/* 3.0 into an integer column is 3 */
	if ((t->kind == K_INT || t->kind == K_INT8) && d == trunc(d) && fabs(d) < 9.2e18)
		return mig_buf_append(b, num, (size_t)fmt_i64(num, (int64_t)d));
	/* a float column only needs a text that reads back to the same double:
	 * one %.17g costs a third of the shortest search; elsewhere (numeric,
	 * text) the text is what is stored, so it is the shortest */
	if (t->kind == K_FLOAT)
		return mig_buf_append(b, num, (size_t)snprintf(num, sizeof num, "%.17g", d));
	return mig_buf_append(b, num, (size_t)fmt_double(num, d));
}

/* Appends v (not null) as the text the server reads for type t, not yet
 * COPY-escaped.  Returns 0, MIG_ENOMEM, or MIG_EDATA with why filled: the
 * record is rejected.  A value the column cannot take is left for the
 * server to refuse, so that the reject carries its message. */
static int to_text(struct pg_store *S, struct mig_buf *b, struct pg_type *t, const json_t *v,
		   struct mig_error *why)
{
	enum mig_vtype vt;
	char num[64];
	int rc;

	switch (t->kind) {
	case K_JSON:
	case K_JSONB:
		return put_json(b, v, t->kind == K_JSONB, why);
	case K_ARRAY:
		if (json_is_array(v))
			return put_array(S, b, t, v, why);
		break;
	default:
		break;
	}
	/* plain values first: no wrapper to look for */
	switch (json_typeof(v)) {
	case JSON_INTEGER:
		return mig_buf_append(b, num, (size_t)fmt_i64(num, json_integer_value(v)));
	case JSON_REAL:
		return put_double(b, t, json_real_value(v));
	case JSON_TRUE:
		return mig_buf_append(b, "true", 4);
	case JSON_FALSE:
		return mig_buf_append(b, "false", 5);
	default:
		break;
	}
	if (json_is_object(v)) {
		const char *k = first_key(v);
		const json_t *x;
		if (k[0] != '$') {
			vt = MIG_V_OBJECT;
			goto object;
		}
		x = json_object_get(v, k);
		if (json_object_size(v) == 1 && json_is_string(x)) {
			/* {"$numberDecimal": "..."}, {"$date": "ISO"}: checked already */
			if (strcmp(k, "$numberDecimal") == 0)
				return mig_buf_append(b, json_string_value(x), json_string_length(x));
			if (strcmp(k, "$date") == 0 &&
			    (t->kind == K_TSTZ || t->kind == K_TS || t->kind == K_DATE)) {
				int64_t us;
				if (mig_date_parse(json_string_value(x), json_string_length(x), &us, why))
					return MIG_EDATA;
				return mig_buf_append(b, num, (size_t)fmt_pg_ts(num, us, t->kind == K_TSTZ));
			}
		}
	}
	vt = mig_value_type(v);
object:
	switch (vt) {
	case MIG_V_BOOL:
		return mig_buf_puts(b, json_is_true(v) ? "true" : "false");
	case MIG_V_INT: {
		int64_t n;
		if (mig_value_get_int(v, &n, why))
			return MIG_EDATA;
		return mig_buf_append(b, num, (size_t)fmt_i64(num, n));
	}
	case MIG_V_DOUBLE: {
		double d;
		if (mig_value_get_double(v, &d, why))
			return MIG_EDATA;
		return put_double(b, t, d);
	}
	case MIG_V_STRING:
		if (memchr(json_string_value(v), '\0', json_string_length(v)))
			return mig_error_set(why, MIG_EDATA, "PostgreSQL text cannot hold the NUL "
					     "character (\\u0000)");
		return mig_buf_append(b, json_string_value(v), json_string_length(v));
	case MIG_V_DECIMAL: {
		const char *d;
		if (mig_value_get_decimal(v, &d, why))
			return MIG_EDATA;
		return mig_buf_puts(b, d);
	}
	case MIG_V_DATE: {
		int64_t us;
		if (mig_value_get_date(v, &us, why))
			return MIG_EDATA;
		if (t->kind == K_TSTZ || t->kind == K_TS || t->kind == K_DATE)
			fmt_pg_ts(num, us, t->kind == K_TSTZ);
		else
			mig_date_format(num, us);
		return mig_buf_puts(b, num);
	}
	case MIG_V_BINARY: {
		uint8_t *p = NULL;
		size_t n = 0;
		int sub;
		char *b64;
		if (mig_value_get_binary(v, &p, &n, &sub, why))
			return MIG_EDATA;
		if (t->kind == K_BYTEA) {
			rc = mig_buf_puts(b, "\\x");
			rc = rc ? rc : put_hex(b, p, n);
		} else if (t->kind == K_UUID && n == 16) {
			size_t s = b->len;
			rc = put_hex(b, p, n);
			/* 8-4-4-4-12 */
			for (int k = 0; !rc && k < 4; k++) {
				static const size_t at[4] = { 8, 13, 18, 23 };
				rc = mig_buf_putc(b, '-');
				if (!rc) {
					memmove(b->data + s + at[k] + 1, b->data + s + at[k],
						b->len - 1 - s - at[k]);
					b->data[s + at[k]] = '-';
				}
			}
		} else {
			b64 = mig_base64_encode(p, n);
			rc = b64 ? mig_buf_puts(b, b64) : MIG_ENOMEM;
			free(b64);
		}
		free(p);
		return rc;
	}
	case MIG_V_OID: {
		uint8_t oid[12];
		if (mig_value_get_oid(v, oid, why))
			return MIG_EDATA;
		return put_hex(b, oid, 12);
	}
	case MIG_V_OBJECT:
		if (t->kind == K_COMPOSITE)
			return put_composite(S, b, t, v, why);
		/* fall through */
	default:
		/* objects, arrays and other wrappers into a text-like column: their
		 * JSON, as mig-extract would print them */
		rc = mig_value_write(b, v, MIG_JSON_RELAXED);
		return rc == MIG_EDATA ? MIG_ENOMEM : rc;
	}
}

/* ------------------------------------------------------------------ load: the target */

/* The table's columns (S->cols), its primary key, and the name index. */
static int load_table_cols(struct pg_store *S, const char *oid, struct mig_error *err)
{
	static const char sql[] =
		"SELECT attname, atttypid, atttypmod, attnotnull, attidentity, attgenerated "
		"FROM pg_catalog.pg_attribute WHERE attrelid = $1 AND attnum > 0 "
		"AND NOT attisdropped ORDER BY attnum";
	const char *p[1] = { oid };
	PGresult *r = NULL;
	int rc, n;

	cols_free(S);
	json_decref(S->colidx);
	free(S->hint);
	free(S->vals);
	S->hint = NULL;
	S->vals = NULL;
	if (!(S->colidx = json_object()))
		return nomem(err);
	rc = query(S, &r, sql, 1, p, err, "reading the table's columns");
	if (rc)
		return rc;
	n = PQntuples(r);
	S->cols = calloc((size_t)n + 1, sizeof *S->cols);
	S->hint = calloc((size_t)n + 1, sizeof *S->hint);
	S->vals = calloc((size_t)n + 1, sizeof *S->vals);
	if (!S->cols || !S->hint || !S->vals) {
		rc = nomem(err);
		goto out;
	}
	for (int i = 0; i < n; i++) {
		struct pg_col *c = &S->cols[i];
		if (!(c->name = strdup(PQgetvalue(r, i, 0)))) {
			rc = nomem(err);
			goto out;
		}
		S->ncols++;
		c->oid = (Oid)strtoul(PQgetvalue(r, i, 1), NULL, 10);
		c->typmod = atoi(PQgetvalue(r, i, 2));
		c->notnull = PQgetvalue(r, i, 3)[0] == 't';
		c->identity_always = PQgetvalue(r, i, 4)[0] == 'a';
		c->generated = PQgetvalue(r, i, 5)[0] != '\0';
		if (json_object_set_new(S->colidx, c->name, json_integer(i))) {
			rc = nomem(err);
			goto out;
		}
		rc = type_get(S, c->oid, &c->t, err);
		if (rc)
			goto out;
	}
	rc = load_pk(S, oid, err);
out:
	PQclear(r);
	return rc;
}

/* Appends the text of a text[] literal of names: {"a","b"}. */
static int put_name_array(struct mig_buf *b, const char *const *names, size_t n)
{
	int rc = mig_buf_putc(b, '{');

	for (size_t i = 0; !rc && i < n; i++) {
		size_t start;
		if (i)
			rc = mig_buf_putc(b, ',');
		start = b->len;
		rc = rc ? rc : mig_buf_puts(b, names[i]);
		rc = rc ? rc : quote_tail(b, start);
	}
	return rc ? rc : mig_buf_putc(b, '}');
}

/* Resolves the target once it exists: columns, conflict keys, whether the
 * load needs the staging table, and that ON CONFLICT (keys) can work. */
static int setup_target(struct pg_store *S, struct mig_error *err)
{
	static const char usql[] =
		"SELECT 1 FROM pg_catalog.pg_index i WHERE i.indrelid = $1 AND i.indisunique "
		"AND i.indpred IS NULL AND i.indexprs IS NULL AND "
		"(SELECT array_agg(a.attname::text ORDER BY a.attname::text) "
		" FROM pg_catalog.pg_attribute a "
		" WHERE a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)) = "
		"(SELECT array_agg(k ORDER BY k) FROM unnest($2::text[]) k)";
	const char **names = NULL;
	char oid[16];
	PGresult *r = NULL;
	int rc;

	rc = table_oid(S, oid, err);
	if (rc)
		return rc;
	if (!oid[0])
		return mig_error_set(err, MIG_EIO, "%s: no table %s (--create makes it)",
				     S->base.loc->redacted, S->shown);
	rc = load_table_cols(S, oid, err);
	if (rc)
		return rc;
	free(S->keycol);
	free(S->keynames);
	S->keycol = NULL;
	S->keynames = NULL;
	S->nkeys = 0;
	{
		size_t n = S->wo.nkeys;
		const char *const *k = S->wo.keys;
		if (!n && S->key_fields) {
			k = (const char *const *)S->key_fields;
			while (k[n])
				n++;
		}
		S->keycol = calloc(n + 1, sizeof *S->keycol);
		names = calloc(n + 1, sizeof *names);
		if (!S->keycol || !names) {
			rc = nomem(err);
			goto out;
		}
		for (size_t i = 0; i < n; i++) {
			if (col_index(S, k[i], &S->keycol[i])) {
				rc = mig_error_set(err, MIG_EUSAGE, "%s: --key %s: no such column in %s",
						   S->base.loc->redacted, k[i], S->shown);
				goto out;
			}
			names[i] = k[i];
		}
		S->nkeys = n;
		S->keynames = names;
		names = NULL;
	}
	S->staging = S->conflict != MIG_CONFLICT_FAIL;
	if (S->staging && !S->nkeys && S->conflict != MIG_CONFLICT_SKIP) {
		rc = mig_error_set(err, MIG_EUSAGE, "%s: updating by key needs --key or a primary "
				   "key on %s", S->base.loc->redacted, S->shown);
		goto out;
	}
	/* update and delete join on the key: no ON CONFLICT, no index needed */
	if (S->staging && S->nkeys && S->wo.mode != MIG_MODE_UPDATE &&
	    S->wo.mode != MIG_MODE_DELETE) {
		const char *p[2];
		mig_buf_reset(&S->tmp);
		if (put_name_array(&S->tmp, S->keynames, S->nkeys)) {
			rc = nomem(err);
			goto out;
		}
		p[0] = oid;
		p[1] = S->tmp.data;
		rc = query(S, &r, usql, 2, p, err, "looking for the key's unique index");
		if (rc)
			goto out;
		if (PQntuples(r) == 0) {
			mig_buf_reset(&S->tmp);
			for (size_t i = 0; i < S->nkeys; i++)
				mig_buf_printf(&S->tmp, "%s%s", i ? "," : "", S->keynames[i]);
			rc = mig_error_set(err, MIG_EUSAGE, "%s: --key %s: %s has no primary key or "
					   "unique index on exactly these columns (ON CONFLICT needs "
					   "one)", S->base.loc->redacted, S->tmp.data, S->shown);
			goto out;
		}
	}
	S->staging_ready = 0;
out:
	PQclear(r);
	free(names);
	return rc;
}

/* --create from the first batch: a column per field, in the order the
 * fields first appear, typed by the values seen. */
enum infer {
	I_NONE, I_BIGINT, I_DOUBLE, I_NUMERIC, I_BOOL, I_TEXT, I_TSTZ, I_BYTEA, I_UUID, I_JSONB
};

static const char *const infer_sql[] = {
	"text", "bigint", "double precision", "numeric", "boolean", "text",
	"timestamp with time zone", "bytea", "uuid", "jsonb"
};

static enum infer infer_of(const json_t *v)
{
	switch (mig_value_type(v)) {
	case MIG_V_NULL: return I_NONE;
	case MIG_V_BOOL: return I_BOOL;
	case MIG_V_INT: return I_BIGINT;
	case MIG_V_DOUBLE: return I_DOUBLE;
	case MIG_V_DECIMAL: return I_NUMERIC;
	case MIG_V_STRING: return I_TEXT;
	case MIG_V_OID: return I_TEXT;
	case MIG_V_DATE: return I_TSTZ;
	case MIG_V_BINARY: {
		const json_t *b = json_object_get(v, "$binary");
		const char *st = json_string_value(json_object_get(b, "subType"));
		if (json_object_get(v, "$uuid") || (st && strtol(st, NULL, 16) == 4))
			return I_UUID;
		return I_BYTEA;
	}
	default: return I_JSONB;
	}
}

static enum infer infer_merge(enum infer a, enum infer b)
{
	if (a == b || b == I_NONE)
		return a;
	if (a == I_NONE)
		return b;
	if ((a == I_BIGINT || a == I_DOUBLE || a == I_NUMERIC) &&
	    (b == I_BIGINT || b == I_DOUBLE || b == I_NUMERIC))
		return a == I_NUMERIC || b == I_NUMERIC ? I_NUMERIC : I_DOUBLE;
	return I_JSONB;
}

static int put_pk(struct pg_store *S, struct mig_buf *b, const char *const *keys, size_t n)
{
	int rc = mig_buf_puts(b, ", PRIMARY KEY (");

	for (size_t i = 0; !rc && i < n; i++) {
		if (i)
			rc = mig_buf_puts(b, ", ");
		rc = rc ? rc : put_ident(S, b, keys[i]);
	}
	return rc ? rc : mig_buf_putc(b, ')');
}

/* The fields of a batch's records that are not columns (all of them when
 * the table is still to be made), in the order they first appear, each
 * with the type its values call for. */
static int infer_fields(struct pg_store *S, struct mig_batch *b, json_t **out,
			struct mig_error *err)
{
	json_t *fields = json_object(), *v, *t;
	const char *key;
	int rc = 0;

	*out = NULL;
	if (!fields)
		return nomem(err);
	for (size_t k = 0; !rc && k < b->n; k++) {
		if (b->items[k].status != MIG_ITEM_PENDING)
			continue;
		object_each(b->items[k].rec, mit, key, v) {
			enum infer was;
			if (S->colidx && json_object_get(S->colidx, key))
				continue;
			t = json_object_get(fields, key);
			was = t ? (enum infer)json_integer_value(t) : I_NONE;
			if (json_object_set_new(fields, key, json_integer(infer_merge(was, infer_of(v))))) {
				rc = nomem(err);
				break;
			}
		}
	}
	if (rc)
		json_decref(fields);
	else
		*out = fields;
	return rc;
}

static void stream_drop(struct pg_store *S, struct mig_batch *b);

/* --create without --schema: fields that appear in later batches become
 * new columns, as the first batch's fields made the table. */
static int add_columns(struct pg_store *S, struct mig_batch *b, struct mig_error *err)
{
	json_t *fields = NULL, *t;
	struct mig_buf *q = &S->sql;
	const char *key;
	size_t i = 0;
	int rc = infer_fields(S, b, &fields, err);

	if (rc || !json_object_size(fields))
		goto out;
	mig_buf_reset(q);
	rc = mig_buf_printf(q, "ALTER TABLE %s ", S->qtable);
	json_object_foreach(fields, key, t) {
		rc = rc ? rc : mig_buf_puts(q, i++ ? ", ADD COLUMN " : "ADD COLUMN ");
		rc = rc ? rc : put_ident(S, q, key);
		rc = rc ? rc : mig_buf_printf(q, " %s", infer_sql[json_integer_value(t)]);
	}
	if (rc) {
		rc = nomem(err);
		goto out;
	}
	stream_drop(S, b);   /* no ALTER TABLE while its COPY is open */
	rc = exec_cmd(S, q->data, err, "adding columns for new fields");
	rc = rc ? rc : setup_target(S, err);
out:
	json_decref(fields);
	return rc;
}

static int create_inferred(struct pg_store *S, struct mig_batch *b, struct mig_error *err)
{
	json_t *fields = NULL, *t;
	struct mig_buf *q = &S->sql;
	const char *key;
	size_t i = 0;
	int rc = infer_fields(S, b, &fields, err);

	if (rc)
		return rc;
	for (size_t k = 0; !rc && k < S->wo.nkeys; k++)
		if (!json_object_get(fields, S->wo.keys[k]))
			rc = mig_error_set(err, MIG_EUSAGE, "%s: --key %s: no such field in the first "
					   "batch, cannot create %s", S->base.loc->redacted,
					   S->wo.keys[k], S->shown);
	if (rc)
		goto out;
	if (!json_object_size(fields)) {
		rc = mig_error_set(err, MIG_EUSAGE, "%s: the first batch has no field to create "
				   "%s from", S->base.loc->redacted, S->shown);
		goto out;
	}
	mig_buf_reset(q);
	rc = mig_buf_printf(q, "CREATE TABLE %s (", S->qtable);
	json_object_foreach(fields, key, t) {
		if (!rc && i++)
			rc = mig_buf_puts(q, ", ");
		rc = rc ? rc : put_ident(S, q, key);
		rc = rc ? rc : mig_buf_printf(q, " %s", infer_sql[json_integer_value(t)]);
	}
	if (!rc && S->wo.nkeys)
		rc = put_pk(S, q, S->wo.keys, S->wo.nkeys);
	rc = rc ? rc : mig_buf_putc(q, ')');
	if (rc) {
		rc = nomem(err);
		goto out;
	}
	rc = exec_cmd(S, q->data, err, "creating the table");
	if (!rc) {
		S->need_create = 0;
		rc = setup_target(S, err);
	}
out:
	json_decref(fields);
	return rc;
}

/* Whether the server reads s as a type name (to_regtype).  A syntax error
 * is an error there, not NULL: it runs under a savepoint when a
 * transaction is open. */
static int is_type_name(struct pg_store *S, const char *s)
{
	const char *p[1] = { s };
	struct mig_error ignored;
	PGresult *r = NULL;
	int ok = 0;

	for (const char *c = s; *c; c++)
		if (!isalnum((unsigned char)*c) && !strchr(" _.,()[]\"", *c))
			return 0;
	if (S->in_tx && exec_cmd(S, "SAVEPOINT mig_type", &ignored, "checking a type"))
		return 0;
	if (query(S, &r, "SELECT pg_catalog.to_regtype($1) IS NOT NULL", 1, p, &ignored,
		  "checking a type") == 0)
		ok = PQgetvalue(r, 0, 0)[0] == 't';
	PQclear(r);
	if (S->in_tx)
		exec_cmd(S, ok ? "RELEASE SAVEPOINT mig_type"
			       : "ROLLBACK TO SAVEPOINT mig_type; RELEASE SAVEPOINT mig_type",
			 &ignored, "checking a type");
	return ok;
}

/* The column type for a property of a JSON Schema that did not come from
 * PostgreSQL: by its JSON type and format. */
static const char *schema_sql_type(const json_t *ps)
{
	const json_t *t = json_object_get(ps, "type"), *e;
	const char *type = NULL, *fmt = json_string_value(json_object_get(ps, "format"));
	size_t i;

	if (json_is_string(t)) {
		type = json_string_value(t);
	} else if (json_is_array(t)) {
		json_array_foreach(t, i, e) {
			if (json_is_string(e) && strcmp(json_string_value(e), "null")) {
				if (type)
					return "jsonb";
				type = json_string_value(e);
			}
		}
	}
	if (!type)
		return "jsonb";
	if (!strcmp(type, "integer"))
		return "bigint";
	if (!strcmp(type, "number"))
		return "double precision";
	if (!strcmp(type, "boolean"))
		return "boolean";
	if (!strcmp(type, "string")) {
		if (fmt && !strcmp(fmt, "date-time"))
			return "timestamp with time zone";
		if (fmt && !strcmp(fmt, "date"))
			return "date";
		if (fmt && !strcmp(fmt, "uuid"))
			return "uuid";
		return "text";
	}
	return "jsonb";
}

static int in_array(const json_t *a, const char *s)
{
	size_t i;
	json_t *e;

	json_array_foreach(a, i, e)
		if (json_is_string(e) && strcmp(json_string_value(e), s) == 0)
			return 1;
	return 0;
}

/* --create --schema FILE: columns from "properties", NOT NULL from
 * "required", the key from --key or "x-mig-primary-key", UNIQUE from
 * "x-mig-unique".  A schema that mig-extract --describe wrote from
 * PostgreSQL ("x-mig-backend": "postgres") keeps each column's native
 * type ("x-mig-type") where this server knows it. */
static int create_from_schema(struct pg_store *S, struct mig_error *err)
{
	json_error_t je;
	const char *what = S->wo.schema ? "the schema" : S->wo.schema_path;
	json_t *doc = S->wo.schema ? json_incref((json_t *)S->wo.schema)
				   : json_load_file(S->wo.schema_path, 0, &je);
	json_t *props, *req, *pk, *uq, *ps, *e;
	struct mig_buf *q = &S->sql;
	const char *name, *be;
	size_t i = 0, j;
	int rc = 0, from_pg;

	if (!doc)
		return mig_error_set(err, MIG_EUSAGE, "%s: %s (line %d)", S->wo.schema_path, je.text,
				     je.line);
	props = json_object_get(doc, "properties");
	req = json_object_get(doc, "required");
	pk = json_object_get(doc, "x-mig-primary-key");
	uq = json_object_get(doc, "x-mig-unique");
	be = json_string_value(json_object_get(doc, "x-mig-backend"));
	from_pg = be && strcmp(be, "postgres") == 0;
	if (!json_is_object(props) || !json_object_size(props)) {
		rc = mig_error_set(err, MIG_EUSAGE, "%s: no \"properties\" to create %s from",
				   what, S->shown);
		goto out;
	}
	mig_buf_reset(q);
	rc = mig_buf_printf(q, "CREATE TABLE %s (", S->qtable) ? MIG_ENOMEM : 0;
	json_object_foreach(props, name, ps) {
		const char *xt = json_string_value(json_object_get(ps, "x-mig-type"));
		const char *type = from_pg && xt && is_type_name(S, xt) ? xt : schema_sql_type(ps);
		if (!rc && i++)
			rc = mig_buf_puts(q, ", ");
		rc = rc ? rc : put_ident(S, q, name);
		rc = rc ? rc : mig_buf_printf(q, " %s%s", type, in_array(req, name) ? " NOT NULL" : "");
	}
	if (!rc && S->wo.nkeys) {
		rc = put_pk(S, q, S->wo.keys, S->wo.nkeys);
	} else if (!rc && json_is_array(pk) && json_array_size(pk)) {
		rc = mig_buf_puts(q, ", PRIMARY KEY (");
		json_array_foreach(pk, j, e) {
			if (!json_is_string(e))
				continue;
			rc = rc ? rc : (j ? mig_buf_puts(q, ", ") : 0);
			rc = rc ? rc : put_ident(S, q, json_string_value(e));
		}
		rc = rc ? rc : mig_buf_putc(q, ')');
	}
	json_array_foreach(uq, j, ps) {
		size_t k;
		if (rc || !json_is_array(ps) || !json_array_size(ps))
			continue;
		rc = mig_buf_puts(q, ", UNIQUE (");
		json_array_foreach(ps, k, e) {
			rc = rc ? rc : (k ? mig_buf_puts(q, ", ") : 0);
			rc = rc ? rc : put_ident(S, q, json_is_string(e) ? json_string_value(e) : "");
		}
		rc = rc ? rc : mig_buf_putc(q, ')');
	}
	rc = rc ? rc : mig_buf_putc(q, ')');
	if (rc) {
		rc = nomem(err);
		goto out;
	}
	rc = exec_cmd(S, q->data, err, "creating the table from the schema");
out:
	json_decref(doc);
	return rc;
}

/* --create from a native definition (mig-restore): archive content is
 * untrusted, so each statement runs alone (the extended protocol takes one)
 * and a piece of SQL text from it (a type, a default, a definition) holding
 * ';' is refused. */
static int sql_piece(struct pg_store *S, const char *s, const char *what, struct mig_error *err)
{
	if (!s || !*s)
		return mig_error_set(err, MIG_EUSAGE, "%s: the native definition has no %s",
				     S->base.loc->redacted, what);
	if (strchr(s, ';') || strstr(s, "--") || strstr(s, "/*"))
		return mig_error_set(err, MIG_EUSAGE, "%s: the native definition's %s '%.80s' is "
				     "refused (';' or a comment in it)", S->base.loc->redacted, what, s);
	return 0;
}

static int native_exec(struct pg_store *S, const char *sql, struct mig_error *err,
		       const char *what)
{
	PGresult *r = NULL;
	int rc = query(S, &r, sql, 0, NULL, err, what);

	PQclear(r);
	return rc;
}

/* A constraint's or index's name on the target: one that begins with the
 * source table's name begins with the target's instead. */
static int put_renamed(struct pg_store *S, struct mig_buf *b, const char *name, const char *src)
{
	size_t n = src ? strlen(src) : 0;
	int rc;

	if (!src || strcmp(src, S->table) == 0 || strncmp(name, src, n) != 0)
		return put_ident(S, b, name);
	mig_buf_reset(&S->tmp);
	if (mig_buf_puts(&S->tmp, S->table) || mig_buf_puts(&S->tmp, name + n))
		return MIG_ENOMEM;
	rc = put_ident(S, b, S->tmp.data);
	return rc;
}

/* The enum, composite and domain types the table uses, those missing. */
static int create_native_types(struct pg_store *S, const json_t *types, struct mig_error *err)
{
	struct mig_buf *q = &S->sql;
	size_t i, j;
	json_t *t, *e;
	int rc = 0;

	json_array_foreach(types, i, t) {
		const char *ns = json_string_value(json_object_get(t, "schema"));
		const char *nm = json_string_value(json_object_get(t, "name"));
		const char *kind = json_string_value(json_object_get(t, "kind"));
		const char *p[1];
		PGresult *r = NULL;
		int exists;

		if (!ns || !nm || !kind)
			return mig_error_set(err, MIG_EUSAGE, "%s: a type of the native definition "
					     "has no schema, name or kind", S->base.loc->redacted);
		mig_buf_reset(q);
		if (put_ident(S, q, ns) || mig_buf_putc(q, '.') || put_ident(S, q, nm))
			return nomem(err);
		p[0] = q->data;
		rc = query(S, &r, "SELECT pg_catalog.to_regtype($1) IS NOT NULL", 1, p, err,
			   "looking up a type");
		if (rc)
			return rc;
		exists = PQgetvalue(r, 0, 0)[0] == 't';
		PQclear(r);
		if (exists)
			continue;
		if (!strcmp(kind, "enum")) {
			rc = mig_buf_puts(q, " AS ENUM (") ? MIG_ENOMEM : 0;
			json_array_foreach(json_object_get(t, "labels"), j, e) {
				const char *l = json_string_value(e);
				char *lit = l ? PQescapeLiteral(S->conn, l, strlen(l)) : NULL;
				if (!lit)
					return nomem(err);
				rc = rc ? rc : mig_buf_printf(q, "%s%s", j ? ", " : "", lit);
				PQfreemem(lit);
			}
			rc = rc ? rc : mig_buf_putc(q, ')');
			if (rc)
				return nomem(err);
		} else if (!strcmp(kind, "composite")) {
			if (mig_buf_puts(q, " AS ("))
				return nomem(err);
			json_array_foreach(json_object_get(t, "attributes"), j, e) {
				const char *an = json_string_value(json_object_get(e, "name"));
				const char *ty = json_string_value(json_object_get(e, "type"));
				if ((rc = sql_piece(S, ty, "attribute type", err)) != 0)
					return rc;
				if ((j && mig_buf_puts(q, ", ")) || put_ident(S, q, an ? an : "") ||
				    mig_buf_printf(q, " %s", ty))
					return nomem(err);
			}
			if (mig_buf_putc(q, ')'))
				return nomem(err);
		} else if (!strcmp(kind, "domain")) {
			const char *base = json_string_value(json_object_get(t, "base"));
			const char *def = json_string_value(json_object_get(t, "default"));
			if ((rc = sql_piece(S, base, "domain base type", err)) != 0 ||
			    (def && (rc = sql_piece(S, def, "domain default", err)) != 0))
				return rc;
			if (mig_buf_printf(q, " AS %s", base) ||
			    (json_is_true(json_object_get(t, "not_null")) && mig_buf_puts(q, " NOT NULL")) ||
			    (def && mig_buf_printf(q, " DEFAULT %s", def)))
				return nomem(err);
			json_array_foreach(json_object_get(t, "checks"), j, e) {
				const char *cn = json_string_value(json_object_get(e, "name"));
				const char *cd = json_string_value(json_object_get(e, "def"));
				if ((rc = sql_piece(S, cd, "domain check", err)) != 0)
					return rc;
				if (strncmp(cd, "CHECK ", 6))
					return mig_error_set(err, MIG_EUSAGE, "%s: a domain check that is "
							     "no CHECK: %.80s", S->base.loc->redacted, cd);
				if (mig_buf_puts(q, " CONSTRAINT ") || put_ident(S, q, cn ? cn : "") ||
				    mig_buf_printf(q, " %s", cd))
					return nomem(err);
			}
		} else {
			return mig_error_set(err, MIG_EUSAGE, "%s: a type of unknown kind '%s' in the "
					     "native definition", S->base.loc->redacted, kind);
		}
		/* the prefix, now that the rest is known */
		mig_buf_reset(&S->tmp);
		if (mig_buf_puts(&S->tmp, !strcmp(kind, "domain") ? "CREATE DOMAIN " : "CREATE TYPE ") ||
		    mig_buf_puts(&S->tmp, q->data))
			return nomem(err);
		rc = native_exec(S, S->tmp.data, err, "creating a type of the table");
		if (rc)
			return rc;
	}
	return 0;
}

static int constraint_ok(struct pg_store *S, const char *type, const char *def,
			 struct mig_error *err)
{
	static const char *const kinds[][2] = {
		{ "primary key", "PRIMARY KEY " }, { "unique", "UNIQUE " }, { "check", "CHECK " },
		{ "foreign key", "FOREIGN KEY " }, { "exclusion", "EXCLUDE " },
	};
	int rc = sql_piece(S, def, "constraint", err);

	if (rc)
		return rc;
	for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
		if (type && !strcmp(type, kinds[i][0]) &&
		    !strncmp(def, kinds[i][1], strlen(kinds[i][1])))
			return 0;
	return mig_error_set(err, MIG_EUSAGE, "%s: a constraint of the native definition is not "
			     "what its type says: %.80s", S->base.loc->redacted, def);
}

/* The table under the target name: types, columns, check and exclusion
 * constraints now; foreign keys and the other indexes into S->post_ddl,
 * for write_end after the data.  The primary key, unique constraints and
 * unique indexes are made now when the load needs them (ON CONFLICT, a
 * key to update by), else after the data too, first in S->post_ddl, as
 * pg_restore does: building an index from the whole table costs the
 * server less than keeping it while the rows come (the 1M rows of
 * tests/bench/backup: COPY 3.2-4.0 s with the key, 2.7 s + 0.4 s after).
 * The price: a duplicate fails the ALTER TABLE at the end, naming the
 * key, instead of being rejected as it comes - which a verified archive
 * of a table with that key cannot hold. */
static int create_from_native(struct pg_store *S, const json_t *nat, struct mig_error *err)
{
	const char *src = NULL, *dot;
	const json_t *cols = json_object_get(nat, "columns"), *pk, *c;
	struct mig_buf *q = &S->sql;
	size_t i, j, nfirst = 0;
	int rc, has_pk = 0;
	int later = S->conflict == MIG_CONFLICT_FAIL && S->wo.mode == MIG_MODE_INSERT;

	dot = json_string_value(json_object_get(nat, "table"));
	src = dot && strchr(dot, '.') ? strchr(dot, '.') + 1 : dot;
	if (!json_is_array(cols) || !json_array_size(cols))
		return mig_error_set(err, MIG_EUSAGE, "%s: the native definition has no columns",
				     S->base.loc->redacted);
	json_decref(S->post_ddl);
	if (!(S->post_ddl = json_array()))
		return nomem(err);
	rc = create_native_types(S, json_object_get(nat, "types"), err);
	if (rc)
		return rc;
	mig_buf_reset(q);
	if (mig_buf_printf(q, "CREATE TABLE %s (", S->qtable))
		return nomem(err);
	json_array_foreach(cols, i, c) {
		const char *name = json_string_value(json_object_get(c, "name"));
		const char *type = json_string_value(json_object_get(c, "type"));
		const char *def = json_string_value(json_object_get(c, "default"));
		const char *idn = json_string_value(json_object_get(c, "identity"));
		int serial = json_is_true(json_object_get(c, "serial"));
		int gen = json_string_value(json_object_get(c, "generated")) != NULL;

		if (!name)
			return mig_error_set(err, MIG_EUSAGE, "%s: a column of the native definition "
					     "has no name", S->base.loc->redacted);
		if ((rc = sql_piece(S, type, "column type", err)) != 0 ||
		    (def && (rc = sql_piece(S, def, "column default", err)) != 0))
			return rc;
		if (serial && (!strcmp(type, "integer") || !strcmp(type, "bigint") ||
			       !strcmp(type, "smallint"))) {
			type = !strcmp(type, "integer") ? "serial"
			       : !strcmp(type, "bigint") ? "bigserial" : "smallserial";
			def = NULL;   /* the new sequence's */
		}
		if ((i && mig_buf_puts(q, ", ")) || put_ident(S, q, name) ||
		    mig_buf_printf(q, " %s", type))
			return nomem(err);
		if (idn && mig_buf_printf(q, " GENERATED %s AS IDENTITY",
					  !strcmp(idn, "always") ? "ALWAYS" : "BY DEFAULT"))
			return nomem(err);
		if (def && !idn && mig_buf_printf(q, gen ? " GENERATED ALWAYS AS (%s) STORED"
						     : " DEFAULT %s", def))
			return nomem(err);
		if (json_is_true(json_object_get(c, "not_null")) && mig_buf_puts(q, " NOT NULL"))
			return nomem(err);
	}
	json_array_foreach(json_object_get(nat, "constraints"), i, c) {
		const char *name = json_string_value(json_object_get(c, "name"));
		const char *def = json_string_value(json_object_get(c, "def"));
		const char *type = json_string_value(json_object_get(c, "type"));
		struct mig_buf *into = q;
		struct mig_buf fk;

		if ((rc = constraint_ok(S, type, def, err)) != 0)
			return rc;
		int key = !strcmp(type, "primary key") || !strcmp(type, "unique");
		has_pk |= !strcmp(type, "primary key");
		mig_buf_init(&fk, 0);
		if (!strcmp(type, "foreign key") || (key && later)) {
			into = &fk;
			if (mig_buf_printf(&fk, "ALTER TABLE %s ADD", S->qtable))
				goto fk_oom;
		} else if (mig_buf_putc(q, ',')) {
			goto fk_oom;
		}
		if (mig_buf_puts(into, " CONSTRAINT ") ||
		    put_renamed(S, into, name ? name : "", src) || mig_buf_printf(into, " %s", def))
			goto fk_oom;
		/* keys before the foreign keys, which may refer to them */
		if (into == &fk && json_array_insert_new(S->post_ddl, key ? nfirst++
							 : json_array_size(S->post_ddl),
							 json_string(fk.data)))
			goto fk_oom;
		mig_buf_free(&fk);
		continue;
fk_oom:
		mig_buf_free(&fk);
		return nomem(err);
	}
	pk = json_object_get(nat, "primary_key");
	if (!has_pk && json_array_size(pk)) {
		size_t n = json_array_size(pk);
		const char **keys = calloc(n, sizeof *keys);
		char *alter = NULL;
		struct mig_buf k;

		mig_buf_init(&k, 0);
		json_array_foreach(pk, j, c)
			if (keys)
				keys[j] = json_is_string(c) ? json_string_value(c) : "";
		/* ", PRIMARY KEY (...)": in CREATE TABLE, or first after the data */
		rc = !keys || put_pk(S, &k, keys, n);
		if (!rc && later)
			rc = asprintf(&alter, "ALTER TABLE %s ADD%s", S->qtable, k.data + 1) < 0 ||
			     json_array_insert_new(S->post_ddl, nfirst++, json_string(alter));
		else if (!rc)
			rc = mig_buf_append(q, k.data, k.len);
		free(alter);
		free(keys);
		mig_buf_free(&k);
		if (rc)
			return nomem(err);
	}
	if (mig_buf_putc(q, ')'))
		return nomem(err);
	rc = native_exec(S, q->data, err, "creating the table from its native definition");
	if (rc)
		return rc;
	json_array_foreach(json_object_get(nat, "indexes"), i, c) {
		const char *name = json_string_value(json_object_get(c, "name"));
		const char *use = json_string_value(json_object_get(c, "using"));
		int uniq = json_is_true(json_object_get(c, "unique"));

		if (!use) {
			mig_warn("%s: index %s: its definition cannot be made on %s; skipped",
				 S->base.loc->redacted, name ? name : "?", S->shown);
			continue;
		}
		if ((rc = sql_piece(S, use, "index", err)) != 0)
			return rc;
		mig_buf_reset(q);
		if (mig_buf_printf(q, "CREATE %sINDEX ", uniq ? "UNIQUE " : "") ||
		    put_renamed(S, q, name ? name : "", src) ||
		    mig_buf_printf(q, " ON %s %s", S->qtable, use))
			return nomem(err);
		if (uniq && !later)   /* now: ON CONFLICT may need it */
			rc = native_exec(S, q->data, err, "creating a unique index");
		else if (json_array_insert_new(S->post_ddl, uniq ? nfirst++
					       : json_array_size(S->post_ddl),
					       json_string(q->data)))
			rc = nomem(err);
		if (rc)
			return rc;
	}
	return 0;
}

/* write_end: the foreign keys and indexes, after the data. */
static int run_post_ddl(struct pg_store *S, struct mig_error *err)
{
	size_t i;
	json_t *e;
	int rc = 0;

	/* the first failure is the error; without a load transaction the
	 * others still run */
	json_array_foreach(S->post_ddl, i, e) {
		struct mig_error e2;
		if (native_exec(S, json_string_value(e), rc ? &e2 : err,
				"adding a key, foreign key or index after the data") && !rc) {
			rc = MIG_EIO;
			if (S->outer)
				break;
		}
	}
	json_decref(S->post_ddl);
	S->post_ddl = NULL;
	return rc;
}

/* --create of a missing table: from the native definition of a table of
 * this backend (mig-restore), else from the JSON Schema (loaded, which
 * wins, or --schema FILE), else from the first batch.  A schema handed
 * over without properties (another backend's) leaves it to the batch. */
static int create_table(struct pg_store *S, struct mig_error *err)
{
	const json_t *nat = S->wo.native;
	const char *be = json_string_value(json_object_get(nat, "backend"));
	int rc, own = 0;

	if (nat && be && !strcmp(be, "postgres")) {
		if (!S->in_tx) {
			rc = exec_cmd(S, "BEGIN", err, "creating the table");
			if (rc)
				return rc;
			S->in_tx = own = 1;
		}
		rc = create_from_native(S, nat, err);
		if (own) {
			struct mig_error ignored;
			if (rc)
				exec_cmd(S, "ROLLBACK", &ignored, "creating the table");
			else
				rc = exec_cmd(S, "COMMIT", err, "creating the table");
			S->in_tx = 0;
		}
		return rc;
	}
	if (S->wo.schema && !json_object_size(json_object_get(S->wo.schema, "properties")))
		S->wo.schema = NULL;
	if (!S->wo.schema && !S->wo.schema_path) {
		S->need_create = 1;   /* from the first batch */
		return 0;
	}
	return create_from_schema(S, err);
}

static enum mig_conflict effective_conflict(const struct mig_write_opts *o)
{
	if (o->mode == MIG_MODE_UPDATE || o->mode == MIG_MODE_DELETE)
		return MIG_CONFLICT_MERGE;   /* through the staging table, by key */
	if (o->on_conflict != MIG_CONFLICT_DEFAULT)
		return o->on_conflict;
	switch (o->mode) {
	case MIG_MODE_UPSERT: return MIG_CONFLICT_MERGE;
	case MIG_MODE_REPLACE: return MIG_CONFLICT_OVERWRITE;
	case MIG_MODE_MERGE: return MIG_CONFLICT_MERGE;
	default: return MIG_CONFLICT_FAIL;
	}
}

static int pg_write_begin(struct mig_store *st, const struct mig_write_opts *o,
			  struct mig_error *err)
{
	struct pg_store *S = (struct pg_store *)st;
	char oid[16];
	int rc;

	if (!S->table)
		return mig_error_set(err, MIG_EUSAGE, "%s: name the target table (#schema.table)",
				     S->base.loc->redacted);
	if (o->drop && !o->create)
		return mig_error_set(err, MIG_EUSAGE, "%s: --drop needs --create (the table is "
				     "made anew from the records)", S->base.loc->redacted);
	/* as the other backends: a plain insert instead would surprise */
	if (o->mode != MIG_MODE_INSERT && o->on_conflict == MIG_CONFLICT_FAIL)
		return mig_error_set(err, MIG_EUSAGE, "%s: --on-conflict fail contradicts --mode %s",
				     S->base.loc->redacted, mig_load_mode_name(o->mode));
	S->wo = *o;
	S->writing = 1;
	S->outer = o->atomic || o->dry_run;
	S->no_text = getenv("MIG_PG_NO_TEXT_PATH") != NULL;   /* see mig-load(1) */
	S->conflict = effective_conflict(o);
	S->committed = 0;
	if (S->outer) {
		rc = exec_cmd(S, "BEGIN; SET CONSTRAINTS ALL IMMEDIATE", err, "starting the load");
		if (rc)
			return rc;
		S->in_tx = 1;
		S->tx_clean = 0;   /* each batch under a savepoint */
	}
	if (o->drop) {
		mig_buf_reset(&S->sql);
		if (mig_buf_printf(&S->sql, "DROP TABLE IF EXISTS %s", S->qtable))
			return nomem(err);
		rc = exec_cmd(S, S->sql.data, err, "dropping the table");
		if (rc)
			return rc;
	}
	rc = table_oid(S, oid, err);
	if (rc)
		return rc;
	if (!oid[0]) {
		if (!o->create)
			return mig_error_set(err, MIG_EIO, "%s: no table %s (--create makes it)",
					     S->base.loc->redacted, S->shown);
		rc = create_table(S, err);
		if (rc || S->need_create)
			return rc;
	} else if (o->truncate) {
		mig_buf_reset(&S->sql);
		if (mig_buf_printf(&S->sql, "TRUNCATE %s", S->qtable))
			return nomem(err);
		rc = exec_cmd(S, S->sql.data, err, "truncating the table");
		if (rc)
			return rc;
	}
	return setup_target(S, err);
}

/* ------------------------------------------------------------------ load: batches */

static int begin_batch_tx(struct pg_store *S, struct mig_error *err)
{
	PGresult *r = PQexec(S->conn, "BEGIN; SET CONSTRAINTS ALL IMMEDIATE; "
				      "SELECT pg_catalog.txid_current()");
	int rc = 0;

	if (!r || PQresultStatus(r) != PGRES_TUPLES_OK)
		rc = pg_fail(S, r, err, "starting a batch");
	else
		snprintf(S->xid, sizeof S->xid, "%s", PQgetvalue(r, 0, 0));
	PQclear(r);
	S->in_tx = 1;
	S->tx_clean = !rc;
	return rc;
}

/* Errors about a record's data, which bisection pins on records: every
 * other failure is the store's. */
static int row_level(const PGresult *r)
{
	static const char *const classes[] = { "21", "22", "23", "54", "P0", "2F", "38", "39",
					       "44", NULL };
	const char *s = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;

	if (!s)
		return 0;
	for (int i = 0; classes[i]; i++)
		if (strncmp(s, classes[i], 2) == 0)
			return 1;
	return 0;
}

/* The line of the COPY that failed, from the error's context ("COPY t,
 * line 3, column x: ..."), 1-based; 0 when it does not say. */
static size_t copy_line_hint(const PGresult *r)
{
	const char *ctx = PQresultErrorField(r, PG_DIAG_CONTEXT), *p;

	if (!ctx || strncmp(ctx, "COPY ", 5) || !(p = strstr(ctx, ", line ")))
		return 0;
	return (size_t)strtoull(p + 7, NULL, 10);
}

static void reject_with(struct mig_batch_item *it, const PGresult *r)
{
	const char *prim = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
	const char *detail = PQresultErrorField(r, PG_DIAG_MESSAGE_DETAIL);
	const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
	const char *ctx = PQresultErrorField(r, PG_DIAG_CONTEXT), *p, *q;
	char column[300] = "";

	/* input errors do not name their column; COPY's context does */
	if (ctx && strncmp(ctx, "COPY ", 5) == 0 && (p = strstr(ctx, ", column ")) != NULL) {
		p += 9;
		q = strstr(p, ": ");
		snprintf(column, sizeof column, "column %.*s: ",
			 (int)(q ? (size_t)(q - p) : strcspn(p, "\n")), p);
		if (strncmp(column + 7, "mig.n:", 6) == 0)
			column[0] = '\0';
	}
	mig_batch_reject(it, state, "%s%s%s%s%s", column, prim ? prim : PQresultErrorMessage(r),
			 detail ? " (" : "", detail ? detail : "", detail ? ")" : "");
}

typedef int (*attempt_fn)(struct pg_store *S, struct pg_group *G, size_t a, size_t b,
			  PGresult **fail, struct mig_error *err);
static int bisect(struct pg_store *S, struct pg_group *G, attempt_fn fn, size_t a, size_t b,
		  struct mig_error *err);

/* Sends the rest of a COPY's data, [p, p + n), and ends it: the group's
 * lines [a, b) are then inserted (or staged), or, when the server refused
 * a row for its data, *fail holds its answer for bisection. */
static int copy_close(struct pg_store *S, struct pg_group *G, const char *p, size_t n,
		      size_t a, size_t b, PGresult **fail, struct mig_error *err)
{
	PGresult *r;
	int rc = 0;

	if ((n && PQputCopyData(S->conn, p, (int)n) != 1) || PQputCopyEnd(S->conn, NULL) != 1) {
		rc = pg_fail(S, NULL, err, "sending COPY data");
		while ((r = PQgetResult(S->conn)) != NULL)
			PQclear(r);
		return rc;
	}
	r = PQgetResult(S->conn);
	if (r && PQresultStatus(r) == PGRES_COMMAND_OK) {
		for (size_t i = a; i < b; i++) {
			if (G->copy_into_stage)
				G->staged[i] = 1;
			else
				G->b->items[G->item[i]].status = MIG_ITEM_INSERTED;
		}
		PQclear(r);
	} else if (row_level(r) && !conn_lost(S)) {
		*fail = r;
	} else {
		rc = pg_fail(S, r, err, "COPY");
		PQclear(r);
	}
	while ((r = PQgetResult(S->conn)) != NULL)
		PQclear(r);
	return rc;
}

/* COPY lines [a, b) of the group. */
static int attempt_copy(struct pg_store *S, struct pg_group *G, size_t a, size_t b,
			PGresult **fail, struct mig_error *err)
{
	PGresult *r = PQexec(S->conn, G->copy_sql);
	int rc = 0;

	if (!r || PQresultStatus(r) != PGRES_COPY_IN) {
		rc = pg_fail(S, r, err, "starting COPY");
		PQclear(r);
		return rc;
	}
	PQclear(r);
	return copy_close(S, G, S->data.data + G->off[a], G->off[b] - G->off[a], a, b, fail, err);
}

/* INSERT ... SELECT ... ON CONFLICT of the staged lines [a, b). */
static int attempt_insert(struct pg_store *S, struct pg_group *G, size_t a, size_t b,
			  PGresult **fail, struct mig_error *err)
{
	char lo[24], hi[24];
	const char *p[2] = { lo, hi };
	PGresult *r;
	int rc = 0;

	snprintf(lo, sizeof lo, "%zu", a);
	snprintf(hi, sizeof hi, "%zu", b);
	r = PQexecParams(S->conn, G->ins_sql, 2, NULL, p, NULL, NULL, 0);
	if (r && (PQresultStatus(r) == PGRES_TUPLES_OK || PQresultStatus(r) == PGRES_COMMAND_OK)) {
		size_t inserted = G->keyless ? strtoull(PQcmdTuples(r), NULL, 10) : 0;
		for (int k = 0; !G->keyless && k < PQntuples(r); k++) {
			size_t line = strtoull(PQgetvalue(r, k, 0), NULL, 10);
			if (line < a || line >= b)
				continue;
			G->b->items[G->item[line]].status =
				PQgetvalue(r, k, 1)[0] == 't' ? MIG_ITEM_INSERTED : G->matched;
			G->staged[line] = 2;
		}
		for (size_t i = a; i < b; i++) {
			if (G->staged[i] != 1)
				continue;
			if (G->keyless)
				G->b->items[G->item[i]].status = inserted ? (inserted--, MIG_ITEM_INSERTED)
									  : MIG_ITEM_SKIPPED;
			else if (G->unmatched == MIG_ITEM_REJECTED)   /* --mode update */
				mig_batch_no_key(&G->b->items[G->item[i]], "row", S->keynames,
						 S->nkeys);
			else
				G->b->items[G->item[i]].status = G->unmatched;
		}
		for (size_t i = a; i < b; i++)
			if (G->staged[i] == 2)
				G->staged[i] = 1;
		PQclear(r);
	} else if (row_level(r) && !conn_lost(S)) {
		*fail = r;
	} else {
		rc = pg_fail(S, r, err, "INSERT from the staging table");
		PQclear(r);
	}
	return rc;
}

/* One attempt under a savepoint (or, first thing in a batch transaction,
 * without one: then a failure rolls the transaction back and begins it
 * again, which costs less than a savepoint on every batch). */
static int attempt(struct pg_store *S, struct pg_group *G, attempt_fn fn, size_t a, size_t b,
		   PGresult **fail, struct mig_error *err)
{
	int sp = !S->tx_clean, rc;

	*fail = NULL;
	if (sp && (rc = exec_cmd(S, "SAVEPOINT mig", err, "savepoint")) != 0)
		return rc;
	rc = fn(S, G, a, b, fail, err);
	if (rc)
		return rc;
	if (*fail) {
		snprintf(S->last_state, sizeof S->last_state, "%s",
			 PQresultErrorField(*fail, PG_DIAG_SQLSTATE));
		if (sp)
			rc = exec_cmd(S, "ROLLBACK TO SAVEPOINT mig; RELEASE SAVEPOINT mig", err,
				      "rolling back to the savepoint");
		else if (!(rc = exec_cmd(S, "ROLLBACK", err, "rolling back the batch")))
			rc = begin_batch_tx(S, err);
		if (rc) {
			PQclear(*fail);
			*fail = NULL;
		}
		return rc;
	}
	S->tx_clean = 0;
	return sp ? exec_cmd(S, "RELEASE SAVEPOINT mig", err, "releasing the savepoint") : 0;
}

/* Writes lines [a, b); when the server refuses them for their data, splits
 * the range - at the line the server names, else in halves - until each
 * bad record stands alone and is rejected with the server's reason. */
static int bisect_from(struct pg_store *S, struct pg_group *G, attempt_fn fn, size_t a,
		       size_t b, PGresult *fail, struct mig_error *err)
{
	while (a < b) {
		size_t hint, mid;
		int rc = 0;

		if (!fail)
			rc = attempt(S, G, fn, a, b, &fail, err);
		if (rc)
			return rc;
		if (!fail)
			return 0;
		if (b - a == 1) {
			if (fn != attempt_insert || G->staged[a])
				reject_with(&G->b->items[G->item[a]], fail);
			if (G->staged)
				G->staged[a] = 0;
			PQclear(fail);
			return 0;
		}
		hint = fn == attempt_copy ? copy_line_hint(fail) : 0;
		PQclear(fail);
		fail = NULL;
		if (hint >= 1 && hint <= b - a) {
			mid = a + hint - 1;
			/* what came before the bad line went in; the bad line alone */
			if (mid > a && (rc = bisect(S, G, fn, a, mid, err)) != 0)
				return rc;
			if ((rc = bisect(S, G, fn, mid, mid + 1, err)) != 0)
				return rc;
			a = mid + 1;
			continue;
		}
		mid = a + (b - a) / 2;
		if ((rc = bisect(S, G, fn, a, mid, err)) != 0)
			return rc;
		a = mid;
	}
	PQclear(fail);
	return 0;
}

static int bisect(struct pg_store *S, struct pg_group *G, attempt_fn fn, size_t a, size_t b,
		  struct mig_error *err)
{
	return bisect_from(S, G, fn, a, b, NULL, err);
}

#define NO_COLUMN ((size_t)-1)

/* The column of the i-th field of a record, named key: records of one
 * stream nearly always list their fields in the same order, so the last
 * record's answer is tried first (a strcmp instead of a hash lookup). */
static size_t field_col(struct pg_store *S, size_t i, const char *key)
{
	json_t *ix;

	if (i < S->ncols && S->hint[i] < S->ncols && strcmp(S->cols[S->hint[i]].name, key) == 0)
		return S->hint[i];
	ix = json_object_get(S->colidx, key);
	if (!ix)
		return NO_COLUMN;
	if (i < S->ncols)
		S->hint[i] = (size_t)json_integer_value(ix);
	return (size_t)json_integer_value(ix);
}

static int ensure_stage(struct pg_store *S, struct mig_error *err)
{
	int rc;

	if (S->staging_ready)
		return 0;
	/* the table's column types, none of its constraints: a record that
	 * lacks a NOT NULL column may still update an existing row */
	mig_buf_reset(&S->sql);
	if (mig_buf_printf(&S->sql, "DROP TABLE IF EXISTS %s; CREATE TEMP TABLE mig_stage AS "
			   "SELECT NULL::int8 AS %s, * FROM %s WITH NO DATA",
			   stage_name, stage_n, S->qtable))
		return nomem(err);
	rc = exec_cmd(S, S->sql.data, err, "creating the staging table");
	if (!rc)
		S->staging_ready = 1;
	return rc;
}

/* a.k1 = b.k1 AND a.k2 = b.k2 ... over the keys */
static int put_key_join(struct pg_store *S, struct mig_buf *b, const char *x, const char *y)
{
	int rc = 0;

	for (size_t k = 0; !rc && k < S->nkeys; k++) {
		const char *name = S->cols[S->keycol[k]].name;
		rc = mig_buf_printf(b, "%s%s.", k ? " AND " : "", x);
		rc = rc ? rc : put_ident(S, b, name);
		rc = rc ? rc : mig_buf_printf(b, " = %s.", y);
		rc = rc ? rc : put_ident(S, b, name);
	}
	return rc;
}

/* x.k1, x.k2 ... */
static int put_key_cols(struct pg_store *S, struct mig_buf *b, const char *x)
{
	int rc = 0;

	for (size_t k = 0; !rc && k < S->nkeys; k++) {
		rc = mig_buf_printf(b, "%s%s.", k ? ", " : "", x);
		rc = rc ? rc : put_ident(S, b, S->cols[S->keycol[k]].name);
	}
	return rc;
}

/* ", u AS (UPDATE ... RETURNING the key)": the existing rows get the
 * columns the records hold, and no other, so that a partial record does
 * not meet the NOT NULL columns it lacks (an INSERT ... ON CONFLICT would:
 * the proposed row is checked before the conflict is found).  Of records
 * with the same key in one group (the same columns), the last one wins,
 * as if they were applied in turn; --mode delete is DELETE ... USING. */
static int put_change_cte(struct pg_store *S, struct mig_buf *b, const size_t *cols, size_t nc)
{
	int rc, n = 0;

	if (S->wo.mode == MIG_MODE_DELETE) {
		rc = mig_buf_printf(b, ", u AS (DELETE FROM %s AS d USING s WHERE ", S->qtable);
		rc = rc ? rc : put_key_join(S, b, "d", "s");
		rc = rc ? rc : mig_buf_puts(b, " RETURNING ");
		rc = rc ? rc : put_key_cols(S, b, "d");
		return rc ? rc : mig_buf_putc(b, ')');
	}
	rc = mig_buf_printf(b, ", u AS (UPDATE %s AS d SET ", S->qtable);
	for (size_t i = 0; !rc && i < nc; i++) {
		const struct pg_col *col = &S->cols[cols[i]];
		int key = 0;
		for (size_t k = 0; k < S->nkeys; k++)
			key |= S->keycol[k] == cols[i];
		if (key || col->generated || col->identity_always)
			continue;
		rc = n++ ? mig_buf_puts(b, ", ") : 0;
		rc = rc ? rc : put_ident(S, b, col->name);
		rc = rc ? rc : mig_buf_puts(b, " = m.");
		rc = rc ? rc : put_ident(S, b, col->name);
	}
	if (!rc && !n) {   /* only the key: a no-op update still finds the row */
		rc = put_ident(S, b, S->cols[S->keycol[0]].name);
		rc = rc ? rc : mig_buf_puts(b, " = m.");
		rc = rc ? rc : put_ident(S, b, S->cols[S->keycol[0]].name);
	}
	rc = rc ? rc : mig_buf_puts(b, " FROM (SELECT DISTINCT ON (");
	rc = rc ? rc : put_key_cols(S, b, "s");
	rc = rc ? rc : mig_buf_puts(b, ") * FROM s ORDER BY ");
	rc = rc ? rc : put_key_cols(S, b, "s");
	rc = rc ? rc : mig_buf_printf(b, ", s.%s DESC) m WHERE ", stage_n);
	rc = rc ? rc : put_key_join(S, b, "d", "m");
	rc = rc ? rc : mig_buf_puts(b, " RETURNING ");
	rc = rc ? rc : put_key_cols(S, b, "d");
	return rc ? rc : mig_buf_putc(b, ')');
}

/* The statements of a group whose records hold the columns cols[0..nc). */
static int group_sql(struct pg_store *S, struct pg_group *G, const size_t *cols, size_t nc,
		     struct mig_buf *copy, struct mig_buf *ins)
{
	int ident = 0, rc;
	int only_u = S->wo.mode == MIG_MODE_UPDATE || S->wo.mode == MIG_MODE_DELETE;
	int merge = !only_u && S->conflict == MIG_CONFLICT_MERGE && S->nkeys;

	rc = mig_buf_printf(copy, "COPY %s (", S->staging ? stage_name : S->qtable);
	if (!rc && S->staging)
		rc = mig_buf_printf(copy, "%s, ", stage_n);
	for (size_t i = 0; !rc && i < nc; i++) {
		rc = i ? mig_buf_puts(copy, ", ") : 0;
		rc = rc ? rc : put_ident(S, copy, S->cols[cols[i]].name);
		ident |= S->cols[cols[i]].identity_always;
	}
	rc = rc ? rc : mig_buf_puts(copy, ") FROM STDIN");
	if (rc || !S->staging)
		return rc;

	/* WITH s AS (the staged range), r AS (INSERT ... RETURNING key, inserted)
	 * SELECT s.line, r.inserted FROM s JOIN r ON the key; merging, u
	 * updates the rows that exist first and r inserts the others; update
	 * and delete are u alone */
	rc = mig_buf_printf(ins, "WITH s AS (SELECT * FROM %s WHERE %s >= $1 AND %s < $2)",
			    stage_name, stage_n, stage_n);
	if (!rc && (merge || only_u))
		rc = put_change_cte(S, ins, cols, nc);
	if (!rc && only_u) {
		if (S->wo.mode == MIG_MODE_DELETE) {
			/* one record per key is the one that deleted the row: the
			 * first; a repeat finds nothing */
			rc = mig_buf_printf(ins, " SELECT min(s.%s), false FROM s JOIN u ON ", stage_n);
			rc = rc ? rc : put_key_join(S, ins, "s", "u");
			rc = rc ? rc : mig_buf_puts(ins, " GROUP BY ");
			return rc ? rc : put_key_cols(S, ins, "s");
		}
		rc = mig_buf_printf(ins, " SELECT s.%s, false FROM s JOIN u ON ", stage_n);
		return rc ? rc : put_key_join(S, ins, "s", "u");
	}
	rc = rc ? rc : mig_buf_printf(ins, ", r AS (INSERT INTO %s AS d (", S->qtable);
	for (size_t i = 0; !rc && i < nc; i++) {
		rc = i ? mig_buf_puts(ins, ", ") : 0;
		rc = rc ? rc : put_ident(S, ins, S->cols[cols[i]].name);
	}
	rc = rc ? rc : mig_buf_printf(ins, ")%s SELECT ", ident ? " OVERRIDING SYSTEM VALUE" : "");
	for (size_t i = 0; !rc && i < nc; i++) {
		rc = i ? mig_buf_puts(ins, ", ") : 0;
		rc = rc ? rc : put_ident(S, ins, S->cols[cols[i]].name);
	}
	rc = rc ? rc : mig_buf_puts(ins, " FROM s");
	if (!rc && merge) {
		rc = mig_buf_printf(ins, " WHERE NOT EXISTS (SELECT 1 FROM %s e WHERE ", S->qtable);
		rc = rc ? rc : put_key_join(S, ins, "e", "s");
		rc = rc ? rc : mig_buf_putc(ins, ')');
	}
	rc = rc ? rc : mig_buf_printf(ins, " ORDER BY %s ON CONFLICT ", stage_n);
	if (!rc && S->nkeys) {
		rc = mig_buf_putc(ins, '(');
		for (size_t k = 0; !rc && k < S->nkeys; k++) {
			rc = k ? mig_buf_puts(ins, ", ") : 0;
			rc = rc ? rc : put_ident(S, ins, S->cols[S->keycol[k]].name);
		}
		rc = rc ? rc : mig_buf_puts(ins, ") ");
	}
	if (!rc && S->conflict == MIG_CONFLICT_SKIP) {
		rc = mig_buf_puts(ins, "DO NOTHING");
	} else if (!rc) {
		/* merge: the columns the records hold; overwrite: every column,
		 * the absent ones back to their default */
		int n = 0;
		rc = mig_buf_puts(ins, "DO UPDATE SET ");
		for (size_t c = 0; !rc && c < S->ncols; c++) {
			int present = 0, key = 0;
			struct pg_col *col = &S->cols[c];
			for (size_t i = 0; i < nc; i++)
				present |= cols[i] == c;
			for (size_t k = 0; k < S->nkeys; k++)
				key |= S->keycol[k] == c;
			if (key || col->generated || (!present && (S->conflict != MIG_CONFLICT_OVERWRITE ||
								   col->identity_always)))
				continue;
			rc = n++ ? mig_buf_puts(ins, ", ") : 0;
			rc = rc ? rc : put_ident(S, ins, col->name);
			rc = rc ? rc : mig_buf_puts(ins, present ? " = EXCLUDED." : " = DEFAULT");
			if (!rc && present)
				rc = put_ident(S, ins, col->name);
		}
		if (!rc && !n) {   /* only the key: a no-op update still says "updated" */
			rc = put_ident(S, ins, S->cols[S->keycol[0]].name);
			rc = rc ? rc : mig_buf_puts(ins, " = EXCLUDED.");
			rc = rc ? rc : put_ident(S, ins, S->cols[S->keycol[0]].name);
		}
	}
	if (rc)
		return rc;
	if (!S->nkeys) {   /* DO NOTHING without a key: counts only */
		G->keyless = 1;
		return mig_buf_puts(ins, ") SELECT 1");
	}
	rc = mig_buf_puts(ins, " RETURNING ");
	for (size_t k = 0; !rc && k < S->nkeys; k++) {
		rc = mig_buf_puts(ins, "d.");
		rc = rc ? rc : put_ident(S, ins, S->cols[S->keycol[k]].name);
		rc = rc ? rc : mig_buf_puts(ins, ", ");
	}
	rc = rc ? rc : mig_buf_printf(ins, "(d.xmax = 0) AS \"mig.ins\") SELECT s.%s, r.\"mig.ins\" "
				      "FROM s JOIN r ON ", stage_n);
	for (size_t k = 0; !rc && k < S->nkeys; k++) {
		rc = k ? mig_buf_puts(ins, " AND ") : 0;
		rc = rc ? rc : mig_buf_puts(ins, "s.");
		rc = rc ? rc : put_ident(S, ins, S->cols[S->keycol[k]].name);
		rc = rc ? rc : mig_buf_puts(ins, " = r.");
		rc = rc ? rc : put_ident(S, ins, S->cols[S->keycol[k]].name);
	}
	if (!rc && merge) {
		rc = mig_buf_printf(ins, " UNION ALL SELECT s.%s, false FROM s JOIN u ON ", stage_n);
		rc = rc ? rc : put_key_join(S, ins, "s", "u");
	}
	return rc;
}

/* Ends a COPY IN that is being abandoned. */
static void copy_abort(struct pg_store *S, const char *why)
{
	PGresult *r;

	PQputCopyEnd(S->conn, why);
	while ((r = PQgetResult(S->conn)) != NULL)
		PQclear(r);
}

#define NO_LINE ((size_t)-1)

/* Appends the COPY line of a parsed record (its columns cols[0..nc),
 * after "stage\t" unless stage is NO_LINE) to S->data.  Returns 0,
 * MIG_ENOMEM, or MIG_EDATA when a value cannot be written: the record is
 * rejected, and S->data is as it was. */
static int copy_line(struct pg_store *S, struct mig_batch_item *it, const size_t *cols,
		     size_t nc, size_t stage)
{
	struct mig_error why;
	size_t start = S->data.len, f = 0, col;
	const char *key;
	json_t *fv;
	int rc;

	for (size_t i = 0; i < nc; i++)
		S->vals[cols[i]] = NULL;
	object_each(it->rec, mit, key, fv)
		if ((col = field_col(S, f++, key)) != NO_COLUMN)
			S->vals[col] = fv;
	rc = stage != NO_LINE ? mig_buf_printf(&S->data, "%zu\t", stage) : 0;
	for (size_t i = 0; !rc && i < nc; i++) {
		struct pg_col *c = &S->cols[cols[i]];
		const json_t *v = S->vals[cols[i]];
		size_t s0;
		if (i && (rc = mig_buf_putc(&S->data, '\t')) != 0)
			break;
		if (!v || json_is_null(v)) {
			rc = mig_buf_append(&S->data, "\\N", 2);
			continue;
		}
		s0 = S->data.len;
		rc = to_text(S, &S->data, c->t, v, &why);
		if (rc == MIG_EDATA) {
			mig_batch_reject(it, NULL, "field %s: %s", c->name, why.msg);
			break;
		}
		rc = rc ? rc : copy_escape_tail(&S->data, s0);
	}
	rc = rc ? rc : mig_buf_putc(&S->data, '\n');
	if (rc)
		S->data.len = start;
	return rc;
}

/* The first attempt at a group: each record is converted to a COPY line
 * and sent as the lines pile up, so that the server inserts while we
 * convert (the two take turns otherwise).  A record that cannot be
 * written is rejected here and not sent.  The lines stay in S->data for
 * the attempts that bisection may need. */
static int attempt_copy_convert(struct pg_store *S, struct pg_group *G, size_t a, size_t b,
				PGresult **fail, struct mig_error *err)
{
	const size_t chunk = 64 * 1024;
	size_t sent = 0;
	PGresult *r = PQexec(S->conn, G->copy_sql);
	int rc = 0;

	(void)a;
	(void)b;
	if (!r || PQresultStatus(r) != PGRES_COPY_IN) {
		rc = pg_fail(S, r, err, "starting COPY");
		PQclear(r);
		return rc;
	}
	PQclear(r);
	mig_buf_reset(&S->data);
	G->m = 0;
	G->off[0] = 0;
	for (size_t k = 0; k < G->nin; k++) {
		struct mig_batch_item *it = &G->b->items[G->in[k]];
		rc = copy_line(S, it, G->cols, G->nc, S->staging ? G->m : NO_LINE);
		if (rc == MIG_EDATA) {
			rc = 0;
			continue;
		}
		if (rc) {
			copy_abort(S, "out of memory");
			return nomem(err);
		}
		G->item[G->m++] = G->in[k];
		G->off[G->m] = S->data.len;
		if (S->data.len - sent >= chunk) {
			if (PQputCopyData(S->conn, S->data.data + sent, (int)(S->data.len - sent)) != 1)
				break;
			sent = S->data.len;
		}
	}
	return copy_close(S, G, S->data.data + sent, S->data.len - sent, 0, G->m, fail, err);
}

/* ------------------------------------------------------------------ load: records sent as they are read
 *
 * Why: converting a batch and then waiting for the server to insert it
 * made the two take turns (mig-load 10.4 s for 1M rows, of which 6.5 s
 * CPU: tests/bench/pg-copy).  write_prepare converts each record as it
 * is read and streams the batch's first group into a COPY that is open
 * while the rest of the batch is read; write_batch then only ends it.
 * Most records are converted straight from their JSON text to COPY text
 * (fast_record), without building Jansson values: half of mig-load's
 * time was parsing, checking and freeing them.  Anything that text path
 * does not know for certain (escaped keys, wrappers other than a $date
 * or $numberDecimal field, numbers beyond int64 or double, a NUL, ...)
 * goes the way it always went: parsed, checked, converted by to_text. */

#define ST_WORDS 4                 /* streams for tables of up to 256 columns */
#define ST_CHUNK ((size_t)32 * 1024)
#define FJ_MAX_DEPTH 64
#define FJ_MAX_KEYS 32

static inline const char *fs_ws(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
		p++;
	return p;
}

/* After a member or element that ended before *pp (NULL: it failed):
 * copies a ',' (returns 1, *pp at the next one) or the closing bracket
 * (returns 0, *pp past it) to out; -1 for anything else. */
static int fs_next(const char **pp, const char *end, char close, struct mig_buf *out)
{
	const char *p = *pp;

	if (!p)
		return -1;
	p = fs_ws(p, end);
	if (p < end && (*p == ',' || *p == close)) {
		if (mig_buf_putc(out, *p))
			return -1;
		*pp = *p == ',' ? fs_ws(p + 1, end) : p + 1;
		return *p == ',';
	}
	return -1;
}

/* The JSON string at p (its opening quote), decoded and appended to out.
 * Returns the end of the string (past the closing quote), or NULL when it
 * is not a string JSON allows, or holds a NUL, or memory ran out.
 * *escaped says whether it had escapes (else the text is the value). */
static const char *fs_string(const char *p, const char *end, struct mig_buf *out, int *escaped)
{
	const unsigned char *q = (const unsigned char *)p + 1, *e = (const unsigned char *)end;
	const unsigned char *run = q;

	*escaped = 0;
	for (;;) {
		while (q < e && *q >= 0x20 && *q != '"' && *q != '\\' && *q < 0x80)
			q++;
		if (q == e || *q < 0x20)
			return NULL;
		if (*q == '"')
			break;
		if (*q >= 0x80) {
			size_t k = mig_utf8_len(q, e);
			if (!k)
				return NULL;
			q += k;
			continue;
		}
		/* a backslash */
		if (mig_buf_append(out, run, (size_t)(q - run)) || q + 1 >= e)
			return NULL;
		*escaped = 1;
		char c = (char)q[1], ch;
		q += 2;
		switch (c) {
		case '"': ch = '"'; break;
		case '\\': ch = '\\'; break;
		case '/': ch = '/'; break;
		case 'b': ch = '\b'; break;
		case 'f': ch = '\f'; break;
		case 'n': ch = '\n'; break;
		case 'r': ch = '\r'; break;
		case 't': ch = '\t'; break;
		case 'u': {
			unsigned cp, lo;
			char u[4];
			size_t n;
			if (e - q < 4 || hex4((const char *)q, &cp) || cp == 0)
				return NULL;
			q += 4;
			if (cp >= 0xDC00 && cp <= 0xDFFF)
				return NULL;
			if (cp >= 0xD800 && cp <= 0xDBFF) {
				if (e - q < 6 || q[0] != '\\' || q[1] != 'u' ||
				    hex4((const char *)q + 2, &lo) || lo < 0xDC00 || lo > 0xDFFF)
					return NULL;
				q += 6;
				cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
			}
			n = (size_t)(put_utf8(u, cp) - u);
			if (mig_buf_append(out, u, n))
				return NULL;
			run = q;
			continue;
		}
		default:
			return NULL;
		}
		if (mig_buf_putc(out, ch))
			return NULL;
		run = q;
	}
	if (mig_buf_append(out, run, (size_t)(q - run)))
		return NULL;
	return (const char *)q + 1;
}

/* A JSON number at p: its end, and whether it is an integer (*iv) or a
 * double (*dv) as stream.c's parser makes them; NULL when it is not a
 * number, or is one that parser keeps as a $numberDecimal. */
static const char *fs_number(const char *p, const char *end, int *is_int, int64_t *iv,
			     double *dv, int *range)
{
	const char *s = p;
	int frac = 0;

	*range = 0;
	if (p < end && *p == '-')
		p++;
	if (p < end && *p == '0')
		p++;
	else if (p < end && *p >= '1' && *p <= '9')
		while (p < end && *p >= '0' && *p <= '9')
			p++;
	else
		return NULL;
	if (p < end && *p == '.') {
		frac = 1;
		if (++p == end || *p < '0' || *p > '9')
			return NULL;
		while (p < end && *p >= '0' && *p <= '9')
			p++;
	}
	if (p < end && (*p == 'e' || *p == 'E')) {
		frac = 1;
		p++;
		if (p < end && (*p == '+' || *p == '-'))
			p++;
		if (p == end || *p < '0' || *p > '9')
			return NULL;
		while (p < end && *p >= '0' && *p <= '9')
			p++;
	}
	*is_int = !frac;
	if (!frac) {
		const char *q = s + (*s == '-');
		uint64_t v = 0, lim = *s == '-' ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
		for (; q < p; q++) {
			unsigned d = (unsigned)(*q - '0');
			if (v > (lim - d) / 10)
				return NULL;
			v = v * 10 + d;
		}
		*iv = *s == '-' ? (int64_t)(0 - v) : (int64_t)v;
		return p;
	}
	char buf[64];
	size_t n = (size_t)(p - s);
	if (n >= sizeof buf)
		return NULL;
	memcpy(buf, s, n);
	buf[n] = '\0';
	errno = 0;
	*dv = strtod(buf, NULL);
	if (errno == ERANGE)
		*range = 1;   /* stream.c's rules differ at the edges: the slow way */
	return *range ? NULL : p;
}

/* The canonical number wrapper {"$numberInt"|"$numberLong"|"$numberDouble":
 * "..."} at p (its '{'): *kind 'i', 'l' or 'd' and the string (no escapes
 * in it); returns the end past its '}', or NULL for anything else. */
static const char *fs_wrapper(const char *p, const char *end, char *kind, const char **v,
			      size_t *vn)
{
	const char *k, *q;

	p = fs_ws(p + 1, end);
	if (p >= end || *p != '"')
		return NULL;
	k = p + 1;
	if (end - k >= 11 && memcmp(k, "$numberInt\"", 11) == 0)
		*kind = 'i', p = k + 11;
	else if (end - k >= 12 && memcmp(k, "$numberLong\"", 12) == 0)
		*kind = 'l', p = k + 12;
	else if (end - k >= 14 && memcmp(k, "$numberDouble\"", 14) == 0)
		*kind = 'd', p = k + 14;
	else
		return NULL;
	p = fs_ws(p, end);
	if (p >= end || *p != ':')
		return NULL;
	p = fs_ws(p + 1, end);
	if (p >= end || *p != '"')
		return NULL;
	*v = q = p + 1;
	while (q < end && ((*q >= '0' && *q <= '9') || (*q >= 'a' && *q <= 'z') ||
			   (*q >= 'A' && *q <= 'Z') || *q == '.' || *q == '+' || *q == '-'))
		q++;
	if (q >= end || *q != '"')
		return NULL;
	*vn = (size_t)(q - *v);
	p = fs_ws(q + 1, end);
	return p < end && *p == '}' ? p + 1 : NULL;
}

/* A canonical number wrapper's value (kind and string as fs_wrapper gives
 * them), appended to out as put_json (json) or to_text writes the value
 * the parser makes of it.  -1: the slow way (which also rejects what is
 * out of range: a $numberInt beyond int32, say). */
static int fs_wrapped(const struct pg_type *t, int json, char kind, const char *v, size_t vn,
		      struct mig_buf *out)
{
	char num[64];
	int is_int, range;
	int64_t iv;
	double dv;

	if (kind == 'd' && !json) {
		/* what parse_double takes for these, and put_double writes */
		if (vn == 3 && memcmp(v, "NaN", 3) == 0)
			return put_double(out, t, NAN) ? -1 : 0;
		if (vn == 8 && memcmp(v, "Infinity", 8) == 0)
			return put_double(out, t, INFINITY) ? -1 : 0;
		if (vn == 9 && memcmp(v, "-Infinity", 9) == 0)
			return put_double(out, t, -INFINITY) ? -1 : 0;
	}
	if (!vn || fs_number(v, v + vn, &is_int, &iv, &dv, &range) != v + vn)
		return -1;
	if (kind != 'd') {
		if (!is_int || (kind == 'i' && (iv < INT32_MIN || iv > INT32_MAX)))
			return -1;
		return mig_buf_append(out, num, (size_t)fmt_i64(num, iv)) ? -1 : 0;
	}
	/* "7" as a double: rare, and put_double's business */
	if (is_int)
		return -1;
	if (json)
		return mig_buf_append(out, num, (size_t)fmt_json_double(num, dv)) ? -1 : 0;
	/* as for a relaxed double (fs_field) */
	if (t->oid == OID_FLOAT8)
		return mig_buf_append(out, v, vn) ? -1 : 0;
	return put_double(out, t, dv) ? -1 : 0;
}

/* The JSON value at p re-written to out as put_json writes the value
 * stream.c's parser makes of it: compact, strings escaped by json_str,
 * integers in decimal, doubles shortest.  NULL for what put_json or the
 * record check treat specially (keys starting with '$', duplicate keys,
 * NUL characters) and for anything invalid. */
static const char *fs_json(struct pg_store *S, const char *p, const char *end, int depth,
			   struct mig_buf *out)
{
	char num[40];

	if (p >= end || depth > FJ_MAX_DEPTH)
		return NULL;
	switch (*p) {
	case '{': {
		const char *ks[FJ_MAX_KEYS], *v, *e;
		size_t kl[FJ_MAX_KEYS], nk = 0, vn;
		char kind;
		/* a canonical number wrapper is the number put_json writes */
		if ((e = fs_wrapper(p, end, &kind, &v, &vn)) != NULL)
			return fs_wrapped(NULL, 1, kind, v, vn, out) ? NULL : e;
		p = fs_ws(p + 1, end);
		if (mig_buf_putc(out, '{'))
			return NULL;
		if (p < end && *p == '}')
			return mig_buf_putc(out, '}') ? NULL : p + 1;
		for (;;) {
			const char *k = p + 1, *ke;
			int esc;
			size_t start = out->len;
			if (p >= end || *p != '"' || nk == FJ_MAX_KEYS)
				return NULL;
			if (!(ke = fs_string(p, end, out, &esc)) || esc || k[0] == '$')
				return NULL;
			out->len = start;
			for (size_t i = 0; i < nk; i++)
				if (kl[i] == (size_t)(ke - 1 - k) && memcmp(ks[i], k, kl[i]) == 0)
					return NULL;
			ks[nk] = k;
			kl[nk++] = (size_t)(ke - 1 - k);
			if (mig_buf_append(out, p, (size_t)(ke - p)))
				return NULL;
			p = fs_ws(ke, end);
			if (p >= end || *p != ':' || mig_buf_putc(out, ':'))
				return NULL;
			p = fs_json(S, fs_ws(p + 1, end), end, depth + 1, out);
			switch (fs_next(&p, end, '}', out)) {
			case 1: continue;
			case 0: return p;
			default: return NULL;
			}
		}
	}
	case '[':
		p = fs_ws(p + 1, end);
		if (mig_buf_putc(out, '['))
			return NULL;
		if (p < end && *p == ']')
			return mig_buf_putc(out, ']') ? NULL : p + 1;
		for (;;) {
			p = fs_json(S, p, end, depth + 1, out);
			switch (fs_next(&p, end, ']', out)) {
			case 1: continue;
			case 0: return p;
			default: return NULL;
			}
		}
	case '"': {
		const char *e;
		int esc;
		mig_buf_reset(&S->tmp);
		if (!(e = fs_string(p, end, &S->tmp, &esc)))
			return NULL;
		if (!esc)   /* json_str would write the same */
			return mig_buf_append(out, p, (size_t)(e - p)) ? NULL : e;
		return json_str(out, S->tmp.data, S->tmp.len) ? NULL : e;
	}
	case 't':
		if (end - p >= 4 && memcmp(p, "true", 4) == 0)
			return mig_buf_append(out, p, 4) ? NULL : p + 4;
		return NULL;
	case 'f':
		if (end - p >= 5 && memcmp(p, "false", 5) == 0)
			return mig_buf_append(out, p, 5) ? NULL : p + 5;
		return NULL;
	case 'n':
		if (end - p >= 4 && memcmp(p, "null", 4) == 0)
			return mig_buf_append(out, p, 4) ? NULL : p + 4;
		return NULL;
	default: {
		int is_int, range;
		int64_t iv;
		double dv;
		const char *e = fs_number(p, end, &is_int, &iv, &dv, &range);
		if (!e)
			return NULL;
		if (is_int)
			return mig_buf_append(out, num, (size_t)fmt_i64(num, iv)) ? NULL : e;
		return mig_buf_append(out, num, (size_t)fmt_json_double(num, dv)) ? NULL : e;
	}
	}
}

/* A decimal string that the record check takes for a $numberDecimal and
 * the server for a numeric: -?digits[.digits]. */
static int fs_decimal_ok(const char *s, size_t n)
{
	size_t i = s[0] == '-', d = 0;

	while (i < n && s[i] >= '0' && s[i] <= '9')
		i++, d++;
	if (!d)
		return 0;
	if (i < n && s[i] == '.') {
		if (++i == n)
			return 0;
		while (i < n && s[i] >= '0' && s[i] <= '9')
			i++;
	}
	return i == n;
}

/* One field's value at p, for column type t, appended to out as to_text
 * writes it (not yet COPY-escaped).  NULL: the slow way. */
static const char *fs_field(struct pg_store *S, const struct pg_type *t, const char *p,
			    const char *end, struct mig_buf *out)
{
	int json = t->kind == K_JSON || t->kind == K_JSONB;
	char num[64];

	if (p >= end)
		return NULL;
	switch (*p) {
	case '{': {
		const char *k, *v, *e;
		size_t kn, vn;
		int esc;
		if (json) {
			/* an object whose first key starts with '$' may be a wrapper */
			const char *q = fs_ws(p + 1, end);
			if (q < end && *q == '"' && q + 1 < end && q[1] == '$')
				return NULL;
			return fs_json(S, p, end, 0, out);
		}
		/* the canonical number wrappers, as restore reads them */
		{
			char kind;
			if ((e = fs_wrapper(p, end, &kind, &v, &vn)) != NULL)
				return fs_wrapped(t, 0, kind, v, vn, out) ? NULL : e;
		}
		/* {"$date": "..."}, {"$date": {"$numberLong": "..."}} and
		 * {"$numberDecimal": "..."}, exactly */
		p = fs_ws(p + 1, end);
		k = p + 1;
		if (p >= end || *p != '"' || !(p = memchr(k, '"', (size_t)(end - k))))
			return NULL;
		kn = (size_t)(p - k);
		p = fs_ws(p + 1, end);
		if (p >= end || *p != ':')
			return NULL;
		p = fs_ws(p + 1, end);
		v = p + 1;
		if (p < end && *p == '{' && kn == 5 && memcmp(k, "$date", 5) == 0 &&
		    (t->kind == K_TSTZ || t->kind == K_TS || t->kind == K_DATE)) {
			/* milliseconds since 1970, in the range value.c takes */
			char kind;
			int is_int, range;
			int64_t ms;
			double dv;
			if (!(e = fs_wrapper(p, end, &kind, &v, &vn)) || kind != 'l' || !vn ||
			    fs_number(v, v + vn, &is_int, &ms, &dv, &range) != v + vn || !is_int ||
			    ms < INT64_MIN / 1000 || ms > INT64_MAX / 1000)
				return NULL;
			p = fs_ws(e, end);
			if (p >= end || *p != '}')
				return NULL;
			return mig_buf_append(out, num, (size_t)fmt_pg_ts(num, ms * 1000,
									t->kind == K_TSTZ))
			       ? NULL : p + 1;
		}
		if (p >= end || *p != '"')
			return NULL;
		mig_buf_reset(&S->tmp);
		if (!(e = fs_string(p, end, &S->tmp, &esc)) || esc)
			return NULL;
		vn = (size_t)(e - 1 - v);
		p = fs_ws(e, end);
		if (p >= end || *p != '}')
			return NULL;
		if (kn == 5 && memcmp(k, "$date", 5) == 0 &&
		    (t->kind == K_TSTZ || t->kind == K_TS || t->kind == K_DATE)) {
			int64_t us;
			if (mig_date_parse(v, vn, &us, NULL))
				return NULL;
			return mig_buf_append(out, num, (size_t)fmt_pg_ts(num, us, t->kind == K_TSTZ))
			       ? NULL : p + 1;
		}
		if (kn == 14 && memcmp(k, "$numberDecimal", 14) == 0 && fs_decimal_ok(v, vn))
			return mig_buf_append(out, v, vn) ? NULL : p + 1;
		return NULL;
	}
	case '[':
		return json ? fs_json(S, p, end, 0, out) : NULL;
	case '"': {
		const char *e;
		int esc;
		if (json)
			return fs_json(S, p, end, 0, out);
		e = fs_string(p, end, out, &esc);
		return e;
	}
	case 't':
	case 'f':
	case 'n':
		return fs_json(S, p, end, 0, out);
	default: {
		int is_int, range;
		int64_t iv;
		double dv;
		const char *e = fs_number(p, end, &is_int, &iv, &dv, &range);
		if (!e)
			return NULL;
		if (is_int)
			return mig_buf_append(out, num, (size_t)fmt_i64(num, iv)) ? NULL : e;
		if (json)
			return mig_buf_append(out, num, (size_t)fmt_double(num, dv)) ? NULL : e;
		/* double precision reads the text to the same double that
		 * strtod made of it: the text as it is, without printing it */
		if (t->oid == OID_FLOAT8)
			return mig_buf_append(out, p, (size_t)(e - p)) ? NULL : e;
		return put_double(out, t, dv) ? NULL : e;
	}
	}
}

/* The record line [p, end) as a COPY line of its columns in table order,
 * appended to S->data, and the set of its columns in sig.  Returns 1, or
 * 0 when the record must go the slow way (S->data is then as it was). */
static int fast_record(struct pg_store *S, const char *p, const char *end, uint64_t *sig)
{
	struct mig_buf *f = &S->fbuf;
	size_t start = S->data.len, nf = 0;
	int first = 1;

	memset(sig, 0, ST_WORDS * sizeof *sig);
	mig_buf_reset(f);
	p = fs_ws(p, end);
	if (p >= end || *p != '{')
		return 0;
	p = fs_ws(p + 1, end);
	for (;;) {
		const char *k = p + 1, *ke;
		size_t kn, c, s0;
		if (p >= end || *p != '"')
			return 0;
		for (ke = k; ke < end && *ke != '"'; ke++)
			if (*ke == '\\' || (unsigned char)*ke < 0x20 || (unsigned char)*ke >= 0x80)
				return 0;
		if (ke == end || k[0] == '$')
			return 0;
		kn = (size_t)(ke - k);
		c = nf < S->ncols ? S->hint[nf] : NO_COLUMN;
		if (c >= S->ncols || strncmp(S->cols[c].name, k, kn) || S->cols[c].name[kn]) {
			json_t *ix = json_object_getn(S->colidx, k, kn);
			if (!ix)
				return 0;
			c = (size_t)json_integer_value(ix);
			if (nf < S->ncols)
				S->hint[nf] = c;
		}
		nf++;
		if (S->cols[c].generated || sig[c / 64] >> (c % 64) & 1)
			return 0;
		sig[c / 64] |= (uint64_t)1 << (c % 64);
		p = fs_ws(ke + 1, end);
		if (p >= end || *p != ':')
			return 0;
		p = fs_ws(p + 1, end);
		s0 = f->len;
		S->fpos[c] = s0;
		if (p < end && *p == 'n') {
			if (end - p < 4 || memcmp(p, "null", 4) || mig_buf_append(f, "\\N", 2))
				return 0;
			p += 4;
		} else {
			if (!(p = fs_field(S, S->cols[c].t, p, end, f)) || copy_escape_tail(f, s0))
				return 0;
		}
		S->flen[c] = f->len - s0;
		p = fs_ws(p, end);
		if (p < end && *p == ',') {
			p = fs_ws(p + 1, end);
			continue;
		}
		if (p < end && *p == '}')
			break;
		return 0;
	}
	if (fs_ws(p + 1, end) != end)
		return 0;
	for (size_t c = 0; c < S->ncols; c++) {
		if (!(sig[c / 64] >> (c % 64) & 1))
			continue;
		if ((!first && mig_buf_putc(&S->data, '\t')) ||
		    mig_buf_append(&S->data, f->data + S->fpos[c], S->flen[c])) {
			S->data.len = start;
			return 0;
		}
		first = 0;
	}
	if (mig_buf_putc(&S->data, '\n')) {
		S->data.len = start;
		return 0;
	}
	return 1;
}

/* The columns a parsed record writes, as batch_once groups it; 0 when it
 * names a column the table lacks. */
static int rec_sig(struct pg_store *S, const json_t *rec, uint64_t *sig)
{
	const char *key;
	json_t *v;
	size_t f = 0;

	memset(sig, 0, ST_WORDS * sizeof *sig);
	object_each(rec, mit, key, v) {
		size_t c = field_col(S, f++, key);
		(void)v;
		if (c == NO_COLUMN)
			return 0;
		if (!S->cols[c].generated)
			sig[c / 64] |= (uint64_t)1 << (c % 64);
	}
	return 1;
}

/* Undoes what a stream began: its batch transaction, or in the load's one
 * transaction its savepoint (when the SAVEPOINT itself failed, the
 * transaction is lost either way, and the next statement says so). */
static void stream_undo(struct pg_store *S)
{
	struct mig_error ignored;

	if (!S->outer)
		S->in_tx = 0;
	if (conn_lost(S))
		return;
	if (S->outer) {
		exec_cmd(S, "ROLLBACK TO SAVEPOINT mig; RELEASE SAVEPOINT mig", &ignored,
			 "rolling back to the savepoint");
		return;
	}
	exec_cmd(S, "ROLLBACK", &ignored, "rolling back");
}

/* Ends the stream's COPY and decides its records: inserted, or, when the
 * server refused a row, bisected as run_group does. */
static int stream_finish(struct pg_store *S, struct mig_batch *b, struct mig_error *err)
{
	struct pg_group G = { .b = b, .m = S->st_m, .item = S->st_item, .off = S->st_off,
			      .copy_sql = S->st_copy.data };
	PGresult *r, *fail = NULL;
	int rc;

	S->st_on = 0;
	if (S->st_broken) {   /* a send failed while the batch was read */
		rc = pg_fail(S, NULL, err, "sending COPY data");
		while ((r = PQgetResult(S->conn)) != NULL)
			PQclear(r);
		return rc;
	}
	rc = copy_close(S, &G, S->data.data + S->st_sent, S->data.len - S->st_sent, 0, G.m, &fail,
			err);
	if (rc)
		return rc;
	if (!fail) {
		S->tx_clean = 0;
		return S->outer ? exec_cmd(S, "RELEASE SAVEPOINT mig", err,
					   "releasing the savepoint") : 0;
	}
	/* as attempt() does for the first thing in a transaction (in the
	 * load's one transaction, for what follows a savepoint) */
	snprintf(S->last_state, sizeof S->last_state, "%s",
		 PQresultErrorField(fail, PG_DIAG_SQLSTATE));
	if (S->outer)
		rc = exec_cmd(S, "ROLLBACK TO SAVEPOINT mig; RELEASE SAVEPOINT mig", err,
			      "rolling back to the savepoint");
	else if (!(rc = exec_cmd(S, "ROLLBACK", err, "rolling back the batch")))
		rc = begin_batch_tx(S, err);
	if (rc) {
		PQclear(fail);
		return rc;
	}
	return bisect_from(S, &G, attempt_copy, 0, G.m, fail, err);
}

/* Gives up the stream: its records go the slow way (parsed now). */
static void stream_drop(struct pg_store *S, struct mig_batch *b)
{
	if (S->st_on) {
		copy_abort(S, "mig-load: the batch is written another way");
		stream_undo(S);
		S->st_on = 0;
	}
	for (size_t i = 0; b && i < b->n; i++) {
		struct mig_batch_item *it = &b->items[i];
		struct mig_error perr;
		if (it->rec || !it->raw || it->status != MIG_ITEM_PENDING)
			continue;
		struct mig_line ln = { .data = it->raw, .len = it->rawlen, .lineno = it->line };
		if (mig_record_parse(&it->rec, &ln, "input", &perr) ||
		    mig_value_check(it->rec, &perr))
			mig_batch_reject(it, NULL, "%s", perr.msg);   /* not seen: fast_record is stricter */
	}
}

/* Starts the stream of the batch's first group (the columns in sig). */
static int stream_start(struct pg_store *S, const uint64_t *sig)
{
	struct pg_group G = { 0 };
	size_t nc = 0;
	int copy_in = 0;
	PGresult *r;

	for (size_t c = 0; c < S->ncols; c++)
		if (sig[c / 64] >> (c % 64) & 1)
			S->st_cols[nc++] = c;
	if (!nc)
		return 0;
	memcpy(S->st_sig, sig, sizeof S->st_sig);
	mig_buf_reset(&S->st_copy);
	mig_buf_reset(&S->tmp);
	if (group_sql(S, &G, S->st_cols, nc, &S->st_copy, &S->tmp))
		return MIG_ENOMEM;
	/* begin_batch_tx (in the load's one transaction, a savepoint) and the
	 * COPY in one round trip: the server runs the statements of a simple
	 * query in turn and stops at the COPY; after a failure it skips the
	 * rest, and write_batch, which does not stream, will meet the failure
	 * again and say it */
	mig_buf_reset(&S->tmp);
	if (mig_buf_puts(&S->tmp, S->outer ? "SAVEPOINT mig; "
				  : "BEGIN; SET CONSTRAINTS ALL IMMEDIATE; "
				    "SELECT pg_catalog.txid_current(); ") ||
	    mig_buf_append(&S->tmp, S->st_copy.data, S->st_copy.len))
		return MIG_ENOMEM;
	S->in_tx = 1;   /* from BEGIN on, whatever the rest does */
	S->tx_clean = 0;
	if (!PQsendQuery(S->conn, S->tmp.data)) {
		stream_undo(S);
		return 0;
	}
	S->xid[0] = '\0';
	while ((r = PQgetResult(S->conn)) != NULL) {
		ExecStatusType es = PQresultStatus(r);
		if (es == PGRES_TUPLES_OK && PQntuples(r) == 1 && PQnfields(r) == 1)
			snprintf(S->xid, sizeof S->xid, "%s", PQgetvalue(r, 0, 0));
		PQclear(r);
		if (es == PGRES_COPY_IN) {
			copy_in = 1;
			break;
		}
		if (es != PGRES_COMMAND_OK && es != PGRES_TUPLES_OK) {
			while ((r = PQgetResult(S->conn)) != NULL)
				PQclear(r);
			break;
		}
	}
	if (!copy_in || (!S->outer && !S->xid[0])) {
		/* no COPY (a failure), or one without the transaction's id to
		 * ask about after a lost connection (which cannot be) */
		if (copy_in) {
			PQputCopyEnd(S->conn, "no transaction id");
			while ((r = PQgetResult(S->conn)) != NULL)
				PQclear(r);
		}
		stream_undo(S);
		return 0;
	}
	S->tx_clean = !S->outer;
	S->st_nc = nc;
	S->st_on = 1;
	S->st_broken = 0;
	S->st_sent = 0;
	return 0;
}

static int pg_write_prepare(struct mig_store *st, struct mig_batch *b, size_t i,
			    struct mig_error *err)
{
	struct pg_store *S = (struct pg_store *)st;
	struct mig_batch_item *it = &b->items[i];
	uint64_t sig[ST_WORDS];
	size_t start;
	int fast = 0, rc;

	if (i + 1 >= S->st_cap) {
		size_t cap = S->st_cap * 2 + 1024;
		size_t *a = realloc(S->st_item, cap * sizeof *a), *o;
		if (a)
			S->st_item = a;
		o = a ? realloc(S->st_off, (cap + 1) * sizeof *o) : NULL;
		if (!o)
			return mig_error_set(err, MIG_ENOMEM, "out of memory");
		S->st_off = o;
		S->st_cap = cap;
	}
	if (i == 0) {
		if (S->fcap < S->ncols) {
			size_t *a = realloc(S->fpos, S->ncols * sizeof *a), *l;
			if (a)
				S->fpos = a;
			l = a ? realloc(S->flen, S->ncols * sizeof *l) : NULL;
			if (l)
				S->flen = l;
			l = l ? realloc(S->st_cols, S->ncols * sizeof *l) : NULL;
			if (!l)
				return mig_error_set(err, MIG_ENOMEM, "out of memory");
			S->st_cols = l;
			S->fcap = S->ncols;
		}
		if (S->st_on)   /* a batch that was never written */
			stream_drop(S, NULL);
		mig_buf_reset(&S->data);
		S->st_m = 0;
		S->st_off[0] = 0;
		S->st_dead = !S->writing || S->staging || S->need_create || S->no_text ||
			     !S->ncols || S->ncols > 64 * ST_WORDS;
	}
	if (S->st_dead || (i > 0 && !S->st_on))
		return 0;
	start = S->data.len;
	if (!it->rec) {
		fast = fast_record(S, it->raw, it->raw + it->rawlen, sig);
		if (!fast)
			return 0;   /* parsed, then back here */
	} else if (!rec_sig(S, it->rec, sig)) {
		S->st_dead = i == 0;
		return 0;
	}
	if (i == 0) {
		if ((rc = stream_start(S, sig)) != 0) {
			S->data.len = start;
			return mig_error_set(err, rc, "out of memory");
		}
		if (!S->st_on) {
			S->data.len = start;
			S->st_dead = 1;
			return 0;
		}
	} else if (memcmp(sig, S->st_sig, sizeof sig)) {
		S->data.len = start;
		return 0;   /* another group: written at write_batch */
	}
	if (!fast) {
		rc = copy_line(S, it, S->st_cols, S->st_nc, NO_LINE);
		if (rc == MIG_EDATA)
			return 0;   /* rejected, and not sent */
		if (rc)
			return mig_error_set(err, rc, "out of memory");
	}
	S->st_item[S->st_m++] = i;
	S->st_off[S->st_m] = S->data.len;
	if (!S->st_broken && S->data.len - S->st_sent >= ST_CHUNK) {
		if (PQputCopyData(S->conn, S->data.data + S->st_sent,
				  (int)(S->data.len - S->st_sent)) != 1)
			S->st_broken = 1;   /* write_batch says why */
		S->st_sent = S->data.len;
	}
	return fast;
}

/* Converts, sends and, when needed, bisects the records of one group. */
static int run_group(struct pg_store *S, struct mig_batch *b, const size_t *items, size_t n,
		     const size_t *cols, size_t nc, struct mig_error *err)
{
	struct pg_group G = { .b = b, .in = items, .nin = n, .cols = cols, .nc = nc };
	struct mig_buf copy, ins;
	PGresult *fail = NULL;
	int rc = 0;

	mig_buf_init(&copy, 0);
	mig_buf_init(&ins, 0);
	G.item = malloc((n + 1) * sizeof *G.item);
	G.off = malloc((n + 1) * sizeof *G.off);
	G.staged = calloc(n + 1, 1);
	if (!G.item || !G.off || !G.staged || group_sql(S, &G, cols, nc, &copy, &ins)) {
		rc = nomem(err);
		goto out;
	}
	G.copy_sql = copy.data;
	G.ins_sql = ins.data;
	G.unmatched = S->wo.mode == MIG_MODE_UPDATE ? MIG_ITEM_REJECTED
		      : S->wo.mode == MIG_MODE_DELETE ? MIG_ITEM_NOT_FOUND
		      : S->conflict == MIG_CONFLICT_SKIP ? MIG_ITEM_SKIPPED : MIG_ITEM_INSERTED;
	G.matched = S->wo.mode == MIG_MODE_DELETE ? MIG_ITEM_DELETED : MIG_ITEM_UPDATED;
	if (S->staging) {
		if ((rc = ensure_stage(S, err)) != 0)
			goto out;
		mig_buf_reset(&S->sql);
		if (mig_buf_printf(&S->sql, "TRUNCATE %s", stage_name)) {
			rc = nomem(err);
			goto out;
		}
		if ((rc = exec_cmd(S, S->sql.data, err, "emptying the staging table")) != 0)
			goto out;
		S->tx_clean = 0;
		G.copy_into_stage = 1;
	}
	rc = attempt(S, &G, attempt_copy_convert, 0, n, &fail, err);
	if (!rc && fail)
		rc = bisect_from(S, &G, attempt_copy, 0, G.m, fail, err);
	if (!rc && S->staging && G.m)
		rc = bisect(S, &G, attempt_insert, 0, G.m, err);
out:
	free(G.item);
	free(G.off);
	free(G.staged);
	mig_buf_free(&copy);
	mig_buf_free(&ins);
	return rc;
}

/* Where a round must start: at each record whose key (its values' JSON)
 * was last seen in another group of the current round. */
static int key_rounds(struct pg_store *S, struct mig_batch *b, const size_t *gid,
		      size_t *bounds, size_t *nbounds, struct mig_error *err)
{
	json_t *seen = json_object(), *was;
	int rc = 0;

	if (!seen)
		return nomem(err);
	for (size_t i = 0; i < b->n && !rc; i++) {
		if (b->items[i].status != MIG_ITEM_PENDING)
			continue;
		mig_buf_reset(&S->tmp);
		for (size_t k = 0; !rc && k < S->nkeys; k++) {
			rc = mig_value_write(&S->tmp, json_object_get(b->items[i].rec,
								     S->cols[S->keycol[k]].name),
					     MIG_JSON_CANONICAL);
			rc = rc ? rc : mig_buf_putc(&S->tmp, '\x1f');
		}
		if (rc)
			break;
		was = json_object_get(seen, S->tmp.data);
		if (was && (size_t)json_integer_value(was) != gid[i]) {
			bounds[(*nbounds)++] = i;
			json_object_clear(seen);
		}
		if (json_object_set_new(seen, S->tmp.data, json_integer((json_int_t)gid[i])))
			rc = MIG_ENOMEM;
	}
	json_decref(seen);
	return rc ? nomem(err) : 0;
}

/* One try at a batch: its records sorted into groups by the fields they
 * hold, each group written, and (unless the load is one transaction) the
 * batch committed. */
static int batch_once(struct pg_store *S, struct mig_batch *b, struct mig_error *err)
{
	size_t words = (S->ncols + 63) / 64 + 1, ngroups = 0, *gid = NULL, *grep = NULL;
	size_t *items = NULL, *cols = NULL, *bounds = NULL, nbounds = 0;
	uint64_t *sig = NULL;
	int rc = 0, streamed = 0;

	S->commit_sent = 0;
	if (S->st_on) {
		/* the first group went out while the batch was read; the
		 * transaction is open */
		streamed = 1;
		if ((rc = stream_finish(S, b, err)) != 0)
			goto out;
	}
	sig = calloc(b->n * words + 1, sizeof *sig);
	gid = calloc(b->n + 1, sizeof *gid);
	grep = calloc(b->n + 1, sizeof *grep);
	items = calloc(b->n + 1, sizeof *items);
	bounds = calloc(b->n + 2, sizeof *bounds);
	cols = calloc(S->ncols + 1, sizeof *cols);
	if (!sig || !gid || !grep || !items || !bounds || !cols) {
		rc = nomem(err);
		goto out;
	}
	for (size_t i = 0; i < b->n; i++) {
		struct mig_batch_item *it = &b->items[i];
		uint64_t *s = sig + i * words;
		const char *key;
		json_t *v;
		size_t g, f = 0;
		if (it->status != MIG_ITEM_PENDING)
			continue;
		object_each(it->rec, mit, key, v) {
			size_t c = field_col(S, f++, key);
			if (S->wo.mode == MIG_MODE_DELETE) {
				int k = 0;   /* the key names the row; the rest is ignored */
				for (size_t j = 0; c != NO_COLUMN && j < S->nkeys; j++)
					k |= S->keycol[j] == c;
				if (!k)
					continue;
			}
			if (c == NO_COLUMN) {
				mig_batch_reject(it, NULL, "field %s: %s has no such column", key,
						 S->shown);
				break;
			}
			if (S->cols[c].generated)
				continue;   /* computed by the server */
			s[c / 64] |= (uint64_t)1 << (c % 64);
		}
		if (it->status != MIG_ITEM_PENDING)
			continue;
		for (size_t k = 0; S->staging && k < S->nkeys; k++) {
			const char *kn = S->cols[S->keycol[k]].name;
			v = json_object_get(it->rec, kn);
			if (!v || json_is_null(v)) {
				mig_batch_reject(it, NULL, "key field %s is %s", kn, v ? "null" : "missing");
				break;
			}
		}
		if (it->status != MIG_ITEM_PENDING)
			continue;
		s[words - 1] = 1;   /* so that an empty record is not all zero */
		for (g = 0; g < ngroups; g++)
			if (memcmp(sig + grep[g] * words, s, words * sizeof *s) == 0)
				break;
		if (g == ngroups)
			grep[ngroups++] = i;
		gid[i] = g;
	}
	/* Groups are written one after the other, so a key that comes back in
	 * another group must wait for what came before it: updating by key, the
	 * batch is cut into rounds at such a record, each round written whole
	 * before the next.  Within a group, order is kept. */
	bounds[nbounds++] = 0;
	if (S->staging && ngroups > 1 && (rc = key_rounds(S, b, gid, bounds, &nbounds, err)) != 0)
		goto out;
	bounds[nbounds] = b->n;
	if (!S->outer && !streamed && (rc = begin_batch_tx(S, err)) != 0)
		goto out;
	for (size_t r = 0; r < nbounds; r++) {
		for (size_t g = 0; g < ngroups; g++) {
			const uint64_t *s = sig + grep[g] * words;
			size_t n = 0, nc = 0;
			for (size_t i = bounds[r]; i < bounds[r + 1]; i++)
				if (b->items[i].status == MIG_ITEM_PENDING && gid[i] == g)
					items[n++] = i;
			if (!n)
				continue;
			for (size_t c = 0; c < S->ncols; c++)
				if (s[c / 64] >> (c % 64) & 1)
					cols[nc++] = c;
			if (!nc) {
				for (size_t k = 0; k < n; k++)
					mig_batch_reject(&b->items[items[k]], NULL, "the record has no "
							 "field to write");
				continue;
			}
			rc = run_group(S, b, items, n, cols, nc, err);
			if (rc)
				goto out;
		}
	}
	if (!S->outer) {
		PGresult *r;
		S->commit_sent = 1;
		r = PQexec(S->conn, "COMMIT");
		if (!r || PQresultStatus(r) != PGRES_COMMAND_OK) {
			if (!conn_lost(S))
				S->commit_sent = 0;   /* an answer: not committed */
			rc = pg_fail(S, r, err, "COMMIT");
		} else if (strcmp(PQcmdStatus(r), "COMMIT")) {
			S->commit_sent = 0;
			rc = mig_error_set(err, MIG_EIO, "%s: COMMIT: the batch was rolled back",
					   S->base.loc->redacted);
		} else {
			S->commit_sent = 0;
			S->in_tx = 0;
		}
		PQclear(r);
	}
out:
	if (rc && !S->outer && S->in_tx && !conn_lost(S)) {
		struct mig_error ignored;
		exec_cmd(S, "ROLLBACK", &ignored, "rolling back the batch");
		S->in_tx = 0;
		S->staging_ready = 0;   /* it may have been created by this batch */
	}
	free(sig);
	free(gid);
	free(grep);
	free(items);
	free(bounds);
	free(cols);
	return rc;
}

static int reconnect(struct pg_store *S, struct mig_error *err)
{
	PQfinish(S->conn);
	S->conn = NULL;
	S->in_tx = 0;
	S->staging_ready = 0;
	return connect_db(S, err);
}

/* After a lost COMMIT: whether the batch's transaction committed. */
static int commit_state(struct pg_store *S, int *committed, struct mig_error *err)
{
	const char *p[1] = { S->xid };
	PGresult *r;
	int rc;

	for (int tries = 0; tries < 50; tries++) {
		rc = query(S, &r, "SELECT pg_catalog.txid_status($1::int8)", 1, p, err,
			   "asking whether the batch committed");
		if (rc)
			return rc;
		if (strcmp(PQgetvalue(r, 0, 0), "in progress")) {
			*committed = strcmp(PQgetvalue(r, 0, 0), "committed") == 0;
			PQclear(r);
			return 0;
		}
		PQclear(r);
		sleep_ms(100);
	}
	return mig_error_set(err, MIG_EIO, "%s: the batch's transaction %s is still in progress "
			     "after the connection was lost", S->base.loc->redacted, S->xid);
}

static int pg_write_batch(struct mig_store *st, struct mig_batch *b, struct mig_error *err)
{
	struct pg_store *S = (struct pg_store *)st;
	enum mig_item_status *init = NULL;
	int rc = 0, tries = 0;

	if (S->need_create && (rc = create_inferred(S, b, err)) != 0)
		return rc;
	if (S->wo.create && !S->wo.schema_path && (rc = add_columns(S, b, err)) != 0)
		return rc;
	init = malloc((b->n + 1) * sizeof *init);
	if (!init)
		return nomem(err);
	for (size_t i = 0; i < b->n; i++)
		init[i] = b->items[i].status;
	for (;;) {
		int lost, committed = 0;
		rc = batch_once(S, b, err);
		if (!rc)
			break;
		lost = conn_lost(S);
		/* retry what can be: a lost connection, a deadlock or a
		 * serialization failure, when the batch was its own transaction */
		if (S->outer || (!lost && strncmp(S->last_state, "40", 2)) || mig_interrupted)
			break;
		for (;;) {
			struct mig_error rerr;
			if (tries >= S->wo.retries)
				goto out;
			sleep_ms(100L << (tries < 7 ? tries : 7));
			tries++;
			mig_debug("%s: retry %d of %d", S->base.loc->redacted, tries, S->wo.retries);
			if (!lost || reconnect(S, &rerr) == 0)
				break;
		}
		if (S->commit_sent) {
			rc = commit_state(S, &committed, err);
			if (rc)
				break;
			if (committed) {
				S->commit_sent = 0;
				break;
			}
		}
		for (size_t i = 0; i < b->n; i++) {
			struct mig_batch_item *it = &b->items[i];
			if (init[i] != MIG_ITEM_PENDING)
				continue;
			free(it->error);
			free(it->code);
			it->error = it->code = NULL;
			it->status = MIG_ITEM_PENDING;
		}
		stream_drop(S, b);   /* the retry goes the usual way */
	}
out:
	if (rc && conn_lost(S)) {
		char why[MIG_ERROR_MAX];
		snprintf(why, sizeof why, "%s", err->msg);
		if (S->outer)
			mig_error_set(err, MIG_EIO, "%s; nothing was committed (one transaction)", why);
		else
			mig_error_set(err, MIG_EIO, "%s; %llu records committed before this batch, "
				      "which was not (%d retries)", why,
				      (unsigned long long)S->committed, tries);
		rc = MIG_EIO;
	}
	if (!rc && !S->outer)
		for (size_t i = 0; i < b->n; i++)
			if (b->items[i].status != MIG_ITEM_REJECTED && init[i] == MIG_ITEM_PENDING)
				S->committed++;
	free(init);
	return rc;
}

/* After a load that wrote explicit values into serial or identity columns,
 * their sequences would hand out those values again: move each past the
 * column's maximum, as pg_restore does. */
static void sync_sequences(struct pg_store *S)
{
	static const char sql[] =
		"SELECT attname, pg_catalog.pg_get_serial_sequence($1, attname) "
		"FROM pg_catalog.pg_attribute WHERE attrelid = $1::regclass AND attnum > 0 "
		"AND NOT attisdropped AND pg_catalog.pg_get_serial_sequence($1, attname) IS NOT NULL";
	const char *p[1] = { S->qtable };
	struct mig_error e;
	PGresult *r = NULL, *s = NULL;

	if (query(S, &r, sql, 1, p, &e, "looking for sequences"))
		goto out;
	for (int i = 0; i < PQntuples(r); i++) {
		const char *sp[1] = { PQgetvalue(r, i, 1) };
		mig_buf_reset(&S->sql);
		if (mig_buf_puts(&S->sql, "SELECT pg_catalog.setval($1::regclass, m) FROM (SELECT max(") ||
		    put_ident(S, &S->sql, PQgetvalue(r, i, 0)) ||
		    mig_buf_printf(&S->sql, ")::int8 AS m FROM %s) x WHERE m > COALESCE("
				   "pg_catalog.pg_sequence_last_value($1::regclass), 0)", S->qtable))
			goto out;
		if (query(S, &s, S->sql.data, 1, sp, &e, "moving a sequence"))
			mig_warn("%s", e.msg);
		PQclear(s);
		s = NULL;
	}
out:
	PQclear(r);
}

static int pg_write_end(struct mig_store *st, int commit, struct mig_error *err)
{
	struct pg_store *S = (struct pg_store *)st;
	int rc = 0;

	if (!S->writing)
		return 0;
	if (S->st_on)   /* a batch that was not written */
		stream_drop(S, NULL);
	S->writing = 0;
	if (conn_lost(S))
		return 0;
	/* inside the load's transaction when there is one */
	if (S->outer && S->in_tx && commit && !S->wo.dry_run && S->post_ddl &&
	    (rc = run_post_ddl(S, err)) != 0)
		commit = 0;
	if (S->outer && S->in_tx) {
		if (commit && !S->wo.dry_run) {
			PGresult *r = PQexec(S->conn, "COMMIT");
			if (!r || PQresultStatus(r) != PGRES_COMMAND_OK)
				rc = pg_fail(S, r, err, "COMMIT");
			else if (strcmp(PQcmdStatus(r), "COMMIT"))
				rc = mig_error_set(err, MIG_EIO, "%s: COMMIT: the transaction was "
						   "rolled back", S->base.loc->redacted);
			PQclear(r);
		} else {
			struct mig_error ignored;
			exec_cmd(S, "ROLLBACK", &ignored, "rolling back");
		}
		S->in_tx = 0;
	}
	if (!rc && commit && !S->wo.dry_run && !S->need_create && S->qtable)
		sync_sequences(S);
	if (!rc && commit && !S->wo.dry_run && S->post_ddl)
		rc = run_post_ddl(S, err);
	return rc;
}

/* ------------------------------------------------------------------ describe */

/* The JSON Schema of one type, as mig-extract writes its values. */
static int type_schema(struct pg_store *S, struct pg_type *t, int typmod, json_t **out,
		       struct mig_error *err)
{
	json_t *s = json_object(), *sub = NULL;
	int rc = 0;

	*out = NULL;
	if (!s)
		return nomem(err);
	switch (t->kind) {
	case K_INT:
	case K_INT8:
		rc |= json_object_set_new(s, "type", json_string("integer"));
		if (t->oid == OID_INT2 || t->oid == OID_INT4) {
			json_int_t lim = t->oid == OID_INT2 ? 32768 : 2147483648LL;
			rc |= json_object_set_new(s, "minimum", json_integer(-lim));
			rc |= json_object_set_new(s, "maximum", json_integer(lim - 1));
		} else if (t->oid == OID_OID) {
			rc |= json_object_set_new(s, "minimum", json_integer(0));
			rc |= json_object_set_new(s, "maximum", json_integer(4294967295LL));
		}
		break;
	case K_FLOAT:
	case K_NUMERIC:
		rc |= json_object_set_new(s, "type", json_string("number"));
		break;
	case K_BOOL:
		rc |= json_object_set_new(s, "type", json_string("boolean"));
		break;
	case K_TSTZ:
	case K_TS:
		rc |= json_object_set_new(s, "type", json_string("string"));
		rc |= json_object_set_new(s, "format", json_string("date-time"));
		break;
	case K_DATE:
		rc |= json_object_set_new(s, "type", json_string("string"));
		rc |= json_object_set_new(s, "format", json_string("date"));
		break;
	case K_UUID:
		rc |= json_object_set_new(s, "type", json_string("string"));
		rc |= json_object_set_new(s, "format", json_string("uuid"));
		break;
	case K_BYTEA:
		rc |= json_object_set_new(s, "type", json_string("object"));
		rc |= json_object_set_new(s, "required", json_pack("[s]", "$binary"));
		break;
	case K_JSON:
	case K_JSONB:
		break;   /* any JSON value */
	case K_ARRAY:
		rc |= json_object_set_new(s, "type", json_string("array"));
		if (!(rc = type_schema(S, t->elem, -1, &sub, err)))
			rc = json_object_set_new(s, "items", sub);
		break;
	case K_COMPOSITE: {
		json_t *props = json_object();
		rc |= json_object_set_new(s, "type", json_string("object"));
		rc |= json_object_set_new(s, "properties", props);
		for (size_t i = 0; !rc && i < t->nattrs; i++)
			if (!(rc = type_schema(S, t->atttypes[i], -1, &sub, err)))
				rc = json_object_set_new(props, t->attnames[i], sub);
		break;
	}
	default:
		rc |= json_object_set_new(s, "type", json_string("string"));
		if ((t->oid == OID_VARCHAR || t->oid == OID_BPCHAR) && typmod > 4)
			rc |= json_object_set_new(s, "maxLength", json_integer(typmod - 4));
		if (t->typtype == 'e') {
			char num[16];
			const char *p[1] = { num };
			PGresult *r;
			json_t *labels = json_array();
			snprintf(num, sizeof num, "%u", (unsigned)t->oid);
			rc = query(S, &r, "SELECT enumlabel FROM pg_catalog.pg_enum WHERE enumtypid = $1 "
				   "ORDER BY enumsortorder", 1, p, err, "reading an enum");
			if (rc) {
				json_decref(labels);
				break;
			}
			for (int i = 0; i < PQntuples(r); i++)
				rc |= json_array_append_new(labels, json_string(PQgetvalue(r, i, 0)));
			PQclear(r);
			rc |= json_object_set_new(s, "enum", labels);
		}
		break;
	}
	if (rc) {
		json_decref(s);
		return rc < 0 && rc != -1 ? rc : nomem(err);
	}
	*out = s;
	return 0;
}

/* A JSON Schema 2020-12 document of the table: a property per column with
 * its JSON type (nullable columns also allow null), "required" for the
 * NOT NULL ones, and the native facts as annotations: "x-mig-type" (the
 * column's type as format_type() names it), "x-mig-primary-key",
 * "x-mig-unique" (one array per unique constraint or index),
 * "x-mig-default", "x-mig-identity", "x-mig-generated".  mig-load --create
 * --schema reads it back. */
static int pg_describe(struct mig_store *st, json_t **out, struct mig_error *err)
{
	static const char csql[] =
		"SELECT a.attname, a.atttypid, a.atttypmod, "
		"pg_catalog.format_type(a.atttypid, a.atttypmod), a.attnotnull, "
		"pg_catalog.pg_get_expr(d.adbin, d.adrelid), a.attgenerated, a.attidentity, "
		"pg_catalog.col_description(a.attrelid, a.attnum) "
		"FROM pg_catalog.pg_attribute a LEFT JOIN pg_catalog.pg_attrdef d "
		"ON d.adrelid = a.attrelid AND d.adnum = a.attnum "
		"WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum";
	static const char usql[] =
		"SELECT array_to_json(ARRAY(SELECT a.attname FROM unnest(i.indkey::int2[]) "
		"WITH ORDINALITY k(n, o) JOIN pg_catalog.pg_attribute a "
		"ON a.attrelid = i.indrelid AND a.attnum = k.n ORDER BY k.o))::text "
		"FROM pg_catalog.pg_index i WHERE i.indrelid = $1 AND i.indisunique "
		"AND NOT i.indisprimary AND i.indpred IS NULL AND i.indexprs IS NULL "
		"ORDER BY i.indexrelid";
	struct pg_store *S = (struct pg_store *)st;
	json_t *doc = NULL, *props = NULL, *req = NULL, *uq = NULL, *cs;
	PGresult *r = NULL;
	char oid[16];
	const char *p[1] = { oid };
	int rc;

	*out = NULL;
	if (!S->table)
		return mig_error_set(err, MIG_EUSAGE, "%s: name the table to describe "
				     "(#schema.table)", S->base.loc->redacted);
	rc = table_oid(S, oid, err);
	if (rc)
		return rc;
	if (!oid[0])
		return mig_error_set(err, MIG_EIO, "%s: no table %s", S->base.loc->redacted,
				     S->shown);
	rc = load_pk(S, oid, err);
	if (rc)
		return rc;
	doc = json_pack("{s:s, s:s, s:s, s:s}", "$schema",
			"https://json-schema.org/draft/2020-12/schema", "title", S->shown,
			"type", "object", "x-mig-backend", "postgres");
	props = json_object();
	req = json_array();
	uq = json_array();
	if (!doc || !props || !req || !uq) {
		rc = nomem(err);
		goto out;
	}
	rc = query(S, &r, csql, 1, p, err, "reading the columns");
	if (rc)
		goto out;
	for (int i = 0; i < PQntuples(r); i++) {
		struct pg_type *t;
		json_t *type;
		rc = type_get(S, (Oid)strtoul(PQgetvalue(r, i, 1), NULL, 10), &t, err);
		rc = rc ? rc : type_schema(S, t, atoi(PQgetvalue(r, i, 2)), &cs, err);
		if (rc)
			goto out;
		type = json_object_get(cs, "type");
		if (PQgetvalue(r, i, 4)[0] == 't')
			rc |= json_array_append_new(req, json_string(PQgetvalue(r, i, 0)));
		else if (json_is_string(type))
			rc |= json_object_set_new(cs, "type", json_pack("[O, s]", type, "null"));
		rc |= json_object_set_new(cs, "x-mig-type", json_string(PQgetvalue(r, i, 3)));
		if (!PQgetisnull(r, i, 5))
			rc |= json_object_set_new(cs, PQgetvalue(r, i, 6)[0] ? "x-mig-generated"
							 : "x-mig-default",
						 json_string(PQgetvalue(r, i, 5)));
		if (PQgetvalue(r, i, 7)[0])
			rc |= json_object_set_new(cs, "x-mig-identity",
						 json_string(PQgetvalue(r, i, 7)[0] == 'a' ? "always"
											   : "by default"));
		if (!PQgetisnull(r, i, 8))
			rc |= json_object_set_new(cs, "description", json_string(PQgetvalue(r, i, 8)));
		rc |= json_object_set_new(props, PQgetvalue(r, i, 0), cs);
		if (rc) {
			rc = nomem(err);
			goto out;
		}
	}
	PQclear(r);
	r = NULL;
	rc = query(S, &r, usql, 1, p, err, "reading the unique indexes");
	if (rc)
		goto out;
	for (int i = 0; i < PQntuples(r); i++) {
		json_t *a = json_loads(PQgetvalue(r, i, 0), 0, NULL);
		if (!a || json_array_append_new(uq, a)) {
			rc = nomem(err);
			goto out;
		}
	}
	rc = json_object_set(doc, "properties", props);
	rc |= json_object_set(doc, "required", req);
	rc |= json_object_set_new(doc, "additionalProperties", json_false());
	if (S->key_fields) {
		json_t *pk = json_array();
		for (size_t i = 0; S->key_fields[i]; i++)
			rc |= json_array_append_new(pk, json_string(S->key_fields[i]));
		rc |= json_object_set_new(doc, "x-mig-primary-key", pk);
	}
	if (json_array_size(uq))
		rc |= json_object_set(doc, "x-mig-unique", uq);
	if (rc) {
		rc = nomem(err);
		goto out;
	}
	*out = doc;
	doc = NULL;
out:
	PQclear(r);
	json_decref(doc);
	json_decref(props);
	json_decref(req);
	json_decref(uq);
	return rc;
}

/* ------------------------------------------------------------------ native definition */

/* The table's definition, built as JSON by the server: its columns (types
 * by format_type), primary key, constraints (pg_get_constraintdef),
 * indexes not backing a constraint (pg_get_indexdef, and the part from
 * USING on, to make them on another table name), and the enum, composite
 * and domain types its columns use, directly or through arrays, domains
 * and composites, each with what it uses among them ("deps": oids). */
static const char native_sql[] =
	"WITH RECURSIVE ut(oid) AS ("
	" SELECT atttypid FROM pg_catalog.pg_attribute"
	"  WHERE attrelid = $1 AND attnum > 0 AND NOT attisdropped"
	" UNION"
	" SELECT l.x FROM ut JOIN pg_catalog.pg_type y ON y.oid = ut.oid,"
	"  LATERAL (SELECT y.typelem WHERE y.typelem <> 0 AND y.typcategory = 'A'"
	"   UNION ALL SELECT y.typbasetype WHERE y.typtype = 'd'"
	"   UNION ALL SELECT a.atttypid FROM pg_catalog.pg_attribute a"
	"    WHERE y.typtype = 'c' AND a.attrelid = y.typrelid AND a.attnum > 0"
	"    AND NOT a.attisdropped) l(x)"
	"), elem(oid, e) AS ("
	" SELECT t.oid, CASE WHEN t.typelem <> 0 AND t.typcategory = 'A' THEN t.typelem"
	"  ELSE t.oid END FROM pg_catalog.pg_type t"
	") SELECT pg_catalog.json_build_object("
	" 'backend', 'postgres',"
	" 'table', (SELECT n.nspname || '.' || c.relname FROM pg_catalog.pg_class c"
	"  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = $1),"
	" 'columns', (SELECT coalesce(json_agg(json_build_object("
	"   'name', a.attname,"
	"   'type', pg_catalog.format_type(a.atttypid, a.atttypmod),"
	"   'not_null', a.attnotnull,"
	"   'default', pg_catalog.pg_get_expr(d.adbin, d.adrelid),"
	"   'identity', CASE a.attidentity WHEN 'a' THEN 'always' WHEN 'd' THEN 'by default' END,"
	"   'generated', CASE a.attgenerated WHEN 's' THEN 'stored' END,"
	"   'serial', a.attidentity = '' AND a.attgenerated = '' AND"
	"    pg_catalog.pg_get_serial_sequence($2, a.attname) IS NOT NULL"
	"  ) ORDER BY a.attnum), '[]') FROM pg_catalog.pg_attribute a"
	"  LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum"
	"  WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped),"
	" 'primary_key', (SELECT coalesce(json_agg(a.attname"
	"   ORDER BY array_position(i.indkey::int2[], a.attnum)), '[]')"
	"  FROM pg_catalog.pg_index i JOIN pg_catalog.pg_attribute a"
	"  ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)"
	"  WHERE i.indrelid = $1 AND i.indisprimary),"
	" 'constraints', (SELECT coalesce(json_agg(json_build_object("
	"   'name', c.conname, 'def', pg_catalog.pg_get_constraintdef(c.oid),"
	"   'type', CASE c.contype WHEN 'p' THEN 'primary key' WHEN 'u' THEN 'unique'"
	"    WHEN 'c' THEN 'check' WHEN 'f' THEN 'foreign key' ELSE 'exclusion' END,"
	"   'ref_schema', rn.nspname, 'ref_table', CASE WHEN c.confrelid <> $1 THEN r.relname END"
	"  ) ORDER BY c.contype = 'f', c.conname), '[]') FROM pg_catalog.pg_constraint c"
	"  LEFT JOIN pg_catalog.pg_class r ON r.oid = c.confrelid"
	"  LEFT JOIN pg_catalog.pg_namespace rn ON rn.oid = r.relnamespace"
	"  WHERE c.conrelid = $1 AND c.contype IN ('p', 'u', 'c', 'f', 'x')),"
	" 'indexes', (SELECT coalesce(json_agg(json_build_object("
	"   'name', ci.relname, 'def', pg_catalog.pg_get_indexdef(i.indexrelid),"
	"   'unique', i.indisunique,"
	"   'prefix', 'CREATE ' || CASE WHEN i.indisunique THEN 'UNIQUE ' ELSE '' END || 'INDEX ' ||"
	"    quote_ident(ci.relname) || ' ON ' || CASE WHEN tc.relkind = 'p' THEN 'ONLY ' ELSE '' END ||"
	"    quote_ident(tn.nspname) || '.' || quote_ident(tc.relname) || ' '"
	"  ) ORDER BY ci.relname), '[]') FROM pg_catalog.pg_index i"
	"  JOIN pg_catalog.pg_class ci ON ci.oid = i.indexrelid"
	"  JOIN pg_catalog.pg_class tc ON tc.oid = i.indrelid"
	"  JOIN pg_catalog.pg_namespace tn ON tn.oid = tc.relnamespace"
	"  WHERE i.indrelid = $1 AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint k"
	"   WHERE k.conrelid = i.indrelid AND k.conindid = i.indexrelid"
	"   AND k.contype IN ('p', 'u', 'x'))),"
	" 'types', (SELECT coalesce(json_agg(json_build_object("
	"   'oid', y.oid, 'schema', n.nspname, 'name', y.typname,"
	"   'kind', CASE y.typtype WHEN 'e' THEN 'enum' WHEN 'c' THEN 'composite' ELSE 'domain' END,"
	"   'labels', (SELECT json_agg(enumlabel ORDER BY enumsortorder) FROM pg_catalog.pg_enum"
	"    WHERE enumtypid = y.oid),"
	"   'attributes', (SELECT json_agg(json_build_object('name', a.attname,"
	"    'type', pg_catalog.format_type(a.atttypid, a.atttypmod)) ORDER BY a.attnum)"
	"    FROM pg_catalog.pg_attribute a WHERE y.typtype = 'c' AND a.attrelid = y.typrelid"
	"    AND a.attnum > 0 AND NOT a.attisdropped),"
	"   'base', CASE WHEN y.typtype = 'd' THEN"
	"    pg_catalog.format_type(y.typbasetype, y.typtypmod) END,"
	"   'not_null', y.typnotnull, 'default', y.typdefault,"
	"   'checks', (SELECT json_agg(json_build_object('name', k.conname,"
	"    'def', pg_catalog.pg_get_constraintdef(k.oid)) ORDER BY k.conname)"
	"    FROM pg_catalog.pg_constraint k WHERE k.contypid = y.oid AND k.contype = 'c'),"
	"   'deps', (SELECT json_agg(DISTINCT e.e) FROM elem e WHERE e.oid IN ("
	"    SELECT a.atttypid FROM pg_catalog.pg_attribute a WHERE y.typtype = 'c'"
	"    AND a.attrelid = y.typrelid AND a.attnum > 0 AND NOT a.attisdropped"
	"    UNION ALL SELECT y.typbasetype WHERE y.typtype = 'd'))"
	"  ) ORDER BY y.oid), '[]') FROM ut JOIN pg_catalog.pg_type y ON y.oid = ut.oid"
	"  JOIN pg_catalog.pg_namespace n ON n.oid = y.typnamespace"
	"  WHERE n.nspname <> 'information_schema' AND n.nspname !~ '^pg_'"
	"  AND (y.typtype IN ('e', 'd') OR (y.typtype = 'c' AND (SELECT relkind FROM"
	"   pg_catalog.pg_class WHERE oid = y.typrelid) = 'c'))))::text";

/* Whether every oid in deps is done (or not among the types at all). */
static int deps_done(const json_t *types, const json_t *deps, const char *done)
{
	size_t i, j;
	json_t *d, *t;

	json_array_foreach(deps, i, d) {
		json_array_foreach(types, j, t) {
			if (json_integer_value(json_object_get(t, "oid")) == json_integer_value(d) &&
			    !done[j])
				return 0;
		}
	}
	return 1;
}

/* The types in an order where each comes after those it uses, without
 * their oids. */
static json_t *types_ordered(json_t *types)
{
	size_t n = json_array_size(types), placed = 0, i;
	char *done = calloc(n + 1, 1);
	json_t *out = json_array(), *t;

	if (!done || !out)
		goto fail;
	while (placed < n) {
		size_t pick = n;
		for (i = 0; i < n && pick == n; i++)
			if (!done[i] && deps_done(types, json_object_get(json_array_get(types, i),
									  "deps"), done))
				pick = i;
		if (pick == n)   /* a cycle: cannot happen, but do not loop */
			for (pick = 0; done[pick]; pick++)
				;
		done[pick] = 1;
		placed++;
		if (json_array_append(out, json_array_get(types, pick)))
			goto fail;
	}
	json_array_foreach(out, i, t) {
		json_object_del(t, "oid");
		json_object_del(t, "deps");
	}
	free(done);
	return out;
fail:
	free(done);
	json_decref(out);
	return NULL;
}

static int pg_native(struct mig_store *st, json_t **out, struct mig_error *err)
{
	struct pg_store *S = (struct pg_store *)st;
	const char *p[2];
	char oid[16];
	PGresult *r = NULL;
	json_t *doc = NULL, *deps = NULL, *e, *types;
	struct mig_buf name;
	json_error_t je;
	size_t i;
	int rc;

	*out = NULL;
	if (!S->table)
		return 0;
	mig_buf_init(&name, 0);
	rc = table_oid(S, oid, err);
	if (rc || !oid[0])
		return rc;
	p[0] = oid;
	p[1] = S->qtable;
	rc = query(S, &r, native_sql, 2, p, err, "reading the table's definition");
	if (rc)
		return rc;
	if (PQntuples(r) != 1 || !(doc = json_loads(PQgetvalue(r, 0, 0), 0, &je))) {
		rc = mig_error_set(err, MIG_EIO, "%s: the table's definition: %s",
				   S->base.loc->redacted, PQntuples(r) == 1 ? je.text : "no row");
		goto out;
	}
	/* what its foreign keys refer to, named as list() names tables */
	if (!(deps = json_array()))
		goto oom;
	json_array_foreach(json_object_get(doc, "constraints"), i, e) {
		const char *rs = json_string_value(json_object_get(e, "ref_schema"));
		const char *rt = json_string_value(json_object_get(e, "ref_table"));
		if (rs && rt) {
			mig_buf_reset(&name);
			if (put_name_part(&name, rs) || mig_buf_putc(&name, '.') ||
			    put_name_part(&name, rt))
				goto oom;
			if (!in_array(deps, name.data) &&
			    json_array_append_new(deps, json_string(name.data)))
				goto oom;
		}
		json_object_del(e, "ref_schema");
		json_object_del(e, "ref_table");
	}
	if (json_object_set_new(doc, "depends_on", deps)) {
		deps = NULL;
		goto oom;
	}
	deps = NULL;
	/* each index from USING on, to make it on another table */
	json_array_foreach(json_object_get(doc, "indexes"), i, e) {
		const char *def = json_string_value(json_object_get(e, "def"));
		const char *pre = json_string_value(json_object_get(e, "prefix"));
		size_t n = pre ? strlen(pre) : 0;
		if (def && pre && strncmp(def, pre, n) == 0 && strncmp(def + n, "USING ", 6) == 0 &&
		    json_object_set_new(e, "using", json_string(def + n)))
			goto oom;
		json_object_del(e, "prefix");
	}
	if (!(types = types_ordered(json_object_get(doc, "types"))) ||
	    json_object_set_new(doc, "types", types))
		goto oom;
	*out = doc;
	doc = NULL;
	goto out;
oom:
	rc = nomem(err);
out:
	json_decref(deps);
	json_decref(doc);
	PQclear(r);
	mig_buf_free(&name);
	return rc;
}

/* ------------------------------------------------------------------ drop */

/* Appends a collection name ([schema.]table, as a locator's fragment
 * takes it) quoted: "schema"."table". */
static int put_qualified(struct pg_store *S, struct mig_buf *b, const char *frag,
			 struct mig_error *err)
{
	const char *p = frag;
	char *x = NULL, *y = NULL;
	int rc = 0;

	if (parse_ident(&p, &x) || (*p == '.' && (p++, parse_ident(&p, &y))) || *p) {
		rc = mig_error_set(err, MIG_EUSAGE, "%s: '%s' is not a table name ([schema.]table)",
				   S->base.loc->redacted, frag);
		goto out;
	}
	if (put_ident(S, b, y ? x : "public") || mig_buf_putc(b, '.') ||
	    put_ident(S, b, y ? y : x))
		rc = nomem(err);
out:
	free(x);
	free(y);
	return rc;
}

/* The tables go in one DROP TABLE, which PostgreSQL allows when the
 * foreign keys among them stay within the list; a table outside the list
 * that refers to one of them is refused here by name rather than dropped
 * with CASCADE: its constraint would go, and nothing would restore it. */
static int pg_drop(struct mig_store *st, const char *const *names, size_t n, int check_only,
		   struct mig_error *err)
{
	static const char refs_sql[] =
		"WITH t AS (SELECT pg_catalog.to_regclass(x) AS oid FROM unnest($1::text[]) x) "
		"SELECT (SELECT n.nspname || '.' || r.relname FROM pg_catalog.pg_class r "
		"  JOIN pg_catalog.pg_namespace n ON n.oid = r.relnamespace WHERE r.oid = c.conrelid), "
		"(SELECT n.nspname || '.' || r.relname FROM pg_catalog.pg_class r "
		"  JOIN pg_catalog.pg_namespace n ON n.oid = r.relnamespace WHERE r.oid = c.confrelid), "
		"c.conname FROM pg_catalog.pg_constraint c WHERE c.contype = 'f' "
		"AND c.confrelid IN (SELECT oid FROM t WHERE oid IS NOT NULL) "
		"AND c.conrelid NOT IN (SELECT oid FROM t WHERE oid IS NOT NULL) "
		"ORDER BY 1, 3 LIMIT 1";
	struct pg_store *S = (struct pg_store *)st;
	struct mig_buf list, drop;
	PGresult *r = NULL;
	const char *p[1];
	int rc = 0, began = 0;

	mig_buf_init(&list, 0);
	mig_buf_init(&drop, 0);
	if (!n)
		return 0;
	rc = mig_buf_putc(&list, '{') || mig_buf_puts(&drop, "DROP TABLE IF EXISTS ") ? nomem(err) : 0;
	for (size_t i = 0; !rc && i < n; i++) {
		size_t start;
		if (i && (mig_buf_putc(&list, ',') || mig_buf_puts(&drop, ", "))) {
			rc = nomem(err);
			break;
		}
		start = list.len;
		rc = put_qualified(S, &list, names[i], err);
		if (!rc && quote_tail(&list, start))
			rc = nomem(err);
		rc = rc ? rc : put_qualified(S, &drop, names[i], err);
	}
	if (!rc && mig_buf_putc(&list, '}'))
		rc = nomem(err);
	if (rc)
		goto out;
	/* the check and the drop see the same catalog */
	if ((rc = exec_cmd(S, "BEGIN", err, "starting the drop")) != 0)
		goto out;
	began = 1;
	p[0] = list.data;
	rc = query(S, &r, refs_sql, 1, p, err, "looking for foreign keys into the tables");
	if (rc)
		goto out;
	if (PQntuples(r) > 0) {
		rc = mig_error_set(err, MIG_EIO, "%s: cannot drop %s: table %s refers to it "
				   "(foreign key %s) and is not among the tables restored; drop "
				   "it or its constraint first, or restore it too",
				   S->base.loc->redacted, PQgetvalue(r, 0, 1), PQgetvalue(r, 0, 0),
				   PQgetvalue(r, 0, 2));
		goto out;
	}
	if (!check_only && (rc = exec_cmd(S, drop.data, err, "dropping the tables")) != 0)
		goto out;
	rc = exec_cmd(S, "COMMIT", err, "committing the drop");
	began = 0;
out:
	if (began) {
		struct mig_error ignored;
		exec_cmd(S, "ROLLBACK", &ignored, "rolling back the drop");
	}
	PQclear(r);
	mig_buf_free(&list);
	mig_buf_free(&drop);
	return rc;
}

/* ------------------------------------------------------------------ the store */

static void pg_close(struct mig_store *st)
{
	struct pg_store *S = (struct pg_store *)st;

	if (!S)
		return;
	PQfinish(S->conn);   /* an open transaction rolls back on the server */
	cols_free(S);
	keys_free(S);
	types_free(S);
	json_decref(S->colidx);
	json_decref(S->post_ddl);
	free(S->hint);
	free(S->vals);
	free(S->keycol);
	free(S->keynames);
	free(S->schema);
	free(S->table);
	free(S->qtable);
	free(S->shown);
	mig_buf_free(&S->sql);
	mig_buf_free(&S->tmp);
	mig_buf_free(&S->data);
	mig_buf_free(&S->st_copy);
	mig_buf_free(&S->fbuf);
	mig_buf_free(&S->tkeys);
	free(S->st_cols);
	free(S->st_item);
	free(S->st_off);
	free(S->fpos);
	free(S->flen);
	free(S);
}

static int pg_open(struct mig_store **out, struct mig_locator *loc, int flags,
		   struct mig_error *err)
{
	struct pg_store *S = calloc(1, sizeof *S);
	int rc;

	(void)flags;
	*out = NULL;
	if (!S)
		return nomem(err);
	S->base.loc = loc;
	mig_buf_init(&S->sql, 0);
	mig_buf_init(&S->tmp, 0);
	mig_buf_init(&S->data, 0);
	mig_buf_init(&S->st_copy, 0);
	mig_buf_init(&S->fbuf, 0);
	mig_buf_init(&S->tkeys, 0);
	rc = split_collection(S, err);
	rc = rc ? rc : connect_db(S, err);
	rc = rc ? rc : name_table(S, err);
	if (rc) {
		pg_close(&S->base);
		return rc;
	}
	*out = &S->base;
	return 0;
}

static const char *pg_lib_version(void)
{
	static char v[32];
	int n = PQlibVersion();

	/* 10 and later: major * 10000 + minor */
	snprintf(v, sizeof v, "libpq %d.%d", n / 10000, n % 10000);
	return v;
}

const struct mig_backend_ops mig_backend_pg = {
	.version = MIG_BACKEND_VERSION,
	.scheme = "postgres",
	.summary = "PostgreSQL tables (postgres://user@host:port/db#schema.table), COPY both ways",
	.lib_version = pg_lib_version,
	.archive_input = MIG_INPUT_CANONICAL_FAST,
	.open = pg_open,
	.close = pg_close,
	.read_begin = pg_read_begin,
	.read_next = pg_read_next,
	.write_begin = pg_write_begin,
	.write_batch = pg_write_batch,
	.write_end = pg_write_end,
	.write_prepare = pg_write_prepare,
	.read_next_text = pg_read_next_text,
	.list = pg_list,
	.count = pg_count,
	.describe = pg_describe,
	.snapshot_begin = pg_snapshot_begin,
	.native = pg_native,
	.drop = pg_drop,
};
