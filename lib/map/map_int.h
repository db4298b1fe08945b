/*
 * map_int.h - private to lib/map: the compiled tree, the evaluator, the
 * function table, decimal arithmetic and the stages.
 */
#ifndef MIG_MAP_INT_H
#define MIG_MAP_INT_H

#include <stdint.h>
#include <jansson.h>

#include "mig/buf.h"
#include "mig/map.h"

/* ---- the tree ---- */

enum node_kind {
	N_CONST,      /* v */
	N_PATH,       /* a (or the record when a is NULL), then segs */
	N_INDEX,      /* a[b], b computed */
	N_OBJECT,     /* keys/klens, kids */
	N_ARRAY,      /* kids */
	N_NEG, N_NOT, /* a */
	N_BIN,        /* a op b */
	N_AND, N_OR,  /* a, b */
	N_COALESCE,   /* kids: the first that is not null */
	N_IF,         /* a ? b : c (c may be NULL) */
	N_CALL,       /* fn(kids) */
	N_EXISTS,     /* a is a path */
	N_LOOKUP,     /* lk[a] */
	N_AGG         /* aggregate #idx of a group (its value at the end) */
};

enum bin_op {
	OP_ADD, OP_SUB, OP_MUL, OP_DIV, OP_MOD,
	OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE, OP_IN
};

struct seg {
	char *key;        /* NULL for an index */
	size_t len;
	int64_t index;
};

struct func;
struct lookup;

struct node {
	enum node_kind kind;
	int line, col;
	json_t *v;                 /* N_CONST */
	struct node *a, *b, *c;
	struct node **kids;
	size_t nkids;
	char **keys;               /* N_OBJECT */
	size_t *klens;
	struct seg *segs;          /* N_PATH */
	size_t nsegs;
	int op;                    /* N_BIN: enum bin_op; N_AGG: aggregate kind */
	int idx;                   /* N_AGG: its slot */
	const struct func *fn;     /* N_CALL */
	void *data;                /* a function's compiled data (a regex) */
	struct lookup *lk;         /* N_LOOKUP */
};

/* ---- functions ---- */

struct ctx;
typedef int (*func_fn)(struct ctx *x, const struct node *call, json_t **args, size_t n,
		       json_t **out);

struct func {
	const char *name;
	int min, max;              /* arity; max -1: any */
	func_fn fn;
	/* checks the call at compile time (literal arguments, regexes);
	 * returns 0 or fills msg and returns the index of the bad argument
	 * (or -1 for the call itself) plus one, negated */
	int (*check)(struct node *call, char *msg, size_t msgsz);
	void (*free_data)(void *data);
};

const struct func *map_func_find(const char *name, size_t len);
/* The names, for --help and the unknown-function message. */
const struct func *map_func_all(size_t *n);

/* ---- evaluation ---- */

struct mig_map;

struct ctx {
	struct mig_map *m;
	const json_t *rec;         /* the record the block reads */
	json_t **aggs;             /* N_AGG values while a group's items are made */
	struct mig_error *err;
	int lenient;               /* > 0: a missing field is null even with --strict */
};

/* Evaluates n; *out is a new reference (json_null() for null).  Returns 0
 * or MIG_EDATA with x->err set to "NAME:LINE:COL: why" (or MIG_ENOMEM).
 * Under --on-error null the innermost failing node yields null instead. */
