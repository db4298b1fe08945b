/*
 * alloc.c - a size-class free-list allocator for Jansson's values.
 *
 * Why: a batch keeps a thousand records alive and then frees them at
 * once; glibc malloc then spends a third of mig-load's time in
 * _int_malloc sorting its bins (measured with perf on 200,000 records:
 * 2.3 s with malloc, 1.3 s with more tcache).  Records are made of many
 * small blocks of a few sizes, which a free list per 16-byte class hands
 * back in O(1).  Blocks up to 512 bytes come from 1 MiB slabs that are
 * never returned: the footprint is the peak of live records, which the
 * batch size bounds.  Larger blocks go to malloc.
 *
 * Not thread-safe: only the main thread of a program builds json_t
 * values.  Not installed under AddressSanitizer, so that it still sees
 * every use after free.
 */
#include <stdlib.h>
#include <stdint.h>

#include <jansson.h>

#include "mig/cli.h"

#if defined(__SANITIZE_ADDRESS__)
#define MIG_NO_POOL 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define MIG_NO_POOL 1
#endif
#endif

#ifndef MIG_NO_POOL

#define GRAIN 16
#define CLASSES 32                       /* 16 .. 512 bytes */
#define SLAB ((size_t)1 << 20)
#define LARGE UINT32_MAX

struct hdr {                             /* keeps blocks 16-byte aligned */
	uint32_t cls;
	uint32_t pad[3];
};

static void *freelist[CLASSES];
static char *slab, *slab_end;

static void *pool_malloc(size_t n)
{
	struct hdr *h;
	size_t cls, size;

	if (n > GRAIN * CLASSES) {
		h = malloc(sizeof *h + n);
		if (!h)
			return NULL;
		h->cls = LARGE;
		return h + 1;
	}
	cls = n ? (n - 1) / GRAIN : 0;
	if (freelist[cls]) {
		void *p = freelist[cls];
		freelist[cls] = *(void **)p;
		return p;
	}
	size = sizeof *h + (cls + 1) * GRAIN;
	if ((size_t)(slab_end - slab) < size) {
		/* the tail of the old slab is left unused: at most 512 bytes */
		slab = malloc(SLAB);
		if (!slab) {
			slab_end = NULL;
			return NULL;
		}
		slab_end = slab + SLAB;
	}
	h = (struct hdr *)slab;
	slab += size;
	h->cls = (uint32_t)cls;
	return h + 1;
}

static void pool_free(void *p)
{
	struct hdr *h;

	if (!p)
		return;
	h = (struct hdr *)p - 1;
	if (h->cls == LARGE) {
		free(h);
		return;
	}
	*(void **)p = freelist[h->cls];
	freelist[h->cls] = p;
}

#endif /* MIG_NO_POOL */

void mig_json_alloc_init(void)
{
#ifndef MIG_NO_POOL
	json_set_alloc_funcs(pool_malloc, pool_free);
#endif
}

void mig_json_free(void *p)
{
	json_free_t fr;

	json_get_alloc_funcs(NULL, &fr);
	fr(p);
}
