/*
 * mongo.c - the MongoDB backend, on libmongoc.
 *
 * Locator: mongodb://host:port/db#collection (also mongodb+srv://).  The
 * URI without the fragment goes to libmongoc as it is, so every URI option
 * works; it is never printed: messages use loc->redacted.  The database
 * must be named in the URI's path.  One single-threaded client per store,
 * error API version 2 (network, server selection and server errors apart).
 *
 * Records are converted between json_t and BSON by mig_value_to_bson and
 * mig_value_from_bson (lib/value.c), never through Extended JSON text.
 *
 * Extract:
 *   --where JSON     a find filter, Extended JSON accepted ({"d": {"$gt":
 *                    {"$date": "2024-01-01T00:00:00Z"}}})
 *   --order-by S     a sort document ({"a": 1, "b": -1}) or "a,-b"
 *   --query JSON     an array is an aggregation pipeline (--where then
 *                    becomes a leading $match stage, --limit a trailing
 *                    $limit; --order-by, --shard and --since cannot be
 *                    combined with it: put them in the pipeline); an
 *                    object is a find filter, like --where
 *   --limit, batch size: the cursor's options
 *   --shard K/N      N ranges of _id, [b(K), b(K+1)), the boundaries being
 *                    the _id values at positions K*n/N of the filtered
 *                    collection sorted by _id (a skip each).  Every process
 *                    computes the same boundaries while the collection does
 *                    not change.  _id values must be of one BSON type
 *                    bracket (numbers count as one): a range across types
 *                    would not cover them, so a mix is refused.
 *   --since F        {$or: [{F: {$gt: v}}, {F: v, _id: {$gt: id}}]}, sorted
 *                    by {F: 1, _id: 1}; the key of a bookmark is _id.
 *   --canonical      int64 stays {"$numberLong"} (mig_value_from_bson).
 * --count runs countDocuments (a pipeline: its $count); --list lists the
 * collections of the database with their counts; --describe infers a JSON
 * Schema from a $sample of 1000 documents (the first 1000 when the server
 * has no $sample), with the BSON types seen per field and how often
 * ("x-mig-types") and the number of documents that hold it ("x-mig-count").
 *
 * Load: each batch is one unordered bulk write (libmongoc splits it at the
 * 48 MB message limit).  Before sending, a record is rejected when it holds
 * a field name starting with '$' that is not an Extended JSON wrapper (a
 * DBRef's $ref/$id/$db pass), a field name with a NUL (mig_value_to_bson
 * refuses it), or when it is over 16 MiB as BSON; the rest of the batch
 * goes.  libmongoc's own key checks are off: the server judges dotted
 * names (MongoDB 5 takes them; an update would read them as paths, so the
 * $set modes reject them).  The bulk reply's writeErrors
 * say, by index, which records the server refused; upserted says which
 * updates inserted.  What each record becomes:
 *   insert                 insertOne; a duplicate key (11000) is rejected,
 *                          or skipped under --on-conflict skip
 *   insert --on-conflict overwrite|merge, replace, upsert, merge
 *                          by --key with upsert: true: replaceOne (replace,
 *                          overwrite) or updateOne {$set: the fields
 *                          present} (upsert, merge: as the PostgreSQL
 *                          backend does, merge inserts a new key too);
 *                          --on-conflict skip: updateOne {$setOnInsert}
 * A record without _id gets an ObjectId here, not in the server, so that a
 * retried batch sends the same documents: a duplicate _id on a retry whose
 * stored document equals ours is one that landed before the connection
 * broke, and counts as inserted.
 * --create creates the collection (with a $jsonSchema validator converted
 * from --schema) and a unique index on --key; --drop and --truncate run
 * first.  --dry-run finds the keys of each batch and counts what would be
 * inserted, updated, skipped or rejected; it writes nothing.  A lost
 * connection or no server to select is retried --retries times with
 * backoff (0.5 s doubling), on a new client; then the load stops with
 * MIG_EIO.  When the server closes the connection but answers a ping at
 * once, something in the documents made it give up (FerretDB v1 does so on
 * a Decimal128, NaN or a deprecated BSON type): the batch is halved until
 * that document stands alone, and it is rejected.  --atomic needs
 * multi-document transactions (a replica set) and is refused.  Dates keep
 * milliseconds: how many records lost sub-millisecond digits is said at
 * the end.
 *
 * Resuming (--checkpoint) repeats at most the batch in flight when the
 * load stopped.  With a keyed mode that is harmless; for inserts load
 * records that carry their _id with --on-conflict skip, so that what had
 * landed is skipped (records without _id get a new one each run).
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <mongoc/mongoc.h>

#include "mig/backend.h"
#include "mig/buf.h"
#include "mig/log.h"

#define BSON_DOC_MAX (16 * 1024 * 1024)  /* maxBsonObjectSize */
#define DESCRIBE_SAMPLE 1000
#define CODE_DUPLICATE 11000
#define CODE_NS_NOT_FOUND 26
#define CODE_NS_EXISTS 48
#define CODE_NOT_IMPLEMENTED 238

/* What a record becomes in the bulk write. */
enum action {
	A_INSERT,    /* insertOne */
	A_SET,       /* updateOne by key, {$set: fields}, upsert */
	A_REPLACE,   /* replaceOne by key, upsert */
	A_KEEP,      /* updateOne by key, {$setOnInsert: fields}, upsert */
	A_UPDATE,    /* --mode update: updateOne by key, {$set: fields}, no upsert */
	A_DELETE     /* --mode delete: deleteOne by key */
};

struct mongo_store {
	struct mig_store base;
	mongoc_uri_t *uri;
	mongoc_client_t *client;
	mongoc_database_t *db;
	mongoc_collection_t *coll;
	const char *dbname;            /* in uri */
	/* reading */
	mongoc_cursor_t *cursor;
	enum mig_json_mode mode;
	int empty;                     /* the shard is known to be empty */
	/* writing */
	struct mig_write_opts wo;
	enum action act;
	int skip_dups;                 /* A_INSERT: a duplicate is skipped */
	int assume_empty;              /* dry run after --drop/--truncate */
	bson_t **docs;                 /* one per batch item (bson_new: a bson_t wants
					  128-byte alignment, which realloc does not give) */
	unsigned char *have;           /* docs[i] holds a converted record (1), with
					  dates of sub-millisecond precision (3) */
	size_t ndocs;
	size_t *opidx;                 /* bulk operation -> batch item */
	int native_indexes;            /* wo.native's indexes are to be made at the end */
	uint64_t subms_dates;          /* records whose dates were truncated */
	int ferretdb;                  /* the server is FerretDB (buildInfo says so) */
};

/* FerretDB v1 (1.24, SQLite backend) never answers an update command of
 * more than some tens of statements that find their documents, and keeps
 * the database locked after.  Measured with 1000 existing documents:
 * upserts in bulks of 100 took 9 s, of 128, 200 or 1000 got no answer in
 * 40 s (or in ten minutes); replacements in bulks of 50 took 13 s, of 100
 * got no answer.  Keyed writes to it go in bulks of at most this many. */
#define FERRETDB_KEYED_BULK 50

static const char *const id_key[] = { "_id", NULL };

/* ---- setup ------------------------------------------------------------- */

static void log_sink(mongoc_log_level_t level, const char *domain, const char *msg, void *u)
{
	/* libmongoc's own messages only with -v: every failure reaches the user
	 * through a struct mig_error already */
	if (level <= MONGOC_LOG_LEVEL_INFO)
		mig_debug("libmongoc %s: %s", domain, msg);
}

static void global_init(void)
{
	/* the handler first: mongoc_init() itself may warn */
	mongoc_log_set_handler(log_sink, NULL);
	mongoc_init();
	atexit(mongoc_cleanup);
}

static pthread_once_t init_once = PTHREAD_ONCE_INIT;

static const char *mongo_lib_version(void)
{
	static char v[64];

	snprintf(v, sizeof v, "libmongoc %s", mongoc_get_version());
	return v;
}

static int nomem(struct mig_error *err)
{
	return mig_error_set(err, MIG_ENOMEM, "out of memory");
}

static const char *where(const struct mongo_store *S)
{
	return S->base.loc->redacted;
}

static int is_net_error(const bson_error_t *e)
{
	return e->domain == MONGOC_ERROR_STREAM || e->domain == MONGOC_ERROR_SERVER_SELECTION;
}

/* A libmongoc error as ours: MIG_EIO, or MIG_EUSAGE for what the server
 * says it cannot do. */
static int fail(struct mongo_store *S, const bson_error_t *e, struct mig_error *err,
		const char *what)
{
	int code = MIG_EIO;

	if (e->domain == MONGOC_ERROR_SERVER && e->code == CODE_NOT_IMPLEMENTED)
		code = MIG_EUSAGE;
	return mig_error_set(err, code, "%s: %s: %s", where(S), what, e->message);
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) == -1 && !mig_interrupted)
		;
}

static void drop_client(struct mongo_store *S)
{
	mongoc_cursor_destroy(S->cursor);
	S->cursor = NULL;
	mongoc_collection_destroy(S->coll);
	S->coll = NULL;
	mongoc_database_destroy(S->db);
	S->db = NULL;
	mongoc_client_destroy(S->client);
	S->client = NULL;
}

/* (Re)creates the client and checks that the server answers. */
static int connect_client(struct mongo_store *S, struct mig_error *err)
{
	bson_error_t e;
	bson_t ping = BSON_INITIALIZER;
	int rc = 0;

	drop_client(S);
	S->client = mongoc_client_new_from_uri_with_error(S->uri, &e);
	if (!S->client)
		return mig_error_set(err, MIG_EUSAGE, "%s: %s", where(S), e.message);
	mongoc_client_set_error_api(S->client, MONGOC_ERROR_API_VERSION_2);
	mongoc_client_set_appname(S->client, "mig");
	S->db = mongoc_client_get_database(S->client, S->dbname);
	if (S->base.loc->collection)
		S->coll = mongoc_database_get_collection(S->db, S->base.loc->collection);
	BSON_APPEND_INT32(&ping, "ping", 1);
	if (!mongoc_client_command_simple(S->client, "admin", &ping, NULL, NULL, &e))
		rc = fail(S, &e, err, "cannot reach the server");
	bson_destroy(&ping);
	if (!rc) {
		bson_t cmd = BSON_INITIALIZER, reply;
		bson_iter_t it;
		BSON_APPEND_INT32(&cmd, "buildInfo", 1);
		if (mongoc_client_command_simple(S->client, "admin", &cmd, NULL, &reply, &e))
			S->ferretdb = bson_iter_init_find(&it, &reply, "ferretdbVersion");
		bson_destroy(&reply);
		bson_destroy(&cmd);
	}
	return rc;
}

static void mongo_close(struct mig_store *st)
{
	struct mongo_store *S = (struct mongo_store *)st;

	if (!S)
		return;
	drop_client(S);
	mongoc_uri_destroy(S->uri);
	for (size_t i = 0; i < S->ndocs; i++)
		if (S->have[i])
			bson_destroy(S->docs[i]);
	free(S->docs);
	free(S->have);
	free(S->opidx);
	free(S);
}

static int mongo_open(struct mig_store **out, struct mig_locator *loc, int flags,
		      struct mig_error *err)
{
	struct mongo_store *S;
	bson_error_t e;
	int rc;

	*out = NULL;
	pthread_once(&init_once, global_init);
	S = calloc(1, sizeof *S);
	if (!S)
		return nomem(err);
	S->base.loc = loc;
	S->uri = mongoc_uri_new_with_error(loc->uri, &e);
	if (!S->uri) {
		rc = mig_error_set(err, MIG_EUSAGE, "%s: not a MongoDB URI: %s", loc->redacted,
				   e.message);
		goto fail;
	}
	S->dbname = mongoc_uri_get_database(S->uri);
	if (!S->dbname || !*S->dbname) {
		rc = mig_error_set(err, MIG_EUSAGE, "%s: name the database: mongodb://HOST/DB#COLLECTION",
				   loc->redacted);
		goto fail;
	}
	if (loc->collection && !*loc->collection) {
		rc = mig_error_set(err, MIG_EUSAGE, "%s: the collection name after '#' is empty",
				   loc->redacted);
		goto fail;
	}
	rc = connect_client(S, err);
	if (rc)
		goto fail;
	*out = &S->base;
	return 0;
fail:
	mongo_close(&S->base);
	return rc;
}

