/* mig-map - reshape NDJSON records by a mapping (mig-map(5)). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mig/cli.h"
#include "common.h"
#include "mig/locator.h"
#include "mig/log.h"
#include "mig/map.h"

#define USAGE "usage: mig-map [options] (MAPPING | -e TEXT)"

static const char help[] =
	USAGE "\n"
	"Read NDJSON records from stdin, reshape each by the mapping (a file, or the\n"
	"statements of -e separated by ';'), write them to stdout.  See mig-map(5).\n"
	"\n"
	"  -e, --expression TEXT  the mapping itself instead of a file\n"
	"  --check             compile the mapping, report, read no input\n"
	"  -i, --input FILE    read FILE instead of stdin (FILE.zst: decompressed)\n"
	"  -o, --output FILE   write FILE instead of stdout (FILE.zst: compressed)\n"
	"  --strict            a field missing from a record is an error, not null\n"
	"  --on-error WHAT     a runtime error: reject (default) the record, null (the\n"
	"                      failing expression yields null), fail (stop, exit 1)\n"
	"  --reject FILE       write rejected records to FILE and go on\n"
	"  --max-errors N      stop (exit 1) past N rejects (0; no limit with --reject)\n"
	"  --salt SALT         hash()'s salt: a string, env:VAR or @FILE\n"
	"  --memory SIZE       dedupe/group state kept in memory before spilling to\n"
	"                      temporary files in $TMPDIR (64M; k/M/G suffixes)\n"
	"  --max-line N        longest input line, bytes, k/M/G suffixes (64M)\n"
	"  --canonical         write canonical Extended JSON\n"
	"  --plain             write plain JSON (dates and decimals as strings)\n"
	MIG_COMMON_HELP
	"\n"
	"Exit status: 0 ok, 1 rejects over --max-errors, 2 usage or mapping error,\n"
	"3 a file, a lookup or the output failed, 4 interrupted.  See mig-map(1).\n";

enum {
	OPT_CHECK = MIG_OPT_FIRST_OWN, OPT_STRICT, OPT_ON_ERROR, OPT_REJECT, OPT_MAX_ERRORS,
	OPT_SALT, OPT_MEMORY, OPT_MAX_LINE, OPT_CANONICAL, OPT_PLAIN
};

static const struct option longopts[] = {
	MIG_COMMON_LONGOPTS,
	{ "expression", required_argument, NULL, 'e' },
	{ "input", required_argument, NULL, 'i' },
	{ "output", required_argument, NULL, 'o' },
	{ "check", no_argument, NULL, OPT_CHECK },
	{ "strict", no_argument, NULL, OPT_STRICT },
	{ "on-error", required_argument, NULL, OPT_ON_ERROR },
	{ "reject", required_argument, NULL, OPT_REJECT },
	{ "max-errors", required_argument, NULL, OPT_MAX_ERRORS },
	{ "salt", required_argument, NULL, OPT_SALT },
	{ "memory", required_argument, NULL, OPT_MEMORY },
	{ "max-line", required_argument, NULL, OPT_MAX_LINE },
	{ "canonical", no_argument, NULL, OPT_CANONICAL },
	{ "plain", no_argument, NULL, OPT_PLAIN },
	{ NULL, 0, NULL, 0 }
};

struct config {
	struct mig_map_cfg r;
	struct mig_map_opts o;
	const char *file;
	const char *expr;
	const char *salt_arg;
	int check;
	int max_errors_set;
};

/* Returns -1 to go on, or an exit code. */
static int parse_args(struct mig_cli *cli, struct config *c, int argc, char **argv)
{
	int opt;
	uint64_t n;

	c->r.max_errors = 0;
	while ((opt = getopt_long(argc, argv, "hqve:i:o:", longopts, NULL)) != -1) {
		int crc = common_option(cli, opt, optarg, help);
		if (crc != MIG_CLI_NOT_COMMON) {
			if (crc >= 0)
				return crc;
			continue;
		}
		switch (opt) {
		case 'e': c->expr = optarg; break;
		case 'i': c->r.input = optarg; break;
		case 'o': c->r.output = optarg; break;
		case OPT_CHECK: c->check = 1; break;
		case OPT_STRICT: c->o.strict = 1; break;
		case OPT_ON_ERROR:
			if (strcmp(optarg, "reject") == 0)
				c->o.on_error = MIG_MAP_REJECT;
			else if (strcmp(optarg, "null") == 0)
				c->o.on_error = MIG_MAP_NULL;
			else if (strcmp(optarg, "fail") == 0)
				c->o.on_error = MIG_MAP_FAIL;
			else
				return mig_cli_usage_error(cli, "--on-error takes reject, null or "
							   "fail, not '%s'", optarg);
			break;
		case OPT_REJECT: c->r.reject_path = optarg; break;
		case OPT_MAX_ERRORS:
			if (mig_parse_u64(optarg, &n) || n > INT64_MAX)
				return mig_cli_usage_error(cli, "--max-errors takes a count, not '%s'",
							   optarg);
			c->r.max_errors = (int64_t)n;
			c->max_errors_set = 1;
			break;
		case OPT_SALT: c->salt_arg = optarg; break;
		case OPT_MEMORY:
			if (mig_parse_size(optarg, &n) || n < 4096)
				return mig_cli_usage_error(cli, "--memory takes a size of 4k or more, "
							   "not '%s'", optarg);
			c->o.memory = n;
			break;
		case OPT_MAX_LINE:
			if (mig_parse_size(optarg, &n) || n == 0 || n > SIZE_MAX / 2)
				return mig_cli_usage_error(cli, "--max-line takes a size, not '%s'",
							   optarg);
			c->r.max_line = (size_t)n;
			break;
		case OPT_CANONICAL: c->r.mode = MIG_JSON_CANONICAL; break;
		case OPT_PLAIN: c->r.mode = MIG_JSON_PLAIN; break;
		default:
			return mig_cli_usage_error(cli, NULL);
		}
	}
	if (c->expr && optind != argc)
		return mig_cli_usage_error(cli, "a MAPPING file and -e: give one");
	if (!c->expr && optind != argc - 1)
		return mig_cli_usage_error(cli, optind >= argc ? "a MAPPING file or -e TEXT is needed"
							       : "one MAPPING file only");
	if (!c->expr)
		c->file = argv[optind];
	if (c->r.reject_path && !c->max_errors_set)
		c->r.max_errors = -1;
	c->r.progress = cli->progress;
	return -1;
}

