/*
 * keyset.c - a set of key texts, for --unique and --ref.
 *
 * Memory is proportional to the distinct keys (their bytes plus 24 bytes
 * each): one byte pool and one open-addressing table of indices.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mig/value.h"
#include "schema.h"

struct kentry {
	uint64_t off;       /* into pool */
	uint64_t line;
	uint32_t len;
	uint32_t hash;
};

struct keyset {
	char *pool;
	size_t pool_len, pool_cap;
	struct kentry *e;
	size_t n, cap;
	uint32_t *table;    /* entry index + 1; 0: empty */
	size_t mask;
};

static uint32_t hash(const char *p, size_t n)
{
	uint64_t h = 1469598103934665603ULL;
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)p[i]) * 1099511628211ULL;
	return (uint32_t)(h ^ (h >> 32));
}

int mig_v_keyset_new(struct keyset **out)
{
	struct keyset *k = calloc(1, sizeof *k);

	*out = NULL;
	if (!k)
		return -1;
	k->mask = 1023;
	k->table = calloc(k->mask + 1, sizeof *k->table);
	if (!k->table) {
		free(k);
		return -1;
	}
	*out = k;
	return 0;
}

void mig_v_keyset_free(struct keyset *k)
{
	if (!k)
		return;
	free(k->pool);
	free(k->e);
	free(k->table);
	free(k);
}

size_t mig_v_keyset_size(const struct keyset *k) { return k->n; }

static const struct kentry *find(const struct keyset *k, const char *key, size_t len,
				 uint32_t h, size_t *slot)
{
	for (size_t i = h & k->mask;; i = (i + 1) & k->mask) {
		uint32_t x = k->table[i];
		if (!x) {
			*slot = i;
			return NULL;
		}
		const struct kentry *e = &k->e[x - 1];
		if (e->hash == h && e->len == len && memcmp(k->pool + e->off, key, len) == 0)
			return e;
	}
}

static int rehash(struct keyset *k)
{
	size_t ncap = (k->mask + 1) * 2;
	uint32_t *t = calloc(ncap, sizeof *t);

	if (!t)
		return -1;
	for (size_t j = 0; j < k->n; j++) {
		size_t i = k->e[j].hash & (ncap - 1);
		while (t[i])
			i = (i + 1) & (ncap - 1);
		t[i] = (uint32_t)j + 1;
	}
	free(k->table);
	k->table = t;
	k->mask = ncap - 1;
	return 0;
}

int mig_v_keyset_add(struct keyset *k, const char *key, size_t len, uint64_t line, uint64_t *first)
{
	uint32_t h = hash(key, len);
	size_t slot;
	const struct kentry *e = find(k, key, len, h, &slot);

	if (e) {
		if (first)
			*first = e->line;
		return 0;
	}
	if (k->n >= UINT32_MAX - 1 || len > UINT32_MAX)
		return -1;
	if (k->pool_len + len > k->pool_cap) {
		size_t nc = k->pool_cap ? k->pool_cap * 2 : 65536;
		while (nc < k->pool_len + len)
			nc *= 2;
		char *p = realloc(k->pool, nc);
		if (!p)
			return -1;
		k->pool = p;
		k->pool_cap = nc;
	}
	if (k->n == k->cap) {
		size_t nc = k->cap ? k->cap * 2 : 1024;
		struct kentry *p = realloc(k->e, nc * sizeof *p);
		if (!p)
			return -1;
		k->e = p;
		k->cap = nc;
	}
	memcpy(k->pool + k->pool_len, key, len);
	k->e[k->n] = (struct kentry){ .off = k->pool_len, .line = line, .len = (uint32_t)len,
				      .hash = h };
	k->pool_len += len;
	k->table[slot] = (uint32_t)++k->n;
	if (k->n * 2 > k->mask + 1 && rehash(k))
		return -1;
	return 1;
}

int mig_v_keyset_has(const struct keyset *k, const char *key, size_t len)
{
	size_t slot;
	return find(k, key, len, hash(key, len), &slot) != NULL;
}

int mig_v_keyset_get(const struct keyset *k, const char *key, size_t len, uint64_t *line)
{
	size_t slot;
	const struct kentry *e = find(k, key, len, hash(key, len), &slot);
	if (e && line)
		*line = e->line;
	return e != NULL;
}

/* ---- paths ---- */

const json_t *mig_v_path_get(const json_t *v, const char *path)
{
	char sep = path[0] == '/' ? '/' : '.';
	const char *p = path[0] == '/' ? path + 1 : path;
	char seg[1024];

	if (path[0] == '/' && !path[1])
		return json_object_get(v, "");
	if (!*path)
		return v;
	for (;;) {
		size_t n = 0;
		while (*p && *p != sep && n < sizeof seg - 1) {
			if (sep == '/' && p[0] == '~' && (p[1] == '0' || p[1] == '1')) {
				seg[n++] = p[1] == '0' ? '~' : '/';
				p += 2;
				continue;
			}
			seg[n++] = *p++;
		}
		seg[n] = '\0';
		if (json_is_object(v)) {
			v = json_object_get(v, seg);
		} else if (json_is_array(v) && n) {
			char *end;
			unsigned long i = strtoul(seg, &end, 10);
			v = *end ? NULL : json_array_get(v, i);
		} else {
			v = NULL;
		}
		if (!v || !*p)
			return v;
		p++;
	}
}

int mig_v_path_pointer(struct mig_buf *b, const char *path)
{
	int rc = 0;
	if (path[0] == '/')
		return mig_buf_puts(b, path);
	rc = mig_buf_putc(b, '/');
	for (const char *p = path; *p && !rc; p++) {
		if (*p == '.')
			rc = mig_buf_putc(b, '/');
		else if (*p == '~')
			rc = mig_buf_puts(b, "~0");
		else if (*p == '/')
			rc = mig_buf_puts(b, "~1");
		else
			rc = mig_buf_putc(b, *p);
	}
	return rc;
}

int mig_v_key_text(struct mig_buf *b, const json_t *v)
{
	if (json_is_real(v)) {
		double d = json_real_value(v);
		if (d == floor(d) && fabs(d) < 9.007199254740992e15)
			return mig_buf_printf(b, "%lld", (long long)d);
	}
	return mig_value_write(b, v, MIG_JSON_RELAXED);
}