static int need_collection(struct mongo_store *S, struct mig_error *err)
{
	if (!S->coll)
		return mig_error_set(err, MIG_EUSAGE, "%s: name the collection: mongodb://HOST/DB#COLLECTION",
				     where(S));
	return 0;
}

/* ---- JSON arguments ------------------------------------------------------ */

/* Parses an option's JSON text. */
static int parse_json(json_t **out, const char *opt, const char *text, struct mongo_store *S,
		      struct mig_error *err)
{
	json_error_t je;

	*out = json_loads(text, JSON_DECODE_ANY, &je);
	if (!*out)
		return mig_error_set(err, MIG_EUSAGE, "%s: %s is not JSON: %s (column %d)", where(S),
				     opt, je.text, je.column);
	return 0;
}

/* A JSON object (borrowed) into out, an initialised empty bson_t. */
static int to_bson(bson_t *out, const json_t *obj, const char *opt, struct mongo_store *S,
		   struct mig_error *err)
{
	int rc;

	if (!json_is_object(obj))
		return mig_error_set(err, MIG_EUSAGE, "%s: %s must be a JSON object", where(S), opt);
	rc = mig_value_to_bson(out, obj, err);
	if (rc) {
		mig_error_prefix(err, "%s: %s", where(S), opt);
		if (rc != MIG_ENOMEM)
			err->code = rc = MIG_EUSAGE;
	}
	return rc;
}

/* Appends the JSON value v (borrowed, any Extended JSON) to dst as key. */
static int append_json(bson_t *dst, const char *key, const json_t *v, struct mig_error *err)
{
	json_t *o = json_object();
	bson_t tmp = BSON_INITIALIZER;
	int rc;

	if (!o || json_object_set(o, key, (json_t *)v)) {
		json_decref(o);
		return nomem(err);
	}
	rc = mig_value_to_bson(&tmp, o, err);
	if (!rc && !bson_concat(dst, &tmp))
		rc = nomem(err);
	bson_destroy(&tmp);
	json_decref(o);
	return rc;
}

/* --order-by: a sort document, or "a,-b,+c". */
static int parse_sort(bson_t *out, const char *text, struct mongo_store *S, struct mig_error *err)
{
	const char *p = text, *e;
	json_t *j;
	int rc;

	while (*p == ' ' || *p == '\t')
		p++;
	if (*p == '{') {
		rc = parse_json(&j, "--order-by", text, S, err);
		if (rc)
			return rc;
		rc = to_bson(out, j, "--order-by", S, err);
		json_decref(j);
		return rc;
	}
	while (*p) {
		int dir = 1;
		while (*p == ' ' || *p == ',')
			p++;
		if (!*p)
			break;
		if (*p == '-' || *p == '+')
			dir = *p++ == '-' ? -1 : 1;
		for (e = p; *e && *e != ','; e++)
			;
		size_t n = (size_t)(e - p);
		while (n && p[n - 1] == ' ')
			n--;
		if (!n)
			return mig_error_set(err, MIG_EUSAGE, "%s: --order-by: an empty field name in '%s'",
					     where(S), text);
		bson_append_int32(out, p, (int)n, dir);
		p = e;
	}
	if (bson_empty(out))
		return mig_error_set(err, MIG_EUSAGE, "%s: --order-by names no field", where(S));
	return 0;
}

/* ---- reading --------------------------------------------------------------- */

/* Type brackets of the BSON sort order: a range query matches within one. */
static int bracket(bson_type_t t)
{
	switch (t) {
	case BSON_TYPE_INT32: case BSON_TYPE_INT64: case BSON_TYPE_DOUBLE:
	case BSON_TYPE_DECIMAL128: return 1;
	case BSON_TYPE_UTF8: case BSON_TYPE_SYMBOL: return 2;
	default: return 10 + (int)t;
	}
}

static const char *type_alias(bson_type_t t)
{
	switch (t) {
	case BSON_TYPE_DOUBLE: return "double";
	case BSON_TYPE_UTF8: return "string";
	case BSON_TYPE_DOCUMENT: return "object";
	case BSON_TYPE_ARRAY: return "array";
	case BSON_TYPE_BINARY: return "binData";
	case BSON_TYPE_UNDEFINED: return "undefined";
	case BSON_TYPE_OID: return "objectId";
	case BSON_TYPE_BOOL: return "bool";
	case BSON_TYPE_DATE_TIME: return "date";
	case BSON_TYPE_NULL: return "null";
	case BSON_TYPE_REGEX: return "regex";
	case BSON_TYPE_DBPOINTER: return "dbPointer";
	case BSON_TYPE_CODE: return "javascript";
	case BSON_TYPE_SYMBOL: return "symbol";
	case BSON_TYPE_CODEWSCOPE: return "javascriptWithScope";
	case BSON_TYPE_INT32: return "int";
	case BSON_TYPE_TIMESTAMP: return "timestamp";
	case BSON_TYPE_INT64: return "long";
	case BSON_TYPE_DECIMAL128: return "decimal";
	case BSON_TYPE_MAXKEY: return "maxKey";
	case BSON_TYPE_MINKEY: return "minKey";
	default: return "unknown";
	}
}

/* The _id at position pos of the filtered collection sorted by _id, or
 * the first (desc 0) / last (desc 1) one.  *found 0: none there. */
static int id_at(struct mongo_store *S, const bson_t *filter, int64_t pos, int desc,
		 bson_value_t *out, int *found, struct mig_error *err)
{
	bson_t opts = BSON_INITIALIZER, sub;
	mongoc_cursor_t *c;
	const bson_t *doc;
	bson_error_t e;
	bson_iter_t it;
	int rc = 0;

	*found = 0;
	BSON_APPEND_DOCUMENT_BEGIN(&opts, "sort", &sub);
	BSON_APPEND_INT32(&sub, "_id", desc ? -1 : 1);
	bson_append_document_end(&opts, &sub);
	BSON_APPEND_DOCUMENT_BEGIN(&opts, "projection", &sub);
	BSON_APPEND_INT32(&sub, "_id", 1);
	bson_append_document_end(&opts, &sub);
	if (pos > 0)
		BSON_APPEND_INT64(&opts, "skip", pos);
	BSON_APPEND_INT64(&opts, "limit", 1);
	c = mongoc_collection_find_with_opts(S->coll, filter, &opts, NULL);
	if (mongoc_cursor_next(c, &doc)) {
		if (bson_iter_init_find(&it, doc, "_id")) {
			bson_value_copy(bson_iter_value(&it), out);
			*found = 1;
		}
	} else if (mongoc_cursor_error(c, &e)) {
		rc = fail(S, &e, err, "finding the --shard boundaries");
	}
	mongoc_cursor_destroy(c);
	bson_destroy(&opts);
	return rc;
}

/* Appends the _id range of shard K of N to parts (an $and array being
 * built) as its next element; sets S->empty when the shard has nothing. */
static int shard_range(struct mongo_store *S, const bson_t *filter, unsigned k, unsigned n,
		       bson_t *range, struct mig_error *err)
{
	bson_value_t lo = { 0 }, hi = { 0 }, first = { 0 }, last = { 0 };
	int has_lo = 0, has_hi = 0, f1, f2, rc;
	bson_error_t e;
	int64_t cnt;
	bson_t sub;

	cnt = mongoc_collection_count_documents(S->coll, filter, NULL, NULL, NULL, &e);
	if (cnt < 0)
		return fail(S, &e, err, "counting for --shard");
	rc = id_at(S, filter, 0, 0, &first, &f1, err);
	if (!rc)
		rc = id_at(S, filter, 0, 1, &last, &f2, err);
	if (rc)
		goto out;
	if (f1 && f2 && bracket(first.value_type) != bracket(last.value_type)) {
		rc = mig_error_set(err, MIG_EUSAGE, "%s: --shard needs _id values of one type; this "
				   "collection mixes %s and %s", where(S), type_alias(first.value_type),
				   type_alias(last.value_type));
		goto out;
	}
	/* boundary i is the _id at position floor(i * cnt / n) */
	if (k > 0) {
		rc = id_at(S, filter, (int64_t)((uint64_t)k * (uint64_t)cnt / n), 0, &lo, &has_lo, err);
		if (rc)
			goto out;
		if (!has_lo) {
			S->empty = 1;
			goto out;
		}
	}
	if (k + 1 < n) {
		rc = id_at(S, filter, (int64_t)((uint64_t)(k + 1) * (uint64_t)cnt / n), 0, &hi,
			   &has_hi, err);
		if (rc)
			goto out;
	}
	BSON_APPEND_DOCUMENT_BEGIN(range, "_id", &sub);
	if (has_lo)
		BSON_APPEND_VALUE(&sub, "$gte", &lo);
	if (has_hi)
		BSON_APPEND_VALUE(&sub, "$lt", &hi);
	if (!has_lo && !has_hi)
		BSON_APPEND_BOOL(&sub, "$exists", true);
	bson_append_document_end(range, &sub);
out:
	if (has_lo)
		bson_value_destroy(&lo);
	if (has_hi)
		bson_value_destroy(&hi);
	if (f1)
		bson_value_destroy(&first);
	if (f2)
		bson_value_destroy(&last);
	return rc;
}

/* The --since filter after the bookmark: {$or: [{F: {$gt: v}}, {F: v,
 * _id: {$gt: id}}]} (just {_id: {$gt: id}} when F is _id). */
static int since_filter(struct mongo_store *S, const char *field, const json_t *after,
			bson_t *out, struct mig_error *err)
{
	const json_t *v = json_object_get(after, "value");
	const json_t *id = json_object_get(json_object_get(after, "key"), "_id");
	bson_t or, a, b, sub;
	int rc = 0;

	if (!v || !id)
		return mig_error_set(err, MIG_ECORRUPT, "%s: the --since bookmark lacks its value or "
				     "its _id", where(S));
	if (!strcmp(field, "_id")) {
		BSON_APPEND_DOCUMENT_BEGIN(out, "_id", &sub);
		rc = append_json(&sub, "$gt", id, err);
		bson_append_document_end(out, &sub);
		return rc;
	}
	BSON_APPEND_ARRAY_BEGIN(out, "$or", &or);
	BSON_APPEND_DOCUMENT_BEGIN(&or, "0", &a);
	BSON_APPEND_DOCUMENT_BEGIN(&a, field, &sub);
	rc = append_json(&sub, "$gt", v, err);
	bson_append_document_end(&a, &sub);
	bson_append_document_end(&or, &a);
	BSON_APPEND_DOCUMENT_BEGIN(&or, "1", &b);
	if (!rc)
		rc = append_json(&b, field, v, err);
	BSON_APPEND_DOCUMENT_BEGIN(&b, "_id", &sub);
	if (!rc)
		rc = append_json(&sub, "$gt", id, err);
	bson_append_document_end(&b, &sub);
	bson_append_document_end(&or, &b);
	bson_append_array_end(out, &or);
	return rc;
}

/* The user's filter: --where, or --query when it is an object. */
static int user_filter(struct mongo_store *S, const struct mig_read_opts *o, bson_t *out,
		       struct mig_error *err)
{
	const char *text = o->where ? o->where : o->query, *opt = o->where ? "--where" : "--query";
	json_t *j;
	int rc;

	if (!text)
		return 0;
	rc = parse_json(&j, opt, text, S, err);
	if (rc)
		return rc;
	rc = to_bson(out, j, opt, S, err);
	json_decref(j);
	return rc;
}

/* The whole filter of a find: the user's, the shard's range and the
 * bookmark's condition, under $and when more than one. */
static int build_filter(struct mongo_store *S, const struct mig_read_opts *o, bson_t *filter,
			struct mig_error *err)
{
	bson_t user = BSON_INITIALIZER, range = BSON_INITIALIZER, since = BSON_INITIALIZER;
	bson_t *parts[3] = { &user, &range, &since };
	bson_t arr;
	int rc, n = 0;
	char key[16];

