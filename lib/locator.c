/* locator.c - locators, env:/@ indirection and redaction (DESIGN.md s. 2). */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mig/locator.h"

void mig_wipe(void *p, size_t n)
{
	volatile unsigned char *v = p;
	while (n--)
		*v++ = 0;
}

static void free_secret(char *s)
{
	if (s) {
		mig_wipe(s, strlen(s));
		free(s);
	}
}

void mig_locator_free(struct mig_locator *loc)
{
	if (!loc)
		return;
	free(loc->scheme);
	free_secret(loc->uri);
	free(loc->path);
	free(loc->collection);
	free(loc->redacted);
	free(loc);
}

/* Appends [p, p+n) to a malloc'd growing string. */
static int cat(char **s, size_t *len, const char *p, size_t n)
{
	char *q = realloc(*s, *len + n + 1);
	if (!q)
		return -1;
	memcpy(q + *len, p, n);
	*len += n;
	q[*len] = '\0';
	*s = q;
	return 0;
}

static int is_secret_key(const char *k, size_t n)
{
	static const char *const keys[] = {
		"password", "pass", "pwd", "apikey", "api_key", "api-key", "token",
		"secret", "sslpassword", "access_token", NULL
	};
	for (int i = 0; keys[i]; i++)
		if (strlen(keys[i]) == n && strncasecmp(k, keys[i], n) == 0)
			return 1;
	return 0;
}

/*
 * Hides: the password of a URI's userinfo (scheme://user:PASS@host), the
 * value of key=value pairs whose key names a secret, in a URI query
 * (?password=..&) or a libpq conninfo ("password=... host=..."; quoted
 * values too).
 */
char *mig_redact(const char *s)
{
	char *out = NULL;
	size_t len = 0;
	const char *p = s, *auth_end = NULL;

	if (!s)
		return strdup("");
	/* userinfo: between "://" and the last '@' before the first '/', '?' or '#' */
	const char *sep = strstr(s, "://");
	if (sep) {
		const char *host = sep + 3;
		const char *end = host + strcspn(host, "/?#");
		const char *at = NULL;
		for (const char *q = host; q < end; q++)
			if (*q == '@')
				at = q;
		if (at) {
			const char *colon = memchr(host, ':', (size_t)(at - host));
			if (colon) {
				if (cat(&out, &len, s, (size_t)(colon + 1 - s)) || cat(&out, &len, "***", 3))
					goto oom;
				p = at;
				auth_end = at;
			}
		}
	}
	(void)auth_end;
	while (*p) {
		/* a key=value whose key is a secret: find "key=" at a word start */
		const char *eq = strchr(p, '=');
		if (!eq)
			break;
		const char *k = eq;
		while (k > p && (isalnum((unsigned char)k[-1]) || k[-1] == '_' || k[-1] == '-'))
			k--;
		if (!is_secret_key(k, (size_t)(eq - k))) {
			if (cat(&out, &len, p, (size_t)(eq + 1 - p)))
				goto oom;
			p = eq + 1;
			continue;
		}
		if (cat(&out, &len, p, (size_t)(eq + 1 - p)) || cat(&out, &len, "***", 3))
			goto oom;
		p = eq + 1;
		while (*p == ' ')
			p++;
		if (*p == '\'') {  /* conninfo quoted value, with \' escapes */
			p++;
			while (*p && *p != '\'')
				p += (*p == '\\' && p[1]) ? 2 : 1;
			if (*p)
				p++;
		} else {
			while (*p && *p != '&' && *p != ' ' && *p != '#' && *p != ';')
				p++;
		}
	}
	if (cat(&out, &len, p, strlen(p)))
		goto oom;
	return out;
oom:
	free(out);
	return NULL;
}

/* Resolves env:VAR and @file; returns a malloc'd string. */
static int resolve(char **out, const char *arg, struct mig_error *err)
{
	if (strncmp(arg, "env:", 4) == 0) {
		const char *v = getenv(arg + 4);
		if (!arg[4])
			return mig_error_set(err, MIG_EUSAGE, "locator env: names no variable");
		if (!v || !*v)
			return mig_error_set(err, MIG_EUSAGE,
					     "locator %s: environment variable %s is not set",
					     arg, arg + 4);
		*out = strdup(v);
	} else if (arg[0] == '@' && arg[1]) {
		FILE *f = fopen(arg + 1, "r");
		char *line = NULL;
		size_t cap = 0;
		ssize_t n;
		if (!f)
			return mig_error_set(err, MIG_EUSAGE, "locator %s: %s", arg, strerror(errno));
		n = getline(&line, &cap, f);
		fclose(f);
		if (n <= 0) {
			free(line);
			return mig_error_set(err, MIG_EUSAGE, "locator %s: the file is empty", arg);
		}
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r' || line[n - 1] == ' '))
			line[--n] = '\0';
		*out = line;
	} else {
		*out = strdup(arg);
	}
	if (!*out)
		return mig_error_set(err, MIG_ENOMEM, "out of memory");
	return 0;
}

