/*
 * infer.c - mig-validate --infer: a JSON Schema that describes a stream.
 *
 * One shape per place in the records (the root, each field of an object,
 * the items of an array) counts the types seen there; the shapes of
 * objects keep their fields in the order first seen.  Memory follows the
 * shape of the data, not its size: at most MAX_FIELDS fields per object
 * (the rest are described together by additionalProperties) and at most
 * MAX_ENUM distinct short strings per place (more, and the place gets no
 * enum).  The result validates the input it was inferred from: every type
 * seen is allowed, a field is required only where every object had it, and
 * a format or enum is given only when every value matched it.
 */
#include <stdlib.h>
#include <string.h>

#include "mig/log.h"
#include "mig/stream.h"
#include "mig/validate.h"
#include "mig/value.h"
#include "schema.h"

#define MAX_FIELDS 1000
#define MAX_ENUM 10
#define MIN_ENUM_RECORDS 20
#define MAX_ENUM_LEN 100

enum { F_DATE_TIME = 1, F_DATE = 2, F_UUID = 4, F_EMAIL = 8, F_ALL = 15 };

enum { K_NULL, K_BOOL, K_INT, K_NUM, K_STR, K_DATE, K_OID, K_OBJ, K_ARR, K_COUNT };

struct shape;

struct field {
	char *name;
	size_t len;
	struct shape *s;
};

struct shape {
	uint64_t seen;
	uint64_t n[K_COUNT];
	unsigned fmt;            /* formats every plain string here satisfied */
	char *vals[MAX_ENUM];
	size_t nvals;
	int enum_dead;
	struct field *fields;
	size_t nfields, cap;
	struct shape *extra;     /* fields past MAX_FIELDS */
	struct shape *items;
};

static struct shape *shape_new(void)
{
	struct shape *s = calloc(1, sizeof *s);
	if (s)
		s->fmt = F_ALL;
	return s;
}

static void shape_free(struct shape *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->nvals; i++)
		free(s->vals[i]);
	for (size_t i = 0; i < s->nfields; i++) {
		free(s->fields[i].name);
		shape_free(s->fields[i].s);
	}
	free(s->fields);
	shape_free(s->extra);
	shape_free(s->items);
	free(s);
}

static void enum_add(struct shape *s, const char *str, size_t len)
{
	if (s->enum_dead)
		return;
	if (len > MAX_ENUM_LEN || memchr(str, '\0', len)) {
		s->enum_dead = 1;
		return;
	}
	for (size_t i = 0; i < s->nvals; i++)
		if (strlen(s->vals[i]) == len && memcmp(s->vals[i], str, len) == 0)
			return;
	if (s->nvals == MAX_ENUM) {
		for (size_t i = 0; i < s->nvals; i++)
			free(s->vals[i]);
		s->nvals = 0;
		s->enum_dead = 1;
		return;
	}
	if (!(s->vals[s->nvals] = strndup(str, len)))
		s->enum_dead = 1;
	else
		s->nvals++;
}

static unsigned formats_of(const char *str, size_t len)
{
	static const struct { unsigned bit; const char *name; } f[] = {
		{ F_DATE_TIME, "date-time" }, { F_DATE, "date" }, { F_UUID, "uuid" }, { F_EMAIL, "email" },
	};
	unsigned r = 0;
	for (size_t i = 0; i < sizeof f / sizeof f[0]; i++)
		if (mig_format_check(f[i].name, str, len))
			r |= f[i].bit;
	return r;
}

static struct shape *field_of(struct shape *s, const char *k, size_t kl)
{
	for (size_t i = 0; i < s->nfields; i++)
		if (s->fields[i].len == kl && memcmp(s->fields[i].name, k, kl) == 0)
			return s->fields[i].s;
	if (s->nfields >= MAX_FIELDS)
		return s->extra ? s->extra : (s->extra = shape_new());
	if (s->nfields == s->cap) {
		size_t nc = s->cap ? s->cap * 2 : 8;
		struct field *p = realloc(s->fields, nc * sizeof *p);
		if (!p)
			return NULL;
		s->fields = p;
		s->cap = nc;
	}
	struct field *f = &s->fields[s->nfields];
	f->name = malloc(kl + 1);
	f->s = shape_new();
	if (!f->name || !f->s) {
		free(f->name);
		shape_free(f->s);
		return NULL;
	}
	memcpy(f->name, k, kl);
	f->name[kl] = '\0';
	f->len = kl;
	s->nfields++;
	return f->s;
}

