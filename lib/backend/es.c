/*
 * es.c - the Elasticsearch backend, on libcurl and Jansson.
 *
 *   es://[USER:PASS@]HOST[:PORT][/PREFIX][?PARAM=VALUE&...]#INDEX
 *   es+https://...   the same over TLS (certificates verified)
 *
 * PORT defaults to 9200; PREFIX is a path in front of every request (a
 * proxy's).  USER:PASS (percent-encoded) is sent as basic auth; without
 * it an API key is sent when the parameter api_key or the environment
 * variable MIG_ES_API_KEY holds one (the "encoded" form Elasticsearch
 * returns).  Credentials go to libcurl only; every message names the store
 * by its redacted locator.  INDEX is one index, alias or, for reading
 * only, a pattern: "logs-*", "a,b", "logs-*,-logs-old".
 *
 * Parameters (mig-load takes those that write_params names as options,
 * --parallel and so on, through mig_write_opts.params: they win):
 *   parallel=N       bulk requests in flight at once (2)
 *   batch_bytes=SIZE bytes of one _bulk request, k/M/G suffixes (5M)
 *   id_field=F       the field that holds the document id (_id); a
 *                    record's "_id" and "_index" never go into the source
 *                    (Elasticsearch refuses them there), another id field
 *                    stays in it
 *   routing_field=F  the field whose value routes the document
 *   refresh=true|wait_for|false   refresh the index at the end of a load
 *                    so that a following read sees it (true)
 *   meta=1           reading: each record also carries its "_index"
 *   size=N           reading: hits per page, 1..10000 (1000; --batch-size
 *                    would take precedence if the program passed one)
 *   keep_alive=T     point-in-time / scroll keep-alive (5m)
 *   pit=auto|off     read with a point in time (auto) or a scroll (off);
 *                    auto falls back to a scroll where there is no PIT
 *   timeout=SECONDS  a request that makes no progress for this long
 *                    fails (120)
 *   shards=N, replicas=N   settings of an index that --create makes
 *   cacert=FILE      CA certificates for es+https
 *   insecure=1       no TLS verification (only when asked)
 *   api_key=KEY      see above; hidden in messages like a password
 *
 * Reading: a point in time and search_after pages sorted by _shard_doc
 * (a scroll where PIT is missing), sliced for --shard K/N.  --where and
 * --query take the query DSL (a query clause, or a search body whose
 * "query" is taken); a --where that is not JSON is a query_string query.
 * --order-by takes "field [asc|desc],..." or a JSON sort.  Every record
 * carries "_id" first.  Elasticsearch gives _source back as it was sent:
 * fields that the mapping types as date become {"$date"}, binary ones
 * {"$binary"}, and fields whose mapping "meta" says mig_type decimal or
 * oid (as --create writes them) {"$numberDecimal"} and {"$oid"}; numbers
 * and strings stay as they are.
 *
 * --since FIELD: FIELD is a top-level field; the bookmark's key is _id.
 * Elasticsearch refuses to sort on _id (no fielddata), so pages are sorted
 * by FIELD then _shard_doc, and the records that share one FIELD value
 * (one sort value) are held until the group ends, then put in (FIELD, _id)
 * order and compared with the bookmark.  Memory grows with the largest
 * such group, not with the index.
 *
 * Writing: each record is one _bulk item.  The action follows the mode
 * and --on-conflict: insert -> create (a duplicate _id is a conflict:
 * rejected, or skipped with --on-conflict skip), overwrite -> index,
 * upsert and merge conflicts -> update with doc_as_upsert, replace ->
 * index, merge mode -> update with doc_as_upsert too (a new key is added,
 * as merge does in PostgreSQL and MongoDB).  A conflict on create whose
 * stored document is identical to the record is counted as skipped, not
 * rejected: that is what a load resumed after a crash, or a request
 * retried after a lost answer, sends again.  Elasticsearch merges objects of a partial update deeply, not
 * shallowly.  The id is the record's id_field, or the --key fields (one:
 * its value; several: the JSON array of their values).
 *
 * A driver batch is committed when write_batch returns, so parallelism is
 * within a batch: the batch is cut into up to `parallel` _bulk requests
 * (each at most batch_bytes, none under 512 KB: smaller ones cost the node
 * more than they gain) sent at once with curl multi.  Elasticsearch does
 * best with large requests: without --batch-size a batch is 10,000
 * records (or MIG_BATCH_BYTES of input), not the 1000 of other stores.
 *
 * Measured on the 2-core test machine (one node, 200,000 documents of
 * 235 bytes, batches of 10,000, best of 5 interleaved runs while other
 * work ran): parallel=1 5.26 s, 2 4.04 s, 4 4.02 s.  The node indexes
 * with one write thread per core, so two requests keep both busy and a
 * third only queues: 2 is the default, --parallel raises it for a bigger
 * node.  Not done, because they did not pay here: gzip request bodies
 * (Content-Encoding: gzip, which the node takes; 4.4x smaller, but on
 * loopback compressing costs the client what it saves the wire: 4.16-4.87
 * s against 4.18-4.64 s with curl), and refresh_interval -1 during a
 * load (slower in 5 of 5 runs, 4.45-5.81 s against 4.05-4.53 s: the
 * final refresh then writes it all at once).  Items answered
 * 429 or 503 are sent again, in one request at a time, after an
 * exponential backoff with jitter, up to --retries times; a 429 also halves
 * the requests in flight for the next batches.  A request that gets no
 * answer is retried the same way.  Items refused for their data (400:
 * mapping and parsing errors) are rejected with Elasticsearch's reason and
 * its error type as the code; the rest of the batch stands.  When the
 * retries run out, or the answer is a failure of the store (a closed or
 * read-only index), the load stops with MIG_EIO: what the batch wrote
 * stays, and a rerun with --checkpoint sends it again (harmless with ids,
 * see above; records without an id would be indexed twice).
 *
 * Typed values become what Elasticsearch indexes: dates ISO strings,
 * decimals strings (numbers for a field the mapping types as a number,
 * unless its meta says mig_type decimal), oids hex strings, binaries
 * base64, longs numbers, non-finite doubles "NaN"/"Infinity" strings.
 * --create makes the index from --schema or from the first batch (later
 * batches add the fields it had not seen: widen()), with
 * date_detection off (a string that looks like a date stays a string) and
 * explicit types for what a string cannot say: date, binary, long, double,
 * boolean, decimal (double, meta mig_type decimal: the source keeps the
 * exact string) and oid (keyword, meta mig_type oid).  A dry run checks
 * and converts every record and asks _mget which ids exist, to count
 * inserts and updates; it cannot see mapping errors, which only indexing
 * finds.  --atomic is refused: Elasticsearch has no transactions.
 * --truncate uses _delete_by_query, or, where that is missing, recreates
 * the index with its mappings, aliases and main settings.
 *
 * mig-backup: snapshot_begin opens one point in time over every index,
 * which each index's read shares (filtered by _index); native gives the
 * index's restorable settings, mappings and aliases, from which a restore
 * into Elasticsearch creates the index (see es_snapshot_begin).
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "mig/backend.h"
#include "mig/buf.h"
#include "mig/cli.h"
#include "mig/log.h"

#define DEFAULT_PARALLEL 2
#define MAX_PARALLEL 64
#define DEFAULT_BATCH_BYTES ((size_t)5 << 20)
#define MIN_PART ((size_t)512 << 10)
#define DEFAULT_PAGE 1000
#define MAX_PAGE 10000
#define DEFAULT_TIMEOUT 120L
#define MAX_RESPONSE ((size_t)1 << 30)
#define MAX_ID_BYTES 512
#define READ_RETRIES 3

/* What a mapped field means to a conversion (the low byte; a binary
 * field's subtype is in the next one). */
enum fkind {
	F_PARENT = 1,   /* an object with such fields below */
	F_DATE,
	F_BINARY,
	F_DECIMAL,
	F_OID,
	F_NUMBER        /* numeric type, not one of our decimals */
};

/* The bulk action of every record. */
enum act {
	A_CREATE,       /* conflicts: rejected or skipped */
	A_INDEX,        /* insert or overwrite */
	A_UPSERT,       /* update, doc_as_upsert */
	A_UPDATE,       /* update of an existing document (merge, --mode update) */
	A_DELETE        /* delete by id (--mode delete) */
};

/* One record of the batch being written: its two lines in s->bulk. */
struct slot {
	size_t item;          /* index in the batch */
	size_t off, len;      /* action and document lines */
	size_t doc_off;       /* the document line */
	size_t id_off;        /* the _id in s->ids, when has_id */
	size_t rt_off;        /* the routing in s->ids, when has_rt */
	unsigned has_id : 1, has_rt : 1, alone : 1, conflict : 1;
};

/* A _bulk request of the pool, and the slots it carries: todo[first..+n). */
struct req {
	CURL *h;
	struct mig_buf resp;
	struct mig_buf body;  /* assembled when the slots are not contiguous */
	char errbuf[CURL_ERROR_SIZE];
	size_t first, n;
	int busy;
};

struct span {
	size_t first, n;
};

struct es_store {
	struct mig_store base;
	int flags;

	/* from the locator */
	char *url;            /* http[s]://host:port[/prefix], no final '/' */
	char *user, *pass, *apikey;   /* secrets: wiped when freed */
	char *cacert;
	int insecure;
	const char *index;    /* loc->collection, borrowed */
	char *qindex;         /* index, percent-encoded for a path */
	int parallel;
	size_t batch_bytes;
	char *id_field, *routing_field;
	int id_set;           /* id_field was given */
	const char *refresh;  /* "true", "wait_for", or NULL */
	int meta;
	int pit_off;
	size_t page;
	char keep_alive[32];
	long timeout;
	int shards, replicas;

	/* HTTP */
	CURL *h;
	struct curl_slist *hjson, *hndjson;
	char *authhdr;        /* "Authorization: ApiKey ..." (a secret) */
	struct mig_buf resp, path, body;
	char errbuf[CURL_ERROR_SIZE];
	long status;
	int abortable;        /* a read: a signal aborts the transfer */

	/* index name -> {path: kind} of the fields a read converts */
	json_t *kinds;

	/* reading */
	json_t *query;        /* the query clause, or NULL */
	json_t *sort;
	json_t *search_after;
	char *pit_id, *scroll_id;
	int pit_shared;       /* pit_id is another store's (snapshot_begin): not ours to close */
	int use_scroll, began_scroll, ended, user_query;
	size_t size;
	int64_t limit, emitted;
	unsigned shard_k, shard_n;
	json_t *page_doc, *hits;
	size_t hit_i;
	const char *since;
	json_t *after_value, *after_id;
	json_t *group, *group_key, *ready;
	size_t ready_i;

	/* writing */
	int writing;
	struct mig_write_opts wo;
	enum act act;
	int skip_conflicts, exists, wrote;
	const char *idf;      /* the field of a one-field id, or NULL: the keys */
	json_t *wnum;         /* path -> F_NUMBER/F_PARENT of the target */
	json_t *acc;          /* an index --create made from records: the value
			       * classes of every field seen (infer_obj) */
	struct mig_buf bulk, ids;
	struct slot *slots;
	size_t nslots, capslots;
	size_t *todo, *next;
	struct span *plan;
	size_t capplan;
	struct req *reqs;
	CURLM *multi;
	int par_now;
	char lasterr[600];
};

static const char *const id_key[] = { "_id", NULL };

/* ---------------------------------------------------------------- helpers */

static const char *where(const struct es_store *s)
{
	return s->base.loc && s->base.loc->redacted ? s->base.loc->redacted : "es";
}

static int oom(struct mig_error *err)
{
	return mig_error_set(err, MIG_ENOMEM, "out of memory");
}

static void free_secret(char *p)
{
	if (p) {
		mig_wipe(p, strlen(p));
		free(p);
	}
}

/* A malloc'd, NUL-terminated copy of [p, p+n) with %XX decoded. */
static char *pct_decode(const char *p, size_t n)
{
	char *out = malloc(n + 1), *q = out;

	if (!out)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (p[i] == '%' && i + 2 < n && mig_hex_digit((unsigned char)p[i + 1]) >= 0 &&
		    mig_hex_digit((unsigned char)p[i + 2]) >= 0) {
			*q++ = (char)(mig_hex_digit((unsigned char)p[i + 1]) << 4 |
				      mig_hex_digit((unsigned char)p[i + 2]));
			i += 2;
		} else {
			*q++ = p[i];
		}
	}
	*q = '\0';
	return out;
}

/* Appends s percent-encoded for a URL path segment or query value:
 * everything but [A-Za-z0-9._~-] and the bytes of `keep`. */
static int put_pct(struct mig_buf *b, const char *s, const char *keep)
{
	static const char hex[] = "0123456789ABCDEF";
	int rc = 0;

	for (const unsigned char *p = (const unsigned char *)s; !rc && *p; p++) {
		if (isalnum(*p) || strchr("._~-", *p) || (keep && strchr(keep, *p)))
			rc = mig_buf_putc(b, (char)*p);
		else
			rc = mig_buf_printf(b, "%%%c%c", hex[*p >> 4], hex[*p & 15]);
	}
	return rc;
}

/* Appends p[0..n) as a JSON string. */
static int put_str(struct mig_buf *b, const char *p, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t start = 0;
	int rc = mig_buf_reserve(b, n + 2);

	if (rc)
		return rc;
	b->data[b->len++] = '"';
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];
		char esc[7];
		size_t el;

		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		if ((rc = mig_buf_append(b, p + start, i - start)) != 0)
			return rc;
		start = i + 1;
		switch (c) {
		case '"': memcpy(esc, "\\\"", 2); el = 2; break;
		case '\\': memcpy(esc, "\\\\", 2); el = 2; break;
		case '\n': memcpy(esc, "\\n", 2); el = 2; break;
		case '\r': memcpy(esc, "\\r", 2); el = 2; break;
		case '\t': memcpy(esc, "\\t", 2); el = 2; break;
		case '\b': memcpy(esc, "\\b", 2); el = 2; break;
		case '\f': memcpy(esc, "\\f", 2); el = 2; break;
		default:
			memcpy(esc, "\\u00", 4);
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 15];
			el = 6;
			break;
		}
		if ((rc = mig_buf_append(b, esc, el)) != 0)
			return rc;
	}
	if ((rc = mig_buf_append(b, p + start, n - start)) != 0)
		return rc;
	return mig_buf_putc(b, '"');
}

static int dump_cb(const char *p, size_t n, void *data)
{
	return mig_buf_append(data, p, n) ? -1 : 0;
}

/* Appends v as compact JSON, as it is (no wrapper conversion). */
static int put_json(struct mig_buf *b, const json_t *v)
{
	return json_dump_callback(v, dump_cb, b, JSON_COMPACT | JSON_ENCODE_ANY) ? MIG_ENOMEM : 0;
}

/* 1 when s is a JSON number literal. */
static int is_json_number(const char *s)
{
	const char *p = s;

	if (*p == '-')
		p++;
	if (*p == '0')
		p++;
	else if (*p >= '1' && *p <= '9')
		while (isdigit((unsigned char)*p))
			p++;
	else
		return 0;
	if (*p == '.') {
		p++;
		if (!isdigit((unsigned char)*p))
			return 0;
		while (isdigit((unsigned char)*p))
			p++;
	}
	if (*p == 'e' || *p == 'E') {
		p++;
		if (*p == '+' || *p == '-')
			p++;
		if (!isdigit((unsigned char)*p))
			return 0;
		while (isdigit((unsigned char)*p))
			p++;
	}
	return *p == '\0';
}

/*
 * Elasticsearch's rules for an index name: lower case, none of
 * \ / * ? " < > | space , # :, not starting with - _ +, not . or .., at
 * most 255 bytes.  A pattern (reading) may hold '*' and be a
 * comma-separated list whose later parts may start with '-' (exclusion).
 * Returns 0, or -1 with why filled.
 */
static int check_name(const char *p, size_t n, int pattern, char *why, size_t wl)
{
	if (n == 0)
		return snprintf(why, wl, "an empty index name"), -1;
	if (n > 255)
		return snprintf(why, wl, "an index name is at most 255 bytes"), -1;
	if ((n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
		return snprintf(why, wl, "an index cannot be named . or .."), -1;
	if (strchr("-_+", p[0]))
		return snprintf(why, wl, "an index name cannot start with '%c'", p[0]), -1;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];
		if (c >= 'A' && c <= 'Z')
			return snprintf(why, wl, "an index name must be lower case"), -1;
		if (c == '*' && pattern)
			continue;
		if (c < 0x20 || strchr("\\/*?\"<>| ,#:", c))
			return snprintf(why, wl, "an index name cannot hold '%c'", c), -1;
	}
	return 0;
}

static int check_index(const struct es_store *s, const char *name, int pattern,
		       struct mig_error *err)
{
	char why[128];
	const char *p = name;

	if (!name)
		return mig_error_set(err, MIG_EUSAGE, "%s: name the index (es://HOST:PORT#INDEX)",
				     where(s));
	for (int first = 1;; first = 0) {
		size_t n = pattern ? strcspn(p, ",") : strlen(p);
		const char *q = p;

		if (pattern && !first && *q == '-' && n > 1)
			q++, n--;
		if (check_name(q, n, pattern, why, sizeof why))
			return mig_error_set(err, MIG_EUSAGE, "%s: bad index name: %s", where(s), why);
		p = q + n;
		if (*p != ',')
			break;
		p++;
	}
	return 0;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR && !mig_interrupted)
		;
}

/* Exponential backoff with jitter before retry number n (1-based):
 * uniformly in [d/2, d], d = 250 ms * 2^(n-1), at most 30 s. */
static void backoff(int n)
{
	long d = 250L << (n > 7 ? 7 : n - 1);

	if (d > 30000)
		d = 30000;
	sleep_ms(d / 2 + random() % (d / 2 + 1));
}

/* ----------------------------------------------------------- error texts */

/* "type: reason (caused by: type: reason)" of an Elasticsearch error
 * object; root_cause first when it names something. */
