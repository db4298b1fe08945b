/*
 * mig/value.h - typed values: MongoDB Extended JSON v2 on Jansson's json_t.
 *
 * A record is a json_t object.  Typed values stay in it as their Extended
 * JSON wrapper objects, exactly as read: {"$date": ...}, {"$numberDecimal":
 * "12.50"}, {"$oid": ...}, {"$binary": {...}}, {"$numberLong": "7"},
 * {"$numberDouble": "NaN"}, ...  Both the relaxed and the canonical forms
 * are accepted everywhere; this module classifies, checks, builds, compares
 * and prints them, and converts records to and from libbson's bson_t.
 *
 * In-memory conventions (what producers build):
 *   - int32/int64        json_integer (Jansson's json_int_t is 64-bit)
 *   - finite double      json_real; a non-finite one is the wrapper
 *                        {"$numberDouble": "NaN" | "Infinity" | "-Infinity"}
 *                        (Jansson cannot hold NaN or infinities)
 *   - date               {"$date": "YYYY-MM-DDTHH:MM:SS[.fff[fff]]Z"}
 *                        (mig_value_date() builds it; microseconds kept)
 *   - a producer that must keep int64 apart from int32 for --canonical
 *     (the MongoDB backend) builds {"$numberLong": "N"} for int64 values.
 *
 * Ownership follows Jansson: functions named *_new or returning json_t *
 * hand the caller a new reference; const json_t * arguments are borrowed.
 */
#ifndef MIG_VALUE_H
#define MIG_VALUE_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "mig/buf.h"
#include "mig/error.h"

/* How records are printed. */
enum mig_json_mode {
	MIG_JSON_RELAXED = 0,  /* Extended JSON v2 relaxed (default) */
	MIG_JSON_CANONICAL,    /* canonical: $numberInt/$numberLong/$numberDouble */
	MIG_JSON_PLAIN         /* wrappers flattened to plain JSON */
};

/* What a json_t stands for once wrappers are recognised. */
enum mig_vtype {
	MIG_V_NULL,
	MIG_V_BOOL,
	MIG_V_INT,        /* json integer, {"$numberInt"}, {"$numberLong"} */
	MIG_V_DOUBLE,     /* json real, {"$numberDouble"} */
	MIG_V_STRING,
	MIG_V_OBJECT,     /* a plain document (including DBRef-like objects) */
	MIG_V_ARRAY,
	MIG_V_DATE,       /* {"$date": ISO string | {"$numberLong": ms}} */
	MIG_V_DECIMAL,    /* {"$numberDecimal": "..."} */
	MIG_V_OID,        /* {"$oid": "24 hex"} */
	MIG_V_BINARY,     /* {"$binary": {"base64", "subType"}}, {"$uuid": ...} */
	MIG_V_TIMESTAMP,  /* {"$timestamp": {"t", "i"}} */
	MIG_V_REGEX,      /* {"$regularExpression": {"pattern", "options"}} */
	MIG_V_CODE,       /* {"$code": ...} */
	MIG_V_CODEWS,     /* {"$code": ..., "$scope": {...}} */
	MIG_V_SYMBOL,     /* {"$symbol": ...} */
	MIG_V_DBPOINTER,  /* {"$dbPointer": {...}} */
	MIG_V_MINKEY,
	MIG_V_MAXKEY,
	MIG_V_UNDEFINED,
	MIG_V_INVALID     /* an object that uses a wrapper key but is malformed */
};

/* Classifies v.  Cheap for plain values; for an object it looks only at
 * its first key unless that key starts with '$'.  A well-formed wrapper
 * gives its type; a malformed one (wrong members, bad payload) gives
 * MIG_V_INVALID; an object whose keys merely start with '$' but are not
 * wrapper keys ($ref/$id/$db, unknown $keys) is MIG_V_OBJECT. */
enum mig_vtype mig_value_type(const json_t *v);

/* A short name of a type: "null", "bool", "int", "double", "string",
 * "object", "array", "date", "decimal", "oid", "binary", ... */
