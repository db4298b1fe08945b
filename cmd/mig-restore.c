/* mig-restore - load a mig archive into a store, or read one collection. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mig/archive.h"
#include "mig/cli.h"
#include "common.h"
#include "mig/log.h"
#include "mig/run.h"

#define USAGE "usage: mig-restore [options] FILE LOCATOR | FILE --cat NAME | FILE --list"

static const char help[] =
	USAGE "\n"
	"Verify the mig archive FILE (- for stdin), then load its collections into the\n"
	"store LOCATOR names, each into LOCATOR#NAME.  Nothing is written when any part\n"
	"of the archive is damaged.  See mig-archive(5).\n"
	"\n"
	"  --only NAME[,...]   only these collections\n"
	"  --rename OLD=NEW    restore collection OLD as NEW (repeatable)\n"
	"  --drop              drop each collection first (all of them before any is\n"
	"                      made anew: children first) and create it anew\n"
	"  --mode MODE         insert (default), upsert, replace or merge (these need --key)\n"
	"  --key F[,F...]      key fields\n"
	"  --on-conflict WHAT  a duplicate key on insert: fail (reject it), skip, overwrite, merge\n"
	"  --batch-size N      records per batch and transaction (10000)\n"
	"  --atomic            each collection in one transaction: all or nothing\n"
	"  --dry-run           verify and count everything, write nothing\n"
	"  --reject FILE       write rejected records to FILE (FILE.NAME for several\n"
	"                      collections) and go on\n"
	"  --max-errors N      stop (exit 1) past N rejects (0; no limit with --reject)\n"
	"  --max-line N        longest record, bytes, k/M/G suffixes (64M)\n"
	"  --retries N         retry a lost connection N times, with backoff (3)\n"
	"  --cat NAME          write collection NAME to stdout as NDJSON, and exit\n"
	"  --canonical         with --cat: canonical Extended JSON, as archived\n"
	"  --plain             with --cat: plain JSON\n"
	"  --list              print the archive's manifest as a table, and exit\n"
	MIG_COMMON_HELP
	"\n"
	"Locators: sqlite:PATH, postgres://..., mongodb://HOST/DB, es://HOST:PORT,\n"
	"PATH (one collection), env:VAR, @FILE.\n"
	"Exit status: 0 ok, 1 rejects over --max-errors, 2 usage, 3 store or file error,\n"
	"4 interrupted, 5 the archive is corrupt.  See mig-restore(1) and mig(7).\n";

enum {
	OPT_ONLY = MIG_OPT_FIRST_OWN, OPT_RENAME, OPT_DROP, OPT_MODE, OPT_KEY, OPT_ON_CONFLICT,
	OPT_BATCH_SIZE, OPT_ATOMIC, OPT_DRY_RUN, OPT_REJECT, OPT_MAX_ERRORS, OPT_MAX_LINE,
	OPT_RETRIES, OPT_CAT, OPT_CANONICAL, OPT_PLAIN, OPT_LIST
};

static const struct option longopts[] = {
	MIG_COMMON_LONGOPTS,
	{ "only", required_argument, NULL, OPT_ONLY },
	{ "rename", required_argument, NULL, OPT_RENAME },
	{ "drop", no_argument, NULL, OPT_DROP },
	{ "mode", required_argument, NULL, OPT_MODE },
	{ "key", required_argument, NULL, OPT_KEY },
	{ "on-conflict", required_argument, NULL, OPT_ON_CONFLICT },
	{ "batch-size", required_argument, NULL, OPT_BATCH_SIZE },
	{ "atomic", no_argument, NULL, OPT_ATOMIC },
	{ "dry-run", no_argument, NULL, OPT_DRY_RUN },
	{ "reject", required_argument, NULL, OPT_REJECT },
	{ "max-errors", required_argument, NULL, OPT_MAX_ERRORS },
	{ "max-line", required_argument, NULL, OPT_MAX_LINE },
	{ "retries", required_argument, NULL, OPT_RETRIES },
	{ "cat", required_argument, NULL, OPT_CAT },
	{ "canonical", no_argument, NULL, OPT_CANONICAL },
	{ "plain", no_argument, NULL, OPT_PLAIN },
	{ "list", no_argument, NULL, OPT_LIST },
	{ NULL, 0, NULL, 0 }
};

enum action { RESTORE, CAT, LIST };

struct strv {
	char **v;
	size_t n;
};

struct config {
	struct mig_restore_cfg r;
	struct strv only, renames, keys;
	enum action action;
	const char *cat;
	enum mig_json_mode mode;
	int modes, max_errors_set;
};

/* Adds arg, split at commas when split is set; v stays NULL-terminated. */
static int strv_add(struct strv *l, const char *arg, int split)
{
	const char *p = arg;

	for (;;) {
		size_t len = split ? strcspn(p, ",") : strlen(p);
		if (len) {
			char **v = realloc(l->v, (l->n + 2) * sizeof *v);
			if (!v)
				return -1;
			l->v = v;
			if (!(l->v[l->n] = strndup(p, len)))
				return -1;
			l->v[++l->n] = NULL;
		}
		if (!p[len])
			return 0;
		p += len + 1;
	}
}

