/* mig-backup - archive a store; list, verify and prune archives. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mig/archive.h"
#include "mig/cli.h"
#include "common.h"
#include "mig/log.h"

#define USAGE "usage: mig-backup [options] LOCATOR -o FILE | --list DIR | --verify FILE | " \
	"--prune DIR"

static const char help[] =
	USAGE "\n"
	"Write every collection of the store LOCATOR names (or the one its #fragment\n"
	"names) to a mig archive: a tar of the manifest, the data as zstd-compressed\n"
	"canonical Extended JSON, and the schemas.  See mig-archive(5).\n"
	"\n"
	"  -o, --output FILE   the archive to write (- for stdout); written to a temporary\n"
	"                      file beside it and renamed when complete\n"
	"  --only NAME[,...]   only these collections\n"
	"  --exclude NAME[,...] not these collections\n"
	"  --level N           zstd level, 1 (fast) to 19 (small) (6)\n"
	"  --threads N         compress with N threads (1; 0: in the reading thread)\n"
	"  --list DIR          list the archives in DIR: time, source, collections, size\n"
	"  --verify FILE       check every member and checksum of the archive FILE\n"
	"  --prune DIR         delete old archives in DIR; needs --keep-last or --keep-days;\n"
	"                      the newest archive that verifies is always kept\n"
	"  --keep-last N       with --prune: keep the N newest archives\n"
	"  --keep-days D       with --prune: keep archives younger than D days\n"
	"  --dry-run           with --prune: say what would be deleted, delete nothing\n"
	MIG_COMMON_HELP
	"\n"
	"Locators: sqlite:PATH, postgres://..., mongodb://HOST/DB, es://HOST:PORT, env:VAR,\n"
	"@FILE.\n"
	"Exit status: 0 ok, 2 usage, 3 store or file error, 4 interrupted (no archive is\n"
	"left behind), 5 an archive is corrupt.  See mig-backup(1) and mig(7).\n";

enum {
	OPT_ONLY = MIG_OPT_FIRST_OWN, OPT_EXCLUDE, OPT_LEVEL, OPT_THREADS, OPT_LIST, OPT_VERIFY,
	OPT_PRUNE, OPT_KEEP_LAST, OPT_KEEP_DAYS, OPT_DRY_RUN
};

static const struct option longopts[] = {
	MIG_COMMON_LONGOPTS,
	{ "output", required_argument, NULL, 'o' },
	{ "only", required_argument, NULL, OPT_ONLY },
	{ "exclude", required_argument, NULL, OPT_EXCLUDE },
	{ "level", required_argument, NULL, OPT_LEVEL },
	{ "threads", required_argument, NULL, OPT_THREADS },
	{ "list", required_argument, NULL, OPT_LIST },
	{ "verify", required_argument, NULL, OPT_VERIFY },
	{ "prune", required_argument, NULL, OPT_PRUNE },
	{ "keep-last", required_argument, NULL, OPT_KEEP_LAST },
	{ "keep-days", required_argument, NULL, OPT_KEEP_DAYS },
	{ "dry-run", no_argument, NULL, OPT_DRY_RUN },
	{ NULL, 0, NULL, 0 }
};

enum action { BACKUP, LIST, VERIFY, PRUNE };

struct names {
	char **v;
	size_t n;
};

struct config {
	struct mig_backup_cfg b;
	struct mig_prune_cfg p;
	struct names only, exclude;
	enum action action;
	const char *arg;       /* DIR or FILE of the action */
	int dry_run;
};

