/* mig-validate - pass valid records through, divert the rest; or infer a schema. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mig/cli.h"
#include "common.h"
#include "mig/log.h"
#include "mig/validate.h"

#define USAGE "usage: mig-validate [options] [SCHEMA]"

static const char help[] =
	USAGE "\n"
	"       mig-validate --infer [options]\n"
	"Read NDJSON records from stdin (or --input); write the valid ones to stdout,\n"
	"unchanged, and divert the rest.  SCHEMA is a JSON Schema (draft 2020-12, or\n"
	"draft-07 by its $schema); it may be left out when --unique, --ref or --absent\n"
	"is given.\n"
	"\n"
	"  -i, --input FILE       read FILE instead of stdin (FILE.zst: decompressed)\n"
	"  --values               each line may be any JSON value, not only an object\n"
	"  --formats              assert \"format\" (date-time, date, time, email, uuid,\n"
	"                         ipv4, ipv6, uri, hostname, ...), not only annotate\n"
	"  --schema-map URL=DIR   read $refs under URL from the directory DIR (repeatable;\n"
	"                         the network is never used)\n"
	"  --unique PATH[,PATH]   no two records may share this key (repeatable)\n"
	"  --ref PATH=LOCATOR#FIELD\n"
	"                         every PATH value must be a FIELD value of LOCATOR\n"
	"                         (a file or a store; repeatable)\n"
	"  --absent PATH=LOCATOR#FIELD\n"
	"                         no PATH value may be a FIELD value of LOCATOR: a\n"
	"                         record whose value is found there is invalid\n"
	"  --reject FILE          write invalid records to FILE, with their errors\n"
	"  --max-invalid N|N%     exit 1 when more records than this are invalid (0)\n"
	"  --max-line N           longest input line, bytes, k/M/G suffixes (64M)\n"
	"  --infer                write a JSON Schema describing the input to stdout\n"
	MIG_COMMON_HELP
	"\n"
	"PATH is a dotted field path (customer.id) or a JSON pointer (/customer/id).\n"
	"Exit status: 0 ok, 1 more invalid records than --max-invalid, 2 usage or an\n"
	"invalid schema, 3 file or store error, 4 interrupted.  See mig-validate(1).\n";

enum {
	OPT_VALUES = MIG_OPT_FIRST_OWN, OPT_FORMATS, OPT_SCHEMA_MAP, OPT_UNIQUE, OPT_REF,
	OPT_ABSENT, OPT_REJECT, OPT_MAX_INVALID, OPT_MAX_LINE, OPT_INFER
};

static const struct option longopts[] = {
	MIG_COMMON_LONGOPTS,
	{ "input", required_argument, NULL, 'i' },
	{ "values", no_argument, NULL, OPT_VALUES },
	{ "formats", no_argument, NULL, OPT_FORMATS },
	{ "schema-map", required_argument, NULL, OPT_SCHEMA_MAP },
	{ "unique", required_argument, NULL, OPT_UNIQUE },
	{ "ref", required_argument, NULL, OPT_REF },
	{ "absent", required_argument, NULL, OPT_ABSENT },
	{ "reject", required_argument, NULL, OPT_REJECT },
	{ "max-invalid", required_argument, NULL, OPT_MAX_INVALID },
	{ "max-line", required_argument, NULL, OPT_MAX_LINE },
	{ "infer", no_argument, NULL, OPT_INFER },
	{ NULL, 0, NULL, 0 }
};

struct config {
	struct mig_validate_cfg v;
	struct mig_schema_opts so;
	const char *schema_path;
	const char **maps;
	size_t nmaps;
	const char **unique;
	struct mig_validate_ref *refs;
	char **refbufs;
	size_t nrefs;
	const char *max_invalid_arg;
	uint64_t max_invalid;
	double max_invalid_pct;   /* < 0: a count */
	int infer;
};

static int push(struct mig_cli *cli, const char ***arr, size_t *n, const char *s)
{
	const char **p = realloc(*arr, (*n + 2) * sizeof *p);
	if (!p)
		return mig_cli_usage_error(cli, "out of memory");
	p[(*n)++] = s;
	p[*n] = NULL;
	*arr = p;
	return -1;
}

/* --ref (or --absent) PATH=LOCATOR#FIELD: the field is after the last
 * '#', so that a locator's own #collection stays in the locator. */
