/*
 * mig/jsonfile.h - small JSON state files (reports, checkpoints,
 * bookmarks), written atomically: a temp file beside the target, fsync,
 * rename.  A reader never sees half a file.
 */
#ifndef MIG_JSONFILE_H
#define MIG_JSONFILE_H

#include <jansson.h>

#include "mig/error.h"

/* Writes v (borrowed) to path, pretty-printed, atomically.  what names the
 * file in messages ("report", "checkpoint"). */
int mig_jsonfile_write(const char *path, const json_t *v, const char *what,
		       struct mig_error *err);

/* Reads path.  Returns 0 with *out NULL when the file does not exist,
 * 0 with a new reference, MIG_ECORRUPT when it is not a JSON object,
 * MIG_EIO when it cannot be read. */
int mig_jsonfile_read(json_t **out, const char *path, const char *what,
		      struct mig_error *err);

#endif
