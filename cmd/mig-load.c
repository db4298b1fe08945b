/* mig-load - write NDJSON records into a store. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mig/backend.h"
#include "mig/cli.h"
#include "common.h"
#include "mig/log.h"
#include "mig/run.h"

#define USAGE "usage: mig-load [options] LOCATOR"

static const char help[] =
	USAGE "\n"
	"Read NDJSON records from stdin (or --input) and write them to LOCATOR.\n"
	"\n"
	"  -i, --input FILE    read FILE instead of stdin (FILE.zst: decompressed)\n"
	"  --mode MODE         insert (default), upsert, replace, merge, update (existing\n"
	"                      records only) or delete (by key); all but insert need --key\n"
	"  --key F[,F...]      key fields; with --create they become the primary key\n"
	"  --on-conflict WHAT  a duplicate key on insert: fail (reject it), skip, overwrite, merge\n"
	"  --create            create the collection if it is missing, from the records\n"
	"  --schema FILE       with --create: create from this JSON Schema\n"
	"  --drop              drop the collection first\n"
	"  --truncate          empty the collection first\n"
	"  --dry-run           check and count everything, write nothing\n"
	"  --atomic            the whole load in one transaction: all or nothing\n"
	"  --batch-size N      records per batch and transaction (1000; Elasticsearch 10000)\n"
	"  --reject FILE       write rejected records to FILE and go on\n"
	"  --max-errors N      stop (exit 1) past N rejects (0; no limit with --reject)\n"
	"  --max-line N        longest input line, bytes, k/M/G suffixes (64M)\n"
	"  --retries N         retry a lost connection N times, with backoff (3)\n"
	"  --checkpoint FILE   record progress in FILE; a rerun resumes after it\n"
	"Elasticsearch only (the locator's parameters of the same names, which they override):\n"
	"  --parallel N        _bulk requests in flight at once, 1 to 64 (2)\n"
	"  --batch-bytes SIZE  largest _bulk request, k/M/G suffixes (5M)\n"
	"  --id-field F        the field that holds the document id (_id)\n"
	"  --routing-field F   the field whose value routes each document\n"
	"  --refresh[=WHEN]    refresh the index at the end: true (default), wait_for, false\n"
	"  --cacert FILE       CA certificates for es+https://\n"
	"  --insecure          do not verify the TLS certificate of es+https://\n"
	MIG_COMMON_HELP
	"\n"
	"Locators: file:PATH, PATH, PATH.zst, -, sqlite:PATH#TABLE, postgres://HOST/DB#TABLE,\n"
	"mongodb://HOST/DB#COLLECTION, es://HOST:PORT#INDEX, env:VAR, @FILE.\n"
	"Exit status: 0 ok, 1 rejects over --max-errors, 2 usage, 3 store or file error,\n"
	"4 interrupted (committed batches stay), 5 corrupt checkpoint.  See mig-load(1), mig(7).\n";

enum {
	OPT_MODE = MIG_OPT_FIRST_OWN, OPT_KEY, OPT_CREATE, OPT_TRUNCATE, OPT_DRY_RUN, OPT_ATOMIC,
	OPT_BATCH_SIZE, OPT_REJECT, OPT_MAX_ERRORS, OPT_MAX_LINE, OPT_ON_CONFLICT, OPT_SCHEMA,
	OPT_DROP, OPT_RETRIES, OPT_CHECKPOINT,
	/* store parameters: mig_write_opts.params */
	OPT_PARALLEL, OPT_BATCH_BYTES, OPT_ID_FIELD, OPT_ROUTING_FIELD, OPT_REFRESH, OPT_CACERT,
	OPT_INSECURE
};