static const struct {
	const char *prefix;
	const char *scheme;
	int url;   /* prefix is "scheme://" and stays part of the uri */
	int tls;
} schemes[] = {
	{ "file:", "file", 0, 0 },
	{ "sqlite:", "sqlite", 0, 0 },
	{ "postgres://", "postgres", 1, 0 },
	{ "postgresql://", "postgres", 1, 0 },
	{ "mongodb://", "mongodb", 1, 0 },
	{ "mongodb+srv://", "mongodb", 1, 0 },
	{ "es://", "es", 1, 0 },
	{ "es+http://", "es", 1, 0 },
	{ "es+https://", "es", 1, 1 },
};

int mig_locator_parse(struct mig_locator **out, const char *arg, struct mig_error *err)
{
	struct mig_locator *loc = NULL;
	char *s = NULL, *hash;
	int rc;

	*out = NULL;
	if (!arg || !*arg)
		return mig_error_set(err, MIG_EUSAGE, "empty locator");
	rc = resolve(&s, arg, err);
	if (rc)
		return rc;
	loc = calloc(1, sizeof *loc);
	if (!loc) {
		rc = mig_error_set(err, MIG_ENOMEM, "out of memory");
		goto out;
	}
	size_t i, n = sizeof schemes / sizeof schemes[0];
	for (i = 0; i < n; i++)
		if (strncasecmp(s, schemes[i].prefix, strlen(schemes[i].prefix)) == 0)
			break;
	if (i == n) {
		/* "word:" or "word://" that we do not know is a mistake, not a file name */
		size_t w = strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+-.");
		if (w > 1 && s[w] == ':' && (s[w + 1] == '/' || strchr(s, '#'))) {
			char *r = mig_redact(s);
			rc = mig_error_set(err, MIG_EUSAGE,
					   "%s: unknown locator scheme '%.*s' (known: file:, sqlite:, "
					   "postgres://, mongodb://, es://, es+https://)",
					   r ? r : "locator", (int)w, s);
			free(r);
			goto out;
		}
		/* a bare path: the file backend; '#' is part of the file name */
		loc->scheme = strdup("file");
		loc->path = strdup(s);
		loc->uri = strdup(s);
		loc->redacted = strdup(s);
		if (!loc->scheme || !loc->path || !loc->uri || !loc->redacted)
			rc = mig_error_set(err, MIG_ENOMEM, "out of memory");
		goto out;
	}
	loc->scheme = strdup(schemes[i].scheme);
	loc->tls = schemes[i].tls;
	/* the collection is after the last '#'; file: locators have none */
	hash = strcmp(loc->scheme, "file") ? strrchr(s, '#') : NULL;
	if (hash) {
		*hash = '\0';
		if (hash[1]) {
			loc->collection = strdup(hash + 1);
			if (!loc->collection) {
				rc = mig_error_set(err, MIG_ENOMEM, "out of memory");
				goto out;
			}
		}
	}
	loc->uri = strdup(s);
	if (!schemes[i].url)
		loc->path = strdup(s + strlen(schemes[i].prefix));
	{
		char *r = mig_redact(s);
		if (r && loc->collection) {
			size_t rl = strlen(r), cl = strlen(loc->collection);
			char *t = realloc(r, rl + cl + 2);
			if (t) {
				t[rl] = '#';
				memcpy(t + rl + 1, loc->collection, cl + 1);
			} else {
				free(r);
			}
			r = t;
		}
		loc->redacted = r;
	}
	if (!loc->scheme || !loc->uri || !loc->redacted || (!schemes[i].url && !loc->path)) {
		rc = mig_error_set(err, MIG_ENOMEM, "out of memory");
		goto out;
	}
	if (loc->path && !*loc->path) {
		rc = mig_error_set(err, MIG_EUSAGE, "%s: the locator names no file", loc->redacted);
		goto out;
	}
out:
	free_secret(s);
	if (rc)
		mig_locator_free(loc);
	else
		*out = loc;
	return rc;
}
