/*
 * compile.c - the mapping language's lexer and parser (mig-map(5)).
 *
 * The whole text is cut into tokens first (newlines inside brackets are
 * spaces), then parsed by recursive descent into nodes and stages.  Names
 * are resolved here, once: a function name to its entry in the table
 * (unknown names and wrong arities are errors), a lookup name to its
 * table, a literal pattern to a compiled PCRE2 regex.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mig/value.h"
#include "map/map_int.h"

enum tok {
	T_EOF, T_NL, T_IDENT, T_STRING, T_INT, T_REAL,
	T_LP, T_RP, T_LB, T_RB, T_LC, T_RC, T_COMMA, T_SEMI, T_COLON, T_DOT,
	T_ASSIGN, T_EQ, T_NE, T_LT, T_LE, T_GT, T_GE,
	T_PLUS, T_MINUS, T_STAR, T_SLASH, T_PERCENT, T_QQ
};

struct token {
	enum tok t;
	const char *p;     /* in the source */
	size_t len;
	int line, col;
	char *s;           /* T_STRING: decoded (owned) */
	size_t slen;
	int64_t i;
	double d;
};

struct parser {
	struct mig_map *m;
	const char *src;
	size_t srclen;
	struct token *toks;
	size_t ntoks, cap, i;
	struct mig_error *err;
	struct mig_map_diag *diag;
	struct stage blk;          /* the block being filled */
	struct stage *group;       /* items of this group are being parsed */
	int in_agg;
};

/* ---- errors ---- */