static void error_text(const json_t *e, char *out, size_t n)
{
	const json_t *rc, *cb;
	const char *type, *reason;
	int len;

	out[0] = '\0';
	if (json_is_string(e)) {
		snprintf(out, n, "%s", json_string_value(e));
		return;
	}
	if (!json_is_object(e))
		return;
	rc = json_array_get(json_object_get(e, "root_cause"), 0);
	type = json_string_value(json_object_get(e, "type"));
	if (rc && type && (strcmp(type, "search_phase_execution_exception") == 0 ||
			   !json_object_get(e, "reason")))
		e = rc;
	type = json_string_value(json_object_get(e, "type"));
	reason = json_string_value(json_object_get(e, "reason"));
	len = snprintf(out, n, "%s%s%s", type ? type : "error", reason ? ": " : "",
		       reason ? reason : "");
	cb = json_object_get(e, "caused_by");
	if (cb && len > 0 && (size_t)len < n) {
		const char *ct = json_string_value(json_object_get(cb, "type"));
		const char *cr = json_string_value(json_object_get(cb, "reason"));
		if (cr && (!reason || !strstr(reason, cr)))
			snprintf(out + len, n - (size_t)len, " (caused by: %s: %s)", ct ? ct : "error",
				 cr);
	}
	for (char *p = out; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
}

/* The error of an answer: its "error" member, else the start of the text. */
static void answer_text(const struct es_store *s, const json_t *doc, char *out, size_t n)
{
	const json_t *e = json_object_get(doc, "error");

	if (e) {
		error_text(e, out, n);
		return;
	}
	snprintf(out, n, "%.*s", (int)(s->resp.len > 300 ? 300 : s->resp.len),
		 s->resp.data ? s->resp.data : "");
	for (char *p = out; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	if (!out[0])
		snprintf(out, n, "no answer body");
}

static const char *error_type(const json_t *doc)
{
	return json_string_value(json_object_get(json_object_get(doc, "error"), "type"));
}

/* -------------------------------------------------------------- the HTTP */

static size_t on_body(char *p, size_t size, size_t n, void *data)
{
	struct mig_buf *b = data;

	if (mig_buf_append(b, p, size * n))
		return 0;   /* over MAX_RESPONSE, or ENOMEM: the transfer fails */
	return size * n;
}

static int on_progress(void *data, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
	const struct es_store *s = data;

	return s->abortable && mig_interrupted;
}

/* The options every handle of the store shares. */
static int handle_setup(struct es_store *s, CURL *h, struct mig_buf *resp, char *errbuf)
{
	int rc = 0;

	rc |= curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	rc |= curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	rc |= curl_easy_setopt(h, CURLOPT_WRITEDATA, resp);
	rc |= curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
	rc |= curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 10L);
	/* a request may be long (a big _bulk), but not silent for long */
	rc |= curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
	rc |= curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, s->timeout);
	rc |= curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
	rc |= curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
#if LIBCURL_VERSION_NUM >= 0x075500
	rc |= curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
#else
	rc |= curl_easy_setopt(h, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
	rc |= curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
	rc |= curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
	rc |= curl_easy_setopt(h, CURLOPT_XFERINFODATA, s);
	if (s->user) {
		rc |= curl_easy_setopt(h, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		rc |= curl_easy_setopt(h, CURLOPT_USERNAME, s->user);
		rc |= curl_easy_setopt(h, CURLOPT_PASSWORD, s->pass ? s->pass : "");
	}
	if (s->cacert)
		rc |= curl_easy_setopt(h, CURLOPT_CAINFO, s->cacert);
	if (s->insecure) {
		rc |= curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
		rc |= curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	return rc ? -1 : 0;
}

/* Sets up h for one request: method, s->url + path, body (NULL: none). */
static void prepare(struct es_store *s, CURL *h, const char *method, const char *path,
		    const char *body, size_t len, int ndjson, struct mig_buf *url)
{
	mig_buf_reset(url);
	if (mig_buf_puts(url, s->url) || mig_buf_puts(url, path))
		return;   /* the URL stays empty: curl fails the request */
	curl_easy_setopt(h, CURLOPT_URL, url->data);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, ndjson ? s->hndjson : s->hjson);
	if (!body && strcmp(method, "GET") && strcmp(method, "DELETE")) {
		body = "";
		len = 0;
	}
	if (body) {
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, strcmp(method, "POST") ? method : NULL);
	} else {
		curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, strcmp(method, "GET") ? method : NULL);
	}
}

/* A transport failure that a retry may cure. */
static int transient(CURLcode cc)
{
	switch (cc) {
	case CURLE_COULDNT_CONNECT:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_COULDNT_RESOLVE_HOST:
		return 1;
	default:
		return 0;
	}
}

static int retry_status(long st)
{
	return st == 429 || st == 502 || st == 503 || st == 504;
}

/*
 * One request on the store's own handle.  Transport failures and 429,
 * 502, 503, 504 answers are retried `retries` times with backoff.  Returns
 * 0 with s->status and s->resp (any status), MIG_EINTR, or MIG_EIO when no
 * answer came (err names the request).
 */
static int http(struct es_store *s, const char *method, const char *path, const char *body,
		size_t len, int ndjson, int retries, struct mig_error *err)
{
	CURLcode cc = CURLE_OK;
	int attempt;

	for (attempt = 0;; attempt++) {
		mig_buf_reset(&s->resp);
		s->errbuf[0] = '\0';
		s->status = 0;
		prepare(s, s->h, method, path, body, len, ndjson, &s->path);
		cc = curl_easy_perform(s->h);
		if (cc == CURLE_ABORTED_BY_CALLBACK)
			return mig_error_set(err, MIG_EINTR, "%s: interrupted", where(s));
		if (cc == CURLE_OK) {
			curl_easy_getinfo(s->h, CURLINFO_RESPONSE_CODE, &s->status);
			if (!retry_status(s->status) || attempt >= retries)
				return 0;
		} else if (!transient(cc) || attempt >= retries) {
			break;
		}
		backoff(attempt + 1);
		if (mig_interrupted && s->abortable)
			return mig_error_set(err, MIG_EINTR, "%s: interrupted", where(s));
	}
	if (cc == CURLE_WRITE_ERROR)
		return mig_error_set(err, MIG_EIO, "%s: %s %.*s: the answer is larger than %zu MB",
				     where(s), method, (int)strcspn(path, "?"), path, MAX_RESPONSE >> 20);
	if (cc == CURLE_OPERATION_TIMEDOUT)
		return mig_error_set(err, MIG_EIO, "%s: %s %.*s: the node did not answer for %ld s "
				     "(timed out; timeout=%ld)%s", where(s), method,
				     (int)strcspn(path, "?"), path, s->timeout, s->timeout,
				     attempt ? " (after retries)" : "");
	return mig_error_set(err, MIG_EIO, "%s: %s %.*s: %s%s", where(s), method,
			     (int)strcspn(path, "?"), path, s->errbuf[0] ? s->errbuf : curl_easy_strerror(cc),
			     attempt ? " (after retries)" : "");
}

/*
 * A request with a JSON body (or none) whose answer is JSON.  Returns 0
 * with *out the parsed answer (NULL when it is not JSON) and s->status
 * set, whatever the status; < 0 when no answer came.
 */
static int call(struct es_store *s, const char *method, const char *path, const json_t *body,
		json_t **out, struct mig_error *err)
{
	int rc;

	*out = NULL;
	mig_buf_reset(&s->body);
	if (body && put_json(&s->body, body))
		return oom(err);
	rc = http(s, method, path, body ? s->body.data : NULL, s->body.len, 0, READ_RETRIES, err);
	if (rc)
		return rc;
	if (s->resp.len)
		*out = json_loadb(s->resp.data, s->resp.len, 0, NULL);
	return 0;
}

/* The error of a failed answer: code by status, message naming the request. */
static int answer_error(struct es_store *s, const char *method, const char *path,
			const json_t *doc, int code, struct mig_error *err)
{
	char why[700];

	int pl = (int)strcspn(path, "?");

	/* the path without its query string, which says nothing to a user */
	answer_text(s, doc, why, sizeof why);
	if (s->status == 401)
		return mig_error_set(err, MIG_EIO, "%s: %s %.*s: authentication failed (401): %s",
				     where(s), method, pl, path, why);
	if (s->status == 403)
		return mig_error_set(err, MIG_EIO, "%s: %s %.*s: forbidden (403): %s", where(s),
				     method, pl, path, why);
	return mig_error_set(err, code, "%s: %s %.*s: HTTP %ld: %s", where(s), method, pl, path,
			     s->status, why);
}

/* call() that wants a 2xx answer with a JSON body. */
static int call_ok(struct es_store *s, const char *method, const char *path, const json_t *body,
		   json_t **out, struct mig_error *err)
{
	int rc = call(s, method, path, body, out, err);

	if (rc)
		return rc;
	if (s->status >= 200 && s->status < 300 && *out)
		return 0;
	if (s->status >= 200 && s->status < 300)
		rc = mig_error_set(err, MIG_EIO, "%s: %s %s: the answer is not JSON", where(s),
				   method, path);
	else
		rc = answer_error(s, method, path, *out, MIG_EIO, err);
	json_decref(*out);
	*out = NULL;
	return rc;
}

/* "/INDEX" + rest into s->path... callers build paths in a local buffer. */
static const char *index_path(struct es_store *s, struct mig_buf *b, const char *rest)
{
	mig_buf_reset(b);
	if (mig_buf_putc(b, '/') || mig_buf_puts(b, s->qindex) || mig_buf_puts(b, rest))
		return NULL;
	return b->data;
}

/* ---------------------------------------------------------- the locator */

static int parse_bool(const char *v, int *out)
{
	if (!strcmp(v, "1") || !strcasecmp(v, "true") || !strcasecmp(v, "yes") || !*v)
		*out = 1;
	else if (!strcmp(v, "0") || !strcasecmp(v, "false") || !strcasecmp(v, "no"))
		*out = 0;
	else
		return -1;
	return 0;
}

static int parse_int(const char *v, long lo, long hi, long *out)
{
	uint64_t n;

	if (mig_parse_u64(v, &n) || n < (uint64_t)lo || n > (uint64_t)hi)
		return -1;
	*out = (long)n;
	return 0;
}

/* One parameter, from the locator (flag 0) or from a program option
 * (flag 1: messages name it --NAME). */
static int set_param(struct es_store *s, const char *k, const char *v, int flag,
		     struct mig_error *err)
{
	long n;
	uint64_t sz;
	int b;
	char name[48];

	snprintf(name, sizeof name, "%s%s", flag ? "--" : "parameter ", k);
	for (char *p = name + 2; flag && *p; p++)
		if (*p == '_')
			*p = '-';
#define BAD(what) return mig_error_set(err, MIG_EUSAGE, "%s: %s takes %s, not '%s'", \
				       where(s), name, what, v)
	if (!strcmp(k, "parallel")) {
		if (parse_int(v, 1, MAX_PARALLEL, &n))
			BAD("1 to 64");
		s->parallel = (int)n;
	} else if (!strcmp(k, "batch_bytes")) {
		if (mig_parse_size(v, &sz) || sz < 1024 || sz > ((uint64_t)1 << 31))
			BAD("a size from 1k to 2G");
		s->batch_bytes = (size_t)sz;
	} else if (!strcmp(k, "id_field") || !strcmp(k, "routing_field")) {
		char **f = !strcmp(k, "id_field") ? &s->id_field : &s->routing_field;
		if (!*v)
			BAD("a field name");
		free(*f);
		if (!(*f = strdup(v)))
			return oom(err);
		s->id_set |= !strcmp(k, "id_field");
	} else if (!strcmp(k, "refresh")) {
		if (!strcmp(v, "wait_for"))
			s->refresh = "wait_for";
		else if (parse_bool(v, &b))
			BAD("true, wait_for or false");
		else
			s->refresh = b ? "true" : NULL;
	} else if (!strcmp(k, "meta")) {
		if (parse_bool(v, &s->meta))
			BAD("0 or 1");
	} else if (!strcmp(k, "insecure")) {
		if (parse_bool(v, &s->insecure))
			BAD("0 or 1");
	} else if (!strcmp(k, "size")) {
		if (parse_int(v, 1, MAX_PAGE, &n))
			BAD("1 to 10000");
		s->page = (size_t)n;
	} else if (!strcmp(k, "keep_alive")) {
		size_t d = strspn(v, "0123456789");
		if (!d || d > 6 || (strcmp(v + d, "s") && strcmp(v + d, "m") && strcmp(v + d, "h") &&
				    strcmp(v + d, "d") && strcmp(v + d, "ms")))
			BAD("a time such as 30s, 5m or 1h");
		snprintf(s->keep_alive, sizeof s->keep_alive, "%s", v);
	} else if (!strcmp(k, "pit")) {
		if (!strcmp(v, "auto"))
			s->pit_off = 0;
		else if (!strcmp(v, "off"))
			s->pit_off = 1;
		else
			BAD("auto or off");
	} else if (!strcmp(k, "timeout")) {
		if (parse_int(v, 1, 86400, &n))
			BAD("1 to 86400 seconds");
		s->timeout = n;
	} else if (!strcmp(k, "shards") || !strcmp(k, "replicas")) {
		if (parse_int(v, !strcmp(k, "shards"), 1024, &n))
			BAD("a count");
		if (!strcmp(k, "shards"))
			s->shards = (int)n;
		else
			s->replicas = (int)n + 1;   /* 0: not given */
	} else if (!strcmp(k, "cacert")) {
		free(s->cacert);
		if (!(s->cacert = strdup(v)))
			return oom(err);
	} else if (!strcmp(k, "api_key")) {
		free_secret(s->apikey);
		if (!(s->apikey = strdup(v)))
			return oom(err);
	} else {
		return mig_error_set(err, MIG_EUSAGE, "%s: unknown parameter '%s' (known: parallel, "
				     "batch_bytes, id_field, routing_field, refresh, meta, size, "
				     "keep_alive, pit, timeout, shards, replicas, cacert, insecure, "
				     "api_key)", where(s), k);
	}
#undef BAD
	return 0;
}

/* es[+http[s]]://[user[:pass]@]host[:port][/prefix][?params] */
static int parse_locator(struct es_store *s, struct mig_error *err)
{
	const char *u = s->base.loc->uri, *p, *end, *at = NULL, *host, *q;
	struct mig_buf b;
	int rc = 0;

	mig_buf_init(&b, 0);
	p = strstr(u, "://");
	if (!p)
		return mig_error_set(err, MIG_EUSAGE, "%s: not an es:// locator", where(s));
	p += 3;
	end = p + strcspn(p, "/?");
	for (q = p; q < end; q++)
		if (*q == '@')
			at = q;
	if (at) {
		const char *colon = memchr(p, ':', (size_t)(at - p));
		s->user = pct_decode(p, (size_t)((colon ? colon : at) - p));
		if (colon)
			s->pass = pct_decode(colon + 1, (size_t)(at - colon - 1));
		if (!s->user || (colon && !s->pass))
			return oom(err);
	}
	host = at ? at + 1 : p;
	if (host == end)
		return mig_error_set(err, MIG_EUSAGE, "%s: the locator names no host", where(s));
	for (q = host; q < end; q++)
		if ((unsigned char)*q <= ' ' || *q == '\\')
			return mig_error_set(err, MIG_EUSAGE, "%s: bad host", where(s));
	rc = mig_buf_puts(&b, s->base.loc->tls ? "https://" : "http://");
	rc = rc ? rc : mig_buf_append(&b, host, (size_t)(end - host));
	/* a port unless one is there ("[::1]" is a host without one) */
	q = end[-1] == ']' ? NULL : memchr(host, ':', (size_t)(end - host));
	if (host[0] == '[') {
		const char *cb = memchr(host, ']', (size_t)(end - host));
		q = cb && cb + 1 < end && cb[1] == ':' ? cb + 1 : NULL;
	}
	if (!rc && !q)
		rc = mig_buf_puts(&b, ":9200");
	p = end;
	end = p + strcspn(p, "?");
	while (end > p && end[-1] == '/')
		end--;
	if (!rc && end > p)
		rc = mig_buf_append(&b, p, (size_t)(end - p));
	if (rc) {
		mig_buf_free(&b);
		return oom(err);
	}
	s->url = mig_buf_steal(&b);
	if (!s->url)
		return oom(err);
	p = strchr(p, '?');
	while (p && *p) {
		const char *amp, *eq;
		char *k, *v;

		p++;
		amp = p + strcspn(p, "&");
		if (amp == p) {
			p = amp;
			continue;
		}
		eq = memchr(p, '=', (size_t)(amp - p));
		k = pct_decode(p, (size_t)((eq ? eq : amp) - p));
		v = eq ? pct_decode(eq + 1, (size_t)(amp - eq - 1)) : strdup("");
		if (!k || !v)
			rc = oom(err);
		else
			rc = set_param(s, k, v, 0, err);
		free(k);
		free_secret(v);
		if (rc)
			return rc;
		p = amp;
	}
	return 0;
}

/* --------------------------------------------------------- open / close */

static void es_close(struct mig_store *st);

static int es_open(struct mig_store **out, struct mig_locator *loc, int flags,
		   struct mig_error *err)
{
	static int curl_ready;
	struct es_store *s;
	const char *env;
	int rc = 0;