const char *mig_vtype_name(enum mig_vtype t);

/* Checks every wrapper in v, recursively; on the first malformed one
 * returns MIG_EDATA with a message naming its JSON pointer path and why
 * ("/a/b: $date: not an ISO-8601 date-time: \"x\""). */
int mig_value_check(const json_t *v, struct mig_error *err);

/* Accessors.  Each returns 0, or MIG_EDATA (with err set) when v is not of
 * that type or its payload is malformed. */
int mig_value_get_int(const json_t *v, int64_t *out, struct mig_error *err);
int mig_value_get_double(const json_t *v, double *out, struct mig_error *err);
/* Microseconds since the Unix epoch, UTC. */
int mig_value_get_date(const json_t *v, int64_t *out_us, struct mig_error *err);
/* Borrowed pointer into v: the decimal's string, validated as a Decimal128
 * literal ("NaN", "Infinity" and the like included) or as a finite decimal
 * of any length (PostgreSQL's numeric); mig_value_to_bson refuses one that
 * does not fit Decimal128. */
int mig_value_get_decimal(const json_t *v, const char **out, struct mig_error *err);
/* 12 bytes. */
int mig_value_get_oid(const json_t *v, uint8_t out[12], struct mig_error *err);
/* Decoded bytes, malloc'd (caller frees); *out_len may be 0. */
int mig_value_get_binary(const json_t *v, uint8_t **out, size_t *out_len,
			 int *out_subtype, struct mig_error *err);

/* Constructors; each returns a new reference, or NULL on ENOMEM. */
json_t *mig_value_date(int64_t us);
json_t *mig_value_decimal(const char *digits);          /* not validated */
json_t *mig_value_oid(const uint8_t oid[12]);
json_t *mig_value_binary(const void *p, size_t n, int subtype);
json_t *mig_value_double(double d);   /* json_real, or the wrapper if non-finite */
json_t *mig_value_long(int64_t n);    /* {"$numberLong": "n"} */

/* Dates.  mig_date_parse accepts RFC 3339 / ISO-8601 date-times: a 'T' or
 * ' ' separator, seconds optional, 0-9 fractional digits (kept to the
 * microsecond, truncated), 'Z', +HH:MM, +HHMM or +HH offsets, or no zone
 * (taken as UTC); also a bare YYYY-MM-DD (midnight UTC).  Returns 0 or
 * MIG_EDATA (err may be NULL). */
int mig_date_parse(const char *s, size_t len, int64_t *out_us, struct mig_error *err);
/* Writes "YYYY-MM-DDTHH:MM:SS.fffZ", with six fractional digits when the
 * value has sub-millisecond precision.  out must hold 40 bytes.  Returns
 * the length.  Years outside 0..9999 are printed with a sign and more
 * digits (still parseable by mig_date_parse). */
int mig_date_format(char *out, int64_t us);

/* Appends v to b as JSON text in the given mode, compact, no newline.
 * Strings are escaped per RFC 8259 (control characters and '"' '\\';
 * UTF-8 passes through unescaped).  Doubles print the shortest text that
 * reads back to the same double, always with a '.' or exponent (1.0,
 * -0.0, 1.2345678921232e+18).
 *   RELAXED   canonical number wrappers become plain numbers where that is
 *             lossless ($numberInt, $numberLong, finite $numberDouble);
 *             $date prints as the ISO string (canonical $date input too,
 *             within years 1970..9999, else {"$date":{"$numberLong"}});
 *             other wrappers are printed in their relaxed form.
 *   CANONICAL ints print as {"$numberInt"} or {"$numberLong"} by range,
 *             reals as {"$numberDouble"}, dates as {"$date":{"$numberLong":
 *             ms}} - except a date with sub-millisecond precision, which
 *             keeps its ISO string so that nothing is lost.
 *   PLAIN     dates -> ISO string, decimals -> string, oid -> hex string,
 *             binary -> base64 string, non-finite doubles -> "NaN",
 *             "Infinity", "-Infinity", timestamp -> {"t","i"}, regex ->
 *             "/pattern/options", undefined -> null, other wrappers -> their
 *             payload.
 * A malformed wrapper is printed as the plain object it is.
 * Returns 0, MIG_ENOMEM, or MIG_EDATA when b's cap is reached. */