static int error_at(struct parser *p, int line, int col, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int error_at(struct parser *p, int line, int col, const char *fmt, ...)
{
	char msg[MIG_ERROR_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	mig_error_set(p->err, MIG_EUSAGE, "%s:%d:%d: %s", p->m->name, line, col, msg);
	if (p->diag && line > 0) {
		const char *s = p->src, *e = p->src + p->srclen;
		int l = 1;
		while (l < line && s < e) {
			const char *nl = memchr(s, '\n', (size_t)(e - s));
			if (!nl)
				break;
			s = nl + 1;
			l++;
		}
		const char *nl = memchr(s, '\n', (size_t)(e - s));
		size_t n = nl ? (size_t)(nl - s) : (size_t)(e - s);
		if (n && s[n - 1] == '\r')
			n--;
		if (n >= sizeof p->diag->text)
			n = sizeof p->diag->text - 1;
		memcpy(p->diag->text, s, n);
		p->diag->text[n] = '\0';
		/* the caret under column col (in characters), tabs kept */
		size_t o = 0;
		int c = 1;
		for (size_t k = 0; k < n && c < col && o + 2 < sizeof p->diag->caret; k++) {
			if (((unsigned char)s[k] & 0xC0) == 0x80)
				continue;
			p->diag->caret[o++] = s[k] == '\t' ? '\t' : ' ';
			c++;
		}
		p->diag->caret[o++] = '^';
		p->diag->caret[o] = '\0';
		p->diag->line = line;
		p->diag->col = col;
	}
	return MIG_EUSAGE;
}

#define ERR(tk, ...) error_at(p, (tk)->line, (tk)->col, __VA_ARGS__)

/* The token as the user wrote it, for messages. */
static const char *tok_text(const struct token *t, char *buf, size_t sz)
{
	if (t->t == T_EOF)
		return "end of input";
	if (t->t == T_NL)
		return "end of line";
	size_t n = t->len < sz - 1 ? t->len : sz - 5;
	memcpy(buf, t->p, n);
	strcpy(buf + n, t->len > n ? "..." : "");
	return buf;
}

/* ---- lexer ---- */

static int push_tok(struct parser *p, struct token *t)
{
	if (p->ntoks == p->cap) {
		size_t nc = p->cap ? p->cap * 2 : 256;
		struct token *nt = realloc(p->toks, nc * sizeof *nt);
		if (!nt)
			return mig_error_set(p->err, MIG_ENOMEM, "out of memory");
		p->toks = nt;
		p->cap = nc;
	}
	p->toks[p->ntoks++] = *t;
	return 0;
}

static int hexv(int c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
	       : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

static size_t put_utf8(char *o, unsigned cp)
{
	if (cp < 0x80) {
		o[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (char)(0xC0 | (cp >> 6));
		o[1] = (char)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (char)(0xE0 | (cp >> 12));
		o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		o[2] = (char)(0x80 | (cp & 0x3F));
		return 3;
	}
	o[0] = (char)(0xF0 | (cp >> 18));
	o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
	o[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
	o[3] = (char)(0x80 | (cp & 0x3F));
	return 4;
}

/* A string literal from s[*k] (the quote); decodes into t->s. */
static int lex_string(struct parser *p, size_t *k, int line, int col, struct token *t)
{
	const char *s = p->src;
	char q = s[*k];
	size_t i = *k + 1, o = 0;
	char *buf = malloc(p->srclen - *k + 1);

	if (!buf)
		return mig_error_set(p->err, MIG_ENOMEM, "out of memory");
	for (;;) {
		if (i >= p->srclen || s[i] == '\n') {
			free(buf);
			return error_at(p, line, col, "unterminated string");
		}
		char c = s[i];
		if (c == q) {
			i++;
			break;
		}
		if (c == '\\' && q == '"') {
			char e = i + 1 < p->srclen ? s[i + 1] : 0;
			i += 2;
			switch (e) {
			case '"': buf[o++] = '"'; break;
			case '\\': buf[o++] = '\\'; break;
			case '/': buf[o++] = '/'; break;
			case 'b': buf[o++] = '\b'; break;
			case 'f': buf[o++] = '\f'; break;
			case 'n': buf[o++] = '\n'; break;
			case 'r': buf[o++] = '\r'; break;
			case 't': buf[o++] = '\t'; break;
			case 'u': {
				unsigned cp = 0;
				for (int h = 0; h < 4; h++) {
					int v = i < p->srclen ? hexv(s[i]) : -1;
					if (v < 0) {
						free(buf);
						return error_at(p, line, col, "bad \\u escape in a string");
					}
					cp = cp * 16 + (unsigned)v;
					i++;
				}
				if (cp >= 0xD800 && cp < 0xDC00 && i + 5 < p->srclen && s[i] == '\\' &&
				    s[i + 1] == 'u') {
					unsigned lo = 0;
					int ok = 1;
					for (int h = 0; h < 4; h++) {
						int v = hexv(s[i + 2 + h]);
						ok &= v >= 0;
						lo = lo * 16 + (unsigned)(v < 0 ? 0 : v);
					}
					if (ok && lo >= 0xDC00 && lo < 0xE000) {
						cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
						i += 6;
					}
				}
				if ((cp >= 0xD800 && cp < 0xE000) || cp == 0) {
					free(buf);
					return error_at(p, line, col, "bad \\u escape in a string "
							"(a lone surrogate or NUL)");
				}
				o += put_utf8(buf + o, cp);
				break;
			}
			default:
				free(buf);
				return error_at(p, line, col, "unknown escape '\\%c' in a string "
						"(single-quoted strings take backslashes as they are)",
						e ? e : ' ');
			}
			continue;
		}
		buf[o++] = c;
		i++;
	}
	buf[o] = '\0';
	t->s = buf;
	t->slen = o;
	*k = i;
	return 0;
}

static int lex(struct parser *p)
{
	const char *s = p->src;
	size_t n = p->srclen, k = 0, line_start = 0;
	int line = 1, depth = 0, rc;

	while (k < n) {
		char c = s[k];
		struct token t = { 0 };
		int col = 1;
		for (size_t j = line_start; j < k; j++)
			col += ((unsigned char)s[j] & 0xC0) != 0x80;
		t.p = s + k;
		t.line = line;
		t.col = col;
		if (c == '\n') {
			if (depth == 0) {
				t.t = T_NL;
				t.len = 1;
				if ((rc = push_tok(p, &t)))
					return rc;
			}
			k++;
			line++;
			line_start = k;
			continue;
		}
		if (c == ' ' || c == '\t' || c == '\r') {
			k++;
			continue;
		}
		if (c == '#') {
			while (k < n && s[k] != '\n')
				k++;
			continue;
		}
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_') {
			size_t b = k;
			while (k < n && ((s[k] >= 'a' && s[k] <= 'z') || (s[k] >= 'A' && s[k] <= 'Z') ||
					 (s[k] >= '0' && s[k] <= '9') || s[k] == '_'))
				k++;
			t.t = T_IDENT;
			t.len = k - b;
		} else if (c >= '0' && c <= '9') {
			size_t b = k;
			int real = 0;
			while (k < n && s[k] >= '0' && s[k] <= '9')
				k++;
			if (k + 1 < n && s[k] == '.' && s[k + 1] >= '0' && s[k + 1] <= '9') {
				real = 1;
				k++;
				while (k < n && s[k] >= '0' && s[k] <= '9')
					k++;
			}
			if (k < n && (s[k] == 'e' || s[k] == 'E')) {
				size_t e = k + 1;
				if (e < n && (s[e] == '+' || s[e] == '-'))
					e++;
				if (e < n && s[e] >= '0' && s[e] <= '9') {
					real = 1;
					k = e;
					while (k < n && s[k] >= '0' && s[k] <= '9')
						k++;
				}
			}
			if (k < n && ((s[k] >= 'a' && s[k] <= 'z') || (s[k] >= 'A' && s[k] <= 'Z') ||
				      s[k] == '_'))
				return error_at(p, line, col, "bad number '%.*s'", (int)(k + 1 - b),
						s + b);
			char buf[64];
			t.len = k - b;
			if (t.len >= sizeof buf)
				return error_at(p, line, col, "number too long");
			memcpy(buf, s + b, t.len);
			buf[t.len] = '\0';
			errno = 0;
			if (real) {
				t.t = T_REAL;
				t.d = strtod(buf, NULL);
				if (!isfinite(t.d))
					return error_at(p, line, col, "number out of range: %s", buf);
			} else {
				t.t = T_INT;
				t.i = strtoll(buf, NULL, 10);
				if (errno == ERANGE)
					return error_at(p, line, col, "integer out of the int64 range: %s "
							"(write decimal(\"%s\") for a decimal)", buf, buf);
			}
		} else if (c == '"' || c == '\'') {
			size_t b = k;
			t.t = T_STRING;
			if ((rc = lex_string(p, &k, line, col, &t)))
				return rc;
			t.len = k - b;
		} else {
			char d = k + 1 < n ? s[k + 1] : 0;
			t.len = 1;
			switch (c) {
			case '(': t.t = T_LP; depth++; break;
			case ')': t.t = T_RP; depth -= depth > 0; break;
			case '[': t.t = T_LB; depth++; break;
			case ']': t.t = T_RB; depth -= depth > 0; break;
			case '{': t.t = T_LC; depth++; break;
			case '}': t.t = T_RC; depth -= depth > 0; break;
			case ',': t.t = T_COMMA; break;
			case ';': t.t = T_SEMI; break;
			case ':': t.t = T_COLON; break;
			case '.': t.t = T_DOT; break;
			case '+': t.t = T_PLUS; break;
			case '-': t.t = T_MINUS; break;
			case '*': t.t = T_STAR; break;
			case '/': t.t = T_SLASH; break;
			case '%': t.t = T_PERCENT; break;
			case '=':
				t.t = d == '=' ? T_EQ : T_ASSIGN;
				t.len = d == '=' ? 2 : 1;
				break;
			case '!':
				if (d != '=')
					return error_at(p, line, col, "unexpected '!' (write 'not' or '!=')");
				t.t = T_NE;
				t.len = 2;
				break;
			case '<':
				t.t = d == '=' ? T_LE : T_LT;
				t.len = d == '=' ? 2 : 1;
				break;
			case '>':
				t.t = d == '=' ? T_GE : T_GT;
				t.len = d == '=' ? 2 : 1;
				break;
			case '?':
				if (d != '?')
					return error_at(p, line, col, "unexpected '?' (did you mean '?" "?')");
				t.t = T_QQ;
				t.len = 2;
				break;
			default: {
				unsigned char u = (unsigned char)c;
				size_t cl = u < 0x80 ? 1 : u < 0xE0 ? 2 : u < 0xF0 ? 3 : 4;
				if (cl > n - k)
					cl = n - k;
				return error_at(p, line, col, "unexpected character '%.*s'", (int)cl, s + k);
			}
			}
			k += t.len;
		}
		if ((rc = push_tok(p, &t)))
			return rc;
	}
	struct token e = { .t = T_EOF, .p = s + n, .line = line, .col = 1 };
	for (size_t j = line_start; j < n; j++)
		e.col += ((unsigned char)s[j] & 0xC0) != 0x80;
	return push_tok(p, &e);
}

/* ---- parser helpers ---- */

static struct token *peek(struct parser *p) { return &p->toks[p->i]; }
static struct token *peek2(struct parser *p)
{
	return &p->toks[p->i + 1 < p->ntoks ? p->i + 1 : p->i];
}
static struct token *next(struct parser *p)
{
	struct token *t = &p->toks[p->i];
	if (t->t != T_EOF)
		p->i++;
	return t;
}

static int is_word(const struct token *t, const char *w)
{
	return t->t == T_IDENT && t->len == strlen(w) && memcmp(t->p, w, t->len) == 0;
}

static int expect(struct parser *p, enum tok want, const char *what)
{
	char b[64];
	struct token *t = peek(p);
	if (t->t != want)
		return ERR(t, "expected %s, found '%s'", what, tok_text(t, b, sizeof b));
	next(p);
	return 0;
}

static const char *const reserved[] = { "true", "false", "null", "and", "or", "not", "if",
					"then", "else", "in", NULL };

static int is_reserved(const struct token *t)
{
	for (int k = 0; reserved[k]; k++)
		if (is_word(t, reserved[k]))
			return 1;
	return 0;
}

static struct node *new_node(struct parser *p, enum node_kind k, const struct token *t)
{
	struct mig_map *m = p->m;
	struct node *n;

	if (m->nnodes == m->capnodes) {
		size_t nc = m->capnodes ? m->capnodes * 2 : 64;
		struct node **nn = realloc(m->nodes_all, nc * sizeof *nn);
		if (!nn)
			return NULL;
		m->nodes_all = nn;
		m->capnodes = nc;
	}
	n = calloc(1, sizeof *n);
	if (!n)
		return NULL;
	n->kind = k;
	n->line = t->line;
	n->col = t->col;
	m->nodes_all[m->nnodes++] = n;
	return n;
}

#define NEW(var, kind, tk) do { \
	if (!((var) = new_node(p, (kind), (tk)))) \
		return mig_error_set(p->err, MIG_ENOMEM, "out of memory"); \
} while (0)

static int add_kid(struct parser *p, struct node *n, struct node *kid)
{
	struct node **k = realloc(n->kids, (n->nkids + 1) * sizeof *k);
	if (!k)
		return mig_error_set(p->err, MIG_ENOMEM, "out of memory");
	n->kids = k;
	n->kids[n->nkids++] = kid;
	return 0;
}

static int add_seg(struct parser *p, struct seg **segs, size_t *n, const char *key, size_t len,
		   int64_t index)
{
	struct seg *s = realloc(*segs, (*n + 1) * sizeof *s);
	if (!s)
		return mig_error_set(p->err, MIG_ENOMEM, "out of memory");
	*segs = s;
	s[*n].key = NULL;
	s[*n].len = len;
	s[*n].index = index;
	if (key) {
		s[*n].key = malloc(len + 1);
		if (!s[*n].key)
			return mig_error_set(p->err, MIG_ENOMEM, "out of memory");
		memcpy(s[*n].key, key, len);
		s[*n].key[len] = '\0';
	}
	(*n)++;
	return 0;
}

/* The key a token names: an identifier or a string. */
static int tok_key(const struct token *t, const char **k, size_t *len)
{
	if (t->t == T_IDENT) {
		*k = t->p;
		*len = t->len;
		return 0;
	}
	if (t->t == T_STRING) {
		*k = t->s;
		*len = t->slen;
		return 0;
	}
	return -1;
}

/* target: KEY ('.' KEY)* with KEY an identifier or a string */
static int parse_target(struct parser *p, struct pathref *out, const char *what)
{
	char b[64];
	struct token *t = peek(p);
	const char *k;
	size_t len;
	int rc;

	memset(out, 0, sizeof *out);
	out->line = t->line;
	out->col = t->col;
	for (;;) {
		t = peek(p);
		if (tok_key(t, &k, &len))
			return ERR(t, "expected %s (a field name), found '%s'", what,
				   tok_text(t, b, sizeof b));
		if (len == 0)
			return ERR(t, "an empty field name");
		next(p);
		if ((rc = add_seg(p, &out->segs, &out->n, k, len, 0)))
			return rc;
		t = peek(p);
		if (t->t == T_LB)
			return ERR(t, "%s is a field path: indexes ('[') are not allowed here", what);
		if (t->t != T_DOT)
			return 0;
		next(p);
	}
}

static void pathref_free(struct pathref *r)
{
	for (size_t i = 0; i < r->n; i++)
		free(r->segs[i].key);
	free(r->segs);
	r->segs = NULL;
	r->n = 0;
}

static int same_path(const struct pathref *a, const struct pathref *b)
{
	if (a->n != b->n)
		return 0;
	for (size_t i = 0; i < a->n; i++)
		if (a->segs[i].len != b->segs[i].len ||
		    memcmp(a->segs[i].key, b->segs[i].key, a->segs[i].len))
			return 0;
	return 1;
}

/* Whether a is b or a path on the way to b (a.b is a prefix of a.b.c). */
static int is_prefix(const struct pathref *a, const struct pathref *b)
{
	if (a->n > b->n)
		return 0;
	for (size_t i = 0; i < a->n; i++)
		if (a->segs[i].len != b->segs[i].len ||
		    memcmp(a->segs[i].key, b->segs[i].key, a->segs[i].len))
			return 0;
	return 1;
}

/* ---- expressions ---- */

static int parse_expr(struct parser *p, struct node **out);

static int parse_args(struct parser *p, struct node *call)
{
	struct node *a;
	int rc;

	next(p);   /* ( */
	if (peek(p)->t == T_RP) {
		next(p);
		return 0;
	}
	for (;;) {
		if ((rc = parse_expr(p, &a)) || (rc = add_kid(p, call, a)))
			return rc;
		if (peek(p)->t == T_COMMA) {
			next(p);
			continue;
		}
		return expect(p, T_RP, "',' or ')'");
	}
}

static const char *const agg_names[] = { "count", "sum", "min", "max", "avg", "first", "last",
					 "collect", NULL };

static int parse_call(struct parser *p, struct token *name, struct node **out)
{
	struct node *n;
	int rc;
	char b[64];

	if (p->group && !p->in_agg) {
		for (int k = 0; agg_names[k]; k++) {
			if (!is_word(name, agg_names[k]))
				continue;
			struct stage *g = p->group;
			struct agg *na = realloc(g->aggs, (g->naggs + 1) * sizeof *na);
			if (!na)
				return mig_error_set(p->err, MIG_ENOMEM, "out of memory");
			g->aggs = na;
			NEW(n, N_AGG, name);
			p->in_agg = 1;
			rc = parse_args(p, n);
			p->in_agg = 0;
			if (rc)
				return rc;
			if (n->nkids > 1 || (k != A_COUNT && n->nkids != 1))
				return ERR(name, "%s() takes %s", agg_names[k],
					   k == A_COUNT ? "no argument or one" : "one argument");
			n->op = k;
			n->idx = (int)g->naggs;
			g->aggs[g->naggs].kind = (enum agg_kind)k;
			g->aggs[g->naggs].arg = n->nkids ? n->kids[0] : NULL;
			g->naggs++;
			*out = n;
			return 0;
		}
	}
	if (is_word(name, "coalesce")) {
		NEW(n, N_COALESCE, name);
		if ((rc = parse_args(p, n)))
			return rc;
		if (n->nkids == 0)
			return ERR(name, "coalesce() takes one argument or more");
		*out = n;
		return 0;
	}
	if (is_word(name, "exists")) {
		NEW(n, N_EXISTS, name);
		if ((rc = parse_args(p, n)))
			return rc;
		if (n->nkids != 1)
			return ERR(name, "exists() takes one argument, not %zu", n->nkids);
		if (n->kids[0]->kind != N_PATH && n->kids[0]->kind != N_INDEX &&
		    n->kids[0]->kind != N_LOOKUP)
			return error_at(p, n->kids[0]->line, n->kids[0]->col,
					"exists() takes a field path");
		n->a = n->kids[0];
		*out = n;
		return 0;
	}
	for (int k = 0; agg_names[k]; k++) {
		if (is_word(name, agg_names[k]) && p->in_agg && p->group &&
		    !map_func_find(name->p, name->len))
			return ERR(name, "an aggregate inside an aggregate");
		if (is_word(name, agg_names[k]) && !map_func_find(name->p, name->len))
			return ERR(name, "%s() is an aggregate: it is allowed only in a "
				   "'group by' block", agg_names[k]);
	}
	const struct func *f = map_func_find(name->p, name->len);
	if (!f)
		return ERR(name, "unknown function '%s'", tok_text(name, b, sizeof b));
	NEW(n, N_CALL, name);
	n->fn = f;
	if ((rc = parse_args(p, n)))
		return rc;
	if ((int)n->nkids < f->min || (f->max >= 0 && (int)n->nkids > f->max)) {
		char want[64];
		if (f->min == f->max)
			snprintf(want, sizeof want, "%d argument%s", f->min, f->min == 1 ? "" : "s");
		else if (f->max < 0)
			snprintf(want, sizeof want, "%d argument%s or more", f->min,
				 f->min == 1 ? "" : "s");
		else
			snprintf(want, sizeof want, "%d to %d arguments", f->min, f->max);
		return ERR(name, "%s() takes %s, not %zu", f->name, want, n->nkids);
	}
	if (n->nkids > 32)
		return ERR(name, "%s(): more than 32 arguments", f->name);
	if (f->check) {
		char msg[512];
		int bad = f->check(n, msg, sizeof msg);
		if (bad) {
			const struct node *at = bad < -1 ? n->kids[-bad - 1] : n;
			return error_at(p, at->line, at->col, "%s", msg);
		}
	}
	*out = n;
	return 0;
}

/* Folds an object or array of constants into one constant. */
static void fold(struct node *n)
{
	json_t *v;

	for (size_t i = 0; i < n->nkids; i++)
		if (n->kids[i]->kind != N_CONST)
			return;
	v = n->kind == N_ARRAY ? json_array() : json_object();
	if (!v)
		return;
	for (size_t i = 0; i < n->nkids; i++) {
		if (n->kind == N_ARRAY)
			json_array_append(v, n->kids[i]->v);
		else
			json_object_setn_nocheck(v, n->keys[i], n->klens[i], n->kids[i]->v);
	}
	n->kind = N_CONST;
	n->v = v;
}

static int parse_object(struct parser *p, struct token *open, struct node **out)
{
	struct node *n, *v;
	const char *k;
	size_t len;
	int rc;
	char b[64];

	NEW(n, N_OBJECT, open);
	next(p);
	while (peek(p)->t != T_RC) {
		struct token *t = peek(p);
		if (tok_key(t, &k, &len))
			return ERR(t, "expected a key (a name or a string), found '%s'",
				   tok_text(t, b, sizeof b));
		next(p);
		for (size_t i = 0; i < n->nkids; i++)
			if (n->klens[i] == len && memcmp(n->keys[i], k, len) == 0)
				return ERR(t, "duplicate key '%.*s' in an object", (int)len, k);
		if (peek(p)->t == T_COLON) {
			next(p);
			if ((rc = parse_expr(p, &v)))
				return rc;
		} else if (t->t == T_IDENT) {
			/* {a} is {a: a} */
			NEW(v, N_PATH, t);
			if ((rc = add_seg(p, &v->segs, &v->nsegs, k, len, 0)))
				return rc;
		} else {
			return ERR(peek(p), "expected ':' after the key");
		}
		char **nk = realloc(n->keys, (n->nkids + 1) * sizeof *nk);
		size_t *nl = nk ? realloc(n->klens, (n->nkids + 1) * sizeof *nl) : NULL;
		if (nk)
			n->keys = nk;
		if (!nk || !nl)
			return mig_error_set(p->err, MIG_ENOMEM, "out of memory");
		n->klens = nl;
		n->keys[n->nkids] = strndup(k, len);
		n->klens[n->nkids] = len;
		if (!n->keys[n->nkids] || (rc = add_kid(p, n, v)))
			return mig_error_set(p->err, MIG_ENOMEM, "out of memory");
		if (peek(p)->t == T_COMMA) {
			next(p);
			continue;
		}
		if (peek(p)->t != T_RC)
			return ERR(peek(p), "expected ',' or '}', found '%s'",
				   tok_text(peek(p), b, sizeof b));
	}
	next(p);
	fold(n);
	*out = n;
	return 0;
}

static int parse_array(struct parser *p, struct token *open, struct node **out)
{
	struct node *n, *v;
	int rc;
	char b[64];

	NEW(n, N_ARRAY, open);
	next(p);
	while (peek(p)->t != T_RB) {
		if ((rc = parse_expr(p, &v)) || (rc = add_kid(p, n, v)))
			return rc;
		if (peek(p)->t == T_COMMA) {
			next(p);
			continue;
		}
		if (peek(p)->t != T_RB)
			return ERR(peek(p), "expected ',' or ']', found '%s'",
				   tok_text(peek(p), b, sizeof b));
	}
	next(p);
	fold(n);
	*out = n;
	return 0;
}

static struct lookup *find_lookup(struct parser *p, const struct token *t)
{
	for (size_t i = 0; i < p->m->nlookups; i++) {
		struct lookup *lk = p->m->lookups[i];
		if (strlen(lk->name) == t->len && memcmp(lk->name, t->p, t->len) == 0)
			return lk;
	}
	return NULL;
}

/* A `lookup NAME` statement further on. */
static int declared_later(struct parser *p, const struct token *t)
{
	for (size_t j = p->i ? p->i : 1; j + 2 < p->ntoks; j++)
		if ((p->toks[j - 1].t == T_NL || p->toks[j - 1].t == T_SEMI) &&
		    is_word(&p->toks[j], "lookup") && p->toks[j + 1].t == T_IDENT &&
		    p->toks[j + 1].len == t->len && memcmp(p->toks[j + 1].p, t->p, t->len) == 0)
			return 1;
	return 0;
}

static int parse_if(struct parser *p, struct token *kw, struct node **out)
{
	struct node *n;
	int rc;

	NEW(n, N_IF, kw);
	next(p);
	if ((rc = parse_expr(p, &n->a)))
		return rc;
	if (!is_word(peek(p), "then"))
		return ERR(peek(p), "expected 'then'");
	next(p);
	if ((rc = parse_expr(p, &n->b)))
		return rc;
	if (is_word(peek(p), "else")) {
		next(p);
		if ((rc = parse_expr(p, &n->c)))
			return rc;
	}
	*out = n;
	return 0;
}

static int parse_primary(struct parser *p, struct node **out)
{
	struct token *t = peek(p);
	struct node *n;
	char b[64];
	int rc;

	switch (t->t) {
	case T_INT:
		NEW(n, N_CONST, t);
		n->v = json_integer(t->i);
		next(p);
		break;
	case T_REAL:
		NEW(n, N_CONST, t);
		n->v = json_real(t->d);
		next(p);
		break;
	case T_STRING:
		NEW(n, N_CONST, t);
		n->v = json_stringn(t->s, t->slen);
		if (!n->v)
			return ERR(t, "a string that is not valid UTF-8");
		next(p);
		break;
	case T_LP:
		next(p);
		if ((rc = parse_expr(p, &n)) || (rc = expect(p, T_RP, "')'")))
			return rc;
		break;
	case T_LB:
		return parse_array(p, t, out);
	case T_LC:
		return parse_object(p, t, out);
	case T_DOT:
		/* the record itself, or ."key" */
		NEW(n, N_PATH, t);
		next(p);
		if (peek(p)->t == T_STRING || (peek(p)->t == T_IDENT && peek(p)->p == t->p + 1)) {
			const char *k;
			size_t len;
			tok_key(peek(p), &k, &len);
			if ((rc = add_seg(p, &n->segs, &n->nsegs, k, len, 0)))
				return rc;
			next(p);
		}
		break;
	case T_IDENT:
		if (is_word(t, "true") || is_word(t, "false") || is_word(t, "null")) {
			NEW(n, N_CONST, t);
			n->v = is_word(t, "null") ? json_null() : json_boolean(is_word(t, "true"));
			next(p);
			break;
		}
		if (is_word(t, "if"))
			return parse_if(p, t, out);
		if (is_reserved(t))
			return ERR(t, "unexpected '%s'", tok_text(t, b, sizeof b));
		if (peek2(p)->t == T_LP) {
			next(p);   /* parse_args starts at '(' */
			return parse_call(p, t, out);
		}
		if (peek2(p)->t == T_LB && !find_lookup(p, t) && declared_later(p, t))
			return ERR(t, "lookup '%.*s' is used before its declaration", (int)t->len, t->p);
		if (peek2(p)->t == T_LB && find_lookup(p, t)) {
			NEW(n, N_LOOKUP, t);
			n->lk = find_lookup(p, t);
			next(p);
			next(p);
			if ((rc = parse_expr(p, &n->a)) || (rc = expect(p, T_RB, "']'")))
				return rc;
			break;
		}
		NEW(n, N_PATH, t);
		if ((rc = add_seg(p, &n->segs, &n->nsegs, t->p, t->len, 0)))
			return rc;
		next(p);
		break;
	default:
		return ERR(t, "expected a value, found '%s'", tok_text(t, b, sizeof b));
	}
	*out = n;
	return 0;
}

static int parse_postfix(struct parser *p, struct node **out)
{
	struct node *n, *k;
	int rc;

	if ((rc = parse_primary(p, &n)))
		return rc;
	for (;;) {
		struct token *t = peek(p);
		if (t->t == T_DOT) {
			const char *key;
			size_t len;
			struct token *kt = peek2(p);
			if (tok_key(kt, &key, &len))
				return ERR(kt, "expected a field name after '.'");
			next(p);
			next(p);
			if (n->kind != N_PATH) {
				struct node *base = n;
				NEW(n, N_PATH, t);
				n->a = base;
			}
			if ((rc = add_seg(p, &n->segs, &n->nsegs, key, len, 0)))
				return rc;
		} else if (t->t == T_LB) {
			next(p);
			if ((rc = parse_expr(p, &k)) || (rc = expect(p, T_RB, "']'")))
				return rc;
			if (n->kind == N_PATH && k->kind == N_CONST &&
			    (json_is_integer(k->v) || json_is_string(k->v))) {
				if (json_is_string(k->v))
					rc = add_seg(p, &n->segs, &n->nsegs, json_string_value(k->v),
						     json_string_length(k->v), 0);
				else
					rc = add_seg(p, &n->segs, &n->nsegs, NULL, 0,
						     json_integer_value(k->v));
				if (rc)
					return rc;
			} else {
				struct node *base = n;
				NEW(n, N_INDEX, t);
				n->a = base;
				n->b = k;
			}
		} else {
			*out = n;
			return 0;
		}
	}
}

static int parse_unary(struct parser *p, struct node **out)
{
	struct token *t = peek(p);
	struct node *n;
	int rc;

	if (t->t != T_MINUS)
		return parse_postfix(p, out);
	next(p);
	NEW(n, N_NEG, t);
	if ((rc = parse_unary(p, &n->a)))
		return rc;
	if (n->a->kind == N_CONST && (json_is_integer(n->a->v) || json_is_real(n->a->v))) {
		n->kind = N_CONST;
		n->v = json_is_integer(n->a->v) ? json_integer(-json_integer_value(n->a->v))
						: json_real(-json_real_value(n->a->v));
	}
	*out = n;
	return 0;
}

static int binary(struct parser *p, struct token *t, int op, struct node *a, struct node **out)
{
	struct node *n;
	*out = NULL;
	NEW(n, N_BIN, t);
	n->op = op;
	n->a = a;
	*out = n;
	return 0;
}

static int parse_mul(struct parser *p, struct node **out)
{
	struct node *a, *n;
	int rc;

	if ((rc = parse_unary(p, &a)))
		return rc;
	for (;;) {
		struct token *t = peek(p);
		int op = t->t == T_STAR ? OP_MUL : t->t == T_SLASH ? OP_DIV
		       : t->t == T_PERCENT ? OP_MOD : -1;
		if (op < 0)
			break;
		next(p);
		if ((rc = binary(p, t, op, a, &n)) || (rc = parse_unary(p, &n->b)))
			return rc;
		a = n;
	}
	*out = a;
	return 0;
}

static int parse_add(struct parser *p, struct node **out)
{
	struct node *a, *n;
	int rc;

	if ((rc = parse_mul(p, &a)))
		return rc;
	for (;;) {
		struct token *t = peek(p);
		int op = t->t == T_PLUS ? OP_ADD : t->t == T_MINUS ? OP_SUB : -1;
		if (op < 0)
			break;
		next(p);
		if ((rc = binary(p, t, op, a, &n)) || (rc = parse_mul(p, &n->b)))
			return rc;
		a = n;
	}
	*out = a;
	return 0;
}

/* a ?? b ?? c: right-associative, one N_COALESCE with all operands */
static int parse_coalesce(struct parser *p, struct node **out)
{
	struct node *a, *n, *b;
	int rc;

	if ((rc = parse_add(p, &a)))
		return rc;
	if (peek(p)->t != T_QQ) {
		*out = a;
		return 0;
	}
	NEW(n, N_COALESCE, peek(p));
	if ((rc = add_kid(p, n, a)))
		return rc;
	while (peek(p)->t == T_QQ) {
		next(p);
		if ((rc = parse_add(p, &b)) || (rc = add_kid(p, n, b)))
			return rc;
	}
	*out = n;
	return 0;
}

static int parse_cmp(struct parser *p, struct node **out)
{
	struct node *a, *n;
	int rc;

	if ((rc = parse_coalesce(p, &a)))
		return rc;
	struct token *t = peek(p);
	int op = t->t == T_EQ ? OP_EQ : t->t == T_NE ? OP_NE : t->t == T_LT ? OP_LT
	       : t->t == T_LE ? OP_LE : t->t == T_GT ? OP_GT : t->t == T_GE ? OP_GE
	       : is_word(t, "in") ? OP_IN : -1;
	if (op < 0) {
		if (t->t == T_ASSIGN)
			return ERR(t, "'=' in an expression (write '==' to compare)");
		*out = a;
		return 0;
	}
	next(p);
	if ((rc = binary(p, t, op, a, &n)) || (rc = parse_coalesce(p, &n->b)))
		return rc;
	t = peek(p);
	if (t->t == T_EQ || t->t == T_NE || t->t == T_LT || t->t == T_LE || t->t == T_GT ||
	    t->t == T_GE)
		return ERR(t, "comparisons do not chain: use 'and'");
	*out = n;
	return 0;
}

static int parse_not(struct parser *p, struct node **out)
{
	struct token *t = peek(p);
	struct node *n;

	if (!is_word(t, "not"))
		return parse_cmp(p, out);
	next(p);
	NEW(n, N_NOT, t);
	*out = n;
	return parse_not(p, &n->a);
}

static int parse_and(struct parser *p, struct node **out)
{
	struct node *a, *n;
	int rc;

	if ((rc = parse_not(p, &a)))
		return rc;
	while (is_word(peek(p), "and")) {
		NEW(n, N_AND, peek(p));
		next(p);
		n->a = a;
		if ((rc = parse_not(p, &n->b)))
			return rc;
		a = n;
	}
	*out = a;
	return 0;
}

static int parse_or(struct parser *p, struct node **out)
{
	struct node *a, *n;
	int rc;

	if ((rc = parse_and(p, &a)))
		return rc;
	while (is_word(peek(p), "or")) {
		NEW(n, N_OR, peek(p));
		next(p);
		n->a = a;
		if ((rc = parse_and(p, &n->b)))
			return rc;
		a = n;
	}
	*out = a;
	return 0;
}

static int parse_expr(struct parser *p, struct node **out)
{
	if (is_word(peek(p), "if"))
		return parse_if(p, peek(p), out);
	return parse_or(p, out);
}

/* ---- statements ---- */

static int add_stage(struct parser *p, struct stage *s)
{
	struct stage *ns = realloc(p->m->stages, (p->m->nstages + 1) * sizeof *ns);
	if (!ns)
		return mig_error_set(p->err, MIG_ENOMEM, "out of memory");
	p->m->stages = ns;
	ns[p->m->nstages++] = *s;
	memset(s, 0, sizeof *s);
	return 0;
}

/* Ends the block being filled (if it holds anything). */
static int close_block(struct parser *p)
{
	struct stage *b = &p->blk;
	if (!b->nas && !b->nwheres && !b->ndrops && !b->keep_rest)
		return 0;
	b->kind = S_BLOCK;
	if (!b->nas)
		b->keep_rest = 1;
	return add_stage(p, b);
}

static int grow(struct parser *p, void **arr, size_t n, size_t sz)
{
	void *a = realloc(*arr, (n + 1) * sz);
	if (!a)
		return mig_error_set(p->err, MIG_ENOMEM, "out of memory");
	*arr = a;
	return 0;
}

static int looks_like_assign(struct parser *p)
{
	size_t j = p->i;
	for (;;) {
		if (p->toks[j].t != T_IDENT && p->toks[j].t != T_STRING)
			return 0;
		j++;
		if (p->toks[j].t == T_ASSIGN)
			return 1;
		if (p->toks[j].t != T_DOT)
			return 0;
		j++;
	}
}

static int stmt_assign(struct parser *p)
{
	struct stage *b = &p->blk;
	struct assign a = { 0 };
	char name[256];
	int rc;

	if ((rc = parse_target(p, &a.to, "an assignment target")))
		goto fail;
	for (size_t i = 0; i < b->nas; i++) {
		if (same_path(&b->as[i].to, &a.to)) {
			map_path_name(name, sizeof name, a.to.segs, a.to.n);
			rc = error_at(p, a.to.line, a.to.col, "%s is assigned twice (first on line %d)",
				      name, b->as[i].to.line);
			goto fail;
		}
	}
	if ((rc = expect(p, T_ASSIGN, "'='")) || (rc = parse_expr(p, &a.e)))
		goto fail;
	if ((rc = grow(p, (void **)&b->as, b->nas, sizeof *b->as)))
		goto fail;
	b->as[b->nas++] = a;
	return 0;
fail:
	pathref_free(&a.to);
	return rc;
}

static int stmt_group(struct parser *p, struct token *kw)
{
	struct stage g = { .kind = S_GROUP, .line = kw->line, .col = kw->col };
	char b[64];
	int rc;

	if (!is_word(peek(p), "by")) {
		rc = ERR(peek(p), "expected 'by' after 'group'");
		goto out;
	}
	next(p);
	for (;;) {
		struct pathref to = { 0 };
		struct node *e;
		if (looks_like_assign(p)) {
			if ((rc = parse_target(p, &to, "a group key name")))
				goto out;
			next(p);   /* = */
			if ((rc = parse_expr(p, &e))) {
				pathref_free(&to);
				goto out;
			}
		} else {
			struct token *t = peek(p);
			if ((rc = parse_expr(p, &e)))
				goto out;
			if (e->kind != N_PATH || e->a || !e->nsegs) {
				rc = ERR(t, "a computed group key needs a name: NAME = EXPRESSION");
				goto out;
			}
			for (size_t i = 0; i < e->nsegs; i++) {
				if (!e->segs[i].key) {
					rc = ERR(t, "a group key with an index needs a name: NAME = "
						 "EXPRESSION");
					goto out;
				}
				if ((rc = add_seg(p, &to.segs, &to.n, e->segs[i].key, e->segs[i].len, 0)))
					goto out;
			}
			to.line = t->line;
			to.col = t->col;
		}
		if ((rc = grow(p, (void **)&g.keys, g.nkeys, sizeof *g.keys)) ||
		    (rc = grow(p, (void **)&g.gout, g.nkeys, sizeof *g.gout))) {
			pathref_free(&to);
			goto out;
		}
		g.keys[g.nkeys] = e;
		g.gout[g.nkeys++] = to;
		if (peek(p)->t != T_COMMA)
			break;
		next(p);
	}
	if (peek(p)->t != T_LC) {
		rc = ERR(peek(p), "expected '{' and the aggregates after the group key, found '%s'",
			 tok_text(peek(p), b, sizeof b));
		goto out;
	}
	next(p);
	p->group = &g;
	while (peek(p)->t != T_RC) {
		struct assign a = { 0 };
		if (peek(p)->t == T_COMMA || peek(p)->t == T_SEMI) {
			next(p);
			continue;
		}
		if ((rc = parse_target(p, &a.to, "an aggregate's name")))
			goto out;
		for (size_t i = 0; i < g.nitems + g.nkeys; i++) {
			const struct pathref *o = i < g.nitems ? &g.items[i].to : &g.gout[i - g.nitems];
			if (same_path(o, &a.to)) {
				char name[256];
				map_path_name(name, sizeof name, a.to.segs, a.to.n);
				rc = error_at(p, a.to.line, a.to.col, "%s is named twice in the group",
					      name);
				pathref_free(&a.to);
				goto out;
			}
		}
		if ((rc = expect(p, T_ASSIGN, "'='")) || (rc = parse_expr(p, &a.e)) ||
		    (rc = grow(p, (void **)&g.items, g.nitems, sizeof *g.items))) {
			pathref_free(&a.to);
			goto out;
		}
		g.items[g.nitems++] = a;
	}
	next(p);
	p->group = NULL;
	if (!g.nitems && !g.nkeys) {
		rc = ERR(kw, "an empty group");
		goto out;
	}
	return add_stage(p, &g);
out:
	p->group = NULL;
	for (size_t i = 0; i < g.nkeys; i++)
		pathref_free(&g.gout[i]);
	for (size_t i = 0; i < g.nitems; i++)
		pathref_free(&g.items[i].to);
	free(g.keys);
	free(g.gout);
	free(g.items);
	free(g.aggs);
	return rc;
}

static int stmt_lookup(struct parser *p, struct token *kw)
{
	struct token *t = peek(p);
	struct lookup *lk;
	char b[64];
	int rc;

	if (t->t != T_IDENT || is_reserved(t))
		return ERR(t, "expected the lookup's name, found '%s'", tok_text(t, b, sizeof b));
	if (find_lookup(p, t))
		return ERR(t, "lookup '%.*s' is declared twice", (int)t->len, t->p);
	if (map_func_find(t->p, t->len))
		return ERR(t, "'%.*s' is a function: name the lookup otherwise", (int)t->len, t->p);
	next(p);
	if (!is_word(peek(p), "from"))
		return ERR(peek(p), "expected 'from' after the lookup's name");
	next(p);
	struct token *loc = peek(p);
	if (loc->t != T_STRING || !loc->slen)
		return ERR(loc, "expected the locator as a string (\"sqlite:x.db#t\", "
			   "\"file.ndjson\")");
	next(p);
	if (!is_word(peek(p), "on"))
		return ERR(peek(p), "expected 'on' and the key field");
	next(p);
	if ((rc = grow(p, (void **)&p->m->lookups, p->m->nlookups, sizeof *p->m->lookups)))
		return rc;
	lk = calloc(1, sizeof *lk);
	if (!lk)
		return mig_error_set(p->err, MIG_ENOMEM, "out of memory");
	p->m->lookups[p->m->nlookups++] = lk;
	lk->name = strndup(t->p, t->len);
	lk->locator = strndup(loc->s, loc->slen);
	lk->line = kw->line;
	lk->col = kw->col;
	if (!lk->name || !lk->locator)
		return mig_error_set(p->err, MIG_ENOMEM, "out of memory");
	struct pathref on;
	if ((rc = parse_target(p, &on, "the key field")))
		return rc;
	lk->on = on.segs;
	lk->non = on.n;
	return 0;
}

static int stmt(struct parser *p)
{
	struct token *t = peek(p);
	struct stage s = { .line = t->line, .col = t->col };
	int rc;

	p->m->nstatements++;
	if (t->t == T_STAR) {
		next(p);
		p->blk.keep_rest = 1;
		return 0;
	}
	if (t->t == T_MINUS) {
		struct pathref d;
		next(p);
		if ((rc = parse_target(p, &d, "a field to drop")))
			return rc;
		if ((rc = grow(p, (void **)&p->blk.drops, p->blk.ndrops, sizeof *p->blk.drops))) {
			pathref_free(&d);
			return rc;
		}
		p->blk.drops[p->blk.ndrops++] = d;
		return 0;
	}
	if (t->t == T_IDENT && peek2(p)->t != T_ASSIGN) {
		if (is_word(t, "where")) {
			struct node *e;
			next(p);
			if ((rc = parse_expr(p, &e)) ||
			    (rc = grow(p, (void **)&p->blk.wheres, p->blk.nwheres, sizeof e)))
				return rc;
			p->blk.wheres[p->blk.nwheres++] = e;
			return 0;
		}
		if (is_word(t, "lookup")) {
			next(p);
			return stmt_lookup(p, t);
		}
		if (is_word(t, "explode") || is_word(t, "dedupe") || is_word(t, "group")) {
			if ((rc = close_block(p)))
				return rc;
			next(p);
		}
		if (is_word(t, "explode")) {
			s.kind = S_EXPLODE;
			if ((rc = parse_target(p, &s.path, "the array to explode")))
				return rc;
			if (is_word(peek(p), "as")) {
				next(p);
				if ((rc = parse_target(p, &s.as_path, "the field of each element"))) {
					pathref_free(&s.path);
					return rc;
				}
			}
			if (is_word(peek(p), "index")) {
				struct token *it = next(p);
				const struct pathref *el = s.as_path.n ? &s.as_path : &s.path;
				char b[256];
				if ((rc = parse_target(p, &s.index_path, "the field of the index")) == 0 &&
				    is_prefix(&s.index_path, el)) {
					map_path_name(b, sizeof b, s.index_path.segs, s.index_path.n);
					rc = ERR(it, "explode: the index at %s would replace the element", b);
				}
				if (rc) {
					pathref_free(&s.path);
					pathref_free(&s.as_path);
					pathref_free(&s.index_path);
					return rc;
				}
			}
			return add_stage(p, &s);
		}
		if (is_word(t, "dedupe")) {
			s.kind = S_DEDUPE;
			s.desc = 1;
			for (;;) {
				struct node *e;
				if ((rc = parse_expr(p, &e)) ||
				    (rc = grow(p, (void **)&s.keys, s.nkeys, sizeof e))) {
					free(s.keys);
					return rc;
				}
				s.keys[s.nkeys++] = e;
				if (peek(p)->t != T_COMMA)
					break;
				next(p);
			}
			if (is_word(peek(p), "by")) {
				next(p);
				if ((rc = parse_expr(p, &s.by))) {
					free(s.keys);
					return rc;
				}
				if (is_word(peek(p), "desc") || is_word(peek(p), "asc")) {
					s.desc = is_word(peek(p), "desc");
					next(p);
				}
			}
			return add_stage(p, &s);
		}
		if (is_word(t, "group"))
			return stmt_group(p, t);
	}
	if (t->t == T_IDENT || t->t == T_STRING)
		return stmt_assign(p);
	char b[64];
	return ERR(t, "expected a statement (FIELD = EXPRESSION, -FIELD, *, where, explode, "
		   "dedupe, group, lookup), found '%s'", tok_text(t, b, sizeof b));
}

static int parse_program(struct parser *p)
{
	char b[64];
	int rc;

	for (;;) {
		while (peek(p)->t == T_NL || peek(p)->t == T_SEMI)
			next(p);
		if (peek(p)->t == T_EOF)
			break;
		if ((rc = stmt(p)))
			return rc;
		struct token *t = peek(p);
		if (t->t != T_NL && t->t != T_SEMI && t->t != T_EOF)
			return ERR(t, "expected the end of the statement, found '%s'",
				   tok_text(t, b, sizeof b));
	}
	return close_block(p);
}

/* ---- the map ---- */

void map_node_free(struct node *n)
{
	if (!n)
		return;
	json_decref(n->v);
	free(n->kids);
	for (size_t i = 0; n->keys && i < n->nkids; i++)
		free(n->keys[i]);
	free(n->keys);
	free(n->klens);
	for (size_t i = 0; i < n->nsegs; i++)
		free(n->segs[i].key);
	free(n->segs);
	if (n->fn && n->fn->free_data)
		n->fn->free_data(n->data);
	free(n);
}

static void stage_free(struct stage *s)
{
	for (size_t i = 0; i < s->nas; i++)
		pathref_free(&s->as[i].to);
	free(s->as);
	free(s->wheres);
	for (size_t i = 0; i < s->ndrops; i++)
		pathref_free(&s->drops[i]);
	free(s->drops);
	pathref_free(&s->path);
	pathref_free(&s->as_path);
	pathref_free(&s->index_path);
	free(s->keys);
	for (size_t i = 0; s->gout && i < s->nkeys; i++)
		pathref_free(&s->gout[i]);
	free(s->gout);
	for (size_t i = 0; i < s->nitems; i++)
		pathref_free(&s->items[i].to);
	free(s->items);
	free(s->aggs);
}

void mig_map_free(struct mig_map *m)
{
	if (!m)
		return;
	map_stages_free(m);
	for (size_t i = 0; i < m->nstages; i++)
		stage_free(&m->stages[i]);
	free(m->stages);
	for (size_t i = 0; i < m->nnodes; i++)
		map_node_free(m->nodes_all[i]);
	free(m->nodes_all);
	for (size_t i = 0; i < m->nlookups; i++) {
		struct lookup *lk = m->lookups[i];
		free(lk->name);
		free(lk->locator);
		for (size_t j = 0; j < lk->non; j++)
			free(lk->on[j].key);
		free(lk->on);
		json_decref(lk->table);
		free(lk);
	}
	free(m->lookups);
	if (m->salt)
		memset(m->salt, 0, m->salt_len);
	free(m->salt);
	free(m->name);
	mig_buf_free(&m->kbuf);
	free(m);
}

int mig_map_compile(struct mig_map **out, const char *src, size_t len, const char *name,
		    const struct mig_map_opts *opts, struct mig_map_diag *diag,
		    struct mig_error *err)
{
	struct parser p = { 0 };
	struct mig_map *m;
	int rc;

	*out = NULL;
	if (diag)
		memset(diag, 0, sizeof *diag);
	m = calloc(1, sizeof *m);
	if (!m)
		return mig_error_set(err, MIG_ENOMEM, "out of memory");
	if (opts)
		m->o = *opts;
	m->o.salt = NULL;
	m->name = strdup(name ? name : "-e");
	mig_buf_init(&m->kbuf, 0);
	if (opts && opts->salt) {
		m->salt = malloc(opts->salt_len + 1);
		if (m->salt) {
			memcpy(m->salt, opts->salt, opts->salt_len);
			m->salt_len = opts->salt_len;
		}
	}
	if (!m->o.memory)
		m->o.memory = (uint64_t)64 << 20;
	m->now_us = m->o.now_us;
	if (!m->now_us) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		m->now_us = ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000) * 1000;
	}
	if (!m->name || (opts && opts->salt && !m->salt)) {
		mig_map_free(m);
		return mig_error_set(err, MIG_ENOMEM, "out of memory");
	}
	p.m = m;
	p.src = src;
	p.srclen = len;
	p.err = err;
	p.diag = diag;
	if (memchr(src, '\0', len))
		rc = mig_error_set(err, MIG_EUSAGE, "%s: a NUL byte in the mapping", m->name);
	else
		rc = lex(&p);
	if (!rc)
		rc = parse_program(&p);
	/* the block being filled on an error */
	if (rc)
		stage_free(&p.blk);
	for (size_t i = 0; i < p.ntoks; i++)
		free(p.toks[i].s);
	free(p.toks);
	if (rc) {
		mig_map_free(m);
		return rc;
	}
	*out = m;
	return 0;
}

json_t *mig_map_describe(const struct mig_map *m)
{
	static const char *const kinds[] = { "block", "explode", "dedupe", "group" };
	json_t *stages = json_array(), *fields = json_array(), *lookups = json_array();
	char name[256];

	for (size_t i = 0; i < m->nstages; i++) {
		const struct stage *s = &m->stages[i];
		json_array_append_new(stages, json_string(kinds[s->kind]));
		for (size_t j = 0; s->kind == S_BLOCK && j < s->nas; j++) {
			map_path_name(name, sizeof name, s->as[j].to.segs, s->as[j].to.n);
			json_array_append_new(fields, json_string(name));
		}
	}
	for (size_t i = 0; i < m->nlookups; i++)
		json_array_append_new(lookups, json_string(m->lookups[i]->name));
	return json_pack("{s:I, s:o, s:o, s:o}", "statements", (json_int_t)m->nstatements,
			 "stages", stages, "fields", fields, "lookups", lookups);
}