	*out = NULL;
	if (!curl_ready) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT))
			return mig_error_set(err, MIG_EIO, "%s: libcurl cannot start", loc->redacted);
		srandom((unsigned)time(NULL) ^ (unsigned)getpid());
		curl_ready = 1;
	}
	s = calloc(1, sizeof *s);
	if (!s)
		return oom(err);
	s->base.loc = loc;
	s->flags = flags;
	s->index = loc->collection;
	s->parallel = DEFAULT_PARALLEL;
	s->batch_bytes = DEFAULT_BATCH_BYTES;
	s->refresh = "true";
	s->page = DEFAULT_PAGE;
	s->timeout = DEFAULT_TIMEOUT;
	snprintf(s->keep_alive, sizeof s->keep_alive, "5m");
	mig_buf_init(&s->resp, MAX_RESPONSE);
	mig_buf_init(&s->path, 0);
	mig_buf_init(&s->body, 0);
	mig_buf_init(&s->bulk, 0);
	mig_buf_init(&s->ids, 0);
	s->id_field = strdup("_id");
	if (!s->id_field) {
		rc = oom(err);
		goto out;
	}
	rc = parse_locator(s, err);
	if (rc)
		goto out;
	if (!s->user && !s->apikey && (env = getenv("MIG_ES_API_KEY")) && *env &&
	    !(s->apikey = strdup(env))) {
		rc = oom(err);
		goto out;
	}
	if (s->index) {
		struct mig_buf b;
		mig_buf_init(&b, 0);
		if (put_pct(&b, s->index, "*,+") || !(s->qindex = mig_buf_steal(&b))) {
			mig_buf_free(&b);
			rc = oom(err);
			goto out;
		}
	}
	s->h = curl_easy_init();
	s->hjson = curl_slist_append(NULL, "Content-Type: application/json");
	s->hndjson = curl_slist_append(NULL, "Content-Type: application/x-ndjson");
	if (!s->h || !s->hjson || !s->hndjson) {
		rc = oom(err);
		goto out;
	}
	/* no "Expect: 100-continue" wait before a large body */
	s->hjson = curl_slist_append(s->hjson, "Expect:");
	s->hndjson = curl_slist_append(s->hndjson, "Expect:");
	if (s->apikey) {
		size_t n = strlen(s->apikey) + 32;
		s->authhdr = malloc(n);
		if (s->authhdr)
			snprintf(s->authhdr, n, "Authorization: ApiKey %s", s->apikey);
		if (!s->authhdr || !(s->hjson = curl_slist_append(s->hjson, s->authhdr)) ||
		    !(s->hndjson = curl_slist_append(s->hndjson, s->authhdr))) {
			rc = oom(err);
			goto out;
		}
	}
	if (!s->hjson || !s->hndjson || handle_setup(s, s->h, &s->resp, s->errbuf)) {
		rc = oom(err);
		goto out;
	}
	if (s->insecure && loc->tls)
		mig_warn("%s: TLS certificates are not verified (insecure=1)", loc->redacted);
out:
	if (rc) {
		s->base.loc = NULL;
		es_close(&s->base);
		return rc;
	}
	*out = &s->base;
	return 0;
}

static void wipe_list(struct curl_slist *l)
{
	for (; l; l = l->next)
		if (l->data && strncmp(l->data, "Authorization:", 14) == 0)
			mig_wipe(l->data, strlen(l->data));
}

static void read_reset(struct es_store *s);
static void write_reset(struct es_store *s);
static int join_snapshot(struct es_store *s, const char *token, struct mig_error *err);
static int create_native_index(struct es_store *s, const json_t *nat, struct mig_error *err);

static void es_close(struct mig_store *st)
{
	struct es_store *s = (struct es_store *)st;

	if (!s)
		return;
	read_reset(s);
	write_reset(s);
	if (s->h)
		curl_easy_cleanup(s->h);
	wipe_list(s->hjson);
	wipe_list(s->hndjson);
	curl_slist_free_all(s->hjson);
	curl_slist_free_all(s->hndjson);
	free_secret(s->authhdr);
	free_secret(s->user);
	free_secret(s->pass);
	free_secret(s->apikey);
	free(s->url);
	free(s->cacert);
	free(s->qindex);
	free(s->id_field);
	free(s->routing_field);
	json_decref(s->kinds);
	mig_buf_free(&s->resp);
	mig_buf_free(&s->path);
	mig_buf_free(&s->body);
	mig_buf_free(&s->bulk);
	mig_buf_free(&s->ids);
	free(s);
}

/* ------------------------------------------------------------- mappings */

static int mapped_kind(const json_t *def, int write)
{
	const char *type = json_string_value(json_object_get(def, "type"));
	const char *mt = json_string_value(json_object_get(json_object_get(def, "meta"), "mig_type"));

	if (!type)
		return 0;
	if (!write) {
		if (mt && !strcmp(mt, "decimal"))
			return F_DECIMAL;
		if (mt && !strcmp(mt, "oid"))
			return F_OID;
		if (!strcmp(type, "date") || !strcmp(type, "date_nanos"))
			return F_DATE;
		if (!strcmp(type, "binary")) {
			const char *sub = json_string_value(json_object_get(json_object_get(def, "meta"),
									    "mig_subtype"));
			int st = sub ? (int)strtol(sub, NULL, 16) & 0xff : 0;
			return F_BINARY | st << 8;
		}
		return 0;
	}
	if (mt)
		return 0;
	static const char *const num[] = { "long", "integer", "short", "byte", "double", "float",
					   "half_float", "scaled_float", "unsigned_long", NULL };
	for (int i = 0; num[i]; i++)
		if (!strcmp(type, num[i]))
			return F_NUMBER;
	return 0;
}

/* Adds path -> kind to out for the fields under props that matter (and
 * F_PARENT for the objects above them).  Returns 1 when it added
 * something, 0 when not, < 0 on ENOMEM. */
static int flatten(json_t *out, const json_t *props, struct mig_buf *path, int write)
{
	const char *name;
	json_t *def;
	int any = 0;

	json_object_foreach((json_t *)props, name, def) {
		size_t len = path->len;
		const json_t *sub = json_object_get(def, "properties");
		int k = 0, rc;

		if ((len && mig_buf_putc(path, '.')) || mig_buf_puts(path, name))
			return MIG_ENOMEM;
		if (json_is_object(sub)) {
			rc = flatten(out, sub, path, write);
			if (rc < 0)
				return rc;
			k = rc ? F_PARENT : 0;
		} else {
			k = mapped_kind(def, write);
		}
		if (k && json_object_set_new(out, path->data, json_integer(k)))
			return MIG_ENOMEM;
		any |= k != 0;
		path->len = len;
		if (path->data)
			path->data[len] = '\0';
	}
	return any;
}

/* GET INDEX/_mapping: *out the answer (index name -> {mappings}), or NULL
 * when the index does not exist. */
static int get_mapping(struct es_store *s, json_t **out, struct mig_error *err)
{
	struct mig_buf p;
	json_t *doc = NULL;
	int rc;

	*out = NULL;
	mig_buf_init(&p, 0);
	if (!index_path(s, &p, "/_mapping")) {
		rc = oom(err);
		goto out;
	}
	rc = call(s, "GET", p.data, NULL, &doc, err);
	if (rc)
		goto out;
	if (s->status == 404) {
		const char *t = error_type(doc);
		if (!t || strcmp(t, "index_not_found_exception"))
			rc = answer_error(s, "GET", p.data, doc, MIG_EIO, err);
		goto out;
	}
	if (s->status != 200 || !json_is_object(doc)) {
		rc = answer_error(s, "GET", p.data, doc, MIG_EIO, err);
		goto out;
	}
	*out = doc;
	doc = NULL;
out:
	json_decref(doc);
	mig_buf_free(&p);
	return rc;
}

/* The per-index kinds a read converts with, from a _mapping answer. */
static int load_kinds(struct es_store *s, const json_t *mapping, struct mig_error *err)
{
	struct mig_buf path;
	const char *name;
	json_t *m;
	int rc = 0;

	json_decref(s->kinds);
	s->kinds = json_object();
	if (!s->kinds)
		return oom(err);
	mig_buf_init(&path, 0);
	json_object_foreach((json_t *)mapping, name, m) {
		json_t *k = json_object();
		const json_t *props = json_object_get(json_object_get(m, "mappings"), "properties");

		mig_buf_reset(&path);
		if (!k || (props && flatten(k, props, &path, 0) < 0) ||
		    json_object_set_new(s->kinds, name, k)) {
			rc = oom(err);
			break;
		}
	}
	mig_buf_free(&path);
	return rc;
}

/* ------------------------------------------------------ values, going in */

/* The id or routing text of a value, appended NUL-terminated to b.
 * Returns 0, or -1 with why set. */
static int id_text(struct mig_buf *b, const json_t *v, const char **why)
{
	struct mig_error e;
	size_t start = b->len;
	int rc = 0;

	switch (mig_value_type(v)) {
	case MIG_V_STRING:
		if (!json_string_length(v))
			return *why = "is an empty string", -1;
		rc = mig_buf_append(b, json_string_value(v), json_string_length(v));
		break;
	case MIG_V_INT: {
		int64_t n;
		if (mig_value_get_int(v, &n, &e))
			return *why = "is not a valid integer", -1;
		rc = mig_buf_printf(b, "%lld", (long long)n);
		break;
	}
	case MIG_V_OID:
	case MIG_V_DECIMAL:
	case MIG_V_DATE:
		/* their plain forms: hex, digits, ISO date */
		rc = mig_value_write(b, v, MIG_JSON_PLAIN);
		if (!rc && b->len - start >= 2 && b->data[start] == '"') {
			memmove(b->data + start, b->data + start + 1, b->len - start - 2);
			b->len -= 2;
		}
		break;
	default:
		return *why = "must be a string or an integer", -1;
	}
	if (rc)
		return *why = "cannot be stored (out of memory)", -1;
	if (b->len - start > MAX_ID_BYTES)
		return *why = "is longer than 512 bytes", -1;
	if (memchr(b->data + start, '\0', b->len - start))
		return *why = "holds a NUL byte", -1;
	return mig_buf_putc(b, '\0') ? (*why = "cannot be stored (out of memory)", -1) : 0;
}

/* Appends v as Elasticsearch should index it (see the top of the file).
 * path is the dotted path of v, for the numeric fields of the mapping;
 * NULL when the mapping has none. */
static int put_value(struct es_store *s, struct mig_buf *b, const json_t *v, struct mig_buf *path)
{
	enum mig_vtype t;
	int rc = 0;

	if (!path)
		return mig_value_write(b, v, MIG_JSON_PLAIN);
	t = mig_value_type(v);
	if (t == MIG_V_OBJECT) {
		const char *k;
		json_t *x;
		size_t len = path->len, n = 0;

		if (!json_object_get(s->wnum, path->data ? path->data : "") && len)
			return mig_value_write(b, v, MIG_JSON_PLAIN);
		rc = mig_buf_putc(b, '{');
		json_object_foreach((json_t *)v, k, x) {
			if (!rc && n++)
				rc = mig_buf_putc(b, ',');
			rc = rc ? rc : put_str(b, k, strlen(k));
			rc = rc ? rc : mig_buf_putc(b, ':');
			rc = rc ? rc : (len ? mig_buf_putc(path, '.') : 0);
			rc = rc ? rc : mig_buf_puts(path, k);
			rc = rc ? rc : put_value(s, b, x, path);
			path->len = len;
			if (path->data)
				path->data[len] = '\0';
		}
		return rc ? rc : mig_buf_putc(b, '}');
	}
	if (t == MIG_V_ARRAY) {
		size_t i;
		json_t *x;

		rc = mig_buf_putc(b, '[');
		json_array_foreach(v, i, x) {
			if (!rc && i)
				rc = mig_buf_putc(b, ',');
			rc = rc ? rc : put_value(s, b, x, path);
		}
		return rc ? rc : mig_buf_putc(b, ']');
	}
	if (t == MIG_V_DECIMAL) {
		const json_t *k = json_object_get(s->wnum, path->data ? path->data : "");
		const char *d;
		if (k && json_integer_value(k) == F_NUMBER && !mig_value_get_decimal(v, &d, NULL) &&
		    is_json_number(d))
			return mig_buf_puts(b, d);
	}
	return mig_value_write(b, v, MIG_JSON_PLAIN);
}

/* --------------------------------------------------- values, coming out */

static json_t *convert_leaf(json_t *v, int kind)
{
	int64_t us;

	switch (kind & 0xff) {
	case F_DATE:
		if (json_is_string(v) &&
		    mig_date_parse(json_string_value(v), json_string_length(v), &us, NULL) == 0)
			return mig_value_date(us);
		if (json_is_integer(v) && json_integer_value(v) > INT64_MIN / 1000 &&
		    json_integer_value(v) < INT64_MAX / 1000)
			return mig_value_date((int64_t)json_integer_value(v) * 1000);
		break;
	case F_BINARY:
		if (json_is_string(v)) {
			char sub[3];
			snprintf(sub, sizeof sub, "%02x", (kind >> 8) & 0xff);
			return json_pack("{s:{s:O, s:s}}", "$binary", "base64", v, "subType", sub);
		}
		break;
	case F_DECIMAL:
		if (json_is_string(v)) {
			json_t *d = mig_value_decimal(json_string_value(v));
			const char *x;
			if (d && mig_value_get_decimal(d, &x, NULL) == 0)
				return d;
			json_decref(d);
		} else if (json_is_integer(v)) {
			char t[32];
			snprintf(t, sizeof t, "%lld", (long long)json_integer_value(v));
			return mig_value_decimal(t);
		} else if (json_is_real(v)) {
			char t[40];
			snprintf(t, sizeof t, "%.17g", json_real_value(v));
			return mig_value_decimal(t);
		}
		break;
	case F_OID:
		if (json_is_string(v) && json_string_length(v) == 24 &&
		    strspn(json_string_value(v), "0123456789abcdefABCDEF") == 24)
			return json_pack("{s:O}", "$oid", v);
		break;
	}
	return json_incref(v);
}

/* Converts, in place, the fields of obj that kinds names. */
static int convert(json_t *obj, const json_t *kinds, struct mig_buf *path)
{
	void *it;
	int rc = 0;

	for (it = json_object_iter(obj); it && !rc; it = json_object_iter_next(obj, it)) {
		const char *k = json_object_iter_key(it);
		json_t *v = json_object_iter_value(it), *kv;
		size_t len = path->len;
		int kind;

		if ((len && mig_buf_putc(path, '.')) || mig_buf_puts(path, k))
			return MIG_ENOMEM;
		kv = json_object_get(kinds, path->data);
		kind = kv ? (int)json_integer_value(kv) : 0;
		if (kind == F_PARENT) {
			if (json_is_object(v)) {
				rc = convert(v, kinds, path);
			} else if (json_is_array(v)) {
				size_t i;
				json_t *x;
				json_array_foreach(v, i, x)
					if (!rc && json_is_object(x))
						rc = convert(x, kinds, path);
			}
		} else if (kind) {
			if (json_is_array(v)) {
				size_t i;
				json_t *x;
				json_array_foreach(v, i, x) {
					json_t *n = convert_leaf(x, kind);
					if (!n || json_array_set_new(v, i, n))
						rc = MIG_ENOMEM;
					if (rc)
						break;
				}
			} else if (!json_is_null(v)) {
				json_t *n = convert_leaf(v, kind);
				if (!n || json_object_iter_set_new(obj, it, n))
					rc = MIG_ENOMEM;
			}
		}
		path->len = len;
		if (path->data)
			path->data[len] = '\0';
	}
	return rc;
}

/* A hit as a record: "_id" (and "_index") first, then _source converted
 * by the mapping of its index. */
static int make_record(struct es_store *s, const json_t *hit, json_t **out, struct mig_error *err)
{
	const json_t *id = json_object_get(hit, "_id"), *ix = json_object_get(hit, "_index");
	const json_t *src = json_object_get(hit, "_source");
	json_t *rec = json_object(), *kinds = NULL;
	struct mig_buf path;
	int rc = 0;

	*out = NULL;
	if (!rec)
		return oom(err);
	if ((id && json_object_set(rec, "_id", (json_t *)id)) ||
	    (s->meta && ix && json_object_set(rec, "_index", (json_t *)ix)) ||
	    (json_is_object(src) && json_object_update(rec, (json_t *)src))) {
		json_decref(rec);
		return oom(err);
	}
	if (json_is_string(ix) && s->kinds)
		kinds = json_object_get(s->kinds, json_string_value(ix));
	if (kinds && json_object_size(kinds)) {
		mig_buf_init(&path, 0);
		rc = convert(rec, kinds, &path);
		mig_buf_free(&path);
		if (rc) {
			json_decref(rec);
			return oom(err);
		}
	}
	*out = rec;
	return 0;
}

/* ----------------------------------------------------------------- reads */

static void close_cursor(struct es_store *s)
{
	struct mig_error ignored;
	json_t *body = NULL, *doc = NULL;
	int was = s->abortable;

	/* best effort: the server drops them at keep_alive anyway */
	s->abortable = 0;
	if (s->pit_id && !s->pit_shared) {
		body = json_pack("{s:s}", "id", s->pit_id);
		if (body)
			call(s, "DELETE", "/_pit", body, &doc, &ignored);
	} else if (s->scroll_id) {
		body = json_pack("{s:s}", "scroll_id", s->scroll_id);
		if (body)
			call(s, "DELETE", "/_search/scroll", body, &doc, &ignored);
	}
	s->abortable = was;
	json_decref(body);
	json_decref(doc);
	free(s->pit_id);
	free(s->scroll_id);
	s->pit_id = s->scroll_id = NULL;
	s->pit_shared = 0;
}

static void read_reset(struct es_store *s)
{
	if (s->h)
		close_cursor(s);
	json_decref(s->query);
	json_decref(s->sort);
	json_decref(s->search_after);
	json_decref(s->page_doc);
	json_decref(s->after_value);
	json_decref(s->after_id);
	json_decref(s->group);
	json_decref(s->group_key);
	json_decref(s->ready);
	s->query = s->sort = s->search_after = s->page_doc = NULL;
	s->after_value = s->after_id = s->group = s->group_key = s->ready = NULL;
	s->hits = NULL;
	s->hit_i = s->ready_i = 0;
	s->ended = s->use_scroll = s->began_scroll = s->user_query = 0;
	s->emitted = 0;
	s->since = NULL;
	s->abortable = 0;
}

/* A --where or --query text as a query clause: JSON (a clause, or a search
 * body whose "query" is taken), else a query_string query. */
static int parse_query(struct es_store *s, const char *text, const char *opt, json_t **out,
		       struct mig_error *err)
{
	json_error_t je;
	json_t *v, *q;
	size_t i = strspn(text, " \t\r\n");

	*out = NULL;
	if (text[i] != '{') {
		if (!text[i])
			return mig_error_set(err, MIG_EUSAGE, "%s: %s is empty", where(s), opt);
		*out = json_pack("{s:{s:s}}", "query_string", "query", text);
		return *out ? 0 : mig_error_set(err, MIG_EUSAGE, "%s: %s is not valid UTF-8",
						where(s), opt);
	}
	v = json_loads(text, 0, &je);
	if (!v)
		return mig_error_set(err, MIG_EUSAGE, "%s: %s: not JSON: %s (column %d)", where(s),
				     opt, je.text, je.column);
	q = json_object_get(v, "query");
	if (json_is_object(q) && json_object_size(v) == 1) {
		*out = json_incref(q);
		json_decref(v);
	} else if (q && json_object_size(v) > 1) {
		json_decref(v);
		return mig_error_set(err, MIG_EUSAGE, "%s: %s: give the query clause alone "
				     "(other search options are not taken)", where(s), opt);
	} else {
		*out = v;
	}
	return 0;
}