	rc = user_filter(S, o, &user, err);
	if (!rc && o->shard_n > 1)
		rc = shard_range(S, &user, o->shard_k, o->shard_n, &range, err);
	if (!rc && o->since && o->after)
		rc = since_filter(S, o->since, o->after, &since, err);
	if (rc)
		goto out;
	for (int i = 0; i < 3; i++)
		n += !bson_empty(parts[i]);
	if (n <= 1) {
		for (int i = 0; i < 3; i++)
			if (!bson_empty(parts[i]))
				bson_concat(filter, parts[i]);
		goto out;
	}
	BSON_APPEND_ARRAY_BEGIN(filter, "$and", &arr);
	n = 0;
	for (int i = 0; i < 3; i++) {
		if (bson_empty(parts[i]))
			continue;
		snprintf(key, sizeof key, "%d", n++);
		BSON_APPEND_DOCUMENT(&arr, key, parts[i]);
	}
	bson_append_array_end(filter, &arr);
out:
	bson_destroy(&user);
	bson_destroy(&range);
	bson_destroy(&since);
	return rc;
}

/* A --query pipeline with --where as a leading $match and --limit (< 0:
 * none) as a trailing $limit, as {"pipeline": [...]}.  extra: a last stage
 * (borrowed) or NULL. */
static int build_pipeline(struct mongo_store *S, const struct mig_read_opts *o, const json_t *q,
			  int64_t limit, json_t *extra, bson_t *out, struct mig_error *err)
{
	json_t *arr = json_array(), *wrap, *w = NULL;
	int rc = 0;

	if (!arr)
		return nomem(err);
	if (o->where) {
		rc = parse_json(&w, "--where", o->where, S, err);
		if (rc)
			goto out;
		if (!json_is_object(w)) {
			rc = mig_error_set(err, MIG_EUSAGE, "%s: --where must be a JSON object", where(S));
			goto out;
		}
		json_array_append_new(arr, json_pack("{s:O}", "$match", w));
	}
	json_array_extend(arr, (json_t *)q);
	if (limit >= 0)
		json_array_append_new(arr, json_pack("{s:I}", "$limit", (json_int_t)limit));
	if (extra)
		json_array_append(arr, extra);
	wrap = json_pack("{s:O}", "pipeline", arr);
	if (!wrap) {
		rc = nomem(err);
		goto out;
	}
	rc = to_bson(out, wrap, "--query", S, err);
	json_decref(wrap);
out:
	json_decref(w);
	json_decref(arr);
	return rc;
}

/* Checks the options that exclude each other; *pipe gets the --query
 * pipeline (a new reference) when it is one. */
static int check_read_opts(struct mongo_store *S, const struct mig_read_opts *o, json_t **pipe,
			   struct mig_error *err)
{
	json_t *q = NULL;
	int rc;

	*pipe = NULL;
	rc = need_collection(S, err);
	if (rc)
		return rc;
	if (o->query) {
		rc = parse_json(&q, "--query", o->query, S, err);
		if (rc)
			return rc;
		if (json_is_array(q)) {
			if (o->order_by || o->shard_n > 1 || o->since) {
				json_decref(q);
				return mig_error_set(err, MIG_EUSAGE, "%s: a --query pipeline takes no "
						     "--order-by, --shard or --since: put them in the "
						     "pipeline", where(S));
			}
			*pipe = q;
			return 0;
		}
		json_decref(q);
		if (o->where)
			return mig_error_set(err, MIG_EUSAGE, "%s: --query with a filter object and "
					     "--where: give one filter", where(S));
	}
	if (o->since && o->order_by)
		return mig_error_set(err, MIG_EUSAGE, "%s: --since reads in (FIELD, _id) order: "
				     "no --order-by", where(S));
	return 0;
}

/* Whether a projection keeps field f: listed with a true value, or an
 * exclusion projection that does not list it. */
static int snapshot_find(struct mongo_store *S, const char *token, const bson_t *filter,
			 const bson_t *opts, struct mig_error *err);

static int projects_field(const json_t *pj, const char *f)
{
	const char *k;
	json_t *v;
	int inclusive = 0;

	json_object_foreach((json_t *)pj, k, v)
		if (strcmp(k, "_id") && !(json_is_false(v) || (json_is_integer(v) &&
							      !json_integer_value(v))))
			inclusive = 1;
	v = json_object_get(pj, f);
	if (!inclusive)
		return !v || !(json_is_false(v) || (json_is_integer(v) && !json_integer_value(v)));
	return v && !(json_is_false(v) || (json_is_integer(v) && !json_integer_value(v)));
}

static int mongo_read_begin(struct mig_store *st, const struct mig_read_opts *o,
			    struct mig_error *err)
{
	struct mongo_store *S = (struct mongo_store *)st;
	bson_t filter = BSON_INITIALIZER, opts = BSON_INITIALIZER, sort = BSON_INITIALIZER;
	json_t *pipe = NULL;
	int rc;

	S->mode = o->mode;
	S->empty = 0;
	mongoc_cursor_destroy(S->cursor);
	S->cursor = NULL;
	rc = check_read_opts(S, o, &pipe, err);
	if (rc)
		goto out;
	S->base.key_fields = id_key;
	if (o->snapshot && (pipe || o->order_by || o->since || o->projection || o->limit >= 0 ||
			    o->shard_n > 1)) {
		rc = mig_error_set(err, MIG_EUSAGE, "%s: a read of a shared snapshot takes a filter "
				   "only", where(S));
		goto out;
	}
	if (o->limit == 0) {   /* MongoDB reads a limit of 0 as none */
		S->empty = 1;
		goto out;
	}
	if (o->batch_size)
		BSON_APPEND_INT32(&opts, "batchSize", o->batch_size > INT32_MAX ? INT32_MAX
										 : (int32_t)o->batch_size);
	if (pipe && o->projection) {
		rc = mig_error_set(err, MIG_EUSAGE, "%s: a --query pipeline takes no --projection: "
				   "put a $project stage in it", where(S));
		goto out;
	}
	if (pipe) {
		bson_t pl = BSON_INITIALIZER;
		rc = build_pipeline(S, o, pipe, o->limit, NULL, &pl, err);
		if (!rc)
			S->cursor = mongoc_collection_aggregate(S->coll, MONGOC_QUERY_NONE, &pl, &opts,
								NULL);
		bson_destroy(&pl);
		goto out;
	}
	rc = build_filter(S, o, &filter, err);
	if (rc || S->empty)
		goto out;
	if (o->since) {
		BSON_APPEND_INT32(&sort, o->since, 1);
		if (strcmp(o->since, "_id"))
			BSON_APPEND_INT32(&sort, "_id", 1);
	} else if (o->order_by) {
		rc = parse_sort(&sort, o->order_by, S, err);
		if (rc)
			goto out;
	}
	if (!bson_empty(&sort))
		BSON_APPEND_DOCUMENT(&opts, "sort", &sort);
	if (o->limit >= 0)
		BSON_APPEND_INT64(&opts, "limit", o->limit);
	if (o->projection) {
		json_t *pj = NULL;
		bson_t proj = BSON_INITIALIZER;
		rc = parse_json(&pj, "--projection", o->projection, S, err);
		if (!rc)
			rc = to_bson(&proj, pj, "--projection", S, err);
		if (!rc && o->since && !projects_field(pj, o->since))
			rc = mig_error_set(err, MIG_EUSAGE, "%s: --projection must keep the --since "
					   "field %s: the bookmark is read from it", where(S), o->since);
		if (!rc)
			BSON_APPEND_DOCUMENT(&opts, "projection", &proj);
		bson_destroy(&proj);
		json_decref(pj);
		if (rc)
			goto out;
	}
	if (o->snapshot)
		rc = snapshot_find(S, o->snapshot, &filter, &opts, err);
	else
		S->cursor = mongoc_collection_find_with_opts(S->coll, &filter, &opts, NULL);
out:
	json_decref(pipe);
	bson_destroy(&filter);
	bson_destroy(&opts);
	bson_destroy(&sort);
	return rc;
}

static int mongo_read_next(struct mig_store *st, json_t **out, struct mig_error *err)
{
	struct mongo_store *S = (struct mongo_store *)st;
	const bson_t *doc;
	bson_error_t e;
	int rc;

	*out = NULL;
	if (S->empty || !S->cursor)
		return MIG_DONE;
	if (mongoc_cursor_next(S->cursor, &doc)) {
		rc = mig_value_from_bson(out, doc, S->mode, err);
		return rc ? mig_error_prefix(err, "%s", where(S)) : 0;
	}
	if (mongoc_cursor_error(S->cursor, &e))
		return fail(S, &e, err, "reading");
	return MIG_DONE;
}

static int mongo_count(struct mig_store *st, const struct mig_read_opts *o, uint64_t *out,
		       struct mig_error *err)
{
	struct mongo_store *S = (struct mongo_store *)st;
	bson_t filter = BSON_INITIALIZER;
	json_t *pipe = NULL, *cnt = NULL;
	bson_error_t e;
	int64_t n;
	int rc;

	*out = 0;
	S->empty = 0;
	rc = check_read_opts(S, o, &pipe, err);
	if (rc)
		goto out;
	if (pipe && o->projection) {
		rc = mig_error_set(err, MIG_EUSAGE, "%s: a --query pipeline takes no --projection: "
				   "put a $project stage in it", where(S));
		goto out;
	}
	if (pipe) {
		bson_t pl = BSON_INITIALIZER;
		mongoc_cursor_t *c = NULL;
		const bson_t *doc;
		bson_iter_t it;
		cnt = json_pack("{s:s}", "$count", "n");
		rc = build_pipeline(S, o, pipe, -1, cnt, &pl, err);
		if (!rc)
			c = mongoc_collection_aggregate(S->coll, MONGOC_QUERY_NONE, &pl, NULL, NULL);
		if (c && mongoc_cursor_next(c, &doc)) {
			if (bson_iter_init_find(&it, doc, "n") && BSON_ITER_HOLDS_NUMBER(&it))
				*out = (uint64_t)bson_iter_as_int64(&it);
		} else if (c && mongoc_cursor_error(c, &e)) {
			rc = fail(S, &e, err, "counting");
		}
		mongoc_cursor_destroy(c);
		bson_destroy(&pl);
		goto out;
	}
	rc = build_filter(S, o, &filter, err);
	if (rc || S->empty)
		goto out;
	n = mongoc_collection_count_documents(S->coll, &filter, NULL, NULL, NULL, &e);
	if (n < 0)
		rc = fail(S, &e, err, "counting");
	else
		*out = (uint64_t)n;
out:
	json_decref(cnt);
	json_decref(pipe);
	bson_destroy(&filter);
	return rc;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int mongo_list(struct mig_store *st, json_t **out, struct mig_error *err)
{
	struct mongo_store *S = (struct mongo_store *)st;
	bson_t empty = BSON_INITIALIZER;
	json_t *arr = NULL;
	bson_error_t e;
	char **names;
	size_t n = 0;
	int rc = 0;

	*out = NULL;
	names = mongoc_database_get_collection_names_with_opts(S->db, NULL, &e);
	if (!names)
		return fail(S, &e, err, "listing the collections");
	while (names[n])
		n++;
	qsort(names, n, sizeof *names, cmp_str);
	arr = json_array();
	for (size_t i = 0; arr && !rc && i < n; i++) {
		mongoc_collection_t *c = mongoc_database_get_collection(S->db, names[i]);
		int64_t cnt = mongoc_collection_count_documents(c, &empty, NULL, NULL, NULL, &e);
		mongoc_collection_destroy(c);
		if (cnt < 0)
			rc = fail(S, &e, err, names[i]);
		else if (json_array_append_new(arr, json_pack("{s:s, s:I}", "name", names[i],
							      "count", (json_int_t)cnt)))
			rc = nomem(err);
	}
	if (!arr)
		rc = nomem(err);
	bson_strfreev(names);
	if (rc)
		json_decref(arr);
	else
		*out = arr;
	return rc;
}

/* ---- describe ---------------------------------------------------------- */

/* Statistics of one field path, in a json_t tree:
 * {"n": docs holding it, "t": {alias: n}, "p": {name: node}, "i": node} */
static json_t *stat_child(json_t *node, const char *slot, const char *name)
{
	json_t *holder = json_object_get(node, slot), *c;

	if (!name)
		c = holder;
	else
		c = holder ? json_object_get(holder, name) : NULL;
	if (c)
		return c;
	c = json_pack("{s:i, s:{}}", "n", 0, "t");
	if (!c)
		return NULL;
	if (!name) {
		json_object_set_new(node, slot, c);
		return c;
	}
	if (!holder) {
		holder = json_object();
		json_object_set_new(node, slot, holder);
	}
	json_object_set_new(holder, name, c);
	return c;
}

static void stat_bump(json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);

	if (v)
		json_integer_set(v, json_integer_value(v) + 1);
	else
		json_object_set_new(obj, key, json_integer(1));
}

