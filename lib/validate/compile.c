/*
 * compile.c - JSON Schema documents -> a graph of checks.
 *
 * Two passes per document.  scan() walks every subschema position the
 * draft defines and records, per schema object, its resource (the nearest
 * $id) and its JSON pointer, and registers $id URIs and anchors.  Then
 * get_node() compiles schema objects on demand, starting at the root:
 * every $ref is resolved here, once (loading a referenced file or a
 * built-in meta-schema when it names one), so that validation never looks
 * at schema JSON again.  A $ref cycle is a cycle of node pointers: a node
 * is registered before its children are compiled.
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mig/cli.h"
#include "mig/validate.h"
#include "schema.h"

/* ---- arena ---- */

struct arena_chunk {
	struct arena_chunk *next;
	size_t used, cap;
	max_align_t data[];
};

static void *ar_alloc(struct mig_schema *s, size_t n)
{
	struct arena_chunk *c = s->arena;
	void *p;

	n = (n + 15) & ~(size_t)15;
	if (!c || c->cap - c->used < n) {
		size_t cap = n > 32768 ? n : 32768;
		c = calloc(1, sizeof *c + cap);
		if (!c) {
			if (!s->failed)
				mig_error_set(s->err, MIG_ENOMEM, "out of memory");
			s->failed = 1;
			return NULL;
		}
		c->cap = cap;
		c->next = s->arena;
		s->arena = c;
	}
	p = (char *)c->data + c->used;
	c->used += n;
	return p;
}

static char *ar_strndup(struct mig_schema *s, const char *p, size_t n)
{
	char *d = ar_alloc(s, n + 1);
	if (d) {
		memcpy(d, p, n);
		d[n] = '\0';
	}
	return d;
}

static char *ar_strdup(struct mig_schema *s, const char *p)
{
	return ar_strndup(s, p, strlen(p));
}

/* Grows an array of elements of size sz to hold one more. */
static int grow(struct mig_schema *s, void **arr, size_t *cap, size_t n, size_t sz)
{
	if (n < *cap)
		return 0;
	size_t nc = *cap ? *cap * 2 : 8;
	void *p = realloc(*arr, nc * sz);
	if (!p) {
		if (!s->failed)
			mig_error_set(s->err, MIG_ENOMEM, "out of memory");
		s->failed = 1;
		return -1;
	}
	*arr = p;
	*cap = nc;
	return 0;
}

/* A compile error at a place in a schema document; the first one wins. */
__attribute__((format(printf, 4, 5)))
static void *cerr(struct mig_schema *s, const char *doc, const char *ptr, const char *fmt, ...)
{
	va_list ap;
	char msg[MIG_ERROR_MAX];

	if (s->failed)
		return NULL;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	mig_error_set(s->err, MIG_EUSAGE, "%s: %s: %s", doc, ptr && *ptr ? ptr : "(root)", msg);
	s->failed = 1;
	return NULL;
}

/* ---- locations: json_t * -> struct vloc (open addressing) ---- */

static size_t ptr_hash(const void *p)
{
	uintptr_t x = (uintptr_t)p;
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	return (size_t)x;
}

static struct vloc *loc_find(struct mig_schema *s, const json_t *v)
{
	if (!s->locs)
		return NULL;
	for (size_t i = ptr_hash(v) & s->locmask;; i = (i + 1) & s->locmask) {
		if (s->locs[i].at == v)
			return &s->locs[i];
		if (!s->locs[i].at)
			return NULL;
	}
}

static struct vloc *loc_add(struct mig_schema *s, const json_t *v)
{
	struct vloc *l;

	if (!s->locs || (s->nlocs + 1) * 2 > s->locmask + 1) {
		size_t ncap = s->locs ? (s->locmask + 1) * 2 : 256;
		struct vloc *old = s->locs, *nl = calloc(ncap, sizeof *nl);
		size_t oldcap = s->locs ? s->locmask + 1 : 0;
		if (!nl) {
			if (!s->failed)
				mig_error_set(s->err, MIG_ENOMEM, "out of memory");
			s->failed = 1;
			return NULL;
		}
		s->locs = nl;
		s->locmask = ncap - 1;
		for (size_t i = 0; i < oldcap; i++) {
			if (!old[i].at)
				continue;
			size_t j = ptr_hash(old[i].at) & s->locmask;
			while (s->locs[j].at)
				j = (j + 1) & s->locmask;
			s->locs[j] = old[i];
		}
		free(old);
	}
	l = loc_find(s, v);
	if (l)
		return l;
	size_t i = ptr_hash(v) & s->locmask;
	while (s->locs[i].at)
		i = (i + 1) & s->locmask;
	l = &s->locs[i];
	l->at = v;
	s->nlocs++;
	return l;
}

/* ---- resources ---- */

static struct vres *res_find(struct mig_schema *s, const char *uri, size_t n)
{
	for (size_t i = 0; i < s->nuris; i++)
		if (strlen(s->uris[i].uri) == n && memcmp(s->uris[i].uri, uri, n) == 0)
			return s->uris[i].res;
	return NULL;
}

static int uri_add(struct mig_schema *s, const char *uri, struct vres *r)
{
	if (res_find(s, uri, strlen(uri)))
		return 0;
	if (grow(s, (void **)&s->uris, &s->capuris, s->nuris, sizeof *s->uris))
		return -1;
	s->uris[s->nuris].uri = uri;
	s->uris[s->nuris].res = r;
	s->nuris++;
	return 0;
}

static struct vres *res_new(struct mig_schema *s, const char *uri, const json_t *root,
			    const char *doc, const char *ptr, enum draft draft, unsigned vocab)
{
	struct vres *r = ar_alloc(s, sizeof *r);

	if (!r || grow(s, (void **)&s->res, &s->capres, s->nres, sizeof *s->res))
		return NULL;
	memset(r, 0, sizeof *r);
	r->uri = ar_strdup(s, uri);
	r->root = root;
	r->doc = doc;
	r->ptr = ar_strdup(s, ptr);
	r->draft = draft;
	r->vocab = vocab;
	if (!r->uri || !r->ptr || uri_add(s, r->uri, r))
		return NULL;
	s->res[s->nres++] = r;
	return r;
}

static int anchor_add(struct mig_schema *s, struct vres *r, const char *name, const json_t *at,
		      int dynamic)
{
	for (size_t i = 0; i < r->nanchors; i++) {
		if (strcmp(r->anchors[i].name, name) == 0) {
			if (r->anchors[i].at == at) {
				r->anchors[i].dynamic |= dynamic;
				r->has_dynamic |= dynamic;
				return 0;
			}
			return 0;   /* the first definition stands */
		}
	}
	if (grow(s, (void **)&r->anchors, &r->capanchors, r->nanchors, sizeof *r->anchors))
		return -1;
	r->anchors[r->nanchors++] = (struct vanchor){ .name = ar_strdup(s, name), .at = at,
						      .dynamic = dynamic };
	r->has_dynamic |= dynamic;
	return r->anchors[r->nanchors - 1].name ? 0 : -1;
}