/* The query of a read: --query and --where together are both required. */
static int build_query(struct es_store *s, const struct mig_read_opts *o, json_t **out,
		       struct mig_error *err)
{
	json_t *a = NULL, *b = NULL;
	int rc = 0;

	*out = NULL;
	if (o->query && (rc = parse_query(s, o->query, "--query", &a, err)) != 0)
		return rc;
	if (o->where && (rc = parse_query(s, o->where, "--where", &b, err)) != 0) {
		json_decref(a);
		return rc;
	}
	if (a && b) {
		*out = json_pack("{s:{s:[o, o]}}", "bool", "filter", a, b);
		return *out ? 0 : oom(err);
	}
	*out = a ? a : b;
	return 0;
}

static int parse_order(struct es_store *s, const char *text, json_t **out, struct mig_error *err)
{
	json_error_t je;
	json_t *arr = json_array();
	char *copy = NULL, *save = NULL, *tok;
	int rc = 0;

	*out = NULL;
	if (!arr)
		return oom(err);
	if (text[strspn(text, " \t")] == '[' || text[strspn(text, " \t")] == '{') {
		json_t *v = json_loads(text, 0, &je);
		if (!v) {
			rc = mig_error_set(err, MIG_EUSAGE, "%s: --order-by: not JSON: %s", where(s),
					   je.text);
			goto out;
		}
		if (json_is_array(v)) {
			json_decref(arr);
			arr = v;
		} else if (json_array_append_new(arr, v)) {
			rc = oom(err);
		}
		goto out;
	}
	copy = strdup(text);
	if (!copy) {
		rc = oom(err);
		goto out;
	}
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *f = tok + strspn(tok, " \t"), *sp = f + strcspn(f, " \t");
		const char *dir = "asc";
		if (*sp) {
			char *d = sp + strspn(sp, " \t");
			*sp = '\0';
			d[strcspn(d, " \t")] = '\0';
			if (!strcasecmp(d, "desc"))
				dir = "desc";
			else if (*d && strcasecmp(d, "asc")) {
				rc = mig_error_set(err, MIG_EUSAGE, "%s: --order-by: '%s' is not asc "
						   "or desc", where(s), d);
				goto out;
			}
		}
		if (!*f)
			continue;
		if (json_array_append_new(arr, json_pack("{s:{s:s}}", f, "order", dir))) {
			rc = oom(err);
			goto out;
		}
	}
out:
	free(copy);
	if (rc)
		json_decref(arr);
	else
		*out = arr;
	return rc;
}

/* Opens the point in time; 1 when the server has none (use a scroll). */
static int open_pit(struct es_store *s, struct mig_error *err)
{
	struct mig_buf p;
	json_t *doc = NULL;
	const char *t;
	int rc;

	mig_buf_init(&p, 0);
	if (!index_path(s, &p, "/_pit?keep_alive=") || mig_buf_puts(&p, s->keep_alive)) {
		rc = oom(err);
		goto out;
	}
	rc = call(s, "POST", p.data, NULL, &doc, err);
	if (rc)
		goto out;
	t = error_type(doc);
	if (s->status == 200 && json_is_string(json_object_get(doc, "id"))) {
		if (!(s->pit_id = strdup(json_string_value(json_object_get(doc, "id")))))
			rc = oom(err);
	} else if (s->status == 404 && t && !strcmp(t, "index_not_found_exception")) {
		rc = answer_error(s, "POST", p.data, doc, MIG_EIO, err);
	} else if (s->status == 400 || s->status == 404 || s->status == 405) {
		mig_debug("%s: no point in time here (HTTP %ld): reading with a scroll", where(s),
			  s->status);
		rc = 1;
	} else {
		rc = answer_error(s, "POST", p.data, doc, MIG_EIO, err);
	}
out:
	json_decref(doc);
	mig_buf_free(&p);
	return rc;
}

static int es_read_begin(struct mig_store *st, const struct mig_read_opts *o,
			 struct mig_error *err)
{
	struct es_store *s = (struct es_store *)st;
	json_t *mapping = NULL, *q = NULL;
	int rc;

	read_reset(s);
	rc = check_index(s, s->index, 1, err);
	if (rc)
		return rc;
	if (o->since && o->order_by)
		return mig_error_set(err, MIG_EUSAGE, "%s: --since orders by its field: no --order-by",
				     where(s));
	if (o->batch_size > MAX_PAGE)
		return mig_error_set(err, MIG_EUSAGE, "%s: a page holds at most %d hits", where(s),
				     MAX_PAGE);
	s->size = o->batch_size ? o->batch_size : s->page;
	s->limit = o->limit;
	s->shard_k = o->shard_k;
	s->shard_n = o->shard_n > 1 ? o->shard_n : 0;
	s->user_query = o->query || o->where || o->order_by || o->since;
	rc = build_query(s, o, &q, err);
	if (rc)
		goto out;
	if (o->since) {
		json_t *cond;
		s->since = o->since;
		st->key_fields = id_key;
		if (o->after) {
			json_t *v = json_object_get(o->after, "value");
			json_t *k = json_object_get(json_object_get(o->after, "key"), "_id");
			struct mig_buf b;
			json_error_t je;

			if (!v || json_is_null(v) || !json_is_string(k)) {
				rc = mig_error_set(err, MIG_ECORRUPT, "%s: the bookmark has no value "
						   "or no key _id", where(s));
				goto out;
			}
			s->after_value = json_incref(v);
			s->after_id = json_incref(k);
			/* the value as Elasticsearch compares it (a date as ISO text) */
			mig_buf_init(&b, 0);
			if (mig_value_write(&b, v, MIG_JSON_PLAIN)) {
				mig_buf_free(&b);
				rc = oom(err);
				goto out;
			}
			json_t *pv = json_loadb(b.data, b.len, JSON_DECODE_ANY, &je);
			mig_buf_free(&b);
			cond = pv ? json_pack("{s:{s:{s:o}}}", "range", o->since, "gte", pv) : NULL;
		} else {
			cond = json_pack("{s:{s:s}}", "exists", "field", o->since);
		}
		if (!cond) {
			rc = oom(err);
			goto out;
		}
		if (q) {
			json_t *both = json_pack("{s:{s:[o, o]}}", "bool", "filter", q, cond);
			q = both;
		} else {
			q = cond;
		}
		if (!q) {
			rc = oom(err);
			goto out;
		}
		s->group = json_array();
		s->ready = json_array();
		if (!s->group || !s->ready) {
			rc = oom(err);
			goto out;
		}
	}
	s->query = q;
	q = NULL;
	if (o->order_by) {
		rc = parse_order(s, o->order_by, &s->sort, err);
	} else {
		s->sort = json_array();
		if (!s->sort)
			rc = oom(err);
		else if (o->since &&
			 json_array_append_new(s->sort, json_pack("{s:{s:s, s:s}}", o->since, "order",
								  "asc", "unmapped_type", "long")))
			rc = oom(err);
	}
	if (rc)
		goto out;
	/* the mappings of every index read, for the conversions */
	s->abortable = 1;
	rc = get_mapping(s, &mapping, err);
	if (!rc && !mapping)
		rc = mig_error_set(err, MIG_EIO, "%s: no such index", where(s));
	if (!rc)
		rc = load_kinds(s, mapping, err);
	if (rc)
		goto out;
	rc = o->snapshot ? join_snapshot(s, o->snapshot, err) : s->pit_off ? 1 : open_pit(s, err);
	if (rc < 0)
		goto out;
	s->use_scroll = rc == 1;
	rc = 0;
	/* the tiebreak that makes search_after pages exact */
	if (json_array_append_new(s->sort, s->use_scroll ? json_string("_doc")
			       : json_pack("{s:s}", "_shard_doc", "asc")))
		rc = oom(err);
out:
	json_decref(q);
	json_decref(mapping);
	if (rc)
		read_reset(s);
	return rc;
}

/* The error of a failed search: the user's query is usage, else I/O. */
static int search_error(struct es_store *s, const char *path, const json_t *doc,
			struct mig_error *err)
{
	const char *t = error_type(doc);

	if (s->status == 404 && t && !strcmp(t, "search_context_missing_exception"))
		return mig_error_set(err, MIG_EIO, "%s: the point in time or scroll expired "
				     "(keep_alive=%s): read again", where(s), s->keep_alive);
	return answer_error(s, "POST", path, doc, s->status == 400 && s->user_query ? MIG_EUSAGE
				      : MIG_EIO, err);
}

static int fetch_page(struct es_store *s, struct mig_error *err)
{
	struct mig_buf p;
	json_t *body = NULL, *doc = NULL, *sh, *h;
	const char *path;
	size_t n;
	int rc = 0;

	mig_buf_init(&p, 0);
	json_decref(s->page_doc);
	s->page_doc = NULL;
	s->hits = NULL;
	s->hit_i = 0;
	if (s->use_scroll && s->began_scroll) {
		body = json_pack("{s:s, s:s}", "scroll", s->keep_alive, "scroll_id", s->scroll_id);
		path = "/_search/scroll?filter_path=_scroll_id,timed_out,_shards.failed,"
		       "_shards.failures,hits.hits._id,hits.hits._index,hits.hits._source";
	} else {
		size_t want = s->size;
		if (s->limit >= 0 && (int64_t)want > s->limit - s->emitted && !s->since)
			want = (size_t)(s->limit - s->emitted);
		body = json_pack("{s:I, s:O}", "size", (json_int_t)(want ? want : 1), "sort", s->sort);
		/* no total to count, except that a scroll insists */
		if (body && !s->use_scroll)
			json_object_set_new(body, "track_total_hits", json_false());
		if (body && s->query)
			json_object_set(body, "query", s->query);
		if (body && s->shard_n)
			json_object_set_new(body, "slice", json_pack("{s:I, s:I}", "id",
					    (json_int_t)s->shard_k, "max", (json_int_t)s->shard_n));
		if (s->use_scroll) {
			if (!index_path(s, &p, "/_search?scroll=") || mig_buf_puts(&p, s->keep_alive) ||
			    mig_buf_puts(&p, "&filter_path=_scroll_id,timed_out,_shards.failed,"
					 "_shards.failures,hits.hits._id,hits.hits._index,"
					 "hits.hits._source,hits.hits.sort")) {
				rc = oom(err);
				goto out;
			}
			path = p.data;
		} else {
			if (body)
				json_object_set_new(body, "pit", json_pack("{s:s, s:s}", "id", s->pit_id,
							"keep_alive", s->keep_alive));
			if (body && s->search_after)
				json_object_set(body, "search_after", s->search_after);
			path = "/_search?filter_path=pit_id,timed_out,_shards.failed,_shards.failures,"
			       "hits.hits._id,hits.hits._index,hits.hits._source,hits.hits.sort";
		}
	}
	if (!body) {
		rc = oom(err);
		goto out;
	}
	rc = call(s, "POST", path, body, &doc, err);
	if (rc)
		goto out;
	if (s->status != 200 || !json_is_object(doc)) {
		rc = search_error(s, path, doc, err);
		goto out;
	}
	sh = json_object_get(doc, "_shards");
	if (json_integer_value(json_object_get(sh, "failed")) > 0) {
		char why[600];
		error_text(json_object_get(json_array_get(json_object_get(sh, "failures"), 0), "reason"),
			   why, sizeof why);
		rc = mig_error_set(err, s->user_query ? MIG_EUSAGE : MIG_EIO,
				   "%s: %lld shards failed: %s", where(s),
				   (long long)json_integer_value(json_object_get(sh, "failed")), why);
		goto out;
	}
	if (json_is_true(json_object_get(doc, "timed_out"))) {
		rc = mig_error_set(err, MIG_EIO, "%s: the search timed out", where(s));
		goto out;
	}
	if (json_is_string(json_object_get(doc, "pit_id"))) {
		char *id = strdup(json_string_value(json_object_get(doc, "pit_id")));
		if (!id) {
			rc = oom(err);
			goto out;
		}
		free(s->pit_id);
		s->pit_id = id;
	}
	if (json_is_string(json_object_get(doc, "_scroll_id"))) {
		char *id = strdup(json_string_value(json_object_get(doc, "_scroll_id")));
		if (!id) {
			rc = oom(err);
			goto out;
		}
		free(s->scroll_id);
		s->scroll_id = id;
		s->began_scroll = 1;
	}
	h = json_object_get(json_object_get(doc, "hits"), "hits");
	n = json_array_size(h);
	if (s->use_scroll ? n == 0 : n < s->size)
		s->ended = 1;
	if (n) {
		json_t *sort = json_object_get(json_array_get(h, n - 1), "sort");
		json_decref(s->search_after);
		s->search_after = json_incref(sort);
		if (!s->use_scroll && !sort) {
			rc = mig_error_set(err, MIG_EIO, "%s: the search gave no sort values", where(s));
			goto out;
		}
	}
	s->page_doc = doc;
	s->hits = h;
	doc = NULL;
out:
	json_decref(body);
	json_decref(doc);
	mig_buf_free(&p);
	return rc;
}

struct keyed {
	json_t *rec;
	const json_t *v, *id;
};

static int keyed_cmp(const void *a, const void *b)
{
	const struct keyed *x = a, *y = b;
	int c = mig_value_cmp(x->v ? x->v : json_null(), y->v ? y->v : json_null());

	return c ? c : mig_value_cmp(x->id, y->id);
}

/* Moves the group of records that share one sort value to the ready
 * queue, in (FIELD, _id) order, leaving out those not after the bookmark. */
static int flush_group(struct es_store *s, struct mig_error *err)
{
	size_t n = json_array_size(s->group), i;
	struct keyed *k;
	int rc = 0;

	if (!n)
		return 0;
	k = malloc(n * sizeof *k);
	if (!k)
		return oom(err);
	for (i = 0; i < n; i++) {
		k[i].rec = json_array_get(s->group, i);
		k[i].v = json_object_get(k[i].rec, s->since);
		k[i].id = json_object_get(k[i].rec, "_id");
		if (!k[i].id)
			k[i].id = json_null();
	}
	qsort(k, n, sizeof *k, keyed_cmp);
	for (i = 0; i < n && !rc; i++) {
		if (s->after_value) {
			int c = mig_value_cmp(k[i].v ? k[i].v : json_null(), s->after_value);
			if (c < 0 || (c == 0 && mig_value_cmp(k[i].id, s->after_id) <= 0))
				continue;
		}
		if (json_array_append(s->ready, k[i].rec))
			rc = oom(err);
	}
	free(k);
	json_array_clear(s->group);
	return rc;
}

/* Since mode: fills the ready queue from the next pages. */
static int fill_ready(struct es_store *s, struct mig_error *err)
{
	int rc = 0;

	json_array_clear(s->ready);
	s->ready_i = 0;
	while (!json_array_size(s->ready)) {
		if (s->ended)
			return flush_group(s, err);
		rc = fetch_page(s, err);
		if (rc)
			return rc;
		for (size_t i = 0; i < json_array_size(s->hits); i++) {
			const json_t *hit = json_array_get(s->hits, i);
			json_t *key = json_array_get(json_object_get(hit, "sort"), 0), *rec;

			if (s->group_key && !json_equal(key, s->group_key) &&
			    (rc = flush_group(s, err)) != 0)
				return rc;
			json_decref(s->group_key);
			s->group_key = json_incref(key);
			rc = make_record(s, hit, &rec, err);
			if (rc)
				return rc;
			if (json_array_append_new(s->group, rec))
				return oom(err);
		}
		json_decref(s->page_doc);
		s->page_doc = NULL;
		s->hits = NULL;
		if (s->ended && (rc = flush_group(s, err)) != 0)
			return rc;
	}
	return 0;
}

static int es_read_next(struct mig_store *st, json_t **out, struct mig_error *err)
{
	struct es_store *s = (struct es_store *)st;
	int rc;

	*out = NULL;
	if (s->limit >= 0 && s->emitted >= s->limit)
		goto out;
	if (s->since) {
		if (s->ready_i >= json_array_size(s->ready)) {
			rc = fill_ready(s, err);
			if (rc)
				return rc;
			if (!json_array_size(s->ready))
				goto out;
		}
		*out = json_incref(json_array_get(s->ready, s->ready_i++));
		s->emitted++;
		return 0;
	}
	while (!s->hits || s->hit_i >= json_array_size(s->hits)) {
		if (s->ended || !s->sort)
			goto out;
		rc = fetch_page(s, err);
		if (rc)
			return rc;
		if (!json_array_size(s->hits) && s->ended)
			goto out;
	}
	rc = make_record(s, json_array_get(s->hits, s->hit_i++), out, err);
	if (!rc)
		s->emitted++;
	return rc;
out:
	close_cursor(s);
	return MIG_DONE;
}

/* ------------------------------------------------- count, list, describe */

static int es_count(struct mig_store *st, const struct mig_read_opts *o, uint64_t *out,
		    struct mig_error *err)
{
	struct es_store *s = (struct es_store *)st;
	struct mig_buf p;
	json_t *q = NULL, *body = NULL, *doc = NULL;
	json_int_t n = 0;
	int rc;

	*out = 0;
	mig_buf_init(&p, 0);
	rc = check_index(s, s->index, 1, err);
	if (!rc)
		rc = build_query(s, o, &q, err);
	if (rc)
		goto out;
	s->user_query = o->query || o->where;
	if (o->shard_n > 1) {
		/* _count knows no slices: a sliced search of no hits that counts */
		rc = open_pit(s, err);
		if (rc == 1)
			rc = mig_error_set(err, MIG_EUSAGE, "%s: --count --shard needs a point in "
					   "time, which this server lacks", where(s));
		if (rc)
			goto out;
		body = json_pack("{s:i, s:b, s:{s:s, s:s}, s:{s:I, s:I}}", "size", 0,
				 "track_total_hits", 1, "pit", "id", s->pit_id, "keep_alive",
				 s->keep_alive, "slice", "id", (json_int_t)o->shard_k, "max",
				 (json_int_t)o->shard_n);
		if (body && q)
			json_object_set(body, "query", q);
		if (!body) {
			rc = oom(err);
			goto out;
		}
		rc = call(s, "POST", "/_search?filter_path=hits.total,_shards,error", body, &doc, err);
		if (!rc && s->status != 200)
			rc = search_error(s, "/_search", doc, err);
		if (!rc && json_integer_value(json_object_get(json_object_get(doc, "_shards"),
							      "failed")) > 0)
			rc = mig_error_set(err, MIG_EIO, "%s: shards failed while counting", where(s));
		n = json_integer_value(json_object_get(json_object_get(json_object_get(doc, "hits"),
									"total"), "value"));
	} else {
		if (q && !(body = json_pack("{s:O}", "query", q))) {
			rc = oom(err);
			goto out;
		}
		if (!index_path(s, &p, "/_count")) {
			rc = oom(err);
			goto out;
		}
		rc = call(s, "POST", p.data, body, &doc, err);
		if (!rc && s->status == 404)
			rc = answer_error(s, "POST", p.data, doc, MIG_EIO, err);
		else if (!rc && s->status != 200)
			rc = search_error(s, p.data, doc, err);
		n = json_integer_value(json_object_get(doc, "count"));
	}
	if (!rc) {
		*out = n > 0 ? (uint64_t)n : 0;
		if (o->limit >= 0 && *out > (uint64_t)o->limit)
			*out = (uint64_t)o->limit;
	}
out:
	close_cursor(s);
	json_decref(q);
	json_decref(body);
	json_decref(doc);
	mig_buf_free(&p);
	return rc;
}