static int stat_value(json_t *node, bson_iter_t *it, int depth);

/* Every field of a document (it is inside it) into node's "p". */
static int stat_doc(json_t *node, bson_iter_t *it, int depth)
{
	while (bson_iter_next(it)) {
		json_t *c = stat_child(node, "p", bson_iter_key(it));
		if (!c || stat_value(c, it, depth))
			return -1;
	}
	return 0;
}

static int stat_value(json_t *node, bson_iter_t *it, int depth)
{
	bson_type_t t = bson_iter_type(it);
	bson_iter_t sub;

	stat_bump(node, "n");
	stat_bump(json_object_get(node, "t"), type_alias(t));
	if (depth > 32)   /* deep enough for a schema */
		return 0;
	if (t == BSON_TYPE_DOCUMENT && bson_iter_recurse(it, &sub))
		return stat_doc(node, &sub, depth + 1);
	if (t == BSON_TYPE_ARRAY && bson_iter_recurse(it, &sub)) {
		json_t *items = stat_child(node, "i", NULL);
		if (!items)
			return -1;
		while (bson_iter_next(&sub))
			if (stat_value(items, &sub, depth + 1))
				return -1;
	}
	return 0;
}

/* The JSON Schema of a statistics node. */
static json_t *stat_schema(json_t *node, json_int_t parent_n)
{
	json_t *s = json_object(), *types = json_array(), *t = json_object_get(node, "t");
	json_t *p = json_object_get(node, "p"), *i = json_object_get(node, "i"), *v;
	const char *alias, *jt[7] = { 0 };
	int njt = 0, any = 0, date = 0;
	const char *only = NULL;

	if (!s || !types)
		goto fail;
	json_object_foreach(t, alias, v) {
		const char *x = NULL;
		if (!strcmp(alias, "int") || !strcmp(alias, "long"))
			x = "integer";
		else if (!strcmp(alias, "double") || !strcmp(alias, "decimal"))
			x = "number";
		else if (!strcmp(alias, "string"))
			x = "string";
		else if (!strcmp(alias, "bool"))
			x = "boolean";
		else if (!strcmp(alias, "null"))
			x = "null";
		else if (!strcmp(alias, "object"))
			x = "object";
		else if (!strcmp(alias, "array"))
			x = "array";
		else if (!strcmp(alias, "date"))
			x = "string", date = 1;
		else
			any = 1;   /* typed wrappers: no JSON type constrains them */
		int seen = 0;
		for (int k = 0; x && k < njt; k++)
			seen |= !strcmp(jt[k], x);
		if (x && !seen && njt < 7)
			jt[njt++] = x;
		if (strcmp(alias, "null"))
			only = only ? "" : alias;
	}
	/* an integer also is a number: "number" alone covers both */
	for (int k = 0; k < njt; k++)
		if (!strcmp(jt[k], "number"))
			for (int m = 0; m < njt; m++)
				if (!strcmp(jt[m], "integer"))
					jt[m] = "number";
	if (!any) {
		for (int k = 0; k < njt; k++) {
			int dup = 0;
			for (int m = 0; m < k; m++)
				dup |= !strcmp(jt[m], jt[k]);
			if (!dup)
				json_array_append_new(types, json_string(jt[k]));
		}
		if (json_array_size(types) == 1)
			json_object_set(s, "type", json_array_get(types, 0));
		else if (json_array_size(types) > 1)
			json_object_set(s, "type", types);
		if (date && only && !strcmp(only, "date"))
			json_object_set_new(s, "format", json_string("date-time"));
	}
	if (p) {
		json_t *props = json_object(), *req = json_array(), *c;
		const char *name;
		json_int_t n = json_integer_value(json_object_get(t, "object"));
		json_object_foreach(p, name, c) {
			json_object_set_new(props, name, stat_schema(c, n));
			if (json_integer_value(json_object_get(c, "n")) >= n)
				json_array_append_new(req, json_string(name));
		}
		json_object_set_new(s, "properties", props);
		if (json_array_size(req))
			json_object_set_new(s, "required", req);
		else
			json_decref(req);
	}
	if (i)
		json_object_set_new(s, "items", stat_schema(i, -1));
	if (only && *only)
		json_object_set_new(s, "x-mig-bson-type", json_string(only));
	json_object_set(s, "x-mig-types", t);
	if (parent_n >= 0)
		json_object_set(s, "x-mig-count", json_object_get(node, "n"));
	json_decref(types);
	return s;
fail:
	json_decref(types);
	json_decref(s);
	return NULL;
}

static int mongo_describe(struct mig_store *st, json_t **out, struct mig_error *err)
{
	struct mongo_store *S = (struct mongo_store *)st;
	bson_t pl = BSON_INITIALIZER, opts = BSON_INITIALIZER, arr, stage, sub, empty = BSON_INITIALIZER;
	mongoc_cursor_t *c;
	const bson_t *doc;
	bson_error_t e;
	bson_iter_t it;
	json_t *root = NULL, *schema = NULL;
	const char *by = "$sample";
	int32_t sample = DESCRIBE_SAMPLE;
	json_int_t n = 0;
	int rc, got = 0;

	*out = NULL;
	rc = need_collection(S, err);
	if (rc)
		return rc;
	if (st->sample)
		sample = st->sample > INT32_MAX ? INT32_MAX : (int32_t)st->sample;
	BSON_APPEND_ARRAY_BEGIN(&pl, "pipeline", &arr);
	BSON_APPEND_DOCUMENT_BEGIN(&arr, "0", &stage);
	BSON_APPEND_DOCUMENT_BEGIN(&stage, "$sample", &sub);
	BSON_APPEND_INT32(&sub, "size", sample);
	bson_append_document_end(&stage, &sub);
	bson_append_document_end(&arr, &stage);
	bson_append_array_end(&pl, &arr);
	root = json_pack("{s:i, s:{}}", "n", 0, "t");
	if (!root) {
		rc = nomem(err);
		goto out;
	}
	c = mongoc_collection_aggregate(S->coll, MONGOC_QUERY_NONE, &pl, NULL, NULL);
	for (;;) {
		while (mongoc_cursor_next(c, &doc)) {
			got = 1;
			n++;
			if (!bson_iter_init(&it, doc) || stat_doc(root, &it, 0)) {
				mongoc_cursor_destroy(c);
				rc = nomem(err);
				goto out;
			}
		}
		if (!mongoc_cursor_error(c, &e))
			break;
		if (got || e.domain != MONGOC_ERROR_SERVER) {
			mongoc_cursor_destroy(c);
			rc = fail(S, &e, err, "sampling documents");
			goto out;
		}
		/* no $sample on this server: the first documents instead */
		mongoc_cursor_destroy(c);
		mig_debug("%s: $sample failed (%s); describing the first %d documents", where(S),
			  e.message, sample);
		by = "first documents (the server has no $sample)";
		BSON_APPEND_INT64(&opts, "limit", sample);
		c = mongoc_collection_find_with_opts(S->coll, &empty, &opts, NULL);
		got = 1;
	}
	mongoc_cursor_destroy(c);
	json_object_set_new(json_object_get(root, "t"), "object", json_integer(n));
	schema = stat_schema(root, -1);
	if (!schema) {
		rc = nomem(err);
		goto out;
	}
	json_object_del(schema, "x-mig-types");
	json_object_del(schema, "x-mig-bson-type");
	*out = json_pack("{s:s, s:s, s:s, s:s, s:[s], s:I, s:s}",
			 "$schema", "https://json-schema.org/draft/2020-12/schema",
			 "title", S->base.loc->collection, "type", "object",
			 "x-mig-backend", "mongodb", "x-mig-primary-key", "_id",
			 "x-mig-sample", n, "x-mig-sampled-by", by);
	if (!*out) {
		rc = nomem(err);
		goto out;
	}
	json_object_update(*out, schema);
out:
	json_decref(schema);
	json_decref(root);
	bson_destroy(&pl);
	bson_destroy(&opts);
	bson_destroy(&empty);
	return rc;
}

/* ---- loading: checks before sending ------------------------------------ */

struct check {
	char path[256];
	size_t len;
	char *why;          /* set on the first problem */
	size_t whylen;
	uint64_t subms;     /* dates with sub-millisecond digits */
};

static void path_push(struct check *c, const char *key, size_t *save)
{
	*save = c->len;
	if (c->len < sizeof c->path - 1) {
		int n = snprintf(c->path + c->len, sizeof c->path - c->len, "/%s", key);
		c->len += (size_t)n < sizeof c->path - c->len ? (size_t)n : sizeof c->path - 1 - c->len;
	}
}

/* Walks a record: every key must be storable.  Returns 0 or -1 (c->why
 * says why). */
static int check_value(struct check *c, const json_t *v, int depth)
{
	enum mig_vtype t = mig_value_type(v);
	size_t save, i;
	const char *key;
	json_t *x;
	int dbref;

	if (t == MIG_V_DATE) {
		int64_t us;
		if (!mig_value_get_date(v, &us, NULL) && us % 1000)
			c->subms++;
		return 0;
	}
	if (t == MIG_V_ARRAY) {
		json_array_foreach(v, i, x) {
			char idx[24];
			snprintf(idx, sizeof idx, "%zu", i);
			path_push(c, idx, &save);
			if (check_value(c, x, depth + 1))
				return -1;
			c->len = save;
			c->path[save] = '\0';
		}
		return 0;
	}
	if (t != MIG_V_OBJECT)
		return 0;
	/* a DBRef ({"$ref", "$id"[, "$db"], ...}) is a document MongoDB takes */
	dbref = json_is_string(json_object_get(v, "$ref")) && json_object_get(v, "$id");
	json_object_foreach((json_t *)v, key, x) {
		if (key[0] == '$' && !(dbref && (!strcmp(key, "$ref") || !strcmp(key, "$id") ||
						 !strcmp(key, "$db")))) {
			snprintf(c->why, c->whylen, "field name \"%s\" at %s/%s starts with '$' and is "
				 "not an Extended JSON wrapper: MongoDB cannot store it", key,
				 c->path, key);
			return -1;
		}
		path_push(c, key, &save);
		if (check_value(c, x, depth + 1))
			return -1;
		c->len = save;
		c->path[save] = '\0';
	}
	return 0;
}

/* ---- loading ------------------------------------------------------------- */

/* Converts item i into S->docs[i], or rejects it.  Returns < 0 only on
 * ENOMEM. */
static int prepare_item(struct mongo_store *S, struct mig_batch_item *it, size_t i,
			struct mig_error *err)
{
	struct check c = { .path = "" };
	char why[512];
	bson_t *d;
	struct mig_error e = { 0 };

	c.why = why;
	c.whylen = sizeof why;
	if (!json_is_object(it->rec)) {
		mig_batch_reject(it, NULL, "not a JSON object");
		return 0;
	}
	if (check_value(&c, it->rec, 0)) {
		mig_batch_reject(it, NULL, "%s", why);
		return 0;
	}
	d = bson_new();
	if (mig_value_to_bson(d, it->rec, &e)) {
		bson_destroy(d);
		if (e.code == MIG_ENOMEM)
			return nomem(err);
		mig_batch_reject(it, NULL, "%s", e.msg);
		return 0;
	}
	if (S->act == A_INSERT && !bson_has_field(d, "_id")) {
		/* our own _id, so that a retry sends the same document */
		bson_t *w = bson_new();
		bson_oid_t oid;
		bson_oid_init(&oid, NULL);
		BSON_APPEND_OID(w, "_id", &oid);
		if (!bson_concat(w, d)) {
			bson_destroy(w);
			bson_destroy(d);
			return nomem(err);
		}
		bson_destroy(d);
		d = w;
	}
	S->docs[i] = d;
	S->have[i] = c.subms ? 3 : 1;
	if (d->len > BSON_DOC_MAX) {
		mig_batch_reject(it, NULL, "the record is %" PRIu32 " bytes as BSON, over the 16 MiB "
				 "limit of a MongoDB document", d->len);
		return 0;
	}
	for (size_t k = 0; S->act != A_INSERT && k < S->wo.nkeys; k++) {
		if (!json_object_get(it->rec, S->wo.keys[k])) {
			mig_batch_reject(it, NULL, "the record has no key field \"%s\"", S->wo.keys[k]);
			return 0;
		}
	}
	return 0;
}