/* The draft a $schema URI names; 0 when it names none we know. */
static enum draft draft_of(const char *uri)
{
	size_t n = mig_v_uri_nofrag_len(uri);
	const char *p = uri;

	if (strncmp(p, "https://", 8) == 0)
		p += 8, n -= 8;
	else if (strncmp(p, "http://", 7) == 0)
		p += 7, n -= 7;
	else
		return 0;
#define IS(lit) (n == sizeof(lit) - 1 && memcmp(p, lit, n) == 0)
	if (IS("json-schema.org/draft/2020-12/schema") || IS("json-schema.org/draft/2019-09/schema"))
		return DRAFT2020;
	if (IS("json-schema.org/draft-07/schema") || IS("json-schema.org/draft-06/schema") ||
	    IS("json-schema.org/draft-04/schema"))
		return DRAFT7;
#undef IS
	return 0;
}

/* ---- JSON pointers ---- */

static int ptr_push(struct mig_buf *b, const char *k, size_t n)
{
	int rc = mig_buf_putc(b, '/');
	for (size_t i = 0; i < n && !rc; i++) {
		if (k[i] == '~')
			rc = mig_buf_puts(b, "~0");
		else if (k[i] == '/')
			rc = mig_buf_puts(b, "~1");
		else
			rc = mig_buf_putc(b, k[i]);
	}
	return rc;
}

static int ptr_push_index(struct mig_buf *b, size_t i)
{
	return mig_buf_printf(b, "/%zu", i);
}

static void ptr_pop(struct mig_buf *b, size_t len)
{
	b->len = len;
	if (b->data)
		b->data[len] = '\0';
}

/* ---- documents and the scan ---- */

static int load_doc(struct mig_schema *s, const char *uri, enum draft dflt, struct vres **out);

/* The draft and vocabularies of a resource root with this $schema. */
static int dialect(struct mig_schema *s, const json_t *v, enum draft dflt, const char *doc,
		   const char *ptr, enum draft *draft, unsigned *vocab)
{
	const json_t *sch = json_object_get(v, "$schema");
	const char *u;
	struct vres *meta;

	*draft = dflt;
	*vocab = VOC_ALL;
	if (!json_is_string(sch))
		return 0;
	u = json_string_value(sch);
	if ((*draft = draft_of(u)) != 0)
		return 0;
	/* a custom meta-schema: its own $schema gives the draft, its
	 * $vocabulary the keywords in force */
	{
		char *base = strndup(u, mig_v_uri_nofrag_len(u));
		int rc;
		if (!base)
			return cerr(s, doc, ptr, "out of memory"), -1;
		meta = res_find(s, base, strlen(base));
		rc = meta ? 0 : load_doc(s, base, DRAFT2020, &meta);
		free(base);
		if (rc || !meta) {
			if (!s->failed)
				cerr(s, doc, ptr, "$schema: unknown meta-schema %s", u);
			return -1;
		}
	}
	*draft = meta->draft;
	const json_t *voc = json_object_get(meta->root, "$vocabulary");
	if (json_is_object(voc)) {
		const char *k;
		json_t *x;
		*vocab = 0;
		json_object_foreach((json_t *)voc, k, x) {
			if (strstr(k, "/vocab/applicator"))
				*vocab |= VOC_APPLICATOR;
			else if (strstr(k, "/vocab/validation"))
				*vocab |= VOC_VALIDATION;
			else if (strstr(k, "/vocab/unevaluated"))
				*vocab |= VOC_UNEVALUATED;
			else if (strstr(k, "/vocab/format"))
				*vocab |= VOC_FORMAT;
		}
	}
	return 0;
}

static int scan(struct mig_schema *s, const json_t *v, struct vres *res, struct mig_buf *ptr,
		int is_root);

static int scan_child(struct mig_schema *s, const json_t *v, struct vres *res,
		      struct mig_buf *ptr, const char *key)
{
	size_t len = ptr->len;
	int rc = ptr_push(ptr, key, strlen(key));
	if (!rc)
		rc = scan(s, v, res, ptr, 0);
	ptr_pop(ptr, len);
	return rc;
}

static int scan_map(struct mig_schema *s, const json_t *m, struct vres *res,
		    struct mig_buf *ptr, const char *kw)
{
	const char *k;
	json_t *x;
	size_t len = ptr->len;
	int rc = 0;

	if (!json_is_object(m))
		return 0;
	json_object_foreach((json_t *)m, k, x) {
		if (ptr_push(ptr, kw, strlen(kw)) || ptr_push(ptr, k, strlen(k)))
			return cerr(s, res->doc, "", "out of memory"), -1;
		rc = scan(s, x, res, ptr, 0);
		ptr_pop(ptr, len);
		if (rc)
			break;
	}
	return rc;
}

static int scan_array(struct mig_schema *s, const json_t *a, struct vres *res,
		      struct mig_buf *ptr, const char *kw)
{
	size_t i, len = ptr->len;
	json_t *x;
	int rc = 0;

	if (!json_is_array(a))
		return 0;
	json_array_foreach(a, i, x) {
		if (ptr_push(ptr, kw, strlen(kw)) || ptr_push_index(ptr, i))
			return cerr(s, res->doc, "", "out of memory"), -1;
		rc = scan(s, x, res, ptr, 0);
		ptr_pop(ptr, len);
		if (rc)
			break;
	}
	return rc;
}