/* Adds the comma-separated names of arg; the list stays NULL-terminated. */
static int names_add(struct names *l, const char *arg)
{
	const char *p = arg;

	for (;;) {
		size_t len = strcspn(p, ",");
		char **v;
		if (len) {
			v = realloc(l->v, (l->n + 2) * sizeof *v);
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

static void names_free(struct names *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
}

static int set_action(struct mig_cli *cli, struct config *c, enum action a, const char *arg)
{
	if (c->action != BACKUP)
		return mig_cli_usage_error(cli, "--list, --verify and --prune exclude each other");
	c->action = a;
	c->arg = arg;
	return -1;
}

/* Returns -1 to go on, or an exit code. */
static int parse_args(struct mig_cli *cli, struct config *c, int argc, char **argv)
{
	int opt, rc, keep = 0;
	uint64_t n;

	c->b.level = MIG_ARCHIVE_LEVEL_DEFAULT;
	c->b.threads = 1;
	c->p.keep_last = c->p.keep_days = -1;
	argv[0] = (char *)cli->program;   /* getopt's own messages name the program */
	while ((opt = getopt_long(argc, argv, "hqvo:", longopts, NULL)) != -1) {
		int crc = common_option(cli, opt, optarg, help);
		if (crc != MIG_CLI_NOT_COMMON) {
			if (crc >= 0)
				return crc;
			continue;
		}
		switch (opt) {
		case 'o': c->b.output = optarg; break;
		case OPT_ONLY:
		case OPT_EXCLUDE:
			if (names_add(opt == OPT_ONLY ? &c->only : &c->exclude, optarg))
				return mig_cli_usage_error(cli, "out of memory");
			break;
		case OPT_LEVEL:
			if (mig_parse_u64(optarg, &n) || n < 1 || n > 19)
				return mig_cli_usage_error(cli, "--level takes 1 to 19, not '%s'", optarg);
			c->b.level = (int)n;
			break;
		case OPT_THREADS:
			if (mig_parse_u64(optarg, &n) || n > 64)
				return mig_cli_usage_error(cli, "--threads takes 0 to 64, not '%s'", optarg);
			c->b.threads = (int)n;
			break;
		case OPT_LIST:
			if ((rc = set_action(cli, c, LIST, optarg)) >= 0)
				return rc;
			break;
		case OPT_VERIFY:
			if ((rc = set_action(cli, c, VERIFY, optarg)) >= 0)
				return rc;
			break;
		case OPT_PRUNE:
			if ((rc = set_action(cli, c, PRUNE, optarg)) >= 0)
				return rc;
			break;
		case OPT_KEEP_LAST:
		case OPT_KEEP_DAYS:
			if (mig_parse_u64(optarg, &n) || n > INT32_MAX)
				return mig_cli_usage_error(cli, "--%s takes a count, not '%s'",
							   opt == OPT_KEEP_LAST ? "keep-last" : "keep-days",
							   optarg);
			*(opt == OPT_KEEP_LAST ? &c->p.keep_last : &c->p.keep_days) = (int64_t)n;
			keep = 1;
			break;
		case OPT_DRY_RUN: c->dry_run = 1; break;
		default:
			return mig_cli_usage_error(cli, NULL);
		}
	}
	if (c->action == PRUNE && !keep)
		return mig_cli_usage_error(cli, "--prune needs --keep-last or --keep-days");
	if (c->action != PRUNE && (keep || c->dry_run))
		return mig_cli_usage_error(cli, "--keep-last, --keep-days and --dry-run go with "
					   "--prune");
	if (c->action != BACKUP) {
		if (optind != argc)
			return mig_cli_usage_error(cli, "--list, --verify and --prune take no LOCATOR");
		if (c->b.output || c->only.n || c->exclude.n)
			return mig_cli_usage_error(cli, "-o, --only and --exclude go with a backup");
		return -1;
	}
	if (optind != argc - 1)
		return mig_cli_usage_error(cli, optind >= argc ? "a LOCATOR is needed"
							       : "one LOCATOR only");
	if (!c->b.output)
		return mig_cli_usage_error(cli, "-o FILE is needed (- for stdout)");
	c->b.source = argv[optind];
	c->b.only = (const char *const *)c->only.v;
	c->b.exclude = (const char *const *)c->exclude.v;
	c->b.progress = cli->progress;
	return -1;
}

/* SOURCE_DATE_EPOCH (reproducible-builds.org) fixes the archive's time:
 * the same data then makes the same archive, byte for byte. */
static int64_t created_time(void)
{
	const char *s = getenv("SOURCE_DATE_EPOCH");
	uint64_t t;

	if (s && *s && !mig_parse_u64(s, &t) && t < ((uint64_t)1 << 40))
		return (int64_t)t;
	return (int64_t)time(NULL);
}

static void human(char *out, size_t n, uint64_t b)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double v = (double)b;
	int u = 0;

	while (v >= 1024 && u < 4) {
		v /= 1024;
		u++;
	}
	snprintf(out, n, u ? "%.1f %s" : "%.0f %s", v, units[u]);
}

static int run_backup(struct mig_cli *cli, struct config *c, json_t *report,
		      struct mig_error *err)
{
	struct mig_backup_stats s;
	char tool[64], a[32], b[32];
	double t0 = mig_now(), secs;
	int rc;

	snprintf(tool, sizeof tool, "mig-backup %s", MIG_VERSION);
	c->b.tool = tool;
	c->b.created = created_time();
	rc = mig_backup_run(&c->b, &s, err);
	secs = mig_now() - t0;
	if (s.manifest) {
		json_object_set(report, "source", json_object_get(s.manifest, "source"));
		json_object_set(report, "created", json_object_get(s.manifest, "created"));
		json_object_set(report, "collections", json_object_get(s.manifest, "collections"));
	}
	json_object_set_new(report, "output", json_string(c->b.output));
	json_object_set_new(report, "records", json_integer((json_int_t)s.records));
	json_object_set_new(report, "bytes", json_integer((json_int_t)s.bytes));
	json_object_set_new(report, "archive_bytes", json_integer((json_int_t)s.archive_bytes));
	json_object_set_new(report, "consistent", json_boolean(s.consistent));
	if (!rc) {
		human(a, sizeof a, s.bytes);
		human(b, sizeof b, s.archive_bytes);
		mig_cli_summary(cli, "%s: %zu collection%s, %llu records, %s -> %s (%s%s) in %.2f s",
				json_string_value(json_object_get(s.manifest, "source")),
				s.collections, s.collections == 1 ? "" : "s",
				(unsigned long long)s.records, a,
				strcmp(c->b.output, "-") ? c->b.output : "stdout", b,
				s.consistent ? "" : ", not one snapshot", secs);
	}
	json_decref(s.manifest);
	return rc;
}

static int run_list(struct config *c, json_t *report, struct mig_error *err)
{
	json_t *all = NULL, *e;
	size_t i;
	int rc = mig_backup_scan(c->arg, &all, err);

	if (rc)
		return rc;
	printf("%-20s  %-24s  %11s  %12s  %10s  %s\n", "CREATED", "FILE", "COLLECTIONS",
	       "RECORDS", "SIZE", "SOURCE");
	json_array_foreach(all, i, e) {
		char sz[32];
		human(sz, sizeof sz, (uint64_t)json_integer_value(json_object_get(e, "size")));
		if (json_object_get(e, "error")) {
			printf("%-20s  %-24s  %11s  %12s  %10s  %s\n", "?",
			       json_string_value(json_object_get(e, "file")), "-", "-", sz,
			       json_string_value(json_object_get(e, "error")));
			continue;
		}
		printf("%-20s  %-24s  %11lld  %12lld  %10s  %s\n",
		       json_string_value(json_object_get(e, "created")),
		       json_string_value(json_object_get(e, "file")),
		       (long long)json_integer_value(json_object_get(e, "collections")),
		       (long long)json_integer_value(json_object_get(e, "records")), sz,
		       json_string_value(json_object_get(e, "source")) ?: "-");
	}
	json_object_set_new(report, "archives", all);
	return 0;
}

static int run_verify(struct mig_cli *cli, struct config *c, json_t *report,
		      struct mig_error *err)
{
	struct mig_archive *a = NULL;
	uint64_t records = 0;
	size_t n = 0;
	int rc = mig_archive_open(&a, c->arg, err);

	if (!rc)
		rc = mig_archive_verify(a, -1, cli->progress, err);
	if (!rc) {
		n = mig_archive_count(a);
		for (size_t i = 0; i < n; i++)
			records += mig_archive_coll(a, i)->records;
		printf("%s: ok: %zu collection%s, %llu records\n", c->arg, n, n == 1 ? "" : "s",
		       (unsigned long long)records);
		json_object_set_new(report, "collections", json_integer((json_int_t)n));
		json_object_set_new(report, "records", json_integer((json_int_t)records));
	}
	json_object_set_new(report, "archive", json_string(c->arg));
	json_object_set_new(report, "ok", json_boolean(!rc));
	mig_archive_close(a);
	return rc;
}

static int run_prune(struct mig_cli *cli, struct config *c, json_t *report,
		     struct mig_error *err)
{
	json_t *plan = NULL, *e;
	size_t i, deleted = 0, kept = 0;
	int rc;

	c->p.dir = c->arg;
	c->p.now = created_time();
	rc = mig_backup_prune_plan(&c->p, &plan, err);
	if (rc)
		return rc;
	json_array_foreach(plan, i, e) {
		const char *file = json_string_value(json_object_get(e, "file"));
		const char *created = json_string_value(json_object_get(e, "created"));
		if (strcmp(json_string_value(json_object_get(e, "action")), "delete")) {
			kept++;
			mig_debug("keep %s (%s): %s", file, created ? created : "?",
				  json_string_value(json_object_get(e, "reason")));
			continue;
		}
		printf("%s %s (created %s)\n", c->dry_run ? "would delete" : "delete", file, created);
		fflush(stdout);
		if (!c->dry_run) {
			rc = mig_backup_remove(json_string_value(json_object_get(e, "path")), err);
			if (rc)
				break;
		}
		deleted++;
	}
	mig_cli_summary(cli, "%s: %zu archive%s %sdeleted, %zu kept", c->arg, deleted,
			deleted == 1 ? "" : "s", c->dry_run ? "would be " : "", kept);
	json_object_set_new(report, "archives", plan);
	json_object_set_new(report, "dry_run", json_boolean(c->dry_run));
	return rc;
}

int main(int argc, char **argv)
{
	struct mig_cli cli;
	struct config c = { 0 };
	struct mig_error err = { 0 };
	json_t *report;
	int rc;

	mig_cli_init(&cli, "mig-backup", USAGE);   /* first: it sets the allocator */
	rc = parse_args(&cli, &c, argc, argv);
	if (rc >= 0)
		goto out;
	report = json_object();
	switch (c.action) {
	case BACKUP: rc = run_backup(&cli, &c, report, &err); break;
	case LIST: rc = run_list(&c, report, &err); break;
	case VERIFY: rc = run_verify(&cli, &c, report, &err); break;
	case PRUNE: rc = run_prune(&cli, &c, report, &err); break;
	}
	if (!rc && (fflush(stdout) || ferror(stdout)))
		rc = mig_error_set(&err, MIG_EIO, "stdout: write failed");
	rc = mig_cli_finish(&cli, rc, &err, report);
out:
	names_free(&c.only);
	names_free(&c.exclude);
	return rc;
}