int map_eval(struct ctx *x, const struct node *n, json_t **out);
/* The record's value at a path (borrowed, or NULL when missing). */
const json_t *map_path_get(const json_t *root, const struct seg *segs, size_t n);
/* A runtime error at node n. */
int map_fail(struct ctx *x, const struct node *n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int map_truthy(const json_t *v);
/* == as the language has it: numbers by value across types. */
int map_equal(const json_t *a, const json_t *b);
/* The order of < and >: numbers by value across types, else two values of
 * one type by mig_value_cmp; *out -1, 0, 1.  -1 when not comparable
 * (different types, objects, arrays). */
int map_cmp(const json_t *a, const json_t *b, int *out);
/* a OP b for the arithmetic operators (errors name node at). */
int map_arith(struct ctx *x, const struct node *at, int op, const json_t *a, const json_t *b,
	      json_t **out);
int map_is_number(const json_t *v);

/* Sets v (taken) at path in the object *root, copying shared objects on
 * the way (copy on write: a value may be shared with the input or a
 * lookup table).  Objects are made where missing.  Returns 0, or -1 when
 * a value on the way is not an object (why says which). */
int map_path_set(json_t *root, const struct seg *segs, size_t n, json_t *v, char *why,
		 size_t whysz);
/* Removes the value at path, copying shared objects on the way. */
void map_path_del(json_t *root, const struct seg *segs, size_t n);
/* "a.b[0]" */
void map_path_name(char *out, size_t outsz, const struct seg *segs, size_t n);

/* Value helpers shared by the functions and the evaluator. */
int map_to_string(json_t **out, const json_t *v);  /* string() of any value; 0 or -1 */
size_t map_fmt_double(char *out, double d);        /* as value.c prints doubles */
size_t map_approx_size(const json_t *v);

/* ---- decimals: exact add, sub, mul; div and results to 34 digits ---- */

#define DEC_DIGITS 34
#define DEC_MAX 240

struct dec {
	int neg;
	int exp;                   /* value = digits x 10^exp */
	int n;                     /* >= 1; no leading zeros unless the value is 0 */
	unsigned char d[DEC_MAX];  /* most significant first, 0..9 */
};

/* 0, -1 for bad syntax, -2 for NaN/Infinity (not computable). */
int map_dec_parse(struct dec *o, const char *s, size_t len);
void map_dec_from_i64(struct dec *o, int64_t v);
void map_dec_from_double(struct dec *o, double d);   /* d finite: shortest text */
/* 0, or -1: the result is out of Decimal128's range; -2: division by zero */
int map_dec_add(struct dec *o, const struct dec *a, const struct dec *b, int sub);
int map_dec_mul(struct dec *o, const struct dec *a, const struct dec *b);
int map_dec_div(struct dec *o, const struct dec *a, const struct dec *b);
int map_dec_mod(struct dec *o, const struct dec *a, const struct dec *b);
int map_dec_cmp(const struct dec *a, const struct dec *b);
/* To `scale` digits after the point, half away from zero (pads with 0s). */
int map_dec_quantize(struct dec *o, int scale);
/* Truncated toward zero; -1 when out of int64's range. */
int map_dec_to_i64(const struct dec *a, int64_t *out);
double map_dec_to_double(const struct dec *a);
/* Plain notation where short, else COEFFICIENTE+-N.  buf holds 300. */
void map_dec_format(char *buf, const struct dec *a);
/* A value as a decimal: int, double, decimal (else -1). */
int map_dec_of(struct dec *o, const json_t *v);
json_t *map_dec_json(const struct dec *a);

/* ---- the lookup tables ---- */

struct lookup {
	char *name;
	char *locator;             /* as written */
	struct seg *on;            /* key path in the table's records */
	size_t non;
	json_t *table;             /* key text -> record */
	int line, col;
	uint64_t dups;
};

/* The text that identifies a key value (relaxed JSON). */
int map_key_text(struct mig_buf *b, const json_t *v);
int map_lookup_load(struct lookup *lk, struct mig_error *err);

/* ---- stages ---- */

enum stage_kind { S_BLOCK, S_EXPLODE, S_DEDUPE, S_GROUP };

enum agg_kind { A_COUNT, A_SUM, A_MIN, A_MAX, A_AVG, A_FIRST, A_LAST, A_COLLECT };

struct pathref {
	struct seg *segs;
	size_t n;
	int line, col;
};

struct assign {
	struct pathref to;
	struct node *e;            /* NULL for a drop */
};

struct agg {
	enum agg_kind kind;
	struct node *arg;          /* NULL: count() */
};

struct table;

struct stage {
	enum stage_kind kind;
	int line, col;
	/* S_BLOCK */
	struct assign *as;
	size_t nas;
	struct node **wheres;
	size_t nwheres;
	struct pathref *drops;
	size_t ndrops;
	int keep_rest;             /* `*` */
	int passthrough;           /* no assignment: the record as it is */
	/* S_EXPLODE: the array, where the element goes (n 0: in the array's
	 * place), where its 0-based index goes (n 0: nowhere) */
	struct pathref path, as_path, index_path;
	/* S_DEDUPE (keys, by, desc) and S_GROUP (keys named by gout, items) */
	struct node **keys;
	size_t nkeys;
	struct pathref *gout;      /* S_GROUP: where each key goes in the output */
	struct node *by;
	int desc;
	struct assign *items;
	size_t nitems;
	struct agg *aggs;
	size_t naggs;
	struct table *tab;         /* runtime state */
};

struct mig_map {
	char *name;
	struct mig_map_opts o;
	char *salt;
	size_t salt_len;
	int64_t now_us;
	struct stage *stages;
	size_t nstages;
	struct lookup **lookups;
	size_t nlookups;
	size_t nstatements;
	struct node *nodes;        /* every node, to free them */
	struct node **nodes_all;
	size_t nnodes, capnodes;
	struct mig_map_counts counts;
	struct mig_buf kbuf;       /* key texts */
	uint64_t seq;              /* records pushed into buffering stages */
	int in_push;
	int finished;
};

void map_stages_free(struct mig_map *m);
void map_node_free(struct node *n);

#endif