static int scan(struct mig_schema *s, const json_t *v, struct vres *res, struct mig_buf *ptr,
		int is_root)
{
	static const char *const single7[] = {
		"additionalItems", "additionalProperties", "propertyNames", "contains", "not",
		"if", "then", "else", NULL
	};
	static const char *const single2020[] = {
		"items", "additionalItems", "additionalProperties", "propertyNames", "contains", "not",
		"if", "then", "else", "unevaluatedItems", "unevaluatedProperties", "contentSchema", NULL
	};
	static const char *const maps7[] = { "definitions", "properties", "patternProperties", NULL };
	static const char *const maps2020[] = {
		"$defs", "definitions", "properties", "patternProperties", "dependentSchemas", NULL
	};
	static const char *const arrays[] = { "allOf", "anyOf", "oneOf", "prefixItems", "items", NULL };
	const json_t *id, *x;
	struct vloc *l;
	const char *const *kw;
	int rc = 0;

	if (!json_is_object(v) || s->failed)
		return s->failed ? -1 : 0;
	if ((l = loc_find(s, v)) != NULL)
		return 0;   /* seen (a document scanned twice, or a cycle) */
	id = json_object_get(v, "$id");
	if (res->draft == DRAFT7 && json_object_get(v, "$ref"))
		id = NULL;  /* draft-07: everything beside $ref is ignored */
	if (json_is_string(id)) {
		const char *ids = json_string_value(id);
		size_t nf = mig_v_uri_nofrag_len(ids);
		if (nf > 0 || (is_root && ids[0] != '#')) {
			char *abs = mig_v_uri_resolve(res->uri, ids), *h;
			if (!abs)
				return cerr(s, res->doc, ptr->data, "out of memory"), -1;
			if ((h = strchr(abs, '#')) != NULL)
				*h = '\0';
			if (is_root) {
				/* the document's own resource takes its $id as base; the
				 * URI it was loaded by stays an alias */
				res->uri = ar_strdup(s, abs);
				rc = res->uri ? uri_add(s, res->uri, res) : -1;
			} else {
				enum draft d;
				unsigned voc;
				rc = dialect(s, v, res->draft, res->doc, ptr->data, &d, &voc);
				if (!rc) {
					struct vres *nr = res_find(s, abs, strlen(abs));
					if (!nr || nr->root != v)
						nr = res_new(s, abs, v, res->doc, ptr->data ? ptr->data : "", d, voc);
					res = nr;
					rc = res ? 0 : -1;
				}
			}
			free(abs);
			if (rc)
				return -1;
		}
		if (res->draft == DRAFT7 && ids[nf] == '#' && ids[nf + 1] &&
		    anchor_add(s, res, ids + nf + 1, v, 0))
			return -1;
	}
	if (res->draft == DRAFT2020) {
		x = json_object_get(v, "$anchor");
		if (json_is_string(x) && anchor_add(s, res, json_string_value(x), v, 0))
			return -1;
		x = json_object_get(v, "$dynamicAnchor");
		if (json_is_string(x) && anchor_add(s, res, json_string_value(x), v, 1))
			return -1;
	}
	l = loc_add(s, v);
	if (!l)
		return -1;
	l->res = res;
	l->ptr = ar_strdup(s, ptr->data ? ptr->data : "");
	if (!l->ptr)
		return -1;
	for (kw = res->draft == DRAFT7 ? single7 : single2020; *kw && !rc; kw++)
		if ((x = json_object_get(v, *kw)) != NULL)
			rc = scan_child(s, x, res, ptr, *kw);
	for (kw = res->draft == DRAFT7 ? maps7 : maps2020; *kw && !rc; kw++)
		rc = scan_map(s, json_object_get(v, *kw), res, ptr, *kw);
	for (kw = arrays; *kw && !rc; kw++)
		rc = scan_array(s, json_object_get(v, *kw), res, ptr, *kw);
	if (!rc && res->draft == DRAFT7 && json_is_object(x = json_object_get(v, "items")))
		rc = scan_child(s, x, res, ptr, "items");
	if (!rc && json_is_object(x = json_object_get(v, "dependencies")))
		rc = scan_map(s, x, res, ptr, "dependencies");
	return rc;
}

/* Registers doc (a new reference the schema takes) as loaded from uri. */
static int add_doc(struct mig_schema *s, json_t *doc, const char *uri, const char *name,
		   enum draft dflt, struct vres **out)
{
	struct mig_buf ptr;
	enum draft d;
	unsigned voc;
	struct vres *r;
	int rc;

	if (grow(s, (void **)&s->docs, &s->capdocs, s->ndocs, sizeof *s->docs)) {
		json_decref(doc);
		return -1;
	}
	s->docs[s->ndocs++] = doc;
	if (json_is_object(doc)) {
		if (dialect(s, doc, dflt, name, "", &d, &voc))
			return -1;
	} else {
		d = dflt;
		voc = VOC_ALL;
	}
	r = res_new(s, uri, doc, ar_strdup(s, name), "", d, voc);
	if (!r || !r->doc)
		return -1;
	mig_buf_init(&ptr, 0);
	if (mig_buf_reserve(&ptr, 64)) {
		cerr(s, name, "", "out of memory");
		return -1;
	}
	ptr.data[0] = '\0';
	rc = scan(s, doc, r, &ptr, 1);
	mig_buf_free(&ptr);
	*out = r;
	return rc;
}

/* A URI -> a local file, by --schema-map or file://; NULL when none. */
static char *local_path(struct mig_schema *s, const char *uri)
{
	for (char **m = s->maps; m && *m; m++) {
		const char *eq = strchr(*m, '=');
		size_t pn;
		if (!eq)
			continue;
		pn = (size_t)(eq - *m);
		if (pn && strncmp(uri, *m, pn) == 0) {
			const char *dir = eq + 1, *rest = uri + pn;
			size_t dn = strlen(dir);
			char *p = malloc(dn + strlen(rest) + 2);
			if (!p)
				return NULL;
			int slash = (dn && dir[dn - 1] == '/') || *rest == '/';
			sprintf(p, "%s%s%s", dir, slash ? "" : "/", rest);
			return p;
		}
	}
	if (strncmp(uri, "file://", 7) == 0) {
		const char *p = uri + 7;
		if (strncmp(p, "localhost/", 10) == 0)
			p += 9;
		if (*p != '/')
			return NULL;
		return mig_v_uri_unescape(p, strlen(p));
	}
	return NULL;
}

static int load_doc(struct mig_schema *s, const char *uri, enum draft dflt, struct vres **out)
{
	const char *text = mig_v_meta_find(uri, strlen(uri));
	json_error_t je;
	json_t *doc;
	char *path = NULL;
	const char *name = uri;

	*out = NULL;
	if (text) {
		doc = json_loads(text, 0, &je);
	} else {
		path = local_path(s, uri);
		if (!path)
			return -1;
		doc = json_load_file(path, JSON_ALLOW_NUL | JSON_DECODE_ANY, &je);
		if (!doc) {
			if (!s->failed) {
				mig_error_set(s->err, errno == ENOENT ? MIG_EUSAGE : MIG_EIO,
					      "%s: %s (for %s)", path, je.text, uri);
				s->failed = 1;
			}
			free(path);
			return -1;
		}
		name = path;
	}
	if (!doc) {
		free(path);
		return cerr(s, uri, "", "built-in document does not parse: %s", je.text), -1;
	}
	int rc = add_doc(s, doc, uri, name, dflt, out);
	free(path);
	return rc;
}

/* Resolves ref (from a schema object of resource res) to the JSON it
 * names, and the resource that JSON is in. */
