/* reject.c - the reject file (DESIGN.md s. 1): one JSON object per line. */
#include <stdlib.h>
#include <string.h>

#include "mig/reject.h"
#include "mig/stream.h"

struct mig_rejects {
	struct mig_writer *w;
	char *path;
	char *stage;
	uint64_t count;
};

int mig_rejects_open(struct mig_rejects **out, const char *path, const char *stage,
		     int append, struct mig_error *err)
{
	struct mig_rejects *r = calloc(1, sizeof *r);
	int rc;

	*out = NULL;
	if (!r)
		return mig_error_set(err, MIG_ENOMEM, "out of memory");
	r->stage = strdup(stage);
	r->path = path ? strdup(path) : NULL;
	if (!r->stage || (path && !r->path)) {
		mig_rejects_close(r, NULL);
		return mig_error_set(err, MIG_ENOMEM, "out of memory");
	}
	if (path) {
		/* rejects are written as they come, so that a crash loses none */
		rc = mig_writer_open(&r->w, path, append ? MIG_WRITER_APPEND : 0, MIG_JSON_RELAXED,
				     err);
		if (rc) {
			mig_rejects_close(r, NULL);
			return mig_error_prefix(err, "reject file");
		}
	}
	*out = r;
	return 0;
}

/* The raw line as a JSON string: invalid UTF-8 becomes U+FFFD, NUL too. */
static json_t *raw_string(const char *p, size_t n)
{
	char *s = malloc(n * 3 + 1);
	size_t o = 0;
	json_t *v;

	if (!s)
		return NULL;
	for (size_t i = 0; i < n;) {
		unsigned char c = (unsigned char)p[i];
		size_t k = c < 0x80 ? 0 : c >= 0xC2 && c <= 0xDF ? 1 : c >= 0xE0 && c <= 0xEF ? 2
			 : c >= 0xF0 && c <= 0xF4 ? 3 : 99;
		int ok = c != 0 && k != 99 && i + k < n;
		for (size_t j = 1; ok && j <= k; j++)
			ok = ((unsigned char)p[i + j] & 0xC0) == 0x80;
		if (ok && k) {
			/* reject overlongs and surrogates the way a decoder would */
			unsigned char d = (unsigned char)p[i + 1];
			ok = !((c == 0xE0 && d < 0xA0) || (c == 0xED && d > 0x9F) ||
			       (c == 0xF0 && d < 0x90) || (c == 0xF4 && d > 0x8F));
		}
		if (ok) {
			memcpy(s + o, p + i, k + 1);
			o += k + 1;
			i += k + 1;
		} else {
			memcpy(s + o, "\xEF\xBF\xBD", 3);
			o += 3;
			i++;
		}
	}
	v = json_stringn_nocheck(s, o);
	free(s);
	return v;
}

int mig_rejects_add(struct mig_rejects *r, const json_t *rec, const char *raw, size_t rawlen,
		    uint64_t line, const char *error, const char *code, const json_t *errors,
		    struct mig_error *err)
{
	json_t *o;
	int rc = 0;

	r->count++;
	if (!r->w)
		return 0;
	o = json_object();
	if (!o)
		return mig_error_set(err, MIG_ENOMEM, "out of memory");
	json_object_set_new_nocheck(o, "record", rec ? json_deep_copy(rec)
					       : raw_string(raw ? raw : "", raw ? rawlen : 0));
	json_object_set_new_nocheck(o, "error", json_string(error ? error : "rejected"));
	json_object_set_new_nocheck(o, "line", json_integer((json_int_t)line));
	json_object_set_new_nocheck(o, "stage", json_string(r->stage));
	if (code)
		json_object_set_new_nocheck(o, "code", json_string(code));
	if (errors)
		json_object_set_nocheck(o, "errors", (json_t *)errors);
	rc = mig_writer_put(r->w, o, err);
	json_decref(o);
	if (!rc)
		rc = mig_writer_flush(r->w, err);
	return rc ? mig_error_prefix(err, "reject file") : 0;
}

uint64_t mig_rejects_count(const struct mig_rejects *r) { return r ? r->count : 0; }
const char *mig_rejects_path(const struct mig_rejects *r) { return r ? r->path : NULL; }

int mig_rejects_close(struct mig_rejects *r, struct mig_error *err)
{
	int rc;

	if (!r)
		return 0;
	rc = mig_writer_close(r->w, 1, err);
	free(r->path);
	free(r->stage);
	free(r);
	return rc;
}