/* The key filter of doc: {k1: v1, ...}. */
static void key_filter(struct mongo_store *S, const bson_t *doc, bson_t *out)
{
	bson_iter_t it;

	for (size_t k = 0; k < S->wo.nkeys; k++)
		if (bson_iter_init_find(&it, doc, S->wo.keys[k]))
			BSON_APPEND_VALUE(out, S->wo.keys[k], bson_iter_value(&it));
}

static int is_key(struct mongo_store *S, const char *name)
{
	for (size_t k = 0; k < S->wo.nkeys; k++)
		if (!strcmp(S->wo.keys[k], name))
			return 1;
	return 0;
}

/* The update document of A_SET / A_KEEP: {$set|$setOnInsert: the fields
 * but the keys, [$setOnInsert: {_id}]}.  Returns 0, or -1 with why set
 * (a field name $set would take for a path). */
static int update_doc(struct mongo_store *S, const bson_t *doc, bson_t *out, char *why, size_t n)
{
	bson_t set, soi;
	bson_iter_t it;
	int nset = 0, has_id = 0;

	BSON_APPEND_DOCUMENT_BEGIN(out, S->act == A_KEEP ? "$setOnInsert" : "$set", &set);
	bson_iter_init(&it, doc);
	while (bson_iter_next(&it)) {
		const char *k = bson_iter_key(&it);
		if (is_key(S, k))
			continue;
		if (!strcmp(k, "_id")) {
			has_id = 1;
			if (S->act == A_SET || S->act == A_UPDATE)
				continue;   /* immutable: a found document keeps its own */
		}
		if (strchr(k, '.')) {
			snprintf(why, n, "field name \"%s\" holds a '.': an update would take it for a "
				 "path (use --mode replace)", k);
			bson_append_document_end(out, &set);
			return -1;
		}
		BSON_APPEND_VALUE(&set, k, bson_iter_value(&it));
		nset++;
	}
	if (!nset)   /* the record is all key: $set it so that the update is not empty */
		key_filter(S, doc, &set);
	bson_append_document_end(out, &set);
	if (has_id && S->act == A_SET && bson_iter_init_find(&it, doc, "_id")) {
		BSON_APPEND_DOCUMENT_BEGIN(out, "$setOnInsert", &soi);
		BSON_APPEND_VALUE(&soi, "_id", bson_iter_value(&it));
		bson_append_document_end(out, &soi);
	}
	return 0;
}

/* Adds item i to the bulk as its next operation.  Returns 0, or rejects
 * the item. */
static void add_op(struct mongo_store *S, mongoc_bulk_operation_t *bulk, struct mig_batch_item *it,
		   size_t i, size_t *nops)
{
	bson_t opts = BSON_INITIALIZER, sel = BSON_INITIALIZER, upd = BSON_INITIALIZER;
	bson_error_t e;
	char why[512];
	bool ok;

	/* our own checks ran; libmongoc's would refuse dotted names that the
	 * server takes */
	BSON_APPEND_BOOL(&opts, "validate", false);
	switch (S->act) {
	case A_INSERT:
		ok = mongoc_bulk_operation_insert_with_opts(bulk, S->docs[i], &opts, &e);
		break;
	case A_REPLACE:
		BSON_APPEND_BOOL(&opts, "upsert", true);
		key_filter(S, S->docs[i], &sel);
		ok = mongoc_bulk_operation_replace_one_with_opts(bulk, &sel, S->docs[i], &opts, &e);
		break;
	case A_DELETE:
		key_filter(S, S->docs[i], &sel);
		ok = mongoc_bulk_operation_remove_one_with_opts(bulk, &sel, NULL, &e);
		break;
	default:
		BSON_APPEND_BOOL(&opts, "upsert", S->act != A_UPDATE);
		key_filter(S, S->docs[i], &sel);
		if (update_doc(S, S->docs[i], &upd, why, sizeof why)) {
			mig_batch_reject(it, NULL, "%s", why);
			goto out;
		}
		ok = mongoc_bulk_operation_update_one_with_opts(bulk, &sel, &upd, &opts, &e);
		break;
	}
	if (ok)
		S->opidx[(*nops)++] = i;
	else
		mig_batch_reject(it, NULL, "%s", e.message);
out:
	bson_destroy(&opts);
	bson_destroy(&sel);
	bson_destroy(&upd);
}

/* Was the document that a duplicate _id names stored by an earlier try of
 * this batch?  Compares the stored document with ours. */
static int landed_before(struct mongo_store *S, const bson_t *doc)
{
	bson_t filter = BSON_INITIALIZER;
	bson_iter_t it;
	mongoc_cursor_t *c;
	const bson_t *found;
	json_t *a = NULL, *b = NULL;
	int same = 0;

	if (!bson_iter_init_find(&it, doc, "_id"))
		goto out;
	BSON_APPEND_VALUE(&filter, "_id", bson_iter_value(&it));
	c = mongoc_collection_find_with_opts(S->coll, &filter, NULL, NULL);
	if (mongoc_cursor_next(c, &found) &&
	    !mig_value_from_bson(&a, found, MIG_JSON_CANONICAL, NULL) &&
	    !mig_value_from_bson(&b, doc, MIG_JSON_CANONICAL, NULL))
		same = mig_value_equal(a, b);
	mongoc_cursor_destroy(c);
out:
	json_decref(a);
	json_decref(b);
	bson_destroy(&filter);
	return same;
}

/* Sets the items' statuses from a bulk reply. */
static int read_reply(struct mongo_store *S, struct mig_batch *b, size_t nops, const bson_t *reply,
		      int retried, struct mig_error *err)
{
	bson_iter_t it, arr, d;
	unsigned char *upserted = NULL;
	int rc = 0;

	if (bson_iter_init_find(&it, reply, "writeConcernErrors") && BSON_ITER_HOLDS_ARRAY(&it) &&
	    bson_iter_recurse(&it, &arr) && bson_iter_next(&arr)) {
		const char *msg = "write concern error";
		if (bson_iter_recurse(&arr, &d) && bson_iter_find(&d, "errmsg") &&
		    BSON_ITER_HOLDS_UTF8(&d))
			msg = bson_iter_utf8(&d, NULL);
		return mig_error_set(err, MIG_EIO, "%s: %s", where(S), msg);
	}
	upserted = calloc(nops ? nops : 1, 1);
	if (!upserted)
		return nomem(err);
	if (bson_iter_init_find(&it, reply, "upserted") && BSON_ITER_HOLDS_ARRAY(&it) &&
	    bson_iter_recurse(&it, &arr)) {
		while (bson_iter_next(&arr)) {
			if (bson_iter_recurse(&arr, &d) && bson_iter_find(&d, "index") &&
			    BSON_ITER_HOLDS_NUMBER(&d)) {
				int64_t k = bson_iter_as_int64(&d);
				if (k >= 0 && (uint64_t)k < nops)
					upserted[k] = 1;
			}
		}
	}
	if (bson_iter_init_find(&it, reply, "writeErrors") && BSON_ITER_HOLDS_ARRAY(&it) &&
	    bson_iter_recurse(&it, &arr)) {
		while (bson_iter_next(&arr)) {
			int64_t k = -1;
			int32_t code = 0;
			const char *msg = "write error";
			char codes[16];
			if (!bson_iter_recurse(&arr, &d))
				continue;
			while (bson_iter_next(&d)) {
				const char *key = bson_iter_key(&d);
				if (!strcmp(key, "index") && BSON_ITER_HOLDS_NUMBER(&d))
					k = bson_iter_as_int64(&d);
				else if (!strcmp(key, "code") && BSON_ITER_HOLDS_NUMBER(&d))
					code = (int32_t)bson_iter_as_int64(&d);
				else if (!strcmp(key, "errmsg") && BSON_ITER_HOLDS_UTF8(&d))
					msg = bson_iter_utf8(&d, NULL);
			}
			if (k < 0 || (uint64_t)k >= nops)
				continue;
			struct mig_batch_item *item = &b->items[S->opidx[k]];
			if (item->status != MIG_ITEM_PENDING)
				continue;
			snprintf(codes, sizeof codes, "%" PRId32, code);
			if (code == CODE_DUPLICATE && retried && S->act == A_INSERT &&
			    landed_before(S, S->docs[S->opidx[k]]))
				item->status = MIG_ITEM_INSERTED;
			else if (code == CODE_DUPLICATE && S->skip_dups)
				item->status = MIG_ITEM_SKIPPED;
			else
				mig_batch_reject(item, codes, "%s", msg);
		}
	}
	for (size_t k = 0; k < nops; k++) {
		struct mig_batch_item *item = &b->items[S->opidx[k]];
		if (item->status != MIG_ITEM_PENDING)
			continue;
		if (S->act == A_DELETE)
			item->status = MIG_ITEM_DELETED;
		else if (S->act == A_INSERT || upserted[k])
			item->status = MIG_ITEM_INSERTED;
		else
			item->status = S->act == A_KEEP ? MIG_ITEM_SKIPPED : MIG_ITEM_UPDATED;
	}
	free(upserted);
	return rc;
}

/* A bulk reply that says, per operation, what the server refused. */
static int has_write_errors(const bson_t *reply)
{
	bson_iter_t it, arr;

	return bson_iter_init_find(&it, reply, "writeErrors") && BSON_ITER_HOLDS_ARRAY(&it) &&
	       bson_iter_recurse(&it, &arr) && bson_iter_next(&arr);
}

/* Does the stored document found (JSON) hold the key of the record rec:
 * the same --key values, or, for an insert, the same _id? */
static int same_key(struct mongo_store *S, const json_t *rec, const json_t *found)
{
	int same = S->wo.nkeys > 0;

	for (size_t k = 0; same && k < S->wo.nkeys; k++) {
		json_t *x = json_object_get(rec, S->wo.keys[k]);
		json_t *y = json_object_get(found, S->wo.keys[k]);
		same = x && y && mig_value_cmp(x, y) == 0;
	}
	if (!same && S->act == A_INSERT) {
		json_t *x = json_object_get(rec, "_id"), *y = json_object_get(found, "_id");
		same = x && y && mig_value_cmp(x, y) == 0;
	}
	return same;
}

/* Sets exists[i] for the pending items whose keys the collection holds
 * (one find with an $or of the batch's keys; values are compared as mig
 * compares them, so 1 and 1.0 are the same key, as in a query); for a
 * delete, only the first record of a key.  For --dry-run, and for update
 * and delete, which send only what is found. */
static int find_existing(struct mongo_store *S, struct mig_batch *b, unsigned char *exists,
			 struct mig_error *err)
{
	bson_t filter = BSON_INITIALIZER, opts = BSON_INITIALIZER, or, proj, one;
	mongoc_cursor_t *c = NULL;
	const bson_t *doc;
	bson_error_t e;
	size_t nq = 0;
	int rc = 0;
	char idx[24];

	BSON_APPEND_ARRAY_BEGIN(&filter, "$or", &or);
	for (size_t i = 0; i < b->n; i++) {
		bson_iter_t it;
		int all = S->wo.nkeys > 0;
		if (b->items[i].status != MIG_ITEM_PENDING)
			continue;
		for (size_t k = 0; k < S->wo.nkeys; k++)
			all &= bson_iter_init_find(&it, S->docs[i], S->wo.keys[k]);
		if (all) {
			snprintf(idx, sizeof idx, "%zu", nq++);
			BSON_APPEND_DOCUMENT_BEGIN(&or, idx, &one);
			for (size_t k = 0; k < S->wo.nkeys; k++)
				if (bson_iter_init_find(&it, S->docs[i], S->wo.keys[k]))
					BSON_APPEND_VALUE(&one, S->wo.keys[k], bson_iter_value(&it));
			bson_append_document_end(&or, &one);
		}
		if (S->act == A_INSERT && json_object_get(b->items[i].rec, "_id") &&
		    bson_iter_init_find(&it, S->docs[i], "_id")) {
			snprintf(idx, sizeof idx, "%zu", nq++);
			BSON_APPEND_DOCUMENT_BEGIN(&or, idx, &one);
			BSON_APPEND_VALUE(&one, "_id", bson_iter_value(&it));
			bson_append_document_end(&or, &one);
		}
	}
	bson_append_array_end(&filter, &or);
	if (nq && !S->assume_empty) {
		BSON_APPEND_DOCUMENT_BEGIN(&opts, "projection", &proj);
		BSON_APPEND_INT32(&proj, "_id", 1);
		for (size_t k = 0; k < S->wo.nkeys; k++)
			if (strcmp(S->wo.keys[k], "_id"))
				BSON_APPEND_INT32(&proj, S->wo.keys[k], 1);
		bson_append_document_end(&opts, &proj);
		c = mongoc_collection_find_with_opts(S->coll, &filter, &opts, NULL);
		while (mongoc_cursor_next(c, &doc)) {
			json_t *found = NULL;
			if (mig_value_from_bson(&found, doc, MIG_JSON_RELAXED, err)) {
				rc = mig_error_prefix(err, "%s: dry run", where(S));
				break;
			}
			for (size_t i = 0; i < b->n; i++)
				if (b->items[i].status == MIG_ITEM_PENDING && !exists[i] &&
				    (exists[i] = same_key(S, b->items[i].rec, found)) &&
				    S->act == A_DELETE)
					break;   /* a key repeated deletes once */
			json_decref(found);
		}
		if (!rc && mongoc_cursor_error(c, &e))
			rc = fail(S, &e, err, "finding the keys");
	}
	mongoc_cursor_destroy(c);
	bson_destroy(&filter);
	bson_destroy(&opts);
	return rc;
}