static const struct option longopts[] = {
	MIG_COMMON_LONGOPTS,
	{ "input", required_argument, NULL, 'i' },
	{ "mode", required_argument, NULL, OPT_MODE },
	{ "key", required_argument, NULL, OPT_KEY },
	{ "create", no_argument, NULL, OPT_CREATE },
	{ "truncate", no_argument, NULL, OPT_TRUNCATE },
	{ "dry-run", no_argument, NULL, OPT_DRY_RUN },
	{ "atomic", no_argument, NULL, OPT_ATOMIC },
	{ "batch-size", required_argument, NULL, OPT_BATCH_SIZE },
	{ "reject", required_argument, NULL, OPT_REJECT },
	{ "max-errors", required_argument, NULL, OPT_MAX_ERRORS },
	{ "max-line", required_argument, NULL, OPT_MAX_LINE },
	{ "on-conflict", required_argument, NULL, OPT_ON_CONFLICT },
	{ "schema", required_argument, NULL, OPT_SCHEMA },
	{ "drop", no_argument, NULL, OPT_DROP },
	{ "retries", required_argument, NULL, OPT_RETRIES },
	{ "checkpoint", required_argument, NULL, OPT_CHECKPOINT },
	{ "parallel", required_argument, NULL, OPT_PARALLEL },
	{ "batch-bytes", required_argument, NULL, OPT_BATCH_BYTES },
	{ "id-field", required_argument, NULL, OPT_ID_FIELD },
	{ "routing-field", required_argument, NULL, OPT_ROUTING_FIELD },
	{ "refresh", optional_argument, NULL, OPT_REFRESH },
	{ "cacert", required_argument, NULL, OPT_CACERT },
	{ "insecure", no_argument, NULL, OPT_INSECURE },
	{ NULL, 0, NULL, 0 }
};

/* The store parameters that options set, by option: the backend checks
 * the values, and refuses a parameter it does not take. */
static const struct {
	int opt;
	const char *name;
} param_opts[] = {
	{ OPT_PARALLEL, "parallel" }, { OPT_BATCH_BYTES, "batch_bytes" },
	{ OPT_ID_FIELD, "id_field" }, { OPT_ROUTING_FIELD, "routing_field" },
	{ OPT_REFRESH, "refresh" }, { OPT_CACERT, "cacert" }, { OPT_INSECURE, "insecure" },
};
#define NPARAM_OPTS (sizeof param_opts / sizeof param_opts[0])

struct config {
	struct mig_load_cfg l;
	const char *locator;
	char *keybuf;            /* --key split in place */
	const char **keys;
	int max_errors_set;
	struct mig_param params[NPARAM_OPTS];   /* the last of each option */
};

/* Notes a store parameter option: 1 when opt is one. */
static int param_option(struct config *c, int opt, const char *arg)
{
	for (size_t i = 0; i < NPARAM_OPTS; i++) {
		if (param_opts[i].opt != opt)
			continue;
		size_t j = 0;
		while (j < c->l.wo.nparams && strcmp(c->params[j].name, param_opts[i].name))
			j++;
		c->params[j].name = param_opts[i].name;
		c->params[j].value = arg ? arg : opt == OPT_REFRESH ? "true" : "1";
		if (j == c->l.wo.nparams)
			c->l.wo.nparams++;
		c->l.wo.params = c->params;
		return 1;
	}
	return 0;
}

