/*
 * validate/schema.h - private to lib/validate: the compiled form of a JSON
 * Schema, and the small helpers the files of lib/validate share.
 *
 * compile.c turns schema documents into a graph of struct vnode (one per
 * schema object; $ref cycles are cycles of pointers); eval.c walks it.
 * Everything a compiled schema points into lives in its arena, in the
 * documents it keeps, or in its list of compiled patterns.
 */
#ifndef MIG_VALIDATE_SCHEMA_H
#define MIG_VALIDATE_SCHEMA_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "mig/buf.h"
#include "mig/error.h"
#include "mig/validate.h"

enum draft { DRAFT7 = 7, DRAFT2020 = 2020 };

/* vocabularies of 2020-12 (a custom meta-schema may leave some out) */
enum vocab {
	VOC_APPLICATOR = 1, VOC_VALIDATION = 2, VOC_UNEVALUATED = 4, VOC_FORMAT = 8,
	VOC_ALL = 15
};

/* Instance types, as "type" names them. */
enum {
	T_NULL = 1, T_BOOL = 2, T_INT = 4, T_NUM = 8, T_STR = 16, T_OBJ = 32, T_ARR = 64
};

/* ---- numbers ---- */

enum nkind { N_INT, N_DBL, N_DEC, N_NAN };

/* A number as a schema keyword holds it, or an instance is: an int64, a
 * double, or an exact decimal string ($numberDecimal). */
struct vnum {
	enum nkind kind;
	int64_t i;
	double d;
	const char *dec;   /* N_DEC: the literal (borrowed) */
};

/* Exact decimal arithmetic on decimal literals (decimal.c).  A literal is
 * "[-+]digits[.digits][(e|E)[-+]digits]", "NaN", "Infinity", "-Infinity",
 * "inf"... (Decimal128 spellings).  mig_v_dec_cmp returns -1, 0, 1, or 2 when one
 * side is NaN.  mig_v_dec_multiple returns 1 when a is an integer multiple of m,
 * 0 when not, -1 when it cannot tell exactly (the caller falls back). */
int mig_v_dec_cmp(const char *a, const char *b);
int mig_v_dec_multiple(const char *a, const char *m);
/* The shortest decimal text that reads back to d (out holds 32 bytes). */
void mig_v_dec_from_double(char *out, double d);
void mig_v_dec_from_int(char *out, int64_t i);
/* The number's decimal text into out (32 bytes), or its literal. */
const char *mig_vnum_text(const struct vnum *n, char *out);
/* a <=> b numerically: -1, 0, 1, or 2 when incomparable (NaN). */
int mig_vnum_cmp(const struct vnum *a, const struct vnum *b);
/* 1 when a is a multiple of m. */
int mig_vnum_multiple(const struct vnum *a, const struct vnum *m);

/* ---- URIs (uri.c) ---- */

/* RFC 3986 section 5.2: ref resolved against base (either may be NULL or
 * empty).  Returns a malloc'd string, NULL on ENOMEM. */
char *mig_v_uri_resolve(const char *base, const char *ref);
/* Length of s before its '#' (the whole length when there is none). */
size_t mig_v_uri_nofrag_len(const char *s);
/* Percent-decodes s[0..n) into a malloc'd string. */
char *mig_v_uri_unescape(const char *s, size_t n);

/* ---- patterns (regex.c) ---- */

struct vregex {
	pcre2_code *code;
	pcre2_match_data *md;
};

/* Compiles an ECMA-262 pattern (translated for PCRE2: \d \w \b are ASCII,
 * $ matches only at the end, [^] is any character, \uXXXX escapes).
 * Returns NULL and a message in why (sized whylen) when it does not
 * compile. */
struct vregex *mig_vregex_compile(const char *src, size_t len, char *why, size_t whylen);
/* 1 when the pattern matches somewhere in s (UTF-8). */
int mig_vregex_match(struct vregex *re, const char *s, size_t len);
void mig_vregex_free(struct vregex *re);

/* ---- formats (format.c) ---- */

/* The id of a known format name, or 0 (unknown: always valid). */
int mig_v_format_id(const char *name);
/* 1 when s[0..len) is valid for format id. */
int mig_v_format_check_id(int id, const char *s, size_t len);
enum { FMT_DATE_TIME = 1 };

/* ---- meta-schemas (meta.c) ---- */

/* The built-in document for a meta-schema URI (no fragment), or NULL. */
const char *mig_v_meta_find(const char *uri, size_t len);
#define META_2020 "https://json-schema.org/draft/2020-12/schema"
#define META_7 "http://json-schema.org/draft-07/schema"

/* ---- key sets for --unique and --ref (keyset.c) ---- */

struct keyset;

int mig_v_keyset_new(struct keyset **out);
void mig_v_keyset_free(struct keyset *k);
/* Adds key; returns 1 when it was new, 0 when it was there already (then
 * *first is the line it was added with), -1 on ENOMEM. */
int mig_v_keyset_add(struct keyset *k, const char *key, size_t len, uint64_t line, uint64_t *first);
int mig_v_keyset_has(const struct keyset *k, const char *key, size_t len);
/* 1 and the line it was added with when key is there, else 0. */
int mig_v_keyset_get(const struct keyset *k, const char *key, size_t len, uint64_t *line);
size_t mig_v_keyset_size(const struct keyset *k);

/* The value at path (dotted "a.b.0" or a JSON pointer "/a/b/0") in v,
 * borrowed, or NULL. */
