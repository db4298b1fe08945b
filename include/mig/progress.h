/*
 * mig/progress.h - the live progress line on stderr.
 *
 * On a TTY (or --progress=always on one): one line redrawn in place at
 * most five times a second: records, rate, bytes, and percent and ETA
 * when the total size of the input is known.  Not on a TTY with
 * --progress=always: a log line every ten seconds.  --progress=never, or
 * auto without a TTY: nothing.  mig_progress_update() is cheap enough to
 * call per record (it looks at the clock every 256 calls).
 */
#ifndef MIG_PROGRESS_H
#define MIG_PROGRESS_H

#include <stdint.h>

enum mig_progress_when { MIG_PROGRESS_AUTO = 0, MIG_PROGRESS_ALWAYS, MIG_PROGRESS_NEVER };

struct mig_progress;

/* Parses "auto", "always", "never" (NULL: "always", for a bare
 * --progress).  Returns 0 or -1. */
int mig_progress_parse(const char *s, enum mig_progress_when *out);

/* label: a short noun ("read", "loaded"); total_bytes 0 when unknown.
 * Returns NULL when nothing is to be shown (all calls accept NULL). */
struct mig_progress *mig_progress_start(enum mig_progress_when when, const char *label,
					uint64_t total_bytes);
void mig_progress_update(struct mig_progress *p, uint64_t records, uint64_t bytes);
/* Clears the line; frees p. */
void mig_progress_end(struct mig_progress *p);

/* Monotonic seconds. */
double mig_now(void);

#endif
