/* mig-extract - stream a collection of a store as NDJSON. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mig/backend.h"
#include "mig/cli.h"
#include "common.h"
#include "mig/log.h"
#include "mig/run.h"

#define USAGE "usage: mig-extract [options] LOCATOR"

static const char help[] =
	USAGE "\n"
	"Stream the collection LOCATOR names to stdout as NDJSON (Extended JSON v2).\n"
	"\n"
	"  --query QUERY       run this query (sqlite: SQL) instead of reading the collection\n"
	"  --where EXPR        only records matching EXPR (sqlite: an SQL condition)\n"
	"  --order-by EXPR     in this order (sqlite: an SQL ORDER BY list)\n"
	"  --limit N           at most N records\n"
	"  --shard K/N         only shard K of N (0 <= K < N): N processes cover the collection\n"
	"  --since FIELD       only records after the bookmark in --state, by (FIELD, key)\n"
	"  --state FILE        the bookmark to start after; the next one goes to FILE.next\n"
	"  --list              list the collections of the store, with counts, and exit\n"
	"  --count             print the number of records and exit\n"
	"  --describe          print a JSON Schema of the collection and exit\n"
	"  --sample N          (MongoDB) --describe infers from N documents (1000)\n"
	"  --projection JSON   (MongoDB) a projection document for the server\n"
	"  --batch-size N      records per round trip to the store (the backend's default)\n"
	"  --canonical         canonical Extended JSON ($numberInt, $numberLong, ...)\n"
	"  --plain             plain JSON: typed values flattened to strings and numbers\n"
	"  -o, --output FILE   write to FILE instead of stdout (FILE.zst: compressed)\n"
	"  --max-line N        (file sources) longest line, bytes, k/M/G suffixes (64M)\n"
	MIG_COMMON_HELP
	"\n"
	"Locators: file:PATH, PATH, PATH.zst, -, sqlite:PATH#TABLE, postgres://HOST/DB#TABLE,\n"
	"mongodb://HOST/DB#COLLECTION, es://HOST:PORT#INDEX, env:VAR, @FILE.\n"
	"Exit status: 0 ok, 1 bad data, 2 usage, 3 store or file error, 4 interrupted,\n"
	"5 corrupt --state file.  See mig-extract(1) and mig(7).\n";

enum {
	OPT_QUERY = MIG_OPT_FIRST_OWN, OPT_WHERE, OPT_ORDER_BY, OPT_LIMIT, OPT_LIST, OPT_COUNT,
	OPT_DESCRIBE, OPT_CANONICAL, OPT_PLAIN, OPT_MAX_LINE, OPT_SHARD, OPT_SINCE, OPT_STATE,
	OPT_SAMPLE, OPT_PROJECTION, OPT_BATCH_SIZE
};

static const struct option longopts[] = {
	MIG_COMMON_LONGOPTS,
	{ "query", required_argument, NULL, OPT_QUERY },
	{ "where", required_argument, NULL, OPT_WHERE },
	{ "order-by", required_argument, NULL, OPT_ORDER_BY },
	{ "limit", required_argument, NULL, OPT_LIMIT },
	{ "list", no_argument, NULL, OPT_LIST },
	{ "count", no_argument, NULL, OPT_COUNT },
	{ "describe", no_argument, NULL, OPT_DESCRIBE },
	{ "canonical", no_argument, NULL, OPT_CANONICAL },
	{ "plain", no_argument, NULL, OPT_PLAIN },
	{ "output", required_argument, NULL, 'o' },
	{ "max-line", required_argument, NULL, OPT_MAX_LINE },
	{ "shard", required_argument, NULL, OPT_SHARD },
	{ "since", required_argument, NULL, OPT_SINCE },
	{ "state", required_argument, NULL, OPT_STATE },
	{ "sample", required_argument, NULL, OPT_SAMPLE },
	{ "projection", required_argument, NULL, OPT_PROJECTION },
	{ "batch-size", required_argument, NULL, OPT_BATCH_SIZE },
	{ NULL, 0, NULL, 0 }
};

enum action { EXTRACT, LIST, COUNT, DESCRIBE };

struct config {
	struct mig_extract_cfg x;
	enum action action;
	const char *locator;
	size_t sample;
};

/* Returns -1 to go on, or an exit code. */
static int parse_args(struct mig_cli *cli, struct config *c, int argc, char **argv)
{
	int opt, actions = 0, modes = 0;
	uint64_t n;

	c->x.ro.limit = -1;
	c->x.mode = MIG_JSON_RELAXED;
	argv[0] = (char *)cli->program;   /* getopt's own messages name the program */
	while ((opt = getopt_long(argc, argv, "hqvo:", longopts, NULL)) != -1) {
		int crc = common_option(cli, opt, optarg, help);
		if (crc != MIG_CLI_NOT_COMMON) {
			if (crc >= 0)
				return crc;
			continue;
		}
		switch (opt) {
		case OPT_QUERY: c->x.ro.query = optarg; break;
		case OPT_WHERE: c->x.ro.where = optarg; break;
		case OPT_ORDER_BY: c->x.ro.order_by = optarg; break;
		case OPT_LIMIT:
			if (mig_parse_u64(optarg, &n) || n > INT64_MAX)
				return mig_cli_usage_error(cli, "--limit takes a count, not '%s'", optarg);
			c->x.ro.limit = (int64_t)n;
			break;
		case OPT_LIST: c->action = LIST; actions++; break;
		case OPT_COUNT: c->action = COUNT; actions++; break;
		case OPT_DESCRIBE: c->action = DESCRIBE; actions++; break;
		case OPT_CANONICAL: c->x.mode = MIG_JSON_CANONICAL; modes++; break;
		case OPT_PLAIN: c->x.mode = MIG_JSON_PLAIN; modes++; break;
		case 'o': c->x.output = optarg; break;
		case OPT_SHARD: {
			unsigned k, nn;
			char tail;
			if (sscanf(optarg, "%u/%u%c", &k, &nn, &tail) != 2 || nn == 0 || k >= nn)
				return mig_cli_usage_error(cli, "--shard takes K/N with 0 <= K < N, "
							   "not '%s'", optarg);
			c->x.ro.shard_k = k;
			c->x.ro.shard_n = nn;
			break;
		}
		case OPT_SINCE: c->x.ro.since = optarg; break;
		case OPT_STATE: c->x.state = optarg; break;
		case OPT_SAMPLE:
			if (mig_parse_u64(optarg, &n) || n == 0 || n > INT32_MAX)
				return mig_cli_usage_error(cli, "--sample takes a count, not '%s'", optarg);
			c->sample = (size_t)n;
			break;
		case OPT_PROJECTION: c->x.ro.projection = optarg; break;
		case OPT_BATCH_SIZE:
			if (mig_parse_u64(optarg, &n) || n == 0 || n > 1000000)
				return mig_cli_usage_error(cli, "--batch-size takes 1 to 1000000, not '%s'",
							   optarg);
			c->x.ro.batch_size = (size_t)n;
			break;
		case OPT_MAX_LINE:
			if (mig_parse_size(optarg, &n) || n == 0 || n > SIZE_MAX / 2)
				return mig_cli_usage_error(cli, "--max-line takes a size, not '%s'",
							   optarg);
			c->x.ro.max_line = (size_t)n;
			break;
		default:
			return mig_cli_usage_error(cli, NULL);
		}
	}
	if (actions > 1)
		return mig_cli_usage_error(cli, "--list, --count and --describe exclude each other");
	if (modes > 1)
		return mig_cli_usage_error(cli, "--canonical and --plain exclude each other");
	if (!c->x.ro.since != !c->x.state)
		return mig_cli_usage_error(cli, "--since and --state go together");
	if (optind != argc - 1)
		return mig_cli_usage_error(cli, optind >= argc ? "a LOCATOR is needed"
							       : "one LOCATOR only");
	c->locator = argv[optind];
	c->x.ro.mode = c->x.mode;
	c->x.progress = cli->progress;
	return -1;
}