static int resolve(struct mig_schema *s, struct vres *res, const char *doc, const char *ptr,
		   const char *ref, const json_t **out, struct vres **out_res, char **frag_out)
{
	char *abs = mig_v_uri_resolve(res->uri, ref), *frag = NULL;
	size_t nf;
	struct vres *r;
	const json_t *v;
	int rc = -1;

	*out = NULL;
	*frag_out = NULL;
	if (!abs)
		return cerr(s, doc, ptr, "out of memory"), -1;
	nf = mig_v_uri_nofrag_len(abs);
	r = res_find(s, abs, nf);
	if (!r) {
		char *base = strndup(abs, nf);
		if (base) {
			if (load_doc(s, base, res->draft, &r) && !s->failed)
				cerr(s, doc, ptr, "$ref %s: cannot resolve %s (no such schema; remote "
				     "URIs are read only through --schema-map)", ref, base);
			free(base);
		}
		if (!r)
			goto out;
	}
	frag = abs[nf] == '#' ? mig_v_uri_unescape(abs + nf + 1, strlen(abs + nf + 1)) : strdup("");
	if (!frag) {
		cerr(s, doc, ptr, "out of memory");
		goto out;
	}
	v = r->root;
	if (frag[0] == '/') {
		/* a JSON pointer from the resource's root */
		char *p = frag + 1, *seg;
		for (;;) {
			char *slash = strchr(p, '/');
			size_t n;
			if (slash)
				*slash = '\0';
			seg = p;
			/* unescape ~1 and ~0 in place */
			n = 0;
			for (char *q = seg; *q; q++) {
				if (q[0] == '~' && q[1] == '1')
					seg[n++] = '/', q++;
				else if (q[0] == '~' && q[1] == '0')
					seg[n++] = '~', q++;
				else
					seg[n++] = *q;
			}
			seg[n] = '\0';
			if (json_is_object(v)) {
				v = json_object_get(v, seg);
			} else if (json_is_array(v)) {
				char *end;
				unsigned long i = strtoul(seg, &end, 10);
				v = *seg && !*end ? json_array_get(v, i) : NULL;
			} else {
				v = NULL;
			}
			if (!v) {
				cerr(s, doc, ptr, "$ref %s: no such place in %s", ref, r->uri);
				goto out;
			}
			if (!slash)
				break;
			p = slash + 1;
		}
	} else if (frag[0]) {
		size_t i;
		for (i = 0; i < r->nanchors; i++)
			if (strcmp(r->anchors[i].name, frag) == 0)
				break;
		if (i == r->nanchors) {
			cerr(s, doc, ptr, "$ref %s: no anchor \"%s\" in %s", ref, frag, r->uri);
			goto out;
		}
		v = r->anchors[i].at;
	}
	*out = v;
	*out_res = r;
	*frag_out = frag;
	frag = NULL;
	rc = 0;
out:
	free(frag);
	free(abs);
	return rc;
}

/* ---- compiling ---- */

static struct vnode *get_node(struct mig_schema *s, const json_t *v, struct vres *res,
			      const char *ptr);

struct cbuild {
	struct vcheck c[48];
	size_t n;
};

static struct vcheck *add(struct mig_schema *s, struct cbuild *b, enum ckind k, const char *kw)
{
	if (b->n == sizeof b->c / sizeof b->c[0])
		return cerr(s, "", "", "too many keywords");
	struct vcheck *c = &b->c[b->n++];
	memset(c, 0, sizeof *c);
	c->kind = k;
	c->kw = kw;
	return c;
}

static int num_of(const json_t *v, struct vnum *out)
{
	if (json_is_integer(v)) {
		out->kind = N_INT;
		out->i = json_integer_value(v);
		return 0;
	}
	if (json_is_real(v)) {
		double d = json_real_value(v);
		if (d == floor(d) && fabs(d) < 9.2e18) {
			out->kind = N_INT;
			out->i = (int64_t)d;
		} else {
			out->kind = N_DBL;
			out->d = d;
		}
		return 0;
	}
	return -1;
}

/* A non-negative integer keyword value (2 and 2.0 alike). */
static int count_of(const json_t *v, uint64_t *out)
{
	struct vnum n;
	if (num_of(v, &n))
		return -1;
	if (n.kind == N_INT && n.i >= 0) {
		*out = (uint64_t)n.i;
		return 0;
	}
	if (n.kind == N_DBL && n.d > 0 && isinf(n.d)) {
		*out = UINT64_MAX;
		return 0;
	}
	return -1;
}

/* multipleOf 0.01 is 1 * 10^-2: instances are checked in integers (eval.c). */
static void mul_fast(struct vcheck *c)
{
	char text[32];
	int64_t d = 0;
	int k = 0, frac = 0;

	mig_v_dec_from_double(text, c->u.num.d);
	for (const char *p = text; *p; p++) {
		if (*p == '.') {
			frac = 1;
		} else if (*p >= '0' && *p <= '9') {
			if (d > (INT64_C(1) << 50) / 10)
				return;
			d = d * 10 + (*p - '0');
			k += frac;
		} else {
			return;     /* a sign or an exponent: the general path */
		}
	}
	if (k > 0 && k <= 15 && d > 0) {
		c->mul_d = d;
		c->mul_k = k;
	}
}

static uint32_t fnv(const char *p, size_t n)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)p[i]) * 16777619u;
	return h;
}

/* The child JSON pointer "ptr/kw[/key]" in the arena. */
static const char *child_ptr(struct mig_schema *s, const char *ptr, const char *kw,
			     const char *key, long idx)
{
	struct mig_buf b;
	const char *r = NULL;

	mig_buf_init(&b, 0);
	if (!mig_buf_puts(&b, ptr) && !ptr_push(&b, kw, strlen(kw)) &&
	    (!key || !ptr_push(&b, key, strlen(key))) && (idx < 0 || !ptr_push_index(&b, (size_t)idx)))
		r = ar_strndup(s, b.data, b.len);
	mig_buf_free(&b);
	return r;
}

static struct vnode *sub(struct mig_schema *s, const json_t *v, struct vres *res,
			 const char *ptr, const char *kw, const char *key, long idx)
{
	const char *cp = child_ptr(s, ptr, kw, key, idx);
	return cp ? get_node(s, v, res, cp) : NULL;
}

static int list_of(struct mig_schema *s, const json_t *a, struct vres *res, const char *ptr,
		   const char *kw, struct vnode ***out, size_t *n)
{
	size_t i;
	json_t *x;

	*n = json_array_size(a);
	*out = ar_alloc(s, (*n ? *n : 1) * sizeof **out);
	if (!*out)
		return -1;
	json_array_foreach(a, i, x) {
		if (!((*out)[i] = sub(s, x, res, ptr, kw, NULL, (long)i)))
			return -1;
	}
	return 0;
}

static struct vregex *regex(struct mig_schema *s, const char *src, size_t len,
			    const char *doc, const char *ptr)
{
	char why[512];
	struct vregex *re;

	if (grow(s, (void **)&s->regexes, &s->capregexes, s->nregexes, sizeof *s->regexes))
		return NULL;
	re = mig_vregex_compile(src, len, why, sizeof why);
	if (!re)
		return cerr(s, doc, ptr, "%s: /%s/", why, src);
	s->regexes[s->nregexes++] = re;
	return re;
}

