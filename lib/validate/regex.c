/*
 * regex.c - ECMA-262 patterns on PCRE2.
 *
 * JSON Schema patterns are ECMA-262 regular expressions.  PCRE2 with UTF
 * and UCP is close; the differences that matter in schemas are translated
 * here: \d and \w are ASCII in ECMA-262 (UCP would widen them), so is the
 * \b word boundary; \s also matches U+FEFF; $ matches only at the very end
 * (no final newline allowance); [^] is any character and [] nothing;
 * \uXXXX (and surrogate pairs) name code points.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mig/buf.h"
#include "schema.h"

#define WORD "A-Za-z0-9_"
#define NOT_DIGIT "\\x{0}-\\x{2f}\\x{3a}-\\x{10ffff}"
#define NOT_WORD "\\x{0}-\\x{2f}\\x{3a}-\\x{40}\\x{5b}-\\x{5e}\\x{60}\\x{7b}-\\x{10ffff}"
#define BOUNDARY "(?:(?<=[" WORD "])(?![" WORD "])|(?<![" WORD "])(?=[" WORD "]))"
#define NOT_BOUNDARY "(?:(?<=[" WORD "])(?=[" WORD "])|(?<![" WORD "])(?![" WORD "]))"

static int hex4(const char *p, const char *end, unsigned *out)
{
	unsigned v = 0;
	if (end - p < 4)
		return -1;
	for (int i = 0; i < 4; i++) {
		char c = p[i];
		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (unsigned)(c - 'A' + 10);
		else
			return -1;
	}
	*out = v;
	return 0;
}

/* ECMA-262's long General_Category names; PCRE2 10.42 knows the short ones. */
static const struct { const char *lng, *shrt; } categories[] = {
	{ "Letter", "L" }, { "Cased_Letter", "LC" }, { "Uppercase_Letter", "Lu" },
	{ "Lowercase_Letter", "Ll" }, { "Titlecase_Letter", "Lt" }, { "Modifier_Letter", "Lm" },
	{ "Other_Letter", "Lo" }, { "Mark", "M" }, { "Nonspacing_Mark", "Mn" },
	{ "Spacing_Mark", "Mc" }, { "Enclosing_Mark", "Me" }, { "Number", "N" },
	{ "Decimal_Number", "Nd" }, { "digit", "Nd" }, { "Letter_Number", "Nl" },
	{ "Other_Number", "No" }, { "Punctuation", "P" }, { "punct", "P" },
	{ "Connector_Punctuation", "Pc" }, { "Dash_Punctuation", "Pd" },
	{ "Open_Punctuation", "Ps" }, { "Close_Punctuation", "Pe" },
	{ "Initial_Punctuation", "Pi" }, { "Final_Punctuation", "Pf" },
	{ "Other_Punctuation", "Po" }, { "Symbol", "S" }, { "Math_Symbol", "Sm" },
	{ "Currency_Symbol", "Sc" }, { "Modifier_Symbol", "Sk" }, { "Other_Symbol", "So" },
	{ "Separator", "Z" }, { "Space_Separator", "Zs" }, { "Line_Separator", "Zl" },
	{ "Paragraph_Separator", "Zp" }, { "Other", "C" }, { "Control", "Cc" }, { "cntrl", "Cc" },
	{ "Format", "Cf" }, { "Unassigned", "Cn" }, { "Private_Use", "Co" }, { "Surrogate", "Cs" },
};

/* \p{...}: long category names to short ones, "General_Category=X" and
 * "gc=X" to X, "Script=X" and "sc=X" to X.  Returns the bytes consumed. */
static int property(struct mig_buf *b, const char *p, const char *end, size_t *used)
{
	const char *close = memchr(p, '}', (size_t)(end - p));
	const char *name = p + 3, *eq;
	size_t n;

	if (end - p < 4 || p[2] != '{' || !close)
		return -1;
	n = (size_t)(close - name);
	eq = memchr(name, '=', n);
	if (eq) {
		n -= (size_t)(eq + 1 - name);
		name = eq + 1;
	}
	*used = (size_t)(close + 1 - p);
	for (size_t i = 0; i < sizeof categories / sizeof categories[0]; i++)
		if (strlen(categories[i].lng) == n && memcmp(categories[i].lng, name, n) == 0)
			return mig_buf_printf(b, "\\%c{%s}", p[1], categories[i].shrt);
	return mig_buf_printf(b, "\\%c{%.*s}", p[1], (int)n, name);
}

