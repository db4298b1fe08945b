/* backend.c - the table of backends and the calls in front of it. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mig/backend.h"
#include "mig/buf.h"

/* One line per backend: adding a backend touches nothing else. */
static const struct mig_backend_ops *const backends[] = {
	&mig_backend_file,
	&mig_backend_sqlite,
	&mig_backend_mongo,
	&mig_backend_es,
	&mig_backend_pg,
	NULL
};

const struct mig_backend_ops *const *mig_backend_all(void)
{
	return backends;
}

const struct mig_backend_ops *mig_backend_find(const char *scheme)
{
	for (int i = 0; backends[i]; i++)
		if (strcmp(backends[i]->scheme, scheme) == 0)
			return backends[i];
	return NULL;
}

int mig_store_open(struct mig_store **out, struct mig_locator *loc, int flags,
		   struct mig_error *err)
{
	const struct mig_backend_ops *ops = mig_backend_find(loc->scheme);
	int rc;

	*out = NULL;
	if (!ops) {
		rc = mig_error_set(err, MIG_EUSAGE,
				   "%s: the %s backend is not part of this build yet",
				   loc->redacted, loc->scheme);
		mig_locator_free(loc);
		return rc;
	}
	rc = ops->open(out, loc, flags, err);
	if (rc) {
		mig_locator_free(loc);
		return rc;
	}
	(*out)->ops = ops;
	(*out)->loc = loc;
	return 0;
}

void mig_store_close(struct mig_store *st)
{
	if (!st)
		return;
	struct mig_locator *loc = st->loc;
	st->ops->close(st);
	mig_locator_free(loc);
}

static int takes(const struct mig_backend_ops *ops, const char *name)
{
	for (size_t i = 0; ops->write_params && ops->write_params[i]; i++)
		if (strcmp(ops->write_params[i], name) == 0)
			return 1;
	return 0;
}

int mig_store_check_params(const struct mig_store *st, const struct mig_write_opts *o,
			   struct mig_error *err)
{
	for (size_t i = 0; i < o->nparams; i++) {
		const char *name = o->params[i].name;
		char opt[64], who[128] = "";
		size_t n = 0;

		if (takes(st->ops, name))
			continue;
		snprintf(opt, sizeof opt, "--%s", name);
		for (char *p = opt; *p; p++)
			if (*p == '_')
				*p = '-';
		for (int b = 0; backends[b]; b++)
			if (takes(backends[b], name) && n < sizeof who - 16)
				n += (size_t)snprintf(who + n, sizeof who - n, "%s%s://", n ? ", " : "",
						      backends[b]->scheme);
		return mig_error_set(err, MIG_EUSAGE, "%s: %s does not apply to a %s store%s%s%s",
				     st->loc->redacted, opt, st->ops->scheme,
				     n ? " (only to " : "", who, n ? " stores)" : "");
	}
	return 0;
}

void mig_batch_reject(struct mig_batch_item *it, const char *code, const char *fmt, ...)
{
	va_list ap;
	char msg[MIG_ERROR_MAX];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	for (char *p = msg; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	free(it->error);
	free(it->code);
	it->status = MIG_ITEM_REJECTED;
	it->error = strdup(msg);
	it->code = code ? strdup(code) : NULL;
}

static const char *const mode_names[] = { "insert", "upsert", "replace", "merge", "update",
					  "delete" };

const char *mig_load_mode_name(enum mig_load_mode m)
{
	return (size_t)m < sizeof mode_names / sizeof *mode_names ? mode_names[m] : "?";
}

int mig_load_mode_parse(const char *s, enum mig_load_mode *out)
{
	for (size_t i = 0; i < sizeof mode_names / sizeof *mode_names; i++)
		if (strcmp(s, mode_names[i]) == 0) {
			*out = (enum mig_load_mode)i;
			return 0;
		}
	return -1;
}

void mig_batch_no_key(struct mig_batch_item *it, const char *noun, const char *const *keys,
		      size_t nkeys)
{
	struct mig_buf b;
	int rc = 0;

	mig_buf_init(&b, 0);
	for (size_t i = 0; !rc && i < nkeys && keys[i]; i++) {
		const json_t *v = json_object_get(it->rec, keys[i]);
		rc = mig_buf_printf(&b, "%s%s=", i ? ", " : "", keys[i]);
		rc = rc ? rc : v ? mig_value_write(&b, v, MIG_JSON_RELAXED) : mig_buf_puts(&b, "?");
	}
	mig_batch_reject(it, NULL, "no %s with key %s", noun, !rc && b.data ? b.data : "?");
	mig_buf_free(&b);
}