/* What a record whose key was not found becomes in update and delete. */
static void not_found(struct mongo_store *S, struct mig_batch_item *it)
{
	if (S->act == A_DELETE)
		it->status = MIG_ITEM_NOT_FOUND;
	else
		mig_batch_no_key(it, "document", S->wo.keys, S->wo.nkeys);
}

/* --dry-run: what each pending item would become.  Two records of one
 * batch with the same new key both count as inserted: nothing is written
 * to show the second the first. */
static int dry_classify(struct mongo_store *S, struct mig_batch *b, struct mig_error *err)
{
	unsigned char *exists = calloc(b->n ? b->n : 1, 1);
	int rc;

	if (!exists)
		return nomem(err);
	rc = find_existing(S, b, exists, err);
	for (size_t i = 0; !rc && i < b->n; i++) {
		struct mig_batch_item *it = &b->items[i];
		if (it->status != MIG_ITEM_PENDING)
			continue;
		if (S->act == A_DELETE || S->act == A_UPDATE) {
			if (exists[i])
				it->status = S->act == A_DELETE ? MIG_ITEM_DELETED : MIG_ITEM_UPDATED;
			else
				not_found(S, it);
		} else if (!exists[i])
			it->status = MIG_ITEM_INSERTED;
		else if (S->act == A_KEEP || (S->act == A_INSERT && S->skip_dups))
			it->status = MIG_ITEM_SKIPPED;
		else if (S->act == A_INSERT)
			mig_batch_reject(it, "11000", "duplicate key: the collection holds a document "
					 "with this %s (dry run)", S->wo.nkeys ? "key or _id" : "_id");
		else
			it->status = MIG_ITEM_UPDATED;
	}
	free(exists);
	return rc;
}

/* One bulk write of the items sel[0..n).  Returns 0 with *net 0 when the
 * server answered (statuses set), 0 with *net 1 and e filled when the
 * connection failed, or an error. */
static int exec_items(struct mongo_store *S, struct mig_batch *b, const size_t *sel, size_t n,
		      int retried, int *net, bson_error_t *e, struct mig_error *err)
{
	bson_t opts = BSON_INITIALIZER, reply;
	mongoc_bulk_operation_t *bulk;
	size_t nops = 0;
	uint32_t ok;
	int rc = 0;

	*net = 0;
	BSON_APPEND_BOOL(&opts, "ordered", false);
	bulk = mongoc_collection_create_bulk_operation_with_opts(S->coll, &opts);
	bson_destroy(&opts);
	for (size_t k = 0; k < n; k++)
		if (b->items[sel[k]].status == MIG_ITEM_PENDING)
			add_op(S, bulk, &b->items[sel[k]], sel[k], &nops);
	if (!nops) {
		mongoc_bulk_operation_destroy(bulk);
		return 0;
	}
	ok = mongoc_bulk_operation_execute(bulk, &reply, e);
	mongoc_bulk_operation_destroy(bulk);
	if (ok || (!is_net_error(e) && has_write_errors(&reply)))
		rc = read_reply(S, b, nops, &reply, retried, err);
	else if (is_net_error(e))
		*net = 1;
	else
		rc = fail(S, e, err, "bulk write");
	bson_destroy(&reply);
	return rc;
}

/* Writes the items sel[0..n), through lost connections:
 *   - the server does not answer (down, unreachable): retry with backoff,
 *     --retries times in all for the batch (*attempt counts them), then
 *     MIG_EIO;
 *   - the server closed the connection but answers a ping at once: it
 *     choked on something in these documents (FerretDB v1 drops the
 *     connection on a Decimal128, say): halve the set until the document
 *     stands alone, and reject it.
 * retried: an earlier try of these items may have landed. */
static int write_items(struct mongo_store *S, struct mig_batch *b, size_t *sel, size_t n,
		       int retried, int *attempt, struct mig_error *err)
{
	char why[MIG_ERROR_MAX];
	bson_error_t e;
	int rc, net, again = 0;

	for (;;) {
		struct mig_error cerr = { 0 };

		if (!S->coll) {   /* dropped after a network error */
			rc = connect_client(S, &cerr);
			if (rc && rc != MIG_EIO) {
				*err = cerr;
				return rc;
			}
			if (rc) {
				snprintf(why, sizeof why, "%s", cerr.msg);
				goto retry;
			}
		}
		rc = exec_items(S, b, sel, n, retried, &net, &e, err);
		if (rc || !net)
			return rc;
		retried = 1;
		snprintf(why, sizeof why, "%s: %s", where(S), e.message);
		drop_client(S);
		if (connect_client(S, &cerr) == 0) {
			/* the server is up: the documents are the trouble (a
			 * lone one is tried twice: the drop may have been a
			 * glitch) */
			if (n == 1 && !again++)
				continue;
			if (n == 1) {
				if (b->items[sel[0]].status == MIG_ITEM_PENDING)
					mig_batch_reject(&b->items[sel[0]], NULL, "the server closes the "
							 "connection on this record and takes others: it "
							 "cannot store a value in it (%s)", e.message);
				return 0;
			}
			mig_debug("%s: the server dropped the connection on a batch of %zu and "
				  "answers: halving it", where(S), n);
			rc = write_items(S, b, sel, n / 2, 1, attempt, err);
			if (!rc)
				rc = write_items(S, b, sel + n / 2, n - n / 2, 1, attempt, err);
			return rc;
		}
		drop_client(S);
retry:
		if (mig_interrupted)
			return mig_error_set(err, MIG_EINTR, "%s: interrupted while retrying", where(S));
		if (*attempt >= S->wo.retries)
			return mig_error_set(err, MIG_EIO, "%s (retried %d times)", why, *attempt);
		++*attempt;
		mig_warn("%s; retry %d of %d", why, *attempt, S->wo.retries);
		sleep_ms(500L << (*attempt - 1 < 5 ? *attempt - 1 : 5));
		/* a new client: the old one keeps a failed server in cooldown */
		drop_client(S);
	}
}

static int mongo_write_batch(struct mig_store *st, struct mig_batch *b, struct mig_error *err)
{
	struct mongo_store *S = (struct mongo_store *)st;
	size_t *sel = NULL, n = 0;
	int rc = 0, attempt = 0;

	if (b->n > S->ndocs) {
		bson_t **d = realloc(S->docs, b->n * sizeof *d);
		unsigned char *h = d ? realloc(S->have, b->n) : NULL;
		size_t *o = h ? realloc(S->opidx, b->n * sizeof *o) : NULL;
		if (d)
			S->docs = d;
		if (h)
			S->have = h;
		if (!o)
			return nomem(err);
		S->opidx = o;
		memset(S->have + S->ndocs, 0, b->n - S->ndocs);
		S->ndocs = b->n;
	}
	for (size_t i = 0; i < b->n; i++) {
		if (b->items[i].status != MIG_ITEM_PENDING)
			continue;
		rc = prepare_item(S, &b->items[i], i, err);
		if (rc)
			goto out;
	}
	if (S->wo.dry_run) {
		rc = dry_classify(S, b, err);
		goto out;
	}
	if (S->act == A_UPDATE || S->act == A_DELETE) {
		/* an unordered bulk reply counts matches, but does not say whose:
		 * the keys are looked up first, and only the found are sent */
		unsigned char *exists = calloc(b->n ? b->n : 1, 1);
		if (!exists) {
			rc = nomem(err);
			goto out;
		}
		rc = find_existing(S, b, exists, err);
		for (size_t i = 0; !rc && i < b->n; i++)
			if (b->items[i].status == MIG_ITEM_PENDING && !exists[i])
				not_found(S, &b->items[i]);
		free(exists);
		if (rc)
			goto out;
	}
	sel = malloc((b->n ? b->n : 1) * sizeof *sel);
	if (!sel) {
		rc = nomem(err);
		goto out;
	}
	for (size_t i = 0; i < b->n; i++)
		if (b->items[i].status == MIG_ITEM_PENDING)
			sel[n++] = i;
	if (S->ferretdb && S->act != A_INSERT) {
		for (size_t k = 0; !rc && k < n; k += FERRETDB_KEYED_BULK)
			rc = write_items(S, b, sel + k, n - k < FERRETDB_KEYED_BULK ? n - k
					 : FERRETDB_KEYED_BULK, 0, &attempt, err);
	} else {
		rc = write_items(S, b, sel, n, 0, &attempt, err);
	}
out:
	free(sel);
	for (size_t i = 0; i < b->n && i < S->ndocs; i++) {
		if ((S->have[i] & 2) && (b->items[i].status == MIG_ITEM_INSERTED ||
					 b->items[i].status == MIG_ITEM_UPDATED))
			S->subms_dates++;
		if (S->have[i])
			bson_destroy(S->docs[i]);
		S->have[i] = 0;
	}
	return rc;
}

/* ---- --create with --schema --------------------------------------------- */

static int has_type(const json_t *type, const char *name)
{
	size_t i;
	json_t *x;

	if (json_is_string(type))
		return !strcmp(json_string_value(type), name);
	json_array_foreach(type, i, x)
		if (json_is_string(x) && !strcmp(json_string_value(x), name))
			return 1;
	return 0;
}

/* A JSON Schema (2020-12, as mig writes them) as MongoDB's $jsonSchema
 * dialect (draft 4 with bsonType): typed wrappers become their BSON
 * types, keywords MongoDB does not know are dropped. */
