/*
 * mig/locator.h - naming a store and a collection in it (DESIGN.md s. 2).
 *
 *   file:path.ndjson   path.ndjson.zst   -            (file backend)
 *   sqlite:path.db#table
 *   postgres://user@host:5432/db#schema.table   (also postgresql://)
 *   mongodb://host:27017/db#collection          (also mongodb+srv://)
 *   es://host:9200#index   es+https://host:9200#index
 *
 * An argument "env:VAR" is replaced by the value of VAR, "@path" by the
 * first line of that file, before parsing: secrets stay out of argv.
 * The fragment after the last '#' is the collection; it is never sent to
 * a server.  A string with no known scheme is a file path.
 *
 * Every message that names a locator uses ->redacted, in which a password
 * (user:PASS@, password=PASS, an api key) is replaced by "***".
 */
#ifndef MIG_LOCATOR_H
#define MIG_LOCATOR_H

#include "mig/error.h"

struct mig_locator {
	char *scheme;      /* "file", "sqlite", "postgres", "mongodb", "es" */
	char *uri;         /* resolved, without the fragment (may hold secrets) */
	char *path;        /* file and sqlite: the file system path ("-" = stdio) */
	char *collection;  /* the fragment, or NULL when there is none */
	char *redacted;    /* printable: uri with secrets hidden, plus #fragment */
	int tls;           /* es+https */
};

/* Parses arg (resolving env:/@ first).  Returns 0 and a new locator in
 * *out (free with mig_locator_free), or MIG_EUSAGE naming what is wrong
 * (the message never holds a secret). */
int mig_locator_parse(struct mig_locator **out, const char *arg, struct mig_error *err);
void mig_locator_free(struct mig_locator *loc);

/* A malloc'd copy of s with every password hidden.  Works on URIs,
 * libpq conninfo strings and locator arguments alike.  Never NULL unless
 * malloc fails. */
char *mig_redact(const char *s);

/* Overwrites a secret in memory before it is freed. */
void mig_wipe(void *p, size_t n);

#endif