static int split_keys(struct mig_cli *cli, struct config *c, const char *arg)
{
	size_t n = 1;
	char *save = NULL, *tok;

	free(c->keybuf);
	free(c->keys);
	c->keybuf = strdup(arg);
	for (const char *p = arg; *p; p++)
		n += *p == ',';
	c->keys = calloc(n + 1, sizeof *c->keys);
	if (!c->keybuf || !c->keys)
		return mig_cli_usage_error(cli, "out of memory");
	n = 0;
	for (tok = strtok_r(c->keybuf, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
		c->keys[n++] = tok;
	if (!n)
		return mig_cli_usage_error(cli, "--key names no field");
	c->l.wo.keys = c->keys;
	c->l.wo.nkeys = n;
	return -1;
}

/* Returns -1 to go on, or an exit code. */
static int parse_args(struct mig_cli *cli, struct config *c, int argc, char **argv)
{
	int opt, rc;
	uint64_t n;

	c->l.max_errors = 0;
	c->l.wo.batch_size = 0;   /* the store's default */
	c->l.wo.retries = 3;
	argv[0] = (char *)cli->program;   /* getopt's own messages name the program */
	while ((opt = getopt_long(argc, argv, "hqvi:", longopts, NULL)) != -1) {
		int crc = common_option(cli, opt, optarg, help);
		if (crc != MIG_CLI_NOT_COMMON) {
			if (crc >= 0)
				return crc;
			continue;
		}
		switch (opt) {
		case 'i': c->l.input = optarg; break;
		case OPT_MODE:
			if (mig_load_mode_parse(optarg, &c->l.wo.mode))
				return mig_cli_usage_error(cli, "--mode takes insert, upsert, replace, "
							   "merge, update or delete, not '%s'", optarg);
			break;
		case OPT_KEY:
			if ((rc = split_keys(cli, c, optarg)) >= 0)
				return rc;
			break;
		case OPT_CREATE: c->l.wo.create = 1; break;
		case OPT_ON_CONFLICT:
			if (strcmp(optarg, "fail") == 0)
				c->l.wo.on_conflict = MIG_CONFLICT_FAIL;
			else if (strcmp(optarg, "skip") == 0)
				c->l.wo.on_conflict = MIG_CONFLICT_SKIP;
			else if (strcmp(optarg, "overwrite") == 0)
				c->l.wo.on_conflict = MIG_CONFLICT_OVERWRITE;
			else if (strcmp(optarg, "merge") == 0)
				c->l.wo.on_conflict = MIG_CONFLICT_MERGE;
			else
				return mig_cli_usage_error(cli, "--on-conflict takes fail, skip, "
							   "overwrite or merge, not '%s'", optarg);
			break;
		case OPT_SCHEMA: c->l.wo.schema_path = optarg; break;
		case OPT_DROP: c->l.wo.drop = 1; break;
		case OPT_RETRIES:
			if (mig_parse_u64(optarg, &n) || n > 100)
				return mig_cli_usage_error(cli, "--retries takes 0 to 100, not '%s'",
							   optarg);
			c->l.wo.retries = (int)n;
			break;
		case OPT_CHECKPOINT: c->l.checkpoint = optarg; break;
		case OPT_TRUNCATE: c->l.wo.truncate = 1; break;
		case OPT_DRY_RUN: c->l.wo.dry_run = 1; break;
		case OPT_ATOMIC: c->l.wo.atomic = 1; break;
		case OPT_BATCH_SIZE:
			if (mig_parse_u64(optarg, &n) || n == 0 || n > 1000000)
				return mig_cli_usage_error(cli, "--batch-size takes 1 to 1000000, not '%s'",
							   optarg);
			c->l.wo.batch_size = (size_t)n;
			break;
		case OPT_REJECT: c->l.reject_path = optarg; break;
		case OPT_MAX_ERRORS:
			if (mig_parse_u64(optarg, &n) || n > INT64_MAX)
				return mig_cli_usage_error(cli, "--max-errors takes a count, not '%s'",
							   optarg);
			c->l.max_errors = (int64_t)n;
			c->max_errors_set = 1;
			break;
		case OPT_MAX_LINE:
			if (mig_parse_size(optarg, &n) || n == 0 || n > SIZE_MAX / 2)
				return mig_cli_usage_error(cli, "--max-line takes a size, not '%s'",
							   optarg);
			c->l.max_line = (size_t)n;
			break;
		default:
			if (param_option(c, opt, optarg))
				break;
			return mig_cli_usage_error(cli, NULL);
		}
	}
	if (optind != argc - 1)
		return mig_cli_usage_error(cli, optind >= argc ? "a LOCATOR is needed"
							       : "one LOCATOR only");
	if (c->l.wo.mode != MIG_MODE_INSERT && !c->l.wo.nkeys)
		return mig_cli_usage_error(cli, "--mode %s needs --key",
					   mig_load_mode_name(c->l.wo.mode));
	if (c->l.wo.mode >= MIG_MODE_UPDATE && c->l.wo.on_conflict != MIG_CONFLICT_DEFAULT)
		return mig_cli_usage_error(cli, "--on-conflict cannot go with --mode %s (it "
					   "inserts nothing)", mig_load_mode_name(c->l.wo.mode));
	if (c->l.wo.mode == MIG_MODE_DELETE &&
	    (c->l.wo.create || c->l.wo.drop || c->l.wo.truncate || c->l.wo.schema_path))
		return mig_cli_usage_error(cli, "--mode delete cannot go with --create, --drop, "
					   "--truncate or --schema");
	if ((c->l.wo.on_conflict == MIG_CONFLICT_OVERWRITE ||
	     c->l.wo.on_conflict == MIG_CONFLICT_MERGE) && !c->l.wo.nkeys)
		return mig_cli_usage_error(cli, "--on-conflict overwrite and merge need --key");
	if (c->l.wo.schema_path && !c->l.wo.create)
		return mig_cli_usage_error(cli, "--schema goes with --create");
	if (c->l.reject_path && !c->max_errors_set)
		c->l.max_errors = -1;
	c->locator = argv[optind];
	c->l.progress = cli->progress;
	return -1;
}

static json_t *report_of(const struct config *c, const struct mig_load_stats *s,
			 const char *target, const char *input)
{
	return json_pack("{s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:s?, s:b, "
			 "s:I, s:s?}", "target", target, "input", input,
			 "mode", mig_load_mode_name(c->l.wo.mode),
			 "deleted", (json_int_t)s->deleted, "not_found", (json_int_t)s->not_found,
			 "read", (json_int_t)s->read, "inserted", (json_int_t)s->inserted,
			 "updated", (json_int_t)s->updated, "skipped", (json_int_t)s->skipped,
			 "rejected", (json_int_t)s->rejected, "batches", (json_int_t)s->batches,
			 "reject_file", c->l.reject_path, "dry_run", c->l.wo.dry_run,
			 "resumed", (json_int_t)s->resumed, "checkpoint", c->l.checkpoint);
}

int main(int argc, char **argv)
{
	struct mig_cli cli;
	struct config c = { 0 };
	struct mig_error err = { 0 };
	struct mig_locator *loc = NULL;
	struct mig_store *st = NULL;
	struct mig_load_stats s = { 0 };
	json_t *report = NULL;
	const char *input;
	double t0, secs;
	int rc;

	mig_cli_init(&cli, "mig-load", USAGE);
	rc = parse_args(&cli, &c, argc, argv);
	if (rc >= 0)
		goto out_args;
	input = c.l.input && strcmp(c.l.input, "-") ? c.l.input : "stdin";
	rc = mig_locator_parse(&loc, c.locator, &err);
	if (rc) {
		rc = mig_cli_finish(&cli, rc, &err, NULL);
		goto out_args;
	}
	rc = mig_store_open(&st, loc, MIG_OPEN_WRITE | (c.l.wo.dry_run ? MIG_OPEN_DRYRUN : 0),
			    &err);
	if (rc) {
		rc = mig_cli_finish(&cli, rc, &err, NULL);
		goto out_args;
	}
	c.l.target = st->loc->redacted;
	t0 = mig_now();
	rc = mig_load_run(st, &c.l, &s, &err);
	if (s.was_complete)
		mig_info("%s: checkpoint %s says this load is complete: nothing to do",
			 st->loc->redacted, c.l.checkpoint);
	else if (s.resumed)
		mig_info("%s: resumed: %llu input records were committed by an earlier run "
			 "(checkpoint %s)", st->loc->redacted, (unsigned long long)s.resumed,
			 c.l.checkpoint);
	secs = mig_now() - t0;
	{
		const char *would = c.l.wo.dry_run ? "would be " : "";
		char rj[64 + 4096] = "";
		if (c.l.reject_path && s.rejected)
			snprintf(rj, sizeof rj, " (%s)", c.l.reject_path);
		if (c.l.wo.mode == MIG_MODE_DELETE)
			mig_cli_summary(&cli, "%s: %s%llu read, %llu %sdeleted, %llu not found, "
				 "%llu rejected%s in %.2f s (%.0f rec/s)", st->loc->redacted,
				 c.l.wo.dry_run ? "dry run: " : "", (unsigned long long)s.read,
				 (unsigned long long)s.deleted, would, (unsigned long long)s.not_found,
				 (unsigned long long)s.rejected, rj, secs,
				 secs > 0 ? (double)s.read / secs : 0.0);
		else
			mig_cli_summary(&cli, "%s: %s%llu read, %llu %sinserted, %llu %supdated, "
				 "%llu skipped, %llu rejected%s in %.2f s (%.0f rec/s)",
				 st->loc->redacted, c.l.wo.dry_run ? "dry run: " : "",
				 (unsigned long long)s.read, (unsigned long long)s.inserted, would,
				 (unsigned long long)s.updated, would, (unsigned long long)s.skipped,
				 (unsigned long long)s.rejected, rj, secs,
				 secs > 0 ? (double)s.read / secs : 0.0);
	}
	report = report_of(&c, &s, st->loc->redacted, input);
	mig_store_close(st);
	rc = mig_cli_finish(&cli, rc, &err, report);
out_args:
	free(c.keybuf);
	free(c.keys);
	return rc;
}