static json_t *to_mongo_schema(const json_t *s, int depth)
{
	static const char *const copy[] = {
		"title", "description", "enum", "minimum", "maximum", "minLength", "maxLength",
		"pattern", "minItems", "maxItems", "uniqueItems", "minProperties",
		"maxProperties", NULL
	};
	json_t *m = json_object(), *type = json_object_get(s, "type"), *v, *bt;
	const char *fmt = json_string_value(json_object_get(s, "format"));
	const char *xbt = json_string_value(json_object_get(s, "x-mig-bson-type"));
	const char *xt = json_string_value(json_object_get(s, "x-mig-type"));
	const char *key;
	json_t *req = json_object_get(s, "required");
	int binary = 0;

	if (!m || !json_is_object(s) || depth > 64)
		return m;
	for (int i = 0; copy[i]; i++)
		if ((v = json_object_get(s, copy[i])))
			json_object_set(m, copy[i], v);
	if (json_is_number(v = json_object_get(s, "exclusiveMinimum"))) {
		json_object_set(m, "minimum", v);
		json_object_set_new(m, "exclusiveMinimum", json_true());
	}
	if (json_is_number(v = json_object_get(s, "exclusiveMaximum"))) {
		json_object_set(m, "maximum", v);
		json_object_set_new(m, "exclusiveMaximum", json_true());
	}
	/* {"type": "object", "required": ["$binary"]}: a binary in the stream */
	if (json_is_array(req) && json_array_size(req) == 1 &&
	    json_is_string(json_array_get(req, 0)) &&
	    !strcmp(json_string_value(json_array_get(req, 0)), "$binary"))
		binary = 1;
	bt = json_array();
	if (xbt) {
		json_array_append_new(bt, json_string(xbt));
		if (has_type(type, "null"))
			json_array_append_new(bt, json_string("null"));
	} else if (binary) {
		json_array_append_new(bt, json_string("binData"));
	} else if (type) {
		if (has_type(type, "null"))
			json_array_append_new(bt, json_string("null"));
		if (has_type(type, "boolean"))
			json_array_append_new(bt, json_string("bool"));
		if (has_type(type, "object"))
			json_array_append_new(bt, json_string("object"));
		if (has_type(type, "array"))
			json_array_append_new(bt, json_string("array"));
		if (has_type(type, "number"))
			json_array_append_new(bt, json_string("number"));
		else if (has_type(type, "integer"))
		{
			json_array_append_new(bt, json_string("int"));
			json_array_append_new(bt, json_string("long"));
		}
		if (has_type(type, "string")) {
			if (fmt && !strcmp(fmt, "date-time"))
				json_array_append_new(bt, json_string("date"));
			else if (xt && (!strncasecmp(xt, "decimal", 7) || !strncasecmp(xt, "numeric", 7)))
				json_array_append_new(bt, json_string("decimal"));
			else
				json_array_append_new(bt, json_string("string"));
		}
	}
	if (json_array_size(bt) == 1)
		json_object_set(m, "bsonType", json_array_get(bt, 0));
	else if (json_array_size(bt) > 1)
		json_object_set(m, "bsonType", bt);
	json_decref(bt);
	if (binary)
		return m;
	if (json_is_array(req) && json_array_size(req))
		json_object_set(m, "required", req);
	if (json_is_object(v = json_object_get(s, "properties"))) {
		json_t *props = json_object(), *p;
		json_object_foreach(v, key, p)
			json_object_set_new(props, key, to_mongo_schema(p, depth + 1));
		json_object_set_new(m, "properties", props);
	}
	if (json_is_object(v = json_object_get(s, "items")))
		json_object_set_new(m, "items", to_mongo_schema(v, depth + 1));
	v = json_object_get(s, "additionalProperties");
	if (json_is_boolean(v))
		json_object_set(m, "additionalProperties", v);
	else if (json_is_object(v))
		json_object_set_new(m, "additionalProperties", to_mongo_schema(v, depth + 1));
	if (json_is_object(v = json_object_get(s, "not")))
		json_object_set_new(m, "not", to_mongo_schema(v, depth + 1));
	for (int i = 0; i < 3; i++) {
		static const char *const comb[] = { "allOf", "anyOf", "oneOf" };
		size_t k;
		json_t *x, *arr;
		if (!json_is_array(v = json_object_get(s, comb[i])))
			continue;
		arr = json_array();
		json_array_foreach(v, k, x)
			json_array_append_new(arr, to_mongo_schema(x, depth + 1));
		json_object_set_new(m, comb[i], arr);
	}
	return m;
}

static int create_collection(struct mongo_store *S, struct mig_error *err)
{
	bson_t opts = BSON_INITIALIZER, cmd = BSON_INITIALIZER, idx, one, keys;
	mongoc_collection_t *c = NULL;
	json_t *schema = NULL, *wrap = NULL;
	json_error_t je;
	bson_error_t e;
	int rc = 0;

	if (S->wo.schema_path) {
		schema = json_load_file(S->wo.schema_path, 0, &je);
		if (!schema || !json_is_object(schema)) {
			rc = mig_error_set(err, MIG_EUSAGE, "--schema %s: %s", S->wo.schema_path,
					   schema ? "not a JSON object" : je.text);
			goto out;
		}
		wrap = json_pack("{s:{s:o}}", "validator", "$jsonSchema", to_mongo_schema(schema, 0));
		if (!wrap || mig_value_to_bson(&opts, wrap, err)) {
			rc = mig_error_prefix(err, "--schema %s", S->wo.schema_path);
			goto out;
		}
	}
	c = mongoc_database_create_collection(S->db, S->base.loc->collection, &opts, &e);
	if (!c && !(e.domain == MONGOC_ERROR_SERVER && e.code == CODE_NS_EXISTS)) {
		rc = fail(S, &e, err, S->wo.schema_path ? "creating the collection with a $jsonSchema "
			  "validator" : "creating the collection");
		goto out;
	}
	if (!c && S->wo.schema_path)
		mig_warn("%s: the collection exists: its validator is left as it is", where(S));
	/* a unique index on --key (_id has one already) */
	if (S->wo.nkeys && !(S->wo.nkeys == 1 && !strcmp(S->wo.keys[0], "_id"))) {
		struct mig_buf name;
		mig_buf_init(&name, 0);
		mig_buf_puts(&name, "mig_key");
		BSON_APPEND_UTF8(&cmd, "createIndexes", S->base.loc->collection);
		BSON_APPEND_ARRAY_BEGIN(&cmd, "indexes", &idx);
		BSON_APPEND_DOCUMENT_BEGIN(&idx, "0", &one);
		BSON_APPEND_DOCUMENT_BEGIN(&one, "key", &keys);
		for (size_t k = 0; k < S->wo.nkeys; k++) {
			BSON_APPEND_INT32(&keys, S->wo.keys[k], 1);
			mig_buf_printf(&name, "_%s", S->wo.keys[k]);
		}
		bson_append_document_end(&one, &keys);
		BSON_APPEND_UTF8(&one, "name", name.data ? name.data : "mig_key");
		BSON_APPEND_BOOL(&one, "unique", true);
		bson_append_document_end(&idx, &one);
		bson_append_array_end(&cmd, &idx);
		mig_buf_free(&name);
		if (!mongoc_database_write_command_with_opts(S->db, &cmd, NULL, NULL, &e))
			rc = fail(S, &e, err, "creating the unique index on --key");
	}
out:
	mongoc_collection_destroy(c);
	json_decref(wrap);
	json_decref(schema);
	bson_destroy(&opts);
	bson_destroy(&cmd);
	return rc;
}

/* ---- snapshots and native definitions (mig-backup, mig-restore) ---------- */

#define CODE_INDEX_OPTIONS_CONFLICT 85
#define CODE_INDEX_KEY_SPECS_CONFLICT 86
#define SNAP_PREFIX "mongodb-snapshot:"

/*
 * mig-backup's one view of the database: a cluster time T, read by every
 * collection's find with readConcern {level: "snapshot", atClusterTime: T}
 * (snapshot_find).  MongoDB serves such reads outside transactions from
 * 5.0 (wire version 13) on a replica set or a sharded cluster, for as long
 * as it keeps T's history (minSnapshotHistoryWindowInSeconds, 300 s by
 * default: a longer backup fails with SnapshotTooOld).  T is the majority
 * commit point the server reports in hello (lastWrite.majorityOpTime), or
 * the operationTime of the hello reply.  A standalone server has no
 * snapshot reads, nor has FerretDB v1, which is never a replica set and
 * takes a readConcern without honouring it: no token then.
 */
static int mongo_snapshot_begin(struct mig_store *st, char **token, struct mig_error *err)
{
	struct mongo_store *S = (struct mongo_store *)st;
	bson_t cmd = BSON_INITIALIZER, reply;
	bson_iter_t it, top;
	bson_error_t e;
	uint32_t t = 0, i = 0;
	int32_t wire = 0;
	const char *kind = NULL;
	int rc = 0;

	*token = NULL;
	BSON_APPEND_INT32(&cmd, "hello", 1);
	if (!mongoc_client_command_simple(S->client, "admin", &cmd, NULL, &reply, &e)) {
		rc = fail(S, &e, err, "asking the server what it is (hello)");
		goto out;
	}
	if (bson_iter_init_find(&it, &reply, "maxWireVersion") && BSON_ITER_HOLDS_INT(&it))
		wire = (int32_t)bson_iter_as_int64(&it);
	if (bson_iter_init_find(&it, &reply, "setName"))
		kind = "replica set";
	else if (bson_iter_init_find(&it, &reply, "msg") && BSON_ITER_HOLDS_UTF8(&it) &&
		 !strcmp(bson_iter_utf8(&it, NULL), "isdbgrid"))
		kind = "sharded cluster";
	if (!kind || wire < 13) {
		mig_info("%s: no snapshot reads: the server is %s (they need MongoDB 5.0 or later "
			 "as a replica set or a sharded cluster)", where(S),
			 kind ? "older than MongoDB 5.0" : "not a replica set nor a sharded cluster");
		goto done;
	}
	if (bson_iter_init(&top, &reply) &&
	    bson_iter_find_descendant(&top, "lastWrite.majorityOpTime.ts", &it) &&
	    BSON_ITER_HOLDS_TIMESTAMP(&it))
		bson_iter_timestamp(&it, &t, &i);
	else if (bson_iter_init_find(&it, &reply, "operationTime") && BSON_ITER_HOLDS_TIMESTAMP(&it))
		bson_iter_timestamp(&it, &t, &i);
	if (!t) {
		mig_info("%s: no snapshot reads: the %s reports no cluster time", where(S), kind);
		goto done;
	}
	if (asprintf(token, SNAP_PREFIX "%" PRIu32 ":%" PRIu32, t, i) < 0) {
		*token = NULL;
		rc = nomem(err);
	} else {
		mig_debug("%s: reading at cluster time %" PRIu32 ":%" PRIu32, where(S), t, i);
	}
done:
	bson_destroy(&reply);
out:
	bson_destroy(&cmd);
	return rc;
}

/* The read of mongo_read_begin at the cluster time of a token of
 * mongo_snapshot_begin: a find command of our own, since libmongoc's
 * find options keep only a read concern's level. */
static int snapshot_find(struct mongo_store *S, const char *token, const bson_t *filter,
			 const bson_t *opts, struct mig_error *err)
{
	bson_t cmd = BSON_INITIALIZER, rc_doc, copts = BSON_INITIALIZER, *reply = bson_new();
	mongoc_server_description_t *sd = NULL;
	unsigned long t, i;
	bson_iter_t it;
	bson_error_t e;
	char *end;
	int rc = 0;

	if (strncmp(token, SNAP_PREFIX, strlen(SNAP_PREFIX)) ||
	    (t = strtoul(token + strlen(SNAP_PREFIX), &end, 10), *end != ':') ||
	    (i = strtoul(end + 1, &end, 10), *end) || t > UINT32_MAX || i > UINT32_MAX) {
		rc = mig_error_set(err, MIG_EUSAGE, "%s: not a snapshot of this backend: %s",
				   where(S), token);
		goto out;
	}
	sd = mongoc_client_select_server(S->client, false, NULL, &e);
	if (!sd) {
		rc = fail(S, &e, err, "selecting a server for the snapshot read");
		goto out;
	}
	BSON_APPEND_UTF8(&cmd, "find", S->base.loc->collection);
	BSON_APPEND_DOCUMENT(&cmd, "filter", filter);
	if (bson_iter_init_find(&it, opts, "batchSize"))
		BSON_APPEND_INT32(&cmd, "batchSize", bson_iter_int32(&it));
	BSON_APPEND_DOCUMENT_BEGIN(&cmd, "readConcern", &rc_doc);
	BSON_APPEND_UTF8(&rc_doc, "level", "snapshot");
	BSON_APPEND_TIMESTAMP(&rc_doc, "atClusterTime", (uint32_t)t, (uint32_t)i);
	bson_append_document_end(&cmd, &rc_doc);
	/* getMore goes where the find went */
	BSON_APPEND_INT32(&copts, "serverId", (int32_t)mongoc_server_description_id(sd));
	if (!mongoc_collection_read_command_with_opts(S->coll, &cmd, NULL, &copts, reply, &e)) {
		rc = fail(S, &e, err, "reading at the snapshot's cluster time");
		goto out;
	}
	S->cursor = mongoc_cursor_new_from_command_reply_with_opts(S->client, reply, &copts);
	reply = NULL;   /* the cursor's */
	if (mongoc_cursor_error(S->cursor, &e))
		rc = fail(S, &e, err, "reading at the snapshot's cluster time");
out:
	mongoc_server_description_destroy(sd);
	bson_destroy(reply);
	bson_destroy(&copts);
	bson_destroy(&cmd);
	return rc;
}

/* A sub-document of it as JSON (canonical: int32, int64 and double stay
 * apart, as createIndexes and create want them back). */
static int subdoc_json(bson_iter_t *it, json_t **out, struct mig_error *err)
{
	const uint8_t *data;
	uint32_t len;
	bson_t sub;

	bson_iter_document(it, &len, &data);
	if (!bson_init_static(&sub, data, len))
		return mig_error_set(err, MIG_EIO, "a malformed document from the server");
	return mig_value_from_bson(out, &sub, MIG_JSON_CANONICAL, err);
}