/* The indices (the locator's pattern, or all that are open) and how many
 * documents each holds: top-level documents, counted by a terms
 * aggregation on _index (_cat's docs.count also counts nested ones). */
static int es_list(struct mig_store *st, json_t **out, struct mig_error *err)
{
	struct es_store *s = (struct es_store *)st;
	struct mig_buf p;
	json_t *cat = NULL, *body = NULL, *doc = NULL, *arr = NULL, *e;
	const char *pat = s->qindex ? s->qindex : "*";
	size_t i;
	int rc = 0;

	*out = NULL;
	mig_buf_init(&p, 0);
	if (s->index && (rc = check_index(s, s->index, 1, err)) != 0)
		return rc;
	if (mig_buf_printf(&p, "/_cat/indices/%s?format=json&h=index,docs.count&s=index"
			   "&expand_wildcards=open", pat)) {
		rc = oom(err);
		goto out;
	}
	rc = call_ok(s, "GET", p.data, NULL, &cat, err);
	if (rc)
		goto out;
	arr = json_array();
	if (!arr) {
		rc = oom(err);
		goto out;
	}
	if (json_array_size(cat)) {
		body = json_pack("{s:i, s:{s:{s:{s:s, s:I}}}}", "size", 0, "aggs", "i", "terms",
				 "field", "_index", "size", (json_int_t)json_array_size(cat));
		mig_buf_reset(&p);
		if (!body || mig_buf_printf(&p, "/%s/_search?filter_path=aggregations"
					    "&expand_wildcards=open", pat)) {
			rc = oom(err);
			goto out;
		}
		rc = call(s, "POST", p.data, body, &doc, err);
		if (rc)
			goto out;
		if (s->status != 200)
			mig_debug("%s: counting by index failed (HTTP %ld): using _cat's counts",
				  where(s), s->status);
	}
	json_array_foreach(cat, i, e) {
		const char *name = json_string_value(json_object_get(e, "index"));
		const char *dc = json_string_value(json_object_get(e, "docs.count"));
		json_int_t n = dc ? (json_int_t)strtoll(dc, NULL, 10) : 0;
		json_t *b, *buckets = json_object_get(json_object_get(json_object_get(doc,
						      "aggregations"), "i"), "buckets");
		size_t j;

		if (!name)
			continue;
		if (s->status == 200) {
			n = 0;
			json_array_foreach(buckets, j, b)
				if (json_is_string(json_object_get(b, "key")) &&
				    !strcmp(json_string_value(json_object_get(b, "key")), name))
					n = json_integer_value(json_object_get(b, "doc_count"));
		}
		if (json_array_append_new(arr, json_pack("{s:s, s:I}", "name", name, "count", n))) {
			rc = oom(err);
			goto out;
		}
	}
out:
	json_decref(cat);
	json_decref(body);
	json_decref(doc);
	mig_buf_free(&p);
	if (rc)
		json_decref(arr);
	else
		*out = arr;
	return rc;
}

/* The JSON Schema of one mapped field. */
static json_t *field_schema(const json_t *def)
{
	const char *type = json_string_value(json_object_get(def, "type"));
	const json_t *props = json_object_get(def, "properties");
	const char *mt = json_string_value(json_object_get(json_object_get(def, "meta"), "mig_type"));
	json_t *sch = json_object(), *extra;
	int rc = 0;

	if (!sch)
		return NULL;
	if (json_is_object(props) || (type && !strcmp(type, "object"))) {
		json_t *p = json_object();
		const char *k;
		json_t *d;

		json_object_foreach((json_t *)props, k, d) {
			json_t *f = field_schema(d);
			if (!f || json_object_set_new(p, k, f))
				rc = -1;
		}
		if (type && !strcmp(type, "nested"))
			rc |= json_object_set_new(sch, "type", json_string("array")) ||
			      json_object_set_new(sch, "items", json_pack("{s:s, s:o}", "type", "object",
									  "properties", p));
		else
			rc |= json_object_set_new(sch, "type", json_string("object")) ||
			      json_object_set_new(sch, "properties", p);
		if (!type)
			type = "object";
	} else if (mt && !strcmp(mt, "decimal")) {
		rc |= json_object_set_new(sch, "type", json_string("number"));
		rc |= json_object_set_new(sch, "x-mig-type", json_string("decimal"));
	} else if (mt && !strcmp(mt, "oid")) {
		rc |= json_object_set_new(sch, "type", json_string("string"));
		rc |= json_object_set_new(sch, "x-mig-type", json_string("oid"));
	} else if (type) {
		static const struct {
			const char *es, *type, *format;
		} map[] = {
			{ "date", "string", "date-time" }, { "date_nanos", "string", "date-time" },
			{ "keyword", "string", NULL }, { "text", "string", NULL },
			{ "constant_keyword", "string", NULL }, { "wildcard", "string", NULL },
			{ "match_only_text", "string", NULL }, { "ip", "string", NULL },
			{ "version", "string", NULL }, { "search_as_you_type", "string", NULL },
			{ "long", "integer", NULL }, { "integer", "integer", NULL },
			{ "short", "integer", NULL }, { "byte", "integer", NULL },
			{ "unsigned_long", "integer", NULL }, { "double", "number", NULL },
			{ "float", "number", NULL }, { "half_float", "number", NULL },
			{ "scaled_float", "number", NULL }, { "boolean", "boolean", NULL },
			{ "binary", "string", NULL }, { "flattened", "object", NULL },
		};
		for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
			if (strcmp(map[i].es, type))
				continue;
			rc |= json_object_set_new(sch, "type", json_string(map[i].type));
			if (map[i].format)
				rc |= json_object_set_new(sch, "format", json_string(map[i].format));
			break;
		}
		if (!strcmp(type, "binary"))
			rc |= json_object_set_new(sch, "contentEncoding", json_string("base64"));
		static const struct {
			const char *es;
			json_int_t lo, hi;
		} lim[] = {
			{ "integer", -2147483648LL, 2147483647LL }, { "short", -32768, 32767 },
			{ "byte", -128, 127 },
		};
		for (size_t i = 0; i < sizeof lim / sizeof lim[0]; i++)
			if (!strcmp(lim[i].es, type)) {
				rc |= json_object_set_new(sch, "minimum", json_integer(lim[i].lo));
				rc |= json_object_set_new(sch, "maximum", json_integer(lim[i].hi));
			}
	}
	if (type)
		rc |= json_object_set_new(sch, "x-es-type", json_string(type));
	/* the whole field mapping when it says more than its type, so that
	 * --create --schema can make the same field again */
	extra = json_deep_copy(def);
	if (extra) {
		json_object_del(extra, "properties");
		json_object_del(extra, "type");
		if (json_object_size(extra)) {
			json_object_del(extra, "meta");
			if (type && strcmp(type, "object"))
				json_object_set_new(extra, "type", json_string(type));
			if (json_object_size(extra))
				rc |= json_object_set(sch, "x-es-mapping", extra);
		}
		json_decref(extra);
	}
	if (rc) {
		json_decref(sch);
		return NULL;
	}
	return sch;
}

static int es_describe(struct mig_store *st, json_t **out, struct mig_error *err)
{
	struct es_store *s = (struct es_store *)st;
	json_t *mapping = NULL, *doc = NULL, *props, *m;
	const char *name;
	int rc;

	*out = NULL;
	rc = check_index(s, s->index, 1, err);
	if (!rc)
		rc = get_mapping(s, &mapping, err);
	if (!rc && !mapping)
		rc = mig_error_set(err, MIG_EIO, "%s: no such index", where(s));
	if (rc)
		return rc;
	doc = json_pack("{s:s, s:s, s:s, s:s, s:{s:{s:s}}, s:[s]}",
			"$schema", "https://json-schema.org/draft/2020-12/schema",
			"title", s->index, "type", "object", "x-mig-backend", "es",
			"properties", "_id", "type", "string", "x-mig-primary-key", "_id");
	if (!doc) {
		rc = oom(err);
		goto out;
	}
	props = json_object_get(doc, "properties");
	/* several indices (a pattern): the union of their fields, the first
	 * index's definition winning */
	json_object_foreach(mapping, name, m) {
		const char *k;
		json_t *d, *mp = json_object_get(m, "mappings");

		json_object_foreach(json_object_get(mp, "properties"), k, d) {
			json_t *f;
			if (json_object_get(props, k))
				continue;
			f = field_schema(d);
			if (!f || json_object_set_new(props, k, f)) {
				rc = oom(err);
				goto out;
			}
		}
		if (json_is_string(json_object_get(mp, "dynamic")) &&
		    !strcmp(json_string_value(json_object_get(mp, "dynamic")), "strict"))
			json_object_set_new(doc, "additionalProperties", json_false());
	}
out:
	json_decref(mapping);
	if (rc)
		json_decref(doc);
	else
		*out = doc;
	return rc;
}

/* ---------------------------------------------------------------- writes */

static void write_reset(struct es_store *s)
{
	for (int i = 0; s->reqs && i < s->parallel; i++) {
		if (s->reqs[i].h) {
			if (s->multi && s->reqs[i].busy)
				curl_multi_remove_handle(s->multi, s->reqs[i].h);
			curl_easy_cleanup(s->reqs[i].h);
		}
		mig_buf_free(&s->reqs[i].resp);
		mig_buf_free(&s->reqs[i].body);
	}
	free(s->reqs);
	s->reqs = NULL;
	if (s->multi)
		curl_multi_cleanup(s->multi);
	s->multi = NULL;
	free(s->slots);
	free(s->todo);
	free(s->next);
	free(s->plan);
	s->slots = NULL;
	s->todo = s->next = NULL;
	s->plan = NULL;
	s->capslots = s->nslots = s->capplan = 0;
	json_decref(s->wnum);
	s->wnum = NULL;
	json_decref(s->acc);
	s->acc = NULL;
	mig_buf_free(&s->bulk);
	mig_buf_free(&s->ids);
	s->writing = 0;
}

/* The numeric fields of the target's mapping (for decimals). */
static int load_wnum(struct es_store *s, const json_t *mapping, struct mig_error *err)
{
	struct mig_buf path;
	void *it = json_object_iter((json_t *)mapping);
	const json_t *props = it ? json_object_get(json_object_get(json_object_iter_value(it),
								   "mappings"), "properties") : NULL;
	int rc = 0;

	json_decref(s->wnum);
	s->wnum = NULL;
	if (!props)
		return 0;
	s->wnum = json_object();
	if (!s->wnum)
		return oom(err);
	mig_buf_init(&path, 0);
	if (flatten(s->wnum, props, &path, 1) < 0)
		rc = oom(err);
	mig_buf_free(&path);
	if (!rc && !json_object_size(s->wnum)) {
		json_decref(s->wnum);
		s->wnum = NULL;
	}
	return rc;
}

/* Value classes for a mapping inferred from records. */
enum vclass { C_NONE, C_BOOL, C_INT, C_REAL, C_STRING, C_DATE, C_DECIMAL, C_OID, C_BINARY,
	      C_OBJECT, C_MIXED };

static enum vclass class_of(const json_t *v, int *subtype)
{
	switch (mig_value_type(v)) {
	case MIG_V_BOOL: return C_BOOL;
	case MIG_V_INT: return C_INT;
	case MIG_V_DOUBLE: return json_is_real(v) ? C_REAL : C_MIXED;   /* NaN: a string */
	case MIG_V_STRING: return C_STRING;
	case MIG_V_DATE: return C_DATE;
	case MIG_V_DECIMAL: return C_DECIMAL;
	case MIG_V_OID: return C_OID;
	case MIG_V_BINARY: {
		const char *st = json_string_value(json_object_get(json_object_get(v, "$binary"),
								   "subType"));
		*subtype = st ? (int)strtol(st, NULL, 16) & 0xff : 0;
		return C_BINARY;
	}
	case MIG_V_OBJECT: return C_OBJECT;
	case MIG_V_NULL: return C_NONE;
	default: return C_MIXED;
	}
}

/* The two classes of a field seen twice. */
static enum vclass join_class(enum vclass a, enum vclass b)
{
	if (a == b)
		return a;
	if ((a == C_INT && b == C_REAL) || (a == C_REAL && b == C_INT))
		return C_REAL;
	return C_MIXED;
}

/* Notes the classes of obj's fields in acc: name -> {"c": class, "s":
 * subtype, "p": {nested acc}}. */
static int infer_obj(json_t *acc, const json_t *obj);

static int infer_value(json_t *acc, const char *name, const json_t *v)
{
	json_t *a = json_object_get(acc, name);
	int sub = 0;
	enum vclass c;

	if (json_is_array(v)) {
		size_t i;
		json_t *x;
		json_array_foreach(v, i, x)
			if (infer_value(acc, name, x))
				return -1;
		return 0;
	}
	c = class_of(v, &sub);
	if (c == C_NONE)
		return 0;
	if (!a) {
		a = json_pack("{s:i, s:i}", "c", (int)c, "s", sub);
		if (!a || json_object_set_new(acc, name, a))
			return -1;
	} else {
		enum vclass was = (enum vclass)json_integer_value(json_object_get(a, "c"));
		if (was != c) {
			c = join_class(was, c);
			json_object_set_new(a, "c", json_integer(c));
		}
	}
	if (c == C_OBJECT) {
		json_t *p = json_object_get(a, "p");
		if (!p && (!(p = json_object()) || json_object_set_new(a, "p", p)))
			return -1;
		return infer_obj(p, v);
	}
	return 0;
}

static int infer_obj(json_t *acc, const json_t *obj)
{
	const char *k;
	json_t *v;

	json_object_foreach((json_t *)obj, k, v)
		if (infer_value(acc, k, v))
			return -1;
	return 0;
}

/* Adds the inference src to dst, as if dst had seen src's records. */
static int acc_merge(json_t *dst, const json_t *src)
{
	const char *k;
	json_t *a;

	json_object_foreach((json_t *)src, k, a) {
		json_t *d = json_object_get(dst, k), *dp, *sp;
		enum vclass c;

		if (!d) {
			if (json_object_set_new(dst, k, json_deep_copy(a)))
				return -1;
			continue;
		}
		c = join_class((enum vclass)json_integer_value(json_object_get(d, "c")),
			       (enum vclass)json_integer_value(json_object_get(a, "c")));
		json_object_set_new(d, "c", json_integer(c));
		sp = json_object_get(a, "p");
		if (!sp)
			continue;
		dp = json_object_get(d, "p");
		if (!dp && (!(dp = json_object()) || json_object_set_new(d, "p", dp)))
			return -1;
		if (acc_merge(dp, sp))
			return -1;
	}
	return 0;
}

/* The part of the inference `now` about fields that `seen` has not seen,
 * at any depth of objects seen in both; a new reference, or NULL (ENOMEM). */
static json_t *acc_new(const json_t *seen, const json_t *now)
{
	json_t *out = json_object(), *a;
	const char *k;

	json_object_foreach((json_t *)now, k, a) {
		json_t *d = json_object_get(seen, k), *x;

		if (!out)
			break;
		if (!d) {
			if (json_object_set_new(out, k, json_deep_copy(a)))
				goto fail;
		} else if (json_integer_value(json_object_get(a, "c")) == C_OBJECT &&
			   json_integer_value(json_object_get(d, "c")) == C_OBJECT) {
			json_t *sub = acc_new(json_object_get(d, "p"), json_object_get(a, "p"));
			if (!sub)
				goto fail;
			x = json_object_size(sub) ? json_pack("{s:i, s:i, s:o}", "c", (int)C_OBJECT,
							      "s", 0, "p", sub) : (json_decref(sub), NULL);
			if (x && json_object_set_new(out, k, x))
				goto fail;
		}
	}
	return out;
fail:
	json_decref(out);
	return NULL;
}

/* The mapping "properties" of an inference: explicit types where a string
 * could not say them; strings and mixed fields are left to dynamic
 * mapping. */
static json_t *infer_props(const json_t *acc)
{
	json_t *props = json_object(), *a;
	const char *k;

	if (!props)
		return NULL;
	json_object_foreach((json_t *)acc, k, a) {
		enum vclass c = (enum vclass)json_integer_value(json_object_get(a, "c"));
		json_t *m = NULL;
		char sub[8];

		switch (c) {
		case C_BOOL: m = json_pack("{s:s}", "type", "boolean"); break;
		case C_INT: m = json_pack("{s:s}", "type", "long"); break;
		case C_REAL: m = json_pack("{s:s}", "type", "double"); break;
		case C_DATE: m = json_pack("{s:s}", "type", "date"); break;
		case C_DECIMAL:
			m = json_pack("{s:s, s:{s:s}}", "type", "double", "meta", "mig_type", "decimal");
			break;
		case C_OID:
			m = json_pack("{s:s, s:{s:s}}", "type", "keyword", "meta", "mig_type", "oid");
			break;
		case C_BINARY:
			snprintf(sub, sizeof sub, "%02x",
				 (int)json_integer_value(json_object_get(a, "s")));
			m = json_integer_value(json_object_get(a, "s"))
			    ? json_pack("{s:s, s:{s:s}}", "type", "binary", "meta", "mig_subtype", sub)
			    : json_pack("{s:s}", "type", "binary");
			break;
		case C_OBJECT: {
			json_t *p = infer_props(json_object_get(a, "p"));
			m = p ? json_pack("{s:o}", "properties", p) : NULL;
			break;
		}
		default:
			continue;
		}
		if (!m || json_object_set_new(props, k, m)) {
			json_decref(props);
			return NULL;
		}
	}
	return props;
}