static int run_list(struct mig_store *st, json_t *report, struct mig_error *err)
{
	json_t *list = NULL, *item;
	size_t i;
	int rc;

	if (!st->ops->list)
		return mig_error_set(err, MIG_EUSAGE, "%s: this backend cannot list collections",
				     st->loc->redacted);
	rc = st->ops->list(st, &list, err);
	if (rc)
		return rc;
	json_array_foreach(list, i, item) {
		printf("%s\t%lld\n", json_string_value(json_object_get(item, "name")),
		       (long long)json_integer_value(json_object_get(item, "count")));
	}
	json_object_set_new(report, "collections", list);
	return 0;
}

static int run_count(struct mig_store *st, struct config *c, json_t *report,
		     struct mig_error *err)
{
	uint64_t n;
	int rc;

	if (!st->ops->count)
		return mig_error_set(err, MIG_EUSAGE, "%s: this backend cannot count",
				     st->loc->redacted);
	rc = st->ops->count(st, &c->x.ro, &n, err);
	if (rc)
		return rc;
	if (c->x.ro.limit >= 0 && n > (uint64_t)c->x.ro.limit)
		n = (uint64_t)c->x.ro.limit;
	printf("%llu\n", (unsigned long long)n);
	json_object_set_new(report, "count", json_integer((json_int_t)n));
	return 0;
}