static int add_ref(struct mig_cli *cli, struct config *c, const char *arg, int absent)
{
	char *buf = strdup(arg), *eq, *hash;
	struct mig_validate_ref *r;
	char **b;

	if (!buf)
		return mig_cli_usage_error(cli, "out of memory");
	eq = strchr(buf, '=');
	hash = strrchr(buf, '#');
	if (!eq || eq == buf || !hash || hash < eq || hash == eq + 1 || !hash[1]) {
		free(buf);
		return mig_cli_usage_error(cli, "--%s takes PATH=LOCATOR#FIELD, not '%s'",
					   absent ? "absent" : "ref", arg);
	}
	*eq = *hash = '\0';
	r = realloc(c->refs, (c->nrefs + 1) * sizeof *r);
	b = r ? realloc(c->refbufs, (c->nrefs + 1) * sizeof *b) : NULL;
	if (r)
		c->refs = r;
	if (!r || !b) {
		free(buf);
		return mig_cli_usage_error(cli, "out of memory");
	}
	c->refbufs = b;
	c->refbufs[c->nrefs] = buf;
	c->refs[c->nrefs++] = (struct mig_validate_ref){ buf, eq + 1, hash + 1, absent };
	return -1;
}

static int parse_max_invalid(struct config *c, const char *arg)
{
	size_t n = strlen(arg);
	char *end;

	c->max_invalid_arg = arg;
	if (n > 1 && arg[n - 1] == '%') {
		double pct = strtod(arg, &end);
		if (end != arg + n - 1 || !(pct >= 0 && pct <= 100) || arg[0] == '-' || arg[0] == ' ')
			return -1;
		c->max_invalid_pct = pct;
		return 0;
	}
	c->max_invalid_pct = -1;
	return mig_parse_u64(arg, &c->max_invalid);
}

/* Returns -1 to go on, or an exit code. */
static int parse_args(struct mig_cli *cli, struct config *c, int argc, char **argv)
{
	int opt, rc;
	uint64_t n;

	c->max_invalid_pct = -1;
	c->v.log_invalid = 10;
	while ((opt = getopt_long(argc, argv, "hqvi:", longopts, NULL)) != -1) {
		int crc = common_option(cli, opt, optarg, help);
		if (crc != MIG_CLI_NOT_COMMON) {
			if (crc >= 0)
				return crc;
			continue;
		}
		switch (opt) {
		case 'i': c->v.input = optarg; break;
		case OPT_VALUES: c->v.values = 1; break;
		case OPT_FORMATS: c->so.formats = 1; break;
		case OPT_SCHEMA_MAP:
			if (!strchr(optarg, '=') || optarg[0] == '=')
				return mig_cli_usage_error(cli, "--schema-map takes URL=DIR, not '%s'",
							   optarg);
			if ((rc = push(cli, &c->maps, &c->nmaps, optarg)) >= 0)
				return rc;
			break;
		case OPT_UNIQUE:
			if (!optarg[0] || strspn(optarg, ",") == strlen(optarg))
				return mig_cli_usage_error(cli, "--unique names no field");
			if ((rc = push(cli, &c->unique, &c->v.nunique, optarg)) >= 0)
				return rc;
			break;
		case OPT_REF:
		case OPT_ABSENT:
			if ((rc = add_ref(cli, c, optarg, opt == OPT_ABSENT)) >= 0)
				return rc;
			break;
		case OPT_REJECT: c->v.reject_path = optarg; break;
		case OPT_MAX_INVALID:
			if (parse_max_invalid(c, optarg))
				return mig_cli_usage_error(cli, "--max-invalid takes a count or a "
							   "percentage (N%%), not '%s'", optarg);
			break;
		case OPT_MAX_LINE:
			if (mig_parse_size(optarg, &n) || n == 0 || n > SIZE_MAX / 2)
				return mig_cli_usage_error(cli, "--max-line takes a size, not '%s'",
							   optarg);
			c->v.max_line = (size_t)n;
			break;
		case OPT_INFER: c->infer = 1; break;
		default:
			return mig_cli_usage_error(cli, NULL);
		}
	}
	if (argc - optind > 1)
		return mig_cli_usage_error(cli, "one SCHEMA only");
	if (optind < argc)
		c->schema_path = argv[optind];
	if (c->infer) {
		if (c->schema_path || c->v.nunique || c->nrefs || c->v.reject_path ||
		    c->max_invalid_arg)
			return mig_cli_usage_error(cli, "--infer takes no SCHEMA, --unique, --ref, "
						   "--absent, --reject or --max-invalid");
	} else if (!c->schema_path && !c->v.nunique && !c->nrefs) {
		return mig_cli_usage_error(cli, "a SCHEMA is needed (or --unique, --ref, --absent, "
					   "--infer)");
	}
	c->so.maps = c->maps;
	c->v.unique = c->unique;
	c->v.refs = c->refs;
	c->v.nrefs = c->nrefs;
	c->v.progress = cli->progress;
	return -1;
}

static void free_config(struct config *c)
{
	for (size_t i = 0; i < c->nrefs; i++)
		free(c->refbufs[i]);
	free(c->refbufs);
	free(c->refs);
	free(c->maps);
	free(c->unique);
}

static int run_infer(struct mig_cli *cli, struct config *c, json_t *report,
		     struct mig_error *err)
{
	struct mig_infer_cfg ic = { .input = c->v.input, .max_line = c->v.max_line,
				    .values = c->v.values, .progress = c->v.progress };
	json_t *schema = NULL;
	uint64_t records = 0;
	double t0 = mig_now();
	int rc;

