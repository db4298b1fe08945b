/*
 * mig/reject.h - the reject file: one JSON object per rejected record.
 *
 *   {"record": <the record, or the raw line as a string>, "error": "...",
 *    "line": N, "stage": "mig-load", "code": "...", "errors": [...]}
 *
 * The same format for every program and backend (DESIGN.md s. 1), so that
 * rejects can be fixed with mig-map and fed back.  A reject set always
 * counts; it writes only when it was opened with a path.
 */
#ifndef MIG_REJECT_H
#define MIG_REJECT_H

#include <stdint.h>
#include <jansson.h>

#include "mig/error.h"

struct mig_rejects;

/* path NULL: count only.  stage: the program name ("mig-load").  append:
 * add to an existing file (a resumed load) instead of starting it anew. */
int mig_rejects_open(struct mig_rejects **out, const char *path, const char *stage,
		     int append, struct mig_error *err);
/* rec: the parsed record, or NULL, in which case raw/rawlen (the input
 * line, which need not be valid UTF-8: invalid bytes are replaced by
 * U+FFFD) is stored as a string.  code and errors (a JSON array, borrowed)
 * may be NULL. */
int mig_rejects_add(struct mig_rejects *r, const json_t *rec, const char *raw, size_t rawlen,
		    uint64_t line, const char *error, const char *code, const json_t *errors,
		    struct mig_error *err);
uint64_t mig_rejects_count(const struct mig_rejects *r);
const char *mig_rejects_path(const struct mig_rejects *r);
/* Flushes and closes; accepts NULL. */
int mig_rejects_close(struct mig_rejects *r, struct mig_error *err);

#endif