/* A mapping from a JSON Schema (--schema): "x-es-mapping" where a
 * property has one (as --describe writes them), else by type and format. */
static json_t *schema_props(const json_t *props)
{
	json_t *out = json_object(), *ps;
	const char *name;

	if (!out)
		return NULL;
	json_object_foreach((json_t *)props, name, ps) {
		const json_t *t = json_object_get(ps, "type"), *x;
		const char *type = json_string_value(t);
		const char *fmt = json_string_value(json_object_get(ps, "format"));
		const char *xm = json_string_value(json_object_get(ps, "x-mig-type"));
		const char *xe = json_string_value(json_object_get(ps, "x-es-type"));
		const json_t *sub = json_object_get(ps, "properties");
		json_t *m = NULL;
		size_t i;

		if (!strcmp(name, "_id") || !strcmp(name, "_index"))
			continue;
		if (json_is_array(t))
			json_array_foreach(t, i, x)
				if (json_is_string(x) && strcmp(json_string_value(x), "null")) {
					type = json_string_value(x);
					break;
				}
		if (type && !strcmp(type, "array") && json_is_object(json_object_get(ps, "items"))) {
			const json_t *it = json_object_get(ps, "items");
			json_t *one = json_pack("{s:O}", "x", (json_t *)it), *r;
			r = one ? schema_props(one) : NULL;
			m = r ? json_incref(json_object_get(r, "x")) : NULL;
			json_decref(one);
			json_decref(r);
			if (m && xe && !strcmp(xe, "nested"))
				json_object_set_new(m, "type", json_string("nested"));
			if (!m)
				continue;
		} else if (json_is_object(x = json_object_get(ps, "x-es-mapping"))) {
			m = json_deep_copy(x);
			if (m && json_is_object(sub)) {
				json_t *p = schema_props(sub);
				if (p)
					json_object_set_new(m, "properties", p);
			}
		} else if (json_is_object(sub) || (type && !strcmp(type, "object"))) {
			json_t *p = schema_props(sub);
			m = p ? json_pack("{s:o}", "properties", p) : NULL;
		} else if (xm && (!strcasecmp(xm, "decimal") || !strncasecmp(xm, "numeric", 7) ||
				  !strncasecmp(xm, "decimal", 7))) {
			m = json_pack("{s:s, s:{s:s}}", "type", "double", "meta", "mig_type", "decimal");
		} else if (xm && (!strcmp(xm, "oid") || !strcasecmp(xm, "objectid"))) {
			m = json_pack("{s:s, s:{s:s}}", "type", "keyword", "meta", "mig_type", "oid");
		} else if (xe && strcmp(xe, "object") && strcmp(xe, "nested")) {
			m = json_pack("{s:s}", "type", xe);
		} else if (!type) {
			continue;
		} else if (!strcmp(type, "integer")) {
			m = json_pack("{s:s}", "type", "long");
		} else if (!strcmp(type, "number")) {
			m = json_pack("{s:s}", "type", "double");
		} else if (!strcmp(type, "boolean")) {
			m = json_pack("{s:s}", "type", "boolean");
		} else if (!strcmp(type, "string") && fmt &&
			   (!strcmp(fmt, "date-time") || !strcmp(fmt, "date"))) {
			m = json_pack("{s:s}", "type", "date");
		} else if (!strcmp(type, "string") &&
			   json_is_string(json_object_get(ps, "contentEncoding"))) {
			m = json_pack("{s:s}", "type", "binary");
		} else if (!strcmp(type, "string")) {
			/* as dynamic mapping would: full text, and exact below */
			m = json_pack("{s:s, s:{s:{s:s, s:i}}}", "type", "text", "fields", "keyword",
				      "type", "keyword", "ignore_above", 256);
		} else {
			continue;
		}
		if (!m || json_object_set_new(out, name, m)) {
			json_decref(out);
			return NULL;
		}
	}
	return out;
}

/* PUT INDEX with body (settings, mappings, aliases), then read back the
 * mapping the load goes by.  An index that exists by then (someone else
 * made it first) is taken as it is; from_archive says so in a warning,
 * since its definition is then not the archive's. */
static int put_index(struct es_store *s, json_t *body, int from_archive, struct mig_error *err)
{
	struct mig_buf p;
	json_t *doc = NULL;
	int rc;

	mig_buf_init(&p, 0);
	if (!index_path(s, &p, "")) {
		rc = oom(err);
		goto out;
	}
	rc = call(s, "PUT", p.data, body, &doc, err);
	if (rc)
		goto out;
	if (s->status == 400 && error_type(doc) &&
	    !strcmp(error_type(doc), "resource_already_exists_exception")) {
		if (from_archive)
			mig_warn("%s: the index exists: its settings, mappings and aliases are "
				 "left as they are", where(s));
	} else if (s->status != 200) {
		rc = answer_error(s, "PUT", p.data, doc, s->status == 400 ? MIG_EUSAGE : MIG_EIO, err);
		goto out;
	} else {
		mig_debug("%s: created the index%s", where(s),
			  from_archive ? " from its native definition" : "");
	}
	json_decref(doc);
	doc = NULL;
	rc = get_mapping(s, &doc, err);
	if (!rc && doc)
		rc = load_wnum(s, doc, err);
	s->exists = 1;
out:
	json_decref(doc);
	mig_buf_free(&p);
	return rc;
}

/* PUT INDEX with these mapping properties. */
static int create_index(struct es_store *s, json_t *props, struct mig_error *err)
{
	json_t *body, *settings;
	int rc;

	body = json_pack("{s:{s:b, s:o}}", "mappings", "date_detection", 0, "properties", props);
	settings = json_object();
	if (!body || !settings) {
		json_decref(settings);
		rc = oom(err);
		goto out;
	}
	if (s->shards)
		json_object_set_new(settings, "number_of_shards", json_integer(s->shards));
	if (s->replicas)
		json_object_set_new(settings, "number_of_replicas", json_integer(s->replicas - 1));
	if (json_object_size(settings))
		json_object_set_new(body, "settings", json_pack("{s:o}", "index", settings));
	else
		json_decref(settings);
	rc = put_index(s, body, 0, err);
out:
	json_decref(body);
	return rc;
}

/* --truncate where _delete_by_query is missing: the index made anew with
 * its mappings, aliases and main settings. */
static int recreate_index(struct es_store *s, struct mig_error *err)
{
	static const char *const keep[] = { "number_of_shards", "number_of_replicas",
					    "refresh_interval", "analysis", "mapping",
					    "max_result_window", "codec", "sort",
					    "routing_partition_size", NULL };
	struct mig_buf p;
	json_t *doc = NULL, *info, *body = NULL, *set, *idx, *ans = NULL;
	int rc;

	mig_buf_init(&p, 0);
	if (!index_path(s, &p, "")) {
		rc = oom(err);
		goto out;
	}
	rc = call_ok(s, "GET", p.data, NULL, &doc, err);
	if (rc)
		goto out;
	info = json_object_get(doc, s->index);
	if (!info || json_object_size(doc) != 1) {
		rc = mig_error_set(err, MIG_EUSAGE, "%s: --truncate: this server has no "
				   "_delete_by_query, and %s is not one index to make anew",
				   where(s), s->index);
		goto out;
	}
	set = json_object();
	idx = json_object_get(json_object_get(info, "settings"), "index");
	for (int i = 0; set && keep[i]; i++)
		if (json_object_get(idx, keep[i]))
			json_object_set(set, keep[i], json_object_get(idx, keep[i]));
	body = json_pack("{s:O, s:O, s:{s:o}}", "mappings", json_object_get(info, "mappings"),
			 "aliases", json_object_get(info, "aliases"), "settings", "index", set);
	if (!body) {
		rc = oom(err);
		goto out;
	}
	rc = call_ok(s, "DELETE", p.data, NULL, &ans, err);
	json_decref(ans);
	ans = NULL;
	if (!rc)
		rc = call_ok(s, "PUT", p.data, body, &ans, err);
out:
	json_decref(doc);
	json_decref(body);
	json_decref(ans);
	mig_buf_free(&p);
	return rc;
}

static int truncate_index(struct es_store *s, struct mig_error *err)
{
	struct mig_buf p;
	json_t *body = json_pack("{s:{s:{}}}", "query", "match_all"), *doc = NULL;
	int rc;

	mig_buf_init(&p, 0);
	if (!body || !index_path(s, &p, "/_delete_by_query?refresh=true&conflicts=proceed")) {
		rc = oom(err);
		goto out;
	}
	rc = call(s, "POST", p.data, body, &doc, err);
	if (rc)
		goto out;
	if ((s->status == 400 || s->status == 405) && !error_type(doc))
		rc = recreate_index(s, err);   /* "no handler found": no reindex module */
	else if (s->status != 200)
		rc = answer_error(s, "POST", p.data, doc, MIG_EIO, err);
out:
	json_decref(body);
	json_decref(doc);
	mig_buf_free(&p);
	return rc;
}

static int es_write_begin(struct mig_store *st, const struct mig_write_opts *o,
			  struct mig_error *err)
{
	struct es_store *s = (struct es_store *)st;
	json_t *mapping = NULL, *doc = NULL;
	struct mig_buf p;
	enum mig_conflict c;
	int rc;

	mig_buf_init(&p, 0);
	write_reset(s);
	rc = check_index(s, s->index, 0, err);
	if (rc)
		return rc;
	/* mig-load's options: as the locator's parameters, over them */
	for (size_t i = 0; i < o->nparams; i++) {
		if (!s->base.loc->tls && (!strcmp(o->params[i].name, "cacert") ||
					  !strcmp(o->params[i].name, "insecure")))
			return mig_error_set(err, MIG_EUSAGE, "%s: --%s is for es+https:// locators",
					     where(s), o->params[i].name);
		rc = set_param(s, o->params[i].name, o->params[i].value, 1, err);
		if (rc)
			return rc;
		if (!strcmp(o->params[i].name, "cacert") || !strcmp(o->params[i].name, "insecure")) {
			if (handle_setup(s, s->h, &s->resp, s->errbuf))
				return oom(err);
			if (s->insecure && s->base.loc->tls)
				mig_warn("%s: TLS certificates are not verified (--insecure)", where(s));
		}
	}
	if (!(s->flags & MIG_OPEN_WRITE))
		return mig_error_set(err, MIG_EUSAGE, "%s: opened for reading", where(s));
	if (o->atomic)
		return mig_error_set(err, MIG_EUSAGE, "%s: --atomic: Elasticsearch has no "
				     "transactions", where(s));
	if ((o->mode == MIG_MODE_UPDATE || o->mode == MIG_MODE_DELETE) &&
	    o->on_conflict != MIG_CONFLICT_DEFAULT)
		return mig_error_set(err, MIG_EUSAGE, "%s: --on-conflict cannot go with --mode %s",
				     where(s), mig_load_mode_name(o->mode));
	if (o->mode != MIG_MODE_INSERT && o->on_conflict == MIG_CONFLICT_FAIL)
		return mig_error_set(err, MIG_EUSAGE, "%s: --on-conflict fail contradicts --mode %s",
				     where(s), mig_load_mode_name(o->mode));
	if (o->drop && !o->create)
		return mig_error_set(err, MIG_EUSAGE, "%s: --drop needs --create", where(s));
	c = o->on_conflict;
	if (c == MIG_CONFLICT_DEFAULT)
		c = o->mode == MIG_MODE_UPSERT ? MIG_CONFLICT_MERGE
		    : o->mode == MIG_MODE_REPLACE ? MIG_CONFLICT_OVERWRITE
		    : o->mode == MIG_MODE_MERGE ? MIG_CONFLICT_MERGE : MIG_CONFLICT_FAIL;
	s->skip_conflicts = c == MIG_CONFLICT_SKIP;
	switch (c) {
	case MIG_CONFLICT_OVERWRITE: s->act = A_INDEX; break;
	/* merge adds a new key too, as it does in PostgreSQL and MongoDB */
	case MIG_CONFLICT_MERGE: s->act = A_UPSERT; break;
	default: s->act = A_CREATE; break;
	}
	if (o->mode == MIG_MODE_UPDATE || o->mode == MIG_MODE_DELETE)
		s->act = o->mode == MIG_MODE_UPDATE ? A_UPDATE : A_DELETE;
	s->wo = *o;
	s->wo.nkeys = 0;
	if (o->keys)
		while ((!o->nkeys || s->wo.nkeys < o->nkeys) && o->keys[s->wo.nkeys])
			s->wo.nkeys++;
	if (s->id_set && s->wo.nkeys && (s->wo.nkeys > 1 || strcmp(o->keys[0], s->id_field)))
		return mig_error_set(err, MIG_EUSAGE, "%s: the id field %s and --key %s%s name "
				     "different document ids", where(s), s->id_field, o->keys[0],
				     s->wo.nkeys > 1 ? ",..." : "");
	s->idf = s->wo.nkeys == 0 ? s->id_field : s->wo.nkeys == 1 ? o->keys[0] : NULL;
	s->writing = 1;
	s->wrote = 0;
	s->par_now = s->parallel;
	s->exists = 0;

	if (o->drop && !o->dry_run) {
		if (!index_path(s, &p, "")) {
			rc = oom(err);
			goto out;
		}
		rc = call(s, "DELETE", p.data, NULL, &doc, err);
		if (!rc && s->status != 200 && s->status != 404)
			rc = answer_error(s, "DELETE", p.data, doc, MIG_EIO, err);
		if (rc)
			goto out;
	}
	rc = get_mapping(s, &mapping, err);
	if (rc)
		goto out;
	if (mapping && o->drop && o->dry_run) {
		json_decref(mapping);   /* as good as dropped */
		mapping = NULL;
	}
	s->exists = mapping != NULL;
	if (!s->exists && !o->create) {
		rc = mig_error_set(err, MIG_EIO, "%s: no such index (--create makes it)", where(s));
		goto out;
	}
	if (s->exists) {
		rc = load_wnum(s, mapping, err);
		if (!rc && o->truncate && !o->dry_run)
			rc = truncate_index(s, err);
		if (rc)
			goto out;
	} else if (o->schema_path) {
		json_error_t je;
		json_t *sch = json_load_file(o->schema_path, 0, &je), *props;

		if (!sch) {
			rc = mig_error_set(err, MIG_EUSAGE, "%s: %s (line %d)", o->schema_path, je.text,
					   je.line);
			goto out;
		}
		props = schema_props(json_object_get(sch, "properties"));
		json_decref(sch);
		if (!props) {
			rc = oom(err);
			goto out;
		}
		if (o->dry_run)
			json_decref(props);
		else if ((rc = create_index(s, props, err)) != 0)
			goto out;
	} else if (o->native && !o->dry_run) {
		rc = create_native_index(s, o->native, err);
		if (rc)
			goto out;
	}
	s->reqs = calloc((size_t)s->parallel, sizeof *s->reqs);
	s->multi = curl_multi_init();
	if (!s->reqs || !s->multi) {
		rc = oom(err);
		goto out;
	}
	for (int i = 0; i < s->parallel; i++) {
		struct req *r = &s->reqs[i];
		mig_buf_init(&r->resp, MAX_RESPONSE);
		mig_buf_init(&r->body, 0);
		r->h = curl_easy_init();
		if (!r->h || handle_setup(s, r->h, &r->resp, r->errbuf)) {
			rc = oom(err);
			goto out;
		}
		curl_easy_setopt(r->h, CURLOPT_PRIVATE, (char *)r);
	}
out:
	json_decref(mapping);
	json_decref(doc);
	mig_buf_free(&p);
	if (rc)
		write_reset(s);
	return rc;
}

/* The id of a record as text in s->ids: 0 with *has set or not, 1 when
 * the record was rejected.  One field (id_field, or the one --key): its
 * value; several keys: the JSON array of their plain values. */
static int record_id(struct es_store *s, struct mig_batch_item *it, size_t *off, int *has)
{
	const char *why = NULL;
	json_t *v, *arr;
	int rc;

	*has = 0;
	*off = s->ids.len;
	for (size_t i = 0; i < s->wo.nkeys; i++) {
		v = json_object_get(it->rec, s->wo.keys[i]);
		if (!v || json_is_null(v)) {
			mig_batch_reject(it, NULL, "key field %s %s", s->wo.keys[i],
					 v ? "is null" : "missing");
			return 1;
		}
	}
	if (s->idf) {
		v = json_object_get(it->rec, s->idf);
		if (!v || json_is_null(v))
			return 0;
		if (id_text(&s->ids, v, &why)) {
			s->ids.len = *off;
			mig_batch_reject(it, NULL, "field %s (the document id) %s", s->idf, why);
			return 1;
		}
		*has = 1;
		return 0;
	}
	arr = json_array();
	for (size_t i = 0; arr && i < s->wo.nkeys; i++)
		json_array_append(arr, json_object_get(it->rec, s->wo.keys[i]));
	rc = arr ? mig_value_write(&s->ids, arr, MIG_JSON_PLAIN) : MIG_ENOMEM;
	json_decref(arr);
	if (!rc && s->ids.len - *off > MAX_ID_BYTES) {
		s->ids.len = *off;
		mig_batch_reject(it, NULL, "the key makes an _id longer than 512 bytes");
		return 1;
	}
	if (rc || mig_buf_putc(&s->ids, '\0')) {
		s->ids.len = *off;
		mig_batch_reject(it, NULL, "out of memory building the _id");
		return 1;
	}
	*has = 1;
	return 0;
}

/* Appends the two bulk lines of one record as a new slot: 0, 1 when the
 * record was rejected, < 0 on ENOMEM. */