	rc = mig_infer_run(&ic, &schema, &records, err);
	if (rc)
		return rc;
	if (json_dumpf(schema, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER) || putchar('\n') == EOF ||
	    fflush(stdout) || ferror(stdout))
		rc = mig_error_set(err, MIG_EIO, "stdout: write failed");
	json_decref(schema);
	double secs = mig_now() - t0;
	mig_cli_summary(cli, "%s: inferred a schema from %llu records in %.2f s",
		 c->v.input && strcmp(c->v.input, "-") ? c->v.input : "stdin",
		 (unsigned long long)records, secs);
	json_object_set_new(report, "records", json_integer((json_int_t)records));
	return rc;
}

/* The summary line, and the top error kinds when there were invalid records. */
static void summary(struct mig_cli *cli, const struct config *c,
		    const struct mig_validate_stats *s, double secs, const char *input)
{
	char top[1024] = "";
	json_t *kinds = mig_validate_top_kinds(s, 5), *k;
	size_t i, o = 0;

	json_array_foreach(kinds, i, k) {
		const char *p = json_string_value(json_object_get(k, "path"));
		o += (size_t)snprintf(top + o, o < sizeof top ? sizeof top - o : 0, "%s%s at %s (%lld)",
				      i ? ", " : "", json_string_value(json_object_get(k, "keyword")),
				      p && *p ? p : "/", (long long)json_integer_value(json_object_get(k, "count")));
	}
	json_decref(kinds);
	mig_cli_summary(cli, "%s: %llu read, %llu valid, %llu invalid%s%s%s in %.2f s "
			"(%.0f rec/s)%s%s", input,
		 (unsigned long long)s->read, (unsigned long long)s->valid,
		 (unsigned long long)s->invalid, c->v.reject_path && s->invalid ? " (" : "",
		 c->v.reject_path && s->invalid ? c->v.reject_path : "",
		 c->v.reject_path && s->invalid ? ")" : "", secs,
		 secs > 0 ? (double)s->read / secs : 0.0, s->invalid ? "; top errors: " : "",
		 s->invalid ? top : "");
}

int main(int argc, char **argv)
{
	struct mig_cli cli;
	struct config c = { 0 };
	struct mig_error err = { 0 };
	struct mig_schema *schema = NULL;
	struct mig_validate_stats s = { 0 };
	json_t *report;
	const char *input;
	double t0;
	int rc;

	mig_cli_init(&cli, "mig-validate", USAGE);   /* first: it sets the allocator */
	rc = parse_args(&cli, &c, argc, argv);
	if (rc >= 0) {
		free_config(&c);
		return rc;
	}
	report = json_object();
	input = c.v.input && strcmp(c.v.input, "-") ? c.v.input : "stdin";
	json_object_set_new(report, "input", json_string(input));
	if (c.infer) {
		rc = run_infer(&cli, &c, report, &err);
		goto out;
	}
	if (c.schema_path) {
		rc = mig_schema_compile_file(&schema, c.schema_path, &c.so, &err);
		if (rc)
			goto out;
		json_object_set_new(report, "schema", json_string(c.schema_path));
		json_object_set_new(report, "draft", json_string(mig_schema_draft(schema)));
	}
	c.v.schema = schema;
	t0 = mig_now();
	rc = mig_validate_run(&c.v, &s, &err);
	summary(&cli, &c, &s, mig_now() - t0, input);
	if (!rc) {
		int over = c.max_invalid_pct >= 0
			? (double)s.invalid * 100.0 > c.max_invalid_pct * (double)s.read
			: s.invalid > c.max_invalid;
		if (over)
			rc = mig_error_set(&err, MIG_EDATA, "%llu of %llu records invalid, more than "
					   "--max-invalid %s", (unsigned long long)s.invalid,
					   (unsigned long long)s.read,
					   c.max_invalid_arg ? c.max_invalid_arg : "0");
	}
	json_object_set_new(report, "read", json_integer((json_int_t)s.read));
	json_object_set_new(report, "valid", json_integer((json_int_t)s.valid));
	json_object_set_new(report, "invalid", json_integer((json_int_t)s.invalid));
	json_object_set_new(report, "reject_file", c.v.reject_path ? json_string(c.v.reject_path)
								    : json_null());
	json_object_set_new(report, "max_invalid", json_string(c.max_invalid_arg ? c.max_invalid_arg
										  : "0"));
	if (c.nrefs)
		json_object_set_new(report, "ref_values", json_integer((json_int_t)s.ref_values));
	json_object_set_new(report, "output_closed", json_boolean(s.output_closed));
	json_object_set_new(report, "errors", mig_validate_top_kinds(&s, 20));
	mig_validate_stats_free(&s);
out:
	mig_schema_free(schema);
	free_config(&c);
	return mig_cli_finish(&cli, rc, &err, report);
}
