/* uri.c - RFC 3986 reference resolution, for $id and $ref. */
#include <stdlib.h>
#include <string.h>

#include "schema.h"

enum { SCHEME, AUTH, PATH, QUERY, FRAG, NPARTS };

struct uparts {
	const char *s[NPARTS];
	size_t n[NPARTS];
	int has[NPARTS];
};

static int is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

static void split(const char *u, struct uparts *p)
{
	const char *q = u, *e;

	memset(p, 0, sizeof *p);
	if (is_alpha(*q)) {
		e = q + 1;
		while (is_alpha(*e) || (*e >= '0' && *e <= '9') || *e == '+' || *e == '-' || *e == '.')
			e++;
		if (*e == ':') {
			p->has[SCHEME] = 1;
			p->s[SCHEME] = q;
			p->n[SCHEME] = (size_t)(e - q);
			q = e + 1;
		}
	}
	if (q[0] == '/' && q[1] == '/') {
		q += 2;
		e = q + strcspn(q, "/?#");
		p->has[AUTH] = 1;
		p->s[AUTH] = q;
		p->n[AUTH] = (size_t)(e - q);
		q = e;
	}
	e = q + strcspn(q, "?#");
	p->has[PATH] = 1;
	p->s[PATH] = q;
	p->n[PATH] = (size_t)(e - q);
	q = e;
	if (*q == '?') {
		q++;
		e = q + strcspn(q, "#");
		p->has[QUERY] = 1;
		p->s[QUERY] = q;
		p->n[QUERY] = (size_t)(e - q);
		q = e;
	}
	if (*q == '#') {
		p->has[FRAG] = 1;
		p->s[FRAG] = q + 1;
		p->n[FRAG] = strlen(q + 1);
	}
}

/* RFC 3986 5.2.4: a new string. */
static char *remove_dots(const char *in)
{
	char *out = malloc(strlen(in) + 2);
	size_t o = 0;
	const char *p = in;

	if (!out)
		return NULL;
	while (*p) {
		if (strncmp(p, "../", 3) == 0) {
			p += 3;
		} else if (strncmp(p, "./", 2) == 0) {
			p += 2;
		} else if (strncmp(p, "/./", 3) == 0) {
			p += 2;
		} else if (strcmp(p, "/.") == 0) {
			p = "/";
		} else if (strncmp(p, "/../", 4) == 0 || strcmp(p, "/..") == 0) {
			p = p[3] ? p + 3 : "/";
			while (o > 0 && out[o - 1] != '/')
				o--;
			if (o > 0)
				o--;
		} else if (strcmp(p, ".") == 0 || strcmp(p, "..") == 0) {
			break;
		} else {
			size_t k = *p == '/' ? 1 + strcspn(p + 1, "/") : strcspn(p, "/");
			memcpy(out + o, p, k);
			o += k;
			p += k;
		}
	}
	out[o] = '\0';
	return out;
}

static void put(char *out, size_t *o, const char *s, size_t n)
{
	memcpy(out + *o, s, n);
	*o += n;
}

char *mig_v_uri_resolve(const char *base, const char *ref)
{
	struct uparts b, r, t;
	char *path = NULL, *clean = NULL, *out = NULL;
	size_t o = 0, cap;

	if (!base || !*base)
		return strdup(ref);
	split(base, &b);
	split(ref, &r);
	t = r;
	if (r.has[SCHEME]) {
		/* as it is */
	} else {
		t.has[SCHEME] = b.has[SCHEME];
		t.s[SCHEME] = b.s[SCHEME];
		t.n[SCHEME] = b.n[SCHEME];
		if (!r.has[AUTH]) {
			t.has[AUTH] = b.has[AUTH];
			t.s[AUTH] = b.s[AUTH];
			t.n[AUTH] = b.n[AUTH];
			if (r.n[PATH] == 0) {
				t.s[PATH] = b.s[PATH];
				t.n[PATH] = b.n[PATH];
				if (!r.has[QUERY]) {
					t.has[QUERY] = b.has[QUERY];
					t.s[QUERY] = b.s[QUERY];
					t.n[QUERY] = b.n[QUERY];
				}
			} else if (r.s[PATH][0] != '/') {
				/* merge: the base path up to its last '/', then the ref */
				size_t keep = b.n[PATH];
				while (keep > 0 && b.s[PATH][keep - 1] != '/')
					keep--;
				path = malloc(keep + r.n[PATH] + 2);
				if (!path)
					return NULL;
				size_t k = 0;
				if (b.has[AUTH] && b.n[PATH] == 0)
					path[k++] = '/';
				memcpy(path + k, b.s[PATH], keep);
				memcpy(path + k + keep, r.s[PATH], r.n[PATH]);
				path[k + keep + r.n[PATH]] = '\0';
			}
		}
	}
	if (!path) {
		path = strndup(t.s[PATH] ? t.s[PATH] : "", t.n[PATH]);
		if (!path)
			return NULL;
	}
	clean = t.has[SCHEME] && (r.has[SCHEME] || r.has[AUTH] || r.n[PATH] > 0) &&
		(path[0] == '/' || path[0] == '.') ? remove_dots(path) : strdup(path);
	if (!clean)
		goto out;
	cap = t.n[SCHEME] + t.n[AUTH] + strlen(clean) + t.n[QUERY] + t.n[FRAG] + 8;
	out = malloc(cap);
	if (!out)
		goto out;
	if (t.has[SCHEME]) {
		put(out, &o, t.s[SCHEME], t.n[SCHEME]);
		put(out, &o, ":", 1);
	}
	if (t.has[AUTH]) {
		put(out, &o, "//", 2);
		put(out, &o, t.s[AUTH], t.n[AUTH]);
	}
	put(out, &o, clean, strlen(clean));
	if (t.has[QUERY]) {
		put(out, &o, "?", 1);
		put(out, &o, t.s[QUERY], t.n[QUERY]);
	}
	if (r.has[FRAG]) {
		put(out, &o, "#", 1);
		put(out, &o, r.s[FRAG], r.n[FRAG]);
	}
	out[o] = '\0';
out:
	free(clean);
	free(path);
	return out;
}

size_t mig_v_uri_nofrag_len(const char *s)
{
	const char *h = strchr(s, '#');
	return h ? (size_t)(h - s) : strlen(s);
}

static int hexv(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

char *mig_v_uri_unescape(const char *s, size_t n)
{
	char *out = malloc(n + 1);
	size_t o = 0;

	if (!out)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '%' && i + 2 < n &&
		    hexv(s[i + 1]) >= 0 && hexv(s[i + 2]) >= 0) {
			out[o++] = (char)(hexv(s[i + 1]) * 16 + hexv(s[i + 2]));
			i += 2;
		} else {
			out[o++] = s[i];
		}
	}
	out[o] = '\0';
	return out;
}