static void strv_free(struct strv *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
}

static int parse_mode(struct mig_cli *cli, struct mig_write_opts *wo, const char *arg)
{
	if (strcmp(arg, "insert") == 0)
		wo->mode = MIG_MODE_INSERT;
	else if (strcmp(arg, "upsert") == 0)
		wo->mode = MIG_MODE_UPSERT;
	else if (strcmp(arg, "replace") == 0)
		wo->mode = MIG_MODE_REPLACE;
	else if (strcmp(arg, "merge") == 0)
		wo->mode = MIG_MODE_MERGE;
	else
		return mig_cli_usage_error(cli, "--mode takes insert, upsert, replace or merge, "
					   "not '%s'", arg);
	return -1;
}

static int parse_conflict(struct mig_cli *cli, struct mig_write_opts *wo, const char *arg)
{
	if (strcmp(arg, "fail") == 0)
		wo->on_conflict = MIG_CONFLICT_FAIL;
	else if (strcmp(arg, "skip") == 0)
		wo->on_conflict = MIG_CONFLICT_SKIP;
	else if (strcmp(arg, "overwrite") == 0)
		wo->on_conflict = MIG_CONFLICT_OVERWRITE;
	else if (strcmp(arg, "merge") == 0)
		wo->on_conflict = MIG_CONFLICT_MERGE;
	else
		return mig_cli_usage_error(cli, "--on-conflict takes fail, skip, overwrite or "
					   "merge, not '%s'", arg);
	return -1;
}

