/*
 * mig/run.h - the two drivers behind mig-extract and mig-load: a store to
 * a record stream, and a record stream to a store.
 */
#ifndef MIG_RUN_H
#define MIG_RUN_H

#include <stdint.h>

#include "mig/backend.h"
#include "mig/progress.h"

struct mig_extract_cfg {
	struct mig_read_opts ro;
	const char *output;              /* NULL or "-": stdout */
	enum mig_json_mode mode;
	enum mig_progress_when progress;
	/* --since FIELD --state FILE: ro.since is FIELD; the bookmark is read
	 * from state and the next one written to state.next once every record
	 * is out (DESIGN.md s. 1). */
	const char *state;
};

struct mig_extract_stats {
	uint64_t records;
	uint64_t bytes;                  /* NDJSON bytes written (uncompressed) */
	int output_closed;               /* the reader of stdout went away */
	int bookmark_written;            /* state.next was written */
};

/* Streams the store's records to the output.  Returns 0, MIG_EPIPE when
 * the output was closed by its reader (stats say how far it got), or an
 * error. */
int mig_extract_run(struct mig_store *st, const struct mig_extract_cfg *cfg,
		    struct mig_extract_stats *stats, struct mig_error *err);

struct mig_reader;

/* A batch ends at wo.batch_size records or once its records' text reaches
 * this many bytes, whichever comes first. */
#define MIG_BATCH_BYTES ((size_t)64 << 20)

struct mig_load_cfg {
	const char *input;               /* NULL or "-": stdin */
	struct mig_reader *reader;       /* or read this (borrowed; input is then its name) */
	size_t max_line;
	struct mig_write_opts wo;
	const char *reject_path;         /* NULL: rejects are counted and logged */
	int64_t max_errors;              /* < 0: no limit */
	enum mig_progress_when progress;
	const char *target;              /* the redacted locator, for the checkpoint */
	/* --checkpoint FILE: after every committed batch, FILE says which input
	 * line the load has committed through; a rerun with the same FILE and
	 * the same input skips those lines.  A complete load marks it so. */
	const char *checkpoint;
	/* When the input has ended, before the last batch and the commit: a
	 * last word on the input (mig-restore's checksums of what it read).
	 * Nonzero stops the load with that error; under --atomic nothing is
	 * committed. */
	int (*input_end)(void *arg, struct mig_error *err);
	void *input_arg;
};

struct mig_load_stats {
	uint64_t read;                   /* input records (lines that were not blank) */
	uint64_t inserted, updated, skipped, rejected;
	uint64_t deleted, not_found;     /* --mode delete */
	uint64_t batches;
	uint64_t bytes;                  /* input bytes read */
	uint64_t resumed;                /* input lines skipped: a checkpoint had them */
	int was_complete;                /* the checkpoint said the load was done */
};

/* Reads records from the input and writes them to the store in batches.
 * A bad line or a record the store refuses is rejected (reject file,
 * counts); more rejects than max_errors stops the load with MIG_EDATA
 * once every record before the one that tipped it is written.  A signal
 * stops it with MIG_EINTR after the current batch is committed. */
int mig_load_run(struct mig_store *st, const struct mig_load_cfg *cfg,
		 struct mig_load_stats *stats, struct mig_error *err);

#endif