/* Reads a whole (small) file; MIG_EUSAGE when it cannot be read. */
static int read_file(const char *path, char **out, size_t *len, struct mig_error *err)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t n = 0, cap = 0;
	int rc = 0;

	if (!f)
		return mig_error_set(err, MIG_EUSAGE, "%s: %s", path, strerror(errno));
	for (;;) {
		if (n + 4096 > cap) {
			char *nb = cap >= ((size_t)16 << 20) ? NULL : realloc(buf, cap ? cap * 2 : 8192);
			if (!nb) {
				rc = mig_error_set(err, MIG_EUSAGE, "%s: too large for a mapping", path);
				break;
			}
			buf = nb;
			cap = cap ? cap * 2 : 8192;
		}
		size_t k = fread(buf + n, 1, cap - n - 1, f);
		n += k;
		if (k == 0) {
			if (ferror(f))
				rc = mig_error_set(err, MIG_EUSAGE, "%s: %s", path, strerror(errno));
			break;
		}
	}
	fclose(f);
	if (rc) {
		free(buf);
		return rc;
	}
	buf[n] = '\0';
	*out = buf;
	*len = n;
	return 0;
}

/* --salt: env:VAR, @FILE (its first line) or the string itself. */
static int resolve_salt(const char *arg, char **out, struct mig_error *err)
{
	size_t n;

	*out = NULL;
	if (!arg)
		return 0;
	if (strncmp(arg, "env:", 4) == 0) {
		const char *v = getenv(arg + 4);
		if (!v)
			return mig_error_set(err, MIG_EUSAGE, "--salt %s: the variable is not set", arg);
		*out = strdup(v);
	} else if (arg[0] == '@') {
		int rc = read_file(arg + 1, out, &n, err);
		if (rc)
			return mig_error_prefix(err, "--salt");
		(*out)[strcspn(*out, "\r\n")] = '\0';
	} else {
		*out = strdup(arg);
	}
	return *out ? 0 : mig_error_set(err, MIG_ENOMEM, "out of memory");
}

static json_t *report_of(const struct config *c, const struct mig_map_stats *s,
			 const struct mig_map_counts *k, const char *mapping)
{
	return json_pack("{s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, "
			 "s:s?}",
			 "mapping", mapping,
			 "input", c->r.input ? c->r.input : "stdin",
			 "output", c->r.output ? c->r.output : "stdout",
			 "read", (json_int_t)s->read, "written", (json_int_t)s->written,
			 "rejected", (json_int_t)s->rejected, "filtered", (json_int_t)k->filtered,
			 "errors", (json_int_t)k->errors, "nulled", (json_int_t)k->nulled,
			 "exploded", (json_int_t)k->exploded, "duplicates", (json_int_t)k->duplicates,
			 "groups", (json_int_t)k->groups, "spilled_bytes", (json_int_t)k->spilled,
			 "reject_file", c->r.reject_path);
}