/* The PCRE2 text of an ECMA-262 pattern. */
static int translate(struct mig_buf *b, const char *s, size_t len)
{
	const char *p = s, *end = s + len;
	int in_class = 0, rc = 0;

	while (p < end && !rc) {
		char c = *p;
		if (c == '\\' && p + 1 < end) {
			char n = p[1];
			unsigned cp, lo;
			switch (n) {
			case 'd':
				rc = mig_buf_puts(b, in_class ? "0-9" : "[0-9]");
				break;
			case 'D':
				rc = mig_buf_puts(b, in_class ? NOT_DIGIT : "[^0-9]");
				break;
			case 'w':
				rc = mig_buf_puts(b, in_class ? WORD : "[" WORD "]");
				break;
			case 'W':
				rc = mig_buf_puts(b, in_class ? NOT_WORD : "[^" WORD "]");
				break;
			case 's':
				rc = mig_buf_puts(b, in_class ? "\\s\\x{feff}" : "[\\s\\x{feff}]");
				break;
			case 'S':
				rc = mig_buf_puts(b, in_class ? "\\S" : "[^\\s\\x{feff}]");
				break;
			case 'b':
				rc = mig_buf_puts(b, in_class ? "\\x{8}" : BOUNDARY);
				break;
			case 'B':
				rc = mig_buf_puts(b, in_class ? "B" : NOT_BOUNDARY);
				break;
			case 'a':
			case 'e':
				return MIG_EDATA;   /* no such control escape in ECMA-262 */
			case 'p':
			case 'P': {
				size_t used;
				if (property(b, p, end, &used) == 0) {
					p += used;
					continue;
				}
				rc = mig_buf_append(b, p, 2);
				break;
			}
			case 'u':
				if (hex4(p + 2, end, &cp) == 0) {
					p += 6;
					if (cp >= 0xD800 && cp <= 0xDBFF && end - p >= 6 && p[0] == '\\' &&
					    p[1] == 'u' && hex4(p + 2, end, &lo) == 0 &&
					    lo >= 0xDC00 && lo <= 0xDFFF) {
						cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
						p += 6;
					}
					rc = mig_buf_printf(b, "\\x{%x}", cp);
					continue;
				}
				rc = mig_buf_puts(b, "u");
				break;
			default:
				rc = mig_buf_append(b, p, 2);
				break;
			}
			p += 2;
			continue;
		}
		if (!in_class && c == '(' && p + 2 < end && p[1] == '?' &&
		    !strchr(":=!<", p[2])) {
			/* (?P<..>, (?#...), (?i): PCRE, Python, not ECMA-262 */
			return MIG_EDATA;
		}
		if (!in_class && c == '[') {
			in_class = 1;
			rc = mig_buf_putc(b, c);
			p++;
			/* "[^]" and "[]" are PCRE2_ALLOW_EMPTY_CLASS's; a ']' right after
			 * '[' or '[^' closes the class in ECMA-262 */
			if (p < end && *p == '^') {
				rc = rc ? rc : mig_buf_putc(b, '^');
				p++;
			}
			if (p < end && *p == ']') {
				rc = rc ? rc : mig_buf_putc(b, ']');
				p++;
				in_class = 0;
			}
			continue;
		}
		if (in_class && c == ']')
			in_class = 0;
		if (in_class && c == '[') {
			/* a literal '[' in a class: PCRE2 would see [: :] classes */
			rc = mig_buf_puts(b, "\\[");
			p++;
			continue;
		}
		rc = mig_buf_putc(b, c);
		p++;
	}
	return rc;
}

struct vregex *mig_vregex_compile(const char *src, size_t len, char *why, size_t whylen)
{
	struct mig_buf b;
	struct vregex *re = NULL;
	pcre2_compile_context *cc = NULL;
	int ecode;
	PCRE2_SIZE eoff;

	mig_buf_init(&b, 0);
	switch (translate(&b, src, len)) {
	case 0:
		break;
	case MIG_EDATA:
		snprintf(why, whylen, "invalid regular expression: not ECMA-262 syntax");
		goto out;
	default:
		snprintf(why, whylen, "out of memory");
		goto out;
	}
	if (mig_buf_putc(&b, '\0')) {
		snprintf(why, whylen, "out of memory");
		goto out;
	}
	b.len--;
	re = calloc(1, sizeof *re);
	cc = pcre2_compile_context_create(NULL);
	if (!re || !cc) {
		snprintf(why, whylen, "out of memory");
		goto out;
	}
	pcre2_set_newline(cc, PCRE2_NEWLINE_ANYCRLF);
	re->code = pcre2_compile((PCRE2_SPTR)b.data, b.len,
				 PCRE2_UTF | PCRE2_UCP | PCRE2_DOLLAR_ENDONLY | PCRE2_ALLOW_EMPTY_CLASS,
				 &ecode, &eoff, cc);
	if (!re->code) {
		char msg[256];
		pcre2_get_error_message(ecode, (PCRE2_UCHAR *)msg, sizeof msg);
		snprintf(why, whylen, "invalid regular expression: %s", msg);
		goto out;
	}
	/* JIT where the platform has it; the interpreter otherwise */
	pcre2_jit_compile(re->code, PCRE2_JIT_COMPLETE);
	re->md = pcre2_match_data_create(1, NULL);
	if (!re->md)
		snprintf(why, whylen, "out of memory");
out:
	if (re && !re->md) {
		/* a failure on the way: nothing half-made goes out */
		mig_vregex_free(re);
		re = NULL;
	}
	pcre2_compile_context_free(cc);
	mig_buf_free(&b);
	return re;
}

int mig_vregex_match(struct vregex *re, const char *s, size_t len)
{
	/* Jansson has checked the UTF-8 of every string it holds */
	int rc = pcre2_match(re->code, (PCRE2_SPTR)s, len, 0, PCRE2_NO_UTF_CHECK, re->md, NULL);
	return rc >= 0;
}

void mig_vregex_free(struct vregex *re)
{
	if (!re)
		return;
	pcre2_match_data_free(re->md);
	pcre2_code_free(re->code);
	free(re);
}