static int see(struct shape *s, const json_t *v)
{
	s->seen++;
	switch (mig_value_type(v)) {
	case MIG_V_NULL: s->n[K_NULL]++; return 0;
	case MIG_V_BOOL: s->n[K_BOOL]++; return 0;
	case MIG_V_INT: s->n[K_INT]++; return 0;
	case MIG_V_DOUBLE:
	case MIG_V_DECIMAL: s->n[K_NUM]++; return 0;
	case MIG_V_DATE:
		s->n[K_DATE]++;
		s->fmt &= F_DATE_TIME;
		s->enum_dead = 1;
		return 0;
	case MIG_V_OID:
		s->n[K_OID]++;
		s->enum_dead = 1;
		return 0;
	case MIG_V_STRING:
		s->n[K_STR]++;
		if (s->fmt)
			s->fmt &= formats_of(json_string_value(v), json_string_length(v));
		enum_add(s, json_string_value(v), json_string_length(v));
		return 0;
	case MIG_V_ARRAY: {
		size_t i;
		json_t *x;
		s->n[K_ARR]++;
		json_array_foreach(v, i, x) {
			if (!s->items && !(s->items = shape_new()))
				return -1;
			if (see(s->items, x))
				return -1;
		}
		return 0;
	}
	default: {
		/* plain objects, and the wrappers that stay objects */
		s->n[K_OBJ]++;
		for (void *it = json_object_iter((json_t *)v); it;
		     it = json_object_iter_next((json_t *)v, it)) {
			struct shape *f = field_of(s, json_object_iter_key(it),
						   json_object_iter_key_len(it));
			if (!f || see(f, json_object_iter_value(it)))
				return -1;
		}
		return 0;
	}
	}
}

/* ---- the schema ---- */

static json_t *to_schema(const struct shape *s);

static json_t *object_part(const struct shape *s, json_t *o)
{
	json_t *props = json_object(), *req = json_array();

	for (size_t i = 0; i < s->nfields; i++) {
		const struct field *f = &s->fields[i];
		json_object_set_new(props, f->name, to_schema(f->s));
		/* present in every object seen here (extra-field shapes aside) */
		if (f->s->seen == s->n[K_OBJ])
			json_array_append_new(req, json_stringn(f->name, f->len));
	}
	if (json_object_size(props))
		json_object_set_new(o, "properties", props);
	else
		json_decref(props);
	if (json_array_size(req))
		json_object_set_new(o, "required", req);
	else
		json_decref(req);
	if (s->extra)
		json_object_set_new(o, "additionalProperties", to_schema(s->extra));
	return o;
}