static void summary(const struct config *c, const struct mig_map_stats *s,
		    const struct mig_map_counts *k, double secs)
{
	char extra[512] = "";
	size_t o = 0;

#define ADD(cond, ...) do { if ((cond) && o < sizeof extra) \
	o += (size_t)snprintf(extra + o, sizeof extra - o, __VA_ARGS__); } while (0)
	ADD(k->exploded, ", %llu exploded", (unsigned long long)k->exploded);
	ADD(k->duplicates, ", %llu duplicates dropped", (unsigned long long)k->duplicates);
	ADD(k->groups, ", %llu groups", (unsigned long long)k->groups);
	ADD(k->nulled, ", %llu errors made null", (unsigned long long)k->nulled);
	ADD(k->spilled, ", %.1f MB spilled", (double)k->spilled / 1048576);
	ADD(c->r.reject_path && s->rejected, " (rejects in %s)", c->r.reject_path);
#undef ADD
	mig_info("%s: %llu read, %llu written, %llu filtered, %llu rejected%s in %.2f s "
		 "(%.0f rec/s)", c->r.input ? c->r.input : "stdin", (unsigned long long)s->read,
		 (unsigned long long)s->written, (unsigned long long)k->filtered,
		 (unsigned long long)s->rejected, extra, secs,
		 secs > 0 ? (double)s->read / secs : 0.0);
}

int main(int argc, char **argv)
{
	struct mig_cli cli;
	struct config c = { 0 };
	struct mig_error err = { 0 };
	struct mig_map_diag diag;
	struct mig_map *m = NULL;
	struct mig_map_stats s = { 0 };
	char *src = NULL, *salt = NULL;
	const char *mapping;
	size_t len = 0;
	double t0;
	int rc;

	mig_cli_init(&cli, "mig-map", USAGE);
	rc = parse_args(&cli, &c, argc, argv);
	if (rc >= 0)
		return rc;
	mapping = c.file ? c.file : "-e";
	if (c.file) {
		rc = read_file(c.file, &src, &len, &err);
	} else {
		len = strlen(c.expr);
		src = strdup(c.expr);
		rc = src ? 0 : mig_error_set(&err, MIG_ENOMEM, "out of memory");
	}
	if (!rc)
		rc = resolve_salt(c.salt_arg, &salt, &err);
	if (rc) {
		rc = mig_cli_finish(&cli, rc, &err, NULL);
		goto out;
	}
	c.o.salt = salt;
	c.o.salt_len = salt ? strlen(salt) : 0;
	rc = mig_map_compile(&m, src, len, mapping, &c.o, &diag, &err);
	if (rc) {
		rc = mig_cli_finish(&cli, rc, &err, NULL);
		if (diag.line)
			fprintf(stderr, "    %s\n    %s\n", diag.text, diag.caret);
		goto out;
	}
	if (c.check) {
		json_t *d = mig_map_describe(m);
		struct mig_buf st, f;
		/* (json_dumps would hand back memory of Jansson's allocator) */
		mig_buf_init(&st, 0);
		mig_buf_init(&f, 0);
		mig_value_write(&st, json_object_get(d, "stages"), MIG_JSON_RELAXED);
		mig_value_write(&f, json_object_get(d, "fields"), MIG_JSON_RELAXED);
		mig_info("%s: ok: %lld statements, stages %s, fields %s", mapping,
			 (long long)json_integer_value(json_object_get(d, "statements")),
			 st.data ? st.data : "?", f.data ? f.data : "?");
		mig_buf_free(&st);
		mig_buf_free(&f);
		rc = mig_cli_finish(&cli, 0, &err, d);
		goto out;
	}
	t0 = mig_now();
	rc = mig_map_open_lookups(m, &err);
	if (!rc)
		rc = mig_map_run(m, &c.r, &s, &err);
	if (rc != MIG_EUSAGE || s.read)
		summary(&c, &s, mig_map_counts(m), mig_now() - t0);
	rc = mig_cli_finish(&cli, rc, &err, report_of(&c, &s, mig_map_counts(m), mapping));
out:
	mig_map_free(m);
	if (salt)
		memset(salt, 0, strlen(salt));
	free(salt);
	free(src);
	return rc;
}