int mig_value_write(struct mig_buf *b, const json_t *v, enum mig_json_mode mode);
/* Appends the JSON string of the n bytes s (UTF-8), quoted and escaped
 * exactly as mig_value_write() prints a string value, in every mode. */
int mig_value_write_str(struct mig_buf *b, const char *s, size_t n);

/* Semantic equality: wrappers compare by the value they stand for, so
 * {"$numberInt":"1"} == 1 == {"$numberLong":"1"} and a canonical $date
 * equals the ISO form of the same instant.  Types stay apart: an int never
 * equals a double (1 != 1.0), a date never equals a string.  Doubles
 * compare by value (NaN equals NaN here, -0.0 does not equal 0.0);
 * decimals by their exact string ("1.0" != "1.00"); binaries by subtype
 * and bytes; objects key by key regardless of order; arrays element by
 * element.  Returns 1 or 0. */
int mig_value_equal(const json_t *a, const json_t *b);

/* A total order for sorting and bookmarks: null < numbers (int, double,
 * decimal by value) < strings (bytewise) < objects < arrays < binary <
 * oid < bool < date < timestamp < regex < others (the BSON order).
 * Returns <0, 0, >0. */
int mig_value_cmp(const json_t *a, const json_t *b);

/* json_t object <-> BSON document, directly through bson_append_* and
 * bson_iter (never through libbson's Extended JSON text functions).
 * to_bson: doc must be a JSON object; out must be an initialised empty
 * bson_t (bson_init).  Plain integers become int32 when they fit, else
 * int64; reals become doubles; every wrapper becomes its BSON type.  A key
 * holding a NUL, or a malformed wrapper, is MIG_EDATA naming its path.
 * from_bson: returns a new json_t object in *out.  In CANONICAL mode int64
 * values become {"$numberLong"} so that they print apart from int32; in
 * the other modes they become plain integers.  Doubles that hold an
 * integral value become json_real (so 1.0 stays 1.0). */
struct _bson_t;
int mig_value_to_bson(struct _bson_t *out, const json_t *doc, struct mig_error *err);
int mig_value_from_bson(json_t **out, const struct _bson_t *doc,
			enum mig_json_mode mode, struct mig_error *err);

/* Length of the valid UTF-8 sequence at p (lead byte >= 0x80) before
 * end, or 0: no overlong forms, no surrogates, nothing above U+10FFFF. */
static inline size_t mig_utf8_len(const unsigned char *p, const unsigned char *end)
{
	unsigned c = p[0];
	size_t k;

	if (c >= 0xC2 && c <= 0xDF)
		k = 1;
	else if (c >= 0xE0 && c <= 0xEF)
		k = 2;
	else if (c >= 0xF0 && c <= 0xF4)
		k = 3;
	else
		return 0;
	if ((size_t)(end - p) <= k)
		return 0;
	for (size_t i = 1; i <= k; i++)
		if ((p[i] & 0xC0) != 0x80)
			return 0;
	if ((c == 0xE0 && p[1] < 0xA0) || (c == 0xED && p[1] > 0x9F) ||
	    (c == 0xF0 && p[1] < 0x90) || (c == 0xF4 && p[1] > 0x8F))
		return 0;
	return k + 1;
}

/* The value of a hex digit, or -1. */
static inline int mig_hex_digit(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Base64 (RFC 4648, padded).  encode returns a malloc'd NUL-terminated
 * string; decode returns 0 or MIG_EDATA and a malloc'd buffer. */
char *mig_base64_encode(const void *p, size_t n);
int mig_base64_decode(const char *s, size_t len, uint8_t **out, size_t *out_len);

#endif