static json_t *to_schema(const struct shape *s)
{
	json_t *o = json_object(), *types = json_array(), *counts;
	uint64_t strs = s->n[K_STR] + s->n[K_DATE] + s->n[K_OID];
	uint64_t nums = s->n[K_INT] + s->n[K_NUM];

	if (s->n[K_NULL])
		json_array_append_new(types, json_string("null"));
	if (s->n[K_BOOL])
		json_array_append_new(types, json_string("boolean"));
	if (nums)
		json_array_append_new(types, json_string(s->n[K_NUM] ? "number" : "integer"));
	if (strs)
		json_array_append_new(types, json_string("string"));
	if (s->n[K_OBJ])
		json_array_append_new(types, json_string("object"));
	if (s->n[K_ARR])
		json_array_append_new(types, json_string("array"));
	if (json_array_size(types) == 1)
		json_object_set(o, "type", json_array_get(types, 0));
	else if (json_array_size(types) > 1)
		json_object_set(o, "type", types);
	json_decref(types);
	if (strs) {
		if (s->n[K_OID] == strs) {
			json_object_set_new(o, "pattern", json_string("^[0-9a-fA-F]{24}$"));
		} else if (!s->n[K_OID]) {
			unsigned f = s->fmt;
			const char *name = (f & F_DATE_TIME) ? "date-time"
					   : s->n[K_DATE] ? NULL
					   : (f & F_DATE) ? "date" : (f & F_UUID) ? "uuid"
					   : (f & F_EMAIL) ? "email" : NULL;
			if (name && s->n[K_STR] + s->n[K_DATE] > 0)
				json_object_set_new(o, "format", json_string(name));
		}
		if (!s->enum_dead && s->nvals && s->n[K_STR] == strs &&
		    s->n[K_STR] + s->n[K_NULL] == s->seen && s->seen >= MIN_ENUM_RECORDS) {
			json_t *e = json_array();
			for (size_t i = 0; i < s->nvals; i++)
				json_array_append_new(e, json_string(s->vals[i]));
			if (s->n[K_NULL])
				json_array_append_new(e, json_null());
			json_object_set_new(o, "enum", e);
		}
	}
	if (s->n[K_OBJ])
		object_part(s, o);
	if (s->n[K_ARR] && s->items)
		json_object_set_new(o, "items", to_schema(s->items));
	counts = json_pack("{s:I}", "count", (json_int_t)s->seen);
	if (json_object_size(o) && json_is_array(json_object_get(o, "type"))) {
		static const char *const names[K_COUNT] = {
			"null", "boolean", "integer", "number", "string", "date", "oid", "object", "array"
		};
		json_t *t = json_object();
		for (int k = 0; k < K_COUNT; k++)
			if (s->n[k])
				json_object_set_new(t, names[k], json_integer((json_int_t)s->n[k]));
		json_object_set_new(counts, "types", t);
	}
	json_object_set_new(o, "x-mig", counts);
	return o;
}

int mig_infer_run(const struct mig_infer_cfg *cfg, json_t **out, uint64_t *records,
		  struct mig_error *err)
{
	struct mig_reader *rd = NULL;
	struct mig_progress *pg = NULL;
	struct shape *root = shape_new();
	struct mig_line line;
	json_t *v, *schema = NULL, *body;
	int rc;

	*out = NULL;
	*records = 0;
	if (!root)
		return mig_error_set(err, MIG_ENOMEM, "out of memory");
	rc = mig_reader_open(&rd, cfg->input, cfg->max_line, err);
	if (rc)
		goto out;
	pg = mig_progress_start(cfg->progress, "records", mig_reader_size(rd));
	for (;;) {
		if (mig_interrupted) {
			rc = mig_error_set(err, MIG_EINTR, "interrupted");
			break;
		}
		rc = mig_reader_next(rd, &line, err);
		if (rc == MIG_DONE) {
			rc = 0;
			break;
		}
		if (rc)
			break;
		rc = cfg->values ? mig_value_parse(&v, &line, mig_reader_name(rd), err)
				 : mig_record_parse(&v, &line, mig_reader_name(rd), err);
		if (rc)
			break;
		rc = see(root, v) ? mig_error_set(err, MIG_ENOMEM, "out of memory") : 0;
		json_decref(v);
		if (rc)
			break;
		(*records)++;
		mig_progress_update(pg, *records, mig_reader_offset(rd));
	}
	mig_progress_end(pg);
	if (rc)
		goto out;
	schema = json_pack("{s:s}", "$schema", "https://json-schema.org/draft/2020-12/schema");
	body = to_schema(root);
	if (!schema || !body) {
		json_decref(body);
		rc = mig_error_set(err, MIG_ENOMEM, "out of memory");
		goto out;
	}
	json_object_update(schema, body);
	json_decref(body);
	json_object_set_new(json_object_get(schema, "x-mig"), "records",
			    json_integer((json_int_t)*records));
	*out = schema;
	schema = NULL;
out:
	json_decref(schema);
	mig_reader_close(rd);
	shape_free(root);
	return rc;
}