static int run_describe(struct mig_store *st, json_t *report, struct mig_error *err)
{
	json_t *schema = NULL;
	int rc;

	if (!st->ops->describe)
		return mig_error_set(err, MIG_EUSAGE, "%s: this backend cannot describe a collection",
				     st->loc->redacted);
	rc = st->ops->describe(st, &schema, err);
	if (rc)
		return rc;
	json_dumpf(schema, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	putchar('\n');
	json_decref(schema);
	return 0;
}

int main(int argc, char **argv)
{
	struct mig_cli cli;
	struct config c = { 0 };
	struct mig_error err = { 0 };
	struct mig_locator *loc = NULL;
	struct mig_store *st = NULL;
	struct mig_extract_stats stats = { 0 };
	json_t *report;
	double t0;
	int rc;

	mig_cli_init(&cli, "mig-extract", USAGE);   /* first: it sets the allocator */
	rc = parse_args(&cli, &c, argc, argv);
	if (rc >= 0)
		return rc;
	report = json_object();
	rc = mig_locator_parse(&loc, c.locator, &err);
	if (rc)
		return mig_cli_finish(&cli, rc, &err, report);
	json_object_set_new(report, "source", json_string(loc->redacted));
	rc = mig_store_open(&st, loc, MIG_OPEN_READ, &err);
	if (rc)
		return mig_cli_finish(&cli, rc, &err, report);
	st->sample = c.sample;
	if (c.x.ro.projection && strcmp(st->ops->scheme, "mongodb")) {
		rc = mig_error_set(&err, MIG_EUSAGE, "%s: --projection is for MongoDB sources; "
				   "mig-map keeps or drops fields for any", st->loc->redacted);
		mig_store_close(st);
		return mig_cli_finish(&cli, rc, &err, report);
	}
	t0 = mig_now();
	switch (c.action) {
	case LIST: rc = run_list(st, report, &err); break;
	case COUNT: rc = run_count(st, &c, report, &err); break;
	case DESCRIBE: rc = run_describe(st, report, &err); break;
	case EXTRACT:
		rc = mig_extract_run(st, &c.x, &stats, &err);
		{
			double s = mig_now() - t0;
			mig_cli_summary(&cli, "%s: %llu record%s%s in %.2f s (%.0f rec/s)",
				 st->loc->redacted, (unsigned long long)stats.records,
				 stats.records == 1 ? "" : "s",
				 stats.output_closed ? " (output closed by its reader)" : "",
				 s, s > 0 ? (double)stats.records / s : 0.0);
		}
		json_object_set_new(report, "records", json_integer((json_int_t)stats.records));
		json_object_set_new(report, "bytes", json_integer((json_int_t)stats.bytes));
		json_object_set_new(report, "output_closed", json_boolean(stats.output_closed));
		break;
	}
	if (c.action != EXTRACT && !rc && (fflush(stdout) || ferror(stdout)))
		rc = mig_error_set(&err, MIG_EIO, "stdout: write failed");
	mig_store_close(st);
	return mig_cli_finish(&cli, rc, &err, report);
}