static int build_item(struct es_store *s, struct mig_batch *b, size_t i)
{
	struct mig_batch_item *it = &b->items[i];
	struct mig_buf *o = &s->bulk;
	struct slot sl = { .item = i, .off = o->len };
	struct mig_buf path;
	int has_id, rc = 0;
	const char *k;
	json_t *v;
	size_t n = 0;

	if (!json_is_object(it->rec)) {
		mig_batch_reject(it, NULL, "not a JSON object");
		return 1;
	}
	if (record_id(s, it, &sl.id_off, &has_id))
		return 1;
	sl.has_id = has_id != 0;
	if ((s->act == A_UPSERT || s->act == A_UPDATE || s->act == A_DELETE) && !sl.has_id) {
		mig_batch_reject(it, NULL, "no document id (field %s): %s needs one",
				 s->idf ? s->idf : s->id_field,
				 s->act == A_DELETE ? "a delete" : "an update");
		return 1;
	}
	if (s->routing_field && (v = json_object_get(it->rec, s->routing_field)) &&
	    !json_is_null(v)) {
		const char *why;
		size_t at = s->ids.len;
		if (id_text(&s->ids, v, &why)) {
			s->ids.len = at;
			mig_batch_reject(it, NULL, "field %s (the routing) %s", s->routing_field, why);
			return 1;
		}
		sl.rt_off = at;
		sl.has_rt = 1;
	}
	/* the action line */
	rc = mig_buf_printf(o, "{\"%s\":{", s->act == A_CREATE ? "create" : s->act == A_INDEX
			    ? "index" : s->act == A_DELETE ? "delete" : "update");
	if (!rc && sl.has_id) {
		rc = mig_buf_puts(o, "\"_id\":");
		rc = rc ? rc : put_str(o, s->ids.data + sl.id_off, strlen(s->ids.data + sl.id_off));
	}
	if (!rc && sl.has_rt) {
		rc = mig_buf_puts(o, sl.has_id ? ",\"routing\":" : "\"routing\":");
		rc = rc ? rc : put_str(o, s->ids.data + sl.rt_off, strlen(s->ids.data + sl.rt_off));
	}
	if (!rc && (s->act == A_UPSERT || s->act == A_UPDATE))
		rc = mig_buf_puts(o, ",\"retry_on_conflict\":3");
	rc = rc ? rc : mig_buf_puts(o, "}}\n");
	/* the document line (a delete has none: the rest of the record is
	 * not needed) */
	sl.doc_off = o->len;
	if (s->act == A_DELETE)
		goto slot;
	if (!rc && (s->act == A_UPSERT || s->act == A_UPDATE))
		rc = mig_buf_puts(o, "{\"doc\":");
	rc = rc ? rc : mig_buf_putc(o, '{');
	mig_buf_init(&path, 0);
	json_object_foreach(it->rec, k, v) {
		if (rc)
			break;
		/* metadata, which Elasticsearch refuses in a source: the id
		 * goes in the action (or comes from --key), _index names the
		 * index a record was read from */
		if (k[0] == '_' && (!strcmp(k, "_id") || !strcmp(k, "_index")))
			continue;
		if (n++)
			rc = mig_buf_putc(o, ',');
		rc = rc ? rc : put_str(o, k, strlen(k));
		rc = rc ? rc : mig_buf_putc(o, ':');
		if (!rc && s->wnum) {
			mig_buf_reset(&path);
			rc = mig_buf_puts(&path, k);
		}
		rc = rc ? rc : put_value(s, o, v, s->wnum ? &path : NULL);
	}
	mig_buf_free(&path);
	rc = rc ? rc : mig_buf_putc(o, '}');
	if (!rc && s->act == A_UPSERT)
		rc = mig_buf_puts(o, ",\"doc_as_upsert\":true}");
	else if (!rc && s->act == A_UPDATE)
		rc = mig_buf_putc(o, '}');
	rc = rc ? rc : mig_buf_putc(o, '\n');
slot:
	if (rc)
		return MIG_ENOMEM;
	sl.len = o->len - sl.off;
	if (s->nslots == s->capslots) {
		size_t cap = s->capslots ? s->capslots * 2 : 256;
		struct slot *ns = realloc(s->slots, cap * sizeof *ns);
		size_t *t = ns ? realloc(s->todo, cap * sizeof *t) : NULL;
		size_t *x = t ? (s->todo = t, realloc(s->next, cap * sizeof *x)) : NULL;
		if (ns)
			s->slots = ns;
		if (!ns || !t || !x)
			return MIG_ENOMEM;
		s->next = x;
		s->capslots = cap;
	}
	s->slots[s->nslots++] = sl;
	return 0;
}

static const char *slot_id(const struct es_store *s, const struct slot *sl)
{
	return sl->has_id ? s->ids.data + sl->id_off : NULL;
}

/* --mode update: no document has the record's id. */
static void not_found(struct es_store *s, struct mig_batch_item *it, const struct slot *sl)
{
	if (s->wo.nkeys)
		mig_batch_no_key(it, "document", s->wo.keys, s->wo.nkeys);
	else
		mig_batch_reject(it, NULL, "no document with _id %s", slot_id(s, sl));
}

/* Cuts todo[0..n) into requests: at most batch_bytes each, and into
 * `par` about equal parts of at least MIN_PART bytes. */
static int make_plan(struct es_store *s, size_t n, int par, size_t *nplan)
{
	size_t total = 0, target, i, np = 0;

	for (i = 0; i < n; i++)
		total += s->slots[s->todo[i]].len;
	/* parts smaller than MIN_PART cost more in per-request work on the
	 * node (a translog sync each) than they gain in parallelism: measured
	 * in tests/bench/es-load, 2 x 500 records is slower than 1 x 1000 */
	if ((size_t)par > total / MIN_PART)
		par = (int)(total / MIN_PART);
	target = par > 1 ? (total + (size_t)par - 1) / (size_t)par : total;
	if (target > s->batch_bytes)
		target = s->batch_bytes;
	for (i = 0; i < n;) {
		size_t first = i, bytes = 0;

		if (np == s->capplan) {
			size_t cap = s->capplan ? s->capplan * 2 : 16;
			struct span *p = realloc(s->plan, cap * sizeof *p);
			if (!p)
				return MIG_ENOMEM;
			s->plan = p;
			s->capplan = cap;
		}
		if (s->slots[s->todo[i]].alone) {
			i++;
		} else {
			do {
				bytes += s->slots[s->todo[i]].len;
				i++;
			} while (i < n && !s->slots[s->todo[i]].alone &&
				 bytes + s->slots[s->todo[i]].len <= target);
		}
		s->plan[np++] = (struct span){ first, i - first };
	}
	*nplan = np;
	return 0;
}