static int compile_props(struct mig_schema *s, struct cbuild *b, const json_t *v,
			 struct vloc *l)
{
	const json_t *props = json_object_get(v, "properties");
	const json_t *pats = json_object_get(v, "patternProperties");
	const json_t *addl = json_object_get(v, "additionalProperties");
	struct vcheck *c;
	const char *k;
	json_t *x;
	size_t i = 0, cap;

	if (!json_is_object(props) && !json_is_object(pats) && !addl)
		return 0;
	if (!(c = add(s, b, CK_PROPS, "properties")))
		return -1;
	if (json_is_object(props)) {
		c->u.props.nprops = json_object_size(props);
		c->u.props.props = ar_alloc(s, (c->u.props.nprops + 1) * sizeof *c->u.props.props);
		for (cap = 4; cap < c->u.props.nprops * 2; cap *= 2)
			;
		c->u.props.table = ar_alloc(s, cap * sizeof *c->u.props.table);
		if (!c->u.props.props || !c->u.props.table)
			return -1;
		memset(c->u.props.table, 0, cap * sizeof *c->u.props.table);
		c->u.props.mask = (uint32_t)cap - 1;
		json_object_foreach((json_t *)props, k, x) {
			struct vprop *p = &c->u.props.props[i];
			size_t kl = strlen(k);
			/* keys with a NUL byte: Jansson gives the full length */
			void *it = json_object_iter_at((json_t *)props, k);
			if (it)
				kl = json_object_iter_key_len(it);
			p->name = ar_strndup(s, k, kl);
			p->len = kl;
			p->hash = fnv(k, kl);
			if (!p->name || !(p->node = sub(s, x, l->res, l->ptr, "properties", k, -1)))
				return -1;
			uint32_t h = p->hash & c->u.props.mask;
			while (c->u.props.table[h])
				h = (h + 1) & c->u.props.mask;
			c->u.props.table[h] = (uint32_t)i + 1;
			i++;
		}
	}
	if (json_is_object(pats)) {
		c->u.props.npats = json_object_size(pats);
		c->u.props.pats = ar_alloc(s, (c->u.props.npats + 1) * sizeof *c->u.props.pats);
		if (!c->u.props.pats)
			return -1;
		i = 0;
		json_object_foreach((json_t *)pats, k, x) {
			struct vpat *p = &c->u.props.pats[i++];
			const char *cp = child_ptr(s, l->ptr, "patternProperties", k, -1);
			p->src = ar_strdup(s, k);
			if (!cp || !p->src || !(p->re = regex(s, k, strlen(k), l->res->doc, cp)) ||
			    !(p->node = get_node(s, x, l->res, cp)))
				return -1;
		}
	}
	if (addl && !(c->u.props.additional = sub(s, addl, l->res, l->ptr, "additionalProperties",
						  NULL, -1)))
		return -1;
	return 0;
}

static int compile_items(struct mig_schema *s, struct cbuild *b, const json_t *v, struct vloc *l)
{
	const json_t *items = json_object_get(v, "items"), *prefix = NULL, *rest = NULL;
	const char *prefix_kw = "prefixItems", *rest_kw = "items";
	struct vcheck *c;

	if (l->res->draft == DRAFT7) {
		if (json_is_array(items)) {
			prefix = items;
			prefix_kw = "items";
			rest = json_object_get(v, "additionalItems");
			rest_kw = "additionalItems";
		} else {
			rest = items;
		}
	} else {
		prefix = json_object_get(v, "prefixItems");
		rest = items;
		if (json_is_array(rest)) {
			/* draft 2019-09 spelling of a tuple */
			prefix = rest;
			prefix_kw = "items";
			rest = json_object_get(v, "additionalItems");
			rest_kw = "additionalItems";
		}
	}
	if (!json_is_array(prefix) && !rest)
		return 0;
	if (!(c = add(s, b, CK_ITEMS, prefix ? prefix_kw : rest_kw)))
		return -1;
	c->u.items.rest_kw = rest_kw;
	if (json_is_array(prefix) &&
	    list_of(s, prefix, l->res, l->ptr, prefix_kw, &c->u.items.prefix, &c->u.items.nprefix))
		return -1;
	if (rest && !(c->u.items.rest = sub(s, rest, l->res, l->ptr, rest_kw, NULL, -1)))
		return -1;
	return 0;
}

static int compile_ref(struct mig_schema *s, struct cbuild *b, const json_t *v, struct vloc *l,
		       const char *kw)
{
	const json_t *ref = json_object_get(v, kw), *at;
	struct vres *r;
	struct vcheck *c;
	char *frag = NULL;
	const char *cp;

	if (!json_is_string(ref))
		return 0;
	cp = child_ptr(s, l->ptr, kw, NULL, -1);
	if (!cp || resolve(s, l->res, l->res->doc, cp, json_string_value(ref), &at, &r, &frag))
		return -1;
	if (!(c = add(s, b, kw[1] == 'r' ? CK_REF : CK_DYNREF, kw))) {
		free(frag);
		return -1;
	}
	c->u.ref.target = get_node(s, at, r, cp);
	if (c->kind == CK_DYNREF && frag[0] && frag[0] != '/') {
		/* dynamic only when the first target is a $dynamicAnchor of that name */
		const json_t *da = json_is_object(at) ? json_object_get(at, "$dynamicAnchor") : NULL;
		if (json_is_string(da) && strcmp(json_string_value(da), frag) == 0)
			c->u.ref.anchor = ar_strdup(s, frag);
	}
	free(frag);
	return c->u.ref.target ? 0 : -1;
}

static int compile_deps(struct mig_schema *s, struct cbuild *b, const json_t *v,
			struct vloc *l, int validation, int applicator)
{
	const json_t *dr = NULL, *ds = NULL, *deps = json_object_get(v, "dependencies");
	size_t nreq = 0, nsch = 0;
	struct vcheck *creq = NULL, *csch = NULL;
	const char *k;
	json_t *x;

