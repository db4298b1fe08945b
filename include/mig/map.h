/*
 * mig/map.h - the mapping language of mig-map (mig-map(5)): compile a
 * mapping once, then push records through it.
 *
 * A mapping is compiled into a tree of nodes (paths resolved into key
 * segments, functions bound, regular expressions compiled, constant
 * subtrees folded) and a list of stages: statement blocks, explode,
 * dedupe and group.  Records are pushed through the stages one by one;
 * what comes out of the last stage goes to the sink's emit().  Blocks and
 * explode hold nothing between records; dedupe and group hold one state
 * per distinct key, spilled to temporary files past opts->memory, and
 * give their records at mig_map_finish().
 *
 * Ownership: mig_map_push() takes the record (a reference the caller
 * owned); emit() receives a new reference that it must release.  The map
 * owns everything else it hands out (describe() returns a new reference).
 * A map is not thread-safe: one map, one thread.
 */
#ifndef MIG_MAP_H
#define MIG_MAP_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "mig/error.h"
#include "mig/progress.h"
#include "mig/value.h"

struct mig_map;

/* What a runtime error (date("x"), 1 / 0, --strict and a missing field)
 * does to its record. */
enum mig_map_on_error {
	MIG_MAP_REJECT = 0,   /* the record goes to the sink's reject() */
	MIG_MAP_NULL,         /* the failing expression yields null; counted */
	MIG_MAP_FAIL          /* mig_map_push() returns MIG_EDATA */
};

struct mig_map_opts {
	const char *salt;        /* hash()'s salt (bytes, not a locator); may be NULL */
	size_t salt_len;
	int strict;              /* a missing input field is a runtime error */
	enum mig_map_on_error on_error;
	uint64_t memory;         /* bytes of dedupe/group state before spilling; 0: 64 MiB */
	int64_t now_us;          /* now(); 0: the clock at compile time (ms precision) */
};

/* Where a compile error is, for the caret display: the source line (a
 * copy, without its newline) and the 1-based column in characters. */
struct mig_map_diag {
	char text[512];
	char caret[600];         /* blanks (tabs where text has tabs) then '^' */
	int line, col;           /* 0 when the error is not in the text */
};

/* Compiles src (len bytes, need not be NUL-terminated).  name is used in
 * messages ("map.map", "-e").  On error returns MIG_EUSAGE with a message
 * "NAME:LINE:COL: why ('TEXT')" and, when diag is not NULL, fills it.
 * Lookup tables are not opened here (see mig_map_open_lookups). */
int mig_map_compile(struct mig_map **out, const char *src, size_t len, const char *name,
		    const struct mig_map_opts *opts, struct mig_map_diag *diag,
		    struct mig_error *err);
void mig_map_free(struct mig_map *m);

/* What the mapping does, as JSON: {"statements": N, "stages": [...],
 * "fields": [...], "lookups": [...]}.  New reference. */
json_t *mig_map_describe(const struct mig_map *m);

/* Loads every `lookup` table from its locator, once.  MIG_EIO (or the
 * store's code) naming the locator when one cannot be read. */
int mig_map_open_lookups(struct mig_map *m, struct mig_error *err);

/* The receiver of what the map produces.  emit takes rec (a new
 * reference) and returns 0 or an error that stops the run.  reject is
 * called for a record that a runtime error stopped (policy reject): rec is
 * borrowed (the record as it entered the failing stage), line is its
 * input line, why is "NAME:LINE:COL: reason", in_push is 1 when the error
 * happened while the record of that input line was being pushed (so that
 * the caller may reject its original text instead); a non-zero return
 * stops the run. */
struct mig_map_sink {
	int (*emit)(void *ctx, json_t *rec, uint64_t line, struct mig_error *err);
	int (*reject)(void *ctx, const json_t *rec, uint64_t line, const char *why,
		      int in_push, struct mig_error *err);
	void *ctx;
};

/* Pushes one record (taken) read from input line `line`.  Returns 0 (the
 * record was emitted, filtered, buffered or rejected), or an error:
 * MIG_EDATA under MIG_MAP_FAIL, whatever emit/reject returned, MIG_EIO
 * when a spill file fails, MIG_ENOMEM. */
int mig_map_push(struct mig_map *m, json_t *rec, uint64_t line,
		 const struct mig_map_sink *sink, struct mig_error *err);

/* Ends the input: dedupe and group stages give their records, in the
 * order their keys were first seen.  Call once, after the last push. */
int mig_map_finish(struct mig_map *m, const struct mig_map_sink *sink, struct mig_error *err);

struct mig_map_counts {
	uint64_t filtered;       /* records a `where` dropped */
	uint64_t errors;         /* runtime errors (rejected, nulled or fatal) */
	uint64_t nulled;         /* of which made null by MIG_MAP_NULL */
	uint64_t exploded;       /* records made by explode */
	uint64_t duplicates;     /* records dedupe dropped */
	uint64_t groups;         /* records group made */
	uint64_t spilled;        /* bytes written to spill files */
};

const struct mig_map_counts *mig_map_counts(const struct mig_map *m);

/* ---- the driver behind mig-map: NDJSON in, NDJSON out, rejects ---- */

struct mig_map_cfg {
	const char *input;               /* NULL or "-": stdin */
	const char *output;              /* NULL or "-": stdout */
	enum mig_json_mode mode;         /* of the output */
	size_t max_line;
	const char *reject_path;         /* NULL: rejects are counted and logged */
	int64_t max_errors;              /* < 0: no limit */
	enum mig_progress_when progress;
};

struct mig_map_stats {
	uint64_t read;                   /* input records (non-blank lines) */
	uint64_t written;
	uint64_t rejected;               /* bad lines and runtime errors */
	uint64_t bytes;                  /* input bytes read */
	int output_closed;               /* the reader of the output went away */
};

/* Reads records, pushes them through m, writes what comes out.  A line
 * that is not a JSON object, or a record a runtime error stops (policy
 * reject), is rejected: reject file (the original record and "FILE:LINE:
 * MAP:L:C: why"), counts; more rejects than max_errors stops the run with
 * MIG_EDATA.  Returns 0, MIG_EPIPE when the output's reader went away, or
 * an error (MIG_EINTR on a signal). */
int mig_map_run(struct mig_map *m, const struct mig_map_cfg *cfg, struct mig_map_stats *stats,
		struct mig_error *err);

#endif