/* Starts request r on the plan's span. */
static int start_req(struct es_store *s, struct req *r, const struct span *sp)
{
	const struct slot *a = &s->slots[s->todo[sp->first]];
	const char *body = s->bulk.data + a->off;
	size_t len = 0, i;
	int contiguous = 1;

	for (i = 0; i < sp->n; i++) {
		const struct slot *x = &s->slots[s->todo[sp->first + i]];
		if (x->off != a->off + len)
			contiguous = 0;
		len += x->len;
	}
	if (!contiguous) {
		mig_buf_reset(&r->body);
		for (i = 0; i < sp->n; i++) {
			const struct slot *x = &s->slots[s->todo[sp->first + i]];
			if (mig_buf_append(&r->body, s->bulk.data + x->off, x->len))
				return MIG_ENOMEM;
		}
		body = r->body.data;
	}
	r->first = sp->first;
	r->n = sp->n;
	mig_buf_reset(&r->resp);
	r->errbuf[0] = '\0';
	mig_buf_reset(&s->path);
	if (mig_buf_printf(&s->path, "/%s/_bulk?filter_path=errors,items.*.status,"
			   "items.*.result,items.*.error", s->qindex))
		return MIG_ENOMEM;
	/* prepare() copies the URL into a buffer of the request's own */
	{
		struct mig_buf url;
		mig_buf_init(&url, 0);
		if (mig_buf_puts(&url, s->url) || mig_buf_puts(&url, s->path.data)) {
			mig_buf_free(&url);
			return MIG_ENOMEM;
		}
		curl_easy_setopt(r->h, CURLOPT_URL, url.data);   /* curl copies it */
		mig_buf_free(&url);
	}
	curl_easy_setopt(r->h, CURLOPT_HTTPHEADER, s->hndjson);
	curl_easy_setopt(r->h, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(r->h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	curl_easy_setopt(r->h, CURLOPT_CUSTOMREQUEST, NULL);
	if (curl_multi_add_handle(s->multi, r->h) != CURLM_OK)
		return MIG_ENOMEM;
	r->busy = 1;
	return 0;
}

static void set_lasterr(struct es_store *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void set_lasterr(struct es_store *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s->lasterr, sizeof s->lasterr, fmt, ap);
	va_end(ap);
}

/* The items of one answered request.  Returns 0, or MIG_EIO for a failure
 * of the store; records to send again go to s->next. */
static int take_items(struct es_store *s, struct mig_batch *b, struct req *r, size_t *nnext,
		      int *saw429, struct mig_error *err)
{
	json_t *doc = json_loadb(r->resp.data ? r->resp.data : "", r->resp.len, 0, NULL);
	json_t *items = json_object_get(doc, "items");
	int rc = 0;

	if (!json_is_array(items) || json_array_size(items) != r->n) {
		rc = mig_error_set(err, MIG_EIO, "%s: POST /_bulk: an answer of %zu items for %zu "
				   "records", where(s), json_array_size(items), r->n);
		goto out;
	}
	for (size_t k = 0; k < r->n; k++) {
		size_t si = s->todo[r->first + k];
		struct slot *sl = &s->slots[si];
		struct mig_batch_item *it = &b->items[sl->item];
		json_t *x = json_object_iter_value(json_object_iter(json_array_get(items, k)));
		long st = (long)json_integer_value(json_object_get(x, "status"));
		const char *res = json_string_value(json_object_get(x, "result"));
		json_t *e = json_object_get(x, "error");
		const char *type = json_string_value(json_object_get(e, "type"));
		char why[900];

		if (st >= 200 && st < 300) {
			it->status = s->act == A_DELETE ? MIG_ITEM_DELETED
				     : res && !strcmp(res, "created") ? MIG_ITEM_INSERTED
				     : MIG_ITEM_UPDATED;
			continue;
		}
		if (st == 404 && s->act == A_DELETE && res && !strcmp(res, "not_found")) {
			it->status = MIG_ITEM_NOT_FOUND;
			continue;
		}
		error_text(e, why, sizeof why);
		if (st == 409 && s->act == A_CREATE) {
			if (s->skip_conflicts)
				it->status = MIG_ITEM_SKIPPED;
			else
				sl->conflict = 1;
		} else if (st == 429 || st == 503) {
			s->next[(*nnext)++] = si;
			*saw429 |= st == 429;
			set_lasterr(s, "HTTP %ld: %.200s", st, why);
		} else if (st == 404 && type && !strcmp(type, "document_missing_exception") &&
			   s->wo.mode == MIG_MODE_UPDATE) {
			not_found(s, it, sl);
		} else if (st == 400 || (st == 404 && type &&
					 !strcmp(type, "document_missing_exception"))) {
			mig_batch_reject(it, type, "elasticsearch: %s", why);
		} else {
			rc = mig_error_set(err, MIG_EIO, "%s: POST /_bulk: record of _id %s: HTTP %ld: %s",
					   where(s), slot_id(s, sl) ? slot_id(s, sl) : "(new)", st,
					   why);
			goto out;
		}
	}
out:
	json_decref(doc);
	return rc;
}

/* What to do with a finished request. */
static int req_done(struct es_store *s, struct mig_batch *b, struct req *r, CURLcode cc,
		    size_t *nnext, int *saw429, struct mig_error *err)
{
	long st = 0;

	if (cc != CURLE_OK) {
		if (cc == CURLE_OPERATION_TIMEDOUT)
			set_lasterr(s, "the node did not answer for %ld s (timed out; timeout=%ld)",
				    s->timeout, s->timeout);
		else
			set_lasterr(s, "%s", r->errbuf[0] ? r->errbuf : curl_easy_strerror(cc));
		if (cc == CURLE_WRITE_ERROR || !transient(cc))
			return mig_error_set(err, MIG_EIO, "%s: POST /_bulk: %s", where(s), s->lasterr);
		for (size_t k = 0; k < r->n; k++)
			s->next[(*nnext)++] = s->todo[r->first + k];
		return 0;
	}
	curl_easy_getinfo(r->h, CURLINFO_RESPONSE_CODE, &st);
	if (st == 200)
		return take_items(s, b, r, nnext, saw429, err);
	{
		json_t *doc = json_loadb(r->resp.data ? r->resp.data : "", r->resp.len, 0, NULL);
		char why[700];
		int rc = 0;

		error_text(json_object_get(doc, "error"), why, sizeof why);
		if (!why[0])
			snprintf(why, sizeof why, "%.*s", (int)(r->resp.len > 200 ? 200 : r->resp.len),
				 r->resp.data ? r->resp.data : "");
		if (retry_status(st)) {
			set_lasterr(s, "HTTP %ld: %.200s", st, why);
			*saw429 |= st == 429;
			for (size_t k = 0; k < r->n; k++)
				s->next[(*nnext)++] = s->todo[r->first + k];
		} else if (st == 413 && r->n == 1) {
			mig_batch_reject(&b->items[s->slots[s->todo[r->first]].item], "413",
					 "the record is larger than the node takes in one request "
					 "(http.max_content_length)");
		} else if (st == 413) {
			for (size_t k = 0; k < r->n; k++) {
				s->slots[s->todo[r->first + k]].alone = 1;
				s->next[(*nnext)++] = s->todo[r->first + k];
			}
		} else {
			s->status = st;
			rc = mig_error_set(err, MIG_EIO, "%s: POST /_bulk: HTTP %ld%s: %s", where(s), st,
					   st == 401 ? " (authentication failed)"
					   : st == 403 ? " (forbidden)" : "", why);
		}
		json_decref(doc);
		return rc;
	}
}

/* Sends the plan, at most par requests at a time. */
static int run_plan(struct es_store *s, struct mig_batch *b, size_t nplan, int par,
		    size_t *nnext, int *saw429, struct mig_error *err)
{
	size_t next_plan = 0;
	int active = 0, rc = 0, still;
	struct mig_error e2;

	if (par > s->parallel)
		par = s->parallel;
	while (next_plan < nplan || active) {
		while (!rc && active < par && next_plan < nplan) {
			struct req *r = NULL;
			for (int i = 0; i < s->parallel; i++)
				if (!s->reqs[i].busy) {
					r = &s->reqs[i];
					break;
				}
			if (!r)
				break;
			if (start_req(s, r, &s->plan[next_plan++])) {
				rc = oom(err);
				break;
			}
			active++;
		}
		if (!active)
			break;
		if (curl_multi_perform(s->multi, &still) != CURLM_OK) {
			rc = rc ? rc : mig_error_set(err, MIG_EIO, "%s: curl multi failed", where(s));
			break;
		}
		CURLMsg *m;
		int left;
		while ((m = curl_multi_info_read(s->multi, &left))) {
			struct req *r;
			char *priv = NULL;
			if (m->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, &priv);
			r = (struct req *)priv;
			CURLcode cc = m->data.result;
			curl_multi_remove_handle(s->multi, m->easy_handle);
			r->busy = 0;
			active--;
			/* the first error wins; the others are drained */
			int x = req_done(s, b, r, cc, nnext, saw429, rc ? &e2 : err);
			if (!rc)
				rc = x;
		}
		if (active && curl_multi_poll(s->multi, NULL, 0, 1000, NULL) != CURLM_OK) {
			rc = rc ? rc : mig_error_set(err, MIG_EIO, "%s: curl multi failed", where(s));
			break;
		}
	}
	/* after an error: nothing may stay in flight */
	for (int i = 0; i < s->parallel; i++)
		if (s->reqs[i].busy) {
			curl_multi_remove_handle(s->multi, s->reqs[i].h);
			s->reqs[i].busy = 0;
		}
	return rc;
}

/* _mget of the slots marked in `which` (conflicts, or a dry run's ids):
 * *out the "docs" answer, in slot order. */
static int mget(struct es_store *s, const size_t *which, size_t n, json_t **out,
		struct mig_error *err)
{
	struct mig_buf p;
	json_t *body = json_object(), *docs = json_array(), *doc = NULL;
	int rc = 0;

	*out = NULL;
	mig_buf_init(&p, 0);
	if (!body || !docs || json_object_set(body, "docs", docs)) {
		rc = oom(err);
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		const struct slot *sl = &s->slots[which[i]];
		json_t *d = json_pack("{s:s}", "_id", slot_id(s, sl));
		if (d && sl->has_rt)
			json_object_set_new(d, "routing", json_string(s->ids.data + sl->rt_off));
		if (!d || json_array_append_new(docs, d)) {
			rc = oom(err);
			goto out;
		}
	}
	if (!index_path(s, &p, "/_mget?filter_path=docs.found,docs._source,docs.error")) {
		rc = oom(err);
		goto out;
	}
	rc = call_ok(s, "POST", p.data, body, &doc, err);
	if (rc)
		goto out;
	if (json_array_size(json_object_get(doc, "docs")) != n) {
		rc = mig_error_set(err, MIG_EIO, "%s: POST %s: the answer does not match", where(s),
				   p.data);
		goto out;
	}
	*out = json_incref(json_object_get(doc, "docs"));
out:
	json_decref(body);
	json_decref(docs);
	json_decref(doc);
	mig_buf_free(&p);
	return rc;
}

/* Whether the stored source equals what the slot sends. */
static int same_source(const struct es_store *s, const struct slot *sl, const json_t *src)
{
	const char *d = s->bulk.data + sl->doc_off;
	size_t n = sl->off + sl->len - sl->doc_off;
	json_t *mine;
	int eq;

	if (!src)
		return 0;
	mine = json_loadb(d, n, 0, NULL);
	eq = mine && json_equal(mine, (json_t *)src);
	json_decref(mine);
	return eq;
}

/* Create conflicts: a stored document identical to the record is a
 * repeat (skipped), another one a duplicate (rejected). */
static int resolve_conflicts(struct es_store *s, struct mig_batch *b, struct mig_error *err)
{
	size_t n = 0;
	json_t *docs = NULL;
	int rc;

	for (size_t i = 0; i < s->nslots; i++)
		if (s->slots[i].conflict)
			s->todo[n++] = i;
	if (!n)
		return 0;
	rc = mget(s, s->todo, n, &docs, err);
	if (rc)
		return rc;
	for (size_t i = 0; i < n; i++) {
		struct slot *sl = &s->slots[s->todo[i]];
		struct mig_batch_item *it = &b->items[sl->item];
		json_t *d = json_array_get(docs, i);

		if (json_is_true(json_object_get(d, "found")) &&
		    same_source(s, sl, json_object_get(d, "_source")))
			it->status = MIG_ITEM_SKIPPED;
		else
			mig_batch_reject(it, "version_conflict_engine_exception",
					 "elasticsearch: a document with _id %s already exists",
					 slot_id(s, sl));
	}
	json_decref(docs);
	return 0;
}

/* A dry run: what each record would do, by which ids exist. */
static int dry_check(struct es_store *s, struct mig_batch *b, struct mig_error *err)
{
	json_t *docs = NULL, *seen = s->act == A_DELETE ? json_object() : NULL;
	size_t n = 0, j = 0;
	int rc = 0;

	for (size_t i = 0; i < s->nslots; i++)
		if (s->slots[i].has_id && s->exists)
			s->todo[n++] = i;
	if (n && (rc = mget(s, s->todo, n, &docs, err)) != 0) {
		json_decref(seen);
		return rc;
	}
	for (size_t i = 0; i < s->nslots; i++) {
		struct slot *sl = &s->slots[i];
		struct mig_batch_item *it = &b->items[sl->item];
		json_t *d = NULL;
		int found;

		if (j < n && s->todo[j] == i)
			d = json_array_get(docs, j++);
		found = json_is_true(json_object_get(d, "found"));
		switch (s->act) {
		case A_CREATE:
			if (!found)
				it->status = MIG_ITEM_INSERTED;
			else if (s->skip_conflicts || same_source(s, sl, json_object_get(d, "_source")))
				it->status = MIG_ITEM_SKIPPED;
			else
				mig_batch_reject(it, "version_conflict_engine_exception",
						 "elasticsearch: a document with _id %s already exists",
						 slot_id(s, sl));
			break;
		case A_DELETE:
			/* an id repeated in the batch deletes once */
			if (found && seen && !json_object_get(seen, slot_id(s, sl))) {
				json_object_set_new(seen, slot_id(s, sl), json_true());
				it->status = MIG_ITEM_DELETED;
			} else {
				it->status = MIG_ITEM_NOT_FOUND;
			}
			break;
		case A_UPDATE:
			if (found)
				it->status = MIG_ITEM_UPDATED;
			else if (s->wo.mode == MIG_MODE_UPDATE)
				not_found(s, it, sl);
			else
				mig_batch_reject(it, "document_missing_exception",
						 "elasticsearch: no document with _id %s to merge into",
						 slot_id(s, sl));
			break;
		default:
			it->status = found ? MIG_ITEM_UPDATED : MIG_ITEM_INSERTED;
			break;
		}
	}
	json_decref(seen);
	json_decref(docs);
	return 0;
}

/*
 * An index that --create made from records: the fields that a batch has
 * and no batch before it had go into the mapping before the batch is
 * sent, typed as the first batch's were, so that a date or a decimal
 * first seen in record 5,000 is not left to dynamic mapping (text).
 * Elasticsearch takes new fields into a mapping, never a new type for a
 * mapped one: a field whose values change type is mapped by the batch
 * that first has it.  A node that refuses (someone else mapped the field
 * meanwhile) gets a warning, and the records go as they would have.
 */
static int widen(struct es_store *s, const json_t *acc, struct mig_error *err)
{
	json_t *fresh = acc_new(s->acc, acc), *props = NULL, *body = NULL, *doc = NULL;
	struct mig_buf p;
	int rc = 0;

	mig_buf_init(&p, 0);
	if (!fresh || acc_merge(s->acc, acc)) {
		rc = oom(err);
		goto out;
	}
	if (!json_object_size(fresh))
		goto out;
	props = infer_props(fresh);
	if (!props) {
		rc = oom(err);
		goto out;
	}
	if (!json_object_size(props))
		goto out;   /* strings and mixes: dynamic mapping, as in the first batch */
	body = json_pack("{s:O}", "properties", props);
	if (!body || !index_path(s, &p, "/_mapping")) {
		rc = oom(err);
		goto out;
	}
	rc = call(s, "PUT", p.data, body, &doc, err);
	if (rc)
		goto out;
	if (s->status != 200) {
		char why[700];
		answer_text(s, doc, why, sizeof why);
		mig_warn("%s: new fields left to dynamic mapping: PUT %s: HTTP %ld: %s", where(s),
			 p.data, s->status, why);
		goto out;
	}
	mig_debug("%s: %zu new fields mapped", where(s), json_object_size(props));
	json_decref(doc);
	doc = NULL;
	rc = get_mapping(s, &doc, err);
	if (!rc && doc)
		rc = load_wnum(s, doc, err);
out:
	json_decref(fresh);
	json_decref(props);
	json_decref(body);
	json_decref(doc);
	mig_buf_free(&p);
	return rc;
}

static int es_write_batch(struct mig_store *st, struct mig_batch *b, struct mig_error *err)
{
	struct es_store *s = (struct es_store *)st;
	size_t ntodo, nplan, nnext;
	int rc = 0, round, fails = 0, saw429 = 0;

	if (!s->writing)
		return mig_error_set(err, MIG_EUSAGE, "%s: write_batch before write_begin", where(s));
	mig_buf_reset(&s->bulk);
	mig_buf_reset(&s->ids);
	s->nslots = 0;
	if ((!s->exists || s->acc) && !s->wo.dry_run) {
		/* --create without --schema: the mapping from the first batch,
		 * widened by the fields that later batches bring */
		json_t *acc = json_object(), *props;
		for (size_t i = 0; acc && i < b->n; i++)
			if (b->items[i].status == MIG_ITEM_PENDING && json_is_object(b->items[i].rec) &&
			    infer_obj(acc, b->items[i].rec)) {
				json_decref(acc);
				acc = NULL;
			}
		if (!acc)
			return oom(err);
		/* metadata, never in the source (build_item), so not mapped */
		json_object_del(acc, "_id");
		json_object_del(acc, "_index");
		if (!s->exists) {
			props = infer_props(acc);
			rc = props ? create_index(s, props, err) : oom(err);
			if (!rc)
				s->acc = acc;
			else
				json_decref(acc);
		} else {
			rc = widen(s, acc, err);
			json_decref(acc);
		}
		if (rc)
			return rc;
	}
	for (size_t i = 0; i < b->n; i++) {
		if (b->items[i].status != MIG_ITEM_PENDING)
			continue;
		rc = build_item(s, b, i);
		if (rc < 0)
			return oom(err);
	}
	rc = 0;
	if (!s->nslots)
		return 0;
	if (s->wo.dry_run)
		return dry_check(s, b, err);
	s->wrote = 1;
	ntodo = s->nslots;
	for (size_t i = 0; i < ntodo; i++)
		s->todo[i] = i;
	s->lasterr[0] = '\0';
	/*
	 * A round that got some of its records in does not use up a retry:
	 * a busy node (429) takes a batch in several rounds, and stopping
	 * while it makes progress would fail a load that would succeed.  Only
	 * rounds that get nothing in count against --retries, so a node that
	 * is gone still fails after retries + 1 attempts.
	 */
	for (round = 0; ntodo; round++) {
		if (round) {
			if (fails > s->wo.retries)
				return mig_error_set(err, MIG_EIO, "%s: POST /%s/_bulk: %zu records not "
						     "written after %d retries: %s", where(s),
						     s->qindex, ntodo, s->wo.retries, s->lasterr);
			mig_debug("%s: sending %zu records again (retry %d): %s", where(s), ntodo,
				  round, s->lasterr);
			backoff(round);
		}
		/* the first round in parallel; retries one request at a time */
		rc = make_plan(s, ntodo, round ? 1 : s->par_now, &nplan);
		if (rc)
			return oom(err);
		nnext = 0;
		rc = run_plan(s, b, nplan, round ? 1 : s->par_now, &nnext, &saw429, err);
		if (rc)
			return rc;
		fails = nnext < ntodo ? 0 : fails + 1;
		memcpy(s->todo, s->next, nnext * sizeof *s->todo);
		ntodo = nnext;
	}
	/* 429: fewer requests in flight from now on; none: one more */
	if (saw429 && s->par_now > 1)
		s->par_now /= 2;
	else if (!saw429 && s->par_now < s->parallel)
		s->par_now++;
	return resolve_conflicts(s, b, err);
}

static int es_write_end(struct mig_store *st, int commit, struct mig_error *err)
{
	struct es_store *s = (struct es_store *)st;
	struct mig_buf p;
	json_t *doc = NULL;
	int rc = 0;

	if (!s->writing)
		return 0;
	if (commit && s->wrote && s->refresh && !s->wo.dry_run) {
		mig_buf_init(&p, 0);
		if (!index_path(s, &p, "/_refresh"))
			rc = oom(err);
		else
			rc = call_ok(s, "POST", p.data, NULL, &doc, err);
		json_decref(doc);
		mig_buf_free(&p);
	}
	write_reset(s);
	return rc;
}

/* ------------------------------------------ snapshots and native definitions */

/*
 * mig-backup's one view of the store: a point in time over every open
 * index that es_list lists, opened on the store without an index and
 * closed when it is; its id is the token.  Each index is then read
 * through it (join_snapshot), filtered by _index, so that every index is
 * read as it was at that one moment.  An index created after it is not in
 * it.  The index names go in the request's path, which Elasticsearch caps
 * at 4 KB (http.max_initial_line_length): beyond about 3 KB of names the
 * point in time is opened over "*" (every open index) instead, which
 * holds the same indices.  No point in time here (pit=off, or a server
 * without one): no token, and mig-backup marks the archive inconsistent.
 */
#define PIT_NAMES_MAX 3000

static int es_snapshot_begin(struct mig_store *st, char **token, struct mig_error *err)
{
	struct es_store *s = (struct es_store *)st;
	json_t *list = NULL, *doc = NULL, *e;
	struct mig_buf p;
	const char *t;
	size_t i;
	int rc;

	*token = NULL;
	mig_buf_init(&p, 0);
	if (s->pit_id || s->scroll_id)
		return mig_error_set(err, MIG_EUSAGE, "%s: a snapshot or read is already open",
				     where(s));
	if (s->pit_off) {
		mig_debug("%s: pit=off: no point in time to share", where(s));
		return 0;
	}
	rc = es_list(st, &list, err);
	if (rc)
		return rc;
	if (!json_array_size(list))
		goto out;
	rc = mig_buf_putc(&p, '/');
	json_array_foreach(list, i, e) {
		if (!rc && i)
			rc = mig_buf_putc(&p, ',');
		if (!rc)
			rc = put_pct(&p, json_string_value(json_object_get(e, "name")), NULL);
	}
	if (!rc && p.len > PIT_NAMES_MAX) {
		mig_buf_reset(&p);
		rc = mig_buf_puts(&p, s->qindex ? "/" : "/*");
		if (!rc && s->qindex)
			rc = mig_buf_puts(&p, s->qindex);
	}
	if (rc || mig_buf_printf(&p, "/_pit?expand_wildcards=open&keep_alive=%s", s->keep_alive)) {
		rc = oom(err);
		goto out;
	}
	rc = call(s, "POST", p.data, NULL, &doc, err);
	if (rc)
		goto out;
	t = error_type(doc);
	if (s->status == 200 && json_is_string(json_object_get(doc, "id"))) {
		s->pit_id = strdup(json_string_value(json_object_get(doc, "id")));
		*token = s->pit_id ? strdup(s->pit_id) : NULL;
		if (!*token)
			rc = oom(err);
		else
			mig_debug("%s: opened one point in time over %zu indices", where(s),
				  json_array_size(list));
	} else if ((s->status == 400 || s->status == 404 || s->status == 405) &&
		   !(t && !strcmp(t, "index_not_found_exception"))) {
		mig_debug("%s: no point in time here (HTTP %ld): no shared snapshot", where(s),
			  s->status);
	} else {
		rc = answer_error(s, "POST", p.data, doc, MIG_EIO, err);
	}
out:
	json_decref(doc);
	json_decref(list);
	mig_buf_free(&p);
	return rc;
}

/* es_read_begin with a token of es_snapshot_begin: read through that
 * point in time (which the store that opened it closes), only the hits of
 * this index (an alias is taken too: _index queries accept aliases). */
static int join_snapshot(struct es_store *s, const char *token, struct mig_error *err)
{
	json_t *cond = json_pack("{s:{s:s}}", "term", "_index", s->index);

	if (!cond || !(s->pit_id = strdup(token))) {
		json_decref(cond);
		return oom(err);
	}
	s->pit_shared = 1;
	if (s->query) {
		json_t *both = json_pack("{s:{s:[o, o]}}", "bool", "filter", s->query, cond);
		if (!both)
			return oom(err);
		s->query = both;
	} else {
		s->query = cond;
	}
	return 0;
}

/*
 * The index settings that make a new index like this one.  Left out: what
 * the server sets itself (uuid, creation_date, version, provided_name),
 * where shards are allocated (routing), and what names things that need
 * not exist in the target or would stop a restore: ILM (lifecycle), ingest
 * pipelines (default_pipeline, final_pipeline: they would transform the
 * restored documents a second time) and blocks (a read-only index could not
 * be loaded).
 */
static const char *const native_settings[] = {
	"number_of_shards", "number_of_replicas", "auto_expand_replicas", "refresh_interval",
	"analysis", "similarity", "mapping", "codec", "sort", "routing_partition_size",
	"max_result_window", "max_inner_result_window", "max_rescore_window",
	"max_docvalue_fields_search", "max_script_fields", "max_ngram_diff",
	"max_shingle_diff", "max_terms_count", "max_regex_length", "highlight", "query",
	"hidden", NULL
};

/* The index's definition: {"settings": {"index": {...}}, "mappings": {...},
 * "aliases": {...}} as a PUT of a new index takes it; NULL when the
 * locator names several indices (an alias or pattern over more than one). */
static int es_native(struct mig_store *st, json_t **out, struct mig_error *err)
{
	struct es_store *s = (struct es_store *)st;
	json_t *doc = NULL, *info, *idx, *set;
	struct mig_buf p;
	int rc;

	*out = NULL;
	mig_buf_init(&p, 0);
	rc = check_index(s, s->index, 1, err);
	if (rc)
		return rc;
	if (!index_path(s, &p, "?expand_wildcards=open")) {
		rc = oom(err);
		goto out;
	}
	rc = call_ok(s, "GET", p.data, NULL, &doc, err);
	if (rc)
		goto out;
	if (json_object_size(doc) != 1) {
		mig_debug("%s: %zu indices: no one native definition", where(s), json_object_size(doc));
		goto out;
	}
	info = json_object_iter_value(json_object_iter(doc));
	set = json_object();
	idx = json_object_get(json_object_get(info, "settings"), "index");
	for (int i = 0; set && native_settings[i]; i++) {
		json_t *v = json_object_get(idx, native_settings[i]);
		if (v && json_object_set(set, native_settings[i], v)) {
			json_decref(set);
			set = NULL;
		}
	}
	*out = set ? json_pack("{s:{s:o}, s:O, s:O}", "settings", "index", set, "mappings",
			       json_object_get(info, "mappings") ? json_object_get(info, "mappings")
			       : json_object(), "aliases", json_object_get(info, "aliases")
			       ? json_object_get(info, "aliases") : json_object()) : NULL;
	if (!*out)
		rc = oom(err);
out:
	json_decref(doc);
	mig_buf_free(&p);
	return rc;
}

/* Warns about each alias of the definition that already names other
 * indices: Elasticsearch adds the new index to it, and a read through the
 * alias then reads both. */
static void warn_shared_aliases(struct es_store *s, const json_t *aliases)
{
	struct mig_error ignored;
	const char *a, *other;
	struct mig_buf p;
	json_t *v, *doc, *x;

	mig_buf_init(&p, 0);
	json_object_foreach((json_t *)aliases, a, v) {
		mig_buf_reset(&p);
		if (mig_buf_puts(&p, "/_alias/") || put_pct(&p, a, NULL))
			break;
		if (call(s, "GET", p.data, NULL, &doc, &ignored))
			continue;
		if (s->status == 200)
			json_object_foreach(doc, other, x)
				if (strcmp(other, s->index))
					mig_warn("%s: the alias %s also names the index %s: it names "
						 "both now", where(s), a, other);
		json_decref(doc);
	}
	mig_buf_free(&p);
}

/* --create from the native definition of an archived index (mig-restore
 * into Elasticsearch): the index made with its settings, mappings and
 * aliases before the load.  An alias named like the target index itself
 * is left out (an index and an alias cannot share a name). */
static int create_native_index(struct es_store *s, const json_t *nat, struct mig_error *err)
{
	json_t *body, *aliases;
	int rc;

	if (!json_is_object(nat) || !json_is_object(json_object_get(nat, "mappings")))
		return mig_error_set(err, MIG_ECORRUPT, "%s: the native definition is not an "
				     "index definition (no mappings)", where(s));
	body = json_deep_copy(nat);
	if (!body)
		return oom(err);
	aliases = json_object_get(body, "aliases");
	if (json_is_object(aliases)) {
		json_object_del(aliases, s->index);
		warn_shared_aliases(s, aliases);
	}
	rc = put_index(s, body, 1, err);
	json_decref(body);
	return rc;
}

static const char *es_lib_version(void)
{
	static char v[48];
	const curl_version_info_data *d = curl_version_info(CURLVERSION_NOW);

	snprintf(v, sizeof v, "libcurl %s", d && d->version ? d->version : "?");
	return v;
}

static const char *const write_params[] = {
	"parallel", "batch_bytes", "id_field", "routing_field", "refresh", "cacert", "insecure",
	NULL
};

const struct mig_backend_ops mig_backend_es = {
	.version = MIG_BACKEND_VERSION,
	.scheme = "es",
	.summary = "es://HOST:PORT#INDEX  an Elasticsearch index (es+https:// for TLS)",
	.lib_version = es_lib_version,
	.write_params = write_params,
	/* 1000 records of 235 bytes are one request of 235 KB, too small to
	 * split: 10,000 loads 20-25 % faster (tests/bench/es-load) */
	.default_batch_size = 10000,
	.open = es_open,
	.close = es_close,
	.read_begin = es_read_begin,
	.read_next = es_read_next,
	.write_begin = es_write_begin,
	.write_batch = es_write_batch,
	.write_end = es_write_end,
	.list = es_list,
	.count = es_count,
	.describe = es_describe,
	.snapshot_begin = es_snapshot_begin,
	.native = es_native,
};
