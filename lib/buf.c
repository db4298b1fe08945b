/* buf.c - growable buffer with a hard cap. */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "mig/buf.h"
#include "mig/error.h"

void mig_buf_init(struct mig_buf *b, size_t max)
{
	b->data = NULL;
	b->len = b->cap = 0;
	b->max = max ? max : SIZE_MAX;
}

void mig_buf_free(struct mig_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

int mig_buf_reserve(struct mig_buf *b, size_t extra)
{
	if (extra > b->max - b->len)
		return MIG_EDATA;
	size_t need = b->len + extra + 1;
	if (need <= b->cap)
		return 0;
	size_t cap = b->cap ? b->cap : 256;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	char *p = realloc(b->data, cap);
	if (!p)
		return MIG_ENOMEM;
	b->data = p;
	b->cap = cap;
	return 0;
}

int mig_buf_append(struct mig_buf *b, const void *p, size_t n)
{
	int rc = mig_buf_reserve(b, n);
	if (rc)
		return rc;
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

int mig_buf_puts(struct mig_buf *b, const char *s)
{
	return mig_buf_append(b, s, strlen(s));
}

int mig_buf_printf(struct mig_buf *b, const char *fmt, ...)
{
	va_list ap;
	char small[256];
	int n;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof small, fmt, ap);
	va_end(ap);
	if (n < 0)
		return MIG_EDATA;
	if ((size_t)n < sizeof small)
		return mig_buf_append(b, small, (size_t)n);
	int rc = mig_buf_reserve(b, (size_t)n);
	if (rc)
		return rc;
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

char *mig_buf_steal(struct mig_buf *b)
{
	char *p = b->data;
	if (!p)
		p = calloc(1, 1);
	b->data = NULL;
	b->len = b->cap = 0;
	return p;
}