	if (l->res->draft == DRAFT2020) {
		dr = json_object_get(v, "dependentRequired");
		ds = json_object_get(v, "dependentSchemas");
		deps = NULL;
	}
	/* count: draft-07 "dependencies" mixes both kinds */
	if (json_is_object(deps)) {
		json_object_foreach((json_t *)deps, k, x) {
			if (json_is_array(x))
				nreq++;
			else
				nsch++;
		}
	}
	if (json_is_object(dr))
		nreq += json_object_size(dr);
	if (json_is_object(ds))
		nsch += json_object_size(ds);
	if (nreq && validation) {
		if (!(creq = add(s, b, CK_DEPREQ, deps ? "dependencies" : "dependentRequired")))
			return -1;
		creq->u.depreq.v = ar_alloc(s, nreq * sizeof *creq->u.depreq.v);
		if (!creq->u.depreq.v)
			return -1;
	}
	if (nsch && applicator) {
		if (!(csch = add(s, b, CK_DEPSCHEMAS, deps ? "dependencies" : "dependentSchemas")))
			return -1;
		csch->u.depsch.v = ar_alloc(s, nsch * sizeof *csch->u.depsch.v);
		if (!csch->u.depsch.v)
			return -1;
	}
	for (int pass = 0; pass < 2; pass++) {
		const json_t *m = pass == 0 ? (deps ? deps : dr) : (deps ? NULL : ds);
		const char *kw = deps ? "dependencies" : pass == 0 ? "dependentRequired"
								   : "dependentSchemas";
		if (!json_is_object(m))
			continue;
		json_object_foreach((json_t *)m, k, x) {
			if (json_is_array(x)) {
				if (!creq)
					continue;
				struct vdepreq *d = &creq->u.depreq.v[creq->u.depreq.n++];
				size_t i;
				json_t *y;
				d->name = ar_strdup(s, k);
				d->nreq = json_array_size(x);
				d->req = ar_alloc(s, (d->nreq + 1) * sizeof *d->req);
				if (!d->name || !d->req)
					return -1;
				json_array_foreach(x, i, y)
					d->req[i] = json_is_string(y) ? ar_strdup(s, json_string_value(y)) : "";
			} else if (csch) {
				struct vdepsch *d = &csch->u.depsch.v[csch->u.depsch.n++];
				d->name = ar_strdup(s, k);
				if (!d->name || !(d->node = sub(s, x, l->res, l->ptr, kw, k, -1)))
					return -1;
			}
		}
	}
	return 0;
}

static int compile_object(struct mig_schema *s, struct vnode *n, const json_t *v, struct vloc *l)
{
	struct cbuild *b = calloc(1, sizeof *b);
	struct vcheck *c;
	const json_t *x;
	const char *doc = l->res->doc, *ptr = l->ptr;
	unsigned voc = l->res->vocab;
	int val = (voc & VOC_VALIDATION) != 0, app = (voc & VOC_APPLICATOR) != 0;
	int rc = -1;

	if (!b)
		return cerr(s, doc, ptr, "out of memory"), -1;
	if (l->res->draft == DRAFT7 && json_object_get(v, "$ref")) {
		/* draft-07: $ref alone; its siblings are ignored */
		rc = compile_ref(s, b, v, l, "$ref");
		goto out;
	}
	if (val && (x = json_object_get(v, "type")) != NULL) {
		unsigned t = 0;
		size_t i;
		json_t *y;
		json_t *one = json_is_string(x) ? json_array() : NULL;
		if (one)
			json_array_append((json_t *)one, (json_t *)x);
		json_array_foreach(one ? one : x, i, y) {
			const char *tn = json_string_value(y);
			if (!tn)
				continue;
			if (!strcmp(tn, "null")) t |= T_NULL;
			else if (!strcmp(tn, "boolean")) t |= T_BOOL;
			else if (!strcmp(tn, "integer")) t |= T_INT;
			else if (!strcmp(tn, "number")) t |= T_NUM | T_INT;
			else if (!strcmp(tn, "string")) t |= T_STR;
			else if (!strcmp(tn, "object")) t |= T_OBJ;
			else if (!strcmp(tn, "array")) t |= T_ARR;
			else {
				json_decref(one);
				cerr(s, doc, child_ptr(s, ptr, "type", NULL, -1), "unknown type \"%s\"", tn);
				goto out;
			}
		}
		json_decref(one);
		if (!(c = add(s, b, CK_TYPE, "type")))
			goto out;
		c->u.types = t;
	}
	if (val && (x = json_object_get(v, "const")) != NULL) {
		if (!(c = add(s, b, CK_CONST, "const")))
			goto out;
		c->u.value = x;
	}
	if (val && json_is_array(x = json_object_get(v, "enum"))) {
		if (!(c = add(s, b, CK_ENUM, "enum")))
			goto out;
		c->u.value = x;
	}
	{
		static const struct { const char *kw; enum ckind k; } nums[] = {
			{ "minimum", CK_MINIMUM }, { "maximum", CK_MAXIMUM },
			{ "exclusiveMinimum", CK_XMINIMUM }, { "exclusiveMaximum", CK_XMAXIMUM },
			{ "multipleOf", CK_MULTIPLE },
		};
		for (size_t i = 0; val && i < sizeof nums / sizeof nums[0]; i++) {
			struct vnum nv;
			if (num_of(json_object_get(v, nums[i].kw), &nv))
				continue;
			if (nums[i].k == CK_MULTIPLE && nv.kind == N_INT && nv.i <= 0)
				continue;
			if (!(c = add(s, b, nums[i].k, nums[i].kw)))
				goto out;
			c->u.num = nv;
			if (nums[i].k == CK_MULTIPLE && nv.kind == N_DBL)
				mul_fast(c);
		}
	}
	{
		static const struct { const char *kw; enum ckind k; } counts[] = {
			{ "minLength", CK_MINLEN }, { "maxLength", CK_MAXLEN },
			{ "minItems", CK_MINITEMS }, { "maxItems", CK_MAXITEMS },
			{ "minProperties", CK_MINPROPS }, { "maxProperties", CK_MAXPROPS },
		};
		for (size_t i = 0; val && i < sizeof counts / sizeof counts[0]; i++) {
			uint64_t cnt;
			if (count_of(json_object_get(v, counts[i].kw), &cnt))
				continue;
			if (!(c = add(s, b, counts[i].k, counts[i].kw)))
				goto out;
			c->u.count = cnt;
		}
	}
	if (val && json_is_string(x = json_object_get(v, "pattern"))) {
		const char *cp = child_ptr(s, ptr, "pattern", NULL, -1);
		if (!cp || !(c = add(s, b, CK_PATTERN, "pattern")))
			goto out;
		c->u.pat.src = ar_strdup(s, json_string_value(x));
		if (!(c->u.pat.re = regex(s, json_string_value(x), json_string_length(x), doc, cp)))
			goto out;
	}
	if (s->formats && (voc & VOC_FORMAT) && json_is_string(x = json_object_get(v, "format"))) {
		int id = mig_v_format_id(json_string_value(x));
		if (id) {
			if (!(c = add(s, b, CK_FORMAT, "format")))
				goto out;
			c->u.fmt.id = id;
			c->u.fmt.name = ar_strdup(s, json_string_value(x));
		}
	}
	if (val && json_is_array(x = json_object_get(v, "required")) && json_array_size(x)) {
		size_t i;
		json_t *y;
		if (!(c = add(s, b, CK_REQUIRED, "required")))
			goto out;
		c->u.req.n = json_array_size(x);
		c->u.req.names = ar_alloc(s, c->u.req.n * sizeof *c->u.req.names);
		if (!c->u.req.names)
			goto out;
		json_array_foreach(x, i, y)
			c->u.req.names[i] = json_is_string(y) ? ar_strdup(s, json_string_value(y)) : "";
	}
	if (compile_deps(s, b, v, l, val, app))
		goto out;
	if (val && json_object_get(v, "uniqueItems") == json_true()) {
		if (!add(s, b, CK_UNIQUE, "uniqueItems"))
			goto out;
	}
	if (app && compile_props(s, b, v, l))
		goto out;
	if (app && (x = json_object_get(v, "propertyNames")) != NULL) {
		if (!(c = add(s, b, CK_PROPNAMES, "propertyNames")) ||
		    !(c->u.sub = sub(s, x, l->res, ptr, "propertyNames", NULL, -1)))
			goto out;
	}
	if (app && compile_items(s, b, v, l))
		goto out;
	if (app && (x = json_object_get(v, "contains")) != NULL) {
		uint64_t cnt;
		if (!(c = add(s, b, CK_CONTAINS, "contains")) ||
		    !(c->u.contains.node = sub(s, x, l->res, ptr, "contains", NULL, -1)))
			goto out;
		c->u.contains.min = 1;
		if (l->res->draft == DRAFT2020 && val) {
			if (!count_of(json_object_get(v, "minContains"), &cnt))
				c->u.contains.min = cnt;
			if (!count_of(json_object_get(v, "maxContains"), &cnt)) {
				c->u.contains.max = cnt;
				c->u.contains.has_max = 1;
			}
		}
	}
	if (compile_ref(s, b, v, l, "$ref"))
		goto out;
	if (l->res->draft == DRAFT2020 && compile_ref(s, b, v, l, "$dynamicRef"))
		goto out;
	{
		static const struct { const char *kw; enum ckind k; } lists[] = {
			{ "allOf", CK_ALLOF }, { "anyOf", CK_ANYOF }, { "oneOf", CK_ONEOF },
		};
		for (size_t i = 0; app && i < sizeof lists / sizeof lists[0]; i++) {
			if (!json_is_array(x = json_object_get(v, lists[i].kw)))
				continue;
			if (!(c = add(s, b, lists[i].k, lists[i].kw)) ||
			    list_of(s, x, l->res, ptr, lists[i].kw, &c->u.list.v, &c->u.list.n))
				goto out;
		}
	}
	if (app && (x = json_object_get(v, "not")) != NULL) {
		if (!(c = add(s, b, CK_NOT, "not")) ||
		    !(c->u.sub = sub(s, x, l->res, ptr, "not", NULL, -1)))
			goto out;
	}
	if (app && (x = json_object_get(v, "if")) != NULL) {
		const json_t *t = json_object_get(v, "then"), *e = json_object_get(v, "else");
		/* "if" alone validates nothing, but its annotations count for
		 * unevaluated*: it stays */
		if (!(c = add(s, b, CK_IF, "if")) ||
		    !(c->u.cond.cond = sub(s, x, l->res, ptr, "if", NULL, -1)) ||
		    (t && !(c->u.cond.then_ = sub(s, t, l->res, ptr, "then", NULL, -1))) ||
		    (e && !(c->u.cond.else_ = sub(s, e, l->res, ptr, "else", NULL, -1))))
			goto out;
	}
	if (l->res->draft == DRAFT2020 && (voc & VOC_UNEVALUATED)) {
		if ((x = json_object_get(v, "unevaluatedItems")) != NULL) {
			if (!(c = add(s, b, CK_UNEVAL_ITEMS, "unevaluatedItems")) ||
			    !(c->u.sub = sub(s, x, l->res, ptr, "unevaluatedItems", NULL, -1)))
				goto out;
			n->uneval = 1;
		}
		if ((x = json_object_get(v, "unevaluatedProperties")) != NULL) {
			if (!(c = add(s, b, CK_UNEVAL_PROPS, "unevaluatedProperties")) ||
			    !(c->u.sub = sub(s, x, l->res, ptr, "unevaluatedProperties", NULL, -1)))
				goto out;
			n->uneval = 1;
		}
	}
	rc = 0;
out:
	if (!rc && !s->failed) {
		n->checks = ar_alloc(s, (b->n ? b->n : 1) * sizeof *n->checks);
		if (n->checks) {
			memcpy(n->checks, b->c, b->n * sizeof *n->checks);
			n->nchecks = b->n;
		} else {
			rc = -1;
		}
	}
	free(b);
	return rc || s->failed ? -1 : 0;
}