/* Returns -1 to go on, or an exit code. */
static int parse_args(struct mig_cli *cli, struct config *c, int argc, char **argv)
{
	struct mig_load_cfg *l = &c->r.load;
	int opt, rc, actions = 0;
	uint64_t n;

	l->max_errors = 0;
	l->wo.batch_size = 10000;
	l->wo.retries = 3;
	c->mode = MIG_JSON_RELAXED;
	argv[0] = (char *)cli->program;   /* getopt's own messages name the program */
	while ((opt = getopt_long(argc, argv, "hqv", longopts, NULL)) != -1) {
		int crc = common_option(cli, opt, optarg, help);
		if (crc != MIG_CLI_NOT_COMMON) {
			if (crc >= 0)
				return crc;
			continue;
		}
		switch (opt) {
		case OPT_ONLY:
		case OPT_RENAME:
		case OPT_KEY:
			if (strv_add(opt == OPT_ONLY ? &c->only : opt == OPT_KEY ? &c->keys
				     : &c->renames, optarg, opt != OPT_RENAME))
				return mig_cli_usage_error(cli, "out of memory");
			break;
		case OPT_DROP: l->wo.drop = 1; break;
		case OPT_MODE:
			if ((rc = parse_mode(cli, &l->wo, optarg)) >= 0)
				return rc;
			break;
		case OPT_ON_CONFLICT:
			if ((rc = parse_conflict(cli, &l->wo, optarg)) >= 0)
				return rc;
			break;
		case OPT_BATCH_SIZE:
			if (mig_parse_u64(optarg, &n) || n == 0 || n > 1000000)
				return mig_cli_usage_error(cli, "--batch-size takes 1 to 1000000, not '%s'",
							   optarg);
			l->wo.batch_size = (size_t)n;
			break;
		case OPT_ATOMIC: l->wo.atomic = 1; break;
		case OPT_DRY_RUN: l->wo.dry_run = 1; break;
		case OPT_REJECT: l->reject_path = optarg; break;
		case OPT_MAX_ERRORS:
			if (mig_parse_u64(optarg, &n) || n > INT64_MAX)
				return mig_cli_usage_error(cli, "--max-errors takes a count, not '%s'",
							   optarg);
			l->max_errors = (int64_t)n;
			c->max_errors_set = 1;
			break;
		case OPT_MAX_LINE:
			if (mig_parse_size(optarg, &n) || n == 0 || n > SIZE_MAX / 2)
				return mig_cli_usage_error(cli, "--max-line takes a size, not '%s'",
							   optarg);
			l->max_line = (size_t)n;
			break;
		case OPT_RETRIES:
			if (mig_parse_u64(optarg, &n) || n > 100)
				return mig_cli_usage_error(cli, "--retries takes 0 to 100, not '%s'",
							   optarg);
			l->wo.retries = (int)n;
			break;
		case OPT_CAT: c->action = CAT; c->cat = optarg; actions++; break;
		case OPT_LIST: c->action = LIST; actions++; break;
		case OPT_CANONICAL: c->mode = MIG_JSON_CANONICAL; c->modes++; break;
		case OPT_PLAIN: c->mode = MIG_JSON_PLAIN; c->modes++; break;
		default:
			return mig_cli_usage_error(cli, NULL);
		}
	}
	if (actions > 1)
		return mig_cli_usage_error(cli, "--cat and --list exclude each other");
	if (c->modes > 1)
		return mig_cli_usage_error(cli, "--canonical and --plain exclude each other");
	if (c->modes && c->action != CAT)
		return mig_cli_usage_error(cli, "--canonical and --plain go with --cat");
	if (c->action != RESTORE) {
		if (optind != argc - 1)
			return mig_cli_usage_error(cli, optind >= argc ? "a FILE is needed"
					: "--cat and --list take the FILE only, no LOCATOR");
		c->r.archive = argv[optind];
		return -1;
	}
	if (argc - optind != 2)
		return mig_cli_usage_error(cli, argc - optind < 2 ? "FILE and LOCATOR are needed"
					   : "one FILE and one LOCATOR only");
	if (l->wo.mode != MIG_MODE_INSERT && !c->keys.n)
		return mig_cli_usage_error(cli, "--mode %s needs --key",
					   l->wo.mode == MIG_MODE_UPSERT ? "upsert"
					   : l->wo.mode == MIG_MODE_REPLACE ? "replace" : "merge");
	if ((l->wo.on_conflict == MIG_CONFLICT_OVERWRITE ||
	     l->wo.on_conflict == MIG_CONFLICT_MERGE) && !c->keys.n)
		return mig_cli_usage_error(cli, "--on-conflict overwrite and merge need --key");
	if (l->reject_path && !c->max_errors_set)
		l->max_errors = -1;
	c->r.archive = argv[optind];
	c->r.target = argv[optind + 1];
	c->r.only = (const char *const *)c->only.v;
	c->r.renames = (const char *const *)c->renames.v;
	l->wo.keys = (const char *const *)c->keys.v;
	l->wo.nkeys = c->keys.n;
	l->progress = cli->progress;
	return -1;
}

static int run_list(struct config *c, json_t *report, struct mig_error *err)
{
	struct mig_archive *a = NULL;
	const json_t *m;
	int rc = mig_archive_open(&a, c->r.archive, err);

	if (rc)
		return rc;
	m = mig_archive_manifest(a);
	printf("archive     %s\n", mig_archive_path(a));
	printf("created     %s\n", json_string_value(json_object_get(m, "created")));
	printf("tool        %s\n", json_string_value(json_object_get(m, "tool")) ?: "-");
	printf("source      %s\n", json_string_value(json_object_get(m, "source")) ?: "-");
	printf("backend     %s\n", json_string_value(json_object_get(m, "backend")));
	printf("consistent  %s\n", json_is_true(json_object_get(m, "consistent")) ? "yes" : "no");
	printf("\n%-32s  %12s  %14s  %14s\n", "COLLECTION", "RECORDS", "BYTES", "COMPRESSED");
	for (size_t i = 0; i < mig_archive_count(a); i++) {
		const struct mig_archive_coll *k = mig_archive_coll(a, i);
		printf("%-32s  %12llu  %14llu  %14llu\n", k->name, (unsigned long long)k->records,
		       (unsigned long long)k->bytes, (unsigned long long)k->data_size);
	}
	json_object_set(report, "manifest", (json_t *)m);
	mig_archive_close(a);
	return 0;
}