/*
 * The collection's native definition: {"options": the options of
 * listCollections (validator, validationLevel, validationAction, capped,
 * collation, ...), "indexes": the indexes of listIndexes but _id's, each
 * as createIndexes takes it (key, name, unique, sparse,
 * partialFilterExpression, expireAfterSeconds, collation, ...)}.  A view
 * has none: it is backed up as the documents it shows.
 */
static int mongo_native(struct mig_store *st, json_t **out, struct mig_error *err)
{
	struct mongo_store *S = (struct mongo_store *)st;
	bson_t opts = BSON_INITIALIZER, filter;
	mongoc_cursor_t *c = NULL;
	const bson_t *doc;
	json_t *options = NULL, *indexes = NULL, *ix;
	bson_iter_t it;
	bson_error_t e;
	int rc, found = 0;

	*out = NULL;
	rc = need_collection(S, err);
	if (rc)
		return rc;
	BSON_APPEND_DOCUMENT_BEGIN(&opts, "filter", &filter);
	BSON_APPEND_UTF8(&filter, "name", S->base.loc->collection);
	bson_append_document_end(&opts, &filter);
	c = mongoc_database_find_collections_with_opts(S->db, &opts);
	while (!rc && c && mongoc_cursor_next(c, &doc)) {
		found = 1;
		if (bson_iter_init_find(&it, doc, "type") && BSON_ITER_HOLDS_UTF8(&it) &&
		    strcmp(bson_iter_utf8(&it, NULL), "collection")) {
			mig_debug("%s: a %s: no native definition", where(S), bson_iter_utf8(&it, NULL));
			goto out;
		}
		if (bson_iter_init_find(&it, doc, "options") && BSON_ITER_HOLDS_DOCUMENT(&it))
			rc = subdoc_json(&it, &options, err);
	}
	if (!rc && c && mongoc_cursor_error(c, &e))
		rc = fail(S, &e, err, "listing the collection (listCollections)");
	mongoc_cursor_destroy(c);
	c = NULL;
	if (rc || !found)
		goto out;
	indexes = json_array();
	if (!options)
		options = json_object();
	if (!indexes || !options) {
		rc = nomem(err);
		goto out;
	}
	c = mongoc_collection_find_indexes_with_opts(S->coll, NULL);
	while (!rc && mongoc_cursor_next(c, &doc)) {
		if (bson_iter_init_find(&it, doc, "name") && BSON_ITER_HOLDS_UTF8(&it) &&
		    !strcmp(bson_iter_utf8(&it, NULL), "_id_"))
			continue;
		rc = mig_value_from_bson(&ix, doc, MIG_JSON_CANONICAL, err);
		if (rc)
			break;
		/* the index version and namespace are the server's to choose */
		json_object_del(ix, "v");
		json_object_del(ix, "ns");
		if (json_array_append_new(indexes, ix))
			rc = nomem(err);
	}
	if (!rc && mongoc_cursor_error(c, &e))
		rc = fail(S, &e, err, "listing the indexes (listIndexes)");
	if (!rc && !(*out = json_pack("{s:O, s:O}", "options", options, "indexes", indexes)))
		rc = nomem(err);
out:
	mongoc_cursor_destroy(c);
	json_decref(options);
	json_decref(indexes);
	bson_destroy(&opts);
	return rc;
}

/* An option or an index the server does not have (FerretDB v1 has no
 * validators, TTL or partial indexes): said, and left out. */
static int not_implemented(const bson_error_t *e)
{
	return e->domain == MONGOC_ERROR_SERVER && e->code == CODE_NOT_IMPLEMENTED;
}

/* --create from the native definition of an archived collection
 * (mig-restore into MongoDB): create with its options.  The indexes come
 * after the data (native_indexes, from write_end): building an index once
 * is faster than keeping it up to date through the load. */
static int create_native(struct mongo_store *S, struct mig_error *err)
{
	const json_t *options = json_object_get(S->wo.native, "options");
	bson_t cmd = BSON_INITIALIZER, o = BSON_INITIALIZER;
	bson_error_t e;
	int rc = 0;

	if (!json_is_object(S->wo.native) || (options && !json_is_object(options)) ||
	    !json_is_array(json_object_get(S->wo.native, "indexes")))
		return mig_error_set(err, MIG_ECORRUPT, "%s: the native definition is not a "
				     "collection's (options and indexes)", where(S));
	BSON_APPEND_UTF8(&cmd, "create", S->base.loc->collection);
	if (json_object_size(options)) {
		rc = mig_value_to_bson(&o, options, err);
		if (rc) {
			mig_error_prefix(err, "%s: the native definition's options", where(S));
			goto out;
		}
		bson_concat(&cmd, &o);
	}
	S->native_indexes = 1;
	if (mongoc_database_write_command_with_opts(S->db, &cmd, NULL, NULL, &e))
		goto out;
	if (e.domain == MONGOC_ERROR_SERVER && e.code == CODE_NS_EXISTS) {
		if (json_object_size(options))
			mig_warn("%s: the collection exists: its options (validator, ...) are left "
				 "as they are", where(S));
	} else if (not_implemented(&e)) {
		mig_warn("%s: the server cannot create the collection with its archived options "
			 "(%s): created without them", where(S), e.message);
	} else {
		rc = fail(S, &e, err, "creating the collection with its archived options");
	}
out:
	bson_destroy(&o);
	bson_destroy(&cmd);
	return rc;
}

/* After the load: the archived indexes, one createIndexes each, so that
 * one the server cannot build leaves the others standing. */
static int native_indexes(struct mongo_store *S, struct mig_error *err)
{
	const json_t *list = json_object_get(S->wo.native, "indexes"), *ix;
	size_t k, made = 0;
	int rc = 0;

	json_array_foreach(list, k, ix) {
		bson_t cmd = BSON_INITIALIZER, arr, one = BSON_INITIALIZER;
		const char *name = json_string_value(json_object_get(ix, "name"));
		bson_error_t e;

		if (!json_is_object(ix) || !name)
			return mig_error_set(err, MIG_ECORRUPT, "%s: index %zu of the native "
					     "definition has no name", where(S), k);
		rc = mig_value_to_bson(&one, ix, err);
		if (rc) {
			bson_destroy(&one);
			return mig_error_prefix(err, "%s: index %s of the native definition",
						where(S), name);
		}
		BSON_APPEND_UTF8(&cmd, "createIndexes", S->base.loc->collection);
		BSON_APPEND_ARRAY_BEGIN(&cmd, "indexes", &arr);
		BSON_APPEND_DOCUMENT(&arr, "0", &one);
		bson_append_array_end(&cmd, &arr);
		if (mongoc_database_write_command_with_opts(S->db, &cmd, NULL, NULL, &e))
			made++;
		else if (not_implemented(&e))
			mig_warn("%s: the server cannot create the index %s (%s): left out", where(S),
				 name, e.message);
		else if (e.domain == MONGOC_ERROR_SERVER && (e.code == CODE_INDEX_OPTIONS_CONFLICT ||
							     e.code == CODE_INDEX_KEY_SPECS_CONFLICT))
			mig_warn("%s: an index like %s exists with another definition: left as it "
				 "is (%s)", where(S), name, e.message);
		else
			rc = fail(S, &e, err, name);
		bson_destroy(&one);
		bson_destroy(&cmd);
		if (rc)
			return mig_error_prefix(err, "creating the index");
	}
	mig_debug("%s: %zu of %zu archived indexes created", where(S), made, json_array_size(list));
	return 0;
}

static int mongo_write_begin(struct mig_store *st, const struct mig_write_opts *o,
			     struct mig_error *err)
{
	struct mongo_store *S = (struct mongo_store *)st;
	enum mig_conflict conflict = o->on_conflict;
	bson_error_t e;
	int rc;

	rc = need_collection(S, err);
	if (rc)
		return rc;
	if (o->atomic)
		return mig_error_set(err, MIG_EUSAGE, "%s: --atomic needs multi-document "
				     "transactions, which this backend does not use", where(S));
	S->wo = *o;
	S->wo.nkeys = 0;
	while (o->keys && o->keys[S->wo.nkeys] && (!o->nkeys || S->wo.nkeys < o->nkeys))
		S->wo.nkeys++;
	if ((o->mode == MIG_MODE_UPDATE || o->mode == MIG_MODE_DELETE) &&
	    conflict != MIG_CONFLICT_DEFAULT)
		return mig_error_set(err, MIG_EUSAGE, "%s: --on-conflict cannot go with --mode %s",
				     where(S), mig_load_mode_name(o->mode));
	if (conflict == MIG_CONFLICT_DEFAULT)
		conflict = o->mode == MIG_MODE_INSERT ? MIG_CONFLICT_FAIL
			 : o->mode == MIG_MODE_REPLACE ? MIG_CONFLICT_OVERWRITE : MIG_CONFLICT_MERGE;
	if (o->mode != MIG_MODE_INSERT && conflict == MIG_CONFLICT_FAIL)
		return mig_error_set(err, MIG_EUSAGE, "%s: --on-conflict fail contradicts --mode %s",
				     where(S), mig_load_mode_name(o->mode));
	S->skip_dups = conflict == MIG_CONFLICT_SKIP;
	if (o->mode == MIG_MODE_INSERT && (conflict == MIG_CONFLICT_FAIL || conflict == MIG_CONFLICT_SKIP))
		S->act = A_INSERT;
	else if (conflict == MIG_CONFLICT_SKIP)
		S->act = A_KEEP;
	else if (conflict == MIG_CONFLICT_OVERWRITE)
		S->act = A_REPLACE;
	else
		S->act = A_SET;
	if (o->mode == MIG_MODE_UPDATE || o->mode == MIG_MODE_DELETE)
		S->act = o->mode == MIG_MODE_UPDATE ? A_UPDATE : A_DELETE;
	if (S->act != A_INSERT && !S->wo.nkeys)
		return mig_error_set(err, MIG_EUSAGE, "%s: this --mode / --on-conflict needs --key",
				     where(S));
	for (size_t k = 0; k < S->wo.nkeys; k++)
		if (!*S->wo.keys[k] || S->wo.keys[k][0] == '$')
			return mig_error_set(err, MIG_EUSAGE, "%s: --key \"%s\" is not a field name "
					     "MongoDB can index", where(S), S->wo.keys[k]);
	S->subms_dates = 0;
	if (o->dry_run) {
		S->assume_empty = o->drop || o->truncate;
		return 0;
	}
	if (o->drop && !mongoc_collection_drop_with_opts(S->coll, NULL, &e) &&
	    !(e.domain == MONGOC_ERROR_SERVER && e.code == CODE_NS_NOT_FOUND))
		return fail(S, &e, err, "dropping the collection");
	S->native_indexes = 0;
	if (o->create && o->native && (rc = create_native(S, err)) != 0)
		return rc;
	if (o->create) {
		rc = create_collection(S, err);
		if (rc)
			return rc;
	}
	if (o->truncate) {
		bson_t all = BSON_INITIALIZER;
		bool ok = mongoc_collection_delete_many(S->coll, &all, NULL, NULL, &e);
		bson_destroy(&all);
		if (!ok)
			return fail(S, &e, err, "emptying the collection");
	}
	return 0;
}

static int mongo_write_end(struct mig_store *st, int commit, struct mig_error *err)
{
	struct mongo_store *S = (struct mongo_store *)st;

	if (S->subms_dates)
		mig_info("%s: %" PRIu64 " records held dates with sub-millisecond digits: BSON "
			 "keeps milliseconds, the rest was %struncated", where(S), S->subms_dates,
			 S->wo.dry_run ? "would be " : "");
	if (commit && S->native_indexes && !S->wo.dry_run) {
		S->native_indexes = 0;
		return native_indexes(S, err);
	}
	return 0;
}

const struct mig_backend_ops mig_backend_mongo = {
	.version = MIG_BACKEND_VERSION,
	.scheme = "mongodb",
	.summary = "MongoDB (mongodb://HOST:PORT/DB#COLLECTION), through libmongoc",
	.lib_version = mongo_lib_version,
	.archive_input = MIG_INPUT_CANONICAL,
	.open = mongo_open,
	.close = mongo_close,
	.read_begin = mongo_read_begin,
	.read_next = mongo_read_next,
	.write_begin = mongo_write_begin,
	.write_batch = mongo_write_batch,
	.write_end = mongo_write_end,
	.list = mongo_list,
	.count = mongo_count,
	.describe = mongo_describe,
	.snapshot_begin = mongo_snapshot_begin,
	.native = mongo_native,
};