static struct vnode *get_node(struct mig_schema *s, const json_t *v, struct vres *res,
			      const char *ptr)
{
	struct vloc *l;
	struct vnode *n;

	if (s->failed)
		return NULL;
	if (json_is_true(v))
		return &s->node_true;
	if (json_is_false(v))
		return &s->node_false;
	if (!json_is_object(v))
		return cerr(s, res->doc, ptr, "not a schema (an object or a boolean)");
	l = loc_find(s, v);
	if (!l) {
		/* a place the scan did not reach (a $ref into an unknown keyword) */
		struct mig_buf pb;
		int rc;
		mig_buf_init(&pb, 0);
		rc = mig_buf_puts(&pb, ptr) ? -1 : scan(s, v, res, &pb, 0);
		mig_buf_free(&pb);
		if (rc || !(l = loc_find(s, v)))
			return cerr(s, res->doc, ptr, "cannot compile this schema");
	}
	if (l->node)
		return l->node;
	n = ar_alloc(s, sizeof *n);
	if (!n)
		return NULL;
	memset(n, 0, sizeof *n);
	n->boolean = -1;
	n->res = l->res;
	n->where = l->ptr;
	l->node = n;
	if (compile_object(s, n, v, l))
		return NULL;
	n->compiled = 1;
	return n;
}

/* Compiles the subschemas of every $dynamicAnchor, which a $dynamicRef may
 * reach through the dynamic scope at run time. */
static int compile_dynamic(struct mig_schema *s)
{
	int again = 1;

	while (again && !s->failed) {
		again = 0;
		for (size_t i = 0; i < s->nres; i++) {
			struct vres *r = s->res[i];
			for (size_t j = 0; j < r->nanchors; j++) {
				struct vanchor *a = &r->anchors[j];
				if (!a->dynamic || a->node)
					continue;
				struct vloc *l = loc_find(s, a->at);
				a->node = get_node(s, a->at, r, l ? l->ptr : r->ptr);
				if (!a->node)
					return -1;
				again = 1;
			}
		}
	}
	return s->failed ? -1 : 0;
}

/* ---- the public side ---- */