static int run_restore(struct mig_cli *cli, struct config *c, json_t *report,
		       struct mig_error *err)
{
	struct mig_restore_stats s;
	const struct mig_load_stats *t = &s.total;
	double t0 = mig_now(), secs;
	json_t *item;
	size_t i;
	int rc;

	rc = mig_restore_run(&c->r, &s, err);
	secs = mig_now() - t0;
	json_array_foreach(s.loaded, i, item)
		mig_info("%s: %lld read, %lld inserted, %lld updated, %lld skipped, %lld rejected",
			 json_string_value(json_object_get(item, "target")),
			 (long long)json_integer_value(json_object_get(item, "read")),
			 (long long)json_integer_value(json_object_get(item, "inserted")),
			 (long long)json_integer_value(json_object_get(item, "updated")),
			 (long long)json_integer_value(json_object_get(item, "skipped")),
			 (long long)json_integer_value(json_object_get(item, "rejected")));
	if (s.collections)
		mig_cli_summary(cli, "%s: %s%zu collection%s, %llu read, %llu inserted, %llu updated, "
				"%llu skipped, %llu rejected in %.2f s (%.0f rec/s)",
				strcmp(c->r.archive, "-") ? c->r.archive : "stdin",
				c->r.load.wo.dry_run ? "dry run: " : "", s.collections,
				s.collections == 1 ? "" : "s", (unsigned long long)t->read,
				(unsigned long long)t->inserted, (unsigned long long)t->updated,
				(unsigned long long)t->skipped, (unsigned long long)t->rejected, secs,
				secs > 0 ? (double)t->read / secs : 0.0);
	json_object_set_new(report, "archive", json_string(c->r.archive));
	json_object_set_new(report, "collections", s.loaded);
	json_object_set_new(report, "read", json_integer((json_int_t)t->read));
	json_object_set_new(report, "inserted", json_integer((json_int_t)t->inserted));
	json_object_set_new(report, "updated", json_integer((json_int_t)t->updated));
	json_object_set_new(report, "skipped", json_integer((json_int_t)t->skipped));
	json_object_set_new(report, "rejected", json_integer((json_int_t)t->rejected));
	json_object_set_new(report, "dry_run", json_boolean(c->r.load.wo.dry_run));
	return rc;
}

int main(int argc, char **argv)
{
	struct mig_cli cli;
	struct config c = { 0 };
	struct mig_error err = { 0 };
	json_t *report;
	uint64_t records = 0;
	int rc;

	mig_cli_init(&cli, "mig-restore", USAGE);   /* first: it sets the allocator */
	rc = parse_args(&cli, &c, argc, argv);
	if (rc >= 0)
		goto out;
	report = json_object();
	switch (c.action) {
	case LIST:
		rc = run_list(&c, report, &err);
		break;
	case CAT:
		rc = mig_restore_cat(c.r.archive, c.cat, "-", c.mode, &records, &err);
		mig_cli_summary(&cli, "%s: %s: %llu record%s", strcmp(c.r.archive, "-") ? c.r.archive
				: "stdin", c.cat, (unsigned long long)records, records == 1 ? "" : "s");
		json_object_set_new(report, "collection", json_string(c.cat));
		json_object_set_new(report, "records", json_integer((json_int_t)records));
		break;
	case RESTORE:
		rc = run_restore(&cli, &c, report, &err);
		break;
	}
	if (!rc && (fflush(stdout) || ferror(stdout)))
		rc = mig_error_set(&err, MIG_EIO, "stdout: write failed");
	rc = mig_cli_finish(&cli, rc, &err, report);
out:
	strv_free(&c.only);
	strv_free(&c.renames);
	strv_free(&c.keys);
	return rc;
}
