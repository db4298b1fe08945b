/*
 * mig/validate.h - JSON Schema (draft 2020-12 and draft-07), uniqueness and
 * reference checks, and schema inference: the library behind mig-validate.
 *
 * A schema is compiled once into a tree of checks (mig_schema_compile*);
 * validating a value walks that tree and never looks at the schema's JSON
 * again.  Compiling checks the schema against its draft's meta-schema
 * (built in), compiles every pattern (PCRE2) and resolves every $ref; any
 * failure is MIG_EUSAGE with a message naming the schema file and the JSON
 * pointer of the offending place ("s.json: /properties/age/minimum: must
 * be number, not string").
 *
 * Extended JSON (DESIGN.md s. 1) is understood: {"$date"} is a string
 * that satisfies format date-time; {"$numberDecimal"} is a number compared
 * exactly; {"$numberInt"} and {"$numberLong"} are integers, {"$numberDouble"}
 * a number; {"$oid"} is its 24-hex string; every other wrapper is an object.
 *
 * Ownership: a compiled schema owns everything it points into; the values
 * passed to mig_schema_validate() are borrowed.  A compiled schema is not
 * thread-safe (patterns share match buffers).
 */
#ifndef MIG_VALIDATE_H
#define MIG_VALIDATE_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "mig/error.h"
#include "mig/progress.h"

struct mig_schema;

struct mig_schema_opts {
	int formats;               /* assert "format" (else an annotation only) */
	/* URL prefix -> local directory pairs: a $ref to PREFIX/rest is read from
	 * DIR/rest (the network is never used).  NULL-terminated list of
	 * "URL=DIR" strings, or NULL. */
	const char *const *maps;
};

/* Reads and compiles the schema in path.  Relative $refs resolve against
 * the file's location (file:// URIs), so "other.json#/$defs/x" reads a file
 * beside it.  Returns 0 and a new schema in *out, MIG_EIO when a file cannot
 * be read, MIG_EUSAGE when the schema is not valid (message as above),
 * MIG_ENOMEM. */
int mig_schema_compile_file(struct mig_schema **out, const char *path,
			    const struct mig_schema_opts *opts, struct mig_error *err);

/* The same for a schema already in memory (borrowed; the schema keeps its
 * own reference).  name is used in messages; base_uri (may be NULL) is the
 * URI relative references resolve against. */
int mig_schema_compile(struct mig_schema **out, const json_t *doc, const char *name,
		       const char *base_uri, const struct mig_schema_opts *opts,
		       struct mig_error *err);

void mig_schema_free(struct mig_schema *s);

/* "draft2020-12" or "draft7". */
const char *mig_schema_draft(const struct mig_schema *s);

/* Validates v.  Returns 1 when v is valid, 0 when it is not, and then, when
 * errors is not NULL, sets *errors to a new JSON array of at most
 * MIG_SCHEMA_MAX_ERRORS objects {"path": JSON pointer of the instance,
 * "keyword": "minimum", "message": "must be >= 0"}.  Returns MIG_ENOMEM
 * (err set) when memory runs out. */
#define MIG_SCHEMA_MAX_ERRORS 64
int mig_schema_validate(struct mig_schema *s, const json_t *v, json_t **errors,
			struct mig_error *err);

/* Formats known to --formats: checks s (len bytes) against format name.
 * Returns 1 (valid or unknown format), 0 (invalid). */
int mig_format_check(const char *name, const char *s, size_t len);

/* ---- the stream driver (mig-validate) ---- */

/* --ref PATH=LOCATOR#FIELD: every record's PATH value must be one of the
 * FIELD values of the store LOCATOR names; --absent (absent set): none
 * may be. */
struct mig_validate_ref {
	const char *path;          /* dotted (a.b) or a JSON pointer (/a/b) */
	const char *locator;
	const char *field;
	int absent;
};

struct mig_validate_cfg {
	const char *input;         /* NULL or "-": stdin */
	const char *output;        /* NULL or "-": stdout (the valid records) */
	size_t max_line;
	int values;                /* --values: any JSON value per line */
	struct mig_schema *schema; /* borrowed, may be NULL */
	/* --unique: each entry is one key, a comma-separated list of paths */
	const char *const *unique;
	size_t nunique;
	const struct mig_validate_ref *refs;
	size_t nrefs;
	const char *reject_path;   /* NULL: invalid records are only counted and logged */
	size_t log_invalid;        /* without reject_path: log the first N invalid records */
	enum mig_progress_when progress;
};

struct mig_validate_stats {
	uint64_t read, valid, invalid;
	uint64_t bytes;            /* input bytes read */
	uint64_t ref_values;       /* values loaded by --ref, all refs together */
	int output_closed;         /* the reader of our output went away */
	/* error kinds: an object "keyword\tpath" -> count (a new reference;
	 * at most a few thousand kinds, the rest counted under "other"); the
	 * caller frees it with mig_validate_stats_free */
	json_t *kinds;
};

/* Reads the input, writes every valid record's line unchanged to the
 * output and every invalid one to the reject file (with "errors").  Reads
 * the whole input: how many invalid records are too many is the caller's
 * decision.  Returns 0, MIG_EPIPE when the output's reader went away, or
 * an error (MIG_EIO, MIG_EINTR, MIG_ENOMEM, MIG_EUSAGE for a --ref that
 * cannot be used). */
int mig_validate_run(const struct mig_validate_cfg *cfg, struct mig_validate_stats *stats,
		     struct mig_error *err);

/* The n most frequent error kinds as a JSON array of {"keyword", "path",
 * "count"} (new reference). */
json_t *mig_validate_top_kinds(const struct mig_validate_stats *stats, size_t n);

void mig_validate_stats_free(struct mig_validate_stats *stats);

/* ---- --infer ---- */

struct mig_infer_cfg {
	const char *input;
	size_t max_line;
	int values;
	enum mig_progress_when progress;
};

/* Reads the input and sets *out to a JSON Schema 2020-12 document that
 * describes it (new reference): types seen per field, nested objects and
 * array items, required where always present, formats (date-time for $date
 * wrappers and ISO strings, date, uuid, email), enum for small closed
 * string sets (at most 10 distinct values over at least 20 records), and
 * "x-mig" counts.  Memory is bounded by the shape of the data, not its
 * size.  A line that is not JSON is MIG_EDATA naming it. */
int mig_infer_run(const struct mig_infer_cfg *cfg, json_t **out, uint64_t *records,
		  struct mig_error *err);

#endif