const json_t *mig_v_path_get(const json_t *v, const char *path);
/* The path as a JSON pointer, into b. */
int mig_v_path_pointer(struct mig_buf *b, const char *path);
/* The canonical text of a key value into b (numbers by value: 1.0 is 1;
 * wrappers in their relaxed form). */
int mig_v_key_text(struct mig_buf *b, const json_t *v);

/* ---- the compiled graph ---- */

struct vnode;
struct vres;

enum ckind {
	CK_TYPE, CK_CONST, CK_ENUM,
	CK_MINIMUM, CK_MAXIMUM, CK_XMINIMUM, CK_XMAXIMUM, CK_MULTIPLE,
	CK_MINLEN, CK_MAXLEN, CK_PATTERN, CK_FORMAT,
	CK_REQUIRED, CK_MINPROPS, CK_MAXPROPS, CK_DEPREQ,
	CK_MINITEMS, CK_MAXITEMS, CK_UNIQUE,
	CK_PROPS, CK_PROPNAMES, CK_ITEMS, CK_CONTAINS,
	CK_REF, CK_DYNREF, CK_ALLOF, CK_ANYOF, CK_ONEOF, CK_NOT, CK_IF, CK_DEPSCHEMAS,
	CK_UNEVAL_PROPS, CK_UNEVAL_ITEMS,
	CK_FALSE           /* a check that always fails (boolean schema false) */
};

struct vprop {
	const char *name;
	size_t len;
	uint32_t hash;
	struct vnode *node;
};

struct vpat {
	struct vregex *re;
	const char *src;
	struct vnode *node;
};

struct vdepreq {
	const char *name;       /* when this member is present ... */
	const char **req;       /* ... these must be too */
	size_t nreq;
};

struct vdepsch {
	const char *name;
	struct vnode *node;
};

struct vcheck {
	enum ckind kind;
	const char *kw;         /* the keyword, for messages */
	/* multipleOf of a short decimal D * 10^-k (0 < k <= 15): the fast path */
	int64_t mul_d;
	int mul_k;
	union {
		unsigned types;
		const json_t *value;                   /* const, enum (an array) */
		struct vnum num;
		uint64_t count;
		struct { struct vregex *re; const char *src; } pat;
		struct { int id; const char *name; } fmt;
		struct { struct vnode **v; size_t n; } list;
		struct vnode *sub;
		struct { struct vnode *target; const char *anchor; } ref;
		struct { struct vnode *cond, *then_, *else_; } cond;
		struct {
			struct vprop *props;
			size_t nprops;
			uint32_t *table;        /* open addressing: index + 1, 0 empty */
			uint32_t mask;
			struct vpat *pats;
			size_t npats;
			struct vnode *additional;   /* NULL: none */
		} props;
		struct {
			struct vnode **prefix;
			size_t nprefix;
			struct vnode *rest;         /* NULL: none */
			const char *rest_kw;
		} items;
		struct { struct vnode *node; uint64_t min, max; int has_max; } contains;
		struct { const char **names; size_t n; } req;
		struct { struct vdepreq *v; size_t n; } depreq;
		struct { struct vdepsch *v; size_t n; } depsch;
	} u;
};

struct vnode {
	int boolean;            /* -1: a schema object; 0: false; 1: true */
	struct vcheck *checks;
	size_t nchecks;
	struct vres *res;       /* the schema resource it belongs to */
	const char *where;      /* "FILE#/json/pointer", for messages */
	int uneval;             /* has unevaluatedProperties/Items */
	int compiled;
};

struct vanchor {
	const char *name;
	const json_t *at;
	struct vnode *node;     /* compiled lazily; dynamic anchors eagerly */
	int dynamic;
};

/* A schema resource: a document, or a subschema with its own $id. */
struct vres {
	const char *uri;        /* absolute, no fragment */
	const json_t *root;
	const char *doc;        /* the file or URI it was read from, for messages */
	const char *ptr;        /* the root's JSON pointer in that document */
	enum draft draft;
	unsigned vocab;
	struct vanchor *anchors;
	size_t nanchors, capanchors;
	int has_dynamic;
};

/* ---- evaluation (eval.c) ---- */

struct mig_schema;
/* 1 valid, 0 invalid; errors (a JSON array) gets the messages when it is
 * not NULL.  Returns MIG_ENOMEM when memory ran out. */
int mig_v_eval_root(struct mig_schema *s, struct vnode *root, const json_t *v, json_t *errors);

/* Where a schema object sits: its resource and JSON pointer. */
struct vloc {
	const json_t *at;       /* NULL: an empty slot */
	struct vres *res;
	const char *ptr;
	struct vnode *node;
};

struct vuri {
	const char *uri;
	struct vres *res;
};

struct arena_chunk;
struct ctx;

struct mig_schema {
	struct vnode *root;
	enum draft draft;
	int formats;
	struct vnode node_true, node_false;
	struct mig_buf path;    /* eval: the instance pointer being looked at */
	struct ctx *ctx;        /* eval: its state, allocated on first use */

	/* what compile.c keeps */
	const char *name;       /* the schema's file, for messages */
	struct arena_chunk *arena;
	json_t **docs;
	size_t ndocs, capdocs;
	struct vres **res;
	size_t nres, capres;
	struct vuri *uris;
	size_t nuris, capuris;
	struct vloc *locs;
	size_t nlocs, locmask;
	struct vregex **regexes;
	size_t nregexes, capregexes;
	char **maps;
	struct mig_error *err;
	int failed;             /* an error is in err */
};

#endif