void mig_schema_free(struct mig_schema *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->nregexes; i++)
		mig_vregex_free(s->regexes[i]);
	free(s->regexes);
	for (size_t i = 0; i < s->nres; i++)
		free(s->res[i]->anchors);
	free(s->res);
	free(s->uris);
	free(s->locs);
	for (size_t i = 0; i < s->ndocs; i++)
		json_decref(s->docs[i]);
	free(s->docs);
	for (char **m = s->maps; m && *m; m++)
		free(*m);
	free(s->maps);
	while (s->arena) {
		struct arena_chunk *c = s->arena;
		s->arena = c->next;
		free(c);
	}
	mig_buf_free(&s->path);
	free(s->ctx);
	free(s);
}

const char *mig_schema_draft(const struct mig_schema *s)
{
	return s->draft == DRAFT7 ? "draft7" : "draft2020-12";
}

static int compile(struct mig_schema **out, const json_t *doc, const char *name,
		   const char *base_uri, const struct mig_schema_opts *opts, int check_meta,
		   struct mig_error *err);

/* Checks doc against its draft's meta-schema; the first errors name the
 * places in the schema. */
static int meta_check(const json_t *doc, const char *name, enum draft draft,
		      struct mig_error *err)
{
	struct mig_schema *meta = NULL;
	json_t *errors = NULL, *mdoc;
	const char *text = draft == DRAFT7 ? mig_v_meta_find(META_7, strlen(META_7))
					   : mig_v_meta_find(META_2020, strlen(META_2020));
	int rc;

	mdoc = json_loads(text, 0, NULL);
	if (!mdoc)
		return mig_error_set(err, MIG_ENOMEM, "out of memory");
	rc = compile(&meta, mdoc, draft == DRAFT7 ? META_7 : META_2020,
		     draft == DRAFT7 ? META_7 : META_2020, NULL, 0, err);
	json_decref(mdoc);
	if (rc)
		return mig_error_prefix(err, "built-in meta-schema");
	rc = mig_schema_validate(meta, doc, &errors, err);
	if (rc == 0) {
		json_t *e = json_array_get(errors, 0);
		size_t n = json_array_size(errors);
		const char *p = json_string_value(json_object_get(e, "path"));
		/* the value at fault, so that "must match one of anyOf" has a face */
		const json_t *bad = p && *p ? mig_v_path_get(doc, p) : NULL;
		char *txt = bad ? json_dumps(bad, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
		if (txt && strlen(txt) > 60)
			strcpy(txt + 56, "...");
		rc = mig_error_set(err, MIG_EUSAGE, "%s: %s: %s%s%s (%s; not a valid %s schema)%s", name,
				   p && *p ? p : "(root)", txt ? txt : "", txt ? ": " : "",
				   json_string_value(json_object_get(e, "message")),
				   json_string_value(json_object_get(e, "keyword")),
				   draft == DRAFT7 ? "draft-07" : "draft 2020-12",
				   n > 1 ? ", and more errors" : "");
		mig_json_free(txt);
	} else if (rc == 1) {
		rc = 0;
	}
	json_decref(errors);
	mig_schema_free(meta);
	return rc;
}

static int compile(struct mig_schema **out, const json_t *doc, const char *name,
		   const char *base_uri, const struct mig_schema_opts *opts, int check_meta,
		   struct mig_error *err)
{
	struct mig_schema *s = calloc(1, sizeof *s);
	struct vres *r = NULL;
	size_t nmaps = 0;
	int rc = 0;

	*out = NULL;
	if (!s)
		return mig_error_set(err, MIG_ENOMEM, "out of memory");
	s->err = err;
	s->name = name;
	s->formats = opts ? opts->formats : 0;
	s->node_true.boolean = 1;
	s->node_false.boolean = 0;
	s->node_true.compiled = s->node_false.compiled = 1;
	mig_buf_init(&s->path, 0);
	for (const char *const *m = opts ? opts->maps : NULL; m && *m; m++)
		nmaps++;
	s->maps = calloc(nmaps + 1, sizeof *s->maps);
	if (!s->maps) {
		rc = mig_error_set(err, MIG_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < nmaps; i++)
		if (!(s->maps[i] = strdup(opts->maps[i]))) {
			rc = mig_error_set(err, MIG_ENOMEM, "out of memory");
			goto out;
		}
	if (add_doc(s, json_incref((json_t *)doc), base_uri ? base_uri : "", name, DRAFT2020, &r)) {
		rc = s->err->code ? s->err->code : MIG_EUSAGE;
		goto out;
	}
	s->draft = r->draft;
	if (check_meta && (rc = meta_check(doc, name, s->draft, err)) != 0)
		goto out;
	s->root = get_node(s, doc, r, "");
	if (!s->root || compile_dynamic(s)) {
		rc = err->code ? err->code : MIG_EUSAGE;
		goto out;
	}
out:
	if (rc) {
		mig_schema_free(s);
		return rc;
	}
	s->err = NULL;
	*out = s;
	return 0;
}

int mig_schema_compile(struct mig_schema **out, const json_t *doc, const char *name,
		       const char *base_uri, const struct mig_schema_opts *opts,
		       struct mig_error *err)
{
	struct mig_error local;
	if (!err)
		err = &local;
	mig_error_clear(err);
	return compile(out, doc, name ? name : "schema", base_uri, opts, 1, err);
}

/* "file://" + the absolute path, percent-encoded where a URI needs it. */
static char *file_uri(const char *path)
{
	char *abs = realpath(path, NULL), *u = NULL;
	size_t o = 0;

	if (!abs)
		return NULL;
	u = malloc(strlen(abs) * 3 + 8);
	if (u) {
		o = (size_t)sprintf(u, "file://");
		for (const unsigned char *p = (const unsigned char *)abs; *p; p++) {
			if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			    (*p >= '0' && *p <= '9') || strchr("/-._~", *p))
				u[o++] = (char)*p;
			else
				o += (size_t)sprintf(u + o, "%%%02X", *p);
		}
		u[o] = '\0';
	}
	free(abs);
	return u;
}

int mig_schema_compile_file(struct mig_schema **out, const char *path,
			    const struct mig_schema_opts *opts, struct mig_error *err)
{
	json_error_t je;
	json_t *doc;
	char *uri;
	int rc;

	*out = NULL;
	doc = json_load_file(path, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL | JSON_DECODE_ANY, &je);
	if (!doc) {
		FILE *f = fopen(path, "r");
		if (!f)
			return mig_error_set(err, MIG_EIO, "%s: %s", path, strerror(errno));
		fclose(f);
		return mig_error_set(err, MIG_EUSAGE, "%s:%d:%d: not JSON: %s", path, je.line,
				     je.column, je.text);
	}
	uri = file_uri(path);
	rc = mig_schema_compile(out, doc, path, uri, opts, err);
	free(uri);
	json_decref(doc);
	return rc;
}
