/*
 * mig/buf.h - a growable byte buffer with a hard cap (after curl's dynbuf).
 *
 * The cap is set at init and enforced here, so a limit such as --max-line
 * cannot be forgotten by a caller.  The buffer owns data; mig_buf_free()
 * releases it and leaves an empty buffer that may be used again.
 * data is always NUL-terminated when len > 0 or after any append, so it
 * can be passed to functions that want a C string (the NUL is not counted
 * in len).
 */
#ifndef MIG_BUF_H
#define MIG_BUF_H

#include <stddef.h>
#include <string.h>

struct mig_buf {
	char *data;
	size_t len;
	size_t cap;   /* allocated bytes */
	size_t max;   /* hard cap on len; 0 means SIZE_MAX */
};

void mig_buf_init(struct mig_buf *b, size_t max);
void mig_buf_free(struct mig_buf *b);

/* Makes room for extra more bytes (plus the NUL).  Returns 0, MIG_EDATA
 * when len + extra would pass the cap, MIG_ENOMEM when malloc fails.  Sets
 * no error message: the caller knows what the cap stands for. */
int mig_buf_reserve(struct mig_buf *b, size_t extra);

int mig_buf_append(struct mig_buf *b, const void *p, size_t n);
int mig_buf_puts(struct mig_buf *b, const char *s);
int mig_buf_printf(struct mig_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static inline int mig_buf_putc(struct mig_buf *b, char c)
{
	if (b->len + 2 > b->cap) {
		int rc = mig_buf_reserve(b, 1);
		if (rc)
			return rc;
	}
	b->data[b->len++] = c;
	b->data[b->len] = '\0';
	return 0;
}

static inline void mig_buf_reset(struct mig_buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

/* Hands the bytes to the caller (malloc'd, NUL-terminated, caller frees)
 * and leaves b empty.  Returns NULL only when b holds nothing and malloc
 * of an empty string fails. */
char *mig_buf_steal(struct mig_buf *b);

#endif
